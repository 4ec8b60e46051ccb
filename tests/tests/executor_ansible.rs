//! `granule run --engine ansible` with the real `ansible-playbook` (from
//! PyPI, see scripts/test): the same fixtures as granule's own runner give
//! the same final state on every node, local and behind real sshd servers;
//! the side effects respect every dependency; a run killed with SIGKILL
//! resumes without running again what had finished on a host.

use granule_tests::executor::{
    ansible_playbook, dry_run, exit_code, file_tree, fixture, granule, instantiate_fixture,
    intervals, journal, scratch, text, PlanView,
};
use granule_tests::require_reference;
use granule_tests::sshd::{
    free_port, keygen, ssh_available, ssh_inventory, start_sshd, user_name, Sshd,
};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn run_args(tasks: &Path, inventory: &Path, engine: &str, ansible: &Path) -> Vec<String> {
    vec![
        "run".into(),
        "--tasks".into(),
        tasks.display().to_string(),
        "--inventory".into(),
        inventory.display().to_string(),
        "--state-dir".into(),
        "state".into(),
        "--engine".into(),
        engine.into(),
        "--ansible-playbook".into(),
        ansible.display().to_string(),
    ]
}

/// The Python Ansible runs modules with on the nodes: the system's, which
/// interpreter discovery may miss behind a version manager's shims.
const NODE_PYTHON: &str = "/usr/bin/python3";

fn granule_command(dir: &Path, args: &[String]) -> Command {
    let mut command = Command::new(granule());
    command
        .args(args)
        .current_dir(dir)
        .env("ANSIBLE_PYTHON_INTERPRETER", NODE_PYTHON);
    command
}

fn run_in(dir: &Path, args: &[String]) -> (i32, String) {
    let output = granule_command(dir, args).output().expect("granule runs");
    (exit_code(&output), text(&output.stderr))
}

/// The last state of every (node, task) in the journal.
fn final_states(state_dir: &Path) -> BTreeMap<(String, String), String> {
    intervals(&journal(state_dir))
        .into_iter()
        .map(|(key, span)| (key, span.state))
        .collect()
}

/// The files a run left, with the lines of append-only logs sorted: the
/// engines may interleave independent tasks differently.
fn outcome_tree(root: &Path) -> BTreeMap<PathBuf, (u32, Vec<u8>)> {
    let mut tree = file_tree(root);
    for (path, (_, content)) in tree.iter_mut() {
        if path.extension().is_some_and(|ext| ext == "log") {
            let text = String::from_utf8_lossy(content).into_owned();
            let mut lines: Vec<&str> = text.lines().collect();
            lines.sort_unstable();
            *content = lines.join("\n").into_bytes();
        }
    }
    tree
}

/// The plan's dependencies between tasks that do something, followed
/// through sync points and skipped tasks: (before, after) instance pairs.
fn needs_between_runs(plan: &PlanView) -> Vec<(usize, usize)> {
    let runs = |id: usize| plan.instances[id].2 == "run";
    let mut needs: Vec<Vec<usize>> = vec![Vec::new(); plan.instances.len()];
    for &(before, after) in &plan.edges {
        needs[after].push(before);
    }
    let mut pairs = Vec::new();
    for after in (0..plan.instances.len()).filter(|&id| runs(id)) {
        let mut stack = needs[after].clone();
        let mut seen = vec![false; plan.instances.len()];
        while let Some(before) = stack.pop() {
            if std::mem::replace(&mut seen[before], true) {
                continue;
            }
            if runs(before) {
                pairs.push((before, after));
            } else {
                stack.extend(&needs[before]);
            }
        }
    }
    pairs
}

fn plan_of(dir: &Path, tasks: &Path, inventory: &Path) -> PlanView {
    dry_run(
        dir,
        &[
            "--tasks",
            tasks.to_str().unwrap(),
            "--inventory",
            inventory.to_str().unwrap(),
        ],
    )
}

/// Every dependency of the plan held in the Ansible run: a task started on
/// its node only after everything it needs had ended, by the journal's
/// timestamps.
fn assert_order_respected(dir: &Path, tasks: &Path, inventory: &Path) {
    let plan = plan_of(dir, tasks, inventory);
    let spans = intervals(&journal(&dir.join("state")));
    let key = |id: usize| (plan.instances[id].0.clone(), plan.instances[id].1.clone());
    let mut checked = 0;
    for (before, after) in needs_between_runs(&plan) {
        let (Some(first), Some(then)) = (spans.get(&key(before)), spans.get(&key(after))) else {
            continue;
        };
        if let Some(start) = &then.start {
            assert!(
                first.end <= *start,
                "{:?} started at {start} before {:?} ended at {}",
                key(after),
                key(before),
                first.end
            );
            checked += 1;
        }
    }
    assert!(checked > 0, "no dependency was checked");
}

fn same_final_state_on_local_nodes(name: &str) {
    let test = format!("ansible_same_state_{name}");
    let Some(ansible) = require_reference(&test, ansible_playbook()) else {
        return;
    };
    let tasks = fixture(name).join("tasks.yaml");
    let inventory = fixture(name).join("nodes.yaml");
    let root = scratch(&test);
    let mut outcomes = Vec::new();
    for engine in ["builtin", "ansible"] {
        let dir = root.join(engine);
        std::fs::create_dir_all(&dir).unwrap();
        let (code, stderr) = run_in(&dir, &run_args(&tasks, &inventory, engine, &ansible));
        outcomes.push((
            code,
            final_states(&dir.join("state")),
            outcome_tree(&dir.join("work")),
            stderr,
        ));
    }
    let (builtin, ansible_run) = (&outcomes[0], &outcomes[1]);
    assert_eq!(
        builtin.0, ansible_run.0,
        "exit codes differ:\n{}",
        ansible_run.3
    );
    assert_eq!(
        builtin.1, ansible_run.1,
        "final task states differ:\n{}",
        ansible_run.3
    );
    assert_eq!(
        builtin.2, ansible_run.2,
        "the files left under work/ differ"
    );
    assert_order_respected(&root.join("ansible"), &tasks, &inventory);
}

