//! Per-task catalogs and the constraints checked on them.
//!
//! Each unit puts a closure of holders in a catalog (the classes and
//! defines it declares, with everything they declare), plus the resources
//! its own statement declares. A task's catalog, on one role, is the union
//! of the closures of its units that run on that role: a class two tasks
//! reach is in both catalogs, applied again, idempotently.
//!
//! Constraints, each carrying its edge:
//! - *reference*: code in a task's catalog (a relationship, an override, a
//!   realize, a metaparameter of a copied statement) names a class or
//!   resource; Puppet fails the catalog unless the task declares it too;
//! - *collect*: a collector with a refresh, an override, or virtual
//!   resources to realise must meet, in one task, every resource it
//!   matches in the monolith; with an ordering only, task order carries it.
//!
//! A broken reference is mended by *borrowing*: the task also applies the
//! unit that declares the other end (as Fuel's own tasks declare the
//! database server they create a database on), so every catalog compiles
//! and each task keeps its own units. A collect constraint forces a merge
//! only where no task holds both ends.

use super::render;
use super::units::{Monolith, Unit, UnitKind};
use crate::hashing::{FastMap, FastSet};
use crate::model::{CollectorDeclaration, Edge, EdgeKind, Location, ResourceDeclaration, Vertex};
use crate::semantic::{is_anchor, HolderId, HolderSet, Match, Semantic};
use granule_parser::ExprKind;
use std::borrow::Cow;
use std::collections::BTreeMap;

