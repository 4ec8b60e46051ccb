//! fixtures/split/legacy, a small Puppet 3 monolith: granule reports each
//! legacy construct where its README says; Puppet 7's validator refuses
//! exactly the files the README says; the rewrites the README gives make
//! Puppet 7's validator accept every file that has one, while the files
//! whose constructs have none stay refused. Its split passes `--verify` for
//! Puppet 3; for Puppet 7 the copied constructs with a rewrite are gone, the
//! manifests without the others pass Puppet 7's validator, and `--verify`
//! lists exactly the others.

use granule_tests::executor::{exit_code, granule, text};
use granule_tests::{repo_root, require_reference, target_dir, validation_oracle};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
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
const CONSTRUCTS: [(&str, usize, usize, &str); 20] = [
    ("manifests/site.pp", 6, 1, "legacy/import"),
    ("manifests/site.pp", 9, 1, "legacy/variable-with-dash"),
    ("manifests/site.pp", 11, 1, "legacy/indexed-assignment"),
    ("manifests/site.pp", 20, 18, "legacy/variable-with-dash"),
    ("manifests/site.pp", 39, 3, "legacy/indexed-assignment"),
    ("manifests/site.pp", 39, 29, "legacy/reserved-word-as-name"),
    ("manifests/site.pp", 40, 3, "legacy/camel-case-variable"),
    ("manifests/site.pp", 42, 28, "legacy/keyword-as-name"),
    ("manifests/site.pp", 48, 3, "legacy/reference-with-space"),
    ("manifests/site.pp", 48, 38, "legacy/reference-with-space"),
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
const REWRITES: [(&str, &str, &str); 13] = [
    ("manifests/site.pp", "$app-port", "$app_port"),
    (
        "manifests/site.pp",
        "$tuning = { 'workers' => 2, 'timeout' => 30 }\n$tuning['threads'] = 4\n",
        "$tuning = { 'workers' => 2, 'timeout' => 30 } + { 'threads' => 4 }\n",
    ),
    (
        "manifests/site.pp",
        "$level }\n  $settings['visibility'] = private\n",
        "$level } + { 'visibility' => 'private' }\n",
    ),
    ("manifests/site.pp", "LogDir", "log_dir"),
    (
        "manifests/site.pp",
        "${settings[type]}",
        "${settings['type']}",
    ),
    ("manifests/site.pp", "File [", "File["),
    ("manifests/site.pp", "Exec [", "Exec["),
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

/// The README's constructs without a rewrite that the split copies into
/// task manifests: (code, where it was copied from). The others of the
/// table are in module code, which the tasks load as it is.
const LISTED: [(&str, &str); 1] = [("legacy/import", "manifests/site.pp:6:1")];

/// `granule split` of the fixture for `target` into a fresh directory,
/// with `--verify`: the directory, the exit code and what it printed.
fn split(target: &str) -> (PathBuf, i32, String) {
    let out = target_dir().join(format!("legacy-split-{target}"));
    let output = Command::new(granule())
        .args(["split", "--modulepath"])
        .arg(fixture().join("modules"))
        .arg("--entry")
        .arg(fixture().join("manifests/site.pp"))
        .args([
            "--role-var",
            "$::role",
            "--target",
            target,
            "--verify",
            "-o",
        ])
        .arg(&out)
        .output()
        .expect("granule runs");
    let printed = format!("{}{}", text(&output.stdout), text(&output.stderr));
    (out, exit_code(&output), printed)
}

/// The task manifests of a split.
fn manifests(out: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(out)
        .expect("the split's directory")
        .filter_map(|entry| {
            let dir = entry.ok()?.path();
            let name = dir.file_name()?.to_str()?.to_string();
            let manifest = dir.join(format!("{name}.pp"));
            manifest.is_file().then_some(manifest)
        })
        .collect();
    found.sort();
    found
}

#[test]
fn the_puppet_3_split_passes_verify() {
    let (out, code, printed) = split("puppet3");
    assert_eq!(code, 0, "{printed}");
    let copied = manifests(&out)
        .iter()
        .map(|manifest| std::fs::read_to_string(manifest).unwrap())
        .collect::<String>();
    assert!(
        copied.contains("$app-port") && copied.contains("File [\""),
        "the Puppet 3 split keeps the Puppet 3 code"
    );
    // `$tuning['threads'] = 4` changes data: the `globals` task runs it
    // after building the hash, so that every task reads the changed hash.
    for manifest in manifests(&out) {
        let text = std::fs::read_to_string(&manifest).unwrap();
        let changed = text.find("$tuning['threads'] = 4");
        if manifest.ends_with("globals/globals.pp") {
            let built = text.find("$tuning = {").expect("globals builds $tuning");
            assert!(
                changed.is_some_and(|at| at > built),
                "globals changes $tuning after building it:\n{text}"
            );
        } else {
            assert!(
                changed.is_none(),
                "{} changes $tuning, which it reads from globals",
                manifest.display()
            );
        }
    }
    // Puppet 3 resolves an import from the importing file's directory: the
    // copy, in the task's directory, must name the file where it is.
    let imported: Vec<&str> = copied
        .lines()
        .filter_map(|line| line.trim().strip_prefix("import "))
        .collect();
    assert!(!imported.is_empty(), "the import is copied:\n{copied}");
    for path in imported {
        let path = path.trim().trim_matches('\'');
        assert!(
            Path::new(path).is_absolute() && Path::new(path).is_file(),
            "the copied import names {path}, which is not the imported file"
        );
    }
}

#[test]
fn the_puppet_7_split_rewrites_what_it_can_and_verify_lists_the_rest() {
    let (out, code, printed) = split("puppet7");
    assert_eq!(
        code, 1,
        "--verify fails on what Puppet 7 refuses:\n{printed}"
    );
    // verify: MANIFEST:L:C: CODE (copied from SOURCE:L:C): ...
    let fixture_prefix = format!("{}/", fixture().display());
    let mut listed = BTreeSet::new();
    let mut listed_manifests = BTreeSet::new();
    for line in printed.lines().filter_map(|l| l.strip_prefix("verify: ")) {
        let Some((place, rest)) = line.split_once(": legacy/") else {
            continue;
        };
        let (code, rest) = rest.split_once(" (copied from ").expect("the source");
        let (source, _) = rest.split_once("): ").expect("what to do");
        let manifest = place.rsplitn(3, ':').nth(2).expect("file:line:column");
        listed_manifests.insert(PathBuf::from(manifest));
        listed.insert((
            format!("legacy/{code}"),
            source.trim_start_matches(&fixture_prefix).to_string(),
        ));
    }
    let expected: BTreeSet<(String, String)> = LISTED
        .iter()
        .map(|(code, source)| (code.to_string(), source.to_string()))
        .collect();
    assert_eq!(listed, expected, "{printed}");
    assert!(
        !printed.contains("Puppet 7 refuses it"),
        "every other finding is rewritten:\n{printed}"
    );

    // The rewritten constructs are gone: granule finds no legacy construct
    // in the written manifests but the listed ones.
    let all = manifests(&out);
    let parse = Command::new(granule())
        .args(["parse", "--format", "none"])
        .args(&all)
        .output()
        .expect("granule runs");
    let findings: BTreeSet<String> = text(&parse.stderr)
        .lines()
        .filter_map(|line| {
            let (_, code) = line.split_once(": warning[legacy/")?;
            Some(format!("legacy/{}", &code[..code.find(']')?]))
        })
        .collect();
    let listed_codes: BTreeSet<String> = LISTED.iter().map(|(c, _)| c.to_string()).collect();
    assert_eq!(findings, listed_codes, "{}", text(&parse.stderr));
    let log = std::fs::read_to_string(out.join("legacy-log/legacy-log.pp")).unwrap();
    for rewritten in [
        "+ { 'visibility' => 'private' }",
        "$log_dir = ",
        "${log_dir}/${title}.log",
        "${settings['type']}",
        "File[\"${log_dir}/${title}.log\"] ~> Exec[\"${title}-log-ready\"]",
    ] {
        assert!(log.contains(rewritten), "no `{rewritten}` in\n{log}");
    }

    // Puppet 7's own validator accepts every manifest with nothing listed.
    let clean: Vec<PathBuf> = all
        .into_iter()
        .filter(|manifest| !listed_manifests.contains(manifest))
        .collect();
    assert!(clean.len() >= 5, "{clean:?}");
    let Some(refused) = refused_by_puppet_7(&clean) else {
        return;
    };
    assert!(refused.is_empty(), "Puppet 7 refuses {refused:?}");
}
