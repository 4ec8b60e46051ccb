//! The plan: per-node task graphs, as Fuel's task-based engine builds them.
//!
//! A task is planned on every node having one of its roles. Same-node links
//! (`requires`, `required_for`) hold on every node; a link through a task
//! that a node does not have still orders the tasks around it, as Fuel's
//! engine does with its skipped placeholders. `cross-depends` and
//! `cross-depended-by` link tasks of different nodes.

use crate::catalog::{find_cycle, Catalog};
use crate::condition::{self, Facts, Verdict};
use crate::descriptor::{CrossDep, Policy, Task, TaskKind, Version};
use crate::error::{Diagnostic, Diagnostics};
use crate::inventory::{Inventory, Node};
use crate::matcher::RoleSelector;
use crate::yaql;
use std::collections::{BTreeMap, HashMap};

/// The stages that come next after `stage` in the same-node graph, with no
/// other stage between.
fn next_stages(catalog: &Catalog, stage: usize) -> Vec<usize> {
    let mut seen = vec![false; catalog.tasks.len()];
    let mut stack = catalog.successors[stage].clone();
    let mut found = Vec::new();
    while let Some(task) = stack.pop() {
        if std::mem::replace(&mut seen[task], true) {
            continue;
        }
        if catalog.tasks[task].kind == TaskKind::Stage {
            found.push(task);
        } else {
            stack.extend_from_slice(&catalog.successors[task]);
        }
    }
    found
}

fn run_or_sync(kind: TaskKind) -> Disposition {
    if kind.is_sync_point() {
        Disposition::SyncPoint
    } else {
        Disposition::Run
    }
}

/// A condition on one line, for messages.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn evaluate_on(node: &Node, expression: &Parsed) -> Option<Result<yaql::Value, String>> {
    let data = node.data.as_deref()?;
    Some(
        expression
            .as_ref()
            .map_err(Clone::clone)
            .and_then(|parsed| {
                parsed
                    .evaluate(
                        data,
                        node.previous_data.as_deref(),
                        &condition::node_variables(data),
                    )
                    .map_err(|err| err.to_string())
            }),
    )
}

/// A computed field's YAQL, parsed, or the syntax error.
type Parsed = Result<yaql::Expression, String>;

/// A task's computed fields, each parsed once per plan, not once per node.
struct ComputedFields {
    cross_depends: Option<Parsed>,
    cross_depended_by: Option<Parsed>,
    strategy_amount: Option<Parsed>,
}

impl ComputedFields {
    fn parse(task: &Task) -> ComputedFields {
        let parse = |text: &Option<String>| {
            text.as_deref()
                .map(|text| yaql::parse(text).map_err(|err| err.to_string()))
        };
        ComputedFields {
            cross_depends: parse(&task.computed.cross_depends),
            cross_depended_by: parse(&task.computed.cross_depended_by),
            strategy_amount: parse(&task.computed.strategy_amount),
        }
    }
}

/// Where a cross-node link leads: the nodes (None: the node itself) and
/// the tasks on them.
struct LinkTargets {
    nodes: Option<Vec<usize>>,
    tasks: Vec<usize>,
}

impl LinkTargets {
    fn of(dep: &CrossDep, catalog: &Catalog, nodes: &[Node]) -> LinkTargets {
        let tasks = match dep.name.exact() {
            Some(name) => catalog.index.get(name).copied().into_iter().collect(),
            None => (0..catalog.tasks.len())
                .filter(|&u| dep.name.matches(&catalog.tasks[u].id))
                .collect(),
        };
        let nodes = match &dep.role {
            RoleSelector::SameNode => None,
            RoleSelector::AnyNode => Some((0..nodes.len()).collect()),
            RoleSelector::Roles(matchers) => Some(
                (0..nodes.len())
                    .filter(|&m| {
                        nodes[m]
                            .roles
                            .iter()
                            .any(|role| matchers.iter().any(|matcher| matcher.matches(role)))
                    })
                    .collect(),
            ),
        };
        LinkTargets { nodes, tasks }
    }
}

