//! Split: a monolith's entry point cut into small tasks that together do
//! what it did. The stages, each in its own module:
//!
//! 1. [`units`]: the statements of the entry, through the wrapper classes
//!    [`open`] opens, with their typed guards; [`eval`] decides the guards
//!    per role and under the assumptions;
//! 2. closures ([`crate::semantic`]) and [`catalog`]: what each unit puts
//!    in a catalog, and the constraints checked on each task's catalog;
//! 3. partition: a first grouping, then the merges the constraints force
//!    (each with its edge and reason), and ordering cycles;
//! 4. order: task order from the relationships that cross tasks and the
//!    run stages, transitively reduced;
//! 5. describe and [`emit`]: manifests, `tasks.yaml`, reports; [`verify`]
//!    re-reads what was written.

pub mod catalog;
pub mod emit;
pub mod eval;
pub mod gates;
pub mod open;
pub mod plan;
pub mod render;
pub mod units;
pub mod verify;

use crate::graph::Entry;
use crate::hashing::{FastMap, FastSet};
use crate::index::normalize;
use crate::model::{EdgeKind, Location, Vertex};
use crate::semantic::{is_anchor, HolderId, HolderSet, Semantic};
use catalog::{Catalogs, CollectorUse, DeclaredAt};
use eval::{Evaluator, Value};
use granule_parser::qualified::Qualified;
use open::Opener;
use plan::Plan;
use serde::Serialize;
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use units::{Collector, Monolith, Scope, UnitKind};

/// Which Puppet the generated manifests are for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// `lookup()` for data; Puppet 7 validates the manifests.
    Puppet7,
    /// `hiera()` for data; granule's Puppet 3 reading validates them.
    Puppet3,
}

pub struct SplitOptions {
    pub entries: Vec<Entry>,
    /// The expression whose guards name the roles.
    pub role_var: Option<String>,
    /// The roles a deployment uses; empty: the values the guards name.
    pub roles: Vec<String>,
    /// `EXPR=VALUE`: guards on EXPR decided statically.
    pub assumptions: Vec<(String, String)>,
    pub plan: Plan,
    /// Extract only these tasks; the rest goes to one `legacy` task.
    pub only: Vec<String>,
    pub target: Target,
}

/// The task that evaluates the monolith's data.
pub const GLOBALS: &str = "globals";
/// The task that makes that data a Hiera source.
pub const HIERA: &str = "hiera";
/// Where `--only` puts everything else.
pub const LEGACY: &str = "legacy";

/// A proposed task.
#[derive(Debug, Clone, Serialize)]
pub struct Task {
    pub id: String,
    /// Indexes into the monolith's units, in source order.
    #[serde(skip)]
    pub units: Vec<usize>,
    pub groups: BTreeSet<String>,
    pub requires: BTreeSet<String>,
    /// Classes its units declare directly.
    pub classes: BTreeSet<String>,
    /// Relationship statements it holds every end of (indexes into the
    /// monolith's relationships).
    #[serde(skip)]
    pub relationships: Vec<usize>,
    /// Units whose chain of relationships names what another task
    /// declares: only their declarations are copied.
    #[serde(skip)]
    pub detached: BTreeSet<usize>,
    /// Ordering metaparameters of its copied code naming a module's
    /// anchor it does not hold, by where they are written: dropped from
    /// the copy, task order carries them.
    #[serde(skip)]
    pub stripped: BTreeSet<Location>,
    /// Units of other tasks it applies too, because its code refers to
    /// what they declare.
    #[serde(skip)]
    pub borrowed: BTreeSet<usize>,
    /// Classes that only write relationships (a module's `deps`) or hold
    /// data it includes, because their collectors order what it declares
    /// (the relationship then holds in its own catalog) or its code refers
    /// to what they declare; each with the units needing it, under whose
    /// guards it is included.
    #[serde(serialize_with = "names_only")]
    pub orderers: BTreeMap<String, BTreeSet<usize>>,
    /// Where its units are written.
    pub source: Vec<String>,
}

/// A map's keys, as a JSON list.
fn names_only<S: serde::Serializer, V>(
    map: &BTreeMap<String, V>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(map.keys())
}

/// Two units joined into one task, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Merge {
    pub units: [String; 2],
    pub reason: String,
    pub location: Location,
    /// The class, define or copied code whose edge forces it.
    pub hub: String,
}

/// A unit a task applies besides its own, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Borrow {
    /// The unit applied again.
    #[serde(skip)]
    pub unit: usize,
    /// A unit of the task that applies it.
    #[serde(skip)]
    pub by: usize,
    /// The two units, as labels: `[applied, by]`.
    pub units: [String; 2],
    pub reason: String,
    pub location: Location,
    pub hub: String,
    /// Borrowed for what a refresh the borrowing task sends through
    /// anchors reaches (`Violation::relayed`).
    #[serde(skip)]
    pub relayed: bool,
}

/// An edge of the monolith between two tasks, and the task order keeping it.
#[derive(Debug, Clone, Serialize)]
pub struct Cut {
    pub from: String,
    pub to: String,
    pub kind: EdgeKind,
    pub location: Location,
    /// `[first, then]`: the task order that keeps the edge.
    pub carried_by: [String; 2],
}

impl Cut {
    fn new(edge: &crate::model::Edge, [first, then]: [&String; 2]) -> Cut {
        Cut {
            from: edge.from.label(),
            to: edge.to.label(),
            kind: edge.kind,
            location: edge.location.clone(),
            carried_by: [first.clone(), then.clone()],
        }
    }
}

/// A class the split opened, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Opened {
    pub class: String,
    pub reason: String,
    pub declared_at: Option<Location>,
}

pub struct Proposal<'a> {
    /// The model the proposal was made from.
    pub semantic: &'a Semantic<'a>,
    pub monolith: Monolith<'a>,
    pub tasks: Vec<Task>,
    pub merges: Vec<Merge>,
    /// Units tasks apply besides their own.
    pub borrows: Vec<Borrow>,
    pub cuts: Vec<Cut>,
    pub hazards: Vec<String>,
    pub target: Target,
    pub roles: Vec<String>,
    /// Per unit, per guard, per role (in `roles`' order): whether it holds.
    pub truths: Vec<Vec<Vec<Option<bool>>>>,
    pub opened: Vec<Opened>,
    /// The assumptions, as given.
    pub assumptions: Vec<(String, String)>,
    /// Units the assumptions and roles left out, by location.
    pub pruned: Vec<(String, Location)>,
    /// Entry files and classes, for the headers.
    pub entries: Vec<String>,
    /// The classes and defines each unit puts in a catalog.
    pub unit_holders: Vec<BTreeSet<String>>,
    /// For each class a task includes as only ordering or holding data
    /// (`Task::orderers`), the units whose catalog holds it.
    pub orderer_units: BTreeMap<String, Vec<usize>>,
    /// The top-scope variables the code of each unit's catalog reads by
    /// qualified name (`$::x`): its task must set them.
    pub unit_reads: Vec<BTreeSet<String>>,
    /// The plan file's entries that name nothing of this split.
    pub plan_misses: Vec<PlanMiss>,
    /// The `case` statements the split code dispatches on that no role or
    /// assumption decides: their options are split together.
    pub undecided: Vec<units::Undecided>,
    /// The assumptions no manifest writes the expression of.
    pub unused_assumptions: Vec<units::Unwritten>,
    /// The role expression, when no manifest writes it.
    pub unwritten_role_var: Option<units::Unwritten>,
    /// Classes the monolith's code refers to and nothing it reaches
    /// declares: the monolith's own fault, which its tasks inherit.
    pub undeclared_classes: Vec<catalog::UndeclaredClass>,
}

/// A plan file entry naming nothing of the split.
#[derive(Debug, Clone)]
pub struct PlanMiss {
    /// The plan file's key: `exclude`, `pin`, `merge`, `rename`, `open`
    /// or `keep`.
    pub key: &'static str,
    pub entry: String,
    /// What entries of that key can name here.
    pub known: Vec<String>,
}

impl Proposal<'_> {
    pub fn task(&self, id: &str) -> Option<&Task> {
        self.tasks.iter().find(|task| task.id == id)
    }
}

