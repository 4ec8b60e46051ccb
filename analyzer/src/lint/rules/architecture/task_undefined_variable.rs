//! **granule/task-undefined-variable** (error): a task manifest (`--tasks`)
//! reads a variable it does not define or look up, which the monolith or
//! another task sets at its top scope, or the code it applies reads a
//! variable of a class only other tasks declare: in the task's own catalog
//! the variable is undef.
//!
//! Reported: in a task manifest's top scope and node bodies, a read of `$x`
//! or `$::x` that no assignment of the manifest (`$x = ...`, including
//! `$x = lookup('x')` or `hiera('x')`) precedes, when another manifest of
//! the codebase (the monolith's `site.pp`, another task's manifest) assigns
//! `$x` at its top scope, or when the manifest assigns it only after the
//! read; and in the classes and defines a task applies, a read of `$::x`
//! that such a manifest sets but the task's manifest does not; and there, a
//! read of another class's variable (`$apache::confdir`) that class sets,
//! when the task does not declare the class but another task does. Puppet's
//! built-in variables (`$facts`, `$trusted`, `$server_facts`,
//! `$environment`, `$title`, `$module_name`...) and Facter's core facts
//! never are (the list is in `puppet_variables.rs`); nor are variables no
//! manifest assigns (they may be custom or external facts). Nothing is
//! reported without `--tasks`. A statement reading a variable it sets itself
//! later (`if $x == undef { $x = 'default' }`) is reported in words of its
//! own: the code it was copied from reads it unset too, on purpose, and
//! `granule split --verify` leaves it.
//!
//! Why: a monolith's classes read its top-scope data (`$::db_password`);
//! once cut into tasks, each catalog only has what its own manifest sets,
//! and Puppet (without `strict_variables`) evaluates the read as undef
//! with a mere warning: a password becomes empty, a `case` takes its
//! default branch, or a typed class parameter fails the catalog.
//!
//! Example:
//! ```puppet
//! # manifests/site.pp (the monolith)
//! $db_password = $cluster['db']['password']
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

use granule_parser::qualified::Qualified;
use super::architecture::puppet_variables::is_builtin_or_core_fact;
use crate::analysis::top_scope_assignments;
use crate::index::SourceFile;
use crate::lint::architecture::{Findings, Task, Workspace};
use crate::model::{EdgeKind, Location, Vertex};
use granule_parser::visit::{for_each_child, Node};
use granule_parser::{BinaryOp, Expr, ExprKind, Span};
use crate::hashing::{FastMap, FastSet};
use std::sync::Arc;

pub fn check(workspace: &Workspace, out: &mut Findings) {
    let setters = Setters::of(workspace);
    for (task, file, manifest) in &setters.tasks {
        report_manifest_reads(&setters, task, file, manifest, out);
    }
    report_class_reads(workspace, &setters, out);
    report_qualified_reads(workspace, out);
}

/// Where the variables a task may miss are set: the monolith's top scope
/// (a manifest that is no task's), and each task manifest's.
struct Setters<'a> {
    /// Each variable the top scope of a manifest other than the tasks'
    /// assigns, where it is first assigned.
    monolith: FastMap<String, Location>,
    /// Each task with a manifest, and what its manifest reads and sets.
    tasks: Vec<(&'a Task, &'a SourceFile, Manifest)>,
    /// The first of `tasks` of each id.
    by_id: FastMap<&'a str, usize>,
    /// For each variable, the tasks whose manifest sets it at top scope
    /// (indexes into `tasks`, one per id, in order).
    top_setters: FastMap<String, Vec<usize>>,
}

impl<'a> Setters<'a> {
    fn of(workspace: &'a Workspace<'a>) -> Setters<'a> {
        let files = &workspace.analysis.codebase.files;
        let file_of: FastMap<&Arc<str>, &SourceFile> =
            files.iter().map(|file| (&file.path, file)).collect();
        let tasks: Vec<(&Task, &SourceFile, Manifest)> = workspace
            .tasks
            .iter()
            .filter_map(|task| {
                let file = *file_of.get(&task.manifest)?;
                Some((task, file, Manifest::read(file)))
            })
            .collect();
        let mut by_id = FastMap::default();
        let mut top_setters: FastMap<String, Vec<usize>> = FastMap::default();
        for (index, (task, _, manifest)) in tasks.iter().enumerate() {
            if by_id.contains_key(task.id.as_str()) {
                continue;
            }
            by_id.insert(task.id.as_str(), index);
            for name in manifest.top_scope.keys() {
                top_setters.entry(name.clone()).or_default().push(index);
            }
        }
        let task_manifests: FastSet<&Arc<str>> =
            tasks.iter().map(|(t, _, _)| &t.manifest).collect();
        let mut monolith = FastMap::default();
        for file in files.iter().filter(|f| !task_manifests.contains(&f.path)) {
            for (name, span) in top_scope_assignments(&file.program.body) {
                monolith
                    .entry(name.without_top().to_string())
                    .or_insert_with(|| file.location(span));
            }
        }
        Setters {
            monolith,
            tasks,
            by_id,
            top_setters,
        }
    }

    /// Who sets `name` at top scope for a catalog other than `task`'s: the
    /// monolith, or another task's manifest; `None` when nobody does (it
    /// may be a custom or external fact).
    fn elsewhere(&self, task: &Task, name: &str) -> Option<String> {
        if let Some(there) = self.monolith.get(name) {
            return Some(format!(
                "{} sets it at the monolith's top scope",
                place(there)
            ));
        }
        self.top_setters
            .get(name)?
            .iter()
            .map(|&index| &self.tasks[index])
            .find(|(other, _, _)| other.id != task.id)
            .map(|(other, file, manifest)| {
                format!(
                    "the manifest of task `{}` sets it at top scope ({}), in that task's \
                     catalog only",
                    other.id,
                    place(&file.location(manifest.top_scope[name]))
                )
            })
    }

    fn manifest_of(&self, task: &Task) -> Option<&Manifest> {
        let &index = self.by_id.get(task.id.as_str())?;
        Some(&self.tasks[index].2)
    }
}

