//! The units of a monolith: the statements its entry point is made of
//! (class declarations, define instances, plain resources...), each with
//! the guards it stands under and the roles those guards select, and the
//! data its top scope computes.

use crate::extract::literal_string as literal;
use crate::index::{normalize, SourceFile};
use crate::model::{Location, Vertex};
use granule_parser::{BinaryOp, Expr, ExprKind, Span};
use std::collections::BTreeSet;

/// One statement of the entry point that becomes part of a task.
#[derive(Debug, Clone)]
pub struct Unit {
    /// Index into the file list of the analysis.
    pub file: usize,
    pub span: Span,
    pub location: Location,
    /// End of the statement, to find the edges written in it.
    pub end: (u32, u32),
    pub kind: UnitKind,
    /// Puppet expressions that must all hold for the statement to run, from
    /// the outermost guard in.
    pub guards: Vec<String>,
    /// The roles whose runs reach the statement; `None` for every role.
    pub roles: Option<BTreeSet<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnitKind {
    /// `include x`, `class { 'x': }`, `require x`, `contain x`.
    Class(String),
    /// `t { 'title': }` for a define or a custom type.
    Instance { type_name: String, title: String },
    /// A resource of a built-in type.
    Resource { type_name: String, title: String },
    /// Any other statement (a function call, a collector...), kept as is.
    Statement,
}

impl Unit {
    /// How the report and the plan file name the unit.
    pub fn label(&self) -> String {
        match &self.kind {
            UnitKind::Class(name) => format!("class {name}"),
            UnitKind::Instance { type_name, title } | UnitKind::Resource { type_name, title } => {
                Vertex::Resource {
                    type_name: type_name.clone(),
                    title: title.clone(),
                    scope: None,
                }
                .label()
            }
            UnitKind::Statement => format!("statement at {}", self.location),
        }
    }
}

/// What an entry point consists of, beside its units.
#[derive(Debug, Default)]
pub struct Monolith {
    pub units: Vec<Unit>,
    /// `$x = ...` of the top scope (and of node bodies, and of an entry
    /// class's body), in source order, with their guards: the globals.
    pub assignments: Vec<Assignment>,
    /// Parameters of an entry class: `(name, default source text)`.
    pub parameters: Vec<(String, Option<String>)>,
    /// Statements every task needs: resource defaults, definitions written
    /// in the entry file, collectors at the top.
    pub shared: Vec<Shared>,
    /// Relationship statements (`a -> b`), kept in the task of their ends
    /// when they share one.
    pub relationships: Vec<Unit>,
    /// The role values the guards name, in order of appearance.
    pub roles: Vec<String>,
    pub hazards: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Assignment {
    pub name: String,
    pub file: usize,
    pub span: Span,
    pub guards: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Shared {
    pub file: usize,
    pub span: Span,
    pub guards: Vec<String>,
    pub what: String,
}

/// Collects the units of `body` (statements of `file`, index `file_index`).
pub struct Collector<'a> {
    pub file: &'a SourceFile,
    pub file_index: usize,
    pub role_var: Option<&'a str>,
    pub monolith: &'a mut Monolith,
    /// Whether the statements are in a definition's body or node (their
    /// assignments are globals all the same).
    guards: Vec<String>,
    roles: Option<BTreeSet<String>>,
}

impl<'a> Collector<'a> {
    pub fn new(
        file: &'a SourceFile,
        file_index: usize,
        role_var: Option<&'a str>,
        monolith: &'a mut Monolith,
    ) -> Collector<'a> {
        Collector {
            file,
            file_index,
            role_var,
            monolith,
            guards: Vec::new(),
            roles: None,
        }
    }

    pub fn statements(&mut self, body: &Expr) {
        match &body.kind {
            ExprKind::Block(statements) => {
                for statement in statements {
                    self.statement(statement);
                }
            }
            _ => self.statement(body),
        }
    }

    fn text(&self, expr: &Expr) -> String {
        self.file.text(expr.span).to_string()
    }

