//! Edges out of one file's tree: a walk that knows which unit (class,
//! define, node, function or top scope) the code belongs to and which
//! guards (`if`, `unless`, `case`, selector) it stands under.

use crate::builtins::{class_declaring_function, is_lookup_function};
use crate::index::{node_name, normalize, SourceFile};
use crate::model::{
    AttributeValue, Branch, CollectorDeclaration, CreatedResources, CreatedType, Edge, EdgeKind,
    Piece, Query, ResourceDeclaration, Test, TitleShape, Vertex,
};
use granule_parser::visit::{for_each_child, Node};
use granule_parser::{
    AttributeOp, BinaryOp, CallKind, Definition, Expr, ExprKind, ResourceBody, ResourceForm, Span,
    UnaryOp,
};
use std::collections::{HashMap, HashSet};

/// What one file's code declares and relates, beside its edges: what
/// collectors and tags need to know.
#[derive(Debug, Default, Clone)]
pub struct FileFacts {
    /// Every edge written in the file, unresolved (resolution marks them).
    pub edges: Vec<Edge>,
    pub resources: Vec<ResourceDeclaration>,
    pub collectors: Vec<CollectorDeclaration>,
    /// `tag('a', 'b')` calls: the holder they tag, and each tag.
    pub tags: Vec<(Vertex, String)>,
    /// Holders calling `assert_private()`: only code of their own module
    /// may declare them.
    pub private: Vec<Vertex>,
    /// `class { 'x': a => v }`: the class and the arguments it is given.
    pub class_arguments: Vec<(String, Vec<(String, AttributeValue)>)>,
    /// Defines creating resources of a type their instances give.
    pub created: Vec<CreatedResources>,
    /// The branches of classes' code whose tests the model reads.
    pub branches: Vec<Branch>,
}

/// Whether `test` having the truth `holds` implies that some `defined(...)`
/// call in it is false: the code it guards declares what nothing else has
/// declared (`if !defined(Service['x'])`, `unless defined('horizon')`).
fn requires_undefined(test: &Expr, holds: bool) -> bool {
    match &test.kind {
        ExprKind::Paren(inner) => requires_undefined(inner, holds),
        ExprKind::Unary {
            op: UnaryOp::Not,
            expr,
        } => requires_undefined(expr, !holds),
        // `a and b` holds: either part's requirement; fails: both parts'.
        ExprKind::Binary {
            op: op @ (BinaryOp::And | BinaryOp::Or),
            left,
            right,
        } => {
            let either = (*op == BinaryOp::And) == holds;
            let (left, right) = (
                requires_undefined(left, holds),
                requires_undefined(right, holds),
            );
            if either {
                left || right
            } else {
                left && right
            }
        }
        ExprKind::Call(call) if call.kind == CallKind::Named => {
            !holds
                && matches!(&call.functor.kind, ExprKind::QualifiedName(name) if name == "defined")
        }
        _ => false,
    }
}

/// The edges, resource declarations, collectors and tags of `file`.
pub fn facts(file: &SourceFile) -> FileFacts {
    let mut walk = Walk {
        file,
        unit: Vertex::TopScope {
            file: file.path.clone(),
        },
        guards: Vec::new(),
        fallbacks: 0,
        lambdas: 0,
        reference_variables: HashMap::new(),
        type_defaults: HashMap::new(),
        filled_hashes: HashSet::new(),
        facts: FileFacts::default(),
    };
    walk.expr(&file.program.body);
    walk.facts
}

struct Walk<'f> {
    file: &'f SourceFile,
    unit: Vertex,
    guards: Vec<String>,
    /// How many enclosing branches run only where something is not yet
    /// `defined(...)`.
    fallbacks: usize,
    /// How many lambdas enclose the code walked (their parameters may hide
    /// the class's).
    lambdas: usize,
    /// The references each local variable of the definition walked may
    /// hold (`$anchor = Anchor["${name}::install::end"]`).
    reference_variables: HashMap<String, Vec<Vertex>>,
    /// The parameters of the define walked, with what their defaults say
    /// of a resource type they may name.
    type_defaults: HashMap<String, CreatedType>,
    /// The local variables of the definition walked that hold a hash with
    /// entries wherever they are assigned.
    filled_hashes: HashSet<String>,
    facts: FileFacts,
}

