//! **only_variable_string** (warning): a string holding nothing but one
//! variable.
//!
//! Why: `"${x}"` is `$x` converted to a string, which is rarely what was
//! meant and hides the variable's type.
//!
//! Example: `content => "${content}",`
//!
//! Fix: `content => $content,`.

use crate::lint::fix::{Arena, Fix};
use crate::lint::tokens::{Kind, Punct};
use crate::lint::{Context, Problems};

pub fn check(cx: &Context, out: &mut Problems) {
    let tokens = cx.tokens;
    for (start, token) in tokens.tokens.iter().enumerate() {
        if token.kind != Kind::DqPre || !token.value.is_empty() {
            continue;
        }
        let Some(var) = tokens.next(start) else {
            continue;
        };
        if !matches!(tokens.kind(var), Kind::Variable | Kind::UnencVariable) {
            continue;
        }
        let mut offset = 2;
        while let Some(end) = tokens.tokens.get(start + offset) {
            match end.kind {
                Kind::Punct(Punct::LBrack) => offset += 3,
                Kind::DqPost => {
                    let before_arrow = tokens
                        .next_code(start + offset)
                        .is_some_and(|n| tokens.kind(n) == Kind::Punct(Punct::FArrow));
                    if end.value.is_empty() && !before_arrow {
                        let token = &tokens.tokens[var];
                        out.add_fixable(
                            "string containing only a variable",
                            token.line,
                            token.column,
                            Fix::OnlyVariable {
                                start,
                                var,
                                end: start + offset,
                            },
                        );
                    }
                    break;
                }
                _ => break,
            }
        }
    }
}

/// The variable without its string.
pub fn fix(arena: &mut Arena, fix: &Fix) -> bool {
    let Fix::OnlyVariable { start, var, end } = *fix else {
        return false;
    };
    arena.remove(start);
    arena.remove(end);
    arena.token_mut(var).kind = Kind::Variable;
    true
}