/// What one unit puts in a catalog.
pub struct UnitCatalog<'a> {
    pub holders: HolderSet,
    /// The classes and defines it declares itself, whose closures make
    /// `holders`.
    roots: Vec<HolderId>,
    /// References its own statement makes that a task must hold (the
    /// metaparameters and overrides of copied code): `(edge, end)`.
    pub references: Vec<(&'a Edge, Vertex)>,
    /// Relationship operands its statement names that may cross tasks
    /// (they are dropped from the copy and carried by task order).
    pub orderings: Vec<&'a Edge>,
    /// What its ordering metaparameters (`before`, `require`) name where
    /// only classes that only order declare it (a module's anchors): a
    /// phase of the units applying that module; or a class the split
    /// opened, which no catalog holds: its statements' units. Where its
    /// task does not hold them, they are dropped from the copy and carried
    /// by task order.
    pub phases: Vec<(&'a Edge, Vertex)>,
    /// What a change of a resource its own statement declares refreshes
    /// through a module's anchors (`relays`): `(edge, end)`.
    relayed: Vec<(&'a Edge, &'a Vertex)>,
}

/// What a holder's code needs in its catalog: the edge (with its index),
/// the end it names and the end's declarers.
type Requirement<'a> = (u32, &'a Edge, Cow<'a, Vertex>, Vec<HolderId>);

/// The holders and edges written in each unit, and what each holder's code
/// requires of a catalog.
pub struct Catalogs<'a> {
    pub units: Vec<UnitCatalog<'a>>,
    /// Per resource (literal title), the units whose own statement
    /// declares it, in order.
    owners: FastMap<&'a Vertex, Vec<usize>>,
    /// Holders whose code the split copies (the entry, opened classes):
    /// never in a task's catalog themselves.
    pub walked: FastSet<HolderId>,
    /// Per role (by index), the edges of module code under guards that
    /// fail there (see `gates`), and what each unit's catalog then lacks
    /// of its holders: `(unit, role)`, only where it lacks something.
    off: Vec<FastSet<u32>>,
    gaps: FastMap<(usize, usize), HolderSet>,
    requirements: FastMap<HolderId, Vec<Requirement<'a>>>,
    /// Per holder, what a change of a resource its code declares
    /// refreshes through anchors, which a catalog applying it must hold
    /// or the refresh is lost (`Semantic::refreshed_through`).
    relays: FastMap<HolderId, Vec<Requirement<'a>>>,
    /// Per holder, its requirements that are a module's phase
    /// (`module_phases`).
    phases: FastMap<HolderId, Vec<(&'a Edge, HolderId)>>,
    /// For each holder, the units whose closure holds it.
    pub units_with: FastMap<HolderId, Vec<usize>>,
    /// The classes the monolith declares with parameters
    /// (`class { 'x': p => v }`), with the units declaring them: a catalog
    /// that includes such a class elsewhere needs that declaration, or
    /// Puppet evaluates the class with its defaults.
    parameterised: FastMap<HolderId, Vec<usize>>,
}

/// A class the monolith's code refers to and nothing it reaches declares.
#[derive(Debug, Clone)]
pub struct UndeclaredClass {
    pub location: Location,
    pub class: String,
    /// The class, define or top scope whose code refers to it.
    pub referrer: String,
    /// The classes (and defines) whose code declares it, elsewhere.
    pub declared_by: Vec<String>,
}

/// A forced merge and its cause.
#[derive(Debug, Clone)]
pub struct Violation {
    pub units: [usize; 2],
    pub reason: String,
    pub location: Location,
    /// The class or define whose code the edge is written in.
    pub hub: String,
    /// The other unit is needed alone, not with what its task joins to it
    /// (a class's parameters, rather than a resource its task overrides).
    pub alone: bool,
    /// Rather than the other unit, a class that only orders or holds data
    /// (`Semantic::orders_only`) declaring the end: the group includes it,
    /// where the units of `by` (whose code refers to the end) are applied.
    pub include: Option<HolderId>,
    pub by: Vec<usize>,
    /// The other unit applies what a refresh the group sends through
    /// anchors reaches (`relays`): the group runs before its own task.
    pub relayed: bool,
}

/// Whose code makes a reference: a holder's (module code), or a unit's
/// own statement (copied code).
#[derive(Clone, Copy)]
enum Referrer {
    Holder(HolderId),
    Unit(usize),
}

impl<'a> Catalogs<'a> {
    /// The references the copied code makes to a class that nothing the
    /// entries reach declares (`require => Class['rsyslog::install']` in
    /// `rsyslog::config`, split as an entry without `rsyslog`), with the
    /// classes declaring it elsewhere: Puppet fails the monolith itself
    /// ("Could not find resource 'Class[Rsyslog::Install]'"), and every task
    /// copying that code. One per place and class. Module code is lint's:
    /// it declares classes by computed names (`class { $rabbitmq_class: }`)
    /// and refers to them under `defined()`.
    pub fn undeclared_classes(&self, semantic: &Semantic<'a>) -> Vec<UndeclaredClass> {
        let mut found: Vec<UndeclaredClass> = Vec::new();
        let copied = self.units.iter().flat_map(|unit| unit.references.iter());
        for (edge, end) in copied {
            let Vertex::Class { name } = end else {
                continue;
            };
            // `if defined(Class['x']) { Class['x'] -> ... }` holds only
            // where something else declares it.
            let guarded = edge
                .condition
                .as_deref()
                .is_some_and(|condition| condition.contains("defined("));
            if edge.kind == EdgeKind::ReadsVariable || guarded {
                continue;
            }
            let Some(id) = semantic.holder(end) else {
                continue;
            };
            if self.walked.contains(&id) || self.units_with.contains_key(&id) {
                continue;
            }
            if found
                .iter()
                .any(|known| known.location == edge.location && known.class == *name)
            {
                continue;
            }
            let mut declared_by: Vec<String> = Vec::new();
            for declaring in semantic.analysis.edges.iter().filter(|other| {
                other.kind.declares_class() && semantic.declared_holder(other) == Some(id)
            }) {
                let label = declaring.unit.label();
                if !declared_by.contains(&label) {
                    declared_by.push(label);
                }
            }
            found.push(UndeclaredClass {
                location: edge.location.clone(),
                class: name.clone(),
                referrer: edge.unit.label(),
                declared_by,
            });
        }
        found.sort_by(|a, b| (&a.location, &a.class).cmp(&(&b.location, &b.class)));
        found
    }

    /// Where each resource a collector (`end`) may collect is declared,
    /// with whether it surely collects it; a fallback another catalog's
    /// declaration supersedes is left out.
    pub fn collected_at<'s>(
        &'s self,
        semantic: &'s Semantic<'a>,
        monolith: &'s Monolith<'a>,
        end: &'s Vertex,
    ) -> impl Iterator<Item = (DeclaredAt, bool)> + 's {
        semantic
            .collectors_named(end)
            .iter()
            .flat_map(move |collector| semantic.collected(collector))
            .filter(move |&(resource, _)| !self.superseded(semantic, monolith, resource))
            .flat_map(move |(resource, matches)| {
                let surely = matches == Match::Yes;
                // Each copy of a statement a class opened twice declares,
                // or the holder declaring it.
                let (copies, held) = match semantic.holder(&resource.holder) {
                    Some(holder) if self.walked.contains(&holder) => {
                        (Some(monolith.units_at(&resource.location)), None)
                    }
                    Some(holder) => (None, Some(DeclaredAt::Holder(holder))),
                    None => (None, None),
                };
                let copies = copies.into_iter().flatten().map(DeclaredAt::Unit);
                copies.chain(held).map(move |at| (at, surely))
            })
    }

    /// Whether a fallback declaration stands back in the monolith: another
    /// declaration of the resource is reached, which Puppet would refuse
    /// as a duplicate if the fallback took effect too.
    pub fn superseded(
        &self,
        semantic: &Semantic<'a>,
        monolith: &Monolith<'a>,
        resource: &'a ResourceDeclaration,
    ) -> bool {
        semantic.superseding(resource).any(|other| {
            semantic.holder(&other.holder).is_some_and(|holder| {
                if self.walked.contains(&holder) {
                    monolith.units_at(&other.location).next().is_some()
                } else {
                    self.units_with.contains_key(&holder)
                }
            })
        })
    }

    pub fn new(
        semantic: &Semantic<'a>,
        monolith: &Monolith<'a>,
        walked: FastSet<HolderId>,
    ) -> Catalogs<'a> {
        let files = &semantic.analysis.codebase.files;
        let units = monolith
            .units
            .iter()
            .map(|unit| {
                let file = &files[unit.file];
                let start = (unit.location.line, unit.location.column);
                let mut own = Vec::new();
                let mut catalog = UnitCatalog {
                    holders: HolderSet::default(),
                    roots: Vec::new(),
                    references: Vec::new(),
                    orderings: Vec::new(),
                    phases: Vec::new(),
                    relayed: Vec::new(),
                };
                if let UnitKind::Class(name) = &unit.kind {
                    if let Some(id) = semantic.holder(&Vertex::class(name)) {
                        catalog.holders.union_with(semantic.closure(id));
                        catalog.roots.push(id);
                    }
                }
                for (_, edge) in semantic.edges_between(&file.path, start, unit.end) {
                    if let Some(id) = semantic.declared_holder(edge) {
                        catalog.holders.union_with(semantic.closure(id));
                        catalog.roots.push(id);
                    }
                    match edge.kind {
                        EdgeKind::Declare | EdgeKind::DeclareVirtual => own.push(&edge.to),
                        EdgeKind::Before
                        | EdgeKind::Notify
                        | EdgeKind::RequireArrow
                        | EdgeKind::SubscribeArrow => catalog.orderings.push(edge),
                        EdgeKind::BeforeParam
                        | EdgeKind::RequireParam
                        | EdgeKind::NotifyParam
                        | EdgeKind::SubscribeParam
                        | EdgeKind::Override
                        | EdgeKind::Realize
                            if required(&edge.to) || semantic.declared_in_scope(&edge.to) =>
                        {
                            catalog.references.push((edge, edge.to.clone()));
                        }
                        // A computed title whose values are known names
                        // each of them.
                        EdgeKind::BeforeParam
                        | EdgeKind::RequireParam
                        | EdgeKind::NotifyParam
                        | EdgeKind::SubscribeParam => {
                            for end in semantic
                                .named_by(&edge.to, &edge.unit)
                                .into_iter()
                                .flatten()
                            {
                                catalog.references.push((edge, end));
                            }
                        }
                        EdgeKind::ReadsVariable => {
                            if let Vertex::Variable { name } = &edge.to {
                                if semantic.variable_class(name).is_some() {
                                    catalog.references.push((edge, edge.to.clone()));
                                }
                            }
                        }
                        _ => {}
                    }
                }
                written_with_references(semantic, monolith, unit, &mut catalog);
                bound_data_references(semantic, monolith, unit, &mut catalog);
                split_phases(semantic, &walked, &mut catalog);
                for id in &walked {
                    catalog.holders.remove(*id);
                }
                (catalog, own)
            })
            .collect::<Vec<_>>();
        let mut owners: FastMap<&'a Vertex, Vec<usize>> = FastMap::default();
        for (index, (_, own)) in units.iter().enumerate() {
            for &end in own {
                let owning = owners.entry(end).or_default();
                if owning.last() != Some(&index) {
                    owning.push(index);
                }
            }
        }
        let units: Vec<UnitCatalog<'a>> = units.into_iter().map(|(catalog, _)| catalog).collect();
        let mut units_with: FastMap<HolderId, Vec<usize>> = FastMap::default();
        for (index, unit) in units.iter().enumerate() {
            for holder in unit.holders.iter() {
                units_with.entry(holder).or_default().push(index);
            }
        }
        let mut requirements = FastMap::default();
        let mut phases = FastMap::default();
        for &holder in units_with.keys() {
            let vertex = semantic.vertex(holder);
            let mut list = Vec::new();
            for (index, edge) in semantic.edges_of(holder) {
                let ends: &[&Vertex] = match edge.kind {
                    kind if kind.from_runs_first().is_some() && kind != EdgeKind::RequireClass => {
                        &[&edge.from, &edge.to]
                    }
                    EdgeKind::Override | EdgeKind::Realize => &[&edge.to],
                    EdgeKind::ReadsVariable => {
                        // Another class's variable: set only where that
                        // class is evaluated.
                        if let Vertex::Variable { name } = &edge.to {
                            if semantic
                                .variable_class(name)
                                .is_some_and(|class| *vertex != Vertex::class(class))
                            {
                                list.push((
                                    index,
                                    edge,
                                    Cow::Borrowed(&edge.to),
                                    semantic.declarers(&edge.to),
                                ));
                            }
                        }
                        &[]
                    }
                    _ => &[],
                };
                for &end in ends {
                    if required(end) && end != vertex {
                        list.push((index, edge, Cow::Borrowed(end), semantic.declarers(end)));
                    }
                }
                // A computed title whose values are known names each.
                if matches!(
                    edge.kind,
                    EdgeKind::BeforeParam
                        | EdgeKind::RequireParam
                        | EdgeKind::NotifyParam
                        | EdgeKind::SubscribeParam
                ) && !required(&edge.to)
                {
                    for end in semantic.named_by(&edge.to, vertex).into_iter().flatten() {
                        let declarers = semantic.declarers(&end);
                        list.push((index, edge, Cow::Owned(end), declarers));
                    }
                }
            }
            let phase: Vec<(&'a Edge, HolderId)> = list
                .iter()
                .filter(|(_, edge, _, _)| {
                    matches!(edge.kind, EdgeKind::BeforeParam | EdgeKind::RequireParam)
                })
                .filter_map(|(_, edge, end, _)| Some((*edge, semantic.declared_by_orderer(end)?)))
                .collect();
            if !phase.is_empty() {
                phases.insert(holder, phase);
            }
            requirements.insert(holder, list);
        }
        let mut units = units;
        let relays = relayed_refreshes(semantic, monolith, &walked, &mut units);
        let mut parameterised: FastMap<HolderId, Vec<usize>> = FastMap::default();
        for (index, unit) in monolith.units.iter().enumerate() {
            let UnitKind::Class(name) = &unit.kind else {
                continue;
            };
            let with_parameters = matches!(
                &unit.statement.kind,
                granule_parser::ExprKind::Resource { bodies, .. }
                    if bodies.iter().any(|body| !body.ops.is_empty())
            );
            if let Some(id) = semantic
                .holder(&Vertex::class(name))
                .filter(|_| with_parameters)
            {
                parameterised.entry(id).or_default().push(index);
            }
        }
        Catalogs {
            units,
            owners,
            walked,
            off: Vec::new(),
            gaps: FastMap::default(),
            requirements,
            relays,
            phases,
            units_with,
            parameterised,
        }
    }

    /// Leaves out of each role's catalogs what module code declares under
    /// guards that fail on that role (`off`, per role index).
    pub fn decide_guards(&mut self, semantic: &Semantic<'a>, off: Vec<FastSet<u32>>) {
        for (role, off_here) in off.iter().enumerate() {
            // Only a unit holding code with a failing guard can lack anything.
            let mut guarded = HolderSet::default();
            for &edge in off_here {
                if let Some(holder) = semantic.holder(&semantic.analysis.edges[edge as usize].unit)
                {
                    guarded.insert(holder);
                }
            }
            for (index, unit) in self.units.iter().enumerate() {
                if !unit.holders.intersects(&guarded) {
                    continue;
                }
                let mut kept = semantic.closure_without(&unit.roots, off_here);
                for id in &self.walked {
                    kept.remove(*id);
                }
                let mut lacking = unit.holders.clone();
                lacking.remove_all(&kept);
                if !lacking.is_empty() {
                    self.gaps.insert((index, role), lacking);
                }
            }
        }
        self.off = off;
    }

    /// The holders a unit puts in a catalog on a role.
    pub fn holders_on(&self, unit: usize, role: usize) -> HolderSet {
        let mut holders = self.units[unit].holders.clone();
        if let Some(lacking) = self.gaps.get(&(unit, role)) {
            holders.remove_all(lacking);
        }
        holders
    }

    /// Whether a unit's catalog holds a holder on a role.
    pub fn holds_on(&self, unit: usize, holder: HolderId, role: usize) -> bool {
        self.units[unit].holders.contains(holder)
            && !self
                .gaps
                .get(&(unit, role))
                .is_some_and(|lacking| lacking.contains(holder))
    }

    /// Whether a unit's catalog holds an end (a class, or a resource with
    /// a literal title) on a role.
    pub fn holds_end_on(
        &self,
        semantic: &Semantic,
        unit: usize,
        end: &Vertex,
        role: usize,
    ) -> bool {
        let declarers = semantic.declarers(end);
        self.holds_where(&declarers, |id| self.holds_on(unit, id, role), &[unit], end)
    }

    /// The ordering metaparameters of module code naming what only a class
    /// that only orders declares (a module's anchor), with that class: per
    /// unit whose catalog holds the code.
    pub fn module_phases(&self) -> impl Iterator<Item = (usize, &'a Edge, HolderId)> + '_ {
        self.phases.iter().flat_map(move |(holder, phases)| {
            self.units_with
                .get(holder)
                .into_iter()
                .flatten()
                .flat_map(move |&unit| phases.iter().map(move |&(edge, class)| (unit, edge, class)))
        })
    }

    /// Whether the edge stands under a guard of module code that fails on
    /// a role.
    pub fn off_on(&self, edge: u32, role: usize) -> bool {
        self.off.get(role).is_some_and(|off| off.contains(&edge))
    }

    /// A refresh relayed through anchors that a unit's catalog sends (its
    /// own statement's, or its holders' code's).
    pub fn relayed_sender(&self, unit: usize) -> Option<&'a Edge> {
        let catalog = &self.units[unit];
        catalog.relayed.first().map(|&(edge, _)| edge).or_else(|| {
            catalog
                .holders
                .iter()
                .find_map(|holder| self.relays.get(&holder)?.first().map(|r| r.1))
        })
    }

    /// The holders of a set of units running on one role.
    fn holders_of(&self, units: &[usize], role: usize) -> HolderSet {
        let mut set = HolderSet::default();
        for &unit in units {
            set.union_with(&self.holders_on(unit, role));
        }
        set
    }

    /// Whether a catalog (holders and the units' own resources) holds an
    /// end: a class, or a resource with a literal title.
    pub fn holds(
        &self,
        semantic: &Semantic,
        holders: &HolderSet,
        units: &[usize],
        end: &Vertex,
    ) -> bool {
        let declarers = semantic.declarers(end);
        self.holds_where(&declarers, |id| holders.contains(id), units, end)
    }

    /// `holds`, for the catalog holding the holders `contains` accepts,
    /// given the end's declarers (`Semantic::declarers`).
    pub fn holds_where(
        &self,
        declarers: &[HolderId],
        contains: impl Fn(HolderId) -> bool,
        units: &[usize],
        end: &Vertex,
    ) -> bool {
        match end {
            Vertex::Class { .. } | Vertex::Variable { .. } => declarers
                .iter()
                .any(|&id| contains(id) || self.walked.contains(&id)),
            _ => {
                declarers.iter().any(|&id| contains(id)) || {
                    let owners = self.owning_units(end);
                    units.iter().any(|unit| owners.contains(unit))
                }
            }
        }
    }

    /// The units whose own statement (copied code) declares a resource.
    pub fn owning_units(&self, resource: &Vertex) -> &[usize] {
        self.owners.get(resource).map_or(&[], Vec::as_slice)
    }

    /// The units that put `end` in a catalog (among `candidates`,
    /// ascending): those for which `holds_end_on` holds, found through the
    /// units holding each declarer rather than by asking every candidate.
    fn declaring_units(
        &self,
        semantic: &Semantic,
        end: &Vertex,
        candidates: &[usize],
        role: usize,
    ) -> Vec<usize> {
        let class_like = matches!(end, Vertex::Class { .. } | Vertex::Variable { .. });
        let mut found: Vec<usize> = Vec::new();
        for id in semantic.declarers(end) {
            if class_like && self.walked.contains(&id) {
                return candidates.to_vec();
            }
            let holding = self.units_with.get(&id).into_iter().flatten();
            found.extend(holding.filter(|&&unit| self.holds_on(unit, id, role)));
        }
        if !class_like {
            found.extend(self.owning_units(end));
        }
        found.sort_unstable();
        found.dedup();
        found.retain(|unit| candidates.binary_search(unit).is_ok());
        found
    }

    /// The units applying an end of a copied relationship on a role
    /// (among `candidates`, ascending): those whose catalog holds a class
    /// (none for a class the split opened: no catalog holds it) or a
    /// resource, or what a collector surely collects.
    pub fn applying_units(
        &self,
        semantic: &Semantic,
        monolith: &Monolith,
        end: &Vertex,
        candidates: &[usize],
        role: usize,
    ) -> Vec<usize> {
        let holding = |holder: HolderId| {
            let units = self.units_with.get(&holder).into_iter().flatten();
            units
                .copied()
                .filter(move |&unit| self.holds_on(unit, holder, role))
        };
        let mut found: Vec<usize> = match end {
            Vertex::Class { .. } => semantic
                .holder(end)
                .map(|class| holding(class).collect())
                .unwrap_or_default(),
            Vertex::Collector { .. } => {
                let mut found = Vec::new();
                let surely = self
                    .collected_at(semantic, monolith, end)
                    .filter_map(|(at, surely)| surely.then_some(at));
                for at in surely {
                    match at {
                        DeclaredAt::Unit(unit) => found.push(unit),
                        DeclaredAt::Holder(holder) => found.extend(holding(holder)),
                    }
                }
                found
            }
            _ => return self.declaring_units(semantic, end, candidates, role),
        };
        found.sort_unstable();
        found.dedup();
        found.retain(|unit| candidates.binary_search(unit).is_ok());
        found
    }

    /// The reference constraints a group breaks on one role: for each
    /// reference its catalog cannot hold, a unit that holds the other end.
    pub fn broken_references<'s>(
        &'s self,
        semantic: &Semantic,
        monolith: &Monolith,
        group: &[usize],
        role_units: &[usize],
        role: usize,
        included: &HolderSet,
    ) -> Vec<Violation> {
        let mut holders = self.holders_of(group, role);
        holders.union_with(included);
        let mut broken = Vec::new();
        let mut seen: FastSet<&'s Vertex> = FastSet::default();
        // `declarers`: the end's (`Semantic::declarers`), when known;
        // `referrer`: a unit's own statement (copied code) or a holder's
        // code; `relayed`: the end is what a refresh the referrer's resource
        // sends to an anchor reaches (`relays`).
        let mut check = |edge: &'a Edge,
                         end: &'s Vertex,
                         declarers: Option<&[HolderId]>,
                         referrer: Referrer,
                         relayed: bool,
                         broken: &mut Vec<Violation>| {
            let copied = matches!(referrer, Referrer::Unit(_));
            if seen.contains(end) {
                return;
            }
            let held = match declarers {
                Some(declarers) => {
                    self.holds_where(declarers, |id| holders.contains(id), group, end)
                }
                None => self.holds(semantic, &holders, group, end),
            };
            // A copied statement reads another class's variable as it is
            // evaluated: the class must be evaluated before it, by an
            // include (written first) or a unit written before it, not by
            // the statement itself (`class { 'x': p => $x::params::v }`)
            // or a later one.
            let held = held
                && match referrer {
                    Referrer::Unit(unit) if edge.kind == EdgeKind::ReadsVariable => {
                        let mut before = included.clone();
                        for &earlier in group.iter().filter(|&&other| other < unit) {
                            before.union_with(&self.holders_on(earlier, role));
                        }
                        self.holds(semantic, &before, &[], end)
                    }
                    _ => true,
                };
            if held {
                return;
            }
            // A relayed refresh's code is the anchors' class, whoever
            // declares the sender.
            let hub = if copied && !relayed {
                "copied code".to_string()
            } else {
                edge.unit.label()
            };
            // Including a class that only orders or holds data adds
            // nothing else to the catalog: cheaper than a unit, and
            // under no guard of the monolith's.
            let free = semantic
                .declared_by_orderer(end)
                .filter(|_| !edge.kind.refreshes());
            if let Some(class) = free {
                // Each referrer's units include it under their own guards:
                // every reference to the end is reported. Code that only
                // an included class brings needs it wherever the group is
                // applied.
                let by: Vec<usize> = match referrer {
                    Referrer::Unit(unit) => vec![unit],
                    Referrer::Holder(holder) => group
                        .iter()
                        .copied()
                        .filter(|&unit| self.holds_on(unit, holder, role))
                        .collect(),
                };
                let by = if by.is_empty() { group.to_vec() } else { by };
                broken.push(Violation {
                    units: [group[0], group[0]],
                    reason: format!(
                        "{} refers to {} ({}): the task includes {}",
                        hub,
                        end.label(),
                        edge.kind.name(),
                        semantic.vertex(class).label()
                    ),
                    location: edge.location.clone(),
                    hub,
                    alone: false,
                    include: Some(class),
                    by,
                    relayed: false,
                });
                return;
            }
            seen.insert(end);
            // The smallest unit that puts the end in a catalog.
            let Some(other) = self
                .declaring_units(semantic, end, role_units, role)
                .into_iter()
                .min_by_key(|&unit| (self.units[unit].holders.len(), unit))
            else {
                return;
            };
            let reason = if relayed {
                format!(
                    "{} relays a refresh ({}) from what the task declares to {}: without it, a \
                     change the task makes refreshes nothing",
                    hub,
                    edge.kind.name(),
                    end.label()
                )
            } else {
                format!(
                    "{} refers to {} ({}): Puppet needs it in the same catalog",
                    hub,
                    end.label(),
                    edge.kind.name()
                )
            };
            broken.push(Violation {
                units: [group[0], other],
                reason,
                location: edge.location.clone(),
                hub,
                // Reading a class's variables needs that class evaluated
                // (with its declaration), not what its task joins to it.
                alone: relayed || edge.kind == EdgeKind::ReadsVariable,
                include: None,
                by: Vec::new(),
                relayed,
            });
        };
        for holder in holders.iter() {
            for (index, edge, end, declarers) in
                self.requirements.get(&holder).into_iter().flatten()
            {
                if !self.off_on(*index, role) {
                    let referrer = Referrer::Holder(holder);
                    check(edge, end, Some(declarers), referrer, false, &mut broken);
                }
            }
            for (index, edge, end, declarers) in self.relays.get(&holder).into_iter().flatten() {
                if !self.off_on(*index, role) {
                    let referrer = Referrer::Holder(holder);
                    check(edge, end, Some(declarers), referrer, true, &mut broken);
                }
            }
        }
        for &unit in group {
            for (edge, end) in &self.units[unit].references {
                check(edge, end, None, Referrer::Unit(unit), false, &mut broken);
            }
            for &(edge, end) in &self.units[unit].relayed {
                check(edge, end, None, Referrer::Unit(unit), true, &mut broken);
            }
        }
        for holder in holders.iter() {
            let Some(declaring) = self.parameterised.get(&holder) else {
                continue;
            };
            // Each declaration, whichever of their guards holds.
            let class = semantic.vertex(holder).label();
            let missing = declaring
                .iter()
                .filter(|unit| role_units.contains(unit) && !group.contains(unit));
            for &other in missing {
                broken.push(Violation {
                    units: [group[0], other],
                    reason: format!(
                        "it includes {class}, which the monolith declares with parameters: \
                         without that declaration Puppet evaluates it with its defaults"
                    ),
                    location: monolith.units[other].location.clone(),
                    hub: class.clone(),
                    alone: true,
                    include: None,
                    by: Vec::new(),
                    relayed: false,
                });
            }
        }
        broken
    }
}

