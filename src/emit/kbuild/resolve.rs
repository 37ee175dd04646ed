//! Resolution: the Kconfig symbols (with why) that building one touched object needs on one
//! arch, from its Kbuild chain, the `#if` guards of its edited sites and the Kconfig tree.

use regex::Regex;
use std::collections::HashSet;
use std::path::Path;

use super::defconfig::Defconfig;
use super::kconfig::{Expr, KSym, KText, Kconfig, unquote};
use super::makefile::kbuild_chain;
use super::toolchain::srcarch;
use super::{MAX_DEPTH, Req, push_new_key, push_unique};

/// How many selectors of one hidden symbol are tried.
const MAX_SELECTORS: usize = 12;
/// Overall bound on resolution steps for one object.
const MAX_STEPS: usize = 20_000;

/// A touched source file and the `CONFIG_` symbols of the `#if`/`#ifdef` conditions around
/// its edited sites (with or without the `CONFIG_` prefix).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Touched<'a> {
    pub path: String,
    pub guards: Vec<String>,
    /// The file's text as read by the run (the guards' lines are quoted from it).
    pub source: &'a [u8],
    /// Sites the series leaves on the old API (`file:line function`): the object is built so
    /// that the check fails until they are converted by hand.
    pub old_api: Vec<String>,
    /// `CONFIG_` symbols of the conditions around the edited lines (`series::edit_guards`): the
    /// check also builds the object with each of them off.
    pub flip: Vec<String>,
    /// The converted and flagged functions of the file (`file:line function`), each with the
    /// C condition on `CONFIG_` symbols its code is compiled under (empty: always).
    pub functions: Vec<(String, String)>,
}

/// What building one object needs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ObjectNeeds {
    /// `mm/madvise.o`; empty when the touched file is not a compilable source (a header).
    pub object: String,
    /// The touched file (`mm/madvise.c`, `include/linux/mm.h`).
    pub source: String,
    /// Symbols (without `CONFIG_`) to enable, dependencies first, each with why.
    pub symbols: Vec<(String, String)>,
    /// Other members of a `choice` that must be switched off for an enabled member.
    pub disable: Vec<(String, String)>,
    /// Symbols no way to enable was found for (on this arch).
    pub unreachable: Vec<String>,
    /// Conditions that were skipped or not understood (`!X`, `ifndef`, …), for the report.
    pub notes: Vec<String>,
    /// Sites of this object still on the old API after the series (from [`Touched::old_api`]).
    pub old_api: Vec<String>,
    /// The object's own Kbuild symbols (its `obj-$(CONFIG_X)` chain): still on in every build.
    pub kbuild: Vec<String>,
    /// Guard symbols of its edited lines, not Kbuild symbols of the object, that the check
    /// also switches off (one more configuration each): both sides of every guard.
    pub flip: Vec<String>,
    /// `(X, Y)`: to switch the hidden guard X off, the visible Y that turns it on (its
    /// `def_bool Y`, or a `select X` in Y) is switched off too.
    pub flip_with: Vec<(String, String)>,
    /// `(X, Y)`: X's prompt shows only under Y (`bool "…" if EXPERT`): Y is enabled to
    /// switch X off, or olddefconfig would put X's default back.
    pub flip_enable: Vec<(String, String)>,
    /// From [`Touched::functions`]: the check says where each reached the compiler.
    pub functions: Vec<(String, String)>,
}

