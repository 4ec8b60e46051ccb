//! `granule split`: propose atomic tasks for a monolith and write them out.

use super::lint::codebase::{self, Scope};
use clap::{Args, ValueEnum};
use granule_analyzer::lint::architecture::{Guards, TaskManifest};
use granule_analyzer::lint::rules::{self, Check};
use granule_analyzer::lint::Problem;
use granule_analyzer::model::{
    capitalize, DefinitionKind, Finding, Vertex, SYNTAX_ERROR, UNRESOLVED_CLASS, UNRESOLVED_TYPE,
};
use granule_analyzer::semantic::Semantic;
use granule_analyzer::split::emit::{self, counted, Output};
use granule_analyzer::split::plan::Plan;
use granule_analyzer::split::units::{same_expression, SharedKind, UnitKind};
use granule_analyzer::split::{split, Proposal, SplitOptions, Target};
use granule_analyzer::{Analysis, Entry, LoadedModules};
use granule_executor::catalog::closest;
use granule_executor::descriptor::{self, PuppetTask, TestHook, Version};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

/// Cut a monolith into small tasks that together do what it did.
///
/// The units are what the entry declares (classes, define instances,
/// resources), with the guards they stand under; wrapper classes (roles,
/// profiles) are opened into their statements. Each class declaration
/// starts as a task of its own. Each task is checked as the catalog Puppet
/// would compile from its manifest: where a refresh, reference, collector
/// or override would cross tasks, the task applies what it needs too, or
/// tasks are merged (report.md says which and why); orderings between
/// tasks become `requires`. The data of the monolith's scopes moves to
/// Hiera: a `globals` task evaluates it, a `hiera` task makes it a data
/// source, and every task reads what it needs.
///
/// OUTDIR receives tasks.yaml (Fuel's format), <task>/<task>.pp with
/// pre.sh and post.sh, report.json, report.md and graph.svg. Review
/// report.md; adjust the proposal with a plan file (--plan) and re-run;
/// --verify reads it all back and checks it as `granule lint --tasks` does.
/// Warnings name what decides nothing (a misspelt --assume or --role-var)
/// and what the monolith itself cannot compile.
///
/// Exit status: 0; 1 when --verify finds a problem; 2 for usage errors.
///
/// Examples:
///   granule split --modulepath modules --entry manifests/site.pp --role-var '$::role' -o out
///   granule split --modulepath D --entry D/osnailyfacter/examples/site.pp \
///       --role-var "\$::fuel_settings['role']" --roles primary-controller,controller,compute \
///       --assume "\$::fuel_settings['deployment_mode']=ha_compact" --target puppet3 -o out --verify
///   granule split --modulepath /usr/share/puppet/modules --entry oci::controller -o out --verify
///   granule split --modulepath m --entry site.pp --only keystone,rabbitmq -o out
#[derive(Args)]
#[command(verbatim_doc_comment)]
pub struct SplitArgs {
    /// Directories of modules, separated by `:` (repeatable).
    #[arg(
        long,
        value_name = "DIR[:DIR...]",
        value_delimiter = ':',
        required = true
    )]
    modulepath: Vec<PathBuf>,

    /// The monolith: a manifest file or a class (repeatable: with several
    /// classes, each is a role).
    #[arg(long, value_name = "FILE|CLASS", required = true)]
    entry: Vec<String>,

    /// The expression whose `case`/`if` guards name the roles, e.g.
    /// `$::role` or `$::fuel_settings['role']`.
    #[arg(long, value_name = "EXPR")]
    role_var: Option<String>,

    /// The roles the deployment uses (comma separated). Regex cases, `in`,
    /// `member($roles, 'x')`, `!=`, selectors and `default` branches are
    /// evaluated for each. Without it: the literal values the guards name.
    #[arg(long, value_delimiter = ',', value_name = "ROLE,...")]
    roles: Vec<String>,

    /// Decide guards on EXPR statically (repeatable), e.g.
    /// `--assume "$::settings['mode']=ha"`: branches that cannot hold are
    /// left out. `true`, `false` and `undef` are those values.
    #[arg(long, value_name = "EXPR=VALUE")]
    assume: Vec<String>,

    /// Where the nodes will find the output directory (an absolute path):
    /// tasks.yaml then names each manifest and test under it, as Fuel's
    /// `/etc/puppet/modules/...`. Default: names relative to the output
    /// directory, which `granule run`, `granule lint --tasks` and the
    /// Ansible export read beside tasks.yaml, so that the directory can be
    /// moved or copied as a whole.
    #[arg(long, value_name = "DIR")]
    install_dir: Option<PathBuf>,

    /// A plan file (TOML: exclude, open, keep, [pin], [rename], [merge];
    /// docs/split.md, "The plan file") to honour.
    #[arg(long, value_name = "FILE")]
    plan: Option<PathBuf>,

    /// Extract only these tasks (comma separated); the rest stays in one
    /// `legacy` task.
    #[arg(long, value_delimiter = ',', value_name = "TASK,...")]
    only: Vec<String>,

    /// The Puppet the manifests are for. puppet7: data through lookup(),
    /// and Puppet 3 constructs in copied code rewritten where a Puppet 7
    /// equivalent keeps their meaning (`--verify` lists the others, with
    /// file:line and what to do). puppet3: data through hiera(), code
    /// copied as it is, checked as Puppet 3 reads it.
    #[arg(long, value_enum, default_value_t = TargetArg::Puppet7)]
    target: TargetArg,

    /// Fuel task descriptor version to write.
    #[arg(long, value_enum, default_value_t = VersionArg::V2)]
    descriptor_version: VersionArg,

    /// Timeout of each task, in seconds.
    #[arg(long, default_value_t = 3600)]
    timeout: u64,

    /// The output directory (not inside a module's `manifests/`, where
    /// Puppet would take the task manifests for the module's classes).
    #[arg(short = 'o', long = "out", value_name = "OUTDIR")]
    out: PathBuf,

    /// Check the result as written: every manifest read as the target Puppet
    /// reads it, and tasks.yaml read back and analysed again as
    /// `granule lint --tasks` does (nothing a task refers to, collects or
    /// reads is only in other tasks; no task's catalog declares twice what
    /// the monolith's declares once; no task declares a class or define
    /// private to a module).
    #[arg(long)]
    verify: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum TargetArg {
    Puppet7,
    Puppet3,
}

