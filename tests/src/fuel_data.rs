//! Fuel's deployment data and YAQL reference for the tests of Fuel's real
//! task graphs: deployment data in the shape of Fuel's `astute.yaml`, the
//! `yaql` library (in `target/yaql-venv`, made by `scripts/test`) with
//! Nailgun's functions (`tests/oracle/yaql_oracle.py`), and the YAQL
//! expressions of a task set.

use crate::{repo_root, target_dir};
use granule_executor::descriptor::{Action, Condition, UploadData};
use granule_executor::TaskSet;
use serde_json::{json, Value};
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// The corpus of Fuel's task files, read in place.
pub fn fuel_tree(name: &str) -> Result<PathBuf, String> {
    let tree = repo_root().join("../shared/corpora").join(name);
    if tree.is_dir() {
        Ok(tree)
    } else {
        Err(format!("no Fuel corpus at {}", tree.display()))
    }
}

/// The python of `target/yaql-venv` when `yaql` imports there.
pub fn oracle_python() -> Result<PathBuf, String> {
    let python = target_dir().join("yaql-venv/bin/python");
    let works = Command::new(&python)
        .args(["-c", "import collections.abc, yaql, yaml"])
        .status()
        .is_ok_and(|status| status.success());
    if works {
        Ok(python)
    } else {
        Err(format!(
            "no `yaql` in {} (scripts/test makes that virtual environment)",
            python.display()
        ))
    }
}

/// One question for the oracle: an expression on a node's data.
pub struct Case<'a> {
    pub expression: &'a str,
    pub data: &'a Value,
    pub previous: Option<&'a Value>,
}

/// The `yaql` library's answer to each case: `{"value": ...}` or `{"error": ...}`.
pub fn ask_yaql(python: &PathBuf, cases: &[Case]) -> Vec<Value> {
    // Each data document is sent once, and cases refer to it by number.
    let mut documents: Vec<&Value> = Vec::new();
    let mut input: Vec<Value> = Vec::with_capacity(cases.len());
    for case in cases {
        let mut numbers = [Some(case.data), case.previous].map(|document| {
            let document = document?;
            Some(
                match documents
                    .iter()
                    .position(|known| std::ptr::eq(*known, document))
                {
                    Some(index) => index,
                    None => {
                        documents.push(document);
                        documents.len() - 1
                    }
                },
            )
        });
        input.push(json!({
            "expr": case.expression,
            "data": numbers[0].take(),
            "previous": numbers[1].take(),
        }));
    }
    let mut child = Command::new(python)
        .arg(repo_root().join("tests/oracle/yaql_oracle.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the yaql oracle");
    let text = json!({ "documents": documents, "cases": input }).to_string();
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("feed the oracle");
    let output = child.wait_with_output().expect("the yaql oracle");
    assert!(output.status.success(), "the yaql oracle failed");
    let answers: Vec<Value> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect();
    assert_eq!(answers.len(), cases.len(), "one answer per case");
    answers
}

/// Python's truth of an oracle answer; None when the oracle failed.
pub fn truthy(answer: &Value) -> Option<bool> {
    let value = answer.get("value")?;
    Some(match value {
        Value::Null => false,
        Value::Bool(flag) => *flag,
        Value::Number(number) => number.as_f64() != Some(0.0),
        Value::String(text) => !text.is_empty(),
        Value::Array(items) => !items.is_empty(),
        Value::Object(map) => !map.is_empty(),
    })
}

/// Every YAQL expression of a task set: conditions, computed fields, upload data.
pub fn yaql_expressions(set: &TaskSet) -> Vec<String> {
    let mut found = Vec::new();
    for task in &set.tasks {
        if let Some(Condition::Yaql(text)) = &task.condition {
            found.push(text.clone());
        }
        found.extend(task.computed.fields().map(|(_, text)| text.to_string()));
        if let Action::UploadFile {
            data: UploadData::Yaql(text),
            ..
        } = &task.action
        {
            found.push(text.clone());
        }
    }
    found
}

/// The paths the expressions read: `$.a.b.c` as [a, b, c] (up to a method
/// call), and `.get('a')` as [a].
pub fn paths_read(expressions: &[String]) -> Vec<Vec<String>> {
    let mut paths: Vec<Vec<String>> = Vec::new();
    let word = |text: &str| -> String {
        text.chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '-')
            .collect()
    };
    for text in expressions {
        for (at, _) in text.match_indices("$.") {
            let mut path = Vec::new();
            let mut rest = &text[at + 2..];
            loop {
                let name = word(rest);
                rest = &rest[name.len()..];
                if name.is_empty() || rest.starts_with('(') {
                    break;
                }
                path.push(name);
                match rest.strip_prefix('.') {
                    Some(after) => rest = after,
                    None => break,
                }
            }
            if !path.is_empty() && !paths.contains(&path) {
                paths.push(path);
            }
        }
        for marker in [".get('", ".get(\""] {
            for (at, _) in text.match_indices(marker) {
                let name = word(&text[at + marker.len()..]);
                if !name.is_empty() && !paths.contains(&vec![name.clone()]) {
                    paths.push(vec![name]);
                }
            }
        }
    }
    paths
}

