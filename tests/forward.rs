//! Forward-porting (`--target`): the 4.x-style module in fixtures/forward/pgstat converted
//! against header-only models of newer kernels, compared with the expected output and compiled
//! against those kernels' headers with the four compilers. The module as written builds on
//! its old kernel and not on the new ones: the conversion is what makes it build.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn forward() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/forward")
}

fn kernel(v: &str) -> PathBuf {
    forward().join("kernels").join(v)
}

/// The module in a temporary directory.
fn module() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for f in ["Kbuild", "pgstat.c"] {
        std::fs::copy(forward().join("pgstat").join(f), dir.path().join(f)).unwrap();
    }
    dir
}

fn kcodemod(args: &[&str], dir: &Path, target: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kcodemod"))
        .arg(args[0])
        .arg(dir)
        .args(&args[1..])
        .arg("--target")
        .arg(kernel(target))
        .output()
        .unwrap()
}

const COMPILERS: [(&str, &str); 4] = [
    ("gcc", "gcc"),
    ("s390x-linux-gnu-gcc", "gcc-s390x-linux-gnu"),
    ("powerpc64-linux-gnu-gcc", "gcc-powerpc64-linux-gnu"),
    ("or1k-elf-gcc", "gcc-or1k-elf"),
];

/// Compile `file` against kernel `v`'s headers with `cc`; None when the compiler is missing
/// (an error under CI=true).
fn builds(cc: &str, package: &str, file: &Path, v: &str) -> Option<Result<(), String>> {
    let out = Command::new(cc)
        .args(["-fsyntax-only", "-Wall", "-Werror", "-nostdinc", "-I"])
        .arg(kernel(v).join("include"))
        .arg("-I")
        .arg(kernel("common").join("include"))
        .arg(file)
        .env("LC_ALL", "C")
        .output();
    match out {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "{cc} not found; install the Debian package {package}"
            );
            eprintln!("forward: {cc} not found ({package}); not compiled with it");
            None
        }
        Err(e) => panic!("{cc}: {e}"),
        Ok(o) if o.status.success() => Some(Ok(())),
        Ok(o) => Some(Err(String::from_utf8_lossy(&o.stderr).into_owned())),
    }
}

#[test]
fn the_module_as_written_builds_only_on_its_old_kernel() {
    let src = forward().join("pgstat/pgstat.c");
    for (cc, pkg) in COMPILERS {
        if let Some(r) = builds(cc, pkg, &src, "v4.19") {
            r.unwrap_or_else(|e| panic!("{cc} on v4.19: {e}"));
        }
        for v in ["v5.4", "v6.1"] {
            if let Some(r) = builds(cc, pkg, &src, v) {
                assert!(r.is_err(), "{cc}: the unconverted module builds on {v}");
            }
        }
    }
}

#[test]
fn the_module_converted_for_5_4_builds_there() {
    let m = module();
    let o = kcodemod(&["apply"], m.path(), "v5.4");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(
        err.contains(
            "rule mm_walk_ops: applies: include/linux/pagewalk.h has `struct mm_walk_ops {`"
        ),
        "{err}"
    );
    assert!(err.contains("rule irq_walker_ops: skipped: "), "{err}");
    let got = std::fs::read_to_string(m.path().join("pgstat.c")).unwrap();
    let want = std::fs::read_to_string(forward().join("expected-v5.4/pgstat.c")).unwrap();
    assert_eq!(got, want);
    // Callers only: nothing of the target's API is written into the module, and a second
    // run changes nothing.
    assert!(!got.contains("struct mm_walk_ops {"));
    let again = kcodemod(&["diff"], m.path(), "v5.4");
    assert_eq!(again.status.code(), Some(0));
    assert!(again.stdout.is_empty());
    for (cc, pkg) in COMPILERS {
        if let Some(r) = builds(cc, pkg, &m.path().join("pgstat.c"), "v5.4") {
            r.unwrap_or_else(|e| panic!("{cc} on v5.4: {e}"));
        }
    }
}

#[test]
fn a_target_without_the_new_api_is_refused() {
    let m = module();
    let o = kcodemod(&["diff"], m.path(), "v4.19");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("rule mm_walk_ops: skipped: the target has no include/linux/pagewalk.h"),
        "{err}"
    );
    assert!(err.contains("no rule applies"), "{err}");
}

fn git(dir: &Path, args: &[&str]) {
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
}

#[test]
fn a_module_series_is_a_callers_patch_against_its_own_repository() {
    let m = tempfile::tempdir().unwrap();
    let repo = m.path().join("pgstat");
    std::fs::create_dir(&repo).unwrap();
    for f in ["Kbuild", "pgstat.c"] {
        std::fs::copy(forward().join("pgstat").join(f), repo.join(f)).unwrap();
    }
    git(&repo, &["init", "-q"]);
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-qm", "pgstat"]);
    let out = m.path().join("out");
    let o = Command::new(env!("CARGO_BIN_EXE_kcodemod"))
        .arg("series")
        .arg(&repo)
        .arg("-o")
        .arg(&out)
        .args(["--signoff", "A <a@example.org>", "--target"])
        .arg(kernel("v5.4"))
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let mut patches: Vec<PathBuf> = std::fs::read_dir(out.join("patches"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    patches.sort();
    assert_eq!(patches.len(), 2);
    for p in &patches {
        let text = std::fs::read_to_string(p).unwrap();
        assert!(
            text.contains("/1] pgstat: convert callers to struct mm_walk_ops\n"),
            "{text}"
        );
        // No MAINTAINERS in a module: no recipients, and nothing fails for it.
        assert!(!text.contains("\nTo: "), "{text}");
    }
    git(&repo, &["am", "-q", patches[1].to_str().unwrap()]);
    let got = std::fs::read_to_string(repo.join("pgstat.c")).unwrap();
    let want = std::fs::read_to_string(forward().join("expected-v5.4/pgstat.c")).unwrap();
    assert_eq!(got, want);
}
