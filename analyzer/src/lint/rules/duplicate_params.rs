//! **duplicate_params** (error): an attribute given twice in one resource
//! body (or one hash level inside it).
//!
//! Why: Puppet refuses the resource; which value was meant is unclear.
//!
//! Example:
//! ```puppet
//! file { '/etc/x':
//!   mode => '0644',
//!   mode => '0600',
//! }
//! ```
//!
//! Fix: keep one of them.

use crate::lint::tokens::{Kind, Punct};
use crate::lint::{Context, Problems};
use std::collections::{HashMap, HashSet};

pub fn check(cx: &Context, out: &mut Problems) {
    let tokens = cx.tokens;
    for resource in cx.resources() {
        let mut seen: HashMap<i64, HashSet<&str>> = HashMap::new();
        let mut level = 0i64;
        for i in resource.start..=resource.end {
            match tokens.kind(i) {
                Kind::Punct(Punct::LBrace) => level += 1,
                Kind::Punct(Punct::RBrace) => {
                    seen.remove(&level);
                    level -= 1;
                }
                Kind::Punct(Punct::FArrow) => {
                    let Some(name) = tokens
                        .prev_code(i)
                        .filter(|&p| tokens.kind(p) == Kind::Name)
                    else {
                        continue;
                    };
                    let name = &tokens.tokens[name];
                    if !seen.entry(level).or_default().insert(&name.value) {
                        out.add(
                            "duplicate parameter found in resource",
                            name.line,
                            name.column,
                        );
                    }
                }
                _ => {}
            }
        }
    }
}
