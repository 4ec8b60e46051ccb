//! The journal: one JSON line per state change, appended and fsync'd before
//! anything that depends on it happens, so a crash at any moment leaves a
//! journal that says exactly what had succeeded.

use crate::scheduler::State;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

pub const JOURNAL_FILE: &str = "journal.jsonl";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "event")]
pub enum Record {
    /// A run (or a resumed run) begins.
    RunStarted {
        ts: String,
        run: u32,
        pid: u32,
        nodes: usize,
        tasks: usize,
        /// Planned tasks already done by earlier runs.
        already_done: usize,
    },
    State {
        ts: String,
        run: u32,
        node: String,
        task: String,
        state: State,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        attempt: Option<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        exit_code: Option<i32>,
        /// Seconds the task ran, on its final state.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        duration: Option<f64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<String>,
    },
    RunFinished {
        ts: String,
        run: u32,
        outcome: RunOutcome,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunOutcome {
    /// Every planned task succeeded or was skipped.
    Succeeded,
    /// Some task failed.
    Failed,
    /// Stopped by a signal before the end.
    Interrupted,
    /// Stopped on purpose (`--stop-after`) before the end.
    Stopped,
}

impl RunOutcome {
    pub fn name(self) -> &'static str {
        match self {
            RunOutcome::Succeeded => "succeeded",
            RunOutcome::Failed => "failed",
            RunOutcome::Interrupted => "interrupted",
            RunOutcome::Stopped => "stopped",
        }
    }
}

pub struct JournalWriter {
    file: File,
    path: PathBuf,
    unsynced: bool,
}

impl JournalWriter {
    pub fn open(path: &Path) -> std::io::Result<JournalWriter> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(JournalWriter {
            file,
            path: path.to_path_buf(),
            unsynced: false,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends a record; durable after the next `sync`.
    pub fn append(&mut self, record: &Record) -> std::io::Result<()> {
        let mut line = serde_json::to_string(record).map_err(std::io::Error::other)?;
        line.push('\n');
        self.file.write_all(line.as_bytes())?;
        self.unsynced = true;
        Ok(())
    }

    /// Makes every appended record durable.
    pub fn sync(&mut self) -> std::io::Result<()> {
        if self.unsynced {
            self.file.sync_data()?;
            self.unsynced = false;
        }
        Ok(())
    }
}

/// A journal as read back: its records and whether its last line was torn
/// (a crash in the middle of a write).
#[derive(Debug, Default)]
pub struct JournalContents {
    pub records: Vec<Record>,
    pub torn_tail: bool,
}

pub fn read(path: &Path) -> std::io::Result<JournalContents> {
    let file = File::open(path)?;
    let mut contents = JournalContents::default();
    let lines: Vec<String> = BufReader::new(file).lines().collect::<Result<_, _>>()?;
    let count = lines.len();
    for (number, line) in lines.into_iter().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Record>(&line) {
            Ok(record) => contents.records.push(record),
            Err(_) if number + 1 == count => contents.torn_tail = true,
            Err(err) => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!(
                        "{}:{}: not a journal record: {err}",
                        path.display(),
                        number + 1
                    ),
                ))
            }
        }
    }
    Ok(contents)
}

impl JournalContents {
    /// The last state of every (node, task) the journal mentions.
    pub fn last_states(&self) -> HashMap<(String, String), State> {
        let mut states = HashMap::new();
        for record in &self.records {
            if let Record::State {
                node, task, state, ..
            } = record
            {
                states.insert((node.clone(), task.clone()), *state);
            }
        }
        states
    }

    pub fn last_run(&self) -> u32 {
        self.records
            .iter()
            .filter_map(|record| match record {
                Record::RunStarted { run, .. } => Some(*run),
                _ => None,
            })
            .max()
            .unwrap_or(0)
    }

    /// How the last run ended, or None when it never recorded an end (killed).
    pub fn last_outcome(&self) -> Option<RunOutcome> {
        let last = self.last_run();
        self.records.iter().rev().find_map(|record| match record {
            Record::RunFinished { run, outcome, .. } if *run == last => Some(*outcome),
            _ => None,
        })
    }
}
