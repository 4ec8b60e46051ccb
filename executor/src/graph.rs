//! Graphviz drawings of task graphs.

use crate::catalog::Catalog;
use crate::descriptor::TaskKind;
use crate::plan::Plan;
use std::fmt::Write;

fn escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}

fn shape(kind: TaskKind) -> &'static str {
    match kind {
        TaskKind::Group | TaskKind::Stage | TaskKind::Anchor | TaskKind::Skipped => "ellipse",
        _ => "box",
    }
}

/// Every task of a catalog: same-node links solid, cross-node links dashed.
pub fn catalog_dot(catalog: &Catalog) -> String {
    let mut out = String::from(
        "digraph tasks {\n  rankdir=LR;\n  node [fontname=\"sans-serif\", fontsize=10];\n",
    );
    for task in &catalog.tasks {
        let roles: Vec<String> = task.roles.iter().map(|role| role.to_string()).collect();
        let _ = writeln!(
            out,
            "  \"{}\" [shape={}, tooltip=\"{} ({})\\n{}\"];",
            escape(&task.id),
            shape(task.kind),
            task.kind.name(),
            escape(&roles.join(", ")),
            escape(&task.origin.to_string()),
        );
    }
    for (from, list) in catalog.successors.iter().enumerate() {
        for &to in list {
            let _ = writeln!(
                out,
                "  \"{}\" -> \"{}\";",
                escape(&catalog.tasks[from].id),
                escape(&catalog.tasks[to].id)
            );
        }
    }
    for task in &catalog.tasks {
        for dep in &task.cross_depends {
            for other in catalog
                .tasks
                .iter()
                .filter(|other| dep.name.matches(&other.id))
            {
                let _ = writeln!(
                    out,
                    "  \"{}\" -> \"{}\" [style=dashed];",
                    escape(&other.id),
                    escape(&task.id)
                );
            }
        }
        for dep in &task.cross_depended_by {
            for other in catalog
                .tasks
                .iter()
                .filter(|other| dep.name.matches(&other.id))
            {
                let _ = writeln!(
                    out,
                    "  \"{}\" -> \"{}\" [style=dashed];",
                    escape(&task.id),
                    escape(&other.id)
                );
            }
        }
    }
    out.push_str("}\n");
    out
}

/// A plan: one cluster per node, with the links between its tasks.
pub fn plan_dot(plan: &Plan) -> String {
    let mut out = String::from(
        "digraph plan {\n  rankdir=LR;\n  node [fontname=\"sans-serif\", fontsize=10];\n",
    );
    let single = plan.nodes.len() == 1;
    let key = |id: usize| format!("i{id}");
    for (n, node) in plan.nodes.iter().enumerate() {
        if !single {
            let _ = writeln!(
                out,
                "  subgraph \"cluster_{}\" {{\n    label=\"{} ({})\";",
                escape(&node.name),
                escape(&node.name),
                escape(&node.roles.join(", "))
            );
        }
        for (id, instance) in plan
            .instances
            .iter()
            .enumerate()
            .filter(|(_, i)| i.node == n)
        {
            let task = &plan.catalog.tasks[instance.task];
            let _ = writeln!(
                out,
                "    {} [label=\"{}\", shape={}];",
                key(id),
                escape(&task.id),
                shape(task.kind)
            );
        }
        if !single {
            out.push_str("  }\n");
        }
    }
    for (id, list) in plan.successors.iter().enumerate() {
        for &to in list {
            let cross = plan.instances[id].node != plan.instances[to as usize].node;
            let _ = writeln!(
                out,
                "  {} -> {}{};",
                key(id),
                key(to as usize),
                if cross { " [style=dashed]" } else { "" }
            );
        }
    }
    out.push_str("}\n");
    out
}
