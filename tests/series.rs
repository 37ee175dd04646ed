//! `kcodemod series` on the demo tree: per-arch diffs that add up to the whole diff, patches
//! that `git am` applies in order (default and --split arch), MAINTAINERS recipients, check
//! scripts per arch group, and reports that list every site.

use std::path::{Path, PathBuf};
use std::process::Command;

mod common;
use common::git;

fn demo() -> PathBuf {
    common::demo_path()
}

fn run(args: &[&str]) -> std::process::Output {
    common::bin().args(args).output().unwrap()
}

/// The demo's one flagged caller, as every run over it reports it.
/// The demo's powerpc `subpage_mark_vmas_nohuge` is under a symbol its Kconfig cannot enable.
const DEMO_NOT_COMPILED: &str = "NOT COMPILED: arch/powerpc/mm/book3s64/subpage_prot.c:45 \
    subpage_mark_vmas_nohuge reaches no compiler in any check (the checks will say NOT \
    VERIFIED): powerpc: under CONFIG_TRANSPARENT_HUGEPAGE, which no way to enable was found for";
const DEMO_INCOMPLETE: &str =
    "INCOMPLETE: 1 site needs manual conversion; the tree does not build until it is converted";

/// A second run over `tree` finds nothing to do: an empty diff from a run without errors
/// (the demo's flagged site stays flagged: the run says INCOMPLETE and exits 1).
fn nothing_left(tree: &Path) {
    let d = run(&["diff", tree.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&d.stderr);
    assert_eq!(d.status.code(), Some(1), "{err}");
    assert!(
        err.ends_with(
            "kcodemod: INCOMPLETE: 1 site needs manual conversion; nothing was changed\n"
        ),
        "{err}"
    );
    assert!(
        d.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&d.stdout)
    );
}

fn series(out: &Path, extra: &[&str]) {
    let tree = demo();
    let mut args = vec![
        "series",
        tree.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--signoff",
        "A U Thor <author@example.org>",
        "--date",
        "Thu, 26 Nov 2026 14:00:00 +0000",
    ];
    args.extend_from_slice(extra);
    let o = run(&args);
    // The demo keeps one flagged caller: every series of it is INCOMPLETE, exit 1.
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    // Last on stderr, the gravest first: INCOMPLETE, then the function no check compiles.
    assert!(
        err.ends_with(&format!(
            "kcodemod: {DEMO_INCOMPLETE}\nkcodemod: {DEMO_NOT_COMPILED}\n"
        )),
        "{err}"
    );
}

/// A git repository holding a copy of the demo tree.
fn demo_repo() -> tempfile::TempDir {
    let dir = common::demo_copy();
    common::commit_all(dir.path(), "base");
    dir
}

