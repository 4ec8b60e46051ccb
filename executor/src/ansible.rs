//! Ansible as an execution engine: the plan written as an Ansible project
//! (inventory, playbook, task files), and a run that drives
//! `ansible-playbook` and keeps granule's journal from what it reports.
//!
//! The mapping (docs/executor.md, "Engines"): every planned task that runs is
//! placed in a play by its depth, the number of running tasks on the longest
//! chain before it, so every dependency (same-node, cross-node, stage, group)
//! points from an earlier play to a later one. Plays run one after another;
//! inside a play `strategy: free` lets each host go through its tasks at its
//! own pace; a task whose `strategy` limits its nodes goes to a play of its
//! own, with the limit as `serial`. Whether a task may start on a host is
//! decided inside Ansible by the `granule_ready` filter over the plan's graph
//! (`granule_graph.json`): a task whose need failed, on any host, does not
//! run, as with granule's own runner, and no task starts once the run stops
//! (fault_tolerance, --fail-fast, --stop-after).

use crate::descriptor::{Action, Task, TestHook};
use crate::execute::{
    self, io_error, safe_file_name, Event, ExecError, InstanceResult, Observer, RunConfig,
    StateDirLock, Summary,
};
use crate::inventory::{Node, Transport};
use crate::journal::{self, JournalWriter, Record, RunOutcome, JOURNAL_FILE};
use crate::plan::{topological_order, Disposition, Plan};
use crate::runner::{puppet_command, quote, upload_text, RunnerOptions};
use crate::scheduler::{self, Scheduler, State};
use crate::time;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const FILTER_PLUGIN: &str = include_str!("ansible/filter.py");
const CALLBACK_PLUGIN: &str = include_str!("ansible/callback.py");
pub const PLAYBOOK_FILE: &str = "playbook.yaml";
pub const INVENTORY_FILE: &str = "inventory.yaml";
const GRAPH_FILE: &str = "granule_graph.json";

/// How long ansible-playbook may take to stop after the first SIGINT.
const INTERRUPT_GRACE: Duration = Duration::from_secs(15);

/// What the export needs besides the plan.
#[derive(Clone, Debug)]
pub struct ExportOptions {
    pub runner: RunnerOptions,
    /// Ansible's `forks`: how many hosts work at once.
    pub forks: usize,
    /// Where local nodes run their commands and where relative local paths
    /// (sync and copy sources) start: granule's own runner uses its
    /// working directory.
    pub workdir: PathBuf,
    /// The tasks a run that was cut off had started on some node (`granule
    /// run --resume`): their files begin with the `check` step for their
    /// done-marker.
    pub cut_off: BTreeSet<String>,
}

/// What an export wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exported {
    pub plays: usize,
    pub task_files: usize,
    pub hosts: usize,
}

/// Per instance: the play it belongs to, the number of running tasks on
/// the longest chain of instances before it. A dependency through a sync
/// point or a skipped task still separates plays.
pub fn play_levels(plan: &Plan) -> Vec<u32> {
    let runs = |id: usize| plan.instances[id].disposition == Disposition::Run;
    let mut level = vec![0u32; plan.instances.len()];
    let order = topological_order(&plan.successors, &plan.predecessor_count).unwrap_or_default();
    for &id in &order {
        let after = level[id as usize] + u32::from(runs(id as usize));
        for &succ in &plan.successors[id as usize] {
            level[succ as usize] = level[succ as usize].max(after);
        }
    }
    level
}

/// One play of the export: its running instances and, for tasks whose
/// strategy limits how many nodes run them at once, that limit as the
/// play's `serial` (Ansible's `throttle` would limit each step of a task,
/// not the task).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Play {
    pub instances: Vec<u32>,
    pub serial: Option<u32>,
}

/// The plays in the order they run: per depth, the unlimited tasks, then
/// one play per limit of the limited ones.
pub fn plays(plan: &Plan) -> Vec<Play> {
    let level = play_levels(plan);
    let mut plays: BTreeMap<(u32, Option<u32>), Vec<u32>> = BTreeMap::new();
    for (id, instance) in plan.instances.iter().enumerate() {
        if instance.disposition != Disposition::Run {
            continue;
        }
        let serial = plan.limits[instance.task].map(|limit| limit.max(1));
        plays
            .entry((level[id], serial))
            .or_default()
            .push(id as u32);
    }
    plays
        .into_iter()
        .map(|((_, serial), instances)| Play { instances, serial })
        .collect()
}

/// The hosts of a play, in the order Ansible takes them (its batches under
/// `serial`).
fn play_hosts(plan: &Plan, play: &Play) -> Vec<usize> {
    let mut hosts: Vec<usize> = play
        .instances
        .iter()
        .map(|&id| plan.instances[id as usize].node)
        .collect();
    hosts.sort_unstable();
    hosts.dedup();
    hosts
}

/// The makespan of the exported playbook when every task takes
/// `duration(instance)`: plays one after another; in a play each host runs
/// its tasks one by one, at most `forks` hosts at a time, longest host first,
/// batch after batch under `serial` (a model of `strategy: free`: it ignores
/// Ansible's own overhead).
pub fn playbook_makespan(plan: &Plan, forks: usize, duration: impl Fn(u32) -> f64) -> f64 {
    let forks = forks.max(1);
    plays(plan)
        .iter()
        .map(|play| {
            let mut per_host: HashMap<usize, f64> = HashMap::new();
            for &id in &play.instances {
                *per_host
                    .entry(plan.instances[id as usize].node)
                    .or_default() += duration(id);
            }
            let hosts = play_hosts(plan, play);
            let batch = play.serial.map_or(hosts.len(), |serial| serial as usize);
            hosts
                .chunks(batch.max(1))
                .map(|batch| {
                    let mut work: Vec<f64> = batch.iter().map(|host| per_host[host]).collect();
                    work.sort_by(|a, b| b.total_cmp(a));
                    let mut slots = vec![0.0f64; forks.min(work.len()).max(1)];
                    for host in work {
                        let earliest = slots
                            .iter_mut()
                            .min_by(|a, b| a.total_cmp(b))
                            .expect("at least one slot");
                        *earliest += host;
                    }
                    slots.into_iter().fold(0.0, f64::max)
                })
                .sum::<f64>()
        })
        .sum()
}

