//! A graph in Graphviz's DOT language: one cluster per module, cross-module
//! edges bold and blue, edges on a cycle bold and red, edges a third module
//! writes orange and labelled with it, unresolved targets dashed, and a
//! legend of the styles used. Deterministic: the same graph gives the same
//! text.

use crate::analysis::Analysis;
use crate::graph::{Graph, GraphEdge};
use std::collections::BTreeMap;
use std::fmt::Write;

/// Whether edges carry their kind as a label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdgeLabels {
    /// Only when the kinds differ: a picture where every edge says `uses`
    /// learns nothing from the words and loses room to them.
    Auto,
    Always,
    Never,
}

/// A way an edge or vertex is drawn, and what it means: the legend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Style {
    Cycle,
    CrossModule,
    WrittenElsewhere,
    Conditional,
    Refreshes,
    DefinedNowhere,
}

impl Style {
    /// The name the HTML page knows the style by.
    pub fn key(self) -> &'static str {
        match self {
            Style::Cycle => "cycle",
            Style::CrossModule => "cross_module",
            Style::WrittenElsewhere => "written_elsewhere",
            Style::Conditional => "conditional",
            Style::Refreshes => "refreshes",
            Style::DefinedNowhere => "defined_nowhere",
        }
    }

    /// How it looks, and what it means.
    pub fn legend(self) -> (&'static str, &'static str) {
        match self {
            Style::Cycle => ("red edge", "on a cycle of ordering edges"),
            Style::CrossModule => ("blue edge", "between two modules"),
            Style::WrittenElsewhere => (
                "orange edge \"in m\"",
                "written in module m's code, not in its source's",
            ),
            Style::Conditional => (
                "hollow arrowhead",
                "under a condition (if, unless, case, selector)",
            ),
            Style::Refreshes => ("bold edge", "refreshes its target (notify, subscribe)"),
            Style::DefinedNowhere => ("dashed grey box", "defined nowhere on the modulepath"),
        }
    }

    /// The styles of an edge of `graph`, those that set its colour first.
    pub fn of_edge(graph: &Graph, edge: &GraphEdge) -> Vec<Style> {
        let mut styles = Vec::new();
        if edge.in_cycle {
            styles.push(Style::Cycle);
        }
        if graph.written_elsewhere(edge).is_some() {
            styles.push(Style::WrittenElsewhere);
        }
        if edge.cross_module {
            styles.push(Style::CrossModule);
        }
        if edge.edge.condition.is_some() {
            styles.push(Style::Conditional);
        }
        if edge.edge.kind.refreshes() {
            styles.push(Style::Refreshes);
        }
        styles
    }

    /// The styles `graph` uses, in legend order.
    pub fn used(graph: &Graph) -> Vec<Style> {
        let mut used: Vec<Style> = graph
            .edges
            .iter()
            .flat_map(|edge| Style::of_edge(graph, edge))
            .collect();
        if graph.edges.iter().any(|edge| !edge.edge.resolved) {
            used.push(Style::DefinedNowhere);
        }
        used.sort();
        used.dedup();
        used
    }
}

impl Style {
    /// The DOT attributes of an edge's colour, for the styles that set one.
    fn dot_colour(self) -> Option<&'static str> {
        match self {
            Style::Cycle => Some("color=\"red\", penwidth=2"),
            Style::WrittenElsewhere => Some("color=\"darkorange2\", fontcolor=\"darkorange3\""),
            Style::CrossModule => Some("color=\"blue\", penwidth=1.5"),
            _ => None,
        }
    }

    /// The DOT attributes of an edge's line and head, for the styles that
    /// set them.
    fn dot_line(self) -> Option<&'static str> {
        match self {
            Style::Conditional => Some("arrowhead=\"onormal\""),
            Style::Refreshes => Some("style=\"bold\""),
            _ => None,
        }
    }
}

