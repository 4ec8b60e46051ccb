//! Split: a monolith's entry point cut into small tasks that together do
//! what it did.
//!
//! 1. [`units`]: the statements of the entry (classes declared, define
//!    instances, resources...), their guards and roles, and its globals.
//! 2. Constraints, from the analyzer's edges: units joined by a refresh,
//!    on a cycle, or declaring, overriding, collecting or realising the
//!    same resources are merged, each merge with its reason.
//! 3. Proposal: one task per component (the module of what a unit
//!    declares), as the plan file adjusts it; task order from the ordering
//!    edges, run stages and file autorequires, transitively reduced.
//! 4. [`emit`] writes the manifests, `tasks.yaml`, scripts and reports;
//!    [`verify`] checks the result statically.

pub mod emit;
pub mod plan;
pub mod units;
pub mod verify;

use crate::analysis::Analysis;
use crate::graph::Entry;
use crate::index::normalize;
use crate::model::{Edge, EdgeKind, Location, Vertex};
use granule_parser::{Expr, ExprKind};
use plan::Plan;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use units::{Collector, Monolith, Unit, UnitKind};

/// Which Puppet the generated manifests are for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// `lookup()` for data.
    Puppet7,
    /// `hiera()` for data.
    Puppet3,
}

pub struct SplitOptions {
    pub entries: Vec<Entry>,
    /// The expression whose `case`/`if` guards name the roles.
    pub role_var: Option<String>,
    pub plan: Plan,
    /// Extract only these tasks; the rest goes to one `legacy` task.
    pub only: Vec<String>,
    pub target: Target,
}

/// The task that evaluates the monolith's top-scope data.
pub const GLOBALS: &str = "globals";
/// The task that makes that data a Hiera source.
pub const HIERA: &str = "hiera";
/// Where `--only` puts everything else.
pub const LEGACY: &str = "legacy";

/// A proposed task.
#[derive(Debug, Clone, Serialize)]
pub struct Task {
    pub id: String,
    /// Indexes into [`Proposal::units`], in source order.
    #[serde(skip)]
    pub units: Vec<usize>,
    pub groups: BTreeSet<String>,
    pub requires: BTreeSet<String>,
    /// Classes it applies, fully qualified.
    pub classes: BTreeSet<String>,
    /// Resources it declares, as `Type[title]`.
    pub resources: BTreeSet<String>,
    /// The globals it reads (Hiera keys).
    pub inputs: BTreeSet<String>,
    /// Where its units are written.
    pub source: Vec<String>,
}

/// Two units joined into one task, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Merge {
    pub units: [String; 2],
    pub reason: String,
    pub location: Location,
}

/// An edge of the monolith between two tasks, and the task edge carrying it.
#[derive(Debug, Clone, Serialize)]
pub struct Cut {
    pub from: String,
    pub to: String,
    pub kind: EdgeKind,
    pub location: Location,
    /// `[first, then]`: the task order that keeps the edge.
    pub carried_by: [String; 2],
}

pub struct Proposal {
    pub monolith: Monolith,
    pub tasks: Vec<Task>,
    pub merges: Vec<Merge>,
    pub cuts: Vec<Cut>,
    pub hazards: Vec<String>,
    /// Ordering between units: `(first, then, refresh)`.
    pub unit_order: Vec<(usize, usize, bool)>,
    /// Per unit, the resources it applies (`Type[title]`).
    pub unit_resources: Vec<BTreeSet<String>>,
    pub target: Target,
    /// Roles, in order of appearance (empty: one role, `all`).
    pub roles: Vec<String>,
    /// Entry files and classes, for the headers.
    pub entries: Vec<String>,
}

impl Task {
    fn new(id: String, units: Vec<usize>) -> Task {
        Task {
            id,
            units,
            groups: BTreeSet::new(),
            requires: BTreeSet::new(),
            classes: BTreeSet::new(),
            resources: BTreeSet::new(),
            inputs: BTreeSet::new(),
            source: Vec::new(),
        }
    }
}

impl Proposal {
    pub fn units(&self) -> &[Unit] {
        &self.monolith.units
    }

    pub fn task(&self, id: &str) -> Option<&Task> {
        self.tasks.iter().find(|task| task.id == id)
    }
}

