//! The architecture checks' side of `granule lint`: which codebase to
//! analyze (the module path given or found around the linted files, the
//! linted manifests, the task manifests of `--tasks`) and their problems.

use granule_analyzer::lint::architecture::{self, FileId, Guards, TaskManifest, Workspace};
use granule_analyzer::lint::rules::Check;
use granule_analyzer::lint::Problem;
use granule_analyzer::split::units;
use granule_analyzer::{Analysis, LoadedModules};
use granule_executor::catalog::closest;
use granule_executor::descriptor::{self, Action};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

/// What the architecture checks need from the command line.
pub struct Scope<'a> {
    pub paths: &'a [PathBuf],
    pub files: &'a [PathBuf],
    pub modulepath: &'a [PathBuf],
    pub tasks: Option<&'a Path>,
    /// How the tasks' guards are decided (the split's role and assumptions).
    pub guards: &'a Guards,
    /// The module path's code when already loaded (by the split whose
    /// output is linted): its modules are read once.
    pub loaded: Option<&'a LoadedModules>,
}

/// The architecture checks' problems, by file.
pub fn problems(
    scope: &Scope,
    checks: &[&'static Check],
) -> Result<HashMap<FileId, (PathBuf, Vec<Problem>)>, String> {
    // Inferred once (it reads directories), for the tasks and the analysis.
    let modulepath = modulepath_of(scope);
    let scope = Scope {
        modulepath: &modulepath,
        ..*scope
    };
    let tasks = match scope.tasks {
        Some(file) => task_manifests(file, None, &modulepath)?,
        None => Vec::new(),
    };
    let analysis = analysis_of_tasks(&scope, &tasks)?;
    warn_unwritten_guards(analysis, scope.guards);
    let workspace = Workspace::new(analysis, &tasks, scope.files, scope.guards);
    Ok(architecture::run(&workspace, checks))
}

/// A `--role-var` or `--assume` expression no manifest writes decides
/// nothing (a misspelt key): said, with the nearest one written, as the
/// split says it.
fn warn_unwritten_guards(analysis: &Analysis, guards: &Guards) {
    let given = guards
        .role_var
        .iter()
        .map(|role_var| ("--role-var", role_var))
        .chain(
            guards
                .assumptions
                .iter()
                .map(|(expression, _)| ("--assume", expression)),
        );
    for (option, expression) in given {
        if let Some(unwritten) = units::unwritten(&analysis.codebase.files, expression) {
            eprintln!(
                "{}",
                unwritten_warning(option, &unwritten, "it decides no guard")
            );
        }
    }
}

/// The warning for an expression `option` gives that no manifest read
/// writes, with `effect`, what that means, and the nearest expression
/// written.
pub fn unwritten_warning(option: &str, unwritten: &units::Unwritten, effect: &str) -> String {
    let hint = match closest(&unwritten.expression, unwritten.written.iter()) {
        Some(near) => format!("did you mean `{near}`?"),
        None => "write it as the code does, e.g. `$::settings['mode']`".to_string(),
    };
    format!(
        "warning: {option} `{}`: no manifest read (linted, given or on the module path) writes \
         this expression, so {effect}; {hint}",
        unwritten.expression
    )
}

/// The module path given, or the one around the linted paths.
fn modulepath_of(scope: &Scope) -> Vec<PathBuf> {
    if scope.modulepath.is_empty() {
        infer_modulepath(scope.paths)
    } else {
        scope.modulepath.to_vec()
    }
}

/// The architecture checks' problems, by file, with `tasks` standing for
/// the tasks of `scope.tasks`; and the analysis they ran on, whose files
/// are the manifests as read from disk.
pub fn problems_of_tasks(
    scope: &Scope,
    tasks: &[TaskManifest],
    checks: &[&'static Check],
) -> Result<(ProblemsByFile, &'static Analysis), String> {
    let analysis = analysis_of_tasks(scope, tasks)?;
    let workspace = Workspace::new(analysis, tasks, scope.files, scope.guards);
    Ok((architecture::run(&workspace, checks), analysis))
}

/// Problems by file: its path and what was found in it.
pub type ProblemsByFile = HashMap<FileId, (PathBuf, Vec<Problem>)>;

/// The module path's code and the linted files, with the manifests of
/// `tasks`, analysed.
fn analysis_of_tasks(scope: &Scope, tasks: &[TaskManifest]) -> Result<&'static Analysis, String> {
    let modulepath = modulepath_of(scope);
    let module_dirs: Vec<PathBuf> = modulepath
        .iter()
        .filter_map(|d| d.canonicalize().ok())
        .collect();
    // Resolved per directory: a file's own path is not resolved (a
    // `readlink` per component of every file adds up on a big codebase).
    let mut resolved_dirs: HashMap<PathBuf, Option<PathBuf>> = HashMap::new();
    // Whether the module path's loader reads `file`: only a module's
    // `manifests/` is code; any other file under a directory of modules
    // (a linted manifest beside them) is loaded as a manifest of its own.
    let mut in_modulepath = |file: &Path| {
        // As written first: a module that is a symbolic link resolves
        // elsewhere, yet the module path loads it.
        let written = without_dots(file);
        if modulepath
            .iter()
            .any(|m| in_module_manifests(&written, &without_dots(m)))
        {
            return true;
        }
        let dir = file.parent().unwrap_or(Path::new("."));
        let resolved = resolved_dirs
            .entry(dir.to_path_buf())
            .or_insert_with(|| dir.canonicalize().ok());
        resolved
            .as_ref()
            .is_some_and(|dir| module_dirs.iter().any(|m| in_module_manifests(dir, m)))
    };
    let mut manifests: Vec<PathBuf> = scope
        .files
        .iter()
        .filter(|file| !in_modulepath(file))
        .cloned()
        .collect();
    // A task manifest among the PATHs, however spelled, is loaded once.
    let listed: HashSet<FileId> = manifests.iter().filter_map(|m| FileId::of(m)).collect();
    for task in tasks {
        let is_listed = FileId::of(&task.manifest).is_some_and(|id| listed.contains(&id));
        if !is_listed && !in_modulepath(&task.manifest) {
            manifests.push(task.manifest.clone());
        }
    }
    // Left to the operating system at exit, as the command ends after
    // reporting: freeing every tree and edge one by one costs more.
    let mut analysis = match scope.loaded {
        Some(loaded) if loaded.code.modulepath == modulepath => {
            Analysis::with_modules(loaded, &manifests)?
        }
        _ => Analysis::load(&modulepath, &manifests)?,
    };
    // The tasks are what nodes compile: every declaration is in the code.
    if !tasks.is_empty() {
        analysis.leave_out_untaken_branches(&[]);
    }
    Ok(Box::leak(Box::new(analysis)))
}

/// Whether `path` (a file, or the directory holding it) lies in the
/// `manifests/` of a module of the directory of modules `modules`.
pub fn in_module_manifests(path: &Path, modules: &Path) -> bool {
    path.strip_prefix(modules).is_ok_and(|within| {
        within
            .components()
            .nth(1)
            .is_some_and(|part| part.as_os_str() == "manifests")
    })
}

/// A path without its `.` components (`./modules/x` is `modules/x`).
pub fn without_dots(path: &Path) -> PathBuf {
    path.components()
        .filter(|part| !matches!(part, std::path::Component::CurDir))
        .collect()
}

/// The module path around the linted paths when none is given, from the
/// nearest directory (the path itself or above) that is
/// * an environment or control repository (it has `modules/`, maybe
///   `site/`, holding modules): those directories;
/// * a directory of modules (and no module itself): that directory;
/// * a module (a path under its `manifests/`, the module having a
///   `metadata.json` or standing in a `modules/` or `site/` directory): the
///   directory holding it.
///
/// Paths in none of these give none (their code is analyzed alone).
pub fn infer_modulepath(paths: &[PathBuf]) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = Vec::new();
    let cwd = std::env::current_dir()
        .and_then(|dir| dir.canonicalize())
        .unwrap_or_default();
    // Each directory's verdict once: many files share their ancestors, and
    // the verdict of one near the root reads a big directory.
    let mut verdicts: HashMap<PathBuf, Option<Vec<PathBuf>>> = HashMap::new();
    let mut resolved: HashMap<PathBuf, Option<PathBuf>> = HashMap::new();
    for path in paths {
        let start = if path.is_dir() {
            path.clone()
        } else {
            match path.parent() {
                Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
                _ => PathBuf::from("."),
            }
        };
        let start = resolved
            .entry(start.clone())
            .or_insert_with(|| start.canonicalize().ok());
        let Some(start) = start.clone() else {
            continue;
        };
        let dirs = start.ancestors().find_map(|dir| {
            verdicts
                .entry(dir.to_path_buf())
                .or_insert_with(|| modulepath_at(dir))
                .clone()
        });
        for dir in dirs.into_iter().flatten() {
            // Relative to the working directory when under it, so that
            // messages name files the way the user does.
            let dir = dir.strip_prefix(&cwd).map_or(dir.clone(), |relative| {
                if relative.as_os_str().is_empty() {
                    PathBuf::from(".")
                } else {
                    relative.to_path_buf()
                }
            });
            if !found.contains(&dir) {
                found.push(dir);
            }
        }
    }
    found
}

