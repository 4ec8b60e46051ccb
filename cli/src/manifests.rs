//! The Puppet files a command line names.

use std::path::{Path, PathBuf};

/// The files of `paths`: a file as given, a directory searched recursively
/// for names ending in one of `extensions` (sorted within it).
///
/// Symbolic links are followed, Debian's `/usr/share/puppet/modules` being
/// a directory of them; a link that loops back to a directory above it, a
/// dangling link or an unreadable directory is skipped with a warning on
/// stderr. A PATH that does not exist or holds no such file is an error
/// (returned beside the files, one line each): a check of nothing must not
/// pass as a check.
pub fn collect(paths: &[PathBuf], extensions: &[&str]) -> (Vec<PathBuf>, Vec<String>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        match under(path, extensions) {
            Ok(found) => files.extend(found),
            Err(message) => errors.push(message),
        }
    }
    (files, errors)
}

fn under(path: &Path, extensions: &[&str]) -> Result<Vec<PathBuf>, String> {
    let shown = path.display();
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => {
            format!("error: {shown}: no such file or directory; give manifests or directories holding them")
        }
        _ => format!("error: {shown}: cannot read it: {e}"),
    })?;
    if !meta.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let wanted = |file: &Path| {
        file.extension()
            .and_then(|x| x.to_str())
            .is_some_and(|x| extensions.contains(&x))
    };
    let mut found = Vec::new();
    for entry in walkdir::WalkDir::new(path)
        .follow_links(true)
        .sort_by_file_name()
    {
        match entry {
            Ok(entry) if entry.file_type().is_file() && wanted(entry.path()) => {
                found.push(entry.into_path());
            }
            Ok(_) => {}
            Err(e) => eprintln!("warning: {}", walk_problem(&e)),
        }
    }
    if found.is_empty() {
        let names: Vec<String> = extensions.iter().map(|x| format!("*.{x}")).collect();
        return Err(format!(
            "error: {shown}: no {} file under it; nothing would be checked (is it the right directory?)",
            names.join(" or ")
        ));
    }
    Ok(found)
}

fn walk_problem(error: &walkdir::Error) -> String {
    let path = error.path().unwrap_or(Path::new("?")).display();
    if let Some(ancestor) = error.loop_ancestor() {
        return format!(
            "{path}: a symbolic link back to {}, which is being searched already; not followed",
            ancestor.display()
        );
    }
    match error.io_error() {
        Some(e) if e.kind() == std::io::ErrorKind::NotFound => {
            format!("{path}: a symbolic link to nothing; skipped")
        }
        Some(e) => format!("{path}: cannot read it ({e}); skipped"),
        None => format!("{path}: {error}; skipped"),
    }
}
