//! Where Puppet locates a node: the start of the *semantic object* an issue is
//! raised on, which is not always where granule's span starts.
//!
//! Puppet's grammar (`egrammar.ra`) places a binary expression (`=`, `+`,
//! `->`, `==`, ...) at its operator, a method call at its `(` (or at its
//! `.` when it has no arguments), an access, a
//! call, a selector or a collector where its left part is, a hash or
//! selector entry at its `=>`, a
//! parameter at its `$variable` (after any type), and a type alias at the type
//! name after `type`. granule's spans cover the whole construct, so these
//! positions are found by skipping white space and comments from the end of
//! the part that precedes them.

use crate::ast::{CallKind, Expr, ExprKind, Parameter};

/// The byte offset Puppet reports for `expr`.
pub(super) fn expr_offset(expr: &Expr, source: &str) -> u32 {
    let mut expr = expr;
    loop {
        expr = match &expr.kind {
            ExprKind::Binary { left, .. } | ExprKind::NamedAccess { left, .. } => {
                return after_trivia(source, left.span.end)
            }
            ExprKind::TypeAlias { .. } | ExprKind::TypeMapping { .. } => {
                return after_trivia(source, expr.span.start + "type".len() as u32)
            }
            // A method call with arguments is located at its `(`.
            ExprKind::Call(call) if call.kind == CallKind::Method => {
                let paren = after_trivia(source, call.functor.span.end);
                if source.as_bytes().get(paren as usize) == Some(&b'(') {
                    return paren;
                }
                &call.functor
            }
            // Located where their leftmost part is (`loc result, val[0]`):
            // `$x.foo[0]` at the `.` of its method call.
            ExprKind::Access { left, .. } | ExprKind::Selector { left, .. } => left,
            ExprKind::Call(call) => &call.functor,
            ExprKind::Collect { type_expr, .. } => type_expr,
            _ => return expr.span.start,
        };
    }
}

/// The offset of the `=>` of a hash or selector entry whose left side is `key`.
pub(super) fn arrow_offset(key: &Expr, source: &str) -> u32 {
    after_trivia(source, key.span.end)
}

/// The offset of a parameter's `$name`: after its type and a `*`, if any.
pub(super) fn parameter_offset(param: &Parameter, source: &str) -> u32 {
    let mut at = param
        .type_expr
        .as_ref()
        .map_or(param.span.start, |t| after_trivia(source, t.span.end));
    if source.as_bytes().get(at as usize) == Some(&b'*') {
        at = after_trivia(source, at + 1);
    }
    at
}

/// The first offset at or after `from` that is neither white space nor part
/// of a comment (`# ...` or `/* ... */`).
fn after_trivia(source: &str, from: u32) -> u32 {
    let bytes = source.as_bytes();
    let mut at = from as usize;
    while at < bytes.len() {
        match bytes[at] {
            b' ' | b'\t' | b'\r' | b'\n' => at += 1,
            b'#' => {
                at = bytes[at..]
                    .iter()
                    .position(|&b| b == b'\n')
                    .map_or(bytes.len(), |n| at + n);
            }
            b'/' if bytes.get(at + 1) == Some(&b'*') => {
                at = source[at + 2..]
                    .find("*/")
                    .map_or(bytes.len(), |n| at + 2 + n + 2);
            }
            _ => break,
        }
    }
    at as u32
}
