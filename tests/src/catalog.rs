//! Puppet's own compiler as a reference: the catalog Puppet compiles for a
//! manifest, with the facts and Hiera data a test gives (no facter), nothing
//! applied.
//!
//! `tests/oracle/compile_catalog.rb` drives `Puppet::Parser::Compiler` in
//! Puppet's Ruby; see that script for what exactly a resource and an edge
//! are. Call [`puppet_available`] through [`crate::require_reference`] first:
//! [`compile_catalog`]'s `Err` is Puppet refusing the catalog.

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
/// of keys, served by a Hiera 5 `hiera.yaml` written for the run), and the
/// node's name (else the `fqdn` fact, else `granule.test`).
#[derive(Debug, Clone)]
pub struct CatalogRequest<'a> {
    pub manifest: &'a Path,
    pub modulepath: &'a [PathBuf],
    pub facts: &'a Value,
    pub hiera_data: &'a Value,
    pub node: Option<&'a str>,
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
struct EdgeRecord {
    from: String,
    to: String,
    kind: EdgeKind,
}

impl CatalogRequest<'_> {
    /// The catalog, or Puppet's errors (each with its file, line and column)
    /// joined by newlines; also `Err` when Ruby or Puppet cannot run at all.
    pub fn compile(&self) -> Result<Catalog, String> {
        let work = scratch_dir();
        let result = self.compile_in(&work);
        if result.is_ok() {
            let _ = std::fs::remove_dir_all(&work);
        }
        result
    }

    fn compile_in(&self, work: &Path) -> Result<Catalog, String> {
        let data_dir = work.join("hieradata");
        std::fs::create_dir_all(&data_dir)
            .map_err(|e| format!("cannot create {}: {e}", data_dir.display()))?;
        let facts = work.join("facts.json");
        let hiera_config = work.join("hiera.yaml");
        write(&facts, &self.facts.to_string())?;
        write(&data_dir.join("common.json"), &self.hiera_data.to_string())?;
        // JSON strings are YAML strings: the path is quoted whatever it holds.
        let datadir = Value::String(data_dir.display().to_string());
        write(
            &hiera_config,
            &format!(
                "---\nversion: 5\ndefaults:\n  datadir: {datadir}\n  data_hash: json_data\n\
                 hierarchy:\n  - name: granule test data\n    path: common.json\n"
            ),
        )?;
        let modulepath = std::env::join_paths(self.modulepath)
            .map_err(|e| format!("a module path cannot be joined: {e}"))?;
        let mut command = Command::new("ruby");
        command
            .arg(script_path())
            .arg("--manifest")
            .arg(self.manifest)
            .arg("--modulepath")
            .arg(modulepath)
            .arg("--facts")
            .arg(&facts)
            .arg("--hiera-config")
            .arg(&hiera_config)
            .arg("--workdir")
            .arg(work.join("puppet"));
        if let Some(node) = self.node {
            command.arg("--node").arg(node);
        }
        let output = command.output().map_err(|e| {
            format!("cannot run ruby ({e}): install the Debian package puppet-agent")
        })?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        let parsed: Output = serde_json::from_str(stdout.trim()).map_err(|e| {
            format!(
                "{} printed no catalog ({e}); its stderr:\n{}",
                script_path().display(),
                String::from_utf8_lossy(&output.stderr)
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
            warnings: parsed.warnings,
        })
    }
}

/// The compiler script.
pub fn script_path() -> PathBuf {
    crate::repo_root().join("tests/oracle/compile_catalog.rb")
}

/// A fresh directory under `target/catalog/` for one compilation (tests run
/// in parallel threads); kept when the compilation fails, to look into.
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
