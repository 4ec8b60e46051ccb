//! `granule graph` on the monolith fixture: the DOT it writes against the
//! edges `granule deps` lists, --focus/--depth against a walk of those edges,
//! SVG, PNG and HTML drawn by the real Graphviz, and the error when Graphviz
//! is missing; the analyzer fixture's cycle drawn red; the class graph of
//! oci::controller (real corpus) drawn whole. The HTML page's behaviour is
//! tested in Chromium (graph_html).

use granule_tests::executor::{exit_code, granule_in, scratch, text, tool_available};
use granule_tests::{repo_root, require_reference};
use std::collections::{BTreeMap, BTreeSet};
use std::process::{Command, Output};

const SELECTION: [&str; 4] = [
    "--modulepath",
    "fixtures/monolith/modules",
    "--entry",
    "fixtures/monolith/manifests/site.pp",
];

fn granule(args: &[&str]) -> Output {
    granule_in(&repo_root(), args)
}

fn graph(extra: &[&str]) -> Output {
    let mut args = vec!["graph"];
    args.extend_from_slice(&SELECTION);
    args.extend_from_slice(extra);
    granule(&args)
}

/// The edges `granule deps` prints, as (from, kind, to) labels.
fn deps_edges() -> Vec<(String, String, String)> {
    let mut args = vec!["deps"];
    args.extend_from_slice(&SELECTION);
    let output = granule(&args);
    assert_eq!(exit_code(&output), 0, "{}", text(&output.stderr));
    text(&output.stdout)
        .lines()
        .map(|line| {
            // LOCATION  FROM --KIND--> TO[  (defined nowhere)][  if CONDITION]
            let (_, rest) = line.split_once("  ").expect("location first");
            let (from, rest) = rest.split_once(" --").expect("an arrow");
            let (kind, rest) = rest.split_once("--> ").expect("an arrow");
            let to = rest.split("  ").next().unwrap_or(rest);
            (from.to_string(), kind.to_string(), to.to_string())
        })
        .collect()
}

/// The DOT's vertices (name to label) and edges (labels of both ends, kind).
struct Dot {
    labels: BTreeMap<String, String>,
    edges: Vec<(String, String, String)>,
    text: String,
}

fn parse_dot(dot: &str) -> Dot {
    let mut labels = BTreeMap::new();
    let mut edges = Vec::new();
    for line in dot.lines().map(str::trim) {
        if let Some((name, rest)) = line.split_once(" [id=\"") {
            if !name.contains(' ') {
                let (_, rest) = rest.split_once("label=\"").expect("a vertex label");
                let label = rest.split('"').next().unwrap_or_default();
                labels.insert(name.to_string(), label.to_string());
            }
        }
    }
    for line in dot.lines().map(str::trim) {
        if let Some((from, rest)) = line.split_once(" -> ") {
            let (to, rest) = rest.split_once(' ').expect("attributes after an edge");
            // The tooltip says the kind whether or not the label does.
            let kind = rest
                .split_once("tooltip=\"")
                .and_then(|(_, tooltip)| tooltip.split(' ').next())
                .expect("an edge tooltip");
            edges.push((labels[from].clone(), kind.to_string(), labels[to].clone()));
        }
    }
    Dot {
        labels,
        edges,
        text: dot.to_string(),
    }
}

fn vertex_labels(dot: &Dot) -> BTreeSet<String> {
    dot.labels.values().cloned().collect()
}

/// The labels within `depth` edges of `center`, walking the deps edges both
/// ways.
fn around(edges: &[(String, String, String)], center: &str, depth: usize) -> BTreeSet<String> {
    let mut reached = BTreeSet::from([center.to_string()]);
    for _ in 0..depth {
        let next: Vec<String> = edges
            .iter()
            .flat_map(|(from, _, to)| {
                if reached.contains(from) {
                    Some(to.clone())
                } else if reached.contains(to) {
                    Some(from.clone())
                } else {
                    None
                }
            })
            .collect();
        reached.extend(next);
    }
    reached
}

