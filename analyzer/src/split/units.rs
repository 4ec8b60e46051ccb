//! The units of a monolith: the statements its entry point is made of
//! (class declarations, define instances, plain resources...), each with
//! the typed guards it stands under, found through the wrapper classes the
//! split opens, and the data those scopes compute.

use super::eval::{Evaluator, Value};
use super::open::Opener;
use crate::extract::literal_string as literal;
use crate::hashing::{FastMap, FastSet};
use crate::index::{normalize, SourceFile};
use crate::model::{Location, Vertex};
use granule_parser::qualified::Qualified;
use granule_parser::visit::{for_each_child, Node};
use granule_parser::{BinaryOp, Expr, ExprKind, Span};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// The scope a statement is written in: the entry's top scope (and its
/// nodes), or the body of a class the split opened.
#[derive(Debug, Clone)]
pub struct Scope<'a> {
    /// The class opened; `None` for the entry's top scope.
    pub class: Option<String>,
    pub parent: Option<usize>,
    pub file: usize,
    /// Parameters with their defaults (evaluated in this scope).
    pub params: Vec<(String, Option<&'a Expr>)>,
    /// Arguments of the declaration that opened it (evaluated in the
    /// parent scope), under the declaration's guards.
    pub args: Vec<(String, &'a Expr)>,
    /// Guards of the declaration that opened it.
    pub guards: Vec<Guard<'a>>,
    /// `stage =>` of that declaration (or of the scope around it).
    pub stage: Option<String>,
    /// Where it was declared, and why it was opened.
    pub declared_at: Option<Location>,
    pub reason: String,
    /// What names its data (`render::data_key`, `render::global_name`):
    /// its class's name, shared by the class's other openings whose
    /// arguments are written alike (and read no data, or their parents'
    /// data is shared too); another opening's gets a number
    /// (`profile::base::2`), so that each role's arguments keep their own
    /// value. Set by `Collector::scope`.
    pub data_name: String,
    /// As `Unit::order`, where it is opened. Set by `Collector::scope`.
    pub order: usize,
}

impl Scope<'_> {
    /// How the report names it.
    pub fn label(&self) -> String {
        match &self.class {
            Some(class) => format!("class {class}"),
            None => "the top scope".to_string(),
        }
    }
}

/// A condition a statement stands under, as written.
#[derive(Debug, Clone)]
pub struct Guard<'a> {
    pub file: usize,
    pub scope: usize,
    pub kind: GuardKind<'a>,
}

#[derive(Debug, Clone)]
pub enum GuardKind<'a> {
    /// `if test` (holds) or its `else` / `unless test` (does not).
    If { test: &'a Expr, holds: bool },
    /// One `case` option: the test matches one of `values` and none of
    /// `earlier`, the options written before it (Puppet takes the first
    /// option that matches); for a `default` option, none of `others`.
    Case {
        test: &'a Expr,
        values: Vec<&'a Expr>,
        earlier: Vec<&'a Expr>,
        others: Vec<&'a Expr>,
        default: bool,
    },
}

impl<'a> Guard<'a> {
    /// The expressions it evaluates.
    pub fn exprs(&self) -> Vec<&'a Expr> {
        match &self.kind {
            GuardKind::If { test, .. } => vec![test],
            GuardKind::Case {
                test,
                values,
                earlier,
                others,
                ..
            } => std::iter::once(*test)
                .chain(values.iter().copied())
                .chain(earlier.iter().copied())
                .chain(others.iter().copied())
                .collect(),
        }
    }
}

/// A branch's condition as written: `if TEST`, `unless TEST` (also for
/// the `else` of an `if`), `case TEST: VALUES` or `case TEST: default`.
fn condition_text(source: &SourceFile, kind: &GuardKind) -> String {
    match kind {
        GuardKind::If { test, holds: true } => format!("if {}", source.text(test.span)),
        GuardKind::If { test, holds: false } => format!("unless {}", source.text(test.span)),
        GuardKind::Case {
            test,
            values,
            default,
            ..
        } => format!(
            "case {}: {}",
            source.text(test.span),
            case_option_text(source, values, *default)
        ),
    }
}

