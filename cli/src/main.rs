//! `granule`: take a monolithic Puppet codebase apart into small deployment tasks.

mod commands;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Take a monolithic Puppet codebase apart into small tasks that can be
/// understood, tested, visualized, linted and run one by one.
#[derive(Parser)]
#[command(name = "granule", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Parse(commands::parse::ParseArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Parse(args) => commands::parse::run(args),
    }
}
