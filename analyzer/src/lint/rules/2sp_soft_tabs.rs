//! **2sp_soft_tabs** (error): indentation that is not a multiple of two
//! characters.
//!
//! Why: the style guide indents by two spaces per level.
//!
//! Example:
//! ```puppet
//! class a {
//!    $x = 1
//! }
//! ```
//!
//! Fix: indent by an even number of spaces (two per nesting level).

use crate::lint::tokens::Kind;
use crate::lint::{Context, Problems};

pub fn check(cx: &Context, out: &mut Problems) {
    for token in &cx.tokens.tokens {
        // puppet-lint measures the indentation in characters.
        if token.kind == Kind::Indent && token.value.chars().count() % 2 == 1 {
            out.add("two-space soft tabs not used", token.line, token.column);
        }
    }
}
