//! Forward-porting (`--target`): the 4.x-style module in fixtures/forward/pgstat converted
//! against header-only models of newer kernels, compared with the expected output and compiled
//! against those kernels' headers with the four compilers. The module as written builds on
//! its old kernel and not on the new ones: the conversion is what makes it build.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;

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
    common::bin()
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

/// Convert the module for kernel `v`, compare with `expected-<v>/`, and compile it there.
fn converts_and_builds(v: &str, rules: &[&str]) {
    let m = module();
    let o = kcodemod(&["apply"], m.path(), v);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    for r in rules {
        assert!(err.contains(&format!("rule {r}: applies: ")), "{v}: {err}");
    }
    // A fixture-only rule is no candidate: it is not bundled.
    assert!(!err.contains("irq_walker_ops"), "{err}");
    let got = std::fs::read_to_string(m.path().join("pgstat.c")).unwrap();
    let want = std::fs::read_to_string(forward().join(format!("expected-{v}/pgstat.c"))).unwrap();
    assert_eq!(got, want, "{v}");
    // Callers only: nothing of the target's API is written into the module, and a second
    // run changes nothing.
    assert!(!got.contains("struct mm_walk_ops {"));
    let again = kcodemod(&["diff"], m.path(), v);
    assert_eq!(again.status.code(), Some(0));
    assert!(again.stdout.is_empty());
    for (cc, pkg) in COMPILERS {
        if let Some(r) = builds(cc, pkg, &m.path().join("pgstat.c"), v) {
            r.unwrap_or_else(|e| panic!("{cc} on {v}: {e}"));
        }
    }
}

#[test]
fn the_module_converted_for_5_4_builds_there() {
    converts_and_builds("v5.4", &["mm_walk_ops"]);
    // 5.4 has neither the pte_hole depth nor proc_ops: those rules are skipped, with why.
    let o = kcodemod(&["diff"], module().path(), "v5.4");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("rule pte_hole_depth: skipped: include/linux/pagewalk.h lacks"),
        "{err}"
    );
    assert!(err.contains("rule proc_ops: skipped: "), "{err}");
}

#[test]
fn the_module_converted_for_6_1_builds_there() {
    // Three migrations in one run, in rule order: the walker (5.4), then the depth of
    // pte_hole and proc_ops (5.6).
    converts_and_builds("v6.1", &["mm_walk_ops", "pte_hole_depth", "proc_ops"]);
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
    common::git(dir, args);
}

/// `series --target kernels/<v>` of the module made a git repository; returns the repo (in
/// its temporary directory) and the patch files, the cover letter first.
fn module_series(v: &str) -> (tempfile::TempDir, PathBuf, Vec<PathBuf>) {
    series_of("pgstat", v, &[])
}

/// `series --target kernels/<v>` of the fixture module `name` made a git repository, with
/// `args` too: the temporary directory, the repo, and the patches (the cover letter first).
fn series_of(name: &str, v: &str, args: &[&str]) -> (tempfile::TempDir, PathBuf, Vec<PathBuf>) {
    let m = tempfile::tempdir().unwrap();
    let repo = m.path().join(name);
    std::fs::create_dir(&repo).unwrap();
    for f in ["Kbuild", &format!("{name}.c")] {
        std::fs::copy(forward().join(name).join(f), repo.join(f)).unwrap();
    }
    common::commit_all(&repo, name);
    let out = m.path().join("out");
    let o = common::bin()
        .arg("series")
        .arg(&repo)
        .arg("-o")
        .arg(&out)
        .args(args)
        .args(["--signoff", "A <a@example.org>", "--target"])
        .arg(kernel(v))
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
    (m, repo, patches)
}

fn subject(p: &Path) -> String {
    let text = std::fs::read_to_string(p).unwrap();
    let line = text.lines().find(|l| l.starts_with("Subject: ")).unwrap();
    line["Subject: ".len()..].to_string()
}

#[test]
fn a_module_series_is_a_callers_patch_against_its_own_repository() {
    let (_m, repo, patches) = module_series("v5.4");
    assert_eq!(patches.len(), 2);
    for p in &patches {
        assert!(
            subject(p).ends_with("/1] pgstat: convert callers to struct mm_walk_ops"),
            "{}",
            subject(p)
        );
        // No MAINTAINERS in a module: no recipients, and nothing fails for it.
        assert!(!std::fs::read_to_string(p).unwrap().contains("\nTo: "));
    }
    git(&repo, &["am", "-q", patches[1].to_str().unwrap()]);
    let got = std::fs::read_to_string(repo.join("pgstat.c")).unwrap();
    let want = std::fs::read_to_string(forward().join("expected-v5.4/pgstat.c")).unwrap();
    assert_eq!(got, want);
}

