//! Writing task descriptors, in the format this module's loader reads
//! (Fuel's tasks.yaml): what `granule split` proposes. One model of the
//! format for the split that writes it and the runner that reads it.

use super::{TestHook, Version};
use serde::Serialize;
use std::collections::BTreeSet;

/// A puppet task as a split proposes it.
#[derive(Clone, Debug, PartialEq)]
pub struct PuppetTask {
    pub id: String,
    /// The roles it runs on.
    pub groups: BTreeSet<String>,
    /// The tasks it runs after, whatever their roles.
    pub requires: Vec<String>,
    pub manifest: String,
    pub modulepath: String,
    /// Seconds.
    pub timeout: u64,
    pub test_pre: TestHook,
    pub test_post: TestHook,
}

#[derive(Serialize)]
struct Entry<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<&'static str>,
    groups: &'a BTreeSet<String>,
    requires: Vec<&'a String>,
    required_for: Vec<&'a String>,
    #[serde(rename = "cross-depends", skip_serializing_if = "Vec::is_empty")]
    cross_depends: Vec<CrossDepends<'a>>,
    parameters: Parameters<'a>,
    test_pre: Hook<'a>,
    test_post: Hook<'a>,
}

#[derive(Serialize)]
struct CrossDepends<'a> {
    name: &'a str,
    role: &'a BTreeSet<String>,
}

#[derive(Serialize)]
struct Parameters<'a> {
    puppet_manifest: &'a str,
    puppet_modules: &'a str,
    timeout: u64,
}

#[derive(Serialize)]
struct Hook<'a> {
    cmd: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    cwd: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    timeout: Option<f64>,
}

