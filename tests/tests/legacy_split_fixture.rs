//! fixtures/split/legacy, a small Puppet 3 monolith: granule reports each
//! legacy construct where its README says; Puppet 7's validator refuses
//! exactly the files the README says; and the rewrites the README gives
//! make Puppet 7's validator accept every file that has one, while the
//! files whose constructs have none stay refused.

use granule_tests::executor::{exit_code, granule, text};
use granule_tests::{repo_root, require_reference, target_dir, validation_oracle};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

const TEST: &str = "legacy_split_fixture";

fn fixture() -> PathBuf {
    repo_root().join("fixtures/split/legacy")
}

/// Every manifest of the fixture, relative to it.
const FILES: [&str; 6] = [
    "manifests/site.pp",
    "manifests/nodes.pp",
    "modules/webapp/manifests/init.pp",
    "modules/dbserver/manifests/init.pp",
    "modules/dbserver/manifests/database.pp",
    "modules/dbserver/manifests/backup-tool.pp",
];

/// The README's table: (file, line, column, code).
const CONSTRUCTS: [(&str, usize, usize, &str); 14] = [
    ("manifests/site.pp", 6, 1, "legacy/import"),
    ("manifests/site.pp", 9, 1, "legacy/variable-with-dash"),
    ("manifests/site.pp", 11, 1, "legacy/indexed-assignment"),
    ("manifests/site.pp", 20, 18, "legacy/variable-with-dash"),
    ("manifests/nodes.pp", 8, 35, "legacy/node-inheritance"),
    ("manifests/nodes.pp", 14, 23, "legacy/node-inheritance"),
    (
        "modules/webapp/manifests/init.pp",
        7,
        3,
        "legacy/camel-case-variable",
    ),
    (
        "modules/webapp/manifests/init.pp",
        8,
        3,
        "legacy/camel-case-variable",
    ),
    (
        "modules/webapp/manifests/init.pp",
        9,
        17,
        "legacy/reserved-word-as-name",
    ),
    (
        "modules/webapp/manifests/init.pp",
        11,
        26,
        "legacy/keyword-as-name",
    ),
    (
        "modules/webapp/manifests/init.pp",
        14,
        39,
        "legacy/camel-case-variable",
    ),
    (
        "modules/webapp/manifests/init.pp",
        22,
        3,
        "legacy/reference-with-space",
    ),
    (
        "modules/webapp/manifests/init.pp",
        22,
        49,
        "legacy/reference-with-space",
    ),
    (
        "modules/dbserver/manifests/backup-tool.pp",
        2,
        1,
        "legacy/name-with-dash",
    ),
];

/// The files Puppet 7 refuses as they are.
const REFUSED: [&str; 4] = [
    "manifests/site.pp",
    "manifests/nodes.pp",
    "modules/webapp/manifests/init.pp",
    "modules/dbserver/manifests/backup-tool.pp",
];

/// The README's Puppet 7 rewrites, as (file, Puppet 3 text, Puppet 7 text).
/// `import` needs no rewrite to pass the validator (it fails later, when the
/// catalog is compiled); node inheritance and the dashed class have none.
const REWRITES: [(&str, &str, &str); 8] = [
    ("manifests/site.pp", "$app-port", "$app_port"),
    (
        "manifests/site.pp",
        "$tuning = { 'workers' => 2, 'timeout' => 30 }\n$tuning['threads'] = 4\n",
        "$tuning = { 'workers' => 2, 'timeout' => 30 } + { 'threads' => 4 }\n",
    ),
    ("modules/webapp/manifests/init.pp", "File [", "File["),
    ("modules/webapp/manifests/init.pp", "Exec [", "Exec["),
    (
        "modules/webapp/manifests/init.pp",
        "$server[type]",
        "$server['type']",
    ),
    (
        "modules/webapp/manifests/init.pp",
        "= private",
        "= 'private'",
    ),
    (
        "modules/webapp/manifests/init.pp",
        "$BindAddress",
        "$bind_address",
    ),
    (
        "modules/webapp/manifests/init.pp",
        "${BindAddress}",
        "${bind_address}",
    ),
];

const WITHOUT_REWRITE: [&str; 2] = [
    "manifests/nodes.pp",
    "modules/dbserver/manifests/backup-tool.pp",
];

#[test]
fn granule_reports_each_construct_where_the_readme_says() {
    let output = Command::new(granule())
        .args(["parse", "--format", "none"])
        .args(FILES)
        .current_dir(fixture())
        .output()
        .expect("granule runs");
    let stderr = text(&output.stderr);
    assert_eq!(
        exit_code(&output),
        0,
        "granule reads Puppet 3 code:\n{stderr}"
    );
    let reported: BTreeSet<(String, usize, usize, String)> = stderr
        .lines()
        .filter_map(|line| {
            let (file, rest) = line.split_once(':')?;
            let (line, rest) = rest.split_once(':')?;
            let (column, rest) = rest.split_once(": warning[")?;
            let code = &rest[..rest.find(']')?];
            Some((
                file.to_string(),
                line.parse().ok()?,
                column.parse().ok()?,
                code.to_string(),
            ))
        })
        .collect();
    let expected: BTreeSet<(String, usize, usize, String)> = CONSTRUCTS
        .iter()
        .map(|(file, line, column, code)| (file.to_string(), *line, *column, code.to_string()))
        .collect();
    assert_eq!(reported, expected, "{stderr}");
}

fn refused_by_puppet_7(files: &[PathBuf]) -> Option<BTreeSet<PathBuf>> {
    let validations = require_reference(TEST, validation_oracle::validations(files))?;
    let refused = files.iter().filter(|file| {
        let validation = validations.get(file);
        validation.error.is_some()
            || validation
                .diagnostics
                .iter()
                .any(|issue| issue.severity == "error")
    });
    Some(refused.cloned().collect())
}

#[test]
fn puppet_7_refuses_the_files_the_readme_names() {
    let files: Vec<PathBuf> = FILES.iter().map(|file| fixture().join(file)).collect();
    let Some(refused) = refused_by_puppet_7(&files) else {
        return;
    };
    let expected: BTreeSet<PathBuf> = REFUSED.iter().map(|file| fixture().join(file)).collect();
    assert_eq!(refused, expected);
}

#[test]
fn the_readme_rewrites_make_puppet_7_accept_all_but_the_constructs_without_one() {
    let dir = target_dir().join("legacy-split-rewrites");
    let mut files = Vec::new();
    for file in FILES {
        let mut source = std::fs::read_to_string(fixture().join(file)).expect("a fixture file");
        for (_, from, to) in REWRITES.iter().filter(|(target, _, _)| *target == file) {
            assert!(source.contains(from), "{file} has no `{from}` to rewrite");
            source = source.replace(from, to);
        }
        let rewritten = dir.join(file);
        std::fs::create_dir_all(rewritten.parent().unwrap()).unwrap();
        std::fs::write(&rewritten, source).unwrap();
        files.push(rewritten);
    }
    let Some(refused) = refused_by_puppet_7(&files) else {
        return;
    };
    let expected: BTreeSet<PathBuf> = WITHOUT_REWRITE.iter().map(|file| dir.join(file)).collect();
    assert_eq!(refused, expected);
}
