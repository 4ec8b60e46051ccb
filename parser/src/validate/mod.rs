//! Puppet 7's validation rules: a port of `Checker4_0`, the checker behind
//! `puppet parser validate`, reporting Puppet's issue codes at the line and
//! column Puppet reports them.
//!
//! One pass over the tree ([`crate::visit`]) checks each node in the context of its
//! containers, as Puppet does. The rules live by concern:
//! [`assignment`] (what may be assigned, and where), [`definitions`] (classes,
//! defines, functions, nodes, types, parameters and where they may appear),
//! [`resources`] (resource expressions, attribute operations, collectors),
//! [`values`] (expressions that produce no value, queries, literals, names),
//! [`idem`] (value-producing statements that have no effect) and [`heredoc`]
//! (the text of `@(END:json)` and other checked syntaxes).
//!
//! Two of Puppet's checks are not ported because they depend on where a file
//! sits in a module path rather than on its text (`ILLEGAL_DEFINITION_LOCATION`,
//! `ILLEGAL_TOP_CONSTRUCT_LOCATION`); `puppet parser validate` does not raise
//! them either, as it treats each file as the initial manifest.

mod assignment;
mod definitions;
mod heredoc;
mod idem;
mod labels;
mod locate;
mod names;
mod resources;
mod values;

use crate::ast::{Expr, ExprKind, Program};
use crate::diagnostics::{Diagnostic, Severity};
use crate::span::Span;
use crate::visit::{for_each_child, Node};

/// Every Puppet 7 validation issue in `program` (parsed from `source`), in the
/// order Puppet's checker finds them.
pub fn validate(program: &Program, source: &str) -> Vec<Diagnostic> {
    let shallow = Checker::run(program, source, SHALLOW_DEPTH);
    if !shallow.too_deep {
        return shallow.diagnostics;
    }
    // A long chain (`1 + 1 + ... + 1`) nests deeper than the caller's stack
    // may hold: check it again on a thread with a stack of its own.
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("granule-deep-validate".into())
            .stack_size(DEEP_STACK_BYTES)
            .spawn_scoped(scope, || {
                Checker::run(program, source, usize::MAX).diagnostics
            })
            .ok()
            .and_then(|handle| handle.join().ok())
            .unwrap_or(shallow.diagnostics)
    })
}

/// Nesting checked on the caller's thread.
const SHALLOW_DEPTH: usize = 200;

/// Stack of the thread that checks deeper trees.
const DEEP_STACK_BYTES: usize = 256 << 20;

/// What contains the node being checked, as far as the rules care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Container {
    Program,
    Block,
    Class,
    Lambda,
    Collect,
    ResourceOverride,
    ResourceBody,
    Other,
}

impl Container {
    fn of(node: Node) -> Container {
        match node {
            Node::Expr(expr) => match &expr.kind {
                ExprKind::Block(_) => Container::Block,
                ExprKind::Class(_) => Container::Class,
                ExprKind::Lambda(_) => Container::Lambda,
                ExprKind::Collect { .. } => Container::Collect,
                ExprKind::ResourceOverride { .. } => Container::ResourceOverride,
                _ => Container::Other,
            },
            Node::ResourceBody(_) => Container::ResourceBody,
            _ => Container::Other,
        }
    }
}

struct Checker<'a> {
    source: &'a str,
    diagnostics: Vec<Diagnostic>,
    /// The containers of the node being checked, outermost first.
    path: Vec<Container>,
    depth_limit: usize,
    too_deep: bool,
    /// Set where Puppet raises instead of reporting (a heredoc whose text
    /// fails its syntax): Puppet checks nothing after it.
    stopped: bool,
}

