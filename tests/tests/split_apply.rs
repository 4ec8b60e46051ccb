//! `granule split` end to end with the real `puppet apply`, on the installer
//! fixture (fixtures/split/installer) once per role, and on the forced-merge
//! fixture: the monolith applied into one temporary root, the generated
//! tasks applied in task order into another, and the two trees compared
//! (paths, contents, modes); a second pass of the tasks must change nothing.
//!
//! Everything Puppet writes stays in the scratch directory: the fixture
//! confines its resources to the `granule_root` fact, and Puppet's own
//! directories (confdir, vardir, codedir, logdir) are set per root. The
//! generated tasks share one confdir per root because the `hiera` task
//! writes the Hiera configuration the later tasks read.

use granule_tests::executor::{exit_code, granule, scratch, text, tool_available};
use granule_tests::{repo_root, require_reference};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const ROLES: [&str; 2] = ["controller", "compute"];

/// A monolith of fixtures/split and what applying it needs.
struct Fixture {
    /// Its directory under fixtures/split.
    name: &'static str,
    /// The expression its site.pp branches on, when it has roles.
    role_var: Option<&'static str>,
    /// Whether it calls functions of the stdlib module.
    stdlib: bool,
}

/// The installer parses its settings with stdlib's `parseyaml` and takes
/// them from `settings/ROLE.yaml` as the `settings_yaml` fact.
const INSTALLER: Fixture = Fixture {
    name: "installer",
    role_var: Some("$role"),
    stdlib: true,
};

const FORCED_MERGES: Fixture = Fixture {
    name: "forced_merges",
    role_var: None,
    stdlib: false,
};

const STDLIB: &str = "/usr/share/puppet/modules/stdlib";

impl Fixture {
    fn dir(&self) -> PathBuf {
        repo_root().join("fixtures/split").join(self.name)
    }

    fn site(&self) -> PathBuf {
        self.dir().join("manifests/site.pp")
    }

    /// Puppet, and stdlib when the fixture needs it.
    fn references(&self, test: &str) -> Option<()> {
        require_reference(test, tool_available("puppet", "puppet"))?;
        let stdlib = Path::new(STDLIB);
        let found = if !self.stdlib || stdlib.join("metadata.json").exists() {
            Ok(())
        } else {
            Err(format!(
                "{} is missing: install the Debian package puppet-module-puppetlabs-stdlib",
                stdlib.display()
            ))
        };
        require_reference(test, found)
    }

    /// The fixture's modules, then (if it needs it) a directory holding only
    /// stdlib: the whole of /usr/share/puppet/modules would make Puppet load
    /// every module's facts, several seconds per run.
    fn modulepath(&self, dir: &Path) -> String {
        let modules = self.dir().join("modules").display().to_string();
        if !self.stdlib {
            return modules;
        }
        let vendor = dir.join("vendor");
        std::fs::create_dir_all(&vendor).expect("vendor directory");
        let link = vendor.join("stdlib");
        if !link.exists() {
            std::os::unix::fs::symlink(STDLIB, &link).expect("stdlib link");
        }
        format!("{modules}:{}", vendor.display())
    }

    /// The facts of a node of `role` besides its root: the role's settings
    /// document.
    fn facts(&self, role: Option<&str>) -> Vec<(String, String)> {
        let Some(role) = role else {
            return Vec::new();
        };
        let settings = self.dir().join("settings").join(format!("{role}.yaml"));
        let yaml = std::fs::read_to_string(&settings)
            .unwrap_or_else(|err| panic!("{}: {err}", settings.display()));
        vec![("settings_yaml".to_string(), yaml)]
    }
}

/// One machine to apply manifests on: the root the fixture writes into,
/// Puppet's own directories, and the facts of its role.
struct Node {
    root: PathBuf,
    puppet_dir: PathBuf,
    modulepath: String,
    facts: Vec<(String, String)>,
}

impl Node {
    fn new(dir: &Path, name: &str, modulepath: &str, facts: Vec<(String, String)>) -> Node {
        let root = dir.join(name).join("root");
        let puppet_dir = dir.join(name).join("puppet");
        std::fs::create_dir_all(&root).expect("root directory");
        Node {
            root,
            puppet_dir,
            modulepath: modulepath.to_string(),
            facts,
        }
    }

