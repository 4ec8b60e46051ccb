//! `granule export`: a task graph written for another execution engine.

use super::executor_support::{load_plan, print_diagnostics, PlanSource};
use clap::{Args, Subcommand};
use granule_executor::ansible::{self, ExportOptions};
use granule_executor::runner::RunnerOptions;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

/// Write a task graph for another execution engine.
#[derive(Args)]
pub struct ExportArgs {
    #[command(subcommand)]
    engine: Engine,
}

#[derive(Subcommand)]
enum Engine {
    Ansible(Box<AnsibleArgs>),
}

/// Write the plan as an Ansible project: inventory, playbook, task files.
///
/// The plan is granule's own (`granule run --dry-run` shows it): conditions
/// are decided on each node's data, the selection options choose the tasks.
/// The inventory has a group per role (`role_NAME`). Tasks are placed in
/// plays by dependency depth, so every requires, required_for, cross-node
/// link and stage points from an earlier play to a later one; in a play
/// (`strategy: free`) each host goes through its tasks at its own pace; a
/// task whose `strategy` limits its nodes gets a play of its own with that
/// limit as `serial`. A failed task does not stop its host: only what needs
/// it is left out, as with granule's runner, until a group's
/// `fault_tolerance` is exceeded: then no task starts any more.
/// Local nodes run their commands in the directory of the export command.
///
/// Run it with `ansible-playbook` from the output directory (its ansible.cfg
/// is read there), or let `granule run --engine ansible` do it with a journal.
///
/// Examples:
///   granule export ansible --tasks tasks.yaml --inventory nodes.yaml -o deploy/
///   cd deploy && ansible-playbook playbook.yaml
///   granule export ansible --tasks fuel/ --inventory nodes.yaml --data astute.yaml -o out/
#[derive(Args)]
#[command(verbatim_doc_comment)]
struct AnsibleArgs {
    #[command(flatten)]
    source: PlanSource,

    /// The directory to write (created; files of an earlier export are replaced).
    #[arg(short = 'o', long = "output", value_name = "DIR")]
    output: PathBuf,

    /// Ansible's `forks`: how many hosts work at once.
    #[arg(short = 'j', long = "jobs", value_name = "N", default_value_t = 16)]
    jobs: usize,

    /// Run puppet tasks with `puppet apply --noop`.
    #[arg(long)]
    noop: bool,

    /// Let `reboot` tasks reboot a local node (the machine Ansible runs on).
    #[arg(long)]
    allow_local_reboot: bool,

    /// An extra argument for every `puppet apply`. Repeatable.
    #[arg(long = "puppet-arg", value_name = "ARG", allow_hyphen_values = true)]
    puppet_args: Vec<String>,
}

pub fn run(args: ExportArgs) -> ExitCode {
    match args.engine {
        Engine::Ansible(args) => export_ansible(*args),
    }
}

fn export_ansible(args: AnsibleArgs) -> ExitCode {
    if args.source.tasks.is_empty() {
        eprintln!("error: no task descriptors given\n  help: pass --tasks PATH (a tasks.yaml or a directory of them)");
        return ExitCode::from(2);
    }
    let clock = Instant::now();
    let plan = match load_plan(&args.source) {
        Ok(plan) => plan,
        Err(diagnostics) => {
            print_diagnostics(&diagnostics);
            return ExitCode::from(2);
        }
    };
    for warning in &plan.warnings {
        eprintln!("{}", warning.to_string().replacen("error:", "warning:", 1));
    }
    let workdir = match std::env::current_dir() {
        Ok(dir) => dir,
        Err(err) => {
            eprintln!("error: cannot read the current directory: {err}");
            return ExitCode::from(2);
        }
    };
    let options = ExportOptions {
        runner: RunnerOptions {
            noop: args.noop,
            allow_local_reboot: args.allow_local_reboot,
            puppet_args: args.puppet_args,
        },
        forks: args.jobs.max(1),
        workdir,
        // No run was cut off: an export is not a resume.
        cut_off: Default::default(),
    };
    match ansible::export(&plan, &options, &args.output) {
        Ok(exported) => {
            eprintln!(
                "wrote {}: {} plays, {} task files, {} hosts in {:.2}s; run it with `ansible-playbook {}` from there",
                args.output.display(),
                exported.plays,
                exported.task_files,
                exported.hosts,
                clock.elapsed().as_secs_f64(),
                ansible::PLAYBOOK_FILE
            );
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!(
                "error: cannot write {}: {err}\n  help: give an -o directory this user can write",
                args.output.display()
            );
            ExitCode::from(2)
        }
    }
}
