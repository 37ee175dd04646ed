//! Headers a converted file needs on the kernel it moves to: `#include <linux/pagewalk.h>`
//! inserted in kernel style (among its `<linux/...>` neighbours, in their order when they are
//! sorted, never twice), unless a header the file already includes brings it in.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use crate::edit::Edit;
use crate::parse::{directives, lex};

/// One `#include <path>` line of a file.
#[derive(Debug, Clone)]
struct Include {
    path: String,
    /// The line, newline included.
    line: std::ops::Range<usize>,
    /// Conditionals around it (an include guard counts).
    depth: usize,
}

fn includes(src: &[u8]) -> Vec<Include> {
    let lexed = lex::lex(src);
    let dirs = directives::read(src, &lexed);
    lexed
        .directives()
        .filter_map(|r| {
            let (word, rest) = directives::directive_word(&src[r.clone()]);
            if word != b"include" {
                return None;
            }
            let rest = rest.trim_ascii().strip_prefix(b"<")?;
            let end = rest.iter().position(|&b| b == b'>')?;
            let path = std::str::from_utf8(&rest[..end]).ok()?.to_string();
            // The directive's range stops before its line end (`\n` or `\r\n`).
            let next = memchr::memchr(b'\n', &src[r.end..]).map_or(src.len(), |i| r.end + i + 1);
            Some(Include {
                path,
                line: r.start..next,
                depth: dirs.guards_at(r.start).len(),
            })
        })
        .collect()
}

/// Where a target tree's headers are, and which headers each includes (read once each).
pub struct Target {
    root: PathBuf,
    cache: std::sync::Mutex<HashMap<String, Vec<String>>>,
}

impl Target {
    pub fn new(root: &Path) -> Target {
        Target {
            root: root.to_path_buf(),
            cache: Default::default(),
        }
    }

    /// `<path>` as the target resolves it: `include/` then `include/uapi/`.
    fn read(&self, path: &str) -> Vec<String> {
        if let Some(v) = self.cache.lock().unwrap().get(path) {
            return v.clone();
        }
        let found = ["include", "include/uapi"]
            .iter()
            .find_map(|d| std::fs::read(self.root.join(d).join(path)).ok());
        let v: Vec<String> = found
            .map(|b| includes(&b).into_iter().map(|i| i.path).collect())
            .unwrap_or_default();
        self.cache
            .lock()
            .unwrap()
            .insert(path.to_string(), v.clone());
        v
    }

    /// Does including `from` bring in `header` on the target (through at most 400 headers)?
    pub fn reaches(&self, from: &str, header: &str) -> bool {
        let mut seen: HashSet<String> = HashSet::new();
        let mut todo = vec![from.to_string()];
        while let Some(h) = todo.pop() {
            if h == header {
                return true;
            }
            if seen.len() > 400 || !seen.insert(h.clone()) {
                continue;
            }
            todo.extend(self.read(&h));
        }
        false
    }
}

/// After `rule` converted something in `bytes` (their whole new text): add the header its new
/// API lives in on the target.
pub fn add_for_rule(rule: &crate::rule::Rule, target: &Target, bytes: &mut Vec<u8>) {
    let Some(header) = rule.target.as_ref().and_then(|t| t.include.as_deref()) else {
        return;
    };
    if let Some(e) = include_edit(bytes, header, Some(target)) {
        *bytes = crate::edit::EditSet::new(vec![e])
            .expect("one edit")
            .apply(bytes);
    }
}

/// Where the line after the file's last outermost `#include` starts.
pub fn after_last_include(src: &[u8]) -> Option<usize> {
    let all = includes(src);
    let top = all.iter().map(|i| i.depth).min()?;
    all.iter().rfind(|i| i.depth == top).map(|i| i.line.end)
}

