//! `granule lint`: puppet-lint's checks, with its names, lines and columns.

pub(crate) mod codebase;
mod report;

use clap::{Args, ValueEnum};
use granule_analyzer::lint::architecture::{FileId, Guards};
use granule_analyzer::lint::baseline::{self, Baseline, Matcher};
use granule_analyzer::lint::config::{CheckSelection, FailOn, LintTable};
use granule_analyzer::lint::rules::{self, Check};
use granule_analyzer::lint::{apply_control_comments, fix_source, lint_source, Problem, Rule};
use granule_parser::{Diagnostic, LineIndex, Severity, Span};
use rayon::prelude::*;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Check Puppet manifests with puppet-lint's checks and granule's
/// architecture checks.
///
/// puppet-lint's checks have puppet-lint's names and meaning and report the
/// same lines and columns, so `# lint:ignore:NAME` ... `# lint:endignore`
/// comments (or `# lint:ignore:NAME` at the end of a line) and
/// `.puppet-lint.rc` files (`--no-NAME-check`, `--NAME-check`,
/// `--only-checks=A,B`; read from /etc, the home directory and the current
/// directory, as puppet-lint does) keep working. The checks puppet-lint
/// disables by default are off here too.
///
/// The architecture checks (`granule/...`: unresolved classes and types,
/// dependency cycles, undeclared or duplicate resources, undeclared module
/// dependencies, Puppet 7 incompatibilities; with --tasks, what crosses a
/// task boundary) analyze the whole codebase: the module path (--modulepath,
/// or the one found around the PATHs) and the PATHs. They report in the
/// PATHs (with --tasks, also in the code the tasks reach), and obey the same
/// control comments and configuration.
///
/// PATH may be files or directories (searched recursively for `*.pp`,
/// following symbolic links). Output keeps the order of the arguments
/// (sorted within a directory). Reports go to stdout, ending with a count
/// of each check's problems; stderr only has granule's own errors.
///
/// Exit status: 0 when no problem is found, 1 when any is (or, with
/// --fail-on error, any error), 2 for usage, configuration or I/O errors
/// (a PATH that does not exist or holds no manifest is one: nothing is
/// linted, so that a gate never passes having checked nothing).
///
/// Examples:
///   granule lint manifests/                  # every manifest, rustc-style
///   granule lint --format json site.pp       # puppet-lint's --json shape
///   granule lint --explain arrow_alignment   # what a check wants and why
///   granule lint --list                      # every check and whether it is on
///   granule lint --fix manifests/            # rewrite as `puppet-lint --fix` does
///   granule lint --write-baseline lint.json .   # adopt the gate on legacy code...
///   granule lint --baseline lint.json .         # ...then fail only on new problems
///   granule lint --format sarif . > lint.sarif  # GitHub code scanning
///   granule lint --modulepath site:modules manifests/  # a control repository
///   granule lint --tasks out/tasks.yaml out/    # the tasks of a split
///   granule lint --tasks out/tasks.yaml --role-var '$::role' out/  # ...per role
#[derive(Args)]
#[command(verbatim_doc_comment)]
pub struct LintArgs {
    /// `human` (rustc-style with the source line, grouped per file, and a
    /// summary), `json` (puppet-lint's `--json`: an array per file),
    /// `sarif` (SARIF 2.1.0, for GitHub code scanning, as puppet-lint's
    /// `--sarif`), `github` (GitHub Actions annotations), `checkstyle` or
    /// `junit` (XML).
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,

    /// Print the documentation of a check (what, why, an example, the fix)
    /// and exit.
    #[arg(long, value_name = "CHECK", conflicts_with = "list")]
    explain: Option<String>,

    /// List the checks, with their grade and whether they are enabled.
    #[arg(long)]
    list: bool,

    /// Rewrite the files with puppet-lint's fixes (the same bytes `puppet-lint
    /// --fix` writes); each file is replaced at once, never half written.
    /// Files with a syntax error are left alone. Problems fixed are not
    /// reported as problems (JSON lists them with kind `fixed`).
    #[arg(long)]
    fix: bool,

    /// Report only problems not recorded in this baseline (see
    /// --write-baseline): a problem is matched by check, file and the text
    /// of its line, so it stays matched when lines above it move.
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,

    /// granule's configuration: its `[lint]` table may `disable` and
    /// `enable` checks (after .puppet-lint.rc) and set `fail_on`
    /// ("warning" or "error"). Default: ./granule.toml when it exists.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,

    /// The least serious problem that fails the run (exit 1): `warning`
    /// (any problem) or `error`. Overrides `fail_on` of granule.toml.
    #[arg(long, value_enum)]
    fail_on: Option<FailLevel>,

