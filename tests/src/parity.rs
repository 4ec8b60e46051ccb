//! granule's parse of a file against Puppet's: the PN and JSON texts must be
//! byte-identical, and a file Puppet rejects must be rejected by granule too.

use crate::oracle::Dump;
use std::fmt::Write;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

/// How granule's parse of one file compares with Puppet's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Same PN and same JSON.
    Identical,
    /// Both reject the file; whether granule names the same line as Puppet
    /// (`None` when Puppet names no line, e.g. at the end of the input).
    BothReject { same_line: Option<bool> },
    /// The PN texts differ.
    PnDiffers,
    /// The PN texts are identical, the JSON texts are not.
    JsonDiffers,
    /// Both parse the file, but Puppet's PN transformer crashes on it, so
    /// there is no PN to compare with.
    NoPuppetPn,
    /// Puppet parses the file, granule reports a syntax error.
    GranuleRejects,
    /// Puppet reports a syntax error, granule parses the file.
    GranuleAccepts,
    /// granule panicked.
    Panicked,
}

impl Verdict {
    /// Whether this verdict is what the parity requires.
    pub fn is_parity(&self) -> bool {
        matches!(
            self,
            Verdict::Identical | Verdict::BothReject { .. } | Verdict::NoPuppetPn
        )
    }
}

/// The comparison of one file: the verdict and a message for people.
#[derive(Debug, Clone)]
pub struct Comparison {
    pub path: PathBuf,
    pub verdict: Verdict,
    /// What differs and where, or (for [`Verdict::BothReject`]) both errors.
    pub detail: String,
}

/// Parses `source` with granule (as an EPP template when `path` ends in
/// `.epp`, as `granule parse` does) and compares the result with Puppet's
/// `dump`.
pub fn compare(path: &Path, source: &str, dump: &Dump) -> Comparison {
    let display = path.display().to_string();
    let is_template = path.extension().is_some_and(|ext| ext == "epp");
    let parsed = catch_unwind(AssertUnwindSafe(|| {
        let program = if is_template {
            granule_parser::parse_epp(source)
        } else {
            granule_parser::parse(source)
        };
        program.map(|program| {
            (
                granule_parser::pn::to_pn(&program),
                granule_parser::pn::to_json(&program),
            )
        })
    }));
    let (verdict, detail) = match (parsed, dump) {
        (Err(payload), _) => (
            Verdict::Panicked,
            format!("granule panicked: {}", panic_message(payload.as_ref())),
        ),
        (
            Ok(Ok((pn, json))),
            Dump {
                pn: Some(expected_pn),
                json: Some(expected_json),
                ..
            },
        ) => {
            if let Some(difference) = first_difference(expected_pn, &pn) {
                (Verdict::PnDiffers, format!("PN {difference}"))
            } else if let Some(difference) = first_difference(expected_json, &json) {
                (Verdict::JsonDiffers, format!("JSON {difference}"))
            } else {
                (Verdict::Identical, String::new())
            }
        }
        (Ok(Err(error)), Dump { error: None, .. }) => {
            let (line, column) = error.line_col(source);
            (
                Verdict::GranuleRejects,
                format!(
                    "granule rejects what Puppet parses, at {line}:{column}: {}\n{}",
                    error.message,
                    indent(&error.render(&display, source))
                ),
            )
        }
        (
            Ok(Ok(_)),
            Dump {
                error: Some(puppet),
                ..
            },
        ) => (
            Verdict::GranuleAccepts,
            format!(
                "granule parses this file, Puppet reports: {}",
                puppet.message
            ),
        ),
        (
            Ok(Err(error)),
            Dump {
                error: Some(puppet),
                ..
            },
        ) => {
            let (line, column) = error.line_col(source);
            let same_line = puppet.line.map(|puppet_line| puppet_line == line);
            (
                Verdict::BothReject { same_line },
                format!(
                    "both reject it; Puppet: {} | granule: {line}:{column}: {}",
                    puppet.message, error.message
                ),
            )
        }
        (
            Ok(Ok(_)),
            Dump {
                transform_error: Some(crash),
                ..
            },
        ) => (
            Verdict::NoPuppetPn,
            format!("both parse it; Puppet's PN transformer crashes ({crash}), nothing to compare"),
        ),
        (Ok(Ok(_)), Dump { .. }) => {
            panic!("{display}: the oracle record has neither a dump nor an error")
        }
    };
    Comparison {
        path: path.to_path_buf(),
        verdict,
        detail,
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_string()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "(a panic without a message)".to_string()
    }
}

