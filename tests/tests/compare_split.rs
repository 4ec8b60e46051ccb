//! `scripts/compare-split` on a tiny pair of hand-made splits
//! (fixtures/compare-split), whose figures this test computes from what each
//! task is stated to declare and how the tasks are stated to be ordered; and
//! on the Fuel team's 2015 split against itself.

use granule_tests::compare_split::{compare_split, run, Comparison};
use granule_tests::corpus::shared_corpus;
use granule_tests::{repo_root, require_reference};
use std::collections::{BTreeSet, HashSet};

/// A split as its manifests and tasks files state it.
struct StatedSplit {
    /// Each puppet task and the classes its manifest declares directly.
    tasks: &'static [(&'static str, &'static [&'static str])],
    /// `(a, b)`: task `a` runs before task `b` (direct edges only).
    before: &'static [(&'static str, &'static str)],
}

/// fixtures/compare-split/ours: `db-server` before `app` (required_for and
/// a `/^db-.*$/` cross-depends), `broker` before `db-server`
/// (cross-depended-by), `monitor` on its own. `extra::thing` is ours only.
const OURS: StatedSplit = StatedSplit {
    tasks: &[
        ("db-server", &["db::server"]),
        ("app", &["db::client", "web::server", "cache"]),
        ("broker", &["queue::broker", "extra::thing"]),
        ("monitor", &["monitor::agent"]),
    ],
    before: &[("db-server", "app"), ("broker", "db-server")],
};

/// fixtures/compare-split/reference: stages around `database` → `web` →
/// `monitoring`, spread over three tasks.yaml, and `db-client-again` after
/// `web`, which applies `db::client` a second time. `legacy::thing` is the
/// reference's only.
const REFERENCE: StatedSplit = StatedSplit {
    tasks: &[
        ("database", &["db::server", "db::client"]),
        ("web", &["web::server", "cache", "queue::broker"]),
        ("monitoring", &["monitor::agent", "legacy::thing"]),
        ("db-client-again", &["db::client"]),
    ],
    before: &[
        ("deploy_start", "deploy_end"),
        ("deploy_start", "database"),
        ("database", "web"),
        ("web", "monitoring"),
        ("monitoring", "deploy_end"),
        ("web", "db-client-again"),
    ],
};

impl StatedSplit {
    fn classes(&self) -> BTreeSet<&'static str> {
        self.tasks
            .iter()
            .flat_map(|(_, classes)| classes.iter().copied())
            .collect()
    }

    fn tasks_declaring(&self, class: &str) -> Vec<&'static str> {
        let declaring = self
            .tasks
            .iter()
            .filter(|(_, classes)| classes.contains(&class));
        declaring.map(|(task, _)| *task).collect()
    }

    /// True when `later` comes after `earlier` through one or more edges.
    fn comes_after(&self, earlier: &str, later: &str) -> bool {
        let mut seen = HashSet::new();
        let mut stack = vec![earlier];
        while let Some(task) = stack.pop() {
            for &(from, to) in self.before {
                if from == task && seen.insert(to) {
                    stack.push(to);
                }
            }
        }
        seen.contains(later)
    }

    fn together(&self, compared: &BTreeSet<&str>) -> BTreeSet<(&'static str, &'static str)> {
        let mut pairs = BTreeSet::new();
        for (_, classes) in self.tasks {
            for a in classes.iter().filter(|class| compared.contains(*class)) {
                for b in classes.iter().filter(|class| compared.contains(*class)) {
                    if a < b {
                        pairs.insert((*a, *b));
                    }
                }
            }
        }
        pairs
    }

    /// Some task declaring `first` comes before another declaring `second`.
    fn orders_apart(&self, first: &str, second: &str) -> bool {
        self.tasks_declaring(first).iter().any(|a| {
            let later = self.tasks_declaring(second);
            later.iter().any(|b| a != b && self.comes_after(a, b))
        })
    }

    /// Some task declaring `first` is, or comes before, one declaring `second`.
    fn orders(&self, first: &str, second: &str) -> bool {
        self.tasks_declaring(first).iter().any(|a| {
            let tasks = self.tasks_declaring(second);
            tasks.iter().any(|b| a == b || self.comes_after(a, b))
        })
    }
}

