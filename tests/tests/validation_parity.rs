//! Validation parity: for every `*.pp` and `*.epp` of the installed Puppet
//! modules and every fixture under `fixtures/validation/`, the issues granule's validator
//! reports, as a set of (code, line, column), equal those Puppet 7's own
//! validator reports (all of them, collected through Puppet's API).
//!
//! The corpus itself is clean (Puppet reports nothing), so seeded variants of
//! it are compared too. Files Puppet's parser rejects have no validation
//! issues and are left to the parser parity tests.

use granule_parser::LineIndex;
use granule_tests::validation_oracle::{self, Validations};
use granule_tests::{corpus, require_reference};
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// (code, line, column) of one issue; line and column 0 when unlocated.
type Issue = (String, usize, usize);

/// Mismatches shown in full in the panic message.
const DETAILED_FAILURES: usize = 40;

#[test]
fn granule_reports_puppets_issues_on_the_whole_corpus() {
    const TEST: &str = "validation_parity (corpus)";
    let Some(mut files) = require_reference(TEST, corpus::corpus_files()) else {
        return;
    };
    let Some(templates) = require_reference(TEST, corpus::corpus_templates()) else {
        return;
    };
    files.extend(templates);
    let Some(puppet) = require_reference(TEST, validation_oracle::validations(&files)) else {
        return;
    };
    compare_all(TEST, &files, &puppet);
}

#[test]
fn granule_reports_puppets_issues_on_the_validation_fixtures() {
    const TEST: &str = "validation_parity (fixtures)";
    let files = puppet_files_under(&fixture_dir());
    assert!(
        !files.is_empty(),
        "no fixtures under {}",
        fixture_dir().display()
    );
    let Some(puppet) = require_reference(TEST, validation_oracle::validations(&files)) else {
        return;
    };
    // A fixture is named after the issue it triggers (`CODE.pp`, or
    // `CODE-variant.pp`, or `.epp`; `valid-*` triggers none): Puppet must report
    // that code, or the fixture does not test what it claims.
    let mut misnamed = Vec::new();
    for file in &files {
        let stem = file.file_stem().unwrap().to_string_lossy();
        let code = stem.split('-').next().unwrap();
        let record = puppet.get(file);
        let as_named = if code == "valid" {
            record.error.is_none() && record.diagnostics.is_empty()
        } else {
            record.diagnostics.iter().any(|d| d.code == code)
        };
        if !as_named {
            misnamed.push(format!(
                "{}: Puppet does not report {code} (it reports {:?}{})",
                file.display(),
                record
                    .diagnostics
                    .iter()
                    .map(|d| &d.code)
                    .collect::<Vec<_>>(),
                record
                    .error
                    .as_ref()
                    .map_or(String::new(), |e| format!("; parse error: {e}"))
            ));
        }
    }
    assert!(
        misnamed.is_empty(),
        "fixtures that do not trigger their issue:\n{}",
        misnamed.join("\n")
    );
    compare_all(TEST, &files, &puppet);
}

/// Every other manifest under `fixtures/` (parser constructs, legacy code,
/// the monolith...): whatever Puppet's validator says about them, granule's
/// must say too.
#[test]
fn granule_reports_puppets_issues_on_all_other_fixtures() {
    const TEST: &str = "validation_parity (other fixtures)";
    let root = granule_tests::repo_root().join("fixtures");
    let files: Vec<PathBuf> = puppet_files_under(&root)
        .into_iter()
        .filter(|file| !file.starts_with(fixture_dir()))
        .collect();
    assert!(!files.is_empty(), "no manifests under {}", root.display());
    let Some(puppet) = require_reference(TEST, validation_oracle::validations(&files)) else {
        return;
    };
    compare_all(TEST, &files, &puppet);
}

/// Seeded, reproducible variants of corpus files (a line deleted,
/// duplicated or swapped with the next, a few lines repeated, a punctuation
/// character deleted): broken code is where the issues are, and the clean
/// corpus has none. Variants Puppet rejects are skipped; the others must agree.
#[test]
fn granule_reports_puppets_issues_on_mutated_corpus_files() {
    const TEST: &str = "validation_parity (mutated corpus)";
    const VARIANTS: usize = 3000;
    let Some(corpus_files) = require_reference(TEST, corpus::corpus_files()) else {
        return;
    };
    let dir = granule_tests::target_dir().join("validation-mutants");
    std::fs::create_dir_all(&dir).expect("cannot create the mutants directory");
    let mut random = XorShift(0x9e37_79b9_7f4a_7c15);
    let mut files = Vec::with_capacity(VARIANTS);
    for number in 0..VARIANTS {
        let original = &corpus_files[random.below(corpus_files.len())];
        let Some(variant) = mutate(&corpus::read_manifest(original), &mut random) else {
            continue;
        };
        let file = dir.join(format!("m{number:04}.pp"));
        if std::fs::read_to_string(&file).ok().as_deref() != Some(variant.as_str()) {
            std::fs::write(&file, &variant).expect("cannot write a mutant");
        }
        files.push(file);
    }
    let Some(puppet) = require_reference(TEST, validation_oracle::validations(&files)) else {
        return;
    };
    compare_all(TEST, &files, &puppet);
}

