//! The checks on tasks (`granule lint --tasks`) against the real Puppet and
//! the real `granule split`:
//! * granule/task-undefined-variable reports exactly the reads Puppet warns
//!   "Unknown variable" about when it compiles each task manifest of the
//!   rule's fixtures as the runner does (`puppet apply` with the task's
//!   module path and Hiera data);
//! * granule/cross-task-reference quotes the error Puppet fails each task's
//!   catalog with, and the tasks of its negative fixture compile;
//! * granule/duplicate-resource, on the fixtures with tasks, reports the
//!   pairs of declarations Puppet refuses on some role of a task, and no
//!   other;
//! * the tasks `granule split` cuts the installer fixture into trip
//!   neither check, and removing one of their lookups trips the variable
//!   check where a class reads the value.

use granule_analyzer::model::capitalize;
use granule_tests::executor::{granule_in, scratch, text, tool_available};
use granule_tests::lint_fixtures::{
    canonical, catalog_errors, fixture_cases, is_positive, lint_options, lint_problems,
    refused_duplicates, reported_duplicates, Found,
};
use granule_tests::{repo_root, require_reference};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const UNDEFINED_VARIABLE: &str = "granule/task-undefined-variable";
const CROSS_TASK_REFERENCE: &str = "granule/cross-task-reference";
const DUPLICATE_RESOURCE: &str = "granule/duplicate-resource";

/// `granule lint --format json --tasks TASKS PATH` in `dir`: the problems of
/// `check`.
fn lint(dir: &Path, tasks: &Path, path: &str, check: &str) -> Vec<Found> {
    let tasks = tasks.to_str().expect("a UTF-8 path");
    let options = lint_options(dir);
    let mut args = vec!["--tasks", tasks];
    args.extend(options.iter().map(String::as_str));
    args.push(path);
    lint_problems(dir, &args, check)
}

/// A task of a fixture's tasks.yaml: its id, manifest (absolute) and the
/// roles it runs on.
struct FixtureTask {
    id: String,
    manifest: PathBuf,
    roles: Vec<String>,
}

/// The cases of a rule's fixtures, each with its tasks, as its tasks.yaml
/// lists them.
fn cases(rule: &str) -> Vec<(PathBuf, Vec<FixtureTask>)> {
    fixture_cases(rule)
        .into_iter()
        .filter(|case| case.join("tasks.yaml").is_file())
        .map(|case| {
            let tasks = task_manifests(&case);
            (case, tasks)
        })
        .collect()
}

/// The `id`, `groups` and `puppet_manifest` of each task of the case's
/// tasks.yaml (the fixtures write `id:`, then `groups: [a, b]` if any,
/// then the manifest).
fn task_manifests(case: &Path) -> Vec<FixtureTask> {
    let yaml = std::fs::read_to_string(case.join("tasks.yaml")).expect("tasks.yaml");
    let mut id = String::new();
    let mut roles = Vec::new();
    let mut tasks = Vec::new();
    for line in yaml.lines().map(str::trim) {
        if let Some(value) = line.strip_prefix("- id:") {
            id = value.trim().to_string();
            roles.clear();
        } else if let Some(groups) = line.strip_prefix("groups:") {
            roles = groups
                .trim()
                .trim_start_matches('[')
                .trim_end_matches(']')
                .split(',')
                .map(|role| role.trim().to_string())
                .filter(|role| !role.is_empty())
                .collect();
        } else if let Some(manifest) = line.strip_prefix("puppet_manifest:") {
            tasks.push(FixtureTask {
                id: id.clone(),
                manifest: case.join(manifest.trim()),
                roles: roles.clone(),
            });
        }
    }
    assert!(!tasks.is_empty(), "{}: no tasks", case.display());
    tasks
}