/// `b` merged into `a`, `b` winning at the leaves.
fn merge(a: &mut Value, b: &Value) {
    match (a, b) {
        (Value::Object(a), Value::Object(b)) => {
            for (key, value) in b {
                match a.get_mut(key) {
                    Some(existing) => merge(existing, value),
                    None => {
                        a.insert(key.clone(), value.clone());
                    }
                }
            }
        }
        (a, b) => *a = b.clone(),
    }
}

/// A cluster node as `network_metadata.nodes` lists it.
pub struct ClusterNode<'a> {
    pub uid: u32,
    pub roles: &'a [&'a str],
}

/// What varies between two deployments of the same cluster.
#[derive(Clone, Copy)]
pub struct Settings<'a> {
    /// Every `enabled` flag, and the other switches (ceph, ssl...).
    pub flag: bool,
    /// The database and service passwords.
    pub password: &'a str,
}

/// Deployment data in the shape of Fuel's `astute.yaml` for node `uid` of
/// the cluster; each other path the expressions read leads to a settings
/// section (`enabled`, `value`, `db_password`), its last key to `flag`.
pub fn astute(
    paths: &[Vec<String>],
    uid: u32,
    cluster: &[ClusterNode],
    settings: Settings,
) -> Value {
    let Settings { flag, password } = settings;
    let mut data = json!({});
    for path in paths {
        let mut slot = &mut data;
        for (depth, key) in path.iter().enumerate() {
            let leaf = depth + 1 == path.len();
            let map = slot.as_object_mut().expect("a mapping");
            let section = || json!({"enabled": flag, "value": format!("{key}-value"), "db_password": password});
            let entry = map.entry(key.clone()).or_insert_with(|| {
                if leaf && depth > 0 {
                    json!(flag)
                } else {
                    section()
                }
            });
            if !entry.is_object() && !leaf {
                *entry = section();
            }
            slot = entry;
        }
    }
    let nodes: serde_json::Map<String, Value> = cluster
        .iter()
        .map(|node| {
            let id = node.uid;
            (
                format!("node-{id}"),
                json!({
                    "uid": id.to_string(),
                    "fqdn": format!("node-{id}.test.local"),
                    "node_roles": node.roles,
                    "network_roles": {
                        "mgmt/messaging": format!("10.20.0.{id}"),
                        "mgmt/database": format!("10.20.0.{id}"),
                        "cinder/iscsi": format!("10.30.0.{id}"),
                    },
                }),
            )
        })
        .collect();
    let roles = cluster
        .iter()
        .find(|node| node.uid == uid)
        .map_or(&[][..], |node| node.roles);
    let fixed = json!({
        "uid": uid.to_string(),
        "fqdn": format!("node-{uid}.test.local"),
        "roles": roles,
        "nodes": cluster.iter().map(|node| json!({"uid": node.uid.to_string(), "role": node.roles.first()})).collect::<Vec<_>>(),
        "deployment_mode": "ha_compact",
        "deployed_before": {"value": !flag},
        "plugins": [],
        "mysql": {"root_password": password, "enabled": true},
        "network_metadata": {
            "nodes": nodes,
            "vips": {
                "vrouter": {"ipaddr": "10.20.0.100", "node_roles": ["controller", "primary-controller"]},
                "management": {"ipaddr": "10.20.0.101"},
            },
        },
        "network_scheme": {
            "endpoints": {
                "br-mgmt": {"IP": [format!("10.20.0.{uid}/24")], "gateway": "10.20.0.254"},
                "br-storage": {"IP": [format!("10.30.0.{uid}/24")]},
            },
            "transformations": [{"action": "add-br", "name": "br-mgmt"}],
        },
        "public_ssl": {
            "horizon": flag,
            "services": !flag,
            "cert_source": if flag { "self_signed" } else { "user_uploaded" },
            "hostname": "public.test",
            "cert_data": {"content": password},
        },
        "storage": {"objects_ceph": flag, "images_ceph": !flag, "volumes_ceph": false, "ephemeral_ceph": flag, "volumes_lvm": true},
        "configuration": {"mysql": {"max_connections": 100}, "cinder": {}},
        "quantum_settings": {"keystone": {"admin_password": password}},
    });
    merge(&mut data, &fixed);
    data
}