/// The cross-node links a task computes (YAQL) on a node, each with true
/// for `cross-depended-by`; None without deployment data.
fn computed_cross_deps(
    computed: &ComputedFields,
    node: &Node,
) -> Result<Option<Vec<(CrossDep, bool)>>, String> {
    let mut links = Vec::new();
    for (expression, reversed, field) in [
        (&computed.cross_depends, false, "cross-depends"),
        (&computed.cross_depended_by, true, "cross-depended-by"),
    ] {
        let Some(expression) = expression else {
            continue;
        };
        let value = match evaluate_on(node, expression) {
            None => return Ok(None),
            Some(result) => result.map_err(|err| format!("`{field}`: {err}"))?,
        };
        let items = match &value {
            yaql::Value::List(items) => items.to_vec(),
            yaql::Value::Null => Vec::new(),
            other => {
                return Err(format!(
                    "`{field}` computed a {}, not a list of {{name, role}}",
                    other.type_name()
                ))
            }
        };
        for item in items {
            let text = |key: &str| {
                item.field(key)
                    .and_then(|value| value.as_str().map(str::to_string))
            };
            let Some(name) = text("name") else {
                return Err(format!(
                    "`{field}` computed an entry without a `name`: {item}"
                ));
            };
            let roles = match item.field("role") {
                None | Some(yaql::Value::Null) => Vec::new(),
                Some(yaql::Value::Str(role)) => vec![role.to_string()],
                Some(yaql::Value::List(roles)) => roles
                    .iter()
                    .filter_map(|role| role.as_str().map(str::to_string))
                    .collect(),
                Some(other) => {
                    return Err(format!(
                        "`{field}` computed a role that is a {}",
                        other.type_name()
                    ))
                }
            };
            let dep = CrossDep::parse(&name, roles, text("policy").as_deref())
                .map_err(|message| format!("`{field}`: {message}"))?;
            links.push((dep, reversed));
        }
    }
    Ok(Some(links))
}

/// A computed `strategy.amount`, on the first node that runs the task and has data.
fn strategy_amount(
    computed: &ComputedFields,
    nodes: &[Node],
    instances: &[Instance],
    t: usize,
) -> Result<Option<u32>, String> {
    let Some(expression) = &computed.strategy_amount else {
        return Ok(None);
    };
    let value = instances
        .iter()
        .filter(|instance| instance.task == t)
        .find_map(|instance| evaluate_on(&nodes[instance.node], expression));
    match value {
        None => Ok(None),
        Some(Ok(yaql::Value::Int(amount))) if amount >= 0 => {
            Ok(Some(u32::try_from(amount).unwrap_or(u32::MAX)))
        }
        Some(Ok(other)) => Err(format!(
            "`strategy.amount` computed `{other}`, not a number of nodes"
        )),
        Some(Err(err)) => Err(format!("`strategy.amount`: {err}")),
    }
}

/// Which part of the task graph to run.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    /// Run only these tasks.
    pub only: Vec<String>,
    /// Never run these tasks.
    pub skip: Vec<String>,
    /// Run this task and everything after it.
    pub start: Option<String>,
    /// Run this task and everything before it.
    pub end: Option<String>,
    /// Add the tasks that the selected ones need.
    pub with_deps: bool,
    /// Run on these nodes only.
    pub nodes: Vec<String>,
}

/// What happens to a planned task when its turn comes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Disposition {
    Run,
    /// group, stage, anchor: succeeds at once.
    SyncPoint,
    /// Done without running, for the reason given.
    Skip(String),
}

#[derive(Clone, Debug)]
pub struct Instance {
    pub node: usize,
    pub task: usize,
    pub disposition: Disposition,
    /// Why the task's condition could not be decided on this node (no
    /// deployment data): the task is planned, so the whole graph shows.
    pub undecided: Option<String>,
}

