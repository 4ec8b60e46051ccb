//! A validated task set: ids resolved, version 1 groups expanded into
//! synchronisation points, same-node edges built, cycles refused.
//!
//! Version 1 groups (`type: group` with `role`) deploy their member tasks
//! between two points on each node of the group: the group itself (its start)
//! and a synthetic `GROUP/end`. Group-to-group `requires`/`required_for`
//! order groups across nodes (every node of the required group ends before any
//! node of the requiring group starts), and a group `strategy` limits how
//! many of its nodes go through the group at once. Version 2 groups only give
//! their roles to the tasks they list; ordering across nodes is explicit
//! (`cross-depends`).

use crate::condition::{self, Compiled};
use crate::descriptor::{Action, Phase, Task, TaskKind, TaskSet, UploadData, Version};
use crate::error::{Diagnostic, Diagnostics};
use crate::matcher::Matcher;
use crate::yaql;
use std::collections::HashMap;

/// The end of a version 1 group is this task id suffix.
pub const GROUP_END_SUFFIX: &str = "/end";

/// A version 1 group as it synchronises nodes.
#[derive(Clone, Debug)]
pub struct GroupSpan {
    pub start: usize,
    pub end: usize,
    /// Groups that must end everywhere before this one starts anywhere.
    pub after: Vec<usize>,
}

#[derive(Clone, Debug)]
pub struct Catalog {
    pub tasks: Vec<Task>,
    pub index: HashMap<String, usize>,
    /// Same-node edges: `successors[a]` run after `a` on a node that has both.
    pub successors: Vec<Vec<usize>>,
    pub groups: Vec<GroupSpan>,
    /// Per task: its condition, parsed.
    pub conditions: Vec<Option<Compiled>>,
    /// Things worth knowing that do not stop a run.
    pub warnings: Vec<Diagnostic>,
}

impl Catalog {
    pub fn build(set: &TaskSet) -> Result<Catalog, Diagnostics> {
        let mut errors = Diagnostics::default();
        let mut tasks: Vec<Task> = Vec::with_capacity(set.tasks.len());
        let mut index: HashMap<String, usize> = HashMap::new();
        for task in &set.tasks {
            if let Some(&first) = index.get(&task.id) {
                errors.push(
                    Diagnostic::at_origin(&task.origin, "duplicate task id")
                        .task(&task.id)
                        .help(format!(
                            "first declared at {}; rename one of them or remove the copy",
                            tasks[first].origin
                        )),
                );
                continue;
            }
            index.insert(task.id.clone(), tasks.len());
            tasks.push(task.clone());
        }

        let mut warnings = set.warnings.clone();
        // A file that declares nothing is most likely not what was meant
        // (emptied by mistake, the wrong file, a list nested one level too
        // deep), and the run would silently do less.
        for file in &set.files {
            if !set.tasks.iter().any(|task| task.origin.file == *file) {
                warnings.push(
                    Diagnostic::new(file, "no task in this file")
                        .help("a tasks.yaml file is a YAML list of tasks, each with at least `id` and `type`; see docs/executor.md"),
                );
            }
        }
        check_references(&tasks, &index, &mut errors, &mut warnings);
        if !errors.is_empty() {
            return Err(errors);
        }

        let groups = expand_groups(&mut tasks, &mut index);
        assign_roles(&mut tasks, &index, &mut errors);
        add_phase_barriers(&mut tasks, &mut index);
        let conditions = compile_expressions(&tasks, &mut errors);

        let mut successors = vec![Vec::new(); tasks.len()];
        let v1_group =
            |i: usize| tasks[i].kind == TaskKind::Group && tasks[i].version == Version::V1;
        for (from, task) in tasks.iter().enumerate() {
            for required in &task.requires {
                let before = index[required];
                // Group-to-group order is across nodes (GroupSpan::after), not per node.
                if !(v1_group(from) && v1_group(before)) {
                    successors[before].push(from);
                }
            }
            for following in &task.required_for {
                let after = index[following];
                if !(v1_group(from) && v1_group(after)) {
                    successors[from].push(after);
                }
            }
        }
        for list in &mut successors {
            list.sort_unstable();
            list.dedup();
        }
        if let Some(cycle) = find_cycle(&successors) {
            let path: Vec<&str> = cycle.iter().map(|&i| tasks[i].id.as_str()).collect();
            let first = &tasks[cycle[0]];
            errors.push(
                Diagnostic::at_origin(
                    &first.origin,
                    format!("dependency cycle: {}", path.join(" -> ")),
                )
                .task(&first.id)
                .help("remove one of these `requires`/`required_for` links"),
            );
        }
        errors.into_result(Catalog {
            tasks,
            index,
            successors,
            groups,
            conditions,
            warnings,
        })
    }
}

