//! **granule/unresolved-type** (error): a resource is declared with a type
//! that is no define of the module path, no custom type of a module
//! (`lib/puppet/type/*.rb`) and none of Puppet's own types.
//!
//! Why: Puppet fails the catalog ("Unknown resource type") on the node that
//! reaches the declaration; nothing checks it before that run.
//!
//! Example:
//! ```puppet
//! class profile::db {
//!   mysql::databse { 'app': }   # mysql::database is meant
//! }
//! ```
//!
//! Fix: correct the type's name, or add the module defining it to the
//! module path (and to `metadata.json`).

use crate::lint::architecture::{Findings, Workspace};

pub fn check(workspace: &Workspace, out: &mut Findings) {
    super::architecture::report_analyzer_findings(workspace, crate::model::UNRESOLVED_TYPE, out);
}
