//! Puppet 3 constructs: what stands between old code and Puppet 7.
//!
//! Each finding is a warning with a code `legacy/...` that says what the
//! construct meant in Puppet 3, what Puppet 7 does with it, and the fix.
//! Three kinds of them:
//!
//! * token and grammar forms Puppet 7 reads otherwise or rejects; the lexer
//!   and parser read them with their Puppet 3 meaning when asked to
//!   ([`crate::ParseOptions::legacy`]) and report them there;
//! * constructs Puppet 7's validator rejects with an issue code: the same
//!   tree, reported by [`from_validation`] under a legacy code naming Puppet's;
//! * constructs Puppet 7 parses and validates but fails on when it compiles
//!   the catalog (reassignment, `import`), or that Puppet 3 code used and
//!   Puppet 4+ style does not (camelCase variables, empty `if`): found by
//!   [`construct_findings`].

use crate::ast::{BinaryOp, CallKind, Expr, ExprKind, Program};
use crate::diagnostics::{Diagnostic, Severity};
use crate::span::Span;
use crate::visit::{for_each_child, Node};
use std::collections::HashSet;

pub const REFERENCE_WITH_SPACE: &str = "legacy/reference-with-space";
pub const KEYWORD_AS_NAME: &str = "legacy/keyword-as-name";
pub const RESERVED_WORD_AS_NAME: &str = "legacy/reserved-word-as-name";
pub const VARIABLE_WITH_DASH: &str = "legacy/variable-with-dash";
pub const NODE_INHERITANCE: &str = "legacy/node-inheritance";
pub const IMPORT: &str = "legacy/import";
pub const NAME_WITH_DASH: &str = "legacy/name-with-dash";
pub const CAMEL_CASE_VARIABLE: &str = "legacy/camel-case-variable";
pub const INDEXED_ASSIGNMENT: &str = "legacy/indexed-assignment";
pub const REASSIGNMENT: &str = "legacy/reassignment";
pub const DUPLICATE_PARAMETER: &str = "legacy/duplicate-parameter";
pub const NO_EFFECT: &str = "legacy/statement-without-effect";
pub const EMPTY_IF: &str = "legacy/empty-if";

/// Legacy codes that Puppet 7 fails on even though its validator accepts
/// the file: `--strict` treats them as errors.
pub const FAILS_IN_PUPPET_7: [&str; 2] = [IMPORT, REASSIGNMENT];

pub(crate) fn finding(code: &str, message: String, span: Span) -> Diagnostic {
    Diagnostic::new(Severity::Warning, code, message, span)
}

/// What granule reports about a file read in legacy mode (`granule parse`
/// without `--strict`, the lint rule `granule/puppet7-incompatible`): the
/// Puppet 3 constructs the parser met (`from_parse`) and those of the tree,
/// then Puppet 7's validation issues, as legacy findings where Puppet 3
/// accepted the construct and as warnings otherwise; in source order.
pub fn legacy_mode_findings(
    from_parse: Vec<Diagnostic>,
    program: &Program,
    source: &str,
) -> Vec<Diagnostic> {
    legacy_mode_findings_validated(from_parse, program, crate::validate(program, source))
}

/// [`legacy_mode_findings`] given `validation`, what Puppet 7's validator
/// ([`crate::validate`]) finds in `program`: for a caller that needs it
/// too, once.
pub fn legacy_mode_findings_validated(
    from_parse: Vec<Diagnostic>,
    program: &Program,
    validation: Vec<Diagnostic>,
) -> Vec<Diagnostic> {
    let mut findings = from_parse;
    findings.extend(construct_findings(program));
    let validation = without_spans_of(validation, &findings);
    findings.extend(validation.into_iter().map(|issue| {
        from_validation(&issue).unwrap_or(Diagnostic {
            severity: Severity::Warning,
            ..issue
        })
    }));
    findings.sort_by_key(|finding| finding.span.start);
    findings
}

