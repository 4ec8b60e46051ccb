//! **hard_tabs** (error): a tab character in white space or indentation.
//!
//! Why: the style guide indents with spaces, so code looks the same in
//! every editor.
//!
//! Example: `⇥$x = 1` (a tab before the code).
//!
//! Fix: replace each tab with two spaces.

use crate::lint::tokens::Kind;
use crate::lint::{Context, Problems};

pub fn check(cx: &Context, out: &mut Problems) {
    for token in &cx.tokens.tokens {
        if matches!(token.kind, Kind::Whitespace | Kind::Indent) && token.value.contains('\t') {
            out.add("tab character found", token.line, token.column);
        }
    }
}
