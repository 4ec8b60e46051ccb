//! granule/undeclared-resource, granule/duplicate-resource and
//! granule/private-declaration against the real Puppet: `puppet apply --noop` of every node of each fixture case
//! (fixtures/lint-architecture/<rule>/<case>/manifests/site.pp, its
//! modules and stdlib on the module path)
//! * fails, in a positive case (each has one problem), on what the rule
//!   reports there: the reference Puppet cannot find, the two declarations
//!   Puppet refuses to hold together, the private class or define;
//! * compiles and applies (in noop) every negative case, whose look-alikes
//!   the rules must leave alone.

use granule_tests::executor::{scratch, tool_available};
use granule_tests::lint_fixtures::{
    catalog_errors, fixture_cases, is_positive, lint_problems, refused_duplicates,
    reported_duplicates, Found,
};
use granule_tests::require_reference;
use std::path::{Path, PathBuf};

const UNDECLARED: &str = "granule/undeclared-resource";
const DUPLICATE: &str = "granule/duplicate-resource";
const PRIVATE: &str = "granule/private-declaration";
const STDLIB: &str = "/usr/share/puppet/modules/stdlib";

/// The cases of a rule's fixtures compiled per node (those with a
/// tasks.yaml are `lint_task_rules`'), and whether each is a positive one.
fn cases(rule: &str) -> Vec<(PathBuf, bool)> {
    fixture_cases(rule)
        .into_iter()
        .filter(|case| !case.join("tasks.yaml").is_file())
        .map(|case| {
            let positive = is_positive(&case);
            (case, positive)
        })
        .collect()
}

/// The nodes `manifests/site.pp` defines (`node 'web01'`, `node default`).
fn nodes(case: &Path) -> Vec<String> {
    let site = std::fs::read_to_string(case.join("manifests/site.pp")).expect("site.pp");
    let nodes: Vec<String> = site
        .lines()
        .filter_map(|line| line.strip_prefix("node "))
        .filter_map(|rest| rest.split_whitespace().next())
        .map(|name| name.trim_matches('\'').to_string())
        .collect();
    assert!(!nodes.is_empty(), "{}: no node", case.display());
    nodes
}

/// A module path directory holding stdlib only (the whole of
/// /usr/share/puppet/modules would load modules the fixtures do not use).
fn stdlib_dir(puppet_dir: &Path) -> Result<PathBuf, String> {
    if !Path::new(STDLIB).is_dir() {
        return Err(format!(
            "{STDLIB} is missing: install the Debian package puppet-module-puppetlabs-stdlib"
        ));
    }
    let dir = puppet_dir.join("modules");
    std::fs::create_dir_all(&dir).expect("a module path directory");
    let link = dir.join("stdlib");
    if !link.exists() {
        std::os::unix::fs::symlink(STDLIB, &link).expect("stdlib linked");
    }
    Ok(dir)
}

/// What `puppet apply --noop` of the case's site.pp as `node` says: stdout
/// and stderr.
fn puppet_apply(case: &Path, node: &str, puppet_dir: &Path, stdlib: &Path) -> String {
    let modulepath = format!("{}:{}", case.join("modules").display(), stdlib.display());
    granule_tests::lint_fixtures::puppet_apply(
        &case.join("manifests/site.pp"),
        &modulepath,
        puppet_dir,
        &[format!("--certname={node}")],
        &[],
    )
}

/// Runs `puppet apply` on every node of every case of `rule` and hands
/// each positive case's problems and Puppet's errors to `check_positive`;
/// negative cases must compile and apply without error.
fn against_puppet(
    test: &str,
    rule: &str,
    check: &str,
    check_positive: impl Fn(&Path, &Found, &[String]),
) {
    if require_reference(test, tool_available("puppet", "puppet")).is_none() {
        return;
    }
    let puppet_dir = scratch(test);
    let Some(stdlib) = require_reference(test, stdlib_dir(&puppet_dir)) else {
        return;
    };
    for (case, positive) in cases(rule) {
        let found = lint_problems(&case, &["."], check);
        for node in nodes(&case) {
            let log = puppet_apply(&case, &node, &puppet_dir, &stdlib);
            let errors = catalog_errors(&log);
            if positive {
                assert_eq!(
                    found.len(),
                    1,
                    "{}: one problem expected: {found:#?}",
                    case.display()
                );
                check_positive(&case, &found[0], &errors);
            } else {
                assert!(
                    errors.is_empty() && log.contains("Compiled catalog"),
                    "{}: granule finds nothing, Puppet fails node {node}:\n{log}",
                    case.display()
                );
                assert!(found.is_empty(), "{}: {found:#?}", case.display());
            }
        }
    }
}

#[test]
fn undeclared_resources_are_those_puppet_cannot_find() {
    let test = "undeclared_resources_are_those_puppet_cannot_find";
    against_puppet(
        test,
        "undeclared-resource",
        UNDECLARED,
        |case, found, errors| {
            // `Package['app-sever']` in granule's message; Package[app-sever] in
            // Puppet's ("Could not find resource 'Package[app-sever]' ...",
            // "Failed to realize virtual resources User[deploy]").
            let reference = found
                .message
                .split('`')
                .nth(1)
                .expect("the reference, quoted")
                .replace('\'', "");
            assert!(
                errors.iter().any(|error| error.contains(&reference)),
                "{}: Puppet's errors {errors:?} do not name {reference}",
                case.display()
            );
        },
    );
}

#[test]
fn duplicate_resources_are_those_puppet_refuses() {
    let test = "duplicate_resources_are_those_puppet_refuses";
    against_puppet(
        test,
        "duplicate-resource",
        DUPLICATE,
        |case, found, errors| {
            let reported = reported_duplicates(case, found);
            let refused = refused_duplicates(errors);
            assert!(
                refused.contains(&reported),
                "{}: granule reports {reported:?}, Puppet refuses {refused:?}: {errors:?}",
                case.display()
            );
        },
    );
}

#[test]
fn private_declarations_are_those_puppet_refuses() {
    let test = "private_declarations_are_those_puppet_refuses";
    against_puppet(
        test,
        "private-declaration",
        PRIVATE,
        |case, found, errors| {
            // "class app::params calls assert_private()" in granule's message;
            // "Class app::params is private" in Puppet's.
            let mut words = found.message.split_whitespace();
            let kind = match words.next() {
                Some("class") => "Class",
                _ => "Definition",
            };
            let name = words.next().expect("the private class or define");
            let refusal = format!("{kind} {name} is private");
            assert!(
                errors.iter().any(|error| error.contains(&refusal)),
                "{}: Puppet's errors {errors:?} do not say {refusal:?}",
                case.display()
            );
        },
    );
}
