//! **granule/cross-task-reference** (error): a refresh, relationship,
//! `realize`, override or collector crossing a task boundary: code a task
//! applies (`--tasks`) refers to a resource or class that only other tasks
//! declare, so it is not in the task's catalog.
//!
//! Why: each task is compiled and applied as its own catalog. Puppet fails
//! a catalog holding a relationship (`notify`, `subscribe`, `before`,
//! `require`, `->`, `~>`...) to something it does not contain ("Could not
//! find resource 'Service[x]' in parameter 'notify'"), and so it does for
//! `realize` and overrides; and even if the reference were dropped, no
//! refresh event crosses catalogs. A collector compiles but collects
//! nothing of the resources it matches that other tasks declare (unless
//! those tasks apply the collector's code too: each then collects its
//! own); a bare one (`Package <| |>`, no override, no relationship) only
//! realizes, so what others declare for real loses nothing. Its query (`title`, `tag`, attributes, `and`, `or`) is matched
//! against each declared resource by the semantic model `granule split`
//! uses; a resource it only may collect (a title computed at run time) is
//! not reported: the split lists those as hazards. Nor is a fallback
//! declaration (under `if !defined(...)`) of a resource some task declares
//! unconditionally: where both meet, Puppet keeps the other.
//! Relationships between classes count as well: `Class['x']` is only in the
//! catalogs of the tasks that declare class x. So is a class the task's
//! own manifest names (`before => Class['x']` in code a split copied)
//! that only code no task applies declares: a split that opens a class
//! copies its statements into tasks and declares it nowhere. Not reported:
//! other ends declared nowhere or by no task, and classes no module defines,
//! whichever task declares them (granule/undeclared-resource and
//! granule/unresolved-class are about those, and code the tasks came from
//! lacks them too), exported collectors
//! (`<<| |>>` collects from PuppetDB, across catalogs), resources
//! declared through `create_resources` and the like, which the analysis
//! does not see, and a collector that only orders what other tasks declare
//! when tasks.yaml orders those tasks the same way (task order carries the
//! relationship: a resource takes effect where it is first applied, so a
//! task applying the collector's code must run after a task applying each
//! resource it orders first, and a task applying one it orders last after
//! a task applying the code, or the class or resource the code orders
//! before it). A collector
//! whose resources only receive a refresh (`Package['x'] ~> Service <| |>`)
//! loses it only in a task applying the code without them that may run
//! before every task applying both: the refresh is sent where the code
//! first changes. A refresh a collector's resources send to an anchor that
//! relays it (a module's `deps`: `Glance_config <| |> ~>
//! Anchor['glance::config::end']`, the anchor notifying the services)
//! reaches only what the catalog sending it holds: a task applying the code
//! and such a resource, but not what the anchors relay the refresh to, loses
//! the refresh, unless it runs after a task applying all of them and the
//! resource (the resource has changed there). Only tasks
//! that may run on one node meet: tasks whose roles tasks.yaml names and
//! which share none never do. With `--role-var EXPR` (and `--assume
//! EXPR=VALUE`), as given to `granule split`, each task is checked once
//! per role tasks.yaml names for it: what its manifest and the module code
//! it reaches declare under a branch that cannot run on that role is not in
//! its catalog there, and a reference is reported only where another task
//! on a node of that role declares the other end. Without them, every
//! branch counts on every role. Nor is a class's code in a branch no
//! declaration of it takes (every declaration resource-like, giving the
//! parameter the branch's test reads a value it rejects: docs/analyzer.md,
//! "Branches no declaration takes"). But a reference a task's manifest writes
//! at top scope under a condition (a split copies the statements of a
//! class opened twice once per branch, each under its branch's guards)
//! sees only what the manifest declares under conditions a run can meet
//! with it: `if !($mode == 'ha') { File['a'] ~> Exec['reload'] }` does not
//! find the exec that manifest declares under `if ($mode == 'ha')` (unless
//! the manifest also declares resources through `create_resources`, or
//! through `ensure_resource` and the like with titles not written
//! literally: the analysis does not read what those declare).
//! Nothing is reported without `--tasks`.
//!
//! Example (tasks `mysql` and `keystone` in tasks.yaml):
//! ```puppet
//! # keystone/keystone.pp: task keystone
//! file { '/etc/keystone/keystone.conf':
//!   content => template('keystone/keystone.conf.erb'),
//!   notify  => Service['mysqld'],   # declared by the mysql task only
//! }
//! ```
//!
//! Fix: move both ends into one task; or drop the reference, order the
//! tasks in tasks.yaml (`requires`), and do the refresh in the later task
//! (a `refreshonly` exec, a service subscribing to what that task changes).

use crate::lint::architecture::{Findings, Task, Workspace};
use crate::model::{
    capitalize, CollectorDeclaration, Edge, EdgeKind, Location, ResourceDeclaration, Vertex,
};
use crate::semantic::{HolderId, Match, Semantic};
use crate::hashing::FastMap;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

