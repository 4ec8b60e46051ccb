//! The ported puppet-lint checks, one module each, and their registry in
//! the order puppet-lint runs (and reports) them.

use super::architecture::{Findings, Workspace};
use super::context::{Definition, Resource};
use super::fix::{Arena, Fix};
use super::tokens::Keyword;
use super::{module_doc, Context, Kind, Problems, Rule};

mod architecture;
mod line_length;
mod variable_name;

/// What a check looks at.
#[derive(Clone, Copy)]
pub enum Run {
    /// One file's tokens: puppet-lint's checks.
    File(fn(&Context, &mut Problems)),
    /// The whole codebase, analyzed: the architecture checks.
    Codebase(fn(&Workspace, &mut Findings)),
}

/// A registered check: its name, grade, whether puppet-lint enables it by
/// default, and its source (its `//!` comment is its documentation).
pub struct Check {
    pub name: &'static str,
    pub kind: Kind,
    pub enabled_by_default: bool,
    source: &'static str,
    pub run: Run,
    /// puppet-lint's fix for the check's problems, if it has one: returns
    /// whether it changed anything (puppet-lint's `NoFix` is `false`).
    pub fix: Option<fn(&mut Arena, &Fix) -> bool>,
}

impl Rule for Check {
    fn name(&self) -> &'static str {
        self.name
    }

    fn doc(&self) -> String {
        module_doc(self.source)
    }

    fn check(&self, cx: &Context, out: &mut Problems) {
        if let Run::File(run) = self.run {
            run(cx, out)
        }
    }
}

impl Check {
    /// Whether the check runs on the whole codebase (an architecture check).
    pub fn on_codebase(&self) -> bool {
        matches!(self.run, Run::Codebase(_))
    }
}

/// `Run::File` for puppet-lint's checks, `Run::Codebase` for granule's.
macro_rules! runner {
    (file, $module:ident) => {
        Run::File($module::check)
    };
    (codebase, $module:ident) => {
        Run::Codebase($module::check)
    };
}

/// `Some(module::fix)` for checks marked `fix`, `None` for those marked `-`.
macro_rules! fixer {
    (fix, $module:ident) => {
        Some($module::fix)
    };
    (-, $module:ident) => {
        None
    };
}

