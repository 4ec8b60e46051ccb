//! The architecture checks (`granule/...`): problems no single file shows.
//! They run on the whole codebase at once (the module path, the linted
//! manifests and, with `--tasks`, the task manifests), resolved by the
//! analyzer, and report each problem where its cause is written.

use super::{Kind, Problem};
use crate::analysis::Analysis;
use crate::hashing::{FastMap, FastSet};
use crate::index::SourceFile;
use crate::model::{Edge, Location, Vertex};
use crate::semantic::{HolderId, Semantic};
use rayon::prelude::*;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A task of a `tasks.yaml` with a Puppet manifest: its id and manifest
/// file (as the descriptor names it, resolved against the file's directory).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskManifest {
    pub id: String,
    pub manifest: PathBuf,
    /// The tasks it runs after (`requires`, `cross-depends`, and the
    /// `required_for` of others, resolved to ids).
    pub after: Vec<String>,
    /// The roles it runs on, when tasks.yaml names them all (`None`: any
    /// role, or patterns).
    pub roles: Option<Vec<String>>,
}

/// How guards are decided, as `granule split` decided them: the
/// expression holding a node's role (`--role-var`) and the values assumed
/// for others (`--assume EXPR=VALUE`). With neither, every branch may run.
#[derive(Debug, Clone, Default)]
pub struct Guards {
    pub role_var: Option<String>,
    pub assumptions: Vec<(String, String)>,
}

impl Guards {
    fn decide_any(&self) -> bool {
        self.role_var.is_some() || !self.assumptions.is_empty()
    }
}

/// One task as the checks see it: the units its manifest reaches. Where
/// guards are decided, a task that runs on several roles is seen once per
/// role (with one role and what its manifest declares there).
pub struct Task {
    pub id: String,
    /// The manifest's path as the codebase knows the file.
    pub manifest: Arc<str>,
    /// The top scope and nodes of the manifest, and every class and define
    /// they declare, directly or through others.
    pub units: FastSet<Vertex>,
    /// Edges (indexes into the analysis' edges) of those units written
    /// under a branch that cannot run on the task's role.
    pub off: Arc<FastSet<u32>>,
    /// The tasks that run before it, directly or through others.
    pub after: FastSet<String>,
    /// The roles it runs on (`None`: any), as sorted indexes into the
    /// roles tasks.yaml names: compared for every pair of tasks that meet.
    pub roles: Option<Vec<u32>>,
}

impl Task {
    /// Whether both tasks may run on one node: only then do their
    /// catalogs meet on it.
    pub fn shares_node_with(&self, other: &Task) -> bool {
        let (Some(mine), Some(theirs)) = (&self.roles, &other.roles) else {
            return true;
        };
        sorted_intersect(mine, theirs)
    }

    /// Whether the edge at `index` is code its catalog applies.
    pub fn applies(&self, index: u32, edge: &Edge) -> bool {
        self.units.contains(&edge.unit) && !self.off.contains(&index)
    }
}

/// Whether two ascending slices share an element.
pub fn sorted_intersect<T: Ord>(one: &[T], other: &[T]) -> bool {
    let (mut a, mut b) = (one.iter().peekable(), other.iter().peekable());
    while let (Some(x), Some(y)) = (a.peek(), b.peek()) {
        match x.cmp(y) {
            std::cmp::Ordering::Less => _ = a.next(),
            std::cmp::Ordering::Greater => _ = b.next(),
            std::cmp::Ordering::Equal => return true,
        }
    }
    false
}

/// What the architecture checks look at.
pub struct Workspace<'a> {
    pub analysis: &'a Analysis,
    /// The tasks of `--tasks`; empty without it.
    pub tasks: Vec<Task>,
    /// Each codebase file's identity on disk.
    identities: FastMap<Arc<str>, FileId>,
    /// The files linted (the command's PATHs).
    linted: FastSet<FileId>,
    /// For each unit, the edges declaring it.
    declaring: FastMap<&'a Vertex, Vec<&'a Edge>>,
    /// The semantic model of the analysis, built once where there are
    /// tasks (the checks on tasks read it).
    semantic: Option<Semantic<'a>>,
    /// For each unit, the tasks (indexes, ascending) whose catalog holds it.
    holding: FastMap<Vertex, Vec<usize>>,
}

