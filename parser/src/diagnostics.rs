//! Syntax errors and their rendering with the source line and a caret.

use crate::span::{LineIndex, Span};
use std::fmt::Write;

/// A syntax error: what is wrong and where (a byte span into the source).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub message: String,
    pub span: Span,
}

impl SyntaxError {
    pub fn new(message: impl Into<String>, span: Span) -> SyntaxError {
        SyntaxError {
            message: message.into(),
            span,
        }
    }

    /// 1-based line and character column where the error starts.
    pub fn line_col(&self, source: &str) -> (usize, usize) {
        LineIndex::new(source).line_col(source, self.span.start as usize)
    }

    /// `PATH:LINE:COL: error: MESSAGE`, then the source line and a caret under
    /// the span (on the first line of the span only).
    pub fn render(&self, path: &str, source: &str) -> String {
        self.to_diagnostic().render(path, source)
    }

    /// The error as a diagnostic with code `syntax`.
    pub fn to_diagnostic(&self) -> Diagnostic {
        Diagnostic::new(Severity::Error, SYNTAX_ERROR_CODE, &self.message, self.span)
    }
}

/// The code of syntax errors in JSON output and summaries.
pub const SYNTAX_ERROR_CODE: &str = "syntax";

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// One finding about a source file: a syntax error, a Puppet validation issue
/// (code = Puppet's issue code, e.g. `DUPLICATE_PARAMETER`) or a legacy
/// construct (code `legacy/...`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub code: String,
    pub message: String,
    pub span: Span,
}

impl Diagnostic {
    pub fn new(
        severity: Severity,
        code: impl Into<String>,
        message: impl Into<String>,
        span: Span,
    ) -> Diagnostic {
        Diagnostic {
            severity,
            code: code.into(),
            message: message.into(),
            span,
        }
    }

    /// `PATH:LINE:COL: SEVERITY[CODE]: MESSAGE` (no code for syntax errors),
    /// then the source line and a caret under the span (on the first line of
    /// the span only).
    pub fn render(&self, path: &str, source: &str) -> String {
        let index = LineIndex::new(source);
        let start = self.span.start as usize;
        let (line, column) = index.line_col(source, start);
        let severity = self.severity.as_str();
        let mut out = if self.code == SYNTAX_ERROR_CODE {
            format!("{path}:{line}:{column}: {severity}: {}\n", self.message)
        } else {
            format!(
                "{path}:{line}:{column}: {severity}[{}]: {}\n",
                self.code, self.message
            )
        };
        let text = index.line_text(source, line).replace('\t', " ");
        let gutter = line.to_string();
        let pad = " ".repeat(gutter.len());
        let end_column =
            if index.line(self.span.end as usize) == line && self.span.end as usize > start {
                index.line_col(source, self.span.end as usize).1
            } else {
                text.chars().count() + 1
            };
        let width = end_column.saturating_sub(column).max(1);
        let (shown, caret_column, width) = window(&text, column, width);
        let _ = writeln!(out, "{pad} |");
        let _ = writeln!(out, "{gutter} | {shown}");
        let _ = writeln!(
            out,
            "{pad} | {}{}",
            " ".repeat(caret_column - 1),
            "^".repeat(width)
        );
        out
    }
}

/// Characters of a source line shown around the error at most; longer lines
/// (minified or generated code) are cut with `...` around a window.
const MAX_SHOWN: usize = 120;

/// The part of `text` to show so that `column` (1-based) is visible, the
/// caret's column in what is shown, and the caret's width.
fn window(text: &str, column: usize, width: usize) -> (String, usize, usize) {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= MAX_SHOWN {
        return (
            text.to_string(),
            column,
            width.min(chars.len() + 1 - column.min(chars.len())).max(1),
        );
    }
    let first = column.saturating_sub(MAX_SHOWN / 2).max(1);
    let last = (first + MAX_SHOWN - 1).min(chars.len());
    let mut shown = String::new();
    let mut caret = column - first + 1;
    if first > 1 {
        shown.push_str("...");
        caret += 3;
    }
    shown.extend(&chars[first - 1..last]);
    if last < chars.len() {
        shown.push_str("...");
    }
    let width = width.min(last + 1 - column.min(last)).max(1);
    (shown, caret, width)
}

impl std::fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SyntaxError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_are_shown_around_the_error() {
        let src = format!("$x = [{}1 1]\n", "1, ".repeat(200));
        let at = src.find("1 1").unwrap() + 2;
        let err = SyntaxError::new("Syntax error at '1'", Span::new(at, at + 1));
        let text = err.render("x.pp", &src);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[2].len() < 140, "{}", lines[2]);
        let caret = lines[3].find('^').unwrap();
        assert_eq!(&lines[2][caret..caret + 1], "1");
        assert_eq!(&lines[2][caret - 1..caret], " ");
    }

    #[test]
    fn renders_path_line_column_and_caret() {
        let src = "$a = 1\n$b = = 2\n";
        let err = SyntaxError::new("Syntax error at '='", Span::new(12, 13));
        let text = err.render("x.pp", src);
        assert_eq!(
            text,
            "x.pp:2:6: error: Syntax error at '='\n  |\n2 | $b = = 2\n  |      ^\n"
        );
    }
}
