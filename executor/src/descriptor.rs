//! Task descriptors: Fuel `tasks.yaml` files, versions 1 and 2.0.0.
//!
//! Files are read into [`RawTask`] (every field Fuel defines, nothing else:
//! an unknown field is an error that names the file and line), then turned
//! into [`Task`], the typed form the planner works on.
//!
//! The loader takes what Fuel's own loaders took, and says so: a duplicate
//! key (the last one wins), a parameter a task type does not use, `strategy`
//! written inside `parameters` are warnings naming the file and line. Values
//! Fuel computed or filled in at deployment time (YAQL in `cross-depends`,
//! `strategy.amount` and upload `data`; `{CLUSTER_ID}` paths) are kept for
//! the plan and the run to resolve.

use crate::error::{yaml_error, Diagnostic, Diagnostics};
use crate::matcher::{Matcher, RoleSelector};
use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::Value;
use serde_saphyr::DuplicateKeyPolicy;
use serde_saphyr::Spanned;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

mod keys;
mod write;
use keys::KeyPlaces;
pub use write::{write_puppet_tasks, PuppetTask};

/// Where a task was declared.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    pub file: PathBuf,
    pub line: u64,
    pub column: u64,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.column)
    }
}

/// A list that Fuel lets authors write as a single scalar too (`role: '*'`).
#[derive(Deserialize, Debug, Default, Clone)]
#[serde(untagged)]
enum OneOrMany {
    #[default]
    None,
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::None => Vec::new(),
            OneOrMany::One(item) => vec![item],
            OneOrMany::Many(items) => items,
        }
    }
}

/// A version written either as a string (`2.0.0`) or as a YAML number (`2`).
#[derive(Deserialize, Debug, Clone)]
#[serde(untagged)]
enum RawVersion {
    Text(String),
    Number(f64),
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct RawTestHook {
    cmd: String,
    #[serde(default)]
    cwd: Option<String>,
    #[serde(default)]
    timeout: Option<f64>,
}

/// A value Fuel computed with YAQL from the node's deployment data.
#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
struct RawYaql {
    yaql_exp: String,
}

#[derive(Deserialize, Debug)]
#[serde(untagged)]
enum RawCondition {
    Text(String),
    Yaql(RawYaql),
}

#[derive(Deserialize, Debug)]
#[serde(untagged)]
enum RawCrossDeps {
    List(Vec<RawCrossDep>),
    Yaql(RawYaql),
}

impl Default for RawCrossDeps {
    fn default() -> Self {
        RawCrossDeps::List(Vec::new())
    }
}

#[derive(Deserialize, Debug, Clone)]
#[serde(untagged)]
enum RawAmount {
    Number(u32),
    Yaql(RawYaql),
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct RawCrossDep {
    name: String,
    #[serde(default)]
    role: OneOrMany,
    #[serde(default)]
    policy: Option<String>,
}

#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
struct RawStrategy {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    amount: Option<RawAmount>,
}

/// One entry of a `tasks.yaml` file, with every field Fuel defines.
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct RawTask {
    /// Required, except on the stage-based tasks of old Fuel plugins.
    #[serde(default)]
    id: Option<String>,
    #[serde(rename = "type")]
    kind: String,
    /// Fuel 6.x: `pre_deployment`, `deployment` or `post_deployment`, with
    /// an optional `/ORDER` (a number; smaller first).
    #[serde(default)]
    stage: Option<String>,
    #[serde(default)]
    version: Option<RawVersion>,
    #[serde(default)]
    role: OneOrMany,
    #[serde(default)]
    roles: OneOrMany,
    #[serde(default)]
    groups: OneOrMany,
    /// Fuel 9: node tags; matched against node roles like `roles`.
    #[serde(default)]
    tags: OneOrMany,
    #[serde(default)]
    tasks: Vec<String>,
    #[serde(default)]
    requires: Vec<String>,
    #[serde(default)]
    required_for: Vec<String>,
    #[serde(default, rename = "cross-depends")]
    cross_depends: RawCrossDeps,
    #[serde(default, rename = "cross-depended-by")]
    cross_depended_by: RawCrossDeps,
    #[serde(default)]
    strategy: Option<RawStrategy>,
    #[serde(default)]
    condition: Option<RawCondition>,
    #[serde(default)]
    parameters: BTreeMap<String, Value>,
    #[serde(default)]
    test_pre: Option<RawTestHook>,
    #[serde(default)]
    test_post: Option<RawTestHook>,
    /// Fuel 9 re-ran the task after these events (`deploy_changes`...).
    #[serde(default)]
    reexecute_on: OneOrMany,
    /// Fuel 9 re-ran the task when these Puppet resources changed.
    #[serde(default)]
    refresh_on: OneOrMany,
    #[serde(default, rename = "description")]
    _description: IgnoredAny,
    /// How many nodes of a group may fail before the deployment stops.
    #[serde(default)]
    fault_tolerance: Option<RawTolerance>,
}

#[derive(Deserialize, Debug)]
#[serde(untagged)]
enum RawTolerance {
    Count(u32),
    Text(String),
}

/// How many of a group's nodes may fail before the deployment stops.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum FaultTolerance {
    Nodes(u32),
    /// A percentage of the group's nodes, rounded down.
    Percent(f64),
}

impl FaultTolerance {
    /// The number of failed nodes allowed among `nodes`.
    pub fn allowed(self, nodes: usize) -> usize {
        match self {
            FaultTolerance::Nodes(count) => count as usize,
            FaultTolerance::Percent(percent) => (nodes as f64 * percent / 100.0).floor() as usize,
        }
    }
}

impl fmt::Display for FaultTolerance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FaultTolerance::Nodes(count) => write!(f, "{count}"),
            FaultTolerance::Percent(percent) => write!(f, "{percent}%"),
        }
    }
}

