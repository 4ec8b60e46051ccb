//! Task conditions. Fuel writes them in its expression language or in YAQL;
//! the simple comparison `settings:a.b.c == value` (or `!=`) is evaluated
//! against the inventory's settings, anything else is kept as text and
//! reported, and the task runs.

use serde_json::Value;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    True,
    False,
    /// Not a form granule evaluates; the reason says why.
    Unknown(String),
}

pub fn evaluate(condition: &str, settings: &Value) -> Verdict {
    let text = condition.trim();
    let (path, negate, expected) = if let Some((left, right)) = text.split_once("==") {
        (left.trim(), false, right.trim())
    } else if let Some((left, right)) = text.split_once("!=") {
        (left.trim(), true, right.trim())
    } else {
        return Verdict::Unknown("not a `settings:path == value` comparison".into());
    };
    let Some(path) = path.strip_prefix("settings:") else {
        return Verdict::Unknown("only `settings:` paths are evaluated".into());
    };
    if path.is_empty()
        || !path
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-')
        || expected.contains(['&', '|', '(', ')', '=', '!'])
        || expected.contains(" and ")
        || expected.contains(" or ")
    {
        return Verdict::Unknown("not a single comparison".into());
    }
    let Some(actual) = path
        .split('.')
        .try_fold(settings, |value, key| value.get(key))
    else {
        return Verdict::Unknown(format!("setting `{path}` is not defined"));
    };
    let equal = literal_equals(actual, expected);
    if equal != negate {
        Verdict::True
    } else {
        Verdict::False
    }
}

fn literal_equals(actual: &Value, literal: &str) -> bool {
    let unquoted = literal
        .strip_prefix('\'')
        .and_then(|rest| rest.strip_suffix('\''))
        .or_else(|| {
            literal
                .strip_prefix('"')
                .and_then(|rest| rest.strip_suffix('"'))
        });
    match (actual, unquoted) {
        (Value::String(text), Some(expected)) => text == expected,
        (_, Some(_)) => false,
        (Value::Bool(flag), None) => literal == if *flag { "true" } else { "false" },
        (Value::Null, None) => literal == "null",
        (Value::Number(number), None) => literal
            .parse::<f64>()
            .is_ok_and(|expected| number.as_f64() == Some(expected)),
        (Value::String(text), None) => text == literal,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn compares_settings() {
        let settings = json!({"storage": {"ceph": {"value": true}, "kind": "lvm"}, "count": 3});
        assert_eq!(
            evaluate("settings:storage.ceph.value == true", &settings),
            Verdict::True
        );
        assert_eq!(
            evaluate("settings:storage.ceph.value != true", &settings),
            Verdict::False
        );
        assert_eq!(
            evaluate("settings:storage.kind == 'lvm'", &settings),
            Verdict::True
        );
        assert_eq!(
            evaluate("settings:storage.kind == \"ceph\"", &settings),
            Verdict::False
        );
        assert_eq!(evaluate("settings:count == 3", &settings), Verdict::True);
        assert!(matches!(
            evaluate("settings:missing.x == 1", &settings),
            Verdict::Unknown(_)
        ));
        assert!(matches!(
            evaluate("settings:count == 3 and settings:x == 1", &settings),
            Verdict::Unknown(_)
        ));
        assert!(matches!(
            evaluate("changed($.network_scheme)", &settings),
            Verdict::Unknown(_)
        ));
    }
}
