//! Fuel's real task graphs (the 2015 and 2019 trees), planned as Fuel did
//! on a cluster with one node of each role, each node with deployment data
//! in the shape of Fuel's `astute.yaml`. The planned order is checked
//! against every `requires`, `required_for`, cross-node link (YAQL ones
//! computed by the `yaql` library), group and stage constraint; the tasks
//! planned against their conditions as the `yaql` library decides them on
//! the same data, first deployment and re-deployments (a changed database
//! password, an added node) alike.

use granule_executor::catalog::Catalog;
use granule_executor::descriptor::{self, Condition, CrossDep, Policy, TaskKind, Version};
use granule_executor::inventory::{Inventory, Node, Transport};
use granule_executor::matcher::{Matcher, RoleSelector};
use granule_executor::plan::Disposition;
use granule_executor::yaql::Value;
use granule_executor::{Plan, Selection};
use granule_tests::executor::{exit_code, granule_in, scratch, text};
use granule_tests::fuel_data::{
    ask_yaql, astute, fuel_tree, oracle_python, paths_read, truthy, yaql_expressions, Case,
    ClusterNode, Settings,
};
use granule_tests::require_reference;
use serde_json::json;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

/// Every role a task names (regexes and `*` aside).
fn roles_of(catalog: &Catalog) -> Vec<String> {
    let mut roles: Vec<String> = Vec::new();
    for task in &catalog.tasks {
        for role in task.roles.iter().filter_map(Matcher::exact) {
            if !roles.iter().any(|known| known == role) {
                roles.push(role.to_string());
            }
        }
    }
    roles.sort();
    roles
}

/// The settings a Nailgun condition reads, each `settings:a.b.value` set to `flag`.
fn nailgun_settings(catalog: &Catalog, flag: bool) -> serde_json::Value {
    let mut settings = json!({});
    for task in &catalog.tasks {
        let Some(Condition::Nailgun(text)) = &task.condition else {
            continue;
        };
        for word in text.split(|c: char| c.is_whitespace() || c == '(' || c == ')') {
            let Some(path) = word.strip_prefix("settings:") else {
                continue;
            };
            let mut slot = &mut settings;
            let keys: Vec<&str> = path.split('.').collect();
            for (depth, key) in keys.iter().enumerate() {
                let leaf = depth + 1 == keys.len();
                let map = slot.as_object_mut().expect("a settings mapping");
                let entry = map.entry(key.to_string()).or_insert_with(|| {
                    if leaf {
                        json!(flag)
                    } else {
                        json!({})
                    }
                });
                if !leaf && !entry.is_object() {
                    *entry = json!({});
                }
                slot = entry;
            }
        }
    }
    settings
}

/// A Nailgun condition as the YAQL expression that means the same on the
/// settings as data: `settings:a.b == x` is `$.a.b = x`.
fn nailgun_as_yaql(text: &str) -> String {
    text.replace("settings:", "$.").replace("==", "=")
}

struct Cluster {
    inventory: Inventory,
    data: Vec<serde_json::Value>,
    previous: Vec<Option<serde_json::Value>>,
}

