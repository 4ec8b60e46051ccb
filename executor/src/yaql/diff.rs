//! Nailgun's `datadiff`: what was added to and deleted from a value since
//! the previous deployment, one level deep.

use super::value::Value;
use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};

/// (added, deleted), as Nailgun's `datadiff.diff(old, new)` computes them:
/// mappings by key (a changed value is both deleted and added), lists and
/// the lines of strings by their longest matching runs, anything else as a
/// whole when it differs.
pub fn diff(old: &Value, new: &Value) -> (Value, Value) {
    match (old, new) {
        (Value::Map(a), Value::Map(b)) => {
            let mut added = Vec::new();
            let mut deleted = Vec::new();
            for (key, value) in a.iter() {
                match new.get(key) {
                    None => deleted.push((key.clone(), value.clone())),
                    Some(now) if now != value => {
                        deleted.push((key.clone(), value.clone()));
                        added.push((key.clone(), now.clone()));
                    }
                    Some(_) => {}
                }
            }
            for (key, value) in b.iter() {
                if old.get(key).is_none() {
                    added.push((key.clone(), value.clone()));
                }
            }
            (Value::map(added), Value::map(deleted))
        }
        (Value::List(a), Value::List(b)) => remembered(old, new, || sequence_diff(a, b)),
        (Value::Str(a), Value::Str(b)) => {
            let lines = |text: &str| -> Vec<Value> { text.lines().map(Value::string).collect() };
            sequence_diff(&lines(a), &lines(b))
        }
        _ if old == new => (Value::Null, Value::Null),
        _ => (new.clone(), old.clone()),
    }
}

thread_local! {
    /// The last list diffs, with the lists they were computed from. Each
    /// node's data holds the cluster's node list, and Fuel's conditions take
    /// `added($.network_metadata.nodes.values())` on every node: once the
    /// data is shared, telling that the lists are the same ones is a pointer
    /// comparison per item, where diffing them again hashes every item.
    static RECENT_DIFFS: RefCell<VecDeque<Remembered>> = const { RefCell::new(VecDeque::new()) };
}

struct Remembered {
    old: Value,
    new: Value,
    added_deleted: (Value, Value),
}

/// `compute()`'s diff of `old` and `new`, or the one remembered for the
/// same two lists.
fn remembered(
    old: &Value,
    new: &Value,
    compute: impl FnOnce() -> (Value, Value),
) -> (Value, Value) {
    const MOST_REMEMBERED: usize = 8;
    let known = RECENT_DIFFS.with(|recent| {
        recent
            .borrow()
            .iter()
            .find(|diff| diff.old.identical(old) && diff.new.identical(new))
            .map(|diff| diff.added_deleted.clone())
    });
    if let Some(added_deleted) = known {
        return added_deleted;
    }
    let added_deleted = compute();
    RECENT_DIFFS.with(|recent| {
        let mut recent = recent.borrow_mut();
        if recent.len() == MOST_REMEMBERED {
            recent.pop_front();
        }
        recent.push_back(Remembered {
            old: old.clone(),
            new: new.clone(),
            added_deleted: added_deleted.clone(),
        });
    });
    added_deleted
}

/// Python's `difflib.SequenceMatcher` (without its junk heuristics, which
/// start at 200 items): the longest matching run, then the same on each side
/// of it; what lies between runs was deleted from `a` or added in `b`.
fn sequence_diff(a: &[Value], b: &[Value]) -> (Value, Value) {
    // Where each item of `b` is, by hash, as difflib's `b2j`.
    let a_hashes: Vec<u64> = a.iter().map(Value::equality_hash).collect();
    let mut b_positions: HashMap<u64, Vec<usize>> = HashMap::new();
    for (j, item) in b.iter().enumerate() {
        b_positions.entry(item.equality_hash()).or_default().push(j);
    }
    let sides = Sides {
        a,
        b,
        a_hashes: &a_hashes,
        b_positions: &b_positions,
    };
    let mut runs = Vec::new();
    sides.matching_runs((0, a.len()), (0, b.len()), &mut runs);
    runs.sort_unstable();
    let mut added = Vec::new();
    let mut deleted = Vec::new();
    let (mut i, mut j) = (0, 0);
    for (start_a, start_b, length) in runs.into_iter().chain([(a.len(), b.len(), 0)]) {
        deleted.extend_from_slice(&a[i..start_a]);
        added.extend_from_slice(&b[j..start_b]);
        i = start_a + length;
        j = start_b + length;
    }
    (Value::list(added), Value::list(deleted))
}

struct Sides<'a> {
    a: &'a [Value],
    b: &'a [Value],
    a_hashes: &'a [u64],
    b_positions: &'a HashMap<u64, Vec<usize>>,
}

impl Sides<'_> {
    fn matching_runs(
        &self,
        (low_a, high_a): (usize, usize),
        (low_b, high_b): (usize, usize),
        runs: &mut Vec<(usize, usize, usize)>,
    ) {
        // The longest run, the earliest in `a` then in `b` on ties, as
        // difflib's `find_longest_match` picks it: for each item of `a`, the
        // length of the run ending at each equal item of `b`.
        let mut best = (low_a, low_b, 0);
        let mut ending: HashMap<usize, usize> = HashMap::new();
        for i in low_a..high_a {
            let mut next = HashMap::new();
            for &j in self
                .b_positions
                .get(&self.a_hashes[i])
                .into_iter()
                .flatten()
            {
                if j < low_b || j >= high_b || self.a[i] != self.b[j] {
                    continue;
                }
                let length = j
                    .checked_sub(1)
                    .and_then(|before| ending.get(&before))
                    .map_or(0, |n| *n)
                    + 1;
                next.insert(j, length);
                if length > best.2 {
                    best = (i + 1 - length, j + 1 - length, length);
                }
            }
            ending = next;
        }
        let (start_a, start_b, length) = best;
        if length == 0 {
            return;
        }
        self.matching_runs((low_a, start_a), (low_b, start_b), runs);
        runs.push(best);
        self.matching_runs((start_a + length, high_a), (start_b + length, high_b), runs);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(json: serde_json::Value) -> Value {
        Value::from_json(&json)
    }

    #[test]
    fn a_remembered_diff_serves_only_the_very_same_lists() {
        let new = list(serde_json::json!([3, 2]));
        let (_, deleted) = diff(&list(serde_json::json!([1, 2])), &new);
        assert_eq!(deleted.to_string(), "[1]");
        // Equal for YAQL (1 == 1.0), yet what was deleted is a float here.
        let (_, deleted) = diff(&list(serde_json::json!([1.0, 2])), &new);
        assert_eq!(deleted.to_string(), "[1.0]");
        let (added, deleted) = diff(&list(serde_json::json!([1, 2])), &new);
        assert_eq!(
            (added.to_string(), deleted.to_string()),
            ("[3]".into(), "[1]".into())
        );
    }
}
