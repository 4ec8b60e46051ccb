//! "Has no effect": Puppet's `idem` analysis. An expression is idem when
//! evaluating it is known to change nothing, so a value it produces and
//! nobody uses is a mistake (often a resource or call with the wrong shape).

use super::labels::{a_an_uc, label};
use super::Checker;
use crate::ast::{BinaryOp, Expr, ExprKind};

/// Checker4_0's `idem_*`: true when `expr` is known to have no side effect.
pub(super) fn is_idem(expr: &Expr) -> bool {
    match &expr.kind {
        ExprKind::Nop
        | ExprKind::Undef
        | ExprKind::Default
        | ExprKind::Boolean(_)
        | ExprKind::Integer { .. }
        | ExprKind::Float(_)
        | ExprKind::String(_)
        | ExprKind::Regex(_)
        | ExprKind::QualifiedName(_)
        | ExprKind::QualifiedReference(_)
        | ExprKind::Reserved(_)
        | ExprKind::Array(_)
        | ExprKind::Hash(_)
        | ExprKind::Access { .. }
        | ExprKind::NamedAccess { .. }
        | ExprKind::Unary { .. }
        | ExprKind::Variable(_)
        | ExprKind::VariableOf(_)
        | ExprKind::Text(_)
        // Interpolation and selector options may have effects, but
        // evaluating them only for those is bad design: Puppet says idem.
        | ExprKind::Concat(_)
        | ExprKind::Heredoc { .. }
        | ExprKind::Selector { .. } => true,
        // A match sets $0..$n; relationships and assignments are effects.
        ExprKind::Binary { op, .. } => !matches!(
            op,
            BinaryOp::Match
                | BinaryOp::NotMatch
                | BinaryOp::Assign
                | BinaryOp::AddAssign
                | BinaryOp::SubAssign
                | BinaryOp::Before
                | BinaryOp::Notify
                | BinaryOp::Require
                | BinaryOp::Subscribe
        ),
        ExprKind::Paren(inner) => is_idem(inner),
        ExprKind::Block(statements) => statements.iter().all(is_idem),
        ExprKind::If(c) | ExprKind::Unless(c) => {
            is_idem(&c.test) && is_idem_opt(&c.then_branch) && is_idem_opt(&c.else_branch)
        }
        ExprKind::Case { test, options } => {
            is_idem(test)
                && options
                    .iter()
                    .all(|o| o.values.iter().all(is_idem) && is_idem_opt(&o.body))
        }
        _ => false,
    }
}

/// An absent part (Ruby `nil`) is idem.
fn is_idem_opt(expr: &Option<Expr>) -> bool {
    expr.as_ref().is_none_or(is_idem)
}

/// Checker4_0's `ends_with_idem`: the last statement of a body (or the body
/// itself) when it is idem; `None` for an absent or empty body.
pub(super) fn ends_with_idem(body: Option<&Expr>) -> Option<&Expr> {
    let last = match &body?.kind {
        ExprKind::Block(statements) => statements.last()?,
        _ => body?,
    };
    is_idem(last).then_some(last)
}

/// `foo { a => 1 }` where `foo` is no resource type: Puppet reads a name
/// followed by a hash, a block of exactly those two statements.
pub(super) fn is_resource_without_title(expr: &Expr) -> bool {
    matches!(&expr.kind, ExprKind::Block(s)
        if s.len() == 2
            && matches!(s[0].kind, ExprKind::QualifiedName(_))
            && matches!(s[1].kind, ExprKind::Hash(_)))
}

impl Checker<'_> {
    /// In a block, the first value-producing statement that is not last has
    /// no effect; a name followed by a hash is an untitled resource.
    pub(super) fn check_block(&mut self, block: &Expr, statements: &[Expr]) {
        if is_resource_without_title(block) {
            let name = match &statements[0].kind {
                ExprKind::QualifiedName(name) => name.as_str(),
                _ => "",
            };
            self.error(
                block,
                "RESOURCE_WITHOUT_TITLE",
                format!(
                    "This expression is invalid. Did you try declaring a '{name}' resource without a title?"
                ),
            );
            return;
        }
        let Some((_, init)) = statements.split_last() else {
            return;
        };
        if let Some(statement) = init.iter().find(|s| is_idem(s)) {
            self.error(
                statement,
                "IDEM_EXPRESSION_NOT_LAST",
                format!(
                    "This {} has no effect. A value was produced and then forgotten (one or more \
                     preceding expressions may have the wrong form)",
                    label(statement)
                ),
            );
        }
    }

    /// A class, define or node body may not end with a value it throws away.
    pub(super) fn check_no_idem_last(&mut self, definition: &Expr, body: Option<&Expr>) {
        let Some(violator) = ends_with_idem(body) else {
            return;
        };
        if is_resource_without_title(violator) {
            return;
        }
        self.error(
            violator,
            "IDEM_NOT_ALLOWED_LAST",
            format!(
                "This {} has no effect. {} can not end with a value-producing expression without \
                 other effect",
                label(violator),
                a_an_uc(definition)
            ),
        );
    }
}
