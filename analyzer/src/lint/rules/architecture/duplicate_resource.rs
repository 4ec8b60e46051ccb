//! **granule/duplicate-resource** (error): one resource (same type and
//! title, regular or virtual) or one class (`class { 'x': }`) declared at
//! two places that one catalog reaches: an entry (a node, a top scope, a
//! class nothing declares) declares, directly or through others, both.
//!
//! Why: Puppet fails the whole catalog ("Duplicate declaration: File[/x]
//! is already declared") on every node that reaches both, typically when
//! two modules each manage the same package or directory, or a role
//! gathers two profiles that each declare a class with parameters. The
//! same declarations in classes no single catalog holds together, under
//! conditions no run meets at once (an `if` and its `else`, two branches
//! of one `case`, on the way to each; a parameter tested that the
//! `class { 'x': }` on the way sets, as `manage => false`) or guarded by
//! `defined(...)` are not reported; the message says the conditions under
//! which both declarations run. With `--tasks` the catalogs are the tasks'
//! (those Puppet compiles), and with `--role-var` each is seen once per
//! role tasks.yaml gives it, the branches that cannot run on that role left
//! out (`$::role == 'compute'` and `$::role =~ /controller/` never meet).
//!
//! Example:
//! ```puppet
//! class profile::web { package { 'git': ensure => installed } }
//! class profile::ci  { package { 'git': ensure => installed } }
//! node 'build01' {
//!   include profile::web
//!   include profile::ci   # both declare Package[git]
//! }
//! ```
//!
//! Fix: declare the resource once, in a class both include (or with
//! `ensure_packages`/`ensure_resource` from stdlib in each); declare a
//! class with parameters once and `include` it elsewhere (its parameters
//! from Hiera).

use super::architecture::comparable_title;
use crate::analysis::Analysis;
use crate::graph::exclusive;
use crate::index::SourceFile;
use crate::lint::architecture::{sorted_intersect, Findings, Workspace};
use crate::model::{DefinitionKind, Edge, EdgeKind, Location, Vertex};
use granule_parser::visit::{for_each_child, Node};
use granule_parser::{AttributeOp, Expr, ExprKind};
use std::cell::RefCell;
use crate::hashing::{FastMap, FastSet};
use std::collections::{BTreeMap, VecDeque};
use std::rc::Rc;
use std::sync::Arc;

/// How many ways (each under its own guards) to reach a unit are followed:
/// enough for the branches of a `case`, bounded where classes include one
/// another from everywhere.
const WAYS_PER_UNIT: usize = 8;

/// How many declarations passing a parameter on to the next are followed.
const MAX_BINDING_CHAIN: usize = 8;

pub fn check(workspace: &Workspace, out: &mut Findings) {
    let analysis = workspace.analysis;
    let mut declarations: BTreeMap<Vertex, Vec<&Edge>> = BTreeMap::new();
    for edge in &analysis.edges {
        if let Some(resource) = declared(edge) {
            declarations.entry(resource).or_default().push(edge);
        }
    }
    let catalogs = Catalogs::new(workspace);
    for (resource, mut places) in declarations {
        if places.len() < 2 {
            continue;
        }
        places.sort_by(|a, b| a.location.cmp(&b.location));
        places.dedup_by(|a, b| a.location == b.location);
        for (index, second) in places.iter().enumerate().skip(1) {
            let first = places[..index]
                .iter()
                .find_map(|first| Some((first, catalogs.holding_both(first, second)?)));
            let Some((first, (entry, guards))) = first else {
                continue;
            };
            out.add(
                &second.location,
                format!(
                    "{}{DECLARED_TWICE}{}{}: here (in {}) and at {} (in {}); Puppet fails the \
                     catalog on the one it evaluates second. {}",
                    reference(&resource),
                    unit_label(entry),
                    when(&guards),
                    unit_label(&second.unit),
                    first.location,
                    unit_label(&first.unit),
                    fix(&resource)
                ),
            );
        }
    }
}

/// The resource a problem's message is about (`Class[app]`): what its
/// message starts with.
pub fn subject(message: &str) -> Option<&str> {
    message.split_once(DECLARED_TWICE).map(|(resource, _)| resource)
}

