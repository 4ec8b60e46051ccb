//! Puppet's PN ("Puppet extended S-expression notation") of the AST, the
//! text `puppet parser dump --format pn` prints, and its JSON form
//! (`--format json`).
//!
//! The tree is first turned into a small PN value ([`Pn`]) with the same
//! rules as Puppet's `PNTransformer`, then printed in either syntax.

use crate::ast::*;
use std::borrow::Cow;
use std::fmt::Write;

/// The PN text `puppet parser dump --format pn` prints for this program.
pub fn to_pn(program: &Program) -> String {
    let mut out = String::new();
    write_pn(&transform(&program.body), &mut out);
    out
}

/// The JSON text `puppet parser dump --format json` prints for this program.
pub fn to_json(program: &Program) -> String {
    let mut out = String::new();
    write_json(&transform(&program.body), &mut out);
    out
}

/// A PN value.
#[derive(Debug, Clone, PartialEq)]
pub enum Pn<'a> {
    /// `(name element...)`
    Call(&'static str, Vec<Pn<'a>>),
    /// `[element...]`
    List(Vec<Pn<'a>>),
    /// `{:key value...}`
    Map(Vec<(Cow<'a, str>, Pn<'a>)>),
    Str(Cow<'a, str>),
    Int(i128),
    Float(f64),
    Bool(bool),
    Nil,
}

fn call<'a>(name: &'static str, elements: Vec<Pn<'a>>) -> Pn<'a> {
    Pn::Call(name, elements)
}

fn map<'a>(entries: Vec<(&'static str, Pn<'a>)>) -> Pn<'a> {
    Pn::Map(
        entries
            .into_iter()
            .map(|(k, v)| (Cow::Borrowed(k), v))
            .collect(),
    )
}

fn string(text: &str) -> Pn<'_> {
    Pn::Str(Cow::Borrowed(text))
}

fn list<'a>(exprs: &'a [Expr]) -> Pn<'a> {
    Pn::List(exprs.iter().map(transform).collect())
}

/// A body as a statement list: a block's statements, or the one expression.
fn body_list(expr: Option<&Expr>) -> Pn<'_> {
    match expr {
        Some(Expr {
            kind: ExprKind::Block(statements),
            ..
        }) => list(statements),
        Some(expr) => Pn::List(vec![transform(expr)]),
        None => Pn::List(vec![call("nop", vec![])]),
    }
}

