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
/// SIGINT/SIGTERM during `apply`: the files already written are complete, the rest untouched.
pub const EXIT_INTERRUPTED: i32 = 130;

static INTERRUPTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Has SIGINT or SIGTERM arrived since [`catch_signals`]?
pub fn interrupted() -> bool {
    INTERRUPTED.load(std::sync::atomic::Ordering::Relaxed)
}

/// From now on SIGINT and SIGTERM only raise a flag: the run stops taking new files, finishes
/// (or discards) the one being written, reports, and exits 130.
pub fn catch_signals() {
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        // SAFETY-free API: the handler only stores to an atomic.
        let _ = unsafe {
            signal_hook::low_level::register(sig, || {
                INTERRUPTED.store(true, std::sync::atomic::Ordering::Relaxed)
            })
        };
    }
}

/// Write every changed file atomically, in path order, until done or interrupted.
/// Returns the paths written and those left unwritten by an interruption. A file that cannot be
/// written becomes a problem of the run, and its sites are no longer claimed as converted.
fn apply(res: &mut pipeline::RunResult) -> (Vec<std::path::PathBuf>, Vec<std::path::PathBuf>) {
    let (mut written, mut left) = (Vec::new(), Vec::new());
    // A test hook: slow writes down so that a signal can land mid-run.
    let delay = std::env::var("KCODEMOD_TEST_WRITE_DELAY_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .map(Duration::from_millis);
    let mut failed = Vec::new();
    for f in res.files.iter_mut().filter(|f| f.new.is_some()) {
        if interrupted() {
            left.push(f.path.clone());
            continue;
        }
        if let Some(d) = delay {
            std::thread::sleep(d);
        }
        match write::replace(&f.path, &f.original, f.new.as_deref().unwrap()) {
            Ok(()) => written.push(f.path.clone()),
            Err(e) => {
                failed.push(walk::Problem {
                    path: f.path.clone(),
                    why: e.to_string(),
                });
                f.new = None;
                for s in &mut f.sites {
                    s.site
                        .unconvert(|| format!("converted, but the file was not written: {e}"));
                }
            }
        }
    }
    res.problems.extend(failed);
    (written, left)
}

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
        macros: std::sync::Arc::new(parse::Macros::learn(&a.tree)),
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
    let progress = report::progress::Progress::start(!a.run.common.quiet && !a.run.common.json);
    let res = pipeline::run(&cfg);
    drop(progress);
    // An interrupted walk saw part of the tree: a series from it would be silently partial.
    if interrupted() {
        writeln!(err, "kcodemod: interrupted before anything was written")?;
        return Ok(EXIT_INTERRUPTED);
    }
    report::diagnostics(&res, &cfg.rules, err, report::use_color(a.run.common.color))?;
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
    Ok(if res.errors() == 0 {
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
    let progress = report::progress::Progress::start(!a.common.quiet && !a.common.json);
    let mut res = pipeline::run(&cfg);
    drop(progress);
    if interrupted() {
        writeln!(err, "kcodemod: interrupted before any file was written")?;
        return Ok(EXIT_INTERRUPTED);
    }
    if mode == Mode::Diff && !a.common.json {
        for f in &res.files {
            out.write_all(&report::file_diff(f))?;
        }
    }
    let mut interrupted = false;
    if mode == Mode::Apply {
        let (written, left) = apply(&mut res);
        if !left.is_empty() {
            interrupted = true;
            writeln!(
                err,
                "kcodemod: interrupted: {} files written, {} not written:",
                written.len(),
                left.len()
            )?;
            for p in &left {
                writeln!(err, "  {}", p.display())?;
            }
        }
    }
    if a.common.json {
        report::json(&res, &cfg.rules, out)?;
    } else {
        report::diagnostics(&res, &cfg.rules, err, report::use_color(a.common.color))?;
    }
    if !a.common.quiet && !a.common.json {
        writeln!(err, "{}", report::summary(&res))?;
    }
    Ok(if interrupted {
        EXIT_INTERRUPTED
    } else if res.errors() > 0 {
        EXIT_ERROR
    } else if mode == Mode::Check && res.findings() > 0 {
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
