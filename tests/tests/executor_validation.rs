//! Descriptor and inventory errors: each names the file, line and task,
//! says what is wrong and what to do; nothing runs. Plus the one task type
//! granule refuses on the local node: reboot.

use granule_tests::executor::{exit_code, granule_in, intervals, journal, scratch, text};

/// `granule tasks validate` on one file: (exit code, stderr).
fn validate(test: &str, yaml: &str) -> (i32, String) {
    let dir = scratch(test);
    std::fs::write(dir.join("tasks.yaml"), yaml).unwrap();
    let output = granule_in(&dir, &["tasks", "validate", "tasks.yaml"]);
    (exit_code(&output), text(&output.stderr))
}

const OK: &str = "  role: [x]\n  parameters: {cmd: 'true'}\n";

#[test]
fn unknown_fields_and_parameters_are_named_with_their_line() {
    let (code, stderr) = validate(
        "validate_unknown_field",
        &format!("- id: a\n  type: shell\n{OK}  requirez: [b]\n"),
    );
    assert_eq!(code, 2);
    assert!(
        stderr.contains("error: tasks.yaml:5:3: unknown field `requirez`")
            && stderr.contains("help: did you mean `requires`?"),
        "{stderr}"
    );
    // Fuel ignored the parameters a type does not use: a warning, at the
    // parameter.
    let (code, stderr) = validate(
        "validate_unknown_parameter",
        "- id: p\n  type: puppet\n  role: [x]\n  parameters: {puppet_manifest: site.pp, manifest: site.pp}\n",
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("warning: tasks.yaml:4:42: task `p`: parameter `manifest` is not used by a `puppet` task; it is ignored")
            && stderr.contains("help: parameters of `puppet` tasks: puppet_manifest"),
        "{stderr}"
    );
    let (code, stderr) = validate(
        "validate_unknown_type",
        "- id: t\n  type: ansible\n  role: [x]\n",
    );
    assert_eq!(code, 2);
    assert!(
        stderr.contains("task `t`: unknown task type `ansible`")
            && stderr.contains("puppet, shell"),
        "{stderr}"
    );
}

#[test]
fn duplicate_ids_missing_references_cycles_and_roleless_tasks() {
    let (code, stderr) = validate(
        "validate_duplicate",
        &format!("- id: a\n  type: shell\n{OK}- id: a\n  type: shell\n{OK}"),
    );
    assert_eq!(code, 2);
    assert!(
        stderr.contains("tasks.yaml:5:3: task `a`: duplicate task id")
            && stderr.contains("first declared at tasks.yaml:1:3"),
        "{stderr}"
    );

    let (code, stderr) = validate(
        "validate_missing",
        &format!("- id: netconfig\n  type: shell\n{OK}- id: b\n  type: shell\n  requires: [netconfg]\n{OK}"),
    );
    assert_eq!(code, 2);
    assert!(
        stderr.contains("task `b`: `requires` names `netconfg`, which no task file declares")
            && stderr.contains("did you mean `netconfig`?"),
        "{stderr}"
    );

    let (code, stderr) = validate(
        "validate_cycle",
        &format!(
            "- id: a\n  type: shell\n  requires: [c]\n{OK}- id: b\n  type: shell\n  requires: [a]\n{OK}- id: c\n  type: shell\n  required_for: [a]\n  requires: [b]\n{OK}"
        ),
    );
    assert_eq!(code, 2);
    assert!(
        stderr.contains("dependency cycle: a -> b -> c -> a"),
        "{stderr}"
    );

    let (code, stderr) = validate(
        "validate_roleless",
        "- id: lonely\n  type: shell\n  parameters: {cmd: 'true'}\n",
    );
    assert_eq!(code, 2);
    assert!(
        stderr.contains("task `lonely`: no role selects this task") && stderr.contains("help:"),
        "{stderr}"
    );

    // Every problem of a stage is reported, not only the first (the file's
    // own errors first; references once the files are right).
    let (_, stderr) = validate(
        "validate_several",
        "- id: x\n  type: puppet\n  role: [r]\n  parameters: {}\n- id: z\n  type: shell\n  role: [r]\n  parameters: {}\n",
    );
    assert!(
        stderr.contains("task `x`: a `puppet` task needs `parameters.puppet_manifest`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("task `z`: a `shell` task needs `parameters.cmd`"),
        "{stderr}"
    );
    assert!(stderr.trim_end().ends_with("2 errors"), "{stderr}");
}

#[test]
fn cross_node_cycles_and_inventory_errors_stop_before_running() {
    let dir = scratch("validate_plan");
    std::fs::write(
        dir.join("tasks.yaml"),
        "- id: a\n  type: shell\n  version: 2.0.0\n  role: [one]\n  parameters: {cmd: 'touch ran'}\n  cross-depends: [{name: b, role: [two]}]\n\
         - id: b\n  type: shell\n  version: 2.0.0\n  role: [two]\n  parameters: {cmd: 'touch ran'}\n  cross-depends: [{name: a, role: [one]}]\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("nodes.yaml"),
        "nodes:\n  - name: n1\n    roles: [one]\n  - name: n2\n    roles: [two]\n",
    )
    .unwrap();
    let output = granule_in(
        &dir,
        &["run", "--tasks", "tasks.yaml", "--inventory", "nodes.yaml"],
    );
    assert_eq!(exit_code(&output), 2);
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("dependency cycle across nodes: ")
            && stderr.contains("a@n1")
            && stderr.contains("b@n2"),
        "{stderr}"
    );
    assert!(!dir.join("ran").exists() && !dir.join(".granule").exists());

    std::fs::write(
        dir.join("bad-nodes.yaml"),
        "nodes:\n  - name: n1\n    roles: [one]\n    transport: telnet\n  - name: n2\n    transport: ssh\n  - name: n1\n",
    )
    .unwrap();
    let output = granule_in(
        &dir,
        &[
            "run",
            "--tasks",
            "tasks.yaml",
            "--inventory",
            "bad-nodes.yaml",
        ],
    );
    assert_eq!(exit_code(&output), 2);
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("bad-nodes.yaml:2:5: node `n1`: unknown transport `telnet`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("bad-nodes.yaml:5:5: node `n2` uses ssh but has no `host`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("bad-nodes.yaml:7:5: node `n1` is declared twice")
            && stderr.contains("first declared on line 2"),
        "{stderr}"
    );

    let output = granule_in(&dir, &["run", "--tasks", "tasks.yaml"]);
    assert_eq!(exit_code(&output), 2);
    assert!(
        text(&output.stderr).contains("--role ROLE"),
        "{}",
        text(&output.stderr)
    );
}

