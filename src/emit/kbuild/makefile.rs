//! Makefile / Kbuild reading: the assignments of each Kbuild file and the chain of
//! `obj-$(CONFIG_X)` lines that builds a source file into the kernel.

use regex::Regex;
use std::path::Path;
use std::sync::{Arc, LazyLock};

use super::Req;
use super::cache::FileCache;

/// Bound on composite-object / list-variable hops inside one Makefile.
const MAX_COMPOSITE: usize = 4;

/// One assignment of a Makefile/Kbuild file (`<var>-<suffix> <op> words`), continuation
/// lines joined and comments removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MakeLine {
    /// 1-based line number of the first physical line.
    pub line: usize,
    /// The variable stem: `obj`, `lib`, `core`, `proc`, `mmu`, `page-alloc`, …
    pub var: String,
    /// The suffix as written: `y`, `m`, `objs`, `$(CONFIG_X)`, `$(BITS)`, …
    pub suffix: String,
    /// `+=`, `:=`, `=` or `?=`.
    pub op: String,
    pub words: Vec<String>,
    /// `CONFIG_` symbols of the enclosing `ifdef CONFIG_X` / `ifeq ($(CONFIG_X),y)` /
    /// `ifneq ($(CONFIG_X),)` blocks, outermost first, with the line of the conditional.
    pub guards: Vec<(String, usize)>,
    /// Enclosing conditionals on `CONFIG_` symbols that could not be reduced to a required
    /// symbol (`ifndef CONFIG_X`, the `else` of `ifdef CONFIG_X`, …).
    pub other_conds: Vec<String>,
}

impl MakeLine {
    /// The symbol of a `-$(CONFIG_X)` suffix.
    pub fn config(&self) -> Option<&str> {
        self.suffix
            .strip_prefix("$(CONFIG_")
            .and_then(|s| s.strip_suffix(')'))
    }
    /// A short rendering showing only `word` out of the value.
    fn show(&self, word: &str) -> String {
        let more = if self.words.len() > 1 { "… " } else { "" };
        format!("{}-{} {} {more}{word}", self.var, self.suffix, self.op)
    }
}

/// Variables whose words are built directly (everything else is a composite object or a
/// list variable referenced as `$(var-y)`).
const TERMINAL_VARS: &[&str] = &[
    "obj", "lib", "extra", "always", "subdir", "core", "drivers", "libs", "net", "init", "virt",
    "head",
];

static ASSIGN_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^([A-Za-z0-9_.\-]+)-(y|m|objs|\$\([^)]*\))\s*(\+=|:=|\?=|=)\s*(.*)$").unwrap()
});
static COND_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(ifdef|ifndef|ifeq|ifneq)\b\s*(.*)$").unwrap());

/// Parse the assignments of a Makefile or Kbuild file.
pub fn parse_makefile(text: &str) -> Vec<MakeLine> {
    // (positive symbol, other text, line)
    struct Frame {
        sym: Option<String>,
        other: Option<String>,
        line: usize,
    }
    let mut out = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut logical = String::new();
    let mut start = 0;
    for (i, raw) in text.lines().enumerate() {
        if logical.is_empty() {
            start = i + 1;
        }
        let line = strip_make_comment(raw);
        if let Some(body) = line.strip_suffix('\\') {
            logical.push_str(body);
            logical.push(' ');
            continue;
        }
        logical.push_str(&line);
        let l = std::mem::take(&mut logical);
        let t = l.trim();
        if t.is_empty() {
            continue;
        }
        if let Some(c) = COND_RE.captures(t) {
            let (sym, other) = make_condition(&c[1], c[2].trim());
            stack.push(Frame {
                sym,
                other,
                line: start,
            });
            continue;
        }
        if t == "else" || t.starts_with("else ") || t.starts_with("else\t") {
            if let Some(f) = stack.last_mut() {
                let was = match (&f.sym, &f.other) {
                    (Some(s), _) => format!("CONFIG_{s}"),
                    (None, Some(o)) => o.clone(),
                    (None, None) => String::new(),
                };
                f.sym = None;
                f.other = Some(format!("else of `{was}` (line {})", f.line));
                // `else ifdef CONFIG_X` starts a new test in the same frame.
                let rest = t["else".len()..].trim();
                if let Some(c) = COND_RE.captures(rest) {
                    let (sym, other) = make_condition(&c[1], c[2].trim());
                    f.sym = sym;
                    if f.sym.is_some() {
                        f.other = None;
                    } else if let Some(o) = other {
                        f.other = Some(o);
                    }
                    f.line = start;
                }
            }
            continue;
        }
        if t == "endif" || t.starts_with("endif ") || t.starts_with("endif\t") {
            stack.pop();
            continue;
        }
        if let Some(c) = ASSIGN_RE.captures(t) {
            out.push(MakeLine {
                line: start,
                var: c[1].to_string(),
                suffix: c[2].to_string(),
                op: c[3].to_string(),
                words: c[4].split_whitespace().map(str::to_string).collect(),
                guards: stack
                    .iter()
                    .filter_map(|f| f.sym.clone().map(|s| (s, f.line)))
                    .collect(),
                other_conds: stack
                    .iter()
                    .filter_map(|f| f.other.clone())
                    .filter(|o| o.contains("CONFIG_"))
                    .collect(),
            });
        }
    }
    out
}

