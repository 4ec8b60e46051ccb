//! Static evaluation of the guards of a monolith, per role: the role
//! expression takes each role's name, `--assume` gives other expressions a
//! value, variables are followed through the assignments and parameters of
//! the walked scopes. What depends on anything else (facts, functions) is
//! unknown, and an unknown guard keeps its statement.

use super::units::{Guard, GuardKind, Monolith};
use crate::extract::literal_string;
use crate::index::SourceFile;
use granule_parser::qualified::Qualified;
use granule_parser::{BinaryOp, Expr, ExprKind, UnaryOp};
use std::cell::Cell;

/// A value as far as it is known statically.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Text(String),
    Bool(bool),
    Undef,
    Array(Vec<Value>),
    Regex(String),
    Unknown,
}

impl Value {
    /// Puppet's truth: undef and false are false (and, in Puppet 3, the
    /// empty string, which is why it is unknown here).
    pub fn truth(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            Value::Undef => Some(false),
            Value::Text(text) if text.is_empty() => None,
            Value::Text(_) | Value::Array(_) | Value::Regex(_) => Some(true),
            Value::Unknown => None,
        }
    }

    /// From `--assume EXPR=VALUE`: `true`, `false` and `undef` are
    /// those values, anything else a string.
    pub fn parse(text: &str) -> Value {
        match text {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            "undef" => Value::Undef,
            _ => Value::Text(text.to_string()),
        }
    }
}

/// What the evaluation knows: the role of the run (if any) and the
/// assumptions.
pub struct Evaluator<'m, 'a> {
    pub files: &'a [SourceFile],
    pub monolith: &'m Monolith<'a>,
    pub role_var: Option<&'m str>,
    pub assumptions: &'m [(String, Value)],
    depth: Cell<u32>,
}

/// How deep variables are followed before giving up (assignments that
/// refer to each other).
const MAX_DEPTH: u32 = 24;

impl<'m, 'a> Evaluator<'m, 'a> {
    pub fn new(
        files: &'a [SourceFile],
        monolith: &'m Monolith<'a>,
        role_var: Option<&'m str>,
        assumptions: &'m [(String, Value)],
    ) -> Evaluator<'m, 'a> {
        Evaluator {
            files,
            monolith,
            role_var,
            assumptions,
            depth: Cell::new(0),
        }
    }

    /// Whether a guard holds on a run of `role` (`None`: unknown).
    pub fn holds(&self, guard: &Guard, role: Option<&str>) -> Option<bool> {
        let at = (guard.file, guard.scope);
        match &guard.kind {
            GuardKind::If { test, holds } => self
                .eval(test, at, role)
                .truth()
                .map(|truth| truth == *holds),
            GuardKind::Case {
                test,
                values,
                earlier,
                others,
                default,
            } => {
                let test = self.eval(test, at, role);
                let matches_any = |values: &[&Expr]| -> Option<bool> {
                    let mut unknown = false;
                    for value in values {
                        match self.case_match(&test, value, at, role) {
                            Some(true) => return Some(true),
                            Some(false) => {}
                            None => unknown = true,
                        }
                    }
                    if unknown {
                        None
                    } else {
                        Some(false)
                    }
                };
                if *default {
                    matches_any(others).map(|any| !any)
                } else {
                    // Taken when it matches and no earlier option does.
                    match (matches_any(values), matches_any(earlier)) {
                        (Some(false), _) | (_, Some(true)) => Some(false),
                        (Some(true), Some(false)) => Some(true),
                        _ => None,
                    }
                }
            }
        }
    }

    fn case_match(
        &self,
        test: &Value,
        value: &Expr,
        at: (usize, usize),
        role: Option<&str>,
    ) -> Option<bool> {
        match &value.kind {
            ExprKind::Default => Some(true),
            ExprKind::Regex(pattern) => regex_match(test, pattern),
            _ => equal(test, &self.eval(value, at, role)),
        }
    }

