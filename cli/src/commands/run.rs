//! `granule run`: run a task graph on one node or many.

use super::executor_support::{load_plan, print_diagnostics, PlanSource};
use clap::{Args, ValueEnum};
use granule_executor::ansible::{self, AnsibleConfig};
use granule_executor::execute::{self, Event, ExecError, RunConfig, Summary};
use granule_executor::journal::{Record, RunOutcome};
use granule_executor::plan::{Disposition, Plan};
use granule_executor::runner::RunnerOptions;
use granule_executor::{Observer, State};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

/// Run tasks (Fuel `tasks.yaml`, versions 1 and 2.x) in dependency order.
///
/// Each node runs one task at a time; different nodes run in parallel up to
/// -j and each task's `strategy`. A failed task stops only what depends on
/// it (everything with --fail-fast). Every state change is journaled in the
/// state directory (fsync'd), beside one log per task, so a run stopped by
/// Ctrl-C, kill -9 or a power cut continues with --resume and re-runs only
/// what had not succeeded. The first Ctrl-C (or SIGTERM) lets running tasks
/// finish and starts no new one; a second kills them.
///
/// Exit status: 0 all tasks succeeded or were skipped, 1 a task failed,
/// 2 invalid descriptors, inventory or options, 3 stopped by --stop-after,
/// 130 interrupted.
///
/// Examples:
///   granule run --tasks deployment/ --role controller          # this machine as a controller
///   granule run --tasks tasks.yaml --inventory nodes.yaml -j 32
///   granule run --tasks tasks.yaml --role compute --dry-run    # waves, nodes, critical path
///   granule run --tasks tasks.yaml --role compute --only netconfig --with-deps
///   granule run --tasks tasks.yaml --inventory nodes.yaml --stop-after database
///   granule run --resume                                       # continue the last run
///   granule run --tasks fuel/ --role controller --data astute.yaml --dry-run
///       # conditions decided on the node's data (Fuel's astute.yaml)
///   granule run --tasks fuel/ --inventory nodes.yaml --data ctl-1=new.yaml \
///       --previous-data ctl-1=old.yaml   # re-deployment: only what changed
#[derive(Args)]
#[command(verbatim_doc_comment)]
pub struct RunArgs {
    #[command(flatten)]
    source: PlanSource,

    /// Where the journal and task logs go.
    #[arg(long, value_name = "DIR", default_value = ".granule/run")]
    state_dir: PathBuf,

    /// Continue the last run in the state directory: tasks that succeeded are
    /// not run again. Options not given are taken from that run.
    #[arg(long, conflicts_with = "restart")]
    resume: bool,

    /// Discard the state directory's unfinished run and start over.
    #[arg(long)]
    restart: bool,

    /// How many tasks run at once, over all nodes.
    #[arg(short = 'j', long = "jobs", value_name = "N", default_value_t = 16)]
    jobs: usize,

    /// Print the plan (waves, nodes, critical path) and run nothing. With
    /// --engine ansible, then run the playbook in Ansible's check mode
    /// (puppet with --noop, file steps report changes, shell steps do not
    /// run), journaled in STATE_DIR/check.
    #[arg(long)]
    dry_run: bool,

    /// Stop starting tasks after the first failure.
    #[arg(long)]
    fail_fast: bool,

    /// Stop cleanly once TASK is done on every node (snapshot, then --resume).
    #[arg(long, value_name = "TASK")]
    stop_after: Option<String>,

    /// Run puppet tasks with `puppet apply --noop`.
    #[arg(long)]
    noop: bool,

    /// Let `reboot` tasks reboot the machine granule runs on.
    #[arg(long)]
    allow_local_reboot: bool,

    /// An extra argument for every `puppet apply`, e.g.
    /// --puppet-arg=--hiera_config=/etc/puppet/hiera.yaml. Repeatable.
    #[arg(long = "puppet-arg", value_name = "ARG", allow_hyphen_values = true)]
    puppet_args: Vec<String>,

    /// Text for people, or one JSON event per line for scripts.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,

