//! Puppet 3 constructs (fixtures/legacy, one file per construct): by default
//! `granule parse` accepts each (exit 0) and reports it as a
//! `warning[legacy/...]` where the fixture's `# expect: LINE:COL CODE` lines
//! say, with the Puppet 3 meaning in its tree (`# pn:`); with `--strict` it
//! reports what Puppet 7 itself reports on the file (its validator's errors
//! with Puppet's code and position, or its syntax error), and fails when
//! Puppet 7 would.

use granule_parser::legacy::FAILS_IN_PUPPET_7;
use granule_tests::executor::granule;
use granule_tests::{oracle, repo_root, require_reference, validation_oracle};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

const TEST: &str = "legacy_constructs";

struct Expectations {
    /// (line, column, code) of each legacy finding.
    findings: BTreeSet<(usize, usize, String)>,
    /// A piece of the PN tree showing the Puppet 3 meaning.
    pn: Option<String>,
}

fn expectations(source: &str) -> Expectations {
    let mut findings = BTreeSet::new();
    let mut pn = None;
    for line in source.lines() {
        if let Some(rest) = line.strip_prefix("# expect: ") {
            let (position, code) = rest.split_once(' ').expect("`# expect: LINE:COL CODE`");
            let (line, column) = position.split_once(':').expect("LINE:COL");
            findings.insert((
                line.parse().expect("a line number"),
                column.parse().expect("a column"),
                code.to_string(),
            ));
        } else if let Some(rest) = line.strip_prefix("# pn: ") {
            pn = Some(rest.to_string());
        }
    }
    assert!(
        !findings.is_empty(),
        "a legacy fixture says what it expects"
    );
    Expectations { findings, pn }
}

fn granule_parse(args: &[&str], file: &Path) -> (i32, String, String) {
    let output = Command::new(granule())
        .arg("parse")
        .args(args)
        .arg(file)
        .output()
        .expect("granule runs");
    (
        output.status.code().expect("granule exits"),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The `(line, column, code)` of the findings with `severity` in `stderr`.
fn reported(stderr: &str, file: &Path, severity: &str) -> BTreeSet<(usize, usize, String)> {
    let prefix = format!("{}:", file.display());
    stderr
        .lines()
        .filter_map(|line| line.strip_prefix(&prefix))
        .filter_map(|rest| {
            let (line, rest) = rest.split_once(':')?;
            let (column, rest) = rest.split_once(": ")?;
            let code = rest.strip_prefix(severity)?.strip_prefix('[')?;
            let code = &code[..code.find(']')?];
            Some((line.parse().ok()?, column.parse().ok()?, code.to_string()))
        })
        .collect()
}

fn fixtures() -> Vec<PathBuf> {
    let dir = repo_root().join("fixtures/legacy");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("fixtures/legacy")
        .map(|entry| entry.expect("an entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "pp"))
        .collect();
    files.sort();
    files
}

#[test]
fn legacy_constructs_are_read_and_reported() {
    for file in fixtures() {
        let source = std::fs::read_to_string(&file).expect("readable fixture");
        let expected = expectations(&source);
        let (code, stdout, stderr) = granule_parse(&["--format", "pn"], &file);
        assert_eq!(
            code,
            0,
            "{}: granule parse refuses it:\n{stderr}",
            file.display()
        );
        let legacy: BTreeSet<_> = reported(&stderr, &file, "warning")
            .into_iter()
            .filter(|(_, _, code)| code.starts_with("legacy/"))
            .collect();
        assert_eq!(
            legacy,
            expected.findings,
            "{}: legacy findings (line, column, code)\n{stderr}",
            file.display()
        );
        if let Some(pn) = &expected.pn {
            assert!(
                stdout.contains(pn.as_str()),
                "{}: the tree should hold the Puppet 3 meaning {pn}, it is:\n{stdout}",
                file.display()
            );
        }
    }
}

#[test]
fn strict_reports_what_puppet_7_reports() {
    let files = fixtures();
    let Some(validations) = require_reference(TEST, validation_oracle::validations(&files)) else {
        return;
    };
    let Some(dumps) = require_reference(TEST, oracle::dumps(&files)) else {
        return;
    };
    for file in &files {
        let source = std::fs::read_to_string(file).expect("readable fixture");
        let expected = expectations(&source);
        let (code, _, stderr) = granule_parse(&["--strict"], file);

        let mut puppet_errors: BTreeSet<(usize, usize, String)> = validations
            .get(file)
            .diagnostics
            .iter()
            .filter(|issue| issue.severity == "error")
            .map(|issue| {
                let line = issue.line.expect("Puppet locates the issue");
                (line, issue.pos.expect("and its column"), issue.code.clone())
            })
            .collect();
        let syntax_error = dumps.get(file).error.as_ref();
        if let Some(error) = syntax_error {
            let (line, pos) = (error.line.expect("a line"), error.pos.expect("a column"));
            let prefix = format!("{}:{line}:{pos}: error: ", file.display());
            assert!(
                stderr.contains(&prefix),
                "{}: Puppet 7 reports a syntax error at {line}:{pos} ({}); granule --strict:\n{stderr}",
                file.display(),
                error.message
            );
            puppet_errors.clear();
        }
        let granule_errors = reported(&stderr, file, "error");
        let puppet_codes: BTreeSet<_> = puppet_errors.iter().cloned().collect();
        let granule_puppet_codes: BTreeSet<_> = granule_errors
            .iter()
            .filter(|(_, _, code)| !code.starts_with("legacy/"))
            .cloned()
            .collect();
        assert_eq!(
            granule_puppet_codes,
            puppet_codes,
            "{}: errors with Puppet's codes (line, column, code)\n{stderr}",
            file.display()
        );
        let fails_when_compiled = expected
            .findings
            .iter()
            .any(|(_, _, code)| FAILS_IN_PUPPET_7.contains(&code.as_str()));
        let puppet_refuses = syntax_error.is_some() || !puppet_errors.is_empty();
        let expected_code = i32::from(puppet_refuses || fails_when_compiled);
        assert_eq!(
            code,
            expected_code,
            "{}: granule parse --strict exit status (Puppet 7 refuses it: {puppet_refuses}, \
             fails when compiling: {fails_when_compiled})\n{stderr}",
            file.display()
        );
    }
}
