//! EPP parity: granule's parse of every EPP template (`*.epp`) of the corpus
//! and of our fixtures (fixtures/epp/) against `puppet epp dump`:
//! byte-identical PN and JSON, and templates Puppet rejects (fixtures/epp/errors/)
//! rejected by granule at the same line and column.
//!
//! The oracle (tests/oracle/puppet_dump.rb --epp, one Ruby process) is
//! itself checked against the real `puppet epp dump` command here, and
//! `granule parse` on the fixture directory against the oracle.

use granule_tests::oracle::{self, Dump, Dumps, Kind};
use granule_tests::parity::{compare, difference_between, Comparison, Verdict};
use granule_tests::{corpus, require_reference};
use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

const TEST: &str = "epp_parity";

/// Our fixtures, sorted; those Puppet must reject are under `errors/`.
fn fixtures() -> Vec<PathBuf> {
    let files =
        corpus::templates_under(&corpus::template_fixture_dir()).expect("fixtures/epp is readable");
    assert!(!files.is_empty(), "fixtures/epp holds no *.epp");
    files
}

fn is_error_fixture(path: &Path) -> bool {
    path.starts_with(corpus::template_fixture_dir().join("errors"))
}

/// Compares every file, then fails with one line per file out of parity.
fn check_all(files: &[PathBuf], dumps: &Dumps, what: &str) -> Vec<Comparison> {
    let comparisons: Vec<Comparison> = files
        .iter()
        .map(|file| compare(file, &corpus::read_manifest(file), dumps.get(file)))
        .collect();
    let identical = comparisons
        .iter()
        .filter(|c| c.verdict == Verdict::Identical)
        .count();
    let both_reject = comparisons
        .iter()
        .filter(|c| matches!(c.verdict, Verdict::BothReject { .. }))
        .count();
    println!(
        "EPP parity on {what} (Puppet {}): {identical} of {} identical PN+JSON, {both_reject} rejected by both",
        dumps.puppet_version,
        files.len(),
    );
    let mut failures = String::new();
    for comparison in comparisons.iter().filter(|c| !c.verdict.is_parity()) {
        let _ = writeln!(
            failures,
            "{}: {:?}: {}\n",
            comparison.path.display(),
            comparison.verdict,
            comparison.detail.trim_end()
        );
    }
    assert!(
        failures.is_empty(),
        "EPP parity on {what} fails:\n\n{failures}"
    );
    comparisons
}

#[test]
fn every_corpus_template_has_puppets_pn() {
    let Some(files) = require_reference(TEST, corpus::corpus_templates()) else {
        return;
    };
    let Some(dumps) = require_reference(TEST, oracle::dumps_of(Kind::Template, &files)) else {
        return;
    };
    let comparisons = check_all(&files, &dumps, "the corpus templates");
    let identical = comparisons
        .iter()
        .filter(|c| c.verdict == Verdict::Identical)
        .count();
    // The corpus templates are all valid: parity means identical trees.
    assert_eq!(
        identical,
        files.len(),
        "every corpus template should parse identically"
    );
}

#[test]
fn every_fixture_has_puppets_pn_or_puppets_error_position() {
    let files = fixtures();
    let Some(dumps) = require_reference(TEST, oracle::dumps_of(Kind::Template, &files)) else {
        return;
    };
    // Each fixture must mean what its place says, whatever granule does.
    for file in &files {
        let dump = dumps.get(file);
        assert_eq!(
            dump.error.is_some(),
            is_error_fixture(file),
            "{}: Puppet {} it ({:?}); files under fixtures/epp/errors/ must be ones Puppet rejects, \
             and only those",
            file.display(),
            if dump.error.is_some() { "rejects" } else { "parses" },
            dump.error.as_ref().map(|e| &e.message),
        );
    }
    let comparisons = check_all(&files, &dumps, "fixtures/epp");
    let mut misplaced = String::new();
    for comparison in &comparisons {
        if let Some(place) = misplaced_error(&comparison.path, dumps.get(&comparison.path)) {
            let _ = writeln!(misplaced, "{}: {place}", comparison.path.display());
        }
    }
    assert!(
        misplaced.is_empty(),
        "granule reports these errors elsewhere than Puppet:\n{misplaced}"
    );
}

/// For a template Puppet rejects at a position: how granule's position
/// differs, if it does.
fn misplaced_error(path: &Path, dump: &Dump) -> Option<String> {
    let puppet = dump.error.as_ref()?;
    let source = corpus::read_manifest(path);
    let error = granule_parser::parse_epp(&source).err()?;
    let granule = error.line_col(&source);
    match (puppet.line, puppet.pos) {
        (Some(line), Some(column)) if (line, column) != granule => Some(format!(
            "Puppet {line}:{column} ({}), granule {}:{} ({})",
            puppet.message, granule.0, granule.1, error.message
        )),
        // Puppet names no position (at the end of the input): nothing to compare.
        _ => None,
    }
}

