//! The binary as users and CI bots drive it: exit codes, diffs that `git apply` takes,
//! idempotent `apply`, byte-identical output for any `-j`, JSON Lines, bad rule files.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/mm_walk_ops")
}

fn kcodemod(args: &[&str], tree: &Path) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kcodemod"));
    c.args(&args[..1]).arg(tree).args(&args[1..]);
    c.output().unwrap()
}

/// A tree made of fixture inputs: `convertible` only, or every case.
fn tree(all: bool) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("mm")).unwrap();
    for e in std::fs::read_dir(fixtures()).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_str().unwrap().to_string();
        // A fixture's own header (a callback declared in another file) comes along.
        if name.ends_with(".h") {
            std::fs::copy(&p, dir.path().join("mm").join(&name)).unwrap();
            continue;
        }
        if !name.ends_with(".c") || name.ends_with(".expected.c") {
            continue;
        }
        let has_expected = p.with_file_name(name.replace(".c", ".expected.c")).exists();
        if all || has_expected {
            std::fs::copy(&p, dir.path().join("mm").join(&name)).unwrap();
        }
    }
    dir
}

fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out: Vec<_> = walk(dir)
        .into_iter()
        .map(|p| {
            let b = std::fs::read(&p).unwrap();
            (p, b)
        })
        .collect();
    out.sort();
    out
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p))
        } else {
            out.push(p)
        }
    }
    out
}

#[test]
fn diff_applies_with_git_and_matches_apply() {
    let t = tree(true);
    let diff = kcodemod(&["diff"], t.path());
    assert_eq!(
        diff.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&diff.stderr)
    );
    assert!(diff.stdout.starts_with(b"diff --git a/mm/"));
    let patch = t.path().join("../kcodemod-test.patch");
    std::fs::write(&patch, &diff.stdout).unwrap();
    let check = Command::new("git")
        .args(["apply", "--check", "-v"])
        .arg(&patch)
        .current_dir(t.path())
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    // git apply of the diff and kcodemod apply give the same tree.
    let other = tree(true);
    let applied = Command::new("git")
        .args(["apply"])
        .arg(&patch)
        .current_dir(other.path())
        .output()
        .unwrap();
    assert!(applied.status.success());
    std::fs::remove_file(&patch).unwrap();
    let ap = kcodemod(&["apply"], t.path());
    assert_eq!(
        ap.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ap.stderr)
    );
    let a: Vec<Vec<u8>> = snapshot(t.path()).into_iter().map(|x| x.1).collect();
    let b: Vec<Vec<u8>> = snapshot(other.path()).into_iter().map(|x| x.1).collect();
    assert_eq!(a, b);
}

#[test]
fn apply_twice_changes_nothing_and_check_is_clean() {
    let t = tree(false);
    let before = kcodemod(&["check"], t.path());
    assert_eq!(
        before.status.code(),
        Some(1),
        "old-API sites remain: check must say so"
    );
    assert_eq!(kcodemod(&["apply"], t.path()).status.code(), Some(0));
    let once = snapshot(t.path());
    for e in std::fs::read_dir(fixtures()).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_str().unwrap();
        if let Some(stem) = name.strip_suffix(".expected.c") {
            let got = std::fs::read(t.path().join("mm").join(format!("{stem}.c"))).unwrap();
            assert_eq!(
                got,
                std::fs::read(&p).unwrap(),
                "{stem}: apply differs from the expected output"
            );
        }
    }
    let again = kcodemod(&["apply"], t.path());
    assert_eq!(again.status.code(), Some(0));
    assert_eq!(snapshot(t.path()), once, "a second apply changed files");
    let check = kcodemod(&["check"], t.path());
    assert_eq!(
        check.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
}