/// The refreshes sent to anchors that relay them: a change of the sender
/// refreshes what the anchors relay to (a module's services, through its
/// `deps` class) only in a catalog holding those too. Per holder declaring
/// a sender, what it must then hold; a copied sender's unit gets its list
/// in `relayed`.
fn relayed_refreshes<'a>(
    semantic: &Semantic<'a>,
    monolith: &Monolith<'a>,
    walked: &FastSet<HolderId>,
    units: &mut [UnitCatalog<'a>],
) -> FastMap<HolderId, Vec<Requirement<'a>>> {
    let mut relays: FastMap<HolderId, Vec<Requirement<'a>>> = FastMap::default();
    let mut refreshed_through: FastMap<&'a Vertex, Vec<&'a Vertex>> = FastMap::default();
    for (index, edge) in semantic.analysis.edges.iter().enumerate() {
        if !edge.kind.refreshes() {
            continue;
        }
        let (sender, anchor) = edge.in_run_order();
        if is_anchor(sender) || !is_anchor(anchor) {
            continue;
        }
        let refreshed = refreshed_through
            .entry(anchor)
            .or_insert_with(|| semantic.refreshed_through(anchor));
        if refreshed.is_empty() {
            continue;
        }
        let senders: Vec<&'a ResourceDeclaration> = match sender {
            Vertex::Collector { .. } => semantic
                .collectors_named(sender)
                .iter()
                .filter(|c| c.holder == edge.unit)
                .flat_map(|collector| {
                    semantic
                        .collected(collector)
                        .filter_map(|(r, matches)| (matches == Match::Yes).then_some(r))
                })
                .collect(),
            Vertex::Resource {
                type_name,
                scope: None,
                ..
            } => semantic
                .resources_of_type(type_name)
                .filter(|r| r.resource == *sender)
                .collect(),
            _ => continue,
        };
        for declaration in senders {
            let Some(holder) = semantic.holder(&declaration.holder) else {
                continue;
            };
            if walked.contains(&holder) {
                for unit in monolith.units_at(&declaration.location) {
                    let relayed = &mut units[unit].relayed;
                    relayed.extend(refreshed.iter().map(|&end| (edge, end)));
                }
            } else {
                let list = relays.entry(holder).or_default();
                list.extend(refreshed.iter().map(|&end| {
                    (
                        index as u32,
                        edge,
                        Cow::Borrowed(end),
                        semantic.declarers(end),
                    )
                }));
            }
        }
    }
    for list in relays.values_mut() {
        list.sort_by(|a, b| (a.2.as_ref(), a.0).cmp(&(b.2.as_ref(), b.0)));
        list.dedup_by(|a, b| a.2 == b.2);
    }
    for unit in units {
        unit.relayed.sort_by(|a, b| a.1.cmp(b.1));
        unit.relayed.dedup_by(|a, b| a.1 == b.1);
    }
    relays
}

