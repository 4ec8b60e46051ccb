//! `granule split`'s choices on fixtures/monolith: each class declaration
//! is a task, a task whose code refers to what another declares applies
//! that too (borrows it) rather than merging, the plan file (pin, rename,
//! merge, exclude) is honoured, `--only` leaves the rest in one `legacy`
//! task and refuses a name the split does not have, `--target puppet3`
//! reads data with hiera(), descriptor version 1 has no version field, and
//! the same input gives the same bytes.

use granule_analyzer::semantic::Semantic;
use granule_analyzer::split::emit::{self, Output};
use granule_analyzer::split::plan::Plan;
use granule_analyzer::split::{split, Proposal, SplitOptions, Target};
use granule_analyzer::{Analysis, Entry};
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("analyzer/ has a parent")
        .join("fixtures/monolith")
}

fn analysis() -> (Analysis, Entry) {
    let site = root().join("manifests/site.pp");
    let analysis = Analysis::load(&[root().join("modules")], std::slice::from_ref(&site))
        .expect("the fixture loads");
    (
        analysis,
        Entry::File(Arc::from(site.to_string_lossy().as_ref())),
    )
}

fn options(plan: &str, only: &[&str], target: Target) -> SplitOptions {
    let (_, entry) = analysis();
    SplitOptions {
        entries: vec![entry],
        role_var: Some("$::role".into()),
        roles: Vec::new(),
        assumptions: Vec::new(),
        plan: toml::from_str::<Plan>(plan).expect("a valid plan"),
        only: only.iter().map(|s| s.to_string()).collect(),
        target,
    }
}

/// Runs `check` on the proposal for `options`.
fn with_proposal(options: &SplitOptions, check: impl FnOnce(&Analysis, &Proposal)) {
    let (analysis, _) = analysis();
    let semantic = Semantic::new(&analysis);
    let proposal = split(&semantic, options).expect("the fixture splits");
    check(&analysis, &proposal);
}

fn task_of<'a>(proposal: &'a Proposal, label: &str) -> &'a str {
    let index = proposal
        .monolith
        .units
        .iter()
        .position(|unit| unit.label() == label)
        .unwrap_or_else(|| panic!("no unit {label}"));
    &proposal
        .tasks
        .iter()
        .find(|task| task.units.contains(&index))
        .expect("every unit is in a task")
        .id
}

fn ids<'a>(proposal: &'a Proposal) -> Vec<&'a str> {
    proposal.tasks.iter().map(|task| task.id.as_str()).collect()
}

/// The labels of the units a task borrows.
fn borrowed(proposal: &Proposal, id: &str) -> Vec<String> {
    let task = proposal.task(id).expect("the task");
    task.borrowed
        .iter()
        .map(|&unit| proposal.monolith.units[unit].label())
        .collect()
}

#[test]
fn the_proposal_without_a_plan() {
    with_proposal(&options("", &[], Target::Puppet7), |_, proposal| {
        assert_eq!(
            ids(proposal),
            [
                "globals",
                "hiera",
                "ntp",
                "mysql-server",
                "rabbitmq",
                "keystone",
                "nova-api",
                "nova-compute"
            ]
        );
        // keystone refers to mysql::server (mysql::db requires it) and
        // nova::api to keystone's apache2 service: their tasks apply what
        // they refer to as well, and nothing is merged.
        assert_eq!(borrowed(proposal, "keystone"), ["class mysql::server"]);
        assert_eq!(
            borrowed(proposal, "nova-api"),
            ["class mysql::server", "class keystone"]
        );
        assert!(proposal.merges.is_empty(), "{:?}", proposal.merges);
        // The default branch names no role of the guards: no task has it.
        assert_eq!(proposal.roles, ["controller", "compute"]);
        assert!(proposal
            .pruned
            .iter()
            .any(|(label, _)| label.starts_with("Notify")));
    });
}

#[test]
fn the_plan_file_pins_renames_merges_and_excludes() {
    let plan = r#"
        exclude = ['Notify["no role for ${::hostname}"]']
        [pin]
        "class rabbitmq" = "queue"
        [merge]
        base = ["ntp", "queue"]
        [rename]
        base = "common"
        nova-api = "openstack"
    "#;
    with_proposal(&options(plan, &[], Target::Puppet7), |_, proposal| {
        assert_eq!(
            ids(proposal),
            [
                "globals",
                "hiera",
                "common",
                "mysql-server",
                "keystone",
                "openstack",
                "nova-compute"
            ]
        );
        assert_eq!(task_of(proposal, "class rabbitmq"), "common");
        assert_eq!(task_of(proposal, "class ntp"), "common");
        assert!(proposal
            .monolith
            .units
            .iter()
            .all(|unit| !unit.label().starts_with("Notify")));
        assert!(proposal
            .hazards
            .iter()
            .any(|h| h.contains("excluded by the plan")));
    });
}

#[test]
fn only_extracts_the_named_tasks_and_leaves_the_rest_in_legacy() {
    with_proposal(
        &options("", &["rabbitmq"], Target::Puppet7),
        |_, proposal| {
            assert_eq!(ids(proposal), ["globals", "hiera", "legacy", "rabbitmq"]);
            assert_eq!(task_of(proposal, "class ntp"), "legacy");
            assert_eq!(task_of(proposal, "class rabbitmq"), "rabbitmq");
        },
    );
}

#[test]
fn only_refuses_a_task_the_split_does_not_have_and_lists_those_it_has() {
    let (analysis, _) = analysis();
    let semantic = Semantic::new(&analysis);
    let options = options("", &["rabbit"], Target::Puppet7);
    let error = split(&semantic, &options).err().expect("an error");
    assert!(
        error.contains("rabbit") && error.contains("rabbitmq, keystone"),
        "{error}"
    );
}

fn written(proposal: &Proposal, analysis: &Analysis, dir: &Path) {
    let _ = std::fs::remove_dir_all(dir);
    let output = Output {
        dir,
        modulepath: "modules",
    };
    emit::write(proposal, analysis, &output).expect("written");
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "granule-split-options-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn puppet3_targets_read_data_with_hiera() {
    let dir = scratch("puppet3");
    with_proposal(&options("", &[], Target::Puppet3), |analysis, proposal| {
        written(proposal, analysis, &dir);
    });
    let nova = std::fs::read_to_string(dir.join("nova-api/nova-api.pp")).expect("the manifest");
    assert!(
        nova.contains("$db_host = hiera('granule::db_host', undef)"),
        "{nova}"
    );
    assert!(!nova.contains("lookup("), "{nova}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_same_input_gives_the_same_bytes() {
    let dirs = [scratch("first"), scratch("second")];
    let mut contents = Vec::new();
    for dir in &dirs {
        with_proposal(&options("", &[], Target::Puppet7), |analysis, proposal| {
            written(proposal, analysis, dir);
        });
        let mut files: Vec<(String, String)> = walk(dir)
            .into_iter()
            .map(|path| {
                let text = std::fs::read_to_string(&path).expect("readable");
                let relative = path
                    .strip_prefix(dir)
                    .expect("inside")
                    .display()
                    .to_string();
                (relative, text.replace(&dir.display().to_string(), "OUT"))
            })
            .collect();
        files.sort();
        contents.push(files);
    }
    assert!(contents[0].len() > 10);
    assert_eq!(contents[0], contents[1]);
    for dir in &dirs {
        let _ = std::fs::remove_dir_all(dir);
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("a directory") {
        let path = entry.expect("an entry").path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}
