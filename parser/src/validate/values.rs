//! Rules on ordinary expressions: what can be used as a value, what a query
//! may contain, literals (duplicate keys and defaults, integer range), names
//! of variables and types, and what can be called.

use super::labels::{a_an, a_an_uc};
use super::{locate, names, Checker};
use crate::ast::{BinaryOp, Call, CallKind, CaseOption, Expr, ExprKind, KeyedEntry, SelectorEntry};
use std::collections::HashSet;

impl Checker<'_> {
    /// Checker4_0's `rvalue`: definitions, nodes and collectors produce no
    /// value, also inside `!`, `-`, `*`, parentheses or interpolation.
    pub(super) fn rvalue(&mut self, expr: &Expr) {
        match &expr.kind {
            ExprKind::Collect { .. }
            | ExprKind::Class(_)
            | ExprKind::Define(_)
            | ExprKind::Function(_)
            | ExprKind::TypeAlias { .. }
            | ExprKind::TypeMapping { .. }
            | ExprKind::TypeDefinition { .. }
            | ExprKind::Node(_) => self.error(
                expr,
                "NOT_RVALUE",
                format!(
                    "Invalid use of expression. {} does not produce a value",
                    a_an_uc(expr)
                ),
            ),
            ExprKind::Unary { expr: inner, .. }
            | ExprKind::Paren(inner)
            | ExprKind::Text(inner)
            | ExprKind::RenderExpr(inner)
            | ExprKind::VariableOf(inner) => self.rvalue(inner),
            _ => {}
        }
    }

    /// A side of `->`, `~>`, `<-`, `<~`: collectors and chains are fine there.
    pub(super) fn relation(&mut self, expr: &Expr) {
        match &expr.kind {
            ExprKind::Collect { .. } => {}
            ExprKind::Binary { op, .. } if op.is_relationship() => {}
            _ => self.rvalue(expr),
        }
    }

    /// A collector query allows only `==`, `!=`, `and`, `or`, parentheses,
    /// variables, names and literal scalars.
    pub(super) fn query(&mut self, expr: &Expr) {
        match &expr.kind {
            ExprKind::Binary {
                op: BinaryOp::And | BinaryOp::Or,
                left,
                right,
            } => {
                self.query(left);
                self.query(right);
            }
            ExprKind::Binary {
                op: BinaryOp::Eq | BinaryOp::Ne,
                ..
            } => {}
            ExprKind::Paren(inner) => self.query(inner),
            ExprKind::Variable(_)
            | ExprKind::VariableOf(_)
            | ExprKind::QualifiedName(_)
            | ExprKind::Integer { .. }
            | ExprKind::Float(_)
            | ExprKind::String(_)
            | ExprKind::Boolean(_) => {}
            _ => self.error(
                expr,
                "ILLEGAL_QUERY_EXPRESSION",
                format!(
                    "Illegal query expression. {} cannot be used in a query",
                    a_an_uc(expr)
                ),
            ),
        }
    }

    /// Only a name, a type or a parameterized type can be called.
    pub(super) fn check_call(&mut self, call_expr: &Expr, call: &Call) {
        if call.kind == CallKind::Method {
            return; // The functor is a '.' expression, checked on its own.
        }
        let functor = &call.functor;
        match &functor.kind {
            ExprKind::QualifiedName(_) | ExprKind::QualifiedReference(_) => {}
            ExprKind::Access { left, .. }
                if matches!(left.kind, ExprKind::QualifiedReference(_)) => {}
            ExprKind::RenderString(_) => self.error(
                call_expr,
                "ILLEGAL_EPP_PARAMETERS",
                "Ambiguous EPP parameter expression. Probably missing '<%-' before parameters \
                 to remove leading whitespace"
                    .into(),
            ),
            _ => self.illegal_expression(functor, "function name", call_expr),
        }
    }

    /// The right side of `.` must be a name.
    pub(super) fn check_named_access(&mut self, access: &Expr, right: &Expr) {
        if !matches!(right.kind, ExprKind::QualifiedName(_)) {
            self.illegal_expression(right, "function name", access);
        }
    }

    pub(super) fn illegal_expression(&mut self, expr: &Expr, feature: &str, container: &Expr) {
        self.error(
            expr,
            "ILLEGAL_EXPRESSION",
            format!(
                "Illegal expression. {} is unacceptable as {feature} in {}",
                a_an_uc(expr),
                a_an(container)
            ),
        );
    }

    /// A `case` may have one `default` option value; each further one is
    /// unreachable.
    pub(super) fn check_case(&mut self, test: &Expr, options: &[CaseOption]) {
        self.rvalue(test);
        let mut found_default = false;
        for value in options.iter().flat_map(|o| &o.values) {
            if matches!(value.kind, ExprKind::Default) {
                if found_default {
                    self.duplicate_default(value, "'case' statement");
                }
                found_default = true;
            }
        }
    }

    /// A selector may have one `default` entry; the second is reported.
    pub(super) fn check_selector(
        &mut self,
        _selector: &Expr,
        left: &Expr,
        entries: &[SelectorEntry],
    ) {
        self.rvalue(left);
        if let Some(second) = entries
            .iter()
            .filter(|e| matches!(e.matching.kind, ExprKind::Default))
            .nth(1)
        {
            self.duplicate_default(&second.matching, "Selector Expression");
        }
    }

    fn duplicate_default(&mut self, value: &Expr, container: &str) {
        self.error(
            value,
            "DUPLICATE_DEFAULT",
            format!("This {container} already has a 'default' entry - this is a duplicate"),
        );
    }

    /// Literal keys given twice in a hash literal, reported at the `=>` of
    /// each repetition. The entries of an untitled resource's hash
    /// (`foo { a => 1 }`) are Puppet's own rewrite and have no position:
    /// Puppet reports them at the hash, whose `{` follows the name.
    pub(super) fn check_duplicate_keys(&mut self, hash: &Expr, entries: &[KeyedEntry]) {
        if entries.len() < 2 {
            return;
        }
        let mut seen = HashSet::with_capacity(entries.len());
        for entry in entries {
            let Some(key) = literal(&entry.key) else {
                continue;
            };
            if seen.contains(&key) {
                let rewritten = entry.key.span == entry.span;
                let at = if rewritten {
                    hash.span.start
                } else {
                    locate::arrow_offset(&entry.key, self.source)
                };
                self.report_at(
                    at,
                    entry.span.end,
                    "DUPLICATE_KEY",
                    format!("The key '{key}' is declared more than once"),
                );
            } else {
                seen.insert(key);
            }
        }
    }

    /// Puppet integers are 64-bit.
    pub(super) fn check_integer(&mut self, expr: &Expr, value: i128) {
        let (bound, sign) = if value > i64::MAX as i128 {
            ("max", "+")
        } else if value < i64::MIN as i128 {
            ("min", "-")
        } else {
            return;
        };
        self.error(
            expr,
            "NUMERIC_OVERFLOW",
            format!(
                "{} resulted in a value outside of Puppet Integer {bound} range, got '{sign}{:#x}'",
                a_an_uc(expr),
                value.unsigned_abs()
            ),
        );
    }

    pub(super) fn check_class_ref(&mut self, expr: &Expr, name: &str) {
        if !names::is_class_ref(name) {
            self.error(
                expr,
                "ILLEGAL_CLASSREF",
                format!(
                    "Illegal type reference. The given name '{name}' does not conform to the naming rule"
                ),
            );
        }
    }

    /// `$name`: a decimal match variable or a valid variable name.
    pub(super) fn check_variable_name(&mut self, expr: &Expr, name: &str) {
        if name.starts_with(|c: char| c.is_ascii_digit()) {
            if !names::is_numeric_var_name(name) {
                self.error(
                    expr,
                    "ILLEGAL_NUMERIC_VAR_NAME",
                    format!(
                        "Illegal numeric variable name, The given name '{name}' must be a decimal \
                         value if it starts with a digit 0-9"
                    ),
                );
            }
        } else if !names::is_var_name(name) {
            self.error(
                expr,
                "ILLEGAL_VAR_NAME",
                format!(
                    "Illegal variable name, The given name '{name}' does not conform to the naming \
                     rule /^((::)?[a-z]\\w*)*((::)?[a-z_]\\w*)$/"
                ),
            );
        }
    }

    /// A variable named by an expression: only a number (`"${1}"`) is a name.
    pub(super) fn check_variable_expr(&mut self, expr: &Expr, inner: &Expr) {
        if !matches!(inner.kind, ExprKind::Integer { .. }) {
            self.illegal_expression(expr, "name", expr);
        }
    }
}