    /// `puppet apply --detailed-exitcodes MANIFEST`: its exit code and its
    /// output (stdout, then stderr).
    fn apply(&self, manifest: &Path) -> Applied {
        let mut command = Command::new("puppet");
        command
            .args(["apply", "--detailed-exitcodes", "--color=false"])
            .arg(format!("--modulepath={}", self.modulepath));
        command.args(granule_tests::puppet_dirs(&self.puppet_dir));
        for (fact, value) in &self.facts {
            command.env(format!("FACTER_{fact}"), value);
        }
        let output = command
            .arg(manifest)
            .env("FACTER_granule_root", &self.root)
            .output()
            .expect("puppet runs");
        Applied {
            manifest: manifest.to_path_buf(),
            code: exit_code(&output),
            log: format!("{}{}", text(&output.stdout), text(&output.stderr)),
        }
    }

    /// Runs OUT/ID/WHICH.sh (`pre` or `post`) against this node's confdir.
    fn test_script(&self, out: &Path, id: &str, which: &str) -> ScriptRun {
        let script = out.join(id).join(format!("{which}.sh"));
        let output = Command::new("sh")
            .arg(&script)
            .env("GRANULE_PUPPET_CONFDIR", self.puppet_dir.join("confdir"))
            .output()
            .expect("sh runs");
        ScriptRun { script, output }
    }
}

/// A task's `pre.sh` or `post.sh` run.
struct ScriptRun {
    script: PathBuf,
    output: Output,
}

impl ScriptRun {
    fn assert_passed(&self) {
        assert_eq!(
            exit_code(&self.output),
            0,
            "{} failed:\n{}{}",
            self.script.display(),
            text(&self.output.stdout),
            text(&self.output.stderr)
        );
    }
}

struct Applied {
    manifest: PathBuf,
    code: i32,
    log: String,
}

impl Applied {
    /// Exit 0 (no change) or 2 (changes), not 1, 4 or 6 (failures).
    fn assert_succeeded(&self) {
        assert!(
            self.code == 0 || self.code == 2,
            "puppet apply {} failed (exit {}):\n{}",
            self.manifest.display(),
            self.code,
            self.log
        );
    }

    /// Nothing changed: exit 0, or exit 2 where every change Puppet logged
    /// is a `notify` resource's message (Puppet logs those on every run).
    fn assert_changed_nothing(&self) {
        self.assert_succeeded();
        let changes: Vec<&str> = self
            .log
            .lines()
            .filter(|line| line.starts_with("Notice: /Stage["))
            .filter(|line| !line.contains("/Notify["))
            .collect();
        assert!(
            changes.is_empty() && (self.code == 0 || self.log.contains("/Notify[")),
            "a second `puppet apply {}` changed something (exit {}):\n{}",
            self.manifest.display(),
            self.code,
            changes.join("\n")
        );
    }
}

/// What a tree holds, per path relative to its root: the kind, the
/// permission bits and (for files) the content.
fn tree(root: &Path) -> BTreeMap<PathBuf, (&'static str, u32, Vec<u8>)> {
    walkdir::WalkDir::new(root)
        .min_depth(1)
        .sort_by_file_name()
        .into_iter()
        .map(|entry| {
            let entry = entry.expect("tree readable");
            let metadata = entry.path().symlink_metadata().expect("metadata");
            let mode = metadata.permissions().mode() & 0o7777;
            let (kind, content) = if metadata.is_dir() {
                ("directory", Vec::new())
            } else if metadata.file_type().is_symlink() {
                let target = std::fs::read_link(entry.path()).expect("link target");
                ("symlink", target.into_os_string().into_encoded_bytes())
            } else {
                ("file", std::fs::read(entry.path()).expect("file readable"))
            };
            let relative = entry.path().strip_prefix(root).unwrap().to_path_buf();
            (relative, (kind, mode, content))
        })
        .collect()
}

/// Asserts two trees are identical, naming every path that differs.
fn assert_same_tree(expected: &Path, actual: &Path, what: &str) {
    let (a, b) = (tree(expected), tree(actual));
    let paths: BTreeSet<&PathBuf> = a.keys().chain(b.keys()).collect();
    let mut differences = Vec::new();
    for path in paths {
        match (a.get(path), b.get(path)) {
            (Some(x), Some(y)) if x == y => {}
            (Some(_), None) => differences.push(format!("  {}: missing", path.display())),
            (None, Some(_)) => differences.push(format!("  {}: not expected", path.display())),
            (Some((kind_a, mode_a, content_a)), Some((kind_b, mode_b, content_b))) => differences
                .push(format!(
                    "  {}: expected {kind_a} {mode_a:04o} {:?}, found {kind_b} {mode_b:04o} {:?}",
                    path.display(),
                    String::from_utf8_lossy(content_a),
                    String::from_utf8_lossy(content_b)
                )),
            (None, None) => unreachable!("the path came from one of the trees"),
        }
    }
    assert!(
        differences.is_empty(),
        "{what}: {} differs from {}:\n{}",
        actual.display(),
        expected.display(),
        differences.join("\n")
    );
}

