//! `granule split` on fixtures/split/forced_merges: a refresh between two
//! classes, a cycle between two classes and one resource declared, realised
//! and overridden by three classes each force their classes into one task,
//! and report.json names every such merge with its reason. The class that
//! nothing ties to the others keeps a task of its own.

use granule_tests::executor::{exit_code, granule, scratch, text};
use granule_tests::repo_root;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

fn split_report() -> Value {
    let fixture = repo_root().join("fixtures/split/forced_merges");
    let out = scratch("split_forced_merges").join("split");
    let output = Command::new(granule())
        .arg("split")
        .arg("--modulepath")
        .arg(fixture.join("modules"))
        .arg("--entry")
        .arg(fixture.join("manifests/site.pp"))
        .arg("-o")
        .arg(&out)
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
    let report = std::fs::read_to_string(out.join("report.json")).expect("report.json");
    serde_json::from_str(&report).expect("report.json is JSON")
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

#[test]
fn a_refresh_a_cycle_and_a_shared_resource_force_merges_and_the_report_says_why() {
    let report = split_report();
    let owner = task_of_class(&report);
    let merges = merges(&report);
    let described: Vec<String> = merges
        .iter()
        .map(|merge| format!("{:?}: {}", merge.units, merge.reason))
        .collect();

    // (classes forced together, what every reason joining them mentions)
    let forced: [(&[&str], &[&str]); 3] = [
        (&["config", "service"], &["refresh"]),
        (&["cyclic_a", "cyclic_b"], &["cycle"]),
        (&["accounts", "web", "db"], &["accounts"]),
    ];
    for (classes, words) in forced {
        let task = &owner[classes[0]];
        for class in classes {
            assert_eq!(
                &owner[*class], task,
                "{classes:?} must share a task; merges: {described:#?}"
            );
        }
        let group = class_set(classes);
        let joining: Vec<&Merge> = merges
            .iter()
            .filter(|merge| merge.units.is_subset(&group))
            .collect();
        // n classes take n - 1 merges to join.
        assert_eq!(
            joining.len(),
            classes.len() - 1,
            "the merges of {classes:?}: {described:#?}"
        );
        for merge in joining {
            for word in words {
                assert!(
                    merge.reason.contains(word),
                    "the reason for merging {:?} should mention {word:?}: {}",
                    merge.units,
                    merge.reason
                );
            }
        }
    }

    // Both ways of sharing the virtual file are named: realised by web,
    // collected (and overridden) by db.
    let reason_between = |a: &str, b: &str| {
        merges
            .iter()
            .find(|merge| merge.units == class_set(&[a, b]))
            .map(|merge| merge.reason.clone())
    };
    let web = reason_between("accounts", "web").or_else(|| reason_between("web", "db"));
    assert!(
        web.as_deref()
            .is_some_and(|reason| reason.contains("realis") || reason.contains("realiz")),
        "web realises the account file: {described:#?}"
    );
    let db = reason_between("accounts", "db").or_else(|| reason_between("web", "db"));
    assert!(
        db.as_deref()
            .is_some_and(|reason| reason.contains("collect")),
        "db collects (and overrides) the account file: {described:#?}"
    );

    // Nothing forces clock anywhere: a task of its own, in no merge.
    let clock = &owner["clock"];
    assert_eq!(
        owner.values().filter(|task| *task == clock).count(),
        1,
        "clock shares its task: {owner:?}"
    );
    assert!(
        merges
            .iter()
            .all(|merge| !merge.units.contains("class clock")),
        "clock was merged: {described:#?}"
    );
    assert_eq!(merges.len(), 4, "only the forced merges: {described:#?}");
}