/// What `puppet apply --noop` says compiling and applying one task manifest
/// on its own, as the runner applies it: stdout and stderr. After the
/// case's modules, Puppet finds fixtures/stand-ins (stdlib's functions).
fn puppet_apply(case: &Path, manifest: &Path, puppet_dir: &Path, facts: &[(&str, &str)]) -> String {
    let hiera = case.join("hiera.yaml");
    let options: Vec<String> = if hiera.is_file() {
        vec![format!("--hiera_config={}", hiera.display())]
    } else {
        Vec::new()
    };
    let modulepath = format!(
        "{}:{}",
        case.join("modules").display(),
        repo_root().join("fixtures/stand-ins").display()
    );
    granule_tests::lint_fixtures::puppet_apply(manifest, &modulepath, puppet_dir, &options, facts)
}

/// A scratch directory for Puppet's own directories, when Puppet is
/// installed (a missing Puppet fails the test under `CI=true`).
fn puppet_scratch(test: &str) -> Option<PathBuf> {
    require_reference(test, tool_available("puppet", "puppet"))?;
    Some(scratch(test))
}

/// What `puppet apply --noop` says of a task's manifest: once per role of
/// the task, the role given as a fact, in a case that tells lint the role
/// (`--role-var $::role`); once otherwise.
fn compile_per_role(case: &Path, task: &FixtureTask, puppet_dir: &Path) -> Vec<String> {
    if !lint_options(case).iter().any(|o| o == "--role-var") {
        return vec![puppet_apply(case, &task.manifest, puppet_dir, &[])];
    }
    assert!(
        !task.roles.is_empty(),
        "{}: task {} names no groups: it would be compiled on no role",
        case.display(),
        task.id
    );
    task.roles
        .iter()
        .map(|role| puppet_apply(case, &task.manifest, puppet_dir, &[("role", role)]))
        .collect()
}

/// Where Puppet warns "Unknown variable: 'x'. (file: F, line: L, column: C)".
fn unknown_variables(log: &str) -> Vec<(PathBuf, u64, u64)> {
    log.lines()
        .filter(|line| line.contains("Unknown variable:"))
        .filter_map(|line| {
            let place = line.split("(file: ").nth(1)?;
            let (file, rest) = place.split_once(", line: ")?;
            let (line, rest) = rest.split_once(", column: ")?;
            let column = rest.split(')').next()?;
            Some((
                PathBuf::from(file),
                line.parse().ok()?,
                column.parse().ok()?,
            ))
        })
        .collect()
}

#[test]
fn undefined_variables_are_those_puppet_finds_unknown() {
    let test = "undefined_variables_are_those_puppet_finds_unknown";
    let Some(puppet_dir) = puppet_scratch(test) else {
        return;
    };
    for (case, tasks) in cases("task-undefined-variable") {
        let reported: BTreeSet<(PathBuf, u64, u64)> =
            lint(&case, Path::new("tasks.yaml"), ".", UNDEFINED_VARIABLE)
                .into_iter()
                .map(|found| (canonical(&found.file), found.line, found.column))
                .collect();
        let mut unknown = BTreeSet::new();
        for task in &tasks {
            let log = puppet_apply(&case, &task.manifest, &puppet_dir, &[]);
            assert!(
                log.contains("Compiled catalog") || !catalog_errors(&log).is_empty(),
                "puppet apply {} did nothing recognisable:\n{log}",
                task.manifest.display()
            );
            unknown.extend(
                unknown_variables(&log)
                    .into_iter()
                    .map(|(file, line, column)| (canonical(&file), line, column)),
            );
        }
        assert_eq!(
            reported,
            unknown,
            "{}: granule's findings (left) are not the reads Puppet finds unknown (right)",
            case.display()
        );
        let positive = is_positive(&case);
        assert_eq!(positive, !reported.is_empty(), "{}", case.display());
    }
}

