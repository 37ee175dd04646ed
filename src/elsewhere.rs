//! Names across files, lexically: which `.c`/`.h` files of the tree name a word? Asked only
//! for the few names a proof needs it for (a non-static definition a kind would otherwise
//! flag, a name [`crate::across`] settles), all a phase needs in one walk of the tree,
//! answers kept for the run.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use ignore::{WalkBuilder, WalkState};

use crate::parse::lex::is_ident_byte;

type Key = (PathBuf, Vec<u8>);

/// Answers already found, per tree and word: every file naming it.
fn cache() -> &'static Mutex<HashMap<Key, Vec<PathBuf>>> {
    static CACHE: OnceLock<Mutex<HashMap<Key, Vec<PathBuf>>>> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// The first `.c`/`.h` file of `tree` other than `file` that holds `word` as a whole word
/// (in code, a comment or a string alike: a mention is reason enough not to assume), relative
/// to the tree; None when no other file names it. Files that cannot be read count as naming
/// it: what cannot be read cannot be vouched for.
pub fn named_in(tree: &Path, file: &Path, word: &[u8]) -> Option<PathBuf> {
    files_naming(tree, word)
        .into_iter()
        .find(|p| p != file)
        .map(|p| p.strip_prefix(tree).map(Path::to_path_buf).unwrap_or(p))
}

/// Every `.c`/`.h` file of `tree` naming `word` (as [`named_in`] counts), sorted: from the
/// answers [`look_up`] keeps, or one walk of the tree for this word alone.
pub fn files_naming(tree: &Path, word: &[u8]) -> Vec<PathBuf> {
    let key = (tree.to_path_buf(), word.to_vec());
    if let Some(h) = cache().lock().unwrap().get(&key) {
        return h.clone();
    }
    look_up(tree, &[word.to_vec()]);
    cache()
        .lock()
        .unwrap()
        .get(&key)
        .cloned()
        .unwrap_or_default()
}

/// Find, in one parallel walk of `tree`, the files naming each of `words` not yet looked up,
/// and keep the answers for the run: a run with many names to settle reads the tree once.
pub fn look_up(tree: &Path, words: &[Vec<u8>]) {
    let mut todo: Vec<Vec<u8>> = {
        let c = cache().lock().unwrap();
        words
            .iter()
            .filter(|w| !w.is_empty() && !c.contains_key(&(tree.to_path_buf(), w.to_vec())))
            .cloned()
            .collect()
    };
    todo.sort();
    todo.dedup();
    if todo.is_empty() {
        return;
    }
    let found = scan(tree, &todo);
    let mut c = cache().lock().unwrap();
    for (w, hits) in todo.into_iter().zip(found) {
        c.insert((tree.to_path_buf(), w), hits);
    }
}

/// Every `.c`/`.h` file of each tree, as the run's own walk met them (see
/// [`crate::walk::Listing::every`]): a search for names reads these rather than walk again.
fn known() -> &'static Mutex<HashMap<PathBuf, std::sync::Arc<Vec<PathBuf>>>> {
    static KNOWN: OnceLock<Mutex<HashMap<PathBuf, std::sync::Arc<Vec<PathBuf>>>>> = OnceLock::new();
    KNOWN.get_or_init(Default::default)
}

/// The run's walk of the whole of `tree` met exactly these `.c`/`.h` files (regular files,
/// hidden ones too, none in `.git`): the files [`scan`]'s own walk would meet.
pub fn know_files(tree: &Path, files: Vec<PathBuf>) {
    known()
        .lock()
        .unwrap()
        .insert(tree.to_path_buf(), std::sync::Arc::new(files));
}

/// Per word, every `.c`/`.h` file of `tree` naming it, sorted. Most files name none: the
/// walk's SIMD prefilter says so, and only a file it picks is searched word by word.
fn scan(tree: &Path, words: &[Vec<u8>]) -> Vec<Vec<PathBuf>> {
    let listed = known().lock().unwrap().get(tree).cloned();
    match listed {
        Some(files) => scan_files(&files, words),
        None => scan_tree(tree, words),
    }
}

