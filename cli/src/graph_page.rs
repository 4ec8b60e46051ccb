//! The HTML page of a dependency graph: one self-contained file (the SVG
//! Graphviz drew, the vertices and edges as JSON, the script and the style
//! inline) that works offline: it opens on the entry at a zoom where labels
//! can be read; pan and zoom; search by name (zooms to the vertex and
//! lights its neighbours); fold a module into one box and unfold it; hide
//! edges by kind; a legend of the colours; click a vertex to list its edges
//! with kind, other end, condition and file:line (relative to the module
//! path).
//!
//! The script maps SVG elements back to the data through the ids the DOT
//! gives them: `v<index>` for a vertex, `e<index>` for an edge.

use granule_analyzer::dot::Style;
use granule_analyzer::{Analysis, Graph, Level, Vertex};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const SCRIPT: &str = include_str!("../assets/graph_page.js");
const STYLE: &str = include_str!("../assets/graph_page.css");

/// What the page shows.
pub struct Page<'a> {
    pub title: &'a str,
    /// The SVG Graphviz drew of the graph's DOT.
    pub svg: &'a str,
    pub graph: &'a Graph,
    pub analysis: &'a Analysis,
    /// The directories file paths are shown relative to.
    pub modulepath: &'a [PathBuf],
    /// The vertex to open on: --focus, else --entry.
    pub entry: Option<&'a str>,
}

impl Page<'_> {
    pub fn html(&self) -> String {
        let title = escape_html(self.title);
        let data = script_safe(&self.data().to_string());
        let svg = crate::render::svg_element(self.svg);
        format!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <title>{title}</title>\n<link rel=\"icon\" href=\"data:,\">\n<style>\n{STYLE}</style>\n</head>\n\
             <body>\n<header>\n<h1>{title}</h1>\n\
             <input id=\"search\" type=\"search\" placeholder=\"Find a vertex by name (Enter: next)\" autocomplete=\"off\">\n\
             <span id=\"search-status\"></span>\n\
             <button id=\"fold-all\" type=\"button\">Fold all modules</button>\n\
             <button id=\"unfold-all\" type=\"button\">Unfold all</button>\n\
             <span class=\"hint\">wheel: zoom, drag: pan, click a vertex: its edges, click a module's name: fold it</span>\n</header>\n\
             <main>\n<div id=\"viewport\">\n{svg}\n<div id=\"legend\"></div>\n</div>\n\
             <aside id=\"panel\"><p class=\"hint\">Click a vertex to list its edges.</p></aside>\n</main>\n\
             <script type=\"application/json\" id=\"graph-data\">{data}</script>\n\
             <script>\n{SCRIPT}</script>\n</body>\n</html>\n"
        )
    }

    /// What the script needs beyond the picture: each vertex's label and
    /// module, each edge with where it is written, the vertex to open on,
    /// the legend.
    fn data(&self) -> serde_json::Value {
        let graph = self.graph;
        let vertices: Vec<serde_json::Value> = graph
            .vertices
            .iter()
            .map(|vertex| {
                let module = match vertex {
                    Vertex::Module { name } => Some(name.clone()),
                    _ => self.analysis.module_of(vertex),
                };
                serde_json::json!({ "label": vertex.label(), "module": module })
            })
            .collect();
        let edges: Vec<serde_json::Value> = graph
            .edges
            .iter()
            .map(|edge| {
                let location = &edge.edge.location;
                let kinds: BTreeSet<&str> =
                    edge.sites.iter().map(|site| site.kind.name()).collect();
                let styles: Vec<&str> = Style::of_edge(graph, edge)
                    .into_iter()
                    .map(Style::key)
                    .collect();
                serde_json::json!({
                    "from": edge.from,
                    "to": edge.to,
                    "kind": edge.edge.kind.name(),
                    "kinds": kinds,
                    "condition": edge.edge.condition,
                    "location": format!("{}:{}", self.shown_path(&location.file), location.line),
                    "sites": edge.sites.len(),
                    "written_in": graph.written_elsewhere(edge),
                    "styles": styles,
                    "resolved": edge.edge.resolved,
                    "cross_module": edge.cross_module,
                    "in_cycle": edge.in_cycle,
                })
            })
            .collect();
        let legend: Vec<serde_json::Value> = Style::used(graph)
            .into_iter()
            .map(|style| {
                let (look, meaning) = style.legend();
                serde_json::json!({ "key": style.key(), "look": look, "meaning": meaning })
            })
            .collect();
        serde_json::json!({
            "vertices": vertices,
            "edges": edges,
            "entry": self.entry_vertex(),
            "legend": legend,
        })
    }

    /// The vertex the page opens on: the one --focus or --entry names (at
    /// the module level, the entry's module), else the one with most edges.
    fn entry_vertex(&self) -> Option<usize> {
        let graph = self.graph;
        let named = |name: &str| {
            (0..graph.vertices.len())
                .find(|&index| crate::focus::is_named(&graph.vertices[index], name))
        };
        let entry = self.entry.and_then(|entry| {
            named(entry).or_else(|| {
                let module = self.analysis.module_of(&Vertex::class(entry))?;
                (graph.level == Level::Module)
                    .then(|| named(&module))
                    .flatten()
            })
        });
        entry.or_else(|| {
            let mut degree = vec![0usize; graph.vertices.len()];
            for edge in &graph.edges {
                degree[edge.from] += 1;
                degree[edge.to] += 1;
            }
            (0..degree.len()).max_by_key(|&index| (degree[index], std::cmp::Reverse(index)))
        })
    }

    /// `file` relative to the module path directory that holds it; as
    /// given when none does.
    fn shown_path(&self, file: &str) -> String {
        self.modulepath
            .iter()
            .find_map(|dir| Path::new(file).strip_prefix(dir).ok())
            .map_or_else(|| file.to_string(), |path| path.display().to_string())
    }
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
