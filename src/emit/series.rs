//! The series: per-arch diffs, `git format-patch` mbox patches with a cover letter and
//! MAINTAINERS recipients, compile-check scripts per arch group, and the report.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Serialize;

use super::check;
use super::checkpatch;
use super::kbuild::{self, ObjectNeeds, Touched};
use super::mail;
use super::maintainers::{Maintainers, Recipients};
use super::module_check;
use super::plan;
use crate::parse::{directives, lex};
use crate::pipeline::{FileResult, Found, RunResult};
use crate::report;
use crate::rule::Rule;
use crate::struct_to_ops::Outcome;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Split {
    /// One patch: the API change and every caller (every commit builds).
    None,
    /// The API patch, then one patch per arch group (only the whole series builds).
    Arch,
}

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
    /// The tree directory's name: the subject prefix of files at its top (a module's).
    pub top: String,
    /// `--target`: the kernel the code moves to (a module's check builds against it).
    pub target: Option<PathBuf>,
    /// `--target-build`: a prepared build of it (`make modules_prepare`).
    pub target_build: Option<PathBuf>,
}

impl Options {
    /// `[PATCH v2 3/5]`.
    fn tag(&self, num: usize, n: usize) -> String {
        match self.reroll {
            Some(v) => format!("[{} v{v} {num}/{n}]", self.subject_prefix),
            None => format!("[{} {num}/{n}]", self.subject_prefix),
        }
    }

    /// `0003-subject.patch`, `v2-0003-subject.patch`.
    fn file_name(&self, num: usize, slug: &str) -> String {
        let v = self.reroll.map(|v| format!("v{v}-")).unwrap_or_default();
        format!("{v}{num:04}-{slug}.patch")
    }
}

/// One patch of the series before numbering.
struct Patch {
    subject: String,
    body: String,
    files: Vec<usize>,
    /// A patch given by the user, written as it came (only the subject is renumbered).
    verbatim: Option<Vec<u8>>,
    /// One migration's stage of its files (a series of several migrations), instead of their
    /// whole change.
    diff: Option<Vec<u8>>,
}

#[derive(Serialize)]
struct CheckRow<'a> {
    group: &'a str,
    object: &'a str,
    symbols: Vec<(&'a str, &'a str)>,
    unreachable: &'a [String],
    /// Sites of the object still on the old API after the series.
    old_api: &'a [String],
    /// Guards of its edited lines the check also builds it with switched off.
    guards_off: &'a [String],
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
}

