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
        // The tokens of cases found later and nested in this one are not
        // this case's: each is stepped over at once (checking every token
        // against every later case grows with the square of the file).
        let mut nested = cases[n + 1..]
            .iter()
            .take_while(|&&(s, _)| s <= end)
            .peekable();
        let mut depth = 0;
        let mut has_default = false;
        let mut i = start;
        while i <= end {
            if let Some(&&(s, e)) = nested.peek() {
                if s == i {
                    // Those nested in this nested case are stepped over with it.
                    while nested.next_if(|&&(s, _)| s <= e).is_some() {}
                    i = e + 1;
                    continue;
                }
            }
            match tokens.kind(i) {
                Kind::Punct(Punct::LBrace) => depth += 1,
                Kind::Punct(Punct::RBrace) => depth -= 1,
                Kind::Keyword(Keyword::Default) if depth == 1 => {
                    has_default = true;
                    break;
                }
                _ => {}
            }
            i += 1;
        }
        if !has_default {
            let token = &tokens.tokens[start];
            out.add(
                "case statement without a default case",
                token.line,
                token.column,
            );
        }
    }
}
