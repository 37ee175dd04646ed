//! The series: per-arch diffs, `git format-patch` mbox patches with a cover letter and
//! MAINTAINERS recipients, compile-check scripts per arch group, and the report.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Serialize;

use super::guards::*;
use super::kbuild::{self, Touched};
use super::module_check;
use crate::pipeline::{FileResult, Found, RunResult};
use crate::rule::Rule;
use crate::struct_to_ops::Outcome;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Split {
    /// One patch: the API change and every caller (every commit builds).
    None,
    /// The API patch, then one patch per arch group (only the whole series builds).
    Arch,
}

/// What a `--compat` patch says it did, after what the conversion does.
pub(super) const COMPAT_NOTE: &str = "Written for both kernels (kcodemod --compat): the new form sits beside the\nold under a LINUX_VERSION_CODE check, so the code still builds on kernels\nbefore the change.\n";

pub struct Options {
    pub out: PathBuf,
    pub split: Split,
    /// `Name <mail>` for From: and Signed-off-by:.
    pub author: String,
    /// RFC 2822 date for every patch.
    pub date: String,
    /// A patch holding the API change, put first as it is.
    pub base_patch: Option<PathBuf>,
    /// Subject prefix per arch group, overriding the derived one.
    pub prefixes: BTreeMap<String, String>,
    /// `-v N`: `[PATCH vN …]` and `vN-` file names, as `git format-patch` writes them.
    pub reroll: Option<u32>,
    /// The subject's tag word(s): `PATCH`, `RFC PATCH`.
    pub subject_prefix: String,
    /// Recipients added to every message, beside those MAINTAINERS names.
    pub to: Vec<String>,
    pub cc: Vec<String>,
    /// More `ARCH`s to compile-check the `generic` group for (`check/generic-<ARCH>.sh`).
    pub generic_arches: Vec<String>,
    /// Defconfig per `ARCH`, overriding the toolchain's.
    pub defconfigs: BTreeMap<String, String>,
    /// Run the tree's scripts/checkpatch.pl on each patch.
    pub checkpatch: bool,
    /// `--quick`: no builds with the guards of edited lines switched off.
    pub quick: bool,
    /// The API change is not part of this series (`--base-patch`, `--target`): its patch
    /// converts callers and says so.
    pub callers_only: bool,
    /// The tree has local edits the patches carry (`--allow-dirty`): HEAD is not their base,
    /// so no `base-commit:` is written and the check scripts compare with no base.
    pub dirty: bool,
    /// `--compat`: the new form was written beside the old under a version check.
    pub compat: bool,
    /// The tree directory's name: the subject prefix of files at its top (a module's).
    pub top: String,
    /// `--target`: the kernel the code moves to (a module's check builds against it).
    pub target: Option<PathBuf>,
    /// `--target-build`: a prepared build of it (`make modules_prepare`).
    pub target_build: Option<PathBuf>,
}

impl Options {
    /// `[PATCH v2 3/5]`.
    pub(super) fn tag(&self, num: usize, n: usize) -> String {
        match self.reroll {
            Some(v) => format!("[{} v{v} {num}/{n}]", self.subject_prefix),
            None => format!("[{} {num}/{n}]", self.subject_prefix),
        }
    }

    /// `0003-subject.patch`, `v2-0003-subject.patch`.
    pub(super) fn file_name(&self, num: usize, slug: &str) -> String {
        let v = self.reroll.map(|v| format!("v{v}-")).unwrap_or_default();
        format!("{v}{num:04}-{slug}.patch")
    }
}

/// What `series` wrote, for the summary line.
#[derive(Serialize)]
pub struct Written {
    pub patches: usize,
    /// The messages' file names under `patches/`, the cover letter first.
    pub files: Vec<String>,
    /// What checkpatch said, in one line (or why it did not run).
    pub checkpatch: String,
    pub groups: Vec<String>,
    /// The INCOMPLETE line, when sites are left on the old API.
    pub incomplete: Option<String>,
    /// The NOT COMPILED lines: converted or flagged functions no check script compiles.
    pub not_compiled: Vec<String>,
    /// Arch groups the series changes that no check script builds (kcodemod knows no cross
    /// compiler for them): their diffs are not compiled by anything it writes.
    pub not_built: Vec<String>,
}

