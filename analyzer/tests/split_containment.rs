//! A relationship to an opened class orders what Puppet's containment puts
//! in it: its own statements and the classes it declares with `contain`,
//! not the classes it declares with `include` or `class { }`
//! (fixtures/split/containment: `Class['role'] -> Class['z']`).

use granule_analyzer::semantic::Semantic;
use granule_analyzer::split::{split, Proposal, SplitOptions, Target};
use granule_analyzer::{Analysis, Entry};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("analyzer/ has a parent")
        .join("fixtures/split/containment")
}

/// The id of the task whose own units include the one labelled `label`.
fn task_holding<'a>(proposal: &'a Proposal, label: &str) -> &'a str {
    let unit = proposal
        .monolith
        .units
        .iter()
        .position(|unit| unit.label() == label)
        .unwrap_or_else(|| panic!("no unit {label}"));
    proposal
        .tasks
        .iter()
        .find(|task| task.units.contains(&unit))
        .map(|task| task.id.as_str())
        .unwrap_or_else(|| panic!("no task holds {label}"))
}

/// The tasks that run before `id`, directly or through others.
fn before<'a>(proposal: &'a Proposal, id: &str) -> BTreeSet<&'a str> {
    let mut seen = BTreeSet::new();
    let mut stack = vec![id.to_string()];
    while let Some(at) = stack.pop() {
        let task = proposal.task(&at).expect("a required task exists");
        for required in &task.requires {
            if let Some(known) = proposal.task(required) {
                if seen.insert(known.id.as_str()) {
                    stack.push(required.clone());
                }
            }
        }
    }
    seen
}

#[test]
fn a_class_relationship_orders_what_the_class_contains_only() {
    let site = root().join("manifests/site.pp");
    let analysis = Analysis::load(&[root().join("modules")], std::slice::from_ref(&site))
        .expect("the fixture loads");
    let semantic = Semantic::new(&analysis);
    let options = SplitOptions {
        entries: vec![Entry::File(Arc::from(site.to_string_lossy().as_ref()))],
        role_var: None,
        roles: Vec::new(),
        assumptions: Vec::new(),
        plan: Default::default(),
        only: Vec::new(),
        target: Target::Puppet7,
    };
    let proposal = split(&semantic, &options).expect("the fixture splits");
    let z = task_holding(&proposal, "class z");
    let earlier = before(&proposal, z);
    for contained in ["class profile_b", "File[/tmp/granule-role]"] {
        let task = task_holding(&proposal, contained);
        assert!(
            earlier.contains(task),
            "{contained} (task {task}) is not ordered before z: {earlier:?}"
        );
    }
    let included = task_holding(&proposal, "class profile_a");
    assert!(
        !earlier.contains(included),
        "class profile_a (task {included}) is ordered before z, though `include` does not contain it"
    );
}
