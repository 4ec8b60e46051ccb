//! **legacy_facts** (warning): a legacy (flat) fact where Facter has a
//! structured one: `$::osfamily`, `$facts['osfamily']`,
//! `"${::ipaddress_eth0}"`. A puppet-lint 4 check (Debian's puppet-lint 3.0.1
//! lacks it), with puppet-lint 4's messages, positions and fix.
//!
//! Why: Puppet 8 no longer collects the legacy facts by default
//! (`include_legacy_facts = false`): code that reads them gets `undef`.
//!
//! Example: `$family = $::osfamily`
//!
//! Fix: `$family = $facts['os']['family']`; facts named after a device or an
//! interface move into their hash (`$::ipaddress_eth0` becomes
//! `$facts['networking']['interfaces']['eth0']['ip']`). Facts with no
//! structured equivalent (`memoryfree_mb`, `blockdevices`, `interfaces`,
//! `zones`, `sshfp_*`...) are reported and left as they are. As in
//! puppet-lint, only top-scope (`$::name`) and `$facts[...]` uses are
//! checked: a plain `$osfamily` could be a local variable.

use crate::lint::fix::{Arena, Fix};
use crate::lint::tokens::{Kind, Punct};
use crate::lint::{Context, Problems};
use regex::{Captures, Regex};
use std::sync::LazyLock;

/// Legacy facts with a structured equivalent: the legacy name and the keys
/// of the structured fact under `$facts`. top_scope_facts leaves these names
/// to this check.
pub(super) const STRUCTURED: &[(&str, &[&str])] = &[
    ("architecture", &["os", "architecture"]),
    ("augeasversion", &["augeas", "version"]),
    ("bios_release_date", &["dmi", "bios", "release_date"]),
    ("bios_vendor", &["dmi", "bios", "vendor"]),
    ("bios_version", &["dmi", "bios", "version"]),
    ("boardassettag", &["dmi", "board", "asset_tag"]),
    ("boardmanufacturer", &["dmi", "board", "manufacturer"]),
    ("boardproductname", &["dmi", "board", "product"]),
    ("boardserialnumber", &["dmi", "board", "serial_number"]),
    ("chassisassettag", &["dmi", "chassis", "asset_tag"]),
    ("chassistype", &["dmi", "chassis", "type"]),
    ("domain", &["networking", "domain"]),
    ("fqdn", &["networking", "fqdn"]),
    ("gid", &["identity", "group"]),
    ("hardwareisa", &["processors", "isa"]),
    ("hardwaremodel", &["os", "hardware"]),
    ("hostname", &["networking", "hostname"]),
    ("id", &["identity", "user"]),
    ("ipaddress", &["networking", "ip"]),
    ("ipaddress6", &["networking", "ip6"]),
    ("lsbdistcodename", &["os", "distro", "codename"]),
    ("lsbdistdescription", &["os", "distro", "description"]),
    ("lsbdistid", &["os", "distro", "id"]),
    ("lsbdistrelease", &["os", "distro", "release", "full"]),
    ("lsbmajdistrelease", &["os", "distro", "release", "major"]),
    ("lsbminordistrelease", &["os", "distro", "release", "minor"]),
    ("lsbrelease", &["os", "distro", "release", "specification"]),
    ("macaddress", &["networking", "mac"]),
    ("macosx_buildversion", &["os", "macosx", "build"]),
    ("macosx_productname", &["os", "macosx", "product"]),
    (
        "macosx_productversion",
        &["os", "macosx", "version", "full"],
    ),
    (
        "macosx_productversion_major",
        &["os", "macosx", "version", "major"],
    ),
    (
        "macosx_productversion_minor",
        &["os", "macosx", "version", "minor"],
    ),
    ("manufacturer", &["dmi", "manufacturer"]),
    ("memoryfree", &["memory", "system", "available"]),
    ("memorysize", &["memory", "system", "total"]),
    ("netmask", &["networking", "netmask"]),
    ("netmask6", &["networking", "netmask6"]),
    ("network", &["networking", "network"]),
    ("network6", &["networking", "network6"]),
    ("operatingsystem", &["os", "name"]),
    ("operatingsystemmajrelease", &["os", "release", "major"]),
    ("operatingsystemrelease", &["os", "release", "full"]),
    ("osfamily", &["os", "family"]),
    ("physicalprocessorcount", &["processors", "physicalcount"]),
    ("processorcount", &["processors", "count"]),
    ("productname", &["dmi", "product", "name"]),
    ("rubyplatform", &["ruby", "platform"]),
    ("rubysitedir", &["ruby", "sitedir"]),
    ("rubyversion", &["ruby", "version"]),
    ("selinux", &["os", "selinux", "enabled"]),
    ("selinux_config_mode", &["os", "selinux", "config_mode"]),
    ("selinux_config_policy", &["os", "selinux", "config_policy"]),
    ("selinux_current_mode", &["os", "selinux", "current_mode"]),
    ("selinux_enforced", &["os", "selinux", "enforced"]),
    (
        "selinux_policyversion",
        &["os", "selinux", "policy_version"],
    ),
    ("serialnumber", &["dmi", "product", "serial_number"]),
    ("swapencrypted", &["memory", "swap", "encrypted"]),
    ("swapfree", &["memory", "swap", "available"]),
    ("swapsize", &["memory", "swap", "total"]),
    ("system32", &["os", "windows", "system32"]),
    ("uptime", &["system_uptime", "uptime"]),
    ("uptime_days", &["system_uptime", "days"]),
    ("uptime_hours", &["system_uptime", "hours"]),
    ("uptime_seconds", &["system_uptime", "seconds"]),
    ("uuid", &["dmi", "product", "uuid"]),
    ("xendomains", &["xen", "domains"]),
    ("zonename", &["solaris_zones", "current"]),
];

