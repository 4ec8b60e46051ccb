//! The files of a split: a manifest and pre/post tests per task,
//! `report.json` and `report.md` (the executor's descriptor model writes
//! `tasks.yaml`).
//! Everything is deterministic: the same proposal gives the same bytes.

use super::render::{self, DataVariable};
use super::units::{self, Guard, GuardKind, Shared, SharedKind, UnitKind};
use super::{Proposal, Target, Task, GLOBALS, HIERA};
use crate::analysis::Analysis;
use crate::hashing::{FastMap, FastSet};
use crate::index::SourceFile;
use crate::model::{AttributeValue, Location, Vertex};
use granule_parser::lexer::Tok;
use granule_parser::{Expr, ExprKind, Span};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// Where the outputs go.
pub struct Output<'a> {
    pub dir: &'a Path,
    /// The module path, as `puppet apply --modulepath` takes it.
    pub modulepath: &'a str,
}

/// Writes every file of the proposal under `output.dir` (created if
/// needed), each through a temporary file renamed into place.
pub fn write(proposal: &Proposal, analysis: &Analysis, output: &Output) -> Result<(), String> {
    std::fs::create_dir_all(output.dir)
        .map_err(|e| format!("{}: cannot create: {e}", output.dir.display()))?;
    let dir =
        std::fs::canonicalize(output.dir).map_err(|e| format!("{}: {e}", output.dir.display()))?;
    let checks = PostChecks::of(analysis);
    let sources = Sources::new(output.modulepath);
    // A manifest's code comes from the sources of its units and of the
    // classes opened (their statements, guards, parameters, defaults):
    // where none holds a construct Puppet 7 reads otherwise, neither does
    // a manifest made of them.
    let rewrite = proposal.target == Target::Puppet7 && {
        let mut files: Vec<usize> = proposal.monolith.units.iter().map(|u| u.file).collect();
        files.extend(proposal.monolith.scopes.iter().map(|scope| scope.file));
        files.sort_unstable();
        files.dedup();
        files.iter().any(|&file| {
            let file = &analysis.codebase.files[file];
            !granule_parser::rewrite::puppet7_text_unchanged(
                &file.program,
                &file.legacy,
                &file.source,
            )
        })
    };
    for task in &proposal.tasks {
        let task_dir = dir.join(&task.id);
        std::fs::create_dir_all(&task_dir)
            .map_err(|e| format!("{}: cannot create: {e}", task_dir.display()))?;
        let includes = orderer_includes(proposal, analysis, task);
        let shared = copied_shared(proposal, analysis, task);
        let reads = task_reads(proposal, task, &includes, &shared);
        let manifest = match task.id.as_str() {
            GLOBALS => globals_manifest(proposal, analysis, &sources),
            HIERA => hiera_manifest(proposal),
            _ => task_manifest(
                proposal, analysis, &sources, task, &reads, &includes, &shared,
            ),
        };
        // The whole manifest, so that a variable renamed for Puppet 7 is
        // renamed in the data lines around the copied code too.
        let manifest = if rewrite {
            granule_parser::rewrite::to_puppet7_text(&manifest)
        } else {
            manifest
        };
        write_file(&task_dir.join(format!("{}.pp", task.id)), &manifest)?;
        let keys: Vec<String> = reads
            .iter()
            .filter(|variable| !proposal.monolith.bound.contains_key(*variable))
            .map(|variable| render::data_key(&proposal.monolith, variable))
            .collect();
        write_file(&task_dir.join("pre.sh"), &pre_test(task, &keys))?;
        write_file(
            &task_dir.join("post.sh"),
            &post_test(proposal, task, &checks),
        )?;
    }
    write_file(&dir.join("report.json"), &report_json(proposal, analysis))?;
    write_file(
        &dir.join("report.md"),
        &report_md(proposal, analysis, &sources),
    )?;
    Ok(())
}

/// Writes `text` to `path`, a file of the staging directory: the split
/// replaces OUT with it only once every file is whole, so no file needs a
/// rename of its own.
pub fn write_file(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("{}: cannot write: {e}", path.display()))
}

/// `count` and the noun that goes with it: "1 unit", "2 units".
pub fn counted(count: usize, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}

/// Where generated comments break their lines: well within lint's
/// `140chars`, readable in a terminal.
const COMMENT_WIDTH: usize = 100;

/// A comment of generated text: every line starts with `#`, none is longer
/// than [`COMMENT_WIDTH`] (but for a single longer word).
fn comment(out: &mut String, text: &str) {
    comment_indented(out, 0, 0, text);
}

