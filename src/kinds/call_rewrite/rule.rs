//! The call-rewrite rule file: `[[rewrite]]` patterns (`from` → `to`, over C expressions with
//! `$name` metavariables), the names and members the rule watches, and what becomes of the
//! tree's own definitions of the old names. Validated into the [`CallRewrite`] the engine runs
//! on; the reference is `docs/rules.md`.

use std::sync::Arc;

use anyhow::Result;
use serde::Deserialize;
use toml::Spanned;

use super::CallRewrite;
use super::pattern::{Pattern, Template};
use crate::rule::Rule;
use crate::rule::raw::{Head, Loader, RawTarget, is_ident};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: Spanned<String>,
    #[serde(default = "crate::rule::raw::yes")]
    default: bool,
    #[allow(dead_code)]
    kind: String,
    summary: String,
    /// Derived from the watched names and members when absent.
    prefilter: Option<Spanned<Vec<String>>>,
    subject: String,
    #[serde(default)]
    rewrite: Vec<Spanned<RawRewrite>>,
    #[serde(default)]
    watch: RawWatch,
    #[serde(default)]
    api: RawApi,
    target: Option<Spanned<RawTarget>>,
    since: Option<Spanned<String>>,
    #[serde(default)]
    everywhere: bool,
    /// Why the change is right, for the patch message (after the summary line).
    body: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRewrite {
    from: String,
    /// The replacement; absent when `flag` says why the shape is left to a person.
    to: Option<String>,
    flag: Option<String>,
    /// `any` (default), `unused` (only where the call is a statement of its own) or `used`.
    #[serde(default)]
    when: When,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawWatch {
    #[serde(default)]
    names: Vec<String>,
    #[serde(default)]
    members: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawApi {
    #[serde(default)]
    old: Api,
}

/// Where a match counts, by what is done with the call's value.
#[derive(Deserialize, Default, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum When {
    #[default]
    Any,
    /// The call is a statement of its own: its value is thrown away.
    Unused,
    /// The call's value is used.
    Used,
}

/// What becomes of the tree's own definitions of the watched names (prototypes, `static
/// inline` and other function definitions, `#define`s, `EXPORT_SYMBOL`s).
#[derive(Deserialize, Default, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Api {
    /// They are removed (upstream's choice once no caller is left): the rule converts the
    /// API side too.
    Remove,
    /// They stay (a compatibility alias, or an API the rule does not own): callers only.
    #[default]
    Keep,
    /// Each is a flagged site, for a person to decide.
    Flag,
}

/// One compiled `[[rewrite]]`.
#[derive(Debug, Clone)]
pub struct Rewrite {
    pub from: Pattern,
    pub to: Template,
    pub when: When,
    /// `from` is `f($a, ...)` and `to` is `g($a, ...)` with the same metavariables in the
    /// same order: the old name alone as a macro body (`#define X f`) may become the new one.
    pub rename: Option<(String, String)>,
    /// The function `to` calls (`g`) when `from` calls another, to refuse a rewrite inside
    /// `g`'s own definition.
    pub calls: Option<String>,
    /// `to` read as a pattern: code of this shape is already converted (when the new form
    /// still names a watched word, as `access_ok($addr, $size)` does).
    pub done: Option<Pattern>,
    /// A shape named only to be flagged, with why (`pci_alloc_consistent(NULL, ...)`: no
    /// device to write). Its `to` is `from` itself, never written.
    pub flag: Option<String>,
}