#[test]
fn cross_task_references_fail_as_puppet_fails() {
    let test = "cross_task_references_fail_as_puppet_fails";
    let Some(puppet_dir) = puppet_scratch(test) else {
        return;
    };
    for (case, tasks) in cases("cross-task-reference") {
        let found = lint(&case, Path::new("tasks.yaml"), ".", CROSS_TASK_REFERENCE);
        // "class `x` is defined nowhere on the module path ..."
        let unresolved: BTreeSet<String> = lint(
            &case,
            Path::new("tasks.yaml"),
            ".",
            "granule/unresolved-class",
        )
        .iter()
        .filter_map(|f| Some(f.message.split('`').nth(1)?.to_string()))
        .collect();
        for task in &tasks {
            let id = &task.id;
            let logs = compile_per_role(&case, task, &puppet_dir);
            // What granule says Puppet fails this task's catalog with.
            let quoted: Vec<&str> = found
                .iter()
                .filter(|f| f.message.contains(&format!("applied by task `{id}`")))
                .filter_map(|f| f.message.split("(\"").nth(1)?.split("\")").next())
                .collect();
            if quoted.is_empty() {
                for log in &logs {
                    // A class no module defines fails each catalog declaring
                    // or naming it: granule/unresolved-class's finding.
                    let errors: Vec<String> = catalog_errors(log)
                        .into_iter()
                        .filter(|error| {
                            !unresolved.iter().any(|class| {
                                ["", "::"].iter().any(|prefix| {
                                    error
                                        .contains(&format!("Could not find class {prefix}{class} "))
                                }) || error.contains(&format!("'Class[{}]'", capitalize(class)))
                            })
                        })
                        .collect();
                    let failed_unresolved = errors.len() < catalog_errors(log).len();
                    assert!(
                        errors.is_empty()
                            && (failed_unresolved || log.contains("Compiled catalog")),
                        "{}: granule finds nothing failing task {id}, Puppet fails it:\n{log}",
                        case.display()
                    );
                }
                continue;
            }
            // Puppet stops at the first failure: on some role, it must be
            // one granule quotes.
            let errors: Vec<Vec<String>> = logs.iter().map(|log| catalog_errors(log)).collect();
            assert!(
                errors
                    .iter()
                    .flatten()
                    .any(|error| quoted.iter().any(|q| error.starts_with(q))),
                "{}: task {id}: Puppet's errors {errors:?} are none of granule's {quoted:?}",
                case.display()
            );
        }
        let positive = is_positive(&case);
        assert_eq!(
            positive,
            !found.is_empty(),
            "{}: {found:#?}",
            case.display()
        );
    }
}

#[test]
fn duplicate_declarations_in_tasks_are_those_puppet_refuses() {
    let test = "duplicate_declarations_in_tasks_are_those_puppet_refuses";
    let Some(puppet_dir) = puppet_scratch(test) else {
        return;
    };
    for (case, tasks) in cases("duplicate-resource") {
        let found = lint(&case, Path::new("tasks.yaml"), ".", DUPLICATE_RESOURCE);
        let reported: Vec<BTreeSet<(PathBuf, u64)>> = found
            .iter()
            .map(|found| reported_duplicates(&case, found))
            .collect();
        let mut refused = Vec::new();
        for task in &tasks {
            for log in compile_per_role(&case, task, &puppet_dir) {
                let errors = catalog_errors(&log);
                assert!(
                    log.contains("Compiled catalog") || !errors.is_empty(),
                    "puppet apply {} did nothing recognisable:\n{log}",
                    task.manifest.display()
                );
                refused.extend(refused_duplicates(&errors));
            }
        }
        refused.sort();
        refused.dedup();
        assert_eq!(
            reported,
            refused,
            "{}: the declarations granule reports (left) are not those Puppet refuses on a \
             role of the task (right)",
            case.display()
        );
        let positive = is_positive(&case);
        assert_eq!(positive, !found.is_empty(), "{}", case.display());
    }
}

