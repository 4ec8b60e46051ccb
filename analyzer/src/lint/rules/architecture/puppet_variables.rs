//! The variables every catalog has without any manifest assigning them:
//! Puppet's built-in variables and the core facts Facter sets as top-scope
//! variables. A task manifest reading one of these reads what the monolith
//! read.
//!
//! Custom and external facts cannot be listed; the checks that use this
//! list only report a variable some manifest of the codebase assigns.

use crate::hashing::FastSet;
use std::sync::LazyLock;

/// Puppet's own variables: the fact hashes, the agent and server ones, the
/// names Puppet sets in every scope (`$title`, `$module_name`...).
const BUILTIN: &[&str] = &[
    "facts",
    "trusted",
    "server_facts",
    "settings",
    "environment",
    "clientcert",
    "clientversion",
    "clientnoop",
    "agent_specified_environment",
    "servername",
    "serverip",
    "serverversion",
    "title",
    "name",
    "module_name",
    "caller_module_name",
];

/// Facter's core facts (Facter 2 to 4), legacy flat names and structured
/// ones, as top-scope variables.
const CORE_FACTS: &[&str] = &[
    "aio_agent_version",
    "architecture",
    "augeas",
    "augeasversion",
    "bios_release_date",
    "bios_vendor",
    "bios_version",
    "blockdevices",
    "boardmanufacturer",
    "boardproductname",
    "boardserialnumber",
    "chassisassettag",
    "chassistype",
    "cloud",
    "dhcp_servers",
    "disks",
    "dmi",
    "domain",
    "ec2_metadata",
    "ec2_userdata",
    "facterversion",
    "filesystems",
    "fips_enabled",
    "fqdn",
    "gce",
    "gid",
    "hardwareisa",
    "hardwaremodel",
    "hostname",
    "hypervisors",
    "id",
    "identity",
    "interfaces",
    "ipaddress",
    "ipaddress6",
    "is_virtual",
    "kernel",
    "kernelmajversion",
    "kernelrelease",
    "kernelversion",
    "ldom",
    "load_averages",
    "lsbdistcodename",
    "lsbdistdescription",
    "lsbdistid",
    "lsbdistrelease",
    "lsbmajdistrelease",
    "lsbminordistrelease",
    "lsbrelease",
    "macaddress",
    "manufacturer",
    "memory",
    "memoryfree",
    "memoryfree_mb",
    "memorysize",
    "memorysize_mb",
    "mountpoints",
    "netmask",
    "netmask6",
    "network",
    "network6",
    "networking",
    "operatingsystem",
    "operatingsystemmajrelease",
    "operatingsystemrelease",
    "os",
    "osfamily",
    "partitions",
    "path",
    "physicalprocessorcount",
    "processorcount",
    "processors",
    "productname",
    "puppetversion",
    "ruby",
    "rubyplatform",
    "rubysitedir",
    "rubyversion",
    "selinux",
    "serialnumber",
    "ssh",
    "sshdsakey",
    "sshecdsakey",
    "sshed25519key",
    "sshrsakey",
    "swapencrypted",
    "swapfree",
    "swapfree_mb",
    "swapsize",
    "swapsize_mb",
    "system_uptime",
    "timezone",
    "uptime",
    "uptime_days",
    "uptime_hours",
    "uptime_seconds",
    "uuid",
    "virtual",
    "xen",
    "zfs_version",
    "zones",
    "zpool_version",
];

/// Facts Facter names after a device or a number (`ipaddress_eth0`,
/// `processor0`, `blockdevice_sda_size`, `selinux_enforced`).
const CORE_FACT_PREFIXES: &[&str] = &[
    "blockdevice_",
    "ipaddress_",
    "ipaddress6_",
    "macaddress_",
    "mtu_",
    "netmask_",
    "netmask6_",
    "network_",
    "network6_",
    "scope6_",
    "dhcp_servers_",
    "processor",
    "selinux_",
    "sshfp_",
    "solaris_zones",
    "zone_",
    "ec2_",
    "sp_",
];

/// Whether `name` (without `$` or `::`) is a variable Puppet or Facter sets
/// in every catalog.
pub fn is_builtin_or_core_fact(name: &str) -> bool {
    // Asked of every variable a task reads: looked up, not searched.
    static KNOWN: LazyLock<FastSet<&str>> =
        LazyLock::new(|| BUILTIN.iter().chain(CORE_FACTS).copied().collect());
    KNOWN.contains(name)
        || CORE_FACT_PREFIXES
            .iter()
            .any(|prefix| name.starts_with(prefix))
        || is_match_variable(name)
}

/// `$0`, `$1`...: the groups of the last regular expression match.
fn is_match_variable(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::is_builtin_or_core_fact;

    #[test]
    fn builtins_facts_and_match_groups_are_known_other_names_not() {
        for known in [
            "facts",
            "trusted",
            "osfamily",
            "ipaddress_eth0",
            "processor0",
            "1",
        ] {
            assert!(is_builtin_or_core_fact(known), "{known}");
        }
        for unknown in ["role", "db_password", "cluster_settings", ""] {
            assert!(!is_builtin_or_core_fact(unknown), "{unknown}");
        }
    }
}