    /// The value of `expr`, written in file `at.0` in scope `at.1`.
    pub fn eval(&self, expr: &Expr, at: (usize, usize), role: Option<&str>) -> Value {
        let source = &self.files[at.0];
        if let Some(role_var) = self.role_var {
            if super::units::is_role_expr(source, expr, role_var) {
                return role.map_or(Value::Unknown, |role| Value::Text(role.to_string()));
            }
        }
        if !matches!(
            expr.kind,
            ExprKind::String(_) | ExprKind::Boolean(_) | ExprKind::QualifiedName(_)
        ) {
            let text = source.text(expr.span);
            for (assumed, value) in self.assumptions {
                if super::units::same_expression(text, assumed) {
                    return value.clone();
                }
            }
        }
        match &expr.kind {
            ExprKind::Boolean(b) => Value::Bool(*b),
            ExprKind::Undef => Value::Undef,
            ExprKind::Integer { value, .. } => Value::Text(value.to_string()),
            ExprKind::Regex(pattern) => Value::Regex(pattern.clone()),
            ExprKind::String(_) | ExprKind::QualifiedName(_) | ExprKind::Concat(_) => {
                literal_string(expr).map_or(Value::Unknown, Value::Text)
            }
            ExprKind::Array(items) => {
                Value::Array(items.iter().map(|i| self.eval(i, at, role)).collect())
            }
            ExprKind::Paren(inner) => self.eval(inner, at, role),
            ExprKind::Variable(name) => self.variable(name, at.1, role),
            ExprKind::Unary {
                op: UnaryOp::Not,
                expr,
            } => match self.eval(expr, at, role).truth() {
                Some(truth) => Value::Bool(!truth),
                None => Value::Unknown,
            },
            ExprKind::Binary { op, left, right } => self.binary(*op, left, right, at, role),
            ExprKind::Selector { left, entries } => {
                let test = self.eval(left, at, role);
                for entry in entries {
                    match self.case_match(&test, &entry.matching, at, role) {
                        Some(true) => return self.eval(&entry.value, at, role),
                        Some(false) => {}
                        None => return Value::Unknown,
                    }
                }
                Value::Unknown
            }
            ExprKind::Call(call) => {
                let name = match &call.functor.kind {
                    ExprKind::QualifiedName(name) => name.without_top(),
                    _ => return Value::Unknown,
                };
                match (name, call.args.as_slice()) {
                    ("member", [set, value]) => {
                        let value = self.eval(value, at, role);
                        match self.eval(set, at, role) {
                            Value::Array(items) => {
                                let mut unknown = false;
                                for item in &items {
                                    match equal(item, &value) {
                                        Some(true) => return Value::Bool(true),
                                        None => unknown = true,
                                        Some(false) => {}
                                    }
                                }
                                if unknown {
                                    Value::Unknown
                                } else {
                                    Value::Bool(false)
                                }
                            }
                            _ if names_roles(source, set, self.role_var.unwrap_or("")) => {
                                match (role, &value) {
                                    (Some(role), Value::Text(text)) => Value::Bool(role == text),
                                    _ => Value::Unknown,
                                }
                            }
                            _ => Value::Unknown,
                        }
                    }
                    _ => Value::Unknown,
                }
            }
            _ => Value::Unknown,
        }
    }

