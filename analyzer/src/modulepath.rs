//! The module path: directories of modules laid out for Puppet's autoloader,
//! as `--modulepath a:b` names them (the first module of a name wins, as in
//! Puppet), and the loose manifests (`site.pp`, a `manifests/` directory).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// One module: its name (see [`module_name`]), root, manifests and what its
/// `metadata.json` says it depends on.
#[derive(Debug, Clone)]
pub struct Module {
    pub name: String,
    pub root: PathBuf,
    /// Module names from `metadata.json` `dependencies` (`puppetlabs/stdlib`
    /// and `puppetlabs-stdlib` both give `stdlib`).
    pub dependencies: BTreeSet<String>,
    /// The name `metadata.json` gives, as dependencies name it
    /// (`puppetlabs-augeas_core` gives `augeas_core`); `None` without one.
    pub metadata_name: Option<String>,
    /// Resource types written in Ruby (`lib/puppet/type/*.rb`).
    pub custom_types: Vec<String>,
}

/// The modules of a module path, in the order Puppet looks them up.
pub fn discover(modulepath: &[PathBuf]) -> Result<Vec<Module>, String> {
    let mut modules = Vec::new();
    let mut seen = BTreeSet::new();
    for dir in modulepath {
        let entries = std::fs::read_dir(dir).map_err(|e| {
            format!(
                "{}: cannot read the module path directory: {e}",
                dir.display()
            )
        })?;
        let mut roots: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|path| path.is_dir())
            .collect();
        roots.sort();
        for root in roots {
            let Some(directory) = root.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            let looks_like_module =
                root.join("manifests").is_dir() || root.join("metadata.json").is_file();
            if !looks_like_module {
                continue;
            }
            let metadata = read_metadata(&root);
            let metadata_name = metadata
                .as_ref()
                .and_then(|m| m["name"].as_str())
                .map(short_module_name);
            let name = module_name(directory, metadata_name.as_deref());
            if !seen.insert(name.clone()) {
                continue;
            }
            modules.push(Module {
                dependencies: metadata_dependencies(&metadata),
                metadata_name,
                custom_types: custom_types(&root),
                name,
                root,
            });
        }
    }
    Ok(modules)
}

/// A module's name: its directory's, as Puppet's autoloader knows it, or,
/// when that is no module name, the one its `metadata.json` gives, else
/// the name of a Forge-style `author-name` directory (Debian's
/// `modules.available/puppetlabs-apache` holds `apache`, which
/// `/usr/share/puppet/modules/apache` links to).
fn module_name(directory: &str, metadata_name: Option<&str>) -> String {
    let valid = |name: &str| {
        name.starts_with(|c: char| c.is_ascii_lowercase())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    };
    if valid(directory) {
        return directory.to_string();
    }
    let forge_name = directory
        .split_once('-')
        .map(|(_, name)| name.replace('-', "_"));
    metadata_name
        .map(str::to_string)
        .into_iter()
        .chain(forge_name)
        .find(|name| valid(name))
        .unwrap_or_else(|| directory.to_string())
}

/// The `*.pp` files under `dir`, sorted.
pub fn manifests_under(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .follow_links(true)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|entry| {
            entry.file_type().is_file() && entry.path().extension().is_some_and(|e| e == "pp")
        })
        .map(walkdir::DirEntry::into_path)
        .collect();
    files.sort();
    files
}

/// The class or define name the autoloader expects in `file` of `module`:
/// `manifests/init.pp` holds `mod`, `manifests/a/b.pp` holds `mod::a::b`.
pub fn autoload_name(module: &Module, file: &Path) -> Option<String> {
    let relative = file.strip_prefix(module.root.join("manifests")).ok()?;
    let stem = relative.with_extension("");
    let segments: Vec<&str> = stem.iter().filter_map(|s| s.to_str()).collect();
    if segments == ["init"] {
        return Some(module.name.clone());
    }
    Some(
        std::iter::once(module.name.as_str())
            .chain(segments)
            .collect::<Vec<_>>()
            .join("::"),
    )
}

fn read_metadata(root: &Path) -> Option<serde_json::Value> {
    let text = std::fs::read_to_string(root.join("metadata.json")).ok()?;
    serde_json::from_str(&text).ok()
}

fn metadata_dependencies(metadata: &Option<serde_json::Value>) -> BTreeSet<String> {
    let Some(metadata) = metadata else {
        return BTreeSet::new();
    };
    metadata["dependencies"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|dependency| dependency["name"].as_str())
        .map(short_module_name)
        .collect()
}

/// `puppetlabs/stdlib` or `puppetlabs-stdlib` as `stdlib`.
fn short_module_name(full: &str) -> String {
    full.rsplit(['/', '-'])
        .next()
        .unwrap_or(full)
        .to_ascii_lowercase()
}

fn custom_types(root: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(root.join("lib/puppet/type")) else {
        return Vec::new();
    };
    let mut types: Vec<String> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let path = entry.path();
            (path.extension()? == "rb").then(|| path.file_stem()?.to_str().map(str::to_string))?
        })
        .collect();
    types.sort();
    types
}
