//! EPP mutation parity: seeded variants of every corpus template and of our
//! fixtures, each with one edit where EPP lexing is decided (a tag delimiter
//! or a character next to one deleted or duplicated, a tag piece inserted),
//! parsed by granule and by Puppet's EPP parser. For every variant: the same
//! accept/reject decision, identical PN and JSON when both accept, and the
//! same error line and column when both reject (where Puppet names one).
//!
//! Set GRANULE_EPP_MUTATION_SEED to try other variants; the variants of a
//! run are written under target/epp-mutations/SEED/ for reproduction.

use granule_tests::oracle::{self, Kind, PuppetError};
use granule_tests::parity::{compare, Verdict};
use granule_tests::rng::Rng;
use granule_tests::{corpus, require_reference};
use rayon::prelude::*;
use std::fmt::Write;
use std::path::PathBuf;

const TEST: &str = "epp_mutations";
const VARIANTS_PER_FILE: usize = 30;
const DEFAULT_SEED: u64 = 0x6570_705f_6d75_7421;

/// Characters where EPP text and code meet; edits start at one of them.
const SIGNIFICANT: &[u8] = b"<%->=#|{}$\"'@\n ";

/// Pieces of tags (and of what tags hold) that an edit may insert.
const PIECES: &[&str] = &[
    "<%", "<%=", "<%-", "<%#", "<%%", "%>", "-%>", "%%>", "|", "||", "{", "}", "\n", " ", "$x",
    "'", "\"", "@(E)\n", "\nE\n", "#",
];

