//! **puppet_url_without_modules** (warning): a `puppet://` URL whose path
//! does not start with `modules/`.
//!
//! Why: files served by the Puppet server live in modules; other mount
//! points are a legacy setup that breaks when code moves.
//!
//! Example: `source => 'puppet:///files/motd'`
//!
//! Fix: `source => 'puppet:///modules/motd/motd'`.

use crate::lint::fix::{Arena, Fix};
use crate::lint::tokens::Kind;
use crate::lint::{Context, Problems};

pub fn check(cx: &Context, out: &mut Problems) {
    for (i, token) in cx.tokens.tokens.iter().enumerate() {
        if !matches!(token.kind, Kind::SString | Kind::String | Kind::DqPre) {
            continue;
        }
        let Some(after) = token.value.strip_prefix("puppet://") else {
            continue;
        };
        if !module_path(after).is_some_and(|p| p.starts_with("modules/")) {
            out.add_fixable(
                "puppet:// URL without modules/ found",
                token.line,
                token.column,
                Fix::Token(i),
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

/// puppet-lint's `gsub(%r{(puppet://.*?/)}, '\1modules/')`.
pub fn fix(arena: &mut Arena, fix: &Fix) -> bool {
    static URL: std::sync::LazyLock<regex::Regex> =
        std::sync::LazyLock::new(|| regex::Regex::new("(puppet://.*?/)").expect("url pattern"));
    let Fix::Token(id) = *fix else { return false };
    let token = arena.token_mut(id);
    token.value = URL.replace_all(&token.value, "${1}modules/").into_owned();
    true
}
