//! `granule lint` as users run it: the JSON report is the one `puppet-lint
//! --json` prints (tools built on it keep working), `.puppet-lint.rc` turns
//! checks off, `--explain` prints the rule's documentation, and the exit
//! status says whether anything was found. Compared with the reference
//! puppet-lint, granule runs without the checks it does not have
//! (`NOT_IN_REFERENCE`).

use granule_tests::executor::{exit_code, granule_in, scratch, text, tool_available};
use granule_tests::lint_oracle::config_without_newer_checks;
use granule_tests::{repo_root, require_reference};
use serde_json::Value;
use std::path::Path;
use std::process::Command;

/// The fields every puppet-lint problem has. Some checks add their fix's
/// working data (Ruby token objects, `arrow_column`...), which means
/// nothing outside puppet-lint's process.
const PROBLEM_FIELDS: [&str; 9] = [
    "message", "line", "column", "kind", "check", "fullpath", "path", "filename", "KIND",
];

fn problem_fields_only(mut report: Value) -> Value {
    for file in report.as_array_mut().into_iter().flatten() {
        for problem in file.as_array_mut().into_iter().flatten() {
            if let Some(fields) = problem.as_object_mut() {
                fields.retain(|key, _| PROBLEM_FIELDS.contains(&key.as_str()));
            }
        }
    }
    report
}

fn fixture_paths(dir: &Path) -> Vec<String> {
    let mut paths: Vec<String> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "pp"))
        .filter_map(|e| {
            e.path()
                .strip_prefix(dir)
                .ok()
                .map(|p| p.display().to_string())
        })
        .collect();
    paths.sort();
    paths
}

#[test]
fn json_report_is_puppet_lints() {
    let Some(()) = require_reference(
        "lint_cli json",
        tool_available("puppet-lint", "puppet-lint"),
    ) else {
        return;
    };
    let dir = repo_root().join("fixtures/lint");
    let paths = fixture_paths(&dir);
    let puppet_lint = Command::new("puppet-lint")
        .arg("--json")
        .args(&paths)
        .current_dir(&dir)
        .env("PWD", &dir)
        .output()
        .expect("puppet-lint runs");
    let expected: Value = serde_json::from_slice(&puppet_lint.stdout).expect("puppet-lint's JSON");
    let config = config_without_newer_checks().display().to_string();
    let mut args = vec!["lint", "--config", &config, "--format", "json"];
    args.extend(paths.iter().map(String::as_str));
    let output = granule_in(&dir, &args);
    let got: Value = serde_json::from_slice(&output.stdout).expect("granule's JSON");
    let expected = problem_fields_only(expected);
    let (expected, got) = (expected.as_array().unwrap(), got.as_array().unwrap());
    assert_eq!(expected.len(), got.len(), "one array per file");
    for (path, (want, have)) in paths.iter().zip(expected.iter().zip(got)) {
        assert_eq!(
            want, have,
            "{path}: granule's problems differ from puppet-lint's"
        );
    }
    assert_eq!(exit_code(&output), 1, "problems were found: exit 1");
}

#[test]
fn puppet_lint_rc_turns_checks_off() {
    let dir = scratch("lint-rc");
    let manifest = "class rc {\n  $x = \"plain\"\n}\n";
    std::fs::create_dir_all(dir.join("rc/manifests")).unwrap();
    std::fs::write(dir.join("rc/manifests/init.pp"), manifest).unwrap();
    let before = granule_in(&dir, &["lint", "rc/manifests/init.pp"]);
    let report = text(&before.stdout);
    assert!(report.contains("[documentation]"), "{report}");
    assert!(report.contains("[double_quoted_strings]"), "{report}");
    std::fs::write(
        dir.join(".puppet-lint.rc"),
        "--no-documentation-check\n--no-double_quoted_strings-check\n",
    )
    .unwrap();
    let after = granule_in(&dir, &["lint", "rc/manifests/init.pp"]);
    assert_eq!(exit_code(&after), 0, "{}", text(&after.stderr));
}

