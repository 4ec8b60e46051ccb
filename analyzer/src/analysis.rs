//! The whole analysis of a codebase: every edge of every file, resolved
//! against the index, with the findings about what resolves nowhere.

use crate::builtins::is_builtin_type;
use crate::extract;
use crate::index::{normalize, Codebase, ModuleCode};
use crate::model::{
    AttributeValue, CollectorDeclaration, CreatedResources, CreatedType, DefinitionKind, Edge,
    EdgeKind, Finding, ResourceDeclaration, TitleShape, Vertex,
};
use granule_parser::qualified::Qualified;
use granule_parser::{BinaryOp, Expr, ExprKind, Span};
use rayon::prelude::*;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

pub struct Analysis {
    pub codebase: Codebase,
    /// In file order, then source order.
    pub edges: Vec<Edge>,
    /// Every resource declaration, in file order, then source order;
    /// then those define instances create through `create_resources`.
    pub resources: Vec<ResourceDeclaration>,
    /// Every collector, in file order, then source order.
    pub collectors: Vec<CollectorDeclaration>,
    /// `tag()` calls: the holder tagged and the tag.
    pub tags: Vec<(Vertex, String)>,
    /// Classes and defines calling `assert_private()`.
    pub private: HashSet<Vertex>,
    /// Arguments given to classes by resource-like declarations (`*` for
    /// a splat, `* => $hash`, which may give any).
    pub class_arguments: Vec<(String, Vec<(String, crate::model::AttributeValue)>)>,
    /// The branches of classes' code whose tests the model reads.
    branches: Vec<crate::model::Branch>,
    /// Those [`Analysis::leave_out_untaken_branches`] left out.
    pub untaken_branches: Vec<crate::model::Branch>,
    pub findings: Vec<Finding>,
    custom_types: HashSet<String>,
    /// Top-scope variables (`$x = ...` outside any definition), by name,
    /// with the file assigning each first.
    top_scope: HashMap<String, Arc<str>>,
}

/// A module path read once: its manifests parsed and what each says on its
/// own, shared by the analyses of several sets of loose manifests over it
/// (a split's, then that of the manifests it wrote).
pub struct LoadedModules {
    pub code: ModuleCode,
    facts: Vec<extract::FileFacts>,
}

impl LoadedModules {
    pub fn load(modulepath: &[PathBuf]) -> Result<LoadedModules, String> {
        let code = ModuleCode::load(modulepath)?;
        let facts = code
            .files
            .par_iter()
            .map(|(file, _)| extract::facts(file))
            .collect();
        Ok(LoadedModules { code, facts })
    }
}

impl Analysis {
    /// Loads, indexes and resolves the modules of `modulepath` and the loose
    /// `manifests`.
    pub fn load(modulepath: &[PathBuf], manifests: &[PathBuf]) -> Result<Analysis, String> {
        Analysis::with_modules(&LoadedModules::load(modulepath)?, manifests)
    }

    /// Indexes and resolves the `modules` already loaded and the loose
    /// `manifests`, loaded now.
    pub fn with_modules(
        modules: &LoadedModules,
        manifests: &[PathBuf],
    ) -> Result<Analysis, String> {
        let codebase = Codebase::with_modules(&modules.code, manifests)?;
        let own: Vec<extract::FileFacts> = codebase.files[modules.code.files.len()..]
            .par_iter()
            .map(extract::facts)
            .collect();
        let facts = modules.facts.iter().cloned().chain(own);
        let (mut edges, mut resources, mut collectors, mut tags, mut class_arguments) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut branches = Vec::new();
        let mut created = Vec::new();
        let mut private = HashSet::new();
        for file in facts {
            edges.extend(file.edges);
            resources.extend(file.resources);
            collectors.extend(file.collectors);
            tags.extend(file.tags);
            private.extend(file.private);
            class_arguments.extend(file.class_arguments);
            created.extend(file.created);
            branches.extend(file.branches);
        }
        let custom_types = codebase
            .modules
            .iter()
            .flat_map(|module| module.custom_types.iter().cloned())
            .collect();
        let mut top_scope = HashMap::new();
        for file in &codebase.files {
            for (name, _) in top_scope_assignments(&file.program.body) {
                top_scope
                    .entry(name.to_string())
                    .or_insert_with(|| file.path.clone());
            }
        }
        let mut analysis = Analysis {
            findings: codebase.findings.clone(),
            codebase,
            edges,
            resources,
            collectors,
            tags,
            private,
            class_arguments,
            branches,
            untaken_branches: Vec::new(),
            custom_types,
            top_scope,
        };
        analysis.create_per_instance(&created);
        analysis.resolve();
        Ok(analysis)
    }