/// A string Ansible must not template: commands and file contents are
/// taken as written, `{{` included.
fn literal(text: &str) -> Value {
    if text.contains("{{") || text.contains("{%") || text.contains("{#") {
        Value::String(format!("{{% raw %}}{text}{{% endraw %}}"))
    } else {
        Value::String(text.to_string())
    }
}

fn mode(permissions: Option<u32>) -> Option<Value> {
    permissions.map(|mode| Value::String(format!("0{mode:o}")))
}

fn group_name(prefix: &str, name: &str) -> String {
    let safe: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!("{prefix}_{safe}")
}

/// One step of a task file, marked for the `granule` callback.
fn step(task: &Task, which: &str, module: &str, arguments: Value) -> Map<String, Value> {
    let mut step = Map::new();
    step.insert("name".into(), format!("{} | {which}", task.id).into());
    step.insert(
        "vars".into(),
        json!({"granule_task": literal(&task.id), "granule_step": which}),
    );
    step.insert(module.into(), arguments);
    step
}

/// A path on the node as granule's runner reads it: a relative one starts
/// from granule's working directory on local nodes, from the login
/// directory on ssh nodes.
fn node_path(path: &str) -> Value {
    if path.starts_with('/') {
        return literal(path);
    }
    Value::String(format!(
        "{{{{ (granule_workdir ~ '/') if granule_workdir is defined else '~/' }}}}{}",
        path.replace('{', "{{ '{' }}")
    ))
}

/// The `chdir` of a command: the task's, else (local nodes) granule's
/// working directory.
fn chdir(cwd: Option<&str>) -> Value {
    match cwd {
        Some(dir) => node_path(dir),
        None => "{{ granule_workdir | default(omit) }}".into(),
    }
}

fn shell_step(task: &Task, which: &str, cmd: &str, cwd: Option<&str>) -> Map<String, Value> {
    step(
        task,
        which,
        "ansible.builtin.shell",
        json!({"cmd": literal(cmd), "chdir": chdir(cwd)}),
    )
}

/// How long a command may go on after its time limit's SIGTERM before it
/// gets SIGKILL.
const KILL_AFTER_SECONDS: u64 = 5;

/// A time limit as `timeout` and granule's messages write it.
fn seconds(limit: Duration) -> String {
    limit.as_secs_f64().to_string()
}

/// A command as it runs on the node within a time limit: coreutils
/// `timeout` ends it, with its whole process group, on the node (Ansible's
/// own limit only ends its side of the connection).
fn within(cmd: &str, limit: Option<Duration>) -> String {
    match limit {
        Some(limit) => format!(
            "timeout -k {KILL_AFTER_SECONDS} {} sh -c {}",
            seconds(limit),
            quote(cmd)
        ),
        None => cmd.to_string(),
    }
}

/// A command step's limits: `timeout` on the node, and Ansible's own as a
/// backstop, once the node's has had time to end the command.
fn limit_step(step: &mut Map<String, Value>, limit: Option<Duration>) {
    let Some(limit) = limit else { return };
    let backstop = limit.as_secs_f64().ceil() as u64 + KILL_AFTER_SECONDS + 5;
    step.insert("timeout".into(), backstop.into());
    if let Some(Value::Object(vars)) = step.get_mut("vars") {
        vars.insert("granule_timeout".into(), seconds(limit).into());
    }
}

fn hook_step(task: &Task, which: &str, hook: &TestHook) -> Map<String, Value> {
    let limit = hook.timeout.or(task.attempts.timeout);
    let mut step = shell_step(task, which, &within(&hook.cmd, limit), hook.cwd.as_deref());
    limit_step(&mut step, limit);
    step
}

/// A task's command (shell, puppet) as it runs on the node. Under `granule
/// run` ($GRANULE_MARKER set) it notes its shell's process while it runs and,
/// when it succeeds (an exit status in `accepted`), leaves a done-marker: a
/// resumed run waits for a command of the run that was cut off, and does not
/// run it again once it has succeeded (the `check` step).
fn command_step(task: &Task, cmd: &str, cwd: Option<&str>, accepted: &[i32]) -> Map<String, Value> {
    let limit = task.attempts.timeout;
    let command = match limit {
        Some(_) => within(cmd, limit),
        None => format!("sh -c {}", quote(cmd)),
    };
    let accepted: Vec<String> = accepted.iter().map(ToString::to_string).collect();
    let script = format!(
        "granule_marker=${{GRANULE_MARKER:+$HOME/$GRANULE_MARKER}}\n\
         if [ -n \"$granule_marker\" ]; then mkdir -p \"${{granule_marker%/*}}\" && echo $$ > \"$granule_marker.running\"; fi\n\
         {command}\n\
         granule_status=$?\n\
         if [ -n \"$granule_marker\" ]; then\n\
         \x20 case $granule_status in {}) : > \"$granule_marker\";; esac\n\
         \x20 rm -f \"$granule_marker.running\"\n\
         fi\n\
         exit $granule_status",
        accepted.join("|")
    );
    let mut step = shell_step(task, "action", &script, cwd);
    limit_step(&mut step, limit);
    step
}