impl<'a> Checker<'a> {
    fn run(program: &'a Program, source: &'a str, depth_limit: usize) -> Checker<'a> {
        let mut checker = Checker {
            source,
            diagnostics: Vec::new(),
            path: vec![Container::Program],
            depth_limit,
            too_deep: false,
            stopped: false,
        };
        checker.visit(Node::Expr(&program.body));
        checker
    }

    fn visit(&mut self, node: Node<'a>) {
        if self.stopped {
            return;
        }
        if self.path.len() > self.depth_limit {
            self.too_deep = true;
            return;
        }
        self.check(node);
        self.path.push(Container::of(node));
        for_each_child(node, &mut |child| self.visit(child));
        self.path.pop();
    }

    /// The node's own rules (Checker4_0's `check_*`).
    fn check(&mut self, node: Node<'a>) {
        match node {
            Node::Expr(expr) => self.check_expr(expr),
            Node::KeyedEntry(entry) => {
                self.rvalue(&entry.key);
                self.rvalue(&entry.value);
            }
            Node::SelectorEntry(entry) => self.rvalue(&entry.matching),
            Node::CaseOption(option) => option.values.iter().for_each(|v| self.rvalue(v)),
            Node::ResourceBody(body) => self.check_resource_body(body),
            Node::AttributeOp(op) => self.check_attribute_op(op),
            Node::Parameter(param) => self.check_parameter(param),
            Node::Query(query) => {
                if let Some(expr) = &query.expr {
                    self.query(expr);
                }
            }
        }
    }

    fn check_expr(&mut self, expr: &'a Expr) {
        match &expr.kind {
            ExprKind::Binary { op, left, right } => self.check_binary(expr, *op, left, right),
            ExprKind::Access { keys, .. } if keys.is_empty() => {
                self.error(expr, "MISSING_INDEX", "Missing index".into())
            }
            ExprKind::Block(statements) => self.check_block(expr, statements),
            ExprKind::Call(call) => self.check_call(expr, call),
            ExprKind::NamedAccess { right, .. } => self.check_named_access(expr, right),
            ExprKind::Case { test, options } => self.check_case(test, options),
            ExprKind::Selector { left, entries } => self.check_selector(expr, left, entries),
            ExprKind::If(c) | ExprKind::Unless(c) => self.rvalue(&c.test),
            ExprKind::Unary { expr: inner, .. }
            | ExprKind::Paren(inner)
            | ExprKind::Text(inner)
            | ExprKind::RenderExpr(inner) => self.rvalue(inner),
            ExprKind::Array(values) => values.iter().for_each(|v| self.rvalue(v)),
            ExprKind::Hash(entries) => self.check_duplicate_keys(expr, entries),
            ExprKind::Integer { value, .. } => self.check_integer(expr, *value),
            ExprKind::QualifiedReference(name) => self.check_class_ref(expr, name),
            ExprKind::Reserved(word) => self.error(
                expr,
                "RESERVED_WORD",
                format!(
                    "Use of reserved word: {word}, must be quoted if intended to be a String value"
                ),
            ),
            ExprKind::Variable(name) => self.check_variable_name(expr, name),
            ExprKind::VariableOf(inner) => self.check_variable_expr(expr, inner),
            ExprKind::Class(def) | ExprKind::Define(def) => self.check_class_or_define(expr, def),
            ExprKind::Function(def) => self.check_function(expr, def),
            ExprKind::Node(node) => self.check_node(expr, node),
            ExprKind::TypeAlias { name, type_expr } => self.check_type_alias(expr, name, type_expr),
            ExprKind::TypeMapping { type_expr, mapping } => {
                self.check_type_mapping(expr, type_expr, mapping)
            }
            ExprKind::TypeDefinition { name, .. } => self.check_type_definition(expr, name),
            ExprKind::Lambda(lambda) => self.check_lambda(expr, lambda),
            ExprKind::Epp(epp) => self.check_epp(epp),
            ExprKind::Resource {
                type_name, form, ..
            } => self.check_resource(expr, type_name, *form),
            ExprKind::ResourceDefaults { form, .. } | ExprKind::ResourceOverride { form, .. } => {
                self.check_defaults_or_override(expr, *form)
            }
            ExprKind::Collect { type_expr, .. } => self.check_collect(expr, type_expr),
            ExprKind::Heredoc { syntax, text, .. } => self.check_heredoc(syntax, text),
            _ => {}
        }
    }

    /// Reports an issue on `expr`, located where Puppet locates it.
    fn error(&mut self, expr: &Expr, code: &'static str, message: String) {
        let at = locate::expr_offset(expr, self.source);
        self.report_at(at, expr.span.end, code, message);
    }

    /// Reports an issue at byte `start` (the caret runs to `end`).
    fn report_at(&mut self, start: u32, end: u32, code: &'static str, message: String) {
        let span = Span {
            start,
            end: end.max(start),
        };
        self.diagnostics
            .push(Diagnostic::new(severity(code), code, message, span));
    }
}

/// Puppet 7's default grading (`ValidatorFactory_4_0#severity_producer` with
/// `strict=warning`): everything is an error except these.
fn severity(code: &str) -> Severity {
    match code {
        // `:deprecation` in Puppet, printed as a warning.
        "FUTURE_RESERVED_WORD" | "DUPLICATE_KEY" => Severity::Warning,
        _ => Severity::Error,
    }
}

#[cfg(test)]
mod tests;