    fn statement(&mut self, statement: &Expr) {
        match &statement.kind {
            ExprKind::Nop => {}
            ExprKind::Node(node) => {
                if let Some(body) = &node.body {
                    self.statements(body);
                }
            }
            ExprKind::If(conditional) | ExprKind::Unless(conditional) => {
                let test = self.text(&conditional.test);
                let positive = matches!(statement.kind, ExprKind::If(_));
                let (then_guard, else_guard) = if positive {
                    (format!("({test})"), format!("!({test})"))
                } else {
                    (format!("!({test})"), format!("({test})"))
                };
                let roles = self.roles_of_if(&conditional.test, positive);
                if let Some(then_branch) = &conditional.then_branch {
                    self.guarded(then_guard, roles.0, then_branch);
                }
                if let Some(else_branch) = &conditional.else_branch {
                    self.guarded(else_guard, roles.1, else_branch);
                }
            }
            ExprKind::Case { test, options } => {
                let test_text = self.text(test);
                let on_role = self.is_role_var(test);
                let literal_values: Vec<String> = options
                    .iter()
                    .flat_map(|option| &option.values)
                    .filter_map(literal)
                    .collect();
                if on_role {
                    for value in &literal_values {
                        if !self.monolith.roles.contains(value) {
                            self.monolith.roles.push(value.clone());
                        }
                    }
                }
                let others: Vec<String> = options
                    .iter()
                    .flat_map(|option| &option.values)
                    .filter(|value| !matches!(value.kind, ExprKind::Default))
                    .map(|value| self.text(value))
                    .collect();
                for option in options {
                    let is_default = option
                        .values
                        .iter()
                        .any(|value| matches!(value.kind, ExprKind::Default));
                    let guard = if is_default {
                        format!("!({test_text} in [{}])", others.join(", "))
                    } else {
                        option
                            .values
                            .iter()
                            .map(|value| match value.kind {
                                ExprKind::Regex(_) => {
                                    format!("({test_text} =~ {})", self.text(value))
                                }
                                _ => format!("({test_text} == {})", self.text(value)),
                            })
                            .collect::<Vec<_>>()
                            .join(" or ")
                    };
                    let roles = on_role.then(|| {
                        if is_default {
                            BTreeSet::from(["default".to_string()])
                        } else {
                            option.values.iter().filter_map(literal).collect()
                        }
                    });
                    if let Some(body) = &option.body {
                        self.guarded(guard, roles, body);
                    }
                }
            }
            ExprKind::Block(_) => self.statements(statement),
            ExprKind::Binary {
                op: BinaryOp::Assign,
                left,
                ..
            } => match &left.kind {
                ExprKind::Variable(name) => self.monolith.assignments.push(Assignment {
                    name: name.trim_start_matches("::").to_string(),
                    file: self.file_index,
                    span: statement.span,
                    guards: self.guards.clone(),
                }),
                _ => self.unit(statement, UnitKind::Statement),
            },
            ExprKind::Binary { op, .. }
                if matches!(
                    op,
                    BinaryOp::Before | BinaryOp::Notify | BinaryOp::Require | BinaryOp::Subscribe
                ) && only_stages(statement) =>
            {
                self.share(statement, "the order of run stages")
            }
            ExprKind::Binary { op, .. }
                if matches!(
                    op,
                    BinaryOp::Before | BinaryOp::Notify | BinaryOp::Require | BinaryOp::Subscribe
                ) && !declares_resources(statement) =>
            {
                let unit = self.make_unit(statement, UnitKind::Statement);
                self.monolith.relationships.push(unit);
            }
            ExprKind::Class(_)
            | ExprKind::Define(_)
            | ExprKind::Function(_)
            | ExprKind::TypeAlias { .. } => {
                self.share(statement, "a definition written in the entry file")
            }
            ExprKind::ResourceDefaults { type_ref, .. } => {
                let what = format!("resource defaults {}", self.text(type_ref));
                self.share(statement, &what)
            }
            ExprKind::Collect { .. } => {
                let what = format!("the collector {}", self.text(statement));
                self.share(statement, &what)
            }
            ExprKind::Call(call) => {
                let name = match &call.functor.kind {
                    ExprKind::QualifiedName(name) => normalize(name),
                    _ => String::new(),
                };
                let classes: Vec<String> =
                    if matches!(name.as_str(), "include" | "require" | "contain") {
                        call.args.iter().flat_map(class_names).collect()
                    } else {
                        Vec::new()
                    };
                match classes.as_slice() {
                    [class] => self.unit(statement, UnitKind::Class(class.clone())),
                    _ => self.unit(statement, UnitKind::Statement),
                }
            }
            ExprKind::Resource {
                type_name, bodies, ..
            } => {
                let type_name = match &type_name.kind {
                    ExprKind::QualifiedName(name) => normalize(name),
                    _ => String::new(),
                };
                let title = bodies
                    .first()
                    .map(|body| literal(&body.title).unwrap_or_else(|| self.text(&body.title)))
                    .unwrap_or_default();
                if type_name == "stage" {
                    let what = format!("the run stage {title}");
                    self.share(statement, &what);
                    return;
                }
                let kind = if type_name == "class" {
                    UnitKind::Class(normalize(&title))
                } else if crate::builtins::is_builtin_type(&type_name) {
                    UnitKind::Resource { type_name, title }
                } else {
                    UnitKind::Instance { type_name, title }
                };
                self.unit(statement, kind);
            }
            _ => self.unit(statement, UnitKind::Statement),
        }
    }

