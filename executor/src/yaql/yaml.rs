//! `toYaml()`: Nailgun's serializer, block style.

use super::value::Value;

pub fn to_yaml(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::List(items) if !items.is_empty() => block(value, 0, &mut out),
        Value::Map(entries) if !entries.is_empty() => block(value, 0, &mut out),
        scalar => {
            out.push_str(&inline(scalar));
            out.push('\n');
        }
    }
    out
}

/// Block style as PyYAML writes it: a list under a key is not indented,
/// an item that is a collection starts on its dash's line.
fn block(value: &Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match value {
        Value::Map(entries) => {
            for (key, item) in entries.iter() {
                out.push_str(&format!("{pad}{}:", inline(key)));
                match item {
                    Value::Map(inner) if !inner.is_empty() => {
                        out.push('\n');
                        block(item, indent + 2, out);
                    }
                    Value::List(inner) if !inner.is_empty() => {
                        out.push('\n');
                        block(item, indent, out);
                    }
                    scalar => out.push_str(&format!(" {}\n", inline(scalar))),
                }
            }
        }
        Value::List(items) => {
            for item in items.iter() {
                match item {
                    Value::Map(inner) if !inner.is_empty() => dashed(item, indent, out),
                    Value::List(inner) if !inner.is_empty() => dashed(item, indent, out),
                    scalar => out.push_str(&format!("{pad}- {}\n", inline(scalar))),
                }
            }
        }
        _ => {}
    }
}

/// A collection as a list item: its block, with the dash in its first indent.
fn dashed(item: &Value, indent: usize, out: &mut String) {
    let mut inner = String::new();
    block(item, indent + 2, &mut inner);
    out.push_str(&" ".repeat(indent));
    out.push_str("- ");
    out.push_str(&inner[indent + 2..]);
}

/// A scalar or an empty collection on one line.
fn inline(value: &Value) -> String {
    match value {
        Value::Null | Value::Undefined => "null".into(),
        Value::Bool(flag) => flag.to_string(),
        Value::Int(number) => number.to_string(),
        Value::Float(number) if number.is_finite() => format!("{number:?}"),
        Value::Float(number) if number.is_nan() => ".nan".into(),
        Value::Float(number) => if *number > 0.0 { ".inf" } else { "-.inf" }.into(),
        Value::Str(text) if is_plain(text) => text.to_string(),
        // A JSON string is a valid YAML double-quoted scalar.
        Value::Str(text) => serde_json::Value::String(text.to_string()).to_string(),
        Value::List(_) => "[]".into(),
        Value::Map(_) => "{}".into(),
    }
}

/// Text YAML reads back as the same string without quotes.
fn is_plain(text: &str) -> bool {
    const RESERVED: [&str; 11] = [
        "true", "false", "null", "yes", "no", "on", "off", "y", "n", "~", "",
    ];
    let mut chars = text.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '/')
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '/' | '-'))
        && !RESERVED.contains(&text.to_ascii_lowercase().as_str())
}