    /// Leaves out the code of the branches of classes no declaration
    /// takes: a class every declaration of which is resource-like and gives
    /// a parameter a literal value takes only the branches those values
    /// can take (`cinder::api` declared with `service_name => 'cinder-api'`
    /// everywhere never runs its `elsif $service_name == 'httpd'`). For an
    /// analysis of what nodes compile from given roots (a split's entry, the
    /// tasks of `granule lint --tasks`): there every declaration is in the
    /// code analysed. Not for code analysed on its own, which others may
    /// declare otherwise. A class declared with `include` (or inherited)
    /// may take any value through Hiera, and one declared with a splat any
    /// at all: neither is decided (docs/analyzer.md, "Branches no
    /// declaration takes", says what else is not). The branches left out
    /// are kept in `untaken_branches`. `entries` are classes the roots
    /// are (a split's `--entry CLASS`): declared as `include` declares
    /// them.
    pub fn leave_out_untaken_branches(&mut self, entries: &[String]) {
        let mut included: HashSet<&str> = entries.iter().map(String::as_str).collect();
        for edge in &self.edges {
            if let (
                EdgeKind::Include | EdgeKind::RequireClass | EdgeKind::Contain | EdgeKind::Inherits,
                Vertex::Class { name },
            ) = (&edge.kind, &edge.to)
            {
                included.insert(name);
            }
        }
        let mut declarations: HashMap<&str, Vec<&[(String, AttributeValue)]>> = HashMap::new();
        for (class, arguments) in &self.class_arguments {
            declarations.entry(class).or_default().push(arguments);
        }
        let given = |class: &str, parameter: &str| -> Option<Vec<String>> {
            let declared = declarations.get(class)?;
            if included.contains(class) {
                return None;
            }
            // Puppet 3 let a body assign its parameter again.
            let (_, definition) = crate::semantic::find_class(self, class)?;
            let mut assigned = false;
            if let Some(body) = &definition.body {
                for_each_assignment(body, &mut |name, _| assigned |= name == parameter);
            }
            if assigned {
                return None;
            }
            let mut values = Vec::new();
            for arguments in declared {
                if arguments.iter().any(|(name, _)| name == "*") {
                    return None;
                }
                match arguments.iter().rev().find(|(name, _)| name == parameter) {
                    Some((_, AttributeValue::Text(text))) => values.push(text.to_lowercase()),
                    _ => return None,
                }
            }
            Some(values)
        };
        let untaken: Vec<crate::model::Branch> = self
            .branches
            .iter()
            .filter(|branch| {
                branch
                    .test
                    .never_holds(&mut |variable| given(&branch.class, variable))
            })
            .cloned()
            .collect();
        if untaken.is_empty() {
            return;
        }
        let mut by_file: HashMap<Arc<str>, Vec<&crate::model::Branch>> = HashMap::new();
        for branch in &untaken {
            by_file
                .entry(branch.start.file.clone())
                .or_default()
                .push(branch);
        }
        let left_out = |location: &crate::model::Location| {
            by_file
                .get(&location.file)
                .is_some_and(|branches| branches.iter().any(|branch| branch.contains(location)))
        };
        self.edges.retain(|edge| !left_out(&edge.location));
        self.resources
            .retain(|resource| !left_out(&resource.location));
        self.collectors
            .retain(|collector| !left_out(&collector.location));
        self.untaken_branches = untaken;
    }

    /// The file whose top scope assigns `$::name` (given as `::name`).
    pub fn top_scope_assigning(&self, name: &str) -> Option<Arc<str>> {
        self.top_scope.get(name.without_top()).cloned()
    }

    /// Whether a class of that name is defined.
    pub fn has_class(&self, name: &str) -> bool {
        self.codebase.find(name, DefinitionKind::Class).is_some()
    }

    /// Whether a resource type of that name exists: a define, a custom type
    /// of a module, or one of Puppet's.
    pub fn has_type(&self, name: &str) -> bool {
        self.codebase.find(name, DefinitionKind::Define).is_some()
            || self.custom_types.contains(name)
            || is_builtin_type(name)
    }

    /// The define a resource type written in `from`'s code names, when it
    /// is none by its own name: Puppet 3 looks the name up under `from`'s
    /// namespaces, innermost first, where a class may define it in its body
    /// (`define device_directory` inside `openstack::swift::storage_node`).
    pub fn relative_define(&self, name: &str, from: &Vertex) -> Option<String> {
        let mut namespace = match from {
            Vertex::Class { name } | Vertex::Type { name } => name.as_str(),
            _ => return None,
        };
        loop {
            let candidate = format!("{namespace}::{name}");
            if self
                .codebase
                .find(&candidate, DefinitionKind::Define)
                .is_some()
            {
                return Some(candidate);
            }
            namespace = namespace.split_last()?.0;
        }
    }

