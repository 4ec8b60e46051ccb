//! One file as the checks see it: its lines, its tokens and the token ranges
//! puppet-lint's `PuppetLint::Data` computes once and shares between checks
//! (resource bodies, class and define definitions), with puppet-lint's
//! boundaries.

use super::tokens::{Keyword, Kind, Punct, TokenList};
use std::cell::OnceCell;
use std::path::{Path, PathBuf};

/// A resource body: from its title's `:` to the `;` or `}` that ends it.
#[derive(Debug, Clone)]
pub struct Resource {
    /// Token index of the `:` after the title.
    pub start: usize,
    /// Token index of the ending `;` or `}`.
    pub end: usize,
    /// The code token before the `{` that opens the body (`file`, `Class`).
    pub type_token: Option<usize>,
    /// Attribute names (a name followed by `=>`), not those of nested hashes.
    pub param_tokens: Vec<usize>,
}

/// A class, define or node definition.
#[derive(Debug, Clone)]
pub struct Definition {
    /// Token index of the keyword.
    pub start: usize,
    /// Token index of the `}` that closes the body.
    pub end: usize,
    pub kind: Keyword,
    pub name_token: usize,
    pub inherited_token: Option<usize>,
    /// Tokens between the parameter list's parentheses, if it has one.
    pub params: Option<(usize, usize)>,
}

pub struct Context<'a> {
    pub path: &'a Path,
    /// The absolute path (puppet-lint's `fullpath`).
    pub fullpath: PathBuf,
    pub source: &'a str,
    pub tokens: &'a TokenList,
    resources: OnceCell<Result<Vec<Resource>, usize>>,
    classes: OnceCell<Vec<Definition>>,
    defines: OnceCell<Vec<Definition>>,
}

impl<'a> Context<'a> {
    pub fn new(path: &'a Path, source: &'a str, tokens: &'a TokenList) -> Context<'a> {
        let fullpath = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        Context {
            path,
            fullpath,
            source,
            tokens,
            resources: OnceCell::new(),
            classes: OnceCell::new(),
            defines: OnceCell::new(),
        }
    }

    /// The source's lines as puppet-lint splits them (on `\n` only, keeping
    /// a last empty line).
    pub fn manifest_lines(&self) -> impl Iterator<Item = &'a str> {
        self.source.split('\n')
    }

    /// Resource bodies; empty when one does not close (see
    /// [`Context::unclosed_resource`]).
    pub fn resources(&self) -> &[Resource] {
        match self.resources.get_or_init(|| resource_indexes(self.tokens)) {
            Ok(resources) => resources,
            Err(_) => &[],
        }
    }

    /// The `:` of a resource title whose body has no end: puppet-lint then
    /// reports the file as a syntax error and nothing else.
    pub fn unclosed_resource(&self) -> Option<usize> {
        match self.resources.get() {
            Some(Err(colon)) => Some(*colon),
            _ => None,
        }
    }

    pub fn classes(&self) -> &[Definition] {
        self.classes
            .get_or_init(|| definition_indexes(self.tokens, Keyword::Class))
    }

    pub fn defines(&self) -> &[Definition] {
        self.defines
            .get_or_init(|| definition_indexes(self.tokens, Keyword::Define))
    }

    /// Classes, then defines (the order puppet-lint checks them in).
    pub fn classes_and_defines(&self) -> impl Iterator<Item = &Definition> {
        self.classes().iter().chain(self.defines().iter())
    }
}

fn is(tokens: &TokenList, i: usize, kind: Kind) -> bool {
    tokens.kind(i) == kind
}

const COLON: Kind = Kind::Punct(Punct::Colon);
const LBRACE: Kind = Kind::Punct(Punct::LBrace);
const RBRACE: Kind = Kind::Punct(Punct::RBrace);
const LPAREN: Kind = Kind::Punct(Punct::LParen);
const RPAREN: Kind = Kind::Punct(Punct::RParen);

