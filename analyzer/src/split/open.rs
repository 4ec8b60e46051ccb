//! Which classes the split opens: a class the entry (or an opened class)
//! declares is opened when it is a *wrapper*, a role or profile class
//! whose body mostly declares other classes and defines, and when opening
//! it breaks nothing. Its statements then become units and its parameters
//! and variables data. The plan file can force a class open or keep it
//! whole; a class opened to serve another (its code reads the other's
//! variables by qualified name) is opened with it.
//!
//! The rule, as the report states it: at least two class declarations,
//! and class declarations and define instances are at least two thirds of
//! what the body declares. What stops it: the class inherits or is
//! inherited; something not opened declares it too; a refresh names
//! `Class['it']` (Puppet refreshes a class as a whole, which no task order
//! can stand for); code that is not copied orders `Class['it']` (only
//! copied code's orderings are redirected to its statements) or reads its
//! variables.

use super::plan::Plan;
use crate::analysis::Analysis;
use crate::hashing::FastMap;
use crate::index::normalize;
use crate::model::{DefinitionKind, EdgeKind, Vertex};
use crate::semantic::{HolderId, HolderSet, Semantic};
use granule_parser::qualified::Qualified;
use granule_parser::{Definition, Expr, ExprKind};
use std::collections::BTreeSet;
use std::sync::Arc;

/// A stretch of a file: its path, and the first and last (line, column).
type Span = (Arc<str>, (u32, u32), (u32, u32));

pub struct Opener<'a> {
    pub semantic: &'a Semantic<'a>,
    plan: &'a Plan,
    /// The holders whose code the split walks: the entry's top scope, its
    /// nodes, the entry class.
    entry: Vec<Vertex>,
    /// Classes to open whatever their shape, with why.
    needed: Vec<(String, String)>,
    /// The branches the walk left out (they hold on no role under the
    /// assumptions): what only they declare is not in the monolith.
    pruned: Vec<Span>,
    edges: ClassEdges<'a>,
}

/// The edges that can stop a class from being opened, by the class they
/// name (indexes into the analysis' edges, ascending): each decision reads
/// its own instead of every edge.
#[derive(Default)]
struct ClassEdges<'a> {
    /// The edges declaring each class.
    declaring: FastMap<HolderId, Vec<u32>>,
    /// Relationships (orderings and refreshes) with `Class['x']` at an end.
    relating: FastMap<&'a str, Vec<u32>>,
    /// Reads of a class's variables (`$x::v`).
    reading: FastMap<&'a str, Vec<u32>>,
}

impl<'a> ClassEdges<'a> {
    fn of(semantic: &Semantic<'a>) -> ClassEdges<'a> {
        let mut edges = ClassEdges::default();
        for (index, edge) in semantic.analysis.edges.iter().enumerate() {
            let index = index as u32;
            if edge.kind.declares_class() {
                if let Some(holder) = semantic.declared_holder(edge) {
                    edges.declaring.entry(holder).or_default().push(index);
                }
            }
            if edge.kind.from_runs_first().is_some() {
                for end in [&edge.from, &edge.to] {
                    if let Vertex::Class { name } = end {
                        let list = edges.relating.entry(name.as_str()).or_default();
                        if list.last() != Some(&index) {
                            list.push(index);
                        }
                    }
                }
            }
            if let (EdgeKind::ReadsVariable, Vertex::Variable { name }) = (edge.kind, &edge.to) {
                if let Some((scope, _)) = name.without_top().split_last() {
                    edges.reading.entry(scope).or_default().push(index);
                }
            }
        }
        edges
    }

    /// The edges naming `class` (whose holder is `holder`), ascending.
    fn naming(&self, class: &str, holder: Option<HolderId>) -> Vec<u32> {
        let declaring = holder.and_then(|id| self.declaring.get(&id));
        let mut found: Vec<u32> = [declaring, self.relating.get(class), self.reading.get(class)]
            .into_iter()
            .flatten()
            .flatten()
            .copied()
            .collect();
        found.sort_unstable();
        found.dedup();
        found
    }
}

impl<'a> Opener<'a> {
    pub fn new(semantic: &'a Semantic<'a>, plan: &'a Plan, entry: Vec<Vertex>) -> Opener<'a> {
        Opener {
            semantic,
            plan,
            entry,
            needed: Vec::new(),
            pruned: Vec::new(),
            edges: ClassEdges::of(semantic),
        }
    }

    fn analysis(&self) -> &'a Analysis {
        self.semantic.analysis
    }

    /// Notes a branch the walk leaves out.
    pub fn prune(&mut self, file: Arc<str>, start: (u32, u32), end: (u32, u32)) {
        self.pruned.push((file, start, end));
    }

