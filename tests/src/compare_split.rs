//! `scripts/compare-split` run from the tests: how a split compares with a
//! human one in Fuel's format (same-task pairs of classes, orderings kept).

use serde::Deserialize;
use std::path::Path;
use std::process::Command;

/// The figures `scripts/compare-split --json` prints.
#[derive(Debug, Clone, Deserialize)]
pub struct Comparison {
    /// Classes both splits declare directly: the ones compared.
    pub classes_compared: usize,
    pub classes_only_ours: usize,
    pub classes_only_reference: usize,
    pub tasks: Sides,
    pub pairs: Pairs,
    /// `None` when our split puts no two compared classes together.
    pub precision: Option<f64>,
    /// `None` when the reference puts no two compared classes together.
    pub recall: Option<f64>,
    /// `None` when neither side puts two compared classes together.
    pub f1: Option<f64>,
    pub orderings: Orderings,
    pub reversed: Vec<ReversedOrdering>,
}

/// Puppet tasks on each side.
#[derive(Debug, Clone, Deserialize)]
pub struct Sides {
    pub ours: usize,
    pub reference: usize,
}

/// Unordered pairs of compared classes that some task declares together.
#[derive(Debug, Clone, Deserialize)]
pub struct Pairs {
    pub together_ours: usize,
    pub together_reference: usize,
    pub together_both: usize,
}

/// What became of the reference's orderings between compared classes.
#[derive(Debug, Clone, Deserialize)]
pub struct Orderings {
    pub reference: usize,
    pub kept: usize,
    pub reversed: usize,
    pub unordered: usize,
    /// Pairs the reference orders both ways (it applies a class in several
    /// tasks, before and after the other): not counted above.
    pub both_ways: usize,
}

/// A reference ordering `before` → `after` that ours turns around.
#[derive(Debug, Clone, Deserialize)]
pub struct ReversedOrdering {
    pub before: String,
    pub after: String,
    /// A reference task declaring `before` and a later one declaring `after`.
    pub reference_tasks: Vec<String>,
    /// Our tasks declaring `before`, then those declaring `after`.
    pub our_tasks: Vec<Vec<String>>,
}

/// Compares the split in `out` with the human split in `reference`.
///
/// `Err` only when Python 3 or its yaml module is missing; a comparison the
/// script refuses (an unreadable input) panics with its message.
pub fn compare_split(out: &Path, reference: &Path) -> Result<Comparison, String> {
    let output = run(out, reference, &["--json"])?;
    assert!(
        output.status.success(),
        "scripts/compare-split {} {} failed: {}",
        out.display(),
        reference.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(
        serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
            panic!(
                "scripts/compare-split printed no comparison ({error}):\n{}",
                String::from_utf8_lossy(&output.stdout)
            )
        }),
    )
}

/// Runs `scripts/compare-split OUT REFERENCE ARGS...` as it is.
pub fn run(out: &Path, reference: &Path, args: &[&str]) -> Result<std::process::Output, String> {
    let python = Command::new("python3")
        .args(["-c", "import yaml"])
        .output()
        .map_err(|error| {
            format!("cannot run python3 ({error}): install the Debian package python3")
        })?;
    if !python.status.success() {
        return Err("Python 3 cannot import yaml: install the Debian package python3-yaml".into());
    }
    let output = Command::new(crate::repo_root().join("scripts/compare-split"))
        .arg(out)
        .arg(reference)
        .args(args)
        .output()
        .unwrap_or_else(|error| panic!("cannot run scripts/compare-split: {error}"));
    Ok(output)
}
