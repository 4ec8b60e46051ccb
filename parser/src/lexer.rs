//! Tokens of the Puppet language, lexed with the same context rules as
//! Puppet's `lexer2.rb`:
//!
//! * `/` starts a regex only where an operand may start (after an operator,
//!   `{`, `(`, ...), otherwise it divides;
//! * `[` after white space (or at the start) is `ListStart`, so `Foo ['x']` is
//!   a reference followed by an array, not an access;
//! * `(` first on its line is `WsLParen`, so it does not call the expression
//!   on the previous line;
//! * `{` right after `?` is `SelBrace` (a selector body);
//! * double-quoted strings and heredocs are split into `DqPre`, interpolated
//!   tokens, `DqMid`..., `DqPost`; a lone name in `${name}` becomes a variable;
//! * a heredoc's text is lexed where it stands (the lines after the `@(TAG)`
//!   line) and lexing resumes after the `@(TAG)` on its line, then jumps over
//!   the text at the next newline.
//!
//! The whole source is lexed up front: Puppet's lexer never depends on the
//! parser's state, only on the previous token.

use crate::ast::{Comment, CommentStyle};
use crate::diagnostics::{Diagnostic, SyntaxError};
use crate::parser::{Attempt, Limits, MAX_INTERPOLATION};
use crate::span::Span;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tok {
    LBrack,
    ListStart,
    RBrack,
    LBrace,
    SelBrace,
    RBrace,
    LParen,
    WsLParen,
    RParen,
    Equals,
    Appends,
    Deletes,
    IsEqual,
    NotEqual,
    Match,
    NoMatch,
    GreaterEqual,
    GreaterThan,
    LessEqual,
    LessThan,
    FArrow,
    PArrow,
    LShift,
    LLCollect,
    LCollect,
    RShift,
    RRCollect,
    RCollect,
    Plus,
    Minus,
    Div,
    Times,
    Modulo,
    Not,
    Dot,
    Pipe,
    At,
    AtAt,
    Colon,
    Comma,
    Semic,
    QMark,
    Tilde,
    InEdge,
    InEdgeSub,
    OutEdge,
    OutEdgeSub,
    /// A string without interpolation; `value` holds its text.
    String,
    /// A bare word that is not a valid name (`foo-bar`, `_x`).
    Word,
    DqPre,
    DqMid,
    DqPost,
    Number,
    /// `$name`; `value` is the name without `$`.
    Variable,
    /// `@(TAG:syntax/escapes)`; `value` is the syntax.
    Heredoc,
    Regex,
    Name,
    ClassRef,
    Case,
    Class,
    Default,
    Define,
    If,
    Elsif,
    Else,
    Inherits,
    Node,
    And,
    Or,
    Undef,
    True,
    False,
    In,
    Unless,
    Function,
    Type,
    Attr,
    Private,
    /// Start of an EPP template (its parameters may follow).
    EppStart,
    /// Literal text of an EPP template.
    RenderString,
    /// `<%=`.
    RenderExpr,
    /// `%>`.
    EppEnd,
    /// `-%>`.
    EppEndTrim,
    /// A character that starts no token.
    Other,
    Eof,
}

impl Tok {
    pub fn is_keyword(self) -> bool {
        matches!(
            self,
            Tok::Case
                | Tok::Class
                | Tok::Default
                | Tok::Define
                | Tok::If
                | Tok::Elsif
                | Tok::Else
                | Tok::Inherits
                | Tok::Node
                | Tok::And
                | Tok::Or
                | Tok::Undef
                | Tok::True
                | Tok::False
                | Tok::In
                | Tok::Unless
                | Tok::Function
                | Tok::Type
                | Tok::Attr
                | Tok::Private
        )
    }

    /// The fixed text of punctuation and keyword tokens.
    pub fn fixed_text(self) -> Option<&'static str> {
        use Tok::*;
        Some(match self {
            LBrack | ListStart => "[",
            RBrack => "]",
            LBrace | SelBrace => "{",
            RBrace => "}",
            LParen | WsLParen => "(",
            RParen => ")",
            Equals => "=",
            Appends => "+=",
            Deletes => "-=",
            IsEqual => "==",
            NotEqual => "!=",
            Match => "=~",
            NoMatch => "!~",
            GreaterEqual => ">=",
            GreaterThan => ">",
            LessEqual => "<=",
            LessThan => "<",
            FArrow => "=>",
            PArrow => "+>",
            LShift => "<<",
            LLCollect => "<<|",
            LCollect => "<|",
            RShift => ">>",
            RRCollect => "|>>",
            RCollect => "|>",
            Plus => "+",
            Minus => "-",
            Div => "/",
            Times => "*",
            Modulo => "%",
            Not => "!",
            Dot => ".",
            Pipe => "|",
            At => "@",
            AtAt => "@@",
            Colon => ":",
            Comma => ",",
            Semic => ";",
            QMark => "?",
            Tilde => "~",
            InEdge => "->",
            InEdgeSub => "~>",
            OutEdge => "<-",
            OutEdgeSub => "<~",
            Case => "case",
            Class => "class",
            Default => "default",
            Define => "define",
            If => "if",
            Elsif => "elsif",
            Else => "else",
            Inherits => "inherits",
            Node => "node",
            And => "and",
            Or => "or",
            Undef => "undef",
            True => "true",
            False => "false",
            In => "in",
            Unless => "unless",
            Function => "function",
            Type => "type",
            Attr => "attr",
            Private => "private",
            EppEnd => "%>",
            EppEndTrim => "-%>",
            _ => return None,
        })
    }
}

fn keyword(word: &str) -> Option<Tok> {
    Some(match word {
        "case" => Tok::Case,
        "class" => Tok::Class,
        "default" => Tok::Default,
        "define" => Tok::Define,
        "if" => Tok::If,
        "elsif" => Tok::Elsif,
        "else" => Tok::Else,
        "inherits" => Tok::Inherits,
        "node" => Tok::Node,
        "and" => Tok::And,
        "or" => Tok::Or,
        "undef" => Tok::Undef,
        "true" => Tok::True,
        "false" => Tok::False,
        "in" => Tok::In,
        "unless" => Tok::Unless,
        "function" => Tok::Function,
        "type" => Tok::Type,
        "attr" => Tok::Attr,
        "private" => Tok::Private,
        _ => return None,
    })
}

#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub kind: Tok,
    pub span: Span,
    text: Text,
}

/// Where a token's value is: most values are a slice of the source, so
/// lexing allocates only for text that escapes or heredoc margins changed.
#[derive(Debug, Clone, PartialEq)]
enum Text {
    /// The kind's fixed text (punctuation, keywords).
    Fixed,
    /// A byte range of the lexed source.
    Source(u32, u32),
    Owned(Box<str>),
}

impl Token {
    /// The token's value: names, numbers, string contents (escapes
    /// applied), regex source, heredoc syntax; the fixed text of punctuation
    /// and keywords. This is also the text Puppet shows in "Syntax error at
    /// '...'".
    pub fn text<'s>(&'s self, source: &'s str) -> &'s str {
        match &self.text {
            Text::Fixed => self.kind.fixed_text().unwrap_or(""),
            Text::Source(start, end) => &source[*start as usize..*end as usize],
            Text::Owned(text) => text,
        }
    }
}

/// The tokens of a source (ending with one `Eof`) and its comments.
#[derive(Debug)]
pub struct Lexed {
    pub tokens: Vec<Token>,
    pub comments: Vec<Comment>,
    /// Per heredoc, by the start of its `@(...)` token (ascending): the
    /// lines of its text and its end tag.
    pub heredoc_bodies: Vec<(u32, Span)>,
    /// The lexing error the tokens stop at, if any. Puppet lexes as its
    /// parser asks for tokens, so this error is Puppet's only when the
    /// parser gets that far without a syntax error of its own.
    pub deferred: Option<SyntaxError>,
    /// Puppet 3 token forms read with their Puppet 3 meaning.
    pub legacy: Vec<Diagnostic>,
}

/// Which escapes a string form honours and where its text stops.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Escapes {
    backslash: bool,
    dollar: bool,
    single_quote: bool,
    double_quote: bool,
    r: bool,
    n: bool,
    t: bool,
    s: bool,
    u: bool,
    newline: bool,
}

impl Escapes {
    const NONE: Escapes = Escapes {
        backslash: false,
        dollar: false,
        single_quote: false,
        double_quote: false,
        r: false,
        n: false,
        t: false,
        s: false,
        u: false,
        newline: false,
    };
    const DOUBLE_QUOTED: Escapes = Escapes {
        backslash: true,
        dollar: true,
        single_quote: true,
        double_quote: true,
        r: true,
        n: true,
        t: true,
        s: true,
        u: true,
        newline: true,
    };