    fn binary(
        &self,
        op: BinaryOp,
        left: &Expr,
        right: &Expr,
        at: (usize, usize),
        role: Option<&str>,
    ) -> Value {
        let known = |b: Option<bool>| b.map_or(Value::Unknown, Value::Bool);
        match op {
            BinaryOp::And => {
                let l = self.eval(left, at, role).truth();
                if l == Some(false) {
                    return Value::Bool(false);
                }
                let r = self.eval(right, at, role).truth();
                match (l, r) {
                    (_, Some(false)) => Value::Bool(false),
                    (Some(true), Some(true)) => Value::Bool(true),
                    _ => Value::Unknown,
                }
            }
            BinaryOp::Or => {
                let l = self.eval(left, at, role).truth();
                if l == Some(true) {
                    return Value::Bool(true);
                }
                let r = self.eval(right, at, role).truth();
                match (l, r) {
                    (_, Some(true)) => Value::Bool(true),
                    (Some(false), Some(false)) => Value::Bool(false),
                    _ => Value::Unknown,
                }
            }
            BinaryOp::Eq => known(equal(
                &self.eval(left, at, role),
                &self.eval(right, at, role),
            )),
            BinaryOp::Ne => {
                known(equal(&self.eval(left, at, role), &self.eval(right, at, role)).map(|e| !e))
            }
            BinaryOp::Match | BinaryOp::NotMatch => {
                let subject = self.eval(left, at, role);
                let matched = match &right.kind {
                    ExprKind::Regex(pattern) => regex_match(&subject, pattern),
                    _ => None,
                };
                known(matched.map(|m| m == (op == BinaryOp::Match)))
            }
            BinaryOp::In => {
                let needle = self.eval(left, at, role);
                match self.eval(right, at, role) {
                    Value::Array(items) => {
                        let mut unknown = false;
                        for item in &items {
                            match equal(&needle, item) {
                                Some(true) => return Value::Bool(true),
                                None => unknown = true,
                                Some(false) => {}
                            }
                        }
                        known((!unknown).then_some(false))
                    }
                    Value::Text(haystack) => match needle {
                        Value::Text(needle) => Value::Bool(
                            haystack
                                .to_ascii_lowercase()
                                .contains(&needle.to_ascii_lowercase()),
                        ),
                        _ => Value::Unknown,
                    },
                    _ => Value::Unknown,
                }
            }
            _ => Value::Unknown,
        }
    }

    /// A variable's value in `scope`: a parameter bound by the declaration
    /// that opened the scope (or its default), or the first assignment
    /// whose guards hold; unqualified names fall back to the top scope.
    fn variable(&self, name: &str, scope: usize, role: Option<&str>) -> Value {
        let depth = self.depth.get();
        if depth >= MAX_DEPTH {
            return Value::Unknown;
        }
        self.depth.set(depth + 1);
        let value = self.variable_inner(name, scope, role);
        self.depth.set(depth);
        value
    }

    fn variable_inner(&self, name: &str, scope: usize, role: Option<&str>) -> Value {
        let Some((scope, name)) = resolve_variable(self.monolith, name, scope) else {
            return Value::Unknown;
        };
        let declared = &self.monolith.scopes[scope];
        if declared.params.iter().any(|(p, _)| p == name) {
            if let Some((_, arg)) = declared.args.iter().find(|(a, _)| a == name) {
                // The declaration is written in the parent scope's body.
                let parent = declared.parent.unwrap_or(0);
                let file = self.monolith.scopes[parent].file;
                return self.eval(arg, (file, parent), role);
            }
            // Not given: Puppet's automatic parameter lookup may find a
            // value in Hiera before the default applies.
            return Value::Unknown;
        }
        let assignments = || {
            self.monolith
                .assignments()
                .iter()
                .filter(|a| a.scope == scope && a.name == name)
        };
        // A hash changed in place is only known when the code runs.
        if assignments().any(|a| a.indexed) {
            return Value::Unknown;
        }
        for assignment in assignments() {
            let mut all = Some(true);
            for guard in &assignment.guards {
                match self.holds(guard, role) {
                    Some(true) => {}
                    Some(false) => {
                        all = Some(false);
                        break;
                    }
                    None => all = None,
                }
            }
            match all {
                Some(true) => {
                    return self.eval(assignment.value, (assignment.file, scope), role);
                }
                Some(false) => {}
                None => return Value::Unknown,
            }
        }
        Value::Unknown
    }
}

/// The scope of code the split does not copy (a module's class or define):
/// only the top scope's and opened classes' variables are known there.
pub const OUTSIDE: usize = usize::MAX;