/// One node per role, `node-UID`, with its data and previous data.
fn cluster(roles: &[String], paths: &[Vec<String>], previous: Scenario) -> Cluster {
    let role_refs: Vec<[&str; 1]> = roles.iter().map(|role| [role.as_str()]).collect();
    let members: Vec<ClusterNode> = role_refs
        .iter()
        .enumerate()
        .map(|(index, roles)| ClusterNode {
            uid: index as u32 + 1,
            roles,
        })
        .collect();
    let current = Settings {
        flag: true,
        password: "secret",
    };
    let mut inventory = Inventory::default();
    let mut all_data = Vec::new();
    let mut all_previous = Vec::new();
    for member in &members {
        let data = astute(paths, member.uid, &members, current);
        let previous = match previous {
            Scenario::FirstDeployment => None,
            Scenario::ChangedDatabasePassword => {
                let mut before = data.clone();
                before["mysql"]["root_password"] = json!("old secret");
                Some(before)
            }
            // The last node is new: the others knew the cluster without it.
            Scenario::AddedNode if member.uid as usize == members.len() => None,
            Scenario::AddedNode => Some(astute(
                paths,
                member.uid,
                &members[..members.len() - 1],
                current,
            )),
        };
        inventory.nodes.push(Node {
            name: format!("node-{}", member.uid),
            roles: member.roles.iter().map(|role| role.to_string()).collect(),
            transport: Transport::Local,
            data: Some(Arc::new(Value::from_json(&data))),
            previous_data: previous
                .as_ref()
                .map(|previous| Arc::new(Value::from_json(previous))),
        });
        all_data.push(data);
        all_previous.push(previous);
    }
    Cluster {
        inventory,
        data: all_data,
        previous: all_previous,
    }
}

#[derive(Clone, Copy, Debug)]
enum Scenario {
    FirstDeployment,
    ChangedDatabasePassword,
    AddedNode,
}