pub fn write(tree: &Path, rules: &[Rule], run: &RunResult, opts: &Options) -> Result<Written> {
    // A series is one migration: its subjects, bodies and cover letter speak of one rule.
    let mut fired: Vec<usize> = run
        .sites()
        .filter(|(_, s)| s.site.outcome != Outcome::Compat)
        .map(|(_, s)| s.rule)
        .collect();
    fired.sort();
    fired.dedup();
    // Several migrations make one series only when carrying code forward (--target): callers
    // only, one patch per migration, in run order. In a tree that defines the API, each
    // migration is its own series.
    let staged = opts.callers_only && opts.base_patch.is_none();
    if fired.len() > 1 && (!staged || opts.split == Split::Arch) {
        let ids: Vec<&str> = fired.iter().map(|&r| rules[r].id.as_str()).collect();
        bail!(
            "sites of several rules were found ({}): a series is one migration (several only with --target, and without --split arch); pick one with --rule",
            ids.join(", ")
        );
    }
    let rule = &rules[fired.first().copied().unwrap_or(0)];
    let changed: Vec<&FileResult> = run.files.iter().filter(|f| f.new.is_some()).collect();
    let out = &opts.out;
    own_output_dir(out)?;
    for d in ["diffs", "patches", "check"] {
        std::fs::create_dir_all(out.join(d))
            .with_context(|| format!("{}: cannot create", out.join(d).display()))?;
    }
    // Per-arch diffs, in the order of their first file (so that concatenated they are the
    // whole diff).
    let mut groups: Vec<(String, Vec<usize>)> = Vec::new();
    for (i, f) in changed.iter().enumerate() {
        let g = kbuild::arch_group(&f.rel);
        match groups.iter_mut().find(|x| x.0 == g) {
            Some(x) => x.1.push(i),
            None => groups.push((g, vec![i])),
        }
    }
    use rayon::prelude::*;
    // Compile checks: one script per arch group with a known toolchain. Resolving Kbuild and
    // Kconfig is per arch and independent, so the groups are resolved in parallel (scripts are
    // written in group order), and side by side with the file diffs and MAINTAINERS.
    let mut to_check = check_files(run, &changed, &groups);
    if let Some((_, generic)) = to_check.iter().find(|(g, _)| g == "generic").cloned() {
        for a in &opts.generic_arches {
            to_check.push((format!("generic-{a}"), generic.clone()));
        }
    }
    let resolve = || -> Vec<Option<(String, kbuild::Toolchain, Vec<ObjectNeeds>)>> {
        to_check
            .par_iter()
            .map(|(g, files)| {
                let mut tc = kbuild::toolchain(g)?;
                if let Some(d) = opts.defconfigs.get(&tc.arch) {
                    tc.defconfig = d.clone();
                }
                let mut objects: Vec<ObjectNeeds> = files
                    .iter()
                    .map(|t| kbuild::object_needs(tree, t, &tc.arch, &tc.defconfig))
                    .collect();
                if opts.quick {
                    objects.iter_mut().for_each(|o| o.flip.clear());
                }
                (!objects.is_empty()).then(|| (g.clone(), tc, objects))
            })
            .collect()
    };
    let ((diffs, maintainers), resolved) = rayon::join(
        || {
            rayon::join(
                || -> Vec<Vec<u8>> { changed.par_iter().map(|f| report::file_diff(f)).collect() },
                || Maintainers::load(tree),
            )
        },
        resolve,
    );
    for (g, files) in &groups {
        let diff: Vec<u8> = files
            .iter()
            .flat_map(|&i| diffs[i].iter().copied())
            .collect();
        write_file(&out.join("diffs").join(format!("{g}.diff")), &diff)?;
    }
    let recipients = |files: &[usize]| -> Recipients {
        match &maintainers {
            Some(m) => m.recipients(files.iter().map(|&i| changed[i].rel.as_str())),
            None => Recipients::default(),
        }
    };
    let patches = if fired.len() > 1 {
        stage_patches(rules, &fired, &changed, opts)
    } else {
        plan_patches(rules, rule, &changed, &groups, opts)?
    };
    let n = patches.len();
    let mut all_files: Vec<usize> = (0..changed.len()).collect();
    all_files.sort();
    let cover_to = recipients(&all_files);
    let mut written_names = Vec::new();
    for (k, p) in patches.iter().enumerate() {
        let num = k + 1;
        let name = opts.file_name(num, &slug(&p.subject));
        let text = match &p.verbatim {
            Some(v) => renumber(v, &opts.tag(num, n)),
            None => {
                let r = recipients(&p.files);
                let diff: Vec<u8> = match &p.diff {
                    Some(d) => d.clone(),
                    None => p
                        .files
                        .iter()
                        .flat_map(|&i| diffs[i].iter().copied())
                        .collect(),
                };
                mbox(
                    opts,
                    &format!("{} {}", opts.tag(num, n), p.subject),
                    &r,
                    &p.body,
                    &diff,
                )
            }
        };
        write_file(&out.join("patches").join(&name), &text)?;
        written_names.push((name, p.subject.clone()));
    }
    // A series that leaves sites on the old API says so first, everywhere a reader starts.
    let incomplete = crate::verdict::incomplete(run)
        .first()
        .map(|i| crate::verdict::incomplete_line(i, &left_symbols(run, &resolved)));
    let fired_rules: Vec<&Rule> = if fired.is_empty() {
        vec![rule]
    } else {
        fired.iter().map(|&r| &rules[r]).collect()
    };
    let mut cover = cover_letter(
        &fired_rules,
        run,
        &changed,
        &diffs,
        opts,
        &Cover {
            patches: &written_names,
            to: &cover_to,
            incomplete: incomplete.as_deref(),
        },
    );
    let base = check::base_commit(tree);
    if let Some(sha) = &base {
        base_commit_trailer(&mut cover, sha);
    }
    write_file(
        &out.join("patches").join(opts.file_name(0, "cover-letter")),
        cover.as_bytes(),
    )?;
    let mut checks: Vec<(String, Vec<ObjectNeeds>)> = Vec::new();
    let mut scripted = Vec::new();
    let mut builds: Vec<plan::Build> = Vec::new();
    // A module directory moved to a newer kernel is built against it (check/module.sh), not
    // configured as a kernel tree of its own.
    let module = opts.target.is_some() && !module_check::is_kernel_tree(tree);
    if module {
        write_module_check(tree, opts, base.as_deref(), out)?;
        scripted.push("module".to_string());
    }
    for (g, tc, objects) in resolved.into_iter().flatten().filter(|_| !module) {
        builds.extend(plan::builds(&g, &tc, &objects));
        let script = check::group_script(&g, &tc, &objects, base.as_deref());
        let path = out.join("check").join(format!("{g}.sh"));
        write_file(&path, script.as_bytes())?;
        make_executable(&path)?;
        scripted.push(g.clone());
        checks.push((g, objects));
    }
    let all = out.join("check/all.sh");
    write_file(&all, check::all_script(&scripted).as_bytes())?;
    make_executable(&all)?;
    // (A module's check builds against another kernel: no kernel-tree builds to plan.)
    if !builds.is_empty() {
        let tuxmake = out.join("check/tuxmake.sh");
        write_file(&tuxmake, plan::tuxmake_script(&builds).as_bytes())?;
        make_executable(&tuxmake)?;
        write_file(
            &out.join("check/tuxsuite-plan.yaml"),
            plan::tuxsuite_plan(&rule.id, &builds).as_bytes(),
        )?;
    }
    // checkpatch reads the patches as written (the cover letter has no code to check).
    let patch_paths: Vec<PathBuf> = written_names
        .iter()
        .map(|(name, _)| out.join("patches").join(name))
        .collect();
    let style = if opts.checkpatch {
        checkpatch::run(tree, &patch_paths)
    } else {
        checkpatch::Checked::Skipped("--no-checkpatch".into())
    };
    let reproduce = Reproduce {
        builds: &builds,
        base: base.as_deref(),
        patches: out.join("patches"),
        quick: opts.quick,
    };
    write_reports(
        rules,
        run,
        &checks,
        &reproduce,
        out,
        incomplete.as_deref(),
        &style,
    )?;
    let mut files = vec![opts.file_name(0, "cover-letter")];
    files.extend(written_names.into_iter().map(|(name, _)| name));
    Ok(Written {
        patches: n,
        files,
        checkpatch: style.summary(),
        groups: groups.into_iter().map(|g| g.0).collect(),
        incomplete,
    })
}

