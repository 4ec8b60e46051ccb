//! What the analyzer finds: definitions, the edges between the things Puppet
//! code declares, and findings about them. Plain data, serialized as the
//! JSON of `granule deps` (docs/formats.md).

use granule_parser::qualified::Qualified;
use serde::Serialize;
use std::fmt;
use std::sync::Arc;

/// A place in a source file; line and column are 1-based, the column counts
/// characters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Location {
    pub file: Arc<str>,
    pub line: u32,
    pub column: u32,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DefinitionKind {
    Class,
    Define,
    TypeAlias,
    Function,
    Node,
}

impl DefinitionKind {
    /// How people call it: `class`, `define`, `type alias`...
    pub fn describe(self) -> &'static str {
        match self {
            DefinitionKind::Class => "class",
            DefinitionKind::Define => "define",
            DefinitionKind::TypeAlias => "type alias",
            DefinitionKind::Function => "function",
            DefinitionKind::Node => "node",
        }
    }
}

/// A named definition: where it is, and in which module.
#[derive(Debug, Clone, Serialize)]
pub struct Definition {
    pub name: String,
    pub kind: DefinitionKind,
    /// `None` for definitions outside modules (`site.pp`).
    pub module: Option<String>,
    pub location: Location,
    /// Parameters of classes and defines, in order.
    pub params: Vec<String>,
    /// `inherits` parent of a class.
    pub parent: Option<String>,
}

/// One end of an edge.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Vertex {
    /// The top scope code of one file (`site.pp` outside any definition).
    TopScope {
        file: Arc<str>,
    },
    Class {
        name: String,
    },
    /// A defined type (`define`) or a resource type: built-in, custom
    /// (Ruby), or unknown when `resolved` is false on the edge.
    Type {
        name: String,
    },
    Node {
        name: String,
    },
    Function {
        name: String,
    },
    /// A resource: its type (lower case) and title, as written. A title
    /// that is an expression keeps its source text and is known only in
    /// the `scope` (the unit) that writes it: `$title` of two defines are
    /// different resources.
    Resource {
        type_name: String,
        title: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        scope: Option<String>,
    },
    /// A collector `Type <| query |>` (`<<| |>>` when `exported`), in the
    /// unit (`scope`) that writes it.
    Collector {
        type_name: String,
        query: String,
        exported: bool,
        scope: String,
    },
    /// A variable read from another scope (`$::x`, `$other::x`).
    Variable {
        name: String,
    },
    /// A Hiera key (`hiera('k')`, `lookup('k')`).
    LookupKey {
        key: String,
    },
    /// A run stage.
    Stage {
        name: String,
    },
    Module {
        name: String,
    },
}

/// An expression's source text on one line, for a label in a message: a
/// query or title written over several lines has its line breaks and
/// indentation as single spaces.
pub(crate) fn one_line(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains('\n') {
        text.split_whitespace().collect::<Vec<_>>().join(" ").into()
    } else {
        text.into()
    }
}

impl Vertex {
    pub fn class(name: &str) -> Vertex {
        Vertex::Class {
            name: name.to_string(),
        }
    }

    /// The name people use for it: `class keystone`, `File['/etc/x']`...
    pub fn label(&self) -> String {
        match self {
            Vertex::TopScope { file } => format!("top scope of {file}"),
            Vertex::Class { name } => format!("class {name}"),
            Vertex::Type { name } => name.clone(),
            Vertex::Node { name } => format!("node {name}"),
            Vertex::Function { name } => format!("function {name}"),
            Vertex::Resource {
                type_name, title, ..
            } => {
                format!("{}[{}]", capitalize(type_name), one_line(title))
            }
            Vertex::Collector {
                type_name,
                query,
                exported,
                ..
            } => {
                let (open, close) = if *exported {
                    ("<<|", "|>>")
                } else {
                    ("<|", "|>")
                };
                format!(
                    "{} {open} {} {close}",
                    capitalize(type_name),
                    one_line(query)
                )
            }
            Vertex::Variable { name } => format!("${name}"),
            Vertex::LookupKey { key } => format!("lookup({key})"),
            Vertex::Stage { name } => format!("Stage[{name}]"),
            Vertex::Module { name } => format!("module {name}"),
        }
    }
}

