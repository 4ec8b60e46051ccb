//! What a new user meets first: a reader that stops early, reports piped
//! into a pager, paths that are wrong or hold nothing, files that do not
//! parse. Every command must say what is wrong and exit with the status
//! that says so, never panic and never pass while checking nothing.

use granule_tests::executor::tool_available;
use granule_tests::executor::{exit_code, fixture, granule, granule_in, scratch, text};
use granule_tests::lint_oracle::config_without_newer_checks;
use granule_tests::{oracle, repo_root, require_reference};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::os::fd::{FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Runs granule with a stdout whose reader is gone before it starts: the
/// write end of a pipe whose read end is closed, so that every write fails
/// with EPIPE (`granule ... | head -0`), deterministically.
fn with_stdout_closed(dir: &Path, args: &[String]) -> Output {
    let mut fds = [0; 2];
    // O_CLOEXEC: a child spawned meanwhile by another test must not keep
    // the read end open (the writes would block instead of failing).
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    let (read_end, write_end) =
        unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    drop(read_end);
    Command::new(granule())
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::from(write_end))
        .stderr(Stdio::piped())
        .output()
        .expect("granule runs")
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|a| a.to_string()).collect()
}

/// Every subcommand, in every output format, with arguments that make it
/// print something.
fn every_command(work: &Path) -> Vec<Vec<String>> {
    let root = repo_root();
    let path = |p: &str| root.join(p).display().to_string();
    let monolith_modules = path("fixtures/monolith/modules");
    let site = path("fixtures/monolith/manifests/site.pp");
    let lint_fixtures = path("fixtures/lint");
    let tasks = fixture("resume").join("tasks.yaml").display().to_string();
    let nodes = fixture("resume").join("nodes.yaml").display().to_string();
    let mut commands = vec![
        strings(&["--help"]),
        strings(&["--version"]),
        strings(&["lint", "--help"]),
        strings(&["lint", "--list"]),
        strings(&["lint", "--explain", "arrow_alignment"]),
        strings(&[
            "parse",
            "--message-format",
            "json",
            &path("fixtures/legacy"),
        ]),
        strings(&["tasks", "graph", "--format", "dot", &tasks]),
        strings(&["tasks", "graph", "--format", "svg", &tasks]),
        strings(&["tasks", "graph", "--format", "html", &tasks]),
    ];
    for format in ["pn", "json"] {
        commands.push(strings(&[
            "parse",
            "--format",
            format,
            &path("fixtures/monolith"),
        ]));
    }
    for level in ["module", "class", "resource", "order"] {
        for format in ["text", "json", "dot"] {
            commands.push(strings(&[
                "deps",
                "--modulepath",
                &monolith_modules,
                "--entry",
                &site,
                "--level",
                level,
                "--format",
                format,
            ]));
        }
        commands.push(strings(&[
            "graph",
            "--modulepath",
            &monolith_modules,
            "--entry",
            &site,
            "--level",
            level,
            "--format",
            "dot",
        ]));
    }
    for format in ["human", "json", "sarif", "github", "checkstyle", "junit"] {
        commands.push(strings(&["lint", "--format", format, &lint_fixtures]));
    }
    for format in ["text", "json"] {
        commands.push(strings(&["tasks", "list", "--format", format, &tasks]));
        let run = [
            "run",
            "--tasks",
            &tasks,
            "--inventory",
            &nodes,
            "--format",
            format,
        ];
        let mut dry_run = strings(&run);
        dry_run.push("--dry-run".into());
        commands.push(dry_run);
    }
    // A run reports on stdout in JSON only (its text goes to stderr).
    let state = work.join("state").display().to_string();
    commands.push(strings(&[
        "run",
        "--tasks",
        &tasks,
        "--inventory",
        &nodes,
        "--format",
        "json",
        "--state-dir",
        &state,
        "--restart",
    ]));
    for format in ["text", "json"] {
        commands.push(strings(&["status", "--all", "--format", format, &state]));
    }
    for shell in ["bash", "zsh", "fish"] {
        commands.push(strings(&["completions", shell]));
    }
    commands
}

