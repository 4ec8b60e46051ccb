//! Any text as a YAQL expression or a Nailgun condition: a value or an
//! error, never a panic (nor a stack overflow).

use granule_executor::condition::{compile, Facts};
use granule_executor::descriptor::Condition;
use granule_executor::yaql::{self, Value};
use proptest::prelude::*;
use std::collections::HashMap;

/// Pieces of real expressions, so that random texts get past the lexer.
const PIECES: &[&str] = &[
    "$",
    "$.",
    "a",
    "b",
    "get(",
    "values()",
    "where(",
    "select(",
    "any(",
    "len(",
    "switch(",
    "changed(",
    "changedAny(",
    "added(",
    "deleted(",
    "old(",
    "new(",
    "concat(",
    "toYaml()",
    "flatten()",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    "=>",
    ".",
    "?.",
    "+",
    "-",
    "*",
    "/",
    " mod ",
    "=",
    "!=",
    "<",
    ">=",
    " in ",
    " not ",
    " and ",
    " or ",
    "=~",
    "'x'",
    "\"y\"",
    "1",
    "2.5",
    "true",
    "null",
    "-9223372036854775808",
    "9223372036854775807",
    "0",
    "settings:a.b",
    "==",
    "cluster:c",
];

fn data() -> Value {
    Value::from_json(&serde_json::json!({
        "a": {"b": [1, 2, {"c": "d"}], "n": null},
        "b": [[1], [2, [3]]],
        "roles": ["controller"],
        "uid": "1",
    }))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn pieces_never_panic(parts in prop::collection::vec(prop::sample::select(PIECES), 0..40)) {
        let text: String = parts.concat();
        let data = data();
        if let Ok(expression) = yaql::parse(&text) {
            let _ = expression.evaluate(&data, Some(&data), &HashMap::new());
            let _ = expression.evaluate(&data, None, &HashMap::new());
        }
        let facts = Facts { data: Some(&data), previous: None, settings: &data };
        for condition in [Condition::Yaql(text.clone()), Condition::Nailgun(text)] {
            if let Ok(compiled) = compile(&condition) {
                let _ = compiled.decide(&facts);
            }
        }
    }

    #[test]
    fn any_text_never_panics(text in "\\PC{0,60}") {
        let _ = yaql::parse(&text);
        let _ = compile(&Condition::Nailgun(text));
    }
}

#[test]
fn deep_and_long_inputs_are_errors() {
    for text in [
        "(".repeat(50_000),
        format!("{}1{}", "[".repeat(50_000), "]".repeat(50_000)),
        "not ".repeat(50_000) + "true",
        format!("1{}", " or 1".repeat(50_000)),
        "-".repeat(50_000) + "1",
    ] {
        assert!(yaql::parse(&text).is_err());
        assert!(compile(&Condition::Nailgun(text)).is_err());
    }
}