/// Write the series to `opts.out`, all or nothing: it is built in a directory beside OUTDIR and
/// swapped in at the end, so that a failure (a full disk) leaves an earlier series whole and
/// nothing of the new one.
pub fn write(tree: &Path, rules: &[Rule], run: &RunResult, opts: &Options) -> Result<Written> {
    check_output_dir(&opts.out)?;
    // The directory itself, where it exists: `-o .`, or a link to it, is replaced where it is.
    let out = opts.out.canonicalize().unwrap_or_else(|_| opts.out.clone());
    let building = beside(&out, "new")?;
    let written = super::draft::write_into(tree, rules, run, opts, &building).and_then(|w| {
        swap_in(&building, &out)?;
        Ok(w)
    });
    if written.is_err() {
        let _ = std::fs::remove_dir_all(&building);
    }
    written
}

/// `.NAME.kcodemod-WHAT-PID` beside `out` (created, empty), its parents created.
fn beside(out: &Path, what: &str) -> Result<PathBuf> {
    let name = out
        .file_name()
        .with_context(|| format!("{}: not a directory name", out.display()))?;
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(parent)
        .with_context(|| format!("{}: cannot create", parent.display()))?;
    // Absolute: checkpatch reads the patches from inside the tree.
    let parent = parent
        .canonicalize()
        .with_context(|| format!("{}: cannot read", parent.display()))?;
    let mut dot = std::ffi::OsString::from(".");
    dot.push(name);
    dot.push(format!(".kcodemod-{what}-{}", std::process::id()));
    let path = parent.join(dot);
    // Left by an earlier run of this process id that was killed: ours by its name.
    let _ = std::fs::remove_dir_all(&path);
    std::fs::create_dir(&path).with_context(|| format!("{}: cannot create", path.display()))?;
    Ok(path)
}

/// Put the finished series `building` where `out` is: an atomic exchange with an earlier
/// output (whose remains are then removed), else a rename.
fn swap_in(building: &Path, out: &Path) -> Result<()> {
    let moved = |e: std::io::Error| {
        anyhow::Error::new(e).context(format!(
            "{}: cannot move the new series into place (it is whole in {})",
            out.display(),
            building.display()
        ))
    };
    if std::fs::symlink_metadata(out).is_err() {
        return std::fs::rename(building, out).map_err(moved);
    }
    // The shell's current directory must stay a directory that exists: its entries are
    // swapped instead of itself.
    if std::env::current_dir().is_ok_and(|d| d == out) {
        return swap_entries(building, out).map_err(moved);
    }
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    match renameat_with(CWD, building, CWD, out, RenameFlags::EXCHANGE) {
        Ok(()) => {}
        // A filesystem without the exchange: the earlier output moves aside first.
        Err(_) => {
            let old = beside(out, "old")?;
            std::fs::remove_dir(&old).map_err(moved)?;
            std::fs::rename(out, &old).map_err(moved)?;
            std::fs::rename(building, out).map_err(moved)?;
            let _ = std::fs::remove_dir_all(&old);
            return Ok(());
        }
    }
    // `building` now holds the earlier series.
    std::fs::remove_dir_all(building)
        .with_context(|| format!("{}: cannot remove the earlier series", building.display()))
}