/// Legacy facts Facter 4 has no structured equivalent for.
const UNCONVERTIBLE: &[&str] = &[
    "memoryfree_mb",
    "memorysize_mb",
    "swapfree_mb",
    "swapsize_mb",
    "blockdevices",
    "interfaces",
    "zones",
    "sshfp_dsa",
    "sshfp_ecdsa",
    "sshfp_ed25519",
    "sshfp_rsa",
];

/// Legacy facts named after something on the host (a disk, an interface, a
/// zone): their pattern and the structured fact a match becomes, in the
/// order puppet-lint tries them. The patterns are puppet-lint's, whose `^`
/// and `$` are Ruby's (line) anchors.
type Rewrite = fn(&Captures) -> String;
static PATTERNED: LazyLock<Vec<(Regex, Rewrite)>> = LazyLock::new(|| {
    let rules: [(&str, Rewrite); 7] = [
        (
            r"^blockdevice_(?P<device>.*)_(?P<attribute>model|size|vendor)$",
            |m| facts_path(&["disks", &m["device"], &m["attribute"]]),
        ),
        (
            r"^(?P<attribute>ipaddress|ipaddress6|macaddress|mtu|netmask|netmask6|network|network6)_(?P<interface>.*)$",
            |m| {
                let attribute = m["attribute"].replacen("address", "", 1);
                facts_path(&["networking", "interfaces", &m["interface"], &attribute])
            },
        ),
        // An array index, not a key.
        (r"^processor(?P<id>[0-9]+)$", |m| {
            format!("{}[{}]", facts_path(&["processors", "models"]), &m["id"])
        }),
        (r"^sp_(?P<name>.*)$", |m| {
            facts_path(&["system_profiler", &m["name"]])
        }),
        (r"^ssh(?P<algorithm>dsa|ecdsa|ed25519|rsa)key$", |m| {
            facts_path(&["ssh", &m["algorithm"], "key"])
        }),
        (r"^ldom_(?P<name>.*)$", |m| {
            facts_path(&["ldom", &m["name"]])
        }),
        (
            r"^zone_(?P<name>.*)_(?P<attribute>brand|iptype|name|uuid|id|path|status)$",
            |m| facts_path(&["solaris_zones", "zones", &m["name"], &m["attribute"]]),
        ),
    ];
    rules
        .into_iter()
        .map(|(pattern, rewrite)| {
            let pattern = Regex::new(&format!("(?m){pattern}")).expect("legacy fact pattern");
            (pattern, rewrite)
        })
        .collect()
});

/// `facts['a']['b']`: the variable (without `$`) that reads a structured fact.
fn facts_path(keys: &[&str]) -> String {
    keys.iter()
        .fold("facts".to_string(), |path, key| format!("{path}['{key}']"))
}