/// Proposes tasks for the entries of `options` in `analysis`.
pub fn split(analysis: &Analysis, options: &SplitOptions) -> Result<Proposal, String> {
    let mut monolith = collect(analysis, options)?;
    exclude(&mut monolith, &options.plan);
    let owners = Owners::new(analysis, &monolith);
    let mut hazards = std::mem::take(&mut monolith.hazards);
    hazards.extend(owners.hazards.iter().cloned());
    let relations = owners.relations(analysis, &monolith);

    // Constraints: merges.
    let mut sets = UnionFind::new(monolith.units.len());
    let mut merges = Vec::new();
    for (a, b, reason, location) in &relations.must_share {
        if sets.union(*a, *b) {
            merges.push(Merge {
                units: [monolith.units[*a].label(), monolith.units[*b].label()],
                reason: reason.clone(),
                location: location.clone(),
            });
        }
    }

    // Proposal: components, as the plan adjusts them.
    let component: Vec<String> = monolith
        .units
        .iter()
        .map(|unit| {
            options
                .plan
                .pin
                .get(&unit.label())
                .cloned()
                .unwrap_or_else(|| component_of(analysis, unit, options))
        })
        .collect();
    // The entry's own statements go with the component they are tied to;
    // those tied to none make one task of their own.
    let own = own_component(analysis, options);
    let mut by_component: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (index, name) in component.iter().enumerate() {
        if *name != own {
            by_component
                .entry(options.plan.task_name(name))
                .or_default()
                .push(index);
        }
    }
    for members in by_component.values() {
        for pair in members.windows(2) {
            sets.union(pair[0], pair[1]);
        }
    }
    let untied: Vec<usize> = groups_of(&mut sets, monolith.units.len())
        .into_values()
        .filter(|members| members.iter().all(|&unit| component[unit] == own))
        .flatten()
        .collect();
    for pair in untied.windows(2) {
        sets.union(pair[0], pair[1]);
    }

    // Cycles between groups of units merge them too; then what code refers
    // to joins it, which may close new cycles.
    merge_cycles(&mut sets, &monolith, &relations.order, &mut merges);
    for (a, b, reason, location) in &relations.references {
        if sets.union(*a, *b) {
            merges.push(Merge {
                units: [monolith.units[*a].label(), monolith.units[*b].label()],
                reason: reason.clone(),
                location: location.clone(),
            });
        }
    }

    merge_cycles(&mut sets, &monolith, &relations.order, &mut merges);

    // Tasks: one per group, named after its first unit's component.
    let groups = groups_of(&mut sets, monolith.units.len());
    let mut tasks: Vec<Task> = Vec::new();
    let mut used = HashSet::from([GLOBALS.to_string(), HIERA.to_string()]);
    for members in groups.values() {
        let base = options.plan.task_name(&main_component(members, &component));
        let id = unique_id(&task_id(&base), &mut used);
        tasks.push(Task::new(id, members.clone()));
    }
    if !options.only.is_empty() {
        tasks = only(tasks, &options.only, &mut used);
    }
    tasks.sort_by_key(|task| task.units[0]);

    let roles = roles_of(&monolith, options);
    let mut task_of = vec![0usize; monolith.units.len()];
    for (index, task) in tasks.iter().enumerate() {
        for &unit in &task.units {
            task_of[unit] = index;
        }
    }
    for task in &mut tasks {
        describe(task, analysis, &monolith, &owners, &roles);
    }

    // Task order: ordering edges, run stages, then globals and hiera first.
    let mut order: BTreeSet<(usize, usize)> = BTreeSet::new();
    let mut cuts = Vec::new();
    for (first, then, edge) in &relations.edges {
        let (a, b) = (task_of[*first], task_of[*then]);
        if a != b {
            order.insert((a, b));
            cuts.push(Cut {
                from: edge.from.label(),
                to: edge.to.label(),
                kind: edge.kind,
                location: edge.location.clone(),
                carried_by: [tasks[a].id.clone(), tasks[b].id.clone()],
            });
        }
    }
    for (first, then) in &relations.stages {
        let (a, b) = (task_of[*first], task_of[*then]);
        if a != b {
            order.insert((a, b));
        }
    }
    let groups: Vec<&BTreeSet<String>> = tasks.iter().map(|task| &task.groups).collect();
    let reduced = transitive_reduction(&groups, &order);
    for (a, b) in reduced {
        let first = tasks[a].id.clone();
        tasks[b].requires.insert(first);
    }
    let all_groups: BTreeSet<String> = tasks.iter().flat_map(|t| t.groups.clone()).collect();
    let mut globals = Task::new(GLOBALS.to_string(), Vec::new());
    globals.groups = all_groups.clone();
    globals.source = monolith
        .assignments
        .iter()
        .map(|a| analysis.codebase.files[a.file].location(a.span).to_string())
        .collect();
    let mut hiera = Task::new(HIERA.to_string(), Vec::new());
    hiera.groups = all_groups;
    hiera.requires.insert(GLOBALS.to_string());
    for task in &mut tasks {
        if task.requires.is_empty() {
            task.requires.insert(HIERA.to_string());
        }
    }
    let mut all = vec![globals, hiera];
    all.extend(tasks);

    let unit_resources = owners
        .reach
        .iter()
        .map(|reach| {
            reach
                .iter()
                .filter(|vertex| matches!(vertex, Vertex::Resource { .. }))
                .map(Vertex::label)
                .collect()
        })
        .collect();
    Ok(Proposal {
        unit_resources,
        unit_order: relations
            .edges
            .iter()
            .map(|(a, b, edge)| (*a, *b, edge.kind.refreshes()))
            .collect(),
        monolith,
        tasks: all,
        merges,
        cuts,
        hazards,
        target: options.target,
        roles,
        entries: options
            .entries
            .iter()
            .map(|entry| match entry {
                Entry::File(file) => file.to_string(),
                Entry::Class(name) => format!("class {name}"),
            })
            .collect(),
    })
}

