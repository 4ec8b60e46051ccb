//! **granule/puppet7-incompatible** (warning): a Puppet 3 construct that
//! Puppet 7 reads otherwise, rejects or fails on (`import`, a variable
//! assigned twice, node inheritance, a reference with a space...), or code
//! Puppet 7's validator rejects: the findings of `granule parse`, with
//! their `legacy/...` or Puppet issue code.
//!
//! Why: such code runs on the old Puppet it was written for and breaks the
//! day the agents are upgraded; the finding says what Puppet 3 meant, what
//! Puppet 7 does, and the fix (docs/legacy.md lists every construct).
//!
//! Example:
//! ```puppet
//! import 'nodes/*.pp'
//! node 'web01' inherits base { }
//! ```
//!
//! Fix: what the message says; for instance, autoloaded classes instead of
//! `import`, and a class included by both nodes instead of node inheritance.

use crate::index::SourceFile;
use crate::lint::architecture::{Findings, Workspace};
use crate::model::Location;
use granule_parser::legacy::legacy_mode_findings;
use rayon::prelude::*;

pub fn check(workspace: &Workspace, out: &mut Findings) {
    let files: Vec<&SourceFile> = workspace.linted_files().collect();
    let found: Vec<(Location, String)> = files
        .par_iter()
        .flat_map_iter(|file| {
            legacy_mode_findings(file.legacy.to_vec(), &file.program, &file.source)
                .into_iter()
                .map(|finding| {
                    let message = format!("{} [{}]", finding.message, finding.code);
                    (file.location(finding.span), message)
                })
        })
        .collect();
    for (at, message) in found {
        out.add(&at, message);
    }
}