/// A `case` option's values as written, or `default`.
fn case_option_text(source: &SourceFile, values: &[&Expr], default: bool) -> String {
    if default {
        return "default".to_string();
    }
    values
        .iter()
        .map(|value| source.text(value.span))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The branches of an `if`, `unless` or `case` statement, each with the
/// condition it runs under.
pub fn branches(statement: &Expr) -> Vec<(GuardKind<'_>, &Expr)> {
    match &statement.kind {
        ExprKind::If(conditional) | ExprKind::Unless(conditional) => {
            let positive = matches!(statement.kind, ExprKind::If(_));
            let test = &conditional.test;
            let mut found = Vec::new();
            if let Some(then_branch) = &conditional.then_branch {
                found.push((
                    GuardKind::If {
                        test,
                        holds: positive,
                    },
                    then_branch,
                ));
            }
            if let Some(else_branch) = &conditional.else_branch {
                found.push((
                    GuardKind::If {
                        test,
                        holds: !positive,
                    },
                    else_branch,
                ));
            }
            found
        }
        ExprKind::Case { test, options } => {
            let others: Vec<&Expr> = options
                .iter()
                .flat_map(|option| &option.values)
                .filter(|value| !matches!(value.kind, ExprKind::Default))
                .collect();
            let mut earlier: Vec<&Expr> = Vec::new();
            options
                .iter()
                .filter_map(|option| {
                    let default = option
                        .values
                        .iter()
                        .any(|value| matches!(value.kind, ExprKind::Default));
                    let kind = GuardKind::Case {
                        test,
                        values: option.values.iter().collect(),
                        earlier: if default { Vec::new() } else { earlier.clone() },
                        others: others.clone(),
                        default,
                    };
                    earlier.extend(
                        option
                            .values
                            .iter()
                            .filter(|value| !matches!(value.kind, ExprKind::Default)),
                    );
                    option.body.as_ref().map(|body| (kind, body))
                })
                .collect()
        }
        _ => Vec::new(),
    }
}

/// One statement of the entry point (or of an opened class) that becomes
/// part of a task.
#[derive(Debug, Clone)]
pub struct Unit<'a> {
    /// Index into the file list of the analysis.
    pub file: usize,
    pub statement: &'a Expr,
    pub location: Location,
    /// End of the statement, to find the edges written in it.
    pub end: (u32, u32),
    pub kind: UnitKind,
    /// The guards it stands under, outermost first (those of the
    /// declarations that opened its scope included).
    pub guards: Vec<Guard<'a>>,
    pub scope: usize,
    /// The run stage it runs in: its own `stage =>`, or its scope's.
    pub stage: Option<String>,
    /// Whether `stage` comes from the scope (the statement itself cannot
    /// say it).
    pub inherits_stage: bool,
    /// The roles whose runs reach it (filled by the role evaluation).
    pub roles: BTreeSet<String>,
    /// Where Puppet evaluates it among what the walk records (units,
    /// relationships, shared statements, assignments and opened scopes
    /// alike), ascending.
    pub order: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnitKind {
    /// `include x`, `class { 'x': }`, `require x`, `contain x`.
    Class(String),
    /// `t { 'title': }` for a define or a custom type.
    Instance { type_name: String, title: String },
    /// A resource of a built-in type.
    Resource { type_name: String, title: String },
    /// Any other statement (a function call, a chain of resources...).
    Statement,
}

impl Unit<'_> {
    /// Whether no node applies both units: each stands in another branch
    /// of one `if` or `case` statement, evaluated once (in one scope).
    pub fn excludes(&self, other: &Unit) -> bool {
        self.guards.iter().any(|mine| {
            other.guards.iter().any(|theirs| {
                mine.scope == theirs.scope
                    && match (&mine.kind, &theirs.kind) {
                        (
                            GuardKind::If { test, holds },
                            GuardKind::If {
                                test: other_test,
                                holds: other_holds,
                            },
                        ) => std::ptr::eq(*test, *other_test) && holds != other_holds,
                        (
                            GuardKind::Case { test, values, .. },
                            GuardKind::Case {
                                test: other_test,
                                values: other_values,
                                ..
                            },
                        ) => {
                            // Puppet runs the first option that matches only.
                            std::ptr::eq(*test, *other_test)
                                && !values
                                    .iter()
                                    .map(|v| *v as *const Expr)
                                    .eq(other_values.iter().map(|v| *v as *const Expr))
                        }
                        _ => false,
                    }
            })
        })
    }

    pub fn span(&self) -> Span {
        self.statement.span
    }

    /// Whether its statement holds `location`.
    pub fn holds(&self, location: &crate::model::Location) -> bool {
        let at = (location.line, location.column);
        *self.location.file == *location.file
            && (self.location.line, self.location.column) <= at
            && at <= self.end
    }

    /// Whether a relationship to the class whose body holds it reaches it:
    /// every statement but a class declared otherwise than by `contain`.
    pub fn contained(&self) -> bool {
        match (&self.kind, &self.statement.kind) {
            (UnitKind::Class(_), ExprKind::Call(call)) => matches!(
                &call.functor.kind,
                ExprKind::QualifiedName(name) if normalize(name) == "contain"
            ),
            (UnitKind::Class(_), _) => false,
            _ => true,
        }
    }

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

/// A variable assigned in a scope, with the guards it stands under.
#[derive(Debug, Clone)]
pub struct Assignment<'a> {
    pub scope: usize,
    pub name: String,
    pub file: usize,
    pub statement: &'a Expr,
    pub value: &'a Expr,
    pub guards: Vec<Guard<'a>>,
    /// `$name[key] = value`: it changes the hash rather than setting it.
    pub indexed: bool,
    /// As `Unit::order`.
    pub order: usize,
}

/// What a shared statement is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SharedKind {
    /// Resource defaults and collectors: they act on the whole scope.
    ScopeWide,
    /// `stage { 'x': }` and their order.
    Stage,
    /// A class or define written in the walked code: copied where used.
    Definition(String),
}

#[derive(Debug, Clone)]
pub struct Shared<'a> {
    pub file: usize,
    pub statement: &'a Expr,
    pub guards: Vec<Guard<'a>>,
    pub scope: usize,
    pub what: String,
    pub kind: SharedKind,
    /// As `Unit::order`.
    pub order: usize,
}

