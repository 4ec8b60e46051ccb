//! **granule/private-declaration** (error): a class or define that calls
//! `assert_private()` is declared from code outside its own module: another
//! module's class or define, or a manifest's top scope or node (`site.pp`,
//! a task's manifest).
//!
//! Why: `assert_private()` (puppetlabs-stdlib) compares the module of the
//! code declaring the class with the class's own, and fails the whole
//! catalog when they differ ("Class ceilometer::params is private"). Code
//! that includes a module's internals works while it sits in that module
//! and breaks once it is moved out, as when a class's body is copied into
//! a manifest of its own.
//!
//! Example:
//! ```puppet
//! # modules/app/manifests/params.pp
//! class app::params {
//!   assert_private()
//!   $port = 8080
//! }
//!
//! # manifests/site.pp
//! include app::params   # fails: app::params is private to module app
//! ```
//!
//! Fix: declare the module's public class instead (`include app`), which
//! declares its private classes itself, or pass the values it holds as
//! parameters.

use crate::lint::architecture::{Findings, Workspace};
use crate::model::Vertex;

pub fn check(workspace: &Workspace, out: &mut Findings) {
    let analysis = workspace.analysis;
    if analysis.private.is_empty() {
        return;
    }
    for edge in &analysis.edges {
        let Some(private) = analysis.private_declared(edge) else {
            continue;
        };
        if !workspace.is_linted(&edge.location.file) {
            continue;
        }
        let Some(module) = analysis.module_of(&private) else {
            continue;
        };
        // Puppet's `caller_module_name`: the module of the class or define
        // whose code declares it; none for a top scope or a node.
        let caller = match &edge.unit {
            Vertex::Class { .. } | Vertex::Type { .. } => analysis.module_of(&edge.unit),
            _ => None,
        };
        if caller.as_deref() == Some(module.as_str()) {
            continue;
        }
        let (what, name) = match &private {
            Vertex::Class { name } => ("class", name),
            Vertex::Type { name } => ("define", name),
            _ => continue,
        };
        let from = match caller {
            Some(other) => format!("{} of module {other}", edge.unit.label()),
            None => format!("{} (no module)", edge.unit.label()),
        };
        let message = format!(
            "{what} {name} calls assert_private(): only code of module {module} may declare it, \
             and {from} does, so Puppet fails the catalog (\"{} {name} is private\"); declare \
             a public class of module {module} instead, or pass the values as parameters",
            if what == "class" { "Class" } else { "Definition" }
        );
        out.add(&edge.location, message);
    }
}
