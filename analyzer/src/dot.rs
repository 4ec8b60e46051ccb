//! A graph in Graphviz's DOT language: one cluster per module, cross-module
//! edges bold and blue, edges on a cycle bold and red, unresolved targets
//! dashed. Deterministic: the same graph gives the same text.

use crate::analysis::Analysis;
use crate::graph::Graph;
use std::collections::BTreeMap;
use std::fmt::Write;

pub fn to_dot(graph: &Graph, analysis: &Analysis) -> String {
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
                "{indent}v{index} [label={}{style}];",
                quote(&graph.vertices[index].label())
            );
        }
        if module.is_some() {
            out.push_str("  }\n");
        }
    }
    for edge in &graph.edges {
        let mut attributes = vec![format!("label={}", quote(edge.edge.kind.name()))];
        if edge.in_cycle {
            attributes.push("color=\"red\", penwidth=2".to_string());
        } else if edge.cross_module {
            attributes.push("color=\"blue\", penwidth=1.5".to_string());
        }
        if edge.edge.kind.refreshes() {
            attributes.push("style=\"bold\"".to_string());
        }
        if edge.edge.condition.is_some() {
            attributes.push("arrowhead=\"onormal\"".to_string());
        }
        attributes.push(format!(
            "tooltip={}",
            quote(&edge.edge.location.to_string())
        ));
        let _ = writeln!(
            out,
            "  v{} -> v{} [{}];",
            edge.from,
            edge.to,
            attributes.join(", ")
        );
    }
    out.push_str("}\n");
    out
}

fn quote(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}
