//! `--fix`: puppet-lint's fixes, applied the way puppet-lint applies them,
//! so that the rewritten file has the same bytes as `puppet-lint --fix`'s.
//!
//! puppet-lint first runs every check on the file's tokens, then each
//! check's fix, in check order, edits the token list in place (retyping a
//! token, changing its text, inserting or removing tokens), and finally
//! prints every token back. Tokens here live in an arena with links, so a
//! problem found before any fix still names its token after earlier fixes
//! inserted or removed others.

use super::tokens::{render, Kind, Neighbours, Punct, Token, TokenList};
use super::Problem;

/// What a fix needs to know about its problem, by token id (the token's
/// index in the file's original token list).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fix {
    /// The one token the fix edits.
    Token(usize),
    /// A variable reading a legacy fact, and the fact's name as the check
    /// found it (puppet-lint fixes by that name).
    LegacyFact { token: usize, fact: String },
    /// A string holding only a variable: its `DQPRE`, variable and `DQPOST`.
    OnlyVariable {
        start: usize,
        var: usize,
        end: usize,
    },
    /// A misaligned `=>`: the column it belongs in, and whether it shares
    /// its line with an earlier arrow (it then moves to a line of its own,
    /// indented by `newline_indent`).
    Arrow {
        token: usize,
        arrow_column: usize,
        newline: bool,
        newline_indent: usize,
    },
    /// A symlink target given as `ensure`: the attribute name and value.
    SymlinkTarget { param: usize, value: usize },
    /// `ensure` not first: the name of the resource's first attribute.
    EnsureFirst { first_param: usize },
}

/// The tokens of a file as a doubly linked list over an arena.
pub struct Arena {
    tokens: Vec<Token>,
    next: Vec<Option<usize>>,
    prev: Vec<Option<usize>>,
    head: Option<usize>,
}

impl Arena {
    pub fn new(list: &TokenList) -> Arena {
        let n = list.tokens.len();
        Arena {
            tokens: list.tokens.clone(),
            next: (0..n).map(|i| (i + 1 < n).then_some(i + 1)).collect(),
            prev: (0..n).map(|i| i.checked_sub(1)).collect(),
            head: (n > 0).then_some(0),
        }
    }

    pub fn token(&self, id: usize) -> &Token {
        &self.tokens[id]
    }

    pub fn token_mut(&mut self, id: usize) -> &mut Token {
        &mut self.tokens[id]
    }

    pub fn next(&self, id: usize) -> Option<usize> {
        self.next[id]
    }

    pub fn prev(&self, id: usize) -> Option<usize> {
        self.prev[id]
    }

    pub fn prev_code(&self, id: usize) -> Option<usize> {
        let mut at = self.prev[id];
        while let Some(i) = at {
            if !self.tokens[i].kind.is_formatting() {
                return Some(i);
            }
            at = self.prev[i];
        }
        None
    }

    pub fn next_code(&self, id: usize) -> Option<usize> {
        let mut at = self.next[id];
        while let Some(i) = at {
            if !self.tokens[i].kind.is_formatting() {
                return Some(i);
            }
            at = self.next[i];
        }
        None
    }

    /// puppet-lint's `next_token_of`: the next token of one of `kinds`
    /// (with `value`, if given), stepping over bracketed blocks.
    pub fn next_token_of(&self, from: usize, kinds: &[Kind], value: Option<&str>) -> Option<usize> {
        let mut at = self.next[from];
        while let Some(id) = at {
            let token = &self.tokens[id];
            if kinds.contains(&token.kind) && value.is_none_or(|v| token.value == v) {
                return Some(id);
            }
            let close = match token.kind {
                Kind::Punct(Punct::LBrace) => Some(Punct::RBrace),
                Kind::Punct(Punct::LBrack) => Some(Punct::RBrack),
                Kind::Punct(Punct::LParen) => Some(Punct::RParen),
                _ => None,
            };
            let resume = match close {
                Some(close) => self.next_token_of(id, &[Kind::Punct(close)], None)?,
                None => id,
            };
            at = self.next[resume];
        }
        None
    }

