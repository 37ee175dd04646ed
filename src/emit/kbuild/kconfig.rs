//! Kconfig reading: the symbols of an arch's Kconfig tree (following `source` lines), with
//! their prompts, `depends on`, `select`s and defaults, and the expression grammar.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::cache::{FileCache, OnceMap};
use super::makefile::parent_dir;
use super::toolchain::srcarch;

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
    pub(super) fn symbols(&self, out: &mut Vec<String>) {
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

/// The prompt of a type or `prompt` line (`"text" [if COND]`): `None` when there is no
/// prompt, `Some(cond)` when there is one.
fn prompt_cond(rest: &str) -> Option<Option<KText>> {
    let q = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let body = &rest[1..];
    let mut escaped = false;
    let Some(end) = body.char_indices().find_map(|(i, c)| {
        let hit = c == q && !escaped;
        escaped = c == '\\' && !escaped;
        hit.then_some(i)
    }) else {
        return Some(None);
    };
    let after = body[end + 1..].trim();
    Some(
        after
            .strip_prefix("if")
            .filter(|c| c.starts_with(char::is_whitespace))
            .map(|c| c.trim().into()),
    )
}

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
    /// The conditions of its prompts (`bool "…" if EXPERT`); `None` for a prompt without one.
    pub prompt_if: Vec<Option<KText>>,
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
        prompt: Option<Option<KText>>,
    },
    /// `prompt "…" [if COND]`.
    Prompt(Option<KText>),
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
                prompt: prompt_cond(rest),
            },
            "prompt" => KLine::Prompt(prompt_cond(rest).flatten()),
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
                            if let Some(cond) = prompt {
                                d.prompt = true;
                                d.prompt_if.push(cond.clone());
                            }
                        }
                        KLine::Prompt(cond) => {
                            d.prompt = true;
                            d.prompt_if.push(cond.clone());
                        }
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

pub(super) fn unquote(s: &str) -> String {
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

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    pub(in crate::emit::kbuild) const KC: &str = r#"
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
}
