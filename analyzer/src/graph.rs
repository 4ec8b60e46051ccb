//! The dependency graph at one level, for the code an entry point reaches,
//! and the cycles of its ordering edges.

use crate::analysis::Analysis;
use crate::hashing::FastMap;
use crate::index::normalize;
use crate::model::{DefinitionKind, Edge, EdgeKind, Location, Vertex};
use granule_parser::qualified::Qualified;
use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};
use serde::Serialize;
use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::fmt::Write;
use std::ops::Range;
use std::rc::Rc;
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
    /// At the module level, the module whose code writes the edge (`site`
    /// for code outside any module): `Class['galera'] -> Class['keystone']`
    /// written in oci's `controller.pp` is galera's edge to keystone,
    /// written by oci. `None` at the other levels, where the edge's `unit`
    /// says it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub writer: Option<String>,
    /// Every place the edges drawn as this one are written, in order, each
    /// with its own condition: a class declared in an `if` and again in its
    /// `else` is one edge at the class level, written twice.
    pub sites: Vec<Site>,
}

impl Graph {
    /// At the module level, the module that writes `edge` when it is not
    /// the edge's source: the module whose code says galera uses keystone.
    pub fn written_elsewhere<'g>(&self, edge: &'g GraphEdge) -> Option<&'g str> {
        let writer = edge.writer.as_deref()?;
        match &self.vertices[edge.from] {
            Vertex::Module { name } if name == writer => None,
            _ => Some(writer),
        }
    }
}

/// One place an edge is written, with the kind written there (at the
/// module level, a `uses` edge stands for edges of many kinds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Site {
    pub location: Location,
    pub condition: Option<String>,
    pub kind: EdgeKind,
}

impl Site {
    fn of(edge: &Edge) -> Site {
        Site {
            location: edge.location.clone(),
            condition: edge.condition.clone(),
            kind: edge.kind,
        }
    }
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
        let mut by_unit: HashMap<&Vertex, Vec<&Edge>> = HashMap::new();
        for edge in &self.edges {
            if self.declares_unit(edge) {
                by_unit.entry(&edge.unit).or_default().push(edge);
            }
        }
        let mut units = HashSet::new();
        let mut queue: VecDeque<Vertex> = starts.into_iter().collect();
        while let Some(unit) = queue.pop_front() {
            if units.contains(&unit) {
                continue;
            }
            for edge in by_unit.get(&unit).into_iter().flatten() {
                if !units.contains(&edge.to) {
                    queue.push_back(edge.to.clone());
                }
            }
            units.insert(unit);
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
        let in_scope = |edge: &&Edge| {
            units
                .as_ref()
                .is_none_or(|units| units.contains(&edge.unit))
        };
        self.graph_of(level, self.edges.iter().filter(in_scope))
    }

    /// The resource-level graph of the whole codebase's ordering edges
    /// only: all its cycles are, for a fraction of the work.
    pub fn ordering_graph(&self) -> Graph {
        let ordering = self
            .edges
            .iter()
            .filter(|edge| edge.kind.from_runs_first().is_some());
        self.graph_of(Level::Resource, ordering)
    }

    fn graph_of<'e>(&'e self, level: Level, selected: impl Iterator<Item = &'e Edge>) -> Graph {
        let declared_by = self.declarers();
        let mut vertices: Vec<Vertex> = Vec::new();
        let mut index: HashMap<Vertex, usize> = HashMap::new();
        // Each (from, to, kind, writer) once: the first edge, under the
        // conditions of all the edges that map to it.
        type Key = (Vertex, Vertex, EdgeKind, Option<String>);
        let mut seen: HashMap<Key, usize> = HashMap::new();
        let mut edges: Vec<GraphEdge> = Vec::new();
        for edge in selected {
            let Some((from, to, kind)) = self.at_level(level, edge, &declared_by) else {
                continue;
            };
            if from == to {
                continue;
            }
            let writer = (level == Level::Module).then(|| self.module_or_site(&edge.unit));
            let key = (from.clone(), to.clone(), kind, writer.clone());
            if let Some(&first) = seen.get(&key) {
                let merged = &mut edges[first];
                merged.edge.condition =
                    either(merged.edge.condition.take(), edge.condition.as_deref());
                let site = Site::of(edge);
                if !merged.sites.contains(&site) {
                    merged.sites.push(site);
                }
                continue;
            }
            seen.insert(key, edges.len());
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
                writer,
                sites: vec![Site::of(edge)],
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
                let module = |vertex: &Vertex| Vertex::Module {
                    name: self.module_or_site(vertex),
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
            | Vertex::Function { .. }
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
            Vertex::Variable { name } => match name.without_top().split_last() {
                Some((scope, _)) => self.has_class(scope).then(|| Vertex::class(scope)),
                None => self
                    .top_scope_assigning(name)
                    .map(|file| Vertex::TopScope { file }),
            },
            _ => None,
        }
    }