/// A generated comment indented by `indent` spaces after the `#`, its
/// continuation lines by `continued`.
fn comment_indented(out: &mut String, indent: usize, continued: usize, text: &str) {
    for paragraph in text.lines() {
        let mut line = String::new();
        let mut margin = indent;
        for word in paragraph.split_whitespace() {
            if !line.is_empty() && 2 + margin + line.len() + 1 + word.len() > COMMENT_WIDTH {
                let _ = writeln!(out, "# {:margin$}{line}", "");
                line.clear();
                margin = continued;
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        let _ = writeln!(out, "# {:margin$}{line}", "");
    }
}

/// How generated text names source files: relative to the module path's
/// directory holding them.
pub struct Sources {
    /// Each directory of the module path as given (the analysis names files
    /// under it so) and with its symbolic links resolved; the longest
    /// first, so that no root is taken for the end of another.
    roots: Vec<PathBuf>,
}

impl Sources {
    pub fn new(modulepath: &str) -> Sources {
        let mut roots: Vec<PathBuf> = modulepath
            .split(':')
            .flat_map(|dir| [Some(PathBuf::from(dir)), std::fs::canonicalize(dir).ok()])
            .flatten()
            .collect();
        roots.sort_by_key(|root| std::cmp::Reverse(root.as_os_str().len()));
        roots.dedup();
        Sources { roots }
    }

    /// A path relative to the module path's directory holding it, if one
    /// does.
    fn path(&self, path: &str) -> String {
        self.roots
            .iter()
            .find_map(|root| Path::new(path).strip_prefix(root).ok())
            .map_or_else(|| path.to_string(), |rest| rest.display().to_string())
    }

    /// `file:line:column`, the file as [`Sources::path`] names it.
    fn at(&self, location: &crate::model::Location) -> String {
        format!(
            "{}:{}:{}",
            self.path(&location.file),
            location.line,
            location.column
        )
    }

    /// Generated text (labels, reasons) with every file under the module
    /// path named relative to it.
    fn text(&self, text: &str) -> String {
        let mut text = text.to_string();
        for root in &self.roots {
            text = text.replace(&format!("{}/", root.display()), "");
        }
        text
    }
}

fn header(out: &mut String, task: &Task, what: &str) {
    let _ = writeln!(out, "# granule split: task `{}`", task.id);
    for line in what.lines() {
        let _ = writeln!(out, "# {line}");
    }
    let _ = writeln!(
        out,
        "# Generated by granule split; change the plan file and re-run rather than edit."
    );
}

/// The data variables a task reads: in its units' statements and the
/// guards it keeps, and in the definitions it copies.
fn task_reads(
    proposal: &Proposal,
    task: &Task,
    includes: &[Include],
    shared: &[&Shared],
) -> Vec<DataVariable> {
    let monolith = &proposal.monolith;
    let mut read = Vec::new();
    for index in task.applied() {
        unit_data_read(proposal, task, index, &mut read);
        for name in &proposal.unit_reads[index] {
            let variable = (0, name.clone());
            if render::is_data(monolith, 0, name) && !read.contains(&variable) {
                read.push(variable);
            }
        }
    }
    data_read_before_units(monolith, includes, shared, &mut read);
    for &index in &task.relationships {
        let relationship = &monolith.relationships[index];
        render::data_read(
            monolith,
            relationship.statement,
            relationship.scope,
            &mut read,
        );
        for guard in &relationship.guards {
            render::guard_data_read(monolith, guard, &mut read);
        }
    }
    // What the task computes itself reads data in turn.
    for variable in render::bound_closure(monolith, &read) {
        for definition in render::definitions(monolith, &variable) {
            render::data_read(monolith, definition.value, definition.scope, &mut read);
            for guard in definition.guards {
                render::guard_data_read(monolith, guard, &mut read);
            }
        }
    }
    read.sort();
    read
}

/// The data variables a unit's statement and the guards its task keeps
/// read.
fn unit_data_read(proposal: &Proposal, task: &Task, index: usize, read: &mut Vec<DataVariable>) {
    let monolith = &proposal.monolith;
    let unit = &monolith.units[index];
    render::data_read(monolith, unit.statement, unit.scope, read);
    for guard in kept_guards(proposal, task, index) {
        render::guard_data_read(monolith, guard, read);
    }
}

/// The data variables what a task writes before its units reads: the
/// guards of its includes, its shared statements (resource defaults...).
fn data_read_before_units(
    monolith: &units::Monolith,
    includes: &[Include],
    shared: &[&Shared],
    read: &mut Vec<DataVariable>,
) {
    for (_, guards) in includes {
        for guard in guards {
            render::guard_data_read(monolith, guard, read);
        }
    }
    for shared in shared {
        render::data_read(monolith, shared.statement, shared.scope, read);
        for guard in &shared.guards {
            render::guard_data_read(monolith, guard, read);
        }
    }
}

/// The guards of a unit its task keeps: those not known to hold on every
/// role the task runs on.
fn kept_guards<'p, 'a>(proposal: &'p Proposal<'a>, task: &Task, unit: usize) -> Vec<&'p Guard<'a>> {
    let roles: Vec<usize> = proposal
        .roles
        .iter()
        .enumerate()
        .filter(|(_, role)| task.groups.contains(*role))
        .map(|(at, _)| at)
        .collect();
    let truths = &proposal.truths[unit];
    proposal.monolith.units[unit]
        .guards
        .iter()
        .zip(truths)
        .filter(|(_, per_role)| !roles.iter().all(|&r| per_role[r] == Some(true)))
        .map(|(guard, _)| guard)
        .collect()
}

/// An `include` of a class that only orders or holds data, and the guards
/// it stands under.
type Include<'p, 'a> = (&'p str, Vec<&'p Guard<'a>>);

/// The includes of `task`'s classes that only order or hold data
/// (`orderer_guards`), in the order they are written.
fn orderer_includes<'p, 'a>(
    proposal: &'p Proposal<'a>,
    analysis: &Analysis,
    task: &'p Task,
) -> Vec<Include<'p, 'a>> {
    task.orderers
        .iter()
        .flat_map(|(class, units)| {
            orderer_guards(proposal, analysis, task, class, units)
                .into_iter()
                .map(move |guards| (class.as_str(), guards))
        })
        .collect()
}

/// The guards a class that only orders or holds data is included under in
/// `task`, one list per include: the guards of a unit `needing` it, each
/// joined with those of a unit of the monolith applying the class (units
/// alike guarded share one include, and one whose guards another's contain
/// needs none of its own). Where they fail, no unit needing it is applied,
/// or the monolith's catalog lacks the class (and what its collectors
/// order) too.
fn orderer_guards<'p, 'a>(
    proposal: &'p Proposal<'a>,
    analysis: &Analysis,
    task: &Task,
    class: &str,
    needing: &BTreeSet<usize>,
) -> Vec<Vec<&'p Guard<'a>>> {
    let files = &analysis.codebase.files;
    let within = |some: &[&Guard], all: &[&Guard]| {
        some.iter()
            .all(|guard| all.iter().any(|other| same_guard(files, guard, other)))
    };
    // Alternatives: each list holds at least one of them, the weakest kept.
    let add = |alternatives: &mut Vec<Vec<&'p Guard<'a>>>, guards: Vec<&'p Guard<'a>>| {
        if alternatives.iter().any(|other| within(other, &guards)) {
            return;
        }
        alternatives.retain(|other| !within(&guards, other));
        alternatives.push(guards);
    };
    let mut applying = Vec::new();
    for &unit in proposal.orderer_units.get(class).into_iter().flatten() {
        add(&mut applying, kept_guards(proposal, task, unit));
    }
    if applying.is_empty() {
        applying.push(Vec::new());
    }
    let mut alternatives = Vec::new();
    for &unit in needing {
        let needed = kept_guards(proposal, task, unit);
        for applied in &applying {
            let mut guards = needed.clone();
            for &guard in applied {
                if !within(&[guard], &guards) {
                    guards.push(guard);
                }
            }
            add(&mut alternatives, guards);
        }
    }
    if alternatives.is_empty() {
        alternatives = applying;
    }
    alternatives
}

/// Whether two guards test the same condition the same way in one scope
/// (one statement's branch, or another statement written alike: a scope's
/// variables do not change).
fn same_guard(files: &[SourceFile], a: &Guard, b: &Guard) -> bool {
    let file = &files[a.file];
    let same = |x: &Expr, y: &Expr| file.text(x.span) == file.text(y.span);
    let all_same = |xs: &[&Expr], ys: &[&Expr]| {
        xs.len() == ys.len() && xs.iter().zip(ys).all(|(x, y)| same(x, y))
    };
    a.file == b.file
        && a.scope == b.scope
        && match (&a.kind, &b.kind) {
            (
                GuardKind::If { test, holds },
                GuardKind::If {
                    test: other,
                    holds: same_holds,
                },
            ) => holds == same_holds && same(test, other),
            (
                GuardKind::Case {
                    test,
                    values,
                    earlier,
                    others,
                    default,
                },
                GuardKind::Case {
                    test: other,
                    values: other_values,
                    earlier: other_earlier,
                    others: other_others,
                    default: other_default,
                },
            ) => {
                default == other_default
                    && same(test, other)
                    && all_same(values, other_values)
                    && all_same(earlier, other_earlier)
                    && all_same(others, other_others)
            }
            _ => false,
        }
}

/// The shared statements a task copies: run stages, the resource defaults
/// and collectors of the scopes its units come from (and of the scopes
/// around those), the definitions its catalog uses.
fn copied_shared<'p, 'a>(
    proposal: &'p Proposal<'a>,
    analysis: &Analysis,
    task: &Task,
) -> Vec<&'p Shared<'a>> {
    let monolith = &proposal.monolith;
    let applied = task.applied();
    // A define written in an opened class's body, named by its short name
    // there (Puppet 3 finds it relative to the class): the copy defines it
    // under that name at the task's top scope.
    let nested: Vec<String> = applied
        .iter()
        .filter_map(|&u| {
            let unit = &monolith.units[u];
            let UnitKind::Instance { type_name, .. } = &unit.kind else {
                return None;
            };
            let class = monolith.scopes[unit.scope].class.as_deref()?;
            analysis.relative_define(type_name, &crate::model::Vertex::class(class))
        })
        .collect();
    let used: BTreeSet<&String> = applied
        .iter()
        .flat_map(|&u| &proposal.unit_holders[u])
        .chain(
            applied
                .iter()
                .filter_map(|&u| match &monolith.units[u].kind {
                    UnitKind::Class(name) => Some(name),
                    UnitKind::Instance { type_name, .. } => Some(type_name),
                    _ => None,
                }),
        )
        .chain(&nested)
        .collect();
    monolith
        .shared
        .iter()
        .filter(|shared| match &shared.kind {
            SharedKind::Stage => true,
            SharedKind::Definition(name) => used.contains(name),
            SharedKind::ScopeWide => match collector_at(proposal, analysis, shared) {
                // A collector goes wherever what it collects is declared.
                Some(collector) => collects_here(proposal, collector, &used, &applied),
                None => applied
                    .iter()
                    .any(|&u| monolith.within(monolith.units[u].scope, shared.scope)),
            },
        })
        .collect()
}

/// The collector a shared statement is, if it is one.
fn collector_at<'a>(
    proposal: &Proposal<'a>,
    analysis: &Analysis,
    shared: &units::Shared,
) -> Option<&'a crate::model::CollectorDeclaration> {
    if !matches!(shared.statement.kind, ExprKind::Collect { .. }) {
        return None;
    }
    let location = analysis.codebase.files[shared.file].location(shared.statement.span);
    proposal
        .semantic
        .analysis
        .collectors
        .iter()
        .find(|collector| collector.location == location)
}

/// Whether a collector acts in a task: only where the task declares a
/// resource it may collect (elsewhere it collects nothing, and what it did
/// in the monolith happens in the task declaring them).
fn collects_here(
    proposal: &Proposal,
    collector: &crate::model::CollectorDeclaration,
    used: &BTreeSet<&String>,
    applied: &[usize],
) -> bool {
    let semantic = proposal.semantic;
    let monolith = &proposal.monolith;
    semantic
        .collected(collector)
        .any(|(resource, _)| match &resource.holder {
            Vertex::Class { name } | Vertex::Type { name } => used.contains(name),
            _ => monolith
                .units_at(&resource.location)
                .any(|unit| applied.contains(&unit)),
        })
}

/// Why `task` applies each unit it borrows (by unit): the reference that
/// made it borrow the unit, with where it is written (`at`), or the
/// borrowed unit whose task the unit is joined to.
fn borrow_reasons(
    proposal: &Proposal,
    task: &Task,
    at: impl Fn(&crate::model::Location) -> String,
) -> BTreeMap<usize, String> {
    let direct: Vec<&super::Borrow> = proposal
        .borrows
        .iter()
        .filter(|borrow| task.units.contains(&borrow.by) && task.borrowed.contains(&borrow.unit))
        .collect();
    let mut reasons = BTreeMap::new();
    for borrow in &direct {
        reasons
            .entry(borrow.unit)
            .or_insert_with(|| format!("{} ({})", borrow.reason, at(&borrow.location)));
    }
    let home_of: FastMap<usize, &Task> = proposal
        .tasks
        .iter()
        .flat_map(|home| home.units.iter().map(move |&unit| (unit, home)))
        .collect();
    for &unit in &task.borrowed {
        if reasons.contains_key(&unit) {
            continue;
        }
        let Some(home) = home_of.get(&unit) else {
            continue;
        };
        if let Some(borrow) = direct.iter().find(|b| home.units.contains(&b.unit)) {
            let joined = proposal.monolith.units[borrow.unit].label();
            reasons.insert(unit, format!("task `{}` joins it to {joined}", home.id));
        }
    }
    reasons
}

/// A manifest that applies the task's units: the data it reads, the
/// shared statements it needs, then each unit under the guards it keeps,
/// and the relationships between what it holds.
fn task_manifest(
    proposal: &Proposal,
    analysis: &Analysis,
    sources: &Sources,
    task: &Task,
    reads: &[DataVariable],
    includes: &[Include],
    shared: &[&Shared],
) -> String {
    let monolith = &proposal.monolith;
    let files = &analysis.codebase.files;
    let mut out = String::new();
    header(&mut out, task, &format!("Roles: {}.", join(&task.groups)));
    out.push_str("# It contains:\n");
    let item = |index: usize| {
        let unit = &monolith.units[index];
        format!("{} ({})", unit.label(), sources.at(&unit.location))
    };
    for &index in &task.units {
        comment_indented(&mut out, 2, 6, &sources.text(&item(index)));
    }
    if !task.borrowed.is_empty() {
        out.push_str("# It also applies, because its code refers to what they declare:\n");
        let reasons = borrow_reasons(proposal, task, |location| sources.at(location));
        // Copies of one statement (a class opened twice) borrowed for one
        // reason read alike: listed once.
        let mut listed = FastSet::default();
        for &index in &task.borrowed {
            let (what, reason) = (item(index), reasons.get(&index));
            if !listed.insert((what.clone(), reason)) {
                continue;
            }
            comment_indented(&mut out, 2, 6, &sources.text(&what));
            if let Some(reason) = reason {
                comment_indented(&mut out, 4, 4, &sources.text(reason));
            }
        }
    }
    out.push('\n');
    let names = render::task_names(proposal, reads);
    let name_of = |variable: &DataVariable| {
        names
            .get(variable)
            .cloned()
            .unwrap_or_else(|| variable.1.clone())
    };
    if !names.is_empty() {
        out.push_str("# The monolith's data, from the globals task.\n");
        // A class opened in several places (each branch declaring it) has
        // one name and one key for each of its variables.
        let mut assigned = BTreeSet::new();
        for (variable, local) in &names {
            if monolith.bound.contains_key(variable) {
                continue;
            }
            if assigned.insert(local) {
                let key = render::data_key(monolith, variable);
                let _ = writeln!(out, "${local} = {}", lookup(&key, proposal.target));
            }
        }
        out.push('\n');
    }
    push_data_includes(
        &mut out,
        "this task's code reads",
        &data_classes_of_task(proposal, analysis, task, shared, reads),
    );
    // Class-bound data (`Monolith::bound`) goes right before the first unit
    // reading it, after the units declaring its classes, as the monolith
    // evaluates them first; what the statements written before the units
    // read (resource defaults, the guards of includes) goes before those.
    let mut early_reads = Vec::new();
    data_read_before_units(monolith, includes, shared, &mut early_reads);
    let early = render::bound_closure(monolith, &early_reads);
    push_bound_data(&mut out, proposal, files, sources, &early, &name_of);
    let mut computed: Vec<DataVariable> = early;
    let mut bound_left: Vec<DataVariable> = reads
        .iter()
        .filter(|variable| monolith.bound.contains_key(*variable) && !computed.contains(variable))
        .cloned()
        .collect();
    if !includes.is_empty() {
        out.push_str(
            "# Classes that only order or hold data: their collectors order what this task\n\
             # declares, or its code refers to what they declare.\n",
        );
        for (class, guards) in includes {
            let guards: Vec<String> = guards
                .iter()
                .map(|g| render::render_guard(monolith, files, g, &name_of))
                .collect();
            push_text(&mut out, &format!("include {class}"), &guards);
        }
        out.push('\n');
    }
    let push_shared = |out: &mut String, shared: &Shared| {
        let file = &files[shared.file];
        let from = sources.at(&file.location(shared.statement.span));
        let what = sources.text(&shared.what);
        comment(out, &format!("Copied from {from}: {what}."));
        let guards: Vec<String> = shared
            .guards
            .iter()
            .map(|g| render::render_guard(monolith, files, g, &name_of))
            .collect();
        let text = render::render(monolith, file, shared.statement, shared.scope, &name_of);
        push_statement(out, file, shared.statement.span, &text, &guards);
        out.push('\n');
    };
    // Resource defaults apply to what is declared after them (Puppet 4 and
    // later; Puppet 3 to all the scope declares) and read their values
    // where they stand: each goes before the first unit following it.
    let (mut defaults, anywhere): (Vec<&Shared>, Vec<&Shared>) = shared
        .iter()
        .partition(|shared| matches!(shared.statement.kind, ExprKind::ResourceDefaults { .. }));
    for shared in anywhere {
        push_shared(&mut out, shared);
    }
    defaults.sort_by_key(|shared| shared.order);
    let mut defaults = defaults.into_iter().peekable();
    let mut staged: BTreeMap<String, String> = BTreeMap::new();
    let (unguarded, repeated) = role_twins(proposal, task, |index| {
        let unit = &monolith.units[index];
        let file = &files[unit.file];
        render::render(monolith, file, unit.statement, unit.scope, &name_of)
    });
    for index in task.applied() {
        if repeated.contains(&index) {
            continue;
        }
        let unit = &monolith.units[index];
        let file = &files[unit.file];
        while let Some(shared) = defaults.next_if(|shared| shared.order < unit.order) {
            push_shared(&mut out, shared);
        }
        if !bound_left.is_empty() {
            let mut read = Vec::new();
            unit_data_read(proposal, task, index, &mut read);
            let needed: Vec<DataVariable> = render::bound_closure(monolith, &read)
                .into_iter()
                .filter(|variable| !computed.contains(variable))
                .collect();
            push_bound_data(&mut out, proposal, files, sources, &needed, &name_of);
            bound_left.retain(|variable| !needed.contains(variable));
            computed.extend(needed);
        }
        let guards: Vec<String> = kept_guards(proposal, task, index)
            .into_iter()
            .filter(|_| !unguarded.contains(&index))
            .map(|g| render::render_guard(monolith, files, g, &name_of))
            .collect();
        let mut text = String::new();
        let _ = writeln!(text, "# From {}", sources.at(&unit.location));
        push_leading_comments(&mut text, file, unit.span());
        let parts = if task.detached.contains(&index) {
            declarations(unit.statement)
        } else {
            vec![unit.statement]
        };
        for part in parts {
            let dropped = render::stripped_attributes(file, part, &task.stripped);
            let rendered =
                render::render_without(monolith, file, part, unit.scope, &name_of, &dropped);
            push_statement(&mut text, file, part.span, &rendered, &guards);
        }
        text.push('\n');
        match (&unit.stage, unit.inherits_stage) {
            (Some(stage), true) => staged.entry(stage.clone()).or_default().push_str(&text),
            _ => out.push_str(&text),
        }
    }
    for shared in defaults {
        push_shared(&mut out, shared);
    }
    // Read by none of the units (by relationships, written after them).
    push_bound_data(&mut out, proposal, files, sources, &bound_left, &name_of);
    for (stage, body) in staged {
        // The statements of a class opened in a run stage stay in it: a
        // class of their own, declared in that stage.
        let class = format!(
            "granule_{}_{}",
            task.id.replace('-', "_"),
            stage.replace(['-', ':'], "_")
        );
        let _ = writeln!(
            out,
            "# What the opened classes declared in run stage {stage}."
        );
        let _ = writeln!(out, "class {class} {{");
        for line in body.lines() {
            if line.is_empty() {
                out.push('\n');
            } else {
                let _ = writeln!(out, "  {line}");
            }
        }
        let _ = writeln!(out, "}}\nclass {{ '{class}':\n  stage => '{stage}',\n}}\n");
    }
    for &index in &task.relationships {
        let relationship = &monolith.relationships[index];
        let file = &files[relationship.file];
        let guards: Vec<String> = relationship
            .guards
            .iter()
            .map(|g| render::render_guard(monolith, files, g, &name_of))
            .collect();
        let _ = writeln!(out, "# From {}", sources.at(&relationship.location));
        let text = render::render(
            monolith,
            file,
            relationship.statement,
            relationship.scope,
            &name_of,
        );
        push_statement(&mut out, file, relationship.span(), &text, &guards);
        out.push('\n');
    }
    trim_end(out)
}

/// The same statement written for several roles (`include profile::base`
/// in each role's class) where, on every role the task runs on, one of
/// them surely runs: written once, without guards (the first of each such
/// set), and the others not at all.
fn role_twins(
    proposal: &Proposal,
    task: &Task,
    rendered: impl Fn(usize) -> String,
) -> (BTreeSet<usize>, BTreeSet<usize>) {
    let roles: Vec<usize> = (0..proposal.roles.len())
        .filter(|&r| task.groups.contains(&proposal.roles[r]))
        .collect();
    let mut alike: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for &index in &task.units {
        let unit = &proposal.monolith.units[index];
        if matches!(unit.kind, UnitKind::Class(_)) && !task.detached.contains(&index) {
            alike.entry(rendered(index)).or_default().push(index);
        }
    }
    let surely_on = |unit: usize, role: usize| {
        proposal.truths[unit]
            .iter()
            .all(|per_role| per_role[role] == Some(true))
    };
    let (mut unguarded, mut repeated) = (BTreeSet::new(), BTreeSet::new());
    for twins in alike.values().filter(|twins| twins.len() > 1) {
        if roles
            .iter()
            .all(|&role| twins.iter().any(|&unit| surely_on(unit, role)))
        {
            unguarded.insert(twins[0]);
            repeated.extend(twins[1..].iter().copied());
        }
    }
    (unguarded, repeated)
}

/// The resource declarations of a chain of relationships, without its
/// references (which another task declares: task order carries them).
fn declarations(statement: &Expr) -> Vec<&Expr> {
    match &statement.kind {
        ExprKind::Binary { left, right, .. } => {
            let mut parts = declarations(left);
            parts.extend(declarations(right));
            parts
        }
        ExprKind::Resource { .. } => vec![statement],
        _ => Vec::new(),
    }
}

/// The globals task: the data of every walked scope (the top scope's
/// assignments, an entry class's parameters, each opened class's
/// parameters bound to its declaration's arguments and its assignments),
/// evaluated in order and written as JSON for Hiera.
fn globals_manifest(proposal: &Proposal, analysis: &Analysis, sources: &Sources) -> String {
    let task = proposal.task(GLOBALS).expect("the globals task");
    let monolith = &proposal.monolith;
    let files = &analysis.codebase.files;
    let mut out = String::new();
    header(
        &mut out,
        task,
        "Evaluates the monolith's data and writes it where the hiera task points Hiera.",
    );
    out.push('\n');
    if proposal.target == Target::Puppet7 {
        out.push_str(JSON_FUNCTION);
        out.push('\n');
    }
    let name_of = |variable: &DataVariable| render::global_name(monolith, variable);
    push_data_includes(
        &mut out,
        "the data reads",
        &data_classes_read(proposal, analysis),
    );
    let mut data = GlobalData {
        proposal,
        files,
        sources,
        name_of: &name_of,
        written: Vec::new(),
        assigned: FastSet::default(),
    };
    for (index, scope) in monolith.scopes.iter().enumerate() {
        if scope.parent.is_none() {
            data.push_scope(&mut out, index);
        }
    }
    let mut written = data.written;
    out.push_str("\n$granule_globals = {\n");
    let mut keys = BTreeSet::new();
    written.retain(|variable| keys.insert(render::data_key(monolith, variable)));
    for variable in &written {
        let _ = writeln!(
            out,
            "  '{}' => ${},",
            render::data_key(monolith, variable),
            name_of(variable)
        );
    }
    out.push_str("}\n\n");
    let content = match proposal.target {
        Target::Puppet7 => "\"${granule_json($granule_globals)}\\n\"",
        // Puppet 3 has no functions in its language: Ruby's JSON, through
        // inline_template, which Puppet 3 has.
        Target::Puppet3 => {
            "inline_template(\"<%= require 'json'; JSON.generate(@granule_globals) %>\\n\")"
        }
    };
    out.push_str("file { \"${settings::confdir}/granule\":\n  ensure => directory,\n}\n\n");
    let _ = writeln!(
        out,
        "file {{ \"${{settings::confdir}}/granule/globals.json\":\n  ensure  => file,\n  mode    => '0600',\n  content => {content},\n}}"
    );
    out
}

/// A parameter's value as the monolith gives it: its declaration's
/// argument, else Hiera's (Puppet's automatic parameter lookup, for the
/// entry class's and an opened class's alike), else its default.
fn param_value(
    proposal: &Proposal,
    files: &[SourceFile],
    (index, param): &DataVariable,
    name_of: &dyn Fn(&DataVariable) -> String,
) -> String {
    let monolith = &proposal.monolith;
    let scope = &monolith.scopes[*index];
    // A parameter written twice (Puppet 3 accepts it): the last default
    // holds, as in the hash Puppet 3 keeps them in.
    let default = scope
        .params
        .iter()
        .rev()
        .find(|(p, _)| p == param)
        .and_then(|(_, default)| *default);
    match (scope.args.iter().find(|(a, _)| a == param), scope.parent) {
        (Some((_, arg)), Some(parent)) => {
            let file = &files[monolith.scopes[parent].file];
            render::render(monolith, file, arg, parent, name_of)
        }
        _ => {
            // A default reading the parameter's own name reads the variable
            // of the scope around the class (Puppet 3's `$x = $x`).
            let outer = |variable: &DataVariable| -> String {
                if variable.0 != *index || variable.1 != *param {
                    return name_of(variable);
                }
                match scope
                    .parent
                    .and_then(|parent| super::eval::resolve_variable(monolith, param, parent))
                {
                    Some((at, name)) if render::is_data(monolith, at, name) => {
                        name_of(&(at, name.to_string()))
                    }
                    _ => param.clone(),
                }
            };
            let default =
                default.map(|d| render::render(monolith, &files[scope.file], d, *index, &outer));
            match &scope.class {
                Some(class) => parameter_lookup(
                    &format!("{class}::{param}"),
                    default.as_deref(),
                    proposal.target,
                ),
                None => default.unwrap_or_else(|| "undef".to_string()),
            }
        }
    }
}

/// What a scope's data goes on with: an assignment, or the data of a
/// class it opens (by scope index).
enum DataStep<'a> {
    Assign(&'a units::Assignment<'a>),
    Open(usize),
}

