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
            let value = &tokens.tokens[value];
            if value.value.starts_with('/') {
                out.add(
                    "symlink target specified in ensure attr",
                    value.line,
                    value.column,
                );
            }
        }
    }
}