    /// Who runs the tasks: granule itself, or Ansible (`ansible-playbook`
    /// on an export of the same plan, see `granule export ansible`; the
    /// journal, --resume, --fail-fast, --stop-after, selection and progress
    /// work the same).
    /// --resume keeps the engine of the run it continues.
    #[arg(long, value_enum)]
    engine: Option<Engine>,

    /// The `ansible-playbook` program for --engine ansible.
    #[arg(long, value_name = "PATH", default_value = "ansible-playbook")]
    ansible_playbook: PathBuf,

    /// Print every state change, not only failures and the summary.
    #[arg(short, long)]
    verbose: bool,
}

#[derive(Clone, Copy, Default, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum Engine {
    /// granule's own runner: local commands and the system ssh client.
    #[default]
    Builtin,
    /// ansible-playbook (ansible-core 2.14 or later).
    Ansible,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
enum Format {
    Text,
    Json,
}

/// What `--resume` needs to rebuild the same plan.
#[derive(Serialize, Deserialize, Default)]
struct SavedRun {
    tasks: Vec<PathBuf>,
    inventory: Option<PathBuf>,
    roles: Vec<String>,
    settings: Option<PathBuf>,
    #[serde(default)]
    data: Vec<String>,
    #[serde(default)]
    previous_data: Vec<String>,
    only: Vec<String>,
    skip: Vec<String>,
    start: Option<String>,
    end: Option<String>,
    with_deps: bool,
    nodes: Vec<String>,
    noop: bool,
    #[serde(default)]
    puppet_args: Vec<String>,
    #[serde(default)]
    engine: Engine,
}

const SAVED_RUN: &str = "run.json";

/// A `--data [NODE=]FILE` with its file made absolute, for `--resume` from elsewhere.
fn absolute_data(spec: &str) -> String {
    let (node, file) = match spec.split_once('=') {
        Some((node, file)) if !Path::new(spec).exists() => (Some(node), file),
        _ => (None, spec),
    };
    let file = std::path::absolute(file).unwrap_or_else(|_| PathBuf::from(file));
    match node {
        Some(node) => format!("{node}={}", file.display()),
        None => file.display().to_string(),
    }
}

impl SavedRun {
    fn of(source: &PlanSource, noop: bool, puppet_args: &[String], engine: Engine) -> SavedRun {
        let absolute = |path: &PathBuf| std::path::absolute(path).unwrap_or_else(|_| path.clone());
        SavedRun {
            tasks: source.tasks.iter().map(absolute).collect(),
            inventory: source.inventory.as_ref().map(absolute),
            roles: source.roles.clone(),
            settings: source.settings.as_ref().map(absolute),
            data: source.data.iter().map(|spec| absolute_data(spec)).collect(),
            previous_data: source
                .previous_data
                .iter()
                .map(|spec| absolute_data(spec))
                .collect(),
            only: source.only.clone(),
            skip: source.skip.clone(),
            start: source.start.clone(),
            end: source.end.clone(),
            with_deps: source.with_deps,
            nodes: source.nodes.clone(),
            noop,
            puppet_args: puppet_args.to_vec(),
            engine,
        }
    }

    /// Fills what the command line left out from the saved run; returns
    /// the files it took from there that are no longer where the run
    /// found them, each with the option that gives it.
    fn complete(self, args: &mut RunArgs) -> Vec<(&'static str, PathBuf)> {
        let mut gone = Vec::new();
        let mut taken = |option: &'static str, path: &PathBuf| {
            if !path.exists() {
                gone.push((option, path.clone()));
            }
        };
        let (source, noop) = (&mut args.source, &mut args.noop);
        if source.tasks.is_empty() {
            self.tasks.iter().for_each(|path| taken("--tasks", path));
            source.tasks = self.tasks;
        }
        if source.inventory.is_none() && source.roles.is_empty() {
            self.inventory
                .iter()
                .for_each(|path| taken("--inventory", path));
            source.inventory = self.inventory;
            source.roles = self.roles;
        }
        if source.settings.is_none() {
            self.settings
                .iter()
                .for_each(|path| taken("--settings", path));
            source.settings = self.settings;
        }
        if source.data.is_empty() {
            source.data = self.data;
        }
        if source.previous_data.is_empty() {
            source.previous_data = self.previous_data;
        }
        let selects = !source.only.is_empty()
            || !source.skip.is_empty()
            || source.start.is_some()
            || source.end.is_some()
            || !source.nodes.is_empty();
        if !selects {
            source.only = self.only;
            source.skip = self.skip;
            source.start = self.start;
            source.end = self.end;
            source.with_deps |= self.with_deps;
            source.nodes = self.nodes;
        }
        *noop |= self.noop;
        if args.puppet_args.is_empty() {
            args.puppet_args = self.puppet_args;
        }
        args.engine = args.engine.or(Some(self.engine));
        gone
    }
}