/// What an entry point consists of.
#[derive(Debug, Default)]
pub struct Monolith<'a> {
    pub units: Vec<Unit<'a>>,
    pub scopes: Vec<Scope<'a>>,
    /// Written through `assign`, which keeps `names_set` too.
    assignments: Vec<Assignment<'a>>,
    /// Each scope's variables (its parameters, and what its assignments
    /// set), by name: asked for every variable each statement reads.
    names_set: FastMap<usize, FastSet<String>>,
    pub shared: Vec<Shared<'a>>,
    /// Relationship statements between references (`a -> b`): in the task
    /// of their ends when one holds them all, else carried by task order.
    pub relationships: Vec<Unit<'a>>,
    /// The role values the guards name, in order of appearance.
    pub role_values: Vec<String>,
    /// Classes the rule could have opened but did not, and why.
    pub kept: Vec<(String, String)>,
    pub hazards: Vec<String>,
    /// Class declarations whose class is named at run time (`include
    /// "role::${facts['role']}"`): kept whole, in one unit.
    pub computed: Vec<Computed>,
    /// `case` statements on an assumed expression with no option for its
    /// value: all their code is left out.
    pub unmatched: Vec<Unmatched>,
    /// Branches that hold on no role under the assumptions, left out
    /// before they were walked: each one's condition, and where it starts
    /// (as `Proposal::pruned` lists units).
    pub left_out: Vec<(String, crate::model::Location)>,
    /// Data computed from classes that declare more than data, with those
    /// classes (`render::class_bound`): each task reading it computes it.
    pub bound: std::collections::BTreeMap<super::render::DataVariable, BTreeSet<String>>,
    /// The entry class's data variables named as a top-scope variable
    /// the code reads (`$::use_syslog`) or a fact: the `globals` task and
    /// the tasks name them as an opened class's (`render::data_prefix`),
    /// or they would stand for that variable at a task's top scope.
    pub shadowing: BTreeSet<String>,
}

/// A `case` whose test `--assume` gives a value none of its options takes
/// (and that has no `default`): a misspelt value leaves out all its code.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Unmatched {
    pub location: crate::model::Location,
    /// Its test, as written.
    pub test: String,
    /// Its options, as written.
    pub options: Vec<String>,
}

/// A class declaration naming its class with an expression.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Computed {
    pub location: crate::model::Location,
    /// The statement as written, on one line.
    pub statement: String,
    /// What the name surely starts with (`role::`), empty when unknown.
    pub prefix: String,
}

impl Computed {
    /// The classes of the codebase the name may be: those starting with
    /// its known start (none when it has none).
    pub fn candidates(&self, analysis: &crate::analysis::Analysis) -> Vec<String> {
        if self.prefix.is_empty() {
            return Vec::new();
        }
        analysis
            .codebase
            .definitions
            .range(self.prefix.clone()..)
            .take_while(|(name, _)| name.starts_with(&self.prefix))
            .filter(|(_, definitions)| {
                definitions
                    .iter()
                    .any(|d| d.kind == crate::model::DefinitionKind::Class)
            })
            .map(|(name, _)| name.clone())
            .collect()
    }

    /// What to do about it, for people.
    pub fn advice(&self, analysis: &crate::analysis::Analysis) -> String {
        let entries: Vec<String> = self
            .candidates(analysis)
            .iter()
            .map(|class| format!("--entry {class}"))
            .collect();
        let entries = if entries.is_empty() {
            String::new()
        } else {
            format!(": {}", entries.join(" "))
        };
        format!(
            "the class is named when Puppet runs, so granule keeps the statement whole, in \
             one task, and splits nothing it declares; to split them, give each class it may \
             name as an --entry, each then a role{entries}"
        )
    }
}

impl<'a> Monolith<'a> {
    /// The copied relationship statement (`a -> b`) holding `location`, by
    /// index.
    pub fn relationship_at(&self, location: &crate::model::Location) -> Option<usize> {
        self.relationships
            .iter()
            .position(|statement| statement.holds(location))
    }

    /// Every unit whose statement holds `location`: a class opened where
    /// the monolith declares it twice (under other guards) has its
    /// statements once per declaration.
    pub fn units_at<'l>(
        &'l self,
        location: &'l crate::model::Location,
    ) -> impl Iterator<Item = usize> + 'l {
        self.units
            .iter()
            .enumerate()
            .filter_map(move |(index, unit)| unit.holds(location).then_some(index))
    }

    /// Whether `scope` is `ancestor` or inside it.
    pub fn within(&self, scope: usize, ancestor: usize) -> bool {
        let mut at = Some(scope);
        while let Some(current) = at {
            if current == ancestor {
                return true;
            }
            at = self.scopes[current].parent;
        }
        false
    }

    /// The assignments of the entry and the opened classes, as written.
    pub fn assignments(&self) -> &[Assignment<'a>] {
        &self.assignments
    }

    fn assign(&mut self, assignment: Assignment<'a>) {
        self.names_set
            .entry(assignment.scope)
            .or_default()
            .insert(assignment.name.clone());
        self.assignments.push(assignment);
    }

    /// Adds a scope; its index.
    fn open(&mut self, scope: Scope<'a>) -> usize {
        let index = self.scopes.len();
        let names = self.names_set.entry(index).or_default();
        names.extend(scope.params.iter().map(|(name, _)| name.clone()));
        self.scopes.push(scope);
        index
    }

    /// Whether `scope` sets `name`: a parameter or an assignment.
    pub fn sets(&self, scope: usize, name: &str) -> bool {
        self.names_set
            .get(&scope)
            .is_some_and(|names| names.contains(name))
    }

    /// The scope opened for a class.
    pub fn scope_of_class(&self, class: &str) -> Option<usize> {
        self.scopes
            .iter()
            .position(|scope| scope.class.as_deref() == Some(class))
    }
}

/// Walks the statements of the entry and of the classes it opens.
pub struct Collector<'a, 'o> {
    pub files: &'a [SourceFile],
    pub role_var: Option<&'o str>,
    /// The roles given, and the assumptions: branches that hold on none
    /// of the roles are not walked (nor the classes they declare opened).
    pub roles: &'o [String],
    pub assumptions: &'o [(String, Value)],
    pub opener: &'o mut Opener<'a>,
    pub monolith: Monolith<'a>,
    guards: Vec<Guard<'a>>,
    file: usize,
    scope: usize,
}

