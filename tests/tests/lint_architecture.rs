//! The architecture checks (`granule/...`) on their fixtures, through the
//! command users run: `fixtures/lint-architecture/<rule>/<case>/` is a
//! small environment (`modules/`, manifests, maybe a `tasks.yaml`), linted
//! with `granule lint --format json <case>` (and `--tasks` when the case has
//! a tasks.yaml, and the options of its `lint-options` file). A case named `positive*` must trip the rule, one named
//! `negative*` must not; what the rule reports is snapshotted per case.

use granule_tests::executor::granule_in;
use granule_tests::lint_fixtures::{lint_options, subdirectories};
use granule_tests::repo_root;
use serde_json::Value;
use std::fmt::Write;
use std::path::Path;

/// The rule's problems in one case, one line each, paths relative to it.
fn report(rule: &str, case: &Path) -> String {
    let options = lint_options(case);
    let mut args = vec!["lint", "--format", "json"];
    let tasks = case.join("tasks.yaml");
    if tasks.is_file() {
        args.extend(["--tasks", "tasks.yaml"]);
    }
    args.extend(options.iter().map(String::as_str));
    args.push(".");
    let output = granule_in(case, &args);
    let status = output.status.code();
    assert!(
        matches!(status, Some(0 | 1)),
        "{}: granule lint exited {status:?}: {}",
        case.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    let files: Value = serde_json::from_slice(&output.stdout).expect("granule's JSON");
    let mut lines = String::new();
    for problem in files
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|f| f.as_array().into_iter().flatten())
    {
        if problem["check"] != rule {
            continue;
        }
        let path = problem["path"].as_str().unwrap_or("");
        let _ = writeln!(
            lines,
            "{}:{}:{}: {}: {}",
            path.trim_start_matches("./"),
            problem["line"],
            problem["column"],
            problem["kind"].as_str().unwrap_or(""),
            problem["message"].as_str().unwrap_or("")
        );
    }
    lines
}

#[test]
fn every_architecture_rule_trips_on_its_positive_fixture_only() {
    let root = repo_root().join("fixtures/lint-architecture");
    let rules = subdirectories(&root);
    let listed = granule_in(&root, &["lint", "--list"]);
    let listed = String::from_utf8_lossy(&listed.stdout).into_owned();
    for name in listed.lines().filter_map(|l| l.split_whitespace().next()) {
        if let Some(rule) = name.strip_prefix("granule/") {
            assert!(
                root.join(rule).is_dir(),
                "{name} has no fixtures: add {}/{rule}/positive and negative",
                root.display()
            );
        }
    }
    for rule_dir in rules {
        let rule = format!(
            "granule/{}",
            rule_dir.file_name().unwrap().to_string_lossy()
        );
        let cases = subdirectories(&rule_dir);
        let names: Vec<String> = cases
            .iter()
            .map(|c| c.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert!(
            names.iter().any(|n| n.starts_with("positive"))
                && names.iter().any(|n| n.starts_with("negative")),
            "{rule}: needs a positive and a negative fixture, has {names:?}"
        );
        for (case, name) in cases.iter().zip(&names) {
            let found = report(&rule, case);
            if name.starts_with("positive") {
                assert!(!found.is_empty(), "{rule}: {name} trips nothing");
            } else {
                assert!(found.is_empty(), "{rule}: {name} trips the rule:\n{found}");
            }
            let snapshot = format!("{}__{name}", rule.trim_start_matches("granule/"));
            insta::assert_snapshot!(snapshot, found);
        }
    }
}