/// The variables of other classes what is written with a unit reads: its
/// guards (`if $rsyslog::ssl { fail(...) }`) and the resource defaults of
/// its scopes (`File { mode => $::apache::file_mode }`, written before the
/// first unit following them). Its task must evaluate those classes as it
/// does those its own statement reads.
fn written_with_references<'a>(
    semantic: &Semantic<'a>,
    monolith: &Monolith<'a>,
    unit: &Unit<'a>,
    catalog: &mut UnitCatalog<'a>,
) {
    let files = &semantic.analysis.codebase.files;
    let guards = unit
        .guards
        .iter()
        .flat_map(|guard| guard.exprs().into_iter().map(|expr| (guard.file, expr)));
    let defaults = monolith
        .shared
        .iter()
        .filter(|shared| {
            matches!(shared.statement.kind, ExprKind::ResourceDefaults { .. })
                && monolith.within(unit.scope, shared.scope)
        })
        .map(|shared| (shared.file, shared.statement));
    for (file, expr) in guards.chain(defaults) {
        let file = &files[file];
        let (start, end) = file.bounds(expr.span);
        for (_, edge) in semantic.edges_between(&file.path, start, end) {
            let (EdgeKind::ReadsVariable, Vertex::Variable { name }) = (edge.kind, &edge.to) else {
                continue;
            };
            let known = catalog
                .references
                .iter()
                .any(|(other, _)| std::ptr::eq(*other, edge));
            if semantic.variable_class(name).is_some() && !known {
                catalog.references.push((edge, edge.to.clone()));
            }
        }
    }
}