/// Proposes tasks for the entries of `options`.
pub fn split<'a>(
    semantic: &'a Semantic<'a>,
    options: &'a SplitOptions,
) -> Result<Proposal<'a>, String> {
    let analysis = semantic.analysis;
    let files = &analysis.codebase.files;

    // 1. Units, through the classes the rule opens.
    let mut entry_vertices = Vec::new();
    let mut roots = Vec::new();
    for entry in &options.entries {
        match entry {
            Entry::File(path) => {
                let index = files
                    .iter()
                    .position(|file| same_path(&file.path, path))
                    .ok_or_else(|| format!("{path}: not among the analyzed files"))?;
                refuse_syntax_errors(analysis, &files[index].path)?;
                entry_vertices.push(Vertex::TopScope {
                    file: files[index].path.clone(),
                });
                for edge in &analysis.edges {
                    if matches!(edge.unit, Vertex::Node { .. })
                        && edge.location.file == files[index].path
                        && !entry_vertices.contains(&edge.unit)
                    {
                        entry_vertices.push(edge.unit.clone());
                    }
                }
                roots.push((None, index, None));
            }
            Entry::Class(name) => {
                let Some((index, definition)) = open::find_class(analysis, name) else {
                    if let Some(file) = analysis.codebase.autoloaded_file(name) {
                        refuse_syntax_errors(analysis, &file.path)?;
                    }
                    return Err(format!("class {name}: defined nowhere on the module path"));
                };
                refuse_syntax_errors(analysis, &files[index].path)?;
                entry_vertices.push(Vertex::class(name));
                roots.push((Some(name.clone()), index, Some(definition)));
            }
        }
    }
    let entry_holders: Vec<HolderId> = entry_vertices
        .iter()
        .filter_map(|vertex| semantic.holder(vertex))
        .collect();
    semantic.keep_within(&entry_holders);
    let assumptions: Vec<(String, Value)> = options
        .assumptions
        .iter()
        .map(|(expr, value)| (expr.clone(), Value::parse(value)))
        .collect();
    let entry_files: FastSet<usize> = roots
        .iter()
        .filter(|(class, _, _)| class.is_none())
        .map(|&(_, file, _)| file)
        .collect();
    let mut opener = Opener::new(semantic, &options.plan, entry_vertices.clone());
    // An entry class is opened unless code the monolith reaches inherits
    // or declares it: every task applying that code would hold the class
    // again beside its copied statements. What only may break (an
    // ordering, a refresh or a read in module code that may not run) is a
    // hazard, which --verify then finds or not.
    let mut entry_hazards: Vec<String> = Vec::new();
    for class in roots.iter().filter_map(|(class, _, _)| class.as_deref()) {
        let Err(blocker) = opener.check_entry(class) else {
            continue;
        };
        let forced = options.plan.open.iter().any(|o| normalize(o) == class);
        if blocker.certain && !forced {
            return Err(format!(
                "class {class}, the entry, cannot be opened: {}. Opened, its statements would \
                 become tasks, and a task applying that code would declare class {class} again \
                 beside them. Split a manifest declaring it instead \
                 (one holding `include {class}` keeps it one task), or list it under `open` in \
                 the plan file to open it anyway and let --verify show what breaks",
                blocker.why
            ));
        }
        entry_hazards.push(format!(
            "class {class}, the entry, is opened though {}: no task declares class {class}, and \
             where a task applies that code it finds none; split the role class or the manifest \
             declaring it if --verify finds it breaks",
            blocker.why
        ));
    }
    let mut collector = Collector::new(
        files,
        options.role_var.as_deref(),
        &options.roles,
        &assumptions,
        &mut opener,
    );
    let class_roles = options.entries.len() > 1;
    let mut root_roles: Vec<(usize, String)> = Vec::new();
    for (class, file, definition) in roots {
        let scope_index = collector.monolith.scopes.len();
        if class_roles {
            let role = class
                .as_deref()
                .map(|c| c.rsplit("::").next().unwrap_or(c).to_string())
                .unwrap_or_else(|| files[file].path.to_string());
            root_roles.push((scope_index, role));
        }
        let scope = Scope {
            params: definition
                .map(|d| {
                    d.params
                        .iter()
                        .map(|p| (p.name.clone(), p.value.as_ref()))
                        .collect()
                })
                .unwrap_or_default(),
            class,
            parent: None,
            file,
            args: Vec::new(),
            guards: Vec::new(),
            stage: None,
            declared_at: None,
            reason: "the entry".into(),
            data_name: String::new(),
            order: 0,
        };
        let body = match definition {
            Some(definition) => definition.body.as_ref(),
            None => Some(&files[file].program.body),
        };
        collector.scope(scope, body);
    }
    let mut monolith = collector.monolith;
    monolith.hazards.extend(entry_hazards);
    monolith.shadowing = shadowing(semantic, &monolith);
    let unit_labels: BTreeSet<String> = monolith.units.iter().map(units::Unit::label).collect();
    exclude(&mut monolith, &options.plan);

    // Roles, and the guards decided per role.
    let roles: Vec<String> = if class_roles {
        root_roles.iter().map(|(_, role)| role.clone()).collect()
    } else if !options.roles.is_empty() {
        options.roles.clone()
    } else if options.role_var.is_some() && !monolith.role_values.is_empty() {
        monolith.role_values.clone()
    } else {
        vec!["all".to_string()]
    };
    let role_var = options.role_var.as_deref();
    let evaluator = Evaluator::new(files, &monolith, role_var, &assumptions);
    fn role_of<'r>(role_var: Option<&str>, role: &'r str) -> Option<&'r str> {
        (role_var.is_some() && role != "all").then_some(role)
    }
    // Per guard of a unit, whether it holds on each role (`None`: unknown).
    let truth_of = |unit: &units::Unit| -> Vec<Vec<Option<bool>>> {
        unit.guards
            .iter()
            .map(|guard| {
                roles
                    .iter()
                    .map(|role| evaluator.holds(guard, role_of(role_var, role)))
                    .collect()
            })
            .collect()
    };
    let root_of = |mut scope: usize| {
        while let Some(parent) = monolith.scopes[scope].parent {
            scope = parent;
        }
        scope
    };
    // The roles a unit runs on: no guard fails there, and a role class
    // opened as the entry of one role is that role's.
    let roles_of = |unit: &units::Unit, truth: &[Vec<Option<bool>>]| -> BTreeSet<String> {
        let root = root_of(unit.scope);
        roles
            .iter()
            .enumerate()
            .filter(|(r, role)| {
                truth.iter().all(|per_role| per_role[*r] != Some(false))
                    && root_roles
                        .iter()
                        .all(|(scope, fixed)| *scope != root || fixed == *role)
            })
            .map(|(_, role)| role.clone())
            .collect()
    };
    let truths: Vec<Vec<Vec<Option<bool>>>> = monolith.units.iter().map(truth_of).collect();
    let unit_roles: Vec<BTreeSet<String>> = monolith
        .units
        .iter()
        .zip(&truths)
        .map(|(unit, truth)| roles_of(unit, truth))
        .collect();
    let relationship_roles: Vec<BTreeSet<String>> = monolith
        .relationships
        .iter()
        .map(|relationship| roles_of(relationship, &truth_of(relationship)))
        .collect();
    let mut pruned = Vec::new();
    let mut kept_truths = Vec::new();
    let units = std::mem::take(&mut monolith.units);
    for ((mut unit, truth), roles) in units.into_iter().zip(truths).zip(unit_roles) {
        if roles.is_empty() {
            pruned.push((unit.label(), unit.location.clone()));
        } else {
            unit.roles = roles;
            monolith.units.push(unit);
            kept_truths.push(truth);
        }
    }
    let truths = kept_truths;
    let undecided = units::undecided_cases(files, &entry_files, &monolith.units, &truths);
    for (relationship, roles) in monolith.relationships.iter_mut().zip(relationship_roles) {
        relationship.roles = roles;
    }

    monolith.bound = render::class_bound(&monolith, |class| {
        semantic.analysis.has_class(class) && !semantic.holds_data_only(class)
    });

    // 2. What each unit puts in a catalog.
    let walked: FastSet<HolderId> = entry_vertices
        .iter()
        .cloned()
        .chain(
            monolith
                .scopes
                .iter()
                .filter_map(|s| s.class.as_deref().map(Vertex::class)),
        )
        .filter_map(|vertex| semantic.holder(&vertex))
        .collect();
    let mut catalogs = Catalogs::new(semantic, &monolith, walked);
    // Module code's guards can only be decided by a role or an assumption.
    if role_var.is_some() || !assumptions.is_empty() {
        let role_args: Vec<Option<&str>> = roles.iter().map(|r| role_of(role_var, r)).collect();
        catalogs.decide_guards(
            semantic,
            gates::edges_off(
                semantic,
                &Evaluator::new(files, &monolith, role_var, &assumptions),
                &role_args,
                // (Holders whose code is copied are in no unit's catalog.)
                &|holder| catalogs.units_with.contains_key(&holder),
            ),
        );
    }
    let uses = catalog::collector_uses(semantic, &monolith, &catalogs);

    // 3. Partition: a first grouping, then what the constraints force.
    let count = monolith.units.len();
    let mut sets = UnionFind::new(count);
    first_grouping(&mut sets, semantic, &monolith, &catalogs, &options.plan);
    let mut merges = Vec::new();
    let role_units: Vec<Vec<usize>> = roles
        .iter()
        .map(|role| {
            (0..count)
                .filter(|&u| monolith.units[u].roles.contains(role))
                .collect()
        })
        .collect();
    let mut orders = unit_orders(semantic, &monolith, &catalogs, &uses, &roles);
    // Units each unit's task borrows (meaningful for the union of a group).
    let mut borrowed: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); count];
    let mut borrowed_alone: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); count];
    // Classes that only order or hold data each unit's task includes.
    let mut included: Vec<BTreeSet<HolderId>> = vec![BTreeSet::new(); count];
    let mut borrowing: Vec<Borrow> = Vec::new();
    // Per collector (where, what, why): what it may collect in other tasks.
    let mut uncertain: BTreeMap<(String, String, String), BTreeSet<String>> = BTreeMap::new();
    // What each group's catalog was when last checked, per role: checked
    // again only once it changes.
    let mut checked: FastMap<(usize, usize), (Vec<usize>, Vec<HolderId>)> = FastMap::default();
    loop {
        let mut changed = false;
        let groups = groups_of(&mut sets, count);
        let with_borrowed = with_borrowed_groups(&groups, &borrowed, &borrowed_alone, &mut sets);
        for (role_index, (role, candidates)) in roles.iter().zip(&role_units).enumerate() {
            for (first, members) in &groups {
                let applied: BTreeSet<usize> = with_borrowed[first]
                    .iter()
                    .copied()
                    .filter(|&u| monolith.units[u].roles.contains(role))
                    .collect();
                if applied.is_empty() {
                    continue;
                }
                let applied: Vec<usize> = applied.into_iter().collect();
                let classes: Vec<HolderId> = applied
                    .iter()
                    .flat_map(|&u| included[u].iter().copied())
                    .collect::<BTreeSet<HolderId>>()
                    .into_iter()
                    .collect();
                let now = (applied, classes);
                if checked.get(&(role_index, *first)) == Some(&now) {
                    continue;
                }
                let (applied, classes) = checked
                    .entry((role_index, *first))
                    .insert_entry(now)
                    .into_mut();
                let mut includes = HolderSet::default();
                for &class in classes.iter() {
                    includes.union_with(semantic.closure(class));
                }
                for violation in catalogs.broken_references(
                    semantic, &monolith, applied, candidates, role_index, &includes,
                ) {
                    if let Some(class) = violation.include {
                        for &unit in &violation.by {
                            changed |= included[unit].insert(class);
                        }
                        continue;
                    }
                    let lender = violation.units[1];
                    let into = if violation.alone {
                        &mut borrowed_alone
                    } else {
                        &mut borrowed
                    };
                    if into[members[0]].insert(lender) {
                        changed = true;
                        borrowing.push(Borrow {
                            unit: lender,
                            by: members[0],
                            units: [
                                monolith.units[lender].label(),
                                monolith.units[members[0]].label(),
                            ],
                            reason: violation.reason,
                            location: violation.location,
                            hub: violation.hub,
                            relayed: violation.relayed,
                        });
                    }
                }
            }
        }
        let groups = groups_of(&mut sets, count);
        let with_borrowed = with_borrowed_groups(&groups, &borrowed, &borrowed_alone, &mut sets);
        // A collector meets what it collects on a role both run on: the
        // task applying a resource first must apply the collector's code.
        let group_of: Vec<usize> = {
            let mut group_of = vec![0; count];
            for (&first, members) in &groups {
                for &member in members {
                    group_of[member] = first;
                }
            }
            group_of
        };
        for (role_index, (role, candidates)) in roles.iter().zip(&role_units).enumerate() {
            let on_role = |groups: &BTreeMap<usize, Vec<usize>>| -> BTreeMap<usize, Vec<usize>> {
                groups
                    .iter()
                    .map(|(&first, members)| {
                        let kept = members
                            .iter()
                            .copied()
                            .filter(|&u| monolith.units[u].roles.contains(role))
                            .collect();
                        (first, kept)
                    })
                    .collect()
            };
            let holding = catalog::groups_holding(&catalogs, &on_role(&with_borrowed));
            let holding_own = catalog::groups_holding(&catalogs, &on_role(&groups));
            for collector in &uses {
                let Some(why) = &collector.must_meet else {
                    continue;
                };
                // A statement a class opened twice copies once per
                // declaration: a collector of its own in each copy, which
                // meets only what the same branch applies. Each copy: its
                // own unit, if it is one, and the unit or relationship
                // statement it is written in.
                let location = &collector.collector.location;
                let on_role = |unit: &units::Unit| unit.roles.contains(role);
                let mut copies: Vec<(Option<usize>, Option<&units::Unit>)> = monolith
                    .units_at(location)
                    .filter(|&unit| on_role(&monolith.units[unit]))
                    .map(|unit| (Some(unit), Some(&monolith.units[unit])))
                    .chain(
                        monolith
                            .relationships
                            .iter()
                            .filter(|statement| statement.holds(location) && on_role(statement))
                            .map(|statement| (None, Some(statement))),
                    )
                    .collect();
                if copies.is_empty() {
                    copies.push((None, None));
                }
                for (own_statement, statement) in copies {
                    let excluded =
                        |unit: usize| statement.is_some_and(|s| monolith.units[unit].excludes(s));
                    // Where the collector's code is applied, and the group that
                    // applies it most directly (its own units, the smallest);
                    // a collector of an opened scope is where its statement's
                    // unit is, or, in a relationship statement, where the
                    // statement's other end is (the smallest unit holding it).
                    let copied = own_statement.or_else(|| {
                        collector
                            .partners
                            .iter()
                            .flat_map(|end| {
                                catalogs.applying_units(
                                    semantic, &monolith, end, candidates, role_index,
                                )
                            })
                            .filter(|&unit| !excluded(unit))
                            .min_by_key(|&unit| (catalogs.units[unit].holders.len(), unit))
                    });
                    let copied_at = copied.map(|unit| group_of[unit]);
                    // A copied collector is also applied by the groups
                    // borrowing its statement: each must apply what it collects.
                    // (A relationship statement goes to one task only.)
                    let borrowers: Vec<usize> = own_statement
                        .map(|statement| {
                            with_borrowed
                                .iter()
                                .filter(|&(&first, members)| {
                                    Some(first) != copied_at && members.contains(&statement)
                                })
                                .map(|(&first, _)| first)
                                .collect()
                        })
                        .unwrap_or_default();
                    let here: Vec<usize> = holding
                        .get(&collector.holder)
                        .cloned()
                        .unwrap_or_default()
                        .into_iter()
                        .chain(copied_at)
                        .collect();
                    let Some(collector_group) = holding_own
                        .get(&collector.holder)
                        .and_then(|own| own.iter().copied().min_by_key(|g| groups[g].len()))
                        .or(copied_at)
                    else {
                        continue;
                    };
                    // Each resource it collects, by the unit applying it most
                    // directly: a copied statement's own unit, else the unit
                    // with the smallest closure holding its declarer.
                    let mut targets: Vec<(usize, bool, String)> = collector
                        .units
                        .iter()
                        .filter(|&&(unit, _)| {
                            monolith.units[unit].roles.contains(role) && !excluded(unit)
                        })
                        .map(|&(unit, surely)| (unit, surely, monolith.units[unit].label()))
                        .collect();
                    for declarer in &collector.matched {
                        // (Where guards of module code hold on this role.)
                        let home_unit = catalogs.units_with[declarer]
                            .iter()
                            .copied()
                            .filter(|&u| {
                                monolith.units[u].roles.contains(role)
                                    && !excluded(u)
                                    && catalogs.holds_on(u, *declarer, role_index)
                            })
                            .min_by_key(|&u| (catalogs.units[u].holders.len(), u));
                        if let Some(unit) = home_unit {
                            let surely = collector.surely.contains(declarer);
                            targets.push((unit, surely, semantic.vertex(*declarer).label()));
                        }
                    }
                    for (unit, surely, what) in targets {
                        let home = group_of[unit];
                        if here.contains(&home) {
                            continue;
                        }
                        if !surely {
                            // Only a compiler could tell whether it collects
                            // that resource: reported, not merged.
                            uncertain
                                .entry(uncertain_key(collector, why))
                                .or_default()
                                .insert(what);
                            continue;
                        }
                        let appliers = borrowers.iter().copied().filter(|&borrower| {
                            borrower != home && !with_borrowed[&borrower].contains(&unit)
                        });
                        for a in std::iter::once(collector_group).chain(appliers) {
                            // Rather than one task, the collector's task applies
                            // the resource's unit first, before its own task: the
                            // resource changes there, with the collector, and is
                            // applied again later, unchanged. It runs after what
                            // that unit runs after; a cycle merges them after all.
                            // Not with an override: applied again without it, the
                            // resource would lose what the override set.
                            if let Some(edge) =
                                collect_edge(semantic, collector).filter(|_| collector.lends())
                            {
                                if borrowed[a].insert(unit) {
                                    changed = true;
                                    borrowing.push(Borrow {
                                    unit,
                                    by: a,
                                    units: [monolith.units[unit].label(), monolith.units[a].label()],
                                    reason: format!(
                                        "{why}; it collects from {what} on role {role}, so this task applies it first"
                                    ),
                                    location: collector.collector.location.clone(),
                                    hub: collector.collector.holder.label(),
                                    relayed: false,
                                });
                                    let inherited: Vec<Order> = orders
                                        .iter()
                                        .filter(|o| o.then == unit && o.first != a)
                                        .map(|o| Order { then: a, ..*o })
                                        .collect();
                                    orders.extend(inherited);
                                    orders.push(Order {
                                        first: a,
                                        then: unit,
                                        edge,
                                        certain: true,
                                    });
                                }
                                continue;
                            }
                            if sets.union(a, home) {
                                changed = true;
                                merges.push(Merge {
                                    units: [
                                        monolith.units[a].label(),
                                        monolith.units[unit].label(),
                                    ],
                                    reason: format!(
                                        "{why}; it collects from {what} on role {role}"
                                    ),
                                    location: collector.collector.location.clone(),
                                    hub: collector.collector.holder.label(),
                                });
                            }
                        }
                    }
                }
            }
        }
        if !changed {
            changed = merge_cycles(&mut sets, &monolith, &orders, &mut merges);
        }
        if !changed {
            break;
        }
    }
    // Each entry class a role: no guard tells one role's units from
    // another's in a joined task.
    join_role_twins(&mut sets, &monolith, &catalogs, &orders, !class_roles);

    // 4. Tasks, named, and their order.
    let groups = groups_of(&mut sets, count);
    let mut tasks: Vec<Task> = Vec::new();
    let mut used = FastSet::from_iter([GLOBALS.to_string(), HIERA.to_string()]);
    // The plan file's [merge] and [rename] act on the proposed ids: tasks
    // it maps to one name become one task.
    let mut planned: FastMap<String, usize> = FastMap::default();
    let mut proposed_names: BTreeSet<String> = BTreeSet::new();
    for members in groups.values() {
        let proposed = task_id(&group_name(&monolith, &catalogs, &options.plan, members));
        proposed_names.insert(proposed.clone());
        let name = options.plan.task_name(&proposed);
        if name != proposed {
            if let Some(&at) = planned.get(&name) {
                let task: &mut Task = &mut tasks[at];
                task.units.extend(members.iter().copied());
                task.units.sort();
                continue;
            }
            planned.insert(name.clone(), tasks.len());
        }
        let id = unique_id(&name, &mut used);
        tasks.push(Task::new(id, members.clone()));
    }
    if !options.only.is_empty() {
        let known: Vec<&str> = tasks.iter().map(|t| t.id.as_str()).collect();
        let unknown: Vec<&String> = options
            .only
            .iter()
            .filter(|o| !known.contains(&o.as_str()))
            .collect();
        if !unknown.is_empty() {
            return Err(format!(
                "--only names tasks the split does not have: {}; it has: {}",
                unknown
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                known.join(", ")
            ));
        }
        tasks = only(tasks, &options.only, &mut used);
    }
    tasks.sort_by_key(|task| task.units[0]);
    let final_groups = groups_of(&mut sets, count);
    let with_borrowed = with_borrowed_groups(&final_groups, &borrowed, &borrowed_alone, &mut sets);
    for task in &mut tasks {
        let home: BTreeSet<usize> = task.units.iter().copied().collect();
        task.groups = task
            .units
            .iter()
            .flat_map(|&u| monolith.units[u].roles.iter().cloned())
            .collect();
        // A lender's task may run on roles this one does not: its units
        // for those roles would be dead code here.
        task.borrowed = task
            .units
            .iter()
            .flat_map(|&u| with_borrowed[&sets_first(&final_groups, u)].iter().copied())
            .filter(|u| !home.contains(u))
            .filter(|&u| !monolith.units[u].roles.is_disjoint(&task.groups))
            .collect();
        for unit in task.applied() {
            for &class in &included[unit] {
                if let Vertex::Class { name } = semantic.vertex(class) {
                    task.orderers.entry(name.clone()).or_default().insert(unit);
                }
            }
        }
    }
    let mut task_of = vec![0usize; count];
    for (index, task) in tasks.iter_mut().enumerate() {
        for &unit in &task.units {
            task_of[unit] = index;
            let unit = &monolith.units[unit];
            task.source.push(unit.location.to_string());
            if let UnitKind::Class(name) = &unit.kind {
                task.classes.insert(name.clone());
            }
        }
    }
    let mut lost = Vec::new();
    let placements = place_relationships(
        semantic, &monolith, &catalogs, &roles, &mut tasks, &mut lost,
    );
    monolith.hazards.extend(lost);
    // Run stages order whole tasks first; an ordering between units that
    // contradicts them cannot hold in the monolith either (Puppet would
    // refuse the cycle), so it is not kept.
    let mut task_order = TaskOrder::new(tasks.len());
    for (a, b) in stage_order(analysis, &monolith, &tasks) {
        if a != b {
            task_order.insert(a, b);
        }
    }
    // Orderings surely in the monolith first, then what collectors carry,
    // then orderings through matches only run time decides: each is kept
    // unless an earlier one contradicts it.
    for certain in orders.iter().filter(|o| o.certain) {
        task_order.keep(certain, &task_of, &tasks);
    }
    let placed_carried = place(&placements, &task_order, &roles, &mut tasks);
    // Task order carries what a collector orders in catalogs that hold
    // its code but not what it collects. A resource takes effect where it
    // is first applied (later tasks apply it again, unchanged): each task
    // applying the collector's code runs after one applying a resource the
    // collector orders first; each task applying one it orders last runs
    // after one applying the code (unless that would close a cycle).
    let mut applying: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); count];
    for (at, task) in tasks.iter().enumerate() {
        for unit in task.applied() {
            applying[unit].insert(at);
        }
    }
    let tasks_of = |units: &mut dyn Iterator<Item = usize>| -> BTreeSet<usize> {
        units.flat_map(|u| applying[u].iter().copied()).collect()
    };
    // (task that must run later, the tasks one of which must run before it)
    let mut carried: BTreeMap<(usize, BTreeSet<usize>), &crate::model::Edge> = BTreeMap::new();
    // (A copied relationship's collectors are ordered where it is placed.)
    for collector in uses.iter().filter(|c| c.relationship.is_none()) {
        let mut code_units: Vec<usize> = catalogs
            .units_with
            .get(&collector.holder)
            .into_iter()
            .flatten()
            .copied()
            .collect();
        code_units.extend(monolith.units_at(&collector.collector.location));
        let mut code = tasks_of(&mut code_units.into_iter());
        // The units applying each resource it surely collects.
        let resources: Vec<Vec<usize>> = collector
            .surely
            .iter()
            .map(|h| catalogs.units_with.get(h).cloned().unwrap_or_default())
            .chain(
                collector
                    .units
                    .iter()
                    .filter(|(_, sure)| *sure)
                    .map(|&(u, _)| vec![u]),
            )
            .collect();
        let mut collected: BTreeSet<usize> = tasks_of(&mut resources.iter().flatten().copied())
            .into_iter()
            .filter(|t| !code.contains(t))
            .collect();
        if let Vertex::Class { name } = semantic.vertex(collector.holder) {
            if collector.must_meet.is_none() && semantic.orders_only(name) {
                for &at in &collected {
                    // Where the units applying what it collects are.
                    let units = resources
                        .iter()
                        .flatten()
                        .filter(|&&u| applying[u].contains(&at));
                    let orderer = tasks[at].orderers.entry(name.clone()).or_default();
                    orderer.extend(units.copied());
                }
                code.append(&mut collected);
            }
        }
        for &(collected_first, edge) in &collector.orders {
            if collected.is_empty() {
                break;
            }
            if collected_first {
                // Each task applying the code runs after one applying the
                // resource: it has taken effect there. A copied statement
                // is a declaration of its own in each task copying it
                // (its title may be computed there): after each of them.
                for (at, units) in resources.iter().enumerate() {
                    let applying_it = tasks_of(&mut units.iter().copied());
                    // Where every task applying it applies the code too,
                    // it is ordered in their catalogs.
                    if applying_it.is_subset(&code) {
                        continue;
                    }
                    let each: Vec<BTreeSet<usize>> = if at < collector.surely.len() {
                        vec![applying_it.clone()]
                    } else {
                        applying_it
                            .difference(&code)
                            .map(|&y| BTreeSet::from([y]))
                            .collect()
                    };
                    for firsts in each {
                        for &x in code.difference(&applying_it) {
                            carried.entry((x, firsts.clone())).or_insert(edge);
                        }
                    }
                }
            } else {
                for &y in &collected {
                    carried.entry((y, code.clone())).or_insert(edge);
                }
            }
        }
        // What a refresh, a tag or a realisation changes takes effect where
        // the resource is first applied: a task applying it without the
        // collector's code runs after one applying both. (An override
        // setting state is lost wherever the resource is applied without
        // it: those were merged.)
        let Some(edge) = collect_edge(semantic, collector).filter(|_| collector.lends()) else {
            continue;
        };
        for units in &resources {
            let holding = tasks_of(&mut units.iter().copied());
            let both: BTreeSet<usize> = holding.intersection(&code).copied().collect();
            if both.is_empty() {
                continue;
            }
            // A refresh is sent where its sender first changes: tasks
            // applying the collector's code without the resource run
            // after one applying both.
            let without = if collector.refreshed_only {
                code.difference(&both)
            } else {
                holding.difference(&both)
            };
            for &without in without {
                carried.entry((without, both.clone())).or_insert(edge);
            }
        }
    }
    // Placing a relationship counted on what it carries: those first.
    for ((then, firsts), edge) in placed_carried {
        task_order.keep_one_of(&firsts, then, edge, &tasks);
    }
    for ((then, firsts), edge) in carried {
        task_order.keep_one_of(&firsts, then, edge, &tasks);
    }
    // Then the refreshes whose sender a task applies without their code.
    let sent = refreshes_sent(semantic, &monolith, &catalogs);
    carry_refreshes(
        &sent,
        &mut task_order,
        &tasks,
        &applying,
        &mut monolith.hazards,
    );
    order_relayed_refreshes(&catalogs, &borrowing, &task_of, &mut task_order, &tasks);
    for uncertain in orders.iter().filter(|o| !o.certain) {
        task_order.keep(uncertain, &task_of, &tasks);
    }
    // A task applying a borrowed unit applies it where it stands in the
    // order: after what that unit runs after (where that closes no cycle),
    // or it would apply it too early.
    let mut before_unit: FastMap<usize, Vec<&Order>> = FastMap::default();
    for order in &orders {
        before_unit.entry(order.then).or_default().push(order);
    }
    for task in &tasks {
        let Some(&home) = task.units.first() else {
            continue;
        };
        let mut firsts: FastSet<usize> = FastSet::default();
        for unit in &task.borrowed {
            for &order in before_unit.get(unit).into_iter().flatten() {
                if firsts.insert(task_of[order.first]) {
                    let inherited = Order {
                        then: home,
                        certain: false,
                        ..*order
                    };
                    task_order.keep(&inherited, &task_of, &tasks);
                }
            }
        }
    }
    let TaskOrder {
        order,
        cuts,
        mut against_stages,
        soft_dropped,
        ..
    } = task_order;
    against_stages.sort();
    against_stages.dedup();
    monolith.hazards.extend(against_stages);
    for ((location, collector, why), declarers) in &uncertain {
        const SHOWN: usize = 5;
        let mut named: Vec<&str> = declarers.iter().map(String::as_str).take(SHOWN).collect();
        if declarers.len() > SHOWN {
            named.push("...");
        }
        monolith.hazards.push(format!(
            "{collector} ({location}) may collect what {} other units or classes declare in other tasks ({}): titles or names only known at run time decide, so nothing was merged; {why}",
            declarers.len(),
            named.join(", ")
        ));
    }
    if soft_dropped > 0 {
        monolith.hazards.push(format!(
            "{soft_dropped} orderings were not kept in task order (through collectors that only may match or that join a task applying the collector to one holding what it collects, or from code naming a module's anchor to the units applying it): each would have closed a cycle of tasks"
        ));
    }
    let task_groups: Vec<&BTreeSet<String>> = tasks.iter().map(|task| &task.groups).collect();
    for (a, b) in transitive_reduction(&task_groups, &order) {
        let first = tasks[a].id.clone();
        tasks[b].requires.insert(first);
    }
    let all_groups: BTreeSet<String> = tasks.iter().flat_map(|t| t.groups.clone()).collect();
    let mut globals = Task::new(GLOBALS.to_string(), Vec::new());
    globals.groups = all_groups.clone();
    globals.source = monolith
        .assignments()
        .iter()
        .map(|a| files[a.file].location(a.statement.span).to_string())
        .collect();
    let mut hiera = Task::new(HIERA.to_string(), Vec::new());
    hiera.groups = all_groups;
    hiera.requires.insert(GLOBALS.to_string());
    for task in &mut tasks {
        if task.requires.is_empty() {
            task.requires.insert(HIERA.to_string());
        }
    }
    let mut all = vec![globals, hiera];
    all.extend(tasks);

    let mut hazards = std::mem::take(&mut monolith.hazards);
    hazards.extend(declared_twice(&monolith, &all));
    let opened = monolith
        .scopes
        .iter()
        .filter_map(|scope| {
            Some(Opened {
                class: scope.class.clone()?,
                reason: scope.reason.clone(),
                declared_at: scope.declared_at.clone(),
            })
        })
        .collect();
    let orderer_units: BTreeMap<String, Vec<usize>> = all
        .iter()
        .flat_map(|task| task.orderers.keys())
        .map(|class| {
            let units = semantic
                .holder(&Vertex::class(class))
                .and_then(|holder| catalogs.units_with.get(&holder).cloned())
                .unwrap_or_default();
            (class.clone(), units)
        })
        .collect();
    let unit_holders = catalogs
        .units
        .iter()
        .map(|unit| {
            unit.holders
                .iter()
                .filter_map(|h| match semantic.vertex(h) {
                    Vertex::Class { name } | Vertex::Type { name } => Some(name.clone()),
                    _ => None,
                })
                .collect()
        })
        .collect();
    let unit_reads = catalogs
        .units
        .iter()
        .map(|unit| {
            unit.holders
                .iter()
                .flat_map(|h| semantic.edges_of(h))
                .filter(|(_, edge)| edge.kind == EdgeKind::ReadsVariable)
                .filter_map(|(_, edge)| match &edge.to {
                    Vertex::Variable { name } => name
                        .strip_prefix("::")
                        .filter(|rest| !rest.contains("::"))
                        .map(str::to_string),
                    _ => None,
                })
                .collect()
        })
        .collect();
    let undeclared_classes = catalogs.undeclared_classes(semantic);
    Ok(Proposal {
        semantic,
        undeclared_classes,
        unit_reads,
        monolith,
        tasks: all,
        merges,
        borrows: borrowing,
        cuts,
        hazards,
        target: options.target,
        roles,
        truths,
        opened,
        assumptions: options.assumptions.clone(),
        pruned,
        undecided,
        unused_assumptions: options
            .assumptions
            .iter()
            .filter_map(|(expression, _)| units::unwritten(files, expression))
            .collect(),
        unwritten_role_var: options
            .role_var
            .as_deref()
            .and_then(|role_var| units::unwritten(files, role_var)),
        entries: options
            .entries
            .iter()
            .map(|entry| match entry {
                Entry::File(file) => file.to_string(),
                Entry::Class(name) => format!("class {name}"),
            })
            .collect(),
        unit_holders,
        orderer_units,
        plan_misses: plan_misses(&options.plan, analysis, &unit_labels, &proposed_names),
    })
}

