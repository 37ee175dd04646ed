//! Names across files: does any other `.c`/`.h` file of the tree name a word? Asked only for
//! the few names a proof needs it for (a non-static definition a kind would otherwise flag),
//! one walk of the tree per name, answers kept for the run.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use ignore::WalkBuilder;

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
    let key = (tree.to_path_buf(), word.to_vec());
    let cached = cache().lock().unwrap().get(&key).cloned();
    let hits = match cached {
        Some(h) => h,
        None => {
            let h = scan(tree, word);
            cache().lock().unwrap().insert(key, h.clone());
            h
        }
    };
    hits.into_iter()
        .find(|p| p != file)
        .map(|p| p.strip_prefix(tree).map(Path::to_path_buf).unwrap_or(p))
}

/// Every `.c`/`.h` file of `tree` naming `word`, sorted.
fn scan(tree: &Path, word: &[u8]) -> Vec<PathBuf> {
    let finder = memchr::memmem::Finder::new(word);
    let walk = WalkBuilder::new(tree)
        .follow_links(false)
        .hidden(true)
        .require_git(true)
        .build();
    let mut found: Vec<PathBuf> = walk
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_some_and(|t| t.is_file()))
        .map(|e| e.into_path())
        .filter(|p| p.extension().is_some_and(|x| x == "c" || x == "h"))
        .filter(|p| match std::fs::read(p) {
            Ok(bytes) => finder
                .find_iter(&bytes)
                .any(|at| whole_word(&bytes, at, word.len())),
            Err(_) => true,
        })
        .collect();
    found.sort();
    found
}

fn whole_word(bytes: &[u8], at: usize, len: usize) -> bool {
    let before = at.checked_sub(1).map(|i| bytes[i]);
    let after = bytes.get(at + len).copied();
    !before.is_some_and(is_ident_byte) && !after.is_some_and(is_ident_byte)
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