#[derive(Clone, Copy, ValueEnum)]
enum VersionArg {
    #[value(name = "1")]
    V1,
    #[value(name = "2")]
    V2,
}

pub fn run(args: SplitArgs) -> ExitCode {
    match split_command(&args) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

fn split_command(args: &SplitArgs) -> Result<ExitCode, String> {
    if let Some(dir) = args.install_dir.as_deref().filter(|dir| dir.is_relative()) {
        return Err(format!(
            "--install-dir {}: the nodes' path to the output directory must be absolute \
             (leave the option out to name the files relative to tasks.yaml)",
            dir.display()
        ));
    }
    if let Some(modules) = modules_holding_in_manifests(&args.out, &args.modulepath) {
        return Err(format!(
            "-o {}: inside the manifests directory of a module of {}: Puppet's autoloader \
             reads files there as the module's classes (and runs their code when something \
             names one), and the split's check would read them as module code; write the \
             split outside the modules' `manifests/` directories",
            args.out.display(),
            modules.display()
        ));
    }
    let entries: Vec<Entry> = args.entry.iter().map(|e| Entry::parse(e)).collect();
    let manifests: Vec<PathBuf> = entries
        .iter()
        .filter_map(|entry| match entry {
            Entry::File(file) => Some(PathBuf::from(&**file)),
            Entry::Class(_) => None,
        })
        .collect();
    let assumptions = parse_assumptions(&args.assume)?;
    // Left to the operating system at exit: freeing every tree and edge
    // of a whole module path one by one took a few percent of the run.
    // `--verify` analyses the manifests written over the same modules.
    let modules: &'static LoadedModules =
        Box::leak(Box::new(LoadedModules::load(&args.modulepath)?));
    let mut analysis = Analysis::with_modules(modules, &manifests)?;
    // The entry is what nodes compile: every declaration is in the code,
    // an entry class's own aside (the split declares it as `include`).
    let entry_classes: Vec<String> = entries
        .iter()
        .filter_map(|entry| match entry {
            Entry::Class(name) => Some(name.to_string()),
            Entry::File(_) => None,
        })
        .collect();
    analysis.leave_out_untaken_branches(&entry_classes);
    let analysis: &'static Analysis = Box::leak(Box::new(analysis));
    for entry in &entries {
        if let Entry::Class(name) = entry {
            known_class(analysis, name)?;
        }
    }
    let semantic = Semantic::new(analysis);
    let plan = match &args.plan {
        Some(path) => Plan::load(path)?,
        None => Plan::default(),
    };
    let options = SplitOptions {
        entries,
        role_var: args.role_var.clone(),
        roles: args.roles.clone(),
        assumptions,
        plan,
        only: args.only.clone(),
        target: match args.target {
            TargetArg::Puppet7 => Target::Puppet7,
            TargetArg::Puppet3 => Target::Puppet3,
        },
    };
    let proposal = split(&semantic, &options)?;
    // Absolute: a relative path in tasks.yaml is read beside it.
    let modulepath = args
        .modulepath
        .iter()
        .map(|dir| {
            std::path::absolute(dir)
                .unwrap_or_else(|_| dir.clone())
                .display()
                .to_string()
        })
        .collect::<Vec<_>>()
        .join(":");
    let staged = Staged::begin(&args.out)?;
    let output = Output {
        dir: &staged.staging,
        modulepath: &modulepath,
    };
    emit::write(&proposal, analysis, &output)?;
    write_descriptors(&proposal, args, &modulepath, &staged)?;
    let dot = emit::task_dot(&proposal);
    emit::write_file(&staged.staging.join("graph.dot"), &dot)?;
    match render_svg(&dot) {
        Ok(svg) => emit::write_file(&staged.staging.join("graph.svg"), &svg)?,
        Err(message) => eprintln!("warning: graph.svg not written: {message}"),
    }
    staged.commit()?;
    for miss in &proposal.plan_misses {
        let hint = match closest(&miss.entry, miss.known.iter()) {
            Some(near) => format!("did you mean `{near}`?"),
            None => "report.json names the units, tasks and classes of this split".to_string(),
        };
        eprintln!(
            "warning: plan file: {} `{}` names nothing in this split, and is ignored; {hint}",
            miss.key, miss.entry
        );
    }
    if proposal.monolith.units.is_empty() {
        let why = if proposal.pruned.is_empty() && proposal.monolith.left_out.is_empty() {
            "declares nothing to split (no class, define instance, resource or relationship)"
        } else {
            "runs nothing on the roles given under these assumptions (report.md lists what they left out)"
        };
        eprintln!(
            "warning: {} {why}: the split holds only granule's own `globals` and `hiera` tasks",
            args.entry.join(", ")
        );
    }
    let unwritten = proposal
        .unwritten_role_var
        .iter()
        .map(|unwritten| {
            (
                "--role-var",
                unwritten,
                "no guard is decided per role, and every task runs on every role",
            )
        })
        .chain(
            proposal
                .unused_assumptions
                .iter()
                .map(|unwritten| ("--assume", unwritten, "it decides nothing")),
        );
    for (option, unwritten, effect) in unwritten {
        eprintln!("{}", codebase::unwritten_warning(option, unwritten, effect));
    }
    for case in &proposal.monolith.unmatched {
        let given = options
            .assumptions
            .iter()
            .find(|(expr, _)| same_expression(&case.test, expr))
            .map_or("", |(_, value)| value.as_str());
        eprintln!(
            "warning: {}: `case {}` has no option for `{given}`, the value --assume gives it, \
             and no default: all its code is left out; its options are {}: check the value",
            case.location,
            case.test,
            case.options.join(", ")
        );
    }
    for case in &proposal.undecided {
        eprintln!(
            "warning: {}: `case {}` is decided by no role and no --assume: the code of its \
             options ({}) is split together, into tasks mixing branches no node runs \
             together; give --role-var \"{}\" if it is the node's role, else --assume \
             \"{}=VALUE\" with the deployment's value",
            case.location,
            case.test,
            case.options.join("; "),
            case.test,
            case.test
        );
    }
    for finding in syntax_errors_reached(&proposal, analysis) {
        eprintln!(
            "warning: {}: {}: Puppet fails every catalog loading this file, the monolith's and its tasks'; fix it",
            finding.location, finding.message
        );
    }
    for (finding, tasks, guarded) in unresolved_in_copied_code(&proposal, analysis) {
        eprintln!(
            "warning: {}: {}: {} where this code runs, nor does the monolith; \
             correct the name, or add the module defining it to --modulepath{}",
            finding.location,
            finding.message,
            match tasks.as_slice() {
                [task] => format!("task `{task}` does not compile"),
                _ => format!(
                    "tasks {} do not compile",
                    tasks
                        .iter()
                        .map(|task| format!("`{task}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            },
            if guarded {
                ", or, if no node runs the branch it stands in, leave it out with \
                 --assume EXPR=VALUE"
            } else {
                ""
            }
        );
    }
    // One warning per class and referrer, at its first place.
    let mut warned: HashSet<(&str, &str)> = HashSet::new();
    for undeclared in &proposal.undeclared_classes {
        if !warned.insert((&undeclared.referrer, &undeclared.class)) {
            continue;
        }
        let places = proposal
            .undeclared_classes
            .iter()
            .filter(|other| {
                other.referrer == undeclared.referrer && other.class == undeclared.class
            })
            .count();
        let more = match places {
            1 => String::new(),
            _ => format!(
                " (and {})",
                counted(places - 1, "more place", "more places")
            ),
        };
        let instead = match undeclared.declared_by.first() {
            Some(declarer) => format!(
                "{} declares it: split that instead{}, or declare the class in the entry",
                undeclared.declared_by.join(", "),
                declarer
                    .strip_prefix("class ")
                    .map(|class| format!(" (--entry {class})"))
                    .unwrap_or_default()
            ),
            None => "declare it in the entry".to_string(),
        };
        eprintln!(
            "warning: {}: {} refers to Class['{}']{more}, which nothing the entry reaches \
             declares: Puppet fails the monolith as it fails the tasks applying this code \
             (\"Could not find resource 'Class[{}]'\"); {instead}",
            undeclared.location,
            undeclared.referrer,
            undeclared.class,
            capitalize(&undeclared.class),
        );
    }
    for computed in &proposal.monolith.computed {
        eprintln!(
            "warning: {}: `{}`: {}",
            computed.location,
            computed.statement,
            computed.advice(analysis)
        );
    }
    eprintln!(
        "{} ({}), {}, {}, {}: see {}",
        counted(proposal.tasks.len(), "task", "tasks"),
        counted(proposal.roles.len(), "role", "roles"),
        counted(proposal.merges.len(), "forced merge", "forced merges"),
        counted(proposal.cuts.len(), "cut edge", "cut edges"),
        counted(proposal.hazards.len(), "hazard", "hazards"),
        args.out.join("report.md").display()
    );
    if !args.verify {
        return Ok(ExitCode::SUCCESS);
    }
    let guards = Guards {
        role_var: args.role_var.clone(),
        assumptions: options.assumptions.clone(),
    };
    let undeclared: HashSet<&str> = proposal
        .undeclared_classes
        .iter()
        .map(|undeclared| undeclared.class.as_str())
        .collect();
    let monolith = Monolith {
        entries: &args.entry,
        roles: &proposal.roles,
        undeclared,
    };
    let tasks = codebase::task_manifests(
        &args.out.join("tasks.yaml"),
        args.install_dir
            .as_deref()
            .map(|dir| (dir, args.out.as_path())),
        &modules.code.modulepath,
    )?;
    let (crossing, read_back) = task_problems(&args.out, &tasks, modules, &guards, &monolith)?;
    let mut failures =
        granule_analyzer::split::verify::verify(&proposal, &args.out, &read_back.codebase);
    failures.extend(crossing);
    if failures.is_empty() {
        eprintln!("verify: every manifest reads as the target Puppet reads it; read back from tasks.yaml and analysed again, no task refers to what only other tasks declare, loses a refresh, reads data it does not set, declares twice what the monolith declares once or declares what a module keeps private");
        Ok(ExitCode::SUCCESS)
    } else {
        for failure in &failures {
            eprintln!("verify: {failure}");
        }
        eprintln!("verify: {}", counted(failures.len(), "problem", "problems"));
        Ok(ExitCode::from(1))
    }
}

/// The directory of `modulepath` one of whose modules' `manifests/` holds
/// `out`, as written or with symbolic links resolved.
fn modules_holding_in_manifests<'m>(out: &Path, modulepath: &'m [PathBuf]) -> Option<&'m Path> {
    let absolute = |path: &Path| {
        codebase::without_dots(&std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()))
    };
    // OUT may not exist yet: its nearest existing ancestor is resolved.
    let resolved = |path: &Path| {
        let path = absolute(path);
        path.ancestors().find_map(|existing| {
            let resolved = existing.canonicalize().ok()?;
            Some(resolved.join(path.strip_prefix(existing).ok()?))
        })
    };
    let out_forms: Vec<PathBuf> = [Some(absolute(out)), resolved(out)]
        .into_iter()
        .flatten()
        .collect();
    modulepath.iter().map(PathBuf::as_path).find(|modules| {
        let module_forms = [Some(absolute(modules)), modules.canonicalize().ok()];
        module_forms.iter().flatten().any(|modules| {
            out_forms
                .iter()
                .any(|out| codebase::in_module_manifests(out, modules))
        })
    })
}

/// An `--entry` that names no file must name a class of the module path
/// (or one whose file does not parse, which the split reports).
fn known_class(analysis: &Analysis, name: &str) -> Result<(), String> {
    let codebase = &analysis.codebase;
    if codebase.find(name, DefinitionKind::Class).is_some() {
        return Ok(());
    }
    if let Some(define) = codebase.find(name, DefinitionKind::Define) {
        return Err(format!(
            "--entry {name}: a define ({}), not a class; an entry is a class or a manifest: \
             give a manifest declaring its instances (`{name} {{ 'x': }}`)",
            define.location
        ));
    }
    if codebase.autoloaded_file(name).is_some() {
        return Ok(());
    }
    if name.contains('/') || name.ends_with(".pp") {
        return Err(format!(
            "--entry {name}: no such file; --entry takes a manifest or a class name such as \
             profile::base"
        ));
    }
    Err(match closest(name, codebase.class_names()) {
        Some(near) => format!(
            "--entry {name}: no class of that name on the module path; did you mean `{near}`?"
        ),
        None => format!(
            "--entry {name}: no class of that name in the {} of the module path; is \
             --modulepath the directory holding the modules?",
            counted(codebase.modules.len(), "module", "modules")
        ),
    })
}

/// The syntax errors of the files defining what the tasks' catalogs hold
/// (the entry's own refuse the split).
fn syntax_errors_reached<'a>(
    proposal: &Proposal,
    analysis: &'a Analysis,
) -> impl Iterator<Item = &'a Finding> {
    let codebase = &analysis.codebase;
    let declared = proposal
        .monolith
        .units
        .iter()
        .filter_map(|unit| match &unit.kind {
            UnitKind::Class(name)
            | UnitKind::Instance {
                type_name: name, ..
            } => Some(name),
            _ => None,
        });
    let mut files: HashSet<&str> = HashSet::new();
    for name in proposal.unit_holders.iter().flatten().chain(declared) {
        match codebase.definitions.get(name) {
            Some(definitions) => files.extend(definitions.iter().map(|d| &*d.location.file)),
            None => files.extend(codebase.autoloaded_file(name).map(|file| &*file.path)),
        }
    }
    analysis
        .findings
        .iter()
        .filter(move |f| f.code == SYNTAX_ERROR && files.contains(&*f.location.file))
}

