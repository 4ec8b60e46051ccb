//! granule-parser: the Puppet language, parsed the way Puppet 7 parses it.
//!
//! * [`lexer`] turns source text into tokens, with the same context rules as
//!   Puppet's `lexer2.rb` (regex vs. division, `[` after white space, heredocs,
//!   string interpolation).
//! * [`parse`] builds the [`ast`], a plain-data tree in which every node carries
//!   its [`Span`]; comments are kept beside it in [`Program::comments`].
//!   [`parse_epp`] does the same for an EPP template (`*.epp`).
//! * [`pn`] prints the tree in Puppet's PN notation (and its JSON form), the
//!   text `puppet parser dump --format pn` prints.
//! * [`validate()`] checks a parsed file with Puppet 7's validation rules
//!   (`puppet parser validate`), reporting Puppet's issue codes.
//! * [`legacy`] names the Puppet 3 constructs in a file (read with their
//!   Puppet 3 meaning when [`ParseOptions::legacy`] is set) and what Puppet 7
//!   does with each.
//! * [`rewrite`] rewrites Puppet 3 code for Puppet 7 where the meaning is
//!   kept, and says what to do with the rest.
//! * [`source::decode`] reads a file's bytes as text, or says at which line
//!   and column they stop being UTF-8.
//! * [`diagnostics`] renders errors as `PATH:LINE:COL: error: ...` with the
//!   source line and a caret under the span.

pub mod ast;
pub mod diagnostics;
pub mod legacy;
pub mod lexer;
mod parser;
pub mod pn;
pub mod qualified;
pub mod rewrite;
pub mod source;
pub mod span;
pub mod validate;
pub mod visit;

pub use ast::*;
pub use diagnostics::{Diagnostic, Severity, SyntaxError};
pub use parser::{
    parse, parse_epp, parse_epp_recovering, parse_legacy_recovering, parse_recovering,
    parse_with_options, ParseOptions, Parsed,
};
pub use span::{LineIndex, Span};
pub use validate::validate;
