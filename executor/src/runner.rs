//! Runs one planned task on its node: pre-test, the action with its
//! attempts and time limit, post-test. Commands run through `sh -c` on the
//! local node and through the system `ssh` client on remote nodes; each in
//! its own process group, so a terminal's Ctrl-C reaches granule only and a
//! time limit or a second interrupt kills the whole command.

use crate::condition;
use crate::descriptor::{Action, Task, TestHook, UploadData};
use crate::inventory::{Node, SshTarget, Transport};
use crate::scheduler::State;
use crate::time;
use crate::yaql;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

/// Options that apply to every task of a run.
#[derive(Clone, Debug, Default)]
pub struct RunnerOptions {
    /// `puppet apply --noop`.
    pub noop: bool,
    /// Let `reboot` tasks reboot the machine granule runs on.
    pub allow_local_reboot: bool,
    /// Extra arguments for every `puppet apply` (`--confdir DIR`, `--hiera_config F`).
    pub puppet_args: Vec<String>,
}

/// Shared by the driver and the runners: "stop retrying" after the first
/// interrupt, "kill what runs" after the second.
#[derive(Default)]
pub struct Interrupt {
    stopping: AtomicBool,
    killing: AtomicBool,
    groups: Mutex<Vec<i32>>,
}

impl Interrupt {
    pub fn stop(&self) {
        self.stopping.store(true, Ordering::SeqCst);
    }

    pub fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    /// Kills every running command now, and any started from now on.
    pub fn kill_all(&self) {
        self.stop();
        self.killing.store(true, Ordering::SeqCst);
        for &group in self.groups.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            kill_group(group);
        }
    }

    fn is_killing(&self) -> bool {
        self.killing.load(Ordering::SeqCst)
    }

    fn register(&self, group: i32) {
        self.groups
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(group);
        if self.is_killing() {
            kill_group(group);
        }
    }

    fn unregister(&self, group: i32) {
        self.groups
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|&g| g != group);
    }
}

/// How a task's log names the process group of each command it starts, so
/// that a later run can tell whether a killed runner left it running.
const PROCESS_GROUP_NOTE: &str = "process group ";

/// A command that an earlier runner started for this task and that still
/// runs (the runner was killed, its commands were not): its process group
/// and command line. Only granule's own commands count (`sh -c`, `ssh`,
/// `tar`), so a recycled process group id is not mistaken for one.
pub fn leftover_command(log: &Path) -> Option<(i32, String)> {
    let text = std::fs::read_to_string(log).ok()?;
    let groups: Vec<i32> = text
        .lines()
        .filter_map(|line| line.split_once("granule| "))
        .filter_map(|(_, note)| note.strip_prefix(PROCESS_GROUP_NOTE))
        .filter_map(|group| group.trim().parse().ok())
        .collect();
    groups.into_iter().rev().find_map(|group| {
        // SAFETY: signal 0 only asks whether the process group exists.
        let alive = group > 0 && unsafe { libc::kill(-group, 0) } == 0;
        let cmdline = std::fs::read(format!("/proc/{group}/cmdline")).ok()?;
        let words: Vec<String> = cmdline
            .split(|&byte| byte == 0)
            .filter(|word| !word.is_empty())
            .map(|word| String::from_utf8_lossy(word).into_owned())
            .collect();
        let ours = matches!(
            words.first().map(String::as_str),
            Some("sh" | "ssh" | "tar")
        );
        (alive && ours).then(|| (group, words.join(" ")))
    })
}

fn kill_group(group: i32) {
    // SAFETY: kill(2) with a negative pid signals a process group we created.
    unsafe {
        libc::kill(-group, libc::SIGKILL);
    }
}

/// A task's log: timestamped lines of its output and of granule's notes.
pub struct TaskLog {
    file: Mutex<File>,
}

impl TaskLog {
    pub fn open(path: &Path) -> std::io::Result<TaskLog> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(TaskLog {
            file: Mutex::new(file),
        })
    }

    pub fn line(&self, stream: &str, text: &str) {
        // One write per line: lines of concurrent streams never interleave.
        let line = format!(
            "{} {stream}| {}\n",
            time::now(),
            text.trim_end_matches(['\n', '\r'])
        );
        let mut file = self.file.lock().unwrap_or_else(|e| e.into_inner());
        let _ = file.write_all(line.as_bytes());
    }

    fn note(&self, text: &str) {
        self.line("granule", text);
    }
}