/// What the code the split copies (the units' statements) names that no
/// module defines, with the tasks applying it and whether it stands under
/// a guard: lint reports the same of all code, this is what the tasks
/// meet.
fn unresolved_in_copied_code<'a>(
    proposal: &'a Proposal,
    analysis: &'a Analysis,
) -> impl Iterator<Item = (&'a Finding, Vec<&'a str>, bool)> {
    analysis
        .findings
        .iter()
        .filter(|f| f.code == UNRESOLVED_CLASS || f.code == UNRESOLVED_TYPE)
        .filter_map(|finding| {
            // Module code's findings are lint's: only copied code is looked at.
            let units: Vec<usize> = proposal.monolith.units_at(&finding.location).collect();
            if units.is_empty() || copied_nested_define(proposal, analysis, finding) {
                return None;
            }
            let tasks: Vec<&str> = proposal
                .tasks
                .iter()
                .filter(|task| task.applied().iter().any(|unit| units.contains(unit)))
                .map(|task| task.id.as_str())
                .collect();
            let guarded = units
                .iter()
                .any(|&unit| !proposal.monolith.units[unit].guards.is_empty());
            (!tasks.is_empty()).then_some((finding, tasks, guarded))
        })
}

/// Whether an unresolved resource type is a define written in the body of
/// an opened class and named by its short name there (Puppet 3 finds it
/// relative to the class, Puppet 7 does not): the split copies the
/// definition into the tasks using it, at their top scope, where the short
/// name is its name.
fn copied_nested_define(proposal: &Proposal, analysis: &Analysis, finding: &Finding) -> bool {
    analysis
        .edges
        .iter()
        .filter(|edge| edge.location == finding.location)
        .filter_map(|edge| match &edge.to {
            Vertex::Type { name } => analysis.relative_define(name, &edge.unit),
            _ => None,
        })
        .any(|define| {
            proposal
                .monolith
                .shared
                .iter()
                .any(|shared| shared.kind == SharedKind::Definition(define.clone()))
        })
}

