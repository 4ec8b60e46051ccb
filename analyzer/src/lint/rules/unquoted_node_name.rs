//! **unquoted_node_name** (warning): a node name written as a bare word.
//!
//! Why: host names hold characters bare words cannot (`-`, `.`); quoting
//! every node name keeps them uniform.
//!
//! Example: `node web01 { }`
//!
//! Fix: `node 'web01' { }`.

use crate::lint::fix::{Arena, Fix};
use crate::lint::tokens::{Keyword, Kind, Punct};
use crate::lint::{Context, Problems};

pub fn check(cx: &Context, out: &mut Problems) {
    let tokens = cx.tokens;
    for node in (0..tokens.len()).filter(|&i| tokens.kind(i) == Kind::Keyword(Keyword::Node)) {
        let Some(lbrace) =
            (node..tokens.len()).find(|&i| tokens.kind(i) == Kind::Punct(Punct::LBrace))
        else {
            // puppet-lint reports this under `syntax`; granule's syntax
            // problems come from the lexer and unclosed resources only.
            continue;
        };
        for (i, token) in tokens.tokens[node..=lbrace].iter().enumerate() {
            if token.kind == Kind::Name && token.value != "default" {
                out.add_fixable(
                    "unquoted node name found",
                    token.line,
                    token.column,
                    Fix::Token(node + i),
                );
            }
        }
    }
}

pub fn fix(arena: &mut Arena, fix: &Fix) -> bool {
    let Fix::Token(id) = *fix else { return false };
    arena.token_mut(id).kind = Kind::SString;
    true
}
