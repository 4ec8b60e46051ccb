//! `granule deps`: the dependency edges of a codebase, at one level, for
//! what an entry point reaches.

use clap::{Args, ValueEnum};
use granule_analyzer::{Analysis, Entry, Graph, Level};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Show who depends on whom, as a list of edges.
///
/// The edges between modules, classes and resources, each with its kind,
/// the condition it stands under and where it is written. Statically, for
/// every branch at once.
///
/// Levels: `module` (which module uses which; an edge written in a third
/// module's code says `(written in m)`), `class` (what each class,
/// define, node or top scope declares, orders and reads of the others),
/// `resource` (every edge as written: resources, collectors, variables,
/// Hiera keys), `order` (only what runs before what, among the units).
///
/// Findings (classes and types defined nowhere, duplicate definitions,
/// files the autoloader would not find, cycles) go to stderr.
///
/// Exit status: 0, or 1 when the graph has a cycle, 2 for usage errors.
///
/// Examples:
///   granule deps --modulepath /usr/share/puppet/modules --entry oci::controller
///   granule deps --modulepath modules --entry manifests/site.pp --level module
///   granule deps --modulepath site:modules manifests/    # a control repository
///   granule deps --modulepath modules --entry site.pp --format json | jq '.edges[]'
///   granule deps --modulepath modules --entry site.pp --format dot | dot -Tsvg > deps.svg
#[derive(Args)]
#[command(verbatim_doc_comment)]
pub struct DepsArgs {
    #[command(flatten)]
    pub selection: Selection,

    /// Output format (JSON: docs/formats.md).
    #[arg(long, value_enum, default_value_t = DepsFormat::Text)]
    format: DepsFormat,
}

/// What to analyze and which part of it to show; shared with `granule graph`.
#[derive(Args)]
pub struct Selection {
    /// Directories of modules, separated by `:` as in Puppet's --modulepath
    /// (repeatable).
    #[arg(
        long,
        value_name = "DIR[:DIR...]",
        value_delimiter = ':',
        required = true
    )]
    pub modulepath: Vec<PathBuf>,

    /// Manifests outside modules to analyze too (site.pp, a manifests/
    /// directory); an --entry file is included anyway.
    #[arg(long, value_name = "PATH")]
    pub manifest: Vec<PathBuf>,

    /// Manifests outside modules to analyze too, as --manifest takes them
    /// (`granule deps --modulepath modules manifests/`).
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Show only what this manifest file or class reaches.
    #[arg(long, value_name = "FILE|CLASS")]
    pub entry: Option<String>,

    /// The level of detail.
    #[arg(long, value_enum, default_value_t = LevelArg::Class)]
    pub level: LevelArg,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum LevelArg {
    Module,
    Class,
    Resource,
    Order,
}

impl From<LevelArg> for Level {
    fn from(level: LevelArg) -> Level {
        match level {
            LevelArg::Module => Level::Module,
            LevelArg::Class => Level::Class,
            LevelArg::Resource => Level::Resource,
            LevelArg::Order => Level::Order,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum DepsFormat {
    /// One line per edge: location, from, kind, to, writer, condition.
    Text,
    /// Edges, cycles and findings as one JSON document.
    Json,
    /// Graphviz DOT (render with `dot -Tsvg`).
    Dot,
}

impl Selection {
    /// Loads and resolves the codebase, prints its findings to stderr, and
    /// builds the selected graph.
    pub fn analyze(&self) -> Result<(Analysis, Graph), String> {
        let entry = self.entry.as_deref().map(Entry::parse);
        let mut manifests: Vec<PathBuf> =
            self.manifest.iter().chain(&self.paths).cloned().collect();
        if let Some(Entry::File(file)) = &entry {
            manifests.push(PathBuf::from(&**file));
        }
        let analysis = Analysis::load(&self.modulepath, &manifests)?;
        if let Some(Entry::Class(name)) = &entry {
            if !analysis.has_class(name) {
                return Err(format!(
                    "--entry {name}: no such class on the module path, and no such file"
                ));
            }
        }
        let graph = analysis.graph(self.level.into(), entry.as_ref());
        Ok((analysis, graph))
    }
}

pub fn run(args: DepsArgs) -> ExitCode {
    let (analysis, graph) = match args.selection.analyze() {
        Ok(result) => result,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    let output = match args.format {
        DepsFormat::Text => text(&graph),
        DepsFormat::Json => {
            granule_analyzer::json::to_json(&analysis, &graph, args.selection.entry.as_deref())
        }
        DepsFormat::Dot => granule_analyzer::dot::to_dot(
            &graph,
            &analysis,
            granule_analyzer::dot::EdgeLabels::Auto,
        ),
    };
    let _ = std::io::stdout().lock().write_all(output.as_bytes());
    report_findings(&analysis, &graph);
    if graph.cycles.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn text(graph: &Graph) -> String {
    let mut out = String::new();
    for graph_edge in &graph.edges {
        let edge = &graph_edge.edge;
        out.push_str(&format!(
            "{}  {} --{}--> {}",
            edge.location,
            edge.from.label(),
            edge.kind.name(),
            edge.to.label()
        ));
        if !edge.resolved {
            out.push_str("  (defined nowhere)");
        }
        if let Some(writer) = graph.written_elsewhere(graph_edge) {
            out.push_str(&format!("  (written in {writer})"));
        }
        if let Some(condition) = &edge.condition {
            out.push_str(&format!("  if {condition}"));
        }
        out.push('\n');
    }
    out
}

/// The analysis' findings and the graph's cycles, on stderr.
pub fn report_findings(analysis: &Analysis, graph: &Graph) {
    let mut err = std::io::stderr().lock();
    for finding in &analysis.findings {
        let _ = writeln!(
            err,
            "{}: warning[{}]: {}",
            finding.location, finding.code, finding.message
        );
    }
    for cycle in &graph.cycles {
        let path: Vec<String> = cycle
            .iter()
            .chain(cycle.first())
            .map(|vertex| vertex.label())
            .collect();
        let _ = writeln!(err, "error[analyzer/cycle]: {}", path.join(" -> "));
    }
    let unresolved = analysis
        .findings
        .iter()
        .filter(|f| f.code.starts_with("analyzer/unresolved"))
        .count();
    let _ = writeln!(
        err,
        "{} files, {} definitions, {} edges shown; {} unresolved references, {} cycles",
        analysis.codebase.files.len(),
        analysis
            .codebase
            .definitions
            .values()
            .map(Vec::len)
            .sum::<usize>(),
        graph.edges.len(),
        unresolved,
        graph.cycles.len()
    );
}