#[test]
fn version_1_groups_give_the_same_final_state_with_both_engines() {
    same_final_state_on_local_nodes("v1-groups");
}

#[test]
fn version_2_cluster_gives_the_same_final_state_with_both_engines() {
    same_final_state_on_local_nodes("v2-cluster");
}

#[test]
fn puppet_tasks_with_a_failure_give_the_same_final_state_with_both_engines() {
    let test = "ansible_same_state_puppet";
    let Some(ansible) = require_reference(test, ansible_playbook()) else {
        return;
    };
    if require_reference(
        test,
        granule_tests::executor::tool_available("puppet", "puppet"),
    )
    .is_none()
    {
        return;
    }
    let root = scratch(test);
    let mut outcomes = Vec::new();
    for engine in ["builtin", "ansible"] {
        let dir = root.join(engine);
        std::fs::create_dir_all(&dir).unwrap();
        instantiate_fixture("puppet", &dir);
        let (code, stderr) = run_in(
            &dir,
            &run_args(
                Path::new("tasks.yaml"),
                Path::new("nodes.yaml"),
                engine,
                &ansible,
            ),
        );
        outcomes.push((
            code,
            final_states(&dir.join("state")),
            file_tree(&dir.join("out")),
            stderr,
        ));
    }
    let (builtin, ansible_run) = (&outcomes[0], &outcomes[1]);
    assert_eq!(
        builtin.0, 1,
        "the fixture has a failing task:\n{}",
        builtin.3
    );
    assert_eq!(
        builtin.0, ansible_run.0,
        "exit codes differ:\n{}",
        ansible_run.3
    );
    assert_eq!(
        builtin.1, ansible_run.1,
        "final task states differ:\n{}",
        ansible_run.3
    );
    assert!(!builtin.2.is_empty(), "puppet wrote nothing");
    assert_eq!(
        builtin.2, ansible_run.2,
        "the files puppet left under out/ differ"
    );
}

/// Two nodes behind two real sshd ports, `alpha-1` (role alpha) and
/// `beta-1` (role beta), in `dir/nodes.yaml`; they live as long as the
/// returned server.
fn two_ssh_nodes(dir: &Path) -> Sshd {
    let user_key = dir.join("user_key");
    keygen(&user_key);
    let ports = [free_port(), free_port()];
    let sshd = start_sshd(dir, &ports, &user_key);
    ssh_inventory(
        dir,
        &[("alpha-1", "alpha"), ("beta-1", "beta")],
        &ports,
        &user_key,
    );
    sshd
}

/// Every task type, cross-node links, a post-test and a time limit, on two
/// nodes behind two real sshd ports, with each engine in its own copy of
/// the fixture.
#[test]
fn ssh_nodes_give_the_same_final_state_with_both_engines() {
    let test = "ansible_same_state_ssh";
    let Some(ansible) = require_reference(test, ansible_playbook()) else {
        return;
    };
    if require_reference(test, ssh_available()).is_none() {
        return;
    }
    let root = scratch(test);
    let mut outcomes = Vec::new();
    for engine in ["builtin", "ansible"] {
        let dir = root.join(engine);
        std::fs::create_dir_all(&dir).unwrap();
        instantiate_fixture("ssh", &dir);
        let _sshd = two_ssh_nodes(&dir);
        let (code, stderr) = run_in(
            &dir,
            &run_args(
                Path::new("tasks.yaml"),
                Path::new("nodes.yaml"),
                engine,
                &ansible,
            ),
        );
        // The nodes write paths under their copy of the fixture.
        let mut remote = file_tree(&dir.join("remote"));
        let own = dir.display().to_string();
        for (_, content) in remote.values_mut() {
            *content = String::from_utf8_lossy(content)
                .replace(&own, "@WORK@")
                .into_bytes();
        }
        outcomes.push((code, final_states(&dir.join("state")), remote, stderr));
        if engine == "ansible" {
            let spans = intervals(&journal(&dir.join("state")));
            let slow = &spans[&("alpha-1".to_string(), "too_slow".to_string())];
            assert!(
                slow.message.as_deref().unwrap_or("").contains("timed out"),
                "{slow:?}"
            );
            let hello = std::fs::read_to_string(dir.join("remote/beta-1/hello.txt")).unwrap();
            assert_eq!(
                hello,
                format!("hello from beta-1 as {} task hello\n", user_name())
            );
            let log = std::fs::read_to_string(dir.join("state/logs/beta-1/hello.log")).unwrap();
            assert!(log.contains("err| a warning"), "{log}");
            assert_order_respected(&dir, Path::new("tasks.yaml"), Path::new("nodes.yaml"));
        }
    }
    let (builtin, ansible_run) = (&outcomes[0], &outcomes[1]);
    assert_eq!(builtin.0, 1, "too_slow times out:\n{}", builtin.3);
    assert_eq!(
        builtin.0, ansible_run.0,
        "exit codes differ:\n{}",
        ansible_run.3
    );
    assert_eq!(
        builtin.1, ansible_run.1,
        "final task states differ:\n{}",
        ansible_run.3
    );
    assert_eq!(
        builtin.2, ansible_run.2,
        "the files left on the nodes differ"
    );
}

