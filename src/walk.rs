//! Candidate files: in a git work tree, the files git tracks plus the untracked ones it does
//! not ignore; elsewhere `ignore`'s parallel walker lists every `.c`/`.h` file (hidden ones are
//! not converted: unchecked when they hold a literal). Each worker reads a file once and keeps
//! it only if it holds one of the rules' prefilter literals (one Aho-Corasick automaton for
//! every rule). Output is sorted by path.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use aho_corasick::AhoCorasick;
use ignore::{WalkBuilder, WalkState};

/// A file worth parsing.
pub struct Candidate {
    pub path: PathBuf,
    pub bytes: Vec<u8>,
    /// Which rules' literals the file holds (indexes into the rule list).
    pub rules: Vec<usize>,
}

/// A path that could not be read or walked, with the reason.
#[derive(Debug, Clone)]
pub struct Problem {
    pub path: PathBuf,
    pub why: String,
}

#[derive(Default)]
pub struct Listing {
    /// Files handed on as candidates.
    pub candidates: usize,
    pub problems: Vec<Problem>,
    /// Files read (every `.c`/`.h` file seen).
    pub files: usize,
    pub skipped: Vec<Problem>,
    /// Files passed over (over the size limit) that hold a rule's literal: nobody looked at
    /// their sites, so the run cannot vouch for them.
    pub unchecked: Vec<Problem>,
    /// Outside git: every regular `.c`/`.h` file the walk met (hidden ones too, but none in a
    /// `.git` directory), read or not, so that a later search of the same roots for a name
    /// ([`crate::elsewhere`]) reads this list instead of walking the tree again. None in a git
    /// work tree, whose list leaves out what git ignores, and when the walk was interrupted.
    pub every: Option<Vec<PathBuf>>,
}

pub struct Options<'a> {
    pub jobs: usize,
    pub max_size: u64,
    /// Bumped per file read (the run's progress).
    pub scanned: &'a AtomicUsize,
}

/// The literals of each rule: one search over all of them, and one per rule.
pub struct Prefilter {
    /// "Any literal here?" for the walk, which rejects most files with it.
    all: Searcher,
    /// Each rule's literals alone: which rules a candidate file holds is one SIMD search per
    /// rule, not an overlapping walk of the whole automaton over the file.
    per_rule: Vec<Searcher>,
    /// The longest literal, in bytes: chunks of a streamed file overlap by one less.
    max_len: usize,
}

impl Prefilter {
    pub fn new(literals: &[Vec<String>]) -> Prefilter {
        let pats: Vec<String> = literals.iter().flatten().cloned().collect();
        Prefilter {
            all: Searcher::new(&pats),
            per_rule: literals.iter().map(|l| Searcher::new(l)).collect(),
            max_len: pats.iter().map(|p| p.len()).max().unwrap_or(0),
        }
    }

    /// Does any literal occur in `bytes`?
    pub fn any_in(&self, bytes: &[u8]) -> bool {
        self.all.any_in(bytes)
    }

    /// Does any literal occur in what is left of `r`, `head` being the bytes read before?
    /// Streams in chunks that overlap by a literal's length, so a file of any size costs a
    /// bounded buffer.
    pub fn any_in_stream(&self, head: &[u8], r: &mut dyn std::io::Read) -> std::io::Result<bool> {
        if self.any_in(head) {
            return Ok(true);
        }
        let keep = self.max_len.saturating_sub(1);
        let mut chunk = head[head.len().saturating_sub(keep)..].to_vec();
        let mut block = vec![0u8; 1 << 20];
        loop {
            let n = match r.read(&mut block) {
                Ok(0) => return Ok(false),
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            chunk.extend_from_slice(&block[..n]);
            if self.any_in(&chunk) {
                return Ok(true);
            }
            chunk.drain(..chunk.len().saturating_sub(keep));
        }
    }

    /// Rules whose literals occur in `bytes`.
    pub fn rules_in(&self, bytes: &[u8]) -> Vec<usize> {
        // Most files hold no literal: one search over all of them says so.
        if !self.any_in(bytes) {
            return Vec::new();
        }
        (0..self.per_rule.len())
            .filter(|&r| self.per_rule[r].any_in(bytes))
            .collect()
    }
}

/// A set of literals: a packed SIMD (Teddy) search where the CPU and the set allow it, else an
/// automaton (which picks its own memchr-style prefilter).
struct Searcher {
    packed: Option<aho_corasick::packed::Searcher>,
    ac: AhoCorasick,
}

impl Searcher {
    fn new(literals: &[String]) -> Searcher {
        Searcher {
            packed: aho_corasick::packed::Config::new()
                .builder()
                .extend(literals)
                .build(),
            ac: AhoCorasick::new(literals).expect("prefilter literals are validated"),
        }
    }

