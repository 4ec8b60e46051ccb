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
use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

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
    let puppet_version = crate::oracle::puppet_version()?;
    let cache_dir = crate::target_dir().join("oracle");
    let cache_file = cache_dir.join(format!(
        "validate-{puppet_version}-{:016x}.jsonl",
        cache_key(&puppet_version, files)
    ));
    let text = match std::fs::read_to_string(&cache_file) {
        Ok(text) => text,
        Err(_) => {
            let text = run_oracle(files);
            store(&cache_dir, &cache_file, &text);
            text
        }
    };
    let mut by_path = HashMap::with_capacity(files.len());
    for (number, line) in text.lines().enumerate() {
        let record: Validation = serde_json::from_str(line).unwrap_or_else(|e| {
            panic!(
                "{}: line {}: not a validation record ({e})",
                cache_file.display(),
                number + 1
            )
        });
        by_path.insert(PathBuf::from(&record.path), record);
    }
    for file in files {
        assert!(
            by_path.contains_key(file),
            "the validation oracle printed nothing for {} (see {})",
            file.display(),
            cache_file.display()
        );
    }
    Ok(Validations {
        puppet_version,
        by_path,
    })
}

fn cache_key(puppet_version: &str, files: &[PathBuf]) -> u64 {
    let mut hasher = DefaultHasher::new();
    puppet_version.hash(&mut hasher);
    std::fs::read(script_path())
        .expect("tests/oracle/puppet_validate.rb is readable")
        .hash(&mut hasher);
    for file in files {
        file.hash(&mut hasher);
        std::fs::read(file)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()))
            .hash(&mut hasher);
    }
    hasher.finish()
}

fn run_oracle(files: &[PathBuf]) -> String {
    let mut child = Command::new("ruby")
        .arg(script_path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot start `ruby tests/oracle/puppet_validate.rb`");
    let list: String = files
        .iter()
        .map(|file| format!("{}\n", file.display()))
        .collect();
    let mut stdin = child.stdin.take().expect("piped stdin");
    // Written from a thread so that a full stdout pipe cannot deadlock us.
    let writer = std::thread::spawn(move || stdin.write_all(list.as_bytes()));
    let output = child
        .wait_with_output()
        .expect("the validation oracle did not finish");
    writer
        .join()
        .expect("writer thread")
        .expect("cannot send the file list to the validation oracle");
    assert!(
        output.status.success(),
        "the validation oracle failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("the validation oracle prints UTF-8")
}

/// Writes the cache atomically: tests in other processes may read it meanwhile.
fn store(cache_dir: &Path, cache_file: &Path, text: &str) {
    let attempt = || -> std::io::Result<()> {
        std::fs::create_dir_all(cache_dir)?;
        let partial = cache_file.with_extension(format!("partial-{}", std::process::id()));
        std::fs::write(&partial, text)?;
        std::fs::rename(&partial, cache_file)
    };
    if let Err(error) = attempt() {
        eprintln!(
            "warning: cannot cache the validation oracle's output in {}: {error}",
            cache_dir.display()
        );
    }
}
