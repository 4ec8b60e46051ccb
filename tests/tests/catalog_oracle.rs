//! The catalog oracle (tests/src/catalog.rs) on fixtures/catalog, whose
//! resources and relationships can be read off the manifests: Puppet's
//! compiler must give exactly those, with the facts and Hiera data given.

use granule_tests::catalog::{
    compile_catalog, compile_catalogs, puppet_available, Catalog, CatalogRequest, EdgeKind,
};
use granule_tests::{repo_root, require_reference, target_dir};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::path::PathBuf;

fn fixture() -> (PathBuf, Vec<PathBuf>) {
    let root = repo_root().join("fixtures/catalog");
    (root.join("manifests/site.pp"), vec![root.join("modules")])
}

fn facts() -> Value {
    json!({ "role": "controller", "fqdn": "db1.test" })
}

fn hiera_data() -> Value {
    json!({ "app::greeting": "hello", "app::workers": 4 })
}

/// The resources Puppet adds to every catalog.
const PUPPETS_OWN: [(&str, &str); 3] =
    [("Stage", "main"), ("Class", "Settings"), ("Class", "main")];

fn compile(test: &str, node: Option<&str>) -> Option<Catalog> {
    require_reference(test, puppet_available())?;
    let (manifest, modulepath) = fixture();
    let request = CatalogRequest {
        manifest: &manifest,
        modulepath: &modulepath,
        facts: &facts(),
        hiera_data: &hiera_data(),
        node,
        node_classes: &[],
    };
    Some(
        request
            .compile()
            .unwrap_or_else(|error| panic!("{test}: Puppet refused the fixture:\n{error}")),
    )
}

#[test]
fn every_resource_the_manifests_declare_and_only_those() {
    let Some(catalog) = compile("catalog_oracle (resources)", None) else {
        return;
    };
    let keys: BTreeSet<(&str, &str)> = catalog
        .resources
        .keys()
        .map(|(kind, title)| (kind.as_str(), title.as_str()))
        .filter(|key| !PUPPETS_OWN.contains(key))
        .collect();
    let expected: BTreeSet<(&str, &str)> = [
        ("Class", "App"),
        ("File", "/srv/app.conf"),
        ("Exec", "app-restart"),
        ("App::Vhost", "site"),
        ("File", "/srv/vhost-site"),
        ("File", "/srv/a"),
        ("File", "/srv/b"),
        ("Exec", "reload"),
        ("Service", "web"),
        ("Notify", "first"),
        // Virtual, realized by the collector; `left virtual` stays out.
        ("Notify", "realized"),
        // The node is named after its fqdn fact, db1.test: no node block
        // matches, so `node default` is evaluated, a resource of its own.
        ("Node", "default"),
        ("Notify", "node default"),
    ]
    .into_iter()
    .collect();
    assert_eq!(keys, expected);
    for own in PUPPETS_OWN {
        assert!(catalog.contains(own.0, own.1), "{own:?} missing");
    }

    // Class parameters from Hiera, a fact, a define's parameter.
    let app = catalog.parameters("Class", "App").unwrap();
    assert_eq!(app.get("greeting"), Some(&json!("hello")));
    assert_eq!(app.get("workers"), Some(&json!(4)));
    let conf = catalog.parameters("File", "/srv/app.conf").unwrap();
    assert_eq!(conf.get("content"), Some(&json!("hello 4\n")));
    let first = catalog.parameters("Notify", "first").unwrap();
    assert_eq!(first.get("message"), Some(&json!("controller")));
    let vhost = catalog.parameters("File", "/srv/vhost-site").unwrap();
    assert_eq!(vhost.get("content"), Some(&json!("8080\n")));
    // The relationship metaparameters are edges, not parameters.
    let a = catalog.parameters("File", "/srv/a").unwrap();
    assert_eq!(a.keys().collect::<Vec<_>>(), ["ensure"]);
}

#[test]
fn every_relationship_from_metaparameters_arrows_and_collectors() {
    let Some(catalog) = compile("catalog_oracle (edges)", None) else {
        return;
    };
    use EdgeKind::{Before, Notify};
    let expected: BTreeSet<(String, String, EdgeKind)> = [
        // notify =>
        ("File[/srv/app.conf]", "Exec[app-restart]", Notify),
        ("File[/srv/vhost-site]", "Exec[app-restart]", Notify),
        // before =>
        ("File[/srv/a]", "File[/srv/b]", Before),
        // subscribe =>
        ("File[/srv/a]", "Exec[reload]", Notify),
        // require => Class['app']
        ("Class[App]", "Service[web]", Before),
        // ~>, <-, <~
        ("File[/srv/b]", "Service[web]", Notify),
        ("Notify[first]", "Exec[reload]", Before),
        ("App::Vhost[site]", "Service[web]", Notify),
        // Notify <| tag == 'wanted' |> -> Notify['first']
        ("Notify[realized]", "Notify[first]", Before),
    ]
    .into_iter()
    .map(|(from, to, kind)| (from.to_string(), to.to_string(), kind))
    .collect();
    assert_eq!(catalog.edges, expected);
}