impl Walk<'_> {
    fn push(&mut self, from: Vertex, to: Vertex, kind: EdgeKind, span: Span) {
        let condition = (!self.guards.is_empty()).then(|| self.guards.join(" and "));
        self.facts.edges.push(Edge {
            from,
            to,
            kind,
            location: self.file.location(span),
            condition,
            unit: self.unit.clone(),
            resolved: true,
        });
    }

    fn push_from_unit(&mut self, to: Vertex, kind: EdgeKind, span: Span) {
        self.push(self.unit.clone(), to, kind, span);
    }

    fn text(&self, expr: &Expr) -> String {
        self.file.text(expr.span).to_string()
    }

    /// Walks `expr` with `guard` added to the conditions.
    fn guarded(&mut self, guard: String, expr: &Expr) {
        self.guards.push(guard);
        self.expr(expr);
        self.guards.pop();
    }

    /// Walks a branch that runs only where `test` has the truth `holds`.
    fn branch(&mut self, guard: String, test: &Expr, holds: bool, expr: &Expr) {
        let fallback = requires_undefined(test, holds);
        self.fallbacks += usize::from(fallback);
        self.guarded(guard, expr);
        self.fallbacks -= usize::from(fallback);
    }

    /// Keeps a branch of a class's code whose test the model reads: `holds`
    /// is the truth `test` has where `body` runs.
    fn record_branch(&mut self, test: &Test, holds: bool, text: &str, body: &Expr) {
        let Vertex::Class { name } = &self.unit else {
            return;
        };
        if self.lambdas > 0 || !test.names_a_variable() || body.span.end <= body.span.start {
            return;
        }
        let test = if holds {
            test.clone()
        } else {
            Test::Not(Box::new(test.clone()))
        };
        let last = Span {
            start: body.span.end - 1,
            end: body.span.end,
        };
        self.facts.branches.push(Branch {
            class: name.clone(),
            test,
            text: text.to_string(),
            start: self.file.location(body.span),
            end: self.file.location(last),
        });
    }

    /// Walks a definition's body as the code of `unit`, outside the guards
    /// of where the definition is written (it is not evaluated there).
    fn in_unit(&mut self, unit: Vertex, walk: impl FnOnce(&mut Self)) {
        let unit = std::mem::replace(&mut self.unit, unit);
        let guards = std::mem::take(&mut self.guards);
        walk(self);
        self.guards = guards;
        self.unit = unit;
    }

    /// Walks a class's or define's body, knowing what its local variables
    /// hold and (a define's) what its parameters' defaults name.
    fn in_definition(&mut self, unit: Vertex, definition: &Definition, expr: &Expr) {
        let (held, filled) = definition
            .body
            .as_ref()
            .map(|body| self.local_assignments(body))
            .unwrap_or_default();
        let defaults = match unit {
            Vertex::Type { .. } => definition
                .params
                .iter()
                .map(|param| (param.name.clone(), created_type(param.value.as_ref())))
                .collect(),
            _ => HashMap::new(),
        };
        let outer = std::mem::replace(&mut self.reference_variables, held);
        let outer_defaults = std::mem::replace(&mut self.type_defaults, defaults);
        let outer_filled = std::mem::replace(&mut self.filled_hashes, filled);
        self.in_unit(unit, |walk| walk.children(expr));
        self.filled_hashes = outer_filled;
        self.type_defaults = outer_defaults;
        self.reference_variables = outer;
    }

    /// What a body's assignments, in every branch, say of its local
    /// variables: the resource references each may hold, and those that
    /// always hold a hash with entries.
    fn local_assignments(&self, body: &Expr) -> (HashMap<String, Vec<Vertex>>, HashSet<String>) {
        let mut held: HashMap<String, Vec<Vertex>> = HashMap::new();
        let mut always_filled: HashMap<&str, bool> = HashMap::new();
        crate::analysis::for_each_assignment(body, &mut |name, value| {
            let references = self.references(value);
            if !references.is_empty() {
                held.entry(name.to_string()).or_default().extend(references);
            }
            *always_filled.entry(name).or_insert(true) &= is_filled_hash(value);
        });
        let filled = always_filled
            .into_iter()
            .filter(|&(_, always)| always)
            .map(|(name, _)| name.to_string())
            .collect();
        (held, filled)
    }

    fn children(&mut self, expr: &Expr) {
        for_each_child(Node::Expr(expr), &mut |child| self.node(child));
    }

    fn node(&mut self, node: Node) {
        match node {
            Node::Expr(expr) => self.expr(expr),
            other => for_each_child(other, &mut |child| self.node(child)),
        }
    }

    fn expr(&mut self, expr: &Expr) {
        match &expr.kind {
            ExprKind::Class(definition) => {
                let name = normalize(&definition.name);
                if let Some(parent) = &definition.parent {
                    let (class, parent) = (Vertex::class(&name), Vertex::class(&normalize(parent)));
                    self.in_unit(class.clone(), |walk| {
                        walk.push(class, parent, EdgeKind::Inherits, definition.name_span)
                    });
                }
                self.in_definition(Vertex::class(&name), definition, expr);
            }
            ExprKind::Define(definition) => {
                let unit = Vertex::Type {
                    name: normalize(&definition.name),
                };
                self.in_definition(unit, definition, expr);
            }
            ExprKind::Function(definition) => {
                let unit = Vertex::Function {
                    name: normalize(&definition.name),
                };
                self.in_unit(unit, |walk| walk.children(expr));
            }
            ExprKind::Node(node) => {
                let name = node
                    .matches
                    .first()
                    .map(|matched| node_name(self.file, matched))
                    .unwrap_or_default();
                self.in_unit(Vertex::Node { name }, |walk| walk.children(expr));
            }
            ExprKind::If(conditional) | ExprKind::Unless(conditional) => {
                let test = self.text(&conditional.test);
                let is_if = matches!(expr.kind, ExprKind::If(_));
                let (then_guard, else_guard) = if is_if {
                    (test.clone(), format!("!({test})"))
                } else {
                    (format!("!({test})"), test)
                };
                self.expr(&conditional.test);
                let read = test_of(&conditional.test);
                if let Some(then_branch) = &conditional.then_branch {
                    self.record_branch(&read, is_if, &then_guard, then_branch);
                    self.branch(then_guard, &conditional.test, is_if, then_branch);
                }
                if let Some(else_branch) = &conditional.else_branch {
                    self.record_branch(&read, !is_if, &else_guard, else_branch);
                    self.branch(else_guard, &conditional.test, !is_if, else_branch);
                }
            }
            ExprKind::Case { test, options } => {
                self.expr(test);
                let test_text = self.text(test);
                let all_values: Vec<String> = options
                    .iter()
                    .flat_map(|option| &option.values)
                    .filter(|value| !matches!(value.kind, ExprKind::Default))
                    .map(|value| self.text(value))
                    .collect();
                let every_value = case_values(test, options.iter().flat_map(|o| &o.values));
                for option in options {
                    let guard =
                        case_guard(&test_text, &option.values, &all_values, |e| self.text(e));
                    if let Some(body) = &option.body {
                        let read = if option
                            .values
                            .iter()
                            .any(|value| matches!(value.kind, ExprKind::Default))
                        {
                            every_value.clone().map(|all| Test::Not(Box::new(all)))
                        } else {
                            case_values(test, option.values.iter())
                        };
                        if let Some(read) = read {
                            self.record_branch(&read, true, &guard, body);
                        }
                        self.guarded(guard, body);
                    }
                }
            }
            ExprKind::Selector { left, entries } => {
                self.expr(left);
                let left_text = self.text(left);
                for entry in entries {
                    let guard = if matches!(entry.matching.kind, ExprKind::Default) {
                        format!("{left_text} is none of the other selector values")
                    } else {
                        format!("{left_text} == {}", self.text(&entry.matching))
                    };
                    self.guarded(guard, &entry.value);
                }
            }
            ExprKind::Call(call) if call.kind == CallKind::Named => {
                if let ExprKind::QualifiedName(name) = &call.functor.kind {
                    self.call(name, &call.args, expr.span);
                }
                self.children(expr);
            }
            ExprKind::Resource {
                type_name,
                bodies,
                form,
            } => {
                self.resource(type_name, bodies, *form);
                self.children(expr);
            }
            ExprKind::ResourceDefaults { type_ref, .. } => {
                if let ExprKind::QualifiedReference(name) = &type_ref.kind {
                    let to = Vertex::Type {
                        name: normalize(name),
                    };
                    self.push_from_unit(to, EdgeKind::Defaults, type_ref.span);
                }
                self.children(expr);
            }
            ExprKind::ResourceOverride { resources, .. } => {
                for target in self.references(resources) {
                    self.push_from_unit(target, EdgeKind::Override, resources.span);
                }
                self.children(expr);
            }
            ExprKind::Collect { query, ops, .. } => {
                if let Some(collector) = self.collector(expr) {
                    self.push_from_unit(collector.clone(), EdgeKind::Collect, expr.span);
                    self.metaparameters(&collector, ops);
                    self.declare_collector(collector, query, ops, expr.span);
                }
                self.children(expr);
            }
            ExprKind::Binary { op, left, right } if relationship(*op).is_some() => {
                let kind = relationship(*op).expect("a relationship");
                let sources = self.endpoints(left);
                let targets = self.endpoints(right);
                for side in [left, right] {
                    if let ExprKind::Collect { query, ops, .. } = &side.kind {
                        if let Some(collector) = self.collector(side) {
                            self.metaparameters(&collector, ops);
                            self.declare_collector(collector, query, ops, side.span);
                        }
                    }
                }
                for source in &sources {
                    for target in &targets {
                        self.push(source.clone(), target.clone(), kind, expr.span);
                    }
                }
                self.children(expr);
            }
            ExprKind::Variable(name) => {
                if let Some(qualified) = qualified_variable(name) {
                    let to = Vertex::Variable { name: qualified };
                    self.push_from_unit(to, EdgeKind::ReadsVariable, expr.span);
                }
            }
            ExprKind::Lambda(_) => {
                self.lambdas += 1;
                self.children(expr);
                self.lambdas -= 1;
            }
            _ => self.children(expr),
        }
    }

    /// Edges of a call to a function that declares classes or reads data.
    fn call(&mut self, name: &str, args: &[Expr], span: Span) {
        let name = normalize(name);
        if let Some(kind) = class_declaring_function(&name) {
            for arg in args {
                for class in self.class_names(arg) {
                    self.push_from_unit(Vertex::class(&class), kind, span);
                }
            }
        } else if is_lookup_function(&name) {
            if let Some(key) = args.first().and_then(literal_string) {
                self.push_from_unit(Vertex::LookupKey { key }, EdgeKind::Lookup, span);
            }
        } else if name == "tag" {
            let tags: Vec<String> = args.iter().filter_map(literal_string).collect();
            for tag in tags {
                self.facts
                    .tags
                    .push((self.unit.clone(), tag.to_ascii_lowercase()));
            }
        } else if name == "create_resources" {
            self.created_resources(args);
        } else if let Some((type_name, titles)) = ensuring_call(&name, args) {
            self.ensured(&type_name, titles, span);
        } else if name == "assert_private" {
            self.facts.private.push(self.unit.clone());
        } else if name == "realize" {
            for arg in args {
                for target in self.references(arg) {
                    self.push_from_unit(target, EdgeKind::Realize, span);
                }
            }
        }
    }

    /// The resources `ensure_resource(type, titles, ...)` and
    /// `ensure_packages(titles)` declare, for the titles written literally
    /// (a string, an array, a hash's keys; the attributes are not read):
    /// each a fallback, declared only where no other code has declared it
    /// yet. Perhaps absent as this declaration: where another stands, that
    /// one is the resource, with its tags, so what a collector finds by
    /// this one's is not sure.
    fn ensured(&mut self, type_name: &str, titles: &Expr, span: Span) {
        for title in ensured_titles(titles).literal {
            let resource = Vertex::Resource {
                type_name: type_name.to_string(),
                title: title.clone(),
                scope: None,
            };
            // As stdlib writes it: declared where nothing declares it yet.
            self.guards.push(format!(
                "!defined({}['{title}'])",
                crate::model::capitalize(type_name)
            ));
            self.push_from_unit(resource.clone(), EdgeKind::Declare, span);
            self.guards.pop();
            self.facts.resources.push(ResourceDeclaration {
                holder: self.unit.clone(),
                resource,
                type_name: type_name.to_string(),
                title: Some(title),
                title_shape: TitleShape::Unknown,
                is_virtual: false,
                fallback: true,
                perhaps_absent: true,
                attributes: Vec::new(),
                location: self.file.location(span),
            });
        }
    }

    /// `create_resources($type, hash)` in a define, the type its parameter
    /// or title: each instance declares resources of the type it gives
    /// (`CreatedResources`), titled by the hash's keys.
    fn created_resources(&mut self, args: &[Expr]) {
        let (Some(type_arg), Some(hash)) = (args.first(), args.get(1)) else {
            return;
        };
        let titles = self.text(hash);
        let perhaps_absent = match &hash.kind {
            ExprKind::Variable(name) => !self.filled_hashes.contains(name),
            _ => !is_filled_hash(hash),
        };
        let (ExprKind::Variable(variable), Vertex::Type { name: define }) =
            (&type_arg.kind, &self.unit)
        else {
            return;
        };
        let (parameter, default) = if variable == "name" || variable == "title" {
            (None, CreatedType::Title)
        } else if let Some(default) = self.type_defaults.get(variable) {
            (Some(variable.clone()), default.clone())
        } else {
            return;
        };
        self.facts.created.push(CreatedResources {
            define: define.clone(),
            parameter,
            default,
            titles,
            fallback: self.fallbacks > 0,
            perhaps_absent,
        });
    }

    /// The classes an argument of `include` and the like names.
    fn class_names(&self, arg: &Expr) -> Vec<String> {
        match &arg.kind {
            ExprKind::Array(items) => items.iter().flat_map(|i| self.class_names(i)).collect(),
            ExprKind::QualifiedName(name) | ExprKind::String(name) => vec![normalize(name)],
            ExprKind::Access { .. } => self
                .references(arg)
                .into_iter()
                .filter_map(|reference| match reference {
                    Vertex::Class { name } => Some(name),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    fn resource(&mut self, type_name: &Expr, bodies: &[ResourceBody], form: ResourceForm) {
        let type_name = match &type_name.kind {
            ExprKind::QualifiedName(name) | ExprKind::QualifiedReference(name) => normalize(name),
            _ => return,
        };
        // A `default:` body declares nothing: its attributes go to the
        // other bodies of the expression.
        let (defaults, bodies): (Vec<&ResourceBody>, Vec<&ResourceBody>) = bodies
            .iter()
            .partition(|body| matches!(body.title.kind, ExprKind::Default));
        for body in bodies {
            for title in self.titles(&body.title) {
                let title_literal = title.literal.then(|| title.text.clone());
                let title_shape = title.shape.clone();
                let resource = if type_name == "class" && title.literal {
                    let class = Vertex::class(&normalize(&title.text));
                    self.push_from_unit(class.clone(), EdgeKind::DeclareClass, body.title.span);
                    self.facts.class_arguments.push((
                        normalize(&title.text),
                        body.ops
                            .iter()
                            .map(|op| match op {
                                AttributeOp::Set { name, value, .. } => {
                                    (name.clone(), attribute_value(value))
                                }
                                // Any parameter, perhaps.
                                AttributeOp::Splat { .. } => {
                                    ("*".to_string(), AttributeValue::Unknown)
                                }
                            })
                            .collect(),
                    ));
                    class
                } else {
                    let resource = self.reference(&type_name, title);
                    let kind = match form {
                        ResourceForm::Regular => EdgeKind::Declare,
                        ResourceForm::Virtual | ResourceForm::Exported => EdgeKind::DeclareVirtual,
                    };
                    self.push_from_unit(resource.clone(), kind, body.title.span);
                    let attributes = defaults
                        .iter()
                        .flat_map(|default| &default.ops)
                        .chain(&body.ops)
                        .filter_map(|op| match op {
                            AttributeOp::Set { name, value, .. } => {
                                Some((name.clone(), attribute_value(value)))
                            }
                            AttributeOp::Splat { .. } => None,
                        })
                        .collect();
                    self.facts.resources.push(ResourceDeclaration {
                        holder: self.unit.clone(),
                        resource: resource.clone(),
                        type_name: type_name.clone(),
                        title: title_literal.clone(),
                        title_shape: title_shape.clone(),
                        is_virtual: form != ResourceForm::Regular,
                        fallback: self.fallbacks > 0,
                        perhaps_absent: false,
                        attributes,
                        location: self.file.location(body.title.span),
                    });
                    let to = Vertex::Type {
                        name: type_name.clone(),
                    };
                    self.push_from_unit(to, EdgeKind::Instantiate, body.title.span);
                    resource
                };
                self.metaparameters(&resource, &body.ops);
                for default in &defaults {
                    self.metaparameters(&resource, &default.ops);
                }
            }
        }
    }

    /// Ordering metaparameters and run stages of one declared resource.
    fn metaparameters(&mut self, resource: &Vertex, ops: &[AttributeOp]) {
        for op in ops {
            let AttributeOp::Set {
                name, value, span, ..
            } = op
            else {
                continue;
            };
            let kind = match name.as_str() {
                "before" => EdgeKind::BeforeParam,
                "require" => EdgeKind::RequireParam,
                "notify" => EdgeKind::NotifyParam,
                "subscribe" => EdgeKind::SubscribeParam,
                "stage" => {
                    if let Some(stage) = literal_string(value) {
                        self.push(
                            resource.clone(),
                            Vertex::Stage { name: stage },
                            EdgeKind::InStage,
                            *span,
                        );
                    }
                    continue;
                }
                _ => continue,
            };
            let targets = match &value.kind {
                ExprKind::Variable(name) => self
                    .reference_variables
                    .get(name)
                    .cloned()
                    .unwrap_or_default(),
                _ => self.references(value),
            };
            for target in targets {
                self.push(resource.clone(), target, kind, *span);
            }
        }
    }

    /// The titles of a resource body: one per element of an array title.
    fn titles(&self, title: &Expr) -> Vec<Title> {
        match &title.kind {
            ExprKind::Array(items) => items.iter().flat_map(|i| self.titles(i)).collect(),
            _ => vec![match literal_string(title) {
                Some(text) => Title {
                    text,
                    literal: true,
                    shape: TitleShape::Literal,
                },
                None => {
                    let text = self.text(title);
                    Title {
                        literal: names_global_values_only(&text),
                        text,
                        shape: title_shape(title),
                    }
                }
            }],
        }
    }

    /// `Class['x']` is class x, `Stage['x']` run stage x; any other
    /// reference (or one whose title is an expression, which names no class
    /// statically) is a resource, known in this unit only when its title is
    /// an expression. Puppet evaluates the code of every top-scope file in
    /// one scope: a title computed there names the same resource in each.
    fn reference(&self, type_name: &str, title: Title) -> Vertex {
        let scope = || match &self.unit {
            Vertex::TopScope { .. } => "top scope".to_string(),
            unit => unit.label(),
        };
        if type_name == "class" && title.literal {
            Vertex::class(&normalize(&title.text))
        } else if type_name == "stage" && title.literal {
            Vertex::Stage { name: title.text }
        } else {
            Vertex::Resource {
                type_name: type_name.to_string(),
                title: title.text,
                scope: (!title.literal).then(scope),
            }
        }
    }

    /// The resources a reference expression names: `T['a']`, `T['a', 'b']`,
    /// `Class['x']` (as the class), arrays of them.
    fn references(&self, expr: &Expr) -> Vec<Vertex> {
        match &expr.kind {
            ExprKind::Array(items) => items.iter().flat_map(|i| self.references(i)).collect(),
            ExprKind::Access { left, keys } => {
                let ExprKind::QualifiedReference(type_name) = &left.kind else {
                    return Vec::new();
                };
                let type_name = normalize(type_name);
                keys.iter()
                    .flat_map(|key| self.titles(key))
                    .map(|title| self.reference(&type_name, title))
                    .collect()
            }
            _ => Vec::new(),
        }
    }

    /// What one side of a relationship stands for.
    fn endpoints(&self, expr: &Expr) -> Vec<Vertex> {
        match &expr.kind {
            // `a -> b -> c` is `(a -> b) -> c`: its right end is `b`.
            ExprKind::Binary { op, right, .. } if relationship(*op).is_some() => {
                self.endpoints(right)
            }
            ExprKind::Resource {
                type_name, bodies, ..
            } => {
                let type_name = match &type_name.kind {
                    ExprKind::QualifiedName(name) | ExprKind::QualifiedReference(name) => {
                        normalize(name)
                    }
                    _ => return Vec::new(),
                };
                bodies
                    .iter()
                    .filter(|body| !matches!(body.title.kind, ExprKind::Default))
                    .flat_map(|body| self.titles(&body.title))
                    .map(|title| self.reference(&type_name, title))
                    .collect()
            }
            ExprKind::Collect { .. } => self.collector(expr).into_iter().collect(),
            ExprKind::Paren(inner) => self.endpoints(inner),
            _ => self.references(expr),
        }
    }

    fn declare_collector(
        &mut self,
        collector: Vertex,
        query: &granule_parser::Query,
        ops: &[AttributeOp],
        span: Span,
    ) {
        let Vertex::Collector { type_name, .. } = &collector else {
            return;
        };
        self.facts.collectors.push(CollectorDeclaration {
            holder: self.unit.clone(),
            type_name: type_name.clone(),
            collector: collector.clone(),
            query: query.expr.as_ref().map_or(Query::All, typed_query),
            overrides: sets_attributes(ops, &["before", "require", "notify", "subscribe"]),
            overrides_state: sets_attributes(
                ops,
                &["before", "require", "notify", "subscribe", "tag"],
            ),
            location: self.file.location(span),
        });
    }

    fn collector(&self, expr: &Expr) -> Option<Vertex> {
        let ExprKind::Collect {
            type_expr, query, ..
        } = &expr.kind
        else {
            return None;
        };
        let ExprKind::QualifiedReference(type_name) = &type_expr.kind else {
            return None;
        };
        Some(Vertex::Collector {
            type_name: normalize(type_name),
            query: query
                .expr
                .as_ref()
                .map(|query| self.text(query))
                .unwrap_or_default(),
            exported: query.exported,
            scope: self.unit.label(),
        })
    }
}

/// Whether a collector's override block sets attributes other than the
/// relationship metaparameters (`before +> X` only orders what it collects:
/// an edge, not a change to the resources).
/// Whether `ops` set an attribute other than those `ignored`.
fn sets_attributes(ops: &[AttributeOp], ignored: &[&str]) -> bool {
    ops.iter()
        .any(|op| !matches!(op, AttributeOp::Set { name, .. } if ignored.contains(&name.as_str())))
}

/// A resource title: its text, and whether it names the same resource
/// wherever it is written (a literal, or an expression of top-scope values
/// and facts only) or depends on where it is written (`$title`, `$name`,
/// local variables).
struct Title {
    text: String,
    literal: bool,
    shape: TitleShape,
}

/// The pieces of an interpolated string.
fn pieces(parts: &[Expr]) -> Vec<Piece> {
    parts
        .iter()
        .map(|part| match &part.kind {
            ExprKind::String(text) => Piece::Text(text.clone()),
            ExprKind::Text(inner) => match &inner.kind {
                ExprKind::Variable(name) => Piece::Variable(name.clone()),
                _ => Piece::Unknown,
            },
            _ => Piece::Unknown,
        })
        .collect()
}

/// What is known of a title expression.
fn title_shape(title: &Expr) -> TitleShape {
    match &title.kind {
        ExprKind::Variable(name) => TitleShape::Variable(name.clone()),
        ExprKind::Concat(parts) => TitleShape::Pattern(pieces(parts)),
        _ => TitleShape::Unknown,
    }
}

/// Whether an expression is a hash literal with entries.
fn is_filled_hash(expr: &Expr) -> bool {
    matches!(&expr.kind, ExprKind::Hash(entries) if !entries.is_empty())
}

/// What a define parameter's default says of the resource type it names.
fn created_type(default: Option<&Expr>) -> CreatedType {
    match default.map(|d| &d.kind) {
        Some(ExprKind::Variable(name)) if name == "name" || name == "title" => CreatedType::Title,
        Some(_) => default
            .and_then(literal_string)
            .map_or(CreatedType::Unknown, CreatedType::Literal),
        None => CreatedType::Unknown,
    }
}

/// A collector query as a typed term: comparisons of an attribute with a
/// literal, joined with `and`/`or`; anything else may match anything.
fn typed_query(expr: &Expr) -> Query {
    match &expr.kind {
        ExprKind::Paren(inner) => typed_query(inner),
        ExprKind::Binary { op, left, right } => match op {
            BinaryOp::And => Query::And {
                left: Box::new(typed_query(left)),
                right: Box::new(typed_query(right)),
            },
            BinaryOp::Or => Query::Or {
                left: Box::new(typed_query(left)),
                right: Box::new(typed_query(right)),
            },
            BinaryOp::Eq | BinaryOp::Ne => {
                let attribute = match &left.kind {
                    ExprKind::QualifiedName(name) => name.to_ascii_lowercase(),
                    _ => return Query::Unknown,
                };
                let interpolated = match &right.kind {
                    ExprKind::Variable(name) => Some(vec![Piece::Variable(name.clone())]),
                    ExprKind::Concat(parts) if literal_string(right).is_none() => {
                        Some(pieces(parts))
                    }
                    _ => None,
                };
                if let (Some(pieces), BinaryOp::Eq) = (interpolated, op) {
                    return Query::EqualsPieces { attribute, pieces };
                }
                let Some(value) = literal_string(right) else {
                    return Query::Unknown;
                };
                if *op == BinaryOp::Eq {
                    Query::Equals { attribute, value }
                } else {
                    Query::NotEquals { attribute, value }
                }
            }
            _ => Query::Unknown,
        },
        _ => Query::Unknown,
    }
}

/// What is known of an attribute's value without evaluating it.
fn attribute_value(value: &Expr) -> AttributeValue {
    match &value.kind {
        ExprKind::Array(items) => {
            let texts: Option<Vec<String>> = items.iter().map(scalar_text).collect();
            texts.map_or(AttributeValue::Unknown, AttributeValue::List)
        }
        ExprKind::Variable(name) => AttributeValue::Variable(name.clone()),
        _ => scalar_text(value).map_or(AttributeValue::Unknown, AttributeValue::Text),
    }
}

fn scalar_text(value: &Expr) -> Option<String> {
    match &value.kind {
        ExprKind::Boolean(b) => Some(b.to_string()),
        ExprKind::Integer { value, .. } => Some(value.to_string()),
        ExprKind::QualifiedReference(_) | ExprKind::Access { .. } => None,
        _ => literal_string(value),
    }
}

fn relationship(op: BinaryOp) -> Option<EdgeKind> {
    match op {
        BinaryOp::Before => Some(EdgeKind::Before),
        BinaryOp::Notify => Some(EdgeKind::Notify),
        BinaryOp::Require => Some(EdgeKind::RequireArrow),
        BinaryOp::Subscribe => Some(EdgeKind::SubscribeArrow),
        _ => None,
    }
}

/// The guard of one `case` option: the test equals one of its values, or
/// (for `default`) none of the other options' values.
fn case_guard(
    test: &str,
    values: &[Expr],
    all_values: &[String],
    text: impl Fn(&Expr) -> String,
) -> String {
    if values
        .iter()
        .any(|value| matches!(value.kind, ExprKind::Default))
    {
        return format!("{test} not in [{}]", all_values.join(", "));
    }
    match values {
        [single] => format!("{test} == {}", text(single)),
        _ => format!(
            "{test} in [{}]",
            values.iter().map(text).collect::<Vec<_>>().join(", ")
        ),
    }
}

/// What the model reads of a guard's test (see [`Test`]).
fn test_of(test: &Expr) -> Test {
    match &test.kind {
        ExprKind::Paren(inner) => test_of(inner),
        ExprKind::Unary {
            op: UnaryOp::Not,
            expr,
        } => Test::Not(Box::new(test_of(expr))),
        ExprKind::Binary { op, left, right } => match op {
            BinaryOp::And => Test::All(vec![test_of(left), test_of(right)]),
            BinaryOp::Or => Test::Any(vec![test_of(left), test_of(right)]),
            BinaryOp::Eq => one_of(left, [&**right])
                .or_else(|| one_of(right, [&**left]))
                .unwrap_or(Test::Unknown),
            BinaryOp::Ne => one_of(left, [&**right])
                .or_else(|| one_of(right, [&**left]))
                .map_or(Test::Unknown, |test| Test::Not(Box::new(test))),
            BinaryOp::In => match &right.kind {
                ExprKind::Array(items) => one_of(left, items).unwrap_or(Test::Unknown),
                _ => Test::Unknown,
            },
            _ => Test::Unknown,
        },
        _ => Test::Unknown,
    }
}

/// `variable` compared with `values`, each a string the model compares
/// as Puppet does: not empty, no number or boolean, which Puppet compares
/// otherwise.
fn one_of<'e>(variable: &Expr, values: impl IntoIterator<Item = &'e Expr>) -> Option<Test> {
    let ExprKind::Variable(name) = &variable.kind else {
        return None;
    };
    if name.contains("::") {
        return None;
    }
    let values = values
        .into_iter()
        .map(|value| match &value.kind {
            ExprKind::String(text) | ExprKind::QualifiedName(text)
                if !text.is_empty()
                    && text.parse::<f64>().is_err()
                    && !matches!(
                        text.to_ascii_lowercase().as_str(),
                        "true" | "false" | "undef"
                    ) =>
            {
                Some(text.to_lowercase())
            }
            _ => None,
        })
        .collect::<Option<Vec<_>>>()?;
    Some(Test::OneOf {
        variable: name.clone(),
        values,
    })
}

/// A `case` on a variable matching one of `values`.
fn case_values<'e>(test: &Expr, values: impl Iterator<Item = &'e Expr>) -> Option<Test> {
    one_of(
        test,
        values.filter(|value| !matches!(value.kind, ExprKind::Default)),
    )
}

/// The type and titles a call of `ensure_packages(titles)` or
/// `ensure_resource(type, titles, ...)` declares, the type written
/// literally; `None` for any other call.
pub(crate) fn ensuring_call<'e>(name: &str, args: &'e [Expr]) -> Option<(String, &'e Expr)> {
    match name {
        "ensure_packages" => Some(("package".to_string(), args.first()?)),
        "ensure_resource" => Some((normalize(&literal_string(args.first()?)?), args.get(1)?)),
        _ => None,
    }
}

