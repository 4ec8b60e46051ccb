//! `granule split --verify` on the monolith the product exists for: the 2014
//! Fuel installer (`../shared/corpora/fuel-library-2014`), with the command
//! issue 11 gives. What holds today: the split and its `--verify` succeed,
//! `granule lint --tasks` given the same role and assumption finds what
//! `--verify` finds: nothing (no cross-task reference, no task reading data
//! it does not set or look up); every listed role runs tasks, and the task
//! order keeps the run stages the monolith declares (`stage { 'netconfig':
//! } -> Stage['main']`): a task of an earlier stage runs before every task
//! of a later one on a role both run on; at least 50 tasks, none holding
//! more than 10% of the units; report.md names sources relative to the
//! module path, each hazard on one line. The figures still open (agreement
//! with the 2015 split: same-task F1, no reversed human ordering) are
//! asserted by an ignored test, run with `--ignored`; docs/split.md says
//! where they stand and why.

use granule_tests::compare_split::compare_split;
use granule_tests::corpus::shared_corpus;
use granule_tests::executor::{
    exit_code, granule, repeated_report_lines, scratch, split_refusals, task_sizes, text,
};
use granule_tests::lint_fixtures::canonical;
use granule_tests::require_reference;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

const ROLES: [&str; 7] = [
    "primary-controller",
    "controller",
    "compute",
    "cinder",
    "ceph-osd",
    "mongo",
    "primary-mongo",
];

/// How the guards are decided: the node's role, and the deployment mode.
const GUARDS: [&str; 4] = [
    "--role-var",
    "$::fuel_settings['role']",
    "--assume",
    "$::fuel_settings['deployment_mode']=ha_compact",
];

/// A task of tasks.yaml, as written.
struct Described {
    groups: BTreeSet<String>,
    requires: BTreeSet<String>,
    manifest: PathBuf,
}

fn strings(value: &Value) -> BTreeSet<String> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect()
}

/// The tasks' ids, groups, requires (required_for turned around) and
/// manifests, read back from OUT/tasks.yaml (which names them relative to
/// OUT).
fn described(out: &Path) -> BTreeMap<String, Described> {
    let yaml = std::fs::read_to_string(out.join("tasks.yaml")).expect("tasks.yaml");
    let tasks: Vec<Value> = serde_saphyr::from_str(&yaml).expect("tasks.yaml is YAML");
    let mut described: BTreeMap<String, Described> = BTreeMap::new();
    for task in &tasks {
        let id = task["id"]
            .as_str()
            .expect("every task has an id")
            .to_string();
        described.insert(
            id,
            Described {
                groups: strings(&task["groups"]),
                requires: strings(&task["requires"]),
                manifest: out.join(
                    task["parameters"]["puppet_manifest"]
                        .as_str()
                        .expect("every task names its manifest"),
                ),
            },
        );
    }
    for task in &tasks {
        let id = task["id"].as_str().unwrap().to_string();
        for later in strings(&task["required_for"]) {
            if let Some(entry) = described.get_mut(&later) {
                entry.requires.insert(id.clone());
            }
        }
    }
    described
}

/// Whether `first` runs before `then` through requires among tasks of `role`.
fn runs_before(tasks: &BTreeMap<String, Described>, first: &str, then: &str, role: &str) -> bool {
    let mut stack = vec![then.to_string()];
    let mut seen = BTreeSet::new();
    while let Some(at) = stack.pop() {
        if !seen.insert(at.clone()) {
            continue;
        }
        for required in &tasks[&at].requires {
            if required == first {
                return true;
            }
            if tasks.get(required).is_some_and(|t| t.groups.contains(role)) {
                stack.push(required.clone());
            }
        }
    }
    false
}

/// The one run stage a manifest applies its code in, when it has one: main
/// when no declaration names a stage; the stage every class declaration
/// names (`stage => 'x'`) when only staged classes are declared; `None`
/// when it mixes them (resources or unstaged classes beside staged ones).
fn stage_of(manifest: &Path) -> Option<String> {
    let text = std::fs::read_to_string(manifest).expect("a task manifest is readable");
    let mut staged = BTreeSet::new();
    let (mut stage_lines, mut classes, mut resources) = (0, 0, 0);
    for line in text.lines().map(str::trim_start) {
        if line.starts_with('#') {
            continue;
        }
        if let Some(at) = line.find("stage") {
            let rest = line[at + "stage".len()..].trim_start();
            if let Some(value) = rest.strip_prefix("=>") {
                let value = value.split([',', '}']).next().unwrap_or_default().trim();
                staged.insert(value.trim_matches(|c| c == '\'' || c == '"').to_string());
                stage_lines += 1;
            }
        }
        let word: String = line
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':')
            .collect();
        let opens_body = line[word.len()..].trim_start().starts_with('{');
        match word.as_str() {
            "class" if opens_body => classes += 1,
            "" | "stage" | "if" | "unless" | "case" | "else" | "elsif" => {}
            _ if opens_body && word.starts_with(|c: char| c.is_ascii_lowercase()) => resources += 1,
            _ => {}
        }
    }
    match staged.len() {
        0 => Some("main".to_string()),
        1 if resources == 0 && classes == stage_lines => staged.pop_first(),
        _ => None,
    }
}