/// Which of `words` the file at `p` names (every one when it cannot be read).
fn named_words(
    p: &Path,
    words: &[Vec<u8>],
    prefilter: &crate::walk::Prefilter,
    buf: &mut Vec<u8>,
) -> Vec<usize> {
    buf.clear();
    match std::fs::File::open(p).and_then(|mut f| f.read_to_end(buf)) {
        Ok(_) => prefilter
            .rules_in(buf)
            .into_iter()
            .filter(|&i| {
                memchr::memmem::find_iter(buf, &words[i])
                    .any(|at| whole_word(buf, at, words[i].len()))
            })
            .collect(),
        Err(_) => (0..words.len()).collect(),
    }
}

fn prefilter_of(words: &[Vec<u8>]) -> crate::walk::Prefilter {
    let literals: Vec<Vec<String>> = words
        .iter()
        .map(|w| vec![String::from_utf8_lossy(w).into_owned()])
        .collect();
    crate::walk::Prefilter::new(&literals)
}

/// Per word, the files found naming it so far (workers add to it in any order).
struct Hits(Mutex<Vec<Vec<PathBuf>>>);

impl Hits {
    fn new(words: usize) -> Hits {
        Hits(Mutex::new(vec![Vec::new(); words]))
    }

    /// `p` names the words of these indexes.
    fn add(&self, p: &Path, named: Vec<usize>) {
        if named.is_empty() {
            return;
        }
        let mut h = self.0.lock().unwrap();
        for i in named {
            h[i].push(p.to_path_buf());
        }
    }

    /// Per word, its files, sorted: the same answer whatever order the workers found them in.
    fn sorted(self) -> Vec<Vec<PathBuf>> {
        let mut hits = self.0.into_inner().unwrap();
        for h in &mut hits {
            h.sort();
        }
        hits
    }
}

/// [`scan`] over a list of files, read by one thread per CPU.
fn scan_files(files: &[PathBuf], words: &[Vec<u8>]) -> Vec<Vec<PathBuf>> {
    let prefilter = prefilter_of(words);
    let hits = Hits::new(words.len());
    let next = std::sync::atomic::AtomicUsize::new(0);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                let mut buf = Vec::new();
                while let Some(p) =
                    files.get(next.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
                {
                    hits.add(p, named_words(p, words, &prefilter, &mut buf));
                }
            });
        }
    });
    hits.sorted()
}

/// [`scan`] by a walk of the tree.
fn scan_tree(tree: &Path, words: &[Vec<u8>]) -> Vec<Vec<PathBuf>> {
    let prefilter = prefilter_of(words);
    let hits = Hits::new(words.len());
    // Every file, as the run's own walk outside git sees them (no ignore file hides one, and
    // hidden files name words too), but git's own directory.
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let walk = WalkBuilder::new(tree)
        .follow_links(false)
        .standard_filters(false)
        .threads(threads)
        .filter_entry(|e| e.file_name() != ".git")
        .build_parallel();
    walk.run(|| {
        let (prefilter, hits) = (&prefilter, &hits);
        let mut buf = Vec::new();
        Box::new(move |e| {
            let Ok(e) = e else {
                return WalkState::Continue;
            };
            let p = e.path();
            let wanted = e.file_type().is_some_and(|t| t.is_file())
                && p.extension().is_some_and(|x| x == "c" || x == "h");
            if !wanted {
                return WalkState::Continue;
            }
            hits.add(p, named_words(p, words, prefilter, &mut buf));
            WalkState::Continue
        })
    });
    hits.sorted()
}

/// Does a header `src` (the text of `file`) includes name `word`? A name a file uses but
/// declares neither itself nor in a header comes from a macro (`DEFINE_SHOW_ATTRIBUTE(foo)`): no
/// other file holds it as a word, and the tree need not be searched for it. Headers are
/// followed through `#include "..."` (beside the including file) and `#include <...>` (under
/// the tree's `include/`), three levels deep.
pub fn declared_near(tree: &Path, file: &Path, src: &[u8], word: &[u8]) -> bool {
    let names =
        |b: &[u8]| memchr::memmem::find_iter(b, word).any(|at| whole_word(b, at, word.len()));
    near_headers(tree, file, src).iter().any(|h| names(h))
}

