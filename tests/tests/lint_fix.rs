//! `granule lint --fix` against `puppet-lint --fix`: on two copies of the
//! whole module corpus (and our lint fixtures), every file granule rewrites
//! must have the bytes puppet-lint writes, and every other file must be
//! left as it was.
//!
//! Both run every default check except those whose fix granule has not
//! ported yet (`FIX_NOT_YET_PORTED`) and those the reference puppet-lint
//! does not have (`NOT_IN_REFERENCE`), chosen by the same `.puppet-lint.rc`.

use granule_analyzer::lint::rules::{CHECKS, FIX_NOT_YET_PORTED};
use granule_tests::corpus::{corpus_files, manifests_under, CORPUS_DIR};
use granule_tests::executor::{granule_in, text, tool_available};
use granule_tests::lint_oracle::NOT_IN_REFERENCE;
use granule_tests::{repo_root, require_reference, target_dir};
use std::path::{Path, PathBuf};
use std::process::Command;

#[test]
fn fixed_files_have_puppet_lints_bytes() {
    let test = "lint_fix";
    let Some(()) = require_reference(test, tool_available("puppet-lint", "puppet-lint")) else {
        return;
    };
    let Some(corpus) = require_reference(test, corpus_files()) else {
        return;
    };
    let fixtures_dir = repo_root().join("fixtures/lint");
    let fixtures = manifests_under(&fixtures_dir).expect("fixtures/lint is readable");
    let mut sources: Vec<(PathBuf, PathBuf)> = corpus
        .iter()
        .map(|f| (f.clone(), f.strip_prefix(CORPUS_DIR).unwrap().to_path_buf()))
        .collect();
    sources.extend(fixtures.iter().map(|f| {
        let relative = Path::new("fixtures").join(f.strip_prefix(&fixtures_dir).unwrap());
        (f.clone(), relative)
    }));
    let root = target_dir().join("lint-fix");
    let _ = std::fs::remove_dir_all(&root);
    let checks: Vec<&str> = CHECKS
        .iter()
        .filter(|c| c.enabled_by_default && !c.on_codebase())
        .filter(|c| !FIX_NOT_YET_PORTED.contains(&c.name))
        .filter(|c| !NOT_IN_REFERENCE.contains(&c.name))
        .map(|c| c.name)
        .collect();
    let rc = format!("--only-checks={}\n", checks.join(","));
    let copies = [root.join("puppet-lint"), root.join("granule")];
    for copy in &copies {
        for (source, relative) in &sources {
            let target = copy.join(relative);
            std::fs::create_dir_all(target.parent().unwrap()).unwrap();
            std::fs::copy(source, &target).unwrap();
        }
        std::fs::write(copy.join(".puppet-lint.rc"), &rc).unwrap();
    }
    let relative: Vec<String> = sources
        .iter()
        .map(|(_, r)| r.display().to_string())
        .collect();

    let puppet_lint = Command::new("puppet-lint")
        .arg("--fix")
        .args(&relative)
        .current_dir(&copies[0])
        .env("PWD", &copies[0])
        .output()
        .expect("puppet-lint runs");
    assert!(
        !puppet_lint.stdout.is_empty(),
        "puppet-lint --fix reported nothing: {}",
        text(&puppet_lint.stderr)
    );
    let mut args = vec!["lint", "--fix"];
    args.extend(relative.iter().map(String::as_str));
    let granule = granule_in(&copies[1], &args);
    eprintln!("{}", text(&granule.stdout).lines().last().unwrap_or(""));

    let mut rewritten = 0;
    let mut differing = Vec::new();
    for ((source, _), path) in sources.iter().zip(&relative) {
        let original = std::fs::read(source).unwrap();
        let by_puppet_lint = std::fs::read(copies[0].join(path)).unwrap();
        let by_granule = std::fs::read(copies[1].join(path)).unwrap();
        if by_puppet_lint != original {
            rewritten += 1;
        }
        if by_puppet_lint != by_granule {
            differing.push(path.clone());
        }
    }
    eprintln!(
        "puppet-lint --fix rewrote {rewritten} of {} files; granule differs on {}",
        sources.len(),
        differing.len()
    );
    eprintln!("fixes not ported yet: {}", FIX_NOT_YET_PORTED.join(", "));
    assert!(
        rewritten > 0,
        "puppet-lint --fix changed nothing: the test tests nothing"
    );
    assert!(
        differing.is_empty(),
        "granule lint --fix differs from puppet-lint --fix on {} files (compare {} and {}): {:?}",
        differing.len(),
        copies[0].display(),
        copies[1].display(),
        &differing[..differing.len().min(10)]
    );
}
