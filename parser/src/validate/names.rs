//! Puppet's naming rules (`Puppet::Pops::Patterns`), written out by hand.
//! Ruby's `\w` is ASCII-only: `[A-Za-z0-9_]`.

use crate::qualified::Qualified;

fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// `[first]\w*`
fn segment(s: &[u8], first: fn(u8) -> bool) -> bool {
    !s.is_empty() && first(s[0]) && s[1..].iter().all(|&c| is_word(c))
}

/// `CLASSREF_DECL`: `[a-z]\w*(::[a-z]\w*)*`, the name of a class, define or
/// function.
pub(super) fn is_definition_name(name: &str) -> bool {
    name.segments()
        .all(|part| segment(part.as_bytes(), |c| c.is_ascii_lowercase()))
}

/// `CLASSREF_EXT_DECL`: `[A-Z]\w*(::[A-Z]\w*)*`, the name of a type alias.
pub(super) fn is_type_alias_name(name: &str) -> bool {
    name.segments()
        .all(|part| segment(part.as_bytes(), |c| c.is_ascii_uppercase()))
}

/// `CLASSREF_EXT`: `((::)?[A-Z]\w*)+`, a type reference as written.
pub(super) fn is_class_ref(name: &str) -> bool {
    let name = name.strip_prefix("::").unwrap_or(name);
    is_type_alias_name(name)
}

/// `VAR_NAME`: `(::)?([a-z]\w*::)*[a-z_]\w*`.
pub(super) fn is_var_name(name: &str) -> bool {
    let name = name.strip_prefix("::").unwrap_or(name);
    let (namespaces, last) = name.split_last().unwrap_or(("", name));
    (namespaces.is_empty() || is_definition_name(namespaces))
        && segment(last.as_bytes(), |c| c.is_ascii_lowercase() || c == b'_')
}

/// `NUMERIC_VAR_NAME`: `0|[1-9][0-9]*`, a match result variable.
pub(super) fn is_numeric_var_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    name == "0" || (!bytes.is_empty() && bytes[0] != b'0' && bytes.iter().all(u8::is_ascii_digit))
}

/// `PARAM_NAME`: `[a-z_]\w*`.
pub(super) fn is_param_name(name: &str) -> bool {
    segment(name.as_bytes(), |c| c.is_ascii_lowercase() || c == b'_')
}

/// `(0x)?[0-9]+`: a parameter that would shadow a match result variable.
pub(super) fn is_numeric_param_name(name: &str) -> bool {
    let digits = name.strip_prefix("0x").unwrap_or(name);
    !digits.is_empty() && digits.bytes().all(|c| c.is_ascii_digit())
}

/// `ILLEGAL_HOSTNAME_CHARS`: anything but `[-\w.]`.
pub(super) fn has_illegal_hostname_chars(name: &str) -> bool {
    name.bytes()
        .any(|c| !(is_word(c) || c == b'-' || c == b'.'))
}

/// Type names Puppet defines itself (`Checker4_0::RESERVED_TYPE_NAMES`).
pub(super) fn is_reserved_type_name(name: &str) -> bool {
    matches!(
        name,
        "type"
            | "any"
            | "unit"
            | "scalar"
            | "boolean"
            | "numeric"
            | "integer"
            | "float"
            | "collection"
            | "array"
            | "hash"
            | "tuple"
            | "struct"
            | "variant"
            | "optional"
            | "enum"
            | "regexp"
            | "pattern"
            | "runtime"
            | "init"
            | "object"
            | "sensitive"
            | "semver"
            | "semverrange"
            | "string"
            | "timestamp"
            | "timespan"
            | "typeset"
    )
}

/// Words Puppet reserves for later versions (`FUTURE_RESERVED_WORDS`).
pub(super) fn is_future_reserved_word(name: &str) -> bool {
    name == "plan"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_puppets_patterns() {
        assert!(is_definition_name("foo::bar_2"));
        assert!(!is_definition_name("foo-bar"));
        assert!(!is_definition_name("::foo"));
        assert!(is_var_name("::foo::bar"));
        assert!(is_var_name("_x"));
        assert!(!is_var_name("foo::_x::y"));
        assert!(!is_var_name("fooBar-x"));
        assert!(is_numeric_var_name("10"));
        assert!(!is_numeric_var_name("01"));
        assert!(is_class_ref("::Foo::Bar"));
        assert!(!is_class_ref("Foo::bar"));
        assert!(is_numeric_param_name("0x12"));
        assert!(has_illegal_hostname_chars("a b"));
    }
}
