//! Names (issue 21): file names with a tab, a newline, a quote, a space or bytes that are not
//! UTF-8 are written into diff headers as git writes them (C-style quoted, octal escapes), so
//! that `git apply` takes the diff; a path given twice, or inside another path argument, is
//! processed once. JSON records keep such a name as a string and give its bytes beside it.

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

/// The JSON records' `file` for each name that is not UTF-8: their `file_bytes`, or None.
fn file_bytes(stdout: &[u8]) -> Vec<(String, String, Option<Vec<u8>>)> {
    let text = String::from_utf8(stdout.to_vec()).expect("JSON Lines are UTF-8");
    text.lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|r| r.get("file").is_some())
        .map(|r| {
            let bytes = r.get("file_bytes").map(|b| {
                b.as_array()
                    .unwrap()
                    .iter()
                    .map(|n| u8::try_from(n.as_u64().unwrap()).unwrap())
                    .collect()
            });
            let kind = r["type"].as_str().unwrap().to_string();
            (kind, r["file"].as_str().unwrap().to_string(), bytes)
        })
        .collect()
}

/// JSON is lossless for names that are not UTF-8: `file` stays a string (U+FFFD where a byte
/// is not UTF-8) and `file_bytes` gives the name's bytes; a UTF-8 name has no `file_bytes`.
#[test]
fn json_gives_the_bytes_of_names_that_are_not_utf8() {
    let t = tempfile::tempdir().unwrap();
    let src = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/mm_walk_ops/a_initializer.c"),
    )
    .unwrap();
    let dir: &[u8] = b"d\xfer";
    std::fs::create_dir_all(t.path().join(OsStr::from_bytes(dir))).unwrap();
    let join = |n: &[u8]| t.path().join(OsStr::from_bytes(n));
    // A site (converted), three unchecked files (a link out of the tree to the rule's literal,
    // passed over by the walk; NUL bytes; nesting too deep, given up by the analysis), an
    // error (a dangling link), each under a name that is not UTF-8; and one UTF-8 name.
    std::fs::write(join(b"d\xfer/caf\xe9.c"), &src).unwrap();
    std::fs::write(join(b"d\xfer/nul\xff.c"), b"struct mm_walk w;\0").unwrap();
    let deep = format!(
        "struct mm_walk w;\nvoid f(void)\n{{{}{}}}\n",
        "{".repeat(1100),
        "}".repeat(1100)
    );
    std::fs::write(join(b"d\xfer/deep\xff.c"), deep).unwrap();
    std::os::unix::fs::symlink("nowhere.c", join(b"d\xfer/gone\xff.c")).unwrap();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("o.c"), "struct mm_walk w;\n").unwrap();
    std::os::unix::fs::symlink(outside.path().join("o.c"), join(b"d\xfer/out\xff.c")).unwrap();
    std::fs::write(join("d\u{e9}.c".as_bytes()), &src).unwrap();
    let o = common::bin()
        .args(["check", "--json"])
        .arg(t.path())
        .output()
        .unwrap();
    let records = file_bytes(&o.stdout);
    let mut found: Vec<(String, Vec<u8>)> = Vec::new();
    for (kind, file, bytes) in records {
        match bytes {
            Some(b) => {
                assert!(std::str::from_utf8(&b).is_err(), "{kind} {file}: {b:?}");
                assert_eq!(String::from_utf8_lossy(&b), file, "{kind}");
                found.push((kind, b));
            }
            None => assert!(!file.contains('\u{fffd}'), "{kind} {file}: no file_bytes"),
        }
    }
    found.sort();
    found.dedup();
    let want: Vec<(String, Vec<u8>)> = vec![
        ("error".into(), b"d\xfer/gone\xff.c".to_vec()),
        ("site".into(), b"d\xfer/caf\xe9.c".to_vec()),
        ("unchecked".into(), b"d\xfer/deep\xff.c".to_vec()),
        ("unchecked".into(), b"d\xfer/nul\xff.c".to_vec()),
        ("unchecked".into(), b"d\xfer/out\xff.c".to_vec()),
    ];
    assert_eq!(
        found,
        want,
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("\"file\":\"d\u{e9}.c\""),
        "the UTF-8 name is in a record as it is"
    );
}
