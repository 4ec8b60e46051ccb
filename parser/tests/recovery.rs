//! Error recovery: independent syntax errors are all reported, in order, the
//! first being the one `parse` (and Puppet) reports, and the statements
//! around them still parse.

use granule_parser::{parse, parse_recovering, ExprKind, LineIndex};
use std::path::Path;

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/recovery")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn error_lines(source: &str) -> Vec<usize> {
    let index = LineIndex::new(source);
    parse_recovering(source)
        .errors
        .iter()
        .map(|error| index.line_col(source, error.span.start as usize).0)
        .collect()
}

#[test]
fn three_independent_errors_give_three_diagnostics_in_order() {
    let source = fixture("three_errors.pp");
    assert_eq!(error_lines(&source), vec![7, 16, 22]);
    let first = parse(&source).expect_err("the fixture has errors");
    assert_eq!(parse_recovering(&source).errors[0], first);
}

#[test]
fn statements_around_errors_are_kept() {
    let source = fixture("three_errors.pp");
    let parsed = parse_recovering(&source);
    let ExprKind::Block(statements) = &parsed.program.body.kind else {
        panic!("a block of statements: {:?}", parsed.program.body.kind);
    };
    let kinds: Vec<&str> = statements
        .iter()
        .map(|statement| match &statement.kind {
            ExprKind::Class(_) => "class",
            ExprKind::Define(_) => "define",
            ExprKind::Call(_) => "call",
            _ => "other",
        })
        .collect();
    assert_eq!(kinds, ["class", "call", "define", "call"]);
}

#[test]
fn a_file_without_errors_has_no_diagnostics() {
    let source = "class a { file { '/x': ensure => file } }\ninclude a\n";
    let parsed = parse_recovering(source);
    assert!(parsed.errors.is_empty());
    assert_eq!(parsed.program, parse(source).unwrap());
}

#[test]
fn recovery_never_loops_on_debris() {
    for source in [
        "}}}}",
        "class {",
        "] ) } $x = [ (",
        "if { else }",
        "@@ @ -> ~>",
    ] {
        let parsed = parse_recovering(source);
        assert!(!parsed.errors.is_empty(), "{source:?} has errors");
        let mut starts: Vec<u32> = parsed.errors.iter().map(|e| e.span.start).collect();
        starts.dedup();
        assert_eq!(
            starts.len(),
            parsed.errors.len(),
            "{source:?}: duplicate errors"
        );
    }
}