macro_rules! checks {
    ($($module:ident $name:literal $file:literal $scope:ident $kind:ident $default:literal $fix:tt;)*) => {
        $(#[path = $file] mod $module;)*
        /// Every check: puppet-lint's in its order (its plugin files,
        /// sorted by path), then granule's architecture checks.
        pub static CHECKS: &[Check] = &[
            $(Check {
                name: $name,
                kind: Kind::$kind,
                enabled_by_default: $default,
                source: include_str!($file),
                run: runner!($scope, $module),
                fix: fixer!($fix, $module),
            },)*
        ];
    };
}

checks! {
    arrow_on_right_operand_line "arrow_on_right_operand_line" "arrow_on_right_operand_line.rs" file Warning true fix;
    autoloader_layout "autoloader_layout" "autoloader_layout.rs" file Error true -;
    class_inherits_from_params_class "class_inherits_from_params_class" "class_inherits_from_params_class.rs" file Warning false -;
    code_on_top_scope "code_on_top_scope" "code_on_top_scope.rs" file Warning false -;
    inherits_across_namespaces "inherits_across_namespaces" "inherits_across_namespaces.rs" file Warning true -;
    names_containing_dash "names_containing_dash" "names_containing_dash.rs" file Error true -;
    names_containing_uppercase "names_containing_uppercase" "names_containing_uppercase.rs" file Error true fix;
    nested_classes_or_defines "nested_classes_or_defines" "nested_classes_or_defines.rs" file Warning true -;
    parameter_order "parameter_order" "parameter_order.rs" file Warning true -;
    right_to_left_relationship "right_to_left_relationship" "right_to_left_relationship.rs" file Warning true -;
    variable_scope "variable_scope" "variable_scope.rs" file Warning true -;
    slash_comments "slash_comments" "slash_comments.rs" file Warning true fix;
    star_comments "star_comments" "star_comments.rs" file Warning true fix;
    case_without_default "case_without_default" "case_without_default.rs" file Warning true -;
    selector_inside_resource "selector_inside_resource" "selector_inside_resource.rs" file Warning true -;
    documentation "documentation" "documentation.rs" file Warning true -;
    unquoted_node_name "unquoted_node_name" "unquoted_node_name.rs" file Warning true fix;
    duplicate_params "duplicate_params" "duplicate_params.rs" file Error true -;
    ensure_first_param "ensure_first_param" "ensure_first_param.rs" file Warning true fix;
    ensure_not_symlink_target "ensure_not_symlink_target" "ensure_not_symlink_target.rs" file Warning true fix;
    file_mode "file_mode" "file_mode.rs" file Warning true fix;
    unquoted_file_mode "unquoted_file_mode" "unquoted_file_mode.rs" file Warning true fix;
    unquoted_resource_title "unquoted_resource_title" "unquoted_resource_title.rs" file Warning true fix;
    double_quoted_strings "double_quoted_strings" "double_quoted_strings.rs" file Warning true fix;
    only_variable_string "only_variable_string" "only_variable_string.rs" file Warning true fix;
    puppet_url_without_modules "puppet_url_without_modules" "puppet_url_without_modules.rs" file Warning true fix;
    quoted_booleans "quoted_booleans" "quoted_booleans.rs" file Warning false fix;
    single_quote_string_with_variables "single_quote_string_with_variables" "single_quote_string_with_variables.rs" file Error true -;
    variables_not_enclosed "variables_not_enclosed" "variables_not_enclosed.rs" file Warning true fix;
    variable_contains_dash "variable_contains_dash" "variable_contains_dash.rs" file Warning true -;
    variable_is_lowercase "variable_is_lowercase" "variable_is_lowercase.rs" file Warning true -;
    chars_140 "140chars" "140chars.rs" file Warning true -;
    soft_tabs_2sp "2sp_soft_tabs" "2sp_soft_tabs.rs" file Error true -;
    chars_80 "80chars" "80chars.rs" file Warning false -;
    arrow_alignment "arrow_alignment" "arrow_alignment.rs" file Warning true fix;
    hard_tabs "hard_tabs" "hard_tabs.rs" file Error true fix;
    trailing_whitespace "trailing_whitespace" "trailing_whitespace.rs" file Error true fix;
    legacy_facts "legacy_facts" "legacy_facts.rs" file Warning true fix;
    top_scope_facts "top_scope_facts" "top_scope_facts.rs" file Warning true fix;
    syntax_error "granule/syntax-error" "architecture/syntax_error.rs" codebase Error true -;
    unresolved_class "granule/unresolved-class" "architecture/unresolved_class.rs" codebase Error true -;
    unresolved_type "granule/unresolved-type" "architecture/unresolved_type.rs" codebase Error true -;
    dependency_cycle "granule/dependency-cycle" "architecture/dependency_cycle.rs" codebase Error true -;
    undeclared_module_dependency "granule/undeclared-module-dependency" "architecture/undeclared_module_dependency.rs" codebase Warning true -;
    duplicate_resource "granule/duplicate-resource" "architecture/duplicate_resource.rs" codebase Error true -;
    undeclared_resource "granule/undeclared-resource" "architecture/undeclared_resource.rs" codebase Error true -;
    unused_definition "granule/unused-definition" "architecture/unused_definition.rs" codebase Warning false -;
    puppet7_incompatible "granule/puppet7-incompatible" "architecture/puppet7_incompatible.rs" codebase Warning true -;
    cross_task_reference "granule/cross-task-reference" "architecture/cross_task_reference.rs" codebase Error true -;
    task_undefined_variable "granule/task-undefined-variable" "architecture/task_undefined_variable.rs" codebase Error true -;
    private_declaration "granule/private-declaration" "architecture/private_declaration.rs" codebase Error true -;
}

/// docs/rules.md: every check's documentation, in registry order.
pub fn rules_markdown() -> String {
    let mut out = String::from(
        "# Lint rules\n\n\
         Generated from the rules' doc comments (analyzer/src/lint/rules/); \
         `granule lint --explain NAME` prints the same text. Do not edit by \
         hand: run `UPDATE_RULES_DOC=1 cargo test -p granule-analyzer rules_doc`.\n",
    );
    for check in CHECKS {
        out.push_str(&format!("\n## {}\n\n", check.name));
        out.push_str(&check.doc());
    }
    out
}

/// The resource (`Class[app]`, `File[/etc/motd]`) a
/// granule/duplicate-resource problem finds declared twice.
pub fn duplicated_resource(message: &str) -> Option<&str> {
    duplicate_resource::subject(message)
}

/// The class a granule/cross-task-reference problem finds named by a task
/// and declared only by code no task applies.
pub fn class_declared_by_no_task(message: &str) -> Option<&str> {
    cross_task_reference::declared_by_no_task_class(message)
}

/// Whether a granule/task-undefined-variable problem finds a statement
/// reading a variable before the statement itself sets it (`if $x ==
/// undef { $x = ... }`): what the code it was copied from does too.
pub fn read_before_its_statement_sets_it(message: &str) -> bool {
    task_undefined_variable::read_before_its_statement_sets_it(message)
}

/// Whether `name` (without `$` or `::`) is a variable Puppet or Facter sets
/// in every catalog, at top scope.
pub fn is_builtin_or_core_fact(name: &str) -> bool {
    architecture::puppet_variables::is_builtin_or_core_fact(name)
}

pub fn find(name: &str) -> Option<&'static Check> {
    CHECKS.iter().find(|c| c.name == name)
}

pub fn kind_of(name: &str) -> Kind {
    find(name).map_or(Kind::Warning, |c| c.kind)
}

/// Checks puppet-lint 3 enables by default that are not ported yet.
pub const NOT_YET_PORTED: &[&str] = &[];

/// Checks puppet-lint can fix whose fix is not ported yet: `--fix` leaves
/// their problems for the user.
pub const FIX_NOT_YET_PORTED: &[&str] = &[];

/// "class" or "defined type", as puppet-lint names definitions in messages.
fn definition_kind_name(definition: &Definition) -> &'static str {
    if definition.kind == Keyword::Class {
        "class"
    } else {
        "defined type"
    }
}

/// Whether the resource's type (the word before its `{`) is one of `names`.
fn resource_type_is(cx: &Context, resource: &Resource, names: &[&str]) -> bool {
    resource
        .type_token
        .is_some_and(|t| names.contains(&cx.tokens.tokens[t].value.as_str()))
}

/// For each `file` and `concat` resource, the value tokens of its `mode`
/// attributes, in order (the two file mode checks look at the same ones).
fn file_modes<'a>(cx: &'a Context) -> impl Iterator<Item = Vec<usize>> + 'a {
    cx.resources()
        .iter()
        .filter(move |resource| resource_type_is(cx, resource, &["file", "concat"]))
        .map(move |resource| {
            resource
                .param_tokens
                .iter()
                .filter(|&&param| cx.tokens.tokens[param].value == "mode")
                .filter_map(|&param| attribute_value(cx, param))
                .collect()
        })
}

/// The value token of an attribute: the code token after its `=>`.
fn attribute_value(cx: &Context, name: usize) -> Option<usize> {
    cx.tokens.next_code(cx.tokens.next_code(name)?)
}
