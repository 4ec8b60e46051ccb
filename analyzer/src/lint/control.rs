//! puppet-lint's control comments, read as puppet-lint reads them:
//!
//! * `# lint:ignore:NAME` after code on a line silences check NAME on that
//!   line;
//! * `# lint:ignore:NAME` alone on its line opens a block that the next
//!   `# lint:endignore` closes; the check is silenced on every line of it;
//! * several `lint:ignore:NAME` words may share one comment, and the words
//!   after them are the reason reported with the silenced problem.

use super::tokens::{Kind, TokenList};
use std::collections::HashMap;

/// For each check, the lines it is silenced on and the reason given.
#[derive(Debug, Default)]
pub struct Overrides {
    lines: HashMap<String, HashMap<usize, String>>,
}

impl Overrides {
    /// The reason `check` is silenced on `line`, if it is.
    pub fn reason(&self, check: &str, line: usize) -> Option<String> {
        self.lines.get(check)?.get(&line).cloned()
    }

    fn set(&mut self, check: &str, line: usize, reason: &str) {
        self.lines
            .entry(check.to_string())
            .or_default()
            .insert(line, reason.to_string());
    }
}

/// An opened `lint:ignore` block: its line, reason and check.
struct Opened {
    line: usize,
    reason: String,
    check: String,
}

pub fn ignore_overrides(tokens: &TokenList) -> Overrides {
    let mut overrides = Overrides::default();
    let mut stack: Vec<Vec<Opened>> = Vec::new();
    for (i, token) in tokens.tokens.iter().enumerate() {
        if !token.kind.is_comment() || !is_control_comment(token.value.trim()) {
            continue;
        }
        let words: Vec<&str> = token.value.split_whitespace().collect();
        let controls = words
            .iter()
            .take_while(|w| w.starts_with("lint:ignore") || w.starts_with("lint:endignore"))
            .count();
        let reason = words[controls..].join(" ");
        let after_code = tokens
            .prev(i)
            .is_some_and(|p| !matches!(tokens.kind(p), Kind::Newline | Kind::Indent));
        let mut opened = Vec::new();
        for control in &words[..controls] {
            let mut parts = control.split(':');
            let command = parts.nth(1).unwrap_or("");
            if command == "ignore" {
                let check = parts.next().unwrap_or("");
                if after_code {
                    overrides.set(check, token.line, &reason);
                } else {
                    opened.push(Opened {
                        line: token.line,
                        reason: reason.clone(),
                        check: check.to_string(),
                    });
                }
            } else if let Some(block) = stack.pop() {
                for open in block {
                    for line in open.line..=token.line {
                        overrides.set(&open.check, line, &open.reason);
                    }
                }
            }
        }
        if !opened.is_empty() {
            stack.push(opened);
        }
    }
    overrides
}

/// `lint:ignore:NAME` or `lint:endignore` at the start of a comment.
fn is_control_comment(text: &str) -> bool {
    let Some(rest) = text.strip_prefix("lint:") else {
        return false;
    };
    if rest.starts_with("endignore") {
        return true;
    }
    rest.strip_prefix("ignore:")
        .and_then(|name| name.chars().next())
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
}