/// How one task ended.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub state: State,
    pub attempt: u32,
    pub exit_code: Option<i32>,
    pub message: Option<String>,
}

/// What a runner reports while it works.
pub trait Progress {
    /// A new attempt (2, 3, ...) starts after the previous one failed.
    fn retrying(&self, attempt: u32, reason: &str);
}

pub struct TaskRun<'a> {
    pub node: &'a Node,
    pub task: &'a Task,
    pub options: &'a RunnerOptions,
    pub log: &'a TaskLog,
    pub interrupt: &'a Interrupt,
}

impl TaskRun<'_> {
    pub fn run(&self, progress: &dyn Progress) -> Outcome {
        let task = self.task;
        if let Some(hook) = &task.test_pre {
            self.log.note(&format!("test_pre: {}", hook.cmd));
            let result = self.hook(hook, 1);
            if !result.success() {
                return Outcome {
                    state: State::FailedPrecondition,
                    attempt: 0,
                    exit_code: result.code,
                    message: Some(format!("test_pre {}", result.describe())),
                };
            }
        }
        let attempts = task.attempts.retries + 1;
        let mut attempt = 1;
        let result = loop {
            self.log.note(&format!("attempt {attempt} of {attempts}"));
            let result = self.action(attempt);
            self.log
                .note(&format!("attempt {attempt}: {}", result.describe()));
            if result.success() || attempt == attempts || result.killed {
                break result;
            }
            if self.interrupt.is_stopping() {
                break CommandResult {
                    note: Some(format!(
                        "{}; not retried because the run is stopping",
                        result.describe()
                    )),
                    ..result
                };
            }
            if !self.pause(task.attempts.interval) {
                break result;
            }
            attempt += 1;
            progress.retrying(attempt, &result.describe());
        };
        if !result.success() {
            return Outcome {
                state: State::Failed,
                attempt,
                exit_code: result.code,
                message: Some(result.note.clone().unwrap_or_else(|| result.describe())),
            };
        }
        if let Some(hook) = &task.test_post {
            self.log.note(&format!("test_post: {}", hook.cmd));
            let post = self.hook(hook, attempt);
            if !post.success() {
                return Outcome {
                    state: State::Failed,
                    attempt,
                    exit_code: post.code,
                    message: Some(format!("test_post {}", post.describe())),
                };
            }
        }
        Outcome {
            state: State::Succeeded,
            attempt,
            exit_code: result.code,
            message: result.note,
        }
    }

    /// Waits between attempts; false when interrupted meanwhile.
    fn pause(&self, interval: Duration) -> bool {
        let until = Instant::now() + interval;
        while Instant::now() < until {
            if self.interrupt.is_stopping() {
                return false;
            }
            std::thread::sleep((until - Instant::now()).min(Duration::from_millis(20)));
        }
        true
    }

    fn hook(&self, hook: &TestHook, attempt: u32) -> CommandResult {
        self.exec(Script {
            text: hook.cmd.clone(),
            cwd: hook.cwd.clone(),
            stdin: Input::None,
            timeout: hook.timeout.or(self.task.attempts.timeout),
            attempt,
            accept: &[0],
        })
    }

    fn action(&self, attempt: u32) -> CommandResult {
        let timeout = self.task.attempts.timeout;
        let script = |text: String, cwd: Option<String>, stdin: Input| Script {
            text,
            cwd,
            stdin,
            timeout,
            attempt,
            accept: &[0],
        };
        match &self.task.action {
            Action::Nothing => CommandResult::done(),
            Action::Shell { cmd, cwd } => self.exec(script(cmd.clone(), cwd.clone(), Input::None)),
            Action::Puppet {
                manifest,
                modulepath,
                cwd,
            } => {
                let text = puppet_command(manifest, modulepath.as_deref(), self.options);
                // --detailed-exitcodes: 2 means "changes applied", a success.
                self.exec(Script {
                    accept: &[0, 2],
                    ..script(text, cwd.clone(), Input::None)
                })
            }
            Action::Unfilled(message) => CommandResult::refused(message),
            Action::UploadFile {
                path,
                data,
                permissions,
            } => {
                let data = match upload_text(self.node, data) {
                    Ok(data) => data,
                    Err(message) => return CommandResult::refused(&message),
                };
                match &self.node.transport {
                    Transport::Local => local_file_op(|| {
                        write_file(Path::new(path), data.as_bytes())?;
                        set_mode(Path::new(path), *permissions)
                    }),
                    Transport::Ssh(_) => self.exec(script(
                        remote_write_script(path, *permissions),
                        None,
                        Input::Bytes(data.into_bytes()),
                    )),
                }
            }
            Action::CopyFiles {
                files,
                permissions,
                dir_permissions,
            } => {
                for copy in files {
                    let result = match &self.node.transport {
                        Transport::Local => local_file_op(|| {
                            let dst = Path::new(&copy.dst);
                            if let Some(parent) = dst.parent() {
                                std::fs::create_dir_all(parent)?;
                                set_mode(parent, *dir_permissions)?;
                            }
                            std::fs::copy(&copy.src, dst)?;
                            set_mode(dst, *permissions)
                        }),
                        Transport::Ssh(_) => self.exec(script(
                            remote_write_script(&copy.dst, *permissions),
                            None,
                            Input::File(PathBuf::from(&copy.src)),
                        )),
                    };
                    if !result.success() {
                        return CommandResult {
                            note: Some(format!(
                                "copying {} to {}: {}",
                                copy.src,
                                copy.dst,
                                result.describe()
                            )),
                            ..result
                        };
                    }
                }
                CommandResult::done()
            }
            Action::Sync { src, dst } => match &self.node.transport {
                Transport::Local => local_file_op(|| copy_tree(Path::new(src), Path::new(dst))),
                Transport::Ssh(_) if Path::new(src).is_file() => self.exec(script(
                    remote_write_script(dst, None),
                    None,
                    Input::File(PathBuf::from(src)),
                )),
                Transport::Ssh(_) => self.exec(script(
                    format!("mkdir -p {0} && tar -C {0} -xf -", quote(dst)),
                    None,
                    Input::Command(vec![
                        "tar".into(),
                        "-C".into(),
                        src.clone(),
                        "-cf".into(),
                        "-".into(),
                        ".".into(),
                    ]),
                )),
            },
            Action::Reboot => self.reboot(attempt),
        }
    }

    fn reboot(&self, attempt: u32) -> CommandResult {
        let timeout = self
            .task
            .attempts
            .timeout
            .unwrap_or(Duration::from_secs(900));
        let reboot = |accept: &'static [i32]| Script {
            text: "shutdown -r now".into(),
            cwd: None,
            stdin: Input::None,
            timeout: Some(Duration::from_secs(60)),
            attempt,
            accept,
        };
        match &self.node.transport {
            Transport::Local if !self.options.allow_local_reboot => CommandResult::refused(
                "refusing to reboot the machine granule runs on; pass --allow-local-reboot to allow it",
            ),
            Transport::Local => self.exec(reboot(&[0])),
            Transport::Ssh(_) => {
                // The session dies with the node: 255 is ssh's "connection closed".
                let issued = self.exec(reboot(&[0, 255]));
                if !issued.success() {
                    return issued;
                }
                let deadline = Instant::now() + timeout;
                std::thread::sleep(Duration::from_secs(5));
                while Instant::now() < deadline && !self.interrupt.is_stopping() {
                    let probe = self.exec(Script {
                        text: "true".into(),
                        timeout: Some(Duration::from_secs(10)),
                        ..reboot(&[0])
                    });
                    if probe.success() {
                        return CommandResult::done();
                    }
                    std::thread::sleep(Duration::from_secs(5));
                }
                CommandResult::refused("the node did not come back after the reboot in time")
            }
        }
    }

    fn exec(&self, mut script: Script) -> CommandResult {
        let env = [
            ("GRANULE_NODE", self.node.name.clone()),
            ("GRANULE_TASK", self.task.id.clone()),
            ("GRANULE_ROLES", self.node.roles.join(",")),
            ("GRANULE_ATTEMPT", script.attempt.to_string()),
        ];
        let mut command = match &self.node.transport {
            Transport::Local => {
                let mut command = Command::new("sh");
                command.arg("-c").arg(&script.text);
                if let Some(cwd) = &script.cwd {
                    command.current_dir(cwd);
                }
                command.envs(env.iter().map(|(k, v)| (k, v)));
                command
            }
            Transport::Ssh(target) => {
                let mut remote = String::new();
                for (key, value) in &env {
                    remote.push_str(&format!("{key}={} ", quote(value)));
                }
                remote.push_str("export GRANULE_NODE GRANULE_TASK GRANULE_ROLES GRANULE_ATTEMPT; ");
                if let Some(cwd) = &script.cwd {
                    remote.push_str(&format!("cd {} && ", quote(cwd)));
                }
                if matches!(script.stdin, Input::None) {
                    // Nothing to feed: stdin stays open and tells the remote
                    // side when the session closes (time limit, interrupt).
                    remote.push_str(&format!(
                        "sh -c {} sh {}",
                        quote(REMOTE_WATCHDOG),
                        quote(&script.text)
                    ));
                    script.stdin = Input::HeldOpen;
                } else {
                    remote.push_str(&format!("sh -c {}", quote(&script.text)));
                }
                ssh_command(target, &remote)
            }
        };
        self.log.note(&format!("$ {}", script.text));
        run_command(&mut command, script, self.log, self.interrupt)
    }
}

