//! Recursive-descent parser producing the tree Puppet's racc grammar
//! (`egrammar.ra`) and its factory produce.
//!
//! The grammar's levels, from the loosest:
//! statements > syntactic statement (`a, b, c`) > assignment (`=`, `+=`, `-=`,
//! right-assoc) > relationship (`->`, `~>`, `<-`, `<~`) > resource
//! (`@`/`@@`, `x { ... }`) > expression. Expressions use precedence climbing
//! with Puppet's table (loosest first): `or`, `and`, `?` (selector),
//! `< <= > >=`, `== !=`, `<< >>`, `+ -`, `* / %`, `=~ !~`, `in`; then the
//! prefix operators `! - *`, then postfix `(...)`, `.name`, `[...]`, `<| |>`.

use crate::ast::*;
use crate::diagnostics::{Diagnostic, SyntaxError};
use crate::legacy;
use crate::lexer::{lex, lex_epp, Tok, Token};
use crate::span::Span;
use recovery::{Recovery, Resumed};

mod recovery;

type Result<T> = std::result::Result<T, SyntaxError>;

/// How deep expressions may nest before parsing stops with an error, in
/// levels of the parser's recursion (a bracket, a block or an operand counts
/// one, a call's arguments or a lambda two, a selector's value three).
///
/// Puppet has no limit of its own: its parser is a table-driven LALR
/// automaton, but its validator, evaluator and PN dump recurse in Ruby and
/// die of `SystemStackError` (`puppet parser validate` exits 1 and prints
/// nothing) at 437 to 1,977 levels depending on the construct, on Ruby's
/// default stack. This limit lies above every one of them, so that granule
/// refuses only what Puppet cannot handle (`tests/tests/nesting_parity.rs`
/// checks it against `puppet parser validate`).
pub const MAX_NESTING: usize = 2_500;

/// How deep string interpolations (`"${"${...}"}"`) may nest. Puppet's lexer
/// recurses for each one and runs out of Ruby's stack between 1,400 and 1,500
/// of them (its validator already at 717).
pub const MAX_INTERPOLATION: usize = 1_000;

/// Nesting handled on the caller's thread. Deeper input is parsed again on
/// a thread of its own with a stack large enough for [`MAX_NESTING`]: a
/// nesting level costs several stack frames (up to ~20 KiB in debug builds),
/// more than a 2 MiB thread stack holds at full depth.
const SHALLOW_NESTING: usize = 40;

/// Stack of the thread that parses deeply nested input.
const DEEP_STACK_BYTES: usize = 256 << 20;

/// Limits of one parsing attempt.
#[derive(Clone, Copy)]
pub(crate) struct Limits {
    pub nesting: usize,
    pub interpolation: usize,
}

impl Limits {
    pub const SHALLOW: Limits = Limits {
        nesting: SHALLOW_NESTING,
        interpolation: 10,
    };
    pub const FULL: Limits = Limits {
        nesting: MAX_NESTING,
        interpolation: MAX_INTERPOLATION,
    };
}

/// Parses Puppet source into a [`Program`], exactly as Puppet 7 does.
pub fn parse(source: &str) -> Result<Program> {
    parse_as(source, ParseOptions::default()).map(|parsed| parsed.program)
}

/// Parses an EPP template into a [`Program`] whose body is an
/// [`ExprKind::Epp`], as Puppet's `EppParser` does.
pub fn parse_epp(source: &str) -> Result<Program> {
    let options = ParseOptions {
        epp: true,
        ..ParseOptions::default()
    };
    parse_as(source, options).map(|parsed| parsed.program)
}

/// How to read a source.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ParseOptions {
    /// An EPP template (`*.epp`) rather than a manifest.
    pub epp: bool,
    /// Read the Puppet 3 constructs Puppet 7 reads otherwise or rejects
    /// (`Service ['x']`, `$h[type]`, `$my-var`, ...) with their Puppet 3
    /// meaning, and report each in [`Parsed::legacy`].
    pub legacy: bool,
}

/// A parse that went on after syntax errors: the tree of everything that
/// parsed, every error in source order (none when the source parses), and
/// the Puppet 3 constructs read with their Puppet 3 meaning.
#[derive(Debug)]
pub struct Parsed {
    pub program: Program,
    pub errors: Vec<SyntaxError>,
    pub legacy: Vec<Diagnostic>,
}

/// Parses Puppet source as Puppet 7 does, recovering from syntax errors: the
/// first error is the one [`parse`] reports (Puppet's), the others follow.
pub fn parse_recovering(source: &str) -> Parsed {
    parse_with_options(source, ParseOptions::default())
}

/// Parses Puppet source as Puppet 3 read it ([`ParseOptions::legacy`]),
/// recovering from syntax errors.
pub fn parse_legacy_recovering(source: &str) -> Parsed {
    let options = ParseOptions {
        legacy: true,
        ..ParseOptions::default()
    };
    parse_with_options(source, options)
}

/// [`parse_recovering`] for an EPP template.
pub fn parse_epp_recovering(source: &str) -> Parsed {
    let options = ParseOptions {
        epp: true,
        ..ParseOptions::default()
    };
    parse_with_options(source, options)
}

/// Parses `source` as `options` say, recovering from syntax errors.
pub fn parse_with_options(source: &str, options: ParseOptions) -> Parsed {
    let first = match parse_as(source, options) {
        Ok(parsed) => return parsed,
        Err(first) => first,
    };
    // Files with errors are rare: parse them again, on a stack deep enough
    // for the full limits, keeping every error.
    let recovered = on_deep_stack(|| parse_with(source, Limits::FULL, options, true));
    let mut parsed = match recovered {
        Ok(Ok(parsed)) => parsed,
        _ => Parsed {
            program: unparsed(Vec::new()),
            errors: Vec::new(),
            legacy: Vec::new(),
        },
    };
    let errors = &mut parsed.errors;
    if errors.first() != Some(&first) {
        errors.insert(0, first);
    }
    errors[1..].sort_by_key(|error| error.span.start);
    errors.dedup_by_key(|error| error.span.start);
    parsed
}

/// The program of a source whose statements could not be recovered.
fn unparsed(comments: Vec<Comment>) -> Program {
    Program {
        body: Expr::new(ExprKind::Nop, Span::default()),
        comments,
    }
}

/// Runs `parse` on a thread whose stack holds [`MAX_NESTING`] levels.
fn on_deep_stack<T: Send>(parse: impl FnOnce() -> T + Send) -> Result<T> {
    std::thread::scope(|scope| {
        let thread = std::thread::Builder::new()
            .name("granule-deep-parse".into())
            .stack_size(DEEP_STACK_BYTES)
            .spawn_scoped(scope, parse)
            .map_err(|e| {
                SyntaxError::new(
                    format!("cannot start a parser thread: {e}"),
                    Span::default(),
                )
            })?;
        Ok(thread
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
    })
}

/// Parses without recovering: the tree, or the first syntax error.
fn parse_as(source: &str, options: ParseOptions) -> Result<Parsed> {
    match parse_with(source, Limits::SHALLOW, options, false) {
        Err(Attempt::TooDeep) => {}
        Err(Attempt::Failed(error)) => return Err(error),
        Ok(parsed) => return Ok(parsed),
    }
    on_deep_stack(|| parse_with(source, Limits::FULL, options, false))?.map_err(|attempt| {
        match attempt {
            Attempt::Failed(error) => error,
            Attempt::TooDeep => unreachable!("full limits report their own error"),
        }
    })
}

/// Why one parsing attempt stopped.
pub(crate) enum Attempt {
    /// The input nests deeper than the attempt's shallow limits allow.
    TooDeep,
    Failed(SyntaxError),
}

impl From<SyntaxError> for Attempt {
    fn from(error: SyntaxError) -> Attempt {
        Attempt::Failed(error)
    }
}

/// One parsing attempt; with `recover`, syntax errors inside statements are
/// collected in [`Parsed::errors`] and parsing goes on.
fn parse_with(
    source: &str,
    limits: Limits,
    options: ParseOptions,
    recover: bool,
) -> std::result::Result<Parsed, Attempt> {
    let lexed = if options.epp {
        lex_epp(source, limits, options.legacy)?
    } else {
        lex(source, limits, options.legacy)?
    };
    let mut parser = Parser {
        source,
        tokens: &lexed.tokens,
        heredoc_bodies: &lexed.heredoc_bodies,
        pos: 0,
        namestack: Vec::new(),
        depth: 0,
        limit: limits.nesting,
        too_deep: false,
        recovery: recover.then(|| Recovery::new(&lexed.tokens)),
        legacy: options.legacy.then(Vec::new),
    };
    let body = if options.epp {
        parser.epp_program()
    } else {
        parser.program(source.len())
    };
    let mut errors = parser
        .recovery
        .map(|recovery| recovery.errors)
        .unwrap_or_default();
    let mut legacy = lexed.legacy;
    legacy.extend(parser.legacy.unwrap_or_default());
    legacy.sort_by_key(|finding| finding.span.start);
    legacy.dedup();
    // The parser stopped at the end of the tokens: a lexing error there is
    // what Puppet, whose lexer runs only as far as its parser, reports.
    let reached_end = parser.pos + 1 >= lexed.tokens.len();
    let body = match lexed.deferred {
        Some(error) if recover && reached_end => {
            errors.push(error);
            body
        }
        Some(error) if !recover && (body.is_ok() || reached_end) => Err(error),
        _ => body,
    };
    match body {
        Ok(body) => Ok(Parsed {
            program: Program {
                body,
                comments: lexed.comments,
            },
            errors,
            legacy,
        }),
        Err(error) if recover => {
            errors.push(error);
            Ok(Parsed {
                program: unparsed(lexed.comments),
                errors,
                legacy,
            })
        }
        Err(_) if parser.too_deep && limits.nesting < MAX_NESTING => Err(Attempt::TooDeep),
        Err(error) => Err(Attempt::Failed(error)),
    }
}

struct Parser<'t> {
    source: &'t str,
    tokens: &'t [Token],
    /// `Lexed::heredoc_bodies`.
    heredoc_bodies: &'t [(u32, Span)],
    pos: usize,
    /// Names of the enclosing classes: nested classes and defines get them
    /// as a prefix.
    namestack: Vec<String>,
    depth: usize,
    limit: usize,
    /// Whether parsing stopped at the nesting limit.
    too_deep: bool,
    /// Set when syntax errors are collected and parsing goes on after them.
    recovery: Option<Recovery>,
    /// Set when Puppet 3 constructs are read with their Puppet 3 meaning:
    /// the findings about them.
    legacy: Option<Vec<Diagnostic>>,
}