impl<'a, 'o> Collector<'a, 'o> {
    pub fn new(
        files: &'a [SourceFile],
        role_var: Option<&'o str>,
        roles: &'o [String],
        assumptions: &'o [(String, Value)],
        opener: &'o mut Opener<'a>,
    ) -> Collector<'a, 'o> {
        Collector {
            files,
            role_var,
            roles,
            assumptions,
            opener,
            monolith: Monolith::default(),
            guards: Vec::new(),
            file: 0,
            scope: 0,
        }
    }

    /// Walks `body` as the code of a new scope.
    pub fn scope(&mut self, mut scope: Scope<'a>, body: Option<&'a Expr>) {
        scope.data_name = self.data_name(&scope);
        scope.order = self.walked();
        let file = scope.file;
        let index = self.monolith.open(scope);
        let (outer_file, outer_scope) = (self.file, self.scope);
        let outer_guards =
            std::mem::replace(&mut self.guards, self.monolith.scopes[index].guards.clone());
        self.file = file;
        self.scope = index;
        if let Some(body) = body {
            self.statements(body);
        }
        self.file = outer_file;
        self.scope = outer_scope;
        self.guards = outer_guards;
    }

    fn source(&self) -> &'a SourceFile {
        &self.files[self.file]
    }

    fn text(&self, expr: &Expr) -> String {
        self.source().text(expr.span).to_string()
    }

    fn statements(&mut self, body: &'a Expr) {
        match &body.kind {
            ExprKind::Block(statements) => {
                for statement in statements {
                    self.statement(statement);
                }
            }
            _ => self.statement(body),
        }
    }

    fn guard(&self, kind: GuardKind<'a>) -> Guard<'a> {
        Guard {
            file: self.file,
            scope: self.scope,
            kind,
        }
    }

    /// Walks the branches of an `if`, `unless` or `case` that may run,
    /// after leaving out every one that cannot: deciding whether a class
    /// opened in one branch may be opened must not count code a later
    /// branch declares that never runs (a `case` on the deployment mode).
    fn branches(&mut self, statement: &'a Expr) {
        let mut possible = Vec::new();
        for (kind, body) in branches(statement) {
            let guard = self.guard(kind);
            if self.may_hold(&guard) {
                possible.push((guard, body));
            } else {
                let source = self.source();
                let (start, end) = source.bounds(body.span);
                self.opener.prune(source.path.clone(), start, end);
                if !matches!(&body.kind, ExprKind::Nop)
                    && !matches!(&body.kind, ExprKind::Block(statements) if statements.is_empty())
                {
                    let condition = condition_text(source, &guard.kind);
                    self.monolith
                        .left_out
                        .push((condition, source.location(body.span)));
                }
            }
        }
        if let (ExprKind::Case { test, options }, true) = (&statement.kind, possible.is_empty()) {
            self.note_unmatched(test, options);
        }
        for (guard, body) in possible {
            self.guards.push(guard);
            self.statements(body);
            self.guards.pop();
        }
    }

    fn statement(&mut self, statement: &'a Expr) {
        self.note_role_values(statement);
        match &statement.kind {
            ExprKind::Nop => {}
            ExprKind::Node(node) => {
                if let Some(body) = &node.body {
                    self.statements(body);
                }
            }
            ExprKind::If(_) | ExprKind::Unless(_) | ExprKind::Case { .. } => {
                self.branches(statement)
            }
            ExprKind::Block(_) => self.statements(statement),
            ExprKind::Binary {
                op: BinaryOp::Assign,
                left,
                right,
            } => match &left.kind {
                ExprKind::Variable(name) => self.monolith.assign(Assignment {
                    scope: self.scope,
                    name: name.without_top().to_string(),
                    file: self.file,
                    statement,
                    value: right,
                    guards: self.guards.clone(),
                    indexed: false,
                    order: self.walked(),
                }),
                // Puppet 3's `$h['k'] = v` changes the hash in place: where
                // the scope sets `$h`, it changes data, so the `globals`
                // task runs it after the assignment, and every task reads
                // the hash as changed.
                _ => match indexed_variable(left)
                    .filter(|name| super::render::is_data(&self.monolith, self.scope, name))
                {
                    Some(name) => self.monolith.assign(Assignment {
                        scope: self.scope,
                        name: name.to_string(),
                        file: self.file,
                        statement,
                        value: right,
                        guards: self.guards.clone(),
                        indexed: true,
                        order: self.walked(),
                    }),
                    None => self.unit(statement, UnitKind::Statement, None),
                },
            },
            ExprKind::Binary { op, .. } if is_relationship(*op) => {
                if only_stages(statement) {
                    self.share(
                        statement,
                        "the order of run stages".into(),
                        SharedKind::Stage,
                    );
                } else if let Some(declared) = declared_classes(statement).first().cloned() {
                    let stage = stage_of(statement);
                    if declared_classes(statement).len() == 1
                        && self.open_class(&declared, statement, stage.clone())
                    {
                        return;
                    }
                    self.unit(statement, UnitKind::Class(self.resolve(&declared)), stage);
                } else if declares_resources(statement) {
                    self.unit(statement, UnitKind::Statement, None);
                } else {
                    let unit = self.make_unit(statement, UnitKind::Statement, None);
                    self.monolith.relationships.push(unit);
                }
            }
            ExprKind::Class(definition) | ExprKind::Define(definition) => {
                let name = normalize(&definition.name);
                let what = format!("the definition of {name} written in the walked code");
                self.share(statement, what, SharedKind::Definition(name));
            }
            ExprKind::Function(_) | ExprKind::TypeAlias { .. } => self.share(
                statement,
                "a definition written in the walked code".into(),
                SharedKind::ScopeWide,
            ),
            ExprKind::ResourceDefaults { type_ref, .. } => {
                let what = format!("resource defaults {}", self.text(type_ref));
                self.share(statement, what, SharedKind::ScopeWide)
            }
            ExprKind::Collect {
                type_expr, query, ..
            } => {
                let what = format!(
                    "the collector {} {}",
                    self.text(type_expr),
                    self.source().text(query.span)
                );
                self.share(statement, what, SharedKind::ScopeWide)
            }
            ExprKind::Call(call) => {
                // `include(x)`, or `x.include` (the receiver names the
                // classes).
                let (name, receiver) = match &call.functor.kind {
                    ExprKind::QualifiedName(name) => (normalize(name), None),
                    ExprKind::NamedAccess { left, right } => match &right.kind {
                        ExprKind::QualifiedName(name) => (normalize(name), Some(&**left)),
                        _ => (String::new(), None),
                    },
                    _ => (String::new(), None),
                };
                let naming: Vec<&Expr> = receiver.into_iter().chain(&call.args).collect();
                let declares = matches!(name.as_str(), "include" | "require" | "contain");
                let classes: Vec<String> = if declares {
                    naming.iter().flat_map(|arg| class_names(arg)).collect()
                } else {
                    Vec::new()
                };
                if declares {
                    self.note_computed(statement, &naming);
                } else if name == "hiera_include" {
                    // The classes a Hiera key lists: nothing known of them.
                    let location = self.source().location(statement.span);
                    self.monolith.computed.push(Computed {
                        location,
                        statement: crate::model::one_line(&self.text(statement)).into_owned(),
                        prefix: String::new(),
                    });
                }
                match classes.as_slice() {
                    [class] => {
                        if name != "require" && self.open_class(class, statement, None) {
                            return;
                        }
                        let class = self.resolve(class);
                        self.unit(statement, UnitKind::Class(class), None)
                    }
                    _ => self.unit(statement, UnitKind::Statement, None),
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
                    self.share(statement, what, SharedKind::Stage);
                    return;
                }
                let kind = if type_name == "class" {
                    let stage = stage_of(statement);
                    if bodies.len() == 1 && self.open_class(&title, statement, stage.clone()) {
                        return;
                    }
                    return self.unit(statement, UnitKind::Class(self.resolve(&title)), stage);
                } else if crate::builtins::is_builtin_type(&type_name) {
                    UnitKind::Resource { type_name, title }
                } else {
                    UnitKind::Instance { type_name, title }
                };
                self.unit(statement, kind, None);
            }
            _ => self.unit(statement, UnitKind::Statement, None),
        }
    }

    /// Whether a guard may hold on a run of one of the roles given (or,
    /// without roles, under the assumptions).
    /// A `case` on an assumed expression none of whose options holds.
    fn note_unmatched(&mut self, test: &Expr, options: &[granule_parser::CaseOption]) {
        let source = self.source();
        let text = source.text(test.span);
        if !self
            .assumptions
            .iter()
            .any(|(assumed, _)| same_expression(text, assumed))
        {
            return;
        }
        let location = source.location(test.span);
        if self
            .monolith
            .unmatched
            .iter()
            .any(|u| u.location == location)
        {
            return;
        }
        self.monolith.unmatched.push(Unmatched {
            location,
            test: text.to_string(),
            options: options
                .iter()
                .flat_map(|option| &option.values)
                .map(|value| source.text(value.span).to_string())
                .collect(),
        });
    }

    fn may_hold(&self, guard: &Guard<'a>) -> bool {
        let evaluator = Evaluator::new(self.files, &self.monolith, self.role_var, self.assumptions);
        if self.roles.is_empty() || self.role_var.is_none() {
            return evaluator.holds(guard, None) != Some(false);
        }
        self.roles
            .iter()
            .any(|role| evaluator.holds(guard, Some(role)) != Some(false))
    }

    /// The class a name written here declares (Puppet 3's relative names).
    fn resolve(&self, name: &str) -> String {
        let from = self.scope_vertex();
        self.opener
            .semantic
            .resolve_class(name, &from)
            .unwrap_or_else(|| normalize(name))
    }

    fn scope_vertex(&self) -> Vertex {
        match &self.monolith.scopes[self.scope].class {
            Some(class) => Vertex::class(class),
            None => Vertex::TopScope {
                file: self.source().path.clone(),
            },
        }
    }

    /// Opens the class a statement declares when the rule says so: walks its
    /// body as a new scope, its parameters bound to the statement's
    /// arguments. False when the class stays whole.
    fn open_class(&mut self, name: &str, statement: &'a Expr, stage: Option<String>) -> bool {
        let class = self.resolve(name);
        let opened: Vec<String> = self
            .monolith
            .scopes
            .iter()
            .filter_map(|scope| scope.class.clone())
            .collect();
        let decision = self.opener.decide(&class, &opened);
        let reason = match decision {
            Ok(reason) => reason,
            Err(Some(why)) => {
                if !self.monolith.kept.iter().any(|(c, _)| *c == class) {
                    self.monolith.kept.push((class, why));
                }
                return false;
            }
            Err(None) => return false,
        };
        let Some((file, definition)) = self.opener.definition(&class) else {
            return false;
        };
        let args = declaration_args(statement);
        let stage = stage.or_else(|| self.monolith.scopes[self.scope].stage.clone());
        let scope = Scope {
            class: Some(class),
            parent: Some(self.scope),
            file,
            params: definition
                .params
                .iter()
                .map(|param| (param.name.clone(), param.value.as_ref()))
                .collect(),
            args,
            guards: self.guards.clone(),
            stage,
            declared_at: Some(self.source().location(statement.span)),
            reason,
            data_name: String::new(),
            order: 0,
        };
        self.scope(scope, definition.body.as_ref());
        true
    }

    /// `Scope::data_name` of a scope about to be walked.
    fn data_name(&self, scope: &Scope<'a>) -> String {
        let Some(class) = &scope.class else {
            return String::new();
        };
        // The arguments as written, and where they may read data, whose
        // data that is.
        let signature = |scope: &Scope<'a>| {
            let parent = scope.parent.map(|at| &self.monolith.scopes[at]);
            let args: Vec<&str> = scope
                .args
                .iter()
                .map(|(_, arg)| parent.map_or("", |p| self.files[p.file].text(arg.span)))
                .collect();
            let reads = args.iter().any(|arg| arg.contains('$'));
            (args, parent.filter(|_| reads).map(|p| p.data_name.as_str()))
        };
        let mine = signature(scope);
        let mut names: Vec<&str> = Vec::new();
        for other in self
            .monolith
            .scopes
            .iter()
            .filter(|o| o.class == scope.class)
        {
            if signature(other) == mine {
                return other.data_name.clone();
            }
            if !names.contains(&other.data_name.as_str()) {
                names.push(&other.data_name);
            }
        }
        match names.len() {
            0 => class.clone(),
            taken => format!("{class}::{}", taken + 1),
        }
    }

    fn make_unit(&self, statement: &'a Expr, kind: UnitKind, stage: Option<String>) -> Unit<'a> {
        let file = self.source();
        let location = file.location(statement.span);
        let (_, end) = file.bounds(statement.span);
        let scope_stage = self.monolith.scopes[self.scope].stage.clone();
        let inherits_stage = stage.is_none() && scope_stage.is_some();
        Unit {
            file: self.file,
            statement,
            location,
            end,
            kind,
            guards: self.guards.clone(),
            scope: self.scope,
            stage: stage.or(scope_stage),
            inherits_stage,
            roles: BTreeSet::new(),
            order: self.walked(),
        }
    }

    /// How many statements and scopes the walk has recorded: `Unit::order`
    /// of the next.
    fn walked(&self) -> usize {
        let monolith = &self.monolith;
        monolith.units.len()
            + monolith.relationships.len()
            + monolith.shared.len()
            + monolith.assignments.len()
            + monolith.scopes.len()
    }

    fn unit(&mut self, statement: &'a Expr, kind: UnitKind, stage: Option<String>) {
        let unit = self.make_unit(statement, kind, stage);
        self.monolith.units.push(unit);
    }

    fn share(&mut self, statement: &'a Expr, what: String, kind: SharedKind) {
        let order = self.walked();
        self.monolith.shared.push(Shared {
            file: self.file,
            statement,
            guards: self.guards.clone(),
            scope: self.scope,
            what,
            kind,
            order,
        });
    }

    /// Records a class declaration whose arguments are not all literal
    /// class names, with the literal start of the first that is not.
    fn note_computed(&mut self, statement: &Expr, args: &[&Expr]) {
        let Some(computed) = args.iter().find(|arg| class_names(arg).is_empty()) else {
            return;
        };
        let text = self.text(computed);
        let prefix: String = text
            .trim_start_matches(['"', '\''])
            .chars()
            .take_while(|&c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
            .collect();
        let location = self.source().location(statement.span);
        self.monolith.computed.push(Computed {
            location,
            statement: crate::model::one_line(&self.text(statement)).into_owned(),
            prefix: normalize(&prefix),
        });
    }

    /// Records the literal values a statement compares the role
    /// expression with: the roles, when none are given.
    fn note_role_values(&mut self, statement: &Expr) {
        let Some(role_var) = self.role_var else {
            return;
        };
        let source = self.source();
        let mut found = Vec::new();
        role_values(statement, source, role_var, &mut found);
        for value in found {
            if !self.monolith.role_values.contains(&value) {
                self.monolith.role_values.push(value);
            }
        }
    }
}

/// Whether an expression is the role expression (`$::role`, `$role` and
/// `$::fuel_settings['role']` written with or without `::` and spaces).
pub fn is_role_expr(source: &SourceFile, expr: &Expr, role_var: &str) -> bool {
    same_expression(source.text(expr.span), role_var)
}

/// Whether two Puppet expressions are the same text, but for `$::` and
/// blanks.
pub fn same_expression(a: &str, b: &str) -> bool {
    // Compared as they are read (every guard of every unit is evaluated per
    // role): no copy of either.
    fn normalized(text: &str) -> impl Iterator<Item = char> + '_ {
        let mut skip = 0;
        text.char_indices().filter_map(move |(at, c)| {
            if skip > 0 {
                skip -= 1;
                return None;
            }
            if c == '$' && text[at + 1..].starts_with("::") {
                skip = 2;
            }
            match c {
                '"' => Some('\''),
                c if c.is_whitespace() => None,
                c => Some(c),
            }
        })
    }
    normalized(a).eq(normalized(b))
}

