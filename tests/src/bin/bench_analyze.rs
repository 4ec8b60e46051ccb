//! Analyzer timing for scripts/bench-analyze: the whole analysis of a module
//! path as `granule deps --level class` does it (find the modules, parse and
//! index every manifest in parallel, extract and resolve the edges, build the
//! class graph with its cycles), in-process, best of several rounds. The
//! parse and index alone is timed too, to show what resolution adds.
//!
//! Usage: bench-analyze [--rounds N] MODULEPATH...
//!
//! Prints one JSON line: {"modules", "files", "definitions", "edges",
//! "class_vertices", "class_edges", "unresolved", "rounds", "seconds",
//! "seconds_index", "threads", "peak_rss_kb"}.

use granule_analyzer::{Analysis, Codebase, Level};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

fn main() -> ExitCode {
    let mut rounds = 5usize;
    let mut modulepath = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--rounds" {
            match args.next().and_then(|n| n.parse().ok()) {
                Some(n) if n > 0 => rounds = n,
                _ => {
                    eprintln!("bench-analyze: --rounds needs a positive number");
                    return ExitCode::from(2);
                }
            }
        } else {
            modulepath.push(PathBuf::from(arg));
        }
    }
    if modulepath.is_empty() {
        eprintln!("usage: bench-analyze [--rounds N] MODULEPATH...");
        return ExitCode::from(2);
    }

    let analyze = || -> Result<(Analysis, granule_analyzer::Graph), String> {
        let analysis = Analysis::load(&modulepath, &[])?;
        let graph = analysis.graph(Level::Class, None);
        Ok((analysis, graph))
    };
    // The first round warms the page cache; every round is timed.
    let mut seconds = f64::INFINITY;
    let mut last = None;
    for _ in 0..rounds {
        let started = Instant::now();
        let result = analyze();
        seconds = seconds.min(started.elapsed().as_secs_f64());
        match result {
            Ok(result) => last = Some(result),
            Err(message) => {
                eprintln!("bench-analyze: {message}");
                return ExitCode::from(2);
            }
        }
    }
    let seconds_index = (0..rounds)
        .map(|_| {
            let started = Instant::now();
            let _ = std::hint::black_box(Codebase::load(&modulepath, &[]));
            started.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min);
    let (analysis, graph) = last.expect("at least one round");
    println!(
        "{}",
        serde_json::json!({
            "modules": analysis.codebase.modules.len(),
            "files": analysis.codebase.files.len(),
            "definitions": analysis.codebase.definitions.values().map(Vec::len).sum::<usize>(),
            "edges": analysis.edges.len(),
            "class_vertices": graph.vertices.len(),
            "class_edges": graph.edges.len(),
            "unresolved": analysis
                .findings
                .iter()
                .filter(|finding| finding.code.starts_with("analyzer/unresolved"))
                .count(),
            "rounds": rounds,
            "seconds": seconds,
            "seconds_index": seconds_index,
            "threads": rayon::current_num_threads(),
            "peak_rss_kb": granule_tests::peak_rss_kb(),
        })
    );
    ExitCode::SUCCESS
}
