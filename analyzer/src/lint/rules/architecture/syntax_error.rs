//! **granule/syntax-error** (error): the file is not valid Puppet: Puppet's
//! parser (granule's, which reads Puppet 3 code too) stops at this point.
//!
//! Why: puppet-lint only lexes files, so a file that lexes but does not
//! parse (a missing brace, brackets nested deeper than Puppet allows, a
//! keyword where a name should be) gets style warnings and passes its gate,
//! while every node that loads it fails to compile its catalog. A file
//! that does not even lex is reported by puppet-lint's own `syntax` check
//! instead.
//!
//! Example:
//! ```puppet
//! class app {
//!   if $facts['x'] {
//!     notify { 'x': }
//! }
//! ```
//!
//! Fix: what the message says; `granule parse FILE` shows every error of
//! the file with the source line.

use crate::lint::architecture::{Findings, Workspace};
use crate::lint::tokens;
use std::collections::HashMap;

pub fn check(workspace: &Workspace, out: &mut Findings) {
    let mut lexes: HashMap<&str, bool> = HashMap::new();
    for finding in &workspace.analysis.findings {
        if finding.code != crate::model::SYNTAX_ERROR {
            continue;
        }
        let file = &*finding.location.file;
        let lexes = *lexes.entry(file).or_insert_with(|| {
            workspace
                .analysis
                .codebase
                .files
                .iter()
                .find(|f| &*f.path == file)
                .is_some_and(|f| tokens::tokenise(&f.source).is_ok())
        });
        if lexes {
            out.add(
                &finding.location,
                format!("{}; the rest of the file is analyzed", finding.message),
            );
        }
    }
}