fn patches(out: &Path) -> Vec<PathBuf> {
    let mut p: Vec<PathBuf> = std::fs::read_dir(out.join("patches"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    p.sort();
    p
}

#[test]
fn per_arch_diffs_add_up_to_the_whole_diff() {
    let out = tempfile::tempdir().unwrap();
    series(out.path(), &[]);
    let whole = run(&["diff", demo().to_str().unwrap()]).stdout;
    let mut groups: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    for g in ["generic", "openrisc", "powerpc", "s390"] {
        let d = std::fs::read(out.path().join(format!("diffs/{g}.diff"))).unwrap();
        assert!(!d.is_empty(), "{g}.diff is empty");
        let first = d.split(|&b| b == b'\n').next().unwrap().to_vec();
        groups.push((first, d));
    }
    groups.sort();
    let concat: Vec<u8> = groups.into_iter().flat_map(|g| g.1).collect();
    assert_eq!(
        String::from_utf8_lossy(&concat),
        String::from_utf8_lossy(&whole)
    );
    let s390 = std::fs::read_to_string(out.path().join("diffs/s390.diff")).unwrap();
    assert!(
        s390.lines()
            .filter(|l| l.starts_with("diff --git"))
            .all(|l| l.contains(" a/arch/s390/"))
    );
}

#[test]
fn default_series_applies_with_git_am_and_converts_everything() {
    let out = tempfile::tempdir().unwrap();
    series(out.path(), &[]);
    let p = patches(out.path());
    assert_eq!(p.len(), 2, "{p:?}");
    let cover = std::fs::read_to_string(&p[0]).unwrap();
    assert!(cover.contains("Subject: [PATCH 0/1] "));
    assert!(cover.contains("linux-mm@kvack.org") && cover.contains("linux-s390@vger.kernel.org"));
    assert!(
        cover.contains("linuxppc-dev@lists.ozlabs.org")
            && cover.contains("openrisc@lists.librecores.org")
    );
    let repo = demo_repo();
    git(repo.path(), &["am", "-q", p[1].to_str().unwrap()]);
    let log = git(repo.path(), &["log", "--format=%s%n%b", "-1"]);
    assert!(
        log.contains("Signed-off-by: A U Thor <author@example.org>"),
        "{log}"
    );
    // The tree after `git am` is what `apply` makes, and a second run finds nothing to do.
    nothing_left(repo.path());
}

#[test]
fn split_series_applies_in_order_and_says_it_builds_only_whole() {
    let out = tempfile::tempdir().unwrap();
    series(
        out.path(),
        &["--split", "arch", "--prefix", "generic=mm, fs/proc"],
    );
    let p = patches(out.path());
    let subjects: Vec<String> = p[1..]
        .iter()
        .map(|f| {
            std::fs::read_to_string(f)
                .unwrap()
                .lines()
                .find(|l| l.starts_with("Subject: "))
                .unwrap()
                .to_string()
        })
        .collect();
    let n = subjects.len();
    assert!(
        subjects[0].contains(&format!("[PATCH 1/{n}] mm: pagewalk:")),
        "{subjects:?}"
    );
    assert!(
        subjects
            .iter()
            .any(|s| s.contains("s390/mm: convert to struct mm_walk_ops")),
        "{subjects:?}"
    );
    assert!(
        subjects.iter().any(|s| s.contains("openrisc: convert")),
        "{subjects:?}"
    );
    assert!(
        subjects
            .iter()
            .any(|s| s.contains("] mm, fs/proc: convert")),
        "{subjects:?}"
    );
    let cover = std::fs::read_to_string(&p[0]).unwrap();
    assert!(cover.contains("Only the whole series\nbuilds"), "{cover}");
    let s390 = std::fs::read_to_string(
        p.iter()
            .find(|f| f.to_str().unwrap().contains("s390"))
            .unwrap(),
    )
    .unwrap();
    assert!(
        s390.contains("Cc: linux-s390@vger.kernel.org")
            || s390.contains("    linux-s390@vger.kernel.org")
    );
    assert!(
        !s390.contains("openrisc@"),
        "per-patch recipients, not the union"
    );
    let repo = demo_repo();
    let mut args = vec!["am", "-q"];
    let files: Vec<String> = p[1..].iter().map(|f| f.display().to_string()).collect();
    args.extend(files.iter().map(|s| s.as_str()));
    git(repo.path(), &args);
    assert_eq!(
        git(repo.path(), &["rev-list", "--count", "HEAD"]).trim(),
        (n + 1).to_string()
    );
    nothing_left(repo.path());
}

#[test]
fn check_scripts_and_reports() {
    let out = tempfile::tempdir().unwrap();
    series(out.path(), &[]);
    for g in ["generic", "openrisc", "powerpc", "s390", "all"] {
        let s = out.path().join(format!("check/{g}.sh"));
        let help = Command::new("bash").arg(&s).arg("--help").output().unwrap();
        assert!(help.status.success(), "{g}.sh --help");
        assert!(
            String::from_utf8_lossy(&help.stdout).contains("TREE"),
            "{g}.sh --help says how to call it"
        );
    }
    let sh = std::fs::read_to_string(out.path().join("check/s390.sh")).unwrap();
    assert!(
        sh.contains("s390x-linux-gnu-")
            && sh.contains("gcc-s390x-linux-gnu")
            && sh.contains("arch/s390/mm/gmap.o")
    );
    let or1k = std::fs::read_to_string(out.path().join("check/openrisc.sh")).unwrap();
    assert!(or1k.contains("or1k-elf-") && or1k.contains("-Wno-error=cpp"));
    let json = std::fs::read_to_string(out.path().join("report.json")).unwrap();
    let sites: Vec<serde_json::Value> = json
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|v: &serde_json::Value| v.get("status").is_some())
        .collect();
    assert!(sites.iter().any(|s| s["status"] == "flagged"
        && s["file"] == "mm/madvise.c"
        && s["arch"] == "generic"));
    assert!(
        sites
            .iter()
            .any(|s| s["status"] == "converted" && s["arch"] == "powerpc")
    );
    let txt = std::fs::read_to_string(out.path().join("report.txt")).unwrap();
    assert!(txt.contains("[s390] converted"));
}

#[test]
fn base_patch_comes_first_and_only_callers_are_converted() {
    // Make an API-only patch: convert the definition files of a copy, commit, format-patch.
    let repo = demo_repo();
    let o = run(&[
        "apply",
        repo.path().to_str().unwrap(),
        "include/linux/mm.h",
        "mm/pagewalk.c",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    git(repo.path(), &["commit", "-qam", "mm: the API change"]);
    let base = repo.path().join("api.patch");
    let fp = git(repo.path(), &["format-patch", "-1", "--stdout"]);
    std::fs::write(&base, fp).unwrap();
    let out = tempfile::tempdir().unwrap();
    series(out.path(), &["--base-patch", base.to_str().unwrap()]);
    let p = patches(out.path());
    assert_eq!(p.len(), 3);
    let first = std::fs::read_to_string(&p[1]).unwrap();
    assert!(
        first.contains("Subject: [PATCH 1/2] mm: the API change"),
        "{first}"
    );
    let second = std::fs::read_to_string(&p[2]).unwrap();
    assert!(!second.contains("b/include/linux/mm.h") && !second.contains("b/mm/pagewalk.c"));
    let fresh = demo_repo();
    let mut args = vec!["am", "-q"];
    let files: Vec<String> = p[1..].iter().map(|f| f.display().to_string()).collect();
    args.extend(files.iter().map(|s| s.as_str()));
    git(fresh.path(), &args);
    nothing_left(fresh.path());
}

#[test]
fn series_refuses_to_mix_two_migrations() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let tree = tempfile::tempdir().unwrap();
    for (rule, to) in [
        ("mm_walk_ops", "mm/a.c"),
        ("irq_walker_ops", "kernel/irq/a.c"),
    ] {
        let to = tree.path().join(to);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(fixtures.join(rule).join("a_initializer.c"), &to).unwrap();
    }
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("s");
    let args = |extra: &[&str]| {
        let mut a = vec![
            "series",
            tree.path().to_str().unwrap(),
            "-o",
            dir.to_str().unwrap(),
            "--signoff",
            "A U Thor <author@example.org>",
        ];
        a.extend_from_slice(extra);
        run(&a)
    };
    // The made-up API is a fixture-only rule: named by its file, beside the default one.
    let irq = fixtures.join("rules/irq_walker_ops.toml");
    let irq = irq.to_str().unwrap();
    let o = args(&["--rule", "mm_walk_ops", "--rule", irq]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("several rules were found (irq_walker_ops, mm_walk_ops)")
            || err.contains("several rules were found (mm_walk_ops, irq_walker_ops)"),
        "{err}"
    );
    assert!(!dir.exists(), "nothing is written");
    // One rule picked: its series, named after it.
    let o = args(&["--rule", irq]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let cover = std::fs::read_to_string(dir.join("patches/0000-cover-letter.patch")).unwrap();
    assert!(cover.contains("rule irq_walker_ops"), "{cover}");
    assert!(!cover.contains("mm_walk"), "{cover}");
}

#[test]
fn an_incomplete_series_says_so_first_everywhere() {
    let out = tempfile::tempdir().unwrap();
    series(out.path(), &[]);
    let txt = std::fs::read_to_string(out.path().join("report.txt")).unwrap();
    assert!(txt.starts_with(&format!("{DEMO_INCOMPLETE}\n")), "{txt}");
    let json = std::fs::read_to_string(out.path().join("report.json")).unwrap();
    let first: serde_json::Value = serde_json::from_str(json.lines().next().unwrap()).unwrap();
    assert_eq!(first["type"], "incomplete");
    assert_eq!(first["message"], DEMO_INCOMPLETE);
    let cover = std::fs::read_to_string(&patches(out.path())[0]).unwrap();
    let body = cover.split_once("\n\n").unwrap().1;
    assert!(body.starts_with(&format!("{DEMO_INCOMPLETE}.\n")), "{body}");
}

#[test]
fn a_complete_series_exits_0_and_says_nothing_of_incompleteness() {
    // The demo with its one flagged caller converted by hand (the escape removed).
    let repo = demo_repo();
    let f = repo.path().join("mm/madvise.c");
    let text = std::fs::read_to_string(&f).unwrap();
    let fixed = text.replacen("\tmadvise_trace_walk(&walk, start, end);\n", "", 1);
    assert_ne!(text, fixed);
    std::fs::write(&f, fixed).unwrap();
    // Committed, as the series is based on HEAD (a dirty tree is refused).
    git(repo.path(), &["commit", "-qam", "mm: madvise: no escape"]);
    let out = tempfile::tempdir().unwrap();
    let o = run(&[
        "series",
        repo.path().to_str().unwrap(),
        "-o",
        out.path().to_str().unwrap(),
        "--signoff",
        "A U Thor <author@example.org>",
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(!err.contains("INCOMPLETE"), "{err}");
    for f in [
        "report.txt",
        "report.json",
        "patches/0000-cover-letter.patch",
    ] {
        let text = std::fs::read_to_string(out.path().join(f)).unwrap();
        assert!(!text.contains("INCOMPLETE"), "{f}");
    }
}

/// Run a shell command line in `dir` as the README shows it (globs expanded by the shell).
fn sh(dir: &Path, line: &str) -> std::process::Output {
    Command::new("sh")
        .current_dir(dir)
        .args(["-c", line])
        .env("PATH", {
            let bin = Path::new(env!("CARGO_BIN_EXE_kcodemod")).parent().unwrap();
            format!("{}:{}", bin.display(), std::env::var("PATH").unwrap())
        })
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@t")
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@t")
        .output()
        .unwrap()
}

#[test]
fn the_readme_series_commands_work_as_written() {
    // The commands below are the README's, with the tree and OUTDIR filled in.
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    for shown in [
        "kcodemod series ~/linux -o out --signoff \"Your Name <you@example.org>\"",
        "git am --empty=drop out/patches/*.patch",
    ] {
        assert!(
            readme.contains(shown),
            "the README no longer shows: {shown}"
        );
    }
    let repo = demo_repo();
    let out = tempfile::tempdir().unwrap();
    let o = out.path().join("out");
    let series = format!(
        "kcodemod series . -o {} --signoff \"Your Name <you@example.org>\"",
        o.display()
    );
    let s = sh(repo.path(), &series);
    assert_eq!(
        s.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&s.stderr)
    );
    // Step 2: git am takes the whole directory, the cover letter skipped.
    let am = sh(
        repo.path(),
        &format!("git am --empty=drop {}/patches/*.patch", o.display()),
    );
    assert!(
        am.status.success(),
        "{}",
        String::from_utf8_lossy(&am.stderr)
    );
    let log = git(repo.path(), &["log", "--format=%s", "-1"]);
    assert!(log.starts_with("mm: pagewalk:"), "{log}");
    // A second series into the same directory replaces the first whole: the split series has
    // more patches, and then the default one must leave none of them behind.
    let base = demo();
    for extra in ["--split arch", ""] {
        let again = format!(
            "kcodemod series {} -o {} --signoff \"Your Name <you@example.org>\" {extra}",
            base.display(),
            o.display()
        );
        let s = sh(repo.path(), &again);
        assert_eq!(
            s.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&s.stderr)
        );
    }
    let names: Vec<String> = patches(&o)
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    // Step 4, as a dry run (git send-email is in git-email, which CI installs).
    let send = sh(
        repo.path(),
        &format!(
            "git send-email --dry-run --confirm=never --to list@example.org {}/patches/*.patch",
            o.display()
        ),
    );
    let err = String::from_utf8_lossy(&send.stderr);
    if !send.status.success() && err.contains("is not a git command") {
        assert!(
            std::env::var_os("CI").is_none(),
            "git send-email is missing; .ci/run installs git-email"
        );
    } else {
        assert!(send.status.success(), "{err}");
        let dry = String::from_utf8_lossy(&send.stdout);
        assert_eq!(dry.matches("Result: OK").count(), 2, "{dry}");
    }
}

#[test]
fn a_directory_kcodemod_did_not_write_is_refused() {
    let out = tempfile::tempdir().unwrap();
    std::fs::write(out.path().join("notes.txt"), "mine").unwrap();
    let o = run(&[
        "series",
        demo().to_str().unwrap(),
        "-o",
        out.path().to_str().unwrap(),
        "--signoff",
        "A <a@example.org>",
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("not empty, and not the output of an earlier series"),
        "{err}"
    );
    let left: Vec<_> = std::fs::read_dir(out.path()).unwrap().collect();
    assert_eq!(left.len(), 1, "files were written beside the user's");
}

#[test]
fn dates_are_checked_and_written_as_rfc_2822() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("s");
    let go = |date: Option<&str>, epoch: Option<&str>| {
        let mut c = common::bin();
        c.arg("series")
            .arg(demo())
            .arg("-o")
            .arg(&dir)
            .args(["--signoff", "A <a@example.org>"]);
        if let Some(d) = date {
            c.args(["--date", d]);
        }
        match epoch {
            Some(e) => c.env("SOURCE_DATE_EPOCH", e),
            None => c.env_remove("SOURCE_DATE_EPOCH"),
        };
        c.output().unwrap()
    };
    for (date, epoch) in [(Some("banana"), None), (None, Some("banana"))] {
        let o = go(date, epoch);
        assert_eq!(o.status.code(), Some(2), "{date:?} {epoch:?}");
        assert!(!dir.exists(), "a refused date wrote output");
    }
    for (date, epoch) in [
        (Some("2026-11-26T15:00:00+01:00"), None),
        (None, Some("1795701600")),
    ] {
        let o = go(date, epoch);
        assert_eq!(
            o.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        let p = std::fs::read_to_string(&patches(&dir)[1]).unwrap();
        let want = if epoch.is_some() {
            "Date: Thu, 26 Nov 2026 14:00:00 +0000\n"
        } else {
            "Date: Thu, 26 Nov 2026 15:00:00 +0100\n"
        };
        assert!(p.contains(want), "{p}");
    }
}

#[test]
fn format_patch_options_and_encoded_names() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("s");
    let o = run(&[
        "series",
        demo().to_str().unwrap(),
        "-o",
        dir.to_str().unwrap(),
        "--signoff",
        "Jürgen Groß <jg@example.de>",
        "-v",
        "2",
        "--subject-prefix",
        "RFC PATCH",
        "--to",
        "Zoë Ärger <zoe@example.org>",
        "--cc",
        "extra@example.org",
        "--json",
    ]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    let rec: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(rec["type"], "series");
    assert_eq!(rec["series"]["files"][0], "v2-0000-cover-letter.patch");
    assert!(
        rec["series"]["incomplete"]
            .as_str()
            .unwrap()
            .starts_with("INCOMPLETE: 1 site")
    );
    let p = patches(&dir);
    let name = p[1].file_name().unwrap().to_string_lossy().into_owned();
    assert!(name.starts_with("v2-0001-mm-pagewalk"), "{name}");
    let text = std::fs::read_to_string(&p[1]).unwrap();
    assert!(
        text.contains("Subject: [RFC PATCH v2 1/1] mm: pagewalk:"),
        "{text}"
    );
    assert!(text.contains("From: =?UTF-8?Q?J=C3=BCrgen_Gro=C3=9F?= <jg@example.de>\n"));
    assert!(text.contains("To: =?UTF-8?Q?Zo=C3=AB_=C3=84rger?= <zoe@example.org>,\n"));
    assert!(text.contains("Cc: extra@example.org,\n"));
    assert!(text.is_ascii() || text.contains("Content-Type: text/plain; charset=UTF-8"));
    // git reads the encoded author back as it was given.
    let repo = demo_repo();
    git(repo.path(), &["am", "-q", p[1].to_str().unwrap()]);
    assert_eq!(
        git(repo.path(), &["log", "-1", "--format=%an <%ae>"]).trim(),
        "Jürgen Groß <jg@example.de>"
    );
    let cover = std::fs::read_to_string(&p[0]).unwrap();
    assert!(cover.contains("Subject: [RFC PATCH v2 0/1] "), "{cover}");
}

/// Whether `tool` runs; a missing one fails the test under `CI=true` (`.ci/run` installs it).
fn have_tool(tool: &str, package: &str) -> bool {
    let present = Command::new(tool).arg("--version").output().is_ok();
    if !present && std::env::var("CI").as_deref() == Ok("true") {
        panic!("{tool} not found; install the Debian package {package}");
    }
    if !present {
        use std::io::Write;
        let _ = writeln!(std::io::stderr(), "{tool} not found ({package}); skipped");
    }
    present
}

#[test]
fn generated_scripts_pass_shellcheck() {
    if !have_tool("shellcheck", "shellcheck") {
        return;
    }
    let out = tempfile::tempdir().unwrap();
    series(out.path(), &[]);
    let mut scripts: Vec<PathBuf> = std::fs::read_dir(out.path().join("check"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sh"))
        .collect();
    scripts.sort();
    // all.sh, the four groups, tuxmake.sh.
    assert_eq!(scripts.len(), 6, "{scripts:?}");
    let o = Command::new("shellcheck").args(&scripts).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
}

#[test]
fn checkpatch_runs_on_every_patch_or_says_why_not() {
    // The demo has no scripts/checkpatch.pl: skipped, with the reason.
    let out = tempfile::tempdir().unwrap();
    series(out.path(), &[]);
    let txt = std::fs::read_to_string(out.path().join("report.txt")).unwrap();
    assert!(
        txt.contains("checkpatch: skipped: ") && txt.contains("has no scripts/checkpatch.pl"),
        "{txt}"
    );
    // A tree whose checkpatch complains: its counts and messages reach the report, per patch.
    let repo = demo_repo();
    let script = repo.path().join("scripts/checkpatch.pl");
    std::fs::create_dir_all(script.parent().unwrap()).unwrap();
    std::fs::write(
        &script,
        "my $p = $ARGV[0];\nprint \"WARNING: line length of 81 exceeds 80 columns\\n\";\nprint \"ERROR: trailing whitespace\\n\";\nprint \"total: 1 errors, 1 warnings, 9 lines checked\\n\";\nexit 1;\n",
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let o = run(&[
        "series",
        repo.path().to_str().unwrap(),
        "-o",
        dir.path().to_str().unwrap(),
        "--signoff",
        "A <a@example.org>",
        "--split",
        "arch",
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("kcodemod: checkpatch: 5 errors, 5 warnings in 5 patches"),
        "{err}"
    );
    let txt = std::fs::read_to_string(dir.path().join("report.txt")).unwrap();
    assert!(txt.contains(": 1 errors, 1 warnings\n"), "{txt}");
    assert!(txt.contains("      ERROR: trailing whitespace\n"), "{txt}");
    let json = std::fs::read_to_string(dir.path().join("report.json")).unwrap();
    assert_eq!(json.matches("\"type\":\"checkpatch\"").count(), 5, "{json}");
    // And --no-checkpatch does not run it.
    let dir2 = tempfile::tempdir().unwrap();
    let o = run(&[
        "series",
        repo.path().to_str().unwrap(),
        "-o",
        dir2.path().to_str().unwrap(),
        "--signoff",
        "A <a@example.org>",
        "--no-checkpatch",
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("checkpatch: skipped: --no-checkpatch"),
        "{err}"
    );
}
