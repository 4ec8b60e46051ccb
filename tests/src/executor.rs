//! Helpers for the executor's end-to-end tests: the `granule` binary, scratch
//! directories, and the journal read back as intervals to check order and
//! overlap against.

use crate::{repo_root, target_dir};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// The `granule` binary, built once per test process in the profile and
/// target directory of the running test (the tests crate cannot depend on a
/// binary, so it asks cargo for it; in a workspace test run it is up to date
/// already and the build is a no-op).
pub fn granule() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            // The test executable is TARGET/PROFILE/deps/NAME-HASH.
            let exe = std::env::current_exe().expect("test executable path");
            let profile_dir = exe
                .parent()
                .and_then(Path::parent)
                .expect("test executable under TARGET/PROFILE/deps")
                .to_path_buf();
            let profile = match profile_dir.file_name().and_then(|name| name.to_str()) {
                Some("debug") | None => "dev".to_string(),
                Some(name) => name.to_string(),
            };
            let target = profile_dir.parent().unwrap_or(&profile_dir);
            let status = Command::new(env!("CARGO"))
                .args(["build", "--quiet", "-p", "granule", "--bin", "granule"])
                .args(["--profile", &profile])
                .env("CARGO_TARGET_DIR", target)
                .current_dir(repo_root())
                .status()
                .expect("cargo runs");
            assert!(status.success(), "building granule failed");
            let binary = profile_dir.join("granule");
            assert!(binary.exists(), "{} was not built", binary.display());
            binary
        })
        .clone()
}

pub fn fixture(name: &str) -> PathBuf {
    repo_root().join("fixtures").join("tasks").join(name)
}

/// A fresh directory for one test, kept after the run for inspection.
pub fn scratch(test: &str) -> PathBuf {
    let dir = target_dir().join("executor-tests").join(test);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch directory");
    dir
}

/// Whether `program --version` (or `-V`, as Graphviz's `dot` spells it)
/// runs; the error names the Debian package.
pub fn tool_available(program: &str, package: &str) -> Result<(), String> {
    let mut failure = String::new();
    for flag in ["--version", "-V"] {
        match Command::new(program).arg(flag).output() {
            Ok(output) if output.status.success() => return Ok(()),
            Ok(output) => {
                failure = format!(
                    "`{program} {flag}` failed: {}",
                    String::from_utf8_lossy(&output.stderr).trim()
                )
            }
            Err(err) => {
                return Err(format!(
                    "cannot run `{program}` ({err}): install the Debian package {package}"
                ))
            }
        }
    }
    Err(failure)
}

/// Copies fixture directory `name` into `dir`, replacing `@WORK@` in every
/// file with the path of `dir` (for tools that need absolute paths).
pub fn instantiate_fixture(name: &str, dir: &Path) {
    let source = fixture(name);
    let work = dir.to_str().expect("a UTF-8 scratch path");
    for entry in walkdir::WalkDir::new(&source) {
        let entry = entry.expect("fixture readable");
        let target = dir.join(entry.path().strip_prefix(&source).unwrap());
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).expect("fixture copy");
        } else {
            let text = std::fs::read_to_string(entry.path()).expect("a text fixture");
            std::fs::write(&target, text.replace("@WORK@", work)).expect("fixture copy");
        }
    }
}

/// Runs `granule ARGS` in `dir` and returns its output.
pub fn granule_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(granule())
        .args(args)
        .current_dir(dir)
        .output()
        .expect("granule runs")
}

pub fn exit_code(output: &Output) -> i32 {
    output.status.code().unwrap_or(-1)
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// What `granule lint --tasks OUT/tasks.yaml OUT` finds that refuses a
/// split (`granule/cross-task-reference`, `granule/task-undefined-variable`),
/// with `options` given to lint too (the split's `--role-var`, `--assume`).
pub fn split_refusals(modulepath: &Path, out: &Path, options: &[&str]) -> Vec<Value> {
    let lint = Command::new(granule())
        .args(["lint", "--format", "json", "--modulepath"])
        .arg(modulepath)
        .args(options)
        .arg("--tasks")
        .arg(out.join("tasks.yaml"))
        .arg(out)
        .output()
        .expect("granule runs");
    let linted: Value = serde_json::from_slice(&lint.stdout).unwrap_or_else(|e| {
        panic!(
            "granule lint's JSON: {e}\n{}{}",
            text(&lint.stdout),
            text(&lint.stderr)
        )
    });
    linted
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|file| file.as_array().into_iter().flatten())
        .filter(|problem| {
            problem["check"] == "granule/task-undefined-variable"
                || problem["check"] == "granule/cross-task-reference"
        })
        .cloned()
        .collect()
}

/// The plan printed by `granule run --dry-run --format json`.
pub struct PlanView {
    pub instances: Vec<(String, String, String)>,
    pub edges: Vec<(usize, usize)>,
}

pub fn dry_run(dir: &Path, args: &[&str]) -> PlanView {
    let mut all = vec!["run", "--dry-run", "--format", "json"];
    all.extend_from_slice(args);
    let output = granule_in(dir, &all);
    assert_eq!(
        exit_code(&output),
        0,
        "dry run failed: {}",
        text(&output.stderr)
    );
    let plan: Value = serde_json::from_slice(&output.stdout).expect("dry-run JSON");
    let field = |value: &Value, name: &str| value[name].as_str().unwrap_or_default().to_string();
    PlanView {
        instances: plan["instances"]
            .as_array()
            .expect("instances")
            .iter()
            .map(|i| (field(i, "node"), field(i, "task"), field(i, "action")))
            .collect(),
        edges: plan["edges"]
            .as_array()
            .expect("edges")
            .iter()
            .map(|e| {
                (
                    e[0].as_u64().unwrap() as usize,
                    e[1].as_u64().unwrap() as usize,
                )
            })
            .collect(),
    }
}

