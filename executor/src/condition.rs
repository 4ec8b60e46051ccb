//! Task conditions, decided on each node's deployment data.
//!
//! Version 2 conditions (`{yaql_exp: ...}`) are YAQL ([`crate::yaql`]).
//! Text conditions are Nailgun's older expression language:
//! `settings:PATH` and `cluster:PATH` references, literals (strings,
//! numbers, `true`, `false`, `null`), `==`, `!=`, `in`, `not`, `and`, `or`
//! and parentheses. `settings:a.b.value` reads the cluster settings (the
//! inventory's `settings:` or `--settings`); without them, the node's data,
//! where Fuel wrote each setting's value as `a.b` (the `.value` dropped).
//! A reference to nothing is null, as in Nailgun's non-strict mode.

use crate::descriptor::Condition;
use crate::yaql::{self, Value};
use std::collections::HashMap;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    True,
    False,
    /// Nothing to decide on (no data for this node); the reason says so.
    Undecided(String),
}

/// A condition parsed once, evaluated per node.
#[derive(Clone, Debug)]
pub enum Compiled {
    Yaql(yaql::Expression),
    Nailgun(Nailgun),
}

/// What a condition is evaluated on.
pub struct Facts<'a> {
    /// The node's deployment data (Fuel's `astute.yaml`), if given.
    pub data: Option<&'a Value>,
    /// The data of the previous deployment, if given.
    pub previous: Option<&'a Value>,
    /// Cluster settings (inventory `settings:` or `--settings`).
    pub settings: &'a Value,
}

pub fn compile(condition: &Condition) -> Result<Compiled, String> {
    match condition {
        Condition::Yaql(text) => yaql::parse(text)
            .map(Compiled::Yaql)
            .map_err(|err| format!("YAQL syntax error: {err}")),
        Condition::Nailgun(text) => Nailgun::parse(text).map(Compiled::Nailgun),
    }
}

impl Compiled {
    /// True or false, undecided without data, or an error saying why the
    /// data does not answer (a key the expression reads is missing...).
    pub fn decide(&self, facts: &Facts) -> Result<Verdict, String> {
        let value = match self {
            Compiled::Yaql(expression) => {
                let Some(data) = facts.data else {
                    return Ok(Verdict::Undecided(
                        "no deployment data for this node".into(),
                    ));
                };
                let variables = node_variables(data);
                expression
                    .evaluate(data, facts.previous, &variables)
                    .map_err(|err| err.to_string())?
            }
            Compiled::Nailgun(expression) => {
                if facts.data.is_none() && matches!(facts.settings, Value::Null) {
                    return Ok(Verdict::Undecided(
                        "no deployment data or settings for this node".into(),
                    ));
                }
                expression.evaluate(facts)?
            }
        };
        Ok(if value.truthy() {
            Verdict::True
        } else {
            Verdict::False
        })
    }
}

/// The variables Nailgun gave expressions besides `$`: `$node` (the node's
/// data) and `$common` (the cluster's; granule has one file per node, so
/// the same data).
pub fn node_variables(data: &Value) -> HashMap<String, Value> {
    HashMap::from([
        ("node".to_string(), data.clone()),
        ("common".to_string(), data.clone()),
    ])
}

/// An expression of Nailgun's expression language.
#[derive(Clone, Debug, PartialEq)]
pub enum Nailgun {
    Literal(Value),
    /// `settings:a.b.c` or `cluster:a`.
    Reference {
        scope: String,
        path: Vec<String>,
    },
    Not(Box<Nailgun>),
    And(Box<Nailgun>, Box<Nailgun>),
    Or(Box<Nailgun>, Box<Nailgun>),
    Equal(Box<Nailgun>, Box<Nailgun>),
    NotEqual(Box<Nailgun>, Box<Nailgun>),
    In(Box<Nailgun>, Box<Nailgun>),
}

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Literal(Value),
    Reference(String, Vec<String>),
    Word(&'static str),
}

impl Nailgun {
    pub fn parse(text: &str) -> Result<Nailgun, String> {
        // Real conditions have a few dozen tokens; the limit keeps the
        // recursive parser and the tree it builds far from the stack's end.
        const MOST_TOKENS: usize = 1000;
        let tokens = lex(text)?;
        if tokens.len() > MOST_TOKENS {
            return Err(format!(
                "a condition of more than {MOST_TOKENS} words and symbols is not supported"
            ));
        }
        let mut position = 0;
        let expression = parse_or(&tokens, &mut position)?;
        match tokens.get(position) {
            None => Ok(expression),
            Some(token) => Err(format!("unexpected {} in `{text}`", describe(token))),
        }
    }

