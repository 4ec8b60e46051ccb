//! `granule run` on the fixture task sets: the order constraints hold, tasks
//! overlap where allowed and never where forbidden, and every task ends in
//! the state Fuel's engine would give it. Order and overlap come from the
//! journal's timestamps, never from wall-clock thresholds.

use granule_tests::executor::{
    dry_run, exit_code, fixture, granule_in, intervals, journal, max_concurrency, scratch, text,
    Interval,
};
use std::collections::BTreeMap;
use std::path::Path;

type Spans = BTreeMap<(String, String), Interval>;

fn span<'a>(spans: &'a Spans, node: &str, task: &str) -> &'a Interval {
    spans
        .get(&(node.to_string(), task.to_string()))
        .unwrap_or_else(|| panic!("{task} on {node} is not in the journal"))
}

/// Every edge of the plan held: a task started only after everything it
/// needs had finished.
fn assert_edges_held(dir: &Path, args: &[&str], spans: &Spans) {
    let plan = dry_run(dir, args);
    assert!(!plan.edges.is_empty());
    for &(before, after) in &plan.edges {
        let (bn, bt, _) = &plan.instances[before];
        let (an, at, _) = &plan.instances[after];
        let first = span(spans, bn, bt);
        let second = span(spans, an, at);
        if second.state == "dependency-failed" {
            continue;
        }
        let started = second.start.as_ref().unwrap_or(&second.end);
        assert!(
            first.end <= *started,
            "{at}@{an} started at {started} before {bt}@{bn} ended at {}",
            first.end
        );
        assert!(
            first.state == "succeeded" || first.state == "skipped",
            "{at}@{an} ran although {bt}@{bn} is {}",
            first.state
        );
    }
}

/// A node runs one task at a time.
fn assert_one_task_per_node(spans: &Spans) {
    let nodes: std::collections::BTreeSet<&String> = spans.keys().map(|(node, _)| node).collect();
    for node in nodes {
        let on_node = spans
            .iter()
            .filter(|((n, _), _)| n == node)
            .map(|(_, span)| span);
        assert_eq!(
            max_concurrency(on_node),
            1,
            "two tasks overlapped on {node}"
        );
    }
}

