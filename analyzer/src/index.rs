//! The codebase: every manifest of the module path and the loose manifests,
//! parsed in parallel (Puppet 3 constructs read with their Puppet 3 meaning),
//! and the index of what they define.

use crate::model::{Definition, DefinitionKind, Finding, Location};
use crate::modulepath::{self, Module};
use granule_parser::qualified::Qualified;
use granule_parser::{
    parse_legacy_recovering, Diagnostic, ExprKind, LineIndex, Program, Span, SyntaxError,
};
use rayon::prelude::*;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One parsed manifest. Cloning it shares its text and tree: codebases
/// over one module path share its files (see [`ModuleCode`]).
#[derive(Clone)]
pub struct SourceFile {
    pub path: Arc<str>,
    /// Index into [`Codebase::modules`]; `None` for loose manifests.
    pub module: Option<usize>,
    pub source: Arc<str>,
    pub program: Arc<Program>,
    /// The Puppet 3 constructs the parser read with their Puppet 3 meaning.
    pub legacy: Arc<[Diagnostic]>,
    /// What did not parse, even read as Puppet 3 reads it.
    pub errors: Arc<[SyntaxError]>,
    lines: Arc<LineIndex>,
}

impl SourceFile {
    /// The line and column of the first and of the last character of
    /// `span` (what `Semantic::edges_between` takes).
    pub fn bounds(&self, span: Span) -> ((u32, u32), (u32, u32)) {
        let first = self.location(span);
        let last = self.location(Span {
            start: span.end.saturating_sub(1).max(span.start),
            end: span.end,
        });
        ((first.line, first.column), (last.line, last.column))
    }

    /// Where its lines start, to locate an offset.
    pub fn lines(&self) -> &LineIndex {
        &self.lines
    }

    pub fn location(&self, span: Span) -> Location {
        let (line, column) = self.lines.line_col(&self.source, span.start as usize);
        Location {
            file: self.path.clone(),
            line: line as u32,
            column: column as u32,
        }
    }

    /// The source text of `span`.
    pub fn text(&self, span: Span) -> &str {
        self.source
            .get(span.start as usize..span.end as usize)
            .unwrap_or("")
    }
}

/// Every manifest, and every definition by name.
pub struct Codebase {
    pub modules: Vec<Module>,
    pub files: Vec<SourceFile>,
    /// Definitions by name (a name may be defined more than once, or as a
    /// class and a define).
    pub definitions: BTreeMap<String, Vec<Definition>>,
    pub findings: Vec<Finding>,
    /// The file Puppet's autoloader reads for a class or define name, by
    /// that name (the first of a module path listing a module twice).
    autoloaded: HashMap<String, usize>,
}

/// The modules of a module path with their manifests parsed: what
/// codebases of several sets of loose manifests over the same module path
/// (a split and the check of what it wrote) share.
pub struct ModuleCode {
    pub modulepath: Vec<PathBuf>,
    pub modules: Vec<Module>,
    /// Each manifest with its syntax errors, in module order.
    pub files: Vec<(SourceFile, Vec<SyntaxError>)>,
}

impl ModuleCode {
    /// Parses the modules of `modulepath`.
    pub fn load(modulepath: &[PathBuf]) -> Result<ModuleCode, String> {
        let modules = modulepath::discover(modulepath)?;
        let mut inputs: Vec<(PathBuf, Option<usize>)> = Vec::new();
        for (index, module) in modules.iter().enumerate() {
            // Functions written in Puppet (`functions/*.pp`) declare classes
            // too.
            for dir in ["manifests", "functions"] {
                for file in modulepath::manifests_under(&module.root.join(dir)) {
                    inputs.push((file, Some(index)));
                }
            }
        }
        Ok(ModuleCode {
            modulepath: modulepath.to_vec(),
            modules,
            files: load_files(&inputs)?,
        })
    }
}

/// Parses `inputs` (each a path and its module) in parallel.
fn load_files(
    inputs: &[(PathBuf, Option<usize>)],
) -> Result<Vec<(SourceFile, Vec<SyntaxError>)>, String> {
    inputs
        .par_iter()
        .map(|(path, module)| load_file(path, *module))
        .collect()
}

