//! The rule-file shape every kind shares: the `kind` tag that picks the kind (see
//! [`crate::kinds::KINDS`]), the head fields (`id`, `summary`, `prefilter`, `[target]`, ...),
//! and a [`Loader`] that reads a kind's own raw shape with `file:line` errors.

use std::ops::Range;
use std::path::Path;

use anyhow::{Result, anyhow};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use toml::Spanned;

use super::{Kind, Rule};

/// The fields every rule file has, whatever its kind (each kind's raw shape holds them, since
/// serde's `flatten` would lose both `deny_unknown_fields` and the spans).
pub struct Head {
    pub id: Spanned<String>,
    pub default: bool,
    pub summary: String,
    pub subject: String,
    pub prefilter: Spanned<Vec<String>>,
    pub target: Option<Spanned<RawTarget>>,
    /// `since = "5.6.0"`: the kernel version the new API arrived in (`--compat` writes it
    /// into the version check).
    pub since: Option<Spanned<String>>,
    /// `everywhere = true`: the new form builds on every kernel the rule knows (`--compat`
    /// writes it alone, with no version check).
    pub everywhere: bool,
    /// `body = """..."""`: why the change is right, in the patch message.
    pub body: Option<Spanned<String>>,
}

/// One rule file being compiled: its name for messages and its text.
pub struct Loader<'a> {
    pub origin: &'a Path,
    pub text: &'a str,
}

impl Loader<'_> {
    /// An error at the line where `span` starts.
    pub fn at(&self, span: Range<usize>, msg: impl Into<String>) -> anyhow::Error {
        anyhow!(
            "{}:{}: {}",
            self.origin.display(),
            line_of(self.text, span.start),
            msg.into()
        )
    }

    /// The whole file read as a kind's raw shape.
    pub fn read<T: DeserializeOwned>(&self) -> Result<T> {
        toml::from_str(self.text).map_err(|e| {
            let line = e.span().map(|s| line_of(self.text, s.start)).unwrap_or(1);
            anyhow!("{}:{}: {}", self.origin.display(), line, e.message())
        })
    }

    /// The compiled rule: the head checked the same way for every kind, with the kind's
    /// compiled engine.
    pub fn finish(&self, head: Head, kind: Kind) -> Result<Rule> {
        let at = |s: Range<usize>, m: String| self.at(s, m);
        check_id(&head.id, &at)?;
        check_prefilter(&head.prefilter, &at)?;
        check_body(head.body.as_ref(), &at)?;
        Ok(Rule {
            kind,
            default: head.default,
            id: head.id.into_inner(),
            summary: head.summary,
            subject: head.subject,
            source: self.origin.to_path_buf(),
            prefilter: head.prefilter.into_inner(),
            target: target(head.target, &at)?,
            since: since(head.since.as_ref(), &at)?,
            everywhere: head.everywhere,
            body: head
                .body
                .map(|b| b.into_inner().trim().to_string())
                .filter(|b| !b.is_empty()),
        })
    }
}

/// `body` goes into each patch's message: a line `git am` reads as the start of the diff
/// (`---`, `diff -`, `Index: `) would cut the message there.
fn check_body(
    body: Option<&Spanned<String>>,
    at: &dyn Fn(Range<usize>, String) -> anyhow::Error,
) -> Result<()> {
    let Some(body) = body else {
        return Ok(());
    };
    let breaks = |l: &str| {
        let l = l.trim_end();
        l == "---"
            || l.starts_with("--- ")
            || l.starts_with("---\t")
            || l.starts_with("diff -")
            || l.starts_with("Index: ")
    };
    match body.get_ref().lines().find(|l| breaks(l)) {
        Some(l) => Err(at(
            body.span(),
            format!(
                "body: the line `{l}` would end the patch message for `git am` (a diff starts there)"
            ),
        )),
        None => Ok(()),
    }
}

/// The `kind` tag every rule file has.
#[derive(Deserialize)]
struct Tag {
    kind: Spanned<String>,
}