/// `file` as Puppet writes a type in a reference: `File`, `Mysql::Db`.
pub fn capitalize(type_name: &str) -> String {
    type_name
        .segments()
        .map(|segment| {
            let mut chars = segment.chars();
            match chars.next() {
                Some(first) => first.to_uppercase().chain(chars).collect(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join("::")
}

/// What an edge means. docs/analyzer.md says what each implies for ordering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EdgeKind {
    /// `include x`: declares class x, no ordering.
    Include,
    /// `require x` (the function): declares class x and orders it first.
    RequireClass,
    /// `contain x`: declares class x inside the declaring class.
    Contain,
    /// `class { 'x': ... }`: declares class x with parameters.
    DeclareClass,
    /// `class a inherits b`: b is evaluated first and a sees its scope (no
    /// ordering of their resources).
    Inherits,
    /// `t { 'title': }` for a defined or custom type t.
    Instantiate,
    /// `t { 'title': }`: the resource it declares.
    Declare,
    /// `@t { }` / `@@t { }`: a virtual or exported resource.
    DeclareVirtual,
    /// `realize(T['x'])` or a collector of virtual resources.
    Realize,
    /// `T <| query |>` used in code (realises and may override).
    Collect,
    /// `T { attr => v }`: resource defaults for a type, in this scope.
    Defaults,
    /// `T['x'] { attr => v }`: an override.
    Override,
    /// `a -> b`
    Before,
    /// `a ~> b`
    Notify,
    /// `a <- b` (b before a)
    RequireArrow,
    /// `a <~ b` (b notifies a)
    SubscribeArrow,
    /// `before => T['x']`
    BeforeParam,
    /// `require => T['x']`
    RequireParam,
    /// `notify => T['x']`
    NotifyParam,
    /// `subscribe => T['x']`
    SubscribeParam,
    /// `stage => 'x'`: the class runs in run stage x.
    InStage,
    /// `$::x` or `$other::x` read.
    ReadsVariable,
    /// `hiera('k')` / `lookup('k')` read.
    Lookup,
    /// A module uses another (aggregated).
    Uses,
}

impl EdgeKind {
    /// The kind's name, as the JSON says it (serde's `snake_case`).
    pub fn name(self) -> &'static str {
        use EdgeKind::*;
        match self {
            Include => "include",
            RequireClass => "require_class",
            Contain => "contain",
            DeclareClass => "declare_class",
            Inherits => "inherits",
            Instantiate => "instantiate",
            Declare => "declare",
            DeclareVirtual => "declare_virtual",
            Realize => "realize",
            Collect => "collect",
            Defaults => "defaults",
            Override => "override",
            Before => "before",
            Notify => "notify",
            RequireArrow => "require_arrow",
            SubscribeArrow => "subscribe_arrow",
            BeforeParam => "before_param",
            RequireParam => "require_param",
            NotifyParam => "notify_param",
            SubscribeParam => "subscribe_param",
            InStage => "in_stage",
            ReadsVariable => "reads_variable",
            Lookup => "lookup",
            Uses => "uses",
        }
    }

    /// Whether the edge declares the class it points to.
    pub fn declares_class(self) -> bool {
        matches!(
            self,
            EdgeKind::Include
                | EdgeKind::RequireClass
                | EdgeKind::Contain
                | EdgeKind::DeclareClass
                | EdgeKind::Inherits
        )
    }

    /// For an ordering edge: whether `from` runs first (`Some(true)`) or
    /// `to` does (`Some(false)`); `None` when the edge orders nothing.
    pub fn from_runs_first(self) -> Option<bool> {
        match self {
            EdgeKind::Before | EdgeKind::Notify | EdgeKind::BeforeParam | EdgeKind::NotifyParam => {
                Some(true)
            }
            EdgeKind::RequireArrow
            | EdgeKind::SubscribeArrow
            | EdgeKind::RequireParam
            | EdgeKind::SubscribeParam
            | EdgeKind::RequireClass => Some(false),
            _ => None,
        }
    }

    /// Whether the edge sends a refresh event (notify/subscribe).
    pub fn refreshes(self) -> bool {
        matches!(
            self,
            EdgeKind::Notify
                | EdgeKind::SubscribeArrow
                | EdgeKind::NotifyParam
                | EdgeKind::SubscribeParam
        )
    }
}

/// A dependency: `from` needs, declares, orders or reads `to`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Edge {
    pub from: Vertex,
    pub to: Vertex,
    pub kind: EdgeKind,
    /// Where the edge is written.
    pub location: Location,
    /// The `if`/`unless`/`case`/selector guards it stands under, innermost
    /// last, joined with ` and `; `None` when unconditional.
    pub condition: Option<String>,
    /// The class, define, node or top scope whose code holds the edge.
    pub unit: Vertex,
    /// False when `to` names a class or type defined nowhere.
    pub resolved: bool,
}

impl Edge {
    /// Its ends in the order Puppet applies them, for an ordering or a
    /// refresh (the end sending the refresh first); as written otherwise.
    pub fn in_run_order(&self) -> (&Vertex, &Vertex) {
        match self.kind.from_runs_first() {
            Some(false) => (&self.to, &self.from),
            _ => (&self.from, &self.to),
        }
    }
}

/// A value of a resource attribute, as far as it is known without
/// evaluating the code: a literal string (or number, or bare word), a list
/// of them, or something only a compiler knows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AttributeValue {
    Text(String),
    List(Vec<String>),
    /// A variable: the model may know the values it can take.
    Variable(String),
    Unknown,
}

