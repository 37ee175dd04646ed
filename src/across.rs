//! Names across files, the run's second phase: a name a kind flagged only because other files
//! hold the rest of it (a non-static ops struct defined in one file, registered from another,
//! declared `extern` in a header) is settled here. Only those names are looked up (one
//! lexical walk of the tree for all of them), every file naming one is read as the rule would
//! read it, the kind proves each use, and the files are migrated again knowing the name is
//! settled: all of them convert, together, or none does.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use crate::model::{Code, Flag, Outcome};
use crate::pipeline::{Config, FileResult, io_why, migrate_file, rel_path};

/// What a name settled across files becomes in every file naming it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settled {
    /// Converted everywhere, carrying this name (the old one when it cannot be renamed).
    Carry(String),
    /// Already written in both forms under a version check: every file is compat.
    Compat,
    /// Already of the new form wherever it is declared: nothing to convert, nothing to flag.
    Done,
}

/// Per rule (index into the run's rules): the names settled across files.
pub type Settlements = Vec<HashMap<Vec<u8>, Settled>>;

/// One file naming a name, as the rule reads it.
pub struct Named {
    /// Relative to the tree, `/`-separated.
    pub rel: String,
    pub bytes: Vec<u8>,
}

/// What a kind is given to settle a name.
pub struct SettleCtx<'a> {
    pub tree: &'a Path,
    pub macros: &'a std::sync::Arc<crate::parse::Macros>,
    pub timeout: std::time::Duration,
    /// `--compat`: the version the new form is written under.
    pub compat: Option<crate::rule::Since>,
}

/// A name being settled: the rule, the name, and every file of the tree naming it.
struct Pending {
    rule: usize,
    name: Vec<u8>,
    files: Vec<PathBuf>,
    settled: Settled,
}

/// Settle the names the run's files left for it, and migrate the files naming them again.
/// Returns the configuration that knows them (the run's verdicts migrate files again with
/// it), or None when no name was settled (then `files` is as it was, but for messages that
/// say what another file does with a name).
pub fn settle(cfg: &Config, roots: &[PathBuf], files: &mut Vec<FileResult>) -> Option<Config> {
    let mut wanted: Vec<(usize, Vec<u8>)> = files
        .iter()
        .flat_map(|f| f.across.iter().cloned())
        .collect();
    wanted.sort();
    wanted.dedup();
    if wanted.is_empty() {
        return None;
    }
    let words: Vec<Vec<u8>> = wanted
        .iter()
        .flat_map(|(r, n)| cfg.rules[*r].kind.across_words(&cfg.rules[*r], n))
        .collect();
    crate::elsewhere::look_up(&cfg.tree, &words);
    let mut pending = Vec::new();
    let mut why_not = Vec::new();
    for (rule, name) in wanted {
        let hits = crate::elsewhere::files_naming(&cfg.tree, &name);
        match prove(cfg, roots, files, rule, &name, &hits) {
            Ok(settled) => pending.push(Pending {
                rule,
                name,
                files: hits,
                settled,
            }),
            Err(Some(why)) => why_not.push((rule, name, Flag::new(Code::OtherUse, why))),
            Err(None) => {}
        }
    }
    let done = rewrite(cfg, files, pending, &mut why_not);

    explain(files, &why_not);
    done
}

/// Read every file naming `name` as rule `r` reads it (the text the rules before it left)
/// and let the kind prove the name's uses. Err(None): nothing more to say than the file's own
/// flag (no file defines it as code the kind reads).
fn prove(
    cfg: &Config,
    roots: &[PathBuf],
    files: &[FileResult],
    r: usize,
    name: &[u8],
    hits: &[PathBuf],
) -> Result<Settled, Option<String>> {
    let shown = String::from_utf8_lossy(name);
    let mut named = Vec::new();
    for p in hits {
        let rel = rel_path(&cfg.tree, p);
        if !roots.iter().any(|root| p.starts_with(root)) {
            return Err(Some(format!(
                "{rel} names `{shown}` and is outside the paths given: it would have to change too"
            )));
        }
        let bytes = match files.iter().find(|f| f.rel == rel) {
            Some(f) if f.skipped.is_some() => {
                let why = f.skipped.as_deref().unwrap_or_default();
                return Err(Some(format!(
                    "{rel} names `{shown}` and was not checked ({why})"
                )));
            }
            Some(f) => f.text_before(r).to_vec(),
            None => std::fs::read(p).map_err(|e| {
                Some(format!(
                    "{rel} names `{shown}` and cannot be read: {}",
                    io_why(&e)
                ))
            })?,
        };
        named.push(Named { rel, bytes });
    }
    let cx = SettleCtx {
        tree: &cfg.tree,
        macros: &cfg.macros,
        timeout: cfg.parse_timeout,
        compat: crate::pipeline::compat_check(cfg, r),
    };
    let rule = &cfg.rules[r];
    rule.kind.settle(rule, &cx, name, &named)
}