/// What an upload writes on `node`: given, or computed from its deployment data.
pub fn upload_text(node: &Node, data: &UploadData) -> Result<String, String> {
    let expression = match data {
        UploadData::Text(text) => return Ok(text.clone()),
        UploadData::Yaql(expression) => expression,
    };
    let Some(node_data) = &node.data else {
        return Err(format!(
            "`parameters.data` is computed by the YAQL expression `{expression}` from the node's deployment data: pass that data with --data"
        ));
    };
    let value = yaql::parse(expression)
        .map_err(|err| format!("`parameters.data`: YAQL syntax error: {err}"))?
        .evaluate(
            node_data,
            node.previous_data.as_deref(),
            &condition::node_variables(node_data),
        )
        .map_err(|err| format!("`parameters.data` (`{expression}`): {err}"))?;
    Ok(match value {
        yaql::Value::Str(text) => text.to_string(),
        other => yaql::to_yaml(&other),
    })
}

/// The command line of a puppet task; exit codes 0 and 2 (changes applied,
/// from --detailed-exitcodes) mean success.
pub fn puppet_command(manifest: &str, modulepath: Option<&str>, options: &RunnerOptions) -> String {
    let mut text = String::from("puppet apply --detailed-exitcodes");
    if options.noop {
        text.push_str(" --noop");
    }
    for arg in &options.puppet_args {
        text.push(' ');
        text.push_str(&quote(arg));
    }
    if let Some(modulepath) = modulepath {
        let entries: Vec<String> = modulepath.split(':').map(absolute_in_shell).collect();
        text.push_str(&format!(" --modulepath {}", entries.join(":")));
    }
    text.push(' ');
    text.push_str(&absolute_in_shell(manifest));
    text
}