fn structured(fact: &str) -> Option<&'static [&'static str]> {
    STRUCTURED
        .iter()
        .find(|(name, _)| *name == fact)
        .map(|(_, keys)| *keys)
}

fn is_legacy(fact: &str) -> bool {
    structured(fact).is_some()
        || UNCONVERTIBLE.contains(&fact)
        || PATTERNED.iter().any(|(pattern, _)| pattern.is_match(fact))
}

pub fn check(cx: &Context, out: &mut Problems) {
    let tokens = cx.tokens;
    for (i, token) in tokens.tokens.iter().enumerate() {
        if !matches!(token.kind, Kind::Variable | Kind::UnencVariable) {
            continue;
        }
        let fact = fact_read_by(cx, i);
        if is_legacy(&fact) {
            out.add_fixable(
                format!("legacy fact '{fact}'"),
                token.line,
                token.column,
                Fix::LegacyFact { token: i, fact },
            );
        }
    }
}

/// The fact a variable token reads, as puppet-lint sees it: the key of
/// `$::facts['key']` or `$facts['key']` (one token: the lexer keeps an
/// access with its variable), of `facts` followed by `[key]` (inside `${}`
/// the access is separate tokens), or the name of `$::name`; empty for
/// anything else.
fn fact_read_by(cx: &Context, variable: usize) -> String {
    let value = cx.tokens.tokens[variable].value.as_str();
    let quoted_key = |prefix: &str| {
        // puppet-lint's greedy `facts\['(.*)'\]`: up to the last `']`.
        let inner = value.strip_prefix(prefix)?;
        let end = inner.rfind("']")?;
        Some(inner[..end].to_string())
    };
    if value.starts_with("::facts[") {
        quoted_key("::facts['")
    } else if value.starts_with("facts['") {
        quoted_key("facts['")
    } else if value == "facts" {
        hash_key(cx, variable)
    } else {
        value.strip_prefix("::").map(str::to_string)
    }
    .unwrap_or_default()
}

/// The key of `[key]` right after a variable, if it is a string or a bare
/// word.
fn hash_key(cx: &Context, variable: usize) -> Option<String> {
    let tokens = cx.tokens;
    let bracket = tokens
        .next_code(variable)
        .filter(|&b| tokens.kind(b) == Kind::Punct(Punct::LBrack))?;
    let key = tokens
        .next_code(bracket)
        .filter(|&k| matches!(tokens.kind(k), Kind::String | Kind::SString | Kind::Name))?;
    Some(tokens.tokens[key].value.clone())
}

/// Rewrites the variable to read the structured fact; a `facts` followed
/// by `[key]` loses every token up to its `]` first. A fact with no
/// structured equivalent is left as it is (and counts as fixed, as in
/// puppet-lint). Unlike puppet-lint, which drops the `[key]` of those too
/// (`"${facts['memoryfree_mb']}"` would print `"${facts}"`), granule keeps
/// it: the code still means what it meant.
pub fn fix(arena: &mut Arena, fix: &Fix) -> bool {
    let Fix::LegacyFact { token, fact } = fix else {
        return false;
    };
    let token = *token;
    let replacement = match structured(fact) {
        Some(keys) => facts_path(keys),
        None => match PATTERNED
            .iter()
            .find_map(|(pattern, rewrite)| pattern.captures(fact).map(|m| rewrite(&m)))
        {
            Some(replacement) => replacement,
            None => return true,
        },
    };
    if arena.token(token).value == "facts" {
        while let Some(next) = arena.next(token) {
            let closes = arena.token(next).kind == Kind::Punct(Punct::RBrack);
            arena.remove(next);
            if closes {
                break;
            }
        }
    }
    arena.token_mut(token).value = replacement;
    true
}

/// The cases of puppet-lint 4.2.4's spec for the check, rewritten: what it
/// reports and the text its fix writes.
#[cfg(test)]
mod tests {
    use crate::lint::tests::fixed_by;

    #[test]
    fn structured_facts_and_local_variables_pass() {
        for code in [
            "$facts['os']['family']",
            "$facts['ssh']['rsa']['key']",
            "$osfamily",
            "$::facts['os']['family']",
            "$interface_facts['netmask']",
        ] {
            let (problems, fixed) = fixed_by(&["legacy_facts"], code);
            assert_eq!(problems, [], "{code}");
            assert_eq!(fixed, code);
        }
    }

