//! **granule/task-undefined-variable** (error): a task manifest (`--tasks`)
//! reads a variable it does not define or look up, which the monolith set
//! at its top scope: in the task's own catalog the variable is undef.
//!
//! Reported: in a task manifest's top scope and node bodies, a read of `$x`
//! or `$::x` that no assignment of the manifest (`$x = ...`, including
//! `$x = lookup('x')` or `hiera('x')`) precedes, when another manifest of
//! the codebase (the monolith's `site.pp`) assigns `$x` at its top scope,
//! or when the manifest assigns it only after the read; and in the classes
//! and defines a task applies, a read of `$::x` that some manifest's top
//! scope assigns but the task's manifest does not. Puppet's built-in
//! variables (`$facts`, `$trusted`, `$server_facts`, `$environment`,
//! `$title`, `$module_name`...) and Facter's core facts never are (the
//! list is in `puppet_variables.rs`); nor are variables no manifest
//! assigns (they may be custom or external facts). Nothing is reported
//! without `--tasks`.
//!
//! Why: a monolith's classes read its top-scope data (`$::db_password`);
//! once cut into tasks, each catalog only has what its own manifest sets,
//! and Puppet (without `strict_variables`) evaluates the read as undef:
//! a password becomes empty, a `case` takes its default branch, and
//! nothing fails.
//!
//! Example:
//! ```puppet
//! # manifests/site.pp (the monolith)
//! $db_password = $settings['db']['password']
//!
//! # database/database.pp (task database): no $db_password here
//! class { 'database':
//!   password => $db_password,
//! }
//! ```
//!
//! Fix: set the variable at the top of the task's manifest before it is
//! read, from the data the monolith's value came from (`$db_password =
//! lookup('db_password')`, as `granule split` writes it), or pass the value
//! to the class as a parameter.

use super::architecture::puppet_variables::is_builtin_or_core_fact;
use crate::analysis::top_scope_assignments;
use crate::index::SourceFile;
use crate::lint::architecture::{Findings, Task, Workspace};
use crate::model::{EdgeKind, Location, Vertex};
use granule_parser::visit::{for_each_child, Node};
use granule_parser::{BinaryOp, Expr, ExprKind, Span};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

pub fn check(workspace: &Workspace, out: &mut Findings) {
    let monolith = monolith_assignments(workspace);
    let mut manifests = HashMap::new();
    for task in &workspace.tasks {
        let Some(file) = source_file(workspace, &task.manifest) else {
            continue;
        };
        let manifest = Manifest::read(file);
        report_manifest_reads(task, file, &manifest, &monolith, out);
        manifests.insert(task.id.as_str(), manifest);
    }
    report_class_reads(workspace, &manifests, &monolith, out);
}

/// The variables the top scope of a manifest other than the tasks' assigns
/// (the monolith's data), each where it is first assigned.
fn monolith_assignments(workspace: &Workspace) -> HashMap<String, Location> {
    let task_manifests: HashSet<&Arc<str>> = workspace.tasks.iter().map(|t| &t.manifest).collect();
    let mut assigned = HashMap::new();
    for file in &workspace.analysis.codebase.files {
        if task_manifests.contains(&file.path) {
            continue;
        }
        for (name, span) in top_scope_assignments(&file.program.body) {
            assigned
                .entry(name.trim_start_matches("::").to_string())
                .or_insert_with(|| file.location(span));
        }
    }
    assigned
}

fn source_file<'a>(workspace: &Workspace<'a>, path: &Arc<str>) -> Option<&'a SourceFile> {
    workspace
        .analysis
        .codebase
        .files
        .iter()
        .find(|file| file.path == *path)
}

/// (a): reads of the manifest's own top scope and node bodies.
fn report_manifest_reads(
    task: &Task,
    file: &SourceFile,
    manifest: &Manifest,
    monolith: &HashMap<String, Location>,
    out: &mut Findings,
) {
    for (name, span) in &manifest.unassigned_reads {
        let at = file.location(*span);
        let later = manifest
            .assigned
            .get(name)
            .filter(|assigned| assigned.start > span.start);
        if let Some(assigned) = later {
            out.add(
                &at,
                format!(
                    "task `{}` reads `${name}` before its manifest sets it (line {}): Puppet \
                     evaluates a manifest in order, so it reads undef here; move the \
                     assignment above the read",
                    task.id,
                    file.location(*assigned).line
                ),
            );
        } else if let Some(there) = monolith.get(name) {
            out.add(
                &at,
                format!(
                    "task `{}` reads `${name}`: {} sets it at top scope; the task's manifest \
                     does not, so it is undef in the task's catalog; set it before the read \
                     (`${name} = lookup('{name}')`, with the value in Hiera, as granule split \
                     writes it)",
                    task.id,
                    place(there)
                ),
            );
        }
    }
}