/// A group's failure budget, as Fuel 9 kept it: when more of the group's
/// nodes fail than `allowed`, the deployment stops.
#[derive(Clone, Debug)]
pub struct Tolerance {
    pub group: usize,
    pub nodes: Vec<usize>,
    pub allowed: usize,
}

#[derive(Clone, Debug)]
pub struct Plan {
    pub catalog: Catalog,
    pub nodes: Vec<Node>,
    pub instances: Vec<Instance>,
    pub successors: Vec<Vec<u32>>,
    pub predecessor_count: Vec<u32>,
    /// Per task: how many nodes may run it at once.
    pub limits: Vec<Option<u32>>,
    /// Per instance: length of the longest chain of instances it starts.
    pub priority: Vec<u32>,
    /// The groups' failure budgets (`fault_tolerance`).
    pub tolerances: Vec<Tolerance>,
    pub warnings: Vec<Diagnostic>,
}

impl Plan {
    pub fn build(
        catalog: Catalog,
        inventory: &Inventory,
        selection: &Selection,
    ) -> Result<Plan, Diagnostics> {
        let mut errors = Diagnostics::default();
        let nodes = select_nodes(inventory, &selection.nodes, &mut errors);
        let selected = select_tasks(&catalog, selection, &mut errors);
        if !errors.is_empty() {
            return Err(errors);
        }
        let task_count = catalog.tasks.len();
        let mut warnings = catalog.warnings.clone();

        // Nodes with the same roles have the same graph: build it once.
        let mut shapes: HashMap<Vec<String>, NodeShape> = HashMap::new();
        let mut slot = vec![u32::MAX; nodes.len() * task_count];
        let mut instances = Vec::new();
        let mut successors: Vec<Vec<u32>> = Vec::new();
        let mut node_shapes = Vec::with_capacity(nodes.len());
        for (n, node) in nodes.iter().enumerate() {
            let mut key = node.roles.clone();
            key.sort();
            let shape = shapes
                .entry(key)
                .or_insert_with(|| NodeShape::build(&catalog, &node.roles));
            for &task in &shape.tasks {
                slot[n * task_count + task] = instances.len() as u32;
                instances.push(Instance {
                    node: n,
                    task,
                    disposition: Disposition::Run,
                    undecided: None,
                });
                successors.push(Vec::new());
            }
            node_shapes.push(shape.edges.clone());
        }
        let at = |node: usize, task: usize| -> Option<u32> {
            let id = slot[node * task_count + task];
            (id != u32::MAX).then_some(id)
        };
        for (n, edges) in node_shapes.iter().enumerate() {
            for &(before, after) in edges.iter() {
                if let (Some(a), Some(b)) = (at(n, before), at(n, after)) {
                    successors[a as usize].push(b);
                }
            }
        }

        // Cross-node links. A task's written links lead to the same nodes
        // and tasks from each of its nodes: found once per task.
        let computed_fields: Vec<ComputedFields> =
            catalog.tasks.iter().map(ComputedFields::parse).collect();
        let mut written_targets: Vec<Option<Vec<LinkTargets>>> =
            (0..task_count).map(|_| None).collect();
        let mut undecided_links: BTreeMap<usize, String> = BTreeMap::new();
        for id in 0..instances.len() {
            let Instance {
                node: n, task: t, ..
            } = instances[id];
            let task = &catalog.tasks[t];
            let computed = match computed_cross_deps(&computed_fields[t], &nodes[n]) {
                Ok(Some(computed)) => computed,
                Ok(None) => {
                    if task.computed.cross_depends.is_some()
                        || task.computed.cross_depended_by.is_some()
                    {
                        undecided_links.insert(t, nodes[n].name.clone());
                    }
                    Vec::new()
                }
                Err(message) => {
                    errors.push(
                        Diagnostic::at_origin(
                            &task.origin,
                            format!("on node `{}`: {message}", nodes[n].name),
                        )
                        .task(&task.id)
                        .help(
                            "the node's deployment data (--data) lacks what the expression reads",
                        ),
                    );
                    Vec::new()
                }
            };
            let written = written_targets[t].get_or_insert_with(|| {
                task.cross_depends
                    .iter()
                    .chain(&task.cross_depended_by)
                    .map(|dep| LinkTargets::of(dep, &catalog, &nodes))
                    .collect()
            });
            let computed_targets: Vec<LinkTargets> = computed
                .iter()
                .map(|(dep, _)| LinkTargets::of(dep, &catalog, &nodes))
                .collect();
            let links = task
                .cross_depends
                .iter()
                .map(|dep| (dep, false))
                .chain(task.cross_depended_by.iter().map(|dep| (dep, true)))
                .chain(computed.iter().map(|(dep, reversed)| (dep, *reversed)))
                .zip(written.iter().chain(&computed_targets));
            for ((dep, reversed), targets) in links {
                let own = [n];
                let mut linked = false;
                for &m in targets.nodes.as_deref().unwrap_or(&own) {
                    for &u in &targets.tasks {
                        let Some(other) = at(m, u) else { continue };
                        if other as usize == id {
                            continue;
                        }
                        if reversed {
                            successors[id].push(other);
                        } else {
                            successors[other as usize].push(id as u32);
                        }
                        linked = true;
                    }
                    if linked && dep.policy == Policy::Any {
                        break;
                    }
                }
            }
        }
        // Stages (`type: stage`: deploy_start, deploy_end...) hold across
        // nodes, as in Fuel: a stage starts on a node once the stages before
        // it are done on every node. The first node's instance is the gate
        // the others pass after it (2 links per node, not one per pair).
        for before in (0..task_count).filter(|&t| catalog.tasks[t].kind == TaskKind::Stage) {
            for after in next_stages(&catalog, before) {
                let afters: Vec<u32> = (0..nodes.len()).filter_map(|n| at(n, after)).collect();
                let Some((&gate, rest)) = afters.split_first() else {
                    continue;
                };
                for m in 0..nodes.len() {
                    if let Some(done) = at(m, before) {
                        successors[done as usize].push(gate);
                    }
                }
                for &other in rest {
                    successors[gate as usize].push(other);
                }
            }
        }
        for span in &catalog.groups {
            let starts: Vec<usize> = (0..nodes.len())
                .filter(|&m| at(m, span.start).is_some())
                .collect();
            for &earlier in &span.after {
                let end = catalog.groups[earlier].end;
                for m in 0..nodes.len() {
                    let Some(before) = at(m, end) else { continue };
                    for &n in &starts {
                        if let Some(after) = at(n, span.start) {
                            successors[before as usize].push(after);
                        }
                    }
                }
            }
            if let Some(limit) = catalog.tasks[span.start].strategy.and_then(|s| s.limit()) {
                let window = limit.max(1) as usize;
                for pair in window..starts.len() {
                    if let (Some(before), Some(after)) = (
                        at(starts[pair - window], span.end),
                        at(starts[pair], span.start),
                    ) {
                        successors[before as usize].push(after);
                    }
                }
            }
        }
        for list in &mut successors {
            list.sort_unstable();
            list.dedup();
        }

        for (t, node) in undecided_links {
            let task = &catalog.tasks[t];
            warnings.push(
                Diagnostic::at_origin(
                    &task.origin,
                    format!("its cross-node links are computed (YAQL) from deployment data, and node `{node}` has none: they are left out"),
                )
                .task(&task.id)
                .help("pass the node's data with --data (or `data:` in the inventory)"),
            );
        }

        // What each instance does: conditions are decided per node.
        let mut undecided_tasks: BTreeMap<usize, String> = BTreeMap::new();
        for instance in &mut instances {
            let (t, node) = (instance.task, &nodes[instance.node]);
            let task = &catalog.tasks[t];
            let facts = Facts {
                data: node.data.as_deref(),
                previous: node.previous_data.as_deref(),
                settings: &inventory.settings,
            };
            instance.disposition = if !selected[t] {
                Disposition::Skip("not selected".into())
            } else if task.kind == TaskKind::Skipped {
                Disposition::Skip("type: skipped".into())
            } else {
                let verdict = match &catalog.conditions[t] {
                    None => Ok(Verdict::True),
                    Some(compiled) => compiled.decide(&facts),
                };
                match verdict {
                    Ok(Verdict::False) => Disposition::Skip(format!(
                        "condition is false: {}",
                        one_line(task.condition.as_ref().map_or("", |c| c.text()))
                    )),
                    Ok(Verdict::Undecided(reason)) => {
                        undecided_tasks.entry(t).or_insert(reason.clone());
                        instance.undecided = Some(reason);
                        run_or_sync(task.kind)
                    }
                    Ok(Verdict::True) => run_or_sync(task.kind),
                    Err(message) => {
                        errors.push(
                            Diagnostic::at_origin(
                                &task.origin,
                                format!("its condition cannot be decided on node `{}`: {message}", node.name),
                            )
                            .task(&task.id)
                            .help("the node's deployment data (--data) lacks what the condition reads; Fuel's astute.yaml had it"),
                        );
                        run_or_sync(task.kind)
                    }
                }
            };
        }
        // A few undecided conditions are named one by one; a whole graph
        // without data gets one line.
        const NAMED_ONE_BY_ONE: usize = 3;
        if undecided_tasks.len() > NAMED_ONE_BY_ONE {
            warnings.push(
                Diagnostic::general(format!(
                    "the conditions of {} tasks are undecided (nodes without deployment data): the tasks are planned and marked `condition undecided`",
                    undecided_tasks.len()
                ))
                .help("pass each node's data with --data (or `data:` in the inventory) to decide them"),
            );
        } else {
            for (t, reason) in undecided_tasks {
                let task = &catalog.tasks[t];
                warnings.push(
                    Diagnostic::at_origin(
                        &task.origin,
                        format!("its condition is undecided ({reason}); the task is planned"),
                    )
                    .task(&task.id),
                );
            }
        }

        let mut limits = Vec::with_capacity(task_count);
        for (t, task) in catalog.tasks.iter().enumerate() {
            limits.push(match task.kind {
                TaskKind::Group if task.version == Version::V1 => None,
                _ => match strategy_amount(&computed_fields[t], &nodes, &instances, t) {
                    Ok(Some(amount)) => Some(amount),
                    Ok(None) => task.strategy.and_then(|strategy| strategy.limit()),
                    Err(message) => {
                        errors.push(Diagnostic::at_origin(&task.origin, message).task(&task.id));
                        None
                    }
                },
            });
        }
        if !errors.is_empty() {
            return Err(errors);
        }

        let mut predecessor_count = vec![0u32; instances.len()];
        for list in &successors {
            for &succ in list {
                predecessor_count[succ as usize] += 1;
            }
        }
        let Some(order) = topological_order(&successors, &predecessor_count) else {
            let as_usize: Vec<Vec<usize>> = successors
                .iter()
                .map(|list| list.iter().map(|&s| s as usize).collect())
                .collect();
            let cycle = find_cycle(&as_usize).unwrap_or_default();
            let path: Vec<String> = cycle
                .iter()
                .map(|&i| {
                    format!(
                        "{}@{}",
                        catalog.tasks[instances[i].task].id, nodes[instances[i].node].name
                    )
                })
                .collect();
            return Err(Diagnostic::general(format!("the plan has a dependency cycle across nodes: {}", path.join(" -> ")))
                .help("a cross-depends link points back at a task that waits for it; remove one link of this cycle")
                .into());
        };
        let mut priority = vec![0u32; instances.len()];
        for &id in order.iter().rev() {
            let longest_after = successors[id as usize]
                .iter()
                .map(|&s| priority[s as usize])
                .max()
                .unwrap_or(0);
            priority[id as usize] = longest_after + 1;
        }

        let tolerances = catalog
            .tasks
            .iter()
            .enumerate()
            .filter(|(_, task)| task.kind == TaskKind::Group)
            .filter_map(|(t, task)| {
                let budget = task.fault_tolerance?;
                let nodes: Vec<usize> = instances
                    .iter()
                    .filter(|instance| instance.task == t)
                    .map(|instance| instance.node)
                    .collect();
                Some(Tolerance {
                    group: t,
                    allowed: budget.allowed(nodes.len()),
                    nodes,
                })
            })
            .collect();

        Ok(Plan {
            catalog,
            nodes,
            instances,
            successors,
            predecessor_count,
            limits,
            priority,
            tolerances,
            warnings,
        })
    }

