//! `--focus NAME --depth N`: the part of a graph around one vertex, so that a
//! picture of a large codebase stays readable.

use granule_analyzer::{Graph, Vertex};
use std::collections::hash_map::Entry;
use std::collections::{HashMap, VecDeque};

/// The vertices within `depth` edges (in either direction) of the vertices
/// named `name`, the edges among them, and the cycles they hold entirely.
pub fn focus(graph: Graph, name: &str, depth: usize) -> Result<Graph, String> {
    let centers: Vec<usize> = (0..graph.vertices.len())
        .filter(|&index| is_named(&graph.vertices[index], name))
        .collect();
    if centers.is_empty() {
        return Err(no_such_vertex(&graph, name));
    }
    let mut neighbours: HashMap<usize, Vec<usize>> = HashMap::new();
    for edge in &graph.edges {
        neighbours.entry(edge.from).or_default().push(edge.to);
        neighbours.entry(edge.to).or_default().push(edge.from);
    }
    let mut distance: HashMap<usize, usize> = centers.iter().map(|&c| (c, 0)).collect();
    let mut queue: VecDeque<usize> = centers.into_iter().collect();
    while let Some(vertex) = queue.pop_front() {
        let next = distance[&vertex] + 1;
        if next > depth {
            continue;
        }
        for &other in neighbours.get(&vertex).into_iter().flatten() {
            if let Entry::Vacant(slot) = distance.entry(other) {
                slot.insert(next);
                queue.push_back(other);
            }
        }
    }
    let mut renumbered: HashMap<usize, usize> = HashMap::new();
    let mut vertices = Vec::new();
    for (index, vertex) in graph.vertices.into_iter().enumerate() {
        if distance.contains_key(&index) {
            renumbered.insert(index, vertices.len());
            vertices.push(vertex);
        }
    }
    let edges = graph
        .edges
        .into_iter()
        .filter_map(|mut edge| {
            edge.from = *renumbered.get(&edge.from)?;
            edge.to = *renumbered.get(&edge.to)?;
            Some(edge)
        })
        .collect();
    let cycles = graph
        .cycles
        .into_iter()
        .filter(|cycle| cycle.iter().all(|vertex| vertices.contains(vertex)))
        .collect();
    Ok(Graph {
        level: graph.level,
        vertices,
        edges,
        cycles,
    })
}

/// Whether `name` names the vertex: its label (`class nova::api`,
/// `File[/etc/x]`) or its bare name (`nova::api`), without a leading `::`,
/// ignoring case as Puppet does for class and type names.
pub fn is_named(vertex: &Vertex, name: &str) -> bool {
    let wanted = name.trim().trim_start_matches("::");
    let bare = match vertex {
        Vertex::Class { name }
        | Vertex::Type { name }
        | Vertex::Node { name }
        | Vertex::Function { name }
        | Vertex::Variable { name }
        | Vertex::Stage { name }
        | Vertex::Module { name } => Some(name.as_str()),
        Vertex::TopScope { file } => Some(&**file),
        Vertex::LookupKey { key } => Some(key.as_str()),
        Vertex::Resource { .. } | Vertex::Collector { .. } => None,
    };
    bare.is_some_and(|bare| bare.trim_start_matches("::").eq_ignore_ascii_case(wanted))
        || vertex.label().eq_ignore_ascii_case(wanted)
}

fn no_such_vertex(graph: &Graph, name: &str) -> String {
    let needle = name.trim().trim_start_matches("::").to_lowercase();
    let similar: Vec<String> = graph
        .vertices
        .iter()
        .map(Vertex::label)
        .filter(|label| label.to_lowercase().contains(&needle))
        .take(8)
        .collect();
    let mut message = format!("--focus {name}: no vertex of that name in this graph");
    if similar.is_empty() {
        message.push_str(
            "; `granule deps` with the same options lists every edge and the names of both ends",
        );
    } else {
        message.push_str(&format!("; did you mean: {}?", similar.join(", ")));
    }
    message
}