#[test]
fn reboot_of_the_local_node_is_refused_unless_allowed() {
    let dir = scratch("reboot_refused");
    std::fs::write(
        dir.join("tasks.yaml"),
        "- id: reboot\n  type: reboot\n  version: 2.0.0\n  role: [any]\n  parameters: {timeout: 600}\n\
         - id: after\n  type: shell\n  version: 2.0.0\n  role: [any]\n  requires: [reboot]\n  parameters: {cmd: 'touch after'}\n",
    )
    .unwrap();
    let output = granule_in(
        &dir,
        &[
            "run",
            "--tasks",
            "tasks.yaml",
            "--role",
            "any",
            "--state-dir",
            "state",
        ],
    );
    assert_eq!(exit_code(&output), 1);
    let stderr = text(&output.stderr);
    assert!(
        stderr
            .contains("refusing to reboot the machine granule runs on; pass --allow-local-reboot"),
        "{stderr}"
    );
    let spans = intervals(&journal(&dir.join("state")));
    assert_eq!(spans[&("local".into(), "reboot".into())].state, "failed");
    assert_eq!(
        spans[&("local".into(), "after".into())].state,
        "dependency-failed"
    );
    assert!(!dir.join("after").exists());
}

#[test]
fn directories_are_searched_recursively_for_descriptor_files() {
    let dir = scratch("validate_directories");
    let write = |path: &str, id: &str| {
        let path = dir.join("deployment").join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, format!("- id: {id}\n  type: shell\n{OK}")).unwrap();
    };
    write("netconfig/tasks.yaml", "netconfig");
    write("openstack/keystone/deployment_tasks.yaml", "keystone");
    write("openstack/nova.tasks.yaml", "nova");
    write("openstack/notes.yaml", "not_a_task_file");
    let output = granule_in(&dir, &["tasks", "list", "deployment", "--format", "json"]);
    assert_eq!(exit_code(&output), 0, "{}", text(&output.stderr));
    let ids: Vec<String> = text(&output.stdout)
        .lines()
        .map(|line| {
            let task: serde_json::Value = serde_json::from_str(line).unwrap();
            task["id"].as_str().unwrap().to_string()
        })
        .collect();
    // In path order, directories and files sorted by name.
    assert_eq!(ids, ["netconfig", "keystone", "nova"]);

    std::fs::create_dir_all(dir.join("empty")).unwrap();
    let output = granule_in(&dir, &["tasks", "validate", "empty", "nowhere.yaml"]);
    assert_eq!(exit_code(&output), 2);
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("empty: no tasks.yaml file in this directory"),
        "{stderr}"
    );
    assert!(
        stderr.contains("nowhere.yaml: no such file or directory"),
        "{stderr}"
    );
}

