//! **documentation** (warning): a class or define without a comment right
//! above it.
//!
//! Why: the comment above a class is its documentation (puppet-strings
//! reads it); an undocumented class leaves its users guessing.
//!
//! Example:
//! ```puppet
//! class ntp {
//! }
//! ```
//!
//! Fix:
//! ```puppet
//! # Installs and configures the NTP daemon.
//! class ntp {
//! }
//! ```

use crate::lint::tokens::Kind;
use crate::lint::{Context, Problems};

pub fn check(cx: &Context, out: &mut Problems) {
    let tokens = cx.tokens;
    for definition in cx.classes_and_defines() {
        if documented(cx, definition.start) {
            continue;
        }
        let first = &tokens.tokens[definition.start];
        let what = super::definition_kind_name(definition);
        out.add(format!("{what} not documented"), first.line, first.column);
    }
}

/// Whether a comment stands before the keyword with at most one line end
/// (and any white space) between them.
fn documented(cx: &Context, start: usize) -> bool {
    let tokens = cx.tokens;
    let mut newlines = 0;
    let mut at = tokens.prev(start);
    while let Some(i) = at {
        let kind = tokens.kind(i);
        if !matches!(kind, Kind::Whitespace | Kind::Newline | Kind::Indent) {
            break;
        }
        if kind == Kind::Newline {
            newlines += 1;
        }
        if newlines > 1 {
            break;
        }
        at = tokens.prev(i);
    }
    at.is_some_and(|i| tokens.kind(i).is_comment())
}
