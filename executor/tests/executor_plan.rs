//! Planning and scheduling rules on small task sets, through the public
//! API: cross-node links (`policy`, `role: self`, regex names), strategies,
//! -j, links through tasks a node lacks, failure propagation.

use granule_executor::descriptor::parse_file;
use granule_executor::inventory::{Inventory, Node, Transport};
use granule_executor::plan::Disposition;
use granule_executor::scheduler::{simulate, Scheduler};
use granule_executor::{Catalog, Diagnostics, Plan, Selection, State, TaskSet};
use std::path::Path;

fn nodes(spec: &[(&str, &str)]) -> Inventory {
    let mut inventory = Inventory::local(Vec::new());
    inventory.nodes = spec
        .iter()
        .map(|(name, role)| Node {
            name: name.to_string(),
            roles: vec![role.to_string()],
            transport: Transport::Local,
            data: None,
            previous_data: None,
        })
        .collect();
    inventory
}

fn plan(yaml: &str, inventory: &Inventory) -> Plan {
    let mut set = TaskSet::default();
    let mut errors = Diagnostics::default();
    parse_file(Path::new("t.yaml"), yaml, &mut set, &mut errors);
    assert!(errors.is_empty(), "{errors}");
    let catalog = Catalog::build(&set).unwrap_or_else(|e| panic!("{e}"));
    Plan::build(catalog, inventory, &Selection::default()).unwrap_or_else(|e| panic!("{e}"))
}

/// The plan's edges as "task@node -> task@node", sorted.
fn edges(plan: &Plan) -> Vec<String> {
    let mut list: Vec<String> = plan
        .successors
        .iter()
        .enumerate()
        .flat_map(|(from, to)| {
            to.iter().map(move |&to| {
                format!(
                    "{}@{} -> {}@{}",
                    plan.task_id(from as u32),
                    plan.node_name(from as u32),
                    plan.task_id(to),
                    plan.node_name(to)
                )
            })
        })
        .collect();
    list.sort();
    list
}

fn shell(id: &str, roles: &str, extra: &str) -> String {
    format!("- id: {id}\n  type: shell\n  version: 2.0.0\n  roles: {roles}\n  parameters: {{cmd: 'true'}}\n{extra}")
}

const CLUSTER: &[(&str, &str)] = &[("db-1", "db"), ("db-2", "db"), ("app-1", "app")];

#[test]
fn cross_depends_policy_all_and_any() {
    let all = plan(
        &(shell("schema", "[db]", "")
            + &shell(
                "app",
                "[app]",
                "  cross-depends: [{name: schema, role: [db]}]\n",
            )),
        &nodes(CLUSTER),
    );
    assert_eq!(
        edges(&all),
        ["schema@db-1 -> app@app-1", "schema@db-2 -> app@app-1"]
    );
    let any = plan(
        &(shell("schema", "[db]", "")
            + &shell(
                "app",
                "[app]",
                "  cross-depends: [{name: schema, role: [db], policy: any}]\n",
            )),
        &nodes(CLUSTER),
    );
    assert_eq!(edges(&any), ["schema@db-1 -> app@app-1"]);
}

#[test]
fn cross_depends_self_regex_names_and_depended_by() {
    let plan = plan(
        &(shell("ntp_server", "'*'", "")
            + &shell("ntp_client", "'*'", "")
            + &shell(
                "check",
                "'*'",
                "  cross-depends: [{name: /ntp_.*/, role: self}]\n",
            )
            + &shell(
                "backup",
                "[db]",
                "  cross-depended-by: [{name: check, role: [app]}]\n",
            )),
        &nodes(&[("db-1", "db"), ("app-1", "app")]),
    );
    assert_eq!(
        edges(&plan),
        [
            "backup@db-1 -> check@app-1",
            "ntp_client@app-1 -> check@app-1",
            "ntp_client@db-1 -> check@db-1",
            "ntp_server@app-1 -> check@app-1",
            "ntp_server@db-1 -> check@db-1",
        ]
    );
}

#[test]
fn a_link_through_a_task_a_node_lacks_still_orders_that_node() {
    // a -> b (db only) -> c: on app nodes, a still comes before c.
    let plan = plan(
        &(shell("a", "'*'", "")
            + &shell("b", "[db]", "  requires: [a]\n")
            + &shell("c", "'*'", "  requires: [b]\n")),
        &nodes(&[("db-1", "db"), ("app-1", "app")]),
    );
    assert_eq!(
        edges(&plan),
        ["a@app-1 -> c@app-1", "a@db-1 -> b@db-1", "b@db-1 -> c@db-1"]
    );
}

