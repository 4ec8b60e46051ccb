//! The containment tree, for whatever walks the AST (the validator, legacy
//! findings, the analyzer): every node of Puppet's model, including the
//! parts that are not expressions
//! (hash entries, resource bodies, parameters...), in the order of Puppet's
//! `_pcore_contents` (which matters where Puppet stops at the first failing
//! heredoc).

use crate::ast::{
    AttributeOp, CaseOption, Expr, ExprKind, KeyedEntry, Parameter, Query, ResourceBody,
    SelectorEntry,
};

#[derive(Clone, Copy)]
pub enum Node<'a> {
    Expr(&'a Expr),
    KeyedEntry(&'a KeyedEntry),
    SelectorEntry(&'a SelectorEntry),
    CaseOption(&'a CaseOption),
    ResourceBody(&'a ResourceBody),
    AttributeOp(&'a AttributeOp),
    Parameter(&'a Parameter),
    Query(&'a Query),
}

/// Calls `f` on each node `node` directly contains.
pub fn for_each_child<'a>(node: Node<'a>, f: &mut dyn FnMut(Node<'a>)) {
    match node {
        Node::Expr(expr) => expr_children(expr, f),
        Node::KeyedEntry(entry) => {
            f(Node::Expr(&entry.key));
            f(Node::Expr(&entry.value));
        }
        Node::SelectorEntry(entry) => {
            f(Node::Expr(&entry.matching));
            f(Node::Expr(&entry.value));
        }
        Node::CaseOption(option) => {
            option.values.iter().for_each(|v| f(Node::Expr(v)));
            option.body.iter().for_each(|b| f(Node::Expr(b)));
        }
        Node::ResourceBody(body) => {
            f(Node::Expr(&body.title));
            body.ops.iter().for_each(|op| f(Node::AttributeOp(op)));
        }
        Node::AttributeOp(AttributeOp::Set { value, .. } | AttributeOp::Splat { value, .. }) => {
            f(Node::Expr(value))
        }
        Node::Parameter(param) => {
            param.value.iter().for_each(|v| f(Node::Expr(v)));
            param.type_expr.iter().for_each(|t| f(Node::Expr(t)));
        }
        Node::Query(query) => query.expr.iter().for_each(|e| f(Node::Expr(e))),
    }
}

fn expr_children<'a>(expr: &'a Expr, f: &mut dyn FnMut(Node<'a>)) {
    let each = |exprs: &'a [Expr], f: &mut dyn FnMut(Node<'a>)| {
        exprs.iter().for_each(|e| f(Node::Expr(e)))
    };
    let params = |params: &'a [Parameter], f: &mut dyn FnMut(Node<'a>)| {
        params.iter().for_each(|p| f(Node::Parameter(p)))
    };
    let ops = |ops: &'a [AttributeOp], f: &mut dyn FnMut(Node<'a>)| {
        ops.iter().for_each(|op| f(Node::AttributeOp(op)))
    };
    let opt = |expr: &'a Option<Expr>, f: &mut dyn FnMut(Node<'a>)| {
        expr.iter().for_each(|e| f(Node::Expr(e)))
    };
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
        | ExprKind::Variable(_)
        | ExprKind::Reserved(_)
        | ExprKind::RenderString(_)
        | ExprKind::TypeDefinition { body: None, .. } => {}
        ExprKind::TypeDefinition { body: Some(e), .. }
        | ExprKind::Text(e)
        | ExprKind::VariableOf(e)
        | ExprKind::Heredoc { text: e, .. }
        | ExprKind::Unary { expr: e, .. }
        | ExprKind::Paren(e)
        | ExprKind::RenderExpr(e)
        | ExprKind::TypeAlias { type_expr: e, .. } => f(Node::Expr(e)),
        ExprKind::Concat(exprs) | ExprKind::Array(exprs) | ExprKind::Block(exprs) => each(exprs, f),
        ExprKind::Hash(entries) => entries.iter().for_each(|e| f(Node::KeyedEntry(e))),
        ExprKind::Access { left, keys } => {
            f(Node::Expr(left));
            each(keys, f);
        }
        ExprKind::NamedAccess { left, right }
        | ExprKind::Binary { left, right, .. }
        | ExprKind::TypeMapping {
            type_expr: left,
            mapping: right,
        } => {
            f(Node::Expr(left));
            f(Node::Expr(right));
        }
        ExprKind::Selector { left, entries } => {
            f(Node::Expr(left));
            entries.iter().for_each(|e| f(Node::SelectorEntry(e)));
        }
        ExprKind::Call(call) => {
            f(Node::Expr(&call.functor));
            each(&call.args, f);
            opt(&call.lambda, f);
        }
        ExprKind::If(c) | ExprKind::Unless(c) => {
            f(Node::Expr(&c.test));
            opt(&c.then_branch, f);
            opt(&c.else_branch, f);
        }
        ExprKind::Case { test, options } => {
            f(Node::Expr(test));
            options.iter().for_each(|o| f(Node::CaseOption(o)));
        }
        ExprKind::Lambda(lambda) => {
            params(&lambda.params, f);
            opt(&lambda.body, f);
            opt(&lambda.return_type, f);
        }
        ExprKind::Resource {
            type_name, bodies, ..
        } => {
            f(Node::Expr(type_name));
            bodies.iter().for_each(|b| f(Node::ResourceBody(b)));
        }
        ExprKind::ResourceDefaults {
            type_ref: target,
            ops: attributes,
            ..
        }
        | ExprKind::ResourceOverride {
            resources: target,
            ops: attributes,
            ..
        } => {
            f(Node::Expr(target));
            ops(attributes, f);
        }
        ExprKind::Collect {
            type_expr,
            query,
            ops: attributes,
        } => {
            f(Node::Expr(type_expr));
            f(Node::Query(query));
            ops(attributes, f);
        }
        ExprKind::Class(def) | ExprKind::Define(def) | ExprKind::Function(def) => {
            params(&def.params, f);
            opt(&def.body, f);
            opt(&def.return_type, f);
        }
        ExprKind::Node(node) => {
            opt(&node.parent, f);
            each(&node.matches, f);
            opt(&node.body, f);
        }
        ExprKind::Epp(epp) => {
            if let Some(list) = &epp.params {
                params(list, f);
            }
            opt(&epp.body, f);
        }
    }
}