impl<'a> Hook<'a> {
    fn of(hook: &'a TestHook) -> Hook<'a> {
        Hook {
            cmd: &hook.cmd,
            cwd: hook.cwd.as_deref(),
            timeout: hook.timeout.map(|timeout| timeout.as_secs_f64()),
        }
    }
}

/// The text of a tasks.yaml holding `tasks`, in descriptor format
/// `version`, after `header` as a comment. Version 1 orders every task
/// with `requires` and `required_for` (groups synchronise the nodes);
/// version 2 orders tasks sharing a role so and waits for the nodes of
/// the other roles through `cross-depends`.
pub fn write_puppet_tasks(
    header: &str,
    version: Version,
    tasks: &[PuppetTask],
) -> Result<String, String> {
    let no_roles = BTreeSet::new();
    let groups_of = |id: &str| {
        tasks
            .iter()
            .find(|task| task.id == id)
            .map_or(&no_roles, |task| &task.groups)
    };
    let same_node =
        |a: &BTreeSet<String>, b: &BTreeSet<String>| version == Version::V1 || !a.is_disjoint(b);
    let entries: Vec<Entry> = tasks
        .iter()
        .map(|task| Entry {
            id: &task.id,
            kind: "puppet",
            version: (version == Version::V2).then_some("2.0.0"),
            groups: &task.groups,
            requires: task
                .requires
                .iter()
                .filter(|required| same_node(&task.groups, groups_of(required)))
                .collect(),
            required_for: tasks
                .iter()
                .filter(|other| other.requires.contains(&task.id))
                .filter(|other| same_node(&task.groups, &other.groups))
                .map(|other| &other.id)
                .collect(),
            cross_depends: match version {
                Version::V1 => Vec::new(),
                // On a role the required task does not run on, the wait is
                // for the nodes of its roles.
                Version::V2 => task
                    .requires
                    .iter()
                    .map(|required| (required, groups_of(required)))
                    .filter(|(_, roles)| !task.groups.is_subset(roles))
                    .map(|(name, role)| CrossDepends { name, role })
                    .collect(),
            },
            parameters: Parameters {
                puppet_manifest: &task.manifest,
                puppet_modules: &task.modulepath,
                timeout: task.timeout,
            },
            test_pre: Hook::of(&task.test_pre),
            test_post: Hook::of(&task.test_post),
        })
        .collect();
    // A path on one line, however long, as people and grep look for it.
    let mut options = serde_saphyr::SerializerOptions::default();
    options.prefer_block_scalars = false;
    let yaml = serde_saphyr::to_string_with_options(&entries, options)
        .map_err(|e| format!("tasks.yaml: {e}"))?;
    let comment: String = header.lines().map(|line| format!("# {line}\n")).collect();
    Ok(format!("{comment}{yaml}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::descriptor::{parse_file, Action, TaskSet};
    use crate::error::Diagnostics;
    use crate::matcher::Matcher;
    use std::path::Path;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    fn task(id: &str, groups: &[&str], requires: &[&str]) -> PuppetTask {
        let long = "a-directory-name-long-enough-to-fold/".repeat(3);
        PuppetTask {
            id: id.into(),
            groups: strings(groups).into_iter().collect(),
            requires: strings(requires),
            manifest: format!("/srv/{long}out with spaces/{id}/{id}.pp"),
            modulepath: "/etc/puppet/modules:/srv/a dir with 'quotes'".into(),
            timeout: 600,
            test_pre: check(&format!("sh /srv/out/{id}/pre.sh"), None),
            test_post: check(&format!("sh /srv/out/{id}/post.sh"), None),
        }
    }

    fn check(cmd: &str, cwd: Option<&str>) -> TestHook {
        TestHook {
            cmd: cmd.into(),
            cwd: cwd.map(str::to_string),
            timeout: None,
        }
    }

    fn read(text: &str) -> TaskSet {
        read_from(Path::new("/srv/out/tasks.yaml"), text)
    }

    fn read_from(file: &Path, text: &str) -> TaskSet {
        let mut set = TaskSet::default();
        let mut errors = Diagnostics::default();
        parse_file(file, text, &mut set, &mut errors);
        assert!(errors.0.is_empty(), "{:?}\n{text}", errors.0);
        set
    }

    #[test]
    fn what_is_written_reads_back_the_same() {
        let tasks = [
            task("globals", &["compute", "controller"], &[]),
            task("database", &["controller"], &["globals"]),
            task("nova", &["compute"], &["globals", "database"]),
        ];
        for version in [Version::V1, Version::V2] {
            let text = write_puppet_tasks("made by a test\nover two lines", version, &tasks)
                .expect("written");
            assert!(
                text.starts_with("# made by a test\n# over two lines\n"),
                "{text}"
            );
            let set = read(&text);
            assert_eq!(set.tasks.len(), 3, "{text}");
            for (written, read) in tasks.iter().zip(&set.tasks) {
                assert_eq!(read.id, written.id);
                assert_eq!(read.version, version, "{text}");
                assert_eq!(
                    read.action,
                    Action::Puppet {
                        manifest: written.manifest.clone(),
                        modulepath: Some(written.modulepath.clone()),
                        cwd: None,
                    }
                );
                assert_eq!(read.test_pre.as_ref(), Some(&written.test_pre));
                assert_eq!(read.test_post.as_ref(), Some(&written.test_post));
            }
            let nova = &set.tasks[2];
            let crossing: Vec<String> = nova
                .cross_depends
                .iter()
                .map(|dep| match &dep.name {
                    Matcher::Exact(name) => name.clone(),
                    other => panic!("{other:?} read back from an exact name"),
                })
                .collect();
            match version {
                // Groups synchronise the nodes: every order is written.
                Version::V1 => {
                    assert_eq!(nova.requires, strings(&["globals", "database"]));
                    assert_eq!(set.tasks[1].required_for, strings(&["nova"]));
                    assert!(crossing.is_empty(), "{text}");
                }
                // The database runs on other nodes: waited for across them.
                Version::V2 => {
                    assert_eq!(nova.requires, strings(&["globals"]), "{text}");
                    assert!(set.tasks[1].required_for.is_empty(), "{text}");
                    assert_eq!(crossing, strings(&["database"]), "{text}");
                }
            }
        }
    }

    /// A split written with paths relative to its directory reads as that
    /// directory's files wherever the directory now is.
    #[test]
    fn relative_paths_are_read_beside_the_descriptor() {
        let mut task = task("nova", &["compute"], &[]);
        task.manifest = "nova/nova.pp".into();
        task.modulepath = "/etc/puppet/modules:vendored".into();
        task.test_pre = check("sh pre.sh", Some("nova"));
        let text = write_puppet_tasks("moved", Version::V2, &[task]).expect("written");
        for (file, directory) in [
            ("/srv/moved/tasks.yaml", "/srv/moved"),
            ("/srv/moved/./tasks.yaml", "/srv/moved"),
        ] {
            let set = read_from(Path::new(file), &text);
            let nova = &set.tasks[0];
            assert_eq!(
                nova.action,
                Action::Puppet {
                    manifest: format!("{directory}/nova/nova.pp"),
                    modulepath: Some(format!("/etc/puppet/modules:{directory}/vendored")),
                    cwd: None,
                },
                "{text}"
            );
            assert_eq!(
                nova.test_pre.as_ref().and_then(|hook| hook.cwd.as_deref()),
                Some(&*format!("{directory}/nova")),
                "{text}"
            );
            assert_eq!(nova.test_post.as_ref().unwrap().cwd, None, "{text}");
        }
    }
}
