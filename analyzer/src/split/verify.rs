//! `granule split --verify`: a static check that the tasks do what the
//! monolith did, per role.

use super::Proposal;
use granule_parser::{parse_with_options, validate, ParseOptions, Severity};
use std::collections::{BTreeSet, HashMap};
use std::path::Path;

/// What fails, one line each; empty when the split holds.
pub fn verify(proposal: &Proposal, dir: &Path) -> Vec<String> {
    let mut failures = Vec::new();
    let task_of: HashMap<usize, usize> = proposal
        .tasks
        .iter()
        .enumerate()
        .flat_map(|(t, task)| task.units.iter().map(move |&u| (u, t)))
        .collect();

    for role in &proposal.roles {
        let in_role =
            |roles: &Option<BTreeSet<String>>| roles.as_ref().is_none_or(|r| r.contains(role));
        let monolith: BTreeSet<&String> = proposal
            .units()
            .iter()
            .enumerate()
            .filter(|(_, unit)| in_role(&unit.roles))
            .flat_map(|(index, _)| &proposal.unit_resources[index])
            .collect();
        let tasks: BTreeSet<&String> = proposal
            .tasks
            .iter()
            .filter(|task| task.groups.contains(role))
            .flat_map(|task| &task.units)
            .filter(|&&unit| in_role(&proposal.units()[unit].roles))
            .flat_map(|&unit| &proposal.unit_resources[unit])
            .collect();
        for missing in monolith.difference(&tasks) {
            failures.push(format!(
                "role {role}: {missing} is in the monolith but in no task of the role"
            ));
        }
        for extra in tasks.difference(&monolith) {
            failures.push(format!(
                "role {role}: {extra} is in a task but not in the monolith"
            ));
        }
    }

    let index: HashMap<&str, usize> = proposal
        .tasks
        .iter()
        .enumerate()
        .map(|(i, task)| (task.id.as_str(), i))
        .collect();
    let runs_before = |first: usize, then: usize| -> bool {
        let mut stack = vec![then];
        let mut seen = vec![false; proposal.tasks.len()];
        while let Some(at) = stack.pop() {
            for required in &proposal.tasks[at].requires {
                let required = index[required.as_str()];
                if required == first {
                    return true;
                }
                if !seen[required] {
                    seen[required] = true;
                    stack.push(required);
                }
            }
        }
        false
    };
    for &(first, then, refresh) in &proposal.unit_order {
        let (Some(&a), Some(&b)) = (task_of.get(&first), task_of.get(&then)) else {
            continue;
        };
        if a == b {
            continue;
        }
        let (from, to) = (&proposal.tasks[a].id, &proposal.tasks[b].id);
        if refresh {
            failures.push(format!(
                "a refresh from {} to {} crosses tasks {from} and {to}",
                proposal.units()[first].label(),
                proposal.units()[then].label()
            ));
        }
        if !runs_before(a, b) {
            failures.push(format!(
                "{} must run before {}, but task {from} is not ordered before task {to}",
                proposal.units()[first].label(),
                proposal.units()[then].label()
            ));
        }
    }

    for task in &proposal.tasks {
        let path = dir.join(&task.id).join(format!("{}.pp", task.id));
        let source = match std::fs::read_to_string(&path) {
            Ok(source) => source,
            Err(e) => {
                failures.push(format!("{}: cannot read: {e}", path.display()));
                continue;
            }
        };
        let parsed = parse_with_options(&source, ParseOptions::default());
        for error in &parsed.errors {
            let (line, column) = error.line_col(&source);
            failures.push(format!(
                "{}:{line}:{column}: {}",
                path.display(),
                error.message
            ));
        }
        if parsed.errors.is_empty() {
            for issue in validate(&parsed.program, &source) {
                if issue.severity == Severity::Error {
                    let (line, column) = granule_parser::LineIndex::new(&source)
                        .line_col(&source, issue.span.start as usize);
                    failures.push(format!(
                        "{}:{line}:{column}: Puppet 7 refuses it: {} {}",
                        path.display(),
                        issue.code,
                        issue.message
                    ));
                }
            }
        }
    }
    failures
}