/// Parses every condition and computed field, so that a syntax error is
/// found when the files are checked, not on some node during a run.
fn compile_expressions(tasks: &[Task], errors: &mut Diagnostics) -> Vec<Option<Compiled>> {
    let mut conditions = Vec::with_capacity(tasks.len());
    for task in tasks {
        let error = |message: String| Diagnostic::at_origin(&task.origin, message).task(&task.id);
        conditions.push(match task.condition.as_ref().map(condition::compile) {
            None => None,
            Some(Ok(compiled)) => Some(compiled),
            Some(Err(message)) => {
                errors.push(error(format!("condition: {message}")));
                None
            }
        });
        let upload = match &task.action {
            Action::UploadFile {
                data: UploadData::Yaql(text),
                ..
            } => Some(("parameters.data", text.as_str())),
            _ => None,
        };
        for (field, text) in task.computed.fields().chain(upload) {
            if let Err(err) = yaql::parse(text) {
                errors.push(error(format!("`{field}`: YAQL syntax error: {err}")));
            }
        }
    }
    conditions
}

fn check_references(
    tasks: &[Task],
    index: &HashMap<String, usize>,
    errors: &mut Diagnostics,
    warnings: &mut Vec<Diagnostic>,
) {
    for task in tasks {
        let fields = [
            ("requires", &task.requires),
            ("required_for", &task.required_for),
            ("tasks", &task.members),
        ];
        for (field, names) in fields {
            for name in names {
                if !index.contains_key(name) {
                    let mut diagnostic = Diagnostic::at_origin(
                        &task.origin,
                        format!("`{field}` names `{name}`, which no task file declares"),
                    )
                    .task(&task.id);
                    diagnostic = match closest(name, index.keys()) {
                        Some(near) => diagnostic.help(format!("did you mean `{near}`?")),
                        None => diagnostic
                            .help("declare that task, or pass the file that does with --tasks"),
                    };
                    errors.push(diagnostic);
                }
            }
        }
        for dep in task.cross_depends.iter().chain(&task.cross_depended_by) {
            if let Some(name) = dep.name.exact() {
                if !index.contains_key(name) {
                    warnings.push(
                        Diagnostic::at_origin(
                            &task.origin,
                            format!("cross-dependency on `{name}`, which no task file declares; it is ignored"),
                        )
                        .task(&task.id),
                    );
                }
            }
        }
    }
}

/// The known name nearest to a misspelt one, if it is near enough.
pub fn closest<'a>(name: &str, known: impl Iterator<Item = &'a String>) -> Option<&'a String> {
    known
        .map(|candidate| (edit_distance(name, candidate), candidate))
        .filter(|(distance, candidate)| *distance <= (name.len().max(candidate.len()) / 3).max(1))
        .min()
        .map(|(_, candidate)| candidate)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

