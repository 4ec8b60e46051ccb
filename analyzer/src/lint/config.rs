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

#[cfg(test)]
mod tests {
    use super::*;

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
