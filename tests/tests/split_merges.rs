//! `granule split` on fixtures/split/forced_merges (role_guards,
//! included_parts, refresh_senders, opened_twice, ordered_opened_class,
//! repeated_includes, roles_profiles and fuel_like below): a refresh between two
//! classes, a cycle between two classes and one resource declared,
//! realised and overridden by three classes. Each task's catalog must hold
//! what its code refers to: a task applies (borrows) the class it refers
//! to, and an override by a collector joins the two classes in one task.
//! report.json names every borrowing and merge with its reason; the class
//! nothing ties to the others keeps a task of its own.

use granule_tests::executor::{exit_code, granule, scratch, text, tool_available};
use granule_tests::lint_fixtures::{
    canonical, catalog_errors, lint_problems, puppet_apply, refused_duplicates,
    reported_duplicates, Found,
};
use granule_tests::{repo_root, require_reference};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

/// `granule split --verify` of a fixture of fixtures/split (its
/// `manifests/site.pp`, with `options`): report.json.
fn split_report(name: &str, options: &[&str]) -> Value {
    read_report(&split_out(name, options))
}

/// A split's report.json.
fn read_report(out: &std::path::Path) -> Value {
    let report = std::fs::read_to_string(out.join("report.json")).expect("report.json");
    serde_json::from_str(&report).expect("report.json is JSON")
}

/// `granule split --verify` of a fixture of fixtures/split: the output
/// directory.
fn split_out(name: &str, options: &[&str]) -> std::path::PathBuf {
    // Each test writes its own split.
    let test = std::thread::current().name().unwrap_or(name).to_string();
    let out = scratch(&format!("split_{name}_{test}")).join("split");
    split_into(name, options, &out);
    out
}

/// `granule split --verify` of a fixture of fixtures/split into `out`,
/// which must hold: what it printed on stderr.
fn split_into(name: &str, options: &[&str], out: &Path) -> String {
    let fixture = repo_root().join("fixtures/split").join(name);
    let output = Command::new(granule())
        .arg("split")
        .arg("--modulepath")
        .arg(fixture.join("modules"))
        .arg("--entry")
        .arg(fixture.join("manifests/site.pp"))
        .args(options)
        .arg("-o")
        .arg(out)
        .arg("--verify")
        .output()
        .expect("granule runs");
    assert_eq!(
        exit_code(&output),
        0,
        "granule split --verify failed:\n{}{}",
        text(&output.stdout),
        text(&output.stderr)
    );
    text(&output.stderr)
}

/// The classes the split opened, from the report's `opened[].class`.
fn opened_classes(report: &Value) -> BTreeSet<&str> {
    report["opened"]
        .as_array()
        .expect("opened")
        .iter()
        .filter_map(|opened| opened["class"].as_str())
        .collect()
}

/// The report's hazards, one line each.
fn hazards(report: &Value) -> Vec<&str> {
    report["hazards"]
        .as_array()
        .expect("hazards")
        .iter()
        .filter_map(Value::as_str)
        .collect()
}

/// The task of every class, from the report's `tasks[].classes`.
fn task_of_class(report: &Value) -> BTreeMap<String, String> {
    let mut owner = BTreeMap::new();
    for task in report["tasks"].as_array().expect("tasks") {
        let id = task["id"].as_str().expect("task id");
        for class in task["classes"].as_array().expect("classes") {
            let class = class.as_str().expect("class name").to_string();
            let previous = owner.insert(class.clone(), id.to_string());
            assert!(previous.is_none(), "class {class} is in two tasks");
        }
    }
    owner
}

struct Merge {
    units: BTreeSet<String>,
    reason: String,
}

fn merges(report: &Value) -> Vec<Merge> {
    report["merges"]
        .as_array()
        .expect("merges")
        .iter()
        .map(|merge| {
            let location = &merge["location"];
            assert!(
                location["file"]
                    .as_str()
                    .is_some_and(|file| !file.is_empty())
                    && location["line"].as_u64().is_some_and(|line| line > 0),
                "a merge without its place in the source: {merge}"
            );
            Merge {
                units: merge["units"]
                    .as_array()
                    .expect("units")
                    .iter()
                    .map(|unit| unit.as_str().expect("unit label").to_string())
                    .collect(),
                reason: merge["reason"].as_str().expect("reason").to_string(),
            }
        })
        .collect()
}

fn class_set(classes: &[&str]) -> BTreeSet<String> {
    classes
        .iter()
        .map(|class| format!("class {class}"))
        .collect()
}

/// The borrowings: `(unit applied again, unit of the task applying it)`
/// and why.
fn borrows(report: &Value) -> Vec<((String, String), String)> {
    report["borrows"]
        .as_array()
        .expect("borrows")
        .iter()
        .map(|borrow| {
            let units = borrow["units"].as_array().expect("units");
            let label = |at: usize| units[at].as_str().expect("a label").to_string();
            (
                (label(0), label(1)),
                borrow["reason"].as_str().expect("reason").to_string(),
            )
        })
        .collect()
}

