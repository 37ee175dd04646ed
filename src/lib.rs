//! kcodemod: rule-driven API migrations on Linux kernel C trees.
//!
//! Data flow: `rule` (compiled rule files) → `walk` (candidate files, literal prefilter) →
//! `parse` (the parse view and tree-sitter) → `struct_to_ops` (proofs and edit plans) →
//! `edit` (one sorted, disjoint edit set per file) → `pipeline` (rayon over files, results in
//! path order) → `report` (diagnostics, diffs, JSON Lines) and `write` (atomic rewrites).

pub mod cli;
pub mod compat;
pub mod edit;
pub mod elsewhere;
pub mod emit;
pub mod fixture;
pub mod includes;
pub mod kinds;
pub mod model;
pub mod parse;
pub mod pipeline;
pub mod report;
pub mod rule;
pub mod target;
pub mod tree;
pub mod verdict;
pub mod walk;
pub mod write;

// The kinds' old paths, kept for the code and tests that name them.
pub use kinds::{callback_signature, struct_retype, struct_to_ops};

use std::io::{self, Write};
use std::time::Duration;

use anyhow::Result;

use cli::{Cli, Command, Common, RunArgs};

/// Exit codes, as documented in `--help` and the README.
pub const EXIT_OK: i32 = 0;
pub const EXIT_FINDINGS: i32 = 1;
pub const EXIT_ERROR: i32 = 2;
/// SIGINT/SIGTERM: `apply` renamed nothing (its new texts are written all before any rename).
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

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Diff,
    Apply { keep_going: bool },
    Check,
}

/// Run a parsed command line; returns the exit code. Output goes to the given writers so
/// tests can drive the tool in-process.
pub fn run(cli: Cli, out: &mut dyn Write, err: &mut dyn Write) -> Result<i32> {
    match cli.command {
        Command::Diff(a) => run_tree(a, Mode::Diff, out, err),
        Command::Apply(a) => {
            let mode = Mode::Apply {
                keep_going: a.keep_going,
            };
            run_tree(a.run, mode, out, err)
        }
        Command::Check(a) => run_tree(a, Mode::Check, out, err),
        Command::Series(a) => run_series(*a, out, err),
        Command::Rules { rules } => {
            let all = if rules.is_empty() {
                rule::bundled()?
            } else {
                rule::select(&rules)?
            };
            for r in all {
                writeln!(
                    out,
                    "{}\t{}\t{}\t{}",
                    r.id,
                    r.kind.name(),
                    r.source.display(),
                    r.summary
                )?;
            }
            Ok(EXIT_OK)
        }
        Command::Test { rules, fixtures } => {
            let mut failed = 0;
            // Every bundled rule's fixtures, also those of rules that run only when named.
            let all = if rules.is_empty() {
                rule::bundled()?
            } else {
                rule::select(&rules)?
            };
            let mut untested = 0;
            for r in all {
                let dir = fixtures_dir(&r, fixtures.as_deref())?;
                let cases =
                    fixture::cases(&dir).map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?;
                // A rule without a case tested nothing: that is not a pass.
                if cases.is_empty() {
                    untested += 1;
                    writeln!(
                        err,
                        "kcodemod: {}: no fixture case (NAME.c) in {}: nothing was tested",
                        r.id,
                        dir.display()
                    )?;
                }
                for case in cases {
                    let v = fixture::check(&r, &case)?;
                    if v != fixture::Verdict::Pass {
                        failed += 1;
                    }
                    writeln!(out, "{}/{}: {v}", r.id, case.name)?;
                }
            }
            Ok(if untested > 0 {
                EXIT_ERROR
            } else if failed > 0 {
                EXIT_FINDINGS
            } else {
                EXIT_OK
            })
        }
    }
}

