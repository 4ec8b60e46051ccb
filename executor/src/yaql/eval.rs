//! Evaluation: YAQL's operators and the standard functions Fuel's task
//! files call, with the meaning the `yaql` library gives them, and
//! Nailgun's functions that compare a node's data with the previous
//! deployment's (`changed`, `changedAny`, `changedAll`, `added`, `deleted`,
//! `new`, `old`, `isUndef`).

use super::syntax::{Arg, Expr, Op};
use super::value::Value;
use std::cmp::Ordering;
use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;

/// Why an expression has no value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EvalError(pub String);

impl fmt::Display for EvalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

type Result<T> = std::result::Result<T, EvalError>;

fn fail<T>(message: impl Into<String>) -> Result<T> {
    Err(EvalError(message.into()))
}

/// What an expression is evaluated against: the node's data (`$` at the
/// top), the previous deployment's data, and named variables (`$node`...).
pub struct Environment<'a> {
    pub new: &'a Value,
    /// Nailgun's `$old`: the previous deployment's data, `{}` when there was none.
    pub old: &'a Value,
    pub variables: &'a HashMap<String, Value>,
}

impl Environment<'_> {
    pub fn evaluate(&self, expr: &Expr) -> Result<Value> {
        self.eval(expr, self.new)
    }

    fn eval(&self, expr: &Expr, this: &Value) -> Result<Value> {
        match expr {
            Expr::Constant(value) => Ok(value.clone()),
            Expr::Variable(name) if name.is_empty() => Ok(this.clone()),
            Expr::Variable(name) => match self.variables.get(name) {
                Some(value) => Ok(value.clone()),
                None => fail(format!("no variable `${name}`")),
            },
            Expr::Dot {
                receiver,
                member,
                null_safe,
            } => {
                let receiver = self.eval(receiver, this)?;
                if *null_safe && matches!(receiver, Value::Null) {
                    return Ok(Value::Null);
                }
                match &**member {
                    Expr::Constant(Value::Str(name)) => attribute(&receiver, name),
                    Expr::Call { name, args } => self.call(name, Some(receiver), args, this),
                    other => self.eval(other, &receiver),
                }
            }
            Expr::Call { name, args } => self.call(name, None, args, this),
            Expr::Index { target, args } => {
                let target = self.eval(target, this)?;
                let args = self.positional(args, this)?;
                index(&target, &args)
            }
            Expr::List(args) => Ok(Value::list(self.positional(args, this)?)),
            Expr::Map(args) => {
                let mut entries: Vec<(Value, Value)> = Vec::new();
                for arg in args {
                    let Arg::Named(key, value) = arg else {
                        return fail("a mapping `{...}` holds `key => value` pairs only");
                    };
                    let key = self.eval(key, this)?;
                    let value = self.eval(value, this)?;
                    match entries.iter_mut().find(|(existing, _)| *existing == key) {
                        Some(entry) => entry.1 = value,
                        None => entries.push((key, value)),
                    }
                }
                Ok(Value::map(entries))
            }
            Expr::Unary { op, operand } => {
                let value = self.eval(operand, this)?;
                match (op, value) {
                    (Op::Not, value) => Ok(Value::Bool(!value.truthy())),
                    (Op::Minus, Value::Int(number)) => {
                        number.checked_neg().map(Value::Int).ok_or_else(overflow)
                    }
                    (Op::Minus, Value::Float(number)) => Ok(Value::Float(-number)),
                    (Op::Plus, value @ (Value::Int(_) | Value::Float(_))) => Ok(value),
                    (op, value) => fail(format!(
                        "`{}` does not apply to a {}",
                        op.symbol(),
                        value.type_name()
                    )),
                }
            }
            Expr::Binary { op, left, right } => {
                let left = self.eval(left, this)?;
                match op {
                    // Python's `and`/`or`: the deciding operand, unevaluated past it.
                    Op::And if !left.truthy() => Ok(left),
                    Op::Or if left.truthy() => Ok(left),
                    Op::And | Op::Or => self.eval(right, this),
                    _ => binary(*op, &left, &self.eval(right, this)?),
                }
            }
        }
    }

    fn positional(&self, args: &[Arg], this: &Value) -> Result<Vec<Value>> {
        args.iter()
            .map(|arg| match arg {
                Arg::Positional(expr) => self.eval(expr, this),
                Arg::Named(..) => fail("a `name => value` pair is not allowed here"),
            })
            .collect()
    }

    /// Calls a function; a method call passes its receiver first.
    fn call(
        &self,
        name: &str,
        receiver: Option<Value>,
        args: &[Arg],
        this: &Value,
    ) -> Result<Value> {
        let lazy: Vec<&Expr> = args
            .iter()
            .filter_map(|arg| match arg {
                Arg::Positional(expr) => Some(expr),
                Arg::Named(..) => None,
            })
            .collect();
        if name == "switch" {
            return self.switch(args, this);
        }
        if lazy.len() != args.len() {
            return fail(format!("`{name}()` takes no `name => value` pairs"));
        }
        // Nailgun's functions evaluate their arguments on the new and the
        // old data in turn; `coalesce` stops at the first non-null.
        match name {
            "new" => return self.eval(one(name, &lazy)?, self.new),
            "old" => return Ok(self.on_old(one(name, &lazy)?)),
            "changed" => return Ok(Value::Bool(self.changed(one(name, &lazy)?)?)),
            "changedAny" | "changedAll" => {
                for expr in &lazy {
                    let changed = self.changed(expr)?;
                    if changed == (name == "changedAny") {
                        return Ok(Value::Bool(changed));
                    }
                }
                return Ok(Value::Bool(name == "changedAll"));
            }
            "added" | "deleted" => {
                let expr = one(name, &lazy)?;
                let new = self.eval(expr, self.new)?;
                let old = self.on_old(expr);
                return Ok(match (old, name) {
                    (Value::Undefined, "added") => new,
                    (Value::Undefined, _) => Value::Null,
                    (old, "added") => super::diff::diff(&old, &new).0,
                    (old, _) => super::diff::diff(&old, &new).1,
                });
            }
            "coalesce" => {
                if let Some(value) = receiver.filter(|value| !matches!(value, Value::Null)) {
                    return Ok(value);
                }
                for expr in &lazy {
                    let value = self.eval(expr, this)?;
                    if !matches!(value, Value::Null) {
                        return Ok(value);
                    }
                }
                return Ok(Value::Null);
            }
            _ => {}
        }
        // The functions that take a predicate or selector evaluate it with
        // `$` bound to each item of their collection.
        if let Some(query) = Query::named(name) {
            let (collection, rest) = match receiver {
                Some(receiver) => (receiver, &lazy[..]),
                None => match lazy.split_first() {
                    Some((first, rest)) => (self.eval(first, this)?, rest),
                    None => return fail(format!("`{name}()` needs a collection")),
                },
            };
            return self.query(query, &collection, rest);
        }
        let mut values = Vec::with_capacity(lazy.len() + 1);
        values.extend(receiver);
        for expr in lazy {
            values.push(self.eval(expr, this)?);
        }
        function(name, &values)
    }

    fn switch(&self, args: &[Arg], this: &Value) -> Result<Value> {
        for arg in args {
            let Arg::Named(condition, value) = arg else {
                return fail("`switch()` takes `condition => value` pairs");
            };
            if self.eval(condition, this)?.truthy() {
                return self.eval(value, this);
            }
        }
        Ok(Value::Null)
    }

    /// Nailgun: an expression that fails on the old data is undefined there.
    fn on_old(&self, expr: &Expr) -> Value {
        self.eval(expr, self.old).unwrap_or(Value::Undefined)
    }

    fn changed(&self, expr: &Expr) -> Result<bool> {
        let new = self.eval(expr, self.new)?;
        Ok(new != self.on_old(expr))
    }

    fn query(&self, query: Query, collection: &Value, args: &[&Expr]) -> Result<Value> {
        let Value::List(items) = collection else {
            return fail(format!(
                "`{}()` needs a list, not a {}",
                query.name(),
                collection.type_name()
            ));
        };
        let lambda = args.first().copied();
        if args.len() > 1 || (lambda.is_none() && matches!(query, Query::Where | Query::Select)) {
            return fail(format!("`{}()` takes one expression", query.name()));
        }
        let apply = |item: &Value| -> Result<Value> {
            match lambda {
                Some(expr) => self.eval(expr, item),
                None => Ok(item.clone()),
            }
        };
        match query {
            Query::Where => {
                let mut kept = Vec::new();
                for item in items.iter() {
                    if apply(item)?.truthy() {
                        kept.push(item.clone());
                    }
                }
                Ok(Value::list(kept))
            }
            Query::Select => Ok(Value::list(items.iter().map(apply).collect::<Result<_>>()?)),
            Query::Any => {
                for item in items.iter() {
                    if lambda.is_none() || apply(item)?.truthy() {
                        return Ok(Value::Bool(true));
                    }
                }
                Ok(Value::Bool(false))
            }
            Query::All => {
                for item in items.iter() {
                    if !apply(item)?.truthy() {
                        return Ok(Value::Bool(false));
                    }
                }
                Ok(Value::Bool(true))
            }
            Query::OrderBy => {
                let mut keyed: Vec<(Value, Value)> = items
                    .iter()
                    .map(|item| Ok((apply(item)?, item.clone())))
                    .collect::<Result<_>>()?;
                let mut incomparable = false;
                keyed.sort_by(|(a, _), (b, _)| {
                    a.compare(b).unwrap_or_else(|| {
                        incomparable = true;
                        Ordering::Equal
                    })
                });
                if incomparable {
                    return fail("`orderBy()` keys cannot be compared");
                }
                Ok(Value::list(
                    keyed.into_iter().map(|(_, item)| item).collect(),
                ))
            }
        }
    }
}