    fn allows(&self, c: char) -> bool {
        match c {
            '\\' => self.backslash,
            '$' => self.dollar,
            '\'' => self.single_quote,
            '"' => self.double_quote,
            'r' => self.r,
            'n' => self.n,
            't' => self.t,
            's' => self.s,
            'u' => self.u,
            _ => false,
        }
    }
}

/// How the text of a string or heredoc ends.
#[derive(Clone, Copy, PartialEq, Eq)]
enum TextEnd {
    /// At an unescaped `"`.
    DoubleQuote,
    /// At the end of the text (heredocs).
    EndOfText,
}

/// Text of a string token being assembled from chunks: a plain source
/// range as long as nothing needed changing.
enum Pending {
    Empty,
    Source(usize, usize),
    Owned(String),
}

impl Pending {
    fn append(&mut self, src: &str, raw: std::ops::Range<usize>, escaped: Option<String>) {
        *self = match (std::mem::replace(self, Pending::Empty), escaped) {
            (Pending::Empty, None) => Pending::Source(raw.start, raw.end),
            (Pending::Source(start, end), None) if end == raw.start => {
                Pending::Source(start, raw.end)
            }
            (Pending::Empty, Some(text)) => Pending::Owned(text),
            (previous, escaped) => {
                let mut text = match previous {
                    Pending::Empty => String::new(),
                    Pending::Source(start, end) => src[start..end].to_string(),
                    Pending::Owned(text) => text,
                };
                text.push_str(escaped.as_deref().unwrap_or(&src[raw]));
                Pending::Owned(text)
            }
        };
    }

    fn take(&mut self) -> Text {
        match std::mem::replace(self, Pending::Empty) {
            Pending::Empty => Text::Owned("".into()),
            Pending::Source(start, end) => Text::Source(start as u32, end as u32),
            Pending::Owned(text) => Text::Owned(text.into()),
        }
    }
}

/// How an interpolating text chunk ended.
enum Terminator {
    Quote,
    End,
    /// `$` (a variable name may follow).
    Dollar,
    /// `${`.
    DollarBrace,
}

pub struct Lexer<'a> {
    src: &'a str,
    bytes: &'a [u8],
    pos: usize,
    /// Maps offsets of `src` to offsets of the file (heredoc text is lexed as
    /// a string of its own, with margins removed).
    offsets: OffsetMap,
    tokens: Vec<Token>,
    comments: Vec<Comment>,
    /// Each heredoc's `Lexed::heredoc_bodies` entry.
    heredoc_bodies: Vec<(u32, Span)>,
    /// Kind of the last token, for regex-vs-division and `{` after `?`.
    after: Option<Tok>,
    brace_count: i64,
    line_lexical_start: usize,
    /// Where to continue at the next newline: after the text of a heredoc
    /// that started on the current line.
    newline_jump: Option<usize>,
    /// Interpolation nesting (`"${"${...}"}"`), bounded by `limits`.
    depth: usize,
    limits: Limits,
    /// Whether lexing stopped at the interpolation limit.
    too_deep: bool,
    /// Set when Puppet 3 token forms are read with their Puppet 3 meaning:
    /// the findings about them.
    legacy: Option<Vec<Diagnostic>>,
    /// Whether the source is an EPP template (`%>` and `-%>` end its tags).
    epp: bool,
    /// The EPP tag lexing is in, `None` in template text.
    epp_tag: Option<EppTag>,
}

/// The kind of an open EPP tag.
#[derive(Clone, Copy, PartialEq, Eq)]
enum EppTag {
    /// `<%` or `<%-`: code whose value is not rendered.
    Code,
    /// `<%=`: an expression whose value is rendered.
    Expr,
}

/// Translation of sub-lexer offsets (heredoc text) to file offsets.
#[derive(Clone, Default)]
struct OffsetMap {
    /// (offset in the sub-source, file offset) for the start of each line;
    /// empty for the file itself.
    lines: Vec<(usize, usize)>,
}

impl OffsetMap {
    fn to_file(&self, offset: usize) -> usize {
        if self.lines.is_empty() {
            return offset;
        }
        let index = self
            .lines
            .partition_point(|&(start, _)| start <= offset)
            .saturating_sub(1);
        let (start, file_start) = self.lines[index];
        file_start + (offset - start)
    }
}

/// The tokens of a manifest as Puppet 7 reads it (ending with [`Tok::Eof`]),
/// or its first lexical error. Tokens of interpolated strings and heredocs
/// come where their string starts in the token order.
pub fn tokenize(source: &str) -> Result<Vec<Token>, SyntaxError> {
    let lexed = match lex(source, Limits::SHALLOW, false) {
        Err(Attempt::TooDeep) => lex(source, Limits::FULL, false),
        lexed => lexed,
    };
    let lexed = lexed.map_err(|attempt| match attempt {
        Attempt::Failed(error) => error,
        Attempt::TooDeep => unreachable!("full limits report their own error"),
    })?;
    match lexed.deferred {
        Some(error) => Err(error),
        None => Ok(lexed.tokens),
    }
}

/// Lexes a manifest; with `legacy`, Puppet 3 token forms are read with
/// their Puppet 3 meaning and reported in [`Lexed::legacy`].
pub(crate) fn lex(source: &str, limits: Limits, legacy: bool) -> Result<Lexed, Attempt> {
    lex_as(source, limits, false, legacy)
}

/// Lexes an EPP template: `EppStart`, then `RenderString` for text,
/// `RenderExpr` ... `EppEnd` around `<%= %>`, and the tokens of the code in
/// `<% %>` (whose tags make no tokens), as Puppet's `scan_epp` does.
pub(crate) fn lex_epp(source: &str, limits: Limits, legacy: bool) -> Result<Lexed, Attempt> {
    lex_as(source, limits, true, legacy)
}

fn lex_as(source: &str, limits: Limits, epp: bool, legacy: bool) -> Result<Lexed, Attempt> {
    let mut lexer = Lexer::new(source, OffsetMap::default(), limits);
    lexer.legacy = legacy.then(Vec::new);
    lexer.check_bom()?;
    let lexed = if epp { lexer.run_epp() } else { lexer.run() };
    let deferred = match lexed {
        Ok(()) => None,
        Err(_) if lexer.too_deep && limits.interpolation < Limits::FULL.interpolation => {
            return Err(Attempt::TooDeep)
        }
        Err(error) => Some(error),
    };
    let end = deferred
        .as_ref()
        .map_or(source.len(), |error| error.span.start as usize);
    lexer.tokens.push(Token {
        kind: Tok::Eof,
        span: Span::new(end, end),
        text: Text::Fixed,
    });
    // A heredoc in another's text is lexed with it, before later ones.
    lexer
        .heredoc_bodies
        .sort_unstable_by_key(|&(start, _)| start);
    Ok(Lexed {
        tokens: lexer.tokens,
        comments: lexer.comments,
        heredoc_bodies: lexer.heredoc_bodies,
        legacy: lexer.legacy.unwrap_or_default(),
        deferred,
    })
}

