//! The serde shape of a rule file and its validation into [`super::Rule`].

use std::ops::Range;
use std::path::Path;

use anyhow::{Result, anyhow};
use serde::Deserialize;
use toml::Spanned;

use super::kinds::{
    Kind, RawKind, RawRetypeRule, RawSignatureRule, Tag, compile_retype, compile_signature,
};
use super::{Entry, Field, NewArg, Role, Rule};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: Spanned<String>,
    /// Run when no `--rule` is given (false: only when named).
    #[serde(default = "super::kinds::yes")]
    default: bool,
    #[allow(dead_code)]
    kind: String,
    summary: String,
    prefilter: Spanned<Vec<String>>,
    subject: String,
    old: RawOld,
    new: RawNew,
    field: Vec<Spanned<RawField>>,
    entry: Vec<Spanned<RawEntry>>,
    target: Option<Spanned<RawTarget>>,
}

/// How a target kernel shows that it has the new API (`--target`), and the header converted
/// code must include there.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTarget {
    header: String,
    has: Vec<String>,
    #[serde(default)]
    lacks: Vec<String>,
    include: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOld {
    #[serde(rename = "struct")]
    strukt: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNew {
    ops_struct: Spanned<String>,
    fields: Vec<String>,
    ops_name: Spanned<String>,
    #[serde(default)]
    generic_walk_names: Vec<String>,
    /// Name of the ops parameter in the new entry-point prototypes.
    #[serde(default = "default_ops_param")]
    ops_param: String,
    /// Kernel-doc line for the ops parameter and the `ops` member.
    #[serde(default = "default_ops_doc")]
    ops_doc: String,
    /// Kernel-doc title of the old struct once its callbacks have moved out.
    walk_doc: Option<String>,
}

fn default_ops_param() -> String {
    "ops".into()
}

fn default_ops_doc() -> String {
    "operations to call during the walk".into()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawField {
    name: String,
    role: String,
    default: Option<String>,
    /// Kernel-doc text for the field when it becomes a parameter.
    doc: Option<String>,
    /// The field's declaration (`struct mm_struct *mm`), for new prototypes in files that do
    /// not define the struct.
    decl: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    name: String,
    old: Vec<String>,
    new: Vec<String>,
    /// Argument fields the new entry point derives itself, with the expression it uses
    /// (`mm = "vma->vm_mm"`).
    #[serde(default)]
    implied: std::collections::BTreeMap<String, String>,
}

fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

fn is_ident(s: &str) -> bool {
    let mut b = s.bytes();
    matches!(b.next(), Some(c) if c == b'_' || c.is_ascii_alphabetic())
        && b.all(|c| c == b'_' || c.is_ascii_alphanumeric())
}

pub(super) fn compile(origin: &Path, text: &str) -> Result<Rule> {
    let at = |span: Range<usize>, msg: String| {
        anyhow!(
            "{}:{}: {}",
            origin.display(),
            line_of(text, span.start),
            msg
        )
    };
    let parse_err = |e: toml::de::Error| {
        let line = e.span().map(|s| line_of(text, s.start)).unwrap_or(1);
        anyhow!("{}:{}: {}", origin.display(), line, e.message())
    };
    // The `kind` tag picks the shape the rest of the file is read as. (Not one internally
    // tagged serde enum: that buffers the table and loses the spans `file:line` needs.)
    let tag: Tag = toml::from_str(text).map_err(parse_err)?;
    match tag.kind.get_ref() {
        RawKind::StructToOps => {}
        RawKind::StructRetype => {
            let raw: RawRetypeRule = toml::from_str(text).map_err(parse_err)?;
            let kind = compile_retype(&raw.retype).map_err(|(s, m)| at(s, m))?;
            let target = target(raw.target, &at)?;
            let rule = common(
                origin,
                &at,
                (raw.id, raw.default),
                raw.summary,
                raw.subject,
                raw.prefilter,
                Kind::StructRetype(kind),
            )?;
            return Ok(Rule { target, ..rule });
        }
        RawKind::CallbackSignature => {
            let raw: RawSignatureRule = toml::from_str(text).map_err(parse_err)?;
            let kind = compile_signature(&raw.callback).map_err(|(s, m)| at(s, m))?;
            let target = target(raw.target, &at)?;
            let rule = common(
                origin,
                &at,
                (raw.id, raw.default),
                raw.summary,
                raw.subject,
                raw.prefilter,
                Kind::CallbackSignature(kind),
            )?;
            return Ok(Rule { target, ..rule });
        }
    }
    let raw: RawRule = toml::from_str(text).map_err(parse_err)?;
    check_id(&raw.id, &at)?;
    for (what, s) in [
        ("old.struct", &raw.old.strukt),
        ("new.ops_struct", &raw.new.ops_struct),
    ] {
        if !is_ident(s.get_ref()) {
            return Err(at(
                s.span(),
                format!("{what} `{}` is not a C identifier", s.get_ref()),
            ));
        }
    }
    check_prefilter(&raw.prefilter, &at)?;
    if !raw.new.ops_name.get_ref().contains("{base}") {
        return Err(at(
            raw.new.ops_name.span(),
            "ops_name must contain {base}".into(),
        ));
    }
    let mut fields: Vec<Field> = Vec::new();
    for f in &raw.field {
        let r = f.get_ref();
        let role = match r.role.as_str() {
            "moved" => Role::Moved,
            "argument" => Role::Argument,
            "dropped" => Role::Dropped,
            other => {
                return Err(at(
                    f.span(),
                    format!(
                        "field `{}`: unknown role `{other}` (moved, argument, dropped)",
                        r.name
                    ),
                ));
            }
        };
        if !is_ident(&r.name) {
            return Err(at(
                f.span(),
                format!("field name `{}` is not a C identifier", r.name),
            ));
        }
        if fields.iter().any(|o| o.name == r.name) {
            return Err(at(f.span(), format!("field `{}` is listed twice", r.name)));
        }
        if r.default.is_some() && role != Role::Argument {
            return Err(at(
                f.span(),
                format!("field `{}`: only argument fields take a default", r.name),
            ));
        }
        fields.push(Field {
            name: r.name.clone(),
            role,
            default: r.default.clone(),
            doc: r.doc.clone(),
            decl: r.decl.clone(),
        });
    }
    if !fields.iter().any(|f| f.role == Role::Moved) {
        return Err(at(
            raw.id.span(),
            "a struct-to-ops rule needs at least one moved field".into(),
        ));
    }
    let mut entries: Vec<Entry> = Vec::new();
    for e in &raw.entry {
        entries.push(
            compile_entry(e.get_ref(), &fields)
                .map_err(|m| at(e.span(), format!("entry `{}`: {m}", e.get_ref().name)))?,
        );
        if entries[..entries.len() - 1]
            .iter()
            .any(|o| o.name == e.get_ref().name)
        {
            return Err(at(
                e.span(),
                format!("entry `{}` is listed twice", e.get_ref().name),
            ));
        }
    }
    if entries.is_empty() {
        return Err(at(
            raw.id.span(),
            "a rule needs at least one [[entry]]".into(),
        ));
    }
    Ok(Rule {
        kind: Kind::StructToOps,
        default: raw.default,
        id: raw.id.into_inner(),
        summary: raw.summary,
        subject: raw.subject,
        source: origin.to_path_buf(),
        prefilter: raw.prefilter.into_inner(),
        old_struct: raw.old.strukt.into_inner(),
        ops_struct: raw.new.ops_struct.into_inner(),
        new_fields: raw.new.fields,
        ops_name: raw.new.ops_name.into_inner(),
        generic_walk_names: raw.new.generic_walk_names,
        ops_param: raw.new.ops_param,
        ops_doc: raw.new.ops_doc,
        walk_doc: raw.new.walk_doc,
        fields,
        entries,
        target: target(raw.target, &at)?,
    })
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

fn compile_entry(e: &RawEntry, fields: &[Field]) -> std::result::Result<Entry, String> {
    if !is_ident(&e.name) {
        return Err("name is not a C identifier".into());
    }
    let walks: Vec<usize> = e
        .old
        .iter()
        .enumerate()
        .filter(|(_, a)| *a == "$walk")
        .map(|(i, _)| i)
        .collect();
    if walks.len() != 1 {
        return Err("`old` must name `$walk` exactly once".into());
    }
    for (i, a) in e.old.iter().enumerate() {
        if a != "$walk" && !is_ident(a) {
            return Err(format!("old argument `{a}` is not a name or `$walk`"));
        }
        if e.old[..i].contains(a) {
            return Err(format!("old argument `{a}` is listed twice"));
        }
    }
    let mut new_args = Vec::new();
    let mut used_old = vec![false; e.old.len()];
    used_old[walks[0]] = true;
    let mut passed = Vec::new();
    for a in &e.new {
        let arg = if a == "$ops" {
            NewArg::Ops
        } else if let Some(f) = a.strip_prefix('.') {
            let i = fields
                .iter()
                .position(|x| x.name == f)
                .ok_or_else(|| format!("new argument `{a}` names no field"))?;
            if fields[i].role != Role::Argument {
                return Err(format!("new argument `{a}` is not an argument field"));
            }
            passed.push(i);
            NewArg::Field(i)
        } else {
            let i = e
                .old
                .iter()
                .position(|o| o == a)
                .filter(|&i| i != walks[0])
                .ok_or_else(|| {
                    format!("new argument `{a}` is not an old argument, `$ops` or `.field`")
                })?;
            used_old[i] = true;
            NewArg::Old(i)
        };
        if new_args.contains(&arg) {
            return Err(format!("new argument `{a}` is listed twice"));
        }
        new_args.push(arg);
    }
    if !new_args.contains(&NewArg::Ops) {
        return Err("`new` must pass `$ops`".into());
    }
    if let Some(i) = used_old.iter().position(|u| !u) {
        return Err(format!("old argument `{}` is dropped by `new`", e.old[i]));
    }
    if e.new.len() == e.old.len() {
        return Err("old and new argument lists have the same length, so old calls cannot be told from new ones".into());
    }
    let mut implied = Vec::new();
    for (name, expr) in &e.implied {
        let i = fields
            .iter()
            .position(|x| &x.name == name)
            .ok_or_else(|| format!("implied `{name}` names no field"))?;
        if fields[i].role != Role::Argument || passed.contains(&i) {
            return Err(format!(
                "implied `{name}` must be an argument field the new call does not pass"
            ));
        }
        implied.push((i, expr.clone()));
    }
    for (i, f) in fields.iter().enumerate() {
        if f.role == Role::Argument && !passed.contains(&i) && !implied.iter().any(|x| x.0 == i) {
            return Err(format!(
                "argument field `{}` is neither passed nor implied",
                f.name
            ));
        }
    }
    Ok(Entry {
        name: e.name.clone(),
        old_arity: e.old.len(),
        walk_index: walks[0],
        new_args,
        implied,
        old_names: e.old.clone(),
        new_names: e.new.clone(),
    })
}

/// The fields every kind has, checked the same way; the struct-to-ops fields stay empty.
fn common(
    origin: &Path,
    at: &dyn Fn(Range<usize>, String) -> anyhow::Error,
    (id, default): (Spanned<String>, bool),
    summary: String,
    subject: String,
    prefilter: Spanned<Vec<String>>,
    kind: Kind,
) -> Result<Rule> {
    check_id(&id, at)?;
    check_prefilter(&prefilter, at)?;
    Ok(Rule {
        kind,
        default,
        id: id.into_inner(),
        summary,
        subject,
        source: origin.to_path_buf(),
        prefilter: prefilter.into_inner(),
        old_struct: String::new(),
        ops_struct: String::new(),
        new_fields: Vec::new(),
        ops_name: String::new(),
        generic_walk_names: Vec::new(),
        ops_param: String::new(),
        ops_doc: String::new(),
        walk_doc: None,
        fields: Vec::new(),
        entries: Vec::new(),
        target: None,
    })
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
