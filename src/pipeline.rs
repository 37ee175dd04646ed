//! The one place where stages meet: list candidates, then parse and migrate them in parallel
//! with rayon, and return per-file results in path order (so `-j1` and `-jN` print the same).

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::model::{Callbacks, Outcome, Site};
use crate::parse;
use crate::rule::Rule;
use crate::walk::{self, Prefilter, Problem};

#[derive(Clone)]
pub struct Config {
    pub tree: PathBuf,
    /// Paths inside the tree to restrict the run to (relative to the tree, or absolute).
    pub paths: Vec<PathBuf>,
    pub rules: Vec<Rule>,
    pub jobs: usize,
    pub max_size: u64,
    pub parse_timeout: Duration,
    /// Convert the API definition (struct, prototypes, implementation) too, not only callers.
    pub api: bool,
    /// Kernel macros for the parse view (built-in, plus those the tree's headers define).
    pub macros: std::sync::Arc<parse::Macros>,
    /// `--target`: the kernel converted files must build against; they get the headers the
    /// rules name, unless a header they include brings them in there.
    pub target: Option<std::sync::Arc<crate::includes::Target>>,
    /// Per rule: the tree's own headers already hold its new API ([`crate::target`]), so a
    /// struct-retype entry call whose argument's type the file does not show is not flagged.
    pub tree_has_new: Vec<bool>,
    /// `--compat`: the new form beside the old under a version check (see [`crate::compat`]).
    pub compat: bool,
    /// Names settled across files by the run's second phase ([`crate::across`]): empty until
    /// then.
    pub settled: crate::across::Settlements,
}

/// What a run has done so far, for a progress display: bumped as files are read and
/// migrated (cheap enough per file).
#[derive(Debug, Default)]
pub struct Counters {
    pub scanned: std::sync::atomic::AtomicUsize,
    pub parsed: std::sync::atomic::AtomicUsize,
    pub converted: std::sync::atomic::AtomicUsize,
    pub flagged: std::sync::atomic::AtomicUsize,
}

