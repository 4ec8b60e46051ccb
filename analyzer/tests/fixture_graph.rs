//! The analyzer on fixtures/analyzer (a deployment with every kind of edge,
//! a role `case`, a run stage, a deliberate cycle and a deliberate
//! unresolved class): the JSON edges at every level, with their conditions,
//! and the DOT output, as reviewed snapshots.

use granule_analyzer::{Analysis, Entry, Level};
use std::path::PathBuf;
use std::sync::Arc;

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("analyzer/ has a parent")
        .to_path_buf()
}

/// The fixture analyzed from the site manifest, and that manifest's entry.
fn fixture() -> (Analysis, Entry) {
    let root = repo_root().join("fixtures/analyzer");
    let site = root.join("manifests/site.pp");
    let analysis = Analysis::load(&[root.join("modules")], std::slice::from_ref(&site))
        .expect("the fixture loads");
    (
        analysis,
        Entry::File(Arc::from(site.to_string_lossy().as_ref())),
    )
}

/// `text` with the repository's absolute path removed, so snapshots hold
/// on any checkout.
fn relative(text: &str) -> String {
    text.replace(&format!("{}/", repo_root().display()), "")
}

fn json_at(level: Level) -> String {
    let (analysis, entry) = fixture();
    let graph = analysis.graph(level, Some(&entry));
    relative(&granule_analyzer::json::to_json(
        &analysis,
        &graph,
        Some("fixtures/analyzer/manifests/site.pp"),
    ))
}

#[test]
fn module_level_edges() {
    insta::assert_snapshot!(json_at(Level::Module));
}

#[test]
fn class_level_edges() {
    insta::assert_snapshot!(json_at(Level::Class));
}

#[test]
fn resource_level_edges() {
    insta::assert_snapshot!(json_at(Level::Resource));
}

#[test]
fn order_level_edges() {
    insta::assert_snapshot!(json_at(Level::Order));
}

#[test]
fn class_level_dot() {
    let (analysis, entry) = fixture();
    let graph = analysis.graph(Level::Class, Some(&entry));
    insta::assert_snapshot!(relative(&granule_analyzer::dot::to_dot(
        &graph,
        &analysis,
        granule_analyzer::dot::EdgeLabels::Auto
    )));
}

#[test]
fn the_deliberate_cycle_and_unresolved_class_are_found() {
    let (analysis, entry) = fixture();
    let graph = analysis.graph(Level::Class, Some(&entry));
    let cycles: Vec<Vec<String>> = graph
        .cycles
        .iter()
        .map(|cycle| cycle.iter().map(|vertex| vertex.label()).collect())
        .collect();
    assert_eq!(cycles, [["class monitor", "class nginx"]]);
    let unresolved: Vec<(&str, String)> = analysis
        .findings
        .iter()
        .filter(|f| f.code == "analyzer/unresolved-class")
        .map(|f| (f.code, relative(&f.location.to_string())))
        .collect();
    assert_eq!(
        unresolved,
        [(
            "analyzer/unresolved-class",
            "fixtures/analyzer/manifests/site.pp:28:7".to_string()
        )]
    );
}

#[test]
fn an_entry_class_reaches_only_what_it_declares() {
    let (analysis, _) = fixture();
    let units = analysis
        .reachable_units(Some(&Entry::Class("profile::db".into())))
        .expect("an entry");
    let mut names: Vec<String> = units.iter().map(|unit| unit.label()).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "class base",
            "class mysql",
            "class ntp",
            "class profile::db",
            "mysql::database"
        ]
    );
}