fn compile_rewrite(l: &Loader, r: &Spanned<RawRewrite>) -> Result<Rewrite> {
    let raw = r.get_ref();
    let at = |m: String| l.at(r.span(), m);
    let from = Pattern::parse(&raw.from).map_err(|m| at(format!("from `{}`: {m}", raw.from)))?;
    let to_text = match (&raw.to, &raw.flag) {
        (Some(to), None) => to,
        (None, Some(why)) if !why.trim().is_empty() => {
            let to = Template::parse(&raw.from, from.statement).map_err(at)?;
            return Ok(Rewrite {
                from,
                to,
                when: raw.when,
                rename: None,
                calls: None,
                done: None,
                flag: Some(why.trim().to_string()),
            });
        }
        (None, Some(_)) => {
            return Err(at("flag must say why the shape is left to a person".into()));
        }
        (Some(_), Some(_)) => {
            return Err(at("a [[rewrite]] has either `to` (the replacement) or `flag` (why a person must convert it), not both".into()));
        }
        (None, None) => {
            return Err(at("a [[rewrite]] needs `to` (the replacement) or `flag` (why a person must convert it)".into()));
        }
    };
    let to =
        Template::parse(to_text, from.statement).map_err(|m| at(format!("to `{to_text}`: {m}")))?;
    if let Some(v) = to.vars().iter().find(|v| !from.vars().contains(v)) {
        return Err(at(format!("to uses `${v}`, which from does not bind")));
    }
    let rename = match (from.callee(), to.callee()) {
        (Some(f), Some(g)) if from.is_plain_call() && to.is_plain_call() && f != g => {
            (from.vars() == to.vars()).then(|| (f.to_string(), g.to_string()))
        }
        _ => None,
    };
    // A rewrite that keeps the name (`f(t, $a)` -> `f($a)`) makes no new call: inside `f`'s
    // own body the call is recursion already, not one the rewrite would create.
    let calls = to
        .callee()
        .filter(|g| from.callee() != Some(*g))
        .map(str::to_string);
    let done = Pattern::parse(to_text).ok();
    Ok(Rewrite {
        from,
        to,
        when: raw.when,
        rename,
        calls,
        done,
        flag: None,
    })
}

/// Compile a call-rewrite rule file.
pub fn compile(l: &Loader) -> Result<Rule> {
    let raw: RawRule = l.read()?;
    let id_span = raw.id.span();
    if raw.rewrite.is_empty() {
        return Err(l.at(
            id_span,
            "a call-rewrite rule needs at least one [[rewrite]]",
        ));
    }
    let rewrites = raw
        .rewrite
        .iter()
        .map(|r| compile_rewrite(l, r))
        .collect::<Result<Vec<_>>>()?;
    let mut names = raw.watch.names.clone();
    if names.is_empty() && raw.watch.members.is_empty() {
        // Unless told otherwise, a rule watches the functions its patterns call.
        for r in &rewrites {
            if let Some(c) = r.from.callee()
                && !names.iter().any(|n| n == c)
            {
                names.push(c.to_string());
            }
        }
    }
    for w in names.iter().chain(&raw.watch.members) {
        if !is_ident(w) {
            return Err(l.at(
                id_span.clone(),
                format!("watch `{w}` is not a C identifier"),
            ));
        }
    }
    let watched: Vec<&String> = names.iter().chain(&raw.watch.members).collect();
    for (r, raw_r) in rewrites.iter().zip(&raw.rewrite) {
        if !r.from.words().iter().any(|w| watched.contains(&w)) {
            return Err(l.at(
                raw_r.span(),
                format!(
                    "from `{}` names none of the watched names or members ({}): the rule could neither find it cheaply nor account for it",
                    raw_r.get_ref().from,
                    watched.iter().map(|w| w.as_str()).collect::<Vec<_>>().join(", ")
                ),
            ));
        }
    }
    let prefilter = raw.prefilter.unwrap_or_else(|| {
        let words = watched.iter().map(|w| w.to_string()).collect();
        Spanned::new(id_span.clone(), words)
    });
    let kind = CallRewrite {
        rewrites,
        names,
        members: raw.watch.members,
        api: raw.api.old,
    };
    let head = Head {
        id: raw.id,
        default: raw.default,
        summary: raw.summary,
        subject: raw.subject,
        prefilter,
        target: raw.target,
        since: raw.since,
        everywhere: raw.everywhere,
        body: raw.body,
    };
    l.finish(head, Arc::new(kind))
}