#[test]
fn dot_has_every_edge_deps_lists_with_clusters_and_cross_module_colour() {
    let output = graph(&[]);
    assert_eq!(exit_code(&output), 0, "{}", text(&output.stderr));
    let dot = parse_dot(&text(&output.stdout));
    assert!(dot.text.starts_with("digraph granule {"), "{}", dot.text);
    let mut expected = deps_edges();
    let mut drawn = dot.edges.clone();
    expected.sort();
    drawn.sort();
    assert_eq!(drawn, expected);
    for module in ["keystone", "mysql", "nova", "ntp", "openstack"] {
        assert!(
            dot.text.contains(&format!("subgraph \"cluster_{module}\"")),
            "no cluster for module {module}: {}",
            dot.text
        );
    }
    // keystone includes openstack::repo: another module, drawn blue.
    let line = dot
        .text
        .lines()
        .find(|line| {
            line.contains(" -> ")
                && line.contains("label=\"include\"")
                && line.contains("fixtures/monolith/modules/keystone/manifests/init.pp:7:")
        })
        .expect("the include of openstack::repo in keystone");
    assert!(line.contains("color=\"blue\""), "{line}");
}

#[test]
fn focus_keeps_the_vertices_within_depth_edges_either_way() {
    let edges = deps_edges();
    for (focus, label) in [
        ("keystone", "class keystone"),
        ("class nova::api", "class nova::api"),
        ("::openstack::repo", "class openstack::repo"),
    ] {
        for depth in 0..=2 {
            let output = graph(&["--focus", focus, "--depth", &depth.to_string()]);
            assert_eq!(exit_code(&output), 0, "{}", text(&output.stderr));
            let dot = parse_dot(&text(&output.stdout));
            assert_eq!(
                vertex_labels(&dot),
                around(&edges, label, depth),
                "--focus {focus} --depth {depth}"
            );
            for edge in &dot.edges {
                assert!(edges.contains(edge), "{edge:?} is not an edge of deps");
            }
        }
    }
    // Depth 1 around keystone: what it declares and orders, and who
    // declares it, and nothing of nova.
    let output = graph(&["--focus", "keystone"]);
    let labels = vertex_labels(&parse_dot(&text(&output.stdout)));
    for label in [
        "class openstack::repo",
        "keystone::endpoint",
        "mysql::db",
        "node default",
    ] {
        assert!(labels.contains(label), "{label} missing from {labels:?}");
    }
    assert!(!labels.contains("class nova::api"), "{labels:?}");
}

#[test]
fn focus_errors_name_what_was_meant() {
    let output = graph(&["--focus", "keyst"]);
    assert_eq!(exit_code(&output), 2);
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("--focus keyst: no vertex of that name")
            && stderr.contains("did you mean: keystone::endpoint, class keystone?"),
        "{stderr}"
    );
    let output = graph(&["--depth", "2"]);
    assert_eq!(exit_code(&output), 2, "--depth alone is a usage error");
    assert!(text(&output.stderr).contains("--focus"));
}

fn graphviz_present(test: &str) -> bool {
    require_reference(test, tool_available("dot", "graphviz")).is_some()
}

#[test]
fn svg_and_png_are_drawn_by_graphviz() {
    if !graphviz_present("graph_svg_png") {
        return;
    }
    let output = graph(&["--format", "svg"]);
    assert_eq!(exit_code(&output), 0, "{}", text(&output.stderr));
    let svg = text(&output.stdout);
    assert!(svg.contains("<svg") && svg.trim_end().ends_with("</svg>"));
    for label in ["class keystone", "mysql::db", "node default"] {
        assert!(svg.contains(&format!(">{label}</text>")), "{label}: {svg}");
    }
    assert!(svg.contains("<title>cluster_nova</title>"), "{svg}");

    let dir = scratch("graph_png");
    let png = dir.join("graph.png");
    let output = graph(&["--format", "png", "-o", png.to_str().unwrap()]);
    assert_eq!(exit_code(&output), 0, "{}", text(&output.stderr));
    let bytes = std::fs::read(&png).expect("the PNG was written");
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    // The IHDR chunk: width and height of a picture of 11 vertices.
    let width = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
    assert!(width > 200 && height > 100, "{width}x{height}");

    let output = graph(&["--format", "png"]);
    assert_eq!(exit_code(&output), 2);
    assert!(text(&output.stderr).contains("-o FILE"));
}