pub fn check(workspace: &Workspace, out: &mut Findings) {
    let Some(semantic) = workspace.semantic().filter(|_| !workspace.tasks.is_empty()) else {
        return;
    };
    let declarations = Declarations::of(workspace);
    let mut collected = Collected::new(workspace, semantic);
    // Each task's edges, in source order (as the edges are): those of the
    // code its catalog holds, but for what stands under a branch that
    // cannot run on the task's role.
    let mut edges_of: Vec<Vec<u32>> = vec![Vec::new(); workspace.tasks.len()];
    for (index, edge) in workspace.analysis.edges.iter().enumerate() {
        if edge.kind != EdgeKind::Collect && referenced_ends(edge).is_empty() {
            continue;
        }
        for &at in workspace.tasks_holding(&edge.unit) {
            if !workspace.tasks[at].off.contains(&(index as u32)) {
                edges_of[at].push(index as u32);
            }
        }
    }
    let mut exclusive: FastMap<(&str, &str), bool> = FastMap::default();
    for (at, indexes) in edges_of.into_iter().enumerate() {
        let task = &workspace.tasks[at];
        let mut declared = None;
        let mut unseen = None;
        for index in indexes {
            let edge = &workspace.analysis.edges[index as usize];
            if edge.kind == EdgeKind::Collect {
                check_collector(workspace, &declarations, &mut collected, at, index, out);
                continue;
            }
            for end in referenced_ends(edge) {
                let branch = Branch {
                    semantic,
                    task,
                    edge,
                    exclusive: &mut exclusive,
                    declared: &mut declared,
                    unseen: &mut unseen,
                    files: &workspace.analysis.codebase.files,
                };
                let other_branch = (!branch.meets(end, &declarations)
                    && in_catalog(task, end, &declarations))
                .then_some(edge.condition.as_deref())
                .flatten();
                check_reference(workspace, &declarations, task, edge, end, other_branch, out);
            }
        }
    }
}

/// A reference a task's manifest writes at top scope under a condition,
/// as a split copies the statements of a class opened twice, once per
/// branch, each under its branch's guards: it meets only what the manifest
/// declares under conditions a run can meet with its own.
struct Branch<'s, 'a> {
    semantic: &'s Semantic<'a>,
    task: &'s Task,
    edge: &'a Edge,
    /// Whether two conditions exclude each other, as asked so far.
    exclusive: &'s mut FastMap<(&'a str, &'a str), bool>,
    /// The classes and defines the manifest's top scope declares, by
    /// declaring edge (the task's, once it is asked).
    declared: &'s mut Option<Vec<(u32, &'a Edge, HolderId)>>,
    /// Whether the manifest declares resources through functions (the
    /// task's, once it is asked).
    unseen: &'s mut Option<bool>,
    files: &'a [crate::index::SourceFile],
}

impl<'a> Branch<'_, 'a> {
    /// Whether a run taking the reference's branch has `end` in the task's
    /// catalog, as far as the manifest's own branches tell (what module
    /// code decides is the task view's): some statement of the manifest's
    /// top scope under a condition that does not exclude the reference's
    /// declares it, or a class whose closure declares it.
    fn meets(self, end: &Vertex, declarations: &Declarations<'a>) -> bool {
        let Some(condition) = self.edge.condition.as_deref() else {
            return true;
        };
        let task = self.task;
        let top_scope = matches!(&self.edge.unit, Vertex::TopScope { file } if *file == task.manifest);
        // (A node's code is a root of its own: not narrowed.)
        let nodes = task.units.iter().any(|unit| matches!(unit, Vertex::Node { .. }));
        let semantic = self.semantic;
        let Some(top) = semantic.holder(&self.edge.unit).filter(|_| top_scope && !nodes) else {
            return true;
        };
        // What `ensure_resource` and the like declare the model reads only
        // for titles written literally (`create_resources` not at all): a
        // manifest declaring more through them is not narrowed.
        let files = self.files;
        let unseen = *self.unseen.get_or_insert_with(|| {
            files
                .iter()
                .find(|file| file.path == task.manifest)
                .is_some_and(|file| declares_unread_through_functions(&file.program.body))
        });
        if unseen {
            return true;
        }
        let declarers: Vec<_> = match end {
            Vertex::Class { .. } | Vertex::Type { .. } => semantic.holder(end).into_iter().collect(),
            _ => declarations
                .of
                .get(end)
                .into_iter()
                .flatten()
                .filter(|(index, _)| !task.off.contains(index))
                .filter_map(|(_, declaration)| semantic.holder(&declaration.unit))
                .collect(),
        };
        let exclusive = self.exclusive;
        let mut excludes = |one: &'a str, other: &'a str| {
            *exclusive
                .entry((one, other))
                .or_insert_with(|| crate::graph::exclusive(&[one, other]))
        };
        // Two conditions exclude each other, not one itself (the reading
        // of conditions takes `$x == true` for `$x`, where `$x` may be
        // another true value).
        let mut meets = |index: u32, statement: &'a Edge| {
            !task.off.contains(&index)
                && statement.condition.as_deref().is_none_or(|other| {
                    !excludes(condition, other)
                        || excludes(condition, condition)
                        || excludes(other, other)
                })
        };
        let written_here = declarations
            .of
            .get(end)
            .into_iter()
            .flatten()
            .any(|&(index, declaration)| declaration.unit == self.edge.unit && meets(index, declaration));
        written_here
            || self
                .declared
                .get_or_insert_with(|| {
                    semantic
                        .edges_of(top)
                        .filter_map(|(index, statement)| {
                            Some((index, statement, semantic.declared_holder(statement)?))
                        })
                        .collect()
                })
                .iter()
                .any(|&(index, statement, declared)| {
                    let closure = semantic.closure(declared);
                    declarers.iter().any(|&declarer| closure.contains(declarer))
                        && meets(index, statement)
                })
    }
}

