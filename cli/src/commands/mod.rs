//! One module per subcommand.

pub mod deps;
pub mod executor_support;
pub mod export;
pub mod graph;
pub mod lint;
pub mod parse;
pub mod parse_findings;
pub mod run;
pub mod split;
pub mod status;
pub mod tasks;