impl EdgeLabels {
    /// Whether the edges of `graph` show their kind.
    pub fn show_kinds(self, graph: &Graph) -> bool {
        match self {
            EdgeLabels::Always => true,
            EdgeLabels::Never => false,
            EdgeLabels::Auto => graph
                .edges
                .iter()
                .any(|edge| edge.edge.kind != graph.edges[0].edge.kind),
        }
    }
}

pub fn to_dot(graph: &Graph, analysis: &Analysis, labels: EdgeLabels) -> String {
    let mut out = String::from("digraph granule {\n");
    out.push_str("  graph [rankdir=LR, fontname=\"Helvetica\", fontsize=10];\n");
    out.push_str("  node [shape=box, style=\"rounded\", fontname=\"Helvetica\", fontsize=10];\n");
    out.push_str("  edge [fontname=\"Helvetica\", fontsize=8];\n");
    let mut by_module: BTreeMap<Option<String>, Vec<usize>> = BTreeMap::new();
    for (index, vertex) in graph.vertices.iter().enumerate() {
        by_module
            .entry(analysis.module_of(vertex))
            .or_default()
            .push(index);
    }
    let unresolved: Vec<bool> = (0..graph.vertices.len())
        .map(|index| {
            graph
                .edges
                .iter()
                .any(|edge| edge.to == index && !edge.edge.resolved)
        })
        .collect();
    for (module, members) in &by_module {
        let indent = if let Some(module) = module {
            let _ = writeln!(out, "  subgraph {} {{", quote(&format!("cluster_{module}")));
            let _ = writeln!(
                out,
                "    label={}; style=\"rounded,dashed\";",
                quote(module)
            );
            "    "
        } else {
            "  "
        };
        for &index in members {
            let style = if unresolved[index] {
                ", style=\"rounded,dashed\", color=\"gray40\""
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "{indent}v{index} [id=\"v{index}\", label={}{style}];",
                quote(&graph.vertices[index].label())
            );
        }
        if module.is_some() {
            out.push_str("  }\n");
        }
    }
    let show_kinds = labels.show_kinds(graph);
    for (index, edge) in graph.edges.iter().enumerate() {
        let mut attributes = vec![format!("id=\"e{index}\"")];
        let label: Vec<String> = show_kinds
            .then(|| edge.edge.kind.name().to_string())
            .into_iter()
            .chain(
                graph
                    .written_elsewhere(edge)
                    .map(|writer| format!("in {writer}")),
            )
            .collect();
        if !label.is_empty() {
            attributes.push(format!("label={}", quote(&label.join(" "))));
        }
        let styles = Style::of_edge(graph, edge);
        // One colour: the first style that has one.
        attributes.extend(
            styles
                .iter()
                .find_map(|style| style.dot_colour())
                .map(String::from),
        );
        attributes.extend(
            styles
                .iter()
                .filter_map(|style| style.dot_line())
                .map(String::from),
        );
        attributes.push(format!(
            "tooltip={}",
            quote(&format!("{} {}", edge.edge.kind.name(), edge.edge.location))
        ));
        let _ = writeln!(
            out,
            "  v{} -> v{} [{}];",
            edge.from,
            edge.to,
            attributes.join(", ")
        );
    }
    let legend: Vec<String> = Style::used(graph)
        .into_iter()
        .map(|style| {
            let (look, meaning) = style.legend();
            format!("{look}: {meaning}")
        })
        .collect();
    if !legend.is_empty() {
        // `\l` ends a line of the label, aligned left.
        let lines: Vec<String> = legend.iter().map(|line| escape(line)).collect();
        let _ = writeln!(
            out,
            "  label=\"{}\\l\"; labelloc=\"b\"; labeljust=\"l\";",
            lines.join("\\l")
        );
    }
    out.push_str("}\n");
    out
}

fn quote(text: &str) -> String {
    format!("\"{}\"", escape(text))
}

fn escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}