/// Applies the monolith on a fresh node and checks that the second run
/// changes nothing.
fn apply_monolith(fixture: &Fixture, dir: &Path, role: Option<&str>) -> Node {
    let node = Node::new(
        dir,
        "monolith",
        &fixture.modulepath(dir),
        fixture.facts(role),
    );
    let first = node.apply(&fixture.site());
    first.assert_succeeded();
    assert_eq!(first.code, 2, "the first run changes the empty root");
    node.apply(&fixture.site()).assert_changed_nothing();
    node
}

/// The paths and modes the monolith leaves in the root, for a role: what
/// the fixture's manifests declare (execs' files get the default 0644).
fn expected_paths(role: &str) -> BTreeMap<&'static str, u32> {
    let shared = [
        ("etc", 0o755),
        ("etc/hosts", 0o644),
        ("etc/motd", 0o644),
        ("etc/nova", 0o755),
        ("etc/nova/nova.conf", 0o640),
        ("etc/role", 0o644),
        ("var", 0o755),
        ("var/lib", 0o755),
        ("var/lib/nova", 0o750),
        ("var/log", 0o755),
        ("var/log/nova", 0o750),
    ];
    let controller = [
        ("etc/dashboard", 0o755),
        ("etc/dashboard/local_settings.py", 0o644),
        ("etc/keystone", 0o755),
        ("etc/keystone/keystone.conf", 0o640),
        ("etc/mysql", 0o755),
        ("etc/mysql/my.cnf", 0o640),
        ("etc/nova/api-paste.ini", 0o644),
        ("etc/rabbitmq", 0o755),
        ("etc/rabbitmq/rabbitmq.config", 0o644),
        ("etc/rabbitmq/users.d", 0o755),
        ("etc/rabbitmq/users.d/keystone", 0o600),
        ("etc/rabbitmq/users.d/nova", 0o600),
        ("var/lib/dashboard", 0o750),
        ("var/lib/dashboard/compressed", 0o644),
        ("var/lib/keystone", 0o750),
        ("var/lib/keystone/bootstrapped", 0o644),
        ("var/lib/mysql", 0o750),
        ("var/lib/mysql/ibdata1", 0o644),
        ("var/lib/mysql/keystone.db", 0o644),
        ("var/lib/mysql/nova.db", 0o644),
        ("var/lib/nova/cells", 0o644),
        ("var/lib/rabbitmq", 0o750),
        ("var/log/dashboard", 0o750),
        ("var/log/dashboard/static.log", 0o644),
        ("var/log/keystone", 0o750),
        ("var/log/keystone/db_sync.log", 0o644),
        ("var/log/mysql", 0o750),
        ("var/log/mysql/restarts.log", 0o644),
        ("var/log/nova/db_sync.log", 0o644),
        ("var/log/rabbitmq", 0o750),
        ("var/log/rabbitmq/reloads.log", 0o644),
    ];
    let compute = [
        ("etc/nova/nova-compute.conf", 0o644),
        ("var/lib/nova/registered", 0o644),
        ("var/log/nova/compute.log", 0o644),
    ];
    let own: &[(&str, u32)] = if role == "controller" {
        &controller
    } else {
        &compute
    };
    shared.iter().chain(own).copied().collect()
}

fn read(root: &Path, path: &str) -> String {
    std::fs::read_to_string(root.join(path))
        .unwrap_or_else(|err| panic!("{}: {err}", root.join(path).display()))
}

