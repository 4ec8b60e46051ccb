//! `granule tasks`: check, list and draw task descriptors.

use super::executor_support::{load_catalog, print_diagnostics};
use clap::{Args, Subcommand, ValueEnum};
use granule_executor::inventory::Inventory;
use granule_executor::{graph, Plan, Selection};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Check, list and draw task descriptors (Fuel tasks.yaml, versions 1 and 2.x).
///
/// Examples:
///   granule tasks validate deployment/
///   granule tasks list deployment/ --format json
///   granule tasks graph deployment/ --role controller --format svg > controller.svg
#[derive(Args)]
#[command(verbatim_doc_comment)]
pub struct TasksArgs {
    #[command(subcommand)]
    command: TasksCommand,
}

#[derive(Subcommand)]
enum TasksCommand {
    /// Check descriptors: unknown fields, duplicate ids, missing references,
    /// cycles, tasks no role selects. Exit status 0 when valid, 2 otherwise.
    Validate {
        /// tasks.yaml files or directories of them.
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
    },
    /// List tasks: id, type, roles, where declared.
    List {
        /// tasks.yaml files or directories of them.
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
        /// `text`: id, type, roles and origin, tab-separated; `json`: an
        /// object per line with the task's edges too.
        #[arg(long, value_enum, default_value_t = ListFormat::Text)]
        format: ListFormat,
    },
    /// Draw the task graph: solid edges order tasks on a node, dashed edges
    /// cross nodes. With --role, the graph one node of that role runs.
    Graph {
        /// tasks.yaml files or directories of them.
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
        /// Draw the graph of a node with this role (repeatable).
        #[arg(long = "role", value_name = "ROLE")]
        roles: Vec<String>,
        /// What to print on stdout.
        #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
        format: GraphFormat,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ListFormat {
    Text,
    Json,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum GraphFormat {
    /// Graphviz source.
    Dot,
    /// An SVG picture (needs Graphviz's `dot`).
    Svg,
    /// A web page with the SVG picture (needs Graphviz's `dot`).
    Html,
}

pub fn run(args: TasksArgs) -> ExitCode {
    match args.command {
        TasksCommand::Validate { paths } => match load_catalog(&paths) {
            Ok(catalog) => {
                for warning in &catalog.warnings {
                    eprintln!("{}", warning.to_string().replacen("error:", "warning:", 1));
                }
                ExitCode::SUCCESS
            }
            Err(diagnostics) => {
                print_diagnostics(&diagnostics);
                ExitCode::from(2)
            }
        },
        TasksCommand::List { paths, format } => {
            let catalog = match load_catalog(&paths) {
                Ok(catalog) => catalog,
                Err(diagnostics) => {
                    print_diagnostics(&diagnostics);
                    return ExitCode::from(2);
                }
            };
            let mut out = std::io::stdout().lock();
            for task in &catalog.tasks {
                let roles: Vec<String> = task.roles.iter().map(|role| role.to_string()).collect();
                let line = match format {
                    ListFormat::Text => format!(
                        "{}\t{}\t{}\t{}",
                        task.id,
                        task.kind.name(),
                        roles.join(","),
                        task.origin
                    ),
                    ListFormat::Json => serde_json::json!({
                        "id": task.id, "type": task.kind.name(), "roles": roles,
                        "requires": task.requires, "required_for": task.required_for,
                        "file": task.origin.file, "line": task.origin.line,
                    })
                    .to_string(),
                };
                if writeln!(out, "{line}").is_err() {
                    break;
                }
            }
            ExitCode::SUCCESS
        }
        TasksCommand::Graph {
            paths,
            roles,
            format,
        } => {
            let catalog = match load_catalog(&paths) {
                Ok(catalog) => catalog,
                Err(diagnostics) => {
                    print_diagnostics(&diagnostics);
                    return ExitCode::from(2);
                }
            };
            let dot = if roles.is_empty() {
                graph::catalog_dot(&catalog)
            } else {
                match Plan::build(catalog, &Inventory::local(roles), &Selection::default()) {
                    Ok(plan) => graph::plan_dot(&plan),
                    Err(diagnostics) => {
                        print_diagnostics(&diagnostics);
                        return ExitCode::from(2);
                    }
                }
            };
            let output = match format {
                GraphFormat::Dot => dot,
                GraphFormat::Svg | GraphFormat::Html => match crate::render::svg(&dot, "the task graph") {
                    Ok((svg, _)) if format == GraphFormat::Svg => svg,
                    Ok((svg, _)) => format!(
                        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>granule task graph</title>\
                         <style>body{{margin:0;font-family:sans-serif}} svg{{max-width:100%;height:auto}}</style>\
                         </head><body>\n{}\n</body></html>\n",
                        crate::render::svg_element(&svg)
                    ),
                    Err(message) => {
                        eprintln!("error: {message}");
                        return ExitCode::from(2);
                    }
                },
            };
            let _ = std::io::stdout().lock().write_all(output.as_bytes());
            ExitCode::SUCCESS
        }
    }
}
