//! One model of what Puppet compiles, built once per analysis: ids for the
//! holders of code (classes, defines, nodes, top scopes, functions), the
//! edges each holds, what each declares (with Puppet 3's relative class
//! names resolved), a memoised closure per holder (what declaring it puts
//! in a catalog), who declares each resource, and collector queries matched
//! against the declared resources with the tags Puppet gives them.
//!
//! A catalog is a set of holders: a class is in it when its holder is, a
//! resource with a literal title when one of its declaring holders is. A
//! task's catalog is the union of its units' closures.

use crate::analysis::Analysis;
use crate::extract::literal_string;
use crate::hashing::{FastMap, FastSet};
use crate::model::{
    AttributeValue, CollectorDeclaration, DefinitionKind, Edge, Piece, Query, ResourceDeclaration,
    TitleShape, Vertex,
};
use granule_parser::qualified::Qualified;
use granule_parser::{Definition, Expr, ExprKind};
use std::borrow::Cow;
use std::sync::{Mutex, OnceLock};

/// A class's variable: `(class, name)`.
type ClassVariable = (String, String);

/// Index of a holder in [`Semantic`].
pub type HolderId = u32;

/// A set of holders, as bits.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HolderSet {
    words: Vec<u64>,
}

impl HolderSet {
    pub fn insert(&mut self, id: HolderId) -> bool {
        let (word, bit) = (id as usize / 64, id % 64);
        if self.words.len() <= word {
            self.words.resize(word + 1, 0);
        }
        let was = self.words[word] & (1 << bit) != 0;
        self.words[word] |= 1 << bit;
        !was
    }

    pub fn contains(&self, id: HolderId) -> bool {
        let (word, bit) = (id as usize / 64, id % 64);
        self.words.get(word).is_some_and(|w| w & (1 << bit) != 0)
    }

    pub fn union_with(&mut self, other: &HolderSet) {
        if self.words.len() < other.words.len() {
            self.words.resize(other.words.len(), 0);
        }
        for (mine, theirs) in self.words.iter_mut().zip(&other.words) {
            *mine |= theirs;
        }
    }

    pub fn intersects(&self, other: &HolderSet) -> bool {
        self.words
            .iter()
            .zip(&other.words)
            .any(|(mine, theirs)| mine & theirs != 0)
    }

    pub fn is_subset(&self, other: &HolderSet) -> bool {
        self.words
            .iter()
            .enumerate()
            .all(|(at, &word)| word & !other.words.get(at).copied().unwrap_or(0) == 0)
    }

    /// Leaves out every holder of `other`.
    pub fn remove_all(&mut self, other: &HolderSet) {
        for (mine, theirs) in self.words.iter_mut().zip(&other.words) {
            *mine &= !theirs;
        }
    }

    pub fn remove(&mut self, id: HolderId) {
        let (word, bit) = (id as usize / 64, id % 64);
        if let Some(word) = self.words.get_mut(word) {
            *word &= !(1 << bit);
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = HolderId> + '_ {
        self.words.iter().enumerate().flat_map(|(at, &word)| {
            (0..64)
                .filter(move |bit| word & (1u64 << bit) != 0)
                .map(move |bit| (at * 64 + bit) as HolderId)
        })
    }

    pub fn len(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.words.iter().all(|&w| w == 0)
    }
}

/// Whether a query matches a resource: surely, surely not, or only a
/// compiler could tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Match {
    Yes,
    No,
    Maybe,
}

impl Match {
    fn and(self, other: Match) -> Match {
        match (self, other) {
            (Match::No, _) | (_, Match::No) => Match::No,
            (Match::Yes, Match::Yes) => Match::Yes,
            _ => Match::Maybe,
        }
    }

    fn or(self, other: Match) -> Match {
        match (self, other) {
            (Match::Yes, _) | (_, Match::Yes) => Match::Yes,
            (Match::No, Match::No) => Match::No,
            _ => Match::Maybe,
        }
    }

    fn not(self) -> Match {
        match self {
            Match::Yes => Match::No,
            Match::No => Match::Yes,
            Match::Maybe => Match::Maybe,
        }
    }

    /// Whether the resource may be collected (what a conservative check
    /// must assume).
    pub fn may(self) -> bool {
        self != Match::No
    }
}

/// The index of `item` in `items`, when it is one of them (not a copy).
fn index_in<T>(items: &[T], item: &T) -> Option<usize> {
    let range = items.as_ptr_range();
    let address = item as *const T;
    range
        .contains(&address)
        .then(|| (address as usize - range.start as usize) / std::mem::size_of::<T>())
}

/// What a collector may collect: resources (indexes into the analysis'
/// resources) and how surely.
type Collection = Box<[(u32, Match)]>;

pub struct Semantic<'a> {
    pub analysis: &'a Analysis,
    holders: Vec<Vertex>,
    ids: FastMap<Vertex, HolderId>,
    /// Indexes into `analysis.edges`, per holder.
    edges_of: Vec<Vec<u32>>,
    /// The holders each holder declares (classes, define instances).
    declares: Vec<Vec<HolderId>>,
    /// What each edge of the analysis declares (`declared_holder`), worked
    /// out once: asked again for every unit and role.
    declared_by_edge: Vec<Option<HolderId>>,
    closures: Vec<OnceLock<HolderSet>>,
    /// Holders declaring each resource with a literal title.
    declarers: FastMap<&'a Vertex, Vec<HolderId>>,
    /// Indexes into `analysis.resources`, by type name.
    resources_by_type: FastMap<&'a str, Vec<u32>>,
    /// Tags of `tag()` calls, per holder.
    tag_calls: FastMap<HolderId, Vec<&'a str>>,
    /// Indexes into `analysis.edges` per file, in source order.
    edges_by_file: FastMap<&'a str, Vec<u32>>,
    /// Every class name and every segment of one.
    class_words: FastSet<&'a str>,
    /// The values of class variables, as far as known: `(class, name)`.
    values: Mutex<FastMap<ClassVariable, Option<Vec<Alternative>>>>,
    /// The ends that send a refresh on (`a ~> b`, `notify`, `subscribe`).
    relaying: FastSet<&'a Vertex>,
    /// The refreshing edges each anchor sends on, by index.
    relays: FastMap<&'a Vertex, Vec<u32>>,
    /// The ordering edges (refreshes too) with an anchor at an end, per
    /// anchor, by index.
    anchored: FastMap<&'a Vertex, Vec<u32>>,
    /// The declarations of each collector (a query written alike in
    /// several places is one vertex).
    collectors: FastMap<&'a Vertex, Vec<&'a CollectorDeclaration>>,
    /// `collected`'s answers, per collector of the analysis (by index):
    /// resources (indexes) and how surely.
    collections: Vec<OnceLock<Collection>>,
    /// The values each resource's interpolated title may take, per
    /// resource of the analysis (by index): asked by every collector of its
    /// type.
    pattern_titles: Vec<OnceLock<Vec<Alternative>>>,
    /// `declarers` of resources written with a computed title, once asked.
    computed_declarers: Mutex<FastMap<Vertex, Vec<HolderId>>>,
    /// The class setting a qualified variable (`apache::confdir`), once
    /// asked.
    variable_classes: Mutex<FastMap<String, Option<HolderId>>>,
    /// What the catalogs analysed can hold, once said (`keep_within`): a
    /// define's instances elsewhere give its variables no value there.
    within: OnceLock<HolderSet>,
}