/// Adds `GROUP/end` for every version 1 group and links members between
/// the group's start and end.
fn expand_groups(tasks: &mut Vec<Task>, index: &mut HashMap<String, usize>) -> Vec<GroupSpan> {
    let group_ids: Vec<usize> = (0..tasks.len())
        .filter(|&i| tasks[i].kind == TaskKind::Group && tasks[i].version == Version::V1)
        .collect();
    let mut spans = Vec::new();
    for &start in &group_ids {
        let group = tasks[start].clone();
        let end_id = format!("{}{GROUP_END_SUFFIX}", group.id);
        let end = tasks.len();
        let members: Vec<usize> = tasks
            .iter()
            .enumerate()
            .filter(|(i, task)| {
                *i != start && (task.groups.contains(&group.id) || group.members.contains(&task.id))
            })
            .map(|(i, _)| i)
            .collect();
        for &member in &members {
            tasks[member].requires.push(group.id.clone());
            tasks[member].required_for.push(end_id.clone());
        }
        // The group's own links to non-groups leave from its end.
        let is_v1_group = |name: &String| {
            index.get(name).is_some_and(|&i| {
                tasks[i].kind == TaskKind::Group && tasks[i].version == Version::V1
            })
        };
        let (group_after, stage_after): (Vec<String>, Vec<String>) = group
            .required_for
            .iter()
            .cloned()
            .partition(|name| is_v1_group(name));
        tasks[start].required_for = group_after;
        let mut end_task = group.clone();
        end_task.id = end_id.clone();
        end_task.kind = TaskKind::Anchor;
        end_task.requires = vec![group.id.clone()];
        end_task.required_for = stage_after;
        end_task.members = Vec::new();
        end_task.strategy = None;
        index.insert(end_id, end);
        tasks.push(end_task);
        spans.push(GroupSpan {
            start,
            end,
            after: Vec::new(),
        });
    }
    // Group order: `B requires A` or `A required_for B` puts A before B.
    let span_of: HashMap<usize, usize> = spans
        .iter()
        .enumerate()
        .map(|(s, span)| (span.start, s))
        .collect();
    for s in 0..spans.len() {
        let group = &tasks[spans[s].start];
        let mut after: Vec<usize> = group
            .requires
            .iter()
            .filter_map(|name| span_of.get(&index[name]).copied())
            .collect();
        for (other, span) in spans.iter().enumerate() {
            if tasks[span.start].required_for.contains(&group.id) {
                after.push(other);
            }
        }
        after.sort_unstable();
        after.dedup();
        spans[s].after = after;
    }
    spans
}

/// Gives every task the roles it runs on: its own, those of the groups that
/// hold it; synchronisation points without roles run everywhere.
fn assign_roles(tasks: &mut [Task], index: &HashMap<String, usize>, errors: &mut Diagnostics) {
    let inherited: Vec<Vec<Matcher>> = tasks
        .iter()
        .map(|task| {
            let mut roles = Vec::new();
            for group in &task.groups {
                match index.get(group) {
                    Some(&g) if tasks[g].kind == TaskKind::Group => {
                        roles.extend(tasks[g].roles.iter().cloned())
                    }
                    // A `groups:` entry without a group task is a role name.
                    _ => roles.push(Matcher::Exact(group.clone())),
                }
            }
            for holder in tasks.iter().filter(|holder| holder.kind == TaskKind::Group) {
                if holder.members.contains(&task.id) {
                    roles.extend(holder.roles.iter().cloned());
                }
            }
            roles
        })
        .collect();
    for (task, roles) in tasks.iter_mut().zip(inherited) {
        task.roles.extend(roles);
        if task.roles.is_empty() {
            if task.kind.is_sync_point() || task.kind == TaskKind::Skipped {
                task.roles.push(Matcher::Any);
            } else {
                errors.push(
                    Diagnostic::at_origin(&task.origin, "no role selects this task, so it would never run")
                        .task(&task.id)
                        .help("add `role: [ROLE]` (or `groups:` in version 1), or list it in a group's `tasks`"),
                );
            }
        }
    }
}