/// Whether code calls a function declaring resources the model does not
/// read all of: `create_resources`, `ensure_resources`, or
/// `ensure_resource('file', $dir, ...)` and `ensure_packages` with a title
/// or type not written literally.
fn declares_unread_through_functions(code: &granule_parser::Expr) -> bool {
    use granule_parser::visit::{for_each_child, Node};
    fn walk(node: Node, found: &mut bool) {
        if let Node::Expr(granule_parser::Expr {
            kind: granule_parser::ExprKind::Call(call),
            ..
        }) = node
        {
            if let granule_parser::ExprKind::QualifiedName(name) = &call.functor.kind {
                let name = crate::index::normalize(name);
                *found |= match crate::extract::ensuring_call(&name, &call.args) {
                    Some((_, titles)) => !crate::extract::ensured_titles(titles).complete,
                    None => matches!(
                        name.as_str(),
                        "ensure_resource" | "ensure_resources" | "ensure_packages" | "create_resources"
                    ),
                };
            }
        }
        if !*found {
            for_each_child(node, &mut |child| walk(child, found));
        }
    }
    let mut found = false;
    walk(Node::Expr(code), &mut found);
    found
}

/// The ends of `edge` it names by reference, which must be in the catalog
/// of the code holding it: both ends of a chain (`a -> b`), the target of a
/// metaparameter, `realize` or an override. Collectors are not resources.
fn referenced_ends(edge: &Edge) -> Vec<&Vertex> {
    use EdgeKind::*;
    let ends = match edge.kind {
        Before | Notify | RequireArrow | SubscribeArrow => vec![&edge.from, &edge.to],
        BeforeParam | RequireParam | NotifyParam | SubscribeParam | Realize | Override => {
            vec![&edge.to]
        }
        _ => Vec::new(),
    };
    ends.into_iter()
        .filter(|end| matches!(end, Vertex::Class { .. } | Vertex::Resource { .. }))
        .collect()
}

/// The resource declarations a collector surely collects, and for each the
/// position of the first declaring the same resource (its copies in several
/// tasks are one resource).
#[derive(Default)]
struct Surely<'a> {
    resources: Vec<&'a ResourceDeclaration>,
    first: Vec<usize>,
}

/// Where each resource and class is declared.
struct Declarations<'a> {
    /// Declaring edges of each resource (regular, virtual or exported) and
    /// class, with their indexes.
    of: FastMap<&'a Vertex, Vec<(u32, &'a Edge)>>,
}

/// What a refresh sent to an anchor is relayed to, each end with the tasks
/// (indexes, ascending) applying it.
type Relayed<'a> = Rc<[(&'a Vertex, Rc<[usize]>)]>;

/// What each collector surely collects, by the semantic model's reading of
/// its query: computed once per collector, whatever the number of tasks.
struct Collected<'a> {
    semantic: &'a Semantic<'a>,
    /// Each task id's views (indexes), one per role where roles are decided.
    views_of: FastMap<&'a str, Vec<usize>>,
    /// Each collector by (holder, collector): its declaration.
    declarations: FastMap<(&'a Vertex, &'a Vertex), &'a CollectorDeclaration>,
    /// `surely`'s answers, by the collector's edge (index).
    of: FastMap<u32, Rc<Surely<'a>>>,
    /// The ordering edges each collector stands at an end of.
    chains: FastMap<&'a Vertex, Vec<&'a Edge>>,
    /// `applying`'s answers, by the declaration's address.
    applying: RefCell<FastMap<*const ResourceDeclaration, Rc<[usize]>>>,
    /// `in_catalog`'s tasks (indexes) per class or resource: asked for
    /// every task applying a collector's code, so computed once per end.
    declaring: RefCell<FastMap<&'a Vertex, Rc<[usize]>>>,
    /// What a refresh sent to each anchor is relayed to, with the tasks
    /// (indexes) applying each end: computed once per anchor.
    relayed: RefCell<FastMap<&'a Vertex, Relayed<'a>>>,
    /// `applied_without_code`'s answers, by (collector's edge (index),
    /// declaration's address): asked per task, collector and resource.
    without_code: FastMap<(u32, *const ResourceDeclaration), Rc<[usize]>>,
}

