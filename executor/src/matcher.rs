//! Names that Fuel lets authors write literally, as `*`, or as `/regex/`.

use regex::Regex;

#[derive(Clone, Debug)]
pub enum Matcher {
    Any,
    Exact(String),
    /// `/pattern/`, matched against the whole name.
    Pattern(Regex),
}

impl Matcher {
    pub fn parse(text: &str) -> Result<Matcher, String> {
        if text == "*" {
            return Ok(Matcher::Any);
        }
        if let Some(pattern) = text
            .strip_prefix('/')
            .and_then(|rest| rest.strip_suffix('/'))
            .filter(|_| text.len() >= 2)
        {
            return Regex::new(&format!("^(?:{pattern})$"))
                .map(Matcher::Pattern)
                .map_err(|err| format!("invalid regular expression `{text}`: {err}"));
        }
        Ok(Matcher::Exact(text.to_string()))
    }

    pub fn matches(&self, name: &str) -> bool {
        match self {
            Matcher::Any => true,
            Matcher::Exact(exact) => exact == name,
            Matcher::Pattern(regex) => regex.is_match(name),
        }
    }

    pub fn exact(&self) -> Option<&str> {
        match self {
            Matcher::Exact(name) => Some(name),
            _ => None,
        }
    }
}

impl std::fmt::Display for Matcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Matcher::Any => write!(f, "*"),
            Matcher::Exact(name) => write!(f, "{name}"),
            Matcher::Pattern(regex) => {
                let source = regex.as_str();
                write!(f, "/{}/", &source[4..source.len() - 2])
            }
        }
    }
}

/// The `role` of a cross-dependency: which nodes to look at.
#[derive(Clone, Debug)]
pub enum RoleSelector {
    /// `self`: the same node.
    SameNode,
    /// `*` or absent: every node.
    AnyNode,
    /// Nodes having one of these roles.
    Roles(Vec<Matcher>),
}

impl RoleSelector {
    pub fn parse(roles: Vec<String>) -> Result<RoleSelector, String> {
        if roles.is_empty() || roles.iter().any(|role| role == "*") {
            return Ok(RoleSelector::AnyNode);
        }
        if roles.len() == 1 && roles[0] == "self" {
            return Ok(RoleSelector::SameNode);
        }
        roles
            .iter()
            .map(|role| Matcher::parse(role))
            .collect::<Result<_, _>>()
            .map(RoleSelector::Roles)
    }
}