/// Swap the entries of `building` into `out` one by one (each rename atomic); the earlier
/// series' entries, those replaced and those the new one has not, go into `building`, which is
/// then removed.
fn swap_entries(building: &Path, out: &Path) -> std::io::Result<()> {
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    let new: Vec<std::ffi::OsString> = std::fs::read_dir(building)?
        .map(|e| e.map(|e| e.file_name()))
        .collect::<std::io::Result<_>>()?;
    for name in &new {
        let (from, to) = (building.join(name), out.join(name));
        if std::fs::symlink_metadata(&to).is_err() {
            std::fs::rename(&from, &to)?;
        } else if renameat_with(CWD, &from, CWD, &to, RenameFlags::EXCHANGE).is_err() {
            // A filesystem without the exchange: the earlier entry moves aside first.
            let mut aside = std::ffi::OsString::from(".old-");
            aside.push(name);
            std::fs::rename(&to, building.join(aside))?;
            std::fs::rename(&from, &to)?;
        }
    }
    for name in OUTPUTS.iter().filter(|n| !new.iter().any(|m| m == **n)) {
        match std::fs::rename(out.join(name), building.join(name)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
    }
    std::fs::remove_dir_all(building)
}

/// The lines a reader must see first, wherever the series' verdict is printed (report.txt,
/// report.json, stderr), the gravest first: the series does not build (INCOMPLETE); a
/// converted function no check compiles (NOT COMPILED); arch groups nothing here builds (NOT
/// BUILT).
pub fn heads(
    incomplete: Option<&str>,
    not_compiled: &[String],
    not_built: &[String],
) -> Vec<String> {
    let mut h: Vec<String> = incomplete.map(str::to_string).into_iter().collect();
    h.extend(not_compiled.iter().cloned());
    h.extend(not_built_line(not_built));
    h
}

/// The line that says which arch groups no check script builds, when there are any.
pub fn not_built_line(groups: &[String]) -> Option<String> {
    (!groups.is_empty()).then(|| {
        format!(
            "NOT BUILT: {}: no cross compiler kcodemod knows for these ARCHs, so nothing it writes compiles their diffs (diffs/<group>.diff); build them yourself",
            groups.join(" ")
        )
    })
}

/// `base-commit: SHA` after the diffstat, before the signature, as `git format-patch --base`
/// writes it: the commit the series applies to.
pub(super) fn base_commit_trailer(cover: &mut String, sha: &str) {
    let at = cover.rfind("\n-- \n").map_or(cover.len(), |i| i + 1);
    cover.insert_str(at, &format!("\nbase-commit: {sha}\n"));
}

/// The files the check scripts build, per arch group (changed groups first, in their order):
/// every changed `.c` file, and every `.c` file that still holds a site of the old API after
/// the series (a flagged site), so that the check fails until a human converts it. Each comes
/// with the `CONFIG_` guards of its edits and of its flagged sites.
pub(super) fn check_files<'r>(
    run: &'r RunResult,
    changed: &[&'r FileResult],
    groups: &[(String, Vec<usize>)],
) -> Vec<(String, Vec<Touched<'r>>)> {
    let mut out: Vec<(String, Vec<Touched<'r>>)> = groups
        .iter()
        .map(|(g, files)| {
            let touched = files
                .iter()
                .map(|&i| changed[i])
                .filter(|f| f.rel.ends_with(".c"))
                .map(|f| {
                    let guards = edit_guards(f);
                    Touched {
                        path: f.rel.clone(),
                        flip: guards.clone(),
                        guards,
                        source: &f.original,
                        old_api: Vec::new(),
                        functions: Vec::new(),
                    }
                })
                .collect();
            (g.clone(), touched)
        })
        .collect();
    for f in run.files.iter().filter(|f| f.rel.ends_with(".c")) {
        let flagged: Vec<&Found> = f
            .sites
            .iter()
            .filter(|s| s.site.outcome != Outcome::Converted)
            .collect();
        if flagged.is_empty() {
            continue;
        }
        let gi = group_of(&mut out, kbuild::arch_group(&f.rel));
        let files = &mut out[gi].1;
        let ti = match files.iter().position(|t| t.path == f.rel) {
            Some(ti) => ti,
            None => {
                files.push(Touched {
                    path: f.rel.clone(),
                    source: &f.original,
                    ..Touched::default()
                });
                files.len() - 1
            }
        };
        let t = &mut files[ti];
        for s in &flagged {
            t.old_api
                .push(format!("{}:{} {}", f.rel, s.site.line, s.site.function));
        }
        for g in site_guards(f, flagged.iter().map(|s| s.site.line)) {
            if !t.guards.contains(&g) {
                t.guards.push(g);
            }
        }
    }
    // A header's converted or flagged functions are compiled in the objects that include it:
    // the check finds them there (no object, no guards of its own to enable or flip).
    for f in run.files.iter().filter(|f| f.rel.ends_with(".h")) {
        if f.sites.is_empty() {
            continue;
        }
        let gi = group_of(&mut out, kbuild::arch_group(&f.rel));
        out[gi].1.push(Touched {
            path: f.rel.clone(),
            source: &f.original,
            ..Touched::default()
        });
    }
    for t in out.iter_mut().flat_map(|(_, files)| files.iter_mut()) {
        if let Some(f) = run.files.iter().find(|f| f.rel == t.path) {
            t.functions = site_functions(f);
        }
    }
    out
}

/// The index of group `g` in `out`, added (with no file) when it is not there yet.
fn group_of<T>(out: &mut Vec<(String, Vec<T>)>, g: String) -> usize {
    match out.iter().position(|(x, _)| *x == g) {
        Some(gi) => gi,
        None => {
            out.push((g, Vec::new()));
            out.len() - 1
        }
    }
}

/// Each converted or flagged function of a file once (`file:line function`, its first site),
/// with the condition its code is compiled under: the checks say where it reached the
/// compiler, and a function no configuration compiles is not verified.
fn site_functions(f: &FileResult) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for s in &f.sites {
        let name = s.site.function.as_str();
        if name.is_empty() || seen.contains(&name) {
            continue;
        }
        seen.push(name);
        out.push((
            format!("{}:{} {name}", f.rel, s.site.line),
            site_condition(f, s.site.line),
        ));
    }
    out
}

/// `check/module.sh` for every `.c` file of the module (it must build on the target as a
/// whole), for x86_64 and the `--generic-arch` arches.
pub(super) fn write_module_check(
    tree: &Path,
    opts: &Options,
    base: Option<&str>,
    out: &Path,
) -> Result<()> {
    let objects = module_check::objects(tree)
        .with_context(|| format!("{}: cannot list the module's files", tree.display()))?;
    let mut arches = vec!["x86_64".to_string()];
    arches.extend(opts.generic_arches.iter().cloned());
    let target = module_check::Target {
        tree: opts.target.as_deref(),
        build: opts.target_build.as_deref(),
    };
    let script = module_check::module_script(&target, &arches, &objects, base);
    let path = out.join("check/module.sh");
    write_file(&path, script.as_bytes())?;
    make_executable(&path)
}

/// Marks a directory as a series' output: a later series may replace what it holds.
const MARKER: &str = ".kcodemod-series";

/// What a series writes into OUTDIR (the marker included): a later series replaces all of it,
/// so no patch of an earlier run is left beside the new ones for `git send-email` to mail.
const OUTPUTS: [&str; 6] = [
    "diffs",
    "patches",
    "check",
    "report.txt",
    "report.json",
    MARKER,
];

/// Is OUTDIR one a series may write into: new, empty, or an earlier series' output? A
/// non-empty directory that kcodemod did not write is refused (checked before the walk, and
/// again before writing). Returns whether it holds an earlier series.
pub fn check_output_dir(out: &Path) -> Result<bool> {
    let entries: Vec<std::ffi::OsString> = match std::fs::read_dir(out) {
        Ok(rd) => rd
            .map(|e| e.map(|e| e.file_name()))
            .collect::<std::io::Result<_>>()
            .with_context(|| format!("{}: cannot read", out.display()))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(e).with_context(|| format!("{}: cannot read", out.display())),
    };
    if !entries.is_empty() && !entries.iter().any(|e| e == MARKER) {
        bail!(
            "{}: not empty, and not the output of an earlier series; give a new or empty directory",
            out.display()
        );
    }
    Ok(!entries.is_empty())
}

/// Make OUTDIR ours: an earlier series' output is removed whole, so that no patch of it is
/// left beside the new ones.
pub(super) fn own_output_dir(out: &Path) -> Result<()> {
    if check_output_dir(out)? {
        for name in OUTPUTS {
            let p = out.join(name);
            let gone = if p.is_dir() {
                std::fs::remove_dir_all(&p)
            } else {
                std::fs::remove_file(&p)
            };
            match gone {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(e).with_context(|| format!("{}: cannot remove", p.display()));
                }
                _ => {}
            }
        }
    }
    std::fs::create_dir_all(out).with_context(|| format!("{}: cannot create", out.display()))?;
    write_file(
        &out.join(MARKER),
        b"Written by kcodemod series; the next series into this directory replaces it.\n",
    )
}

