//! **star_comments** (warning): a `/* */` comment.
//!
//! Why: the style guide uses `#` comments only.
//!
//! Example: `/* the web server */`
//!
//! Fix: write `# the web server`, one `#` per line.

use crate::lint::fix::{Arena, Fix};
use crate::lint::tokens::Kind;
use crate::lint::{Context, Problems};

pub fn check(cx: &Context, out: &mut Problems) {
    for (i, token) in cx.tokens.tokens.iter().enumerate() {
        if token.kind == Kind::MlComment {
            out.add_fixable(
                "/* */ comment found",
                token.line,
                token.column,
                Fix::Token(i),
            );
        }
    }
}

/// One `#` comment per line of the `/* */` comment, each indented like
/// the comment (puppet-lint copies the token before it as indentation).
pub fn fix(arena: &mut Arena, fix: &Fix) -> bool {
    let Fix::Token(id) = *fix else { return false };
    let text = arena.token(id).value.trim().to_string();
    let mut lines = text.split('\n').map(str::trim);
    let first = lines.next().unwrap_or("");
    let token = arena.token_mut(id);
    token.kind = Kind::Comment;
    token.value = format!(" {first}");
    let indent = arena.prev(id).map(|p| arena.token(p).value.clone());
    let rest: Vec<&str> = lines.collect();
    // Ruby's `split` drops trailing empty lines.
    let keep = rest
        .iter()
        .rposition(|l| !l.is_empty())
        .map_or(0, |i| i + 1);
    let mut after = id;
    for line in &rest[..keep] {
        after = arena.insert_after(after, Kind::Newline, "\n");
        if let Some(indent) = &indent {
            after = arena.insert_after(after, Kind::Indent, indent);
        }
        after = arena.insert_after(after, Kind::Comment, &format!(" {line}"));
    }
    true
}
