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
use crate::hashing::{FastMap, FastSet};
use crate::index::{Codebase, SourceFile};
use granule_parser::rewrite::rewrite_read;
use granule_parser::{parse_recovering, validate, Severity};
use rayon::prelude::*;
use std::path::Path;

/// What fails, one line each; empty when every manifest reads. `read_back`
/// holds the manifests as the analysis of what crosses tasks read them
/// from disk: each is read once for both checks.
pub fn verify(proposal: &Proposal, dir: &Path, read_back: &Codebase) -> Vec<String> {
    let read: FastMap<&str, &SourceFile> = read_back
        .files
        .iter()
        .map(|file| (&*file.path, file))
        .collect();
    proposal
        .tasks
        .par_iter()
        .flat_map_iter(|task| {
            let path = dir.join(&task.id).join(format!("{}.pp", task.id));
            match read.get(path.to_string_lossy().as_ref()) {
                Some(file) => verify_manifest(&path, file, proposal.target),
                None => vec![format!(
                    "{}: written, but not read back with the other manifests: nothing \
                     checked it",
                    path.display()
                )],
            }
        })
        .collect()
}

/// What fails in one task's manifest, as Puppet 3 read it into `file`.
fn verify_manifest(path: &Path, file: &SourceFile, target: Target) -> Vec<String> {
    let (source, program, legacy, errors, lines) = (
        &*file.source,
        &*file.program,
        &*file.legacy,
        &*file.errors,
        file.lines(),
    );
    let mut failures = Vec::new();
    let mut listed_lines = FastSet::default();
    let puppet7_read;
    // Puppet 3's reading differs from Puppet 7's only where it meets a
    // Puppet 3 construct (each one a legacy finding); Puppet 7's validator
    // reads a tree that parses.
    let (errors, validation, refused) = match target {
        Target::Puppet3 => (errors, Vec::new(), Vec::new()),
        Target::Puppet7 if errors.is_empty() && legacy.is_empty() => {
            let validation = validate(program, source);
            let refused = rewrite_read(source, program, legacy, validation.clone()).refused;
            (errors, validation, refused)
        }
        Target::Puppet7 => {
            let refused = if errors.is_empty() {
                rewrite_read(source, program, legacy, validate(program, source)).refused
            } else {
                Vec::new()
            };
            puppet7_read = parse_recovering(source);
            let validation = if puppet7_read.errors.is_empty() {
                validate(&puppet7_read.program, source)
            } else {
                Vec::new()
            };
            (puppet7_read.errors.as_slice(), validation, refused)
        }
    };
    for refusal in refused {
        let (line, column) = lines.line_col(source, refusal.span.start as usize);
        listed_lines.insert(line);
        failures.push(format!(
            "{}:{line}:{column}: {} (copied from {}): no Puppet 7 rewrite keeps its \
             meaning: {}",
            path.display(),
            refusal.code,
            copied_from(source, line),
            refusal.advice
        ));
    }
    for error in errors {
        let (line, column) = error.line_col(source);
        if listed_lines.contains(&line) {
            continue;
        }
        failures.push(format!(
            "{}:{line}:{column}: {}",
            path.display(),
            error.message
        ));
    }
    for issue in validation {
        let (line, column) = lines.line_col(source, issue.span.start as usize);
        if issue.severity == Severity::Error && !listed_lines.contains(&line) {
            failures.push(format!(
                "{}:{line}:{column}: Puppet 7 refuses it: {} {}",
                path.display(),
                issue.code,
                issue.message
            ));
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