/// `diagnostics` but those on a span one of `reported` is on: a construct
/// reported once is not reported again by another pass.
pub fn without_spans_of(diagnostics: Vec<Diagnostic>, reported: &[Diagnostic]) -> Vec<Diagnostic> {
    let seen: HashSet<Span> = reported.iter().map(|seen| seen.span).collect();
    diagnostics
        .into_iter()
        .filter(|diagnostic| !seen.contains(&diagnostic.span))
        .collect()
}

/// The legacy constructs in a tree that Puppet 7's validator lets pass
/// (see [`from_validation`] for those it reports).
pub fn construct_findings(program: &Program) -> Vec<Diagnostic> {
    let mut findings = Vec::new();
    let mut walk = Walk {
        findings: &mut findings,
        assigned: vec![HashSet::new()],
        newly_assigned: Vec::new(),
    };
    walk.node(Node::Expr(&program.body));
    findings
}

/// A Puppet 7 validation issue that Puppet 3 accepted, as a legacy finding;
/// `None` for the other issues.
pub fn from_validation(issue: &Diagnostic) -> Option<Diagnostic> {
    let (code, meaning) = match issue.code.as_str() {
        "ILLEGAL_NODE_INHERITANCE" => (
            NODE_INHERITANCE,
            "node inheritance worked in Puppet 3; Puppet 7 refuses it: move what the parent \
             node declares into a class and include it in both nodes",
        ),
        "ILLEGAL_DEFINITION_NAME" | "ILLEGAL_CLASSREF" => (
            NAME_WITH_DASH,
            "a `-` in a class or define name worked in Puppet 3; Puppet 7 refuses it: use `_`",
        ),
        "ILLEGAL_INDEXED_ASSIGNMENT" => (
            INDEXED_ASSIGNMENT,
            "Puppet 3 let a hash or array be changed in place; Puppet 7 values are immutable: \
             build a new value, e.g. `$h = $h + { 'k' => v }`",
        ),
        "DUPLICATE_PARAMETER" => (
            DUPLICATE_PARAMETER,
            "Puppet 3 kept the last of duplicated parameters; Puppet 7 refuses them: remove one",
        ),
        "IDEM_EXPRESSION_NOT_LAST" => (
            NO_EFFECT,
            "Puppet 3 ignored a value nothing uses; Puppet 7 refuses it (often a sign the \
             statement does not mean what it seems): remove it or use its value",
        ),
        _ => return None,
    };
    Some(finding(
        code,
        format!("{meaning} (Puppet 7: {} {})", issue.code, issue.message),
        issue.span,
    ))
}

struct Walk<'f> {
    findings: &'f mut Vec<Diagnostic>,
    /// Variables assigned in each enclosing scope, innermost last.
    assigned: Vec<HashSet<String>>,
    /// Each first assignment in a scope, as (scope depth, name), in walk
    /// order: what a branch added is taken back after it without copying
    /// the scope (a task's top scope holds hundreds of variables and as
    /// many guarded branches).
    newly_assigned: Vec<(usize, String)>,
}

