//! The task graph a split draws (`graph.svg`, Graphviz's own output), on
//! fixtures/split/fuel_like: every task is a node labelled with its roles
//! and its size as report.json counts it, taller the more units it holds,
//! filled with the colours the legend gives its roles; the legend names
//! every role.

use granule_tests::executor::{exit_code, granule, text, tool_available};
use granule_tests::{repo_root, require_reference, target_dir};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

/// One node of the SVG: its title, the fills of its shapes, the text of its
/// label lines and its height in points.
#[derive(Debug)]
struct Node {
    fills: BTreeSet<String>,
    lines: Vec<String>,
    height: f64,
}

fn unescape(text: &str) -> String {
    text.replace("&#45;", "-")
        .replace("&#160;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The value of `attribute="..."` in an SVG element.
fn attribute<'a>(element: &'a str, attribute: &str) -> Option<&'a str> {
    let start = element.find(&format!(" {attribute}=\""))? + attribute.len() + 3;
    let end = element[start..].find('"')? + start;
    Some(&element[start..end])
}

/// The nodes of a Graphviz SVG, by title.
fn nodes(svg: &str) -> BTreeMap<String, Node> {
    let mut found = BTreeMap::new();
    for group in svg.split("<g id=\"").skip(1) {
        if !group.contains("class=\"node\"") {
            continue;
        }
        let group = &group[..group.find("</g>").unwrap_or(group.len())];
        let title = group
            .split_once("<title>")
            .and_then(|(_, rest)| rest.split_once("</title>"))
            .map(|(title, _)| unescape(title))
            .expect("a node has a title");
        let mut fills = BTreeSet::new();
        let mut ys: Vec<f64> = Vec::new();
        for polygon in group.split("<polygon").skip(1) {
            let polygon = &polygon[..polygon.find("/>").unwrap_or(polygon.len())];
            if let Some(fill) = attribute(polygon, "fill") {
                if fill.starts_with('#') {
                    fills.insert(fill.to_string());
                }
            }
            let points = attribute(polygon, "points").unwrap_or("");
            ys.extend(
                points
                    .split(' ')
                    .filter_map(|point| point.split_once(',')?.1.parse::<f64>().ok()),
            );
        }
        let lines = group
            .split("<text")
            .skip(1)
            .filter_map(|t| Some(unescape(t.split_once('>')?.1.split_once("</text>")?.0)))
            .collect();
        let height = ys.iter().cloned().fold(f64::MIN, f64::max)
            - ys.iter().cloned().fold(f64::MAX, f64::min);
        found.insert(
            title,
            Node {
                fills,
                lines,
                height,
            },
        );
    }
    found
}

#[test]
fn the_task_graph_shows_each_tasks_size_and_colours_its_roles() {
    if require_reference("split_graph", tool_available("dot", "graphviz")).is_none() {
        return;
    }
    let fixture = repo_root().join("fixtures/split/fuel_like");
    let out = target_dir().join("split-graph");
    let output = Command::new(granule())
        .current_dir(&fixture)
        .args([
            "split",
            "--modulepath",
            "modules:/usr/share/puppet/modules",
            "--entry",
            "manifests/site.pp",
            "--role-var",
            "$::settings['role']",
            "--roles",
            "primary-controller,controller,compute,cinder",
            "--assume",
            "$::settings['deployment_mode']=ha_compact",
            "-o",
        ])
        .arg(&out)
        .output()
        .expect("granule runs");
    assert_eq!(exit_code(&output), 0, "{}", text(&output.stderr));
    let svg = std::fs::read_to_string(out.join("graph.svg")).expect("graph.svg is written");
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    let mut units: BTreeMap<&str, usize> = BTreeMap::new();
    for unit in report["units"].as_array().expect("units") {
        *units
            .entry(unit["task"].as_str().expect("a task"))
            .or_default() += 1;
    }
    let nodes = nodes(&svg);

    // The legend: one node per role, each its own colour.
    let mut colour: BTreeMap<String, String> = BTreeMap::new();
    for (title, node) in &nodes {
        if let Some(role) = title.strip_prefix("legend: ") {
            assert_eq!(node.fills.len(), 1, "{title}: {node:?}");
            colour.insert(role.to_string(), node.fills.iter().next().unwrap().clone());
        }
    }
    let roles: BTreeSet<String> = report["tasks"]
        .as_array()
        .expect("tasks")
        .iter()
        .flat_map(|task| task["groups"].as_array().unwrap())
        .map(|role| role.as_str().unwrap().to_string())
        .collect();
    assert_eq!(colour.keys().cloned().collect::<BTreeSet<_>>(), roles);
    assert!(roles.len() >= 4, "{roles:?}");
    let distinct: BTreeSet<&String> = colour.values().collect();
    assert_eq!(
        distinct.len(),
        colour.len(),
        "one colour per role: {colour:?}"
    );

    let mut by_size: Vec<(usize, f64)> = Vec::new();
    for task in report["tasks"].as_array().unwrap() {
        let id = task["id"].as_str().unwrap();
        let node = nodes.get(id).unwrap_or_else(|| panic!("no node {id}"));
        let groups: BTreeSet<String> = task["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|role| colour[role.as_str().unwrap()].clone())
            .collect();
        assert_eq!(node.fills, groups, "{id}'s fill is its roles' colours");
        let count = units.get(id).copied().unwrap_or(0);
        let classes = task["classes"].as_array().unwrap().len();
        let size = format!(
            "{count} unit{}, {classes} class{}",
            if count == 1 { "" } else { "s" },
            if classes == 1 { "" } else { "es" }
        );
        assert!(
            node.lines.iter().any(|line| line == &size),
            "{id}: no `{size}` in {:?}",
            node.lines
        );
        by_size.push((count, node.height));
    }
    by_size.sort_by(|a, b| a.partial_cmp(b).unwrap());
    for pair in by_size.windows(2) {
        assert!(
            pair[0].1 <= pair[1].1 + 0.01,
            "a task with more units is drawn no smaller: {by_size:?}"
        );
    }
    let (smallest, largest) = (by_size[0], by_size[by_size.len() - 1]);
    assert!(
        largest.0 > smallest.0 && largest.1 > smallest.1,
        "sizes differ and show: {by_size:?}"
    );
}