fn indent(text: &str) -> String {
    text.lines().map(|line| format!("    {line}\n")).collect()
}

/// Characters of context shown on each side of a difference.
const CONTEXT: usize = 30;

/// `None` when `expected == actual`; otherwise where they first differ, with
/// about 60 characters of context from each and a caret under the difference.
pub fn first_difference(expected: &str, actual: &str) -> Option<String> {
    difference_between(("Puppet", expected), ("granule", actual))
}

/// [`first_difference`] with other names than Puppet and granule for the two
/// sides: `(name, text)` of the expected text, then of the actual one.
pub fn difference_between(
    (expected_name, expected): (&str, &str),
    (actual_name, actual): (&str, &str),
) -> Option<String> {
    if expected == actual {
        return None;
    }
    let at = expected
        .bytes()
        .zip(actual.bytes())
        .position(|(a, b)| a != b)
        .unwrap_or(expected.len().min(actual.len()));
    // Back up to a character boundary of both texts; their prefixes are equal.
    let mut at = at;
    while !expected.is_char_boundary(at) || !actual.is_char_boundary(at) {
        at -= 1;
    }
    let start = expected[..at]
        .char_indices()
        .rev()
        .nth(CONTEXT - 1)
        .map_or(0, |(index, _)| index);
    let before = visible(&expected[start..at]);
    let after = |text: &str| {
        let tail: String = text[at..].chars().take(CONTEXT).collect();
        let ellipsis = if text[at..].chars().count() > CONTEXT {
            "…"
        } else {
            ""
        };
        format!("{}{ellipsis}", visible(&tail))
    };
    let lead = if start > 0 { "…" } else { "" };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "differs at byte {at} (character {}) of {} ({expected_name}) / {} ({actual_name}) bytes:",
        expected[..at].chars().count(),
        expected.len(),
        actual.len()
    );
    let width = expected_name.len().max(actual_name.len()) + 1;
    for (name, text) in [(expected_name, expected), (actual_name, actual)] {
        let end = if at == text.len() { "<end>" } else { "" };
        let label = format!("{name}:");
        let _ = writeln!(out, "    {label:width$} {lead}{before}{}{end}", after(text));
    }
    let _ = write!(
        out,
        "    {} {}^",
        " ".repeat(width),
        " ".repeat(lead.chars().count() + before.chars().count())
    );
    Some(out)
}

/// The text with control characters escaped, so that it stays on one line.
fn visible(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\n' => "\\n".to_string(),
            '\t' => "\\t".to_string(),
            '\r' => "\\r".to_string(),
            c if c.is_control() => c.escape_unicode().to_string(),
            c => c.to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_texts_have_no_difference() {
        assert_eq!(first_difference("(block 1)", "(block 1)"), None);
    }

    #[test]
    fn difference_shows_both_sides_and_a_caret() {
        let text = first_difference("(block (var \"a\"))", "(block (var \"b\"))").unwrap();
        assert_eq!(
            text,
            "differs at byte 13 (character 13) of 17 (Puppet) / 17 (granule) bytes:\n    \
             Puppet:  (block (var \"a\"))\n    \
             granule: (block (var \"b\"))\n    \
             \u{20}        \u{20}            ^"
        );
    }

    #[test]
    fn a_truncated_side_is_marked_as_ended() {
        let text = first_difference("(block 1 2)", "(block 1").unwrap();
        assert!(text.contains("granule: (block 1<end>"), "{text}");
        assert!(text.contains("Puppet:  (block 1 2)"), "{text}");
    }

    #[test]
    fn long_texts_are_cut_to_the_context() {
        let expected = format!("{}X{}", "a".repeat(100), "b".repeat(100));
        let actual = format!("{}Y{}", "a".repeat(100), "b".repeat(100));
        let text = first_difference(&expected, &actual).unwrap();
        assert!(
            text.starts_with("differs at byte 100 (character 100)"),
            "{text}"
        );
        let expected_line = format!("Puppet:  …{}X{}…", "a".repeat(30), "b".repeat(29));
        assert!(text.contains(&expected_line), "{text}");
    }

    #[test]
    fn multibyte_characters_are_not_split() {
        let text = first_difference("\"é\"", "\"è\"").unwrap();
        assert!(
            text.starts_with("differs at byte 1 (character 1)"),
            "{text}"
        );
    }
}
