//! **granule/undeclared-module-dependency** (warning): a module uses a
//! class, define, custom type or class variable of another module that its
//! `metadata.json` does not list in `dependencies`.
//!
//! Why: `metadata.json` is what installs a module's dependencies (`puppet
//! module install`, r10k, librarian) and what tells its users what it needs;
//! a dependency used but not listed works where the other module happens to
//! be installed and fails ("Could not find class") everywhere else. Reported
//! once per pair of modules, at the first use, for modules that have a
//! `metadata.json`. The types Puppet's packages ship (`cron`, `augeas`,
//! `mount`...) need no dependency.
//!
//! Example:
//! ```puppet
//! # modules/app/manifests/init.pp; modules/app/metadata.json lists no
//! # dependencies
//! class app {
//!   include apache
//! }
//! ```
//!
//! Fix: add the module to `dependencies` in `metadata.json`
//! (`{"name": "puppetlabs/apache", "version_requirement": ">= 5.0.0 < 13.0.0"}`),
//! or stop using it.

use granule_parser::qualified::Qualified;
use crate::builtins::is_builtin_type;
use crate::lint::architecture::{Findings, Workspace};
use crate::model::{DefinitionKind, Edge, Location, Vertex};
use crate::modulepath::Module;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

pub fn check(workspace: &Workspace, out: &mut Findings) {
    let codebase = &workspace.analysis.codebase;
    // The first use of each (user, used) pair, and where they all are.
    let mut uses: BTreeMap<(usize, usize), (&Edge, BTreeSet<&Location>)> = BTreeMap::new();
    let module_of_file: HashMap<&Arc<str>, usize> = codebase
        .files
        .iter()
        .filter_map(|f| Some((&f.path, f.module?)))
        .collect();
    for edge in &workspace.analysis.edges {
        let Some(&user) = module_of_file.get(&edge.location.file) else {
            continue;
        };
        let Some(used) = providing_module(workspace, &edge.to) else {
            continue;
        };
        if user == used || !undeclared(&codebase.modules[user], &codebase.modules[used], &edge.to) {
            continue;
        }
        let entry = uses.entry((user, used)).or_insert((edge, BTreeSet::new()));
        if edge.location < entry.0.location {
            entry.0 = edge;
        }
        entry.1.insert(&edge.location);
    }
    for ((user, used), (edge, places)) in uses {
        let count = places.len();
        let (user, used) = (&codebase.modules[user], &codebase.modules[used]);
        let others = match count {
            1 => String::new(),
            n => format!(" (and {} more use{})", n - 1, if n == 2 { "" } else { "s" }),
        };
        out.add(
            &edge.location,
            format!(
                "module {} uses module {} ({}){others}, but {}/metadata.json does not list it in `dependencies`: add it there",
                user.name,
                used.name,
                edge.to.label(),
                user.root.display()
            ),
        );
    }
}

/// Whether `user` has a `metadata.json` whose dependencies miss `used`,
/// under its own name or the one Puppet's autoloader finds `what` by (the
/// first segment of its name: a module packaged under another directory
/// name is still installed under that one).
fn undeclared(user: &Module, used: &Module, what: &Vertex) -> bool {
    let own_name = used
        .metadata_name
        .clone()
        .unwrap_or_else(|| used.name.to_ascii_lowercase());
    let autoload_name = match what {
        Vertex::Class { name } | Vertex::Type { name } | Vertex::Variable { name } => name,
        Vertex::Resource { type_name, .. } => type_name,
        _ => "",
    }
    .without_top()
    .segments()
    .next()
    .unwrap_or("");
    user.metadata_name.is_some()
        && !user.dependencies.contains(&own_name)
        && !user.dependencies.contains(autoload_name)
}

/// The module defining what `vertex` names: a class, a define, a custom
/// type, or the class whose variable it is.
fn providing_module(workspace: &Workspace, vertex: &Vertex) -> Option<usize> {
    let codebase = &workspace.analysis.codebase;
    let (name, kind) = match vertex {
        Vertex::Class { name } => (name.as_str(), DefinitionKind::Class),
        // Puppet's packages ship the modules of the types Puppet 6 moved
        // out of its core: no module needs to depend on them.
        Vertex::Type { name }
        | Vertex::Resource {
            type_name: name, ..
        } if is_builtin_type(name) => return None,
        Vertex::Type { name }
        | Vertex::Resource {
            type_name: name, ..
        } => (name.as_str(), DefinitionKind::Define),
        Vertex::Variable { name } => (
            name.without_top().split_last()?.0,
            DefinitionKind::Class,
        ),
        _ => return None,
    };
    let module = codebase.find(name, kind).and_then(|d| d.module.as_deref());
    match module {
        Some(module) => codebase.modules.iter().position(|m| m.name == module),
        None if kind == DefinitionKind::Define => codebase
            .modules
            .iter()
            .position(|m| m.custom_types.iter().any(|t| t == name)),
        None => None,
    }
}