/// tasks.yaml: each task's manifest and tests named relative to the output
/// directory (so that it can be moved), or under where `--install-dir` says
/// the nodes find it.
fn write_descriptors(
    proposal: &Proposal,
    args: &SplitArgs,
    modulepath: &str,
    staged: &Staged,
) -> Result<(), String> {
    let check = |task: &str, script: &str| {
        let (cmd, cwd) = match &args.install_dir {
            Some(dir) => (
                format!("sh {}", dir.join(task).join(script).display()),
                None,
            ),
            None => (format!("sh {script}"), Some(task.to_string())),
        };
        TestHook {
            cmd,
            cwd,
            timeout: None,
        }
    };
    let base = args.install_dir.as_deref().unwrap_or(Path::new(""));
    let tasks: Vec<PuppetTask> = proposal
        .tasks
        .iter()
        .map(|task| PuppetTask {
            id: task.id.clone(),
            groups: task.groups.clone(),
            requires: task.requires.iter().cloned().collect(),
            manifest: base
                .join(&task.id)
                .join(format!("{}.pp", task.id))
                .display()
                .to_string(),
            modulepath: modulepath.to_string(),
            timeout: args.timeout,
            test_pre: check(&task.id, "pre.sh"),
            test_post: check(&task.id, "post.sh"),
        })
        .collect();
    let version = match args.descriptor_version {
        VersionArg::V1 => Version::V1,
        VersionArg::V2 => Version::V2,
    };
    let header = format!(
        "Generated by granule split: the tasks of {}.",
        proposal.entries.join(", ")
    );
    let text = descriptor::write_puppet_tasks(&header, version, &tasks)?;
    emit::write_file(&staged.staging.join("tasks.yaml"), &text)
}

