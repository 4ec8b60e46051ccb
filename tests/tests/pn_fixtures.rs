//! PN parity on our own fixtures (fixtures/parser/): one file per construct
//! of the language, including the rare ones the corpus lacks, one test each.
//! Files under fixtures/parser/errors/ are ones Puppet rejects: granule must
//! reject them too.

use granule_tests::oracle::{self, Dumps};
use granule_tests::parity::{compare, Verdict};
use granule_tests::{corpus, reference_missing};
use std::collections::BTreeSet;
use std::sync::OnceLock;

/// Puppet's dumps of every fixture, computed once for all the tests here.
fn fixture_dumps() -> &'static Result<Dumps, String> {
    static DUMPS: OnceLock<Result<Dumps, String>> = OnceLock::new();
    DUMPS.get_or_init(|| {
        let files = corpus::manifests_under(&corpus::parser_fixture_dir())?;
        oracle::dumps(&files)
    })
}

/// Compares granule with Puppet on `fixtures/parser/<relative>`.
fn check_fixture(relative: &str) {
    let test = format!("pn_fixtures {relative}");
    let dumps = match fixture_dumps() {
        Ok(dumps) => dumps,
        Err(what) => return reference_missing(&test, what),
    };
    let path = corpus::parser_fixture_dir().join(relative);
    let dump = dumps.get(&path);
    // The fixture must mean what its place says, whatever granule does.
    let expect_rejection = relative.starts_with("errors/");
    assert_eq!(
        dump.error.is_some(),
        expect_rejection,
        "fixture {relative}: Puppet {} it ({:?}); files under errors/ must be ones Puppet rejects, \
         and only those",
        if dump.error.is_some() { "rejects" } else { "parses" },
        dump.error.as_ref().map(|e| &e.message),
    );
    let source = corpus::read_manifest(&path);
    let comparison = compare(&path, &source, dump);
    println!("{relative}: {:?} {}", comparison.verdict, comparison.detail);
    // Fixtures are held to more than the corpus: a tree to compare (Puppet's
    // transformer must not crash on them) and an error on Puppet's line.
    assert!(
        matches!(
            comparison.verdict,
            Verdict::Identical
                | Verdict::BothReject {
                    same_line: Some(true) | None
                }
        ),
        "{}: {:?}: {}",
        path.display(),
        comparison.verdict,
        comparison.detail
    );
}

/// One `#[test]` per fixture, and the list of them (checked against the
/// directory so that no fixture goes untested).
macro_rules! fixture_tests {
    ($dir:literal: $($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                crate::check_fixture(&format!("{}{}.pp", $dir, stringify!($name)));
            }
        )*
        pub const LISTED: &[&str] = &[$(concat!($dir, stringify!($name), ".pp")),*];
    };
}

mod constructs {
    fixture_tests! { "":
        access,
        arrays,
        assignments,
        case,
        class_nested,
        class_resource_form,
        class_typed_params,
        collector_exported,
        collector_virtual,
        comments,
        define_typed_params,
        dq_escapes,
        dq_interpolation,
        empty,
        function_calls_parens,
        function_calls_statements,
        function_return_break_next,
        functions_puppet,
        hashes,
        heredoc_basic,
        heredoc_escapes,
        heredoc_interpolation,
        heredoc_margin_trim,
        heredoc_syntax_tags,
        if_elsif_else,
        lambdas,
        lex_bracket_after_whitespace,
        lex_keywords_as_names,
        lex_number_then_method,
        lex_paren_at_line_start,
        lex_regex_vs_division,
        lex_type_space_bracket,
        literals_misc,
        method_calls,
        node_matches,
        numbers,
        numbers_edge_cases,
        only_comments,
        operators_arithmetic,
        operators_comparison,
        operators_in,
        operators_logical,
        operators_match,
        operators_precedence,
        operators_unary,
        parameters_captures_rest,
        postfix_after_primaries,
        qualified_names,
        regexes,
        regexes_encoding,
        relationships,
        resource_defaults,
        resource_exported,
        resource_overrides,
        resource_plus_arrow,
        resource_several_bodies,
        resource_splat_attributes,
        resource_titles_and_types,
        resource_virtual,
        selector_postfix,
        selectors,
        semicolons_and_blocks,
        sq_strings,
        type_aliases,
        type_definitions,
        type_mappings,
        types_parameterized,
        undef_default,
        unicode,
        unless_else,
        validation_only_problems,
    }
}

mod errors {
    fixture_tests! { "errors/":
        args_to_non_call,
        bad_hex,
        bad_octal,
        bad_unicode_escape,
        boolean_attribute_name,
        byte_order_mark,
        class_named_class,
        dangling_operator,
        define_quoted_name,
        double_equals,
        exponent_with_plus_sign,
        hash_missing_comma,
        heredoc_bad_flag,
        keyword_class_as_hash_key,
        keyword_class_in_access,
        keyword_function_in_access,
        keyword_type_in_access,
        lone_semicolon,
        method_call_on_resource,
        method_call_trailing_comma,
        number_with_underscore,
        semicolon_only_block,
        statement_call_with_hash,
        trailing_semicolon_in_block,
        type_space_bracket_in_attribute,
        type_space_bracket_override,
        unclosed_array,
        unclosed_brace,
        unclosed_interpolation,
        unless_elsif,
        unterminated_heredoc,
        unterminated_string,
        virtual_not_resource,
    }
}

#[test]
fn every_fixture_has_a_test() {
    let dir = corpus::parser_fixture_dir();
    let on_disk: BTreeSet<String> = corpus::manifests_under(&dir)
        .expect("fixtures/parser is readable")
        .iter()
        .map(|path| {
            path.strip_prefix(&dir)
                .expect("under the fixture dir")
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    let listed: BTreeSet<String> = constructs::LISTED
        .iter()
        .chain(errors::LISTED)
        .map(|name| name.to_string())
        .collect();
    let untested: Vec<&String> = on_disk.difference(&listed).collect();
    let missing: Vec<&String> = listed.difference(&on_disk).collect();
    assert!(
        untested.is_empty() && missing.is_empty(),
        "fixtures without a test: {untested:?}; tests without a fixture: {missing:?} \
         (edit the lists in tests/tests/pn_fixtures.rs)"
    );
}