pub fn run(mut args: RunArgs) -> ExitCode {
    if args.resume {
        let saved_path = args.state_dir.join(SAVED_RUN);
        match std::fs::read_to_string(&saved_path) {
            Ok(text) => match serde_json::from_str::<SavedRun>(&text) {
                Ok(saved) => {
                    let gone = saved.complete(&mut args);
                    if !gone.is_empty() {
                        for (option, path) in &gone {
                            eprintln!(
                                "error: {}: no such file or directory; the run being resumed read it as {option} ({})",
                                path.display(),
                                saved_path.display()
                            );
                        }
                        let mut options: Vec<&str> =
                            gone.iter().map(|(option, _)| *option).collect();
                        options.dedup();
                        eprintln!(
                            "  help: if the files moved, give their new place: `granule run --resume {}`; what had succeeded is kept (the journal names tasks, not files)",
                            options
                                .iter()
                                .map(|option| format!("{option} NEW"))
                                .collect::<Vec<_>>()
                                .join(" ")
                        );
                        return ExitCode::from(2);
                    }
                }
                Err(err) => {
                    eprintln!("error: {}: {err}", saved_path.display());
                    return ExitCode::from(2);
                }
            },
            Err(_) if !args.source.tasks.is_empty() => {}
            Err(_) => {
                eprintln!(
                    "error: nothing to resume in {}: no run was started there\n  help: start one with `granule run --tasks PATH --role ROLE`",
                    args.state_dir.display()
                );
                return ExitCode::from(2);
            }
        }
    }
    if args.source.tasks.is_empty() {
        eprintln!("error: no task descriptors given\n  help: pass --tasks PATH (a tasks.yaml or a directory of them)");
        return ExitCode::from(2);
    }
    let plan = match load_plan(&args.source) {
        Ok(plan) => plan,
        Err(diagnostics) => {
            print_diagnostics(&diagnostics);
            return ExitCode::from(2);
        }
    };
    for warning in &plan.warnings {
        eprintln!("{}", warning.to_string().replacen("error:", "warning:", 1));
    }
    let engine = args.engine.unwrap_or_default();
    if args.dry_run {
        let printed = print_plan(&plan, args.format);
        if engine == Engine::Builtin {
            return printed;
        }
        return check_with_ansible(&plan, &args);
    }

    let saved = SavedRun::of(&args.source, args.noop, &args.puppet_args, engine);
    let written = std::fs::create_dir_all(&args.state_dir).and_then(|()| {
        std::fs::write(
            args.state_dir.join(SAVED_RUN),
            serde_json::to_string_pretty(&saved).unwrap_or_default(),
        )
    });
    if let Err(err) = written {
        eprintln!("{}", unwritable_state_dir(&args.state_dir, &err));
        return ExitCode::from(2);
    }

    let config = RunConfig {
        state_dir: args.state_dir.clone(),
        max_parallel: args.jobs.max(1),
        fail_fast: args.fail_fast,
        stop_after: args.stop_after.clone(),
        resume: args.resume,
        restart: args.restart,
        runner: RunnerOptions {
            noop: args.noop,
            allow_local_reboot: args.allow_local_reboot,
            puppet_args: args.puppet_args.clone(),
        },
        handle_signals: true,
    };
    // indicatif's own test: a terminal, and TERM neither unset nor `dumb`
    // (where it would draw nothing and swallow the lines printed above it).
    let live =
        args.format == Format::Text && !args.verbose && !ProgressDrawTarget::stderr().is_hidden();
    let mut display = Display::new(&plan, args.format, args.verbose, live);
    let executed = match engine {
        Engine::Builtin => execute::execute(&plan, &config, &mut display),
        Engine::Ansible => ansible::execute(
            &plan,
            &config,
            &AnsibleConfig {
                program: args.ansible_playbook.clone(),
                check: false,
            },
            &mut display,
        ),
    };
    let summary = match executed {
        Ok(summary) => summary,
        Err(ExecError::Usage(message)) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::from(2);
        }
    };
    display.finish();
    report(&plan, &summary, &args.state_dir, args.format);
    ExitCode::from(match summary.outcome {
        RunOutcome::Succeeded => 0,
        RunOutcome::Failed => 1,
        RunOutcome::Stopped => 3,
        RunOutcome::Interrupted => 130,
    })
}