/// The edit that makes `src` include `<header>`, or None when it does (directly, or through a
/// header it includes, when `target` is known).
pub fn include_edit(src: &[u8], header: &str, target: Option<&Target>) -> Option<Edit> {
    let all = includes(src);
    if all.iter().any(|i| i.path == header)
        || target.is_some_and(|t| all.iter().any(|i| t.reaches(&i.path, header)))
    {
        return None;
    }
    let nl: &[u8] = if src.windows(2).any(|w| w == b"\r\n") {
        b"\r\n"
    } else {
        b"\n"
    };
    let mut line = format!("#include <{header}>").into_bytes();
    line.extend_from_slice(nl);
    // The outermost includes (inside an include guard at most) of the header's own directory.
    let top = all.iter().map(|i| i.depth).min()?;
    let dir = header.split_once('/').map_or("", |d| d.0);
    let peers: Vec<&Include> = all
        .iter()
        .filter(|i| i.depth == top && i.path.split_once('/').map_or("", |d| d.0) == dir)
        .collect();
    let at = if peers.is_empty() {
        all.iter().rfind(|i| i.depth == top)?.line.end
    } else if peers.windows(2).all(|w| w[0].path <= w[1].path) {
        peers
            .iter()
            .find(|i| i.path.as_str() > header)
            .map_or(peers.last().unwrap().line.end, |i| i.line.start)
    } else {
        peers.last().unwrap().line.end
    };
    Some(Edit::insert(at, line))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(src: &str, target: Option<&Target>) -> String {
        match include_edit(src.as_bytes(), "linux/pagewalk.h", target) {
            Some(e) => crate::edit::EditSet::new(vec![e])
                .unwrap()
                .apply(src.as_bytes()),
            None => src.as_bytes().to_vec(),
        }
        .into_iter()
        .map(char::from)
        .collect()
    }

    #[test]
    fn sorted_neighbours_take_it_in_order() {
        let src = "// x\n#include <linux/mm.h>\n#include <linux/sched.h>\n#include <asm/tlb.h>\n";
        assert_eq!(
            apply(src, None),
            "// x\n#include <linux/mm.h>\n#include <linux/pagewalk.h>\n#include <linux/sched.h>\n#include <asm/tlb.h>\n"
        );
    }

    #[test]
    fn unsorted_neighbours_get_it_last_and_none_twice() {
        let src = "#include <linux/sched.h>\n#include <linux/mm.h>\n#include <asm/tlb.h>\n";
        let once = apply(src, None);
        assert_eq!(
            once,
            "#include <linux/sched.h>\n#include <linux/mm.h>\n#include <linux/pagewalk.h>\n#include <asm/tlb.h>\n"
        );
        assert_eq!(apply(&once, None), once);
    }

    #[test]
    fn no_linux_includes_means_after_the_last_include_and_crlf_is_kept() {
        let src = "#include <asm/tlb.h>\r\n\r\nint x;\r\n";
        assert_eq!(
            apply(src, None),
            "#include <asm/tlb.h>\r\n#include <linux/pagewalk.h>\r\n\r\nint x;\r\n"
        );
    }

    #[test]
    fn includes_under_a_conditional_are_not_the_place() {
        let src = "#include <linux/mm.h>\n#ifdef CONFIG_X\n#include <linux/a.h>\n#endif\n";
        assert_eq!(
            apply(src, None),
            "#include <linux/mm.h>\n#include <linux/pagewalk.h>\n#ifdef CONFIG_X\n#include <linux/a.h>\n#endif\n"
        );
    }

    #[test]
    fn a_header_that_brings_it_in_on_the_target_is_enough() {
        let t = tempfile::tempdir().unwrap();
        let inc = t.path().join("include/linux");
        std::fs::create_dir_all(&inc).unwrap();
        std::fs::write(inc.join("mm.h"), "#include <linux/mm_types.h>\n").unwrap();
        std::fs::write(inc.join("mm_types.h"), "#include <linux/pagewalk.h>\n").unwrap();
        let target = Target::new(t.path());
        let src = "#include <linux/mm.h>\n";
        assert_eq!(apply(src, Some(&target)), src);
        // Without the target's knowledge, the include is added.
        assert_ne!(apply(src, None), src);
    }
}
