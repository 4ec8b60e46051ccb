//! **arrow_on_right_operand_line** (warning): a `->` or `~>` at the end of a
//! line instead of at the start of the line of its right operand.
//!
//! Why: with the arrow leading the line, a chain reads as a list of steps
//! and each step can be moved or removed on its own.
//!
//! Example:
//! ```puppet
//! Package['x'] ->
//! Service['x']
//! ```
//!
//! Fix:
//! ```puppet
//! Package['x']
//! -> Service['x']
//! ```

use crate::lint::tokens::{Kind, Punct};
use crate::lint::{Context, Problems};

pub fn check(cx: &Context, out: &mut Problems) {
    let tokens = cx.tokens;
    for (i, token) in tokens.tokens.iter().enumerate() {
        if !matches!(token.kind, Kind::Punct(Punct::InEdge | Punct::InEdgeSub)) {
            continue;
        }
        let next_line = tokens.next_code(i).map(|n| tokens.tokens[n].line);
        if next_line != Some(token.line) {
            out.add(
                "arrow should be on the right operand's line",
                token.line,
                token.column,
            );
        }
    }
}
