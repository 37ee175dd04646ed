//! Kbuild and Kconfig: which objects a touched file builds into, which symbols guard them,
//! and the compile-check scripts that build exactly those objects per arch.
//!
//! * [`arch_group`] / [`toolchain`]: touched paths are grouped by `arch/<a>/` (everything
//!   else is `generic`, built for x86_64 with the host gcc); each group has a known
//!   `ARCH`, `CROSS_COMPILE` prefix(es), Debian package and defconfig target.
//! * [`object_needs`]: walks the Kbuild chain of a source file upwards (the `obj-$(CONFIG_X)
//!   += name.o` line in its directory, composite objects and list variables such as
//!   `mmu-$(CONFIG_MMU) := … mincore.o` / `obj-y += $(mmu-y)`, `ifdef CONFIG_X` blocks, then
//!   each `obj-$(CONFIG_Y) += dir/` in the parents up to `core-y`/`drivers-y` in the top or
//!   arch Makefile), adds the `#if` guards of the edited sites, and resolves every symbol
//!   against Kconfig: visible symbols get their `depends on` enabled first, hidden ones are
//!   reached through their `default` or a visible symbol that `select`s them.  The Kconfig
//!   tree is read by following `source` lines from the top-level `Kconfig` with
//!   `$(SRCARCH)` substituted, so each arch sees its own definitions and the enclosing
//!   `if`/`menu`/`choice` dependencies; it is cached per (tree, arch), and each Kconfig file
//!   (like each Makefile) is read and split once per process for all arches.  When a tree has no
//!   top-level `Kconfig`, every file named `Kconfig*` outside other arches is scanned.
//! * [`group_script`] / [`all_script`]: the text of `check/<group>.sh` and `check/all.sh`
//!   (bash, `set -euo pipefail`).  The caller writes them and makes them executable.
//!
//! Resolution is deliberately simple and bounded: `depends on` expressions are split into
//! `&&` conjuncts, `||` alternatives are tried in order (one that is free, such as `!X` or
//! `X=n`, wins without enabling anything; `COMPILE_TEST` is tried last), `!X` and
//! non-symbol comparisons are skipped and recorded as notes, and recursion stops at
//! [`MAX_DEPTH`]: deeper symbols are still listed (and so verified by the script) but not
//! resolved further.  The scripts verify every listed symbol in the final `.config`, which
//! catches whatever this static view gets wrong.

use regex::Regex;
use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex};

/// Recursion bound of the Kconfig resolution (dependency and `select` hops).
pub const MAX_DEPTH: usize = 4;
/// How many selectors of one hidden symbol are tried.
const MAX_SELECTORS: usize = 12;
/// Overall bound on resolution steps for one object.
const MAX_STEPS: usize = 20_000;
/// Bound on composite-object / list-variable hops inside one Makefile.
const MAX_COMPOSITE: usize = 4;

// ---------------------------------------------------------------------------------------
// Arch groups and toolchains

/// Arch group of a repo-relative path: `arch/<a>/...` → `<a>`, everything else → `generic`.
pub fn arch_group(path: &str) -> String {
    let p = path.trim_start_matches("./");
    let mut it = p.split('/');
    match (it.next(), it.next(), it.next()) {
        (Some("arch"), Some(a), Some(_)) if !a.is_empty() => a.to_string(),
        _ => "generic".to_string(),
    }
}

/// How a group is built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toolchain {
    /// The `ARCH=` value.
    pub arch: String,
    /// Default `CROSS_COMPILE` prefixes, tried in order (`""` = host compiler).
    pub cross: Vec<String>,
    /// Debian package providing the first prefix's gcc.
    pub package: String,
    /// The make target that creates the base `.config`.
    pub defconfig: String,
    /// Added to `KCFLAGS` after `-Werror` (a warning the arch's own headers raise).
    pub extra_kcflags: &'static str,
    /// objtool is built (x86): older trees' libsubcmd fails with newer host gcc.
    pub objtool: bool,
}

/// The toolchain for an arch group.  `None` for arches we have no compiler for.
pub fn toolchain(group: &str) -> Option<Toolchain> {
    let tc = |arch: &str, cross: &[&str], package: &str, defconfig: &str| Toolchain {
        arch: arch.to_string(),
        cross: cross.iter().map(|s| s.to_string()).collect(),
        package: package.to_string(),
        defconfig: defconfig.to_string(),
        extra_kcflags: "",
        objtool: false,
    };
    match group {
        "generic" | "x86" => Some(Toolchain {
            objtool: true,
            ..tc("x86_64", &[""], "gcc", "defconfig")
        }),
        "s390" => Some(tc(
            "s390",
            &["s390x-linux-gnu-"],
            "gcc-s390x-linux-gnu",
            "defconfig",
        )),
        // Book3S-64 code (`arch/powerpc/**/book3s64/`: hash/radix MMU, subpage protection,
        // …) needs a 64-bit server config, and ppc64_defconfig is also the best-covering
        // default for everything else. A group needing another (32-bit, Book3E) would pick
        // it here from its touched paths; none does yet.
        "powerpc" => Some(tc(
            "powerpc",
            &["powerpc64-linux-gnu-"],
            "gcc-powerpc64-linux-gnu",
            "ppc64_defconfig",
        )),
        // The tree's own `#warning syscall clone3 not implemented` (checksyscalls) would stop
        // a -Werror build: it stays a warning.
        "openrisc" => Some(Toolchain {
            extra_kcflags: "-Wno-error=cpp",
            ..tc(
                "openrisc",
                &["or1k-elf-", "or1k-linux-"],
                "gcc-or1k-elf",
                "defconfig",
            )
        }),
        _ => None,
    }
}

/// The kernel's `SRCARCH` for an `ARCH` value (or a group name).
pub fn srcarch(arch: &str) -> &str {
    match arch {
        "x86_64" | "i386" | "x86" | "generic" => "x86",
        "sparc32" | "sparc64" => "sparc",
        "sh64" => "sh",
        other => other,
    }
}

// ---------------------------------------------------------------------------------------
// Makefile / Kbuild parsing

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

/// A requirement found on the way: a symbol and why it is needed.
type Req = (String, String);

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

fn parent_dir(p: &str) -> &str {
    p.rfind('/').map_or("", |i| &p[..i])
}

fn base_name(p: &str) -> &str {
    p.rfind('/').map_or(p, |i| &p[i + 1..])
}

/// The Kbuild chain of `rel` (a `.c`/`.S` file): requirements top-down, then notes.
fn kbuild_chain(tree: &Path, rel: &str, srcarch: &str) -> (Vec<Req>, Vec<String>) {
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

// ---------------------------------------------------------------------------------------
// Kconfig

/// A Kconfig expression (enough of the grammar for dependency resolution).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    /// A symbol, or the constants `y`, `m`, `n`.
    Sym(String),
    Not(Box<Expr>),
    And(Vec<Expr>),
    Or(Vec<Expr>),
    /// `a = b` (`true`) or `a != b` (`false`); other comparisons are [`Expr::Other`].
    Cmp(String, bool, String),
    /// Anything not understood (kept as text).
    Other(String),
}

impl Expr {
    /// Parse an expression; anything that does not parse becomes [`Expr::Other`].
    pub fn parse(s: &str) -> Expr {
        let toks = tokenize_expr(s);
        let mut p = ExprParser {
            toks: &toks,
            pos: 0,
        };
        match p.or() {
            Some(e) if p.pos == toks.len() => e,
            _ => Expr::Other(s.trim().to_string()),
        }
    }

    /// Symbols mentioned anywhere in the expression.
    fn symbols(&self, out: &mut Vec<String>) {
        match self {
            Expr::Sym(s) => out.push(s.clone()),
            Expr::Not(e) => e.symbols(out),
            Expr::And(v) | Expr::Or(v) => v.iter().for_each(|e| e.symbols(out)),
            Expr::Cmp(a, _, b) => {
                out.push(a.clone());
                out.push(b.clone());
            }
            Expr::Other(_) => {}
        }
    }
}

impl std::fmt::Display for Expr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Expr::Sym(s) => f.write_str(s),
            Expr::Not(e) => write!(f, "!{e}"),
            Expr::And(v) | Expr::Or(v) => {
                let op = if matches!(self, Expr::And(_)) {
                    " && "
                } else {
                    " || "
                };
                f.write_str("(")?;
                for (i, e) in v.iter().enumerate() {
                    if i > 0 {
                        f.write_str(op)?;
                    }
                    write!(f, "{e}")?;
                }
                f.write_str(")")
            }
            Expr::Cmp(a, eq, b) => write!(f, "{a}{}{b}", if *eq { "=" } else { "!=" }),
            Expr::Other(s) => f.write_str(s),
        }
    }
}