/// One statement as the grammar sees it: an expression, or a comma separated
/// list (only meaningful as the arguments of a preceding statement call).
enum Syntactic {
    Single(Expr),
    List { items: Vec<Expr>, first_comma: Span },
}

/// Attribute names: names and keywords, but not `true`/`false`.
fn is_attribute_name(kind: Tok) -> bool {
    kind == Tok::Name || (kind.is_keyword() && !matches!(kind, Tok::True | Tok::False))
}

/// Functions that may be called without parentheses at statement level.
fn is_statement_call(name: &str) -> bool {
    matches!(
        name,
        "require"
            | "realize"
            | "include"
            | "contain"
            | "tag"
            | "debug"
            | "info"
            | "notice"
            | "warning"
            | "err"
            | "fail"
            | "import"
            | "break"
            | "next"
            | "return"
    )
}

fn block_or_expression(mut statements: Vec<Expr>, span: Option<Span>) -> Expr {
    if statements.len() == 1 {
        return statements.pop().expect("one statement");
    }
    let span = span.unwrap_or_else(|| {
        statements
            .first()
            .map(|f| f.span.to(statements.last().expect("nonempty").span))
            .unwrap_or_default()
    });
    Expr::new(ExprKind::Block(statements), span)
}

/// A body Puppet always wraps in a block (classes, lambdas, case options...).
fn block_body(statements: Option<(Vec<Expr>, Span)>) -> Option<Expr> {
    statements.map(|(statements, span)| Expr::new(ExprKind::Block(statements), span))
}

impl<'t> Parser<'t> {
    fn peek(&self) -> Tok {
        self.tokens[self.pos].kind
    }

    fn peek_at(&self, n: usize) -> Tok {
        self.tokens.get(self.pos + n).map_or(Tok::Eof, |t| t.kind)
    }

    /// A token's value (see [`Token::text`]).
    fn text(&self, token: &'t Token) -> &'t str {
        token.text(self.source)
    }

    /// A token's value, owned (for the tree).
    fn owned(&self, token: &'t Token) -> String {
        token.text(self.source).to_string()
    }

    fn token(&self) -> &'t Token {
        &self.tokens[self.pos]
    }