/// The units of every entry; with several class entries, each is a role.
fn collect(analysis: &Analysis, options: &SplitOptions) -> Result<Monolith, String> {
    let mut monolith = Monolith::default();
    let class_roles = options.entries.len() > 1;
    for entry in &options.entries {
        let before = monolith.units.len();
        match entry {
            Entry::File(path) => {
                let index = analysis
                    .codebase
                    .files
                    .iter()
                    .position(|file| same_path(&file.path, path))
                    .ok_or_else(|| format!("{path}: not among the analyzed files"))?;
                let file = &analysis.codebase.files[index];
                let role_var = options.role_var.as_deref();
                Collector::new(file, index, role_var, &mut monolith).statements(&file.program.body);
            }
            Entry::Class(name) => {
                let (index, definition) = find_class(analysis, name)
                    .ok_or_else(|| format!("class {name}: defined nowhere on the module path"))?;
                let file = &analysis.codebase.files[index];
                for param in &definition.params {
                    let default = param
                        .value
                        .as_ref()
                        .map(|value| file.text(value.span).to_string());
                    if !monolith.parameters.iter().any(|(n, _)| n == &param.name) {
                        monolith.parameters.push((param.name.clone(), default));
                    }
                }
                if let Some(body) = &definition.body {
                    let role_var = options.role_var.as_deref();
                    Collector::new(file, index, role_var, &mut monolith).statements(body);
                }
            }
        }
        if class_roles {
            let role = match entry {
                Entry::Class(name) => name.rsplit("::").next().unwrap_or(name).to_string(),
                Entry::File(path) => path.to_string(),
            };
            monolith.roles.push(role.clone());
            for unit in &mut monolith.units[before..] {
                unit.roles = Some(BTreeSet::from([role.clone()]));
            }
        }
    }
    if class_roles {
        // The same unit in several roles is one shared unit.
        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut kept = Vec::new();
        for unit in std::mem::take(&mut monolith.units) {
            let label = unit.label();
            match seen.get(&label) {
                Some(&at) if unit.kind != UnitKind::Statement => {
                    let unit_roles = unit.roles.unwrap_or_default();
                    let shared: &mut Unit = &mut kept[at];
                    shared
                        .roles
                        .get_or_insert_with(BTreeSet::new)
                        .extend(unit_roles);
                }
                _ => {
                    seen.insert(label, kept.len());
                    kept.push(unit);
                }
            }
        }
        monolith.units = kept;
    }
    Ok(monolith)
}

fn find_class<'a>(
    analysis: &'a Analysis,
    name: &str,
) -> Option<(usize, &'a granule_parser::Definition)> {
    let location = &analysis
        .codebase
        .find(name, crate::model::DefinitionKind::Class)?
        .location;
    let index = analysis
        .codebase
        .files
        .iter()
        .position(|file| file.path == location.file)?;
    fn search<'e>(expr: &'e Expr, name: &str) -> Option<&'e granule_parser::Definition> {
        match &expr.kind {
            ExprKind::Block(statements) => statements.iter().find_map(|s| search(s, name)),
            ExprKind::Class(definition) if normalize(&definition.name) == name => Some(definition),
            ExprKind::Class(definition) => definition.body.as_ref().and_then(|b| search(b, name)),
            _ => None,
        }
    }
    search(&analysis.codebase.files[index].program.body, name).map(|d| (index, d))
}

