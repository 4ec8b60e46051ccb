//! Every class a manifest declares by a literal name (`include`, `require`,
//! `contain`, `class { 'x': }`), with its line, as Puppet's own parser sees
//! it: the reference for what `granule deps --level class` must show.
//!
//! The records come from `tests/oracle/puppet_class_declarations.rb` (one
//! Ruby process for many files), cached under `target/oracle/` like the PN
//! oracle's dumps.

use serde::Deserialize;
use std::collections::HashMap;
use std::path::PathBuf;

/// What Puppet's parser found in one file.
#[derive(Debug, Clone, Deserialize)]
pub struct Declarations {
    pub path: String,
    pub declarations: Vec<Declaration>,
    /// Set when Puppet's parser rejects the file.
    pub error: Option<String>,
}

/// One class declared.
#[derive(Debug, Clone, Deserialize)]
pub struct Declaration {
    /// `include`, `require`, `contain`, or `class` (resource-like).
    pub kind: String,
    /// As written: maybe with a leading `::`, maybe capitalised.
    pub name: String,
    pub line: usize,
}

/// The class declarations of `files`, by path.
///
/// `Err` only when Puppet is not installed; a broken oracle panics.
pub fn declarations(files: &[PathBuf]) -> Result<HashMap<PathBuf, Declarations>, String> {
    let script = crate::repo_root().join("tests/oracle/puppet_class_declarations.rb");
    let (_, by_path) = crate::oracle::cached_records(
        &script,
        &[],
        "class-declarations",
        files,
        |record: &Declarations| &record.path,
    )?;
    Ok(by_path)
}
