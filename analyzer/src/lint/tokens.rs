//! The token stream puppet-lint's checks run on: a port of puppet-lint 3's
//! `PuppetLint::Lexer` and its `StringSlurper`.
//!
//! Puppet's own lexer (`granule_parser::lexer`) drops white space and
//! comments and splits strings where Puppet's grammar needs them; puppet-lint
//! keeps every byte as a token (`WHITESPACE`, `NEWLINE`, `INDENT`, three kinds
//! of comments), has token kinds Puppet lacks (`TYPE`, `FUNCTION_NAME`,
//! `UNENC_VARIABLE`) and computes each token's column from how the tokens
//! before it print back. Its checks are defined on that stream, so matching
//! their lines and columns means lexing the way puppet-lint lexes, quirks
//! included (a `$var[...]` access is part of the variable token, an end tag
//! of a heredoc is found anywhere on a line, `${` pretends to be printed
//! before an unenclosed variable and is taken back).

use regex::Regex;
use std::sync::LazyLock;

/// Token kinds, named as puppet-lint names them (`Kind::name`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Whitespace,
    Newline,
    Indent,
    Comment,
    MlComment,
    SlashComment,
    Type,
    ClassRef,
    Number,
    FunctionName,
    Name,
    Keyword(Keyword),
    Variable,
    UnencVariable,
    SString,
    String,
    DqPre,
    DqMid,
    DqPost,
    HeredocOpen,
    Heredoc,
    HeredocPre,
    HeredocMid,
    HeredocPost,
    Regex,
    Punct(Punct),
}

/// Puppet's reserved words (puppet-lint's `KEYWORDS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Keyword {
    Case,
    Class,
    Default,
    Define,
    Import,
    If,
    Elsif,
    Else,
    Inherits,
    Node,
    And,
    Or,
    Undef,
    False,
    True,
    In,
    Unless,
    Function,
    Type,
    Attr,
    Private,
}

const KEYWORDS: [(&str, Keyword); 21] = [
    ("case", Keyword::Case),
    ("class", Keyword::Class),
    ("default", Keyword::Default),
    ("define", Keyword::Define),
    ("import", Keyword::Import),
    ("if", Keyword::If),
    ("elsif", Keyword::Elsif),
    ("else", Keyword::Else),
    ("inherits", Keyword::Inherits),
    ("node", Keyword::Node),
    ("and", Keyword::And),
    ("or", Keyword::Or),
    ("undef", Keyword::Undef),
    ("false", Keyword::False),
    ("true", Keyword::True),
    ("in", Keyword::In),
    ("unless", Keyword::Unless),
    ("function", Keyword::Function),
    ("type", Keyword::Type),
    ("attr", Keyword::Attr),
    ("private", Keyword::Private),
];

/// Punctuation with fixed text, in puppet-lint's matching order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Punct {
    LBrack,
    RBrack,
    LBrace,
    RBrace,
    LParen,
    RParen,
    IsEqual,
    Match,
    FArrow,
    Equals,
    Appends,
    PArrow,
    Plus,
    GreaterEqual,
    RShift,
    GreaterThan,
    LessEqual,
    LLCollect,
    OutEdge,
    OutEdgeSub,
    LCollect,
    LShift,
    LessThan,
    NoMatch,
    NotEqual,
    Not,
    RRCollect,
    RCollect,
    InEdge,
    InEdgeSub,
    Minus,
    Comma,
    Dot,
    Colon,
    Semic,
    QMark,
    Backslash,
    Times,
    Modulo,
    Pipe,
    Div,
    At,
}

const PUNCTS: [(&str, Punct); 40] = [
    ("[", Punct::LBrack),
    ("]", Punct::RBrack),
    ("{", Punct::LBrace),
    ("}", Punct::RBrace),
    ("(", Punct::LParen),
    (")", Punct::RParen),
    ("==", Punct::IsEqual),
    ("=~", Punct::Match),
    ("=>", Punct::FArrow),
    ("=", Punct::Equals),
    ("+=", Punct::Appends),
    ("+>", Punct::PArrow),
    ("+", Punct::Plus),
    (">=", Punct::GreaterEqual),
    (">>", Punct::RShift),
    (">", Punct::GreaterThan),
    ("<=", Punct::LessEqual),
    ("<<|", Punct::LLCollect),
    ("<-", Punct::OutEdge),
    ("<~", Punct::OutEdgeSub),
    ("<|", Punct::LCollect),
    ("<<", Punct::LShift),
    ("<", Punct::LessThan),
    ("!~", Punct::NoMatch),
    ("!=", Punct::NotEqual),
    ("!", Punct::Not),
    ("|>>", Punct::RRCollect),
    ("|>", Punct::RCollect),
    ("->", Punct::InEdge),
    ("~>", Punct::InEdgeSub),
    ("-", Punct::Minus),
    (",", Punct::Comma),
    (".", Punct::Dot),
    (":", Punct::Colon),
    (";", Punct::Semic),
    ("?", Punct::QMark),
    ("\\", Punct::Backslash),
    ("*", Punct::Times),
    ("%", Punct::Modulo),
    ("|", Punct::Pipe),
];

impl Kind {
    /// White space, line ends and comments: what puppet-lint skips when it
    /// looks for the previous or next code token.
    pub fn is_formatting(self) -> bool {
        matches!(
            self,
            Kind::Whitespace
                | Kind::Newline
                | Kind::Indent
                | Kind::Comment
                | Kind::MlComment
                | Kind::SlashComment
        )
    }

