//! One test per construct: the Puppet 7 text, and that Puppet 7's reading
//! of it (parser and validator) accepts it.

use super::{
    collect_variables, may_name_renamed_variables, puppet7_variable_name, to_puppet7, Rewritten,
};
use crate::legacy;
use crate::visit::Node;
use crate::{parse_recovering, validate, Severity};
use proptest::prelude::*;
use std::collections::{BTreeMap, HashSet};

/// Rewrites `source` and checks that Puppet 7's reading accepts the result.
fn rewritten(source: &str) -> Rewritten {
    let rewritten = to_puppet7(source);
    let parsed = parse_recovering(&rewritten.text);
    assert!(
        parsed.errors.is_empty(),
        "{:?} in\n{}",
        parsed.errors,
        rewritten.text
    );
    let refused: Vec<_> = validate(&parsed.program, &rewritten.text)
        .into_iter()
        .filter(|issue| issue.severity == Severity::Error)
        .collect();
    assert!(refused.is_empty(), "{refused:?} in\n{}", rewritten.text);
    rewritten
}

fn codes(rewritten: &Rewritten) -> Vec<&str> {
    rewritten.changes.iter().map(|change| change.code).collect()
}

#[test]
fn reference_with_space_loses_the_space() {
    let out = rewritten("File ['/a'] ~> Exec  ['b']\n");
    assert_eq!(out.text, "File['/a'] ~> Exec['b']\n");
    assert_eq!(codes(&out), [legacy::REFERENCE_WITH_SPACE; 2]);
    assert!(out.refused.is_empty());
}

#[test]
fn keyword_and_reserved_word_are_quoted() {
    let out = rewritten("$h = { 'type' => 1 }\n$t = $h[type]\n$v = private\nnotice($t, $v)\n");
    assert_eq!(
        out.text,
        "$h = { 'type' => 1 }\n$t = $h['type']\n$v = 'private'\nnotice($t, $v)\n"
    );
    assert_eq!(
        codes(&out),
        [legacy::KEYWORD_AS_NAME, legacy::RESERVED_WORD_AS_NAME]
    );
}

#[test]
fn dashed_and_capitalised_variables_are_renamed_everywhere_strings_included() {
    let out = rewritten(
        "$app-port = 80\n$BindAddress = 'a'\nnotice(\"${BindAddress}:${app-port} ${::BindAddress}\", $app-port)\n",
    );
    assert_eq!(
        out.text,
        "$app_port = 80\n$bind_address = 'a'\nnotice(\"${bind_address}:${app_port} ${::bind_address}\", $app_port)\n"
    );
    assert!(out.refused.is_empty());
}

#[test]
fn camel_case_starting_lower_case_is_left_alone() {
    let source = "$listenPort = 80\nnotice(\"${listenPort}\")\n";
    let out = rewritten(source);
    assert_eq!(out.text, source);
    assert!(out.changes.is_empty() && out.refused.is_empty());
}

#[test]
fn a_rename_onto_a_used_name_is_refused() {
    let out = to_puppet7("$app-port = 80\n$app_port = 81\nnotice($app-port, $app_port)\n");
    assert!(out.changes.is_empty());
    assert_eq!(out.refused.len(), 2);
    assert!(out.refused[0].advice.contains("already used"));
}

#[test]
fn a_variable_of_another_class_or_a_parameter_is_not_renamed() {
    let out = to_puppet7("notice($mod::Name)\nclass c($Port = 1) { notice($Port) }\n");
    assert!(out.changes.is_empty());
    let advice: Vec<&str> = out.refused.iter().map(|r| r.advice.as_str()).collect();
    assert!(advice[0].contains("another class"), "{advice:?}");
    assert!(advice[1].contains("parameter"), "{advice:?}");
}

#[test]
fn an_indexed_assignment_after_its_hash_is_folded_into_it() {
    let out = rewritten("$t = { 'workers' => 2 }\n$t['threads'] = 4\n$t['idle'] = 1\nnotice($t)\n");
    assert_eq!(
        out.text,
        "$t = { 'workers' => 2 } + { 'threads' => 4 } + { 'idle' => 1 }\n\
         # granule: folded into the assignment of $t above\n\
         # granule: folded into the assignment of $t above\n\
         notice($t)\n"
    );
    assert!(out.refused.is_empty());
}