/// Drops the units the plan excludes.
fn exclude(monolith: &mut Monolith, plan: &Plan) {
    if plan.exclude.is_empty() {
        return;
    }
    let before = monolith.units.len();
    monolith
        .units
        .retain(|unit| !plan.exclude.contains(&unit.label()));
    let dropped = before - monolith.units.len();
    if dropped > 0 {
        monolith.hazards.push(format!(
            "{dropped} units excluded by the plan file: no task applies them"
        ));
    }
}

/// The component a unit belongs to: the module of the class or define it
/// declares; the entry's own resources and statements belong to the
/// entry's own component ([`own_component`]).
fn component_of(analysis: &Analysis, unit: &Unit, options: &SplitOptions) -> String {
    let module = |name: &str| name.split("::").next().unwrap_or(name).to_string();
    match &unit.kind {
        UnitKind::Class(name) => module(name),
        UnitKind::Instance { type_name, .. } => module(type_name),
        UnitKind::Resource { .. } | UnitKind::Statement => own_component(analysis, options),
    }
}

/// The component of the entry's own statements: the entry class's module,
/// or `site`.
fn own_component(analysis: &Analysis, options: &SplitOptions) -> String {
    match options.entries.first() {
        Some(Entry::Class(name)) => analysis
            .module_of(&Vertex::class(name))
            .unwrap_or_else(|| "site".to_string()),
        _ => "site".to_string(),
    }
}

/// The component most of a group's units belong to (the first of those
/// that tie): the name of its task.
fn main_component(members: &[usize], component: &[String]) -> String {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for &unit in members {
        match counts.iter_mut().find(|(name, _)| *name == component[unit]) {
            Some((_, count)) => *count += 1,
            None => counts.push((&component[unit], 1)),
        }
    }
    let most = counts.iter().map(|(_, count)| *count).max().unwrap_or(0);
    counts
        .iter()
        .find(|(_, count)| *count == most)
        .map_or_else(String::new, |(name, _)| name.to_string())
}

/// `mysql::server` -> `mysql-server`: lower case, `-` between words.
fn task_id(name: &str) -> String {
    let id: String = name
        .to_ascii_lowercase()
        .replace("::", "-")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let id = id.trim_matches('-').to_string();
    if id.is_empty() {
        "task".to_string()
    } else {
        id
    }
}

fn unique_id(base: &str, used: &mut HashSet<String>) -> String {
    let mut id = base.to_string();
    let mut n = 2;
    while !used.insert(id.clone()) {
        id = format!("{base}-{n}");
        n += 1;
    }
    id
}

/// Keeps the tasks named in `only`, and one `legacy` task with the rest.
fn only(tasks: Vec<Task>, only: &[String], used: &mut HashSet<String>) -> Vec<Task> {
    let (kept, rest): (Vec<Task>, Vec<Task>) =
        tasks.into_iter().partition(|task| only.contains(&task.id));
    let mut result = kept;
    if !rest.is_empty() {
        let mut units: Vec<usize> = rest.iter().flat_map(|task| task.units.clone()).collect();
        units.sort();
        result.push(Task::new(unique_id(LEGACY, used), units));
    }
    result
}

fn roles_of(monolith: &Monolith, options: &SplitOptions) -> Vec<String> {
    if monolith.roles.is_empty() || (options.role_var.is_none() && options.entries.len() < 2) {
        vec!["all".to_string()]
    } else {
        let mut roles = monolith.roles.clone();
        if monolith
            .units
            .iter()
            .any(|u| u.roles.as_ref().is_some_and(|r| r.contains("default")))
        {
            roles.push("default".to_string());
        }
        roles
    }
}

