//! No panic and no hang on any input: every corpus file and fixture, cut at
//! 20 random points and with random bytes overwritten, must give `Ok` or
//! `Err` (and the error must render); deep nesting must give a clear error,
//! not a stack overflow.
//!
//! Mutations are seeded: set GRANULE_ROBUSTNESS_SEED to replay a run. Inputs
//! that panic or hang are saved under target/robustness/ for reproduction.

use granule_tests::rng::Rng;
use granule_tests::{corpus, require_reference};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const CUTS_PER_FILE: usize = 20;
const FLIPS_PER_FILE: usize = 30;
const MAX_BYTES_PER_FLIP: usize = 8;
const DEFAULT_SEED: u64 = 0x6772_616e_756c_6521;
/// A parse taking longer than this is reported as a hang. Whole files parse
/// in well under a millisecond; this only has to tell a loop from slowness.
const HANG_GUARD: Duration = Duration::from_secs(20);
const WORKER_PREFIX: &str = "mutation-worker";

/// Bytes that change how Puppet text lexes; half of the flips use them.
const SIGNIFICANT_BYTES: &[u8] = b"{}[]()\"'$@|<>-/\\\n:;,=~!*?.#%^&+ \t";

#[derive(Debug, Clone)]
enum Mutation {
    Cut { at: usize },
    Overwrite { bytes: Vec<(usize, u8)> },
}

impl Mutation {
    fn apply(&self, source: &[u8]) -> String {
        match self {
            Mutation::Cut { at } => String::from_utf8_lossy(&source[..*at]).into_owned(),
            Mutation::Overwrite { bytes } => {
                let mut text = source.to_vec();
                for &(at, byte) in bytes {
                    text[at] = byte;
                }
                String::from_utf8_lossy(&text).into_owned()
            }
        }
    }
}

fn mutations(source: &[u8], seed: u64) -> Vec<Mutation> {
    let mut rng = Rng::new(seed);
    let mut out = Vec::with_capacity(CUTS_PER_FILE + FLIPS_PER_FILE);
    if source.is_empty() {
        return out;
    }
    for _ in 0..CUTS_PER_FILE {
        out.push(Mutation::Cut {
            at: rng.below(source.len() + 1),
        });
    }
    for _ in 0..FLIPS_PER_FILE {
        let count = 1 + rng.below(MAX_BYTES_PER_FLIP);
        let bytes = (0..count)
            .map(|_| {
                let at = rng.below(source.len());
                let byte = if rng.below(2) == 0 {
                    SIGNIFICANT_BYTES[rng.below(SIGNIFICANT_BYTES.len())]
                } else {
                    rng.below(256) as u8
                };
                (at, byte)
            })
            .collect();
        out.push(Mutation::Overwrite { bytes });
    }
    out
}

fn file_seed(run_seed: u64, path: &Path) -> u64 {
    // FNV-1a of the path, so a file's mutations do not depend on the others.
    let mut hash = 0xcbf2_9ce4_8422_2325u64 ^ run_seed;
    for byte in path.as_os_str().as_encoded_bytes() {
        hash = (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// Parses like a user of granule would: parse, recovering from errors, then
/// print the tree and render every error (a `*.epp` path is parsed as a
/// template). Returns the panic message, if any.
fn exercise(path: &str, text: &str) -> Option<String> {
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let parsed = if path.ends_with(".epp") {
            granule_parser::parse_epp_recovering(text)
        } else {
            granule_parser::parse_recovering(text)
        };
        let _ = granule_parser::pn::to_pn(&parsed.program);
        let _ = granule_parser::pn::to_json(&parsed.program);
        for error in &parsed.errors {
            assert!(
                error.span.start <= error.span.end && error.span.end as usize <= text.len(),
                "error span {:?} outside the {}-byte input",
                error.span,
                text.len()
            );
            let _ = error.line_col(text);
            let _ = error.render(path, text);
        }
    }));
    outcome.err().map(|payload| {
        payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "(no message)".to_string())
    })
}

/// Keeps the default panic output for everything but the mutation workers,
/// whose panics are collected and reported together.
fn silence_worker_panics() {
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let on_worker = std::thread::current()
            .name()
            .is_some_and(|name| name.starts_with(WORKER_PREFIX));
        if !on_worker {
            default_hook(info);
        }
    }));
}