/// `base-commit: SHA` after the diffstat, before the signature, as `git format-patch --base`
/// writes it: the commit the series applies to.
fn base_commit_trailer(cover: &mut String, sha: &str) {
    let at = cover.rfind("\n-- \n").map_or(cover.len(), |i| i + 1);
    cover.insert_str(at, &format!("\nbase-commit: {sha}\n"));
}

/// The files the check scripts build, per arch group (changed groups first, in their order):
/// every changed `.c` file, and every `.c` file that still holds a site of the old API after
/// the series (a flagged site), so that the check fails until a human converts it. Each comes
/// with the `CONFIG_` guards of its edits and of its flagged sites.
fn check_files<'r>(
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
        let g = kbuild::arch_group(&f.rel);
        let gi = match out.iter().position(|(x, _)| *x == g) {
            Some(gi) => gi,
            None => {
                out.push((g, Vec::new()));
                out.len() - 1
            }
        };
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
    out
}

/// CONFIG_ symbols of the `#if`/`#ifdef` conditions (first arms) around the given 1-based
/// lines of a file.
fn site_guards(f: &FileResult, lines: impl Iterator<Item = usize>) -> Vec<String> {
    let src = &f.original;
    let lexed = lex::lex(src);
    let dirs = directives::read(src, &lexed);
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(memchr::memchr_iter(b'\n', src).map(|i| i + 1))
        .collect();
    let mut out = Vec::new();
    for line in lines {
        let at = line_starts
            .get(line.saturating_sub(1))
            .copied()
            .unwrap_or(src.len());
        guard_symbols(src, &dirs, at, &mut out);
    }
    out
}

/// The `CONFIG_` symbols of the conditionals around offset `at` whose first arm holds it.
fn guard_symbols(src: &[u8], dirs: &directives::Directives, at: usize, out: &mut Vec<String>) {
    for (g, arm) in dirs.guards_at(at) {
        if arm == 0 {
            enabling_symbols(&src[dirs.groups[g].arms[0].line.clone()], out);
        }
    }
}

/// The Kconfig symbols under which the objects of files with sites left on the old API are
/// built (`CONFIG_HMM`), as far as the compile checks resolved them: those their Kbuild lines
/// and `#if` guards name, not the dependencies enabled to reach them.
fn left_symbols(
    run: &RunResult,
    resolved: &[Option<(String, kbuild::Toolchain, Vec<ObjectNeeds>)>],
) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let left: Vec<String> = run
        .sites()
        .filter(|(_, s)| s.site.outcome != Outcome::Converted)
        .filter_map(|(f, _)| f.rel.strip_suffix(".c").map(|stem| format!("{stem}.o")))
        .collect();
    for (_, _, objects) in resolved.iter().flatten() {
        for o in objects.iter().filter(|o| left.contains(&o.object)) {
            let direct = o.symbols.iter().filter(|(_, why)| {
                !["dependency of ", "selects ", "condition of select "]
                    .iter()
                    .any(|p| why.starts_with(p))
            });
            for (sym, _) in direct {
                let sym = format!("CONFIG_{sym}");
                if !out.contains(&sym) {
                    out.push(sym);
                }
            }
        }
    }
    out
}

/// `check/module.sh` for every `.c` file of the module (it must build on the target as a
/// whole), for x86_64 and the `--generic-arch` arches.
fn write_module_check(tree: &Path, opts: &Options, base: Option<&str>, out: &Path) -> Result<()> {
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
fn own_output_dir(out: &Path) -> Result<()> {
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

fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("{}: cannot write", path.display()))
}