impl<'a> Collected<'a> {
    /// The tasks whose catalog holds a resource declaration.
    fn tasks_applying<'w>(
        &self,
        workspace: &'w Workspace,
        declarations: &Declarations,
        resource: &ResourceDeclaration,
    ) -> Vec<&'w Task> {
        let applying = self.applying(workspace, declarations, resource);
        applying.iter().map(|&at| &workspace.tasks[at]).collect()
    }

    /// The tasks (indexes, ascending) whose catalog holds a resource
    /// declaration: asked for every task applying a collector's code, so
    /// computed once per declaration.
    fn applying(
        &self,
        workspace: &Workspace,
        declarations: &Declarations,
        resource: &ResourceDeclaration,
    ) -> Rc<[usize]> {
        let key: *const ResourceDeclaration = resource;
        let mut applying = self.applying.borrow_mut();
        let found = applying.entry(key).or_insert_with(|| {
            let holding = workspace.tasks_holding(&resource.holder).iter();
            holding
                .copied()
                .filter(|&at| applies_declaration(&workspace.tasks[at], resource, declarations))
                .collect()
        });
        found.clone()
    }

    /// The tasks (indexes, ascending) whose catalog holds a class or a
    /// resource (`in_catalog`).
    fn declaring(
        &self,
        workspace: &Workspace,
        declarations: &Declarations,
        end: &'a Vertex,
    ) -> Rc<[usize]> {
        let mut declaring = self.declaring.borrow_mut();
        let found = declaring.entry(end).or_insert_with(|| {
            // `in_catalog` through `holding`, the tasks holding each unit.
            let mut tasks: Vec<usize> = Vec::new();
            if matches!(end, Vertex::Class { .. } | Vertex::Type { .. }) {
                tasks.extend(workspace.tasks_holding(end));
            }
            for &(index, declaration) in declarations.of.get(end).into_iter().flatten() {
                let holding = workspace.tasks_holding(&declaration.unit).iter();
                tasks.extend(holding.filter(|&&at| !workspace.tasks[at].off.contains(&index)));
            }
            tasks.sort_unstable();
            tasks.dedup();
            tasks.into()
        });
        found.clone()
    }

    /// The tasks (indexes) applying `resource`, which the collector
    /// `edge` collects, without the collector's code, and not after a task
    /// applying both (on a node with them): in those, it is not collected.
    /// The same for every task applying the code, so computed once.
    fn applied_without_code(
        &mut self,
        workspace: &Workspace,
        declarations: &Declarations,
        index: u32,
        resource: &'a ResourceDeclaration,
        overrides: bool,
    ) -> Rc<[usize]> {
        let key = (index, resource as *const ResourceDeclaration);
        if let Some(found) = self.without_code.get(&key) {
            return found.clone();
        }
        let edge = &workspace.analysis.edges[index as usize];
        let with_the_code = workspace.tasks_holding(&edge.unit);
        // Tasks applying the collector's code and the resource (declared
        // by the same code, or the same resource copied into it).
        let applying = self.applying(workspace, declarations, resource);
        let declaring = self.declaring(workspace, declarations, &resource.resource);
        let with_code: Vec<&str> = with_the_code
            .iter()
            .filter(|at| applying.binary_search(at).is_ok() || declaring.binary_search(at).is_ok())
            .map(|&at| workspace.tasks[at].id.as_str())
            .collect();
        let applied_first_with_code = |other: &Task| {
            !overrides
                && with_code.iter().any(|both| {
                    other.after.contains(*both)
                        && views(&self.views_of, workspace, both).any(|t| t.shares_node_with(other))
                })
        };
        let lost: Rc<[usize]> = applying
            .iter()
            .copied()
            .filter(|&at| {
                with_the_code.binary_search(&at).is_err()
                    && !applied_first_with_code(&workspace.tasks[at])
            })
            .collect();
        self.without_code.insert(key, lost.clone());
        lost
    }

    /// The collector `edge` names, as its holder declares it.
    fn declaration(&self, edge: &Edge) -> Option<&'a CollectorDeclaration> {
        self.declarations.get(&(&edge.unit, &edge.to)).copied()
    }

    /// Whether `chain` sends a refresh that does something.
    fn refresh_matters(&self, chain: &Edge) -> bool {
        chain.kind.refreshes() && self.semantic.refresh_matters(chain.in_run_order().1)
    }

    fn new(workspace: &'a Workspace<'a>, semantic: &'a Semantic<'a>) -> Collected<'a> {
        let mut views_of: FastMap<&str, Vec<usize>> = FastMap::default();
        for (at, task) in workspace.tasks.iter().enumerate() {
            views_of.entry(&task.id).or_default().push(at);
        }
        let mut chains: FastMap<&Vertex, Vec<&Edge>> = FastMap::default();
        for edge in &workspace.analysis.edges {
            if edge.kind.from_runs_first().is_none() {
                continue;
            }
            for end in [&edge.from, &edge.to] {
                if matches!(end, Vertex::Collector { .. }) {
                    chains.entry(end).or_default().push(edge);
                }
            }
        }
        let mut declarations = FastMap::default();
        for collector in &semantic.analysis.collectors {
            // The first one, as a search in source order would find.
            declarations
                .entry((&collector.holder, &collector.collector))
                .or_insert(collector);
        }
        Collected {
            semantic,
            views_of,
            declarations,
            of: FastMap::default(),
            chains,
            applying: RefCell::default(),
            declaring: RefCell::default(),
            relayed: RefCell::default(),
            without_code: FastMap::default(),
        }
    }

    /// What a refresh sent to `anchor` is relayed to
    /// (`Semantic::refreshed_through`), each end with the tasks applying it.
    fn relayed(
        &self,
        workspace: &Workspace,
        declarations: &Declarations,
        anchor: &'a Vertex,
    ) -> Relayed<'a> {
        let mut relayed = self.relayed.borrow_mut();
        let found = relayed.entry(anchor).or_insert_with(|| {
            self.semantic
                .refreshed_through(anchor)
                .into_iter()
                .map(|end| (end, self.declaring(workspace, declarations, end)))
                .collect()
        });
        found.clone()
    }

    /// The resource declarations the collector `edge` names surely
    /// collects. One whose query only run-time values decide (a title
    /// computed from variables) is left out: `granule split` lists those
    /// as hazards.
    fn surely(&mut self, workspace: &Workspace<'a>, index: u32) -> Rc<Surely<'a>> {
        let semantic = self.semantic;
        let edge = &workspace.analysis.edges[index as usize];
        let declarations = &self.declarations;
        let found = self.of.entry(index).or_insert_with(|| {
            let Some(collector) = declarations.get(&(&edge.unit, &edge.to)) else {
                return Rc::default();
            };
            let resources: Vec<&ResourceDeclaration> = semantic
                .collected(collector)
                .filter_map(|(resource, matches)| (matches == Match::Yes).then_some(resource))
                .filter(|resource| {
                    !semantic
                        .superseding(resource)
                        .any(|other| !workspace.tasks_holding(&other.holder).is_empty())
                })
                .collect();
            let mut first_of: FastMap<&Vertex, usize> = FastMap::default();
            let first = resources
                .iter()
                .enumerate()
                .map(|(at, resource)| *first_of.entry(&resource.resource).or_insert(at))
                .collect();
            Rc::new(Surely { resources, first })
        });
        found.clone()
    }
}

