//! **right_to_left_relationship** (warning): a `<-` relationship arrow.
//!
//! Why: ordering reads left to right everywhere else; a right-to-left
//! arrow is easy to misread.
//!
//! Example: `Service['sshd'] <- Package['openssh-server']`
//!
//! Fix: `Package['openssh-server'] -> Service['sshd']`.

use crate::lint::tokens::{Kind, Punct};
use crate::lint::{Context, Problems};

pub fn check(cx: &Context, out: &mut Problems) {
    for token in &cx.tokens.tokens {
        if token.kind == Kind::Punct(Punct::OutEdge) {
            out.add("right-to-left (<-) relationship", token.line, token.column);
        }
    }
}
