//! The Ansible export of the executor's fixtures, without Ansible: every
//! dependency of the plan points from an earlier play to a later one, each
//! running task is in its play for its host, each task file starts with
//! the start marker and ends with the `done` fact, the inventory groups the
//! nodes by role. (tests/tests/executor_ansible.rs runs the exports.)

use granule_executor::ansible::{self, ExportOptions};
use granule_executor::plan::Disposition;
use granule_executor::scheduler::simulate;
use granule_executor::{descriptor, Catalog, Inventory, Plan, Selection};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/tasks")
        .join(name)
}

fn plan(name: &str) -> Plan {
    let set = descriptor::load(&[fixture(name).join("tasks.yaml")]).expect("the fixture loads");
    let catalog = Catalog::build(&set).expect("the fixture validates");
    let inventory = Inventory::load(&fixture(name).join("nodes.yaml")).expect("its inventory");
    Plan::build(catalog, &inventory, &Selection::default()).expect("it plans")
}

fn read(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("written")).expect("JSON")
}

#[test]
fn every_dependency_goes_from_an_earlier_play_to_a_later_one() {
    for name in ["v1-groups", "v2-cluster", "resume", "puppet"] {
        let plan = plan(name);
        let level = ansible::play_levels(&plan);
        let runs = |id: usize| plan.instances[id].disposition == Disposition::Run;
        for (before, list) in plan.successors.iter().enumerate() {
            for &after in list {
                let gap = u32::from(runs(before));
                assert!(
                    level[after as usize] >= level[before] + gap,
                    "{name}: {}@{} (play {}) -> {}@{} (play {})",
                    plan.task_id(before as u32),
                    plan.node_name(before as u32),
                    level[before],
                    plan.task_id(after),
                    plan.node_name(after),
                    level[after as usize]
                );
            }
        }
        // No schedule beats the ideal; the plays' barriers may only add to it.
        // Sync points and skipped tasks take no time.
        let length = |id: u32| f64::from(u8::from(runs(id as usize)));
        let playbook = ansible::playbook_makespan(&plan, 4, length);
        let ideal = simulate(&plan, 4, length).lower_bound;
        assert!(playbook >= ideal, "{name}: {playbook} < {ideal}");
    }
}

/// A task whose strategy limits its nodes is alone with its limit: its
/// play's `serial` is that limit, so the limit holds for the whole task.
#[test]
fn limited_tasks_are_in_serial_plays_of_their_limit() {
    // Version 1 groups order their nodes by edges, not by limits.
    let plan = plan("v2-cluster");
    let mut limited = 0;
    for play in ansible::plays(&plan) {
        for &id in &play.instances {
            let task = plan.instances[id as usize].task;
            assert_eq!(
                play.serial,
                plan.limits[task].map(|limit| limit.max(1)),
                "{}",
                plan.task_id(id)
            );
            limited += usize::from(play.serial.is_some());
        }
    }
    assert!(limited > 0, "the fixture has no limited task");
}

#[test]
fn the_export_places_each_task_in_its_play_for_its_host() {
    let plan = plan("v2-cluster");
    let dir = std::env::temp_dir().join(format!("granule-ansible-export-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let options = ExportOptions {
        runner: Default::default(),
        forks: 8,
        workdir: std::env::temp_dir(),
        cut_off: Default::default(),
    };
    let exported = ansible::export(&plan, &options, &dir).expect("the export");
    let plays = ansible::plays(&plan);
    assert_eq!(exported.plays, plays.len());
    let playbook = read(&dir.join(ansible::PLAYBOOK_FILE));
    let written = playbook.as_array().expect("a list of plays");
    assert_eq!(written.len(), plays.len());
    for (play, planned) in written.iter().zip(&plays) {
        assert_eq!(play["strategy"], "free");
        assert_eq!(
            play.get("serial").and_then(Value::as_u64),
            planned.serial.map(u64::from)
        );
        let ids = &planned.instances;
        let hosts: Vec<&str> = play["hosts"].as_str().unwrap().split(',').collect();
        let blocks: Vec<&str> = play["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|block| block["name"].as_str().unwrap())
            .collect();
        for &id in ids {
            assert!(
                hosts.contains(&plan.node_name(id)),
                "{}",
                plan.node_name(id)
            );
            assert!(blocks.contains(&plan.task_id(id)), "{}", plan.task_id(id));
        }
    }
    for task in written
        .iter()
        .flat_map(|play| play["tasks"].as_array().unwrap())
    {
        let file = task["block"][0]["ansible.builtin.import_tasks"]
            .as_str()
            .unwrap();
        let steps = read(&dir.join(file));
        let steps = steps.as_array().unwrap();
        assert_eq!(steps[0]["vars"]["granule_step"], "start", "{file}");
        assert_eq!(
            steps.last().unwrap()["vars"]["granule_step"],
            "done",
            "{file}"
        );
    }
    let inventory = read(&dir.join(ansible::INVENTORY_FILE));
    let computes = &inventory["all"]["children"]["role_compute"]["hosts"];
    assert!(computes.get("cmp-1").is_some() && computes.get("ctl-1").is_none());
    let _ = std::fs::remove_dir_all(&dir);
}
