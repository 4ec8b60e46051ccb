//! **ensure_first_param** (warning): a resource's `ensure` attribute that is
//! not its first attribute.
//!
//! Why: `ensure` says whether the resource exists at all; readers look for
//! it first.
//!
//! Example:
//! ```puppet
//! file { '/etc/motd':
//!   content => 'hi',
//!   ensure  => file,
//! }
//! ```
//!
//! Fix: move `ensure` to the top of the attribute list.

use crate::lint::fix::{Arena, Fix};
use crate::lint::tokens::{Keyword, Kind, Punct};
use crate::lint::{Context, Problems};

pub fn check(cx: &Context, out: &mut Problems) {
    let tokens = cx.tokens;
    for resource in cx.resources() {
        let is_class = resource
            .type_token
            .is_some_and(|t| tokens.kind(t) == Kind::Keyword(Keyword::Class));
        if is_class {
            continue;
        }
        let ensure = resource
            .param_tokens
            .iter()
            .position(|&p| tokens.tokens[p].value == "ensure");
        if let Some(index @ 1..) = ensure {
            let token = &tokens.tokens[resource.param_tokens[index]];
            out.add_fixable(
                "ensure found on line but it's not the first attribute",
                token.line,
                token.column,
                Fix::EnsureFirst {
                    first_param: resource.param_tokens[0],
                },
            );
        }
    }
}

/// The first attribute and `ensure` trade places: each from its name up to
/// its comma (puppet-lint gives up when it finds no comma).
pub fn fix(arena: &mut Arena, fix: &Fix) -> bool {
    let Fix::EnsureFirst { first_param } = *fix else {
        return false;
    };
    let comma = Kind::Punct(Punct::Comma);
    let Some(first_comma) = arena.next_token_of(first_param, &[comma], None) else {
        return false;
    };
    let Some(ensure) = arena.next_token_of(first_comma, &[Kind::Name], Some("ensure")) else {
        return false;
    };
    let Some(ensure_comma) = arena.next_token_of(ensure, &[comma, Kind::Punct(Punct::Semic)], None)
    else {
        return false;
    };
    let first = arena.run(first_param, first_comma);
    let moved = arena.run(ensure, ensure_comma);
    for &id in first.iter().chain(&moved) {
        arena.remove(id);
    }
    for &id in &moved {
        arena.link_before(first_comma, id);
    }
    for &id in &first {
        arena.link_before(ensure_comma, id);
    }
    true
}
