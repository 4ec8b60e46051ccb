//! Running part of a task graph: --only, --skip, --start, --end,
//! --with-deps, --node, and --dry-run's plan (waves, nodes, critical path).

use granule_tests::executor::{
    dry_run, exit_code, fixture, granule_in, intervals, journal, scratch, text,
};
use std::collections::BTreeSet;

fn cluster_args() -> Vec<String> {
    let dir = fixture("v2-cluster");
    vec![
        "--tasks".into(),
        dir.join("tasks.yaml").display().to_string(),
        "--inventory".into(),
        dir.join("nodes.yaml").display().to_string(),
    ]
}

/// The (task) ids the plan runs (not skipped, not sync points) for `extra` options.
fn tasks_run(extra: &[&str]) -> BTreeSet<String> {
    let dir = scratch("parts_dry_run");
    let mut args = cluster_args();
    args.extend(extra.iter().map(|arg| arg.to_string()));
    let plan = dry_run(&dir, &args.iter().map(String::as_str).collect::<Vec<_>>());
    plan.instances
        .iter()
        .filter(|(_, _, action)| action == "run")
        .map(|(_, task, _)| task.clone())
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|item| item.to_string()).collect()
}

#[test]
fn selection_options_choose_the_tasks_that_run() {
    assert_eq!(tasks_run(&["--only", "keystone"]), set(&["keystone"]));
    // keystone needs rabbitmq on its node, which needs hiera and (across
    // nodes) database.
    assert_eq!(
        tasks_run(&["--only", "keystone", "--with-deps"]),
        set(&["database", "hiera", "keystone", "rabbitmq"])
    );
    assert_eq!(
        tasks_run(&["--only", "keystone,ntp_client"]),
        set(&["keystone", "ntp_client"])
    );
    // ceph_osd follows nova_compute too, but its condition is false.
    assert_eq!(
        tasks_run(&["--start", "nova_compute"]),
        set(&["flaky_agent", "nova_compute"])
    );
    assert_eq!(tasks_run(&["--end", "hiera"]), set(&["hiera"]));
    assert_eq!(
        tasks_run(&["--start", "hiera", "--end", "copy_config"]),
        set(&["copy_config", "hiera", "write_config"])
    );
    let everything = tasks_run(&[]);
    let mut without_hiera = everything.clone();
    without_hiera.remove("hiera");
    assert_eq!(tasks_run(&["--skip", "hiera"]), without_hiera);
    assert!(everything.contains("too_slow") && everything.len() == 16);
}

#[test]
fn node_option_plans_only_those_nodes() {
    let dir = scratch("parts_node");
    let mut args = cluster_args();
    args.extend(["--node".to_string(), "cmp-1,ctl-1".to_string()]);
    let plan = dry_run(&dir, &args.iter().map(String::as_str).collect::<Vec<_>>());
    let nodes: BTreeSet<&str> = plan.instances.iter().map(|(n, _, _)| n.as_str()).collect();
    assert_eq!(nodes, BTreeSet::from(["cmp-1", "ctl-1"]));
    // Cross-node links between the chosen nodes stay.
    let index = |node: &str, task: &str| {
        plan.instances
            .iter()
            .position(|(n, t, _)| n == node && t == task)
            .unwrap()
    };
    assert!(plan
        .edges
        .contains(&(index("ctl-1", "keystone"), index("cmp-1", "nova_compute"))));

    let mut bad = cluster_args();
    bad.extend([
        "--node".to_string(),
        "cmp-9".to_string(),
        "--dry-run".to_string(),
    ]);
    let mut run = vec!["run".to_string()];
    run.extend(bad);
    let output = granule_in(&dir, &run.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(exit_code(&output), 2);
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("--node cmp-9: no such node") && stderr.contains("ctl-1"),
        "{stderr}"
    );
}

