//! `granule lint --format sarif` is valid SARIF 2.1.0: every report is
//! checked against the official OASIS JSON schema (with its `uri` formats),
//! for the lint fixtures (errors, warnings, syntax errors), after `--fix`,
//! for a clean file, and for file names that a URI must percent-encode.
//! (`lint_cli` checks that the results are puppet-lint's.)

use granule_tests::executor::{exit_code, granule_in, scratch, text};
use granule_tests::sarif_schema::{sarif_validator, SarifValidator};
use granule_tests::{repo_root, require_reference};
use serde_json::Value;
use std::path::Path;

fn validator() -> Option<&'static SarifValidator> {
    require_reference("lint_sarif", sarif_validator())
}

/// `granule lint --format sarif ARGS` in `dir`, validated against the
/// schema; the report parsed, and the exit status.
fn valid_sarif(validator: &SarifValidator, dir: &Path, args: &[&str]) -> (Value, i32) {
    let mut all = vec!["lint", "--format", "sarif"];
    all.extend(args);
    let output = granule_in(dir, &all);
    let command = format!("`granule {}` in {}", all.join(" "), dir.display());
    let sarif = text(&output.stdout);
    let report = serde_json::from_str(&sarif).unwrap_or_else(|e| {
        panic!(
            "{command} wrote no JSON ({e}); stderr: {}",
            text(&output.stderr)
        )
    });
    if let Err(errors) = validator.validate(&sarif) {
        panic!("{command} wrote SARIF that breaks the SARIF 2.1.0 schema:\n{errors}");
    }
    (report, exit_code(&output))
}

fn results(report: &Value) -> &Vec<Value> {
    report["runs"][0]["results"].as_array().expect("results")
}

fn rules(report: &Value) -> &Vec<Value> {
    report["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .expect("rules")
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.expect("readable fixture");
        let target = to.join(entry.path().strip_prefix(from).unwrap());
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[test]
fn lint_fixtures_report_is_valid_sarif() {
    let Some(validator) = validator() else { return };
    let (report, status) = valid_sarif(validator, &repo_root().join("fixtures/lint"), &["."]);
    assert_eq!(status, 1);
    // The fixtures hold many checks, both levels and syntax errors: the
    // schema saw every kind of result and rule granule writes.
    assert!(results(&report).len() > 50, "{report:#}");
    let levels: Vec<&Value> = rules(&report)
        .iter()
        .map(|rule| &rule["defaultConfiguration"]["level"])
        .collect();
    assert!(levels.contains(&&Value::from("error")));
    assert!(levels.contains(&&Value::from("warning")));
    assert!(rules(&report).iter().any(|rule| rule["id"] == "syntax"));
}

#[test]
fn report_after_fix_is_valid_sarif() {
    let Some(validator) = validator() else { return };
    let dir = scratch("lint-sarif-fix");
    copy_dir(&repo_root().join("fixtures/lint"), &dir);
    let (before, _) = valid_sarif(validator, &dir, &["."]);
    let (fixed, status) = valid_sarif(validator, &dir, &["--fix", "."]);
    assert_eq!(status, 1, "problems --fix cannot fix are left");
    assert!(results(&fixed).len() < results(&before).len());
}

#[test]
fn clean_file_report_is_valid_sarif() {
    let Some(validator) = validator() else { return };
    let dir = scratch("lint-sarif-clean");
    std::fs::create_dir_all(dir.join("clean/manifests")).unwrap();
    std::fs::write(
        dir.join("clean/manifests/init.pp"),
        "# Documented.\nclass clean {\n  $x = 'plain'\n}\n",
    )
    .unwrap();
    let (report, status) = valid_sarif(validator, &dir, &["clean"]);
    assert_eq!(status, 0);
    assert!(results(&report).is_empty());
    assert!(rules(&report).is_empty());
}

#[test]
fn unusual_file_names_are_percent_encoded_uris() {
    let Some(validator) = validator() else { return };
    let dir = scratch("lint-sarif-uris");
    let base = dir.join("dir with space");
    std::fs::create_dir_all(&base).unwrap();
    std::fs::write(base.join("50% off: ünï.pp"), "class x {}\n").unwrap();
    let (report, status) = valid_sarif(validator, &dir, &["dir with space"]);
    assert_eq!(status, 1);
    let run = &report["runs"][0];
    let root = run["originalUriBaseIds"]["ROOTPATH"]["uri"]
        .as_str()
        .expect("ROOTPATH");
    assert!(root.ends_with("/dir%20with%20space/"), "{root}");
    for result in results(&report) {
        let location = &result["locations"][0]["physicalLocation"]["artifactLocation"];
        assert_eq!(location["uri"], "50%25%20off%3A%20%C3%BCn%C3%AF.pp");
    }
    assert!(!results(&report).is_empty());
}
