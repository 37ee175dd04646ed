//! Command bodies, one module per command: `tree` (diff, apply, check), `series`, `rules`,
//! `test`, `docs` (completions, man page); here the setup the tree-walking commands share (rules, config, empty-run check).

pub mod docs;
pub mod rules;
pub mod series;
pub mod test;
pub mod tree;

use std::io::{self, Write};
use std::time::Duration;

use anyhow::Result;

use crate::cli::{Common, RunArgs};
use crate::{includes, parse, pipeline, rule, target};

/// With `--target`, the rules its headers call for (told on stderr, with why), else all
/// selected ones.
pub(crate) fn target_rules(a: &RunArgs, err: &mut dyn Write) -> Result<Vec<rule::Rule>> {
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
pub(crate) fn jobs(asked: Option<usize>, err: &mut dyn Write) -> io::Result<usize> {
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

pub(crate) fn config(a: &RunArgs, c: &Common, err: &mut dyn Write) -> Result<pipeline::Config> {
    let mut rules = target_rules(a, err)?;
    if a.compat {
        rules = crate::compat::choose(rules, err)?;
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
        settled: Vec::new(),
        target: a
            .target
            .as_deref()
            .map(|t| std::sync::Arc::new(includes::Target::new(t))),
    })
}

/// Per rule: does the tree's own header already hold a struct-retype rule's new API? Then the
/// tree builds only where registrations pass the new type (told once on stderr).
pub(crate) fn tree_has_new(
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
pub(crate) fn nothing_read(res: &pipeline::RunResult, err: &mut dyn Write) -> io::Result<bool> {
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