impl<'a> Declarations<'a> {
    fn of(workspace: &Workspace<'a>) -> Declarations<'a> {
        let mut of: FastMap<&Vertex, Vec<(u32, &Edge)>> = FastMap::default();
        for (index, edge) in workspace.analysis.edges.iter().enumerate() {
            let declares = matches!(edge.kind, EdgeKind::Declare | EdgeKind::DeclareVirtual)
                || edge.kind.declares_class() && edge.kind != EdgeKind::Inherits;
            if !declares {
                continue;
            }
            of.entry(&edge.to).or_default().push((index as u32, edge));
        }
        Declarations { of }
    }
}

/// The views of the task `id` (one per role where roles are decided),
/// from `Collected::views_of`.
fn views<'s, 'w: 's>(
    views_of: &'s FastMap<&str, Vec<usize>>,
    workspace: &'w Workspace,
    id: &str,
) -> impl Iterator<Item = &'w Task> + 's {
    let views = views_of.get(id).map(Vec::as_slice).unwrap_or_default();
    views.iter().map(|&at| &workspace.tasks[at])
}

/// Whether `task`'s catalog holds a resource declaration: its holder, and
/// the declaration not under a branch that cannot run on the task's role.
fn applies_declaration(task: &Task, resource: &ResourceDeclaration, declarations: &Declarations) -> bool {
    if !task.units.contains(&resource.holder) {
        return false;
    }
    if task.off.is_empty() {
        return true;
    }
    let mut written = declarations
        .of
        .get(&resource.resource)
        .into_iter()
        .flatten()
        .filter(|(_, declaration)| declaration.unit == resource.holder)
        .peekable();
    written.peek().is_none() || written.any(|&(index, _)| !task.off.contains(&index))
}

/// Whether `task`'s catalog holds `end`.
fn in_catalog(task: &Task, end: &Vertex, declarations: &Declarations) -> bool {
    // A class the task declares is in its catalog, defined or not (a class
    // defined nowhere is granule/unresolved-class's); a define where an
    // instance of it is.
    matches!(end, Vertex::Class { .. } | Vertex::Type { .. }) && task.units.contains(end)
        || declared_by(task, declarations.of.get(end)).is_some()
}

/// The first of `declarations` some code of `task` holds.
fn declared_by<'a>(task: &Task, declarations: Option<&Vec<(u32, &'a Edge)>>) -> Option<&'a Edge> {
    declarations?
        .iter()
        .find(|(index, declaration)| task.applies(*index, declaration))
        .map(|&(_, declaration)| declaration)
}

/// The other tasks declaring what `declarations` declare, and where the
/// first of them does.
fn declared_elsewhere<'w>(
    workspace: &'w Workspace,
    task: &Task,
    declarations: Option<&Vec<(u32, &Edge)>>,
) -> Option<(Vec<&'w str>, Location)> {
    // Each declaring task (by index, in tasks.yaml's order) with the first
    // declaration it applies; only tasks on a node with `task`: where none
    // declares it there, the monolith's catalog lacks it on that node too.
    let mut declaring: BTreeMap<usize, &Location> = BTreeMap::new();
    for &(index, declaration) in declarations? {
        for &at in workspace.tasks_holding(&declaration.unit) {
            let other = &workspace.tasks[at];
            if other.id != task.id && other.shares_node_with(task) && !other.off.contains(&index) {
                declaring.entry(at).or_insert(&declaration.location);
            }
        }
    }
    let first = (*declaring.values().next()?).clone();
    let mut tasks: Vec<&str> = Vec::new();
    for &at in declaring.keys() {
        let id = workspace.tasks[at].id.as_str();
        if !tasks.contains(&id) {
            tasks.push(id);
        }
    }
    Some((tasks, first))
}

/// Where the first declaration of `end` is written, when some code
/// declares it and no task applies that code.
fn declared_by_no_task(
    workspace: &Workspace,
    end: &Vertex,
    declarations: &Declarations,
) -> Option<Location> {
    let declaring = declarations.of.get(end)?;
    let applied = |(index, declaration): &(u32, &Edge)| {
        workspace
            .tasks_holding(&declaration.unit)
            .iter()
            .any(|&at| !workspace.tasks[at].off.contains(index))
    };
    if declaring.iter().any(applied) || !workspace.tasks_holding(end).is_empty() {
        return None;
    }
    Some(declaring.first()?.1.location.clone())
}

