//! `granule`: take a monolithic Puppet codebase apart into small deployment tasks.

#[macro_use]
mod output;

mod commands;
mod focus;
mod graph_page;
mod manifests;
mod render;

use clap::{CommandFactory, Parser, Subcommand};
use std::process::ExitCode;

/// `granule --version`: the release and the commit built (see build.rs).
const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("GRANULE_COMMIT"),
    ")"
);

/// Take a monolithic Puppet codebase apart into small tasks that can be
/// understood, tested, visualized, linted and run one by one.
#[derive(Parser)]
#[command(name = "granule", version = VERSION, about, long_about = None, propagate_version = true)]
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
    Export(commands::export::ExportArgs),
    Status(commands::status::StatusArgs),
    Tasks(commands::tasks::TasksArgs),
    Completions(CompletionsArgs),
}

/// Print a shell completion script: subcommands, options and their values
/// complete on Tab.
///
/// Examples:
///   granule completions bash > ~/.local/share/bash-completion/completions/granule
///   granule completions zsh > ~/.zfunc/_granule     # with fpath+=(~/.zfunc) in ~/.zshrc
///   granule completions fish > ~/.config/fish/completions/granule.fish
#[derive(clap::Args)]
#[command(verbatim_doc_comment)]
struct CompletionsArgs {
    /// The shell to complete in.
    #[arg(value_enum)]
    shell: clap_complete::Shell,
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
        Command::Export(args) => commands::export::run(args),
        Command::Status(args) => commands::status::run(args),
        Command::Tasks(args) => commands::tasks::run(args),
        Command::Completions(args) => {
            let mut script = Vec::new();
            clap_complete::generate(args.shell, &mut Cli::command(), "granule", &mut script);
            out!("{}", String::from_utf8_lossy(&script));
            ExitCode::SUCCESS
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::CommandFactory;

    /// `--help` teaches only if it says what each argument is.
    #[test]
    fn every_argument_has_a_description() {
        fn undescribed(command: &clap::Command, path: &str, found: &mut Vec<String>) {
            for arg in command.get_arguments() {
                let builtin = matches!(arg.get_id().as_str(), "help" | "version");
                if arg.get_help().is_none() && arg.get_long_help().is_none() && !builtin {
                    found.push(format!("{path} {}", arg.get_id()));
                }
            }
            for sub in command.get_subcommands() {
                undescribed(sub, &format!("{path} {}", sub.get_name()), found);
            }
        }
        let mut found = Vec::new();
        undescribed(&Cli::command(), "granule", &mut found);
        assert!(
            found.is_empty(),
            "arguments without a description: {found:?}"
        );
    }
}
