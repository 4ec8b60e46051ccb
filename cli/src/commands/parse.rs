//! `granule parse`: check Puppet files, or print their tree as PN or JSON.

use super::parse_findings::{validation_findings, Findings};
use clap::{Args, ValueEnum};
use rayon::prelude::*;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Parse Puppet manifests and EPP templates: check their syntax, or dump their tree.
///
/// PATH may be files or directories (searched recursively for `*.pp` and
/// `*.epp`). A `*.epp` file is parsed as an EPP template, anything else as a
/// manifest.
/// Files are parsed in parallel; output keeps the order of the arguments
/// (and, within a directory, sorted paths).
///
/// Each file that parses is also checked with Puppet 7's validation rules
/// (those of `puppet parser validate`); what they find is printed as
/// warnings with Puppet's issue code, e.g. `warning[DUPLICATE_PARAMETER]`.
///
/// Exit status: 0 when every file parses, 1 when any has a syntax error
/// (or, with --strict, an issue Puppet 7 reports as an error), 2 for usage
/// or I/O errors (the other files are still checked).
///
/// Examples:
///   granule parse manifests/                 # check every manifest
///   granule parse --format pn site.pp        # the tree, as `puppet parser dump --format pn`
///   granule parse --strict manifests/        # would Puppet 7 accept every file?
///   granule parse --format pn motd.epp       # a template, as `puppet epp dump --format pn`
#[derive(Args)]
#[command(verbatim_doc_comment)]
pub struct ParseArgs {
    /// What to print for each file that parses.
    #[arg(long, value_enum, default_value_t = DumpFormat::None)]
    format: DumpFormat,

    /// Print a summary to stderr at the end: files, lines, bytes, time, errors.
    #[arg(long)]
    stats: bool,

    /// Fail (exit 1) on any issue Puppet 7's validator reports as an error,
    /// and print those as errors: would Puppet 7 accept these files?
    #[arg(long)]
    strict: bool,

    /// Files or directories to parse.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
enum DumpFormat {
    /// Only check; print nothing for files that parse.
    None,
    /// Puppet's PN notation: `--- PATH` then the tree on one line.
    Pn,
    /// The PN tree in JSON, as `puppet parser dump --format json`.
    Json,
}

enum Outcome {
    /// The dump to print, and what Puppet's validation rules found.
    Parsed(String, Findings),
    SyntaxError(String),
    IoError(String),
}

/// What one file contributed to `--stats`.
#[derive(Default, Clone, Copy)]
struct Size {
    bytes: usize,
    lines: usize,
}

pub fn run(args: ParseArgs) -> ExitCode {
    let started = std::time::Instant::now();
    let mut files = Vec::new();
    let mut usage_error = false;
    for path in &args.paths {
        match collect_manifests(path) {
            Ok(found) => files.extend(found),
            Err(message) => {
                eprintln!("{message}");
                usage_error = true;
            }
        }
    }

    let outcomes: Vec<(Outcome, Size)> = files
        .par_iter()
        .map(|path| parse_one(path, args.format, args.strict))
        .collect();
    let total = outcomes.iter().fold(Size::default(), |sum, (_, size)| Size {
        bytes: sum.bytes + size.bytes,
        lines: sum.lines + size.lines,
    });

    // Write errors (a closed pipe, say) are ignored: a reader that stops
    // early must not turn into a panic.
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut err = std::io::stderr().lock();
    let mut syntax_errors = 0usize;
    let mut io_errors = 0usize;
    let mut rejected = 0usize;
    for (outcome, _) in outcomes {
        match outcome {
            Outcome::Parsed(text, findings) => {
                let _ = out.write_all(text.as_bytes());
                if !findings.text.is_empty() {
                    let _ = out.flush();
                    let _ = err.write_all(findings.text.as_bytes());
                }
                rejected += usize::from(findings.errors > 0);
            }
            Outcome::SyntaxError(text) => {
                syntax_errors += 1;
                let _ = out.flush();
                let _ = err.write_all(text.as_bytes());
            }
            Outcome::IoError(text) => {
                usage_error = true;
                io_errors += 1;
                let _ = out.flush();
                let _ = writeln!(err, "{text}");
            }
        }
    }
    let _ = out.flush();
    if args.stats {
        let _ = writeln!(
            err,
            "{} files, {} lines, {:.1} KB parsed in {:.1} ms: {} ok, {} with syntax errors, {} unreadable",
            files.len(),
            total.lines,
            total.bytes as f64 / 1024.0,
            started.elapsed().as_secs_f64() * 1000.0,
            files.len() - syntax_errors - io_errors,
            syntax_errors,
            io_errors,
        );
    }

    if usage_error {
        ExitCode::from(2)
    } else if syntax_errors > 0 || rejected > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// The files named by one argument: the file itself, or every `*.pp` and
/// `*.epp` below a directory, sorted.
fn collect_manifests(path: &Path) -> Result<Vec<PathBuf>, String> {
    let meta = std::fs::metadata(path)
        .map_err(|e| format!("{}: error: cannot read: {e}", path.display()))?;
    if !meta.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut found = Vec::new();
    for entry in walkdir::WalkDir::new(path).sort_by_file_name() {
        let entry = entry.map_err(|e| format!("{}: error: cannot read: {e}", path.display()))?;
        let puppet_file = entry
            .path()
            .extension()
            .is_some_and(|ext| ext == "pp" || ext == "epp");
        if entry.file_type().is_file() && puppet_file {
            found.push(entry.into_path());
        }
    }
    Ok(found)
}

fn parse_one(path: &Path, format: DumpFormat, strict: bool) -> (Outcome, Size) {
    let display = path.display().to_string();
    let source = match std::fs::read(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(_) => {
                let message = format!("{display}: error: not valid UTF-8 text");
                return (Outcome::IoError(message), Size::default());
            }
        },
        Err(e) => {
            let message = format!("{display}: error: cannot read: {e}");
            return (Outcome::IoError(message), Size::default());
        }
    };
    let size = Size {
        bytes: source.len(),
        lines: source.lines().count(),
    };
    let is_template = path.extension().is_some_and(|ext| ext == "epp");
    let parsed = if is_template {
        granule_parser::parse_epp(&source)
    } else {
        granule_parser::parse(&source)
    };
    let outcome = match parsed {
        Ok(program) => Outcome::Parsed(
            match format {
                DumpFormat::None => String::new(),
                DumpFormat::Pn => {
                    format!("--- {display}\n{}\n", granule_parser::pn::to_pn(&program))
                }
                DumpFormat::Json => {
                    format!("--- {display}\n{}\n", granule_parser::pn::to_json(&program))
                }
            },
            validation_findings(&program, &source, &display, strict),
        ),
        Err(error) => Outcome::SyntaxError(error.render(&display, &source)),
    };
    (outcome, size)
}