#[test]
fn output_is_the_same_for_any_number_of_jobs() {
    let t = tree(true);
    let one = kcodemod(&["diff", "-j1"], t.path());
    let two = kcodemod(&["diff", "-j2"], t.path());
    let four = kcodemod(&["diff", "-j4", "--json"], t.path());
    let four_again = kcodemod(&["diff", "-j1", "--json"], t.path());
    for o in [&one, &two, &four, &four_again] {
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    assert!(!one.stdout.is_empty() && !four.stdout.is_empty());
    assert_eq!(one.stdout, two.stdout);
    assert_eq!(one.stderr, two.stderr);
    assert_eq!(four.stdout, four_again.stdout);
}

#[test]
fn json_lines_report_every_site_and_a_summary() {
    let t = tree(true);
    let out = kcodemod(&["check", "--json"], t.path());
    assert_eq!(out.status.code(), Some(1));
    let recs: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let last = recs.last().unwrap();
    assert_eq!(last["type"], "summary");
    let sites: Vec<&serde_json::Value> = recs.iter().filter(|r| r["type"] == "site").collect();
    assert_eq!(
        last["converted"].as_u64().unwrap()
            + last["flagged"].as_u64().unwrap()
            + last["compat"].as_u64().unwrap(),
        sites.len() as u64
    );
    let flagged = sites
        .iter()
        .find(|s| s["file"] == "mm/x4_ambiguous_private.c")
        .unwrap();
    assert_eq!(flagged["status"], "flagged");
    assert_eq!(flagged["code"], "ambiguous-value");
    assert!(flagged["reason"].as_str().unwrap().contains(".private"));
    assert!(sites.iter().any(
        |s| s["status"] == "converted" && s["function"].as_str().is_some_and(|f| !f.is_empty())
    ));
    assert!(
        out.stderr.is_empty(),
        "--json keeps stderr for real errors: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn diagnostics_name_file_line_function_and_reason() {
    let t = tree(true);
    let out = kcodemod(&["diff"], t.path());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.lines()
            .any(|l| l.starts_with("mm/x4_ambiguous_private.c:")
                && l.contains(": count_dirty: ")
                && l.contains("[ambiguous-value]")),
        "{err}"
    );
    assert!(
        err.lines().last().unwrap().starts_with("kcodemod: "),
        "{err}"
    );
}

#[test]
fn a_bad_rule_file_stops_before_any_source_is_touched() {
    let t = tree(true);
    let before = snapshot(t.path());
    let bad = t.path().join("../bad-rule.toml");
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("rules/mm_walk_ops.toml"),
    )
    .unwrap();
    std::fs::write(
        &bad,
        text.replace(
            "role = \"argument\"\ndefault",
            "role = \"argument\"\ncolour = 1\ndefault",
        ),
    )
    .unwrap();
    let out = kcodemod(&["apply", "--rule", bad.to_str().unwrap()], t.path());
    std::fs::remove_file(&bad).unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("bad-rule.toml:") && err.contains("colour"),
        "{err}"
    );
    assert_eq!(snapshot(t.path()), before);
}

#[test]
fn unreadable_paths_are_reported_and_the_run_finishes() {
    let t = tree(true);
    std::os::unix::fs::symlink("/nonexistent/k.c", t.path().join("mm/dangling.c")).unwrap();
    let out = kcodemod(&["diff"], t.path());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("dangling.c: "), "{err}");
    assert!(
        !out.stdout.is_empty(),
        "the other files are still converted"
    );
}

#[test]
fn rules_lists_the_bundled_rules() {
    let out = Command::new(env!("CARGO_BIN_EXE_kcodemod"))
        .arg("rules")
        .output()
        .unwrap();
    let s = String::from_utf8(out.stdout).unwrap();
    assert!(s.starts_with("mm_walk_ops\t"));
    assert!(s.contains("\nirq_walker_ops\t"));
}