#[test]
fn strategies_and_jobs_bound_what_runs_at_once() {
    let many: Vec<(String, &str)> = (0..6).map(|n| (format!("n{n}"), "app")).collect();
    let many: Vec<(&str, &str)> = many.iter().map(|(n, r)| (n.as_str(), *r)).collect();
    let yaml = shell("serial", "'*'", "  strategy: {type: one_by_one}\n")
        + &shell("pairs", "'*'", "  strategy: {type: parallel, amount: 2}\n")
        + &shell("free", "'*'", "  requires: [serial, pairs]\n");
    let plan = plan(&yaml, &nodes(&many));
    let most_at_once = |simulation: &granule_executor::scheduler::Simulation, task: &str| {
        let spans: Vec<(f64, f64)> = simulation
            .spans
            .iter()
            .filter(|(id, _, _)| plan.task_id(*id) == task)
            .map(|&(_, start, end)| (start, end))
            .collect();
        spans
            .iter()
            .map(|&(start, _)| {
                spans
                    .iter()
                    .filter(|&&(s, e)| s <= start && start < e)
                    .count()
            })
            .max()
            .unwrap_or(0)
    };
    // `free` is last everywhere: the nodes finish the limited tasks at
    // different times, and `free` itself has no limit.
    let length = |id: u32| {
        if plan.task_id(id) == "free" {
            100.0
        } else {
            1.0
        }
    };
    let wide = simulate(&plan, 64, length);
    assert_eq!(most_at_once(&wide, "serial"), 1);
    assert_eq!(most_at_once(&wide, "pairs"), 2);
    assert_eq!(most_at_once(&wide, "free"), 6);
    let narrow = simulate(&plan, 3, length);
    assert_eq!(most_at_once(&narrow, "free"), 3);
    // One task per node at a time, whatever -j allows.
    for node in 0..6 {
        let mut spans: Vec<(f64, f64)> = wide
            .spans
            .iter()
            .filter(|(id, _, _)| plan.instances[*id as usize].node == node)
            .map(|&(_, start, end)| (start, end))
            .collect();
        spans.sort_by(|a, b| a.0.total_cmp(&b.0));
        assert!(
            spans.windows(2).all(|pair| pair[0].1 <= pair[1].0),
            "{spans:?}"
        );
    }
    assert!(wide.makespan >= wide.lower_bound);
}

#[test]
fn a_failure_stops_only_its_dependants() {
    let plan = plan(
        &(shell("a", "'*'", "")
            + &shell("b", "'*'", "  requires: [a]\n")
            + &shell("c", "'*'", "  requires: [b]\n")
            + &shell("other", "'*'", "")),
        &nodes(&[("n1", "app")]),
    );
    let mut scheduler = Scheduler::new(&plan, 4, &[]);
    let first = scheduler.start_next().unwrap();
    assert_eq!(
        plan.task_id(first),
        "a",
        "the head of the longest chain starts first"
    );
    assert!(
        scheduler.start_next().is_none(),
        "one task per node at a time"
    );
    scheduler.finish(first, State::Failed);
    let state = |scheduler: &Scheduler, task: &str| {
        let id = (0..plan.instances.len() as u32)
            .find(|&id| plan.task_id(id) == task)
            .unwrap();
        scheduler.state(id)
    };
    assert_eq!(state(&scheduler, "b"), State::DependencyFailed);
    assert_eq!(state(&scheduler, "c"), State::DependencyFailed);
    let next = scheduler.start_next().unwrap();
    assert_eq!(plan.task_id(next), "other", "the rest goes on");
    scheduler.finish(next, State::Succeeded);
    assert!(scheduler.start_next().is_none());
    assert_eq!(scheduler.running(), 0);
}