#[test]
fn unknown_task_in_a_selection_is_an_error() {
    let dir = scratch("parts_unknown");
    for option in ["--only", "--skip", "--start", "--end"] {
        let mut args = vec!["run".to_string(), "--dry-run".to_string()];
        args.extend(cluster_args());
        args.extend([option.to_string(), "keystne".to_string()]);
        let output = granule_in(&dir, &args.iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!(exit_code(&output), 2, "{option}");
        let stderr = text(&output.stderr);
        assert!(
            stderr.contains(&format!("{option} keystne: no such task")),
            "{stderr}"
        );
    }
}

#[test]
fn dry_run_prints_waves_nodes_and_critical_path_and_runs_nothing() {
    let dir = scratch("parts_dry_run_text");
    let mut args = vec!["run".to_string(), "--dry-run".to_string()];
    args.extend(cluster_args());
    let output = granule_in(&dir, &args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(exit_code(&output), 0, "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(stdout.starts_with("plan: 65 tasks on 5 nodes"), "{stdout}");
    assert!(stdout.contains("  node cmp-2 [compute]\n"), "{stdout}");
    let waves: Vec<&str> = stdout.lines().filter(|l| l.starts_with("wave ")).collect();
    assert!(waves.len() >= 6, "{stdout}");
    assert!(
        stdout.contains("wave 1:\n  deploy_start (sync point): ctl-1, ctl-2, ctl-3, cmp-1, cmp-2")
    );
    assert!(
        stdout.contains("ceph_osd (skipped: condition is false"),
        "{stdout}"
    );
    // The longest chain (8 tasks: through the cross-node links from the
    // database to the compute nodes, or to the stage that ends everywhere)
    // crosses nodes.
    let critical = stdout
        .lines()
        .find(|l| l.starts_with("critical path"))
        .expect("a critical path line");
    assert!(
        critical.starts_with("critical path (8 tasks): deploy_start@ctl-1 -> hiera@ctl-1 -> database@ctl-1 -> rabbitmq@")
            && critical.contains("keystone@")
            && critical.contains("@ctl-")
            && (critical.contains("@cmp-") || critical.contains("@ctl-2")),
        "{critical}"
    );
    assert!(
        !dir.join(".granule").exists(),
        "--dry-run wrote a state directory"
    );
    assert!(!dir.join("work").exists(), "--dry-run ran a task");
}

#[test]
fn a_partial_run_runs_only_the_selected_tasks() {
    let dir = scratch("parts_partial_run");
    let mut args = vec![
        "run".to_string(),
        "--state-dir".to_string(),
        "state".to_string(),
    ];
    args.extend(cluster_args());
    args.extend(["--only", "copy_config", "--with-deps", "--node", "cmp-1"].map(String::from));
    let output = granule_in(&dir, &args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(exit_code(&output), 0, "{}", text(&output.stderr));
    let spans = intervals(&journal(&dir.join("state")));
    let ran: BTreeSet<(String, String)> = spans
        .iter()
        .filter(|(_, span)| span.start.is_some())
        .map(|(key, _)| key.clone())
        .collect();
    let expected: BTreeSet<(String, String)> = ["hiera", "write_config", "copy_config"]
        .iter()
        .map(|task| ("cmp-1".to_string(), task.to_string()))
        .collect();
    assert_eq!(ran, expected);
    assert!(spans
        .values()
        .all(|span| span.state == "succeeded" || span.state == "skipped"));
    assert!(dir.join("work/copied/config.txt").exists());
    assert!(
        !dir.join("work/synced").exists(),
        "sync_config was not selected"
    );
}

/// Deployment data from the inventory (`data:`, `previous_data:`) and from
/// `--data NODE=FILE`: each node's conditions are decided on its own data,
/// a node without data plans its tasks as undecided, `--dry-run` says which
/// condition skipped what, and the run's `run.json` keeps the data files for
/// `--resume`.
#[test]
fn conditions_are_decided_per_node_on_its_deployment_data() {
    let dir = scratch("parts_deployment_data");
    std::fs::write(
        dir.join("tasks.yaml"),
        "\
- id: database
  type: shell
  version: 2.0.0
  role: [controller]
  condition: {yaql_exp: 'changed($.mysql)'}
  parameters: {cmd: 'true'}
- id: ceph
  type: shell
  version: 2.0.0
  role: [controller]
  condition: {yaql_exp: '$.storage.ceph and not (''mongo'' in $.roles)'}
  parameters: {cmd: 'true'}
",
    )
    .unwrap();
    std::fs::write(
        dir.join("nodes.yaml"),
        "nodes:\n  - {name: c1, roles: [controller], data: c1.yaml, previous_data: c1-old.yaml}\n  - {name: c2, roles: [controller]}\n  - {name: c3, roles: [controller]}\n",
    )
    .unwrap();
    let data = |password: &str, ceph: bool| {
        format!("uid: '1'\nroles: [controller]\nmysql: {{password: {password}}}\nstorage: {{ceph: {ceph}}}\n")
    };
    std::fs::write(dir.join("c1.yaml"), data("new", true)).unwrap();
    std::fs::write(dir.join("c1-old.yaml"), data("new", true)).unwrap();
    std::fs::write(dir.join("c2.yaml"), data("new", false)).unwrap();
    let args = [
        "run",
        "--dry-run",
        "--tasks",
        "tasks.yaml",
        "--inventory",
        "nodes.yaml",
        "--data",
        "c2=c2.yaml",
    ];
    let output = granule_in(&dir, &args);
    assert_eq!(exit_code(&output), 0, "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    for line in [
        // c1: nothing changed since its previous deployment; ceph on.
        "  database (skipped: condition is false: changed($.mysql)): c1\n",
        "  ceph: c1\n",
        // c2: no previous data, so the database counts as changed; ceph off.
        "  database: c2\n",
        "  ceph (skipped: condition is false: $.storage.ceph and not ('mongo' in $.roles)): c2\n",
        // c3: no data at all.
        "  database (condition undecided): c3\n",
    ] {
        assert!(stdout.contains(line), "{line}---\n{stdout}");
    }
    assert!(
        text(&output.stderr).contains("task `database`: its condition is undecided (no deployment data for this node); the task is planned"),
        "{}",
        text(&output.stderr)
    );

    // `run.json` names the data files, for `--resume`.
    let run = granule_in(
        &dir,
        &[
            "run",
            "--tasks",
            "tasks.yaml",
            "--inventory",
            "nodes.yaml",
            "--data",
            "c2=c2.yaml",
            "--node",
            "c2",
            "--stop-after",
            "database",
        ],
    );
    assert!(matches!(exit_code(&run), 0 | 3), "{}", text(&run.stderr));
    let saved = std::fs::read_to_string(dir.join(".granule/run/run.json")).unwrap();
    assert!(saved.contains("c2.yaml"), "{saved}");
}
