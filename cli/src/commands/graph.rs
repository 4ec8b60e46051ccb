//! `granule graph`: the dependency graph as a picture: DOT, SVG, PNG, or an
//! interactive HTML page.

use super::deps::{report_findings, Selection};
use crate::render::{self, Image};
use clap::{Args, ValueEnum};
use granule_analyzer::dot::to_dot;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Draw who depends on whom: the graph of `granule deps` as a picture.
///
/// One cluster per module, cross-module edges blue, edges on a cycle red,
/// conditional edges with a hollow arrowhead, targets defined nowhere
/// dashed.
///
/// Formats: `dot` (Graphviz's language, to render or edit elsewhere), `svg`
/// and `png` (drawn by Graphviz's `dot` program, which must be installed),
/// `html` (one self-contained page, no network needed: wheel to zoom, drag
/// to pan, type in the search box to find a vertex by name, Enter for the
/// next match, click a vertex to list its edges with kind, condition and
/// file:line).
///
/// A whole codebase is too big to look at: --entry keeps what one manifest
/// or class reaches, --focus NAME --depth N what lies within N edges of one
/// vertex (either direction), --level module the big picture.
///
/// Findings and cycles go to stderr, as with `granule deps`.
/// Exit status: 0, or 1 when the graph has a cycle, 2 for usage errors and
/// when Graphviz is missing.
///
/// Examples:
///   granule graph --modulepath modules --entry manifests/site.pp --format html -o deps.html
///   granule graph --modulepath /usr/share/puppet/modules --entry oci::controller \
///       --level module --format svg -o oci.svg
///   granule graph --modulepath modules --focus nova::api --depth 1 --format png -o nova-api.png
///   granule graph --modulepath modules --entry site.pp | dot -Tpdf > deps.pdf
#[derive(Args)]
#[command(verbatim_doc_comment)]
pub struct GraphArgs {
    #[command(flatten)]
    selection: Selection,

    /// What to write.
    #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
    format: GraphFormat,

    /// The file to write (default: stdout; png needs a file).
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,

    /// Show only the vertices near this one: a name (`nova::api`,
    /// `openstack::repo`, a module at --level module) or a label as
    /// `granule deps` prints it (`class nova::api`, `File[/etc/x]`).
    #[arg(long, value_name = "NAME")]
    focus: Option<String>,

    /// With --focus: how many edges away from it a vertex may be.
    #[arg(long, value_name = "N", default_value_t = 1, requires = "focus")]
    depth: usize,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum GraphFormat {
    /// Graphviz DOT text.
    Dot,
    /// An SVG picture.
    Svg,
    /// A PNG picture.
    Png,
    /// One self-contained interactive HTML page.
    Html,
}

pub fn run(args: GraphArgs) -> ExitCode {
    if args.format == GraphFormat::Png && args.output.is_none() {
        eprintln!("error: --format png writes binary data: give a file with -o FILE");
        return ExitCode::from(2);
    }
    let (analysis, graph) = match args.selection.analyze() {
        Ok(result) => result,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    let graph = match &args.focus {
        Some(name) => match crate::focus::focus(graph, name, args.depth) {
            Ok(graph) => graph,
            Err(message) => {
                eprintln!("error: {message}");
                return ExitCode::from(2);
            }
        },
        None => graph,
    };
    let dot = to_dot(&graph, &analysis);
    let output = match args.format {
        GraphFormat::Dot => Ok(dot.into_bytes()),
        GraphFormat::Svg => render::image(&dot, Image::Svg),
        GraphFormat::Png => render::image(&dot, Image::Png),
        GraphFormat::Html => render::svg(&dot).map(|svg| {
            crate::graph_page::page(&title(&args), &svg, &graph, &analysis).into_bytes()
        }),
    };
    let written = output.and_then(|bytes| match &args.output {
        Some(path) => std::fs::write(path, bytes)
            .map_err(|error| format!("cannot write {}: {error}", path.display())),
        None => {
            let _ = std::io::stdout().lock().write_all(&bytes);
            Ok(())
        }
    });
    if let Err(message) = written {
        eprintln!("error: {message}");
        return ExitCode::from(2);
    }
    report_findings(&analysis, &graph);
    if graph.cycles.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// The page title: what the graph shows.
fn title(args: &GraphArgs) -> String {
    let mut title = String::from("granule graph");
    if let Some(entry) = &args.selection.entry {
        title.push_str(&format!(" of {entry}"));
    }
    if let Some(focus) = &args.focus {
        title.push_str(&format!(" around {focus} (depth {})", args.depth));
    }
    title
}