/// The first step of a task that a run cut off on this host (granule killed
/// while it ran): waits for its command if it still runs, then says whether
/// it left its done-marker.
const CUT_OFF_CHECK: &str = "\
granule_marker=\"$HOME/$GRANULE_MARKER\"
if [ -r \"$granule_marker.running\" ]; then
  granule_pid=$(cat \"$granule_marker.running\")
  while [ -n \"$granule_pid\" ] && tr '\\0' '\\n' < \"/proc/$granule_pid/environ\" 2>/dev/null | grep -qxF \"GRANULE_MARKER=$GRANULE_MARKER\"; do
    sleep 0.2
  done
fi
if [ -e \"$granule_marker\" ]; then echo 'its command succeeded in the run that was cut off: not run again'; fi";

/// The condition of the steps a cut-off task's done-marker spares.
const NOT_FINISHED_EARLIER: &str = "granule_earlier.stdout | default('') == ''";

fn add_condition(step: &mut Map<String, Value>, condition: &str) {
    let combined = match step.remove("when") {
        Some(Value::Array(mut all)) => {
            all.push(condition.into());
            Value::Array(all)
        }
        Some(earlier) => json!([earlier, condition]),
        None => condition.into(),
    };
    step.insert("when".into(), combined);
}

/// A local path as granule's runner reads it: relative to its directory.
fn local_source(workdir: &Path, path: &str) -> String {
    workdir.join(path).display().to_string()
}

fn parent_dir_step(
    task: &Task,
    path: &str,
    permissions: Option<u32>,
) -> Option<Map<String, Value>> {
    let parent = Path::new(path).parent()?.to_str()?;
    if parent.is_empty() {
        return None;
    }
    let mut arguments = json!({"path": node_path(parent), "state": "directory"});
    if let Some(mode) = mode(permissions) {
        arguments["mode"] = mode;
    }
    Some(step(task, "action", "ansible.builtin.file", arguments))
}

/// The action's steps; `retried` marks those that take the task's retries.
fn action_steps(task: &Task, options: &ExportOptions) -> Vec<(Map<String, Value>, bool)> {
    let workdir = &options.workdir;
    match &task.action {
        Action::Nothing => Vec::new(),
        Action::Shell { cmd, cwd } => vec![(command_step(task, cmd, cwd.as_deref(), &[0]), true)],
        Action::Puppet {
            manifest,
            modulepath,
            cwd,
        } => {
            // In Ansible's check mode the shell module runs nothing: there
            // puppet runs anyway, with --noop, and reports what it would change.
            let noop = RunnerOptions {
                noop: true,
                ..options.runner.clone()
            };
            [(false, &options.runner), (true, &noop)]
                .into_iter()
                .map(|(checking, runner)| {
                    let command = puppet_command(manifest, modulepath.as_deref(), runner);
                    // --detailed-exitcodes: 2 means "changes applied", a success.
                    let mut apply = command_step(task, &command, cwd.as_deref(), &[0, 2]);
                    apply.insert(
                        "failed_when".into(),
                        "granule_result.rc not in [0, 2]".into(),
                    );
                    apply.insert("changed_when".into(), "granule_result.rc == 2".into());
                    if checking {
                        apply.insert("check_mode".into(), false.into());
                        apply.insert("when".into(), "ansible_check_mode".into());
                    } else {
                        apply.insert("when".into(), "not ansible_check_mode".into());
                    }
                    (apply, true)
                })
                .collect()
        }
        Action::UploadFile {
            path,
            data: _,
            permissions,
        } => {
            let mut refuse = step(
                task,
                "action",
                "ansible.builtin.fail",
                json!({"msg": "{{ granule_refusals[granule_task] }}"}),
            );
            refuse.insert(
                "when".into(),
                "granule_task in (granule_refusals | default({}))".into(),
            );
            let mut steps = vec![(refuse, false)];
            steps.extend(parent_dir_step(task, path, None).map(|step| (step, false)));
            let mut arguments = json!({
                "content": "{{ granule_uploads[granule_task] }}",
                "dest": node_path(path),
            });
            if let Some(mode) = mode(*permissions) {
                arguments["mode"] = mode;
            }
            steps.push((
                step(task, "action", "ansible.builtin.copy", arguments),
                true,
            ));
            steps
        }
        Action::CopyFiles {
            files,
            permissions,
            dir_permissions,
        } => {
            let mut steps = Vec::new();
            for copy in files {
                if let Some(dir) = parent_dir_step(task, &copy.dst, *dir_permissions) {
                    steps.push((dir, false));
                }
                let mut arguments = json!({
                    "src": literal(&local_source(workdir, &copy.src)),
                    "dest": node_path(&copy.dst),
                });
                if let Some(mode) = mode(*permissions) {
                    arguments["mode"] = mode;
                }
                steps.push((
                    step(task, "action", "ansible.builtin.copy", arguments),
                    true,
                ));
            }
            steps
        }
        Action::Sync { src, dst } => {
            // Whether the source is a directory is known when the task runs
            // (an earlier task may make it); a trailing slash copies a
            // directory's contents, as granule's runner does.
            let source = local_source(workdir, src);
            let when_directory = |directory: bool| {
                Value::String(format!(
                    "granule_source is {}directory",
                    if directory { "" } else { "not " }
                ))
            };
            let mut make_dir = step(
                task,
                "action",
                "ansible.builtin.file",
                json!({"path": node_path(dst), "state": "directory"}),
            );
            make_dir.insert("when".into(), when_directory(true));
            let mut copy_dir = step(
                task,
                "action",
                "ansible.builtin.copy",
                json!({
                    "src": "{{ granule_source }}/",
                    "dest": node_path(&format!("{}/", dst.trim_end_matches('/'))),
                }),
            );
            copy_dir.insert("when".into(), when_directory(true));
            let mut steps = vec![(make_dir, false), (copy_dir, true)];
            if let Some(mut parent) = parent_dir_step(task, dst, None) {
                parent.insert("when".into(), when_directory(false));
                steps.push((parent, false));
            }
            let mut copy_file = step(
                task,
                "action",
                "ansible.builtin.copy",
                json!({"src": "{{ granule_source }}", "dest": node_path(dst)}),
            );
            copy_file.insert("when".into(), when_directory(false));
            steps.push((copy_file, true));
            for (step, _) in &mut steps {
                if let Some(Value::Object(vars)) = step.get_mut("vars") {
                    vars.insert("granule_source".into(), literal(&source));
                }
            }
            steps
        }
        Action::Reboot => {
            let timeout = task.attempts.timeout.map_or(600, |limit| limit.as_secs());
            let mut reboot = step(
                task,
                "action",
                "ansible.builtin.reboot",
                json!({"reboot_timeout": timeout}),
            );
            if !options.runner.allow_local_reboot {
                // As granule's runner: never the machine the run is driven from.
                reboot.insert(
                    "when".into(),
                    "ansible_connection | default('ssh') != 'local'".into(),
                );
                let refuse = step(
                    task,
                    "action",
                    "ansible.builtin.fail",
                    json!({"msg": "refusing to reboot the machine granule runs on; pass --allow-local-reboot to allow it"}),
                );
                let mut refuse = refuse;
                refuse.insert(
                    "when".into(),
                    "ansible_connection | default('ssh') == 'local'".into(),
                );
                vec![(refuse, false), (reboot, false)]
            } else {
                vec![(reboot, false)]
            }
        }
        Action::Unfilled(message) => vec![(
            step(
                task,
                "action",
                "ansible.builtin.fail",
                json!({"msg": literal(message)}),
            ),
            false,
        )],
    }
}

/// A task file: pre-test, the action (with its time limit and retries),
/// post-test, and the fact that tells dependants it is done.
fn task_file(task: &Task, options: &ExportOptions) -> Value {
    // A first step that only marks the start: Ansible reports a task as
    // starting even when its `when` then skips it.
    let mut steps = vec![Value::Object(step(
        task,
        "start",
        "ansible.builtin.set_fact",
        json!({"granule_current": "{{ granule_task }}"}),
    ))];
    let checked = options.cut_off.contains(&task.id);
    if checked {
        let mut check = step(
            task,
            "check",
            "ansible.builtin.shell",
            json!({"cmd": CUT_OFF_CHECK}),
        );
        check.insert(
            "when".into(),
            "granule_task in (granule_cut_off | default({})).get(inventory_hostname, [])".into(),
        );
        check.insert("register".into(), "granule_earlier".into());
        check.insert("changed_when".into(), false.into());
        steps.push(Value::Object(check));
    }
    if let Some(hook) = &task.test_pre {
        let mut pre = hook_step(task, "test_pre", hook);
        if checked {
            add_condition(&mut pre, NOT_FINISHED_EARLIER);
        }
        steps.push(Value::Object(pre));
    }
    for (mut action, retried) in action_steps(task, options) {
        // Command steps have their own limits (on the node, and a backstop).
        if let Some(limit) = task.attempts.timeout {
            action
                .entry("timeout")
                .or_insert_with(|| limit.as_secs().max(1).into());
        }
        action.insert("register".into(), "granule_result".into());
        if retried && task.attempts.retries > 0 {
            action.insert("retries".into(), task.attempts.retries.into());
            action.insert("delay".into(), task.attempts.interval.as_secs().into());
            action.insert("until".into(), "granule_result is succeeded".into());
        }
        if checked {
            add_condition(&mut action, NOT_FINISHED_EARLIER);
        }
        steps.push(Value::Object(action));
    }
    if let Some(hook) = &task.test_post {
        steps.push(Value::Object(hook_step(task, "test_post", hook)));
    }
    steps.push(Value::Object(step(
        task,
        "done",
        "ansible.builtin.set_fact",
        // No task in progress any more: the same task's block in a later
        // play (another host's depth) must not take it as started.
        json!({
            "granule_done": "{{ granule_done | default([]) | granule_finished(granule_task, inventory_hostname) }}",
            "granule_current": "",
        }),
    )));
    Value::Array(steps)
}

fn host_vars(plan: &Plan, n: usize, options: &ExportOptions) -> Value {
    let node: &Node = &plan.nodes[n];
    let mut vars = Map::new();
    match &node.transport {
        Transport::Local => {
            vars.insert("ansible_connection".into(), "local".into());
            vars.insert(
                "ansible_python_interpreter".into(),
                "{{ ansible_playbook_python }}".into(),
            );
            vars.insert(
                "granule_workdir".into(),
                literal(&options.workdir.display().to_string()),
            );
        }
        Transport::Ssh(target) => {
            vars.insert("ansible_connection".into(), "ssh".into());
            vars.insert("ansible_host".into(), literal(&target.host));
            if let Some(port) = target.port {
                vars.insert("ansible_port".into(), port.into());
            }
            if let Some(user) = &target.user {
                vars.insert("ansible_user".into(), literal(user));
            }
            let mut ssh_args: Vec<String> = Vec::new();
            if let Some(key) = &target.key {
                vars.insert(
                    "ansible_ssh_private_key_file".into(),
                    literal(&key.display().to_string()),
                );
                ssh_args.push("-o IdentitiesOnly=yes".into());
            }
            for option in &target.options {
                ssh_args.push(format!("-o {}", crate::runner::quote(option)));
            }
            if !ssh_args.is_empty() {
                vars.insert(
                    "ansible_ssh_common_args".into(),
                    literal(&ssh_args.join(" ")),
                );
            }
        }
    }
    vars.insert("granule_roles".into(), literal(&node.roles.join(",")));
    // What upload_file tasks write here: given, or computed from the node's
    // data; where it cannot be computed, why (the task fails with it).
    let mut uploads = Map::new();
    let mut refusals = Map::new();
    for instance in plan.instances.iter().filter(|instance| instance.node == n) {
        let task = &plan.catalog.tasks[instance.task];
        if let (Action::UploadFile { data, .. }, Disposition::Run) =
            (&task.action, &instance.disposition)
        {
            match upload_text(node, data) {
                Ok(text) => uploads.insert(task.id.clone(), literal(&text)),
                Err(message) => refusals.insert(task.id.clone(), literal(&message)),
            };
        }
    }
    if !uploads.is_empty() {
        vars.insert("granule_uploads".into(), Value::Object(uploads));
    }
    if !refusals.is_empty() {
        vars.insert("granule_refusals".into(), Value::Object(refusals));
    }
    Value::Object(vars)
}

fn inventory(plan: &Plan, options: &ExportOptions) -> Value {
    let mut hosts = Map::new();
    let mut groups: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
    for (n, node) in plan.nodes.iter().enumerate() {
        hosts.insert(node.name.clone(), host_vars(plan, n, options));
        for role in &node.roles {
            groups
                .entry(group_name("role", role))
                .or_default()
                .insert(node.name.clone(), json!({}));
        }
    }
    let children: Map<String, Value> = groups
        .into_iter()
        .map(|(name, members)| (name, json!({"hosts": members})))
        .collect();
    json!({"all": {"hosts": hosts, "children": children}})
}

/// The plan's graph for the `granule_ready` filter: every instance with
/// whether it runs and the instances it needs.
fn graph(plan: &Plan) -> Value {
    let mut needs: Vec<Vec<u32>> = vec![Vec::new(); plan.instances.len()];
    for (from, list) in plan.successors.iter().enumerate() {
        for &to in list {
            needs[to as usize].push(from as u32);
        }
    }
    let instances: Vec<Value> = plan
        .instances
        .iter()
        .zip(needs)
        .map(|(instance, needs)| {
            let runs = u8::from(instance.disposition == Disposition::Run);
            json!([instance.node, instance.task, runs, needs])
        })
        .collect();
    let nodes: Vec<&str> = plan.nodes.iter().map(|node| node.name.as_str()).collect();
    let tasks: Vec<&str> = plan
        .catalog
        .tasks
        .iter()
        .map(|task| task.id.as_str())
        .collect();
    // Per group with a fault_tolerance: its id, the budget as written, how
    // many of its nodes may fail, and those nodes.
    let tolerances: Vec<Value> = plan
        .tolerances
        .iter()
        .map(|tolerance| {
            let group = &plan.catalog.tasks[tolerance.group];
            let budget = group
                .fault_tolerance
                .map(|budget| budget.to_string())
                .unwrap_or_default();
            json!([group.id, budget, tolerance.allowed, tolerance.nodes])
        })
        .collect();
    json!({"nodes": nodes, "tasks": tasks, "instances": instances, "tolerances": tolerances})
}

fn playbook(plan: &Plan) -> (Value, usize) {
    let all_plays = plays(plan);
    let count = all_plays.len();
    let mut book = Vec::with_capacity(count);
    for (number, play) in all_plays.iter().enumerate() {
        let mut tasks: Vec<usize> = play
            .instances
            .iter()
            .map(|&id| plan.instances[id as usize].task)
            .collect();
        tasks.sort_unstable();
        tasks.dedup();
        let host_list: Vec<&str> = play_hosts(plan, play)
            .into_iter()
            .map(|n| plan.nodes[n].name.as_str())
            .collect();
        let blocks: Vec<Value> = tasks
            .iter()
            .map(|&t| task_block(&plan.catalog.tasks[t]))
            .collect();
        let mut written = json!({
            "name": format!("granule play {} of {count}", number + 1),
            "hosts": host_list.join(","),
            "gather_facts": false,
            "strategy": "free",
            "tasks": blocks,
        });
        if let Some(serial) = play.serial {
            written["serial"] = serial.into();
        }
        book.push(written);
    }
    (Value::Array(book), count)
}

/// A task in its play: a block that starts when `granule_ready` says so and
/// imports the task's file.
fn task_block(task: &Task) -> Value {
    let safe_id = safe_file_name(&task.id);
    let mut block = Map::new();
    block.insert("name".into(), literal(&task.id));
    block.insert("vars".into(), json!({"granule_task": literal(&task.id)}));
    block.insert(
        "environment".into(),
        json!({
            "GRANULE_NODE": "{{ inventory_hostname }}",
            "GRANULE_TASK": "{{ granule_task }}",
            "GRANULE_ROLES": "{{ granule_roles }}",
            "GRANULE_ATTEMPT": "1",
            // Where the task's command leaves its done-marker on the node,
            // relative to the login directory (only under `granule run`).
            "GRANULE_MARKER": format!(
                "{{{{ (granule_marker_dir ~ '/' ~ (inventory_hostname | regex_replace('[^A-Za-z0-9_.-]', '_')) ~ '/{safe_id}') if granule_marker_dir is defined else '' }}}}"
            ),
        }),
    );
    // Every step of the block asks; a started task answers yes to the rest.
    block.insert(
        "when".into(),
        "granule_task | granule_ready(inventory_hostname, hostvars, granule_done_before | default({}), granule_current | default(''))".into(),
    );
    block.insert(
        "block".into(),
        json!([{"ansible.builtin.import_tasks": format!("tasks/{safe_id}.yaml")}]),
    );
    // A failure ends the task, not the host: what does not need the task
    // still runs there. It is recorded for the stop conditions
    // (fault_tolerance, --fail-fast).
    block.insert(
        "rescue".into(),
        json!([{
            "name": format!("{} | failed", task.id),
            "ansible.builtin.set_fact": {
                "granule_failure_noted": "{{ granule_task | granule_failed(inventory_hostname) }}",
                "granule_current": "",
            },
        }]),
    );
    Value::Object(block)
}

fn config_text(forks: usize) -> String {
    format!(
        "# Written by `granule export ansible`.\n\
         [defaults]\n\
         inventory = {INVENTORY_FILE}\n\
         forks = {forks}\n\
         filter_plugins = filter_plugins\n\
         callback_plugins = callback_plugins\n\
         retry_files_enabled = False\n\
         interpreter_python = auto_silent\n\
         \n\
         [ssh_connection]\n\
         pipelining = True\n"
    )
}

fn write_json(path: &Path, value: &Value) -> std::io::Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(std::io::Error::other)?;
    std::fs::write(path, text + "\n")
}

/// Writes the plan as an Ansible project into `dir`: `ansible.cfg`,
/// `inventory.yaml`, `playbook.yaml`, `tasks/ID.yaml`, the graph and the
/// two plugins. The YAML files are written as JSON, which YAML reads.
pub fn export(plan: &Plan, options: &ExportOptions, dir: &Path) -> std::io::Result<Exported> {
    std::fs::create_dir_all(dir.join("tasks"))?;
    std::fs::create_dir_all(dir.join("filter_plugins"))?;
    std::fs::create_dir_all(dir.join("callback_plugins"))?;
    let mut running: Vec<usize> = plan
        .instances
        .iter()
        .filter(|instance| instance.disposition == Disposition::Run)
        .map(|instance| instance.task)
        .collect();
    running.sort_unstable();
    running.dedup();
    for &t in &running {
        let task = &plan.catalog.tasks[t];
        write_json(
            &dir.join("tasks")
                .join(format!("{}.yaml", safe_file_name(&task.id))),
            &task_file(task, options),
        )?;
    }
    let (book, plays) = playbook(plan);
    write_json(&dir.join(PLAYBOOK_FILE), &book)?;
    write_json(&dir.join(INVENTORY_FILE), &inventory(plan, options))?;
    std::fs::write(
        dir.join(GRAPH_FILE),
        serde_json::to_string(&graph(plan)).map_err(std::io::Error::other)?,
    )?;
    std::fs::write(dir.join("filter_plugins/granule.py"), FILTER_PLUGIN)?;
    std::fs::write(dir.join("callback_plugins/granule.py"), CALLBACK_PLUGIN)?;
    std::fs::write(dir.join("ansible.cfg"), config_text(options.forks.max(1)))?;
    Ok(Exported {
        plays,
        task_files: running.len(),
        hosts: plan.nodes.len(),
    })
}

/// How `granule run --engine ansible` calls Ansible.
#[derive(Clone, Debug)]
pub struct AnsibleConfig {
    /// The `ansible-playbook` program.
    pub program: PathBuf,
    /// Ansible's check mode (`--check`): file steps report what they would
    /// change, puppet runs with `--noop`, shell steps and tests do not run.
    pub check: bool,
}

/// Runs the plan through `ansible-playbook`, with granule's journal, resume
/// and selection: the export goes to STATE_DIR/ansible, the callback
/// journals each host-task state as Ansible reports it, and what Ansible
/// decides without running (skips, sync points, needs that failed) is
/// journaled from the plan once `ansible-playbook` ends.
pub fn execute(
    plan: &Plan,
    config: &RunConfig,
    ansible: &AnsibleConfig,
    observer: &mut dyn Observer,
) -> Result<Summary, ExecError> {
    let stop_after = execute::stop_after_task(plan, config)?;
    let dir = &config.state_dir;
    std::fs::create_dir_all(dir).map_err(io_error(dir))?;
    let _lock = StateDirLock::acquire(dir)?;
    let (done, run) = execute::open_state(plan, config)?;
    let already_done = done.iter().filter(|&&done| done).count();
    let journal_path = dir.join(JOURNAL_FILE);
    let mut journal = JournalWriter::open(&journal_path).map_err(io_error(&journal_path))?;
    let write = |journal: &mut JournalWriter, observer: &mut dyn Observer, record: Record| {
        journal.append(&record).map_err(io_error(&journal_path))?;
        journal.sync().map_err(io_error(&journal_path))?;
        observer.event(plan, Event::Record(&record));
        Ok::<(), ExecError>(())
    };
    write(
        &mut journal,
        observer,
        Record::RunStarted {
            ts: time::now(),
            run,
            pid: std::process::id(),
            nodes: plan.nodes.len(),
            tasks: plan.instances.len(),
            already_done,
        },
    )?;
    observer.event(plan, Event::Started { already_done });
    let started = Instant::now();

    let project = dir.join("ansible");
    let workdir = std::env::current_dir().map_err(io_error(dir))?;
    let mut done_before: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (id, _) in done.iter().enumerate().filter(|(_, &done)| done) {
        done_before
            .entry(plan.node_name(id as u32))
            .or_default()
            .push(plan.task_id(id as u32));
    }
    let mut resume = json!({"granule_done_before": done_before});
    let mut cut_off_tasks = BTreeSet::new();
    if !ansible.check {
        let contents = journal::read(&journal_path).map_err(io_error(&journal_path))?;
        let cut = cut_off(plan, &contents, &done);
        cut_off_tasks.extend(cut.values().flatten().map(|task| task.to_string()));
        resume["granule_marker_dir"] = marker_dir(&contents).into();
        resume["granule_cut_off"] = json!(cut);
    }
    let options = ExportOptions {
        runner: config.runner.clone(),
        forks: config.max_parallel,
        workdir,
        cut_off: cut_off_tasks,
    };
    let project = std::path::absolute(&project).unwrap_or(project);
    export(plan, &options, &project).map_err(io_error(&project))?;
    let control = project.join("control");
    write_control(plan, config, stop_after, &done, &control).map_err(io_error(&control))?;
    let resume_file = project.join("resume.json");
    write_json(&resume_file, &resume).map_err(io_error(&resume_file))?;

    let absolute_dir = std::path::absolute(dir).unwrap_or_else(|_| dir.clone());
    let log_path = absolute_dir.join("logs").join("ansible-playbook.log");
    std::fs::create_dir_all(absolute_dir.join("logs")).map_err(io_error(dir))?;
    let log = std::fs::File::create(&log_path).map_err(io_error(&log_path))?;
    let mut command = Command::new(&ansible.program);
    command
        .arg("-i")
        .arg(project.join(INVENTORY_FILE))
        .arg("-e")
        .arg(format!("@{}", resume_file.display()))
        .arg(project.join(PLAYBOOK_FILE))
        .env("ANSIBLE_CONFIG", project.join("ansible.cfg"))
        .env("ANSIBLE_STDOUT_CALLBACK", "granule")
        .env("ANSIBLE_CALLBACK_PLUGINS", project.join("callback_plugins"))
        .env("ANSIBLE_FILTER_PLUGINS", project.join("filter_plugins"))
        .env("ANSIBLE_NOCOLOR", "1")
        .env("PYTHONUNBUFFERED", "1")
        .env("GRANULE_JOURNAL", absolute_dir.join(JOURNAL_FILE))
        .env("GRANULE_STATE_DIR", &absolute_dir)
        .env("GRANULE_RUN", run.to_string())
        .env("GRANULE_CONTROL", &control)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log.try_clone().map_err(io_error(&log_path))?)
        .process_group(0);
    // SAFETY: prctl(2) in the child before exec: Ansible dies with granule
    // (kill -9 included) instead of running on unobserved.
    unsafe {
        command.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
    if ansible.check {
        command.arg("--check");
    }
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(err) => {
            // Nothing ran: the run is over, not cut off.
            write(
                &mut journal,
                observer,
                Record::RunFinished {
                    ts: time::now(),
                    run,
                    outcome: RunOutcome::Failed,
                },
            )?;
            return Err(ExecError::Usage(format!(
                "cannot run `{}`: {err}; install ansible-core (`pip install ansible-core`) or pass --ansible-playbook PATH",
                ansible.program.display()
            )));
        }
    };

    let group = child.id() as i32;
    let mut interrupted = false;
    let signals = if config.handle_signals {
        let mut signals = signal_hook::iterator::Signals::new([
            signal_hook::consts::SIGINT,
            signal_hook::consts::SIGTERM,
        ])
        .map_err(io_error(dir))?;
        let handle = signals.handle();
        let thread = std::thread::spawn(move || {
            let mut count = 0;
            for _ in signals.forever() {
                count += 1;
                // SAFETY: signals the process group of the child we started.
                unsafe {
                    libc::kill(
                        -group,
                        if count == 1 {
                            libc::SIGINT
                        } else {
                            libc::SIGKILL
                        },
                    );
                }
                if count == 1 {
                    // ansible-playbook sometimes hangs after SIGINT, its
                    // workers gone: past a grace period the group is
                    // killed, so a Ctrl-C always ends the run.
                    std::thread::spawn(move || {
                        std::thread::sleep(INTERRUPT_GRACE);
                        // SAFETY: as above; ESRCH when the group is gone.
                        unsafe {
                            libc::kill(-group, libc::SIGKILL);
                        }
                    });
                }
            }
            count
        });
        Some((handle, thread))
    } else {
        None
    };
    let stdout = child.stdout.take().expect("piped stdout");
    let mut noise = log;
    for line in BufReader::new(stdout).lines() {
        let Ok(line) = line else { break };
        match serde_json::from_str::<Record>(&line) {
            Ok(record) => observer.event(plan, Event::Record(&record)),
            Err(_) => {
                use std::io::Write;
                let _ = writeln!(noise, "{line}");
            }
        }
    }
    let status = child.wait().map_err(io_error(dir))?;
    if let Some((handle, thread)) = signals {
        handle.close();
        interrupted = thread.join().unwrap_or(0) > 0;
    }
    // Reopen: the callback appended to the same file.
    let mut journal = JournalWriter::open(&journal_path).map_err(io_error(&journal_path))?;
    let mut reported = reported_results(&journal_path, run)?;
    let stopped = read_stop(&control).or_else(|| {
        // The filter sees a stop condition when a task asks to start: when
        // the last instance of the --stop-after task ends after every other
        // task has asked (the rest wait behind it), none asks again.
        let task = stop_after?;
        execute::instances_of(plan, task)
            .into_iter()
            .all(|id| {
                let key = (plan.node_name(id).to_string(), plan.task_id(id).to_string());
                plan.instances[id as usize].disposition != Disposition::Run
                    || done[id as usize]
                    || reported
                        .get(&key)
                        .is_some_and(|result| result.state.is_done())
            })
            .then(|| (RunOutcome::Stopped, "--stop-after reached".to_string()))
    });
    if let Some((_, reason)) = &stopped {
        observer.event(plan, Event::Stopping { reason });
    }

    // The plan replayed with Ansible's outcomes: what it skipped, passed or
    // could not start because a need failed is journaled here.
    let mut scheduler = Scheduler::new(plan, usize::MAX, &done);
    let mut results: Vec<InstanceResult> = (0..plan.instances.len())
        .map(|_| InstanceResult {
            state: State::Waiting,
            attempt: 0,
            duration: None,
            message: None,
        })
        .collect();
    while let Some(id) = scheduler.start_next() {
        let key = (plan.node_name(id).to_string(), plan.task_id(id).to_string());
        match &plan.instances[id as usize].disposition {
            Disposition::SyncPoint => scheduler.finish(id, State::Succeeded),
            Disposition::Skip(reason) => {
                results[id as usize].message = Some(reason.clone());
                scheduler.finish(id, State::Skipped);
            }
            Disposition::Run => match reported.remove(&key) {
                Some(result) if result.state != State::Running => {
                    let state = result.state;
                    results[id as usize] = result;
                    scheduler.finish(id, state);
                }
                // Never finished: Ansible did not get to it (interrupted).
                _ => {}
            },
        }
    }
    for (id, state) in scheduler.take_transitions() {
        let instance = &plan.instances[id as usize];
        let derived = match state {
            State::Skipped | State::DependencyFailed => true,
            State::Succeeded => instance.disposition == Disposition::SyncPoint,
            _ => false,
        };
        if !derived {
            continue;
        }
        let message = match (&instance.disposition, state) {
            (Disposition::Skip(reason), State::Skipped) => Some(reason.clone()),
            _ => None,
        };
        write(
            &mut journal,
            observer,
            Record::State {
                ts: time::now(),
                run,
                node: plan.node_name(id).to_string(),
                task: plan.task_id(id).to_string(),
                state,
                attempt: None,
                exit_code: None,
                duration: None,
                message,
            },
        )?;
    }
    for (id, result) in results.iter_mut().enumerate() {
        result.state = match scheduler.state(id as u32) {
            // Started in the replay only: it did not run.
            State::Running => State::Pending,
            state => state,
        };
    }

    // ansible-playbook's exit status: 0 done, 2 a host failed, 4 a host
    // unreachable, 99 interrupted; anything else means it could not run
    // the playbook.
    const INTERRUPTED: i32 = 99;
    interrupted |= status.code() == Some(INTERRUPTED);
    let failed_to_start =
        !interrupted && status.code().is_some_and(|code| ![0, 2, 4].contains(&code));
    let outcome =
        if interrupted || (status.code().is_none() && !results.iter().all(|r| r.state.is_done())) {
            RunOutcome::Interrupted
        } else if failed_to_start || results.iter().any(|result| result.state.is_failure()) {
            RunOutcome::Failed
        } else if results.iter().all(|result| result.state.is_done()) {
            RunOutcome::Succeeded
        } else {
            stopped.map_or(RunOutcome::Failed, |(outcome, _)| outcome)
        };
    write(
        &mut journal,
        observer,
        Record::RunFinished {
            ts: time::now(),
            run,
            outcome,
        },
    )?;
    if failed_to_start {
        let text = std::fs::read_to_string(&log_path).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(12).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Err(ExecError::Usage(format!(
            "ansible-playbook failed ({status}); its last lines ({}):\n{}",
            log_path.display(),
            tail.join("\n")
        )));
    }
    Ok(Summary {
        outcome,
        results,
        already_done,
        journal: journal_path,
        elapsed: started.elapsed().as_secs_f64(),
    })
}

/// The run's control directory (see filter.py), made afresh: `run.json`
/// with --fail-fast, the instances --stop-after holds back, and those it
/// waits for.
fn write_control(
    plan: &Plan,
    config: &RunConfig,
    stop_after: Option<usize>,
    done: &[bool],
    control: &Path,
) -> std::io::Result<()> {
    if control.exists() {
        std::fs::remove_dir_all(control)?;
    }
    std::fs::create_dir_all(control)?;
    let (held, awaited) = match stop_after {
        Some(task) => {
            let roots = execute::instances_of(plan, task);
            let held: Vec<u32> = scheduler::after_instances(plan, &roots)
                .into_iter()
                .enumerate()
                .filter(|&(_, after)| after)
                .map(|(id, _)| id as u32)
                .collect();
            let awaited: Vec<u32> = roots
                .into_iter()
                .filter(|&id| {
                    plan.instances[id as usize].disposition == Disposition::Run
                        && !done[id as usize]
                })
                .collect();
            (held, awaited)
        }
        None => (Vec::new(), Vec::new()),
    };
    write_json(
        &control.join("run.json"),
        &json!({"fail_fast": config.fail_fast, "held": held, "stop_after": awaited}),
    )
}

/// Why the filter stopped the run, if it did: the outcome and the reason.
fn read_stop(control: &Path) -> Option<(RunOutcome, String)> {
    let text = std::fs::read_to_string(control.join("stop")).ok()?;
    let stop: Value = serde_json::from_str(&text).ok()?;
    let outcome = match stop["outcome"].as_str()? {
        "stopped" => RunOutcome::Stopped,
        _ => RunOutcome::Failed,
    };
    Some((outcome, stop["reason"].as_str()?.to_string()))
}

/// Where the commands of this state directory's runs leave their
/// done-markers on the nodes, relative to the login directory: one
/// directory per series of runs (a first run and its resumes), named after
/// the first run's start.
fn marker_dir(contents: &journal::JournalContents) -> String {
    let first = contents.records.iter().find_map(|record| match record {
        Record::RunStarted { ts, .. } => Some(ts.as_str()),
        _ => None,
    });
    format!(
        ".granule/runs/{}",
        safe_file_name(first.unwrap_or("unknown"))
    )
}

/// Per node, the tasks an earlier run started and never journaled as
/// ended: their command may have ended on the node after granule was killed.
fn cut_off<'a>(
    plan: &'a Plan,
    contents: &journal::JournalContents,
    done: &[bool],
) -> BTreeMap<&'a str, Vec<&'a str>> {
    let last = contents.last_states();
    let mut cut: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for id in 0..plan.instances.len() as u32 {
        let (node, task) = (plan.node_name(id), plan.task_id(id));
        if !done[id as usize]
            && last.get(&(node.to_string(), task.to_string())) == Some(&State::Running)
        {
            cut.entry(node).or_default().push(task);
        }
    }
    cut
}

/// What the callback journaled in run `run`: the last state of each
/// (node, task).
fn reported_results(
    journal_path: &Path,
    run: u32,
) -> Result<HashMap<(String, String), InstanceResult>, ExecError> {
    let contents = journal::read(journal_path).map_err(io_error(journal_path))?;
    let mut reported = HashMap::new();
    for record in contents.records {
        if let Record::State {
            run: of,
            node,
            task,
            state,
            attempt,
            duration,
            message,
            ..
        } = record
        {
            if of == run {
                let result = InstanceResult {
                    state,
                    attempt: attempt.unwrap_or(1),
                    duration,
                    message,
                };
                reported.insert((node, task), result);
            }
        }
    }
    Ok(reported)
}