/// `apply` in the background, each file write delayed by `ms` (a test hook), stderr piped.
fn apply_slowly(tree: &Path, ms: u64) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_kcodemod"))
        .arg("apply")
        .arg(tree)
        .env("KCODEMOD_TEST_WRITE_DELAY_MS", ms.to_string())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn sigint_during_apply_leaves_every_file_whole() {
    let t = tree(false);
    let before = snapshot(t.path());
    let child = apply_slowly(t.path(), 150);
    std::thread::sleep(std::time::Duration::from_millis(700));
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(err.contains("interrupted:"), "{err}");
    let after = snapshot(t.path());
    assert_eq!(before.len(), after.len(), "no temporary file may remain");
    let (mut changed, mut same) = (0, 0);
    for ((p, a), (_, b)) in before.iter().zip(&after) {
        if p.extension().is_some_and(|e| e == "h") {
            continue; // a fixture's header: never a file to write
        }
        if a == b {
            same += 1;
            continue;
        }
        changed += 1;
        let name = p
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .replace(".c", ".expected.c");
        assert_eq!(
            b,
            &std::fs::read(fixtures().join(name)).unwrap(),
            "{}: half-written",
            p.display()
        );
    }
    assert!(
        changed > 0 && same > 0,
        "the signal should land mid-run ({changed} changed, {same} not)"
    );
    // The listed unwritten files are exactly those left as they were.
    assert_eq!(err.lines().filter(|l| l.starts_with("  ")).count(), same);
}

#[test]
fn a_file_changed_after_it_was_read_is_not_written() {
    let t = tree(false);
    let mut files: Vec<PathBuf> = walk(t.path());
    files.sort();
    let last = files.last().unwrap().clone();
    let child = apply_slowly(t.path(), 100);
    // Someone edits the last file while the run is still writing the earlier ones.
    std::thread::sleep(std::time::Duration::from_millis(400));
    let mut edited = std::fs::read(&last).unwrap();
    edited.extend_from_slice(b"/* edited meanwhile */\n");
    std::fs::write(&last, &edited).unwrap();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("changed since it was read; not written"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(&last).unwrap(),
        edited,
        "the user's edit is kept"
    );
    let first = &files[0];
    let name = first
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .replace(".c", ".expected.c");
    assert_eq!(
        std::fs::read(first).unwrap(),
        std::fs::read(fixtures().join(name)).unwrap(),
        "the rest is written"
    );
}

#[test]
fn a_parse_that_takes_too_long_is_skipped_with_a_reason() {
    let t = tree(false);
    let out = kcodemod(&["check", "--parse-timeout-ms", "0"], t.path());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("skipped: parse timed out"), "{err}");
    assert_eq!(
        out.status.code(),
        Some(2),
        "a candidate nobody analysed is an error: {err}"
    );
}

#[test]
fn code_on_both_apis_under_a_version_check_is_compat_and_check_passes() {
    let dir = tempfile::tempdir().unwrap();
    let mm = dir.path().join("mm");
    std::fs::create_dir_all(&mm).unwrap();
    for name in [
        "v1_version_check.c",
        "v2_version_check_macro.c",
        "v3_version_check_macro_only.c",
    ] {
        std::fs::copy(fixtures().join(name), mm.join(name)).unwrap();
    }
    let out = kcodemod(&["check", "--json"], dir.path());
    let json = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{json}");
    assert_eq!(json.matches(r#""status":"compat""#).count(), 3, "{json}");
    assert!(json.contains(r#""flagged":0,"compat":3"#), "{json}");
    // Without the new API beside it, the old arm is an old-API site like any other.
    let v1 = std::fs::read_to_string(mm.join("v1_version_check.c")).unwrap();
    std::fs::write(
        mm.join("v1_version_check.c"),
        v1.replace("mm_walk_ops", "mm_walk_table"),
    )
    .unwrap();
    let out = kcodemod(&["check", "--json"], dir.path());
    let json = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{json}");
    assert_eq!(json.matches(r#""status":"compat""#).count(), 2, "{json}");
}