/// Everything needed to build the object of `t` for `arch` (an `ARCH` value such as
/// `x86_64`, `s390`, or a group name), from the make target `defconfig` on.
pub fn object_needs(tree: &Path, t: &Touched, arch: &str, defconfig: &str) -> ObjectNeeds {
    let rel = t.path.trim_start_matches("./");
    let sa = srcarch(arch);
    let mut needs = ObjectNeeds {
        source: rel.to_string(),
        old_api: t.old_api.clone(),
        functions: t.functions.clone(),
        ..ObjectNeeds::default()
    };
    let mut reqs: Vec<Req> = Vec::new();
    match rel.rsplit_once('.') {
        Some((stem, "c" | "S")) => {
            needs.object = format!("{stem}.o");
            let (r, n) = kbuild_chain(tree, rel, sa);
            reqs = r;
            needs.notes = n;
            for (s, _) in &reqs {
                push_unique(&mut needs.kbuild, s.clone());
            }
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
    let dc = Defconfig::load(tree, arch, defconfig);
    let mut r = Resolver::new(&kc, sa);
    r.dc = Some(&dc);
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
    // A guard never enabled is already built off; an own Kbuild symbol cannot be off.
    for g in &t.flip {
        let g = g.trim().trim_start_matches("CONFIG_");
        if is_symbol(g)
            && !needs.kbuild.iter().any(|k| k == g)
            && !needs.unreachable.iter().any(|u| u == g)
            && needs.symbols.iter().any(|(s, _)| s == g)
        {
            push_unique(&mut needs.flip, g.to_string());
        }
    }
    for x in &needs.flip {
        for y in prompt_needs(&kc, x) {
            push_unique(&mut needs.flip_enable, (x.clone(), y));
        }
        for y in turned_on_by(&kc, x) {
            if !needs.kbuild.contains(&y) {
                push_unique(&mut needs.flip_with, (x.clone(), y));
            }
        }
    }
    for n in r.notes {
        push_unique(&mut needs.notes, n);
    }
    needs
}

/// The visible symbols that keep `sym` on (olddefconfig would put it back after a
/// `scripts/config -d`): the symbols that `select` it (`DRM_I915` selects `SHMEM`) and, for
/// a hidden `sym`, a bare symbol as its default (`def_bool HUGETLBFS`). Conditions
/// (`default y if X86_64`) are not followed: switching those off would change much more
/// than the guard.
fn turned_on_by(kc: &Kconfig, sym: &str) -> Vec<String> {
    let defs = kc.get(sym);
    let mut out = Vec::new();
    let visible = |s: &str| is_symbol(s) && kc.get(s).iter().any(|d| d.prompt);
    let hidden = !defs.iter().any(|d| d.prompt);
    for d in defs.iter().filter(|_| hidden) {
        for (v, _) in &d.defaults {
            let v = v.trim();
            if visible(v) {
                push_unique(&mut out, v.to_string());
            }
        }
    }
    for (d, _) in kc.selectors(sym).into_iter().take(MAX_SELECTORS) {
        if d.prompt {
            push_unique(&mut out, d.name.to_string());
        }
    }
    out
}

/// The symbols whose being on makes `sym`'s prompt show (`bool "…" if EXPERT`), when each of
/// its prompts has a condition made of `&&` of plain symbols; empty when a prompt shows
/// always, or the condition is anything else.
fn prompt_needs(kc: &Kconfig, sym: &str) -> Vec<String> {
    let defs = kc.get(sym);
    let conds: Vec<&Option<KText>> = defs.iter().flat_map(|d| &d.prompt_if).collect();
    let Some(Some(first)) = conds.first() else {
        return Vec::new();
    };
    if conds.iter().any(|c| c.is_none()) {
        return Vec::new();
    }
    let words: Vec<String> = first.split("&&").map(|w| w.trim().to_string()).collect();
    if words.iter().all(|w| is_symbol(w)) {
        words
    } else {
        Vec::new()
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
    /// The defconfig the script starts from: what it sets is kept, never worked against.
    dc: Option<&'a Defconfig>,
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
            dc: None,
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
        if let Some(w) = self.conflict(sym, 0) {
            self.note(format!("CONFIG_{sym} cannot be enabled: it {w}"));
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
                if let Some(x) = v.iter().find(|x| self.set_by_defconfig(x)) {
                    self.note(format!("{why}: `{e}` holds: the defconfig sets `{x}`"));
                    return true;
                }
                // Alternatives the defconfig rules out are never enabled (no PPC32 on a
                // 64-bit config); among the rest, COMPILE_TEST comes last.
                let mut ruled_out = Vec::new();
                let mut alts: Vec<&Expr> = Vec::new();
                for x in v {
                    match self.ruled_out(x, 0) {
                        Some(w) => ruled_out.push(format!("`{x}` {w}")),
                        None => alts.push(x),
                    }
                }
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
                if ruled_out.is_empty() {
                    self.note(format!("{why}: no alternative of `{e}` can be enabled"));
                } else {
                    self.note(format!(
                        "{why}: no alternative of `{e}` can be enabled; {}",
                        ruled_out.join("; ")
                    ));
                }
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

impl Resolver<'_> {
    /// An alternative whose every symbol the defconfig sets.
    fn set_by_defconfig(&self, e: &Expr) -> bool {
        let Some(dc) = self.dc else { return false };
        let mut s = Vec::new();
        e.symbols(&mut s);
        !s.is_empty() && !is_free(e) && s.iter().all(|s| dc.is_set(s))
    }

    /// Why `sym` cannot be on while the defconfig's symbols stay on: every definition has a
    /// `depends on` conjunct `!Y` with Y set by the defconfig, directly or through a few hops
    /// of dependencies, or (hidden, never selected) only defaults under such a condition.
    fn conflict(&self, sym: &str, depth: usize) -> Option<String> {
        self.dc?;
        let defs = self.kc.get(sym);
        if depth > 3 || defs.is_empty() {
            return None;
        }
        let mut why = None;
        for d in &defs {
            let mut w = d
                .depends
                .iter()
                .find_map(|e| self.ruled_out(&Expr::parse(e), depth));
            if w.is_none() && !d.prompt && self.kc.selectors(sym).is_empty() {
                let conds: Vec<Option<String>> = d
                    .defaults
                    .iter()
                    .filter(|(v, _)| &**v != "n")
                    .map(|(_, c)| {
                        c.as_ref()
                            .and_then(|c| self.ruled_out(&Expr::parse(c), depth))
                    })
                    .collect();
                if !conds.is_empty() && conds.iter().all(Option::is_some) {
                    w = conds.into_iter().flatten().next();
                }
            }
            why = Some(w?);
        }
        why
    }

    /// Why the expression is false while the defconfig's symbols stay on, if it is.
    fn ruled_out(&self, e: &Expr, depth: usize) -> Option<String> {
        let dc = self.dc?;
        match e {
            Expr::Not(x) => match &**x {
                Expr::Sym(y) if dc.is_set(y) => Some(format!(
                    "depends on !{y}, which {} sets",
                    dc.file.as_deref().unwrap_or("the defconfig")
                )),
                _ => None,
            },
            Expr::And(v) => v.iter().find_map(|x| self.ruled_out(x, depth)),
            Expr::Or(v) => {
                let all: Option<Vec<String>> = v.iter().map(|x| self.ruled_out(x, depth)).collect();
                all.map(|w| w.join(", and "))
            }
            Expr::Sym(z) if is_symbol(z) && !dc.is_set(z) => self
                .conflict(z, depth + 1)
                .map(|w| format!("depends on {z}, which {w}")),
            _ => None,
        }
    }
}

pub fn is_symbol(s: &str) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emit::kbuild::kconfig::tests::KC;

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
    const PPC: &str = r#"
config PPC64
	bool "64-bit kernel"

config PPC32
	def_bool y
	depends on !PPC64

choice
	prompt "Processor Type"
	depends on PPC32
config PPC_BOOK3S_32
	bool "6xx/7xx/74xx"
endchoice

config PPC_BOOK3S_64
	bool "Server processors"
	depends on PPC64

config PPC_BOOK3S
	def_bool y
	depends on PPC_BOOK3S_32 || PPC_BOOK3S_64

config PPC_SUBPAGE_PROT
	bool "Protections for 4k subpages"
	depends on PPC_BOOK3S

config PPC_MAC32
	bool "32-bit Macs"
	depends on PPC_BOOK3S_32
"#;

    fn names(r: &Resolver) -> Vec<String> {
        r.out.iter().map(|(s, _)| s.clone()).collect()
    }

    /// Among `||` alternatives the first is tried first, unless the defconfig rules it out:
    /// on ppc64_defconfig, PPC_BOOK3S comes through PPC_BOOK3S_64, never PPC_BOOK3S_32/PPC32.
    #[test]
    fn defconfig_rules_out_alternatives() {
        let k = Kconfig::parse_str(PPC, "arch/powerpc/Kconfig");
        let mut r = Resolver::new(&k, "powerpc");
        assert!(r.need("PPC_SUBPAGE_PROT", "obj".into(), 0));
        assert!(
            names(&r).contains(&"PPC_BOOK3S_32".to_string()),
            "{:?}",
            r.out
        );

        let dc = Defconfig::parse(
            "CONFIG_PPC64=y\n# CONFIG_FOO is not set\n",
            "ppc64_defconfig",
        );
        let mut r = Resolver::new(&k, "powerpc");
        r.dc = Some(&dc);
        assert!(r.need("PPC_SUBPAGE_PROT", "obj".into(), 0));
        let n = names(&r);
        assert!(n.contains(&"PPC_BOOK3S_64".to_string()), "{n:?}");
        assert!(!n.iter().any(|s| s.contains("32")), "{n:?}");
        // A symbol that needs the 32-bit side is not enabled, and the note says why.
        assert!(!r.need("PPC_MAC32", "guard".into(), 0));
        assert_eq!(r.unreachable, ["PPC_MAC32"]);
        assert!(
            r.notes
                .iter()
                .any(|n| n.contains("CONFIG_PPC_MAC32 cannot be enabled")
                    && n.contains("depends on !PPC64, which ppc64_defconfig sets")),
            "{:?}",
            r.notes
        );
    }

    /// `fixtures/kbuild`: a small kernel-style tree whose Makefiles and Kconfig files have the
    /// shapes the resolution met on Linux 5.3.1 and 6.1 around the mm_walk callers (the
    /// symbols asserted below are those the real trees gave).
    fn tree() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/kbuild")
    }

    #[test]
    fn fixture_tree_object_needs() {
        let tree = &tree();
        let n = |p: &str, g: &[&str], arch: &str| {
            object_needs(
                tree,
                &Touched {
                    path: p.into(),
                    guards: g.iter().map(|s| s.to_string()).collect(),
                    source: &std::fs::read(tree.join(p)).unwrap(),
                    ..Touched::default()
                },
                arch,
                "defconfig",
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
    fn fixture_tree_def_bool_expression() {
        let tree = &tree();
        let t = Touched {
            path: "mm/migrate_device.c".into(),
            guards: vec![],
            source: b"",
            ..Touched::default()
        };
        let n = object_needs(tree, &t, "x86_64", "defconfig");
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

#[cfg(test)]
mod turned_on_by_tests {
    use super::*;

    #[test]
    fn a_hidden_guard_is_switched_off_through_what_turns_it_on() {
        let k = Kconfig::parse_str(
            "config HUGETLBFS\n\tbool \"HugeTLB file system\"\n\n\
             config HUGETLB_PAGE\n\tdef_bool HUGETLBFS\n\n\
             config X86_64\n\tbool \"64-bit\"\n\n\
             config MIGRATE_VMA_HELPER\n\tbool\n\tdefault y if X86_64\n\n\
             config DRM_NOUVEAU_SVM\n\tbool \"SVM\"\n\tselect MIGRATE_VMA_HELPER\n\n\
             config SHMEM\n\tbool \"shmem\" if EXPERT\n\tdefault y\n\n\
             config DRM_I915\n\ttristate \"i915\"\n\tselect SHMEM\n\n\
             config PROC_PAGE_MONITOR\n\tdefault y\n\tbool \"page monitor\" if EXPERT && MMU\n\n\
             config VM_EVENT_COUNTERS\n\tbool \"events\" if EXPERT || MMU\n",
            "Kconfig",
        );
        assert_eq!(turned_on_by(&k, "HUGETLB_PAGE"), ["HUGETLBFS"]);
        // A condition is not followed (X86_64 stays on); a visible selector is.
        assert_eq!(turned_on_by(&k, "MIGRATE_VMA_HELPER"), ["DRM_NOUVEAU_SVM"]);
        assert_eq!(turned_on_by(&k, "SHMEM"), ["DRM_I915"]);
        assert!(turned_on_by(&k, "DRM_I915").is_empty());
        // A prompt shown only under EXPERT: EXPERT is enabled to switch the guard off.
        assert_eq!(prompt_needs(&k, "SHMEM"), ["EXPERT"]);
        assert_eq!(prompt_needs(&k, "PROC_PAGE_MONITOR"), ["EXPERT", "MMU"]);
        assert!(prompt_needs(&k, "VM_EVENT_COUNTERS").is_empty());
        assert!(prompt_needs(&k, "HUGETLBFS").is_empty());
    }
}