#[test]
fn the_tasks_granule_split_cuts_trip_neither_check() {
    let installer = repo_root().join("fixtures/split/installer");
    let out = scratch("the_tasks_granule_split_cuts_trip_neither_check");
    let out_arg = out.to_str().expect("a UTF-8 path");
    let split = granule_in(
        &installer,
        &[
            "split",
            "--modulepath",
            "modules",
            "--entry",
            "manifests/site.pp",
            "--role-var",
            "$role",
            "-o",
            out_arg,
        ],
    );
    assert!(
        split.status.success(),
        "granule split: {}",
        text(&split.stderr)
    );
    let tasks = out.join("tasks.yaml");
    for check in [UNDEFINED_VARIABLE, CROSS_TASK_REFERENCE] {
        let found = lint(&installer, &tasks, ".", check);
        assert!(found.is_empty(), "{check} on the split: {found:#?}");
    }

    // Without its lookup of $db_password, the keystone task's class keystone
    // reads the monolith's $::db_password and gets undef.
    let manifest = out.join("keystone/keystone.pp");
    let source = std::fs::read_to_string(&manifest).expect("the keystone task");
    let without: String = source
        .lines()
        .filter(|line| !line.starts_with("$db_password = lookup("))
        .map(|line| format!("{line}\n"))
        .collect();
    assert_ne!(source, without, "the keystone task looks up $db_password");
    std::fs::write(&manifest, without).expect("the keystone task");
    let found = lint(&installer, &tasks, ".", UNDEFINED_VARIABLE);
    let keystone = canonical(&installer.join("modules/keystone/manifests/init.pp"));
    assert!(
        found.iter().any(|f| canonical(&f.file) == keystone
            && f.message.contains("`$::db_password`")
            && f.message.contains("task `keystone`")),
        "{found:#?}"
    );
}

/// Fuel's descriptors name each manifest where the nodes find it, under
/// their module path (`/etc/puppet/modules/osnailyfacter/modular/...`,
/// `puppet_modules: /etc/puppet/modules`): linted with `--modulepath`
/// holding that tree, the tasks of the `cross-task-reference` fixture
/// moved into such a layout give the findings they give in place.
#[test]
fn fuel_style_manifest_paths_are_found_under_the_module_path() {
    let fixture = repo_root().join("fixtures/lint-architecture/cross-task-reference/positive");
    let in_place: Vec<(String, u64, u64)> = lint(
        &fixture,
        &fixture.join("tasks.yaml"),
        ".",
        CROSS_TASK_REFERENCE,
    )
    .into_iter()
    .map(|found| (file_name(&found.file), found.line, found.column))
    .collect();
    assert!(!in_place.is_empty(), "the positive fixture has findings");

    let dir = scratch("lint_fuel_style_paths");
    let modular = dir.join("tree/deployment/modular");
    let mut descriptors = String::new();
    for (id, requires) in [("database", "[]"), ("keystone", "[database]")] {
        std::fs::create_dir_all(modular.join(id)).expect("a task directory");
        let manifest = format!("{id}/{id}.pp");
        std::fs::copy(fixture.join(&manifest), modular.join(&manifest)).expect("copied");
        descriptors.push_str(&format!(
            "- id: {id}\n  type: puppet\n  version: 2.0.0\n  groups: [controller]\n  \
             requires: {requires}\n  parameters:\n    \
             puppet_manifest: /etc/puppet/modules/deployment/modular/{manifest}\n    \
             puppet_modules: /etc/puppet/modules\n    timeout: 600\n"
        ));
    }
    let tasks = modular.join("tasks.yaml");
    std::fs::write(&tasks, descriptors).expect("tasks.yaml written");
    let modulepath = format!(
        "{}:{}",
        dir.join("tree").display(),
        fixture.join("modules").display()
    );
    let tasks_arg = tasks.to_str().expect("UTF-8");
    let moved: Vec<(String, u64, u64)> = lint_problems(
        &dir,
        &[
            "--modulepath",
            &modulepath,
            "--tasks",
            tasks_arg,
            "tree/deployment/modular",
        ],
        CROSS_TASK_REFERENCE,
    )
    .into_iter()
    .map(|found| (file_name(&found.file), found.line, found.column))
    .collect();
    assert_eq!(
        moved.into_iter().collect::<BTreeSet<_>>(),
        in_place.into_iter().collect::<BTreeSet<_>>()
    );
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default()
}
