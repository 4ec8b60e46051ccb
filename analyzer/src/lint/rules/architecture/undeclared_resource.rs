//! **granule/undeclared-resource** (error): a reference `Type['title']`
//! with a literal title, in a relationship (`before`, `require`, `notify`,
//! `subscribe`, `->`, `~>`, `<-`, `<~`), an override (`Type['x'] { }`) or
//! `realize`, to a resource that no code of the codebase declares (regular,
//! virtual or exported), by its title, `name`, `alias` or (files) `path`.
//!
//! Why: Puppet fails the catalog ("Could not find resource 'Package[x]'
//! for relationship") on the node that compiles it: a typo in a title, a
//! resource renamed or moved to a module no longer installed. A title
//! only known at run time may be the one referred to: `"${name}.conf"`
//! any title ending in `.conf`, `$name` (or `create_resources`,
//! `ensure_resource(s)`, `ensure_packages`) any title of its type; such
//! references are not reported. `Class['x']` is granule/unresolved-class's.
//!
//! Example:
//! ```puppet
//! class app {
//!   package { 'app-server': ensure => installed }
//!   service { 'app': require => Package['app-sever'] }  # no such package
//! }
//! ```
//!
//! Fix: correct the title, declare the resource, or add the module that
//! declares it to the module path.

use super::architecture::comparable_title;
use crate::extract::literal_string;
use crate::index::{normalize, SourceFile};
use crate::lint::architecture::{Findings, Workspace};
use crate::model::{capitalize, Location};
use granule_parser::visit::{for_each_child, Node};
use granule_parser::{AttributeOp, BinaryOp, CallKind, Expr, ExprKind};
use crate::hashing::{FastMap, FastSet};

pub fn check(workspace: &Workspace, out: &mut Findings) {
    let mut declared = Declared::default();
    let mut references = Vec::new();
    for file in &workspace.analysis.codebase.files {
        let mut walk = Walk {
            file,
            unit: "the top scope".to_string(),
            declared: &mut declared,
            references: &mut references,
        };
        walk.expr(&file.program.body);
    }
    for reference in references {
        if declared.may_declare(&reference.type_name, &reference.title) {
            continue;
        }
        let type_name = capitalize(&reference.type_name);
        out.add(
            &reference.location,
            format!(
                "`{type_name}['{}']` ({} in {}) refers to a resource declared nowhere: \
                 no `{}` resource of the module path or the linted manifests has that title, \
                 `name` or `alias`; correct the title, declare the resource, or add the \
                 module declaring it to the module path",
                reference.title, reference.used_as, reference.unit, reference.type_name
            ),
        );
    }
}

/// The resources the codebase declares, by type.
#[derive(Default)]
struct Declared {
    by_type: FastMap<String, Titles>,
}

/// The titles some code declares resources of one type under.
#[derive(Default)]
struct Titles {
    /// Literal titles, names and aliases.
    literal: FastSet<String>,
    /// Titles interpolating values known at run time (`"${name}::begin"`):
    /// their literal pieces, around each value.
    patterns: FastSet<Vec<String>>,
    /// Whether some title may be anything (`$name`, a function's value,
    /// `create_resources`).
    any: bool,
}

impl Declared {
    fn of(&mut self, type_name: &str) -> &mut Titles {
        self.by_type.entry(type_name.to_string()).or_default()
    }

    fn add(&mut self, type_name: &str, title: &str) {
        let title = comparable_title(type_name, title).to_string();
        self.of(type_name).literal.insert(title);
    }

    fn may_declare(&self, type_name: &str, title: &str) -> bool {
        let title = comparable_title(type_name, title);
        self.by_type.get(type_name).is_some_and(|titles| {
            titles.any
                || titles.literal.contains(title)
                || titles
                    .patterns
                    .iter()
                    .any(|pieces| matches_pieces(pieces, title))
        })
    }
}