/// Checks one plan; returns how many instances it planned to run.
fn check_plan(
    plan: &Plan,
    cluster: &Cluster,
    settings: &serde_json::Value,
    python: &PathBuf,
) -> usize {
    let catalog = &plan.catalog;
    let waves = plan.waves();
    let mut wave = vec![usize::MAX; plan.instances.len()];
    for (number, ids) in waves.iter().enumerate() {
        for &id in ids {
            wave[id as usize] = number;
        }
    }
    assert!(
        wave.iter().all(|&w| w != usize::MAX),
        "every instance is in a wave"
    );
    let mut at: HashMap<(usize, usize), usize> = HashMap::new();
    for (id, instance) in plan.instances.iter().enumerate() {
        at.insert((instance.node, instance.task), id);
    }
    let name = |id: usize| {
        format!(
            "{}@{}",
            catalog.tasks[plan.instances[id].task].id, plan.nodes[plan.instances[id].node].name
        )
    };
    let mut broken = Vec::new();
    let mut before = |first: usize, then: usize, why: &str| {
        if wave[first] >= wave[then] {
            broken.push(format!(
                "{} should come before {} ({why})",
                name(first),
                name(then)
            ));
        }
    };
    let v1_group = |t: usize| {
        catalog.tasks[t].kind == TaskKind::Group && catalog.tasks[t].version == Version::V1
    };

    // Same-node links.
    for (id, instance) in plan.instances.iter().enumerate() {
        let task = &catalog.tasks[instance.task];
        for required in &task.requires {
            let r = catalog.index[required];
            if let Some(&other) = at.get(&(instance.node, r)) {
                if !(v1_group(r) && v1_group(instance.task)) {
                    before(other, id, "requires");
                }
            }
        }
        for following in &task.required_for {
            let f = catalog.index[following];
            if let Some(&other) = at.get(&(instance.node, f)) {
                if !(v1_group(f) && v1_group(instance.task)) {
                    before(id, other, "required_for");
                }
            }
        }
    }

    // Cross-node links, those computed with YAQL asked of the yaql library.
    let mut computed_cases = Vec::new();
    let mut computed_of = Vec::new();
    for (id, instance) in plan.instances.iter().enumerate() {
        let task = &catalog.tasks[instance.task];
        for (expression, reversed) in [
            (&task.computed.cross_depends, false),
            (&task.computed.cross_depended_by, true),
        ] {
            if let Some(expression) = expression {
                computed_cases.push(Case {
                    expression,
                    data: &cluster.data[instance.node],
                    previous: cluster.previous[instance.node].as_ref(),
                });
                computed_of.push((id, reversed));
            }
        }
    }
    let mut links: Vec<(usize, CrossDep, bool)> = Vec::new();
    for (answer, &(id, reversed)) in ask_yaql(python, &computed_cases).iter().zip(&computed_of) {
        let items = answer["value"].as_array().cloned().unwrap_or_else(|| {
            panic!(
                "the yaql library computed no link list for {}: {answer}",
                name(id)
            )
        });
        for item in items {
            let roles = match &item["role"] {
                serde_json::Value::String(role) => vec![role.clone()],
                serde_json::Value::Array(roles) => roles
                    .iter()
                    .filter_map(|r| r.as_str().map(str::to_string))
                    .collect(),
                _ => Vec::new(),
            };
            let dep = CrossDep::parse(item["name"].as_str().expect("a name"), roles, None)
                .expect("a link");
            links.push((id, dep, reversed));
        }
    }
    for (id, instance) in plan.instances.iter().enumerate() {
        let task = &catalog.tasks[instance.task];
        for dep in &task.cross_depends {
            links.push((id, dep.clone(), false));
        }
        for dep in &task.cross_depended_by {
            links.push((id, dep.clone(), true));
        }
    }
    for (id, dep, reversed) in &links {
        let own = plan.instances[*id].node;
        let Some(target) = dep.name.exact().and_then(|name| catalog.index.get(name)) else {
            continue;
        };
        let nodes: Vec<usize> = (0..plan.nodes.len())
            .filter(|&m| match &dep.role {
                RoleSelector::SameNode => m == own,
                RoleSelector::AnyNode => true,
                RoleSelector::Roles(matchers) => plan.nodes[m]
                    .roles
                    .iter()
                    .any(|role| matchers.iter().any(|matcher| matcher.matches(role))),
            })
            .collect();
        let others: Vec<usize> = nodes
            .iter()
            .filter_map(|&m| at.get(&(m, *target)).copied())
            .filter(|other| other != id)
            .collect();
        match (dep.policy, reversed) {
            (Policy::All, false) => others
                .iter()
                .for_each(|&other| before(other, *id, "cross-depends")),
            (Policy::All, true) => others
                .iter()
                .for_each(|&other| before(*id, other, "cross-depended-by")),
            (Policy::Any, _) => {}
        }
    }

    // Version 1 groups: a group ends on every node before the next starts anywhere.
    for span in &catalog.groups {
        for &earlier in &span.after {
            for m in 0..plan.nodes.len() {
                for n in 0..plan.nodes.len() {
                    if let (Some(&end), Some(&start)) = (
                        at.get(&(m, catalog.groups[earlier].end)),
                        at.get(&(n, span.start)),
                    ) {
                        before(end, start, "group order");
                    }
                }
            }
        }
    }

    // Stages: every node ends one before any node starts the next.
    let stages: Vec<usize> = (0..catalog.tasks.len())
        .filter(|&t| catalog.tasks[t].kind == TaskKind::Stage)
        .collect();
    for &first in &stages {
        for &then in &stages {
            if first != then && reaches(catalog, first, then) {
                for m in 0..plan.nodes.len() {
                    for n in 0..plan.nodes.len() {
                        if let (Some(&a), Some(&b)) = (at.get(&(m, first)), at.get(&(n, then))) {
                            before(a, b, "stage order");
                        }
                    }
                }
            }
        }
    }
    assert!(
        broken.is_empty(),
        "{} broken constraints:\n{}",
        broken.len(),
        broken.join("\n")
    );

    // Computed strategies: the amount the yaql library computes on the data
    // of the first node that runs the task.
    let mut amount_cases = Vec::new();
    let mut amount_tasks = Vec::new();
    for (t, task) in catalog.tasks.iter().enumerate() {
        let Some(expression) = &task.computed.strategy_amount else {
            continue;
        };
        let Some(first) = plan.instances.iter().find(|instance| instance.task == t) else {
            continue;
        };
        amount_cases.push(Case {
            expression,
            data: &cluster.data[first.node],
            previous: cluster.previous[first.node].as_ref(),
        });
        amount_tasks.push(t);
    }
    for (answer, &t) in ask_yaql(python, &amount_cases).iter().zip(&amount_tasks) {
        let expected = answer["value"].as_u64().map(|amount| amount as u32);
        assert_eq!(
            plan.limits[t], expected,
            "strategy.amount of `{}`: {answer}",
            catalog.tasks[t].id
        );
    }
    let computed_amounts = catalog
        .tasks
        .iter()
        .filter(|task| task.computed.strategy_amount.is_some())
        .count();
    assert!(
        computed_amounts == 0 || !amount_tasks.is_empty(),
        "the computed strategy amounts were checked"
    );

    // Conditions: planned to run exactly where the yaql library says true.
    let mut cases = Vec::new();
    let mut asked = Vec::new();
    let translated: Vec<Option<String>> = catalog
        .tasks
        .iter()
        .map(|task| match &task.condition {
            Some(Condition::Yaql(text)) => Some(text.clone()),
            Some(Condition::Nailgun(text)) => Some(nailgun_as_yaql(text)),
            None => None,
        })
        .collect();
    for (id, instance) in plan.instances.iter().enumerate() {
        let task = &catalog.tasks[instance.task];
        if task.kind == TaskKind::Skipped {
            continue;
        }
        let Some(expression) = &translated[instance.task] else {
            continue;
        };
        let nailgun = matches!(task.condition, Some(Condition::Nailgun(_)));
        cases.push(Case {
            expression,
            data: if nailgun {
                settings
            } else {
                &cluster.data[instance.node]
            },
            previous: if nailgun {
                None
            } else {
                cluster.previous[instance.node].as_ref()
            },
        });
        asked.push(id);
    }
    let mut wrong = Vec::new();
    for (answer, &id) in ask_yaql(python, &cases).iter().zip(&asked) {
        let expected = truthy(answer)
            .unwrap_or_else(|| panic!("the yaql library could not decide {}: {answer}", name(id)));
        let planned = !matches!(plan.instances[id].disposition, Disposition::Skip(_));
        if planned != expected {
            wrong.push(format!(
                "{}: planned {planned}, the condition says {expected}",
                name(id)
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} conditions decided wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    plan.instances
        .iter()
        .filter(|instance| instance.disposition == Disposition::Run)
        .count()
}

fn reaches(catalog: &Catalog, from: usize, to: usize) -> bool {
    let mut seen = vec![false; catalog.tasks.len()];
    let mut stack = vec![from];
    while let Some(task) = stack.pop() {
        if task == to {
            return true;
        }
        if !std::mem::replace(&mut seen[task], true) {
            stack.extend_from_slice(&catalog.successors[task]);
        }
    }
    false
}

/// `granule run --dry-run` on the same cluster, its data written to files
/// (an inventory with `data:` and `previous_data:`, the settings with
/// `--settings`), plans exactly what was checked: the same tasks on the
/// same nodes, run or skipped alike, and the same links.
fn same_plan_from_the_command_line(
    plan: &Plan,
    cluster: &Cluster,
    settings: &serde_json::Value,
    root: &std::path::Path,
    tree: &str,
    scenario: Scenario,
) {
    let dir = scratch(&format!("fuel_plans_{tree}_{scenario:?}"));
    let mut inventory = String::from("nodes:\n");
    for (n, node) in plan.nodes.iter().enumerate() {
        let data = format!("{}.yaml", node.name);
        std::fs::write(dir.join(&data), cluster.data[n].to_string()).unwrap();
        inventory.push_str(&format!(
            "  - {{name: {}, roles: [{}], data: {data}",
            node.name,
            node.roles.join(", ")
        ));
        if let Some(previous) = &cluster.previous[n] {
            let file = format!("{}-previous.yaml", node.name);
            std::fs::write(dir.join(&file), previous.to_string()).unwrap();
            inventory.push_str(&format!(", previous_data: {file}"));
        }
        inventory.push_str("}\n");
    }
    std::fs::write(dir.join("nodes.yaml"), inventory).unwrap();
    std::fs::write(dir.join("settings.yaml"), settings.to_string()).unwrap();
    let output = granule_in(
        &dir,
        &[
            "run",
            "--dry-run",
            "--format",
            "json",
            "--tasks",
            root.to_str().unwrap(),
            "--inventory",
            "nodes.yaml",
            "--settings",
            "settings.yaml",
        ],
    );
    assert_eq!(exit_code(&output), 0, "{}", text(&output.stderr));
    let shown: serde_json::Value = serde_json::from_slice(&output.stdout).expect("a JSON plan");
    let action = |disposition: &Disposition| match disposition {
        Disposition::Run => "run",
        Disposition::SyncPoint => "sync-point",
        Disposition::Skip(_) => "skip",
    };
    let expected: Vec<(String, String, String)> = (0..plan.instances.len() as u32)
        .map(|id| {
            (
                plan.node_name(id).to_string(),
                plan.task_id(id).to_string(),
                action(&plan.instances[id as usize].disposition).to_string(),
            )
        })
        .collect();
    let printed: Vec<(String, String, String)> = shown["instances"]
        .as_array()
        .expect("instances")
        .iter()
        .map(|instance| {
            let field = |name: &str| instance[name].as_str().unwrap_or_default().to_string();
            (field("node"), field("task"), field("action"))
        })
        .collect();
    assert_eq!(printed, expected, "{tree}, {scenario:?}");
    let edges = plan.successors.iter().map(Vec::len).sum::<usize>();
    assert_eq!(
        shown["edges"].as_array().map(Vec::len),
        Some(edges),
        "{tree}, {scenario:?}"
    );
}

fn plan_tree(test: &str, tree: &str, scenarios: &[Scenario]) -> Vec<usize> {
    let Some(python) = require_reference(test, oracle_python()) else {
        return Vec::new();
    };
    let Some(root) = require_reference(test, fuel_tree(tree)) else {
        return Vec::new();
    };
    let set = descriptor::load(std::slice::from_ref(&root)).unwrap_or_else(|e| panic!("{e}"));
    let paths = paths_read(&yaql_expressions(&set));
    let catalog = Catalog::build(&set).unwrap_or_else(|e| panic!("{e}"));
    let roles = roles_of(&catalog);
    assert!(roles.len() >= 10, "only roles {roles:?}");
    let settings = nailgun_settings(&catalog, true);
    let mut planned = Vec::new();
    for &scenario in scenarios {
        let mut cluster = cluster(&roles, &paths, scenario);
        cluster.inventory.settings = Value::from_json(&settings);
        let plan = Plan::build(catalog.clone(), &cluster.inventory, &Selection::default())
            .unwrap_or_else(|e| panic!("{tree}, {scenario:?}: {e}"));
        let to_run = check_plan(&plan, &cluster, &settings, &python);
        same_plan_from_the_command_line(&plan, &cluster, &settings, &root, tree, scenario);
        eprintln!(
            "{tree}, {scenario:?}: {} roles, {} instances, {to_run} to run",
            roles.len(),
            plan.instances.len()
        );
        planned.push(to_run);
    }
    planned
}

#[test]
fn fuel_2015_graph_plans_for_every_role() {
    plan_tree(
        "fuel_2015_graph_plans_for_every_role",
        "fuel-library-2015",
        &[Scenario::FirstDeployment],
    );
}

#[test]
fn fuel_2019_graph_plans_and_replans_for_every_role() {
    let planned = plan_tree(
        "fuel_2019_graph_plans_and_replans_for_every_role",
        "fuel-library-2019",
        &[
            Scenario::FirstDeployment,
            Scenario::ChangedDatabasePassword,
            Scenario::AddedNode,
        ],
    );
    if let [first, password, added] = planned[..] {
        // A re-deployment runs only what its changes touch.
        assert!(password < first && added < first, "{planned:?}");
        assert!(password > 0 && added > password, "{planned:?}");
    }
}