impl<'a> Semantic<'a> {
    pub fn new(analysis: &'a Analysis) -> Semantic<'a> {
        let mut model = Semantic {
            analysis,
            holders: Vec::new(),
            ids: FastMap::default(),
            edges_of: Vec::new(),
            declares: Vec::new(),
            declared_by_edge: Vec::new(),
            closures: Vec::new(),
            declarers: FastMap::default(),
            resources_by_type: FastMap::default(),
            tag_calls: FastMap::default(),
            edges_by_file: FastMap::default(),
            class_words: FastSet::default(),
            values: Mutex::new(FastMap::default()),
            relaying: FastSet::default(),
            relays: FastMap::default(),
            anchored: FastMap::default(),
            collectors: FastMap::default(),
            collections: (0..analysis.collectors.len())
                .map(|_| OnceLock::new())
                .collect(),
            pattern_titles: (0..analysis.resources.len())
                .map(|_| OnceLock::new())
                .collect(),
            computed_declarers: Mutex::new(FastMap::default()),
            variable_classes: Mutex::new(FastMap::default()),
            within: OnceLock::new(),
        };
        for name in analysis.codebase.class_names() {
            model.class_words.insert(name);
            model.class_words.extend(name.segments());
        }
        for (name, definitions) in &analysis.codebase.definitions {
            for definition in definitions {
                match definition.kind {
                    DefinitionKind::Class => model.intern(Vertex::class(name)),
                    DefinitionKind::Define => model.intern(Vertex::Type { name: name.clone() }),
                    _ => 0,
                };
            }
        }
        for (index, edge) in analysis.edges.iter().enumerate() {
            let holder = model.intern(edge.unit.clone());
            model.edges_of[holder as usize].push(index as u32);
            model
                .edges_by_file
                .entry(&edge.location.file)
                .or_default()
                .push(index as u32);
        }
        model.declared_by_edge = analysis
            .edges
            .iter()
            .map(|edge| model.declaration_of(edge))
            .collect();
        for holder in 0..model.holders.len() {
            let mut declared = Vec::new();
            for &edge in &model.edges_of[holder] {
                if let Some(target) = model.declared_by_edge[edge as usize] {
                    if !declared.contains(&target) {
                        declared.push(target);
                    }
                }
            }
            model.declares[holder] = declared;
        }
        for edge in &analysis.edges {
            if matches!(
                edge.kind,
                crate::model::EdgeKind::Declare | crate::model::EdgeKind::DeclareVirtual
            ) && matches!(edge.to, Vertex::Resource { scope: None, .. })
            {
                let holder = model.ids[&edge.unit];
                let list = model.declarers.entry(&edge.to).or_default();
                if !list.contains(&holder) {
                    list.push(holder);
                }
            }
        }
        for (index, resource) in analysis.resources.iter().enumerate() {
            model
                .resources_by_type
                .entry(&resource.type_name)
                .or_default()
                .push(index as u32);
        }
        for (holder, tag) in &analysis.tags {
            if let Some(&id) = model.ids.get(holder) {
                model.tag_calls.entry(id).or_default().push(tag);
            }
        }
        for edges in model.edges_by_file.values_mut() {
            edges.sort_by_key(|&e| {
                let location = &analysis.edges[e as usize].location;
                (location.line, location.column)
            });
        }
        for collector in &analysis.collectors {
            model
                .collectors
                .entry(&collector.collector)
                .or_default()
                .push(collector);
        }
        for (index, edge) in analysis.edges.iter().enumerate() {
            if edge.kind.from_runs_first().is_some() {
                for end in [&edge.from, &edge.to] {
                    if is_anchor(end) {
                        model.anchored.entry(end).or_default().push(index as u32);
                    }
                }
            }
            if !edge.kind.refreshes() {
                continue;
            }
            let sender = edge.in_run_order().0;
            model.relaying.insert(sender);
            if is_anchor(sender) {
                model.relays.entry(sender).or_default().push(index as u32);
            }
        }
        model.closures = (0..model.holders.len()).map(|_| OnceLock::new()).collect();
        model
    }

    /// Restricts the catalogs analysed to what declaring `roots` puts in
    /// one (a monolith's entries, the tasks' manifests): a define's `$title`
    /// and parameters then take the values of the instances these reach,
    /// not of every instance on the module path (`oci::sslkeypair`'s
    /// `Anchor["${name}::install::end"]` names the anchors of the services
    /// the entry declares key pairs for). Said once, before any value is
    /// asked; a later call changes nothing.
    pub fn keep_within(&self, roots: &[HolderId]) {
        let mut reached = HolderSet::default();
        for &root in roots {
            reached.union_with(self.closure(root));
        }
        if self.within.set(reached).is_ok() {
            self.values.lock().expect("not poisoned").clear();
        }
    }

    /// The instances of a define the catalogs analysed can hold.
    fn instances_of(&self, define: &str) -> impl Iterator<Item = &'a ResourceDeclaration> + '_ {
        self.resources_of_type(define).filter(move |instance| {
            self.within.get().is_none_or(|within| {
                self.holder(&instance.holder)
                    .is_some_and(|holder| within.contains(holder))
            })
        })
    }

    /// Whether a class only writes relationships: no parameters, no class
    /// or define it declares, anchors its only resources (a module's `deps`
    /// class), and other modules may declare it (no `assert_private()`).
    /// Including it in one more catalog changes nothing there but the
    /// order of what its collectors find.
    pub fn orders_only(&self, class: &str) -> bool {
        let Some(id) = self.holder(&Vertex::class(class)) else {
            return false;
        };
        let Some((_, definition)) = find_class(self.analysis, class) else {
            return false;
        };
        definition.params.is_empty()
            && !self.analysis.private.contains(&Vertex::class(class))
            && self.declares(id).is_empty()
            && self.edges_of(id).all(|(_, edge)| match edge.kind {
                crate::model::EdgeKind::Declare => {
                    matches!(&edge.to, Vertex::Resource { type_name, .. } if type_name == "anchor")
                }
                crate::model::EdgeKind::DeclareVirtual => false,
                kind => !kind.declares_class(),
            })
    }

    /// Whether declaring a class puts only data in a catalog: it and the
    /// classes it declares set variables and declare nothing else (a
    /// module's `params` class), but classes that only order
    /// (`orders_only`: its `deps`), and other modules may declare it (no
    /// `assert_private()`). Declaring it in one more catalog changes
    /// nothing on the node.
    pub fn holds_data_only(&self, class: &str) -> bool {
        if self.analysis.private.contains(&Vertex::class(class)) {
            return false;
        }
        let mut seen: FastSet<HolderId> = FastSet::default();
        let mut pending = vec![class.to_string()];
        while let Some(class) = pending.pop() {
            let Some(id) = self.holder(&Vertex::class(&class)) else {
                return false;
            };
            if !seen.insert(id) {
                continue;
            }
            for (_, edge) in self.edges_of(id) {
                match (&edge.kind, &edge.to) {
                    (kind, Vertex::Class { name }) if kind.declares_class() => {
                        if !self.orders_only(name) {
                            pending.push(name.clone())
                        }
                    }
                    (
                        crate::model::EdgeKind::ReadsVariable
                        | crate::model::EdgeKind::Lookup
                        | crate::model::EdgeKind::Uses,
                        _,
                    ) => {}
                    _ => return false,
                }
            }
        }
        true
    }

    /// The resources a reference with a computed title (`Anchor[$names]`)
    /// written in `holder`'s code may name, when its title is a variable
    /// whose every value is known.
    pub fn named_by(&self, reference: &Vertex, holder: &Vertex) -> Option<Vec<Vertex>> {
        let Vertex::Resource {
            type_name,
            title,
            scope: Some(_),
        } = reference
        else {
            return None;
        };
        let values = match title.strip_prefix('$') {
            Some(variable) if variable.chars().all(is_name_char) => {
                self.variable_values(variable, holder)?
            }
            _ => self.pieces_values(&interpolated_pieces(title)?, holder),
        };
        values
            .iter()
            .map(|value| match value {
                Alternative::Exact(title) => Some(Vertex::Resource {
                    type_name: type_name.clone(),
                    title: title.clone(),
                    scope: None,
                }),
                Alternative::Like(_) => None,
            })
            .collect()
    }

    /// The class whose variable a qualified name (`$apache::confdir`,
    /// `$::apache::confdir`) reads, when such a class is defined: Puppet
    /// finds the value only where that class is evaluated.
    pub fn variable_class<'n>(&self, name: &'n str) -> Option<&'n str> {
        let name = name.without_top();
        self.variable_holder(name)?;
        name.split_last().map(|(class, _)| class)
    }

    /// The holder of `variable_class`'s class.
    fn variable_holder(&self, name: &str) -> Option<HolderId> {
        let name = name.without_top();
        if let Some(&known) = self
            .variable_classes
            .lock()
            .expect("not poisoned")
            .get(name)
        {
            return known;
        }
        let (class, variable) = name.split_last()?;
        let found = if self.class_sets(class, variable, 0) {
            self.holder(&Vertex::class(class))
        } else {
            None
        };
        self.variable_classes
            .lock()
            .expect("not poisoned")
            .insert(name.to_string(), found);
        found
    }

    /// Whether a class sets a variable: a parameter, an assignment in its
    /// body, or its parent's (a name nothing sets is undef everywhere).
    fn class_sets(&self, class: &str, variable: &str, depth: u32) -> bool {
        const MAX_DEPTH: u32 = 8;
        let Some((_, definition)) = find_class(self.analysis, class) else {
            return false;
        };
        let mut assigned = Vec::new();
        if let Some(body) = &definition.body {
            assignments_of(body, variable, &mut assigned);
        }
        definition.params.iter().any(|p| p.name == variable)
            || !assigned.is_empty()
            || (depth < MAX_DEPTH
                && definition.parent.as_deref().is_some_and(|parent| {
                    self.class_sets(&crate::index::normalize(parent), variable, depth + 1)
                }))
    }

    /// A class declaring `end` that only orders or holds data
    /// (`orders_only`: a module's `deps` with its anchors, a `params`):
    /// including it adds nothing else to a catalog.
    pub fn declared_by_orderer(&self, end: &Vertex) -> Option<HolderId> {
        self.declarers(end)
            .into_iter()
            .find(|&id| matches!(self.vertex(id), Vertex::Class { name } if self.orders_only(name)))
    }

    /// Whether a refresh sent to `end` does anything. An anchor does
    /// nothing when refreshed but relay the event to what it notifies: to
    /// one that notifies nothing, a refresh is an ordering only.
    pub fn refresh_matters(&self, end: &Vertex) -> bool {
        !is_anchor(end) || self.relaying.contains(end)
    }

    /// What a refresh sent to an anchor refreshes in the end: what the
    /// anchor relays it to (`~>`, `notify`, `subscribe`), through other
    /// anchors, a collector there standing for the resources it surely
    /// collects; one of those whose title is computed (`service {
    /// "nova-${name}": }` in a define) stands for the class or define
    /// declaring it. A resource or class written with a computed title is
    /// left out.
    pub fn refreshed_through(&self, anchor: &'a Vertex) -> Vec<&'a Vertex> {
        let mut refreshed = Vec::new();
        for receiver in self.beyond_anchors(anchor, &self.relays) {
            match receiver {
                Vertex::Class { .. } | Vertex::Resource { scope: None, .. } => {
                    refreshed.push(receiver)
                }
                Vertex::Collector { .. } => {
                    for collector in self.collectors_named(receiver) {
                        refreshed.extend(
                            self.collected(collector)
                                .filter(|&(_, matches)| matches == Match::Yes)
                                .filter_map(|(r, _)| match (&r.resource, &r.holder) {
                                    (Vertex::Resource { scope: None, .. }, _) => Some(&r.resource),
                                    (_, Vertex::Class { .. } | Vertex::Type { .. }) => {
                                        Some(&r.holder)
                                    }
                                    _ => None,
                                }),
                        );
                    }
                }
                _ => {}
            }
        }
        refreshed.sort();
        refreshed.dedup();
        refreshed
    }

    /// The ordering edges (refreshes too) written with an anchor at an end.
    pub fn anchored_edges(&self) -> impl Iterator<Item = &'a Edge> + '_ {
        let edges = &self.analysis.edges;
        let mut indexes: Vec<u32> = self.anchored.values().flatten().copied().collect();
        indexes.sort_unstable();
        indexes.dedup();
        indexes.into_iter().map(move |index| &edges[index as usize])
    }

    /// What an anchor orders after it, through other anchors: the ends
    /// that run after it by an ordering or refresh written with it. An
    /// anchor changes nothing itself: between tasks, only the order of
    /// these after what runs before it matters.
    pub fn ordered_after(&self, anchor: &'a Vertex) -> Vec<&'a Vertex> {
        self.beyond_anchors(anchor, &self.anchored)
    }

    /// The ends that are not anchors which `anchor` runs before through
    /// `edges` (per anchor, edges written with it), following the anchors
    /// it reaches so: each once.
    fn beyond_anchors(
        &self,
        anchor: &'a Vertex,
        edges: &FastMap<&'a Vertex, Vec<u32>>,
    ) -> Vec<&'a Vertex> {
        let mut seen: FastSet<&'a Vertex> = FastSet::default();
        let mut next = vec![anchor];
        let mut found = Vec::new();
        while let Some(at) = next.pop() {
            if !seen.insert(at) {
                continue;
            }
            for &index in edges.get(at).into_iter().flatten() {
                let (first, then) = self.analysis.edges[index as usize].in_run_order();
                if first != at || then == at {
                    continue;
                }
                if is_anchor(then) {
                    next.push(then);
                } else {
                    found.push(then);
                }
            }
        }
        found.sort();
        found.dedup();
        found
    }

    /// The declarations of a collector vertex, wherever written.
    pub fn collectors_named(&self, collector: &Vertex) -> &[&'a CollectorDeclaration] {
        self.collectors
            .get(collector)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    fn intern(&mut self, vertex: Vertex) -> HolderId {
        if let Some(&id) = self.ids.get(&vertex) {
            return id;
        }
        let id = self.holders.len() as HolderId;
        self.ids.insert(vertex.clone(), id);
        self.holders.push(vertex);
        self.edges_of.push(Vec::new());
        self.declares.push(Vec::new());
        id
    }

    pub fn holder(&self, vertex: &Vertex) -> Option<HolderId> {
        self.ids.get(vertex).copied()
    }

    pub fn vertex(&self, id: HolderId) -> &Vertex {
        &self.holders[id as usize]
    }

    /// The edges a holder's code writes.
    pub fn edges_of(&self, id: HolderId) -> impl Iterator<Item = (u32, &'a Edge)> + '_ {
        self.edges_of[id as usize]
            .iter()
            .map(|&e| (e, &self.analysis.edges[e as usize]))
    }

    /// The holders a holder declares directly.
    pub fn declares(&self, id: HolderId) -> &[HolderId] {
        &self.declares[id as usize]
    }

    /// The class a name written in `from`'s code declares: the name itself
    /// when such a class exists, else (Puppet 3's relative names) the name
    /// under `from`'s namespaces, innermost first.
    pub fn resolve_class(&self, name: &str, from: &Vertex) -> Option<String> {
        let name = name.without_top();
        if self.analysis.has_class(name) {
            return Some(name.to_string());
        }
        let mut namespace = match from {
            Vertex::Class { name } | Vertex::Type { name } => name.as_str(),
            _ => return None,
        };
        loop {
            let candidate = format!("{namespace}::{name}");
            if self.analysis.has_class(&candidate) {
                return Some(candidate);
            }
            namespace = namespace.split_last()?.0;
        }
    }

    /// The holder an edge puts in the catalog, if it declares one.
    pub fn declared_holder(&self, edge: &Edge) -> Option<HolderId> {
        match index_in(&self.analysis.edges, edge) {
            Some(index) => self.declared_by_edge[index],
            None => self.declaration_of(edge),
        }
    }

    fn declaration_of(&self, edge: &Edge) -> Option<HolderId> {
        match &edge.to {
            Vertex::Class { name } if edge.kind.declares_class() => {
                let resolved = self.resolve_class(name, &edge.unit)?;
                self.holder(&Vertex::class(&resolved))
            }
            Vertex::Type { name }
                if edge.kind == crate::model::EdgeKind::Instantiate
                    && self
                        .analysis
                        .codebase
                        .find(name, DefinitionKind::Define)
                        .is_some() =>
            {
                self.holder(&edge.to)
            }
            _ => None,
        }
    }

    /// Everything declaring `id` puts in a catalog: itself and what it
    /// declares, directly or through others.
    pub fn closure(&self, id: HolderId) -> &HolderSet {
        if let Some(done) = self.closures[id as usize].get() {
            return done;
        }
        let mut set = HolderSet::default();
        let mut stack = vec![id];
        set.insert(id);
        while let Some(at) = stack.pop() {
            for &next in self.declares(at) {
                if set.contains(next) {
                    continue;
                }
                if let Some(done) = self.closures[next as usize].get() {
                    set.union_with(done);
                } else {
                    set.insert(next);
                    stack.push(next);
                }
            }
        }
        let _ = self.closures[id as usize].set(set);
        self.closures[id as usize].get().expect("just set")
    }

    /// What declaring `roots` puts in a catalog when the declarations of
    /// the edges `off` do not happen (they stand under guards that fail).
    pub fn closure_without(&self, roots: &[HolderId], off: &FastSet<u32>) -> HolderSet {
        let mut set = HolderSet::default();
        let mut stack = Vec::new();
        for &root in roots {
            if !set.contains(root) {
                set.insert(root);
                stack.push(root);
            }
        }
        while let Some(at) = stack.pop() {
            for (index, edge) in self.edges_of(at) {
                if off.contains(&index) {
                    continue;
                }
                if let Some(next) = self.declared_holder(edge) {
                    if !set.contains(next) {
                        set.insert(next);
                        stack.push(next);
                    }
                }
            }
        }
        set
    }

    /// The holders declaring a resource with a literal title (a class
    /// reference is its own holder): where it is written with that title,
    /// else where an `alias` names it so, or its title is a variable or a
    /// string that surely holds it (`package { $package_name: }` with a
    /// known default).
    pub fn declarers(&self, resource: &Vertex) -> Vec<HolderId> {
        match resource {
            Vertex::Class { name } => self.holder(&Vertex::class(name)).into_iter().collect(),
            // A define is in a catalog where an instance of it is.
            Vertex::Type { .. } => self.holder(resource).into_iter().collect(),
            // A class's variable is set where the class is evaluated.
            Vertex::Variable { name } => self.variable_holder(name).into_iter().collect(),
            Vertex::Resource {
                type_name,
                title,
                scope: None,
            } => {
                if let Some(found) = self.declarers.get(resource) {
                    return found.clone();
                }
                if let Some(found) = self
                    .computed_declarers
                    .lock()
                    .expect("not poisoned")
                    .get(resource)
                {
                    return found.clone();
                }
                // `alias => 'x'` names a resource as `Type['x']` too.
                let aliased = |declared: &ResourceDeclaration| {
                    declared.attributes.iter().any(|(name, value)| {
                        name == "alias"
                            && match value {
                                AttributeValue::Text(alias) => alias == title,
                                AttributeValue::List(aliases) => aliases.contains(title),
                                _ => false,
                            }
                    })
                };
                let mut found: Vec<HolderId> = self
                    .resources_of_type(type_name)
                    .filter(|declared| {
                        aliased(declared)
                            || declared.title.is_none()
                                && self.title_is(declared, title) == Match::Yes
                    })
                    .filter_map(|declared| self.holder(&declared.holder))
                    .collect();
                found.sort_unstable();
                found.dedup();
                self.computed_declarers
                    .lock()
                    .expect("not poisoned")
                    .insert(resource.clone(), found.clone());
                found
            }
            _ => self.declarers.get(resource).cloned().unwrap_or_default(),
        }
    }

    /// The edges written in `file` between two positions (inclusive).
    pub fn edges_between(
        &self,
        file: &str,
        start: (u32, u32),
        end: (u32, u32),
    ) -> impl Iterator<Item = (u32, &'a Edge)> + '_ {
        let edges = self.edges_by_file.get(file).map_or(&[][..], Vec::as_slice);
        let position = |&e: &u32| {
            let location = &self.analysis.edges[e as usize].location;
            (location.line, location.column)
        };
        let from = edges.partition_point(|e| position(e) < start);
        let to = edges.partition_point(|e| position(e) <= end);
        edges[from..to.max(from)]
            .iter()
            .map(|&e| (e, &self.analysis.edges[e as usize]))
    }

    /// The resource declarations of one type.
    pub fn resources_of_type(
        &self,
        type_name: &str,
    ) -> impl Iterator<Item = &'a ResourceDeclaration> + '_ {
        let analysis = self.analysis;
        self.resources_by_type
            .get(type_name)
            .into_iter()
            .flatten()
            .map(move |&r| &analysis.resources[r as usize])
    }

    /// Whether a resource named by a title computed in a scope
    /// (`require => Mysql_user["${user}@localhost"]`) is declared by that
    /// scope with the same title (`mysql_user { "${user}@localhost": }`):
    /// the same text in the same scope is the same resource, which code
    /// copying the reference needs beside it.
    pub fn declared_in_scope(&self, resource: &Vertex) -> bool {
        match resource {
            Vertex::Resource {
                type_name,
                scope: Some(_),
                ..
            } => self
                .resources_of_type(type_name)
                .any(|declared| declared.resource == *resource),
            _ => false,
        }
    }

    /// The declarations of the same resource that take effect instead of
    /// `resource` where they are in the catalog: when it is a fallback
    /// (declared only if not yet `defined`), the others that are not. A
    /// catalog holding both compiles only when the fallback stands back.
    pub fn superseding(
        &self,
        resource: &'a ResourceDeclaration,
    ) -> impl Iterator<Item = &'a ResourceDeclaration> + '_ {
        let type_name = if resource.fallback {
            resource.type_name.as_str()
        } else {
            // Not a fallback: nothing stands in for it.
            ""
        };
        self.resources_of_type(type_name)
            .filter(move |other| !other.fallback && other.resource == resource.resource)
    }

    /// The resources a collector may collect, with how surely
    /// (`Match::Yes` or `Match::Maybe`), in the analysis' order: its query
    /// is evaluated once per collector of the analysis.
    pub fn collected(
        &self,
        collector: &CollectorDeclaration,
    ) -> impl Iterator<Item = (&'a ResourceDeclaration, Match)> + '_ {
        let evaluate = || -> Collection {
            let mut piece_values = Vec::new();
            self.query_piece_values(&collector.query, &collector.holder, &mut piece_values);
            // `resources_by_type` holds only resources of the collector's type.
            self.resources_by_type
                .get(collector.type_name.as_str())
                .into_iter()
                .flatten()
                .filter_map(|&index| {
                    let resource = &self.analysis.resources[index as usize];
                    let mut matches = self.query_matches(&collector.query, resource, &piece_values);
                    if resource.perhaps_absent {
                        matches = matches.and(Match::Maybe);
                    }
                    matches.may().then_some((index, matches))
                })
                .collect()
        };
        let found: Cow<'_, [(u32, Match)]> = match index_in(&self.analysis.collectors, collector) {
            Some(index) => Cow::Borrowed(self.collections[index].get_or_init(evaluate)),
            None => Cow::Owned(evaluate().into_vec()),
        };
        let analysis = self.analysis;
        (0..found.len()).map(move |at| {
            let (index, matches) = found[at];
            (&analysis.resources[index as usize], matches)
        })
    }

    /// The values of the interpolated strings of a query (`EqualsPieces`)
    /// as read in `holder`, by node: the same for every resource matched.
    fn query_piece_values<'q>(
        &self,
        query: &'q Query,
        holder: &Vertex,
        values: &mut Vec<(&'q Query, Vec<Alternative>)>,
    ) {
        match query {
            Query::And { left, right } | Query::Or { left, right } => {
                self.query_piece_values(left, holder, values);
                self.query_piece_values(right, holder, values);
            }
            Query::EqualsPieces { pieces, .. } => {
                values.push((query, self.pieces_values(pieces, holder)));
            }
            _ => {}
        }
    }

    /// Whether a query matches a resource of its type, given its
    /// interpolated strings' values (`query_piece_values`).
    fn query_matches(
        &self,
        query: &Query,
        resource: &ResourceDeclaration,
        piece_values: &[(&Query, Vec<Alternative>)],
    ) -> Match {
        match query {
            Query::All => Match::Yes,
            Query::Unknown => Match::Maybe,
            Query::And { left, right } => self
                .query_matches(left, resource, piece_values)
                .and(self.query_matches(right, resource, piece_values)),
            Query::Or { left, right } => self
                .query_matches(left, resource, piece_values)
                .or(self.query_matches(right, resource, piece_values)),
            Query::EqualsPieces { attribute, pieces } => {
                // The same string of the same global values is the same
                // value wherever it is written.
                if let TitleShape::Pattern(title) = &resource.title_shape {
                    if named_title(attribute, resource) && title == pieces && all_global(pieces) {
                        return Match::Yes;
                    }
                }
                let values = piece_values
                    .iter()
                    .find(|(node, _)| std::ptr::eq(*node, query))
                    .map_or(&[][..], |(_, values)| values.as_slice());
                values
                    .iter()
                    .map(|value| match value {
                        Alternative::Exact(text) => {
                            self.attribute_equals(resource, attribute, text)
                        }
                        Alternative::Like(like) => self.attribute_like(resource, attribute, like),
                    })
                    .fold(Match::No, Match::or)
                    .and(Match::Maybe)
            }
            Query::Equals { attribute, value } => self.attribute_equals(resource, attribute, value),
            Query::NotEquals { attribute, value } => {
                self.attribute_equals(resource, attribute, value).not()
            }
        }
    }

    /// The values an interpolated string written in `holder` can take.
    fn pieces_values(&self, pieces: &[Piece], holder: &Vertex) -> Vec<Alternative> {
        concatenations(pieces.iter().map(|piece| match piece {
            Piece::Text(text) => vec![Alternative::Exact(text.clone())],
            Piece::Variable(name) => self.variable_values(name, holder).unwrap_or_default(),
            Piece::Unknown => Vec::new(),
        }))
    }

    /// The values a resource's interpolated title (`parts`) may take.
    fn pattern_title_values(
        &self,
        resource: &ResourceDeclaration,
        parts: &[Piece],
    ) -> Cow<'_, [Alternative]> {
        let evaluate = || self.pieces_values(parts, &resource.holder);
        match index_in(&self.analysis.resources, resource) {
            Some(index) => Cow::Borrowed(self.pattern_titles[index].get_or_init(evaluate)),
            None => Cow::Owned(evaluate()),
        }
    }

    /// Whether a resource's title may be `value`: its literal, the values
    /// its variable can take, or the pieces of its interpolated string.
    fn title_is(&self, resource: &ResourceDeclaration, value: &str) -> Match {
        if let Some(title) = &resource.title {
            return bool_match(title.eq_ignore_ascii_case(value));
        }
        match &resource.title_shape {
            TitleShape::Variable(name) => match self.variable_values(name, &resource.holder) {
                Some(values) if !values.is_empty() => any_may_be(&values, value),
                _ => Match::Maybe,
            },
            TitleShape::Pattern(parts) => {
                any_may_be(&self.pattern_title_values(resource, parts), value)
            }
            _ => Match::Maybe,
        }
    }

    /// The values a variable read in `holder`'s code can take, when every
    /// way it is set is known: the literals of its assignments (every
    /// branch), of its parameter's default and of the arguments class
    /// declarations give it, followed through other variables and the
    /// parent class; a define's `$title` and `$name` are its instances'
    /// titles. `None` when anything else may set it.
    pub fn variable_values(&self, name: &str, holder: &Vertex) -> Option<Vec<Alternative>> {
        self.values_at_depth(name, holder, 0)
    }

    fn values_at_depth(&self, name: &str, holder: &Vertex, depth: u32) -> Option<Vec<Alternative>> {
        const MAX_DEPTH: u32 = 32;
        if depth > MAX_DEPTH {
            return None;
        }
        let name = name.without_top();
        let (class, variable) = match (name.split_last(), holder) {
            (Some((class, variable)), _) => (class.to_string(), variable),
            (None, Vertex::Class { name: class }) => (class.clone(), name),
            (None, Vertex::Type { name: define }) => {
                // A define's variables depend on all its instances: worth
                // remembering, as class variables are.
                let key = (format!("define {define}"), name.to_string());
                if let Some(known) = self.values.lock().expect("not poisoned").get(&key) {
                    return known.clone();
                }
                let found = self.define_variable_values(define, name, holder, depth);
                self.values
                    .lock()
                    .expect("not poisoned")
                    .insert(key, found.clone());
                return found;
            }
            _ => return None,
        };
        let key = (class.clone(), variable.to_string());
        if let Some(known) = self.values.lock().expect("not poisoned").get(&key) {
            return known.clone();
        }
        let found = self.class_variable_values(&class, variable, depth);
        self.values
            .lock()
            .expect("not poisoned")
            .insert(key, found.clone());
        found
    }

    /// The values a variable of a define's scope takes: its title, a
    /// parameter, or a local assignment.
    fn define_variable_values(
        &self,
        define: &str,
        name: &str,
        holder: &Vertex,
        depth: u32,
    ) -> Option<Vec<Alternative>> {
        if name == "title" || name == "name" {
            let mut titles = Vec::new();
            for instance in self.instances_of(define) {
                match (&instance.title, &instance.title_shape) {
                    (Some(title), _) => titles.push(Alternative::Exact(title.clone())),
                    (None, TitleShape::Variable(variable)) => titles.extend(self.values_at_depth(
                        variable,
                        &instance.holder,
                        depth + 1,
                    )?),
                    _ => return None,
                }
            }
            titles.sort();
            titles.dedup();
            return Some(titles);
        }
        let definition = self.define_definition(define)?;
        if definition.params.iter().any(|p| p.name == name) {
            return self.define_parameter_values(define, name, depth);
        }
        let mut assigned = Vec::new();
        if let Some(body) = &definition.body {
            assignments_of(body, name, &mut assigned);
        }
        if assigned.is_empty() {
            return None;
        }
        let mut values = Vec::new();
        for value in assigned {
            values.extend(self.expr_values(value, holder, depth)?);
        }
        values.sort();
        values.dedup();
        Some(values)
    }

    /// The values a define's parameter takes: what each instance gives it,
    /// or its default.
    fn define_parameter_values(
        &self,
        define: &str,
        parameter: &str,
        depth: u32,
    ) -> Option<Vec<Alternative>> {
        let default = self.define_default(define, parameter)?;
        let mut values = Vec::new();
        for instance in self.instances_of(define) {
            match instance
                .attributes
                .iter()
                .rev()
                .find(|(name, _)| name == parameter)
            {
                Some((_, AttributeValue::Text(text))) => {
                    values.push(Alternative::Exact(text.clone()))
                }
                Some((_, AttributeValue::Variable(variable))) => {
                    values.extend(self.values_at_depth(variable, &instance.holder, depth + 1)?)
                }
                Some(_) => return None,
                None => values.extend(default.clone()?),
            }
        }
        values.sort();
        values.dedup();
        Some(values)
    }

    /// The values of a define parameter's default (`Some(None)`: it has no
    /// default, or one the model cannot follow); `None` when the define
    /// has no such parameter.
    fn define_default(&self, define: &str, parameter: &str) -> Option<Option<Vec<Alternative>>> {
        let definition = self.define_definition(define)?;
        let param = definition.params.iter().find(|p| p.name == parameter)?;
        let scope = Vertex::Type {
            name: define.to_string(),
        };
        Some(
            param
                .value
                .as_ref()
                .and_then(|d| self.expr_values(d, &scope, 1)),
        )
    }

    /// A define's definition.
    fn define_definition(&self, define: &str) -> Option<&'a Definition> {
        find_definition(self.analysis, define, DefinitionKind::Define).map(|(_, d)| d)
    }

    fn class_variable_values(
        &self,
        class: &str,
        variable: &str,
        depth: u32,
    ) -> Option<Vec<Alternative>> {
        let (_, definition) = find_class(self.analysis, class)?;
        let scope = Vertex::class(class);
        let mut values = Vec::new();
        let mut set = false;
        if let Some(param) = definition.params.iter().find(|p| p.name == variable) {
            set = true;
            if let Some(default) = &param.value {
                values.extend(self.expr_values(default, &scope, depth)?);
            }
            for (declared, arguments) in &self.analysis.class_arguments {
                if declared != class {
                    continue;
                }
                match arguments.iter().rev().find(|(name, _)| name == variable) {
                    Some((_, AttributeValue::Text(text))) => {
                        values.push(Alternative::Exact(text.clone()))
                    }
                    Some(_) => return None,
                    None => {}
                }
            }
        }
        let mut assigned = Vec::new();
        if let Some(body) = &definition.body {
            assignments_of(body, variable, &mut assigned);
        }
        for value in assigned {
            set = true;
            values.extend(self.expr_values(value, &scope, depth)?);
        }
        if !set {
            // A variable nothing sets is undef (Puppet warns), unless the
            // parent class sets it.
            return match definition.parent.as_deref() {
                Some(parent) => self.values_at_depth(
                    variable,
                    &Vertex::class(&crate::index::normalize(parent)),
                    depth + 1,
                ),
                None => Some(Vec::new()),
            };
        }
        values.sort();
        values.dedup();
        Some(values)
    }

    fn expr_values(&self, expr: &Expr, scope: &Vertex, depth: u32) -> Option<Vec<Alternative>> {
        match &expr.kind {
            ExprKind::Undef => Some(Vec::new()),
            ExprKind::Boolean(b) => Some(vec![Alternative::Exact(b.to_string())]),
            ExprKind::Variable(name) => self.values_at_depth(name, scope, depth + 1),
            ExprKind::Selector { entries, .. } => {
                let mut values = Vec::new();
                for entry in entries {
                    values.extend(self.expr_values(&entry.value, scope, depth)?);
                }
                Some(values)
            }
            ExprKind::Paren(inner) | ExprKind::Text(inner) => self.expr_values(inner, scope, depth),
            ExprKind::Array(items) => {
                let mut values = Vec::new();
                for item in items {
                    values.extend(self.expr_values(item, scope, depth)?);
                }
                Some(values)
            }
            // stdlib's `concat` and `flatten` join arrays: each element
            // of each argument is one of the values.
            ExprKind::Call(call)
                if call.lambda.is_none()
                    && matches!(&call.functor.kind, ExprKind::QualifiedName(name)
                        if name == "concat" || name == "flatten") =>
            {
                let mut values = Vec::new();
                for arg in &call.args {
                    values.extend(self.expr_values(arg, scope, depth)?);
                }
                Some(values)
            }
            ExprKind::Concat(parts) => {
                Some(concatenations(parts.iter().map(|part| match &part.kind {
                    ExprKind::String(text) => vec![Alternative::Exact(text.clone())],
                    _ => self.expr_values(part, scope, depth).unwrap_or_default(),
                })))
            }
            _ => literal_string(expr).map(|text| vec![Alternative::Exact(text)]),
        }
    }

    /// Whether a title or name may be like `pieces` (literal pieces,
    /// anything where `None`).
    fn attribute_like(
        &self,
        resource: &ResourceDeclaration,
        attribute: &str,
        pieces: &[Option<String>],
    ) -> Match {
        let named = match attribute {
            "title" => resource.title.as_deref(),
            "name" if !resource.attributes.iter().any(|(n, _)| n == "name") => {
                resource.title.as_deref()
            }
            _ => None,
        };
        let title_values = match (named, &resource.title_shape) {
            (Some(title), _) if !pattern_may_match(pieces, &title.to_ascii_lowercase()) => {
                return Match::No;
            }
            (None, TitleShape::Pattern(theirs)) if named_title(attribute, resource) => {
                self.pattern_title_values(resource, theirs)
            }
            (None, TitleShape::Variable(variable)) if named_title(attribute, resource) => {
                match self.variable_values(variable, &resource.holder) {
                    Some(values) if !values.is_empty() => Cow::Owned(values),
                    _ => return Match::Maybe,
                }
            }
            _ => return Match::Maybe,
        };
        if title_values
            .iter()
            .any(|v| patterns_may_meet(pieces, &v.pieces()))
        {
            Match::Maybe
        } else {
            Match::No
        }
    }

    fn attribute_equals(
        &self,
        resource: &ResourceDeclaration,
        attribute: &str,
        value: &str,
    ) -> Match {
        let same = |text: &str| text.eq_ignore_ascii_case(value);
        let attribute_value = resource
            .attributes
            .iter()
            .rev()
            .find(|(name, _)| name == attribute)
            .map(|(_, value)| value);
        match attribute {
            "tag" => self.tagged(resource, value),
            "title" => self.title_is(resource, value),
            _ => match attribute_value {
                Some(AttributeValue::Text(text)) => bool_match(same(text)),
                Some(AttributeValue::List(items)) => bool_match(items.iter().any(|i| same(i))),
                Some(AttributeValue::Variable(variable)) => {
                    match self.variable_values(variable, &resource.holder) {
                        Some(values) if !values.is_empty() => any_may_be(&values, value),
                        _ => Match::Maybe,
                    }
                }
                Some(AttributeValue::Unknown) => Match::Maybe,
                // `name` defaults to the title; another attribute absent is
                // undef, never equal to a string.
                None if attribute == "name" => self.title_is(resource, value),
                None => Match::No,
            },
        }
    }

    /// Whether a resource carries a tag: its type and title, the class or
    /// define declaring it and each segment of that name, `tag =>` and the
    /// holder's `tag()` calls; tags inherited from the classes that declare
    /// the holder are assumed whenever the tag names a class.
    fn tagged(&self, resource: &ResourceDeclaration, tag: &str) -> Match {
        let tag = tag.to_ascii_lowercase();
        let named = |name: &str| name == tag || name.segments().any(|segment| segment == tag);
        if named(&resource.type_name)
            || resource
                .title
                .as_deref()
                .is_some_and(|t| t.to_ascii_lowercase() == tag)
        {
            return Match::Yes;
        }
        if let Vertex::Class { name } | Vertex::Type { name } = &resource.holder {
            if named(name) {
                return Match::Yes;
            }
        }
        let explicit = resource.attributes.iter().filter(|(name, _)| name == "tag");
        for (_, value) in explicit {
            match value {
                AttributeValue::Text(text) if text.eq_ignore_ascii_case(&tag) => return Match::Yes,
                AttributeValue::List(items)
                    if items.iter().any(|i| i.eq_ignore_ascii_case(&tag)) =>
                {
                    return Match::Yes
                }
                AttributeValue::Unknown | AttributeValue::Variable(_) => return Match::Maybe,
                _ => {}
            }
        }
        if let Some(id) = self.holder(&resource.holder) {
            if self
                .tag_calls
                .get(&id)
                .is_some_and(|tags| tags.iter().any(|t| *t == tag))
            {
                return Match::Yes;
            }
        }
        if self.names_a_class(&tag) {
            Match::Maybe
        } else {
            Match::No
        }
    }

    /// Whether a tag is the name, or a segment of the name, of a class: a
    /// resource may inherit it from a class declaring its holder.
    fn names_a_class(&self, tag: &str) -> bool {
        self.class_words.contains(tag)
    }
}

/// A value a variable may take: a string, or one known only by its
/// literal pieces (`None` for anything).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Alternative {
    Exact(String),
    Like(Vec<Option<String>>),
}

