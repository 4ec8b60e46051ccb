//! Classes, defines, functions, nodes, type aliases and mappings: where they
//! may appear (only at top level or in a class), their names, their
//! parameters, and how their bodies may end.

use super::labels::a_an_uc;
use super::{locate, names, Checker, Container};
use crate::ast::{Definition, Epp, Expr, ExprKind, Lambda, NodeDefinition, Parameter};
use crate::visit::Node;
use std::collections::HashSet;

impl Checker<'_> {
    pub(super) fn check_class_or_define(&mut self, expr: &Expr, def: &Definition) {
        self.check_named_definition(expr, &def.name);
        self.check_no_captures_rest(&def.params, expr);
        self.check_unique_parameters(&def.params);
        self.check_reserved_parameters(&def.params, expr);
        self.check_no_idem_last(expr, def.body.as_ref());
    }

    pub(super) fn check_function(&mut self, expr: &Expr, def: &Definition) {
        self.check_named_definition(expr, &def.name);
        if let Some(return_type) = &def.return_type {
            self.check_type_ref(expr, return_type);
        }
        self.check_unique_parameters(&def.params);
    }

    pub(super) fn check_lambda(&mut self, expr: &Expr, lambda: &Lambda) {
        self.check_captures_rest_last(&lambda.params);
        if let Some(return_type) = &lambda.return_type {
            self.check_type_ref(expr, return_type);
        }
    }

    /// `*$rest` captures what is left: only the last parameter can.
    fn check_captures_rest_last(&mut self, params: &[Parameter]) {
        let last = params.len().saturating_sub(1);
        for (index, param) in params.iter().enumerate() {
            if param.captures_rest && index != last {
                self.report_parameter(
                    param,
                    "CAPTURES_REST_NOT_LAST",
                    format!(
                        "Parameter ${} is not last, and has 'captures rest'",
                        param.name
                    ),
                );
            }
        }
    }

    /// An EPP template is a lambda to Puppet (its parameters are checked as
    /// a lambda's), which cannot take `*$rest`.
    pub(super) fn check_epp(&mut self, epp: &Epp) {
        let Some(params) = &epp.params else {
            return;
        };
        self.check_captures_rest_last(params);
        for param in params.iter().filter(|p| p.captures_rest) {
            self.report_parameter(
                param,
                "CAPTURES_REST_NOT_SUPPORTED",
                format!(
                    "Parameter ${} has 'captures rest' - not supported in an Epp Template",
                    param.name
                ),
            );
        }
        self.check_unique_parameters(params);
    }

    pub(super) fn check_node(&mut self, expr: &Expr, node: &NodeDefinition) {
        for matcher in &node.matches {
            self.check_hostname(expr, matcher);
        }
        self.top(expr);
        self.check_no_idem_last(expr, node.body.as_ref());
        if let Some(parent) = &node.parent {
            self.error(
                parent,
                "ILLEGAL_NODE_INHERITANCE",
                "Node inheritance is not supported in Puppet >= 4.0.0. \
                 See http://links.puppet.com/puppet-node-inheritance-deprecation"
                    .into(),
            );
        }
    }

    /// A node matches host names: literal names without interpolation, or
    /// regular expressions, or `default`.
    fn check_hostname(&mut self, node: &Expr, matcher: &Expr) {
        match &matcher.kind {
            ExprKind::String(name)
            | ExprKind::QualifiedName(name)
            | ExprKind::QualifiedReference(name) => {
                if names::has_illegal_hostname_chars(name) {
                    self.error(
                        matcher,
                        "ILLEGAL_HOSTNAME_CHARS",
                        format!(
                            "The hostname '{name}' contains illegal characters (only letters, \
                             digits, '_', '-', and '.' are allowed)"
                        ),
                    );
                }
            }
            ExprKind::Integer { .. }
            | ExprKind::Float(_)
            | ExprKind::Boolean(_)
            | ExprKind::Default
            | ExprKind::Regex(_) => {}
            ExprKind::Concat(segments) => {
                let text = segments.iter().find_map(|s| match &s.kind {
                    ExprKind::Text(inner) => Some(&**inner),
                    _ => None,
                });
                let culprit = match text {
                    Some(inner) => Some(inner),
                    None if segments.len() != 1 => Some(matcher),
                    None => None,
                };
                if let Some(culprit) = culprit {
                    self.error(
                        culprit,
                        "ILLEGAL_HOSTNAME_INTERPOLATION",
                        "An interpolated expression is not allowed in a hostname of a node".into(),
                    );
                }
            }
            _ => self.illegal_expression(matcher, "hostname", node),
        }
    }

    /// `type Name = Type`.
    pub(super) fn check_type_alias(&mut self, expr: &Expr, name: &str, type_expr: &Expr) {
        self.top(expr);
        if !names::is_type_alias_name(name) {
            self.illegal_definition_name(expr, name);
        }
        self.check_reserved_type_name(expr, name);
        self.check_type_ref(expr, type_expr);
    }

    /// `type Runtime[...] = ...`: maps a runtime type to a Puppet type, or
    /// a pattern with replacement to a pattern with replacement.
    pub(super) fn check_type_mapping(&mut self, expr: &Expr, lhs: &Expr, mapping: &Expr) {
        self.top(expr);
        #[derive(PartialEq)]
        enum Lhs {
            NotRuntime,
            Runtime,
            RuntimePattern,
        }
        let lhs_type = match &lhs.kind {
            ExprKind::Access { left, keys } if matches!(&left.kind, ExprKind::QualifiedReference(n) if n == "Runtime") => {
                if keys.len() == 2 && is_pattern_with_replacement(&keys[1]) {
                    Lhs::RuntimePattern
                } else {
                    Lhs::Runtime
                }
            }
            _ => Lhs::NotRuntime,
        };
        let single = "Illegal type mapping. Expected a Type on the left side, got";
        let regexp = "Illegal type mapping. Expected a Tuple[Regexp,String] on the left side, got";
        let complaint = match lhs_type {
            Lhs::NotRuntime => return self.error(
                expr,
                "UNSUPPORTED_EXPRESSION",
                "Expressions of type a Type Mapping are not supported in this version of Puppet"
                    .into(),
            ),
            _ if is_pattern_with_replacement(mapping) => {
                (lhs_type == Lhs::Runtime).then_some(single)
            }
            _ if is_type_ref(mapping) => (lhs_type == Lhs::RuntimePattern).then_some(regexp),
            Lhs::Runtime => Some(single),
            Lhs::RuntimePattern => Some(regexp),
        };
        if let Some(text) = complaint {
            let message = format!("{text} {}", a_an_uc(expr));
            self.error(expr, "ILLEGAL_TYPE_MAPPING", message);
        }
    }

    /// `type Name { ... }` is reserved syntax Puppet 7 does not support.
    pub(super) fn check_type_definition(&mut self, expr: &Expr, name: &str) {
        self.top(expr);
        self.check_reserved_type_name(expr, name);
        self.error(
            expr,
            "UNSUPPORTED_EXPRESSION",
            "Expressions of type a Type Definition are not supported in this version of Puppet"
                .into(),
        );
    }

    pub(super) fn check_parameter(&mut self, param: &Parameter) {
        if names::is_numeric_param_name(&param.name) {
            self.report_parameter(
                param,
                "ILLEGAL_NUMERIC_PARAMETER",
                format!(
                    "The numeric parameter name '${}' cannot be used (clashes with numeric match \
                     result variables)",
                    param.name
                ),
            );
        }
        if !names::is_param_name(&param.name) {
            self.report_parameter(
                param,
                "ILLEGAL_PARAM_NAME",
                format!(
                    "Illegal parameter name. The given name '{}' does not conform to the naming \
                     rule /^[a-z_]\\w*$/",
                    param.name
                ),
            );
        }
        if let Some(value) = &param.value {
            self.check_no_assignment(Node::Expr(value));
        }
    }

    /// Class, define and function: where it is, and its name.
    fn check_named_definition(&mut self, expr: &Expr, name: &str) {
        self.top(expr);
        if !names::is_definition_name(name) {
            self.illegal_definition_name(expr, name);
        }
        self.check_reserved_type_name(expr, name);
        if names::is_future_reserved_word(name) {
            self.future_reserved_word(expr, name);
        }
    }

    /// Checker4_0's `top`: a definition must be at top level or directly in
    /// a class body; functions and types only at top level.
    fn top(&mut self, definition: &Expr) {
        let absolute_only = matches!(
            definition.kind,
            ExprKind::Function(_) | ExprKind::TypeAlias { .. } | ExprKind::TypeDefinition { .. }
        );
        let mut index = self.path.len();
        while index > 0 {
            match self.path[index - 1] {
                Container::Program | Container::Class => return,
                Container::Block => {
                    let in_program = index >= 2 && self.path[index - 2] == Container::Program;
                    if !in_program && absolute_only {
                        let message = format!("{} may only appear at toplevel", a_an_uc(definition));
                        return self.error(definition, "NOT_ABSOLUTE_TOP_LEVEL", message);
                    }
                    index -= 1;
                }
                _ => {
                    return self.error(
                        definition,
                        "NOT_TOP_LEVEL",
                        "Classes, definitions, and nodes may only appear at toplevel or inside other classes"
                            .into(),
                    )
                }
            }
        }
    }

    /// A return type or alias target must be a type, possibly parameterized.
    fn check_type_ref(&mut self, definition: &Expr, type_expr: &Expr) {
        let name = match &type_expr.kind {
            ExprKind::Access { left, .. } => &**left,
            _ => type_expr,
        };
        match &name.kind {
            ExprKind::QualifiedReference(name) => {
                let name = name.to_ascii_lowercase();
                if names::is_future_reserved_word(&name) {
                    self.future_reserved_word(type_expr, &name);
                }
            }
            _ => self.illegal_expression(type_expr, "a type reference", definition),
        }
    }

    fn check_unique_parameters(&mut self, params: &[Parameter]) {
        let mut seen = HashSet::with_capacity(params.len());
        for param in params {
            if !seen.insert(param.name.as_str()) {
                self.report_parameter(
                    param,
                    "DUPLICATE_PARAMETER",
                    format!(
                        "The parameter '{}' is declared more than once in the parameter list",
                        param.name
                    ),
                );
            }
        }
    }

    /// `$name` and `$title` are set by Puppet for every class and define.
    fn check_reserved_parameters(&mut self, params: &[Parameter], container: &Expr) {
        for param in params {
            if param.name == "name" || param.name == "title" {
                let message = format!(
                    "The parameter ${} redefines a built in parameter in the {}",
                    param.name,
                    super::labels::label(container)
                );
                self.report_parameter(param, "RESERVED_PARAMETER", message);
            }
        }
    }

    /// Classes and defines cannot take `*$rest`.
    fn check_no_captures_rest(&mut self, params: &[Parameter], container: &Expr) {
        for param in params.iter().filter(|p| p.captures_rest) {
            let message = format!(
                "Parameter ${} has 'captures rest' - not supported in {}",
                param.name,
                super::labels::a_an(container)
            );
            self.report_parameter(param, "CAPTURES_REST_NOT_SUPPORTED", message);
        }
    }

    fn check_reserved_type_name(&mut self, expr: &Expr, name: &str) {
        if names::is_reserved_type_name(name) {
            let message = format!(
                "The name: '{name}' is already defined by Puppet and can not be used as the name of {}.",
                super::labels::a_an(expr)
            );
            self.error(expr, "RESERVED_TYPE_NAME", message);
        }
    }

    fn illegal_definition_name(&mut self, expr: &Expr, name: &str) {
        let message = format!(
            "Unacceptable name. The name '{name}' is unacceptable as the name of {}",
            super::labels::a_an(expr)
        );
        self.error(expr, "ILLEGAL_DEFINITION_NAME", message);
    }

    fn future_reserved_word(&mut self, expr: &Expr, word: &str) {
        self.error(
            expr,
            "FUTURE_RESERVED_WORD",
            format!("Use of future reserved word: '{word}'"),
        );
    }

    fn report_parameter(&mut self, param: &Parameter, code: &'static str, message: String) {
        let at = locate::parameter_offset(param, self.source);
        self.report_at(at, param.span.end, code, message);
    }
}

/// `[/regex/, 'replacement']`
fn is_pattern_with_replacement(expr: &Expr) -> bool {
    matches!(&expr.kind, ExprKind::Array(v)
        if v.len() == 2
            && matches!(v[0].kind, ExprKind::Regex(_))
            && matches!(v[1].kind, ExprKind::String(_)))
}

/// `Type` or `Type[...]`
fn is_type_ref(expr: &Expr) -> bool {
    let name = match &expr.kind {
        ExprKind::Access { left, .. } => &**left,
        _ => expr,
    };
    matches!(name.kind, ExprKind::QualifiedReference(_))
}