#[test]
fn the_node_name_selects_the_node_block() {
    let Some(catalog) = compile("catalog_oracle (node name)", Some("web1.test")) else {
        return;
    };
    assert!(catalog.contains("Node", "web1.test"));
    let certname = catalog
        .parameters("Notify", "node web1")
        .unwrap()
        .get("message");
    assert_eq!(certname, Some(&json!("web1.test")), "$trusted['certname']");
    assert!(!catalog.contains("Notify", "node default"));
}

#[test]
fn compile_errors_name_the_file_and_line() {
    const TEST: &str = "catalog_oracle (errors)";
    if require_reference(TEST, puppet_available()).is_none() {
        return;
    }
    let (manifest, modulepath) = fixture();
    // Without the Hiera data, `app`'s mandatory parameter has no value.
    let error = compile_catalog(&manifest, &modulepath, &facts(), &json!({}))
        .expect_err("app::greeting has no value");
    assert!(error.contains("greeting"), "{error}");

    let broken = target_dir().join("catalog-oracle-broken.pp");
    std::fs::write(&broken, "notify { 'fine': }\ninclude no_such_class\n").unwrap();
    let error = compile_catalog(&broken, &modulepath, &facts(), &hiera_data())
        .expect_err("the class does not exist");
    let location = format!("file: {}, line: 2", broken.display());
    assert!(
        error.contains("no_such_class") && error.contains(&location),
        "{error}"
    );
}

/// Several catalogs in one Puppet process: each with its own facts, Hiera
/// data and node name, a failing one in the middle not affecting the others.
#[test]
fn a_batch_compiles_each_request_with_its_own_inputs() {
    const TEST: &str = "catalog_oracle (batch)";
    if require_reference(TEST, puppet_available()).is_none() {
        return;
    }
    let (manifest, modulepath) = fixture();
    let (first_facts, first_data) = (
        json!({ "role": "first" }),
        json!({ "app::greeting": "one" }),
    );
    let (second_facts, second_data) = (
        json!({ "role": "second" }),
        json!({ "app::greeting": "two" }),
    );
    let request = |facts, hiera_data, node| CatalogRequest {
        manifest: &manifest,
        modulepath: &modulepath,
        facts,
        hiera_data,
        node,
        node_classes: &[],
    };
    let answers = compile_catalogs(&[
        request(&first_facts, &first_data, None),
        request(&first_facts, &json!({}), None),
        request(&second_facts, &second_data, Some("web1.test")),
    ]);
    assert_eq!(answers.len(), 3);
    let first = answers[0].as_ref().expect("the first compiles");
    assert!(answers[1]
        .as_ref()
        .is_err_and(|error| error.contains("greeting")));
    let second = answers[2].as_ref().expect("the third compiles");
    let greeting =
        |catalog: &Catalog| catalog.parameters("Class", "App").unwrap()["greeting"].clone();
    let message =
        |catalog: &Catalog| catalog.parameters("Notify", "first").unwrap()["message"].clone();
    assert_eq!(
        (greeting(first), message(first)),
        (json!("one"), json!("first"))
    );
    assert_eq!(
        (greeting(second), message(second)),
        (json!("two"), json!("second"))
    );
    assert!(first.contains("Node", "default") && second.contains("Node", "web1.test"));
}

/// The classes a node classifier gives are declared besides the manifest's,
/// with their parameters from Hiera: a manifest declaring nothing gets them.
#[test]
fn a_classifiers_classes_are_declared() {
    const TEST: &str = "catalog_oracle (node classes)";
    if require_reference(TEST, puppet_available()).is_none() {
        return;
    }
    let (_, modulepath) = fixture();
    let dir = target_dir().join("catalog-oracle-node-classes");
    std::fs::create_dir_all(&dir).expect("scratch directory");
    let manifest = dir.join("empty.pp");
    std::fs::write(&manifest, "notify { 'only the manifest': }\n").expect("manifest written");
    let (facts, data) = (json!({}), hiera_data());
    let request = |node_classes| CatalogRequest {
        manifest: &manifest,
        modulepath: &modulepath,
        facts: &facts,
        hiera_data: &data,
        node: None,
        node_classes,
    };
    let answers = compile_catalogs(&[request(&["app"]), request(&[])]);
    let classified = answers[0].as_ref().expect("the classified node compiles");
    let bare = answers[1].as_ref().expect("the bare node compiles");
    assert!(classified.contains("Notify", "only the manifest"));
    assert_eq!(
        classified
            .parameters("Class", "App")
            .map(|p| p["greeting"].clone()),
        Some(json!("hello"))
    );
    assert!(classified.contains("File", "/srv/app.conf"));
    assert!(!bare.contains("Class", "App") && !bare.contains("File", "/srv/app.conf"));
}
