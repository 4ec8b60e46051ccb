//! Puppet 3 code rewritten for Puppet 7, with its Puppet 3 meaning.
//!
//! [`to_puppet7`] reads a piece of Puppet source the way Puppet 3 read it
//! ([`crate::ParseOptions::legacy`]), finds its legacy constructs
//! ([`crate::legacy`]) and computes text edits from their spans:
//!
//! | construct | rewrite |
//! |---|---|
//! | `legacy/reference-with-space` | the blanks before `[` removed |
//! | `legacy/keyword-as-name`, `legacy/reserved-word-as-name` | the bare word quoted |
//! | `legacy/variable-with-dash`, `legacy/camel-case-variable` with a capital | renamed (`_` for `-`, lower case and `_` for capitals) everywhere in the text, `"${Name}"` included |
//! | `legacy/indexed-assignment` | folded into the hash literal assigned just before |
//!
//! A construct is rewritten only where the rewrite keeps its meaning; the
//! others are [`Refusal`]s saying what to do. A rename is refused when the
//! new name is already used in the text, when the variable belongs to a
//! class (`$mod::Name`: the class is not in the text), or when it is a
//! parameter (callers pass it by name). The text is the unit of
//! consistency: a whole manifest renames a variable in every statement
//! reading it.

use crate::ast::{BinaryOp, Expr, ExprKind, KeyedEntry, Program};
use crate::legacy;
use crate::qualified::Qualified;
use crate::span::Span;
use crate::visit::{for_each_child, Node};
use crate::{parse_legacy_recovering, Parsed};
use std::collections::{BTreeMap, HashMap, HashSet};

/// The text for Puppet 7, what changed and what could not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rewritten {
    pub text: String,
    pub changes: Vec<Change>,
    pub refused: Vec<Refusal>,
}

/// One rewrite: `span` of the input text becomes `replacement`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub code: &'static str,
    pub span: Span,
    pub replacement: String,
}

/// A construct of the input with no Puppet 7 rewrite that keeps its
/// meaning, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: &'static str,
    pub span: Span,
    pub advice: String,
}

/// `source` with its legacy constructs rewritten for Puppet 7. Text with a
/// syntax error (even read as Puppet 3) is returned as it is: nothing in it
/// can be located safely.
pub fn to_puppet7(source: &str) -> Rewritten {
    rewrite_parsed(source, &parse_legacy_recovering(source))
}

/// [`to_puppet7`]'s text alone: what it changes, without looking for what
/// it must refuse (the rest of Puppet 7's validation).
pub fn to_puppet7_text(source: &str) -> String {
    let parsed = parse_legacy_recovering(source);
    if !parsed.errors.is_empty() {
        return source.to_string();
    }
    Plan::of_changes(&parsed.program, &parsed.legacy, source)
        .finish(source)
        .text
}

/// Whether [`to_puppet7_text`] leaves `source` as it is, given what Puppet
/// 3's reading ([`parse_legacy_recovering`]) made of it: no construct to
/// rewrite, no variable to rename.
pub fn puppet7_text_unchanged(
    program: &Program,
    legacy: &[crate::Diagnostic],
    source: &str,
) -> bool {
    Plan::of_changes(program, legacy, source).changes.is_empty()
}

/// [`to_puppet7`] for `source` as [`crate::ParseOptions::legacy`] has
/// already read it into `parsed`.
pub fn rewrite_parsed(source: &str, parsed: &Parsed) -> Rewritten {
    if !parsed.errors.is_empty() {
        return Rewritten {
            text: source.to_string(),
            changes: Vec::new(),
            refused: Vec::new(),
        };
    }
    let validation = crate::validate(&parsed.program, source);
    rewrite_read(source, &parsed.program, &parsed.legacy, validation)
}