/// `--assume EXPR=VALUE` arguments, split at the last `=`.
pub fn parse_assumptions(arguments: &[String]) -> Result<Vec<(String, String)>, String> {
    arguments
        .iter()
        .map(|text| {
            text.rsplit_once('=')
                .map(|(expr, value)| (expr.trim().to_string(), value.trim().to_string()))
                .ok_or_else(|| format!("--assume {text}: expected EXPR=VALUE"))
        })
        .collect()
}

const CROSS_TASK_REFERENCE: &str = "granule/cross-task-reference";
const TASK_UNDEFINED_VARIABLE: &str = "granule/task-undefined-variable";
const DUPLICATE_RESOURCE: &str = "granule/duplicate-resource";
const PRIVATE_DECLARATION: &str = "granule/private-declaration";

/// What was split: the `--entry` arguments and the roles of the split.
struct Monolith<'a> {
    entries: &'a [String],
    roles: &'a [String],
    /// Classes its own code refers to and nothing it reaches declares.
    undeclared: HashSet<&'a str>,
}

/// What `granule lint --tasks OUT/tasks.yaml` finds about what crosses
/// tasks and what a task's catalog declares twice: the written descriptors
/// and manifests read back and analysed again, independently of the
/// proposal that wrote them. A duplicate declaration the monolith's own
/// catalog holds too is the monolith's, not the split's: lint reports it,
/// `--verify` does not. With the analysis that read the manifests back,
/// for the check of how Puppet reads them.
fn task_problems(
    out: &Path,
    tasks: &[TaskManifest],
    modules: &LoadedModules,
    guards: &Guards,
    monolith: &Monolith,
) -> Result<(Vec<String>, &'static Analysis), String> {
    let checks = [
        CROSS_TASK_REFERENCE,
        TASK_UNDEFINED_VARIABLE,
        DUPLICATE_RESOURCE,
        PRIVATE_DECLARATION,
    ];
    let (found, read_back) = lint_tasks(out, tasks, modules, guards, &checks)?;
    let monolith_duplicates: HashSet<String> = if found
        .iter()
        .any(|(_, problem)| problem.check == DUPLICATE_RESOURCE)
    {
        duplicates_of_monolith(monolith, modules, guards)?
    } else {
        HashSet::new()
    };
    let mut lines: Vec<String> = found
        .into_iter()
        .filter(|(_, problem)| {
            problem.check != DUPLICATE_RESOURCE
                || rules::duplicated_resource(&problem.message)
                    .is_none_or(|resource| !monolith_duplicates.contains(resource))
        })
        // The monolith's own fault, warned about with the split.
        .filter(|(_, problem)| {
            problem.check != CROSS_TASK_REFERENCE
                || rules::class_declared_by_no_task(&problem.message)
                    .is_none_or(|class| !monolith.undeclared.contains(class))
        })
        // A copied statement reading what it sets itself reads it so in the
        // monolith too.
        .filter(|(_, problem)| {
            problem.check != TASK_UNDEFINED_VARIABLE
                || !rules::read_before_its_statement_sets_it(&problem.message)
        })
        .map(|(path, problem)| {
            format!(
                "{}:{}:{}: {} ({})",
                path.display(),
                problem.line,
                problem.column,
                problem.message,
                problem.check
            )
        })
        .collect();
    lines.sort();
    Ok((lines, read_back))
}