pub fn transform(expr: &Expr) -> Pn<'_> {
    match &expr.kind {
        ExprKind::Nop => call("nop", vec![]),
        ExprKind::Undef => Pn::Nil,
        ExprKind::Default => call("default", vec![]),
        ExprKind::Boolean(b) => Pn::Bool(*b),
        ExprKind::Integer { value, radix: 10 } => Pn::Int(*value),
        ExprKind::Integer { value, radix } => call(
            "int",
            vec![map(vec![
                ("radix", Pn::Int(*radix as i128)),
                ("value", Pn::Int(*value)),
            ])],
        ),
        ExprKind::Float(f) => Pn::Float(*f),
        ExprKind::String(s) => string(s),
        ExprKind::Concat(segments) => call("concat", segments.iter().map(transform).collect()),
        ExprKind::Text(inner) => call("str", vec![transform(inner)]),
        ExprKind::Heredoc { syntax, text, .. } => {
            let mut entries = Vec::with_capacity(2);
            if !syntax.is_empty() {
                entries.push(("syntax", string(syntax)));
            }
            entries.push(("text", transform(text)));
            call("heredoc", vec![map(entries)])
        }
        ExprKind::Regex(source) => call("regexp", vec![Pn::Str(regexp_text(source))]),
        ExprKind::QualifiedName(name) => call("qn", vec![string(name)]),
        ExprKind::QualifiedReference(name) => call("qr", vec![string(name)]),
        ExprKind::Variable(name) => call("var", vec![string(name)]),
        ExprKind::VariableOf(inner) => call("var", vec![transform(inner)]),
        ExprKind::Reserved(word) => call("reserved", vec![string(word)]),
        ExprKind::Array(values) => call("array", values.iter().map(transform).collect()),
        ExprKind::Hash(entries) => call("hash", entries.iter().map(keyed_entry).collect()),
        ExprKind::Access { left, keys } => {
            let mut elements = Vec::with_capacity(keys.len() + 1);
            elements.push(transform(left));
            elements.extend(keys.iter().map(transform));
            call("access", elements)
        }
        ExprKind::NamedAccess { left, right } => call(".", vec![transform(left), transform(right)]),
        ExprKind::Unary { op, expr: inner } => match op {
            UnaryOp::Not => call("!", vec![transform(inner)]),
            UnaryOp::Unfold => call("unfold", vec![transform(inner)]),
            UnaryOp::Minus => match &inner.kind {
                ExprKind::Integer { value, .. } => Pn::Int(-value),
                ExprKind::Float(f) => Pn::Float(-f),
                _ => call("-", vec![transform(inner)]),
            },
        },
        ExprKind::Binary { op, left, right } => {
            call(op.as_str(), vec![transform(left), transform(right)])
        }
        ExprKind::Paren(inner) => call("paren", vec![transform(inner)]),
        ExprKind::Selector { left, entries } => call(
            "?",
            vec![
                transform(left),
                Pn::List(
                    entries
                        .iter()
                        .map(|e| call("=>", vec![transform(&e.matching), transform(&e.value)]))
                        .collect(),
                ),
            ],
        ),
        ExprKind::Call(c) => {
            let mut entries = vec![("functor", transform(&c.functor)), ("args", list(&c.args))];
            if let Some(lambda) = &c.lambda {
                entries.push(("block", transform(lambda)));
            }
            let name = match (c.kind, c.rval_required) {
                (CallKind::Named, true) => "call",
                (CallKind::Named, false) => "invoke",
                (CallKind::Method, true) => "call-method",
                (CallKind::Method, false) => "invoke-method",
            };
            call(name, vec![map(entries)])
        }
        ExprKind::If(c) => conditional("if", c),
        ExprKind::Unless(c) => conditional("unless", c),
        ExprKind::Case { test, options } => call(
            "case",
            vec![
                transform(test),
                Pn::List(
                    options
                        .iter()
                        .map(|o| {
                            map(vec![
                                ("when", list(&o.values)),
                                ("then", body_list(o.body.as_ref())),
                            ])
                        })
                        .collect(),
                ),
            ],
        ),
        ExprKind::Block(statements) => call("block", statements.iter().map(transform).collect()),
        ExprKind::Lambda(lambda) => {
            let mut entries = Vec::new();
            if !lambda.params.is_empty() {
                entries.push(("params", parameters(&lambda.params)));
            }
            if let Some(returns) = &lambda.return_type {
                entries.push(("returns", transform(returns)));
            }
            if lambda.body.is_some() {
                entries.push(("body", body_list(lambda.body.as_ref())));
            }
            call("lambda", vec![map(entries)])
        }
        ExprKind::Resource {
            type_name,
            bodies,
            form,
        } => {
            let bodies = bodies
                .iter()
                .map(|b| {
                    map(vec![
                        ("title", transform(&b.title)),
                        ("ops", operations(&b.ops)),
                    ])
                })
                .collect();
            let mut entries = vec![("type", transform(type_name)), ("bodies", Pn::List(bodies))];
            push_form(&mut entries, *form);
            call("resource", vec![map(entries)])
        }
        ExprKind::ResourceDefaults {
            type_ref,
            ops,
            form,
        } => {
            let mut entries = vec![("type", transform(type_ref)), ("ops", operations(ops))];
            push_form(&mut entries, *form);
            call("resource-defaults", vec![map(entries)])
        }
        ExprKind::ResourceOverride {
            resources,
            ops,
            form,
        } => {
            let mut entries = vec![
                ("resources", transform(resources)),
                ("ops", operations(ops)),
            ];
            push_form(&mut entries, *form);
            call("resource-override", vec![map(entries)])
        }
        ExprKind::Collect {
            type_expr,
            query,
            ops,
        } => {
            let query_name = if query.exported {
                "exported-query"
            } else {
                "virtual-query"
            };
            let query_pn = call(query_name, query.expr.iter().map(transform).collect());
            let mut entries = vec![("type", transform(type_expr)), ("query", query_pn)];
            if !ops.is_empty() {
                entries.push(("ops", operations(ops)));
            }
            call("collect", vec![map(entries)])
        }
        ExprKind::Class(d) => definition("class", d),
        ExprKind::Define(d) => definition("define", d),
        ExprKind::Function(d) => definition("function", d),
        ExprKind::Node(node) => {
            let mut entries = vec![("matches", list(&node.matches))];
            if let Some(parent) = &node.parent {
                entries.push(("parent", transform(parent)));
            }
            if node.body.is_some() {
                entries.push(("body", body_list(node.body.as_ref())));
            }
            call("node", vec![map(entries)])
        }
        ExprKind::TypeAlias { name, type_expr } => {
            call("type-alias", vec![string(name), transform(type_expr)])
        }
        ExprKind::TypeMapping { type_expr, mapping } => call(
            "type-mapping",
            vec![transform(type_expr), transform(mapping)],
        ),
        ExprKind::TypeDefinition { name, parent, body } => call(
            "type-definition",
            vec![
                string(name),
                parent.as_deref().map_or(Pn::Nil, string),
                body.as_deref()
                    .map_or_else(|| call("nop", vec![]), transform),
            ],
        ),
        ExprKind::Epp(epp) => {
            // Puppet prints the body block's statements as the arguments of `epp`.
            let epp_pn = match &epp.body {
                None => call("epp", vec![]),
                Some(Expr {
                    kind: ExprKind::Block(statements),
                    ..
                }) => call("epp", statements.iter().map(transform).collect()),
                Some(body) => call("epp", vec![transform(body)]),
            };
            let mut entries = Vec::new();
            if let Some(params) = &epp.params {
                if !params.is_empty() {
                    entries.push(("params", parameters(params)));
                }
            }
            entries.push(("body", Pn::List(vec![epp_pn])));
            call("lambda", vec![map(entries)])
        }
        ExprKind::RenderString(text) => call("render-s", vec![string(text)]),
        ExprKind::RenderExpr(inner) => call("render", vec![transform(inner)]),
    }
}

