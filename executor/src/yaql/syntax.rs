//! YAQL's grammar, as the `yaql` library defines it: its tokens, and its
//! operators from the tightest to the loosest: `.` `?.`, then `[]`, unary
//! `+` `-`, `=~` `!~`, `*` `/` `mod`, `+` `-`, the comparisons with `in`,
//! `not`, `and`, `or`. `name => value` pairs appear in argument lists,
//! lists and `{...}` mappings. A bare name is the string it spells.

use super::value::Value;
use std::fmt;

/// A parsed expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    Constant(Value),
    /// `$` (empty name) or `$name`.
    Variable(String),
    /// `receiver.name`, `receiver?.name`, `receiver.method(...)`.
    Dot {
        receiver: Box<Expr>,
        member: Box<Expr>,
        null_safe: bool,
    },
    Call {
        name: String,
        args: Vec<Arg>,
    },
    Index {
        target: Box<Expr>,
        args: Vec<Arg>,
    },
    List(Vec<Arg>),
    Map(Vec<Arg>),
    Unary {
        op: Op,
        operand: Box<Expr>,
    },
    Binary {
        op: Op,
        left: Box<Expr>,
        right: Box<Expr>,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub enum Arg {
    Positional(Expr),
    /// `name => value`.
    Named(Expr, Expr),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Plus,
    Minus,
    Times,
    Divide,
    Mod,
    Matches,
    NotMatches,
    Less,
    Greater,
    LessEqual,
    GreaterEqual,
    Equal,
    NotEqual,
    In,
    Not,
    And,
    Or,
}

impl Op {
    pub fn symbol(self) -> &'static str {
        match self {
            Op::Plus => "+",
            Op::Minus => "-",
            Op::Times => "*",
            Op::Divide => "/",
            Op::Mod => "mod",
            Op::Matches => "=~",
            Op::NotMatches => "!~",
            Op::Less => "<",
            Op::Greater => ">",
            Op::LessEqual => "<=",
            Op::GreaterEqual => ">=",
            Op::Equal => "=",
            Op::NotEqual => "!=",
            Op::In => "in",
            Op::Not => "not",
            Op::And => "and",
            Op::Or => "or",
        }
    }

    /// Binding power of the binary form; all of them are left-associative.
    fn binary_power(self) -> u8 {
        match self {
            Op::Or => 10,
            Op::And => 20,
            Op::Less
            | Op::Greater
            | Op::LessEqual
            | Op::GreaterEqual
            | Op::Equal
            | Op::NotEqual
            | Op::In => 40,
            Op::Plus | Op::Minus => 50,
            Op::Times | Op::Divide | Op::Mod => 60,
            Op::Matches | Op::NotMatches => 70,
            Op::Not => 0,
        }
    }
}

/// How deep expressions may nest: far beyond any real one, and well within
/// the stack of the recursive parser and evaluator.
const MOST_NESTED: usize = 256;

const NOT_POWER: u8 = 30;
const SIGN_POWER: u8 = 80;
const INDEX_POWER: u8 = 90;
const DOT_POWER: u8 = 100;

/// A syntax error, with the byte offset where it was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    pub offset: usize,
    pub message: String,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at character {})", self.message, self.offset + 1)
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Value(Value),
    Dollar(String),
    /// A bare name: the string it spells.
    Name(String),
    /// `name(`: a function call.
    Function(String),
    Op(Op),
    Punct(&'static str),
    End,
}