/// Which language a condition is written in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Condition {
    /// Nailgun's expression language (`settings:a.b == true and not ...`).
    Nailgun(String),
    /// `{yaql_exp: ...}`.
    Yaql(String),
}

impl Condition {
    pub fn text(&self) -> &str {
        match self {
            Condition::Nailgun(text) | Condition::Yaql(text) => text,
        }
    }
}

/// Fields given as YAQL expressions, computed per node from its deployment
/// data when the plan is made (upload data: when the task runs).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Computed {
    pub cross_depends: Option<String>,
    pub cross_depended_by: Option<String>,
    pub strategy_amount: Option<String>,
}

impl Computed {
    /// Each computed field's name and expression.
    pub fn fields(&self) -> impl Iterator<Item = (&'static str, &str)> {
        [
            ("cross-depends", &self.cross_depends),
            ("cross-depended-by", &self.cross_depended_by),
            ("strategy.amount", &self.strategy_amount),
        ]
        .into_iter()
        .filter_map(|(field, text)| Some((field, text.as_deref()?)))
    }
}

/// Descriptor format: version 1 (group-based) or 2.x (per-node graphs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Version {
    V1,
    V2,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskKind {
    Puppet,
    Shell,
    Group,
    Stage,
    Skipped,
    Anchor,
    UploadFile,
    CopyFiles,
    Sync,
    Reboot,
}