/// An expression given on the command line (`--assume`, `--role-var`)
/// that no manifest of the analysis writes: it decides nothing (a typo, or
/// code of another release).
#[derive(Debug, Clone, Serialize)]
pub struct Unwritten {
    pub expression: String,
    /// Expressions of its kind (a variable, an index into one...) that the
    /// manifests do write, for a suggestion.
    #[serde(skip)]
    pub written: Vec<String>,
}

/// `expression`, unless some expression of `files` matches it as the
/// split reads guards (`same_expression`).
pub fn unwritten(files: &[SourceFile], expression: &str) -> Option<Unwritten> {
    (!written_anywhere(files, expression)).then(|| Unwritten {
        expression: expression.to_string(),
        written: written_alike(files, expression),
    })
}

/// Every expression the split may compare with a given one: all but
/// literal strings, booleans and bare names (`Evaluator::eval`).
fn each_comparable<'f>(file: &'f SourceFile, found: &mut dyn FnMut(&'f Expr) -> bool) -> bool {
    fn walk<'f>(node: Node<'f>, found: &mut dyn FnMut(&'f Expr) -> bool) -> bool {
        if let Node::Expr(expr) = node {
            if !matches!(
                expr.kind,
                ExprKind::String(_) | ExprKind::Boolean(_) | ExprKind::QualifiedName(_)
            ) && found(expr)
            {
                return true;
            }
        }
        let mut stop = false;
        for_each_child(node, &mut |child| {
            stop = stop || walk(child, found);
        });
        stop
    }
    walk(Node::Expr(&file.program.body), found)
}

