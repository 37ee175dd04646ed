//! What the integration tests share: the binary, the demo tree, copies of it, and git run as
//! a fixed committer. (Each test binary uses part of it.)
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The kcodemod binary under test, as a command to add arguments to.
pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_kcodemod"))
}

/// The bundled demo tree, in place (read only).
pub fn demo_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo")
}

/// A copy of `from`'s contents into `to` (created), modes kept.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    let ok = Command::new("cp")
        .arg("-a")
        .arg(from.join("."))
        .arg(to)
        .status()
        .unwrap();
    assert!(ok.success(), "cp -a {} {}", from.display(), to.display());
}

/// The demo tree in a temporary directory.
pub fn demo_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&demo_path(), dir.path());
    dir
}

/// Run git in `dir` as a fixed committer, untouched by the user's or the system's git
/// configuration (signing, hooks, templates); its stdout.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let o = Command::new("git")
        .current_dir(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@t"])
        .args(args)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

/// `dir` made a git repository with everything in it committed as `message`.
pub fn commit_all(dir: &Path, message: &str) {
    git(dir, &["init", "-q"]);
    git(dir, &["add", "-A", "-f"]);
    git(dir, &["commit", "-qm", message]);
}

/// The rules that exist only to test the engine (`fixtures/rules/*.toml`: not bundled).
pub fn fixture_only_rules() -> Vec<kcodemod::rule::Rule> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/rules");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    paths.sort();
    assert!(!paths.is_empty(), "no rule in {}", dir.display());
    paths
        .iter()
        .map(|p| kcodemod::rule::Rule::load(p).unwrap())
        .collect()
}

/// Every rule with fixtures: the bundled ones, then the fixture-only ones.
pub fn rules_with_fixtures() -> Vec<kcodemod::rule::Rule> {
    let mut all = kcodemod::rule::bundled().unwrap();
    all.extend(fixture_only_rules());
    all
}
