//! Rule files: the raw TOML shape (serde) is validated once into a compiled [`Rule`] that the
//! engine uses. A bad rule file fails here with `file:line: what`, before any source is read.

pub mod raw;

pub use crate::kinds::callback_signature::rule::{NewParam, Signature};
pub use crate::kinds::struct_retype::rule::Retype;

/// A rule's kind: its engine, with the kind's compiled data (see [`crate::kinds`]).
pub type Kind = std::sync::Arc<dyn crate::kinds::RuleKind>;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// The rules shipped inside the binary, so an installed binary has them.
pub const BUNDLED: &[(&str, &str)] = &[
    (
        "rules/mm_walk_ops.toml",
        include_str!("../../rules/mm_walk_ops.toml"),
    ),
    (
        "rules/pte_hole_depth.toml",
        include_str!("../../rules/pte_hole_depth.toml"),
    ),
    (
        "rules/proc_ops.toml",
        include_str!("../../rules/proc_ops.toml"),
    ),
    (
        "rules/ioremap_nocache.toml",
        include_str!("../../rules/ioremap_nocache.toml"),
    ),
    (
        "rules/mmap_lock.toml",
        include_str!("../../rules/mmap_lock.toml"),
    ),
];

#[derive(Debug, Clone)]
pub struct Rule {
    /// The engine the rule runs on, with the kind's own compiled data: everything below is
    /// the head every kind shares.
    pub kind: Kind,
    /// Run when no `--rule` is given.
    pub default: bool,
    pub id: String,
    pub summary: String,
    pub subject: String,
    pub source: PathBuf,
    pub prefilter: Vec<String>,
    /// How a `--target` kernel shows it has the new API; absent: the rule is never chosen for
    /// a target.
    pub target: Option<TargetSpec>,
    /// The kernel version the new API arrived in (`--compat` checks for it).
    pub since: Option<Since>,
    /// The new form builds on every kernel the rule knows: `--compat` needs no check.
    pub everywhere: bool,
    /// Why the change is right, in the rule author's words: each patch's message (and the
    /// cover letter) gives it after the summary line.
    pub body: Option<String>,
}

/// A kernel version, as `KERNEL_VERSION(a, b, c)` takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Since(pub u32, pub u32, pub u32);

impl Since {
    /// `#if LINUX_VERSION_CODE >= KERNEL_VERSION(5, 6, 0)`.
    pub fn check(&self) -> String {
        format!(
            "#if LINUX_VERSION_CODE >= KERNEL_VERSION({}, {}, {})",
            self.0, self.1, self.2
        )
    }
}

/// The `[target]` table of a rule file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetSpec {
    /// The header, relative to the target tree (`include/linux/pagewalk.h`).
    pub header: String,
    /// Texts the header holds on a kernel with the new API (compared with runs of whitespace
    /// made one space).
    pub has: Vec<String>,
    /// Texts it does not hold there (the old API).
    pub lacks: Vec<String>,
    /// `linux/pagewalk.h`: what a converted file must include on the target.
    pub include: Option<String>,
}

impl Rule {
    /// Parse and validate one rule file's text. `origin` names it in messages.
    pub fn parse(origin: &Path, text: &str) -> Result<Rule> {
        raw::compile(origin, text)
    }

    pub fn load(path: &Path) -> Result<Rule> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("{}: cannot read rule file", path.display()))?;
        Rule::parse(path, &text)
    }
}

/// A parameter's type as compared: words joined by one space, no space before `*`, without
/// the unused-parameter attributes.
pub fn normalize_type(t: &str) -> String {
    let mut out = String::new();
    let attribute = |w: &&str| matches!(*w, "__always_unused" | "__maybe_unused");
    for w in t.split_whitespace().filter(|w| !attribute(w)) {
        if !out.is_empty() && !out.ends_with('*') && !w.starts_with('*') {
            out.push(' ');
        }
        out.push_str(w);
    }
    out.replace(" *", "*")
}

impl Rule {
    /// What a callers-only patch of this rule does, for its subject after the prefix
    /// (`convert callers to struct mm_walk_ops`).
    pub fn callers_change(&self) -> String {
        self.kind.callers_change(self)
    }
    /// The subject of an arch group's patch after its prefix (`convert to struct mm_walk_ops`).
    pub fn arch_change(&self) -> String {
        self.kind.arch_change(self)
    }
    /// What the conversion does, in one sentence for a patch body.
    pub fn mechanics(&self) -> String {
        self.kind.mechanics(self)
    }
}

/// All bundled rules, compiled. They are tested, so a failure here is a build defect.
pub fn bundled() -> Result<Vec<Rule>> {
    BUNDLED
        .iter()
        .map(|(p, t)| Rule::parse(Path::new(p), t))
        .collect()
}

/// Resolve `--rule` arguments: a bundled id or a path to a rule file, in the order given (the
/// order they run in). No argument means every bundled rule that is on by default. Duplicate
/// ids are an error.
pub fn select(specs: &[String]) -> Result<Vec<Rule>> {
    select_from(specs, false)
}

/// As [`select`]; with `every`, no argument means every bundled rule, default or not (a
/// `--target` run, where the target's headers choose among them).
pub fn select_from(specs: &[String], every: bool) -> Result<Vec<Rule>> {
    let bundled = bundled()?;
    let rules = if specs.is_empty() {
        bundled.into_iter().filter(|r| every || r.default).collect()
    } else {
        let mut out = Vec::new();
        for spec in specs {
            if let Some(r) = bundled.iter().find(|r| &r.id == spec) {
                out.push(r.clone());
            } else if Path::new(spec).exists() {
                out.push(Rule::load(Path::new(spec))?);
            } else {
                let ids: Vec<_> = bundled.iter().map(|r| r.id.as_str()).collect();
                bail!(
                    "{spec}: no such rule file, and not a bundled rule ({})",
                    ids.join(", ")
                );
            }
        }
        out
    };
    for (i, r) in rules.iter().enumerate() {
        if let Some(o) = rules[..i].iter().find(|o| o.id == r.id) {
            bail!(
                "{}: duplicate rule id `{}` (also in {})",
                r.source.display(),
                r.id,
                o.source.display()
            );
        }
    }
    Ok(rules)
}

#[cfg(test)]
mod tests;