/// A unit reading data computed from a class that declares more than data
/// (`Monolith::bound`) refers to that class's variables as its definition
/// does: the task computes the data, after evaluating the class.
fn bound_data_references<'a>(
    semantic: &Semantic<'a>,
    monolith: &Monolith<'a>,
    unit: &Unit<'a>,
    catalog: &mut UnitCatalog<'a>,
) {
    if monolith.bound.is_empty() {
        return;
    }
    let mut read = Vec::new();
    render::data_read(monolith, unit.statement, unit.scope, &mut read);
    for guard in &unit.guards {
        render::guard_data_read(monolith, guard, &mut read);
    }
    let files = &semantic.analysis.codebase.files;
    for variable in render::bound_closure(monolith, &read) {
        let classes = &monolith.bound[&variable];
        for definition in render::definitions(monolith, &variable) {
            let guarded = definition
                .guards
                .iter()
                .flat_map(|guard| guard.exprs().into_iter().map(|expr| (guard.file, expr)));
            for (file, expr) in std::iter::once((definition.file, definition.value)).chain(guarded)
            {
                let file = &files[file];
                let (start, end) = file.bounds(expr.span);
                for (_, edge) in semantic.edges_between(&file.path, start, end) {
                    if let (EdgeKind::ReadsVariable, Vertex::Variable { name }) =
                        (edge.kind, &edge.to)
                    {
                        if semantic
                            .variable_class(name)
                            .is_some_and(|class| classes.contains(class))
                        {
                            catalog.references.push((edge, edge.to.clone()));
                        }
                    }
                }
            }
        }
    }
}