#[derive(Debug)]
enum Edit {
    Delete { at: usize, len: usize },
    Duplicate { at: usize, len: usize },
    Insert { at: usize, piece: &'static str },
}

impl Edit {
    fn apply(&self, source: &str) -> String {
        match *self {
            Edit::Delete { at, len } => format!("{}{}", &source[..at], &source[at + len..]),
            Edit::Duplicate { at, len } => {
                format!("{}{}", &source[..at + len], &source[at..])
            }
            Edit::Insert { at, piece } => format!("{}{piece}{}", &source[..at], &source[at..]),
        }
    }
}

/// `len` bytes from `at`, shortened to end on a character boundary.
fn span_at(source: &str, at: usize, len: usize) -> usize {
    let mut end = (at + len).min(source.len());
    while !source.is_char_boundary(end) {
        end -= 1;
    }
    end - at
}

fn edits(source: &str, rng: &mut Rng) -> Vec<Edit> {
    let significant: Vec<usize> = source
        .bytes()
        .enumerate()
        .filter(|(_, b)| SIGNIFICANT.contains(b))
        .map(|(at, _)| at)
        .collect();
    let boundaries: Vec<usize> = (0..=source.len())
        .filter(|&at| source.is_char_boundary(at))
        .collect();
    (0..VARIANTS_PER_FILE)
        .map(|_| match (rng.below(3), significant.is_empty()) {
            (0, false) => {
                let at = *rng.pick(&significant);
                let len = span_at(source, at, 1 + rng.below(3));
                Edit::Delete { at, len }
            }
            (1, false) => {
                let at = *rng.pick(&significant);
                let len = span_at(source, at, 1 + rng.below(4));
                Edit::Duplicate { at, len }
            }
            _ => Edit::Insert {
                at: *rng.pick(&boundaries),
                piece: PIECES[rng.below(PIECES.len())],
            },
        })
        .collect()
}

/// Puppet's syntax error, if it has one (a template only its validator
/// rejects still parses).
fn syntax_error(error: &Option<PuppetError>) -> Option<&PuppetError> {
    error.as_ref().filter(|e| !e.validation)
}

#[test]
fn mutated_templates_parse_as_puppet_parses_them() {
    let seed = std::env::var("GRANULE_EPP_MUTATION_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_SEED);
    let Some(mut originals) = require_reference(TEST, corpus::corpus_templates()) else {
        return;
    };
    originals.extend(
        corpus::templates_under(&corpus::template_fixture_dir()).expect("fixtures/epp is readable"),
    );

    // One directory per seed, each variant written once: a concurrent run
    // of the same seed never reads a half-written file.
    let dir = granule_tests::target_dir()
        .join("epp-mutations")
        .join(seed.to_string());
    std::fs::create_dir_all(&dir).expect("cannot create target/epp-mutations");
    let mut rng = Rng::new(seed);
    let mut variants: Vec<(PathBuf, String)> = Vec::new();
    for original in &originals {
        let source = corpus::read_manifest(original);
        for edit in edits(&source, &mut rng) {
            let path = dir.join(format!("{:05}.epp", variants.len()));
            let text = edit.apply(&source);
            if std::fs::read(&path).ok().as_deref() != Some(text.as_bytes()) {
                std::fs::write(&path, &text).expect("cannot write a variant");
            }
            variants.push((path, format!("{} {edit:?}", original.display())));
        }
    }
    let paths: Vec<PathBuf> = variants.iter().map(|(path, _)| path.clone()).collect();
    let Some(dumps) = require_reference(TEST, oracle::dumps_of(Kind::Template, &paths)) else {
        return;
    };

    let outcomes: Vec<(Outcome, String)> = variants
        .par_iter()
        .map(|(path, origin)| {
            let source = corpus::read_manifest(path);
            let dump = dumps.get(path);
            let granule = granule_parser::parse_epp(&source);
            let outcome = match (granule, syntax_error(&dump.error)) {
                // Puppet's PN transformer may crash on what it parsed
                // (e.g. a parameter named `$`): no tree to compare.
                (Ok(_), None) if dump.transform_error.is_some() => Outcome::NoPuppetTree,
                (Ok(_), None) => {
                    let comparison = compare(path, &source, dump);
                    match comparison.verdict {
                        Verdict::Identical => Outcome::SameTree,
                        _ => Outcome::Differs(comparison.detail),
                    }
                }
                (Err(error), Some(puppet)) => {
                    let granule = error.line_col(&source);
                    match (puppet.line, puppet.pos) {
                        (Some(line), Some(column)) if (line, column) != granule => {
                            Outcome::Differs(format!(
                                "Puppet at {line}:{column}: {} | granule at {}:{}: {}",
                                puppet.message, granule.0, granule.1, error.message
                            ))
                        }
                        _ => Outcome::BothReject,
                    }
                }
                (Ok(_), Some(puppet)) => Outcome::Differs(format!(
                    "granule accepts, Puppet rejects: {}",
                    puppet.message
                )),
                (Err(error), None) => {
                    let (line, column) = error.line_col(&source);
                    Outcome::Differs(format!(
                        "granule rejects at {line}:{column} what Puppet accepts: {}",
                        error.message
                    ))
                }
            };
            (outcome, format!("{} ({origin})", path.display()))
        })
        .collect();

    let count = |wanted: fn(&Outcome) -> bool| outcomes.iter().filter(|(o, _)| wanted(o)).count();
    let same_tree = count(|o| matches!(o, Outcome::SameTree));
    let both_reject = count(|o| matches!(o, Outcome::BothReject));
    let no_tree = count(|o| matches!(o, Outcome::NoPuppetTree));
    let summary = format!(
        "EPP mutations (seed {seed}, Puppet {}): {} variants of {} templates; {same_tree} \
         identical trees, {no_tree} parsed by both (Puppet's PN transformer crashes), \
         {both_reject} rejected by both at the same place, {} differ",
        dumps.puppet_version,
        outcomes.len(),
        originals.len(),
        outcomes.len() - same_tree - no_tree - both_reject,
    );
    println!("{summary}");
    let mut failures = String::new();
    for (outcome, what) in &outcomes {
        if let Outcome::Differs(detail) = outcome {
            let _ = writeln!(failures, "{what}:\n    {}\n", detail.trim_end());
        }
    }
    assert!(failures.is_empty(), "{summary}:\n\n{failures}");
}

enum Outcome {
    SameTree,
    NoPuppetTree,
    BothReject,
    Differs(String),
}