/// The texts of the headers `src` includes, three levels deep. A file asks for many names
/// (cifs_debug.c registers 19 files under /proc), and its headers are read once for them all:
/// the last file's answer is kept per thread, known by its path and text.
fn near_headers(tree: &Path, file: &Path, src: &[u8]) -> std::sync::Arc<Vec<Vec<u8>>> {
    type Kept = Option<(PathBuf, Vec<u8>, std::sync::Arc<Vec<Vec<u8>>>)>;
    thread_local! {
        static LAST: std::cell::RefCell<Kept> = const { std::cell::RefCell::new(None) };
    }
    if let Some(h) = LAST.with_borrow(|l| match l {
        Some((p, s, h)) if p == file && s == src => Some(h.clone()),
        _ => None,
    }) {
        return h;
    }
    let headers = std::sync::Arc::new(read_near_headers(tree, file, src));
    LAST.set(Some((file.to_path_buf(), src.to_vec(), headers.clone())));
    headers
}

fn read_near_headers(tree: &Path, file: &Path, src: &[u8]) -> Vec<Vec<u8>> {
    // The file, then each level's headers in the order met: a level is a range of `read`.
    let mut read: Vec<(PathBuf, Vec<u8>)> = vec![(file.to_path_buf(), src.to_vec())];
    let mut level = 0..1;
    for _depth in 1..4 {
        let start = read.len();
        for i in level {
            let dir = read[i].0.parent().unwrap_or(tree).to_path_buf();
            for h in included(&read[i].1, &dir, tree) {
                if read.iter().any(|(p, _)| *p == h) {
                    continue;
                }
                // A header that cannot be read names nothing, as before: it is kept as empty.
                let b = std::fs::read(&h).unwrap_or_default();
                read.push((h, b));
            }
        }
        level = start..read.len();
    }
    read.into_iter().skip(1).map(|(_, b)| b).collect()
}

/// The headers `src` includes that exist, resolved as the kernel's build does for a file in
/// `dir`: `"x.h"` beside it, `<x.h>` under `include/` of the tree.
fn included(src: &[u8], dir: &Path, tree: &Path) -> Vec<PathBuf> {
    src.split(|&b| b == b'\n')
        .filter_map(|line| {
            let rest = line.trim_ascii_start().strip_prefix(b"#")?;
            let rest = rest.trim_ascii_start().strip_prefix(b"include")?;
            let rest = rest.trim_ascii_start();
            let (base, close) = match rest.first()? {
                b'"' => (dir.to_path_buf(), b'"'),
                b'<' => (tree.join("include"), b'>'),
                _ => return None,
            };
            let end = rest[1..].iter().position(|&b| b == close)?;
            let name = std::str::from_utf8(&rest[1..1 + end]).ok()?;
            let p = base.join(name);
            (!name.contains("..") && p.is_file()).then_some(p)
        })
        .collect()
}