fn tokenize_expr(s: &str) -> Vec<String> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if s[i..].starts_with("&&")
            || s[i..].starts_with("||")
            || s[i..].starts_with("!=")
            || s[i..].starts_with("<=")
            || s[i..].starts_with(">=")
        {
            out.push(s[i..i + 2].to_string());
            i += 2;
        } else if b"()!=<>".contains(&c) {
            out.push((c as char).to_string());
            i += 1;
        } else if c == b'"' || c == b'\'' {
            let end = s[i + 1..].find(c as char).map_or(b.len(), |e| i + 1 + e);
            out.push(s[i..(end + 1).min(b.len())].to_string());
            i = end + 1;
        } else {
            let st = i;
            let mut depth = 0;
            while i < b.len() {
                let ch = b[i];
                if ch == b'$' && b.get(i + 1) == Some(&b'(') {
                    depth += 1;
                    i += 2;
                    continue;
                }
                if depth > 0 {
                    if ch == b'(' {
                        depth += 1;
                    } else if ch == b')' {
                        depth -= 1;
                    }
                    i += 1;
                    continue;
                }
                if ch.is_ascii_whitespace() || b"()!=<>&|\"'".contains(&ch) {
                    break;
                }
                i += 1;
            }
            if i == st {
                // A lone `&` or `|`.
                out.push((c as char).to_string());
                i += 1;
            } else {
                out.push(s[st..i].to_string());
            }
        }
    }
    out
}

struct ExprParser<'t> {
    toks: &'t [String],
    pos: usize,
}

impl<'t> ExprParser<'t> {
    fn peek(&self) -> Option<&'t str> {
        self.toks.get(self.pos).map(String::as_str)
    }
    fn or(&mut self) -> Option<Expr> {
        let mut v = vec![self.and()?];
        while self.peek() == Some("||") {
            self.pos += 1;
            v.push(self.and()?);
        }
        Some(if v.len() == 1 { v.pop()? } else { Expr::Or(v) })
    }
    fn and(&mut self) -> Option<Expr> {
        let mut v = vec![self.unary()?];
        while self.peek() == Some("&&") {
            self.pos += 1;
            v.push(self.unary()?);
        }
        Some(if v.len() == 1 { v.pop()? } else { Expr::And(v) })
    }
    fn unary(&mut self) -> Option<Expr> {
        if self.peek() == Some("!") {
            self.pos += 1;
            return Some(Expr::Not(Box::new(self.unary()?)));
        }
        if self.peek() == Some("(") {
            self.pos += 1;
            let e = self.or()?;
            if self.peek() != Some(")") {
                return None;
            }
            self.pos += 1;
            return Some(e);
        }
        let a = self.atom()?;
        match self.peek() {
            Some(op @ ("=" | "!=" | "<" | ">" | "<=" | ">=")) => {
                let op = op.to_string();
                self.pos += 1;
                let b = self.atom()?;
                Some(match op.as_str() {
                    "=" => Expr::Cmp(a, true, b),
                    "!=" => Expr::Cmp(a, false, b),
                    _ => Expr::Other(format!("{a} {op} {b}")),
                })
            }
            _ => Some(Expr::Sym(a)),
        }
    }
    fn atom(&mut self) -> Option<String> {
        let t = self.peek()?;
        if matches!(
            t,
            "(" | ")" | "!" | "&&" | "||" | "=" | "!=" | "<" | ">" | "<=" | ">="
        ) {
            return None;
        }
        self.pos += 1;
        Some(t.to_string())
    }
}

/// Kconfig text shared between the statements of a file and the definitions of every arch.
pub type KText = Arc<str>;

/// One `config`/`menuconfig` definition.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KSym {
    pub name: KText,
    /// Repo-relative file and 1-based line of the `config` line.
    pub file: KText,
    pub line: usize,
    /// `bool`, `tristate`, `string`, `int`, `hex` (empty if not given).
    pub kind: &'static str,
    /// Has a prompt (is user-visible, possibly conditionally).
    pub prompt: bool,
    /// Own `depends on` expressions plus those of enclosing `if`/`menu`/`choice` blocks.
    pub depends: Vec<KText>,
    /// `select X [if COND]`.
    pub selects: Vec<(KText, Option<KText>)>,
    /// `default V [if COND]` and `def_bool`/`def_tristate V [if COND]`.
    pub defaults: Vec<(KText, Option<KText>)>,
    /// Index into [`Kconfig::choices`] when a member of a `choice`.
    pub choice: Option<usize>,
}

/// All definitions visible for one arch.
#[derive(Debug, Default)]
pub struct Kconfig {
    pub defs: Vec<KSym>,
    /// Members of each `choice` block.
    pub choices: Vec<Vec<KText>>,
    by_name: HashMap<KText, Vec<usize>>,
    /// Symbol → (index of the selecting definition, `if` condition).
    selected_by: HashMap<KText, Vec<(usize, Option<KText>)>>,
}

impl Kconfig {
    /// Parse Kconfig text on its own (no `source` following); `file` names it in results.
    pub fn parse_str(text: &str, file: &str) -> Kconfig {
        let mut p = KParser::default();
        p.parse_text(text, file, None);
        p.finish()
    }

    /// The Kconfig view of `tree` for `arch` (an `ARCH` value or a group), cached.
    pub fn load(tree: &Path, arch: &str) -> Arc<Kconfig> {
        static CACHE: OnceMap<(PathBuf, String), Arc<Kconfig>> = OnceMap::new();
        let key = (tree.to_path_buf(), srcarch(arch).to_string());
        CACHE.get(key, |(tree, srcarch)| {
            Arc::new(Self::read_tree(tree, srcarch))
        })
    }

    fn read_tree(tree: &Path, srcarch: &str) -> Kconfig {
        let mut p = KParser {
            srcarch: srcarch.to_string(),
            ..KParser::default()
        };
        if tree.join("Kconfig").is_file() {
            p.parse_file(tree, "Kconfig", 0);
            // Old trees start at arch/$(SRCARCH)/Kconfig instead.
            if !p.seen.contains(&format!("arch/{srcarch}/Kconfig"))
                && tree.join(format!("arch/{srcarch}/Kconfig")).is_file()
            {
                p.parse_file(tree, &format!("arch/{srcarch}/Kconfig"), 0);
            }
        } else {
            let mut files = Vec::new();
            scan_kconfig_files(tree, "", srcarch, &mut files);
            files.sort();
            for f in files {
                p.parse_file(tree, &f, 99);
            }
        }
        p.finish()
    }

    /// Definitions of `name`.
    pub fn get(&self, name: &str) -> Vec<&KSym> {
        self.by_name
            .get(name)
            .map(|v| v.iter().map(|&i| &self.defs[i]).collect())
            .unwrap_or_default()
    }

    /// Definitions that `select name`, with their condition.
    pub fn selectors(&self, name: &str) -> Vec<(&KSym, Option<&str>)> {
        self.selected_by
            .get(name)
            .map(|v| {
                v.iter()
                    .map(|(i, c)| (&self.defs[*i], c.as_deref()))
                    .collect()
            })
            .unwrap_or_default()
    }
}

fn scan_kconfig_files(tree: &Path, rel: &str, srcarch: &str, out: &mut Vec<String>) {
    let Ok(rd) = std::fs::read_dir(tree.join(rel)) else {
        return;
    };
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let r = if rel.is_empty() {
            name.clone()
        } else {
            format!("{rel}/{name}")
        };
        let Ok(ft) = e.file_type() else { continue };
        if ft.is_dir() {
            if name.starts_with('.') || (rel == "arch" && name != srcarch) {
                continue;
            }
            scan_kconfig_files(tree, &r, srcarch, out);
        } else if name.starts_with("Kconfig") {
            out.push(r);
        }
    }
}

