//! Resource expressions, defaults, overrides and collectors, and their
//! attribute operations (`=>`, `+>`, `* =>`).

use super::{Checker, Container};
use crate::ast::{AttributeOp, Expr, ExprKind, ResourceBody, ResourceForm};

impl Checker<'_> {
    /// `@class { ... }` and `@@class { ... }`: classes cannot be virtual.
    pub(super) fn check_resource(&mut self, expr: &Expr, type_name: &Expr, form: ResourceForm) {
        if form != ResourceForm::Regular
            && matches!(&type_name.kind, ExprKind::QualifiedName(n) if n == "class")
        {
            self.error(
                expr,
                "CLASS_NOT_VIRTUALIZABLE",
                "Classes are not virtualizable".into(),
            );
        }
    }

    pub(super) fn check_defaults_or_override(&mut self, expr: &Expr, form: ResourceForm) {
        if form != ResourceForm::Regular {
            self.error(
                expr,
                "NOT_VIRTUALIZEABLE",
                "Resource Defaults are not virtualizable".into(),
            );
        }
    }

    /// `* => $hash` at most once per resource body.
    pub(super) fn check_resource_body(&mut self, body: &ResourceBody) {
        let mut splats = body
            .ops
            .iter()
            .filter(|op| matches!(op, AttributeOp::Splat { .. }));
        splats.next();
        for op in splats {
            let span = op.span();
            self.report_at(
                span.start,
                span.end,
                "MULTIPLE_ATTRIBUTES_UNFOLD",
                "Unfolding of attributes from Hash can only be used once per resource body".into(),
            );
        }
    }

    /// `+>` only amends resources (in an override or a collector); every
    /// attribute value must be a value.
    pub(super) fn check_attribute_op(&mut self, op: &AttributeOp) {
        match op {
            AttributeOp::Set {
                name,
                append,
                value,
                span,
            } => {
                let container = self.path.last().copied();
                if *append
                    && !matches!(
                        container,
                        Some(Container::Collect | Container::ResourceOverride)
                    )
                {
                    let what = if container == Some(Container::ResourceBody) {
                        "a Resource Instance Definition"
                    } else {
                        "a Resource Defaults Expression"
                    };
                    self.report_at(
                        span.start,
                        span.end,
                        "ILLEGAL_ATTRIBUTE_APPEND",
                        format!(
                            "Illegal +> operation on attribute {name}. This operator can not be used in {what}"
                        ),
                    );
                }
                self.rvalue(value);
            }
            AttributeOp::Splat { value, .. } => self.rvalue(value),
        }
    }

    /// `Type <| |>`: the type must be a type name.
    pub(super) fn check_collect(&mut self, expr: &Expr, type_expr: &Expr) {
        if !matches!(type_expr.kind, ExprKind::QualifiedReference(_)) {
            self.illegal_expression(type_expr, "type name", expr);
        }
    }
}
