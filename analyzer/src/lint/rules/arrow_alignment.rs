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

use crate::lint::fix::{Arena, Fix};
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
                    let indent = param_column
                        .slot(level, None)
                        .unwrap_or(0)
                        .saturating_sub(1);
                    for &id in &arrows {
                        let arrow = &tokens.tokens[id];
                        if arrow.column == expected || arrows.len() == 1 {
                            continue;
                        }
                        let first_on_line = arrows
                            .iter()
                            .find(|&&t| tokens.tokens[t].line == arrow.line)
                            == Some(&id);
                        out.add_fixable(
                            format!(
                                "indentation of => is not properly aligned (expected in column {expected}, but found it in column {})",
                                arrow.column
                            ),
                            arrow.line,
                            arrow.column,
                            Fix::Arrow {
                                token: id,
                                arrow_column: expected,
                                newline: !first_on_line,
                                newline_indent: indent,
                            },
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

/// The arrow moves to its column by resizing the space before it; an arrow
/// sharing its line with an earlier one first gets a line of its own
/// (puppet-lint's fix, which gives up when the space would be negative).
pub fn fix(arena: &mut Arena, fix: &Fix) -> bool {
    let Fix::Arrow {
        token,
        arrow_column,
        newline,
        newline_indent,
    } = *fix
    else {
        return false;
    };
    let Some(param) = arena.prev_code(token) else {
        return false;
    };
    let width = |arena: &Arena, id: usize| arena.manifest(id).chars().count() as i64;
    let new_width = if newline {
        let Some(before_param) = arena.prev(param) else {
            return false;
        };
        arena.insert_before(before_param, Kind::Newline, "\n");
        let indent = arena.token_mut(before_param);
        indent.kind = Kind::Indent;
        indent.value = " ".repeat(newline_indent);
        let mut length = 1;
        let mut at = Some(param);
        while let Some(id) = at {
            length += width(arena, id);
            if matches!(arena.token(id).kind, Kind::Indent | Kind::Newline) {
                break;
            }
            at = arena.prev(id);
        }
        arrow_column as i64 - length
    } else {
        let before = arena
            .prev(token)
            .filter(|&p| arena.token(p).kind == Kind::Whitespace)
            .map_or(0, |p| width(arena, p));
        before + arrow_column as i64 - arena.token(token).column as i64
    };
    if new_width < 0 {
        return false;
    }
    let spaces = " ".repeat(new_width as usize);
    match arena.prev(token) {
        Some(p) if arena.token(p).kind == Kind::Whitespace => arena.token_mut(p).value = spaces,
        _ => {
            arena.insert_before(token, Kind::Whitespace, &spaces);
        }
    }
    true
}