#[test]
fn refreshes_cycles_and_shared_resources_stay_in_one_catalog_and_the_report_says_why() {
    let out = split_out("forced_merges", &[]);
    let report = read_report(&out);
    let owner = task_of_class(&report);
    let merges = merges(&report);
    let borrows = borrows(&report);
    let described: Vec<String> = merges
        .iter()
        .map(|merge| format!("{:?}: {}", merge.units, merge.reason))
        .chain(
            borrows
                .iter()
                .map(|(units, why)| format!("borrow {units:?}: {why}")),
        )
        .collect();
    let borrowed = |applied: &str, by: &str| {
        borrows
            .iter()
            .find(|((unit, task), _)| {
                *unit == format!("class {applied}") && *task == format!("class {by}")
            })
            .map(|(_, why)| why.clone())
    };

    // A refresh from config's file to service's exec: config's task applies
    // service too, so the refresh stays inside one catalog.
    let refresh = borrowed("service", "config").unwrap_or_default();
    assert!(
        refresh.contains("Exec["),
        "config's task applies service: {described:#?}"
    );
    // The report and the manifest say so under config's task.
    let config_task = &owner["config"];
    let report_md = std::fs::read_to_string(out.join("report.md")).unwrap();
    let section = report_md
        .split(&format!("### `{config_task}`\n"))
        .nth(1)
        .and_then(|rest| rest.split("\n### ").next())
        .unwrap_or_else(|| panic!("no section for {config_task}:\n{report_md}"));
    let applies = section
        .lines()
        .find(|line| line.starts_with("- also applies class service "))
        .unwrap_or_else(|| panic!("config's section names service:\n{section}"));
    assert!(
        applies.contains(&format!(" — {}", refresh.split(" (").next().unwrap())),
        "{applies}"
    );
    let manifest =
        std::fs::read_to_string(out.join(config_task).join(format!("{config_task}.pp"))).unwrap();
    let mut lines = manifest
        .lines()
        .skip_while(|line| !line.starts_with("#   class service ("));
    assert!(lines.next().is_some(), "{manifest}");
    let why = lines.next().unwrap_or_default();
    assert!(
        why.starts_with("#     ") && why.contains("Exec["),
        "{manifest}"
    );
    // Each of the cycle's classes refers to a resource of the other: each
    // task applies both, and neither waits for the other.
    assert!(borrowed("cyclic_b", "cyclic_a").is_some(), "{described:#?}");
    assert!(borrowed("cyclic_a", "cyclic_b").is_some(), "{described:#?}");
    // web realises the virtual account file: its task applies accounts.
    assert!(borrowed("accounts", "web").is_some(), "{described:#?}");
    // db overrides it through a collector: an override only acts in the
    // catalog holding both, so db and accounts are one task.
    assert_eq!(owner["db"], owner["accounts"], "{described:#?}");
    let db = merges
        .iter()
        .find(|merge| merge.units == class_set(&["db", "accounts"]))
        .unwrap_or_else(|| panic!("db and accounts merged: {described:#?}"));
    assert!(
        db.reason.contains("collect") && db.reason.contains("overrides"),
        "{}",
        db.reason
    );

    // Every other class keeps a task of its own.
    for class in ["config", "service", "cyclic_a", "cyclic_b", "web", "clock"] {
        let task = &owner[class];
        assert_eq!(
            owner.values().filter(|t| *t == task).count(),
            1,
            "{class} shares its task: {owner:?}"
        );
    }
    // Nothing forces clock anywhere.
    assert!(
        described.iter().all(|line| !line.contains("class clock")),
        "clock is tied to something: {described:#?}"
    );
    assert_eq!(merges.len(), 1, "only the forced merge: {described:#?}");
}

/// fixtures/split/role_guards: class storage, declared for every role,
/// includes its Nova client on compute nodes only; Nova orders every file
/// tagged nova-config between its package and nova.conf. On compute nodes
/// storage and the hypervisor are one cycle, so one task; on controllers
/// storage configures nothing of Nova, and the API keeps its own task
/// (it only runs after storage).
#[test]
fn module_code_guarded_by_the_role_orders_only_on_that_role() {
    let report = split_report(
        "role_guards",
        &["--role-var", "$::role", "--roles", "compute,controller"],
    );
    let owner = task_of_class(&report);
    let described: Vec<String> = merges(&report)
        .iter()
        .map(|merge| format!("{:?}: {}", merge.units, merge.reason))
        .collect();
    assert_eq!(owner["storage"], owner["nova::compute"], "{described:#?}");
    assert_ne!(owner["storage"], owner["nova::api"], "{described:#?}");
    assert_eq!(
        described.len(),
        1,
        "only the cycle on compute nodes: {described:#?}"
    );
}