impl TaskKind {
    pub const ALL: [(&'static str, TaskKind); 10] = [
        ("puppet", TaskKind::Puppet),
        ("shell", TaskKind::Shell),
        ("group", TaskKind::Group),
        ("stage", TaskKind::Stage),
        ("skipped", TaskKind::Skipped),
        ("anchor", TaskKind::Anchor),
        ("upload_file", TaskKind::UploadFile),
        ("copy_files", TaskKind::CopyFiles),
        ("sync", TaskKind::Sync),
        ("reboot", TaskKind::Reboot),
    ];

    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, kind)| *kind == self)
            .map(|(name, _)| *name)
            .unwrap_or("?")
    }

    /// Synchronisation points: they order other tasks and do nothing themselves.
    pub fn is_sync_point(self) -> bool {
        matches!(self, TaskKind::Group | TaskKind::Stage | TaskKind::Anchor)
    }

    /// Parameters each type understands; anything else is reported.
    fn known_parameters(self) -> &'static [&'static str] {
        match self {
            TaskKind::Puppet => &[
                "puppet_manifest",
                "puppet_modules",
                "cwd",
                "timeout",
                "retries",
                "interval",
            ],
            TaskKind::Shell => &["cmd", "cwd", "timeout", "retries", "interval"],
            TaskKind::UploadFile => &["path", "data", "permissions", "timeout"],
            TaskKind::CopyFiles => &["files", "permissions", "dir_permissions", "timeout"],
            TaskKind::Sync => &["src", "dst", "timeout", "retries", "interval"],
            TaskKind::Reboot => &["timeout"],
            TaskKind::Group => &["strategy"],
            TaskKind::Stage | TaskKind::Skipped | TaskKind::Anchor => &[],
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    /// Wait for the task on every matching node.
    All,
    /// Wait for the task on one matching node (the first by name).
    Any,
}

#[derive(Clone, Debug)]
pub struct CrossDep {
    pub name: Matcher,
    pub role: RoleSelector,
    pub policy: Policy,
}

impl CrossDep {
    pub fn parse(name: &str, roles: Vec<String>, policy: Option<&str>) -> Result<CrossDep, String> {
        Ok(CrossDep {
            name: Matcher::parse(name)?,
            role: RoleSelector::parse(roles)?,
            policy: match policy {
                None | Some("all") => Policy::All,
                Some("any") => Policy::Any,
                Some(other) => {
                    return Err(format!("unknown policy `{other}` (use `all` or `any`)"))
                }
            },
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    Parallel { amount: Option<u32> },
    OneByOne,
}

impl Strategy {
    /// How many nodes may run the task at once.
    pub fn limit(self) -> Option<u32> {
        match self {
            Strategy::Parallel { amount } => amount,
            Strategy::OneByOne => Some(1),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, PartialOrd)]
pub enum Phase {
    PreDeployment,
    Deployment,
    PostDeployment,
}

/// `stage: post_deployment/100`: pre-deployment tasks run before everything
/// else and post-deployment tasks after; within a phase, smaller orders
/// first (absent: 0), as Fuel 6.x sorted them (across nodes: see the
/// catalog's phase barriers).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stage {
    pub phase: Phase,
    pub order: f64,
}

impl Stage {
    pub fn parse(text: &str) -> Result<Stage, String> {
        let (name, order) = match text.split_once('/') {
            Some((name, order)) => (name, Some(order)),
            None => (text, None),
        };
        let phase = match name {
            "pre_deployment" => Phase::PreDeployment,
            "deployment" => Phase::Deployment,
            "post_deployment" => Phase::PostDeployment,
            other => return Err(format!("unknown stage `{other}`")),
        };
        let order = match order {
            None => 0.0,
            Some(order) => order
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|order| order.is_finite())
                .ok_or_else(|| format!("stage order `{order}` is not a number"))?,
        };
        Ok(Stage { phase, order })
    }
}

/// A command run before (`test_pre`) or after (`test_post`) the task.
#[derive(Clone, Debug, PartialEq)]
pub struct TestHook {
    pub cmd: String,
    pub cwd: Option<String>,
    pub timeout: Option<Duration>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct FileCopy {
    pub src: String,
    pub dst: String,
}

/// What a task does when it runs.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// group, stage, skipped, anchor.
    Nothing,
    Puppet {
        manifest: String,
        modulepath: Option<String>,
        cwd: Option<String>,
    },
    Shell {
        cmd: String,
        cwd: Option<String>,
    },
    UploadFile {
        path: String,
        data: UploadData,
        permissions: Option<u32>,
    },
    /// A parameter Fuel's Nailgun filled in at deployment time is missing
    /// or still a template: the task fails when it runs, with this message.
    Unfilled(String),
    CopyFiles {
        files: Vec<FileCopy>,
        permissions: Option<u32>,
        dir_permissions: Option<u32>,
    },
    Sync {
        src: String,
        dst: String,
    },
    Reboot,
}

/// What an `upload_file` task writes.
#[derive(Clone, Debug, PartialEq)]
pub enum UploadData {
    Text(String),
    /// Computed from the node's deployment data when the task runs.
    Yaql(String),
}

/// How a task is attempted: time limit per attempt, retries, pause between.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Attempts {
    pub timeout: Option<Duration>,
    pub retries: u32,
    pub interval: Duration,
}

/// A task descriptor, validated and typed.
#[derive(Clone, Debug)]
pub struct Task {
    pub id: String,
    pub kind: TaskKind,
    pub version: Version,
    pub origin: Origin,
    /// Roles (or v1 group ids) named by `role`, `roles` and `groups`.
    pub roles: Vec<Matcher>,
    /// Version 1 `groups:` entries, kept apart because groups synchronise nodes.
    pub groups: Vec<String>,
    /// A group's `tasks:` list.
    pub members: Vec<String>,
    pub requires: Vec<String>,
    pub required_for: Vec<String>,
    pub cross_depends: Vec<CrossDep>,
    pub cross_depended_by: Vec<CrossDep>,
    pub strategy: Option<Strategy>,
    /// Fuel 6.x deployment stage: orders the task before or after the rest.
    pub stage: Option<Stage>,
    pub condition: Option<Condition>,
    pub computed: Computed,
    pub action: Action,
    pub attempts: Attempts,
    pub test_pre: Option<TestHook>,
    pub test_post: Option<TestHook>,
    pub reexecute_on: Vec<String>,
    pub refresh_on: Vec<String>,
    pub fault_tolerance: Option<FaultTolerance>,
}

/// Every task of one or more files, in declaration order.
#[derive(Clone, Debug, Default)]
pub struct TaskSet {
    pub tasks: Vec<Task>,
    pub files: Vec<PathBuf>,
    /// What was accepted as Fuel accepted it but deserves a look.
    pub warnings: Vec<Diagnostic>,
}

impl TaskSet {
    pub fn find(&self, id: &str) -> Option<usize> {
        self.tasks.iter().position(|task| task.id == id)
    }
}

/// Finds descriptor files: a file is taken as is; a directory is searched
/// recursively for `tasks.yaml`, `*.tasks.yaml`, `deployment_tasks.yaml`.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>, Diagnostics> {
    let mut files = Vec::new();
    let mut errors = Diagnostics::default();
    for path in paths {
        if path.is_dir() {
            let before = files.len();
            for entry in walkdir::WalkDir::new(path).sort_by_file_name() {
                match entry {
                    Ok(entry)
                        if entry.file_type().is_file() && is_descriptor_name(entry.path()) =>
                    {
                        files.push(entry.into_path())
                    }
                    Ok(_) => {}
                    Err(err) => errors.push(Diagnostic::new(path, format!("cannot read: {err}"))),
                }
            }
            if files.len() == before {
                errors.push(
                    Diagnostic::new(path, "no tasks.yaml file in this directory")
                        .help("descriptor files are named tasks.yaml, deployment_tasks.yaml or *.tasks.yaml"),
                );
            }
        } else if path.exists() {
            files.push(path.clone());
        } else {
            errors.push(
                Diagnostic::new(path, "no such file or directory")
                    .help("pass a tasks.yaml file or a directory containing some"),
            );
        }
    }
    errors.into_result(files)
}

fn is_descriptor_name(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    name == "tasks.yaml"
        || name == "tasks.yml"
        || name == "deployment_tasks.yaml"
        || name.ends_with(".tasks.yaml")
        || name.ends_with(".tasks.yml")
}

/// Loads and types every task of the given files or directories.
/// Reports every problem found, not only the first.
pub fn load(paths: &[PathBuf]) -> Result<TaskSet, Diagnostics> {
    let files = discover(paths)?;
    let mut set = TaskSet::default();
    let mut errors = Diagnostics::default();
    for file in &files {
        match std::fs::read_to_string(file) {
            Ok(text) => parse_file(file, &text, &mut set, &mut errors),
            Err(err) => errors.push(Diagnostic::new(file, format!("cannot read: {err}"))),
        }
    }
    set.files = files;
    errors.into_result(set)
}

/// Parses the text of one descriptor file, appending its tasks and warnings.
pub fn parse_file(file: &Path, text: &str, set: &mut TaskSet, errors: &mut Diagnostics) {
    if text.trim().is_empty() {
        return;
    }
    let places = KeyPlaces::of_file(text).unwrap_or_default();
    let unknown: Vec<Diagnostic> = places
        .iter()
        .flat_map(|task| task.unknown_fields(file, keys::field_names::<RawTask>()))
        .collect();
    if !unknown.is_empty() {
        // All of them at once: the typed parse would stop at the first.
        errors.0.extend(unknown);
        return;
    }
    // Fuel's loaders kept the last of two equal keys: so does granule, after
    // a pass that sees every key and reports the duplicates.
    let every_key = serde_saphyr::options! { duplicate_keys: DuplicateKeyPolicy::PassThrough };
    if let Ok(tree) = serde_saphyr::from_str_with_options::<KeyTree>(text, every_key) {
        tree.report_duplicates(file, &mut set.warnings);
    }
    let last_wins = serde_saphyr::options! { duplicate_keys: DuplicateKeyPolicy::LastWins };
    let raw: Option<Vec<Spanned<RawTask>>> = match serde_saphyr::from_str_with_options(
        text, last_wins,
    ) {
        Ok(raw) => raw,
        Err(err) => {
            errors.push(yaml_error(file, &err).help(
                "a tasks.yaml file is a YAML list of tasks, each with at least `id` and `type`; see docs/executor.md",
            ));
            return;
        }
    };
    let no_places = KeyPlaces::default();
    for (number, spanned) in raw.unwrap_or_default().into_iter().enumerate() {
        let origin = Origin {
            file: file.to_path_buf(),
            line: spanned.referenced.line(),
            column: spanned.referenced.column(),
        };
        let places = places.get(number).unwrap_or(&no_places);
        if let Some(task) = type_task(spanned.value, origin, places, errors, &mut set.warnings) {
            set.tasks.push(task);
        }
    }
}

/// Every mapping key of a YAML document with its line, duplicates included.
#[derive(Default)]
struct KeyTree {
    keys: Vec<(String, (u64, u64), KeyTree)>,
    items: Vec<KeyTree>,
}

impl KeyTree {
    fn report_duplicates(&self, file: &Path, warnings: &mut Vec<Diagnostic>) {
        for (index, (key, (line, column), child)) in self.keys.iter().enumerate() {
            if let Some((_, (later, _), _)) =
                self.keys[index + 1..].iter().find(|(k, _, _)| k == key)
            {
                warnings.push(
                    Diagnostic::new(file, format!("duplicate key `{key}` (also on line {later}): the later one is used, as Fuel's loader did"))
                        .at(*line, *column)
                        .help("remove one of the two"),
                );
            }
            child.report_duplicates(file, warnings);
        }
        for item in &self.items {
            item.report_duplicates(file, warnings);
        }
    }
}

impl<'de> Deserialize<'de> for KeyTree {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TreeVisitor;
        impl<'de> serde::de::Visitor<'de> for TreeVisitor {
            type Value = KeyTree;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any YAML value")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<KeyTree, A::Error> {
                let mut tree = KeyTree::default();
                while let Some(key) = map.next_key::<Spanned<KeyName>>()? {
                    let child = map.next_value::<KeyTree>()?;
                    tree.keys.push((
                        key.value.0,
                        (key.referenced.line(), key.referenced.column()),
                        child,
                    ));
                }
                Ok(tree)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<KeyTree, A::Error> {
                let mut tree = KeyTree::default();
                while let Some(item) = seq.next_element::<KeyTree>()? {
                    tree.items.push(item);
                }
                Ok(tree)
            }
            fn visit_bool<E>(self, _: bool) -> Result<KeyTree, E> {
                Ok(KeyTree::default())
            }
            fn visit_i64<E>(self, _: i64) -> Result<KeyTree, E> {
                Ok(KeyTree::default())
            }
            fn visit_u64<E>(self, _: u64) -> Result<KeyTree, E> {
                Ok(KeyTree::default())
            }
            fn visit_f64<E>(self, _: f64) -> Result<KeyTree, E> {
                Ok(KeyTree::default())
            }
            fn visit_str<E>(self, _: &str) -> Result<KeyTree, E> {
                Ok(KeyTree::default())
            }
            fn visit_unit<E>(self) -> Result<KeyTree, E> {
                Ok(KeyTree::default())
            }
            fn visit_none<E>(self) -> Result<KeyTree, E> {
                Ok(KeyTree::default())
            }
            fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<KeyTree, D::Error> {
                KeyTree::deserialize(d)
            }
        }
        deserializer.deserialize_any(TreeVisitor)
    }
}

