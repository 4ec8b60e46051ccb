//! `granule graph`: the dependency graph as a picture: DOT, SVG, PNG, or an
//! interactive HTML page.

use super::deps::{report_findings, Selection};
use crate::render::{self, Image};
use clap::{Args, ValueEnum};
use granule_analyzer::dot::{to_dot, EdgeLabels};
use granule_analyzer::Graph;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Draw who depends on whom: the graph of `granule deps` as a picture.
///
/// One cluster per module, cross-module edges blue, edges on a cycle red,
/// conditional edges with a hollow arrowhead, targets defined nowhere
/// dashed; a legend at the bottom says which are used. At --level module,
/// an edge written in a third module's code (oci's controller.pp ordering
/// galera before keystone) is orange and labelled "in oci".
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
/// vertex (either direction), --level module the big picture. Above 500
/// edges granule warns that an SVG or PNG cannot be read and suggests
/// those; the HTML page copes better (it opens on the entry, zoomed in, and
/// folds modules). A PNG that Graphviz must shrink to fit its 32,767-pixel
/// limit is reported with the factor. On a terminal, a spinner shows that
/// Graphviz is still at work.
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

    /// Label edges with their kind: `auto` does when the kinds differ (at
    /// --level module every edge says `uses`). Edges written in a third
    /// module's code name it whatever this says.
    #[arg(long, value_enum, default_value_t = EdgeLabelsArg::Auto)]
    edge_labels: EdgeLabelsArg,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum EdgeLabelsArg {
    Auto,
    On,
    Off,
}

impl From<EdgeLabelsArg> for EdgeLabels {
    fn from(labels: EdgeLabelsArg) -> EdgeLabels {
        match labels {
            EdgeLabelsArg::Auto => EdgeLabels::Auto,
            EdgeLabelsArg::On => EdgeLabels::Always,
            EdgeLabelsArg::Off => EdgeLabels::Never,
        }
    }
}

/// The number of edges above which a static picture cannot be read: past
/// it, Graphviz's layout of a real class graph is several metres long and
/// its labels a few pixels high once it fits a screen.
const READABLE_EDGES: usize = 500;

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
    let dot = to_dot(&graph, &analysis, args.edge_labels.into());
    if matches!(args.format, GraphFormat::Svg | GraphFormat::Png)
        && graph.edges.len() > READABLE_EDGES
    {
        eprintln!("warning: {}", too_big(&graph));
    }
    let what = format!(
        "{} vertices and {} edges",
        graph.vertices.len(),
        graph.edges.len()
    );
    let output = match args.format {
        GraphFormat::Dot => Ok(dot.into_bytes()),
        GraphFormat::Svg | GraphFormat::Png => {
            let image = if args.format == GraphFormat::Svg {
                Image::Svg
            } else {
                Image::Png
            };
            render::image(&dot, image, &what).map(|drawing| {
                report_drawing(&drawing);
                drawing.bytes
            })
        }
        GraphFormat::Html => render::svg(&dot, &what).map(|(svg, warnings)| {
            report_warnings(&warnings);
            let page = crate::graph_page::Page {
                title: &title(&args),
                svg: &svg,
                graph: &graph,
                analysis: &analysis,
                modulepath: &args.selection.modulepath,
                entry: args.focus.as_deref().or(args.selection.entry.as_deref()),
            };
            page.html().into_bytes()
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

/// Why a picture of `graph` cannot be read, and what to draw instead.
fn too_big(graph: &Graph) -> String {
    format!(
        "{} edges among {} vertices: a picture of more than {READABLE_EDGES} edges cannot be \
         read; --focus NAME --depth N draws what lies around one vertex, --level module the \
         modules alone, and --format html a page that zooms and folds modules",
        graph.edges.len(),
        graph.vertices.len()
    )
}

/// Graphviz's warnings, passed on.
fn report_warnings(warnings: &[String]) {
    for warning in warnings {
        eprintln!(
            "warning: Graphviz: {}",
            warning.trim_start_matches("Warning: ")
        );
    }
}

/// Graphviz's warnings about a picture, passed on; a PNG it had to shrink
/// is said so plainly, with by how much: its text is then smaller than the
/// picture's font sizes promise.
fn report_drawing(drawing: &render::Drawing) {
    let factor = render::shrink_factor(&drawing.warnings);
    // Graphviz's own line on the shrinking is replaced by ours.
    let others: Vec<String> = drawing
        .warnings
        .iter()
        .filter(|line| factor.is_none() || !line.contains("Scaling by"))
        .cloned()
        .collect();
    report_warnings(&others);
    let Some(factor) = factor else {
        return;
    };
    let size = render::png_size(&drawing.bytes)
        .map(|(width, height)| format!(" to {width} x {height} pixels"))
        .unwrap_or_default();
    eprintln!(
        "warning: the picture is larger than the 32,767 pixels a side Graphviz draws in a \
         PNG: it was shrunk by a factor of {factor}{size}, and its labels with it; \
         --format svg or html keep it full size, --focus NAME --depth N or --level module \
         draw a smaller one"
    );
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