#[test]
fn v2_cluster_runs_in_order_with_expected_states() {
    let dir = scratch("v2_cluster_order");
    let tasks = fixture("v2-cluster").join("tasks.yaml");
    let nodes = fixture("v2-cluster").join("nodes.yaml");
    let (tasks, nodes) = (tasks.to_str().unwrap(), nodes.to_str().unwrap());
    let args = ["--tasks", tasks, "--inventory", nodes];
    let mut run = vec!["run", "-j", "16", "--state-dir", "state"];
    run.extend_from_slice(&args);
    let output = granule_in(&dir, &run);
    let stderr = text(&output.stderr);
    assert_eq!(
        exit_code(&output),
        1,
        "a task failed, so the exit status is 1\n{stderr}"
    );
    assert!(
        stderr.contains("network_check"),
        "the unevaluated condition is reported:\n{stderr}"
    );

    let records = journal(&dir.join("state"));
    let spans = intervals(&records);
    let controllers = ["ctl-1", "ctl-2", "ctl-3"];
    let computes = ["cmp-1", "cmp-2"];
    let all: Vec<&str> = controllers.iter().chain(&computes).copied().collect();

    // States, as Fuel's engine gives them.
    let mut expected: BTreeMap<(String, String), &str> = BTreeMap::new();
    let mut expect = |nodes: &[&str], task: &str, state: &'static str| {
        for node in nodes {
            expected.insert((node.to_string(), task.to_string()), state);
        }
    };
    for task in [
        "deploy_start",
        "hiera",
        "write_config",
        "copy_config",
        "sync_config",
        "deploy_end",
    ] {
        expect(&all, task, "succeeded");
    }
    expect(&all, "legacy_only", "skipped");
    for task in ["controllers", "rabbitmq", "keystone", "controllers_done"] {
        expect(&controllers, task, "succeeded");
    }
    expect(&["ctl-1"], "database", "succeeded");
    expect(&["ctl-1"], "ntp_server", "succeeded");
    expect(&["ctl-1"], "postcheck_fails", "failed");
    expect(&["ctl-1"], "too_slow", "failed");
    for task in ["ntp_client", "nova_compute", "flaky_agent", "network_check"] {
        expect(&computes, task, "succeeded");
    }
    expect(&computes, "precondition_unmet", "failed-precondition");
    expect(&computes, "after_precondition", "dependency-failed");
    expect(&computes, "ceph_osd", "skipped");
    let actual: BTreeMap<(String, String), &str> = spans
        .iter()
        .map(|(key, span)| (key.clone(), span.state.as_str()))
        .collect();
    assert_eq!(actual, expected);

    assert_edges_held(&dir, &args, &spans);
    assert_one_task_per_node(&spans);

    // Strategies: keystone one node at a time; rabbitmq two at most, and two did overlap.
    let of_task = |task: &'static str| {
        spans
            .iter()
            .filter(move |((_, t), _)| t == task)
            .map(|(_, s)| s)
    };
    assert_eq!(
        max_concurrency(of_task("keystone")),
        1,
        "keystone is one_by_one"
    );
    assert_eq!(
        max_concurrency(of_task("rabbitmq")),
        2,
        "rabbitmq runs on at most 2 nodes, and -j allows 2"
    );
    // Parallelism: hiera ran on several nodes at once.
    assert!(
        max_concurrency(of_task("hiera")) >= 2,
        "hiera ran on one node at a time"
    );

    // Cross-node links.
    for compute in computes {
        let nova = span(&spans, compute, "nova_compute");
        for controller in controllers {
            assert!(span(&spans, controller, "keystone").end <= *nova.start.as_ref().unwrap());
        }
        let client = span(&spans, compute, "ntp_client");
        assert!(span(&spans, "ctl-1", "ntp_server").end <= *client.start.as_ref().unwrap());
    }
    for controller in ["ctl-2", "ctl-3"] {
        let rabbit = span(&spans, controller, "rabbitmq");
        assert!(span(&spans, "ctl-1", "database").end <= *rabbit.start.as_ref().unwrap());
    }

    // Retry, time limit, pre- and post-tests.
    for compute in computes {
        let flaky = span(&spans, compute, "flaky_agent");
        assert_eq!(
            flaky.attempts, 2,
            "flaky_agent succeeds on its second attempt on {compute}"
        );
        let pre = span(&spans, compute, "precondition_unmet");
        assert!(
            pre.message.as_deref().unwrap_or("").contains("test_pre"),
            "{pre:?}"
        );
    }
    let slow = span(&spans, "ctl-1", "too_slow");
    assert!(
        slow.message.as_deref().unwrap_or("").contains("timed out"),
        "{slow:?}"
    );
    assert!(
        slow.duration.unwrap() < 29.0,
        "the 30 s command was killed at its time limit"
    );
    let post = span(&spans, "ctl-1", "postcheck_fails");
    assert!(
        post.message.as_deref().unwrap_or("").contains("test_post"),
        "{post:?}"
    );

    // What the tasks did on disk.
    let work = dir.join("work");
    assert!(
        !work.join("precondition-ran").exists(),
        "a task whose test_pre failed must not run"
    );
    assert!(!work.join("after-precondition-ran").exists());
    assert!(
        !work.join("ceph-ran").exists(),
        "a false condition skips the task"
    );
    assert!(
        work.join("postcheck-ran").exists(),
        "the command ran before its test_post failed"
    );
    assert_eq!(
        std::fs::read_to_string(work.join("copied/config.txt")).unwrap(),
        "written by granule\n"
    );
    assert_eq!(
        std::fs::read_to_string(work.join("synced/config.txt")).unwrap(),
        "written by granule\n"
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(work.join("copied/config.txt"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o640);

    // Per-task logs, timestamped, beside the journal.
    let log = std::fs::read_to_string(dir.join("state/logs/cmp-1/flaky_agent.log")).unwrap();
    assert!(log.contains("attempt 1: failed (exit 3)"), "{log}");
    assert!(log.contains("attempt 2: exit 0"), "{log}");
}

#[test]
fn with_one_job_nothing_overlaps() {
    let dir = scratch("v2_cluster_serial");
    let tasks = fixture("v2-cluster").join("tasks.yaml");
    let nodes = fixture("v2-cluster").join("nodes.yaml");
    let (tasks, nodes) = (tasks.to_str().unwrap(), nodes.to_str().unwrap());
    let output = granule_in(
        &dir,
        &[
            "run",
            "-j",
            "1",
            "--state-dir",
            "state",
            "--tasks",
            tasks,
            "--inventory",
            nodes,
        ],
    );
    assert_eq!(exit_code(&output), 1, "{}", text(&output.stderr));
    let spans = intervals(&journal(&dir.join("state")));
    assert_eq!(
        max_concurrency(spans.values()),
        1,
        "-j 1 ran two tasks at once"
    );
    assert_edges_held(&dir, &["--tasks", tasks, "--inventory", nodes], &spans);
}

#[test]
fn fail_fast_starts_nothing_after_the_first_failure() {
    let dir = scratch("v2_cluster_fail_fast");
    let tasks = fixture("v2-cluster").join("tasks.yaml");
    let nodes = fixture("v2-cluster").join("nodes.yaml");
    let output = granule_in(
        &dir,
        &[
            "run",
            "-j",
            "1",
            "--fail-fast",
            "--state-dir",
            "state",
            "--tasks",
            tasks.to_str().unwrap(),
            "--inventory",
            nodes.to_str().unwrap(),
        ],
    );
    assert_eq!(exit_code(&output), 1, "{}", text(&output.stderr));
    let records = journal(&dir.join("state"));
    let first_failure = records
        .iter()
        .position(|r| matches!(r["state"].as_str(), Some("failed" | "failed-precondition")))
        .expect("a failure");
    let started_after = records[first_failure..]
        .iter()
        .filter(|r| r["state"] == "running")
        .count();
    assert_eq!(
        started_after, 0,
        "--fail-fast started tasks after the first failure"
    );
    let spans = intervals(&records);
    assert!(spans.len() < 65, "some tasks were never started");
}

#[test]
fn v1_groups_order_nodes_by_group_and_strategy() {
    let dir = scratch("v1_groups");
    let tasks = fixture("v1-groups").join("tasks.yaml");
    let nodes = fixture("v1-groups").join("nodes.yaml");
    let (tasks, nodes) = (tasks.to_str().unwrap(), nodes.to_str().unwrap());
    let output = granule_in(
        &dir,
        &[
            "run",
            "-j",
            "16",
            "--state-dir",
            "state",
            "--tasks",
            tasks,
            "--inventory",
            nodes,
        ],
    );
    assert_eq!(exit_code(&output), 0, "{}", text(&output.stderr));
    let spans = intervals(&journal(&dir.join("state")));
    assert!(
        spans
            .values()
            .all(|s| s.state == "succeeded" || s.state == "skipped"),
        "{spans:?}"
    );
    assert_edges_held(&dir, &["--tasks", tasks, "--inventory", nodes], &spans);
    assert_one_task_per_node(&spans);

    let group_tasks = |nodes: &[&str]| -> Vec<Interval> {
        spans
            .iter()
            .filter(|((node, _), s)| nodes.contains(&node.as_str()) && s.start.is_some())
            .map(|(_, s)| s.clone())
            .collect()
    };
    let primary = group_tasks(&["ctl-1"]);
    let controllers = group_tasks(&["ctl-2", "ctl-3"]);
    let computes = group_tasks(&["cmp-1", "cmp-2", "cmp-3"]);
    let last_end = |spans: &[Interval]| spans.iter().map(|s| s.end.clone()).max().unwrap();
    let first_start =
        |spans: &[Interval]| spans.iter().filter_map(|s| s.start.clone()).min().unwrap();
    // `controller` requires `primary-controller`: all of it, on every node.
    assert!(last_end(&primary) <= first_start(&controllers));
    // `compute` requires `controller`.
    assert!(last_end(&controllers) <= first_start(&computes));
    // The controller group is one_by_one: ctl-2 goes through it entirely before ctl-3, or the reverse.
    let (two, three) = (group_tasks(&["ctl-2"]), group_tasks(&["ctl-3"]));
    assert!(
        last_end(&two) <= first_start(&three) || last_end(&three) <= first_start(&two),
        "controller nodes went through their group at the same time"
    );
    // The compute group is parallel: its nodes overlapped.
    let compute_task = |node: &str| span(&spans, node, "nova").clone();
    let novas = [
        compute_task("cmp-1"),
        compute_task("cmp-2"),
        compute_task("cmp-3"),
    ];
    assert!(
        max_concurrency(novas.iter()) >= 2,
        "compute nodes ran one at a time"
    );
    assert!(
        max_concurrency(novas.iter()) <= 2,
        "compute strategy amount is 2"
    );
}

/// Fuel 9's `fault_tolerance` on a group: one failed node of three is within
/// a budget of 1 and the run goes on; with a budget of 0 nothing starts after
/// the failure. At `-j 1` every `check` (a longer chain) starts before any
/// `late`, so the failure comes first.
#[test]
fn a_group_fault_tolerance_stops_the_run_once_exceeded() {
    for (budget, stops) in [("0", true), ("1", false), ("'34%'", false), ("'33%'", true)] {
        let dir = scratch(&format!(
            "fault_tolerance_{}",
            budget.trim_matches('\'').replace('%', "pct")
        ));
        let yaml = format!(
            "\
- id: workers
  type: group
  version: 2.0.0
  role: [worker]
  fault_tolerance: {budget}
- id: check
  type: shell
  version: 2.0.0
  role: [worker]
  parameters: {{cmd: 'test \"$GRANULE_NODE\" != w1'}}
- id: late
  type: shell
  version: 2.0.0
  role: [worker]
  requires: [check]
  parameters: {{cmd: 'true'}}
"
        );
        std::fs::write(dir.join("tasks.yaml"), yaml).unwrap();
        std::fs::write(
            dir.join("nodes.yaml"),
            "nodes:\n  - {name: w1, roles: [worker]}\n  - {name: w2, roles: [worker]}\n  - {name: w3, roles: [worker]}\n",
        )
        .unwrap();
        let output = granule_in(
            &dir,
            &[
                "run",
                "-j",
                "1",
                "--tasks",
                "tasks.yaml",
                "--inventory",
                "nodes.yaml",
                "--format",
                "json",
            ],
        );
        assert_eq!(exit_code(&output), 1, "{}", text(&output.stderr));
        let stdout = text(&output.stdout);
        let late_started = journal(&dir.join(".granule/run"))
            .iter()
            .filter(|record| record["task"] == "late" && record["state"] == "running")
            .count();
        if stops {
            assert!(
                stdout.contains("more nodes of group `workers` failed than its fault_tolerance"),
                "{budget}: {stdout}"
            );
            assert_eq!(
                late_started, 0,
                "budget {budget}: `late` started after the run stopped"
            );
        } else {
            // `late` fails with its dependency on w1 and runs on the others.
            assert!(!stdout.contains("fault_tolerance"), "{budget}: {stdout}");
            assert_eq!(late_started, 2, "budget {budget}");
        }
    }
}