fn whole_word(bytes: &[u8], at: usize, len: usize) -> bool {
    let before = at.checked_sub(1).map(|i| bytes[i]);
    let after = bytes.get(at + len).copied();
    !before.is_some_and(is_ident_byte) && !after.is_some_and(is_ident_byte)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The run's walk outside git lists exactly the files the scan's own walk reads: hidden
    /// ones and ones over the size limit too, but no link, directory, other file or `.git`.
    #[test]
    fn the_walks_list_is_the_files_the_scan_would_walk() {
        let d = tempfile::tempdir().unwrap();
        let t = d.path();
        for dir in ["sub", ".pc", ".git", "x.c"] {
            std::fs::create_dir(t.join(dir)).unwrap();
        }
        for f in [
            "a.c",
            "sub/b.h",
            ".pc/c.c",
            ".git/d.c",
            "notes.txt",
            "big.c",
        ] {
            std::fs::write(t.join(f), "int needle;\n").unwrap();
        }
        std::fs::write(
            t.join("big.c"),
            format!("int needle;\n{}", " ".repeat(4096)),
        )
        .unwrap();
        std::os::unix::fs::symlink(t.join("a.c"), t.join("link.c")).unwrap();
        let scanned = std::sync::atomic::AtomicUsize::new(0);
        let opts = crate::walk::Options {
            jobs: 2,
            max_size: 1024,
            scanned: &scanned,
        };
        let prefilter = crate::walk::Prefilter::new(&[vec!["needle".to_string()]]);
        let listing = crate::walk::list(&[t.to_path_buf()], &prefilter, &opts, &|_| {});
        let mut every = listing.every.expect("outside git, the walk keeps its list");
        every.sort();
        let words = [b"needle".to_vec()];
        let walked = scan_tree(t, &words);
        let names = |v: &[PathBuf]| -> Vec<String> {
            v.iter()
                .map(|p| p.strip_prefix(t).unwrap().display().to_string())
                .collect()
        };
        assert_eq!(names(&walked[0]), [".pc/c.c", "a.c", "big.c", "sub/b.h"]);
        assert_eq!(names(&every), names(&walked[0]));
        assert_eq!(scan_files(&every, &words), walked);
    }

    #[test]
    fn only_whole_words_in_other_c_and_h_files_count() {
        let d = tempfile::tempdir().unwrap();
        let a = d.path().join("a.c");
        std::fs::write(&a, "const struct file_operations foo_fops = {};\n").unwrap();
        std::fs::write(d.path().join("b.c"), "int my_foo_fops_count;\n").unwrap();
        std::fs::write(d.path().join("notes.txt"), "foo_fops\n").unwrap();
        assert_eq!(named_in(d.path(), &a, b"foo_fops"), None);
        // The answer is kept per word, whoever asks: for another file, a.c names it.
        let b = d.path().join("b.c");
        assert_eq!(
            named_in(d.path(), &b, b"foo_fops"),
            Some(PathBuf::from("a.c"))
        );
        std::fs::write(d.path().join("c.h"), "extern int foo_fops2, foo_fops;\n").unwrap();
        // A fresh word: the answer above is kept for the run.
        assert_eq!(
            named_in(d.path(), &a, b"foo_fops2"),
            Some(PathBuf::from("c.h"))
        );
    }

    #[test]
    fn a_name_is_declared_near_through_included_headers_only() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("include/linux")).unwrap();
        std::fs::create_dir(d.path().join("fs")).unwrap();
        std::fs::write(d.path().join("fs/local.h"), "#include <linux/deep.h>\n").unwrap();
        std::fs::write(
            d.path().join("include/linux/deep.h"),
            "extern const struct file_operations deep_fops;\n",
        )
        .unwrap();
        std::fs::write(d.path().join("fs/other.h"), "extern int near_fops;\n").unwrap();
        let file = d.path().join("fs/a.c");
        let src = b"#include \"local.h\"\nvoid f(void) { g(&deep_fops, &near_fops, &own_fops); }\nint own_fops;\n";
        assert!(declared_near(d.path(), &file, src, b"deep_fops"));
        // The file's own text is the caller's to read.
        assert!(!declared_near(d.path(), &file, src, b"own_fops"));
        // other.h names it, but a.c does not include it: a macro must have made the name.
        let macro_made = b"#include \"local.h\"\nvoid f(void) { g(&near_fops); }\n";
        assert!(!declared_near(d.path(), &file, macro_made, b"near_fops"));
    }

    #[test]
    fn one_walk_answers_for_every_word() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join("sub")).unwrap();
        std::fs::write(d.path().join("a.c"), "x_fops y_fops\n").unwrap();
        std::fs::write(d.path().join("sub/b.h"), "extern int y_fops;\n").unwrap();
        std::fs::write(d.path().join("sub/c.c"), "int zy_fops;\n").unwrap();
        let words = [b"x_fops".to_vec(), b"y_fops".to_vec(), b"w_fops".to_vec()];
        look_up(d.path(), &words);
        // Kept: a file written after the walk is not seen for these words.
        std::fs::write(d.path().join("late.c"), "x_fops\n").unwrap();
        assert_eq!(files_naming(d.path(), b"x_fops"), [d.path().join("a.c")]);
        assert_eq!(
            files_naming(d.path(), b"y_fops"),
            [d.path().join("a.c"), d.path().join("sub/b.h")]
        );
        assert!(files_naming(d.path(), b"w_fops").is_empty());
    }
}