/// The problems `checks` find in the manifests below `dir` and the code
/// they reach, run as `tasks`; and the analysis they ran on.
fn lint_tasks(
    dir: &Path,
    tasks: &[TaskManifest],
    modules: &LoadedModules,
    guards: &Guards,
    checks: &[&str],
) -> Result<(Vec<Found>, &'static Analysis), String> {
    let checks: Vec<&'static Check> = checks.iter().filter_map(|name| rules::find(name)).collect();
    let manifests: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .map(|entry| entry.into_path())
        .filter(|path| path.extension().is_some_and(|e| e == "pp"))
        .collect();
    let tasks_file = dir.join("tasks.yaml");
    let paths = [dir.to_path_buf()];
    let scope = Scope {
        paths: &paths,
        files: &manifests,
        modulepath: &modules.code.modulepath,
        tasks: Some(&tasks_file),
        guards,
        loaded: Some(modules),
    };
    let (found, analysis) = codebase::problems_of_tasks(&scope, tasks, &checks)?;
    let found = found
        .into_values()
        .flat_map(|(path, problems)| problems.into_iter().map(move |p| (path.clone(), p)))
        .collect();
    Ok((found, analysis))
}

/// A problem a check finds, and the file it finds it in.
type Found = (PathBuf, Problem);

