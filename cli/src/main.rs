//! `granule`: take a monolithic Puppet codebase apart into small deployment tasks.

mod commands;
mod focus;
mod graph_page;
mod render;

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
    Deps(commands::deps::DepsArgs),
    Split(Box<commands::split::SplitArgs>),
    Graph(commands::graph::GraphArgs),
    Lint(commands::lint::LintArgs),
    Run(Box<commands::run::RunArgs>),
    Status(commands::status::StatusArgs),
    Tasks(commands::tasks::TasksArgs),
}

/// Stack of each worker thread. The analyses walk a file's tree recursively,
/// and a tree nests as deep as the parser accepts (2,500 levels, see
/// granule-parser's `MAX_NESTING`): a lint of such a file needs about 8 MiB,
/// four times rayon's default. Only the pages a walk touches are mapped.
const WORKER_STACK_BYTES: usize = 64 << 20;

fn main() -> ExitCode {
    // Fails only if a pool already exists, which then keeps its stacks.
    let _ = rayon::ThreadPoolBuilder::new()
        .stack_size(WORKER_STACK_BYTES)
        .build_global();
    let cli = Cli::parse();
    match cli.command {
        Command::Parse(args) => commands::parse::run(args),
        Command::Deps(args) => commands::deps::run(args),
        Command::Split(args) => commands::split::run(*args),
        Command::Graph(args) => commands::graph::run(args),
        Command::Lint(args) => commands::lint::run(args),
        Command::Run(args) => commands::run::run(*args),
        Command::Status(args) => commands::status::run(args),
        Command::Tasks(args) => commands::tasks::run(args),
    }
}