    fn any_in(&self, bytes: &[u8]) -> bool {
        match &self.packed {
            Some(p) => p.find(bytes).is_some(),
            None => self.ac.is_match(bytes),
        }
    }
}

/// Does the link at `path` resolve to somewhere under one of the (canonical) roots?
fn inside(path: &Path, roots: &[PathBuf]) -> bool {
    std::fs::canonicalize(path).is_ok_and(|target| roots.iter().any(|r| target.starts_with(r)))
}

/// A `.c`/`.h` link whose target lies outside the tree is not followed (the file is not ours
/// to edit), but when the target holds a rule's literal it is code the run did not check:
/// unchecked (exit 2), not a silent pass. Returns the report line and whether it is unchecked.
fn link_out(
    path: &Path,
    target: &std::fs::Metadata,
    prefilter: &Prefilter,
) -> (Problem, std::io::Result<bool>) {
    let p = |why: &str| Problem {
        path: path.to_path_buf(),
        why: why.into(),
    };
    // Only a regular file is read: a link to a device or a FIFO could block or never end.
    if !target.is_file() {
        return (p("symlink out of the tree, not followed"), Ok(false));
    }
    let holds = std::fs::File::open(path).and_then(|mut f| prefilter.any_in_stream(&[], &mut f));
    let why = match holds {
        Ok(true) => "symlink out of the tree, not followed: its target holds a rule's literal",
        _ => "symlink out of the tree, not followed",
    };
    (p(why), holds)
}

fn wanted(path: &Path) -> bool {
    matches!(path.extension().and_then(|e| e.to_str()), Some("c" | "h"))
}

/// Walk `roots` (files or directories); each candidate goes to `found` as soon as it is read,
/// so that parsing overlaps the rest of the walk. Problems come back in path order.
/// The roots, each file walked once: a root named twice (`mm/mincore.c ./mm/mincore.c`, the
/// same once resolved) or inside a directory root (`mm mm/mincore.c`) is dropped.
fn merged(roots: &[PathBuf]) -> Vec<PathBuf> {
    let is_dir = |p: &Path| std::fs::symlink_metadata(p).is_ok_and(|m| m.is_dir());
    let mut out: Vec<PathBuf> = Vec::new();
    for r in roots {
        let inside = roots
            .iter()
            .any(|o| o != r && r.starts_with(o) && is_dir(o));
        if !inside && !out.contains(r) {
            out.push(r.clone());
        }
    }
    out
}

pub fn list(
    roots: &[PathBuf],
    prefilter: &Prefilter,
    opts: &Options,
    found: &(dyn Fn(Candidate) + Sync),
) -> Listing {
    let roots = &merged(roots);
    let Some(first) = roots.first() else {
        return Listing::default();
    };
    let canonical_roots: Vec<PathBuf> = roots
        .iter()
        .filter_map(|r| std::fs::canonicalize(r).ok())
        .collect();
    let git = git_files(first, roots);
    let ctx = Visit {
        out: Mutex::new(Listing::default()),
        every: git.is_none().then(Mutex::default),
        files: AtomicUsize::new(0),
        candidates: AtomicUsize::new(0),
        canonical_roots,
        roots,
        prefilter,
        opts,
        found,
    };
    match git {
        Some(mut list) => {
            // The tracked files are read while git looks for untracked ones.
            ctx.git_walk(&list.tracked);
            match list.untracked() {
                Ok((files, unreadable)) => {
                    ctx.out.lock().unwrap().problems.extend(unreadable);
                    ctx.git_walk(&files);
                }
                Err(why) => ctx.out.lock().unwrap().problems.push(Problem {
                    path: list.top.clone(),
                    why,
                }),
            }
        }
        None => ctx.dir_walk(),
    }
    let mut l = ctx.out.into_inner().unwrap();
    l.every = match ctx.every {
        Some(every) if !crate::interrupted() => Some(every.into_inner().unwrap()),
        _ => None,
    };
    l.files = ctx.files.into_inner();
    l.candidates = ctx.candidates.into_inner();
    l.problems.sort_by(|a, b| a.path.cmp(&b.path));
    l.skipped.sort_by(|a, b| a.path.cmp(&b.path));
    l.unchecked.sort_by(|a, b| a.path.cmp(&b.path));
    l
}

/// In a git work tree: exactly the files git tracks under the roots plus the untracked ones it
/// does not ignore, as absolute paths; a root that is a file is taken as named (even an
/// ignored one).
struct GitList {
    top: PathBuf,
    /// `git ls-files --cached` (index only, fast), and the files named outright.
    tracked: Vec<PathBuf>,
    /// `git ls-files --others --exclude-standard`, still running (it reads every directory).
    others: Option<std::process::Child>,
}

impl GitList {
    /// The untracked files not ignored, once git has listed them, and the directories git
    /// could not read (it warns and goes on: here they are problems, exit 2).
    fn untracked(&mut self) -> Result<(Vec<PathBuf>, Vec<Problem>), String> {
        let Some(child) = self.others.take() else {
            return Ok((Vec::new(), Vec::new()));
        };
        let o = child
            .wait_with_output()
            .map_err(|e| format!("git ls-files --others: {e}"))?;
        if !o.status.success() {
            return Err(format!(
                "git ls-files --others failed: {}",
                String::from_utf8_lossy(&o.stderr).trim()
            ));
        }
        let unreadable = String::from_utf8_lossy(&o.stderr)
            .lines()
            .filter_map(|l| l.strip_prefix("warning: could not open directory '"))
            .filter_map(|l| l.split_once("': "))
            .map(|(dir, why)| Problem {
                path: self.top.join(dir.trim_end_matches('/')),
                why: format!("cannot read the directory: {why}"),
            })
            .collect();
        Ok((split_z(&self.top, &o.stdout), unreadable))
    }
}

fn split_z(top: &Path, listed: &[u8]) -> Vec<PathBuf> {
    use std::os::unix::ffi::OsStrExt;
    listed
        .split(|&b| b == 0)
        .filter(|p| !p.is_empty())
        .map(|p| top.join(std::ffi::OsStr::from_bytes(p)))
        .collect()
}

/// `git --literal-pathspecs -C DIR ARGS...`, stdout piped.
fn git_command(dir: &Path, args: &[&std::ffi::OsStr]) -> std::process::Command {
    let mut c = std::process::Command::new("git");
    c.arg("--literal-pathspecs")
        .arg("-C")
        .arg(dir)
        .args(args)
        // Its warnings are read (unreadable directories): in English.
        .env("LC_ALL", "C")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    c
}

/// The roots' [`GitList`]; `None` outside a git work tree (or without git).
fn git_files(first: &Path, roots: &[PathBuf]) -> Option<GitList> {
    let dir = if first.is_dir() {
        first
    } else {
        first.parent()?
    };
    let run = |dir: &Path, args: &[&std::ffi::OsStr]| {
        let o = git_command(dir, args).output().ok()?;
        o.status.success().then_some(o.stdout)
    };
    let top = run(dir, &["rev-parse".as_ref(), "--show-toplevel".as_ref()])?;
    use std::os::unix::ffi::OsStrExt;
    let top = std::ffi::OsStr::from_bytes(top.strip_suffix(b"\n")?);
    let top = std::fs::canonicalize(top).ok()?;
    let mut tracked = Vec::new();
    let specs: Vec<PathBuf> = roots
        .iter()
        .filter_map(|r| {
            let rel = r.strip_prefix(&top).ok()?;
            if std::fs::symlink_metadata(r).is_ok_and(|m| !m.is_dir()) {
                tracked.push(r.clone());
                return None;
            }
            Some(if rel.as_os_str().is_empty() {
                PathBuf::from(".")
            } else {
                rel.to_path_buf()
            })
        })
        .collect();
    if specs.is_empty() {
        return Some(GitList {
            top,
            tracked,
            others: None,
        });
    }
    // Run from the top: the pathspecs and the listed paths are relative to it.
    let with_specs = |args: &[&'static str]| {
        let mut a: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_ref()).collect();
        a.push("--".as_ref());
        a.extend(specs.iter().map(|p| p.as_os_str()));
        git_command(&top, &a)
    };
    let mut others = with_specs(&["ls-files", "-z", "--others", "--exclude-standard"])
        .spawn()
        .ok()?;
    let cached = with_specs(&["ls-files", "-z", "--cached"]).output();
    let Some(cached) = cached.ok().filter(|o| o.status.success()) else {
        let _ = others.kill();
        let _ = others.wait();
        return None;
    };
    tracked.extend(split_z(&top, &cached.stdout));
    tracked.dedup();
    Some(GitList {
        top,
        tracked,
        others: Some(others),
    })
}