#[test]
fn no_command_panics_when_its_reader_stops_early() {
    let work = scratch("closed-stdout");
    let mut failures = Vec::new();
    for args in every_command(&work) {
        let shown = args.join(" ");
        let open = Command::new(granule())
            .args(&args)
            .current_dir(&work)
            .output()
            .expect("granule runs");
        if open.stdout.is_empty() {
            failures.push(format!(
                "`granule {shown}` prints nothing: the case tests nothing\n{}",
                text(&open.stderr)
            ));
            continue;
        }
        let closed = with_stdout_closed(&work, &args);
        let stderr = text(&closed.stderr);
        if stderr.contains("panicked") || exit_code(&closed) != exit_code(&open) {
            failures.push(format!(
                "`granule {shown}` with stdout closed: exit {} (open: {}): {stderr}",
                exit_code(&closed),
                exit_code(&open)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Per check, how many problems a `--format json` report holds.
fn counts_per_check(report: &[u8]) -> BTreeMap<String, usize> {
    let files: Value = serde_json::from_slice(report).expect("a JSON report");
    let mut counts = BTreeMap::new();
    for problem in files
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|f| f.as_array().into_iter().flatten())
    {
        *counts
            .entry(problem["check"].as_str().unwrap_or("").to_string())
            .or_default() += 1;
    }
    counts
}

#[test]
fn human_findings_go_to_stdout_as_puppet_lints_do_with_counts_per_check() {
    let Some(()) = require_reference(
        "human lint report on stdout",
        tool_available("puppet-lint", "puppet-lint"),
    ) else {
        return;
    };
    let dir = repo_root().join("fixtures/lint/arrow_alignment");
    let puppet_lint = Command::new("puppet-lint")
        .args(["--json", "."])
        .current_dir(&dir)
        .output()
        .expect("puppet-lint runs");
    let expected = counts_per_check(&puppet_lint.stdout);
    assert!(
        !expected.is_empty(),
        "puppet-lint finds nothing in {}",
        dir.display()
    );
    let plain = Command::new("puppet-lint")
        .arg(".")
        .current_dir(&dir)
        .output()
        .expect("puppet-lint runs");
    assert!(
        !plain.stdout.is_empty() && plain.stderr.is_empty(),
        "puppet-lint reports on stdout"
    );

    let config = config_without_newer_checks().display().to_string();
    let output = granule_in(&dir, &["lint", "--config", &config, "."]);
    assert_eq!(exit_code(&output), 1, "{}", text(&output.stderr));
    assert_eq!(
        text(&output.stderr),
        "",
        "only granule's own errors go to stderr"
    );
    let report = text(&output.stdout);
    let problems: usize = expected.values().sum();
    for (check, count) in &expected {
        assert_eq!(
            report.matches(&format!("[{check}]: ")).count(),
            *count,
            "{check}: one finding per puppet-lint problem on stdout\n{report}"
        );
    }
    let summary = report.lines().last().unwrap_or("");
    let mut by_count: Vec<(&String, &usize)> = expected.iter().collect();
    by_count.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let each: Vec<String> = by_count
        .iter()
        .map(|(check, n)| format!("{n} {check}"))
        .collect();
    assert!(
        summary.starts_with(&format!("{problems} problem")) && summary.ends_with(&each.join(", ")),
        "the summary counts each check's problems: {summary:?}, puppet-lint: {expected:?}"
    );
}

#[test]
fn a_missing_path_is_the_only_thing_reported() {
    let dir = scratch("lint-missing-path");
    let output = granule_in(&dir, &["lint", "no/such/dir"]);
    assert_eq!(exit_code(&output), 2);
    assert_eq!(text(&output.stdout), "");
    let stderr = text(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("no/such/dir") && stderr.contains("no such file"),
        "{stderr}"
    );
}

/// A directory of symbolic links to modules, as Debian lays out
/// `/usr/share/puppet/modules`, one of them holding a link back up.
fn linked_modules(dir: &Path) -> PathBuf {
    let available = dir.join("modules.available/acme-app/manifests");
    std::fs::create_dir_all(&available).unwrap();
    std::fs::write(
        available.join("init.pp"),
        "# The application.\nclass app {\n  $x = 'plain'\n}\n",
    )
    .unwrap();
    std::os::unix::fs::symlink("..", available.join("loop")).unwrap();
    let modules = dir.join("modules");
    std::fs::create_dir_all(&modules).unwrap();
    std::os::unix::fs::symlink("../modules.available/acme-app", modules.join("app")).unwrap();
    modules
}

#[test]
fn symlinked_modules_are_followed_and_a_path_without_manifests_fails() {
    let dir = scratch("symlinked-modules");
    linked_modules(&dir);
    let parse = granule_in(&dir, &["parse", "--stats", "modules"]);
    assert_eq!(exit_code(&parse), 0, "{}", text(&parse.stderr));
    let stderr = text(&parse.stderr);
    assert!(
        stderr.contains("1 files,"),
        "the linked module's one manifest, once: {stderr}"
    );
    assert!(
        stderr.contains("loop") && stderr.contains("not followed"),
        "{stderr}"
    );
    let lint = granule_in(&dir, &["lint", "modules"]);
    assert_eq!(exit_code(&lint), 0, "{}", text(&lint.stderr));
    assert!(
        text(&lint.stdout).contains("0 problems in 1 file"),
        "{}",
        text(&lint.stdout)
    );

    std::fs::create_dir_all(dir.join("empty")).unwrap();
    for command in ["parse", "lint"] {
        let output = granule_in(&dir, &[command, "empty"]);
        assert_eq!(
            exit_code(&output),
            2,
            "granule {command} on a directory without manifests"
        );
        assert!(
            text(&output.stderr).contains("empty: no *.pp"),
            "{}",
            text(&output.stderr)
        );
    }
}

#[test]
fn debians_module_directory_of_links_is_checked_whole() {
    let modules = Path::new("/usr/share/puppet/modules");
    let available = if modules.is_dir() {
        Ok(())
    } else {
        Err("/usr/share/puppet/modules is missing: install openstack-puppet-modules".to_string())
    };
    let Some(()) = require_reference("Debian's module links", available) else {
        return;
    };
    let find = Command::new("find")
        .args([
            "-L",
            "/usr/share/puppet/modules",
            "-type",
            "f",
            "(",
            "-name",
            "*.pp",
            "-o",
            "-name",
            "*.epp",
            ")",
        ])
        .output()
        .expect("find runs");
    let expected = text(&find.stdout).lines().count();
    assert!(expected > 1000, "find -L sees {expected} manifests");
    let parse = granule_in(
        &repo_root(),
        &["parse", "--stats", "/usr/share/puppet/modules"],
    );
    let stderr = text(&parse.stderr);
    assert!(
        stderr.contains(&format!("\n{expected} files,"))
            || stderr.starts_with(&format!("{expected} files,")),
        "{stderr}"
    );
}

/// The fixture file of `granule/syntax-error` that does not parse: the
/// fixture's directory, and Puppet's parser's message and line for it
/// (`None` where the oracle cannot run and the test may skip).
fn puppets_syntax_error(test: &str) -> Option<(PathBuf, String, usize)> {
    let positive = repo_root().join("fixtures/lint-architecture/syntax-error/positive");
    let file = positive.join("modules/app/manifests/init.pp");
    let dumps = require_reference(test, oracle::dumps(std::slice::from_ref(&file)))?;
    let refused = dumps
        .get(&file)
        .error
        .as_ref()
        .expect("Puppet refuses the file");
    // Puppet gives no line for an error at the end of the input.
    let last_line = std::fs::read_to_string(&file).unwrap().lines().count() + 1;
    let line = refused.line.unwrap_or(last_line);
    Some((positive, refused.message.clone(), line))
}

#[test]
fn a_file_that_does_not_parse_fails_the_lint_gate() {
    let Some((positive, message, line)) = puppets_syntax_error("lint of a broken file") else {
        return;
    };
    let output = granule_in(&positive, &["lint", "--format", "json", "."]);
    assert_eq!(exit_code(&output), 1, "{}", text(&output.stderr));
    let report: Value = serde_json::from_slice(&output.stdout).expect("a JSON report");
    let errors: Vec<&Value> = report[0]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["check"] == "granule/syntax-error")
        .collect();
    assert_eq!(errors.len(), 1, "{report:#}");
    assert_eq!(errors[0]["kind"], "error");
    assert_eq!(errors[0]["line"], line, "Puppet: {message}");
}

/// A manifest linted beside a directory of modules (the module path the
/// lint infers around it) is not module code: it is read, and its syntax
/// error reported, as anywhere else.
#[test]
fn a_broken_file_beside_modules_fails_the_lint_gate() {
    let Some((positive, message, line)) = puppets_syntax_error("lint beside modules") else {
        return;
    };
    let dir = scratch("lint_beside_modules");
    std::fs::create_dir_all(dir.join("web/manifests")).expect("a module");
    std::fs::write(dir.join("web/manifests/init.pp"), "class web {\n}\n").expect("written");
    std::fs::create_dir_all(dir.join("edge")).expect("made");
    std::fs::copy(
        positive.join("modules/app/manifests/init.pp"),
        dir.join("edge/bad.pp"),
    )
    .expect("copied");
    let output = granule_in(&dir, &["lint", "--format", "json", "edge/bad.pp"]);
    assert_eq!(exit_code(&output), 1, "{}", text(&output.stderr));
    let report: Value = serde_json::from_slice(&output.stdout).expect("a JSON report");
    let lines: Vec<&Value> = report[0]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["check"] == "granule/syntax-error")
        .map(|p| &p["line"])
        .collect();
    assert_eq!(lines, [line], "Puppet: {message}\n{report:#}");
}

/// A split of code Puppet cannot parse: an entry that does not parse is
/// refused with each error's line (Puppet's own, from its parser), and
/// nothing is written; a module file the tasks apply that does not parse
/// is a warning with its line.
#[test]
fn a_split_of_code_that_does_not_parse_says_where() {
    let Some((positive, message, line)) = puppets_syntax_error("split of a broken file") else {
        return;
    };
    let at = format!("modules/app/manifests/init.pp:{line}:");
    let dir = scratch("split_of_broken_code");
    let entry = dir.join("site.pp");
    std::fs::write(&entry, "include app\n").expect("site.pp written");
    let split = |entry: &str, out: &str| {
        granule_in(
            &positive,
            &[
                "split",
                "--modulepath",
                "modules",
                "--entry",
                entry,
                "-o",
                dir.join(out).to_str().expect("UTF-8"),
            ],
        )
    };

    // The class split as the entry is the file that does not parse.
    assert_refused(
        &split("app", "class"),
        &[&at, "does not parse, and Puppet compiles nothing from it"],
    );
    assert!(!dir.join("class/tasks.yaml").exists());

    // A manifest including it: the split is written, with a warning.
    let output = split(entry.to_str().expect("UTF-8"), "manifest");
    let stderr = text(&output.stderr);
    assert_eq!(exit_code(&output), 0, "{stderr}");
    assert!(
        stderr.lines().any(|line| line.starts_with("warning: ")
            && line.contains(&at)
            && line.contains("Puppet fails every catalog loading this file")),
        "Puppet: {message}\n{stderr}"
    );

    // The entry manifest itself does not parse.
    std::fs::write(&entry, "include app\nclass {\n").expect("site.pp written");
    assert_refused(
        &split(entry.to_str().expect("UTF-8"), "entry"),
        &["site.pp:", "site.pp does not parse"],
    );
    assert!(!dir.join("entry/tasks.yaml").exists());
}

/// An `--entry` naming nothing: a path that does not exist is not taken
/// for a class, a misspelt class gets the nearest class defined, and a
/// define is not taken for a class.
#[test]
fn a_split_entry_naming_nothing_says_what_is_there() {
    let dir = scratch("split_entry_naming_nothing");
    let fixture = |name: &str| {
        repo_root()
            .join("fixtures/split")
            .join(name)
            .join("modules")
    };
    for (modules, entry, says) in [
        (
            fixture("class_variables"),
            "app::file",
            "--entry app::file: a define (",
        ),
        (
            fixture("entry_inherited"),
            "site/nothere.pp",
            "--entry site/nothere.pp: no such file",
        ),
        (
            fixture("entry_inherited"),
            "queue::servise",
            "--entry queue::servise: no class of that name on the module path; did you mean \
             `queue::service`?",
        ),
        (
            fixture("entry_inherited"),
            "zzz",
            "--entry zzz: no class of that name in the 1 module of the module path",
        ),
    ] {
        let output = Command::new(granule())
            .arg("split")
            .arg("--modulepath")
            .arg(&modules)
            .args(["--entry", entry, "-o"])
            .arg(dir.join("out"))
            .output()
            .expect("granule runs");
        let stderr = text(&output.stderr);
        assert_eq!(exit_code(&output), 2, "{entry}: {stderr}");
        assert!(
            stderr.starts_with(&format!("error: {says}")),
            "{entry}: {stderr}"
        );
        assert!(!dir.join("out").exists(), "{entry}");
    }
}

/// `granule split` of a site.pp written in `dir` including `queue`
/// (fixtures/split/entry_inherited); the caller adds the other arguments.
fn queue_split(dir: &Path) -> Command {
    let entry = dir.join("site.pp");
    std::fs::write(&entry, "include queue\n").expect("site.pp written");
    let mut command = Command::new(granule());
    command
        .arg("split")
        .arg("--modulepath")
        .arg(repo_root().join("fixtures/split/entry_inherited/modules"))
        .arg("--entry")
        .arg(entry);
    command
}

/// OUT: a re-run replaces what an earlier split left there (a task it no
/// longer has included); a directory holding anything else, or a file, is
/// refused and left as it was.
#[test]
fn a_split_replaces_an_earlier_one_and_nothing_else() {
    let dir = scratch("split_output_directory");
    let split = |out: &Path| {
        queue_split(&dir)
            .arg("-o")
            .arg(out)
            .output()
            .expect("granule runs")
    };
    let out = dir.join("out");
    assert_eq!(exit_code(&split(&out)), 0);
    std::fs::create_dir_all(out.join("a-task-no-longer-proposed")).expect("made");
    std::fs::write(out.join("a-task-no-longer-proposed/x.pp"), "").expect("written");
    let rerun = split(&out);
    assert_eq!(exit_code(&rerun), 0, "{}", text(&rerun.stderr));
    assert!(!out.join("a-task-no-longer-proposed").exists());
    assert!(out.join("tasks.yaml").is_file());

    let other = dir.join("other");
    std::fs::create_dir_all(&other).expect("made");
    std::fs::write(other.join("notes.txt"), "mine").expect("written");
    assert_refused(
        &split(&other),
        &["other: exists and is not the output of an earlier split"],
    );
    let left: Vec<_> = std::fs::read_dir(&other)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, ["notes.txt"]);

    let file = dir.join("a-file");
    std::fs::write(&file, "mine").expect("written");
    assert_refused(&split(&file), &["a-file: exists and is not a directory"]);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "mine");
}