/// A regular expression as Puppet prints it (`PRegexpType.regexp_to_s`):
/// its source, wrapped in a group that spells out its flags when Ruby's
/// `Regexp` has any. Puppet's lexer sets none, but Ruby marks a pattern
/// whose encoding is fixed to UTF-8, so such a pattern prints as
/// `(?-imx:source)`.
fn regexp_text(source: &str) -> Cow<'_, str> {
    if ruby_fixes_encoding(source) {
        Cow::Owned(format!("(?-imx:{source})"))
    } else {
        Cow::Borrowed(source)
    }
}

/// Whether Ruby compiles `source` (UTF-8) into a `Regexp` with a fixed
/// encoding, as `rb_reg_preprocess` decides: a non-ASCII character, a
/// Unicode property (`\p{..}`, `\P{..}`), a `\u` escape above U+007F, or a
/// byte escape above 0x7F (`\xHH`, octal, `\M-`), which Ruby only accepts
/// when it forms a UTF-8 character.
fn ruby_fixes_encoding(source: &str) -> bool {
    if !source.is_ascii() {
        return true;
    }
    let bytes = source.as_bytes();
    let mut at = 0;
    while at < bytes.len() {
        if bytes[at] != b'\\' {
            at += 1;
            continue;
        }
        let escape = &bytes[at + 1..];
        let fixes = match escape.first() {
            Some(b'p' | b'P') => true,
            Some(b'M') => escape.get(1) == Some(&b'-'),
            Some(b'x') => escaped_value(&escape[1..], 16, 2) > 0x7f,
            Some(b'0'..=b'7') => escaped_value(escape, 8, 3) > 0x7f,
            Some(b'u') => unicode_escape_above_ascii(&escape[1..]),
            _ => false,
        };
        if fixes {
            return true;
        }
        // The escaped character is skipped too, so that `\\p` is a
        // backslash and a `p`.
        at += 2;
    }
    false
}

