//! **variable_scope** (warning): a variable used in a class or define that
//! is neither defined there (as a parameter, by assignment, as a block
//! parameter) nor qualified with a namespace.
//!
//! Why: an unqualified variable that is not local is looked up in the top
//! scope (or, in Puppet 3, dynamically), so the code silently depends on
//! whoever set it.
//!
//! Example:
//! ```puppet
//! class ntp {
//!   $servers_list = $servers
//! }
//! ```
//!
//! Fix: make it a parameter (`class ntp ($servers) { ... }`) or qualify it
//! (`$::servers`, `$ntp::params::servers`, `$facts['...']`).
//!
//! As in puppet-lint, the names found defined in one class of a file count
//! as defined in the classes after it.

use crate::lint::tokens::{Kind, Punct, TokenList};
use crate::lint::{Context, Problems};
use std::collections::{HashMap, HashSet};

const DEFAULT_SCOPE_VARS: [&str; 24] = [
    "name",
    "title",
    "module_name",
    "environment",
    "clientcert",
    "clientversion",
    "servername",
    "serverip",
    "serverversion",
    "caller_module_name",
    "alias",
    "audit",
    "before",
    "loglevel",
    "noop",
    "notify",
    "require",
    "schedule",
    "stage",
    "subscribe",
    "tag",
    "facts",
    "trusted",
    "server_facts",
];

pub fn check(cx: &Context, out: &mut Problems) {
    let tokens = cx.tokens;
    let mut in_scope: HashSet<String> = DEFAULT_SCOPE_VARS.iter().map(|s| s.to_string()).collect();
    for definition in cx.classes_and_defines() {
        if let Some((from, to)) = definition.params {
            for i in from..to {
                let after = tokens.next_code(i).map(|n| tokens.kind(n));
                if tokens.kind(i) == Kind::Variable
                    && matches!(
                        after,
                        Some(Kind::Punct(Punct::Comma | Punct::Equals | Punct::RParen))
                    )
                {
                    in_scope.insert(tokens.tokens[i].value.clone());
                }
            }
        }
        let mut referenced = Vec::new();
        let mut block_scopes: HashMap<usize, Vec<String>> = HashMap::new();
        let mut in_pipe = false;
        let mut block_params: Vec<Vec<String>> = Vec::new();
        for i in definition.start..=definition.end {
            match tokens.kind(i) {
                Kind::Punct(Punct::Equals) => assigned(tokens, i, &mut in_scope),
                Kind::Variable => {
                    let value = tokens.tokens[i].value.clone();
                    match block_params.last_mut() {
                        Some(params) if in_pipe => params.push(value),
                        _ => referenced.push(i),
                    }
                }
                Kind::Punct(Punct::Pipe) => {
                    in_pipe = !in_pipe;
                    if in_pipe {
                        block_params.push(Vec::new());
                    } else {
                        let end_line = block_end(tokens, i).map(|e| tokens.tokens[e].line);
                        let params = block_params.pop().unwrap_or_default();
                        for line in tokens.tokens[i].line..=end_line.unwrap_or(0) {
                            block_scopes.entry(line).or_default().extend(params.clone());
                        }
                    }
                }
                _ => {}
            }
        }
        for i in referenced {
            let token = &tokens.tokens[i];
            let name = without_trailing_access(&token.value);
            if block_scopes
                .get(&token.line)
                .is_some_and(|params| params.iter().any(|p| p == name))
            {
                continue;
            }
            if token.value.contains("::")
                || is_fact_access(&token.value)
                || in_scope.contains(name)
                || (!token.value.is_empty() && token.value.bytes().all(|b| b.is_ascii_digit()))
            {
                continue;
            }
            out.add(
                "top-scope variable being used without an explicit namespace",
                token.line,
                token.column,
            );
        }
    }
}

/// The variables an `=` assigns: `$x =` or `[$a, $b] =`.
fn assigned(tokens: &TokenList, equals: usize, in_scope: &mut HashSet<String>) {
    let Some(before) = tokens.prev_code(equals) else {
        return;
    };
    match tokens.kind(before) {
        Kind::Variable => {
            in_scope.insert(tokens.tokens[before].value.clone());
        }
        Kind::Punct(Punct::RBrack) => {
            let mut depth = 0;
            let mut at = Some(before);
            while let Some(i) = at {
                match tokens.kind(i) {
                    Kind::Variable => {
                        in_scope.insert(tokens.tokens[i].value.clone());
                    }
                    Kind::Punct(Punct::RBrack) => depth += 1,
                    Kind::Punct(Punct::LBrack) => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    Kind::Punct(Punct::Comma) => {}
                    _ => break,
                }
                at = tokens.prev_code(i);
            }
        }
        _ => {}
    }
}

/// The `}` closing the block after a lambda's parameters.
fn block_end(tokens: &TokenList, pipe: usize) -> Option<usize> {
    let mut depth = 0;
    for i in pipe..tokens.len() {
        match tokens.kind(i) {
            Kind::Punct(Punct::LBrace) => depth += 1,
            Kind::Punct(Punct::RBrace) => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// Ruby's `gsub(/\[.+\]\Z/, '')`: the name without a trailing access.
fn without_trailing_access(value: &str) -> &str {
    let body = value.strip_suffix('\n').unwrap_or(value);
    if !body.ends_with(']') {
        return value;
    }
    let last = body.len() - 1;
    for (open, _) in body.match_indices('[') {
        let inner = &body[open + 1..last];
        if !inner.is_empty() && !inner.contains('\n') {
            return &value[..open];
        }
    }
    value
}

/// `facts[...]` or `trusted[...]` (puppet-lint's `^(facts|trusted)\[.+\]`).
fn is_fact_access(value: &str) -> bool {
    value.split('\n').any(|line| {
        ["facts[", "trusted["].iter().any(|prefix| {
            line.strip_prefix(prefix)
                .is_some_and(|rest| rest.char_indices().skip(1).any(|(_, c)| c == ']'))
        })
    })
}