/// Checker4_0's `literal`: the value of a key Puppet can compare statically.
#[derive(Debug, PartialEq, Eq, Hash)]
enum Literal<'a> {
    String(&'a str),
    Integer(i128),
    /// The bits of the value, so that equal floats compare equal.
    Float(u64),
    Boolean(bool),
    Undef,
    Default,
    Regex(&'a str),
    List(Vec<Literal<'a>>),
    Hash(Vec<(Literal<'a>, Literal<'a>)>),
}

fn literal(expr: &Expr) -> Option<Literal<'_>> {
    Some(match &expr.kind {
        ExprKind::String(s) | ExprKind::QualifiedName(s) => Literal::String(s),
        ExprKind::Integer { value, .. } => Literal::Integer(*value),
        ExprKind::Float(value) => Literal::Float((value + 0.0).to_bits()),
        ExprKind::Boolean(value) => Literal::Boolean(*value),
        ExprKind::Undef => Literal::Undef,
        ExprKind::Default => Literal::Default,
        ExprKind::Regex(source) => Literal::Regex(source),
        ExprKind::Concat(segments) => match segments.as_slice() {
            [Expr {
                kind: ExprKind::String(s),
                ..
            }] => Literal::String(s),
            _ => return None,
        },
        ExprKind::Array(values) => {
            Literal::List(values.iter().map(literal).collect::<Option<_>>()?)
        }
        ExprKind::Hash(entries) => Literal::Hash(
            entries
                .iter()
                .map(|e| Some((literal(&e.key)?, literal(&e.value)?)))
                .collect::<Option<_>>()?,
        ),
        _ => return None,
    })
}

/// How Ruby prints the key in Puppet's message.
impl std::fmt::Display for Literal<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Literal::String(s) => f.write_str(s),
            // Ruby's Regexp#to_s
            Literal::Regex(s) => write!(f, "(?-mix:{s})"),
            Literal::Integer(v) => write!(f, "{v}"),
            Literal::Float(bits) => write!(f, "{:?}", f64::from_bits(*bits)),
            Literal::Boolean(v) => write!(f, "{v}"),
            Literal::Undef => Ok(()),
            Literal::Default => f.write_str("default"),
            Literal::List(values) => {
                f.write_str("[")?;
                for (i, v) in values.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str("]")
            }
            Literal::Hash(_) => f.write_str("{...}"),
        }
    }
}
