//! The binary as users and CI bots drive it: exit codes, diffs that `git apply` takes,
//! idempotent `apply`, byte-identical output for any `-j`, JSON Lines, bad rule files.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/mm_walk_ops")
}

fn kcodemod(args: &[&str], tree: &Path) -> Output {
    let mut c = common::bin();
    c.args(&args[..1]).arg(tree).args(&args[1..]);
    c.output().unwrap()
}

/// A tree made of fixture inputs: `convertible` only, or every case. A case whose API
/// definition cannot be converted (its `.diag` flags the struct or an entry point's own
/// definition) is left out: in a tree it blocks the whole migration, which
/// `a_broken_definition_blocks_every_fixture` tests on its own.
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
        // `--compat` cases (`<case>.compat.c`) are for runs with --compat.
        if !name.ends_with(".c") || name.ends_with(".expected.c") || name.contains(".compat.") {
            continue;
        }
        let has_expected = p.with_file_name(name.replace(".c", ".expected.c")).exists();
        let diag = std::fs::read_to_string(p.with_file_name(name.replace(".c", ".diag")));
        let definition = |l: &str| {
            let function = l.split(": ").nth(1).unwrap_or("");
            ["struct mm_walk", "walk_page_range", "walk_page_vma"].contains(&function)
        };
        if diag.is_ok_and(|d| d.lines().any(definition)) {
            continue;
        }
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
    // The tree holds flagged cases too: the diff is a half-done migration, and says so.
    assert_eq!(
        diff.status.code(),
        Some(1),
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
        Some(1),
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
        if let Some(stem) = name.strip_suffix(".expected.c")
            && !stem.ends_with(".compat")
        {
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
            Some(1),
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
fn a_broken_definition_blocks_every_fixture() {
    // Every convertible case, plus a struct mm_walk with a member that is neither a callback
    // nor data (y2): nothing of the migration may change anywhere.
    let t = tree(false);
    let case = fixtures().join("y2_definition_blocked.c");
    std::fs::copy(&case, t.path().join("mm/y2_definition_blocked.c")).unwrap();
    let out = kcodemod(&["diff"], t.path());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // The reason names the member's line, and the callers of the other files say it.
    let why = "blocked: the API definition in mm/y2_definition_blocked.c:16 could not be converted: member `release`";
    assert!(
        err.lines()
            .any(|l| l.starts_with("mm/p5_v3_caller.c:") && l.contains(why)),
        "{err}"
    );
    assert!(!err.contains("] converted"), "{err}");
}

/// A tree whose header defines struct mm_walk with `member` and whose caller stores the
/// function `done` in `.cookie`.
fn cookie_tree(member: &str) -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    for d in ["include/linux", "mm"] {
        std::fs::create_dir_all(t.path().join(d)).unwrap();
    }
    let header = format!(
        "struct mm_walk {{\n\tint (*pmd_entry)(pmd_t *pmd, unsigned long addr,\n\t\t\t unsigned long next, struct mm_walk *walk);\n\t{member}\n\tstruct mm_struct *mm;\n\tvoid *private;\n}};\n\nint walk_page_range(unsigned long addr, unsigned long end,\n\t\t    struct mm_walk *walk);\n"
    );
    std::fs::write(t.path().join("include/linux/mm.h"), header).unwrap();
    let user = "static int note(pmd_t *pmd, unsigned long addr, unsigned long next,\n\t\tstruct mm_walk *walk)\n{\n\treturn 0;\n}\n\nstatic int done(struct mm_walk *walk)\n{\n\treturn 0;\n}\n\nvoid use(struct mm_struct *mm)\n{\n\tstruct mm_walk walk = {\n\t\t.pmd_entry = note,\n\t\t.cookie = done,\n\t\t.mm = mm,\n\t};\n\n\twalk_page_range(0, 4096, &walk);\n}\n";
    std::fs::write(t.path().join("mm/user.c"), user).unwrap();
    t
}

#[test]
fn a_callback_a_caller_assumes_must_be_one_in_the_definition() {
    // The tree's struct has `cookie` as a callback: the caller's ops struct carries it.
    let t = cookie_tree("int (*cookie)(struct mm_walk *walk);");
    let out = kcodemod(&["diff"], t.path());
    let diff = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(diff.contains("+\t.cookie\t\t= done,"), "{diff}");
    assert!(
        diff.contains("+struct mm_walk_ops {\n")
            && diff.contains(" \tint (*cookie)(struct mm_walk *walk);\n+};\n"),
        "{diff}"
    );
    // The tree's struct has `cookie` as data: storing a function there is the caller's own
    // business, and nothing of the migration may go ahead on the caller's guess.
    let t = cookie_tree("void *cookie;");
    let out = kcodemod(&["diff"], t.path());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        err.contains("blocked: the API definition in include/linux/mm.h:1 could not be converted: mm/user.c treats `.cookie` as a callback"),
        "{err}"
    );
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
        .find(|s| s["file"] == "mm/x16_ambiguous_read.c")
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
            .any(|l| l.starts_with("mm/x16_ambiguous_read.c:")
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
    let out = common::bin().arg("rules").output().unwrap();
    let s = String::from_utf8(out.stdout).unwrap();
    assert!(s.starts_with("mm_walk_ops\t"));
    // The made-up API is a fixture-only rule: not bundled, not listed.
    assert!(!s.contains("irq_walker_ops"), "{s}");
}

/// `apply` in the background, each file write delayed by `ms` (a test hook), stderr piped.
fn apply_slowly(tree: &Path, ms: u64) -> std::process::Child {
    common::bin()
        .arg("apply")
        .arg(tree)
        .env("KCODEMOD_TEST_WRITE_DELAY_MS", ms.to_string())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

/// Wait until `apply` in `tree` has staged its first new text (a temporary file beside it):
/// the signal then lands while the texts are written, however long the walk took.
fn until_staging(tree: &Path) {
    let staged = |d: &Path| {
        walk(d).iter().any(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(".kcodemod-"))
        })
    };
    let start = std::time::Instant::now();
    while !staged(tree) {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(120),
            "apply never started writing"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// SIGINT while `apply` writes its new texts to temporary files: nothing is renamed, every
/// file is as it was, no temporary file is left, and the lists say so (all or nothing: the
/// renames come only after every text is written).
#[test]
fn sigint_during_apply_writes_nothing() {
    let t = tree(false);
    let before = snapshot(t.path());
    let child = apply_slowly(t.path(), 150);
    until_staging(t.path());
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(err.contains("interrupted: 0 files written"), "{err}");
    assert_eq!(
        before,
        snapshot(t.path()),
        "a file changed, or a temporary file is left"
    );
    let would = before
        .iter()
        .filter(|(p, _)| p.extension().is_some_and(|e| e == "c"))
        .filter(|(p, _)| {
            let name = p.file_name().unwrap().to_str().unwrap();
            fixtures().join(name.replace(".c", ".expected.c")).exists()
        })
        .count();
    let (written, not_written) = interrupt_lists(&err);
    assert!(written.is_empty(), "{err}");
    assert_eq!(not_written.len(), would, "{err}");
    let summary = summary_line(&err);
    assert!(summary.contains(" 0 changed;"), "{summary}");
}

/// The summary line on stderr (an INCOMPLETE line may follow it).
fn summary_line(err: &str) -> String {
    let l = err
        .lines()
        .find(|l| l.starts_with("kcodemod: ") && l.contains(" files read, "));
    l.unwrap_or_else(|| panic!("no summary: {err}")).to_string()
}

/// The `written:` and `not written:` lists an interrupted `apply` prints on stderr.
fn interrupt_lists(err: &str) -> (Vec<String>, Vec<String>) {
    let (mut written, mut not_written) = (Vec::new(), Vec::new());
    let mut cur: Option<&mut Vec<String>> = None;
    for l in err.lines() {
        match l {
            "written:" => cur = Some(&mut written),
            "not written:" => cur = Some(&mut not_written),
            _ => match (l.strip_prefix("  "), cur.as_mut()) {
                (Some(p), Some(list)) => list.push(p.to_string()),
                _ => cur = None,
            },
        }
    }
    (written, not_written)
}

#[test]
fn sigint_during_apply_json_counts_only_what_was_written() {
    let t = tree(false);
    let child = common::bin()
        .arg("apply")
        .arg(t.path())
        .arg("--json")
        .env("KCODEMOD_TEST_WRITE_DELAY_MS", "150")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    until_staging(t.path());
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130));
    let recs: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let int = recs
        .iter()
        .find(|r| r["type"] == "interrupted")
        .expect("an interrupted record");
    let written: Vec<&str> = int["written"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let not_written = int["not_written"].as_array().unwrap();
    // All or nothing: the signal lands while the new texts are written, before any rename.
    assert!(written.is_empty() && !not_written.is_empty(), "{int}");
    let sites = |status: &str| {
        recs.iter()
            .filter(|r| r["type"] == "site" && r["status"] == status)
            .collect::<Vec<_>>()
    };
    assert!(
        sites("converted")
            .iter()
            .all(|s| written.contains(&s["file"].as_str().unwrap())),
        "a site in an unwritten file reported converted"
    );
    assert!(!sites("not-written").is_empty());
    let summary = recs.iter().find(|r| r["type"] == "summary").unwrap();
    assert_eq!(summary["files_changed"], written.len(), "{summary}");
    assert_eq!(summary["converted"], sites("converted").len(), "{summary}");
    assert_eq!(
        summary["not_written"],
        sites("not-written").len(),
        "{summary}"
    );
}

#[test]
fn a_file_changed_after_it_was_read_is_not_written() {
    let t = tree(false);
    let mut files: Vec<PathBuf> = walk(t.path());
    files.sort();
    let last = files.last().unwrap().clone();
    let child = apply_slowly(t.path(), 100);
    // Someone edits the last file while the run is still writing the earlier ones.
    until_staging(t.path());
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
    assert!(err.contains("unchecked: parse timed out"), "{err}");
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

/// The demo tree in a temporary directory.
fn demo() -> tempfile::TempDir {
    common::demo_copy()
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{}: no `{from}`", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

fn last_line(o: &Output) -> String {
    let err = String::from_utf8_lossy(&o.stderr);
    err.lines().last().unwrap_or("").to_string()
}

#[test]
fn a_diff_or_apply_that_leaves_a_flagged_caller_is_incomplete() {
    // The demo converts the API definition and every caller but one, which is flagged: the
    // result does not build, and both commands end by saying so.
    let t = demo();
    let json = kcodemod(&["diff", "--json", "--rule", "mm_walk_ops"], t.path());
    let last = String::from_utf8_lossy(&json.stdout)
        .lines()
        .last()
        .unwrap()
        .to_string();
    let rec: serde_json::Value = serde_json::from_str(&last).unwrap();
    assert_eq!(rec["type"], "incomplete");
    assert_eq!(rec["sites"], 1);
    assert_eq!(rec["changed"], true);
    assert_eq!(json.status.code(), Some(1));
    for cmd in ["diff", "apply"] {
        let o = kcodemod(&[cmd, "--rule", "mm_walk_ops"], t.path());
        assert_eq!(o.status.code(), Some(1), "{cmd}: {}", last_line(&o));
        assert_eq!(
            last_line(&o),
            "kcodemod: INCOMPLETE: 1 site needs manual conversion; the tree does not build until it is converted",
            "{cmd}"
        );
    }
}

#[test]
fn a_migration_with_nothing_left_for_a_human_is_complete() {
    // The same tree with the flagged caller's escape removed by hand: every site converts,
    // no INCOMPLETE line, exit 0.
    let t = demo();
    edit(
        &t.path().join("mm/madvise.c"),
        "\tmadvise_trace_walk(&walk, start, end);\n",
        "",
    );
    let o = kcodemod(&["diff", "--rule", "mm_walk_ops"], t.path());
    assert_eq!(o.status.code(), Some(0), "{}", last_line(&o));
    assert!(!String::from_utf8_lossy(&o.stderr).contains("INCOMPLETE"));
    assert!(!o.stdout.is_empty());
}

#[test]
fn a_definition_that_cannot_be_converted_blocks_the_whole_migration() {
    // A member sharing its line with the struct's brace cannot be moved: the struct is
    // flagged, so no prototype, implementation or caller may convert either.
    let t = demo();
    edit(
        &t.path().join("include/linux/mm.h"),
        "struct mm_walk {\n\tint (*pud_entry)",
        "struct mm_walk { int (*pud_entry)",
    );
    let before = snapshot(t.path());
    let diff = kcodemod(&["diff", "--rule", "mm_walk_ops"], t.path());
    assert_eq!(diff.status.code(), Some(1), "{}", last_line(&diff));
    assert!(
        diff.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&diff.stdout)
    );
    let err = String::from_utf8_lossy(&diff.stderr);
    let blocked = err.lines().filter(|l| l.ends_with("[blocked]")).count();
    // 17 sites convert on the intact demo; all but the struct itself are now blocked.
    assert_eq!(blocked, 16, "{err}");
    assert!(
        err.contains(
            "blocked: the API definition in include/linux/mm.h:65 could not be converted: member `pud_entry` shares its line with other code"
        ),
        "{err}"
    );
    assert!(
        err.contains("INCOMPLETE: 18 sites need manual conversion; nothing was changed"),
        "{err}"
    );
    let apply = kcodemod(&["apply", "--rule", "mm_walk_ops"], t.path());
    assert_eq!(apply.status.code(), Some(1));
    assert_eq!(
        snapshot(t.path()),
        before,
        "a blocked migration wrote files"
    );
    // Given the definition from outside (a base patch), callers convert on their own.
    let out = tempfile::tempdir().unwrap();
    let api = out.path().join("api.patch");
    std::fs::write(&api, "").unwrap();
    let series = common::bin()
        .arg("series")
        .arg(t.path())
        .args([
            "--rule",
            "mm_walk_ops",
            "--signoff",
            "A <a@example.org>",
            "-o",
        ])
        .arg(out.path().join("s"))
        .arg("--base-patch")
        .arg(&api)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&series.stderr);
    assert!(!err.contains("[blocked]"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// Issue 10: the command-line contract.

/// Run the binary with exactly these arguments, from `cwd`.
fn run_args<S: AsRef<std::ffi::OsStr>>(cwd: &Path, args: &[S]) -> Output {
    common::bin().args(args).current_dir(cwd).output().unwrap()
}

/// The demo tree copied to `<tmp>/<name>` for each name.
fn demo_copies(names: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for n in names {
        let ok = Command::new("cp")
            .arg("-a")
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo"))
            .arg(dir.path().join(n))
            .status()
            .unwrap();
        assert!(ok.success());
    }
    dir
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn json_records(o: &Output) -> Vec<serde_json::Value> {
    text(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// `kcodemod apply t3 ../t4` used to rewrite every file of t4 and leave t3 alone.
#[test]
fn a_path_argument_outside_the_tree_is_refused_before_anything_is_read() {
    let d = demo_copies(&["t3", "t4"]);
    std::os::unix::fs::symlink("../t4/mm", d.path().join("t3/mm-elsewhere")).unwrap();
    let t4 = d.path().join("t4");
    let before = (snapshot(&d.path().join("t3")), snapshot(&t4));
    let abs_t4 = t4.join("mm").into_os_string();
    let abs_inside = d.path().join("t3/mm").into_os_string();
    for p in [
        "../t4".into(),
        "mm/../../t4/mm".into(),
        "mm-elsewhere".into(),
        abs_t4,
    ] {
        let o = run_args(d.path(), &["apply".into(), "t3".into(), p.clone()]);
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{p:?}: {err}");
        assert!(err.contains("outside the tree"), "{p:?}: {err}");
        assert!(o.stdout.is_empty(), "{p:?}");
        assert_eq!(
            (snapshot(&d.path().join("t3")), snapshot(&t4)),
            before,
            "{p:?}: a file changed"
        );
    }
    // The other way: an absolute path inside the tree is fine.
    let o = run_args(d.path(), &["check".into(), "t3".into(), abs_inside]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
}

/// An absolute path inside the tree gave `a///home/me/demo/mm/madvise.c`, and error lines and
/// site lines used different path bases.
#[test]
fn every_output_names_files_relative_to_the_tree() {
    let d = demo_copies(&["t3"]);
    let tree = d.path().join("t3");
    std::os::unix::fs::symlink("nowhere.c", tree.join("mm/dangling.c")).unwrap();
    let forms: Vec<Vec<std::ffi::OsString>> = vec![
        vec!["t3".into()],
        vec!["t3".into(), ".".into()],
        vec!["t3".into(), "mm/../".into()],
        vec!["t3".into(), tree.clone().into_os_string()],
        vec![tree.clone().into_os_string(), "t3".into()],
    ];
    let mut outs = Vec::new();
    for f in &forms {
        let args: Vec<std::ffi::OsString> = [vec!["diff".into()], f.clone()].concat();
        let o = run_args(d.path(), &args);
        assert_eq!(o.status.code(), Some(2), "{f:?}: the dangling link");
        let out = text(&o.stdout);
        let headers: Vec<&str> = out
            .lines()
            .filter(|l| l.starts_with("diff --git "))
            .collect();
        assert!(
            headers.contains(&"diff --git a/mm/madvise.c b/mm/madvise.c"),
            "{f:?}: {out}"
        );
        assert!(
            headers
                .iter()
                .all(|h| !h.contains("a//") && !h.contains("a/t3/")),
            "{f:?}: {headers:?}"
        );
        let err = text(&o.stderr);
        assert!(
            err.lines().any(|l| l.starts_with("mm/dangling.c: ")),
            "{f:?}: {err}"
        );
        assert!(
            err.lines().any(|l| l.starts_with("mm/madvise.c:55: ")),
            "{f:?}: {err}"
        );
        let args: Vec<std::ffi::OsString> =
            [vec!["check".into()], f.clone(), vec!["--json".into()]].concat();
        let recs = json_records(&run_args(d.path(), &args));
        for r in recs.iter().filter(|r| r.get("file").is_some()) {
            let file = r["file"].as_str().unwrap();
            assert!(
                !file.starts_with('/') && tree.join(file).symlink_metadata().is_ok(),
                "{f:?}: {r}"
            );
        }
        outs.push((o.stdout, o.stderr));
    }
    assert!(
        outs.windows(2).all(|w| w[0] == w[1]),
        "one output for every form"
    );
    std::fs::remove_file(tree.join("mm/dangling.c")).unwrap();
    let patch = d.path().join("abs.patch");
    std::fs::write(&patch, &outs[3].0).unwrap();
    let ok = Command::new("git")
        .args(["apply", "--check"])
        .arg(&patch)
        .current_dir(&tree)
        .output()
        .unwrap();
    assert!(ok.status.success(), "{}", text(&ok.stderr));
}

/// `check --max-size 0` skipped all 28 demo files (9 with sites) and exited 0.
#[test]
fn check_max_size_0_on_the_demo_is_unchecked_and_exits_2() {
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo");
    let o = kcodemod(&["check", "--max-size", "0"], &demo);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("; 9 unchecked;"), "{err}");
    let o = kcodemod(&["check", "--max-size", "0", "--json"], &demo);
    assert_eq!(o.status.code(), Some(2));
    let recs = json_records(&o);
    let unchecked: Vec<_> = recs.iter().filter(|r| r["type"] == "unchecked").collect();
    assert_eq!(unchecked.len(), 9, "{recs:?}");
    assert!(
        unchecked.iter().any(|r| r["file"] == "mm/pagewalk.c"
            && r["reason"].as_str().unwrap().contains("size limit"))
    );
    assert_eq!(recs.iter().filter(|r| r["type"] == "skipped").count(), 19);
    assert_eq!(recs.last().unwrap()["unchecked"], 9);
    // The other way: with the default limit every file is checked.
    let o = kcodemod(&["check"], &demo);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("; 0 unchecked;"));
}

/// A directory with no C files read 0 files and exited 0 without a word.
#[test]
fn a_tree_with_no_c_file_exits_2_with_a_message() {
    let t = tempfile::tempdir().unwrap();
    std::fs::write(t.path().join("README"), "no C here\n").unwrap();
    for cmd in ["check", "diff", "apply"] {
        let o = kcodemod(&[cmd], t.path());
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{cmd}: {err}");
        assert!(
            err.contains("no C file (.c or .h) was read"),
            "{cmd}: {err}"
        );
    }
    std::fs::write(t.path().join("x.c"), "int x;\n").unwrap();
    let o = kcodemod(&["check"], t.path());
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
}

#[test]
fn a_missing_tree_or_path_says_no_such_file_or_directory() {
    let t = tempfile::tempdir().unwrap();
    let o = kcodemod(&["check"], &t.path().join("nope"));
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2));
    assert!(err.contains("nope: No such file or directory"), "{err}");
    let o = kcodemod(&["check", "mm/nope.c"], t.path());
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err.contains("mm/nope.c: No such file or directory"),
        "{err}"
    );
    std::fs::create_dir(t.path().join("mm")).unwrap();
    std::fs::write(t.path().join("mm/x.c"), "int x;\n").unwrap();
    let o = kcodemod(&["check", "--target", "/nonexistent/linux"], t.path());
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err.contains("/nonexistent/linux: No such file or directory"),
        "{err}"
    );
}

#[test]
fn check_and_diff_say_would_change_apply_says_changed() {
    let t = tree(false);
    for (cmd, verb) in [
        ("check", " would change;"),
        ("diff", " would change;"),
        ("apply", " changed;"),
    ] {
        let o = kcodemod(&[cmd], t.path());
        let last = summary_line(&text(&o.stderr));
        assert!(last.contains(verb), "{cmd}: {last}");
        if cmd != "apply" {
            assert!(!last.contains(" changed;"), "{cmd}: {last}");
        }
    }
}

/// `-j 10000` started about 20,000 threads; `-j 0` was accepted and undocumented.
#[test]
fn jobs_are_capped_and_0_means_every_cpu() {
    let t = tree(true);
    let one = kcodemod(&["check", "--json", "-j1"], t.path());
    assert!(one.stderr.is_empty(), "{}", text(&one.stderr));
    let many = kcodemod(&["check", "--json", "-j", "100000"], t.path());
    let err = text(&many.stderr);
    assert_eq!(many.status.code(), Some(1), "{err}");
    assert!(err.contains("-j 100000 capped to "), "{err}");
    assert_eq!(many.stdout, one.stdout);
    let zero = kcodemod(&["check", "--json", "-j0"], t.path());
    assert_eq!(zero.status.code(), Some(1));
    assert!(zero.stderr.is_empty(), "{}", text(&zero.stderr));
    assert_eq!(zero.stdout, one.stdout);
    let help = run_args(t.path(), &["check", "--help"]);
    let help = text(&help.stdout);
    assert!(help.contains("Default and 0: the number of CPUs"), "{help}");
}

/// `kcodemod test` outside the repository failed with `fixtures/mm_walk_ops: No such file or
/// directory`.
#[test]
fn test_finds_the_bundled_fixtures_from_anywhere() {
    let elsewhere = tempfile::tempdir().unwrap();
    let o = run_args(elsewhere.path(), &["test"]);
    let out = text(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}{}", text(&o.stderr));
    assert!(
        out.lines()
            .any(|l| l.starts_with("mm_walk_ops/") && l.ends_with(": Pass"))
    );
    assert!(!out.contains("irq_walker_ops"), "{out}");
    // A directory without them says where it looked and what to pass.
    let o = run_args(elsewhere.path(), &["test", "--fixtures", "nowhere"]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("nowhere/mm_walk_ops"), "{err}");
}

#[test]
fn help_states_every_exit_code() {
    let o = run_args(Path::new("."), &["--help"]);
    let help = text(&o.stdout);
    for needle in [
        "0    done",
        "1    `check`",
        "2    the tree",
        "unchecked",
        "130  interrupted",
        "no C file",
        "outside TREE",
        "--keep-going",
    ] {
        assert!(help.contains(needle), "{needle}: {help}");
    }
    let o = run_args(Path::new("."), &["check", "--help"]);
    let help = text(&o.stdout);
    assert!(help.contains("2 the tree could not be checked"), "{help}");
    let o = run_args(Path::new("."), &["apply", "--help"]);
    let help = text(&o.stdout);
    assert!(
        help.contains("130 interrupted (the files written and not written"),
        "{help}"
    );
}

/// `series` keeps the same promise: an unchecked file or a tree with no C file is exit 2.
#[test]
fn series_exits_2_for_unchecked_files_and_for_no_c_file() {
    let d = demo_copies(&["t3"]);
    std::fs::create_dir(d.path().join("empty")).unwrap();
    let series = |tree: &str, extra: &[&str]| {
        let out = d.path().join(format!("out-{tree}-{}", extra.len()));
        let mut args: Vec<std::ffi::OsString> = vec!["series".into(), tree.into(), "-o".into()];
        args.push(out.into_os_string());
        args.extend(["--signoff", "A <a@example.org>"].map(Into::into));
        args.extend(extra.iter().map(Into::into));
        run_args(d.path(), &args)
    };
    let o = series("t3", &["--max-size", "0"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("; 9 unchecked;"));
    let o = series("empty", &[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("no C file"));
    let o = series("t3", &[]);
    assert_eq!(o.status.code(), Some(1), "INCOMPLETE: {}", text(&o.stderr));
}

/// `check` on a tree with an unchecked file (red) and flagged sites (a yellow code), with
/// `--color` and the environment given; stderr.
fn coloured(colour: &str, env: &[(&str, &str)]) -> String {
    let t = tree(true);
    let mut c = common::bin();
    c.args(["check", "--color", colour, "--parse-timeout-ms", "0"])
        .arg(t.path())
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("CLICOLOR");
    for (k, v) in env {
        c.env(k, v);
    }
    String::from_utf8_lossy(&c.output().unwrap().stderr).into_owned()
}

/// `--color always` paints unchecked files red whatever NO_COLOR says; `never`, and `auto`
/// when stderr is not a terminal, write no escape at all.
#[test]
fn colour_follows_the_color_option() {
    let always = coloured("always", &[("NO_COLOR", "1"), ("TERM", "dumb")]);
    assert!(
        always.contains("\x1b[31m")
            && always.contains(": unchecked: ")
            && always.contains("\x1b[0m"),
        "{always:?}"
    );
    for (what, err) in [
        ("never", coloured("never", &[("TERM", "xterm")])),
        ("auto, a pipe", coloured("auto", &[("TERM", "xterm")])),
    ] {
        assert!(err.contains(": unchecked: "), "{what}: {err}");
        assert!(!err.contains('\x1b'), "{what}: {err:?}");
    }
}

/// `--color auto` on a terminal (run under `script`, which gives it one): coloured with a TERM
/// that can show it, plain with NO_COLOR set or TERM=dumb.
#[test]
fn auto_colour_on_a_terminal_honours_no_color_and_term() {
    let script = std::process::Command::new("script")
        .arg("--version")
        .output();
    if script.is_err() {
        assert!(
            std::env::var_os("CI").is_none(),
            "script(1) is needed in CI"
        );
        return;
    }
    let t = tree(true);
    let run = |env: &str| {
        let cmd = format!(
            "{env} {} check --color auto --parse-timeout-ms 0 {} 2>&1",
            env!("CARGO_BIN_EXE_kcodemod"),
            t.path().display()
        );
        let o = std::process::Command::new("script")
            .args(["-qec", &cmd, "/dev/null"])
            // anstream colours a terminal under CI whatever TERM says.
            .env_remove("CI")
            .env_remove("NO_COLOR")
            .env_remove("CLICOLOR_FORCE")
            .env_remove("CLICOLOR")
            .output()
            .unwrap();
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let on = run("TERM=xterm");
    assert!(
        on.contains("\x1b[31m") && on.contains("unchecked"),
        "{on:?}"
    );
    for env in ["TERM=xterm NO_COLOR=1", "TERM=dumb"] {
        let off = run(env);
        assert!(off.contains("unchecked"), "{env}: {off:?}");
        assert!(!off.contains("\x1b[31m"), "{env}: {off:?}");
    }
}