/// The monolith half on its own: what the installer leaves in the root for
/// each role, before any split.
#[test]
fn the_installer_monolith_builds_each_roles_tree() {
    let test = "split_installer_monolith";
    if INSTALLER.references(test).is_none() {
        return;
    }
    for role in ROLES {
        let dir = scratch(&format!("{test}_{role}"));
        let node = apply_monolith(&INSTALLER, &dir, Some(role));
        let root = &node.root;
        let found: BTreeMap<String, u32> = tree(root)
            .into_iter()
            .map(|(path, (_, mode, _))| (path.display().to_string(), mode))
            .collect();
        let expected: BTreeMap<String, u32> = expected_paths(role)
            .into_iter()
            .map(|(path, mode)| (path.to_string(), mode))
            .collect();
        assert_eq!(found, expected, "{role}: paths and modes under the root");

        // Top-scope data from the parsed settings reached the templates.
        assert_eq!(read(root, "etc/role"), format!("{role} of granule-lab\n"));
        assert!(read(root, "etc/motd").contains(&format!("This node is a {role}")));
        assert!(read(root, "etc/hosts").contains("192.0.2.10 controller"));
        assert!(read(root, "etc/nova/nova.conf").contains("rabbit://nova:rabbit-secret@192.0.2.10"));
        if role == "controller" {
            assert!(read(root, "etc/keystone/keystone.conf").contains("admin_token = token-123"));
            assert!(read(root, "etc/dashboard/local_settings.py").contains("DEBUG = True"));
            // Each refresh ran once, in the first run only.
            assert_eq!(read(root, "var/log/keystone/db_sync.log"), "db_sync\n");
            assert_eq!(read(root, "var/log/mysql/restarts.log"), "restarted\n");
            assert_eq!(read(root, "var/log/rabbitmq/reloads.log"), "reloaded\n");
            assert_eq!(read(root, "var/lib/mysql/nova.db"), "nova@localhost\n");
        } else {
            assert_eq!(
                read(root, "etc/nova/nova-compute.conf"),
                "[libvirt]\nvirt_type = qemu\n"
            );
            assert_eq!(read(root, "var/lib/nova/registered"), "192.0.2.10\n");
            assert_eq!(read(root, "var/log/nova/compute.log"), "restarted\n");
        }
    }
}

/// One task of `tasks.yaml`, as `granule tasks list --format json` reads it.
struct TaskView {
    id: String,
    roles: Vec<String>,
    requires: Vec<String>,
    required_for: Vec<String>,
}

