//! Copied code as a task's manifest says it: statements and guards with
//! the variables of opened scopes renamed to the task's own, and the data
//! each task reads (the Hiera keys the `globals` task writes).

use super::eval::{may_match_both, resolve_variable};
use super::units::{Guard, GuardKind, Monolith};
use super::Proposal;
use crate::hashing::FastSet;
use crate::index::SourceFile;
use granule_parser::qualified::Qualified;
use granule_parser::visit::{for_each_child, Node};
use granule_parser::{Expr, ExprKind, Span};
use std::collections::{BTreeMap, BTreeSet};

/// A variable of the monolith's data: the scope setting it and its name.
pub type DataVariable = (usize, String);

/// Whether `scope` sets `name` (a parameter or an assignment): data the
/// `globals` task computes.
pub fn is_data(monolith: &Monolith, scope: usize, name: &str) -> bool {
    monolith.sets(scope, name)
}

/// The Hiera key of a data variable: `granule::` and the top scope's
/// variable's name, or an opened class's variable as `class::name`. The
/// prefix keeps granule's keys apart from the deployment's own: an opened
/// class's parameter has the key Puppet looks up for it
/// (`profile::web::port`), which the globals task must read from the
/// deployment's data on every run, never from what it wrote before.
pub fn data_key(monolith: &Monolith, variable: &DataVariable) -> String {
    match data_prefix(monolith, variable) {
        Some(prefix) => format!("granule::{prefix}::{}", variable.1),
        None => format!("granule::{}", variable.1),
    }
}

/// The name the `globals` manifest gives a data variable: its own for the
/// top scope, prefixed by its class's (`data_prefix`) for an opened scope.
pub fn global_name(monolith: &Monolith, variable: &DataVariable) -> String {
    match data_prefix(monolith, variable) {
        Some(prefix) => format!("{}__{}", prefix.replace("::", "__"), variable.1),
        None => variable.1.clone(),
    }
}

/// What names an opened scope's data variable: the scope's `data_name`,
/// but the class's own name for a parameter whose value no opening decides
/// (not given by the declaration, its default reading no variable: Hiera's
/// or the default, the same for every opening on a node). `None` for the
/// top scope's, but the entry class's that would shadow a top-scope
/// variable (`Monolith::shadowing`): the class's name.
fn data_prefix<'m>(monolith: &'m Monolith, (scope, name): &DataVariable) -> Option<&'m str> {
    let opened = &monolith.scopes[*scope];
    if *scope == 0 {
        return opened
            .class
            .as_deref()
            .filter(|_| monolith.shadowing.contains(name));
    }
    let class = opened.class.as_deref()?;
    let undecided = !opened.args.iter().any(|(arg, _)| arg == name)
        && opened.params.iter().any(|(param, default)| {
            param == name
                && default.is_none_or(|default| {
                    let mut reads = false;
                    visit_variables(default, &mut |_, _| reads = true);
                    !reads
                })
        });
    Some(if undecided { class } else { &opened.data_name })
}

/// The data variables an expression (written in `scope`) reads.
pub fn data_read(monolith: &Monolith, expr: &Expr, scope: usize, out: &mut Vec<DataVariable>) {
    let bound = lambda_parameters(expr);
    visit_variables(expr, &mut |_, name| {
        if bound.contains(name) {
            return;
        }
        if let Some((at, variable)) = resolve_variable(monolith, name, scope) {
            if is_data(monolith, at, variable) && !out.contains(&(at, variable.to_string())) {
                out.push((at, variable.to_string()));
            }
        }
    });
}

/// Where the monolith sets a data variable, as the `globals` task and a
/// task computing it write it: an assignment (each of them, under its
/// guards), or a parameter, from its declaration's argument (read in the
/// declaring scope) or else its default (read in its own).
pub struct Definition<'m, 'a> {
    pub file: usize,
    /// The scope the expression is read in.
    pub scope: usize,
    /// The statement (an assignment) or the value (a parameter's).
    pub expr: &'a Expr,
    /// The value.
    pub value: &'a Expr,
    pub guards: &'m [Guard<'a>],
    /// A parameter's (its value alone), not an assignment.
    pub param: bool,
    /// Where the `globals` task sets it: scope by scope, parameters first,
    /// then assignments as written.
    pub rank: (usize, usize, usize),
}