fn is_blank(c: char) -> bool {
    matches!(
        c,
        ' ' | '\t' | '\u{a0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200a}' | '\u{202f}' | '\u{205f}' | '\u{3000}'
    )
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

impl<'a> Lexer<'a> {
    fn new(src: &'a str, offsets: OffsetMap, limits: Limits) -> Lexer<'a> {
        Lexer {
            src,
            bytes: src.as_bytes(),
            pos: 0,
            offsets,
            tokens: Vec::with_capacity(src.len() / 4),
            comments: Vec::new(),
            heredoc_bodies: Vec::new(),
            after: None,
            brace_count: 0,
            line_lexical_start: 0,
            newline_jump: None,
            depth: 0,
            limits,
            too_deep: false,
            legacy: None,
            epp: false,
            epp_tag: None,
        }
    }

    fn check_bom(&self) -> Result<(), SyntaxError> {
        let boms: [(&[u8], &str); 5] = [
            (&[0xEF, 0xBB, 0xBF], "UTF-8"),
            (&[0xFE, 0xFF], "UTF-16"),
            (&[0xFF, 0xFE], "UTF-16"),
            (&[0x00, 0x00, 0xFE, 0xFF], "UTF-32"),
            (&[0xF7, 0x64, 0x4C], "UTF-1"),
        ];
        for (bom, name) in boms {
            if self.bytes.starts_with(bom) {
                return Err(SyntaxError::new(
                    format!("Illegal {name} Byte Order mark at beginning of input: remove it"),
                    Span::new(0, bom.len()),
                ));
            }
        }
        Ok(())
    }

    fn span(&self, start: usize, end: usize) -> Span {
        Span::new(self.offsets.to_file(start), self.offsets.to_file(end))
    }

    fn error<T>(
        &self,
        message: impl Into<String>,
        start: usize,
        end: usize,
    ) -> Result<T, SyntaxError> {
        Err(SyntaxError::new(message, self.span(start, end.max(start))))
    }

    /// "line L:C" of an offset of this lexer's source, for messages.
    fn describe_offset(&self, offset: usize) -> String {
        let file_offset = self.offsets.to_file(offset);
        if self.offsets.lines.is_empty() {
            let (line, column) =
                crate::span::LineIndex::new(self.src).line_col(self.src, file_offset);
            format!("line {line}:{column}")
        } else {
            format!("offset {file_offset}")
        }
    }

    fn peek_at(&self, offset: usize) -> u8 {
        self.bytes.get(self.pos + offset).copied().unwrap_or(0)
    }

    fn push(&mut self, kind: Tok, start: usize, end: usize, text: Text) {
        let span = self.span(start, end);
        self.tokens.push(Token { kind, span, text });
    }

    /// A token whose value is `text_start..text_end` of the source.
    fn push_source(
        &mut self,
        kind: Tok,
        start: usize,
        end: usize,
        text_start: usize,
        text_end: usize,
    ) {
        self.push(
            kind,
            start,
            end,
            Text::Source(text_start as u32, text_end as u32),
        );
    }

    fn push_owned(&mut self, kind: Tok, start: usize, end: usize, text: String) {
        self.push(kind, start, end, Text::Owned(text.into()));
    }

    /// Emits a fixed token of `len` bytes at the current position.
    fn fixed(&mut self, kind: Tok, len: usize) {
        let start = self.pos;
        self.pos += len;
        self.push(kind, start, self.pos, Text::Fixed);
    }

    /// Lexes to the end of the source. On an error, the tokens of the failed
    /// step are dropped: Puppet's lexer raises before handing them over.
    fn run(&mut self) -> Result<(), SyntaxError> {
        self.skip_blanks();
        while self.pos < self.bytes.len() {
            let before = self.tokens.len();
            if let Err(error) = self.lex_token() {
                self.tokens.truncate(before);
                return Err(error);
            }
            if self.tokens.len() > before {
                self.after = self.tokens.last().map(|t| t.kind);
            }
        }
        Ok(())
    }

    fn run_epp(&mut self) -> Result<(), SyntaxError> {
        self.epp = true;
        self.push(Tok::EppStart, 0, 0, Text::Fixed);
        if let Err(error) = self.epp_text(false) {
            self.tokens.clear();
            return Err(error);
        }
        self.after = self.tokens.last().map(|t| t.kind);
        self.run()?;
        if self.epp_tag.is_some() {
            let end = self.bytes.len();
            return self.error(
                "Unbalanced epp tag, reached <eof> without closing tag.",
                end,
                end,
            );
        }
        Ok(())
    }

    /// `%>` or (`trim`) `-%>` at the current position: the end of an EPP tag.
    fn epp_end(&mut self, trim: bool) -> Result<(), SyntaxError> {
        let start = self.pos;
        self.pos += if trim { 3 } else { 2 };
        if self.epp_tag == Some(EppTag::Expr) {
            let kind = if trim { Tok::EppEndTrim } else { Tok::EppEnd };
            self.push(kind, start, self.pos, Text::Fixed);
        }
        self.epp_text(trim)
    }

    /// Template text from the current position to the next tag that opens
    /// code, as Puppet's `EppScanner#scan` reads it (quirks included): `<%%`
    /// and `%%>` are a literal `<%` and `%>`, `<%# ... %>` is dropped, `<%-`
    /// trims blanks before it, and after `-%>` (`skip_leading`) blanks and
    /// one line break are dropped.
    fn epp_text(&mut self, mut skip_leading: bool) -> Result<(), SyntaxError> {
        let before = self.pos;
        let len = self.bytes.len();
        let mut text = String::new();
        while self.pos < len {
            let part_end = self.src[self.pos..]
                .find("<%")
                .map_or(len, |n| self.pos + n + 2);
            let mut part = &self.src[self.pos..part_end];
            self.pos = part_end;
            if std::mem::take(&mut skip_leading) {
                part = part.trim_start_matches([' ', '\t']);
                part = part.strip_prefix('\r').unwrap_or(part);
                part = part.strip_prefix('\n').unwrap_or(part);
            }
            text.push_str(&part.replace("%%>", "%>"));
            let tag = match self.bytes.get(self.pos) {
                None if text.ends_with("<%") => {
                    return self.error(
                        "Unbalanced embedded expression - opening <% and reaching end of input",
                        len,
                        len,
                    )
                }
                None => {
                    self.epp_tag = None;
                    self.push_owned(Tok::RenderString, before, self.pos, text);
                    return Ok(());
                }
                Some(b'%') => {
                    self.pos += 1;
                    continue;
                }
                Some(b'#') => {
                    text.truncate(text.len() - 2);
                    self.epp_comment(&mut text, &mut skip_leading)?;
                    continue;
                }
                Some(b'-') => {
                    self.pos += 1;
                    text.truncate(text.len() - 2);
                    text.truncate(text.trim_end_matches([' ', '\t']).len());
                    EppTag::Code
                }
                Some(b'=') => {
                    self.pos += 1;
                    text.truncate(text.len() - 2);
                    EppTag::Expr
                }
                Some(_) => {
                    text.truncate(text.len() - 2);
                    EppTag::Code
                }
            };
            if !text.is_empty() {
                self.push_owned(Tok::RenderString, before, self.pos, text);
            }
            if tag == EppTag::Expr {
                self.push(Tok::RenderExpr, before, before, Text::Fixed);
            }
            self.epp_tag = Some(tag);
            return Ok(());
        }
        // Puppet drops the text when it ends with `<%%` or a comment tag
        // (its scanner's loop then ends without returning the text).
        self.epp_tag = None;
        Ok(())
    }

    /// Skips `<%# ... %>` from its `#` to the first `%>` not preceded by `%`;
    /// `<%#-` trims blanks before the comment, `-%>` after it.
    fn epp_comment(
        &mut self,
        text: &mut String,
        skip_leading: &mut bool,
    ) -> Result<(), SyntaxError> {
        let hash = self.pos;
        let end = self.bytes[hash..]
            .windows(3)
            .position(|w| w[0] != b'%' && w[1] == b'%' && w[2] == b'>')
            .map(|n| hash + n + 3);
        let Some(end) = end else {
            return self.error(
                "Reaching end after opening <%# without seeing %>",
                hash,
                hash,
            );
        };
        if self.bytes.get(hash + 1) == Some(&b'-') {
            text.truncate(text.trim_end_matches([' ', '\t']).len());
        }
        *skip_leading = self.bytes[..end].ends_with(b"-%>");
        self.pos = end;
        Ok(())
    }

    fn skip_blanks(&mut self) -> bool {
        let start = self.pos;
        while let Some(&b) = self.bytes.get(self.pos) {
            if matches!(b, b' ' | b'\t' | b'\r') {
                self.pos += 1;
            } else if b >= 0x80 {
                // Unicode blanks (no-break space and the like) are white space too.
                match self.src[self.pos..].chars().next() {
                    Some(c) if is_blank(c) => self.pos += c.len_utf8(),
                    _ => break,
                }
            } else {
                break;
            }
        }
        self.pos > start
    }

    /// Lexes one token (or skips white space, a comment or a newline) at the
    /// current position.
    fn lex_token(&mut self) -> Result<(), SyntaxError> {
        let c = self.bytes[self.pos];
        let la1 = self.peek_at(1);
        let la2 = self.peek_at(2);
        match c {
            b'.' => self.fixed(Tok::Dot, 1),
            b',' => self.fixed(Tok::Comma, 1),
            b'[' => {
                let list_start = (self.pos == 0
                    || self.src[..self.pos]
                        .chars()
                        .next_back()
                        .is_some_and(|p| is_blank(p) || p == '\r' || p == '\n'))
                    && !self.legacy_spaced_reference();
                self.fixed(
                    if list_start {
                        Tok::ListStart
                    } else {
                        Tok::LBrack
                    },
                    1,
                )
            }
            b']' => self.fixed(Tok::RBrack, 1),
            b'(' => {
                let line_start = self.line_lexical_start;
                let first_on_line = self.pos == line_start
                    || self.src[line_start..self.pos]
                        .chars()
                        .all(|p| is_blank(p) || p == '\r');
                self.fixed(
                    if first_on_line {
                        Tok::WsLParen
                    } else {
                        Tok::LParen
                    },
                    1,
                )
            }
            b')' => self.fixed(Tok::RParen, 1),
            b';' => self.fixed(Tok::Semic, 1),
            b'?' => self.fixed(Tok::QMark, 1),
            b'*' => self.fixed(Tok::Times, 1),
            b'%' if self.epp && la1 == b'>' => return self.epp_end(false),
            b'%' => self.fixed(Tok::Modulo, 1),
            b'{' => {
                self.brace_count += 1;
                let kind = if self.after == Some(Tok::QMark) {
                    Tok::SelBrace
                } else {
                    Tok::LBrace
                };
                self.fixed(kind, 1)
            }
            b'}' => {
                self.brace_count -= 1;
                self.fixed(Tok::RBrace, 1)
            }
            b'@' => match la1 {
                b'@' => self.fixed(Tok::AtAt, 2),
                b'(' => return self.heredoc(),
                _ => self.fixed(Tok::At, 1),
            },
            b'|' => match (la1, la2) {
                (b'>', b'>') => self.fixed(Tok::RRCollect, 3),
                (b'>', _) => self.fixed(Tok::RCollect, 2),
                _ => self.fixed(Tok::Pipe, 1),
            },
            b'=' => match la1 {
                b'=' => self.fixed(Tok::IsEqual, 2),
                b'>' => self.fixed(Tok::FArrow, 2),
                b'~' => self.fixed(Tok::Match, 2),
                _ => self.fixed(Tok::Equals, 1),
            },
            b'+' => match la1 {
                b'=' => self.fixed(Tok::Appends, 2),
                b'>' => self.fixed(Tok::PArrow, 2),
                _ => self.fixed(Tok::Plus, 1),
            },
            b'-' if self.epp && la1 == b'%' && la2 == b'>' => return self.epp_end(true),
            b'-' => match la1 {
                b'>' => self.fixed(Tok::InEdge, 2),
                b'=' => self.fixed(Tok::Deletes, 2),
                _ => self.fixed(Tok::Minus, 1),
            },
            b'!' => match la1 {
                b'=' => self.fixed(Tok::NotEqual, 2),
                b'~' => self.fixed(Tok::NoMatch, 2),
                _ => self.fixed(Tok::Not, 1),
            },
            b'~' => match la1 {
                b'>' => self.fixed(Tok::InEdgeSub, 2),
                _ => self.fixed(Tok::Tilde, 1),
            },
            b'#' => {
                let start = self.pos;
                let end = self.bytes[start..]
                    .iter()
                    .position(|&b| b == b'\n')
                    .map_or(self.bytes.len(), |n| start + n);
                self.pos = end;
                self.comment(start, end, CommentStyle::Hash);
            }
            b'/' => return self.slash(),
            b'<' => match (la1, la2) {
                (b'<', b'|') => self.fixed(Tok::LLCollect, 3),
                (b'<', _) => self.fixed(Tok::LShift, 2),
                (b'=', _) => self.fixed(Tok::LessEqual, 2),
                (b'|', _) => self.fixed(Tok::LCollect, 2),
                (b'-', _) => self.fixed(Tok::OutEdge, 2),
                (b'~', _) => self.fixed(Tok::OutEdgeSub, 2),
                _ => self.fixed(Tok::LessThan, 1),
            },
            b'>' => match la1 {
                b'>' => self.fixed(Tok::RShift, 2),
                b'=' => self.fixed(Tok::GreaterEqual, 2),
                _ => self.fixed(Tok::GreaterThan, 1),
            },
            b':' => return self.colon(),
            b'$' => self.variable(),
            b'"' => return self.double_quoted(),
            b'\'' => return self.single_quoted(),
            b'\n' => {
                match self.newline_jump.take() {
                    Some(jump) => self.pos = jump,
                    None => self.pos += 1,
                }
                self.line_lexical_start = self.pos;
            }
            b' ' | b'\t' | b'\r' => {
                self.skip_blanks();
            }
            b'0'..=b'9' => return self.number(),
            b'a'..=b'z' | b'_' => return self.bare_word(),
            b'A'..=b'Z' => return self.class_ref(),
            _ => {
                if !self.skip_blanks() {
                    let ch = self.src[self.pos..].chars().next().unwrap_or('\0');
                    let start = self.pos;
                    self.pos += ch.len_utf8();
                    self.push_source(Tok::Other, start, self.pos, start, self.pos);
                }
            }
        }
        Ok(())
    }

    fn comment(&mut self, start: usize, end: usize, style: CommentStyle) {
        let span = self.span(start, end);
        self.comments.push(Comment { span, style });
    }

    fn regex_acceptable(&self) -> bool {
        !matches!(
            self.after,
            Some(
                Tok::RParen
                    | Tok::RBrack
                    | Tok::RRCollect
                    | Tok::RCollect
                    | Tok::Name
                    | Tok::ClassRef
                    | Tok::Number
                    | Tok::String
                    | Tok::True
                    | Tok::False
                    | Tok::DqPre
                    | Tok::DqMid
                    | Tok::DqPost
                    | Tok::Heredoc
                    | Tok::Regex
                    | Tok::Variable
                    | Tok::Word
            )
        )
    }

    fn slash(&mut self) -> Result<(), SyntaxError> {
        let start = self.pos;
        if self.peek_at(1) == b'*' {
            match self.src[start + 2..].find("*/") {
                Some(n) => {
                    let end = start + 2 + n + 2;
                    self.pos = end;
                    self.comment(start, end, CommentStyle::Block);
                    return Ok(());
                }
                None => {
                    return self.error(
                        "Unclosed multiline comment: add the closing */",
                        start,
                        start + 2,
                    )
                }
            }
        }
        if self.regex_acceptable() {
            // `/[^/]*/`, extended over `\/` (a slash preceded by an odd
            // number of backslashes does not end the regex).
            let mut end = None;
            let mut i = start + 1;
            while let Some(n) = self.bytes[i..].iter().position(|&b| b == b'/') {
                let slash = i + n;
                let backslashes = self.bytes[start + 1..slash]
                    .iter()
                    .rev()
                    .take_while(|&&b| b == b'\\')
                    .count();
                if backslashes % 2 == 0 {
                    end = Some(slash);
                    break;
                }
                i = slash + 1;
            }
            if let Some(slash) = end {
                let source = &self.src[start + 1..slash];
                self.pos = slash + 1;
                if source.contains("\\/") {
                    let unescaped = source.replace("\\/", "/");
                    self.push_owned(Tok::Regex, start, self.pos, unescaped);
                } else {
                    self.push_source(Tok::Regex, start, self.pos, start + 1, slash);
                }
                return Ok(());
            }
        }
        self.fixed(Tok::Div, 1);
        Ok(())
    }

    /// `::Name`, `::name` and `:`.
    fn colon(&mut self) -> Result<(), SyntaxError> {
        let start = self.pos;
        if self.peek_at(1) != b':' {
            self.fixed(Tok::Colon, 1);
            return Ok(());
        }
        let la2 = self.peek_at(2);
        if la2.is_ascii_uppercase() {
            return self.class_ref();
        }
        match scan_bare_word(self.bytes, start) {
            Some(end) => {
                self.emit_word(start, end);
                Ok(())
            }
            // Puppet reports the position after the `::`.
            None => self.error(
                "Illegal fully qualified name: a name segment must follow '::'",
                start + 2,
                start + 2,
            ),
        }
    }

    fn emit_word(&mut self, start: usize, end: usize) {
        let text = &self.src[start..end];
        self.pos = end;
        let kind = if is_name(text) {
            keyword(text).unwrap_or(Tok::Name)
        } else {
            Tok::Word
        };
        if kind.is_keyword() {
            self.push(kind, start, end, Text::Fixed);
        } else {
            self.push_source(kind, start, end, start, end);
        }
    }

    fn bare_word(&mut self) -> Result<(), SyntaxError> {
        let start = self.pos;
        match scan_bare_word(self.bytes, start) {
            Some(end) => {
                self.emit_word(start, end);
                Ok(())
            }
            None => {
                let qualified = self.bytes[start + 1..].starts_with(b"::");
                self.error(
                    if qualified {
                        "Illegal fully qualified name"
                    } else {
                        "Illegal name or bare word"
                    },
                    start,
                    start + 1,
                )
            }
        }
    }

    /// `((::)?[A-Z]\w*)+`, not followed by `::`.
    fn class_ref(&mut self) -> Result<(), SyntaxError> {
        let start = self.pos;
        let mut i = start;
        loop {
            let segment = if self.bytes[i..].starts_with(b"::") {
                i + 2
            } else {
                i
            };
            if !self.bytes.get(segment).is_some_and(u8::is_ascii_uppercase) {
                break;
            }
            i = segment + 1;
            while self.bytes.get(i).copied().is_some_and(is_word_byte) {
                i += 1;
            }
        }
        if i == start || self.bytes[i..].starts_with(b"::") {
            // Puppet reports the position one past the reference's valid
            // part, three past it when the reference starts with `::`.
            let skip = if self.bytes[start] == b':' { 3 } else { 1 };
            let at = (i + skip).min(self.bytes.len());
            return self.error(
                "Illegal class reference: each segment must start with an upper case letter",
                at,
                at,
            );
        }
        self.pos = i;
        self.push_source(Tok::ClassRef, start, i, start, i);
        Ok(())
    }

    fn variable(&mut self) {
        let start = self.pos;
        match scan_variable_name(self.bytes, start + 1) {
            Some(end) if self.legacy.is_some() && dashed_name_end(self.bytes, end) > end => {
                let end = dashed_name_end(self.bytes, end);
                self.pos = end;
                let name = &self.src[start..end];
                let message = format!(
                    "`{name}` is one variable here, as in Puppet 3; Puppet 7 reads `{}` \
                     (a subtraction): rename it with `_`",
                    name.replacen('-', " - ", 1)
                );
                self.legacy_finding(crate::legacy::VARIABLE_WITH_DASH, message, start, end);
                self.push_source(Tok::Variable, start, end, start + 1, end);
            }
            Some(end) => {
                self.pos = end;
                self.push_source(Tok::Variable, start, end, start + 1, end);
            }
            // A lone `$` is a variable without a name, which the parser
            // rejects, as Puppet does.
            None => {
                self.pos = start + 1;
                self.push_source(Tok::Variable, start, start + 1, start, start);
            }
        }
    }

    /// In legacy mode, whether the `[` at the current position follows a
    /// type name and blanks on the same line (`Service ['x']`): a resource
    /// reference in Puppet 3, a name and then an array in Puppet 7.
    fn legacy_spaced_reference(&mut self) -> bool {
        if self.legacy.is_none() {
            return false;
        }
        let Some(previous) = self.tokens.last() else {
            return false;
        };
        let (start, end) = (previous.span.start as usize, previous.span.end as usize);
        let between = self.src.get(end..self.pos).unwrap_or("\n");
        if previous.kind != Tok::ClassRef || between.contains(['\n', '\r']) {
            return false;
        }
        let message = format!(
            "`{} [` is a resource reference here, as in Puppet 3; Puppet 7 reads a type \
             name and then an array (IDEM_EXPRESSION_NOT_LAST): remove the space",
            &self.src[start..end]
        );
        self.legacy_finding(
            crate::legacy::REFERENCE_WITH_SPACE,
            message,
            start,
            self.pos + 1,
        );
        true
    }

    fn legacy_finding(&mut self, code: &str, message: String, start: usize, end: usize) {
        if let Some(findings) = self.legacy.as_mut() {
            findings.push(crate::legacy::finding(code, message, Span::new(start, end)));
        }
    }

    fn number(&mut self) -> Result<(), SyntaxError> {
        let start = self.pos;
        match scan_number(self.bytes, start) {
            Some(end) => {
                let text = &self.src[start..end];
                if let Err(message) = check_number(text) {
                    return self.error(message, start, end);
                }
                self.pos = end;
                self.push_source(Tok::Number, start, end, start, end);
                Ok(())
            }
            None => {
                let end = start
                    + self.bytes[start..]
                        .iter()
                        .position(|&b| !is_word_byte(b))
                        .unwrap_or(self.bytes.len() - start);
                let text = &self.src[start..end];
                let message = match check_number(text) {
                    Err(message) => message,
                    Ok(()) if text.starts_with("0x") || text.starts_with("0X") => {
                        format!("Not a valid hex number {text}")
                    }
                    Ok(())
                        if text
                            .bytes()
                            .find(|b| !b.is_ascii_digit())
                            .is_some_and(|b| matches!(b, b'e' | b'E' | b'.')) =>
                    {
                        format!("Not a valid decimal number {text}")
                    }
                    Ok(()) => format!("Illegal number '{text}'"),
                };
                self.error(message, start, end)
            }
        }
    }

    fn single_quoted(&mut self) -> Result<(), SyntaxError> {
        let start = self.pos;
        let mut i = start + 1;
        let mut value: Option<String> = None;
        let mut chunk_start = i;
        // As in double quotes (see `slurp`), Puppet's pattern takes a first
        // `'` as text when another `'` follows it: `'''` is the string `'`.
        if self.bytes.get(i) == Some(&b'\'') {
            let run = self.bytes[i + 1..]
                .iter()
                .take_while(|&&b| b == b'\\')
                .count();
            if run % 2 == 0 && self.bytes.get(i + 1 + run) == Some(&b'\'') {
                i += 1;
            }
        }
        loop {
            match self.bytes.get(i) {
                None => {
                    return self.error(
                        format!(
                            "Unclosed quote after \"'\" followed by '{}': add the closing \"'\"",
                            followed_by(&self.src[start + 1..])
                        ),
                        start + 1,
                        start + 1,
                    )
                }
                Some(b'\\') if matches!(self.bytes.get(i + 1), Some(b'\\' | b'\'')) => {
                    let value = value.get_or_insert_with(String::new);
                    value.push_str(&self.src[chunk_start..i]);
                    value.push(self.bytes[i + 1] as char);
                    i += 2;
                    chunk_start = i;
                }
                Some(b'\'') => break,
                Some(_) => i += 1,
            }
        }
        self.pos = i + 1;
        match value {
            Some(mut value) => {
                value.push_str(&self.src[chunk_start..i]);
                self.push_owned(Tok::String, start, self.pos, value);
            }
            None => self.push_source(Tok::String, start, self.pos, start + 1, i),
        }
        Ok(())
    }

    fn double_quoted(&mut self) -> Result<(), SyntaxError> {
        let start = self.pos;
        self.pos += 1;
        self.interpolated_text(
            start,
            TextEnd::DoubleQuote,
            Escapes::DOUBLE_QUOTED,
            Tok::String,
        )
    }

    /// Lexes the text of a double-quoted string or an interpolating heredoc
    /// from the current position: a `String` token when nothing is
    /// interpolated, else `DqPre`, the interpolated tokens, `DqMid`...,
    /// `DqPost`.
    fn interpolated_text(
        &mut self,
        start: usize,
        end: TextEnd,
        escapes: Escapes,
        plain: Tok,
    ) -> Result<(), SyntaxError> {
        let mut first = true;
        let mut chunk_start = start;
        let mut text = Pending::Empty;
        loop {
            let (raw, escaped, terminator) = self.slurp(end, escapes, start)?;
            text.append(self.src, raw, escaped);
            match terminator {
                Terminator::Quote | Terminator::End => {
                    let kind = if first { plain } else { Tok::DqPost };
                    let token_text = text.take();
                    self.push(kind, chunk_start, self.pos, token_text);
                    return Ok(());
                }
                Terminator::DollarBrace => {
                    let kind = if first { Tok::DqPre } else { Tok::DqMid };
                    let token_text = text.take();
                    self.push(kind, chunk_start, self.pos, token_text);
                    self.interpolated_expression(end)?;
                }
                Terminator::Dollar => {
                    let dollar = self.pos - 1;
                    match scan_interpolated_name(self.bytes, self.pos) {
                        Some(name_end) => {
                            let kind = if first { Tok::DqPre } else { Tok::DqMid };
                            let token_text = text.take();
                            self.push(kind, chunk_start, dollar, token_text);
                            self.push_source(Tok::Variable, dollar, name_end, self.pos, name_end);
                            self.pos = name_end;
                        }
                        None => {
                            text.append(self.src, dollar..dollar + 1, None);
                            continue;
                        }
                    }
                }
            }
            first = false;
            chunk_start = self.pos;
        }
    }

    /// Reads text up to the next unescaped terminator: the raw range, the
    /// text with escapes applied when it had any, and the terminator.
    fn slurp(
        &mut self,
        end: TextEnd,
        escapes: Escapes,
        string_start: usize,
    ) -> Result<(std::ops::Range<usize>, Option<String>, Terminator), SyntaxError> {
        let from = self.pos;
        let mut i = from;
        // Puppet's pattern `(?:[^\\]|^)(?:\\\\)*("|\$)` takes a `"` or `$`
        // that starts the text as text when another terminator follows it
        // after an even run of backslashes: `""$x` is `"` then `$x`, `"""`
        // is `"`, `"$"` is `$`.
        if end == TextEnd::DoubleQuote && matches!(self.bytes.get(from), Some(b'"' | b'$')) {
            let run = self.bytes[from + 1..]
                .iter()
                .take_while(|&&b| b == b'\\')
                .count();
            if run % 2 == 0 && matches!(self.bytes.get(from + 1 + run), Some(b'"' | b'$')) {
                i += 1;
            }
        }
        let mut backslashes = 0usize;
        let mut any_backslash = false;
        let (text_end, terminator) = loop {
            let Some(&b) = self.bytes.get(i) else {
                if end == TextEnd::EndOfText {
                    break (i, Terminator::End);
                }
                return self.error(
                    format!(
                        "Unclosed quote after '\"' followed by '{}': add the closing '\"' of the string started at {}",
                        followed_by(&self.src[from..]),
                        self.describe_offset(string_start),
                    ),
                    from,
                    from,
                );
            };
            let unescaped = backslashes % 2 == 0;
            match b {
                b'\\' => {
                    backslashes += 1;
                    any_backslash = true;
                    i += 1;
                    continue;
                }
                b'"' if unescaped && end == TextEnd::DoubleQuote => break (i, Terminator::Quote),
                // In a heredoc without `$` among its escapes, `\$` still
                // interpolates (Puppet's pattern stops at every `$`).
                b'$' if unescaped || !escapes.dollar => {
                    if self.bytes.get(i + 1) == Some(&b'{') {
                        break (i, Terminator::DollarBrace);
                    }
                    break (i, Terminator::Dollar);
                }
                _ => {}
            }
            backslashes = 0;
            i += 1;
        };
        self.pos = match terminator {
            Terminator::Quote | Terminator::Dollar => text_end + 1,
            Terminator::DollarBrace => text_end + 2,
            Terminator::End => text_end,
        };
        let escaped = if any_backslash {
            let raw = &self.src[from..text_end];
            Some(
                apply_escapes(raw, escapes)
                    .map_err(|message| SyntaxError::new(message, self.span(from, text_end)))?,
            )
        } else {
            None
        };
        Ok((from..text_end, escaped, terminator))
    }

    /// Lexes the tokens of `${ ... }` up to its closing brace; a lone name,
    /// number or keyword (or one followed by `.` or `[`) becomes a variable.
    /// `text_end` says what the enclosing text is: in a heredoc, the end of
    /// the text also ends the interpolation (Puppet then lets its parser
    /// find what is missing).
    fn interpolated_expression(&mut self, text_end: TextEnd) -> Result<(), SyntaxError> {
        self.depth += 1;
        if self.depth > self.limits.interpolation {
            self.too_deep = true;
            return self.error(
                format!(
                    "Interpolation nested too deeply for Puppet (granule stops at \
                     {MAX_INTERPOLATION} levels): simplify it"
                ),
                self.pos.saturating_sub(2),
                self.pos,
            );
        }
        let open = self.pos.saturating_sub(2);
        let count = self.brace_count;
        self.brace_count += 1;
        let first = self.tokens.len();
        self.skip_blanks();
        loop {
            if self.pos >= self.bytes.len() {
                if text_end == TextEnd::EndOfText {
                    self.depth -= 1;
                    return Ok(());
                }
                // Puppet goes on reading the string at the end of the input,
                // and reports its unclosed quote there.
                let end = self.bytes.len();
                return self.error(
                    format!(
                        "Unclosed interpolation: add the closing '}}' of the '${{' at {}",
                        self.describe_offset(open)
                    ),
                    end,
                    end,
                );
            }
            let before = self.tokens.len();
            self.lex_token()?;
            if self.tokens.len() == before {
                self.skip_blanks();
                continue;
            }
            let last = self.tokens.len() - 1;
            let kind = self.tokens[last].kind;
            if kind == Tok::RBrace && self.brace_count == count {
                self.tokens.pop();
                let produced = self.tokens.len() - first;
                let to_variable = produced == 1
                    || (produced > 1
                        && matches!(self.tokens[first + 1].kind, Tok::Dot | Tok::LBrack));
                if to_variable {
                    let token = &mut self.tokens[first];
                    if matches!(token.kind, Tok::Number | Tok::Name | Tok::Word)
                        || token.kind.is_keyword()
                    {
                        if token.text == Text::Fixed {
                            token.text = Text::Owned(token.kind.fixed_text().unwrap_or("").into());
                        }
                        token.kind = Tok::Variable;
                    }
                }
                self.after = Some(Tok::RBrace);
                self.depth -= 1;
                return Ok(());
            }
            self.after = Some(kind);
        }
    }

    fn heredoc(&mut self) -> Result<(), SyntaxError> {
        let start = self.pos;
        let Some(close) = self.src[start..].find(')').map(|n| start + n) else {
            return self.error(
                "Unclosed parenthesis after '@(' of a heredoc",
                start,
                start + 2,
            );
        };
        let after_tag = close + 1;
        let spec_text = &self.src[start + 2..close];
        // Puppet's pattern is not anchored: when the spec is invalid, a later
        // `@(` in it may still start a valid one (`@("A"/L@(B)` is `@(B)`).
        let spec = HeredocSpec::parse(spec_text)
            .or_else(|message| {
                spec_text
                    .match_indices("@(")
                    .find_map(|(at, _)| HeredocSpec::parse(&spec_text[at + 2..]).ok())
                    .ok_or(message)
            })
            .map_err(|message| SyntaxError::new(message, self.span(after_tag, after_tag)))?;

        self.push_owned(Tok::Heredoc, start, after_tag, spec.syntax.clone());

        let text_start = match self.newline_jump {
            Some(jump) => jump,
            None => match self.src[after_tag..].find('\n') {
                Some(n) => after_tag + n + 1,
                None => {
                    return self.error(
                        "Heredoc without any following lines of text",
                        start,
                        after_tag,
                    )
                }
            },
        };

        let mut lines: Vec<(usize, usize)> = Vec::new();
        let mut line_start = text_start;
        loop {
            if line_start >= self.bytes.len() {
                return self.error(
                    format!(
                        "Heredoc without end-tagged line: add a line with '{}' to end the heredoc started at {}",
                        spec.end_tag,
                        self.describe_offset(start),
                    ),
                    text_start,
                    text_start,
                );
            }
            let line_end = self.src[line_start..]
                .find('\n')
                .map_or(self.bytes.len(), |n| line_start + n + 1);
            let line = &self.src[line_start..line_end];
            if let Some(end_line) = match_end_line(line, &spec.end_tag) {
                self.newline_jump = Some(line_end);
                let tag_end = line_end - usize::from(line.ends_with('\n'));
                self.heredoc_bodies.push((
                    self.span(start, start).start,
                    self.span(text_start, tag_end),
                ));
                let (text, offsets) =
                    heredoc_text(self.src, &lines, &end_line, |o| self.offsets.to_file(o));
                let mut sub = Lexer::new(&text, offsets, self.limits);
                sub.depth = self.depth;
                if spec.interpolate {
                    let lexed =
                        sub.interpolated_text(0, TextEnd::EndOfText, spec.escapes, Tok::String);
                    self.too_deep |= sub.too_deep;
                    lexed?;
                } else {
                    let value = apply_escapes(&text, spec.escapes)
                        .map_err(|message| SyntaxError::new(message, sub.span(0, text.len())))?;
                    sub.push_owned(Tok::String, 0, text.len(), value);
                }
                // The heredoc's text is not the file's source: own its slices.
                self.tokens.extend(sub.tokens.into_iter().map(|mut token| {
                    if let Text::Source(start, end) = token.text {
                        token.text = Text::Owned(text[start as usize..end as usize].into());
                    }
                    token
                }));
                self.comments.extend(sub.comments);
                self.heredoc_bodies.extend(sub.heredoc_bodies);
                self.pos = after_tag;
                return Ok(());
            }
            lines.push((line_start, line_end));
            line_start = line_end;
        }
    }
}

/// What `@(...)` says: the end tag, the syntax, the escapes and whether the
/// text interpolates (the tag is in double quotes).
struct HeredocSpec {
    end_tag: String,
    syntax: String,
    escapes: Escapes,
    interpolate: bool,
}

impl HeredocSpec {
    /// Parses `TAG`, `"TAG"`, `TAG:syntax`, `TAG/escapes`, `TAG:syntax/escapes`.
    fn parse(spec: &str) -> Result<HeredocSpec, String> {
        let invalid = || {
            "Invalid heredoc syntax: expected @(TAG), @(\"TAG\"), @(TAG:syntax) or @(TAG/escapes)"
                .to_string()
        };
        let (head, escapes_text) = match spec.find('/') {
            Some(n) => (&spec[..n], Some(&spec[n + 1..])),
            None => (spec, None),
        };
        let (tag, syntax) = match head.find(':') {
            Some(n) => {
                let syntax = head[n + 1..].trim_matches(|c: char| is_blank(c));
                let valid = syntax.len() >= 2
                    && syntax.as_bytes()[0].is_ascii_lowercase()
                    && syntax
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'+');
                if !valid {
                    return Err(invalid());
                }
                (&head[..n], syntax.to_string())
            }
            None => (head, String::new()),
        };
        if tag.is_empty() || tag.contains(['\r', '\n']) {
            return Err(invalid());
        }
        let mut end_tag = tag.trim().to_string();
        let mut interpolate = false;
        if end_tag.len() >= 2 && end_tag.starts_with('"') && end_tag.ends_with('"') {
            interpolate = true;
            end_tag = end_tag[1..end_tag.len() - 1].trim().to_string();
        }
        if end_tag.is_empty() {
            return Err("Heredoc with an empty end tag".to_string());
        }
        let mut escapes = Escapes::NONE;
        if let Some(text) = escapes_text {
            let text = text.trim_end_matches(|c: char| is_blank(c));
            if !text.bytes().all(|b| is_word_byte(b) || b == b'$') {
                return Err(invalid());
            }
            let text = if text.is_empty() { "trnsuL$" } else { text };
            let mut seen = Vec::new();
            escapes.backslash = true;
            for c in text.chars() {
                if seen.contains(&c) {
                    return Err(format!(
                        "An escape char for @() may only appear once. Got '{text}'"
                    ));
                }
                seen.push(c);
                match c {
                    't' => escapes.t = true,
                    'r' => escapes.r = true,
                    'n' => escapes.n = true,
                    's' => escapes.s = true,
                    'u' => escapes.u = true,
                    '$' => escapes.dollar = true,
                    'L' => escapes.newline = true,
                    _ => {
                        return Err(format!(
                        "Invalid heredoc escape char. Only t, r, n, s,  u, L, $ allowed. Got '{c}'"
                    ))
                    }
                }
            }
        }
        Ok(HeredocSpec {
            end_tag,
            syntax,
            escapes,
            interpolate,
        })
    }
}

/// The end line of a heredoc. Puppet searches its end pattern
/// `[blanks][|[blanks]][-[blanks]]TAG[blanks][\r](\n|end)` anywhere in a line
/// (it is not anchored at the line start), so the same search is made here.
struct EndLine {
    margin: String,
    has_margin: bool,
    remove_break: bool,
}

fn match_end_line(line: &str, tag: &str) -> Option<EndLine> {
    if !line.contains(tag) {
        return None;
    }
    line.char_indices()
        .find_map(|(at, _)| match_end_line_at(&line[at..], tag))
}

fn match_end_line_at(line: &str, tag: &str) -> Option<EndLine> {
    let content = line.strip_suffix('\n').unwrap_or(line);
    let content = content.strip_suffix('\r').unwrap_or(content);
    let rest = content.trim_start_matches(is_blank);
    let margin = &content[..content.len() - rest.len()];
    let (has_margin, rest) = match rest.strip_prefix('|') {
        Some(r) => (true, r.trim_start_matches(is_blank)),
        None => (false, rest),
    };
    let (remove_break, rest) = match rest.strip_prefix('-') {
        Some(r) => (true, r.trim_start_matches(is_blank)),
        None => (false, rest),
    };
    let rest = rest.strip_prefix(tag)?;
    if !rest.chars().all(is_blank) {
        return None;
    }
    Some(EndLine {
        margin: margin.to_string(),
        has_margin,
        remove_break,
    })
}

/// The heredoc's text with its margin removed (and the last line break, for
/// `-`), and the map of its line starts back to file offsets.
fn heredoc_text(
    src: &str,
    lines: &[(usize, usize)],
    end: &EndLine,
    to_file: impl Fn(usize) -> usize,
) -> (String, OffsetMap) {
    let mut text = String::new();
    let mut map = OffsetMap::default();
    for &(start, line_end) in lines {
        let line = &src[start..line_end];
        let strip = if end.has_margin && !end.margin.is_empty() && line.starts_with(&end.margin) {
            end.margin.len()
        } else {
            0
        };
        map.lines.push((text.len(), to_file(start + strip)));
        text.push_str(&line[strip..]);
    }
    if map.lines.is_empty() {
        map.lines
            .push((0, to_file(lines.first().map_or(0, |l| l.0))));
    }
    if end.remove_break {
        if text.ends_with("\r\n") {
            text.truncate(text.len() - 2);
        } else if text.ends_with('\n') {
            text.truncate(text.len() - 1);
        }
    }
    (text, map)
}

/// Applies `\u` escapes and then the one-character escapes a string form
/// honours; unknown escapes keep their backslash.
fn apply_escapes(raw: &str, escapes: Escapes) -> Result<String, String> {
    if !raw.contains('\\') {
        return Ok(raw.to_string());
    }
    let raw = if escapes.u {
        apply_unicode_escapes(raw)?
    } else {
        raw.to_string()
    };
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.peek().copied() {
            None => out.push('\\'),
            Some('\r') => {
                chars.next();
                if chars.peek() == Some(&'\n') {
                    chars.next();
                    if !escapes.newline {
                        out.push_str("\\\r\n");
                    }
                } else {
                    out.push_str("\\\r");
                }
            }
            Some('\n') => {
                chars.next();
                if !escapes.newline {
                    out.push_str("\\\n");
                }
            }
            Some(next) => {
                chars.next();
                if escapes.allows(next) {
                    match next {
                        'r' => out.push('\r'),
                        'n' => out.push('\n'),
                        't' => out.push('\t'),
                        's' => out.push(' '),
                        'u' => out.push_str("\\u"),
                        other => out.push(other),
                    }
                } else {
                    out.push('\\');
                    out.push(next);
                }
            }
        }
    }
    Ok(out)
}