fn make_executable(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .with_context(|| format!("{}: cannot chmod", path.display()))
}

/// Files whose changes are the API definition (they hold the old struct or an entry point's
/// definition): every site in them is a definition site.
fn is_api_file(rules: &[Rule], f: &FileResult) -> bool {
    !f.sites.is_empty()
        && f.sites.iter().all(|s| {
            let r = &rules[s.rule];
            s.site.function == format!("struct {}", r.old_struct)
                || r.entries.iter().any(|e| e.name == s.site.function)
        })
}

fn plan_patches(
    rules: &[Rule],
    rule: &Rule,
    changed: &[&FileResult],
    groups: &[(String, Vec<usize>)],
    opts: &Options,
) -> Result<Vec<Patch>> {
    let mut patches = Vec::new();
    if let Some(base) = &opts.base_patch {
        let text = std::fs::read(base)
            .with_context(|| format!("{}: cannot read the base patch", base.display()))?;
        let subject = String::from_utf8_lossy(&text)
            .lines()
            .find_map(|l| l.strip_prefix("Subject: ").map(strip_patch_tag))
            .unwrap_or_else(|| "API change".into());
        patches.push(Patch {
            subject,
            body: String::new(),
            files: Vec::new(),
            verbatim: Some(text),
            diff: None,
        });
    }
    let api: Vec<usize> = (0..changed.len())
        .filter(|&i| is_api_file(rules, changed[i]))
        .collect();
    let callers = |files: &[usize]| {
        files
            .iter()
            .copied()
            .filter(|i| !api.contains(i))
            .collect::<Vec<_>>()
    };
    match opts.split {
        Split::None => {
            let files: Vec<usize> = (0..changed.len()).collect();
            let subject = if opts.callers_only {
                format!(
                    "{}: {}",
                    prefix(&paths(changed, &files), opts, "generic", rule),
                    rule.callers_change()
                )
            } else {
                rule.subject.clone()
            };
            patches.push(Patch {
                subject,
                body: body(rule, changed, &files, false, None),
                files,
                verbatim: None,
                diff: None,
            });
        }
        Split::Arch => {
            if !api.is_empty() {
                patches.push(Patch {
                    subject: rule.subject.clone(),
                    body: body(rule, changed, &api, true, None),
                    files: api.clone(),
                    verbatim: None,
                    diff: None,
                });
            }
            for (g, files) in groups {
                let files = callers(files);
                if files.is_empty() {
                    continue;
                }
                let p = prefix(&paths(changed, &files), opts, g, rule);
                let subject = format!("{p}: {}", rule.arch_change());
                patches.push(Patch {
                    subject,
                    body: body(rule, changed, &files, true, None),
                    files,
                    verbatim: None,
                    diff: None,
                });
            }
        }
    }
    Ok(patches)
}

/// One patch per migration, in run order: each holds its files' change from the text the
/// previous migrations left to the text it left (the last patch's tip is the whole change).
fn stage_patches(
    rules: &[Rule],
    fired: &[usize],
    changed: &[&FileResult],
    opts: &Options,
) -> Vec<Patch> {
    let mut patches = Vec::new();
    for &r in fired {
        let (mut files, mut diff) = (Vec::new(), Vec::new());
        for (i, f) in changed.iter().enumerate() {
            let Some(k) = f.stages.iter().position(|s| s.0 == r) else {
                continue;
            };
            let before = if k == 0 {
                &f.original
            } else {
                &f.stages[k - 1].1
            };
            diff.extend(report::bytes_diff(&f.rel, before, &f.stages[k].1));
            files.push(i);
        }
        if files.is_empty() {
            continue;
        }
        let rule = &rules[r];
        let pre = prefix(&paths(changed, &files), opts, "generic", rule);
        patches.push(Patch {
            subject: format!("{pre}: {}", rule.callers_change()),
            body: body(rule, changed, &files, true, Some(r)),
            files,
            verbatim: None,
            diff: Some(diff),
        });
    }
    patches
}

fn paths<'a>(changed: &[&'a FileResult], files: &[usize]) -> Vec<&'a str> {
    files.iter().map(|&i| changed[i].rel.as_str()).collect()
}

/// A kernel-style subject prefix for a set of paths: `s390/mm`, `powerpc/mm`, `openrisc`,
/// `mm`, `fs/proc`; several subsystems are joined (`mm, fs/proc`). Headers under
/// `include/linux/` take the subsystem of the rule's own subject (`mm: pagewalk: …` → `mm`).
fn prefix(paths: &[&str], opts: &Options, group: &str, rule: &Rule) -> String {
    if let Some(p) = opts.prefixes.get(group) {
        return p.clone();
    }
    let mut out: Vec<String> = Vec::new();
    for p in paths {
        let parts: Vec<&str> = p.split('/').collect();
        let pre = match parts.as_slice() {
            ["arch", a, "mm", ..] => format!("{a}/mm"),
            ["arch", a, ..] => a.to_string(),
            ["fs", sub, _, ..] => format!("fs/{sub}"),
            ["include", "linux", ..] => rule
                .subject
                .split_once(':')
                .map_or("treewide", |s| s.0.trim())
                .to_string(),
            [top, _, ..] => top.to_string(),
            [_] => opts.top.clone(),
            _ => "treewide".to_string(),
        };
        if !out.contains(&pre) {
            out.push(pre);
        }
    }
    out.join(", ")
}

