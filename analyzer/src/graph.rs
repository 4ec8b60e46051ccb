//! The dependency graph at one level, for the code an entry point reaches,
//! and the cycles of its ordering edges.

use crate::analysis::Analysis;
use crate::index::normalize;
use crate::model::{DefinitionKind, Edge, EdgeKind, Vertex};
use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};
use serde::Serialize;
use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Modules, and which uses which.
    Module,
    /// Classes, defines, nodes and top scopes, and what they declare, order
    /// and read of each other.
    Class,
    /// Everything as written: resources, collectors, variables, keys.
    Resource,
    /// Only what orders the units: who runs before whom.
    Order,
}

/// Where to start: a manifest file, or a class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    File(Arc<str>),
    Class(String),
}

impl Entry {
    /// `site.pp` (an existing file) or `oci::controller` (a class).
    pub fn parse(text: &str) -> Entry {
        if std::path::Path::new(text).is_file() {
            Entry::File(Arc::from(text))
        } else {
            Entry::Class(normalize(text))
        }
    }
}

/// A graph ready to print: its vertices, its edges (each the first edge of
/// the analysis that maps to it) and its cycles.
#[derive(Debug, Serialize)]
pub struct Graph {
    pub level: Level,
    pub vertices: Vec<Vertex>,
    pub edges: Vec<GraphEdge>,
    /// Each cycle as the path of its vertices (the first one not repeated).
    pub cycles: Vec<Vec<Vertex>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct GraphEdge {
    pub from: usize,
    pub to: usize,
    #[serde(flatten)]
    pub edge: Edge,
    /// Whether the two ends belong to different modules.
    pub cross_module: bool,
    /// Whether an end stands for a resource of that unit (at the class,
    /// order and module levels): such an edge orders only part of the unit,
    /// so it does not count for cycles there.
    pub through_resource: bool,
    /// Whether the edge lies on a cycle of ordering edges.
    pub in_cycle: bool,
}

impl Analysis {
    /// The units (classes, defines, nodes, top scopes) `entry` declares,
    /// directly or through others; every unit when `entry` is `None`.
    pub fn reachable_units(&self, entry: Option<&Entry>) -> Option<HashSet<Vertex>> {
        let entry = entry?;
        let mut queue = Vec::new();
        match entry {
            Entry::File(file) => {
                let file = self
                    .codebase
                    .files
                    .iter()
                    .find(|f| same_file(&f.path, file));
                let start = Vertex::TopScope {
                    file: file.map_or_else(|| entry_file(entry), |f| f.path.clone()),
                };
                queue.push(start);
                // The nodes of the file are entry points too.
                for edge in &self.edges {
                    if matches!(edge.unit, Vertex::Node { .. })
                        && same_file(&edge.location.file, &entry_file(entry))
                    {
                        queue.push(edge.unit.clone());
                    }
                }
            }
            Entry::Class(name) => queue.push(Vertex::class(name)),
        }
        Some(self.reachable_from(queue))
    }

    /// The units `starts` declare, directly or through others, themselves
    /// included.
    pub fn reachable_from(&self, starts: impl IntoIterator<Item = Vertex>) -> HashSet<Vertex> {
        let mut units = HashSet::new();
        let mut queue: VecDeque<Vertex> = starts.into_iter().collect();
        let mut by_unit: HashMap<&Vertex, Vec<&Edge>> = HashMap::new();
        for edge in &self.edges {
            by_unit.entry(&edge.unit).or_default().push(edge);
        }
        while let Some(unit) = queue.pop_front() {
            if !units.insert(unit.clone()) {
                continue;
            }
            for edge in by_unit.get(&unit).into_iter().flatten() {
                if self.declares_unit(edge) && !units.contains(&edge.to) {
                    queue.push_back(edge.to.clone());
                }
            }
        }
        units
    }

    /// Whether `edge` puts the unit it points to in the catalog: it declares
    /// a class, or an instance of a define.
    pub fn declares_unit(&self, edge: &Edge) -> bool {
        edge.kind.declares_class()
            || (edge.kind == EdgeKind::Instantiate
                && self
                    .codebase
                    .find(type_name(&edge.to), DefinitionKind::Define)
                    .is_some())
    }