/// One seeded change to `source`, or `None` when it has too few lines.
fn mutate(source: &str, random: &mut XorShift) -> Option<String> {
    let mut lines: Vec<&str> = source.split('\n').collect();
    if lines.len() < 3 {
        return None;
    }
    let at = random.below(lines.len());
    match random.below(5) {
        0 => {
            lines.remove(at);
        }
        1 => {
            let line = lines[at];
            lines.insert(at, line);
        }
        2 => {
            let next = (at + 1).min(lines.len() - 1);
            lines.swap(at, next);
        }
        3 => {
            let end = (at + 2 + random.below(7)).min(lines.len());
            let block: Vec<&str> = lines[at..end].to_vec();
            lines.splice(at..at, block);
        }
        _ => {
            let text = lines.join("\n");
            let marks: Vec<usize> = text
                .char_indices()
                .filter(|(_, c)| "{}()[],;=>$:\"'|".contains(*c))
                .map(|(i, _)| i)
                .collect();
            if marks.is_empty() {
                return None;
            }
            let cut = marks[random.below(marks.len())];
            return Some(format!("{}{}", &text[..cut], &text[cut + 1..]));
        }
    }
    Some(lines.join("\n"))
}

/// A tiny deterministic generator: the same variants on every run.
struct XorShift(u64);

impl XorShift {
    fn below(&mut self, bound: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % bound as u64) as usize
    }
}

/// Manifests and EPP templates below `dir`.
fn puppet_files_under(dir: &Path) -> Vec<PathBuf> {
    let readable = |found: Result<Vec<PathBuf>, String>| {
        found.unwrap_or_else(|e| panic!("{} is not readable: {e}", dir.display()))
    };
    let mut files = readable(corpus::manifests_under(dir));
    files.extend(readable(corpus::templates_under(dir)));
    files
}

fn fixture_dir() -> PathBuf {
    granule_tests::repo_root().join("fixtures/validation")
}

/// Compares granule with Puppet on each file Puppet parses; panics with the
/// differing entries of each mismatching file.
fn compare_all(test: &str, files: &[PathBuf], puppet: &Validations) {
    let outcomes: Vec<(PathBuf, Result<Agreement, String>)> = files
        .par_iter()
        .filter(|file| puppet.get(file).error.is_none())
        .map(|file| (file.clone(), compare(file, puppet)))
        .collect();
    let compared = outcomes.len();
    let agreement = outcomes.iter().filter_map(|(_, o)| o.as_ref().ok()).fold(
        Agreement::default(),
        |sum, a| Agreement {
            issues: sum.issues + a.issues,
            same_message: sum.same_message + a.same_message,
        },
    );
    let failures: Vec<String> = outcomes
        .into_iter()
        .filter_map(|(path, outcome)| outcome.err().map(|e| format!("{}: {e}", path.display())))
        .collect();
    let mut by_code: BTreeMap<&str, usize> = BTreeMap::new();
    for file in files {
        for issue in &puppet.get(file).diagnostics {
            *by_code.entry(issue.code.as_str()).or_default() += 1;
        }
    }
    println!(
        "{test} (Puppet {}): {} of {compared} files agree ({} skipped: Puppet rejects them); \
         {} issues reported by both, {} of them with Puppet's very message; \
         Puppet's issues by code: {by_code:?}",
        puppet.puppet_version,
        compared - failures.len(),
        files.len() - compared,
        agreement.issues,
        agreement.same_message,
    );
    if !failures.is_empty() {
        let shown: Vec<&String> = failures.iter().take(DETAILED_FAILURES).collect();
        panic!(
            "{test}: {} of {compared} files differ from Puppet:\n{}",
            failures.len(),
            shown
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

/// Issues both report, and how many of those have Puppet's very message.
#[derive(Default, Clone, Copy)]
struct Agreement {
    issues: usize,
    same_message: usize,
}

/// What both report, or what differs.
fn compare(file: &Path, puppet: &Validations) -> Result<Agreement, String> {
    let expected: BTreeSet<Issue> = puppet
        .get(file)
        .diagnostics
        .iter()
        .map(|d| (d.code.clone(), d.line.unwrap_or(0), d.pos.unwrap_or(0)))
        .collect();
    let source = corpus::read_manifest(file);
    let parsed = if file.extension().is_some_and(|ext| ext == "epp") {
        granule_parser::parse_epp(&source)
    } else {
        granule_parser::parse(&source)
    };
    let program = parsed.map_err(|e| {
        format!(
            "granule rejects a file Puppet parses: {}",
            e.render(&file.display().to_string(), &source).trim_end()
        )
    })?;
    let index = LineIndex::new(&source);
    let granule: BTreeMap<Issue, String> = granule_parser::validate(&program, &source)
        .into_iter()
        .map(|d| {
            let (line, column) = index.line_col(&source, d.span.start as usize);
            ((d.code, line, column), d.message)
        })
        .collect();
    let actual: BTreeSet<Issue> = granule.keys().cloned().collect();
    if actual == expected {
        let same_message = puppet
            .get(file)
            .diagnostics
            .iter()
            .filter(|d| {
                let key = (d.code.clone(), d.line.unwrap_or(0), d.pos.unwrap_or(0));
                granule.get(&key) == Some(&d.message)
            })
            .count();
        return Ok(Agreement {
            issues: puppet.get(file).diagnostics.len(),
            same_message,
        });
    }
    let show = |set: BTreeSet<&Issue>| {
        set.into_iter()
            .map(|(code, line, column)| format!("{code} at {line}:{column}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    Err(format!(
        "only Puppet: [{}]; only granule: [{}]",
        show(expected.difference(&actual).collect()),
        show(actual.difference(&expected).collect()),
    ))
}
