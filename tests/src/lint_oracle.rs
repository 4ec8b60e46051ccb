//! What the real puppet-lint reports for a set of files: one `puppet-lint
//! --json` process over all of them (a process per file costs a second of
//! Ruby start-up), cached under `target/lint-oracle/`, keyed by the
//! puppet-lint version and the paths and contents of the files.

use serde_json::Value;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// One problem puppet-lint reported: (path as given, line, column, check).
pub type Finding = (String, usize, usize, String);

/// Checks granule ports from puppet-lint 4 that the reference, Debian's
/// puppet-lint 3.0.1, does not have. Comparisons with the reference leave
/// them out (granule runs without them); the analyzer's unit tests check
/// them against the cases of puppet-lint 4's spec files instead.
pub const NOT_IN_REFERENCE: &[&str] = &["legacy_facts", "top_scope_facts"];

/// A `granule.toml` that turns off the checks of [`NOT_IN_REFERENCE`] and
/// granule's architecture checks (`granule/...`, which puppet-lint has no
/// counterpart of), for running the granule binary (`--config`) on what the
/// reference runs on.
pub fn config_without_newer_checks() -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let dir = crate::target_dir().join("lint-oracle");
        std::fs::create_dir_all(&dir).expect("target/lint-oracle is writable");
        let architecture = granule_analyzer::lint::rules::CHECKS
            .iter()
            .filter(|c| c.on_codebase())
            .map(|c| c.name);
        let quoted: Vec<String> = NOT_IN_REFERENCE
            .iter()
            .copied()
            .chain(architecture)
            .map(|c| format!("{c:?}"))
            .collect();
        let text = format!("[lint]\ndisable = [{}]\n", quoted.join(", "));
        // Written aside and renamed: test binaries running at once never
        // read it half written.
        let path = dir.join("granule-like-reference.toml");
        let partial = dir.join(format!(
            "granule-like-reference.toml.{}",
            std::process::id()
        ));
        std::fs::write(&partial, text).expect("target/lint-oracle is writable");
        std::fs::rename(&partial, &path).expect("target/lint-oracle is writable");
        path
    })
}

/// puppet-lint's findings for `files` (absolute paths, so that checks about
/// a file's place see the same full path as granule) and its version;
/// `options` are more puppet-lint options (`--NAME-check` enables a check
/// that is off by default).
pub fn puppet_lint_findings(
    files: &[PathBuf],
    options: &[&str],
) -> Result<(String, Vec<Finding>), String> {
    let version = puppet_lint_version()?;
    let cache = cache_path(&version, options, files);
    let text = match std::fs::read_to_string(&cache) {
        Ok(text) => text,
        Err(_) => {
            let text = run_puppet_lint(files, options)?;
            if let Some(dir) = cache.parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            let _ = std::fs::write(&cache, &text);
            text
        }
    };
    Ok((version, parse_report(&text)?))
}

fn puppet_lint_version() -> Result<String, String> {
    let output = Command::new("puppet-lint")
        .arg("--version")
        .output()
        .map_err(|e| format!("puppet-lint cannot be run ({e}); apt-get install puppet-lint"))?;
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
}

fn cache_path(version: &str, options: &[&str], files: &[PathBuf]) -> PathBuf {
    let mut hasher = DefaultHasher::new();
    version.hash(&mut hasher);
    options.hash(&mut hasher);
    for file in files {
        file.hash(&mut hasher);
        std::fs::read(file).unwrap_or_default().hash(&mut hasher);
    }
    crate::target_dir()
        .join("lint-oracle")
        .join(format!("{:016x}.json", hasher.finish()))
}

/// Runs puppet-lint in an empty directory, so that no `.puppet-lint.rc`
/// of the caller's changes which checks run.
fn run_puppet_lint(files: &[PathBuf], options: &[&str]) -> Result<String, String> {
    let dir = crate::target_dir().join("lint-oracle").join("empty-cwd");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let output = Command::new("puppet-lint")
        .arg("--json")
        .args(options)
        .args(files)
        .current_dir(&dir)
        .env("PWD", &dir)
        .output()
        .map_err(|e| format!("puppet-lint cannot be run ({e}); apt-get install puppet-lint"))?;
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    if !text.trim_start().starts_with('[') {
        return Err(format!(
            "puppet-lint --json printed no report: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(text)
}

fn parse_report(text: &str) -> Result<Vec<Finding>, String> {
    let report: Vec<Vec<Value>> =
        serde_json::from_str(text).map_err(|e| format!("puppet-lint's JSON: {e}"))?;
    Ok(report
        .iter()
        .flatten()
        .map(|problem| {
            let field = |name: &str| problem[name].as_str().unwrap_or_default().to_string();
            let number = |name: &str| problem[name].as_u64().unwrap_or_default() as usize;
            (
                field("path"),
                number("line"),
                number("column"),
                field("check"),
            )
        })
        .collect())
}
