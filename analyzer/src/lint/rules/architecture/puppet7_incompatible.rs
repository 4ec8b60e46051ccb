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

use crate::lint::architecture::{Findings, Workspace};
use granule_parser::legacy::legacy_mode_findings;

pub fn check(workspace: &Workspace, out: &mut Findings) {
    for file in workspace.linted_files() {
        let findings = legacy_mode_findings(file.legacy.clone(), &file.program, &file.source);
        for finding in findings {
            let at = file.location(finding.span);
            out.add(&at, format!("{} [{}]", finding.message, finding.code));
        }
    }
}