/// puppet-lint's `resource_indexes`: a `:` not followed by `{` starts a
/// resource body, which ends at the next `;` or `}` outside brackets. A `:`
/// inside a body already found stops the search (puppet-lint's quirk).
fn resource_indexes(tokens: &TokenList) -> Result<Vec<Resource>, usize> {
    let mut marker = 0;
    let mut result = Vec::new();
    for colon in (0..tokens.len()).filter(|&i| is(tokens, i, COLON)) {
        match tokens.next_code(colon) {
            Some(next) if !is(tokens, next, LBRACE) => {}
            _ => continue,
        }
        if colon < marker {
            break;
        }
        let end = tokens
            .next_token_of(colon, &[Kind::Punct(Punct::Semic), RBRACE])
            .ok_or(colon)?;
        marker = end;
        result.push(Resource {
            start: colon,
            end,
            type_token: resource_type_token(tokens, colon)?,
            param_tokens: resource_param_tokens(tokens, colon, end),
        });
    }
    Ok(result)
}

fn resource_type_token(tokens: &TokenList, colon: usize) -> Result<Option<usize>, usize> {
    let lbrace = (0..=colon)
        .rev()
        .find(|&i| {
            is(tokens, i, LBRACE)
                && tokens
                    .prev_code(i)
                    .is_none_or(|p| !is(tokens, p, Kind::Punct(Punct::QMark)))
        })
        .ok_or(colon)?;
    Ok(tokens.prev_code(lbrace))
}

fn resource_param_tokens(tokens: &TokenList, start: usize, end: usize) -> Vec<usize> {
    let mut params = Vec::new();
    let mut at = start.saturating_sub(1);
    while let Some(name) = tokens.next_token_of(at, &[Kind::Name]) {
        if !(start..=end).contains(&name) {
            break;
        }
        if tokens
            .next_code(name)
            .is_some_and(|n| is(tokens, n, Kind::Punct(Punct::FArrow)))
        {
            params.push(name);
        }
        at = name;
    }
    params
}

/// puppet-lint's `definition_indexes`: each `class`/`define`/`node` keyword
/// not followed by `{`, to the `}` that closes its body.
fn definition_indexes(tokens: &TokenList, keyword: Keyword) -> Vec<Definition> {
    let mut result = Vec::new();
    for start in (0..tokens.len()).filter(|&i| is(tokens, i, Kind::Keyword(keyword))) {
        let Some(name_token) = tokens.next_code(start) else {
            continue;
        };
        if is(tokens, name_token, LBRACE) {
            continue;
        }
        let mut braces = 0i64;
        let mut parens = 0i64;
        let mut in_params = false;
        let mut inherited_token = None;
        for i in start + 1..tokens.len() {
            match tokens.kind(i) {
                Kind::Keyword(Keyword::Inherits) => inherited_token = tokens.next_code(i),
                LPAREN => {
                    if parens == 0 {
                        in_params = true;
                    }
                    parens += 1;
                }
                RPAREN => {
                    if parens == 1 {
                        in_params = false;
                    }
                    parens -= 1;
                }
                LBRACE => braces += 1,
                RBRACE => {
                    braces -= 1;
                    if braces == 0 && !in_params {
                        result.push(Definition {
                            start,
                            end: i,
                            kind: keyword,
                            name_token,
                            inherited_token,
                            params: param_range(tokens, start, i),
                        });
                        break;
                    }
                }
                _ => {}
            }
        }
    }
    result
}

/// puppet-lint's `param_tokens`: the tokens strictly inside the first
/// parenthesised list before the body's `{`.
fn param_range(tokens: &TokenList, start: usize, end: usize) -> Option<(usize, usize)> {
    let mut depth = 0;
    let mut open = None;
    for i in start..=end {
        match tokens.kind(i) {
            LPAREN => {
                depth += 1;
                if depth == 1 {
                    open = Some(i);
                }
            }
            RPAREN => {
                depth -= 1;
                if depth == 0 {
                    return open.map(|open| (open + 1, i));
                }
            }
            LBRACE if depth == 0 => return None,
            _ => {}
        }
    }
    None
}