/// The data the globals task writes, scope by scope.
struct GlobalData<'p> {
    proposal: &'p Proposal<'p>,
    files: &'p [SourceFile],
    sources: &'p Sources,
    name_of: &'p dyn Fn(&DataVariable) -> String,
    /// The variables written, in order.
    written: Vec<DataVariable>,
    /// A class opened in several places under the same guards (in the
    /// class of each role given as an entry) sets its data once: Puppet
    /// refuses a variable assigned twice.
    assigned: FastSet<(String, Vec<String>)>,
}

impl GlobalData<'_> {
    /// A scope's parameters, then its assignments and the data of the
    /// classes it opens in the order Puppet evaluates them: a class's
    /// where it is declared (`include x::params` before what reads it).
    fn push_scope(&mut self, out: &mut String, index: usize) {
        let monolith = &self.proposal.monolith;
        let scope = &monolith.scopes[index];
        if let Some(class) = &scope.class {
            if index != 0 || scope.declared_at.is_some() {
                let _ = writeln!(out, "# The data of class {class}.");
            }
        }
        for (param, _) in &scope.params {
            let variable = (index, param.clone());
            if monolith.bound.contains_key(&variable) {
                continue;
            }
            let local = (self.name_of)(&variable);
            let value = param_value(self.proposal, self.files, &variable, self.name_of);
            let guards = self.guards(&scope.guards);
            let statement = format!("${local} = {value}");
            if self.assigned.insert((statement.clone(), guards.clone())) {
                push_text(out, &statement, &guards);
            }
            if !self.written.contains(&variable) {
                self.written.push(variable);
            }
        }
        let mut steps: Vec<(usize, DataStep)> = monolith
            .assignments()
            .iter()
            .filter(|a| a.scope == index && !monolith.bound.contains_key(&(index, a.name.clone())))
            .map(|a| (a.order, DataStep::Assign(a)))
            .collect();
        steps.extend(
            monolith
                .scopes
                .iter()
                .enumerate()
                .filter(|(_, child)| child.parent == Some(index))
                .map(|(child, opened)| (opened.order, DataStep::Open(child))),
        );
        steps.sort_by_key(|(order, _)| *order);
        for (_, step) in steps {
            match step {
                DataStep::Assign(assignment) => self.push_assignment(out, index, assignment),
                DataStep::Open(child) => self.push_scope(out, child),
            }
        }
    }

    fn push_assignment(&mut self, out: &mut String, index: usize, assignment: &units::Assignment) {
        let monolith = &self.proposal.monolith;
        let file = &self.files[assignment.file];
        let guards = self.guards(&assignment.guards);
        let text = render::render(monolith, file, assignment.statement, index, self.name_of);
        if self.assigned.insert((text.clone(), guards.clone())) {
            let location = file.location(assignment.statement.span);
            let _ = writeln!(out, "# From {}", self.sources.at(&location));
            push_leading_comments(out, file, assignment.statement.span);
            push_statement(out, file, assignment.statement.span, &text, &guards);
        }
        let variable = (index, assignment.name.clone());
        if !self.written.contains(&variable) {
            self.written.push(variable);
        }
    }

    fn guards(&self, guards: &[Guard]) -> Vec<String> {
        guards
            .iter()
            .map(|g| render::render_guard(&self.proposal.monolith, self.files, g, self.name_of))
            .collect()
    }
}

