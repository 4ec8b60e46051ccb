//! `granule lint`: puppet-lint's checks, with puppet-lint's names, meaning,
//! lines and columns, so existing `# lint:ignore:NAME` comments and
//! `.puppet-lint.rc` files keep working.
//!
//! * [`tokens`] lexes a manifest into puppet-lint's token stream (the checks
//!   are defined on it: white space, indentation and comments are tokens).
//! * [`context`] holds one file's tokens and the token ranges puppet-lint's
//!   checks share (resources, classes, defines).
//! * [`rules`] has one module per check, each documented (what, why, an
//!   example, the fix); [`registry`] lists them.
//! * [`control`] reads control comments (`# lint:ignore:NAME`, `# lint:endignore`).
//! * [`baseline`] records the problems a codebase has, so that only new
//!   ones fail the gate.
//! * [`config`] reads `.puppet-lint.rc` (`--no-NAME-check`).
//! * [`architecture`] runs granule's own checks (`granule/...`) on the
//!   whole analyzed codebase: what no single file shows.
//! * [`fix`] applies puppet-lint's fixes to the tokens and prints them back
//!   (`--fix`), byte for byte as `puppet-lint --fix` does.

pub mod architecture;
pub mod baseline;
pub mod config;
pub mod context;
pub mod control;
pub mod fix;
pub mod rules;
#[cfg(test)]
mod tests;
pub mod tokens;

pub use context::Context;
use std::path::Path;

/// How serious a problem is, as puppet-lint grades it (`kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Warning,
    Error,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Warning => "warning",
            Kind::Error => "error",
        }
    }
}

/// One problem a check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub check: &'static str,
    pub kind: Kind,
    pub message: String,
    /// 1-based line and character column, as puppet-lint reports them.
    pub line: usize,
    pub column: usize,
    /// The reason given in the control comment that silences it, if one does.
    pub ignored: Option<String>,
    /// What `--fix` needs to fix it, for checks puppet-lint can fix.
    pub fix: Option<fix::Fix>,
    /// Set by `--fix` once fixed.
    pub fixed: bool,
}

/// A puppet-lint check ported to granule.
pub trait Rule: Sync {
    /// The check's puppet-lint name (`arrow_alignment`, `140chars`).
    fn name(&self) -> &'static str;
    /// The check's documentation: the `//!` comment of its module.
    fn doc(&self) -> String;
    fn check(&self, cx: &Context, out: &mut Problems);
}

/// Where a check reports its problems.
pub struct Problems {
    check: &'static str,
    kind: Kind,
    found: Vec<Problem>,
}

impl Problems {
    pub fn new(check: &'static str, kind: Kind) -> Problems {
        Problems {
            check,
            kind,
            found: Vec::new(),
        }
    }

    pub fn add(&mut self, message: impl Into<String>, line: usize, column: usize) {
        self.push(message.into(), line, column, None);
    }

    /// A problem `--fix` can fix with `fix`.
    pub fn add_fixable(
        &mut self,
        message: impl Into<String>,
        line: usize,
        column: usize,
        fix: fix::Fix,
    ) {
        self.push(message.into(), line, column, Some(fix));
    }

    fn push(&mut self, message: String, line: usize, column: usize, fix: Option<fix::Fix>) {
        self.found.push(Problem {
            check: self.check,
            kind: self.kind,
            message,
            line,
            column,
            ignored: None,
            fix,
            fixed: false,
        });
    }

    pub fn into_vec(self) -> Vec<Problem> {
        self.found
    }
}

/// The puppet-lint name of a problem in a file that does not lex or whose
/// resources do not close.
pub const SYNTAX_CHECK: &str = "syntax";

/// Lints one file's source with the enabled rules, in registry order (the
/// order puppet-lint reports in). `path` is the path as given on the command
/// line (checks about the file's place, like `autoloader_layout`, use it).
pub fn lint_source(path: &Path, source: &str, enabled: &[&'static dyn Rule]) -> Vec<Problem> {
    let tokens = match tokens::tokenise(source) {
        Ok(tokens) => tokens,
        Err(error) => {
            let message = match error.reason {
                Some(reason) => format!("Syntax error ({reason})"),
                None => "Syntax error".to_string(),
            };
            return vec![syntax_problem(message, error.line, error.column)];
        }
    };
    let cx = Context::new(path, source, &tokens);
    let overrides = control::ignore_overrides(&tokens);
    let mut problems = Vec::new();
    for rule in enabled {
        let mut found = Problems::new(rule.name(), rules::kind_of(rule.name()));
        rule.check(&cx, &mut found);
        if let Some(unclosed) = cx.unclosed_resource() {
            let token = &tokens.tokens[unclosed];
            return vec![syntax_problem(
                "Syntax error".to_string(),
                token.line,
                token.column,
            )];
        }
        for mut problem in found.into_vec() {
            problem.ignored = overrides.reason(problem.check, problem.line);
            problems.push(problem);
        }
    }
    problems
}

/// Marks the `problems` (of architecture checks, found outside the file's
/// own lint) that the file's control comments silence.
pub fn apply_control_comments(source: &str, problems: &mut [Problem]) {
    let Ok(tokens) = tokens::tokenise(source) else {
        return;
    };
    let overrides = control::ignore_overrides(&tokens);
    for problem in problems {
        problem.ignored = overrides.reason(problem.check, problem.line);
    }
}

fn syntax_problem(message: String, line: usize, column: usize) -> Problem {
    Problem {
        check: SYNTAX_CHECK,
        kind: Kind::Error,
        message,
        line,
        column,
        ignored: None,
        fix: None,
        fixed: false,
    }
}

/// Lints one file and applies the fixes puppet-lint would apply: the
/// problems (those fixed marked so) and the fixed text, or `None` when the
/// file has a syntax problem (puppet-lint leaves such files alone).
pub fn fix_source(
    path: &Path,
    source: &str,
    enabled: &[&'static dyn Rule],
) -> (Vec<Problem>, Option<String>) {
    let mut problems = lint_source(path, source, enabled);
    if problems.iter().any(|p| p.check == SYNTAX_CHECK) {
        return (problems, None);
    }
    let Ok(tokens) = tokens::tokenise(source) else {
        return (problems, None);
    };
    let fixed = fix::apply(&tokens, &mut problems);
    (problems, Some(fixed))
}

/// The `//!` lines at the top of a rule's source: its documentation.
pub fn module_doc(source: &'static str) -> String {
    let mut doc = String::new();
    for line in source.lines() {
        let Some(text) = line.strip_prefix("//!") else {
            break;
        };
        doc.push_str(text.strip_prefix(' ').unwrap_or(text));
        doc.push('\n');
    }
    doc
}
