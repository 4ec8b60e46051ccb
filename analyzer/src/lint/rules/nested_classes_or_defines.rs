//! **nested_classes_or_defines** (warning): a class or define defined
//! inside a class.
//!
//! Why: a nested definition is found by the autoloader only once the outer
//! class has been evaluated, and its name hides where it lives.
//!
//! Example:
//! ```puppet
//! class apache {
//!   class ssl { }
//! }
//! ```
//!
//! Fix: move `apache::ssl` to `apache/manifests/ssl.pp`.

use crate::lint::tokens::{Keyword, Kind, Punct};
use crate::lint::{Context, Problems};

pub fn check(cx: &Context, out: &mut Problems) {
    let tokens = cx.tokens;
    for class in cx.classes() {
        for i in class.start + 1..=class.end {
            let what = match tokens.kind(i) {
                Kind::Keyword(Keyword::Class) => "class",
                Kind::Keyword(Keyword::Define) => "defined type",
                _ => continue,
            };
            let resource_like = tokens
                .next_code(i)
                .is_some_and(|n| tokens.kind(n) == Kind::Punct(Punct::LBrace));
            if !resource_like {
                let token = &tokens.tokens[i];
                out.add(
                    format!("{what} defined inside a class"),
                    token.line,
                    token.column,
                );
            }
        }
    }
}