impl Alternative {
    fn pieces(&self) -> Vec<Option<String>> {
        match self {
            Alternative::Exact(text) => vec![Some(text.clone())],
            Alternative::Like(pieces) => pieces.clone(),
        }
    }

    /// Joins adjacent literal pieces; exact when no piece is unknown.
    fn from_pieces(pieces: Vec<Option<String>>) -> Alternative {
        let mut joined: Vec<Option<String>> = Vec::new();
        for piece in pieces {
            match (joined.last_mut(), piece) {
                (Some(Some(last)), Some(text)) => last.push_str(&text),
                (Some(None), None) => {}
                (_, piece) => joined.push(piece),
            }
        }
        match joined.as_slice() {
            [] => Alternative::Exact(String::new()),
            [Some(text)] => Alternative::Exact(text.clone()),
            _ => Alternative::Like(joined),
        }
    }
}

/// The strings made of one value of each part, in order: every
/// combination while they are few, then the parts past that as anything;
/// a part with no known value (empty) stands for anything.
fn concatenations(parts: impl Iterator<Item = Vec<Alternative>>) -> Vec<Alternative> {
    const MAX_VALUES: usize = 256;
    let mut values: Vec<Vec<Option<String>>> = vec![Vec::new()];
    for options in parts {
        if options.is_empty() || values.len() * options.len() > MAX_VALUES {
            for value in &mut values {
                value.push(None);
            }
            continue;
        }
        values = values
            .iter()
            .flat_map(|prefix| {
                options.iter().map(move |option| {
                    let mut joined = prefix.clone();
                    joined.extend(option.pieces());
                    joined
                })
            })
            .collect();
    }
    values.into_iter().map(Alternative::from_pieces).collect()
}