fn strip_patch_tag(s: &str) -> String {
    match s.strip_prefix('[') {
        Some(rest) => rest.split_once("] ").map_or(s, |x| x.1).to_string(),
        None => s.to_string(),
    }
}

/// `[PATCH]`/`[PATCH a/b]` in a user's patch becomes the series' tag (`[PATCH num/n]`).
fn renumber(text: &[u8], tag: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() + 16);
    let mut done = false;
    for l in text.split_inclusive(|&b| b == b'\n') {
        if !done && let Some(s) = l.strip_prefix(b"Subject: ") {
            let subject = String::from_utf8_lossy(s);
            out.extend_from_slice(
                format!("Subject: {tag} {}\n", strip_patch_tag(subject.trim_end())).as_bytes(),
            );
            done = true;
            continue;
        }
        out.extend_from_slice(l);
    }
    out
}

fn slug(subject: &str) -> String {
    let mut s = String::new();
    for c in subject.chars() {
        if c.is_ascii_alphanumeric() {
            s.push(c);
        } else if !s.ends_with('-') {
            s.push('-');
        }
    }
    s.trim_matches('-')
        .chars()
        .take(52)
        .collect::<String>()
        .trim_end_matches('-')
        .to_string()
}

/// A patch's message: what the rule does, then its sites in `files` (only those of rule
/// `only`, in a series of several migrations).
fn body(
    rule: &Rule,
    changed: &[&FileResult],
    files: &[usize],
    split: bool,
    only: Option<usize>,
) -> String {
    let mut b = String::new();
    let _ = writeln!(b, "{}.", rule.summary);
    b.push('\n');
    b.push_str(&wrap(&format!(
        "The conversion is mechanical (kcodemod, rule {}): {}",
        rule.id,
        rule.mechanics()
    )));
    if split {
        b.push('\n');
        let _ = writeln!(
            b,
            "This patch is part of a series that only builds as a whole."
        );
    }
    let (mut conv, mut flag) = (String::new(), String::new());
    for &i in files {
        let f = changed[i];
        for s in f.sites.iter().filter(|s| only.is_none_or(|r| r == s.rule)) {
            match &s.site.outcome {
                Outcome::Converted => {
                    let _ = writeln!(conv, "  {}:{} {}", f.rel, s.site.line, s.site.function);
                }
                Outcome::Compat => {}
                Outcome::Flagged(fl) => {
                    let _ = writeln!(flag, "  {}:{} {}:", f.rel, s.site.line, s.site.function);
                    for l in wrap(&format!("{} [{}]", fl.why, fl.code)).lines() {
                        let _ = writeln!(flag, "    {l}");
                    }
                }
            }
        }
    }
    if !conv.is_empty() {
        let _ = write!(b, "\nConverted:\n{conv}");
    }
    if !flag.is_empty() {
        let _ = write!(
            b,
            "\nLeft unchanged (flagged for manual conversion):\n{flag}"
        );
    }
    b
}

/// Non-ASCII names or text need the MIME headers `git format-patch` adds for them (the
/// author's name is in the body too, in Signed-off-by:).
fn mime(m: &mut String, opts: &Options, r: &Recipients, body: &str) {
    let names = r.to.iter().chain(&r.cc).chain(&opts.to).chain(&opts.cc);
    if !(names.chain([&opts.author]).all(|x| x.is_ascii()) && body.is_ascii()) {
        m.push_str("MIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: 8bit\n");
    }
}

/// Fill prose to 72 columns, as commit messages are.
fn wrap(text: &str) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for w in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + w.len() > 72 {
            out.push_str(&line);
            out.push('\n');
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(w);
    }
    if !line.is_empty() {
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// One mbox message in `git format-patch` form.
/// The mail headers (mbox `From ` line, author, date, subject, MIME, recipients), a blank
/// line and the body: what a patch and the cover letter share.
fn message(opts: &Options, subject: &str, r: &Recipients, body: &str) -> String {
    let mut m = String::new();
    m.push_str("From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001\n");
    let _ = writeln!(m, "From: {}", mail::encode_address(&opts.author));
    let _ = writeln!(m, "Date: {}", opts.date);
    let _ = writeln!(m, "Subject: {}", mail::encode_words(subject));
    mime(&mut m, opts, r, body);
    // The user's --to/--cc come first, then MAINTAINERS', each address once.
    let list = |extra: &[String], found: &[String]| -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for a in extra.iter().chain(found) {
            if !out.contains(a) {
                out.push(a.clone());
            }
        }
        out.iter().map(|a| mail::encode_address(a)).collect()
    };
    let (to, cc) = (list(&opts.to, &r.to), list(&opts.cc, &r.cc));
    if !to.is_empty() {
        let _ = writeln!(m, "To: {}", to.join(",\n    "));
    }
    if !cc.is_empty() {
        let _ = writeln!(m, "Cc: {}", cc.join(",\n    "));
    }
    m.push('\n');
    m.push_str(body);
    m
}