    /// The graph at `level` of what `entry` reaches (everything without one).
    pub fn graph(&self, level: Level, entry: Option<&Entry>) -> Graph {
        let units = self.reachable_units(entry);
        let in_scope = |edge: &Edge| {
            units
                .as_ref()
                .is_none_or(|units| units.contains(&edge.unit))
        };
        let declared_by = self.declarers();
        let mut vertices: Vec<Vertex> = Vec::new();
        let mut index: HashMap<Vertex, usize> = HashMap::new();
        // Each (from, to, kind) once: the first edge, under the conditions
        // of all the edges that map to it.
        let mut seen: HashMap<(Vertex, Vertex, EdgeKind), usize> = HashMap::new();
        let mut edges: Vec<GraphEdge> = Vec::new();
        for edge in self.edges.iter().filter(|edge| in_scope(edge)) {
            let Some((from, to, kind)) = self.at_level(level, edge, &declared_by) else {
                continue;
            };
            if from == to {
                continue;
            }
            if let Some(&first) = seen.get(&(from.clone(), to.clone(), kind)) {
                let merged = &mut edges[first].edge.condition;
                *merged = either(merged.take(), edge.condition.as_deref());
                continue;
            }
            seen.insert((from.clone(), to.clone(), kind), edges.len());
            let mut intern = |vertex: Vertex| {
                *index.entry(vertex.clone()).or_insert_with(|| {
                    vertices.push(vertex);
                    vertices.len() - 1
                })
            };
            let (from_index, to_index) = (intern(from.clone()), intern(to.clone()));
            let through_resource = level != Level::Resource
                && [&edge.from, &edge.to]
                    .iter()
                    .any(|end| matches!(end, Vertex::Resource { .. }));
            let cross_module = match (self.module_of(&from), self.module_of(&to)) {
                (Some(a), Some(b)) => a != b,
                _ => false,
            };
            edges.push(GraphEdge {
                from: from_index,
                to: to_index,
                edge: Edge {
                    from,
                    to,
                    kind,
                    ..edge.clone()
                },
                cross_module,
                through_resource,
                in_cycle: false,
            });
        }
        let cycles = cycles(&vertices, &mut edges);
        Graph {
            level,
            vertices,
            edges,
            cycles,
        }
    }

    /// `edge` as an edge between the vertices of `level`, if it is one.
    fn at_level(
        &self,
        level: Level,
        edge: &Edge,
        declared_by: &HashMap<&Vertex, Vec<&Vertex>>,
    ) -> Option<(Vertex, Vertex, EdgeKind)> {
        match level {
            Level::Resource => Some((edge.from.clone(), edge.to.clone(), edge.kind)),
            // A unit declaring its own resources is no edge between units.
            _ if matches!(edge.kind, EdgeKind::Declare | EdgeKind::DeclareVirtual) => None,
            Level::Class => {
                let from = self.as_unit(&edge.from, edge, declared_by)?;
                let to = self.as_unit(&edge.to, edge, declared_by)?;
                Some((from, to, edge.kind))
            }
            Level::Order => {
                let first = edge.kind.from_runs_first()?;
                let from = self.as_unit(&edge.from, edge, declared_by)?;
                let to = self.as_unit(&edge.to, edge, declared_by)?;
                Some(if first {
                    (from, to, edge.kind)
                } else {
                    (to, from, edge.kind)
                })
            }
            Level::Module => {
                let from = self.as_unit(&edge.from, edge, declared_by)?;
                let to = self.as_unit(&edge.to, edge, declared_by)?;
                if [&from, &to]
                    .iter()
                    .any(|end| matches!(end, Vertex::Stage { .. }))
                {
                    return None;
                }
                let module = |vertex: &Vertex| {
                    let name = self.module_of(vertex).unwrap_or_else(|| "site".to_string());
                    Vertex::Module { name }
                };
                Some((module(&from), module(&to), EdgeKind::Uses))
            }
        }
    }

    /// The unit a vertex of `edge` stands for at the class level: itself
    /// for a unit, the class for `Class['x']`, the unit declaring a resource
    /// (the edge's own unit when it declares one of that title, since titles
    /// that are expressions, like `$config`, are only unique within it).
    fn as_unit(
        &self,
        vertex: &Vertex,
        edge: &Edge,
        declared_by: &HashMap<&Vertex, Vec<&Vertex>>,
    ) -> Option<Vertex> {
        match vertex {
            Vertex::Class { .. }
            | Vertex::Node { .. }
            | Vertex::TopScope { .. }
            | Vertex::Stage { .. } => Some(vertex.clone()),
            Vertex::Type { name } => self
                .codebase
                .find(name, DefinitionKind::Define)
                .map(|_| vertex.clone()),
            Vertex::Resource { .. } => {
                let units = declared_by.get(vertex)?;
                let unit = units
                    .iter()
                    .find(|unit| ***unit == edge.unit)
                    .unwrap_or(&units[0]);
                Some((*unit).clone())
            }
            Vertex::Variable { name } => match name.trim_start_matches("::").rsplit_once("::") {
                Some((scope, _)) => self.has_class(scope).then(|| Vertex::class(scope)),
                None => self
                    .top_scope_assigning(name)
                    .map(|file| Vertex::TopScope { file }),
            },
            _ => None,
        }
    }