/// Fills a task's groups, classes, resources, inputs and sources.
fn describe(
    task: &mut Task,
    analysis: &Analysis,
    monolith: &Monolith,
    owners: &Owners,
    roles: &[String],
) {
    let globals: HashSet<&str> = monolith
        .assignments
        .iter()
        .map(|a| a.name.as_str())
        .chain(monolith.parameters.iter().map(|(name, _)| name.as_str()))
        .collect();
    for &index in &task.units {
        let unit = &monolith.units[index];
        match &unit.roles {
            Some(unit_roles) => task.groups.extend(unit_roles.iter().cloned()),
            None => task.groups.extend(roles.iter().cloned()),
        }
        task.source.push(unit.location.to_string());
        for vertex in &owners.reach[index] {
            match vertex {
                Vertex::Class { name } => {
                    task.classes.insert(name.clone());
                }
                Vertex::Resource { .. } => {
                    task.resources.insert(vertex.label());
                }
                _ => {}
            }
        }
        let file = &analysis.codebase.files[unit.file];
        let mut read = BTreeSet::new();
        variables_in(file.text(unit.span), &mut read);
        for guard in &unit.guards {
            variables_in(guard, &mut read);
        }
        for name in owners.reads[index].iter().chain(&read) {
            let name = name.trim_start_matches("::");
            if globals.contains(name) {
                task.inputs.insert(name.to_string());
            }
        }
    }
    if let UnitKind::Class(name) = &monolith.units[task.units[0]].kind {
        task.classes.insert(name.clone());
    }
}

/// The names of the variables `$x`, `$::x`, `${x}` in Puppet source text.
pub fn variables_in(text: &str, out: &mut BTreeSet<String>) {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'$' {
            let mut j = i + 1;
            if bytes.get(j) == Some(&b'{') {
                j += 1;
            }
            let start = j;
            let is_name =
                |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_');
            loop {
                if is_name(bytes.get(j)) {
                    j += 1;
                } else if bytes[j..].starts_with(b"::") && is_name(bytes.get(j + 2)) {
                    // `$a::b`, `$::a`; a single `:` ends the name (`$title:`).
                    j += 2;
                } else {
                    break;
                }
            }
            if j > start {
                out.insert(text[start..j].trim_start_matches("::").to_string());
            }
            i = j.max(i + 1);
        } else {
            i += 1;
        }
    }
}

fn same_path(a: &str, b: &str) -> bool {
    a == b
        || matches!(
            (std::fs::canonicalize(a), std::fs::canonicalize(b)),
            (Ok(x), Ok(y)) if x == y
        )
}

/// What each unit reaches in the analysis, and which unit owns each class
/// and resource (the first to reach it).
struct Owners {
    /// Per unit: classes, define types and resources it applies.
    reach: Vec<BTreeSet<Vertex>>,
    /// Per unit: the variables its classes read from other scopes.
    reads: Vec<BTreeSet<String>>,
    owner: HashMap<Vertex, usize>,
    hazards: Vec<String>,
}

impl Owners {
    fn new(analysis: &Analysis, monolith: &Monolith) -> Owners {
        let mut reach = Vec::with_capacity(monolith.units.len());
        let mut reads = Vec::with_capacity(monolith.units.len());
        let mut owner: HashMap<Vertex, usize> = HashMap::new();
        let mut hazards = Vec::new();
        let mut shared_classes: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        let mut by_unit: HashMap<&Vertex, Vec<&Edge>> = HashMap::new();
        for edge in &analysis.edges {
            by_unit.entry(&edge.unit).or_default().push(edge);
        }
        for (index, unit) in monolith.units.iter().enumerate() {
            let written_here: Vec<&Edge> = edges_in(analysis, unit).collect();
            let mut starts: Vec<Vertex> = Vec::new();
            if let UnitKind::Class(name) = &unit.kind {
                starts.push(Vertex::class(name));
            }
            for edge in &written_here {
                if edge.kind.declares_class() || edge.kind == EdgeKind::Instantiate {
                    starts.push(edge.to.clone());
                }
            }
            let units = analysis.reachable_from(starts);
            let mut reached: BTreeSet<Vertex> = units.iter().cloned().collect();
            let mut read = BTreeSet::new();
            let of_units = units
                .iter()
                .flat_map(|unit| by_unit.get(unit).into_iter().flatten().copied());
            for edge in of_units.chain(written_here.iter().copied()) {
                match edge.kind {
                    EdgeKind::Declare | EdgeKind::DeclareVirtual => {
                        reached.insert(edge.to.clone());
                    }
                    EdgeKind::ReadsVariable => {
                        if let Vertex::Variable { name } = &edge.to {
                            read.insert(name.clone());
                        }
                    }
                    _ => {}
                }
            }
            for vertex in &reached {
                if matches!(vertex, Vertex::Class { .. } | Vertex::Resource { .. }) {
                    match owner.get(vertex) {
                        Some(&first)
                            if first != index && matches!(vertex, Vertex::Class { .. }) =>
                        {
                            shared_classes
                                .entry(vertex.label())
                                .or_insert_with(|| vec![first])
                                .push(index);
                        }
                        Some(_) => {}
                        None => {
                            owner.insert(vertex.clone(), index);
                        }
                    }
                }
            }
            reach.push(reached);
            reads.push(read);
        }
        for (class, units) in shared_classes {
            let labels: BTreeSet<String> =
                units.iter().map(|&u| monolith.units[u].label()).collect();
            // The same statement in several branches (one per role) is one.
            if labels.len() < 2 {
                continue;
            }
            let labels: Vec<String> = labels.into_iter().collect();
            hazards.push(format!(
                "{class} is applied by {} units ({}): each of their tasks applies it again \
                 (harmless when its resources are idempotent)",
                labels.len(),
                labels.join(", ")
            ));
        }
        Owners {
            reach,
            reads,
            owner,
            hazards,
        }
    }

