//! The one place where stages meet: list candidates, then parse and migrate them in parallel
//! with rayon, and return per-file results in path order (so `-j1` and `-jN` print the same).

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::parse;
use crate::rule::Rule;
use crate::struct_to_ops::{self, Outcome, Site};
use crate::walk::{self, Prefilter, Problem};

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
    /// Why the file was skipped without analysis (generated, NUL bytes, parse timeout).
    pub skipped: Option<String>,
    /// The skip is a failure (the parser gave up): the file may hold sites nobody looked at.
    pub failed: bool,
    pub parse_error_functions: usize,
}

#[derive(Default)]
pub struct RunResult {
    pub files: Vec<FileResult>,
    /// Paths that could not be read (they make the exit code 2).
    pub problems: Vec<Problem>,
    /// Paths passed over on purpose (symlinks, special files, over the size limit).
    pub skipped: Vec<Problem>,
    pub files_read: usize,
    pub candidates: usize,
}

impl RunResult {
    pub fn sites(&self) -> impl Iterator<Item = (&FileResult, &Found)> {
        self.files
            .iter()
            .flat_map(|f| f.sites.iter().map(move |s| (f, s)))
    }
    pub fn converted(&self) -> usize {
        self.sites()
            .filter(|(_, s)| s.site.outcome == Outcome::Converted)
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
    /// Paths that could not be read or analysed: they make the exit code 2.
    pub fn errors(&self) -> usize {
        self.problems.len() + self.files.iter().filter(|f| f.failed).count()
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

pub fn run(cfg: &Config) -> RunResult {
    let roots: Vec<PathBuf> = if cfg.paths.is_empty() {
        vec![cfg.tree.clone()]
    } else {
        cfg.paths
            .iter()
            .map(|p| {
                if p.is_absolute() || !cfg.tree.join(p).exists() && p.exists() {
                    p.clone()
                } else {
                    cfg.tree.join(p)
                }
            })
            .collect()
    };
    let prefilter = Prefilter::new(
        &cfg.rules
            .iter()
            .map(|r| r.prefilter.clone())
            .collect::<Vec<_>>(),
    );
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(cfg.jobs.max(1))
        .build()
        .expect("thread pool");
    let results = std::sync::Mutex::new(Vec::new());
    let opts = walk::Options {
        jobs: cfg.jobs,
        max_size: cfg.max_size,
    };
    // Candidates are parsed on the rayon pool while the walk goes on; results are sorted by
    // path afterwards, so the output does not depend on the order work finished in.
    // The walk runs on this thread (and ignore's own workers), not on a pool worker.
    let listing = pool.in_place_scope(|s| {
        let results = &results;
        walk::list(&roots, &prefilter, &opts, &|c: walk::Candidate| {
            s.spawn(move |_| {
                let r = migrate_file(cfg, &c.path, c.bytes, &c.rules);
                results.lock().unwrap().push(r);
            })
        })
    });
    let mut files: Vec<FileResult> = results.into_inner().unwrap();
    files.sort_by(|a, b| a.path.cmp(&b.path));
    let candidates = listing.candidates;
    RunResult {
        files,
        problems: listing.problems,
        skipped: listing.skipped,
        files_read: listing.files,
        candidates,
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
    let mut res = FileResult {
        path: path.to_path_buf(),
        rel,
        original,
        new: None,
        sites: Vec::new(),
        skipped: None,
        failed: false,
        parse_error_functions: 0,
    };
    if memchr::memchr(0, &res.original).is_some() {
        res.skipped = Some("NUL bytes: not a C source file".into());
        return res;
    }
    if generated(&res.original) {
        res.skipped = Some("generated file (says so in its first lines)".into());
        return res;
    }
    let mut cur: Option<Vec<u8>> = None;
    for &r in rules {
        let src = cur.as_deref().unwrap_or(&res.original);
        let parsed = match parse::parse_with(src, cfg.parse_timeout, &cfg.macros) {
            Ok(p) => p,
            Err(e) => {
                res.skipped = Some(e.to_string());
                res.failed = true;
                return res;
            }
        };
        let origin = struct_to_ops::headers::Origin {
            tree: &cfg.tree,
            file: path,
            macros: &cfg.macros,
        };
        let out = struct_to_ops::migrate(&cfg.rules[r], src, &parsed, cfg.api, Some(origin));
        let c = &crate::report::progress::COUNTERS;
        c.parsed.fetch_add(1, Ordering::Relaxed);
        for s in &out.sites {
            let n = match s.outcome {
                Outcome::Converted => &c.converted,
                Outcome::Flagged(_) => &c.flagged,
                Outcome::Compat => continue,
            };
            n.fetch_add(1, Ordering::Relaxed);
        }
        res.parse_error_functions += out.parse_error_functions;
        res.sites
            .extend(out.sites.into_iter().map(|site| Found { rule: r, site }));
        if !out.edits.is_empty() {
            cur = Some(out.edits.apply(src));
        }
    }
    res.new = cur.filter(|n| *n != res.original);
    res
}
