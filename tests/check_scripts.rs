//! The compile-check scripts `series` writes, run for real on the demo tree made a git
//! repository: a warning the base has too is pre-existing (PASS), one the series brings FAILs
//! naming it, a base that cannot be prepared is UNTESTABLE, and a file the series leaves on
//! the old API is built and FAILs until it is converted by hand.
//!
//! The demo tree is not Kbuild: its top Makefile answers the few targets the scripts use
//! (`defconfig`, `olddefconfig`, `prepare`, one object, with `O=`) by running the real
//! compiler, and it has a small `scripts/config`. So the scripts run unchanged, with the real
//! gcc producing the diagnostics and the real git worktree for the base; only Kconfig's
//! solver and Kbuild's recursion are not exercised here (they are by the real-tree runs).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;
use common::git;

fn demo() -> PathBuf {
    common::demo_path()
}

/// A copy of the demo tree, changed by `plant`, committed as the base of a git repository.
fn repo(plant: impl FnOnce(&Path)) -> tempfile::TempDir {
    let dir = common::demo_copy();
    plant(dir.path());
    common::commit_all(dir.path(), "base");
    dir
}

fn append(path: &Path, text: &str) {
    let mut s = std::fs::read_to_string(path).unwrap();
    s.push_str(text);
    std::fs::write(path, s).unwrap();
}

/// `series` on `tree` into `out`; an incomplete series may exit 1, anything else is a bug.
fn series(tree: &Path, out: &Path) {
    series_with(tree, out, &[]);
}

fn series_with(tree: &Path, out: &Path, extra: &[&str]) {
    let o = common::bin()
        .args([
            "series",
            tree.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ])
        .args(["--signoff", "A U Thor <author@example.org>"])
        .args(extra)
        .output()
        .unwrap();
    assert!(
        matches!(o.status.code(), Some(0 | 1)) && out.join("check/all.sh").is_file(),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// `series`, then the patches applied with `git am` as a user would.
fn series_applied(tree: &Path, out: &Path) {
    series(tree, out);
    apply_series(tree, out);
}

/// `git am` the patches of the series in `out` (not the cover letter) onto `tree`.
fn apply_series(tree: &Path, out: &Path) {
    let mut patches: Vec<PathBuf> = std::fs::read_dir(out.join("patches"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| !p.to_str().unwrap().contains("0000-cover-letter"))
        .collect();
    patches.sort();
    let mut args = vec!["am", "-q"];
    args.extend(patches.iter().map(|p| p.to_str().unwrap()));
    git(tree, &args);
}

/// Run `check/<script>.sh [args] TREE BUILD_DIR`; (exit code, stdout + stderr).
fn check(out: &Path, script: &str, args: &[&str], tree: &Path) -> (i32, String) {
    check_env(out, script, args, tree, &[])
}

/// `check` with these environment variables set.
fn check_env(
    out: &Path,
    script: &str,
    args: &[&str],
    tree: &Path,
    env: &[(&str, &str)],
) -> (i32, String) {
    let o: Output = Command::new("bash")
        .arg(out.join(format!("check/{script}.sh")))
        .args(args)
        .arg(tree)
        .arg(out.join("build"))
        .env_remove("CROSS_COMPILE")
        .env_remove("CC")
        .env_remove("HOSTCC")
        .env_remove("KCFLAGS")
        .env_remove("KCODEMOD_BASE")
        .env_remove("KCODEMOD_ALLOW_EDITS")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    (o.status.code().unwrap_or(-1), text)
}

/// The series written to a new directory and applied, then the one site it leaves flagged
/// (madvise's walk) converted by hand and committed: a tree the check scripts pass.
fn series_with_madvise_by_hand(tree: &Path) -> tempfile::TempDir {
    let out = tempfile::tempdir().unwrap();
    series_applied(tree, out.path());
    convert_madvise_by_hand(tree);
    git(tree, &["commit", "-qam", "mm: madvise: convert by hand"]);
    out
}

/// The one flagged site of the demo (madvise_willneed passes its walk to a tracing helper),
/// converted by hand the way a developer would after reading the report.
fn convert_madvise_by_hand(tree: &Path) {
    let p = tree.join("mm/madvise.c");
    let s = std::fs::read_to_string(&p).unwrap();
    let old = "\tstruct mm_walk walk = {\n\t\t.pte_entry = willneed_pte_entry,\n\t\t.mm = vma->vm_mm,\n\t\t.private = vma,\n\t};\n\n\tif (vma->vm_file)\n\t\treturn 0;\n\tmadvise_trace_walk(&walk, start, end);\n\twalk_page_range(start, end, &walk);\n";
    let new = "\tstatic const struct mm_walk_ops ops = {\n\t\t.pte_entry = willneed_pte_entry,\n\t};\n\n\tif (vma->vm_file)\n\t\treturn 0;\n\twalk_page_range(vma->vm_mm, start, end, &ops, vma);\n";
    assert!(s.contains(old), "the demo's madvise_willneed changed");
    std::fs::write(&p, s.replace(old, new)).unwrap();
}

/// A function with an unused local: `-Wunused-variable`, an error under the scripts' -Werror.
fn unused_variable(function: &str, var: &str) -> String {
    format!("\nint {function}(void)\n{{\n\tint {var};\n\n\treturn 0;\n}}\n")
}

/// The lines of `text` from the one starting with `start` up to the next verdict line.
fn verdict_of<'t>(text: &'t str, start: &str) -> Vec<&'t str> {
    let mut lines = text.lines().skip_while(|l| !l.starts_with(start));
    let first = lines
        .next()
        .unwrap_or_else(|| panic!("no `{start}`:\n{text}"));
    std::iter::once(first)
        .chain(lines.take_while(|l| l.starts_with(' ')))
        .collect()
}

/// The generic check of a tree broken only where `CONFIG_HUGETLB_PAGE` is off: it exits 1,
/// the main build's task_mmu.o is OK, and the guard build's FAIL names `diagnostic` in
/// task_mmu.c (the verdict starts with [`TASK_MMU_FAILS_OFF`]). The whole output.
fn fails_only_without_hugetlb(out: &Path, tree: &Path, diagnostic: &str) -> String {
    let (rc, text) = check(out, "generic", &["--allow-edits"], tree);
    assert_eq!(rc, 1, "{text}");
    assert!(text.contains("OK fs/proc/task_mmu.o\n"), "{text}");
    let fail = verdict_of(&text, TASK_MMU_FAILS_OFF);
    assert!(
        fail.iter()
            .any(|l| l.contains("task_mmu.c:") && l.contains(diagnostic)),
        "{text}"
    );
    text
}

const TASK_MMU_FAILS_OFF: &str = "FAIL fs/proc/task_mmu.o [CONFIG_HUGETLB_PAGE=n]";

#[test]
fn baseline_reports_old_warnings_as_pre_existing_and_fails_on_new_ones() {
    // The base already warns in mm/mincore.c, below code the series rewrites (so the
    // warning's line moves).
    let tree = repo(|t| {
        append(
            &t.join("mm/mincore.c"),
            &unused_variable("demo_old", "stale"),
        )
    });
    let base = git(tree.path(), &["rev-parse", "HEAD"]);
    let out = tempfile::tempdir().unwrap();
    series_applied(tree.path(), out.path());
    let cover =
        std::fs::read_to_string(out.path().join("patches/0000-cover-letter.patch")).unwrap();
    assert!(
        cover.contains(&format!("\nbase-commit: {}\n-- \n", base.trim())),
        "{cover}"
    );
    convert_madvise_by_hand(tree.path());
    git(
        tree.path(),
        &["commit", "-qam", "mm: madvise: convert by hand"],
    );

    let (rc, text) = check(out.path(), "generic", &[], tree.path());
    assert_eq!(rc, 0, "{text}");
    let mincore = verdict_of(&text, "OK mm/mincore.o");
    // -Werror stops it on both sides; without it, it compiles: verified.
    assert_eq!(
        mincore[0], "OK mm/mincore.o (built without -Werror: its warnings are all pre-existing)",
        "{text}"
    );
    assert!(
        mincore.iter().any(|l| l.contains("pre-existing"))
            && mincore
                .iter()
                .any(|l| l.contains("mm/mincore.c:") && l.contains("unused variable 'stale'")),
        "{text}"
    );
    assert!(text.contains("generic: PASS"), "{text}");
    // The base was built for mincore.o alone: the other objects compiled clean.
    assert!(
        text.contains(", built for 1 objects with a diagnostic;"),
        "{text}"
    );
    let base_logs: Vec<String> = std::fs::read_dir(out.path().join("build/generic-base"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".o.log"))
        .collect();
    assert_eq!(base_logs, ["kcodemod-mm_mincore.o.log"], "{text}");

    // A new warning after the series fails its object, naming it; the old one stays old.
    append(
        &tree.path().join("mm/pagewalk.c"),
        &unused_variable("demo_new", "fresh"),
    );
    let (rc, text) = check(out.path(), "generic", &["--allow-edits"], tree.path());
    assert_eq!(rc, 1, "{text}");
    let pagewalk = verdict_of(&text, "FAIL mm/pagewalk.o");
    let new_at = pagewalk
        .iter()
        .position(|l| l.contains("new with the series"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        pagewalk[new_at + 1].contains("mm/pagewalk.c:")
            && pagewalk[new_at + 1].contains("unused variable 'fresh'"),
        "{text}"
    );
    assert!(text.contains("OK mm/mincore.o"), "{text}");
    assert!(text.contains("generic: FAIL"), "{text}");

    // all.sh hands --base on to the group scripts.
    let head = git(tree.path(), &["rev-parse", "HEAD"]);
    let (rc, text) = check(
        out.path(),
        "all",
        &["--base", "HEAD", "--allow-edits"],
        tree.path(),
    );
    assert_eq!(rc, 1, "{text}");
    assert!(
        text.contains(&format!("generic: baseline: base {}", head.trim())),
        "{text}"
    );
    // (The other groups need the cross compilers: PASS under CI, SKIP without them.)
    assert!(text.contains("FAIL  generic"), "{text}");
}

#[test]
fn a_tree_that_does_not_carry_the_series_is_refused() {
    let tree = repo(|_| {});
    let out = tempfile::tempdir().unwrap();
    series(tree.path(), out.path());
    // The untouched tree: refused before anything is built, naming the first file.
    let (rc, text) = check(out.path(), "all", &[], tree.path());
    assert_eq!(rc, 2, "{text}");
    let summary = text
        .lines()
        .find(|l| l.starts_with("REFUSED  openrisc: "))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        summary.contains(
            " does not carry the series: arch/openrisc/kernel/dma.c is as before the series;"
        ),
        "{text}"
    );
    assert!(
        !text.contains("==== powerpc") && !text.contains("PASS"),
        "{text}"
    );
    assert!(!out.path().join("build/openrisc").exists(), "{text}");
    let (rc, text) = check(
        out.path(),
        "s390",
        &["--quick", "--no-baseline"],
        tree.path(),
    );
    assert_eq!(rc, 2, "{text}");
    assert!(text.contains("s390: REFUSED: "), "{text}");

    // The series applied, one of its files edited after it: refused, that file named.
    apply_series(tree.path(), out.path());
    convert_madvise_by_hand(tree.path());
    append(&tree.path().join("mm/pagewalk.c"), "/* later */\n");
    let (rc, text) = check(out.path(), "generic", &[], tree.path());
    assert_eq!(rc, 2, "{text}");
    let refused = text
        .lines()
        .find(|l| l.starts_with("generic: REFUSED: "))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        refused.contains(
            "does not carry the series: mm/pagewalk.c differs from the series' version (sha256 "
        ),
        "{refused}"
    );
    // madvise.c, where the series leaves a site for conversion by hand, may differ.
    assert!(
        text.contains(
            "generic: mm/madvise.c differs from the series' version: taken as converted by hand"
        ),
        "{text}"
    );
    // --allow-edits checks it as it is, saying so.
    let (rc, text) = check(out.path(), "generic", &["--allow-edits"], tree.path());
    assert_eq!(rc, 0, "{text}");
    assert!(
        text.contains("generic: warning: mm/pagewalk.c differs from the series' version (sha256 ")
            && text.contains(": checked as it is (--allow-edits)"),
        "{text}"
    );
    // A file of the series that is gone.
    std::fs::remove_file(tree.path().join("mm/mincore.c")).unwrap();
    let (rc, text) = check(out.path(), "generic", &[], tree.path());
    assert_eq!(rc, 2, "{text}");
    assert!(text.contains("mm/mincore.c does not exist;"), "{text}");
    // With the file back as the series gives it, the tree passes.
    git(
        tree.path(),
        &["checkout", "--", "mm/mincore.c", "mm/pagewalk.c"],
    );
    let (rc, text) = check(out.path(), "generic", &[], tree.path());
    assert_eq!(rc, 0, "{text}");
    assert!(text.contains("generic: PASS"), "{text}");
}

