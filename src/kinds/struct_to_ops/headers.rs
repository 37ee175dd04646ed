//! Functions a file sees through its `#include` lines: the headers it includes from the tree
//! are read (once per file, only when a callback is not a function of the file itself) for
//! function declarations, so that a callback defined in another file is a constant too.

use std::cell::OnceCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::parse::{self, Macros};

/// Where a file sits: the tree it belongs to and its own path (for `#include` lookup).
#[derive(Debug, Clone, Copy)]
pub struct Origin<'a> {
    pub tree: &'a Path,
    pub file: &'a Path,
    pub macros: &'a std::sync::Arc<Macros>,
}

/// The functions declared by the headers a file includes, each with the offset of the
/// `#include` line (in the including file) that brings it in.
pub struct Included<'a> {
    origin: Option<Origin<'a>>,
    src: &'a [u8],
    functions: OnceCell<HashMap<Vec<u8>, usize>>,
}

impl<'a> Included<'a> {
    pub fn new(origin: Option<Origin<'a>>, src: &'a [u8]) -> Self {
        Included {
            origin,
            src,
            functions: OnceCell::new(),
        }
    }

    /// The offset of the `#include` that declares `name` as a function, if any does.
    pub fn function(&self, name: &[u8]) -> Option<usize> {
        self.functions
            .get_or_init(|| self.read())
            .get(name)
            .copied()
    }

    fn read(&self) -> HashMap<Vec<u8>, usize> {
        let mut out = HashMap::new();
        let Some(o) = self.origin else {
            return out;
        };
        let Ok(tree) = o.tree.canonicalize() else {
            return out;
        };
        let dir = o.file.parent().unwrap_or(o.tree);
        for (at, quoted, name) in includes(self.src) {
            let Some(path) = resolve(&tree, dir, quoted, &name) else {
                continue;
            };
            // Headers are small; an unreadable or unparsable one simply declares nothing.
            let Ok(text) = std::fs::read(&path) else {
                continue;
            };
            let Ok(p) = parse::parse_with(&text, Duration::from_secs(2), o.macros) else {
                continue;
            };
            for (f, _) in super::find::file_functions(&text, p.tree.root_node()) {
                out.entry(f).or_insert(at);
            }
        }
        out
    }
}

/// `#include "x.h"` / `#include <x.h>` lines: (offset, quoted, name).
fn includes(src: &[u8]) -> Vec<(usize, bool, String)> {
    let lexed = crate::parse::lex::lex(src);
    lexed
        .directives()
        .filter_map(|line| {
            let (word, rest) = crate::parse::directives::directive_word(&src[line.clone()]);
            if word != b"include" {
                return None;
            }
            let rest = rest.trim_ascii();
            let (quoted, close) = match rest.first()? {
                b'"' => (true, b'"'),
                b'<' => (false, b'>'),
                _ => return None,
            };
            let end = rest[1..].iter().position(|&b| b == close)?;
            let name = std::str::from_utf8(&rest[1..1 + end]).ok()?;
            Some((line.start, quoted, name.to_string()))
        })
        .collect()
}

/// The header an include names, inside the tree: `"x.h"` next to the file first, then (as
/// `<x.h>`) under `include/`. Anything that resolves outside the tree is not read.
fn resolve(tree: &Path, dir: &Path, quoted: bool, name: &str) -> Option<PathBuf> {
    let mut candidates = Vec::new();
    if quoted {
        candidates.push(dir.join(name));
    }
    candidates.push(tree.join("include").join(name));
    candidates
        .into_iter()
        .filter_map(|p| p.canonicalize().ok())
        .find(|p| p.starts_with(tree) && p.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn include_lines_are_read_with_their_offsets() {
        let src = b"#include <linux/mm.h>\n# include \"internal.h\"\n#define X\nint x;\n";
        let got = includes(src);
        assert_eq!(
            got,
            vec![
                (0, false, "linux/mm.h".to_string()),
                (22, true, "internal.h".to_string())
            ]
        );
    }

    #[test]
    fn headers_declare_functions_not_variables() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("cb.h"),
            "extern int cb_pte(void *p);\nint (*cb_var)(void *p);\nextern int cb_int;\n",
        )
        .unwrap();
        let file = dir.path().join("f.c");
        let src = b"/* x */\n#include \"cb.h\"\n";
        let macros = std::sync::Arc::new(Macros::builtin());
        let origin = Origin {
            tree: dir.path(),
            file: &file,
            macros: &macros,
        };
        let inc = Included::new(Some(origin), src);
        assert_eq!(inc.function(b"cb_pte"), Some(8));
        assert_eq!(inc.function(b"cb_var"), None);
        assert_eq!(inc.function(b"cb_int"), None);
        assert_eq!(Included::new(None, src).function(b"cb_pte"), None);
    }
}
