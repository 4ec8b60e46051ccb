//! How `granule parse` reports problems: every independent syntax error of a
//! file, in order, rustc-style with the source line and a caret; or, with
//! `--message-format json`, one JSON object per diagnostic.

use assert_cmd::Command;
use serde_json::Value;
use std::path::PathBuf;

fn fixture(relative: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("cli/ has a parent")
        .join("fixtures")
        .join(relative)
        .to_string_lossy()
        .into_owned()
}

fn parse(args: &[&str]) -> (i32, String, String) {
    let output = Command::cargo_bin("granule")
        .expect("the granule binary is built")
        .arg("parse")
        .args(args)
        .output()
        .expect("granule runs");
    (
        output.status.code().expect("granule exits normally"),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn every_independent_syntax_error_is_reported_in_order() {
    let file = fixture("recovery/three_errors.pp");
    let (code, _, stderr) = parse(&[&file]);
    assert_eq!(code, 1, "{stderr}");
    let headers: Vec<&str> = stderr
        .lines()
        .filter(|line| line.starts_with(file.as_str()))
        .collect();
    assert_eq!(
        headers,
        [
            format!("{file}:7:15: error: Syntax error at ','"),
            format!("{file}:16:1: error: Syntax error at 'notice'"),
            format!("{file}:22:37: error: Syntax error at ')'"),
        ],
        "{stderr}"
    );
    assert!(
        stderr.contains("7 |     owner  => ,\n  |               ^"),
        "the source line and a caret under the error:\n{stderr}"
    );
}

#[test]
fn json_messages_are_one_object_per_diagnostic() {
    let file = fixture("recovery/three_errors.pp");
    let (code, stdout, stderr) = parse(&["--message-format", "json", &file]);
    assert_eq!(code, 1);
    assert_eq!(stderr, "", "JSON mode prints diagnostics on stdout only");
    let objects: Vec<Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).expect("each line is a JSON object"))
        .collect();
    assert_eq!(objects.len(), 3, "{stdout}");
    assert_eq!(
        objects[0],
        serde_json::json!({
            "path": file,
            "line": 7,
            "column": 15,
            "end": { "line": 7, "column": 16 },
            "severity": "error",
            "code": "syntax",
            "message": "Syntax error at ','",
        })
    );
    let lines: Vec<u64> = objects
        .iter()
        .map(|o| o["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [7, 16, 22]);
}

#[test]
fn json_messages_carry_legacy_codes() {
    let file = fixture("legacy/reference_with_space.pp");
    let (code, stdout, _) = parse(&["--message-format", "json", &file]);
    assert_eq!(code, 0);
    let object: Value =
        serde_json::from_str(stdout.lines().next().expect("one finding")).expect("a JSON object");
    assert_eq!(object["severity"], "warning");
    assert_eq!(object["code"], "legacy/reference-with-space");
    assert_eq!(
        (object["line"].as_u64(), object["column"].as_u64()),
        (Some(6), Some(1))
    );
}