#[test]
fn html_is_one_page_with_the_picture_and_the_edges() {
    if !graphviz_present("graph_html_file") {
        return;
    }
    let output = graph(&["--format", "html"]);
    assert_eq!(exit_code(&output), 0, "{}", text(&output.stderr));
    let html = text(&output.stdout);
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("<svg") && html.contains("<title>v0</title>"));
    assert!(!html.contains("<?xml"), "no XML prolog inside HTML");
    // Self-contained: no script, style or picture to fetch.
    for fetch in ["src=", "<link rel=\"stylesheet\"", "@import", "url("] {
        assert!(!html.contains(fetch), "{fetch} in the page");
    }
    let start = html
        .find("<script type=\"application/json\" id=\"graph-data\">")
        .expect("the graph's data");
    let json = &html[start..];
    let json = &json[json.find('>').unwrap() + 1..json.find("</script>").unwrap()];
    let data: serde_json::Value = serde_json::from_str(json).expect("valid JSON");
    assert_eq!(data["edges"].as_array().unwrap().len(), deps_edges().len());
    let keystone = data["vertices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|vertex| vertex["label"] == "class keystone")
        .expect("class keystone");
    assert_eq!(keystone["module"], "keystone");
    assert!(data["edges"].as_array().unwrap().iter().any(
        // Relative to the module path.
        |edge| edge["location"] == "keystone/manifests/init.pp:7" && edge["kind"] == "include"
    ));
}

#[test]
fn a_missing_graphviz_is_named() {
    let no_programs = scratch("graph_no_graphviz");
    let output = Command::new(granule_tests::executor::granule())
        .arg("graph")
        .args(SELECTION)
        .args(["--format", "svg"])
        .current_dir(repo_root())
        .env("PATH", &no_programs)
        .output()
        .expect("granule runs");
    assert_eq!(exit_code(&output), 2, "{}", text(&output.stderr));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("Graphviz's `dot` program is not installed")
            && stderr.contains("apt-get install graphviz")
            && stderr.contains("--format dot"),
        "{stderr}"
    );
}