fn written_anywhere(files: &[SourceFile], assumed: &str) -> bool {
    // Whitespace, quotes and `$::` aside, the expression's longest name is
    // written as it is: only files holding it can write the expression.
    let needle = assumed
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .max_by_key(|part| part.len())
        .unwrap_or_default();
    files
        .iter()
        .filter(|file| file.source.contains(needle))
        .any(|file| {
            each_comparable(file, &mut |expr| {
                same_expression(file.text(expr.span), assumed)
            })
        })
}

/// The distinct expressions of the assumed one's kind the files write.
fn written_alike(files: &[SourceFile], assumed: &str) -> Vec<String> {
    let Ok(program) = granule_parser::parse(assumed) else {
        return Vec::new();
    };
    let kind = match &program.body.kind {
        ExprKind::Block(statements) => match statements.as_slice() {
            [only] => std::mem::discriminant(&only.kind),
            _ => return Vec::new(),
        },
        other => std::mem::discriminant(other),
    };
    let mut written = BTreeSet::new();
    for file in files {
        each_comparable(file, &mut |expr| {
            if std::mem::discriminant(&expr.kind) == kind {
                written.insert(file.text(expr.span).to_string());
            }
            false
        });
    }
    written.into_iter().collect()
}

/// The literal values compared with the role expression in `expr` (not in
/// nested blocks: each statement is visited by the walk).
fn role_values(expr: &Expr, source: &SourceFile, role_var: &str, out: &mut Vec<String>) {
    let is_role = |e: &Expr| is_role_expr(source, e, role_var);
    match &expr.kind {
        ExprKind::Binary { op, left, right } => {
            match op {
                BinaryOp::Eq | BinaryOp::Ne if is_role(left) => out.extend(literal(right)),
                BinaryOp::Eq | BinaryOp::Ne if is_role(right) => out.extend(literal(left)),
                BinaryOp::In if is_role(left) => {
                    if let ExprKind::Array(items) = &right.kind {
                        out.extend(items.iter().filter_map(literal));
                    }
                }
                _ => {}
            }
            if !is_relationship(*op) && *op != BinaryOp::Assign {
                role_values(left, source, role_var, out);
                role_values(right, source, role_var, out);
            } else if *op == BinaryOp::Assign {
                role_values(right, source, role_var, out);
            }
        }
        ExprKind::Selector { left, entries } => {
            if is_role(left) {
                out.extend(entries.iter().filter_map(|entry| literal(&entry.matching)));
            }
            for entry in entries {
                role_values(&entry.value, source, role_var, out);
            }
        }
        ExprKind::Case { test, options } if is_role(test) => {
            out.extend(options.iter().flat_map(|o| &o.values).filter_map(literal));
        }
        ExprKind::If(conditional) | ExprKind::Unless(conditional) => {
            role_values(&conditional.test, source, role_var, out)
        }
        ExprKind::Call(call) => {
            if let (ExprKind::QualifiedName(name), [set, value]) =
                (&call.functor.kind, call.args.as_slice())
            {
                if name == "member" && super::eval::names_roles(source, set, role_var) {
                    out.extend(literal(value));
                }
            }
            for arg in &call.args {
                role_values(arg, source, role_var, out);
            }
        }
        ExprKind::Paren(inner) | ExprKind::Unary { expr: inner, .. } => {
            role_values(inner, source, role_var, out)
        }
        _ => {}
    }
}

