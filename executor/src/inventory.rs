//! The nodes a plan runs on: `nodes.yaml`, or the local node with `--role`.

use crate::error::{yaml_error, Diagnostic, Diagnostics};
use crate::yaql;
use serde::Deserialize;
use serde_saphyr::Spanned;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SshTarget {
    pub host: String,
    pub port: Option<u16>,
    pub user: Option<String>,
    pub key: Option<PathBuf>,
    /// Extra `-o` options for the system `ssh` client.
    pub options: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Transport {
    Local,
    Ssh(SshTarget),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub name: String,
    pub roles: Vec<String>,
    pub transport: Transport,
    /// The node's deployment data, in the shape of Fuel's `astute.yaml`:
    /// what conditions and YAQL fields are evaluated on.
    pub data: Option<Arc<yaql::Value>>,
    /// The data of the previous deployment, for Nailgun's `changed()`...
    pub previous_data: Option<Arc<yaql::Value>>,
}

#[derive(Clone, Debug, Default)]
pub struct Inventory {
    pub nodes: Vec<Node>,
    /// Cluster settings that `settings:a.b == value` conditions read.
    pub settings: yaql::Value,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInventory {
    nodes: Vec<Spanned<RawNode>>,
    #[serde(default)]
    settings: Option<yaql::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNode {
    name: String,
    #[serde(default)]
    roles: Vec<String>,
    #[serde(default)]
    transport: Option<String>,
    #[serde(default)]
    host: Option<String>,
    #[serde(default)]
    port: Option<u16>,
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    key: Option<PathBuf>,
    #[serde(default)]
    ssh_options: Vec<String>,
    /// Deployment data file (Fuel's `astute.yaml`), relative to the inventory.
    #[serde(default)]
    data: Option<PathBuf>,
    /// The previous deployment's data file.
    #[serde(default)]
    previous_data: Option<PathBuf>,
}

/// Reads a node's deployment data (YAML, Fuel's `astute.yaml` shape).
pub fn load_data(path: &Path) -> Result<Arc<yaql::Value>, Diagnostic> {
    let text = std::fs::read_to_string(path)
        .map_err(|err| Diagnostic::new(path, format!("cannot read deployment data: {err}")))?;
    let value: yaql::Value = serde_saphyr::from_str(&text).map_err(|err| {
        yaml_error(path, &err).help("deployment data is a YAML mapping, as Fuel's astute.yaml")
    })?;
    match value {
        yaql::Value::Map(_) => Ok(Arc::new(value)),
        _ => Err(Diagnostic::new(path, "deployment data must be a YAML mapping")
            .help("write it as Fuel's astute.yaml: `uid`, `roles`, `network_metadata`, settings sections...")),
    }
}

impl Inventory {
    /// Shares the equal parts of all nodes' data and previous data (see
    /// [`yaql::Interner`]): a cluster's data files repeat each other.
    pub fn share_data(&mut self) {
        let mut interner = yaql::Interner::default();
        let mut done: Vec<(Arc<yaql::Value>, Arc<yaql::Value>)> = Vec::new();
        for node in &mut self.nodes {
            for slot in [&mut node.data, &mut node.previous_data] {
                let Some(data) = slot.as_ref() else { continue };
                let shared = match done
                    .iter()
                    .find(|(original, _)| Arc::ptr_eq(original, data))
                {
                    Some((_, shared)) => shared.clone(),
                    None => {
                        let shared = Arc::new(interner.intern(data));
                        done.push((data.clone(), shared.clone()));
                        shared
                    }
                };
                *slot = Some(shared);
            }
        }
    }

    /// The local machine as the only node, with the given roles.
    pub fn local(roles: Vec<String>) -> Inventory {
        Inventory {
            nodes: vec![Node {
                name: "local".to_string(),
                roles,
                transport: Transport::Local,
                data: None,
                previous_data: None,
            }],
            settings: yaql::Value::Null,
        }
    }

    pub fn load(path: &Path) -> Result<Inventory, Diagnostics> {
        let text = std::fs::read_to_string(path)
            .map_err(|err| Diagnostic::new(path, format!("cannot read inventory: {err}")))?;
        Self::parse(path, &text)
    }

    pub fn parse(path: &Path, text: &str) -> Result<Inventory, Diagnostics> {
        let raw: RawInventory = serde_saphyr::from_str(text).map_err(|err| {
            yaml_error(path, &err).help("an inventory is `nodes:` with a list of {name, roles, transport, host, port, user, key}; see docs/executor.md")
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        let mut errors = Diagnostics::default();
        let mut nodes: Vec<Node> = Vec::new();
        let mut seen: Vec<(String, Diagnostic)> = Vec::new();
        for spanned in raw.nodes {
            let node = spanned.value;
            let here = Diagnostic::new(path, "")
                .at(spanned.referenced.line(), spanned.referenced.column());
            let error = |message: String| Diagnostic {
                message,
                ..here.clone()
            };
            if let Some((_, first)) = seen.iter().find(|(name, _)| *name == node.name) {
                let (line, _) = first.position.unwrap_or_default();
                errors.push(
                    error(format!("node `{}` is declared twice", node.name)).help(format!(
                        "first declared on line {line}; node names must be unique"
                    )),
                );
                continue;
            }
            seen.push((node.name.clone(), here.clone()));
            let transport = match node.transport.as_deref() {
                None | Some("local") => Transport::Local,
                Some("ssh") => match node.host {
                    Some(host) => Transport::Ssh(SshTarget {
                        host,
                        port: node.port,
                        user: node.user,
                        // A relative key is relative to the inventory, like any path in it.
                        key: node.key.map(|key| {
                            if key.is_relative() {
                                base.join(key)
                            } else {
                                key
                            }
                        }),
                        options: node.ssh_options,
                    }),
                    None => {
                        errors.push(
                            error(format!("node `{}` uses ssh but has no `host`", node.name)).help(
                                "add `host: <address>` (and `port`, `user`, `key` as needed)",
                            ),
                        );
                        continue;
                    }
                },
                Some(other) => {
                    errors.push(
                        error(format!("node `{}`: unknown transport `{other}`", node.name))
                            .help("use `local` or `ssh`"),
                    );
                    continue;
                }
            };
            let relative = |file: PathBuf| {
                if file.is_relative() {
                    base.join(file)
                } else {
                    file
                }
            };
            let mut data_file =
                |file: Option<PathBuf>| match file.map(relative).map(|file| load_data(&file)) {
                    None => None,
                    Some(Ok(data)) => Some(data),
                    Some(Err(diagnostic)) => {
                        errors.push(diagnostic);
                        None
                    }
                };
            let data = data_file(node.data);
            let previous_data = data_file(node.previous_data);
            nodes.push(Node {
                name: node.name,
                roles: node.roles,
                transport,
                data,
                previous_data,
            });
        }
        if nodes.is_empty() && errors.is_empty() {
            errors.push(Diagnostic::new(path, "the inventory has no nodes"));
        }
        errors.into_result(Inventory {
            nodes,
            settings: raw.settings.unwrap_or(yaql::Value::Null),
        })
    }
}
