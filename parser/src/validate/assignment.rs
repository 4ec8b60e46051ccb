//! Assignment: what may stand left of `=`, the Puppet 3 operators `+=` and
//! `-=`, and where an assignment may not appear at all (parameter defaults).

use super::labels::a_an;
use super::{locate, names, Checker};
use crate::ast::{BinaryOp, Expr, ExprKind};
use crate::visit::{for_each_child, Node};

impl Checker<'_> {
    /// Binary operators: assignment targets, relationship sides, and values
    /// on both sides of everything else.
    pub(super) fn check_binary(&mut self, expr: &Expr, op: BinaryOp, left: &Expr, right: &Expr) {
        match op {
            BinaryOp::Assign => {
                self.assign(left);
                self.rvalue(right);
            }
            BinaryOp::AddAssign | BinaryOp::SubAssign => self.error(
                expr,
                "APPENDS_DELETES_NO_LONGER_SUPPORTED",
                format!(
                    "The operator '{}' is no longer supported. See http://links.puppet.com/remove-plus-equals",
                    op.as_str()
                ),
            ),
            _ if op.is_relationship() => {
                self.relation(left);
                self.relation(right);
            }
            _ => {
                self.rvalue(left);
                self.rvalue(right);
            }
        }
    }

    /// Only a variable of the local scope (or an array of them) can be
    /// assigned: not `$0`, not `$other::x`, not `$h[k]`.
    fn assign(&mut self, target: &Expr) {
        match &target.kind {
            ExprKind::Variable(name) => {
                if names::is_numeric_var_name(name) {
                    self.error(
                        target,
                        "ILLEGAL_NUMERIC_ASSIGNMENT",
                        format!(
                            "Illegal attempt to assign to the numeric match result variable '${name}'. \
                             Numeric variables are not assignable"
                        ),
                    );
                }
                if name.contains("::") {
                    self.error(
                        target,
                        "CROSS_SCOPE_ASSIGNMENT",
                        format!(
                            "Illegal attempt to assign to '{name}'. Cannot assign to variables in other namespaces"
                        ),
                    );
                }
            }
            // `${1}`: Puppet finds no name to check.
            ExprKind::VariableOf(_) => {}
            ExprKind::Access { .. } => self.error(
                target,
                "ILLEGAL_INDEXED_ASSIGNMENT",
                "Illegal attempt to assign via [index/key]. Not an assignable reference".into(),
            ),
            ExprKind::Array(targets) => targets.iter().for_each(|t| self.assign(t)),
            _ => self.error(
                target,
                "ILLEGAL_ASSIGNMENT",
                format!(
                    "Illegal attempt to assign to '{}'. Not an assignable reference",
                    a_an(target)
                ),
            ),
        }
    }

    /// A parameter's default value may not assign, except inside a lambda
    /// (which has a scope of its own).
    pub(super) fn check_no_assignment(&mut self, node: Node) {
        if let Node::Expr(expr) = node {
            match &expr.kind {
                ExprKind::Binary {
                    op: BinaryOp::Assign | BinaryOp::AddAssign | BinaryOp::SubAssign,
                    ..
                } => {
                    let at = locate::expr_offset(expr, self.source);
                    self.report_at(
                        at,
                        expr.span.end,
                        "ILLEGAL_ASSIGNMENT_CONTEXT",
                        "Assignment not allowed here".into(),
                    );
                    return;
                }
                ExprKind::Lambda(_) => return,
                _ => {}
            }
        }
        for_each_child(node, &mut |child| self.check_no_assignment(child));
    }
}
