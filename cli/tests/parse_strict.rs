//! `granule parse` reports Puppet 7's validation issues: as warnings by
//! default (exit 0), as Puppet grades them with `--strict` (exit 1 when
//! Puppet 7 would refuse the file). Which issues are found, and where, is
//! checked against Puppet itself in granule-tests' `validation_parity`.

use assert_cmd::Command;
use std::path::PathBuf;

fn fixture(name: &str) -> String {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("cli/ has a parent")
        .join("fixtures/validation")
        .join(name);
    root.to_string_lossy().into_owned()
}

fn parse(args: &[&str]) -> (i32, String) {
    let output = Command::cargo_bin("granule")
        .expect("the granule binary is built")
        .arg("parse")
        .args(args)
        .output()
        .expect("granule runs");
    (
        output.status.code().expect("granule exits normally"),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn validation_errors_are_warnings_without_strict() {
    let file = fixture("NOT_TOP_LEVEL.pp");
    let (code, stderr) = parse(&[&file]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "{file}:3:3: warning[NOT_TOP_LEVEL]: Classes, definitions, and nodes"
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("error"), "{stderr}");
}

/// Issues that Puppet 3 code commonly has are named as legacy constructs,
/// with Puppet 7's code in the message.
#[test]
fn puppet_3_issues_are_legacy_warnings_without_strict() {
    let file = fixture("DUPLICATE_PARAMETER.pp");
    let (code, stderr) = parse(&[&file]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "{file}:3:11: warning[legacy/duplicate-parameter]:"
        )) && stderr.contains("(Puppet 7: DUPLICATE_PARAMETER The parameter 'port'"),
        "{stderr}"
    );
}

#[test]
fn strict_fails_on_what_puppet_7_refuses() {
    let file = fixture("DUPLICATE_PARAMETER.pp");
    let (code, stderr) = parse(&["--strict", &file]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains(&format!("{file}:3:11: error[DUPLICATE_PARAMETER]")),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("{file}:5:21: error[DUPLICATE_PARAMETER]")),
        "{stderr}"
    );
}

#[test]
fn strict_accepts_what_puppet_7_only_warns_about() {
    let file = fixture("DUPLICATE_KEY.pp");
    let (code, stderr) = parse(&["--strict", &file]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains(&format!("{file}:3:7: warning[DUPLICATE_KEY]")),
        "{stderr}"
    );
}

#[test]
fn strict_is_silent_on_valid_files() {
    let (code, stderr) = parse(&["--strict", &fixture("valid-nested-definitions.pp")]);
    assert_eq!((code, stderr.as_str()), (0, ""));
}