fn save_input(name: &str, text: &str) -> PathBuf {
    let dir = granule_tests::target_dir().join("robustness");
    let path = dir.join(name);
    let _ = std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, text));
    path
}

/// What a worker is parsing (description, input), and since when.
type Current = Mutex<Option<(String, String, Instant)>>;

#[test]
fn cut_and_overwritten_files_give_ok_or_err_never_panic_or_hang() {
    let run_seed = std::env::var("GRANULE_ROBUSTNESS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_SEED);
    let mut files = corpus::manifests_under(&corpus::parser_fixture_dir())
        .expect("fixtures/parser is readable");
    files.extend(
        corpus::templates_under(&corpus::template_fixture_dir()).expect("fixtures/epp is readable"),
    );
    if let Some(corpus_files) = require_reference("parser_robustness", corpus::corpus_files()) {
        files.extend(corpus_files);
    }
    if let Some(templates) = require_reference("parser_robustness", corpus::corpus_templates()) {
        files.extend(templates);
    }
    let files = Arc::new(files);
    silence_worker_panics();

    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let next_file = Arc::new(AtomicUsize::new(0));
    let parsed = Arc::new(AtomicUsize::new(0));
    let failures = Arc::new(Mutex::new(Vec::<String>::new()));
    let currents: Arc<Vec<Current>> = Arc::new((0..threads).map(|_| Mutex::new(None)).collect());
    let started = Instant::now();
    let workers: Vec<_> = (0..threads)
        .map(|worker| {
            let (files, next_file, parsed, failures, currents) = (
                files.clone(),
                next_file.clone(),
                parsed.clone(),
                failures.clone(),
                currents.clone(),
            );
            std::thread::Builder::new()
                .name(format!("{WORKER_PREFIX}-{worker}"))
                .spawn(move || loop {
                    let index = next_file.fetch_add(1, Ordering::Relaxed);
                    let Some(path) = files.get(index) else { break };
                    let source = std::fs::read(path).expect("readable manifest");
                    let seed = file_seed(run_seed, path);
                    let display = path.display().to_string();
                    for (number, mutation) in mutations(&source, seed).iter().enumerate() {
                        let text = mutation.apply(&source);
                        let what =
                            format!("{display} (seed {run_seed}, mutation {number}: {mutation:?})");
                        *currents[worker].lock().unwrap() =
                            Some((what.clone(), text.clone(), Instant::now()));
                        if let Some(panic) = exercise(&display, &text) {
                            let saved = save_input(&format!("panic-{index}-{number}.pp"), &text);
                            failures.lock().unwrap().push(format!(
                                "{what}\n    panicked: {panic}\n    input saved as {}",
                                saved.display()
                            ));
                        }
                        parsed.fetch_add(1, Ordering::Relaxed);
                    }
                    *currents[worker].lock().unwrap() = None;
                })
                .expect("spawn worker")
        })
        .collect();

    // The watchdog: a stuck parse cannot be interrupted, but it can be named.
    while !workers.iter().all(|w| w.is_finished()) {
        std::thread::sleep(Duration::from_millis(50));
        for current in currents.iter() {
            if let Some((what, text, since)) = current.lock().unwrap().as_ref() {
                if since.elapsed() > HANG_GUARD {
                    let saved = save_input("hang.pp", text);
                    panic!(
                        "parsing has not returned after {HANG_GUARD:?} (a hang): {what}\n    \
                         input saved as {}",
                        saved.display()
                    );
                }
            }
        }
    }
    for worker in workers {
        worker.join().expect("worker thread");
    }
    let failures = failures.lock().unwrap();
    println!(
        "robustness: {} files, {} mutated inputs, {} panics, {:.1} s, seed {run_seed}",
        files.len(),
        parsed.load(Ordering::Relaxed),
        failures.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(
        failures.is_empty(),
        "{} mutated inputs made granule panic (seed {run_seed}); the first ones:\n{}",
        failures.len(),
        failures
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// Inputs nested 10,000 deep, by name. `must_fail`: balanced brackets this
/// deep must be refused with an error, since parsing them would need a
/// recursion as deep; the others must simply not crash.
fn deep_inputs() -> Vec<(&'static str, String, bool)> {
    const DEPTH: usize = 10_000;
    let nest = |open: &str, inner: &str, close: &str| {
        format!("{}{inner}{}", open.repeat(DEPTH), close.repeat(DEPTH))
    };
    vec![
        ("unclosed [", "[".repeat(DEPTH), true),
        ("unclosed {", "{".repeat(DEPTH), true),
        ("unclosed (", "(".repeat(DEPTH), true),
        ("balanced [", format!("$x = {}", nest("[", "1", "]")), true),
        (
            "balanced {",
            format!("$x = {}", nest("{a => ", "1", "}")),
            true,
        ),
        ("balanced (", format!("$x = {}", nest("(", "1", ")")), true),
        ("nested if", nest("if $x { ", "$y = 1", " }"), true),
        (
            "nested interpolation",
            format!("$x = {}", nest("\"${", "1", "}\"")),
            true,
        ),
        ("unary !", format!("$x = {}true", "!".repeat(DEPTH)), false),
        ("unary -", format!("$x = {}1", "- ".repeat(DEPTH)), false),
        (
            "assignment chain",
            format!("{}1", "$a = ".repeat(DEPTH)),
            false,
        ),
        (
            "100,000-term sum (a left-deep tree)",
            format!("$x = 1{}", " + 1".repeat(DEPTH * 10)),
            false,
        ),
        (
            "method chain",
            format!("$x = $y{}", ".z".repeat(DEPTH)),
            false,
        ),
    ]
}

/// The environment variable that tells the child process which input to parse.
const DEEP_CASE: &str = "GRANULE_DEEP_NESTING_CASE";

/// Runs each deep input in a child process (this test binary, running
/// `deep_nesting_child`), so that a stack overflow, which aborts the process,
/// is reported as a failure naming the input instead of killing the run.
#[test]
fn deep_nesting_gives_a_clear_error_not_a_stack_overflow() {
    let exe = std::env::current_exe().expect("test binary path");
    let mut failures = Vec::new();
    for (name, _, _) in deep_inputs() {
        let output = std::process::Command::new(&exe)
            .args(["--exact", "deep_nesting_child", "--ignored", "--nocapture"])
            .env(DEEP_CASE, name)
            .env("RUST_BACKTRACE", "0")
            .output()
            .expect("run the child test");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let verdict = stdout
            .lines()
            .find_map(|line| line.strip_prefix("deep nesting: "))
            .map(str::to_string);
        println!("{name}: {}", verdict.as_deref().unwrap_or("(no verdict)"));
        if !output.status.success() {
            failures.push(format!(
                "{name}: the parse crashed the process ({}):\n{}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
                    .lines()
                    .filter(|l| !l.trim().is_empty())
                    .take(6)
                    .collect::<Vec<_>>()
                    .join("\n")
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Parses one deep input (named by GRANULE_DEEP_NESTING_CASE, or all of
/// them) on a thread with the default 2 MiB stack, as granule's workers have.
#[test]
#[ignore = "run in a child process by deep_nesting_gives_a_clear_error_not_a_stack_overflow"]
fn deep_nesting_child() {
    let wanted = std::env::var(DEEP_CASE).ok();
    for (name, text, must_fail) in deep_inputs() {
        if wanted.as_deref().is_some_and(|w| w != name) {
            continue;
        }
        let result = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || {
                granule_parser::parse(&text)
                    .map(|_| ())
                    .map_err(|e| (e.render("deep.pp", &text), e.message))
            })
            .expect("spawn parser thread")
            .join()
            .expect("the parser thread panicked");
        match result {
            Ok(()) => {
                println!("deep nesting: parsed");
                assert!(
                    !must_fail,
                    "{name}: parsed 10,000 levels deep instead of refusing"
                );
            }
            Err((rendered, message)) => {
                println!("deep nesting: error: {message}");
                let lower = message.to_lowercase();
                if must_fail && !name.starts_with("unclosed") {
                    assert!(
                        lower.contains("nest") || lower.contains("deep"),
                        "{name}: the error should say the input nests too deep, got:\n{rendered}"
                    );
                }
            }
        }
    }
}