#[test]
fn explain_prints_the_rules_documentation() {
    let dir = repo_root();
    let output = granule_in(&dir, &["lint", "--explain", "arrow_alignment"]);
    assert_eq!(exit_code(&output), 0);
    let explained = text(&output.stdout);
    let docs = std::fs::read_to_string(dir.join("docs/rules.md")).unwrap();
    let section = docs
        .split("\n## ")
        .find(|s| s.starts_with("arrow_alignment\n"))
        .expect("docs/rules.md has arrow_alignment");
    assert_eq!(
        section.trim_start_matches("arrow_alignment\n").trim(),
        explained.trim()
    );
    let unknown = granule_in(&dir, &["lint", "--explain", "no_such_check"]);
    assert_eq!(exit_code(&unknown), 2);
    assert!(text(&unknown.stderr).contains("arrow_alignment"));
}

#[test]
fn clean_files_exit_zero() {
    let dir = scratch("lint-clean");
    std::fs::create_dir_all(dir.join("clean/manifests")).unwrap();
    std::fs::write(
        dir.join("clean/manifests/init.pp"),
        "# Documented.\nclass clean {\n  $x = 'plain'\n}\n",
    )
    .unwrap();
    let output = granule_in(&dir, &["lint", "clean"]);
    assert_eq!(exit_code(&output), 0, "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains("0 problems in 1 file"));
}

/// The fixtures' paths relative to fixtures/lint, and puppet-lint run there
/// with `options` and `env`.
fn puppet_lint_on_fixtures(options: &[&str], env: &[(&str, &str)]) -> (Vec<String>, String) {
    let dir = repo_root().join("fixtures/lint");
    let paths = fixture_paths(&dir);
    let mut command = Command::new("puppet-lint");
    command
        .args(options)
        .args(&paths)
        .current_dir(&dir)
        .env("PWD", &dir);
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command.output().expect("puppet-lint runs");
    (paths, text(&output.stdout))
}

fn granule_on_fixtures(format: &str, paths: &[String]) -> String {
    let config = config_without_newer_checks().display().to_string();
    let mut args = vec!["lint", "--config", &config, "--format", format];
    args.extend(paths.iter().map(String::as_str));
    text(&granule_in(&repo_root().join("fixtures/lint"), &args).stdout)
}

#[test]
fn github_annotations_are_puppet_lints() {
    let Some(()) = require_reference(
        "lint_cli github",
        tool_available("puppet-lint", "puppet-lint"),
    ) else {
        return;
    };
    // puppet-lint prints annotations when it runs in a GitHub Action.
    let (paths, stdout) = puppet_lint_on_fixtures(&[], &[("GITHUB_ACTION", "lint")]);
    let expected: Vec<&str> = stdout.lines().filter(|l| l.starts_with("::")).collect();
    let got = granule_on_fixtures("github", &paths);
    assert!(!expected.is_empty());
    assert_eq!(expected, got.lines().collect::<Vec<_>>());
}

#[test]
fn sarif_results_are_puppet_lints() {
    let Some(()) = require_reference(
        "lint_cli sarif",
        tool_available("puppet-lint", "puppet-lint"),
    ) else {
        return;
    };
    let (paths, stdout) = puppet_lint_on_fixtures(&["--sarif"], &[]);
    let expected: Value = serde_json::from_str(&stdout).expect("puppet-lint's SARIF");
    let got: Value =
        serde_json::from_str(&granule_on_fixtures("sarif", &paths)).expect("granule's SARIF");
    assert_eq!(got["version"], "2.1.0");
    let (want, have) = (&expected["runs"][0], &got["runs"][0]);
    assert_eq!(want["results"], have["results"]);
    assert_eq!(want["originalUriBaseIds"], have["originalUriBaseIds"]);
    let rules = |run: &Value| -> Vec<(Value, Value)> {
        run["tool"]["driver"]["rules"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r["id"].clone(), r["defaultConfiguration"].clone()))
            .collect()
    };
    assert_eq!(rules(want), rules(have));
}