/// `puppet epp dump --format FORMAT FILES...`: its stdout and stderr.
fn puppet_epp_dump(format: &str, files: &[PathBuf]) -> Option<(String, String)> {
    let output = Command::new("puppet")
        .args(["epp", "dump", "--format", format])
        .args(files)
        .output();
    let output = require_reference(
        TEST,
        output.map_err(|e| format!("cannot run `puppet` ({e}): Debian package puppet-agent")),
    )?;
    assert!(
        output.status.success(),
        "puppet epp dump failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    Some((
        String::from_utf8(output.stdout).expect("puppet prints UTF-8"),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    ))
}

#[test]
fn oracle_prints_what_puppet_epp_dump_prints() {
    const CORPUS_SAMPLE: usize = 8;
    let Some(corpus_templates) = require_reference(TEST, corpus::corpus_templates()) else {
        return;
    };
    let step = (corpus_templates.len() / CORPUS_SAMPLE).max(1);
    let mut files: Vec<PathBuf> = corpus_templates
        .into_iter()
        .step_by(step)
        .take(CORPUS_SAMPLE)
        .collect();
    files.extend(fixtures());
    let Some(dumps) = require_reference(TEST, oracle::dumps_of(Kind::Template, &files)) else {
        return;
    };
    let (rejected, files): (Vec<PathBuf>, Vec<PathBuf>) = files
        .into_iter()
        .partition(|file| dumps.get(file).error.is_some());
    assert!(
        !rejected.is_empty(),
        "the sample should hold templates Puppet rejects (fixtures/epp/errors/)"
    );

    // With several files, `puppet epp dump` prints `--- FILE` and a newline
    // before each PN, the PNs themselves without one, and a newline at the
    // end; JSON dumps are simply concatenated.
    let mut expected_pn = String::new();
    let mut expected_json = String::new();
    for file in &files {
        let dump = dumps.get(file);
        let (Some(pn), Some(json)) = (&dump.pn, &dump.json) else {
            panic!("{}: the oracle has no dump: {dump:?}", file.display());
        };
        let _ = write!(expected_pn, "--- {}\n{pn}", file.display());
        expected_json.push_str(json);
    }
    expected_pn.push('\n');
    expected_json.push('\n');

    let Some((pn_out, _)) = puppet_epp_dump("pn", &files) else {
        return;
    };
    if let Some(difference) = difference_between(("oracle", &expected_pn), ("puppet", &pn_out)) {
        panic!("the oracle's PN is not what `puppet epp dump --format pn` prints: {difference}");
    }
    let Some((json_out, _)) = puppet_epp_dump("json", &files) else {
        return;
    };
    if let Some(difference) = difference_between(("oracle", &expected_json), ("puppet", &json_out))
    {
        panic!(
            "the oracle's JSON is not what `puppet epp dump --format json` prints: {difference}"
        );
    }

    // Templates Puppet rejects: the command reports the oracle's message.
    let Some((_, errors)) = puppet_epp_dump("pn", &rejected) else {
        return;
    };
    for file in &rejected {
        let message = &dumps.get(file).error.as_ref().expect("rejected").message;
        assert!(
            errors.contains(message.as_str()),
            "the oracle says Puppet rejects {} with {message:?}, but `puppet epp dump` reports:\n{errors}",
            file.display()
        );
    }
    println!(
        "oracle == puppet epp dump on {} templates (PN and JSON) and {} it rejects (messages)",
        files.len(),
        rejected.len()
    );
}

/// `granule parse --format pn fixtures/epp`: the directory's templates are
/// found and parsed as templates, each printed with Puppet's PN, each one
/// Puppet rejects reported at Puppet's position, and the exit status is 1.
#[test]
fn granule_parse_walks_and_prints_templates_as_puppet_does() {
    let files = fixtures();
    let Some(dumps) = require_reference(TEST, oracle::dumps_of(Kind::Template, &files)) else {
        return;
    };
    let output = Command::new(granule_tests::executor::granule())
        .args(["parse", "--format", "pn"])
        .arg(corpus::template_fixture_dir())
        .output()
        .expect("granule runs");
    let stdout = String::from_utf8(output.stdout).expect("granule prints UTF-8");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    for file in &files {
        let dump = dumps.get(file);
        match (&dump.pn, &dump.error) {
            (Some(pn), None) => {
                let printed = format!("--- {}\n{pn}\n", file.display());
                assert!(
                    stdout.contains(&printed),
                    "granule parse does not print Puppet's PN for {}:\n{printed}\nit prints:\n{stdout}",
                    file.display()
                );
            }
            (_, Some(error)) => {
                let place = match (error.line, error.pos) {
                    (Some(line), Some(column)) => {
                        format!("{}:{line}:{column}: error:", file.display())
                    }
                    _ => format!("{}:", file.display()),
                };
                assert!(
                    stderr.contains(&place),
                    "granule parse does not report {place} ({}):\n{stderr}",
                    error.message
                );
            }
            (None, None) => panic!("{}: the oracle has neither PN nor error", file.display()),
        }
    }
}