#[test]
fn a_folded_value_carries_its_own_rewrites() {
    let out = rewritten(
        "$d = 'x'\n$t = { 'a' => 1 }\n$t['b'] = private\n$t['c'] = \"${Dir}/x\"\nnotice($t)\n",
    );
    assert!(
        out.text
            .contains("$t = { 'a' => 1 } + { 'b' => 'private' } + { 'c' => \"${dir}/x\" }\n"),
        "{}",
        out.text
    );
}

#[test]
fn an_indexed_assignment_that_cannot_be_folded_is_refused() {
    for source in [
        // read before it changes
        "$t = { 'a' => 1 }\nnotice($t)\n$t['b'] = 2\n",
        // a key it has (Puppet 3 refused the change)
        "$t = { 'a' => 1 }\n$t['a'] = 2\n",
        // not a literal hash here
        "$t = lookup('t')\n$t['b'] = 2\n",
        // a computed key
        "$t = { 'a' => 1 }\n$t[$k] = 2\n",
    ] {
        let out = to_puppet7(source);
        assert!(out.changes.is_empty(), "{source}: {:?}", out.changes);
        assert_eq!(out.refused.len(), 1, "{source}");
        assert_eq!(out.refused[0].code, legacy::INDEXED_ASSIGNMENT);
    }
}

#[test]
fn constructs_without_a_rewrite_are_refused_with_what_to_do() {
    let cases = [
        ("import 'nodes.pp'\n", legacy::IMPORT),
        ("node 'a' inherits base { }\n", legacy::NODE_INHERITANCE),
        ("class a-b { }\n", legacy::NAME_WITH_DASH),
        ("$a = 1\n$a = 2\nnotice($a)\n", legacy::REASSIGNMENT),
    ];
    for (source, code) in cases {
        let out = to_puppet7(source);
        assert_eq!(out.text, source);
        let refused: Vec<&str> = out.refused.iter().map(|r| r.code).collect();
        assert_eq!(refused, [code], "{source}");
        assert!(!out.refused[0].advice.is_empty());
    }
}

#[test]
fn text_that_does_not_parse_is_left_as_it_is() {
    let out = to_puppet7("file { 'a':\n");
    assert_eq!(out.text, "file { 'a':\n");
    assert!(out.changes.is_empty() && out.refused.is_empty());
}

#[test]
fn puppet7_names() {
    assert_eq!(puppet7_variable_name("listenPort"), None);
    assert_eq!(
        puppet7_variable_name("app-port").as_deref(),
        Some("app_port")
    );
    assert_eq!(
        puppet7_variable_name("::BindAddress").as_deref(),
        Some("::bind_address")
    );
    assert_eq!(puppet7_variable_name("Ab-Cd").as_deref(), Some("ab_cd"));
}

#[test]
fn the_text_check_sees_names_puppet7_refuses_in_code_and_strings() {
    for source in [
        "$my-var = 1",
        "notice(\"${ Foo }\")",
        "notice($::Foo::bar)",
        "notice(\"a $Port b\")",
    ] {
        assert!(may_name_renamed_variables(source), "{source}");
    }
    for source in ["$foo_bar = 1", "notice(\"${listenPort}\")", "$ = 1", "$"] {
        assert!(!may_name_renamed_variables(source), "{source}");
    }
}

proptest! {
    /// The text check may say yes for nothing, never no for a variable
    /// the rename would change: a file it passes over keeps a name Puppet
    /// 7 refuses.
    #[test]
    fn the_text_check_never_misses_a_variable_the_rename_changes(
        name in "(::)?[a-zA-Z][a-zA-Z0-9_-]{0,5}(::[a-zA-Z][a-zA-Z0-9_-]{0,4})?",
        template in 0usize..5,
    ) {
        let source = [
            format!("${name} = 1\n"),
            format!("notice(\"${{{name}}}\")\n"),
            format!("notice(\"${{ {name} }}\")\n"),
            format!("notice(\"a ${name} b\")\n"),
            format!("notice(${name})\n"),
        ][template]
            .clone();
        let parsed = crate::parse_legacy_recovering(&source);
        let mut uses = BTreeMap::new();
        let mut parameters = HashSet::new();
        collect_variables(Node::Expr(&parsed.program.body), &mut uses, &mut parameters);
        if uses.keys().any(|used| puppet7_variable_name(used).is_some()) {
            prop_assert!(may_name_renamed_variables(&source), "{source}");
        }
    }
}
