//! The driver: starts what the scheduler allows, journals every state change
//! before anything depends on it, and stops cleanly on request.
//!
//! Durability: a task's `running` record is on disk before its command
//! starts, and its `succeeded` record is on disk before any dependant starts.
//! After a crash, `--resume` trusts exactly the `succeeded` records; what was
//! skipped is decided again from this run's selection and conditions.

use crate::journal::{self, JournalContents, JournalWriter, Record, RunOutcome, JOURNAL_FILE};
use crate::plan::{Disposition, Plan};
use crate::runner::{
    leftover_command, Interrupt, Outcome, Progress, RunnerOptions, TaskLog, TaskRun,
};
use crate::scheduler::{Scheduler, State};
use crate::time;
use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Instant;

#[derive(Clone, Debug)]
pub struct RunConfig {
    pub state_dir: PathBuf,
    pub max_parallel: usize,
    pub fail_fast: bool,
    /// Stop starting tasks once this task is done on every node.
    pub stop_after: Option<String>,
    /// Keep what earlier runs in `state_dir` did; run the rest.
    pub resume: bool,
    /// Discard what earlier runs in `state_dir` left (under the lock).
    pub restart: bool,
    pub runner: RunnerOptions,
    /// Handle SIGINT/SIGTERM: the first stops starting tasks, the second kills.
    pub handle_signals: bool,
}

/// What the driver tells its caller while it works.
pub enum Event<'a> {
    Started {
        already_done: usize,
    },
    Record(&'a Record),
    /// A first interrupt: no new task starts; running ones finish.
    Stopping {
        reason: &'a str,
    },
}