/// What one walk shares between its workers.
struct Visit<'a> {
    out: Mutex<Listing>,
    /// Every regular `.c`/`.h` file met (see [`Listing::every`]); only the directory walk
    /// keeps them.
    every: Option<Mutex<Vec<PathBuf>>>,
    files: AtomicUsize,
    candidates: AtomicUsize,
    canonical_roots: Vec<PathBuf>,
    roots: &'a [PathBuf],
    prefilter: &'a Prefilter,
    opts: &'a Options<'a>,
    found: &'a (dyn Fn(Candidate) + Sync),
}

impl Visit<'_> {
    /// git's list, read by `jobs` threads.
    fn git_walk(&self, files: &[PathBuf]) {
        let next = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..self.opts.jobs.max(1) {
                s.spawn(|| {
                    let mut buf = Vec::with_capacity(1 << 20);
                    while !crate::interrupted() {
                        let Some(path) = files.get(next.fetch_add(1, Ordering::Relaxed)) else {
                            break;
                        };
                        // A tracked file deleted from the work tree has nothing to check.
                        let Ok(m) = std::fs::symlink_metadata(path) else {
                            continue;
                        };
                        let named = self.roots.contains(path);
                        self.entry(path, named, m.file_type(), false, &mut buf);
                    }
                });
            }
        });
    }

    /// Outside git: every directory under the roots. No ignore file hides anything (`.ignore`,
    /// `.rgignore` and a tarball's `.gitignore` are not read); hidden files and directories
    /// (quilt's `.pc/` holds copies of the sources) are not converted, and one that holds a
    /// rule's literal is unchecked, so it is named and the run exits 2.
    fn dir_walk(&self) {
        let mut b = WalkBuilder::new(&self.roots[0]);
        for r in &self.roots[1..] {
            b.add(r);
        }
        b.threads(self.opts.jobs.max(1))
            .follow_links(false)
            .standard_filters(false);
        b.build_parallel().run(|| {
            let mut buf = Vec::with_capacity(1 << 20);
            Box::new(move |entry| {
                if crate::interrupted() {
                    return WalkState::Quit;
                }
                let entry = match entry {
                    Ok(e) => e,
                    Err(err) => {
                        let path = err_path(&err);
                        self.out.lock().unwrap().problems.push(Problem {
                            path,
                            why: strip_path(&err.to_string()),
                        });
                        return WalkState::Continue;
                    }
                };
                let Some(ft) = entry.file_type() else {
                    return WalkState::Continue;
                };
                let hidden = self.hidden(entry.path());
                self.entry(entry.path(), entry.depth() == 0, ft, hidden, &mut buf);
                WalkState::Continue
            })
        });
    }

    /// Does `path` lie under a dot-named file or directory below its root?
    fn hidden(&self, path: &Path) -> bool {
        hidden_below(self.roots, path)
    }

    /// One path the walk met: `named` on the command line, of type `ft`, `hidden` from view.
    fn entry(
        &self,
        path: &Path,
        named: bool,
        ft: std::fs::FileType,
        hidden: bool,
        buf: &mut Vec<u8>,
    ) {
        let out = &self.out;
        // A symlink named on the command line is walked by ignore as its target; it is still
        // a link, and rewriting it would replace the link by a file.
        let named_link =
            named && std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
        if named_link && wanted(path) {
            out.lock().unwrap().skipped.push(Problem {
                path: path.to_path_buf(),
                why: "symlink not followed".into(),
            });
            return;
        }
        if ft.is_symlink() {
            // Links inside the tree are not followed, so a link out of the tree or a loop is
            // never entered.
            if wanted(path) {
                match std::fs::metadata(path) {
                    Err(e) => out.lock().unwrap().problems.push(Problem {
                        path: path.to_path_buf(),
                        why: format!("dangling or looping symlink: {e}"),
                    }),
                    // A link inside the tree names a file the walk reads anyway; one that
                    // leaves the tree is not ours to edit.
                    Ok(m) if !inside(path, &self.canonical_roots) => {
                        let (p, unchecked) = link_out(path, &m, self.prefilter);
                        let mut l = out.lock().unwrap();
                        match unchecked {
                            Ok(true) => l.unchecked.push(p),
                            Ok(false) => l.skipped.push(p),
                            Err(e) => l.problems.push(Problem {
                                path: path.to_path_buf(),
                                why: format!("cannot read its target: {e}"),
                            }),
                        }
                    }
                    Ok(_) => {}
                }
            }
            return;
        }
        if !ft.is_file() || !wanted(path) {
            if !ft.is_dir() && wanted(path) {
                out.lock().unwrap().skipped.push(Problem {
                    path: path.to_path_buf(),
                    why: "not a regular file".into(),
                });
            }
            return;
        }
        if let Some(every) = &self.every
            && !(hidden && path.components().any(|c| c.as_os_str() == ".git"))
        {
            every.lock().unwrap().push(path.to_path_buf());
        }
        if hidden {
            self.hidden_file(path);
            return;
        }
        self.files.fetch_add(1, Ordering::Relaxed);
        self.opts.scanned.fetch_add(1, Ordering::Relaxed);
        // One buffer per worker: most files are read, scanned and forgotten.
        match read(path, self.opts.max_size, buf) {
            Ok(()) => {
                let rules = self.prefilter.rules_in(buf);
                if !rules.is_empty() {
                    let c = Candidate {
                        path: path.to_path_buf(),
                        bytes: buf.clone(),
                        rules,
                    };
                    self.candidates.fetch_add(1, Ordering::Relaxed);
                    (self.found)(c);
                }
            }
            Err(Skip::TooBig(mut f)) => {
                // Only oversize files pay for this: is it one the rules would have read?
                let size = f.metadata().map_or(buf.len() as u64, |m| m.len());
                let why = format!(
                    "over the size limit of {} bytes (the file has {size} bytes)",
                    self.opts.max_size
                );
                let p = Problem {
                    path: path.to_path_buf(),
                    why,
                };
                match self.prefilter.any_in_stream(buf, &mut f) {
                    Ok(true) => out.lock().unwrap().unchecked.push(p),
                    Ok(false) => out.lock().unwrap().skipped.push(p),
                    Err(e) => out.lock().unwrap().problems.push(Problem {
                        path: path.to_path_buf(),
                        why: format!("cannot read: {e}"),
                    }),
                }
            }
            Err(Skip::Io(e)) => {
                out.lock().unwrap().problems.push(Problem {
                    path: path.to_path_buf(),
                    why: format!("cannot read: {e}"),
                });
            }
        }
    }

    /// A hidden C file (outside git) is not converted; holding a rule's literal, it is code
    /// the run did not check: unchecked, named, exit 2.
    fn hidden_file(&self, path: &Path) {
        let holds =
            std::fs::File::open(path).and_then(|mut f| self.prefilter.any_in_stream(&[], &mut f));
        let mut l = self.out.lock().unwrap();
        match holds {
            Ok(true) => l.unchecked.push(Problem {
                path: path.to_path_buf(),
                why: "hidden (a dot-named file or directory, outside git): not converted, and it \
                      holds a rule's literal"
                    .into(),
            }),
            Ok(false) => {}
            Err(e) => l.problems.push(Problem {
                path: path.to_path_buf(),
                why: format!("cannot read: {e}"),
            }),
        }
    }
}