impl Walk<'_> {
    fn node(&mut self, node: Node) {
        let Node::Expr(expr) = node else {
            for_each_child(node, &mut |child| self.node(child));
            return;
        };
        self.check(expr);
        match &expr.kind {
            ExprKind::If(conditional) | ExprKind::Unless(conditional) => {
                self.node(Node::Expr(&conditional.test));
                let branches = [&conditional.then_branch, &conditional.else_branch];
                self.exclusive_branches(branches.into_iter().flatten());
                return;
            }
            ExprKind::Case { test, options } => {
                self.node(Node::Expr(test));
                for value in options.iter().flat_map(|option| &option.values) {
                    self.node(Node::Expr(value));
                }
                self.exclusive_branches(options.iter().filter_map(|option| option.body.as_ref()));
                return;
            }
            _ => {}
        }
        let scope = matches!(
            expr.kind,
            ExprKind::Class(_)
                | ExprKind::Define(_)
                | ExprKind::Function(_)
                | ExprKind::Node(_)
                | ExprKind::Lambda(_)
        );
        if scope {
            self.assigned.push(HashSet::new());
        }
        for_each_child(node, &mut |child| self.node(child));
        if scope {
            self.assigned.pop();
        }
    }

    /// Walks branches of which one run takes one at most: a variable each
    /// assigns is no reassignment of the others', nor (as the branch may
    /// not run, and code after it often assigns in the complementary case:
    /// `if $x { $y = 1 }` then `unless $x { $y = 2 }`) of later code's.
    fn exclusive_branches<'e>(&mut self, branches: impl Iterator<Item = &'e Expr>) {
        let mark = self.newly_assigned.len();
        for branch in branches {
            self.node(Node::Expr(branch));
            for (depth, name) in self.newly_assigned.drain(mark..) {
                // Scopes the branch opened are gone already.
                if let Some(scope) = self.assigned.get_mut(depth) {
                    scope.remove(&name);
                }
            }
        }
    }

    fn check(&mut self, expr: &Expr) {
        match &expr.kind {
            ExprKind::Variable(name) if name.chars().any(|c| c.is_ascii_uppercase()) => {
                let message = if name.starts_with(|c: char| c.is_ascii_uppercase()) {
                    format!(
                        "`${name}`: Puppet 3 accepted capitalised variables; Puppet 7 \
                         refuses them (ILLEGAL_VAR_NAME): use lower case and `_`"
                    )
                } else {
                    format!(
                        "`${name}`: camelCase is Puppet 3 style; Puppet 7 accepts it but \
                         modules use lower case and `_`: rename it to `${}`",
                        snake_case(name)
                    )
                };
                self.push(CAMEL_CASE_VARIABLE, message, expr.span);
            }
            ExprKind::Binary {
                op: BinaryOp::Assign,
                left,
                ..
            } => {
                if let ExprKind::Variable(name) = &left.kind {
                    let depth = self.assigned.len() - 1;
                    if self.assigned[depth].insert(name.clone()) {
                        self.newly_assigned.push((depth, name.clone()));
                    } else {
                        let message = format!(
                            "`${name}` is assigned again in the same scope: Puppet 3 code \
                             sometimes relied on it; Puppet 7 fails when it compiles the \
                             catalog (Cannot reassign variable): use a new name"
                        );
                        self.push(REASSIGNMENT, message, left.span);
                    }
                }
            }
            ExprKind::Call(call) if call.kind == CallKind::Named => {
                if let ExprKind::QualifiedName(name) = &call.functor.kind {
                    if name == "import" {
                        self.push(
                            IMPORT,
                            "`import` loaded other manifests in Puppet 3; Puppet 7 has no \
                             `import` and fails when it compiles the catalog: put the \
                             classes in modules (autoloaded) or the manifests in the \
                             `manifests/` directory of the environment"
                                .to_string(),
                            expr.span,
                        );
                    }
                }
            }
            ExprKind::If(conditional) | ExprKind::Unless(conditional)
                if conditional.then_branch.is_none() =>
            {
                let message = if conditional.else_branch.is_some() {
                    "an empty branch before `else`: Puppet 3 code used it for \"unless\"; \
                     invert the condition and drop the empty branch"
                } else {
                    "an empty body: the condition is evaluated for nothing; remove it"
                };
                self.push(EMPTY_IF, message.to_string(), expr.span);
            }
            _ => {}
        }
    }

    fn push(&mut self, code: &str, message: String, span: Span) {
        self.findings.push(finding(code, message, span));
    }
}

/// `fooBarBaz` as `foo_bar_baz`.
fn snake_case(name: &str) -> String {
    let mut snake = String::with_capacity(name.len() + 4);
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 && !snake.ends_with('_') && !snake.ends_with(':') {
                snake.push('_');
            }
            snake.push(c.to_ascii_lowercase());
        } else {
            snake.push(c);
        }
    }
    snake
}