    /// The unit owning the end of an edge.
    fn owner_of(&self, vertex: &Vertex) -> Option<usize> {
        self.owner.get(vertex).copied()
    }

    /// Which units must share a task, and in which order units run.
    fn relations(&self, analysis: &Analysis, monolith: &Monolith) -> Relations {
        let mut relations = Relations::default();
        let unit_of_edge = |edge: &Edge| -> Option<usize> {
            monolith
                .units
                .iter()
                .position(|unit| contains(unit, &edge.location))
                .or_else(|| self.owner_of(&edge.unit))
        };
        let in_scope: HashSet<&Vertex> = self.reach.iter().flatten().collect();
        let mut reachers: HashMap<&Vertex, Vec<usize>> = HashMap::new();
        for (unit, reach) in self.reach.iter().enumerate() {
            for vertex in reach {
                reachers.entry(vertex).or_default().push(unit);
            }
        }
        let entry_files: HashSet<usize> = monolith.units.iter().map(|u| u.file).collect();
        let virtual_types: Vec<(String, usize)> = analysis
            .edges
            .iter()
            .filter(|edge| edge.kind == EdgeKind::DeclareVirtual)
            .filter_map(|edge| match (&edge.to, self.owner_of(&edge.to)) {
                (Vertex::Resource { type_name, .. }, Some(owner)) => {
                    Some((type_name.clone(), owner))
                }
                _ => None,
            })
            .collect();
        for edge in &analysis.edges {
            let relevant = in_scope.contains(&edge.unit)
                || entry_files
                    .iter()
                    .any(|&f| *analysis.codebase.files[f].path == *edge.location.file);
            if !relevant {
                continue;
            }
            let here = unit_of_edge(edge);
            if let Some(first) = edge.kind.from_runs_first() {
                // The code of the edge runs in each unit applying it (a
                // statement of the entry, or a class or define several units
                // may reach); its ends as that unit sees them.
                let mut appliers: Vec<usize> = here.into_iter().collect();
                appliers.extend(reachers.get(&edge.unit).into_iter().flatten().copied());
                if appliers.is_empty() {
                    appliers.push(usize::MAX);
                }
                for applier in appliers {
                    let applier = (applier != usize::MAX).then_some(applier);
                    let ends = (
                        self.end_owner(&edge.from, applier),
                        self.end_owner(&edge.to, applier),
                    );
                    let (Some(from), Some(to)) = ends else {
                        continue;
                    };
                    if from != to {
                        let (a, b) = if first { (from, to) } else { (to, from) };
                        if edge.kind.refreshes() {
                            relations.must_share.push((
                                a,
                                b,
                                format!(
                                    "a refresh ({}) from {} to {} must not cross tasks",
                                    edge.kind.name(),
                                    edge.from.label(),
                                    edge.to.label()
                                ),
                                edge.location.clone(),
                            ));
                        }
                        relations.order.push((a, b));
                        relations.edges.push((a, b, edge.clone()));
                    }
                    // Puppet must find what the code refers to in the
                    // catalog of the task applying that code.
                    let Some(applier) = applier else {
                        continue;
                    };
                    for (end, owner) in [(&edge.from, from), (&edge.to, to)] {
                        if owner != applier && !self.reach[applier].contains(end) {
                            relations.references.push((
                                owner,
                                applier,
                                format!(
                                    "{} refers to {}, which {} declares: Puppet needs both in one catalog",
                                    monolith.units[applier].label(),
                                    end.label(),
                                    monolith.units[owner].label()
                                ),
                                edge.location.clone(),
                            ));
                        }
                    }
                }
                continue;
            }
            let Some(here) = here else {
                continue;
            };
            match edge.kind {
                EdgeKind::Override | EdgeKind::Realize => {
                    if let Some(owner) = self.owner_of(&edge.to) {
                        if owner != here {
                            let verb = if edge.kind == EdgeKind::Override {
                                "overrides"
                            } else {
                                "realises"
                            };
                            relations.must_share.push((
                                owner,
                                here,
                                format!(
                                    "{} {verb} {}, declared by {}",
                                    monolith.units[here].label(),
                                    edge.to.label(),
                                    monolith.units[owner].label()
                                ),
                                edge.location.clone(),
                            ));
                        }
                    }
                }
                EdgeKind::Collect => {
                    if let Vertex::Collector { type_name, .. } = &edge.to {
                        for (virtual_type, owner) in &virtual_types {
                            if virtual_type == type_name && *owner != here {
                                relations.must_share.push((
                                    *owner,
                                    here,
                                    format!(
                                        "{} collects virtual {} resources {} declares",
                                        monolith.units[here].label(),
                                        crate::model::capitalize(type_name),
                                        monolith.units[*owner].label()
                                    ),
                                    edge.location.clone(),
                                ));
                            }
                        }
                    }
                }
                EdgeKind::InStage => {
                    if let Vertex::Stage { name } = &edge.to {
                        relations.stage_of.insert(here, name.clone());
                    }
                }
                _ => {}
            }
        }
        relations.stages = stage_order(analysis, monolith, &relations.stage_of);
        relations
    }