/// Moves the references of an ordering metaparameter to `phases` when
/// every one names what only a class that only orders declares (one
/// metaparameter is one place; its edges all go, or none).
fn split_phases<'a>(
    semantic: &Semantic<'a>,
    walked: &FastSet<HolderId>,
    catalog: &mut UnitCatalog<'a>,
) {
    let is_ordering =
        |edge: &Edge| matches!(edge.kind, EdgeKind::BeforeParam | EdgeKind::RequireParam);
    let opened = |end: &Vertex| {
        matches!(end, Vertex::Class { .. })
            && semantic.holder(end).is_some_and(|id| walked.contains(&id))
    };
    let mut phase_only: FastMap<&Location, bool> = FastMap::default();
    for (edge, end) in &catalog.references {
        if is_ordering(edge) {
            let phase = opened(end) || semantic.declared_by_orderer(end).is_some();
            *phase_only.entry(&edge.location).or_insert(true) &= phase;
        }
    }
    if !phase_only.values().any(|&phase| phase) {
        return;
    }
    let phase_at: FastSet<Location> = phase_only
        .into_iter()
        .filter(|&(_, phase)| phase)
        .map(|(location, _)| location.clone())
        .collect();
    let (phases, references) = std::mem::take(&mut catalog.references)
        .into_iter()
        .partition(|(edge, _)| is_ordering(edge) && phase_at.contains(&edge.location));
    catalog.phases = phases;
    catalog.references = references;
}

