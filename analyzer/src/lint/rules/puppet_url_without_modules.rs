//! **puppet_url_without_modules** (warning): a `puppet://` URL whose path
//! does not start with `modules/`.
//!
//! Why: files served by the Puppet server live in modules; other mount
//! points are a legacy setup that breaks when code moves.
//!
//! Example: `source => 'puppet:///files/motd'`
//!
//! Fix: `source => 'puppet:///modules/motd/motd'`.

use crate::lint::tokens::Kind;
use crate::lint::{Context, Problems};

pub fn check(cx: &Context, out: &mut Problems) {
    for token in &cx.tokens.tokens {
        if !matches!(token.kind, Kind::SString | Kind::String | Kind::DqPre) {
            continue;
        }
        let Some(after) = token.value.strip_prefix("puppet://") else {
            continue;
        };
        if !module_path(after).is_some_and(|p| p.starts_with("modules/")) {
            out.add(
                "puppet:// URL without modules/ found",
                token.line,
                token.column,
            );
        }
    }
}

/// What puppet-lint's `puppet://.*?/(.+)` captures: the text after the
/// first `/` of the rest of the line, when there is some.
fn module_path(after_scheme: &str) -> Option<&str> {
    let line = after_scheme.split('\n').next().unwrap_or("");
    let slash = line.find('/')?;
    let path = &line[slash + 1..];
    (!path.is_empty()).then_some(path)
}
