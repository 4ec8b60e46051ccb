//! Puppet's own compiler as a reference: the catalog Puppet compiles for a
//! manifest, with the facts and Hiera data a test gives (no facter), nothing
//! applied.
//!
//! `tests/oracle/compile_catalog.rb` drives `Puppet::Parser::Compiler` in
//! Puppet's Ruby; see that script for what exactly a resource and an edge
//! are. Call [`puppet_available`] through [`crate::require_reference`] first:
//! [`compile_catalog`]'s `Err` is Puppet refusing the catalog. Many catalogs
//! compile faster together, in one Puppet process: [`compile_catalogs`].

use serde::Deserialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A resource's key in a catalog: its type and title as Puppet writes them in
/// a reference (`("File", "/tmp/x")`, `("Class", "Foo::Bar")`).
pub type ResourceKey = (String, String);

/// How one resource depends on another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EdgeKind {
    /// `before`, `require`, `->`: order only.
    Before,
    /// `notify`, `subscribe`, `~>`: order and a refresh event.
    Notify,
}

/// A relationship between two catalog resources, from the one applied first:
/// `(from, to, kind)` with each end a reference such as `File[/tmp/x]`.
pub type Edge = (String, String, EdgeKind);

/// What Puppet compiled.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Catalog {
    /// Every resource of the catalog (Puppet's own `Stage[main]`,
    /// `Class[Settings]` and `Class[main]` too) and its parameters, without
    /// the relationship metaparameters, which are in `edges`.
    pub resources: BTreeMap<ResourceKey, BTreeMap<String, Value>>,
    /// Every relationship, from metaparameters and chaining arrows alike;
    /// containment is not one.
    pub edges: BTreeSet<Edge>,
    /// Containment: `(container, resource)` for each resource a class, a
    /// defined resource or a stage holds directly (Puppet applies a
    /// relationship to a container to everything it holds).
    pub contains: BTreeSet<(String, String)>,
    /// What Puppet warned about while compiling.
    pub warnings: Vec<String>,
}

impl Catalog {
    /// True when the catalog holds resource `Type[title]`.
    pub fn contains(&self, kind: &str, title: &str) -> bool {
        self.resources
            .contains_key(&(kind.to_string(), title.to_string()))
    }

    /// The parameters of resource `Type[title]`, if the catalog holds it.
    pub fn parameters(&self, kind: &str, title: &str) -> Option<&BTreeMap<String, Value>> {
        self.resources.get(&(kind.to_string(), title.to_string()))
    }

    /// The titles of the catalog's resources of type `kind`.
    pub fn titles(&self, kind: &str) -> BTreeSet<&str> {
        let of_kind = self.resources.keys().filter(|(k, _)| k == kind);
        of_kind.map(|(_, title)| title.as_str()).collect()
    }
}

/// The version of the Puppet the compiler runs, or why there is none.
pub fn puppet_available() -> Result<String, String> {
    crate::oracle::puppet_version()
}

/// What to compile: a manifest (the node's `site.pp`), a module path, the
/// node's facts (a JSON object, taken as they are), Hiera data (a JSON object
/// of keys, served by a Hiera 5 `hiera.yaml` written for the run), the
/// node's name (else the `fqdn` fact, else `granule.test`), and the classes
/// an external node classifier gives the node (declared besides what the
/// manifest declares, as a classifier's are).
#[derive(Debug, Clone)]
pub struct CatalogRequest<'a> {
    pub manifest: &'a Path,
    pub modulepath: &'a [PathBuf],
    pub facts: &'a Value,
    pub hiera_data: &'a Value,
    pub node: Option<&'a str>,
    pub node_classes: &'a [&'a str],
}

/// Compiles `manifest`'s catalog with Puppet: see [`CatalogRequest`].
pub fn compile_catalog(
    manifest: &Path,
    modulepath: &[PathBuf],
    facts: &Value,
    hiera_data: &Value,
) -> Result<Catalog, String> {
    CatalogRequest {
        manifest,
        modulepath,
        facts,
        hiera_data,
        node: None,
        node_classes: &[],
    }
    .compile()
}

#[derive(Deserialize)]
struct Output {
    #[serde(default)]
    resources: Vec<ResourceRecord>,
    #[serde(default)]
    edges: Vec<EdgeRecord>,
    #[serde(default)]
    contains: Vec<ContainmentRecord>,
    #[serde(default)]
    errors: Vec<String>,
    #[serde(default)]
    warnings: Vec<String>,
}

#[derive(Deserialize)]
struct ResourceRecord {
    #[serde(rename = "type")]
    kind: String,
    title: String,
    parameters: BTreeMap<String, Value>,
}

#[derive(Deserialize)]
struct ContainmentRecord {
    container: String,
    resource: String,
}

#[derive(Deserialize)]
struct EdgeRecord {
    from: String,
    to: String,
    kind: EdgeKind,
}

