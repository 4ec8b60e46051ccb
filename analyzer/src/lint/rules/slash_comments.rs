//! **slash_comments** (warning): a `//` comment.
//!
//! Why: the style guide uses `#` comments only.
//!
//! Example: `// the web server`
//!
//! Fix: write `# the web server`.

use crate::lint::tokens::Kind;
use crate::lint::{Context, Problems};

pub fn check(cx: &Context, out: &mut Problems) {
    for token in &cx.tokens.tokens {
        if token.kind == Kind::SlashComment {
            out.add("// comment found", token.line, token.column);
        }
    }
}
