//! Puppet's own parse of a set of files: the text `puppet parser dump
//! --format pn|json` prints for each (`puppet epp dump` for templates), or
//! the syntax error Puppet reports.
//!
//! The dumps come from `tests/oracle/puppet_dump.rb`, which drives Puppet's
//! parser and PN transformer in one Ruby process (a `puppet` process per file
//! costs a second). They are cached under `target/oracle/`, keyed by the
//! Puppet version, the oracle script, and the paths and contents of the files.

use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// What Puppet made of one file.
#[derive(Debug, Clone, Deserialize)]
pub struct Dump {
    pub path: String,
    /// What `puppet parser dump --format pn` prints after `--- PATH`.
    pub pn: Option<String>,
    /// What `puppet parser dump --format json` prints for the file.
    pub json: Option<String>,
    pub error: Option<PuppetError>,
    /// Set when Puppet parses the file but its PN transformer crashes, so
    /// that `puppet parser dump` prints no tree (Puppet 7 on `*$rest`).
    #[serde(default)]
    pub transform_error: Option<String>,
    /// Set when `pn` and `json` come from Puppet's PN transformer with its
    /// captures-rest bug fixed (see tests/oracle/puppet_dump.rb): Puppet 7's
    /// own `puppet parser dump` crashes on such a file.
    #[serde(default)]
    pub captures_rest_fix: bool,
}

/// A file Puppet refused to parse.
#[derive(Debug, Clone, Deserialize)]
pub struct PuppetError {
    pub message: String,
    /// 1-based; absent for errors at the end of the input.
    pub line: Option<usize>,
    /// 1-based character column on `line`.
    pub pos: Option<usize>,
    /// False when Puppet's parser raised something else than a ParseError,
    /// on which the `puppet` command aborts instead of reporting the file.
    pub syntax_error: bool,
    /// True when the file parses but Puppet's validator rejects it (EPP
    /// templates only, as `puppet epp dump` validates); the dump then still
    /// holds the PN of the unvalidated tree.
    #[serde(default)]
    pub validation: bool,
}

/// Puppet's dumps of `files`, by path.
#[derive(Debug)]
pub struct Dumps {
    pub puppet_version: String,
    by_path: HashMap<PathBuf, Dump>,
}

impl Dumps {
    pub fn get(&self, path: &Path) -> &Dump {
        self.by_path
            .get(path)
            .unwrap_or_else(|| panic!("the oracle has no dump for {}", path.display()))
    }

    pub fn len(&self) -> usize {
        self.by_path.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_path.is_empty()
    }
}

/// Which of Puppet's parsers reads the files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Manifests, as `puppet parser dump` reads them.
    Manifest,
    /// EPP templates, as `puppet epp dump` reads them (which also runs
    /// Puppet's validator: a file it rejects is recorded as an error).
    Template,
}

impl Kind {
    fn script_args(self) -> &'static [&'static str] {
        match self {
            Kind::Manifest => &[],
            Kind::Template => &["--epp"],
        }
    }
}

/// The oracle script.
pub fn script_path() -> PathBuf {
    crate::repo_root().join("tests/oracle/puppet_dump.rb")
}