fn strip_make_comment(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut prev = ' ';
    for ch in raw.chars() {
        if ch == '#' && prev != '\\' {
            break;
        }
        out.push(ch);
        prev = ch;
    }
    out.trim_end().to_string()
}

/// Reduce a Makefile conditional to a required symbol (`Some(sym)`) or a note.
fn make_condition(kw: &str, arg: &str) -> (Option<String>, Option<String>) {
    let cfg = |s: &str| -> Option<String> {
        let s = s.trim().trim_matches(|c| c == '"' || c == '\'');
        s.strip_prefix("$(CONFIG_")
            .and_then(|s| s.strip_suffix(')'))
            .or_else(|| s.strip_prefix("CONFIG_"))
            .filter(|s| s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
            .map(str::to_string)
    };
    let note = Some(format!("{kw} {arg}"));
    match kw {
        "ifdef" => match cfg(arg) {
            Some(s) => (Some(s), None),
            None => (None, note),
        },
        "ifndef" => (None, note),
        _ => {
            // ifeq (a,b) | ifeq "a" "b" | ifeq 'a' 'b'
            let (a, b) =
                if let Some(inner) = arg.strip_prefix('(').and_then(|s| s.strip_suffix(')')) {
                    match split_top_comma(inner) {
                        Some(ab) => ab,
                        None => return (None, note),
                    }
                } else {
                    let parts: Vec<&str> = arg
                        .split(['"', '\''])
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .collect();
                    match parts.as_slice() {
                        [a] => (a.to_string(), String::new()),
                        [a, b] => (a.to_string(), b.to_string()),
                        _ => return (None, note),
                    }
                };
            let (sym, val) = match (cfg(&a), cfg(&b)) {
                (Some(s), None) => (s, b.trim().to_string()),
                (None, Some(s)) => (s, a.trim().to_string()),
                _ => return (None, note),
            };
            let positive = matches!((kw, val.as_str()), ("ifeq", "y" | "m") | ("ifneq", ""));
            if positive {
                (Some(sym), None)
            } else {
                (None, note)
            }
        }
    }
}

fn split_top_comma(s: &str) -> Option<(String, String)> {
    let mut depth = 0i32;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => return Some((s[..i].to_string(), s[i + 1..].to_string())),
            _ => {}
        }
    }
    None
}

