//! The callback-signature rule file: the struct, the member, the old and new parameter
//! lists, validated into the [`Signature`] the engine runs on.

use std::ops::Range;
use std::sync::Arc;

use anyhow::Result;
use serde::Deserialize;
use toml::Spanned;

use crate::rule::Rule;
use crate::rule::normalize_type;
use crate::rule::raw::{Head, Loader, RawTarget, is_ident};

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
struct RawSignatureRule {
    pub id: Spanned<String>,
    /// Run when no `--rule` is given (false: only when named).
    #[serde(default = "crate::rule::raw::yes")]
    pub default: bool,
    #[allow(dead_code)]
    kind: String,
    pub summary: String,
    pub prefilter: Spanned<Vec<String>>,
    pub subject: String,
    pub callback: Spanned<RawSignature>,
    pub target: Option<Spanned<RawTarget>>,
    since: Option<Spanned<String>>,
    #[serde(default)]
    everywhere: bool,
    /// Why the change is right, for the patch message (after the summary line).
    body: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSignature {
    #[serde(rename = "struct")]
    strukt: String,
    member: String,
    old: Vec<String>,
    new: Vec<String>,
    /// What a direct call passes for each added parameter, by name.
    #[serde(default)]
    value: std::collections::BTreeMap<String, String>,
}

fn compile_signature(raw: &Spanned<RawSignature>) -> Result<Signature, (Range<usize>, String)> {
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

/// Compile a callback-signature rule file.
pub fn compile(l: &Loader) -> Result<Rule> {
    let raw: RawSignatureRule = l.read()?;
    let kind = compile_signature(&raw.callback).map_err(|(s, m)| l.at(s, m))?;
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