#[test]
fn an_object_never_compiled_on_the_series_side_is_not_verified() {
    // A break the base already has in a file the series touches (not at a flagged site), and
    // an object the Makefile answers without producing it (as Kbuild does for an object the
    // configuration does not select).
    let tree = repo(|t| {
        append(
            &t.join("mm/mincore.c"),
            "\nint demo_broken(void)\n{\n\treturn vendor_undeclared;\n}\n",
        );
        append(
            &t.join("Makefile"),
            "\nmm/memcontrol.o: FORCE\n\t@echo '  not selected: $@'\n",
        );
    });
    let out = series_with_madvise_by_hand(tree.path());
    let (rc, text) = check(out.path(), "generic", &[], tree.path());
    assert_eq!(rc, 4, "{text}");
    let mincore = verdict_of(&text, "NOT VERIFIED mm/mincore.o");
    assert!(
        mincore[0].starts_with(
            "NOT VERIFIED mm/mincore.o: fails at the base too, with the same diagnostics: "
        ) && mincore[0].contains("mm/mincore.c:")
            && mincore[0]
                .ends_with("error: 'vendor_undeclared' undeclared (first use in this function)")
            && mincore.iter().any(
                |l| l.contains("mm/mincore.c:") && l.contains("'vendor_undeclared' undeclared")
            ),
        "{text}"
    );
    assert!(
        text.contains(
            "NOT VERIFIED mm/memcontrol.o: make succeeded but produced no mm/memcontrol.o"
        ),
        "{text}"
    );
    assert!(text.contains(", 0 failed, 2 not verified"), "{text}");
    assert!(
        text.contains("2 builds never compiled on the series side: mm/memcontrol.o mm/mincore.o\n"),
        "{text}"
    );
    // The converted functions in them never reached the compiler either, each said so.
    assert!(
        text.contains(
            "\nNOT VERIFIED function mm/memcontrol.c:60 mem_cgroup_count_precharge: never reached the compiler: its object mm/memcontrol.o was not compiled\n"
        ),
        "{text}"
    );
    assert!(!text.contains("PASS"), "{text}");
    // all.sh: not PASS, its own exit code (the other groups PASS, or SKIP without their
    // cross compilers).
    let (rc, text) = check(out.path(), "all", &[], tree.path());
    assert_eq!(rc, 4, "{text}");
    assert!(text.contains("NOT VERIFIED  generic: "), "{text}");
}

#[test]
fn without_git_pre_existing_warnings_cannot_be_told_apart() {
    let tree = repo(|t| {
        append(
            &t.join("mm/mincore.c"),
            &unused_variable("demo_old", "stale"),
        )
    });
    let out = tempfile::tempdir().unwrap();
    series_applied(tree.path(), out.path());
    convert_madvise_by_hand(tree.path());
    std::fs::remove_dir_all(tree.path().join(".git")).unwrap();
    let (rc, text) = check(out.path(), "generic", &[], tree.path());
    assert_eq!(rc, 1, "{text}");
    assert!(
        text.contains("is not a git repository): pre-existing warnings cannot be told apart"),
        "{text}"
    );
    assert!(text.contains("FAIL mm/mincore.o"), "{text}");
    assert!(!text.contains("pre-existing (the base"), "{text}");
}

#[test]
fn a_base_that_cannot_be_prepared_is_untestable_not_failed() {
    // A vendor-style top Makefile that forces another CPU's flags on every arch; the fix
    // comes with the series' branch, so only the base cannot be prepared.
    let vendor = "\nKBUILD_CFLAGS += -mcpu=kryo\n";
    let tree = repo(|t| append(&t.join("Makefile"), vendor));
    let out = tempfile::tempdir().unwrap();
    series_applied(tree.path(), out.path());
    convert_madvise_by_hand(tree.path());
    let mk = tree.path().join("Makefile");
    let s = std::fs::read_to_string(&mk).unwrap();
    std::fs::write(&mk, s.replace(vendor, "\n")).unwrap();
    git(
        tree.path(),
        &["commit", "-qam", "convert by hand, drop the vendor flags"],
    );

    // Every object compiles clean on the series side: the base is never needed, nor checked
    // out.
    let (rc, text) = check(out.path(), "generic", &[], tree.path());
    assert_eq!(rc, 0, "{text}");
    assert!(
        text.contains("base ") && text.contains(", built for 0 objects with a diagnostic;"),
        "{text}"
    );
    assert!(!out.path().join("build/base-src").exists(), "{text}");

    // An object with a diagnostic needs the base, which cannot be prepared: no verdict.
    append(
        &tree.path().join("mm/mincore.c"),
        &unused_variable("demo_new", "fresh"),
    );
    let (rc, text) = check(out.path(), "generic", &["--allow-edits"], tree.path());
    assert_eq!(rc, 3, "{text}");
    let line = text
        .lines()
        .find(|l| l.starts_with("generic: UNTESTABLE: the base cannot be prepared: "))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(line.contains("kryo"), "{line}");
    assert!(!text.contains("FAIL"), "{text}");
    let (rc, text) = check(out.path(), "all", &["--allow-edits"], tree.path());
    assert_eq!(rc, 3, "{text}");
    assert!(
        text.contains("UNTESTABLE  generic: the base cannot be prepared"),
        "{text}"
    );
}

