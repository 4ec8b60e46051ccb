//! granule-executor: loads Fuel task descriptors (`tasks.yaml`, versions 1
//! and 2.0.0), plans per-node task graphs and runs them on local and ssh
//! nodes with a crash-safe journal.
//!
//! The pipeline: [`descriptor::load`] reads files into a [`TaskSet`];
//! [`Catalog::build`] validates it; [`Plan::build`] lays it out on the
//! nodes of an [`Inventory`]; [`execute`] runs the plan.

pub mod ansible;
pub mod catalog;
pub mod condition;
pub mod descriptor;
pub mod error;
pub mod execute;
pub mod graph;
pub mod inventory;
pub mod journal;
pub mod matcher;
pub mod plan;
pub mod runner;
pub mod scheduler;
pub mod time;
pub mod yaql;

pub use catalog::Catalog;
pub use descriptor::{Task, TaskSet};
pub use error::{Diagnostic, Diagnostics};
pub use execute::{execute, Event, Observer, RunConfig, Summary};
pub use inventory::Inventory;
pub use plan::{Plan, Selection};
pub use scheduler::State;