/// OUT inside a module's `manifests/` on the module path, as written or
/// through a link, is refused before anything is written: Puppet's
/// autoloader would read the task manifests as that module's classes, and
/// `--verify` would take them for module code. Beside them it is not.
#[test]
fn a_split_into_a_modules_manifests_is_refused() {
    let dir = scratch("split_into_module_manifests");
    let fixture = repo_root().join("fixtures/split/entry_inherited/modules/queue/manifests");
    let manifests = dir.join("modules/queue/manifests");
    std::fs::create_dir_all(&manifests).expect("made");
    for file in ["init.pp", "service.pp"] {
        std::fs::copy(fixture.join(file), manifests.join(file)).expect("copied");
    }
    std::os::unix::fs::symlink(dir.join("modules"), dir.join("linked")).expect("linked");
    std::fs::write(dir.join("site.pp"), "include queue\n").expect("site.pp written");
    let split = |modulepath: &Path, out: &Path| {
        Command::new(granule())
            .arg("split")
            .arg("--modulepath")
            .arg(modulepath)
            .arg("--entry")
            .arg(dir.join("site.pp"))
            .arg("-o")
            .arg(out)
            .output()
            .expect("granule runs")
    };
    let modules = dir.join("modules");
    for (modulepath, out) in [
        (&modules, manifests.join("tasks")),
        (&modules, manifests.clone()),
        (&modules, dir.join("linked/queue/manifests/tasks")),
        (&dir.join("linked"), manifests.join("tasks")),
    ] {
        assert_refused(
            &split(modulepath, &out),
            &[
                "inside the manifests directory of a module of",
                "outside the modules'",
            ],
        );
        assert!(!manifests.join("tasks").exists(), "{}", out.display());
    }
    let beside = split(&modules, &dir.join("modules/queue/tasks"));
    assert_eq!(exit_code(&beside), 0, "{}", text(&beside.stderr));
}