#[test]
fn a_header_warning_the_base_has_is_pre_existing_not_untestable() {
    // As Kbuild's prepare compiles kernel/bounds.c with KCFLAGS, and a shared header warns
    // with a newer compiler (log2.h's noreturn-vs-const on 4.4 and 4.9).
    let tree = repo(|t| {
        let mk = t.join("Makefile");
        let s = std::fs::read_to_string(&mk).unwrap();
        let old = "\t$(CC) $(KBUILD_CFLAGS) -Werror -x c -c -o /dev/null /dev/null\n";
        assert!(s.contains(old), "the demo's prepare changed");
        std::fs::write(
            &mk,
            s.replace(
                old,
                "\t$(CC) $(KBUILD_CFLAGS) $(KCFLAGS) -c -o /dev/null $(srctree)/kernel/bounds.c\n",
            ),
        )
        .unwrap();
        std::fs::create_dir_all(t.join("kernel")).unwrap();
        std::fs::write(
            t.join("kernel/bounds.c"),
            "// SPDX-License-Identifier: GPL-2.0\n#include <linux/kernel.h>\n\nint bounds;\n",
        )
        .unwrap();
        append(
            &t.join("include/linux/kernel.h"),
            "\nstatic inline int demo_ilog2(void)\n{\n\tint stale;\n\n\treturn 0;\n}\n",
        );
    });
    let out = series_with_madvise_by_hand(tree.path());
    let (rc, text) = check(out.path(), "generic", &[], tree.path());
    assert_eq!(rc, 0, "{text}");
    assert!(!text.contains("UNTESTABLE"), "{text}");
    let pagewalk = verdict_of(&text, "OK mm/pagewalk.o");
    assert!(
        pagewalk.iter().any(|l| l.contains("pre-existing"))
            && pagewalk
                .iter()
                .any(|l| l.contains("include/linux/kernel.h:") && l.contains("'stale'")),
        "{text}"
    );
    assert!(text.contains("generic: PASS"), "{text}");
    // A warning the series brings to the header still fails (with -Werror on the objects).
    append(
        &tree.path().join("include/linux/kernel.h"),
        "\nstatic inline int demo_new(void)\n{\n\tint fresh;\n\n\treturn 0;\n}\n",
    );
    let (rc, text) = check(out.path(), "generic", &[], tree.path());
    assert_eq!(rc, 1, "{text}");
    let pagewalk = verdict_of(&text, "FAIL mm/pagewalk.o");
    assert!(
        pagewalk
            .iter()
            .any(|l| l.contains("include/linux/kernel.h:") && l.contains("'fresh'")),
        "{text}"
    );
    // The reproduce lines prepare without -Werror, as the script did.
    let commands = reproduce_commands(&pagewalk);
    let prepare = commands
        .lines()
        .find(|l| l.ends_with(" prepare"))
        .unwrap_or_else(|| panic!("{commands}"));
    assert!(!prepare.contains("-Werror"), "{prepare}");
    assert!(commands.contains("KCFLAGS=-Werror "), "{commands}");
}

/// The demo's top Makefile with `old` replaced by `new` (the demo's own text must be there).
fn edit_makefile(tree: &Path, old: &str, new: &str) {
    let mk = tree.join("Makefile");
    let s = std::fs::read_to_string(&mk).unwrap();
    assert!(s.contains(old), "the demo's Makefile changed: {old}");
    std::fs::write(&mk, s.replace(old, new)).unwrap();
}

const DEMO_CC: &str = "CC\t= $(CROSS_COMPILE)gcc\n";
const DEMO_PREPARE: &str = "\t$(CC) $(KBUILD_CFLAGS) -Werror -x c -c -o /dev/null /dev/null\n";

/// A vendor-style break planted in the base (and so in the tree): the series applied, madvise
/// converted by hand; the group check's output, which must be UNTESTABLE.
fn untestable_with(plant: impl FnOnce(&Path)) -> (tempfile::TempDir, tempfile::TempDir, String) {
    let tree = repo(plant);
    let out = series_with_madvise_by_hand(tree.path());
    let (rc, text) = check(out.path(), "generic", &[], tree.path());
    assert_eq!(rc, 3, "{text}");
    (tree, out, text)
}

/// The `<group>: UNTESTABLE: ...` line and the `<group>: cause: ...` line after it.
fn untestable_lines(text: &str) -> (&str, &str) {
    let mut lines = text
        .lines()
        .skip_while(|l| !l.starts_with("generic: UNTESTABLE: "));
    let line = lines.next().unwrap_or_else(|| panic!("{text}"));
    let cause = lines.next().unwrap_or_default();
    assert!(cause.starts_with("generic: cause: "), "{text}");
    (line, cause)
}

#[test]
fn a_dangling_symlink_is_named_as_the_cause() {
    let (_tree, _out, text) = untestable_with(|t| {
        // A vendor tree's link into the Android source tree it was taken out of.
        std::os::unix::fs::symlink(
            "../../../vendor/qcom/build/gen-headers.sh",
            t.join("scripts/gen-headers.sh"),
        )
        .unwrap();
        edit_makefile(
            t,
            DEMO_PREPARE,
            &format!("\tbash $(srctree)/scripts/gen-headers.sh\n{DEMO_PREPARE}"),
        );
    });
    let (line, cause) = untestable_lines(&text);
    // The shell's line, not make's `*** [Makefile:N: prepare] Error 127`.
    assert!(
        line.starts_with("generic: UNTESTABLE: the base cannot be prepared: bash: ")
            && line.ends_with("/scripts/gen-headers.sh: No such file or directory"),
        "{text}"
    );
    assert!(
        cause.contains("/scripts/gen-headers.sh is a dangling symlink (to ../../../vendor/qcom/build/gen-headers.sh): ")
            && cause.contains("copy the file in its place or remove the link"),
        "{text}"
    );
}

#[test]
fn a_missing_interpreter_is_named_as_the_cause() {
    let (tree, out, text) = untestable_with(|t| {
        // A vendor compiler wrapper whose interpreter is not installed.
        let w = t.join("scripts/gcc-wrapper.py");
        std::fs::write(
            &w,
            "#!/nonexistent/usr/bin/python2\nimport sys\nprint \"error, forbidden warning:\", sys.argv[1]\n",
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&w, std::fs::Permissions::from_mode(0o755)).unwrap();
        edit_makefile(
            t,
            DEMO_CC,
            "CC\t= $(srctree)/scripts/gcc-wrapper.py $(CROSS_COMPILE)gcc\n",
        );
    });
    let (line, cause) = untestable_lines(&text);
    assert!(
        line.starts_with("generic: UNTESTABLE: the base cannot be prepared: ")
            && line.contains("/scripts/gcc-wrapper.py")
            && !line.contains("Error 127")
            && !line.contains("forbidden warning"),
        "{text}"
    );
    assert!(
        cause.contains("/scripts/gcc-wrapper.py needs the interpreter /nonexistent/usr/bin/python2 (its #! line), which is not installed")
            && cause.contains("bypass the wrapper with CC=gcc"),
        "{text}"
    );
    // The compiler the Makefile uses is printed, not the one asked for.
    assert!(
        text.contains("generic: compilers the tree's Makefile uses: CC=")
            && text.contains("/scripts/gcc-wrapper.py gcc HOSTCC="),
        "{text}"
    );
    // The way around works.
    let (rc, text) = check_env(out.path(), "generic", &[], tree.path(), &[("CC", "gcc")]);
    assert_eq!(rc, 0, "{text}");
    assert!(
        text.contains("generic: compilers the tree's Makefile uses: CC=gcc HOSTCC="),
        "{text}"
    );
}

#[test]
fn a_missing_compiler_is_named_as_the_cause() {
    let clang = "/nonexistent/prebuilts/clang/host/linux-x86/clang-r353983c/bin/clang";
    let (tree, out, text) = untestable_with(|t| {
        edit_makefile(t, DEMO_CC, &format!("CC\t= {clang}\n"));
    });
    let (line, cause) = untestable_lines(&text);
    // (make runs it itself, or through the shell: either names the compiler.)
    assert!(
        line.starts_with("generic: UNTESTABLE: the base cannot be prepared: ")
            && line.contains(&format!("{clang}: "))
            && !line.contains("Error 127"),
        "{text}"
    );
    assert!(
        cause.starts_with(
            "generic: cause: the tree's Makefile names a prebuilt clang that is not here"
        ) && cause.contains("CC=gcc (or CC=clang) overrides it"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "generic: compilers the tree's Makefile uses: CC={clang} HOSTCC="
        )),
        "{text}"
    );
    let (rc, text) = check(out.path(), "all", &[], tree.path());
    assert_eq!(rc, 3, "{text}");
    assert!(
        text.lines().any(
            |l| l.starts_with("UNTESTABLE  generic: the base cannot be prepared: ")
                && l.contains("(cause: the tree's Makefile names a prebuilt clang")
        ),
        "{text}"
    );
    let (rc, text) = check_env(out.path(), "generic", &[], tree.path(), &[("CC", "gcc")]);
    assert_eq!(rc, 0, "{text}");
}