/// Issue 11's command: the installer's `site.pp` split for its roles in the
/// `ha_compact` mode, as Puppet 3 reads it, `--verify`ed, into `out`.
fn split_installer(modules: &Path, out: &Path) -> std::process::Output {
    Command::new(granule())
        .arg("split")
        .arg("--modulepath")
        .arg(modules)
        .arg("--entry")
        .arg(modules.join("osnailyfacter/examples/site.pp"))
        .args(GUARDS)
        .arg("--roles")
        .arg(ROLES.join(","))
        .args(["--target", "puppet3", "--verify", "-o"])
        .arg(out)
        .output()
        .expect("granule runs")
}

/// Issue 11's figures against the Fuel team's own split of the installer,
/// made by hand in 2015 (`../shared/corpora/fuel-library-2015`), as
/// `scripts/compare-split` counts them: same-task F1 at least 0.6, and no
/// human ordering between two compared classes reversed.
#[test]
#[ignore = "issue 11 is open: the split keeps the module code's references and orderings the 2015 team removed (docs/split.md, Why the rest does not hold); run with --ignored"]
fn the_2014_installer_split_agrees_with_the_2015_hand_split() {
    const TEST: &str = "the_2014_installer_split_agrees_with_the_2015_hand_split";
    let (Some(corpus), Some(hand)) = (
        require_reference(TEST, shared_corpus("fuel-library-2014")),
        require_reference(TEST, shared_corpus("fuel-library-2015")),
    ) else {
        return;
    };
    let modules = corpus.join("deployment/puppet");
    let out = scratch("split-fuel-2014-against-2015");
    let output = split_installer(&modules, &out);
    assert_eq!(exit_code(&output), 0, "{}", text(&output.stderr));
    let Some(comparison) =
        require_reference(TEST, compare_split(&out, &hand.join("deployment/puppet")))
    else {
        return;
    };
    let f1 = comparison.f1.unwrap_or_default();
    let reversed: Vec<String> = comparison
        .reversed
        .iter()
        .map(|r| format!("{} before {}", r.before, r.after))
        .collect();
    assert!(
        f1 >= 0.6 && reversed.is_empty(),
        "same-task F1 {f1:.3} (at least 0.6 asked; precision {:?}, recall {:?}, {} pairs together \
         in ours, {} in theirs, {} in both), {} human orderings reversed (none asked): {reversed:#?}",
        comparison.precision,
        comparison.recall,
        comparison.pairs.together_ours,
        comparison.pairs.together_reference,
        comparison.pairs.together_both,
        reversed.len()
    );
}