/// A reference whose other end the task's catalog lacks: declared by
/// other tasks only, or (`other_branch`, the reference's condition) by the
/// task's manifest only under branches no run takes with the reference's.
fn check_reference(
    workspace: &Workspace,
    declarations: &Declarations,
    task: &Task,
    edge: &Edge,
    end: &Vertex,
    other_branch: Option<&str>,
    out: &mut Findings,
) {
    if other_branch.is_none() && in_catalog(task, end, declarations) {
        return;
    }
    // A class no module defines fails every catalog declaring it, wherever
    // it is: granule/unresolved-class's finding, not a crossing.
    if let Vertex::Class { name } = end {
        if !workspace.analysis.has_class(name) {
            return;
        }
    }
    let elsewhere = match other_branch {
        Some(condition) => {
            let branches = "declared by its manifest only under branches no run takes with";
            return report_reference(task, edge, end, &format!("{branches} `{condition}`"), out);
        }
        None => declared_elsewhere(workspace, task, declarations.of.get(end)),
    };
    let declared_only = match elsewhere {
        Some((others, there)) => format!("declared only by {} ({there})", task_list(&others)),
        // The task's own code (as a split copies it) naming a class that
        // only code no task applies declares: a split opening a class
        // copies its statements into tasks but declares it nowhere. (A
        // resource no task declares is missing from the code the tasks
        // came from too, and module code names classes it declares
        // through computed names the analysis does not follow.)
        None if matches!(end, Vertex::Class { .. }) && *edge.location.file == *task.manifest => {
            match declared_by_no_task(workspace, end, declarations) {
                Some(there) => format!("{DECLARED_BY_NO_TASK} ({there})"),
                None => return,
            }
        }
        None => return,
    };
    report_reference(task, edge, end, &declared_only, out);
}

/// The finding for a reference whose other end is `declared_only` so.
fn report_reference(task: &Task, edge: &Edge, end: &Vertex, declared_only: &str, out: &mut Findings) {
    let reference = reference_text(end);
    let puppets = puppet_reference(end);
    let failure = match edge.kind {
        EdgeKind::Realize => format!("Failed to realize virtual resources {puppets}"),
        EdgeKind::Override => format!("Could not find resource(s) {puppets} for overriding"),
        _ => match metaparameter(edge.kind) {
            Some(parameter) => {
                format!("Could not find resource '{puppets}' in parameter '{parameter}'")
            }
            None => format!("Could not find resource '{puppets}' for relationship"),
        },
    };
    let what = match edge.kind {
        EdgeKind::Realize => "`realize` of",
        EdgeKind::Override => "the override of",
        kind if kind.refreshes() => "the refresh (notify/subscribe) with",
        _ => "the relationship with",
    };
    let (lost_refresh, later_refresh) = if edge.kind.refreshes() {
        (
            ", and no refresh event crosses catalogs",
            " and refresh in the later task",
        )
    } else {
        ("", "")
    };
    out.add(
        &edge.location,
        format!(
            "{what} {reference} crosses a task boundary: this code is applied by task `{}` \
             ({}), but {reference} is {declared_only}, so it is not in `{}`'s catalog and \
             Puppet fails it (\"{failure}\"){lost_refresh}; move both ends into one task, or \
             drop the reference, order the tasks in tasks.yaml (`requires`){later_refresh}",
            task.id,
            task.manifest,
            task.id,
        ),
    );
}

