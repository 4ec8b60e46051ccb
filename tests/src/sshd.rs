//! Real OpenSSH servers for the ssh transport tests: `sshd` on loopback
//! ports with a generated host key and user key; each port stands for a node.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const SSHD: &str = "/usr/sbin/sshd";

/// A running `sshd`, stopped when dropped.
pub struct Sshd {
    child: Child,
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn keygen(path: &Path) {
    let status = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(path)
        .status()
        .expect("ssh-keygen runs");
    assert!(status.success(), "ssh-keygen failed");
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free loopback port")
        .port()
}

/// Starts sshd listening on `ports`, accepting `user_key` from
/// `dir/authorized_keys`; returns it once every port accepts connections.
pub fn start_sshd(dir: &Path, ports: &[u16], user_key: &Path) -> Sshd {
    let host_key = dir.join("host_key");
    keygen(&host_key);
    std::fs::copy(user_key.with_extension("pub"), dir.join("authorized_keys")).unwrap();
    // Privilege separation needs this directory (Debian creates it at boot).
    std::fs::create_dir_all("/run/sshd").expect("create /run/sshd");
    let mut config = String::new();
    for port in ports {
        config.push_str(&format!("Port {port}\n"));
    }
    config.push_str(&format!(
        "ListenAddress 127.0.0.1\nHostKey {}\nPidFile {}\nAuthorizedKeysFile {}\n\
         StrictModes no\nUsePAM no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n\
         PermitRootLogin prohibit-password\nSubsystem sftp internal-sftp\n",
        host_key.display(),
        dir.join("sshd.pid").display(),
        dir.join("authorized_keys").display(),
    ));
    let config_path = dir.join("sshd_config");
    std::fs::write(&config_path, config).unwrap();
    let log = std::fs::File::create(dir.join("sshd.log")).unwrap();
    let child = Command::new(SSHD)
        .args(["-D", "-e", "-f"])
        .arg(&config_path)
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("sshd starts");
    let mut sshd = Sshd { child };
    let deadline = Instant::now() + Duration::from_secs(20);
    for port in ports {
        while TcpStream::connect(("127.0.0.1", *port)).is_err() {
            if let Ok(Some(status)) = sshd.child.try_wait() {
                panic!(
                    "sshd exited ({status}):\n{}",
                    std::fs::read_to_string(dir.join("sshd.log")).unwrap_or_default()
                );
            }
            assert!(Instant::now() < deadline, "sshd does not listen on {port}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    // Host keys the client checks against, as a real deployment would.
    let public = std::fs::read_to_string(host_key.with_extension("pub")).unwrap();
    let known: String = ports
        .iter()
        .map(|port| format!("[127.0.0.1]:{port} {public}"))
        .collect();
    std::fs::write(dir.join("known_hosts"), known).unwrap();
    sshd
}

pub fn user_name() -> String {
    let output = Command::new("id").arg("-un").output().expect("id runs");
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

/// Whether sshd and the ssh client are installed: an error names the package.
pub fn ssh_available() -> Result<(), String> {
    if !Path::new(SSHD).exists() {
        return Err("/usr/sbin/sshd is missing: install the Debian package openssh-server".into());
    }
    if Command::new("ssh").arg("-V").output().is_err() {
        return Err("the ssh client is missing: install the Debian package openssh-client".into());
    }
    Ok(())
}

/// `dir/nodes.yaml` for nodes `(name, role)` behind `ports`, logged in as
/// this user with `key`, host keys checked against `dir/known_hosts`.
pub fn ssh_inventory(dir: &Path, nodes: &[(&str, &str)], ports: &[u16], key: &Path) -> PathBuf {
    let mut text = String::from("nodes:\n");
    for ((name, role), port) in nodes.iter().zip(ports) {
        text.push_str(&format!(
            "  - name: {name}\n    roles: [{role}]\n    transport: ssh\n    host: 127.0.0.1\n    port: {port}\n\
             \x20   user: {}\n    key: {}\n    ssh_options:\n\
             \x20     - UserKnownHostsFile={}\n      - StrictHostKeyChecking=yes\n      - LogLevel=ERROR\n",
            user_name(),
            key.display(),
            dir.join("known_hosts").display(),
        ));
    }
    let path = dir.join("nodes.yaml");
    std::fs::write(&path, text).unwrap();
    path
}
