//! granule's YAQL against the `yaql` library itself (with Nailgun's
//! functions registered in `tests/oracle/yaql_oracle.py`): every `yaql_exp`
//! of Fuel's 2019 task files, and expressions written here for the
//! operators and functions the corpus does not use, each on four data
//! variants (no previous deployment, nothing changed, a changed password
//! with an added node, another role). The values must be equal; where
//! `yaql` fails, granule must fail too. `scripts/test` makes the virtual
//! environment (`target/yaql-venv`) and installs `yaql` from PyPI there.

use granule_executor::condition::node_variables;
use granule_executor::descriptor;
use granule_executor::yaql::{self, Value};
use granule_tests::fuel_data::{
    ask_yaql, astute, fuel_tree, oracle_python, paths_read, yaql_expressions, Case, ClusterNode,
    Settings,
};
use granule_tests::require_reference;

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

#[test]
fn yaql_matches_the_yaql_library() {
    let test = "yaql_matches_the_yaql_library";
    let Some(python) = require_reference(test, oracle_python()) else {
        return;
    };
    let Some(tree) = require_reference(test, fuel_tree("fuel-library-2019")) else {
        return;
    };
    let set = descriptor::load(std::slice::from_ref(&tree)).unwrap_or_else(|e| panic!("{e}"));
    let corpus = yaql_expressions(&set);
    // 192 in the files; 4 are overridden by a duplicate key or belong to an
    // upload whose path Fuel filled in (`{CLUSTER_ID}`), which never runs.
    assert!(
        corpus.len() >= 185,
        "only {} YAQL expressions found in {}",
        corpus.len(),
        tree.display()
    );
    let mut expressions = corpus.clone();
    expressions.extend(EXTRA.iter().map(|text| text.to_string()));
    let paths = paths_read(&expressions);

    let three = [
        ClusterNode {
            uid: 1,
            roles: &["primary-controller"],
        },
        ClusterNode {
            uid: 2,
            roles: &["controller", "cinder"],
        },
        ClusterNode {
            uid: 3,
            roles: &["compute"],
        },
    ];
    let four = [
        ClusterNode {
            uid: 1,
            roles: &["primary-controller"],
        },
        ClusterNode {
            uid: 2,
            roles: &["controller", "cinder"],
        },
        ClusterNode {
            uid: 3,
            roles: &["compute"],
        },
        ClusterNode {
            uid: 4,
            roles: &["primary-mongo", "cinder"],
        },
    ];
    let settings = |flag, password| Settings { flag, password };
    let first = astute(&paths, 1, &three, settings(true, "secret"));
    let variants = [
        ("no previous deployment", first.clone(), None),
        ("nothing changed", first.clone(), Some(first.clone())),
        (
            "a changed password and an added node",
            astute(&paths, 1, &four, settings(true, "changed")),
            Some(first.clone()),
        ),
        (
            "another role, other settings",
            astute(&paths, 4, &four, settings(false, "secret")),
            Some(first),
        ),
    ];

    let mut cases = Vec::new();
    for expression in &expressions {
        for (_, data, previous) in &variants {
            cases.push(Case {
                expression,
                data,
                previous: previous.as_ref(),
            });
        }
    }
    let answers = ask_yaql(&python, &cases);

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