/// `--dry-run --engine ansible`: after the plan, the playbook in Ansible's
/// check mode, journaled in STATE_DIR/check (replaced each time), never in
/// the run's own journal.
fn check_with_ansible(plan: &Plan, args: &RunArgs) -> ExitCode {
    let state_dir = args.state_dir.join("check");
    let config = RunConfig {
        state_dir: state_dir.clone(),
        max_parallel: args.jobs.max(1),
        fail_fast: false,
        stop_after: None,
        resume: false,
        restart: true,
        runner: RunnerOptions {
            noop: args.noop,
            allow_local_reboot: args.allow_local_reboot,
            puppet_args: args.puppet_args.clone(),
        },
        handle_signals: true,
    };
    let mut display = Display::new(plan, args.format, args.verbose, false);
    let checked = ansible::execute(
        plan,
        &config,
        &AnsibleConfig {
            program: args.ansible_playbook.clone(),
            check: true,
        },
        &mut display,
    );
    match checked {
        Ok(summary) => {
            report(plan, &summary, &state_dir, args.format);
            ExitCode::from(match summary.outcome {
                RunOutcome::Succeeded => 0,
                RunOutcome::Interrupted => 130,
                _ => 1,
            })
        }
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::from(2)
        }
    }
}

/// Renders the run as it goes: a live view on a terminal, plain lines
/// otherwise, or JSON events.
struct Display {
    format: Format,
    verbose: bool,
    live: Option<LiveView>,
}

struct LiveView {
    _bars: MultiProgress,
    total: ProgressBar,
    nodes: HashMap<String, ProgressBar>,
}

/// More nodes than this share the overall bar only.
const MAX_NODE_LINES: usize = 24;