#[test]
fn a_series_of_three_migrations_is_one_patch_each_in_run_order() {
    let (_m, repo, patches) = module_series("v6.1");
    let subjects: Vec<String> = patches.iter().map(|p| subject(p)).collect();
    assert_eq!(
        subjects,
        [
            "[PATCH 0/3] pgstat: convert to the target kernel's APIs",
            "[PATCH 1/3] pgstat: convert callers to struct mm_walk_ops",
            "[PATCH 2/3] pgstat: .pte_hole callbacks take depth",
            "[PATCH 3/3] pgstat: convert to struct proc_ops",
        ]
    );
    // Each patch applies on the one before; the tip is the whole conversion.
    let mut args = vec!["am", "-q"];
    let files: Vec<String> = patches[1..]
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    args.extend(files.iter().map(String::as_str));
    git(&repo, &args);
    let got = std::fs::read_to_string(repo.join("pgstat.c")).unwrap();
    let want = std::fs::read_to_string(forward().join("expected-v6.1/pgstat.c")).unwrap();
    assert_eq!(got, want);
    let second = std::fs::read_to_string(&patches[2]).unwrap();
    assert!(second.contains("+\t\t       __always_unused int depth, struct mm_walk *walk)"));
    assert!(
        !second.contains("proc_ops"),
        "the depth patch holds only its own change"
    );
}

/// `check/module.sh` (through `check/all.sh`) of a module series, run on the module repo
/// against the v6.1 model, whose Makefile compiles `M=` modules with the real compilers.
fn module_check(out: &Path, repo: &Path, args: &[&str]) -> Output {
    Command::new("bash")
        .arg(out.join("check/module.sh"))
        .args(args)
        .arg(repo)
        .arg(out.join("build"))
        .output()
        .unwrap()
}

#[test]
fn the_module_check_fails_before_the_series_and_on_a_planted_break_and_passes_after() {
    let (m, repo, patches) = module_series("v6.1");
    let out = m.path().join("out");
    let text = |o: &Output| String::from_utf8_lossy(&o.stdout).into_owned();
    // Before the series: the old module does not build on 6.1.
    let before = module_check(&out, &repo, &[]);
    assert_eq!(before.status.code(), Some(1), "{}", text(&before));
    assert!(
        text(&before).contains("FAIL pgstat.o [x86_64]"),
        "{}",
        text(&before)
    );
    // With the series: it does, for the host and a cross arch.
    let mut args = vec!["am", "-q"];
    let files: Vec<String> = patches[1..]
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    args.extend(files.iter().map(String::as_str));
    git(&repo, &args);
    let after = module_check(&out, &repo, &[]);
    assert_eq!(after.status.code(), Some(0), "{}", text(&after));
    assert!(
        text(&after).contains("OK pgstat.o [x86_64]\nx86_64: PASS"),
        "{}",
        text(&after)
    );
    let s390 = module_check(&out, &repo, &["--arch", "s390"]);
    if builds(
        "s390x-linux-gnu-gcc",
        "gcc-s390x-linux-gnu",
        &forward().join("pgstat/pgstat.c"),
        "v4.19",
    )
    .is_some()
    {
        assert_eq!(s390.status.code(), Some(0), "{}", text(&s390));
        assert!(text(&s390).contains("OK pgstat.o [s390]"));
    }
    // A break planted after the series (two arguments swapped) fails with the compiler's word.
    let f = repo.join("pgstat.c");
    let good = std::fs::read_to_string(&f).unwrap();
    let bad = good.replacen("walk_page_range(mm, 0,", "walk_page_range(0, mm,", 1);
    assert_ne!(good, bad);
    std::fs::write(&f, bad).unwrap();
    let broken = module_check(&out, &repo, &[]);
    assert_eq!(broken.status.code(), Some(1), "{}", text(&broken));
    assert!(
        text(&broken).contains("error: passing argument 2 of 'walk_page_range' makes integer from pointer without a cast"),
        "{}",
        text(&broken)
    );
    // all.sh runs the module check and says so.
    std::fs::write(&f, good).unwrap();
    let all = Command::new("bash")
        .arg(out.join("check/all.sh"))
        .arg(&repo)
        .arg(out.join("build"))
        .output()
        .unwrap();
    assert_eq!(all.status.code(), Some(0), "{}", text(&all));
    assert!(text(&all).contains("PASS  module"), "{}", text(&all));
    // No group scripts for a module: it is not a kernel tree.
    assert!(!out.join("check/generic.sh").exists());
    if std::process::Command::new("shellcheck")
        .arg("--version")
        .output()
        .is_ok()
    {
        let sc = Command::new("shellcheck")
            .arg(out.join("check/module.sh"))
            .output()
            .unwrap();
        assert!(sc.status.success(), "{}", text(&sc));
    } else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "shellcheck is missing; .ci/run installs it"
        );
    }
}

