//! The Puppet 7 rewrite on real Puppet 3 and Puppet 4+ code: every manifest
//! of the 2014 Fuel installer and of the Debian module corpus. It never
//! panics; what it writes still parses; it never adds a legacy construct;
//! each construct it rewrites is gone, so what granule still finds in the
//! rewritten text is what it refused; and on the Fuel code it rewrites
//! something (the corpus is Puppet 3 code Puppet 7 rejects), and Puppet 7's
//! own validator accepts every file it rewrote with nothing refused.
//! `to_puppet7_text`, the text alone (as `granule split` writes it), is
//! the same text.
//!
//! Also the parser's promise `granule split --verify` relies on to read a
//! manifest once: where the Puppet 3 reading meets no Puppet 3 construct
//! (no legacy finding, no error), Puppet 7's reading is the same tree.

use granule_parser::rewrite::{to_puppet7, to_puppet7_text};
use granule_parser::{legacy, parse_legacy_recovering, parse_recovering};
use granule_tests::corpus::{corpus_files, manifests_under, read_manifest, shared_corpus};
use granule_tests::{require_reference, target_dir, validation_oracle};
use std::path::PathBuf;

/// The legacy constructs granule finds in `source` that Puppet 7 refuses
/// or fails on (camelCase starting lower case and an empty `if` are valid
/// Puppet 7), by code and offset.
fn refused_constructs(source: &str) -> Option<Vec<(String, u32)>> {
    let parsed = parse_legacy_recovering(source);
    if !parsed.errors.is_empty() {
        return None;
    }
    let findings = legacy::legacy_mode_findings(parsed.legacy, &parsed.program, source);
    Some(
        findings
            .into_iter()
            .filter(|f| f.code.starts_with("legacy/") && f.code != legacy::EMPTY_IF)
            .filter(|f| {
                f.code != legacy::CAMEL_CASE_VARIABLE
                    || source[f.span.start as usize..]
                        .trim_start_matches(['$', '{', ':'])
                        .starts_with(|c: char| c.is_ascii_uppercase())
            })
            .map(|f| (f.code, f.span.start))
            .collect(),
    )
}

/// The number of files whose Puppet 3 reading met no Puppet 3 construct;
/// panics where Puppet 7's reading of one differs.
fn check_same_reading(files: &[PathBuf]) -> usize {
    let mut same = 0;
    for file in files {
        let source = read_manifest(file);
        let as_puppet3 = parse_legacy_recovering(&source);
        if !as_puppet3.errors.is_empty() || !as_puppet3.legacy.is_empty() {
            continue;
        }
        let as_puppet7 = parse_recovering(&source);
        assert!(
            as_puppet7.errors.is_empty() && as_puppet7.program == as_puppet3.program,
            "{}: read as Puppet 7 otherwise than as Puppet 3, with no Puppet 3 construct \
             found: {:?}",
            file.display(),
            as_puppet7.errors
        );
        same += 1;
    }
    same
}

/// Checks the rewrite of every file; the counts of rewrites and refusals,
/// and the rewritten text of each file rewritten with nothing refused.
fn check(files: &[PathBuf]) -> (usize, usize, Vec<(PathBuf, String)>) {
    let (mut rewritten, mut refused, mut clean) = (0, 0, Vec::new());
    for file in files {
        let source = read_manifest(file);
        let Some(before) = refused_constructs(&source) else {
            continue;
        };
        let out = to_puppet7(&source);
        assert_eq!(to_puppet7_text(&source), out.text, "{}", file.display());
        let after = refused_constructs(&out.text)
            .unwrap_or_else(|| panic!("{}: the rewrite broke the syntax", file.display()));
        assert!(
            after.len() <= before.len(),
            "{}: {before:?} became {after:?}",
            file.display()
        );
        let still: Vec<&String> = after.iter().map(|(code, _)| code).collect();
        let listed: Vec<&str> = out.refused.iter().map(|r| r.code).collect();
        for code in &still {
            assert!(
                listed.contains(&code.as_str()),
                "{}: {code} is left and was not refused ({listed:?})",
                file.display()
            );
        }
        if out.text == source {
            assert!(out.changes.is_empty(), "{}", file.display());
        }
        rewritten += out.changes.len();
        refused += out.refused.len();
        if !out.changes.is_empty() && out.refused.is_empty() {
            clean.push((file.clone(), out.text));
        }
    }
    (rewritten, refused, clean)
}

#[test]
fn the_rewrite_on_the_2014_fuel_installer() {
    let Some(dir) = require_reference("legacy_rewrite_corpus", shared_corpus("fuel-library-2014"))
    else {
        return;
    };
    let files = manifests_under(&dir.join("deployment/puppet")).expect("its manifests");
    assert!(files.len() > 700, "{} manifests", files.len());
    let (rewritten, refused, clean) = check(&files);
    eprintln!(
        "fuel-library-2014: {rewritten} rewrites, {refused} refusals, {} files rewritten whole",
        clean.len()
    );
    assert!(rewritten > 0 && refused > 0 && !clean.is_empty());
    assert!(check_same_reading(&files) > 500);
    let out = target_dir().join("legacy-rewrite-corpus");
    let mut written = Vec::new();
    for (file, text) in &clean {
        let relative = file.strip_prefix(&dir).expect("under the corpus");
        let path = out.join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        written.push(path);
    }
    let Some(validations) = require_reference(
        "legacy_rewrite_corpus",
        validation_oracle::validations(&written),
    ) else {
        return;
    };
    for path in &written {
        let validation = validations.get(path);
        let errors: Vec<_> = validation
            .diagnostics
            .iter()
            .filter(|issue| issue.severity == "error")
            .collect();
        assert!(
            validation.error.is_none() && errors.is_empty(),
            "Puppet 7 refuses the rewritten {}: {:?} {errors:?}",
            path.display(),
            validation.error
        );
    }
}

#[test]
fn the_rewrite_on_the_debian_module_corpus() {
    let Some(files) = require_reference("legacy_rewrite_corpus", corpus_files()) else {
        return;
    };
    assert!(files.len() > 1000, "{} manifests", files.len());
    let (rewritten, refused, _) = check(&files);
    eprintln!("module corpus: {rewritten} rewrites, {refused} refusals");
    assert!(check_same_reading(&files) > 1000);
}