/// The resources the monolith's own catalog declares twice, as
/// granule/duplicate-resource finds them: each entry linted as a task of
/// its own (a manifest declaring the class, or a copy of the file) running
/// on every role of the split, guards decided as for the tasks.
fn duplicates_of_monolith(
    monolith: &Monolith,
    modules: &LoadedModules,
    guards: &Guards,
) -> Result<HashSet<String>, String> {
    let dir = ScratchDir::new("granule-verify-monolith")?;
    let mut tasks = Vec::new();
    for (at, entry) in monolith.entries.iter().enumerate() {
        let text = match Entry::parse(entry) {
            Entry::File(file) => std::fs::read_to_string(&*file)
                .map_err(|e| format!("{file}: cannot read the entry: {e}"))?,
            Entry::Class(class) => format!("include {class}\n"),
        };
        let manifest = dir.path.join(format!("entry-{at}.pp"));
        std::fs::write(&manifest, text)
            .map_err(|e| format!("{}: cannot write: {e}", manifest.display()))?;
        tasks.push(TaskManifest {
            id: format!("entry-{at}"),
            manifest,
            after: Vec::new(),
            roles: Some(monolith.roles.to_vec()),
        });
    }
    let (found, _) = lint_tasks(&dir.path, &tasks, modules, guards, &[DUPLICATE_RESOURCE])?;
    Ok(found
        .iter()
        .filter_map(|(_, problem)| rules::duplicated_resource(&problem.message))
        .map(str::to_string)
        .collect())
}