/// The value of the digits of `radix` that start `digits`, at most `max`.
fn escaped_value(digits: &[u8], radix: u32, max: usize) -> u32 {
    digits
        .iter()
        .take(max)
        .map_while(|&digit| char::from(digit).to_digit(radix))
        .fold(0, |value: u32, digit| {
            value.saturating_mul(radix).saturating_add(digit)
        })
}

/// Whether the code points of a `\uHHHH` or `\u{H.. H..}` escape (`after_u`
/// starts after the `u`) include one above U+007F.
fn unicode_escape_above_ascii(after_u: &[u8]) -> bool {
    match after_u.strip_prefix(b"{") {
        Some(list) => list
            .split(|&byte| byte == b'}')
            .next()
            .unwrap_or_default()
            .split(|byte| byte.is_ascii_whitespace())
            .any(|code_point| escaped_value(code_point, 16, code_point.len()) > 0x7f),
        None => escaped_value(after_u, 16, 4) > 0x7f,
    }
}

fn keyed_entry(entry: &KeyedEntry) -> Pn<'_> {
    call("=>", vec![transform(&entry.key), transform(&entry.value)])
}

fn push_form<'a>(entries: &mut Vec<(&'static str, Pn<'a>)>, form: ResourceForm) {
    if form != ResourceForm::Regular {
        entries.push(("form", string(form.as_str())));
    }
}

fn operations(ops: &[AttributeOp]) -> Pn<'_> {
    Pn::List(
        ops.iter()
            .map(|op| match op {
                AttributeOp::Set {
                    name,
                    append,
                    value,
                    ..
                } => call(
                    if *append { "+>" } else { "=>" },
                    vec![string(name), transform(value)],
                ),
                AttributeOp::Splat { value, .. } => call("splat-hash", vec![transform(value)]),
            })
            .collect(),
    )
}

fn conditional<'a>(name: &'static str, c: &'a Conditional) -> Pn<'a> {
    let mut entries = vec![("test", transform(&c.test))];
    if c.then_branch.is_some() {
        entries.push(("then", body_list(c.then_branch.as_ref())));
    }
    if c.else_branch.is_some() {
        entries.push(("else", body_list(c.else_branch.as_ref())));
    }
    call(name, vec![map(entries)])
}

fn parameters(params: &[Parameter]) -> Pn<'_> {
    Pn::Map(
        params
            .iter()
            .map(|p| {
                let mut entries = Vec::new();
                if let Some(t) = &p.type_expr {
                    entries.push(("type", transform(t)));
                }
                if p.captures_rest {
                    entries.push(("splat", Pn::Bool(true)));
                }
                if let Some(v) = &p.value {
                    entries.push(("value", transform(v)));
                }
                (Cow::Borrowed(p.name.as_str()), map(entries))
            })
            .collect(),
    )
}

fn definition<'a>(name: &'static str, d: &'a Definition) -> Pn<'a> {
    let mut entries = vec![("name", string(&d.name))];
    if let Some(parent) = &d.parent {
        entries.push(("parent", string(parent)));
    }
    if !d.params.is_empty() {
        entries.push(("params", parameters(&d.params)));
    }
    if d.body.is_some() {
        entries.push(("body", body_list(d.body.as_ref())));
    }
    if let Some(returns) = &d.return_type {
        entries.push(("returns", transform(returns)));
    }
    call(name, vec![map(entries)])
}

// ----- printing ----------------------------------------------------------------

