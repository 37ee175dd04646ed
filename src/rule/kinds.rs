//! The rule kinds other than struct-to-ops: their raw TOML shapes (serde) and their validation
//! into the compiled [`Retype`] and [`Signature`] configs their engines run on.

use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

/// Which engine a rule runs on, with that engine's compiled data. (The struct-to-ops data
/// stays in `Rule`'s own fields, where its engine and the series already read it.)
#[derive(Debug, Clone)]
pub enum Kind {
    StructToOps,
    StructRetype(Retype),
    CallbackSignature(Signature),
}

impl Kind {
    /// Does this kind convert callers only (the API side is never mechanical for it)?
    pub fn callers_only(&self) -> bool {
        !matches!(self, Kind::StructToOps)
    }

    pub fn name(&self) -> &'static str {
        match self {
            Kind::StructToOps => "struct-to-ops",
            Kind::StructRetype(_) => "struct-retype",
            Kind::CallbackSignature(_) => "callback-signature",
        }
    }
}

impl super::Rule {
    /// What a callers-only patch of this rule does, for its subject after the prefix
    /// (`convert callers to struct mm_walk_ops`).
    pub fn callers_change(&self) -> String {
        match &self.kind {
            Kind::StructToOps => format!("convert callers to struct {}", self.ops_struct),
            Kind::StructRetype(k) => format!("convert to struct {}", k.new),
            Kind::CallbackSignature(k) => {
                let added: Vec<&str> = k
                    .new
                    .iter()
                    .filter_map(|p| match p {
                        NewParam::Added { decl, .. } => decl.split_whitespace().last(),
                        NewParam::Old(_) => None,
                    })
                    .collect();
                format!(".{} callbacks take {}", k.member, added.join(", "))
            }
        }
    }

    /// The subject of an arch group's patch after its prefix (`convert to struct mm_walk_ops`).
    pub fn arch_change(&self) -> String {
        match &self.kind {
            Kind::StructToOps => format!("convert to struct {}", self.ops_struct),
            _ => self.callers_change(),
        }
    }

    /// What the conversion does, in one sentence for a patch body.
    pub fn mechanics(&self) -> String {
        match &self.kind {
            Kind::StructToOps => format!(
                "each walk's callbacks become a static const struct {} next to the function that uses them, and the values its data fields held at each call become arguments.",
                self.ops_struct
            ),
            Kind::StructRetype(k) => format!(
                "each struct {} whose address goes only to {} becomes a struct {}, its members renamed as the new type names them.",
                k.old,
                k.entries
                    .iter()
                    .map(|(e, _)| format!("{e}()"))
                    .collect::<Vec<_>>()
                    .join(", "),
                k.new
            ),
            Kind::CallbackSignature(k) => format!(
                "each function stored as .{} in a struct {} takes the new parameters, and so do its prototypes and direct calls.",
                k.member, k.strukt
            ),
        }
    }
}

/// The `kind` tag every rule file has; it picks the raw shape the rest of the file is read as.
#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub(super) enum RawKind {
    StructToOps,
    StructRetype,
    CallbackSignature,
}

#[derive(Deserialize)]
pub(super) struct Tag {
    pub kind: Spanned<RawKind>,
}

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

/// Functions stored in one member of one struct type change their parameter list.
#[derive(Debug, Clone)]
pub struct Signature {
    pub strukt: String,
    pub member: String,
    /// The old parameter types, normalized (`struct mm_walk*`).
    pub old: Vec<String>,
    pub new: Vec<NewParam>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NewParam {
    /// The old parameter at this index, as written.
    Old(usize),
    /// A new parameter: its declaration, its normalized type, and what a direct call passes.
    Added {
        decl: String,
        ty: String,
        value: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRetypeRule {
    pub id: Spanned<String>,
    /// Run when no `--rule` is given (false: only when named).
    #[serde(default = "yes")]
    pub default: bool,
    #[allow(dead_code)]
    kind: String,
    pub summary: String,
    pub prefilter: Spanned<Vec<String>>,
    pub subject: String,
    pub retype: Spanned<RawRetype>,
    pub target: Option<Spanned<super::raw::RawTarget>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRetype {
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSignatureRule {
    pub id: Spanned<String>,
    /// Run when no `--rule` is given (false: only when named).
    #[serde(default = "yes")]
    pub default: bool,
    #[allow(dead_code)]
    kind: String,
    pub summary: String,
    pub prefilter: Spanned<Vec<String>>,
    pub subject: String,
    pub callback: Spanned<RawSignature>,
    pub target: Option<Spanned<super::raw::RawTarget>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSignature {
    #[serde(rename = "struct")]
    strukt: String,
    member: String,
    old: Vec<String>,
    new: Vec<String>,
    /// What a direct call passes for each added parameter, by name.
    #[serde(default)]
    value: std::collections::BTreeMap<String, String>,
}

pub(super) fn yes() -> bool {
    true
}

fn is_ident(s: &str) -> bool {
    let mut b = s.bytes();
    matches!(b.next(), Some(c) if c == b'_' || c.is_ascii_alphabetic())
        && b.all(|c| c == b'_' || c.is_ascii_alphanumeric())
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

pub(super) fn compile_retype(raw: &Spanned<RawRetype>) -> Result<Retype, (Range<usize>, String)> {
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

pub(super) fn compile_signature(
    raw: &Spanned<RawSignature>,
) -> Result<Signature, (Range<usize>, String)> {
    let span = raw.span();
    let r = raw.get_ref();
    let err = |m: String| Err((span.clone(), m));
    if !is_ident(&r.strukt) || !is_ident(&r.member) {
        return err("callback.struct and callback.member must be C identifiers".into());
    }
    let mut new = Vec::new();
    for p in &r.new {
        if let Some(i) = p.strip_prefix('$') {
            let i: usize = match i.parse() {
                Ok(i) if i >= 1 && i <= r.old.len() => i,
                _ => return err(format!("new parameter `{p}`: no such old parameter")),
            };
            if new.contains(&NewParam::Old(i - 1)) {
                return err(format!("new parameter `{p}` is listed twice"));
            }
            new.push(NewParam::Old(i - 1));
        } else {
            let name = p
                .rsplit(|c: char| !c.is_ascii_alphanumeric() && c != '_')
                .next();
            let name = name.filter(|n| is_ident(n) && n.len() < p.len());
            let Some(name) = name else {
                return err(format!(
                    "new parameter `{p}` is neither `$N` nor `TYPE NAME`"
                ));
            };
            let Some(value) = r.value.get(name) else {
                return err(format!("new parameter `{name}` needs a callback.value"));
            };
            new.push(NewParam::Added {
                decl: p.clone(),
                ty: normalize_type(&p[..p.len() - name.len()]),
                value: value.clone(),
            });
        }
    }
    if new.len() == r.old.len() && new.iter().all(|p| matches!(p, NewParam::Old(_))) {
        let same = new.iter().enumerate().all(|(i, p)| *p == NewParam::Old(i));
        if same {
            return err("callback.new is the old parameter list".into());
        }
    }
    Ok(Signature {
        strukt: r.strukt.clone(),
        member: r.member.clone(),
        old: r.old.iter().map(|t| normalize_type(t)).collect(),
        new,
    })
}