/// [`to_puppet7`] for `source` as Puppet 3 read it without a syntax error:
/// its `program` and `legacy` findings, and `validation`, what Puppet 7's
/// validator ([`crate::validate`]) finds in `program` (a caller that
/// validates it anyway passes its own).
pub fn rewrite_read(
    source: &str,
    program: &Program,
    legacy: &[crate::Diagnostic],
    validation: Vec<crate::Diagnostic>,
) -> Rewritten {
    let mut plan = Plan::of_changes(program, legacy, source);
    let findings = legacy::legacy_mode_findings_validated(legacy.to_vec(), program, validation);
    let mut indexed = Vec::new();
    for finding in &findings {
        // Puppet 7 issues of constructs Puppet 3 refused too are not ours.
        let Some(code) = legacy_code(&finding.code) else {
            continue;
        };
        match code {
            // Rewritten (`Plan::of_changes`), or renamed or refused there;
            // camelCase starting lower case is valid Puppet 7, an empty
            // `if` too.
            legacy::REFERENCE_WITH_SPACE
            | legacy::KEYWORD_AS_NAME
            | legacy::RESERVED_WORD_AS_NAME
            | legacy::VARIABLE_WITH_DASH
            | legacy::CAMEL_CASE_VARIABLE
            | legacy::EMPTY_IF => {}
            legacy::INDEXED_ASSIGNMENT => indexed.push(finding.span),
            _ => plan.refuse(code, finding.span, finding.message.clone()),
        }
    }
    for span in indexed {
        if !plan.folded.contains(&span.start) {
            plan.refuse(
                legacy::INDEXED_ASSIGNMENT,
                span,
                "Puppet 7 values cannot be changed: add the key where the hash is built \
                 (`$h = { ... } + { 'k' => v }`) in the source, or give the changed hash a \
                 new name"
                    .to_string(),
            );
        }
    }
    plan.finish(source)
}

/// The codes of [`crate::legacy`] by name, as `'static` strings.
fn legacy_code(code: &str) -> Option<&'static str> {
    [
        legacy::REFERENCE_WITH_SPACE,
        legacy::KEYWORD_AS_NAME,
        legacy::RESERVED_WORD_AS_NAME,
        legacy::VARIABLE_WITH_DASH,
        legacy::CAMEL_CASE_VARIABLE,
        legacy::EMPTY_IF,
        legacy::INDEXED_ASSIGNMENT,
        legacy::NODE_INHERITANCE,
        legacy::IMPORT,
        legacy::NAME_WITH_DASH,
        legacy::REASSIGNMENT,
        legacy::DUPLICATE_PARAMETER,
        legacy::NO_EFFECT,
    ]
    .into_iter()
    .find(|known| *known == code)
}

/// `name` as Puppet 7 accepts it: each segment of a qualified name lower
/// case with `_` for `-`, a capital starting a word as `_` and the letter.
/// `None` when Puppet 7 accepts it already (camelCase starting lower case
/// included).
pub fn puppet7_variable_name(name: &str) -> Option<String> {
    let needs = name.contains('-')
        || name
            .segments()
            .any(|segment| segment.starts_with(|c: char| c.is_ascii_uppercase()));
    if !needs {
        return None;
    }
    let segments: Vec<String> = name
        .segments()
        .map(|segment| {
            let mut out = String::with_capacity(segment.len() + 4);
            for c in segment.chars() {
                if c == '-' {
                    out.push('_');
                } else if c.is_ascii_uppercase() {
                    if !out.is_empty() && !out.ends_with('_') {
                        out.push('_');
                    }
                    out.push(c.to_ascii_lowercase());
                } else {
                    out.push(c);
                }
            }
            out
        })
        .collect();
    Some(segments.join("::"))
}

#[derive(Default)]
struct Plan {
    changes: Vec<Change>,
    refused: Vec<Refusal>,
    /// Starts of the indexed assignments folded into a hash.
    folded: HashSet<u32>,
}