    pub fn is_comment(self) -> bool {
        matches!(self, Kind::Comment | Kind::MlComment | Kind::SlashComment)
    }

    /// Whether a `/` after this code token starts a regex
    /// (puppet-lint's `REGEX_PREV_TOKENS`).
    fn regex_may_follow(self) -> bool {
        matches!(
            self,
            Kind::Keyword(Keyword::Node | Keyword::If | Keyword::Elsif)
                | Kind::Punct(
                    Punct::LBrace
                        | Punct::RBrace
                        | Punct::Match
                        | Punct::NoMatch
                        | Punct::Comma
                        | Punct::LBrack
                        | Punct::LParen
                        | Punct::Equals
                )
        )
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub kind: Kind,
    /// puppet-lint's `value`: names without `$`, string text without quotes
    /// and unescaped, comments without their marker.
    pub value: String,
    /// The source form where it differs from what `value` prints as.
    pub raw: Option<String>,
    pub line: usize,
    /// 1-based character column.
    pub column: usize,
}

/// Why lexing stopped, with puppet-lint's position of the problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LexError {
    pub line: usize,
    pub column: usize,
    pub reason: Option<&'static str>,
}

/// A lexed file: tokens in source order and the links puppet-lint's checks
/// walk (previous and next code token).
#[derive(Debug)]
pub struct TokenList {
    pub tokens: Vec<Token>,
    prev_code: Vec<Option<usize>>,
    next_code: Vec<Option<usize>>,
}

impl TokenList {
    fn new(tokens: Vec<Token>) -> TokenList {
        let mut prev_code = vec![None; tokens.len()];
        let mut next_code = vec![None; tokens.len()];
        let mut last = None;
        for (i, token) in tokens.iter().enumerate() {
            prev_code[i] = last;
            if !token.kind.is_formatting() {
                if let Some(l) = last {
                    next_code[l] = Some(i);
                }
                last = Some(i);
            }
        }
        // A formatting token's next code token is never asked for by the
        // ported checks; puppet-lint leaves it unset too.
        for (i, token) in tokens.iter().enumerate() {
            if token.kind.is_formatting() {
                next_code[i] = None;
                prev_code[i] = None;
            }
        }
        TokenList {
            tokens,
            prev_code,
            next_code,
        }
    }

    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    pub fn kind(&self, i: usize) -> Kind {
        self.tokens[i].kind
    }

    pub fn prev_code(&self, i: usize) -> Option<usize> {
        self.prev_code[i]
    }

    pub fn next_code(&self, i: usize) -> Option<usize> {
        self.next_code[i]
    }

    pub fn prev(&self, i: usize) -> Option<usize> {
        i.checked_sub(1)
    }

    pub fn next(&self, i: usize) -> Option<usize> {
        (i + 1 < self.tokens.len()).then_some(i + 1)
    }

    /// The token's text as puppet-lint prints it back (`to_manifest`).
    pub fn manifest(&self, i: usize) -> String {
        let kind_at = |j: Option<usize>| j.map(|j| self.tokens[j].kind);
        render(
            &self.tokens[i],
            Neighbours {
                prev: kind_at(self.prev(i)),
                next: kind_at(self.next(i)),
                prev_code: kind_at(self.prev_code_any(i)),
            },
        )
    }

    /// The previous code token of any token (puppet-lint sets it for
    /// formatting tokens too, when they are created).
    fn prev_code_any(&self, i: usize) -> Option<usize> {
        (0..i).rev().find(|&j| !self.tokens[j].kind.is_formatting())
    }

    /// puppet-lint's `next_token_of`: the next token of one of `kinds`,
    /// stepping over bracketed blocks.
    pub fn next_token_of(&self, from: usize, kinds: &[Kind]) -> Option<usize> {
        let mut i = from + 1;
        while i < self.tokens.len() {
            let kind = self.tokens[i].kind;
            if kinds.contains(&kind) {
                return Some(i);
            }
            let close = match kind {
                Kind::Punct(Punct::LBrace) => Some(Punct::RBrace),
                Kind::Punct(Punct::LBrack) => Some(Punct::RBrack),
                Kind::Punct(Punct::LParen) => Some(Punct::RParen),
                _ => None,
            };
            if let Some(close) = close {
                i = self.next_token_of(i, &[Kind::Punct(close)])?;
            }
            i += 1;
        }
        None
    }

    /// [`Self::prev_token_of`] `kind` from every token at once, in one pass:
    /// `result[i]` is `prev_token_of(i, kind)`. A check asking it of each
    /// token stays linear in the file's size (one call may walk back to
    /// the start of the file).
    pub fn prev_tokens_of(&self, kind: Kind) -> Vec<Option<usize>> {
        // found[k][j]: the search for target k started at token j itself
        // (`prev_token_of(j + 1, k)`); brackets are stepped over through
        // the searches for their openers, computed alongside. u32 halves
        // the memory of a file of millions of tokens.
        let targets = [
            kind,
            Kind::Punct(Punct::LBrace),
            Kind::Punct(Punct::LBrack),
            Kind::Punct(Punct::LParen),
        ];
        let n = self.tokens.len();
        let mut found: Vec<Vec<Option<u32>>> = vec![vec![None; n]; targets.len()];
        for j in 0..n {
            let opener = match self.tokens[j].kind {
                Kind::Punct(Punct::RBrace) => Some(1),
                Kind::Punct(Punct::RBrack) => Some(2),
                Kind::Punct(Punct::RParen) => Some(3),
                _ => None,
            };
            // Where the search goes on from when token j is not the target.
            let resume = match opener {
                Some(opener) => j
                    .checked_sub(1)
                    .and_then(|before| found[opener][before])
                    .and_then(|open| (open as usize).checked_sub(1)),
                None => j.checked_sub(1),
            };
            for (target, searched) in found.iter_mut().enumerate() {
                searched[j] = if self.tokens[j].kind == targets[target] {
                    Some(j as u32)
                } else {
                    resume.and_then(|at| searched[at])
                };
            }
        }
        std::iter::once(None)
            .chain(found[0].iter().map(|at| at.map(|at| at as usize)))
            .take(n)
            .collect()
    }

