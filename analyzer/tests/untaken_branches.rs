//! The code of a class's branches that no declaration of the class takes is
//! left out of the model of a rooted analysis
//! (`Analysis::leave_out_untaken_branches`, fixtures/analyzer/untaken_branches):
//! only where every declaration is resource-like and gives the parameter
//! the test reads a literal value; and a branch runs unless its test is
//! sure to fail. (Puppet checks the same on tasks:
//! fixtures/lint-architecture/cross-task-reference/*_branch_*, compiled by
//! tests/tests/lint_task_rules.rs.)

use granule_analyzer::Analysis;
use std::collections::BTreeSet;
use std::path::PathBuf;

fn files(analysis: &Analysis) -> BTreeSet<String> {
    analysis
        .resources
        .iter()
        .filter(|resource| resource.type_name == "file")
        .filter_map(|resource| resource.title.clone())
        .collect()
}

/// The fixture's site.pp over its modules, every branch read.
fn fixture() -> Analysis {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("analyzer/ has a parent")
        .join("fixtures/analyzer/untaken_branches");
    let site = root.join("manifests/site.pp");
    Analysis::load(&[root.join("modules")], std::slice::from_ref(&site)).expect("the fixture loads")
}

#[test]
fn branches_no_declaration_takes_are_left_out_and_only_those() {
    let mut analysis = fixture();
    let every = files(&analysis);
    analysis.leave_out_untaken_branches(&[]);
    let kept = files(&analysis);
    let gone: BTreeSet<&str> = every.difference(&kept).map(String::as_str).collect();
    assert_eq!(
        gone,
        BTreeSet::from([
            "/given-if-y",
            "/given-y-and-other",
            "/given-in-y-z",
            "/given-case-y-z",
        ])
    );
    let untaken: Vec<&str> = analysis
        .untaken_branches
        .iter()
        .map(|branch| branch.text.as_str())
        .collect();
    assert_eq!(
        untaken,
        [
            "$mode == 'y'",
            "($mode == 'y') and $::other",
            "$mode in ['y', 'z']",
            // The `case` option, as the model writes its guard.
            "$mode in ['y', 'z']",
        ]
    );
    // What `mode => 'x'` runs, what it may run (`or`, a negation, which
    // the model does not read as sure) and what other declarations leave
    // open stays.
    for stays in [
        "/given-elsif-x",
        "/given-else",
        "/given-unless-y",
        "/given-not-x",
        "/given-y-or-other",
        "/given-case-default",
        "/upper-x",
        "/included-y",
        "/splat-y",
        "/computed-y",
        "/defaulted-y",
        "/given-lambda-y",
        "/reassigned-y",
    ] {
        assert!(kept.contains(stays), "{stays} is left out");
    }
    // The edges of a left-out branch go with it.
    assert!(!analysis
        .edges
        .iter()
        .any(|edge| edge.to.label().contains("/given-if-y")));
}

#[test]
fn an_entry_class_is_declared_as_include_declares_it() {
    let mut analysis = fixture();
    // `granule split --entry branches::given`: the split declares it with
    // its defaults and Hiera, whatever site.pp gives it.
    analysis.leave_out_untaken_branches(&["branches::given".to_string()]);
    assert!(analysis.untaken_branches.is_empty());
    assert!(files(&analysis).contains("/given-if-y"));
}
