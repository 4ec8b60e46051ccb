//! Mutation parity: seeded variants of corpus manifests, each with one token
//! deleted, duplicated or swapped with the next, parsed by granule and by
//! Puppet's parser (without validation, as `puppet parser dump`). granule must
//! take the same accept/reject decision in at least 99.5% of the variants and
//! name the same first error line in at least 95% of those both reject; the
//! test prints both figures. A variant both accept must have an identical
//! tree.
//!
//! Set GRANULE_MUTATION_SEED to try other variants; the variants of a run are
//! written under target/mutations/ for reproduction.
//!
//! The same figures hold for every single-token edit of the fixture of
//! selectors followed by method calls (fixtures/parser/selector_postfix.pp,
//! variants under target/mutations-selectors/), a construct the corpus lacks.

use granule_parser::lexer::{tokenize, Tok};
use granule_tests::oracle;
use granule_tests::parity::{compare, Verdict};
use granule_tests::rng::Rng;
use granule_tests::{corpus, require_reference, target_dir};
use rayon::prelude::*;
use std::fmt::Write;
use std::path::PathBuf;

const TEST: &str = "parser_mutations";
const VARIANTS: usize = 2400;
const DEFAULT_SEED: u64 = 0x6d75_7461_7465_2121;
const MIN_DECISION_AGREEMENT: f64 = 0.995;
const MIN_SAME_FIRST_ERROR_LINE: f64 = 0.95;

#[derive(Debug, Clone, Copy)]
enum Edit {
    Delete,
    Duplicate,
    SwapWithNext,
}

/// The spans of the tokens an edit may touch: only tokens that follow each
/// other in the text (the tokens inside a string or heredoc are edited with
/// their string).
fn editable_spans(source: &str) -> Vec<(usize, usize)> {
    let Ok(tokens) = tokenize(source) else {
        return Vec::new();
    };
    let mut spans = Vec::with_capacity(tokens.len());
    let mut end = 0;
    for token in &tokens {
        if token.kind != Tok::Eof && token.span.start >= end && token.span.end > token.span.start {
            spans.push((token.span.start as usize, token.span.end as usize));
            end = token.span.end;
        }
    }
    spans
}

/// `source` with the token `spans[at]` edited (`at` is not the last token),
/// and a description of the edit.
fn apply(source: &str, spans: &[(usize, usize)], at: usize, edit: Edit) -> (String, String) {
    let (start, end) = spans[at];
    let token = &source[start..end];
    let variant = match edit {
        Edit::Delete => format!("{}{}", &source[..start], &source[end..]),
        Edit::Duplicate => format!("{}{token} {}", &source[..end], &source[end..]),
        Edit::SwapWithNext => {
            let (next_start, next_end) = spans[at + 1];
            format!(
                "{}{}{}{}{}",
                &source[..start],
                &source[next_start..next_end],
                &source[end..next_start],
                token,
                &source[next_end..]
            )
        }
    };
    let line = source[..start].matches('\n').count() + 1;
    (variant, format!("{edit:?} `{token}` at line {line}"))
}

const EDITS: [Edit; 3] = [Edit::Delete, Edit::Duplicate, Edit::SwapWithNext];

/// `source` with one token edited, or `None` when the file has too few
/// tokens to pick from.
fn mutate(source: &str, rng: &mut Rng) -> Option<(String, String)> {
    let spans = editable_spans(source);
    if spans.len() < 3 {
        return None;
    }
    let at = rng.below(spans.len() - 1);
    let edit = *rng.pick(&EDITS);
    Some(apply(source, &spans, at, edit))
}

/// An emptied directory under target/ for the variants of a run.
fn variants_dir(name: &str) -> PathBuf {
    let dir = target_dir().join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a directory for the variants");
    dir
}

/// One variant: its file, its text, and where it comes from.
type Variant = (PathBuf, String, String);

#[test]
fn mutated_corpus_files_get_puppets_decision() {
    let Some(files) = require_reference(TEST, corpus::corpus_files()) else {
        return;
    };
    let seed = std::env::var("GRANULE_MUTATION_SEED")
        .ok()
        .and_then(|seed| seed.parse().ok())
        .unwrap_or(DEFAULT_SEED);
    let dir = variants_dir("mutations");
    let mut rng = Rng::new(seed);
    let mut variants: Vec<Variant> = Vec::with_capacity(VARIANTS);
    while variants.len() < VARIANTS {
        let original = rng.pick(&files);
        let source = corpus::read_manifest(original);
        let Some((variant, edit)) = mutate(&source, &mut rng) else {
            continue;
        };
        let path = dir.join(format!("{:04}.pp", variants.len()));
        std::fs::write(&path, &variant).expect("write a variant");
        variants.push((path, variant, format!("{} ({edit})", original.display())));
    }
    check_variants(&variants, &format!("(seed {seed})"));
}

