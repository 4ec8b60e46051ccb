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