    /// The module of a unit at the module level: `site` for code outside
    /// any module.
    fn module_or_site(&self, unit: &Vertex) -> String {
        self.module_of(unit).unwrap_or_else(|| "site".to_string())
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
        (Some(first), Some(second)) => Some(any_of(&[&first, second])),
        _ => None,
    }
}

/// The condition that holds when any of `conditions` does, as terms joined
/// with ` or `, each a set of guards joined with ` and `; a term that
/// holds all the guards of another adds nothing to it and goes (absorption:
/// `(A and B and C) or (A and B)` is `A and B`), as do repeated terms and
/// guards.
pub(crate) fn any_of(conditions: &[&str]) -> String {
    let mut terms: Vec<Vec<&str>> = Vec::new();
    for condition in conditions {
        for disjunct in disjuncts(condition) {
            let mut term: Vec<&str> = Vec::new();
            for guard in conjuncts(disjunct) {
                if !term.contains(&guard) {
                    term.push(guard);
                }
            }
            terms.push(term);
        }
    }
    let implies = |term: &[&str], other: &[&str]| other.iter().all(|guard| term.contains(guard));
    let kept: Vec<&Vec<&str>> = terms
        .iter()
        .enumerate()
        .filter(|&(at, term)| {
            !terms.iter().enumerate().any(|(other_at, other)| {
                other_at != at
                    && implies(term, other)
                    // Of two equal terms, the first stays.
                    && (other.len() < term.len() || other_at < at)
            })
        })
        .map(|(_, term)| term)
        .collect();
    let guard_text = |guard: &&str| {
        if disjuncts(guard).len() > 1 {
            format!("({guard})")
        } else {
            guard.to_string()
        }
    };
    let term_text = |term: &Vec<&str>| term.iter().map(guard_text).collect::<Vec<_>>();
    match kept.as_slice() {
        [only] => term_text(only).join(" and "),
        _ => kept
            .iter()
            .map(|term| match term_text(term).as_slice() {
                [guard] => guard.clone(),
                guards => format!("({})", guards.join(" and ")),
            })
            .collect::<Vec<_>>()
            .join(" or "),
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
/// `g`, another `!(g)` (or `!g`, `g == false`; or `!(a and b)` against `a`
/// and `b`); or two pick different values of one `case` test (`t == 'a'`,
/// `t == 'b'`, or `t == 'a'` and the `default` branch, `t not in ['a',
/// 'b']`, or `t != 'a'`); or one never holds (`false`, `!(true)`, as when
/// a parameter tested is given `false`).
pub(crate) fn exclusive(conditions: &[&str]) -> bool {
    thread_local! {
        static DECIDED: RefCell<FastMap<Box<str>, bool>> = RefCell::default();
    }
    // The checks ask about the same guards of an entry's code thousands of
    // times: each set of conditions is decided once per thread.
    let mut key = String::new();
    for condition in conditions {
        // Each text after its length: two lists never make one key.
        let _ = write!(key, "{}:{condition}", condition.len());
    }
    if let Some(known) = DECIDED.with(|decided| decided.borrow().get(key.as_str()).copied()) {
        return known;
    }
    let answer = decide_exclusive(conditions);
    DECIDED.with(|decided| decided.borrow_mut().insert(key.into(), answer));
    answer
}

/// [`exclusive`], decided.
fn decide_exclusive(conditions: &[&str]) -> bool {
    let held: Vec<(bool, &str)> = conditions
        .iter()
        .flat_map(|condition| literals_remembered(condition))
        .collect();
    let never = |&(holds, test): &(bool, &str)| match holds {
        true => test == "false" || test == "undef",
        false => test == "true",
    };
    if held.iter().any(never) {
        return true;
    }
    let negation_held = held.iter().any(|&(holds, test)| {
        held.contains(&(!holds, test))
            || (!holds && {
                let parts = literals_remembered(test);
                parts.len() > 1 && parts.iter().all(|part| held.contains(part))
            })
    });
    let values: Vec<(&str, Values)> = held
        .iter()
        .filter(|(holds, _)| *holds)
        .filter_map(|(_, test)| case_values(test))
        .collect();
    negation_held
        || values.iter().enumerate().any(|(at, one)| {
            values[at + 1..]
                .iter()
                .any(|other| case_exclusive(one, other) || case_exclusive(other, one))
        })
}

/// [`literals`], read once per condition text and thread: the checks ask
/// about the same guards of an entry's code thousands of times.
fn literals_remembered(condition: &str) -> Vec<(bool, &str)> {
    /// Each literal's test as a range of the condition's text.
    type Ranges = Rc<[(bool, Range<usize>)]>;
    thread_local! {
        static READ: RefCell<FastMap<Box<str>, Ranges>> = RefCell::default();
    }
    let known = READ.with(|read| read.borrow().get(condition).cloned());
    let ranges = known.unwrap_or_else(|| {
        let base = condition.as_ptr() as usize;
        let ranges: Ranges = literals(condition)
            .into_iter()
            .map(|(holds, test)| {
                // Every test is a slice of the condition's text.
                let start = test.as_ptr() as usize - base;
                (holds, start..start + test.len())
            })
            .collect();
        READ.with(|read| read.borrow_mut().insert(condition.into(), ranges.clone()));
        ranges
    });
    ranges
        .iter()
        .map(|(holds, range)| (*holds, &condition[range.clone()]))
        .collect()
}

/// The guards of a condition, each as whether it holds or its negation
/// does, and what it tests: `!($a)`, `!$a` and `$a == false` are
/// `(false, "$a")`. A negated alternative (`!($a or $b)`, a later `case`
/// option's "no earlier option matched") is also each alternative's
/// negation.
fn literals(condition: &str) -> Vec<(bool, &str)> {
    let mut found = Vec::new();
    for (holds, test) in conjuncts(condition).into_iter().map(literal) {
        found.push((holds, test));
        let alternatives = disjuncts(test);
        if !holds && alternatives.len() > 1 {
            found.extend(
                alternatives
                    .into_iter()
                    .map(literal)
                    .map(|(holds, test)| (!holds, test)),
            );
        }
    }
    found
}

fn literal(guard: &str) -> (bool, &str) {
    if let Some(inner) = unwrapped(guard) {
        return literal(inner.trim());
    }
    if let Some(negated) = guard.strip_prefix('!') {
        let negated = negated.trim();
        if let Some(inner) = unwrapped(negated) {
            let (holds, test) = literal(inner.trim());
            return (!holds, test);
        }
        if is_one_value(negated) {
            return (false, negated);
        }
    }
    if let Some(test) = guard.strip_suffix(" == false") {
        return (false, test);
    }
    if let Some(test) = guard.strip_suffix(" == true") {
        return (true, test);
    }
    (true, guard)
}

/// Whether two `case` guards (or comparisons with literals) pick values
/// that cannot both hold.
fn case_exclusive(
    (test, values): &(&str, Values),
    (other_test, other_values): &(&str, Values),
) -> bool {
    let same = |a: &&str, b: &&str| unquoted(a).eq_ignore_ascii_case(unquoted(b));
    test == other_test
        && match (values, other_values) {
            (Values::In(one), Values::In(two)) => {
                one.iter().all(|v| !two.iter().any(|w| same(v, w)))
            }
            (Values::In(one), Values::NotIn(two)) => {
                one.iter().all(|v| two.iter().any(|w| same(v, w)))
            }
            // `==` ignores case, `=~` does not: exclusive only when no
            // spelling of the strings matches.
            (Values::In(one), Values::Matching(pattern)) => {
                regex::Regex::new(&format!("(?im){pattern}")).is_ok_and(|matching| {
                    one.iter().all(|value| {
                        unquoted(value) != *value && !matching.is_match(unquoted(value))
                    })
                })
            }
            _ => false,
        }
}

/// A value without its quotes: Puppet compares strings ignoring case and
/// quotes do not matter.
fn unquoted(value: &str) -> &str {
    value
        .strip_prefix('\'')
        .and_then(|v| v.strip_suffix('\''))
        .or_else(|| value.strip_prefix('"').and_then(|v| v.strip_suffix('"')))
        .unwrap_or(value)
}

/// The guards a condition joins with ` and ` (not those inside parentheses,
/// brackets or quotes, where ` and ` belongs to one guard's test), those of
/// a guard in parentheses included.
fn conjuncts(condition: &str) -> Vec<&str> {
    split_outside(condition, " and ")
        .into_iter()
        .flat_map(|part| match unwrapped(part) {
            Some(inner) => conjuncts(inner),
            None => vec![part],
        })
        .collect()
}

/// The alternatives a condition joins with ` or ` (as [`conjuncts`]); one
/// in parentheses is split when it is all of the condition.
fn disjuncts(condition: &str) -> Vec<&str> {
    let condition = condition.trim();
    match unwrapped(condition) {
        Some(inner) => disjuncts(inner),
        None => split_outside(condition, " or ")
            .into_iter()
            .flat_map(|part| match unwrapped(part) {
                Some(inner) if split_outside(inner, " or ").len() > 1 => disjuncts(inner),
                _ => vec![part],
            })
            .collect(),
    }
}

/// The parts of `text` between the `joiner`s outside parentheses, brackets
/// and quotes, trimmed.
fn split_outside<'t>(text: &'t str, joiner: &str) -> Vec<&'t str> {
    let mut parts = Vec::new();
    let (mut depth, mut quote, mut start) = (0i32, None, 0);
    let bytes = text.as_bytes();
    for (at, &byte) in bytes.iter().enumerate() {
        match (quote, byte) {
            (Some(open), _) if byte == open && bytes.get(at.wrapping_sub(1)) != Some(&b'\\') => {
                quote = None
            }
            (Some(_), _) => {}
            (None, b'\'' | b'"') => quote = Some(byte),
            (None, b'(' | b'[' | b'{') => depth += 1,
            (None, b')' | b']' | b'}') => depth -= 1,
            (None, b' ') if depth == 0 && text[at..].starts_with(joiner) && at >= start => {
                parts.push(&text[start..at]);
                start = at + joiner.len();
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts.into_iter().map(str::trim).collect()
}

/// The inside of `(x)` when the parentheses hold all of it.
fn unwrapped(part: &str) -> Option<&str> {
    let inner = part.strip_prefix('(')?.strip_suffix(')')?;
    let mut depth = 0i32;
    for byte in inner.bytes() {
        match byte {
            b'(' => depth += 1,
            b')' => depth -= 1,
            _ => {}
        }
        if depth < 0 {
            return None;
        }
    }
    Some(inner)
}

/// The values a `case` guard lets its test take, or all but, or those a
/// regular expression matches.
enum Values<'a> {
    In(Vec<&'a str>),
    NotIn(Vec<&'a str>),
    Matching(&'a str),
}

/// A `case` guard's test and values: `t == 'a'`, `t in ['a', 'b']`,
/// `t not in ['a', 'b']` (the `default` branch), or the same from an `if`
/// (`t != 'a'`). Different options of one `case` never run together
/// whatever their values, so any two different values count as exclusive;
/// `None` for a test joining others (`a or b == 'c'`).
fn case_values(guard: &str) -> Option<(&str, Values<'_>)> {
    // `t == 'a' or t == 'b'`, as a `case` option listing two values reads.
    let alternatives = disjuncts(guard);
    if alternatives.len() > 1 {
        let mut tested = None;
        let mut all = Vec::new();
        for alternative in alternatives {
            let alternative = unwrapped(alternative).unwrap_or(alternative).trim();
            let (test, Values::In(values)) = case_values(alternative)? else {
                return None;
            };
            if tested.is_some_and(|first| first != test) {
                return None;
            }
            tested = Some(test);
            all.extend(values);
        }
        return Some((tested?, Values::In(all)));
    }
    if let Some((test, pattern)) = guard.split_once(" =~ ") {
        let pattern = pattern.strip_prefix('/')?.strip_suffix('/')?;
        return is_one_value(test).then_some((test, Values::Matching(pattern)));
    }
    let (test, values) = if let Some((test, values)) = guard.split_once(" not in ") {
        (test, Values::NotIn(case_list(values)?))
    } else if let Some((test, values)) = guard.split_once(" in ") {
        (test, Values::In(case_list(values)?))
    } else if let Some((test, value)) = guard.split_once(" != ") {
        (test, Values::NotIn(vec![value]))
    } else {
        let (test, value) = guard.split_once(" == ")?;
        (test, Values::In(vec![value]))
    };
    let (Values::In(list) | Values::NotIn(list)) = &values else {
        return None;
    };
    (is_one_value(test) && list.iter().all(|value| is_one_value(value))).then_some((test, values))
}

/// The values of `[a, b]` as a `case` guard writes them.
fn case_list(values: &str) -> Option<Vec<&str>> {
    let inner = values.strip_prefix('[')?.strip_suffix(']')?;
    Some(inner.split(", ").collect())
}

/// Whether a test or value is one expression, not several joined.
fn is_one_value(text: &str) -> bool {
    ![" or ", " and ", "==", "!=", " in "]
        .iter()
        .any(|joining| text.contains(joining))
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

#[cfg(test)]
mod tests {
    use super::{any_of, exclusive};

    #[test]
    fn a_term_holding_all_the_guards_of_another_is_absorbed() {
        assert_eq!(any_of(&["A and B and C", "A and B"]), "A and B");
        assert_eq!(any_of(&["(A and B and C) or (A and B)"]), "A and B");
        assert_eq!(any_of(&["A and B", "B and A and C"]), "A and B");
        assert_eq!(any_of(&["$x", "$x"]), "$x");
        assert_eq!(any_of(&["$x and $x"]), "$x");
        // Nothing to absorb: both terms stay, in the order written.
        assert_eq!(any_of(&["$a and $b", "$c"]), "($a and $b) or $c");
        assert_eq!(
            any_of(&["($a and $b) or $c", "$a and $b and $d", "$c and $e"]),
            "($a and $b) or $c"
        );
        // An alternative inside a guard stays one guard, in parentheses.
        assert_eq!(
            any_of(&["($a or $b) and $c", "($a or $b) and $c and $d"]),
            "($a or $b) and $c"
        );
        // ` or ` and ` and ` inside quotes or brackets join no guards.
        assert_eq!(
            any_of(&[
                "$t in ['a or b', 'c and d']",
                "$t in ['a or b', 'c and d'] and $e"
            ]),
            "$t in ['a or b', 'c and d']"
        );
    }

    #[test]
    fn exclusivity_still_sees_the_guards_of_an_absorbed_condition() {
        let merged = any_of(&["$a and $b and $c", "$a and $b"]);
        assert!(exclusive(&[&merged, "!($a)"]));
        assert!(!exclusive(&[&merged, "$d"]));
    }

    #[test]
    fn a_guard_and_its_negation_are_exclusive_whatever_the_test_holds() {
        // `if $a and $b { } else { }`: the branches' guards.
        assert!(exclusive(&["$a and $b", "!($a and $b)"]));
        // The same guards joined with those of enclosing branches.
        assert!(exclusive(&["$x and $a and $b", "$x and !($a and $b)"]));
        // `if ($clean and $ensure != 'absent')` and `if ($clean and $ensure == 'absent')`.
        assert!(exclusive(&[
            "($clean and $ensure != 'absent')",
            "($clean and $ensure == 'absent')"
        ]));
        assert!(exclusive(&["!$manage", "$manage"]));
        assert!(exclusive(&["$manage == false", "$manage"]));
        assert!(exclusive(&[
            "( !($os == 'Amazon') )",
            "($os == 'Amazon' and $release == '2')"
        ]));
        assert!(exclusive(&["$a and $b", "!($a)"]));
        assert!(!exclusive(&["$a", "$b"]));
        assert!(!exclusive(&["$a and $b", "!($a and $c)"]));
        // A later `case` option: none of the earlier ones matched.
        let storage = "($role =~ /storage/) and !(($role =~ /controller/))";
        let proxy =
            "($role =~ /swift-proxy/) and !(($role =~ /controller/) or ($role =~ /storage/))";
        assert!(exclusive(&[storage, proxy]));
        assert!(!exclusive(&["$role =~ /storage/", "!(($a) or ($b))"]));
    }

    #[test]
    fn different_values_of_one_test_are_exclusive() {
        assert!(exclusive(&["$os == 'Debian'", "$os == 'RedHat'"]));
        // Puppet compares strings ignoring case.
        assert!(!exclusive(&["$os == 'freebsd'", "$os == 'FreeBSD'"]));
        assert!(exclusive(&["$os == 'freebsd'", "$os != 'FreeBSD'"]));
        // A `case` default against one of the other options.
        assert!(exclusive(&[
            "$os not in ['Debian', 'RedHat']",
            "$os == 'Debian'"
        ]));
        assert!(!exclusive(&[
            "$os not in ['Debian', 'RedHat']",
            "$os == 'Suse'"
        ]));
        assert!(exclusive(&[
            "$os in ['Debian', 'Ubuntu']",
            "$os == 'RedHat'"
        ]));
        assert!(!exclusive(&[
            "$os in ['Debian', 'Ubuntu']",
            "$os == 'Ubuntu'"
        ]));
        // A test joining others tells nothing of one variable's value.
        assert!(!exclusive(&["$a == 'x' or $b == 'y'", "$a == 'z'"]));
    }

    #[test]
    fn a_value_a_pattern_cannot_match_is_exclusive_with_it() {
        let ha = "$s['mode'] =~ /^(ha|ha_compact)$/";
        assert!(exclusive(&["$s['mode'] == \"singlenode\"", ha]));
        assert!(exclusive(&[
            ha,
            "$s['mode'] in ['multinode', 'singlenode']"
        ]));
        assert!(!exclusive(&["$s['mode'] == 'ha_compact'", ha]));
        // `==` ignores case, so 'HA' may be the 'ha' the pattern matches.
        assert!(!exclusive(&["$s['mode'] == 'HA'", ha]));
        // Not a string (a variable's value), another test, or a pattern
        // Rust's engine does not read: nothing known.
        assert!(!exclusive(&["$s['mode'] == $other", ha]));
        assert!(!exclusive(&["$t == 'singlenode'", ha]));
        assert!(!exclusive(&[
            "$s['mode'] == 'x'",
            "$s['mode'] =~ /(?<=a)b/"
        ]));
        assert!(!exclusive(&["$s['mode'] != 'ha'", ha]));
        // A `case` option of two values.
        let simple = "($s['mode'] == 'singlenode') or ($s['mode'] == 'multinode')";
        assert!(exclusive(&[simple, ha]));
        assert!(exclusive(&[simple, "$s['mode'] == 'ha'"]));
        assert!(!exclusive(&[simple, "$s['mode'] == 'multinode'"]));
        assert!(!exclusive(&["($s['mode'] == 'single') or ($t == 'x')", ha]));
    }

    #[test]
    fn a_guard_that_never_holds_is_exclusive_with_anything() {
        // A parameter tested, given `false` by the declaration on the way.
        assert!(exclusive(&["false"]));
        assert!(exclusive(&["$a", "!(true)"]));
        assert!(!exclusive(&["true", "$a"]));
    }
}
