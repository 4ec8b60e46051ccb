use super::validate;
use crate::parse;

/// (code, line, column) of each issue granule finds in `source`.
fn issues(source: &str) -> Vec<(String, usize, usize)> {
    let program = parse(source).expect("parses");
    let index = crate::LineIndex::new(source);
    validate(&program, source)
        .into_iter()
        .map(|d| {
            let (line, column) = index.line_col(source, d.span.start as usize);
            (d.code, line, column)
        })
        .collect()
}

#[test]
fn binary_expressions_are_located_at_their_operator() {
    assert_eq!(
        issues("$x::y /* c */ = 1\n$a += 2\n"),
        vec![
            ("CROSS_SCOPE_ASSIGNMENT".to_string(), 1, 1),
            ("APPENDS_DELETES_NO_LONGER_SUPPORTED".to_string(), 2, 4),
        ]
    );
}

#[test]
fn parameters_are_located_at_their_variable() {
    assert_eq!(
        issues("class a(String $x, Integer *$x) {}\n"),
        vec![
            ("CAPTURES_REST_NOT_SUPPORTED".to_string(), 1, 29),
            ("DUPLICATE_PARAMETER".to_string(), 1, 29),
        ]
    );
}

#[test]
fn a_correct_manifest_has_no_issues() {
    let source = "class a($x = 1) {\n  file { '/tmp/x': ensure => file }\n  $y = [$x, 2]\n}\n";
    assert_eq!(issues(source), vec![]);
}

#[test]
fn deep_trees_are_checked_to_the_bottom() {
    // Deeper than the caller's thread is trusted with: checked on a thread
    // of its own, and the issue at the bottom is still found.
    let depth = 450;
    let source = format!("$x = {}$a::b = 1{}\n", "[".repeat(depth), "]".repeat(depth));
    let found = issues(&source);
    assert_eq!(
        found,
        vec![("CROSS_SCOPE_ASSIGNMENT".to_string(), 1, depth + 6)]
    );
    let chain = format!("$y = 1{}\n$z::q = 2\n", " + 1".repeat(depth));
    assert_eq!(
        issues(&chain),
        vec![("CROSS_SCOPE_ASSIGNMENT".to_string(), 2, 1)]
    );
}

#[test]
fn validation_stops_at_a_heredoc_puppet_rejects() {
    let source = "$a::b = 1\n$j = @(END:json)\n  {\n  END\n$c::d = 2\n";
    assert_eq!(
        issues(source),
        vec![
            ("CROSS_SCOPE_ASSIGNMENT".to_string(), 1, 1),
            ("ILLEGAL_JSON".to_string(), 3, 1),
        ]
    );
}