/// A mapping key of any scalar type, as text.
struct KeyName(String);

impl<'de> Deserialize<'de> for KeyName {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(KeyName(
            Value::deserialize(deserializer)?
                .to_string()
                .trim_matches('"')
                .to_string(),
        ))
    }
}

fn type_task(
    raw: RawTask,
    origin: Origin,
    places: &KeyPlaces,
    errors: &mut Diagnostics,
    warnings: &mut Vec<Diagnostic>,
) -> Option<Task> {
    let id = match (&raw.id, &raw.stage) {
        (Some(id), _) => id.clone(),
        // Old plugin tasks have no id: name them by stage and place.
        (None, Some(stage)) => format!(
            "{stage}@{}:{}",
            origin
                .file
                .file_name()
                .unwrap_or_default()
                .to_string_lossy(),
            origin.line
        ),
        (None, None) => {
            errors.push(
                Diagnostic::at_origin(&origin, "this task has no `id`")
                    .help("give every task a unique `id: NAME`"),
            );
            return None;
        }
    };
    let error = |message: String| Diagnostic::at_origin(&origin, message).task(&id);
    let error_at = |field: &str, message: String| {
        Diagnostic::at_origin(&places.field(field, &origin), message).task(&id)
    };
    let stage = match raw.stage.as_deref().map(Stage::parse) {
        None => None,
        Some(Ok(stage)) => Some(stage),
        Some(Err(message)) => {
            errors.push(error_at("stage", message).help(
                "write `stage: pre_deployment`, `deployment` or `post_deployment`, optionally with `/ORDER` such as `post_deployment/100`",
            ));
            return None;
        }
    };
    let Some(kind) = TaskKind::ALL
        .iter()
        .find(|(name, _)| *name == raw.kind)
        .map(|(_, kind)| *kind)
    else {
        let names: Vec<&str> = TaskKind::ALL.iter().map(|(name, _)| *name).collect();
        errors.push(
            error_at("type", format!("unknown task type `{}`", raw.kind))
                .help(format!("use one of: {}", names.join(", "))),
        );
        return None;
    };
    let version =
        match &raw.version {
            None => Version::V1,
            Some(RawVersion::Number(number)) if *number >= 2.0 => Version::V2,
            Some(RawVersion::Number(_)) => Version::V1,
            Some(RawVersion::Text(text)) => {
                match text
                    .split('.')
                    .next()
                    .and_then(|major| major.parse::<u32>().ok())
                {
                    Some(major) if major >= 2 => Version::V2,
                    Some(_) => Version::V1,
                    None => {
                        errors.push(error_at("version", format!("invalid version `{text}`")).help(
                        "write `version: 2.0.0` for per-node graphs, or omit it for version 1",
                    ));
                        return None;
                    }
                }
            }
        };

    let mut ok = true;
    let mut matchers = |names: Vec<String>, field: &str| -> Vec<Matcher> {
        names
            .into_iter()
            .filter_map(|name| match Matcher::parse(&name) {
                Ok(matcher) => Some(matcher),
                Err(message) => {
                    errors.push(error(format!("`{field}`: {message}")));
                    ok = false;
                    None
                }
            })
            .collect()
    };
    let groups = raw.groups.into_vec();
    let mut roles = matchers(raw.role.into_vec(), "role");
    roles.extend(matchers(raw.roles.into_vec(), "roles"));
    roles.extend(matchers(raw.tags.into_vec(), "tags"));
    if version == Version::V2 {
        roles.extend(matchers(groups.clone(), "groups"));
    }

    let mut computed = Computed::default();
    let mut cross = |deps: RawCrossDeps, field: &str, yaql: &mut Option<String>| -> Vec<CrossDep> {
        let deps = match deps {
            RawCrossDeps::List(deps) => deps,
            RawCrossDeps::Yaql(expression) => {
                *yaql = Some(expression.yaql_exp);
                return Vec::new();
            }
        };
        deps.into_iter()
            .filter_map(|dep| {
                match CrossDep::parse(&dep.name, dep.role.into_vec(), dep.policy.as_deref()) {
                    Ok(dep) => Some(dep),
                    Err(message) => {
                        errors.push(error(format!("`{field}`: {message}")));
                        ok = false;
                        None
                    }
                }
            })
            .collect()
    };
    let cross_depends = cross(
        raw.cross_depends,
        "cross-depends",
        &mut computed.cross_depends,
    );
    let cross_depended_by = cross(
        raw.cross_depended_by,
        "cross-depended-by",
        &mut computed.cross_depended_by,
    );

    // v1 groups carry their strategy under `parameters`, v2 tasks at top
    // level; Fuel 9 read it from either place.
    let parameter_strategy = raw
        .parameters
        .get("strategy")
        .and_then(|value| serde_json::from_value::<RawStrategy>(value.clone()).ok());
    if raw.strategy.is_some() && parameter_strategy.is_some() {
        warnings.push(
            error("both `strategy` and `parameters.strategy` are given: `strategy` is used".into())
                .help("remove one of them"),
        );
    }
    let raw_strategy = raw.strategy.clone().or(parameter_strategy);
    let strategy = match raw_strategy {
        None => None,
        Some(strategy) => match strategy.kind.as_str() {
            "parallel" => Some(Strategy::Parallel {
                amount: match strategy.amount {
                    None => None,
                    Some(RawAmount::Number(amount)) => Some(amount),
                    Some(RawAmount::Yaql(expression)) => {
                        computed.strategy_amount = Some(expression.yaql_exp);
                        None
                    }
                },
            }),
            "one_by_one" | "one-by-one" => Some(Strategy::OneByOne),
            other => {
                errors.push(
                    error(format!("unknown strategy type `{other}`"))
                        .help("use `parallel` (with an optional `amount`) or `one_by_one`"),
                );
                ok = false;
                None
            }
        },
    };
    if raw.parameters.contains_key("strategy") && raw.strategy.is_none() && strategy.is_none() && ok
    {
        errors.push(error(
            "`parameters.strategy` must be a map with `type` and optional `amount`".into(),
        ));
        ok = false;
    }

    let condition = raw.condition.map(|condition| match condition {
        RawCondition::Text(text) => Condition::Nailgun(text),
        RawCondition::Yaql(expression) => Condition::Yaql(expression.yaql_exp),
    });

    let params = Parameters {
        map: &raw.parameters,
        origin: &origin,
        places,
        id: &id,
    };
    // Fuel ignored the parameters a type does not use (a `skipped` task
    // keeps the `cmd` it had): so does granule, saying so.
    for key in raw.parameters.keys() {
        if key != "strategy" && !kind.known_parameters().contains(&key.as_str()) {
            warnings.push(
                params
                    .error(
                        key,
                        format!(
                            "parameter `{key}` is not used by a `{}` task; it is ignored",
                            kind.name()
                        ),
                    )
                    .help(unknown_parameter_help(key, kind)),
            );
        }
    }
    let base = descriptor_directory(&origin.file);
    let action = match params.action(kind) {
        Ok(action) => beside_descriptor(unfilled_placeholders(action), &base),
        Err(diagnostic) => {
            errors.push(diagnostic);
            return None;
        }
    };
    let attempts = match params.attempts() {
        Ok(attempts) => attempts,
        Err(diagnostic) => {
            errors.push(diagnostic);
            return None;
        }
    };
    let hook = |raw: Option<RawTestHook>| {
        raw.map(|hook| TestHook {
            cmd: hook.cmd,
            cwd: hook.cwd.map(|cwd| against(&base, &cwd)),
            timeout: hook.timeout.map(Duration::from_secs_f64),
        })
    };
    let fault_tolerance = match raw.fault_tolerance {
        None => None,
        Some(RawTolerance::Count(count)) => Some(FaultTolerance::Nodes(count)),
        Some(RawTolerance::Text(text)) => {
            let text = text.trim();
            let parsed = match text.strip_suffix('%') {
                Some(percent) => percent
                    .trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|percent| (0.0..=100.0).contains(percent))
                    .map(FaultTolerance::Percent),
                None => text.parse::<u32>().ok().map(FaultTolerance::Nodes),
            };
            if parsed.is_none() {
                errors.push(error(format!("invalid fault_tolerance `{text}`")).help(
                    "write a number of nodes (`1`) or a percentage of the group's nodes (`'2%'`)",
                ));
                ok = false;
            }
            parsed
        }
    };
    if !ok {
        return None;
    }
    Some(Task {
        id,
        stage,
        kind,
        version,
        origin,
        roles,
        groups: if version == Version::V1 {
            groups
        } else {
            Vec::new()
        },
        computed,
        members: raw.tasks,
        requires: raw.requires,
        required_for: raw.required_for,
        cross_depends,
        cross_depended_by,
        strategy,
        condition,
        action,
        attempts,
        test_pre: hook(raw.test_pre),
        test_post: hook(raw.test_post),
        reexecute_on: raw.reexecute_on.into_vec(),
        refresh_on: raw.refresh_on.into_vec(),
        fault_tolerance,
    })
}