/// Whether one of `values` may be `value`.
fn any_may_be(values: &[Alternative], value: &str) -> Match {
    let lower = value.to_ascii_lowercase();
    let may = values.iter().any(|alternative| match alternative {
        Alternative::Exact(text) => text.eq_ignore_ascii_case(value),
        Alternative::Like(pieces) => pattern_may_match(pieces, &lower),
    });
    if may {
        Match::Maybe
    } else {
        Match::No
    }
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == ':'
}

/// The pieces of a double-quoted string as written (`"${name}::end"`):
/// its text and the variables it interpolates; `None` for anything else
/// (an expression interpolated, another kind of title).
fn interpolated_pieces(written: &str) -> Option<Vec<Piece>> {
    let inner = written.strip_prefix('"')?.strip_suffix('"')?;
    let mut pieces = Vec::new();
    let mut text = String::new();
    let mut rest = inner;
    while let Some(at) = rest.find(['$', '\\']) {
        text.push_str(&rest[..at]);
        rest = &rest[at..];
        if rest.starts_with('\\') {
            return None;
        }
        let (name, after) = match rest[1..].strip_prefix('{') {
            Some(braced) => {
                let end = braced.find('}')?;
                (&braced[..end], &braced[end + 1..])
            }
            None => {
                let end = rest[1..]
                    .find(|c: char| !is_name_char(c))
                    .unwrap_or(rest.len() - 1);
                (&rest[1..1 + end], &rest[1 + end..])
            }
        };
        let name = name.strip_prefix('$').unwrap_or(name);
        if name.is_empty() || !name.chars().all(is_name_char) {
            return None;
        }
        if !text.is_empty() {
            pieces.push(Piece::Text(std::mem::take(&mut text)));
        }
        pieces.push(Piece::Variable(name.to_string()));
        rest = after;
    }
    text.push_str(rest);
    if !text.is_empty() {
        pieces.push(Piece::Text(text));
    }
    Some(pieces)
}