/// A value `--assume` gives that no option of a `case` on it takes (a
/// misspelt mode) leaves all that code out: the split says so, with the
/// options it has, rather than writing a near-empty split silently.
#[test]
fn an_assumed_value_no_case_option_takes_is_named() {
    let dir = scratch("split_unmatched_assumption");
    let entry = dir.join("site.pp");
    std::fs::write(
        &entry,
        "case $::settings['mode'] {\n  'ha': { include queue }\n  /^single/: { include queue }\n}\n",
    )
    .expect("site.pp written");
    let split = |mode: &str| {
        let assumption = format!("$::settings['mode']={mode}");
        split_queue(&entry, &["--assume", &assumption], &dir.join(mode))
    };
    let output = split("h-a");
    assert_eq!(exit_code(&output), 0, "{}", text(&output.stderr));
    assert!(
        text(&output.stderr).contains(
            "site.pp:1:6: `case $::settings['mode']` has no option for `h-a`, the value \
             --assume gives it, and no default: all its code is left out; its options are \
             'ha', /^single/: check the value"
        ),
        "{}",
        text(&output.stderr)
    );
    let report = std::fs::read_to_string(dir.join("h-a/report.md")).expect("report.md");
    assert!(
        report.contains("has no option for the value assumed"),
        "{report}"
    );
    let json = read_report(&dir.join("h-a"));
    assert_eq!(
        json["unmatched"][0]["test"], "$::settings['mode']",
        "{json:#}"
    );
    assert_eq!(
        json["unmatched"][0]["options"],
        serde_json::json!(["'ha'", "/^single/"])
    );

    for taken in ["ha", "single-node"] {
        let output = split(taken);
        assert_eq!(exit_code(&output), 0, "{}", text(&output.stderr));
        assert!(
            !text(&output.stderr).contains("no option"),
            "{}",
            text(&output.stderr)
        );
    }
}

