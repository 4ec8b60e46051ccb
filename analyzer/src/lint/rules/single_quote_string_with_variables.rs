//! **single_quote_string_with_variables** (error): a single-quoted string
//! containing `${`, which is not interpolated.
//!
//! Why: the author almost certainly meant the variable's value. Strings
//! passed to `inline_epp` or `inline_template` are exempt: they are
//! templates.
//!
//! Example: `$path = '/etc/${name}.conf'`
//!
//! Fix: `$path = "/etc/${name}.conf"`.

use crate::lint::tokens::Kind;
use crate::lint::{Context, Problems};

pub fn check(cx: &Context, out: &mut Problems) {
    let tokens = cx.tokens;
    for (i, token) in tokens.tokens.iter().enumerate() {
        if token.kind != Kind::SString || !token.value.contains("${") {
            continue;
        }
        // Two tokens back: the function name of `inline_epp('...')`.
        let template = i
            .checked_sub(2)
            .map(|p| &tokens.tokens[p].value)
            .is_some_and(|v| v.contains("inline_epp") || v.contains("inline_template"));
        if !template {
            out.add(
                "single quoted string containing a variable found",
                token.line,
                token.column,
            );
        }
    }
}