/// `\uXXXX` and `\u{X...}` (not preceded by an escaping backslash).
fn apply_unicode_escapes(raw: &str) -> Result<String, String> {
    let bytes = raw.as_bytes();
    let mut out = String::with_capacity(raw.len());
    let mut i = 0;
    let mut copied = 0;
    while i < bytes.len() {
        if bytes[i] != b'\\' {
            i += 1;
            continue;
        }
        if bytes.get(i + 1) == Some(&b'\\') {
            i += 2;
            continue;
        }
        if bytes.get(i + 1) == Some(&b'u') {
            let rest = &raw[i + 2..];
            let (hex, len) = if let Some(braced) = rest.strip_prefix('{') {
                let digits = braced.bytes().take_while(u8::is_ascii_hexdigit).count();
                if (1..=6).contains(&digits) && braced.as_bytes().get(digits) == Some(&b'}') {
                    (&braced[..digits], digits + 2)
                } else {
                    ("", 0)
                }
            } else if rest.len() >= 4 && rest.as_bytes()[..4].iter().all(u8::is_ascii_hexdigit) {
                (&rest[..4], 4)
            } else {
                ("", 0)
            };
            if len > 0 {
                let code = u32::from_str_radix(hex, 16).unwrap_or(u32::MAX);
                let ch = char::from_u32(code)
                    .ok_or_else(|| format!("Illegal unicode escape '\\u{hex}'"))?;
                out.push_str(&raw[copied..i]);
                out.push(ch);
                i += 2 + len;
                copied = i;
                continue;
            }
        }
        i += 1;
    }
    out.push_str(&raw[copied..]);
    Ok(out)
}

