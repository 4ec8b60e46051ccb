//! Shared by `140chars` and `80chars`: a line longer than a limit, unless
//! it holds a URL or a `template(` call (splitting those hurts readability).

use crate::lint::{Context, Problems};

pub fn check(cx: &Context, out: &mut Problems, limit: usize) {
    for (n, line) in cx.manifest_lines().enumerate() {
        if line.contains("://") || line.contains("template(") {
            continue;
        }
        if line.chars().count() > limit {
            out.add(
                format!("line has more than {limit} characters"),
                n + 1,
                limit,
            );
        }
    }
}
