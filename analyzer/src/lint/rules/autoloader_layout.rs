//! **autoloader_layout** (error): a class or define in a file where Puppet's
//! autoloader would not look for it.
//!
//! Why: Puppet finds `foo::bar::baz` only in `foo/manifests/bar/baz.pp`
//! and `foo` only in `foo/manifests/init.pp`; anywhere else it is found
//! only if that file happened to be loaded first.
//!
//! Example: `class apache::vhost` in `apache/manifests/vhosts.pp`.
//!
//! Fix: move it to `apache/manifests/vhost.pp` (or rename the class).

use granule_parser::qualified::Qualified;
use crate::lint::{Context, Problems};

pub fn check(cx: &Context, out: &mut Problems) {
    let fullpath = cx.fullpath.to_string_lossy();
    if fullpath.is_empty() {
        return;
    }
    for definition in cx.classes_and_defines() {
        let name = &cx.tokens.tokens[definition.name_token];
        let parts = ruby_split(&name.value);
        let expected = match parts.as_slice() {
            [module, rest @ ..] if !rest.is_empty() => {
                format!("/{module}/manifests/{}.pp", rest.join("/"))
            }
            _ => format!("/{}/manifests/init.pp", name.value),
        };
        if !fullpath.ends_with(&expected) {
            out.add(
                format!("{} not in autoload module layout", name.value),
                name.line,
                name.column,
            );
        }
    }
}

/// Ruby's `split('::')`: trailing empty parts are dropped.
fn ruby_split(text: &str) -> Vec<&str> {
    let mut parts: Vec<&str> = text.segments().collect();
    while parts.last() == Some(&"") {
        parts.pop();
    }
    parts
}