#[test]
fn hostcc_is_passed_to_make_like_cc() {
    let tree = repo(|t| {
        // As Kbuild builds its host tools (fixdep) during prepare.
        edit_makefile(
            t,
            DEMO_PREPARE,
            &format!("{DEMO_PREPARE}\t$(HOSTCC) -x c -c -o /dev/null /dev/null\n"),
        );
        edit_makefile(t, DEMO_CC, &format!("{DEMO_CC}HOSTCC\t= gcc\n"));
    });
    let out = tempfile::tempdir().unwrap();
    series_applied(tree.path(), out.path());
    convert_madvise_by_hand(tree.path());
    let bin = tempfile::tempdir().unwrap();
    let hostcc = bin.path().join("my-hostcc");
    let used = bin.path().join("used");
    std::fs::write(
        &hostcc,
        format!(
            "#!/bin/sh\necho \"$@\" >>{}\nexec gcc \"$@\"\n",
            used.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&hostcc, std::fs::Permissions::from_mode(0o755)).unwrap();
    let (rc, text) = check_env(
        out.path(),
        "generic",
        &[],
        tree.path(),
        &[("HOSTCC", hostcc.to_str().unwrap())],
    );
    assert_eq!(rc, 0, "{text}");
    assert!(
        text.contains(&format!(
            "generic: compilers the tree's Makefile uses: CC=gcc HOSTCC={}\n",
            hostcc.display()
        )),
        "{text}"
    );
    // The series side's prepare ran it (and the script's own probe of the host compiler);
    // the base was not needed.
    let runs = std::fs::read_to_string(&used).unwrap();
    assert_eq!(
        runs.lines()
            .filter(|l| *l == "-x c -c -o /dev/null /dev/null")
            .count(),
        1,
        "{runs}"
    );
    // A HOSTCC that does not exist is refused like a missing CC.
    let (rc, text) = check_env(
        out.path(),
        "generic",
        &[],
        tree.path(),
        &[("HOSTCC", "/nonexistent/hostcc")],
    );
    assert_eq!(rc, 2, "{text}");
    assert!(
        text.contains("generic: host compiler HOSTCC='/nonexistent/hostcc' not found"),
        "{text}"
    );
}

#[test]
fn host_tool_diagnostics_are_listed_once_per_build_apart_from_objects() {
    // A host tool that warns (as scripts/extract-cert.c does against OpenSSL 3), built before
    // every object the way Kbuild makes sure its host programs are up to date.
    let tree = repo(|t| {
        std::fs::write(
            t.join("scripts/hostprog.c"),
            "// SPDX-License-Identifier: GPL-2.0\nint main(void)\n{\n\tint unused;\n\n\treturn 0;\n}\n",
        )
        .unwrap();
        edit_makefile(t, DEMO_CC, &format!("{DEMO_CC}HOSTCC\t= gcc\n"));
        edit_makefile(
            t,
            "\t@mkdir -p $(dir $(objtree)/$@)\n",
            "\t@mkdir -p $(dir $(objtree)/$@)\n\t$(HOSTCC) -Wall -c -o /dev/null $(srctree)/scripts/hostprog.c\n\
             \techo '#warning syscall clone3 not implemented' | $(CC) -x c -c -o /dev/null -\n",
        );
    });
    let out = series_with_madvise_by_hand(tree.path());
    let listed = |text: &str, what: &str| text.lines().filter(|l| l.contains(what)).count();
    for args in [&[][..], &["--no-baseline"][..]] {
        let (rc, text) = check(out.path(), "generic", args, tree.path());
        assert_eq!(rc, 0, "{args:?}: {text}");
        assert_eq!(
            listed(
                &text,
                "scripts/hostprog.c:4:13: warning: unused variable 'unused'"
            ),
            1,
            "{args:?}: {text}"
        );
        // As checksyscalls.sh warns before every object on openrisc.
        assert_eq!(
            listed(
                &text,
                "<stdin>:1:2: warning: #warning syscall clone3 not implemented"
            ),
            1,
            "{args:?}: {text}"
        );
        assert!(
            text.contains(
                "generic: host tools and Kbuild checks (scripts/, tools/, <stdin>): 2 diagnostics, not counted against the objects:\n    "
            ),
            "{text}"
        );
        // No object needed the base: they have no diagnostics of their own.
        if args.is_empty() {
            assert!(
                text.contains(", built for 0 objects with a diagnostic;"),
                "{text}"
            );
        }
        assert!(
            !text.contains("pre-existing (the base has them too)"),
            "{text}"
        );
        assert!(text.contains("OK mm/pagewalk.o\n"), "{text}");
    }
}

/// A file with only a site the rule must flag (the walk escapes to a helper), under a
/// Kconfig symbol the demo's defconfig does not set.
const HMM_OLD: &str = "// SPDX-License-Identifier: GPL-2.0
/* A made-up mirror of a process's page tables, on the old walker API. */
#include <linux/mm.h>

#ifdef CONFIG_HMM_MIRROR
static int hmm_pte(pte_t *pte, unsigned long addr, unsigned long next,
\t\t   struct mm_walk *walk)
{
\treturn 0;
}

static void hmm_note(struct mm_walk *walk)
{
}

int hmm_mirror_range(struct mm_struct *mm, unsigned long start,
\t\t     unsigned long end)
{
\tstruct mm_walk walk = {
\t\t.pte_entry = hmm_pte,
\t\t.mm = mm,
\t};

\thmm_note(&walk);
\treturn walk_page_range(start, end, &walk);
}
#endif
";

const HMM_NEW: &str = "// SPDX-License-Identifier: GPL-2.0
/* A made-up mirror of a process's page tables, converted by hand. */
#include <linux/mm.h>

#ifdef CONFIG_HMM_MIRROR
static int hmm_pte(pte_t *pte, unsigned long addr, unsigned long next,
\t\t   struct mm_walk *walk)
{
\treturn 0;
}

static const struct mm_walk_ops hmm_walk_ops = {
\t.pte_entry = hmm_pte,
};

int hmm_mirror_range(struct mm_struct *mm, unsigned long start,
\t\t     unsigned long end)
{
\treturn walk_page_range(mm, start, end, &hmm_walk_ops, NULL);
}
#endif
";

#[test]
fn a_file_left_on_the_old_api_fails_until_converted_by_hand() {
    let tree = repo(|t| {
        std::fs::write(t.join("mm/hmm.c"), HMM_OLD).unwrap();
        append(&t.join("mm/Makefile"), "obj-$(CONFIG_HMM) += hmm.o\n");
        std::fs::write(
            t.join("Kconfig"),
            "config HMM\n\tbool \"HMM\"\n\nconfig MMU_NOTIFIER\n\tbool \"MMU notifiers\"\n\n\
             config HMM_MIRROR\n\tbool \"HMM mirror\"\n\tdepends on HMM && MMU_NOTIFIER\n",
        )
        .unwrap();
    });
    let out = tempfile::tempdir().unwrap();
    series_applied(tree.path(), out.path());
    assert!(
        !std::fs::read_to_string(out.path().join("diffs/generic.diff"))
            .unwrap()
            .contains("mm/hmm.c"),
        "hmm.c is not touched by the series"
    );
    let report = std::fs::read_to_string(out.path().join("report.txt")).unwrap();
    // The verdict names the symbols that gate the file, not the dependencies enabled on the way.
    assert!(
        report.starts_with(
            "INCOMPLETE: 2 sites need manual conversion; the tree does not build with \
             CONFIG_HMM, CONFIG_HMM_MIRROR until they are converted\n"
        ),
        "{report}"
    );
    let at = report
        .find("  [generic] mm/hmm.o\n")
        .unwrap_or_else(|| panic!("{report}"));
    let section = &report[at..];
    assert!(
        section.contains("still on the old API")
            && section.contains("mm/hmm.c:25 hmm_mirror_range"),
        "{report}"
    );
    for sym in ["HMM:", "MMU_NOTIFIER:", "HMM_MIRROR:"] {
        assert!(section.contains(sym), "{report}");
    }

    let (rc, text) = check(out.path(), "generic", &[], tree.path());
    assert_eq!(rc, 1, "{text}");
    let hmm = verdict_of(&text, "FAIL mm/hmm.o");
    assert!(
        hmm[0].contains("still on the old API: mm/hmm.c:25 hmm_mirror_range"),
        "{text}"
    );
    assert!(
        hmm.iter()
            .any(|l| l.contains("mm/hmm.c:") && l.contains("pte_entry")),
        "the guarded function was compiled: {text}"
    );

    // Converted by hand (with madvise's site), committed: the same scripts now pass.
    std::fs::write(tree.path().join("mm/hmm.c"), HMM_NEW).unwrap();
    convert_madvise_by_hand(tree.path());
    git(
        tree.path(),
        &["commit", "-qam", "mm: convert the rest by hand"],
    );
    let (rc, text) = check(out.path(), "generic", &[], tree.path());
    assert_eq!(rc, 0, "{text}");
    assert!(text.contains("OK mm/hmm.o\n"), "{text}");
}

#[test]
fn generic_code_is_checked_for_more_arches_with_the_trees_own_defconfig() {
    let out = tempfile::tempdir().unwrap();
    let extra = [
        "--generic-arch",
        "arm64",
        "--defconfig",
        "arm64=vendor-perf_defconfig",
    ];
    series_with(&demo(), out.path(), &extra);
    let read = |name: &str| std::fs::read_to_string(out.path().join("check").join(name)).unwrap();
    let arm64 = read("generic-arm64.sh");
    for want in [
        "ARCH=arm64\n",
        "DEFCONFIG=vendor-perf_defconfig\n",
        "CROSS_DEFAULTS=('aarch64-linux-gnu-')\n",
        "PACKAGE=gcc-aarch64-linux-gnu\n",
    ] {
        assert!(arm64.contains(want), "{want}: {arm64}");
    }
    let objects = |s: &str| -> String {
        let at = s.find("\nOBJECTS=(").unwrap();
        s[at..at + s[at..].find("\n)").unwrap()].to_string()
    };
    let x86 = read("generic.sh");
    assert_eq!(objects(&arm64), objects(&x86));
    assert!(x86.contains("ARCH=x86_64\n") && x86.contains("DEFCONFIG=defconfig\n"));
    assert!(read("all.sh").contains("CHECK_GROUPS=(openrisc powerpc s390 generic generic-arm64)"));

    // An ARCH without a known toolchain is refused before anything is written.
    let bad = out.path().join("bad");
    let o = common::bin()
        .args([
            "series",
            demo().to_str().unwrap(),
            "-o",
            bad.to_str().unwrap(),
        ])
        .args(["--generic-arch", "sparc64", "--signoff", "A <a@b.c>"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--generic-arch sparc64"));
    assert!(!bad.exists());
}

#[test]
fn a_symbol_kconfig_will_not_keep_is_named_not_failed() {
    let tree = repo(|t| {
        std::fs::write(t.join("mm/hmm.c"), HMM_OLD).unwrap();
        append(&t.join("mm/Makefile"), "obj-$(CONFIG_HMM) += hmm.o\n");
        std::fs::write(
            t.join("Kconfig"),
            "config HMM\n\tbool \"HMM\"\n\nconfig HMM_MIRROR\n\tbool \"HMM mirror\"\n\tdepends on HMM\n",
        )
        .unwrap();
        // As olddefconfig drops a symbol whose dependencies the static view got wrong.
        std::fs::rename(t.join("scripts/config"), t.join("scripts/config.real")).unwrap();
        std::fs::write(
            t.join("scripts/config"),
            "#!/usr/bin/env bash\nargs=()\nwhile [ $# -gt 0 ]; do\n\
             \tif [ \"$1 ${2:-}\" = '-e HMM_MIRROR' ]; then shift 2; continue; fi\n\
             \targs+=(\"$1\"); shift\ndone\n\
             exec bash \"$(dirname \"$0\")/config.real\" \"${args[@]}\"\n",
        )
        .unwrap();
    });
    let out = series_with_madvise_by_hand(tree.path());
    let (rc, text) = check(out.path(), "generic", &[], tree.path());
    assert!(
        text.contains("generic: warning: could not enable CONFIG_HMM_MIRROR (undefined); code under it is not compiled: mm/hmm.o: mm/hmm.c:5:"),
        "{text}"
    );
    assert!(text.contains("; 1 needed symbols not enabled;"), "{text}");
    assert!(text.contains("OK mm/hmm.o\n"), "{text}");
    // The object compiles, but the flagged function in it never reached the compiler: not
    // verified, not PASS (it used to be a warning and a PASS).
    assert_eq!(rc, 4, "{text}");
    assert!(
        text.contains("\nNOT VERIFIED function mm/hmm.c:25 hmm_mirror_range: never reached the compiler: the configuration leaves its code out (#if (defined(CONFIG_HMM_MIRROR)) is false in "),
        "{text}"
    );
    // (11 in the .c files, and 3 in include/linux/mm.h, reached through the objects that
    // include it.)
    assert!(
        text.contains(", 1 of 14 functions never reached the compiler,"),
        "{text}"
    );
    assert!(
        text.contains("\ngeneric: NOT VERIFIED: 1 converted or flagged functions never reached the compiler: mm/hmm.c:25 hmm_mirror_range;"),
        "{text}"
    );
    assert!(!text.contains("generic: PASS"), "{text}");
    // The functions the configuration compiles are listed with where they reached it.
    assert!(
        text.contains("\n  mm/madvise.c:55 madvise_willneed: generic\n"),
        "{text}"
    );
    let reached = std::fs::read_to_string(out.path().join("build/generic.reached")).unwrap();
    assert!(
        reached.contains("mm/hmm.c:25 hmm_mirror_range\t\n"),
        "{reached}"
    );
    // all.sh names it first in its summary, before the groups' verdicts.
    let (rc, text) = check(out.path(), "all", &[], tree.path());
    assert_eq!(rc, 4, "{text}");
    let summary = text.split("==== summary\n").nth(1).unwrap_or_default();
    // (The demo's powerpc subpage_mark_vmas_nohuge is under CONFIG_TRANSPARENT_HUGEPAGE, which
    // the demo cannot enable: named there too when powerpc's compiler is here.)
    let first = summary
        .split_once("\nNOT VERIFIED  ")
        .map_or(summary, |(f, _)| f);
    assert!(
        summary.starts_with("NEVER COMPILED: ")
            && first
                .contains(" converted or flagged functions reached no compiler in any group:\n")
            && first.contains("\n  mm/hmm.c:25 hmm_mirror_range\n"),
        "{text}"
    );
    assert!(
        summary.contains("\n  mm/madvise.c:55 madvise_willneed: generic\n")
            && summary.contains("\n  mm/hmm.c:25 hmm_mirror_range: nowhere\n"),
        "{text}"
    );
}

/// The demo's Kconfig, so that the guard of the edited `.hugetlb_entry` can be switched on and
/// off (without one the demo's symbols are unreachable, never enabled).
const HUGETLB_KCONFIG: &str =
    "config MMU\n\tbool \"MMU\"\n\nconfig HUGETLB_PAGE\n\tbool \"HugeTLB pages\"\n";

/// The series applied to the demo with a Kconfig, madvise converted by hand and committed.
fn guarded_tree() -> (tempfile::TempDir, tempfile::TempDir) {
    let tree = repo(|t| std::fs::write(t.join("Kconfig"), HUGETLB_KCONFIG).unwrap());
    let out = series_with_madvise_by_hand(tree.path());
    (tree, out)
}

/// What a careless conversion does: the `#ifdef` around an ops member dropped. It builds with
/// CONFIG_HUGETLB_PAGE=y and breaks with it off.
fn drop_ifdef_around_ops_member(tree: &Path) {
    let p = tree.join("fs/proc/task_mmu.c");
    let s = std::fs::read_to_string(&p).unwrap();
    let old = "#ifdef CONFIG_HUGETLB_PAGE\n\t.hugetlb_entry\t= vma_usage_hugetlb,\n#endif\n";
    assert!(s.contains(old), "the series' task_mmu.c changed:\n{s}");
    std::fs::write(
        &p,
        s.replace(old, "\t.hugetlb_entry\t= vma_usage_hugetlb,\n"),
    )
    .unwrap();
}

/// The `reproduce:` commands under a verdict, as printed (indent removed).
fn reproduce_commands(verdict: &[&str]) -> String {
    let at = verdict
        .iter()
        .position(|l| *l == "  reproduce:")
        .unwrap_or_else(|| panic!("no reproduce lines: {verdict:#?}"));
    verdict[at + 1..]
        .iter()
        .map_while(|l| l.strip_prefix("    "))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn every_guard_of_an_edited_line_is_built_off_too() {
    let (tree, out) = guarded_tree();
    let script = std::fs::read_to_string(out.path().join("check/generic.sh")).unwrap();
    assert!(
        script.contains("\t'HUGETLB_PAGE fs/proc/task_mmu.o'\n")
            && script.contains("\t[fs/proc/task_mmu.o]=MMU\n"),
        "{script}"
    );
    let (rc, text) = check(out.path(), "generic", &[], tree.path());
    assert_eq!(rc, 0, "{text}");
    assert!(text.contains("OK fs/proc/task_mmu.o\n"), "{text}");
    assert!(
        text.contains("OK fs/proc/task_mmu.o [CONFIG_HUGETLB_PAGE=n]\n"),
        "{text}"
    );
    assert!(
        text.contains("OK mm/pagewalk.o [CONFIG_HUGETLB_PAGE=n]\n"),
        "{text}"
    );
    // The guard configuration was verified off, the object's own symbol on.
    let config =
        std::fs::read_to_string(out.path().join("build/generic-no-HUGETLB_PAGE/.config")).unwrap();
    assert!(
        config.contains("# CONFIG_HUGETLB_PAGE is not set") && config.contains("CONFIG_MMU=y"),
        "{config}"
    );

    // The dropped #ifdef: =y still builds, =n fails, and names the undeclared callback.
    drop_ifdef_around_ops_member(tree.path());
    let text =
        fails_only_without_hugetlb(out.path(), tree.path(), "'vma_usage_hugetlb' undeclared");
    let fail = verdict_of(&text, TASK_MMU_FAILS_OFF);
    assert!(text.contains("generic: FAIL"), "{text}");

    // Its reproduce commands, pasted into a shell, show the same error.
    let commands = reproduce_commands(&fail);
    assert!(
        commands.contains("scripts/config --file ")
            && commands.contains(" -e MMU -d HUGETLB_PAGE")
            && commands
                .contains("# config fragment: CONFIG_MMU=y # CONFIG_HUGETLB_PAGE is not set"),
        "{commands}"
    );
    let o = Command::new("bash")
        .arg("-c")
        .arg(&commands)
        .env_remove("CROSS_COMPILE")
        .env_remove("CC")
        .env_remove("KCFLAGS")
        .output()
        .unwrap();
    let pasted = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    // (In the user's locale: the quotes may be curly.)
    assert!(
        pasted.contains("task_mmu.c:46:")
            && pasted.contains("vma_usage_hugetlb")
            && pasted.contains(" undeclared here"),
        "{pasted}"
    );

    // --quick skips the guard builds: the same break goes unseen.
    let (rc, text) = check(
        out.path(),
        "generic",
        &["--quick", "--allow-edits"],
        tree.path(),
    );
    assert_eq!(rc, 0, "{text}");
    assert!(
        text.contains("generic: --quick: the 2 builds with a guard switched off are skipped"),
        "{text}"
    );
    assert!(!text.contains("[CONFIG_HUGETLB_PAGE=n]"), "{text}");

    // A guard Kconfig keeps on (as olddefconfig does a symbol an enabled one selects) is named,
    // not failed.
    std::fs::rename(
        tree.path().join("scripts/config"),
        tree.path().join("scripts/config.real"),
    )
    .unwrap();
    std::fs::write(
        tree.path().join("scripts/config"),
        "#!/usr/bin/env bash\nreal=\"$(dirname \"$0\")/config.real\"\n\
         [ \"$3 $4\" = '-d HUGETLB_PAGE' ] && exec bash \"$real\" --file \"$2\" -e HUGETLB_PAGE\n\
         exec bash \"$real\" \"$@\"\n",
    )
    .unwrap();
    let (rc, text) = check(out.path(), "generic", &["--allow-edits"], tree.path());
    assert_eq!(rc, 0, "{text}");
    assert!(
        text.contains("generic: CONFIG_HUGETLB_PAGE cannot be switched off (CONFIG_HUGETLB_PAGE=y after -d HUGETLB_PAGE and olddefconfig: Kconfig keeps it on, selected or implied by something enabled): fs/proc/task_mmu.o mm/pagewalk.o built with it on only"),
        "{text}"
    );
    assert!(text.contains("1 guards cannot be switched off"), "{text}");
}

/// A guard build compiles its first object with prepare, without -Werror: a warning only the
/// guard's configuration shows must still fail it, as -Werror makes it.
#[test]
fn a_warning_only_with_the_guard_off_fails_the_guard_build() {
    let (tree, out) = guarded_tree();
    append(
        &tree.path().join("fs/proc/task_mmu.c"),
        &format!(
            "\n#ifndef CONFIG_HUGETLB_PAGE{}#endif\n",
            unused_variable("task_mmu_no_hugetlb", "unused")
        ),
    );
    let text = fails_only_without_hugetlb(out.path(), tree.path(), "unused variable 'unused'");
    // The other object of the guard build, clean, is OK.
    assert!(
        text.contains("OK mm/pagewalk.o [CONFIG_HUGETLB_PAGE=n]\n"),
        "{text}"
    );
}

#[test]
fn a_guard_build_starts_from_the_prepared_main_build() {
    let (tree, out) = guarded_tree();
    // As Kbuild builds its host tools once per build directory, during prepare.
    edit_makefile(
        tree.path(),
        DEMO_PREPARE,
        &format!(
            "{DEMO_PREPARE}\t@test -f $(objtree)/scripts/fixdep || {{ echo '  HOSTCC  scripts/fixdep'; \
             mkdir -p $(objtree)/scripts; touch $(objtree)/scripts/fixdep; }}\n"
        ),
    );
    let (rc, text) = check(out.path(), "generic", &[], tree.path());
    assert_eq!(rc, 0, "{text}");
    assert!(
        text.contains("OK fs/proc/task_mmu.o [CONFIG_HUGETLB_PAGE=n]\n"),
        "{text}"
    );
    let prepare_log = |dir: &str| {
        std::fs::read_to_string(
            out.path()
                .join("build")
                .join(dir)
                .join("kcodemod-prepare.log"),
        )
        .unwrap()
    };
    assert!(prepare_log("generic").contains("HOSTCC  scripts/fixdep"));
    // The guard build was copied from the main one: its prepare did not build the tool again,
    // and its configuration is its own.
    let guard = prepare_log("generic-no-HUGETLB_PAGE");
    assert!(!guard.contains("HOSTCC  scripts/fixdep"), "{guard}");
    let config =
        std::fs::read_to_string(out.path().join("build/generic-no-HUGETLB_PAGE/.config")).unwrap();
    assert!(
        config.contains("# CONFIG_HUGETLB_PAGE is not set") && config.contains("CONFIG_MMU=y"),
        "{config}"
    );
}

#[test]
fn guard_builds_run_side_by_side() {
    let tree = repo(|t| {
        std::fs::write(
            t.join("Kconfig"),
            format!("{HUGETLB_KCONFIG}\nconfig TRANSPARENT_HUGEPAGE\n\tbool \"THP\"\n"),
        )
        .unwrap();
        // Each guard build's prepare waits until another guard build has started: built one
        // after the other, the first gives up and fails.
        edit_makefile(
            t,
            DEMO_PREPARE,
            &format!(
                "{DEMO_PREPARE}\t@case $(notdir $(objtree)) in *-no-*-base) ;; *-no-*) \
                 touch $(RENDEZVOUS)/$(notdir $(objtree)); i=0; \
                 while [ $$(ls $(RENDEZVOUS) | wc -l) -lt 2 ]; do i=$$((i + 1)); \
                 [ $$i -lt 600 ] || {{ echo 'no other guard build started' >&2; exit 1; }}; \
                 sleep 0.1; done ;; esac\n"
            ),
        );
    });
    let out = series_with_madvise_by_hand(tree.path());
    let rendezvous = tempfile::tempdir().unwrap();
    let (rc, text) = check_env(
        out.path(),
        "generic",
        &[],
        tree.path(),
        &[
            ("GUARD_JOBS", "2"),
            ("RENDEZVOUS", rendezvous.path().to_str().unwrap()),
        ],
    );
    assert_eq!(rc, 0, "{text}");
    // Printed in guard order, each build's lines together.
    let guard_lines: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("=n]") && !l.starts_with("  "))
        .collect();
    assert_eq!(
        guard_lines,
        [
            "OK fs/proc/task_mmu.o [CONFIG_HUGETLB_PAGE=n]",
            "OK mm/pagewalk.o [CONFIG_HUGETLB_PAGE=n]",
            "OK mm/memcontrol.o [CONFIG_TRANSPARENT_HUGEPAGE=n]",
        ],
        "{text}"
    );
    assert!(text.contains("; 3 builds with a guard off;"), "{text}");
}

/// The demo's object rule, where a plant can make one build wait for another.
const DEMO_OBJECT: &str =
    "%.o: FORCE | $(filter prepare,$(MAKECMDGOALS))\n\t@mkdir -p $(dir $(objtree)/$@)\n";

#[test]
fn guard_builds_run_beside_the_main_objects() {
    let tree = repo(|t| {
        std::fs::write(t.join("Kconfig"), HUGETLB_KCONFIG).unwrap();
        // The guard build's prepare says it started; the main build's first object waits for
        // that: built one after the other (guards after the main objects), it gives up.
        edit_makefile(
            t,
            DEMO_PREPARE,
            &format!(
                "{DEMO_PREPARE}\t@case $(notdir $(objtree)) in *-no-*-base) ;; *-no-*) \
                 touch $(RENDEZVOUS)/guard ;; esac\n"
            ),
        );
        edit_makefile(
            t,
            DEMO_OBJECT,
            &format!(
                "{DEMO_OBJECT}\t@if [ $(notdir $(objtree)) = generic ]; then i=0; \
                 while [ ! -e $(RENDEZVOUS)/guard ]; do i=$$((i + 1)); \
                 [ $$i -lt 600 ] || {{ echo 'no guard build started' >&2; exit 1; }}; \
                 sleep 0.1; done; fi\n"
            ),
        );
    });
    let out = series_with_madvise_by_hand(tree.path());
    let rendezvous = tempfile::tempdir().unwrap();
    let (rc, text) = check_env(
        out.path(),
        "generic",
        &[],
        tree.path(),
        &[("RENDEZVOUS", rendezvous.path().to_str().unwrap())],
    );
    assert_eq!(rc, 0, "{text}");
    // The main build's verdicts come first, then the guard build's.
    let verdicts: Vec<&str> = text.lines().filter(|l| l.starts_with("OK ")).collect();
    assert_eq!(
        verdicts,
        [
            "OK fs/proc/task_mmu.o",
            "OK mm/madvise.o",
            "OK mm/memcontrol.o",
            "OK mm/mincore.o",
            "OK mm/pagewalk.o",
            "OK fs/proc/task_mmu.o [CONFIG_HUGETLB_PAGE=n]",
            "OK mm/pagewalk.o [CONFIG_HUGETLB_PAGE=n]",
        ],
        "{text}"
    );
}

#[test]
fn a_guard_the_object_itself_needs_is_named_not_failed() {
    let (tree, out) = guarded_tree();
    // As olddefconfig drops the object's own CONFIG_MMU with CONFIG_HUGETLB_PAGE (a symbol
    // the object depends on through it).
    std::fs::rename(
        tree.path().join("scripts/config"),
        tree.path().join("scripts/config.real"),
    )
    .unwrap();
    std::fs::write(
        tree.path().join("scripts/config"),
        "#!/usr/bin/env bash\nreal=\"$(dirname \"$0\")/config.real\"\n\
         [ \"$3 $4\" = '-d HUGETLB_PAGE' ] && bash \"$real\" --file \"$2\" -d MMU\n\
         exec bash \"$real\" \"$@\"\n",
    )
    .unwrap();
    drop_ifdef_around_ops_member(tree.path());
    let (rc, text) = check(out.path(), "generic", &["--allow-edits"], tree.path());
    assert!(
        text.contains("generic: CONFIG_HUGETLB_PAGE cannot be switched off for fs/proc/task_mmu.o: the object itself needs it (off with it: CONFIG_MMU)"),
        "{text}"
    );
    assert!(
        !text.contains("task_mmu.o [CONFIG_HUGETLB_PAGE=n]"),
        "{text}"
    );
    // pagewalk.o has no Kbuild symbol: it is still built with the guard off.
    assert!(
        text.contains("OK mm/pagewalk.o [CONFIG_HUGETLB_PAGE=n]\n"),
        "{text}"
    );
    assert_eq!(rc, 0, "{text}");
}

/// Shell words of one line as a POSIX shell splits them (quotes and backslashes; `$VAR` is
/// kept as written): enough for the generated tuxmake lines.
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur: Option<String> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' => words.extend(cur.take()),
            '\'' => {
                let w = cur.get_or_insert_with(String::new);
                for c in chars.by_ref() {
                    if c == '\'' {
                        break;
                    }
                    w.push(c);
                }
            }
            '"' => {
                let w = cur.get_or_insert_with(String::new);
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => w.extend(chars.next()),
                        c => w.push(c),
                    }
                }
            }
            '\\' => cur.get_or_insert_with(String::new).extend(chars.next()),
            c => cur.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(cur);
    words
}

