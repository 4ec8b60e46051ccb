//! The scheduler: which planned task may start now. Pure state, no I/O, so
//! the runner and the simulator (benchmarks, tests) share it.
//!
//! Rules, as in Fuel's task-based engine: a task starts when everything it
//! needs is done (succeeded or skipped); a node runs one task at a time; at
//! most `max_parallel` tasks run at once; a task with a strategy runs on at
//! most `amount` nodes at once. Among startable tasks, the one heading the
//! longest chain goes first, which keeps the critical path moving.

use crate::plan::Plan;
use serde::{Deserialize, Serialize};
use std::cmp::Reverse;
use std::collections::BinaryHeap;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    /// Something it needs is not done yet.
    Waiting,
    /// Everything it needs is done; waiting for a free node or slot.
    Pending,
    Running,
    Succeeded,
    Failed,
    /// `test_pre` failed: the task was not run.
    FailedPrecondition,
    /// Not run on purpose (type skipped, false condition, not selected).
    Skipped,
    /// Something it needs failed.
    DependencyFailed,
}

impl State {
    pub const ALL: [State; 8] = [
        State::Waiting,
        State::Pending,
        State::Running,
        State::Succeeded,
        State::Failed,
        State::FailedPrecondition,
        State::Skipped,
        State::DependencyFailed,
    ];

    pub fn name(self) -> &'static str {
        match self {
            State::Waiting => "waiting",
            State::Pending => "pending",
            State::Running => "running",
            State::Succeeded => "succeeded",
            State::Failed => "failed",
            State::FailedPrecondition => "failed-precondition",
            State::Skipped => "skipped",
            State::DependencyFailed => "dependency-failed",
        }
    }

    /// Done in a way that lets dependants go on.
    pub fn is_done(self) -> bool {
        matches!(self, State::Succeeded | State::Skipped)
    }

    pub fn is_failure(self) -> bool {
        matches!(
            self,
            State::Failed | State::FailedPrecondition | State::DependencyFailed
        )
    }
}

impl std::fmt::Display for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

pub struct Scheduler<'p> {
    plan: &'p Plan,
    state: Vec<State>,
    remaining: Vec<u32>,
    node_busy: Vec<bool>,
    task_running: Vec<u32>,
    ready: BinaryHeap<(u32, Reverse<u32>)>,
    parked_on_node: Vec<Vec<u32>>,
    parked_on_task: Vec<Vec<u32>>,
    /// Never started in this run (`--stop-after`: what comes after the stop).
    held: Vec<bool>,
    running: usize,
    max_parallel: usize,
    transitions: Vec<(u32, State)>,
}