/// Runs `$1` on the remote node in a session of its own (`setsid`, when the
/// node has it) and kills that session when the ssh session's stdin closes:
/// sshd does not end a command whose client went away, so a time limit or an
/// interrupt would leave it running. Stdin goes to the watcher through fd 3
/// (a shell gives background jobs /dev/null as stdin); the watcher holds no
/// output stream, so it never keeps a finished session open.
const REMOTE_WATCHDOG: &str = "exec 3<&0; \
if command -v setsid >/dev/null 2>&1; then setsid sh -c \"$1\" </dev/null 3<&- & \
else sh -c \"$1\" </dev/null 3<&- & fi; pid=$!; \
{ cat <&3 >/dev/null; kill -KILL -$pid || kill -KILL $pid; } >/dev/null 2>&1 & watch=$!; \
exec 3<&-; wait $pid; status=$?; kill -KILL $watch 2>/dev/null; exit $status";

fn ssh_command(target: &SshTarget, remote: &str) -> Command {
    let mut command = Command::new("ssh");
    command.args([
        "-o",
        "BatchMode=yes",
        "-o",
        "ConnectTimeout=20",
        "-o",
        "ServerAliveInterval=15",
    ]);
    if let Some(port) = target.port {
        command.arg("-p").arg(port.to_string());
    }
    if let Some(key) = &target.key {
        command
            .arg("-i")
            .arg(key)
            .args(["-o", "IdentitiesOnly=yes"]);
    }
    if let Some(user) = &target.user {
        command.arg("-l").arg(user);
    }
    for option in &target.options {
        command.arg("-o").arg(option);
    }
    command.arg("--").arg(&target.host).arg(remote);
    command
}

