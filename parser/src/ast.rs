//! The Puppet AST: plain data, one node kind per construct of Puppet's own
//! model (`Puppet::Pops::Model`), every node with its byte [`Span`].
//!
//! The tree keeps the *semantic* shape Puppet's parser produces, not the raw
//! syntax: `include foo` is a [`Call`], `Service ['x']` is whatever Puppet 7
//! makes of it, a title-less `foo { a => 1 }` becomes a name followed by a
//! hash. That is what makes the PN printer a plain walk, and it is what the
//! analyzer needs to see.

use crate::span::Span;

/// A parsed file: its statements (one expression, or a [`ExprKind::Block`]),
/// and the comments found in it, in source order.
#[derive(Debug, Clone, PartialEq)]
pub struct Program {
    pub body: Expr,
    pub comments: Vec<Comment>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    pub span: Span,
    pub style: CommentStyle,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommentStyle {
    /// `# ...` to the end of the line.
    Hash,
    /// `/* ... */`, possibly over several lines.
    Block,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

impl Expr {
    pub fn new(kind: ExprKind, span: Span) -> Expr {
        Expr { kind, span }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// An empty program, or an absent part Puppet keeps as a no-op.
    Nop,
    Undef,
    Default,
    Boolean(bool),
    /// An integer with the radix it was written in (8, 10 or 16).
    Integer {
        value: i128,
        radix: u8,
    },
    Float(f64),
    /// A string without interpolation (single-quoted, or double-quoted with
    /// no `$`), escapes already applied.
    String(String),
    /// A double-quoted string or heredoc with interpolation: literal
    /// [`ExprKind::String`] parts and [`ExprKind::Text`] expressions.
    Concat(Vec<Expr>),
    /// An expression interpolated into a string (`${...}` or `$var`).
    Text(Box<Expr>),
    Heredoc {
        /// The syntax tag after `:` in `@(END:json)`, empty when absent.
        syntax: String,
        text: Box<Expr>,
        /// The lines of its text and its end tag (without its line break),
        /// which follow the line the heredoc starts on: the expression's
        /// span is `@(...)` alone.
        body: Span,
    },
    /// The source of a `/regex/`, with `\/` already unescaped.
    Regex(String),
    /// A lower-case name (`foo`, `foo::bar`, `::top`).
    QualifiedName(String),
    /// A capitalised type or resource reference (`File`, `Foo::Bar`).
    QualifiedReference(String),
    /// `$name`: the name without the `$`.
    Variable(String),
    /// A variable whose name is another expression (only produced by
    /// interpolation of a number-like name such as `"${1.foo}"`).
    VariableOf(Box<Expr>),
    /// `private` and `attr`, words reserved for future use.
    Reserved(String),
    Array(Vec<Expr>),
    Hash(Vec<KeyedEntry>),
    /// `left[key, ...]`.
    Access {
        left: Box<Expr>,
        keys: Vec<Expr>,
    },
    /// `left.name` (the right side of a method call).
    NamedAccess {
        left: Box<Expr>,
        right: Box<Expr>,
    },
    Unary {
        op: UnaryOp,
        expr: Box<Expr>,
    },
    Binary {
        op: BinaryOp,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    Paren(Box<Expr>),
    /// `left ? { match => value, ... }`.
    Selector {
        left: Box<Expr>,
        entries: Vec<SelectorEntry>,
    },
    Call(Box<Call>),
    If(Box<Conditional>),
    Unless(Box<Conditional>),
    Case {
        test: Box<Expr>,
        options: Vec<CaseOption>,
    },
    Block(Vec<Expr>),
    Lambda(Box<Lambda>),
    Resource {
        type_name: Box<Expr>,
        bodies: Vec<ResourceBody>,
        form: ResourceForm,
    },
    ResourceDefaults {
        type_ref: Box<Expr>,
        ops: Vec<AttributeOp>,
        form: ResourceForm,
    },
    ResourceOverride {
        resources: Box<Expr>,
        ops: Vec<AttributeOp>,
        form: ResourceForm,
    },
    /// `Type <| query |> { ops }` and `Type <<| query |>> { ops }`.
    Collect {
        type_expr: Box<Expr>,
        query: Box<Query>,
        ops: Vec<AttributeOp>,
    },
    Class(Box<Definition>),
    Define(Box<Definition>),
    Function(Box<Definition>),
    Node(Box<NodeDefinition>),
    /// `type Name = TypeExpr`.
    TypeAlias {
        name: String,
        type_expr: Box<Expr>,
    },
    /// `type Pattern[...] = Target` (a type mapping).
    TypeMapping {
        type_expr: Box<Expr>,
        mapping: Box<Expr>,
    },
    /// `type Name inherits Parent { ... }`.
    TypeDefinition {
        name: String,
        parent: Option<String>,
        body: Option<Box<Expr>>,
    },
    /// An EPP template: its parameters, and its text and code.
    Epp(Box<Epp>),
    /// Literal template text in EPP.
    RenderString(String),
    /// `<%= expr %>` in EPP.
    RenderExpr(Box<Expr>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryOp {
    /// `!`
    Not,
    /// `-`
    Minus,
    /// `*` (splat: unfold an array into arguments or case values)
    Unfold,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Shl,
    Shr,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Match,
    NotMatch,
    In,
    And,
    Or,
    Assign,
    AddAssign,
    SubAssign,
    /// `->`
    Before,
    /// `~>`
    Notify,
    /// `<-`
    Require,
    /// `<~`
    Subscribe,
}

impl BinaryOp {
    /// The operator as Puppet writes it (and as PN names it).
    pub fn as_str(self) -> &'static str {
        use BinaryOp::*;
        match self {
            Add => "+",
            Sub => "-",
            Mul => "*",
            Div => "/",
            Mod => "%",
            Shl => "<<",
            Shr => ">>",
            Eq => "==",
            Ne => "!=",
            Lt => "<",
            Le => "<=",
            Gt => ">",
            Ge => ">=",
            Match => "=~",
            NotMatch => "!~",
            In => "in",
            And => "and",
            Or => "or",
            Assign => "=",
            AddAssign => "+=",
            SubAssign => "-=",
            Before => "->",
            Notify => "~>",
            Require => "<-",
            Subscribe => "<~",
        }
    }

    pub fn is_relationship(self) -> bool {
        matches!(
            self,
            BinaryOp::Before | BinaryOp::Notify | BinaryOp::Require | BinaryOp::Subscribe
        )
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct KeyedEntry {
    pub key: Expr,
    pub value: Expr,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SelectorEntry {
    pub matching: Expr,
    pub value: Expr,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallKind {
    /// `name(args)`, `name args` at statement level, `$x(args)`.
    Named,
    /// `receiver.name(args)`: the functor is a [`ExprKind::NamedAccess`].
    Method,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub kind: CallKind,
    pub functor: Expr,
    pub args: Vec<Expr>,
    pub lambda: Option<Expr>,
    /// Whether the call's value is used: false for a call standing as a
    /// statement (PN `invoke`), true inside an expression (PN `call`).
    pub rval_required: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Conditional {
    pub test: Expr,
    pub then_branch: Option<Expr>,
    pub else_branch: Option<Expr>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CaseOption {
    pub values: Vec<Expr>,
    pub body: Option<Expr>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Lambda {
    pub params: Vec<Parameter>,
    pub return_type: Option<Expr>,
    pub body: Option<Expr>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Parameter {
    pub name: String,
    pub type_expr: Option<Expr>,
    pub value: Option<Expr>,
    /// `*$rest`: captures the remaining arguments.
    pub captures_rest: bool,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceForm {
    Regular,
    /// `@type { ... }`
    Virtual,
    /// `@@type { ... }`
    Exported,
}

impl ResourceForm {
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceForm::Regular => "regular",
            ResourceForm::Virtual => "virtual",
            ResourceForm::Exported => "exported",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ResourceBody {
    pub title: Expr,
    pub ops: Vec<AttributeOp>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum AttributeOp {
    /// `name => value` or `name +> value`.
    Set {
        name: String,
        append: bool,
        value: Expr,
        span: Span,
    },
    /// `* => hash`.
    Splat { value: Expr, span: Span },
}

impl AttributeOp {
    pub fn span(&self) -> Span {
        match self {
            AttributeOp::Set { span, .. } | AttributeOp::Splat { span, .. } => *span,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// `<<| |>>` (exported resources) rather than `<| |>` (virtual).
    pub exported: bool,
    pub expr: Option<Expr>,
    pub span: Span,
}

/// A class, define or Puppet-language function.
#[derive(Debug, Clone, PartialEq)]
pub struct Definition {
    /// Fully qualified (nested classes get their enclosing class's prefix).
    pub name: String,
    pub name_span: Span,
    pub params: Vec<Parameter>,
    /// `inherits` parent of a class.
    pub parent: Option<String>,
    pub body: Option<Expr>,
    /// `>> Type` of a function.
    pub return_type: Option<Expr>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NodeDefinition {
    pub matches: Vec<Expr>,
    pub parent: Option<Expr>,
    pub body: Option<Expr>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Epp {
    /// `None` when the template declares no `<%- | ... | -%>` parameter list.
    pub params: Option<Vec<Parameter>>,
    pub body: Option<Expr>,
}