    fn evaluate(&self, facts: &Facts) -> Result<Value, String> {
        Ok(match self {
            Nailgun::Literal(value) => value.clone(),
            Nailgun::Reference { scope, path } => lookup(scope, path, facts),
            Nailgun::Not(operand) => Value::Bool(!operand.evaluate(facts)?.truthy()),
            Nailgun::And(left, right) => {
                Value::Bool(left.evaluate(facts)?.truthy() && right.evaluate(facts)?.truthy())
            }
            Nailgun::Or(left, right) => {
                Value::Bool(left.evaluate(facts)?.truthy() || right.evaluate(facts)?.truthy())
            }
            Nailgun::Equal(left, right) => {
                Value::Bool(left.evaluate(facts)? == right.evaluate(facts)?)
            }
            Nailgun::NotEqual(left, right) => {
                Value::Bool(left.evaluate(facts)? != right.evaluate(facts)?)
            }
            Nailgun::In(left, right) => {
                let needle = left.evaluate(facts)?;
                match right.evaluate(facts)? {
                    Value::List(items) => Value::Bool(items.contains(&needle)),
                    Value::Str(text) => {
                        Value::Bool(needle.as_str().is_some_and(|part| text.contains(part)))
                    }
                    map @ Value::Map(_) => Value::Bool(map.get(&needle).is_some()),
                    other => {
                        return Err(format!(
                            "`in` needs a list, a string or a mapping on its right, not a {}",
                            other.type_name()
                        ))
                    }
                }
            }
        })
    }
}

fn lookup(scope: &str, path: &[String], facts: &Facts) -> Value {
    let walk = |root: &Value, path: &[String]| {
        path.iter()
            .try_fold(root, |value, key| value.field(key))
            .cloned()
    };
    let in_settings = (scope == "settings")
        .then(|| walk(facts.settings, path))
        .flatten();
    in_settings
        .or_else(|| {
            let data = facts.data?;
            let trimmed = match path.split_last() {
                Some((last, rest)) if scope == "settings" && last == "value" => rest,
                _ => path,
            };
            walk(data, trimmed)
        })
        .unwrap_or(Value::Null)
}

fn describe(token: &Token) -> String {
    match token {
        Token::Literal(value) => format!("`{value}`"),
        Token::Reference(scope, path) => format!("`{scope}:{}`", path.join(".")),
        Token::Word(word) => format!("`{word}`"),
    }
}

fn lex(text: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut rest = text.trim_start();
    while !rest.is_empty() {
        let symbol = ["==", "!=", "(", ")"]
            .into_iter()
            .find(|s| rest.starts_with(s));
        let (token, length) = if let Some(symbol) = symbol {
            (Token::Word(symbol), symbol.len())
        } else if rest.starts_with(['\'', '"']) {
            let quote = &rest[..1];
            let end = rest[1..]
                .find(quote)
                .ok_or_else(|| format!("a string has no closing quote in `{text}`"))?;
            (Token::Literal(Value::string(&rest[1..=end])), end + 2)
        } else {
            let length = rest
                .find(|c: char| c.is_whitespace() || matches!(c, '(' | ')' | '=' | '!'))
                .unwrap_or(rest.len());
            let word = &rest[..length];
            let token = match word {
                "and" => Token::Word("and"),
                "or" => Token::Word("or"),
                "not" => Token::Word("not"),
                "in" => Token::Word("in"),
                "true" => Token::Literal(Value::Bool(true)),
                "false" => Token::Literal(Value::Bool(false)),
                "null" => Token::Literal(Value::Null),
                _ => match word.split_once(':') {
                    Some((scope, path)) if !scope.is_empty() && !path.is_empty() => Token::Reference(
                        scope.to_string(),
                        path.split('.').map(str::to_string).collect(),
                    ),
                    _ => match (word.parse::<i64>(), word.parse::<f64>()) {
                        (Ok(int), _) => Token::Literal(Value::Int(int)),
                        (_, Ok(float)) => Token::Literal(Value::Float(float)),
                        _ if word.is_empty() => {
                            return Err(format!("unexpected `{}` in `{text}`", &rest[..1]))
                        }
                        _ => return Err(format!("`{word}` is neither a `settings:`/`cluster:` reference nor a literal, in `{text}`")),
                    },
                },
            };
            (token, length)
        };
        tokens.push(token);
        rest = rest[length..].trim_start();
    }
    Ok(tokens)
}

