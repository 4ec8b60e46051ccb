//! The HTML page of `granule graph` in headless Chromium (driven through
//! chromedriver): it loads with no console error, the search finds and
//! centers a vertex, clicking it lists its edges as `granule deps` knows
//! them (kind, other end, file:line), the wheel zooms and a drag pans. A screenshot goes to
//! TARGET/graph-html/graph.png.

mod webdriver;

use granule_tests::executor::{exit_code, granule_in, text, tool_available};
use granule_tests::{repo_root, require_reference, target_dir};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use webdriver::Driver;

const SELECTION: [&str; 4] = [
    "--modulepath",
    "fixtures/monolith/modules",
    "--entry",
    "fixtures/monolith/manifests/site.pp",
];

fn references() -> Result<(), String> {
    tool_available("dot", "graphviz")?;
    tool_available("chromium", "chromium")?;
    tool_available("chromedriver", "chromium-driver")
}

/// The edges of `class keystone` per `granule deps --format json`:
/// (direction, kind, file:line).
fn keystone_edges_per_deps() -> BTreeSet<(String, String, String)> {
    let mut args = vec!["deps", "--format", "json"];
    args.extend_from_slice(&SELECTION);
    let output = granule_in(&repo_root(), &args);
    assert_eq!(exit_code(&output), 0, "{}", text(&output.stderr));
    let document: Value = serde_json::from_slice(&output.stdout).expect("deps JSON");
    let keystone = json!({"kind": "class", "name": "keystone"});
    let mut edges = BTreeSet::new();
    for edge in document["edges"].as_array().expect("edges") {
        // The page shows paths relative to the module path.
        let file = edge["location"]["file"].as_str().unwrap();
        let location = format!(
            "{}:{}",
            file.strip_prefix("fixtures/monolith/modules/")
                .unwrap_or(file),
            edge["location"]["line"]
        );
        let kind = edge["kind"].as_str().unwrap().to_string();
        if edge["from"] == keystone {
            edges.insert(("out".to_string(), kind.clone(), location.clone()));
        }
        if edge["to"] == keystone {
            edges.insert(("in".to_string(), kind, location));
        }
    }
    edges
}

/// The full path of a program found on PATH (chromedriver wants one).
fn on_path(program: &str) -> String {
    std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|dir| dir.join(program))
        .find(|path| path.is_file())
        .unwrap_or_else(|| panic!("{program} is not on PATH"))
        .to_string_lossy()
        .into_owned()
}