/// Writes the definitions of class-bound data (`Monolith::bound`) a task
/// computes itself, as the `globals` task writes the others: an
/// assignment as copied, a parameter as its value.
fn push_bound_data(
    out: &mut String,
    proposal: &Proposal,
    files: &[SourceFile],
    sources: &Sources,
    variables: &[DataVariable],
    name_of: &dyn Fn(&DataVariable) -> String,
) {
    let monolith = &proposal.monolith;
    // Definition by definition as the globals task evaluates them: one
    // variable's may come before and after another's it reads.
    let mut definitions: Vec<(DataVariable, render::Definition)> = variables
        .iter()
        .flat_map(|variable| {
            render::definitions(monolith, variable)
                .into_iter()
                .map(move |definition| (variable.clone(), definition))
        })
        .collect();
    definitions.sort_by_key(|(_, definition)| definition.rank);
    for (variable, definition) in &definitions {
        let guards: Vec<String> = definition
            .guards
            .iter()
            .map(|g| render::render_guard(monolith, files, g, name_of))
            .collect();
        let file = &files[definition.file];
        let location = file.location(definition.expr.span);
        let _ = writeln!(
            out,
            "# From {}: data computed after the classes it reads.",
            sources.at(&location)
        );
        if definition.param {
            let statement = format!(
                "${} = {}",
                name_of(variable),
                param_value(proposal, files, variable, name_of)
            );
            push_text(out, &statement, &guards);
        } else {
            let text = render::render(monolith, file, definition.expr, definition.scope, name_of);
            push_statement(out, file, definition.expr.span, &text, &guards);
        }
        out.push('\n');
    }
}