#[test]
fn the_class_graph_of_oci_controller_is_drawn_whole() {
    // 600 vertices in 60 clusters, 2,000 edges: Graphviz's classic ranking
    // fails on it ("trouble in init_rank"); granule asks for the newer one.
    const CONTROLLER: &str = "/usr/share/puppet/modules/oci/manifests/controller.pp";
    let corpus = if std::path::Path::new(CONTROLLER).is_file() {
        tool_available("dot", "graphviz")
    } else {
        Err(format!(
            "{CONTROLLER} is missing (Debian package puppet-module-oci)"
        ))
    };
    if require_reference("graph_oci_controller", corpus).is_none() {
        return;
    }
    let dir = scratch("graph_oci_controller");
    let svg = dir.join("oci-controller.svg");
    let output = granule(&[
        "graph",
        "--modulepath",
        "/usr/share/puppet/modules",
        "--entry",
        "oci::controller",
        "--format",
        "svg",
        "-o",
        svg.to_str().unwrap(),
    ]);
    assert_eq!(exit_code(&output), 0, "{}", text(&output.stderr));
    let svg = std::fs::read_to_string(&svg).expect("the SVG was written");
    assert!(svg.contains(">class oci::controller</text>"));
    let nodes = svg.matches("class=\"node\"").count();
    let edges = svg.matches("class=\"edge\"").count();
    assert!(nodes > 300 && edges > 1000, "{nodes} nodes, {edges} edges");
    // Drawn, but said to be unreadable, with what to draw instead.
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains(&format!(
            "warning: {edges} edges among {nodes} vertices: a picture of more than 500 edges \
             cannot be read"
        )) && stderr.contains("--focus NAME --depth N")
            && stderr.contains("--level module"),
        "{stderr}"
    );

    // The PNG Graphviz must shrink: the warning gives the size written.
    let png = dir.join("oci-controller.png");
    let output = granule(&[
        "graph",
        "--modulepath",
        "/usr/share/puppet/modules",
        "--entry",
        "oci::controller",
        "--format",
        "png",
        "-o",
        png.to_str().unwrap(),
    ]);
    assert_eq!(exit_code(&output), 0, "{}", text(&output.stderr));
    let bytes = std::fs::read(&png).expect("the PNG was written");
    let width = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
    assert!(width.max(height) <= 32767, "{width}x{height}");
    let stderr = text(&output.stderr);
    let said = stderr
        .lines()
        .find(|line| line.contains("was shrunk by a factor of"))
        .unwrap_or_else(|| panic!("no word of the shrinking: {stderr}"));
    assert!(
        said.contains(&format!("to {width} x {height} pixels"))
            && said.contains("--format svg or html keep it full size"),
        "{said}"
    );

    // On a terminal (util-linux's `script` gives one), a spinner says
    // Graphviz is at work, and is gone when it is done.
    if require_reference(
        "graph_progress_terminal",
        tool_available("script", "bsdutils"),
    )
    .is_some()
    {
        let command = format!(
            "{} graph --modulepath /usr/share/puppet/modules --entry oci::controller \
             --format svg -o {}",
            granule_tests::executor::granule().display(),
            dir.join("progress.svg").display()
        );
        let typescript = dir.join("typescript");
        let output = Command::new("script")
            .args(["-q", "-e", "-c", &command])
            .arg(&typescript)
            .current_dir(repo_root())
            .env("TERM", "xterm")
            .output()
            .expect("script runs");
        assert_eq!(exit_code(&output), 0, "{}", text(&output.stderr));
        let shown = text(&std::fs::read(&typescript).expect("the terminal's output"));
        assert!(
            shown.contains(&format!(
                "Graphviz is drawing {nodes} vertices and {edges} edges ("
            )),
            "no progress on the terminal: {}",
            &shown[..shown.len().min(2000)]
        );
    }

    // The module graph is small enough to read: no warning.
    let output = granule(&[
        "graph",
        "--modulepath",
        "/usr/share/puppet/modules",
        "--entry",
        "oci::controller",
        "--level",
        "module",
        "--format",
        "svg",
    ]);
    assert_eq!(exit_code(&output), 0, "{}", text(&output.stderr));
    assert!(!text(&output.stderr).contains("cannot be read"));
}

/// The DOT lines of edges, as (from label, to label, line).
fn edge_lines(dot: &Dot) -> Vec<(String, String, String)> {
    dot.text
        .lines()
        .filter_map(|line| {
            let (from, rest) = line.trim().split_once(" -> ")?;
            let to = rest.split(' ').next()?;
            Some((
                dot.labels[from].clone(),
                dot.labels[to].clone(),
                line.to_string(),
            ))
        })
        .collect()
}