/// Roles are told apart in a word of bits: a deployment naming more roles
/// than fit in it still splits (and verifies).
#[test]
fn a_split_with_more_roles_than_bits_in_a_word_succeeds() {
    let roles: Vec<String> = (0..70)
        .map(|i| format!("role{i}"))
        .chain(["compute".to_string(), "controller".to_string()])
        .collect();
    let report = split_report(
        "role_guards",
        &["--role-var", "$::role", "--roles", &roles.join(",")],
    );
    let owner = task_of_class(&report);
    assert_eq!(owner["storage"], owner["nova::compute"]);
}

/// fixtures/split/included_parts: a class another one includes is a task
/// of its own, so task order can put a third class between them; unless
/// the other's code refreshes something on a change of it (a refresh is
/// sent only in the run that makes the change), then they share a task.
#[test]
fn a_class_another_includes_is_a_task_of_its_own_unless_the_other_refreshes_on_its_changes() {
    let report = split_report("included_parts", &[]);
    let owner = task_of_class(&report);
    let described: Vec<String> = merges(&report)
        .iter()
        .map(|merge| format!("{:?}: {}", merge.units, merge.reason))
        .collect();
    assert!(
        described.is_empty(),
        "nothing forces a merge: {described:#?}"
    );
    let apart: BTreeSet<&str> = ["app::db", "other", "app"]
        .iter()
        .map(|class| owner[*class].as_str())
        .collect();
    assert_eq!(apart.len(), 3, "three tasks: {owner:#?}");
    assert_eq!(owner["watched::config"], owner["watched"], "{owner:#?}");
}

