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
        let index = LineIndex::new(source);
        let start = self.span.start as usize;
        let (line, column) = index.line_col(source, start);
        let mut out = format!("{path}:{line}:{column}: error: {}\n", self.message);
        let text = index.line_text(source, line);
        let gutter = line.to_string();
        let pad = " ".repeat(gutter.len());
        let _ = writeln!(out, "{pad} |");
        let _ = writeln!(out, "{gutter} | {}", text.replace('\t', " "));
        let line_chars = text.chars().count();
        let end_column = if self.span.end as usize > start {
            index.line_col(source, self.span.end as usize).1
        } else {
            column + 1
        };
        let width = if index.line(self.span.end as usize) == line {
            end_column.saturating_sub(column).max(1)
        } else {
            (line_chars + 1).saturating_sub(column).max(1)
        };
        let _ = writeln!(
            out,
            "{pad} | {}{}",
            " ".repeat(column - 1),
            "^".repeat(width)
        );
        out
    }
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
