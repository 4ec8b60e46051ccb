//! Heredocs that declare a syntax (`@(END:json)`): Puppet checks their static
//! text with the checker registered for that syntax (json, base64, pp, epp)
//! and, on the first failure, raises at once: nothing after it is validated.

use super::Checker;
use crate::ast::{Expr, ExprKind};
use crate::diagnostics::Severity;
use crate::span::LineIndex;

impl Checker<'_> {
    pub(super) fn check_heredoc(&mut self, syntax: &str, text: &Expr) {
        // Interpolated text is checked by Puppet's evaluator, not here.
        let ExprKind::String(value) = &text.kind else {
            return;
        };
        let Some((name, check)) = checker_for(syntax) else {
            return;
        };
        if let Some(problem) = check(value) {
            let code = match name {
                "json" => "ILLEGAL_JSON",
                "base64" => "ILLEGAL_BASE64",
                "pp" => "ILLEGAL_PP",
                _ => "ILLEGAL_EPP",
            };
            self.error(
                text,
                code,
                format!("Invalid produced text having syntax: '{syntax}'. {problem}"),
            );
            self.stopped = true;
        }
    }
}

type SyntaxCheck = fn(&str) -> Option<String>;

/// Puppet tries `a+b+json`, then `b+json`, then `json`.
fn checker_for(syntax: &str) -> Option<(&'static str, SyntaxCheck)> {
    let mut rest = syntax;
    loop {
        let found: Option<(&'static str, SyntaxCheck)> = match rest {
            "json" => Some(("json", check_json)),
            "base64" => Some(("base64", check_base64)),
            "pp" => Some(("pp", check_pp)),
            "epp" => Some(("epp", check_epp)),
            _ => None,
        };
        if found.is_some() {
            return found;
        }
        rest = rest.split_once('+')?.1;
    }
}

fn check_json(text: &str) -> Option<String> {
    serde_json::from_str::<serde_json::Value>(text)
        .err()
        .map(|e| format!("JSON syntax checker: Cannot parse invalid JSON string. \"{e}\""))
}

/// Ruby's `Base64.strict_decode64` after removing line breaks, blanks and
/// `?` (Puppet's character class `[\r?\n[:blank:]]`).
fn check_base64(text: &str) -> Option<String> {
    let cleaned: Vec<u8> = text
        .bytes()
        .filter(|b| !matches!(b, b'\r' | b'?' | b'\n' | b' ' | b'\t'))
        .collect();
    let data = cleaned
        .strip_suffix(b"==")
        .or_else(|| cleaned.strip_suffix(b"="))
        .unwrap_or(&cleaned);
    let valid = cleaned.len() % 4 == 0
        && data
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/');
    if valid {
        return None;
    }
    Some(if (cleaned.len() * 8) % 6 != 0 {
        "Base64 syntax checker: Cannot parse invalid Base64 string - padding is not correct".into()
    } else {
        "Base64 syntax checker: Cannot parse invalid Base64 string - contains letters outside \
         strict base 64 range (or whitespace)"
            .into()
    })
}

fn check_pp(text: &str) -> Option<String> {
    first_error(text, crate::parse(text)).map(|e| format!("PP syntax checker: \"{e}\""))
}

fn check_epp(text: &str) -> Option<String> {
    first_error(text, crate::parse_epp(text)).map(|e| format!("EPP syntax checker: \"{e}\""))
}

/// The first syntax or validation error of `text`, as Puppet's parser
/// raises it: `MESSAGE (line: L, column: C)`.
fn first_error(
    text: &str,
    parsed: Result<crate::ast::Program, crate::diagnostics::SyntaxError>,
) -> Option<String> {
    let (message, offset) = match parsed {
        Err(error) => (error.message, error.span.start),
        Ok(program) => {
            let error = super::validate(&program, text)
                .into_iter()
                .find(|d| d.severity == Severity::Error)?;
            (error.message, error.span.start)
        }
    };
    let (line, column) = LineIndex::new(text).line_col(text, offset as usize);
    Some(format!("{message} (line: {line}, column: {column})"))
}
