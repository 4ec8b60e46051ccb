//! **variables_not_enclosed** (warning): a variable interpolated as `$x`
//! rather than `${x}`.
//!
//! Why: with braces it is clear where the name ends (`"$x_suffix"` reads
//! `$x_suffix`, not `$x` then `_suffix`).
//!
//! Example: `"/home/$user/.ssh"`
//!
//! Fix: `"/home/${user}/.ssh"`.

use crate::lint::fix::{Arena, Fix};
use crate::lint::tokens::tokenise;
use crate::lint::tokens::Kind;
use crate::lint::{Context, Problems};

pub fn check(cx: &Context, out: &mut Problems) {
    for (i, token) in cx.tokens.tokens.iter().enumerate() {
        if token.kind == Kind::UnencVariable {
            out.add_fixable(
                "variable not enclosed in {}",
                token.line,
                token.column,
                Fix::Token(i),
            );
        }
    }
}

/// `$x` becomes `${x}`; an access written right after it in the string
/// (`$x[0]`) moves inside the braces, and a dash ends the name (puppet-lint
/// moves the rest into the text after it).
pub fn fix(arena: &mut Arena, fix: &Fix) -> bool {
    let Fix::Token(var) = *fix else { return false };
    arena.token_mut(var).kind = Kind::Variable;
    if let Some(text) = arena.next(var).filter(|&t| {
        matches!(
            arena.token(t).kind,
            Kind::DqMid | Kind::DqPost | Kind::HeredocMid | Kind::HeredocPost
        ) && arena.token(t).value.starts_with('[')
    }) {
        let value = arena.token(text).value.clone();
        let (access, rest) = split_access(&value);
        if let Ok(lexed) = tokenise(access) {
            for token in lexed.tokens {
                arena.insert_token_before(text, token);
            }
        }
        arena.token_mut(text).value = rest.to_string();
    }
    let name = arena.token(var).value.clone();
    if let Some((name, after)) = name.split_once('-') {
        arena.token_mut(var).value = name.to_string();
        if let Some(next) = arena.next(var) {
            let next = arena.token_mut(next);
            next.value = format!("-{after}{}", next.value);
        }
    }
    true
}

/// The brackets at the start of `text` (`[0]['k']`) and the text after them
/// (puppet-lint's `extract_hash_or_array_ref`).
fn split_access(text: &str) -> (&str, &str) {
    let mut depth = 0i64;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            _ => {}
        }
        let next = chars.peek().map(|&(_, n)| n);
        if depth == 0 && next != Some('[') {
            let end = i + c.len_utf8();
            return (&text[..end], &text[end..]);
        }
    }
    (text, "")
}