    /// What the walked code (the entry and the classes opened, less the
    /// branches left out) puts in the monolith's catalog.
    fn reachable(&self, opened: &[String]) -> HolderSet {
        let mut set = HolderSet::default();
        let walked = self
            .entry
            .iter()
            .cloned()
            .chain(opened.iter().map(|class| Vertex::class(class)));
        for vertex in walked {
            let Some(holder) = self.semantic.holder(&vertex) else {
                continue;
            };
            for (_, edge) in self.semantic.edges_of(holder) {
                let at = (edge.location.line, edge.location.column);
                let left_out = self.pruned.iter().any(|(file, start, end)| {
                    *file == edge.location.file && *start <= at && at <= *end
                });
                if left_out {
                    continue;
                }
                if let Some(target) = self.semantic.declared_holder(edge) {
                    set.union_with(self.semantic.closure(target));
                }
            }
        }
        set
    }

    /// The file index and definition of a class.
    pub fn definition(&self, class: &str) -> Option<(usize, &'a Definition)> {
        find_class(self.analysis(), class)
    }

    /// `Ok(why)` to open `class`, `Err(Some(why))` to keep a candidate
    /// whole, `Err(None)` for a class the rule does not consider.
    pub fn decide(&mut self, class: &str, opened: &[String]) -> Result<String, Option<String>> {
        if self.plan.keep.iter().any(|k| normalize(k) == class) {
            return Err(Some("kept whole by the plan file".into()));
        }
        let (_, definition) = self.definition(class).ok_or(None)?;
        let needed = self
            .needed
            .iter()
            .find(|(c, _)| c == class)
            .map(|(_, why)| why.clone());
        let reason = if self.plan.open.iter().any(|o| normalize(o) == class) {
            "opened by the plan file".to_string()
        } else if let Some(why) = needed {
            why
        } else {
            let shape = Shape::of(self.analysis(), definition.body.as_ref());
            if !shape.is_wrapper() {
                return Err(None);
            }
            format!(
                "a wrapper: {} class declarations and {} define instances against {} other resources",
                shape.classes, shape.instances, shape.resources
            )
        };
        if let Some(parent) = &definition.parent {
            return Err(Some(format!("it inherits {parent}")));
        }
        self.blocker(class, opened)
            .map_err(|blocker| Some(blocker.why))?;
        Ok(reason)
    }

    /// Why the entry class cannot be opened, if it cannot: what would break
    /// opening another class, but its parent (`inherits`), which the tasks
    /// reading its variables declare (it holds data only, as a module's
    /// `params`, or `--verify` says so).
    pub fn check_entry(&mut self, class: &str) -> Result<(), Blocker> {
        self.blocker(class, &[])
    }

    /// Why opening `class` would break something, if it would, its own
    /// parent aside.
    fn blocker(&mut self, class: &str, opened: &[String]) -> Result<(), Blocker> {
        let analysis = self.analysis();
        let reachable = self.reachable(opened);
        // A class inheriting it that nothing evaluates breaks nothing.
        if let Some(child) = analysis
            .codebase
            .definitions
            .values()
            .flatten()
            .filter(|d| d.kind == DefinitionKind::Class && d.parent.as_deref() == Some(class))
            .find(|d| {
                self.semantic
                    .holder(&Vertex::class(&d.name))
                    .is_some_and(|id| reachable.contains(id))
            })
        {
            return Err(Blocker::certain(format!(
                "class {} inherits it ({})",
                child.name, child.location
            )));
        }
        if let Some((declared, edge)) = self.private_declaration(class) {
            return Err(Blocker::certain(format!(
                "it declares {} ({}), which its module keeps private (assert_private()): \
                 copied into a task's manifest, Puppet refuses the declaration",
                declared.label(),
                edge.location
            )));
        }
        let copied = |unit: &Vertex| {
            self.entry.contains(unit)
                || matches!(unit, Vertex::Class { name } if opened.contains(name) || name == class)
        };
        let reached = |unit: &Vertex| {
            self.semantic
                .holder(unit)
                .is_some_and(|id| reachable.contains(id))
        };
        // Copied, or not in the monolith at all.
        let walked = |unit: &Vertex| copied(unit) || !reached(unit);
        let me = Vertex::class(class);
        let holder = self.semantic.holder(&me);
        let mut readers: BTreeSet<String> = BTreeSet::new();
        // What only may break is reported where nothing surely does.
        let mut uncertain: Option<Blocker> = None;
        for index in self.edges.naming(class, holder) {
            let edge = &analysis.edges[index as usize];
            if edge.kind.declares_class()
                && holder.is_some()
                && self.semantic.declared_holder(edge) == holder
                && !walked(&edge.unit)
            {
                return Err(Blocker::certain(format!(
                    "{} declares it too ({})",
                    edge.unit.label(),
                    edge.location
                )));
            }
            if edge.kind.refreshes()
                && (edge.from == me || edge.to == me)
                && (copied(&edge.unit) || reached(&edge.unit))
            {
                uncertain.get_or_insert_with(|| Blocker {
                    why: format!(
                        "a refresh names Class['{class}'] ({}), which no task order can stand \
                         for",
                        edge.location
                    ),
                    certain: false,
                });
            }
            // Copied code's orderings are redirected to the class's
            // statements; module code keeps naming the class, which Puppet
            // then finds in no catalog.
            if edge.kind.from_runs_first().is_some()
                && (edge.from == me || edge.to == me)
                && !walked(&edge.unit)
            {
                uncertain.get_or_insert_with(|| Blocker {
                    why: format!(
                        "{} orders Class['{class}'] ({}) and is not copied: Puppet needs the \
                         class in its catalog",
                        edge.unit.label(),
                        edge.location
                    ),
                    certain: false,
                });
            }
            if edge.kind == EdgeKind::ReadsVariable {
                if let Vertex::Variable { name } = &edge.to {
                    let scope = name.without_top().split_last().map(|(s, _)| s);
                    if scope == Some(class) && !walked(&edge.unit) {
                        match &edge.unit {
                            Vertex::Class { name } if self.declared_only_by(name, class) => {
                                readers.insert(name.clone());
                            }
                            unit => {
                                uncertain.get_or_insert_with(|| Blocker {
                                    why: format!(
                                        "{} reads its variable ${} ({}) and is not copied",
                                        unit.label(),
                                        name.without_top(),
                                        edge.location
                                    ),
                                    certain: false,
                                });
                            }
                        }
                    }
                }
            }
        }
        if let Some(blocker) = uncertain {
            return Err(blocker);
        }
        for reader in readers {
            if !self.needed.iter().any(|(c, _)| *c == reader) {
                self.needed.push((
                    reader,
                    format!("opened with class {class}, whose variables its code reads"),
                ));
            }
        }
        Ok(())
    }