/// A split's report.json.
fn read_report(out: &Path) -> Value {
    let report = std::fs::read_to_string(out.join("report.json")).expect("report.json");
    serde_json::from_str(&report).expect("report.json is JSON")
}

/// A split of the queue-only `entry` with the options `given`.
fn split_queue(entry: &Path, given: &[&str], out: &Path) -> std::process::Output {
    Command::new(granule())
        .arg("split")
        .arg("--modulepath")
        .arg(repo_root().join("fixtures/split/entry_inherited/modules"))
        .arg("--entry")
        .arg(entry)
        .args(given)
        .arg("-o")
        .arg(out)
        .output()
        .expect("granule runs")
}

/// An `--assume` or `--role-var` expression no manifest writes (a misspelt
/// key) decides nothing: the split says so, with the expression the code writes that
/// comes nearest, instead of splitting every mode together in silence.
#[test]
fn an_assumed_expression_no_manifest_writes_is_named() {
    let dir = scratch("split_unused_assumption");
    let entry = dir.join("site.pp");
    std::fs::write(
        &entry,
        "case $::settings['mode'] {\n  'ha': { include queue }\n  default: { include queue }\n}\n",
    )
    .expect("site.pp written");
    let output = split_queue(
        &entry,
        &["--assume", "$::settings['node']=ha"],
        &dir.join("typo"),
    );
    assert_eq!(exit_code(&output), 0, "{}", text(&output.stderr));
    assert!(
        text(&output.stderr).contains(
            "warning: --assume `$::settings['node']`: no manifest read (linted, given or on the \
             module path) writes this expression, so it decides nothing; did you mean \
             `$::settings['mode']`?"
        ),
        "{}",
        text(&output.stderr)
    );
    let report = std::fs::read_to_string(dir.join("typo/report.md")).expect("report.md");
    assert!(
        report.contains("- `$::settings['node']` is `ha` (no manifest writes this expression"),
        "{report}"
    );
    let json = read_report(&dir.join("typo"));
    assert_eq!(
        json["unused_assumptions"],
        serde_json::json!([{ "expression": "$::settings['node']" }])
    );

    // Written otherwise (`$settings["mode"]`), it is the same expression.
    let output = split_queue(
        &entry,
        &["--assume", "$settings[ \"mode\" ]=ha"],
        &dir.join("spaced"),
    );
    assert_eq!(exit_code(&output), 0, "{}", text(&output.stderr));
    assert!(
        !text(&output.stderr).contains("decides nothing"),
        "{}",
        text(&output.stderr)
    );

    // A role expression no manifest writes decides no guard per role.
    let output = split_queue(
        &entry,
        &["--role-var", "$::setting['mode']", "--roles", "ha,other"],
        &dir.join("role"),
    );
    assert_eq!(exit_code(&output), 0, "{}", text(&output.stderr));
    assert!(
        text(&output.stderr).contains(
            "warning: --role-var `$::setting['mode']`: no manifest read (linted, given or on \
             the module path) writes this expression, so no guard is decided per role, and \
             every task runs on every role; did you mean `$::settings['mode']`?"
        ),
        "{}",
        text(&output.stderr)
    );
    let json = read_report(&dir.join("role"));
    assert_eq!(
        json["unwritten_role_var"],
        serde_json::json!({ "expression": "$::setting['mode']" })
    );

    // `granule lint --tasks`, given the split's options, says the same.
    let lint = |role_var: &str| {
        Command::new(granule())
            .arg("lint")
            .arg("--modulepath")
            .arg(repo_root().join("fixtures/split/entry_inherited/modules"))
            .arg("--tasks")
            .arg(dir.join("role/tasks.yaml"))
            .args(["--role-var", role_var])
            .arg(dir.join("role"))
            .output()
            .expect("granule runs")
    };
    let stderr = text(&lint("$::setting['mode']").stderr);
    assert!(
        stderr.contains(
            "warning: --role-var `$::setting['mode']`: no manifest read (linted, given or on \
             the module path) writes this expression, so it decides no guard; did you mean \
             `$::settings['mode']`?"
        ),
        "{stderr}"
    );
    let stderr = text(&lint("$::settings['mode']").stderr);
    assert!(!stderr.contains("decides no guard"), "{stderr}");
}

/// A class or type the entry names that no module defines (a typo, a class
/// of another release of the module) fails the catalog of the task copying
/// it: the split says which, and how a branch no node runs is left out.
#[test]
fn copied_code_naming_what_no_module_defines_is_named() {
    let dir = scratch("split_unresolved");
    let entry = dir.join("site.pp");
    std::fs::write(
        &entry,
        "include queue\ninclude queue::nosuch\nif $::release == 'old' {\n  retired { 'x': }\n}\n",
    )
    .expect("site.pp written");
    let output = split_queue(&entry, &[], &dir.join("out"));
    assert_eq!(exit_code(&output), 0, "{}", text(&output.stderr));
    let stderr = text(&output.stderr);
    for expected in [
        "site.pp:2:1: class `queue::nosuch` is defined nowhere on the module path (used by top \
         scope of ",
        "): task `queue-nosuch` does not compile where this code runs, nor does the monolith; \
         correct the name, or add the module defining it to --modulepath\n",
        "site.pp:4:13: resource type `retired` is defined nowhere on the module path",
        "): task `retired` does not compile where this code runs, nor does the monolith; \
         correct the name, or add the module defining it to --modulepath, or, if no node runs \
         the branch it stands in, leave it out with --assume EXPR=VALUE\n",
    ] {
        assert!(stderr.contains(expected), "{expected:?} not in {stderr}");
    }
    assert_eq!(stderr.matches("defined nowhere").count(), 2, "{stderr}");
}

