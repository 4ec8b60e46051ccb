//! What several architecture checks share.

use crate::lint::architecture::{Findings, Workspace};

pub mod puppet_variables;

/// Reports the analyzer's findings of `code` as the check's problems.
pub fn report_analyzer_findings(workspace: &Workspace, code: &str, out: &mut Findings) {
    for finding in &workspace.analysis.findings {
        if finding.code == code {
            out.add(&finding.location, finding.message.clone());
        }
    }
}

/// A resource title as Puppet compares titles of its type: a file's path
/// without its trailing slashes (`File['/etc/app/']` is `File['/etc/app']`).
pub fn comparable_title<'t>(type_name: &str, title: &'t str) -> &'t str {
    match type_name {
        "file" if title.len() > 1 => title.trim_end_matches('/'),
        _ => title,
    }
}
