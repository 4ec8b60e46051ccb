//! **quoted_booleans** (warning, disabled by default in puppet-lint 3): a
//! string `'true'` or `'false'`.
//!
//! Why: a quoted boolean is a non-empty string, which is true: `'false'`
//! is true in a condition.
//!
//! Example: `enable => 'false',`
//!
//! Fix: `enable => false,`.

use crate::lint::tokens::Kind;
use crate::lint::{Context, Problems};

pub fn check(cx: &Context, out: &mut Problems) {
    for token in &cx.tokens.tokens {
        if matches!(token.kind, Kind::String | Kind::SString)
            && (token.value == "true" || token.value == "false")
        {
            out.add("quoted boolean value found", token.line, token.column);
        }
    }
}