fn task_views(tasks_yaml: &Path) -> Vec<TaskView> {
    let output = Command::new(granule())
        .args(["tasks", "list", "--format", "json"])
        .arg(tasks_yaml)
        .output()
        .expect("granule runs");
    assert_eq!(exit_code(&output), 0, "{}", text(&output.stderr));
    let strings = |value: &Value| -> Vec<String> {
        value
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(|item| item.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    text(&output.stdout)
        .lines()
        .map(|line| {
            let task: Value = serde_json::from_str(line)
                .unwrap_or_else(|err| panic!("bad `granule tasks list` line {line:?}: {err}"));
            TaskView {
                id: task["id"].as_str().expect("a task id").to_string(),
                roles: strings(&task["roles"]),
                requires: strings(&task["requires"]),
                required_for: strings(&task["required_for"]),
            }
        })
        .collect()
}

/// The ids of the tasks of `role` (all tasks without one), in an order that respects `requires`
/// and `required_for`. As in Fuel, the tasks of other roles stay in the
/// graph (skipped), so an order through them still holds. Of the tasks
/// ready at each step it takes the last in the file: any order the
/// descriptors allow must work, and this one does not hide an edge they
/// lack behind the order of the file. Panics on a cycle.
fn task_order(tasks: &[TaskView], role: Option<&str>) -> Vec<String> {
    let mut before: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for task in tasks {
        before.entry(&task.id).or_default();
        for first in &task.requires {
            before.entry(&task.id).or_default().insert(first);
        }
        for then in &task.required_for {
            before.entry(then).or_default().insert(&task.id);
        }
    }
    let known: BTreeSet<&str> = tasks.iter().map(|task| task.id.as_str()).collect();
    for (id, firsts) in &before {
        let missing: Vec<&&str> = firsts
            .iter()
            .filter(|first| !known.contains(**first))
            .collect();
        assert!(
            missing.is_empty(),
            "task {id} is ordered against unknown tasks {missing:?}"
        );
    }
    let mut order: Vec<&TaskView> = Vec::new();
    while order.len() < tasks.len() {
        let next = tasks
            .iter()
            .rev()
            .find(|task| {
                !order.iter().any(|done| done.id == task.id)
                    && before[task.id.as_str()]
                        .iter()
                        .all(|first| order.iter().any(|done| done.id == *first))
            })
            .unwrap_or_else(|| panic!("the tasks form a cycle: {before:?}"));
        order.push(next);
    }
    order
        .into_iter()
        .filter(|task| role.is_none_or(|role| task.roles.iter().any(|r| r == role)))
        .map(|task| task.id.clone())
        .collect()
}

/// `granule split --verify` of the fixture into `out`: the static check
/// must pass before the real one.
fn split(fixture: &Fixture, out: &Path, modulepath: &str) {
    let mut command = Command::new(granule());
    command
        .args(["split", "--modulepath", modulepath, "--entry"])
        .arg(fixture.site());
    if let Some(role_var) = fixture.role_var {
        command.args(["--role-var", role_var]);
    }
    let output = command
        .arg("-o")
        .arg(out)
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
}

/// The contract of `tasks.yaml` this test relies on: `globals` and `hiera`
/// first, every task's manifest at ID/ID.pp and its tests ID/pre.sh and
/// ID/post.sh, named relative to the output directory, the module path as
/// given.
fn check_descriptors(out: &Path, tasks: &[TaskView], modulepath: &str) {
    let ids: Vec<&str> = tasks.iter().map(|task| task.id.as_str()).collect();
    assert!(
        ids.len() > 2 && ids[0] == "globals" && ids[1] == "hiera",
        "tasks.yaml must start with globals and hiera: {ids:?}"
    );
    let yaml = std::fs::read_to_string(out.join("tasks.yaml")).expect("tasks.yaml");
    for id in ids {
        let manifest = out.join(id).join(format!("{id}.pp"));
        assert!(manifest.is_file(), "{} is missing", manifest.display());
        for written in [
            format!("puppet_manifest: {id}/{id}.pp\n"),
            format!("cmd: sh pre.sh\n    cwd: {id}\n"),
            format!("cmd: sh post.sh\n    cwd: {id}\n"),
        ] {
            assert!(
                yaml.contains(&written),
                "tasks.yaml does not hold `{written}` for task {id}:\n{yaml}"
            );
        }
    }
    assert!(
        yaml.contains(&format!("puppet_modules: {modulepath}")),
        "tasks.yaml does not name the module path {modulepath}"
    );
}

/// For one role (or the fixture without roles): the monolith into root A;
/// the split's tasks of the role, in task order, into root B with its own
/// confdir, each task between its pre-test and its post-test; A and B
/// identical; a second pass of the tasks changes nothing.
fn tasks_rebuild_the_monolith(fixture: &Fixture, role: Option<&str>) {
    let test = format!("split_{}_tasks_{}", fixture.name, role.unwrap_or("all"));
    if fixture.references(&test).is_none() {
        return;
    }
    let dir = scratch(&test);
    let modulepath = fixture.modulepath(&dir);
    let monolith = apply_monolith(fixture, &dir, role);

    let out = dir.join("split");
    split(fixture, &out, &modulepath);
    let tasks = task_views(&out.join("tasks.yaml"));
    check_descriptors(&out, &tasks, &modulepath);
    let order = task_order(&tasks, role);
    let manifest = |id: &str| out.join(id).join(format!("{id}.pp"));

    let node = Node::new(&dir, "tasks", &modulepath, fixture.facts(role));
    // The node's own Hiera data (the deployment's), which the hiera task
    // must keep when it adds granule's.
    let confdir = node.puppet_dir.join("confdir");
    std::fs::create_dir_all(confdir.join("data")).expect("the node's confdir");
    std::fs::write(
        confdir.join("hiera.yaml"),
        "---\nversion: 5\nhierarchy:\n  - name: deployment\n    path: deployment.yaml\n    \
         datadir: data\n    data_hash: yaml_data\n",
    )
    .expect("the node's hiera.yaml");
    std::fs::write(
        confdir.join("data/deployment.yaml"),
        "granule_test::kept: deployment data\n",
    )
    .expect("the node's Hiera data");
    let reader = order
        .iter()
        .rev()
        .find(|id| {
            std::fs::read_to_string(out.join(id).join("pre.sh"))
                .is_ok_and(|script| script.contains("for key in"))
        })
        .expect("a task of the role reads the monolith's data");
    assert_ne!(
        exit_code(&node.test_script(&out, reader, "pre").output),
        0,
        "the pre-test of {reader} passes before the globals task wrote any data"
    );
    for id in &order {
        node.test_script(&out, id, "pre").assert_passed();
        node.apply(&manifest(id)).assert_succeeded();
        node.test_script(&out, id, "post").assert_passed();
    }
    let what = format!("{} {}", fixture.name, role.unwrap_or(""));
    // Both the deployment's data and granule's are found (a key of the
    // globals task's file, looked up through Hiera).
    let globals = std::fs::read_to_string(confdir.join("granule/globals.json"))
        .expect("the globals task's data");
    let globals: serde_json::Map<String, Value> =
        serde_json::from_str(&globals).expect("globals.json is a JSON object");
    let key = globals.keys().next().expect("the globals task writes data");
    let lookups = dir.join("lookups.pp");
    std::fs::write(
        &lookups,
        format!(
            "notice(\"kept: ${{lookup('granule_test::kept')}}\")\n\
             notice(\"granule: ${{lookup('{key}', {{ 'default_value' => 'missing' }}) != 'missing'}}\")\n"
        ),
    )
    .expect("a manifest of lookups");
    let looked_up = node.apply(&lookups);
    looked_up.assert_succeeded();
    assert!(
        looked_up.log.contains("kept: deployment data") && looked_up.log.contains("granule: true"),
        "{what}: after the hiera task, Hiera finds the node's own data and granule's:\n{}\n{}",
        looked_up.log,
        std::fs::read_to_string(confdir.join("hiera.yaml")).unwrap_or_default()
    );
    assert_same_tree(
        &monolith.root,
        &node.root,
        &format!("{what}: the tasks {order:?} applied in order"),
    );

    for id in &order {
        node.apply(&manifest(id)).assert_changed_nothing();
    }
    assert_same_tree(
        &monolith.root,
        &node.root,
        &format!("{what}: after a second pass of the tasks"),
    );
}

#[test]
fn the_installers_controller_tasks_rebuild_the_monolith_tree() {
    tasks_rebuild_the_monolith(&INSTALLER, Some("controller"));
}

#[test]
fn the_installers_compute_tasks_rebuild_the_monolith_tree() {
    tasks_rebuild_the_monolith(&INSTALLER, Some("compute"));
}

/// What split_merges checks in the report must also hold on disk: tasks
/// that cut a refresh, a cycle or a shared resource fail or differ here.
#[test]
fn the_forced_merge_fixtures_tasks_rebuild_the_monolith_tree() {
    tasks_rebuild_the_monolith(&FORCED_MERGES, None);
}

/// A split moved elsewhere after it was written still runs: `granule run`,
/// started from another directory, finds each task's manifest and tests
/// beside the moved tasks.yaml, and the controller's tasks build the
/// monolith's tree.
#[test]
fn a_moved_split_runs_where_it_now_is() {
    let test = "split_installer_moved_and_run";
    let fixture = &INSTALLER;
    if fixture.references(test).is_none() {
        return;
    }
    let role = "controller";
    let dir = scratch(test);
    let modulepath = fixture.modulepath(&dir);
    let monolith = apply_monolith(fixture, &dir, Some(role));
    let written = dir.join("split");
    split(fixture, &written, &modulepath);
    let moved = dir.join("elsewhere/moved");
    std::fs::create_dir_all(moved.parent().unwrap()).expect("a new parent");
    std::fs::rename(&written, &moved).expect("the split moved");

    let node = Node::new(&dir, "tasks", &modulepath, fixture.facts(Some(role)));
    let mut command = Command::new(granule());
    command
        .current_dir(&dir)
        .args(["run", "--role", role, "--state-dir", "state", "--tasks"])
        .arg(moved.join("tasks.yaml"));
    for setting in granule_tests::puppet_dirs(&node.puppet_dir) {
        command.arg(format!("--puppet-arg={setting}"));
    }
    for (fact, value) in &node.facts {
        command.env(format!("FACTER_{fact}"), value);
    }
    let output = command
        .env("FACTER_granule_root", &node.root)
        .env("GRANULE_PUPPET_CONFDIR", node.puppet_dir.join("confdir"))
        .output()
        .expect("granule runs");
    assert_eq!(
        exit_code(&output),
        0,
        "granule run of the moved split failed:\n{}{}",
        text(&output.stdout),
        text(&output.stderr)
    );
    assert_same_tree(
        &monolith.root,
        &node.root,
        "the moved split's controller tasks run by granule run",
    );
}
