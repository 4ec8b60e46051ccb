//! **unquoted_file_mode** (warning): a file mode written as a bare number
//! or word.
//!
//! Why: `mode => 0644` is the number 644 in decimal-looking octal and a
//! string in others; Puppet 4 and later want a string.
//!
//! Example: `mode => 0644,`
//!
//! Fix: `mode => '0644',`.

use super::file_modes;
use crate::lint::fix::{Arena, Fix};
use crate::lint::tokens::Kind;
use crate::lint::{Context, Problems};

pub fn check(cx: &Context, out: &mut Problems) {
    for id in file_modes(cx).flatten() {
        let value = &cx.tokens.tokens[id];
        if matches!(value.kind, Kind::Name | Kind::Number) {
            out.add_fixable(
                "unquoted file mode",
                value.line,
                value.column,
                Fix::Token(id),
            );
        }
    }
}

pub fn fix(arena: &mut Arena, fix: &Fix) -> bool {
    let Fix::Token(id) = *fix else { return false };
    arena.token_mut(id).kind = Kind::SString;
    true
}
