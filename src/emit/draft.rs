//! One series written into a fresh directory, stage by stage: which migration it is, the
//! per-arch diffs, the patches and their cover letter, the check scripts and build plans, the
//! reports. [`super::series::write`] swaps the directory in once every stage is done.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use rayon::prelude::*;

use super::check;
use super::checkpatch;
use super::guards::left_symbols;
use super::kbuild::{self, ObjectNeeds};
use super::maintainers::{Maintainers, Recipients};
use super::module_check;
use super::patches::{
    Cover, Patch, cover_letter, mbox, plan_patches, renumber, slug, stage_patches,
};
use super::plan;
use super::reports::{Reproduce, not_compiled_lines, write_reports};
use super::series::{
    COMPAT_NOTE, Options, Split, Written, base_commit_trailer, check_files, heads, make_executable,
    missing_api, own_output_dir, write_file, write_module_check,
};
use crate::pipeline::{FileResult, RunResult};
use crate::report;
use crate::rule::Rule;
use crate::struct_to_ops::Outcome;

/// An arch group's check, resolved: its toolchain and what each file it builds needs.
type Resolved = (String, kbuild::Toolchain, Vec<ObjectNeeds>);

/// What every stage reads: the run, where the series goes, and the files it changes grouped by
/// arch.
struct Draft<'a> {
    tree: &'a Path,
    rules: &'a [Rule],
    run: &'a RunResult,
    opts: &'a Options,
    out: &'a Path,
    /// The files the series changes, in path order.
    changed: Vec<&'a FileResult>,
    /// Arch groups in the order of their first file (so that their diffs, concatenated, are
    /// the whole diff): indexes into `changed`.
    groups: Vec<(String, Vec<usize>)>,
    /// One unified diff per changed file.
    diffs: Vec<Vec<u8>>,
    maintainers: Option<Maintainers>,
}

/// The check scripts written, and what they build.
#[derive(Default)]
struct Scripts {
    checks: Vec<(String, Vec<ObjectNeeds>)>,
    /// The groups (or `module`) a script was written for.
    scripted: Vec<String>,
    /// A module directory's check (`check/module.sh`) and no kernel-tree scripts.
    module: bool,
    builds: Vec<plan::Build>,
}

/// Write every part of the series into `out`, a fresh directory.
pub(super) fn write_into(
    tree: &Path,
    rules: &[Rule],
    run: &RunResult,
    opts: &Options,
    out: &Path,
) -> Result<Written> {
    let fired = fired(rules, run, opts)?;
    let rule = &rules[fired.first().copied().unwrap_or(0)];
    let changed: Vec<&FileResult> = run.files.iter().filter(|f| f.new.is_some()).collect();
    own_output_dir(out)?;
    for d in ["diffs", "patches", "check"] {
        std::fs::create_dir_all(out.join(d))
            .with_context(|| format!("{}: cannot create", out.join(d).display()))?;
    }
    let groups = arch_groups(&changed);
    // Kbuild and Kconfig are resolved per arch group, in parallel, side by side with the file
    // diffs and MAINTAINERS.
    let to_check = to_check(run, &changed, &groups, opts);
    let ((diffs, maintainers), resolved) = rayon::join(
        || {
            rayon::join(
                || -> Vec<Vec<u8>> { changed.par_iter().map(|f| report::file_diff(f)).collect() },
                || Maintainers::load(tree),
            )
        },
        || resolve(tree, &to_check, opts),
    );
    let d = Draft {
        tree,
        rules,
        run,
        opts,
        out,
        changed,
        groups,
        diffs,
        maintainers,
    };
    d.write_arch_diffs()?;
    let names = d.write_patches(d.patches(rule, &fired)?)?;
    let incomplete = d.incomplete(&fired, &resolved)?;
    let base = (!opts.dirty).then(|| check::base_commit(tree)).flatten();
    d.write_cover(rule, &fired, &names, incomplete.as_deref(), base.as_deref())?;
    let scripts = d.write_checks(resolved, base.as_deref())?;
    d.write_build_plans(rule, &scripts.builds)?;
    let style = d.checkpatch(&names);
    let not_built: Vec<String> = d
        .groups
        .iter()
        .map(|g| g.0.clone())
        .filter(|g| !scripts.module && !scripts.scripted.contains(g))
        .collect();
    let reproduce = Reproduce {
        builds: &scripts.builds,
        base: base.as_deref(),
        // Where the patches will be, once the series is in place.
        patches: opts.out.join("patches"),
        quick: opts.quick,
    };
    let not_compiled = not_compiled_lines(&scripts.checks);
    write_reports(
        rules,
        run,
        &scripts.checks,
        &reproduce,
        out,
        &heads(incomplete.as_deref(), &not_compiled, &not_built),
        &style,
    )?;
    let n = names.len();
    let mut files = vec![opts.file_name(0, "cover-letter")];
    files.extend(names.into_iter().map(|(name, _)| name));
    Ok(Written {
        patches: n,
        files,
        checkpatch: style.summary(),
        groups: d.groups.into_iter().map(|g| g.0).collect(),
        incomplete,
        not_compiled,
        not_built,
    })
}

