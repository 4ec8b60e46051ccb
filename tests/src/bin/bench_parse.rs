//! Parse timing for scripts/bench-parse: reads the files first, then times
//! granule's parser alone on them, on one thread (like Puppet's) and on all
//! cores, and parsing plus Puppet 7's validation rules on one thread, keeping
//! the best of several rounds.
//!
//! Usage: bench-parse [--rounds N] [PATH...]   (or paths one per line on stdin)
//!
//! Prints one JSON line: {"files", "bytes", "errors", "rounds",
//! "seconds_one_thread", "seconds_all_threads", "seconds_validated_one_thread",
//! "threads", "peak_rss_kb"}.

use rayon::prelude::*;
use std::io::BufRead;
use std::process::ExitCode;
use std::time::Instant;

fn main() -> ExitCode {
    let mut rounds = 5usize;
    let mut paths = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--rounds" {
            match args.next().and_then(|n| n.parse().ok()) {
                Some(n) if n > 0 => rounds = n,
                _ => {
                    eprintln!("bench-parse: --rounds needs a positive number");
                    return ExitCode::from(2);
                }
            }
        } else {
            paths.push(arg);
        }
    }
    if paths.is_empty() {
        paths = std::io::stdin()
            .lock()
            .lines()
            .map_while(Result::ok)
            .filter(|line| !line.is_empty())
            .collect();
    }
    let mut sources = Vec::with_capacity(paths.len());
    for path in &paths {
        match std::fs::read_to_string(path) {
            Ok(text) => sources.push(text),
            Err(error) => {
                eprintln!("bench-parse: {path}: {error}");
                return ExitCode::from(2);
            }
        }
    }
    let bytes: usize = sources.iter().map(String::len).sum();
    let errors = sources
        .iter()
        .filter(|source| granule_parser::parse(source).is_err())
        .count();

    let best = |run: &dyn Fn()| {
        (0..rounds)
            .map(|_| {
                let started = Instant::now();
                run();
                started.elapsed().as_secs_f64()
            })
            .fold(f64::INFINITY, f64::min)
    };
    let one_thread = best(&|| {
        for source in &sources {
            let _ = std::hint::black_box(granule_parser::parse(source));
        }
    });
    let validated_one_thread = best(&|| {
        for source in &sources {
            if let Ok(program) = granule_parser::parse(source) {
                let _ = std::hint::black_box(granule_parser::validate(&program, source));
            }
        }
    });
    let all_threads = best(&|| {
        sources.par_iter().for_each(|source| {
            let _ = std::hint::black_box(granule_parser::parse(source));
        });
    });
    println!(
        "{}",
        serde_json::json!({
            "files": sources.len(),
            "bytes": bytes,
            "errors": errors,
            "rounds": rounds,
            "seconds_one_thread": one_thread,
            "seconds_all_threads": all_threads,
            "seconds_validated_one_thread": validated_one_thread,
            "threads": rayon::current_num_threads(),
            "peak_rss_kb": granule_tests::peak_rss_kb(),
        })
    );
    ExitCode::SUCCESS
}
