//! **case_without_default** (warning): a `case` statement with no `default`
//! branch.
//!
//! Why: a value no branch expects then passes silently; a `default` makes
//! the unexpected case explicit (even if it only fails).
//!
//! Example:
//! ```puppet
//! case $facts['os']['family'] {
//!   'Debian': { include apt }
//! }
//! ```
//!
//! Fix: add `default: { fail("unsupported OS family") }` (or `default: {}`).

use crate::lint::tokens::{Keyword, Kind, Punct};
use crate::lint::{Context, Problems};

pub fn check(cx: &Context, out: &mut Problems) {
    let tokens = cx.tokens;
    let cases: Vec<(usize, usize)> = (0..tokens.len())
        .filter(|&i| tokens.kind(i) == Kind::Keyword(Keyword::Case))
        .filter_map(|start| {
            let mut depth = 0;
            (start + 1..tokens.len()).find_map(|i| {
                match tokens.kind(i) {
                    Kind::Punct(Punct::LBrace) => depth += 1,
                    Kind::Punct(Punct::RBrace) => {
                        depth -= 1;
                        if depth == 0 {
                            return Some((start, i));
                        }
                    }
                    _ => {}
                }
                None
            })
        })
        .collect();
    for (n, &(start, end)) in cases.iter().enumerate() {
        // The tokens of cases found later (nested ones) are not this case's.
        let nested = |i: usize| cases[n + 1..].iter().any(|&(s, e)| (s..=e).contains(&i));
        let mut depth = 0;
        let mut has_default = false;
        for i in (start..=end).filter(|&i| !nested(i)) {
            match tokens.kind(i) {
                Kind::Punct(Punct::LBrace) => depth += 1,
                Kind::Punct(Punct::RBrace) => depth -= 1,
                Kind::Keyword(Keyword::Default) if depth == 1 => {
                    has_default = true;
                    break;
                }
                _ => {}
            }
        }
        if !has_default {
            let first = (start..=end).find(|&i| !nested(i)).unwrap_or(start);
            let token = &tokens.tokens[first];
            out.add(
                "case statement without a default case",
                token.line,
                token.column,
            );
        }
    }
}
