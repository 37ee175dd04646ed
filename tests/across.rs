//! Names across files (issue 24) through the binary: a non-static struct defined in one file,
//! declared `extern` in a header and registered from another converts in all three, written
//! all or nothing, and stays flagged when a file that names it is not the run's to change.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

fn case(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/proc_ops")
        .join(name)
}

/// A copy of fixture tree case `r_across` (cache.c defines the table, cache.h declares it,
/// debug.c registers it).
fn tree() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    common::copy_tree(&case("r_across"), d.path());
    d
}

fn run(args: &[&str], tree: &Path, paths: &[&str]) -> Output {
    common::bin()
        .args(args)
        .args(["--rule", "proc_ops"])
        .arg(tree)
        .args(paths)
        .output()
        .unwrap()
}

fn read(tree: &Path, f: &str) -> String {
    std::fs::read_to_string(tree.join(f)).unwrap()
}

#[test]
fn apply_converts_every_file_of_the_name_and_a_second_run_changes_nothing() {
    let t = tree();
    let o = run(&["apply"], t.path(), &[]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    for f in ["cache.c", "cache.h", "debug.c"] {
        let want = std::fs::read_to_string(case("r_across.expected").join(f)).unwrap();
        assert_eq!(read(t.path(), f), want, "{f}");
    }
    let again = run(&["diff"], t.path(), &[]);
    assert_eq!(again.status.code(), Some(0));
    assert!(again.stdout.is_empty());
    assert_eq!(run(&["check"], t.path(), &[]).status.code(), Some(0));
}

/// A run restricted to debug.c may not change cache.c or cache.h: the registration stays
/// flagged, saying which file is out of reach, and the shared table does not change.
#[test]
fn a_file_outside_the_paths_given_keeps_the_name_flagged() {
    let t = tree();
    let o = run(&["diff"], t.path(), &["debug.c"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    // debug.c's own static table converts; the shared one, and the other files, do not.
    let diff = String::from_utf8_lossy(&o.stdout);
    assert!(
        !diff.contains("cache.c") && !diff.contains("cache.h"),
        "{diff}"
    );
    assert!(!diff.contains("r_cache_proc_ops"), "{diff}");
    assert!(diff.contains("+++ b/debug.c"), "{diff}");
    assert!(
        err.contains("debug.c:")
            && err.contains("names `r_cache_proc_fops` and is outside the paths given"),
        "{err}"
    );
    // The whole tree: it converts.
    let all = run(&["diff"], t.path(), &[]);
    assert_eq!(all.status.code(), Some(0));
    let diff = String::from_utf8_lossy(&all.stdout);
    for f in ["cache.c", "cache.h", "debug.c"] {
        assert!(diff.contains(&format!("+++ b/{f}")), "{diff}");
    }
}

/// The files of one name are written together: a header that cannot be written leaves the
/// definition and the registration as they were.
#[test]
fn a_header_that_cannot_be_written_leaves_every_file_as_it_was() {
    use std::os::unix::fs::PermissionsExt;
    let t = tree();
    let h = t.path().join("cache.h");
    std::fs::set_permissions(&h, std::fs::Permissions::from_mode(0o444)).unwrap();
    let before: Vec<String> = ["cache.c", "debug.c"]
        .iter()
        .map(|f| read(t.path(), f))
        .collect();
    let o = run(&["apply"], t.path(), &[]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("cache.h"), "{err}");
    let after: Vec<String> = ["cache.c", "debug.c"]
        .iter()
        .map(|f| read(t.path(), f))
        .collect();
    assert_eq!(before, after);
}

/// A name another file uses otherwise is no finding of this phase alone: `check` names that
/// file and line.
#[test]
fn check_names_the_use_that_keeps_a_name_flagged() {
    let t = tempfile::tempdir().unwrap();
    common::copy_tree(&case("s_across_passed"), t.path());
    let o = run(&["check"], t.path(), &[]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("debug.c:7: s_cache_proc_fops: peek.c:7 uses `s_cache_proc_fops` other than by a /proc registration or an extern declaration [other-use]"),
        "{err}"
    );
}

/// A definition that cannot convert (a member struct proc_ops lacks) keeps its registration in
/// another file flagged with the definition's own reason and code.
#[test]
fn a_definition_that_cannot_convert_keeps_the_registration_flagged_with_its_reason() {
    let t = tempfile::tempdir().unwrap();
    common::copy_tree(&case("x_across_unmapped"), t.path());
    let o = run(&["diff"], t.path(), &[]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(o.stdout.is_empty());
    assert!(
        err.contains("debug.c:7: x_cache_proc_fops: cache.c:30: `.flush` has no counterpart in struct proc_ops [unmapped-member]"),
        "{err}"
    );
}
