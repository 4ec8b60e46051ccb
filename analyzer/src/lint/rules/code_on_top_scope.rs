//! **code_on_top_scope** (warning, disabled by default): code outside any
//! class or define.
//!
//! Why: top-scope code in a module runs wherever the file is loaded, not
//! where it is declared.
//!
//! Example: `$x = 1` before `class a { }` in `a/manifests/init.pp`.
//!
//! Fix: move the code into the class.

use crate::lint::{Context, Problems};

pub fn check(cx: &Context, out: &mut Problems) {
    let tokens = cx.tokens;
    let mut inside = vec![false; tokens.len()];
    for definition in cx.classes_and_defines() {
        inside[definition.start..=definition.end].fill(true);
    }
    for (i, token) in tokens.tokens.iter().enumerate() {
        if !inside[i] && !token.kind.is_formatting() {
            out.add(
                format!("code outside of class or define block - {}", token.value),
                token.line,
                token.column,
            );
        }
    }
}
