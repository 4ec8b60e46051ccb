//! **top_scope_facts** (warning): a fact read as a top-scope variable
//! (`$::kernel`) rather than from the `$facts` hash. A puppet-lint 4 check
//! (Debian's puppet-lint 3.0.1 lacks it), with puppet-lint 4's message,
//! positions and fix.
//!
//! Why: `$facts['kernel']` can only be a fact; `$::kernel` can be any
//! top-scope variable, and a node-scope or ENC variable of the same name
//! silently replaces the fact.
//!
//! Example: `if $::kernel == 'Linux' { }`
//!
//! Fix: `if $facts['kernel'] == 'Linux' { }`; an access stays after the
//! key (`$::custom['a']` becomes `$facts['custom']['a']`). Not reported:
//! `$::facts` and `$::trusted`, namespaced variables (`$::profile::x`),
//! and the legacy facts legacy_facts rewrites into structured ones
//! (`$::osfamily`). puppet-lint matches these names as prefixes, so a name
//! that starts with one passes too (`$::domain_suffix`). A top-scope
//! variable that is no fact wants `# lint:ignore:top_scope_facts`. When
//! both checks report a variable (`$::sshrsakey`), legacy_facts' rewrite
//! is the one kept (puppet-lint applies both and breaks the code).

use super::legacy_facts::STRUCTURED;
use crate::lint::fix::{Arena, Fix};
use crate::lint::tokens::Kind;
use crate::lint::{Context, Problems};
use regex::Regex;
use std::sync::LazyLock;

/// A variable in a named scope (`::profile::x`): not a fact.
static NAMESPACED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^::[a-z0-9_][a-zA-Z0-9_]+::").expect("namespace pattern"));

/// Whether puppet-lint leaves this top-scope name alone: it starts with
/// `facts`, `trusted` or a legacy fact with a structured equivalent.
fn allowed(name: &str) -> bool {
    ["trusted", "facts"]
        .into_iter()
        .chain(STRUCTURED.iter().map(|(fact, _)| *fact))
        .any(|allowed| name.starts_with(allowed))
}

pub fn check(cx: &Context, out: &mut Problems) {
    for (i, token) in cx.tokens.tokens.iter().enumerate() {
        if !matches!(token.kind, Kind::Variable | Kind::UnencVariable) {
            continue;
        }
        let Some(name) = token.value.strip_prefix("::") else {
            continue;
        };
        if allowed(name) || NAMESPACED.is_match(&token.value) {
            continue;
        }
        out.add_fixable(
            "top scope fact instead of facts hash",
            token.line,
            token.column,
            Fix::Token(i),
        );
    }
}

/// `::name` becomes `facts['name']`, keeping an access after the name
/// (puppet-lint 4.2.4's fix for structured top-scope facts). A variable
/// legacy_facts' fix has rewritten already (both checks report
/// `$::sshrsakey`) reads `$facts` now and is left alone, where puppet-lint
/// wraps it a second time (puppetlabs/puppet-lint#124) and breaks it.
pub fn fix(arena: &mut Arena, fix: &Fix) -> bool {
    let Fix::Token(token) = *fix else {
        return false;
    };
    let value = &arena.token(token).value;
    let Some(name) = value.strip_prefix("::") else {
        return true;
    };
    let (name, access) = name.split_at(name.find('[').unwrap_or(name.len()));
    let fixed = format!("facts['{name}']{access}");
    arena.token_mut(token).value = fixed;
    true
}

/// The cases of puppet-lint 4.2.4's spec for the check, rewritten: what it
/// reports and the text its fix writes.
#[cfg(test)]
mod tests {
    use crate::lint::tests::fixed_by;

    const MESSAGE: &str = "top scope fact instead of facts hash";

    #[test]
    fn facts_hashes_namespaces_and_legacy_facts_pass() {
        for code in [
            "$facts['operatingsystem']",
            "$trusted['certname']",
            "$foo::bar",
            "$::facts['os']['family']",
            "$::trusted['certname']",
            "$::fqdn",
            "$::profile::foo::bar",
            "\"$::profile::foo::bar\"",
            "\"${::profile::foo::bar}\"",
        ] {
            let (problems, fixed) = fixed_by(&["top_scope_facts"], code);
            assert_eq!(problems, [], "{code}");
            assert_eq!(fixed, code);
        }
    }

    #[test]
    fn top_scope_variables_become_facts_hash_keys() {
        for (code, expected) in [
            ("$::application", "$facts['application']"),
            (
                "$::my_structured_fact['foo']['test']",
                "$facts['my_structured_fact']['foo']['test']",
            ),
        ] {
            let (problems, fixed) = fixed_by(&["top_scope_facts"], code);
            assert_eq!(problems, [(MESSAGE.to_string(), 1, 1, true)], "{code}");
            assert_eq!(fixed, expected);
        }
    }

    /// A variable both checks report is rewritten once, by legacy_facts
    /// (which runs first), where puppet-lint rewrites it twice.
    #[test]
    fn a_legacy_fact_is_rewritten_once() {
        let (problems, fixed) = fixed_by(&["legacy_facts", "top_scope_facts"], "$::sshrsakey");
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems.iter().all(|p| p.3), "both are fixed: {problems:?}");
        assert_eq!(fixed, "$facts['ssh']['rsa']['key']");
    }
}
