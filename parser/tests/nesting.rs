//! Deep nesting ends in a clear error, never in a stack overflow, even on a
//! small (2 MiB, the default for spawned threads) stack in a debug build.

use granule_parser::parse;

fn parse_on_small_stack(source: String) -> Result<(), String> {
    std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(move || parse(&source).map(|_| ()).map_err(|e| e.message))
        .expect("spawn")
        .join()
        .expect("parser thread must not crash")
}

fn nested(open: &str, middle: &str, close: &str, depth: usize) -> String {
    format!(
        "$x = {}{}{}",
        open.repeat(depth),
        middle,
        close.repeat(depth)
    )
}

const SHAPES: &[(&str, &str, &str)] = &[
    ("[", "1", "]"),
    ("(", "1", ")"),
    ("{a => ", "1", "}"),
    ("!", "1", ""),
    ("-", "1", ""),
    ("$a = ", "1", ""),
    ("foo(", "1", ")"),
    ("$h[", "1", "]"),
    ("\"${", "1", "}\""),
    ("if $a { ", "1", " }"),
    ("$a.each |$x| { ", "1", " }"),
    ("[1 ? { 1 => ", "1", " }]"),
    ("$a ? { 1 => ", "1", " }.b"),
];

#[test]
fn ten_thousand_levels_give_a_clear_error() {
    for (open, middle, close) in SHAPES {
        let result = parse_on_small_stack(nested(open, middle, close, 10_000));
        let message = result.expect_err(&format!("{open}...{close} 10,000 deep must be refused"));
        assert!(
            message.contains("nested"),
            "{open}...{close}: unexpected message: {message}"
        );
    }
}

#[test]
fn nesting_real_code_uses_is_accepted() {
    for (open, middle, close) in SHAPES {
        let source = nested(open, middle, close, 90);
        assert_eq!(
            parse_on_small_stack(source),
            Ok(()),
            "{open}...{close} 90 deep must parse"
        );
    }
}