#[test]
fn edge_labels_are_off_when_every_edge_says_the_same() {
    // At the module level every edge is `uses`: no label says it.
    let output = graph(&["--level", "module"]);
    assert_eq!(exit_code(&output), 0, "{}", text(&output.stderr));
    let dot = parse_dot(&text(&output.stdout));
    let lines = edge_lines(&dot);
    assert!(lines.len() > 5, "{}", dot.text);
    assert!(dot.edges.iter().all(|(_, kind, _)| kind == "uses"));
    for (_, _, line) in &lines {
        assert!(
            !line.contains("label=\"uses"),
            "a label saying what all say: {line}"
        );
    }
    // Asked for, they are there.
    let output = graph(&["--level", "module", "--edge-labels", "on"]);
    let dot = parse_dot(&text(&output.stdout));
    for (_, _, line) in edge_lines(&dot) {
        assert!(line.contains("label=\"uses"), "{line}");
    }
    // At the class level the kinds differ: each edge says its own.
    let output = graph(&[]);
    let dot = parse_dot(&text(&output.stdout));
    let kinds: BTreeSet<&str> = dot.edges.iter().map(|(_, kind, _)| kind.as_str()).collect();
    assert!(kinds.len() > 2, "{kinds:?}");
    for ((_, kind, _), (_, _, line)) in dot.edges.iter().zip(edge_lines(&dot)) {
        assert!(line.contains(&format!("label=\"{kind}\"")), "{line}");
    }
    let output = graph(&["--edge-labels", "off"]);
    let dot = parse_dot(&text(&output.stdout));
    for (_, _, line) in edge_lines(&dot) {
        assert!(!line.contains("label="), "{line}");
    }
}