    fn advance(&mut self) -> &'t Token {
        let token = &self.tokens[self.pos];
        if token.kind != Tok::Eof {
            self.pos += 1;
        }
        token
    }

    fn eat(&mut self, kind: Tok) -> Option<&'t Token> {
        if self.peek() == kind {
            Some(self.advance())
        } else {
            None
        }
    }

    fn expect(&mut self, kind: Tok) -> Result<&'t Token> {
        if self.peek() == kind {
            Ok(self.advance())
        } else {
            Err(self.unexpected())
        }
    }

    /// Puppet's message for a token the grammar does not accept here.
    fn unexpected(&self) -> SyntaxError {
        let token = self.token();
        if token.kind == Tok::Eof {
            SyntaxError::new("Syntax error at end of input", token.span)
        } else {
            SyntaxError::new(
                format!("Syntax error at '{}'", self.text(token)),
                token.span,
            )
        }
    }

    fn prev_end(&self) -> u32 {
        if self.pos == 0 {
            0
        } else {
            self.tokens[self.pos - 1].span.end
        }
    }

    fn span_from(&self, start: u32) -> Span {
        Span {
            start,
            end: self.prev_end().max(start),
        }
    }

    fn enter(&mut self) -> Result<()> {
        self.depth += 1;
        if self.depth > self.limit {
            self.too_deep = true;
            return Err(SyntaxError::new(
                format!(
                    "Expression nested too deeply for Puppet (granule stops at {MAX_NESTING} \
                     levels): simplify it"
                ),
                self.token().span,
            ));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    /// Whether the keyword `kind` (`function` or `type`) at the current token
    /// starts a definition, as Puppet 7 always reads it.
    fn starts_definition(&self, kind: Tok) -> bool {
        match kind {
            Tok::Function => self.peek_at(1) == Tok::Name,
            _ => matches!(self.peek_at(1), Tok::ClassRef | Tok::LParen),
        }
    }

    fn legacy_finding(&mut self, code: &str, message: String, span: Span) {
        if let Some(findings) = self.legacy.as_mut() {
            findings.push(legacy::finding(code, message, span));
        }
    }

    /// Parses a left-deep chain (`a + b + c`, `a -> b -> c`, `a.b.c`) with
    /// `parse`, which counts each link as a level of nesting: the tree is as
    /// deep as the chain is long, and whatever walks it recursively
    /// (printing, dropping) must not run out of stack either.
    fn chain(&mut self, parse: impl FnOnce(&mut Self) -> Result<Expr>) -> Result<Expr> {
        let depth = self.depth;
        let result = parse(self);
        self.depth = depth;
        result
    }

    fn program(&mut self, len: usize) -> Result<Expr> {
        if self.peek() == Tok::Eof {
            return Ok(Expr::new(ExprKind::Nop, Span::new(len, len)));
        }
        let mut statements = self.statements()?;
        while self.peek() != Tok::Eof {
            // Something that starts no statement, at the top: skip it.
            let checkpoint = self.checkpoint();
            let error = self.unexpected();
            match checkpoint {
                Some(checkpoint) => {
                    let resume_from = self.pos + 1;
                    if let Resumed::AtStatement = self.recover(error, &checkpoint, resume_from)? {
                        statements.extend(self.statements()?);
                    }
                }
                None => return Err(error),
            }
        }
        Ok(block_or_expression(statements, None))
    }

    /// `epp_expression`: the template's optional `| parameters |`, then its
    /// text and code, always as a block (Puppet's `EppExpression` body).
    fn epp_program(&mut self) -> Result<Expr> {
        let start = self.expect(Tok::EppStart)?.span.start;
        let params = match self.eat(Tok::Pipe) {
            Some(_) => Some(self.pipe_parameters()?),
            None => None,
        };
        let body = if self.peek() == Tok::Eof {
            None
        } else {
            let body_start = self.token().span.start;
            let statements = self.statements()?;
            if self.peek() != Tok::Eof {
                return Err(self.unexpected());
            }
            Some(Expr::new(
                ExprKind::Block(statements),
                self.span_from(body_start),
            ))
        };
        Ok(Expr::new(
            ExprKind::Epp(Box::new(Epp { params, body })),
            self.span_from(start),
        ))
    }

    // ----- statements -------------------------------------------------------

    /// `statements`: one or more syntactic statements, separated by `;` or by
    /// nothing; stops before a token that cannot start a statement.
    fn statements(&mut self) -> Result<Vec<Expr>> {
        let checkpoint = self.checkpoint();
        let mut syntactic = Vec::new();
        loop {
            let statement_start = self.pos;
            let (error, resume_from) = match self.syntactic_statement() {
                Ok(statement) => {
                    syntactic.push(statement);
                    // After `;` a statement must follow (Puppet rejects `x;}`).
                    if self.eat(Tok::Semic).is_some() || self.starts_statement() {
                        continue;
                    }
                    // Statements end at `}` or at the end of input; anything
                    // else is the caller's error, or, when recovering, ours.
                    if checkpoint.is_none() || matches!(self.peek(), Tok::RBrace | Tok::Eof) {
                        break;
                    }
                    (self.unexpected(), self.pos + 1)
                }
                // The next statement may start at the token that broke this
                // one, as long as this one got further than its first token.
                Err(error) => (error, statement_start + 1),
            };
            match &checkpoint {
                Some(checkpoint) => match self.recover(error, checkpoint, resume_from)? {
                    Resumed::AtStatement => continue,
                    Resumed::AtBlockEnd => break,
                },
                None => return Err(error),
            }
        }
        transform_calls(syntactic)
    }

    /// Statements up to (not including) `}`, or `None` when there are none.
    fn opt_statements(&mut self) -> Result<Option<Vec<Expr>>> {
        if self.peek() == Tok::RBrace {
            Ok(None)
        } else {
            self.statements().map(Some)
        }
    }

    fn starts_statement(&self) -> bool {
        !matches!(
            self.peek(),
            Tok::Eof
                | Tok::RBrace
                | Tok::RBrack
                | Tok::RParen
                | Tok::Comma
                | Tok::Semic
                | Tok::Colon
                | Tok::FArrow
                | Tok::PArrow
                | Tok::DqMid
                | Tok::DqPost
                | Tok::Pipe
                | Tok::RCollect
                | Tok::RRCollect
                | Tok::EppEnd
                | Tok::EppEndTrim
                | Tok::Elsif
                | Tok::Else
                | Tok::Inherits
                | Tok::Other
                | Tok::Tilde
        )
    }

    fn syntactic_statement(&mut self) -> Result<Syntactic> {
        let first = self.assignment()?;
        if self.peek() != Tok::Comma {
            return Ok(Syntactic::Single(first));
        }
        let first_comma = self.token().span;
        let mut items = vec![first];
        while self.eat(Tok::Comma).is_some() {
            items.push(self.assignment()?);
        }
        Ok(Syntactic::List { items, first_comma })
    }

    // ----- assignment, relationship, resource -------------------------------

    fn assignment(&mut self) -> Result<Expr> {
        let left = self.relationship()?;
        let op = match self.peek() {
            Tok::Equals => BinaryOp::Assign,
            Tok::Appends => BinaryOp::AddAssign,
            Tok::Deletes => BinaryOp::SubAssign,
            _ => return Ok(left),
        };
        self.advance();
        self.enter()?;
        let right = self.assignment()?;
        self.leave();
        let span = left.span.to(right.span);
        Ok(Expr::new(
            ExprKind::Binary {
                op,
                left: Box::new(left),
                right: Box::new(right),
            },
            span,
        ))
    }

    fn relationship(&mut self) -> Result<Expr> {
        self.chain(Self::relationship_chain)
    }

    fn relationship_chain(&mut self) -> Result<Expr> {
        let mut left = self.resource()?;
        loop {
            let op = match self.peek() {
                Tok::InEdge => BinaryOp::Before,
                Tok::InEdgeSub => BinaryOp::Notify,
                Tok::OutEdge => BinaryOp::Require,
                Tok::OutEdgeSub => BinaryOp::Subscribe,
                _ => return Ok(left),
            };
            self.advance();
            self.enter()?;
            let right = self.resource()?;
            let span = left.span.to(right.span);
            left = Expr::new(
                ExprKind::Binary {
                    op,
                    left: Box::new(left),
                    right: Box::new(right),
                },
                span,
            );
        }
    }

    fn resource(&mut self) -> Result<Expr> {
        match self.peek() {
            Tok::At | Tok::AtAt => {
                let at = self.advance();
                self.enter()?;
                let mut inner = self.resource()?;
                self.leave();
                let form = if at.kind == Tok::At {
                    ResourceForm::Virtual
                } else {
                    ResourceForm::Exported
                };
                match &mut inner.kind {
                    ExprKind::Resource { form: f, .. }
                    | ExprKind::ResourceDefaults { form: f, .. }
                    | ExprKind::ResourceOverride { form: f, .. } => *f = form,
                    _ => {
                        let what = if form == ResourceForm::Virtual {
                            "Virtual (@)"
                        } else {
                            "Exported (@@)"
                        };
                        return Err(SyntaxError::new(
                            format!("{what} can only be applied to a Resource Expression"),
                            at.span,
                        ));
                    }
                }
                inner.span = at.span.to(inner.span);
                Ok(inner)
            }
            Tok::Class if self.peek_at(1) == Tok::LBrace => {
                let class = self.advance();
                self.advance();
                let bodies = self.resource_bodies()?;
                self.eat(Tok::Semic);
                self.expect(Tok::RBrace)?;
                let type_name = Expr::new(ExprKind::QualifiedName("class".into()), class.span);
                let mut resource = Expr::new(
                    ExprKind::Resource {
                        type_name: Box::new(type_name),
                        bodies,
                        form: ResourceForm::Regular,
                    },
                    self.span_from(class.span.start),
                );
                while self.peek() == Tok::LBrace {
                    resource = self.resource_body(resource)?;
                }
                Ok(resource)
            }
            _ => {
                let mut expr = self.expression()?;
                while self.peek() == Tok::LBrace {
                    expr = self.resource_body(expr)?;
                }
                Ok(expr)
            }
        }
    }

    /// Does an attribute operation (`name =>`, `name +>`, `* =>`) start here?
    fn at_attribute_operation(&self) -> bool {
        let next = self.peek_at(1);
        (is_attribute_name(self.peek()) && matches!(next, Tok::FArrow | Tok::PArrow))
            || (self.peek() == Tok::Times && next == Tok::FArrow)
            // A keyword no expression starts with can only be an attribute
            // name here: Puppet's parser takes it as one, and fails after it.
            || matches!(
                self.peek(),
                Tok::Elsif | Tok::Else | Tok::Inherits | Tok::And | Tok::Or | Tok::In
            )
    }

    /// `left { ... }`: a resource with titled bodies, or (without a title)
    /// resource defaults, a resource override, or the Puppet 3 form
    /// `name { attr => value }` which Puppet 4+ reads as `name({...})`.
    fn resource_body(&mut self, left: Expr) -> Result<Expr> {
        let lbrace = self.expect(Tok::LBrace)?;
        // No operations, as in `File { , }`, is also an untitled body.
        if matches!(self.peek(), Tok::RBrace | Tok::Comma) || self.at_attribute_operation() {
            let ops = self.attribute_operations()?;
            self.eat(Tok::Comma);
            let rbrace = self.expect(Tok::RBrace)?;
            let span = left.span.to(rbrace.span);
            return self.untitled_resource(left, ops, lbrace.span.to(rbrace.span), span);
        }

        let title = self.expression()?;
        self.expect(Tok::Colon)?;
        let ops = self.attribute_operations()?;
        let mut bodies = vec![ResourceBody {
            span: title.span.to(self.span_from(title.span.start)),
            title,
            ops,
        }];
        self.eat(Tok::Comma);
        if self.eat(Tok::Semic).is_some() && self.peek() != Tok::RBrace {
            bodies.extend(self.resource_bodies()?);
            self.eat(Tok::Semic);
        }
        let rbrace = self.expect(Tok::RBrace)?;
        let span = left.span.to(rbrace.span);
        Ok(Expr::new(
            ExprKind::Resource {
                type_name: Box::new(left),
                bodies,
                form: ResourceForm::Regular,
            },
            span,
        ))
    }

    /// `title: ops (; title: ops)*`.
    fn resource_bodies(&mut self) -> Result<Vec<ResourceBody>> {
        let mut bodies = Vec::new();
        loop {
            let title = self.expression()?;
            self.expect(Tok::Colon)?;
            let ops = self.attribute_operations()?;
            self.eat(Tok::Comma);
            bodies.push(ResourceBody {
                span: self.span_from(title.span.start),
                title,
                ops,
            });
            if self.peek() == Tok::Semic && self.peek_at(1) != Tok::RBrace {
                self.advance();
            } else {
                return Ok(bodies);
            }
        }
    }

    fn untitled_resource(
        &mut self,
        left: Expr,
        ops: Vec<AttributeOp>,
        braces: Span,
        span: Span,
    ) -> Result<Expr> {
        match &left.kind {
            ExprKind::QualifiedName(_) => {
                let mut entries = Vec::with_capacity(ops.len());
                for op in ops {
                    match op {
                        AttributeOp::Set {
                            name,
                            append: false,
                            value,
                            span,
                        } => entries.push(KeyedEntry {
                            key: Expr::new(ExprKind::String(name), span),
                            value,
                            span,
                        }),
                        _ => {
                            return Err(SyntaxError::new(
                                "Syntax error resource body without title or hash with +>",
                                braces,
                            ))
                        }
                    }
                }
                let hash = Expr::new(ExprKind::Hash(entries), braces);
                let statements =
                    transform_calls(vec![Syntactic::Single(left), Syntactic::Single(hash)])?;
                Ok(block_or_expression(statements, None))
            }
            ExprKind::QualifiedReference(_) => Ok(Expr::new(
                ExprKind::ResourceDefaults {
                    type_ref: Box::new(left),
                    ops,
                    form: ResourceForm::Regular,
                },
                span,
            )),
            ExprKind::Access { .. } => Ok(Expr::new(
                ExprKind::ResourceOverride {
                    resources: Box::new(left),
                    ops,
                    form: ResourceForm::Regular,
                },
                span,
            )),
            _ => Err(SyntaxError::new(
                "Expression is not valid as a resource, resource-default, or resource-override",
                left.span,
            )),
        }
    }

    /// `name => value, name +> value, * => hash` (possibly none).
    fn attribute_operations(&mut self) -> Result<Vec<AttributeOp>> {
        let mut ops = Vec::new();
        // Puppet's grammar lets the list start empty, so `{ , a => 1 }` holds
        // one operation.
        if self.peek() == Tok::Comma && {
            let next = self.peek_at(1);
            is_attribute_name(next) || next == Tok::Times
        } {
            self.advance();
        }
        if !self.at_attribute_operation() {
            return Ok(ops);
        }
        loop {
            ops.push(self.attribute_operation()?);
            let continues = self.peek() == Tok::Comma && {
                let next = self.peek_at(1);
                is_attribute_name(next) || next == Tok::Times
            };
            if !continues {
                return Ok(ops);
            }
            self.advance();
        }
    }

    fn attribute_operation(&mut self) -> Result<AttributeOp> {
        let name = self.advance();
        if name.kind == Tok::Times {
            self.expect(Tok::FArrow)?;
            let value = self.expression()?;
            let span = name.span.to(value.span);
            return Ok(AttributeOp::Splat { value, span });
        }
        if !is_attribute_name(name.kind) {
            self.pos -= 1;
            return Err(self.unexpected());
        }
        let append = match self.peek() {
            Tok::FArrow => false,
            Tok::PArrow => true,
            _ => return Err(self.unexpected()),
        };
        self.advance();
        let value = self.expression()?;
        let span = name.span.to(value.span);
        Ok(AttributeOp::Set {
            name: self.owned(name),
            append,
            value,
            span,
        })
    }

    // ----- expressions -------------------------------------------------------

    /// Every nesting (brackets, bodies, operands) passes through here, so
    /// this is where nesting depth is counted.
    fn expression(&mut self) -> Result<Expr> {
        self.enter()?;
        let expr = self.binary(0);
        self.leave();
        expr
    }

    fn binary(&mut self, min_precedence: u8) -> Result<Expr> {
        self.chain(|parser| parser.binary_chain(min_precedence))
    }

    fn binary_chain(&mut self, min_precedence: u8) -> Result<Expr> {
        let mut left = self.unary()?;
        loop {
            let (precedence, op) = match self.peek() {
                Tok::Or => (1, Some(BinaryOp::Or)),
                Tok::And => (2, Some(BinaryOp::And)),
                Tok::QMark => (3, None),
                Tok::GreaterEqual => (4, Some(BinaryOp::Ge)),
                Tok::GreaterThan => (4, Some(BinaryOp::Gt)),
                Tok::LessThan => (4, Some(BinaryOp::Lt)),
                Tok::LessEqual => (4, Some(BinaryOp::Le)),
                Tok::NotEqual => (5, Some(BinaryOp::Ne)),
                Tok::IsEqual => (5, Some(BinaryOp::Eq)),
                Tok::LShift => (6, Some(BinaryOp::Shl)),
                Tok::RShift => (6, Some(BinaryOp::Shr)),
                Tok::Minus => (7, Some(BinaryOp::Sub)),
                Tok::Plus => (7, Some(BinaryOp::Add)),
                Tok::Times => (8, Some(BinaryOp::Mul)),
                Tok::Div => (8, Some(BinaryOp::Div)),
                Tok::Modulo => (8, Some(BinaryOp::Mod)),
                Tok::Match => (9, Some(BinaryOp::Match)),
                Tok::NoMatch => (9, Some(BinaryOp::NotMatch)),
                Tok::In => (10, Some(BinaryOp::In)),
                _ => return Ok(left),
            };
            if precedence < min_precedence {
                return Ok(left);
            }
            self.advance();
            self.enter()?;
            left = match op {
                Some(op) => {
                    let right = self.binary(precedence + 1)?;
                    let span = left.span.to(right.span);
                    Expr::new(
                        ExprKind::Binary {
                            op,
                            left: Box::new(left),
                            right: Box::new(right),
                        },
                        span,
                    )
                }
                None => self.selector(left)?,
            };
        }
    }

    /// `left ? { match => value, ... }` or `left ? match => value`. A braced
    /// selector is complete at its `}`: as in Puppet's grammar, an access, a
    /// method call, a call or a collector after it applies to the whole
    /// selector (`$x ? { ... }.split(',')`), whereas the value of an
    /// unbraced one takes them.
    fn selector(&mut self, left: Expr) -> Result<Expr> {
        let mut entries = Vec::new();
        let braced = self.eat(Tok::SelBrace).is_some();
        if braced {
            loop {
                entries.push(self.selector_entry()?);
                if self.eat(Tok::Comma).is_none() || self.peek() == Tok::RBrace {
                    break;
                }
            }
            self.expect(Tok::RBrace)?;
        } else {
            entries.push(self.selector_entry()?);
        }
        let span = self.span_from(left.span.start);
        let selector = Expr::new(
            ExprKind::Selector {
                left: Box::new(left),
                entries,
            },
            span,
        );
        if braced {
            self.postfix_operations(selector)
        } else {
            Ok(selector)
        }
    }

    fn selector_entry(&mut self) -> Result<SelectorEntry> {
        let matching = self.expression()?;
        self.expect(Tok::FArrow)?;
        let value = self.expression()?;
        let span = matching.span.to(value.span);
        Ok(SelectorEntry {
            matching,
            value,
            span,
        })
    }

    fn unary(&mut self) -> Result<Expr> {
        let op = match self.peek() {
            Tok::Not => UnaryOp::Not,
            Tok::Minus => UnaryOp::Minus,
            Tok::Times => UnaryOp::Unfold,
            _ => return self.postfix(),
        };
        let start = self.advance().span.start;
        self.enter()?;
        let expr = self.unary()?;
        self.leave();
        let span = Span {
            start,
            end: expr.span.end,
        };
        Ok(Expr::new(
            ExprKind::Unary {
                op,
                expr: Box::new(expr),
            },
            span,
        ))
    }

    fn postfix(&mut self) -> Result<Expr> {
        self.chain(Self::postfix_chain)
    }

    fn postfix_chain(&mut self) -> Result<Expr> {
        let primary = self.primary()?;
        self.postfix_operations(primary)
    }

    /// The accesses, method calls, calls and collectors that follow `expr`,
    /// each a level of nesting (the caller restores the depth, see
    /// [`Self::chain`]).
    fn postfix_operations(&mut self, mut expr: Expr) -> Result<Expr> {
        loop {
            if matches!(
                self.peek(),
                Tok::LBrack | Tok::Dot | Tok::LParen | Tok::LCollect | Tok::LLCollect
            ) {
                self.enter()?;
            }
            expr = match self.peek() {
                Tok::LBrack => {
                    self.advance();
                    let keys = self.access_args()?;
                    self.eat(Tok::Comma);
                    self.expect(Tok::RBrack)?;
                    let span = self.span_from(expr.span.start);
                    Expr::new(
                        ExprKind::Access {
                            left: Box::new(expr),
                            keys,
                        },
                        span,
                    )
                }
                Tok::Dot => self.method_call(expr)?,
                Tok::LParen => {
                    self.advance();
                    let args = if self.peek() == Tok::RParen {
                        Vec::new()
                    } else {
                        let args = self.arguments()?;
                        self.eat(Tok::Comma);
                        args
                    };
                    self.expect(Tok::RParen)?;
                    let lambda = self.opt_lambda()?;
                    let span = self.span_from(expr.span.start);
                    Expr::new(
                        ExprKind::Call(Box::new(Call {
                            kind: CallKind::Named,
                            functor: expr,
                            args,
                            lambda,
                            rval_required: true,
                        })),
                        span,
                    )
                }
                Tok::LCollect | Tok::LLCollect => self.collect(expr)?,
                _ => return Ok(expr),
            };
        }
    }

    /// `receiver.name`, `receiver.name(args)`, each with an optional lambda.
    fn method_call(&mut self, receiver: Expr) -> Result<Expr> {
        self.advance();
        let name = self.token();
        let name_text = match name.kind {
            Tok::Name => self.owned(name),
            Tok::Type => "type".to_string(),
            _ => return Err(self.unexpected()),
        };
        self.advance();
        let functor_span = receiver.span.to(name.span);
        let functor = Expr::new(
            ExprKind::NamedAccess {
                left: Box::new(receiver),
                right: Box::new(Expr::new(ExprKind::QualifiedName(name_text), name.span)),
            },
            functor_span,
        );
        let mut args = Vec::new();
        if self.eat(Tok::LParen).is_some() {
            if self.peek() != Tok::RParen {
                args = self.arguments()?;
                // Unlike a function call, a method call takes no trailing
                // comma: Puppet's parser stops at the `)` after it.
                if self.eat(Tok::Comma).is_some() {
                    return Err(self.unexpected());
                }
            }
            self.expect(Tok::RParen)?;
        }
        let lambda = self.opt_lambda()?;
        let span = self.span_from(functor_span.start);
        Ok(Expr::new(
            ExprKind::Call(Box::new(Call {
                kind: CallKind::Method,
                functor,
                args,
                lambda,
                rval_required: true,
            })),
            span,
        ))
    }

    fn collect(&mut self, type_expr: Expr) -> Result<Expr> {
        let open = self.advance();
        let exported = open.kind == Tok::LLCollect;
        let close = if exported {
            Tok::RRCollect
        } else {
            Tok::RCollect
        };
        let expr = if self.peek() == close {
            None
        } else {
            Some(self.expression()?)
        };
        let close_token = self.expect(close)?;
        let query = Query {
            exported,
            expr,
            span: open.span.to(close_token.span),
        };
        let mut ops = Vec::new();
        if self.eat(Tok::LBrace).is_some() {
            ops = self.attribute_operations()?;
            self.eat(Tok::Comma);
            self.expect(Tok::RBrace)?;
        }
        let span = self.span_from(type_expr.span.start);
        Ok(Expr::new(
            ExprKind::Collect {
                type_expr: Box::new(type_expr),
                query: Box::new(query),
                ops,
            },
            span,
        ))
    }

    fn opt_lambda(&mut self) -> Result<Option<Expr>> {
        if self.peek() != Tok::Pipe {
            return Ok(None);
        }
        let start = self.advance().span.start;
        let params = self.pipe_parameters()?;
        let return_type = self.opt_return_type()?;
        let lbrace = self.expect(Tok::LBrace)?;
        let statements = self.opt_statements()?;
        let rbrace = self.expect(Tok::RBrace)?;
        let body = block_body(statements.map(|s| (s, lbrace.span.to(rbrace.span))));
        Ok(Some(Expr::new(
            ExprKind::Lambda(Box::new(Lambda {
                params,
                return_type,
                body,
            })),
            self.span_from(start),
        )))
    }

    /// The parameters of a lambda or template after its opening `|`, up to
    /// and including the closing `|`.
    fn pipe_parameters(&mut self) -> Result<Vec<Parameter>> {
        if self.eat(Tok::Pipe).is_some() {
            return Ok(Vec::new());
        }
        let params = self.parameters()?;
        self.eat(Tok::Comma);
        self.expect(Tok::Pipe)?;
        Ok(params)
    }

    /// Function call arguments: assignments, and `key => value` pairs, which
    /// (when adjacent) gather into one hash.
    fn arguments(&mut self) -> Result<Vec<Expr>> {
        self.entries(Tok::RParen, Self::assignment, false)
    }

    /// `[...]` keys: expressions and `key => value` pairs.
    fn access_args(&mut self) -> Result<Vec<Expr>> {
        self.entries(Tok::RBrack, Self::access_arg, false)
    }

    /// One `[...]` key. A pair's key may be an assignment, a relationship or
    /// a resource, so Puppet's LALR parser reads that much before it knows
    /// whether `=>` follows; without it, the error is at the token after.
    fn access_arg(&mut self) -> Result<Expr> {
        let arg = self.assignment()?;
        let beyond_expression = match &arg.kind {
            ExprKind::Binary { op, .. } => matches!(
                op,
                BinaryOp::Assign
                    | BinaryOp::AddAssign
                    | BinaryOp::SubAssign
                    | BinaryOp::Before
                    | BinaryOp::Notify
                    | BinaryOp::Require
                    | BinaryOp::Subscribe
            ),
            ExprKind::Resource { .. }
            | ExprKind::ResourceDefaults { .. }
            | ExprKind::ResourceOverride { .. } => true,
            _ => false,
        };
        if beyond_expression && self.peek() != Tok::FArrow {
            return Err(self.unexpected());
        }
        Ok(arg)
    }

    /// Comma separated entries up to `close`: `item` or `key => value`;
    /// adjacent pairs form one hash (Puppet's "unfolded" hash). `type` and
    /// `function` may be keys, and (in arrays only) entries of their own.
    fn entries(
        &mut self,
        close: Tok,
        item: fn(&mut Self) -> Result<Expr>,
        bare_keywords: bool,
    ) -> Result<Vec<Expr>> {
        let mut entries: Vec<Expr> = Vec::new();
        let mut last_is_pairs = false;
        loop {
            let keyword_key =
                self.at_keyword_entry() && (bare_keywords || self.peek_at(1) == Tok::FArrow);
            let key = if keyword_key {
                self.keyword_literal()
            } else {
                item(self)?
            };
            if self.eat(Tok::FArrow).is_some() {
                let value = self.hash_entry()?;
                let span = key.span.to(value.span);
                let pair = KeyedEntry { key, value, span };
                match entries.last_mut() {
                    Some(Expr {
                        kind: ExprKind::Hash(pairs),
                        span: hash_span,
                    }) if last_is_pairs => {
                        *hash_span = hash_span.to(span);
                        pairs.push(pair);
                    }
                    _ => entries.push(Expr::new(ExprKind::Hash(vec![pair]), span)),
                }
                last_is_pairs = true;
            } else {
                entries.push(key);
                last_is_pairs = false;
            }
            if self.peek() == Tok::Comma && self.peek_at(1) != close {
                self.advance();
            } else {
                return Ok(entries);
            }
        }
    }

    /// `type` and `function` used as a value in a collection (`[type]`,
    /// `{ function => 1 }`).
    fn at_keyword_entry(&self) -> bool {
        matches!(self.peek(), Tok::Type | Tok::Function)
            && matches!(
                self.peek_at(1),
                Tok::FArrow | Tok::Comma | Tok::RBrack | Tok::RBrace | Tok::RParen
            )
    }

    fn keyword_literal(&mut self) -> Expr {
        let token = self.advance();
        Expr::new(ExprKind::String(self.owned(token)), token.span)
    }

    fn hash_entry(&mut self) -> Result<Expr> {
        if self.at_keyword_entry() {
            Ok(self.keyword_literal())
        } else {
            self.assignment()
        }
    }

    // ----- primary expressions ----------------------------------------------

    fn primary(&mut self) -> Result<Expr> {
        let token = self.token();
        let span = token.span;
        let kind = match token.kind {
            Tok::Variable => {
                self.advance();
                ExprKind::Variable(self.owned(token))
            }
            Tok::Name => {
                self.advance();
                ExprKind::QualifiedName(self.owned(token))
            }
            Tok::ClassRef => {
                self.advance();
                ExprKind::QualifiedReference(self.owned(token))
            }
            Tok::Number => {
                self.advance();
                number(self.text(token), span)?
            }
            Tok::True => {
                self.advance();
                ExprKind::Boolean(true)
            }
            Tok::False => {
                self.advance();
                ExprKind::Boolean(false)
            }
            Tok::Default => {
                self.advance();
                ExprKind::Default
            }
            Tok::Undef => {
                self.advance();
                ExprKind::Undef
            }
            Tok::String | Tok::Word => {
                self.advance();
                ExprKind::String(self.owned(token))
            }
            Tok::Regex => {
                self.advance();
                ExprKind::Regex(self.owned(token))
            }
            Tok::Private | Tok::Attr if self.legacy.is_some() => {
                self.advance();
                let word = self.owned(token);
                self.legacy_finding(
                    legacy::RESERVED_WORD_AS_NAME,
                    format!(
                        "`{word}` is a bare word here, as in Puppet 3; Puppet 7 reserves it \
                         (RESERVED_WORD): quote it, '{word}'"
                    ),
                    span,
                );
                ExprKind::QualifiedName(word)
            }
            Tok::Private | Tok::Attr => {
                self.advance();
                ExprKind::Reserved(self.owned(token))
            }
            Tok::Function | Tok::Type
                if self.legacy.is_some() && !self.starts_definition(token.kind) =>
            {
                self.advance();
                let word = self.owned(token);
                self.legacy_finding(
                    legacy::KEYWORD_AS_NAME,
                    format!(
                        "`{word}` is a bare word here, as in Puppet 3; Puppet 7 reads it as \
                         the keyword and reports a syntax error: quote it, '{word}'"
                    ),
                    span,
                );
                ExprKind::QualifiedName(word)
            }
            Tok::RenderString => {
                self.advance();
                ExprKind::RenderString(self.owned(token))
            }
            Tok::RenderExpr => return self.render_expression(),
            Tok::DqPre => return self.interpolated_string(),
            Tok::Heredoc => return self.heredoc(),
            Tok::ListStart | Tok::LBrack => return self.array(),
            Tok::LBrace => return self.hash(),
            Tok::LParen | Tok::WsLParen => {
                self.advance();
                let inner = self.assignment()?;
                self.expect(Tok::RParen)?;
                ExprKind::Paren(Box::new(inner))
            }
            Tok::If => return self.if_expression(),
            Tok::Unless => return self.unless_expression(),
            Tok::Case => return self.case_expression(),
            Tok::Class => return self.class_definition(),
            Tok::Define => return self.define_definition(),
            Tok::Node => return self.node_definition(),
            Tok::Function => return self.function_definition(),
            Tok::Type if self.peek_at(1) == Tok::LParen => {
                self.advance();
                ExprKind::QualifiedName("type".into())
            }
            Tok::Type => return self.type_definition(),
            _ => return Err(self.unexpected()),
        };
        Ok(Expr::new(kind, self.span_from(span.start)))
    }

    /// `<%= expression %>`, or `<%= { statements } %>` when the braces do
    /// not make a hash (Puppet's LALR parser decides after the `{`; here
    /// the hash is tried first, then the block).
    fn render_expression(&mut self) -> Result<Expr> {
        let start = self.advance().span.start;
        let inner = if self.peek() == Tok::LBrace {
            let (pos, depth) = (self.pos, self.depth);
            let as_hash = self.without_recovery(Self::expression_then_epp_end);
            match as_hash {
                Ok(expr) => expr,
                Err(as_hash) => {
                    (self.pos, self.depth) = (pos, depth);
                    self.rendered_block()
                        .map_err(|as_block| later_error(as_hash, as_block))?
                }
            }
        } else {
            self.expression_then_epp_end()?
        };
        Ok(Expr::new(
            ExprKind::RenderExpr(Box::new(inner)),
            self.span_from(start),
        ))
    }

    fn expression_then_epp_end(&mut self) -> Result<Expr> {
        let expr = self.expression()?;
        self.epp_end()?;
        Ok(expr)
    }

    /// `{ statements } %>` after `<%=`: one statement, or a block of them.
    fn rendered_block(&mut self) -> Result<Expr> {
        let lbrace = self.expect(Tok::LBrace)?;
        let statements = self.statements()?;
        let rbrace = self.expect(Tok::RBrace)?;
        self.epp_end()?;
        Ok(block_or_expression(
            statements,
            Some(lbrace.span.to(rbrace.span)),
        ))
    }

    fn epp_end(&mut self) -> Result<()> {
        match self.peek() {
            Tok::EppEnd | Tok::EppEndTrim => {
                self.advance();
                Ok(())
            }
            _ => Err(self.unexpected()),
        }
    }

    fn interpolated_string(&mut self) -> Result<Expr> {
        let start = self.token().span.start;
        let mut segments = Vec::new();
        let pre = self.advance();
        if !self.text(pre).is_empty() {
            segments.push(Expr::new(ExprKind::String(self.owned(pre)), pre.span));
        }
        loop {
            let expr = self.assignment()?;
            let span = expr.span;
            segments.push(Expr::new(ExprKind::Text(Box::new(interpolate(expr))), span));
            let token = self.token();
            match token.kind {
                Tok::DqMid | Tok::DqPost => {
                    self.advance();
                    if !self.text(token).is_empty() {
                        segments.push(Expr::new(ExprKind::String(self.owned(token)), token.span));
                    }
                    if token.kind == Tok::DqPost {
                        break;
                    }
                }
                _ => return Err(self.unexpected()),
            }
        }
        Ok(Expr::new(ExprKind::Concat(segments), self.span_from(start)))
    }

    fn heredoc(&mut self) -> Result<Expr> {
        let heredoc = self.advance();
        let text = match self.peek() {
            Tok::String => {
                let token = self.advance();
                Expr::new(ExprKind::String(self.owned(token)), token.span)
            }
            Tok::DqPre => self.interpolated_string()?,
            _ => return Err(self.unexpected()),
        };
        let body = self
            .heredoc_bodies
            .binary_search_by_key(&heredoc.span.start, |&(start, _)| start)
            .map_or(text.span, |at| self.heredoc_bodies[at].1);
        Ok(Expr::new(
            ExprKind::Heredoc {
                syntax: self.owned(heredoc),
                text: Box::new(text),
                body,
            },
            heredoc.span,
        ))
    }

    fn array(&mut self) -> Result<Expr> {
        let start = self.advance().span.start;
        let values = if self.peek() == Tok::RBrack {
            Vec::new()
        } else {
            let values = self.entries(Tok::RBrack, Self::assignment, true)?;
            self.eat(Tok::Comma);
            values
        };
        self.expect(Tok::RBrack)?;
        Ok(Expr::new(ExprKind::Array(values), self.span_from(start)))
    }

    fn hash(&mut self) -> Result<Expr> {
        let start = self.advance().span.start;
        let mut pairs = Vec::new();
        while self.peek() != Tok::RBrace {
            let key = self.hash_entry()?;
            self.expect(Tok::FArrow)?;
            let value = self.hash_entry()?;
            let span = key.span.to(value.span);
            pairs.push(KeyedEntry { key, value, span });
            if self.eat(Tok::Comma).is_none() {
                break;
            }
        }
        self.expect(Tok::RBrace)?;
        Ok(Expr::new(ExprKind::Hash(pairs), self.span_from(start)))
    }

    // ----- conditionals -------------------------------------------------------

    /// `{ statements }` as a then/else branch: a block only when there are
    /// several statements, nothing when empty.
    fn branch(&mut self) -> Result<Option<Expr>> {
        let lbrace = self.expect(Tok::LBrace)?;
        let statements = self.opt_statements()?;
        let rbrace = self.expect(Tok::RBrace)?;
        Ok(statements.map(|s| block_or_expression(s, Some(lbrace.span.to(rbrace.span)))))
    }

    fn if_expression(&mut self) -> Result<Expr> {
        let start = self.advance().span.start;
        self.if_part(start)
    }

    fn if_part(&mut self, start: u32) -> Result<Expr> {
        let test = self.expression()?;
        let then_branch = self.branch()?;
        let else_branch = match self.peek() {
            Tok::Elsif => {
                let elsif = self.advance().span.start;
                self.enter()?;
                let nested = self.if_part(elsif)?;
                self.leave();
                Some(nested)
            }
            Tok::Else => {
                self.advance();
                self.branch()?
            }
            _ => None,
        };
        Ok(Expr::new(
            ExprKind::If(Box::new(Conditional {
                test,
                then_branch,
                else_branch,
            })),
            self.span_from(start),
        ))
    }

    fn unless_expression(&mut self) -> Result<Expr> {
        let start = self.advance().span.start;
        let test = self.expression()?;
        let then_branch = self.branch()?;
        let else_branch = if self.eat(Tok::Else).is_some() {
            self.branch()?
        } else {
            None
        };
        Ok(Expr::new(
            ExprKind::Unless(Box::new(Conditional {
                test,
                then_branch,
                else_branch,
            })),
            self.span_from(start),
        ))
    }

    fn case_expression(&mut self) -> Result<Expr> {
        let start = self.advance().span.start;
        let test = self.expression()?;
        self.expect(Tok::LBrace)?;
        let mut options = Vec::new();
        loop {
            let option_start = self.token().span.start;
            let mut values = vec![self.expression()?];
            while self.eat(Tok::Comma).is_some() {
                values.push(self.expression()?);
            }
            self.expect(Tok::Colon)?;
            let lbrace = self.expect(Tok::LBrace)?;
            let statements = self.opt_statements()?;
            let rbrace = self.expect(Tok::RBrace)?;
            options.push(CaseOption {
                values,
                body: block_body(statements.map(|s| (s, lbrace.span.to(rbrace.span)))),
                span: self.span_from(option_start),
            });
            if self.peek() == Tok::RBrace {
                break;
            }
        }
        self.expect(Tok::RBrace)?;
        Ok(Expr::new(
            ExprKind::Case {
                test: Box::new(test),
                options,
            },
            self.span_from(start),
        ))
    }

    // ----- definitions --------------------------------------------------------

    /// A class, define or function name token.
    fn classname(&mut self) -> Result<&'t Token> {
        match self.peek() {
            Tok::Name | Tok::Word | Tok::ClassRef => Ok(self.advance()),
            Tok::Class => Err(SyntaxError::new(
                "'class' keyword not allowed at this location",
                self.token().span,
            )),
            Tok::String => Err(SyntaxError::new(
                "A quoted string is not valid as a name here",
                self.token().span,
            )),
            _ => Err(self.unexpected()),
        }
    }

    /// The name of a class or define: prefixed with the enclosing classes.
    fn qualified(&self, name: &str) -> String {
        let joined = format!("{}::{name}", self.namestack.join("::"));
        match joined.strip_prefix("::") {
            Some(rest) => rest.to_string(),
            None => joined,
        }
    }

    /// `{ statements }` of a definition, always a block when not empty.
    fn definition_body(&mut self) -> Result<Option<Expr>> {
        let lbrace = self.expect(Tok::LBrace)?;
        let statements = self.opt_statements()?;
        let rbrace = self.expect(Tok::RBrace)?;
        Ok(block_body(
            statements.map(|s| (s, lbrace.span.to(rbrace.span))),
        ))
    }

    fn class_definition(&mut self) -> Result<Expr> {
        let start = self.advance().span.start;
        let name = self.classname()?;
        self.namestack.push(self.owned(name));
        let result = self.class_rest();
        self.namestack.pop();
        let (params, parent, body) = result?;
        Ok(Expr::new(
            ExprKind::Class(Box::new(Definition {
                name: self.qualified(self.text(name)),
                name_span: name.span,
                params,
                parent,
                body,
                return_type: None,
            })),
            self.span_from(start),
        ))
    }

    #[allow(clippy::type_complexity)]
    fn class_rest(&mut self) -> Result<(Vec<Parameter>, Option<String>, Option<Expr>)> {
        let params = self.parameter_list()?;
        let parent = if self.eat(Tok::Inherits).is_some() {
            if self.peek() == Tok::Default {
                self.advance();
                Some("default".to_string())
            } else {
                Some({
                    let t = self.classname()?;
                    self.owned(t)
                })
            }
        } else {
            None
        };
        let body = self.definition_body()?;
        Ok((params, parent, body))
    }

    fn define_definition(&mut self) -> Result<Expr> {
        let start = self.advance().span.start;
        let name = self.classname()?;
        let params = self.parameter_list()?;
        let body = self.definition_body()?;
        Ok(Expr::new(
            ExprKind::Define(Box::new(Definition {
                name: self.qualified(self.text(name)),
                name_span: name.span,
                params,
                parent: None,
                body,
                return_type: None,
            })),
            self.span_from(start),
        ))
    }

    fn function_definition(&mut self) -> Result<Expr> {
        let start = self.advance().span.start;
        let name = self.classname()?;
        let params = self.parameter_list()?;
        let return_type = self.opt_return_type()?;
        let body = self.definition_body()?;
        Ok(Expr::new(
            ExprKind::Function(Box::new(Definition {
                name: self.owned(name),
                name_span: name.span,
                params,
                parent: None,
                body,
                return_type,
            })),
            self.span_from(start),
        ))
    }

    fn node_definition(&mut self) -> Result<Expr> {
        let start = self.advance().span.start;
        let mut matches = vec![self.hostname()?];
        while self.peek() == Tok::Comma {
            self.advance();
            if matches!(self.peek(), Tok::LBrace | Tok::Inherits) {
                break;
            }
            matches.push(self.hostname()?);
        }
        let parent = if self.eat(Tok::Inherits).is_some() {
            Some(self.hostname()?)
        } else {
            None
        };
        let lbrace = self.expect(Tok::LBrace)?;
        let statements = self.opt_statements()?;
        let rbrace = self.expect(Tok::RBrace)?;
        let body = block_body(statements.map(|s| (s, lbrace.span.to(rbrace.span))));
        Ok(Expr::new(
            ExprKind::Node(Box::new(NodeDefinition {
                matches,
                parent,
                body,
            })),
            self.span_from(start),
        ))
    }

    /// A node match: a dotted name (`www.example.com`, `10.0.0.1`), a string,
    /// `default` or a regex.
    fn hostname(&mut self) -> Result<Expr> {
        let token = self.token();
        match token.kind {
            Tok::Name | Tok::Number => {
                let start = token.span.start;
                let mut text = {
                    let t = self.advance();
                    self.owned(t)
                };
                while self.peek() == Tok::Dot && matches!(self.peek_at(1), Tok::Name | Tok::Number)
                {
                    self.advance();
                    text.push('.');
                    let t = self.advance();
                    text.push_str(self.text(t));
                }
                Ok(Expr::new(ExprKind::String(text), self.span_from(start)))
            }
            Tok::String | Tok::Word => {
                self.advance();
                Ok(Expr::new(ExprKind::String(self.owned(token)), token.span))
            }
            Tok::DqPre => self.interpolated_string(),
            Tok::Heredoc => self.heredoc(),
            Tok::Default => {
                self.advance();
                Ok(Expr::new(ExprKind::Default, token.span))
            }
            Tok::Regex => {
                self.advance();
                Ok(Expr::new(ExprKind::Regex(self.owned(token)), token.span))
            }
            _ => Err(self.unexpected()),
        }
    }

    /// `type Name = ...`, `type Name[...] = ...` (a mapping) and
    /// `type Name [inherits Parent] { ... }`.
    fn type_definition(&mut self) -> Result<Expr> {
        let start = self.advance().span.start;
        if self.peek() == Tok::ClassRef && matches!(self.peek_at(1), Tok::LBrace | Tok::Inherits) {
            let name = {
                let t = self.advance();
                self.owned(t)
            };
            let parent = if self.eat(Tok::Inherits).is_some() {
                Some({
                    let t = self.expect(Tok::ClassRef)?;
                    self.owned(t)
                })
            } else {
                None
            };
            let body = self.definition_body()?;
            return Ok(Expr::new(
                ExprKind::TypeDefinition {
                    name,
                    parent,
                    body: body.map(Box::new),
                },
                self.span_from(start),
            ));
        }
        let lhs = self.parameter_type()?;
        self.expect(Tok::Equals)?;
        let rhs = match self.peek() {
            Tok::ClassRef => {
                let type_ref = self.type_ref()?;
                match self.peek() {
                    Tok::LBrace => {
                        let hash = self.hash()?;
                        object_type_with_parent(type_ref, hash)
                    }
                    Tok::LBrack => {
                        self.advance();
                        let keys = self.access_args()?;
                        self.eat(Tok::Comma);
                        self.expect(Tok::RBrack)?;
                        let span = self.span_from(type_ref.span.start);
                        Expr::new(
                            ExprKind::Access {
                                left: Box::new(type_ref),
                                keys,
                            },
                            span,
                        )
                    }
                    _ => type_ref,
                }
            }
            Tok::LBrace => {
                let hash = self.hash()?;
                let span = hash.span;
                Expr::new(
                    ExprKind::Access {
                        left: Box::new(Expr::new(
                            ExprKind::QualifiedReference("Object".into()),
                            span,
                        )),
                        keys: vec![hash],
                    },
                    span,
                )
            }
            Tok::ListStart | Tok::LBrack => self.array()?,
            _ => return Err(self.unexpected()),
        };
        let span = self.span_from(start);
        Ok(match lhs.kind {
            ExprKind::QualifiedReference(name) => Expr::new(
                ExprKind::TypeAlias {
                    name,
                    type_expr: Box::new(rhs),
                },
                span,
            ),
            _ => Expr::new(
                ExprKind::TypeMapping {
                    type_expr: Box::new(lhs),
                    mapping: Box::new(rhs),
                },
                span,
            ),
        })
    }

    fn type_ref(&mut self) -> Result<Expr> {
        let token = self.expect(Tok::ClassRef)?;
        Ok(Expr::new(
            ExprKind::QualifiedReference(self.owned(token)),
            token.span,
        ))
    }

    /// `Type` or `Type[args]`, as in parameter types and `>> Type[...]`.
    fn parameter_type(&mut self) -> Result<Expr> {
        let type_ref = self.type_ref()?;
        if self.eat(Tok::LBrack).is_none() {
            return Ok(type_ref);
        }
        let keys = self.access_args()?;
        self.expect(Tok::RBrack)?;
        let span = self.span_from(type_ref.span.start);
        Ok(Expr::new(
            ExprKind::Access {
                left: Box::new(type_ref),
                keys,
            },
            span,
        ))
    }

    fn opt_return_type(&mut self) -> Result<Option<Expr>> {
        if self.eat(Tok::RShift).is_none() {
            return Ok(None);
        }
        self.parameter_type().map(Some)
    }

    fn parameter_list(&mut self) -> Result<Vec<Parameter>> {
        if !matches!(self.peek(), Tok::LParen | Tok::WsLParen) {
            return Ok(Vec::new());
        }
        self.advance();
        if self.eat(Tok::RParen).is_some() {
            return Ok(Vec::new());
        }
        let params = self.parameters()?;
        self.eat(Tok::Comma);
        self.expect(Tok::RParen)?;
        Ok(params)
    }

    fn parameters(&mut self) -> Result<Vec<Parameter>> {
        let mut params = vec![self.parameter()?];
        while self.peek() == Tok::Comma
            && matches!(self.peek_at(1), Tok::Variable | Tok::Times | Tok::ClassRef)
        {
            self.advance();
            params.push(self.parameter()?);
        }
        Ok(params)
    }

    fn parameter(&mut self) -> Result<Parameter> {
        let start = self.token().span.start;
        let type_expr = if self.peek() == Tok::ClassRef {
            Some(self.parameter_type()?)
        } else {
            None
        };
        let captures_rest = self.eat(Tok::Times).is_some();
        let variable = self.expect(Tok::Variable)?;
        let value = if self.eat(Tok::Equals).is_some() {
            Some(self.expression()?)
        } else {
            None
        };
        Ok(Parameter {
            name: self.owned(variable),
            type_expr,
            value,
            captures_rest,
            span: self.span_from(start),
        })
    }
}

