//! **class_inherits_from_params_class** (warning, disabled by default): a
//! class inheriting from a `::params` class.
//!
//! Why: the params pattern predates module data (Hiera in modules); new
//! code should take its defaults from data instead.
//!
//! Example: `class ntp inherits ntp::params { }`
//!
//! Fix: move the defaults to the module's Hiera data and drop `inherits`.

use crate::lint::{Context, Problems};

pub fn check(cx: &Context, out: &mut Problems) {
    for class in cx.classes() {
        let Some(inherited) = class.inherited_token else {
            continue;
        };
        let inherited = &cx.tokens.tokens[inherited];
        if inherited.value.ends_with("::params") {
            out.add(
                "class inheriting from params class",
                inherited.line,
                inherited.column,
            );
        }
    }
}