#[test]
fn a_prepared_target_build_given_to_series_is_what_the_module_check_uses() {
    let (m, repo, patches) = module_series("v6.1");
    let mut args = vec!["am", "-q"];
    let files: Vec<String> = patches[1..]
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    args.extend(files.iter().map(String::as_str));
    git(&repo, &args);
    // The target prepared once, as a user with a kernel build at hand has it.
    let kb = m.path().join("kb");
    for t in ["defconfig", "modules_prepare"] {
        let o = Command::new("make")
            .arg("-C")
            .arg(kernel("v6.1"))
            .arg(format!("O={}", kb.display()))
            .arg(t)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let out = m.path().join("out2");
    let o = common::bin()
        .arg("series")
        .arg(&repo)
        .arg("-o")
        .arg(&out)
        .args(["--signoff", "A <a@example.org>", "--target"])
        .arg(kernel("v6.1"))
        .arg("--target-build")
        .arg(&kb)
        .output()
        .unwrap();
    // The module is converted already: nothing to do, and the check still builds it.
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let check = module_check(&out, &repo, &[]);
    let text = String::from_utf8_lossy(&check.stdout);
    assert_eq!(check.status.code(), Some(0), "{text}");
    assert!(
        text.contains(&format!(
            "x86_64: target build {}",
            kb.canonicalize().unwrap().display()
        )),
        "{text}"
    );
    assert!(text.contains("OK pgstat.o [x86_64]"), "{text}");
}

/// The /proc-only module `procstat` in a temporary directory.
fn procstat() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for f in ["Kbuild", "procstat.c"] {
        std::fs::copy(forward().join("procstat").join(f), dir.path().join(f)).unwrap();
    }
    dir
}

/// Compile `file` with the four compilers against each of `kernels`.
fn builds_on(file: &Path, kernels: &[&str]) {
    for (cc, pkg) in COMPILERS {
        for v in kernels {
            if let Some(r) = builds(cc, pkg, file, v) {
                r.unwrap_or_else(|e| panic!("{cc} on {v}: {e}"));
            }
        }
    }
}

#[test]
fn the_proc_module_as_written_builds_only_on_its_old_kernel() {
    let src = forward().join("procstat/procstat.c");
    builds_on(&src, &["v4.19"]);
    for (cc, pkg) in COMPILERS {
        if let Some(r) = builds(cc, pkg, &src, "v6.1") {
            assert!(r.is_err(), "{cc}: the unconverted module builds on 6.1");
        }
    }
}

#[test]
fn compat_writes_one_source_that_builds_on_the_old_and_the_new_kernel() {
    let m = procstat();
    let o = kcodemod(&["apply", "--compat"], m.path(), "v6.1");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    // Every rule the target calls for runs; proc_ops is the one with sites here.
    assert!(err.contains("rule proc_ops: applies: "), "{err}");
    assert!(err.contains("1 sites converted, 0 flagged"), "{err}");
    let got = std::fs::read_to_string(m.path().join("procstat.c")).unwrap();
    let want = std::fs::read_to_string(forward().join("expected-compat/procstat.c")).unwrap();
    assert_eq!(got, want);
    // The misc device's file_operations is no /proc file: it stays one.
    assert!(got.contains("static const struct file_operations procstat_dev_fops = {"));
    builds_on(&m.path().join("procstat.c"), &["v4.19", "v6.1"]);
    // A second run changes nothing, with or without --compat: the code is on both APIs.
    for args in [&["diff", "--compat"][..], &["diff"]] {
        let again = kcodemod(args, m.path(), "v6.1");
        let err = String::from_utf8_lossy(&again.stderr);
        assert_eq!(again.status.code(), Some(0), "{err}");
        assert!(again.stdout.is_empty(), "{args:?}");
        assert!(err.contains("already on both APIs (compat)"), "{err}");
    }
}

