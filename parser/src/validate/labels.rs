//! How Puppet names an expression in its messages (`ModelLabelProvider`).

use crate::ast::{BinaryOp, CallKind, Expr, ExprKind, UnaryOp};

pub(super) fn label(expr: &Expr) -> String {
    let text = match &expr.kind {
        ExprKind::Binary { op, .. } if *op == BinaryOp::And => "'and' expression",
        ExprKind::Binary { op, .. } if *op == BinaryOp::Or => "'or' expression",
        ExprKind::Binary { op, .. } if *op == BinaryOp::In => "'in' expression",
        ExprKind::Binary { op, .. } => return format!("'{}' expression", op.as_str()),
        ExprKind::Integer { .. } => "Literal Integer",
        ExprKind::Float(_) => "Literal Float",
        ExprKind::Access { .. } => "'[]' expression",
        ExprKind::Collect { query, .. } if query.exported => "Exported Query",
        ExprKind::Collect { .. } => "Virtual Query",
        ExprKind::Array(_) => "Array Expression",
        ExprKind::Hash(_) => "Hash Expression",
        ExprKind::Boolean(_) => "Boolean",
        ExprKind::String(_) => "String",
        ExprKind::Lambda(_) => "Lambda",
        ExprKind::Default => "'default' expression",
        ExprKind::Undef => "'undef' expression",
        ExprKind::Regex(_) => "Regular Expression",
        ExprKind::Nop => "Nop Expression",
        ExprKind::NamedAccess { .. } => "'.' expression",
        ExprKind::Unary {
            op: UnaryOp::Not, ..
        } => "'not' expression",
        ExprKind::Unary {
            op: UnaryOp::Minus, ..
        } => "Unary Minus",
        ExprKind::Unary {
            op: UnaryOp::Unfold,
            ..
        } => "Unfold",
        ExprKind::Variable(_) | ExprKind::VariableOf(_) => "Variable",
        ExprKind::Text(_) => "Expression in Interpolated String",
        ExprKind::Block(_) => "Block Expression",
        ExprKind::Concat(_) => "Double Quoted String",
        ExprKind::Heredoc { syntax, .. } => return format!("'@({syntax})' expression"),
        ExprKind::Class(_) => "Host Class Definition",
        ExprKind::Function(_) => "Function Definition",
        ExprKind::Node(_) => "Node Definition",
        ExprKind::Define(_) => "'define' expression",
        ExprKind::ResourceOverride { .. } => "Resource Override",
        ExprKind::Paren(_) => "Parenthesized Expression",
        ExprKind::If(_) => "'if' statement",
        ExprKind::Unless(_) => "'unless' Statement",
        ExprKind::Call(call) if call.kind == CallKind::Method => "Method call",
        ExprKind::Call(_) => "Function Call",
        ExprKind::Case { .. } => "'case' statement",
        ExprKind::RenderString(_) => "Epp Text",
        ExprKind::RenderExpr(_) => "Epp Interpolated Expression",
        ExprKind::ResourceDefaults { .. } => "Resource Defaults Expression",
        ExprKind::Resource { .. } => "Resource Statement",
        ExprKind::Selector { .. } => "Selector Expression",
        ExprKind::QualifiedName(_) => "Name",
        ExprKind::QualifiedReference(_) => "Type-Name",
        ExprKind::Reserved(word) => return format!("Reserved Word '{word}'"),
        ExprKind::TypeAlias { .. } => "Type Alias",
        ExprKind::TypeMapping { .. } => "Type Mapping",
        ExprKind::TypeDefinition { .. } => "Type Definition",
        ExprKind::Epp(_) => "Epp Template",
    };
    text.to_string()
}

/// "a Variable", "an 'if' statement" (Puppet's `a_an`).
pub(super) fn a_an(expr: &Expr) -> String {
    let label = label(expr);
    let first = label.trim_start_matches('\'').chars().next().unwrap_or('x');
    let article = if "aeiouAEIOU".contains(first) {
        "an"
    } else {
        "a"
    };
    format!("{article} {label}")
}

/// "A Variable" (Puppet's `a_an_uc`).
pub(super) fn a_an_uc(expr: &Expr) -> String {
    let text = a_an(expr);
    let mut chars = text.chars();
    chars.next().map_or(text.clone(), |c| {
        c.to_uppercase().collect::<String>() + chars.as_str()
    })
}