/// The includes of the classes holding data only whose variables `reader`
/// reads, first in a manifest.
fn push_data_includes(out: &mut String, reader: &str, classes: &[String]) {
    if classes.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "# The classes whose variables {reader} (they hold data only)."
    );
    for class in classes {
        let _ = writeln!(out, "include {class}");
    }
    out.push('\n');
}

/// The classes holding data only (a module's `params`) whose variables the
/// `globals` task's data reads.
fn data_classes_read(proposal: &Proposal, analysis: &Analysis) -> Vec<String> {
    let monolith = &proposal.monolith;
    let mut exprs: Vec<&Expr> = Vec::new();
    for scope in &monolith.scopes {
        exprs.extend(scope.params.iter().filter_map(|(_, default)| *default));
        exprs.extend(scope.args.iter().map(|(_, arg)| *arg));
        exprs.extend(scope.guards.iter().flat_map(Guard::exprs));
    }
    for assignment in monolith.assignments() {
        exprs.push(assignment.statement);
        exprs.extend(assignment.guards.iter().flat_map(Guard::exprs));
    }
    data_classes(proposal, analysis, exprs)
}

/// The classes holding data only (a module's `params`) whose variables
/// `task`'s copied code (statements and the guards they stand under) reads
/// by qualified name, and nothing it applies or includes declares.
fn data_classes_of_task(
    proposal: &Proposal,
    analysis: &Analysis,
    task: &Task,
    shared: &[&Shared],
    reads: &[DataVariable],
) -> Vec<String> {
    let monolith = &proposal.monolith;
    let mut exprs: Vec<&Expr> = Vec::new();
    for variable in reads.iter().filter(|v| monolith.bound.contains_key(*v)) {
        for definition in render::definitions(monolith, variable) {
            exprs.push(definition.value);
            exprs.extend(definition.guards.iter().flat_map(Guard::exprs));
        }
    }
    for index in task.applied() {
        exprs.push(monolith.units[index].statement);
        exprs.extend(
            kept_guards(proposal, task, index)
                .into_iter()
                .flat_map(Guard::exprs),
        );
    }
    for shared in shared {
        exprs.push(shared.statement);
        exprs.extend(shared.guards.iter().flat_map(Guard::exprs));
    }
    for &index in &task.relationships {
        let relationship = &monolith.relationships[index];
        exprs.push(relationship.statement);
        exprs.extend(relationship.guards.iter().flat_map(Guard::exprs));
    }
    let mut classes = data_classes(proposal, analysis, exprs);
    // One the task applies, or includes for its units, declares it where
    // the monolith does, under their guards (module code's `include
    // x::params` before the read).
    let applied = task.applied();
    classes.retain(|class| {
        !task.orderers.contains_key(class)
            && !applied
                .iter()
                .any(|&index| proposal.unit_holders[index].contains(class))
    });
    classes
}

/// Of the classes `exprs` read variables of, those holding data only. A
/// manifest declares them first, unguarded, as the monolith has evaluated
/// them by then (a class opened or copied from reads them in its
/// parameters' defaults or its conditions; one inheriting its `params`
/// class has none declaring it): declaring one changes nothing on the node.
/// A class that declares more is left to `--verify` to report: applying it
/// there would change where it is first applied.
fn data_classes<'e>(
    proposal: &Proposal,
    analysis: &Analysis,
    exprs: impl IntoIterator<Item = &'e Expr>,
) -> Vec<String> {
    let mut read = Vec::new();
    for expr in exprs {
        render::classes_read(&proposal.monolith, expr, &mut read);
    }
    read.retain(|class| analysis.has_class(class) && proposal.semantic.holds_data_only(class));
    read
}

/// A class parameter its declaration does not give, from Hiera as Puppet's
/// automatic parameter lookup gives it, else its default.
fn parameter_lookup(key: &str, default: Option<&str>, target: Target) -> String {
    match (target, default) {
        (Target::Puppet7, Some(default)) => {
            format!("lookup('{key}', {{ 'default_value' => {default} }})")
        }
        (Target::Puppet7, None) => format!("lookup('{key}')"),
        (Target::Puppet3, Some(default)) => format!("hiera('{key}', {default})"),
        (Target::Puppet3, None) => format!("hiera('{key}')"),
    }
}

/// The hiera task: the global Hiera configuration of the node's Puppet
/// (`$confdir/hiera.yaml`) gets the file the globals task writes as its
/// first level, and keeps the levels it has (the deployment's own data).
/// Written in Ruby (`inline_template`, as Puppet 3 and 7 both have it): the
/// Puppet language cannot read YAML without stdlib.
fn hiera_manifest(proposal: &Proposal) -> String {
    let task = proposal.task(HIERA).expect("the hiera task");
    let mut out = String::new();
    header(
        &mut out,
        task,
        "Adds the data the globals task wrote to the global Hiera configuration of this Puppet\n\
         ($confdir/hiera.yaml), as its first level, and keeps the levels it has.",
    );
    out.push('\n');
    let update = match proposal.target {
        Target::Puppet7 => HIERA_5_UPDATE,
        Target::Puppet3 => HIERA_1_UPDATE,
    };
    let template = format!("{HIERA_READ}{update}{HIERA_WRITE}");
    let _ = write!(
        out,
        "$granule_confdir = $settings::confdir\n\n\
         file {{ \"${{granule_confdir}}/hiera.yaml\":\n  \
         ensure  => file,\n  \
         content => inline_template('{template}'),\n}}\n"
    );
    out
}

/// The start of both templates: the configuration the node has (its
/// YAML read with Ruby's, `{}` where there is none), as `config`. No single
/// quote in a template: it is a single-quoted Puppet string.
const HIERA_READ: &str = r##"<%-
  require "yaml"
  path = File.join(@granule_confdir, "hiera.yaml")
  read = YAML.respond_to?(:unsafe_load_file) ? :unsafe_load_file : :load_file
  config = File.exist?(path) ? YAML.send(read, path) : nil
  config = {} unless config.is_a?(Hash)
"##;

/// The end of both templates: `config` written back.
const HIERA_WRITE: &str = r##"-%>
<%= config.to_yaml -%>
"##;

/// The global Hiera 5 configuration with granule's level first.
const HIERA_5_UPDATE: &str = r##"  unless config.empty? || config["version"] == 5
    raise "#{path} is not Hiera 5: add to its hierarchy the level granule globals " +
      "(path granule/globals.json, datadir #{@granule_confdir}, data_hash json_data)"
  end
  ours = { "name" => "granule globals", "path" => "granule/globals.json",
           "datadir" => @granule_confdir, "data_hash" => "json_data" }
  theirs = Array(config["hierarchy"]).reject { |level| level.is_a?(Hash) && level["name"] == ours["name"] }
  config["version"] = 5
  config["hierarchy"] = [ours] + theirs
"##;

/// The global Hiera 1 configuration (Puppet 3) with granule's level first,
/// through the json backend (Hiera 1 has one data directory per backend).
const HIERA_1_UPDATE: &str = r##"  json = config[:json].is_a?(Hash) ? config[:json] : {}
  if json[:datadir] && json[:datadir] != @granule_confdir
    raise "#{path} reads json data from #{json[:datadir]}: move granule/globals.json " +
      "from #{@granule_confdir} there and add granule/globals to its hierarchy"
  end
  config[:backends] = Array(config[:backends]) | ["json"]
  config[:json] = json.merge(:datadir => @granule_confdir)
  config[:hierarchy] = ["granule/globals"] + (Array(config[:hierarchy]) - ["granule/globals"])
"##;

/// A recursive JSON encoder in the Puppet language (Puppet 7 has none
/// built in; stdlib's may be missing from the module path).
const JSON_FUNCTION: &str = r#"function granule_json($value) >> String {
  case $value {
    Hash: { "{${value.map |$k, $v| { "${granule_json(String($k))}: ${granule_json($v)}" }.join(', ')}}" }
    Array: { "[${value.map |$v| { granule_json($v) }.join(', ')}]" }
    String: {
      $quoted = $value.regsubst('\\\\', '\\\\\\\\', 'G').regsubst('"', '\\"', 'G')
      $escaped = $quoted.regsubst('\n', '\\n', 'G').regsubst('\t', '\\t', 'G').regsubst('\r', '\\r', 'G')
      "\"${escaped}\""
    }
    Undef: { 'null' }
    Boolean, Numeric: { String($value) }
    default: { granule_json(String($value)) }
  }
}
"#;

fn lookup(key: &str, target: Target) -> String {
    match target {
        Target::Puppet7 => format!("lookup('{key}', {{ 'default_value' => undef }})"),
        Target::Puppet3 => format!("hiera('{key}', undef)"),
    }
}

/// The comment lines right above a statement.
fn push_leading_comments(out: &mut String, file: &SourceFile, span: Span) {
    let before = &file.source[..span.start as usize];
    let line_start = before.rfind('\n').map_or(0, |n| n + 1);
    if !before[line_start..].trim().is_empty() {
        return;
    }
    let mut comments: Vec<&str> = Vec::new();
    for line in before[..line_start].lines().rev() {
        let trimmed = line.trim();
        if trimmed.starts_with('#') {
            comments.push(trimmed);
        } else {
            break;
        }
    }
    for comment in comments.into_iter().rev() {
        let _ = writeln!(out, "{comment}");
    }
}