/// (a): reads of the manifest's own top scope and node bodies.
fn report_manifest_reads(
    setters: &Setters,
    task: &Task,
    file: &SourceFile,
    manifest: &Manifest,
    out: &mut Findings,
) {
    for Read {
        name,
        span,
        statement,
    } in &manifest.unassigned_reads
    {
        let at = file.location(*span);
        let later = manifest
            .assigned
            .get(name)
            .filter(|assigned| assigned.start > span.start);
        if let Some(assigned) = later.filter(|assigned| assigned.end <= statement.end) {
            out.add(
                &at,
                format!(
                    "task `{}` reads `${name}` {READ_BEFORE_ITS_STATEMENT_SETS_IT} (line {}): \
                     it is undef here wherever the statement runs first, in the code it was \
                     copied from too (`if $x == undef {{ $x = ... }}`); set it above if that is \
                     not meant",
                    task.id,
                    file.location(*assigned).line
                ),
            );
        } else if let Some(assigned) = later {
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
        } else if let Some(setter) = setters.elsewhere(task, name) {
            out.add(
                &at,
                format!(
                    "task `{}` reads `${name}`: {setter}; this task's manifest does not set \
                     it, so it is undef in the task's catalog; set it before the read \
                     (`${name} = lookup('{name}')`, with the value in Hiera, as granule split \
                     writes it)",
                    task.id,
                ),
            );
        }
    }
}

/// (b): `$::x` read by the classes and defines the tasks apply, when the
/// monolith or another task sets `$x` at top scope and the task's manifest
/// does not.
fn report_class_reads(workspace: &Workspace, setters: &Setters, out: &mut Findings) {
    for edge in &workspace.analysis.edges {
        let (EdgeKind::ReadsVariable, Vertex::Variable { name }) = (edge.kind, &edge.to) else {
            continue;
        };
        let Some(name) = top_scope_name(name) else {
            continue;
        };
        let lacking: Vec<(&Task, String)> = workspace
            .tasks_of(&edge.unit)
            .into_iter()
            .filter(|task| task.manifest != edge.location.file)
            .filter(|task| {
                setters
                    .manifest_of(task)
                    .is_some_and(|manifest| !manifest.top_scope.contains_key(name))
            })
            .filter_map(|task| Some((task, setters.elsewhere(task, name)?)))
            .collect();
        let Some((_, setter)) = lacking.first() else {
            continue;
        };
        let ids: Vec<String> = lacking.iter().map(|(t, _)| format!("`{}`", t.id)).collect();
        let manifests: Vec<&str> = lacking.iter().map(|(t, _)| &*t.manifest).collect();
        out.add(
            &edge.location,
            format!(
                "{} reads `$::{name}`: {setter}, but the manifest of task {} ({}) does not set \
                 `${name}`: there it is undef; set it at the top of the task's manifest \
                 (`${name} = lookup('{name}')`), or pass the value as a class parameter",
                edge.unit.label(),
                ids.join(", "),
                manifests.join(", ")
            ),
        );
    }
}