    /// The unit owning one end of an ordering edge written in unit `here`.
    fn end_owner(&self, end: &Vertex, here: Option<usize>) -> Option<usize> {
        match end {
            Vertex::Resource { scope: Some(_), .. } | Vertex::Collector { .. } => here,
            _ => self.owner_of(end),
        }
    }
}

#[derive(Default)]
struct Relations {
    /// Units that must share a task: `(a, b, reason, where)`.
    must_share: Vec<(usize, usize, String, Location)>,
    /// Units whose code refers to what another declares, which must then
    /// share its task too (after cycles have been merged).
    references: Vec<(usize, usize, String, Location)>,
    /// `(first, then)` between units.
    order: Vec<(usize, usize)>,
    edges: Vec<(usize, usize, Edge)>,
    stage_of: HashMap<usize, String>,
    /// `(first, then)` from run stages.
    stages: Vec<(usize, usize)>,
}

/// Ordering of units from their run stages: every unit of an earlier stage
/// before every unit of a later one (`main` when none is given).
fn stage_order(
    analysis: &Analysis,
    monolith: &Monolith,
    stage_of: &HashMap<usize, String>,
) -> Vec<(usize, usize)> {
    if stage_of.is_empty() {
        return Vec::new();
    }
    let mut before: Vec<(String, String)> = Vec::new();
    for edge in &analysis.edges {
        if let (Vertex::Stage { name: a }, Vertex::Stage { name: b }) = (&edge.from, &edge.to) {
            match edge.kind.from_runs_first() {
                Some(true) => before.push((a.clone(), b.clone())),
                Some(false) => before.push((b.clone(), a.clone())),
                None => {}
            }
        }
    }
    let stage = |unit: usize| {
        stage_of
            .get(&unit)
            .cloned()
            .unwrap_or_else(|| "main".to_string())
    };
    let mut order = Vec::new();
    for a in 0..monolith.units.len() {
        for b in 0..monolith.units.len() {
            if before.contains(&(stage(a), stage(b))) {
                order.push((a, b));
            }
        }
    }
    order
}

/// The edges of the analysis written inside a unit's statement.
fn edges_in<'a>(analysis: &'a Analysis, unit: &'a Unit) -> impl Iterator<Item = &'a Edge> + 'a {
    analysis
        .edges
        .iter()
        .filter(move |edge| contains(unit, &edge.location))
}

fn contains(unit: &Unit, location: &Location) -> bool {
    *location.file == *unit.location.file
        && (location.line, location.column) >= (unit.location.line, unit.location.column)
        && (location.line, location.column) <= unit.end
}

/// Union-find over units.
struct UnionFind {
    parent: Vec<usize>,
}

impl UnionFind {
    fn new(len: usize) -> UnionFind {
        UnionFind {
            parent: (0..len).collect(),
        }
    }

    fn find(&mut self, at: usize) -> usize {
        let mut root = at;
        while self.parent[root] != root {
            root = self.parent[root];
        }
        let mut at = at;
        while self.parent[at] != root {
            let next = self.parent[at];
            self.parent[at] = root;
            at = next;
        }
        root
    }

