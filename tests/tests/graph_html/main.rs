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

/// Where the acceptance tests find oci::controller and the modules it uses.
const CORPUS: &str = "/usr/share/puppet/modules.available";

/// The size of the page in the acceptance tests on oci::controller.
const WINDOW: (u32, u32) = (1600, 1000);

/// The labels (SVG text) at least partly in the viewport, each as its font
/// size on the screen and the height of its box, in pixels.
const LABELS_IN_VIEW: &str = "
    const view = document.getElementById('viewport').getBoundingClientRect();
    const labels = [];
    for (const text of document.querySelectorAll('#viewport > svg text')) {
      const box = text.getBoundingClientRect();
      if (box.width === 0 || box.height === 0) continue;
      if (box.right < view.left || box.left > view.right || box.bottom < view.top || box.top > view.bottom) continue;
      const size = parseFloat(text.getAttribute('font-size')) * text.getScreenCTM().a;
      labels.push([text.textContent, size, box.height]);
    }
    return labels;";

/// The selected vertex's offset from the viewport's middle, and the size on
/// screen of its label's font.
const SELECTED_PLACE: &str = "
    const node = document.querySelector('g.node.selected');
    const box = node.getBoundingClientRect();
    const view = document.getElementById('viewport').getBoundingClientRect();
    const text = node.querySelector('text');
    return [node.querySelector('text').textContent,
            box.x + box.width / 2 - (view.x + view.width / 2),
            box.y + box.height / 2 - (view.y + view.height / 2),
            parseFloat(text.getAttribute('font-size')) * text.getScreenCTM().a];";

fn corpus_references() -> Result<(), String> {
    references()?;
    if std::path::Path::new(CORPUS)
        .join("oci/manifests/controller.pp")
        .is_file()
    {
        Ok(())
    } else {
        Err(format!(
            "{CORPUS}/oci is missing (Debian package puppet-module-oci)"
        ))
    }
}

/// Writes the page of oci::controller's graph at `level` and opens it.
fn open_oci_controller<'d>(driver: &'d Driver, level: &str) -> webdriver::Session<'d> {
    let out_dir = target_dir().join("graph-html");
    std::fs::create_dir_all(&out_dir).expect("output directory");
    let page = out_dir.join(format!("oci-controller-{level}.html"));
    let output = granule_in(
        &repo_root(),
        &[
            "graph",
            "--modulepath",
            CORPUS,
            "--entry",
            "oci::controller",
            "--level",
            level,
            "--format",
            "html",
            "-o",
            page.to_str().unwrap(),
        ],
    );
    assert_eq!(exit_code(&output), 0, "{}", text(&output.stderr));
    let browser = driver.session(&on_path("chromium"), WINDOW);
    browser.open(&format!("file://{}", page.display()));
    let size = browser.run("return [window.innerWidth, window.innerHeight]", json!([]));
    assert_eq!(size, json!([WINDOW.0, WINDOW.1]), "the page's size");
    browser
}

fn screenshot(browser: &webdriver::Session, name: &str) {
    let png = browser.screenshot();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG screenshot");
    std::fs::write(target_dir().join("graph-html").join(name), png).expect("screenshot written");
}

/// The opening view shows the entry, every label in it at least 10 pixels
/// high.
fn assert_opens_readable(browser: &webdriver::Session, entry: &str) {
    let labels = browser.run(LABELS_IN_VIEW, json!([]));
    let labels = labels.as_array().expect("labels");
    assert!(labels.len() >= 5, "only {} labels in view", labels.len());
    for label in labels {
        let (size, height) = (label[1].as_f64().unwrap(), label[2].as_f64().unwrap());
        assert!(
            size >= 10.0 && height >= 10.0,
            "label {} is {size:.1} px ({height:.1} px box)",
            label[0]
        );
    }
    assert!(
        labels.iter().any(|label| label[0] == entry),
        "the entry {entry} is not in view: {labels:?}"
    );
}