/// The module path `dir` stands for, if it is an environment, a directory
/// of modules or a module (see [`infer_modulepath`]).
fn modulepath_at(dir: &Path) -> Option<Vec<PathBuf>> {
    let environment: Vec<PathBuf> = ["site", "modules"]
        .iter()
        .map(|name| dir.join(name))
        .filter(|d| holds_modules(d))
        .collect();
    if dir.join("modules").is_dir() && !environment.is_empty() {
        return Some(environment);
    }
    if holds_modules(dir) && !dir.join("manifests").is_dir() {
        return Some(vec![dir.to_path_buf()]);
    }
    let holder = dir.parent()?;
    let is_module = dir.join("metadata.json").is_file()
        || holder
            .file_name()
            .is_some_and(|name| name == "modules" || name == "site");
    (is_module && dir.join("manifests").is_dir()).then(|| vec![holder.to_path_buf()])
}

/// Whether some subdirectory of `dir` is a module (has `manifests/`).
fn holds_modules(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|entries| {
        entries
            .filter_map(Result::ok)
            .any(|entry| entry.path().join("manifests").is_dir())
    })
}

/// The Puppet tasks of a descriptor file, each manifest where the runner
/// finds it (the loader reads a relative path beside the descriptor); with
/// `installed` = (where the nodes find a directory, where it is here),
/// where it is here. A manifest named under the task's own
/// `puppet_modules`, as Fuel names them (`/etc/puppet/modules/...`), and
/// not on this machine is looked for in `modulepath`.
pub fn task_manifests(
    file: &Path,
    installed: Option<(&Path, &Path)>,
    modulepath: &[PathBuf],
) -> Result<Vec<TaskManifest>, String> {
    let set = descriptor::load(&[file.to_path_buf()]).map_err(|e| {
        // The caller says `error:` once.
        let text = e.to_string();
        text.strip_prefix("error: ")
            .unwrap_or(&text)
            .trim_end()
            .to_string()
    })?;
    let mut tasks = Vec::new();
    for task in &set.tasks {
        let Action::Puppet {
            manifest,
            modulepath: on_node,
            ..
        } = &task.action
        else {
            continue;
        };
        let written = Path::new(manifest);
        let moved =
            installed.and_then(|(there, here)| Some(here.join(written.strip_prefix(there).ok()?)));
        let in_modules = on_node
            .iter()
            .flat_map(|entries| entries.split(':'))
            .filter(|entry| !entry.is_empty())
            .filter_map(|entry| written.strip_prefix(entry).ok())
            .flat_map(|within| modulepath.iter().map(move |dir| dir.join(within)));
        let Some(path) = moved
            .into_iter()
            .chain([written.to_path_buf()])
            .chain(in_modules)
            .find(|path| path.is_file())
        else {
            let looked = match on_node {
                Some(modules) if !modulepath.is_empty() => format!(
                    " (nor, below its puppet_modules {modules}, in the module path {})",
                    std::env::join_paths(modulepath)
                        .map(|joined| joined.to_string_lossy().into_owned())
                        .unwrap_or_default()
                ),
                _ => String::new(),
            };
            return Err(format!(
                "{}: task `{}`: its puppet_manifest {manifest} is not a file{looked}",
                task.origin, task.id
            ));
        };
        let mut after: Vec<String> = task.requires.clone();
        for cross in &task.cross_depends {
            after.extend(
                set.tasks
                    .iter()
                    .filter(|other| cross.name.matches(&other.id))
                    .map(|other| other.id.clone()),
            );
        }
        after.extend(
            set.tasks
                .iter()
                .filter(|other| other.required_for.contains(&task.id))
                .map(|other| other.id.clone()),
        );
        let roles: Option<Vec<String>> = task
            .roles
            .iter()
            .map(|role| role.exact().map(str::to_string))
            .collect::<Option<Vec<String>>>()
            .filter(|roles| !roles.is_empty());
        tasks.push(TaskManifest {
            id: task.id.clone(),
            manifest: path,
            after,
            roles,
        });
    }
    Ok(tasks)
}