/// The scope and name a variable reference written in `scope` reads:
/// `$::x` the top scope's, `$a::b::x` the opened class `a::b`'s, `$x` its
/// own scope's when that scope sets it, else the top scope's. `None` for a
/// class that was not opened.
pub fn resolve_variable<'n>(
    monolith: &Monolith,
    name: &'n str,
    scope: usize,
) -> Option<(usize, &'n str)> {
    let top = name.starts_with("::");
    let name = name.without_top();
    if let Some((class, variable)) = name.split_last() {
        return monolith
            .scope_of_class(class)
            .map(|scope| (scope, variable));
    }
    // `$::x` is the top scope's, never a local of the scope reading it:
    // the monolith's only when its entry is a manifest's top scope.
    if top {
        return monolith.scopes[0].class.is_none().then_some((0, name));
    }
    if scope == OUTSIDE {
        return None;
    }
    if monolith.sets(scope, name) {
        Some((scope, name))
    } else {
        Some((0, name))
    }
}

/// Whether `member(set, 'x')` tests a role: `set` is the role expression,
/// or a variable whose name says it holds roles (`$roles`, `$node_roles`).
pub fn names_roles(source: &SourceFile, set: &Expr, role_var: &str) -> bool {
    (!role_var.is_empty() && super::units::is_role_expr(source, set, role_var))
        || matches!(&set.kind, ExprKind::Variable(name) if name.rsplit("::").next().is_some_and(|last| last.ends_with("roles")))
}

/// Whether one value could match two `case` values at once (`'compute'`
/// and `/controller/` cannot): literals as Puppet compares them, a literal
/// against a regex; two regexes, or anything computed, may.
pub fn may_match_both(a: &Expr, b: &Expr) -> bool {
    let literal = |expr: &Expr| match &expr.kind {
        ExprKind::Integer { value, .. } => Some(value.to_string()),
        _ => crate::extract::literal_string(expr),
    };
    let against = |pattern: &str, other: &Expr| {
        literal(other).is_none_or(|text| regex_match(&Value::Text(text), pattern) != Some(false))
    };
    match (&a.kind, &b.kind) {
        (ExprKind::Regex(pattern), _) => against(pattern, b),
        (_, ExprKind::Regex(pattern)) => against(pattern, a),
        _ => match (literal(a), literal(b)) {
            (Some(a), Some(b)) => a.eq_ignore_ascii_case(&b),
            _ => true,
        },
    }
}

/// Puppet's `==`: strings ignoring case, arrays element by element.
fn equal(a: &Value, b: &Value) -> Option<bool> {
    match (a, b) {
        (Value::Unknown, _) | (_, Value::Unknown) => None,
        (Value::Text(a), Value::Text(b)) => Some(a.eq_ignore_ascii_case(b)),
        (Value::Array(a), Value::Array(b)) => {
            if a.len() != b.len() {
                return Some(false);
            }
            let mut all = Some(true);
            for (x, y) in a.iter().zip(b) {
                match equal(x, y) {
                    Some(false) => return Some(false),
                    None => all = None,
                    Some(true) => {}
                }
            }
            all
        }
        (a, b) => Some(a == b),
    }
}

fn regex_match(subject: &Value, pattern: &str) -> Option<bool> {
    let Value::Text(text) = subject else {
        return None;
    };
    // Guards test the same few patterns for every role and branch:
    // compiled once each.
    static COMPILED: std::sync::OnceLock<
        std::sync::Mutex<std::collections::HashMap<String, Option<regex::Regex>>>,
    > = std::sync::OnceLock::new();
    let mut compiled = COMPILED
        .get_or_init(Default::default)
        .lock()
        .expect("not poisoned");
    let regex = compiled
        .entry(pattern.to_string())
        .or_insert_with(|| regex::Regex::new(pattern).ok())
        .as_ref()?;
    Some(regex.is_match(text))
}