    /// Record every problem found in FILE (JSON) and exit 0: the baseline
    /// a legacy codebase adopts the gate with.
    #[arg(long, value_name = "FILE", conflicts_with = "baseline")]
    write_baseline: Option<PathBuf>,

    /// Directories of modules, separated by `:` as in Puppet's
    /// --modulepath, for the architecture checks (`granule/...`): what the
    /// linted code declares is looked up there. Default: the directory
    /// holding the modules the PATHs are in (a PATH that is a directory of
    /// modules is one).
    #[arg(long, value_name = "DIR[:DIR...]", value_delimiter = ':')]
    modulepath: Vec<PathBuf>,

    /// A tasks.yaml (from `granule split` or Fuel): the architecture checks
    /// then look at each Puppet task's catalog too (a refresh, reference or
    /// collector crossing a task boundary, a variable a task's manifest
    /// reads but never sets) and report in the code the tasks reach.
    #[arg(long, value_name = "FILE")]
    tasks: Option<PathBuf>,

    /// With --tasks: the expression holding a node's role, as given to
    /// `granule split --role-var` (`$::fuel_settings['role']`). Each task
    /// is then checked once per role tasks.yaml names for it, with the
    /// branches of its manifest and of the module code it reaches that
    /// cannot run on that role left out, as the split left them out.
    #[arg(long, value_name = "EXPR", requires = "tasks")]
    role_var: Option<String>,

    /// With --tasks: decide guards on EXPR as `granule split --assume`
    /// did (repeatable), e.g. `--assume "$::settings['mode']=ha"`.
    #[arg(long, value_name = "EXPR=VALUE", requires = "tasks")]
    assume: Vec<String>,

    /// Files or directories to lint.
    #[arg(value_name = "PATH", required_unless_present_any = ["explain", "list"])]
    paths: Vec<PathBuf>,
}

