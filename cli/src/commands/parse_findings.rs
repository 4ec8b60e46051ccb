//! What Puppet 7's validator says about a file `granule parse` read: the
//! findings it prints, and whether they fail the run under `--strict`.

use granule_parser::{Program, Severity};

/// The validation findings of one file, rendered for stderr.
#[derive(Default)]
pub struct Findings {
    pub text: String,
    /// Issues Puppet 7 grades as errors, counted only under `--strict`.
    pub errors: usize,
}

/// Runs Puppet 7's validation rules on a parsed file. Without `strict` every
/// finding is a warning (granule reads the file anyway); with `strict` the
/// findings keep Puppet's grading, and an error means Puppet 7 would refuse
/// the file.
pub fn validation_findings(program: &Program, source: &str, path: &str, strict: bool) -> Findings {
    let mut findings = Findings::default();
    for mut diagnostic in granule_parser::validate(program, source) {
        if diagnostic.severity == Severity::Error {
            if strict {
                findings.errors += 1;
            } else {
                diagnostic.severity = Severity::Warning;
            }
        }
        findings.text.push_str(&diagnostic.render(path, source));
    }
    findings
}
