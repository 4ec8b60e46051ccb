//! **variable_contains_dash** (warning): a variable name with a `-`.
//!
//! Why: Puppet 4 and later do not allow dashes in variable names; `$a-b`
//! is `$a` minus `b`.
//!
//! Example: `$package-name = 'nginx'`
//!
//! Fix: `$package_name = 'nginx'`.

use super::variable_name;
use crate::lint::{Context, Problems};

pub fn check(cx: &Context, out: &mut Problems) {
    for (token, name) in variable_name::variables(cx) {
        if name.contains('-') {
            out.add("variable contains a dash", token.line, token.column);
        }
    }
}
