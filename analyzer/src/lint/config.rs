//! Which checks run, from puppet-lint's files and granule's own.
//!
//! `.puppet-lint.rc`: command-line options puppet-lint reads from files,
//! one or more a line. granule honours the ones that choose checks, in
//! order, as puppet-lint applies them: `--no-NAME-check` disables check
//! NAME, `--NAME-check` enables it, `--only-checks=A,B` (or
//! `--only-checks A,B`) enables those and disables every other. Other
//! options are puppet-lint's own and are skipped.

use std::path::Path;

/// One option that turns checks on or off.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Directive {
    Set(String, bool),
    Only(Vec<String>),
}

/// The check-choosing options read so far, in order.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CheckSelection {
    directives: Vec<Directive>,
}

impl CheckSelection {
    /// Whether `check` runs, given whether puppet-lint runs it by default.
    pub fn enabled(&self, check: &str, by_default: bool) -> bool {
        self.directives
            .iter()
            .fold(by_default, |enabled, directive| match directive {
                Directive::Set(name, on) if name == check => *on,
                Directive::Set(..) => enabled,
                Directive::Only(list) => list.iter().any(|c| c == check),
            })
    }

    /// Adds the options of an rc file's text.
    pub fn read_rc(&mut self, text: &str) {
        let mut words = text.split_whitespace();
        while let Some(word) = words.next() {
            if let Some(list) = word.strip_prefix("--only-checks") {
                let list = match list.strip_prefix('=') {
                    Some(list) => list,
                    None if list.is_empty() => words.next().unwrap_or(""),
                    None => continue,
                };
                self.directives.push(Directive::Only(
                    list.split(',').map(str::to_string).collect(),
                ));
            } else if let Some(name) = word
                .strip_suffix("-check")
                .and_then(|w| w.strip_prefix("--"))
            {
                let directive = match name.strip_prefix("no-") {
                    Some(name) => Directive::Set(name.to_string(), false),
                    None => Directive::Set(name.to_string(), true),
                };
                self.directives.push(directive);
            }
        }
    }

    /// Reads the rc files puppet-lint reads, in its order:
    /// `/etc/puppet-lint.rc`, `~/.puppet-lint.rc`, then `.puppet-lint.rc` in
    /// `dir` (later options override earlier ones).
    pub fn from_rc_files(dir: &Path) -> CheckSelection {
        let mut selection = CheckSelection::default();
        let home = std::env::var_os("HOME").map(|h| Path::new(&h).join(".puppet-lint.rc"));
        let files = [Some(Path::new("/etc/puppet-lint.rc").to_path_buf()), home]
            .into_iter()
            .flatten()
            .chain([dir.join(".puppet-lint.rc")]);
        for path in files {
            if let Ok(text) = std::fs::read_to_string(&path) {
                selection.read_rc(&text);
            }
        }
        selection
    }
}

/// The `[lint]` table of `granule.toml`:
///
/// ```toml
/// [lint]
/// disable = ["140chars", "documentation"]
/// enable = ["quoted_booleans"]
/// fail_on = "error"   # exit 1 only for errors (default: "warning")
/// ```
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LintTable {
    #[serde(default)]
    pub disable: Vec<String>,
    #[serde(default)]
    pub enable: Vec<String>,
    pub fail_on: Option<FailOn>,
}

/// The least serious problem that fails the run (exit 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FailOn {
    Warning,
    Error,
}

#[derive(serde::Deserialize)]
struct GranuleToml {
    lint: Option<LintTable>,
}

impl LintTable {
    /// Reads the `[lint]` table of a `granule.toml` text (other tables are
    /// other commands' business).
    pub fn parse(text: &str) -> Result<LintTable, String> {
        let file: toml::Table = toml::from_str(text).map_err(|e| e.to_string())?;
        let lint = toml::Table::from_iter(file.into_iter().filter(|(k, _)| k == "lint"));
        let parsed: GranuleToml = lint
            .try_into()
            .map_err(|e: toml::de::Error| e.to_string())?;
        Ok(parsed.lint.unwrap_or_default())
    }

    /// Applies the table after the rc files: granule's own configuration
    /// has the last word.
    pub fn apply(&self, selection: &mut CheckSelection) {
        for name in &self.disable {
            selection
                .directives
                .push(Directive::Set(name.clone(), false));
        }
        for name in &self.enable {
            selection
                .directives
                .push(Directive::Set(name.clone(), true));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn granule_toml_lint_table() {
        let table = LintTable::parse(
            "[split]\nx = 1\n[lint]\ndisable = [\"140chars\"]\nenable = [\"quoted_booleans\"]\nfail_on = \"error\"\n",
        )
        .unwrap();
        assert_eq!(table.fail_on, Some(FailOn::Error));
        let mut selection = CheckSelection::default();
        selection.read_rc("--140chars-check");
        table.apply(&mut selection);
        assert!(!selection.enabled("140chars", true));
        assert!(selection.enabled("quoted_booleans", false));
        assert!(LintTable::parse("[lint]\ndisabled = []\n").is_err());
    }

    #[test]
    fn options_apply_in_order() {
        let mut selection = CheckSelection::default();
        selection.read_rc(
            "--no-140chars-check\n--relative --no-documentation-check\n--quoted_booleans-check\n",
        );
        assert!(!selection.enabled("140chars", true));
        assert!(!selection.enabled("documentation", true));
        assert!(selection.enabled("hard_tabs", true));
        assert!(selection.enabled("quoted_booleans", false));
        selection.read_rc("--only-checks hard_tabs,documentation");
        assert!(selection.enabled("documentation", true));
        assert!(!selection.enabled("140chars", true));
        selection.read_rc("--no-hard_tabs-check");
        assert!(!selection.enabled("hard_tabs", true));
    }
}
