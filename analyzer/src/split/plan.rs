//! The plan file (`granule.split.toml`): the user's decisions about a
//! proposal, honoured on every re-run.
//!
//! ```toml
//! # Put a unit (as report.json names it) into a task of your choosing.
//! [pin]
//! "class keystone::db::mysql" = "keystone"
//!
//! # Give a proposed task another name.
//! [rename]
//! mysql = "database"
//!
//! # Join proposed tasks into one.
//! [merge]
//! database = ["galera", "mysql"]
//!
//! # Leave units out of every task.
//! exclude = ["class oci::tuned"]
//!
//! # Open a class the rule keeps whole, or keep whole one it opens.
//! open = ["profile::base"]
//! keep = ["openstack::keystone"]
//! ```

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    #[serde(default)]
    pub exclude: Vec<String>,
    #[serde(default)]
    pub open: Vec<String>,
    #[serde(default)]
    pub keep: Vec<String>,
    #[serde(default)]
    pub pin: BTreeMap<String, String>,
    #[serde(default)]
    pub rename: BTreeMap<String, String>,
    #[serde(default)]
    pub merge: BTreeMap<String, Vec<String>>,
}

impl Plan {
    pub fn load(path: &Path) -> Result<Plan, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("{}: cannot read the plan file: {e}", path.display()))?;
        toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// The name of the task a component (or pinned name) ends up in: merged
    /// into another, then renamed.
    pub fn task_name(&self, component: &str) -> String {
        let merged = self
            .merge
            .iter()
            .find(|(_, members)| members.iter().any(|m| m == component))
            .map(|(into, _)| into.as_str())
            .unwrap_or(component);
        self.rename
            .get(merged)
            .cloned()
            .unwrap_or_else(|| merged.to_string())
    }
}