/// Searching `wanted` zooms to the vertex found (centered, its label at
/// least 10 pixels high) and lights its neighbours: the vertices at the
/// other end of its edges in the page's data. Returns the vertex's label.
fn assert_search_zooms(browser: &webdriver::Session, wanted: &str) -> String {
    browser.type_into(&browser.find("#search"), wanted);
    let place = browser.run(SELECTED_PLACE, json!([]));
    let label = place[0].as_str().unwrap().to_string();
    assert!(label.contains(wanted), "{label} found for {wanted}");
    for axis in [&place[1], &place[2]] {
        assert!(
            axis.as_f64().unwrap().abs() < 5.0,
            "the vertex found is centered: {place}"
        );
    }
    assert!(
        place[3].as_f64().unwrap() >= 10.0,
        "the vertex found is readable: {place}"
    );
    let lit = browser.run(
        "const data = JSON.parse(document.getElementById('graph-data').textContent);
         const index = Number(document.querySelector('g.node.selected').dataset.vertex);
         const others = new Set();
         for (const edge of data.edges) {
           if (edge.from === index) others.add(edge.to);
           if (edge.to === index) others.add(edge.from);
         }
         const lit = Array.from(document.querySelectorAll('g.node.neighbour'), g => Number(g.dataset.vertex));
         return [Array.from(others).sort(), lit.sort()];",
        json!([]),
    );
    assert!(
        !lit[0].as_array().unwrap().is_empty(),
        "{label} has neighbours"
    );
    assert_eq!(lit[0], lit[1], "the neighbours of {label} are lit");
    label
}

fn assert_no_console_error(browser: &webdriver::Session) {
    let errors: Vec<(String, String)> = browser
        .console()
        .into_iter()
        .filter(|(level, _)| level == "SEVERE")
        .collect();
    assert!(errors.is_empty(), "console errors: {errors:?}");
}

#[test]
fn oci_controller_module_graph_opens_readable_and_search_zooms() {
    if require_reference("graph_html_oci_module", corpus_references()).is_none() {
        return;
    }
    let driver = Driver::start("chromedriver");
    let browser = open_oci_controller(&driver, "module");
    assert_opens_readable(&browser, "module oci");
    // The legend says what orange means: edges oci's code writes.
    let legend = browser.text(&browser.find("#legend"));
    assert!(legend.contains("written in module m's code"), "{legend}");
    screenshot(&browser, "oci-controller-module-opening.png");
    assert_search_zooms(&browser, "module keystone");
    screenshot(&browser, "oci-controller-module-search.png");

    // galera's edge to keystone is written in oci: the panel says so.
    let search = browser.find("#search");
    browser.clear(&search);
    browser.type_into(&search, "module galera\u{E007}");
    let rows = browser.run(
        "return Array.from(document.querySelectorAll('#panel tr[data-direction=\"out\"]'), row =>
           Array.from(row.cells, cell => cell.textContent))",
        json!([]),
    );
    let to_keystone = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row[1] == "module keystone")
        .unwrap_or_else(|| panic!("no edge to keystone: {rows}"));
    assert!(
        to_keystone[0].as_str().unwrap().contains("written in oci")
            && to_keystone[3]
                .as_str()
                .unwrap()
                .starts_with("oci/manifests/controller.pp:"),
        "{to_keystone}"
    );
    // So does the edge's tooltip in the picture.
    let tooltips = browser.run(
        "const data = JSON.parse(document.getElementById('graph-data').textContent);
         const label = index => data.vertices[index].label;
         return data.edges
           .map((edge, index) => [edge, index])
           .filter(([edge]) => label(edge.from) === 'module galera' && label(edge.to) === 'module keystone')
           .map(([, index]) => document.getElementById('e' + index).querySelector('a')
              .getAttributeNS('http://www.w3.org/1999/xlink', 'title'));",
        json!([]),
    );
    let tooltip = tooltips[0].as_str().unwrap_or_default();
    assert!(
        tooltip.starts_with("uses (written in oci) at oci/manifests/controller.pp:"),
        "{tooltips}"
    );
    assert_no_console_error(&browser);
}