enum Input {
    None,
    /// A pipe that stays open, with nothing written, until the command ends.
    HeldOpen,
    Bytes(Vec<u8>),
    File(PathBuf),
    /// The standard output of a local command (a `tar` for `sync` over ssh).
    Command(Vec<String>),
}

struct Script {
    text: String,
    cwd: Option<String>,
    stdin: Input,
    timeout: Option<Duration>,
    attempt: u32,
    /// Exit codes that mean success.
    accept: &'static [i32],
}

struct CommandResult {
    code: Option<i32>,
    success: bool,
    timed_out: Option<Duration>,
    killed: bool,
    note: Option<String>,
}

impl CommandResult {
    fn done() -> CommandResult {
        CommandResult {
            code: None,
            success: true,
            timed_out: None,
            killed: false,
            note: None,
        }
    }

    fn refused(reason: &str) -> CommandResult {
        CommandResult {
            success: false,
            note: Some(reason.to_string()),
            ..CommandResult::done()
        }
    }

    fn success(&self) -> bool {
        self.success
    }

    fn describe(&self) -> String {
        if let Some(note) = &self.note {
            return note.clone();
        }
        if let Some(limit) = self.timed_out {
            return format!("timed out after {}s", limit.as_secs_f64());
        }
        if self.killed {
            return "killed by a second interrupt".to_string();
        }
        match self.code {
            Some(code) if self.success => format!("exit {code}"),
            Some(code) => format!("failed (exit {code})"),
            None if self.success => "done".to_string(),
            None => "failed (killed by a signal)".to_string(),
        }
    }
}

fn local_file_op(op: impl FnOnce() -> std::io::Result<()>) -> CommandResult {
    match op() {
        Ok(()) => CommandResult::done(),
        Err(err) => CommandResult::refused(&err.to_string()),
    }
}

fn write_file(path: &Path, data: &[u8]) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(path, data)
}

fn set_mode(path: &Path, mode: Option<u32>) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    match mode {
        Some(mode) => std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)),
        None => Ok(()),
    }
}

fn copy_tree(src: &Path, dst: &Path) -> std::io::Result<()> {
    if src.is_file() {
        if let Some(parent) = dst.parent() {
            std::fs::create_dir_all(parent)?;
        }
        return std::fs::copy(src, dst).map(|_| ());
    }
    for entry in walkdir::WalkDir::new(src) {
        let entry = entry.map_err(std::io::Error::other)?;
        let relative = entry
            .path()
            .strip_prefix(src)
            .map_err(std::io::Error::other)?;
        let target = dst.join(relative);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

fn remote_write_script(path: &str, mode: Option<u32>) -> String {
    let quoted = quote(path);
    let mut text = format!("mkdir -p \"$(dirname {quoted})\" && cat > {quoted}");
    if let Some(mode) = mode {
        text.push_str(&format!(" && chmod {mode:o} {quoted}"));
    }
    text
}

/// A path for a shell command line, made absolute against the directory the
/// command runs in: `puppet apply` (Puppet 7, Facter 4) was seen to compile
/// an empty catalog, silently, for a relative manifest path.
fn absolute_in_shell(path: &str) -> String {
    if path.starts_with('/') {
        quote(path)
    } else {
        format!("\"$PWD\"/{}", quote(path))
    }
}

/// Quotes a word for a POSIX shell.
pub fn quote(word: &str) -> String {
    if !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c))
    {
        return word.to_string();
    }
    format!("'{}'", word.replace('\'', "'\\''"))
}