    /// A class or define private to `class`'s module that its body declares:
    /// Puppet accepts that declaration only from the module's own code.
    fn private_declaration(&self, class: &str) -> Option<(Vertex, &'a crate::model::Edge)> {
        let analysis = self.analysis();
        if analysis.private.is_empty() {
            return None;
        }
        let me = Vertex::class(class);
        let module = analysis.module_of(&me);
        let holder = self.semantic.holder(&me)?;
        self.semantic.edges_of(holder).find_map(|(_, edge)| {
            let declared = analysis.private_declared(edge)?;
            (analysis.module_of(&declared) == module).then_some((declared, edge))
        })
    }

    /// Whether every declaration of `class` is written in `by`.
    fn declared_only_by(&self, class: &str, by: &str) -> bool {
        let Some(holder) = self.semantic.holder(&Vertex::class(class)) else {
            return false;
        };
        let by = Vertex::class(by);
        let declaring = self
            .edges
            .declaring
            .get(&holder)
            .map_or(&[][..], Vec::as_slice);
        let analysis = self.analysis();
        !declaring.is_empty()
            && declaring
                .iter()
                .all(|&index| analysis.edges[index as usize].unit == by)
    }
}

/// Why opening a class would break something.
#[derive(Debug)]
pub struct Blocker {
    pub why: String,
    /// Whether code the monolith reaches inherits or declares the class, so
    /// that a task applying that code declares it again beside its copied
    /// statements; rather than code that only may run where it matters (an
    /// ordering, a refresh or a variable read in a define whose instances
    /// are made from data, or a parameter's default every caller passes).
    pub certain: bool,
}

impl Blocker {
    fn certain(why: String) -> Blocker {
        Blocker { why, certain: true }
    }
}

/// What a class body declares, through its conditionals.
#[derive(Debug, Default)]
struct Shape {
    classes: usize,
    instances: usize,
    resources: usize,
}

impl Shape {
    fn of(analysis: &Analysis, body: Option<&Expr>) -> Shape {
        let mut shape = Shape::default();
        if let Some(body) = body {
            shape.count(analysis, body);
        }
        shape
    }

    fn is_wrapper(&self) -> bool {
        let declared = self.classes + self.instances;
        self.classes >= 2 && 3 * declared >= 2 * (declared + self.resources)
    }

    fn count(&mut self, analysis: &Analysis, expr: &Expr) {
        crate::analysis::for_each_statement(expr, &mut |statement| {
            self.count_statement(analysis, statement)
        });
    }

    fn count_statement(&mut self, analysis: &Analysis, expr: &Expr) {
        match &expr.kind {
            ExprKind::Call(call) => {
                if let ExprKind::QualifiedName(name) = &call.functor.kind {
                    if matches!(name.as_str(), "include" | "require" | "contain") {
                        self.classes += call.args.len();
                    }
                }
            }
            ExprKind::Binary { left, right, .. } => {
                self.count(analysis, left);
                self.count(analysis, right);
            }
            ExprKind::Resource {
                type_name, bodies, ..
            } => {
                let type_name = match &type_name.kind {
                    ExprKind::QualifiedName(name) => normalize(name),
                    _ => return,
                };
                if type_name == "class" {
                    self.classes += bodies.len();
                } else if analysis
                    .codebase
                    .find(&type_name, DefinitionKind::Define)
                    .is_some()
                {
                    self.instances += bodies.len();
                } else {
                    self.resources += bodies.len();
                }
            }
            _ => {}
        }
    }
}

pub use crate::semantic::find_class;
