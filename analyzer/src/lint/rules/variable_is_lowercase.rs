//! **variable_is_lowercase** (warning): a variable name with an uppercase
//! letter.
//!
//! Why: Puppet variable names are lowercase by convention, and names that
//! start uppercase are not valid variable names in Puppet 4 and later.
//!
//! Example: `$serverName = 'web01'`
//!
//! Fix: `$server_name = 'web01'`.

use super::variable_name;
use crate::lint::{Context, Problems};

pub fn check(cx: &Context, out: &mut Problems) {
    for (token, name) in variable_name::variables(cx) {
        if name.chars().any(|c| c.is_ascii_uppercase()) {
            out.add(
                "variable contains an uppercase letter",
                token.line,
                token.column,
            );
        }
    }
}
