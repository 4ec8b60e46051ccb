//! The nodes a plan runs on: `nodes.yaml`, or the local node with `--role`.

use crate::error::{yaml_error, Diagnostic, Diagnostics};
use serde::Deserialize;
use serde_json::Value;
use serde_saphyr::Spanned;
use std::path::{Path, PathBuf};

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

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    pub name: String,
    pub roles: Vec<String>,
    pub transport: Transport,
}

#[derive(Clone, Debug, Default)]
pub struct Inventory {
    pub nodes: Vec<Node>,
    /// Cluster settings that `settings:a.b == value` conditions read.
    pub settings: Value,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInventory {
    nodes: Vec<Spanned<RawNode>>,
    #[serde(default)]
    settings: Option<Value>,
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
}

impl Inventory {
    /// The local machine as the only node, with the given roles.
    pub fn local(roles: Vec<String>) -> Inventory {
        Inventory {
            nodes: vec![Node {
                name: "local".to_string(),
                roles,
                transport: Transport::Local,
            }],
            settings: Value::Null,
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
            nodes.push(Node {
                name: node.name,
                roles: node.roles,
                transport,
            });
        }
        if nodes.is_empty() && errors.is_empty() {
            errors.push(Diagnostic::new(path, "the inventory has no nodes"));
        }
        errors.into_result(Inventory {
            nodes,
            settings: raw.settings.unwrap_or(Value::Null),
        })
    }
}
