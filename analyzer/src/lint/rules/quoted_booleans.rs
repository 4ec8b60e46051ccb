//! **quoted_booleans** (warning, disabled by default in puppet-lint 3): a
//! string `'true'` or `'false'`.
//!
//! Why: a quoted boolean is a non-empty string, which is true: `'false'`
//! is true in a condition.
//!
//! Example: `enable => 'false',`
//!
//! Fix: `enable => false,`.

use crate::lint::fix::{Arena, Fix};
use crate::lint::tokens::{Keyword, Kind};
use crate::lint::{Context, Problems};

pub fn check(cx: &Context, out: &mut Problems) {
    for (i, token) in cx.tokens.tokens.iter().enumerate() {
        if matches!(token.kind, Kind::String | Kind::SString)
            && (token.value == "true" || token.value == "false")
        {
            out.add_fixable(
                "quoted boolean value found",
                token.line,
                token.column,
                Fix::Token(i),
            );
        }
    }
}

pub fn fix(arena: &mut Arena, fix: &Fix) -> bool {
    let Fix::Token(id) = *fix else { return false };
    let token = arena.token_mut(id);
    token.kind = if token.value == "true" {
        Kind::Keyword(Keyword::True)
    } else {
        Kind::Keyword(Keyword::False)
    };
    true
}