/// A bash array of a generated script, one element per line, quotes and comments removed.
fn script_array(script: &str, name: &str) -> Vec<String> {
    let at = script
        .find(&format!("\n{name}=(\n"))
        .unwrap_or_else(|| panic!("no {name}"));
    script[at..]
        .lines()
        .skip(2)
        .take_while(|l| *l != ")")
        .map(|l| {
            let l = l.trim_start_matches('\t');
            let l = l.split("\t#").next().unwrap();
            shell_words(l).join(" ")
        })
        .collect()
}

/// One build as TuxMake's options (tuxmake 1.45 cmdline.py) describe it.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct TuxBuild {
    arch: String,
    kconfig: Vec<String>,
    targets: Vec<String>,
}

fn parse_tuxmake(line: &str) -> TuxBuild {
    let words = shell_words(line.split(" || ").next().unwrap());
    assert_eq!(words[0], "tuxmake", "{line}");
    let mut b = TuxBuild {
        arch: String::new(),
        kconfig: Vec::new(),
        targets: Vec::new(),
    };
    let mut toolchain = None;
    let fragment =
        regex::Regex::new(r"^(CONFIG_[A-Za-z0-9_]+=\S+|# CONFIG_[A-Za-z0-9_]+ is not set)$")
            .unwrap();
    let mut it = words[1..].iter();
    while let Some(w) = it.next() {
        let mut value = || {
            it.next()
                .unwrap_or_else(|| panic!("{w} without a value: {line}"))
        };
        match w.as_str() {
            "-C" | "--directory" | "-o" | "--output-dir" | "-b" | "--build-dir" => {
                value();
            }
            "-a" | "--target-arch" => b.arch = value().clone(),
            "--toolchain" | "-t" => toolchain = Some(value().clone()),
            "-k" | "--kconfig" => b.kconfig.insert(0, value().clone()),
            "-K" | "--kconfig-add" => {
                let v = value();
                assert!(
                    fragment.is_match(v),
                    "not a tuxmake fragment: {v:?} in {line}"
                );
                b.kconfig.push(v.clone());
            }
            "-M" | "--make-target" => b.targets.push(value().clone()),
            w if w.starts_with('-') => panic!("{w}: not a tuxmake option: {line}"),
            // Positional: KEY=VALUE make variables, and Kbuild-like targets.
            w if w.contains('=') => assert!(w.starts_with("KCFLAGS=-Werror"), "{line}"),
            w => {
                assert!(w.ends_with(".o") || w.ends_with('/'), "{w}: {line}");
                b.targets.push(w.to_string());
            }
        }
    }
    assert_eq!(toolchain.as_deref(), Some("gcc"), "{line}");
    assert!(
        ["x86_64", "arm64", "powerpc", "s390", "openrisc"].contains(&b.arch.as_str()),
        "{line}"
    );
    b
}