/// Of two errors from alternative parses, the one that got further.
fn later_error(first: SyntaxError, second: SyntaxError) -> SyntaxError {
    if second.span.start > first.span.start {
        second
    } else {
        first
    }
}

/// `type Name = Parent { ... }`: an Object type whose hash also names its
/// parent (unless the parent is `Object` or `TypeSet` itself).
fn object_type_with_parent(parent: Expr, hash: Expr) -> Expr {
    let span = parent.span.to(hash.span);
    let ExprKind::QualifiedReference(parent_name) = &parent.kind else {
        unreachable!("type_ref returns a reference")
    };
    let (base, hash) = if parent_name == "Object" || parent_name == "TypeSet" {
        (parent, hash)
    } else {
        let mut hash = hash;
        if let ExprKind::Hash(pairs) = &mut hash.kind {
            let key_span = parent.span;
            pairs.push(KeyedEntry {
                key: Expr::new(ExprKind::QualifiedName("parent".into()), key_span),
                value: parent,
                span: key_span,
            });
        }
        (
            Expr::new(ExprKind::QualifiedReference("Object".into()), span),
            hash,
        )
    };
    Expr::new(
        ExprKind::Access {
            left: Box::new(base),
            keys: vec![hash],
        },
        span,
    )
}

/// Puppet's statement-level rewrite: a statement-call name followed by an
/// expression (or a comma list) becomes a call of that function; a call
/// standing as a statement does not need its value.
fn transform_calls(statements: Vec<Syntactic>) -> Result<Vec<Expr>> {
    let mut memo: Vec<Expr> = Vec::with_capacity(statements.len());
    for statement in statements {
        let calls_previous = matches!(
            memo.last(),
            Some(Expr { kind: ExprKind::QualifiedName(name), .. }) if is_statement_call(name)
        );
        if calls_previous {
            let functor = memo.pop().expect("checked above");
            let args = match statement {
                Syntactic::Single(expr) => vec![expr],
                Syntactic::List { items, .. } => items,
            };
            let span = functor
                .span
                .to(args.last().map_or(functor.span, |a| a.span));
            memo.push(Expr::new(
                ExprKind::Call(Box::new(Call {
                    kind: CallKind::Named,
                    functor,
                    args,
                    lambda: None,
                    rval_required: false,
                })),
                span,
            ));
            continue;
        }
        match statement {
            Syntactic::Single(mut expr) => {
                if let ExprKind::Call(call) = &mut expr.kind {
                    if call.kind == CallKind::Named {
                        call.rval_required = false;
                    }
                }
                memo.push(expr);
            }
            Syntactic::List { first_comma, .. } => {
                let message = match memo.last() {
                    Some(Expr {
                        kind: ExprKind::QualifiedName(name),
                        ..
                    }) => format!(
                        "attempt to pass argument list to the function '{name}' which cannot be called without parentheses"
                    ),
                    _ => "illegal comma separated argument list".to_string(),
                };
                return Err(SyntaxError::new(message, first_comma));
            }
        }
    }
    Ok(memo)
}