/// Up to five characters of what follows, for "followed by '...'" messages.
fn followed_by(rest: &str) -> String {
    if rest.is_empty() {
        return "<eof>".to_string();
    }
    let head: String = rest.chars().take(5).collect();
    format!(
        "{}...",
        head.replace('\t', "\\t")
            .replace('\n', "\\n")
            .replace('\r', "\\r")
    )
}

/// `((::)?[a-z_]([\w-]*\w)?)+` from `start`; the end offset.
fn scan_bare_word(bytes: &[u8], start: usize) -> Option<usize> {
    let mut i = start;
    let mut matched = None;
    loop {
        let seg = if bytes[i..].starts_with(b"::") {
            i + 2
        } else {
            i
        };
        let Some(&first) = bytes.get(seg) else { break };
        if !(first.is_ascii_lowercase() || first == b'_') {
            break;
        }
        let mut j = seg + 1;
        let mut last_word = j;
        while let Some(&b) = bytes.get(j) {
            if is_word_byte(b) {
                j += 1;
                last_word = j;
            } else if b == b'-' {
                j += 1;
            } else {
                break;
            }
        }
        i = last_word;
        matched = Some(i);
    }
    matched
}

/// `^((::)?[a-z]\w*)(::[a-z]\w*)*$`.
fn is_name(text: &str) -> bool {
    let text = text.strip_prefix("::").unwrap_or(text);
    crate::qualified::Qualified::segments(text).all(|segment| {
        let b = segment.as_bytes();
        !b.is_empty() && b[0].is_ascii_lowercase() && b.iter().all(|&c| is_word_byte(c))
    })
}

