//! The ssh transport against a real OpenSSH server: `sshd` on two loopback
//! ports with a generated host key and user key stands for two nodes; the
//! system `ssh` client runs their tasks. Checks what the tasks did, the
//! order across nodes, the time limit and the per-task logs.

use granule_tests::executor::{
    exit_code, granule_in, instantiate_fixture, intervals, journal, scratch, text,
};
use granule_tests::sshd::{free_port, keygen, ssh_available, ssh_inventory, start_sshd, user_name};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Whether the timed-out task's `sleep 47` still runs on the "remote" host.
fn remote_sleep_running() -> bool {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .any(|entry| {
            std::fs::read(entry.path().join("cmdline"))
                .is_ok_and(|cmdline| cmdline == b"sleep\x0047\x00")
        })
}

fn inventory(dir: &Path, ports: &[u16], key: &Path) -> PathBuf {
    ssh_inventory(dir, &[("alpha-1", "alpha"), ("beta-1", "beta")], ports, key)
}

#[test]
fn tasks_run_on_two_ssh_nodes() {
    let test = "tasks_run_on_two_ssh_nodes";
    if granule_tests::require_reference(test, ssh_available()).is_none() {
        return;
    }
    let dir = scratch(test);
    instantiate_fixture("ssh", &dir);
    let user_key = dir.join("user_key");
    keygen(&user_key);
    let ports = [free_port(), free_port()];
    let _sshd = start_sshd(&dir, &ports, &user_key);
    inventory(&dir, &ports, &user_key);

    let output = granule_in(
        &dir,
        &[
            "run",
            "--tasks",
            "tasks.yaml",
            "--inventory",
            "nodes.yaml",
            "--state-dir",
            "state",
            "-j",
            "4",
        ],
    );
    let stderr = text(&output.stderr);
    assert_eq!(exit_code(&output), 1, "too_slow times out:\n{stderr}");

    let spans = intervals(&journal(&dir.join("state")));
    let span = |node: &str, task: &str| spans[&(node.to_string(), task.to_string())].clone();
    for (node, task) in [
        ("alpha-1", "hello"),
        ("beta-1", "hello"),
        ("alpha-1", "upload_alpha"),
        ("beta-1", "copy_beta"),
        ("alpha-1", "sync_payload"),
        ("beta-1", "sync_one_file"),
        ("beta-1", "in_cwd"),
    ] {
        assert_eq!(
            span(node, task).state,
            "succeeded",
            "{task} on {node}: {:?}\n{stderr}",
            span(node, task)
        );
    }
    let slow = span("alpha-1", "too_slow");
    assert_eq!(slow.state, "failed");
    assert!(
        slow.message.as_deref().unwrap_or("").contains("timed out"),
        "{slow:?}"
    );
    assert!(
        slow.duration.unwrap() < 20.0,
        "the session was not closed at the time limit"
    );

    // Closing the session at the time limit ended the remote command too.
    let deadline = Instant::now() + Duration::from_secs(10);
    while remote_sleep_running() {
        assert!(
            Instant::now() < deadline,
            "the remote `sleep 47` outlived its session"
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    // The cross-node link: beta's copy waited for alpha's upload.
    let upload = span("alpha-1", "upload_alpha");
    let copy = span("beta-1", "copy_beta");
    assert!(upload.end <= *copy.start.as_ref().unwrap());

    // What the tasks did, on the "remote" side.
    let remote = dir.join("remote");
    let user = user_name();
    for node in ["alpha-1", "beta-1"] {
        assert_eq!(
            std::fs::read_to_string(remote.join(node).join("hello.txt")).unwrap(),
            format!("hello from {node} as {user} task hello\n")
        );
    }
    use std::os::unix::fs::PermissionsExt;
    let uploaded = remote.join("alpha-1/uploaded.conf");
    assert_eq!(std::fs::read_to_string(&uploaded).unwrap(), "key = value\n");
    assert_eq!(
        std::fs::metadata(&uploaded).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let copied = remote.join("beta-1/copied/local-file.txt");
    assert_eq!(
        std::fs::read_to_string(&copied).unwrap(),
        "copied over ssh\n"
    );
    assert_eq!(
        std::fs::metadata(&copied).unwrap().permissions().mode() & 0o777,
        0o640
    );
    assert_eq!(
        std::fs::read_to_string(remote.join("alpha-1/synced/nested/b.txt")).unwrap(),
        "nested payload\n"
    );
    assert_eq!(
        std::fs::read_to_string(remote.join("beta-1/synced-file.txt")).unwrap(),
        "copied over ssh\n"
    );
    assert_eq!(
        std::fs::read_to_string(remote.join("beta-1/where.txt"))
            .unwrap()
            .trim(),
        remote.join("beta-1").display().to_string()
    );

    // Logs: the remote command's stdout and stderr, streamed and timestamped.
    let log = std::fs::read_to_string(dir.join("state/logs/beta-1/hello.log")).unwrap();
    assert!(
        log.contains(&format!("out| hello from beta-1 as {user}")),
        "{log}"
    );
    assert!(log.contains("err| a warning"), "{log}");
    let log = std::fs::read_to_string(dir.join("state/logs/alpha-1/too_slow.log")).unwrap();
    assert!(log.contains("timed out after 1s"), "{log}");
}