fn tokenize(text: &str) -> Result<Vec<(Token, usize)>, SyntaxError> {
    let mut tokens = Vec::new();
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut i = 0;
    let at = |i: usize| chars.get(i).map(|&(_, c)| c);
    let offset = |i: usize| chars.get(i).map_or(text.len(), |&(o, _)| o);
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    while i < chars.len() {
        let c = chars[i].1;
        let start = offset(i);
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let token = if c == '$' {
            let mut name = String::new();
            i += 1;
            while let Some(c) = at(i).filter(|&c| is_word(c)) {
                name.push(c);
                i += 1;
            }
            Token::Dollar(name)
        } else if c.is_ascii_digit() {
            let mut number = String::new();
            while let Some(c) = at(i).filter(char::is_ascii_digit) {
                number.push(c);
                i += 1;
            }
            if at(i) == Some('.') && at(i + 1).is_some_and(|c| c.is_ascii_digit()) {
                number.push('.');
                i += 1;
                while let Some(c) = at(i).filter(char::is_ascii_digit) {
                    number.push(c);
                    i += 1;
                }
                Token::Value(Value::Float(number.parse().unwrap_or(f64::NAN)))
            } else {
                match number.parse() {
                    Ok(int) => Token::Value(Value::Int(int)),
                    Err(_) => Token::Value(Value::Float(number.parse().unwrap_or(f64::NAN))),
                }
            }
        } else if is_word(c) {
            let mut name = String::new();
            while let Some(c) = at(i).filter(|&c| is_word(c)) {
                name.push(c);
                i += 1;
            }
            if at(i) == Some('(') {
                i += 1;
                Token::Function(name)
            } else {
                match name.as_str() {
                    "true" => Token::Value(Value::Bool(true)),
                    "false" => Token::Value(Value::Bool(false)),
                    "null" => Token::Value(Value::Null),
                    "and" => Token::Op(Op::And),
                    "or" => Token::Op(Op::Or),
                    "not" => Token::Op(Op::Not),
                    "in" => Token::Op(Op::In),
                    "mod" => Token::Op(Op::Mod),
                    _ => Token::Name(name),
                }
            }
        } else if c == '\'' || c == '"' || c == '`' {
            let quote = c;
            let mut content = String::new();
            i += 1;
            loop {
                match at(i) {
                    None => {
                        return Err(SyntaxError {
                            offset: start,
                            message: "this string has no closing quote".into(),
                        })
                    }
                    Some(c) if c == quote => {
                        i += 1;
                        break;
                    }
                    Some('\\') if quote != '`' => {
                        let escaped = at(i + 1).ok_or(SyntaxError {
                            offset: start,
                            message: "this string has no closing quote".into(),
                        })?;
                        content.push(match escaped {
                            'n' => '\n',
                            't' => '\t',
                            'r' => '\r',
                            '0' => '\0',
                            other => other,
                        });
                        i += 2;
                    }
                    Some(c) => {
                        content.push(c);
                        i += 1;
                    }
                }
            }
            Token::Value(Value::string(&content))
        } else {
            let rest = &text[start..];
            let symbols: [(&str, Token); 23] = [
                ("=>", Token::Punct("=>")),
                ("->", Token::Punct("->")),
                ("?.", Token::Punct("?.")),
                ("=~", Token::Op(Op::Matches)),
                ("!~", Token::Op(Op::NotMatches)),
                ("!=", Token::Op(Op::NotEqual)),
                (">=", Token::Op(Op::GreaterEqual)),
                ("<=", Token::Op(Op::LessEqual)),
                ("=", Token::Op(Op::Equal)),
                (">", Token::Op(Op::Greater)),
                ("<", Token::Op(Op::Less)),
                ("+", Token::Op(Op::Plus)),
                ("-", Token::Op(Op::Minus)),
                ("*", Token::Op(Op::Times)),
                ("/", Token::Op(Op::Divide)),
                (".", Token::Punct(".")),
                ("(", Token::Punct("(")),
                (")", Token::Punct(")")),
                ("[", Token::Punct("[")),
                ("]", Token::Punct("]")),
                ("{", Token::Punct("{")),
                ("}", Token::Punct("}")),
                (",", Token::Punct(",")),
            ];
            let Some((symbol, token)) = symbols
                .into_iter()
                .find(|(symbol, _)| rest.starts_with(symbol))
            else {
                return Err(SyntaxError {
                    offset: start,
                    message: format!("unexpected character `{c}`"),
                });
            };
            i += symbol.chars().count();
            token
        };
        tokens.push((token, start));
    }
    tokens.push((Token::End, text.len()));
    Ok(tokens)
}