    /// puppet-lint's `prev_token_of`: the previous token of `kind`, stepping
    /// over bracketed blocks.
    pub fn prev_token_of(&self, from: usize, kind: Kind) -> Option<usize> {
        let mut i = from.checked_sub(1)?;
        loop {
            if self.tokens[i].kind == kind {
                return Some(i);
            }
            let open = match self.tokens[i].kind {
                Kind::Punct(Punct::RBrace) => Some(Punct::LBrace),
                Kind::Punct(Punct::RBrack) => Some(Punct::LBrack),
                Kind::Punct(Punct::RParen) => Some(Punct::LParen),
                _ => None,
            };
            if let Some(open) = open {
                i = self.prev_token_of(i, Kind::Punct(open))?;
            }
            i = i.checked_sub(1)?;
        }
    }
}

/// Kinds around a token that its printed form depends on.
#[derive(Clone, Copy)]
pub(crate) struct Neighbours {
    pub prev: Option<Kind>,
    pub next: Option<Kind>,
    pub prev_code: Option<Kind>,
}

/// A token as puppet-lint prints it back (`to_manifest`), given its
/// neighbours.
pub(crate) fn render(token: &Token, around: Neighbours) -> String {
    let value = &token.value;
    let suffix = || match around.next {
        Some(
            Kind::UnencVariable | Kind::DqMid | Kind::DqPost | Kind::HeredocMid | Kind::HeredocPost,
        ) => "",
        _ => "${",
    };
    let prefix = || match around.prev {
        Some(
            Kind::UnencVariable | Kind::DqPre | Kind::DqMid | Kind::HeredocPre | Kind::HeredocMid,
        ) => "",
        _ => "}",
    };
    let raw = || token.raw.clone().unwrap_or_default();
    match token.kind {
        Kind::String => format!("\"{value}\""),
        Kind::SString => format!("'{value}'"),
        Kind::DqPre => format!("\"{value}{}", suffix()),
        Kind::DqPost => format!("{}{value}\"", prefix()),
        Kind::DqMid | Kind::HeredocMid => format!("{}{value}{}", prefix(), suffix()),
        Kind::Variable => match around.prev_code {
            Some(Kind::DqPre | Kind::DqMid | Kind::HeredocPre | Kind::HeredocMid) => {
                token.raw.clone().unwrap_or_else(|| value.clone())
            }
            _ => format!("${value}"),
        },
        Kind::UnencVariable => format!("${value}"),
        Kind::Newline => "\n".to_string(),
        Kind::Comment => format!("#{value}"),
        Kind::Regex => format!("/{value}/"),
        Kind::MlComment | Kind::Heredoc => raw(),
        Kind::HeredocOpen => format!("@({value})"),
        Kind::HeredocPre => format!("{value}{}", suffix()),
        Kind::HeredocPost => format!("{}{}", prefix(), raw()),
        _ => value.clone(),
    }
}

fn re(pattern: &str) -> Regex {
    Regex::new(pattern).expect("lint lexer pattern")
}

/// Ruby's `\w`, `\d` and `\b` are ASCII; the patterns below spell them out.
const WS: &str = r"[\t\x0B\x0C\p{Zs}]";
const LINE_END: &str = r"(?:\r\n|\r|\n)";

/// The length of the white space (`WS+`) `chunk` starts with, when it is
/// ASCII only and ends before a character that is not white space: the
/// common case, found without the pattern (a non-ASCII character may be
/// white space: the pattern decides then).
fn ascii_whitespace(chunk: &str) -> Option<usize> {
    let bytes = chunk.as_bytes();
    let len = bytes
        .iter()
        .take_while(|b| matches!(b, b' ' | b'\t' | b'\x0B' | b'\x0C'))
        .count();
    (len > 0 && bytes.get(len).is_none_or(u8::is_ascii)).then_some(len)
}

/// The length of the name (`NAME`) `chunk` starts with, if it starts with
/// one: `(::)?[_a-z0-9][-A-Za-z0-9_]*(::[a-z0-9][-A-Za-z0-9_]*)*`, matched
/// by hand (it is the most common token after white space).
fn name_length(chunk: &str) -> Option<usize> {
    let bytes = chunk.as_bytes();
    let word = |at: usize| {
        bytes[at..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || **b == b'-' || **b == b'_')
            .count()
    };
    let starts = |at: usize, first: fn(&u8) -> bool| bytes.get(at).is_some_and(first);
    let head = if bytes.starts_with(b"::")
        && starts(2, |b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'_'
        }) {
        2
    } else {
        0
    };
    if !starts(head, |b| {
        b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'_'
    }) {
        return None;
    }
    let mut end = head + 1 + word(head + 1);
    while bytes[end..].starts_with(b"::")
        && starts(end + 2, |b| b.is_ascii_lowercase() || b.is_ascii_digit())
    {
        end += 3 + word(end + 3);
    }
    Some(end)
}