/// (b): `$::x` read by the classes and defines the tasks apply, when a
/// monolith sets `$x` at its top scope and the task's manifest does not.
fn report_class_reads(
    workspace: &Workspace,
    manifests: &HashMap<&str, Manifest>,
    monolith: &HashMap<String, Location>,
    out: &mut Findings,
) {
    for edge in &workspace.analysis.edges {
        let (EdgeKind::ReadsVariable, Vertex::Variable { name }) = (edge.kind, &edge.to) else {
            continue;
        };
        let Some(name) = top_scope_name(name) else {
            continue;
        };
        let Some(there) = monolith.get(name) else {
            continue;
        };
        let lacking: Vec<&Task> = workspace
            .tasks_of(&edge.unit)
            .into_iter()
            .filter(|task| task.manifest != edge.location.file)
            .filter(|task| {
                manifests
                    .get(task.id.as_str())
                    .is_some_and(|manifest| !manifest.top_scope.contains(name))
            })
            .collect();
        if lacking.is_empty() {
            continue;
        }
        let ids: Vec<String> = lacking.iter().map(|t| format!("`{}`", t.id)).collect();
        let manifests: Vec<&str> = lacking.iter().map(|t| &*t.manifest).collect();
        out.add(
            &edge.location,
            format!(
                "{} reads `$::{name}`, which {} sets at the monolith's top scope, but the \
                 manifest of task {} ({}) does not set `${name}`: there it is undef; set it at \
                 the top of the task's manifest (`${name} = lookup('{name}')`), or pass the \
                 value as a class parameter",
                edge.unit.label(),
                place(there),
                ids.join(", "),
                manifests.join(", ")
            ),
        );
    }
}

/// `x` for a top-scope variable `::x` that Puppet or Facter do not set.
fn top_scope_name(name: &str) -> Option<&str> {
    let name = name.strip_prefix("::")?;
    (!name.contains("::") && !is_builtin_or_core_fact(name)).then_some(name)
}

/// `manifests/site.pp:12`.
fn place(at: &Location) -> String {
    format!("{}:{}", at.file, at.line)
}

/// What a task manifest's top scope and nodes read and assign.
#[derive(Default)]
struct Manifest {
    /// Reads of variables no assignment of a scope they see precedes (and
    /// that are not Puppet's or Facter's), by name without `::`.
    unassigned_reads: Vec<(String, Span)>,
    /// Each variable the manifest assigns anywhere, where it first does.
    assigned: HashMap<String, Span>,
    /// The variables its top scope assigns (not its nodes or lambdas).
    top_scope: HashSet<String>,
}

impl Manifest {
    fn read(file: &SourceFile) -> Manifest {
        let mut walk = Walk {
            scopes: vec![HashSet::new()],
            nodes: Vec::new(),
            manifest: Manifest::default(),
        };
        walk.expr(&file.program.body);
        // Puppet evaluates the node after the whole top scope.
        for body in std::mem::take(&mut walk.nodes) {
            walk.in_scope(HashSet::new(), |walk| walk.expr(body));
        }
        let mut manifest = walk.manifest;
        manifest.top_scope = walk.scopes.swap_remove(0);
        manifest
    }
}

/// The walk of a manifest in evaluation order, outside definitions; each
/// node body and lambda is a scope of its own that sees those around it.
struct Walk<'f> {
    scopes: Vec<HashSet<String>>,
    /// Node bodies, walked after the top scope.
    nodes: Vec<&'f Expr>,
    manifest: Manifest,
}

impl<'f> Walk<'f> {
    fn node(&mut self, node: Node<'f>) {
        match node {
            Node::Expr(expr) => self.expr(expr),
            other => for_each_child(other, &mut |child| self.node(child)),
        }
    }

    fn expr(&mut self, expr: &'f Expr) {
        match &expr.kind {
            // Definitions are evaluated where they are declared; the class
            // reads are (b)'s.
            ExprKind::Class(_)
            | ExprKind::Define(_)
            | ExprKind::Function(_)
            | ExprKind::TypeAlias { .. }
            | ExprKind::TypeMapping { .. }
            | ExprKind::TypeDefinition { .. } => {}
            ExprKind::Node(node) => self.nodes.extend(&node.body),
            ExprKind::Lambda(lambda) => {
                let params = lambda.params.iter().map(|p| p.name.clone()).collect();
                self.in_scope(params, |walk| {
                    for_each_child(Node::Expr(expr), &mut |child| walk.node(child))
                });
            }
            ExprKind::Binary {
                op: BinaryOp::Assign | BinaryOp::AddAssign | BinaryOp::SubAssign,
                left,
                right,
            } => {
                self.expr(right);
                self.assign(left);
            }
            ExprKind::Variable(name) => self.read(name, expr.span),
            _ => for_each_child(Node::Expr(expr), &mut |child| self.node(child)),
        }
    }

    fn in_scope(&mut self, scope: HashSet<String>, walk: impl FnOnce(&mut Self)) {
        self.scopes.push(scope);
        walk(self);
        self.scopes.pop();
    }

    /// The variables `$x = ...` or `[$a, $b] = ...` assigns.
    fn assign(&mut self, target: &'f Expr) {
        match &target.kind {
            ExprKind::Variable(name) => {
                let name = name.trim_start_matches("::").to_string();
                self.manifest
                    .assigned
                    .entry(name.clone())
                    .or_insert(target.span);
                self.scopes.last_mut().expect("a scope").insert(name);
            }
            ExprKind::Array(targets) => targets.iter().for_each(|t| self.assign(t)),
            _ => {}
        }
    }

    fn read(&mut self, name: &str, span: Span) {
        let name = name.trim_start_matches("::");
        if name.contains("::")
            || is_builtin_or_core_fact(name)
            || self.scopes.iter().any(|scope| scope.contains(name))
        {
            return;
        }
        self.manifest
            .unassigned_reads
            .push((name.to_string(), span));
    }
}