fn parse_or(tokens: &[Token], position: &mut usize) -> Result<Nailgun, String> {
    let mut left = parse_and(tokens, position)?;
    while tokens.get(*position) == Some(&Token::Word("or")) {
        *position += 1;
        left = Nailgun::Or(Box::new(left), Box::new(parse_and(tokens, position)?));
    }
    Ok(left)
}

fn parse_and(tokens: &[Token], position: &mut usize) -> Result<Nailgun, String> {
    let mut left = parse_not(tokens, position)?;
    while tokens.get(*position) == Some(&Token::Word("and")) {
        *position += 1;
        left = Nailgun::And(Box::new(left), Box::new(parse_not(tokens, position)?));
    }
    Ok(left)
}

fn parse_not(tokens: &[Token], position: &mut usize) -> Result<Nailgun, String> {
    if tokens.get(*position) == Some(&Token::Word("not")) {
        *position += 1;
        return Ok(Nailgun::Not(Box::new(parse_not(tokens, position)?)));
    }
    let left = parse_primary(tokens, position)?;
    let comparison = match tokens.get(*position) {
        Some(Token::Word("==")) => Nailgun::Equal,
        Some(Token::Word("!=")) => Nailgun::NotEqual,
        Some(Token::Word("in")) => Nailgun::In,
        _ => return Ok(left),
    };
    *position += 1;
    let right = parse_primary(tokens, position)?;
    Ok(comparison(Box::new(left), Box::new(right)))
}

fn parse_primary(tokens: &[Token], position: &mut usize) -> Result<Nailgun, String> {
    let token = tokens
        .get(*position)
        .ok_or("the condition ends where a value was expected")?;
    *position += 1;
    match token {
        Token::Literal(value) => Ok(Nailgun::Literal(value.clone())),
        Token::Reference(scope, path) => Ok(Nailgun::Reference {
            scope: scope.clone(),
            path: path.clone(),
        }),
        Token::Word("(") => {
            let inner = parse_or(tokens, position)?;
            match tokens.get(*position) {
                Some(Token::Word(")")) => {
                    *position += 1;
                    Ok(inner)
                }
                _ => Err("a `(` is not closed".into()),
            }
        }
        other => Err(format!("expected a value, found {}", describe(other))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decide(text: &str, data: Option<&Value>, settings: &Value) -> Result<Verdict, String> {
        compile(&Condition::Nailgun(text.into()))?.decide(&Facts {
            data,
            previous: None,
            settings,
        })
    }

    #[test]
    fn nailgun_language_on_settings_and_data() {
        let settings = Value::from_json(&serde_json::json!({
            "storage": {"ceph": {"value": true}, "kind": {"value": "lvm"}}
        }));
        let data = Value::from_json(&serde_json::json!({
            "public_ssl": {"horizon": false, "services": true, "cert_source": "self_signed"}
        }));
        assert_eq!(
            decide("settings:storage.ceph.value == true", None, &settings),
            Ok(Verdict::True)
        );
        assert_eq!(
            decide("settings:storage.kind.value != 'lvm'", None, &settings),
            Ok(Verdict::False)
        );
        assert_eq!(
            decide(
                "(settings:public_ssl.horizon.value == true or settings:public_ssl.services.value == true) and settings:public_ssl.cert_source.value == 'self_signed'",
                Some(&data),
                &Value::Null,
            ),
            Ok(Verdict::True)
        );
        assert_eq!(
            decide(
                "not settings:missing.value == true",
                Some(&data),
                &Value::Null
            ),
            Ok(Verdict::True)
        );
        assert!(matches!(
            decide("settings:x == 1", None, &Value::Null),
            Ok(Verdict::Undecided(_))
        ));
        assert!(decide("settings:x == ", None, &settings).is_err());
        assert!(decide("(settings:x == 1", None, &settings).is_err());
    }
}
