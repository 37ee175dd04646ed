//! The struct-retype rule file: the old and new struct types, the member map, the entry
//! points and the renaming template, validated into the [`Retype`] the engine runs on.

use std::ops::Range;
use std::sync::Arc;

use anyhow::Result;
use serde::Deserialize;
use toml::Spanned;

use crate::rule::Rule;
use crate::rule::raw::{Head, Loader, RawTarget, is_ident};

/// A struct of one type, proven to flow only into listed entry points, becomes another type.
#[derive(Debug, Clone)]
pub struct Retype {
    pub old: String,
    pub new: String,
    /// Old member → new member; `None`: dropped (the new type has no such member).
    pub members: Vec<(String, Option<String>)>,
    /// Entry points and the index of the struct-pointer argument.
    pub entries: Vec<(String, usize)>,
    /// Suffixes stripped from the variable's name, in order, each at most once.
    pub strip: Vec<String>,
    /// Prefixes stripped from the variable's name, in order, each at most once.
    pub strip_prefix: Vec<String>,
    /// The new name, with `{base}` for what is left after stripping; empty: keep the name.
    pub name: String,
}

impl Retype {
    /// The variable's new name.
    pub fn rename(&self, old: &str) -> String {
        if self.name.is_empty() {
            return old.to_string();
        }
        let mut base = old;
        for p in &self.strip_prefix {
            if let Some(b) = base.strip_prefix(p.as_str())
                && !b.is_empty()
            {
                base = b;
            }
        }
        for s in &self.strip {
            if let Some(b) = base.strip_suffix(s.as_str())
                && !b.is_empty()
            {
                base = b;
            }
        }
        self.name.replace("{base}", base)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRetypeRule {
    pub id: Spanned<String>,
    /// Run when no `--rule` is given (false: only when named).
    #[serde(default = "crate::rule::raw::yes")]
    pub default: bool,
    #[allow(dead_code)]
    kind: String,
    pub summary: String,
    pub prefilter: Spanned<Vec<String>>,
    pub subject: String,
    pub retype: Spanned<RawRetype>,
    pub target: Option<Spanned<RawTarget>>,
    since: Option<Spanned<String>>,
    #[serde(default)]
    everywhere: bool,
    /// Why the change is right, for the patch message (after the summary line).
    body: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRetype {
    old: String,
    new: String,
    #[serde(default)]
    strip: Vec<String>,
    #[serde(default)]
    strip_prefix: Vec<String>,
    #[serde(default)]
    name: String,
    member: Vec<RawMember>,
    entry: Vec<RawRetypeEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMember {
    old: String,
    new: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRetypeEntry {
    name: String,
    arg: usize,
}

fn compile_retype(raw: &Spanned<RawRetype>) -> Result<Retype, (Range<usize>, String)> {
    let span = raw.span();
    let r = raw.get_ref();
    let err = |m: String| Err((span.clone(), m));
    for (what, s) in [("retype.old", &r.old), ("retype.new", &r.new)] {
        if !is_ident(s) {
            return err(format!("{what} `{s}` is not a C identifier"));
        }
    }
    if !r.name.is_empty() && !r.name.contains("{base}") {
        return err("retype.name must contain {base}".into());
    }
    let mut members: Vec<(String, Option<String>)> = Vec::new();
    for m in &r.member {
        if !is_ident(&m.old) || m.new.as_deref().is_some_and(|n| !is_ident(n)) {
            return err(format!("member `{}`: not a C identifier", m.old));
        }
        if members.iter().any(|x| x.0 == m.old) {
            return err(format!("member `{}` is listed twice", m.old));
        }
        members.push((m.old.clone(), m.new.clone()));
    }
    if r.entry.is_empty() {
        return err("a struct-retype rule needs at least one [[retype.entry]]".into());
    }
    let mut entries = Vec::new();
    for e in &r.entry {
        if !is_ident(&e.name) {
            return err(format!("entry `{}` is not a C identifier", e.name));
        }
        entries.push((e.name.clone(), e.arg));
    }
    Ok(Retype {
        old: r.old.clone(),
        new: r.new.clone(),
        members,
        entries,
        strip: r.strip.clone(),
        strip_prefix: r.strip_prefix.clone(),
        name: r.name.clone(),
    })
}

/// Compile a struct-retype rule file.
pub fn compile(l: &Loader) -> Result<Rule> {
    let raw: RawRetypeRule = l.read()?;
    let kind = compile_retype(&raw.retype).map_err(|(s, m)| l.at(s, m))?;
    let head = Head {
        id: raw.id,
        default: raw.default,
        summary: raw.summary,
        subject: raw.subject,
        prefilter: raw.prefilter,
        target: raw.target,
        since: raw.since,
        everywhere: raw.everywhere,
        body: raw.body,
    };
    l.finish(head, Arc::new(kind))
}
