//! Reading a file's bytes as Puppet source text, which must be UTF-8.

use crate::diagnostics::SyntaxError;
use crate::span::Span;

/// Source bytes that are not UTF-8: where the first invalid sequence is, as
/// a syntax error to render with [`NotUtf8::render`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotUtf8 {
    /// The error, its span on the first invalid sequence of `lossy`.
    pub error: SyntaxError,
    /// The source with each invalid sequence replaced by U+FFFD. The bytes
    /// before the first one are the file's own, so the error's offset, line
    /// and column are the same in both.
    pub lossy: String,
}

impl NotUtf8 {
    /// 1-based line and character column of the first invalid byte.
    pub fn line_col(&self) -> (usize, usize) {
        self.error.line_col(&self.lossy)
    }

    /// `PATH:LINE:COL: error: ...` with the line and a caret under the
    /// invalid byte (shown as U+FFFD).
    pub fn render(&self, path: &str) -> String {
        self.error.render(path, &self.lossy)
    }
}

/// `bytes` as text, or where they stop being UTF-8 (Puppet reads every
/// manifest and template as UTF-8 and refuses other bytes).
pub fn decode(bytes: Vec<u8>) -> Result<String, NotUtf8> {
    let invalid = match String::from_utf8(bytes) {
        Ok(text) => return Ok(text),
        Err(invalid) => invalid,
    };
    let utf8_error = invalid.utf8_error();
    let at = utf8_error.valid_up_to();
    let bytes = invalid.as_bytes();
    // Absent at the end of the file: a character cut short.
    let length = utf8_error.error_len().unwrap_or(bytes.len() - at);
    let shown: Vec<String> = bytes[at..at + length]
        .iter()
        .map(|byte| format!("0x{byte:02X}"))
        .collect();
    let message = format!(
        "not UTF-8 text at {} {}: Puppet reads source files as UTF-8; convert this one \
         (for example with `iconv -f LATIN1 -t UTF-8`)",
        if length == 1 { "byte" } else { "bytes" },
        shown.join(" "),
    );
    let replacement = char::REPLACEMENT_CHARACTER.len_utf8();
    Err(NotUtf8 {
        error: SyntaxError::new(message, Span::new(at, at + replacement)),
        lossy: String::from_utf8_lossy(bytes).into_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_is_the_text_itself() {
        assert_eq!(decode("$a = 'é'\n".into()), Ok("$a = 'é'\n".to_string()));
    }

    #[test]
    fn the_first_invalid_byte_has_a_line_and_a_character_column() {
        let not_utf8 = decode(b"$a = 1\n$b = '\xc3\xa9\xe9'\n".to_vec()).unwrap_err();
        // 'é' before it is one character: column 8, not byte 9.
        assert_eq!(not_utf8.line_col(), (2, 8));
        let rendered = not_utf8.render("x.pp");
        assert!(
            rendered.starts_with("x.pp:2:8: error: not UTF-8 text at byte 0xE9: "),
            "{rendered}"
        );
        assert!(
            rendered.ends_with("2 | $b = 'é\u{fffd}'\n  |        ^\n"),
            "{rendered}"
        );
    }

    #[test]
    fn a_character_cut_short_at_the_end_is_reported_whole() {
        let not_utf8 = decode(b"$a = 1 #\xe2\x98".to_vec()).unwrap_err();
        assert_eq!(not_utf8.line_col(), (1, 9));
        assert!(not_utf8.error.message.contains("at bytes 0xE2 0x98: "));
    }
}