impl Plan {
    /// The text edits for `parsed` (read as Puppet 3, without error):
    /// renames, the constructs the parser met that have a rewrite, and the
    /// indexed assignments folded into their hash; with the renames
    /// refused.
    fn of_changes(program: &Program, legacy: &[crate::Diagnostic], source: &str) -> Plan {
        let mut plan = Plan::default();
        plan.rename_variables(program, source);
        let mut met: Vec<&crate::Diagnostic> = legacy.iter().collect();
        met.sort_by_key(|finding| finding.span.start);
        for finding in met {
            let text = &source[finding.span.start as usize..finding.span.end as usize];
            match legacy_code(&finding.code) {
                Some(legacy::REFERENCE_WITH_SPACE) => {
                    // The span is `Type  [`: the blanks between name and bracket go.
                    let name = text.trim_end_matches('[').trim_end();
                    if text.ends_with('[') && name.len() + 1 < text.len() {
                        let start = finding.span.start as usize + name.len();
                        let end = finding.span.end as usize - 1;
                        plan.change(legacy::REFERENCE_WITH_SPACE, Span::new(start, end), "");
                    }
                }
                Some(code @ (legacy::KEYWORD_AS_NAME | legacy::RESERVED_WORD_AS_NAME)) => {
                    plan.change(code, finding.span, &format!("'{text}'"));
                }
                _ => {}
            }
        }
        // Last: a folded key and value carry the rewrites inside them.
        plan.fold_indexed_assignments(Node::Expr(&program.body), source);
        plan
    }

    fn change(&mut self, code: &'static str, span: Span, replacement: &str) {
        self.changes.push(Change {
            code,
            span,
            replacement: replacement.to_string(),
        });
    }

    fn refuse(&mut self, code: &'static str, span: Span, advice: String) {
        self.refused.push(Refusal { code, span, advice });
    }

    /// Renames every variable Puppet 7 refuses the name of, the same way
    /// everywhere in the text, or refuses it everywhere.
    fn rename_variables(&mut self, program: &Program, source: &str) {
        if !may_name_renamed_variables(source) {
            return;
        }
        let mut uses: BTreeMap<&str, Vec<Span>> = BTreeMap::new();
        let mut parameters: HashSet<&str> = HashSet::new();
        collect_variables(Node::Expr(&program.body), &mut uses, &mut parameters);
        let taken: HashSet<&str> = uses.keys().map(|name| top_scope(name)).collect();
        for (name, spans) in &uses {
            let Some(wanted) = puppet7_variable_name(name) else {
                continue;
            };
            let code = if name.contains('-') {
                legacy::VARIABLE_WITH_DASH
            } else {
                legacy::CAMEL_CASE_VARIABLE
            };
            let refusal = if top_scope(name).contains("::") {
                Some(format!(
                    "`${name}` is a variable of another class, whose code is not here: \
                     rename it there (`${wanted}`) and here"
                ))
            } else if parameters.contains(top_scope(name)) {
                Some(format!(
                    "`${name}` is a parameter: its callers pass it by name; rename it \
                     (`${wanted}`) in the source and its callers"
                ))
            } else if taken.contains(top_scope(&wanted)) {
                Some(format!(
                    "`${wanted}`, the Puppet 7 name of `${name}`, is already used: rename \
                     one of them in the source"
                ))
            } else {
                None
            };
            for &span in spans {
                match &refusal {
                    Some(advice) => self.refuse(code, span, advice.clone()),
                    None => {
                        let text = &source[span.start as usize..span.end as usize];
                        // A variable's span may include `$`, `${`: the name is at its end.
                        let Some(at) = text.rfind(*name) else {
                            continue;
                        };
                        let start = span.start as usize + at;
                        self.change(code, Span::new(start, start + name.len()), &wanted);
                    }
                }
            }
        }
    }