impl<'p> Scheduler<'p> {
    /// `done` marks instances already done in an earlier run (resume).
    pub fn new(plan: &'p Plan, max_parallel: usize, done: &[bool]) -> Scheduler<'p> {
        let count = plan.instances.len();
        let mut scheduler = Scheduler {
            plan,
            state: vec![State::Waiting; count],
            remaining: plan.predecessor_count.clone(),
            node_busy: vec![false; plan.nodes.len()],
            task_running: vec![0; plan.catalog.tasks.len()],
            ready: BinaryHeap::new(),
            parked_on_node: vec![Vec::new(); plan.nodes.len()],
            parked_on_task: vec![Vec::new(); plan.catalog.tasks.len()],
            held: vec![false; count],
            running: 0,
            max_parallel: max_parallel.max(1),
            transitions: Vec::new(),
        };
        for id in 0..count {
            if done.get(id).copied().unwrap_or(false) {
                scheduler.state[id] = State::Succeeded;
                for &succ in &plan.successors[id] {
                    scheduler.remaining[succ as usize] -= 1;
                }
            }
        }
        for id in 0..count as u32 {
            if scheduler.state[id as usize] == State::Waiting
                && scheduler.remaining[id as usize] == 0
            {
                scheduler.make_pending(id);
            }
        }
        scheduler
    }

    pub fn state(&self, id: u32) -> State {
        self.state[id as usize]
    }

    pub fn states(&self) -> &[State] {
        &self.state
    }

    pub fn running(&self) -> usize {
        self.running
    }

    /// State changes since the last call, in order.
    pub fn take_transitions(&mut self) -> Vec<(u32, State)> {
        std::mem::take(&mut self.transitions)
    }

    fn set(&mut self, id: u32, state: State) {
        self.state[id as usize] = state;
        self.transitions.push((id, state));
    }

    fn make_pending(&mut self, id: u32) {
        self.set(id, State::Pending);
        self.ready
            .push((self.plan.priority[id as usize], Reverse(id)));
    }

    /// Keeps everything that comes after these instances from starting.
    pub fn hold_after(&mut self, roots: &[u32]) {
        for (held, after) in self.held.iter_mut().zip(after_instances(self.plan, roots)) {
            *held |= after;
        }
    }

    /// The next task to start, marked running; None when none may start now.
    pub fn start_next(&mut self) -> Option<u32> {
        while self.running < self.max_parallel {
            let (_, Reverse(id)) = self.ready.pop()?;
            if self.state[id as usize] != State::Pending || self.held[id as usize] {
                continue;
            }
            let instance = &self.plan.instances[id as usize];
            if self.node_busy[instance.node] {
                self.parked_on_node[instance.node].push(id);
                continue;
            }
            if let Some(limit) = self.plan.limits[instance.task] {
                if self.task_running[instance.task] >= limit {
                    self.parked_on_task[instance.task].push(id);
                    continue;
                }
            }
            self.node_busy[instance.node] = true;
            self.task_running[instance.task] += 1;
            self.running += 1;
            self.set(id, State::Running);
            return Some(id);
        }
        None
    }

    /// Records how a running task ended and releases what waited for it.
    pub fn finish(&mut self, id: u32, outcome: State) {
        debug_assert_eq!(self.state[id as usize], State::Running);
        let instance = &self.plan.instances[id as usize];
        let (node, task) = (instance.node, instance.task);
        self.node_busy[node] = false;
        self.task_running[task] -= 1;
        self.running -= 1;
        for parked in std::mem::take(&mut self.parked_on_node[node]) {
            self.ready
                .push((self.plan.priority[parked as usize], Reverse(parked)));
        }
        for parked in std::mem::take(&mut self.parked_on_task[task]) {
            self.ready
                .push((self.plan.priority[parked as usize], Reverse(parked)));
        }
        self.set(id, outcome);
        if outcome.is_done() {
            for &succ in &self.plan.successors[id as usize] {
                self.remaining[succ as usize] -= 1;
                if self.remaining[succ as usize] == 0 && self.state[succ as usize] == State::Waiting
                {
                    self.make_pending(succ);
                }
            }
        } else {
            let mut stack: Vec<u32> = self.plan.successors[id as usize].clone();
            while let Some(at) = stack.pop() {
                if matches!(self.state[at as usize], State::Waiting | State::Pending) {
                    self.set(at, State::DependencyFailed);
                    stack.extend(&self.plan.successors[at as usize]);
                }
            }
        }
    }
}

/// A simulated run: every task takes `duration(instance)`, nothing fails.
pub struct Simulation {
    pub makespan: f64,
    /// No schedule can be shorter than this: the longest chain, the busiest
    /// node, the total work spread over `max_parallel`.
    pub lower_bound: f64,
    /// (instance, start, end) for each task.
    pub spans: Vec<(u32, f64, f64)>,
}

pub fn simulate(plan: &Plan, max_parallel: usize, duration: impl Fn(u32) -> f64) -> Simulation {
    struct At(f64);
    impl PartialEq for At {
        fn eq(&self, other: &Self) -> bool {
            self.0.total_cmp(&other.0).is_eq()
        }
    }
    impl Eq for At {}
    impl PartialOrd for At {
        fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
            Some(self.cmp(other))
        }
    }
    impl Ord for At {
        fn cmp(&self, other: &Self) -> std::cmp::Ordering {
            self.0.total_cmp(&other.0)
        }
    }
    let mut scheduler = Scheduler::new(plan, max_parallel, &[]);
    let mut events: BinaryHeap<Reverse<(At, u32)>> = BinaryHeap::new();
    let mut now = 0.0;
    let mut spans = Vec::with_capacity(plan.instances.len());
    let mut start = vec![0.0; plan.instances.len()];
    loop {
        while let Some(id) = scheduler.start_next() {
            start[id as usize] = now;
            events.push(Reverse((At(now + duration(id)), id)));
        }
        let Some(Reverse((At(end), id))) = events.pop() else {
            break;
        };
        now = end;
        scheduler.finish(id, State::Succeeded);
        spans.push((id, start[id as usize], end));
    }

    let count = plan.instances.len();
    let mut chain = vec![0.0f64; count];
    let order = crate::plan::topological_order(&plan.successors, &plan.predecessor_count)
        .unwrap_or_default();
    for &id in order.iter().rev() {
        let after = plan.successors[id as usize]
            .iter()
            .map(|&s| chain[s as usize])
            .fold(0.0, f64::max);
        chain[id as usize] = after + duration(id);
    }
    let longest_chain = chain.iter().copied().fold(0.0, f64::max);
    let mut node_work = vec![0.0; plan.nodes.len()];
    let mut total = 0.0;
    for id in 0..count as u32 {
        let d = duration(id);
        node_work[plan.instances[id as usize].node] += d;
        total += d;
    }
    let busiest_node = node_work.iter().copied().fold(0.0, f64::max);
    Simulation {
        makespan: now,
        lower_bound: longest_chain
            .max(busiest_node)
            .max(total / max_parallel.max(1) as f64),
        spans,
    }
}

/// Per instance: whether it comes after one of `roots` (through any chain
/// of dependencies).
pub fn after_instances(plan: &Plan, roots: &[u32]) -> Vec<bool> {
    let mut after = vec![false; plan.instances.len()];
    let mut stack: Vec<u32> = roots
        .iter()
        .flat_map(|&root| plan.successors[root as usize].iter().copied())
        .collect();
    while let Some(at) = stack.pop() {
        if !std::mem::replace(&mut after[at as usize], true) {
            stack.extend(&plan.successors[at as usize]);
        }
    }
    after
}