/// Does `path` lie under a dot-named file or directory below the first of `roots` holding it?
fn hidden_below(roots: &[PathBuf], path: &Path) -> bool {
    for root in roots {
        // Asked for every file: the walk joins names to the root as given, so the bytes after
        // it answer at once; only a possible dot-name is read component by component.
        if let Some(rel) = bytes_below(path, root) {
            let dot = rel.first() == Some(&b'.') || memchr::memmem::find(rel, b"/.").is_some();
            return dot && dot_component(path, root);
        }
        if path.starts_with(root) {
            return dot_component(path, root);
        }
    }
    false
}

/// Does a component of `path` below `root` start with a dot?
fn dot_component(path: &Path, root: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.components()
        .any(|c| c.as_os_str().as_bytes().first() == Some(&b'.'))
}

/// The bytes of `path` after `root` and its separator, when `path` starts with them as written.
fn bytes_below<'p>(path: &'p Path, root: &Path) -> Option<&'p [u8]> {
    use std::os::unix::ffi::OsStrExt;
    let (p, r) = (path.as_os_str().as_bytes(), root.as_os_str().as_bytes());
    let rest = p.strip_prefix(r)?;
    match (r.last(), rest.first()) {
        (_, None) => Some(rest),
        (Some(b'/'), _) => Some(rest),
        (_, Some(b'/')) => Some(&rest[1..]),
        _ => None,
    }
}