#[test]
fn the_2014_installer_splits_with_roles_data_and_stage_order() {
    let Some(corpus) = require_reference(
        "the_2014_installer_splits_with_roles_data_and_stage_order",
        shared_corpus("fuel-library-2014"),
    ) else {
        return;
    };
    let modules = corpus.join("deployment/puppet");
    let out = scratch("split-fuel-2014");
    let output = split_installer(&modules, &out);
    let stderr = text(&output.stderr);
    assert_eq!(
        exit_code(&output),
        0,
        "the split or its --verify failed:\n{stderr}"
    );
    // `granule lint --tasks`, told the role and the assumption as the split
    // was, finds what --verify found, and no task reads data it neither
    // sets nor looks up.
    let verified: BTreeSet<(PathBuf, u64, u64)> = stderr
        .lines()
        .filter_map(|line| line.strip_prefix("verify: "))
        .filter(|line| {
            line.ends_with("(granule/cross-task-reference)")
                || line.ends_with("(granule/task-undefined-variable)")
        })
        .filter_map(|line| {
            let mut parts = line.splitn(4, ':');
            let path = canonical(Path::new(parts.next()?));
            Some((
                path,
                parts.next()?.parse().ok()?,
                parts.next()?.parse().ok()?,
            ))
        })
        .collect();
    let refused = split_refusals(&modules, &out, &GUARDS);
    let linted: BTreeSet<(PathBuf, u64, u64)> = refused
        .iter()
        .map(|problem| {
            (
                canonical(Path::new(problem["fullpath"].as_str().unwrap_or_default())),
                problem["line"].as_u64().unwrap_or_default(),
                problem["column"].as_u64().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        verified, linted,
        "--verify (left) and granule lint --tasks (right) disagree:\n{stderr}"
    );
    assert!(
        refused.is_empty(),
        "granule lint --tasks refuses the split: {refused:#?}"
    );
    let tasks = described(&out);
    // Issue 11's size figures: at least 50 tasks, none holding more than
    // 10% of the units (report.json: each task's `source` lists its units).
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap())
            .expect("report.json is JSON");
    // report.md names sources relative to the module path, hazards and
    // unit labels included, and each hazard is one line.
    let report_md = std::fs::read_to_string(out.join("report.md")).expect("report.md");
    let absolute = format!("{}/", modules.display());
    let named_absolutely: Vec<&str> = report_md
        .lines()
        .filter(|line| line.contains(&absolute))
        .collect();
    assert!(
        named_absolutely.is_empty(),
        "report.md names files under the module path absolutely: {named_absolutely:#?}"
    );
    let repeated = repeated_report_lines(&report_md);
    assert!(
        repeated.is_empty(),
        "report.md repeats lines under one heading: {repeated:#?}"
    );
    let hazards = report["hazards"].as_array().expect("hazards");
    assert!(!hazards.is_empty(), "the installer's split reports hazards");
    for hazard in hazards {
        let hazard = hazard.as_str().expect("a hazard is text");
        assert!(
            !hazard.contains('\n'),
            "a hazard of several lines: {hazard}"
        );
    }
    let (units, sizes) = task_sizes(&report);
    assert!(sizes.len() >= 50, "{} tasks", sizes.len());
    for (id, size) in &sizes {
        assert!(
            size * 10 <= units,
            "task {id} holds {size} of the {units} units, more than 10%"
        );
    }
    // Puppet refuses to assign a variable twice in one scope: the globals
    // task sets each piece of data once under each condition (it assigned
    // both defaults of a parameter `openstack::mongo_secondary` declares
    // twice, and the task failed on mongo nodes).
    let globals = std::fs::read_to_string(out.join("globals/globals.pp")).expect("globals.pp");
    let mut guard = "";
    let mut assigned = BTreeSet::new();
    let mut twice = Vec::new();
    for line in globals.lines() {
        if let Some(condition) = line.strip_prefix("if ") {
            guard = condition;
        } else if line == "}" {
            guard = "";
        } else if let Some((variable, _)) = line
            .trim_start()
            .strip_prefix('$')
            .and_then(|rest| rest.split_once(" = "))
        {
            if !assigned.insert((guard, variable)) {
                twice.push(format!("${variable} under `if {guard}`"));
            }
        }
    }
    assert!(twice.is_empty(), "globals.pp assigns twice: {twice:#?}");
    for role in ROLES {
        let own = tasks
            .iter()
            .filter(|(id, t)| {
                t.groups.contains(role) && !["globals", "hiera"].contains(&id.as_str())
            })
            .count();
        assert!(own > 0, "role {role} runs no task of its own");
    }
    // Stages of the monolith, in their order; main last.
    let order = [
        "zero",
        "first",
        "openstack-custom-repo",
        "netconfig",
        "corosync_setup",
        "openstack-firewall",
        "main",
    ];
    let rank = |stage: &str| order.iter().position(|s| *s == stage);
    let staged: BTreeMap<&str, usize> = tasks
        .iter()
        .filter(|(id, _)| !["globals", "hiera"].contains(&id.as_str()))
        .filter_map(|(id, task)| {
            let stage = stage_of(&task.manifest)?;
            Some((id.as_str(), rank(&stage).unwrap_or(order.len() - 1)))
        })
        .collect();
    let mut checked = 0;
    for (&first, &early) in &staged {
        for (&then, &late) in &staged {
            if early >= late {
                continue;
            }
            for role in tasks[first].groups.intersection(&tasks[then].groups) {
                checked += 1;
                assert!(
                    runs_before(&tasks, first, then, role),
                    "on role {role}, `{first}` (stage {}) does not run before `{then}` (stage {})",
                    order[early],
                    order[late]
                );
            }
        }
    }
    assert!(checked > 0, "no pair of tasks in different stages");
}

/// Classes of the installer's modules split as entries (`--target
/// puppet3`), as a user trying the tool on one component might: `--verify`
/// holds on each. Each failed before the third 2026-12-07 session:
/// `heat::api` and `heat::api_cloudwatch` copy `Heat_config<||> ~>
/// Service['heat-api']`, whose refresh the split lost; `ntp::params` reads
/// `$config` in the `if` setting it where unset; `nailgun` defaults a
/// parameter to the top-scope variable of its own name (`$keystone_host =
/// $keystone_host`); `osnailyfacter::cluster_simple` keeps facts in
/// variables of their names (`$use_syslog = $::use_syslog`), which the
/// globals task set at its top scope, as the facts themselves.
#[test]
fn module_classes_split_as_entries_verify() {
    let test = "split_fuel_2014_module_classes";
    let Some(corpus) = require_reference(test, shared_corpus("fuel-library-2014")) else {
        return;
    };
    let modules = corpus.join("deployment/puppet");
    let dir = scratch(test);
    for class in [
        "heat::api",
        "heat::api_cloudwatch",
        "ntp::params",
        "nailgun",
        "osnailyfacter::cluster_simple",
    ] {
        let output = Command::new(granule())
            .arg("split")
            .arg("--modulepath")
            .arg(&modules)
            .args(["--entry", class, "--target", "puppet3", "--verify", "-o"])
            .arg(dir.join(class.replace("::", "-")))
            .output()
            .expect("granule runs");
        assert_eq!(
            exit_code(&output),
            0,
            "--entry {class}: the split or its --verify failed:\n{}",
            text(&output.stderr)
        );
    }
}