    pub fn task_id(&self, instance: u32) -> &str {
        &self.catalog.tasks[self.instances[instance as usize].task].id
    }

    pub fn node_name(&self, instance: u32) -> &str {
        &self.nodes[self.instances[instance as usize].node].name
    }

    /// Instances by level: each wave only needs earlier waves.
    pub fn waves(&self) -> Vec<Vec<u32>> {
        let order =
            topological_order(&self.successors, &self.predecessor_count).unwrap_or_default();
        let mut level = vec![0usize; self.instances.len()];
        let mut waves: Vec<Vec<u32>> = Vec::new();
        for &id in &order {
            let wave = level[id as usize];
            if waves.len() <= wave {
                waves.resize(wave + 1, Vec::new());
            }
            waves[wave].push(id);
            for &succ in &self.successors[id as usize] {
                level[succ as usize] = level[succ as usize].max(wave + 1);
            }
        }
        waves
    }

    /// The longest chain of instances, first to last.
    pub fn critical_path(&self) -> Vec<u32> {
        let Some(mut at) = (0..self.instances.len() as u32)
            .filter(|&id| self.predecessor_count[id as usize] == 0)
            .max_by_key(|&id| (self.priority[id as usize], std::cmp::Reverse(id)))
        else {
            return Vec::new();
        };
        let mut path = vec![at];
        while let Some(&next) = self.successors[at as usize]
            .iter()
            .filter(|&&s| self.priority[s as usize] + 1 == self.priority[at as usize])
            .min()
        {
            path.push(next);
            at = next;
        }
        path
    }
}