impl<'a> Workspace<'a> {
    /// `tasks`' manifests must be among the analysis' loose manifests;
    /// `linted` are the files linted.
    pub fn new(
        analysis: &'a Analysis,
        tasks: &[TaskManifest],
        linted: &[PathBuf],
        guards: &Guards,
    ) -> Workspace<'a> {
        let identities: FastMap<Arc<str>, FileId> = analysis
            .codebase
            .files
            .par_iter()
            .filter_map(|file| Some((file.path.clone(), FileId::of(Path::new(&*file.path))?)))
            .collect();
        let linted = linted.iter().filter_map(|path| FileId::of(path)).collect();
        let mut nodes_of_file: FastMap<&Arc<str>, Vec<&Vertex>> = FastMap::default();
        for edge in &analysis.edges {
            if matches!(edge.unit, Vertex::Node { .. }) {
                let nodes = nodes_of_file.entry(&edge.location.file).or_default();
                if !nodes.contains(&&edge.unit) {
                    nodes.push(&edge.unit);
                }
            }
        }
        let found: Vec<(&TaskManifest, &Arc<str>)> = tasks
            .iter()
            .filter_map(|task| {
                // The descriptor may spell the path otherwise than the PATHs.
                let manifest = FileId::of(&task.manifest)?;
                let file = analysis
                    .codebase
                    .files
                    .iter()
                    .find(|f| identities.get(&f.path) == Some(&manifest))?;
                Some((task, &file.path))
            })
            .collect();
        let starts: Vec<Vec<Vertex>> = found
            .iter()
            .map(|(_, path)| {
                let mut starts = vec![Vertex::TopScope {
                    file: (*path).clone(),
                }];
                starts.extend(
                    nodes_of_file
                        .get(path)
                        .into_iter()
                        .flatten()
                        .map(|&n| n.clone()),
                );
                starts
            })
            .collect();
        let semantic = (!found.is_empty()).then(|| {
            let semantic = Semantic::new(analysis);
            // The catalogs analysed are the tasks'.
            let roots: Vec<HolderId> = starts
                .iter()
                .flatten()
                .filter_map(|start| semantic.holder(start))
                .collect();
            semantic.keep_within(&roots);
            semantic
        });
        let tasks = match &semantic {
            Some(semantic) => task_views(analysis, semantic, tasks, &found, &starts, guards),
            None => Vec::new(),
        };
        let mut declaring: FastMap<&Vertex, Vec<&Edge>> = FastMap::default();
        for edge in &analysis.edges {
            if edge.unit != edge.to && analysis.declares_unit(edge) {
                declaring.entry(&edge.to).or_default().push(edge);
            }
        }
        let mut holding: FastMap<Vertex, Vec<usize>> = FastMap::default();
        for (at, task) in tasks.iter().enumerate() {
            for unit in &task.units {
                holding.entry(unit.clone()).or_default().push(at);
            }
        }
        Workspace {
            analysis,
            tasks,
            identities,
            linted,
            declaring,
            semantic,
            holding,
        }
    }

    /// The semantic model of the analysis (classes, resources, collectors
    /// and what declaring each puts in a catalog); `None` without tasks.
    pub fn semantic(&self) -> Option<&Semantic<'a>> {
        self.semantic.as_ref()
    }

    /// The identity on disk of a codebase file.
    pub fn file_id(&self, file: &Arc<str>) -> Option<FileId> {
        self.identities.get(file).copied()
    }

    /// Whether the codebase file is one of those linted.
    pub fn is_linted(&self, file: &Arc<str>) -> bool {
        self.file_id(file)
            .is_some_and(|id| self.linted.contains(&id))
    }

    /// For each unit, the edges declaring it (`include`, `class { }`, an
    /// instance of a define), written in other units.
    pub fn declaring_edges(&self) -> &FastMap<&'a Vertex, Vec<&'a Edge>> {
        &self.declaring
    }

    /// The entries whose catalog holds `unit`: the units nothing declares
    /// (top scopes, nodes, classes no code includes) from which a chain of
    /// declarations leads to it; the unit itself when nothing declares it.
    pub fn entries_reaching(&self, unit: &Vertex) -> FastSet<Vertex> {
        let declaring = &self.declaring;
        let mut entries = FastSet::default();
        let mut seen: FastSet<&Vertex> = FastSet::default();
        let mut queue = vec![unit];
        while let Some(at) = queue.pop() {
            if !seen.insert(at) {
                continue;
            }
            match declaring.get(at) {
                Some(above) => queue.extend(above.iter().map(|edge| &edge.unit)),
                None => {
                    entries.insert(at.clone());
                }
            }
        }
        entries
    }

    /// An entry whose catalog holds all of `units` (the first by name), if
    /// one does.
    pub fn common_entry<'u>(&self, units: impl IntoIterator<Item = &'u Vertex>) -> Option<Vertex> {
        let mut common: Option<FastSet<Vertex>> = None;
        for unit in units {
            let reaching = self.entries_reaching(unit);
            common = Some(match common {
                None => reaching,
                Some(common) => common.intersection(&reaching).cloned().collect(),
            });
        }
        common?.into_iter().min()
    }

    /// The codebase's files that are linted.
    pub fn linted_files(&self) -> impl Iterator<Item = &'a SourceFile> + '_ {
        self.analysis
            .codebase
            .files
            .iter()
            .filter(|file| self.is_linted(&file.path))
    }

    /// The tasks whose catalog holds `unit`.
    pub fn tasks_of(&self, unit: &Vertex) -> Vec<&Task> {
        let holding = self.tasks_holding(unit);
        holding.iter().map(|&at| &self.tasks[at]).collect()
    }

    /// The tasks (indexes into `tasks`, ascending) whose catalog holds
    /// `unit`.
    pub fn tasks_holding(&self, unit: &Vertex) -> &[usize] {
        self.holding.get(unit).map_or(&[], Vec::as_slice)
    }

    /// The files holding code some task reaches: with `--tasks`, problems
    /// there are reported even when the file is not linted itself.
    pub fn task_files(&self) -> FastSet<Arc<str>> {
        if self.tasks.is_empty() {
            return FastSet::default();
        }
        let reached: FastSet<&Vertex> = self.tasks.iter().flat_map(|t| &t.units).collect();
        let mut files: FastSet<Arc<str>> = self.tasks.iter().map(|t| t.manifest.clone()).collect();
        files.extend(
            self.analysis
                .edges
                .iter()
                .filter(|edge| reached.contains(&edge.unit))
                .map(|edge| edge.location.file.clone()),
        );
        files
    }
}

