//! **arrow_alignment** (warning): the `=>` of a resource's attributes (or of
//! a hash inside it) not aligned in one column.
//!
//! Why: aligned arrows make a block of attributes read as a table.
//!
//! Example:
//! ```puppet
//! file { '/etc/motd':
//!   ensure => file,
//!   content => 'hello',
//! }
//! ```
//!
//! Fix: pad the shorter names so every arrow of the block stands one space
//! after the longest name:
//! ```puppet
//! file { '/etc/motd':
//!   ensure  => file,
//!   content => 'hello',
//! }
//! ```

use crate::lint::tokens::{Kind, Punct, TokenList};
use crate::lint::{Context, Problems};

pub fn check(cx: &Context, out: &mut Problems) {
    let tokens = cx.tokens;
    for resource in cx.resources() {
        let body: Vec<usize> = (resource.start..=resource.end)
            .filter(|&i| !tokens.kind(i).is_comment())
            .collect();
        let arrows: Vec<usize> = body
            .iter()
            .copied()
            .filter(|&i| tokens.kind(i) == Kind::Punct(Punct::FArrow))
            .collect();
        let (Some(&first), Some(&last)) = (arrows.first(), arrows.last()) else {
            continue;
        };
        if tokens.tokens[first].line == tokens.tokens[last].line {
            continue;
        }
        check_levels(tokens, &body, out);
    }
}

/// puppet-lint keeps per-brace-level state in Ruby arrays indexed by the
/// level, which goes to -1 at the `;` or `}` that ends the resource (Ruby
/// then reads from the end of the array).
struct Levels<T> {
    items: Vec<T>,
}

impl<T: Clone> Levels<T> {
    fn slot(&mut self, level: i64, fill: T) -> &mut T {
        let index = if level < 0 {
            (self.items.len() as i64 + level).max(0) as usize
        } else {
            level as usize
        };
        if index >= self.items.len() {
            self.items.resize(index + 1, fill);
        }
        &mut self.items[index]
    }
}

fn check_levels(tokens: &TokenList, body: &[usize], out: &mut Problems) {
    let mut arrow_column = Levels {
        items: vec![0usize],
    };
    let mut param_column: Levels<Option<usize>> = Levels { items: vec![None] };
    let mut level_tokens: Levels<Vec<usize>> = Levels { items: vec![] };
    let mut level: i64 = 0;
    for &i in body {
        let token = &tokens.tokens[i];
        match token.kind {
            Kind::Punct(Punct::FArrow) => {
                let Some(param) = tokens.prev_code(i) else {
                    continue;
                };
                let (param_length, param_start) = param_extent(tokens, param);
                let column = param_column
                    .slot(level, None)
                    .get_or_insert(tokens.tokens[param_start].column);
                let column = *column;
                let same_line = level_tokens
                    .slot(level, Vec::new())
                    .iter()
                    .any(|&t| tokens.tokens[t].line == token.line);
                let this_arrow_column = if same_line {
                    column + param_length + 1
                } else {
                    tokens.tokens[param].column + tokens.manifest(param).chars().count() + 1
                };
                let expected = arrow_column.slot(level, 0);
                if *expected < this_arrow_column {
                    *expected = this_arrow_column;
                }
                level_tokens.slot(level, Vec::new()).push(i);
            }
            Kind::Punct(Punct::LBrace) => {
                level += 1;
                arrow_column.items.push(0);
                level_tokens.slot(level, Vec::new());
                param_column.items.push(None);
            }
            Kind::Punct(Punct::RBrace | Punct::Semic) => {
                let expected = *arrow_column.slot(level, 0);
                let arrows = level_tokens.slot(level, Vec::new()).clone();
                let mut lines: Vec<usize> = arrows.iter().map(|&t| tokens.tokens[t].line).collect();
                lines.dedup();
                lines.sort_unstable();
                lines.dedup();
                if lines.len() > 1 {
                    for &arrow in &arrows {
                        let arrow = &tokens.tokens[arrow];
                        if arrow.column == expected || arrows.len() == 1 {
                            continue;
                        }
                        out.add(
                            format!(
                                "indentation of => is not properly aligned (expected in column {expected}, but found it in column {})",
                                arrow.column
                            ),
                            arrow.line,
                            arrow.column,
                        );
                    }
                }
                *arrow_column.slot(level, 0) = 0;
                level_tokens.slot(level, Vec::new()).clear();
                *param_column.slot(level, None) = None;
                level -= 1;
            }
            _ => {}
        }
    }
}

/// The printed length of an attribute name and the token it starts at (an
/// interpolated string name runs from its `DQPRE` to its `DQPOST`).
fn param_extent(tokens: &TokenList, param: usize) -> (usize, usize) {
    if tokens.kind(param) != Kind::DqPost {
        return (tokens.manifest(param).chars().count(), param);
    }
    let mut length = 0;
    let mut at = param;
    while tokens.kind(at) != Kind::DqPre {
        length += tokens.manifest(at).chars().count();
        match tokens.prev(at) {
            Some(prev) => at = prev,
            None => break,
        }
    }
    length += tokens.manifest(at).chars().count();
    (length, at)
}
