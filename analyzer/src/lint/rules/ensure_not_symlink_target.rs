//! **ensure_not_symlink_target** (warning): a file's `ensure` set to a path
//! (a symlink target).
//!
//! Why: `ensure => '/path'` makes a link but hides it; `ensure => link`
//! with `target` says so.
//!
//! Example: `file { '/etc/localtime': ensure => '/usr/share/zoneinfo/UTC' }`
//!
//! Fix: `ensure => link, target => '/usr/share/zoneinfo/UTC'`.

use super::{attribute_value, resource_type_is};
use crate::lint::fix::{Arena, Fix};
use crate::lint::tokens::{Kind, Punct};
use crate::lint::{Context, Problems};

pub fn check(cx: &Context, out: &mut Problems) {
    let tokens = cx.tokens;
    for resource in cx.resources() {
        if !resource_type_is(cx, resource, &["file"]) {
            continue;
        }
        for &param in &resource.param_tokens {
            if tokens.tokens[param].value != "ensure" {
                continue;
            }
            let Some(value) = attribute_value(cx, param) else {
                continue;
            };
            let id = value;
            let value = &tokens.tokens[value];
            if value.value.starts_with('/') {
                out.add_fixable(
                    "symlink target specified in ensure attr",
                    value.line,
                    value.column,
                    Fix::SymlinkTarget { param, value: id },
                );
            }
        }
    }
}

/// `ensure => symlink,` then `target =>` the path on a line of its own,
/// indented like the attribute (puppet-lint writes `symlink`).
pub fn fix(arena: &mut Arena, fix: &Fix) -> bool {
    let Fix::SymlinkTarget { param, value } = *fix else {
        return false;
    };
    let indent = arena
        .prev(param)
        .map(|p| arena.token(p).value.clone())
        .unwrap_or_default();
    for (kind, text) in [
        (Kind::Name, "symlink"),
        (Kind::Punct(Punct::Comma), ","),
        (Kind::Newline, "\n"),
        (Kind::Indent, indent.as_str()),
        (Kind::Name, "target"),
        (Kind::Whitespace, " "),
        (Kind::Punct(Punct::FArrow), "=>"),
        (Kind::Whitespace, " "),
    ] {
        arena.insert_before(value, kind, text);
    }
    true
}
