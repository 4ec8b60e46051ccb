//! The machine-readable reports of `granule lint`: puppet-lint's `--json`
//! and `--sarif` shapes, GitHub Actions annotations (puppet-lint's lines),
//! checkstyle XML and JUnit XML.

use granule_analyzer::lint::rules;
use granule_analyzer::lint::Problem;
use serde_json::{json, Value};
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// One linted file and the problems to report for it.
pub struct FileReport<'a> {
    pub path: &'a Path,
    pub problems: Vec<&'a Problem>,
}

impl FileReport<'_> {
    fn fullpath(&self) -> PathBuf {
        std::path::absolute(self.path).unwrap_or_else(|_| self.path.to_path_buf())
    }
}

/// puppet-lint's `kind`: `fixed` once `--fix` fixed the problem.
pub fn kind(problem: &Problem) -> &'static str {
    if problem.fixed {
        "fixed"
    } else {
        problem.kind.as_str()
    }
}

/// puppet-lint's `--json`: an array per file of its problems.
pub fn json(files: &[FileReport]) -> String {
    let report: Vec<Value> = files
        .iter()
        .map(|file| {
            let fullpath = file.fullpath().display().to_string();
            let filename = file
                .path
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default();
            file.problems
                .iter()
                .map(|p| {
                    json!({
                        "message": p.message,
                        "line": p.line,
                        "column": p.column,
                        "kind": kind(p),
                        "check": p.check,
                        "fullpath": fullpath,
                        "path": file.path.display().to_string(),
                        "filename": filename,
                        "KIND": kind(p).to_uppercase(),
                    })
                })
                .collect()
        })
        .collect();
    serde_json::to_string_pretty(&report).unwrap_or_default()
}

/// puppet-lint's GitHub Actions annotations: `::KIND file=F,line=L,col=C::
/// MESSAGE (check: NAME)`, the message escaped as GitHub wants.
pub fn github(files: &[FileReport]) -> String {
    let mut out = String::new();
    for file in files {
        for p in &file.problems {
            let message = p
                .message
                .replace('%', "%25")
                .replace('\n', "%0A")
                .replace('\r', "%0D");
            let _ = writeln!(
                out,
                "::{} file={},line={},col={}::{message} (check: {})",
                kind(p),
                file.path.display(),
                p.line,
                p.column,
                p.check
            );
        }
    }
    out
}

/// SARIF 2.1.0 as puppet-lint's `--sarif` writes it: paths relative to the
/// first argument's directory (`ROOTPATH`), one rule per check found, in
/// the order found, described by the first paragraph of its documentation.
/// Unlike puppet-lint, paths are percent-encoded where a URI needs it.
pub fn sarif(files: &[FileReport], first_argument: &Path) -> String {
    let base = std::path::absolute(first_argument).unwrap_or_else(|_| first_argument.into());
    let base = if base.is_dir() {
        base
    } else {
        base.parent().map(Path::to_path_buf).unwrap_or_default()
    };
    let mut rule_ids: Vec<&str> = Vec::new();
    let mut rule_list: Vec<Value> = Vec::new();
    let mut results = Vec::new();
    for file in files {
        let fullpath = file.fullpath();
        let uri = uri_path(&relative_path(&fullpath, &base));
        for p in &file.problems {
            let index = match rule_ids.iter().position(|id| *id == p.check) {
                Some(index) => index,
                None => {
                    rule_ids.push(p.check);
                    rule_list.push(sarif_rule(p));
                    rule_ids.len() - 1
                }
            };
            results.push(json!({
                "ruleId": p.check,
                "ruleIndex": index,
                "message": {"text": p.message},
                "locations": [{"physicalLocation": {
                    "artifactLocation": {"uri": uri, "uriBaseId": "ROOTPATH"},
                    "region": {"startLine": p.line, "startColumn": p.column},
                }}],
            }));
        }
    }
    let report = json!({
        "$schema": "https://www.schemastore.org/schemas/json/sarif-2.1.0-rtm.5.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "granule lint",
                "informationUri": "https://example.invalid/granule",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rule_list,
            }},
            "results": results,
            "columnKind": "utf16CodeUnits",
            "originalUriBaseIds": {"ROOTPATH": {
                "uri": format!("file://{}/", uri_path(&base.to_string_lossy())),
            }},
        }],
    });
    serde_json::to_string_pretty(&report).unwrap_or_default()
}