/// Whether `title` can be the value of a string made of `pieces` with
/// run-time values between them.
fn matches_pieces(pieces: &[String], title: &str) -> bool {
    let [first, middle @ .., last] = pieces else {
        return true;
    };
    let Some(mut rest) = title.strip_prefix(first.as_str()) else {
        return false;
    };
    for piece in middle {
        match rest.find(piece.as_str()) {
            Some(at) => rest = &rest[at + piece.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last.as_str())
}

/// A reference with a literal title, and how the code uses it.
struct Reference {
    type_name: String,
    title: String,
    location: Location,
    /// `require of Service['app']`, `realize`...
    used_as: String,
    /// `class app`, `the top scope`...
    unit: String,
}

struct Walk<'a> {
    file: &'a SourceFile,
    unit: String,
    declared: &'a mut Declared,
    references: &'a mut Vec<Reference>,
}

impl Walk<'_> {
    fn expr(&mut self, expr: &Expr) {
        match &expr.kind {
            ExprKind::Class(definition) => {
                self.in_unit(format!("class {}", normalize(&definition.name)), expr)
            }
            ExprKind::Define(definition) => {
                self.in_unit(format!("define {}", normalize(&definition.name)), expr)
            }
            ExprKind::Node(_) => self.in_unit("a node".to_string(), expr),
            ExprKind::Resource {
                type_name, bodies, ..
            } => {
                if let Some(type_name) = type_of(type_name) {
                    for body in bodies {
                        let resource = format!(
                            "{}[{}]",
                            capitalize(&type_name),
                            self.file.text(body.title.span)
                        );
                        if type_name != "class" {
                            self.declaration(&type_name, &body.title, &body.ops);
                        }
                        self.metaparameters(&body.ops, &resource);
                    }
                }
                self.children(expr);
            }
            ExprKind::ResourceDefaults { type_ref, ops, .. } => {
                let defaults = format!("{} defaults", self.file.text(type_ref.span));
                self.metaparameters(ops, &defaults);
                self.children(expr);
            }
            ExprKind::ResourceOverride { resources, ops, .. } => {
                self.references(resources, "override");
                self.metaparameters(ops, "an override");
                self.children(expr);
            }
            ExprKind::Collect { ops, .. } => {
                self.metaparameters(ops, "a collector");
                self.children(expr);
            }
            ExprKind::Binary { op, left, right } if arrow(*op).is_some() => {
                let used_as = format!("`{}` relationship", arrow(*op).unwrap_or_default());
                for side in [left, right] {
                    // A chain `a -> b -> c` nests: its inner arrow is its own.
                    if !matches!(&side.kind, ExprKind::Binary { op, .. } if arrow(*op).is_some()) {
                        self.references(side, &used_as);
                    }
                }
                self.children(expr);
            }
            ExprKind::Call(call) if call.kind == CallKind::Named => {
                if let ExprKind::QualifiedName(name) = &call.functor.kind {
                    self.call(&normalize(name), &call.args);
                }
                self.children(expr);
            }
            _ => self.children(expr),
        }
    }

    fn in_unit(&mut self, unit: String, expr: &Expr) {
        let outer = std::mem::replace(&mut self.unit, unit);
        self.children(expr);
        self.unit = outer;
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

    /// Records the titles, names and aliases one resource body declares.
    fn declaration(&mut self, type_name: &str, title: &Expr, ops: &[AttributeOp]) {
        if matches!(title.kind, ExprKind::Default) {
            return;
        }
        let mut names = vec![title];
        for op in ops {
            if let AttributeOp::Set { name, value, .. } = op {
                if name == "name" || name == "alias" || (type_name == "file" && name == "path") {
                    names.push(value);
                }
            }
        }
        for (index, name) in names.into_iter().enumerate() {
            match literal_strings(name) {
                Some(titles) => titles.iter().for_each(|t| self.declared.add(type_name, t)),
                None if index == 0 => self.dynamic_titles(type_name, title),
                // A name or alias known at run time is too rarely referred
                // to by it to count.
                None => {}
            }
        }
    }

    /// Records what a title holding run-time values may be.
    fn dynamic_titles(&mut self, type_name: &str, title: &Expr) {
        match &title.kind {
            ExprKind::Array(items) => items.iter().for_each(|i| self.dynamic_titles(type_name, i)),
            _ => {
                if let Some(text) = literal_string(title) {
                    self.declared.add(type_name, &text);
                } else if let ExprKind::Concat(parts) = &title.kind {
                    let mut pieces = vec![String::new()];
                    for part in parts {
                        match &part.kind {
                            ExprKind::String(text) => {
                                pieces.last_mut().expect("a piece").push_str(text)
                            }
                            _ => pieces.push(String::new()),
                        }
                    }
                    self.declared.of(type_name).patterns.insert(pieces);
                } else {
                    self.declared.of(type_name).any = true;
                }
            }
        }
    }

    /// Functions declaring resources of the type their first argument names.
    fn call(&mut self, name: &str, args: &[Expr]) {
        let type_name = match name {
            "create_resources" | "ensure_resource" | "ensure_resources" => {
                args.first().and_then(literal_string).map(|t| normalize(&t))
            }
            "ensure_packages" => Some("package".to_string()),
            "realize" => {
                for arg in args {
                    self.references(arg, "realize");
                }
                None
            }
            _ => None,
        };
        if let Some(type_name) = type_name {
            self.declared.of(&type_name).any = true;
        }
    }

    /// The references of the ordering metaparameters among `ops`.
    fn metaparameters(&mut self, ops: &[AttributeOp], owner: &str) {
        for op in ops {
            if let AttributeOp::Set { name, value, .. } = op {
                if matches!(name.as_str(), "before" | "require" | "notify" | "subscribe") {
                    self.references(value, &format!("{name} of {owner}"));
                }
            }
        }
    }

    /// Records the references with literal titles `expr` holds: `T['a']`,
    /// `T['a', 'b']`, arrays of them.
    fn references(&mut self, expr: &Expr, used_as: &str) {
        match &expr.kind {
            ExprKind::Array(items) => items.iter().for_each(|i| self.references(i, used_as)),
            ExprKind::Paren(inner) => self.references(inner, used_as),
            ExprKind::Access { left, keys } => {
                let ExprKind::QualifiedReference(type_name) = &left.kind else {
                    return;
                };
                let type_name = normalize(type_name);
                // Classes are granule/unresolved-class's; the others are no
                // resources a manifest declares.
                if matches!(type_name.as_str(), "class" | "stage" | "resource" | "node") {
                    return;
                }
                for key in keys {
                    for title in literal_strings(key).unwrap_or_default() {
                        self.references.push(Reference {
                            type_name: type_name.clone(),
                            title,
                            location: self.file.location(expr.span),
                            used_as: used_as.to_string(),
                            unit: self.unit.clone(),
                        });
                    }
                }
            }
            _ => {}
        }
    }
}

/// A resource expression's type, as Puppet looks it up.
fn type_of(type_name: &Expr) -> Option<String> {
    match &type_name.kind {
        ExprKind::QualifiedName(name) | ExprKind::QualifiedReference(name) => Some(normalize(name)),
        _ => None,
    }
}

/// The strings a title (or an array of titles) names, when all are literal.
fn literal_strings(expr: &Expr) -> Option<Vec<String>> {
    match &expr.kind {
        ExprKind::Array(items) => {
            let mut all = Vec::new();
            for item in items {
                all.extend(literal_strings(item)?);
            }
            Some(all)
        }
        _ => literal_string(expr).map(|title| vec![title]),
    }
}

/// The arrow of a relationship operator.
fn arrow(op: BinaryOp) -> Option<&'static str> {
    match op {
        BinaryOp::Before => Some("->"),
        BinaryOp::Notify => Some("~>"),
        BinaryOp::Require => Some("<-"),
        BinaryOp::Subscribe => Some("<~"),
        _ => None,
    }
}
