//! **granule/unused-definition** (warning, off by default): a class or
//! define that no code of the codebase declares, instantiates, inherits,
//! orders or reads a variable of.
//!
//! Why: dead code still costs: it is read, reviewed, linted and migrated,
//! and it misleads whoever takes it for part of the deployment. It is off by
//! default because a module's public classes are meant to be declared by
//! code outside it; turn it on (`--granule/unused-definition-check` in
//! `.puppet-lint.rc`, or `enable = ["granule/unused-definition"]` in
//! `granule.toml`) where the linted code is the whole deployment: a control
//! repository, or the tasks of a split. Classes that Hiera data or an
//! external node classifier declares by name are invisible here: silence
//! those with `# lint:ignore:granule/unused-definition`.
//!
//! Example:
//! ```puppet
//! # nothing includes it since the move to profile::db
//! class profile::mysql_old {
//!   include mysql::server
//! }
//! ```
//!
//! Fix: delete it, or declare it where it is meant to be used.

use granule_parser::qualified::Qualified;
use crate::lint::architecture::{Findings, Workspace};
use crate::model::{DefinitionKind, Vertex};
use std::collections::HashSet;

pub fn check(workspace: &Workspace, out: &mut Findings) {
    let analysis = workspace.analysis;
    let used: HashSet<&str> = analysis
        .edges
        .iter()
        .filter(|edge| edge.unit != edge.to)
        .filter_map(|edge| match &edge.to {
            Vertex::Class { name } | Vertex::Type { name } => Some(name.as_str()),
            Vertex::Resource { type_name, .. } => Some(type_name.as_str()),
            Vertex::Variable { name } => name
                .without_top()
                .split_last()
                .map(|(class, _)| class),
            _ => None,
        })
        .collect();
    for definitions in analysis.codebase.definitions.values() {
        for definition in definitions {
            let kind = match definition.kind {
                DefinitionKind::Class => "class",
                DefinitionKind::Define => "define",
                _ => continue,
            };
            if used.contains(definition.name.as_str())
                || !workspace.is_linted(&definition.location.file)
            {
                continue;
            }
            out.add(
                &definition.location,
                format!(
                    "{kind} {} is declared nowhere in the codebase: delete it, or declare it where it is meant to run",
                    definition.name
                ),
            );
        }
    }
}
