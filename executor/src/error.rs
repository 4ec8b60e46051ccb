//! Diagnostics: every problem names the file, line and column, the task,
//! what is wrong and what to do about it.

use crate::descriptor::Origin;
use std::fmt;
use std::path::{Path, PathBuf};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: Option<PathBuf>,
    /// Line and column, from 1.
    pub position: Option<(u32, u32)>,
    pub task: Option<String>,
    pub message: String,
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn new(file: &Path, message: impl Into<String>) -> Self {
        Diagnostic {
            file: Some(file.to_path_buf()),
            position: None,
            task: None,
            message: message.into(),
            help: None,
        }
    }

    /// A problem that belongs to no file (a command-line option, a plan).
    pub fn general(message: impl Into<String>) -> Self {
        Diagnostic {
            file: None,
            position: None,
            task: None,
            message: message.into(),
            help: None,
        }
    }

    pub fn at_origin(origin: &Origin, message: impl Into<String>) -> Self {
        Diagnostic::new(&origin.file, message).at(origin.line, origin.column)
    }

    pub fn at(mut self, line: u64, column: u64) -> Self {
        if line > 0 {
            let clamp = |n: u64| u32::try_from(n).unwrap_or(u32::MAX);
            self.position = Some((clamp(line), clamp(column)));
        }
        self
    }

    pub fn task(mut self, id: &str) -> Self {
        self.task = Some(id.to_string());
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "error: ")?;
        if let Some(file) = &self.file {
            write!(f, "{}", file.display())?;
            if let Some((line, column)) = self.position {
                write!(f, ":{line}:{column}")?;
            }
            write!(f, ": ")?;
        }
        if let Some(task) = &self.task {
            write!(f, "task `{task}`: ")?;
        }
        write!(f, "{}", self.message)?;
        if let Some(help) = &self.help {
            write!(f, "\n  help: {help}")?;
        }
        Ok(())
    }
}

/// A YAML error as one diagnostic: serde-saphyr's message without the source
/// snippet and the position it prints itself (the diagnostic prints its own).
pub fn yaml_error(file: &Path, err: &serde_saphyr::Error) -> Diagnostic {
    let rendered = err.to_string();
    let first = rendered.lines().next().unwrap_or("invalid YAML").trim();
    let message = first.trim_start_matches("error: ");
    let message = match message.strip_prefix("line ") {
        Some(rest) => rest
            .split_once(": ")
            .filter(|(position, _)| position.contains(" column "))
            .map_or(message, |(_, text)| text),
        None => message,
    };
    let diagnostic = Diagnostic::new(file, message);
    match err.location() {
        Some(location) => diagnostic.at(location.line(), location.column()),
        None => diagnostic,
    }
}

/// Several diagnostics, reported together.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.0.push(diagnostic);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn into_result<T>(self, value: T) -> Result<T, Diagnostics> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(self)
        }
    }
}

impl From<Diagnostic> for Diagnostics {
    fn from(diagnostic: Diagnostic) -> Self {
        Diagnostics(vec![diagnostic])
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, diagnostic) in self.0.iter().enumerate() {
            if index > 0 {
                writeln!(f)?;
            }
            write!(f, "{diagnostic}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}