/// The lengths of the line end (`\r\n`, `\r` or `\n`) `chunk` starts with
/// and of the white space after it (`LINE_END WS+`), when there is some;
/// non-ASCII white space is left to the pattern.
fn line_end_and_indent(chunk: &str) -> Option<(usize, usize)> {
    let eol = if chunk.starts_with("\r\n") {
        2
    } else if chunk.starts_with(['\r', '\n']) {
        1
    } else {
        return None;
    };
    if let Some(indent) = ascii_whitespace(&chunk[eol..]) {
        return Some((eol, indent));
    }
    let m = patterns().whitespace.find(&chunk[eol..])?;
    Some((eol, m.len()))
}

/// The length of the variable name after a `$` (puppet-lint's
/// `\$((?:::)?(?:W+(?:-W+)*::)*W+(?:-W+)*(?:\[.+?\])*)`, W a word
/// character), matched by hand: variables are frequent, and a pattern with
/// a group to capture is slow to run.
fn variable_name_length(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let is_word = |b: &u8| b.is_ascii_alphanumeric() || *b == b'_';
    // A segment: words joined by single dashes.
    let segment = |at: usize| -> Option<usize> {
        let mut end = at + bytes.get(at..)?.iter().take_while(|b| is_word(b)).count();
        if end == at {
            return None;
        }
        while bytes.get(end) == Some(&b'-') && bytes.get(end + 1).is_some_and(is_word) {
            end += 1 + bytes[end + 1..].iter().take_while(|b| is_word(b)).count();
        }
        Some(end)
    };
    let start = if bytes.starts_with(b"::") { 2 } else { 0 };
    let mut end = segment(start)?;
    while bytes[end..].starts_with(b"::") {
        match segment(end + 2) {
            Some(next) => end = next,
            None => break,
        }
    }
    // Index brackets: `[`, at least one character, up to the first `]`
    // after it, all on one line.
    while bytes.get(end) == Some(&b'[') {
        let inside = &bytes[end + 1..];
        let Some(close) = inside
            .iter()
            .skip(1)
            .position(|b| matches!(b, b']' | b'\n'))
            .filter(|&at| inside[at + 1] == b']' && inside[0] != b'\n')
        else {
            break;
        };
        end += close + 3;
    }
    Some(end)
}

/// The end (just after it) of the first `quote` in `rest` that no odd run of
/// backslashes escapes: puppet-lint's `(?:\A|[^\\])(?:\\\\)*'` for single
/// quoted strings, and with `/` for regexes.
fn unescaped_end(rest: &str, quote: u8) -> Option<usize> {
    let bytes = rest.as_bytes();
    let mut backslashes = 0;
    for (at, &byte) in bytes.iter().enumerate() {
        if byte == quote && backslashes % 2 == 0 {
            return Some(at + 1);
        }
        backslashes = if byte == b'\\' { backslashes + 1 } else { 0 };
    }
    None
}

#[derive(Clone)]
struct Patterns {
    whitespace: Regex,
    type_name: Regex,
    classref: Regex,
    number: Regex,
    heredoc_open: Regex,
    slash_comment: Regex,
    ml_comment: Regex,
    eol: Regex,
    ml_comment_open: Regex,
    ml_comment_close: Regex,
    ml_comment_margin: Regex,
    heredoc_name: Regex,
    unenc_var: Regex,
    end_string: Regex,
    esc_dquote: Regex,
}