#[test]
fn oci_controller_class_graph_opens_readable_searches_folds_and_filters() {
    if require_reference("graph_html_oci_class", corpus_references()).is_none() {
        return;
    }
    let driver = Driver::start("chromedriver");
    let browser = open_oci_controller(&driver, "class");
    assert_opens_readable(&browser, "class oci::controller");
    screenshot(&browser, "oci-controller-class-opening.png");
    let found = assert_search_zooms(&browser, "class keystone::");
    screenshot(&browser, "oci-controller-class-search.png");

    // The panel lists the edges with paths relative to the module path, on
    // lines wide enough to read.
    browser.type_into(&browser.find("#search"), "\u{E007}");
    let selected = browser.text(&browser.find("#panel h2"));
    assert!(selected.starts_with("class keystone::"), "{selected}");
    let places = browser.run(
        "return Array.from(document.querySelectorAll('#panel td.where'), cell =>
           [cell.textContent, cell.getBoundingClientRect().width])",
        json!([]),
    );
    for place in places.as_array().unwrap() {
        let (path, width) = (place[0].as_str().unwrap(), place[1].as_f64().unwrap());
        assert!(!path.starts_with('/'), "{path} is not relative");
        assert!(width > 250.0, "{path} squeezed into {width} px");
    }
    assert!(!found.is_empty());

    // Folding keystone hides its vertices under one box; clicking the box
    // unfolds it.
    let members = "const data = JSON.parse(document.getElementById('graph-data').textContent);
         return data.vertices
           .map((vertex, index) => [vertex.module, index])
           .filter(([module]) => module === arguments[0])
           .map(([, index]) => getComputedStyle(document.getElementById('v' + index)).display);";
    let shown = browser.run(members, json!(["keystone"]));
    assert!(
        shown.as_array().unwrap().len() > 3
            && shown
                .as_array()
                .unwrap()
                .iter()
                .all(|display| display != "none"),
        "{shown}"
    );
    browser.click(&browser.find("#panel button[data-fold='keystone']"));
    let folded = browser.run(members, json!(["keystone"]));
    assert!(
        folded
            .as_array()
            .unwrap()
            .iter()
            .all(|display| display == "none"),
        "keystone's vertices hidden: {folded}"
    );
    // The box is shown whole, its name in view and readable.
    let cover = browser.run(
        "const cover = document.querySelector('g.fold-cover[data-module=\"keystone\"]');
         const view = document.getElementById('viewport').getBoundingClientRect();
         const box = cover.getBoundingClientRect();
         const name = cover.querySelector('text');
         const named = name.getBoundingClientRect();
         return [name.textContent, box.width, box.height,
                 box.left >= view.left && box.right <= view.right
                   && box.top >= view.top && box.bottom <= view.bottom,
                 named.height];",
        json!([]),
    );
    assert!(
        cover[0].as_str().unwrap().starts_with("keystone (")
            && cover[1].as_f64().unwrap() > 50.0
            && cover[2].as_f64().unwrap() > 20.0
            && cover[3] == true
            && cover[4].as_f64().unwrap() >= 10.0,
        "{cover}"
    );
    screenshot(&browser, "oci-controller-class-folded.png");
    browser.click(&browser.find("g.fold-cover[data-module='keystone']"));
    assert_eq!(browser.run(members, json!(["keystone"])), shown, "unfolded");
    assert_eq!(
        browser.run(
            "return document.querySelectorAll('g.fold-cover').length",
            json!([])
        ),
        0
    );

    // Every module at once, and back.
    let clusters = browser.run(
        "return document.querySelectorAll('g.cluster').length",
        json!([]),
    );
    browser.click(&browser.find("#fold-all"));
    assert_eq!(
        browser.run(
            "return document.querySelectorAll('g.fold-cover').length",
            json!([])
        ),
        clusters
    );
    screenshot(&browser, "oci-controller-class-all-folded.png");
    browser.click(&browser.find("#unfold-all"));
    assert_eq!(
        browser.run(
            "return document.querySelectorAll('g.fold-cover').length",
            json!([])
        ),
        0
    );

    // Unticking a kind hides its edges, and only those.
    let visible_edges = "return Array.from(document.querySelectorAll('g.edge'))
        .filter(g => getComputedStyle(g).display !== 'none').length";
    let before = browser.run(visible_edges, json!([])).as_u64().unwrap();
    let includes = browser
        .run(
            "const data = JSON.parse(document.getElementById('graph-data').textContent);
             return data.edges.filter(edge => edge.kinds.every(kind => kind === 'include')).length;",
            json!([]),
        )
        .as_u64()
        .unwrap();
    assert!(includes > 10, "{includes} include edges");
    browser.click(&browser.find("#legend input[data-kind='include']"));
    let after = browser.run(visible_edges, json!([])).as_u64().unwrap();
    assert_eq!(after, before - includes, "the include edges hidden");
    assert_no_console_error(&browser);
}