fn one<'e>(name: &str, args: &[&'e Expr]) -> Result<&'e Expr> {
    match args {
        [expr] => Ok(expr),
        _ => fail(format!("`{name}()` takes one expression")),
    }
}

#[derive(Clone, Copy)]
enum Query {
    Where,
    Select,
    Any,
    All,
    OrderBy,
}

impl Query {
    fn named(name: &str) -> Option<Query> {
        Some(match name {
            "where" => Query::Where,
            "select" => Query::Select,
            "any" => Query::Any,
            "all" => Query::All,
            "orderBy" => Query::OrderBy,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Query::Where => "where",
            Query::Select => "select",
            Query::Any => "any",
            Query::All => "all",
            Query::OrderBy => "orderBy",
        }
    }
}

/// `receiver.name`: a mapping's key, or that key of every item of a list.
fn attribute(receiver: &Value, name: &str) -> Result<Value> {
    match receiver {
        Value::Map(_) => match receiver.field(name) {
            Some(value) => Ok(value.clone()),
            None => fail(format!("key `{name}` is not in the data")),
        },
        Value::List(items) => Ok(Value::list(
            items
                .iter()
                .map(|item| attribute(item, name))
                .collect::<Result<_>>()?,
        )),
        other => fail(format!("a {} has no key `{name}`", other.type_name())),
    }
}

fn index(target: &Value, args: &[Value]) -> Result<Value> {
    match (target, args) {
        (Value::List(items), [Value::Int(position)]) => {
            let length = items.len() as i64;
            let position = if *position < 0 {
                position.saturating_add(length)
            } else {
                *position
            };
            usize::try_from(position)
                .ok()
                .and_then(|position| items.get(position))
                .cloned()
                .ok_or_else(|| {
                    EvalError(format!(
                        "index {position} is out of the list (length {length})"
                    ))
                })
        }
        (Value::Map(_), [key]) => target
            .get(key)
            .cloned()
            .ok_or_else(|| EvalError(format!("key `{key}` is not in the data"))),
        (Value::Map(_), [key, default]) => {
            Ok(target.get(key).cloned().unwrap_or_else(|| default.clone()))
        }
        _ => fail(format!(
            "a {} cannot be indexed like this",
            target.type_name()
        )),
    }
}

fn binary(op: Op, left: &Value, right: &Value) -> Result<Value> {
    use Value::{Float, Int, List, Map, Str};
    let mismatch = || {
        fail(format!(
            "`{}` does not apply to a {} and a {}",
            op.symbol(),
            left.type_name(),
            right.type_name()
        ))
    };
    let float = |value: &Value| match value {
        Int(number) => Some(*number as f64),
        Float(number) => Some(*number),
        _ => None,
    };
    match op {
        Op::Equal => Ok(Value::Bool(left == right)),
        Op::NotEqual => Ok(Value::Bool(left != right)),
        Op::Less | Op::Greater | Op::LessEqual | Op::GreaterEqual => {
            let Some(order) = left.compare(right) else {
                return mismatch();
            };
            Ok(Value::Bool(match op {
                Op::Less => order == Ordering::Less,
                Op::Greater => order == Ordering::Greater,
                Op::LessEqual => order != Ordering::Greater,
                _ => order != Ordering::Less,
            }))
        }
        Op::In => match right {
            List(items) => Ok(Value::Bool(items.contains(left))),
            Str(text) => match left {
                Str(part) => Ok(Value::Bool(text.contains(&**part))),
                _ => mismatch(),
            },
            _ => mismatch(),
        },
        Op::Matches | Op::NotMatches => match (left, right) {
            (Str(text), Str(pattern)) => {
                Ok(Value::Bool(search(pattern, text)? == (op == Op::Matches)))
            }
            _ => mismatch(),
        },
        Op::Plus => match (left, right) {
            (Int(a), Int(b)) => a.checked_add(*b).map(Int).ok_or_else(overflow),
            (Str(a), Str(b)) => Ok(Value::string(&format!("{a}{b}"))),
            (List(a), List(b)) => Ok(Value::list(a.iter().chain(b.iter()).cloned().collect())),
            (Map(a), Map(b)) => {
                let mut entries: Vec<(Value, Value)> = a.to_vec();
                for (key, value) in b.iter() {
                    match entries.iter_mut().find(|(existing, _)| existing == key) {
                        Some(entry) => entry.1 = value.clone(),
                        None => entries.push((key.clone(), value.clone())),
                    }
                }
                Ok(Value::map(entries))
            }
            _ => arithmetic(float(left), float(right), |a, b| a + b).map_or_else(mismatch, Ok),
        },
        Op::Minus => match (left, right) {
            (Int(a), Int(b)) => a.checked_sub(*b).map(Int).ok_or_else(overflow),
            _ => arithmetic(float(left), float(right), |a, b| a - b).map_or_else(mismatch, Ok),
        },
        Op::Times => match (left, right) {
            (Int(a), Int(b)) => a.checked_mul(*b).map(Int).ok_or_else(overflow),
            _ => arithmetic(float(left), float(right), |a, b| a * b).map_or_else(mismatch, Ok),
        },
        Op::Divide | Op::Mod => {
            if float(right) == Some(0.0) {
                return fail("division by zero");
            }
            match (left, right) {
                // Python's `//` and `%` on integers: the quotient rounded
                // towards minus infinity, the remainder with the divisor's sign.
                (Int(a), Int(b)) => {
                    let floor = a.checked_div(*b).ok_or_else(overflow)?
                        - i64::from(a % b != 0 && ((*a < 0) != (*b < 0)));
                    if op == Op::Divide {
                        Ok(Int(floor))
                    } else {
                        b.checked_mul(floor)
                            .and_then(|product| a.checked_sub(product))
                            .map(Int)
                            .ok_or_else(overflow)
                    }
                }
                _ if op == Op::Divide => {
                    arithmetic(float(left), float(right), |a, b| a / b).map_or_else(mismatch, Ok)
                }
                _ => arithmetic(float(left), float(right), |a, b| a - b * (a / b).floor())
                    .map_or_else(mismatch, Ok),
            }
        }
        Op::Not | Op::And | Op::Or => mismatch(),
    }
}

fn overflow() -> EvalError {
    EvalError("integer overflow".into())
}

fn arithmetic(a: Option<f64>, b: Option<f64>, f: impl Fn(f64, f64) -> f64) -> Option<Value> {
    Some(Value::Float(f(a?, b?)))
}

/// Python's `re.search`: does the pattern match anywhere in the text?
fn search(pattern: &str, text: &str) -> Result<bool> {
    static CACHE: Mutex<Vec<(String, regex::Regex)>> = Mutex::new(Vec::new());
    let mut cache = CACHE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((_, regex)) = cache.iter().find(|(source, _)| source == pattern) {
        return Ok(regex.is_match(text));
    }
    let regex = regex::Regex::new(pattern)
        .map_err(|err| EvalError(format!("invalid regular expression `{pattern}`: {err}")))?;
    let found = regex.is_match(text);
    if cache.len() < 256 {
        cache.push((pattern.to_string(), regex));
    }
    Ok(found)
}

/// The functions whose arguments are plain values.
fn function(name: &str, args: &[Value]) -> Result<Value> {
    let wrong = || {
        let kinds: Vec<&str> = args.iter().map(Value::type_name).collect();
        fail(format!("`{name}()` does not take ({})", kinds.join(", ")))
    };
    match (name, args) {
        ("get", [map @ Value::Map(_), key]) => Ok(map.get(key).cloned().unwrap_or(Value::Null)),
        ("get", [map @ Value::Map(_), key, default]) => {
            Ok(map.get(key).cloned().unwrap_or_else(|| default.clone()))
        }
        ("values", [map @ Value::Map(_)]) => Ok(map.values().unwrap_or_default()),
        ("keys", [Value::Map(entries)]) => Ok(Value::list(
            entries.iter().map(|(key, _)| key.clone()).collect(),
        )),
        ("len", [Value::List(items)]) => Ok(Value::Int(items.len() as i64)),
        ("len", [Value::Map(entries)]) => Ok(Value::Int(entries.len() as i64)),
        ("len", [Value::Str(text)]) => Ok(Value::Int(text.chars().count() as i64)),
        ("matches", [Value::Str(text), Value::Str(pattern)]) => {
            Ok(Value::Bool(search(pattern, text)?))
        }
        ("concat", strings) if strings.iter().all(|value| matches!(value, Value::Str(_))) => Ok(
            Value::string(&strings.iter().filter_map(Value::as_str).collect::<String>()),
        ),
        ("toSet" | "distinct", [Value::List(items)]) => {
            let mut unique: Vec<Value> = Vec::new();
            for item in items.iter() {
                if !unique.contains(item) {
                    unique.push(item.clone());
                }
            }
            Ok(Value::list(unique))
        }
        ("intersect", [Value::List(a), Value::List(b)]) => {
            let mut common: Vec<Value> = Vec::new();
            for item in a.iter() {
                if b.contains(item) && !common.contains(item) {
                    common.push(item.clone());
                }
            }
            Ok(Value::list(common))
        }
        ("union", [Value::List(a), Value::List(b)]) => {
            let mut all: Vec<Value> = Vec::new();
            for item in a.iter().chain(b.iter()) {
                if !all.contains(item) {
                    all.push(item.clone());
                }
            }
            Ok(Value::list(all))
        }
        ("flatten", [list @ Value::List(_)]) => {
            fn flatten_into(value: &Value, out: &mut Vec<Value>) {
                match value {
                    Value::List(items) => items.iter().for_each(|item| flatten_into(item, out)),
                    other => out.push(other.clone()),
                }
            }
            let mut flat = Vec::new();
            if let Value::List(items) = list {
                items.iter().for_each(|item| flatten_into(item, &mut flat));
            }
            Ok(Value::list(flat))
        }
        ("first", [Value::List(items)]) => items
            .first()
            .cloned()
            .ok_or_else(|| EvalError("`first()` of an empty list".into())),
        ("first", [Value::List(items), default]) => {
            Ok(items.first().cloned().unwrap_or_else(|| default.clone()))
        }
        ("toYaml", [value]) => Ok(Value::string(&super::yaml::to_yaml(value))),
        ("isUndef", [value]) => Ok(Value::Bool(matches!(value, Value::Undefined))),
        (
            "get" | "values" | "keys" | "len" | "matches" | "concat" | "toSet" | "distinct"
            | "intersect" | "union" | "flatten" | "first" | "toYaml" | "isUndef",
            _,
        ) => wrong(),
        _ => fail(format!("unknown function `{name}()`")),
    }
}