/// Ruby's `Pathname#relative_path_from`: `path` seen from `base`, with
/// `..` for each directory of `base` that `path` is not under.
fn relative_path(path: &Path, base: &Path) -> String {
    let path: Vec<_> = path.components().collect();
    let base: Vec<_> = base.components().collect();
    let common = path.iter().zip(&base).take_while(|(a, b)| a == b).count();
    let ups = std::iter::repeat_n("..".to_string(), base.len() - common);
    let downs = path[common..]
        .iter()
        .map(|c| c.as_os_str().to_string_lossy().into_owned());
    ups.chain(downs).collect::<Vec<_>>().join("/")
}

/// `path` as the path of a URI: every byte but RFC 3986's unreserved
/// characters, sub-delimiters, `@` and `/` percent-encoded. A space or an
/// accent would make the URI invalid, and an unencoded `:` would turn a
/// relative path into a scheme. Plain paths stay as puppet-lint writes them.
fn uri_path(path: &str) -> String {
    let mut uri = String::with_capacity(path.len());
    for byte in path.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=@/".contains(&byte) {
            uri.push(char::from(byte));
        } else {
            let _ = write!(uri, "%{byte:02X}");
        }
    }
    uri
}

fn sarif_rule(problem: &Problem) -> Value {
    let description = match rules::find(problem.check) {
        Some(check) => first_paragraph(&granule_analyzer::lint::Rule::doc(check)),
        None => "Check for any syntax error and record an error of each instance found.".into(),
    };
    let mut rule = json!({
        "id": problem.check,
        "fullDescription": {"text": description},
    });
    if !problem.fixed {
        rule["defaultConfiguration"] = json!({"level": problem.kind.as_str()});
    }
    rule
}

fn first_paragraph(doc: &str) -> String {
    doc.split("\n\n")
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// Checkstyle XML: a `<file>` per file, an `<error>` per problem (source
/// `puppet-lint.CHECK`).
pub fn checkstyle(files: &[FileReport]) -> String {
    let mut out =
        String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<checkstyle version=\"4.3\">\n");
    for file in files {
        let _ = writeln!(
            out,
            "  <file name=\"{}\">",
            xml_escape(&file.path.display().to_string())
        );
        for p in &file.problems {
            let _ = writeln!(
                out,
                "    <error line=\"{}\" column=\"{}\" severity=\"{}\" message=\"{}\" source=\"puppet-lint.{}\"/>",
                p.line,
                p.column,
                kind(p),
                xml_escape(&p.message),
                p.check
            );
        }
        out.push_str("  </file>\n");
    }
    out.push_str("</checkstyle>\n");
    out
}

/// JUnit XML: a test case per file, failed by its problems.
pub fn junit(files: &[FileReport]) -> String {
    let failures = files.iter().filter(|f| !f.problems.is_empty()).count();
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n  <testsuite name=\"granule lint\" tests=\"{}\" failures=\"{failures}\">\n",
        files.len()
    );
    for file in files {
        let name = xml_escape(&file.path.display().to_string());
        if file.problems.is_empty() {
            let _ = writeln!(
                out,
                "    <testcase name=\"{name}\" classname=\"granule.lint\"/>"
            );
            continue;
        }
        let _ = writeln!(
            out,
            "    <testcase name=\"{name}\" classname=\"granule.lint\">"
        );
        let summary = format!("{} problem(s)", file.problems.len());
        let details: Vec<String> = file
            .problems
            .iter()
            .map(|p| {
                format!(
                    "{}:{}:{}: {}[{}]: {}",
                    file.path.display(),
                    p.line,
                    p.column,
                    kind(p),
                    p.check,
                    p.message
                )
            })
            .collect();
        let _ = writeln!(
            out,
            "      <failure message=\"{summary}\">{}</failure>",
            xml_escape(&details.join("\n"))
        );
        out.push_str("    </testcase>\n");
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}