#[test]
fn without_compat_the_proc_module_builds_only_on_the_new_kernel() {
    let m = procstat();
    let o = kcodemod(&["apply"], m.path(), "v6.1");
    assert_eq!(o.status.code(), Some(0));
    let file = m.path().join("procstat.c");
    builds_on(&file, &["v6.1"]);
    for (cc, pkg) in COMPILERS {
        if let Some(r) = builds(cc, pkg, &file, "v4.19") {
            assert!(r.is_err(), "{cc}: the plain conversion builds on 4.19");
        }
    }
}

/// `series --target kernels/v6.1 --compat` of procstat made a git repository: the temporary
/// directory, the repo, and the patches (the cover letter first).
fn procstat_series() -> (tempfile::TempDir, PathBuf, Vec<PathBuf>) {
    series_of("procstat", "v6.1", &["--compat", "--no-checkpatch"])
}

#[test]
fn a_compat_series_is_one_patch_that_git_am_applies() {
    let (_m, repo, patches) = procstat_series();
    assert_eq!(patches.len(), 2, "{patches:?}");
    let text = std::fs::read_to_string(&patches[1]).unwrap();
    assert!(
        text.contains("Written for both kernels (kcodemod --compat)"),
        "{text}"
    );
    git(&repo, &["am", "-q", patches[1].to_str().unwrap()]);
    let got = std::fs::read_to_string(repo.join("procstat.c")).unwrap();
    let want = std::fs::read_to_string(forward().join("expected-compat/procstat.c")).unwrap();
    assert_eq!(got, want);
}

/// A build of the v4.19 model prepared in `dir`, as `--old-build` takes it.
fn old_build(dir: &Path) -> PathBuf {
    let kb = dir.join("kb-4.19");
    for t in ["defconfig", "modules_prepare"] {
        let o = Command::new("make")
            .arg("-C")
            .arg(kernel("v4.19"))
            .arg(format!("O={}", kb.display()))
            .arg(t)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    kb
}

#[test]
fn the_module_check_builds_on_the_old_kernel_too_and_reports_each() {
    let (m, repo, patches) = procstat_series();
    let out = m.path().join("out");
    let kb = old_build(m.path());
    let old = ["--old-build", kb.to_str().unwrap()];
    let text = |o: &Output| String::from_utf8_lossy(&o.stdout).into_owned();
    // Before the series: the module builds on the old kernel only.
    let before = module_check(&out, &repo, &old);
    assert_eq!(before.status.code(), Some(1), "{}", text(&before));
    assert!(
        text(&before).contains("FAIL procstat.o [x86_64]\n"),
        "{}",
        text(&before)
    );
    assert!(
        text(&before).contains("OK procstat.o [x86_64, old kernel]"),
        "{}",
        text(&before)
    );
    // With the --compat series: on both.
    git(&repo, &["am", "-q", patches[1].to_str().unwrap()]);
    let after = module_check(&out, &repo, &old);
    assert_eq!(after.status.code(), Some(0), "{}", text(&after));
    for want in [
        "OK procstat.o [x86_64]\n",
        "x86_64: old kernel build ",
        "OK procstat.o [x86_64, old kernel]\nx86_64: PASS",
    ] {
        assert!(text(&after).contains(want), "{want}: {}", text(&after));
    }
    // A planted break: the plain conversion builds on the new kernel and fails on the old.
    let f = repo.join("procstat.c");
    let plain = std::fs::read_to_string(forward().join("expected-compat/procstat.c"))
        .unwrap()
        .replace("#if LINUX_VERSION_CODE >= KERNEL_VERSION(5, 6, 0)\n", "");
    let plain = plain[..plain.find("#else\n").unwrap()].to_string()
        + &plain[plain.find("#endif\n").unwrap() + "#endif\n".len()..];
    std::fs::write(&f, plain).unwrap();
    let broken = module_check(&out, &repo, &old);
    assert_eq!(broken.status.code(), Some(1), "{}", text(&broken));
    assert!(
        text(&broken).contains("OK procstat.o [x86_64]\n"),
        "{}",
        text(&broken)
    );
    assert!(
        text(&broken).contains("FAIL procstat.o [x86_64, old kernel]"),
        "{}",
        text(&broken)
    );
    assert!(
        text(&broken).contains("struct proc_ops"),
        "{}",
        text(&broken)
    );
    // Without --old-build, only the target is built.
    let target_only = module_check(&out, &repo, &[]);
    assert_eq!(target_only.status.code(), Some(0), "{}", text(&target_only));
    assert!(!text(&target_only).contains("old kernel"));
    // A directory that is no prepared build is refused.
    let bad = module_check(&out, &repo, &["--old-build", m.path().to_str().unwrap()]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("is not a prepared kernel build"));
}

#[test]
fn compat_with_no_rule_that_can_write_both_forms_is_refused() {
    let m = module();
    // The made-up rule lives with the fixtures (it is not bundled).
    let irq = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/rules/irq_walker_ops.toml");
    let o = common::bin()
        .arg("diff")
        .arg(m.path())
        .args(["--compat", "--rule"])
        .arg(&irq)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("rule irq_walker_ops: skipped for --compat: the rule file does not say the kernel version"),
        "{err}"
    );
    assert!(
        err.contains("--compat: no rule can write both forms"),
        "{err}"
    );
    assert!(o.stdout.is_empty());
}

