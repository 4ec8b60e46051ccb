//! **inherits_across_namespaces** (warning): a class inheriting from a
//! class of another module.
//!
//! Why: inheritance couples a class to another module's internals; only
//! `params` classes of the same module are meant to be inherited.
//!
//! Example: `class apache inherits nginx::params { }`
//!
//! Fix: inherit from the own module's class, or pass the values as
//! parameters.

use granule_parser::qualified::Qualified;
use crate::lint::{Context, Problems};

pub fn check(cx: &Context, out: &mut Problems) {
    let tokens = cx.tokens;
    for class in cx.classes() {
        let Some(inherited) = class.inherited_token else {
            continue;
        };
        let inherited = &tokens.tokens[inherited];
        let module = |name: &str| name.segments().find(|p| !p.is_empty()).map(str::to_string);
        if module(&inherited.value) != module(&tokens.tokens[class.name_token].value) {
            out.add(
                "class inherits across module namespaces",
                inherited.line,
                inherited.column,
            );
        }
    }
}
