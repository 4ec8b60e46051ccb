//! Puppet's PN notation of the AST.
use crate::ast::Program;

/// The PN text `puppet parser dump --format pn` prints for this program.
pub fn to_pn(_program: &Program) -> String {
    String::new()
}

/// The JSON text `puppet parser dump --format json` prints for this program.
pub fn to_json(_program: &Program) -> String {
    String::new()
}