/// (c): `$other::x` read by the classes and defines a task applies, when
/// class `other` sets `$x` and other tasks on a node with it declare that
/// class but this task does not.
fn report_qualified_reads(workspace: &Workspace, out: &mut Findings) {
    let Some(semantic) = workspace.semantic() else {
        return;
    };
    for (index, edge) in workspace.analysis.edges.iter().enumerate() {
        let (EdgeKind::ReadsVariable, Vertex::Variable { name }) = (edge.kind, &edge.to) else {
            continue;
        };
        let Some(class) = semantic.variable_class(name) else {
            continue;
        };
        let class_vertex = Vertex::class(class);
        if edge.unit == class_vertex {
            continue;
        }
        let lacking: Vec<&Task> = workspace
            .tasks_of(&edge.unit)
            .into_iter()
            .filter(|task| !task.off.contains(&(index as u32)))
            .filter(|task| !task.units.contains(&class_vertex))
            .collect();
        let mut declaring: Vec<&str> = workspace
            .tasks_of(&class_vertex)
            .into_iter()
            .filter(|other| lacking.iter().any(|task| task.shares_node_with(other)))
            .map(|other| other.id.as_str())
            .collect();
        declaring.dedup();
        if declaring.is_empty() {
            continue;
        }
        let mut ids: Vec<String> = lacking.iter().map(|t| format!("`{}`", t.id)).collect();
        ids.dedup();
        let declared_by: Vec<String> = declaring.iter().map(|id| format!("`{id}`")).collect();
        out.add(
            &edge.location,
            format!(
                "{} reads `${}`, which class `{class}` sets, but task {} does not declare \
                 `{class}` (task {} does): there the variable is undef and Puppet warns \
                 \"Unknown variable\"; declare the class in the task before what reads it, or \
                 pass the value as a parameter",
                edge.unit.label(),
                name.without_top(),
                ids.join(", "),
                declared_by.join(", "),
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

const READ_BEFORE_ITS_STATEMENT_SETS_IT: &str = "before the statement holding the read sets it";

/// Whether a problem finds a variable read by a statement before the
/// statement itself sets it: code that reads it unset on purpose, copied
/// as it is.
pub fn read_before_its_statement_sets_it(message: &str) -> bool {
    message.contains(READ_BEFORE_ITS_STATEMENT_SETS_IT)
}

/// What a task manifest's top scope and nodes read and assign.
#[derive(Default)]
struct Manifest {
    /// Reads of variables no assignment of a scope they see precedes (and
    /// that are not Puppet's or Facter's).
    unassigned_reads: Vec<Read>,
    /// Each variable the manifest assigns anywhere, where it first does.
    assigned: FastMap<String, Span>,
    /// The variables its top scope assigns (not its nodes or lambdas),
    /// where each first is.
    top_scope: FastMap<String, Span>,
}

/// A read of a variable, by name without `::`, and the statement of the
/// top scope or node body holding it.
struct Read {
    name: String,
    span: Span,
    statement: Span,
}

impl Manifest {
    fn read(file: &SourceFile) -> Manifest {
        let mut walk = Walk {
            scopes: vec![FastSet::default()],
            nodes: Vec::new(),
            statement: file.program.body.span,
            manifest: Manifest::default(),
        };
        walk.statements(&file.program.body);
        // Puppet evaluates the node after the whole top scope.
        for body in std::mem::take(&mut walk.nodes) {
            walk.in_scope(FastSet::default(), |walk| walk.statements(body));
        }
        walk.manifest
    }
}

/// The walk of a manifest in evaluation order, outside definitions; each
/// node body and lambda is a scope of its own that sees those around it.
struct Walk<'f> {
    scopes: Vec<FastSet<String>>,
    /// Node bodies, walked after the top scope.
    nodes: Vec<&'f Expr>,
    /// The statement of the top scope or node body walked.
    statement: Span,
    manifest: Manifest,
}

impl<'f> Walk<'f> {
    fn statements(&mut self, body: &'f Expr) {
        let ExprKind::Block(statements) = &body.kind else {
            self.statement = body.span;
            return self.expr(body);
        };
        for statement in statements {
            self.statement = statement.span;
            self.expr(statement);
        }
    }

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

    fn in_scope(&mut self, scope: FastSet<String>, walk: impl FnOnce(&mut Self)) {
        self.scopes.push(scope);
        walk(self);
        self.scopes.pop();
    }

    /// The variables `$x = ...` or `[$a, $b] = ...` assigns.
    fn assign(&mut self, target: &'f Expr) {
        match &target.kind {
            ExprKind::Variable(name) => {
                let name = name.without_top().to_string();
                self.manifest
                    .assigned
                    .entry(name.clone())
                    .or_insert(target.span);
                if self.scopes.len() == 1 {
                    self.manifest
                        .top_scope
                        .entry(name.clone())
                        .or_insert(target.span);
                }
                self.scopes.last_mut().expect("a scope").insert(name);
            }
            ExprKind::Array(targets) => targets.iter().for_each(|t| self.assign(t)),
            _ => {}
        }
    }

    fn read(&mut self, name: &str, span: Span) {
        let name = name.without_top();
        if name.contains("::")
            || is_builtin_or_core_fact(name)
            || self.scopes.iter().any(|scope| scope.contains(name))
        {
            return;
        }
        self.manifest.unassigned_reads.push(Read {
            name: name.to_string(),
            span,
            statement: self.statement,
        });
    }
}
