//! All or nothing, really (issue 21): `apply` on a disk that fills up renames nothing and
//! leaves no temporary file; a rewritten file keeps its owner, group and mode; `series -o` into
//! an earlier series' directory replaces it only once the new one is whole. A full disk is
//! simulated with the test hook `KCODEMOD_TEST_DISK_FULL_AFTER_BYTES` (writes fail with ENOSPC
//! past that many bytes), so no root or small filesystem is needed.

mod common;

use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Output;

/// Every path under `dir` (hidden ones too): relative path → (bytes or empty for a
/// directory, mode, uid, gid).
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (Vec<u8>, u32, u32, u32)> {
    let mut out = BTreeMap::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            let m = std::fs::symlink_metadata(&p).unwrap();
            let bytes = if m.is_dir() {
                dirs.push(p.clone());
                Vec::new()
            } else {
                std::fs::read(&p).unwrap()
            };
            let rel = p.strip_prefix(dir).unwrap().to_path_buf();
            out.insert(rel, (bytes, m.mode(), m.uid(), m.gid()));
        }
    }
    out
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// How many bytes a clean `apply` of the demo tree writes (the sum of the new files' sizes),
/// and which files it changes.
fn demo_writes() -> (u64, Vec<PathBuf>) {
    let t = common::demo_copy();
    let before = snapshot(t.path());
    common::bin().arg("apply").arg(t.path()).output().unwrap();
    let after = snapshot(t.path());
    let changed: Vec<PathBuf> = after
        .iter()
        .filter(|(p, v)| before.get(*p) != Some(v))
        .map(|(p, _)| p.clone())
        .collect();
    let bytes = changed.iter().map(|p| after[p].0.len() as u64).sum();
    (bytes, changed)
}

#[test]
fn apply_on_a_full_disk_renames_nothing_and_leaves_no_temporary_file() {
    let (bytes, changed) = demo_writes();
    assert!(changed.len() > 5, "{changed:?}");
    // The disk fills up while the last file's new text is written.
    let t = common::demo_copy();
    let before = snapshot(t.path());
    let o = common::bin()
        .arg("apply")
        .arg(t.path())
        .env(
            "KCODEMOD_TEST_DISK_FULL_AFTER_BYTES",
            (bytes - 1).to_string(),
        )
        .output()
        .unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert_eq!(
        snapshot(t.path()),
        before,
        "a file was renamed, or a temporary file is left: {err}"
    );
    assert!(err.contains("No space left on device"), "{err}");
    assert!(err.contains("nothing written"), "{err}");
    // With room for all of it, the same run writes everything.
    let o = common::bin()
        .arg("apply")
        .arg(t.path())
        .env("KCODEMOD_TEST_DISK_FULL_AFTER_BYTES", bytes.to_string())
        .output()
        .unwrap();
    let after = snapshot(t.path());
    let now: Vec<&PathBuf> = after
        .iter()
        .filter(|(p, v)| before.get(*p) != Some(v))
        .map(|(p, _)| p)
        .collect();
    assert_eq!(now.len(), changed.len(), "{}", stderr(&o));
}

/// Root rewriting a tree that belongs to someone else keeps the files theirs (CI runs as
/// root; elsewhere the test cannot give files away, and says so, except under CI=true).
#[test]
fn apply_keeps_owner_group_and_mode() {
    if !is_root() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "under CI=true this test must run as root"
        );
        eprintln!("apply_keeps_owner_group_and_mode: not root, cannot give files away; skipped");
        return;
    }
    let t = common::demo_copy();
    let (uid, gid) = (12345, 23456);
    let ok = std::process::Command::new("chown")
        .arg("-R")
        .arg(format!("{uid}:{gid}"))
        .arg(t.path())
        .status()
        .unwrap();
    assert!(ok.success());
    let odd = t.path().join("mm/mincore.c");
    std::fs::set_permissions(&odd, std::fs::Permissions::from_mode(0o640)).unwrap();
    let before = snapshot(t.path());
    let o = common::bin().arg("apply").arg(t.path()).output().unwrap();
    let after = snapshot(t.path());
    let changed: Vec<&PathBuf> = after
        .iter()
        .filter(|(p, v)| before[*p].0 != v.0)
        .map(|(p, _)| p)
        .collect();
    assert!(changed.len() > 5, "{}", stderr(&o));
    assert!(changed.iter().any(|p| t.path().join(p) == odd));
    for p in changed {
        let (_, mode, u, g) = &after[p];
        let (_, was, _, _) = &before[p];
        assert_eq!((*u, *g), (uid, gid), "{}: owner and group", p.display());
        assert_eq!(mode, was, "{}: mode", p.display());
    }
}

