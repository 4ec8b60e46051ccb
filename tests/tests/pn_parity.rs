//! PN parity on the real corpus: for every `*.pp` of the installed Puppet
//! modules, granule's PN and JSON must be byte-identical to what `puppet
//! parser dump` prints, and a file Puppet rejects must be rejected by granule.

use granule_tests::parity::{compare, Comparison, Verdict};
use granule_tests::{corpus, oracle, require_reference};
use rayon::prelude::*;
use std::fmt::Write;
use std::time::Instant;

/// Failures shown in full in the panic message; the rest get one line each
/// (the full report is written next to the oracle cache).
const DETAILED_FAILURES: usize = 40;

#[test]
fn granule_pn_is_identical_to_puppet_on_the_whole_corpus() {
    const TEST: &str = "pn_parity";
    let Some(files) = require_reference(TEST, corpus::corpus_files()) else {
        return;
    };
    let oracle_started = Instant::now();
    let Some(dumps) = require_reference(TEST, oracle::dumps(&files)) else {
        return;
    };
    let oracle_seconds = oracle_started.elapsed().as_secs_f64();

    let sources: Vec<String> = files.par_iter().map(|f| corpus::read_manifest(f)).collect();
    let bytes: usize = sources.iter().map(String::len).sum();
    let parse_started = Instant::now();
    let comparisons: Vec<Comparison> = files
        .par_iter()
        .zip(&sources)
        .map(|(file, source)| compare(file, source, dumps.get(file)))
        .collect();
    let parse_seconds = parse_started.elapsed().as_secs_f64();

    let count =
        |wanted: fn(&Verdict) -> bool| comparisons.iter().filter(|c| wanted(&c.verdict)).count();
    let identical = count(|v| *v == Verdict::Identical);
    let puppet_rejects = comparisons
        .iter()
        .filter(|c| dumps.get(&c.path).error.is_some())
        .count();
    let both_reject_same_line = count(|v| {
        *v == Verdict::BothReject {
            same_line: Some(true),
        }
    });
    let both_reject = count(|v| matches!(v, Verdict::BothReject { .. }));
    let summary = format!(
        "PN parity (Puppet {}): {} of {} files match ({} identical PN+JSON, {} rejected by both), \
         {} PN differs, {} only JSON differs, {} granule rejects, {} granule accepts, {} panics",
        dumps.puppet_version,
        identical + both_reject,
        files.len(),
        identical,
        both_reject,
        count(|v| *v == Verdict::PnDiffers),
        count(|v| *v == Verdict::JsonDiffers),
        count(|v| *v == Verdict::GranuleRejects),
        count(|v| *v == Verdict::GranuleAccepts),
        count(|v| *v == Verdict::Panicked),
    );
    println!("{summary}");
    println!(
        "corpus: {} files, {:.2} MB; Puppet rejects {puppet_rejects} (granule names the same line \
         for {both_reject_same_line} of {both_reject} both reject); oracle {oracle_seconds:.2} s \
         (cached after the first run); granule parse+compare {parse_seconds:.2} s",
        files.len(),
        bytes as f64 / 1e6,
    );
    for info in comparisons
        .iter()
        .filter(|c| matches!(c.verdict, Verdict::BothReject { .. }))
    {
        println!("info: {}: {}", info.path.display(), info.detail);
    }

    let failures: Vec<&Comparison> = comparisons
        .iter()
        .filter(|c| !c.verdict.is_parity())
        .collect();
    if failures.is_empty() {
        return;
    }
    let mut report = String::new();
    for failure in &failures {
        let _ = writeln!(
            report,
            "{}: {}\n",
            failure.path.display(),
            failure.detail.trim_end()
        );
    }
    let report_path = granule_tests::target_dir().join("oracle/pn_parity-report.txt");
    let saved = std::fs::create_dir_all(report_path.parent().unwrap())
        .and_then(|()| std::fs::write(&report_path, &report));

    let mut message = format!("{summary}\n\n");
    for failure in failures.iter().take(DETAILED_FAILURES) {
        let _ = writeln!(
            message,
            "{}: {}\n",
            failure.path.display(),
            failure.detail.trim_end()
        );
    }
    if failures.len() > DETAILED_FAILURES {
        let _ = writeln!(
            message,
            "... and {} more files:",
            failures.len() - DETAILED_FAILURES
        );
        for failure in &failures[DETAILED_FAILURES..] {
            let first_line = failure.detail.lines().next().unwrap_or_default();
            let _ = writeln!(message, "  {}: {first_line}", failure.path.display());
        }
    }
    match saved {
        Ok(()) => {
            let _ = writeln!(message, "\nfull report: {}", report_path.display());
        }
        Err(error) => {
            let _ = writeln!(
                message,
                "\n(cannot write {}: {error})",
                report_path.display()
            );
        }
    }
    panic!("{message}\n{summary}");
}