/// Whether a task must hold an end: a class, or a resource whose title is
/// the same wherever it is written (other ends are only known at run time).
fn required(end: &Vertex) -> bool {
    matches!(
        end,
        Vertex::Class { .. } | Vertex::Resource { scope: None, .. }
    )
}

/// Where a resource is declared: by the statement of a unit (an opened
/// scope's, copied), or by a holder some unit's catalog holds.
#[derive(Clone, Copy)]
pub enum DeclaredAt {
    Unit(usize),
    Holder(HolderId),
}

/// A collector's constraints: the resources it matches in the monolith,
/// by declaring holder, and what it does with them.
pub struct CollectorUse<'a> {
    pub collector: &'a CollectorDeclaration,
    pub holder: HolderId,
    /// Holders declaring a resource it may collect.
    pub matched: Vec<HolderId>,
    /// Those of `matched` whose resource it surely collects.
    pub surely: Vec<HolderId>,
    /// Units whose own statement declares a resource it may collect, and
    /// whether surely.
    pub units: Vec<(usize, bool)>,
    /// Why it must meet them in one task, if it must: a refresh, an
    /// override, or virtual resources.
    pub must_meet: Option<String>,
    /// Ordering edges it carries: `(collected first, edge)`.
    pub orders: Vec<(bool, &'a Edge)>,
    /// What it collects only receives refreshes from the collector's code
    /// (no override, nothing virtual, collected last in every chain): the
    /// refresh is sent where that code first changes.
    pub refreshed_only: bool,
    /// Written in a copied relationship statement (`File <| |> ~>
    /// Service['x']`), which has no unit of its own: the statement (an
    /// index into `Monolith::relationships`) ...
    pub relationship: Option<usize>,
    /// ... and its other ends but anchors (classes, resources,
    /// collectors), in whose task the statement is placed.
    pub partners: Vec<&'a Vertex>,
}

