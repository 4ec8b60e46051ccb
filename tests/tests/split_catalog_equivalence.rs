//! `granule split` checked against Puppet's own compiler
//! (tests/src/catalog.rs: Puppet's Ruby API, the facts the test gives, no
//! facter, nothing applied), on fixtures/split/fuel_like and on
//! oci::controller. Per role:
//!
//! 1. Puppet compiles the monolith's catalog (the entry, with the
//!    deployment's own Hiera data).
//! 2. It compiles the `globals` task with the same facts and data; the data
//!    that task writes (the `content` of its `.../granule/globals.json` file)
//!    is the Hiera data of every later task, on top of the deployment's own,
//!    as the `hiera` task (compiled too; its `hiera.yaml` must point at that
//!    file as JSON) makes it for the nodes.
//! 3. It compiles each task of the role (`groups` in tasks.yaml), with that
//!    data.
//!
//! Then it checks:
//!
//! * (a) every task's catalog compiles;
//! * (b) the union of the tasks' resources (type, title, parameters) equals
//!   the monolith's, apart from the `globals` and `hiera` tasks, whose
//!   resources are granule's own: no resource missing, none added, no
//!   parameter different, and no two tasks that give one resource different
//!   parameters;
//! * (c) every relationship `A -> B` of the monolith's catalog is kept.
//!
//! Kept means, with "T1 runs before T2" meaning that T1 precedes T2 in the
//! order the written tasks.yaml gives (the transitive closure of `requires`
//! and `required_for`, through the tasks of every role, as a Fuel-style
//! executor keeps the tasks of other roles in its graph):
//!
//! * both ends are in some task's catalog of the role;
//! * order, between resources that are not anchors: for each ordering
//!   `A -> B` of the monolith (of either kind), directly or through anchors
//!   only (`A -> Anchor[x] -> ... -> B`), and every task T whose catalog
//!   holds B, either T's catalog orders A before B itself (directly or
//!   through anchors), or a task whose catalog holds A runs before T. So B
//!   is never applied before A has been. An anchor has no state: when it is
//!   applied changes nothing, only what it orders does (a task holding
//!   `Anchor[x]` and nothing after it needs no order; one holding what
//!   comes after it must run after what comes before it, whoever holds the
//!   anchor).
//! * refresh (`notify`, `subscribe`, `~>`): besides the order, for each
//!   refresh `A ~> B` of the monolith between resources that are not
//!   anchors, directly or passed on by anchors (`A ~> Anchor[x] ~> B`: an
//!   anchor passes on the events it receives to what it notifies), every
//!   task whose catalog holds A refreshes B from it in its own catalog the
//!   same way, or runs after a task that does. A refresh event does not
//!   outlive the Puppet run that sends it: whichever task changes A must
//!   refresh B in the same run. A changes in the first task applying it;
//!   a later one applies it again, unchanged, and sends nothing, unless A
//!   changes on every run (an exec neither `refreshonly` nor guarded by
//!   `creates`, `onlyif` or `unless`): then every task holding it must
//!   refresh B itself.
//!
//! A failure names the role, the task(s), the resource or relationship and
//! why, for every problem found, not only the first.

use granule_tests::catalog::{puppet_available, Catalog, CatalogRequest, EdgeKind, ResourceKey};
use granule_tests::executor::{exit_code, granule, scratch, text};
use granule_tests::{repo_root, require_reference, target_dir};
use rayon::prelude::*;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

const STDLIB: &str = "/usr/share/puppet/modules/stdlib";
const DEBIAN_MODULES: &str = "/usr/share/puppet/modules";

/// The tasks granule adds to every split: they hold granule's own resources.
const GLOBALS: &str = "globals";
const HIERA: &str = "hiera";

/// How many problems of one kind a failure message lists in full.
const SHOWN_PER_KIND: usize = 60;

/// A monolith to split and what compiling it needs.
struct Monolith {
    name: &'static str,
    /// `--modulepath` of the split and of every compilation.
    modulepath: Vec<PathBuf>,
    /// The manifest Puppet compiles as the monolith.
    site: PathBuf,
    /// The arguments of `granule split` besides `--modulepath` and `-o`.
    split_args: Vec<String>,
    /// Each role the test checks and the facts of its node.
    roles: Vec<(String, Value)>,
    /// The deployment's own Hiera data (the monolith's lookups).
    data: Value,
    node: &'static str,
    /// The classes the node's classifier declares besides the manifest.
    node_classes: &'static [&'static str],
    /// Per role, the class the classifier declares on its nodes for the
    /// monolith (split with `--entry CLASS` per role): the tasks do not
    /// get it.
    role_classes: &'static [(&'static str, &'static str)],
}

/// One task of tasks.yaml, as this test reads it (not through granule).
#[derive(Debug, Deserialize)]
struct Descriptor {
    id: String,
    #[serde(default)]
    groups: Vec<String>,
    #[serde(default)]
    requires: Vec<String>,
    #[serde(default)]
    required_for: Vec<String>,
    parameters: Parameters,
}

#[derive(Debug, Deserialize)]
struct Parameters {
    puppet_manifest: PathBuf,
}