impl Codebase {
    /// Parses the modules of `modulepath` and the `manifests` (files, or
    /// directories searched for `*.pp`).
    pub fn load(modulepath: &[PathBuf], manifests: &[PathBuf]) -> Result<Codebase, String> {
        Codebase::with_modules(&ModuleCode::load(modulepath)?, manifests)
    }

    /// The modules already parsed in `code` and the `manifests` (files, or
    /// directories searched for `*.pp`), parsed now.
    pub fn with_modules(code: &ModuleCode, manifests: &[PathBuf]) -> Result<Codebase, String> {
        let mut inputs: Vec<(PathBuf, Option<usize>)> = Vec::new();
        for manifest in manifests {
            if manifest.is_dir() {
                inputs.extend(
                    modulepath::manifests_under(manifest)
                        .into_iter()
                        .map(|f| (f, None)),
                );
            } else if manifest.is_file() {
                inputs.push((manifest.clone(), None));
            } else {
                return Err(format!("{}: no such file or directory", manifest.display()));
            }
        }
        let loaded = load_files(&inputs)?;
        let mut files = Vec::with_capacity(code.files.len() + loaded.len());
        let mut findings = Vec::new();
        let shared = code
            .files
            .iter()
            .map(|(file, errors)| (file.clone(), errors));
        for (file, errors) in
            shared.chain(loaded.iter().map(|(file, errors)| (file.clone(), errors)))
        {
            findings.extend(errors.iter().map(|error| Finding {
                code: crate::model::SYNTAX_ERROR,
                message: error.message.clone(),
                location: file.location(error.span),
            }));
            files.push(file);
        }
        let mut codebase = Codebase {
            modules: code.modules.clone(),
            files,
            definitions: BTreeMap::new(),
            findings,
            autoloaded: HashMap::new(),
        };
        codebase.index_definitions();
        Ok(codebase)
    }

    /// The definitions of `name` of `kind`.
    pub fn find(&self, name: &str, kind: DefinitionKind) -> Option<&Definition> {
        self.definitions.get(name)?.iter().find(|d| d.kind == kind)
    }

    /// The names of the classes defined, in order.
    pub fn class_names(&self) -> impl Iterator<Item = &String> {
        self.definitions
            .iter()
            .filter(|(_, definitions)| definitions.iter().any(|d| d.kind == DefinitionKind::Class))
            .map(|(name, _)| name)
    }

    /// The file Puppet's autoloader reads class or define `name` from
    /// (`mod::a::b` from `mod/manifests/a/b.pp`), when loaded: a name
    /// without a definition may stand in one that does not parse.
    pub fn autoloaded_file(&self, name: &str) -> Option<&SourceFile> {
        self.autoloaded.get(name).map(|&index| &self.files[index])
    }

    /// The module a file belongs to.
    pub fn module_of(&self, file: &SourceFile) -> Option<&Module> {
        file.module.map(|index| &self.modules[index])
    }

    fn index_definitions(&mut self) {
        let mut found = Vec::new();
        for (index, file) in self.files.iter().enumerate() {
            let module = self.module_of(file);
            let mut definitions = Vec::new();
            collect_definitions(file, &file.program.body, module, &mut definitions);
            if let Some(module) = module {
                let expected = modulepath::autoload_name(module, Path::new(&*file.path));
                if let Some(name) = &expected {
                    self.autoloaded.entry(name.clone()).or_insert(index);
                }
                for definition in &definitions {
                    let autoloaded = matches!(
                        definition.kind,
                        DefinitionKind::Class | DefinitionKind::Define
                    );
                    if autoloaded && expected.as_deref() != Some(definition.name.as_str()) {
                        let nested_in_expected = expected.as_ref().is_some_and(|expected| {
                            definition.name.starts_with(&format!("{expected}::"))
                        });
                        if !nested_in_expected {
                            self.findings.push(Finding {
                                code: "analyzer/autoload-mismatch",
                                message: format!(
                                    "`{}` is defined in a file where the autoloader looks for `{}`: \
                                     Puppet finds it only if that file is loaded first; move it",
                                    definition.name,
                                    expected.as_deref().unwrap_or("nothing")
                                ),
                                location: definition.location.clone(),
                            });
                        }
                    }
                }
            }
            found.extend(definitions);
        }
        for definition in found {
            let same = self.definitions.entry(definition.name.clone()).or_default();
            if let Some(first) = same.iter().find(|d| clashes(d.kind, definition.kind)) {
                self.findings.push(Finding {
                    code: "analyzer/duplicate-definition",
                    message: format!(
                        "`{}` is already defined at {}: Puppet uses one of them",
                        definition.name, first.location
                    ),
                    location: definition.location.clone(),
                });
            }
            same.push(definition);
        }
        self.findings.sort();
    }
}

