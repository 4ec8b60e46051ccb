//! The JSON document of `granule deps --format json`; its schema is in
//! docs/formats.md and stays stable (`version` changes if it must not).

use crate::analysis::Analysis;
use crate::graph::Graph;

/// The edges of `graph` with their kinds, locations and conditions, its
/// cycles, and the analysis' findings, pretty-printed.
pub fn to_json(analysis: &Analysis, graph: &Graph, entry: Option<&str>) -> String {
    let edges: Vec<serde_json::Value> = graph
        .edges
        .iter()
        .map(|edge| {
            serde_json::json!({
                "from": edge.edge.from,
                "to": edge.edge.to,
                "kind": edge.edge.kind,
                "location": edge.edge.location,
                "condition": edge.edge.condition,
                "unit": edge.edge.unit,
                "writer": edge.writer,
                "resolved": edge.edge.resolved,
                "cross_module": edge.cross_module,
                "through_resource": edge.through_resource,
                "in_cycle": edge.in_cycle,
                "sites": edge.sites,
            })
        })
        .collect();
    let document = serde_json::json!({
        "version": 1,
        "level": graph.level,
        "entry": entry,
        "edges": edges,
        "cycles": graph.cycles,
        "findings": analysis.findings,
    });
    let mut text = serde_json::to_string_pretty(&document).expect("JSON of plain data");
    text.push('\n');
    text
}