/// The plan file's entries that name nothing of this split: a unit
/// label, a proposed task or a class that is not there (a typo, or code
/// changed since the plan was written).
fn plan_misses(
    plan: &Plan,
    analysis: &crate::analysis::Analysis,
    unit_labels: &BTreeSet<String>,
    proposed: &BTreeSet<String>,
) -> Vec<PlanMiss> {
    let units: Vec<String> = unit_labels.iter().cloned().collect();
    let tasks: Vec<String> = proposed.iter().cloned().collect();
    let classes: Vec<String> = analysis.codebase.class_names().cloned().collect();
    let mut misses = Vec::new();
    let mut check = |key: &'static str, entry: &String, found: bool, known: &Vec<String>| {
        if !found {
            misses.push(PlanMiss {
                key,
                entry: entry.clone(),
                known: known.clone(),
            });
        }
    };
    for entry in &plan.exclude {
        check("exclude", entry, unit_labels.contains(entry), &units);
    }
    for entry in plan.pin.keys() {
        check("pin", entry, unit_labels.contains(entry), &units);
    }
    for entry in plan.merge.values().flatten() {
        check("merge", entry, proposed.contains(entry), &tasks);
    }
    for entry in plan.rename.keys() {
        let found = proposed.contains(entry) || plan.merge.contains_key(entry);
        check("rename", entry, found, &tasks);
    }
    let defined = |class: &String| classes.binary_search(&normalize(class)).is_ok();
    for entry in &plan.open {
        check("open", entry, defined(entry), &classes);
    }
    for entry in &plan.keep {
        check("keep", entry, defined(entry), &classes);
    }
    misses
}

