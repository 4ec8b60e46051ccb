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
