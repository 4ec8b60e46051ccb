//! What the tests of the architecture checks share: running `granule lint`
//! on a fixture and reading one check's problems, the cases of a rule's
//! fixtures, and compiling them with the real `puppet apply`.

use crate::executor::{granule_in, text};
use crate::repo_root;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

/// One problem of a check: its file (resolved), line, column and message.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Found {
    pub file: PathBuf,
    pub line: u64,
    pub column: u64,
    pub message: String,
}

/// `granule lint --format json ARGS` in `dir`: the problems of `check`.
pub fn lint_problems(dir: &Path, args: &[&str], check: &str) -> Vec<Found> {
    let mut command = vec!["lint", "--format", "json"];
    command.extend(args);
    let output = granule_in(dir, &command);
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "granule lint in {}: {}",
        dir.display(),
        text(&output.stderr)
    );
    let files: Value = serde_json::from_slice(&output.stdout).expect("granule's JSON");
    files
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|file| file.as_array().into_iter().flatten())
        .filter(|problem| problem["check"] == check)
        .map(|problem| Found {
            file: canonical(Path::new(problem["fullpath"].as_str().unwrap_or(""))),
            line: problem["line"].as_u64().unwrap_or(0),
            column: problem["column"].as_u64().unwrap_or(0),
            message: problem["message"].as_str().unwrap_or("").to_string(),
        })
        .collect()
}

/// The case directories of a rule's fixtures
/// (`fixtures/lint-architecture/<rule>/<case>`), sorted.
pub fn fixture_cases(rule: &str) -> Vec<PathBuf> {
    subdirectories(&repo_root().join("fixtures/lint-architecture").join(rule))
}

/// Whether a case must trip its rule: its name starts with `positive`
/// (a `negative*` case must not).
pub fn is_positive(case: &Path) -> bool {
    case.file_name()
        .is_some_and(|name| name.to_string_lossy().starts_with("positive"))
}

/// The options a case gives `granule lint` besides `--tasks` (its
/// `lint-options` file: one argument per line), e.g. `--role-var` and
/// `$::role` for tasks whose manifests branch on a node's role.
pub fn lint_options(case: &Path) -> Vec<String> {
    std::fs::read_to_string(case.join("lint-options"))
        .map(|text| text.lines().map(str::to_string).collect())
        .unwrap_or_default()
}

/// The directories in `dir`, sorted.
pub fn subdirectories(dir: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.is_dir())
        .collect();
    dirs.sort();
    dirs
}

/// What `puppet apply --noop` of `manifest` says (stdout and stderr), with
/// the module path given, Puppet's directories under `puppet_dir`, the
/// more `options`, and `facts` set (as Facter reads `FACTER_name`).
pub fn puppet_apply(
    manifest: &Path,
    modulepath: &str,
    puppet_dir: &Path,
    options: &[String],
    facts: &[(&str, &str)],
) -> String {
    let mut command = Command::new("puppet");
    for (fact, value) in facts {
        command.env(format!("FACTER_{fact}"), value);
    }
    command
        .args(["apply", "--noop", "--color=false"])
        .arg(format!("--modulepath={modulepath}"))
        .args(options);
    command.args(crate::puppet_dirs(puppet_dir));
    let output = command.arg(manifest).output().expect("puppet runs");
    format!("{}{}", text(&output.stdout), text(&output.stderr))
}

/// Puppet's errors about the catalog, without `Error: ` and ` on node
/// NAME`; not those of Facter in a container, nor a resource's own failure
/// (`/Stage[main]/...: Could not find command`, which the test machine
/// decides).
pub fn catalog_errors(log: &str) -> Vec<String> {
    log.lines()
        .filter_map(|line| line.strip_prefix("Error: "))
        .filter(|error| !error.starts_with("Facter:") && !error.starts_with("/Stage["))
        .map(|error| match error.rfind(" on node ") {
            Some(at) => error[..at].to_string(),
            None => error.to_string(),
        })
        .collect()
}

/// The resolved path of a file that exists (or the path as given).
pub fn canonical(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_path_buf())
}

/// The two declarations a granule/duplicate-resource problem names: its
/// own place and the other's ("... and at FILE:LINE:COLUMN (in ..."), the
/// other's file relative to `case`, each as (file, line).
pub fn reported_duplicates(case: &Path, found: &Found) -> BTreeSet<(PathBuf, u64)> {
    let other = found
        .message
        .split(") and at ")
        .nth(1)
        .and_then(|rest| rest.split(" (in ").next())
        .expect("the other declaration's place");
    let mut parts = other.rsplitn(3, ':').skip(1);
    let line: u64 = parts.next().and_then(|l| l.parse().ok()).expect("a line");
    let file = canonical(&case.join(parts.next().expect("a file")));
    BTreeSet::from([(found.file.clone(), found.line), (file, line)])
}

/// The pairs of declarations Puppet refuses to hold together in `errors`
/// ("Duplicate declaration: ... already declared at (file: F, line: L);
/// cannot redeclare (file: F, line: L)"), each as (file, line).
pub fn refused_duplicates(errors: &[String]) -> Vec<BTreeSet<(PathBuf, u64)>> {
    errors
        .iter()
        .filter(|error| error.contains("Duplicate declaration") || error.contains("Cannot alias"))
        .map(|error| {
            error
                .split("(file: ")
                .skip(1)
                .filter_map(|place| {
                    let (file, rest) = place.split_once(", line: ")?;
                    let line = rest.split(|c: char| !c.is_ascii_digit()).next()?;
                    Some((canonical(Path::new(file)), line.parse().ok()?))
                })
                .collect()
        })
        .collect()
}