/// A define written in the body of an opened class and declared there by
/// its short name (Puppet 3 finds it relative to the class): the task
/// copying the declaration copies the definition too, so the name is
/// defined where it is used, and the split warns of nothing.
#[test]
fn a_define_nested_in_an_opened_class_goes_with_its_instances() {
    let dir = scratch("split_nested_define");
    let entry = dir.join("site.pp");
    std::fs::write(
        &entry,
        "class wrapper {\n  define spool($size) {\n    notify { \"spool ${title} ${size}\": }\n  }\n  \
         include queue\n  spool { 'mail': size => 1 }\n}\ninclude wrapper\n",
    )
    .expect("site.pp written");
    let plan = dir.join("plan.toml");
    std::fs::write(&plan, "open = [\"wrapper\"]\n").expect("plan written");
    let out = dir.join("out");
    let output = split_queue(
        &entry,
        &["--plan", plan.to_str().unwrap(), "--verify"],
        &out,
    );
    assert_eq!(exit_code(&output), 0, "{}", text(&output.stderr));
    assert!(
        !text(&output.stderr).contains("defined nowhere"),
        "{}",
        text(&output.stderr)
    );
    let manifest = out.join("spool/spool.pp");
    let written = std::fs::read_to_string(&manifest).expect("the spool task");
    assert!(written.contains("define spool($size)"), "{written}");
    let lint = Command::new(granule())
        .arg("lint")
        .arg("--modulepath")
        .arg(repo_root().join("fixtures/split/entry_inherited/modules"))
        .arg(&manifest)
        .output()
        .expect("granule runs");
    assert!(
        !text(&lint.stdout).contains("granule/unresolved-type"),
        "{}",
        text(&lint.stdout)
    );
}

/// An entry that declares nothing, or nothing that runs under the
/// assumptions, gives a split of granule's own tasks only: the split says
/// so rather than report success on nothing.
#[test]
fn an_entry_that_runs_nothing_is_named() {
    let dir = scratch("split_nothing");
    let empty = dir.join("empty.pp");
    std::fs::write(&empty, "# nothing yet\n").expect("empty.pp written");
    let guarded = dir.join("guarded.pp");
    std::fs::write(&guarded, "if $::mode == 'a' {\n  include queue\n}\n").expect("written");
    for (entry, given, expected) in [
        (&empty, &[][..], "declares nothing to split"),
        (
            &guarded,
            &["--assume", "$::mode=b"][..],
            "runs nothing on the roles given under these assumptions",
        ),
        (&guarded, &[][..], ""),
    ] {
        let output = split_queue(entry, given, &dir.join("out"));
        assert_eq!(exit_code(&output), 0, "{}", text(&output.stderr));
        let stderr = text(&output.stderr);
        if expected.is_empty() {
            assert!(!stderr.contains("warning"), "{stderr}");
        } else {
            assert!(
                stderr.contains(&format!("warning: {} {expected}", entry.display()))
                    && stderr
                        .contains("the split holds only granule's own `globals` and `hiera` tasks"),
                "{stderr}"
            );
        }
    }
}

/// `--install-dir`: tasks.yaml names the files where the nodes find them,
/// and `--verify` reads them where they were written; a relative one is
/// refused, since nothing says what it would be relative to.
#[test]
fn a_split_for_another_install_dir_names_it_and_verifies() {
    let dir = scratch("split_install_dir");
    let split = |install_dir: &str| {
        queue_split(&dir)
            .args(["--install-dir", install_dir, "--verify", "-o"])
            .arg(dir.join("out"))
            .output()
            .expect("granule runs")
    };
    let output = split("/etc/puppet/tasks");
    assert_eq!(exit_code(&output), 0, "{}", text(&output.stderr));
    let yaml = std::fs::read_to_string(dir.join("out/tasks.yaml")).expect("tasks.yaml");
    for written in [
        "puppet_manifest: /etc/puppet/tasks/queue/queue.pp\n",
        "cmd: sh /etc/puppet/tasks/queue/pre.sh\n",
        "cmd: sh /etc/puppet/tasks/queue/post.sh\n",
    ] {
        assert!(yaml.contains(written), "{written:?} not in:\n{yaml}");
    }
    assert!(!yaml.contains("cwd:"), "{yaml}");

    assert_refused(
        &split("tasks"),
        &["--install-dir tasks: the nodes' path to the output directory must be absolute"],
    );
}

/// What bash offers on Tab after `words` (the last one being completed),
/// with the script `granule completions bash` prints loaded.
fn bash_completes(script: &Path, words: &[&str]) -> Vec<String> {
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let program = format!(
        "source '{}'; COMP_WORDS=({}); COMP_CWORD={}; _granule granule '{}' '{}'; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        script.display(),
        quoted.join(" "),
        words.len() - 1,
        words[words.len() - 1],
        words[words.len() - 2],
    );
    let output = Command::new("bash")
        .args(["-c", &program])
        .output()
        .expect("bash runs");
    assert!(output.status.success(), "{}", text(&output.stderr));
    text(&output.stdout).lines().map(str::to_string).collect()
}

#[test]
fn bash_completes_subcommands_options_and_their_values() {
    let dir = scratch("completions");
    let script = dir.join("granule.bash");
    let output = granule_in(&dir, &["completions", "bash"]);
    assert_eq!(exit_code(&output), 0, "{}", text(&output.stderr));
    std::fs::write(&script, &output.stdout).unwrap();
    assert_eq!(bash_completes(&script, &["granule", "li"]), ["lint"]);
    assert_eq!(
        bash_completes(&script, &["granule", "lint", "--for"]),
        ["--format"]
    );
    assert_eq!(
        bash_completes(&script, &["granule", "lint", "--format", ""]),
        ["human", "json", "sarif", "github", "checkstyle", "junit"]
    );
}