/// The rules the run found sites of (compat code aside): a series is one migration, or, when
/// carrying code forward (`--target`: callers only, one patch per migration, in run order),
/// several. In a tree that defines the API each migration is its own series.
fn fired(rules: &[Rule], run: &RunResult, opts: &Options) -> Result<Vec<usize>> {
    let mut fired: Vec<usize> = run
        .sites()
        .filter(|(_, s)| s.site.outcome != Outcome::Compat)
        .map(|(_, s)| s.rule)
        .collect();
    fired.sort();
    fired.dedup();
    let staged = opts.callers_only && opts.base_patch.is_none();
    if fired.len() > 1 && (!staged || opts.split == Split::Arch) {
        let ids: Vec<&str> = fired.iter().map(|&r| rules[r].id.as_str()).collect();
        bail!(
            "sites of several rules were found ({}): a series is one migration (several only with --target, and without --split arch); pick one with --rule",
            ids.join(", ")
        );
    }
    Ok(fired)
}

/// The changed files grouped by arch, in the order of each group's first file.
fn arch_groups(changed: &[&FileResult]) -> Vec<(String, Vec<usize>)> {
    let mut groups: Vec<(String, Vec<usize>)> = Vec::new();
    for (i, f) in changed.iter().enumerate() {
        let g = kbuild::arch_group(&f.rel);
        match groups.iter_mut().find(|x| x.0 == g) {
            Some(x) => x.1.push(i),
            None => groups.push((g, vec![i])),
        }
    }
    groups
}

/// The files each arch group's check builds; the `generic` group's once more for each
/// `--generic-arch`.
fn to_check<'r>(
    run: &'r RunResult,
    changed: &[&'r FileResult],
    groups: &[(String, Vec<usize>)],
    opts: &Options,
) -> Vec<(String, Vec<kbuild::Touched<'r>>)> {
    let mut to_check = check_files(run, changed, groups);
    if let Some((_, generic)) = to_check.iter().find(|(g, _)| g == "generic").cloned() {
        for a in &opts.generic_arches {
            to_check.push((format!("generic-{a}"), generic.clone()));
        }
    }
    to_check
}

/// Each group's toolchain and objects, where kcodemod knows a cross compiler for it.
fn resolve(
    tree: &Path,
    to_check: &[(String, Vec<kbuild::Touched>)],
    opts: &Options,
) -> Vec<Option<Resolved>> {
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
}

