//! What `granule run` and `granule tasks` share: loading descriptors and
//! inventories into a plan, and printing diagnostics.

use clap::Args;
use granule_executor::descriptor;
use granule_executor::inventory::{self, Inventory, Node};
use granule_executor::{Catalog, Diagnostic, Diagnostics, Plan, Selection};
use std::path::PathBuf;

/// Which tasks, on which nodes.
#[derive(Args, Clone, Default)]
pub struct PlanSource {
    /// A tasks.yaml file, or a directory searched recursively for them
    /// (tasks.yaml, deployment_tasks.yaml, *.tasks.yaml). Repeatable.
    #[arg(long = "tasks", value_name = "PATH")]
    pub tasks: Vec<PathBuf>,

    /// Run on this machine with this role. Repeatable.
    #[arg(long = "role", value_name = "ROLE", conflicts_with = "inventory")]
    pub roles: Vec<String>,

    /// Nodes to run on (nodes.yaml: name, roles, transport local|ssh, host, port, user, key).
    #[arg(long, value_name = "FILE")]
    pub inventory: Option<PathBuf>,

    /// Cluster settings (YAML) for `settings:a.b == value` conditions; replaces the inventory's.
    #[arg(long, value_name = "FILE")]
    pub settings: Option<PathBuf>,

    /// The node's deployment data (YAML in the shape of Fuel's astute.yaml:
    /// uid, roles, network_metadata, settings sections), on which conditions
    /// and YAQL fields are evaluated. With --role: FILE. With --inventory:
    /// NODE=FILE, repeatable (or `data:` in the inventory), or FILE for
    /// every node without its own.
    #[arg(long = "data", value_name = "[NODE=]FILE")]
    pub data: Vec<String>,

    /// The data of the previous deployment, in the same forms as --data:
    /// Nailgun's changed(), added(), old()... compare with it. Without it,
    /// the previous data is empty and everything a condition reads counts
    /// as changed.
    #[arg(long = "previous-data", value_name = "[NODE=]FILE")]
    pub previous_data: Vec<String>,

    /// Run only these tasks (comma-separated or repeated).
    #[arg(long, value_name = "TASK", value_delimiter = ',')]
    pub only: Vec<String>,

    /// Do not run these tasks; what depends on them still runs.
    #[arg(long, value_name = "TASK", value_delimiter = ',')]
    pub skip: Vec<String>,

    /// Start at TASK: run it and what comes after it.
    #[arg(long, value_name = "TASK")]
    pub start: Option<String>,

    /// End at TASK: run it and what comes before it.
    #[arg(long, value_name = "TASK")]
    pub end: Option<String>,

    /// With --only/--start: also run the tasks the selected ones need.
    #[arg(long)]
    pub with_deps: bool,

    /// Run on these nodes only (comma-separated or repeated).
    #[arg(long = "node", value_name = "NODE", value_delimiter = ',')]
    pub nodes: Vec<String>,
}

pub fn load_catalog(paths: &[PathBuf]) -> Result<Catalog, Diagnostics> {
    let set = descriptor::load(paths)?;
    Catalog::build(&set)
}

pub fn load_inventory(source: &PlanSource) -> Result<Inventory, Diagnostics> {
    let mut inventory = match (&source.inventory, source.roles.is_empty()) {
        (Some(path), _) => Inventory::load(path)?,
        (None, false) => Inventory::local(source.roles.clone()),
        (None, true) => {
            return Err(Diagnostic::general("no nodes to run on")
                .help("pass --role ROLE to run on this machine, or --inventory nodes.yaml")
                .into())
        }
    };
    attach_data(&mut inventory, &source.data, false)?;
    attach_data(&mut inventory, &source.previous_data, true)?;
    inventory.share_data();
    if let Some(path) = &source.settings {
        let text = std::fs::read_to_string(path)
            .map_err(|err| Diagnostic::new(path, format!("cannot read settings: {err}")))?;
        inventory.settings = serde_saphyr::from_str(&text)
            .map_err(|err| granule_executor::error::yaml_error(path, &err))?;
    }
    Ok(inventory)
}

/// Gives nodes their deployment data from `--data`/`--previous-data`.
fn attach_data(
    inventory: &mut Inventory,
    specs: &[String],
    previous: bool,
) -> Result<(), Diagnostics> {
    let option = if previous {
        "--previous-data"
    } else {
        "--data"
    };
    let mut errors = Diagnostics::default();
    let names: Vec<String> = inventory
        .nodes
        .iter()
        .map(|node| node.name.clone())
        .collect();
    for spec in specs {
        let (node, file) = match spec.split_once('=') {
            Some((node, file)) if !std::path::Path::new(spec).exists() => (Some(node), file),
            _ => (None, spec.as_str()),
        };
        let data = match inventory::load_data(std::path::Path::new(file)) {
            Ok(data) => data,
            Err(diagnostic) => {
                errors.push(diagnostic);
                continue;
            }
        };
        let targets: Vec<&mut Node> = match node {
            Some(name) => inventory
                .nodes
                .iter_mut()
                .filter(|node| node.name == name)
                .collect(),
            None => inventory
                .nodes
                .iter_mut()
                .filter(|node| {
                    if previous {
                        node.previous_data.is_none()
                    } else {
                        node.data.is_none()
                    }
                })
                .collect(),
        };
        if targets.is_empty() {
            errors.push(match node {
                Some(_) => Diagnostic::general(format!("{option} {spec}: no such node"))
                    .help(format!("nodes: {}", names.join(", "))),
                None => {
                    Diagnostic::general(format!("{option} {spec}: every node already has its data"))
                        .help(format!(
                            "name the node it is for: {option} NODE={file} (nodes: {})",
                            names.join(", ")
                        ))
                }
            });
        }
        for target in targets {
            let slot = if previous {
                &mut target.previous_data
            } else {
                &mut target.data
            };
            *slot = Some(data.clone());
        }
    }
    errors.into_result(())
}

pub fn load_plan(source: &PlanSource) -> Result<Plan, Diagnostics> {
    let inventory = load_inventory(source);
    let catalog = load_catalog(&source.tasks);
    let (inventory, catalog) = match (inventory, catalog) {
        (Ok(inventory), Ok(catalog)) => (inventory, catalog),
        (Err(mut a), Err(b)) => {
            a.0.extend(b.0);
            return Err(a);
        }
        (Err(errors), _) | (_, Err(errors)) => return Err(errors),
    };
    let selection = Selection {
        only: source.only.clone(),
        skip: source.skip.clone(),
        start: source.start.clone(),
        end: source.end.clone(),
        with_deps: source.with_deps,
        nodes: source.nodes.clone(),
    };
    Plan::build(catalog, &inventory, &selection)
}

pub fn print_diagnostics(diagnostics: &Diagnostics) {
    eprintln!("{diagnostics}");
    let count = diagnostics.0.len();
    eprintln!("{count} error{}", if count == 1 { "" } else { "s" });
}