enum Skip {
    /// Over the limit: the open file, `buf` holding its first `max` + 1 bytes.
    TooBig(std::fs::File),
    Io(std::io::Error),
}

/// Read a whole file into `buf` with no stat: open, read to EOF (at most `max` + 1 bytes), close.
fn read(path: &Path, max: u64, buf: &mut Vec<u8>) -> Result<(), Skip> {
    use std::io::Read;
    let mut f = std::fs::File::open(path).map_err(Skip::Io)?;
    buf.clear();
    // Through `Take`, std's generic read loop fills the buffer's spare capacity directly
    // instead of sizing it with fstat + lseek first.
    (&mut f)
        .take(max.saturating_add(1))
        .read_to_end(buf)
        .map_err(Skip::Io)?;
    if buf.len() as u64 > max {
        return Err(Skip::TooBig(f));
    }
    Ok(())
}

fn err_path(e: &ignore::Error) -> PathBuf {
    match e {
        ignore::Error::WithPath { path, .. } => path.clone(),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            err_path(err)
        }
        ignore::Error::Loop { child, .. } => child.clone(),
        _ => PathBuf::new(),
    }
}

/// ignore's messages start with the path; the report prints it already.
fn strip_path(msg: &str) -> String {
    msg.rsplit_once(": ")
        .map(|(_, m)| m.to_string())
        .unwrap_or_else(|| msg.to_string())
}