/// The tasks one kind of node runs and the order between them.
#[derive(Clone)]
struct NodeShape {
    tasks: Vec<usize>,
    edges: std::rc::Rc<Vec<(usize, usize)>>,
}

impl NodeShape {
    fn build(catalog: &Catalog, roles: &[String]) -> NodeShape {
        let planned: Vec<bool> = catalog
            .tasks
            .iter()
            .map(|task| {
                task.roles
                    .iter()
                    .any(|matcher| roles.iter().any(|role| matcher.matches(role)))
            })
            .collect();
        let tasks: Vec<usize> = (0..catalog.tasks.len()).filter(|&t| planned[t]).collect();
        // Links through tasks this node lacks still order the tasks around them.
        let mut edges = Vec::new();
        let mut seen = vec![usize::MAX; catalog.tasks.len()];
        for &from in &tasks {
            let mut stack: Vec<usize> = catalog.successors[from].clone();
            while let Some(next) = stack.pop() {
                if seen[next] == from {
                    continue;
                }
                seen[next] = from;
                if planned[next] {
                    edges.push((from, next));
                } else {
                    stack.extend(&catalog.successors[next]);
                }
            }
        }
        NodeShape {
            tasks,
            edges: std::rc::Rc::new(edges),
        }
    }
}

/// Kahn's order, or None when the graph has a cycle.
pub fn topological_order(successors: &[Vec<u32>], predecessor_count: &[u32]) -> Option<Vec<u32>> {
    let mut remaining = predecessor_count.to_vec();
    let mut order: Vec<u32> = (0..remaining.len() as u32)
        .filter(|&i| remaining[i as usize] == 0)
        .collect();
    let mut next = 0;
    while next < order.len() {
        let id = order[next];
        next += 1;
        for &succ in &successors[id as usize] {
            remaining[succ as usize] -= 1;
            if remaining[succ as usize] == 0 {
                order.push(succ);
            }
        }
    }
    (order.len() == remaining.len()).then_some(order)
}

