//! **granule/unresolved-class** (error): a class is declared (`include`,
//! `require`, `contain`, `class { 'x': }`, `inherits`, `Class['x']`) but
//! defined nowhere on the module path, or the name is a define.
//!
//! Why: Puppet fails the whole catalog ("Could not find class") on the node
//! that reaches the declaration, at run time: a typo or a module missing
//! from the module path is found by the node, not by the review.
//!
//! Example:
//! ```puppet
//! class profile::web {
//!   include apache::mod::sssl   # no such class
//! }
//! ```
//!
//! Fix: correct the name, add the module that defines the class to the
//! module path (and to `metadata.json`), or declare a define as a resource.

use crate::lint::architecture::{Findings, Workspace};

pub fn check(workspace: &Workspace, out: &mut Findings) {
    super::architecture::report_analyzer_findings(workspace, crate::model::UNRESOLVED_CLASS, out);
}