impl CatalogRequest<'_> {
    /// The catalog, or Puppet's errors (each with its file, line and column)
    /// joined by newlines; also `Err` when Ruby or Puppet cannot run at all.
    pub fn compile(&self) -> Result<Catalog, String> {
        compile_catalogs(std::slice::from_ref(self))
            .pop()
            .expect("one answer per request")
    }

    /// The request line the script reads, with its Hiera data written under
    /// `dir`.
    fn to_line(&self, dir: &Path) -> Result<String, String> {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        write(&dir.join("common.json"), &self.hiera_data.to_string())?;
        let hiera_config = dir.join("hiera.yaml");
        // JSON strings are YAML strings: the path is quoted whatever it holds.
        let datadir = Value::String(dir.display().to_string());
        write(
            &hiera_config,
            &format!(
                "---\nversion: 5\ndefaults:\n  datadir: {datadir}\n  data_hash: json_data\n\
                 hierarchy:\n  - name: granule test data\n    path: common.json\n"
            ),
        )?;
        let request = serde_json::json!({
            "manifest": self.manifest,
            "modulepath": self.modulepath,
            "facts": self.facts,
            "hiera_config": hiera_config,
            "node": self.node,
            "classes": self.node_classes,
        });
        Ok(request.to_string())
    }
}

/// Compiles every request in one Puppet process (loading Puppet costs about
/// a second; each catalog is compiled in an environment of its own): an
/// answer per request, in order, as [`CatalogRequest::compile`] gives it.
pub fn compile_catalogs(requests: &[CatalogRequest]) -> Vec<Result<Catalog, String>> {
    let work = scratch_dir();
    let answers = run_batch(requests, &work);
    if answers.iter().all(Result::is_ok) {
        let _ = std::fs::remove_dir_all(&work);
    }
    answers
}

fn run_batch(requests: &[CatalogRequest], work: &Path) -> Vec<Result<Catalog, String>> {
    let failed_all = |error: String| -> Vec<Result<Catalog, String>> {
        requests.iter().map(|_| Err(error.clone())).collect()
    };
    let mut lines = String::new();
    for (number, request) in requests.iter().enumerate() {
        match request.to_line(&work.join(format!("request-{number}"))) {
            Ok(line) => {
                lines.push_str(&line);
                lines.push('\n');
            }
            Err(error) => return failed_all(error),
        }
    }
    let input = work.join("requests.jsonl");
    if let Err(error) = write(&input, &lines) {
        return failed_all(error);
    }
    let stdin = match std::fs::File::open(&input) {
        Ok(file) => file,
        Err(error) => return failed_all(format!("cannot read {}: {error}", input.display())),
    };
    let output = match Command::new("ruby")
        .arg(script_path())
        .arg("--workdir")
        .arg(work.join("puppet"))
        .arg("--batch")
        .stdin(stdin)
        .output()
    {
        Ok(output) => output,
        Err(error) => {
            return failed_all(format!(
                "cannot run ruby ({error}): install the Debian package puppet-agent"
            ))
        }
    };
    let stdout = String::from_utf8_lossy(&output.stdout);
    let mut answers: Vec<Result<Catalog, String>> = stdout.lines().map(answer).collect();
    if answers.len() != requests.len() {
        let error = format!(
            "{} answered {} of {} requests; its stderr:\n{}",
            script_path().display(),
            answers.len(),
            requests.len(),
            String::from_utf8_lossy(&output.stderr)
        );
        answers.resize_with(requests.len(), || Err(error.clone()));
    }
    answers
}

fn answer(line: &str) -> Result<Catalog, String> {
    let parsed: Output = serde_json::from_str(line).map_err(|e| {
        format!(
            "{} printed no catalog ({e}): {line}",
            script_path().display()
        )
    })?;
    if !parsed.errors.is_empty() {
        return Err(parsed.errors.join("\n"));
    }
    Ok(Catalog {
        resources: parsed
            .resources
            .into_iter()
            .map(|record| ((record.kind, record.title), record.parameters))
            .collect(),
        edges: parsed
            .edges
            .into_iter()
            .map(|edge| (edge.from, edge.to, edge.kind))
            .collect(),
        contains: parsed
            .contains
            .into_iter()
            .map(|record| (record.container, record.resource))
            .collect(),
        warnings: parsed.warnings,
    })
}

/// The compiler script.
pub fn script_path() -> PathBuf {
    crate::repo_root().join("tests/oracle/compile_catalog.rb")
}

/// A fresh directory under `target/catalog/` for one Puppet process (tests
/// run in parallel threads); kept when a compilation fails, to look into.
fn scratch_dir() -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let number = NEXT.fetch_add(1, Ordering::Relaxed);
    let dir = crate::target_dir()
        .join("catalog")
        .join(format!("{}-{number}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}