/// Whether every variable of an interpolated string is a global one
/// (`$::x`, `$a::b::x`), the same wherever the string is written.
fn all_global(pieces: &[Piece]) -> bool {
    pieces.iter().all(|piece| match piece {
        Piece::Text(_) => true,
        Piece::Variable(name) => name.contains("::"),
        Piece::Unknown => false,
    })
}

/// Whether `attribute` is the title, or a name that defaults to it.
fn named_title(attribute: &str, resource: &ResourceDeclaration) -> bool {
    attribute == "title"
        || (attribute == "name" && !resource.attributes.iter().any(|(n, _)| n == "name"))
}

/// Whether two strings known by their pieces may be equal: not when both
/// start (or both end) with literal text that disagrees.
fn patterns_may_meet(one: &[Option<String>], other: &[Option<String>]) -> bool {
    let agree = |a: &str, b: &str, at_start: bool| {
        let (a, b) = (a.to_ascii_lowercase(), b.to_ascii_lowercase());
        if at_start {
            a.starts_with(&b) || b.starts_with(&a)
        } else {
            a.ends_with(&b) || b.ends_with(&a)
        }
    };
    let starts = match (one.first(), other.first()) {
        (Some(Some(a)), Some(Some(b))) => agree(a, b, true),
        _ => true,
    };
    let ends = match (one.last(), other.last()) {
        (Some(Some(a)), Some(Some(b))) => agree(a, b, false),
        _ => true,
    };
    starts && ends
}