    /// Folds `$h[k] = v` into the hash literal assigned to `$h` earlier in
    /// the same block (`$h = { ... } + { k => v }`), in every block of the
    /// tree, where the meaning is kept: nothing between reads `$h`, `k` is
    /// a literal key the hash does not have yet (Puppet 3 refused to change
    /// a key) and `k` and `v` read no variable to be renamed.
    fn fold_indexed_assignments(&mut self, node: Node, source: &str) {
        if let Node::Expr(Expr {
            kind: ExprKind::Block(statements),
            ..
        }) = node
        {
            self.fold_in_block(statements, source);
        }
        for_each_child(node, &mut |child| {
            self.fold_indexed_assignments(child, source)
        });
    }

    fn fold_in_block(&mut self, statements: &[Expr], source: &str) {
        // The hashes that can still take a key: where the literal ends, its keys.
        let mut open: HashMap<&str, (usize, HashSet<String>)> = HashMap::new();
        for statement in statements {
            if let Some((name, key, value)) = indexed_assignment(statement) {
                let plain = !mentions(value, |v| top_scope(v) == top_scope(name));
                match (open.get_mut(name), literal_key(key)) {
                    (Some((end, keys)), Some(key_value)) if plain && !keys.contains(&key_value) => {
                        keys.insert(key_value);
                        let addition = format!(
                            " + {{ {} => {} }}",
                            self.rewritten(source, key.span),
                            self.rewritten(source, value.span)
                        );
                        let at = Span::new(*end, *end);
                        self.change(legacy::INDEXED_ASSIGNMENT, at, &addition);
                        self.drop_statement(statement, source, name);
                    }
                    _ => {
                        open.remove(name);
                    }
                }
                continue;
            }
            open.retain(|name, _| !mentions(statement, |v| top_scope(v) == top_scope(name)));
            if let Some((name, hash)) = hash_assignment(statement) {
                let keys: HashSet<String> = hash
                    .iter()
                    .filter_map(|entry| literal_key(&entry.key))
                    .collect();
                if keys.len() == hash.len() {
                    open.insert(name, (statement.span.end as usize, keys));
                }
            }
        }
    }

    /// Replaces a folded statement by a comment saying where it went (by
    /// nothing when code follows it on its line).
    fn drop_statement(&mut self, statement: &Expr, source: &str, name: &str) {
        self.folded.insert(statement.span.start);
        let end = statement.span.end as usize;
        let rest_of_line = source[end..].split('\n').next().unwrap_or("");
        let replacement = if rest_of_line.trim().is_empty() {
            format!("# granule: folded into the assignment of ${name} above")
        } else {
            String::new()
        };
        self.change(legacy::INDEXED_ASSIGNMENT, statement.span, &replacement);
    }

    /// The text of `span` with the changes planned inside it.
    fn rewritten(&self, source: &str, span: Span) -> String {
        let inside = self
            .changes
            .iter()
            .filter(|change| change.span.start >= span.start && change.span.end <= span.end);
        let mut inside: Vec<&Change> = inside.collect();
        inside.sort_by_key(|change| change.span.start);
        let mut text = String::new();
        let mut at = span.start as usize;
        for change in inside {
            if (change.span.start as usize) < at {
                continue;
            }
            text.push_str(&source[at..change.span.start as usize]);
            text.push_str(&change.replacement);
            at = change.span.end as usize;
        }
        text.push_str(&source[at..span.end as usize]);
        text
    }

    /// The edits applied, overlapping ones after the first dropped (a
    /// variable inside a construct already rewritten keeps its text).
    fn finish(mut self, source: &str) -> Rewritten {
        // At one start the widest edit wins: a dropped statement over the
        // renames inside it.
        self.changes
            .sort_by_key(|change| (change.span.start, std::cmp::Reverse(change.span.end)));
        let mut text = String::with_capacity(source.len());
        let mut at = 0;
        let mut applied = Vec::new();
        for change in self.changes {
            let (start, end) = (change.span.start as usize, change.span.end as usize);
            if start < at {
                continue;
            }
            text.push_str(&source[at..start]);
            text.push_str(&change.replacement);
            at = end;
            applied.push(change);
        }
        text.push_str(&source[at..]);
        self.refused.sort_by_key(|refusal| refusal.span.start);
        Rewritten {
            text,
            changes: applied,
            refused: self.refused,
        }
    }
}

