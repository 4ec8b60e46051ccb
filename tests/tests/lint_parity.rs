//! granule lint against the real puppet-lint, check by check, on the whole
//! module corpus and on our lint fixtures (which exercise the checks the
//! corpus never trips): for each check, the set of (file, line, column)
//! granule reports must equal puppet-lint's.

use granule_analyzer::lint::rules::{CHECKS, NOT_YET_PORTED};
use granule_analyzer::lint::{lint_source, Rule, SYNTAX_CHECK};
use granule_tests::corpus::{corpus_files, manifests_under};
use granule_tests::lint_oracle::{puppet_lint_findings, Finding};
use granule_tests::{repo_root, require_reference};
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

/// Checks puppet-lint runs by default that granule does not port on
/// purpose (none so far). A documented puppet-lint bug would be listed here
/// with the reason.
const KNOWN_DIFFERENCES: &[(&str, &str)] = &[];

#[test]
fn every_ported_check_finds_what_puppet_lint_finds() {
    let test = "lint_parity";
    let Some(mut files) = require_reference(test, corpus_files()) else {
        return;
    };
    let fixtures = manifests_under(&repo_root().join("fixtures/lint")).unwrap_or_default();
    files.extend(fixtures.iter().cloned());
    let files: Vec<PathBuf> = files
        .into_iter()
        .map(|f| std::path::absolute(&f).unwrap_or(f))
        .collect();
    let Some((version, expected)) = require_reference(test, puppet_lint_findings(&files)) else {
        return;
    };
    let got = granule_findings(&files);

    let ported: BTreeSet<&str> = CHECKS
        .iter()
        .filter(|c| c.enabled_by_default)
        .map(|c| c.name)
        .chain([SYNTAX_CHECK])
        .collect();
    let by_check = |findings: &[Finding]| {
        let mut map: BTreeMap<String, BTreeSet<Finding>> = BTreeMap::new();
        for f in findings {
            map.entry(f.3.clone()).or_default().insert(f.clone());
        }
        map
    };
    let expected = by_check(&expected);
    let got = by_check(&got);
    let checks: BTreeSet<&String> = expected.keys().chain(got.keys()).collect();
    let empty = BTreeSet::new();
    let mut failures = Vec::new();
    eprintln!("granule lint vs {version} on {} files:", files.len());
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
        if NOT_YET_PORTED.contains(&check.as_str()) {
            eprintln!("  (not yet ported)");
            continue;
        }
        if KNOWN_DIFFERENCES.iter().any(|(c, _)| c == check) {
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
                "{check}: granule misses {:?} and adds {:?}",
                missing, extra
            ));
        }
    }
    eprintln!("not yet ported: {}", NOT_YET_PORTED.join(", "));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// granule's findings with puppet-lint's default checks, control comments
/// applied (silenced problems are not in puppet-lint's report either).
fn granule_findings(files: &[PathBuf]) -> Vec<Finding> {
    let enabled: Vec<&'static dyn Rule> = CHECKS
        .iter()
        .filter(|c| c.enabled_by_default)
        .map(|c| c as &'static dyn Rule)
        .collect();
    files
        .par_iter()
        .flat_map_iter(|file| {
            let source = std::fs::read_to_string(file).unwrap_or_default();
            let path = file.display().to_string();
            lint_source(file, &source, &enabled)
                .into_iter()
                .filter(|p| p.ignored.is_none())
                .map(move |p| (path.clone(), p.line, p.column, p.check.to_string()))
                .collect::<Vec<_>>()
        })
        .collect()
}
