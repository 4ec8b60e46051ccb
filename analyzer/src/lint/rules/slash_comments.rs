//! **slash_comments** (warning): a `//` comment.
//!
//! Why: the style guide uses `#` comments only.
//!
//! Example: `// the web server`
//!
//! Fix: write `# the web server`.

use crate::lint::fix::{Arena, Fix};
use crate::lint::tokens::Kind;
use crate::lint::{Context, Problems};

pub fn check(cx: &Context, out: &mut Problems) {
    for (i, token) in cx.tokens.tokens.iter().enumerate() {
        if token.kind == Kind::SlashComment {
            out.add_fixable("// comment found", token.line, token.column, Fix::Token(i));
        }
    }
}

pub fn fix(arena: &mut Arena, fix: &Fix) -> bool {
    let Fix::Token(id) = *fix else { return false };
    arena.token_mut(id).kind = Kind::Comment;
    true
}