/// fixtures/split/refresh_senders: a task applying a refresh's sender
/// without the code sending it runs after the task applying both (a
/// refresh is sent only in the run that makes the change).
#[test]
fn a_task_applying_a_refresh_sender_without_its_code_runs_after_the_code() {
    let report = split_report("refresh_senders", &[]);
    let owner = task_of_class(&report);
    let requires = |id: &str| -> Vec<String> {
        report["tasks"]
            .as_array()
            .expect("tasks")
            .iter()
            .find(|task| task["id"] == id)
            .and_then(|task| task["requires"].as_array())
            .map(|ids| {
                ids.iter()
                    .filter_map(|id| id.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };
    assert_ne!(owner["other"], owner["app"], "{owner:#?}");
    assert!(
        requires(&owner["other"]).contains(&owner["app"]),
        "other runs after app: {:#?}",
        report["tasks"]
    );
}

/// fixtures/split/collector_titles: a collector of files under the
/// directories a define's variable can name does not collect a file whose
/// title is a class parameter with another default, so nothing orders that
/// class's task after the define's.
#[test]
fn a_collector_does_not_order_what_its_title_pattern_cannot_match() {
    let report = split_report("collector_titles", &[]);
    let owner = task_of_class(&report);
    let tools = report["tasks"]
        .as_array()
        .expect("tasks")
        .iter()
        .find(|task| task["id"] == owner["tools"].as_str())
        .expect("the task of tools");
    let requires: Vec<&str> = tools["requires"]
        .as_array()
        .map(|ids| ids.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    assert!(
        !requires.contains(&owner["net"].as_str()),
        "tools runs after net: {:#?}",
        report["tasks"]
    );
}

/// The tasks of a report.json whose manifest declares `class` directly, in
/// its order.
fn tasks_declaring<'r>(report: &'r Value, class: &str) -> Vec<&'r str> {
    report["tasks"]
        .as_array()
        .expect("tasks")
        .iter()
        .filter(|task| {
            task["classes"]
                .as_array()
                .is_some_and(|classes| classes.iter().any(|c| c == class))
        })
        .filter_map(|task| task["id"].as_str())
        .collect()
}

/// fixtures/split/opened_twice: a class two tasks declare, each in another
/// branch of one `if`, is applied once on any node: no hazard says it
/// happens twice.
#[test]
fn a_class_declared_in_two_branches_of_one_if_is_no_hazard() {
    let report = split_report("opened_twice", &[]);
    let declaring = tasks_declaring(&report, "stack::db");
    assert_eq!(declaring.len(), 2, "one task per branch: {declaring:?}");
    assert_eq!(report["hazards"], serde_json::json!([]), "{report:#}");
}

/// fixtures/split/ordered_opened_class: a wrapper that module code orders
/// as a whole (`require => Class['storage::frontend']`, not copied) is kept
/// whole, with that reason; one only copied code orders is opened.
#[test]
fn a_wrapper_module_code_orders_is_kept_whole() {
    let report = split_report("ordered_opened_class", &[]);
    let opened = opened_classes(&report);
    assert_eq!(
        opened,
        BTreeSet::from(["storage::node", "storage::proxy"]),
        "{report:#}"
    );
    let kept = report["kept_whole"].as_array().expect("kept_whole");
    assert_eq!(kept.len(), 1, "{kept:#?}");
    assert_eq!(kept[0]["class"], "storage::frontend");
    let reason = kept[0]["reason"].as_str().expect("a reason");
    assert!(
        reason.starts_with("class storage::monitor orders Class['storage::frontend']")
            && reason.contains("monitor.pp:4:5"),
        "{reason}"
    );
}

/// fixtures/split/repeated_includes: the includes of a module's `deps`
/// that two opened backends write, each under its own condition, are one
/// task, and no hazard says the class is applied twice.
#[test]
fn includes_of_one_class_on_one_role_are_one_task() {
    let report = split_report("repeated_includes", &[]);
    let declaring = tasks_declaring(&report, "storage::deps");
    assert_eq!(declaring, ["storage-deps"], "{report:#}");
    assert_eq!(report["hazards"], serde_json::json!([]), "{report:#}");
}

/// fixtures/split/roles_profiles: a profile that every role's class
/// includes is one task, run on every role (its manifest declares it once
/// per role, under that role's guard), as a person would write it; the
/// profiles of one role run on that role only. Read from tasks.yaml and the
/// manifests it names.
#[test]
fn a_profile_every_role_includes_is_one_task_on_every_role() {
    let out = split_out("roles_profiles", &["--role-var", "$facts['role']"]);
    let yaml = std::fs::read_to_string(out.join("tasks.yaml")).expect("tasks.yaml");
    let tasks: Vec<Value> = serde_saphyr::from_str(&yaml).expect("tasks.yaml is YAML");
    // Each class included or contained: the roles of every task whose
    // manifest declares it so.
    let mut including: BTreeMap<String, Vec<BTreeSet<String>>> = BTreeMap::new();
    for task in &tasks {
        let Some(manifest) = task["parameters"]["puppet_manifest"].as_str() else {
            continue;
        };
        let text = std::fs::read_to_string(out.join(manifest)).expect("the task's manifest");
        let groups: BTreeSet<String> = task["groups"]
            .as_array()
            .expect("groups")
            .iter()
            .map(|group| group.as_str().expect("a role").to_string())
            .collect();
        let classes: BTreeSet<&str> = text
            .lines()
            .filter_map(|line| {
                let line = line.trim();
                line.strip_prefix("include ")
                    .or_else(|| line.strip_prefix("contain "))
            })
            .collect();
        for class in classes {
            including
                .entry(class.to_string())
                .or_default()
                .push(groups.clone());
        }
    }
    let roles = |names: &[&str]| vec![names.iter().map(|n| n.to_string()).collect()];
    assert_eq!(including["profile::base"], roles(&["db", "web"]), "{yaml}");
    assert_eq!(including["profile::database"], roles(&["db"]), "{yaml}");
    // profile::webserver is opened: what it declares runs on web only (in
    // its own task, and in profile::app's, which orders after nginx).
    let web = &roles(&["web"])[0];
    assert!(
        including["nginx"].iter().all(|groups| groups == web),
        "{yaml}"
    );
}

/// `granule lint` (its defaults) on `paths`, with the fixture's modules:
/// the exit status and the report.
fn lint(modules: &std::path::Path, paths: &[&std::path::Path]) -> (i32, String) {
    let output = Command::new(granule())
        .arg("lint")
        .arg("--modulepath")
        .arg(modules)
        .args(paths)
        .output()
        .expect("granule runs");
    (
        exit_code(&output),
        text(&output.stdout) + &text(&output.stderr),
    )
}

/// What granule writes itself (comments, the data lines, the `globals` and
/// `hiera` tasks) passes `granule lint` with its defaults, for both
/// targets: the roles_profiles fixture's own code does (checked first), so
/// a finding in its split would be in code granule generated.
#[test]
fn the_split_of_lint_clean_code_is_lint_clean() {
    let fixture = repo_root().join("fixtures/split/roles_profiles");
    let modules = fixture.join("modules");
    let (status, report) = lint(&modules, &[&fixture]);
    assert_eq!(status, 0, "the fixture itself:\n{report}");
    for target in ["puppet7", "puppet3"] {
        let out = split_out(
            "roles_profiles",
            &["--role-var", "$facts['role']", "--target", target],
        );
        let (status, report) = lint(&modules, &[&out]);
        assert_eq!(status, 0, "the {target} split:\n{report}");
    }
}

/// `granule split --modulepath fixtures/split/roles_profiles/modules ARGS
/// -o OUT`.
fn split_roles_profiles(args: &[&str], out: &std::path::Path) -> std::process::Output {
    let fixture = repo_root().join("fixtures/split/roles_profiles");
    Command::new(granule())
        .current_dir(&fixture)
        .arg("split")
        .arg("--modulepath")
        .arg(fixture.join("modules"))
        .args(args)
        .arg("-o")
        .arg(out)
        .output()
        .expect("granule runs")
}

/// A class named at run time (`include "role::${facts['role']}"`) is kept
/// whole; the command says so, where, and which `--entry` options split
/// each class it may be; given them, the split has those roles.
#[test]
fn a_class_named_at_run_time_is_reported_with_the_entries_to_give() {
    let out = scratch("split_classified").join("split");
    let output = split_roles_profiles(&["--entry", "manifests/classified.pp"], &out);
    let stderr = text(&output.stderr);
    assert_eq!(exit_code(&output), 0, "{stderr}");
    let entries = "--entry role::base --entry role::db --entry role::edge --entry role::web";
    assert!(
        stderr.contains("manifests/classified.pp:3:3: `include \"role::${facts['role']}\"`")
            && stderr.contains(entries),
        "{stderr}"
    );
    let hiera_classified = split_roles_profiles(
        &["--entry", "manifests/hiera_classified.pp"],
        &scratch("split_hiera_classified").join("split"),
    );
    let warned = text(&hiera_classified.stderr);
    assert!(
        warned.contains("manifests/hiera_classified.pp:3:3: `lookup('classes'")
            && warned.contains("give each class it may name as an --entry"),
        "{warned}"
    );
    let report = read_report(&out);
    assert_eq!(
        report["computed"][0]["classes"],
        serde_json::json!(["role::base", "role::db", "role::edge", "role::web"]),
        "{report:#}"
    );

    let mut args: Vec<&str> = entries.split(' ').collect();
    args.push("--verify");
    let output = split_roles_profiles(&args, &out);
    assert_eq!(exit_code(&output), 0, "{}", text(&output.stderr));
    // Each entry class a role, named by its last segment.
    let report = read_report(&out);
    assert_eq!(
        report["roles"],
        serde_json::json!(["base", "db", "edge", "web"])
    );
    // role::edge gives profile::base a message of its own: its `motd` is a
    // task of its own; `ntp`, whose servers no role gives, is one task.
    let groups_declaring = |class: &str| -> Vec<Value> {
        let declaring = tasks_declaring(&report, class);
        report["tasks"]
            .as_array()
            .expect("tasks")
            .iter()
            .filter(|task| {
                task["id"]
                    .as_str()
                    .is_some_and(|id| declaring.contains(&id))
            })
            .map(|task| task["groups"].clone())
            .collect()
    };
    assert_eq!(
        groups_declaring("motd"),
        [
            serde_json::json!(["base", "db", "web"]),
            serde_json::json!(["edge"])
        ],
        "{report:#}"
    );
    assert_eq!(
        groups_declaring("ntp"),
        [serde_json::json!(["base", "db", "edge", "web"])],
        "{report:#}"
    );
}

/// A plan pinning both copies of `class motd` (the one the roles share and
/// role::edge's, reading other data) into one task writes a manifest
/// declaring the class twice, which no guard tells apart: Puppet refuses
/// it, and `--verify` and `granule lint --tasks` report the same two
/// declarations. Without the plan the split passes `--verify`
/// (`a_class_named_at_run_time_is_reported_with_the_entries_to_give`).
#[test]
fn verify_refuses_a_task_declaring_a_class_twice_as_puppet_does() {
    let test = "verify_refuses_a_task_declaring_a_class_twice_as_puppet_does";
    let dir = scratch(test);
    let plan = dir.join("plan.toml");
    std::fs::write(&plan, "[pin]\n\"class motd\" = \"motd\"\n").expect("plan written");
    let out = dir.join("split");
    let mut args = vec!["--plan", plan.to_str().expect("a UTF-8 path"), "--verify"];
    for entry in ["role::base", "role::db", "role::edge", "role::web"] {
        args.extend(["--entry", entry]);
    }
    let output = split_roles_profiles(&args, &out);
    let stderr = text(&output.stderr);
    assert_eq!(exit_code(&output), 1, "{stderr}");
    // `verify: FILE:LINE:COLUMN: MESSAGE (granule/duplicate-resource)`.
    let by_verify: BTreeSet<BTreeSet<(PathBuf, u64)>> = stderr
        .lines()
        .filter_map(|line| line.strip_prefix("verify: "))
        .filter_map(|line| line.strip_suffix(" (granule/duplicate-resource)"))
        .map(|line| {
            let mut parts = line.splitn(4, ':');
            let file = canonical(Path::new(parts.next().expect("a file")));
            let line_number = parts.next().and_then(|l| l.parse().ok()).expect("a line");
            let column = parts.next().and_then(|c| c.parse().ok()).expect("a column");
            let message = parts.next().expect("a message").trim().to_string();
            let found = Found {
                file,
                line: line_number,
                column,
                message,
            };
            reported_duplicates(&out, &found)
        })
        .collect();
    let modules = repo_root().join("fixtures/split/roles_profiles/modules");
    let by_lint: BTreeSet<BTreeSet<(PathBuf, u64)>> = lint_problems(
        &out,
        &[
            "--tasks",
            "tasks.yaml",
            "--modulepath",
            modules.to_str().expect("UTF-8"),
            ".",
        ],
        "granule/duplicate-resource",
    )
    .iter()
    .map(|found| reported_duplicates(&out, found))
    .collect();
    assert_eq!(by_verify, by_lint, "{stderr}");
    assert_eq!(by_verify.len(), 1, "{stderr}");

    // Puppet, given a value for every lookup of the task (as the globals
    // task would), refuses the same two declarations.
    if require_reference(test, tool_available("puppet", "puppet")).is_none() {
        return;
    }
    let manifest = out.join("motd/motd.pp");
    let source = std::fs::read_to_string(&manifest).expect("the task's manifest");
    let data: String = source
        .split("lookup('")
        .skip(1)
        .filter_map(|rest| rest.split('\'').next())
        .map(|key| format!("{key}: 'a message'\n"))
        .collect();
    std::fs::write(dir.join("data.yaml"), data).expect("data written");
    let hiera = dir.join("hiera.yaml");
    std::fs::write(
        &hiera,
        format!(
            "version: 5\nhierarchy:\n  - name: data\n    path: {}\n",
            dir.join("data.yaml").display()
        ),
    )
    .expect("hiera.yaml written");
    let log = puppet_apply(
        &manifest,
        modules.to_str().expect("UTF-8"),
        &dir.join("puppet"),
        &[format!("--hiera_config={}", hiera.display())],
        &[],
    );
    let refused: BTreeSet<BTreeSet<(PathBuf, u64)>> = refused_duplicates(&catalog_errors(&log))
        .into_iter()
        .collect();
    assert_eq!(refused, by_verify, "{log}");
}

/// fixtures/split/fuel_like in the multinode mode: `skyline::cluster_simple`
/// declares `stack::controller` and `stack::compute`, which the HA role
/// class (a later branch of site.pp's `case` on the mode, which
/// `--assume` leaves out) declares too. That branch never runs: both are
/// opened, as the HA mode opens its own. The report names the branches
/// left out, each with its condition.
#[test]
fn a_branch_the_assumptions_leave_out_keeps_no_class_whole() {
    let out = split_out(
        "fuel_like",
        &[
            "--role-var",
            "$::settings['role']",
            "--roles",
            "controller,compute",
            "--assume",
            "$::settings['deployment_mode']=multinode",
        ],
    );
    let report = read_report(&out);
    let opened = opened_classes(&report);
    for class in ["stack::controller", "stack::compute"] {
        assert!(opened.contains(&class), "{class} not opened: {report:#}");
    }
    assert_eq!(report["kept_whole"], serde_json::json!([]), "{report:#}");
    let left_out: Vec<(&str, &str)> = report["left_out"]
        .as_array()
        .expect("left_out")
        .iter()
        .map(|branch| {
            (
                branch["condition"].as_str().expect("condition"),
                branch["location"]["file"].as_str().expect("location"),
            )
        })
        .collect();
    for condition in [
        "case $::settings['deployment_mode']: /^(ha|ha_compact)$/",
        "case $::settings['deployment_mode']: 'rescue'",
    ] {
        assert!(
            left_out.iter().any(|(left, location)| *left == condition
                && location.ends_with("fuel_like/manifests/site.pp")),
            "{condition} not left out: {left_out:#?}"
        );
    }
    let markdown = std::fs::read_to_string(out.join("report.md")).expect("report.md");
    assert!(
        markdown.contains(
            "run on none of the roles (controller, compute), under these assumptions and the \
             data the walked code sets; left out with all they hold:\n\n- `case \
             $::settings['deployment_mode']: /^(ha|ha_compact)$/` ("
        ),
        "{markdown}"
    );
}

/// fixtures/split/inherited_params: the entry class is opened though a
/// define of its module reads one of its parameters in a default (no task
/// declares `web` to read it from); the report lists that among the
/// hazards, and `--verify` holds since every instance passes the value.
#[test]
fn an_entry_class_module_code_reads_is_opened_with_a_hazard() {
    let fixture = repo_root().join("fixtures/split/inherited_params");
    let out = scratch("split_inherited_params_entry_hazard").join("split");
    let output = Command::new(granule())
        .arg("split")
        .arg("--modulepath")
        .arg(fixture.join("modules"))
        .args(["--entry", "web", "--verify", "-o"])
        .arg(&out)
        .output()
        .expect("granule runs");
    assert_eq!(exit_code(&output), 0, "{}", text(&output.stderr));
    let report = read_report(&out);
    let hazards = hazards(&report);
    assert!(
        hazards.iter().any(
            |hazard| hazard.starts_with("class web, the entry, is opened though")
                && hazard.contains("reads its variable $web::port")
        ),
        "{hazards:#?}"
    );
}

/// fixtures/split/entry_inherited: `queue::service` inherits the entry
/// class and the entry declares it. Opening the entry would make the task
/// applying `queue::service` evaluate `queue` again: the split refuses,
/// naming the inheriting class and where it is written. Forced open by the
/// plan file, `--verify` and Puppet's compiler both refuse that task.
#[test]
fn an_entry_class_its_module_inherits_is_not_opened() {
    let test = "split_entry_inherited";
    let modules = repo_root().join("fixtures/split/entry_inherited/modules");
    let dir = scratch(test);
    let split = |out: &Path, plan: Option<&Path>| {
        let mut command = Command::new(granule());
        command
            .arg("split")
            .arg("--modulepath")
            .arg(&modules)
            .args(["--entry", "queue", "--verify", "-o"])
            .arg(out);
        if let Some(plan) = plan {
            command.arg("--plan").arg(plan);
        }
        command.output().expect("granule runs")
    };

    let refused = split(&dir.join("refused"), None);
    let stderr = text(&refused.stderr);
    assert_eq!(exit_code(&refused), 2, "{stderr}");
    assert!(
        stderr
            .contains("class queue, the entry, cannot be opened: class queue::service inherits it")
            && stderr.contains("queue/manifests/service.pp:2:7"),
        "{stderr}"
    );
    assert!(!dir.join("refused/tasks.yaml").exists());

    let plan = dir.join("plan.toml");
    std::fs::write(&plan, "open = [\"queue\"]\n").expect("plan written");
    let out = dir.join("forced");
    let forced = split(&out, Some(&plan));
    let stderr = text(&forced.stderr);
    assert_eq!(exit_code(&forced), 1, "{stderr}");
    assert!(
        stderr.contains("Class[queue::service] is declared twice"),
        "{stderr}"
    );
    if require_reference(test, tool_available("puppet", "puppet")).is_none() {
        return;
    }
    let log = puppet_apply(
        &out.join("queue-service/queue-service.pp"),
        modules.to_str().expect("UTF-8"),
        &dir.join("puppet"),
        &[],
        &[],
    );
    assert!(
        catalog_errors(&log)
            .iter()
            .any(|error| error.contains("Duplicate declaration: Class[Queue::Service]")),
        "{log}"
    );
}

/// The plan file on fixtures/split/roles_profiles: each key does what
/// docs/split.md says, and an entry naming nothing of the split (a typo,
/// or code changed since the plan was written) is a warning naming the
/// nearest name, rather than silently nothing.
#[test]
fn a_plan_file_acts_and_says_what_it_names_nothing() {
    let dir = scratch("split_plan_file");
    let split = |name: &str, plan: &str| {
        let path = dir.join(format!("{name}.toml"));
        std::fs::write(&path, plan).expect("plan written");
        let out = dir.join(name);
        let options = [
            "--role-var",
            "$facts['role']",
            "--plan",
            path.to_str().expect("UTF-8"),
        ];
        let stderr = split_into("roles_profiles", &options, &out);
        (read_report(&out), stderr)
    };
    let task_classes = |report: &Value| -> BTreeMap<String, Vec<String>> {
        report["tasks"]
            .as_array()
            .expect("tasks")
            .iter()
            .map(|task| {
                let classes = task["classes"].as_array().expect("classes");
                (
                    task["id"].as_str().expect("id").to_string(),
                    classes
                        .iter()
                        .map(|c| c.as_str().unwrap().to_string())
                        .collect(),
                )
            })
            .collect()
    };
    let unit_tasks = |report: &Value| -> BTreeMap<String, String> {
        report["units"]
            .as_array()
            .expect("units")
            .iter()
            .map(|unit| {
                (
                    unit["label"].as_str().expect("label").to_string(),
                    unit["task"].as_str().expect("task").to_string(),
                )
            })
            .collect()
    };

    let (report, stderr) = split(
        "acts",
        "exclude = [\"class logrotate\"]\nkeep = [\"role::db\"]\n\
         [pin]\n\"class nginx\" = \"web\"\n\
         [rename]\nprofile-app = \"application\"\n\
         [merge]\nbasics = [\"profile-base\", \"nginx-vhost\"]\n",
    );
    assert!(!stderr.contains("warning: plan file"), "{stderr}");
    let units = unit_tasks(&report);
    assert!(!units.contains_key("class logrotate"), "{units:#?}");
    assert_eq!(units["class nginx"], "web", "{units:#?}");
    assert_eq!(units["class profile::base"], "basics", "{units:#?}");
    assert_eq!(units["Nginx::Vhost[app]"], "basics", "{units:#?}");
    assert_eq!(units["class role::db"], "role-db", "{units:#?}");
    assert_eq!(
        task_classes(&report)["application"],
        ["profile::app"],
        "{report:#}"
    );
    assert!(
        report["kept_whole"]
            .as_array()
            .expect("kept_whole")
            .iter()
            .any(|kept| kept["class"] == "role::db"
                && kept["reason"] == "kept whole by the plan file"),
        "{report:#}"
    );

    let (unplanned, _) = split("none", "");
    let (report, stderr) = split(
        "misspelt",
        "exclude = [\"class logrotat\"]\nopen = [\"role::webb\"]\nkeep = [\"role::dbb\"]\n\
         [pin]\n\"class ngin\" = \"web\"\n\
         [rename]\nprofile-ap = \"application\"\n\
         [merge]\nbasics = [\"profile-bas\"]\n",
    );
    for (key, entry, near) in [
        ("exclude", "class logrotat", "class logrotate"),
        ("open", "role::webb", "role::web"),
        ("keep", "role::dbb", "role::db"),
        ("pin", "class ngin", "class nginx"),
        ("rename", "profile-ap", "profile-app"),
        ("merge", "profile-bas", "profile-base"),
    ] {
        let warning = format!(
            "warning: plan file: {key} `{entry}` names nothing in this split, and is ignored; \
             did you mean `{near}`?"
        );
        assert!(
            stderr.lines().any(|line| line == warning),
            "{warning}\n{stderr}"
        );
    }
    assert_eq!(task_classes(&report), task_classes(&unplanned));
}

/// fixtures/split/fuel_like's site.pp dispatches on the deployment mode:
/// split without `--assume`, every mode's code is split together, which
/// the split says on stderr and in report.md with the option to give; with
/// it, nothing is said.
#[test]
fn a_case_no_role_or_assumption_decides_is_named_with_what_to_give() {
    let role = ["--role-var", "$::settings['role']"];
    let test = "split_fuel_like_undecided_mode";
    let out = scratch(test).join("split");
    let stderr = split_into("fuel_like", &role, &out);
    let warnings: Vec<&str> = stderr
        .lines()
        .filter(|line| line.contains("is decided by no role and no --assume"))
        .collect();
    assert_eq!(warnings.len(), 1, "{stderr}");
    for says in [
        "manifests/site.pp:29:8: `case $::settings['deployment_mode']`",
        "'singlenode', 'multinode'; /^(ha|ha_compact)$/",
        "--assume \"$::settings['deployment_mode']=VALUE\"",
    ] {
        assert!(
            warnings[0].contains(says),
            "{says:?} not in {}",
            warnings[0]
        );
    }
    let report = std::fs::read_to_string(out.join("report.md")).expect("report.md");
    assert!(
        report.lines().any(|line| {
            line.starts_with("- `case $::settings['deployment_mode']` (")
                && line.ends_with(
                    "fuel_like/manifests/site.pp:29:8): 'singlenode', 'multinode'; \
                     /^(ha|ha_compact)$/",
                )
        }),
        "{report}"
    );

    let assumed = [
        role[0],
        role[1],
        "--assume",
        "$::settings['deployment_mode']=ha",
    ];
    let stderr = split_into("fuel_like", &assumed, &scratch(test).join("assumed"));
    assert!(!stderr.contains("decided by no role"), "{stderr}");
}

/// `granule split --verify --entry CLASS` of fixtures/split/collected_refresh:
/// report.json.
fn split_collected_refresh(entry: &str) -> Value {
    let fixture = repo_root().join("fixtures/split/collected_refresh");
    let out = scratch(&format!(
        "split_collected_refresh_{}",
        entry.replace(':', "_")
    ))
    .join("split");
    let output = Command::new(granule())
        .arg("split")
        .arg("--modulepath")
        .arg(fixture.join("modules"))
        .args(["--entry", entry, "--verify", "-o"])
        .arg(&out)
        .output()
        .expect("granule runs");
    assert_eq!(exit_code(&output), 0, "{}", text(&output.stderr));
    read_report(&out)
}

/// fixtures/split/collected_refresh: a copied relationship statement
/// refreshing a service from what its collector gathers joins the service
/// to every unit declaring a file it surely collects, and says why; one
/// whose collector's query only Puppet can decide goes in no task, which
/// the report lists among the hazards rather than as an ordering task
/// order keeps.
#[test]
fn a_refresh_from_what_a_copied_collector_gathers_stays_in_one_catalog() {
    let report = split_collected_refresh("ledger::api");
    let joined: Vec<Merge> = merges(&report)
        .into_iter()
        .filter(|merge| {
            merge
                .reason
                .contains("a refresh (notify) of what File <| tag == 'ledger-config' |> collects")
        })
        .collect();
    assert!(
        joined
            .iter()
            .any(|merge| merge.units.contains("File[/etc/ledger/api.conf]")),
        "{report:#}"
    );
    let units = report["units"].as_array().expect("units");
    let task_of = |label: &str| -> &str {
        units
            .iter()
            .find(|unit| unit["label"] == label)
            .and_then(|unit| unit["task"].as_str())
            .unwrap_or_else(|| panic!("no unit {label}: {report:#}"))
    };
    let service = task_of("Service[ledger-api]");
    assert_eq!(task_of("File[/etc/ledger/api.conf]"), service, "{report:#}");
    assert_eq!(task_of("class ledger"), service, "{report:#}");

    let report = split_collected_refresh("ledger::api_by_name");
    let hazards = hazards(&report);
    assert!(
        hazards.iter().any(|hazard| hazard.starts_with(
            "the refresh File <| title == $::ledger_conf |> ~> Service[ledger-api-by-name]"
        ) && hazard.contains("is in no task")),
        "{hazards:#?}"
    );
}