/// What a check found, by kind, each line naming role, task and resource.
#[derive(Default)]
struct Problems(BTreeMap<&'static str, Vec<String>>);

impl Problems {
    fn add(&mut self, kind: &'static str, problem: String) {
        self.0.entry(kind).or_default().push(problem);
    }

    fn assert_none(&self, what: &str) {
        if self.0.is_empty() {
            return;
        }
        let mut message = format!("{what}: the split's catalogs differ from the monolith's\n");
        for (kind, problems) in &self.0 {
            message.push_str(&format!("\n{} × {kind}:\n", problems.len()));
            for problem in problems.iter().take(SHOWN_PER_KIND) {
                message.push_str(&format!("  - {problem}\n"));
            }
            if problems.len() > SHOWN_PER_KIND {
                message.push_str(&format!(
                    "  ... and {} more\n",
                    problems.len() - SHOWN_PER_KIND
                ));
            }
        }
        panic!("{message}");
    }
}

fn stdlib_available() -> Result<(), String> {
    if Path::new(STDLIB).join("metadata.json").exists() {
        Ok(())
    } else {
        Err(format!(
            "{STDLIB} is missing: install the Debian package puppet-module-puppetlabs-stdlib"
        ))
    }
}

fn read_yaml(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Runs `granule split` into `out` and reads the tasks.yaml it wrote.
fn split(monolith: &Monolith, out: &Path) -> Vec<Descriptor> {
    let modulepath = std::env::join_paths(&monolith.modulepath).expect("a module path");
    let output = Command::new(granule())
        .arg("split")
        .arg("--modulepath")
        .arg(&modulepath)
        .args(&monolith.split_args)
        .arg("-o")
        .arg(out)
        .output()
        .expect("granule runs");
    assert_eq!(
        exit_code(&output),
        0,
        "{}: granule split {:?} failed:\n{}{}",
        monolith.name,
        monolith.split_args,
        text(&output.stdout),
        text(&output.stderr)
    );
    let tasks_yaml = out.join("tasks.yaml");
    let yaml = std::fs::read_to_string(&tasks_yaml)
        .unwrap_or_else(|e| panic!("{}: {e}", tasks_yaml.display()));
    let mut tasks: Vec<Descriptor> = serde_saphyr::from_str(&yaml)
        .unwrap_or_else(|e| panic!("{}: not a list of tasks: {e}", tasks_yaml.display()));
    for task in &mut tasks {
        if task.parameters.puppet_manifest.is_relative() {
            task.parameters.puppet_manifest = out.join(&task.parameters.puppet_manifest);
        }
    }
    tasks
}

/// For each task, the tasks that run before it: the transitive closure of
/// `requires` and `required_for`. Panics on an unknown task or a cycle.
fn runs_before(tasks: &[Descriptor]) -> BTreeMap<&str, BTreeSet<&str>> {
    let known: BTreeSet<&str> = tasks.iter().map(|task| task.id.as_str()).collect();
    let mut direct: BTreeMap<&str, BTreeSet<&str>> =
        known.iter().map(|id| (*id, BTreeSet::new())).collect();
    for task in tasks {
        for first in &task.requires {
            assert!(
                known.contains(first.as_str()),
                "task {} requires unknown task {first}",
                task.id
            );
            direct.get_mut(task.id.as_str()).unwrap().insert(first);
        }
        for then in &task.required_for {
            let later = direct
                .get_mut(then.as_str())
                .unwrap_or_else(|| panic!("task {} is required for unknown task {then}", task.id));
            later.insert(&task.id);
        }
    }
    let mut closure: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for id in &known {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<&str> = direct[id].iter().copied().collect();
        while let Some(first) = stack.pop() {
            assert_ne!(
                first, *id,
                "task {id} runs before itself: the tasks form a cycle"
            );
            if seen.insert(first) {
                stack.extend(direct[first].iter().copied());
            }
        }
        closure.insert(id, seen);
    }
    closure
}

/// The value of the `content` parameter of the catalog's file whose path
/// ends with `suffix`.
fn file_content<'a>(catalog: &'a Catalog, suffix: &str) -> Option<&'a str> {
    let title = catalog
        .titles("File")
        .into_iter()
        .find(|t| t.ends_with(suffix))?;
    catalog.parameters("File", title)?.get("content")?.as_str()
}

fn reference((kind, title): &ResourceKey) -> String {
    format!("{kind}[{title}]")
}

