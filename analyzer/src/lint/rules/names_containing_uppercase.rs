//! **names_containing_uppercase** (error): a class or define whose name has
//! an uppercase letter.
//!
//! Why: class and define names must be lowercase; an uppercase name cannot
//! be autoloaded from a module.
//!
//! Example: `class WebServer { }`
//!
//! Fix: `class webserver { }`.

use super::definition_kind_name;
use crate::lint::fix::{Arena, Fix};
use crate::lint::{Context, Problems};

pub fn check(cx: &Context, out: &mut Problems) {
    for definition in cx.classes_and_defines() {
        let name = &cx.tokens.tokens[definition.name_token];
        if name.value.chars().any(|c| c.is_ascii_uppercase()) {
            out.add_fixable(
                format!(
                    "{} '{}' contains illegal uppercase",
                    definition_kind_name(definition),
                    name.value
                ),
                name.line,
                name.column,
                Fix::Token(definition.name_token),
            );
        }
    }
}

pub fn fix(arena: &mut Arena, fix: &Fix) -> bool {
    let Fix::Token(id) = *fix else { return false };
    let token = arena.token_mut(id);
    token.value = token.value.to_lowercase();
    true
}