impl Task {
    /// The units its manifest applies: its own and those it borrows, in
    /// source order.
    pub fn applied(&self) -> Vec<usize> {
        let mut all: Vec<usize> = self.units.iter().chain(&self.borrowed).copied().collect();
        all.sort();
        all.dedup();
        all
    }

    fn new(id: String, units: Vec<usize>) -> Task {
        Task {
            id,
            units,
            groups: BTreeSet::new(),
            requires: BTreeSet::new(),
            classes: BTreeSet::new(),
            relationships: Vec::new(),
            detached: BTreeSet::new(),
            stripped: BTreeSet::new(),
            borrowed: BTreeSet::new(),
            orderers: BTreeMap::new(),
            source: Vec::new(),
        }
    }
}

/// How the hazards of a collector's uncertain matches are gathered: where
/// it is written, what it is, why it matters.
fn uncertain_key(collector: &CollectorUse, why: &str) -> (String, String, String) {
    (
        collector.collector.location.to_string(),
        collector.collector.collector.label(),
        why.to_string(),
    )
}

/// What each group applies: its units and, for each unit it borrows, that
/// unit's whole group (a unit is applied with what its task joins to it,
/// such as the overrides of its resources), or the unit alone where that
/// is all it needs (`Violation::alone`).
fn with_borrowed_groups(
    groups: &BTreeMap<usize, Vec<usize>>,
    borrowed: &[BTreeSet<usize>],
    borrowed_alone: &[BTreeSet<usize>],
    sets: &mut UnionFind,
) -> BTreeMap<usize, Vec<usize>> {
    let first_of: FastMap<usize, usize> = groups
        .keys()
        .map(|&first| (sets.find(first), first))
        .collect();
    groups
        .iter()
        .map(|(&first, members)| {
            let mut all: BTreeSet<usize> = members.iter().copied().collect();
            for &member in members {
                for &lent in &borrowed[member] {
                    let group = first_of[&sets.find(lent)];
                    all.extend(groups[&group].iter().copied());
                }
                all.extend(borrowed_alone[member].iter().copied());
            }
            (first, all.into_iter().collect())
        })
        .collect()
}

/// The edge declaring a collector.
fn collect_edge<'a>(
    semantic: &Semantic<'a>,
    collector: &CollectorUse<'a>,
) -> Option<&'a crate::model::Edge> {
    semantic
        .edges_of(collector.holder)
        .map(|(_, edge)| edge)
        .find(|edge| edge.kind == EdgeKind::Collect && edge.to == collector.collector.collector)
}

/// The first unit of the group holding `unit`.
fn sets_first(groups: &BTreeMap<usize, Vec<usize>>, unit: usize) -> usize {
    groups
        .iter()
        .find(|(_, members)| members.contains(&unit))
        .map(|(&first, _)| first)
        .expect("every unit is in a group")
}

/// What a task applies on a role, and the holders its catalog holds there.
type TaskCatalog = (Vec<usize>, HolderSet);

/// Finds the tasks holding all the ends of each relationship statement
/// (where it may go, see `Placement`), and marks the chains of units that
/// name what their task does not hold.
fn place_relationships<'a>(
    semantic: &Semantic<'a>,
    monolith: &Monolith,
    catalogs: &Catalogs,
    roles: &[String],
    tasks: &mut [Task],
    hazards: &mut Vec<String>,
) -> Vec<Placement<'a>> {
    let files = &semantic.analysis.codebase.files;
    // What each task applies and holds on each role, once.
    let groups: Vec<BTreeSet<String>> = tasks.iter().map(|task| task.groups.clone()).collect();
    let catalogs_of: Vec<Vec<TaskCatalog>> = tasks
        .iter()
        .map(|task| {
            let applied = task.applied();
            (0..roles.len())
                .map(|role| {
                    let here: Vec<usize> = applied
                        .iter()
                        .copied()
                        .filter(|&u| monolith.units[u].roles.contains(&roles[role]))
                        .collect();
                    let mut holders = HolderSet::default();
                    for &u in &here {
                        holders.union_with(&catalogs.holders_on(u, role));
                    }
                    (here, holders)
                })
                .collect()
        })
        .collect();
    // The ends of the relationships written from `start` to `end`, each
    // with what puts it in a catalog, resolved once for every task.
    let ends_of = |file: usize, start: (u32, u32), end: (u32, u32)| -> Vec<HeldBy> {
        semantic
            .edges_between(&files[file].path, start, end)
            .filter_map(|(_, edge)| Some((edge, edge.kind.from_runs_first()?)))
            .flat_map(|(edge, from_first)| [(&edge.from, from_first), (&edge.to, !from_first)])
            .filter_map(|(end, runs_first)| match end {
                Vertex::Class { .. } | Vertex::Resource { scope: None, .. } => {
                    Some(HeldBy::Declared(end, semantic.declarers(end)))
                }
                // Declared by a statement of the same scope: held with the
                // units declaring it.
                Vertex::Resource { .. } if semantic.declared_in_scope(end) => {
                    Some(HeldBy::Declared(end, Vec::new()))
                }
                // A collector orders only what the task declares of what it
                // may collect: elsewhere, task order carries it.
                Vertex::Collector { .. } => Some(HeldBy::Collected {
                    resources: semantic
                        .collectors_named(end)
                        .iter()
                        .flat_map(|collector| {
                            semantic
                                .collected(collector)
                                .filter_map(|(resource, matches)| {
                                    // Only what some catalog holds.
                                    let holder = semantic.holder(&resource.holder).filter(|h| {
                                        catalogs.units_with.contains_key(h)
                                            || catalogs.walked.contains(h)
                                    })?;
                                    Some((
                                        holder,
                                        &resource.resource,
                                        matches == crate::semantic::Match::Yes,
                                    ))
                                })
                        })
                        .collect(),
                    collected_first: runs_first,
                }),
                _ => None,
            })
            .collect()
    };
    // What a task applies and holds on a role where `statement` is
    // evaluated: not what another branch applies (a class opened twice has
    // a copy of its statements under each declaration's guards, and no
    // node applies two of them), rare, so computed only then.
    let catalog_with = |at: usize, role: usize, statement: &units::Unit| {
        let whole = &catalogs_of[at][role];
        let excluded = |&u: &usize| monolith.units[u].excludes(statement);
        if !whole.0.iter().any(excluded) {
            return Cow::Borrowed(whole);
        }
        let here: Vec<usize> = whole.0.iter().copied().filter(|u| !excluded(u)).collect();
        let mut holders = HolderSet::default();
        for &u in &here {
            holders.union_with(&catalogs.holders_on(u, role));
        }
        Cow::Owned((here, holders))
    };
    // Whether a catalog (what a task applies and holds on a role) holds a
    // resource a collector may collect.
    let applies = |(applied_here, holders): &TaskCatalog, holder: HolderId, resource: &Vertex| {
        holders.contains(holder) || {
            let owners = catalogs.owning_units(resource);
            applied_here.iter().any(|u| owners.contains(u))
        }
    };
    // Whether a task's catalog holds every one of `ends` (there is one at
    // least) of `statement`, on each role both the task and the statement
    // run on.
    let ends_held = |at: usize, statement: &units::Unit, ends: &[HeldBy]| {
        let running: Vec<usize> = (0..roles.len())
            .filter(|&r| statement.roles.contains(&roles[r]) && groups[at].contains(&roles[r]))
            .collect();
        !running.is_empty()
            && !ends.is_empty()
            && running.iter().all(|&role| {
                let catalog = catalog_with(at, role, statement);
                let (applied_here, holders) = catalog.as_ref();
                ends.iter().all(|end| match end {
                    // An opened class is in no task's catalog (its
                    // statements are copied, it is not declared): a
                    // statement naming it goes in no task, task order
                    // carries it through what the class contains.
                    HeldBy::Declared(Vertex::Class { .. }, declarers) => {
                        declarers.iter().any(|&id| holders.contains(id))
                    }
                    HeldBy::Declared(end, declarers) => catalogs.holds_where(
                        declarers,
                        |id| holders.contains(id),
                        applied_here,
                        end,
                    ),
                    HeldBy::Collected { resources, .. } => resources
                        .iter()
                        .any(|&(holder, resource, _)| applies(&catalog, holder, resource)),
                })
            })
    };
    let mut placements = Vec::new();
    for (index, relationship) in monolith.relationships.iter().enumerate() {
        let start = (relationship.location.line, relationship.location.column);
        let mut ends = ends_of(relationship.file, start, relationship.end);
        // Its operands read other classes' variables: where those classes
        // are evaluated.
        ends.extend(
            semantic
                .edges_between(&files[relationship.file].path, start, relationship.end)
                .filter_map(|(_, edge)| match (&edge.kind, &edge.to) {
                    (EdgeKind::ReadsVariable, Vertex::Variable { name })
                        if semantic.variable_class(name).is_some() =>
                    {
                        Some(HeldBy::Declared(&edge.to, semantic.declarers(&edge.to)))
                    }
                    _ => None,
                }),
        );
        let candidates: Vec<usize> = (0..tasks.len())
            .filter(|&at| ends_held(at, relationship, &ends))
            .collect();
        let edge = semantic
            .edges_between(&files[relationship.file].path, start, relationship.end)
            .map(|(_, edge)| edge)
            .find(|edge| edge.kind.from_runs_first().is_some());
        if candidates.is_empty() {
            // Task order carries an ordering, never a refresh.
            let refresh = semantic
                .edges_between(&files[relationship.file].path, start, relationship.end)
                .map(|(_, edge)| edge)
                .find(|edge| edge.kind.refreshes() && semantic.refresh_matters(&edge.to));
            if let Some(refresh) = refresh {
                let (sender, refreshed) = (refresh.from.label(), refresh.to.label());
                let changed = match refresh.from {
                    Vertex::Collector { .. } => format!("what {sender} collects"),
                    _ => sender.clone(),
                };
                hazards.push(format!(
                    "the refresh {sender} ~> {refreshed} ({}) is in no task: no task applies \
                     both its ends, so where {changed} changes, {refreshed} is not refreshed; \
                     join their units in one task with the plan file",
                    refresh.location,
                ));
            }
        }
        let (Some(edge), false) = (edge, candidates.is_empty()) else {
            continue;
        };
        // Per resource a collector surely collects, the tasks applying it
        // on a role the relationship runs on.
        let running: Vec<usize> = (0..roles.len())
            .filter(|&role| relationship.roles.contains(&roles[role]))
            .collect();
        let collects = ends
            .iter()
            .any(|end| matches!(end, HeldBy::Collected { .. }));
        let catalogs_here: Vec<(usize, usize, Cow<TaskCatalog>)> = (0..tasks.len())
            .filter(|_| collects)
            .flat_map(|at| running.iter().map(move |&role| (at, role)))
            .map(|(at, role)| (at, role, catalog_with(at, role, relationship)))
            .collect();
        let collected = ends
            .iter()
            .filter_map(|end| match end {
                HeldBy::Collected {
                    resources,
                    collected_first,
                } => Some(CollectorEnd {
                    collected_first: *collected_first,
                    applying: resources
                        .iter()
                        .filter(|(_, _, surely)| *surely)
                        .map(|&(holder, resource, _)| {
                            catalogs_here
                                .iter()
                                .filter(|(_, _, catalog)| applies(catalog, holder, resource))
                                .map(|&(at, role, _)| (at, role))
                                .collect()
                        })
                        .collect(),
                }),
                HeldBy::Declared(..) => None,
            })
            .collect();
        placements.push(Placement {
            relationship: index,
            candidates,
            collected,
            edge,
        });
    }
    let detached: Vec<Vec<usize>> = (0..tasks.len())
        .map(|at| {
            tasks[at]
                .units
                .iter()
                .copied()
                .filter(|&u| !catalogs.units[u].orderings.is_empty())
                .filter(|&u| {
                    let unit = &monolith.units[u];
                    let start = (unit.location.line, unit.location.column);
                    let ends = ends_of(unit.file, start, unit.end);
                    // Without ends (only computed ones), nothing to detach.
                    !ends.is_empty() && !ends_held(at, unit, &ends)
                })
                .collect()
        })
        .collect();
    let stripped: Vec<BTreeSet<Location>> = (0..tasks.len())
        .map(|at| {
            let mut stripped = BTreeSet::new();
            for u in tasks[at].applied() {
                for (edge, end) in &catalogs.units[u].phases {
                    let end = [HeldBy::Declared(end, semantic.declarers(end))];
                    if !ends_held(at, &monolith.units[u], &end) {
                        stripped.insert(edge.location.clone());
                    }
                }
            }
            stripped
        })
        .collect();
    for ((task, detached), stripped) in tasks.iter_mut().zip(detached).zip(stripped) {
        task.detached.extend(detached);
        task.stripped = stripped;
    }
    placements
}