/// The lines of work/events.log: "start NODE TASK" and "done NODE TASK", in
/// the order the tasks wrote them.
fn events(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("work/events.log"))
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

fn succeeded_in_journal(dir: &Path) -> Vec<(String, String)> {
    if !dir.join("state/journal.jsonl").exists() {
        return Vec::new();
    }
    final_states(&dir.join("state"))
        .into_iter()
        .filter(|(_, state)| state == "succeeded")
        .map(|(key, _)| key)
        .collect()
}

#[test]
fn sigkill_at_several_points_then_resume_never_reruns_a_finished_task() {
    let test = "ansible_sigkill_resume";
    let Some(ansible) = require_reference(test, ansible_playbook()) else {
        return;
    };
    let dir = scratch(test);
    let tasks = fixture("resume").join("tasks.yaml");
    let inventory = fixture("resume").join("nodes.yaml");
    let mut args = run_args(&tasks, &inventory, "ansible", &ansible);
    let mut finished_before_kills: Vec<(String, String)> = Vec::new();
    for (round, kill_after) in [2usize, 9, 17].into_iter().enumerate() {
        let mut child = granule_command(&dir, &args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("granule runs");
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let done = succeeded_in_journal(&dir).len();
            if done >= kill_after {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "round {round}: only {done} tasks finished"
            );
            assert!(
                child.try_wait().unwrap().is_none(),
                "round {round}: the run ended before the kill"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        child.kill().expect("SIGKILL");
        child.wait().unwrap();
        finished_before_kills = succeeded_in_journal(&dir);
        // Ansible dies with granule; a command it had started may still end.
        std::thread::sleep(Duration::from_secs(2));
        args = resume_args(&ansible);
    }
    let starts_before: BTreeMap<String, usize> = count_starts(&events(&dir));
    let (code, stderr) = run_in(&dir, &args);
    assert_eq!(code, 0, "the resumed run did not finish:\n{stderr}");
    let states = final_states(&dir.join("state"));
    assert!(
        states.values().all(|state| state == "succeeded"),
        "{states:?}"
    );
    let starts_after = count_starts(&events(&dir));
    for (node, task) in &finished_before_kills {
        if task == "begin" || task == "finish" {
            continue;
        }
        let key = format!("{node} {task}");
        assert_eq!(
            starts_after.get(&key),
            starts_before.get(&key),
            "{task} had finished on {node} before the kill and ran again"
        );
    }
    for (node, task) in states.keys() {
        if task != "begin" && task != "finish" {
            assert!(
                events(&dir).contains(&format!("done {node} {task}")),
                "{task} never completed on {node}"
            );
        }
    }
}

fn count_starts(lines: &[String]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for line in lines {
        if let Some(key) = line.strip_prefix("start ") {
            *counts.entry(key.to_string()).or_insert(0) += 1;
        }
    }
    counts
}

/// The order of side effects, from what the tasks themselves wrote: on the
/// resume fixture every task appends "start" and "done" lines; no task
/// starts before everything it needs is done.
#[test]
fn side_effects_follow_every_dependency() {
    let test = "ansible_side_effect_order";
    let Some(ansible) = require_reference(test, ansible_playbook()) else {
        return;
    };
    let dir = scratch(test);
    let tasks = fixture("resume").join("tasks.yaml");
    let inventory = fixture("resume").join("nodes.yaml");
    let (code, stderr) = run_in(&dir, &run_args(&tasks, &inventory, "ansible", &ansible));
    assert_eq!(code, 0, "{stderr}");
    let lines = events(&dir);
    let at = |what: &str, node: &str, task: &str| {
        lines
            .iter()
            .position(|line| line == &format!("{what} {node} {task}"))
            .unwrap_or_else(|| panic!("no `{what} {node} {task}` in work/events.log"))
    };
    let plan = plan_of(&dir, &tasks, &inventory);
    let mut checked = 0;
    for (before, after) in needs_between_runs(&plan) {
        let (node, task) = (&plan.instances[before].0, &plan.instances[before].1);
        let (then, now) = (&plan.instances[after].0, &plan.instances[after].1);
        assert!(
            at("done", node, task) < at("start", then, now),
            "{now} on {then} started before {task} on {node} was done:\n{}",
            lines.join("\n")
        );
        checked += 1;
    }
    assert!(checked > 20, "only {checked} dependencies checked");
}

/// The installer monolith of fixtures/split, split by `granule split`, run
/// as a controller by each engine with the real `puppet apply`: both leave
/// the same files in the node's root (`granule_root` fact), and they are
/// files of the controller.
#[test]
fn a_split_monolith_runs_through_ansible_with_puppet_as_through_granule() {
    let test = "ansible_split_monolith";
    let Some(ansible) = require_reference(test, ansible_playbook()) else {
        return;
    };
    if require_reference(
        test,
        granule_tests::executor::tool_available("puppet", "puppet"),
    )
    .is_none()
    {
        return;
    }
    let stdlib = Path::new("/usr/share/puppet/modules/stdlib");
    let found = if stdlib.join("metadata.json").exists() {
        Ok(())
    } else {
        Err("/usr/share/puppet/modules/stdlib is missing: install the Debian package puppet-module-puppetlabs-stdlib".to_string())
    };
    if require_reference(test, found).is_none() {
        return;
    }
    let root = scratch(test);
    let fixture = granule_tests::repo_root().join("fixtures/split/installer");
    // Only stdlib beside the fixture's modules: all of /usr/share/puppet/modules
    // would make Puppet load every module's facts.
    let vendor = root.join("vendor");
    std::fs::create_dir_all(&vendor).unwrap();
    std::os::unix::fs::symlink(stdlib, vendor.join("stdlib")).unwrap();
    let modulepath = format!("{}:{}", fixture.join("modules").display(), vendor.display());
    let out = root.join("split");
    let split = Command::new(granule())
        .args([
            "split",
            "--modulepath",
            &modulepath,
            "--role-var",
            "$role",
            "--entry",
        ])
        .arg(fixture.join("manifests/site.pp"))
        .arg("-o")
        .arg(&out)
        .output()
        .expect("granule split runs");
    assert_eq!(
        exit_code(&split),
        0,
        "granule split failed:\n{}",
        text(&split.stderr)
    );
    let settings = std::fs::read_to_string(fixture.join("settings/controller.yaml")).unwrap();

    let mut trees = Vec::new();
    for engine in ["builtin", "ansible"] {
        let dir = root.join(engine);
        let node_root = dir.join("root");
        let puppet = dir.join("puppet");
        std::fs::create_dir_all(&node_root).unwrap();
        let mut args = vec![
            "run".to_string(),
            "--tasks".into(),
            out.join("tasks.yaml").display().to_string(),
            "--role".into(),
            "controller".into(),
            "--state-dir".into(),
            "state".into(),
            "--engine".into(),
            engine.into(),
            "--ansible-playbook".into(),
            ansible.display().to_string(),
        ];
        for setting in granule_tests::puppet_dirs(&puppet) {
            args.push(format!("--puppet-arg={setting}"));
        }
        let output = granule_command(&dir, &args)
            .env("FACTER_granule_root", &node_root)
            .env("FACTER_settings_yaml", &settings)
            .env("GRANULE_PUPPET_CONFDIR", puppet.join("confdir"))
            .output()
            .expect("granule runs");
        assert_eq!(
            exit_code(&output),
            0,
            "{engine}: the split's tasks failed:\n{}",
            text(&output.stderr)
        );
        let states = final_states(&dir.join("state"));
        assert!(
            states.len() > 5
                && states
                    .values()
                    .all(|state| state == "succeeded" || state == "skipped"),
            "{engine}: {states:?}"
        );
        trees.push(file_tree(&node_root));
    }
    assert!(
        trees[0].contains_key(Path::new("etc/nova/nova.conf")),
        "the controller's files are missing: {:?}",
        trees[0].keys().collect::<Vec<_>>()
    );
    assert_eq!(
        trees[0], trees[1],
        "the engines left different files in the node's root"
    );
}

/// `granule export ansible` alone: `ansible-playbook` run by hand in the
/// export leaves the files granule's runner leaves, and the inventory has a
/// group per role.
#[test]
fn an_export_runs_with_ansible_playbook_alone() {
    let test = "ansible_export_alone";
    let Some(ansible) = require_reference(test, ansible_playbook()) else {
        return;
    };
    let tasks = fixture("v2-cluster").join("tasks.yaml");
    let inventory = fixture("v2-cluster").join("nodes.yaml");
    let root = scratch(test);
    let (builtin, exported) = (root.join("builtin"), root.join("exported"));
    for dir in [&builtin, &exported] {
        std::fs::create_dir_all(dir).unwrap();
    }
    run_in(&builtin, &run_args(&tasks, &inventory, "builtin", &ansible));

    let args: Vec<String> = [
        "export",
        "ansible",
        "--tasks",
        tasks.to_str().unwrap(),
        "--inventory",
        inventory.to_str().unwrap(),
        "-o",
        "out",
    ]
    .map(String::from)
    .to_vec();
    let (code, stderr) = run_in(&exported, &args);
    assert_eq!(code, 0, "{stderr}");
    let written: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(exported.join("out/inventory.yaml")).unwrap(),
    )
    .unwrap();
    let groups = &written["all"]["children"];
    for (group, host) in [
        ("role_primary_controller", "ctl-1"),
        ("role_compute", "cmp-2"),
    ] {
        assert!(
            groups[group]["hosts"].get(host).is_some(),
            "{host} is not in group {group}: {groups}"
        );
    }
    let playbook = Command::new(&ansible)
        .arg("playbook.yaml")
        .current_dir(exported.join("out"))
        .env("ANSIBLE_PYTHON_INTERPRETER", NODE_PYTHON)
        .output()
        .expect("ansible-playbook runs");
    // The fixture's failing tasks are rescued: the playbook itself succeeds.
    assert_eq!(
        exit_code(&playbook),
        0,
        "{}{}",
        text(&playbook.stdout),
        text(&playbook.stderr)
    );
    assert_eq!(
        outcome_tree(&builtin.join("work")),
        outcome_tree(&exported.join("work")),
        "ansible-playbook on the export left other files than granule's runner"
    );
}

/// A part of the graph (`--start`, `--end` with `--node`) runs the same
/// tasks through both engines, and the rest is journaled as skipped.
#[test]
fn selections_run_the_same_tasks_with_both_engines() {
    let test = "ansible_selections";
    let Some(ansible) = require_reference(test, ansible_playbook()) else {
        return;
    };
    let tasks = fixture("resume").join("tasks.yaml");
    let inventory = fixture("resume").join("nodes.yaml");
    let root = scratch(test);
    for (number, selection) in [
        vec!["--start", "step6"],
        vec!["--end", "step2", "--node", "worker-1"],
    ]
    .iter()
    .enumerate()
    {
        let mut outcomes = Vec::new();
        for engine in ["builtin", "ansible"] {
            let dir = root.join(format!("{number}-{engine}"));
            std::fs::create_dir_all(&dir).unwrap();
            let mut args = run_args(&tasks, &inventory, engine, &ansible);
            args.extend(selection.iter().map(|arg| arg.to_string()));
            let (code, stderr) = run_in(&dir, &args);
            assert_eq!(code, 0, "{engine} {selection:?}:\n{stderr}");
            outcomes.push((
                final_states(&dir.join("state")),
                count_starts(&events(&dir)),
            ));
        }
        assert_eq!(outcomes[0], outcomes[1], "{selection:?}");
        let ran = &outcomes[1].1;
        assert!(
            !ran.is_empty() && ran.len() < 24,
            "{selection:?} ran {ran:?}"
        );
    }
}

/// `--dry-run --engine ansible`: the plan, then Ansible's check mode, where
/// puppet runs with --noop: it reports the files it would write and writes
/// none; the run's own journal is not touched.
#[test]
fn dry_run_uses_ansible_check_mode_and_changes_nothing() {
    let test = "ansible_check_mode";
    let Some(ansible) = require_reference(test, ansible_playbook()) else {
        return;
    };
    if require_reference(
        test,
        granule_tests::executor::tool_available("puppet", "puppet"),
    )
    .is_none()
    {
        return;
    }
    let dir = scratch(test);
    instantiate_fixture("puppet", &dir);
    let mut args = run_args(
        Path::new("tasks.yaml"),
        Path::new("nodes.yaml"),
        "ansible",
        &ansible,
    );
    args.push("--dry-run".into());
    let (code, stderr) = run_in(&dir, &args);
    assert_eq!(code, 0, "{stderr}");
    assert!(!dir.join("out").exists(), "check mode wrote files");
    assert!(
        !dir.join("state/journal.jsonl").exists(),
        "check mode wrote the run's journal"
    );
    let log = std::fs::read_to_string(dir.join("state/check/logs/web-1/motd.log")).unwrap();
    assert!(log.contains("--noop") && log.contains("(noop)"), "{log}");
    assert!(
        !log.contains("test_post"),
        "a post-test ran in check mode:\n{log}"
    );
}

/// SIGINT stops the run through Ansible (exit status 130, outcome
/// `interrupted`), and `--resume` finishes it without running again what had
/// finished.
#[test]
fn sigint_stops_the_ansible_run_and_resume_finishes_it() {
    let test = "ansible_sigint_resume";
    let Some(ansible) = require_reference(test, ansible_playbook()) else {
        return;
    };
    let dir = scratch(test);
    let tasks = fixture("resume").join("tasks.yaml");
    let inventory = fixture("resume").join("nodes.yaml");
    let mut child = granule_command(&dir, &run_args(&tasks, &inventory, "ansible", &ansible))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("granule runs");
    let deadline = Instant::now() + Duration::from_secs(120);
    while succeeded_in_journal(&dir).len() < 6 {
        assert!(Instant::now() < deadline, "the run does not progress");
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before the interrupt"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // SAFETY: kill(2) on the child we started.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "an interrupted run exits 130");
    let records = journal(&dir.join("state"));
    assert_eq!(
        records.last().map(|record| record["outcome"].clone()),
        Some(serde_json::json!("interrupted"))
    );
    let finished = succeeded_in_journal(&dir);
    let starts_before = count_starts(&events(&dir));
    let resume = resume_args(&ansible);
    let (code, stderr) = run_in(&dir, &resume);
    assert_eq!(code, 0, "{stderr}");
    let starts_after = count_starts(&events(&dir));
    for (node, task) in finished
        .iter()
        .filter(|(_, task)| task.starts_with("step") || task == "side")
    {
        let key = format!("{node} {task}");
        assert_eq!(
            starts_after.get(&key),
            starts_before.get(&key),
            "{task} ran again on {node}"
        );
    }
    assert!(final_states(&dir.join("state"))
        .values()
        .all(|state| state == "succeeded"));
}

/// `granule run --resume` on the state directory `state`.
fn resume_args(ansible: &Path) -> Vec<String> {
    [
        "run",
        "--resume",
        "--state-dir",
        "state",
        "--ansible-playbook",
    ]
    .map(String::from)
    .into_iter()
    .chain([ansible.display().to_string()])
    .collect()
}

/// How many times each (node, task) was journaled as started.
fn journaled_starts(dir: &Path) -> BTreeMap<(String, String), usize> {
    let mut starts = BTreeMap::new();
    for record in journal(&dir.join("state")) {
        if record["state"] == "running" && record["attempt"] == 1 {
            let key = (
                record["node"].as_str().unwrap().to_string(),
                record["task"].as_str().unwrap().to_string(),
            );
            *starts.entry(key).or_insert(0) += 1;
        }
    }
    starts
}

/// A group's `fault_tolerance` and `--fail-fast` stop the Ansible run as
/// they stop granule's runner: `check` fails on w1 (while the file `broken`
/// exists, or because w1 is an ssh node nothing answers for); past the
/// budget, or under --fail-fast, `late` (the next play) starts on no node;
/// within it, `late` runs on the two others. The same export run by hand
/// with `ansible-playbook` stops too. With `broken` gone, `--resume`
/// finishes the run.
#[test]
fn fault_tolerance_and_fail_fast_stop_the_ansible_run() {
    let test = "ansible_fault_tolerance";
    let Some(ansible) = require_reference(test, ansible_playbook()) else {
        return;
    };
    let root = scratch(test);
    let over_budget = "more nodes of group `workers` failed than its fault_tolerance (0) allows";
    // (budget, --fail-fast, w1 unreachable, the stop's reason)
    for (budget, fail_fast, unreachable, stop) in [
        ("0", false, false, Some(over_budget)),
        ("'34%'", false, false, None),
        (
            "1",
            true,
            false,
            Some("a task failed and --fail-fast is set"),
        ),
        ("0", false, true, Some(over_budget)),
    ] {
        let case = format!("{budget} fail-fast {fail_fast} unreachable {unreachable}");
        let dir = root.join(case.replace(['\'', '%', ' '], "_"));
        std::fs::create_dir_all(&dir).unwrap();
        let yaml = format!(
            "\
- id: workers
  type: group
  version: 2.0.0
  role: [worker]
  fault_tolerance: {budget}
- id: check
  type: shell
  version: 2.0.0
  role: [worker]
  parameters: {{cmd: 'test \"$GRANULE_NODE\" != w1 || test ! -e broken'}}
- id: late
  type: shell
  version: 2.0.0
  role: [worker]
  requires: [check]
  parameters: {{cmd: 'touch late.$GRANULE_NODE'}}
"
        );
        std::fs::write(dir.join("tasks.yaml"), yaml).unwrap();
        let first = if unreachable {
            format!(
                "{{name: w1, roles: [worker], transport: ssh, host: 127.0.0.1, port: {}}}",
                free_port()
            )
        } else {
            "{name: w1, roles: [worker]}".to_string()
        };
        std::fs::write(
            dir.join("nodes.yaml"),
            format!("nodes:\n  - {first}\n  - {{name: w2, roles: [worker]}}\n  - {{name: w3, roles: [worker]}}\n"),
        )
        .unwrap();
        std::fs::write(dir.join("broken"), "").unwrap();
        let mut args = run_args(
            Path::new("tasks.yaml"),
            Path::new("nodes.yaml"),
            "ansible",
            &ansible,
        );
        args.extend(["--format".to_string(), "json".to_string()]);
        if fail_fast {
            args.push("--fail-fast".into());
        }
        let output = granule_command(&dir, &args).output().expect("granule runs");
        let stdout = text(&output.stdout);
        assert_eq!(exit_code(&output), 1, "{case}: {}", text(&output.stderr));
        let late_started = journaled_starts(&dir)
            .iter()
            .filter(|((_, task), _)| task == "late")
            .count();
        let late_ran = |dir: &Path| {
            ["w1", "w2", "w3"]
                .iter()
                .filter(|node| dir.join(format!("late.{node}")).exists())
                .count()
        };
        match stop {
            Some(reason) => {
                assert!(stdout.contains(reason), "{case}: {stdout}");
                assert_eq!(late_started, 0, "{case}: `late` started after the stop");
                assert_eq!(late_ran(&dir), 0, "{case}");
            }
            None => {
                assert!(!stdout.contains("stopping"), "{case}: {stdout}");
                assert_eq!(late_started, 2, "{case}: {stdout}");
                assert_eq!(late_ran(&dir), 2, "{case}");
            }
        }
        if unreachable {
            continue;
        }
        if stop == Some(over_budget) {
            let export: Vec<String> = [
                "export",
                "ansible",
                "--tasks",
                "tasks.yaml",
                "--inventory",
                "nodes.yaml",
                "-o",
                "by-hand",
            ]
            .map(String::from)
            .to_vec();
            let (code, stderr) = run_in(&dir, &export);
            assert_eq!(code, 0, "{stderr}");
            let playbook = Command::new(&ansible)
                .arg("playbook.yaml")
                .current_dir(dir.join("by-hand"))
                .env("ANSIBLE_PYTHON_INTERPRETER", NODE_PYTHON)
                .output()
                .expect("ansible-playbook runs");
            assert_eq!(exit_code(&playbook), 0, "{}", text(&playbook.stderr));
            assert_eq!(
                late_ran(&dir),
                0,
                "{case}: by hand, `late` ran past the budget"
            );
        }
        std::fs::remove_file(dir.join("broken")).unwrap();
        let (code, stderr) = run_in(&dir, &resume_args(&ansible));
        assert_eq!(code, 0, "{case}: the resume did not finish:\n{stderr}");
        assert!(final_states(&dir.join("state"))
            .values()
            .all(|state| state == "succeeded"));
        assert_eq!(late_ran(&dir), 3, "{case}");
    }
}

/// Runs `tasks` through Ansible on the resume fixture's nodes with
/// `--stop-after task`: the run must end stopped (exit 3, saying so) with
/// `task` done on every node. The final states and what granule said.
fn stopped_after_everywhere(
    dir: &Path,
    tasks: &Path,
    ansible: &Path,
    task: &str,
) -> (BTreeMap<(String, String), String>, String) {
    let inventory = fixture("resume").join("nodes.yaml");
    let mut args = run_args(tasks, &inventory, "ansible", ansible);
    args.extend(["--stop-after".to_string(), task.to_string()]);
    let (code, stderr) = run_in(dir, &args);
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("--stop-after reached"), "{stderr}");
    let states = final_states(&dir.join("state"));
    for node in ["db-1", "worker-1", "worker-2"] {
        assert_eq!(
            states.get(&(node.to_string(), task.to_string())),
            Some(&"succeeded".to_string()),
            "{stderr}"
        );
    }
    (states, stderr)
}

/// `--stop-after step3` through Ansible: exit status 3, step3 done on every
/// node and step4 started on none; `--resume` finishes the rest, each task
/// having run once on each node.
#[test]
fn stop_after_halts_the_ansible_run_and_resume_goes_on() {
    let test = "ansible_stop_after";
    let Some(ansible) = require_reference(test, ansible_playbook()) else {
        return;
    };
    let dir = scratch(test);
    let tasks = fixture("resume").join("tasks.yaml");
    stopped_after_everywhere(&dir, &tasks, &ansible, "step3");
    let starts = count_starts(&events(&dir));
    assert!(
        starts.keys().all(|key| !key.ends_with(" step4")),
        "step4 started after --stop-after step3: {starts:?}"
    );
    let (code, stderr) = run_in(&dir, &resume_args(&ansible));
    assert_eq!(code, 0, "{stderr}");
    let starts = count_starts(&events(&dir));
    assert_eq!(starts.len(), 3 * 8 + 2, "{starts:?}");
    assert!(starts.values().all(|&count| count == 1), "{starts:?}");
}

/// `--stop-after` when nothing but the held tasks is left once the task
/// ends everywhere: no task asks to start after it, and the run still ends
/// stopped (exit 3), not failed.
#[test]
fn stop_after_the_last_task_before_held_ones_stops_the_run() {
    let test = "ansible_stop_after_nothing_left";
    let Some(ansible) = require_reference(test, ansible_playbook()) else {
        return;
    };
    let dir = scratch(test);
    let tasks = dir.join("tasks.yaml");
    std::fs::write(
        &tasks,
        "- id: first\n  type: shell\n  version: 2.0.0\n  roles: '*'\n  parameters:\n    cmd: 'true'\n\n\
         - id: second\n  type: shell\n  version: 2.0.0\n  roles: '*'\n  requires: [first]\n  parameters:\n    cmd: 'true'\n",
    )
    .expect("tasks.yaml written");
    let (states, stderr) = stopped_after_everywhere(&dir, &tasks, &ansible, "first");
    for node in ["db-1", "worker-1", "worker-2"] {
        assert_ne!(
            states.get(&(node.to_string(), "second".to_string())),
            Some(&"succeeded".to_string()),
            "second ran after --stop-after first: {stderr}"
        );
    }
    let (code, stderr) = run_in(&dir, &resume_args(&ansible));
    assert_eq!(code, 0, "{stderr}");
}

/// `--stop-after` counts a node where a need of the task failed as done
/// with it, as granule's runner does: `prepare` fails on w1, so `target`
/// never runs there; once it has run on w2 and w3 the run stops, and
/// neither `after` nor the later tasks of an unrelated chain start.
#[test]
fn stop_after_counts_a_node_where_a_need_failed_as_ended() {
    let test = "ansible_stop_after_failed_need";
    let Some(ansible) = require_reference(test, ansible_playbook()) else {
        return;
    };
    let dir = scratch(test);
    let shell = |id: &str, requires: &str, cmd: &str| {
        format!(
            "- id: {id}\n  type: shell\n  version: 2.0.0\n  role: [worker]\n  requires: [{requires}]\n  parameters: {{cmd: '{cmd}'}}\n"
        )
    };
    let yaml = [
        shell("prepare", "", "test \"$GRANULE_NODE\" != w1"),
        shell("target", "prepare", "true"),
        shell("after", "target", "true"),
        shell("other1", "", "true"),
        shell("other2", "other1", "true"),
        shell("other3", "other2", "true"),
        shell("other4", "other3", "true"),
    ]
    .concat();
    std::fs::write(dir.join("tasks.yaml"), yaml).unwrap();
    std::fs::write(
        dir.join("nodes.yaml"),
        "nodes:\n  - {name: w1, roles: [worker]}\n  - {name: w2, roles: [worker]}\n  - {name: w3, roles: [worker]}\n",
    )
    .unwrap();
    let mut args = run_args(
        Path::new("tasks.yaml"),
        Path::new("nodes.yaml"),
        "ansible",
        &ansible,
    );
    args.extend(["--stop-after".to_string(), "target".to_string()]);
    let (code, stderr) = run_in(&dir, &args);
    assert_eq!(code, 1, "a task failed:\n{stderr}");
    assert!(stderr.contains("--stop-after reached"), "{stderr}");
    let started = journaled_starts(&dir);
    let ran = |task: &str| started.keys().filter(|(_, t)| t == task).count();
    assert_eq!(ran("target"), 2, "{started:?}");
    for task in ["after", "other3", "other4"] {
        assert_eq!(
            ran(task),
            0,
            "{task} started after --stop-after: {started:?}"
        );
    }
}

/// granule is killed with SIGKILL while `slow`'s command runs on two ssh
/// nodes; the command goes on and appends its line. `--resume`, started
/// while it may still run, waits for it, finds its done-marker and does not
/// run it again: each node's line is there once, and the task after it ran.
#[test]
fn a_command_that_ends_after_sigkill_is_not_run_again_on_resume() {
    let test = "ansible_cut_off_command";
    let Some(ansible) = require_reference(test, ansible_playbook()) else {
        return;
    };
    if require_reference(test, ssh_available()).is_none() {
        return;
    }
    let dir = scratch(test);
    let _sshd = two_ssh_nodes(&dir);
    let out = dir.join("remote");
    std::fs::create_dir_all(&out).unwrap();
    let out = out.display();
    std::fs::write(
        dir.join("tasks.yaml"),
        format!(
            "\
- id: slow
  type: shell
  version: 2.0.0
  roles: '*'
  parameters:
    cmd: 'touch {out}/started.$GRANULE_NODE && sleep 3 && echo $GRANULE_NODE >> {out}/appended.log'
- id: next
  type: shell
  version: 2.0.0
  roles: '*'
  requires: [slow]
  parameters:
    cmd: 'echo $GRANULE_NODE >> {out}/next.log'
"
        ),
    )
    .unwrap();
    let args = run_args(
        Path::new("tasks.yaml"),
        Path::new("nodes.yaml"),
        "ansible",
        &ansible,
    );
    let mut child = granule_command(&dir, &args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("granule runs");
    let deadline = Instant::now() + Duration::from_secs(60);
    let started = |node: &str| dir.join(format!("remote/started.{node}")).exists();
    while !(started("alpha-1") && started("beta-1")) {
        assert!(
            Instant::now() < deadline,
            "slow never started on both nodes"
        );
        assert!(child.try_wait().unwrap().is_none(), "the run ended early");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().expect("SIGKILL");
    child.wait().unwrap();
    assert!(
        !dir.join("remote/appended.log").exists(),
        "slow ended before the kill: the test proves nothing"
    );
    let (code, stderr) = run_in(&dir, &resume_args(&ansible));
    assert_eq!(code, 0, "{stderr}");
    let lines = |name: &str| {
        let mut lines: Vec<String> = std::fs::read_to_string(dir.join("remote").join(name))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect();
        lines.sort();
        lines
    };
    assert_eq!(
        lines("appended.log"),
        ["alpha-1", "beta-1"],
        "slow ran again"
    );
    assert_eq!(lines("next.log"), ["alpha-1", "beta-1"]);
    let log = std::fs::read_to_string(dir.join("state/logs/alpha-1/slow.log")).unwrap();
    assert!(log.contains("not run again"), "{log}");
}

/// A `one_by_one` task holds for the whole task through Ansible: on two
/// ssh nodes, one node's pre-test, command and post-test all end before the
/// other's pre-test starts (the nodes' clocks, written by the steps). A time
/// limit ends the command on the node, not only in Ansible: no `sleep 53`
/// is left running.
#[test]
fn one_by_one_holds_for_the_whole_task_and_a_time_limit_ends_the_remote_command() {
    let test = "ansible_throttle_timeout";
    let Some(ansible) = require_reference(test, ansible_playbook()) else {
        return;
    };
    if require_reference(test, ssh_available()).is_none() {
        return;
    }
    let dir = scratch(test);
    let _sshd = two_ssh_nodes(&dir);
    let log = dir.join("remote/steps.log");
    std::fs::create_dir_all(log.parent().unwrap()).unwrap();
    let note = |what: &str| {
        format!(
            "echo \"{what} $GRANULE_NODE $(date +%s.%N)\" >> {} && sleep 0.5",
            log.display()
        )
    };
    std::fs::write(
        dir.join("tasks.yaml"),
        format!(
            "\
- id: serial
  type: shell
  version: 2.0.0
  roles: '*'
  strategy: {{type: one_by_one}}
  test_pre: {{cmd: '{}'}}
  parameters: {{cmd: '{}'}}
  test_post: {{cmd: '{}'}}
- id: bounded
  type: shell
  version: 2.0.0
  roles: [alpha]
  parameters:
    # A duration no other test uses: the test looks for this process.
    cmd: sleep 53
    timeout: 1
",
            note("pre"),
            note("action"),
            note("post")
        ),
    )
    .unwrap();
    let args = run_args(
        Path::new("tasks.yaml"),
        Path::new("nodes.yaml"),
        "ansible",
        &ansible,
    );
    let (code, stderr) = run_in(&dir, &args);
    assert_eq!(code, 1, "bounded times out:\n{stderr}");
    // Per node: when its first step began and its last step ended.
    let mut span: BTreeMap<String, (f64, f64)> = BTreeMap::new();
    for line in std::fs::read_to_string(&log).unwrap().lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        let (node, at): (&str, f64) = (words[1], words[2].parse().unwrap());
        let entry = span.entry(node.to_string()).or_insert((at, at));
        entry.0 = entry.0.min(at);
        entry.1 = entry.1.max(at + 0.5);
    }
    let (alpha, beta) = (span["alpha-1"], span["beta-1"]);
    assert!(
        alpha.1 <= beta.0 || beta.1 <= alpha.0,
        "the nodes went through `serial` at the same time: {span:?}"
    );

    let spans = intervals(&journal(&dir.join("state")));
    let bounded = &spans[&("alpha-1".to_string(), "bounded".to_string())];
    assert_eq!(
        bounded.message.as_deref(),
        Some("timed out after 1s"),
        "{bounded:?}"
    );
    assert!(
        bounded.duration.unwrap_or(99.0) < 30.0,
        "the limit did not end the task: {bounded:?}"
    );
    std::thread::sleep(Duration::from_secs(1));
    let left = Command::new("pgrep")
        .args(["-f", "sleep 53"])
        .output()
        .expect("pgrep runs");
    assert!(
        text(&left.stdout).trim().is_empty(),
        "the command went on after its time limit: {}",
        text(&left.stdout)
    );
}