/// The parameter meant, if one is near, and those the task type takes.
fn unknown_parameter_help(key: &str, kind: TaskKind) -> String {
    let known: Vec<String> = kind
        .known_parameters()
        .iter()
        .map(|k| k.to_string())
        .collect();
    let list = if known.is_empty() {
        "none".to_string()
    } else {
        known.join(", ")
    };
    let all = format!("parameters of `{}` tasks: {list}", kind.name());
    match crate::catalog::closest(key, known.iter()) {
        Some(near) => format!("did you mean `{near}`? ({all})"),
        None => all,
    }
}

/// The absolute directory of a descriptor file.
fn descriptor_directory(file: &Path) -> PathBuf {
    let directory = match file.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    std::path::absolute(directory).unwrap_or_else(|_| directory.to_path_buf())
}

/// `path` made absolute against `base` (kept as written when absolute).
fn against(base: &Path, path: &str) -> String {
    if Path::new(path).is_absolute() {
        path.to_string()
    } else {
        base.join(path).display().to_string()
    }
}

/// The files a task names travel with its descriptor: a relative working
/// directory is one beside the descriptor file, and a relative manifest or
/// module path is one in that working directory (or beside the descriptor
/// without one), so that a directory of tasks can be moved or copied as a
/// whole. Resolved once here, every reader (the runner, lint, `--verify`,
/// the Ansible export) sees the same absolute paths.
fn beside_descriptor(action: Action, base: &Path) -> Action {
    match action {
        Action::Puppet {
            manifest,
            modulepath,
            cwd,
        } => {
            let cwd = cwd.map(|cwd| against(base, &cwd));
            let within = cwd.as_deref().map_or(base, Path::new);
            Action::Puppet {
                manifest: against(within, &manifest),
                modulepath: modulepath.map(|entries| {
                    entries
                        .split(':')
                        .map(|entry| match entry {
                            "" => String::new(),
                            entry => against(within, entry),
                        })
                        .collect::<Vec<_>>()
                        .join(":")
                }),
                cwd,
            }
        }
        Action::Shell { cmd, cwd } => Action::Shell {
            cmd,
            cwd: cwd.map(|cwd| against(base, &cwd)),
        },
        other => other,
    }
}

