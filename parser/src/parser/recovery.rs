//! Error recovery: after a syntax error inside a list of statements, skip to
//! where the next statement of the same block plausibly starts (or to the
//! block's end) and go on, so that one run reports every independent error
//! and the rest of the file still yields a tree.
//!
//! The resynchronisation points are found on the token stream alone: a token
//! at the block's brace depth that starts a statement on a new line, the `}`
//! that closes the block, or the end of input. Puppet's grammar has no
//! statement terminator, so "on a new line" is what separates the failed
//! statement's debris from the next statement.

use super::Parser;
use crate::diagnostics::SyntaxError;
use crate::lexer::{Tok, Token};

/// Errors collected while recovering, and what recovery needs to know about
/// the token stream.
pub(super) struct Recovery {
    pub errors: Vec<SyntaxError>,
    /// For each token, the number of `{` opened and not yet closed before it.
    brace_depth: Vec<u32>,
    /// Recovery is off while the parser tries one reading of the input and
    /// may fall back to another: errors there are not the user's.
    pub suspended: u32,
}

impl Recovery {
    pub fn new(tokens: &[Token]) -> Recovery {
        let mut depth = 0u32;
        let brace_depth = tokens
            .iter()
            .map(|token| {
                let before = depth;
                match token.kind {
                    Tok::LBrace | Tok::SelBrace => depth += 1,
                    Tok::RBrace => depth = depth.saturating_sub(1),
                    _ => {}
                }
                before
            })
            .collect();
        Recovery {
            errors: Vec::new(),
            brace_depth,
            suspended: 0,
        }
    }
}

/// Where a list of statements began, to return to after an error in it.
pub(super) struct Checkpoint {
    block_depth: u32,
    depth: usize,
    names: usize,
}

/// Whether parsing can go on after an error.
pub(super) enum Resumed {
    /// At the start of another statement of the same block.
    AtStatement,
    /// At the `}` that closes the block, or at the end of input.
    AtBlockEnd,
}

impl<'t> Parser<'t> {
    /// Where the statements starting at the current token can resume; `None`
    /// when errors are not recovered from.
    pub(super) fn checkpoint(&self) -> Option<Checkpoint> {
        let recovery = self.recovery.as_ref()?;
        Some(Checkpoint {
            block_depth: recovery.brace_depth[self.pos],
            depth: self.depth,
            names: self.namestack.len(),
        })
    }

    /// Records `error` and moves to where parsing of the block that
    /// `checkpoint` belongs to can resume, a statement starting at token
    /// `resume_from` or later; gives the error back when it cannot be
    /// recovered from here.
    pub(super) fn recover(
        &mut self,
        error: SyntaxError,
        checkpoint: &Checkpoint,
        resume_from: usize,
    ) -> Result<Resumed, SyntaxError> {
        let Some(recovery) = self.recovery.as_mut() else {
            return Err(error);
        };
        if self.too_deep || recovery.suspended > 0 {
            return Err(error);
        }
        recovery.errors.push(error);
        self.depth = checkpoint.depth;
        self.namestack.truncate(checkpoint.names);
        let recovery = self.recovery.as_ref().expect("recovering");
        let block = checkpoint.block_depth;
        let mut at = self.pos;
        loop {
            let token = &self.tokens[at];
            let depth = recovery.brace_depth[at];
            let resumed = match token.kind {
                Tok::Eof => Some(Resumed::AtBlockEnd),
                Tok::RBrace if block > 0 && depth == block => Some(Resumed::AtBlockEnd),
                kind if at >= resume_from
                    && depth == block
                    && starts_statement_line(kind)
                    && self.on_new_line(at) =>
                {
                    Some(Resumed::AtStatement)
                }
                _ => None,
            };
            if let Some(resumed) = resumed {
                self.pos = at;
                return Ok(resumed);
            }
            at += 1;
        }
    }

    /// Whether a line break separates token `at` from the one before it.
    fn on_new_line(&self, at: usize) -> bool {
        let end = self.tokens[at - 1].span.end as usize;
        let start = self.tokens[at].span.start as usize;
        end <= start && self.source[end..start].contains('\n')
    }

    /// Runs `attempt` with recovery off: for a reading of the input the
    /// parser may abandon for another.
    pub(super) fn without_recovery<T>(
        &mut self,
        attempt: impl FnOnce(&mut Self) -> Result<T, SyntaxError>,
    ) -> Result<T, SyntaxError> {
        if let Some(recovery) = self.recovery.as_mut() {
            recovery.suspended += 1;
        }
        let result = attempt(self);
        if let Some(recovery) = self.recovery.as_mut() {
            recovery.suspended -= 1;
        }
        result
    }
}

/// Tokens that start a statement when they begin a line.
fn starts_statement_line(kind: Tok) -> bool {
    matches!(
        kind,
        Tok::Class
            | Tok::Define
            | Tok::Node
            | Tok::Function
            | Tok::Type
            | Tok::If
            | Tok::Unless
            | Tok::Case
            | Tok::Variable
            | Tok::Name
            | Tok::ClassRef
            | Tok::At
            | Tok::AtAt
    )
}
