//! Graphviz drawings of task graphs.

use crate::catalog::Catalog;
use crate::descriptor::TaskKind;
use crate::plan::{Disposition, Plan};
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

/// The links no other path implies (a transitive reduction), so that a
/// picture shows the order and not every `requires` of `deploy_start`. Plans
/// too large to draw legibly anyway keep all their links.
fn essential_links(successors: &[Vec<u32>]) -> Vec<Vec<u32>> {
    const MOST: usize = 4000;
    let count = successors.len();
    if count > MOST {
        return successors.to_vec();
    }
    let words = count.div_ceil(64);
    let mut indegree = vec![0usize; count];
    for list in successors {
        for &to in list {
            indegree[to as usize] += 1;
        }
    }
    let mut order: Vec<usize> = (0..count).filter(|&i| indegree[i] == 0).collect();
    let mut next = 0;
    while next < order.len() {
        for &to in &successors[order[next]] {
            indegree[to as usize] -= 1;
            if indegree[to as usize] == 0 {
                order.push(to as usize);
            }
        }
        next += 1;
    }
    // reach[i]: what i reaches through one link or more, as a bit set.
    let mut reach = vec![0u64; count * words];
    for &from in order.iter().rev() {
        for &to in &successors[from] {
            let to = to as usize;
            reach[from * words + to / 64] |= 1 << (to % 64);
            for word in 0..words {
                let bits = reach[to * words + word];
                reach[from * words + word] |= bits;
            }
        }
    }
    let reaches = |from: usize, to: usize| reach[from * words + to / 64] & (1 << (to % 64)) != 0;
    successors
        .iter()
        .map(|list| {
            list.iter()
                .copied()
                .filter(|&to| {
                    !list
                        .iter()
                        .any(|&other| other != to && reaches(other as usize, to as usize))
                })
                .collect()
        })
        .collect()
}

/// A plan: one cluster per node, with the links that order its tasks (those
/// other paths imply left out); skipped tasks grey with the reason in their
/// tooltip, tasks whose condition is undecided with a dashed outline.
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
            let style = match (&instance.disposition, &instance.undecided) {
                (Disposition::Skip(reason), _) => format!(
                    ", style=filled, fillcolor=\"#dddddd\", fontcolor=\"#777777\", tooltip=\"skipped: {}\"",
                    escape(reason)
                ),
                (_, Some(reason)) => format!(
                    ", style=dashed, tooltip=\"condition undecided: {}\"",
                    escape(reason)
                ),
                _ => String::new(),
            };
            let _ = writeln!(
                out,
                "    {} [label=\"{}\", shape={}{style}];",
                key(id),
                escape(&task.id),
                shape(task.kind)
            );
        }
        if !single {
            out.push_str("  }\n");
        }
    }
    for (id, list) in essential_links(&plan.successors).iter().enumerate() {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn implied_links_are_left_out() {
        // 0 -> 1 -> 2, and 0 -> 2 implied; 3 -> 2 alone.
        let successors = vec![vec![1, 2], vec![2], vec![], vec![2]];
        assert_eq!(
            essential_links(&successors),
            vec![vec![1], vec![2], vec![], vec![2]]
        );
    }
}