impl Display {
    fn new(plan: &Plan, format: Format, verbose: bool, live: bool) -> Display {
        let live = live.then(|| {
            let bars = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
            let style = ProgressStyle::with_template(
                "{prefix:>16} {pos:>4}/{len:<4} [{elapsed_precise}] {wide_msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar());
            let total = bars.add(ProgressBar::new(plan.instances.len() as u64));
            total.set_style(style.clone());
            total.set_prefix("all nodes");
            total.enable_steady_tick(Duration::from_millis(200));
            let mut nodes = HashMap::new();
            if plan.nodes.len() <= MAX_NODE_LINES {
                for (n, node) in plan.nodes.iter().enumerate() {
                    let count = plan.instances.iter().filter(|i| i.node == n).count();
                    let bar = bars.add(ProgressBar::new(count as u64));
                    bar.set_style(style.clone());
                    bar.set_prefix(node.name.clone());
                    bar.enable_steady_tick(Duration::from_millis(200));
                    nodes.insert(node.name.clone(), bar);
                }
            }
            LiveView {
                _bars: bars,
                total,
                nodes,
            }
        });
        Display {
            format,
            verbose,
            live,
        }
    }

    fn finish(&mut self) {
        if let Some(live) = self.live.take() {
            for bar in live.nodes.values() {
                bar.finish();
            }
            live.total.finish();
        }
    }
}

impl Observer for Display {
    fn event(&mut self, plan: &Plan, event: Event<'_>) {
        match event {
            Event::Started { already_done } => {
                if self.format == Format::Text && already_done > 0 {
                    eprintln!(
                        "resuming: {already_done} of {} tasks already done",
                        plan.instances.len()
                    );
                }
                if let Some(live) = &self.live {
                    live.total.inc(already_done as u64);
                }
            }
            Event::Stopping { reason } => match self.format {
                Format::Json => outln!(
                    "{}",
                    serde_json::json!({"event": "stopping", "reason": reason})
                ),
                Format::Text => match &self.live {
                    Some(live) => live.total.println(format!("stopping: {reason}")),
                    None => eprintln!("stopping: {reason}"),
                },
            },
            Event::Record(record) => {
                if self.format == Format::Json {
                    if let Ok(line) = serde_json::to_string(record) {
                        let mut out = std::io::stdout().lock();
                        let _ = writeln!(out, "{line}");
                        let _ = out.flush();
                    }
                    return;
                }
                let Record::State {
                    node,
                    task,
                    state,
                    attempt,
                    duration,
                    message,
                    ..
                } = record
                else {
                    return;
                };
                if let Some(live) = &self.live {
                    let bar = live.nodes.get(node);
                    match state {
                        State::Running => {
                            if let Some(bar) = bar {
                                bar.set_message(task.clone());
                            }
                        }
                        State::Pending | State::Waiting => {}
                        _ => {
                            live.total.inc(1);
                            if let Some(bar) = bar {
                                bar.inc(1);
                                bar.set_message(String::new());
                            }
                            if state.is_failure() && *state != State::DependencyFailed {
                                live.total.println(line(
                                    node, task, *state, *attempt, *duration, message,
                                ));
                            }
                        }
                    }
                    return;
                }
                let important = state.is_failure() && *state != State::DependencyFailed;
                let shown = match state {
                    State::Pending | State::Waiting => false,
                    _ => self.verbose || important,
                };
                if shown {
                    eprintln!("{}", line(node, task, *state, *attempt, *duration, message));
                }
            }
        }
    }
}

fn line(
    node: &str,
    task: &str,
    state: State,
    attempt: Option<u32>,
    duration: Option<f64>,
    message: &Option<String>,
) -> String {
    let mut text = format!("[{node}] {task}: {state}");
    if state == State::Running && attempt.is_some_and(|a| a > 1) {
        text.push_str(&format!(" (attempt {})", attempt.unwrap_or(1)));
    }
    if let Some(seconds) = duration {
        text.push_str(&format!(" in {seconds:.2}s"));
    }
    if let Some(message) = message {
        text.push_str(&format!(": {message}"));
    }
    text
}

/// Why the state directory cannot be written, naming the directory at
/// fault (the deepest one that exists: the one a new directory would go
/// in), and what to do. The system's own words ("No such file or
/// directory" for a directory that cannot be created) mislead.
fn unwritable_state_dir(state_dir: &Path, err: &std::io::Error) -> String {
    use std::io::ErrorKind;
    let existing = state_dir
        .ancestors()
        .skip(1)
        .find(|dir| dir.as_os_str().is_empty() || dir.exists())
        .map(|dir| {
            if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            }
        });
    let existing = match existing {
        Some(dir) if !state_dir.exists() => dir,
        _ => state_dir,
    };
    let shown = existing.display();
    let why = match err.kind() {
        ErrorKind::ReadOnlyFilesystem => format!("{shown} is on a read-only file system"),
        ErrorKind::PermissionDenied => {
            format!("permission denied: this user may not write in {shown}")
        }
        ErrorKind::NotADirectory => format!("{shown} is a file, not a directory"),
        ErrorKind::NotFound => format!("no directory can be created in {shown} ({err})"),
        _ => format!("{shown}: {err}"),
    };
    format!(
        "error: cannot write the state directory {}: {why}\n  help: the journal and the task logs go there; give a --state-dir this user can write (default: .granule/run)",
        state_dir.display()
    )
}