#[test]
fn tuxmake_and_tuxsuite_plans_name_the_builds_of_the_scripts() {
    let tree = repo(|t| std::fs::write(t.join("Kconfig"), HUGETLB_KCONFIG).unwrap());
    let out = tempfile::tempdir().unwrap();
    series_with(tree.path(), out.path(), &["--generic-arch", "arm64"]);
    let read = |name: &str| std::fs::read_to_string(out.path().join(name)).unwrap();

    // What the scripts build: per group, the main configuration and one per guard symbol.
    let mut scripted: Vec<TuxBuild> = Vec::new();
    let all = read("check/all.sh");
    let groups_line = all
        .lines()
        .find(|l| l.starts_with("CHECK_GROUPS=("))
        .unwrap();
    let groups = shell_words(&groups_line["CHECK_GROUPS=(".len()..groups_line.len() - 1]);
    assert!(groups.contains(&"generic-arm64".to_string()), "{groups:?}");
    for g in &groups {
        let s = read(&format!("check/{g}.sh"));
        let var = |name: &str| {
            let l = s
                .lines()
                .find(|l| l.starts_with(&format!("{name}=")))
                .unwrap();
            shell_words(&l[name.len() + 1..]).join("")
        };
        let (arch, defconfig) = (var("ARCH"), var("DEFCONFIG"));
        let symbols = script_array(&s, "SYMBOLS");
        let disable = script_array(&s, "DISABLE");
        let objects = script_array(&s, "OBJECTS");
        let flip = script_array(&s, "FLIP");
        let flip_with = script_array(&s, "FLIP_WITH");
        let flip_enable = script_array(&s, "FLIP_ENABLE");
        let kconfig = |off: Option<&str>| -> Vec<String> {
            // A hidden guard goes off after what turns it on (`GUARD SYMBOL` in FLIP_WITH).
            let mut offs: Vec<String> = flip_with
                .iter()
                .filter_map(|e| e.split_once(' '))
                .filter(|(x, _)| Some(*x) == off)
                .map(|(_, y)| y.to_string())
                .collect();
            offs.extend(off.map(String::from));
            let mut k = vec![defconfig.clone()];
            k.extend(disable.iter().map(|d| format!("# CONFIG_{d} is not set")));
            k.extend(
                symbols
                    .iter()
                    .filter(|s| !offs.contains(s))
                    .map(|s| format!("CONFIG_{s}=y")),
            );
            // What makes a guard's prompt show is enabled to switch it off.
            k.extend(
                flip_enable
                    .iter()
                    .filter_map(|e| e.split_once(' '))
                    .filter(|(x, y)| Some(*x) == off && !symbols.iter().any(|s| s == y))
                    .map(|(_, y)| format!("CONFIG_{y}=y")),
            );
            k.extend(offs.iter().map(|x| format!("# CONFIG_{x} is not set")));
            k
        };
        scripted.push(TuxBuild {
            arch: arch.clone(),
            kconfig: kconfig(None),
            targets: objects.clone(),
        });
        let mut offs: Vec<&str> = Vec::new();
        for f in &flip {
            let x = f.split(' ').next().unwrap();
            if !offs.contains(&x) {
                offs.push(x);
            }
        }
        for x in offs {
            scripted.push(TuxBuild {
                arch: arch.clone(),
                kconfig: kconfig(Some(x)),
                targets: flip
                    .iter()
                    .filter_map(|f| f.strip_prefix(&format!("{x} ")).map(String::from))
                    .collect(),
            });
        }
    }
    // The demo's Kconfig lets HUGETLB_PAGE be switched: guard builds on x86_64 and arm64.
    assert!(
        scripted
            .iter()
            .filter(|b| b
                .kconfig
                .contains(&"# CONFIG_HUGETLB_PAGE is not set".to_string()))
            .count()
            >= 2,
        "{scripted:#?}"
    );

    // tuxmake.sh: one line per arch × configuration, every option one tuxmake documents.
    let tux = read("check/tuxmake.sh");
    let mut lines: Vec<TuxBuild> = tux
        .lines()
        .filter(|l| l.starts_with("tuxmake "))
        .map(parse_tuxmake)
        .collect();
    scripted.sort();
    lines.sort();
    assert_eq!(lines, scripted, "{tux}");
    let o = Command::new("bash")
        .arg("-n")
        .arg(out.path().join("check/tuxmake.sh"))
        .status();
    assert!(o.unwrap().success());

    // The TuxSuite plan (JSON, YAML's subset): tuxsuite 1.46's schema, the same builds.
    let plan = read("check/tuxsuite-plan.yaml");
    let body: String = plan
        .lines()
        .filter(|l| !l.starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let top = v.as_object().unwrap();
    assert_eq!(v["version"], 1);
    for k in top.keys() {
        assert!(
            ["version", "name", "description", "jobs"].contains(&k.as_str()),
            "{k}"
        );
    }
    let mut planned: Vec<TuxBuild> = Vec::new();
    for job in v["jobs"].as_array().unwrap() {
        for k in job.as_object().unwrap().keys() {
            assert!(["name", "builds"].contains(&k.as_str()), "{k}");
        }
        for b in job["builds"].as_array().unwrap() {
            for k in b.as_object().unwrap().keys() {
                assert!(
                    [
                        "target_arch",
                        "toolchain",
                        "kconfig",
                        "targets",
                        "make_variables"
                    ]
                    .contains(&k.as_str()),
                    "{k}"
                );
            }
            assert_eq!(b["toolchain"], "gcc");
            assert!(
                b["make_variables"]["KCFLAGS"]
                    .as_str()
                    .unwrap()
                    .starts_with("-Werror")
            );
            let strings = |k: &str| -> Vec<String> {
                b[k].as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x.as_str().unwrap().to_string())
                    .collect()
            };
            planned.push(TuxBuild {
                arch: b["target_arch"].as_str().unwrap().to_string(),
                kconfig: strings("kconfig"),
                targets: strings("targets"),
            });
        }
    }
    planned.sort();
    assert_eq!(planned, scripted, "{plan}");

    // The report gives each build's reproduce commands, per object and polarity.
    let report = read("report.txt");
    assert!(
        report.contains(
            "      make ARCH=x86_64 CROSS_COMPILE='' KCFLAGS=-Werror \
             O=build/generic-no-HUGETLB_PAGE fs/proc/task_mmu.o\n"
        ),
        "{report}"
    );
    let json = read("report.json");
    let recs: Vec<serde_json::Value> = json
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|r| r["type"] == "build")
        .collect();
    let targets: usize = scripted.iter().map(|b| b.targets.len()).sum();
    assert_eq!(recs.len(), targets);
    let r = recs
        .iter()
        .find(|r| r["build"]["off"] == "CONFIG_HUGETLB_PAGE" && r["build"]["group"] == "generic")
        .unwrap();
    let cmds: Vec<&str> = r["build"]["reproduce"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert!(cmds[0].starts_with("cd /"), "{cmds:?}");
    assert!(
        cmds[1].starts_with("git checkout -B kcodemod-check "),
        "{cmds:?}"
    );
    assert!(cmds.contains(
        &"scripts/config --file build/generic-no-HUGETLB_PAGE/.config -e MMU -d HUGETLB_PAGE"
    ));

    // --quick: no guard builds in the scripts or the plans.
    let quick = tempfile::tempdir().unwrap();
    series_with(tree.path(), quick.path(), &["--quick"]);
    let q = std::fs::read_to_string(quick.path().join("check/generic.sh")).unwrap();
    assert!(script_array(&q, "FLIP").is_empty());
    let t = std::fs::read_to_string(quick.path().join("check/tuxmake.sh")).unwrap();
    assert!(!t.contains("is not set"), "{t}");
}

