//! granule-analyzer: module index, resolution and graphs over the parser's AST.
//!
//! The analysis itself arrives with the analyzer issue; this crate exists so the
//! dependency direction (analyzer -> parser) is fixed from the start.

pub use granule_parser as parser;
