//! `.puppet-lint.rc`: command-line options puppet-lint reads from a file, one
//! or more a line. granule honours the ones that choose checks:
//! `--no-NAME-check` disables check NAME, `--only-checks=A,B` keeps only
//! those; other options are puppet-lint's own and are skipped.

use std::path::Path;

/// Which checks a configuration turns off or keeps.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CheckSelection {
    pub disabled: Vec<String>,
    pub only: Option<Vec<String>>,
}

impl CheckSelection {
    pub fn enabled(&self, check: &str) -> bool {
        !self.disabled.iter().any(|d| d == check)
            && self
                .only
                .as_ref()
                .is_none_or(|only| only.iter().any(|o| o == check))
    }

    /// Adds the options of an rc file's text.
    pub fn read_rc(&mut self, text: &str) {
        for word in text.split_whitespace() {
            if let Some(check) = word
                .strip_prefix("--no-")
                .and_then(|w| w.strip_suffix("-check"))
            {
                self.disabled.push(check.to_string());
            } else if let Some(list) = word.strip_prefix("--only-checks=") {
                self.only = Some(list.split(',').map(str::to_string).collect());
            }
        }
    }

    /// Reads the rc files puppet-lint reads, in its order: `~/.puppet-lint.rc`,
    /// then `.puppet-lint.rc` in the current directory (later ones add to
    /// earlier ones).
    pub fn from_rc_files(dir: &Path) -> CheckSelection {
        let mut selection = CheckSelection::default();
        let home = std::env::var_os("HOME").map(|h| Path::new(&h).join(".puppet-lint.rc"));
        for path in home.into_iter().chain([dir.join(".puppet-lint.rc")]) {
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
    fn no_check_lines_disable_checks() {
        let mut selection = CheckSelection::default();
        selection.read_rc("--no-140chars-check\n--no-documentation-check --relative\n");
        assert!(!selection.enabled("140chars"));
        assert!(!selection.enabled("documentation"));
        assert!(selection.enabled("hard_tabs"));
    }
}