fn select_nodes(inventory: &Inventory, names: &[String], errors: &mut Diagnostics) -> Vec<Node> {
    for name in names {
        if !inventory.nodes.iter().any(|node| &node.name == name) {
            let known: Vec<&str> = inventory
                .nodes
                .iter()
                .map(|node| node.name.as_str())
                .collect();
            errors.push(
                Diagnostic::general(format!("--node {name}: no such node in the inventory"))
                    .help(format!("nodes: {}", known.join(", "))),
            );
        }
    }
    inventory
        .nodes
        .iter()
        .filter(|node| names.is_empty() || names.contains(&node.name))
        .cloned()
        .collect()
}

/// Which tasks the selection options keep, by catalog index.
fn select_tasks(catalog: &Catalog, selection: &Selection, errors: &mut Diagnostics) -> Vec<bool> {
    let count = catalog.tasks.len();
    let mut lookup = |option: &str, id: &str| -> Option<usize> {
        let found = catalog.index.get(id).copied();
        if found.is_none() {
            errors.push(
                Diagnostic::general(format!("{option} {id}: no such task"))
                    .help("`granule tasks list --tasks PATH` shows the task ids"),
            );
        }
        found
    };
    let mut predecessors = vec![Vec::new(); count];
    for (from, list) in catalog.successors.iter().enumerate() {
        for &to in list {
            predecessors[to].push(from);
        }
    }
    // Cross-node links with plain names also order tasks.
    let mut successors = catalog.successors.clone();
    for (t, task) in catalog.tasks.iter().enumerate() {
        for dep in &task.cross_depends {
            if let Some(&u) = dep.name.exact().and_then(|name| catalog.index.get(name)) {
                successors[u].push(t);
                predecessors[t].push(u);
            }
        }
        for dep in &task.cross_depended_by {
            if let Some(&u) = dep.name.exact().and_then(|name| catalog.index.get(name)) {
                successors[t].push(u);
                predecessors[u].push(t);
            }
        }
    }
    let closure = |roots: &[usize], links: &[Vec<usize>]| -> Vec<bool> {
        let mut reached = vec![false; count];
        let mut stack = roots.to_vec();
        while let Some(at) = stack.pop() {
            if !std::mem::replace(&mut reached[at], true) {
                stack.extend(&links[at]);
            }
        }
        reached
    };
    let mut keep = vec![true; count];
    let mut restrict = |chosen: Vec<bool>| {
        let chosen = if selection.with_deps {
            let roots: Vec<usize> = (0..count).filter(|&t| chosen[t]).collect();
            closure(&roots, &predecessors)
        } else {
            chosen
        };
        for (kept, chosen) in keep.iter_mut().zip(chosen) {
            *kept &= chosen;
        }
    };
    if !selection.only.is_empty() {
        let roots: Vec<usize> = selection
            .only
            .iter()
            .filter_map(|id| lookup("--only", id))
            .collect();
        let mut chosen = vec![false; count];
        for root in roots {
            chosen[root] = true;
        }
        restrict(chosen);
    }
    if let Some(start) = selection
        .start
        .as_deref()
        .and_then(|id| lookup("--start", id))
    {
        restrict(closure(&[start], &successors));
    }
    if let Some(end) = selection.end.as_deref().and_then(|id| lookup("--end", id)) {
        restrict(closure(&[end], &predecessors));
    }
    for id in &selection.skip {
        if let Some(t) = lookup("--skip", id) {
            keep[t] = false;
        }
    }
    keep
}
