//! The lint rules on their fixtures (`fixtures/lint/<name>/*.pp`, one
//! snapshot per file) and the generated rules documentation. That the
//! fixtures' findings are puppet-lint's is checked by granule-tests'
//! `lint_parity` against the real puppet-lint.

use super::rules::{self, CHECKS};
use super::{fix_source, lint_source, Rule};
use std::collections::BTreeSet;
use std::fmt::Write;
use std::path::{Path, PathBuf};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("analyzer/ has a parent")
        .to_path_buf()
}

/// `code` linted and fixed by the checks `names` only (puppet-lint's spec
/// files run one check): the problems (message, line, column, whether
/// fixed) and the fixed text.
pub(super) fn fixed_by(names: &[&str], code: &str) -> (Vec<(String, usize, usize, bool)>, String) {
    let checks: Vec<&'static dyn Rule> = names
        .iter()
        .map(|name| rules::find(name).expect("a registered check") as &'static dyn Rule)
        .collect();
    let (problems, fixed) = fix_source(Path::new("spec.pp"), code, &checks);
    let problems = problems
        .into_iter()
        .map(|p| (p.message, p.line, p.column, p.fixed))
        .collect();
    (problems, fixed.expect("the code lexes"))
}

fn fixtures() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(repo_root().join("fixtures/lint"))
        .into_iter()
        .filter_map(Result::ok)
        .map(|e| e.into_path())
        .filter(|p| p.extension().is_some_and(|x| x == "pp"))
        .collect();
    files.sort();
    files
}

#[test]
fn fixtures_snapshots() {
    let all: Vec<&'static dyn Rule> = CHECKS.iter().map(|c| c as &'static dyn Rule).collect();
    let mut fired = BTreeSet::new();
    let files = fixtures();
    assert!(!files.is_empty(), "no fixtures under fixtures/lint");
    for file in files {
        let source = std::fs::read_to_string(&file).expect("fixture is readable");
        let relative = file
            .strip_prefix(repo_root().join("fixtures/lint"))
            .expect("under fixtures/lint");
        // A relative path keeps autoloader_layout's findings independent of
        // where the repository is checked out.
        let shown = Path::new("fixtures/lint").join(relative);
        let mut report = String::new();
        for problem in lint_source(&shown, &source, &all) {
            fired.insert(problem.check);
            let ignored = match &problem.ignored {
                Some(reason) => format!(" (ignored: {reason})"),
                None => String::new(),
            };
            let _ = writeln!(
                report,
                "{}:{}: {}[{}]: {}{ignored}",
                problem.line,
                problem.column,
                problem.kind.as_str(),
                problem.check,
                problem.message
            );
        }
        let name = relative.display().to_string().replace(['/', '.'], "_");
        insta::assert_snapshot!(name, report);
    }
    // The architecture checks have their fixtures in
    // fixtures/lint-architecture (granule-tests' lint_architecture).
    let silent: Vec<&str> = CHECKS
        .iter()
        .filter(|c| !c.on_codebase())
        .map(|c| c.name)
        .filter(|name| !fired.contains(name))
        .collect();
    assert!(
        silent.is_empty(),
        "no fixture trips these checks: {silent:?}"
    );
}

#[test]
fn rules_doc_is_up_to_date() {
    let path = repo_root().join("docs/rules.md");
    let generated = rules::rules_markdown();
    if std::env::var_os("UPDATE_RULES_DOC").is_some() {
        std::fs::write(&path, &generated).expect("docs/rules.md is writable");
    }
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        current == generated,
        "docs/rules.md is stale: run `UPDATE_RULES_DOC=1 cargo test -p granule-analyzer rules_doc`"
    );
}

#[test]
fn every_rule_is_documented() {
    for check in CHECKS {
        let doc = check.doc();
        assert!(
            doc.starts_with(&format!("**{}**", check.name)),
            "{}: its doc comment must start with **{}**",
            check.name,
            check.name
        );
        for part in ["Why:", "Example", "Fix"] {
            assert!(
                doc.contains(part),
                "{}: its doc comment lacks {part}",
                check.name
            );
        }
    }
}

/// Every prefix of every fixture (cut at each character) is linted and
/// fixed without a panic: editors lint files while they are typed.
#[test]
fn truncated_files_never_panic() {
    let all: Vec<&'static dyn Rule> = CHECKS.iter().map(|c| c as &'static dyn Rule).collect();
    for file in fixtures() {
        let source = std::fs::read_to_string(&file).expect("fixture is readable");
        for (cut, _) in source.char_indices() {
            let prefix = &source[..cut];
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                lint_source(&file, prefix, &all);
                fix_source(&file, prefix, &all);
            }));
            assert!(
                outcome.is_ok(),
                "{} cut at byte {cut} panics:\n{prefix}",
                file.display()
            );
        }
    }
}

/// `prev_tokens_of` answers what `prev_token_of` answers for each token,
/// unbalanced brackets included (parameter_order relies on it).
#[test]
fn prev_tokens_of_is_prev_token_of_for_every_token() {
    use super::tokens::{tokenise, Kind, Punct};
    let mut sources: Vec<String> = fixtures()
        .iter()
        .map(|file| std::fs::read_to_string(file).expect("fixture is readable"))
        .collect();
    sources.extend(
        [
            "class a (Optional[String] $x = 1, $y) { }",
            "] ) } String $x ( [ { Integer",
            "class a ( Hash[String, Array[Integer]] $h = {}, Optional[Integer] $i ) {",
            "([)] Type $v {]} $w",
        ]
        .map(str::to_string),
    );
    let kinds = [
        Kind::Type,
        Kind::Punct(Punct::LBrace),
        Kind::Punct(Punct::LBrack),
        Kind::Punct(Punct::LParen),
    ];
    for source in &sources {
        let Ok(tokens) = tokenise(source) else {
            continue;
        };
        for kind in kinds {
            let all = tokens.prev_tokens_of(kind);
            for (i, found) in all.iter().enumerate() {
                assert_eq!(
                    *found,
                    tokens.prev_token_of(i, kind),
                    "token {i} of {source:?}, {kind:?}"
                );
            }
        }
    }
}
