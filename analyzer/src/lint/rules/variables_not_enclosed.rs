//! **variables_not_enclosed** (warning): a variable interpolated as `$x`
//! rather than `${x}`.
//!
//! Why: with braces it is clear where the name ends (`"$x_suffix"` reads
//! `$x_suffix`, not `$x` then `_suffix`).
//!
//! Example: `"/home/$user/.ssh"`
//!
//! Fix: `"/home/${user}/.ssh"`.

use crate::lint::tokens::Kind;
use crate::lint::{Context, Problems};

pub fn check(cx: &Context, out: &mut Problems) {
    for token in &cx.tokens.tokens {
        if token.kind == Kind::UnencVariable {
            out.add("variable not enclosed in {}", token.line, token.column);
        }
    }
}
