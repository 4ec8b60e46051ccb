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
use crate::model::{
    AttributeValue, CollectorDeclaration, DefinitionKind, Edge, Query, ResourceDeclaration,
    Vertex,
};
use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

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
        self.words.iter().enumerate().all(|(at, &word)| {
            word & !other.words.get(at).copied().unwrap_or(0) == 0
        })
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

pub struct Semantic<'a> {
    pub analysis: &'a Analysis,
    holders: Vec<Vertex>,
    ids: HashMap<Vertex, HolderId>,
    /// Indexes into `analysis.edges`, per holder.
    edges_of: Vec<Vec<u32>>,
    /// The holders each holder declares (classes, define instances).
    declares: Vec<Vec<HolderId>>,
    closures: Vec<OnceLock<HolderSet>>,
    /// Holders declaring each resource with a literal title.
    declarers: HashMap<&'a Vertex, Vec<HolderId>>,
    /// Indexes into `analysis.resources`, by type name.
    resources_by_type: HashMap<&'a str, Vec<u32>>,
    /// Tags of `tag()` calls, per holder.
    tag_calls: HashMap<HolderId, Vec<&'a str>>,
    /// Indexes into `analysis.edges` per file, in source order.
    edges_by_file: HashMap<&'a str, Vec<u32>>,
    /// Every class name and every segment of one.
    class_words: HashSet<&'a str>,
}

impl<'a> Semantic<'a> {
    pub fn new(analysis: &'a Analysis) -> Semantic<'a> {
        let mut model = Semantic {
            analysis,
            holders: Vec::new(),
            ids: HashMap::new(),
            edges_of: Vec::new(),
            declares: Vec::new(),
            closures: Vec::new(),
            declarers: HashMap::new(),
            resources_by_type: HashMap::new(),
            tag_calls: HashMap::new(),
            edges_by_file: HashMap::new(),
            class_words: HashSet::new(),
        };
        for (name, definitions) in &analysis.codebase.definitions {
            if definitions.iter().any(|d| d.kind == DefinitionKind::Class) {
                model.class_words.insert(name);
                model.class_words.extend(name.split("::"));
            }
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
        for holder in 0..model.holders.len() {
            let mut declared = Vec::new();
            for &edge in &model.edges_of[holder] {
                let edge = &analysis.edges[edge as usize];
                if let Some(target) = model.declared_holder(edge) {
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
        model.closures = (0..model.holders.len()).map(|_| OnceLock::new()).collect();
        model
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

    pub fn holder_count(&self) -> usize {
        self.holders.len()
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
        let name = name.trim_start_matches("::");
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
            namespace = namespace.rsplit_once("::")?.0;
        }
    }

    /// The holder an edge puts in the catalog, if it declares one.
    pub fn declared_holder(&self, edge: &Edge) -> Option<HolderId> {
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

    /// The holders declaring a resource with a literal title (a class
    /// reference is its own holder).
    pub fn declarers(&self, resource: &Vertex) -> Vec<HolderId> {
        match resource {
            Vertex::Class { name } => self.holder(&Vertex::class(name)).into_iter().collect(),
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
    pub fn resources_of_type(&self, type_name: &str) -> impl Iterator<Item = &'a ResourceDeclaration> + '_ {
        let analysis = self.analysis;
        self.resources_by_type
            .get(type_name)
            .into_iter()
            .flatten()
            .map(move |&r| &analysis.resources[r as usize])
    }

    /// Whether a collector collects a resource declaration.
    pub fn collects(&self, collector: &CollectorDeclaration, resource: &ResourceDeclaration) -> Match {
        if collector.type_name != resource.type_name {
            return Match::No;
        }
        self.query_matches(&collector.query, resource)
    }

    fn query_matches(&self, query: &Query, resource: &ResourceDeclaration) -> Match {
        match query {
            Query::All => Match::Yes,
            Query::Unknown => Match::Maybe,
            Query::And { left, right } => self
                .query_matches(left, resource)
                .and(self.query_matches(right, resource)),
            Query::Or { left, right } => self
                .query_matches(left, resource)
                .or(self.query_matches(right, resource)),
            Query::Equals { attribute, value } => self.attribute_equals(resource, attribute, value),
            Query::NotEquals { attribute, value } => {
                self.attribute_equals(resource, attribute, value).not()
            }
        }
    }

    fn attribute_equals(&self, resource: &ResourceDeclaration, attribute: &str, value: &str) -> Match {
        let same = |text: &str| text.eq_ignore_ascii_case(value);
        let attribute_value = resource
            .attributes
            .iter()
            .rev()
            .find(|(name, _)| name == attribute)
            .map(|(_, value)| value);
        match attribute {
            "tag" => self.tagged(resource, value),
            "title" => resource
                .title
                .as_deref()
                .map_or(Match::Maybe, |title| bool_match(same(title))),
            _ => match attribute_value {
                Some(AttributeValue::Text(text)) => bool_match(same(text)),
                Some(AttributeValue::List(items)) => bool_match(items.iter().any(|i| same(i))),
                Some(AttributeValue::Unknown) => Match::Maybe,
                // `name` defaults to the title; another attribute absent is
                // undef, never equal to a string.
                None if attribute == "name" => resource
                    .title
                    .as_deref()
                    .map_or(Match::Maybe, |title| bool_match(same(title))),
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
        let named = |name: &str| {
            name == tag || name.split("::").any(|segment| segment == tag)
        };
        if named(&resource.type_name) || resource.title.as_deref().is_some_and(|t| t.to_ascii_lowercase() == tag) {
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
                AttributeValue::List(items) if items.iter().any(|i| i.eq_ignore_ascii_case(&tag)) => {
                    return Match::Yes
                }
                AttributeValue::Unknown => return Match::Maybe,
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

fn bool_match(yes: bool) -> Match {
    if yes {
        Match::Yes
    } else {
        Match::No
    }
}