static PATTERNS: LazyLock<Patterns> = LazyLock::new(|| Patterns {
    whitespace: re(&format!(r"\A{WS}+")),
    type_name: re(
        r"\A(?:Integer|Float|Boolean|Regexp|String|Array|Hash|Resource|Class|Collection|Scalar|Numeric|CatalogEntry|Data|Tuple|Struct|Optional|NotUndef|Variant|Enum|Pattern|Any|Callable|Type|Runtime|Undef|Default|Sensitive)(?-u:\b)",
    ),
    classref: re(r"\A(?:(?:::)?[A-Z][-A-Za-z0-9_]*)+"),
    number: re(r"\A(?-u:\b)(?:0[xX][0-9A-Fa-f]+|0?[0-9]+(?:\.[0-9]+)?(?:[eE]-?[0-9]+)?)(?-u:\b)"),
    heredoc_open: re(&format!(r#"\A@\(("?.+?"?(?::.+?)?{WS}*(?:/.*?)?)\)"#)),
    slash_comment: re(r"\A//[^\r\n]*"),
    ml_comment: re(r"(?s)\A/\*.*?\*/"),
    eol: re(&format!(r"\A{LINE_END}")),
    ml_comment_open: re(r"\A/\* ?"),
    ml_comment_close: re(r" ?\*/\n?\z"),
    ml_comment_margin: re(r"(?m)^ *\*"),
    heredoc_name: re(&format!(r#"\A"?(.+?)"?(?::.+?)?{WS}*(?:/.*)?\n?\z"#)),
    unenc_var: re(
        r"\A(?:|[^\\])\$(?:::)?(?:[A-Za-z0-9_]+(?:-[A-Za-z0-9_]+)*::)*[A-Za-z0-9_]+(?:-[A-Za-z0-9_]+)*",
    ),
    end_string: re(r#"\A(?:|[^\\])(?:\\\\)*""#),
    esc_dquote: re(r#"\A\\+""#),
});

thread_local! {
    /// Each thread's own copy: a `Regex` shared between threads hands out
    /// its search caches through a pool, which costs more than the searches
    /// themselves when files are linted in parallel. One copy per thread,
    /// kept for the process's life.
    static LOCAL_PATTERNS: &'static Patterns = Box::leak(Box::new(PATTERNS.clone()));
}

fn patterns() -> &'static Patterns {
    LOCAL_PATTERNS.with(|p| *p)
}

/// Lexes a manifest the way puppet-lint 3 does.
pub fn tokenise(code: &str) -> Result<TokenList, LexError> {
    let mut lexer = Lexer::default();
    lexer.run(code)?;
    Ok(TokenList::new(lexer.tokens))
}

#[derive(Default)]
struct Lexer {
    tokens: Vec<Token>,
    line: usize,
    column: usize,
    heredoc_queue: std::collections::VecDeque<String>,
}

impl Lexer {
    fn run(&mut self, code: &str) -> Result<(), LexError> {
        if self.line == 0 {
            self.line = 1;
            self.column = 1;
        }
        let p = patterns();
        let mut i = 0;
        while i < code.len() {
            let chunk = &code[i..];
            if let Some((kind, len)) = self.known_token(chunk) {
                let value = chunk[..len].to_string();
                self.push(kind, value, None);
                i += len;
                continue;
            }
            let length;
            let first = chunk.as_bytes()[0];
            if let Some(name_length) = (first == b'$')
                .then(|| variable_name_length(&chunk[1..]))
                .flatten()
            {
                let name = &chunk[1..1 + name_length];
                length = name.len() + 1;
                self.push(Kind::Variable, name.to_string(), Some(format!("${name}")));
            } else if first == b'\'' && chunk[1..].contains('\'') {
                let rest = &chunk[1..];
                // Every quote escaped: puppet-lint crashes; granule reports
                // the string as unterminated.
                let end = unescaped_end(rest, b'\'').ok_or(LexError {
                    line: self.line,
                    column: self.column,
                    reason: Some("unterminated string"),
                })?;
                length = end + 1;
                self.push(Kind::SString, rest[..end - 1].to_string(), None);
            } else if first == b'"' {
                let mut slurper = Slurper::new(&chunk[1..]);
                let segments = slurper.parse().ok_or(LexError {
                    line: self.line,
                    column: self.column,
                    reason: Some("unterminated string"),
                })?;
                self.string_segments(segments)?;
                length = slurper.pos + 1;
            } else if let Some(open) = (first == b'@')
                .then(|| p.heredoc_open.captures(chunk))
                .flatten()
            {
                let tag = open.get(1).map_or("", |m| m.as_str()).to_string();
                length = tag.len() + 3;
                self.heredoc_queue.push_back(tag.clone());
                self.push(Kind::HeredocOpen, tag, None);
            } else if first == b'#' {
                length = chunk.find(['\r', '\n']).unwrap_or(chunk.len());
                self.push(Kind::Comment, chunk[1..length].to_string(), None);
            } else if let Some(m) = (first == b'/')
                .then(|| p.slash_comment.find(chunk))
                .flatten()
            {
                length = m.len();
                self.push(Kind::SlashComment, m.as_str()[2..].to_string(), None);
            } else if let Some(m) = (first == b'/').then(|| p.ml_comment.find(chunk)).flatten() {
                length = m.len();
                let raw = m.as_str();
                let value = p.ml_comment_open.replace(raw, "");
                let value = p.ml_comment_close.replace(&value, "");
                let value = p.ml_comment_margin.replace_all(&value, "");
                self.push(Kind::MlComment, value.into_owned(), Some(raw.to_string()));
            } else if first == b'/' && chunk[1..].contains('/') && self.regex_possible() {
                let rest = &chunk[1..];
                let end = unescaped_end(rest, b'/').ok_or(LexError {
                    line: self.line,
                    column: self.column,
                    reason: Some("unterminated regex"),
                })?;
                length = end + 1;
                self.push(Kind::Regex, rest[..end - 1].to_string(), None);
            } else if let Some((eol, indent)) = matches!(first, b'\r' | b'\n')
                .then(|| line_end_and_indent(chunk))
                .flatten()
            {
                self.push(Kind::Newline, chunk[..eol].to_string(), None);
                let mut len = eol;
                if let Some(tag) = self.heredoc_queue.pop_front() {
                    len += self.heredoc(&code[i + len..], &tag)?;
                } else {
                    self.push(Kind::Indent, chunk[eol..eol + indent].to_string(), None);
                    len += indent;
                }
                length = len;
            } else if let Some(m) = p.eol.find(chunk) {
                let mut len = m.len();
                self.push(Kind::Newline, m.as_str().to_string(), None);
                if let Some(tag) = self.heredoc_queue.pop_front() {
                    len += self.heredoc(&code[i + len..], &tag)?;
                }
                length = len;
            } else if first == b'/' {
                length = 1;
                self.push(Kind::Punct(Punct::Div), "/".into(), None);
            } else if first == b'@' {
                length = 1;
                self.push(Kind::Punct(Punct::At), "@".into(), None);
            } else {
                return Err(LexError {
                    line: self.line,
                    column: self.column,
                    reason: None,
                });
            }
            i += length;
        }
        Ok(())
    }

    /// The tokens puppet-lint matches with one pattern each (`KNOWN_TOKENS`),
    /// the first that matches winning.
    fn known_token(&self, chunk: &str) -> Option<(Kind, usize)> {
        let p = patterns();
        // Each pattern can only match at a character it may start with;
        // asking only the patterns that may is what makes lexing fast.
        let first = chunk.chars().next()?;
        let may_be_whitespace = first == '\t'
            || first == '\x0B'
            || first == '\x0C'
            || first == ' '
            || !first.is_ascii();
        if may_be_whitespace {
            if let Some(len) = ascii_whitespace(chunk) {
                return Some((Kind::Whitespace, len));
            }
            if let Some(m) = p.whitespace.find(chunk) {
                return Some((Kind::Whitespace, m.len()));
            }
        }
        if first.is_ascii_uppercase() || first == ':' {
            if let Some(m) = p.type_name.find(chunk) {
                return Some((Kind::Type, m.len()));
            }
            if let Some(m) = p.classref.find(chunk) {
                return Some((Kind::ClassRef, m.len()));
            }
        }
        if first.is_ascii_digit() {
            if let Some(m) = p.number.find(chunk) {
                return Some((Kind::Number, m.len()));
            }
        }
        let may_be_name =
            first.is_ascii_lowercase() || first.is_ascii_digit() || first == '_' || first == ':';
        if let Some(len) = may_be_name.then(|| name_length(chunk)).flatten() {
            let text = &chunk[..len];
            if chunk[len..].starts_with('(') {
                return Some((Kind::FunctionName, len));
            }
            // Keywords are 2 to 8 lowercase letters.
            let kind = if (2..=8).contains(&text.len()) {
                KEYWORDS
                    .iter()
                    .find(|(word, _)| *word == text)
                    .map_or(Kind::Name, |(_, k)| Kind::Keyword(*k))
            } else {
                Kind::Name
            };
            return Some((kind, len));
        }
        let byte = chunk.as_bytes()[0];
        PUNCTS
            .iter()
            .find(|(text, _)| text.as_bytes()[0] == byte && chunk.starts_with(text))
            .map(|(text, punct)| (Kind::Punct(*punct), text.len()))
    }

    fn regex_possible(&self) -> bool {
        self.tokens
            .iter()
            .rev()
            .find(|t| !t.kind.is_formatting())
            .is_none_or(|t| t.kind.regex_may_follow())
    }

    /// puppet-lint's `new_token`: the token at the current position, which
    /// then moves past the token's printed form as known so far (the next
    /// token is not known yet, so a string part prints with `${`).
    fn push(&mut self, kind: Kind, value: String, raw: Option<String>) {
        if kind == Kind::UnencVariable {
            self.column = self.column.saturating_sub(2);
        }
        let token = Token {
            kind,
            value,
            raw,
            line: self.line,
            column: self.column,
        };
        let prints_as_value = matches!(
            kind,
            Kind::Whitespace
                | Kind::Indent
                | Kind::Type
                | Kind::ClassRef
                | Kind::Number
                | Kind::FunctionName
                | Kind::Name
                | Kind::Keyword(_)
                | Kind::Punct(_)
                | Kind::SlashComment
        );
        if kind == Kind::Newline {
            self.line += 1;
            self.column = 1;
        } else if prints_as_value && !token.value.contains(['\n', '\r']) {
            // Most tokens print as their value on one line: no need to
            // print them to know where the next one starts.
            self.column += token.value.chars().count();
        } else {
            let around = Neighbours {
                prev: self.tokens.last().map(|t| t.kind),
                next: None,
                prev_code: self
                    .tokens
                    .iter()
                    .rev()
                    .find(|t| !t.kind.is_formatting())
                    .map(|t| t.kind),
            };
            let printed = render(&token, around);
            let lines = split_lines(&printed);
            let last = lines.last().map_or(0, |l| l.chars().count());
            if lines.len() > 1 {
                self.line += lines.len() - 1;
                self.column = last + 1;
            } else {
                self.column += last;
            }
        }
        self.tokens.push(token);
    }

    fn string_segments(&mut self, segments: Vec<Segment>) -> Result<(), LexError> {
        let n = segments.len();
        if n == 0 {
            return Ok(());
        }
        if n == 1 {
            self.push(Kind::String, segments[0].text.clone(), None);
            return Ok(());
        }
        self.push(Kind::DqPre, segments[0].text.clone(), None);
        self.middle_segments(&segments[1..n - 1], Kind::DqMid)?;
        self.push(Kind::DqPost, segments[n - 1].text.clone(), None);
        Ok(())
    }

    fn middle_segments(&mut self, segments: &[Segment], text_kind: Kind) -> Result<(), LexError> {
        for segment in segments {
            match segment.kind {
                SegmentKind::Interp => self.interpolation(&segment.text)?,
                SegmentKind::UnencVar => {
                    let name = segment.text.strip_prefix('$').unwrap_or(&segment.text);
                    self.push(Kind::UnencVariable, name.to_string(), None);
                }
                _ => self.push(text_kind, segment.text.clone(), None),
            }
        }
        Ok(())
    }

    /// The tokens of `${...}`, lexed on their own and then placed here; a
    /// name first in them is a variable.
    fn interpolation(&mut self, text: &str) -> Result<(), LexError> {
        let mut inner = Lexer::default();
        inner.run(text)?;
        for (n, token) in inner.tokens.into_iter().enumerate() {
            let kind = if n == 0 && interpolated_variable(&token) {
                Kind::Variable
            } else {
                token.kind
            };
            self.push(kind, token.value, token.raw);
        }
        Ok(())
    }

    /// Lexes the text of a heredoc that starts at `text`; returns the bytes
    /// it took.
    fn heredoc(&mut self, text: &str, tag: &str) -> Result<usize, LexError> {
        let mut slurper = Slurper::new(text);
        let mut segments = slurper.parse_heredoc(tag);
        let consumed = slurper.pos;
        let Some(end_tag) = segments.pop() else {
            return Ok(consumed);
        };
        let n = segments.len();
        if n == 1 {
            let value = segments.remove(0).text;
            let raw = format!("{value}{}", end_tag.text);
            self.push(Kind::Heredoc, value, Some(raw));
            return Ok(consumed);
        }
        if n == 0 {
            return Ok(consumed);
        }
        self.push(Kind::HeredocPre, segments[0].text.clone(), None);
        self.middle_segments(&segments[1..n - 1], Kind::HeredocMid)?;
        let post = segments[n - 1].text.clone();
        let raw = format!("{post}{}", end_tag.text);
        self.push(Kind::HeredocPost, post, Some(raw));
        Ok(consumed)
    }
}

fn interpolated_variable(token: &Token) -> bool {
    match token.kind {
        Kind::Type => token.value == "type",
        Kind::Name | Kind::Keyword(_) => true,
        _ => false,
    }
}

/// Ruby's `split(LINE_END_RE, -1)`.
fn split_lines(text: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    let mut start = 0;
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\r' if bytes.get(i + 1) == Some(&b'\n') => {
                lines.push(&text[start..i]);
                i += 2;
                start = i;
            }
            b'\r' | b'\n' => {
                lines.push(&text[start..i]);
                i += 1;
                start = i;
            }
            _ => i += 1,
        }
    }
    lines.push(&text[start..]);
    lines
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SegmentKind {
    Text,
    Interp,
    UnencVar,
    HeredocTerm,
}

#[derive(Debug)]
struct Segment {
    kind: SegmentKind,
    text: String,
}

/// puppet-lint's `StringSlurper`: splits the text of a double-quoted string
/// or heredoc into text, `${...}` and `$var` segments.
struct Slurper<'a> {
    text: &'a str,
    pos: usize,
    results: Vec<Segment>,
    /// Open braces of the current interpolation.
    depth: usize,
    /// The pieces of the segment being read (the last piece matters: a lone
    /// backslash escapes what follows).
    pieces: Vec<&'a str>,
}

impl<'a> Slurper<'a> {
    fn new(text: &'a str) -> Slurper<'a> {
        Slurper {
            text,
            pos: 0,
            results: Vec::new(),
            depth: 0,
            pieces: Vec::new(),
        }
    }

    fn rest(&self) -> &'a str {
        &self.text[self.pos..]
    }

    fn take(&mut self, len: usize) -> &'a str {
        let piece = &self.text[self.pos..self.pos + len];
        self.pos += len;
        piece
    }

    fn flush(&mut self, kind: SegmentKind) {
        let text = self.pieces.concat();
        self.pieces.clear();
        self.results.push(Segment { kind, text });
    }

    /// The segments of a double-quoted string up to its closing quote, or
    /// `None` when it has none.
    fn parse(&mut self) -> Option<Vec<Segment>> {
        let p = patterns();
        let mut closed = false;
        while self.pos < self.text.len() {
            let rest = self.rest();
            if rest.starts_with("${") {
                self.start_interp(SegmentKind::Text);
            } else if self.depth > 0 && rest.starts_with('{') {
                self.read_char();
            } else if rest.starts_with('}') {
                self.end_interp();
            } else if self.unenclosed_variable() {
                self.take_unenclosed_variable(SegmentKind::Text);
            } else if let Some(m) = p.end_string.find(rest) {
                let piece = self.take(m.end());
                if self.depth == 0 {
                    self.pieces.push(&piece[..piece.len() - 1]);
                    self.flush(SegmentKind::Text);
                    closed = true;
                    break;
                }
                self.pieces.push(piece);
            } else if let Some(m) = p.esc_dquote.find(rest) {
                let piece = self.take(m.end());
                self.pieces.push(piece);
            } else {
                self.read_char();
            }
        }
        closed.then(|| std::mem::take(&mut self.results))
    }

    fn parse_heredoc(&mut self, tag: &str) -> Vec<Segment> {
        let p = patterns();
        let name = p
            .heredoc_name
            .captures(tag)
            .and_then(|c| c.get(1))
            .map_or("", |m| m.as_str());
        // Ruby's `\s` is ASCII white space.
        let end = re(&format!(
            r"\A\|?[ \t\r\n\x0B\x0C]*-?[ \t\r\n\x0B\x0C]*{}(?m:$)",
            regex::escape(name)
        ));
        let interpolation = tag.starts_with('"');
        while self.pos < self.text.len() {
            let rest = self.rest();
            if let Some(m) = end.find(rest) {
                self.flush(SegmentKind::Text);
                let term = self.take(m.end());
                self.results.push(Segment {
                    kind: SegmentKind::HeredocTerm,
                    text: term.to_string(),
                });
                if self.depth == 0 {
                    break;
                }
            } else if interpolation && rest.starts_with("${") {
                self.start_interp(SegmentKind::Text);
            } else if interpolation && self.depth > 0 && rest.starts_with('{') {
                self.read_char();
            } else if interpolation && self.unenclosed_variable() {
                self.take_unenclosed_variable(SegmentKind::Text);
            } else if interpolation && rest.starts_with('}') {
                self.end_interp();
            } else {
                self.read_char();
            }
        }
        std::mem::take(&mut self.results)
    }

    fn read_char(&mut self) {
        let len = self.rest().chars().next().map_or(0, char::len_utf8);
        let piece = self.take(len);
        self.pieces.push(piece);
        if self.depth > 0 {
            match piece {
                "{" => self.depth += 1,
                "}" => self.depth -= 1,
                _ => {}
            }
        }
    }

    fn start_interp(&mut self, kind: SegmentKind) {
        if self.pieces.last() == Some(&"\\") {
            self.read_char();
            return;
        }
        let piece = self.take(2);
        if self.depth == 0 {
            self.flush(kind);
        } else {
            self.pieces.push(piece);
        }
        self.depth += 1;
    }

    fn end_interp(&mut self) {
        let piece = self.take(1);
        if self.depth == 0 {
            self.pieces.push(piece);
            return;
        }
        self.depth -= 1;
        if self.depth == 0 {
            self.flush(SegmentKind::Interp);
        } else {
            self.pieces.push(piece);
        }
    }

    fn unenclosed_variable(&self) -> bool {
        self.depth == 0
            && patterns().unenc_var.is_match(self.rest())
            && self.pieces.last().is_none_or(|p| !p.ends_with('\\'))
    }

    fn take_unenclosed_variable(&mut self, kind: SegmentKind) {
        let mut chars = self.rest().chars();
        if chars.next().is_some_and(|c| c != '\n') && chars.next() == Some('$') {
            self.read_char();
        }
        self.flush(kind);
        let m = patterns()
            .unenc_var
            .find(self.rest())
            .map_or(0, |m| m.end());
        let var = self.take(m);
        self.results.push(Segment {
            kind: SegmentKind::UnencVar,
            text: var.to_string(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// puppet-lint's patterns that hand-written matchers stand for.
    struct Reference {
        name: Regex,
        whitespace: Regex,
        eol_indent: Regex,
        variable: Regex,
        quote_ends: [(u8, Regex); 2],
    }

    static REFERENCE: LazyLock<Reference> = LazyLock::new(|| Reference {
        name: re(r"\A(?:(?:::)?[_a-z0-9][-A-Za-z0-9_]*)(?:::[a-z0-9][-A-Za-z0-9_]*)*"),
        whitespace: re(&format!(r"\A{WS}+")),
        eol_indent: re(&format!(r"\A({LINE_END})({WS}+)")),
        variable: re(
            r"\A\$((?:::)?(?:[A-Za-z0-9_]+(?:-[A-Za-z0-9_]+)*::)*[A-Za-z0-9_]+(?:-[A-Za-z0-9_]+)*(?:\[.+?\])*)",
        ),
        quote_ends: [
            (b'\'', re(r"(?s)(?:\A|[^\\])(?:\\\\)*'")),
            (b'/', re(r"(?s)(?:\A|[^\\])(?:\\\\)*/")),
        ],
    });

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(5000))]

        /// The hand-written matchers agree with puppet-lint's patterns they
        /// stand for, on strings of the characters that matter to them.
        #[test]
        fn hand_matchers_are_the_patterns(text in "[a-zA-Z0-9_:(\\- \t\x0B\r\n\u{a0}\u{2003}é]{0,14}") {
            let reference = &*REFERENCE;
            prop_assert_eq!(name_length(&text), reference.name.find(&text).map(|m| m.len()));
            if let Some(len) = ascii_whitespace(&text) {
                prop_assert_eq!(Some(len), reference.whitespace.find(&text).map(|m| m.len()));
            }
            let expected = reference
                .eol_indent
                .captures(&text)
                .map(|c| (c[1].len(), c[2].len()));
            prop_assert_eq!(line_end_and_indent(&text), expected);
        }

        #[test]
        fn variable_matcher_is_the_pattern(text in "[a-zA-Z0-9_:\\-\\[\\]\n\r $é]{0,16}") {
            let dollar = format!("${text}");
            let expected = REFERENCE
                .variable
                .captures(&dollar)
                .and_then(|c| c.get(1))
                .map(|m| m.len());
            prop_assert_eq!(variable_name_length(&text), expected);
        }

        #[test]
        fn quote_end_matcher_is_the_pattern(text in "[a\\\\'/\né]{0,12}") {
            for (quote, pattern) in &REFERENCE.quote_ends {
                let expected = pattern.find(&text).map(|m| m.end());
                prop_assert_eq!(unescaped_end(&text, *quote), expected);
            }
        }
    }

    fn kinds_and_columns(code: &str) -> Vec<(Kind, usize, usize)> {
        tokenise(code)
            .unwrap()
            .tokens
            .iter()
            .map(|t| (t.kind, t.line, t.column))
            .collect()
    }

    #[test]
    fn unenclosed_variables_take_back_the_assumed_brace() {
        let tokens = kinds_and_columns("\"a $b c\"");
        assert_eq!(
            tokens,
            vec![
                (Kind::DqPre, 1, 1),
                (Kind::UnencVariable, 1, 4),
                (Kind::DqPost, 1, 6)
            ]
        );
    }

    #[test]
    fn indentation_is_its_own_token() {
        let tokens = kinds_and_columns("class a {\n  $x = 1\n}\n");
        assert!(tokens.contains(&(Kind::Indent, 2, 1)));
        assert!(tokens.contains(&(Kind::Variable, 2, 3)));
    }
}