    /// Which units declare each resource, first declaration first.
    fn declarers(&self) -> HashMap<&Vertex, Vec<&Vertex>> {
        let mut declared_by: HashMap<&Vertex, Vec<&Vertex>> = HashMap::new();
        for edge in &self.edges {
            if matches!(edge.kind, EdgeKind::Declare | EdgeKind::DeclareVirtual) {
                let units = declared_by.entry(&edge.to).or_default();
                if !units.contains(&&edge.unit) {
                    units.push(&edge.unit);
                }
            }
        }
        declared_by
    }
}

/// The condition under which one of two edges holds: `None` (always) when
/// either holds always.
fn either(first: Option<String>, second: Option<&str>) -> Option<String> {
    match (first, second) {
        (Some(first), Some(second)) if first == second => Some(first),
        (Some(first), Some(second)) => Some(format!("({first}) or ({second})")),
        _ => None,
    }
}

fn type_name(vertex: &Vertex) -> &str {
    match vertex {
        Vertex::Type { name } => name,
        _ => "",
    }
}

fn entry_file(entry: &Entry) -> Arc<str> {
    match entry {
        Entry::File(file) => file.clone(),
        Entry::Class(_) => Arc::from(""),
    }
}

/// Whether two paths name the same file (as given, or canonically).
fn same_file(a: &str, b: &str) -> bool {
    a == b
        || matches!(
            (std::fs::canonicalize(a), std::fs::canonicalize(b)),
            (Ok(x), Ok(y)) if x == y
        )
}

/// The cycles among the ordering edges (each as a path), marking the edges
/// on them.
fn cycles(vertices: &[Vertex], edges: &mut [GraphEdge]) -> Vec<Vec<Vertex>> {
    let mut graph: DiGraph<usize, usize> = DiGraph::new();
    let nodes: Vec<NodeIndex> = (0..vertices.len()).map(|i| graph.add_node(i)).collect();
    for (i, edge) in edges.iter().enumerate() {
        if edge.through_resource {
            continue;
        }
        match edge.edge.kind.from_runs_first() {
            Some(true) => graph.add_edge(nodes[edge.from], nodes[edge.to], i),
            Some(false) => graph.add_edge(nodes[edge.to], nodes[edge.from], i),
            None => continue,
        };
    }
    let mut found = Vec::new();
    for component in tarjan_scc(&graph) {
        if component.len() < 2 {
            continue;
        }
        let members: BTreeSet<usize> = component.iter().map(|n| graph[*n]).collect();
        let start = *members.iter().next().expect("a member");
        let Some(path) = cycle_through(&graph, &nodes, start, &members) else {
            continue;
        };
        let closing = [*path.last().expect("a path"), path[0]];
        let on_cycle: Vec<usize> = path
            .windows(2)
            .chain(std::iter::once(&closing[..]))
            .filter_map(|pair| graph.find_edge(nodes[pair[0]], nodes[pair[1]]))
            .map(|edge| graph[edge])
            .collect();
        let conditions: Vec<&str> = on_cycle
            .iter()
            .filter_map(|&i| edges[i].edge.condition.as_deref())
            .collect();
        if exclusive(&conditions) {
            continue;
        }
        for i in on_cycle {
            edges[i].in_cycle = true;
        }
        found.push(path.into_iter().map(|i| vertices[i].clone()).collect());
    }
    found.sort();
    found
}

/// Whether no run can meet all `conditions` at once: one holds a guard
/// `g`, another `!(g)`, or two pick different values of one `case` test
/// (`t == 'a'`, `t == 'b'`).
fn exclusive(conditions: &[&str]) -> bool {
    let guards: Vec<&str> = conditions
        .iter()
        .flat_map(|condition| condition.split(" and "))
        .collect();
    guards.iter().any(|guard| {
        let negated = format!("!({guard})");
        guards.contains(&negated.as_str())
            || guard.split_once(" == ").is_some_and(|(test, value)| {
                guards.iter().any(|other| {
                    other
                        .split_once(" == ")
                        .is_some_and(|(other_test, other_value)| {
                            other_test == test && other_value != value
                        })
                })
            })
    })
}

/// A shortest path from `start` back to itself inside `members`.
fn cycle_through(
    graph: &DiGraph<usize, usize>,
    nodes: &[NodeIndex],
    start: usize,
    members: &BTreeSet<usize>,
) -> Option<Vec<usize>> {
    let mut previous: HashMap<usize, usize> = HashMap::new();
    let mut queue = VecDeque::from([start]);
    while let Some(at) = queue.pop_front() {
        let mut next: Vec<usize> = graph.neighbors(nodes[at]).map(|n| graph[n]).collect();
        next.sort();
        for to in next {
            if !members.contains(&to) {
                continue;
            }
            if to == start {
                let mut path = vec![at];
                while let Some(&before) = previous.get(path.last().expect("a path")) {
                    path.push(before);
                }
                path.reverse();
                return Some(path);
            }
            if to != start && !previous.contains_key(&to) {
                previous.insert(to, at);
                queue.push_back(to);
            }
        }
    }
    None
}
