use crate::{ast::Program, diagnostics::SyntaxError, span::Span};

/// Parses Puppet source into a [`Program`].
pub fn parse(_source: &str) -> Result<Program, SyntaxError> {
    Err(SyntaxError::new(
        "parser under construction",
        Span::default(),
    ))
}
