//! What `granule parse` reports about one file: syntax errors, Puppet 7's
//! validation issues and the Puppet 3 constructs in it, and whether they
//! fail the run.
//!
//! By default a file is read the way granule reads old code: Puppet 3
//! constructs with their Puppet 3 meaning, each reported as a `legacy/...`
//! warning that names what Puppet 7 does with it; Puppet 7's other
//! validation issues are warnings too. With `--strict` the file is read
//! exactly as Puppet 7 reads it and Puppet's errors are errors: would Puppet 7
//! accept this file?

use granule_parser::legacy::{self, without_spans_of, FAILS_IN_PUPPET_7};
use granule_parser::{Diagnostic, ParseOptions, Program, Severity};

/// A file's tree and everything found in it, in source order.
pub struct Checked {
    pub program: Program,
    pub diagnostics: Vec<Diagnostic>,
    pub syntax_errors: bool,
}

impl Checked {
    /// Whether the file fails the run (exit status 1).
    pub fn failed(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|diagnostic| diagnostic.severity == Severity::Error)
    }
}

pub fn check(source: &str, epp: bool, strict: bool) -> Checked {
    let options = ParseOptions {
        epp,
        legacy: !strict,
    };
    let parsed = granule_parser::parse_with_options(source, options);
    if !parsed.errors.is_empty() {
        return Checked {
            program: parsed.program,
            diagnostics: parsed.errors.iter().map(|e| e.to_diagnostic()).collect(),
            syntax_errors: true,
        };
    }
    let diagnostics = if strict {
        let validation = granule_parser::validate(&parsed.program, source);
        let constructs = legacy::construct_findings(&parsed.program);
        // Puppet's own verdict first; a legacy finding on the same
        // construct would say it again.
        let constructs = without_spans_of(constructs, &validation);
        let mut diagnostics = parsed.legacy;
        diagnostics.extend(validation);
        diagnostics.extend(constructs.into_iter().map(|mut finding| {
            if FAILS_IN_PUPPET_7.contains(&finding.code.as_str()) {
                finding.severity = Severity::Error;
            }
            finding
        }));
        diagnostics.sort_by_key(|diagnostic| diagnostic.span.start);
        diagnostics
    } else {
        legacy::legacy_mode_findings(parsed.legacy, &parsed.program, source)
    };
    Checked {
        program: parsed.program,
        diagnostics,
        syntax_errors: false,
    }
}