fn is_relationship(op: BinaryOp) -> bool {
    matches!(
        op,
        BinaryOp::Before | BinaryOp::Notify | BinaryOp::Require | BinaryOp::Subscribe
    )
}

/// The arguments of a class declaration: `class { 'x': a => 1 }`'s
/// attributes (not its metaparameters).
fn declaration_args(statement: &Expr) -> Vec<(String, &Expr)> {
    match &statement.kind {
        ExprKind::Resource { bodies, .. } => bodies
            .iter()
            .flat_map(|body| &body.ops)
            .filter_map(|op| match op {
                granule_parser::AttributeOp::Set { name, value, .. } if !is_metaparameter(name) => {
                    Some((name.clone(), value))
                }
                _ => None,
            })
            .collect(),
        ExprKind::Binary { left, right, .. } => {
            let mut args = declaration_args(left);
            args.extend(declaration_args(right));
            args
        }
        _ => Vec::new(),
    }
}

pub fn is_metaparameter(name: &str) -> bool {
    matches!(
        name,
        "stage"
            | "require"
            | "before"
            | "notify"
            | "subscribe"
            | "tag"
            | "alias"
            | "audit"
            | "loglevel"
            | "noop"
            | "schedule"
    )
}

/// `stage => 'x'` of a class declaration.
fn stage_of(statement: &Expr) -> Option<String> {
    match &statement.kind {
        ExprKind::Resource { bodies, .. } => {
            bodies
                .iter()
                .flat_map(|body| &body.ops)
                .find_map(|op| match op {
                    granule_parser::AttributeOp::Set { name, value, .. } if name == "stage" => {
                        literal(value)
                    }
                    _ => None,
                })
        }
        ExprKind::Binary { left, right, .. } => stage_of(left).or_else(|| stage_of(right)),
        _ => None,
    }
}