/// Every single-token edit of the fixture of selectors followed by method
/// calls, accesses, calls and collectors (fixtures/parser/selector_postfix.pp):
/// held to the same figures as the corpus variants.
#[test]
fn every_edit_of_selectors_followed_by_method_calls_gets_puppets_decision() {
    let original = corpus::parser_fixture_dir().join("selector_postfix.pp");
    let source = corpus::read_manifest(&original);
    let spans = editable_spans(&source);
    assert!(spans.len() > 100, "the fixture is lexed into tokens");
    let dir = variants_dir("mutations-selectors");
    let mut variants: Vec<Variant> = Vec::with_capacity(3 * spans.len());
    for at in 0..spans.len() - 1 {
        for edit in EDITS {
            let (variant, what) = apply(&source, &spans, at, edit);
            let path = dir.join(format!("{:04}.pp", variants.len()));
            std::fs::write(&path, &variant).expect("write a variant");
            variants.push((path, variant, format!("{} ({what})", original.display())));
        }
    }
    check_variants(&variants, "(every edit of selector_postfix.pp)");
}

/// Compares granule with Puppet on every variant and asserts the figures.
fn check_variants(variants: &[Variant], which: &str) {
    let paths: Vec<PathBuf> = variants.iter().map(|(path, _, _)| path.clone()).collect();
    let Some(dumps) = require_reference(TEST, oracle::dumps(&paths)) else {
        return;
    };

    let verdicts: Vec<Verdict> = variants
        .par_iter()
        .map(|(path, source, _)| compare(path, source, dumps.get(path)).verdict)
        .collect();
    let count = |keep: &dyn Fn(&Verdict) -> bool| verdicts.iter().filter(|v| keep(v)).count();
    let disagreements: Vec<usize> = (0..verdicts.len())
        .filter(|&i| {
            matches!(
                verdicts[i],
                Verdict::GranuleAccepts | Verdict::GranuleRejects | Verdict::Panicked
            )
        })
        .collect();
    let both_reject_located = count(&|v| matches!(v, Verdict::BothReject { same_line: Some(_) }));
    let same_line = count(&|v| {
        matches!(
            v,
            Verdict::BothReject {
                same_line: Some(true)
            }
        )
    });
    let both_accept = count(&|v| {
        matches!(
            v,
            Verdict::Identical | Verdict::PnDiffers | Verdict::JsonDiffers | Verdict::NoPuppetPn
        )
    });
    let identical = count(&|v| *v == Verdict::Identical);

    let decision = 1.0 - disagreements.len() as f64 / verdicts.len() as f64;
    let first_line = same_line as f64 / both_reject_located.max(1) as f64;
    println!(
        "{} variants {which}: same accept/reject decision as Puppet in {:.2}%; \
         same first error line in {:.2}% of the {both_reject_located} both reject; \
         identical tree in {identical} of the {both_accept} both accept",
        verdicts.len(),
        decision * 100.0,
        first_line * 100.0,
    );
    let mut report = String::new();
    for &i in disagreements.iter().take(20) {
        let _ = writeln!(
            report,
            "  {}: {:?} from {}",
            variants[i].0.display(),
            verdicts[i],
            variants[i].2
        );
    }
    assert!(
        !verdicts.contains(&Verdict::Panicked),
        "granule panicked:\n{report}"
    );
    assert!(
        decision >= MIN_DECISION_AGREEMENT,
        "accept/reject agreement {:.2}% < {:.1}%; first disagreements:\n{report}",
        decision * 100.0,
        MIN_DECISION_AGREEMENT * 100.0
    );
    assert_eq!(
        identical, both_accept,
        "a variant both accept must have the same tree"
    );
    assert!(
        first_line >= MIN_SAME_FIRST_ERROR_LINE,
        "same first error line in {:.2}% < {:.0}%",
        first_line * 100.0,
        MIN_SAME_FIRST_ERROR_LINE * 100.0
    );
}