/// `(::)?(\w+::)*\w+` (the name after `$`); the end offset.
/// Where a Puppet 3 variable name with dashes that ends a Puppet 7 name at
/// `end` ends: `-` and a letter or `_` extend it (`$my-var`, not `$a-1`).
fn dashed_name_end(bytes: &[u8], mut end: usize) -> usize {
    while bytes.get(end) == Some(&b'-')
        && bytes
            .get(end + 1)
            .is_some_and(|&b| b.is_ascii_lowercase() || b == b'_')
    {
        end += 1;
        while bytes.get(end).copied().is_some_and(is_word_byte) {
            end += 1;
        }
    }
    end
}

fn scan_variable_name(bytes: &[u8], start: usize) -> Option<usize> {
    let mut i = start;
    if bytes[i..].starts_with(b"::") {
        i += 2;
    }
    let mut end = None;
    loop {
        let seg_start = i;
        while bytes.get(i).copied().is_some_and(is_word_byte) {
            i += 1;
        }
        if i == seg_start {
            break;
        }
        end = Some(i);
        if bytes[i..].starts_with(b"::") && bytes.get(i + 2).copied().is_some_and(is_word_byte) {
            i += 2;
        } else {
            break;
        }
    }
    end
}

/// In a string, `$` followed by `(::)?(\w+::)*\w+`.
fn scan_interpolated_name(bytes: &[u8], start: usize) -> Option<usize> {
    scan_variable_name(bytes, start)
}

