//! Guards of module code, decided per role.
//!
//! The classes and defines the split does not open are applied whole, yet
//! their own code often declares other classes on some roles only
//! (`case $::fuel_settings['role'] { 'compute': { include ceph::nova_compute } }`).
//! Where the role, or an `--assume`d expression, decides such a guard, what
//! the branch that cannot run declares is not in that role's catalogs: its
//! resources are not ordered, referenced or collected there.
//!
//! `granule lint --tasks` (and so `split --verify`) decides the same guards
//! for each role a task runs on, and those of the task manifests' own top
//! scopes: a task's catalog on a role is what its manifest declares there.

use super::eval::{Evaluator, OUTSIDE};
use super::units::{branches, Guard};
use crate::hashing::FastSet;
use crate::index::normalize;
use crate::model::Vertex;
use crate::semantic::{HolderId, Semantic};
use granule_parser::{Expr, ExprKind};

/// For each role (`None`: any), the edges of module code that stand under
/// a branch that cannot run on it, in the holders `applied` accepts (those
/// a catalog holds; not those whose code the split copies: their guards
/// are the units' own).
pub fn edges_off(
    semantic: &Semantic,
    evaluator: &Evaluator,
    roles: &[Option<&str>],
    applied: &dyn Fn(HolderId) -> bool,
) -> Vec<FastSet<u32>> {
    let mut walk = Walk {
        semantic,
        evaluator,
        roles,
        applied,
        file: 0,
        off: vec![FastSet::default(); roles.len()],
    };
    for (file, source) in semantic.analysis.codebase.files.iter().enumerate() {
        walk.file = file;
        walk.definitions(&source.program.body);
    }
    walk.off
}

/// The same for the top-scope code of the manifests `files` (by index):
/// for each role, the edges written under a branch that cannot run there.
pub fn top_scope_edges_off(
    semantic: &Semantic,
    evaluator: &Evaluator,
    roles: &[Option<&str>],
    files: &[usize],
) -> Vec<FastSet<u32>> {
    let mut walk = Walk {
        semantic,
        evaluator,
        roles,
        applied: &|_| true,
        file: 0,
        off: vec![FastSet::default(); roles.len()],
    };
    for &file in files {
        walk.file = file;
        let source = &semantic.analysis.codebase.files[file];
        let holder = Vertex::TopScope {
            file: source.path.clone(),
        };
        walk.branches(&source.program.body, &holder);
    }
    walk.off
}

struct Walk<'w, 'a> {
    semantic: &'w Semantic<'a>,
    evaluator: &'w Evaluator<'w, 'a>,
    roles: &'w [Option<&'w str>],
    applied: &'w dyn Fn(HolderId) -> bool,
    file: usize,
    off: Vec<FastSet<u32>>,
}

impl Walk<'_, '_> {
    /// Finds class and define definitions (nested ones too).
    fn definitions(&mut self, expr: &Expr) {
        match &expr.kind {
            ExprKind::Block(statements) => {
                for statement in statements {
                    self.definitions(statement);
                }
            }
            ExprKind::Class(definition) | ExprKind::Define(definition) => {
                let name = normalize(&definition.name);
                let holder = if matches!(expr.kind, ExprKind::Class(_)) {
                    Vertex::class(&name)
                } else {
                    Vertex::Type { name }
                };
                if let Some(body) = &definition.body {
                    if self.semantic.holder(&holder).is_some_and(self.applied) {
                        self.branches(body, &holder);
                    }
                    self.definitions(body);
                }
            }
            _ => {}
        }
    }

    /// Marks the edges of `holder` under each branch that cannot run on a
    /// role, through nested statements.
    fn branches(&mut self, expr: &Expr, holder: &Vertex) {
        let statements = match &expr.kind {
            ExprKind::Block(statements) => statements.as_slice(),
            _ => std::slice::from_ref(expr),
        };
        for statement in statements {
            for (kind, body) in branches(statement) {
                let guard = Guard {
                    file: self.file,
                    scope: OUTSIDE,
                    kind,
                };
                let source = &self.semantic.analysis.codebase.files[self.file];
                let (start, end) = source.bounds(body.span);
                for (role, off) in self.roles.iter().zip(&mut self.off) {
                    if self.evaluator.holds(&guard, *role) == Some(false) {
                        off.extend(
                            self.semantic
                                .edges_between(&source.path, start, end)
                                .filter(|(_, edge)| edge.unit == *holder)
                                .map(|(index, _)| index),
                        );
                    }
                }
                self.branches(body, holder);
            }
        }
    }
}