impl PlanView {
    pub fn action(&self, node: &str, task: &str) -> Option<&str> {
        self.instances
            .iter()
            .find(|(n, t, _)| n == node && t == task)
            .map(|(_, _, action)| action.as_str())
    }
}

/// Every journal record, in order.
pub fn journal(state_dir: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(state_dir.join("journal.jsonl")).expect("journal exists");
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            serde_json::from_str(line)
                .unwrap_or_else(|err| panic!("bad journal line {line:?}: {err}"))
        })
        .collect()
}

/// One task on one node in one run, as the journal tells it. Timestamps are
/// fixed-width UTC text, so they compare as strings.
#[derive(Clone, Debug)]
pub struct Interval {
    pub start: Option<String>,
    pub end: String,
    pub state: String,
    pub attempts: u64,
    pub message: Option<String>,
    pub duration: Option<f64>,
}

impl Interval {
    /// Whether two tasks ran at the same time.
    pub fn overlaps(&self, other: &Interval) -> bool {
        match (&self.start, &other.start) {
            (Some(a), Some(b)) => a < &other.end && b < &self.end,
            _ => false,
        }
    }
}

/// The last interval of every (node, task), from the journal records.
pub fn intervals(records: &[Value]) -> BTreeMap<(String, String), Interval> {
    let mut open: BTreeMap<(String, String), (String, u64)> = BTreeMap::new();
    let mut done = BTreeMap::new();
    for record in records.iter().filter(|r| r["event"] == "state") {
        let key = (
            record["node"].as_str().unwrap().to_string(),
            record["task"].as_str().unwrap().to_string(),
        );
        let ts = record["ts"].as_str().unwrap().to_string();
        let attempt = record["attempt"].as_u64().unwrap_or(0);
        match record["state"].as_str().unwrap() {
            "waiting" | "pending" => {}
            "running" => {
                let entry = open.entry(key).or_insert((ts.clone(), 0));
                if attempt <= 1 {
                    entry.0 = ts;
                }
                entry.1 = entry.1.max(attempt);
            }
            state => {
                let started = open.remove(&key);
                done.insert(
                    key,
                    Interval {
                        start: started.as_ref().map(|(ts, _)| ts.clone()),
                        end: ts,
                        state: state.to_string(),
                        attempts: started.map(|(_, n)| n).unwrap_or(0).max(attempt),
                        message: record["message"].as_str().map(str::to_string),
                        duration: record["duration"].as_f64(),
                    },
                );
            }
        }
    }
    done
}

/// The largest number of the given intervals that overlap at one instant.
pub fn max_concurrency<'a>(spans: impl Iterator<Item = &'a Interval>) -> usize {
    let mut points: Vec<(String, i32)> = Vec::new();
    for span in spans {
        if let Some(start) = &span.start {
            points.push((start.clone(), 1));
            points.push((span.end.clone(), -1));
        }
    }
    // At equal instants an end comes before a start: touching is not overlapping.
    points.sort();
    let (mut now, mut most) = (0, 0);
    for (_, delta) in points {
        now += delta;
        most = most.max(now);
    }
    most as usize
}

/// The `ansible-playbook` that scripts/test installs (ansible-core from
/// PyPI, in target/ansible-venv), once it runs.
pub fn ansible_playbook() -> Result<PathBuf, String> {
    let program = target_dir().join("ansible-venv/bin/ansible-playbook");
    match Command::new(&program).arg("--version").output() {
        Ok(output) if output.status.success() => Ok(program),
        _ => Err(format!(
            "{} does not run: scripts/test installs ansible-core from PyPI there",
            program.display()
        )),
    }
}

/// Every file under `root` (relative path, mode, content), for comparing
/// what two runs left on disk.
pub fn file_tree(root: &Path) -> BTreeMap<PathBuf, (u32, Vec<u8>)> {
    use std::os::unix::fs::PermissionsExt;
    walkdir::WalkDir::new(root)
        .into_iter()
        .flatten()
        .filter(|entry| entry.file_type().is_file())
        .map(|entry| {
            let mode = entry
                .metadata()
                .map_or(0, |m| m.permissions().mode() & 0o777);
            let content = std::fs::read(entry.path()).unwrap_or_default();
            (
                entry.path().strip_prefix(root).unwrap().to_path_buf(),
                (mode, content),
            )
        })
        .collect()
}

/// The size of each task of a split, from its report.json (each task's
/// `source` lists its units), without granule's own `globals` and `hiera`;
/// and how many units the monolith has.
pub fn task_sizes(report: &Value) -> (usize, Vec<(String, usize)>) {
    let units = report["units"]
        .as_array()
        .expect("report.json lists units")
        .len();
    let sizes = report["tasks"]
        .as_array()
        .expect("report.json lists tasks")
        .iter()
        .map(|task| {
            let id = task["id"].as_str().expect("a task id").to_string();
            (id, task["source"].as_array().map_or(0, Vec::len))
        })
        .filter(|(id, _)| !["globals", "hiera"].contains(&id.as_str()))
        .collect();
    (units, sizes)
}

/// The list items of a split's report.md written more than once under one
/// heading, with the heading (issue 11: no duplicate lines).
pub fn repeated_report_lines(report_md: &str) -> Vec<String> {
    let mut heading = "";
    let mut seen: std::collections::BTreeSet<(&str, &str)> = std::collections::BTreeSet::new();
    let mut repeated = Vec::new();
    for line in report_md.lines() {
        if line.starts_with('#') {
            heading = line;
        } else if line.starts_with("- ") && !seen.insert((heading, line)) {
            repeated.push(format!("{heading}: {line}"));
        }
    }
    repeated
}