    /// Joins the sets of `a` and `b`; false when already one. The smaller
    /// index stays the root, so names follow source order.
    fn union(&mut self, a: usize, b: usize) -> bool {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb {
            return false;
        }
        let (root, child) = if ra < rb { (ra, rb) } else { (rb, ra) };
        self.parent[child] = root;
        true
    }
}

/// Units grouped by set, keyed by each set's first unit.
fn groups_of(sets: &mut UnionFind, len: usize) -> BTreeMap<usize, Vec<usize>> {
    let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for unit in 0..len {
        let root = sets.find(unit);
        groups.entry(root).or_default().push(unit);
    }
    groups
        .into_values()
        .map(|members| (members[0], members))
        .collect()
}

/// Merges the groups of units on cycles of `order` until none is left.
fn merge_cycles(
    sets: &mut UnionFind,
    monolith: &Monolith,
    order: &[(usize, usize)],
    merges: &mut Vec<Merge>,
) {
    loop {
        let groups = groups_of(sets, monolith.units.len());
        let Some(cycle) = group_cycle(&groups, order) else {
            return;
        };
        let (first, rest) = cycle.split_first().expect("a cycle has members");
        for other in rest {
            if sets.union(*first, *other) {
                let (a, b) = (&monolith.units[*first], &monolith.units[*other]);
                merges.push(Merge {
                    units: [a.label(), b.label()],
                    reason: "their tasks would depend on each other (an ordering cycle)".into(),
                    location: b.location.clone(),
                });
            }
        }
    }
}

/// The first units of groups on a cycle of the order between groups.
fn group_cycle(
    groups: &BTreeMap<usize, Vec<usize>>,
    order: &[(usize, usize)],
) -> Option<Vec<usize>> {
    let mut group_of = HashMap::new();
    for (&first, members) in groups {
        for &member in members {
            group_of.insert(member, first);
        }
    }
    let mut graph: petgraph::graph::DiGraph<usize, ()> = petgraph::graph::DiGraph::new();
    let mut node = HashMap::new();
    for &first in groups.keys() {
        node.insert(first, graph.add_node(first));
    }
    for (a, b) in order {
        let (ga, gb) = (group_of[a], group_of[b]);
        if ga != gb {
            graph.update_edge(node[&ga], node[&gb], ());
        }
    }
    petgraph::algo::tarjan_scc(&graph)
        .into_iter()
        .filter(|component| component.len() > 1)
        .map(|component| {
            let mut firsts: Vec<usize> = component.iter().map(|n| graph[*n]).collect();
            firsts.sort();
            firsts
        })
        .min()
}

/// The edges of a DAG that no longer path implies, on every role: an edge
/// `a -> b` goes only when, for each role both run on, another path from
/// `a` to `b` passes through tasks of that role alone (a node runs only
/// its roles' tasks, so a path through others orders nothing there).
fn transitive_reduction(
    groups: &[&BTreeSet<String>],
    edges: &BTreeSet<(usize, usize)>,
) -> Vec<(usize, usize)> {
    let len = groups.len();
    let mut successors = vec![Vec::new(); len];
    for &(a, b) in edges {
        successors[a].push(b);
    }
    let reaches_without = |from: usize, to: usize, role: &str| {
        let mut stack = vec![from];
        let mut seen = vec![false; len];
        while let Some(at) = stack.pop() {
            for &next in &successors[at] {
                if (at, next) == (from, to) || seen[next] {
                    continue;
                }
                if next == to {
                    return true;
                }
                if groups[next].contains(role) {
                    seen[next] = true;
                    stack.push(next);
                }
            }
        }
        false
    };
    edges
        .iter()
        .copied()
        .filter(|&(a, b)| {
            let shared: Vec<&String> = groups[a].intersection(groups[b]).collect();
            let roles: Vec<&String> = if shared.is_empty() {
                groups[b].iter().collect()
            } else {
                shared
            };
            roles.iter().any(|role| !reaches_without(a, b, role))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::variables_in;
    use std::collections::BTreeSet;

    #[test]
    fn variables_in_source_text() {
        let mut found = BTreeSet::new();
        variables_in(
            "ceph::pool { $pools: } notify { \"${::fqdn} $a::b::c\": x => $y:: }",
            &mut found,
        );
        let expected: BTreeSet<String> = ["pools", "fqdn", "a::b::c", "y"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(found, expected);
    }
}