/// A file that could be read, and its problems.
struct Linted {
    source: String,
    problems: Vec<Problem>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum FailLevel {
    Warning,
    Error,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Human,
    Json,
    Sarif,
    Github,
    Checkstyle,
    Junit,
}

pub fn run(args: LintArgs) -> ExitCode {
    let mut selection = CheckSelection::from_rc_files(Path::new("."));
    let table = match read_config(args.config.as_deref()) {
        Ok(table) => table,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    table.apply(&mut selection);
    let errors_only = match args.fail_on {
        Some(level) => level == FailLevel::Error,
        None => table.fail_on == Some(FailOn::Error),
    };
    if let Some(name) = &args.explain {
        return explain(name);
    }
    if args.list {
        for check in rules::CHECKS {
            let on = if enabled(check, &selection) {
                "on"
            } else {
                "off"
            };
            outln!("{:<36} {:<8} {on}", check.name, check.kind.as_str());
        }
        return ExitCode::SUCCESS;
    }
    let checks: Vec<&'static Check> = rules::CHECKS
        .iter()
        .filter(|c| enabled(c, &selection))
        .collect();
    let enabled: Vec<&'static dyn Rule> = checks
        .iter()
        .filter(|c| !c.on_codebase())
        .map(|&c| c as &'static dyn Rule)
        .collect();
    let codebase_checks: Vec<&'static Check> =
        checks.iter().copied().filter(|c| c.on_codebase()).collect();
    let (files, path_errors) = crate::manifests::collect(&args.paths, &["pp"]);
    if !path_errors.is_empty() {
        for error in &path_errors {
            eprintln!("{error}");
        }
        return ExitCode::from(2);
    }
    let assumptions = match super::split::parse_assumptions(&args.assume) {
        Ok(assumptions) => assumptions,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    let guards = Guards {
        role_var: args.role_var.clone(),
        assumptions,
    };
    let mut failed = false;
    let scope = codebase::Scope {
        paths: &args.paths,
        files: &files,
        modulepath: &args.modulepath,
        tasks: args.tasks.as_deref(),
        guards: &guards,
        loaded: None,
    };
    let (results, codebase_problems) = rayon::join(
        || lint_files(&files, &enabled, args.fix),
        || {
            if codebase_checks.is_empty() {
                Ok(Default::default())
            } else {
                codebase::problems(&scope, &codebase_checks)
            }
        },
    );
    let results = match codebase_problems {
        Ok(by_file) => with_codebase_problems(results, by_file),
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    let mut matcher = match &args.baseline {
        Some(file) => match read_baseline(file) {
            Ok(recorded) => Some(Matcher::new(&recorded)),
            Err(message) => {
                eprintln!("error: {}: {message}", file.display());
                return ExitCode::from(2);
            }
        },
        None => None,
    };
    let mut recorded = Baseline::default();
    let mut failing = 0;
    let mut fixed_count = 0;
    let mut reports = Vec::new();
    for (path, result) in &results {
        match result {
            Ok(Linted { source, problems }) => {
                let shown_path = path.display().to_string();
                let shown: Vec<&Problem> = problems
                    .iter()
                    .filter(|p| p.ignored.is_none())
                    .filter(|p| {
                        // Fingerprinting a line costs: only for baselines.
                        if matcher.is_none() && args.write_baseline.is_none() {
                            return true;
                        }
                        let entry = baseline::entry(&shown_path, source, p);
                        let known = matcher.as_mut().is_some_and(|m| m.matches(&entry));
                        if args.write_baseline.is_some() && !p.fixed {
                            recorded.entries.push(entry);
                        }
                        !known
                    })
                    .collect();
                let left: Vec<&Problem> = shown.iter().copied().filter(|p| !p.fixed).collect();
                fixed_count += shown.len() - left.len();
                failing += left
                    .iter()
                    .filter(|p| !errors_only || p.kind == granule_analyzer::lint::Kind::Error)
                    .count();
                if args.format == Format::Human {
                    print_human(path, source, &left);
                }
                reports.push(report::FileReport {
                    path,
                    problems: if args.format == Format::Json {
                        shown
                    } else {
                        left
                    },
                });
            }
            Err(message) => {
                eprintln!("error: {}: {message}", path.display());
                failed = true;
            }
        }
    }
    match args.format {
        Format::Human => outln!(
            "{}",
            summary(&reports, results.len(), args.fix.then_some(fixed_count))
        ),
        Format::Json => outln!("{}", report::json(&reports)),
        Format::Sarif => outln!(
            "{}",
            report::sarif(&reports, args.paths.first().map_or(Path::new("."), |p| p))
        ),
        Format::Github => out!("{}", report::github(&reports)),
        Format::Checkstyle => out!("{}", report::checkstyle(&reports)),
        Format::Junit => out!("{}", report::junit(&reports)),
    }
    if let Some(file) = &args.write_baseline {
        let text = serde_json::to_string_pretty(&recorded).unwrap_or_default();
        if let Err(e) = std::fs::write(file, text + "\n") {
            eprintln!("error: {}: cannot write the baseline ({e})", file.display());
            return ExitCode::from(2);
        }
        eprintln!(
            "recorded {} problem{} in {}",
            recorded.entries.len(),
            if recorded.entries.len() == 1 { "" } else { "s" },
            file.display()
        );
        return if failed {
            ExitCode::from(2)
        } else {
            ExitCode::SUCCESS
        };
    }
    if failed {
        ExitCode::from(2)
    } else if failing > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Each file read and linted with puppet-lint's checks (and fixed).
fn lint_files(
    files: &[PathBuf],
    enabled: &[&'static dyn Rule],
    fix: bool,
) -> Vec<(PathBuf, Result<Linted, String>)> {
    files
        .par_iter()
        .map(|path| {
            let result = std::fs::read(path)
                .map_err(|e| format!("cannot read it: {e}"))
                .and_then(|bytes| {
                    granule_parser::source::decode(bytes).map_err(|not_utf8| {
                        let (line, column) = not_utf8.line_col();
                        format!("line {line}, column {column}: {}", not_utf8.error.message)
                    })
                })
                .and_then(|source| {
                    if !fix {
                        let problems = lint_source(path, &source, enabled);
                        return Ok(Linted { source, problems });
                    }
                    let (problems, fixed) = fix_source(path, &source, enabled);
                    if let Some(fixed) = fixed.filter(|f| *f != source) {
                        write_atomically(path, &fixed)?;
                    }
                    Ok(Linted { source, problems })
                });
            (path.clone(), result)
        })
        .collect()
}

/// The linted files with the architecture checks' problems added after
/// their own (control comments apply to them too), then the files outside
/// the PATHs that the tasks reach and that have problems.
fn with_codebase_problems(
    mut results: Vec<(PathBuf, Result<Linted, String>)>,
    mut by_file: HashMap<FileId, (PathBuf, Vec<Problem>)>,
) -> Vec<(PathBuf, Result<Linted, String>)> {
    for (path, result) in &mut results {
        let Ok(linted) = result else { continue };
        let Some((_, mut problems)) = FileId::of(path).and_then(|id| by_file.remove(&id)) else {
            continue;
        };
        apply_control_comments(&linted.source, &mut problems);
        linted.problems.extend(problems);
    }
    let mut others: Vec<(PathBuf, Vec<Problem>)> = by_file.into_values().collect();
    others.sort_by(|a, b| a.0.cmp(&b.0));
    for (path, mut problems) in others {
        let result = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read it: {e}"))
            .map(|source| {
                apply_control_comments(&source, &mut problems);
                Linted { source, problems }
            });
        results.push((path, result));
    }
    results
}

fn enabled(check: &Check, selection: &CheckSelection) -> bool {
    selection.enabled(check.name, check.enabled_by_default)
}

fn explain(name: &str) -> ExitCode {
    match rules::find(name) {
        Some(check) => {
            out!("{}", check.doc());
            ExitCode::SUCCESS
        }
        None => {
            let known: Vec<&str> = rules::CHECKS.iter().map(|c| c.name).collect();
            eprintln!(
                "error: no check named `{name}`; the checks are: {}",
                known.join(", ")
            );
            ExitCode::from(2)
        }
    }
}

/// The last line of the human report: how many problems in how many
/// files, how many fixed, and the count of each check, most found first.
fn summary(reports: &[report::FileReport], files: usize, fixed: Option<usize>) -> String {
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    let mut per_check: HashMap<&str, usize> = HashMap::new();
    for problem in reports.iter().flat_map(|r| &r.problems) {
        *per_check.entry(problem.check).or_default() += 1;
    }
    let found: usize = per_check.values().sum();
    let mut line = format!("{} in {}", plural(found, "problem"), plural(files, "file"));
    if let Some(fixed) = fixed {
        line.push_str(&format!(", {fixed} fixed"));
    }
    let mut counts: Vec<(&str, usize)> = per_check.into_iter().collect();
    counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    if !counts.is_empty() {
        let each: Vec<String> = counts
            .iter()
            .map(|(check, n)| format!("{n} {check}"))
            .collect();
        line.push_str(&format!(": {}", each.join(", ")));
    }
    line
}

fn print_human(path: &Path, source: &str, problems: &[&Problem]) {
    let index = LineIndex::new(source);
    let shown = path.display().to_string();
    for problem in problems {
        let start = byte_offset(&index, source, problem.line, problem.column);
        let end = source[start..]
            .chars()
            .next()
            .map_or(start, |c| start + c.len_utf8());
        let severity = match problem.kind {
            granule_analyzer::lint::Kind::Warning => Severity::Warning,
            granule_analyzer::lint::Kind::Error => Severity::Error,
        };
        let diagnostic = Diagnostic::new(
            severity,
            problem.check,
            &problem.message,
            Span::new(start, end),
        );
        out!("{}", diagnostic.render(&shown, source));
    }
}

/// The byte offset of a 1-based line and character column (clamped to the
/// line: `140chars` reports column 140 of any long line).
fn byte_offset(index: &LineIndex, source: &str, line: usize, column: usize) -> usize {
    let start = index.line_start(line);
    let text = index.line_text(source, line);
    start
        + text
            .char_indices()
            .nth(column.saturating_sub(1))
            .map_or(text.len(), |(i, _)| i)
}

/// The `[lint]` table of the configuration given, or of ./granule.toml.
fn read_config(given: Option<&Path>) -> Result<LintTable, String> {
    let default = Path::new("granule.toml");
    let path = match given {
        Some(path) => path,
        None if default.is_file() => default,
        None => return Ok(LintTable::default()),
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: cannot read the configuration ({e})", path.display()))?;
    LintTable::parse(&text).map_err(|e| {
        format!(
            "{}: {e}; the [lint] table takes disable = [...], enable = [...] and fail_on = \"warning\"|\"error\"",
            path.display()
        )
    })
}

fn read_baseline(file: &Path) -> Result<Baseline, String> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| format!("cannot read the baseline ({e}); write one with --write-baseline"))?;
    serde_json::from_str(&text)
        .map_err(|e| format!("not a baseline written by --write-baseline ({e}); write it again"))
}

/// Replaces `path` by `text` through a temporary file in the same
/// directory and a rename, so the file is never seen half written.
fn write_atomically(path: &Path, text: &str) -> Result<(), String> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = path.with_file_name(format!(".{name}.granule-fix"));
    let permissions = std::fs::metadata(path).map(|m| m.permissions()).ok();
    std::fs::write(&temporary, text)
        .and_then(|()| match permissions {
            Some(permissions) => std::fs::set_permissions(&temporary, permissions),
            None => Ok(()),
        })
        .and_then(|()| std::fs::rename(&temporary, path))
        .map_err(|e| {
            let _ = std::fs::remove_file(&temporary);
            format!("cannot write the fixed file ({e}); it is unchanged")
        })
}
