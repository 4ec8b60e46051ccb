//! The model of what define instances create through `create_resources`
//! (fixtures/split/created_resources): each module's `deps` collector of its
//! settings type finds them where the instance is declared, surely when the
//! hash has entries, only maybe when it is an argument that may be empty.
//! (Puppet's own catalogs check the split built on it:
//! tests/tests/split_catalog_equivalence.rs.)

use granule_analyzer::model::Vertex;
use granule_analyzer::semantic::{Match, Semantic};
use granule_analyzer::Analysis;
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("analyzer/ has a parent")
        .join("fixtures/split/created_resources")
}

/// What the collector `Type <||>` of `module::deps` finds: the class
/// declaring each resource, and how surely.
fn collected(semantic: &Semantic, module: &str, type_name: &str) -> Vec<(String, Match)> {
    let deps = Vertex::class(&format!("{module}::deps"));
    let collector = semantic
        .analysis
        .collectors
        .iter()
        .find(|c| c.holder == deps && c.type_name == type_name)
        .unwrap_or_else(|| panic!("{module}::deps collects {type_name}"));
    let mut found: Vec<(String, Match)> = semantic
        .collected(collector)
        .map(|(resource, matches)| (resource.holder.label(), matches))
        .collect();
    found.sort_by(|a, b| a.0.cmp(&b.0));
    found
}

#[test]
fn settings_a_define_creates_are_collected_where_its_instance_is_declared() {
    let site = root().join("manifests/site.pp");
    let analysis = Analysis::load(&[root().join("modules")], std::slice::from_ref(&site))
        .expect("the fixture loads");
    let semantic = Semantic::new(&analysis);
    // The type is the instance's title; a hash of entries built first.
    // `conf::extra { 'metering::config': }` gives its empty default hash.
    assert_eq!(
        collected(&semantic, "metering", "metering::config"),
        vec![
            ("class metering::api".to_string(), Match::Maybe),
            ("class metering::logging".to_string(), Match::Yes),
        ]
    );
    // The type is the `config` argument.
    assert_eq!(
        collected(&semantic, "rating", "rating::config"),
        vec![("class rating::db".to_string(), Match::Yes)]
    );
    // The type is `config`'s default: the title.
    assert_eq!(
        collected(&semantic, "billing", "billing::config"),
        vec![("class billing::db".to_string(), Match::Yes)]
    );
}