/// A problem of an architecture check and the file it is in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    pub file: Arc<str>,
    pub problem: Problem,
}

/// Where an architecture check reports its problems.
pub struct Findings {
    check: &'static str,
    kind: Kind,
    found: Vec<Located>,
}

impl Findings {
    pub fn new(check: &'static str, kind: Kind) -> Findings {
        Findings {
            check,
            kind,
            found: Vec::new(),
        }
    }

    pub fn add(&mut self, at: &Location, message: impl Into<String>) {
        self.found.push(Located {
            file: at.file.clone(),
            problem: Problem {
                check: self.check,
                kind: self.kind,
                message: message.into(),
                line: at.line as usize,
                column: at.column as usize,
                ignored: None,
                fix: None,
                fixed: false,
            },
        });
    }

    pub fn into_vec(self) -> Vec<Located> {
        self.found
    }
}

/// Runs the enabled architecture checks; their problems by file (with the
/// file's path as the codebase knows it), each file's in check order, then
/// line and column.
/// Only files linted are kept, and with `--tasks` the files of the code the
/// tasks reach.
pub fn run(
    workspace: &Workspace,
    checks: &[&'static super::rules::Check],
) -> HashMap<FileId, (PathBuf, Vec<Problem>)> {
    let task_files = workspace.task_files();
    // The checks are independent: each runs on its own thread.
    let found: Vec<Vec<Located>> = checks
        .par_iter()
        .filter_map(|check| {
            let super::rules::Run::Codebase(run) = check.run else {
                return None;
            };
            let mut findings = Findings::new(check.name, check.kind);
            run(workspace, &mut findings);
            let mut found = findings.into_vec();
            // A task seen once per role may find one problem on several.
            found.sort_by(|a, b| {
                (
                    &a.file,
                    a.problem.line,
                    a.problem.column,
                    &a.problem.message,
                )
                    .cmp(&(
                        &b.file,
                        b.problem.line,
                        b.problem.column,
                        &b.problem.message,
                    ))
            });
            found.dedup();
            Some(found)
        })
        .collect();
    let mut by_file: HashMap<FileId, (PathBuf, Vec<Problem>)> = HashMap::new();
    for located in found.into_iter().flatten() {
        let Some(id) = workspace.file_id(&located.file) else {
            continue;
        };
        if workspace.linted.contains(&id) || task_files.contains(&located.file) {
            by_file
                .entry(id)
                .or_insert_with(|| (PathBuf::from(&*located.file), Vec::new()))
                .1
                .push(located.problem);
        }
    }
    by_file
}

/// The tasks as the checks see them: what each manifest (its top scope and
/// nodes, `starts`) puts in its catalog. Where guards are decided, a task
/// is seen once per role it runs on, with the guards of its own code and of
/// the module code it reaches decided for that role (as `granule split`
/// decides them); a task whose roles tasks.yaml does not name, or every
/// task when only assumptions are given, once, with the assumptions.
fn task_views(
    analysis: &Analysis,
    semantic: &Semantic,
    manifests: &[TaskManifest],
    found: &[(&TaskManifest, &Arc<str>)],
    starts: &[Vec<Vertex>],
    guards: &Guards,
) -> Vec<Task> {
    let mut roles: Vec<&str> = found
        .iter()
        .filter_map(|(task, _)| task.roles.as_ref())
        .flatten()
        .map(String::as_str)
        .collect();
    roles.sort_unstable();
    roles.dedup();
    // The first "role" stands for any role: the assumptions alone decide.
    let mut role_args: Vec<Option<&str>> = vec![None];
    if guards.role_var.is_some() {
        role_args.extend(roles.iter().map(|&role| Some(role)));
    }
    let off: Vec<Arc<FastSet<u32>>> = if guards.decide_any() {
        edges_off(analysis, semantic, found, guards, &role_args)
    } else {
        vec![Arc::default()]
    };
    let mut views = Vec::new();
    for ((task, path), starts) in found.iter().zip(starts) {
        let after = runs_after(manifests, &task.id);
        let roots: Vec<HolderId> = starts
            .iter()
            .filter_map(|start| semantic.holder(start))
            .collect();
        let index_of = |role: &String| roles.binary_search(&role.as_str()).ok().map(|at| at as u32);
        let per_role: Vec<(usize, Option<Vec<u32>>)> = match (&guards.role_var, &task.roles) {
            (Some(_), Some(task_roles)) => task_roles
                .iter()
                .filter_map(|role| {
                    let at = index_of(role)?;
                    Some((1 + at as usize, Some(vec![at])))
                })
                .collect(),
            (_, task_roles) => {
                let indexes = task_roles.as_ref().map(|task_roles| {
                    let mut indexes: Vec<u32> = task_roles.iter().filter_map(index_of).collect();
                    indexes.sort_unstable();
                    indexes.dedup();
                    indexes
                });
                vec![(0, indexes)]
            }
        };
        for (at, roles) in per_role {
            let units = semantic
                .closure_without(&roots, &off[at])
                .iter()
                .map(|holder| semantic.vertex(holder).clone())
                .collect();
            views.push(Task {
                id: task.id.clone(),
                manifest: (*path).clone(),
                units,
                off: off[at].clone(),
                after: after.clone(),
                roles,
            });
        }
    }
    views
}

/// Per role of `role_args`, the edges of the task manifests' top scopes
/// and of module code written under a branch that cannot run there.
fn edges_off(
    analysis: &Analysis,
    semantic: &Semantic,
    found: &[(&TaskManifest, &Arc<str>)],
    guards: &Guards,
    role_args: &[Option<&str>],
) -> Vec<Arc<FastSet<u32>>> {
    use crate::split::eval::{Evaluator, Value};
    use crate::split::gates;
    use crate::split::units::{Monolith, Scope};
    let files = &analysis.codebase.files;
    let file_index: FastMap<&Arc<str>, usize> = files
        .iter()
        .enumerate()
        .map(|(at, file)| (&file.path, at))
        .collect();
    let manifest_files: Vec<usize> = found
        .iter()
        .filter_map(|(_, path)| file_index.get(path).copied())
        .collect();
    // A task manifest is a top scope of its own: what it reads is Hiera's
    // or the node's, unknown here but for the role and the assumptions.
    let mut monolith = Monolith::default();
    monolith.scopes = vec![Scope {
        class: None,
        parent: None,
        file: manifest_files.first().copied().unwrap_or(0),
        params: Vec::new(),
        args: Vec::new(),
        guards: Vec::new(),
        stage: None,
        declared_at: None,
        reason: String::new(),
        data_name: String::new(),
        order: 0,
    }];
    let assumptions: Vec<(String, Value)> = guards
        .assumptions
        .iter()
        .map(|(expr, value)| (expr.clone(), Value::parse(value)))
        .collect();
    let evaluator = Evaluator::new(files, &monolith, guards.role_var.as_deref(), &assumptions);
    let module_off = gates::edges_off(semantic, &evaluator, role_args, &|_| true);
    let top_off = gates::top_scope_edges_off(semantic, &evaluator, role_args, &manifest_files);
    module_off
        .into_iter()
        .zip(top_off)
        .map(|(mut module, top)| {
            module.extend(top);
            Arc::new(module)
        })
        .collect()
}

/// The ids of the tasks `id` runs after, transitively.
fn runs_after(tasks: &[TaskManifest], id: &str) -> FastSet<String> {
    let mut found = FastSet::default();
    let mut stack = vec![id.to_string()];
    while let Some(at) = stack.pop() {
        let Some(task) = tasks.iter().find(|task| task.id == at) else {
            continue;
        };
        for before in &task.after {
            if found.insert(before.clone()) {
                stack.push(before.clone());
            }
        }
    }
    found
}

/// A file's identity on disk (device and inode): paths naming it
/// differently (relative, absolute, through a symbolic link) compare equal,
/// for one `stat` (resolving a path costs a `readlink` per component).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FileId {
    device: u64,
    inode: u64,
}

impl FileId {
    /// `None` when the file cannot be read (it vanished).
    pub fn of(path: &Path) -> Option<FileId> {
        use std::os::unix::fs::MetadataExt;
        let metadata = std::fs::metadata(path).ok()?;
        Some(FileId {
            device: metadata.dev(),
            inode: metadata.ino(),
        })
    }
}
