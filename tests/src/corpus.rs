//! The manifests and EPP templates the tests run on: the real Puppet modules
//! installed by the Debian packages (read in place, never copied), and our
//! own fixtures.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// Where `openstack-puppet-modules` and `puppet-module-oci` install the
/// modules (`modules/` holds symlinks to the enabled ones).
pub const CORPUS_DIR: &str = "/usr/share/puppet/modules.available";

/// Every `*.pp` of the real module corpus, sorted, each file once.
///
/// Symlinks are followed (a module may link a directory from elsewhere), and
/// a file reached through several paths is kept once, under the first path in
/// sorted order: e.g. `rodjek-logrotate/spec/fixtures/modules/logrotate/manifests`
/// links back to the module's own `manifests/`.
pub fn corpus_files() -> Result<Vec<PathBuf>, String> {
    corpus_files_with("pp")
}

/// Every EPP template (`*.epp`) of the real module corpus, sorted, each
/// file once (as [`corpus_files`]).
pub fn corpus_templates() -> Result<Vec<PathBuf>, String> {
    corpus_files_with("epp")
}

fn corpus_files_with(extension: &str) -> Result<Vec<PathBuf>, String> {
    let missing = || {
        format!(
            "the Puppet module corpus {CORPUS_DIR} is missing or holds no *.{extension} \
             (Debian packages openstack-puppet-modules and puppet-module-oci)"
        )
    };
    if !Path::new(CORPUS_DIR).is_dir() {
        return Err(missing());
    }
    let files = files_under(Path::new(CORPUS_DIR), extension)?;
    if files.is_empty() {
        return Err(missing());
    }
    Ok(files)
}

/// Our own EPP template fixtures (`fixtures/epp/`).
pub fn template_fixture_dir() -> PathBuf {
    crate::repo_root().join("fixtures/epp")
}

/// Our own Puppet fixtures for the parser (`fixtures/parser/`), sorted.
pub fn parser_fixture_dir() -> PathBuf {
    crate::repo_root().join("fixtures/parser")
}

/// Every `*.pp` below `dir`, following symlinks, sorted by path, each real
/// file once (the first path in sorted order wins).
pub fn manifests_under(dir: &Path) -> Result<Vec<PathBuf>, String> {
    files_under(dir, "pp")
}

/// Every `*.epp` below `dir`, as [`manifests_under`] finds manifests.
pub fn templates_under(dir: &Path) -> Result<Vec<PathBuf>, String> {
    files_under(dir, "epp")
}

fn files_under(dir: &Path, extension: &str) -> Result<Vec<PathBuf>, String> {
    let mut found = Vec::new();
    for entry in walkdir::WalkDir::new(dir).follow_links(true) {
        let entry = match entry {
            Ok(entry) => entry,
            // A symlink cycle is reported by walkdir and simply not followed again.
            Err(error) if error.loop_ancestor().is_some() => continue,
            Err(error) => return Err(format!("cannot walk {}: {error}", dir.display())),
        };
        if entry.file_type().is_file()
            && entry.path().extension().is_some_and(|ext| ext == extension)
        {
            found.push(entry.into_path());
        }
    }
    found.sort();
    let mut seen = HashSet::new();
    let mut unique = Vec::with_capacity(found.len());
    for path in found {
        let real = std::fs::canonicalize(&path)
            .map_err(|error| format!("cannot resolve {}: {error}", path.display()))?;
        if seen.insert(real) {
            unique.push(path);
        }
    }
    Ok(unique)
}

/// Reads a manifest as Puppet does (`Puppet::FileSystem.read(file, :encoding
/// => 'utf-8')`): the bytes, unchanged, as UTF-8.
pub fn read_manifest(path: &Path) -> String {
    let bytes =
        std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    String::from_utf8(bytes).unwrap_or_else(|_| panic!("{} is not valid UTF-8", path.display()))
}

/// A snapshot of real Fuel code under `../shared/corpora/` (`name` is e.g.
/// `fuel-library-2015`), read in place: see that directory's README.
pub fn shared_corpus(name: &str) -> Result<PathBuf, String> {
    let root = crate::repo_root();
    let dir = root
        .parent()
        .map(|parent| parent.join("shared/corpora").join(name))
        .unwrap_or_default();
    if dir.is_dir() {
        Ok(dir)
    } else {
        Err(format!(
            "the corpus {} is missing (the shared corpora live next to the project, in ../shared/corpora)",
            dir.display()
        ))
    }
}