    /// The class or define calling `assert_private()` that `edge` declares
    /// (`include x`, `class { 'x': }`, an instance of a private define).
    pub fn private_declared(&self, edge: &Edge) -> Option<Vertex> {
        let declared = match (&edge.to, edge.kind) {
            (Vertex::Class { name }, kind) if kind.declares_class() => Vertex::class(name),
            (Vertex::Resource { type_name, .. }, EdgeKind::Declare | EdgeKind::DeclareVirtual) => {
                Vertex::Type {
                    name: type_name.clone(),
                }
            }
            _ => return None,
        };
        self.private.contains(&declared).then_some(declared)
    }

    /// The module a class or define belongs to: where it is defined, or
    /// (when defined nowhere) its name's first segment; none for Puppet's
    /// own resource types.
    pub fn module_of(&self, vertex: &Vertex) -> Option<String> {
        let (name, kind) = match vertex {
            Vertex::Class { name } => (name, DefinitionKind::Class),
            Vertex::Type { name } => (name, DefinitionKind::Define),
            Vertex::Function { name } => (name, DefinitionKind::Function),
            Vertex::TopScope { file } => {
                let file = self.codebase.files.iter().find(|f| f.path == *file)?;
                return self.codebase.module_of(file).map(|m| m.name.clone());
            }
            _ => return None,
        };
        match self.codebase.find(name, kind) {
            Some(definition) => definition.module.clone(),
            // Puppet's own types belong to no module.
            None if kind == DefinitionKind::Define && is_builtin_type(name) => None,
            None => name.segments().next().map(str::to_string),
        }
    }

    /// Why `to` does not resolve, and what is there instead if anything.
    fn unresolved_message(&self, what: &str, to: &Vertex, unit: &Vertex) -> String {
        let name = match to {
            Vertex::Class { name } | Vertex::Type { name } => name.as_str(),
            _ => "",
        };
        match self.codebase.definitions.get(name).and_then(|d| d.first()) {
            Some(other) => format!(
                "{} uses {what} `{name}`, but `{name}` is a {} ({}): use it as one",
                unit.label(),
                other.kind.describe(),
                other.location
            ),
            None => format!(
                "{what} `{name}` is defined nowhere on the module path (used by {})",
                unit.label()
            ),
        }
    }

    /// The resources each define instance creates through a
    /// `create_resources` whose type it gives: declared by the instance's
    /// holder where the instance is written, under its guards, as if its
    /// statement declared them. Instances created so are followed too, a
    /// few levels deep.
    fn create_per_instance(&mut self, created: &[CreatedResources]) {
        const DEEPEST: u8 = 4;
        let mut by_define: HashMap<&str, Vec<&CreatedResources>> = HashMap::new();
        for factory in created {
            by_define.entry(&factory.define).or_default().push(factory);
        }
        if by_define.is_empty() {
            return;
        }
        let conditions: HashMap<(&Vertex, &crate::model::Location), Option<String>> = self
            .edges
            .iter()
            .filter(|edge| {
                matches!(edge.kind, EdgeKind::Declare | EdgeKind::DeclareVirtual)
                    && matches!(&edge.to, Vertex::Resource { type_name, .. }
                        if by_define.contains_key(type_name.as_str()))
            })
            .map(|edge| ((&edge.to, &edge.location), edge.condition.clone()))
            .collect();
        let mut new_edges = Vec::new();
        // How deep each created resource is, and the guards it stands under.
        let written = self.resources.len();
        let mut origins: Vec<(u8, Option<String>)> = Vec::new();
        for next in 0.. {
            let Some(instance) = self.resources.get(next) else {
                break;
            };
            let Some(factories) = by_define.get(instance.type_name.as_str()) else {
                continue;
            };
            let (depth, condition) = match next.checked_sub(written) {
                Some(created) => origins[created].clone(),
                None => (
                    0,
                    conditions
                        .get(&(&instance.resource, &instance.location))
                        .cloned()
                        .flatten(),
                ),
            };
            if depth >= DEEPEST {
                continue;
            }
            let instance = instance.clone();
            let instance = &instance;
            for factory in factories {
                let Some(type_name) = created_type(factory, instance) else {
                    continue;
                };
                // Its titles are the hash's keys, known at run time: the
                // resources of one instance are those of its copies (a
                // task applying another's unit declares it again), of
                // another instance others.
                let created_by = match &instance.resource {
                    Vertex::Resource { scope: None, .. } => instance.resource.label(),
                    _ => instance.holder.label(),
                };
                let resource = Vertex::Resource {
                    type_name: type_name.clone(),
                    title: factory.titles.clone(),
                    scope: Some(created_by),
                };
                let edge = |to: Vertex, kind: EdgeKind| Edge {
                    from: instance.holder.clone(),
                    to,
                    kind,
                    location: instance.location.clone(),
                    condition: condition.clone(),
                    unit: instance.holder.clone(),
                    resolved: true,
                };
                let kind = if instance.is_virtual {
                    EdgeKind::DeclareVirtual
                } else {
                    EdgeKind::Declare
                };
                new_edges.push(edge(resource.clone(), kind));
                if self.has_type(&type_name) {
                    let to = Vertex::Type {
                        name: type_name.clone(),
                    };
                    new_edges.push(edge(to, EdgeKind::Instantiate));
                }
                let declaration = ResourceDeclaration {
                    holder: instance.holder.clone(),
                    resource,
                    type_name,
                    title: None,
                    title_shape: TitleShape::Unknown,
                    is_virtual: instance.is_virtual,
                    fallback: instance.fallback || factory.fallback,
                    perhaps_absent: factory.perhaps_absent,
                    attributes: Vec::new(),
                    location: instance.location.clone(),
                };
                self.resources.push(declaration);
                origins.push((depth + 1, condition.clone()));
            }
        }
        self.edges.extend(new_edges);
    }

