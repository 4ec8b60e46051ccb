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

use crate::lint::fix::{Arena, Fix};
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
            out.add_fixable(
                "arrow should be on the right operand's line",
                token.line,
                token.column,
                Fix::Token(i),
            );
        }
    }
}

/// The arrow moves before its right operand (followed by a space); a
/// space left at the end of the left operand's line goes.
pub fn fix(arena: &mut Arena, fix: &Fix) -> bool {
    let Fix::Token(arrow) = *fix else {
        return false;
    };
    let (Some(left), Some(right)) = (arena.prev_code(arrow), arena.next_code(arrow)) else {
        return false;
    };
    arena.remove(arrow);
    arena.link_before(right, arrow);
    arena.insert_before(right, Kind::Whitespace, " ");
    let Some(space) = arena
        .next(left)
        .filter(|&s| arena.token(s).kind == Kind::Whitespace)
    else {
        return true;
    };
    if arena
        .next(space)
        .is_some_and(|n| matches!(arena.token(n).kind, Kind::Newline | Kind::Whitespace))
    {
        arena.remove(space);
    }
    true
}