/// The definitions of `variable`, in the monolith's order.
pub fn definitions<'m, 'a>(
    monolith: &'m Monolith<'a>,
    (scope, name): &DataVariable,
) -> Vec<Definition<'m, 'a>> {
    let opened = &monolith.scopes[*scope];
    if let Some(at) = opened.params.iter().position(|(p, _)| p == name) {
        let default = opened.params[at].1;
        let rank = (*scope, 0, at);
        let given = opened.args.iter().find(|(a, _)| a == name);
        return match (given, opened.parent) {
            (Some((_, arg)), Some(parent)) => vec![Definition {
                file: monolith.scopes[parent].file,
                scope: parent,
                expr: arg,
                value: arg,
                guards: &opened.guards,
                param: true,
                rank,
            }],
            _ => default
                .map(|default| Definition {
                    file: opened.file,
                    scope: *scope,
                    expr: default,
                    value: default,
                    guards: &opened.guards,
                    param: true,
                    rank,
                })
                .into_iter()
                .collect(),
        };
    }
    monolith
        .assignments()
        .iter()
        .enumerate()
        .filter(|(_, a)| a.scope == *scope && a.name == *name)
        .map(|(at, a)| Definition {
            file: a.file,
            scope: *scope,
            expr: a.statement,
            value: a.value,
            guards: &a.guards,
            param: false,
            rank: (*scope, 1, at),
        })
        .collect()
}

/// The data variables a guard reads.
pub fn guard_data_read(monolith: &Monolith, guard: &Guard, read: &mut Vec<DataVariable>) {
    for expr in guard.exprs() {
        data_read(monolith, expr, guard.scope, read);
    }
}

/// The data whose value depends on a class that declares more than data
/// (`$mod_dir = $apache::mod_dir` after `include apache`), with those
/// classes: through its definitions, their guards and the data they read.
/// The monolith has evaluated the class by then; the `globals` task, which
/// applies nothing, cannot, so each task reading such data computes it
/// itself, after the class (`class_evaluated` tells the classes that must
/// be, the existing ones that are not data only).
pub fn class_bound(
    monolith: &Monolith,
    class_evaluated: impl Fn(&str) -> bool,
) -> BTreeMap<DataVariable, BTreeSet<String>> {
    let mut variables: Vec<DataVariable> = Vec::new();
    for (index, scope) in monolith.scopes.iter().enumerate() {
        variables.extend(scope.params.iter().map(|(p, _)| (index, p.clone())));
    }
    for assignment in monolith.assignments() {
        let variable = (assignment.scope, assignment.name.clone());
        if !variables.contains(&variable) {
            variables.push(variable);
        }
    }
    let mut direct: Vec<BTreeSet<String>> = Vec::with_capacity(variables.len());
    let mut inputs: Vec<Vec<DataVariable>> = Vec::with_capacity(variables.len());
    for variable in &variables {
        let (mut classes, mut read) = (Vec::new(), Vec::new());
        for definition in definitions(monolith, variable) {
            classes_read(monolith, definition.value, &mut classes);
            data_read(monolith, definition.value, definition.scope, &mut read);
            for guard in definition.guards {
                for expr in guard.exprs() {
                    classes_read(monolith, expr, &mut classes);
                }
                guard_data_read(monolith, guard, &mut read);
            }
        }
        classes.retain(|class| class_evaluated(class));
        direct.push(classes.into_iter().collect());
        read.retain(|other| other != variable);
        inputs.push(read);
    }
    let position: BTreeMap<&DataVariable, usize> =
        variables.iter().enumerate().map(|(i, v)| (v, i)).collect();
    let mut bound = direct;
    loop {
        let mut changed = false;
        for index in 0..variables.len() {
            let mut gained = BTreeSet::new();
            for input in &inputs[index] {
                if let Some(&other) = position.get(input) {
                    gained.extend(bound[other].iter().cloned());
                }
            }
            let before = bound[index].len();
            bound[index].extend(gained);
            changed |= bound[index].len() != before;
        }
        if !changed {
            break;
        }
    }
    variables
        .into_iter()
        .zip(bound)
        .filter(|(_, classes)| !classes.is_empty())
        .collect()
}

/// The class-bound data (`class_bound`) that reading `read` needs
/// computed, the data those read included, in the monolith's order of
/// variables.
pub fn bound_closure(monolith: &Monolith, read: &[DataVariable]) -> Vec<DataVariable> {
    let mut needed: Vec<DataVariable> = Vec::new();
    let mut pending: Vec<DataVariable> = read
        .iter()
        .filter(|v| monolith.bound.contains_key(*v))
        .cloned()
        .collect();
    while let Some(variable) = pending.pop() {
        if needed.contains(&variable) {
            continue;
        }
        let mut inputs = Vec::new();
        for definition in definitions(monolith, &variable) {
            data_read(monolith, definition.value, definition.scope, &mut inputs);
            for guard in definition.guards {
                guard_data_read(monolith, guard, &mut inputs);
            }
        }
        pending.extend(
            inputs
                .into_iter()
                .filter(|v| *v != variable && monolith.bound.contains_key(v)),
        );
        needed.push(variable);
    }
    needed.sort();
    needed
}

