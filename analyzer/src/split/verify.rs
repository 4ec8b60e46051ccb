//! `granule split --verify`, the part that needs no Puppet: every manifest
//! written is read back from disk and must parse, as the target Puppet
//! reads it (granule's Puppet 3 reading for `puppet3`, Puppet 7's parser
//! and validator for `puppet7`). What crosses tasks is checked by reading
//! the written `tasks.yaml` and analysing the manifests again (the CLI runs
//! `granule lint --tasks`'s checks on them), never from the partition.
//!
//! For `puppet7`, the legacy constructs the split could not rewrite (see
//! [`granule_parser::rewrite`]) are listed, each with the statement it was
//! copied from and what to do; Puppet 7's own findings on their lines are
//! not repeated.

use super::{Proposal, Target};
use crate::hashing::FastSet;
use granule_parser::rewrite::rewrite_parsed;
use granule_parser::{parse_legacy_recovering, parse_recovering, validate, LineIndex, Severity};
use rayon::prelude::*;
use std::path::Path;

/// What fails, one line each; empty when every manifest reads.
pub fn verify(proposal: &Proposal, dir: &Path) -> Vec<String> {
    proposal
        .tasks
        .par_iter()
        .flat_map_iter(|task| {
            verify_manifest(
                &dir.join(&task.id).join(format!("{}.pp", task.id)),
                proposal.target,
            )
        })
        .collect()
}

/// What fails in one task's manifest.
fn verify_manifest(path: &Path, target: Target) -> Vec<String> {
    let mut failures = Vec::new();
    let source = match std::fs::read_to_string(path) {
        Ok(source) => source,
        Err(e) => {
            failures.push(format!("{}: cannot read: {e}", path.display()));
            return failures;
        }
    };
    let read_as_puppet3 = parse_legacy_recovering(&source);
    let lines = LineIndex::new(&source);
    let mut listed_lines = FastSet::default();
    let (parsed, refused) = match target {
        Target::Puppet3 => (read_as_puppet3, Vec::new()),
        Target::Puppet7 => {
            let refused = rewrite_parsed(&source, &read_as_puppet3).refused;
            // Puppet 3's reading differs from Puppet 7's only where it
            // meets a Puppet 3 construct (each one a legacy finding).
            let parsed = if read_as_puppet3.errors.is_empty() && read_as_puppet3.legacy.is_empty() {
                read_as_puppet3
            } else {
                parse_recovering(&source)
            };
            (parsed, refused)
        }
    };
    for refusal in refused {
        let (line, column) = lines.line_col(&source, refusal.span.start as usize);
        listed_lines.insert(line);
        failures.push(format!(
            "{}:{line}:{column}: {} (copied from {}): no Puppet 7 rewrite keeps its \
             meaning: {}",
            path.display(),
            refusal.code,
            copied_from(&source, line),
            refusal.advice
        ));
    }
    for error in &parsed.errors {
        let (line, column) = error.line_col(&source);
        if listed_lines.contains(&line) {
            continue;
        }
        failures.push(format!(
            "{}:{line}:{column}: {}",
            path.display(),
            error.message
        ));
    }
    if parsed.errors.is_empty() && target == Target::Puppet7 {
        for issue in validate(&parsed.program, &source) {
            let (line, column) = lines.line_col(&source, issue.span.start as usize);
            if issue.severity == Severity::Error && !listed_lines.contains(&line) {
                failures.push(format!(
                    "{}:{line}:{column}: Puppet 7 refuses it: {} {}",
                    path.display(),
                    issue.code,
                    issue.message
                ));
            }
        }
    }
    failures
}

/// Where the statement on `line` of a manifest came from: the `# From` or
/// `# Copied from` comment above it (the data the globals task writes
/// from the entry's parameters has none).
fn copied_from(manifest: &str, line: usize) -> String {
    manifest
        .lines()
        .take(line)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .find_map(|text| {
            let from = text
                .strip_prefix("# From ")
                .or_else(|| text.strip_prefix("# Copied from "))?;
            Some(from.split(": ").next().unwrap_or(from).to_string())
        })
        .unwrap_or_else(|| "the monolith's data".to_string())
}