/// The signature that ends every message.
fn signature() -> String {
    format!("-- \nkcodemod {}\n\n", env!("CARGO_PKG_VERSION"))
}

fn mbox(opts: &Options, subject: &str, r: &Recipients, body: &str, diff: &[u8]) -> Vec<u8> {
    let mut m = message(opts, subject, r, body);
    let _ = writeln!(m, "\nSigned-off-by: {}", opts.author);
    m.push_str("---\n");
    m.push_str(&diffstat(diff));
    m.push('\n');
    // The diff is the files' bytes, whatever their encoding.
    let mut bytes = m.into_bytes();
    bytes.extend_from_slice(diff);
    bytes.extend_from_slice(signature().as_bytes());
    bytes
}

/// ` path | 12 ++++----` lines and the totals line, as git prints them.
pub fn diffstat(diff: &[u8]) -> String {
    let mut files: Vec<(String, usize, usize)> = Vec::new();
    for line in diff.split(|&b| b == b'\n') {
        if let Some(p) = line.strip_prefix(b"+++ b/") {
            files.push((String::from_utf8_lossy(p).into_owned(), 0, 0));
        } else if let Some(f) = files.last_mut() {
            if line.starts_with(b"+") && !line.starts_with(b"+++") {
                f.1 += 1;
            } else if line.starts_with(b"-") && !line.starts_with(b"---") {
                f.2 += 1;
            }
        }
    }
    let width = files.iter().map(|f| f.0.len()).max().unwrap_or(0);
    let cw = files
        .iter()
        .map(|f| (f.1 + f.2).to_string().len())
        .max()
        .unwrap_or(1);
    let most = files.iter().map(|f| f.1 + f.2).max().unwrap_or(0).max(1);
    let bar = 72usize.saturating_sub(width + 8).max(10);
    let mut s = String::new();
    let (mut ins, mut del) = (0, 0);
    for (p, a, d) in &files {
        let scale = |x: usize| {
            if most > bar {
                (x * bar).div_ceil(most)
            } else {
                x
            }
        };
        let _ = writeln!(
            s,
            " {p:<width$} | {:>cw$} {}{}",
            a + d,
            "+".repeat(scale(*a)),
            "-".repeat(scale(*d))
        );
        ins += a;
        del += d;
    }
    let plural = |n: usize, w: &str| {
        if n == 1 {
            format!("{n} {w}")
        } else {
            format!("{n} {w}s")
        }
    };
    let _ = writeln!(
        s,
        " {} changed, {}(+), {}(-)",
        plural(files.len(), "file"),
        plural(ins, "insertion"),
        plural(del, "deletion")
    );
    s
}

/// What the cover letter says beyond the run: the patches, the recipients, the verdict.
struct Cover<'a> {
    /// `(file name, subject)` of each patch.
    patches: &'a [(String, String)],
    to: &'a Recipients,
    /// The INCOMPLETE line, when sites are left on the old API.
    incomplete: Option<&'a str>,
}