/// The rewrite Puppet applies to an interpolated expression: a bare name or
/// number is a variable, also as the receiver of `[...]` and `.method`.
fn interpolate(expr: Expr) -> Expr {
    let Expr { kind, span } = expr;
    let kind = match kind {
        ExprKind::QualifiedName(name) => ExprKind::Variable(name),
        ExprKind::Integer { .. } => ExprKind::VariableOf(Box::new(Expr::new(kind, span))),
        ExprKind::Access { left, keys } => ExprKind::Access {
            left: Box::new(interpolate_receiver(*left)),
            keys,
        },
        ExprKind::NamedAccess { left, right } => ExprKind::NamedAccess {
            left: Box::new(interpolate_receiver(*left)),
            right,
        },
        ExprKind::Call(mut call) if call.kind == CallKind::Method => {
            call.functor = interpolate_receiver(call.functor);
            ExprKind::Call(call)
        }
        other => other,
    };
    Expr::new(kind, span)
}

fn interpolate_receiver(expr: Expr) -> Expr {
    let rewritable = match &expr.kind {
        ExprKind::Access { .. } | ExprKind::QualifiedName(_) | ExprKind::NamedAccess { .. } => true,
        ExprKind::Call(call) => call.kind == CallKind::Method,
        ExprKind::Integer { radix, .. } => *radix == 10,
        _ => false,
    };
    if rewritable {
        interpolate(expr)
    } else {
        expr
    }
}

