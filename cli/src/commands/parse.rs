//! `granule parse`: check Puppet files, or print their tree as PN or JSON.

use super::parse_findings::check;
use clap::{Args, ValueEnum};
use granule_parser::{Diagnostic, LineIndex};
use rayon::prelude::*;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Parse Puppet manifests and EPP templates: check their syntax, or dump their tree.
///
/// PATH may be files or directories (searched recursively for `*.pp` and
/// `*.epp`, following symbolic links; a PATH that holds none is an error).
/// A `*.epp` file is parsed as an EPP template, anything else as a
/// manifest. Files are parsed in parallel; output keeps the order of the
/// arguments (and, within a directory, sorted paths).
///
/// By default old code is read the way Puppet 3 read it (`Service ['x']` is
/// a reference, `$h[type]` a key...) and each such construct is reported as a
/// `warning[legacy/...]` saying what Puppet 7 does with it and how to fix it.
/// Puppet 7's validation rules (`puppet parser validate`) run on every file
/// that parses; their issues are warnings with Puppet's code, e.g.
/// `warning[DUPLICATE_PARAMETER]`. After a syntax error the parser goes on, so
/// every independent error of a file is reported.
///
/// --strict reads every file exactly as Puppet 7 does and turns what Puppet 7
/// refuses into errors: would Puppet 7 accept these files?
///
/// Exit status: 0 when every file parses, 1 when any has a syntax error
/// (or, with --strict, anything Puppet 7 refuses), 2 for usage or I/O errors
/// (the other files are still checked).
///
/// Examples:
///   granule parse manifests/                 # check every manifest
///   granule parse --format pn site.pp        # the tree, as `puppet parser dump --format pn`
///   granule parse --strict manifests/        # would Puppet 7 accept every file?
///   granule parse --format pn motd.epp       # a template, as `puppet epp dump --format pn`
///   granule parse --message-format json .    # one JSON object per finding, for editors and CI
#[derive(Args)]
#[command(verbatim_doc_comment)]
pub struct ParseArgs {
    /// What to print for each file that parses.
    #[arg(long, value_enum, default_value_t = DumpFormat::None)]
    format: DumpFormat,

    /// How to print errors and warnings: `human` (stderr, with the source
    /// line and a caret) or `json` (stdout, one object per line: path, line,
    /// column, end, severity, code, message).
    #[arg(long, value_enum, default_value_t = MessageFormat::Human)]
    message_format: MessageFormat,

    /// Print a summary to stderr at the end: files, lines, bytes, time, errors.
    #[arg(long)]
    stats: bool,

    /// Read files exactly as Puppet 7 does and fail (exit 1) on anything it
    /// refuses: syntax, its validation errors, `import`, reassignment.
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

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum MessageFormat {
    Human,
    Json,
}

enum Outcome {
    /// What to print on stdout and on stderr for a file that was read.
    Checked {
        stdout: String,
        stderr: String,
        syntax_errors: bool,
        failed: bool,
    },
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
    let (files, errors) = crate::manifests::collect(&args.paths, &["pp", "epp"]);
    for error in &errors {
        eprintln!("{error}");
    }
    let mut usage_error = !errors.is_empty();

    let outcomes: Vec<(Outcome, Size)> = files
        .par_iter()
        .map(|path| parse_one(path, &args))
        .collect();
    let total = outcomes
        .iter()
        .fold(Size::default(), |sum, (_, size)| Size {
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
    let mut failed = 0usize;
    for (outcome, _) in outcomes {
        match outcome {
            Outcome::Checked {
                stdout,
                stderr,
                syntax_errors: file_syntax_errors,
                failed: file_failed,
            } => {
                let _ = out.write_all(stdout.as_bytes());
                if !stderr.is_empty() {
                    let _ = out.flush();
                    let _ = err.write_all(stderr.as_bytes());
                }
                syntax_errors += usize::from(file_syntax_errors);
                failed += usize::from(file_failed);
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
    } else if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn parse_one(path: &Path, args: &ParseArgs) -> (Outcome, Size) {
    let display = path.display().to_string();
    let source = match std::fs::read(path) {
        Ok(bytes) => match granule_parser::source::decode(bytes) {
            Ok(text) => text,
            Err(not_utf8) => {
                // Reported as Puppet does, as a file that does not parse.
                let diagnostic = not_utf8.error.to_diagnostic();
                let (stdout, stderr) = messages(&display, &not_utf8.lossy, &[diagnostic], args);
                let outcome = Outcome::Checked {
                    stdout,
                    stderr,
                    syntax_errors: true,
                    failed: true,
                };
                return (outcome, Size::default());
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
    let checked = check(&source, is_template, args.strict);
    let mut stdout = match args.format {
        _ if checked.syntax_errors => String::new(),
        DumpFormat::None => String::new(),
        DumpFormat::Pn => format!(
            "--- {display}\n{}\n",
            granule_parser::pn::to_pn(&checked.program)
        ),
        DumpFormat::Json => format!(
            "--- {display}\n{}\n",
            granule_parser::pn::to_json(&checked.program)
        ),
    };
    let (messages_out, stderr) = messages(&display, &source, &checked.diagnostics, args);
    stdout.push_str(&messages_out);
    let outcome = Outcome::Checked {
        stdout,
        stderr,
        syntax_errors: checked.syntax_errors,
        failed: checked.failed(),
    };
    (outcome, size)
}

/// The diagnostics of a file as `--message-format` asks: what to print on
/// stdout and on stderr.
fn messages(
    display: &str,
    source: &str,
    diagnostics: &[Diagnostic],
    args: &ParseArgs,
) -> (String, String) {
    let (mut stdout, mut stderr) = (String::new(), String::new());
    let index = LineIndex::new(source);
    for diagnostic in diagnostics {
        match args.message_format {
            MessageFormat::Human => stderr.push_str(&diagnostic.render(display, source)),
            MessageFormat::Json => {
                stdout.push_str(&diagnostic_json(display, source, &index, diagnostic));
                stdout.push('\n');
            }
        }
    }
    (stdout, stderr)
}

/// One diagnostic as a JSON object: where (1-based line and character
/// column of its start and end), how serious, which rule, what.
fn diagnostic_json(path: &str, source: &str, index: &LineIndex, diagnostic: &Diagnostic) -> String {
    let (line, column) = index.line_col(source, diagnostic.span.start as usize);
    let (end_line, end_column) = index.line_col(source, diagnostic.span.end as usize);
    serde_json::json!({
        "path": path,
        "line": line,
        "column": column,
        "end": { "line": end_line, "column": end_column },
        "severity": diagnostic.severity.as_str(),
        "code": diagnostic.code,
        "message": diagnostic.message,
    })
    .to_string()
}