fn cover_letter(
    fired: &[&Rule],
    run: &RunResult,
    changed: &[&FileResult],
    diffs: &[Vec<u8>],
    opts: &Options,
    c: &Cover,
) -> String {
    let (patches, r) = (c.patches, c.to);
    let n = patches.len();
    let mut body = String::new();
    if let Some(line) = c.incomplete {
        let _ = writeln!(body, "{line}.\n");
    }
    let rule = fired[0];
    for r in fired {
        let _ = writeln!(body, "{}.\n", r.summary);
    }
    let ids: Vec<&str> = fired.iter().map(|r| r.id.as_str()).collect();
    let _ = writeln!(
        body,
        "kcodemod ({} {}) converted {} sites in {} files and flagged {}.",
        if fired.len() > 1 { "rules" } else { "rule" },
        ids.join(", "),
        run.converted(),
        changed.len(),
        run.flagged()
    );
    if fired.len() > 1 {
        let _ = writeln!(
            body,
            "\nOne patch per migration, in the order they ran on each file. Only the whole\nseries builds on the target kernel."
        );
    }
    if opts.split == Split::Arch {
        let _ = writeln!(
            body,
            "\nThe series is split per architecture for review. Only the whole series\nbuilds: the API change and its callers cannot be separated without breaking\nbisection, so apply all of it (or squash it) before building."
        );
    }
    let mut flagged = String::new();
    for (f, s) in run.sites() {
        if let Outcome::Flagged(fl) = &s.site.outcome {
            let _ = writeln!(
                flagged,
                "  {}:{} {}: {} [{}]",
                f.rel, s.site.line, s.site.function, fl.why, fl.code
            );
        }
    }
    if !flagged.is_empty() {
        let _ = write!(body, "\nLeft unchanged, for manual conversion:\n{flagged}");
    }
    body.push_str("\nPatches:\n");
    for (name, subject) in patches {
        let _ = writeln!(body, "  {name}: {subject}");
    }
    body.push('\n');
    let all: Vec<u8> = diffs.concat();
    body.push_str(&diffstat(&all));
    // Without the API change in the series (a --target run), the rule's subject (the API
    // change's) would promise what the patches do not hold: the cover takes theirs.
    let title = match patches.last() {
        Some((_, s)) if fired.len() > 1 => {
            let pre = s.split_once(": ").map_or(s.as_str(), |p| p.0);
            format!("{pre}: convert to the target kernel's APIs")
        }
        Some((_, s)) if opts.callers_only && opts.base_patch.is_none() => s.clone(),
        _ => rule.subject.clone(),
    };
    let subject = format!("{} {title}", opts.tag(0, n));
    let mut m = message(opts, &subject, r, &body);
    m.push('\n');
    m.push_str(&signature());
    m
}

/// CONFIG_ symbols of the `#if`/`#ifdef` conditions around the changed lines of a file
/// (first arms only: an `#else` or `#ifndef` arm wants its symbol off).
pub fn edit_guards(f: &FileResult) -> Vec<String> {
    let Some(new) = &f.new else { return Vec::new() };
    let src = &f.original;
    let lexed = lex::lex(src);
    let dirs = directives::read(src, &lexed);
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(memchr::memchr_iter(b'\n', src).map(|i| i + 1))
        .collect();
    let diff = similar::TextDiff::from_lines(&src[..], &new[..]);
    let mut out: Vec<String> = Vec::new();
    let new_lines: Vec<&[u8]> = new.split(|&b| b == b'\n').collect();
    for op in diff.ops() {
        if matches!(op.tag(), similar::DiffTag::Equal) {
            continue;
        }
        // Conditionals the change itself writes (a guarded ops member) must be on too.
        for l in new_lines.get(op.new_range()).unwrap_or(&[]) {
            enabling_symbols(l, &mut out);
        }
        let at = line_starts
            .get(op.old_range().start)
            .copied()
            .unwrap_or(src.len());
        guard_symbols(src, &dirs, at, &mut out);
    }
    out
}

/// The `CONFIG_` words of an `#if`/`#ifdef`/`#elif` line (code under it needs them on; an
/// `#ifndef` needs them off and adds nothing), each once.
fn enabling_symbols(line: &[u8], out: &mut Vec<String>) {
    if !matches!(
        directives::directive_word(line).0,
        b"if" | b"ifdef" | b"elif"
    ) {
        return;
    }
    for w in lex::words(line, 0..line.len()) {
        let word = String::from_utf8_lossy(&line[w]).into_owned();
        if word.starts_with("CONFIG_") && !out.contains(&word) {
            out.push(word);
        }
    }
}

/// What the report needs to say how to reproduce each build by hand.
struct Reproduce<'a> {
    builds: &'a [plan::Build],
    /// The commit the series applies to, when the tree is a git repository.
    base: Option<&'a str>,
    patches: PathBuf,
    /// `--quick`: no guard builds were planned.
    quick: bool,
}

