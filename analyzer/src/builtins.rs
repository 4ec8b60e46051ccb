//! What Puppet itself defines, so that using it is not an unresolved
//! reference: the resource types of Puppet 7's core, and those Puppet 6
//! moved to modules that Puppet's own packages ship (vendored modules).

/// Resource types Puppet knows without any module.
const BUILTIN_TYPES: &[&str] = &[
    // Classes as resources (`class { $name: }`, `Class { stage => x }`).
    "class",
    // Puppet 7 core (lib/puppet/type).
    "component",
    "exec",
    "file",
    "filebucket",
    "group",
    "notify",
    "package",
    "resources",
    "schedule",
    "service",
    "stage",
    "tidy",
    "user",
    "whit",
    // Vendored modules of the puppet-agent packages.
    "augeas",
    "cron",
    "host",
    "k5login",
    "mailalias",
    "maillist",
    "mount",
    "scheduled_task",
    "selboolean",
    "selmodule",
    "ssh_authorized_key",
    "sshkey",
    "yumrepo",
    "zfs",
    "zone",
    "zpool",
];

pub fn is_builtin_type(name: &str) -> bool {
    BUILTIN_TYPES.contains(&name)
}

/// Functions that declare classes: each argument names one (or an array of
/// them, or a `Class['x']` reference).
pub fn class_declaring_function(name: &str) -> Option<crate::model::EdgeKind> {
    use crate::model::EdgeKind;
    match name {
        "include" => Some(EdgeKind::Include),
        "require" => Some(EdgeKind::RequireClass),
        "contain" => Some(EdgeKind::Contain),
        _ => None,
    }
}

/// Functions that read a Hiera key given as their first argument.
pub fn is_lookup_function(name: &str) -> bool {
    matches!(
        name,
        "hiera" | "hiera_array" | "hiera_hash" | "hiera_include" | "lookup"
    )
}