/// The final summary: a table per node, then what failed and where its log is.
fn report(plan: &Plan, summary: &Summary, state_dir: &Path, format: Format) {
    if format == Format::Json {
        let mut counts = BTreeMap::new();
        for state in State::ALL {
            counts.insert(state.name(), summary.count(state));
        }
        outln!(
            "{}",
            serde_json::json!({
                "event": "summary",
                "outcome": summary.outcome.name(),
                "counts": counts,
                "already_done": summary.already_done,
                "elapsed": summary.elapsed,
                "journal": summary.journal,
            })
        );
        return;
    }
    let columns = [
        State::Succeeded,
        State::Skipped,
        State::Failed,
        State::FailedPrecondition,
        State::DependencyFailed,
    ];
    let mut out = String::new();
    let width = plan
        .nodes
        .iter()
        .map(|node| node.name.len())
        .max()
        .unwrap_or(4)
        .max(4);
    out.push_str(&format!("{:width$}", "node"));
    for state in columns {
        out.push_str(&format!("  {}", state.name()));
    }
    out.push_str("  not-run\n");
    for (n, node) in plan.nodes.iter().enumerate() {
        let mut counts = [0usize; 5];
        let mut not_run = 0;
        for (id, instance) in plan
            .instances
            .iter()
            .enumerate()
            .filter(|(_, i)| i.node == n)
        {
            if instance.disposition == Disposition::SyncPoint {
                continue;
            }
            let state = summary.results[id].state;
            match columns.iter().position(|&c| c == state) {
                Some(column) => counts[column] += 1,
                None => not_run += 1,
            }
        }
        out.push_str(&format!("{:width$}", node.name));
        for (column, state) in columns.iter().enumerate() {
            out.push_str(&format!("  {:>w$}", counts[column], w = state.name().len()));
        }
        out.push_str(&format!("  {not_run:>7}\n"));
    }
    for (id, result) in summary.results.iter().enumerate() {
        if matches!(result.state, State::Failed | State::FailedPrecondition) {
            let (node, task) = (plan.node_name(id as u32), plan.task_id(id as u32));
            out.push_str(&format!(
                "{} {task} on {node}: {}\n  log: {}\n",
                result.state,
                result.message.as_deref().unwrap_or("failed"),
                execute::log_path(state_dir, node, task).display()
            ));
        }
    }
    let ran = plan
        .instances
        .iter()
        .filter(|instance| instance.disposition != Disposition::SyncPoint)
        .count();
    out.push_str(&format!(
        "run {}: {ran} tasks on {} nodes in {:.1}s",
        summary.outcome.name(),
        plan.nodes.len(),
        summary.elapsed
    ));
    match summary.outcome {
        RunOutcome::Interrupted | RunOutcome::Stopped => {
            out.push_str("; continue with `granule run --resume`")
        }
        RunOutcome::Failed => out.push_str("; fix and re-run the rest with `granule run --resume`"),
        RunOutcome::Succeeded => {}
    }
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{out}");
}

