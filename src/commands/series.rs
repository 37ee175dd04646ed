//! `series`: the walk, then a reviewable, build-checked patch series in OUTDIR.

use std::io::Write;
use std::path::Path;

use anyhow::Result;

use super::{config, nothing_read};
use crate::cli;
use crate::{EXIT_ERROR, EXIT_FINDINGS, EXIT_INTERRUPTED, EXIT_OK, interrupted};
use crate::{emit, pipeline, report, rule};

pub fn run(a: cli::SeriesArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<i32> {
    let mut cfg = config(&a.run, &a.run.common, err)?;
    cfg.api = a.base_patch.is_none() && a.run.target.is_none();
    let edits = local_edits(&cfg.tree);
    if !a.allow_dirty {
        refuse_dirty(&cfg.tree, &edits)?;
    }
    if let Some(p) = &a.base_patch {
        check_base_patch(&cfg.tree, p, &cfg.rules)?;
    }
    let author = author(&a)?;
    // Dates are checked before any work: a bad one would be written into every patch.
    let date = date(&a)?;
    emit::series::check_output_dir(&a.out)?;
    let prefixes = prefixes(&a)?;
    let defconfigs = defconfigs(&a)?;
    for g in &a.generic_arches {
        if emit::kbuild::toolchain(g).is_none() {
            anyhow::bail!("--generic-arch {g}: no known toolchain for this ARCH");
        }
    }
    let counters = std::sync::Arc::new(pipeline::Counters::default());
    let progress = report::progress::Progress::start(
        !a.run.common.quiet && !a.run.common.json,
        counters.clone(),
    );
    let res = pipeline::run(&cfg, &counters);
    drop(progress);
    // An interrupted walk saw part of the tree: a series from it would be silently partial.
    if interrupted() {
        writeln!(err, "kcodemod: interrupted before anything was written")?;
        return Ok(EXIT_INTERRUPTED);
    }
    report::diagnostics(&res, &cfg.rules, err, a.run.common.color.enabled())?;
    if nothing_read(&res, err)? {
        return Ok(EXIT_ERROR);
    }
    let opts = emit::series::Options {
        out: a.out.clone(),
        split: a.split,
        author,
        date,
        base_patch: a.base_patch.clone(),
        prefixes,
        generic_arches: a.generic_arches.clone(),
        defconfigs,
        reroll: a.reroll,
        subject_prefix: a.subject_prefix.clone(),
        to: a.to.clone(),
        cc: a.cc.clone(),
        checkpatch: !a.no_checkpatch,
        quick: a.quick,
        callers_only: !cfg.api,
        // Local edits go into the patches: they apply to the working tree, not to HEAD.
        dirty: !edits.is_empty(),
        compat: cfg.compat,
        // The check scripts run from anywhere: the target as an absolute path.
        target: a
            .run
            .target
            .as_ref()
            .map(|t| t.canonicalize().unwrap_or(t.clone())),
        target_build: a
            .target_build
            .as_ref()
            .map(|t| t.canonicalize().unwrap_or(t.clone())),
        top: cfg
            .tree
            .file_name()
            .map_or_else(|| "treewide".into(), |n| n.to_string_lossy().into_owned()),
    };
    let w = emit::series::write(&cfg.tree, &cfg.rules, &res, &opts)?;
    tell(&a, &res, &w, out, err)?;
    for line in crate::emit::series::heads(w.incomplete.as_deref(), &w.not_compiled, &w.not_built) {
        writeln!(err, "kcodemod: {line}")?;
    }
    if a.run.target.is_none() && !cfg.paths.is_empty() {
        super::tree::definition_outside_paths(&res, &cfg.rules, err)?;
    }
    Ok(if res.errors() + res.unchecked() > 0 {
        EXIT_ERROR
    } else if w.incomplete.is_some() {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    })
}

/// `Name <mail>` for From: and Signed-off-by:, from --signoff or git's config.
fn author(a: &cli::SeriesArgs) -> Result<String> {
    match a.signoff.clone() {
        Some(s) => Ok(s),
        None => git_ident(&a.run.tree)
            .ok_or_else(|| anyhow::anyhow!("no --signoff given and no git user.name/user.email"))
            .and_then(|i| {
                emit::mail::ident(&i)
                    .map_err(|e| anyhow::anyhow!("git user.name/user.email {i:?}: {e}"))
            }),
    }
}

/// Every patch's date, RFC 2822: --date, else SOURCE_DATE_EPOCH, else now.
fn date(a: &cli::SeriesArgs) -> Result<String> {
    let d = match (&a.date, std::env::var("SOURCE_DATE_EPOCH").ok()) {
        (Some(d), _) => emit::mail::Date::parse(d)?,
        (None, Some(secs)) => emit::mail::Date::from_epoch_var(&secs)?,
        (None, None) => emit::mail::Date::now()?,
    };
    Ok(d.rfc2822())
}

/// `--prefix GROUP=PREFIX`, each checked to be header text.
fn prefixes(a: &cli::SeriesArgs) -> Result<std::collections::BTreeMap<String, String>> {
    let mut prefixes = std::collections::BTreeMap::new();
    for p in &a.prefixes {
        let (g, v) = p
            .split_once('=')
            .ok_or_else(|| anyhow::anyhow!("--prefix {p}: expected GROUP=PREFIX"))?;
        emit::mail::header_text(v).map_err(|e| anyhow::anyhow!("--prefix {p:?}: {e}"))?;
        prefixes.insert(g.to_string(), v.to_string());
    }
    Ok(prefixes)
}

/// `--defconfig ARCH=NAME`.
fn defconfigs(a: &cli::SeriesArgs) -> Result<std::collections::BTreeMap<String, String>> {
    let mut defconfigs = std::collections::BTreeMap::new();
    for d in &a.defconfigs {
        let (arch, name) = d
            .split_once('=')
            .filter(|(a, n)| !a.is_empty() && !n.is_empty())
            .ok_or_else(|| anyhow::anyhow!("--defconfig {d}: expected ARCH=NAME"))?;
        defconfigs.insert(arch.to_string(), name.to_string());
    }
    Ok(defconfigs)
}

/// What was written: one JSON record, or the summary and where the series went.
fn tell(
    a: &cli::SeriesArgs,
    res: &pipeline::RunResult,
    w: &emit::series::Written,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<()> {
    if a.run.common.json {
        // One record: where the series went, what it holds, and its verdict.
        let rec = serde_json::json!({
            "type": "series",
            "out": a.out,
            "series": w,
            "converted": res.converted(),
            "flagged": res.flagged(),
            "unchecked": res.unchecked(),
            "errors": res.errors(),
        });
        writeln!(out, "{rec}")?;
    } else if !a.run.common.quiet {
        writeln!(err, "{}", report::summary(res))?;
        writeln!(err, "kcodemod: {}", w.checkpatch)?;
        writeln!(
            out,
            "{}: {} patches, arch groups: {}",
            a.out.display(),
            w.patches,
            w.groups.join(" ")
        )?;
    }
    Ok(())
}

/// `Name <mail>` from git config, as `git format-patch` would use.
fn git_ident(tree: &std::path::Path) -> Option<String> {
    let get = |k: &str| {
        let o = std::process::Command::new("git")
            .arg("-C")
            .arg(tree)
            .args(["config", k])
            .output()
            .ok()?;
        let v = String::from_utf8(o.stdout).ok()?.trim().to_string();
        (!v.is_empty()).then_some(v)
    };
    Some(format!("{} <{}>", get("user.name")?, get("user.email")?))
}

/// `git status` of TREE (tracked changes, and untracked C files not ignored): a series is
/// based on HEAD (`base-commit:`), so local edits would go into patches that do not apply to
/// it. Outside git there is no base to disagree with.
/// Tracked files with local changes, and untracked C files, in TREE's git work tree.
fn local_edits(tree: &Path) -> Vec<String> {
    let Some(o) = git(
        tree,
        &[
            "status",
            "--porcelain",
            "-z",
            "--untracked-files=all",
            "--",
            ".",
        ],
    ) else {
        return Vec::new();
    };
    o.split('\0')
        .filter(|e| e.len() > 3)
        .filter(|e| !e.starts_with("??") || e.ends_with(".c") || e.ends_with(".h"))
        .map(|e| e[3..].to_string())
        .collect()
}

fn refuse_dirty(tree: &Path, dirty: &[String]) -> Result<()> {
    if let Some(first) = dirty.first() {
        anyhow::bail!(
            "{}: the working tree has local edits ({first}{}): the series would carry them into \
             patches based on HEAD, which then do not apply there; commit or stash them, or pass \
             --allow-dirty to include them",
            tree.display(),
            match dirty.len() {
                1 => String::new(),
                n => format!(" and {} more", n - 1),
            }
        );
    }
    Ok(())
}

/// A `--base-patch` becomes patch 1 as it is: it must apply to TREE (`git apply --check`) and
/// change the API side, a header of a rule's (its `[target]` header, or one holding a rule's
/// literal), else the series built on it cannot be what it says.
fn check_base_patch(tree: &Path, patch: &Path, rules: &[rule::Rule]) -> Result<()> {
    let abs = std::path::absolute(patch)?;
    let text = std::fs::read(&abs)
        .map_err(|e| anyhow::anyhow!("--base-patch {}: {}", patch.display(), e))?;
    let o = std::process::Command::new("git")
        .arg("-C")
        .arg(tree)
        .args(["apply", "--check"])
        .arg(&abs)
        .output()
        .map_err(|e| {
            anyhow::anyhow!(
                "--base-patch {}: cannot run git apply: {e}",
                patch.display()
            )
        })?;
    if !o.status.success() {
        let why = String::from_utf8_lossy(&o.stderr);
        let why = why.lines().next().unwrap_or("git apply --check failed");
        anyhow::bail!(
            "--base-patch {}: does not apply to {} ({why}); nothing was written",
            patch.display(),
            tree.display()
        );
    }
    let changed = changed_paths(&text);
    let api_side = |path: &str| {
        rules.iter().any(|r| {
            r.target.as_ref().is_some_and(|t| t.header == path)
                || path.ends_with(".h")
                    && std::fs::read(tree.join(path)).is_ok_and(|b| {
                        r.prefilter
                            .iter()
                            .any(|l| b.windows(l.len()).any(|w| w == l.as_bytes()))
                    })
        })
    };
    if !changed.iter().any(|p| api_side(p)) {
        let ids: Vec<&str> = rules.iter().map(|r| r.id.as_str()).collect();
        anyhow::bail!(
            "--base-patch {}: it changes no header of the API ({}): it changes {}; a base patch \
             must make the API change the callers are converted to; nothing was written",
            patch.display(),
            ids.join(", "),
            if changed.is_empty() {
                "no file".to_string()
            } else {
                changed.join(", ")
            }
        );
    }
    Ok(())
}

/// The paths a unified diff changes (`--- a/P` and `+++ b/P`, without `/dev/null`).
fn changed_paths(patch: &[u8]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for l in String::from_utf8_lossy(patch).lines() {
        let p = l
            .strip_prefix("+++ b/")
            .or_else(|| l.strip_prefix("--- a/"))
            .map(|p| p.trim_end().to_string());
        if let Some(p) = p
            && !out.contains(&p)
        {
            out.push(p);
        }
    }
    out
}

/// `git -C tree ARGS`'s stdout, or `None` when TREE is not in a git work tree (or git fails).
fn git(tree: &Path, args: &[&str]) -> Option<String> {
    let o = std::process::Command::new("git")
        .arg("-C")
        .arg(tree)
        .args(args)
        .output()
        .ok()?;
    o.status
        .success()
        .then(|| String::from_utf8_lossy(&o.stdout).into_owned())
}
