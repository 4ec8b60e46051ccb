//! **hard_tabs** (error): a tab character in white space or indentation.
//!
//! Why: the style guide indents with spaces, so code looks the same in
//! every editor.
//!
//! Example: `⇥$x = 1` (a tab before the code).
//!
//! Fix: replace each tab with two spaces.

use crate::lint::fix::{Arena, Fix};
use crate::lint::tokens::Kind;
use crate::lint::{Context, Problems};

pub fn check(cx: &Context, out: &mut Problems) {
    for (i, token) in cx.tokens.tokens.iter().enumerate() {
        if matches!(token.kind, Kind::Whitespace | Kind::Indent) && token.value.contains('\t') {
            out.add_fixable(
                "tab character found",
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
    token.value = token.value.replace('\t', "  ");
    true
}