pub trait Observer {
    fn event(&mut self, plan: &Plan, event: Event<'_>);
}

#[derive(Clone, Debug)]
pub struct InstanceResult {
    pub state: State,
    pub attempt: u32,
    pub duration: Option<f64>,
    pub message: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Summary {
    pub outcome: RunOutcome,
    pub results: Vec<InstanceResult>,
    pub already_done: usize,
    pub journal: PathBuf,
    pub elapsed: f64,
}

impl Summary {
    pub fn count(&self, state: State) -> usize {
        self.results
            .iter()
            .filter(|result| result.state == state)
            .count()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error("{0}")]
    Usage(String),
    #[error("state directory {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

pub(crate) fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> ExecError + '_ {
    move |source| ExecError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// `name` as a file name: characters other than letters, digits and
/// `-_.` become `_`.
pub(crate) fn safe_file_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// A task's log file, beside the journal.
pub fn log_path(state_dir: &Path, node: &str, task: &str) -> PathBuf {
    let safe = safe_file_name;
    state_dir
        .join("logs")
        .join(safe(node))
        .join(format!("{}.log", safe(task)))
}

enum Message {
    Finished {
        id: u32,
        outcome: Outcome,
        seconds: f64,
    },
    Retrying {
        id: u32,
        attempt: u32,
        reason: String,
    },
    Signal,
}

struct ChannelProgress {
    id: u32,
    sender: mpsc::Sender<Message>,
}

impl Progress for ChannelProgress {
    fn retrying(&self, attempt: u32, reason: &str) {
        let _ = self.sender.send(Message::Retrying {
            id: self.id,
            attempt,
            reason: reason.to_string(),
        });
    }
}

/// Holds the state directory for one run: an exclusive lock.
pub(crate) struct StateDirLock {
    _file: File,
}

impl StateDirLock {
    pub(crate) fn acquire(state_dir: &Path) -> Result<StateDirLock, ExecError> {
        use std::os::fd::AsRawFd;
        let path = state_dir.join("lock");
        let file = File::create(&path).map_err(io_error(&path))?;
        // SAFETY: flock(2) on a descriptor we own.
        let locked = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0;
        if !locked {
            return Err(ExecError::Usage(format!(
                "another granule run is using {}; wait for it to end, or use another --state-dir",
                state_dir.display()
            )));
        }
        Ok(StateDirLock { _file: file })
    }
}

/// Prepares the state directory: which instances earlier runs finished, and
/// the number of this run.
pub(crate) fn open_state(plan: &Plan, config: &RunConfig) -> Result<(Vec<bool>, u32), ExecError> {
    let dir = &config.state_dir;
    let journal_path = dir.join(JOURNAL_FILE);
    let fresh = || (vec![false; plan.instances.len()], 1);
    if !journal_path.exists() {
        return Ok(fresh());
    }
    let contents = journal::read(&journal_path).map_err(io_error(&journal_path));
    if config.restart {
        // Even a damaged journal can be discarded; leftovers are still checked.
        if let Ok(contents) = &contents {
            refuse_leftovers(dir, contents)?;
        }
        discard_state(dir)?;
        return Ok(fresh());
    }
    let contents = contents?;
    refuse_leftovers(dir, &contents)?;
    if !config.resume {
        let finished = contents.last_outcome();
        if finished != Some(RunOutcome::Succeeded) {
            let how = match finished {
                None => "was cut off (killed or crashed)".to_string(),
                Some(outcome) => format!("ended {}", outcome.name()),
            };
            return Err(ExecError::Usage(format!(
                "the last run in {} {how}; continue it with --resume, or discard it with --restart",
                dir.display()
            )));
        }
        discard_state(dir)?;
        return Ok(fresh());
    }
    let last = contents.last_states();
    let done = plan
        .instances
        .iter()
        .enumerate()
        .map(|(id, _)| {
            let key = (
                plan.node_name(id as u32).to_string(),
                plan.task_id(id as u32).to_string(),
            );
            last.get(&key) == Some(&State::Succeeded)
        })
        .collect();
    Ok((done, contents.last_run() + 1))
}

/// A runner killed with kill -9 leaves its commands running: starting them
/// again now would run the same task twice at once.
fn refuse_leftovers(dir: &Path, contents: &JournalContents) -> Result<(), ExecError> {
    let leftovers: Vec<String> = contents
        .last_states()
        .iter()
        .filter(|(_, state)| **state == State::Running)
        .filter_map(|((node, task), _)| {
            leftover_command(&log_path(dir, node, task)).map(|(group, command)| {
                format!("{task} on {node}: process group {group} (`{command}`)")
            })
        })
        .collect();
    if leftovers.is_empty() {
        return Ok(());
    }
    Err(ExecError::Usage(format!(
        "commands of the run that was cut off still run:\n  {}\nwait for them to end, or stop them (`kill -- -GROUP`), then run again",
        leftovers.join("\n  ")
    )))
}

/// Discards what earlier runs left in the state directory.
fn discard_state(state_dir: &Path) -> Result<(), ExecError> {
    for stale in [state_dir.join(JOURNAL_FILE), state_dir.join("logs")] {
        let removed = if stale.is_dir() {
            std::fs::remove_dir_all(&stale)
        } else if stale.exists() {
            std::fs::remove_file(&stale)
        } else {
            Ok(())
        };
        removed.map_err(io_error(&stale))?;
    }
    Ok(())
}

/// The task of `--stop-after`, checked against the plan.
pub(crate) fn stop_after_task(plan: &Plan, config: &RunConfig) -> Result<Option<usize>, ExecError> {
    let Some(id) = &config.stop_after else {
        return Ok(None);
    };
    match plan.catalog.index.get(id) {
        Some(&task) if plan.instances.iter().any(|instance| instance.task == task) => {
            Ok(Some(task))
        }
        _ => Err(ExecError::Usage(format!(
            "--stop-after {id}: no node runs this task in this plan"
        ))),
    }
}

/// The instances of a task, on every node.
pub(crate) fn instances_of(plan: &Plan, task: usize) -> Vec<u32> {
    (0..plan.instances.len() as u32)
        .filter(|&id| plan.instances[id as usize].task == task)
        .collect()
}

pub fn execute(
    plan: &Plan,
    config: &RunConfig,
    observer: &mut dyn Observer,
) -> Result<Summary, ExecError> {
    let stop_after = stop_after_task(plan, config)?;
    let dir = &config.state_dir;
    std::fs::create_dir_all(dir).map_err(io_error(dir))?;
    let _lock = StateDirLock::acquire(dir)?;
    let (done, run) = open_state(plan, config)?;
    let already_done = done.iter().filter(|&&done| done).count();
    let journal_path = dir.join(JOURNAL_FILE);
    let mut journal = JournalWriter::open(&journal_path).map_err(io_error(&journal_path))?;
    let mut driver = Driver {
        plan,
        journal: &mut journal,
        run,
        details: HashMap::new(),
        observer,
    };
    driver.write(Record::RunStarted {
        ts: time::now(),
        run,
        pid: std::process::id(),
        nodes: plan.nodes.len(),
        tasks: plan.instances.len(),
        already_done,
    })?;
    driver.observer.event(plan, Event::Started { already_done });

    let started = Instant::now();
    let (sender, receiver) = mpsc::channel::<Message>();
    let signals = if config.handle_signals {
        let mut signals = signal_hook::iterator::Signals::new([
            signal_hook::consts::SIGINT,
            signal_hook::consts::SIGTERM,
        ])
        .map_err(io_error(dir))?;
        let handle = signals.handle();
        let forward = sender.clone();
        std::thread::spawn(move || {
            for _ in signals.forever() {
                if forward.send(Message::Signal).is_err() {
                    break;
                }
            }
        });
        Some(handle)
    } else {
        None
    };

    let interrupt = Interrupt::default();
    let mut scheduler = Scheduler::new(plan, config.max_parallel, &done);
    if let Some(task) = stop_after {
        scheduler.hold_after(&instances_of(plan, task));
    }
    let mut stopping: Option<RunOutcome> = None;
    // Nodes where a task failed, for the groups' fault tolerance.
    let mut failed_nodes = vec![false; plan.nodes.len()];
    let mut interrupts = 0;
    let result = std::thread::scope(|scope| -> Result<(), ExecError> {
        loop {
            let mut to_start = Vec::new();
            if stopping.is_none() {
                while let Some(id) = scheduler.start_next() {
                    match &plan.instances[id as usize].disposition {
                        Disposition::Run => to_start.push(id),
                        Disposition::SyncPoint => scheduler.finish(id, State::Succeeded),
                        Disposition::Skip(reason) => {
                            driver
                                .details
                                .insert(id, detail(0, None, None, Some(reason.clone())));
                            scheduler.finish(id, State::Skipped);
                        }
                    }
                }
            }
            driver.flush(&mut scheduler)?;
            for id in to_start {
                let instance = &plan.instances[id as usize];
                let node = &plan.nodes[instance.node];
                let task = &plan.catalog.tasks[instance.task];
                let log_file = log_path(dir, &node.name, &task.id);
                let sender = sender.clone();
                let interrupt = &interrupt;
                let options = &config.runner;
                scope.spawn(move || {
                    let clock = Instant::now();
                    let outcome = match TaskLog::open(&log_file) {
                        Ok(log) => TaskRun {
                            node,
                            task,
                            options,
                            log: &log,
                            interrupt,
                        }
                        .run(&ChannelProgress {
                            id,
                            sender: sender.clone(),
                        }),
                        Err(err) => Outcome {
                            state: State::Failed,
                            attempt: 0,
                            exit_code: None,
                            message: Some(format!(
                                "cannot write the log {}: {err}",
                                log_file.display()
                            )),
                        },
                    };
                    let _ = sender.send(Message::Finished {
                        id,
                        outcome,
                        seconds: clock.elapsed().as_secs_f64(),
                    });
                });
            }
            if scheduler.running() == 0 {
                return Ok(());
            }
            // Every message that is already there is handled before the next
            // flush: tasks that end together share one fsync.
            let Ok(mut message) = receiver.recv() else {
                return Ok(());
            };
            loop {
                match message {
                    Message::Finished {
                        id,
                        outcome,
                        seconds,
                    } => {
                        driver.details.insert(
                            id,
                            detail(
                                outcome.attempt,
                                outcome.exit_code,
                                Some(seconds),
                                outcome.message,
                            ),
                        );
                        scheduler.finish(id, outcome.state);
                        let node = plan.instances[id as usize].node;
                        if outcome.state.is_failure()
                            && !std::mem::replace(&mut failed_nodes[node], true)
                        {
                            let over = plan.tolerances.iter().find(|tolerance| {
                                tolerance.nodes.contains(&node)
                                    && tolerance.nodes.iter().filter(|&&n| failed_nodes[n]).count()
                                        > tolerance.allowed
                            });
                            if let (Some(tolerance), None) = (over, stopping) {
                                stopping = Some(RunOutcome::Failed);
                                let group = &plan.catalog.tasks[tolerance.group];
                                let reason = format!(
                                    "more nodes of group `{}` failed than its fault_tolerance ({}) allows",
                                    group.id,
                                    group.fault_tolerance.map(|budget| budget.to_string()).unwrap_or_default()
                                );
                                driver
                                    .observer
                                    .event(plan, Event::Stopping { reason: &reason });
                            }
                        }
                        if outcome.state.is_failure() && config.fail_fast && stopping.is_none() {
                            stopping = Some(RunOutcome::Failed);
                            driver.observer.event(
                                plan,
                                Event::Stopping {
                                    reason: "a task failed and --fail-fast is set",
                                },
                            );
                        }
                        if let Some(task) = stop_after {
                            let finished =
                                plan.instances.iter().enumerate().all(|(other, instance)| {
                                    instance.task != task
                                        || !matches!(
                                            scheduler.state(other as u32),
                                            State::Waiting | State::Pending | State::Running
                                        )
                                });
                            if finished && stopping.is_none() {
                                stopping = Some(RunOutcome::Stopped);
                                driver.observer.event(
                                    plan,
                                    Event::Stopping {
                                        reason: "--stop-after reached",
                                    },
                                );
                            }
                        }
                    }
                    Message::Retrying {
                        id,
                        attempt,
                        reason,
                    } => {
                        let instance = &plan.instances[id as usize];
                        driver.write(Record::State {
                            ts: time::now(),
                            run,
                            node: plan.nodes[instance.node].name.clone(),
                            task: plan.catalog.tasks[instance.task].id.clone(),
                            state: State::Running,
                            attempt: Some(attempt),
                            exit_code: None,
                            duration: None,
                            message: Some(format!("attempt {} {reason}; retrying", attempt - 1)),
                        })?;
                    }
                    Message::Signal => {
                        interrupts += 1;
                        if interrupts == 1 {
                            stopping = Some(RunOutcome::Interrupted);
                            interrupt.stop();
                            driver.observer.event(
                                plan,
                                Event::Stopping {
                                    reason: "interrupted: running tasks finish, no new task starts (interrupt again to kill them)",
                                },
                            );
                        } else {
                            stopping = Some(RunOutcome::Interrupted);
                            interrupt.kill_all();
                            driver.observer.event(
                                plan,
                                Event::Stopping {
                                    reason: "interrupted again: killing running tasks",
                                },
                            );
                        }
                    }
                }
                match receiver.try_recv() {
                    Ok(next) => message = next,
                    Err(_) => break,
                }
            }
        }
    });
    if let Some(handle) = signals {
        handle.close();
    }
    result?;

    let states = scheduler.states();
    // An interrupted run says so first: its failures may be the kills.
    let outcome = if stopping == Some(RunOutcome::Interrupted) {
        RunOutcome::Interrupted
    } else if states.iter().any(|state| state.is_failure()) {
        RunOutcome::Failed
    } else if states.iter().all(|state| state.is_done()) {
        RunOutcome::Succeeded
    } else {
        stopping.unwrap_or(RunOutcome::Interrupted)
    };
    driver.write(Record::RunFinished {
        ts: time::now(),
        run,
        outcome,
    })?;
    driver.journal.sync().map_err(io_error(dir))?;

    let results = (0..plan.instances.len())
        .map(|id| {
            let detail = driver.details.remove(&(id as u32)).unwrap_or_default();
            InstanceResult {
                state: states[id],
                attempt: detail.attempt,
                duration: detail.duration,
                message: detail.message,
            }
        })
        .collect();
    Ok(Summary {
        outcome,
        results,
        already_done,
        journal: journal_path,
        elapsed: started.elapsed().as_secs_f64(),
    })
}

#[derive(Clone, Debug, Default)]
struct Detail {
    attempt: u32,
    exit_code: Option<i32>,
    duration: Option<f64>,
    message: Option<String>,
}

fn detail(
    attempt: u32,
    exit_code: Option<i32>,
    duration: Option<f64>,
    message: Option<String>,
) -> Detail {
    Detail {
        attempt,
        exit_code,
        duration,
        message,
    }
}

struct Driver<'a> {
    plan: &'a Plan,
    journal: &'a mut JournalWriter,
    run: u32,
    /// How finished instances ended, attached to their final record.
    details: HashMap<u32, Detail>,
    observer: &'a mut dyn Observer,
}

impl Driver<'_> {
    fn write(&mut self, record: Record) -> Result<(), ExecError> {
        let path = self.journal.path().to_path_buf();
        self.journal.append(&record).map_err(io_error(&path))?;
        self.observer.event(self.plan, Event::Record(&record));
        Ok(())
    }

    /// Journals the scheduler's state changes, then makes them durable.
    fn flush(&mut self, scheduler: &mut Scheduler) -> Result<(), ExecError> {
        for (id, state) in scheduler.take_transitions() {
            let instance = &self.plan.instances[id as usize];
            if state == State::Running && instance.disposition != Disposition::Run {
                continue;
            }
            let detail = match state {
                State::Running => Detail {
                    attempt: 1,
                    ..Detail::default()
                },
                _ if !matches!(state, State::Pending | State::Waiting) => {
                    self.details.get(&id).cloned().unwrap_or_default()
                }
                _ => Detail::default(),
            };
            self.write(Record::State {
                ts: time::now(),
                run: self.run,
                node: self.plan.nodes[instance.node].name.clone(),
                task: self.plan.catalog.tasks[instance.task].id.clone(),
                state,
                attempt: (detail.attempt > 0).then_some(detail.attempt),
                exit_code: detail.exit_code,
                duration: detail.duration,
                message: detail.message,
            })?;
        }
        let path = self.journal.path().to_path_buf();
        self.journal.sync().map_err(io_error(&path))
    }
}