pub fn write_pn(pn: &Pn, out: &mut String) {
    match pn {
        Pn::Call(name, elements) => {
            out.push('(');
            out.push_str(name);
            for e in elements {
                out.push(' ');
                write_pn(e, out);
            }
            out.push(')');
        }
        Pn::List(elements) => {
            out.push('[');
            for (i, e) in elements.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                write_pn(e, out);
            }
            out.push(']');
        }
        Pn::Map(entries) => {
            out.push('{');
            for (i, (key, value)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                out.push(':');
                out.push_str(key);
                out.push(' ');
                write_pn(value, out);
            }
            out.push('}');
        }
        Pn::Str(s) => write_pn_string(s, out),
        Pn::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Pn::Float(f) => out.push_str(&ruby_float(*f)),
        Pn::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Pn::Nil => out.push_str("nil"),
    }
}

fn write_pn_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\o{:03o}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

pub fn write_json(pn: &Pn, out: &mut String) {
    match pn {
        Pn::Call(name, elements) => {
            out.push_str("{\"^\":[");
            write_json_string(name, out);
            for e in elements {
                out.push(',');
                write_json(e, out);
            }
            out.push_str("]}");
        }
        Pn::List(elements) => {
            out.push('[');
            for (i, e) in elements.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(e, out);
            }
            out.push(']');
        }
        Pn::Map(entries) => {
            out.push_str("{\"#\":[");
            for (i, (key, value)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json_string(key, out);
                out.push(',');
                write_json(value, out);
            }
            out.push_str("]}");
        }
        Pn::Str(s) => write_json_string(s, out),
        Pn::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Pn::Float(f) => out.push_str(&ruby_float(*f)),
        Pn::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Pn::Nil => out.push_str("null"),
    }
}

/// JSON string escaping as Ruby's `JSON.dump` does it (no escaping of `/`
/// or of non-ASCII characters).
fn write_json_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A float as Ruby's `Float#to_s` prints it: the shortest digits that read
/// back the same, in plain notation when the decimal exponent is in
/// -4..16, else as `d.ddde+XX`.
pub fn ruby_float(f: f64) -> String {
    if f == 0.0 {
        return if f.is_sign_negative() { "-0.0" } else { "0.0" }.to_string();
    }
    // `{:e}` gives the shortest round-trip digits: "-1.2345e-7".
    let sci = format!("{f:e}");
    let (mantissa, exponent) = sci.split_once('e').expect("exponent in {:e}");
    let exponent: i32 = exponent.parse().expect("numeric exponent");
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    // Ruby's decimal point position: value = 0.DIGITS * 10^decpt.
    let decpt = exponent + 1;
    let body = if (-3..=15).contains(&decpt) {
        if decpt <= 0 {
            format!("0.{}{}", "0".repeat((-decpt) as usize), digits)
        } else if decpt as usize >= digits.len() {
            format!("{}{}.0", digits, "0".repeat(decpt as usize - digits.len()))
        } else {
            format!(
                "{}.{}",
                &digits[..decpt as usize],
                &digits[decpt as usize..]
            )
        }
    } else {
        let fraction = if digits.len() > 1 { &digits[1..] } else { "0" };
        let exp_sign = if exponent < 0 { '-' } else { '+' };
        format!(
            "{}.{}e{}{:02}",
            &digits[..1],
            fraction,
            exp_sign,
            exponent.abs()
        )
    };
    format!("{sign}{body}")
}

#[cfg(test)]
mod tests {
    use super::ruby_float;

    #[test]
    fn floats_print_like_ruby() {
        for (value, text) in [
            (1e15, "1.0e+15"),
            (1e14, "100000000000000.0"),
            (123456789012345.0, "123456789012345.0"),
            (1234567890123456.0, "1.234567890123456e+15"),
            (0.001, "0.001"),
            (0.0001234, "0.0001234"),
            (0.00001234, "1.234e-05"),
            (5e-324, "5.0e-324"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (2.75, "2.75"),
            (-2.5, "-2.5"),
            (100.0, "100.0"),
        ] {
            assert_eq!(ruby_float(value), text, "{value:e}");
        }
    }
}
