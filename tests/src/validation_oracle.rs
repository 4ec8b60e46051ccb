//! Puppet's own validation of a set of files: every issue its validator
//! (`Checker4_0`, behind `puppet parser validate`) reports, with Puppet's
//! issue code, severity, line and column.
//!
//! The records come from `tests/oracle/puppet_validate.rb`, which runs
//! Puppet's parser and validator in one Ruby process with an acceptor that
//! keeps every diagnostic (the `puppet` command stops at the first error).
//! They are cached under `target/oracle/` like the PN oracle's dumps, keyed by
//! the Puppet version, the script, and the paths and contents of the files.

use serde::Deserialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// What Puppet's validator said about one file.
#[derive(Debug, Clone, Deserialize)]
pub struct Validation {
    pub path: String,
    pub diagnostics: Vec<PuppetIssue>,
    /// Set when Puppet's parser rejects the file (then nothing is validated).
    pub error: Option<String>,
}

/// One issue as Puppet reports it.
#[derive(Debug, Clone, Deserialize)]
pub struct PuppetIssue {
    pub code: String,
    /// `error`, `warning` or `deprecation`.
    pub severity: String,
    /// 1-based; absent when Puppet locates the issue nowhere.
    pub line: Option<usize>,
    /// 1-based character column on `line`.
    pub pos: Option<usize>,
    pub message: String,
}

/// Puppet's validation of a set of files, by path.
#[derive(Debug)]
pub struct Validations {
    pub puppet_version: String,
    by_path: HashMap<PathBuf, Validation>,
}

impl Validations {
    pub fn get(&self, path: &Path) -> &Validation {
        self.by_path
            .get(path)
            .unwrap_or_else(|| panic!("the validation oracle has no record for {}", path.display()))
    }
}

/// The validation oracle script.
pub fn script_path() -> PathBuf {
    crate::repo_root().join("tests/oracle/puppet_validate.rb")
}

/// Puppet's validation of `files`: from the cache when the same Puppet
/// already validated the same files, else by running the oracle.
///
/// `Err` only when Puppet is not installed; a broken oracle panics.
pub fn validations(files: &[PathBuf]) -> Result<Validations, String> {
    let (puppet_version, by_path) = crate::oracle::cached_records(
        &script_path(),
        &[],
        "validate",
        files,
        |record: &Validation| &record.path,
    )?;
    Ok(Validations {
        puppet_version,
        by_path,
    })
}