#[test]
fn xml_reports_hold_every_problem() {
    let dir = repo_root().join("fixtures/lint");
    let paths = fixture_paths(&dir);
    let report: Value = serde_json::from_str(&granule_on_fixtures("json", &paths)).unwrap();
    let problems: usize = report
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_array().unwrap().len())
        .sum();
    let with_problems = report
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| !f.as_array().unwrap().is_empty())
        .count();
    let checkstyle = granule_on_fixtures("checkstyle", &paths);
    assert_eq!(checkstyle.matches("<error ").count(), problems);
    assert_eq!(checkstyle.matches("<file ").count(), paths.len());
    assert!(checkstyle.contains("source=\"puppet-lint.arrow_alignment\""));
    let junit = granule_on_fixtures("junit", &paths);
    assert_eq!(junit.matches("<testcase ").count(), paths.len());
    assert_eq!(junit.matches("<failure ").count(), with_problems);
    assert!(junit.contains(&format!("failures=\"{with_problems}\"")));
}

#[test]
fn baseline_silences_recorded_problems_even_when_lines_move() {
    let dir = scratch("lint-baseline");
    std::fs::create_dir_all(dir.join("legacy/manifests")).unwrap();
    let manifest = dir.join("legacy/manifests/init.pp");
    std::fs::write(&manifest, "class legacy {\n  $x = \"plain\"\n}\n").unwrap();
    let path = "legacy/manifests/init.pp";
    let write = granule_in(&dir, &["lint", "--write-baseline", "baseline.json", path]);
    assert_eq!(exit_code(&write), 0, "{}", text(&write.stderr));
    let gate = granule_in(&dir, &["lint", "--baseline", "baseline.json", path]);
    assert_eq!(exit_code(&gate), 0, "{}", text(&gate.stderr));

    // Lines move and a new mistake appears: only the new one is reported.
    std::fs::write(
        &manifest,
        "# Legacy.\nclass legacy {\n  $x = \"plain\"\n  $y = \"new\"\n}\n",
    )
    .unwrap();
    let gate = granule_in(
        &dir,
        &[
            "lint",
            "--format",
            "json",
            "--baseline",
            "baseline.json",
            path,
        ],
    );
    assert_eq!(exit_code(&gate), 1);
    let report: Value = serde_json::from_slice(&gate.stdout).unwrap();
    let lines: Vec<(u64, &str)> = report[0]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["line"].as_u64().unwrap(), p["check"].as_str().unwrap()))
        .collect();
    assert_eq!(lines, vec![(4, "double_quoted_strings")]);

    let broken = granule_in(&dir, &["lint", "--baseline", "missing.json", path]);
    assert_eq!(exit_code(&broken), 2);
    assert!(text(&broken.stderr).contains("--write-baseline"));
}

#[test]
fn granule_toml_chooses_checks_and_the_fail_level() {
    let dir = scratch("lint-config");
    std::fs::create_dir_all(dir.join("conf/manifests")).unwrap();
    let path = "conf/manifests/init.pp";
    std::fs::write(
        dir.join(path),
        "# Documented.\nclass conf {\n  $x = \"plain\"\n}\n",
    )
    .unwrap();
    let warned = granule_in(&dir, &["lint", path]);
    assert_eq!(exit_code(&warned), 1, "a warning fails by default");
    assert_eq!(
        exit_code(&granule_in(&dir, &["lint", "--fail-on", "error", path])),
        0
    );

    std::fs::write(dir.join("granule.toml"), "[lint]\nfail_on = \"error\"\n").unwrap();
    assert_eq!(exit_code(&granule_in(&dir, &["lint", path])), 0);

    std::fs::write(
        dir.join("granule.toml"),
        "[lint]\ndisable = [\"double_quoted_strings\"]\nenable = [\"quoted_booleans\"]\n",
    )
    .unwrap();
    let quiet = granule_in(&dir, &["lint", path]);
    assert_eq!(exit_code(&quiet), 0, "{}", text(&quiet.stderr));
    std::fs::write(
        dir.join(path),
        "# Documented.\nclass conf {\n  $x = 'true'\n}\n",
    )
    .unwrap();
    let booleans = granule_in(&dir, &["lint", path]);
    assert!(text(&booleans.stdout).contains("[quoted_booleans]"));

    std::fs::write(dir.join("granule.toml"), "[lint]\ndisabled = []\n").unwrap();
    let broken = granule_in(&dir, &["lint", path]);
    assert_eq!(exit_code(&broken), 2);
    assert!(text(&broken.stderr).contains("granule.toml"));
}