/// A statement's text (its own comments included; `text` is its source
/// as rendered for the task), under its guards, each line of a multi-line
/// statement dedented by the statement's column.
fn push_statement(out: &mut String, file: &SourceFile, span: Span, text: &str, guards: &[String]) {
    let start = span.start as usize;
    let column = start - file.source[..start].rfind('\n').map_or(0, |n| n + 1);
    push_code(out, text, column, guards);
}

/// Generated or copied text under guards.
fn push_text(out: &mut String, text: &str, guards: &[String]) {
    push_code(out, text, 0, guards);
}

/// Code under guards, indented inside them, each line after the first
/// dedented by `column` blanks. A line that begins inside a string or a
/// heredoc is written as it is: its blanks are part of the value (a file's
/// `content`), and so is what a heredoc's margin strips.
fn push_code(out: &mut String, text: &str, column: usize, guards: &[String]) {
    let indent = if guards.is_empty() { "" } else { "  " };
    if !guards.is_empty() {
        let _ = writeln!(out, "if {} {{", guards.join(" and "));
    }
    let text = text.strip_suffix('\n').unwrap_or(text);
    let verbatim = lines_in_strings(text);
    for (number, line) in text.split('\n').enumerate() {
        let kept = match &*verbatim {
            Some(inside) => inside.contains(&number),
            None => number > 0,
        };
        if kept {
            out.push_str(line);
            out.push('\n');
        } else if line.trim().is_empty() {
            out.push('\n');
        } else {
            let line = if number == 0 {
                line
            } else {
                dedent(line, column)
            };
            let _ = writeln!(out, "{indent}{}", line.trim_end());
        }
    }
    if !guards.is_empty() {
        out.push_str("}\n");
    }
}

/// What [`lines_in_strings`] finds of a text, shared.
type LinesInStrings = Rc<Option<BTreeSet<usize>>>;

/// The numbers of the lines of `text` that begin inside a string or a
/// heredoc (the lines of a heredoc's text and its end tag); None when the
/// text does not lex, so that no line of it can be told safe to move.
fn lines_in_strings(text: &str) -> LinesInStrings {
    // Lexed once per text and thread: a unit many tasks apply is written
    // into each of their manifests.
    thread_local! {
        static LEXED: RefCell<FastMap<Box<str>, LinesInStrings>> =
            RefCell::default();
    }
    if !text.contains('\n') || !text.contains(['\'', '"', '@']) {
        return Rc::new(Some(BTreeSet::new()));
    }
    if let Some(known) = LEXED.with(|lexed| lexed.borrow().get(text).cloned()) {
        return known;
    }
    let lines = Rc::new(lexed_lines_in_strings(text));
    LEXED.with(|lexed| lexed.borrow_mut().insert(text.into(), lines.clone()));
    lines
}

/// [`lines_in_strings`] for a text of several lines and quotes, lexed.
fn lexed_lines_in_strings(text: &str) -> Option<BTreeSet<usize>> {
    let tokens = granule_parser::lexer::tokenize(text).ok()?;
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(text.match_indices('\n').map(|(at, _)| at + 1))
        .collect();
    let line_at = |offset: usize| line_starts.partition_point(|&start| start <= offset) - 1;
    let mut inside = BTreeSet::new();
    let mut tokens = tokens.iter();
    while let Some(token) = tokens.next() {
        let span = (token.span.start as usize, token.span.end as usize);
        match token.kind {
            Tok::String | Tok::DqPre | Tok::DqMid | Tok::DqPost => {
                // Lines starting strictly inside the quotes.
                inside.extend(line_at(span.0) + 1..=line_at(span.1.saturating_sub(1)));
            }
            Tok::Heredoc => {
                // Its text follows it in token order; the end tag's line
                // goes with the text, as the margin it sets is measured
                // against the text's lines.
                let mut text_span: Option<(usize, usize)> = None;
                for part in tokens.by_ref() {
                    let part_span = (part.span.start as usize, part.span.end as usize);
                    if matches!(
                        part.kind,
                        Tok::String | Tok::DqPre | Tok::DqMid | Tok::DqPost
                    ) {
                        let (start, _) = text_span.unwrap_or(part_span);
                        text_span = Some((start, part_span.1));
                    }
                    if matches!(part.kind, Tok::String | Tok::DqPost) {
                        break;
                    }
                }
                if let Some((start, end)) = text_span {
                    let end_tag = line_starts.partition_point(|&at| at < end);
                    inside.extend(line_at(start)..=end_tag.min(line_starts.len() - 1));
                }
            }
            _ => {}
        }
    }
    Some(inside)
}

/// `line` without up to `columns` leading blanks.
fn dedent(line: &str, columns: usize) -> &str {
    let blanks = line.len() - line.trim_start_matches([' ', '\t']).len();
    &line[blanks.min(columns)..]
}

fn trim_end(mut text: String) -> String {
    while text.ends_with("\n\n") {
        text.pop();
    }
    text
}

fn join(items: &BTreeSet<String>) -> String {
    items.iter().cloned().collect::<Vec<_>>().join(", ")
}