/// The classes not opened whose variables an expression reads by
/// qualified name (`$apache::params::user`), in the order it reads them.
pub fn classes_read(monolith: &Monolith, expr: &Expr, out: &mut Vec<String>) {
    visit_variables(expr, &mut |_, name| {
        let Some((class, _)) = name.without_top().split_last() else {
            return;
        };
        if monolith.scope_of_class(class).is_none() && !out.iter().any(|known| known == class) {
            out.push(class.to_string());
        }
    });
}

/// The source of `expr` with each data variable renamed as `names` says.
pub fn render(
    monolith: &Monolith,
    file: &SourceFile,
    expr: &Expr,
    scope: usize,
    names: &dyn Fn(&DataVariable) -> String,
) -> String {
    render_without(monolith, file, expr, scope, names, &[])
}

/// `render`, without the attributes whose spans `dropped` lists (with the
/// comma that ends each).
pub fn render_without(
    monolith: &Monolith,
    file: &SourceFile,
    expr: &Expr,
    scope: usize,
    names: &dyn Fn(&DataVariable) -> String,
    dropped: &[Span],
) -> String {
    let bound = lambda_parameters(expr);
    let base = expr.span.start as usize;
    let text = file.text(extent(expr));
    let mut replacements: Vec<(usize, usize, String)> = Vec::new();
    for span in dropped {
        let start = span.start as usize - base;
        let end = (span.end as usize - base).min(text.len());
        let rest = &text[end..];
        let after_comma = rest
            .trim_start()
            .strip_prefix(',')
            .map_or(end, |after| text.len() - after.len());
        // An attribute on lines of its own goes with them.
        let indent = text[..start].trim_end_matches([' ', '\t']);
        let trailing = &text[after_comma..];
        let (start, after_comma) = match trailing.trim_start_matches([' ', '\t']).strip_prefix('\n')
        {
            Some(after) if indent.ends_with('\n') => (indent.len(), text.len() - after.len()),
            _ => (start, after_comma),
        };
        replacements.push((start, after_comma, String::new()));
    }
    visit_variables(expr, &mut |variable, name| {
        if bound.contains(name) {
            return;
        }
        let Some((at, short)) = resolve_variable(monolith, name, scope) else {
            return;
        };
        if !is_data(monolith, at, short) {
            return;
        }
        let wanted = names(&(at, short.to_string()));
        if wanted == name {
            return;
        }
        let start = variable.span.start as usize - base;
        let end = (variable.span.end as usize - base).min(text.len());
        let Some(found) = text.get(start..end).and_then(|t| t.rfind(name)) else {
            return;
        };
        replacements.push((start + found, start + found + name.len(), wanted));
    });
    // Puppet 3 resolves `import 'nodes/*.pp'` from the importing file's
    // directory: from the task's, it would find nothing.
    visit_imports(expr, &mut |path| {
        let ExprKind::String(relative) = &path.kind else {
            return;
        };
        if relative.starts_with('/') {
            return;
        }
        let Some(directory) = std::path::Path::new(&*file.path).parent() else {
            return;
        };
        let absolute = directory.join(relative).display().to_string();
        let quoted = format!("'{}'", absolute.replace('\\', "\\\\").replace('\'', "\\'"));
        let start = path.span.start as usize - base;
        let end = (path.span.end as usize - base).min(text.len());
        replacements.push((start, end, quoted));
    });
    replacements.sort();
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (start, end, wanted) in replacements {
        if start < at {
            continue;
        }
        out.push_str(&text[at..start]);
        out.push_str(&wanted);
        at = end;
    }
    out.push_str(&text[at..]);
    out
}

/// A guard as a Puppet condition.
pub fn render_guard(
    monolith: &Monolith,
    files: &[SourceFile],
    guard: &Guard,
    names: &dyn Fn(&DataVariable) -> String,
) -> String {
    let file = &files[guard.file];
    let show = |expr: &Expr| render(monolith, file, expr, guard.scope, names);
    match &guard.kind {
        GuardKind::If { test, holds } => {
            if *holds {
                format!("({})", show(test))
            } else {
                format!("!({})", show(test))
            }
        }
        GuardKind::Case {
            test,
            values,
            earlier,
            others,
            default,
        } => {
            let test = show(test);
            let one = |value: &&Expr| match value.kind {
                ExprKind::Regex(_) => format!("({test} =~ {})", file.text(value.span)),
                _ => format!("({test} == {})", show(value)),
            };
            let any = |values: &[&Expr]| values.iter().map(one).collect::<Vec<_>>().join(" or ");
            if *default {
                if others.is_empty() {
                    "true".to_string()
                } else {
                    format!("!({})", any(others))
                }
            } else {
                // One condition among those joined with `and`: several
                // values in parentheses; and none of the options before
                // it, since Puppet takes the first that matches.
                let matches = match values.len() {
                    1 => any(values),
                    _ => format!("({})", any(values)),
                };
                // Those an earlier option cannot take (`'compute'` after
                // `/controller/`) need no word.
                let earlier: Vec<&Expr> = earlier
                    .iter()
                    .copied()
                    .filter(|e| values.iter().any(|v| may_match_both(v, e)))
                    .collect();
                if earlier.is_empty() {
                    matches
                } else {
                    format!("{matches} and !({})", any(&earlier))
                }
            }
        }
    }
}

