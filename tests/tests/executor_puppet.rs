//! `type: puppet` tasks run with the real `puppet apply`: manifests and
//! modules confined to a scratch directory, Puppet's own directories there
//! too, post-tests check the files Puppet wrote.

use granule_tests::executor::{
    exit_code, granule_in, instantiate_fixture, intervals, journal, scratch, text, tool_available,
};
use granule_tests::require_reference;
use std::path::Path;

/// Keeps Puppet's configuration, state and code directories in `dir`.
/// Facts are not collected (`--facts_terminus=memory`): the manifests use
/// none, and Facter alone takes about ten seconds per run in a container.
fn puppet_args(dir: &Path) -> Vec<String> {
    granule_tests::puppet_dirs(&dir.join("puppet"))
        .iter()
        .chain(&["--facts_terminus=memory".to_string()])
        .map(|setting| format!("--puppet-arg={setting}"))
        .collect()
}

fn run(dir: &Path, extra: &[&str]) -> std::process::Output {
    let mut args: Vec<String> = [
        "run",
        "--tasks",
        "tasks.yaml",
        "--inventory",
        "nodes.yaml",
        "--state-dir",
        "state",
    ]
    .map(String::from)
    .to_vec();
    args.extend(puppet_args(dir));
    args.extend(extra.iter().map(|arg| arg.to_string()));
    granule_in(dir, &args.iter().map(String::as_str).collect::<Vec<_>>())
}

#[test]
fn puppet_tasks_apply_manifests_and_post_tests_check_the_files() {
    let test = "puppet_tasks_apply_manifests";
    if require_reference(test, tool_available("puppet", "puppet")).is_none() {
        return;
    }
    let dir = scratch(test);
    instantiate_fixture("puppet", &dir);

    // --noop: Puppet reports what it would change and changes nothing.
    let noop = run(&dir, &["--noop", "--only", "motd", "--restart"]);
    assert_eq!(exit_code(&noop), 1, "{}", text(&noop.stderr));
    let spans = intervals(&journal(&dir.join("state")));
    let motd = &spans[&("web-1".to_string(), "motd".to_string())];
    assert_eq!(motd.state, "failed", "{motd:?}");
    assert!(
        motd.message.as_deref().unwrap_or("").contains("test_post"),
        "puppet --noop succeeded, the post-test found no file: {motd:?}"
    );
    assert!(!dir.join("out/web/motd").exists(), "--noop wrote a file");

    let output = run(&dir, &["--restart"]);
    let stderr = text(&output.stderr);
    assert_eq!(exit_code(&output), 1, "`broken` fails the run:\n{stderr}");
    let spans = intervals(&journal(&dir.join("state")));
    let state = |node: &str, task: &str| spans[&(node.to_string(), task.to_string())].clone();
    assert_eq!(state("web-1", "motd").state, "succeeded");
    assert_eq!(state("web-1", "app_config").state, "succeeded");
    let broken = state("db-1", "broken");
    assert_eq!(broken.state, "failed");
    assert!(
        broken.message.as_deref().unwrap_or("").contains("exit"),
        "{broken:?}"
    );
    assert_eq!(state("db-1", "after_broken").state, "dependency-failed");
    assert!(!dir.join("out/after-broken").exists());

    assert_eq!(
        std::fs::read_to_string(dir.join("out/web/motd")).unwrap(),
        "managed by granule\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("out/web/conf.d/app.conf")).unwrap(),
        "# managed by granule_demo\nport = 8080\n"
    );
    // Puppet's own report of its changes is in the task's log.
    let log = std::fs::read_to_string(dir.join("state/logs/web-1/motd.log")).unwrap();
    assert!(log.contains("puppet apply --detailed-exitcodes"), "{log}");
    assert!(
        log.contains("File[") && log.contains("/out/web/motd]/ensure"),
        "{log}"
    );
    let log = std::fs::read_to_string(dir.join("state/logs/db-1/broken.log")).unwrap();
    assert!(log.contains("/bin/false"), "{log}");
}