/// A number token's value: integers keep their radix; floats are decimal.
fn number(text: &str, span: Span) -> Result<ExprKind> {
    let invalid = || SyntaxError::new(format!("Illegal number '{text}'"), span);
    if let Some(hex) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        let value = i128::from_str_radix(hex, 16).map_err(|_| invalid())?;
        return Ok(ExprKind::Integer { value, radix: 16 });
    }
    if text.contains(['.', 'e', 'E']) {
        let mantissa_end = text.find(['e', 'E']).unwrap_or(text.len());
        let mantissa = &text[..mantissa_end];
        let integral = mantissa.split('.').next().unwrap_or("");
        let fraction = mantissa.split('.').nth(1).unwrap_or("");
        // Puppet refuses a zero mantissa with an exponent (`0e5`, `0.0e1`).
        if integral.bytes().all(|b| b == b'0')
            && fraction.bytes().all(|b| b == b'0')
            && mantissa_end < text.len()
        {
            return Err(invalid());
        }
        let value: f64 = text.parse().map_err(|_| invalid())?;
        if value.is_infinite() {
            return Err(invalid());
        }
        return Ok(ExprKind::Float(value));
    }
    if text.len() > 1 && text.starts_with('0') {
        let value = i128::from_str_radix(&text[1..], 8).map_err(|_| invalid())?;
        return Ok(ExprKind::Integer { value, radix: 8 });
    }
    let value: i128 = text.parse().map_err(|_| invalid())?;
    Ok(ExprKind::Integer { value, radix: 10 })
}