/// Fuel's Nailgun replaced `{CLUSTER_ID}`, `{MASTER_IP}`... in a task's
/// parameters at deployment time; a task still holding one fails when it
/// runs, saying which.
fn unfilled_placeholders(action: Action) -> Action {
    let texts: Vec<&str> = match &action {
        Action::Puppet {
            manifest,
            modulepath,
            cwd,
        } => [Some(manifest), modulepath.as_ref(), cwd.as_ref()]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect(),
        Action::Shell { cmd, cwd } => [Some(cmd), cwd.as_ref()]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect(),
        Action::UploadFile { path, .. } => vec![path],
        Action::CopyFiles { files, .. } => files
            .iter()
            .flat_map(|copy| [copy.src.as_str(), copy.dst.as_str()])
            .collect(),
        Action::Sync { src, dst } => vec![src, dst],
        Action::Nothing | Action::Reboot | Action::Unfilled(_) => Vec::new(),
    };
    match texts.into_iter().find_map(deployment_placeholder) {
        Some(placeholder) => Action::Unfilled(format!(
            "`{placeholder}` in this task's parameters was filled in by Fuel's Nailgun at deployment time; write the value for this cluster in its place"
        )),
        None => action,
    }
}

/// The first `{NAME}` placeholder of a text, such as Fuel's `{CLUSTER_ID}`.
fn deployment_placeholder(text: &str) -> Option<&str> {
    let mut rest = text;
    while let Some(start) = rest.find('{') {
        let after = &rest[start + 1..];
        let Some(length) = after.find('}') else { break };
        let name = &after[..length];
        if !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        {
            return Some(&rest[start..start + length + 2]);
        }
        rest = after;
    }
    None
}