/// The version of the Puppet library `ruby` loads, or why it is unavailable.
pub fn puppet_version() -> Result<String, String> {
    let output = Command::new("ruby")
        .args(["-e", "require 'puppet/version'; print Puppet.version"])
        .output()
        .map_err(|e| {
            format!(
                "cannot run `ruby` ({e}): Puppet (Debian package puppet-agent) is not installed"
            )
        })?;
    if !output.status.success() {
        return Err(format!(
            "Ruby cannot load Puppet (Debian package puppet-agent): {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
}

/// Puppet's dumps of `files`: from the cache when the same Puppet already
/// dumped the same files, else by running the oracle (and caching its output).
///
/// `Err` only when Puppet is not installed; a broken oracle panics.
pub fn dumps(files: &[PathBuf]) -> Result<Dumps, String> {
    dumps_of(Kind::Manifest, files)
}

/// Like [`dumps`], for files of the given kind.
pub fn dumps_of(kind: Kind, files: &[PathBuf]) -> Result<Dumps, String> {
    let (puppet_version, by_path) = cached_records(
        &script_path(),
        kind.script_args(),
        "puppet",
        files,
        |dump: &Dump| &dump.path,
    )?;
    Ok(Dumps {
        puppet_version,
        by_path,
    })
}

/// Runs a Ruby oracle `script` (with `args`) over `files`: their paths on
/// its stdin, one JSON record per file on its stdout, `path_of` naming the
/// file of a record. Cached under `target/oracle/PREFIX-VERSION-KEY.jsonl`,
/// keyed by Puppet's version, the script, its arguments and the paths and
/// contents of the files. Gives Puppet's version and the records by path.
///
/// `Err` only when Puppet is not installed; a broken oracle panics.
pub(crate) fn cached_records<T: DeserializeOwned>(
    script: &Path,
    args: &[&str],
    cache_prefix: &str,
    files: &[PathBuf],
    path_of: fn(&T) -> &str,
) -> Result<(String, HashMap<PathBuf, T>), String> {
    let puppet_version = puppet_version()?;
    let cache_dir = crate::target_dir().join("oracle");
    let cache_file = cache_dir.join(format!(
        "{cache_prefix}-{puppet_version}-{:016x}.jsonl",
        cache_key(&puppet_version, script, args, files)
    ));
    let text = match std::fs::read_to_string(&cache_file) {
        Ok(text) => text,
        Err(_) => {
            let text = run_oracle(script, args, files);
            store(&cache_dir, &cache_file, &text);
            text
        }
    };
    let mut by_path = HashMap::with_capacity(files.len());
    for (number, line) in text.lines().enumerate() {
        let record: T = serde_json::from_str(line).unwrap_or_else(|e| {
            panic!(
                "{}: line {}: not an oracle record ({e})",
                cache_file.display(),
                number + 1
            )
        });
        by_path.insert(PathBuf::from(path_of(&record)), record);
    }
    for file in files {
        assert!(
            by_path.contains_key(file),
            "the oracle printed nothing for {} (see {})",
            file.display(),
            cache_file.display()
        );
    }
    Ok((puppet_version, by_path))
}

fn cache_key(puppet_version: &str, script: &Path, args: &[&str], files: &[PathBuf]) -> u64 {
    let mut hasher = DefaultHasher::new();
    puppet_version.hash(&mut hasher);
    args.hash(&mut hasher);
    std::fs::read(script)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", script.display()))
        .hash(&mut hasher);
    for file in files {
        file.hash(&mut hasher);
        std::fs::read(file)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()))
            .hash(&mut hasher);
    }
    hasher.finish()
}

fn run_oracle(script: &Path, args: &[&str], files: &[PathBuf]) -> String {
    let mut child = Command::new("ruby")
        .arg(script)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start `ruby {}`: {e}", script.display()));
    let list: String = files
        .iter()
        .map(|file| format!("{}\n", file.display()))
        .collect();
    let mut stdin = child.stdin.take().expect("piped stdin");
    // Written from a thread so that a full stdout pipe cannot deadlock us.
    let writer = std::thread::spawn(move || stdin.write_all(list.as_bytes()));
    let output = child.wait_with_output().expect("the oracle did not finish");
    writer
        .join()
        .expect("writer thread")
        .expect("cannot send the file list to the oracle");
    assert!(
        output.status.success(),
        "the oracle {} failed ({}): {}",
        script.display(),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("the oracle prints UTF-8")
}

/// Writes the cache atomically: tests in other processes may read it meanwhile.
fn store(cache_dir: &Path, cache_file: &Path, text: &str) {
    let attempt = || -> std::io::Result<()> {
        std::fs::create_dir_all(cache_dir)?;
        let partial = cache_file.with_extension(format!("partial-{}", std::process::id()));
        std::fs::write(&partial, text)?;
        std::fs::rename(&partial, cache_file)
    };
    if let Err(error) = attempt() {
        eprintln!(
            "warning: cannot cache the oracle's output in {}: {error}",
            cache_dir.display()
        );
    }
}