#[test]
fn graph_page_searches_centers_and_lists_edges_in_chromium() {
    if require_reference("graph_html_chromium", references()).is_none() {
        return;
    }
    let out_dir = target_dir().join("graph-html");
    std::fs::create_dir_all(&out_dir).expect("output directory");
    let page = out_dir.join("graph.html");
    let mut args = vec!["graph", "--format", "html", "-o", page.to_str().unwrap()];
    args.extend_from_slice(&SELECTION);
    let output = granule_in(&repo_root(), &args);
    assert_eq!(exit_code(&output), 0, "{}", text(&output.stderr));
    let expected = keystone_edges_per_deps();
    assert!(expected.len() >= 5, "the fixture changed: {expected:?}");

    let driver = Driver::start("chromedriver");
    let browser = driver.session(&on_path("chromium"), (1400, 900));
    browser.open(&format!("file://{}", page.display()));
    assert_eq!(
        browser.run("return document.readyState", json!([])),
        "complete"
    );
    let mapped = browser.run(
        "const data = JSON.parse(document.getElementById('graph-data').textContent);
         return [document.querySelectorAll('#viewport g.node[data-vertex]').length,
                 data.vertices.length];",
        json!([]),
    );
    assert_eq!(
        mapped[0], mapped[1],
        "every vertex's node is mapped to its data"
    );
    assert!(mapped[0].as_u64().unwrap() > 5, "{mapped}");

    browser.type_into(&browser.find("#search"), "class keystone");
    assert_eq!(browser.text(&browser.find("#search-status")), "1 of 1");
    let matched = browser.run(
        "return Array.from(document.querySelectorAll('g.node.match'), g => g.querySelector('text').textContent)",
        json!([]),
    );
    assert_eq!(matched, json!(["class keystone"]));
    let offset = browser.run(
        "const node = document.querySelector('g.node.match').getBoundingClientRect();
         const view = document.getElementById('viewport').getBoundingClientRect();
         return [node.x + node.width / 2 - (view.x + view.width / 2),
                 node.y + node.height / 2 - (view.y + view.height / 2)];",
        json!([]),
    );
    for axis in offset.as_array().unwrap() {
        assert!(
            axis.as_f64().unwrap().abs() < 5.0,
            "the match is centered: {offset}"
        );
    }

    browser.click(&browser.find("g.node.match"));
    assert_eq!(browser.text(&browser.find("#panel h2")), "class keystone");
    let rows = browser.run(
        "return Array.from(document.querySelectorAll('#panel tr[data-direction]'), row =>
           [row.dataset.direction].concat(Array.from(row.cells, cell => cell.textContent)))",
        json!([]),
    );
    let listed: BTreeSet<(String, String, String)> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            let kind = row[1].as_str().unwrap().split(' ').next().unwrap();
            (
                row[0].as_str().unwrap().to_string(),
                kind.to_string(),
                row[4].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(listed, expected, "the panel lists keystone's edges");
    let include = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row[4] == "keystone/manifests/init.pp:7")
        .expect("the include at init.pp:7");
    assert_eq!(include[1], "include (cross-module)");
    assert_eq!(include[2], "class openstack::repo");
    let declared = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row[0] == "in" && row[1] == "declare_class")
        .expect("node default declares keystone");
    assert_eq!(declared[2], "node default");
    assert_eq!(declared[3], "if $::role == 'controller'");
    let active = browser.run(
        "return document.querySelectorAll('g.edge.active').length",
        json!([]),
    );
    assert!(
        active.as_u64().unwrap() >= 5,
        "keystone's edges are highlighted: {active}"
    );

    // A link in the panel goes to the other end.
    browser.click(&browser.find("#panel a[data-vertex]"));
    let heading = browser.text(&browser.find("#panel h2"));
    assert_ne!(heading, "class keystone");
    assert!(
        expected.len() > 1 && !heading.is_empty(),
        "the panel shows {heading}"
    );

    // The wheel and a drag, as a user's input (WebDriver actions).
    let view_box = "const box = document.querySelector('#viewport svg').viewBox.baseVal;
                    return [box.x, box.y, box.width, box.height];";
    let before = browser.run(view_box, json!([]));
    let viewport = browser.find("#viewport");
    browser.wheel(&viewport, -300);
    let zoomed = browser.run(view_box, json!([]));
    assert!(
        zoomed[2].as_f64().unwrap() < before[2].as_f64().unwrap() * 0.9,
        "the wheel zooms in: {before} -> {zoomed}"
    );
    browser.drag(&viewport, -200, 0);
    let panned = browser.run(view_box, json!([]));
    assert!(
        panned[0].as_f64().unwrap() > zoomed[0].as_f64().unwrap()
            && panned[2] == zoomed[2]
            && panned[1] == zoomed[1],
        "dragging left pans right: {zoomed} -> {panned}"
    );

    let errors: Vec<(String, String)> = browser
        .console()
        .into_iter()
        .filter(|(level, _)| level == "SEVERE")
        .collect();
    assert!(errors.is_empty(), "console errors: {errors:?}");

    // Enter centers and selects the match: the screenshot shows keystone.
    let search = browser.find("#search");
    browser.clear(&search);
    browser.type_into(&search, "keystone::endpoint\u{E007}");
    assert_eq!(
        browser.text(&browser.find("#panel h2")),
        "keystone::endpoint"
    );
    let screenshot = browser.screenshot();
    assert!(
        screenshot.starts_with(b"\x89PNG\r\n\x1a\n"),
        "a PNG screenshot"
    );
    std::fs::write(out_dir.join("graph.png"), screenshot).expect("screenshot written");
}