const DECLARED_TWICE: &str = " is declared twice in the catalog of ";

/// How many guards a message quotes, and how much of each.
const GUARDS_QUOTED: usize = 3;
const GUARD_CHARS: usize = 100;

/// ` when `a` and `b``: the guards under which both declarations run.
fn when(guards: &[Rc<str>]) -> String {
    if guards.is_empty() {
        return String::new();
    }
    let quoted: Vec<String> = guards
        .iter()
        .take(GUARDS_QUOTED)
        .map(|guard| match guard.char_indices().nth(GUARD_CHARS) {
            Some((cut, _)) => format!("`{}...`", &guard[..cut]),
            None => format!("`{guard}`"),
        })
        .collect();
    let more = match guards.len().saturating_sub(GUARDS_QUOTED) {
        0 => String::new(),
        1 => " and 1 more condition".to_string(),
        n => format!(" and {n} more conditions"),
    };
    format!(" when {}{more}", quoted.join(" and "))
}

/// `File[/etc/motd]`, `Class[app]`, as Puppet names them.
fn reference(resource: &Vertex) -> String {
    match resource {
        Vertex::Class { name } => format!("Class[{name}]"),
        other => other.label(),
    }
}

/// The resource (or class) a declaration edge declares under a title that
/// is the same wherever it is written.
fn declared(edge: &Edge) -> Option<Vertex> {
    match (&edge.kind, &edge.to) {
        (
            EdgeKind::Declare | EdgeKind::DeclareVirtual,
            Vertex::Resource {
                type_name,
                title,
                scope: None,
            },
        ) => Some(Vertex::Resource {
            type_name: type_name.clone(),
            title: comparable_title(type_name, title).to_string(),
            scope: None,
        }),
        (EdgeKind::DeclareClass, Vertex::Class { .. }) => Some(edge.to.clone()),
        _ => None,
    }
}

fn fix(resource: &Vertex) -> &'static str {
    match resource {
        Vertex::Class { .. } => {
            "Declare the class with its parameters once (or set them in Hiera) and `include` it \
             elsewhere"
        }
        _ => {
            "Declare it once, in a class both include (or with stdlib's `ensure_resource` or \
             `ensure_packages` in each), or under exclusive conditions"
        }
    }
}

/// `class x`, `define x`, `node x`, `top scope of site.pp`.
fn unit_label(unit: &Vertex) -> String {
    match unit {
        Vertex::Type { name } => format!("define {name}"),
        other => other.label(),
    }
}

/// One way an entry reaches a declaration: the entry, the edges declaring
/// the units on the way, the guards of every declaration on the way (the
/// declaration's own included), and the values the `class { 'x': }`
/// declarations on the way give parameters.
struct Way<'a> {
    entry: &'a Vertex,
    /// The edges (indexes into the analysis' edges: `include a, b` writes
    /// two at one place).
    path: Vec<u32>,
    guards: Vec<Rc<str>>,
    bindings: Vec<Binding>,
}

/// A class parameter (`app::port`) and the value a declaration gives it
/// (`$profile::web::port`, `8080`).
type Binding = (Rc<str>, Rc<str>);

/// A unit reached under some guards and bindings: ways reaching it so are
/// one.
type Reached<'a> = (&'a Vertex, Vec<Rc<str>>, Vec<Binding>);

/// The declarations of one unit under one guard.
type Declarations<'a> = (&'a Vertex, Option<Rc<str>>);

/// Which entries hold which declarations, and under which guards.
struct Catalogs<'a> {
    analysis: &'a Analysis,
    workspace: &'a Workspace<'a>,
    /// Each edge's index into the analysis' edges, by address.
    index_of: FastMap<*const Edge, u32>,
    /// What `class { 'x': }` declarations pass to parameters, per file
    /// once a way passes through it (few files, where tasks are many).
    passed: RefCell<FastMap<Arc<str>, Rc<PassedValues>>>,
    /// For each unit, the edges declaring it.
    declaring: &'a FastMap<&'a Vertex, Vec<&'a Edge>>,
    /// The guards of the edges looked at so far (by address).
    guards: RefCell<FastMap<*const Edge, Rc<str>>>,
    /// The ways to the declarations of a unit under a guard looked at so
    /// far.
    ways: RefCell<FastMap<Declarations<'a>, Rc<Vec<Way<'a>>>>>,
}