pub fn parse(text: &str) -> Result<Expr, SyntaxError> {
    let mut parser = Parser {
        tokens: tokenize(text)?,
        next: 0,
        depth: 0,
    };
    let expr = parser.expression(0)?;
    match parser.peek() {
        Token::End => Ok(expr),
        other => Err(parser.error(format!("unexpected {}", describe(other)))),
    }
}

fn describe(token: &Token) -> String {
    match token {
        Token::Value(value) => format!("value `{value}`"),
        Token::Dollar(name) => format!("`${name}`"),
        Token::Name(name) => format!("`{name}`"),
        Token::Function(name) => format!("`{name}(`"),
        Token::Op(op) => format!("`{}`", op.symbol()),
        Token::Punct(text) => format!("`{text}`"),
        Token::End => "end of the expression".into(),
    }
}

struct Parser {
    tokens: Vec<(Token, usize)>,
    next: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> &Token {
        &self.tokens[self.next.min(self.tokens.len() - 1)].0
    }

    fn advance(&mut self) -> Token {
        let token = self.peek().clone();
        if self.next < self.tokens.len() - 1 {
            self.next += 1;
        }
        token
    }

    fn error(&self, message: String) -> SyntaxError {
        SyntaxError {
            offset: self.tokens[self.next.min(self.tokens.len() - 1)].1,
            message,
        }
    }

    fn expect(&mut self, punct: &'static str) -> Result<(), SyntaxError> {
        if *self.peek() == Token::Punct(punct) {
            self.advance();
            Ok(())
        } else {
            Err(self.error(format!(
                "expected `{punct}`, found {}",
                describe(self.peek())
            )))
        }
    }

    fn expression(&mut self, min_power: u8) -> Result<Expr, SyntaxError> {
        self.depth += 1;
        let result = self.expression_within(min_power);
        self.depth -= 1;
        result
    }

    fn expression_within(&mut self, min_power: u8) -> Result<Expr, SyntaxError> {
        if self.depth > MOST_NESTED {
            return Err(self.error(format!(
                "the expression nests deeper than {MOST_NESTED} levels"
            )));
        }
        let mut left = self.prefix()?;
        // Each operator applied to `left` makes the tree one level deeper.
        let mut chained = 0;
        loop {
            if self.depth + chained > MOST_NESTED {
                return Err(self.error(format!(
                    "the expression nests deeper than {MOST_NESTED} levels"
                )));
            }
            chained += 1;
            match self.peek().clone() {
                Token::Punct(dot @ ("." | "?.")) if DOT_POWER >= min_power => {
                    self.advance();
                    let member = self.prefix_tight()?;
                    left = Expr::Dot {
                        receiver: Box::new(left),
                        member: Box::new(member),
                        null_safe: dot == "?.",
                    };
                }
                Token::Punct("[") if INDEX_POWER >= min_power => {
                    self.advance();
                    let args = self.arguments("]")?;
                    left = Expr::Index {
                        target: Box::new(left),
                        args,
                    };
                }
                Token::Punct("->") => {
                    return Err(self.error(
                        "`->` (YAQL's chaining with `let`) is not supported by granule".into(),
                    ))
                }
                Token::Op(op) if op != Op::Not && op.binary_power() >= min_power.max(1) => {
                    self.advance();
                    let right = self.expression(op.binary_power() + 1)?;
                    left = Expr::Binary {
                        op,
                        left: Box::new(left),
                        right: Box::new(right),
                    };
                }
                _ => return Ok(left),
            }
        }
    }

