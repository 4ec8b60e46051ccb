//! `granule split`'s choices on fixtures/monolith: the plan file (pin,
//! rename, merge, exclude) is honoured, `--only` leaves the rest in one
//! `legacy` task, `--target puppet3` reads data with hiera(), descriptor
//! version 1 has no version field, and the same input gives the same bytes.

use granule_analyzer::split::emit::{self, DescriptorVersion, Output};
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

fn propose(plan: &str, only: &[&str], target: Target) -> (Analysis, Proposal) {
    let (analysis, entry) = analysis();
    let options = SplitOptions {
        entries: vec![entry],
        role_var: Some("$::role".into()),
        plan: toml::from_str::<Plan>(plan).expect("a valid plan"),
        only: only.iter().map(|s| s.to_string()).collect(),
        target,
    };
    let proposal = split(&analysis, &options).expect("the fixture splits");
    (analysis, proposal)
}

fn task_of<'a>(proposal: &'a Proposal, label: &str) -> &'a str {
    let index = proposal
        .units()
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

fn ids(proposal: &Proposal) -> Vec<&str> {
    proposal.tasks.iter().map(|task| task.id.as_str()).collect()
}

#[test]
fn the_proposal_without_a_plan() {
    let (_, proposal) = propose("", &[], Target::Puppet7);
    assert_eq!(
        ids(&proposal),
        ["globals", "hiera", "ntp", "nova", "rabbitmq", "site"]
    );
    // keystone refers to mysql::server (mysql::db requires it) and nova::api
    // to keystone's apache2 service: one catalog, one task.
    assert_eq!(task_of(&proposal, "class keystone"), "nova");
    assert_eq!(task_of(&proposal, "class mysql::server"), "nova");
    assert_eq!(proposal.merges.len(), 2);
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
        nova = "openstack"
    "#;
    let (_, proposal) = propose(plan, &[], Target::Puppet7);
    assert_eq!(ids(&proposal), ["globals", "hiera", "common", "openstack"]);
    assert_eq!(task_of(&proposal, "class rabbitmq"), "common");
    assert_eq!(task_of(&proposal, "class ntp"), "common");
    assert!(proposal
        .units()
        .iter()
        .all(|unit| !unit.label().starts_with("Notify")));
    assert!(proposal
        .hazards
        .iter()
        .any(|h| h.contains("excluded by the plan")));
}

#[test]
fn only_extracts_the_named_tasks_and_leaves_the_rest_in_legacy() {
    let (_, proposal) = propose("", &["rabbitmq"], Target::Puppet7);
    assert_eq!(ids(&proposal), ["globals", "hiera", "legacy", "rabbitmq"]);
    assert_eq!(task_of(&proposal, "class ntp"), "legacy");
    assert_eq!(task_of(&proposal, "class rabbitmq"), "rabbitmq");
}

fn written(proposal: &Proposal, analysis: &Analysis, dir: &Path, version: DescriptorVersion) {
    let _ = std::fs::remove_dir_all(dir);
    let output = Output {
        dir,
        modulepath: "modules",
        version,
        timeout: 600,
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
fn puppet3_targets_read_data_with_hiera_and_v1_descriptors_have_no_version() {
    let (analysis, proposal) = propose("", &[], Target::Puppet3);
    let dir = scratch("puppet3");
    written(&proposal, &analysis, &dir, DescriptorVersion::V1);
    let nova = std::fs::read_to_string(dir.join("nova/nova.pp")).expect("the nova manifest");
    assert!(
        nova.contains("$db_host = hiera('db_host', undef)"),
        "{nova}"
    );
    assert!(!nova.contains("lookup("), "{nova}");
    let yaml = std::fs::read_to_string(dir.join("tasks.yaml")).expect("tasks.yaml");
    assert!(
        !yaml.contains("version:") && !yaml.contains("cross-depends"),
        "{yaml}"
    );
    assert!(
        yaml.contains("- id: nova\n  type: puppet\n  groups: [compute, controller]\n"),
        "{yaml}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_same_input_gives_the_same_bytes() {
    let dirs = [scratch("first"), scratch("second")];
    let mut contents = Vec::new();
    for dir in &dirs {
        let (analysis, proposal) = propose("", &[], Target::Puppet7);
        written(&proposal, &analysis, dir, DescriptorVersion::V2);
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
