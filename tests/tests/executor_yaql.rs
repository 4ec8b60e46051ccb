//! granule's YAQL against the `yaql` library itself (with Nailgun's
//! functions registered in `tests/oracle/yaql_oracle.py`): every `yaql_exp`
//! of Fuel's 2019 task files, and expressions written here for the
//! operators and functions the corpus does not use, each on four data
//! variants (no previous deployment, nothing changed, a changed password
//! with an added node, another role). The values must be equal; where
//! `yaql` fails, granule must fail too. `scripts/test` makes the virtual
//! environment (`target/yaql-venv`) and installs `yaql` from PyPI there.

use granule_executor::condition::node_variables;
use granule_executor::descriptor::{self, Action, Condition, UploadData};
use granule_executor::yaql::{self, Value};
use granule_tests::{repo_root, require_reference, target_dir};
use serde_json::json;
use std::io::Write;
use std::process::{Command, Stdio};

const EXTRA: &[&str] = &[
    "1 + 2 * 3 - 4",
    "7 / 2",
    "-7 / 2",
    "7 mod 3",
    "-7 mod 3",
    "1.5 * 2",
    "-$.deployed_before.value",
    "'a' + 'b'",
    "[1, 2] + [3]",
    "{a => 1} + {b => 2}",
    "1 = 1.0",
    "true = 1",
    "null = null",
    "1 != 2",
    "1 < 2 and 'a' < 'b'",
    "2 >= 2 or false",
    "null < 1",
    "1 > null",
    "'ab' in 'cabd'",
    "'x' in $.roles",
    "not $.roles",
    "$.uid =~ '^[0-9]+$'",
    "$.fqdn !~ 'node'",
    "$.missing_key",
    "$.roles[0]",
    "$.roles[-1]",
    "$.roles[5]",
    "$.network_metadata.nodes.keys()",
    "$.network_metadata.nodes.values().fqdn",
    "$.network_metadata.nodes.values().select($.uid)",
    "$.network_metadata.nodes.values().where(len($.node_roles) > 1).uid",
    "$.network_metadata.nodes.values().all($.fqdn != null)",
    "$.network_metadata.nodes.values().any()",
    "$.network_metadata.nodes.values().orderBy($.fqdn).uid",
    "[3, 1, 2].orderBy($)",
    "$.roles.first()",
    "[].first(7)",
    "[1, 1, 2].distinct()",
    "[1, 2].toSet().union([2, 3].toSet())",
    "[[1, [2]], 3].flatten()",
    "coalesce(null, $.get('nothing'), 3)",
    "concat('node-', $.uid, '-x')",
    "concat('a', 1)",
    "len($.network_metadata) + len('abc')",
    "len(null)",
    "$.get('nothing', {}).get('deeper')",
    "$.network_metadata?.vips?.vrouter?.ipaddr",
    "$.get('nothing')?.x",
    "$.network_metadata.nodes['node-1']",
    "$.network_metadata.nodes['node-9', 'none']",
    "switch($.deployed_before.value => 'again', true => 'first')",
    "switch(false => 1)",
    "{'deployed' => $.deployed_before.value, 'roles' => $.roles}.toYaml()",
    "$.public_ssl.toYaml()",
    "changedAll($.mysql, $.roles)",
    "changed($)",
    "deleted($.network_metadata.nodes.values().uid)",
    "added($.mysql)",
    "deleted($.mysql)",
    "old($.mysql)",
    "old($.mysql).isUndef()",
    "new($.uid) = $.uid",
    "$node.uid + $common.fqdn",
    "$.roles.where($.matches('controller')).select('x-' + $)",
];