    #[test]
    fn legacy_facts_are_reported_and_rewritten() {
        // (code, fact, column of the problem where the spec gives it, fixed)
        let cases: &[(&str, &str, Option<usize>, &str)] = &[
            (
                "$facts['osfamily']",
                "osfamily",
                Some(1),
                "$facts['os']['family']",
            ),
            (
                "$::facts['osfamily']",
                "osfamily",
                Some(1),
                "$facts['os']['family']",
            ),
            ("$::osfamily", "osfamily", Some(1), "$facts['os']['family']"),
            (
                "$::sshrsakey",
                "sshrsakey",
                Some(1),
                "$facts['ssh']['rsa']['key']",
            ),
            (
                "$::memoryfree_mb",
                "memoryfree_mb",
                None,
                "$::memoryfree_mb",
            ),
            (
                "$::blockdevice_sda_model",
                "blockdevice_sda_model",
                None,
                "$facts['disks']['sda']['model']",
            ),
            (
                "$facts['ipaddress6_em2']",
                "ipaddress6_em2",
                None,
                "$facts['networking']['interfaces']['em2']['ip6']",
            ),
            (
                "$::zone_foobar_uuid",
                "zone_foobar_uuid",
                None,
                "$facts['solaris_zones']['zones']['foobar']['uuid']",
            ),
            (
                "$::processor314",
                "processor314",
                None,
                "$facts['processors']['models'][314]",
            ),
            (
                "$::sp_l3_cache",
                "sp_l3_cache",
                None,
                "$facts['system_profiler']['l3_cache']",
            ),
            (
                "\"start ${::osfamily} end\"",
                "osfamily",
                None,
                "\"start ${facts['os']['family']} end\"",
            ),
            (
                "\"$::osfamily\"",
                "osfamily",
                None,
                "\"$facts['os']['family']\"",
            ),
            ("\"$::gid\"", "gid", None, "\"$facts['identity']['group']\""),
            ("\"$::id\"", "id", None, "\"$facts['identity']['user']\""),
            (
                "\"$::lsbdistcodename\"",
                "lsbdistcodename",
                None,
                "\"$facts['os']['distro']['codename']\"",
            ),
            (
                "\"$::lsbdistdescription\"",
                "lsbdistdescription",
                None,
                "\"$facts['os']['distro']['description']\"",
            ),
            (
                "\"$::lsbdistid\"",
                "lsbdistid",
                None,
                "\"$facts['os']['distro']['id']\"",
            ),
            (
                "\"$::lsbdistrelease\"",
                "lsbdistrelease",
                None,
                "\"$facts['os']['distro']['release']['full']\"",
            ),
            (
                "\"$::lsbmajdistrelease\"",
                "lsbmajdistrelease",
                None,
                "\"$facts['os']['distro']['release']['major']\"",
            ),
            (
                "\"$::lsbminordistrelease\"",
                "lsbminordistrelease",
                None,
                "\"$facts['os']['distro']['release']['minor']\"",
            ),
            (
                "\"$::lsbrelease\"",
                "lsbrelease",
                None,
                "\"$facts['os']['distro']['release']['specification']\"",
            ),
            (
                "\"${facts['lsbrelease']}\"",
                "lsbrelease",
                None,
                "\"${facts['os']['distro']['release']['specification']}\"",
            ),
        ];
        for &(code, fact, column, expected) in cases {
            let (problems, fixed) = fixed_by(&["legacy_facts"], code);
            assert_eq!(problems.len(), 1, "{code}: {problems:?}");
            let (message, line, at, was_fixed) = &problems[0];
            assert_eq!(message, &format!("legacy fact '{fact}'"), "{code}");
            assert_eq!(*line, 1, "{code}");
            if let Some(column) = column {
                assert_eq!(*at, column, "{code}");
            }
            assert!(was_fixed, "{code}: puppet-lint marks it fixed");
            assert_eq!(fixed, expected, "{code}");
        }
    }

    /// Where granule's fix departs from puppet-lint's on purpose: the key of
    /// a fact with no structured equivalent stays.
    #[test]
    fn unconvertible_facts_in_the_facts_hash_keep_their_key() {
        let code = "\"${facts['memoryfree_mb']} left\"";
        let (problems, fixed) = fixed_by(&["legacy_facts"], code);
        assert_eq!(problems.len(), 1);
        assert_eq!(fixed, code);
    }
}