/// The figures the definitions give for two stated splits.
struct Expected {
    compared: usize,
    pairs: (usize, usize, usize),
    precision: f64,
    recall: f64,
    f1: f64,
    kept: usize,
    reversed: BTreeSet<(&'static str, &'static str)>,
    unordered: usize,
    /// Pairs the reference orders both ways: not orderings.
    both_ways: usize,
}

fn expected(ours: &StatedSplit, reference: &StatedSplit) -> Expected {
    let compared: BTreeSet<&str> = ours
        .classes()
        .intersection(&reference.classes())
        .copied()
        .collect();
    let our_pairs = ours.together(&compared);
    let reference_pairs = reference.together(&compared);
    let both = our_pairs.intersection(&reference_pairs).count();
    let precision = both as f64 / our_pairs.len() as f64;
    let recall = both as f64 / reference_pairs.len() as f64;
    let (mut kept, mut unordered, mut reversed) = (0, 0, BTreeSet::new());
    let mut both_ways = 0;
    for &first in &compared {
        for &second in &compared {
            if first == second || !reference.orders_apart(first, second) {
                continue;
            }
            if reference.orders_apart(second, first) {
                both_ways += usize::from(first < second);
                continue;
            }
            if ours.orders(first, second) {
                kept += 1;
            } else if ours.orders(second, first) {
                reversed.insert((first, second));
            } else {
                unordered += 1;
            }
        }
    }
    Expected {
        compared: compared.len(),
        pairs: (our_pairs.len(), reference_pairs.len(), both),
        precision,
        recall,
        f1: 2.0 * precision * recall / (precision + recall),
        kept,
        reversed,
        unordered,
        both_ways,
    }
}

fn fixture(side: &str) -> std::path::PathBuf {
    repo_root().join("fixtures/compare-split").join(side)
}

#[test]
fn figures_on_the_hand_made_pair_follow_from_what_the_tasks_state() {
    const TEST: &str = "compare_split (hand-made pair)";
    let Some(result) =
        require_reference(TEST, compare_split(&fixture("ours"), &fixture("reference")))
    else {
        return;
    };
    let expected = expected(&OURS, &REFERENCE);
    // The stated splits exercise every outcome, so that none is vacuous.
    assert!(expected.kept > 0 && !expected.reversed.is_empty() && expected.unordered > 0);
    assert!(expected.both_ways > 0);
    assert!(expected.f1 > 0.0 && expected.f1 < 1.0);

    assert_eq!(result.tasks.ours, OURS.tasks.len());
    assert_eq!(result.tasks.reference, REFERENCE.tasks.len());
    assert_eq!(result.classes_compared, expected.compared);
    assert_eq!(
        result.classes_only_ours,
        OURS.classes().len() - expected.compared
    );
    assert_eq!(
        result.classes_only_reference,
        REFERENCE.classes().len() - expected.compared
    );
    let pairs = &result.pairs;
    assert_eq!(
        (
            pairs.together_ours,
            pairs.together_reference,
            pairs.together_both
        ),
        expected.pairs
    );
    assert_close("precision", result.precision, expected.precision);
    assert_close("recall", result.recall, expected.recall);
    assert_close("f1", result.f1, expected.f1);
    assert_eq!(result.orderings.kept, expected.kept);
    assert_eq!(result.orderings.unordered, expected.unordered);
    assert_eq!(result.orderings.reversed, expected.reversed.len());
    assert_eq!(result.orderings.both_ways, expected.both_ways);
    let reversed: BTreeSet<(&str, &str)> = result
        .reversed
        .iter()
        .map(|ordering| (ordering.before.as_str(), ordering.after.as_str()))
        .collect();
    assert_eq!(reversed, expected.reversed);
    assert_eq!(
        result.orderings.reference,
        expected.kept + expected.reversed.len() + expected.unordered
    );
}