/// Migrate every file naming a settled name again, knowing it; a name whose files do not all
/// convert (a file's own proof or self-check fails) is dropped, and the rest tried again,
/// until every remaining name converts in all its files. Only then are the results kept.
fn rewrite(
    cfg: &Config,
    files: &mut Vec<FileResult>,
    mut pending: Vec<Pending>,
    why_not: &mut Vec<(usize, Vec<u8>, Flag)>,
) -> Option<Config> {
    while !pending.is_empty() {
        let mut next = cfg.clone();
        next.settled = vec![HashMap::new(); cfg.rules.len()];
        for p in &pending {
            next.settled[p.rule].insert(p.name.clone(), p.settled.clone());
        }
        let involved: BTreeSet<&PathBuf> = pending.iter().flat_map(|p| &p.files).collect();
        let mut results: Vec<FileResult> = Vec::new();
        for path in involved {
            results.push(again(&next, files, &pending, path));
        }
        let before = pending.len();
        pending.retain(|p| match failure(p, &results) {
            None => true,
            Some(why) => {
                why_not.push((p.rule, p.name.clone(), why));
                false
            }
        });
        if pending.len() == before {
            for r in results {
                match files.iter().position(|f| f.rel == r.rel) {
                    Some(i) => files[i] = r,
                    None => files.push(r),
                }
            }
            files.sort_by(|a, b| a.path.cmp(&b.path));
            return Some(next);
        }
    }
    None
}

/// One file naming a settled name, migrated again: with the rules it was migrated with, and
/// the rules of the names it holds (a file no rule's literal brought into the run: a
/// definition or a header).
fn again(cfg: &Config, files: &[FileResult], pending: &[Pending], path: &PathBuf) -> FileResult {
    let rel = rel_path(&cfg.tree, path);
    let known = files.iter().find(|f| f.rel == rel);
    let mut rules: Vec<usize> = known.map(|f| f.rules.clone()).unwrap_or_default();
    rules.extend(
        pending
            .iter()
            .filter(|p| p.files.contains(path))
            .map(|p| p.rule),
    );
    rules.sort_unstable();
    rules.dedup();
    let original = match known {
        Some(f) => f.original.clone(),
        None => match std::fs::read(path) {
            Ok(b) => b,
            Err(e) => {
                let mut r = migrate_file(cfg, path, Vec::new(), &[]);
                r.skipped = Some(format!("cannot be read: {}", io_why(&e)));
                r.failed = true;
                return r;
            }
        },
    };
    migrate_file(cfg, path, original, &rules)
}

/// Why a settled name did not convert in every file naming it, if it did not: a file left
/// unchecked, a site of it flagged, or no file converting its definition.
fn failure(p: &Pending, results: &[FileResult]) -> Option<Flag> {
    if p.settled == Settled::Done {
        return None;
    }
    let shown = String::from_utf8_lossy(&p.name);
    let mine = |f: &FileResult| p.files.contains(&f.path);
    let mut converted = false;
    for f in results.iter().filter(|f| mine(f)) {
        if let Some(why) = &f.skipped {
            let why = format!("{} names `{shown}` and was not checked ({why})", f.rel);
            return Some(Flag::new(Code::OtherUse, why));
        }
        for s in f.sites.iter().filter(|s| s.rule == p.rule) {
            if s.site.function.as_bytes() != p.name.as_slice() {
                continue;
            }
            match &s.site.outcome {
                // The file's own reason, and its code (an unmapped member stays one).
                Outcome::Flagged(fl) => {
                    let line = fl.line.unwrap_or(s.site.line);
                    let bare = fl.why.strip_prefix(&format!("line {line}: "));
                    let why = format!("{}:{line}: {}", f.rel, bare.unwrap_or(&fl.why));
                    return Some(Flag::new(fl.code, why));
                }
                Outcome::Converted | Outcome::Compat => converted = true,
            }
        }
    }
    (!converted).then(|| Flag::new(Code::OtherUse, format!("no file converts `{shown}`")))
}

/// A name that could not be settled, where the reason is another file's: the flags of its
/// sites say so.
fn explain(files: &mut [FileResult], why_not: &[(usize, Vec<u8>, Flag)]) {
    for f in files.iter_mut() {
        for s in &mut f.sites {
            let Some((_, _, why)) = why_not
                .iter()
                .find(|(r, n, _)| *r == s.rule && n.as_slice() == s.site.function.as_bytes())
            else {
                continue;
            };
            if let Outcome::Flagged(fl) = &mut s.site.outcome {
                *fl = why.clone();
            }
        }
    }
}