/// A refresh some unit's code sends on a change of what other units
/// apply without that code.
struct SentRefresh<'a> {
    sender: &'a Vertex,
    refreshed: &'a Vertex,
    /// The units holding the code.
    code: Vec<usize>,
    /// The units applying the sender without the code.
    senders: Vec<usize>,
    edge: &'a crate::model::Edge,
}

/// The refreshes whose sender some unit applies without the code sending
/// them (an anchor sends nothing of its own: what it relays is sent where
/// the change is made).
fn refreshes_sent<'a>(
    semantic: &Semantic<'a>,
    monolith: &Monolith,
    catalogs: &Catalogs,
) -> Vec<SentRefresh<'a>> {
    let with_holder = |holder: HolderId| -> Vec<usize> {
        catalogs
            .units_with
            .get(&holder)
            .cloned()
            .unwrap_or_default()
    };
    // The units holding code written in a holder: those whose catalog
    // holds it, or the copied statement's own unit where the split copies
    // the holder.
    let code_units = |holder: HolderId, location: &Location| -> Vec<usize> {
        if catalogs.walked.contains(&holder) {
            monolith.units_at(location).collect()
        } else {
            with_holder(holder)
        }
    };
    // The units applying `end`, which a holder declares.
    let declaring_units = |holder: HolderId, end: &Vertex| -> Vec<usize> {
        if catalogs.walked.contains(&holder) {
            catalogs.owning_units(end).to_vec()
        } else {
            with_holder(holder)
        }
    };
    let mut code_of: BTreeMap<(&Vertex, &Vertex), (BTreeSet<usize>, &crate::model::Edge)> =
        BTreeMap::new();
    for edge in semantic
        .analysis
        .edges
        .iter()
        .filter(|e| e.kind.refreshes())
    {
        let (sender, refreshed) = edge.in_run_order();
        if !matches!(
            sender,
            Vertex::Class { .. } | Vertex::Resource { scope: None, .. }
        ) || is_anchor(sender)
            || !semantic.refresh_matters(refreshed)
        {
            continue;
        }
        let Some(holder) = semantic.holder(&edge.unit) else {
            continue;
        };
        let code = code_units(holder, &edge.location);
        if !code.is_empty() {
            let entry = code_of
                .entry((sender, refreshed))
                .or_insert((BTreeSet::new(), edge));
            entry.0.extend(code);
        }
    }
    code_of
        .into_iter()
        .filter_map(|((sender, refreshed), (code, edge))| {
            let senders: BTreeSet<usize> = semantic
                .declarers(sender)
                .into_iter()
                .flat_map(|declarer| declaring_units(declarer, sender))
                .filter(|unit| !code.contains(unit))
                .collect();
            (!senders.is_empty()).then(|| SentRefresh {
                sender,
                refreshed,
                code: code.into_iter().collect(),
                senders: senders.into_iter().collect(),
                edge,
            })
        })
        .collect()
}

impl SentRefresh<'_> {
    /// What task order must carry: `(task, tasks one of which runs before
    /// it)`, each task applying the sender without the code after one
    /// applying both on a role they share (`applying`: the tasks applying
    /// each unit, borrowed ones included).
    fn carried(
        &self,
        tasks: &[Task],
        applying: &[BTreeSet<usize>],
    ) -> Vec<(usize, BTreeSet<usize>)> {
        let tasks_of = |units: &[usize]| -> BTreeSet<usize> {
            units
                .iter()
                .flat_map(|&u| applying[u].iter().copied())
                .collect()
        };
        let code = tasks_of(&self.code);
        tasks_of(&self.senders)
            .difference(&code)
            .filter_map(|&then| {
                let firsts: BTreeSet<usize> = code
                    .iter()
                    .copied()
                    .filter(|&first| !tasks[first].groups.is_disjoint(&tasks[then].groups))
                    .collect();
                (!firsts.is_empty()).then_some((then, firsts))
            })
            .collect()
    }
}

/// Orders each task applying a refresh's sender without its code after
/// a task applying both (`applying`: the tasks applying each unit); what
/// task order cannot carry is a hazard.
fn carry_refreshes(
    sent: &[SentRefresh],
    task_order: &mut TaskOrder,
    tasks: &[Task],
    applying: &[BTreeSet<usize>],
    hazards: &mut Vec<String>,
) {
    for refresh in sent {
        for (then, firsts) in refresh.carried(tasks, applying) {
            if !task_order.keep_one_of(&firsts, then, refresh.edge, tasks) {
                let names: Vec<&str> = firsts.iter().map(|&t| tasks[t].id.as_str()).collect();
                hazards.push(format!(
                    "the refresh of {} on a change of {} ({}) is sent by the code of task(s) `{}`, but task `{}` applies {} without that code and cannot run after them (it would close a cycle of tasks): where it changes it first, the refresh is lost",
                    refresh.refreshed.label(),
                    refresh.sender.label(),
                    refresh.edge.location,
                    names.join("`, `"),
                    tasks[then].id,
                    refresh.sender.label(),
                ));
            }
        }
    }
}

/// Orders the own task of each unit borrowed for what a refresh relayed
/// through anchors reaches (a service) after the task borrowing it: the
/// sender (the service's settings) is in place there and has refreshed it,
/// as in the monolith, whose anchors order the sender first. Where that
/// would close a cycle of tasks it is not kept: the refresh is still sent
/// where the sender changes, but the service's own task may start it
/// before its settings are written.
fn order_relayed_refreshes(
    catalogs: &Catalogs,
    borrowing: &[Borrow],
    task_of: &[usize],
    task_order: &mut TaskOrder,
    tasks: &[Task],
) {
    for borrow in borrowing.iter().filter(|borrow| borrow.relayed) {
        let (first, home) = (task_of[borrow.by], task_of[borrow.unit]);
        let Some(edge) = catalogs.relayed_sender(borrow.by) else {
            continue;
        };
        if first != home {
            task_order.keep_one_of(&BTreeSet::from([first]), home, edge, tasks);
        }
    }
}

/// Puts each copied relationship in the first task holding its ends where
/// task order (as kept so far) can carry what its collectors order in other
/// tasks, else in the first holding its ends; returns what task order must
/// then carry, as `(task, tasks one of which runs before it)`.
fn place<'a>(
    placements: &[Placement<'a>],
    task_order: &TaskOrder,
    roles: &[String],
    tasks: &mut [Task],
) -> Vec<((usize, BTreeSet<usize>), &'a crate::model::Edge)> {
    let mut carried = Vec::new();
    for placement in placements {
        let fits = |at: usize| {
            placement
                .carried(at, roles, tasks)
                .iter()
                .all(|(then, firsts)| {
                    firsts
                        .iter()
                        .any(|&first| !task_order.reaches(*then, first))
                })
        };
        let at = placement
            .candidates
            .iter()
            .copied()
            .find(|&at| fits(at))
            .unwrap_or(placement.candidates[0]);
        tasks[at].relationships.push(placement.relationship);
        carried.extend(
            placement
                .carried(at, roles, tasks)
                .into_iter()
                .map(|required| (required, placement.edge)),
        );
    }
    carried
}

/// Where a copied relationship may go: the tasks whose catalogs hold all
/// its ends, and what its collectors order in other tasks.
struct Placement<'a> {
    relationship: usize,
    /// In task order.
    candidates: Vec<usize>,
    collected: Vec<CollectorEnd>,
    edge: &'a crate::model::Edge,
}

/// A collector at an end of a copied relationship.
struct CollectorEnd {
    /// Whether what it collects runs first.
    collected_first: bool,
    /// Per resource it surely collects, the tasks applying it and on which
    /// role (by index).
    applying: Vec<BTreeSet<(usize, usize)>>,
}

impl Placement<'_> {
    /// What task order must carry with the relationship in task `at`,
    /// as `(task, tasks one of which runs before it)`: a resource it
    /// collects that the task does not apply takes effect where it is
    /// first applied, so the task runs after one applying each resource
    /// collected first, and each task applying one collected last runs
    /// after the task.
    fn carried(
        &self,
        at: usize,
        roles: &[String],
        tasks: &[Task],
    ) -> Vec<(usize, BTreeSet<usize>)> {
        let mut carried = Vec::new();
        for end in &self.collected {
            for applying in &end.applying {
                let elsewhere: BTreeSet<usize> = applying
                    .iter()
                    .filter(|(_, role)| tasks[at].groups.contains(&roles[*role]))
                    .map(|&(task, _)| task)
                    .collect();
                if elsewhere.is_empty() || elsewhere.contains(&at) {
                    continue;
                }
                if end.collected_first {
                    carried.push((at, elsewhere));
                } else {
                    carried.extend(
                        elsewhere
                            .into_iter()
                            .map(|then| (then, BTreeSet::from([at]))),
                    );
                }
            }
        }
        carried
    }
}

