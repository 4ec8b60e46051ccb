//! **granule/dependency-cycle** (error): resources or classes ordered in a
//! circle (`a -> b`, `b -> a`, through any chain of `require`, `before`,
//! `notify`, `subscribe`, arrows and `require` of classes); the message
//! gives the whole path, each step with the place that writes it.
//!
//! Why: Puppet refuses to apply a catalog with a dependency cycle
//! ("Found 1 dependency cycle"), after compiling it on the node; in a big
//! codebase the two halves of the circle are often in different modules.
//! Only cycles one catalog holds are reported (one entry, a node, a top
//! scope or a class nothing declares, reaches every step), and not those
//! whose edges stand under conditions no run meets at once (`if` and
//! its `else`, two branches of one `case`).
//!
//! Example:
//! ```puppet
//! class app::config {
//!   file { '/etc/app.conf': require => Service['app'] }
//! }
//! class app::service {
//!   service { 'app': subscribe => File['/etc/app.conf'] }
//! }
//! ```
//!
//! Fix: drop the edge that is wrong (here the `require`: the configuration
//! comes first and the service subscribes to it).

use crate::lint::architecture::{Findings, Workspace};
use crate::model::Vertex;

pub fn check(workspace: &Workspace, out: &mut Findings) {
    let graph = workspace.analysis.ordering_graph();
    for cycle in &graph.cycles {
        let steps: Vec<(&Vertex, &Vertex)> =
            cycle.iter().zip(cycle.iter().cycle().skip(1)).collect();
        let edges: Vec<_> = steps
            .iter()
            .filter_map(|&(first, then)| {
                graph.edges.iter().find(|e| {
                    let (from, to) = (&graph.vertices[e.from], &graph.vertices[e.to]);
                    e.in_cycle
                        && match e.edge.kind.from_runs_first() {
                            Some(true) => from == first && to == then,
                            Some(false) => from == then && to == first,
                            None => false,
                        }
                })
            })
            .collect();
        // The codebase's graph joins resources of one title declared by
        // classes no catalog holds together: a cycle is one when a single
        // entry reaches every unit writing its edges.
        let Some(entry) = workspace.common_entry(edges.iter().map(|e| &e.edge.unit)) else {
            continue;
        };
        let Some(reported) = edges
            .iter()
            .find(|e| workspace.is_linted(&e.edge.location.file))
            .or(edges.first())
        else {
            continue;
        };
        let path: Vec<String> = cycle
            .iter()
            .chain(cycle.first())
            .map(Vertex::label)
            .collect();
        let written: Vec<String> = steps
            .iter()
            .zip(&edges)
            .map(|((first, then), e)| {
                format!(
                    "{} before {} ({})",
                    first.label(),
                    then.label(),
                    e.edge.location
                )
            })
            .collect();
        out.add(
            &reported.edge.location,
            format!(
                "dependency cycle in the catalog of {}: {}; Puppet will not apply it. The steps: {}. Remove the edge that is wrong",
                entry.label(),
                path.join(" -> "),
                written.join("; ")
            ),
        );
    }
}