/// The parameters on which two resources differ, as `name: A ≠ B`.
fn differences(a: &BTreeMap<String, Value>, b: &BTreeMap<String, Value>) -> String {
    let names: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    let shown = |value: Option<&Value>| value.map_or("(unset)".to_string(), Value::to_string);
    names
        .into_iter()
        .filter(|name| a.get(*name) != b.get(*name))
        .map(|name| format!("{name}: {} ≠ {}", shown(a.get(name)), shown(b.get(name))))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Compiles many requests in a few Puppet processes side by side (one
/// Puppet process per batch): answers in order.
fn compile_all(requests: &[CatalogRequest]) -> Vec<Result<Catalog, String>> {
    let processes = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
    let batch = requests.len().div_ceil(processes).max(1);
    let answers: Vec<Vec<Result<Catalog, String>>> = requests
        .par_chunks(batch)
        .map(granule_tests::catalog::compile_catalogs)
        .collect();
    answers.into_iter().flatten().collect()
}

/// The compiled catalogs of one role.
struct RoleCatalogs<'t> {
    role: &'t str,
    monolith: Catalog,
    /// Each task of the role but `globals` and `hiera`, with its catalog.
    tasks: Vec<(&'t str, Catalog)>,
}

/// The containers a split dissolves by design: `Class[X]` of each class
/// it opened (report.json's `opened`: its statements became units, so no
/// task declares X itself) and the `Node[...]` of the entry (node bodies
/// are copied as top-scope code). They hold no state on the node.
fn dissolved_containers(out: &Path) -> BTreeSet<ResourceKey> {
    let path = out.join("report.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let report: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    report["opened"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|opened| opened["class"].as_str())
        .map(|class| {
            let title = class
                .split("::")
                .map(|segment| {
                    let mut chars = segment.chars();
                    chars
                        .next()
                        .map(|first| first.to_uppercase().chain(chars).collect::<String>())
                        .unwrap_or_default()
                })
                .collect::<Vec<_>>()
                .join("::");
            ("Class".to_string(), title)
        })
        .collect()
}

/// The monolith's catalog with each relationship to or from a class the
/// split opened (in no task's catalog) made one to or from each resource
/// that class holds, as Puppet applies it (through its containment; a
/// contained class opened too, further down).
fn through_dissolved(monolith: &Catalog, dissolved: &BTreeSet<ResourceKey>) -> Catalog {
    let dissolved: BTreeSet<String> = dissolved.iter().map(reference).collect();
    let mut held: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (container, resource) in &monolith.contains {
        held.entry(container.as_str())
            .or_default()
            .push(resource.as_str());
    }
    let expand = |end: &str| -> Vec<String> {
        let mut found = Vec::new();
        let mut stack = vec![end];
        while let Some(at) = stack.pop() {
            if dissolved.contains(at) {
                stack.extend(held.get(at).into_iter().flatten().copied());
            } else {
                found.push(at.to_string());
            }
        }
        found
    };
    let mut expanded = monolith.clone();
    expanded.edges = monolith
        .edges
        .iter()
        .flat_map(|(from, to, kind)| {
            let (froms, tos) = (expand(from), expand(to));
            froms.into_iter().flat_map(move |from| {
                tos.clone()
                    .into_iter()
                    .map(move |to| (from.clone(), to, *kind))
            })
        })
        .collect();
    expanded
}

/// (b): the union of the tasks' resources against the monolith's.
fn check_resources(
    role: &RoleCatalogs,
    dissolved: &BTreeSet<ResourceKey>,
    problems: &mut Problems,
) {
    let role_name = role.role;
    // Each resource of a task: the first task declaring it, its parameters.
    let mut union: BTreeMap<&ResourceKey, (&str, &BTreeMap<String, Value>)> = BTreeMap::new();
    for (task, catalog) in &role.tasks {
        for (key, parameters) in &catalog.resources {
            match union.get(key) {
                None => {
                    union.insert(key, (task, parameters));
                }
                Some((other, theirs)) if *theirs != parameters => problems.add(
                    "resources two tasks declare differently",
                    format!(
                        "role {role_name}: {} differs between tasks {other} and {task}: {}",
                        reference(key),
                        differences(theirs, parameters)
                    ),
                ),
                Some(_) => {}
            }
        }
    }
    for (key, expected) in &role.monolith.resources {
        match union.get(key) {
            None if dissolved.contains(key) || key.0 == "Node" => {}
            None => problems.add(
                "resources of the monolith in no task",
                format!(
                    "role {role_name}: {} is in the monolith's catalog but in no task's",
                    reference(key)
                ),
            ),
            Some((task, found)) if found != &expected => problems.add(
                "resources with other parameters than in the monolith",
                format!(
                    "role {role_name}: {} of task {task} differs from the monolith's (monolith ≠ task): {}",
                    reference(key),
                    differences(expected, found)
                ),
            ),
            Some(_) => {}
        }
    }
    for (key, (task, _)) in &union {
        if !role.monolith.resources.contains_key(*key) {
            problems.add(
                "resources no monolith declares",
                format!(
                    "role {role_name}: task {task} declares {}, which the monolith's catalog does not hold",
                    reference(key)
                ),
            );
        }
    }
}

/// At most this many task names in one problem line.
const SHOWN_TASKS: usize = 6;

/// Task names for a problem line, the first few of them.
fn task_list<'t>(names: impl IntoIterator<Item = &'t str>) -> String {
    let names: Vec<&str> = names.into_iter().collect();
    let mut shown = names[..names.len().min(SHOWN_TASKS)].join(", ");
    if names.len() > SHOWN_TASKS {
        shown.push_str(&format!(" and {} more", names.len() - SHOWN_TASKS));
    }
    shown
}

fn is_anchor(reference: &str) -> bool {
    reference.starts_with("Anchor[")
}

/// What a catalog's relationships make each resource that is not an anchor
/// run before (`refreshes`: refresh), directly or through anchors only: an
/// anchor has no state, it only orders, and passes on the refresh events it
/// receives to what it notifies.
fn through_anchors(catalog: &Catalog, refreshes: bool) -> BTreeMap<&str, BTreeSet<&str>> {
    let mut next: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (from, to, kind) in &catalog.edges {
        if !refreshes || *kind == EdgeKind::Notify {
            next.entry(from.as_str()).or_default().push(to.as_str());
        }
    }
    let mut reached: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (&first, direct) in next.iter().filter(|(from, _)| !is_anchor(from)) {
        let mut seen: BTreeSet<&str> = BTreeSet::new();
        let mut stack: Vec<&str> = direct.clone();
        let then = reached.entry(first).or_default();
        while let Some(end) = stack.pop() {
            if !is_anchor(end) {
                then.insert(end);
            } else if seen.insert(end) {
                stack.extend(next.get(end).into_iter().flatten().copied());
            }
        }
    }
    reached
}

/// (c): every relationship of the monolith, by the definition at the top;
/// one problem per relationship and failure, naming the tasks at fault.
fn check_relationships(
    role: &RoleCatalogs,
    before: &BTreeMap<&str, BTreeSet<&str>>,
    problems: &mut Problems,
) {
    let role_name = role.role;
    let mut holders: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (index, (_, catalog)) in role.tasks.iter().enumerate() {
        for key in catalog.resources.keys() {
            holders.entry(reference(key)).or_default().push(index);
        }
    }
    let names = |indices: &[usize]| task_list(indices.iter().map(|i| role.tasks[*i].0));
    for (from, to, kind) in &role.monolith.edges {
        let lost: Vec<&str> = [from, to]
            .into_iter()
            .filter(|end| !holders.contains_key(*end))
            .map(String::as_str)
            .collect();
        if !lost.is_empty() {
            let arrow = match kind {
                EdgeKind::Before => "->",
                EdgeKind::Notify => "~>",
            };
            problems.add(
                "relationships with an end in no task",
                format!(
                    "role {role_name}: {from} {arrow} {to}: {} in no task's catalog",
                    lost.join(" and ")
                ),
            );
        }
    }
    let own = |refreshes: bool| -> Vec<BTreeMap<&str, BTreeSet<&str>>> {
        role.tasks
            .iter()
            .map(|(_, catalog)| through_anchors(catalog, refreshes))
            .collect()
    };
    let (own_orderings, own_refreshes) = (own(false), own(true));
    let in_own = |own: &[BTreeMap<&str, BTreeSet<&str>>], task: usize, first: &str, then: &str| {
        own[task]
            .get(first)
            .is_some_and(|thens| thens.contains(then))
    };
    for (first, thens) in through_anchors(&role.monolith, false) {
        let Some(first_holders) = holders.get(first) else {
            continue;
        };
        for then in thens {
            let unordered: Vec<usize> = holders
                .get(then)
                .into_iter()
                .flatten()
                .copied()
                .filter(|&task| {
                    let id = role.tasks[task].0;
                    !in_own(&own_orderings, task, first, then)
                        && !first_holders
                            .iter()
                            .any(|&earlier| before[id].contains(role.tasks[earlier].0))
                })
                .collect();
            if !unordered.is_empty() {
                problems.add(
                    "orderings neither in a task nor carried by task order",
                    format!(
                        "role {role_name}: {first} before {then}: task(s) {} apply {then} \
                         without ordering it after {first}, and no task holding {first} ({}) \
                         runs before them",
                        names(&unordered),
                        names(first_holders)
                    ),
                );
            }
        }
    }
    for (sender, receivers) in through_anchors(&role.monolith, true) {
        let Some(sender_holders) = holders.get(sender) else {
            continue;
        };
        let changes_every_run = changes_every_run(&role.monolith, sender);
        for receiver in receivers {
            let refreshing: Vec<usize> = sender_holders
                .iter()
                .copied()
                .filter(|&task| in_own(&own_refreshes, task, sender, receiver))
                .collect();
            let silent: Vec<usize> = sender_holders
                .iter()
                .copied()
                .filter(|&task| {
                    let id = role.tasks[task].0;
                    !refreshing.contains(&task)
                        && (changes_every_run
                            || !refreshing
                                .iter()
                                .any(|&earlier| before[id].contains(role.tasks[earlier].0)))
                })
                .collect();
            if !silent.is_empty() {
                let receiving = holders.get(receiver).map_or(&[][..], Vec::as_slice);
                problems.add(
                    "refreshes lost",
                    format!(
                        "role {role_name}: {sender} refreshes {receiver}: task(s) {} apply \
                         {sender} without refreshing {receiver} in the same run (tasks holding \
                         {receiver}: {})",
                        names(&silent),
                        names(receiving)
                    ),
                );
            }
        }
    }
}

/// Whether a resource changes something on every run, so that applying it
/// again after a task that refreshed from it sends a refresh of its own:
/// an exec neither `refreshonly` nor guarded by `creates`, `onlyif` or
/// `unless`.
fn changes_every_run(catalog: &Catalog, resource: &str) -> bool {
    catalog.resources.iter().any(|(key, parameters)| {
        key.0 == "Exec"
            && reference(key) == resource
            && !matches!(parameters.get("refreshonly"), Some(Value::Bool(true)))
            && parameters.get("refreshonly").and_then(Value::as_str) != Some("true")
            && !["creates", "onlyif", "unless"]
                .iter()
                .any(|guard| parameters.contains_key(*guard))
    })
}

/// The whole check of one monolith: split, compile, compare.
fn check_equivalence(test: &str, monolith: &Monolith) {
    let out = scratch(test).join("split");
    let tasks = split(monolith, &out);
    let dissolved = dissolved_containers(&out);
    let before = runs_before(&tasks);
    let task = |id: &str| {
        tasks
            .iter()
            .find(|task| task.id == id)
            .unwrap_or_else(|| panic!("{}: tasks.yaml has no `{id}` task", monolith.name))
    };
    let (globals, hiera) = (task(GLOBALS), task(HIERA));
    let mut problems = Problems::default();

    // The monolith, globals and hiera of every role, in one batch.
    let monolith_classes: Vec<Vec<&str>> = monolith
        .roles
        .iter()
        .map(|(role, _)| {
            let classified = monolith.role_classes.iter().filter(|(r, _)| r == role);
            let mut classes = monolith.node_classes.to_vec();
            classes.extend(classified.map(|(_, class)| *class));
            classes
        })
        .collect();
    let first: Vec<CatalogRequest> = monolith
        .roles
        .iter()
        .zip(&monolith_classes)
        .flat_map(|((_, facts), classes)| {
            [
                (&monolith.site, classes.as_slice()),
                (&globals.parameters.puppet_manifest, monolith.node_classes),
                (&hiera.parameters.puppet_manifest, monolith.node_classes),
            ]
            .map(|(manifest, node_classes)| CatalogRequest {
                manifest,
                modulepath: &monolith.modulepath,
                facts,
                hiera_data: &monolith.data,
                node: Some(monolith.node),
                node_classes,
            })
        })
        .collect();
    let mut answers = compile_all(&first).into_iter();
    let mut prepared: Vec<(&str, &Value, Catalog, Value)> = Vec::new();
    for (role, facts) in &monolith.roles {
        let (site, globals_catalog, hiera_catalog) = (
            answers.next().expect("an answer per request"),
            answers.next().expect("an answer per request"),
            answers.next().expect("an answer per request"),
        );
        let site = site.unwrap_or_else(|error| {
            panic!(
                "{}: role {role}: the monolith itself does not compile:\n{error}",
                monolith.name
            )
        });
        match hiera_catalog {
            Err(error) => problems.add(
                "tasks that do not compile",
                format!("role {role}: task {HIERA}: {error}"),
            ),
            Ok(catalog) => match file_content(&catalog, "/hiera.yaml") {
                Some(config)
                    if config.contains("path: granule/globals.json")
                        && config.contains("data_hash: json_data") => {}
                other => problems.add(
                    "tasks that do not make the globals data a Hiera source",
                    format!(
                        "role {role}: task {HIERA} writes no hiera.yaml reading granule/globals.json \
                         as JSON (this test passes that file's data to every task): {other:?}"
                    ),
                ),
            },
        }
        let globals_data = match globals_catalog {
            Err(error) => {
                problems.add(
                    "tasks that do not compile",
                    format!("role {role}: task {GLOBALS}: {error}"),
                );
                continue;
            }
            Ok(catalog) => match file_content(&catalog, "/granule/globals.json")
                .map(serde_json::from_str::<Map<String, Value>>)
            {
                Some(Ok(data)) => data,
                other => {
                    problems.add(
                        "tasks that do not compile",
                        format!(
                            "role {role}: task {GLOBALS} writes no JSON object to granule/globals.json: {other:?}"
                        ),
                    );
                    continue;
                }
            },
        };
        // The deployment's data stays in its own Hiera layer; the hiera
        // task adds the globals on top.
        let mut data = monolith.data.as_object().cloned().unwrap_or_default();
        data.extend(globals_data);
        prepared.push((role, facts, site, Value::Object(data)));
    }

    // Every task of every role, in a few Puppet processes.
    let mut owners: Vec<(usize, &str)> = Vec::new();
    let mut requests: Vec<CatalogRequest> = Vec::new();
    for (index, (role, facts, _, data)) in prepared.iter().enumerate() {
        let of_role = tasks.iter().filter(|task| {
            task.id != GLOBALS && task.id != HIERA && task.groups.iter().any(|g| g == role)
        });
        for task in of_role {
            owners.push((index, &task.id));
            requests.push(CatalogRequest {
                manifest: &task.parameters.puppet_manifest,
                modulepath: &monolith.modulepath,
                facts,
                hiera_data: data,
                node: Some(monolith.node),
                node_classes: monolith.node_classes,
            });
        }
    }
    let answers = compile_all(&requests);
    let mut roles: Vec<RoleCatalogs> = prepared
        .iter()
        .map(|(role, _, site, _)| RoleCatalogs {
            role,
            monolith: through_dissolved(site, &dissolved),
            tasks: Vec::new(),
        })
        .collect();
    for ((index, id), answer) in owners.into_iter().zip(answers) {
        match answer {
            Ok(catalog) => roles[index].tasks.push((id, catalog)),
            Err(error) => problems.add(
                "tasks that do not compile",
                format!("role {}: task {id}: {error}", roles[index].role),
            ),
        }
    }
    for role in &roles {
        assert!(
            !role.tasks.is_empty(),
            "{}: role {} runs no task",
            monolith.name,
            role.role
        );
        check_resources(role, &dissolved, &mut problems);
        check_relationships(role, &before, &mut problems);
    }
    problems.assert_none(&format!("{} split into {}", monolith.name, out.display()));
}

/// A directory holding only stdlib: the whole of /usr/share/puppet/modules
/// would make Puppet load every module's plugins.
fn stdlib_only() -> PathBuf {
    let vendor = target_dir().join("catalog-equivalence-vendor");
    std::fs::create_dir_all(&vendor).expect("vendor directory");
    let link = vendor.join("stdlib");
    if !link.exists() {
        let _ = std::os::unix::fs::symlink(STDLIB, &link);
    }
    vendor
}

#[test]
fn fuel_like_tasks_compile_to_the_monoliths_catalog() {
    const TEST: &str = "split_catalog_equivalence_fuel_like";
    if require_reference(TEST, puppet_available()).is_none()
        || require_reference(TEST, stdlib_available()).is_none()
    {
        return;
    }
    let fixture = repo_root().join("fixtures/split/fuel_like");
    let roles = ["primary-controller", "controller", "compute", "cinder"];
    let monolith = Monolith {
        name: "fuel_like",
        modulepath: vec![fixture.join("modules"), stdlib_only()],
        site: fixture.join("manifests/site.pp"),
        split_args: vec![
            "--entry".into(),
            fixture.join("manifests/site.pp").display().to_string(),
            "--role-var".into(),
            "$::settings['role']".into(),
            "--roles".into(),
            roles.join(","),
            "--assume".into(),
            "$::settings['deployment_mode']=ha_compact".into(),
        ],
        roles: roles
            .iter()
            .map(|role| {
                let settings = fixture.join("settings").join(format!("{role}.yaml"));
                let yaml = std::fs::read_to_string(&settings)
                    .unwrap_or_else(|e| panic!("{}: {e}", settings.display()));
                let facts = json!({ "granule_root": "/granule-root", "settings_yaml": yaml });
                (role.to_string(), facts)
            })
            .collect(),
        data: json!({}),
        node: "node-1.test",
        node_classes: &[],
        role_classes: &[],
    };
    check_equivalence(TEST, &monolith);
}

/// A fixture of `fixtures/split` with `manifests/site.pp` and `modules/`,
/// split without roles and compiled for one node with no facts or data;
/// with stdlib on the module path where it uses `anchor`.
fn small_fixture(name: &'static str, with_stdlib: bool) -> Monolith {
    let fixture = repo_root().join("fixtures/split").join(name);
    let site = fixture.join("manifests/site.pp");
    let mut modulepath = vec![fixture.join("modules")];
    if with_stdlib {
        modulepath.push(stdlib_only());
    }
    Monolith {
        name,
        modulepath,
        split_args: vec!["--entry".into(), site.display().to_string()],
        site,
        roles: vec![("all".to_string(), json!({}))],
        data: json!({}),
        node: "node-1.test",
        node_classes: &[],
        role_classes: &[],
    }
}

/// The whole check of a fixture of `fixtures/split` (`small_fixture`;
/// with stdlib on the module path where it uses stdlib's types, as
/// `anchor`), the split given `split_options` besides its entry.
fn check_small_fixture(test: &str, name: &'static str, with_stdlib: bool, split_options: &[&str]) {
    if require_reference(test, puppet_available()).is_none()
        || with_stdlib && require_reference(test, stdlib_available()).is_none()
    {
        return;
    }
    let mut monolith = small_fixture(name, with_stdlib);
    monolith
        .split_args
        .extend(split_options.iter().map(|option| option.to_string()));
    check_equivalence(test, &monolith);
}

/// A fixture of `fixtures/split` whose `site.pp` declares a module's class,
/// split with that class as `--entry` and `--verify`, as a user trying the
/// tool on one component might.
fn entry_fixture(name: &'static str, entry: &str, with_stdlib: bool) -> Monolith {
    let mut monolith = small_fixture(name, with_stdlib);
    monolith.split_args = vec!["--entry".into(), entry.into(), "--verify".into()];
    monolith
}

/// The whole check of an `entry_fixture`, for one node without facts.
fn check_entry_fixture(test: &str, name: &'static str, entry: &str) {
    if require_reference(test, puppet_available()).is_none() {
        return;
    }
    check_equivalence(test, &entry_fixture(name, entry, false));
}

/// fixtures/split/computed_titles: statements referring to a package by its
/// alias and by a title computed from a parameter's default.
#[test]
fn computed_titles_tasks_compile_to_the_monoliths_catalog() {
    check_small_fixture(
        "split_catalog_equivalence_computed_titles",
        "computed_titles",
        false,
        &[],
    );
}

/// fixtures/split/class_bound_data: an opened role class's data computed
/// from a profile's variables after including the profile.
#[test]
fn class_bound_data_tasks_compile_to_the_monoliths_catalog() {
    check_small_fixture(
        "split_catalog_equivalence_class_bound_data",
        "class_bound_data",
        false,
        &[],
    );
}

/// fixtures/split/case_options: a `case` whose options overlap, where
/// Puppet takes the first that matches only.
#[test]
fn case_options_tasks_compile_to_the_monoliths_catalog() {
    check_small_fixture(
        "split_catalog_equivalence_case_options",
        "case_options",
        false,
        &[],
    );
}

/// fixtures/split/class_parameters: a class declared with a parameter and
/// included again by another class.
#[test]
fn class_parameters_tasks_compile_to_the_monoliths_catalog() {
    check_small_fixture(
        "split_catalog_equivalence_class_parameters",
        "class_parameters",
        false,
        &[],
    );
}

/// fixtures/split/class_variables: a define reading another class's
/// variable by its qualified name; the task applying it applies that class.
#[test]
fn class_variables_tasks_compile_to_the_monoliths_catalog() {
    check_small_fixture(
        "split_catalog_equivalence_class_variables",
        "class_variables",
        false,
        &["--verify"],
    );
}

/// fixtures/split/module_anchors: copied code ordered against other
/// modules' anchors, one reference's title a list stdlib's `concat` builds.
#[test]
fn module_anchors_tasks_compile_to_the_monoliths_catalog() {
    let test = "split_catalog_equivalence_module_anchors";
    if require_reference(test, puppet_available()).is_none() {
        return;
    }
    let mut monolith = small_fixture("module_anchors", true);
    monolith.split_args.push("--verify".into());
    check_equivalence(test, &monolith);
}

/// fixtures/split/inherited_params: a module's class split as the entry,
/// its defaults and conditions reading the class it inherits.
#[test]
fn inherited_params_tasks_compile_to_the_monoliths_catalog() {
    let test = "split_catalog_equivalence_inherited_params";
    if require_reference(test, puppet_available()).is_none()
        || require_reference(test, stdlib_available()).is_none()
    {
        return;
    }
    check_equivalence(test, &entry_fixture("inherited_params", "web", true));
}

/// fixtures/split/collected_refresh: a module's class split as the entry,
/// restarting its service on a change of what a copied relationship's
/// collector gathers, in its own code and in a class it includes.
#[test]
fn collected_refresh_tasks_compile_to_the_monoliths_catalog() {
    check_entry_fixture(
        "split_catalog_equivalence_collected_refresh",
        "collected_refresh",
        "ledger::api",
    );
}

/// fixtures/split/entry_shadowing: an entry class keeping a fact in a
/// variable of the fact's name, compiled with the fact given.
#[test]
fn entry_shadowing_tasks_compile_to_the_monoliths_catalog() {
    let test = "split_catalog_equivalence_entry_shadowing";
    if require_reference(test, puppet_available()).is_none() {
        return;
    }
    let mut monolith = entry_fixture("entry_shadowing", "app", false);
    monolith.roles = vec![("all".to_string(), json!({ "use_syslog": true }))];
    check_equivalence(test, &monolith);
}

/// fixtures/split/heredoc_data: an entry class keeping a heredoc in a
/// variable, data the globals task computes.
#[test]
fn heredoc_data_tasks_compile_to_the_monoliths_catalog() {
    check_entry_fixture(
        "split_catalog_equivalence_heredoc_data",
        "heredoc_data",
        "motd",
    );
}

/// fixtures/split/scope_defaults: a guard and resource defaults reading
/// the variables of a class the entry includes.
#[test]
fn scope_defaults_tasks_compile_to_the_monoliths_catalog() {
    check_entry_fixture(
        "split_catalog_equivalence_scope_defaults",
        "scope_defaults",
        "web::mod::status",
    );
}

/// fixtures/split/top_scope_titles: an entry's settings titled in a loop,
/// collected by its module's `deps`, copied into two tasks.
#[test]
fn top_scope_titles_tasks_compile_to_the_monoliths_catalog() {
    check_entry_fixture(
        "split_catalog_equivalence_top_scope_titles",
        "top_scope_titles",
        "store::ratelimit",
    );
}

/// fixtures/split/computed_references: an entry's resource required by
/// the title it is declared with, computed from a parameter.
#[test]
fn computed_references_tasks_compile_to_the_monoliths_catalog() {
    check_entry_fixture(
        "split_catalog_equivalence_computed_references",
        "computed_references",
        "backup::dump",
    );
}

/// fixtures/split/relayed_refresh: a module's settings and its service
/// declared apart, a change of the one restarting the other through the
/// module's anchors: the task applying the settings applies the service.
#[test]
fn relayed_refresh_tasks_compile_to_the_monoliths_catalog() {
    check_small_fixture(
        "split_catalog_equivalence_relayed_refresh",
        "relayed_refresh",
        false,
        &["--verify"],
    );
}

/// fixtures/split/relayed_computed: the same, the service declared by a
/// define under a title computed from the instance's: the task applying
/// the settings applies the class declaring the instance.
#[test]
fn relayed_computed_tasks_compile_to_the_monoliths_catalog() {
    check_small_fixture(
        "split_catalog_equivalence_relayed_computed",
        "relayed_computed",
        false,
        &["--verify"],
    );
}

/// fixtures/split/collector_between: a collector ordered after one
/// resource of its class and before another, collecting a resource of
/// other code: the class's task applies that resource between the two.
#[test]
fn collector_between_tasks_compile_to_the_monoliths_catalog() {
    check_small_fixture(
        "split_catalog_equivalence_collector_between",
        "collector_between",
        false,
        &["--verify"],
    );
}

/// fixtures/split/copied_collector: copied code refreshing an exec through
/// a collector, borrowed by the task of a module's `deps`: that task
/// applies the exec too.
#[test]
fn copied_collector_tasks_compile_to_the_monoliths_catalog() {
    check_small_fixture(
        "split_catalog_equivalence_copied_collector",
        "copied_collector",
        false,
        &["--verify"],
    );
}

/// fixtures/split/created_resources: settings declared through
/// `create_resources`, their type an instance's title, a define's
/// parameter or a literal, relayed to a service by a module's anchors.
#[test]
fn created_resources_tasks_compile_to_the_monoliths_catalog() {
    check_small_fixture(
        "split_catalog_equivalence_created_resources",
        "created_resources",
        false,
        &["--verify"],
    );
}

/// fixtures/split/opened_twice: a wrapper declared in both branches of an
/// `if`, opened once per declaration: its data has one name in each task.
#[test]
fn opened_twice_tasks_compile_to_the_monoliths_catalog() {
    check_small_fixture(
        "split_catalog_equivalence_opened_twice",
        "opened_twice",
        false,
        &["--verify"],
    );
}

/// fixtures/split/opened_twice_collected: a wrapper declared in both
/// branches of an `if`, whose setting a class it includes collects to
/// refresh its exec: the task applying that class applies each branch's
/// setting first (the node compiled takes the second branch).
#[test]
fn opened_twice_collected_tasks_compile_to_the_monoliths_catalog() {
    check_small_fixture(
        "split_catalog_equivalence_opened_twice_collected",
        "opened_twice_collected",
        false,
        &["--verify"],
    );
}

/// fixtures/split/opened_twice_relationship: the same wrapper refreshing
/// the exec from its setting in a relationship statement of its own: each
/// branch's copy of the statement goes with that branch's units.
#[test]
fn opened_twice_relationship_tasks_compile_to_the_monoliths_catalog() {
    check_small_fixture(
        "split_catalog_equivalence_opened_twice_relationship",
        "opened_twice_relationship",
        false,
        &["--verify"],
    );
}

/// fixtures/split/included_parts: classes another one includes, applied
/// alone before it, and one whose file the other's exec subscribes to.
#[test]
fn included_parts_tasks_compile_to_the_monoliths_catalog() {
    check_small_fixture(
        "split_catalog_equivalence_included_parts",
        "included_parts",
        false,
        &[],
    );
}

/// fixtures/split/relationship_placement: a relationship statement whose
/// collector orders the resources of two tasks after a class named by a
/// variable; it goes to the task from which task order can carry it to the
/// other, and `--verify` (lint's re-reading of the written tasks) agrees.
#[test]
fn relationship_placement_tasks_compile_to_the_monoliths_catalog() {
    check_small_fixture(
        "split_catalog_equivalence_relationship_placement",
        "relationship_placement",
        false,
        &["--verify"],
    );
}

/// fixtures/split/ordered_opened_class: a statement of an opened class
/// ordering another opened class (`before => Class['storage::proxy']`), as
/// Fuel's swift proxy writes: no task declares that class, the copy drops
/// the metaparameter and task order carries it.
#[test]
fn ordered_opened_class_tasks_compile_to_the_monoliths_catalog() {
    check_small_fixture(
        "split_catalog_equivalence_ordered_opened_class",
        "ordered_opened_class",
        false,
        &["--verify"],
    );
}

/// fixtures/split/repeated_includes: a module's `deps` that two opened
/// backends include under their own conditions, one task.
#[test]
fn repeated_includes_tasks_compile_to_the_monoliths_catalog() {
    check_small_fixture(
        "split_catalog_equivalence_repeated_includes",
        "repeated_includes",
        true,
        &["--verify"],
    );
}

/// fixtures/split/deps_followers: a tag collector of a `deps` class orders
/// another module's package before an anchor that a third class runs after.
#[test]
fn deps_followers_tasks_compile_to_the_monoliths_catalog() {
    check_small_fixture(
        "split_catalog_equivalence_deps_followers",
        "deps_followers",
        true,
        &[],
    );
}

/// fixtures/split/roles_profiles: roles and profiles, the most common layout
/// of Puppet code today: a node's role fact picks its `role::` class, each
/// including `profile::` classes whose parameters Hiera gives (automatic
/// parameter lookup), one profile ordering a class another declares, and a
/// profile every role includes (one task, run on both roles).
#[test]
fn roles_profiles_tasks_compile_to_the_monoliths_catalog() {
    const TEST: &str = "split_catalog_equivalence_roles_profiles";
    if require_reference(TEST, puppet_available()).is_none() {
        return;
    }
    let fixture = repo_root().join("fixtures/split/roles_profiles");
    let site = fixture.join("manifests/site.pp");
    let monolith = Monolith {
        name: "roles_profiles",
        modulepath: vec![fixture.join("modules")],
        split_args: vec![
            "--entry".into(),
            site.display().to_string(),
            "--role-var".into(),
            "$facts['role']".into(),
            "--verify".into(),
        ],
        site,
        roles: ["web", "db"]
            .iter()
            .map(|role| (role.to_string(), json!({ "role": role })))
            .collect(),
        data: read_yaml(&fixture.join("data.yaml")),
        node: "node-1.test",
        node_classes: &[],
        role_classes: &[],
    };
    check_equivalence(TEST, &monolith);
}

/// fixtures/split/roles_profiles classified by a node classifier: no
/// `site.pp` logic, the role class declared per node (`--entry CLASS` per
/// role); a class the role classes open alike (profile::base) sets its
/// data once in the globals task, and the role giving it other arguments
/// (role::edge) gets data of its own.
#[test]
fn classified_roles_tasks_compile_to_the_monoliths_catalog() {
    const TEST: &str = "split_catalog_equivalence_classified_roles";
    if require_reference(TEST, puppet_available()).is_none() {
        return;
    }
    let fixture = repo_root().join("fixtures/split/roles_profiles");
    let roles = ["base", "db", "edge", "web"];
    let mut split_args: Vec<String> = Vec::new();
    for role in roles {
        split_args.extend(["--entry".to_string(), format!("role::{role}")]);
    }
    split_args.push("--verify".into());
    let monolith = Monolith {
        name: "classified_roles",
        modulepath: vec![fixture.join("modules")],
        site: fixture.join("manifests/classifier.pp"),
        split_args,
        roles: roles
            .iter()
            .map(|role| (role.to_string(), json!({})))
            .collect(),
        data: read_yaml(&fixture.join("data.yaml")),
        node: "node-1.test",
        node_classes: &[],
        role_classes: &[
            ("base", "role::base"),
            ("db", "role::db"),
            ("edge", "role::edge"),
            ("web", "role::web"),
        ],
    };
    check_equivalence(TEST, &monolith);
}

/// oci::controller, the 7,000-line role class of the Debian-packaged
/// OpenStack modules, for the node of fixtures/split/oci_controller: its
/// facts, its Hiera data, and oci::generic, which OCI's classifier declares
/// on every node besides the role class (oci::controller orders its SSL keys
/// after the key oci::generic writes).
#[test]
#[ignore = "issue 11 is open: oci::controller's split does not keep its catalog yet (docs/split.md, Where it stands); run with --ignored"]
fn oci_controller_tasks_compile_to_the_monoliths_catalog() {
    const TEST: &str = "split_catalog_equivalence_oci_controller";
    let role_class = Path::new(DEBIAN_MODULES).join("oci/manifests/controller.pp");
    let oci = if role_class.exists() {
        Ok(())
    } else {
        Err(format!(
            "{} is missing: install the Debian package puppet-module-oci",
            role_class.display()
        ))
    };
    if require_reference(TEST, puppet_available()).is_none()
        || require_reference(TEST, oci).is_none()
    {
        return;
    }
    let fixture = repo_root().join("fixtures/split/oci_controller");
    let monolith = Monolith {
        name: "oci::controller",
        modulepath: vec![PathBuf::from(DEBIAN_MODULES)],
        site: fixture.join("site.pp"),
        split_args: vec!["--entry".into(), "oci::controller".into()],
        // Without roles, a split's tasks are all of the group `all`.
        roles: vec![("all".to_string(), read_yaml(&fixture.join("facts.yaml")))],
        data: read_yaml(&fixture.join("data.yaml")),
        node: "ctl-1.example.com",
        node_classes: &["oci::generic"],
        role_classes: &[],
    };
    check_equivalence(TEST, &monolith);
}
