//! Names (issue 21): file names with a tab, a newline, a quote, a space or bytes that are not
//! UTF-8 are written into diff headers as git writes them (C-style quoted, octal escapes), so
//! that `git apply` takes the diff; a path given twice, or inside another path argument, is
//! processed once.

mod common;

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::Command;

/// Odd names, as bytes: each holds a copy of a convertible fixture.
const NAMES: [&[u8]; 6] = [
    b"mm/tab\there.c",
    b"mm/new\nline.c",
    b"mm/caf\xe9.c",
    b"mm/sp ace.c",
    b"mm/quo\"te.c",
    b"mm/back\\slash.c",
];

fn git(dir: &Path, args: &[&str], stdin: Option<&[u8]>) -> std::process::Output {
    use std::io::Write;
    let mut c = Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = c.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or_default()).unwrap();
    drop(input);
    c.wait_with_output().unwrap()
}

/// The header lines of a diff (`diff --git`, `---`, `+++`), sorted.
fn headers(diff: &[u8]) -> Vec<Vec<u8>> {
    let mut h: Vec<Vec<u8>> = diff
        .split(|&b| b == b'\n')
        .filter(|l| {
            l.starts_with(b"diff --git ") || l.starts_with(b"--- ") || l.starts_with(b"+++ ")
        })
        .map(|l| l.to_vec())
        .collect();
    h.sort();
    h
}

#[test]
fn odd_file_names_are_quoted_as_git_quotes_them() {
    let t = tempfile::tempdir().unwrap();
    let src = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/mm_walk_ops/a_initializer.c"),
    )
    .unwrap();
    std::fs::create_dir_all(t.path().join("mm")).unwrap();
    for n in NAMES {
        std::fs::write(t.path().join(OsStr::from_bytes(n)), &src).unwrap();
    }
    common::commit_all(t.path(), "odd names");
    let o = common::bin().arg("diff").arg(t.path()).output().unwrap();
    let ours = o.stdout;
    assert_eq!(
        ours.windows(11).filter(|w| w == b"diff --git ").count(),
        NAMES.len(),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let check = git(t.path(), &["apply", "--check", "-"], Some(&ours));
    assert!(
        check.status.success(),
        "git apply refuses the diff: {}\n{}",
        String::from_utf8_lossy(&check.stderr),
        String::from_utf8_lossy(&ours)
    );
    // Applied by git, the tree's own diff has the same headers, byte for byte.
    let applied = git(t.path(), &["apply", "-"], Some(&ours));
    assert!(applied.status.success());
    let theirs = git(t.path(), &["diff"], None).stdout;
    assert_eq!(
        headers(&ours),
        headers(&theirs),
        "ours:\n{}\ngit's:\n{}",
        String::from_utf8_lossy(&ours),
        String::from_utf8_lossy(&theirs)
    );
}

fn summary(args: &[&str]) -> (String, Vec<u8>) {
    let o = common::bin()
        .args(&args[..1])
        .arg(common::demo_path())
        .args(&args[1..])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    let line = err
        .lines()
        .find(|l| l.contains(" files read, "))
        .unwrap_or_else(|| panic!("no summary: {err}"))
        .to_string();
    (line, o.stdout)
}

#[test]
fn a_path_given_twice_is_processed_once() {
    let (line, out) = summary(&["diff", "mm/mincore.c", "./mm/mincore.c"]);
    assert!(line.starts_with("kcodemod: 1 files read,"), "{line}");
    let headers = out.windows(11).filter(|w| w == b"diff --git ").count();
    assert_eq!(headers, 1, "{}", String::from_utf8_lossy(&out));
    let (alone, _) = summary(&["check", "mm"]);
    for args in [
        ["check", "mm", "mm/mincore.c"],
        ["check", "mm/mincore.c", "mm"],
        ["check", "mm", "./mm/../mm/"],
    ] {
        let (line, _) = summary(&args);
        assert_eq!(line, alone, "{args:?}");
    }
}