fn is_root() -> bool {
    std::fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false)
}

fn series(tree: &Path, out: &Path, disk: Option<u64>) -> Output {
    let mut c = common::bin();
    c.arg("series")
        .arg(tree)
        .arg("-o")
        .arg(out)
        .args(["--signoff", "A U Thor <author@example.org>"])
        .args(["--no-checkpatch", "--date", "2024-01-01T00:00:00Z"]);
    if let Some(n) = disk {
        c.env("KCODEMOD_TEST_DISK_FULL_AFTER_BYTES", n.to_string());
    }
    c.output().unwrap()
}

/// A series into a reused directory: a full disk keeps the earlier series whole (and leaves
/// nothing beside it); a run that succeeds replaces it, with nothing of it left.
#[test]
fn series_into_a_reused_directory_swaps_at_the_end() {
    let outer = tempfile::tempdir().unwrap();
    let out = outer.path().join("series");
    let o = series(&common::demo_path(), &out, None);
    assert!(o.status.code().is_some_and(|c| c < 2), "{}", stderr(&o));
    // A file of the earlier series that the next one does not write: gone after a swap.
    std::fs::write(out.join("patches/0099-stale.patch"), "stale\n").unwrap();
    let earlier = snapshot(&out);
    let o = series(&common::demo_path(), &out, Some(2000));
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("No space left on device"), "{err}");
    assert_eq!(snapshot(&out), earlier, "the earlier series changed: {err}");
    let beside: Vec<_> = std::fs::read_dir(outer.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(beside, ["series"], "left beside the output: {beside:?}");
    let o = series(&common::demo_path(), &out, None);
    assert!(o.status.code().is_some_and(|c| c < 2), "{}", stderr(&o));
    assert!(!out.join("patches/0099-stale.patch").exists());
    assert!(out.join("report.txt").is_file());
    let beside = std::fs::read_dir(outer.path()).unwrap().count();
    assert_eq!(beside, 1);
}

/// `series -o .` from inside an earlier series' directory: the directory stays (the shell is
/// in it), its entries are replaced, and nothing of the earlier series is left.
#[test]
fn series_into_the_current_directory_replaces_its_entries() {
    let outer = tempfile::tempdir().unwrap();
    let out = outer.path().join("series");
    std::fs::create_dir(&out).unwrap();
    let here = |disk: Option<u64>| {
        let mut c = common::bin();
        c.current_dir(&out)
            .arg("series")
            .arg(common::demo_path())
            .args(["-o", "."])
            .args(["--signoff", "A U Thor <author@example.org>"])
            .args(["--no-checkpatch", "--date", "2024-01-01T00:00:00Z"]);
        if let Some(n) = disk {
            c.env("KCODEMOD_TEST_DISK_FULL_AFTER_BYTES", n.to_string());
        }
        c.output().unwrap()
    };
    let o = here(None);
    assert!(o.status.code().is_some_and(|c| c < 2), "{}", stderr(&o));
    let inode = std::fs::metadata(&out).unwrap().ino();
    std::fs::write(out.join("patches/0099-stale.patch"), "stale\n").unwrap();
    let earlier = snapshot(&out);
    let o = here(Some(2000));
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_eq!(snapshot(&out), earlier, "{}", stderr(&o));
    let o = here(None);
    assert!(o.status.code().is_some_and(|c| c < 2), "{}", stderr(&o));
    assert_eq!(std::fs::metadata(&out).unwrap().ino(), inode);
    assert!(!out.join("patches/0099-stale.patch").exists());
    assert!(out.join("report.txt").is_file());
    assert_eq!(std::fs::read_dir(outer.path()).unwrap().count(), 1);
}