/// Find `word` in one parsed Makefile and follow composites/list variables to a terminal
/// line. Appends requirements (outer conditions first) and notes. Returns whether `word`
/// was found at all.
fn find_in_makefile(
    lines: &[MakeLine],
    mk: &str,
    word: &str,
    reqs: &mut Vec<Req>,
    notes: &mut Vec<String>,
) -> bool {
    let mut word = word.to_string();
    let mut found_any = false;
    let mut chain: Vec<Req> = Vec::new();
    for hop in 0..=MAX_COMPOSITE {
        let cands: Vec<&MakeLine> = lines.iter().filter(|l| l.words.contains(&word)).collect();
        let Some(best) = cands
            .iter()
            .find(|l| TERMINAL_VARS.contains(&l.var.as_str()) && l.suffix == "y")
            .or_else(|| {
                cands
                    .iter()
                    .find(|l| TERMINAL_VARS.contains(&l.var.as_str()))
            })
            .or_else(|| cands.iter().find(|l| l.suffix != "m"))
            .or_else(|| cands.first())
        else {
            if found_any {
                notes.push(format!("{mk}: no line builds `{word}`"));
            }
            break;
        };
        found_any = true;
        let mut level: Vec<Req> = Vec::new();
        for (s, n) in &best.guards {
            level.push((
                s.clone(),
                format!("{mk}:{n}: ifdef CONFIG_{s} around {}", best.show(&word)),
            ));
        }
        for o in &best.other_conds {
            notes.push(format!(
                "{mk}:{}: `{}` inside `{o}`",
                best.line,
                best.show(&word)
            ));
        }
        if let Some(s) = best.config() {
            level.push((
                s.to_string(),
                format!("{mk}:{}: {}", best.line, best.show(&word)),
            ));
        } else if best.suffix == "m" {
            notes.push(format!(
                "{mk}:{}: {} is module-only",
                best.line,
                best.show(&word)
            ));
        } else if best.suffix.starts_with("$(") {
            notes.push(format!(
                "{mk}:{}: condition `{}` not understood",
                best.line,
                best.show(&word)
            ));
        }
        // The outer (composite) requirement is found later but must come first.
        level.append(&mut chain);
        chain = level;
        if TERMINAL_VARS.contains(&best.var.as_str()) {
            break;
        }
        if hop == MAX_COMPOSITE {
            notes.push(format!("{mk}: composite chain of `{word}` too deep"));
            break;
        }
        // A composite object `var.o` or a list variable used as `$(var-y)`.
        let v = &best.var;
        let next = [
            format!("{v}.o"),
            format!("$({v}-y)"),
            format!("$({v}-objs)"),
            format!("$({v}-m)"),
        ]
        .into_iter()
        .find(|w| lines.iter().any(|l| l.words.iter().any(|x| x == w)));
        match next {
            Some(n) => word = n,
            None => {
                notes.push(format!("{mk}: nothing uses `{v}-…` (composite of {word})"));
                break;
            }
        }
    }
    reqs.extend(chain);
    found_any
}

/// The `Kbuild` and `Makefile` of a directory that exist, parsed (each once per process).
fn read_makefiles(tree: &Path, dir: &str) -> Vec<(String, Arc<Vec<MakeLine>>)> {
    static FILES: FileCache<Vec<MakeLine>> = FileCache::new();
    let mut out = Vec::new();
    for name in ["Kbuild", "Makefile"] {
        let rel = if dir.is_empty() {
            name.to_string()
        } else {
            format!("{dir}/{name}")
        };
        if let Some(lines) = FILES.get(tree.join(&rel), parse_makefile) {
            out.push((rel, lines));
        }
    }
    out
}

pub(super) fn parent_dir(p: &str) -> &str {
    p.rfind('/').map_or("", |i| &p[..i])
}

fn base_name(p: &str) -> &str {
    p.rfind('/').map_or(p, |i| &p[i + 1..])
}