#[derive(Debug)]
enum Block {
    If(KText),
    Menu(Vec<KText>),
    Choice(usize, Vec<KText>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cur {
    None,
    Entry(usize),
    Menu,
    Choice,
}

/// One statement of a Kconfig file: logical lines joined, comments and help text dropped,
/// attributes we do not use left out. A file's statements do not depend on the arch
/// (`$(SRCARCH)` is substituted when a `source` is followed), so each file is read and split
/// once per run and replayed for every arch.
#[derive(Debug)]
enum KLine {
    Config {
        name: KText,
        line: usize,
    },
    Choice,
    EndChoice,
    Menu,
    EndMenu,
    If(KText),
    EndIf,
    Source {
        relative: bool,
        path: String,
    },
    /// `comment`, `mainmenu`: ends the current entry.
    Other,
    Depends(KText),
    /// `bool`/`tristate`/… with or without a prompt.
    Type {
        kind: &'static str,
        prompt: bool,
    },
    Prompt,
    /// `def_bool`/`def_tristate`: a type and a default.
    DefType {
        kind: &'static str,
        value: (KText, Option<KText>),
    },
    Default((KText, Option<KText>)),
    Select((KText, Option<KText>)),
}

/// Split Kconfig text into statements.
fn kconfig_lines(text: &str) -> Vec<KLine> {
    let mut out = Vec::new();
    let mut help: Option<Option<usize>> = None; // Some(first-line indent) while in help
    let mut logical = String::new();
    let mut start = 0;
    let pair = |rest: &str| {
        let (v, c) = split_if(rest);
        (KText::from(v), c.map(KText::from))
    };
    for (i, raw) in text.lines().enumerate() {
        if let Some(hind) = help {
            if raw.trim().is_empty() {
                continue;
            }
            let ind = indent(raw);
            match hind {
                None if ind > 0 => {
                    help = Some(Some(ind));
                    continue;
                }
                Some(h) if ind >= h => continue,
                _ => help = None,
            }
        }
        if logical.is_empty() {
            start = i + 1;
        }
        if let Some(body) = raw.strip_suffix('\\') {
            logical.push_str(body);
            logical.push(' ');
            continue;
        }
        let joined;
        let l = if logical.is_empty() {
            raw
        } else {
            logical.push_str(raw);
            joined = std::mem::take(&mut logical);
            &joined
        };
        let t = strip_kconfig_comment(l).trim();
        if t.is_empty() {
            continue;
        }
        let (kw, rest) = t
            .split_once(|c: char| c.is_whitespace())
            .map_or((t, ""), |(a, b)| (a, b.trim()));
        out.push(match kw {
            "config" | "menuconfig" => KLine::Config {
                name: rest.into(),
                line: start,
            },
            "choice" => KLine::Choice,
            "endchoice" => KLine::EndChoice,
            "menu" => KLine::Menu,
            "endmenu" => KLine::EndMenu,
            "if" => KLine::If(rest.into()),
            "endif" => KLine::EndIf,
            "source" | "rsource" | "osource" | "orsource" => KLine::Source {
                relative: kw.contains('r') && kw != "source",
                path: unquote(rest),
            },
            "comment" | "mainmenu" => KLine::Other,
            "help" | "---help---" => {
                help = Some(None);
                continue;
            }
            "depends" => KLine::Depends(rest.strip_prefix("on").unwrap_or(rest).trim().into()),
            "bool" | "boolean" | "tristate" | "string" | "int" | "hex" => KLine::Type {
                kind: match kw {
                    "boolean" => "bool",
                    "tristate" => "tristate",
                    "string" => "string",
                    "int" => "int",
                    "hex" => "hex",
                    _ => "bool",
                },
                prompt: rest.starts_with('"') || rest.starts_with('\''),
            },
            "prompt" => KLine::Prompt,
            "def_bool" | "def_tristate" => KLine::DefType {
                kind: if kw == "def_bool" { "bool" } else { "tristate" },
                value: pair(rest),
            },
            "default" => KLine::Default(pair(rest)),
            "select" => KLine::Select(pair(rest)),
            _ => continue,
        });
    }
    out
}

/// The statements of a Kconfig file, read and split once per process: every arch's
/// [`Kconfig::load`] shares them.
fn kconfig_file(path: PathBuf) -> Option<Arc<Vec<KLine>>> {
    static FILES: FileCache<Vec<KLine>> = FileCache::new();
    FILES.get(path, kconfig_lines)
}

/// Values computed at most once per process and key, shared between threads: concurrent
/// requests for one key wait for one computation (Kconfig views, parsed files).
struct OnceMap<K, V> {
    slots: LazyLock<Mutex<HashMap<K, Arc<std::sync::OnceLock<V>>>>>,
}

impl<K: std::hash::Hash + Eq + Clone, V: Clone> OnceMap<K, V> {
    const fn new() -> Self {
        OnceMap {
            slots: LazyLock::new(Default::default),
        }
    }

    fn get(&self, key: K, init: impl FnOnce(&K) -> V) -> V {
        let slot = self
            .slots
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(key.clone())
            .or_default()
            .clone();
        slot.get_or_init(|| init(&key)).clone()
    }
}

/// Files read and parsed at most once per process; `None` for a file that cannot be read.
struct FileCache<T>(OnceMap<PathBuf, Option<Arc<T>>>);

impl<T> FileCache<T> {
    const fn new() -> Self {
        FileCache(OnceMap::new())
    }

    fn get(&self, path: PathBuf, parse: impl FnOnce(&str) -> T) -> Option<Arc<T>> {
        self.0.get(path, |path| {
            let bytes = std::fs::read(path).ok()?;
            Some(Arc::new(parse(&String::from_utf8_lossy(&bytes))))
        })
    }
}

#[derive(Debug, Default)]
struct KParser {
    srcarch: String,
    defs: Vec<KSym>,
    choices: Vec<Vec<KText>>,
    stack: Vec<Block>,
    seen: HashSet<String>,
}

impl KParser {
    fn parse_file(&mut self, tree: &Path, rel: &str, depth: usize) {
        if depth > 40 {
            return;
        }
        let Some(lines) = kconfig_file(tree.join(rel)) else {
            return;
        };
        self.seen.insert(rel.to_string());
        self.replay(&lines, rel, Some((tree, depth)));
    }

    fn parse_text(&mut self, text: &str, file: &str, follow: Option<(&Path, usize)>) {
        self.replay(&kconfig_lines(text), file, follow);
    }

    fn replay(&mut self, lines: &[KLine], file: &str, follow: Option<(&Path, usize)>) {
        let mut cur = Cur::None;
        let file: KText = file.into();
        for l in lines {
            match l {
                KLine::Config { name, line } => {
                    let choice = self.stack.iter().rev().find_map(|b| match b {
                        Block::Choice(id, _) => Some(*id),
                        _ => None,
                    });
                    if let Some(c) = choice {
                        self.choices[c].push(name.clone());
                    }
                    self.defs.push(KSym {
                        name: name.clone(),
                        file: file.clone(),
                        line: *line,
                        depends: self.inherited(),
                        choice,
                        ..KSym::default()
                    });
                    cur = Cur::Entry(self.defs.len() - 1);
                }
                KLine::Choice => {
                    let id = self.choices.len();
                    self.choices.push(Vec::new());
                    self.stack.push(Block::Choice(id, Vec::new()));
                    cur = Cur::Choice;
                }
                KLine::EndChoice => {
                    self.pop_until(|b| matches!(b, Block::Choice(..)));
                    cur = Cur::None;
                }
                KLine::Menu => {
                    self.stack.push(Block::Menu(Vec::new()));
                    cur = Cur::Menu;
                }
                KLine::EndMenu => {
                    self.pop_until(|b| matches!(b, Block::Menu(_)));
                    cur = Cur::None;
                }
                KLine::If(e) => {
                    self.stack.push(Block::If(e.clone()));
                    cur = Cur::None;
                }
                KLine::EndIf => {
                    self.pop_until(|b| matches!(b, Block::If(_)));
                    cur = Cur::None;
                }
                KLine::Source { relative, path } => {
                    cur = Cur::None;
                    if let Some((tree, depth)) = follow {
                        let mut path = path
                            .replace("$(SRCARCH)", &self.srcarch)
                            .replace("$(srctree)/", "");
                        if *relative {
                            let dir = parent_dir(&file);
                            if !dir.is_empty() {
                                path = format!("{dir}/{path}");
                            }
                        }
                        if !path.contains('*') && !path.contains("$(") {
                            self.parse_file(tree, &path, depth + 1);
                        }
                    }
                }
                KLine::Other => cur = Cur::None,
                KLine::Depends(e) => match cur {
                    Cur::Entry(i) => self.defs[i].depends.push(e.clone()),
                    Cur::Menu | Cur::Choice => match self.stack.last_mut() {
                        Some(Block::Menu(d)) | Some(Block::Choice(_, d)) => d.push(e.clone()),
                        _ => {}
                    },
                    Cur::None => {}
                },
                _ => {
                    let Cur::Entry(i) = cur else { continue };
                    let d = &mut self.defs[i];
                    match l {
                        KLine::Type { kind, prompt } => {
                            d.kind = kind;
                            d.prompt |= prompt;
                        }
                        KLine::Prompt => d.prompt = true,
                        KLine::DefType { kind, value } => {
                            d.kind = kind;
                            d.defaults.push(value.clone());
                        }
                        KLine::Default(v) => d.defaults.push(v.clone()),
                        KLine::Select(v) => d.selects.push(v.clone()),
                        _ => {}
                    }
                }
            }
        }
    }

    fn inherited(&self) -> Vec<KText> {
        let mut v = Vec::new();
        for b in &self.stack {
            match b {
                Block::If(e) => v.push(e.clone()),
                Block::Menu(d) | Block::Choice(_, d) => v.extend(d.iter().cloned()),
            }
        }
        v
    }

    fn pop_until(&mut self, f: impl Fn(&Block) -> bool) {
        if let Some(pos) = self.stack.iter().rposition(f) {
            self.stack.truncate(pos);
        }
    }

    fn finish(self) -> Kconfig {
        let mut k = Kconfig {
            defs: self.defs,
            choices: self.choices,
            ..Kconfig::default()
        };
        k.by_name.reserve(k.defs.len());
        for (i, d) in k.defs.iter().enumerate() {
            k.by_name.entry(d.name.clone()).or_default().push(i);
            for (s, c) in &d.selects {
                k.selected_by
                    .entry(s.clone())
                    .or_default()
                    .push((i, c.clone()));
            }
        }
        k
    }
}

fn indent(s: &str) -> usize {
    let mut n = 0;
    for c in s.chars() {
        match c {
            ' ' => n += 1,
            '\t' => n = (n / 8 + 1) * 8,
            _ => break,
        }
    }
    n
}

fn strip_kconfig_comment(l: &str) -> &str {
    let mut q: Option<char> = None;
    for (i, c) in l.char_indices() {
        match (q, c) {
            (None, '"' | '\'') => q = Some(c),
            (Some(x), _) if x == c => q = None,
            (None, '#') => return &l[..i],
            _ => {}
        }
    }
    l
}

fn unquote(s: &str) -> String {
    s.trim().trim_matches(|c| c == '"' || c == '\'').to_string()
}

/// `X if COND` → (`X`, Some(`COND`)), outside quotes and `$(…)`.
fn split_if(s: &str) -> (String, Option<String>) {
    let toks: Vec<(usize, &str)> = {
        let mut v = Vec::new();
        let mut q: Option<char> = None;
        let mut depth = 0;
        let mut st: Option<usize> = None;
        for (i, c) in s.char_indices() {
            match (q, c) {
                (None, '"' | '\'') => q = Some(c),
                (Some(x), _) if x == c => q = None,
                (None, '(') => depth += 1,
                (None, ')') => depth -= 1,
                _ => {}
            }
            let sep = q.is_none() && depth == 0 && c.is_whitespace();
            match (st, sep) {
                (None, false) => st = Some(i),
                (Some(b), true) => {
                    v.push((b, &s[b..i]));
                    st = None;
                }
                _ => {}
            }
        }
        if let Some(b) = st {
            v.push((b, &s[b..]));
        }
        v
    };
    for (i, (pos, t)) in toks.iter().enumerate() {
        if *t == "if" && i > 0 {
            return (
                s[..*pos].trim().to_string(),
                Some(s[pos + 2..].trim().to_string()),
            );
        }
    }
    (s.trim().to_string(), None)
}

// ---------------------------------------------------------------------------------------
// Object needs

/// A touched source file and the `CONFIG_` symbols of the `#if`/`#ifdef` conditions around
/// its edited sites (with or without the `CONFIG_` prefix).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Touched<'a> {
    pub path: String,
    pub guards: Vec<String>,
    /// The file's text as read by the run (the guards' lines are quoted from it).
    pub source: &'a [u8],
}

/// What building one object needs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ObjectNeeds {
    /// `mm/madvise.o`; empty when the touched file is not a compilable source (a header).
    pub object: String,
    /// Symbols (without `CONFIG_`) to enable, dependencies first, each with why.
    pub symbols: Vec<(String, String)>,
    /// Other members of a `choice` that must be switched off for an enabled member.
    pub disable: Vec<(String, String)>,
    /// Symbols no way to enable was found for (on this arch).
    pub unreachable: Vec<String>,
    /// Conditions that were skipped or not understood (`!X`, `ifndef`, …), for the report.
    pub notes: Vec<String>,
}