impl<'a> Catalogs<'a> {
    fn new(workspace: &'a Workspace) -> Catalogs<'a> {
        let analysis = workspace.analysis;
        Catalogs {
            analysis,
            workspace,
            index_of: (0u32..)
                .zip(&analysis.edges)
                .map(|(at, edge)| (edge as *const Edge, at))
                .collect(),
            passed: RefCell::default(),
            declaring: workspace.declaring_edges(),
            guards: RefCell::new(FastMap::default()),
            ways: RefCell::new(FastMap::default()),
        }
    }

    /// An entry (the first by name) whose catalog can hold both
    /// declarations in one run, and the guards that run meets, unless one
    /// is guarded by `defined(...)`.
    fn holding_both(
        &self,
        first: &'a Edge,
        second: &'a Edge,
    ) -> Option<(&'a Vertex, Vec<Rc<str>>)> {
        if !self.some_task_holds(&first.unit, &second.unit) {
            return None;
        }
        // Guards of their own no run meets together (an `if` and its
        // `else`) settle it wherever the declarations are.
        let own: Vec<Rc<str>> = self
            .guard(first)
            .into_iter()
            .chain(self.guard(second))
            .collect();
        if !possible_together(&own) {
            return None;
        }
        let ways_first = self.ways(first);
        let ways_second = self.ways(second);
        let (ways_first, ways_second) = (ways_first.as_slice(), ways_second.as_slice());
        // The parameters a catalog gives values take them wherever the
        // class is declared from.
        let mut bindings: FastMap<&Vertex, Vec<Binding>> = FastMap::default();
        for way in ways_first.iter().chain(ways_second) {
            bindings
                .entry(way.entry)
                .or_default()
                .extend(way.bindings.iter().cloned());
        }
        // Both ways from one entry (in one unit, the same way to both), the
        // first entry by name first, and from each the pair with the fewest
        // guards.
        // Joined through a map by entry: comparing every way with every
        // other grows with the square of the codebase.
        let mut second_by_entry: FastMap<&Vertex, Vec<&Way>> = FastMap::default();
        for other in ways_second {
            second_by_entry.entry(other.entry).or_default().push(other);
        }
        let same_unit = first.unit == second.unit;
        let mut pairs: Vec<(&Way, &Way)> = ways_first
            .iter()
            .flat_map(|one| {
                second_by_entry
                    .get(one.entry)
                    .into_iter()
                    .flatten()
                    .filter(move |other| !same_unit || other.path == one.path)
                    .map(move |other| (one, *other))
            })
            .collect();
        pairs.sort_by_key(|(one, other)| (one.entry, one.guards.len() + other.guards.len()));
        pairs.into_iter().find_map(|(one, other)| {
            // Set lookups, before the guards' texts are compared.
            if !self.one_task_applies([one, other], [first, second]) {
                return None;
            }
            // Each guard once, in the order met (a way's guards hold its
            // declaration's own).
            let mut met = FastSet::default();
            let guards: Vec<Rc<str>> = one
                .guards
                .iter()
                .chain(&other.guards)
                .cloned()
                .chain(self.guard(first))
                .chain(self.guard(second))
                .filter(|guard| met.insert(guard.clone()))
                .collect();
            let guards = bound(&guards, &bindings[one.entry]);
            possible_together(&guards).then_some((one.entry, guards))
        })
    }

    /// The ways entries reach a declaration, walking up the edges that
    /// declare its unit, and those declaring theirs, leaving out ways no run
    /// takes. Declarations of one unit under one guard share them.
    fn ways(&self, declaration: &'a Edge) -> Rc<Vec<Way<'a>>> {
        let guard = self.guard(declaration);
        let key = (&declaration.unit, guard.clone());
        if let Some(ways) = self.ways.borrow().get(&key) {
            return ways.clone();
        }
        let mut ways = Vec::new();
        let start = Way {
            entry: &declaration.unit,
            path: Vec::new(),
            guards: guard.into_iter().collect(),
            bindings: Vec::new(),
        };
        let mut queue = VecDeque::from([start]);
        let mut seen: FastSet<Reached> = FastSet::default();
        let mut followed: FastMap<&Vertex, usize> = FastMap::default();
        while let Some(way) = queue.pop_front() {
            let Some(declaring) = self.declaring.get(way.entry) else {
                ways.push(way);
                continue;
            };
            for edge in declaring {
                let mut up = Way {
                    entry: &edge.unit,
                    path: way
                        .path
                        .iter()
                        .copied()
                        .chain([self.index(edge)])
                        .collect(),
                    guards: way.guards.iter().cloned().chain(self.guard(edge)).collect(),
                    bindings: way
                        .bindings
                        .iter()
                        .cloned()
                        .chain(self.bindings(edge))
                        .collect(),
                };
                up.guards.sort_unstable();
                up.guards.dedup();
                up.bindings.sort_unstable();
                up.bindings.dedup();
                let count = followed.entry(&edge.unit).or_default();
                if *count >= WAYS_PER_UNIT || !possible_together(&bound(&up.guards, &up.bindings)) {
                    continue;
                }
                if seen.insert((up.entry, up.guards.clone(), up.bindings.clone())) {
                    *count += 1;
                    queue.push_back(up);
                }
            }
        }
        let ways = Rc::new(ways);
        self.ways.borrow_mut().insert(key, ways.clone());
        ways
    }

    fn index(&self, edge: &Edge) -> u32 {
        self.index_of[&(edge as *const Edge)]
    }

    /// Whether one task's catalog holds both units (always without
    /// `--tasks`): copies of one statement in many task manifests meet in
    /// none.
    fn some_task_holds(&self, one: &Vertex, other: &Vertex) -> bool {
        if self.workspace.tasks.is_empty() {
            return true;
        }
        sorted_intersect(
            self.workspace.tasks_holding(one),
            self.workspace.tasks_holding(other),
        )
    }

    /// With `--tasks` the catalogs Puppet compiles are the tasks' (one per
    /// role where guards are decided, as `granule split` decides them):
    /// whether one of them applies both declarations and every declaration
    /// on the ways to them. Without, every entry's catalog counts.
    fn one_task_applies(&self, ways: [&Way; 2], declarations: [&Edge; 2]) -> bool {
        let tasks = &self.workspace.tasks;
        if tasks.is_empty() {
            return true;
        }
        let edges = &self.analysis.edges;
        let applied: Vec<u32> = ways
            .iter()
            .flat_map(|way| way.path.iter().copied())
            .chain(declarations.map(|edge| self.index(edge)))
            .collect();
        self.workspace
            .tasks_holding(ways[0].entry)
            .iter()
            .any(|&at| {
                applied
                    .iter()
                    .all(|&index| tasks[at].applies(index, &edges[index as usize]))
            })
    }

    /// An edge's condition, its variables named the same from any class.
    fn guard(&self, edge: &Edge) -> Option<Rc<str>> {
        let condition = edge.condition.as_deref()?;
        let key: *const Edge = edge;
        let mut guards = self.guards.borrow_mut();
        let guard = guards
            .entry(key)
            .or_insert_with(|| Rc::from(self.qualified(condition, &edge.unit)));
        Some(guard.clone())
    }

    /// The values a `class { 'x': }` declaration gives parameters.
    fn bindings(&self, edge: &Edge) -> Vec<Binding> {
        let Vertex::Class { name: class } = &edge.to else {
            return Vec::new();
        };
        let in_file = self
            .passed
            .borrow_mut()
            .entry(edge.location.file.clone())
            .or_insert_with(|| Rc::new(passed_values(self.analysis, &edge.location.file)))
            .clone();
        let Some(passed) = in_file.get(&edge.location) else {
            return Vec::new();
        };
        passed
            .iter()
            .map(|(param, value)| {
                (
                    Rc::from(format!("{class}::{param}")),
                    Rc::from(self.qualified(value, &edge.unit)),
                )
            })
            .collect()
    }

    /// `text` with its variables named the same from any class: `$port` in
    /// class `app` (a parameter of it) and `$::app::port` are both
    /// `$app::port`.
    fn qualified(&self, text: &str, unit: &Vertex) -> String {
        let (class, params) = match unit {
            Vertex::Class { name } => (
                name.as_str(),
                self.analysis
                    .codebase
                    .find(name, DefinitionKind::Class)
                    .map_or(&[][..], |class| class.params.as_slice()),
            ),
            _ => ("", &[][..]),
        };
        rename_variables(text, |name| match name.strip_prefix("::") {
            Some(qualified) if qualified.contains("::") => Some(format!("${qualified}")),
            _ if params.iter().any(|param| param == name) => Some(format!("${class}::{name}")),
            _ => None,
        })
    }
}

/// The guards with the class parameters `bindings` give values replaced by
/// those values (and theirs, through a chain of declarations).
fn bound(guards: &[Rc<str>], bindings: &[Binding]) -> Vec<Rc<str>> {
    let mut guards: Vec<Rc<str>> = guards.to_vec();
    if bindings.is_empty() {
        return guards;
    }
    for _ in 0..MAX_BINDING_CHAIN {
        let renamed: Vec<Rc<str>> = guards
            .iter()
            .map(|guard| {
                Rc::from(rename_variables(guard, |name| {
                    bindings
                        .iter()
                        .find(|(param, _)| **param == *name)
                        .map(|(_, value)| value.to_string())
                }))
            })
            .collect();
        if renamed == guards {
            break;
        }
        guards = renamed;
    }
    guards.sort_unstable();
    guards.dedup();
    guards
}

/// Whether a run can meet all the guards, none checking `defined(...)`
/// (a declaration guarded so yields to the other).
fn possible_together(guards: &[Rc<str>]) -> bool {
    let texts: Vec<&str> = guards.iter().map(|guard| &**guard).collect();
    !texts.iter().any(|guard| guard.contains("defined(")) && !exclusive(&texts)
}

/// `text` with each variable `f` renames renamed: `f` gets a name without
/// its `$` and gives what replaces the variable (`$other`, `'value'`).
fn rename_variables(text: &str, f: impl Fn(&str) -> Option<String>) -> String {
    let mut renamed = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        renamed.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let (braced, inside) = match after.strip_prefix('{') {
            Some(inside) => (true, inside),
            None => (false, after),
        };
        let end = inside
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
            .unwrap_or(inside.len());
        let name = &inside[..end];
        match f(name) {
            Some(replacement) if !braced => renamed.push_str(&replacement),
            _ => {
                renamed.push_str(if braced { "${" } else { "$" });
                renamed.push_str(name);
            }
        }
        rest = &inside[end..];
    }
    renamed.push_str(rest);
    renamed
}

/// For each `class { 'x': param => value }` (by where its title is), the
/// parameters it passes a variable or a literal to, and the value's text.
type PassedValues = FastMap<Location, Vec<(String, String)>>;

/// `PassedValues` of one file of the codebase.
fn passed_values(analysis: &Analysis, path: &str) -> PassedValues {
    let mut passed = FastMap::default();
    if let Some(file) = analysis.codebase.files.iter().find(|file| &*file.path == path) {
        collect_passed(file, Node::Expr(&file.program.body), &mut passed);
    }
    passed
}

fn collect_passed(
    file: &SourceFile,
    node: Node,
    passed: &mut PassedValues,
) {
    if let Node::Expr(Expr {
        kind: ExprKind::Resource {
            type_name, bodies, ..
        },
        ..
    }) = node
    {
        if matches!(&type_name.kind, ExprKind::QualifiedName(name) if name == "class") {
            for body in bodies {
                let values: Vec<(String, String)> = body
                    .ops
                    .iter()
                    .filter_map(|op| match op {
                        AttributeOp::Set { name, value, .. } => match &value.kind {
                            ExprKind::Variable(_)
                            | ExprKind::String(_)
                            | ExprKind::Boolean(_)
                            | ExprKind::Integer { .. }
                            | ExprKind::Undef => {
                                Some((name.clone(), file.text(value.span).to_string()))
                            }
                            _ => None,
                        },
                        AttributeOp::Splat { .. } => None,
                    })
                    .collect();
                if !values.is_empty() {
                    passed.insert(file.location(body.title.span), values);
                }
            }
        }
    }
    for_each_child(node, &mut |child| collect_passed(file, child, passed));
}