/// Fuel 6.x stages: every pre-deployment task before the rest, every
/// post-deployment task after it, and within a phase the smaller orders
/// first, on all nodes: each bucket of tasks ends everywhere before the next
/// starts anywhere. A synthetic `type: stage` task between two buckets (on
/// every node) carries the order; stages hold across nodes (see the plan).
fn add_phase_barriers(tasks: &mut Vec<Task>, index: &mut HashMap<String, usize>) {
    let key = |task: &Task| match task.stage {
        Some(stage) if stage.phase != Phase::Deployment => (stage.phase, stage.order),
        _ => (Phase::Deployment, 0.0),
    };
    if tasks
        .iter()
        .all(|task| key(task) == (Phase::Deployment, 0.0))
    {
        return;
    }
    let mut staged: Vec<usize> = (0..tasks.len()).collect();
    staged.sort_by(|&a, &b| {
        key(&tasks[a])
            .partial_cmp(&key(&tasks[b]))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let buckets: Vec<Vec<usize>> = staged
        .chunk_by(|&a, &b| key(&tasks[a]) == key(&tasks[b]))
        .map(<[usize]>::to_vec)
        .collect();
    for pair in buckets.windows(2) {
        let (phase, order) = key(&tasks[pair[1][0]]);
        let name = match phase {
            Phase::PreDeployment => "pre_deployment",
            Phase::Deployment => "deployment",
            Phase::PostDeployment => "post_deployment",
        };
        let id = if phase == Phase::Deployment {
            format!("stage:{name}")
        } else {
            format!("stage:{name}/{order}")
        };
        let ids = |bucket: &[usize]| -> Vec<String> {
            bucket.iter().map(|&t| tasks[t].id.clone()).collect()
        };
        let mut barrier = tasks[pair[1][0]].clone();
        barrier.id = id.clone();
        barrier.kind = TaskKind::Stage;
        barrier.roles = vec![Matcher::Any];
        barrier.groups = Vec::new();
        barrier.members = Vec::new();
        barrier.requires = ids(&pair[0]);
        barrier.required_for = ids(&pair[1]);
        barrier.cross_depends = Vec::new();
        barrier.cross_depended_by = Vec::new();
        barrier.strategy = None;
        barrier.stage = None;
        barrier.condition = None;
        barrier.computed = Default::default();
        barrier.action = Action::Nothing;
        barrier.attempts = Default::default();
        barrier.test_pre = None;
        barrier.test_post = None;
        barrier.reexecute_on = Vec::new();
        barrier.refresh_on = Vec::new();
        barrier.fault_tolerance = None;
        index.insert(id, tasks.len());
        tasks.push(barrier);
    }
}

/// A cycle in a graph given by successor lists, as a path that returns to its start.
pub fn find_cycle(successors: &[Vec<usize>]) -> Option<Vec<usize>> {
    const NEW: u8 = 0;
    const OPEN: u8 = 1;
    const DONE: u8 = 2;
    let mut mark = vec![NEW; successors.len()];
    for root in 0..successors.len() {
        if mark[root] != NEW {
            continue;
        }
        let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
        mark[root] = OPEN;
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            if let Some(&succ) = successors[node].get(*next) {
                *next += 1;
                match mark[succ] {
                    NEW => {
                        mark[succ] = OPEN;
                        stack.push((succ, 0));
                    }
                    OPEN => {
                        let from = stack
                            .iter()
                            .position(|&(open, _)| open == succ)
                            .unwrap_or(0);
                        let mut path: Vec<usize> =
                            stack[from..].iter().map(|&(open, _)| open).collect();
                        path.push(succ);
                        return Some(path);
                    }
                    _ => {}
                }
            } else {
                mark[node] = DONE;
                stack.pop();
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_cycle_path_in_edge_order() {
        // 0 -> 1 -> 2 -> 0, plus 3 -> 0
        let successors = vec![vec![1], vec![2], vec![0], vec![0]];
        let cycle = find_cycle(&successors).unwrap();
        assert_eq!(cycle.first(), cycle.last());
        for pair in cycle.windows(2) {
            assert!(successors[pair[0]].contains(&pair[1]), "{cycle:?}");
        }
        assert_eq!(cycle.len(), 4);
        assert!(find_cycle(&[vec![1], vec![2], vec![]]).is_none());
    }

    #[test]
    fn suggests_near_names() {
        let known = ["netconfig".to_string(), "hiera".to_string()];
        assert_eq!(closest("netconfg", known.iter()), Some(&known[0]));
        assert_eq!(closest("zzz", known.iter()), None);
    }
}
