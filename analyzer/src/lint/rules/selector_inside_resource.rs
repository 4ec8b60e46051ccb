//! **selector_inside_resource** (warning): a selector (`$x ? { ... }`) as an
//! attribute value.
//!
//! Why: logic inside a resource body is hard to read and to test; a
//! variable set before the resource names the decision.
//!
//! Example:
//! ```puppet
//! file { '/etc/x':
//!   mode => $secure ? { true => '0600', default => '0644' },
//! }
//! ```
//!
//! Fix: `$mode = $secure ? { ... }` before the resource, then `mode => $mode`.

use crate::lint::tokens::{Kind, Punct};
use crate::lint::{Context, Problems};

pub fn check(cx: &Context, out: &mut Problems) {
    let tokens = cx.tokens;
    for resource in cx.resources() {
        for i in resource.start..=resource.end {
            if tokens.kind(i) != Kind::Punct(Punct::FArrow) {
                continue;
            }
            let Some(value) = tokens
                .next_code(i)
                .filter(|&v| tokens.kind(v) == Kind::Variable)
            else {
                continue;
            };
            if tokens
                .next_code(value)
                .is_some_and(|q| tokens.kind(q) == Kind::Punct(Punct::QMark))
            {
                let token = &tokens.tokens[i];
                out.add("selector inside resource block", token.line, token.column);
            }
        }
    }
}