/// The pre-test: every Hiera key the task reads is in the globals file.
fn pre_test(task: &Task, keys: &[String]) -> String {
    let mut out = String::from("#!/bin/sh\n");
    let _ = writeln!(
        out,
        "# granule split: pre-test of task `{}`: the data it reads is there.",
        task.id
    );
    out.push_str(
        "# GRANULE_PUPPET_CONFDIR names the confdir Puppet runs with (default: puppet's own).\n",
    );
    out.push_str("set -u\n");
    if keys.is_empty() {
        out.push_str("# The task reads no data of the monolith.\nexit 0\n");
        return out;
    }
    out.push_str(
        "confdir=\"${GRANULE_PUPPET_CONFDIR:-$(puppet config print confdir 2>/dev/null)}\"\n",
    );
    out.push_str("data=\"$confdir/granule/globals.json\"\n");
    let _ = writeln!(
        out,
        "[ -f \"$data\" ] || {{ echo \"pre-test of {}: $data is missing: run the globals and hiera tasks first\" >&2; exit 1; }}",
        task.id
    );
    let _ = writeln!(
        out,
        "for key in {}; do",
        keys.iter()
            .map(|k| format!("'{k}'"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let _ = writeln!(
        out,
        "  grep -q \"\\\"$key\\\": \" \"$data\" || {{ echo \"pre-test of {}: no value for $key in $data\" >&2; exit 1; }}",
        task.id
    );
    out.push_str("done\n");
    out
}

/// The post-test: `puppet resource` shows the task's packages, services
/// and files (those with literal titles) in the state declared.
fn post_test(proposal: &Proposal, task: &Task, checks: &PostChecks) -> String {
    let mut out = String::from("#!/bin/sh\n");
    let _ = writeln!(
        out,
        "# granule split: post-test of task `{}`: its packages, services and files are in the declared state.",
        task.id
    );
    out.push_str("set -u\nfailed=0\n");
    out.push_str("check() {\n  puppet resource \"$1\" \"$2\" 2>/dev/null | grep -Eq \"ensure +=> +'($3)'\" || { echo \"post-test: $1[$2] is not $3\" >&2; failed=1; }\n}\n");
    let checks = checks.of_task(proposal, task);
    if checks.is_empty() {
        out.push_str("# Nothing with a literal title and a declared state to check.\n");
    }
    for (type_name, title, states) in checks {
        let _ = writeln!(
            out,
            "check {type_name} '{}' '{states}'",
            title.replace('\'', "'\\''")
        );
    }
    out.push_str("exit $failed\n");
    out
}

/// `(type, title, accepted ensure values)` for the literal packages,
/// services and files of each class whose `ensure` is declared literally:
/// what a task's post-test checks of the classes it declares directly.
struct PostChecks<'a> {
    by_class: FastMap<&'a str, Vec<(&'a str, &'a str, &'a str)>>,
}

impl<'a> PostChecks<'a> {
    fn of(analysis: &'a Analysis) -> PostChecks<'a> {
        let mut by_class: FastMap<&str, Vec<(&str, &str, &str)>> = FastMap::default();
        for resource in &analysis.resources {
            let (Vertex::Class { name }, Some(title)) = (&resource.holder, &resource.title) else {
                continue;
            };
            let type_name = resource.type_name.as_str();
            if resource.is_virtual || !matches!(type_name, "package" | "service" | "file") {
                continue;
            }
            let ensure = resource
                .attributes
                .iter()
                .rev()
                .find_map(|(name, value)| match value {
                    AttributeValue::Text(text) if name == "ensure" => Some(text.as_str()),
                    _ => None,
                });
            let Some(ensure) = ensure else {
                continue;
            };
            let states = match (type_name, ensure) {
                ("file", "present") => "file|directory|link",
                ("file", "file" | "directory" | "link" | "absent") => ensure,
                ("package", "installed" | "present" | "latest") => "[^'pa].*|present",
                ("package", "absent" | "purged") => "absent|purged",
                ("service", "running" | "true") => "running",
                ("service", "stopped" | "false") => "stopped",
                _ => continue,
            };
            if type_name == "file" && !title.starts_with('/') {
                continue;
            }
            by_class
                .entry(name.as_str())
                .or_default()
                .push((type_name, title.as_str(), states));
        }
        PostChecks { by_class }
    }

    /// The checks of the classes a task declares directly, sorted, once each.
    fn of_task(&self, proposal: &Proposal, task: &Task) -> Vec<(String, String, String)> {
        let checks: BTreeSet<(String, String, String)> = task
            .units
            .iter()
            .filter_map(|&u| match &proposal.monolith.units[u].kind {
                UnitKind::Class(name) => self.by_class.get(name.as_str()),
                _ => None,
            })
            .flatten()
            .map(|&(type_name, title, states)| {
                (type_name.to_string(), title.to_string(), states.to_string())
            })
            .collect();
        checks.into_iter().collect()
    }
}

/// A unit's guards as Puppet conditions, with the names the `globals`
/// task gives the data.
fn guard_texts(proposal: &Proposal, analysis: &Analysis, guards: &[Guard]) -> Vec<String> {
    let monolith = &proposal.monolith;
    let name_of = |variable: &DataVariable| render::global_name(monolith, variable);
    guards
        .iter()
        .map(|g| render::render_guard(monolith, &analysis.codebase.files, g, &name_of))
        .collect()
}

/// report.json (schema: docs/formats.md).
pub fn report_json(proposal: &Proposal, analysis: &Analysis) -> String {
    let units: Vec<serde_json::Value> = proposal
        .monolith
        .units
        .iter()
        .enumerate()
        .map(|(index, unit)| {
            let task = proposal
                .tasks
                .iter()
                .find(|task| task.units.contains(&index))
                .map(|task| task.id.clone());
            serde_json::json!({
                "label": unit.label(),
                "task": task,
                "location": unit.location,
                "guards": guard_texts(proposal, analysis, &unit.guards),
                "roles": unit.roles,
                "stage": unit.stage,
            })
        })
        .collect();
    let kept: Vec<serde_json::Value> = proposal
        .monolith
        .kept
        .iter()
        .map(|(class, why)| serde_json::json!({ "class": class, "reason": why }))
        .collect();
    let document = serde_json::json!({
        "version": 2,
        "entries": proposal.entries,
        "roles": proposal.roles,
        "assumptions": proposal.assumptions.iter().map(|(e, v)| format!("{e}={v}")).collect::<Vec<_>>(),
        "opened": proposal.opened,
        "kept_whole": kept,
        "computed": proposal
            .monolith
            .computed
            .iter()
            .map(|computed| serde_json::json!({
                "location": computed.location,
                "statement": computed.statement,
                "classes": computed.candidates(analysis),
            }))
            .collect::<Vec<_>>(),
        "pruned": proposal
            .pruned
            .iter()
            .map(|(label, location)| format!("{label} ({location})"))
            .collect::<Vec<_>>(),
        "untaken_branches": analysis
            .untaken_branches
            .iter()
            .map(|branch| serde_json::json!({
                "class": branch.class,
                "test": branch.text,
                "location": branch.start,
            }))
            .collect::<Vec<_>>(),
        "left_out": proposal
            .monolith
            .left_out
            .iter()
            .map(|(condition, location)| serde_json::json!({
                "location": location,
                "condition": condition,
            }))
            .collect::<Vec<_>>(),
        "undecided": proposal.undecided,
        "unmatched": proposal.monolith.unmatched,
        "unused_assumptions": proposal.unused_assumptions,
        "unwritten_role_var": proposal.unwritten_role_var,
        "tasks": proposal.tasks,
        "merges": proposal.merges,
        "borrows": proposal.borrows,
        "cuts": proposal.cuts,
        "hazards": proposal.hazards,
        "units": units,
    });
    let mut text = serde_json::to_string_pretty(&document).expect("JSON of plain data");
    text.push('\n');
    text
}

/// report.md: the proposal for people to review, summary first.
pub fn report_md(proposal: &Proposal, analysis: &Analysis, sources: &Sources) -> String {
    let mut out = String::new();
    let units = &proposal.monolith.units;
    let at = |location: &crate::model::Location| {
        format!("{}:{}", sources.path(&location.file), location.line)
    };
    let _ = writeln!(
        out,
        "# Split of {}\n",
        proposal
            .entries
            .iter()
            .map(|e| sources.path(e))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let _ = writeln!(
        out,
        "{} (2 of them granule's `globals` and `hiera`) from {}, for the roles {}; {}, {}, {}.\n",
        counted(proposal.tasks.len(), "task", "tasks"),
        counted(units.len(), "unit", "units"),
        proposal.roles.join(", "),
        counted(proposal.merges.len(), "forced merge", "forced merges"),
        counted(proposal.cuts.len(), "cut edge", "cut edges"),
        counted(proposal.hazards.len(), "hazard", "hazards"),
    );
    out.push_str("## Summary\n\n| Role | Tasks | Units |\n|---|---|---|\n");
    for role in &proposal.roles {
        let tasks = proposal
            .tasks
            .iter()
            .filter(|t| t.groups.contains(role))
            .count();
        let count = units.iter().filter(|u| u.roles.contains(role)).count();
        let _ = writeln!(out, "| {role} | {tasks} | {count} |");
    }
    let mut largest: Vec<&Task> = proposal
        .tasks
        .iter()
        .filter(|t| !t.units.is_empty())
        .collect();
    largest.sort_by_key(|t| std::cmp::Reverse(t.units.len()));
    out.push_str("\nLargest tasks: ");
    let shown_largest: Vec<String> = largest
        .iter()
        .take(5)
        .map(|t| {
            format!(
                "`{}` ({}, {:.1}%)",
                t.id,
                counted(t.units.len(), "unit", "units"),
                100.0 * t.units.len() as f64 / units.len().max(1) as f64
            )
        })
        .collect();
    out.push_str(&if shown_largest.is_empty() {
        "none".to_string()
    } else {
        shown_largest.join(", ")
    });
    out.push_str(".\n\nForced merges by cause:");
    let mut by_hub: BTreeMap<&str, usize> = BTreeMap::new();
    for merge in &proposal.merges {
        *by_hub.entry(merge.hub.as_str()).or_default() += 1;
    }
    if by_hub.is_empty() {
        out.push_str(" none.\n");
    } else {
        out.push('\n');
        let mut hubs: Vec<(&str, usize)> = by_hub.into_iter().collect();
        hubs.sort_by_key(|(hub, count)| (std::cmp::Reverse(*count), *hub));
        for (hub, count) in hubs {
            let _ = writeln!(out, "- {hub}: {count}");
        }
    }
    out.push_str("\n## Assumptions\n\n");
    if let Some(unwritten) = &proposal.unwritten_role_var {
        let _ = writeln!(
            out,
            "The role expression `{}` (`--role-var`) is written by no manifest: no guard is decided per role.\n",
            unwritten.expression
        );
    }
    if proposal.assumptions.is_empty() {
        out.push_str("None.\n");
    }
    for (expr, value) in &proposal.assumptions {
        let unused = if proposal
            .unused_assumptions
            .iter()
            .any(|unused| &unused.expression == expr)
        {
            " (no manifest writes this expression: it decides nothing)"
        } else {
            ""
        };
        let _ = writeln!(out, "- `{expr}` is `{value}`{unused}");
    }
    // What decided: the roles, and the assumptions when there are some.
    let deciding = format!(
        "on none of the roles ({}){}",
        proposal.roles.join(", "),
        if proposal.assumptions.is_empty() {
            ""
        } else {
            ", under these assumptions"
        }
    );
    // Each what was left out, with its place; the copies of one statement
    // (a class opened twice) once.
    let distinct = |items: &[(String, Location)]| -> Vec<(String, Location)> {
        let mut seen = FastSet::default();
        items
            .iter()
            .filter(|item| seen.insert(*item))
            .cloned()
            .collect()
    };
    let mut list = |heading: String, items: &[(String, Location)], quote: &str| {
        let _ = writeln!(out, "\n{heading}\n");
        for (what, location) in items {
            let _ = writeln!(out, "- {quote}{what}{quote} ({})", sources.at(location));
        }
    };
    let branches = distinct(&proposal.monolith.left_out);
    if !branches.is_empty() {
        let count = counted(branches.len(), "branch runs", "branches run");
        list(
            format!("{count} {deciding} and the data the walked code sets; left out with all they hold:"),
            &branches,
            "`",
        );
    }
    let pruned = distinct(&proposal.pruned);
    if !pruned.is_empty() {
        let count = counted(pruned.len(), "statement runs", "statements run");
        list(format!("{count} {deciding}: left out."), &pruned, "");
    }
    if !analysis.untaken_branches.is_empty() {
        let count = counted(
            analysis.untaken_branches.len(),
            "branch of module code no declaration of its class takes",
            "branches of module code no declaration of their class takes",
        );
        let _ = writeln!(
            out,
            "\n{count} (each declaration gives the parameter the test reads another value; docs/analyzer.md), left out with all they hold:\n"
        );
        for branch in &analysis.untaken_branches {
            let _ = writeln!(
                out,
                "- `{}` in class {} ({})",
                branch.text,
                branch.class,
                sources.at(&branch.start)
            );
        }
    }
    for case in &proposal.monolith.unmatched {
        let _ = writeln!(
            out,
            "\n`case {}` ({}) has no option for the value assumed and no default: all its code is left out (its options: {}).",
            case.test,
            sources.at(&case.location),
            case.options.join(", ")
        );
    }
    if !proposal.undecided.is_empty() {
        out.push_str("\nDecided by no role and no assumption, so every option is split and tasks mix options no node runs together (give `--role-var EXPR` if it is the node's role, else `--assume EXPR=VALUE`):\n\n");
    }
    for case in &proposal.undecided {
        let _ = writeln!(
            out,
            "- `case {}` ({}): {}",
            case.test,
            sources.at(&case.location),
            case.options.join("; ")
        );
    }
    out.push_str("\n## Opened classes\n\nA class is opened (its statements become units, its parameters and variables data of the `globals` task) when it has at least two class declarations and class declarations and define instances are two thirds of what it declares, unless something would break. The plan file's `open` and `keep` decide otherwise.\n\n");
    if proposal.opened.is_empty() {
        out.push_str("None.\n");
    }
    let mut listed = FastSet::default();
    for opened in &proposal.opened {
        let place = opened
            .declared_at
            .as_ref()
            .map(|l| format!(" ({})", at(l)))
            .unwrap_or_default();
        let line = format!("- {}{place}: {}", opened.class, opened.reason);
        if listed.insert(line.clone()) {
            let _ = writeln!(out, "{line}");
        }
    }
    out.push_str("\n### Kept whole\n\n");
    if proposal.monolith.kept.is_empty() {
        out.push_str("None.\n");
    }
    for (class, why) in &proposal.monolith.kept {
        let _ = writeln!(out, "- {class}: {why}");
    }
    out.push_str("\n## Classes named at run time\n\n");
    if proposal.monolith.computed.is_empty() {
        out.push_str("None.\n");
    }
    for computed in &proposal.monolith.computed {
        let _ = writeln!(
            out,
            "- `{}` ({}): {}",
            computed.statement,
            at(&computed.location),
            computed.advice(analysis)
        );
    }
    out.push_str(
        "\n## Tasks\n\n| Task | Roles | Requires | Units | Classes |\n|---|---|---|---|---|\n",
    );
    for task in &proposal.tasks {
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {} |",
            task.id,
            join(&task.groups),
            join(&task.requires),
            task.units.len(),
            task.classes.len(),
        );
    }
    for task in &proposal.tasks {
        let _ = writeln!(out, "\n### `{}`\n", task.id);
        for &index in &task.units {
            let unit = &units[index];
            let guards = guard_texts(proposal, analysis, &unit.guards);
            let guard = if guards.is_empty() {
                String::new()
            } else {
                format!(" — if {}", guards.join(" and "))
            };
            let _ = writeln!(out, "- {} ({}){guard}", unit.label(), at(&unit.location));
        }
        let reasons = borrow_reasons(proposal, task, at);
        let mut listed = FastSet::default();
        for &index in &task.borrowed {
            let unit = &units[index];
            let why = reasons
                .get(&index)
                .map(|reason| format!(" — {reason}"))
                .unwrap_or_default();
            let line = format!(
                "- also applies {} ({}){why}",
                unit.label(),
                at(&unit.location)
            );
            if listed.insert(line.clone()) {
                let _ = writeln!(out, "{line}");
            }
        }
        if task.units.is_empty() {
            let _ = writeln!(
                out,
                "- generated: {}",
                match task.id.as_str() {
                    GLOBALS => "evaluates the monolith's data and writes it for Hiera",
                    _ => "makes that data a Hiera source",
                }
            );
        }
    }
    out.push_str("\n## Forced merges\n\nGrouped by the code whose edge forces them.\n\n");
    if proposal.merges.is_empty() {
        out.push_str("None.\n");
    }
    let mut grouped: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for merge in &proposal.merges {
        grouped
            .entry(merge.hub.as_str())
            .or_default()
            .insert(format!(
                "{} + {}: {} ({})",
                merge.units[0],
                merge.units[1],
                merge.reason,
                at(&merge.location)
            ));
    }
    for (hub, lines) in grouped {
        let _ = writeln!(out, "### {hub}\n");
        for line in lines {
            let _ = writeln!(out, "- {line}");
        }
        out.push('\n');
    }
    out.push_str("\n## Cut edges\n\nEach edge of the monolith between two tasks, and the task order that keeps it.\n\n");
    if proposal.cuts.is_empty() {
        out.push_str("None.\n");
    }
    // One line per edge (a collector's edge is carried by many pairs of
    // tasks), its pairs grouped by the task that runs first.
    let mut edges: Vec<(String, BTreeMap<&str, Vec<&str>>)> = Vec::new();
    let mut line_of: FastMap<String, usize> = FastMap::default();
    for cut in &proposal.cuts {
        let edge = format!(
            "{} --{}--> {} ({})",
            cut.from,
            cut.kind.name(),
            cut.to,
            at(&cut.location)
        );
        let index = *line_of.entry(edge.clone()).or_insert_with(|| {
            edges.push((edge, BTreeMap::new()));
            edges.len() - 1
        });
        edges[index]
            .1
            .entry(cut.carried_by[0].as_str())
            .or_default()
            .push(cut.carried_by[1].as_str());
    }
    for (edge, pairs) in edges {
        let carried: Vec<String> = pairs
            .iter()
            .map(|(first, then)| {
                let then: Vec<String> = then.iter().map(|t| format!("`{t}`")).collect();
                format!("`{first}` before {}", then.join(", "))
            })
            .collect();
        let _ = writeln!(out, "- {edge}: {}", carried.join("; "));
    }
    out.push_str("\n## Hazards\n\n");
    if proposal.hazards.is_empty() {
        out.push_str("None.\n");
    }
    for hazard in &proposal.hazards {
        let _ = writeln!(out, "- {hazard}");
    }
    // Labels and hazards name files as the analysis read them.
    sources.text(&out)
}

/// Fill colours of the roles in the task graph, in the order of the
/// roles' names (light enough for black text; repeated past the twelfth).
const ROLE_COLOURS: [&str; 12] = [
    "#8dd3c7", "#ffffb3", "#bebada", "#fb8072", "#80b1d3", "#fdb462", "#b3de69", "#fccde5",
    "#d9d9d9", "#bc80bd", "#ccebc5", "#ffed6f",
];

/// The task graph in DOT: each task labelled with its roles and size (units
/// and the classes they declare), its box taller the more units it holds
/// and filled with its roles' colours (striped when it has several), and a
/// legend of the colours.
pub fn task_dot(proposal: &Proposal) -> String {
    let roles: BTreeSet<&String> = proposal.tasks.iter().flat_map(|t| &t.groups).collect();
    let colour: FastMap<&String, &str> = roles
        .iter()
        .enumerate()
        .map(|(i, role)| (*role, ROLE_COLOURS[i % ROLE_COLOURS.len()]))
        .collect();
    let mut out = String::from(
        "digraph tasks {\n  rankdir=LR;\n  node [shape=box, fontname=\"Helvetica\"];\n",
    );
    for task in &proposal.tasks {
        let units = task.units.len();
        let fills: Vec<&str> = task.groups.iter().map(|role| colour[role]).collect();
        let style = match fills.len() {
            0 => "solid",
            1 => "filled",
            _ => "striped",
        };
        // Every label has three lines, so the height shows the size alone:
        // the area grows with the number of units, the height with its root.
        let height = 1.0 + 0.2 * (units as f64).sqrt();
        let _ =
            writeln!(
            out,
            "  \"{id}\" [label=\"{id}\\n{roles}\\n{units} {unit_word}, {classes} {class_word}\", \
             style=\"{style}\", fillcolor=\"{fill}\", height={height:.2}];",
            id = task.id,
            roles = join(&task.groups),
            unit_word = if units == 1 { "unit" } else { "units" },
            classes = task.classes.len(),
            class_word = if task.classes.len() == 1 { "class" } else { "classes" },
            fill = fills.join(":"),
        );
    }
    for task in &proposal.tasks {
        for required in &task.requires {
            let _ = writeln!(out, "  \"{required}\" -> \"{}\";", task.id);
        }
    }
    if !roles.is_empty() {
        out.push_str(
            "  subgraph cluster_legend {\n    label=\"Roles\";\n    fontname=\"Helvetica\";\n",
        );
        for role in &roles {
            let _ = writeln!(
                out,
                "    \"legend: {role}\" [label=\"{role}\", style=\"filled\", fillcolor=\"{}\"];",
                colour[role]
            );
        }
        out.push_str("  }\n");
    }
    out.push_str("}\n");
    out
}

#[cfg(test)]
mod tests {
    use super::push_code;

    #[test]
    fn lines_inside_strings_and_heredocs_are_written_as_they_are() {
        let text = "file { '/a':\n      content => \"one\n      two  \n\",\n      \
                    source => @(END),\n        three\n        | END\n    }";
        let mut out = String::new();
        push_code(&mut out, text, 4, &["$x".to_string()]);
        let expected = "if $x {\n  file { '/a':\n    content => \"one\n      two  \n\",\n    \
                        source => @(END),\n        three\n        | END\n  }\n}\n";
        assert_eq!(out, expected);
    }

    #[test]
    fn text_that_does_not_lex_is_written_as_it_is_after_its_first_line() {
        let mut out = String::new();
        push_code(&mut out, "notify { 'a':\n      message => \"b\n  }", 4, &[]);
        assert_eq!(out, "notify { 'a':\n      message => \"b\n  }\n");
    }
}