/// Compile one rule file: its `kind` tag picks the registered kind, which reads the rest.
pub(super) fn compile(origin: &Path, text: &str) -> Result<Rule> {
    let loader = Loader { origin, text };
    let tag: Tag = loader.read()?;
    let name = tag.kind.get_ref();
    let Some(k) = crate::kinds::KINDS.iter().find(|k| k.tag == name) else {
        let known: Vec<&str> = crate::kinds::KINDS.iter().map(|k| k.tag).collect();
        return Err(loader.at(
            tag.kind.span(),
            format!("unknown kind `{name}` (known kinds: {})", known.join(", ")),
        ));
    };
    (k.compile)(&loader)
}

/// Rule files say `default = false` for a rule that runs only when named.
pub fn yes() -> bool {
    true
}

/// How a target kernel shows that it has the new API (`--target`), and the header converted
/// code must include there.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTarget {
    header: String,
    has: Vec<String>,
    #[serde(default)]
    lacks: Vec<String>,
    include: Option<String>,
}

fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// A C identifier?
pub fn is_ident(s: &str) -> bool {
    let mut b = s.bytes();
    matches!(b.next(), Some(c) if c == b'_' || c.is_ascii_alphabetic())
        && b.all(|c| c == b'_' || c.is_ascii_alphanumeric())
}

/// The `[target]` table, compiled (any kind may have one).
fn target(
    raw: Option<Spanned<RawTarget>>,
    at: &dyn Fn(Range<usize>, String) -> anyhow::Error,
) -> Result<Option<super::TargetSpec>> {
    match raw {
        Some(t) => Ok(Some(
            compile_target(t.get_ref()).map_err(|m| at(t.span(), m))?,
        )),
        None => Ok(None),
    }
}

fn compile_target(t: &RawTarget) -> std::result::Result<super::TargetSpec, String> {
    let header = t.header.trim_start_matches('/');
    if header.is_empty() || header.split('/').any(|p| p == "..") {
        return Err(format!(
            "target.header `{}` must be a path inside the tree",
            t.header
        ));
    }
    if t.has.is_empty() || t.has.iter().chain(&t.lacks).any(|x| x.trim().is_empty()) {
        return Err("target.has needs at least one non-empty text".into());
    }
    Ok(super::TargetSpec {
        header: header.to_string(),
        has: t.has.clone(),
        lacks: t.lacks.clone(),
        include: t.include.clone(),
    })
}

/// `since = "5.6.0"`: three numbers, as KERNEL_VERSION() takes them.
fn since(
    raw: Option<&Spanned<String>>,
    at: &dyn Fn(Range<usize>, String) -> anyhow::Error,
) -> Result<Option<super::Since>> {
    let Some(raw) = raw else {
        return Ok(None);
    };
    let parts: Vec<Option<u32>> = raw.get_ref().split('.').map(|p| p.parse().ok()).collect();
    match parts[..] {
        [Some(a), Some(b), Some(c)] if b < 256 && c < 256 => Ok(Some(super::Since(a, b, c))),
        _ => Err(at(
            raw.span(),
            format!(
                "since `{}` is not a kernel version such as \"5.6.0\"",
                raw.get_ref()
            ),
        )),
    }
}

fn check_id(
    id: &Spanned<String>,
    at: &dyn Fn(Range<usize>, String) -> anyhow::Error,
) -> Result<()> {
    let s = id.get_ref();
    if s.is_empty()
        || !s
            .chars()
            .all(|c| c == '_' || c == '-' || c.is_ascii_alphanumeric())
    {
        return Err(at(
            id.span(),
            format!("id `{s}` may hold only letters, digits, `_` and `-`"),
        ));
    }
    Ok(())
}

fn check_prefilter(
    p: &Spanned<Vec<String>>,
    at: &dyn Fn(Range<usize>, String) -> anyhow::Error,
) -> Result<()> {
    if p.get_ref().is_empty() || p.get_ref().iter().any(|l| l.is_empty()) {
        return Err(at(
            p.span(),
            "prefilter needs at least one non-empty literal".into(),
        ));
    }
    Ok(())
}