/// An end of a copied relationship and what puts it in a catalog: a class
/// or resource, with its declarers; or a collector, with the resources
/// some catalog holds that it may collect (their holders, the resources
/// themselves for copied statements declaring them, and whether it surely
/// collects them), and whether they run first.
enum HeldBy<'v> {
    Declared(&'v Vertex, Vec<HolderId>),
    Collected {
        resources: Vec<(HolderId, &'v Vertex, bool)>,
        collected_first: bool,
    },
}

/// The entry class's data variables (`Monolith::shadowing`) named as a
/// top-scope variable some code reads or a fact.
fn shadowing(semantic: &Semantic, monolith: &Monolith) -> BTreeSet<String> {
    if monolith
        .scopes
        .first()
        .is_none_or(|entry| entry.class.is_none())
    {
        return BTreeSet::new();
    }
    let read_at_top: FastSet<&str> = semantic
        .analysis
        .edges
        .iter()
        .filter(|edge| edge.kind == EdgeKind::ReadsVariable)
        .filter_map(|edge| match &edge.to {
            Vertex::Variable { name } => name.strip_prefix("::"),
            _ => None,
        })
        .filter(|name| !name.contains("::"))
        .collect();
    let entry = &monolith.scopes[0];
    // A parameter's default reading its own name reads the variable of the
    // scope around the class: the top scope's (`$keystone_host =
    // $keystone_host`, Puppet 3 code).
    let reads_itself = |name: &str, default: Option<&granule_parser::Expr>| {
        let mut read = false;
        if let Some(default) = default {
            render::visit_variables(default, &mut |_, variable| {
                read |= variable.without_top() == name;
            });
        }
        read
    };
    let own_default_read: Vec<&String> = entry
        .params
        .iter()
        .filter(|(name, default)| reads_itself(name, *default))
        .map(|(name, _)| name)
        .collect();
    entry
        .params
        .iter()
        .map(|(name, _)| name)
        .chain(
            monolith
                .assignments()
                .iter()
                .filter(|assignment| assignment.scope == 0)
                .map(|assignment| &assignment.name),
        )
        .filter(|name| {
            read_at_top.contains(name.as_str())
                || crate::lint::rules::is_builtin_or_core_fact(name)
                || own_default_read.contains(name)
        })
        .cloned()
        .collect()
}

/// Drops the units the plan excludes.
fn exclude(monolith: &mut Monolith, plan: &Plan) {
    if plan.exclude.is_empty() {
        return;
    }
    let before = monolith.units.len();
    monolith
        .units
        .retain(|unit| !plan.exclude.contains(&unit.label()));
    let dropped = before - monolith.units.len();
    if dropped > 0 {
        monolith.hazards.push(format!(
            "{dropped} units excluded by the plan file: no task applies them"
        ));
    }
}

/// The first grouping, before constraints: each class declaration is a
/// task of its own; define instances of one type in one scope share one;
/// a plain resource or statement joins the class declaration of its scope
/// whose closure declares most resources of its type (the component that
/// manages that kind of thing), else its scope's own task; a class
/// declaration with the same closure as an earlier one (the same class on
/// another branch) joins it; pinned units share their pin. A class that
/// another one includes stays a task of its own: applied alone, before
/// the other applies it again, it can be ordered apart from it (a
/// service's database settings before another service's database sync,
/// which that service's own services follow); unless the other's code
/// refreshes something on a change of it (a refresh is sent only in the
/// run that makes the change), then it joins the other.
fn first_grouping(
    sets: &mut UnionFind,
    semantic: &Semantic,
    monolith: &Monolith,
    catalogs: &Catalogs,
    plan: &Plan,
) {
    let units = &monolith.units;
    let mut keyed: FastMap<String, usize> = FastMap::default();
    let mut join_key = |sets: &mut UnionFind, key: String, unit: usize| match keyed.get(&key) {
        Some(&first) => {
            sets.union(first, unit);
        }
        None => {
            keyed.insert(key, unit);
        }
    };
    let mut types_of: FastMap<HolderId, FastMap<&str, usize>> = FastMap::default();
    for resource in &semantic.analysis.resources {
        if let Some(holder) = semantic.holder(&resource.holder) {
            *types_of
                .entry(holder)
                .or_default()
                .entry(resource.type_name.as_str())
                .or_default() += 1;
        }
    }
    let class_units: Vec<usize> = (0..units.len())
        .filter(|&u| matches!(units[u].kind, UnitKind::Class(_)))
        .collect();
    let instance_units: Vec<usize> = (0..units.len())
        .filter(|&u| matches!(units[u].kind, UnitKind::Instance { .. }))
        .collect();
    let refreshes = Refreshes::new(semantic, catalogs);
    // The holders declaring a service of each literal title: what makes a
    // component.
    let mut declaring_title: FastMap<&str, Vec<HolderId>> = FastMap::default();
    for resource in semantic.resources_of_type("service") {
        if let (Some(title), Some(holder)) = (&resource.title, semantic.holder(&resource.holder)) {
            declaring_title
                .entry(title.as_str())
                .or_default()
                .push(holder);
        }
    }
    for (index, unit) in units.iter().enumerate() {
        if let Some(pin) = plan.pin.get(&unit.label()) {
            join_key(sets, format!("pin {pin}"), index);
            continue;
        }
        let roles: Vec<&String> = unit.roles.iter().collect();
        match &unit.kind {
            UnitKind::Class(_) => {
                let mine = &catalogs.units[index].holders;
                let mut set_off = None;
                let container = class_units
                    .iter()
                    .chain(&instance_units)
                    .copied()
                    .filter(|&other| {
                        let theirs = &catalogs.units[other].holders;
                        other != index
                            && units[other].scope == unit.scope
                            && unit.roles.is_subset(&units[other].roles)
                            && mine.is_subset(theirs)
                            && if theirs.is_subset(mine) {
                                other < index
                            } else {
                                let set_off =
                                    set_off.get_or_insert_with(|| refreshes.set_off_by(mine));
                                refreshes.lost_apart(set_off, mine, theirs)
                                    || refreshes.ordered_ahead(mine, theirs)
                            }
                    })
                    .min_by_key(|&other| other.abs_diff(index));
                if let Some(container) = container {
                    sets.union(container, index);
                }
            }
            UnitKind::Instance { type_name, title } => {
                // An instance named after a service a class declares (a
                // tweak of service `x`, titled `x`) goes with that class:
                // the smallest, nearest one whose closure declares it.
                // Others go with the instances of their type.
                let titles: Vec<&str> = title
                    .trim_matches(|c| c == '[' || c == ']')
                    .split(',')
                    .map(|t| t.trim().trim_matches(|c| c == '\'' || c == '"'))
                    .filter(|t| !t.is_empty())
                    .collect();
                let named: FastSet<HolderId> = titles
                    .iter()
                    .flat_map(|t| declaring_title.get(t).into_iter().flatten().copied())
                    .collect();
                let component = class_units
                    .iter()
                    .copied()
                    .filter(|&other| {
                        units[other].scope == unit.scope
                            && unit.roles.is_subset(&units[other].roles)
                            && named
                                .iter()
                                .any(|&h| catalogs.units[other].holders.contains(h))
                    })
                    .min_by_key(|&other| {
                        (catalogs.units[other].holders.len(), other.abs_diff(index))
                    });
                match component {
                    Some(other) => {
                        sets.union(other, index);
                    }
                    None => join_key(
                        sets,
                        format!("instances {} {type_name} {roles:?}", unit.scope),
                        index,
                    ),
                }
            }
            UnitKind::Resource { .. } | UnitKind::Statement => {
                let declared: Vec<&str> = semantic
                    .edges_between(
                        &unit.location.file,
                        (unit.location.line, unit.location.column),
                        unit.end,
                    )
                    .filter_map(|(_, edge)| match (&edge.kind, &edge.to) {
                        (
                            EdgeKind::Declare | EdgeKind::DeclareVirtual,
                            Vertex::Resource { type_name, .. },
                        ) => Some(type_name.as_str()),
                        _ => None,
                    })
                    .collect();
                let affinity = |other: usize| -> usize {
                    catalogs.units[other]
                        .holders
                        .iter()
                        .filter_map(|h| types_of.get(&h))
                        .map(|types| {
                            declared
                                .iter()
                                .map(|t| types.get(t).copied().unwrap_or(0))
                                .sum::<usize>()
                        })
                        .sum()
                };
                let best = class_units
                    .iter()
                    .copied()
                    .filter(|&other| {
                        units[other].scope == unit.scope
                            && unit.roles.is_subset(&units[other].roles)
                    })
                    .map(|other| (affinity(other), other))
                    .filter(|(score, _)| *score > 0)
                    .max_by_key(|&(score, other)| {
                        (score, std::cmp::Reverse(other.abs_diff(index)))
                    });
                match best {
                    Some((_, other)) => {
                        sets.union(other, index);
                    }
                    None => join_key(sets, format!("scope {} {roles:?}", unit.scope), index),
                }
            }
        }
    }
}

/// An ordering between two units.
#[derive(Debug, Clone, Copy)]
struct Order<'a> {
    first: usize,
    then: usize,
    edge: &'a crate::model::Edge,
    /// False when it goes through a collector that only may match, or
    /// stands for a module's anchor: kept in task order unless it closes a
    /// cycle, never a reason to merge.
    certain: bool,
}

/// Ordering between units, from the relationships that may cross tasks:
/// those of copied statements (their references are dropped from the copy
/// when they cross) and those of collectors matching resources of other
/// tasks.
fn unit_orders<'a>(
    semantic: &Semantic<'a>,
    monolith: &Monolith<'a>,
    catalogs: &Catalogs<'a>,
    uses: &[CollectorUse<'a>],
    roles: &[String],
) -> Vec<Order<'a>> {
    let files = &semantic.analysis.codebase.files;
    let mut orders = Vec::new();
    // The roles (bits, by index) each unit runs on: an end stands for a
    // unit on some of them only, and a relationship holds inside one
    // node's catalog, so it orders units only on roles both ends share.
    // Roles past the 63rd share the last bit: told apart no more, each
    // unit holding an end on one of them stands for it.
    let bit = |role: usize| -> u64 { 1 << role.min(63) };
    let shared: u64 = if roles.len() > 64 { bit(63) } else { 0 };
    let unit_roles: Vec<u64> = monolith
        .units
        .iter()
        .map(|unit| {
            roles
                .iter()
                .enumerate()
                .filter(|(_, role)| unit.roles.contains(*role))
                .fold(0, |bits, (at, _)| bits | bit(at))
        })
        .collect();
    // Per role, the first unit (in source order) whose catalog holds
    // `holds` on it.
    let first_holding = |holds: &dyn Fn(usize, usize) -> bool,
                         units: &mut dyn Iterator<Item = usize>| {
        let mut left: u64 = unit_roles.iter().fold(0, |all, bits| all | bits);
        let mut found: Vec<(usize, u64)> = Vec::new();
        for unit in units {
            if left == 0 {
                break;
            }
            let bits = (0..roles.len())
                .filter(|&role| left & unit_roles[unit] & bit(role) != 0 && holds(unit, role))
                .fold(0, |bits, role| bits | bit(role));
            if bits != 0 {
                found.push((unit, bits));
                left &= !(bits & !shared);
            }
        }
        found
    };
    let holding = |holder: HolderId| -> Vec<(usize, u64)> {
        let mut units = catalogs
            .units_with
            .get(&holder)
            .cloned()
            .unwrap_or_default();
        units.sort_unstable();
        first_holding(
            &|unit, role| catalogs.holds_on(unit, holder, role),
            &mut units.into_iter(),
        )
    };
    let resolve_end = |end: &Vertex| -> Vec<(usize, bool, u64)> {
        match end {
            Vertex::Class { name } => {
                // An opened class stands for what it contains: the
                // statements of its own body, not the classes it includes
                // or declares (Puppet's containment: only `contain` does).
                if let Some(scope) = monolith.scope_of_class(name) {
                    return (0..monolith.units.len())
                        .filter(|&u| monolith.units[u].scope == scope)
                        .filter(|&u| monolith.units[u].contained())
                        .map(|u| (u, true, unit_roles[u]))
                        .collect();
                }
                let direct: Vec<(usize, bool, u64)> = (0..monolith.units.len())
                    .filter(|&u| monolith.units[u].kind == UnitKind::Class(name.clone()))
                    .map(|u| (u, true, unit_roles[u]))
                    .collect();
                if !direct.is_empty() {
                    return direct;
                }
                semantic
                    .holder(end)
                    .map(holding)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(u, bits)| (u, true, bits))
                    .collect()
            }
            Vertex::Resource { scope: None, .. } => first_holding(
                &|unit, role| catalogs.holds_end_on(semantic, unit, end, role),
                &mut (0..monolith.units.len()),
            )
            .into_iter()
            .map(|(u, bits)| (u, true, bits))
            .collect(),
            Vertex::Resource { .. } => catalogs
                .owning_units(end)
                .iter()
                .map(|&u| (u, true, unit_roles[u]))
                .collect(),
            Vertex::Collector { .. } => {
                let mut found: Vec<(usize, bool, u64)> = Vec::new();
                for (at, sure) in catalogs.collected_at(semantic, monolith, end) {
                    match at {
                        DeclaredAt::Unit(unit) => found.push((unit, sure, unit_roles[unit])),
                        DeclaredAt::Holder(holder) => found
                            .extend(holding(holder).into_iter().map(|(u, bits)| (u, sure, bits))),
                    }
                }
                found.sort();
                found.dedup_by(|later, kept| {
                    later.0 == kept.0 && {
                        kept.2 |= later.2;
                        true
                    }
                });
                found
            }
            _ => Vec::new(),
        }
    };
    // Many edges share an end: each is resolved once.
    let mut resolved: FastMap<&Vertex, Vec<(usize, bool, u64)>> = FastMap::default();
    let mut end_units = |end: &'a Vertex| -> Vec<(usize, bool, u64)> {
        resolved
            .entry(end)
            .or_insert_with(|| resolve_end(end))
            .clone()
    };
    // A copied metaparameter naming an opened class (a phase that is no
    // module's anchor) orders the unit against the class's statements.
    let mut statement_edges: Vec<&'a crate::model::Edge> = catalogs
        .units
        .iter()
        .flat_map(|unit| {
            let opened = unit
                .phases
                .iter()
                .filter(|(_, end)| semantic.declared_by_orderer(end).is_none())
                .map(|&(edge, _)| edge);
            unit.orderings.iter().copied().chain(opened)
        })
        .collect();
    for relationship in &monolith.relationships {
        let file = &files[relationship.file];
        let start = (relationship.location.line, relationship.location.column);
        statement_edges.extend(
            semantic
                .edges_between(&file.path, start, relationship.end)
                .map(|(_, edge)| edge)
                .filter(|edge| edge.kind.from_runs_first().is_some()),
        );
    }
    // A copied relationship's collector lending what it surely collects
    // orders it in the task applying the statement (see above).
    let lent: FastSet<&Vertex> = uses
        .iter()
        .filter(|collector| collector.relationship.is_some() && collector.lends())
        .map(|collector| &collector.collector.collector)
        .collect();
    for edge in statement_edges {
        let first = edge.kind.from_runs_first().unwrap_or(true);
        let (a, b) = if first {
            (&edge.from, &edge.to)
        } else {
            (&edge.to, &edge.from)
        };
        let [before, after] = [a, b].map(|end| {
            let mut units = end_units(end);
            if lent.contains(end) {
                units.retain(|&(_, sure, _)| !sure);
            }
            units
        });
        for &(first, sure_first, roles_first) in &before {
            for &(then, sure_then, roles_then) in &after {
                if first != then && roles_first & roles_then != 0 {
                    orders.push(Order {
                        first,
                        then,
                        edge,
                        certain: sure_first && sure_then,
                    });
                }
            }
        }
    }
    // An ordering metaparameter naming a module's anchor that a unit's own
    // catalog lacks (in copied code, left out of the copy; in module code,
    // held by including the module's `deps`) stands for the units applying
    // that `deps`: task order keeps the unit on its side of them, where no
    // cycle prevents it.
    let copied = catalogs
        .units
        .iter()
        .enumerate()
        .flat_map(|(unit, catalog)| {
            catalog.phases.iter().filter_map(move |(edge, end)| {
                Some((unit, *edge, semantic.declared_by_orderer(end)?))
            })
        });
    // One module's phases order a unit the same way, whichever anchor.
    let mut phased: FastSet<(usize, HolderId, bool)> = FastSet::default();
    for (unit, edge, class) in copied.chain(catalogs.module_phases()) {
        let Some(first) = edge.kind.from_runs_first() else {
            continue;
        };
        if catalogs.units[unit].holders.contains(class) || !phased.insert((unit, class, first)) {
            continue;
        }
        for &other in catalogs.units_with.get(&class).into_iter().flatten() {
            if other == unit || unit_roles[unit] & unit_roles[other] == 0 {
                continue;
            }
            let (a, b) = if first { (unit, other) } else { (other, unit) };
            orders.push(Order {
                first: a,
                then: b,
                edge,
                certain: false,
            });
        }
    }
    // What a module orders through its anchors (`X -> Anchor[a]`, and
    // what runs after `a`): task order keeps it where no cycle prevents
    // it. Each catalog holding the anchors orders what it holds of both;
    // between tasks nothing else would.
    // (Each pair of units once: a module's anchors order the same units
    // through many edges.)
    let mut through_anchors: FastSet<(usize, usize)> = FastSet::default();
    let mut after_anchor: FastMap<&'a Vertex, Vec<&'a Vertex>> = FastMap::default();
    let mut stand_ins = |anchor: &'a Vertex| -> Vec<&'a Vertex> {
        after_anchor
            .entry(anchor)
            .or_insert_with(|| semantic.ordered_after(anchor))
            .clone()
    };
    for edge in semantic.anchored_edges() {
        let (earlier, anchor) = edge.in_run_order();
        if crate::semantic::is_anchor(earlier) || !crate::semantic::is_anchor(anchor) {
            continue;
        }
        let before = end_units(earlier);
        for after in stand_ins(anchor) {
            for &(then, _, roles_then) in &end_units(after) {
                for &(first, _, roles_first) in &before {
                    if first != then
                        && roles_first & roles_then != 0
                        && through_anchors.insert((first, then))
                    {
                        orders.push(Order {
                            first,
                            then,
                            edge,
                            certain: false,
                        });
                    }
                }
            }
        }
    }
    // (A copied relationship's collectors order with its statement, above.)
    for collector in uses.iter().filter(|c| c.relationship.is_none()) {
        // A resource the collector meets in some unit's catalog is ordered
        // there; only those it meets nowhere need task order.
        let with_collector: FastSet<usize> = catalogs
            .units_with
            .get(&collector.holder)
            .into_iter()
            .flatten()
            .copied()
            .collect();
        let collected: Vec<(usize, bool, u64)> = collector
            .matched
            .iter()
            .filter(|h| {
                !catalogs
                    .units_with
                    .get(h)
                    .is_some_and(|units| units.iter().any(|u| with_collector.contains(u)))
            })
            .flat_map(|&h| {
                let sure = collector.surely.contains(&h);
                holding(h).into_iter().map(move |(u, bits)| (u, sure, bits))
            })
            .collect();
        for &(collected_first, edge) in &collector.orders {
            let other = if edge.from == collector.collector.collector {
                &edge.to
            } else {
                &edge.from
            };
            for &(y, sure_other, roles_other) in &end_units(other) {
                for &(x, sure, roles_collected) in &collected {
                    if x != y && roles_other & roles_collected != 0 {
                        let (first, then) = if collected_first { (x, y) } else { (y, x) };
                        orders.push(Order {
                            first,
                            then,
                            edge,
                            certain: sure && sure_other,
                        });
                    }
                }
            }
        }
    }
    orders
}

