//! kcodemod: rule-driven API migrations on Linux kernel C trees.
//!
//! Data flow: `rule` (compiled rule files) → `walk` (candidate files, literal prefilter) →
//! `parse` (the parse view and tree-sitter) → `struct_to_ops` (proofs and edit plans) →
//! `edit` (one sorted, disjoint edit set per file) → `pipeline` (rayon over files, results in
//! path order) → `report` (diagnostics, diffs, JSON Lines) and `write` (atomic rewrites).

pub mod cli;
pub mod edit;
pub mod emit;
pub mod fixture;
pub mod parse;
pub mod pipeline;
pub mod report;
pub mod rule;
pub mod struct_to_ops;
pub mod walk;
pub mod write;

use std::io::{self, Write};
use std::time::Duration;

use anyhow::Result;

use cli::{Cli, Command, Common, RunArgs};

/// Exit codes, as documented in `--help` and the README.
pub const EXIT_OK: i32 = 0;
pub const EXIT_FINDINGS: i32 = 1;
pub const EXIT_ERROR: i32 = 2;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Diff,
    Apply,
    Check,
}

/// Run a parsed command line; returns the exit code. Output goes to the given writers so
/// tests can drive the tool in-process.
pub fn run(cli: Cli, out: &mut dyn Write, err: &mut dyn Write) -> Result<i32> {
    match cli.command {
        Command::Diff(a) => run_tree(a, Mode::Diff, out, err),
        Command::Apply(a) => run_tree(a, Mode::Apply, out, err),
        Command::Check(a) => run_tree(a, Mode::Check, out, err),
        Command::Series(a) => run_series(a, out, err),
        Command::Rules { rules } => {
            for r in rule::select(&rules)? {
                writeln!(out, "{}\t{}\t{}", r.id, r.source.display(), r.summary)?;
            }
            Ok(EXIT_OK)
        }
        Command::Test { rules, fixtures } => {
            let mut failed = 0;
            for r in rule::select(&rules)? {
                let dir = fixtures.join(&r.id);
                for case in
                    fixture::cases(&dir).map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?
                {
                    let v = fixture::check(&r, &case)?;
                    if v != fixture::Verdict::Pass {
                        failed += 1;
                    }
                    writeln!(out, "{}/{}: {v}", r.id, case.name)?;
                }
            }
            Ok(if failed > 0 { EXIT_FINDINGS } else { EXIT_OK })
        }
    }
}

fn config(a: &RunArgs, c: &Common) -> Result<pipeline::Config> {
    let rules = rule::select(&a.rules)?;
    if !a.tree.is_dir() {
        anyhow::bail!("{}: not a directory", a.tree.display());
    }
    Ok(pipeline::Config {
        tree: a.tree.clone(),
        paths: a.paths.clone(),
        rules,
        jobs: c
            .jobs
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())),
        max_size: c.max_size,
        parse_timeout: Duration::from_millis(c.parse_timeout_ms),
        api: true,
    })
}

fn run_series(a: cli::SeriesArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<i32> {
    let mut cfg = config(&a.run, &a.run.common)?;
    cfg.api = a.base_patch.is_none();
    let author = match a.signoff.clone() {
        Some(s) => s,
        None => git_ident(&a.run.tree)
            .ok_or_else(|| anyhow::anyhow!("no --signoff given and no git user.name/user.email"))?,
    };
    let date = match (
        &a.date,
        std::env::var("SOURCE_DATE_EPOCH")
            .ok()
            .and_then(|s| s.parse::<u64>().ok()),
    ) {
        (Some(d), _) => d.clone(),
        (None, Some(secs)) => {
            httpdate::fmt_http_date(std::time::UNIX_EPOCH + Duration::from_secs(secs))
        }
        (None, None) => httpdate::fmt_http_date(std::time::SystemTime::now()),
    };
    let mut prefixes = std::collections::BTreeMap::new();
    for p in &a.prefixes {
        let (g, v) = p
            .split_once('=')
            .ok_or_else(|| anyhow::anyhow!("--prefix {p}: expected GROUP=PREFIX"))?;
        prefixes.insert(g.to_string(), v.to_string());
    }
    let res = pipeline::run(&cfg);
    report::diagnostics(&res, &cfg.rules, err)?;
    let opts = emit::series::Options {
        out: a.out.clone(),
        split: a.split,
        author,
        date,
        base_patch: a.base_patch.clone(),
        prefixes,
    };
    let w = emit::series::write(&cfg.tree, &cfg.rules, &res, &opts)?;
    if !a.run.common.quiet {
        writeln!(err, "{}", report::summary(&res))?;
        writeln!(
            out,
            "{}: {} patches, arch groups: {}",
            a.out.display(),
            w.patches,
            w.groups.join(" ")
        )?;
    }
    Ok(if res.problems.is_empty() {
        EXIT_OK
    } else {
        EXIT_ERROR
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

fn run_tree(a: RunArgs, mode: Mode, out: &mut dyn Write, err: &mut dyn Write) -> Result<i32> {
    let cfg = config(&a, &a.common)?;
    let res = pipeline::run(&cfg);
    let mut errors = res.problems.len();
    if mode == Mode::Diff && !a.common.json {
        for f in &res.files {
            out.write_all(&report::file_diff(f))?;
        }
    }
    if mode == Mode::Apply {
        for f in &res.files {
            if let Some(new) = &f.new
                && let Err(e) = write::replace(&f.path, &f.original, new)
            {
                writeln!(err, "{}: {e}", f.path.display())?;
                errors += 1;
            }
        }
    }
    if a.common.json {
        report::json(&res, &cfg.rules, out)?;
    } else {
        report::diagnostics(&res, &cfg.rules, err)?;
    }
    if !a.common.quiet && !a.common.json {
        writeln!(err, "{}", report::summary(&res))?;
    }
    Ok(if errors > 0 {
        EXIT_ERROR
    } else if mode == Mode::Check && res.sites().next().is_some() {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    })
}

/// Broken pipes end the program quietly, as for any Unix filter.
pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}
