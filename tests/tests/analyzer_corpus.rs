//! The analyzer on the real corpus (/usr/share/puppet/modules, from the
//! Debian packages): the class graph of `oci::controller`, the 7,000-line
//! monolith of puppet-module-oci, holds the edges read off its source, every
//! module it reaches, and exactly the unresolved references that are real
//! gaps of the corpus (classes and types whose module is not packaged, or
//! that its packaged version no longer has).

use granule_analyzer::{Analysis, EdgeKind, Entry, Level, Vertex};
use granule_tests::require_reference;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const TEST: &str = "analyzer_corpus";
const MODULES: &str = "/usr/share/puppet/modules";

fn corpus() -> Option<Analysis> {
    let present = Path::new(MODULES)
        .join("oci/manifests/controller.pp")
        .is_file();
    let reference = if present {
        Analysis::load(&[PathBuf::from(MODULES)], &[])
    } else {
        Err(format!(
            "{MODULES}/oci is missing (Debian package puppet-module-oci)"
        ))
    };
    require_reference(TEST, reference)
}

#[test]
fn oci_controller_class_graph() {
    let Some(analysis) = corpus() else { return };
    let entry = Entry::Class("oci::controller".into());
    let graph = analysis.graph(Level::Class, Some(&entry));
    let controller = Vertex::class("oci::controller");

    // Edges read off oci/manifests/controller.pp.
    let expected: [(&str, EdgeKind, u32, Option<&str>); 5] = [
        ("oci::puppet_oci_ca_cert", EdgeKind::DeclareClass, 350, None),
        (
            "corosync",
            EdgeKind::DeclareClass,
            513,
            Some("($openstack_release == 'rocky' or $openstack_release == 'stein')"),
        ),
        ("firewall", EdgeKind::DeclareClass, 593, None),
        (
            "zookeeper",
            EdgeKind::DeclareClass,
            867,
            Some("$has_subrole_gnocchi or $has_subrole_designate or $has_subrole_cloudkitty"),
        ),
        (
            "keystone::db::mysql",
            EdgeKind::DeclareClass,
            2123,
            Some("$is_first_master"),
        ),
    ];
    for (class, kind, line, condition) in expected {
        let edge = graph
            .edges
            .iter()
            .map(|edge| &edge.edge)
            .find(|edge| edge.from == controller && edge.to == Vertex::class(class))
            .unwrap_or_else(|| panic!("oci::controller declares {class}"));
        assert_eq!((edge.kind, edge.location.line), (kind, line), "{class}");
        assert!(edge.location.file.ends_with("oci/manifests/controller.pp"));
        assert!(edge.resolved, "{class} is on the module path");
        if let Some(condition) = condition {
            let actual = edge.condition.as_deref().unwrap_or("");
            assert!(actual.contains(condition), "{class}: condition {actual:?}");
        }
    }

    // Every class the controller declares directly is in the graph.
    let declared: BTreeSet<String> = analysis
        .edges
        .iter()
        .filter(|edge| edge.unit == controller && edge.kind.declares_class())
        .filter_map(|edge| match &edge.to {
            Vertex::Class { name } => Some(name.clone()),
            _ => None,
        })
        .collect();
    let in_graph: BTreeSet<&Vertex> = graph.vertices.iter().collect();
    for class in &declared {
        assert!(
            in_graph.contains(&Vertex::class(class)),
            "{class} is missing"
        );
    }
    assert!(
        declared.len() > 50,
        "the controller declares {} classes",
        declared.len()
    );

    // The modules it reaches, through the classes it declares.
    let modules = analysis.graph(Level::Module, Some(&entry));
    let names: BTreeSet<&str> = modules
        .vertices
        .iter()
        .filter_map(|vertex| match vertex {
            Vertex::Module { name } => Some(name.as_str()),
            _ => None,
        })
        .collect();
    for module in [
        "oci",
        "keystone",
        "nova",
        "neutron",
        "glance",
        "cinder",
        "haproxy",
        "corosync",
        "zookeeper",
        "mysql",
        "rabbitmq",
        "apache",
        "openstacklib",
        "stdlib",
    ] {
        assert!(
            names.contains(module),
            "module {module} is reached: {names:?}"
        );
    }
    println!(
        "oci::controller: {} classes declared directly, {} vertices, {} edges, {} modules",
        declared.len(),
        graph.vertices.len(),
        graph.edges.len(),
        names.len()
    );
}

#[test]
fn unresolved_references_are_real_gaps_of_the_corpus() {
    let Some(analysis) = corpus() else { return };
    let entry = Entry::Class("oci::controller".into());
    let reachable = analysis.reachable_units(Some(&entry)).expect("an entry");
    let unresolved: BTreeSet<String> = analysis
        .edges
        .iter()
        .filter(|edge| !edge.resolved && reachable.contains(&edge.unit))
        .filter_map(|edge| match &edge.to {
            Vertex::Class { name } | Vertex::Type { name } => Some(name.clone()),
            _ => None,
        })
        .collect();
    println!(
        "{} unresolved names reached from oci::controller: {unresolved:?}",
        unresolved.len()
    );
    // Each is truly absent (no manifest where the autoloader would look, no
    // Ruby type of that name in any module), or defined as something else
    // (oci declares the define glance::backend::multistore::cinder as a
    // class).
    for name in &unresolved {
        let mut segments = name.split("::");
        let module = segments.next().expect("a name");
        let rest: Vec<&str> = segments.collect();
        let manifest = if rest.is_empty() {
            PathBuf::from(MODULES)
                .join(module)
                .join("manifests/init.pp")
        } else {
            PathBuf::from(MODULES)
                .join(module)
                .join("manifests")
                .join(format!("{}.pp", rest.join("/")))
        };
        let defined_otherwise = analysis
            .codebase
            .definitions
            .get(name)
            .is_some_and(|definitions| !definitions.is_empty());
        assert!(
            !manifest.exists() || defined_otherwise,
            "{name} is reported unresolved but {} exists",
            manifest.display()
        );
        let ruby_type = analysis
            .codebase
            .modules
            .iter()
            .any(|m| m.custom_types.iter().any(|t| t == name));
        assert!(!ruby_type, "{name} is a Ruby type of the module path");
    }
    // Gaps read off the corpus: modules Debian does not package (Gentoo's
    // portage, puppet-archive, puppetlabs-registry), classes the packaged
    // OpenStack modules have dropped, and a define declared as a class.
    for gap in [
        "portage::makeconf",
        "archive",
        "registry_value",
        "glance::backend::multistore::cinder",
        "keystone::endpoint",
        "nova::consoleauth",
    ] {
        assert!(unresolved.contains(gap), "{gap} should be reported");
    }
    // The findings report them all, each where it is used.
    let reported = analysis
        .findings
        .iter()
        .filter(|f| f.code.starts_with("analyzer/unresolved"))
        .count();
    assert!(reported >= unresolved.len());
}