/// The order between tasks as it is built: run stages first, then each
/// ordering kept unless one kept before contradicts it.
struct TaskOrder {
    order: BTreeSet<(usize, usize)>,
    cuts: Vec<Cut>,
    /// Certain orderings not kept: they contradict the run stages or
    /// orderings kept before them.
    against_stages: Vec<String>,
    /// Uncertain or carried orderings not kept (each would close a cycle).
    soft_dropped: usize,
    /// `order`'s transitive closure: per task, the tasks it runs before
    /// (one bit each), kept as orderings are added, so that asking whether
    /// one would close a cycle does not walk the order each time.
    after: Vec<Vec<u64>>,
}

impl TaskOrder {
    fn new(tasks: usize) -> TaskOrder {
        TaskOrder {
            order: BTreeSet::new(),
            cuts: Vec::new(),
            against_stages: Vec::new(),
            soft_dropped: 0,
            after: vec![vec![0; tasks.div_ceil(64)]; tasks],
        }
    }

    /// Whether the order leads from task `from` to task `to` (a task leads
    /// to itself).
    fn reaches(&self, from: usize, to: usize) -> bool {
        from == to || self.after[from][to / 64] & (1 << (to % 64)) != 0
    }

    /// Adds `a` before `b`: whatever runs before `a` (and `a`) now runs
    /// before `b` and what `b` runs before.
    fn insert(&mut self, a: usize, b: usize) {
        self.order.insert((a, b));
        if self.reaches(a, b) {
            return;
        }
        let mut added = self.after[b].clone();
        added[b / 64] |= 1 << (b % 64);
        for task in 0..self.after.len() {
            if self.reaches(task, a) {
                for (word, new) in self.after[task].iter_mut().zip(&added) {
                    *word |= new;
                }
            }
        }
    }

    /// Orders the tasks of an ordering's units, unless they are one task
    /// or it would close a cycle.
    fn keep(&mut self, kept: &Order, task_of: &[usize], tasks: &[Task]) {
        let edge = kept.edge;
        let (a, b) = (task_of[kept.first], task_of[kept.then]);
        if a == b || self.order.contains(&(a, b)) {
            return;
        }
        if self.reaches(b, a) {
            if kept.certain {
                self.against_stages.push(format!(
                    "{} {} {} ({}): `{}` would run before `{}`, against the run stages or the orderings kept before it; not kept",
                    edge.from.label(),
                    edge.kind.name(),
                    edge.to.label(),
                    edge.location,
                    tasks[a].id,
                    tasks[b].id
                ));
            } else {
                self.soft_dropped += 1;
            }
            return;
        }
        self.insert(a, b);
        self.cuts.push(Cut::new(edge, [&tasks[a].id, &tasks[b].id]));
    }

    /// Orders `then` after one of `firsts` (the first that closes no
    /// cycle), unless one of them runs before it already; false when each
    /// would close a cycle.
    fn keep_one_of(
        &mut self,
        firsts: &BTreeSet<usize>,
        then: usize,
        edge: &crate::model::Edge,
        tasks: &[Task],
    ) -> bool {
        if firsts.iter().any(|&first| self.reaches(first, then)) {
            return true;
        }
        let Some(&first) = firsts.iter().find(|&&first| !self.reaches(then, first)) else {
            self.soft_dropped += 1;
            return false;
        };
        self.insert(first, then);
        self.cuts
            .push(Cut::new(edge, [&tasks[first].id, &tasks[then].id]));
        true
    }
}

/// The task order run stages give: a task whose units all run in earlier
/// stages than all of another's runs before it.
fn stage_order(
    analysis: &crate::Analysis,
    monolith: &Monolith,
    tasks: &[Task],
) -> Vec<(usize, usize)> {
    let mut before: Vec<(String, String)> = Vec::new();
    for edge in &analysis.edges {
        if let (Vertex::Stage { name: a }, Vertex::Stage { name: b }) = (&edge.from, &edge.to) {
            match edge.kind.from_runs_first() {
                Some(true) => before.push((a.clone(), b.clone())),
                Some(false) => before.push((b.clone(), a.clone())),
                None => {}
            }
        }
    }
    for edge in &analysis.edges {
        if let (
            Vertex::Resource {
                type_name, title, ..
            },
            Vertex::Stage { name },
        ) = (&edge.from, &edge.to)
        {
            if type_name == "stage" {
                match edge.kind.from_runs_first() {
                    Some(true) => before.push((title.clone(), name.clone())),
                    Some(false) => before.push((name.clone(), title.clone())),
                    None => {}
                }
            }
        }
    }
    if before.is_empty() {
        return Vec::new();
    }
    // Each stage's followers, transitively.
    let mut followers: FastMap<&str, FastSet<&str>> = FastMap::default();
    for (first, _) in &before {
        if followers.contains_key(first.as_str()) {
            continue;
        }
        let mut seen: FastSet<&str> = FastSet::default();
        let mut stack = vec![first.as_str()];
        while let Some(at) = stack.pop() {
            for (x, y) in &before {
                if x == at && seen.insert(y) {
                    stack.push(y);
                }
            }
        }
        followers.insert(first, seen);
    }
    let precedes = |a: &str, b: &str| followers.get(a).is_some_and(|after| after.contains(b));
    let stages: Vec<BTreeSet<String>> = tasks
        .iter()
        .map(|task| {
            task.units
                .iter()
                .map(|&u| {
                    monolith.units[u]
                        .stage
                        .clone()
                        .unwrap_or_else(|| "main".into())
                })
                .collect()
        })
        .collect();
    // Tasks share a few sets of stages: each pair of sets is compared once.
    let distinct: Vec<&BTreeSet<String>> =
        stages.iter().collect::<BTreeSet<_>>().into_iter().collect();
    let set_of: Vec<usize> = stages
        .iter()
        .map(|set| distinct.binary_search(&set).expect("listed"))
        .collect();
    let set_precedes: Vec<Vec<bool>> = distinct
        .iter()
        .map(|first| {
            distinct
                .iter()
                .map(|then| first.iter().all(|x| then.iter().all(|y| precedes(x, y))))
                .collect()
        })
        .collect();
    let mut order = Vec::new();
    for a in 0..tasks.len() {
        for b in 0..tasks.len() {
            if a != b && set_precedes[set_of[a]][set_of[b]] {
                order.push((a, b));
            }
        }
    }
    order
}

/// The name of a group's task: its class declaration with the largest
/// closure, else its define type, else its scope's class.
fn group_name(monolith: &Monolith, catalogs: &Catalogs, plan: &Plan, members: &[usize]) -> String {
    if let Some(pin) = members
        .iter()
        .find_map(|&u| plan.pin.get(&monolith.units[u].label()))
    {
        return pin.clone();
    }
    let class = members
        .iter()
        .filter_map(|&u| match &monolith.units[u].kind {
            UnitKind::Class(name) => {
                Some((catalogs.units[u].holders.len(), std::cmp::Reverse(u), name))
            }
            _ => None,
        })
        .max();
    if let Some((_, _, name)) = class {
        return name.clone();
    }
    for &u in members {
        if let UnitKind::Instance { type_name, .. } = &monolith.units[u].kind {
            return type_name.clone();
        }
    }
    let scope = &monolith.scopes[monolith.units[members[0]].scope];
    scope.class.clone().unwrap_or_else(|| "site".to_string())
}

/// Classes that units of several tasks sharing a role declare: on a node
/// of that role, both tasks apply them, which is what really happens twice
/// (a class merely reached by several tasks is applied again idempotently).
fn declared_twice(monolith: &Monolith, tasks: &[Task]) -> Vec<String> {
    let mut by_class: BTreeMap<&str, Vec<(&Task, usize)>> = BTreeMap::new();
    for task in tasks {
        for &unit in &task.units {
            if let UnitKind::Class(name) = &monolith.units[unit].kind {
                by_class.entry(name).or_default().push((task, unit));
            }
        }
    }
    let mut hazards = Vec::new();
    for (class, declarations) in by_class {
        // Two tasks apply it on one node: they share a role, and no branch
        // of the monolith's code keeps their declarations apart.
        let overlapping = declarations.iter().enumerate().any(|(i, (a, x))| {
            declarations[i + 1..].iter().any(|(b, y)| {
                a.id != b.id
                    && !a.groups.is_disjoint(&b.groups)
                    && !monolith.units[*x].excludes(&monolith.units[*y])
            })
        });
        if overlapping {
            let mut ids: Vec<&str> = declarations.iter().map(|(t, _)| t.id.as_str()).collect();
            ids.dedup();
            hazards.push(format!(
                "class {class} is declared by the tasks {} on a role they share: each applies it",
                ids.join(", ")
            ));
        }
    }
    hazards
}

/// Puppet compiles nothing from an entry it cannot parse: a split of what
/// parses would propose tasks for part of the monolith.
fn refuse_syntax_errors(analysis: &crate::analysis::Analysis, file: &str) -> Result<(), String> {
    let errors: Vec<String> = analysis
        .findings
        .iter()
        .filter(|finding| {
            finding.code == crate::model::SYNTAX_ERROR && *finding.location.file == *file
        })
        .map(|finding| format!("{}: {}", finding.location, finding.message))
        .collect();
    if errors.is_empty() {
        return Ok(());
    }
    Err(format!(
        "{}\n{file} does not parse, and Puppet compiles nothing from it: fix it (`granule \
         parse {file}` shows each error) and split again",
        errors.join("\n")
    ))
}

fn same_path(a: &str, b: &str) -> bool {
    a == b
        || matches!(
            (std::fs::canonicalize(a), std::fs::canonicalize(b)),
            (Ok(x), Ok(y)) if x == y
        )
}

/// Keeps the tasks named in `only`, and one `legacy` task with the rest.
fn only(tasks: Vec<Task>, only: &[String], used: &mut FastSet<String>) -> Vec<Task> {
    let (kept, rest): (Vec<Task>, Vec<Task>) =
        tasks.into_iter().partition(|task| only.contains(&task.id));
    let mut result = kept;
    if !rest.is_empty() {
        let mut units: Vec<usize> = rest.iter().flat_map(|task| task.units.clone()).collect();
        units.sort();
        result.push(Task::new(unique_id(LEGACY, used), units));
    }
    result
}

/// `mysql::server` -> `mysql-server`: lower case, `-` between words.
fn task_id(name: &str) -> String {
    let id: String = name
        .to_ascii_lowercase()
        .replace("::", "-")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let id = id.trim_matches('-').to_string();
    if id.is_empty() {
        "task".to_string()
    } else {
        id
    }
}