/// Whether a string of literal pieces and interpolations (`None`) may
/// be `value` (lower case): the pieces in order, anything between them.
fn pattern_may_match(parts: &[Option<String>], value: &str) -> bool {
    match parts.split_first() {
        None => value.is_empty(),
        Some((Some(text), rest)) => value
            .strip_prefix(text.to_ascii_lowercase().as_str())
            .is_some_and(|tail| pattern_may_match(rest, tail)),
        Some((None, rest)) => (0..=value.len())
            .filter(|&at| value.is_char_boundary(at))
            .any(|at| pattern_may_match(rest, &value[at..])),
    }
}

/// The values assigned to `variable` in a body, through its conditionals
/// (not in the definitions nested in it).
fn assignments_of<'e>(body: &'e Expr, variable: &str, out: &mut Vec<&'e Expr>) {
    crate::analysis::for_each_assignment(body, &mut |name, value| {
        if name == variable {
            out.push(value);
        }
    });
}

/// An `anchor` with a literal title: it changes nothing itself, it orders
/// and relays the refresh events it receives.
pub fn is_anchor(end: &Vertex) -> bool {
    matches!(end, Vertex::Resource { type_name, scope: None, .. } if type_name == "anchor")
}

pub fn find_class<'a>(analysis: &'a Analysis, name: &str) -> Option<(usize, &'a Definition)> {
    find_definition(analysis, name, DefinitionKind::Class)
}

