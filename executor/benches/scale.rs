//! Scale benchmark: a generated Fuel 2.0.0 task set (200 no-op shell tasks
//! with random dependencies, some across nodes) on 500 nodes.
//!
//! Prints, for `scripts/bench-executor` and docs/performance.md:
//! * planning time: parse, validate and lay out the per-node graphs, best of 5;
//! * the makespan of the real scheduler at -j 64 (simulated: every task
//!   takes one unit, then random lengths), against the ideal for that width:
//!   no schedule beats max(longest chain, busiest node, total work / 64);
//! * a real run of the same graph on fewer local nodes, journal and logs
//!   included: wall time and tasks per second; with --real-ms, every task
//!   sleeps that long and the wall time is compared with the ideal.
//!
//! With --ansible 1 (`scripts/bench-ansible`), the same for Ansible as the
//! engine: the time to export the plan as a playbook (best of 5), the
//! makespan of that playbook's plays (simulated, as above) against the
//! ideal and against the scheduler, and the real run through
//! `ansible-playbook` (ANSIBLE_PLAYBOOK, default target/ansible-venv's).
//!
//! Options: --tasks N --nodes N --jobs N --seed N --real-nodes N (0: skip)
//! --real-ms N --ansible 0|1.

use granule_executor::ansible::{self, AnsibleConfig, ExportOptions};
use granule_executor::descriptor::parse_file;
use granule_executor::execute::{execute, Event, RunConfig};
use granule_executor::inventory::{Inventory, Node, Transport};
use granule_executor::scheduler::simulate;
use granule_executor::{Catalog, Diagnostics, Observer, Plan, Selection, TaskSet};
use std::fmt::Write;
use std::path::Path;
use std::time::Instant;

/// A small deterministic generator (xorshift64*): the same seed, the same graph.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound.max(1)
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// 200 tasks: each needs up to 3 earlier ones; one in ten runs on
/// controllers only; one in twenty waits for an earlier task on every
/// controller (`cross-depends`).
fn generate(tasks: usize, seed: u64, cmd: &str) -> String {
    let mut random = Random(seed.max(1));
    let mut yaml = String::new();
    for i in 0..tasks {
        let roles = if i > 0 && random.below(10) == 0 {
            "[controller]"
        } else {
            "'*'"
        };
        let mut requires: Vec<String> = (0..random.below(4).min(i as u64))
            .map(|_| format!("t{:04}", random.below(i as u64)))
            .collect();
        requires.sort();
        requires.dedup();
        let _ = write!(
            yaml,
            "- id: t{i:04}\n  type: shell\n  version: 2.0.0\n  roles: {roles}\n  requires: [{}]\n  parameters:\n    cmd: '{cmd}'\n",
            requires.join(", ")
        );
        if i > 0 && random.below(20) == 0 {
            let _ = writeln!(
                yaml,
                "  cross-depends:\n    - name: t{:04}\n      role: [controller]",
                random.below(i as u64)
            );
        }
    }
    yaml
}

fn inventory(nodes: usize) -> Inventory {
    let mut inventory = Inventory::local(Vec::new());
    inventory.nodes = (0..nodes)
        .map(|n| Node {
            name: format!("node-{n:03}"),
            roles: vec![if n < 3 { "controller" } else { "compute" }.to_string()],
            transport: Transport::Local,
            data: None,
            previous_data: None,
        })
        .collect();
    inventory
}

fn plan(yaml: &str, nodes: usize) -> Result<Plan, Diagnostics> {
    let mut set = TaskSet::default();
    let mut errors = Diagnostics::default();
    parse_file(Path::new("generated.yaml"), yaml, &mut set, &mut errors);
    errors.into_result(())?;
    let catalog = Catalog::build(&set)?;
    Plan::build(catalog, &inventory(nodes), &Selection::default())
}

struct Quiet;