/// A resource declaration (`t { 'title': attr => v }`, virtual or exported
/// too), with what collectors can match it by.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResourceDeclaration {
    /// The class, define, node or top scope whose code declares it.
    pub holder: Vertex,
    /// The resource, as edges name it.
    pub resource: Vertex,
    /// Lower case: `file`, `keystone_config`.
    pub type_name: String,
    /// The title when it is a literal.
    pub title: Option<String>,
    /// What is known of a title that is not a literal.
    pub title_shape: TitleShape,
    /// `@t` or `@@t`: in the catalog only once realised or collected.
    pub is_virtual: bool,
    /// Written under a guard that requires something not to be `defined`
    /// yet: a fallback that only takes effect where no other code declares
    /// the resource.
    pub fallback: bool,
    /// Created from a hash that may hold no entry (a define's
    /// `create_resources($name, $options)`, `$options` a parameter):
    /// perhaps there is no such resource at all.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub perhaps_absent: bool,
    /// Attributes with literal names, their values as far as they are known
    /// (a `default:` body's included).
    pub attributes: Vec<(String, AttributeValue)>,
    pub location: Location,
}

/// A define's `create_resources($type, ...)` whose type is a variable: each
/// instance declares resources of the type it gives (`oslo::log {
/// 'barbican_config': }` declares `Barbican_config` settings).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedResources {
    /// The define whose body calls `create_resources`.
    pub define: String,
    /// The parameter naming the type, when one does: an instance's
    /// argument for it decides.
    pub parameter: Option<String>,
    /// The type where no argument names it.
    pub default: CreatedType,
    /// The hash argument's source text: the created resources' title, as
    /// edges would name them.
    pub titles: String,
    /// Written where something is not yet `defined(...)`.
    pub fallback: bool,
    /// The hash may hold no entry.
    pub perhaps_absent: bool,
}

/// Where the type of resources created from a variable comes from, when an
/// instance gives no argument for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreatedType {
    /// The instance's title (`$name`, `$title`, or a parameter defaulting
    /// to one of them).
    Title,
    /// A parameter's literal default.
    Literal(String),
    Unknown,
}

/// The shape of a resource title that is an expression: a variable (whose
/// possible values the model can follow), or a string of literal pieces
/// and interpolations (which a value can only match piece by piece).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TitleShape {
    Literal,
    Variable(String),
    /// An interpolated string, piece by piece.
    Pattern(Vec<Piece>),
    Unknown,
}

/// A piece of an interpolated string: literal text, a variable, or
/// another expression.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Piece {
    Text(String),
    Variable(String),
    Unknown,
}

/// A collector's query (`Type <| query |>`) as a typed term.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Query {
    /// `<| |>`: every resource of the type.
    All,
    /// `attribute == 'value'` (`title`, `name`, `tag` or any attribute).
    Equals {
        attribute: String,
        value: String,
    },
    /// `attribute != 'value'`.
    NotEquals {
        attribute: String,
        value: String,
    },
    /// `attribute == $variable` or `attribute == "text ${variable}"`:
    /// variables as read in the collector's holder.
    EqualsPieces {
        attribute: String,
        pieces: Vec<Piece>,
    },
    And {
        left: Box<Query>,
        right: Box<Query>,
    },
    Or {
        left: Box<Query>,
        right: Box<Query>,
    },
    /// A comparison with something only a compiler knows (a variable, a
    /// function call): it may match anything.
    Unknown,
}

/// A collector written in code: what it collects, in which holder, under
/// which guards.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CollectorDeclaration {
    pub holder: Vertex,
    /// The collector, as edges name it.
    pub collector: Vertex,
    pub type_name: String,
    pub query: Query,
    /// Whether it sets attributes (`<| |> { attr => v }`).
    pub overrides: bool,
    /// Whether it sets one that is state on the node (anything but
    /// `tag`): applied again without the override, the resource loses it.
    pub overrides_state: bool,
    pub location: Location,
}