#[cfg(test)]
mod tests {
    use super::{Prefilter, dot_component, hidden_below};
    use std::path::{Path, PathBuf};

    /// The byte shortcut answers as reading components does, for roots spelt every way.
    #[test]
    fn hidden_below_answers_as_the_components_do() {
        let by_components = |roots: &[PathBuf], path: &Path| {
            roots
                .iter()
                .find(|r| path.starts_with(r))
                .is_some_and(|r| dot_component(path, r))
        };
        let roots = [
            "t", "t/", "./t", "/abs/t", "t/./", "t//", ".t", "t/.pc", "t/a",
        ];
        let paths = [
            "t",
            "t/a.c",
            "t/.pc/a.c",
            "t/x/.git/a.c",
            "t/x.y/a.c",
            "t./a.c",
            "tt/a.c",
            "t/./a.c",
            "./t/a.c",
            "./t/.a.c",
            "/abs/t/b/.c/d.c",
            "/abs/t/b.c",
            ".t/a.c",
            "t//.h",
            "t/a/b",
        ];
        for r in roots {
            for other in [None, Some("u"), Some("t/b")] {
                let roots: Vec<PathBuf> = other.into_iter().chain([r]).map(PathBuf::from).collect();
                for p in paths {
                    let p = Path::new(p);
                    assert_eq!(
                        hidden_below(&roots, p),
                        by_components(&roots, p),
                        "roots {roots:?}, path {p:?}"
                    );
                }
            }
        }
    }

    /// Each rule whose literal occurs is named, also where literals of two rules overlap in
    /// the text, and no other.
    #[test]
    fn rules_in_names_every_rule_whose_literal_occurs() {
        let lits = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let p = Prefilter::new(&[
            lits(&["walk_page"]),
            lits(&["page_range", "page_vma"]),
            lits(&["proc_create("]),
            lits(&["mmap_sem"]),
        ]);
        assert_eq!(p.rules_in(b"\twalk_page_range(mm, 0, 1, &w);\n"), [0, 1]);
        assert_eq!(
            p.rules_in(b"x = proc_create(\"a\", 0, NULL, &f); mm->mmap_sem"),
            [2, 3]
        );
        assert_eq!(p.rules_in(b"proc_create_data(\"a\")"), Vec::<usize>::new());
    }

    /// An oversize file is searched past what was read, in overlapping chunks: a literal split
    /// between the part read and the rest, or lying far beyond, is found.
    #[test]
    fn streamed_search_finds_a_literal_across_the_boundary_and_far_away() {
        let p = Prefilter::new(&[vec!["mm_walk".to_string()]]);
        let found = |head: &[u8], rest: &[u8]| p.any_in_stream(head, &mut &rest[..]).unwrap();
        assert!(found(b"struct mm_wa", b"lk w;"));
        let mut far = vec![b'x'; 3 << 20];
        far.extend_from_slice(b"mm_walk");
        assert!(found(b"int x;", &far));
        let split = [&vec![b'y'; (1 << 20) - 3][..], b"mm_walk"].concat();
        assert!(found(b"", &split));
        assert!(!found(b"struct mm_wa", b" lk w;"));
        assert!(!found(b"int x;", &vec![b'x'; 3 << 20]));
    }
}