/// The titles of what `ensure_packages` or `ensure_resource` is given: a
/// string, an array or a hash's keys.
pub(crate) struct EnsuredTitles {
    /// Those written literally.
    pub literal: Vec<String>,
    /// Whether every title is among them.
    pub complete: bool,
}

pub(crate) fn ensured_titles(titles: &Expr) -> EnsuredTitles {
    let written: Vec<Option<String>> = match &titles.kind {
        ExprKind::Array(items) => items.iter().map(literal_string).collect(),
        ExprKind::Hash(entries) => entries
            .iter()
            .map(|entry| literal_string(&entry.key))
            .collect(),
        _ => vec![literal_string(titles)],
    };
    let complete = written.iter().all(Option::is_some);
    EnsuredTitles {
        literal: written.into_iter().flatten().collect(),
        complete,
    }
}

/// A string literal's text (`'x'`, `"x"` without interpolation, a bare word).
pub(crate) fn literal_string(expr: &Expr) -> Option<String> {
    match &expr.kind {
        ExprKind::String(text) | ExprKind::QualifiedName(text) => Some(text.clone()),
        ExprKind::Concat(parts) if parts.iter().all(|p| matches!(p.kind, ExprKind::String(_))) => {
            Some(
                parts
                    .iter()
                    .filter_map(|p| match &p.kind {
                        ExprKind::String(text) => Some(text.as_str()),
                        _ => None,
                    })
                    .collect(),
            )
        }
        _ => None,
    }
}

/// A variable of another scope: `$::x` (top scope, named `::x`) or
/// `$a::b::x`; `None` for a local variable.
fn qualified_variable(name: &str) -> Option<String> {
    name.contains("::").then(|| name.to_string())
}

/// Whether every variable in a title expression is a top-scope variable or
/// a fact (`$::x`, `${::x}`, `$facts[...]`, `$trusted[...]`).
fn names_global_values_only(text: &str) -> bool {
    text.match_indices('$').all(|(at, _)| {
        let rest = text[at + 1..].trim_start_matches('{');
        rest.starts_with("::") || rest.starts_with("facts") || rest.starts_with("trusted")
    })
}