impl Draft<'_> {
    /// `diffs/<group>.diff`, one per arch group.
    fn write_arch_diffs(&self) -> Result<()> {
        for (g, files) in &self.groups {
            let diff = self.diff_of(files);
            write_file(&self.out.join("diffs").join(format!("{g}.diff")), &diff)?;
        }
        Ok(())
    }

    /// The changes of these files, one after the other.
    fn diff_of(&self, files: &[usize]) -> Vec<u8> {
        files
            .iter()
            .flat_map(|&i| self.diffs[i].iter().copied())
            .collect()
    }

    /// Who MAINTAINERS says should see a change to these files.
    fn recipients(&self, files: &[usize]) -> Recipients {
        match &self.maintainers {
            Some(m) => m.recipients(files.iter().map(|&i| self.changed[i].rel.as_str())),
            None => Recipients::default(),
        }
    }

    /// The patches, before numbering: one migration's plan, or one stage per migration.
    fn patches(&self, rule: &Rule, fired: &[usize]) -> Result<Vec<Patch>> {
        let (rules, opts) = (self.rules, self.opts);
        let mut patches = if fired.len() > 1 {
            stage_patches(rules, fired, &self.changed, opts)
        } else {
            plan_patches(rules, rule, &self.changed, &self.groups, opts)?
        };
        if opts.compat {
            for p in patches.iter_mut().filter(|p| p.verbatim.is_none()) {
                p.body.push('\n');
                p.body.push_str(COMPAT_NOTE);
            }
        }
        Ok(patches)
    }

    /// `patches/NNNN-subject.patch`, numbered; returns each one's file name and subject.
    fn write_patches(&self, patches: Vec<Patch>) -> Result<Vec<(String, String)>> {
        let opts = self.opts;
        let n = patches.len();
        let mut names = Vec::new();
        for (k, p) in patches.into_iter().enumerate() {
            let num = k + 1;
            let name = opts.file_name(num, &slug(&p.subject));
            let text = match &p.verbatim {
                Some(v) => renumber(v, &opts.tag(num, n)),
                None => {
                    let diff = p.diff.clone().unwrap_or_else(|| self.diff_of(&p.files));
                    let subject = format!("{} {}", opts.tag(num, n), p.subject);
                    mbox(opts, &subject, &self.recipients(&p.files), &p.body, &diff)
                }
            };
            write_file(&self.out.join("patches").join(&name), &text)?;
            names.push((name, p.subject));
        }
        Ok(names)
    }

    /// The INCOMPLETE line of a series that leaves sites on the old API, or whose new API
    /// nothing brings: said first, everywhere a reader starts.
    fn incomplete(&self, fired: &[usize], resolved: &[Option<Resolved>]) -> Result<Option<String>> {
        let left = crate::verdict::incomplete(self.run, self.rules)
            .first()
            .map(|i| crate::verdict::incomplete_line(i, &left_symbols(self.run, resolved)));
        let missing = missing_api(self.tree, self.rules, fired, self.opts)?;
        Ok(match (left, missing) {
            (Some(l), Some(m)) => Some(format!("{l}; and {m}")),
            (Some(l), None) => Some(l),
            (None, Some(m)) => Some(format!("INCOMPLETE: {m}")),
            (None, None) => None,
        })
    }

    /// `patches/0000-cover-letter.patch`, to everyone any patch goes to.
    fn write_cover(
        &self,
        rule: &Rule,
        fired: &[usize],
        names: &[(String, String)],
        incomplete: Option<&str>,
        base: Option<&str>,
    ) -> Result<()> {
        let every_file: Vec<usize> = (0..self.changed.len()).collect();
        let fired_rules: Vec<&Rule> = match fired.is_empty() {
            true => vec![rule],
            false => fired.iter().map(|&r| &self.rules[r]).collect(),
        };
        let cover = Cover {
            patches: names,
            to: &self.recipients(&every_file),
            incomplete,
        };
        let mut text = cover_letter(
            &fired_rules,
            self.run,
            &self.changed,
            &self.diffs,
            self.opts,
            &cover,
        );
        if let Some(sha) = base {
            base_commit_trailer(&mut text, sha);
        }
        let name = self.opts.file_name(0, "cover-letter");
        write_file(&self.out.join("patches").join(name), text.as_bytes())
    }

    /// `check/<group>.sh` for each group kcodemod can build (or `check/module.sh`, for a
    /// module directory moved to a newer kernel: built against it, not configured as a kernel
    /// tree of its own), and `check/all.sh` running them.
    fn write_checks(&self, resolved: Vec<Option<Resolved>>, base: Option<&str>) -> Result<Scripts> {
        let opts = self.opts;
        let mut s = Scripts::default();
        let module = opts.target.is_some() && !module_check::is_kernel_tree(self.tree);
        s.module = module;
        if module {
            write_module_check(self.tree, opts, base, self.out)?;
            s.scripted.push("module".to_string());
        }
        let touched = check::touched_files(&self.changed);
        for (g, tc, objects) in resolved.into_iter().flatten().filter(|_| !module) {
            s.builds.extend(plan::builds(&g, &tc, &objects));
            let script = check::group_script(&g, &tc, &objects, base, &touched);
            let path = self.out.join("check").join(format!("{g}.sh"));
            write_file(&path, script.as_bytes())?;
            make_executable(&path)?;
            s.scripted.push(g.clone());
            s.checks.push((g, objects));
        }
        let all = self.out.join("check/all.sh");
        write_file(&all, check::all_script(&s.scripted).as_bytes())?;
        make_executable(&all)?;
        Ok(s)
    }

    /// `check/tuxmake.sh` and `check/tuxsuite-plan.yaml`, when there are kernel-tree builds (a
    /// module's check builds against another kernel: none to plan).
    fn write_build_plans(&self, rule: &Rule, builds: &[plan::Build]) -> Result<()> {
        if builds.is_empty() {
            return Ok(());
        }
        let tuxmake = self.out.join("check/tuxmake.sh");
        write_file(&tuxmake, plan::tuxmake_script(builds).as_bytes())?;
        make_executable(&tuxmake)?;
        write_file(
            &self.out.join("check/tuxsuite-plan.yaml"),
            plan::tuxsuite_plan(&rule.id, builds).as_bytes(),
        )
    }

    /// checkpatch over the patches as written (the cover letter has no code to check).
    fn checkpatch(&self, names: &[(String, String)]) -> checkpatch::Checked {
        if !self.opts.checkpatch {
            return checkpatch::Checked::Skipped("--no-checkpatch".into());
        }
        let paths: Vec<PathBuf> = names
            .iter()
            .map(|(name, _)| self.out.join("patches").join(name))
            .collect();
        checkpatch::run(self.tree, &paths)
    }
}