    fn resolve(&mut self) {
        let verdicts: Vec<Option<Finding>> = self
            .edges
            .iter()
            .map(|edge| {
                let (resolved, what, code) = match &edge.to {
                    Vertex::Class { name } => (
                        self.has_class(name),
                        "class",
                        crate::model::UNRESOLVED_CLASS,
                    ),
                    Vertex::Type { name } => (
                        self.has_type(name),
                        "resource type",
                        crate::model::UNRESOLVED_TYPE,
                    ),
                    _ => (true, "", ""),
                };
                (!resolved).then(|| Finding {
                    code,
                    message: self.unresolved_message(what, &edge.to, &edge.unit),
                    location: edge.location.clone(),
                })
            })
            .collect();
        for (edge, verdict) in self.edges.iter_mut().zip(verdicts) {
            edge.resolved = verdict.is_none();
            self.findings.extend(verdict);
        }
        self.findings.sort();
    }
}

/// The type of the resources `instance` creates through `factory`: its
/// argument for the factory's parameter, else its title or the default.
fn created_type(factory: &CreatedResources, instance: &ResourceDeclaration) -> Option<String> {
    let argument = factory.parameter.as_ref().and_then(|parameter| {
        instance
            .attributes
            .iter()
            .rev()
            .find(|(name, _)| name == parameter)
    });
    let written = match argument {
        Some((_, AttributeValue::Text(type_name))) => type_name.clone(),
        Some(_) => return None,
        None => match &factory.default {
            CreatedType::Title if instance.title_shape == TitleShape::Literal => {
                instance.title.clone()?
            }
            CreatedType::Literal(type_name) => type_name.clone(),
            CreatedType::Title | CreatedType::Unknown => return None,
        },
    };
    Some(normalize(&written))
}

/// The variables a file's top scope assigns (its own statements, not those
/// of definitions or nodes), each with where it is assigned.
pub(crate) fn top_scope_assignments(body: &Expr) -> Vec<(&str, Span)> {
    let statements = match &body.kind {
        ExprKind::Block(statements) => statements.as_slice(),
        _ => std::slice::from_ref(body),
    };
    statements
        .iter()
        .filter_map(|statement| match &statement.kind {
            ExprKind::Binary {
                op: BinaryOp::Assign,
                left,
                ..
            } => match &left.kind {
                ExprKind::Variable(name) => Some((name.as_str(), statement.span)),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

/// Each statement of a body, through the branches of its blocks, `if`s,
/// `unless`es and `case`s (not into the definitions or other expressions it
/// holds): what the body does whichever branch runs.
pub(crate) fn for_each_statement<'e>(body: &'e Expr, f: &mut dyn FnMut(&'e Expr)) {
    match &body.kind {
        ExprKind::Block(statements) => {
            for statement in statements {
                for_each_statement(statement, f);
            }
        }
        ExprKind::If(conditional) | ExprKind::Unless(conditional) => {
            for branch in [&conditional.then_branch, &conditional.else_branch]
                .into_iter()
                .flatten()
            {
                for_each_statement(branch, f);
            }
        }
        ExprKind::Case { options, .. } => {
            for option in options.iter().filter_map(|o| o.body.as_ref()) {
                for_each_statement(option, f);
            }
        }
        _ => f(body),
    }
}

/// Each `$name = value` of a body, through its branches
/// (`for_each_statement`).
pub(crate) fn for_each_assignment<'e>(body: &'e Expr, f: &mut dyn FnMut(&'e str, &'e Expr)) {
    for_each_statement(body, &mut |statement| {
        if let ExprKind::Binary {
            op: BinaryOp::Assign,
            left,
            right,
        } = &statement.kind
        {
            if let ExprKind::Variable(name) = &left.kind {
                f(name, right);
            }
        }
    });
}
