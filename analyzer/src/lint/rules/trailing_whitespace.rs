//! **trailing_whitespace** (error): white space at the end of a line.
//!
//! Why: trailing blanks are invisible noise that shows up in diffs and
//! merge conflicts.
//!
//! Example: `$x = 1␠␠` (spaces after the last character of the line).
//!
//! Fix: delete the spaces or tabs before the line end.

use crate::lint::fix::{Arena, Fix};
use crate::lint::tokens::Kind;
use crate::lint::{Context, Problems};

pub fn check(cx: &Context, out: &mut Problems) {
    let tokens = cx.tokens;
    for (i, token) in tokens.tokens.iter().enumerate() {
        if !matches!(token.kind, Kind::Whitespace | Kind::Indent) {
            continue;
        }
        if tokens
            .next(i)
            .is_none_or(|n| tokens.kind(n) == Kind::Newline)
        {
            out.add_fixable(
                "trailing whitespace found",
                token.line,
                token.column,
                Fix::Token(i),
            );
        }
    }
}

pub fn fix(arena: &mut Arena, fix: &Fix) -> bool {
    let Fix::Token(id) = *fix else { return false };
    arena.remove(id);
    true
}