/// The file index and definition of a class or define (nested in classes
/// too).
fn find_definition<'a>(
    analysis: &'a Analysis,
    name: &str,
    kind: DefinitionKind,
) -> Option<(usize, &'a Definition)> {
    let location = &analysis.codebase.find(name, kind)?.location;
    let index = analysis
        .codebase
        .files
        .iter()
        .position(|file| file.path == location.file)?;
    fn search<'e>(expr: &'e Expr, name: &str, kind: DefinitionKind) -> Option<&'e Definition> {
        match &expr.kind {
            ExprKind::Block(statements) => statements.iter().find_map(|s| search(s, name, kind)),
            ExprKind::Class(definition) | ExprKind::Define(definition)
                if crate::index::normalize(&definition.name) == name
                    && matches!(
                        (&expr.kind, kind),
                        (ExprKind::Class(_), DefinitionKind::Class)
                            | (ExprKind::Define(_), DefinitionKind::Define)
                    ) =>
            {
                Some(definition)
            }
            ExprKind::Class(definition) => definition
                .body
                .as_ref()
                .and_then(|body| search(body, name, kind)),
            _ => None,
        }
    }
    search(&analysis.codebase.files[index].program.body, name, kind).map(|d| (index, d))
}

fn bool_match(yes: bool) -> Match {
    if yes {
        Match::Yes
    } else {
        Match::No
    }
}