fn check_collector<'a>(
    workspace: &Workspace<'a>,
    declarations: &Declarations,
    collected: &mut Collected<'a>,
    at: usize,
    index: u32,
    out: &mut Findings,
) {
    let task = &workspace.tasks[at];
    let edge = &workspace.analysis.edges[index as usize];
    let Vertex::Collector {
        type_name,
        exported: false,
        ..
    } = &edge.to
    else {
        return;
    };
    // The tasks holding a resource it collects that this task lacks, and
    // where the first is declared. A task that applies the collector's
    // code too collects its own resources there: only the tasks without it
    // lose something, and not even those when they run after a task that
    // applies both (the resource changes where it is first applied; later
    // tasks apply it again, unchanged).
    let mut others: Vec<&str> = Vec::new();
    let mut there = None;
    let found = collected.surely(workspace, index);
    let surely = &found.resources;
    let declaration = collected.declaration(edge);
    // What an override sets is lost again where the resource is applied
    // without it, whatever ran before.
    let overrides = declaration.is_some_and(|c| c.overrides_state);
    // A collector in a chain (`Package <| |> -> Exec['x']`) orders or
    // refreshes what it collects: with nothing collected, that is gone too.
    let chains: Vec<&Edge> = collected
        .chains
        .get(&edge.to)
        .cloned()
        .unwrap_or_default();
    let collected_first =
        |chain: &Edge| chain.kind.from_runs_first().map(|from_first| (chain.from == edge.to) == from_first);
    // Only refreshed (`File['x'] ~> Service <| |>`): the refresh is sent
    // where the code sending it first changes, so a task applying that
    // code without the resource must run after one applying both; where
    // the resource is applied without the code, nothing is lost (the task
    // applying both refreshes it).
    let refreshed_only = !overrides
        && declaration.is_some_and(|c| !c.overrides)
        && chains.iter().any(|chain| collected.refresh_matters(chain))
        && chains.iter().all(|chain| collected_first(chain) == Some(false));
    // Per resource (its copies in several tasks are one resource): whether
    // this task holds it, and whether it runs after a task applying it
    // (where it has taken effect).
    let mut here = vec![false; surely.len()];
    for (resource, &first) in surely.iter().zip(&found.first) {
        here[first] |= collected
            .applying(workspace, declarations, resource)
            .binary_search(&at)
            .is_ok();
    }
    check_relayed_refresh(workspace, declarations, collected, at, edge, &chains, &found, &here, out);
    let code_tasks = workspace.tasks_of(&edge.unit);
    // The resources lost here: other tasks apply them without the code.
    let mut lost_resources: Vec<&Vertex> = Vec::new();
    for (&resource, &first) in surely.iter().zip(&found.first) {
        // A bare collector (no override, no relationship) only realizes:
        // a resource declared for real loses nothing without it.
        if chains.is_empty() && declaration.is_some_and(|c| !c.overrides) && !resource.is_virtual
        {
            continue;
        }
        if refreshed_only && !resource.is_virtual {
            for other in refresh_lost(workspace, declarations, collected, task, edge, resource) {
                if !others.contains(&other.id.as_str()) {
                    others.push(&other.id);
                }
                there.get_or_insert_with(|| resource.location.clone());
            }
            continue;
        }
        if here[first] {
            continue;
        }
        let mut lost_here = false;
        for &other_at in collected
            .applied_without_code(workspace, declarations, index, resource, overrides)
            .iter()
        {
            let other = &workspace.tasks[other_at];
            if other.id != task.id && task.shares_node_with(other) {
                lost_here = true;
                if !others.contains(&other.id.as_str()) {
                    others.push(&other.id);
                }
                there.get_or_insert_with(|| resource.location.clone());
            }
        }
        if lost_here && !lost_resources.contains(&&resource.resource) {
            lost_resources.push(&resource.resource);
        }
    }
    let after_each_resource = lost_resources.iter().all(|&lost| {
        surely
            .iter()
            .filter(|other| other.resource == *lost)
            .flat_map(|other| collected.tasks_applying(workspace, declarations, other))
            .any(|other| task.after.contains(&other.id) && other.shares_node_with(task))
    });
    let Some(there) = there else {
        return;
    };
    // Only orderings, and tasks.yaml orders the tasks the same way: task
    // order carries them. What a resource does takes effect when it is
    // first applied (later tasks apply it again, unchanged): this task
    // runs after one applying each resource the collector orders first;
    // each task applying one it orders last after one applying the code.
    let carried = !chains.is_empty()
        && chains.iter().all(|chain| {
            let Some(collected_first) = collected_first(chain) else {
                return false;
            };
            if collected.refresh_matters(chain) {
                return false;
            }
            if collected_first {
                return after_each_resource;
            }
            // What the chain orders first takes effect in a task applying
            // the code, or any task applying that end itself (a class or
            // resource other code declares, as in a copied
            // `Class['x'] -> Service <| |>`).
            let first_end = if chain.from == edge.to { &chain.to } else { &chain.from };
            let declaring = match first_end {
                Vertex::Class { .. } | Vertex::Resource { .. } => {
                    collected.declaring(workspace, declarations, first_end)
                }
                _ => Rc::default(),
            };
            let firsts: Vec<&Task> = code_tasks
                .iter()
                .copied()
                .chain(declaring.iter().map(|&at| &workspace.tasks[at]))
                .collect();
            others.iter().all(|other| {
                // Where it meets this task (a task is seen once per role
                // where roles are decided).
                views(&collected.views_of, workspace, other)
                    .filter(|t| t.shares_node_with(task))
                    .all(|t| {
                        firsts
                            .iter()
                            .any(|first| t.after.contains(&first.id) && first.shares_node_with(t))
                    })
            })
        });
    if carried {
        return;
    }
    let refreshes = chains.iter().any(|&chain| collected.refresh_matters(chain));
    let (lost, or_order) = if refreshed_only {
        (
            ", and the refresh written with it is lost if this task changes the code's resources first",
            ", or make this task run after one applying both (`requires` in tasks.yaml)",
        )
    } else if refreshes {
        (
            ", and the refresh written with it is lost",
            ", or order the tasks in tasks.yaml (`requires`) and refresh in the later task",
        )
    } else if !chains.is_empty() {
        (
            ", and the relationship written with it orders nothing there",
            ", or order the tasks in tasks.yaml (`requires`)",
        )
    } else {
        ("", "")
    };
    out.add(
        &edge.location,
        format!(
            "the collector `{}` crosses a task boundary: this code is applied by task `{}` \
             ({}), but what it collects of `{type_name}` is declared by {} ({there}), so in `{}`'s \
             catalog it collects nothing{lost}; move the collector and the resources into one \
             task{or_order}",
            edge.to.label().replace("<|  |>", "<| |>"),
            task.id,
            task.manifest,
            task_list(&others),
            task.id,
        ),
    );
}