/// `\b(0[xX][0-9A-Fa-f]+|0?\d+(\.\d+)?([eE]-?\d+)?)\b` at `start`.
fn scan_number(bytes: &[u8], start: usize) -> Option<usize> {
    let boundary = |i: usize| !bytes.get(i).copied().is_some_and(is_word_byte);
    if bytes[start] == b'0' && matches!(bytes.get(start + 1), Some(b'x' | b'X')) {
        let digits = bytes[start + 2..]
            .iter()
            .take_while(|b| b.is_ascii_hexdigit())
            .count();
        if digits > 0 && boundary(start + 2 + digits) {
            return Some(start + 2 + digits);
        }
    }
    let int_end = start
        + bytes[start..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
    // Candidate ends, longest first; the regex backtracks to the longest that
    // ends on a word boundary.
    let mut candidates = Vec::with_capacity(4);
    let frac_end = if bytes.get(int_end) == Some(&b'.')
        && bytes.get(int_end + 1).is_some_and(u8::is_ascii_digit)
    {
        Some(
            int_end
                + 1
                + bytes[int_end + 1..]
                    .iter()
                    .take_while(|b| b.is_ascii_digit())
                    .count(),
        )
    } else {
        None
    };
    for mantissa_end in [frac_end, Some(int_end)].into_iter().flatten() {
        if matches!(bytes.get(mantissa_end), Some(b'e' | b'E')) {
            let mut e = mantissa_end + 1;
            if bytes.get(e) == Some(&b'-') {
                e += 1;
            }
            let digits = bytes[e..].iter().take_while(|b| b.is_ascii_digit()).count();
            if digits > 0 {
                candidates.push(e + digits);
            }
        }
        candidates.push(mantissa_end);
    }
    candidates.into_iter().find(|&end| boundary(end))
}

/// The lexer's numeric checks (octal digits, decimal shape).
fn check_number(text: &str) -> Result<(), String> {
    let b = text.as_bytes();
    if text.starts_with("0x") || text.starts_with("0X") {
        Ok(())
    } else if b.len() > 1 && b[0] == b'0' && b[1] != b'.' {
        if b[1..].iter().all(|c| (b'0'..=b'7').contains(c)) {
            Ok(())
        } else {
            Err(format!("Not a valid octal number {text}"))
        }
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokenize_reports_the_error_its_tokens_stop_at() {
        let error = tokenize("notify { 'a':\n  message => \"b\n}").unwrap_err();
        assert!(
            error.message.starts_with("Unclosed quote"),
            "{}",
            error.message
        );
    }

    fn lex(src: &str) -> Result<Lexed, SyntaxError> {
        super::lex(src, Limits::FULL, false)
            .map_err(|attempt| match attempt {
                Attempt::Failed(error) => error,
                Attempt::TooDeep => unreachable!(),
            })
            .and_then(|lexed| match lexed.deferred {
                Some(error) => Err(error),
                None => Ok(lexed),
            })
    }

    fn kinds(src: &str) -> Vec<Tok> {
        lex(src).unwrap().tokens.iter().map(|t| t.kind).collect()
    }

    #[test]
    fn bracket_after_white_space_starts_a_list() {
        assert_eq!(
            kinds("Foo ['x'] Foo['x']"),
            vec![
                Tok::ClassRef,
                Tok::ListStart,
                Tok::String,
                Tok::RBrack,
                Tok::ClassRef,
                Tok::LBrack,
                Tok::String,
                Tok::RBrack,
                Tok::Eof
            ]
        );
    }

    #[test]
    fn slash_is_a_regex_only_where_an_operand_starts() {
        assert_eq!(kinds("$a / 2")[1], Tok::Div);
        assert_eq!(kinds("$a =~ /x\\/y/")[2], Tok::Regex);
        let src = "$a =~ /x\\/y/";
        assert_eq!(lex(src).unwrap().tokens[2].text(src), "x/y");
    }

    #[test]
    fn interpolation_turns_a_lone_name_into_a_variable() {
        let src = "\"a${x}b$y\"";
        let lexed = lex(src).unwrap();
        let kinds: Vec<_> = lexed.tokens.iter().map(|t| t.kind).collect();
        assert_eq!(
            kinds,
            vec![
                Tok::DqPre,
                Tok::Variable,
                Tok::DqMid,
                Tok::Variable,
                Tok::DqPost,
                Tok::Eof
            ]
        );
        assert_eq!(lexed.tokens[1].text(src), "x");
    }

    #[test]
    fn heredoc_text_is_lexed_in_place_and_lexing_resumes_after_the_tag() {
        let src = "$a = @(END)\n  hello\n  | END\n$b = 1\n";
        let lexed = lex(src).unwrap();
        let kinds: Vec<_> = lexed.tokens.iter().map(|t| t.kind).collect();
        assert_eq!(
            kinds,
            vec![
                Tok::Variable,
                Tok::Equals,
                Tok::Heredoc,
                Tok::String,
                Tok::Variable,
                Tok::Equals,
                Tok::Number,
                Tok::Eof
            ]
        );
        assert_eq!(lexed.tokens[3].text(src), "hello\n");
    }

    #[test]
    fn each_heredoc_body_spans_its_text_and_end_tag_in_source_order() {
        let src = "f(@(A), @(\"B\"))\n  a\n  | A\nb ${@(C)\nc\nC\n}\n-B\n$x = 1\n";
        let bodies: Vec<&str> = lex(src)
            .unwrap()
            .heredoc_bodies
            .iter()
            .map(|(start, body)| {
                assert_eq!(&src[*start as usize..*start as usize + 2], "@(");
                &src[body.start as usize..body.end as usize]
            })
            .collect();
        assert_eq!(bodies, ["  a\n  | A", "b ${@(C)\nc\nC\n}\n-B", "c\nC"]);
    }

    #[test]
    fn numbers_stop_at_word_boundaries() {
        assert!(lex("10abc").is_err());
        assert_eq!(lex("1.5e-3").unwrap().tokens[0].text("1.5e-3"), "1.5e-3");
        assert!(lex("09").is_err());
    }
}
