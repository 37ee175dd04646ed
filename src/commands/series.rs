//! `series`: the walk, then a reviewable, build-checked patch series in OUTDIR.

use std::io::Write;

use anyhow::Result;

use super::{config, nothing_read};
use crate::cli;
use crate::{EXIT_ERROR, EXIT_FINDINGS, EXIT_INTERRUPTED, EXIT_OK, interrupted};
use crate::{emit, pipeline, report};

pub fn run(a: cli::SeriesArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<i32> {
    let mut cfg = config(&a.run, &a.run.common, err)?;
    cfg.api = a.base_patch.is_none() && a.run.target.is_none();
    let author = match a.signoff.clone() {
        Some(s) => s,
        None => git_ident(&a.run.tree)
            .ok_or_else(|| anyhow::anyhow!("no --signoff given and no git user.name/user.email"))
            .and_then(|i| {
                emit::mail::ident(&i)
                    .map_err(|e| anyhow::anyhow!("git user.name/user.email {i:?}: {e}"))
            })?,
    };
    // Dates are checked before any work: a bad one would be written into every patch.
    let date = match (&a.date, std::env::var("SOURCE_DATE_EPOCH").ok()) {
        (Some(d), _) => emit::mail::Date::parse(d)?,
        (None, Some(secs)) => emit::mail::Date::from_epoch_var(&secs)?,
        (None, None) => emit::mail::Date::utc(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64),
        ),
    }
    .rfc2822();
    emit::series::check_output_dir(&a.out)?;
    let mut prefixes = std::collections::BTreeMap::new();
    for p in &a.prefixes {
        let (g, v) = p
            .split_once('=')
            .ok_or_else(|| anyhow::anyhow!("--prefix {p}: expected GROUP=PREFIX"))?;
        emit::mail::header_text(v).map_err(|e| anyhow::anyhow!("--prefix {p:?}: {e}"))?;
        prefixes.insert(g.to_string(), v.to_string());
    }
    let mut defconfigs = std::collections::BTreeMap::new();
    for d in &a.defconfigs {
        let (arch, name) = d
            .split_once('=')
            .filter(|(a, n)| !a.is_empty() && !n.is_empty())
            .ok_or_else(|| anyhow::anyhow!("--defconfig {d}: expected ARCH=NAME"))?;
        defconfigs.insert(arch.to_string(), name.to_string());
    }
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
        writeln!(err, "{}", report::summary(&res))?;
        writeln!(err, "kcodemod: {}", w.checkpatch)?;
        writeln!(
            out,
            "{}: {} patches, arch groups: {}",
            a.out.display(),
            w.patches,
            w.groups.join(" ")
        )?;
    }
    if let Some(line) = &w.incomplete {
        writeln!(err, "kcodemod: {line}")?;
    }
    Ok(if res.errors() + res.unchecked() > 0 {
        EXIT_ERROR
    } else if w.incomplete.is_some() {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    })
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
