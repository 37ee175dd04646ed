//! `diff`, `apply` and `check`: one walk of the tree, then a diff, the writes, or a verdict.

use std::io::Write;

use anyhow::Result;

use super::{config, nothing_read};
use crate::cli::RunArgs;
use crate::{EXIT_ERROR, EXIT_FINDINGS, EXIT_INTERRUPTED, EXIT_OK, interrupted};
use crate::{pipeline, report, rule, target, verdict, write};

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Diff,
    Apply { keep_going: bool },
    Check,
}

pub fn run(a: RunArgs, mode: Mode, out: &mut dyn Write, err: &mut dyn Write) -> Result<i32> {
    let cfg = config(&a, &a.common, err)?;
    let counters = std::sync::Arc::new(pipeline::Counters::default());
    let progress =
        report::progress::Progress::start(!a.common.quiet && !a.common.json, counters.clone());
    let mut res = pipeline::run(&cfg, &counters);
    drop(progress);
    if interrupted() {
        // The walk saw part of the tree: nothing about it is reported as if it were whole.
        writeln!(err, "kcodemod: interrupted before any file was written")?;
        if a.common.json {
            report::json_interrupted(out)?;
        }
        return Ok(EXIT_INTERRUPTED);
    }
    if mode == Mode::Diff && !a.common.json {
        for f in &res.files {
            out.write_all(&report::file_diff(f))?;
        }
    }
    let applied = match mode {
        Mode::Apply { keep_going } => write::apply(&mut res, keep_going),
        _ => write::Applied::default(),
    };
    if a.common.json {
        let lists = applied.interrupted.then_some(&applied.lists);
        report::json(&res, &cfg.rules, lists, out)?;
    } else {
        let color = a.common.color.enabled();
        if mode == Mode::Check {
            report::check_diagnostics(&res, &cfg.rules, err, color)?;
        } else {
            report::diagnostics(&res, &cfg.rules, err, color)?;
        }
    }
    applied.report(err)?;
    let empty = nothing_read(&res, err)?;
    if !a.common.quiet && !a.common.json {
        writeln!(err, "{}", report::summary(&res))?;
    }
    // `check` changes nothing: its verdict is the exit code. A diff or an apply that leaves
    // sites on the old API is a half-done migration, and its last line says so.
    let incomplete = match mode {
        Mode::Check => Vec::new(),
        Mode::Diff | Mode::Apply { .. } => verdict::incomplete(&res, &cfg.rules),
    };
    if a.common.json {
        report::json_incomplete(&incomplete, &cfg.rules, out)?;
    } else {
        report::incomplete(&incomplete, &cfg.rules, err)?;
        // --compat code builds on both sides of its version check: no note.
        if mode != Mode::Check && a.target.is_none() && !a.compat && !a.common.quiet {
            api_notes(&res, &cfg.rules, err)?;
        }
        if a.target.is_none() && !cfg.paths.is_empty() {
            definition_outside_paths(&res, &cfg.rules, err)?;
        }
    }
    Ok(if applied.interrupted {
        EXIT_INTERRUPTED
    } else if empty || res.errors() > 0 || res.unchecked() > 0 {
        EXIT_ERROR
    } else if mode == Mode::Check && res.findings() > 0 || !incomplete.is_empty() {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    })
}

/// A callers-only migration that changed files for a tree without its new API: the tree
/// builds once that API change is in (a note: converting callers only is what was asked).
fn api_notes(res: &pipeline::RunResult, rules: &[rule::Rule], err: &mut dyn Write) -> Result<()> {
    for (r, rule) in rules.iter().enumerate() {
        let changed = res.files.iter().any(|f| f.changed_by.contains(&r));
        if changed
            && rule.kind.callers_only()
            && let Some(what) = target::api_lacking(&res.tree, rule)
        {
            writeln!(
                err,
                "kcodemod: note: {}: the callers now use {what}, which this tree does not have: it builds once that API change is in",
                rule.id
            )?;
        }
    }
    Ok(())
}

/// A run restricted to some paths (`diff TREE mm fs/proc`) that met a struct-to-ops rule's
/// callers but not the old struct's definition: the migration converts the struct with its
/// callers, so either every site is blocked or the callers change while the tree's API stays
/// old. Say which file holds the definition: add it to the paths, or run on the whole tree.
pub(crate) fn definition_outside_paths(
    res: &pipeline::RunResult,
    rules: &[rule::Rule],
    err: &mut dyn Write,
) -> Result<()> {
    for (r, rule) in rules.iter().enumerate() {
        let Some(old_struct) = rule.kind.converted_struct() else {
            continue;
        };
        if old_struct.is_empty() || rule.kind.callers_only() {
            continue;
        }
        let the_struct = format!("struct {old_struct}");
        let sites = || res.sites().filter(|(_, s)| s.rule == r);
        if sites().next().is_none() || sites().any(|(_, s)| s.site.function == the_struct) {
            continue;
        }
        let homes = definition_files(&res.tree, old_struct);
        if homes.is_empty() {
            continue;
        }
        writeln!(
            err,
            "kcodemod: note: {}: {the_struct} is defined in {}, outside the paths given; the \
             migration converts it with its callers: add {} to the paths, or run on the whole tree",
            rule.id,
            homes.join(", "),
            homes.join(" ")
        )?;
    }
    Ok(())
}

/// The headers of `tree` (relative paths, sorted) that define `struct NAME {`.
fn definition_files(tree: &std::path::Path, name: &str) -> Vec<String> {
    let Ok(re) = regex::bytes::Regex::new(&format!(r"\bstruct\s+{}\s*\{{", regex::escape(name)))
    else {
        return Vec::new();
    };
    let finder = memchr::memmem::Finder::new(name.as_bytes());
    let mut out: Vec<String> = ignore::WalkBuilder::new(tree)
        .standard_filters(false)
        // Not quilt's `.pc/` copies nor anything under `.git/`.
        .hidden(true)
        .follow_links(false)
        .build()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_some_and(|t| t.is_file()))
        .filter(|e| e.path().extension().is_some_and(|x| x == "h"))
        .filter(|e| {
            std::fs::read(e.path()).is_ok_and(|b| finder.find(&b).is_some() && re.is_match(&b))
        })
        .filter_map(|e| {
            let rel = e.path().strip_prefix(tree).ok()?;
            Some(rel.to_string_lossy().into_owned())
        })
        .collect();
    out.sort();
    out
}
