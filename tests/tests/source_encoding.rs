//! A file that is not UTF-8 (a Latin-1 manifest, say): Puppet refuses it, and
//! granule says where, with the line and character column of the first byte
//! that is not UTF-8, in `granule parse` (human and JSON messages),
//! `granule lint` and the analyses (`granule deps`), which go on with the
//! rest of the file.

use granule_tests::executor::{exit_code, granule, text, tool_available};
use granule_tests::{require_reference, target_dir};
use std::path::PathBuf;
use std::process::Command;

const TEST: &str = "source_encoding";

/// Line 3 holds `é` in UTF-8 (two bytes, one character), then `é` in Latin-1
/// (byte 0xE9): the error is at line 3, character column 17 (byte 18).
const LATIN1: &[u8] = b"class latin1 {\n  $a = 1\n  $b = 'caf\xc3\xa9 caf\xe9'\n}\n";
const LINE: usize = 3;
const COLUMN: usize = 17;

fn latin1_file(name: &str) -> PathBuf {
    let dir = target_dir().join(TEST);
    std::fs::create_dir_all(&dir).expect("target/source_encoding");
    let path = dir.join(name);
    std::fs::write(&path, LATIN1).expect("write the Latin-1 manifest");
    path
}

#[test]
fn puppet_refuses_a_file_that_is_not_utf8() {
    if require_reference(TEST, tool_available("puppet", "puppet-agent")).is_none() {
        return;
    }
    let file = latin1_file("puppet.pp");
    let output = Command::new("puppet")
        .args(["parser", "validate"])
        .arg(&file)
        .output()
        .expect("puppet runs");
    assert!(!output.status.success(), "Puppet validates a Latin-1 file");
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("invalid byte sequence in UTF-8"),
        "Puppet refuses it for its encoding: {stderr}"
    );
}

#[test]
fn parse_names_the_line_and_column_of_the_first_byte_that_is_not_utf8() {
    let file = latin1_file("parse.pp");
    let path = file.display().to_string();
    let output = Command::new(granule())
        .arg("parse")
        .arg(&file)
        .output()
        .expect("granule runs");
    let stderr = text(&output.stderr);
    assert_eq!(
        exit_code(&output),
        1,
        "a file that does not parse: {stderr}"
    );
    assert!(
        stderr.starts_with(&format!(
            "{path}:{LINE}:{COLUMN}: error: not UTF-8 text at byte 0xE9: "
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("3 |   $b = 'café caf\u{fffd}'\n  |                 ^\n"),
        "the line, with a caret under the byte:\n{stderr}"
    );

    let output = Command::new(granule())
        .args(["parse", "--message-format", "json"])
        .arg(&file)
        .output()
        .expect("granule runs");
    assert_eq!(exit_code(&output), 1);
    let message: serde_json::Value =
        serde_json::from_str(text(&output.stdout).trim()).expect("one JSON message");
    assert_eq!(message["path"], path.as_str());
    assert_eq!(message["line"], LINE);
    assert_eq!(message["column"], COLUMN);
    assert_eq!(message["severity"], "error");
}

#[test]
fn lint_names_the_line_and_column_of_the_first_byte_that_is_not_utf8() {
    let file = latin1_file("lint.pp");
    let output = Command::new(granule())
        .arg("lint")
        .arg(&file)
        .output()
        .expect("granule runs");
    let stderr = text(&output.stderr);
    assert_ne!(exit_code(&output), 0, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "{}: line {LINE}, column {COLUMN}: not UTF-8 text at byte 0xE9",
            file.display()
        )),
        "{stderr}"
    );
}

#[test]
fn deps_names_the_line_and_column_and_analyzes_the_rest() {
    let dir = target_dir().join(TEST).join("deps");
    let manifests = dir.join("modules/latin1/manifests");
    std::fs::create_dir_all(&manifests).expect("a module directory");
    std::fs::write(manifests.join("init.pp"), LATIN1).expect("write the Latin-1 class");
    std::fs::write(dir.join("site.pp"), "include latin1\n").expect("write site.pp");
    let output = Command::new(granule())
        .current_dir(&dir)
        .args(["deps", "--modulepath", "modules", "--entry", "site.pp"])
        .output()
        .expect("granule runs");
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains(&format!(
            "modules/latin1/manifests/init.pp:{LINE}:{COLUMN}: warning[analyzer/syntax-error]: \
             not UTF-8 text at byte 0xE9: "
        )),
        "{stderr}"
    );
    assert!(
        text(&output.stdout).contains("--include--> class latin1"),
        "the class is found all the same: {}",
        text(&output.stdout)
    );
}