#[test]
fn version_names_the_commit_built() {
    let root = repo_root();
    let head = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(&root)
        .output();
    let head = match head {
        Ok(output) if output.status.success() => text(&output.stdout).trim().to_string(),
        _ => return eprintln!("not a git checkout: the version says `unknown commit`"),
    };
    let output = granule_in(&root, &["--version"]);
    let version = text(&output.stdout);
    assert_eq!(
        version.trim(),
        format!("granule {} (commit {head})", env!("CARGO_PKG_VERSION"))
    );
}

/// The module names of `granule deps --level module` on `modulepath`, and
/// the messages of its autoload-mismatch findings.
fn modules_and_mismatches(modulepath: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let output = granule_in(
        &repo_root(),
        &[
            "deps",
            "--modulepath",
            modulepath,
            "--level",
            "module",
            "--format",
            "json",
        ],
    );
    let deps: Value = serde_json::from_slice(&output.stdout).expect("granule deps' JSON");
    let edges = deps["edges"].as_array().expect("edges");
    let modules = edges
        .iter()
        .flat_map(|edge| [&edge["from"]["name"], &edge["to"]["name"]])
        .filter_map(|name| name.as_str().map(str::to_string))
        .collect();
    let mismatches = deps["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|finding| finding["code"] == "analyzer/autoload-mismatch")
        .filter_map(|finding| finding["message"].as_str().map(str::to_string))
        .collect();
    (modules, mismatches)
}

/// Debian installs each module in `modules.available/AUTHOR-NAME` and links
/// it from `/usr/share/puppet/modules/NAME`: the modules are the same, by
/// the same names, whichever directory is analyzed.
#[test]
fn module_names_come_from_metadata_where_the_directory_name_is_no_module_name() {
    let available = "/usr/share/puppet/modules.available";
    let present = if Path::new(available).is_dir() {
        Ok(())
    } else {
        Err(format!(
            "{available} is missing: install openstack-puppet-modules"
        ))
    };
    let Some(()) = require_reference("module names", present) else {
        return;
    };
    let (by_directory, directory_mismatches) = modules_and_mismatches(available);
    let (by_link, link_mismatches) = modules_and_mismatches("/usr/share/puppet/modules");
    assert!(by_directory.len() > 50, "{by_directory:?}");
    assert_eq!(by_directory, by_link);
    assert_eq!(directory_mismatches, link_mismatches);
    let misplaced = directory_mismatches.len();
    assert!(
        misplaced < 10,
        "{misplaced} autoload mismatches: {directory_mismatches:#?}"
    );
}

/// `granule run` of the resume fixture, copied into `dir`, with
/// `state_dir`, through `wrapper` (a command that runs granule under other
/// conditions) when given.
fn run_with_state_dir(dir: &Path, wrapper: &[&str], state_dir: &str) -> Output {
    let (tasks, nodes) = (dir.join("tasks.yaml"), dir.join("nodes.yaml"));
    for copy in [&tasks, &nodes] {
        let name = copy.file_name().expect("a file name");
        std::fs::copy(fixture("resume").join(name), copy).expect("fixture copied");
    }
    let granule = granule();
    let mut command = match wrapper.split_first() {
        Some((program, args)) => {
            let mut command = Command::new(program);
            command.args(args).arg(&granule);
            command
        }
        None => Command::new(&granule),
    };
    command
        .args(["run", "--tasks"])
        .arg(&tasks)
        .arg("--inventory")
        .arg(&nodes)
        .args(["--state-dir", state_dir])
        .current_dir(dir)
        .output()
        .expect("granule runs")
}

fn assert_refused(output: &Output, says: &[&str]) {
    let stderr = text(&output.stderr);
    assert_eq!(exit_code(output), 2, "{stderr}");
    for words in says {
        assert!(stderr.contains(words), "{words:?} not in: {stderr}");
    }
    assert!(!stderr.contains("No such file or directory"), "{stderr}");
}

#[test]
fn a_state_dir_that_cannot_be_written_says_why_and_where() {
    let dir = scratch("unwritable-state-dir");
    std::fs::write(dir.join("plain-file"), "").unwrap();
    let output = run_with_state_dir(&dir, &[], "plain-file/state");
    assert_refused(
        &output,
        &["plain-file/state", "plain-file is a file, not a directory"],
    );

    // Root writes anywhere: the run then goes through setpriv as nobody, in
    // a directory nobody reaches (a checkout need not be reachable: `mktemp
    // -d` makes its directory 0700).
    let reachable = std::env::temp_dir().join(format!(
        "granule-unwritable-state-dir-{}",
        std::process::id()
    ));
    let locked = reachable.join("locked");
    std::fs::create_dir_all(&locked).unwrap();
    let mode = std::os::unix::fs::PermissionsExt::from_mode;
    std::fs::set_permissions(&reachable, mode(0o755)).unwrap();
    std::fs::set_permissions(&locked, mode(0o555)).unwrap();
    let as_nobody = [
        "setpriv",
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
    ];
    let wrapper: &[&str] = if unsafe { libc::geteuid() } == 0 {
        &as_nobody
    } else {
        &[]
    };
    let output = run_with_state_dir(&reachable, wrapper, "locked/state");
    std::fs::set_permissions(&locked, mode(0o755)).unwrap();
    std::fs::remove_dir_all(&reachable).unwrap();
    assert_refused(&output, &["permission denied", "in locked"]);

    // A read-only mount, in a user and mount namespace of its own.
    let read_only = dir.join("read-only");
    std::fs::create_dir_all(&read_only).unwrap();
    let mount = format!(
        "mount -o bind,ro {0} {0} && exec \"$@\"",
        read_only.display()
    );
    let namespace = Command::new("unshare")
        .args(["-rm", "sh", "-c", &mount, "sh", "true"])
        .status();
    let namespace = match namespace {
        Ok(status) if status.success() => Ok(()),
        other => Err(format!("`unshare -rm` cannot mount read-only ({other:?})")),
    };
    let Some(()) = require_reference("read-only state directory", namespace) else {
        return;
    };
    let output = run_with_state_dir(
        &dir,
        &["unshare", "-rm", "sh", "-c", &mount, "sh"],
        "read-only/state",
    );
    assert_refused(&output, &["read-only/state", "read-only file system"]);
}

/// A real Fuel descriptor with two fields misspelt, a parameter misspelt
/// and one of the wrong type.
#[test]
fn tasks_yaml_errors_are_all_reported_at_their_key() {
    // The corpora stand beside the project (see ../shared/corpora/README.md).
    let corpus = repo_root()
        .join("../shared/corpora/fuel-library-2019/deployment/puppet/openstack_tasks/examples/keystone/tasks.yaml")
        .canonicalize()
        .map_err(|e| format!("the Fuel 2019 corpus is missing beside the project ({e})"));
    let Some(original) = require_reference("tasks.yaml errors", corpus) else {
        return;
    };
    let text = std::fs::read_to_string(&original).unwrap();
    let dir = scratch("tasks-yaml-errors");
    let line_of = |text: &str, needle: &str| {
        text.lines()
            .position(|line| line.contains(needle))
            .map(|index| index + 1)
            .unwrap_or_else(|| panic!("{needle:?} is not in {}", original.display()))
    };
    // Misspelt fields: every one is reported, each with what was meant.
    let misspelt = text.replacen("  requires:", "  requirs:", 1).replacen(
        "  cross-depends:",
        "  cross-depend:",
        1,
    );
    std::fs::write(dir.join("tasks.yaml"), &misspelt).unwrap();
    let output = granule_in(&dir, &["tasks", "validate", "tasks.yaml"]);
    let stderr = text_of(&output);
    assert_eq!(exit_code(&output), 2, "{stderr}");
    for (field, meant) in [("requirs", "requires"), ("cross-depend", "cross-depends")] {
        let line = line_of(&misspelt, &format!("  {field}:"));
        assert!(
            stderr.contains(&format!(
                "tasks.yaml:{line}:3: unknown field `{field}`\n  help: did you mean `{meant}`?"
            )),
            "{field}: {stderr}"
        );
    }
    // Parameters: an error points at the parameter.
    let bad_parameters = text.replacen(
        "    puppet_manifest:",
        "    puppet_manifest: [not, a, path]\n    x_was_manifest:",
        1,
    );
    std::fs::write(dir.join("tasks.yaml"), &bad_parameters).unwrap();
    let output = granule_in(&dir, &["tasks", "validate", "tasks.yaml"]);
    let stderr = text_of(&output);
    assert_eq!(exit_code(&output), 2, "{stderr}");
    let manifest_line = line_of(&bad_parameters, "    puppet_manifest: [not");
    assert!(
        stderr.contains(&format!("tasks.yaml:{manifest_line}:5: "))
            && stderr.contains("parameter `puppet_manifest` must be a string"),
        "{stderr}"
    );
    // A parameter the type does not use is what Fuel's loader ignored: a
    // warning, at the parameter, with the one meant.
    let misspelt_parameter = "- id: a\n  type: puppet\n  version: 2.0.0\n  groups: [x]\n  parameters:\n    puppet_manifest: /etc/a.pp\n    puppet_modules: /etc/modules\n    timout: 3600\n";
    std::fs::write(dir.join("tasks.yaml"), misspelt_parameter).unwrap();
    let output = granule_in(&dir, &["tasks", "validate", "tasks.yaml"]);
    let stderr = text_of(&output);
    assert_eq!(exit_code(&output), 0, "{stderr}");
    let timeout_line = line_of(misspelt_parameter, "    timout:");
    assert!(
        stderr.contains(&format!("warning: tasks.yaml:{timeout_line}:5: "))
            && stderr.contains("parameter `timout` is not used by a `puppet` task")
            && stderr.contains("did you mean `timeout`?"),
        "{stderr}"
    );

    // A file with no task is worth a warning, not silence.
    for (name, content) in [
        ("empty", ""),
        ("comments", "# nothing yet\n"),
        ("no-list", "[]\n"),
    ] {
        std::fs::write(dir.join(format!("{name}.tasks.yaml")), content).unwrap();
        let output = granule_in(&dir, &["tasks", "validate", &format!("{name}.tasks.yaml")]);
        let stderr = text_of(&output);
        assert_eq!(exit_code(&output), 0, "{stderr}");
        assert!(
            stderr.contains(&format!("warning: {name}.tasks.yaml: no task in this file")),
            "{stderr}"
        );
    }
}

fn text_of(output: &Output) -> String {
    text(&output.stderr)
}

#[test]
fn deps_takes_positional_paths_as_manifests() {
    let dir = repo_root().join("fixtures/monolith");
    let positional = granule_in(
        &dir,
        &[
            "deps",
            "--modulepath",
            "modules",
            "--format",
            "json",
            "manifests/",
        ],
    );
    let option = granule_in(
        &dir,
        &[
            "deps",
            "--modulepath",
            "modules",
            "--format",
            "json",
            "--manifest",
            "manifests/",
        ],
    );
    assert_eq!(exit_code(&positional), 0, "{}", text(&positional.stderr));
    assert_eq!(text(&positional.stdout), text(&option.stdout));
    let deps: Value = serde_json::from_slice(&positional.stdout).expect("granule deps' JSON");
    let from_site = deps["edges"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|edge| {
            edge["location"]["file"]
                .as_str()
                .is_some_and(|f| f.ends_with("site.pp"))
        })
        .count();
    assert!(
        from_site > 0,
        "the edges written in manifests/site.pp are analyzed"
    );
}