/// The python of `target/yaql-venv` when `yaql` imports there.
fn oracle_python() -> Result<std::path::PathBuf, String> {
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

/// Every YAQL expression of the task files under `root`.
fn corpus_expressions(root: &std::path::Path) -> Vec<String> {
    let set = descriptor::load(&[root.to_path_buf()]).unwrap_or_else(|e| panic!("{e}"));
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

/// The top-level keys the expressions read (`$.name`, `.get('name')`).
fn keys_read(expressions: &[String]) -> Vec<String> {
    let mut keys = Vec::new();
    for text in expressions {
        for marker in ["$.", ".get('", ".get(\""] {
            for (at, _) in text.match_indices(marker) {
                let name: String = text[at + marker.len()..]
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '-')
                    .collect();
                if !name.is_empty() && !keys.contains(&name) {
                    keys.push(name);
                }
            }
        }
    }
    keys
}

fn node(uid: u32, roles: &[&str]) -> serde_json::Value {
    json!({
        "uid": uid.to_string(),
        "fqdn": format!("node-{uid}.test.local"),
        "node_roles": roles,
        "network_roles": {
            "mgmt/messaging": format!("10.20.0.{uid}"),
            "mgmt/database": format!("10.20.0.{uid}"),
            "cinder/iscsi": format!("10.30.0.{uid}"),
        },
    })
}

/// Deployment data in the shape of Fuel's astute.yaml for a node of
/// `roles`; every other key the expressions read is a settings section.
fn astute(
    keys: &[String],
    roles: &[&str],
    nodes: &[(u32, &[&str])],
    flag: bool,
    password: &str,
) -> serde_json::Value {
    let mut data = serde_json::Map::new();
    for key in keys {
        data.insert(
            key.clone(),
            json!({"enabled": flag, "value": format!("{key}-value"), "db_password": password}),
        );
    }
    let all_nodes: serde_json::Map<String, serde_json::Value> = nodes
        .iter()
        .map(|(uid, roles)| (format!("node-{uid}"), node(*uid, roles)))
        .collect();
    let fixed = json!({
        "uid": "1",
        "fqdn": "node-1.test.local",
        "roles": roles,
        "deployment_mode": "ha_compact",
        "deployed_before": {"value": !flag},
        "plugins": [],
        "mysql": {"root_password": password, "enabled": true},
        "network_metadata": {
            "nodes": all_nodes,
            "vips": {
                "vrouter": {"ipaddr": "10.20.0.100", "node_roles": ["controller", "primary-controller"]},
                "management": {"ipaddr": "10.20.0.101"},
            },
        },
        "network_scheme": {"endpoints": {
            "br-mgmt": {"IP": ["10.20.0.1/24"], "gateway": "10.20.0.254"},
            "br-storage": {"IP": ["10.30.0.1/24"]},
        }},
        "public_ssl": {"horizon": flag, "services": !flag, "cert_source": if flag {"self_signed"} else {"user_uploaded"}, "hostname": "public.test", "cert_data": {"content": password}},
        "storage": {"objects_ceph": flag, "images_ceph": !flag, "volumes_ceph": false, "ephemeral_ceph": flag, "volumes_lvm": true},
        "configuration": {"mysql": {"max_connections": 100}, "cinder": {}},
        "quantum_settings": {"keystone": {"admin_password": password}},
    });
    for (key, value) in fixed.as_object().expect("a mapping") {
        data.insert(key.clone(), value.clone());
    }
    serde_json::Value::Object(data)
}

#[test]
fn yaql_matches_the_yaql_library() {
    let test = "yaql_matches_the_yaql_library";
    let Some(python) = require_reference(test, oracle_python()) else {
        return;
    };
    let tree = repo_root().join("../shared/corpora/fuel-library-2019");
    let Some(tree) = require_reference(
        test,
        tree.is_dir()
            .then_some(tree.clone())
            .ok_or(format!("no Fuel corpus at {}", tree.display())),
    ) else {
        return;
    };
    let corpus = corpus_expressions(&tree);
    assert!(
        corpus.len() >= 185,
        "only {} YAQL expressions found in {}",
        corpus.len(),
        tree.display()
    );
    let mut expressions = corpus.clone();
    expressions.extend(EXTRA.iter().map(|text| text.to_string()));
    let keys = keys_read(&expressions);

    let controllers: &[(u32, &[&str])] = &[
        (1, &["primary-controller"]),
        (2, &["controller", "cinder"]),
        (3, &["compute"]),
    ];
    let grown: &[(u32, &[&str])] = &[
        (1, &["primary-controller"]),
        (2, &["controller", "cinder"]),
        (3, &["compute"]),
        (4, &["primary-mongo"]),
    ];
    let first = astute(&keys, &["primary-controller"], controllers, true, "secret");
    let variants = [
        ("no previous deployment", first.clone(), None),
        ("nothing changed", first.clone(), Some(first.clone())),
        (
            "a changed password and an added node",
            astute(&keys, &["primary-controller"], grown, true, "changed"),
            Some(first.clone()),
        ),
        (
            "another role, other settings",
            astute(&keys, &["primary-mongo", "cinder"], grown, false, "secret"),
            Some(first),
        ),
    ];

    let mut cases = Vec::new();
    for expression in &expressions {
        for (_, data, previous) in &variants {
            cases.push(json!({"expr": expression, "data": data, "previous": previous}));
        }
    }
    let mut child = Command::new(&python)
        .arg(repo_root().join("tests/oracle/yaql_oracle.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the yaql oracle");
    let input = json!({"cases": cases}).to_string();
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("feed the oracle");
    let output = child.wait_with_output().expect("the yaql oracle");
    assert!(output.status.success(), "the yaql oracle failed");
    let answers: Vec<serde_json::Value> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect();
    assert_eq!(answers.len(), cases.len());

    let mut mismatches = Vec::new();
    let mut valued = 0;
    let mut corpus_valued = 0;
    for (index, answer) in answers.iter().enumerate() {
        let expression = &expressions[index / variants.len()];
        let (variant, data, previous) = &variants[index % variants.len()];
        let data = Value::from_json(data);
        let previous = previous.as_ref().map(Value::from_json);
        let ours = yaql::parse(expression)
            .map_err(|err| err.to_string())
            .and_then(|parsed| {
                parsed
                    .evaluate(&data, previous.as_ref(), &node_variables(&data))
                    .map_err(|err| err.to_string())
            });
        let agree = match (&ours, answer.get("value")) {
            (Ok(value), Some(expected)) => {
                valued += 1;
                if index / variants.len() < corpus.len() {
                    corpus_valued += 1;
                }
                same(value, &Value::from_json(expected))
            }
            (Err(_), None) => true,
            _ => false,
        };
        if !agree {
            mismatches.push(format!(
                "`{}` ({variant}):\n  granule: {:?}\n  yaql:    {}",
                expression.split_whitespace().collect::<Vec<_>>().join(" "),
                ours.map(|value| value.to_json().to_string()),
                answer
            ));
        }
    }
    eprintln!(
        "{} expressions ({} from the corpus) x {} variants: {} values, {} errors on both sides, {} mismatches",
        expressions.len(),
        corpus.len(),
        variants.len(),
        valued,
        cases.len() - valued - mismatches.len(),
        mismatches.len()
    );
    assert!(
        mismatches.is_empty(),
        "{} mismatches:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
    // The data must answer the corpus' questions, not make them all fail.
    assert!(
        corpus_valued * 10 >= corpus.len() * variants.len() * 9,
        "only {corpus_valued} of {} corpus cases have a value",
        corpus.len() * variants.len()
    );
}

/// Equal values; YAML text (from `toYaml()`) compared as the data it holds.
fn same(ours: &Value, theirs: &Value) -> bool {
    match (ours, theirs) {
        (Value::Str(a), Value::Str(b)) if a.contains('\n') || b.contains('\n') => {
            let parse = |text: &str| serde_saphyr::from_str::<Value>(text).ok();
            parse(a).is_some() && parse(a) == parse(b)
        }
        // Through JSON, so that Nailgun's undefined compares with its marker.
        _ => Value::from_json(&ours.to_json()) == *theirs,
    }
}