/// Something wrong or noteworthy the analysis found.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Finding {
    /// What kind of finding, such as [`SYNTAX_ERROR`].
    pub code: &'static str,
    pub message: String,
    pub location: Location,
}

/// The code of a finding for a syntax error (the rest of the file is
/// analysed).
pub const SYNTAX_ERROR: &str = "analyzer/syntax-error";

/// The codes of findings for a class, and for a resource type, defined
/// nowhere on the module path.
pub const UNRESOLVED_CLASS: &str = "analyzer/unresolved-class";
pub const UNRESOLVED_TYPE: &str = "analyzer/unresolved-type";

/// When a branch of a class's code runs, as far as the model can decide it:
/// a variable of the class taking one of some literal values (`$v == 'a'`,
/// `$v in ['a', 'b']`, a `case` option), combined with `!`, `and` and
/// `or`; anything else unknown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Test {
    /// The variable (a local name) is one of the values, lower case (Puppet
    /// compares strings without case).
    OneOf {
        variable: String,
        values: Vec<String>,
    },
    Not(Box<Test>),
    All(Vec<Test>),
    Any(Vec<Test>),
    Unknown,
}

impl Test {
    /// Whether it depends on a variable at all.
    pub fn names_a_variable(&self) -> bool {
        match self {
            Test::OneOf { .. } => true,
            Test::Not(inner) => inner.names_a_variable(),
            Test::All(parts) | Test::Any(parts) => parts.iter().any(Test::names_a_variable),
            Test::Unknown => false,
        }
    }

    /// Whether the test holds for no values the variables may take (`None`:
    /// it may hold), `values` giving each variable's possible values, every
    /// one of them (`None` where they are not all known). A variable may
    /// also be undef, which equals no literal the test names: `OneOf` is
    /// thus never known to hold, only not to.
    pub fn never_holds(&self, values: &mut impl FnMut(&str) -> Option<Vec<String>>) -> bool {
        self.truth(values) == Some(false)
    }

    fn truth(&self, values: &mut impl FnMut(&str) -> Option<Vec<String>>) -> Option<bool> {
        match self {
            Test::OneOf {
                variable,
                values: wanted,
            } => {
                let possible = values(variable)?;
                (!possible.iter().any(|value| wanted.contains(value))).then_some(false)
            }
            Test::Not(inner) => inner.truth(values).map(|truth| !truth),
            Test::All(parts) | Test::Any(parts) => {
                // `and` is decided by a part that fails, `or` by one that
                // holds; else by all of them.
                let decisive = matches!(self, Test::Any(_));
                let mut undecided = false;
                for part in parts {
                    match part.truth(values) {
                        Some(truth) if truth == decisive => return Some(decisive),
                        None => undecided = true,
                        Some(_) => {}
                    }
                }
                (!undecided).then_some(!decisive)
            }
            Test::Unknown => None,
        }
    }
}

/// A branch of a class's code (`if`, `unless`, `elsif`, `else`, a `case`
/// option) whose test the model can read, with where its body stands.
#[derive(Debug, Clone)]
pub struct Branch {
    pub class: String,
    pub test: Test,
    /// The test as written (`!(...)` for an `else`).
    pub text: String,
    /// The body's first and last character, as (line, column).
    pub start: Location,
    pub end: Location,
}

impl Branch {
    /// Whether `location` lies in the branch's body.
    pub fn contains(&self, location: &Location) -> bool {
        location.file == self.start.file
            && (self.start.line, self.start.column) <= (location.line, location.column)
            && (location.line, location.column) <= (self.end.line, self.end.column)
    }
}

#[cfg(test)]
mod tests {
    use super::EdgeKind;

    #[test]
    fn kind_names_are_the_json_names() {
        use EdgeKind::*;
        for kind in [
            Include,
            RequireClass,
            Contain,
            DeclareClass,
            Inherits,
            Instantiate,
            Declare,
            DeclareVirtual,
            Realize,
            Collect,
            Defaults,
            Override,
            Before,
            Notify,
            RequireArrow,
            SubscribeArrow,
            BeforeParam,
            RequireParam,
            NotifyParam,
            SubscribeParam,
            InStage,
            ReadsVariable,
            Lookup,
            Uses,
        ] {
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.name());
        }
    }
}