/// Where a rule's fixture cases live: `--fixtures DIR/<id>`, else the source tree the binary
/// was built from (bundled rules), else `fixtures/<id>` beside the rule file's directory.
fn fixtures_dir(r: &rule::Rule, given: Option<&std::path::Path>) -> Result<std::path::PathBuf> {
    if let Some(d) = given {
        return Ok(d.join(&r.id));
    }
    let mut tried = Vec::new();
    if rule::BUNDLED
        .iter()
        .any(|(p, _)| std::path::Path::new(p) == r.source)
    {
        tried.push(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures"));
    }
    if let Some(rules_dir) = r.source.parent() {
        tried.push(rules_dir.join("..").join("fixtures"));
    }
    let found = tried.iter().map(|d| d.join(&r.id)).find(|d| d.is_dir());
    found.ok_or_else(|| {
        let tried: Vec<_> = tried
            .iter()
            .map(|d| d.join(&r.id).display().to_string())
            .collect();
        anyhow::anyhow!(
            "{}: no fixtures found (looked in {}); pass --fixtures DIR, DIR holding {}/",
            r.id,
            tried.join(", "),
            r.id
        )
    })
}

/// With `--target`, the rules its headers call for (told on stderr, with why), else all
/// selected ones.
fn target_rules(a: &RunArgs, err: &mut dyn Write) -> Result<Vec<rule::Rule>> {
    let rules = rule::select_from(&a.rules, a.target.is_some())?;
    let Some(t) = &a.target else {
        return Ok(rules);
    };
    match std::fs::metadata(t) {
        Err(e) => anyhow::bail!("--target {}: {}", t.display(), pipeline::io_why(&e)),
        Ok(m) if !m.is_dir() => anyhow::bail!("--target {}: not a directory", t.display()),
        Ok(_) => {}
    }
    let mut chosen = Vec::new();
    for c in target::choose(t, &rules) {
        let verdict = if c.chosen { "applies" } else { "skipped" };
        writeln!(
            err,
            "kcodemod: rule {}: {verdict}: {}",
            rules[c.rule].id, c.why
        )?;
        if c.chosen {
            chosen.push(rules[c.rule].clone());
        }
    }
    if chosen.is_empty() {
        anyhow::bail!(
            "--target {}: no rule applies (its headers have none of the new APIs the rules know)",
            t.display()
        );
    }
    Ok(chosen)
}

/// Worker threads: none or 0 means one per CPU; more than 4 per CPU only adds threads and
/// memory (the work is parsing, bound by the CPUs; the extra ones cover reads from a cold
/// cache), so a larger number is capped, with a message.
fn jobs(asked: Option<usize>, err: &mut dyn Write) -> io::Result<usize> {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let max = 4 * cpus;
    Ok(match asked {
        None | Some(0) => cpus,
        Some(n) if n > max => {
            writeln!(err, "kcodemod: -j {n} capped to {max} (4 per CPU)")?;
            max
        }
        Some(n) => n,
    })
}

fn config(a: &RunArgs, c: &Common, err: &mut dyn Write) -> Result<pipeline::Config> {
    let mut rules = target_rules(a, err)?;
    if a.compat {
        rules = compat::choose(rules, err)?;
    }
    let (tree, paths) = pipeline::resolve(&a.tree, &a.paths)?;
    let tree_has_new = tree_has_new(&tree, &rules, c.quiet, err)?;
    Ok(pipeline::Config {
        tree_has_new,
        macros: std::sync::Arc::new(parse::Macros::learn(&tree)),
        tree,
        paths,
        rules,
        jobs: jobs(c.jobs, err)?,
        max_size: c.max_size,
        parse_timeout: Duration::from_millis(c.parse_timeout_ms),
        // With a target, the API is the target's: only callers convert.
        api: a.target.is_none(),
        compat: a.compat,
        target: a
            .target
            .as_deref()
            .map(|t| std::sync::Arc::new(includes::Target::new(t))),
    })
}

/// Per rule: does the tree's own header already hold a struct-retype rule's new API? Then the
/// tree builds only where registrations pass the new type (told once on stderr).
fn tree_has_new(
    tree: &std::path::Path,
    rules: &[rule::Rule],
    quiet: bool,
    err: &mut dyn Write,
) -> Result<Vec<bool>> {
    let mut out = Vec::with_capacity(rules.len());
    for r in rules {
        let new = r
            .kind
            .reads_tree_api()
            .then(|| target::tree_has_new_api(tree, r))
            .flatten();
        if let Some(why) = &new
            && !quiet
        {
            writeln!(
                err,
                "kcodemod: rule {}: this tree's {why}: a registration whose struct the file \
                 does not define is taken to be of the new type",
                r.id
            )?;
        }
        out.push(new.is_some());
    }
    Ok(out)
}

/// A run that read no C file checked nothing: say so (exit code 2), rather than pass.
fn nothing_read(res: &pipeline::RunResult, err: &mut dyn Write) -> io::Result<bool> {
    if res.files_read > 0 {
        return Ok(false);
    }
    writeln!(
        err,
        "kcodemod: no C file (.c or .h) was read under {}: nothing was checked",
        res.tree.display()
    )?;
    Ok(true)
}

fn run_series(a: cli::SeriesArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<i32> {
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
    if let Some(line) = emit::series::not_built_line(&w.not_built) {
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

fn run_tree(a: RunArgs, mode: Mode, out: &mut dyn Write, err: &mut dyn Write) -> Result<i32> {
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
        report::diagnostics(&res, &cfg.rules, err, a.common.color.enabled())?;
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
        Mode::Diff | Mode::Apply { .. } => verdict::incomplete(&res),
    };
    if a.common.json {
        report::json_incomplete(&incomplete, &cfg.rules, out)?;
    } else {
        report::incomplete(&incomplete, &cfg.rules, err)?;
        // --compat code builds on both sides of its version check: no note.
        if mode != Mode::Check && a.target.is_none() && !a.compat && !a.common.quiet {
            api_notes(&res, &cfg.rules, err)?;
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

/// Broken pipes end the program quietly, as for any Unix filter.
pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}
