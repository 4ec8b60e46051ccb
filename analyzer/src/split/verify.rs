//! `granule split --verify`, the part that needs no Puppet: every manifest
//! written is read back from disk and must parse, as the target Puppet
//! reads it (granule's Puppet 3 reading for `puppet3`, Puppet 7's parser
//! and validator for `puppet7`). What crosses tasks is checked by reading
//! the written `tasks.yaml` and analysing the manifests again (the CLI runs
//! `granule lint --tasks`'s checks on them), never from the partition.

use super::{Proposal, Target};
use granule_parser::{parse_with_options, validate, LineIndex, ParseOptions, Severity};
use std::path::Path;

/// What fails, one line each; empty when every manifest reads.
pub fn verify(proposal: &Proposal, dir: &Path) -> Vec<String> {
    let mut failures = Vec::new();
    for task in &proposal.tasks {
        let path = dir.join(&task.id).join(format!("{}.pp", task.id));
        let source = match std::fs::read_to_string(&path) {
            Ok(source) => source,
            Err(e) => {
                failures.push(format!("{}: cannot read: {e}", path.display()));
                continue;
            }
        };
        let options = ParseOptions {
            legacy: proposal.target == Target::Puppet3,
            ..ParseOptions::default()
        };
        let parsed = parse_with_options(&source, options);
        for error in &parsed.errors {
            let (line, column) = error.line_col(&source);
            failures.push(format!(
                "{}:{line}:{column}: {}",
                path.display(),
                error.message
            ));
        }
        if parsed.errors.is_empty() && proposal.target == Target::Puppet7 {
            for issue in validate(&parsed.program, &source) {
                if issue.severity == Severity::Error {
                    let (line, column) =
                        LineIndex::new(&source).line_col(&source, issue.span.start as usize);
                    failures.push(format!(
                        "{}:{line}:{column}: Puppet 7 refuses it: {} {}",
                        path.display(),
                        issue.code,
                        issue.message
                    ));
                }
            }
        }
    }
    failures
}