impl CollectorUse<'_> {
    /// Whether the task applying its code applies what it must meet
    /// itself, first, rather than joining the task declaring it. Not with
    /// an override setting state, which a later application without the
    /// override would undo; nor with a copied relationship statement
    /// refreshing from what it collects: the statement goes to one task,
    /// and every other task applying what it collects would change it
    /// without the refresh.
    pub fn lends(&self) -> bool {
        self.must_meet.is_some()
            && !self.collector.overrides_state
            && (self.relationship.is_none() || self.refreshed_only)
    }
}

/// The collectors of the holders units reach, with what they match.
pub fn collector_uses<'a>(
    semantic: &Semantic<'a>,
    monolith: &Monolith<'a>,
    catalogs: &Catalogs<'a>,
) -> Vec<CollectorUse<'a>> {
    let mut uses = Vec::new();
    let reached: FastSet<HolderId> = catalogs.units_with.keys().copied().collect();
    for collector in &semantic.analysis.collectors {
        let Some(holder) = semantic.holder(&collector.holder) else {
            continue;
        };
        // Reached through a unit's closure, or copied with an opened scope.
        let relationship = monolith.relationship_at(&collector.location);
        if !reached.contains(&holder)
            && monolith.units_at(&collector.location).next().is_none()
            && relationship.is_none()
        {
            continue;
        }
        let mut matched = Vec::new();
        let mut surely = Vec::new();
        let mut realises = false;
        let mut units = Vec::new();
        for (resource, matches) in semantic.collected(collector) {
            let Some(declarer) = semantic.holder(&resource.holder) else {
                continue;
            };
            if catalogs.superseded(semantic, monolith, resource) {
                continue;
            }
            if catalogs.walked.contains(&declarer) {
                // Declared by a copied statement: the unit holding it.
                for unit in monolith.units_at(&resource.location) {
                    realises |= resource.is_virtual;
                    units.push((unit, matches == crate::semantic::Match::Yes));
                }
                continue;
            }
            if !reached.contains(&declarer) {
                continue;
            }
            if matches == crate::semantic::Match::Yes && !surely.contains(&declarer) {
                surely.push(declarer);
            }
            realises |= resource.is_virtual;
            if !matched.contains(&declarer) {
                matched.push(declarer);
            }
        }
        let mut refresh = None;
        let mut orders = Vec::new();
        let mut partners = Vec::new();
        for (_, edge) in semantic.edges_of(holder) {
            let (collected_first, other) = if edge.from == collector.collector {
                (true, &edge.to)
            } else if edge.to == collector.collector {
                (false, &edge.from)
            } else {
                continue;
            };
            let Some(from_first) = edge.kind.from_runs_first() else {
                continue;
            };
            // In a relationship statement, what the statement writes: the
            // same collector written elsewhere in the scope is another
            // statement's, with its own task.
            if let Some(at) = relationship {
                if !monolith.relationships[at].holds(&edge.location) {
                    continue;
                }
                let applied = required(other) || matches!(other, Vertex::Collector { .. });
                if applied && !is_anchor(other) && !partners.contains(&other) {
                    partners.push(other);
                }
            }
            let notified = if from_first { &edge.to } else { &edge.from };
            if edge.kind.refreshes() && semantic.refresh_matters(notified) {
                refresh = Some(edge);
            }
            orders.push((collected_first == from_first, edge));
        }
        let refreshed_only = refresh.is_some()
            && !collector.overrides
            && !realises
            && orders.iter().all(|(collected_first, _)| !collected_first);
        // Ordered between two resources its own code declares (not
        // anchors, which order nothing themselves), collecting other
        // code's: no order of tasks puts what it collects after the one and
        // before the other unless one catalog holds all three.
        let other_end = |edge: &'a Edge| {
            let other = if edge.from == collector.collector {
                &edge.to
            } else {
                &edge.from
            };
            (!is_anchor(other) && semantic.declarers(other).contains(&holder)).then_some(other)
        };
        // The first other end it runs before, and the first it runs after.
        let between = [true, false].map(|first| {
            orders
                .iter()
                .find(|&&(collected_first, edge)| {
                    collected_first == first && other_end(edge).is_some()
                })
                .and_then(|&(_, edge)| other_end(edge))
        });
        let must_meet = if let Some(edge) = refresh {
            Some(format!(
                "a refresh ({}) of what {} collects: Puppet sends it only inside one catalog",
                edge.kind.name(),
                collector.collector.label()
            ))
        } else if collector.overrides {
            Some(format!(
                "{} overrides what it collects: only in the catalog holding it",
                collector.collector.label()
            ))
        } else if realises {
            Some(format!(
                "{} realises virtual resources: only in the catalog declaring them",
                collector.collector.label()
            ))
        } else if let [Some(later), Some(earlier)] = between {
            Some(format!(
                "{} orders what it collects after {} and before {}: only one catalog holds \
                 both orders",
                collector.collector.label(),
                earlier.label(),
                later.label()
            ))
        } else {
            None
        };
        if (!matched.is_empty() || !units.is_empty()) && (must_meet.is_some() || !orders.is_empty())
        {
            uses.push(CollectorUse {
                collector,
                holder,
                matched,
                surely,
                units,
                must_meet,
                orders,
                refreshed_only,
                relationship,
                partners,
            });
        }
    }
    uses
}

/// Which groups hold each holder.
pub fn groups_holding(
    catalogs: &Catalogs,
    groups: &BTreeMap<usize, Vec<usize>>,
) -> FastMap<HolderId, Vec<usize>> {
    let mut by_holder: FastMap<HolderId, Vec<usize>> = FastMap::default();
    for (&first, members) in groups {
        let mut set = HolderSet::default();
        for &unit in members {
            set.union_with(&catalogs.units[unit].holders);
        }
        for holder in set.iter() {
            by_holder.entry(holder).or_default().push(first);
        }
    }
    by_holder
}