/// Typed access to a task's `parameters` map, with errors naming the task
/// and pointing at the parameter.
struct Parameters<'a> {
    map: &'a BTreeMap<String, Value>,
    origin: &'a Origin,
    places: &'a KeyPlaces,
    id: &'a str,
}

impl Parameters<'_> {
    fn error(&self, key: &str, message: String) -> Diagnostic {
        Diagnostic::at_origin(&self.places.parameter(key, self.origin), message).task(self.id)
    }

    fn string(&self, key: &str) -> Result<Option<String>, Diagnostic> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) => Ok(Some(text.clone())),
            Some(Value::Number(number)) => Ok(Some(number.to_string())),
            Some(Value::Bool(flag)) => Ok(Some(flag.to_string())),
            Some(_) => Err(self.error(key, format!("parameter `{key}` must be a string"))),
        }
    }

    fn required(&self, key: &str, kind: TaskKind) -> Result<String, Diagnostic> {
        self.string(key)?.ok_or_else(|| {
            self.error(
                key,
                format!("a `{}` task needs `parameters.{key}`", kind.name()),
            )
        })
    }

    fn seconds(&self, key: &str) -> Result<Option<Duration>, Diagnostic> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(value) => value
                .as_f64()
                .or_else(|| value.as_str().and_then(|text| text.trim().parse().ok()))
                .filter(|seconds| *seconds >= 0.0 && seconds.is_finite())
                .map(|seconds| Some(Duration::from_secs_f64(seconds)))
                .ok_or_else(|| {
                    self.error(
                        key,
                        format!("parameter `{key}` must be a number of seconds"),
                    )
                }),
        }
    }

    fn mode(&self, key: &str) -> Result<Option<u32>, Diagnostic> {
        match self.string(key)? {
            None => Ok(None),
            Some(text) => u32::from_str_radix(text.trim_start_matches("0o"), 8)
                .map(Some)
                .map_err(|_| {
                    self.error(
                        key,
                        format!("parameter `{key}` must be an octal mode like '0644'"),
                    )
                }),
        }
    }

    fn attempts(&self) -> Result<Attempts, Diagnostic> {
        let retries = match self.map.get("retries") {
            None | Some(Value::Null) => 0,
            Some(value) => value
                .as_u64()
                .or_else(|| value.as_str().and_then(|text| text.parse().ok()))
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| {
                    self.error(
                        "retries",
                        "parameter `retries` must be a whole number".into(),
                    )
                })?,
        };
        Ok(Attempts {
            timeout: self
                .seconds("timeout")?
                .filter(|timeout| !timeout.is_zero()),
            retries,
            interval: self.seconds("interval")?.unwrap_or_default(),
        })
    }

    fn action(&self, kind: TaskKind) -> Result<Action, Diagnostic> {
        Ok(match kind {
            TaskKind::Group | TaskKind::Stage | TaskKind::Skipped | TaskKind::Anchor => {
                Action::Nothing
            }
            TaskKind::Puppet => Action::Puppet {
                manifest: self.required("puppet_manifest", kind)?,
                modulepath: self.string("puppet_modules")?,
                cwd: self.string("cwd")?,
            },
            TaskKind::Shell => Action::Shell {
                cmd: self.required("cmd", kind)?,
                cwd: self.string("cwd")?,
            },
            TaskKind::UploadFile => {
                let data = match self.map.get("data") {
                    Some(Value::Object(map)) if map.len() == 1 && map.contains_key("yaql_exp") => {
                        match &map["yaql_exp"] {
                            Value::String(expression) => UploadData::Yaql(expression.clone()),
                            _ => {
                                return Err(self.error(
                                    "data",
                                    "`parameters.data.yaql_exp` must be a string".into(),
                                ))
                            }
                        }
                    }
                    _ => UploadData::Text(self.string("data")?.unwrap_or_default()),
                };
                let permissions = self.mode("permissions")?;
                match self.string("path")? {
                    None => Action::Unfilled(
                        "this `upload_file` task has no `parameters.path`: Fuel's Nailgun filled it in at deployment time; give the path in the task".into(),
                    ),
                    Some(path) => Action::UploadFile { path, data, permissions },
                }
            }
            TaskKind::CopyFiles => {
                let files = match self.map.get("files") {
                    Some(Value::Array(items)) => items
                        .iter()
                        .map(|item| {
                            let field = |name: &str| {
                                item.get(name).and_then(Value::as_str).map(str::to_string)
                            };
                            match (field("src"), field("dst")) {
                                (Some(src), Some(dst)) => Ok(FileCopy { src, dst }),
                                _ => Err(self.error(
                                    "files",
                                    "each entry of `parameters.files` needs `src` and `dst`".into(),
                                )),
                            }
                        })
                        .collect::<Result<Vec<_>, _>>()?,
                    _ => {
                        return Err(self.error(
                            "files",
                            "a `copy_files` task needs `parameters.files`, a list of {src, dst}"
                                .into(),
                        ))
                    }
                };
                Action::CopyFiles {
                    files,
                    permissions: self.mode("permissions")?,
                    dir_permissions: self.mode("dir_permissions")?,
                }
            }
            TaskKind::Sync => Action::Sync {
                src: self.required("src", kind)?,
                dst: self.required("dst", kind)?,
            },
            TaskKind::Reboot => Action::Reboot,
        })
    }
}
