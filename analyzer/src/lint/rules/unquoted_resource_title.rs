//! **unquoted_resource_title** (warning): a resource title written as a bare
//! word.
//!
//! Why: titles are strings; a bare word looks like a reference or a
//! function call and cannot hold `/`, `-` or spaces.
//!
//! Example: `package { nginx: ensure => installed }`
//!
//! Fix: `package { 'nginx': ensure => installed }`.

use crate::lint::fix::{Arena, Fix};
use crate::lint::tokens::{Kind, Punct};
use crate::lint::{Context, Problems};

pub fn check(cx: &Context, out: &mut Problems) {
    let tokens = cx.tokens;
    for i in title_tokens(cx) {
        let token = &tokens.tokens[i];
        if token.kind == Kind::Name {
            out.add_fixable(
                "unquoted resource title",
                token.line,
                token.column,
                Fix::Token(i),
            );
        }
    }
}

/// puppet-lint's `title_tokens`: the token just before each `:` not
/// followed by `{`, or the strings and names of an array title (from the
/// file's last `[`, as puppet-lint looks for it).
fn title_tokens(cx: &Context) -> Vec<usize> {
    let tokens = cx.tokens;
    let mut titles = Vec::new();
    for colon in (1..tokens.len()).filter(|&i| tokens.kind(i) == Kind::Punct(Punct::Colon)) {
        if tokens.kind(colon - 1) == Kind::Punct(Punct::RBrack) {
            let Some(open) = (0..tokens.len())
                .rev()
                .find(|&i| tokens.kind(i) == Kind::Punct(Punct::LBrack))
            else {
                continue;
            };
            titles.extend(
                (open + 1..colon.saturating_sub(1))
                    .filter(|&i| matches!(tokens.kind(i), Kind::String | Kind::Name)),
            );
        } else if tokens
            .next_code(colon)
            .is_some_and(|n| tokens.kind(n) != Kind::Punct(Punct::LBrace))
        {
            titles.push(colon - 1);
        }
    }
    titles
}

pub fn fix(arena: &mut Arena, fix: &Fix) -> bool {
    let Fix::Token(id) = *fix else { return false };
    arena.token_mut(id).kind = Kind::SString;
    true
}
