//! **file_mode** (warning): a file mode that is neither four octal digits
//! nor a symbolic mode.
//!
//! Why: `'644'` or `'755'` read as octal by some providers and not by
//! others; four digits (`'0644'`) or `'u=rw,go=r'` mean one thing.
//!
//! Example: `mode => '644',`
//!
//! Fix: `mode => '0644',`.

use super::file_modes;
use crate::lint::fix::{Arena, Fix};
use crate::lint::tokens::{Keyword, Kind};
use crate::lint::{Context, Problems};
use regex::Regex;
use std::sync::LazyLock;

static MODE: LazyLock<Regex> = LazyLock::new(|| {
    let symbolic = "([ugoa]*[-=+][-=+rstwxXugo]*)(,[ugoa]*[-=+][-=+rstwxXugo]*)*";
    Regex::new(&format!(r"\A([0-7]{{4}}|{symbolic})\n?\z")).expect("file mode pattern")
});

pub fn check(cx: &Context, out: &mut Problems) {
    for modes in file_modes(cx) {
        for id in modes {
            let value = &cx.tokens.tokens[id];
            // puppet-lint stops looking at the resource's modes here.
            if matches!(
                value.kind,
                Kind::Variable | Kind::Keyword(Keyword::Undef) | Kind::FunctionName
            ) || MODE.is_match(&value.value)
            {
                break;
            }
            out.add_fixable(
                "mode should be represented as a 4 digit octal value or symbolic mode",
                value.line,
                value.column,
                Fix::Token(id),
            );
        }
    }
}

/// Three octal digits get a leading zero; other modes are left alone.
pub fn fix(arena: &mut Arena, fix: &Fix) -> bool {
    let Fix::Token(id) = *fix else { return false };
    let token = arena.token_mut(id);
    let value = token.value.strip_suffix('\n').unwrap_or(&token.value);
    if value.len() != 3 || !value.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
        return false;
    }
    token.value = format!("0{}", token.value);
    token.kind = Kind::SString;
    true
}