#[test]
fn a_module_level_edge_names_the_module_whose_code_writes_it() {
    // deployer's code orders galera before keystone, twice: under
    // `$with_db and $first` and under `$with_db`.
    let selection = [
        "--modulepath",
        "fixtures/graph_writer/modules",
        "--entry",
        "deployer",
        "--level",
        "module",
    ];
    let mut args = vec!["deps", "--format", "json"];
    args.extend_from_slice(&selection);
    let output = granule(&args);
    assert_eq!(exit_code(&output), 0, "{}", text(&output.stderr));
    let document: serde_json::Value = serde_json::from_slice(&output.stdout).expect("deps JSON");
    let module = |name: &str| serde_json::json!({"kind": "module", "name": name});
    let edges = document["edges"].as_array().expect("edges");
    let ordered = edges
        .iter()
        .find(|edge| edge["from"] == module("galera") && edge["to"] == module("keystone"))
        .expect("galera uses keystone");
    assert_eq!(ordered["writer"], "deployer");
    assert_eq!(
        ordered["location"]["file"],
        "fixtures/graph_writer/modules/deployer/manifests/init.pp"
    );
    let sites: Vec<(u64, &str, &str)> = ordered["sites"]
        .as_array()
        .unwrap()
        .iter()
        .map(|site| {
            (
                site["location"]["line"].as_u64().unwrap(),
                site["condition"].as_str().unwrap(),
                site["kind"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        sites,
        [
            (11, "$with_db and $first", "before"),
            (13, "$with_db", "before")
        ]
    );
    // `($with_db and $first) or $with_db` is `$with_db`.
    assert_eq!(ordered["condition"], "$with_db");
    for declared in ["galera", "keystone"] {
        let edge = edges
            .iter()
            .find(|edge| edge["from"] == module("deployer") && edge["to"] == module(declared))
            .expect("deployer includes it");
        assert_eq!(edge["writer"], "deployer");
    }

    let mut args = vec!["deps"];
    args.extend_from_slice(&selection);
    let listed = text(&granule(&args).stdout);
    assert!(
        listed.contains(
            "module galera --uses--> module keystone  (written in deployer)  if $with_db"
        ),
        "{listed}"
    );
    assert_eq!(listed.matches("written in").count(), 1, "{listed}");

    let mut args = vec!["graph"];
    args.extend_from_slice(&selection);
    let dot = parse_dot(&text(&granule(&args).stdout));
    let lines = edge_lines(&dot);
    let (_, _, line) = lines
        .iter()
        .find(|(from, to, _)| from == "module galera" && to == "module keystone")
        .expect("the edge drawn");
    assert!(
        line.contains("label=\"in deployer\"") && line.contains("color=\"darkorange2\""),
        "{line}"
    );
    assert!(
        dot.text
            .contains("orange edge \\\"in m\\\": written in module m's code"),
        "the legend says what orange means: {}",
        dot.text
    );
}

#[test]
fn galera_uses_keystone_is_written_by_oci_on_the_corpus() {
    const CORPUS: &str = "/usr/share/puppet/modules.available";
    let present = if std::path::Path::new(CORPUS).join("oci").is_dir() {
        Ok(())
    } else {
        Err(format!(
            "{CORPUS}/oci is missing (Debian package puppet-module-oci)"
        ))
    };
    if require_reference("graph_writer_oci", present).is_none() {
        return;
    }
    let output = granule(&[
        "deps",
        "--format",
        "json",
        "--modulepath",
        CORPUS,
        "--entry",
        "oci::controller",
        "--level",
        "module",
    ]);
    assert_eq!(exit_code(&output), 0, "{}", text(&output.stderr));
    let document: serde_json::Value = serde_json::from_slice(&output.stdout).expect("deps JSON");
    let module = |name: &str| serde_json::json!({"kind": "module", "name": name});
    let edges: Vec<&serde_json::Value> = document["edges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|edge| edge["from"] == module("galera") && edge["to"] == module("keystone"))
        .collect();
    assert!(!edges.is_empty(), "no edge from galera to keystone");
    for edge in edges {
        // Written in oci's controller.pp: the edge says so, and every
        // place it is written is in oci's code.
        assert_eq!(edge["writer"], "oci", "{edge}");
        for site in edge["sites"].as_array().unwrap() {
            let file = site["location"]["file"].as_str().unwrap();
            assert!(
                file.starts_with(&format!("{CORPUS}/oci/manifests/")),
                "{file} is not oci's"
            );
        }
    }
}

#[test]
fn the_cycle_of_the_analyzer_fixture_is_red_and_fails_the_exit_status() {
    let selection = [
        "--modulepath",
        "fixtures/analyzer/modules",
        "--entry",
        "fixtures/analyzer/manifests/site.pp",
    ];
    let mut deps = vec!["deps", "--format", "json"];
    deps.extend_from_slice(&selection);
    let output = granule(&deps);
    let document: serde_json::Value = serde_json::from_slice(&output.stdout).expect("deps JSON");
    let cycle_vertices: BTreeSet<String> = document["cycles"]
        .as_array()
        .expect("cycles")
        .iter()
        .flat_map(|cycle| cycle.as_array().unwrap().iter())
        .map(|vertex| format!("class {}", vertex["name"].as_str().unwrap()))
        .collect();
    assert!(
        !cycle_vertices.is_empty(),
        "the fixture has a deliberate cycle"
    );

    let mut args = vec!["graph"];
    args.extend_from_slice(&selection);
    let output = granule(&args);
    assert_eq!(exit_code(&output), 1, "a cycle fails the exit status");
    assert!(text(&output.stderr).contains("error[analyzer/cycle]"));
    let dot = parse_dot(&text(&output.stdout));
    let red: BTreeSet<String> = dot
        .text
        .lines()
        .filter(|line| line.contains(" -> ") && line.contains("color=\"red\""))
        .flat_map(|line| {
            let (from, rest) = line.trim().split_once(" -> ").unwrap();
            let to = rest.split(' ').next().unwrap();
            [dot.labels[from].clone(), dot.labels[to].clone()]
        })
        .collect();
    assert_eq!(red, cycle_vertices, "the edges on the cycle are red");

    // Focused away from the cycle, the picture has none.
    let outside = dot
        .labels
        .values()
        .find(|label| label.starts_with("class ") && !cycle_vertices.contains(*label))
        .expect("a class off the cycle")
        .clone();
    args.extend(["--focus", &outside, "--depth", "0"]);
    let output = granule(&args);
    assert_eq!(exit_code(&output), 0, "{}", text(&output.stderr));
    assert!(!text(&output.stdout).contains("color=\"red\""));
}
