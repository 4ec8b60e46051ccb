//! YAQL, the query language of Fuel 9's task files (`yaql_exp`), in Rust:
//! [`parse`] once, then [`Expression::evaluate`] on each node's data.
//! Nailgun's functions (`changed($.x)`...) compare that data with the
//! previous deployment's.

mod diff;
mod eval;
mod syntax;
mod value;
mod yaml;

pub use eval::{Environment, EvalError};
pub use syntax::SyntaxError;
pub use value::{Interner, Value};
pub use yaml::to_yaml;

use std::collections::HashMap;

/// A parsed YAQL expression.
#[derive(Clone, Debug, PartialEq)]
pub struct Expression {
    root: syntax::Expr,
}

pub fn parse(text: &str) -> Result<Expression, SyntaxError> {
    syntax::parse(text).map(|root| Expression { root })
}

impl Expression {
    /// Evaluates with `$` the node's data; `previous` is the data of the
    /// last deployment (Nailgun's `$old`, `{}` when there was none).
    pub fn evaluate(
        &self,
        data: &Value,
        previous: Option<&Value>,
        variables: &HashMap<String, Value>,
    ) -> Result<Value, EvalError> {
        let empty = Value::empty_map();
        Environment {
            new: data,
            old: previous.unwrap_or(&empty),
            variables,
        }
        .evaluate(&self.root)
    }
}
