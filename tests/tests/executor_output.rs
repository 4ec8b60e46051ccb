//! What `granule run` shows: a live view on a terminal, plain lines
//! otherwise, a JSON event stream, the final summary table; `granule status`
//! reading a journal; `granule tasks graph` drawing the task graph.

use granule_tests::executor::{
    exit_code, fixture, granule, granule_in, journal, scratch, text, tool_available,
};
use granule_tests::require_reference;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Read;
use std::os::fd::{FromRawFd, OwnedFd};
use std::path::Path;
use std::process::{Command, Stdio};

fn cluster_run(dir: &Path, extra: &[&str]) -> std::process::Output {
    let tasks = fixture("v2-cluster").join("tasks.yaml");
    let nodes = fixture("v2-cluster").join("nodes.yaml");
    let mut args = vec![
        "run",
        "--state-dir",
        "state",
        "--tasks",
        tasks.to_str().unwrap(),
        "--inventory",
        nodes.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    granule_in(dir, &args)
}

#[test]
fn json_format_streams_every_journal_record_then_a_summary() {
    let dir = scratch("output_json");
    let output = cluster_run(&dir, &["--format", "json"]);
    assert_eq!(exit_code(&output), 1, "{}", text(&output.stderr));
    let events: Vec<Value> = text(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{line:?}: {e}")))
        .collect();
    let (summary, records) = events.split_last().expect("events");
    // The stream is the journal, record for record, then the summary.
    assert_eq!(records, journal(&dir.join("state")).as_slice());
    assert_eq!(records[0]["event"], "run-started");
    assert_eq!(records.last().unwrap()["event"], "run-finished");
    assert_eq!(summary["event"], "summary");
    assert_eq!(summary["outcome"], "failed");
    let mut finals: BTreeMap<(String, String), String> = BTreeMap::new();
    for record in records.iter().filter(|r| r["event"] == "state") {
        finals.insert(
            (record["node"].to_string(), record["task"].to_string()),
            record["state"].as_str().unwrap().to_string(),
        );
    }
    for (state, count) in summary["counts"].as_object().unwrap() {
        let seen = finals.values().filter(|s| *s == state).count();
        assert_eq!(count.as_u64().unwrap() as usize, seen, "{state}");
    }
    assert_eq!(summary["counts"]["failed-precondition"], 2);
}

#[test]
fn plain_output_has_failures_and_a_summary_table_and_no_terminal_codes() {
    let dir = scratch("output_plain");
    let output = cluster_run(&dir, &[]);
    assert_eq!(exit_code(&output), 1);
    let stderr = text(&output.stderr);
    assert!(
        !stderr.contains('\x1b') && !stderr.contains('\r'),
        "{stderr:?}"
    );
    assert!(
        stderr.contains("[ctl-1] too_slow: failed in ") && stderr.contains("timed out after 0.3s"),
        "{stderr}"
    );
    let table: Vec<&str> = stderr
        .lines()
        .skip_while(|line| !line.starts_with("node "))
        .collect();
    assert_eq!(
        table[0].split_whitespace().collect::<Vec<_>>(),
        [
            "node",
            "succeeded",
            "skipped",
            "failed",
            "failed-precondition",
            "dependency-failed",
            "not-run"
        ]
    );
    let row = |node: &str| -> Vec<String> {
        let line = table
            .iter()
            .find(|line| line.starts_with(&format!("{node} ")))
            .unwrap_or_else(|| panic!("no row for {node}:\n{stderr}"));
        line.split_whitespace().skip(1).map(String::from).collect()
    };
    // cmp-1: hiera, write_config, copy_config, sync_config, ntp_client,
    // nova_compute, flaky_agent, network_check succeeded; legacy_only and
    // ceph_osd skipped; precondition_unmet failed its pre-test; one dependant.
    // Sync points (stages, groups, anchors) are not counted.
    assert_eq!(row("cmp-1"), ["8", "2", "0", "1", "1", "0"]);
    assert_eq!(row("ctl-1"), ["8", "1", "2", "0", "0", "0"]);
    assert!(
        stderr.contains("log: state/logs/ctl-1/too_slow.log"),
        "{stderr}"
    );
    assert!(stderr.contains("run failed: "), "{stderr}");

    // -v prints every state change.
    let dir = scratch("output_verbose");
    let output = cluster_run(&dir, &["-v", "--node", "cmp-2"]);
    let stderr = text(&output.stderr);
    assert!(stderr.contains("[cmp-2] hiera: running"), "{stderr}");
    assert!(stderr.contains("[cmp-2] hiera: succeeded in "), "{stderr}");
    assert!(
        stderr.contains("[cmp-2] flaky_agent: running (attempt 2)"),
        "{stderr}"
    );
}

/// A pseudo-terminal: (the side granule writes to, the side the test reads).
fn pty() -> (OwnedFd, OwnedFd) {
    let (mut controller, mut terminal) = (-1, -1);
    let size = libc::winsize {
        ws_row: 40,
        ws_col: 120,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: openpty(3) fills two descriptors that we then own.
    let status = unsafe {
        libc::openpty(
            &mut controller,
            &mut terminal,
            std::ptr::null_mut(),
            std::ptr::null(),
            &size,
        )
    };
    assert_eq!(status, 0, "openpty failed");
    // SAFETY: both descriptors were just opened and are owned by nobody else.
    unsafe {
        (
            OwnedFd::from_raw_fd(terminal),
            OwnedFd::from_raw_fd(controller),
        )
    }
}

/// `granule run` on the v2 cluster with stderr on a pseudo-terminal whose
/// TERM is `term`: (exit code, what the terminal showed).
fn run_on_a_terminal(test: &str, term: &str) -> (Option<i32>, String) {
    let dir = scratch(test);
    let (terminal, controller) = pty();
    let tasks = fixture("v2-cluster").join("tasks.yaml");
    let nodes = fixture("v2-cluster").join("nodes.yaml");
    let mut child = Command::new(granule())
        .args(["run", "--state-dir", "state", "--tasks"])
        .arg(&tasks)
        .arg("--inventory")
        .arg(&nodes)
        .env("TERM", term)
        .current_dir(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::from(terminal))
        .spawn()
        .expect("granule starts");
    let mut screen = Vec::new();
    // Reading ends with EIO once granule, the only writer, has exited.
    let _ = std::fs::File::from(controller).read_to_end(&mut screen);
    let status = child.wait().unwrap();
    (status.code(), String::from_utf8_lossy(&screen).into_owned())
}

#[test]
fn live_view_on_a_terminal_shows_nodes_and_counts() {
    let (code, screen) = run_on_a_terminal("output_live", "xterm");
    assert_eq!(code, Some(1));
    assert!(
        screen.contains('\x1b'),
        "no terminal control codes:\n{screen}"
    );
    assert!(screen.contains("all nodes"), "{screen}");
    for node in ["ctl-1", "ctl-2", "ctl-3", "cmp-1", "cmp-2"] {
        assert!(screen.contains(node), "no line for {node}:\n{screen}");
    }
    assert!(
        screen.contains("65/65"),
        "the overall count did not reach the end:\n{screen}"
    );
    // Failures are printed above the bars, and the summary follows.
    assert!(screen.contains("too_slow: failed"), "{screen}");
    assert!(screen.contains("run failed: "), "{screen}");
}

#[test]
fn a_dumb_terminal_gets_plain_lines() {
    let (code, screen) = run_on_a_terminal("output_dumb_terminal", "dumb");
    assert_eq!(code, Some(1));
    assert!(!screen.contains('\x1b'), "{screen:?}");
    assert!(screen.contains("[ctl-1] too_slow: failed in "), "{screen}");
    assert!(screen.contains("run failed: "), "{screen}");
}

#[test]
fn status_reads_the_journal() {
    let dir = scratch("output_status");
    let output = cluster_run(&dir, &[]);
    assert_eq!(exit_code(&output), 1);

    let status = granule_in(&dir, &["status", "state"]);
    assert_eq!(exit_code(&status), 0);
    let stdout = text(&status.stdout);
    let first = stdout.lines().next().unwrap();
    assert!(
        first.starts_with("run 1 (started 20") && first.ends_with("): failed"),
        "{stdout}"
    );
    assert!(stdout.contains("failed-precondition 2"), "{stdout}");
    assert!(
        stdout.contains("failed               too_slow on ctl-1") && stdout.contains("timed out"),
        "{stdout}"
    );
    assert!(
        stdout.contains("log: state/logs/ctl-1/too_slow.log"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("hiera on"),
        "succeeded tasks are listed with --all only"
    );
    let all = text(&granule_in(&dir, &["status", "state", "--all"]).stdout);
    assert!(all.contains("succeeded            hiera on cmp-1"), "{all}");
    assert!(all.contains("flaky_agent on cmp-1, 2 attempts"), "{all}");

    let json = granule_in(&dir, &["status", "state", "--format", "json"]);
    let value: Value = serde_json::from_slice(&json.stdout).expect("status JSON");
    assert_eq!(value["outcome"], "failed");
    assert_eq!(value["cut_off"], false);
    assert_eq!(value["tasks"].as_array().unwrap().len(), 65);
    assert_eq!(value["counts"]["dependency-failed"], 2);

    // A crash in the middle of a write leaves a torn last line: ignored, noted.
    let journal_path = dir.join("state/journal.jsonl");
    let mut text_of_journal = std::fs::read_to_string(&journal_path).unwrap();
    text_of_journal.push_str("{\"event\":\"state\",\"ts\":\"2026-");
    std::fs::write(&journal_path, &text_of_journal).unwrap();
    let torn = granule_in(&dir, &["status", "state"]);
    assert_eq!(exit_code(&torn), 0);
    assert!(text(&torn.stdout).contains("last line was half-written"));
    // Damage anywhere else is an error naming the line.
    std::fs::write(&journal_path, format!("not json\n{text_of_journal}")).unwrap();
    let damaged = granule_in(&dir, &["status", "state"]);
    assert_eq!(exit_code(&damaged), 2);
    assert!(
        text(&damaged.stderr).contains("journal.jsonl:1: not a journal record"),
        "{}",
        text(&damaged.stderr)
    );

    let missing = granule_in(&dir, &["status", "nowhere"]);
    assert_eq!(exit_code(&missing), 2);
    assert!(text(&missing.stderr).contains("--state-dir"));
}

#[test]
fn tasks_graph_draws_dot_svg_and_html() {
    let dir = scratch("output_graph");
    let tasks = fixture("v2-cluster").join("tasks.yaml");
    let tasks = tasks.to_str().unwrap();
    let dot = granule_in(&dir, &["tasks", "graph", tasks]);
    assert_eq!(exit_code(&dot), 0, "{}", text(&dot.stderr));
    let dot = text(&dot.stdout);
    assert!(dot.starts_with("digraph tasks {"), "{dot}");
    assert!(dot.contains("\"hiera\" -> \"write_config\";"), "{dot}");
    assert!(
        dot.contains("\"database\" -> \"rabbitmq\" [style=dashed];"),
        "{dot}"
    );
    assert!(
        dot.contains("\"ntp_server\" -> \"ntp_client\" [style=dashed];"),
        "{dot}"
    );

    let role = granule_in(&dir, &["tasks", "graph", tasks, "--role", "compute"]);
    let role = text(&role.stdout);
    assert!(role.starts_with("digraph plan {"), "{role}");
    assert!(role.contains("label=\"nova_compute\""), "{role}");
    assert!(
        !role.contains("label=\"keystone\""),
        "a compute node runs no keystone: {role}"
    );

    if require_reference(
        "tasks_graph_svg",
        tool_available("dot", "graphviz").map(|_| ()),
    )
    .is_none()
    {
        return;
    }
    let svg = granule_in(&dir, &["tasks", "graph", tasks, "--format", "svg"]);
    assert_eq!(exit_code(&svg), 0, "{}", text(&svg.stderr));
    let svg = text(&svg.stdout);
    assert!(
        svg.contains("<svg") && svg.trim_end().ends_with("</svg>"),
        "{svg}"
    );
    assert!(
        svg.contains("<title>hiera&#45;&gt;write_config</title>"),
        "{svg}"
    );

    let html = granule_in(
        &dir,
        &[
            "tasks", "graph", tasks, "--role", "compute", "--format", "html",
        ],
    );
    assert_eq!(exit_code(&html), 0);
    let html = text(&html.stdout);
    assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
    assert!(
        html.contains("<svg") && html.contains("nova_compute"),
        "{html}"
    );
    // Self-contained: nothing to fetch.
    assert!(
        !html.contains("src=\"http") && !html.contains("<link"),
        "{html}"
    );
}