fn unique_id(base: &str, used: &mut FastSet<String>) -> String {
    let mut id = base.to_string();
    let mut n = 2;
    while !used.insert(id.clone()) {
        id = format!("{base}-{n}");
        n += 1;
    }
    id
}

/// Union-find over units.
#[derive(Clone)]
struct UnionFind {
    parent: Vec<usize>,
}

impl UnionFind {
    fn new(len: usize) -> UnionFind {
        UnionFind {
            parent: (0..len).collect(),
        }
    }

    fn find(&mut self, at: usize) -> usize {
        let mut root = at;
        while self.parent[root] != root {
            root = self.parent[root];
        }
        let mut at = at;
        while self.parent[at] != root {
            let next = self.parent[at];
            self.parent[at] = root;
            at = next;
        }
        root
    }

    /// Joins the sets of `a` and `b`; false when already one. The smaller
    /// index stays the root, so names follow source order.
    fn union(&mut self, a: usize, b: usize) -> bool {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb {
            return false;
        }
        let (root, child) = if ra < rb { (ra, rb) } else { (rb, ra) };
        self.parent[child] = root;
        true
    }
}

/// Units grouped by set, keyed by each set's first unit.
fn groups_of(sets: &mut UnionFind, len: usize) -> BTreeMap<usize, Vec<usize>> {
    let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for unit in 0..len {
        let root = sets.find(unit);
        groups.entry(root).or_default().push(unit);
    }
    groups
        .into_values()
        .map(|members| (members[0], members))
        .collect()
}

/// Joins the tasks of one class declared alike for roles no node shares
/// (each role's class including `profile::base`): one task, run on all of
/// them, as a person splitting it would write it. Only where the closures
/// are the same and the tasks share no role, so that on each role the
/// joined task applies what its own task did (the other's units stand
/// under guards that fail there, or, each entry class a role, are written
/// once for all: only where they read the same data), and only where no
/// ordering cycle follows.
fn join_role_twins(
    sets: &mut UnionFind,
    monolith: &Monolith,
    catalogs: &Catalogs,
    orders: &[Order],
    guarded_by_role: bool,
) {
    let units = &monolith.units;
    let order: Vec<(usize, usize)> = orders
        .iter()
        .filter(|o| o.certain)
        .map(|o| (o.first, o.then))
        .collect();
    let class_units: Vec<usize> = (0..units.len())
        .filter(|&u| matches!(units[u].kind, UnitKind::Class(_)))
        .collect();
    let roles_of = |sets: &mut UnionFind, unit: usize| -> BTreeSet<&String> {
        let root = sets.find(unit);
        (0..units.len())
            .filter(|&other| sets.find(other) == root)
            .flat_map(|other| units[other].roles.iter())
            .collect()
    };
    // The data a unit's statement reads, as the tasks name it: without
    // role guards to write them under, twins reading other data (each
    // role's own arguments) stay apart.
    let data_names = |unit: usize| -> Vec<String> {
        let mut read = Vec::new();
        render::data_read(
            monolith,
            units[unit].statement,
            units[unit].scope,
            &mut read,
        );
        read.iter()
            .map(|variable| render::global_name(monolith, variable))
            .collect()
    };
    for (at, &unit) in class_units.iter().enumerate() {
        let holders = &catalogs.units[unit].holders;
        let twin = class_units[..at].iter().copied().find(|&other| {
            let theirs = &catalogs.units[other].holders;
            units[other].kind == units[unit].kind
                && holders.is_subset(theirs)
                && theirs.is_subset(holders)
                && (guarded_by_role || data_names(other) == data_names(unit))
        });
        let Some(twin) = twin.filter(|&twin| sets.find(twin) != sets.find(unit)) else {
            continue;
        };
        // On a role both run on, only tasks that do nothing but include
        // the class (an opened class's `include glance::deps`, under its
        // own guards) are one: including it again changes nothing.
        let only_includes = |sets: &mut UnionFind, member: usize| {
            let root = sets.find(member);
            (0..units.len())
                .filter(|&other| sets.find(other) == root)
                .all(|other| {
                    units[other].kind == units[unit].kind
                        && matches!(
                            units[other].statement.kind,
                            granule_parser::ExprKind::Call(_)
                        )
                })
        };
        let joinable = roles_of(sets, unit).is_disjoint(&roles_of(sets, twin))
            || only_includes(sets, unit) && only_includes(sets, twin);
        if !joinable {
            continue;
        }
        let mut joined = sets.clone();
        joined.union(unit, twin);
        if group_cycle(&groups_of(&mut joined, units.len()), &order).is_none() {
            *sets = joined;
        }
    }
}

/// Merges the groups of units on cycles of `orders` until none is left;
/// whether it merged any.
fn merge_cycles(
    sets: &mut UnionFind,
    monolith: &Monolith,
    orders: &[Order],
    merges: &mut Vec<Merge>,
) -> bool {
    let order: Vec<(usize, usize)> = orders
        .iter()
        .filter(|o| o.certain)
        .map(|o| (o.first, o.then))
        .collect();
    let mut merged = false;
    loop {
        let groups = groups_of(sets, monolith.units.len());
        let Some(cycle) = group_cycle(&groups, &order) else {
            return merged;
        };
        let (first, rest) = cycle.split_first().expect("a cycle has members");
        for other in rest {
            if sets.union(*first, *other) {
                merged = true;
                let (a, b) = (&monolith.units[*first], &monolith.units[*other]);
                merges.push(Merge {
                    units: [a.label(), b.label()],
                    reason: "their tasks would depend on each other (an ordering cycle)".into(),
                    location: b.location.clone(),
                    hub: "task order".into(),
                });
            }
        }
    }
}

/// The refreshes the code sends, to tell which a change of a part of a
/// class's catalog sets off.
struct Refreshes {
    /// Every refresh written in code some unit's catalog holds: the holder
    /// of its code, the end sending it, the end refreshed (indexes into
    /// `ends`).
    written: Vec<(HolderId, usize, usize)>,
    /// Every ordering (refreshes too) written in such code, alike.
    ordered: Vec<(HolderId, usize, usize)>,
    /// Each end: the holders in some catalog declaring it (for a
    /// collector, those of what it may collect), and whether it is an
    /// anchor.
    ends: Vec<(Vec<HolderId>, bool)>,
}

impl Refreshes {
    fn new(semantic: &Semantic, catalogs: &Catalogs) -> Self {
        let mut written = Vec::new();
        let mut ends = Vec::new();
        let mut index: FastMap<&Vertex, usize> = FastMap::default();
        // The holders in some catalog declaring an end; for a collector,
        // those of what it may collect.
        let declaring = |end: &Vertex| -> Vec<HolderId> {
            let in_catalog = |holder: &HolderId| catalogs.units_with.contains_key(holder);
            match end {
                Vertex::Collector { .. } => semantic
                    .collectors_named(end)
                    .iter()
                    .flat_map(|collector| {
                        semantic
                            .collected(collector)
                            .map(|(resource, _)| resource)
                            .filter(|resource| {
                                semantic
                                    .holder(&resource.holder)
                                    .is_some_and(|h| in_catalog(&h))
                            })
                    })
                    .filter_map(|resource| semantic.holder(&resource.holder))
                    .collect(),
                _ => semantic
                    .declarers(end)
                    .into_iter()
                    .filter(in_catalog)
                    .collect(),
            }
        };
        let mut ordered = Vec::new();
        for edge in semantic
            .analysis
            .edges
            .iter()
            .filter(|e| e.kind.from_runs_first().is_some())
        {
            let Some(code) = semantic
                .holder(&edge.unit)
                .filter(|code| catalogs.units_with.contains_key(code))
            else {
                continue;
            };
            // A relationship metaparameter's own resource is declared
            // where it is written, whatever its title.
            let declared_here = matches!(
                edge.kind,
                EdgeKind::BeforeParam
                    | EdgeKind::RequireParam
                    | EdgeKind::NotifyParam
                    | EdgeKind::SubscribeParam
            );
            let (from, to) = edge.in_run_order();
            let [from, to] = [from, to].map(|end| {
                *index.entry(end).or_insert_with(|| {
                    let mut holders = declaring(end);
                    if holders.is_empty() && declared_here && end == &edge.from {
                        holders.push(code);
                    }
                    ends.push((holders, is_anchor(end)));
                    ends.len() - 1
                })
            });
            if edge.kind.refreshes() {
                written.push((code, from, to));
            }
            ordered.push((code, from, to));
        }
        Refreshes {
            written,
            ordered,
            ends,
        }
    }

    /// Whether `whole`'s code orders something only `whole` holds before
    /// something `part` holds (neither an anchor): `part` applied alone
    /// first would run that before what must precede it.
    fn ordered_ahead(&self, part: &HolderSet, whole: &HolderSet) -> bool {
        self.ordered.iter().any(|&(code, from, to)| {
            let (first, then) = (&self.ends[from], &self.ends[to]);
            whole.contains(code)
                && !first.1
                && !then.1
                && first.0.iter().any(|&h| whole.contains(h))
                && !first.0.iter().any(|&h| part.contains(h))
                && self.held_by(to, part)
        })
    }

    fn held_by(&self, end: usize, holders: &HolderSet) -> bool {
        self.ends[end].0.iter().any(|&h| holders.contains(h))
    }

    /// The refreshes a change of what `part` holds sets off, as the holder
    /// of their code and the end refreshed: those sent by a resource of
    /// `part`, or by an anchor of `part` such a resource refreshes (an
    /// anchor relays events), wherever their code is.
    fn set_off_by(&self, part: &HolderSet) -> Vec<(HolderId, usize)> {
        let held: Vec<bool> = (0..self.ends.len())
            .map(|end| self.held_by(end, part))
            .collect();
        let mut live = vec![false; self.ends.len()];
        let sends = |from: usize, live: &[bool]| held[from] && (!self.ends[from].1 || live[from]);
        loop {
            let mut grown = false;
            for &(_, from, to) in &self.written {
                if self.ends[to].1 && !live[to] && held[to] && sends(from, &live) {
                    live[to] = true;
                    grown = true;
                }
            }
            if !grown {
                break;
            }
        }
        self.written
            .iter()
            .filter(|&&(_, from, _)| sends(from, &live))
            .map(|&(code, _, to)| (code, to))
            .collect()
    }

    /// Whether `whole`'s code refreshes something only `whole` holds, of
    /// what a change of `part` sets off (`set_off`).
    fn lost_apart(
        &self,
        set_off: &[(HolderId, usize)],
        part: &HolderSet,
        whole: &HolderSet,
    ) -> bool {
        set_off.iter().any(|&(code, to)| {
            whole.contains(code)
                && self.ends[to]
                    .0
                    .iter()
                    .any(|&h| whole.contains(h) && !part.contains(h))
        })
    }
}

/// The first units of groups on a cycle of the order between groups.
fn group_cycle(
    groups: &BTreeMap<usize, Vec<usize>>,
    order: &[(usize, usize)],
) -> Option<Vec<usize>> {
    let mut group_of = FastMap::default();
    for (&first, members) in groups {
        for &member in members {
            group_of.insert(member, first);
        }
    }
    let mut graph: petgraph::graph::DiGraph<usize, ()> = petgraph::graph::DiGraph::new();
    let mut node = FastMap::default();
    for &first in groups.keys() {
        node.insert(first, graph.add_node(first));
    }
    for (a, b) in order {
        let (ga, gb) = (group_of[a], group_of[b]);
        if ga != gb {
            graph.update_edge(node[&ga], node[&gb], ());
        }
    }
    petgraph::algo::tarjan_scc(&graph)
        .into_iter()
        .filter(|component| component.len() > 1)
        .map(|component| {
            let mut firsts: Vec<usize> = component.iter().map(|n| graph[*n]).collect();
            firsts.sort();
            firsts
        })
        .min()
}

/// The edges of a DAG that no longer path implies, on every role: an edge
/// `a -> b` goes only when, for each role both run on, another path from
/// `a` to `b` passes through tasks of that role alone (a node runs only
/// its roles' tasks, so a path through others orders nothing there).
fn transitive_reduction(
    groups: &[&BTreeSet<String>],
    edges: &BTreeSet<(usize, usize)>,
) -> Vec<(usize, usize)> {
    let len = groups.len();
    let mut successors = vec![Vec::new(); len];
    for &(a, b) in edges {
        successors[a].push(b);
    }
    // Per role, which tasks run on it: asked at every step of every walk.
    let mut runs_on: BTreeMap<&str, Vec<bool>> = BTreeMap::new();
    for (task, roles) in groups.iter().enumerate() {
        for role in roles.iter() {
            runs_on.entry(role).or_insert_with(|| vec![false; len])[task] = true;
        }
    }
    let reaches_without = |from: usize, to: usize, role: &str| {
        let runs = &runs_on[role];
        let mut stack = vec![from];
        let mut seen = vec![false; len];
        while let Some(at) = stack.pop() {
            for &next in &successors[at] {
                if (at, next) == (from, to) || seen[next] {
                    continue;
                }
                if next == to {
                    return true;
                }
                if runs[next] {
                    seen[next] = true;
                    stack.push(next);
                }
            }
        }
        false
    };
    edges
        .iter()
        .copied()
        .filter(|&(a, b)| {
            let shared: Vec<&String> = groups[a].intersection(groups[b]).collect();
            let roles: Vec<&String> = if shared.is_empty() {
                groups[b].iter().collect()
            } else {
                shared
            };
            roles.iter().any(|role| !reaches_without(a, b, role))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::task_id;

    #[test]
    fn task_ids_are_readable() {
        assert_eq!(task_id("mysql::server"), "mysql-server");
        assert_eq!(task_id("::Foo_bar"), "foo-bar");
        assert_eq!(task_id("::"), "task");
    }
}
