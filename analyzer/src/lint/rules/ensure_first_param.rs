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

use crate::lint::tokens::{Keyword, Kind};
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
            out.add(
                "ensure found on line but it's not the first attribute",
                token.line,
                token.column,
            );
        }
    }
}