    fn guarded(&mut self, guard: String, roles: Option<BTreeSet<String>>, body: &Expr) {
        let outer_roles = self.roles.clone();
        if let Some(roles) = roles {
            self.roles = Some(match &outer_roles {
                Some(outer) => outer.intersection(&roles).cloned().collect(),
                None => roles,
            });
        }
        self.guards.push(guard);
        self.statements(body);
        self.guards.pop();
        self.roles = outer_roles;
    }

    /// For `if` on the role expression (`$role == 'x'`, `$role in [...]`):
    /// the roles of its branch and of its `else`.
    fn roles_of_if(
        &mut self,
        test: &Expr,
        positive: bool,
    ) -> (Option<BTreeSet<String>>, Option<BTreeSet<String>>) {
        let selected: Option<BTreeSet<String>> = match &test.kind {
            ExprKind::Binary {
                op: BinaryOp::Eq,
                left,
                right,
            } if self.is_role_var(left) => literal(right).map(|value| BTreeSet::from([value])),
            ExprKind::Binary {
                op: BinaryOp::In,
                left,
                right,
            } if self.is_role_var(left) => match &right.kind {
                ExprKind::Array(items) => Some(items.iter().filter_map(literal).collect()),
                _ => None,
            },
            _ => None,
        };
        let Some(selected) = selected else {
            return (None, None);
        };
        for role in &selected {
            if !self.monolith.roles.contains(role) {
                self.monolith.roles.push(role.clone());
            }
        }
        if positive {
            (Some(selected), None)
        } else {
            (None, Some(selected))
        }
    }

    fn is_role_var(&self, expr: &Expr) -> bool {
        let Some(role_var) = self.role_var else {
            return false;
        };
        let text = self.text(expr);
        let strip = |text: &str| text.replace("$::", "$").replace(' ', "");
        strip(&text) == strip(role_var)
    }

    fn make_unit(&self, statement: &Expr, kind: UnitKind) -> Unit {
        let location = self.file.location(statement.span);
        let end = self.file.location(Span {
            start: statement
                .span
                .end
                .saturating_sub(1)
                .max(statement.span.start),
            end: statement.span.end,
        });
        Unit {
            file: self.file_index,
            span: statement.span,
            location,
            end: (end.line, end.column),
            kind,
            guards: self.guards.clone(),
            roles: self.roles.clone(),
        }
    }

    fn unit(&mut self, statement: &Expr, kind: UnitKind) {
        let unit = self.make_unit(statement, kind);
        self.monolith.units.push(unit);
    }

    fn share(&mut self, statement: &Expr, what: &str) {
        self.monolith.shared.push(Shared {
            file: self.file_index,
            span: statement.span,
            guards: self.guards.clone(),
            what: what.to_string(),
        });
    }
}

/// Whether a relationship statement declares resources (then it is a unit
/// of its own, not only an ordering).
fn declares_resources(expr: &Expr) -> bool {
    match &expr.kind {
        ExprKind::Binary {
            op: BinaryOp::Before | BinaryOp::Notify | BinaryOp::Require | BinaryOp::Subscribe,
            left,
            right,
        } => declares_resources(left) || declares_resources(right),
        ExprKind::Resource { .. } => true,
        _ => false,
    }
}

/// Whether a relationship statement orders run stages only
/// (`Stage['pre'] -> Stage['main']`).
fn only_stages(expr: &Expr) -> bool {
    match &expr.kind {
        ExprKind::Binary {
            op: BinaryOp::Before | BinaryOp::Notify | BinaryOp::Require | BinaryOp::Subscribe,
            left,
            right,
        } => only_stages(left) && only_stages(right),
        ExprKind::Access { left, .. } => {
            matches!(&left.kind, ExprKind::QualifiedReference(name) if name.eq_ignore_ascii_case("stage"))
        }
        _ => false,
    }
}

/// The class names an argument of `include` names literally.
fn class_names(arg: &Expr) -> Vec<String> {
    match &arg.kind {
        ExprKind::Array(items) => items.iter().flat_map(class_names).collect(),
        _ => literal(arg)
            .map(|name| normalize(&name))
            .into_iter()
            .collect(),
    }
}
