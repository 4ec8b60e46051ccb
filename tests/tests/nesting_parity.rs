//! granule's nesting limit against Puppet's. Puppet has no limit of its own
//! (its LALR parser takes any depth), but `puppet parser validate` recurses in
//! Ruby and dies of `SystemStackError` (exit 1, nothing printed) at a depth
//! that depends on the construct. For each construct granule must refuse
//! only a depth Puppet cannot validate either, with an error that says so;
//! and every command must take the deepest file granule accepts without
//! running out of stack.

use granule_tests::executor::{granule, tool_available};
use granule_tests::{require_reference, target_dir};
use rayon::prelude::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const TEST: &str = "nesting_parity";

/// A construct nested `depth` times: `prefix`, `open` × depth, `middle`,
/// `close` × depth.
struct Shape {
    name: &'static str,
    prefix: &'static str,
    open: &'static str,
    middle: &'static str,
    close: &'static str,
}

const fn shape(
    name: &'static str,
    prefix: &'static str,
    open: &'static str,
    middle: &'static str,
    close: &'static str,
) -> Shape {
    Shape {
        name,
        prefix,
        open,
        middle,
        close,
    }
}

const SHAPES: &[Shape] = &[
    shape("array", "$x = ", "[", "1", "]"),
    shape("parentheses", "$x = ", "(", "1", ")"),
    shape("hash", "$x = ", "{a => ", "1", "}"),
    shape("access", "$x = ", "$h[", "1", "]"),
    shape("call", "$x = ", "foo(", "1", ")"),
    shape("not", "$x = ", "!", "true", ""),
    shape("minus", "$x = ", "- ", "1", ""),
    shape("interpolation", "$x = ", "\"${", "1", "}\""),
    shape("if", "", "if $a { ", "1", " }"),
    shape("case", "", "case $a { 1: { ", "1", " } }"),
    shape("lambda", "", "$a.each |$x| { ", "1", " }"),
    shape("selector", "$x = ", "[1 ? { 1 => ", "1", " }]"),
    shape("selector method call", "$x = ", "$a ? { 1 => ", "1", " }.b"),
    shape("sum", "$x = ", "", "1", " + 1"),
    shape("method chain", "$x = ", "", "$y", ".z"),
];

/// Puppet validates this depth of every shape: the shapes are valid Puppet.
const SHALLOW: usize = 20;

impl Shape {
    fn nested(&self, depth: usize) -> String {
        format!(
            "{}{}{}{}\n",
            self.prefix,
            self.open.repeat(depth),
            self.middle,
            self.close.repeat(depth)
        )
    }

    fn file_name(&self, depth: usize) -> String {
        format!("{}-{depth}.pp", self.name.replace(' ', "-"))
    }

    /// The deepest nesting granule parses.
    fn granule_limit(&self) -> usize {
        let parses = |depth| granule_parser::parse(&self.nested(depth)).is_ok();
        let (mut parsed, mut refused) = (SHALLOW, 100_000);
        assert!(
            parses(parsed),
            "{}: granule refuses {parsed} levels",
            self.name
        );
        assert!(
            !parses(refused),
            "{}: granule parses {refused} levels",
            self.name
        );
        while refused - parsed > 1 {
            let middle = (parsed + refused) / 2;
            if parses(middle) {
                parsed = middle;
            } else {
                refused = middle;
            }
        }
        parsed
    }
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write a nested file");
    path
}

fn puppet_validate(files: &[PathBuf]) -> Output {
    Command::new("puppet")
        .args(["parser", "validate"])
        .args(files)
        .output()
        .expect("puppet runs")
}

/// `target/nesting_parity/NAME`, emptied.
fn scratch_dir(name: &str) -> PathBuf {
    let dir = target_dir().join(TEST).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a directory under target/nesting_parity");
    dir
}

#[test]
fn granule_refuses_only_depths_puppet_cannot_validate() {
    if require_reference(TEST, tool_available("puppet", "puppet-agent")).is_none() {
        return;
    }
    let dir = scratch_dir("refused");
    let shallow: Vec<PathBuf> = SHAPES
        .iter()
        .map(|shape| write(&dir, &shape.file_name(SHALLOW), &shape.nested(SHALLOW)))
        .collect();
    let output = puppet_validate(&shallow);
    assert!(
        output.status.success(),
        "Puppet must validate every shape {SHALLOW} levels deep: {}",
        String::from_utf8_lossy(&output.stderr)
    );

    let verdicts: Vec<(usize, bool, String)> = SHAPES
        .par_iter()
        .map(|shape| {
            let limit = shape.granule_limit();
            let too_deep = shape.nested(limit + 1);
            let error = granule_parser::parse(&too_deep).expect_err("refused past the limit");
            let path = write(&dir, &shape.file_name(limit + 1), &too_deep);
            let puppet_refuses = !puppet_validate(&[path]).status.success();
            (limit, puppet_refuses, error.message)
        })
        .collect();

    let mut failures = Vec::new();
    for (shape, (limit, puppet_refuses, message)) in SHAPES.iter().zip(&verdicts) {
        println!(
            "{:<20} granule parses {limit:>5} levels and refuses {:>5}; puppet parser validate {}",
            shape.name,
            limit + 1,
            if *puppet_refuses {
                "fails too"
            } else {
                "validates it"
            }
        );
        if !puppet_refuses {
            failures.push(format!(
                "{}: granule refuses {} levels, which Puppet validates",
                shape.name,
                limit + 1
            ));
        }
        if !message.contains("nested too deeply") {
            failures.push(format!(
                "{}: the error should say the input nests too deep: {message}",
                shape.name
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `granule parse` (PN, JSON) and `granule lint` on the deepest file of each
/// shape granule accepts: the trees are walked recursively, on worker
/// threads, and must not overflow their stacks.
#[test]
fn every_command_takes_the_deepest_file_granule_accepts() {
    let dir = scratch_dir("deepest");
    let files: Vec<PathBuf> = SHAPES
        .iter()
        .map(|shape| {
            let limit = shape.granule_limit();
            write(&dir, &shape.file_name(limit), &shape.nested(limit))
        })
        .collect();
    let commands: [&[&str]; 3] = [
        &["parse", "--format", "pn"],
        &["parse", "--format", "json"],
        &["lint"],
    ];
    let mut failures = Vec::new();
    for command in commands {
        for file in &files {
            let output = Command::new(granule())
                .args(command)
                .arg(file)
                .output()
                .expect("granule runs");
            let parsed = command[0] != "parse" || output.status.success();
            // Lint findings exit 1; a crash is a signal or Rust's 101.
            if !parsed || !matches!(output.status.code(), Some(0 | 1)) {
                failures.push(format!(
                    "granule {} {}: {}\n{}",
                    command.join(" "),
                    file.display(),
                    output.status,
                    String::from_utf8_lossy(&output.stderr)
                        .lines()
                        .take(4)
                        .collect::<Vec<_>>()
                        .join("\n")
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
