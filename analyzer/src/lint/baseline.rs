//! Baselines: the problems a codebase had when it adopted the lint gate,
//! so that only new ones fail it. A problem is recorded by check, file and
//! a fingerprint of its line's text (trimmed), not by line number, so it
//! stays matched when lines above it move. Each recorded entry silences one
//! problem: a second copy of the same mistake on a same-looking line is new.

use super::Problem;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Entry {
    pub check: String,
    pub path: String,
    /// FNV-1a (64 bits, hex) of the problem's line, trimmed.
    pub fingerprint: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Baseline {
    pub entries: Vec<Entry>,
}

/// The entry recording `problem` of the file at `path` with `source`.
pub fn entry(path: &str, source: &str, problem: &Problem) -> Entry {
    let line = source
        .split('\n')
        .nth(problem.line.saturating_sub(1))
        .unwrap_or("")
        .trim();
    Entry {
        check: problem.check.to_string(),
        path: path.to_string(),
        fingerprint: format!("{:016x}", fnv1a(line.as_bytes())),
    }
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf29ce484222325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x100000001b3)
    })
}

/// What is left of a baseline while matching problems against it.
pub struct Matcher {
    remaining: HashMap<Entry, usize>,
}

impl Matcher {
    pub fn new(baseline: &Baseline) -> Matcher {
        let mut remaining = HashMap::new();
        for entry in &baseline.entries {
            *remaining.entry(entry.clone()).or_insert(0) += 1;
        }
        Matcher { remaining }
    }

    /// Whether the baseline records this problem (using up that record).
    pub fn matches(&mut self, entry: &Entry) -> bool {
        match self.remaining.get_mut(entry) {
            Some(count) if *count > 0 => {
                *count -= 1;
                true
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::Kind;

    fn problem(line: usize) -> Problem {
        Problem {
            check: "double_quoted_strings",
            kind: Kind::Warning,
            message: String::new(),
            line,
            column: 8,
            ignored: None,
            fix: None,
            fixed: false,
        }
    }

    #[test]
    fn entries_survive_line_shifts_and_match_once() {
        let before = "class a {\n  $x = \"plain\"\n}\n";
        let after = "# added\nclass a {\n  $x = \"plain\"\n  $y = \"plain\"\n}\n";
        let baseline = Baseline {
            entries: vec![entry("a.pp", before, &problem(2))],
        };
        let mut matcher = Matcher::new(&baseline);
        assert!(matcher.matches(&entry("a.pp", after, &problem(3))));
        assert!(!matcher.matches(&entry("a.pp", after, &problem(4))));
        assert!(!Matcher::new(&baseline).matches(&entry("b.pp", after, &problem(3))));
    }
}