fn run_command(
    command: &mut Command,
    script: Script,
    log: &TaskLog,
    interrupt: &Interrupt,
) -> CommandResult {
    let mut feeder: Option<Child> = None;
    let stdin = match &script.stdin {
        Input::None => Stdio::null(),
        Input::Bytes(_) | Input::HeldOpen => Stdio::piped(),
        Input::File(path) => match File::open(path) {
            Ok(file) => Stdio::from(file),
            Err(err) => {
                return CommandResult::refused(&format!("cannot read {}: {err}", path.display()))
            }
        },
        Input::Command(argv) => {
            let spawned = Command::new(&argv[0])
                .args(&argv[1..])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .process_group(0)
                .spawn();
            match spawned {
                Ok(mut child) => {
                    let out = child.stdout.take();
                    if let Some(err) = child.stderr.take() {
                        forward_lines(err, "err", log);
                    }
                    feeder = Some(child);
                    match out {
                        Some(out) => Stdio::from(out),
                        None => Stdio::null(),
                    }
                }
                Err(err) => {
                    return CommandResult::refused(&format!("cannot run {}: {err}", argv[0]))
                }
            }
        }
    };
    let spawned = command
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn();
    let mut child = match spawned {
        Ok(child) => child,
        Err(err) => {
            if let Some(mut feeder) = feeder {
                let _ = feeder.kill();
                let _ = feeder.wait();
            }
            let program = command.get_program().to_string_lossy().into_owned();
            return CommandResult::refused(&format!("cannot run `{program}`: {err}"));
        }
    };
    let group = child.id() as i32;
    interrupt.register(group);
    log.note(&format!("{PROCESS_GROUP_NOTE}{group}"));
    if let Some(feeder) = &feeder {
        interrupt.register(feeder.id() as i32);
        log.note(&format!("{PROCESS_GROUP_NOTE}{}", feeder.id()));
    }
    let mut held_open = None;
    match (script.stdin, child.stdin.take()) {
        (Input::Bytes(data), Some(mut stdin)) => {
            std::thread::spawn(move || {
                let _ = stdin.write_all(&data);
            });
        }
        (Input::HeldOpen, stdin) => held_open = stdin,
        _ => {}
    }
    let readers = [
        child
            .stdout
            .take()
            .map(|out| forward_lines(out, "out", log)),
        child
            .stderr
            .take()
            .map(|err| forward_lines(err, "err", log)),
    ];

    // A waiter blocks on the child; this thread waits for it at most the
    // time limit (no polling: many tasks at once cost no CPU while they run).
    let (exited, exit) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = exited.send(child.wait().ok());
    });
    let mut timed_out = None;
    let status = match script.timeout {
        Some(limit) => match exit.recv_timeout(limit) {
            Ok(status) => status,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                timed_out = Some(limit);
                kill_group(group);
                exit.recv().ok().flatten()
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => None,
        },
        None => exit.recv().ok().flatten(),
    };
    drop(held_open);
    let killed = interrupt.is_killing();
    interrupt.unregister(group);
    if let Some(mut feeder) = feeder {
        if timed_out.is_some() || killed {
            kill_group(feeder.id() as i32);
        }
        let _ = feeder.wait();
        interrupt.unregister(feeder.id() as i32);
    }
    // A command may leave a background process holding its output open;
    // its lines keep going to the log, but the task is over.
    for reader in readers.into_iter().flatten() {
        let _ = reader.recv_timeout(Duration::from_secs(2));
    }
    let code = status.and_then(|status| status.code());
    CommandResult {
        code,
        success: timed_out.is_none() && code.is_some_and(|code| script.accept.contains(&code)),
        timed_out,
        killed: killed && timed_out.is_none() && code.is_none(),
        note: None,
    }
}

/// Copies a stream to the log line by line; the receiver hears when it ends.
fn forward_lines(
    stream: impl Read + Send + 'static,
    name: &'static str,
    log: &TaskLog,
) -> mpsc::Receiver<()> {
    let (done, finished) = mpsc::channel();
    let file = log
        .file
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .try_clone();
    let Ok(file) = file else {
        let _ = done.send(());
        return finished;
    };
    let sink = Arc::new(TaskLog {
        file: Mutex::new(file),
    });
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stream);
        let mut line = Vec::new();
        while matches!(reader.read_until(b'\n', &mut line), Ok(n) if n > 0) {
            sink.line(name, &String::from_utf8_lossy(&line));
            line.clear();
        }
        let _ = done.send(());
    });
    finished
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn quotes_for_the_shell() {
        assert_eq!(quote("/etc/puppet"), "/etc/puppet");
        assert_eq!(quote("a b"), "'a b'");
        assert_eq!(quote("it's"), "'it'\\''s'");
        assert_eq!(quote(""), "''");
    }

    #[test]
    fn makes_relative_paths_absolute_in_the_shell() {
        assert_eq!(super::absolute_in_shell("/etc/m.pp"), "/etc/m.pp");
        assert_eq!(super::absolute_in_shell("m a.pp"), "\"$PWD\"/'m a.pp'");
    }
}
