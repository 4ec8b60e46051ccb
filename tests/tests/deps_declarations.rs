//! `granule deps --level class` against Puppet's own parser: every class a
//! file declares by a literal name (`include`, `require`, `contain`,
//! `class { 'x': }`), in classes, defines, nodes and functions written in
//! Puppet, is an edge of the class graph, and each declaration keeps its own
//! line and condition among the edge's `sites`, even when a file declares
//! the class twice.

use granule_tests::declaration_oracle::declarations;
use granule_tests::executor::{exit_code, granule_in, text};
use granule_tests::{repo_root, require_reference};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// (file, line, class) of every declaration site `granule deps --level
/// class --format json` shows for `modulepath`.
fn granule_sites(modulepath: &Path) -> BTreeSet<(PathBuf, usize, String)> {
    let output = granule_in(
        &repo_root(),
        &[
            "deps",
            "--modulepath",
            &modulepath.display().to_string(),
            "--level",
            "class",
            "--format",
            "json",
        ],
    );
    assert!(
        matches!(exit_code(&output), 0 | 1),
        "{}",
        text(&output.stderr)
    );
    let deps: Value = serde_json::from_slice(&output.stdout).expect("granule deps' JSON");
    let declaring = ["include", "require_class", "contain", "declare_class"];
    let mut sites = BTreeSet::new();
    for edge in deps["edges"].as_array().expect("edges") {
        if !declaring.contains(&edge["kind"].as_str().unwrap_or("")) {
            continue;
        }
        let class = edge["to"]["name"].as_str().unwrap_or("").to_string();
        for site in edge["sites"].as_array().expect("every edge has its sites") {
            let file = PathBuf::from(site["location"]["file"].as_str().unwrap_or(""));
            let line = site["location"]["line"].as_u64().unwrap_or(0) as usize;
            sites.insert((file, line, class.clone()));
        }
    }
    sites
}

/// The manifests granule loads from a module path: each module's
/// `manifests/` and `functions/`.
fn module_manifests(modulepath: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(modulepath)
        .expect("a module path")
        .filter_map(Result::ok)
        .flat_map(|module| ["manifests", "functions"].map(|dir| module.path().join(dir)))
        .flat_map(|dir| walkdir::WalkDir::new(dir).follow_links(true))
        .filter_map(Result::ok)
        .filter(|entry| entry.path().extension().is_some_and(|x| x == "pp"))
        .map(|entry| entry.into_path())
        .collect();
    files.sort();
    files
}

/// Every declaration Puppet's parser finds in the module path's manifests
/// is a site of granule's class graph; returns how many there are.
fn every_declaration_is_a_site(test: &str, modulepath: &Path) -> Option<usize> {
    let files = module_manifests(modulepath);
    let oracle = require_reference(test, declarations(&files))?;
    let sites = granule_sites(modulepath);
    let mut missing = Vec::new();
    let mut count = 0;
    for file in &files {
        let record = &oracle[file];
        assert!(
            record.error.is_none(),
            "{}: {:?}",
            file.display(),
            record.error
        );
        for declaration in &record.declarations {
            count += 1;
            let class = declaration
                .name
                .trim_start_matches("::")
                .to_ascii_lowercase();
            if !sites.contains(&(file.clone(), declaration.line, class.clone())) {
                missing.push(format!(
                    "{}:{}: {} {class}",
                    file.display(),
                    declaration.line,
                    declaration.kind
                ));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "{test}: {} of {count} declarations Puppet's parser shows are not in granule's class graph:\n{}",
        missing.len(),
        missing.join("\n")
    );
    Some(count)
}

#[test]
fn a_class_declared_twice_and_from_a_function_keeps_each_site() {
    let modulepath = repo_root().join("fixtures/deps-sites/modules");
    let Some(count) = every_declaration_is_a_site("deps sites (fixture)", &modulepath) else {
        return;
    };
    assert_eq!(count, 4, "the fixture declares a::b four times");
    let output = granule_in(
        &modulepath,
        &[
            "deps",
            "--modulepath",
            ".",
            "--level",
            "class",
            "--format",
            "json",
        ],
    );
    let deps: Value = serde_json::from_slice(&output.stdout).expect("granule deps' JSON");
    let twice = deps["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|edge| edge["from"]["name"] == "app" && edge["kind"] == "declare_class")
        .expect("app declares a::b");
    let sites: Vec<(u64, Option<&str>)> = twice["sites"]
        .as_array()
        .unwrap()
        .iter()
        .map(|site| {
            (
                site["location"]["line"].as_u64().unwrap(),
                site["condition"].as_str(),
            )
        })
        .collect();
    assert_eq!(sites, [(3, Some("$x")), (5, Some("!($x)"))]);
}

#[test]
fn every_class_declaration_of_the_corpus_is_in_the_class_graph() {
    let modulepath = Path::new("/usr/share/puppet/modules.available");
    let present = if modulepath.is_dir() {
        Ok(())
    } else {
        Err(
            "/usr/share/puppet/modules.available is missing: install openstack-puppet-modules"
                .to_string(),
        )
    };
    let Some(()) = require_reference("deps sites (corpus)", present) else {
        return;
    };
    if let Some(count) = every_declaration_is_a_site("deps sites (corpus)", modulepath) {
        assert!(count > 1000, "only {count} declarations in the corpus");
        eprintln!("{count} class declarations of the corpus, each a site of granule's class graph");
    }
}