#[test]
fn what_fuel_accepted_loads_with_warnings_naming_file_and_line() {
    let yaml = "\
- id: a
  type: shell
  version: 2.0.0
  role: [x]
  requires: []
  requires: [b]
  parameters: {cmd: 'true', strategy: {type: parallel, amount: {yaql_exp: '1 + 1'}}}
  cross-depends:
    yaql_exp: '[{name => b, role => self}]'
- id: b
  type: skipped
  version: 2.0.0
  role: [x]
  parameters: {cmd: 'rm -f /tmp/x'}
- id: up
  type: upload_file
  version: 2.0.0
  role: [x]
  parameters: {data: {yaql_exp: '$.toYaml()'}, dir_permissions: '0750'}
";
    let (code, stderr) = validate("validate_fuel_tolerance", yaml);
    assert_eq!(code, 0, "{stderr}");
    for expected in [
        "warning: tasks.yaml:5:3: duplicate key `requires` (also on line 6): the later one is used, as Fuel's loader did",
        "warning: tasks.yaml:10:3: task `b`: parameter `cmd` is not used by a `skipped` task; it is ignored",
        "warning: tasks.yaml:15:3: task `up`: parameter `dir_permissions` is not used by a `upload_file` task; it is ignored",
    ] {
        assert!(stderr.contains(expected), "{expected}\n---\n{stderr}");
    }

    // A YAQL syntax error is an error, with the task's place.
    let (code, stderr) = validate(
        "validate_yaql_syntax",
        "- id: c\n  type: shell\n  version: 2.0.0\n  role: [x]\n  condition: {yaql_exp: 'changed($.a'}\n  parameters: {cmd: 'true'}\n",
    );
    assert_eq!(code, 2);
    assert!(
        stderr.contains("error: tasks.yaml:1:3: task `c`: condition: YAQL syntax error: expected `,` or `)`, found end of the expression"),
        "{stderr}"
    );
}

#[test]
fn parameters_fuel_filled_in_fail_when_the_task_runs_saying_what_it_needs() {
    let dir = scratch("validate_unfilled");
    std::fs::write(
        dir.join("tasks.yaml"),
        "\
- id: upload
  type: upload_file
  role: [x]
  parameters: {data: 'x'}
- id: link
  type: shell
  role: [x]
  parameters: {cmd: 'ln -sf /etc/fuel/cluster/{CLUSTER_ID}/node.yaml /tmp/node.yaml'}
- id: computed
  type: upload_file
  version: 2.0.0
  role: [x]
  parameters: {path: out.yaml, data: {yaql_exp: '$.toYaml()'}}
",
    )
    .unwrap();
    let output = granule_in(&dir, &["tasks", "validate", "tasks.yaml"]);
    assert_eq!(exit_code(&output), 0, "{}", text(&output.stderr));
    let output = granule_in(
        &dir,
        &[
            "run",
            "--tasks",
            "tasks.yaml",
            "--role",
            "x",
            "--format",
            "json",
        ],
    );
    assert_eq!(exit_code(&output), 1, "{}", text(&output.stderr));
    let records = journal(&dir.join(".granule/run"));
    let message = |task: &str| {
        records
            .iter()
            .rev()
            .find(|record| record["task"] == task && record["state"] == "failed")
            .and_then(|record| record["message"].as_str())
            .unwrap_or_else(|| panic!("{task} did not fail: {records:?}"))
            .to_string()
    };
    assert!(message("upload")
        .contains("no `parameters.path`: Fuel's Nailgun filled it in at deployment time"));
    assert!(message("link").contains("`{CLUSTER_ID}` in this task's parameters was filled in by Fuel's Nailgun at deployment time"));
    assert!(message("computed").contains("pass that data with --data"));

    // With the node's data, the upload's content is computed from it.
    std::fs::write(dir.join("node.yaml"), "uid: '7'\nroles: [x]\n").unwrap();
    let output = granule_in(
        &dir,
        &[
            "run",
            "--tasks",
            "tasks.yaml",
            "--role",
            "x",
            "--data",
            "node.yaml",
            "--only",
            "computed",
            "--restart",
        ],
    );
    assert_eq!(exit_code(&output), 0, "{}", text(&output.stderr));
    let written = std::fs::read_to_string(dir.join("out.yaml")).unwrap();
    assert_eq!(written, "uid: \"7\"\nroles:\n- x\n");
}

#[test]
fn fuel_trees_validate() {
    for tree in ["fuel-library-2015", "fuel-library-2019"] {
        let Some(root) = granule_tests::require_reference(
            "fuel_trees_validate",
            granule_tests::fuel_data::fuel_tree(tree),
        ) else {
            return;
        };
        let dir = scratch("validate_fuel_trees");
        let output = granule_in(&dir, &["tasks", "validate", root.to_str().unwrap()]);
        let stderr = text(&output.stderr);
        assert_eq!(exit_code(&output), 0, "{tree}: {stderr}");
        // Every warning names its file and line.
        for line in stderr.lines().filter(|line| line.starts_with("warning:")) {
            assert!(line.contains("tasks.yaml:"), "{line}");
        }
    }
}