/// `::name` and `name` are the same top-scope variable.
fn top_scope(name: &str) -> &str {
    name.strip_prefix("::").unwrap_or(name)
}

/// The variables of a tree by name, with each place naming them; an
/// interpolated bare reference (`"${Name}"`) is a variable in Puppet 3.
fn collect_variables<'p>(
    node: Node<'p>,
    uses: &mut BTreeMap<&'p str, Vec<Span>>,
    parameters: &mut HashSet<&'p str>,
) {
    match node {
        Node::Expr(expr) => match &expr.kind {
            ExprKind::Variable(name) => {
                uses.entry(name).or_default().push(expr.span);
                return;
            }
            ExprKind::Text(inner) => {
                if let ExprKind::QualifiedReference(name) = &inner.kind {
                    uses.entry(name).or_default().push(inner.span);
                    return;
                }
            }
            _ => {}
        },
        Node::Parameter(parameter) => {
            parameters.insert(&parameter.name);
        }
        _ => {}
    }
    for_each_child(node, &mut |child| {
        collect_variables(child, uses, parameters)
    });
}

/// Whether `source` may name a variable Puppet 7 refuses the name of: a
/// `$` or `${` followed by such a name. Most code names none, and reading
/// the text costs far less than collecting every variable of the tree.
fn may_name_renamed_variables(source: &str) -> bool {
    let bytes = source.as_bytes();
    let mut at = 0;
    while let Some(found) = bytes[at..].iter().position(|&b| b == b'$') {
        let mut start = at + found + 1;
        if bytes.get(start) == Some(&b'{') {
            start += 1;
            while bytes.get(start).is_some_and(u8::is_ascii_whitespace) {
                start += 1;
            }
        }
        let mut end = start;
        while bytes
            .get(end)
            .is_some_and(|&b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b':' | b'-'))
        {
            end += 1;
        }
        if puppet7_variable_name(&source[start..end]).is_some() {
            return true;
        }
        at = end.max(at + found + 1);
    }
    false
}

/// `$name[key] = value`.
fn indexed_assignment(statement: &Expr) -> Option<(&str, &Expr, &Expr)> {
    let ExprKind::Binary {
        op: BinaryOp::Assign,
        left,
        right,
    } = &statement.kind
    else {
        return None;
    };
    let ExprKind::Access { left: target, keys } = &left.kind else {
        return None;
    };
    match (&target.kind, keys.as_slice()) {
        (ExprKind::Variable(name), [key]) => Some((name, key, right)),
        _ => None,
    }
}

/// `$name = { ... }`.
fn hash_assignment(statement: &Expr) -> Option<(&str, &[KeyedEntry])> {
    let ExprKind::Binary {
        op: BinaryOp::Assign,
        left,
        right,
    } = &statement.kind
    else {
        return None;
    };
    match (&left.kind, &right.kind) {
        (ExprKind::Variable(name), ExprKind::Hash(entries)) => Some((name, entries)),
        _ => None,
    }
}

/// The value of a literal hash key (a string or a bare word).
fn literal_key(key: &Expr) -> Option<String> {
    match &key.kind {
        ExprKind::String(value) | ExprKind::QualifiedName(value) => Some(value.clone()),
        _ => None,
    }
}

/// Whether `expr` names a variable `matching` says yes to.
fn mentions(expr: &Expr, matching: impl Fn(&str) -> bool) -> bool {
    fn walk(node: Node, matching: &dyn Fn(&str) -> bool, found: &mut bool) {
        if let Node::Expr(Expr {
            kind: ExprKind::Variable(variable),
            ..
        }) = node
        {
            *found |= matching(variable);
        }
        if !*found {
            for_each_child(node, &mut |child| walk(child, matching, found));
        }
    }
    let mut found = false;
    walk(Node::Expr(expr), &matching, &mut found);
    found
}

#[cfg(test)]
mod tests;