/// A collector whose resources refresh an anchor that relays the refresh
/// on (`Glance_config <| |> ~> Anchor['glance::config::end']`, the anchor
/// notifying the module's services): a task applying the code and a
/// resource it collects changes the resource and sends the refresh there,
/// so it must apply what the anchor relays it to as well. Unless it runs
/// after a task applying all of that and the resource: the resource has
/// changed there, and is unchanged here.
#[allow(clippy::too_many_arguments)]
fn check_relayed_refresh<'a>(
    workspace: &Workspace<'a>,
    declarations: &Declarations,
    collected: &Collected<'a>,
    at: usize,
    edge: &'a Edge,
    chains: &[&'a Edge],
    found: &Surely<'a>,
    here: &[bool],
    out: &mut Findings,
) {
    let task = &workspace.tasks[at];
    for chain in chains {
        let (sender, anchor) = chain.in_run_order();
        if chain.unit != edge.unit || sender != &edge.to || !collected.refresh_matters(chain) {
            continue;
        }
        // What no task on a node with this one declares is not in the
        // monolith's catalog there either.
        let all = collected.relayed(workspace, declarations, anchor);
        let relayed: Vec<&(&Vertex, Rc<[usize]>)> = all
            .iter()
            .filter(|(_, applying)| {
                applying
                    .iter()
                    .any(|&other| workspace.tasks[other].shares_node_with(task))
            })
            .collect();
        let missing: Vec<&(&Vertex, Rc<[usize]>)> = relayed
            .iter()
            .copied()
            .filter(|(_, applying)| applying.binary_search(&at).is_err())
            .collect();
        if missing.is_empty() {
            continue;
        }
        let complete = |other: &Task| {
            relayed
                .iter()
                .all(|(end, _)| in_catalog(other, end, declarations))
        };
        let changed_here = found.resources.iter().zip(&found.first).find(|(resource, &first)| {
            here[first]
                && !collected
                    .tasks_applying(workspace, declarations, resource)
                    .iter()
                    .any(|other| {
                        task.after.contains(&other.id)
                            && other.shares_node_with(task)
                            && complete(other)
                            && other.units.contains(&edge.unit)
                    })
        });
        let Some((resource, _)) = changed_here else {
            continue;
        };
        let mut holders: Vec<&str> = missing[0]
            .1
            .iter()
            .map(|&other| workspace.tasks[other].id.as_str())
            .filter(|&id| id != task.id)
            .collect();
        holders.dedup();
        let names: Vec<String> = missing.iter().map(|(end, _)| end.label()).collect();
        out.add(
            &edge.location,
            format!(
                "the refresh `{} ~> {}` is lost in task `{}` ({}): it applies {} ({}) and this \
                 code, but not what {} relays the refresh to: {}{}; apply those in the same task, \
                 or make this task run after one applying them with {} (`requires` in tasks.yaml)",
                edge.to.label().replace("<|  |>", "<| |>"),
                anchor.label(),
                task.id,
                task.manifest,
                resource.resource.label(),
                resource.location,
                anchor.label(),
                names.join(", "),
                if holders.is_empty() {
                    String::new()
                } else {
                    format!(" (declared by {})", task_list(&holders))
                },
                resource.resource.label(),
            ),
        );
        return;
    }
}

/// For a collector whose resources only receive its code's refresh: the
/// tasks holding `resource` (on a node with `task`) when `task` applies
/// the code without it and runs after no task applying both, so that the
/// refresh is lost if `task` changes the code's resources first.
fn refresh_lost<'w>(
    workspace: &'w Workspace,
    declarations: &Declarations,
    collected: &Collected,
    task: &Task,
    edge: &Edge,
    resource: &ResourceDeclaration,
) -> Vec<&'w Task> {
    let holds = |t: &Task| {
        applies_declaration(t, resource, declarations) || in_catalog(t, &resource.resource, declarations)
    };
    let refreshed_first = workspace
        .tasks_of(&edge.unit)
        .into_iter()
        .any(|both| task.after.contains(&both.id) && both.shares_node_with(task) && holds(both));
    if holds(task) || refreshed_first {
        return Vec::new();
    }
    collected
        .tasks_applying(workspace, declarations, resource)
        .into_iter()
        .filter(|other| other.shares_node_with(task))
        .collect()
}

/// The metaparameter an edge of that kind is written with.
fn metaparameter(kind: EdgeKind) -> Option<&'static str> {
    match kind {
        EdgeKind::BeforeParam => Some("before"),
        EdgeKind::RequireParam => Some("require"),
        EdgeKind::NotifyParam => Some("notify"),
        EdgeKind::SubscribeParam => Some("subscribe"),
        _ => None,
    }
}

/// `Class['x']`, `Service['httpd']`, `File["${root}/x"]`: as the reference
/// is written.
const DECLARED_BY_NO_TASK: &str = "declared only by code no task applies";

/// The class a problem finds named by a task's code and declared by code
/// no task applies (`Class['x']`'s `x`).
pub fn declared_by_no_task_class(message: &str) -> Option<&str> {
    let (before, _) = message.split_once(&format!(" is {DECLARED_BY_NO_TASK} ("))?;
    before
        .rsplit_once(", but Class['")?
        .1
        .strip_suffix("']")
}

fn reference_text(end: &Vertex) -> String {
    match end {
        Vertex::Class { name } => format!("Class['{name}']"),
        Vertex::Resource {
            type_name, title, ..
        } if title.starts_with(['"', '$']) => format!("{}[{title}]", capitalize(type_name)),
        Vertex::Resource {
            type_name, title, ..
        } => format!("{}['{title}']", capitalize(type_name)),
        other => other.label(),
    }
}

/// As Puppet names it in its errors: `Class[Keystone]`, `File[/etc/x]`.
fn puppet_reference(end: &Vertex) -> String {
    match end {
        Vertex::Class { name } => format!("Class[{}]", capitalize(name)),
        other => other.label(),
    }
}

/// `task `a``, `tasks `a`, `b``.
fn task_list(ids: &[&str]) -> String {
    let quoted: Vec<String> = ids.iter().map(|id| format!("`{id}`")).collect();
    match quoted.as_slice() {
        [one] => format!("task {one}"),
        _ => format!("tasks {}", quoted.join(", ")),
    }
}