#[test]
fn the_summary_prints_the_same_figures() {
    const TEST: &str = "compare_split (summary)";
    let Some(output) = require_reference(TEST, run(&fixture("ours"), &fixture("reference"), &[]))
    else {
        return;
    };
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary = String::from_utf8_lossy(&output.stdout);
    let expected = expected(&OURS, &REFERENCE);
    for line in [
        format!(
            "same-task precision {:.3}, recall {:.3}, F1 {:.3}",
            expected.precision, expected.recall, expected.f1
        ),
        format!(
            "{} kept, {} reversed, {} unordered; {} pairs it orders both ways",
            expected.kept,
            expected.reversed.len(),
            expected.unordered,
            expected.both_ways
        ),
    ] {
        assert!(summary.contains(&line), "no `{line}` in:\n{summary}");
    }
    for (before, after) in &expected.reversed {
        assert!(
            summary.contains(&format!("reversed: {before} before {after}")),
            "{summary}"
        );
    }
}

#[test]
fn an_unreadable_input_is_an_error_naming_it() {
    const TEST: &str = "compare_split (errors)";
    let missing = fixture("no-such-split");
    let Some(output) = require_reference(TEST, run(&missing, &fixture("reference"), &[])) else {
        return;
    };
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&missing.display().to_string()) && stderr.contains("granule split -o OUT"),
        "{stderr}"
    );

    let broken = granule_tests::target_dir().join("compare-split-broken");
    std::fs::create_dir_all(&broken).unwrap();
    std::fs::write(broken.join("tasks.yaml"), "- id: a\n  requires: [b\n").unwrap();
    let output = run(&broken, &fixture("reference"), &[]).expect("python3 ran above");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let file = broken.join("tasks.yaml").display().to_string();
    assert!(stderr.contains(&format!("{file}:3:1")), "{stderr}");
}

/// The Fuel team's split against itself: every pair and every ordering agrees.
#[test]
fn the_2015_split_against_itself_agrees_fully() {
    const TEST: &str = "compare_split (fuel-library-2015 against itself)";
    let Some(corpus) = require_reference(TEST, shared_corpus("fuel-library-2015")) else {
        return;
    };
    let split = corpus.join("deployment/puppet");
    let Some(result) = require_reference(TEST, compare_split(&split, &split)) else {
        return;
    };
    let Comparison { orderings, .. } = &result;
    assert!(result.tasks.reference >= 90, "{result:?}");
    assert!(result.classes_compared >= 100, "{result:?}");
    assert_eq!(result.pairs.together_both, result.pairs.together_reference);
    assert!(result.pairs.together_reference > 0);
    assert_eq!(
        (result.precision, result.recall, result.f1),
        (Some(1.0), Some(1.0), Some(1.0))
    );
    assert!(orderings.reference > 0);
    assert_eq!(orderings.kept, orderings.reference, "{result:?}");
    assert_eq!((orderings.reversed, orderings.unordered), (0, 0));
}

fn assert_close(what: &str, actual: Option<f64>, expected: f64) {
    assert!(
        actual.is_some_and(|actual| (actual - expected).abs() < 1e-9),
        "{what}: the script says {actual:?}, the stated splits give {expected}"
    );
}

/// A task whose manifest cannot be found is named on stderr; with nothing
/// left to compare, no figure is made up.
#[test]
fn a_missing_manifest_is_a_warning_and_no_figure_is_made_up() {
    const TEST: &str = "compare_split (missing manifest)";
    let split = granule_tests::target_dir().join("compare-split-missing-manifest");
    std::fs::create_dir_all(&split).unwrap();
    let tasks = "- id: lost\n  type: puppet\n  parameters:\n    puppet_manifest: lost/lost.pp\n";
    std::fs::write(split.join("tasks.yaml"), tasks).unwrap();
    let Some(output) = require_reference(TEST, run(&split, &fixture("reference"), &["--json"]))
    else {
        return;
    };
    assert!(output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("task lost") && stderr.contains("lost/lost.pp"),
        "{stderr}"
    );
    let result: Comparison = serde_json::from_slice(&output.stdout).expect("a comparison");
    assert_eq!((result.tasks.ours, result.classes_compared), (0, 0));
    assert_eq!(
        (result.precision, result.recall, result.f1),
        (None, None, None)
    );
}
