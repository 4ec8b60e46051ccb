//! `granule status`: what a run did, read from its journal.

use clap::{Args, ValueEnum};
use granule_executor::execute::log_path;
use granule_executor::journal::{self, Record, JOURNAL_FILE};
use granule_executor::State;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

/// Show the state of a run from its journal: how the last run ended, how
/// many tasks are in each state, and what failed with the path of its log.
///
/// Works on a running, finished, interrupted or crashed run alike.
///
/// Exit status: 0 when the journal was read, 2 when there is none.
///
/// Examples:
///   granule status                      # the run in .granule/run
///   granule status /var/lib/deploy/run --all
///   granule status --format json | jq '.tasks[] | select(.state == "failed")'
#[derive(Args)]
#[command(verbatim_doc_comment)]
pub struct StatusArgs {
    /// The state directory of the run.
    #[arg(value_name = "STATE_DIR", default_value = ".granule/run")]
    state_dir: PathBuf,

    /// List every task, not only those that did not succeed.
    #[arg(long)]
    all: bool,

    /// `text` for people; `json` (the run, its outcome, the count of each
    /// state and every task) for scripts.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
}

#[derive(Default, Clone)]
struct TaskStatus {
    state: Option<State>,
    attempts: u32,
    runs: u32,
    duration: Option<f64>,
    message: Option<String>,
    since: String,
}

pub fn run(args: StatusArgs) -> ExitCode {
    let path = args.state_dir.join(JOURNAL_FILE);
    let contents = match journal::read(&path) {
        Ok(contents) => contents,
        // The reader names the file and line of a damaged record itself.
        Err(err) if err.kind() == std::io::ErrorKind::InvalidData => {
            eprintln!("error: {err}\n  help: only the last line of a journal can be damaged by a crash; this one was changed by hand or by another program");
            return ExitCode::from(2);
        }
        Err(err) => {
            eprintln!(
                "error: {}: {err}\n  help: pass the --state-dir of a `granule run` (default .granule/run)",
                path.display()
            );
            return ExitCode::from(2);
        }
    };
    let mut tasks: BTreeMap<(String, String), TaskStatus> = BTreeMap::new();
    let mut run_started = String::new();
    for record in &contents.records {
        match record {
            Record::RunStarted { ts, .. } => run_started = ts.clone(),
            Record::State {
                ts,
                node,
                task,
                state,
                attempt,
                duration,
                message,
                ..
            } => {
                let status = tasks.entry((node.clone(), task.clone())).or_default();
                if *state == State::Running && attempt.unwrap_or(1) == 1 {
                    status.runs += 1;
                }
                status.state = Some(*state);
                status.attempts = status.attempts.max(attempt.unwrap_or(0));
                status.duration = *duration;
                status.message = message.clone();
                status.since = ts.clone();
            }
            Record::RunFinished { .. } => {}
        }
    }
    let last_run = contents.last_run();
    let outcome = contents.last_outcome();
    let cut_off = outcome.is_none();
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for status in tasks.values() {
        if let Some(state) = status.state {
            *counts.entry(state.name()).or_default() += 1;
        }
    }

    if args.format == Format::Json {
        let list: Vec<serde_json::Value> = tasks
            .iter()
            .map(|((node, task), status)| {
                serde_json::json!({
                    "node": node, "task": task,
                    "state": status.state.map(State::name),
                    "attempts": status.attempts, "runs": status.runs,
                    "duration": status.duration, "message": status.message, "since": status.since,
                    "log": log_path(&args.state_dir, node, task),
                })
            })
            .collect();
        outln!(
            "{}",
            serde_json::json!({
                "run": last_run,
                "started": run_started,
                "outcome": outcome.map(|o| o.name()),
                "cut_off": cut_off,
                "torn_tail": contents.torn_tail,
                "counts": counts,
                "tasks": list,
            })
        );
        return ExitCode::SUCCESS;
    }

    let mut out = String::new();
    let ending = match outcome {
        Some(outcome) => outcome.name().to_string(),
        None => "cut off (no end recorded: still running, killed or crashed)".to_string(),
    };
    out.push_str(&format!(
        "run {last_run} (started {run_started}): {ending}\n"
    ));
    if contents.torn_tail {
        out.push_str("note: the journal's last line was half-written (a crash); it is ignored\n");
    }
    let summary: Vec<String> = counts
        .iter()
        .map(|(state, count)| format!("{state} {count}"))
        .collect();
    out.push_str(&format!("{}\n", summary.join(", ")));
    for ((node, task), status) in &tasks {
        let state = status.state.unwrap_or(State::Waiting);
        if !args.all && state.is_done() {
            continue;
        }
        let mut line = format!("{:<20} {task} on {node}", state.name());
        if state == State::Running && cut_off {
            line.push_str(" (was running when the run was cut off)");
        }
        if status.attempts > 1 {
            line.push_str(&format!(", {} attempts", status.attempts));
        }
        if let Some(seconds) = status.duration {
            line.push_str(&format!(", {seconds:.2}s"));
        }
        if let Some(message) = &status.message {
            line.push_str(&format!(": {message}"));
        }
        out.push_str(&line);
        out.push('\n');
        if state.is_failure() && state != State::DependencyFailed {
            out.push_str(&format!(
                "  log: {}\n",
                log_path(&args.state_dir, node, task).display()
            ));
        }
    }
    out!("{out}");
    ExitCode::SUCCESS
}
