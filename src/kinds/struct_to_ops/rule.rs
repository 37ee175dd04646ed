//! The struct-to-ops rule file: the old struct, the ops struct, each field's role and each
//! entry point's old and new argument lists, validated into a [`StructToOps`], the kind's own
//! compiled rule (the shared head stays in [`Rule`]).

use std::ops::Range;
use std::sync::Arc;

use anyhow::Result;
use serde::Deserialize;
use toml::Spanned;

use crate::rule::Rule;
use crate::rule::raw::{Head, Loader, RawTarget, is_ident};

/// A struct-to-ops rule's own data: the kind's engine reads it, nothing else does.
#[derive(Debug, Clone, Default)]
pub struct StructToOps {
    pub old_struct: String,
    pub ops_struct: String,
    /// Fields of the new walk struct (a local that sets one not in the old struct is new code).
    pub new_fields: Vec<String>,
    pub ops_name: String,
    pub generic_walk_names: Vec<String>,
    pub ops_param: String,
    pub ops_doc: String,
    pub walk_doc: Option<String>,
    pub fields: Vec<Field>,
    pub entries: Vec<Entry>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Moves into the ops struct; must be a constant (function or NULL) at each call.
    Moved,
    /// Becomes a call argument.
    Argument,
    /// Set by the callee; stores are dropped.
    Dropped,
}

#[derive(Debug, Clone)]
pub struct Field {
    pub name: String,
    pub role: Role,
    /// Value passed when the field is never set; `None` means the field is required.
    pub default: Option<String>,
    pub doc: Option<String>,
    pub decl: Option<String>,
}

/// One argument of an entry point's new argument list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NewArg {
    /// The old argument at this index, copied as written.
    Old(usize),
    /// The address of the generated ops struct (or the ops pointer local).
    Ops,
    /// The value of the argument field with this index into `Rule::fields`.
    Field(usize),
}

#[derive(Debug, Clone)]
pub struct Entry {
    pub name: String,
    pub old_arity: usize,
    /// Index of the walk pointer in the old argument list.
    pub walk_index: usize,
    pub new_args: Vec<NewArg>,
    /// Argument fields the new call derives from other arguments (not passed), with the
    /// expression the entry point uses for them.
    pub implied: Vec<(usize, String)>,
    pub old_names: Vec<String>,
    pub new_names: Vec<String>,
}

impl StructToOps {
    pub fn field(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.name == name)
    }
    pub fn entry(&self, name: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.name == name)
    }
    /// Is `name` a field of the old struct that moves into the ops struct?
    pub fn is_moved(&self, name: &str) -> bool {
        self.field(name)
            .is_some_and(|f| self.fields[f].role == Role::Moved)
    }
    /// Is `name` a field only the new struct has (so code setting it is new-API code)?
    pub fn is_new_only(&self, name: &str) -> bool {
        self.field(name).is_none() && self.new_fields.iter().any(|x| x == name)
    }
    pub fn moved(&self) -> impl Iterator<Item = usize> + '_ {
        self.fields
            .iter()
            .enumerate()
            .filter(|(_, f)| f.role == Role::Moved)
            .map(|(i, _)| i)
    }

    /// This rule with more callbacks: members the tree's own code shows to be callbacks that
    /// the rule does not list (they move like the listed ones, after them).
    pub fn with_callbacks<'a>(&self, extra: impl IntoIterator<Item = &'a String>) -> StructToOps {
        let mut r = self.clone();
        for name in extra {
            if r.field(name).is_none() {
                r.fields.push(Field {
                    name: name.clone(),
                    role: Role::Moved,
                    default: None,
                    doc: None,
                    decl: None,
                });
            }
        }
        r
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: Spanned<String>,
    /// Run when no `--rule` is given (false: only when named).
    #[serde(default = "crate::rule::raw::yes")]
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
    since: Option<Spanned<String>>,
    #[serde(default)]
    everywhere: bool,
    /// Why the change is right, for the patch message (after the summary line).
    body: Option<Spanned<String>>,
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

/// Compile a struct-to-ops rule file.
pub fn compile(l: &Loader) -> Result<Rule> {
    let at = |span: Range<usize>, msg: String| l.at(span, msg);
    let raw: RawRule = l.read()?;
    let head = Head {
        id: raw.id.clone(),
        default: raw.default,
        summary: raw.summary.clone(),
        subject: raw.subject.clone(),
        prefilter: raw.prefilter.clone(),
        target: raw.target,
        since: raw.since,
        everywhere: raw.everywhere,
        body: raw.body,
    };
    // The head is checked first, so its errors come before the kind's own.
    let base = l.finish(head, Arc::new(StructToOps::default()))?;
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
    let ops = StructToOps {
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
    };
    Ok(Rule {
        kind: Arc::new(ops),
        ..base
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