/// The classes a statement declares with `class { 'x': }` (also inside a
/// chain of relationships).
fn declared_classes(statement: &Expr) -> Vec<String> {
    match &statement.kind {
        ExprKind::Resource {
            type_name, bodies, ..
        } if matches!(&type_name.kind, ExprKind::QualifiedName(n) if n == "class") => {
            bodies.iter().filter_map(|b| literal(&b.title)).collect()
        }
        ExprKind::Binary { op, left, right } if is_relationship(*op) => {
            let mut classes = declared_classes(left);
            classes.extend(declared_classes(right));
            classes
        }
        _ => Vec::new(),
    }
}

/// Whether a relationship statement declares resources (then it is a unit
/// of its own, not only an ordering).
fn declares_resources(expr: &Expr) -> bool {
    match &expr.kind {
        ExprKind::Binary { op, left, right } if is_relationship(*op) => {
            declares_resources(left) || declares_resources(right)
        }
        ExprKind::Resource { .. } => true,
        _ => false,
    }
}

/// Whether a relationship statement orders run stages only
/// (`Stage['pre'] -> Stage['main']`, `stage { 'a': } -> stage { 'b': }`).
fn only_stages(expr: &Expr) -> bool {
    match &expr.kind {
        ExprKind::Binary { op, left, right } if is_relationship(*op) => {
            only_stages(left) && only_stages(right)
        }
        ExprKind::Access { left, .. } => {
            matches!(&left.kind, ExprKind::QualifiedReference(name) if name.eq_ignore_ascii_case("stage"))
        }
        ExprKind::Resource { type_name, .. } => {
            matches!(&type_name.kind, ExprKind::QualifiedName(name) if name == "stage")
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

/// The variable `$name[key]` indexes, for an assignment's left side.
fn indexed_variable(left: &Expr) -> Option<&str> {
    let ExprKind::Access { left: target, .. } = &left.kind else {
        return None;
    };
    match &target.kind {
        ExprKind::Variable(name) => Some(name.without_top()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::same_expression;

    #[test]
    fn expressions_compare_without_top_scope_colons_blanks_or_quote_style() {
        assert!(same_expression(
            "$::fuel_settings['role']",
            "$fuel_settings[ 'role' ]"
        ));
        assert!(same_expression("$::role", "$role"));
        assert!(same_expression("$x[\"a\"]", "$x['a']"));
        assert!(!same_expression("$:x", "$x"));
        assert!(!same_expression("$x", "$y"));
        assert!(!same_expression("$x", "$xy"));
    }
}

/// A `case` whose options declare classes or instances, decided by no role
/// and no `--assume` (Fuel's `case $::fuel_settings['deployment_mode']`):
/// every option's code is split, and tasks mix options that never run on
/// one node.
#[derive(Debug, Clone, Serialize)]
pub struct Undecided {
    /// Where its test is written.
    pub location: Location,
    pub test: String,
    /// The options under which the split code stands (`default` for the
    /// default branch).
    pub options: Vec<String>,
}

/// The `case` statements of the entry manifests (`entry_files`) `units`
/// stand under that `truths` (per unit, per guard, per role) leave
/// undecided on every role, where two options or more declare classes or
/// instances. (A class's own `case`, on its parameters, is decided by the
/// data at run time, in each task as in the monolith.)
pub fn undecided_cases(
    files: &[SourceFile],
    entry_files: &FastSet<usize>,
    units: &[Unit],
    truths: &[Vec<Vec<Option<bool>>>],
) -> Vec<Undecided> {
    let mut options: BTreeMap<(usize, u32), (Location, String, BTreeSet<String>)> = BTreeMap::new();
    for (unit, truth) in units.iter().zip(truths) {
        if !matches!(unit.kind, UnitKind::Class(_) | UnitKind::Instance { .. }) {
            continue;
        }
        for (guard, per_role) in unit.guards.iter().zip(truth) {
            let GuardKind::Case {
                test,
                values,
                default,
                ..
            } = &guard.kind
            else {
                continue;
            };
            if !entry_files.contains(&guard.file) || per_role.iter().any(Option::is_some) {
                continue;
            }
            let file = &files[guard.file];
            let option = case_option_text(file, values, *default);
            options
                .entry((guard.file, test.span.start))
                .or_insert_with(|| {
                    (
                        file.location(test.span),
                        file.text(test.span).to_string(),
                        BTreeSet::new(),
                    )
                })
                .2
                .insert(option);
        }
    }
    options
        .into_values()
        .filter(|(_, _, options)| options.len() > 1)
        .map(|(location, test, options)| Undecided {
            location,
            test,
            options: options.into_iter().collect(),
        })
        .collect()
}