/// `--dry-run`: waves, nodes and the critical path.
fn print_plan(plan: &Plan, format: Format) -> ExitCode {
    let waves = plan.waves();
    let critical = plan.critical_path();
    let name = |id: u32| format!("{}@{}", plan.task_id(id), plan.node_name(id));
    if format == Format::Json {
        let wave_list: Vec<Vec<serde_json::Value>> = waves
            .iter()
            .map(|wave| {
                wave.iter()
                    .map(|&id| serde_json::json!({"node": plan.node_name(id), "task": plan.task_id(id), "action": disposition_name(&plan.instances[id as usize].disposition)}))
                    .collect()
            })
            .collect();
        let nodes: Vec<serde_json::Value> = plan
            .nodes
            .iter()
            .map(|node| serde_json::json!({"name": node.name, "roles": node.roles}))
            .collect();
        let critical: Vec<serde_json::Value> = critical
            .iter()
            .map(|&id| serde_json::json!({"node": plan.node_name(id), "task": plan.task_id(id)}))
            .collect();
        let instances: Vec<serde_json::Value> = (0..plan.instances.len() as u32)
            .map(|id| {
                let instance = &plan.instances[id as usize];
                let mut entry = serde_json::json!({"node": plan.node_name(id), "task": plan.task_id(id), "action": disposition_name(&instance.disposition)});
                if let Disposition::Skip(reason) = &instance.disposition {
                    entry["reason"] = reason.as_str().into();
                }
                if let Some(reason) = &instance.undecided {
                    entry["undecided"] = reason.as_str().into();
                }
                let task = &plan.catalog.tasks[instance.task];
                if !task.refresh_on.is_empty() {
                    entry["refresh_on"] = task.refresh_on.clone().into();
                }
                if !task.reexecute_on.is_empty() {
                    entry["reexecute_on"] = task.reexecute_on.clone().into();
                }
                entry
            })
            .collect();
        let edges: Vec<[u32; 2]> = plan
            .successors
            .iter()
            .enumerate()
            .flat_map(|(from, list)| list.iter().map(move |&to| [from as u32, to]))
            .collect();
        let tolerances: Vec<serde_json::Value> = plan
            .tolerances
            .iter()
            .map(|tolerance| {
                serde_json::json!({
                    "group": plan.catalog.tasks[tolerance.group].id,
                    "nodes": tolerance.nodes.iter().map(|&n| plan.nodes[n].name.as_str()).collect::<Vec<_>>(),
                    "failures_allowed": tolerance.allowed,
                })
            })
            .collect();
        outln!(
            "{}",
            serde_json::json!({
                "nodes": nodes,
                "fault_tolerance": tolerances,
                "instances": instances,
                "edges": edges,
                "waves": wave_list,
                "critical_path": critical,
            })
        );
        return ExitCode::SUCCESS;
    }
    let mut out = String::new();
    let to_run = plan
        .instances
        .iter()
        .filter(|instance| instance.disposition == Disposition::Run)
        .count();
    out.push_str(&format!(
        "plan: {} tasks on {} nodes ({to_run} to run, the rest are sync points or skipped)\n",
        plan.instances.len(),
        plan.nodes.len()
    ));
    for node in &plan.nodes {
        out.push_str(&format!(
            "  node {} [{}]\n",
            node.name,
            node.roles.join(", ")
        ));
    }
    for tolerance in plan
        .tolerances
        .iter()
        .filter(|tolerance| !tolerance.nodes.is_empty())
    {
        let group = &plan.catalog.tasks[tolerance.group];
        out.push_str(&format!(
            "  group {}: the run stops when more than {} of its {} node{} fail (fault_tolerance: {})\n",
            group.id,
            tolerance.allowed,
            tolerance.nodes.len(),
            if tolerance.nodes.len() == 1 { "" } else { "s" },
            group.fault_tolerance.map(|budget| budget.to_string()).unwrap_or_default()
        ));
    }
    for (number, wave) in waves.iter().enumerate() {
        out.push_str(&format!("wave {}:\n", number + 1));
        // Conditions are decided per node: one line per task and outcome.
        let mut by_task: BTreeMap<(usize, &str, String), Vec<&str>> = BTreeMap::new();
        for &id in wave {
            let instance = &plan.instances[id as usize];
            let mut note = match (&instance.disposition, &instance.undecided) {
                (Disposition::Skip(reason), _) => format!(" (skipped: {reason})"),
                (Disposition::SyncPoint, _) => " (sync point)".to_string(),
                (Disposition::Run, Some(_)) => " (condition undecided)".to_string(),
                (Disposition::Run, None) => String::new(),
            };
            // What Fuel 9 re-ran the task for, on a re-deployment.
            let task = &plan.catalog.tasks[instance.task];
            if !task.refresh_on.is_empty() {
                note.push_str(&format!(" [refresh on: {}]", task.refresh_on.join(", ")));
            }
            if !task.reexecute_on.is_empty() {
                note.push_str(&format!(
                    " [re-executed on: {}]",
                    task.reexecute_on.join(", ")
                ));
            }
            by_task
                .entry((instance.task, plan.task_id(id), note))
                .or_default()
                .push(plan.node_name(id));
        }
        for ((_, id, note), nodes) in by_task {
            let shown = if nodes.len() > 8 {
                format!("{}, ... ({} nodes)", nodes[..8].join(", "), nodes.len())
            } else {
                nodes.join(", ")
            };
            out.push_str(&format!("  {id}{note}: {shown}\n"));
        }
    }
    let path: Vec<String> = critical.iter().map(|&id| name(id)).collect();
    out.push_str(&format!(
        "critical path ({} tasks): {}\n",
        path.len(),
        path.join(" -> ")
    ));
    out!("{out}");
    ExitCode::SUCCESS
}

fn disposition_name(disposition: &Disposition) -> &'static str {
    match disposition {
        Disposition::Run => "run",
        Disposition::SyncPoint => "sync-point",
        Disposition::Skip(_) => "skip",
    }
}