impl Counters {
    /// One file's result, as migrated.
    fn count(&self, f: &FileResult) {
        if f.skipped.is_none() {
            self.parsed.fetch_add(f.rules.len(), Ordering::Relaxed);
        }
        for s in &f.sites {
            let c = match s.site.outcome {
                Outcome::Converted => &self.converted,
                Outcome::Flagged(_) => &self.flagged,
                Outcome::Compat => continue,
            };
            c.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// One site, with the rule that found it.
#[derive(Debug, Clone)]
pub struct Found {
    pub rule: usize,
    pub site: Site,
}

pub struct FileResult {
    pub path: PathBuf,
    /// Path relative to the tree, `/`-separated, as diffs and reports show it.
    pub rel: String,
    pub original: Vec<u8>,
    /// The rewritten bytes, when anything changed.
    pub new: Option<Vec<u8>>,
    pub sites: Vec<Found>,
    /// The rules that changed the text, in run order, and the texts between them
    /// (`between[k]` is the text after `changed_by[k]`; the last rule's is `new`): a series of
    /// several migrations gives each its own patch.
    pub changed_by: Vec<usize>,
    pub between: Vec<Vec<u8>>,
    /// The rules whose literals the file holds, in run order (the rules it was migrated with).
    pub rules: Vec<usize>,
    /// Why the file was skipped without analysis (generated, NUL bytes, parse timeout).
    /// Every candidate holds a rule's literal, so a skipped one is *unchecked*: it may hold
    /// sites nobody looked at.
    pub skipped: Option<String>,
    /// The skip is a failure (the parser gave up or was cancelled), not a policy.
    pub failed: bool,
    pub parse_error_functions: usize,
    /// `apply` left this changed file as it was, and why: its sites are not converted.
    pub unwritten: Option<String>,
    /// Per rule, which members of the old struct the file took to be callbacks (when it says
    /// anything about them): the run checks them against the struct's definition.
    pub callbacks: Vec<(usize, Callbacks)>,
    /// Per rule, names flagged only because other files hold the rest of them: the run's
    /// second phase ([`crate::across`]) settles them.
    pub across: Vec<(usize, Vec<u8>)>,
}

impl FileResult {
    /// A file read, before any rule ran over it: nothing found, nothing changed.
    pub fn unread(path: PathBuf, rel: String, original: Vec<u8>, rules: Vec<usize>) -> FileResult {
        FileResult {
            path,
            rel,
            original,
            new: None,
            sites: Vec::new(),
            changed_by: Vec::new(),
            between: Vec::new(),
            rules,
            skipped: None,
            failed: false,
            parse_error_functions: 0,
            unwritten: None,
            callbacks: Vec::new(),
            across: Vec::new(),
        }
    }

    /// The text before and after rule `r` changed the file, if it did.
    pub fn stage(&self, r: usize) -> Option<(&[u8], &[u8])> {
        let k = self.changed_by.iter().position(|&x| x == r)?;
        let before = if k == 0 {
            &self.original
        } else {
            &self.between[k - 1]
        };
        let after = self.between.get(k).or(self.new.as_ref())?;
        Some((before, after))
    }

    /// The text rule `r` read: the original, or what the last rule before it that changed
    /// the file left.
    pub fn text_before(&self, r: usize) -> &[u8] {
        let at = self
            .rules
            .iter()
            .position(|&x| x == r)
            .unwrap_or(self.rules.len());
        let ran_before = |c: &usize| {
            self.rules
                .iter()
                .position(|x| x == c)
                .is_some_and(|i| i < at)
        };
        match self.changed_by.iter().filter(|c| ran_before(c)).count() {
            0 => &self.original,
            k => self
                .between
                .get(k - 1)
                .or(self.new.as_ref())
                .map_or(&self.original, Vec::as_slice),
        }
    }

    /// Will the file be (or was it) rewritten?
    pub fn changes(&self) -> bool {
        self.new.is_some() && self.unwritten.is_none()
    }
}

#[derive(Default)]
pub struct RunResult {
    /// The canonical tree: every path below is under it, and reports name them relative to it.
    pub tree: PathBuf,
    pub files: Vec<FileResult>,
    /// Paths that could not be read (they make the exit code 2).
    pub problems: Vec<Problem>,
    /// Paths passed over on purpose (symlinks, special files, over the size limit).
    pub skipped: Vec<Problem>,
    /// Files passed over by the walk (over the size limit) that hold a rule's literal.
    pub unchecked: Vec<Problem>,
    pub files_read: usize,
    pub candidates: usize,
    /// `apply` ran: files were written, not only shown.
    pub applied: bool,
}

impl RunResult {
    pub fn sites(&self) -> impl Iterator<Item = (&FileResult, &Found)> {
        self.files
            .iter()
            .flat_map(|f| f.sites.iter().map(move |s| (f, s)))
    }
    /// Sites converted in files that are (or, for `diff`/`check`, would be) rewritten.
    pub fn converted(&self) -> usize {
        self.sites()
            .filter(|(f, s)| s.site.outcome == Outcome::Converted && f.unwritten.is_none())
            .count()
    }
    pub fn flagged(&self) -> usize {
        self.sites()
            .filter(|(_, s)| matches!(s.site.outcome, Outcome::Flagged(_)))
            .count()
    }
    /// Old-API code that already sits beside the new API under a version check.
    pub fn compat(&self) -> usize {
        self.sites()
            .filter(|(_, s)| s.site.outcome == Outcome::Compat)
            .count()
    }
    /// Sites still to convert or to look at (what `check` fails on).
    pub fn findings(&self) -> usize {
        self.converted() + self.flagged()
    }
    /// Sites converted in memory whose file `apply` did not write.
    pub fn not_written(&self) -> usize {
        self.sites()
            .filter(|(f, s)| s.site.outcome == Outcome::Converted && f.unwritten.is_some())
            .count()
    }
    pub fn files_changed(&self) -> usize {
        self.files.iter().filter(|f| f.changes()).count()
    }
    /// Paths that could not be read or written: they make the exit code 2.
    pub fn errors(&self) -> usize {
        self.problems.len()
    }
    /// Files holding a rule's literal that were not analysed (size, NUL bytes, generated,
    /// parse timeout): the run cannot vouch for the tree, exit code 2.
    pub fn unchecked(&self) -> usize {
        self.unchecked.len() + self.files.iter().filter(|f| f.skipped.is_some()).count()
    }
    /// `path` as reports name it: relative to the tree, `/`-separated.
    pub fn rel(&self, path: &Path) -> String {
        rel_path(&self.tree, path)
    }
    /// `path` relative to the tree as the file system has it: bytes, `/`-separated.
    pub fn rel_bytes(&self, path: &Path) -> Vec<u8> {
        use std::os::unix::ffi::OsStrExt;
        let rel = path.strip_prefix(&self.tree).unwrap_or(path);
        let parts: Vec<&[u8]> = rel.components().map(|c| c.as_os_str().as_bytes()).collect();
        parts.join(&b'/')
    }
    pub fn parse_error_functions(&self) -> usize {
        self.files.iter().map(|f| f.parse_error_functions).sum()
    }
}

pub fn rel_path(tree: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(tree).unwrap_or(path);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// The canonical tree and the path arguments as walk roots under it. A relative path is taken
/// relative to the tree (or, when it names nothing there, to the current directory). `..` and
/// links are resolved to decide where a path leads, and a path that leads out of the tree is an
/// error, before anything is read. A root keeps its last component unresolved, so a link named
/// on the command line is still seen (and skipped) as a link.
pub fn resolve(tree: &Path, paths: &[PathBuf]) -> anyhow::Result<(PathBuf, Vec<PathBuf>)> {
    let tree = std::fs::canonicalize(tree)
        .map_err(|e| anyhow::anyhow!("{}: {}", tree.display(), io_why(&e)))?;
    if !tree.is_dir() {
        anyhow::bail!("{}: not a directory", tree.display());
    }
    let mut roots = Vec::new();
    for p in paths {
        let joined = tree.join(p);
        let given = if !p.is_absolute()
            && joined.symlink_metadata().is_err()
            && p.symlink_metadata().is_ok()
        {
            p.clone()
        } else {
            joined
        };
        let target = std::fs::canonicalize(&given)
            .map_err(|e| anyhow::anyhow!("{}: {}", p.display(), io_why(&e)))?;
        if !target.starts_with(&tree) {
            anyhow::bail!(
                "{}: outside the tree {} (it leads to {}); nothing was read or written",
                p.display(),
                tree.display(),
                target.display()
            );
        }
        // A link keeps its name (its directory resolved), so the walk sees it as a link.
        let is_link = given
            .symlink_metadata()
            .is_ok_and(|m| m.file_type().is_symlink());
        let root = match (is_link, given.parent(), given.file_name()) {
            (true, Some(dir), Some(name)) => std::fs::canonicalize(dir)
                .map(|d| d.join(name))
                .unwrap_or(target),
            _ => target,
        };
        roots.push(root);
    }
    Ok((tree, roots))
}

/// An I/O error as the OS says it, without Rust's ` (os error N)` suffix.
pub(crate) fn io_why(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// Run `cfg`, bumping `counters` as it goes.
pub fn run(cfg: &Config, counters: &Counters) -> RunResult {
    let roots: Vec<PathBuf> = if cfg.paths.is_empty() {
        vec![cfg.tree.clone()]
    } else {
        cfg.paths.iter().map(|p| cfg.tree.join(p)).collect()
    };
    let prefilter = Prefilter::new(
        &cfg.rules
            .iter()
            .map(|r| r.prefilter.clone())
            .collect::<Vec<_>>(),
    );
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(cfg.jobs.max(1))
        // The analysis walks syntax trees recursively, up to parse::MAX_DEPTH levels deep:
        // room for that even in a debug build (reserved address space, not memory).
        .stack_size(64 << 20)
        .build()
        .expect("thread pool");
    let results = std::sync::Mutex::new(Vec::new());
    let opts = walk::Options {
        jobs: cfg.jobs,
        max_size: cfg.max_size,
        scanned: &counters.scanned,
    };
    // Candidates are parsed on the rayon pool while the walk goes on; results are sorted by
    // path afterwards, so the output does not depend on the order work finished in.
    // The walk runs on this thread (and ignore's own workers), not on a pool worker.
    let listing = pool.in_place_scope(|s| {
        let results = &results;
        walk::list(&roots, &prefilter, &opts, &|c: walk::Candidate| {
            s.spawn(move |_| {
                let r = migrate_file(cfg, &c.path, c.bytes, &c.rules);
                counters.count(&r);
                results.lock().unwrap().push(r);
            })
        })
    });
    let mut files: Vec<FileResult> = results.into_inner().unwrap();
    files.sort_by(|a, b| a.path.cmp(&b.path));
    if let (Some(every), true) = (listing.every, cfg.paths.is_empty()) {
        crate::elsewhere::know_files(&cfg.tree, every);
    }
    // Names other files hold the rest of, settled together; the verdicts below migrate files
    // again knowing them.
    let settled = crate::across::settle(cfg, &roots, &mut files);
    let cfg = settled.as_ref().unwrap_or(cfg);
    crate::verdict::block_broken_definitions(cfg, &mut files);
    let candidates = listing.candidates;
    RunResult {
        tree: cfg.tree.clone(),
        files,
        problems: listing.problems,
        skipped: listing.skipped,
        unchecked: listing.unchecked,
        files_read: listing.files,
        candidates,
        applied: false,
    }
}

/// Generated files say so near their top; kcodemod does not edit them.
fn generated(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(1024)];
    [
        &b"DO NOT EDIT"[..],
        b"automatically generated",
        b"Automatically generated",
        b"@generated",
    ]
    .iter()
    .any(|m| memchr::memmem::find(head, m).is_some())
}

/// Run every applicable rule over one file, in rule order; each rule sees the previous one's
/// output.
pub fn migrate_file(cfg: &Config, path: &Path, original: Vec<u8>, rules: &[usize]) -> FileResult {
    let rel = rel_path(&cfg.tree, path);
    let mut res = FileResult::unread(path.to_path_buf(), rel, original, rules.to_vec());
    if memchr::memchr(0, &res.original).is_some() {
        res.skipped = Some("NUL bytes: not a C source file".into());
        return res;
    }
    if generated(&res.original) {
        res.skipped = Some("generated file (says so in its first lines)".into());
        return res;
    }
    let mut cur: Option<Vec<u8>> = None;
    // The limit bounds the file's whole analysis, every rule's: loops that see it spent stop
    // early, and what they produced is thrown away below, never reported as a verdict.
    let _budget = crate::budget::Budget::start(cfg.parse_timeout);
    for &r in rules {
        // After SIGINT/SIGTERM the run reports nothing per file: stop taking work.
        if crate::interrupted() {
            res.skipped = Some(parse::ParseFailure::Interrupted.to_string());
            res.failed = true;
            return res;
        }
        let src = cur.as_deref().unwrap_or(&res.original);
        let out = migrate_one(cfg, path, r, src);
        let mut out = match within_budget(cfg, out) {
            Ok(out) => frames(cfg, r, src, out),
            Err(e) => {
                res.skipped = Some(e.to_string());
                res.failed = true;
                return res;
            }
        };
        res.parse_error_functions += out.parse_error_functions;
        res.across.extend(out.across.drain(..).map(|n| (r, n)));
        if out.callbacks != Callbacks::default() {
            res.callbacks.push((r, out.callbacks));
        }
        res.sites
            .extend(out.sites.into_iter().map(|site| Found { rule: r, site }));
        if !out.edits.is_empty() {
            let mut new = out.edits.apply(src);
            match compat_check(cfg, r) {
                // Code written under a version check needs LINUX_VERSION_CODE, and the new
                // API's header exists only on the kernels that check selects.
                Some(since) => {
                    crate::compat::add_include(&mut new);
                    if let Some(t) = &cfg.target {
                        crate::compat::add_framed_include(&cfg.rules[r], t, since, &mut new);
                    }
                }
                None => {
                    if let Some(t) = &cfg.target {
                        crate::includes::add_for_rule(&cfg.rules[r], t, &mut new);
                    }
                }
            }
            if new != src {
                res.changed_by.push(r);
                // The text this rule replaced is an intermediate stage (moved, not copied).
                if let Some(prev) = cur.replace(new) {
                    res.between.push(prev);
                }
            }
        }
    }
    res.new = cur.filter(|n| *n != res.original);
    res
}

/// A rule's result, unless the file's budget ran out meanwhile: then whatever the analysis
/// produced after a loop stopped early is not a verdict, and the file is unchecked.
fn within_budget(
    cfg: &Config,
    out: Result<crate::model::FileResult, parse::ParseFailure>,
) -> Result<crate::model::FileResult, parse::ParseFailure> {
    if crate::interrupted() {
        return Err(parse::ParseFailure::Interrupted);
    }
    match out {
        // The file's own parse timing out says so in its own words.
        Err(e @ parse::ParseFailure::Timeout(_)) => Err(e),
        _ if crate::budget::out_of_time() => {
            Err(parse::ParseFailure::AnalysisTimeout(cfg.parse_timeout))
        }
        out => out,
    }
}

/// `--compat` and rule `r` writes both forms under a check for this version.
pub(crate) fn compat_check(cfg: &Config, r: usize) -> Option<crate::rule::Since> {
    match crate::compat::mode(&cfg.rules[r]) {
        Ok(crate::compat::Mode::Check(since)) if cfg.compat => Some(since),
        _ => None,
    }
}

/// `--compat` for a kind whose edits the pipeline frames ([`crate::compat::frame_edits`]):
/// the rewrite becomes frames, or, where it cannot, the file's sites are left alone with why.
fn frames(
    cfg: &Config,
    r: usize,
    src: &[u8],
    mut out: crate::model::FileResult,
) -> crate::model::FileResult {
    let Some(since) = compat_check(cfg, r) else {
        return out;
    };
    if !cfg.rules[r].kind.compat_by_frames() || out.edits.is_empty() {
        return out;
    }
    match crate::compat::frame_edits(src, &out.edits, since)
        .and_then(|e| crate::edit::EditSet::new(e).map_err(|o| o.to_string()))
    {
        Ok(e) => out.edits = e,
        Err(why) => {
            for s in &mut out.sites {
                s.unconvert(|| why.clone());
            }
            out.edits = crate::edit::EditSet::default();
        }
    }
    out
}

/// One rule over one text: the rule's kind parses what its proof needs and migrates.
fn migrate_one(
    cfg: &Config,
    path: &Path,
    r: usize,
    src: &[u8],
) -> Result<crate::model::FileResult, parse::ParseFailure> {
    let rule = &cfg.rules[r];
    let cx = crate::kinds::FileCtx {
        tree: &cfg.tree,
        path,
        macros: &cfg.macros,
        timeout: cfg.parse_timeout,
        api: cfg.api,
        tree_has_new: cfg.tree_has_new.get(r).copied().unwrap_or(false),
        compat: compat_check(cfg, r)
            .filter(|_| rule.kind.writes_compat() || rule.kind.compat_by_frames()),
        settled: cfg.settled.get(r),
    };
    rule.kind.migrate(rule, &cx, src)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(
        rules: Vec<usize>,
        changed_by: Vec<usize>,
        between: Vec<&str>,
        new: &str,
    ) -> FileResult {
        FileResult {
            new: Some(new.as_bytes().to_vec()),
            changed_by,
            between: between.into_iter().map(|b| b.as_bytes().to_vec()).collect(),
            ..FileResult::unread(PathBuf::from("a.c"), "a.c".into(), b"orig".to_vec(), rules)
        }
    }

    /// Names across files are proven on the text their rule read: what the rules before it
    /// left, not the file's last text.
    #[test]
    fn the_text_a_rule_read_is_what_the_rules_before_it_left() {
        // Rules 0, 1 and 2 ran; 0 and 2 changed the file.
        let f = file(vec![0, 1, 2], vec![0, 2], vec!["after0"], "after2");
        assert_eq!(f.text_before(0), b"orig");
        assert_eq!(f.text_before(1), b"after0");
        assert_eq!(f.text_before(2), b"after0");
        // A rule the file was not migrated with (a name settled later): after every rule.
        assert_eq!(f.text_before(3), b"after2");
        let untouched = file(vec![0], Vec::new(), Vec::new(), "orig");
        assert_eq!(untouched.text_before(0), b"orig");
    }
}
