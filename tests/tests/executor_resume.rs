//! Stopping and resuming: a runner killed with SIGKILL at several points,
//! then `--resume`d, runs every task to success exactly once after its last
//! start, and never runs again what had succeeded. Ctrl-C (SIGINT) lets
//! running tasks finish, a second one kills them, `--stop-after` halts
//! cleanly.

use granule_tests::executor::{
    exit_code, fixture, granule, granule_in, intervals, journal, scratch, text,
};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn resume_args() -> Vec<String> {
    let tasks = fixture("resume").join("tasks.yaml");
    let nodes = fixture("resume").join("nodes.yaml");
    vec![
        "--state-dir".into(),
        "state".into(),
        "--tasks".into(),
        tasks.display().to_string(),
        "--inventory".into(),
        nodes.display().to_string(),
    ]
}

fn spawn(dir: &Path, args: &[String]) -> Child {
    Command::new(granule())
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("granule starts")
}

fn count_running(dir: &Path) -> usize {
    std::fs::read_to_string(dir.join("state/journal.jsonl"))
        .unwrap_or_default()
        .lines()
        .filter(|line| line.contains("\"state\":\"running\""))
        .count()
}

/// Waits until the journal records `starts` task starts in all, then sends `signal`.
fn signal_after(child: &mut Child, dir: &Path, starts: usize, signal: i32) -> bool {
    let deadline = Instant::now() + Duration::from_secs(60);
    while count_running(dir) < starts {
        if child.try_wait().expect("wait").is_some() {
            return false;
        }
        assert!(
            Instant::now() < deadline,
            "the run never reached {starts} starts"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    send(child, signal);
    true
}

use libc::{SIGINT, SIGKILL, SIGTERM};

fn send(child: &Child, signal: i32) {
    // SAFETY: kill(2) on a child this test spawned.
    unsafe {
        libc::kill(child.id() as i32, signal);
    }
}

/// Waits until no process works in `dir` any more (the steps of a killed
/// runner run there and take a few tens of milliseconds).
fn wait_for_commands_in(dir: &Path) {
    let deadline = Instant::now() + Duration::from_secs(30);
    let busy = || {
        std::fs::read_dir("/proc")
            .into_iter()
            .flatten()
            .flatten()
            .any(|entry| std::fs::read_link(entry.path().join("cwd")).is_ok_and(|cwd| cwd == dir))
    };
    while busy() {
        assert!(
            Instant::now() < deadline,
            "commands still run in {}",
            dir.display()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

type Key = (String, String);

/// The journal's account: every task's records in order.
fn history(records: &[Value]) -> BTreeMap<Key, Vec<String>> {
    let mut history: BTreeMap<Key, Vec<String>> = BTreeMap::new();
    for record in records.iter().filter(|r| r["event"] == "state") {
        history
            .entry((
                record["node"].as_str().unwrap().into(),
                record["task"].as_str().unwrap().into(),
            ))
            .or_default()
            .push(record["state"].as_str().unwrap().into());
    }
    history
}

fn assert_each_succeeded_once(dir: &Path) {
    let records = journal(&dir.join("state"));
    for (key, states) in history(&records) {
        assert_eq!(
            states.iter().filter(|s| *s == "succeeded").count(),
            1,
            "{key:?} succeeded other than once: {states:?}"
        );
        let success = states.iter().position(|s| s == "succeeded").unwrap();
        assert_eq!(
            success,
            states.len() - 1,
            "{key:?} changed state after it succeeded: {states:?}"
        );
    }
    // The tasks' own record: each one's last start was followed by its end.
    let events = std::fs::read_to_string(dir.join("work/events.log")).unwrap();
    let mut last_start: BTreeMap<String, usize> = BTreeMap::new();
    let mut last_done: BTreeMap<String, usize> = BTreeMap::new();
    for (number, line) in events.lines().enumerate() {
        let (kind, task) = line.split_once(' ').unwrap();
        match kind {
            "start" => last_start.insert(task.to_string(), number),
            "done" => last_done.insert(task.to_string(), number),
            _ => panic!("unexpected line {line:?}"),
        };
    }
    assert_eq!(last_start.len(), 26, "every step ran: {last_start:?}");
    for (task, start) in &last_start {
        assert!(
            last_done.get(task).is_some_and(|done| done > start),
            "{task}: last start without an end"
        );
    }
}

#[test]
fn sigkill_at_several_points_then_resume_runs_each_task_once_more_at_most() {
    let dir = scratch("resume_after_sigkill");
    let mut run: Vec<String> = vec!["run".into()];
    run.extend(resume_args());
    let mut resume = run.clone();
    resume.push("--resume".into());

    let mut kills = 0;
    let mut succeeded_before: BTreeSet<Key> = BTreeSet::new();
    for (round, starts) in [3usize, 11, 19].into_iter().enumerate() {
        let mut child = spawn(&dir, if round == 0 { &run } else { &resume });
        if signal_after(&mut child, &dir, starts, SIGKILL) {
            kills += 1;
        }
        let _ = child.wait();
        // Commands of a killed runner may still be finishing: let them end.
        wait_for_commands_in(&dir);
        let records = journal(&dir.join("state"));
        // Nothing that had succeeded in an earlier run ran again.
        let runs_now: BTreeSet<Key> = records
            .iter()
            .filter(|r| r["state"] == "running")
            .map(|r| {
                (
                    r["node"].as_str().unwrap().into(),
                    r["task"].as_str().unwrap().into(),
                )
            })
            .collect();
        let history = history(&records);
        for key in &succeeded_before {
            let states = &history[key];
            let after = states
                .iter()
                .skip_while(|s| *s != "succeeded")
                .skip(1)
                .count();
            assert_eq!(after, 0, "{key:?} ran again after it succeeded: {states:?}");
        }
        succeeded_before = history
            .iter()
            .filter(|(_, states)| states.iter().any(|s| s == "succeeded"))
            .map(|(key, _)| key.clone())
            .collect();
        assert!(!runs_now.is_empty());
    }
    assert!(kills >= 2, "the runs ended before they could be killed");
    let output = granule_in(&dir, &resume.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(exit_code(&output), 0, "{}", text(&output.stderr));
    let records = journal(&dir.join("state"));
    let spans = intervals(&records);
    assert_eq!(spans.len(), 32, "every planned task is in the journal");
    assert!(spans.values().all(|s| s.state == "succeeded"), "{spans:?}");
    assert_each_succeeded_once(&dir);
    let runs = records
        .iter()
        .filter(|r| r["event"] == "run-started")
        .count();
    assert_eq!(runs, 4);

    // A finished run's state directory: a plain new run starts over; status reads it.
    let status = granule_in(&dir, &["status", "state"]);
    assert_eq!(exit_code(&status), 0);
    assert!(
        text(&status.stdout).contains("succeeded"),
        "{}",
        text(&status.stdout)
    );
}

#[test]
fn a_fresh_run_refuses_to_overwrite_an_unfinished_one() {
    let dir = scratch("resume_refuses_fresh");
    let mut run: Vec<String> = vec!["run".into()];
    run.extend(resume_args());
    let mut child = spawn(&dir, &run);
    assert!(signal_after(&mut child, &dir, 2, SIGKILL));
    let _ = child.wait();
    wait_for_commands_in(&dir);
    let again = granule_in(&dir, &run.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(exit_code(&again), 2);
    let message = text(&again.stderr);
    assert!(
        message.contains("--resume") && message.contains("--restart"),
        "{message}"
    );
    // `granule run --resume` alone finds the tasks and nodes of the run it continues.
    let resumed = granule_in(&dir, &["run", "--resume", "--state-dir", "state"]);
    assert_eq!(exit_code(&resumed), 0, "{}", text(&resumed.stderr));
    assert_each_succeeded_once(&dir);
}

#[test]
fn first_interrupt_lets_running_tasks_finish_and_resume_completes() {
    stop_by_signal_then_resume("resume_after_sigint", SIGINT);
}

#[test]
fn sigterm_stops_like_an_interrupt() {
    stop_by_signal_then_resume("resume_after_sigterm", SIGTERM);
}

fn stop_by_signal_then_resume(test: &str, signal: i32) {
    let dir = scratch(test);
    let mut run: Vec<String> = vec!["run".into()];
    run.extend(resume_args());
    let mut child = spawn(&dir, &run);
    assert!(signal_after(&mut child, &dir, 5, signal));
    let status = child.wait().unwrap();
    assert_eq!(
        status.code(),
        Some(130),
        "an interrupted run exits with 130"
    );
    let records = journal(&dir.join("state"));
    let finished = records
        .iter()
        .rev()
        .find(|r| r["event"] == "run-finished")
        .expect("the end is journaled");
    assert_eq!(finished["outcome"], "interrupted");
    let spans = intervals(&records);
    // Every task that had started was let finish, successfully.
    for (key, span) in &spans {
        if span.start.is_some() {
            assert_eq!(
                span.state, "succeeded",
                "{key:?} was not let finish: {span:?}"
            );
        }
    }
    assert!(
        spans.values().filter(|s| s.start.is_some()).count() < 26,
        "the interrupt stopped nothing"
    );

    let mut resume = run.clone();
    resume.push("--resume".into());
    let output = granule_in(&dir, &resume.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(exit_code(&output), 0, "{}", text(&output.stderr));
    assert!(
        text(&output.stderr).contains("already done"),
        "{}",
        text(&output.stderr)
    );
    assert_each_succeeded_once(&dir);
}

#[test]
fn second_interrupt_kills_running_tasks() {
    let dir = scratch("second_interrupt");
    std::fs::write(
        dir.join("tasks.yaml"),
        "- id: long\n  type: shell\n  version: 2.0.0\n  roles: '*'\n  parameters:\n    cmd: echo started && sleep 60\n",
    )
    .unwrap();
    let args: Vec<String> = [
        "run",
        "--tasks",
        "tasks.yaml",
        "--role",
        "any",
        "--state-dir",
        "state",
    ]
    .map(String::from)
    .to_vec();
    let mut child = Command::new(granule())
        .args(&args)
        .current_dir(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("granule starts");
    let (lines, heard) = std::sync::mpsc::channel();
    let stderr = BufReader::new(child.stderr.take().unwrap());
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });
    assert!(signal_after(&mut child, &dir, 1, SIGINT));
    // Two signals that arrive before the first is handled count as one:
    // wait until granule says it is stopping.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let line = heard
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("granule announces that it is stopping");
        if line.contains("stopping: interrupted") {
            break;
        }
    }
    assert!(
        child.try_wait().unwrap().is_none(),
        "the first interrupt must not end a running task"
    );
    let log = std::fs::read_to_string(dir.join("state/logs/local/long.log")).unwrap_or_default();
    assert!(!log.contains("attempt 1:"), "the task ended early: {log}");
    send(&child, SIGINT);
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    let spans = intervals(&journal(&dir.join("state")));
    let long = &spans[&("local".to_string(), "long".to_string())];
    assert_eq!(long.state, "failed");
    assert!(
        long.message.as_deref().unwrap_or("").contains("killed"),
        "{long:?}"
    );
    assert!(
        long.duration.unwrap() < 59.0,
        "the task was killed, not waited for"
    );
}

#[test]
fn stop_after_halts_cleanly_and_resume_goes_on() {
    let dir = scratch("stop_after");
    let mut run: Vec<String> = vec!["run".into(), "--stop-after".into(), "step3".into()];
    run.extend(resume_args());
    let output = granule_in(&dir, &run.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(exit_code(&output), 3, "{}", text(&output.stderr));
    let spans = intervals(&journal(&dir.join("state")));
    for node in ["db-1", "worker-1", "worker-2"] {
        assert_eq!(
            spans[&(node.to_string(), "step3".to_string())].state,
            "succeeded"
        );
        let step4 = spans.get(&(node.to_string(), "step4".to_string()));
        assert!(
            step4.is_none_or(|s| s.start.is_none()),
            "step4 started on {node} after --stop-after step3"
        );
    }
    let output = granule_in(&dir, &["run", "--resume", "--state-dir", "state"]);
    assert_eq!(exit_code(&output), 0, "{}", text(&output.stderr));
    assert_each_succeeded_once(&dir);
}

/// Task files moved between a run and its resume (a split's OUT copied
/// elsewhere): `--resume` alone names what is gone and how to give it;
/// given their new place, it goes on from the journal, which names tasks.
#[test]
fn resume_after_the_task_files_moved() {
    let dir = scratch("resume_moved");
    let before = dir.join("before");
    std::fs::create_dir_all(&before).unwrap();
    for file in ["tasks.yaml", "nodes.yaml"] {
        std::fs::copy(fixture("resume").join(file), before.join(file)).unwrap();
    }
    let output = granule_in(
        &dir,
        &[
            "run",
            "--stop-after",
            "step3",
            "--state-dir",
            "state",
            "--tasks",
            "before/tasks.yaml",
            "--inventory",
            "before/nodes.yaml",
        ],
    );
    assert_eq!(exit_code(&output), 3, "{}", text(&output.stderr));
    std::fs::rename(&before, dir.join("after")).unwrap();

    let output = granule_in(&dir, &["run", "--resume", "--state-dir", "state"]);
    assert_eq!(exit_code(&output), 2, "{}", text(&output.stderr));
    let stderr = text(&output.stderr);
    for expected in [
        "before/tasks.yaml: no such file or directory; the run being resumed read it as --tasks",
        "before/nodes.yaml: no such file or directory; the run being resumed read it as --inventory",
        "help: if the files moved, give their new place: `granule run --resume --tasks NEW --inventory NEW`",
    ] {
        assert!(stderr.contains(expected), "{expected:?} not in {stderr}");
    }

    let output = granule_in(
        &dir,
        &[
            "run",
            "--resume",
            "--state-dir",
            "state",
            "--tasks",
            "after/tasks.yaml",
            "--inventory",
            "after/nodes.yaml",
        ],
    );
    assert_eq!(exit_code(&output), 0, "{}", text(&output.stderr));
    // What succeeded before the move is not run again.
    assert_each_succeeded_once(&dir);
}

#[test]
fn resume_refuses_while_a_killed_runners_command_still_runs() {
    let dir = scratch("resume_leftover");
    std::fs::write(
        dir.join("tasks.yaml"),
        "- id: long\n  type: shell\n  version: 2.0.0\n  roles: '*'\n  parameters:\n    cmd: echo started && sleep 30 && touch finished\n",
    )
    .unwrap();
    let args: Vec<String> = [
        "run",
        "--tasks",
        "tasks.yaml",
        "--role",
        "any",
        "--state-dir",
        "state",
    ]
    .map(String::from)
    .to_vec();
    let mut child = spawn(&dir, &args);
    let log = dir.join("state/logs/local/long.log");
    let deadline = Instant::now() + Duration::from_secs(30);
    // The command's own output, not the log line naming the command (which
    // says "started" too, before the command exists).
    while !std::fs::read_to_string(&log)
        .unwrap_or_default()
        .contains("out| started")
    {
        assert!(Instant::now() < deadline, "the command never started");
        std::thread::sleep(Duration::from_millis(10));
    }
    send(&child, SIGKILL);
    let _ = child.wait();

    let refused = granule_in(&dir, &["run", "--resume", "--state-dir", "state"]);
    assert_eq!(exit_code(&refused), 2);
    let stderr = text(&refused.stderr);
    assert!(
        stderr.contains("commands of the run that was cut off still run")
            && stderr.contains("long on local: process group")
            && stderr.contains("sleep 30"),
        "{stderr}"
    );
    // Starting over is refused as well: the old command would run beside the new.
    let mut restart = args.clone();
    restart.push("--restart".into());
    let refused = granule_in(
        &dir,
        &restart.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    assert_eq!(exit_code(&refused), 2);
    assert!(
        text(&refused.stderr).contains("still run"),
        "{}",
        text(&refused.stderr)
    );
    assert!(
        dir.join("state/journal.jsonl").exists(),
        "--restart discarded the journal"
    );
    // Stop the leftover as the message says, then resume.
    let group: i32 = stderr
        .split("process group ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|group| group.parse().ok())
        .expect("the message names the process group");
    // SAFETY: kill(2) on the process group the message named, started by this test's run.
    unsafe {
        libc::kill(-group, SIGKILL);
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    // SAFETY: signal 0 only asks whether the group exists.
    while unsafe { libc::kill(-group, 0) } == 0 {
        assert!(Instant::now() < deadline, "the leftover did not die");
        std::thread::sleep(Duration::from_millis(10));
    }
    std::fs::write(
        dir.join("tasks.yaml"),
        "- id: long\n  type: shell\n  version: 2.0.0\n  roles: '*'\n  parameters:\n    cmd: touch finished\n",
    )
    .unwrap();
    let resumed = granule_in(&dir, &["run", "--resume", "--state-dir", "state"]);
    assert_eq!(exit_code(&resumed), 0, "{}", text(&resumed.stderr));
    assert!(dir.join("finished").exists());
}