    /// The ids from `start` up to (not including) `end`, in list order.
    pub fn run(&self, start: usize, end: usize) -> Vec<usize> {
        let mut ids = Vec::new();
        let mut at = Some(start);
        while let Some(id) = at.filter(|&id| id != end) {
            ids.push(id);
            at = self.next[id];
        }
        ids
    }

    pub fn remove(&mut self, id: usize) {
        let (prev, next) = (self.prev[id], self.next[id]);
        match prev {
            Some(p) => self.next[p] = next,
            None => self.head = next,
        }
        if let Some(n) = next {
            self.prev[n] = prev;
        }
        self.prev[id] = None;
        self.next[id] = None;
    }

    /// Inserts a new token before `before`; returns its id.
    pub fn insert_before(&mut self, before: usize, kind: Kind, value: &str) -> usize {
        self.insert_token_before(
            before,
            Token {
                kind,
                value: value.to_string(),
                raw: None,
                line: 0,
                column: 0,
            },
        )
    }

    /// Inserts a copy of a token lexed elsewhere before `before`.
    pub fn insert_token_before(&mut self, before: usize, token: Token) -> usize {
        self.tokens.push(token);
        self.next.push(None);
        self.prev.push(None);
        let id = self.tokens.len() - 1;
        self.link_before(before, id);
        id
    }

    /// Links an existing (removed) token in before `before`.
    pub fn link_before(&mut self, before: usize, id: usize) {
        let prev = self.prev[before];
        self.prev[id] = prev;
        self.next[id] = Some(before);
        self.prev[before] = Some(id);
        match prev {
            Some(p) => self.next[p] = Some(id),
            None => self.head = Some(id),
        }
    }

    /// Inserts a new token after `after`; returns its id.
    pub fn insert_after(&mut self, after: usize, kind: Kind, value: &str) -> usize {
        let id = self.push(kind, value);
        let next = self.next[after];
        self.prev[id] = Some(after);
        self.next[id] = next;
        self.next[after] = Some(id);
        if let Some(n) = next {
            self.prev[n] = Some(id);
        }
        id
    }

    fn push(&mut self, kind: Kind, value: &str) -> usize {
        self.tokens.push(Token {
            kind,
            value: value.to_string(),
            raw: None,
            line: 0,
            column: 0,
        });
        self.next.push(None);
        self.prev.push(None);
        self.tokens.len() - 1
    }

    /// The token as puppet-lint prints it, with its current neighbours.
    pub fn manifest(&self, id: usize) -> String {
        let kind_at = |j: Option<usize>| j.map(|j| self.tokens[j].kind);
        render(
            &self.tokens[id],
            Neighbours {
                prev: kind_at(self.prev[id]),
                next: kind_at(self.next[id]),
                prev_code: kind_at(self.prev_code(id)),
            },
        )
    }

    /// The whole file printed back (puppet-lint's `manifest`).
    pub fn print(&self) -> String {
        let mut out = String::new();
        let mut at = self.head;
        while let Some(id) = at {
            out.push_str(&self.manifest(id));
            at = self.next[id];
        }
        out
    }
}

/// Applies the fixes of `problems` (in their order, which is check order)
/// and prints the file back. Problems a control comment silences are not
/// fixed; the others that a fix was applied to are marked `fixed`.
pub fn apply(tokens: &TokenList, problems: &mut [Problem]) -> String {
    let mut arena = Arena::new(tokens);
    for problem in problems.iter_mut() {
        if problem.ignored.is_some() {
            continue;
        }
        let Some(fix) = problem.fix.clone() else {
            continue;
        };
        if let Some(rule) = super::rules::find(problem.check) {
            if let Some(fixer) = rule.fix {
                problem.fixed = fixer(&mut arena, &fix);
            }
        }
    }
    arena.print()
}