/// A directory of the system's temporary directory, removed with all it
/// holds when dropped.
struct ScratchDir {
    path: PathBuf,
}

impl ScratchDir {
    fn new(name: &str) -> Result<ScratchDir, String> {
        let path = std::env::temp_dir().join(format!("{name}-{}", std::process::id()));
        std::fs::create_dir_all(&path)
            .map_err(|e| format!("{}: cannot create: {e}", path.display()))?;
        Ok(ScratchDir { path })
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// A split written in a hidden directory inside OUT, then put in the
/// place of what OUT held: an interrupted or failed run leaves an earlier
/// split whole (and a `.granule-split-PID` directory the next run
/// removes).
struct Staged {
    /// OUT's absolute path, which tasks.yaml names.
    target: PathBuf,
    /// Where the split is written first.
    staging: PathBuf,
    committed: bool,
}

/// The name of a staging directory starts so.
const STAGING: &str = ".granule-split-";

impl Staged {
    /// Checks that OUT may be replaced (new, empty, or an earlier split)
    /// and makes the staging directory in it.
    fn begin(out: &Path) -> Result<Staged, String> {
        replaceable(out)?;
        std::fs::create_dir_all(out)
            .map_err(|e| format!("{}: cannot create: {e}", out.display()))?;
        let target = std::fs::canonicalize(out).map_err(|e| format!("{}: {e}", out.display()))?;
        let staging = target.join(format!("{STAGING}{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&staging);
        std::fs::create_dir(&staging)
            .map_err(|e| format!("{}: cannot create: {e}", staging.display()))?;
        Ok(Staged {
            target,
            staging,
            committed: false,
        })
    }

    /// Replaces what OUT held (an earlier split, stale staging
    /// directories) by the staged split.
    fn commit(mut self) -> Result<(), String> {
        let entries = |dir: &Path| -> Result<Vec<PathBuf>, String> {
            std::fs::read_dir(dir)
                .and_then(|entries| entries.map(|e| e.map(|e| e.path())).collect())
                .map_err(|e| format!("{}: {e}", dir.display()))
        };
        for path in entries(&self.target)? {
            if path == self.staging {
                continue;
            }
            let removed = if path.is_dir() {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
            removed.map_err(|e| format!("{}: cannot remove: {e}", path.display()))?;
        }
        for path in entries(&self.staging)? {
            let to = self.target.join(path.file_name().unwrap_or_default());
            std::fs::rename(&path, &to)
                .map_err(|e| format!("{}: cannot write: {e}", to.display()))?;
        }
        self.committed = true;
        std::fs::remove_dir(&self.staging)
            .map_err(|e| format!("{}: cannot remove: {e}", self.staging.display()))
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.staging);
        }
    }
}

/// Whether OUT may be replaced by a split: it does not exist, is empty, or
/// holds an earlier split (its tasks.yaml); a directory holding anything
/// else is refused.
fn replaceable(out: &Path) -> Result<(), String> {
    if !out.exists() {
        return Ok(());
    }
    if !out.is_dir() {
        return Err(format!(
            "{}: exists and is not a directory: choose an empty or new directory",
            out.display()
        ));
    }
    let entries = std::fs::read_dir(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let mut held = entries
        .filter_map(Result::ok)
        .filter(|entry| !entry.file_name().to_string_lossy().starts_with(STAGING));
    if held.next().is_some() && !out.join("tasks.yaml").is_file() {
        return Err(format!(
            "{}: exists and is not the output of an earlier split (no tasks.yaml): choose an empty or new directory",
            out.display()
        ));
    }
    Ok(())
}

/// SVG from DOT with Graphviz's `dot`.
fn render_svg(dot: &str) -> Result<String, String> {
    use std::io::Write;
    let mut child = Command::new("dot")
        .arg("-Tsvg")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run Graphviz's dot ({e}): install graphviz"))?;
    let mut stdin = child.stdin.take().expect("piped stdin");
    let text = dot.to_string();
    let writer = std::thread::spawn(move || stdin.write_all(text.as_bytes()));
    let output = child.wait_with_output().map_err(|e| e.to_string())?;
    let _ = writer.join();
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).trim().to_string());
    }
    String::from_utf8(output.stdout).map_err(|e| e.to_string())
}