/// The Kbuild chain of `rel` (a `.c`/`.S` file): requirements top-down, then notes.
pub(super) fn kbuild_chain(tree: &Path, rel: &str, srcarch: &str) -> (Vec<Req>, Vec<String>) {
    let mut notes = Vec::new();
    let mut levels: Vec<Vec<Req>> = Vec::new();
    let dir = parent_dir(rel);
    let obj = format!(
        "{}.o",
        base_name(rel)
            .rsplit_once('.')
            .map_or(base_name(rel), |p| p.0)
    );
    // The object in its own directory (or, as `sub/name.o`, in an ancestor).
    let mut found = false;
    let mut d = dir;
    let mut word = obj.clone();
    loop {
        let mut reqs = Vec::new();
        for (mk, lines) in read_makefiles(tree, d) {
            if find_in_makefile(&lines, &mk, &word, &mut reqs, &mut notes) {
                found = true;
                break;
            }
        }
        if found {
            levels.push(reqs);
            break;
        }
        if d.is_empty() || levels.len() > 2 {
            break;
        }
        word = format!("{}/{word}", base_name(d));
        d = parent_dir(d);
        levels.push(Vec::new());
    }
    if !found {
        notes.push(format!(
            "no Kbuild line builds {obj} (looked in {dir}/ and above)"
        ));
        d = dir;
    }
    // The directories above.
    let tops: Vec<(String, Arc<Vec<MakeLine>>)> = read_makefiles(tree, "")
        .into_iter()
        .filter(|(mk, _)| mk == "Makefile")
        .chain(
            read_makefiles(tree, &format!("arch/{srcarch}"))
                .into_iter()
                .filter(|(mk, _)| mk.ends_with("/Makefile")),
        )
        .collect();
    while !d.is_empty() {
        let parent = parent_dir(d);
        let mut reqs = Vec::new();
        let mut hit = false;
        if !parent.is_empty() {
            let word = format!("{}/", base_name(d));
            for (mk, lines) in read_makefiles(tree, parent) {
                if find_in_makefile(&lines, &mk, &word, &mut reqs, &mut notes) {
                    hit = true;
                    break;
                }
            }
        }
        if !hit {
            // Top-level lists: `core-y += mm/`, `core-y += arch/s390/`, `drivers-y += …`.
            let word = format!("{d}/");
            for (mk, lines) in &tops {
                if find_in_makefile(lines, mk, &word, &mut reqs, &mut notes) {
                    levels.push(reqs);
                    reqs = Vec::new();
                    hit = true;
                    break;
                }
            }
            if hit {
                break;
            }
            if parent.is_empty() {
                notes.push(format!("no top-level Makefile line descends into {d}/"));
            } else {
                notes.push(format!("no Kbuild line descends into {d}/"));
            }
        }
        levels.push(reqs);
        d = parent;
    }
    let reqs = levels.into_iter().rev().flatten().collect();
    (reqs, notes)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MK: &str = "\
mmu-y\t\t\t:= nommu.o
mmu-$(CONFIG_MMU)\t:= highmem.o memory.o mincore.o \\
\t\t\t   mprotect.o # a comment
obj-y\t\t\t:= filemap.o \\
\t\t\t   debug.o gup.o $(mmu-y)
page-alloc-y := page_alloc.o
obj-y += page-alloc.o
ifdef CONFIG_MMU
\tobj-$(CONFIG_ADVISE_SYSCALLS)\t+= madvise.o
endif
ifeq ($(CONFIG_X86_32),y)
obj-y += only32.o
else
obj-y += only64.o
endif
obj-$(CONFIG_MEMCG) += memcontrol.o vmpressure.o
obj-$(CONFIG_KASAN)\t+= kasan/
CFLAGS_task_mmu.o\t+= $(call cc-option,-Wno-override-init,)
";

    fn chain(word: &str) -> (Vec<Req>, Vec<String>, bool) {
        let lines = parse_makefile(MK);
        let (mut r, mut n) = (Vec::new(), Vec::new());
        let f = find_in_makefile(&lines, "mm/Makefile", word, &mut r, &mut n);
        (r, n, f)
    }

    #[test]
    fn makefile_lines() {
        let lines = parse_makefile(MK);
        let mmu = &lines[1];
        assert_eq!(
            (mmu.line, mmu.var.as_str(), mmu.config()),
            (2, "mmu", Some("MMU"))
        );
        assert_eq!(
            mmu.words,
            ["highmem.o", "memory.o", "mincore.o", "mprotect.o"]
        );
        let syms = |r: &[Req]| r.iter().map(|(s, _)| s.clone()).collect::<Vec<_>>();
        let (r, _, f) = chain("mincore.o");
        assert!(f);
        assert_eq!(syms(&r), ["MMU"]);
        assert!(
            r[0].1
                .starts_with("mm/Makefile:2: mmu-$(CONFIG_MMU) := … mincore.o"),
            "{r:?}"
        );
        let (r, _, _) = chain("madvise.o");
        assert_eq!(syms(&r), ["MMU", "ADVISE_SYSCALLS"]);
        assert!(r[0].1.contains("ifdef CONFIG_MMU"));
        let (r, _, _) = chain("memcontrol.o");
        assert_eq!(syms(&r), ["MEMCG"]);
        assert_eq!(
            r[0].1,
            "mm/Makefile:16: obj-$(CONFIG_MEMCG) += … memcontrol.o"
        );
        let (r, _, f) = chain("page_alloc.o");
        assert!(f && r.is_empty());
        let (r, _, _) = chain("only32.o");
        assert_eq!(syms(&r), ["X86_32"]);
        let (r, n, _) = chain("only64.o");
        assert!(
            r.is_empty() && n.iter().any(|n| n.contains("else of")),
            "{n:?}"
        );
        let (r, _, _) = chain("kasan/");
        assert_eq!(syms(&r), ["KASAN"]);
        assert!(!chain("nothere.o").2);
    }

    #[test]
    fn makefile_conditions() {
        assert_eq!(
            make_condition("ifneq", "($(CONFIG_X),)").0.as_deref(),
            Some("X")
        );
        assert_eq!(
            make_condition("ifeq", "\"$(CONFIG_X)\" \"y\"").0.as_deref(),
            Some("X")
        );
        assert_eq!(
            make_condition("ifeq", "($(CONFIG_X), y)").0.as_deref(),
            Some("X")
        );
        assert!(make_condition("ifeq", "($(CONFIG_X),)").0.is_none());
        assert!(make_condition("ifndef", "CONFIG_X").0.is_none());
        assert!(make_condition("ifeq", "($(BITS),64)").0.is_none());
    }
}
