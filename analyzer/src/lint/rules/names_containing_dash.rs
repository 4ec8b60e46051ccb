//! **names_containing_dash** (error): a class or define whose name has a
//! `-`.
//!
//! Why: Puppet 4 and later do not allow dashes in class and define names.
//!
//! Example: `class web-server { }`
//!
//! Fix: `class web_server { }` (and rename its file and references).

use super::definition_kind_name;
use crate::lint::{Context, Problems};

pub fn check(cx: &Context, out: &mut Problems) {
    for definition in cx.classes_and_defines() {
        let name = &cx.tokens.tokens[definition.name_token];
        if name.value.contains('-') {
            out.add(
                format!(
                    "{} name containing a dash",
                    definition_kind_name(definition)
                ),
                name.line,
                name.column,
            );
        }
    }
}
