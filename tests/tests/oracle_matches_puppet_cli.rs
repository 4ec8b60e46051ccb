//! The oracle (tests/oracle/puppet_dump.rb, one Ruby process for all files)
//! must print exactly what the real `puppet parser dump` command prints, or
//! every parity test would compare granule with the wrong reference.
//!
//! A `puppet` process costs a couple of seconds, so this runs it twice (PN,
//! JSON) on a sample: 30 corpus files spread over the corpus, and all our
//! parser fixtures, including those Puppet rejects.

use granule_tests::parity::difference_between;
use granule_tests::{corpus, oracle, require_reference};
use std::path::PathBuf;
use std::process::Command;

const TEST: &str = "oracle_matches_puppet_cli";
const CORPUS_SAMPLE: usize = 30;

fn sample() -> Option<Vec<PathBuf>> {
    let corpus = require_reference(TEST, corpus::corpus_files())?;
    let step = (corpus.len() / CORPUS_SAMPLE).max(1);
    let mut files: Vec<PathBuf> = corpus
        .into_iter()
        .step_by(step)
        .take(CORPUS_SAMPLE)
        .collect();
    let fixtures = corpus::manifests_under(&corpus::parser_fixture_dir())
        .expect("fixtures/parser is readable");
    assert!(!fixtures.is_empty(), "fixtures/parser holds no *.pp");
    files.extend(fixtures);
    Some(files)
}

/// Whether `puppet parser dump` survives the file: it aborts the whole run
/// when Puppet's parser raises something else than a syntax error, or when
/// the PN transformer crashes (both are recorded by the oracle).
fn cli_survives(dump: &oracle::Dump) -> bool {
    dump.transform_error.is_none()
        && !dump.captures_rest_fix
        && dump.error.as_ref().is_none_or(|e| e.syntax_error)
}

/// `puppet parser dump --format FORMAT FILES...`: its stdout and stderr.
fn puppet_dump(format: &str, files: &[PathBuf], must_succeed: bool) -> Option<(String, String)> {
    let output = Command::new("puppet")
        .args(["parser", "dump", "--format", format])
        .args(files)
        .output();
    let output = require_reference(
        TEST,
        output.map_err(|e| format!("cannot run `puppet` ({e}): Debian package puppet-agent")),
    )?;
    assert!(
        output.status.success() || !must_succeed,
        "puppet parser dump failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    Some((
        String::from_utf8(output.stdout).expect("puppet prints UTF-8"),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    ))
}

#[test]
fn oracle_prints_what_puppet_parser_dump_prints() {
    let Some(files) = sample() else { return };
    let Some(dumps) = require_reference(TEST, oracle::dumps(&files)) else {
        return;
    };
    let (files, aborting): (Vec<PathBuf>, Vec<PathBuf>) = files
        .into_iter()
        .partition(|file| cli_survives(dumps.get(file)));
    for file in &aborting {
        let Some((_, stderr)) = puppet_dump("pn", std::slice::from_ref(file), false) else {
            return;
        };
        let dump = dumps.get(file);
        let message = dump
            .error
            .as_ref()
            .map(|e| e.message.as_str())
            .or(dump.transform_error.as_deref())
            .or(dump
                .captures_rest_fix
                .then_some("undefined method `Literal'"))
            .expect("an aborting file has an error");
        let message = message.split_once(": ").map_or(message, |(_, text)| text);
        assert!(
            stderr.contains(message),
            "the oracle says `puppet parser dump` aborts on {} with {message:?}, but it reports:\n{stderr}",
            file.display()
        );
    }
    let rejected: Vec<&PathBuf> = files
        .iter()
        .filter(|file| dumps.get(file).error.is_some())
        .collect();
    assert!(
        !rejected.is_empty(),
        "the sample should hold a file Puppet rejects (fixtures/parser/errors/)"
    );

    // `puppet parser dump` prints `--- FILE` and the PN for each file it parses,
    // all on one line, then a newline; JSON dumps are simply concatenated.
    // Files with syntax errors print nothing on stdout and an error on stderr.
    let mut expected_pn = String::new();
    let mut expected_json = String::new();
    for file in &files {
        let dump = dumps.get(file);
        if let (Some(pn), Some(json)) = (&dump.pn, &dump.json) {
            expected_pn.push_str(&format!("--- {}{pn}", file.display()));
            expected_json.push_str(json);
        }
    }
    expected_pn.push('\n');
    expected_json.push('\n');

    let Some((pn_out, pn_err)) = puppet_dump("pn", &files, true) else {
        return;
    };
    if let Some(difference) = difference_between(("oracle", &expected_pn), ("puppet", &pn_out)) {
        panic!("the oracle's PN is not what `puppet parser dump --format pn` prints: {difference}");
    }
    for file in &rejected {
        let message = &dumps.get(file).error.as_ref().unwrap().message;
        assert!(
            pn_err.contains(&format!("--- {}", file.display())) && pn_err.contains(message.as_str()),
            "the oracle says Puppet rejects {} with {message:?}, but `puppet parser dump` reports:\n{pn_err}",
            file.display()
        );
    }

    let Some((json_out, _)) = puppet_dump("json", &files, true) else {
        return;
    };
    if let Some(difference) = difference_between(("oracle", &expected_json), ("puppet", &json_out))
    {
        panic!(
            "the oracle's JSON is not what `puppet parser dump --format json` prints: {difference}"
        );
    }
    println!(
        "oracle == puppet parser dump on {} files ({} rejected by Puppet); \
         {} more on which the command aborts, as the oracle says",
        files.len(),
        rejected.len(),
        aborting.len()
    );
}