/// The source of an expression, with the text of each heredoc it starts
/// (`$data = @(END)`): the lines after its last one, up to the heredoc's
/// end tag, which its own span leaves out.
fn extent(expr: &Expr) -> Span {
    fn walk(node: Node, end: &mut u32) {
        if let Node::Expr(Expr {
            kind: ExprKind::Heredoc { body, .. },
            ..
        }) = node
        {
            *end = (*end).max(body.end);
        }
        for_each_child(node, &mut |child| walk(child, end));
    }
    let mut end = expr.span.end;
    walk(Node::Expr(expr), &mut end);
    Span {
        start: expr.span.start,
        end,
    }
}

/// The data variables a task reads, with the name each has in its
/// manifest: the top scope's keep theirs; an opened class's are prefixed
/// with its name, as in the `globals` task, so that none becomes a
/// top-scope variable the modules' code could read as one of its own.
pub fn task_names(proposal: &Proposal, read: &[DataVariable]) -> BTreeMap<DataVariable, String> {
    read.iter()
        .map(|variable| (variable.clone(), global_name(&proposal.monolith, variable)))
        .collect()
}

/// The names lambdas of an expression bind (`|$x| { ... }`): not data.
fn lambda_parameters(expr: &Expr) -> FastSet<String> {
    let mut bound = FastSet::default();
    fn walk(node: Node, bound: &mut FastSet<String>) {
        if let Node::Expr(expr) = node {
            if let ExprKind::Lambda(lambda) = &expr.kind {
                bound.extend(lambda.params.iter().map(|p| p.name.clone()));
            }
        }
        for_each_child(node, &mut |child| walk(child, bound));
    }
    walk(Node::Expr(expr), &mut bound);
    bound
}

/// The arguments of the `import` statements in `expr`.
fn visit_imports<'e>(expr: &'e Expr, f: &mut dyn FnMut(&'e Expr)) {
    fn walk<'e>(node: Node<'e>, f: &mut dyn FnMut(&'e Expr)) {
        if let Node::Expr(Expr {
            kind: ExprKind::Call(call),
            ..
        }) = node
        {
            if matches!(&call.functor.kind, ExprKind::QualifiedName(name) if name == "import") {
                call.args.iter().for_each(&mut *f);
                return;
            }
        }
        for_each_child(node, &mut |child| walk(child, f));
    }
    walk(Node::Expr(expr), f);
}

/// Calls `f` with each variable an expression reads, and its name.
pub fn visit_variables<'e>(expr: &'e Expr, f: &mut dyn FnMut(&'e Expr, &'e str)) {
    fn walk<'e>(node: Node<'e>, f: &mut dyn FnMut(&'e Expr, &'e str)) {
        if let Node::Expr(expr) = node {
            if let ExprKind::Variable(name) = &expr.kind {
                f(expr, name);
                return;
            }
        }
        for_each_child(node, &mut |child| walk(child, f));
    }
    walk(Node::Expr(expr), f);
}

/// The spans of the attributes (`require => ...`, `before => ...`) of the
/// resources in `expr` written where `stripped` lists.
pub fn stripped_attributes(
    file: &SourceFile,
    expr: &Expr,
    stripped: &std::collections::BTreeSet<crate::model::Location>,
) -> Vec<Span> {
    let mut spans = Vec::new();
    if stripped.is_empty() {
        return spans;
    }
    fn walk(
        node: Node,
        file: &SourceFile,
        stripped: &std::collections::BTreeSet<crate::model::Location>,
        spans: &mut Vec<Span>,
    ) {
        if let Node::Expr(Expr {
            kind: ExprKind::Resource { bodies, .. },
            ..
        }) = node
        {
            for op in bodies.iter().flat_map(|body| &body.ops) {
                if let granule_parser::AttributeOp::Set { span, .. } = op {
                    if stripped.contains(&file.location(*span)) {
                        spans.push(*span);
                    }
                }
            }
        }
        for_each_child(node, &mut |child| walk(child, file, stripped, spans));
    }
    walk(Node::Expr(expr), file, stripped, &mut spans);
    spans
}