    /// What may follow a `.`: a name, a call, `$`, a parenthesised expression.
    fn prefix_tight(&mut self) -> Result<Expr, SyntaxError> {
        match self.peek() {
            Token::Name(_) | Token::Function(_) | Token::Dollar(_) | Token::Punct("(") => {
                self.prefix()
            }
            other => Err(self.error(format!(
                "expected a name or a method call after `.`, found {}",
                describe(other)
            ))),
        }
    }

    fn prefix(&mut self) -> Result<Expr, SyntaxError> {
        match self.advance() {
            Token::Value(value) => Ok(Expr::Constant(value)),
            Token::Name(name) => Ok(Expr::Constant(Value::string(&name))),
            Token::Dollar(name) => Ok(Expr::Variable(name)),
            Token::Function(name) => Ok(Expr::Call {
                name,
                args: self.arguments(")")?,
            }),
            Token::Op(op @ (Op::Plus | Op::Minus)) => Ok(Expr::Unary {
                op,
                operand: Box::new(self.expression(SIGN_POWER)?),
            }),
            Token::Op(Op::Not) => Ok(Expr::Unary {
                op: Op::Not,
                operand: Box::new(self.expression(NOT_POWER)?),
            }),
            Token::Punct("(") => {
                let inner = self.expression(0)?;
                self.expect(")")?;
                Ok(inner)
            }
            Token::Punct("[") => Ok(Expr::List(self.arguments("]")?)),
            Token::Punct("{") => Ok(Expr::Map(self.arguments("}")?)),
            other => {
                self.next -= usize::from(self.next > 0 && other != Token::End);
                Err(self.error(format!("expected a value, found {}", describe(&other))))
            }
        }
    }

    /// Comma-separated arguments up to `close`, each `value` or `name => value`.
    fn arguments(&mut self, close: &'static str) -> Result<Vec<Arg>, SyntaxError> {
        let mut args = Vec::new();
        if *self.peek() == Token::Punct(close) {
            self.advance();
            return Ok(args);
        }
        loop {
            let value = self.expression(0)?;
            if *self.peek() == Token::Punct("=>") {
                self.advance();
                args.push(Arg::Named(value, self.expression(0)?));
            } else {
                args.push(Arg::Positional(value));
            }
            match self.advance() {
                Token::Punct(",") => {}
                Token::Punct(found) if found == close => return Ok(args),
                other => {
                    self.next -= usize::from(other != Token::End);
                    return Err(self.error(format!(
                        "expected `,` or `{close}`, found {}",
                        describe(&other)
                    )));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precedence_follows_yaql() {
        // `not` binds looser than `=` and `in`, tighter than `and`.
        let Expr::Binary {
            op: Op::And, left, ..
        } = parse("not $.a = 1 and $.b").unwrap()
        else {
            panic!("`and` should be the root");
        };
        assert!(matches!(*left, Expr::Unary { op: Op::Not, .. }));
        let Expr::Binary {
            op: Op::Plus,
            right,
            ..
        } = parse("1 + 2 * 3").unwrap()
        else {
            panic!("`+` should be the root");
        };
        assert!(matches!(*right, Expr::Binary { op: Op::Times, .. }));
        assert!(matches!(parse("$.a.b[0]").unwrap(), Expr::Index { .. }));
    }

    #[test]
    fn errors_say_where() {
        let error = parse("changed($.a").unwrap_err();
        assert_eq!(error.offset, 11, "{error}");
        assert!(parse("'open")
            .unwrap_err()
            .message
            .contains("closing quote"));
        assert!(parse("$x -> $y").is_err());
        let deep = format!("{}1{}", "(".repeat(100_000), ")".repeat(100_000));
        assert!(parse(&deep).unwrap_err().message.contains("nests deeper"));
        let chain = format!("1{}", " + 1".repeat(100_000));
        assert!(parse(&chain).unwrap_err().message.contains("nests deeper"));
        assert!(parse(&format!("1{}", " + 1".repeat(200))).is_ok());
    }
}
