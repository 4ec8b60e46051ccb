//! Nailgun's `datadiff`: what was added to and deleted from a value since
//! the previous deployment, one level deep.

use super::value::Value;

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
        (Value::List(a), Value::List(b)) => sequence_diff(a, b),
        (Value::Str(a), Value::Str(b)) => {
            let lines = |text: &str| -> Vec<Value> { text.lines().map(Value::string).collect() };
            sequence_diff(&lines(a), &lines(b))
        }
        _ if old == new => (Value::Null, Value::Null),
        _ => (new.clone(), old.clone()),
    }
}

/// Python's `difflib.SequenceMatcher` (without its junk heuristics, which
/// start at 200 items): the longest matching run, then the same on each side
/// of it; what lies between runs was deleted from `a` or added in `b`.
fn sequence_diff(a: &[Value], b: &[Value]) -> (Value, Value) {
    let mut runs = Vec::new();
    matching_runs(a, b, (0, a.len()), (0, b.len()), &mut runs);
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

fn matching_runs(
    a: &[Value],
    b: &[Value],
    (low_a, high_a): (usize, usize),
    (low_b, high_b): (usize, usize),
    runs: &mut Vec<(usize, usize, usize)>,
) {
    // The longest run, the earliest in `a` then in `b` on ties, as difflib picks it.
    let mut best = (low_a, low_b, 0);
    let mut lengths = vec![0usize; high_b - low_b + 1];
    for i in low_a..high_a {
        let mut next = vec![0usize; high_b - low_b + 1];
        for j in low_b..high_b {
            if a[i] == b[j] {
                let length = lengths[j - low_b] + 1;
                next[j - low_b + 1] = length;
                if length > best.2 {
                    best = (i + 1 - length, j + 1 - length, length);
                }
            }
        }
        lengths = next;
    }
    let (start_a, start_b, length) = best;
    if length == 0 {
        return;
    }
    matching_runs(a, b, (low_a, start_a), (low_b, start_b), runs);
    runs.push(best);
    matching_runs(
        a,
        b,
        (start_a + length, high_a),
        (start_b + length, high_b),
        runs,
    );
}
