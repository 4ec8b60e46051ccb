//! **parameter_order** (warning): a required parameter of a class or define
//! listed after an optional one (one with a default).
//!
//! Why: required parameters first is the convention readers rely on to
//! see what must be passed.
//!
//! Example: `class ntp ($servers = [], $package) { }`
//!
//! Fix: `class ntp ($package, $servers = []) { }`.

use crate::lint::tokens::{Kind, Punct, TokenList};
use crate::lint::{Context, Problems};

pub fn check(cx: &Context, out: &mut Problems) {
    let tokens = cx.tokens;
    let definitions: Vec<(usize, usize)> = cx
        .classes_and_defines()
        .filter_map(|definition| definition.params)
        .collect();
    if definitions.is_empty() {
        return;
    }
    let types_before = tokens.prev_tokens_of(Kind::Type);
    for (from, to) in definitions {
        let mut parens = 0usize;
        let mut nesting = 0usize;
        let mut default_seen = false;
        for (i, type_before) in types_before.iter().enumerate().take(to).skip(from) {
            match tokens.kind(i) {
                Kind::Punct(Punct::LParen) => parens += 1,
                Kind::Punct(Punct::RParen) => parens = parens.saturating_sub(1),
                Kind::Punct(Punct::LBrace | Punct::LBrack) => nesting += 1,
                Kind::Punct(Punct::RBrace | Punct::RBrack) => nesting = nesting.saturating_sub(1),
                Kind::Punct(Punct::Equals) => default_seen = true,
                _ => {}
            }
            if nesting > 0 || parens > 0 || !is_parameter(tokens, i) {
                continue;
            }
            if default_seen && is_required(tokens, i, *type_before) {
                let token = &tokens.tokens[i];
                out.add(
                    "optional parameter listed before required parameter",
                    token.line,
                    token.column,
                );
            }
        }
    }
}

fn is_parameter(tokens: &TokenList, i: usize) -> bool {
    tokens.kind(i) == Kind::Variable
        && tokens.prev_code(i).is_some_and(|p| {
            matches!(
                tokens.kind(p),
                Kind::Punct(Punct::LParen | Punct::Comma | Punct::RBrack) | Kind::Type
            )
        })
}

/// `type_before`: the token `prev_token_of(i, Kind::Type)` finds.
fn is_required(tokens: &TokenList, i: usize, type_before: Option<usize>) -> bool {
    if type_before.is_some_and(|t| tokens.tokens[t].value == "Optional") {
        return false;
    }
    match tokens.next_code(i).map(|n| tokens.kind(n)) {
        None | Some(Kind::Punct(Punct::Comma | Punct::RParen)) => !tokens
            .prev_code(i)
            .is_some_and(|p| tokens.kind(p) == Kind::Punct(Punct::Equals)),
        _ => false,
    }
}