pub(super) fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    crate::write::disk_take(bytes.len())
        .and_then(|()| std::fs::write(path, bytes))
        .with_context(|| format!("{}: cannot write", path.display()))
}

pub(super) fn make_executable(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .with_context(|| format!("{}: cannot chmod", path.display()))
}

/// The first fired rule of a callers-only kind whose new API neither the tree nor the base
/// patch brings (see [`crate::target::missing_api`]). With `--target` the target has it: the
/// rules were chosen so. (Struct-to-ops converts the API where the tree defines it, which
/// moved between headers over the years; its outputs are checked by the verdict module.)
pub(super) fn missing_api(
    tree: &Path,
    rules: &[Rule],
    fired: &[usize],
    opts: &Options,
) -> Result<Option<String>> {
    if opts.target.is_some() {
        return Ok(None);
    }
    let base = match &opts.base_patch {
        Some(p) => Some(
            std::fs::read(p)
                .with_context(|| format!("{}: cannot read the base patch", p.display()))?,
        ),
        None => None,
    };
    Ok(fired
        .iter()
        .map(|&r| &rules[r])
        .filter(|r| r.kind.callers_only())
        .find_map(|r| crate::target::missing_api(tree, r, base.as_deref())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emit::patches::{diffstat, prefix, renumber, slug};

    #[test]
    fn prefixes_follow_kernel_habit() {
        let o = Options {
            out: PathBuf::new(),
            split: Split::Arch,
            author: String::new(),
            date: String::new(),
            base_patch: None,
            prefixes: BTreeMap::new(),
            reroll: None,
            subject_prefix: "PATCH".into(),
            to: Vec::new(),
            cc: Vec::new(),
            generic_arches: Vec::new(),
            defconfigs: BTreeMap::new(),
            checkpatch: false,
            quick: false,
            callers_only: false,
            dirty: false,
            compat: false,
            top: "pgstat".into(),
            target: None,
            target_build: None,
        };
        let rules = crate::rule::bundled().unwrap();
        let mm = rules.iter().find(|r| r.id == "mm_walk_ops").unwrap();
        // The made-up API is a fixture-only rule, not a bundled one.
        let irq = &crate::rule::Rule::load(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("fixtures/rules/irq_walker_ops.toml"),
        )
        .unwrap();
        assert_eq!(prefix(&["arch/s390/mm/gmap.c"], &o, "s390", mm), "s390/mm");
        assert_eq!(
            prefix(&["arch/openrisc/kernel/dma.c"], &o, "openrisc", mm),
            "openrisc"
        );
        assert_eq!(
            prefix(
                &["mm/madvise.c", "fs/proc/task_mmu.c", "mm/hmm.c"],
                &o,
                "generic",
                mm
            ),
            "mm, fs/proc"
        );
        // Headers take the subsystem of the rule's subject.
        assert_eq!(prefix(&["include/linux/mm.h"], &o, "generic", mm), "mm");
        // A module's files sit at the top of its directory: they take its name.
        assert_eq!(prefix(&["pgstat.c"], &o, "generic", mm), "pgstat");
        assert_eq!(
            prefix(&["include/linux/irqwalk.h"], &o, "generic", irq),
            "irq"
        );
    }

    #[test]
    fn diffstat_counts_lines() {
        let d = b"diff --git a/x.c b/x.c\n--- a/x.c\n+++ b/x.c\n@@ -1,2 +1,2 @@\n-a\n+b\n+c\n";
        assert_eq!(
            diffstat(d),
            " x.c | 3 ++-\n 1 file changed, 2 insertions(+), 1 deletion(-)\n"
        );
    }

    #[test]
    fn guards_that_enable_code_name_their_symbols() {
        let mut out = Vec::new();
        for l in [
            &b"#ifdef CONFIG_SHMEM"[..],
            b"  # if defined(CONFIG_A) && CONFIG_B > 1",
            b"#elif IS_ENABLED(CONFIG_C)",
            b"#ifndef CONFIG_D",
            b"#else /* CONFIG_E */",
            b"#define CONFIG_F 1",
            b"int CONFIG_G;",
            b"#ifdef CONFIG_SHMEM",
        ] {
            enabling_symbols(l, &mut out);
        }
        assert_eq!(out, ["CONFIG_SHMEM", "CONFIG_A", "CONFIG_B", "CONFIG_C"]);
    }

    #[test]
    fn slugs_and_renumbering() {
        assert_eq!(
            slug("s390/mm: convert to struct mm_walk_ops"),
            "s390-mm-convert-to-struct-mm-walk-ops"
        );
        assert_eq!(
            renumber(b"From x\nSubject: [PATCH] mm: foo\n\nbody\n", "[PATCH 1/3]"),
            b"From x\nSubject: [PATCH 1/3] mm: foo\n\nbody\n"
        );
    }
}
