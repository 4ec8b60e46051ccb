//! **double_quoted_strings** (warning): a double-quoted string with no
//! variable and no escape that needs double quotes.
//!
//! Why: single quotes say "nothing is interpolated here" and need no
//! escaping of `$`.
//!
//! Example: `$greeting = "hello"`
//!
//! Fix: `$greeting = 'hello'`.

use crate::lint::fix::{Arena, Fix};
use crate::lint::tokens::Kind;
use crate::lint::{Context, Problems};

pub fn check(cx: &Context, out: &mut Problems) {
    for (i, token) in cx.tokens.tokens.iter().enumerate() {
        if token.kind != Kind::String {
            continue;
        }
        // puppet-lint first turns runs of `column` spaces into line ends
        // (its way of spotting strings continued on an indented line).
        let value = token.value.replace(&" ".repeat(token.column), "\n");
        if !has_escape(&value) {
            out.add_fixable(
                "double quoted string containing no variables",
                token.line,
                token.column,
                Fix::Token(i),
            );
        }
    }
}

/// puppet-lint's `ESCAPE_CHAR_RE`: `\$`, `\"`, `\'`, `'`, CR, tab, `\t`,
/// `\s`, LF, `\n` or `\\`.
fn has_escape(value: &str) -> bool {
    value.contains(['\'', '\r', '\t', '\n'])
        || ["\\$", "\\\"", "\\'", "\\t", "\\s", "\\n", "\\\\"]
            .iter()
            .any(|escape| value.contains(escape))
}

pub fn fix(arena: &mut Arena, fix: &Fix) -> bool {
    let Fix::Token(id) = *fix else { return false };
    arena.token_mut(id).kind = Kind::SString;
    true
}