impl Reproduce<'_> {
    /// How to get the tree the builds run in: the base with the series applied.
    fn checkout(&self) -> Vec<String> {
        let am = format!(
            "git am --empty=drop {}/*.patch",
            check::sh_quote(&self.patches.to_string_lossy())
        );
        match self.base {
            Some(sha) => vec![format!("git checkout -b kcodemod-check {sha}"), am],
            None => vec![format!("# in the tree with the series applied ({am})")],
        }
    }

    fn write(&self, txt: &mut String, json: &mut String) -> Result<()> {
        let _ = writeln!(
            txt,
            "\nBuilds and how to reproduce each by hand (check/tuxmake.sh and \
             check/tuxsuite-plan.yaml hold the same builds; a guard build is skipped by the \
             script when Kconfig keeps the guard on):"
        );
        if self.quick {
            let _ = writeln!(txt, "  (--quick: no builds with guards switched off)");
        }
        for b in self.builds {
            let _ = writeln!(
                txt,
                "  [{}] {}{}: {}",
                b.group,
                b.defconfig,
                b.label(),
                b.objects.join(" ")
            );
            let fragment = b.fragment();
            let fragment = if fragment.is_empty() {
                "none (the defconfig as it is)".to_string()
            } else {
                fragment.join(" | ")
            };
            let _ = writeln!(txt, "      # config fragment: {fragment}");
            for c in self.checkout() {
                let _ = writeln!(txt, "      {c}");
            }
            for (i, o) in b.objects.iter().enumerate() {
                let cmds = b.commands(o);
                // The configuration steps are shared: only the object's line differs.
                let from = if i == 0 { 0 } else { cmds.len() - 1 };
                for c in &cmds[from..] {
                    let _ = writeln!(txt, "      {c}");
                }
                let mut commands = self.checkout();
                commands.extend(cmds);
                let rec = serde_json::json!({ "type": "build", "build": {
                    "group": b.group, "arch": b.arch, "object": o,
                    "off": b.off.as_ref().map(|x| format!("CONFIG_{x}")),
                    "defconfig": b.defconfig, "fragment": b.fragment(),
                    "reproduce": commands, "tuxmake": b.tuxmake(),
                }});
                json.push_str(&serde_json::to_string(&rec)?);
                json.push('\n');
            }
        }
        Ok(())
    }
}

fn write_reports(
    rules: &[Rule],
    run: &RunResult,
    checks: &[(String, Vec<ObjectNeeds>)],
    reproduce: &Reproduce,
    out: &Path,
    incomplete: Option<&str>,
    style: &checkpatch::Checked,
) -> Result<()> {
    let mut txt = String::new();
    let mut json = String::new();
    if let Some(line) = incomplete {
        let _ = writeln!(txt, "{line}\n");
        json.push_str(&serde_json::to_string(
            &serde_json::json!({ "type": "incomplete", "message": line }),
        )?);
        json.push('\n');
    }
    let _ = writeln!(txt, "{}\n", report::summary(run));
    for (f, s) in run.sites() {
        let mut row = report::SiteRecord::new(rules, f, s);
        let arch = kbuild::arch_group(&f.rel);
        let why = row
            .reason
            .map(|r| format!(": {r} [{}]", row.code.unwrap_or("")))
            .unwrap_or_default();
        let _ = writeln!(
            txt,
            "{}:{}: {}: [{arch}] {}{why}",
            f.rel, s.site.line, s.site.function, row.status
        );
        row.arch = Some(arch);
        json.push_str(&serde_json::to_string(&row)?);
        json.push('\n');
    }
    txt.push_str("\nCompile checks (Kconfig symbols each object needs, and why):\n");
    for (g, objects) in checks {
        for o in objects {
            let _ = writeln!(txt, "  [{g}] {}", o.object);
            if !o.old_api.is_empty() {
                let _ = writeln!(
                    txt,
                    "      still on the old API (the check fails until converted by hand): {}",
                    o.old_api.join(", ")
                );
            }
            for (sym, why) in &o.symbols {
                let _ = writeln!(txt, "      {sym}: {why}");
            }
            for u in &o.unreachable {
                let _ = writeln!(txt, "      {u}: NOT REACHABLE (the check will say so)");
            }
            for x in &o.flip {
                let _ = writeln!(
                    txt,
                    "      {x}: also built with CONFIG_{x}=n (guards an edited line)"
                );
            }
            let row = CheckRow {
                group: g,
                object: &o.object,
                symbols: o
                    .symbols
                    .iter()
                    .map(|(a, b)| (a.as_str(), b.as_str()))
                    .collect(),
                unreachable: &o.unreachable,
                old_api: &o.old_api,
                guards_off: &o.flip,
            };
            json.push_str(&serde_json::to_string(
                &serde_json::json!({ "type": "check", "check": row }),
            )?);
            json.push('\n');
        }
    }
    reproduce.write(&mut txt, &mut json)?;
    let _ = writeln!(txt, "\n{}", style.summary());
    match style {
        checkpatch::Checked::Skipped(_) => {}
        checkpatch::Checked::Ran(list) => {
            for v in list {
                let _ = writeln!(
                    txt,
                    "  {}: {} errors, {} warnings",
                    v.patch, v.errors, v.warnings
                );
                for m in &v.messages {
                    let _ = writeln!(txt, "      {m}");
                }
                json.push_str(&serde_json::to_string(
                    &serde_json::json!({ "type": "checkpatch", "checkpatch": v }),
                )?);
                json.push('\n');
            }
        }
    }
    write_file(&out.join("report.txt"), txt.as_bytes())?;
    write_file(&out.join("report.json"), json.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

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
            top: "pgstat".into(),
            target: None,
            target_build: None,
        };
        let rules = crate::rule::bundled().unwrap();
        let mm = rules.iter().find(|r| r.id == "mm_walk_ops").unwrap();
        let irq = rules.iter().find(|r| r.id == "irq_walker_ops").unwrap();
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