/// The verdicts a reader must see first come in one order, the gravest first, in report.txt,
/// report.json and on stderr: INCOMPLETE (the demo leaves a site by hand), NOT COMPILED (the
/// demo's powerpc `subpage_mark_vmas_nohuge` is under `#ifdef CONFIG_TRANSPARENT_HUGEPAGE`,
/// which the demo's (absent) powerpc Kconfig cannot enable), NOT BUILT (an alpha caller: no
/// cross compiler kcodemod knows); and report.txt lists where each function is expected to
/// reach the compiler.
#[test]
fn report_names_a_converted_function_no_check_compiles_after_incomplete() {
    let tree = common::demo_copy();
    let alpha = tree.path().join("arch/alpha/mm");
    std::fs::create_dir_all(&alpha).unwrap();
    std::fs::write(
        alpha.join("walk.c"),
        "// SPDX-License-Identifier: GPL-2.0\n#include <linux/mm.h>\n\n\
         static int alpha_pte(pte_t *pte, unsigned long addr,\n\
         \t\t     unsigned long next, struct mm_walk *walk)\n{\n\treturn 0;\n}\n\n\
         void alpha_walk(struct mm_struct *mm)\n{\n\
         \tstruct mm_walk walk = { .pte_entry = alpha_pte, .mm = mm };\n\n\
         \twalk_page_range(0, TASK_SIZE, &walk);\n}\n",
    )
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    let o = common::bin()
        .args(["series", tree.path().to_str().unwrap(), "-o"])
        .arg(out.path())
        .args([
            "--signoff",
            "A U Thor <author@example.org>",
            "--no-checkpatch",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    let report = std::fs::read_to_string(out.path().join("report.txt")).unwrap();
    let not_compiled = "NOT COMPILED: arch/powerpc/mm/book3s64/subpage_prot.c:45 \
        subpage_mark_vmas_nohuge reaches no compiler in any check (the checks will say NOT \
        VERIFIED): powerpc: under CONFIG_TRANSPARENT_HUGEPAGE, which no way to enable was found \
        for";
    let heads: Vec<&str> = report.split("\n\n").take(3).collect();
    assert!(heads[0].starts_with("INCOMPLETE: "), "{report}");
    assert_eq!(heads[1], not_compiled, "{report}");
    assert!(heads[2].starts_with("NOT BUILT: alpha: "), "{report}");
    assert_eq!(report.matches("NOT COMPILED:").count(), 1, "{report}");
    assert!(
        report.contains("\n  mm/madvise.c:55 madvise_willneed: generic\n"),
        "{report}"
    );
    // report.json: the same records, first, in the same order.
    let json = std::fs::read_to_string(out.path().join("report.json")).unwrap();
    let kinds: Vec<&str> = json
        .lines()
        .take(3)
        .filter_map(|l| {
            ["incomplete", "not-compiled", "not-built"]
                .into_iter()
                .find(|k| l.contains(&format!(r#""type":"{k}""#)))
        })
        .collect();
    assert_eq!(kinds, ["incomplete", "not-compiled", "not-built"], "{json}");
    // stderr: the same three lines, in the same order.
    let said: Vec<&str> = err
        .lines()
        .filter_map(|l| l.strip_prefix("kcodemod: "))
        .filter(|l| {
            l.starts_with("INCOMPLETE")
                || l.starts_with("NOT COMPILED")
                || l.starts_with("NOT BUILT")
        })
        .collect();
    assert_eq!(said.len(), 3, "{err}");
    assert_eq!(said[0], heads[0], "{err}");
    assert_eq!(said[1], not_compiled, "{err}");
    assert_eq!(said[2], heads[2], "{err}");
}

/// A header of the demo with a converted function (a static inline, compiled in every object
/// that includes the header), included by `mm/mincore.c`.
const PAGECOUNT_H: &str = "/* SPDX-License-Identifier: GPL-2.0 */\n\
#ifndef _LINUX_PAGECOUNT_H\n#define _LINUX_PAGECOUNT_H\n\n#include <linux/mm.h>\n\n\
static inline int pagecount_pte(pte_t *pte, unsigned long addr,\n\
\t\t\t\tunsigned long next, struct mm_walk *walk)\n{\n\
\tunsigned long *count = walk->private;\n\n\tif (pte_present(*pte))\n\t\t(*count)++;\n\treturn 0;\n}\n\n\
/* The number of present pages of [@start, @end) in @mm. */\n\
static inline unsigned long pagecount_range(struct mm_struct *mm,\n\
\t\t\t\t\t    unsigned long start,\n\t\t\t\t\t    unsigned long end)\n{\n\
\tunsigned long count = 0;\n\tstruct mm_walk walk = {\n\t\t.pte_entry = pagecount_pte,\n\
\t\t.mm = mm,\n\t\t.private = &count,\n\t};\n\n\
\twalk_page_range(start, end, &walk);\n\treturn count;\n}\n\n#endif\n";

const MINCORE_INCLUDE: &str = "#include <linux/pagecount.h>\n";

/// A function converted in a header reaches the compiler where a built object includes the
/// header (Kbuild's .cmd file lists it), and is NOT VERIFIED when none does.
#[test]
fn a_header_function_is_reached_through_the_objects_that_include_it() {
    let tree = repo(|t| {
        std::fs::write(t.join("include/linux/pagecount.h"), PAGECOUNT_H).unwrap();
        let p = t.join("mm/mincore.c");
        let s = std::fs::read_to_string(&p).unwrap();
        let s = s.replacen(
            "#include <linux/string.h>\n",
            &format!("#include <linux/string.h>\n{MINCORE_INCLUDE}"),
            1,
        );
        std::fs::write(p, s).unwrap();
    });
    let out = series_with_madvise_by_hand(tree.path());
    let header = std::fs::read_to_string(tree.path().join("include/linux/pagecount.h")).unwrap();
    assert!(header.contains("struct mm_walk_ops"), "{header}");
    let report = std::fs::read_to_string(out.path().join("report.txt")).unwrap();
    assert!(!report.contains("NOT COMPILED: include/"), "{report}");
    assert!(
        report.contains(" pagecount_range: generic (if an object it builds includes include/linux/pagecount.h)\n"),
        "{report}"
    );
    let (rc, text) = check(out.path(), "generic", &["--no-baseline"], tree.path());
    assert_eq!(rc, 0, "{text}");
    let line = text
        .lines()
        .find(|l| l.contains(" pagecount_range: "))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        line.starts_with("  include/linux/pagecount.h:")
            && line.ends_with(" pagecount_range: generic"),
        "{text}"
    );

    // No object includes the header any more: its function reached no compiler.
    let p = tree.path().join("mm/mincore.c");
    let s = std::fs::read_to_string(&p).unwrap();
    std::fs::write(&p, s.replacen(MINCORE_INCLUDE, "", 1)).unwrap();
    let (rc, text) = check(
        out.path(),
        "generic",
        &["--no-baseline", "--allow-edits"],
        tree.path(),
    );
    assert_eq!(rc, 4, "{text}");
    assert!(
        text.lines().any(|l| l.starts_with("NOT VERIFIED function include/linux/pagecount.h:")
            && l.ends_with(" pagecount_range: never reached the compiler: no object built includes include/linux/pagecount.h (a header is compiled only in the objects that include it)")),
        "{text}"
    );
    assert!(text.contains("generic: NOT VERIFIED: 1 converted or flagged functions never reached the compiler: include/linux/pagecount.h:"), "{text}");
}
