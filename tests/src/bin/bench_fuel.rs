//! Fuel's real task graphs at scale, for scripts/bench-fuel and
//! docs/performance.md: loading both trees (read, type, validate), then
//! planning the 2019 graph on a cluster of N nodes (default 1,000: one of
//! each role, the rest computes), without deployment data (every condition
//! undecided) and with it (each node's conditions and YAQL cross-node links
//! evaluated on its astute.yaml-shaped data against a previous deployment
//! with another database password). Best of several rounds.
//!
//! Usage: bench-fuel [--nodes N] [--rounds N]

use granule_executor::catalog::Catalog;
use granule_executor::descriptor;
use granule_executor::inventory::{Inventory, Node, Transport};
use granule_executor::plan::Disposition;
use granule_executor::yaql::Value;
use granule_executor::{Plan, Selection};
use granule_tests::fuel_data::{
    astute, fuel_tree, paths_read, yaql_expressions, ClusterNode, Settings,
};
use std::sync::Arc;
use std::time::Instant;

fn option(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|arg| arg == name)
        .and_then(|at| args.get(at + 1))
        .map(|value| value.parse().expect("a number"))
        .unwrap_or(default)
}

/// The best time of `rounds` runs of `work`, and its last result.
fn best<T>(rounds: usize, mut work: impl FnMut() -> T) -> (f64, T) {
    let mut fastest = f64::MAX;
    let mut last = None;
    for _ in 0..rounds.max(1) {
        let started = Instant::now();
        last = Some(work());
        fastest = fastest.min(started.elapsed().as_secs_f64());
    }
    (fastest, last.expect("one round"))
}

/// One node's data: the shared cluster data with its own uid, name and roles
/// (the big parts, such as the node list, are shared, not copied).
fn node_data(base: &Value, uid: usize, role: &str) -> Value {
    let Value::Map(entries) = base else {
        panic!("data is a mapping")
    };
    let mut own: Vec<(Value, Value)> = entries.to_vec();
    for (key, value) in &mut own {
        match key.as_str() {
            Some("uid") => *value = Value::string(&uid.to_string()),
            Some("fqdn") => *value = Value::string(&format!("node-{uid}.test.local")),
            Some("roles") => *value = Value::list(vec![Value::string(role)]),
            _ => {}
        }
    }
    Value::map(own)
}

fn main() {
    let nodes = option("--nodes", 1000);
    let rounds = option("--rounds", 5);
    let trees: Vec<_> = ["fuel-library-2015", "fuel-library-2019"]
        .iter()
        .map(|tree| fuel_tree(tree).unwrap_or_else(|message| panic!("{message}")))
        .collect();

    let (load_seconds, catalogs) = best(rounds, || {
        trees
            .iter()
            .map(|tree| {
                let set =
                    descriptor::load(std::slice::from_ref(tree)).unwrap_or_else(|e| panic!("{e}"));
                Catalog::build(&set).unwrap_or_else(|e| panic!("{e}"))
            })
            .collect::<Vec<_>>()
    });
    let tasks: usize = catalogs.iter().map(|catalog| catalog.tasks.len()).sum();
    println!("load both trees (read, type, validate): {load_seconds:.3} s for {tasks} tasks, best of {rounds}");

    let catalog = &catalogs[1];
    let mut roles: Vec<String> = Vec::new();
    for task in &catalog.tasks {
        for role in task.roles.iter().filter_map(|role| role.exact()) {
            if !roles.iter().any(|known| known == role) {
                roles.push(role.to_string());
            }
        }
    }
    roles.sort();
    let role_of = |n: usize| roles.get(n).map_or("compute", String::as_str);
    let mut inventory = Inventory::default();
    for n in 0..nodes {
        inventory.nodes.push(Node {
            name: format!("node-{}", n + 1),
            roles: vec![role_of(n).to_string()],
            transport: Transport::Local,
            data: None,
            previous_data: None,
        });
    }
    let (bare_seconds, plan) = best(rounds, || {
        Plan::build(catalog.clone(), &inventory, &Selection::default())
            .unwrap_or_else(|e| panic!("{e}"))
    });
    let edges: usize = plan.successors.iter().map(Vec::len).sum();
    println!(
        "plan the 2019 graph on {nodes} nodes, no data: {bare_seconds:.3} s, {} planned tasks, {edges} edges, best of {rounds}",
        plan.instances.len()
    );

    let set = descriptor::load(&trees[1..]).unwrap_or_else(|e| panic!("{e}"));
    let paths = paths_read(&yaql_expressions(&set));
    let role_lists: Vec<[&str; 1]> = (0..nodes).map(|n| [role_of(n)]).collect();
    let cluster: Vec<ClusterNode> = role_lists
        .iter()
        .enumerate()
        .map(|(n, roles)| ClusterNode {
            uid: n as u32 + 1,
            roles,
        })
        .collect();
    let data = Value::from_json(&astute(
        &paths,
        1,
        &cluster,
        Settings {
            flag: true,
            password: "secret",
        },
    ));
    let previous = Value::from_json(&astute(
        &paths,
        1,
        &cluster,
        Settings {
            flag: true,
            password: "old",
        },
    ));
    for (n, node) in inventory.nodes.iter_mut().enumerate() {
        node.data = Some(Arc::new(node_data(&data, n + 1, role_of(n))));
        node.previous_data = Some(Arc::new(node_data(&previous, n + 1, role_of(n))));
    }
    // As `granule run` does with the data files it reads.
    inventory.share_data();
    let (data_seconds, plan) = best(rounds, || {
        Plan::build(catalog.clone(), &inventory, &Selection::default())
            .unwrap_or_else(|e| panic!("{e}"))
    });
    let to_run = plan
        .instances
        .iter()
        .filter(|instance| instance.disposition == Disposition::Run)
        .count();
    println!(
        "plan the 2019 graph on {nodes} nodes with data and previous data: {data_seconds:.3} s, {} planned tasks, {to_run} to run, best of {rounds}",
        plan.instances.len()
    );
}
