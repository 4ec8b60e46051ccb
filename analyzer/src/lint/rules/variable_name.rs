//! Shared by the variable name checks: each variable token with the name
//! part of its value (puppet-lint keeps `[...]` accesses in the token and
//! removes them, shortest first, before looking at the name).

use crate::lint::tokens::{Kind, Token};
use crate::lint::Context;

pub fn variables<'a>(cx: &'a Context) -> impl Iterator<Item = (&'a Token, String)> {
    cx.tokens
        .tokens
        .iter()
        .filter(|t| matches!(t.kind, Kind::Variable | Kind::UnencVariable))
        .map(|t| (t, without_accesses(&t.value)))
}

/// Ruby's `gsub(/\[.+?\]/, '')`.
fn without_accesses(value: &str) -> String {
    let mut out = String::new();
    let mut rest = value;
    while let Some(open) = rest.find('[') {
        let after = &rest[open + 1..];
        // `.+?` needs at least one character before the `]`.
        let close = after
            .char_indices()
            .skip(1)
            .find(|&(_, c)| c == ']')
            .map(|(i, _)| i);
        match close {
            Some(close) if !after[..close].contains('\n') => {
                out.push_str(&rest[..open]);
                rest = &after[close + 1..];
            }
            _ => {
                out.push_str(&rest[..open + 1]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}