/// Everything needed to build the object of `t` for `arch` (an `ARCH` value such as
/// `x86_64`, `s390`, or a group name).
pub fn object_needs(tree: &Path, t: &Touched, arch: &str) -> ObjectNeeds {
    let rel = t.path.trim_start_matches("./");
    let sa = srcarch(arch);
    let mut needs = ObjectNeeds::default();
    let mut reqs: Vec<Req> = Vec::new();
    match rel.rsplit_once('.') {
        Some((stem, "c" | "S")) => {
            needs.object = format!("{stem}.o");
            let (r, n) = kbuild_chain(tree, rel, sa);
            reqs = r;
            needs.notes = n;
        }
        _ => needs
            .notes
            .push(format!("{rel}: not a compilable source; no object")),
    }
    let text = String::from_utf8_lossy(t.source);
    for g in &t.guards {
        let g = g.trim().trim_start_matches("CONFIG_");
        if g.is_empty() {
            continue;
        }
        reqs.push((g.to_string(), guard_why(rel, &text, g)));
    }
    let kc = Kconfig::load(tree, arch);
    let mut r = Resolver::new(&kc, sa);
    for (s, why) in reqs {
        r.need(&s, why, 0);
    }
    needs.symbols = r.out;
    needs.disable = r
        .disable
        .into_iter()
        .filter(|(d, _)| !r.placed.contains(d))
        .collect();
    needs.unreachable = r.unreachable;
    for n in r.notes {
        push_unique(&mut needs.notes, n);
    }
    needs
}

/// Push `x` unless an equal element is there (short lists, kept in first-seen order).
fn push_unique<T: PartialEq>(v: &mut Vec<T>, x: T) {
    if !v.contains(&x) {
        v.push(x);
    }
}

/// Push `(key, value)` unless `key` is there; `value` is built only then.
fn push_new_key(v: &mut Vec<(String, String)>, key: &str, value: impl FnOnce() -> String) {
    if !v.iter().any(|(k, _)| k == key) {
        v.push((key.to_string(), value()));
    }
}

fn guard_why(rel: &str, text: &str, sym: &str) -> String {
    let re = Regex::new(&format!(
        r"^\s*#\s*(if|ifdef|ifndef|elif)\b.*\bCONFIG_{sym}\b"
    ))
    .unwrap();
    let hits: Vec<(usize, &str)> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| re.is_match(l))
        .map(|(i, l)| (i + 1, l.trim()))
        .collect();
    match hits.as_slice() {
        [] => format!("guard CONFIG_{sym} of an edited site in {rel}"),
        [(n, l)] => format!("{rel}:{n}: `{l}` guards an edited site"),
        [(n, l), rest @ ..] => format!(
            "{rel}:{n}: `{l}` (+{} more) guards an edited site",
            rest.len()
        ),
    }
}

#[derive(Clone)]
struct Resolver<'a> {
    kc: &'a Kconfig,
    srcarch: &'a str,
    out: Vec<(String, String)>,
    placed: HashSet<String>,
    active: HashSet<String>,
    disable: Vec<(String, String)>,
    unreachable: Vec<String>,
    notes: Vec<String>,
    steps: usize,
}

impl<'a> Resolver<'a> {
    fn new(kc: &'a Kconfig, srcarch: &'a str) -> Self {
        Resolver {
            kc,
            srcarch,
            out: Vec::new(),
            placed: HashSet::new(),
            active: HashSet::new(),
            disable: Vec::new(),
            unreachable: Vec::new(),
            notes: Vec::new(),
            steps: 0,
        }
    }

    fn note(&mut self, n: String) {
        push_unique(&mut self.notes, n);
    }

    fn place(&mut self, sym: &str, why: String) {
        if self.placed.insert(sym.to_string()) {
            self.out.push((sym.to_string(), why));
        }
    }

    fn unreachable(&mut self, sym: &str) {
        push_unique(&mut self.unreachable, sym.to_string());
    }