impl Observer for Quiet {
    fn event(&mut self, _: &Plan, _: Event<'_>) {}
}

fn option(args: &[String], name: &str, default: usize) -> usize {
    args.iter()
        .position(|arg| arg == name)
        .and_then(|at| args.get(at + 1))
        .map(|value| value.parse().expect("a number"))
        .unwrap_or(default)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let tasks = option(&args, "--tasks", 200);
    let nodes = option(&args, "--nodes", 500);
    let jobs = option(&args, "--jobs", 64);
    let seed = option(&args, "--seed", 1) as u64;
    let real_nodes = option(&args, "--real-nodes", 10);
    // Milliseconds each task of the real run sleeps (0: `true`).
    let real_ms = option(&args, "--real-ms", 0);
    let through_ansible = option(&args, "--ansible", 0) == 1;
    let yaml = generate(tasks, seed, "true");

    let mut best = f64::MAX;
    let mut planned = None;
    for _ in 0..5 {
        let started = Instant::now();
        let built = plan(&yaml, nodes).unwrap_or_else(|errors| panic!("{errors}"));
        best = best.min(started.elapsed().as_secs_f64());
        planned = Some(built);
    }
    let plan = planned.expect("planned");
    let edges: usize = plan.successors.iter().map(Vec::len).sum();
    println!(
        "graph: {tasks} tasks x {nodes} nodes = {} planned tasks, {edges} edges, seed {seed}",
        plan.instances.len()
    );
    println!("planning (parse, validate, plan): {best:.3} s, best of 5");

    let mut random = Random(seed ^ 0x9e37_79b9_7f4a_7c15);
    let lengths: Vec<f64> = (0..plan.instances.len())
        .map(|_| 0.5 + random.unit())
        .collect();
    for (name, simulation) in [
        ("unit lengths", simulate(&plan, jobs, |_| 1.0)),
        (
            "random lengths 0.5-1.5",
            simulate(&plan, jobs, |id| lengths[id as usize]),
        ),
    ] {
        println!(
            "-j {jobs}, {name}: makespan {:.1}, ideal {:.1}, ratio {:.3} ({:+.1}%)",
            simulation.makespan,
            simulation.lower_bound,
            simulation.makespan / simulation.lower_bound,
            (simulation.makespan / simulation.lower_bound - 1.0) * 100.0
        );
    }

    if through_ansible {
        let out = std::env::temp_dir().join(format!("granule-bench-export-{}", std::process::id()));
        let options = ExportOptions {
            runner: Default::default(),
            forks: jobs,
            workdir: std::env::temp_dir(),
            cut_off: Default::default(),
        };
        let mut best = f64::MAX;
        let mut exported = None;
        for _ in 0..5 {
            let _ = std::fs::remove_dir_all(&out);
            let started = Instant::now();
            exported = Some(ansible::export(&plan, &options, &out).expect("the export"));
            best = best.min(started.elapsed().as_secs_f64());
        }
        let exported = exported.expect("exported");
        let size: u64 = walkdir_size(&out);
        let _ = std::fs::remove_dir_all(&out);
        println!(
            "ansible export: {best:.3} s, best of 5; {} plays, {} task files, {} hosts, {:.1} MB",
            exported.plays,
            exported.task_files,
            exported.hosts,
            size as f64 / 1e6
        );
        for (name, duration) in [
            ("unit lengths", &(|_: u32| 1.0) as &dyn Fn(u32) -> f64),
            ("random lengths 0.5-1.5", &|id: u32| lengths[id as usize]),
        ] {
            let playbook = ansible::playbook_makespan(&plan, jobs, duration);
            let simulation = simulate(&plan, jobs, duration);
            println!(
                "ansible plays, forks {jobs}, {name}: makespan {playbook:.1}, ideal {:.1}, ratio {:.3} ({:+.1}%); granule's scheduler {:.1}",
                simulation.lower_bound,
                playbook / simulation.lower_bound,
                (playbook / simulation.lower_bound - 1.0) * 100.0,
                simulation.makespan
            );
        }
    }

    if real_nodes > 0 {
        let seconds = real_ms as f64 / 1000.0;
        let cmd = if real_ms == 0 {
            "true".to_string()
        } else {
            format!("sleep {seconds}")
        };
        let small = self::plan(&generate(tasks, seed, &cmd), real_nodes)
            .unwrap_or_else(|errors| panic!("{errors}"));
        let state = std::env::temp_dir().join(format!("granule-bench-{}", std::process::id()));
        let config = RunConfig {
            state_dir: state.clone(),
            max_parallel: jobs,
            fail_fast: false,
            stop_after: None,
            resume: false,
            restart: false,
            runner: Default::default(),
            handle_signals: false,
        };
        let started = Instant::now();
        let summary = if through_ansible {
            let program = std::env::var_os("ANSIBLE_PLAYBOOK")
                .map(std::path::PathBuf::from)
                .unwrap_or_else(|| {
                    Path::new(env!("CARGO_MANIFEST_DIR"))
                        .join("../target/ansible-venv/bin/ansible-playbook")
                });
            ansible::execute(
                &small,
                &config,
                &AnsibleConfig {
                    program,
                    check: false,
                },
                &mut Quiet,
            )
            .expect("the run through ansible-playbook")
        } else {
            execute(&small, &config, &mut Quiet).expect("the run")
        };
        let wall = started.elapsed().as_secs_f64();
        let _ = std::fs::remove_dir_all(&state);
        println!(
            "real run{}, {real_nodes} local nodes, -j {jobs}, each task `{cmd}`: {} tasks {} in {wall:.2} s, {:.0} tasks/s",
            if through_ansible { " through ansible-playbook" } else { "" },
            small.instances.len(),
            summary.outcome.name(),
            small.instances.len() as f64 / wall
        );
        if real_ms > 0 {
            let ideal = simulate(&small, jobs, |_| seconds).lower_bound;
            println!(
                "real run against the ideal for -j {jobs}: {wall:.2} s / {ideal:.2} s = {:.3} ({:+.1}%)",
                wall / ideal,
                (wall / ideal - 1.0) * 100.0
            );
        }
    }
}

/// The bytes of every file under `dir`.
fn walkdir_size(dir: &Path) -> u64 {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .flatten()
        .filter_map(|entry| entry.metadata().ok())
        .filter(|metadata| metadata.is_file())
        .map(|metadata| metadata.len())
        .sum()
}
