//! The HTML page of a dependency graph: one self-contained file (the SVG
//! Graphviz drew, the vertices and edges as JSON, the script and the style
//! inline) that works offline: pan and zoom, search by name, click a vertex
//! to list its edges with kind, other end, condition and file:line.
//!
//! The script maps SVG nodes back to vertices through the `<title>` Graphviz
//! gives each node and edge: the DOT names `v<index>` and `v<a>->v<b>`.

use granule_analyzer::{Analysis, Graph};

const SCRIPT: &str = include_str!("../assets/graph_page.js");
const STYLE: &str = include_str!("../assets/graph_page.css");

/// The page for `graph`, drawn as `svg`.
pub fn page(title: &str, svg: &str, graph: &Graph, analysis: &Analysis) -> String {
    let title = escape_html(title);
    let data = script_safe(&data(graph, analysis).to_string());
    let svg = crate::render::svg_element(svg);
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>{title}</title>\n<link rel=\"icon\" href=\"data:,\">\n<style>\n{STYLE}</style>\n</head>\n\
         <body>\n<header>\n<h1>{title}</h1>\n\
         <input id=\"search\" type=\"search\" placeholder=\"Find a vertex by name (Enter: next)\" autocomplete=\"off\">\n\
         <span id=\"search-status\"></span>\n\
         <span class=\"hint\">wheel: zoom, drag: pan, click a vertex: its edges</span>\n</header>\n\
         <main>\n<div id=\"viewport\">\n{svg}\n</div>\n\
         <aside id=\"panel\"><p class=\"hint\">Click a vertex to list its edges.</p></aside>\n</main>\n\
         <script type=\"application/json\" id=\"graph-data\">{data}</script>\n\
         <script>\n{SCRIPT}</script>\n</body>\n</html>\n"
    )
}

/// What the script needs beyond the picture: each vertex's label and module,
/// each edge with where it is written.
fn data(graph: &Graph, analysis: &Analysis) -> serde_json::Value {
    let vertices: Vec<serde_json::Value> = graph
        .vertices
        .iter()
        .map(|vertex| {
            serde_json::json!({
                "label": vertex.label(),
                "module": analysis.module_of(vertex),
            })
        })
        .collect();
    let edges: Vec<serde_json::Value> = graph
        .edges
        .iter()
        .map(|edge| {
            let location = &edge.edge.location;
            serde_json::json!({
                "from": edge.from,
                "to": edge.to,
                "kind": edge.edge.kind.name(),
                "condition": edge.edge.condition,
                "location": format!("{}:{}", location.file, location.line),
                "resolved": edge.edge.resolved,
                "cross_module": edge.cross_module,
                "in_cycle": edge.in_cycle,
            })
        })
        .collect();
    serde_json::json!({ "vertices": vertices, "edges": edges })
}

/// JSON that cannot end the `<script>` element it sits in: `<` only occurs
/// inside JSON strings, where `\u003c` means the same.
fn script_safe(json: &str) -> String {
    json.replace('<', "\\u003c")
}

fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
