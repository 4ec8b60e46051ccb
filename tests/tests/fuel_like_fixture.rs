//! fixtures/split/fuel_like, the monolith shaped like Fuel's 2014 installer,
//! compiled by Puppet's own compiler (tests/src/catalog.rs) for each role of
//! its settings: every role compiles, and gets the services of its role and
//! only those. Then applied for real into a scratch root, twice, per role:
//! it writes only under the root, every file of its catalog is there, and the
//! second run changes nothing.

use granule_tests::catalog::{puppet_available, Catalog, CatalogRequest, EdgeKind};
use granule_tests::executor::{exit_code, text};
use granule_tests::{repo_root, require_reference, target_dir};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The root the compiled catalogs manage (never written: nothing is applied).
const ROOT: &str = "/granule-root";

const STDLIB: &str = "/usr/share/puppet/modules/stdlib";

fn fixture() -> PathBuf {
    repo_root().join("fixtures/split/fuel_like")
}

fn settings(role: &str) -> String {
    let path = fixture().join("settings").join(format!("{role}.yaml"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Puppet, and the stdlib module the fixture calls (`parseyaml`, `member`,
/// `anchor`).
fn references(test: &str) -> Option<()> {
    require_reference(test, puppet_available())?;
    let stdlib = if Path::new(STDLIB).join("metadata.json").exists() {
        Ok(())
    } else {
        Err(format!(
            "{STDLIB} is missing: install the Debian package puppet-module-puppetlabs-stdlib"
        ))
    };
    require_reference(test, stdlib)
}

/// The fixture's modules, then a directory holding only stdlib (the whole
/// of /usr/share/puppet/modules would load every module's plugins).
fn modulepath() -> Vec<PathBuf> {
    let vendor = target_dir().join("fuel-like-vendor");
    std::fs::create_dir_all(&vendor).expect("vendor directory");
    let link = vendor.join("stdlib");
    if !link.exists() {
        let _ = std::os::unix::fs::symlink(STDLIB, &link);
    }
    vec![fixture().join("modules"), vendor]
}

fn compile_with_settings(test: &str, settings_yaml: &str) -> Result<Catalog, String> {
    let facts = json!({ "granule_root": ROOT, "settings_yaml": settings_yaml });
    let manifest = fixture().join("manifests/site.pp");
    let modulepath = modulepath();
    let request = CatalogRequest {
        manifest: &manifest,
        modulepath: &modulepath,
        facts: &facts,
        hiera_data: &json!({}),
        node: Some("node-1.test"),
        node_classes: &[],
    };
    request
        .compile()
        .map_err(|error| format!("{test}: {error}"))
}

fn compile(test: &str, role: &str) -> Catalog {
    compile_with_settings(test, &settings(role)).unwrap_or_else(|error| panic!("{error}"))
}

fn file(path: &str) -> String {
    format!("{ROOT}/{path}")
}

fn has_class(catalog: &Catalog, name: &str) -> bool {
    catalog.contains("Class", name)
}

fn parameter<'a>(catalog: &'a Catalog, kind: &str, title: &str, name: &str) -> &'a Value {
    let parameters = catalog
        .parameters(kind, title)
        .unwrap_or_else(|| panic!("no {kind}[{title}] in the catalog"));
    parameters
        .get(name)
        .unwrap_or_else(|| panic!("{kind}[{title}] has no parameter {name}: {parameters:?}"))
}

fn has_edge(catalog: &Catalog, from: &str, to: &str, kind: EdgeKind) -> bool {
    catalog
        .edges
        .contains(&(from.to_string(), to.to_string(), kind))
}

/// What every role has: the run stages, the layout, the network, the checks.
fn assert_common(catalog: &Catalog, role: &str) {
    assert!(has_edge(
        catalog,
        "Stage[zero]",
        "Stage[netconfig]",
        EdgeKind::Before
    ));
    assert!(has_edge(
        catalog,
        "Stage[netconfig]",
        "Stage[main]",
        EdgeKind::Before
    ));
    assert_eq!(
        parameter(catalog, "Class", "Skyline::Begin", "stage"),
        "zero"
    );
    assert_eq!(
        parameter(catalog, "Class", "Skyline::Netconfig", "stage"),
        "netconfig"
    );
    assert!(catalog.contains(
        "Notify",
        &format!("beginning the deployment of a {role} node")
    ));
    assert!(
        has_class(catalog, "Skyline::Cluster_ha"),
        "{role}: the HA role class"
    );
    assert!(!has_class(catalog, "Skyline::Cluster_simple"));
    assert!(catalog.contains("File", &file("etc/skyline/interfaces")));
    assert!(has_class(catalog, "Beacon::Checks"));
    assert!(catalog.contains("File", &file("etc/beacon/checks")));
}

const CONTROLLER_CLASSES: [&str; 12] = [
    "Stack::Controller_ha",
    "Stack::Controller",
    "Ledger::Server",
    "Relay",
    "Orbit",
    "Orbit::Deps",
    "Orbit::Install",
    "Orbit::Config",
    "Orbit::Db",
    "Orbit::Service",
    "Orbit::Registry",
    "Hangar::Api",
];

fn assert_controller(catalog: &Catalog, primary: bool) {
    for class in CONTROLLER_CLASSES {
        assert!(has_class(catalog, class), "a controller has {class}");
    }
    for absent in [
        "Stack::Compute",
        "Hangar::Compute",
        "Stack::Storage",
        "Vault::Volume",
    ] {
        assert!(!has_class(catalog, absent), "a controller has no {absent}");
    }
    // Parameters passed down two wrapper levels from the settings.
    assert_eq!(
        parameter(catalog, "Class", "Stack::Controller_ha", "primary"),
        primary
    );
    assert_eq!(parameter(catalog, "Class", "Stack::Controller", "ha"), true);
    assert_eq!(
        parameter(catalog, "Class", "Orbit", "db_password"),
        "orbit-secret"
    );
    assert_eq!(parameter(catalog, "Class", "Orbit", "primary"), primary);
    assert_eq!(parameter(catalog, "Class", "Hangar::Api", "workers"), 4);
    assert_eq!(
        parameter(catalog, "File", &file("etc/orbit/orbit.conf"), "content"),
        "database = ledger://orbit:orbit-secret@192.0.2.10/orbit\ndebug = false\n"
    );
    assert_eq!(catalog.contains("Exec", "orbit-bootstrap"), primary);
    for title in [
        "ledger-create-orbit",
        "ledger-create-hangar",
        "orbit-db-sync",
        "relay-restart",
    ] {
        assert!(
            catalog.contains("Exec", title),
            "a controller has Exec[{title}]"
        );
    }

    // The deps class: its tag collectors order every tagged resource of the
    // module between its anchors, and carry refreshes through them.
    let before = EdgeKind::Before;
    let notify = EdgeKind::Notify;
    let orbit_conf = format!("File[{}]", file("etc/orbit/orbit.conf"));
    assert!(has_edge(
        catalog,
        "Anchor[orbit::config::begin]",
        &orbit_conf,
        before
    ));
    assert!(has_edge(
        catalog,
        &orbit_conf,
        "Anchor[orbit::config::end]",
        notify
    ));
    assert!(has_edge(
        catalog,
        "Exec[orbit-start]",
        "Anchor[orbit::service::end]",
        notify
    ));
    assert!(has_edge(
        catalog,
        "Anchor[orbit::service::begin]",
        "Exec[orbit-registry-reload]",
        notify
    ));
    // The define notifies an exec of the class it includes.
    for endpoint in ["identity", "compute"] {
        let endpoint = format!("File[{}]", file(&format!("etc/orbit/endpoints/{endpoint}")));
        assert!(has_edge(
            catalog,
            &endpoint,
            "Exec[orbit-registry-reload]",
            notify
        ));
        assert!(has_edge(
            catalog,
            "Anchor[orbit::config::begin]",
            &endpoint,
            before
        ));
    }
    assert!(has_edge(
        catalog,
        "Class[Ledger::Server]",
        "Class[Orbit]",
        before
    ));
    assert!(has_edge(
        catalog,
        "Class[Relay]",
        "Class[Hangar::Api]",
        before
    ));
    assert!(has_edge(
        catalog,
        "Class[Ledger::Server]",
        "Exec[ledger-create-orbit]",
        before
    ));
    // The queue's users, virtual defines realized by a collector, each
    // restart the queue their define includes.
    assert!(has_edge(
        catalog,
        &format!("File[{}]", file("etc/relay/user-orbit")),
        "Exec[relay-restart]",
        notify
    ));

    for check in ["database", "api"] {
        assert!(catalog.contains("File", &file(&format!("etc/beacon/checks/{check}"))));
    }
    assert!(!catalog.contains("File", &file("etc/beacon/checks/compute")));
    assert!(catalog.contains("File", &file("etc/skyline/virtual_address")));
}

#[test]
fn primary_controller() {
    const TEST: &str = "fuel_like_fixture (primary-controller)";
    if references(TEST).is_none() {
        return;
    }
    let catalog = compile(TEST, "primary-controller");
    assert_common(&catalog, "primary-controller");
    assert_controller(&catalog, true);
    // Its node has no storage role: no volume check.
    assert!(!catalog.contains("File", &file("etc/beacon/checks/volume")));
}

#[test]
fn controller() {
    const TEST: &str = "fuel_like_fixture (controller)";
    if references(TEST).is_none() {
        return;
    }
    let catalog = compile(TEST, "controller");
    assert_common(&catalog, "controller");
    assert_controller(&catalog, false);
    // member($roles, 'cinder'): this node also has the storage role.
    assert!(catalog.contains("File", &file("etc/beacon/checks/volume")));
}

#[test]
fn compute() {
    const TEST: &str = "fuel_like_fixture (compute)";
    if references(TEST).is_none() {
        return;
    }
    let catalog = compile(TEST, "compute");
    assert_common(&catalog, "compute");
    for class in ["Stack::Compute", "Hangar", "Hangar::Compute"] {
        assert!(has_class(&catalog, class), "a compute node has {class}");
    }
    for absent in CONTROLLER_CLASSES.iter().chain(&["Vault::Volume"]) {
        assert!(
            !has_class(&catalog, absent),
            "a compute node has no {absent}"
        );
    }
    assert!(!catalog.contains("File", &file("etc/orbit/orbit.conf")));
    assert!(!catalog.contains("Anchor", "orbit::service::end"));
    assert_eq!(
        parameter(&catalog, "Class", "Hangar::Compute", "virt_type"),
        "qemu"
    );
    assert_eq!(
        parameter(&catalog, "Class", "Hangar", "queue_password"),
        "relay-secret"
    );
    assert!(has_edge(
        &catalog,
        "Class[Hangar]",
        "Class[Hangar::Compute]",
        EdgeKind::Before
    ));
    // realize() and member($roles, 'cinder').
    assert!(catalog.contains("File", &file("etc/beacon/checks/compute")));
    assert!(catalog.contains("File", &file("etc/beacon/checks/volume")));
    assert!(!catalog.contains("File", &file("etc/beacon/checks/database")));
}

#[test]
fn cinder() {
    const TEST: &str = "fuel_like_fixture (cinder)";
    if references(TEST).is_none() {
        return;
    }
    let catalog = compile(TEST, "cinder");
    assert_common(&catalog, "cinder");
    assert!(has_class(&catalog, "Stack::Storage"));
    assert!(has_class(&catalog, "Vault::Volume"));
    // Not also a controller: the service binds locally.
    assert_eq!(
        parameter(&catalog, "Class", "Vault::Volume", "bind_address"),
        "127.0.0.1"
    );
    assert!(catalog.contains("Exec", "vault-create-volumes"));
    for absent in CONTROLLER_CLASSES
        .iter()
        .chain(&["Hangar", "Hangar::Compute"])
    {
        assert!(
            !has_class(&catalog, absent),
            "a cinder node has no {absent}"
        );
    }
    assert!(catalog.contains("File", &file("etc/beacon/checks/volume")));
}

/// site.pp dispatches on the deployment mode: without HA the simple role
/// class deploys a controller without the HA wrapper; an unknown mode fails.
#[test]
fn the_deployment_mode_chooses_the_role_class() {
    const TEST: &str = "fuel_like_fixture (deployment modes)";
    if references(TEST).is_none() {
        return;
    }
    let controller = settings("controller");
    let multinode = controller.replace("deployment_mode: ha_compact", "deployment_mode: multinode");
    assert_ne!(
        multinode, controller,
        "settings/controller.yaml names its mode"
    );
    let catalog = compile_with_settings(TEST, &multinode).unwrap_or_else(|e| panic!("{e}"));
    assert!(has_class(&catalog, "Skyline::Cluster_simple"));
    assert!(!has_class(&catalog, "Skyline::Cluster_ha"));
    assert!(has_class(&catalog, "Stack::Controller"));
    assert!(!has_class(&catalog, "Stack::Controller_ha"));
    assert_eq!(parameter(&catalog, "Class", "Hangar::Api", "workers"), 2);
    assert!(!catalog.contains("File", &file("etc/skyline/virtual_address")));

    let bogus = controller.replace("deployment_mode: ha_compact", "deployment_mode: bogus");
    let error = compile_with_settings(TEST, &bogus).expect_err("an unknown mode fails");
    let site = fixture().join("manifests/site.pp");
    assert!(
        error.contains("unknown deployment mode 'bogus'")
            && error.contains(&format!("file: {}", site.display())),
        "{error}"
    );
}

/// `puppet apply` of one role into a fresh scratch root, twice.
fn apply_twice(test: &str, role: &str) {
    if references(test).is_none() {
        return;
    }
    let scratch = target_dir().join("fuel-like-apply").join(role);
    let _ = std::fs::remove_dir_all(&scratch);
    let root = scratch.join("root");
    std::fs::create_dir_all(&root).expect("scratch root");
    let modulepath = std::env::join_paths(modulepath()).expect("a module path");
    let apply = || {
        let mut command = Command::new("puppet");
        command.args(["apply", "--detailed-exitcodes", "--color=false"]);
        command.arg("--modulepath").arg(&modulepath);
        command.args(granule_tests::puppet_dirs(&scratch.join("puppet")));
        let output = command
            .arg(fixture().join("manifests/site.pp"))
            .env("FACTER_granule_root", &root)
            .env("FACTER_settings_yaml", settings(role))
            .output()
            .expect("puppet runs");
        (
            exit_code(&output),
            format!("{}{}", text(&output.stdout), text(&output.stderr)),
        )
    };
    let (code, log) = apply();
    assert_eq!(
        code, 2,
        "{test}: the first run changes things, without failures:\n{log}"
    );

    // Every file and directory of the role's catalog is there, under the root.
    let catalog = compile(test, role);
    let titles = catalog.titles("File");
    assert!(titles.len() > 5, "{titles:?}");
    for title in titles {
        let relative = title
            .strip_prefix(ROOT)
            .unwrap_or_else(|| panic!("File[{title}] is outside the root"));
        let path = root.join(relative.trim_start_matches('/'));
        assert!(path.exists(), "{test}: {} was not written", path.display());
    }

    // Puppet logs a notify's message on every run: that is the only change.
    let (code, log) = apply();
    let changes: Vec<&str> = log
        .lines()
        .filter(|line| line.starts_with("Notice: /Stage[") && !line.contains("/Notify["))
        .collect();
    assert!(
        code == 2 && changes.is_empty(),
        "{test}: the second run changed something (exit {code}):\n{log}"
    );
}

#[test]
fn applies_for_real_primary_controller() {
    apply_twice(
        "fuel_like_fixture (apply primary-controller)",
        "primary-controller",
    );
}

#[test]
fn applies_for_real_controller() {
    apply_twice("fuel_like_fixture (apply controller)", "controller");
}

#[test]
fn applies_for_real_compute() {
    apply_twice("fuel_like_fixture (apply compute)", "compute");
}

#[test]
fn applies_for_real_cinder() {
    apply_twice("fuel_like_fixture (apply cinder)", "cinder");
}
