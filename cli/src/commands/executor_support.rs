//! What `granule run` and `granule tasks` share: loading descriptors and
//! inventories into a plan, and printing diagnostics.

use clap::Args;
use granule_executor::descriptor;
use granule_executor::inventory::Inventory;
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
    if let Some(path) = &source.settings {
        let text = std::fs::read_to_string(path)
            .map_err(|err| Diagnostic::new(path, format!("cannot read settings: {err}")))?;
        inventory.settings = serde_saphyr::from_str(&text)
            .map_err(|err| granule_executor::error::yaml_error(path, &err))?;
    }
    Ok(inventory)
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
