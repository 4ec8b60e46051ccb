//! Records the git commit granule is built from, for `granule --version`:
//! a bug report then names the exact code.

use std::process::Command;

fn main() {
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .output()
            .ok()
            .filter(|output| output.status.success())
            .and_then(|output| String::from_utf8(output.stdout).ok())
            .map(|text| text.trim().to_string())
    };
    let commit = git(&["rev-parse", "--short=12", "HEAD"]);
    println!(
        "cargo:rustc-env=GRANULE_COMMIT={}",
        commit.as_deref().unwrap_or("unknown commit")
    );
    // Built again when HEAD moves: a commit, a checkout, a branch update.
    for path in ["HEAD", "refs/heads", "packed-refs"] {
        if let Some(resolved) = git(&["rev-parse", "--git-path", path]) {
            println!("cargo:rerun-if-changed={resolved}");
        }
    }
}