#[test]
fn conditions_on_settings_decide_skips() {
    let mut inventory = nodes(&[("n1", "app")]);
    inventory.settings =
        granule_executor::yaql::Value::from_json(&serde_json::json!({"storage": {"ceph": true}}));
    let plan = plan(
        &(shell(
            "osd",
            "'*'",
            "  condition: \"settings:storage.ceph == true\"\n",
        ) + &shell(
            "lvm",
            "'*'",
            "  condition: \"settings:storage.ceph == false\"\n",
        ) + &shell("other", "'*'", "  condition: \"cluster:status == 'new'\"\n")),
        &inventory,
    );
    let disposition = |task: &str| {
        plan.instances
            .iter()
            .find(|i| plan.catalog.tasks[i.task].id == task)
            .unwrap()
            .disposition
            .clone()
    };
    assert_eq!(disposition("osd"), Disposition::Run);
    assert!(
        matches!(disposition("lvm"), Disposition::Skip(reason) if reason.contains("condition is false"))
    );
    // Nailgun's non-strict mode: a reference to nothing is null.
    assert!(
        matches!(disposition("other"), Disposition::Skip(reason) if reason.contains("cluster:status"))
    );
}

#[test]
fn fuel_6_stages_order_all_nodes_and_name_id_less_tasks() {
    // As in Fuel 6.x astute tasks and old plugin tasks (no `id`).
    let yaml = "\
- id: enable_quorum
  type: shell
  role: [controller]
  stage: post_deployment
  parameters: {cmd: 'true'}
- role: [controller]
  stage: post_deployment/-100
  type: shell
  parameters: {cmd: 'true'}
- id: upload_cirros
  type: shell
  role: [controller]
  stage: post_deployment/100
  parameters: {cmd: 'true'}
- id: repos
  type: shell
  role: '*'
  stage: pre_deployment/50
  parameters: {cmd: 'true'}
- id: deploy
  type: shell
  role: '*'
  parameters: {cmd: 'true'}
";
    let plan = plan(yaml, &nodes(&[("ctl", "controller"), ("cmp", "compute")]));
    // Between two buckets, a `stage:` sync point on every node; a stage
    // ends on every node (`stage:X@cmp -> stage:Y@ctl`) before the next
    // starts on the first node, whose stage the other nodes then pass.
    assert_eq!(
        edges(&plan),
        [
            "deploy@cmp -> stage:post_deployment/-100@cmp",
            "deploy@ctl -> stage:post_deployment/-100@ctl",
            "enable_quorum@ctl -> stage:post_deployment/100@ctl",
            "post_deployment/-100@t.yaml:6@ctl -> stage:post_deployment/0@ctl",
            "repos@cmp -> stage:deployment@cmp",
            "repos@ctl -> stage:deployment@ctl",
            "stage:deployment@cmp -> deploy@cmp",
            "stage:deployment@cmp -> stage:post_deployment/-100@ctl",
            "stage:deployment@ctl -> deploy@ctl",
            "stage:deployment@ctl -> stage:post_deployment/-100@ctl",
            "stage:post_deployment/-100@cmp -> stage:post_deployment/0@cmp",
            "stage:post_deployment/-100@cmp -> stage:post_deployment/0@ctl",
            "stage:post_deployment/-100@ctl -> post_deployment/-100@t.yaml:6@ctl",
            "stage:post_deployment/-100@ctl -> stage:post_deployment/-100@cmp",
            "stage:post_deployment/-100@ctl -> stage:post_deployment/0@ctl",
            "stage:post_deployment/0@cmp -> stage:post_deployment/100@cmp",
            "stage:post_deployment/0@cmp -> stage:post_deployment/100@ctl",
            "stage:post_deployment/0@ctl -> enable_quorum@ctl",
            "stage:post_deployment/0@ctl -> stage:post_deployment/0@cmp",
            "stage:post_deployment/0@ctl -> stage:post_deployment/100@ctl",
            "stage:post_deployment/100@ctl -> stage:post_deployment/100@cmp",
            "stage:post_deployment/100@ctl -> upload_cirros@ctl",
        ]
    );

    let mut errors = Diagnostics::default();
    parse_file(
        Path::new("t.yaml"),
        "- type: shell\n  role: [x]\n  parameters: {cmd: 'true'}\n- id: s\n  type: shell\n  role: [x]\n  stage: post_deploy/1\n  parameters: {cmd: 'true'}\n",
        &mut TaskSet::default(),
        &mut errors,
    );
    let text = errors.to_string();
    assert!(text.contains("t.yaml:1:3: this task has no `id`"), "{text}");
    assert!(
        text.contains("task `s`: unknown stage `post_deploy`"),
        "{text}"
    );
}
