//! Nothing silently skipped, nothing half-true (issue 21, item 6): `series` on a dirty working
//! tree and a `--base-patch` that does not apply or does not change the API are refused;
//! restricted runs that leave the API behind say what to add; hidden and ignored C files are
//! not passed over without a word.

use std::path::Path;
use std::process::Output;

mod common;

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn series(tree: &Path, out: &Path, extra: &[&str]) -> Output {
    common::bin()
        .arg("series")
        .arg(tree)
        .arg("-o")
        .arg(out)
        .args([
            "--signoff",
            "A U Thor <author@example.org>",
            "--no-checkpatch",
        ])
        .args(extra)
        .output()
        .unwrap()
}

/// `series` on a dirty tree put the local edits into patches whose `base-commit:` is HEAD, so
/// `git am` on the base failed.
#[test]
fn series_refuses_a_dirty_working_tree_unless_allowed() {
    let tree = common::demo_copy();
    common::commit_all(tree.path(), "base");
    let out = tempfile::tempdir().unwrap();
    let o = series(tree.path(), &out.path().join("clean"), &[]);
    assert_eq!(o.status.code(), Some(1), "INCOMPLETE: {}", text(&o.stderr));
    // A local edit of a tracked file.
    let f = tree.path().join("mm/mincore.c");
    let old = std::fs::read_to_string(&f).unwrap();
    std::fs::write(&f, format!("/* local */\n{old}")).unwrap();
    let dirty = out.path().join("dirty");
    let o = series(tree.path(), &dirty, &[]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("local edits (mm/mincore.c)"), "{err}");
    assert!(err.contains("--allow-dirty"), "{err}");
    assert!(!dirty.exists(), "nothing is written");
    let o = series(tree.path(), &dirty, &["--allow-dirty"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    // HEAD is not the base of patches that carry the local edits: no base-commit is claimed.
    let cover = std::fs::read_to_string(dirty.join("patches/0000-cover-letter.patch")).unwrap();
    assert!(!cover.contains("base-commit:"), "{cover}");
    let clean =
        std::fs::read_to_string(out.path().join("clean/patches/0000-cover-letter.patch")).unwrap();
    assert!(clean.contains("base-commit:"), "{clean}");
    // An untracked C file counts too; an untracked note does not.
    std::fs::write(&f, old).unwrap();
    std::fs::write(tree.path().join("NOTES"), "x\n").unwrap();
    let o = series(tree.path(), &out.path().join("notes"), &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    std::fs::write(tree.path().join("mm/new.c"), "int x;\n").unwrap();
    let o = series(tree.path(), &out.path().join("new"), &[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("mm/new.c"));
}

/// `--base-patch garbage.patch` was accepted as patch 1.
#[test]
fn a_base_patch_that_does_not_apply_or_leaves_the_api_alone_is_refused() {
    let repo = common::demo_copy();
    common::commit_all(repo.path(), "base");
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("garbage.patch");
    std::fs::write(&garbage, "this is not a patch\n").unwrap();
    // A patch that applies but changes no header of the API.
    let readme = dir.path().join("readme.patch");
    let r = repo.path().join("README");
    let before = std::fs::read_to_string(&r).unwrap();
    std::fs::write(&r, format!("{before}more\n")).unwrap();
    std::fs::write(&readme, common::git(repo.path(), &["diff"])).unwrap();
    std::fs::write(&r, before).unwrap();
    // The real API change, made with apply on a copy (as a user would with git format-patch).
    let api = common::demo_copy();
    common::commit_all(api.path(), "base");
    let o = common::bin()
        .arg("apply")
        .arg(api.path())
        .args(["include/linux/mm.h", "mm/pagewalk.c"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    common::git(api.path(), &["commit", "-qam", "mm: the API change"]);
    let good = dir.path().join("api.patch");
    std::fs::write(
        &good,
        common::git(api.path(), &["format-patch", "-1", "--stdout"]),
    )
    .unwrap();
    let out = dir.path().join("out");
    for (patch, says) in [
        (&garbage, "does not apply"),
        (&readme, "changes no header of the API"),
    ] {
        let o = series(
            repo.path(),
            &out,
            &["--base-patch", patch.to_str().unwrap()],
        );
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(err.contains(says), "{err}");
        assert!(!out.exists());
    }
    // The README patch does apply: it is refused for what it changes, not for its form.
    let o = std::process::Command::new("git")
        .current_dir(repo.path())
        .args(["apply", "--check"])
        .arg(&readme)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    let o = series(repo.path(), &out, &["--base-patch", good.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "INCOMPLETE: {}", text(&o.stderr));
    // Already applied: it no longer applies, and is refused.
    common::git(repo.path(), &["am", "-q", good.to_str().unwrap()]);
    let o = series(
        repo.path(),
        &dir.path().join("again"),
        &["--base-patch", good.to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("does not apply"));
}

/// A convertible old-API file (the mm_walk_ops fixture's first case).
fn old_api() -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/mm_walk_ops/a_initializer.c"),
    )
    .unwrap()
}

fn check(tree: &Path) -> (Option<i32>, String) {
    let o = common::bin().arg("check").arg(tree).output().unwrap();
    (o.status.code(), text(&o.stderr))
}

/// Outside git, `.ignore`/`.rgignore` files and dot-named files and directories hid C files
/// and `check` exited 0 without a word.
#[test]
fn outside_git_ignore_files_and_hidden_names_hide_nothing_silently() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path();
    std::fs::create_dir_all(root.join("mm")).unwrap();
    std::fs::write(root.join("mm/clean.c"), "int clean;\n").unwrap();
    let (code, err) = check(root);
    assert_eq!(code, Some(0), "{err}");
    for ignore in [".ignore", ".rgignore"] {
        std::fs::write(root.join(ignore), "old.c\n").unwrap();
        std::fs::write(root.join("mm/old.c"), old_api()).unwrap();
        let (code, err) = check(root);
        assert_eq!(code, Some(1), "{ignore}: the file is checked: {err}");
        assert!(err.contains("mm/old.c:"), "{err}");
        std::fs::remove_file(root.join(ignore)).unwrap();
        std::fs::remove_file(root.join("mm/old.c")).unwrap();
    }
    // quilt's .pc/ holds copies of the sources: not converted, but not passed over in silence.
    std::fs::create_dir_all(root.join(".pc/fix/mm")).unwrap();
    std::fs::write(root.join(".pc/fix/mm/old.c"), old_api()).unwrap();
    let (code, err) = check(root);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains(".pc/fix/mm/old.c: unchecked: hidden"), "{err}");
    let d = common::bin().arg("diff").arg(root).output().unwrap();
    assert!(d.stdout.is_empty(), "a hidden file is never rewritten");
    std::fs::remove_dir_all(root.join(".pc")).unwrap();
    std::fs::write(root.join("mm/.old.c"), old_api()).unwrap();
    let (code, err) = check(root);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("mm/.old.c: unchecked: hidden"), "{err}");
    // A hidden C file without a rule's literal changes nothing.
    std::fs::write(root.join("mm/.old.c"), "int x;\n").unwrap();
    assert_eq!(check(root).0, Some(0));
}

/// In git, the files git tracks plus untracked ones it does not ignore: a tracked file that
/// matches .gitignore and a tracked dot-named file used to be skipped without a word.
#[test]
fn in_git_exactly_the_tracked_and_untracked_not_ignored_files_are_checked() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path();
    std::fs::create_dir_all(root.join("mm")).unwrap();
    std::fs::write(root.join("mm/clean.c"), "int clean;\n").unwrap();
    std::fs::write(root.join(".gitignore"), "gen*.c\n").unwrap();
    std::fs::write(root.join("mm/gen_tracked.c"), old_api()).unwrap();
    std::fs::write(root.join("mm/.dot.c"), old_api()).unwrap();
    common::commit_all(root, "base");
    // Untracked: one ignored (never checked), one not (checked).
    std::fs::write(root.join("mm/gen_untracked.c"), old_api()).unwrap();
    std::fs::write(root.join("mm/new.c"), old_api()).unwrap();
    let o = common::bin()
        .args(["check", "--json"])
        .arg(root)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    let mut files: Vec<String> = text(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|r| r["type"] == "site")
        .map(|r| r["file"].as_str().unwrap().to_string())
        .collect();
    files.dedup();
    assert_eq!(files, ["mm/.dot.c", "mm/gen_tracked.c", "mm/new.c"]);
    // A path argument restricts the same list; an ignored file named outright is checked.
    let o = common::bin()
        .arg("check")
        .arg(root)
        .arg("mm/gen_untracked.c")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    // From a subdirectory tree of the repository too.
    let o = common::bin()
        .args(["check", "--json"])
        .arg(root.join("mm"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    let n = text(&o.stdout)
        .lines()
        .filter(|l| l.contains("\"type\":\"summary\""))
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["files_read"].clone())
        .next()
        .unwrap();
    assert_eq!(n, 4, "clean.c, .dot.c, gen_tracked.c, new.c");
}

/// `diff TREE mm fs/proc` converted nothing (every site blocked: the old struct's definition
/// lies in include/linux/mm.h) or converted callers while the API stayed old, without saying
/// which file to add.
#[test]
fn a_run_on_some_paths_names_the_file_that_defines_the_api() {
    let demo = common::demo_path();
    let note = "kcodemod: note: mm_walk_ops: struct mm_walk is defined in include/linux/mm.h, \
                outside the paths given; the migration converts it with its callers: add \
                include/linux/mm.h to the paths, or run on the whole tree";
    for (paths, says) in [
        (&["mm"][..], true),
        (&["fs/proc"][..], true),
        (&["mm", "fs/proc"][..], true),
        (&["mm", "include/linux/mm.h"][..], false),
        (&[][..], false),
    ] {
        for cmd in ["diff", "check"] {
            let o = common::bin()
                .arg(cmd)
                .arg(&demo)
                .args(paths)
                .output()
                .unwrap();
            let err = text(&o.stderr);
            assert_eq!(err.contains(note), says, "{cmd} {paths:?}: {err}");
        }
    }
}

/// git skips a directory it cannot read with a warning and exit 0; the C files in it would be
/// passed over in silence. (As root every directory is readable: a `git` in front of the real
/// one gives the warning git gives.)
#[test]
fn a_directory_git_cannot_read_is_a_problem_not_a_silent_skip() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("tree");
    std::fs::create_dir_all(root.join("mm/secret")).unwrap();
    std::fs::write(root.join("mm/clean.c"), "int clean;\n").unwrap();
    common::commit_all(&root, "base");
    let real = std::process::Command::new("sh")
        .args(["-c", "command -v git"])
        .output()
        .unwrap();
    let real = text(&real.stdout).trim().to_string();
    let bin = t.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let git = bin.join("git");
    std::fs::write(
        &git,
        format!(
            "#!/bin/sh\ncase \" $* \" in *\" --others \"*) echo \"warning: could not open directory 'mm/secret/': Permission denied\" >&2;; esac\nexec {real} \"$@\"\n"
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&git, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let o = common::bin()
        .arg("check")
        .arg(&root)
        .env("PATH", &path)
        .output()
        .unwrap();
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("mm/secret: cannot read the directory: Permission denied"),
        "{err}"
    );
    // Without the warning the same tree passes.
    let o = common::bin().arg("check").arg(&root).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
}