    /// Run `f` on a copy; keep the copy if it succeeded without new unreachable symbols.
    fn attempt(&mut self, f: impl FnOnce(&mut Resolver<'a>) -> bool) -> bool {
        let mut t = self.clone();
        let ok = f(&mut t);
        if ok && t.unreachable.len() == self.unreachable.len() {
            *self = t;
            true
        } else {
            self.steps = t.steps;
            false
        }
    }

    /// Make `sym` enabled; returns whether that looks possible.
    fn need(&mut self, sym: &str, why: String, depth: usize) -> bool {
        if self.placed.contains(sym) || self.active.contains(sym) {
            return true;
        }
        let defs = self.kc.get(sym);
        if defs.is_empty() {
            self.note(format!("CONFIG_{sym} is not defined for {}", self.srcarch));
            self.unreachable(sym);
            return false;
        }
        self.steps += 1;
        if depth > MAX_DEPTH || self.steps > MAX_STEPS {
            self.place(sym, format!("{why} (not resolved further: depth limit)"));
            return true;
        }
        self.active.insert(sym.to_string());
        let ok = if let Some(d) = defs.iter().find(|d| d.prompt) {
            let dep_why = format!("dependency of CONFIG_{sym}");
            let mut ok = true;
            for e in d.depends.clone() {
                ok &= self.expr(&Expr::parse(&e), &dep_why, depth + 1);
            }
            if let Some(c) = d.choice {
                for m in &self.kc.choices[c] {
                    if **m != *sym {
                        push_new_key(&mut self.disable, m, || {
                            format!("other member of the choice of CONFIG_{sym}")
                        });
                    }
                }
            }
            self.place(sym, format!("{why} [{}:{}]", d.file, d.line));
            ok
        } else {
            self.hidden(sym, &defs, why, depth)
        };
        self.active.remove(sym);
        ok
    }

    /// A symbol without prompt: on through a default, or selected by something we enable.
    fn hidden(&mut self, sym: &str, defs: &[&'a KSym], why: String, depth: usize) -> bool {
        let dep_why = format!("dependency of CONFIG_{sym}");
        for d in defs {
            for (val, cond) in &d.defaults {
                let v = Expr::parse(val);
                if v == Expr::Sym("n".into()) {
                    continue;
                }
                let deps = d.depends.clone();
                let ok = self.attempt(|t| {
                    let mut ok = true;
                    for e in &deps {
                        ok &= t.expr(&Expr::parse(e), &dep_why, depth + 1);
                    }
                    if let Some(c) = cond {
                        ok &= t.expr(&Expr::parse(c), &dep_why, depth + 1);
                    }
                    if !matches!(&v, Expr::Sym(s) if s == "y" || s == "m") {
                        ok &= t.expr(&v, &dep_why, depth + 1);
                    }
                    ok
                });
                if ok {
                    let c = cond
                        .as_ref()
                        .map(|c| format!(" if {c}"))
                        .unwrap_or_default();
                    self.place(
                        sym,
                        format!("{why}; hidden, default {val}{c} [{}:{}]", d.file, d.line),
                    );
                    return true;
                }
            }
        }
        let mut sels = self.kc.selectors(sym);
        // Already enabled first, then the arch's own (usually always-on) symbols.
        let arch_dir = format!("arch/{}/", self.srcarch);
        sels.sort_by_key(|(d, _)| {
            (
                !self.placed.contains(&*d.name),
                !d.file.starts_with(&arch_dir),
                &*d.name == "COMPILE_TEST",
            )
        });
        let mut tried = HashSet::new();
        for (s, cond) in sels {
            if !tried.insert(s.name.clone()) {
                continue;
            }
            if tried.len() > MAX_SELECTORS {
                break;
            }
            let name = s.name.clone();
            let ok = self.attempt(|t| {
                let mut ok = true;
                if let Some(c) = cond {
                    ok &= t.expr(
                        &Expr::parse(c),
                        &format!("condition of select by CONFIG_{name}"),
                        depth + 1,
                    );
                }
                ok & t.need(&name, format!("selects CONFIG_{sym}"), depth + 1)
            });
            if ok {
                self.place(
                    sym,
                    format!(
                        "{why}; hidden, selected by CONFIG_{name} [{}:{}]",
                        s.file, s.line
                    ),
                );
                return true;
            }
        }
        self.note(format!(
            "CONFIG_{sym} is hidden and no default or selector could be enabled"
        ));
        self.unreachable(sym);
        false
    }

    /// Make an expression true (as far as this simple view can).
    fn expr(&mut self, e: &Expr, why: &str, depth: usize) -> bool {
        match e {
            Expr::Sym(s) => match s.as_str() {
                "y" => true,
                "n" => false,
                "m" => true,
                s if is_symbol(s) => self.need(s, why.to_string(), depth),
                s => {
                    self.note(format!("{why}: `{s}` not understood, skipped"));
                    true
                }
            },
            Expr::Not(x) => {
                self.note(format!("{why}: `!{x}` skipped"));
                true
            }
            Expr::And(v) => {
                let mut ok = true;
                for x in v {
                    ok &= self.expr(x, why, depth);
                }
                ok
            }
            Expr::Or(v) => {
                if v.iter().any(is_free) {
                    self.note(format!("{why}: `{e}` assumed true"));
                    return true;
                }
                if v.iter().any(|x| {
                    let mut s = Vec::new();
                    x.symbols(&mut s);
                    !s.is_empty() && s.iter().all(|s| self.placed.contains(s))
                }) {
                    return true;
                }
                let mut alts: Vec<&Expr> = v.iter().collect();
                alts.sort_by_key(|x| {
                    let mut s = Vec::new();
                    x.symbols(&mut s);
                    s.iter().any(|s| s == "COMPILE_TEST")
                });
                for x in alts {
                    if self.attempt(|t| t.expr(x, why, depth)) {
                        return true;
                    }
                }
                self.note(format!("{why}: no alternative of `{e}` can be enabled"));
                let mut s = Vec::new();
                e.symbols(&mut s);
                if let Some(first) = s.iter().find(|s| is_symbol(s)) {
                    self.unreachable(first);
                }
                false
            }
            Expr::Cmp(a, eq, b) => {
                let val = unquote(b);
                if is_symbol(a) && ((*eq && (val == "y" || val == "m")) || (!eq && val == "n")) {
                    self.need(a, why.to_string(), depth)
                } else {
                    self.note(format!("{why}: `{e}` skipped"));
                    true
                }
            }
            Expr::Other(s) => {
                self.note(format!("{why}: `{s}` not understood, skipped"));
                true
            }
        }
    }
}

fn is_symbol(s: &str) -> bool {
    !s.is_empty()
        && !matches!(s, "y" | "n" | "m")
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Alternatives that hold without enabling anything: `!X`, `X=n`, `y`, not understood.
fn is_free(e: &Expr) -> bool {
    match e {
        Expr::Not(_) | Expr::Other(_) => true,
        Expr::Sym(s) => s == "y",
        Expr::Cmp(_, eq, b) => *eq && unquote(b) == "n",
        Expr::And(v) => v.iter().all(is_free),
        Expr::Or(v) => v.iter().any(is_free),
    }
}

// ---------------------------------------------------------------------------------------
// Scripts

fn sh_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=+,:@%".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The text of `check/<group>.sh`: configure an `O=` build directory for the group and build
/// exactly `objects` with warnings as errors.  Usage `check/<group>.sh TREE [BUILD_DIR]`.
pub fn group_script(group: &str, tc: &Toolchain, objects: &[ObjectNeeds]) -> String {
    let mut syms: Vec<(String, String)> = Vec::new();
    let mut disable: Vec<(String, String)> = Vec::new();
    let mut unreachable: Vec<(String, String)> = Vec::new();
    let objs: Vec<&ObjectNeeds> = objects.iter().filter(|o| !o.object.is_empty()).collect();
    for o in &objs {
        for (s, why) in &o.symbols {
            push_new_key(&mut syms, s, || format!("{}: {}", o.object, one_line(why)));
        }
        for (s, why) in &o.disable {
            push_new_key(&mut disable, s, || one_line(why));
        }
        for s in &o.unreachable {
            push_new_key(&mut unreachable, s, || o.object.clone());
        }
    }
    disable.retain(|(d, _)| !syms.iter().any(|(s, _)| s == d));
    // Only plain symbol names reach the shell.
    syms.retain(|(s, _)| is_symbol(s));
    disable.retain(|(s, _)| is_symbol(s));
    unreachable.retain(|(s, _)| is_symbol(s));
    let mut s = String::new();
    let w = &mut s;
    let _ = writeln!(w, "#!/usr/bin/env bash");
    let _ = writeln!(
        w,
        "# check/{group}.sh: generated by kcodemod. Compile-checks the objects of arch group"
    );
    let _ = writeln!(
        w,
        "# `{group}` (ARCH={}) with warnings as errors, in an O= build directory.",
        tc.arch
    );
    let _ = writeln!(w, "# Run `check/{group}.sh --help` for usage.");
    let _ = writeln!(w, "set -euo pipefail\n");
    let _ = writeln!(w, "GROUP={}", sh_quote(group));
    let _ = writeln!(w, "ARCH={}", sh_quote(&tc.arch));
    let _ = writeln!(w, "DEFCONFIG={}", sh_quote(&tc.defconfig));
    let _ = writeln!(w, "PACKAGE={}", sh_quote(&tc.package));
    let _ = writeln!(
        w,
        "CROSS_DEFAULTS=({})",
        tc.cross
            .iter()
            .map(|c| format!("'{}'", c.replace('\'', "")))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let _ = writeln!(w, "EXTRA_KCFLAGS={}", sh_quote(tc.extra_kcflags));
    let _ = writeln!(w, "X86_OBJTOOL_WORKAROUND={}", u8::from(tc.objtool));
    let _ = writeln!(w, "\n# Objects to build (one make invocation each).");
    bash_array(w, "OBJECTS", objs.iter().map(|o| sh_quote(&o.object)));
    let _ = writeln!(
        w,
        "# Kconfig symbols to enable with scripts/config -e, dependencies first; all are\n# verified to be =y or =m after olddefconfig."
    );
    bash_array(
        w,
        "SYMBOLS",
        syms.iter().map(|(s, why)| format!("{s}\t# {why}")),
    );
    let _ = writeln!(
        w,
        "# Choice members switched off (scripts/config -d) first."
    );
    bash_array(
        w,
        "DISABLE",
        disable.iter().map(|(s, why)| format!("{s}\t# {why}")),
    );
    let _ = writeln!(
        w,
        "# Symbols kcodemod found no way to enable for this arch: code under them is not compiled."
    );
    let notes: Vec<String> = objs
        .iter()
        .flat_map(|o| {
            o.notes
                .iter()
                .map(move |n| format!("{}: {}", o.object, one_line(n)))
        })
        .collect();
    if !notes.is_empty() {
        let _ = writeln!(
            w,
            "# Notes from the Kbuild/Kconfig analysis (skipped or not understood conditions):"
        );
        for n in &notes {
            let _ = writeln!(w, "#   {n}");
        }
    }
    bash_array(
        w,
        "UNREACHABLE",
        unreachable.iter().map(|(s, obj)| format!("{s}\t# {obj}")),
    );
    s.push_str(GROUP_BODY);
    s
}

/// A bash array, one element (with its comment) per line.
fn bash_array(w: &mut String, name: &str, rows: impl Iterator<Item = String>) {
    let _ = writeln!(w, "{name}=(");
    for r in rows {
        let _ = writeln!(w, "\t{r}");
    }
    let _ = writeln!(w, ")");
}

const GROUP_BODY: &str = r#"
usage() {
	cat <<EOF
usage: ${0##*/} TREE [BUILD_DIR]

Compile-check the objects of arch group '$GROUP' (ARCH=$ARCH) in kernel tree TREE (with the
series applied), with warnings as errors:
  1. make O=BUILD_DIR/$GROUP $DEFCONFIG, enable the needed Kconfig symbols, olddefconfig,
     and verify every needed symbol is =y or =m;
  2. make prepare;
  3. build each object (OK/FAIL per object, compiler output on failure).
BUILD_DIR defaults to build/ beside this script. The source tree is not written to.

Environment: CROSS_COMPILE (default: first of: ${CROSS_DEFAULTS[*]:-<host>} that exists),
CC, KCFLAGS (appended to -Werror), HOSTCFLAGS (appended to -fcommon), JOBS (default nproc).
Exit status: 0 all objects built, 1 a phase or an object failed, 2 usage error or missing
compiler (Debian package: $PACKAGE).

Objects:
$(printf '  %s\n' "${OBJECTS[@]}")
EOF
}

case "${1:-}" in
-h | --help) usage; exit 0 ;;
'') usage >&2; exit 2 ;;
esac
if [ $# -gt 2 ]; then usage >&2; exit 2; fi
if [ ! -f "$1/Makefile" ] || [ ! -d "$1/arch" ]; then
	echo "$GROUP: $1: not a kernel tree" >&2
	exit 2
fi
TREE=$(cd -- "$1" && pwd)
HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
BUILD_DIR=${2:-$HERE/build}
mkdir -p -- "$BUILD_DIR/$GROUP"
O=$(cd -- "$BUILD_DIR/$GROUP" && pwd)

# The compiler: CROSS_COMPILE/CC from the environment win.
if [ -z "${CROSS_COMPILE+set}" ]; then
	CROSS_COMPILE=${CROSS_DEFAULTS[0]}
	for p in "${CROSS_DEFAULTS[@]}"; do
		if command -v "${p}gcc" >/dev/null 2>&1; then CROSS_COMPILE=$p; break; fi
	done
fi
COMPILER=${CC:-${CROSS_COMPILE}gcc}
if ! command -v "${COMPILER%% *}" >/dev/null 2>&1; then
	echo "$GROUP: compiler '${COMPILER%% *}' not found: install the Debian package $PACKAGE" >&2
	echo "$GROUP: (or set CROSS_COMPILE=<prefix> / CC=<compiler>)" >&2
	exit 2
fi

HOSTFLAGS="-fcommon${HOSTCFLAGS:+ $HOSTCFLAGS}"
MAKEVARS=(O="$O" ARCH="$ARCH" CROSS_COMPILE="$CROSS_COMPILE")
if [ -n "${CC:-}" ]; then MAKEVARS+=(CC="$CC"); fi
if [ "$X86_OBJTOOL_WORKAROUND" = 1 ]; then
	# objtool's libsubcmd fails with gcc >= 12 (-Werror=use-after-free) in older trees.
	MAKEVARS+=(WERROR=0)
	if ${HOSTCC:-gcc} -Werror -Wno-error=use-after-free -x c -c -o /dev/null /dev/null 2>/dev/null; then
		HOSTFLAGS="$HOSTFLAGS -Wno-error=use-after-free"
	fi
fi
MAKEVARS+=(HOSTCFLAGS="$HOSTFLAGS" KCFLAGS="-Werror${EXTRA_KCFLAGS:+ $EXTRA_KCFLAGS}${KCFLAGS:+ $KCFLAGS}")
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 1)}
kmake() { make -C "$TREE" -j"$JOBS" "${MAKEVARS[@]}" "$@"; }

ms() { date +%s%3N; }
T0=$(ms)
PHASES=()
phase_done() { # name start
	local t=$(( $(ms) - $2 ))
	PHASES+=("$1 $((t / 1000)).$(printf '%03d' $((t % 1000)))s")
	echo "$GROUP: phase $1: $((t / 1000)).$(printf '%03d' $((t % 1000)))s"
}
fail_log() { # log
	echo "---- $1 (last 60 lines)"
	tail -n 60 "$1" | sed 's/^/    /'
}
echo "$GROUP: tree $TREE, build dir $O, ARCH=$ARCH CROSS_COMPILE=$CROSS_COMPILE (${COMPILER%% *})"

# Phase 1: configuration.
t=$(ms)
LOG=$O/kcodemod-config.log
if [ -f "$O/.config" ]; then cp -p "$O/.config" "$O/.config.kcodemod-prev"; fi
if ! kmake "$DEFCONFIG" >"$LOG" 2>&1; then
	echo "$GROUP: make $DEFCONFIG failed"; fail_log "$LOG"; exit 1
fi
for s in ${DISABLE[@]+"${DISABLE[@]}"}; do
	bash "$TREE/scripts/config" --file "$O/.config" -d "$s"
done
for s in ${SYMBOLS[@]+"${SYMBOLS[@]}"}; do
	# Leave symbols the defconfig already has (=y or =m) alone.
	grep -Eq "^CONFIG_${s}=(y|m)\$" "$O/.config" ||
		bash "$TREE/scripts/config" --file "$O/.config" -e "$s"
done
if ! kmake olddefconfig >>"$LOG" 2>&1; then
	echo "$GROUP: make olddefconfig failed"; fail_log "$LOG"; exit 1
fi
# An unchanged configuration keeps its old timestamp, so nothing is rebuilt needlessly.
if [ -f "$O/.config.kcodemod-prev" ]; then
	if cmp -s "$O/.config" "$O/.config.kcodemod-prev"; then
		mv -f "$O/.config.kcodemod-prev" "$O/.config"
	else
		rm -f "$O/.config.kcodemod-prev"
	fi
fi
missing=()
for s in ${SYMBOLS[@]+"${SYMBOLS[@]}"}; do
	grep -Eq "^CONFIG_${s}=(y|m)\$" "$O/.config" || missing+=("$s")
done
for s in ${UNREACHABLE[@]+"${UNREACHABLE[@]}"}; do
	echo "$GROUP: warning: no way to enable CONFIG_$s was found; code under it is not compiled"
done
if [ ${#missing[@]} -gt 0 ]; then
	for s in "${missing[@]}"; do
		why=$(grep -E "^[[:space:]]${s}[[:space:]]" "$0" | head -n 1 | sed 's/^[^#]*# //')
		echo "$GROUP: could not enable CONFIG_$s ($(grep -E "^(# )?CONFIG_${s}[= ]" "$O/.config" || echo undefined)): $why"
	done
	phase_done config "$t"
	exit 1
fi
phase_done config "$t"

# Phase 2: make prepare.
t=$(ms)
LOG=$O/kcodemod-prepare.log
if ! kmake prepare >"$LOG" 2>&1; then
	echo "$GROUP: make prepare failed"; fail_log "$LOG"; phase_done prepare "$t"; exit 1
fi
phase_done prepare "$t"

# Phase 3: the objects, each rebuilt from scratch.
t=$(ms)
failed=()
for obj in "${OBJECTS[@]}"; do
	LOG=$O/kcodemod-$(echo "$obj" | tr / _).log
	rm -f -- "$O/$obj"
	if kmake "$obj" >"$LOG" 2>&1 && [ -f "$O/$obj" ]; then
		echo "OK $obj"
		grep -E 'warning:' "$LOG" | sed 's/^/    /' || true
	else
		echo "FAIL $obj"
		grep -vE '^make(\[[0-9]+\])?: (Entering|Leaving) directory' "$LOG" | sed 's/^/    /'
		failed+=("$obj")
	fi
done
phase_done objects "$t"
total=$(( $(ms) - T0 ))
echo "$GROUP: ${#OBJECTS[@]} objects, ${#failed[@]} failed; ${PHASES[*]}; total $((total / 1000)).$(printf '%03d' $((total % 1000)))s"
if [ ${#failed[@]} -gt 0 ]; then exit 1; fi
"#;

/// The text of `check/all.sh`: run each group script in turn, print a summary, exit non-zero
/// if any failed (1; 2 when the only problems were missing compilers).
pub fn all_script(groups: &[String]) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "#!/usr/bin/env bash");
    let _ = writeln!(
        s,
        "# check/all.sh: generated by kcodemod. Runs every group's compile check in turn."
    );
    let _ = writeln!(s, "set -euo pipefail\n");
    let _ = writeln!(
        s,
        "CHECK_GROUPS=({})",
        groups
            .iter()
            .map(|g| sh_quote(g))
            .collect::<Vec<_>>()
            .join(" ")
    );
    s.push_str(ALL_BODY);
    s
}

const ALL_BODY: &str = r#"
usage() {
	cat <<EOF
usage: ${0##*/} TREE [BUILD_DIR]

Runs check/<group>.sh TREE BUILD_DIR for each group (${CHECK_GROUPS[*]}) and prints a
summary. BUILD_DIR defaults to build/ beside this script (one O= directory per group).
Exit status: 0 all passed, 1 a group failed, 2 usage error or only missing compilers.
EOF
}

case "${1:-}" in
-h | --help) usage; exit 0 ;;
'') usage >&2; exit 2 ;;
esac
if [ $# -gt 2 ]; then usage >&2; exit 2; fi
HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
TREE=$1
BUILD_DIR=${2:-$HERE/build}
ms() { date +%s%3N; }
summary=()
worst=0
for g in "${CHECK_GROUPS[@]}"; do
	echo "==== $g"
	t=$(ms)
	rc=0
	bash "$HERE/$g.sh" "$TREE" "$BUILD_DIR" || rc=$?
	t=$(( $(ms) - t ))
	secs="$((t / 1000)).$(printf '%03d' $((t % 1000)))s"
	case $rc in
	0) summary+=("PASS  $g ($secs)") ;;
	2) summary+=("SKIP  $g: missing compiler or usage error (rc 2, $secs)"); [ $worst -ne 0 ] || worst=2 ;;
	*) summary+=("FAIL  $g (rc $rc, $secs)"); worst=1 ;;
	esac
done
echo "==== summary"
printf '%s\n' "${summary[@]}"
exit $worst
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups() {
        assert_eq!(arch_group("arch/s390/mm/gmap.c"), "s390");
        assert_eq!(
            arch_group("./arch/powerpc/mm/book3s64/subpage_prot.c"),
            "powerpc"
        );
        assert_eq!(arch_group("mm/madvise.c"), "generic");
        assert_eq!(arch_group("arch/Kconfig"), "generic");
        assert_eq!(arch_group("fs/proc/task_mmu.c"), "generic");
    }

    #[test]
    fn toolchains() {
        let g = toolchain("generic").unwrap();
        assert_eq!(
            (g.arch.as_str(), g.cross.as_slice()),
            ("x86_64", &["".to_string()][..])
        );
        let p = toolchain("powerpc").unwrap();
        assert_eq!(p.cross, ["powerpc64-linux-gnu-"]);
        assert_eq!(p.defconfig, "ppc64_defconfig");
        let o = toolchain("openrisc").unwrap();
        assert_eq!(o.cross, ["or1k-elf-", "or1k-linux-"]);
        assert_eq!(toolchain("s390").unwrap().package, "gcc-s390x-linux-gnu");
        assert!(toolchain("arm64").is_none());
        assert_eq!(srcarch("x86_64"), "x86");
    }

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

    const KC: &str = r#"
menu "Memory"
	depends on MMU

config TRANSPARENT_HUGEPAGE
	bool "Transparent Hugepage Support"
	depends on HAVE_ARCH_TRANSPARENT_HUGEPAGE
	select COMPACTION
	help
	  Transparent Hugepages allows the kernel to use huge pages.
	  config NOT_A_SYMBOL
	  depends on NOTHING

config MIGRATE_VMA_HELPER
	bool

config HMM_MIRROR
	bool "HMM mirror" if EXPERT
	depends on (X86_64 || PPC64) && !FOO
	select MMU_NOTIFIER

endmenu

config MMU
	def_bool y

config X86_64
	def_bool y

config HAVE_ARCH_TRANSPARENT_HUGEPAGE
	bool

config X86
	def_bool y
	select HAVE_ARCH_TRANSPARENT_HUGEPAGE if X86_64 # comment

config PGSTE
	def_bool y if KVM

config KVM
	tristate "KVM"

menuconfig STAGING
	bool "Staging drivers"

if STAGING
config DRM_NOUVEAU_SVM
	bool "SVM"
	depends on STAGING
	---help---
	  Say Y.
	select NOT_THIS_EITHER
	select MIGRATE_VMA_HELPER
	default n
endif

choice
	prompt "Page size"
	default PPC_4K_PAGES
config PPC_4K_PAGES
	bool "4k"
config PPC_64K_PAGES
	bool "64k"
endchoice
"#;

    fn strs(v: &[KText]) -> Vec<&str> {
        v.iter().map(|t| &**t).collect()
    }

    #[test]
    fn kconfig_parse() {
        let k = Kconfig::parse_str(KC, "mm/Kconfig");
        assert!(k.get("NOT_A_SYMBOL").is_empty());
        let thp = k.get("TRANSPARENT_HUGEPAGE")[0];
        assert!(thp.prompt);
        assert_eq!(
            strs(&thp.depends),
            ["MMU", "HAVE_ARCH_TRANSPARENT_HUGEPAGE"]
        );
        assert_eq!(thp.selects, [("COMPACTION".into(), None)]);
        assert_eq!(thp.line, 5);
        let m = k.get("MIGRATE_VMA_HELPER")[0];
        assert!(!m.prompt && m.kind == "bool");
        assert!(k.get("HMM_MIRROR")[0].prompt);
        assert!(k.get("MMU")[0].depends.is_empty());
        assert_eq!(
            k.get("PGSTE")[0].defaults,
            [("y".into(), Some("KVM".into()))]
        );
        let svm = k.get("DRM_NOUVEAU_SVM")[0];
        assert_eq!(strs(&svm.depends), ["STAGING", "STAGING"]);
        assert_eq!(
            svm.selects.len(),
            2,
            "select after help is still an attribute"
        );
        let x86 = k.get("X86")[0];
        assert_eq!(x86.selects[0].1.as_deref(), Some("X86_64"));
        assert_eq!(strs(&k.choices[0]), ["PPC_4K_PAGES", "PPC_64K_PAGES"]);
        assert_eq!(k.choices.len(), 1);
        assert_eq!(
            &*k.selectors("MIGRATE_VMA_HELPER")[0].0.name,
            "DRM_NOUVEAU_SVM"
        );
    }

    #[test]
    fn kconfig_expr() {
        use Expr::*;
        let s = |x: &str| Sym(x.to_string());
        assert_eq!(
            Expr::parse("(X86_64 || PPC64) && !FOO"),
            And(vec![
                Or(vec![s("X86_64"), s("PPC64")]),
                Not(Box::new(s("FOO")))
            ])
        );
        assert_eq!(Expr::parse("AGP=n"), Cmp("AGP".into(), true, "n".into()));
        assert_eq!(
            Expr::parse("\"$(ARCH)\" != \"i386\"").to_string(),
            "\"$(ARCH)\"!=\"i386\""
        );
        assert_eq!(Expr::parse("$(cc-option,-mfoo)"), s("$(cc-option,-mfoo)"));
        assert!(matches!(Expr::parse("A &&"), Other(_)));
        assert_eq!(
            split_if("y if KVM && !X"),
            ("y".into(), Some("KVM && !X".into()))
        );
        assert_eq!(split_if("\"a if b\""), ("\"a if b\"".into(), None));
    }

    #[test]
    fn resolve_symbols() {
        let k = Kconfig::parse_str(KC, "arch/x86/Kconfig");
        let mut r = Resolver::new(&k, "x86");
        assert!(r.need("MIGRATE_VMA_HELPER", "guard".into(), 0));
        assert!(r.need("TRANSPARENT_HUGEPAGE", "obj".into(), 0));
        assert!(r.need("HMM_MIRROR", "obj".into(), 0));
        assert!(r.need("PGSTE", "obj".into(), 0));
        assert!(r.need("PPC_64K_PAGES", "obj".into(), 0));
        let names: Vec<&str> = r.out.iter().map(|(s, _)| s.as_str()).collect();
        assert_eq!(
            names,
            [
                "STAGING",
                "DRM_NOUVEAU_SVM",
                "MIGRATE_VMA_HELPER",
                "MMU",
                "X86_64",
                "X86",
                "HAVE_ARCH_TRANSPARENT_HUGEPAGE",
                "TRANSPARENT_HUGEPAGE",
                "HMM_MIRROR",
                "KVM",
                "PGSTE",
                "PPC_64K_PAGES"
            ]
        );
        assert!(r.out[2].1.contains("selected by CONFIG_DRM_NOUVEAU_SVM"));
        assert!(r.out[1].1.starts_with("selects CONFIG_MIGRATE_VMA_HELPER"));
        assert!(
            r.out[0]
                .1
                .starts_with("dependency of CONFIG_DRM_NOUVEAU_SVM")
        );
        assert_eq!(r.disable[0].0, "PPC_4K_PAGES");
        assert!(r.notes.iter().any(|n| n.contains("`!FOO` skipped")));
        assert!(!r.need("NOPE", "guard".into(), 0));
        assert_eq!(r.unreachable, ["NOPE"]);
    }

    #[test]
    fn scripts_text() {
        let tc = toolchain("openrisc").unwrap();
        let o = ObjectNeeds {
            object: "arch/openrisc/kernel/dma.o".into(),
            symbols: vec![("MMU".into(), "why\nnot".into())],
            unreachable: vec!["FOO".into()],
            ..ObjectNeeds::default()
        };
        let s = group_script("openrisc", &tc, &[o]);
        assert!(s.starts_with("#!/usr/bin/env bash\n"));
        assert!(s.contains("set -euo pipefail"));
        assert!(s.contains("CROSS_DEFAULTS=('or1k-elf-' 'or1k-linux-')"));
        assert!(s.contains("EXTRA_KCFLAGS=-Wno-error=cpp"));
        assert!(s.contains("\tMMU\t# arch/openrisc/kernel/dma.o: why not\n"));
        assert!(s.contains("\tarch/openrisc/kernel/dma.o\n"));
        let x = group_script("generic", &toolchain("generic").unwrap(), &[]);
        assert!(x.contains("X86_OBJTOOL_WORKAROUND=1") && x.contains("EXTRA_KCFLAGS=''"));
        let a = all_script(&["generic".into(), "s390".into()]);
        assert!(a.contains("CHECK_GROUPS=(generic s390)"));
    }

    /// bash -n on the generated scripts, when bash is there.
    #[test]
    fn scripts_parse_with_bash() {
        let tc = toolchain("s390").unwrap();
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in [
            ("s390.sh", group_script("s390", &tc, &[])),
            ("all.sh", all_script(&["s390".into()])),
        ] {
            let p = dir.path().join(name);
            std::fs::write(&p, text).unwrap();
            match std::process::Command::new("bash")
                .arg("-n")
                .arg(&p)
                .status()
            {
                Ok(st) => assert!(st.success(), "{name}"),
                Err(_) => eprintln!("note: no bash; skipping syntax check"),
            }
        }
        let out = std::process::Command::new("bash")
            .arg(dir.path().join("s390.sh"))
            .arg("--help")
            .output();
        if let Ok(out) = out {
            assert!(out.status.success());
            assert!(
                String::from_utf8_lossy(&out.stdout).contains("usage: s390.sh TREE [BUILD_DIR]")
            );
        }
    }

    const TREE: &str = "/work/trees/linux-5.3.1";

    #[test]
    fn real_tree_object_needs() {
        let tree = Path::new(TREE);
        if !tree.join("Makefile").is_file() {
            eprintln!("note: {TREE} absent; skipping");
            return;
        }
        let n = |p: &str, g: &[&str], arch: &str| {
            object_needs(
                tree,
                &Touched {
                    path: p.into(),
                    guards: g.iter().map(|s| s.to_string()).collect(),
                    source: &std::fs::read(tree.join(p)).unwrap(),
                },
                arch,
            )
        };
        let names = |o: &ObjectNeeds| o.symbols.iter().map(|(s, _)| s.clone()).collect::<Vec<_>>();
        let m = n("mm/migrate.c", &["CONFIG_MIGRATE_VMA_HELPER"], "x86_64");
        assert_eq!(m.object, "mm/migrate.o");
        let s = names(&m);
        for want in [
            "MIGRATION",
            "DRM_NOUVEAU_SVM",
            "MIGRATE_VMA_HELPER",
            "STAGING",
            "DRM_NOUVEAU",
            "DEVICE_PRIVATE",
            "HMM_MIRROR",
        ] {
            assert!(s.iter().any(|x| x == want), "{want} missing from {s:?}");
        }
        let pos = |w: &str| s.iter().position(|x| x == w).unwrap();
        assert!(
            pos("STAGING") < pos("DRM_NOUVEAU_SVM")
                && pos("DRM_NOUVEAU_SVM") < pos("MIGRATE_VMA_HELPER")
        );
        assert!(m.unreachable.is_empty(), "{:?}", m.unreachable);
        let p = n(
            "arch/powerpc/mm/book3s64/subpage_prot.c",
            &["CONFIG_TRANSPARENT_HUGEPAGE"],
            "powerpc",
        );
        let s = names(&p);
        assert!(s.iter().any(|x| x == "PPC_SUBPAGE_PROT"), "{s:?}");
        assert!(p.symbols.iter().any(
            |(s, w)| s == "PPC_SUBPAGE_PROT" && w.contains("arch/powerpc/mm/book3s64/Makefile")
        ));
        let g = n("arch/s390/mm/gmap.c", &[], "s390");
        assert!(names(&g).iter().any(|x| x == "PGSTE"));
        let t = n("fs/proc/task_mmu.c", &["PROC_PAGE_MONITOR"], "x86_64");
        assert!(
            names(&t).starts_with(&["PROC_FS".to_string()])
                || names(&t).contains(&"PROC_FS".to_string())
        );
        let h = n("include/linux/mm.h", &[], "x86_64");
        assert!(h.object.is_empty());
    }

    #[test]
    fn real_tree_6_1_object_needs() {
        let tree = Path::new("/work/trees/linux-6.1");
        if !tree.join("Makefile").is_file() {
            eprintln!("note: {} absent; skipping", tree.display());
            return;
        }
        let t = Touched {
            path: "mm/migrate_device.c".into(),
            guards: vec![],
            source: b"",
        };
        let n = object_needs(tree, &t, "x86_64");
        let s: Vec<&str> = n.symbols.iter().map(|(s, _)| s.as_str()).collect();
        let pos = |w: &str| s.iter().position(|x| *x == w);
        assert!(
            pos("ZONE_DEVICE").is_some() && pos("MIGRATION").is_some(),
            "{s:?}"
        );
        assert!(pos("ZONE_DEVICE") < pos("DEVICE_MIGRATION"), "{s:?}");
        assert!(n.unreachable.is_empty(), "{:?}", n.unreachable);
    }
}