/// Two definitions of one name clash when Puppet would look both up the
/// same way (classes and defines share the resource type namespace).
fn clashes(a: DefinitionKind, b: DefinitionKind) -> bool {
    use DefinitionKind::*;
    let namespace = |kind| match kind {
        Class | Define => 0,
        TypeAlias => 1,
        Function => 2,
        Node => 3,
    };
    namespace(a) == namespace(b) && a != Node
}

fn load_file(path: &Path, module: Option<usize>) -> Result<(SourceFile, Vec<SyntaxError>), String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    // A file that is not UTF-8 is still analysed, with U+FFFD for what is
    // not; the error says where it stops being UTF-8.
    let (source, not_utf8) = match granule_parser::source::decode(bytes) {
        Ok(text) => (text, None),
        Err(not_utf8) => (not_utf8.lossy, Some(not_utf8.error)),
    };
    let mut parsed = parse_legacy_recovering(&source);
    parsed.errors.splice(0..0, not_utf8);
    let lines = LineIndex::new(&source);
    let file = SourceFile {
        path: Arc::from(path.to_string_lossy().as_ref()),
        module,
        source: Arc::from(source),
        program: Arc::new(parsed.program),
        legacy: Arc::from(parsed.legacy),
        errors: Arc::from(parsed.errors.as_slice()),
        lines: Arc::new(lines),
    };
    Ok((file, parsed.errors))
}

/// Definitions at the top of a file and nested in classes.
fn collect_definitions(
    file: &SourceFile,
    expr: &granule_parser::Expr,
    module: Option<&Module>,
    out: &mut Vec<Definition>,
) {
    let module_name = || module.map(|m| m.name.clone());
    match &expr.kind {
        ExprKind::Block(statements) => {
            for statement in statements {
                collect_definitions(file, statement, module, out);
            }
        }
        ExprKind::Class(definition)
        | ExprKind::Define(definition)
        | ExprKind::Function(definition) => {
            let kind = match &expr.kind {
                ExprKind::Class(_) => DefinitionKind::Class,
                ExprKind::Define(_) => DefinitionKind::Define,
                _ => DefinitionKind::Function,
            };
            out.push(Definition {
                name: normalize(&definition.name),
                kind,
                module: module_name(),
                location: file.location(definition.name_span),
                params: definition.params.iter().map(|p| p.name.clone()).collect(),
                parent: definition.parent.as_deref().map(normalize),
            });
            if kind == DefinitionKind::Class {
                if let Some(body) = &definition.body {
                    collect_definitions(file, body, module, out);
                }
            }
        }
        ExprKind::Node(node) => {
            for matched in &node.matches {
                out.push(Definition {
                    name: node_name(file, matched),
                    kind: DefinitionKind::Node,
                    module: module_name(),
                    location: file.location(matched.span),
                    params: Vec::new(),
                    parent: None,
                });
            }
        }
        ExprKind::TypeAlias { name, .. } => out.push(Definition {
            name: normalize(name),
            kind: DefinitionKind::TypeAlias,
            module: module_name(),
            location: file.location(expr.span),
            params: Vec::new(),
            parent: None,
        }),
        _ => {}
    }
}

/// The name a node definition matches: its string, regex or `default`.
pub fn node_name(file: &SourceFile, matched: &granule_parser::Expr) -> String {
    match &matched.kind {
        ExprKind::String(text) => text.clone(),
        _ => file.text(matched.span).to_string(),
    }
}

/// A class or type name as Puppet looks it up: lower case, without a
/// leading `::`.
pub fn normalize(name: &str) -> String {
    name.without_top().to_ascii_lowercase()
}