#[test]
fn the_walker_module_with_compat_builds_on_4_19_and_5_4() {
    let m = module();
    let o = kcodemod(&["apply", "--compat"], m.path(), "v5.4");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(err.contains("rule mm_walk_ops: applies: "), "{err}");
    let file = m.path().join("pgstat.c");
    let got = std::fs::read_to_string(&file).unwrap();
    let want = std::fs::read_to_string(forward().join("expected-compat-v5.4/pgstat.c")).unwrap();
    assert_eq!(got, want);
    // <linux/pagewalk.h> exists from 5.4 on: it is included under the check, after
    // <linux/version.h>.
    let version = got.find("#include <linux/version.h>").unwrap();
    let pagewalk = got.find("#include <linux/pagewalk.h>").unwrap();
    assert!(version < pagewalk);
    assert!(got[..pagewalk].ends_with("#if LINUX_VERSION_CODE >= KERNEL_VERSION(5, 4, 0)\n"));
    builds_on(&file, &["v4.19", "v5.4"]);
    for args in [&["diff", "--compat"][..], &["diff"]] {
        let again = kcodemod(args, m.path(), "v5.4");
        let err = String::from_utf8_lossy(&again.stderr);
        assert_eq!(again.status.code(), Some(0), "{err}");
        assert!(again.stdout.is_empty(), "{args:?}");
        assert!(err.contains("1 already on both APIs (compat)"), "{err}");
    }
}

#[test]
fn three_migrations_with_compat_build_on_4_19_5_4_and_6_1() {
    let m = module();
    let o = kcodemod(&["apply", "--compat"], m.path(), "v6.1");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    for r in ["mm_walk_ops", "pte_hole_depth", "proc_ops"] {
        assert!(err.contains(&format!("rule {r}: applies: ")), "{err}");
        assert!(
            !err.contains(&format!("rule {r}: skipped for --compat")),
            "{err}"
        );
    }
    let file = m.path().join("pgstat.c");
    let got = std::fs::read_to_string(&file).unwrap();
    let want = std::fs::read_to_string(forward().join("expected-compat-v6.1/pgstat.c")).unwrap();
    assert_eq!(got, want);
    // The old walk (under the 5.4 check) keeps the old pte_hole: it is the old side, not a
    // use that blocks the depth parameter.
    assert!(got.contains("#else\nstatic int pgstat_hole(unsigned long addr, unsigned long next,\n\t\t       struct mm_walk *walk)"));
    builds_on(&file, &["v4.19", "v5.4", "v6.1"]);
    for args in [&["diff", "--compat"][..], &["diff"]] {
        let again = kcodemod(args, m.path(), "v6.1");
        let err = String::from_utf8_lossy(&again.stderr);
        assert_eq!(again.status.code(), Some(0), "{err}");
        assert!(again.stdout.is_empty(), "{args:?}");
        assert!(err.contains("6 already on both APIs (compat)"), "{err}");
    }
}
