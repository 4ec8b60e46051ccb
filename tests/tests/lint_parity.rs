//! granule lint against the real puppet-lint, check by check: for each
//! check, the set of (file, line, column) granule reports must equal
//! puppet-lint's, on the whole module corpus and our lint fixtures (which
//! trip the checks the corpus never does), with every check on but those
//! the reference puppet-lint does not have (`NOT_IN_REFERENCE`).

use granule_analyzer::lint::rules::{CHECKS, NOT_YET_PORTED};
use granule_analyzer::lint::{lint_source, Rule, SYNTAX_CHECK};
use granule_tests::corpus::{corpus_files, manifests_under};
use granule_tests::lint_oracle::{puppet_lint_findings, Finding, NOT_IN_REFERENCE};
use granule_tests::{repo_root, require_reference};
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

/// Checks whose findings may differ from puppet-lint's, each with the
/// puppet-lint bug that justifies it (none so far).
const KNOWN_DIFFERENCES: &[(&str, &str)] = &[];

#[test]
fn every_check_finds_what_puppet_lint_finds() {
    let test = "lint_parity";
    let Some(mut files) = require_reference(test, corpus_files()) else {
        return;
    };
    files.extend(fixture_files());
    // puppet-lint turns some checks off by default; compare those too.
    let off_by_default: Vec<String> = CHECKS
        .iter()
        .filter(|c| !c.enabled_by_default && !c.on_codebase())
        .filter(|c| !NOT_IN_REFERENCE.contains(&c.name))
        .map(|c| format!("--{}-check", c.name))
        .collect();
    let options: Vec<&str> = off_by_default.iter().map(String::as_str).collect();
    compare(test, &files, &options);
}

fn fixture_files() -> Vec<PathBuf> {
    manifests_under(&repo_root().join("fixtures/lint")).expect("fixtures/lint is readable")
}

/// Runs puppet-lint (with `options`) and granule (with every check the
/// reference has) over `files` and requires equal findings for every check.
fn compare(test: &str, files: &[PathBuf], options: &[&str]) {
    let files: Vec<PathBuf> = files
        .iter()
        .map(|f| std::path::absolute(f).unwrap_or_else(|_| f.clone()))
        .collect();
    let Some((version, expected)) = require_reference(test, puppet_lint_findings(&files, options))
    else {
        return;
    };
    let rules: Vec<&'static dyn Rule> = CHECKS
        .iter()
        .filter(|c| !NOT_IN_REFERENCE.contains(&c.name))
        .map(|c| c as &'static dyn Rule)
        .collect();
    let got = granule_findings(&files, &rules);
    let ported: BTreeSet<&str> = rules
        .iter()
        .map(|r| r.name())
        .chain([SYNTAX_CHECK])
        .collect();
    let expected = by_check(&expected);
    let got = by_check(&got);
    let checks: BTreeSet<&String> = expected.keys().chain(got.keys()).collect();
    let empty = BTreeSet::new();
    let mut failures = Vec::new();
    eprintln!(
        "{test}: granule lint vs {version} on {} files:",
        files.len()
    );
    eprintln!(
        "{:<36} {:>7} {:>7} {:>9} {:>7}",
        "check", "puppet", "granule", "precision", "recall"
    );
    for check in checks {
        let want = expected.get(check).unwrap_or(&empty);
        let have = got.get(check).unwrap_or(&empty);
        let both = want.intersection(have).count();
        let ratio = |n: usize, d: usize| {
            if d == 0 {
                100.0
            } else {
                100.0 * n as f64 / d as f64
            }
        };
        eprintln!(
            "{check:<36} {:>7} {:>7} {:>8.1}% {:>6.1}%",
            want.len(),
            have.len(),
            ratio(both, have.len()),
            ratio(both, want.len())
        );
        if NOT_YET_PORTED.contains(&check.as_str())
            || KNOWN_DIFFERENCES.iter().any(|(c, _)| c == check)
        {
            continue;
        }
        if !ported.contains(check.as_str()) {
            failures.push(format!(
                "{check}: puppet-lint runs it but granule neither ports it nor lists it in NOT_YET_PORTED"
            ));
            continue;
        }
        let missing: Vec<&Finding> = want.difference(have).take(5).collect();
        let extra: Vec<&Finding> = have.difference(want).take(5).collect();
        if !missing.is_empty() || !extra.is_empty() {
            failures.push(format!(
                "{check}: granule misses {missing:?} and adds {extra:?}"
            ));
        }
    }
    if NOT_YET_PORTED.is_empty() {
        eprintln!("every check puppet-lint enables by default is ported");
    } else {
        eprintln!("not yet ported: {}", NOT_YET_PORTED.join(", "));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn by_check(findings: &[Finding]) -> BTreeMap<String, BTreeSet<Finding>> {
    let mut map: BTreeMap<String, BTreeSet<Finding>> = BTreeMap::new();
    for finding in findings {
        map.entry(finding.3.clone())
            .or_default()
            .insert(finding.clone());
    }
    map
}

/// granule's findings, control comments applied (silenced problems are not
/// in puppet-lint's report either).
fn granule_findings(files: &[PathBuf], rules: &[&'static dyn Rule]) -> Vec<Finding> {
    files
        .par_iter()
        .flat_map_iter(|file| {
            let source = std::fs::read_to_string(file).unwrap_or_default();
            let path = file.display().to_string();
            lint_source(file, &source, rules)
                .into_iter()
                .filter(|p| p.ignored.is_none())
                .map(move |p| (path.clone(), p.line, p.column, p.check.to_string()))
                .collect::<Vec<_>>()
        })
        .collect()
}
