//! The callback-signature kind: functions stored in one member of one struct type (in a
//! file-scope initializer) change their parameter list; their definition, their prototypes in
//! the file and their direct calls follow. A function also used anywhere the old signature is
//! required is flagged. Hands sites and one edit set to the pipeline.

pub mod rule;

use std::sync::Arc;
use std::time::Duration;

use tree_sitter::Node;

use crate::edit::Edit;
use crate::model::FileResult;
use crate::model::{Code, Flag, Outcome, Site};
use crate::parse::items;
use crate::parse::{Macros, ParseFailure, Parsed, line_of, text};
use crate::rule::{NewParam, Rule, Signature, Since, normalize_type};
use crate::tree::{self, declared_name, function_declarator, insert_after, insert_before};

/// How one occurrence of a callback's name is used.
enum Use<'t> {
    /// The member initializer (`.pte_hole = f`): the reason it is a callback.
    Member,
    /// A definition's or a prototype's parameter list.
    Params(Node<'t>),
    /// A direct call's argument list.
    Call(Node<'t>),
    /// Anywhere else: the old signature is required there.
    Other,
}

/// Parse what the proof needs, then migrate: the items (see [`items`]) that name the member
/// (the initializers storing callbacks), and the items that name a stored function (its
/// definition, prototypes, calls and other uses).
pub fn run(
    sig: &Signature,
    src: &[u8],
    timeout: Duration,
    macros: &Arc<Macros>,
) -> Result<FileResult, ParseFailure> {
    run_with(sig, src, timeout, macros, None, None)
}

/// [`run`], and with `compat`, each definition, prototype and direct call that changes is
/// written in both forms under a check for that version.
pub fn run_with(
    sig: &Signature,
    src: &[u8],
    timeout: Duration,
    macros: &Arc<Macros>,
    compat: Option<Since>,
    since: Option<Since>,
) -> Result<FileResult, ParseFailure> {
    let parsed = items::parse_for(src, timeout, macros, &[sig.member.as_bytes()], |p| {
        let names = stored(sig, src, p.tree.root_node());
        names.into_iter().map(|(n, _)| n.into_bytes()).collect()
    })?;
    Ok(migrate_with(sig, src, &parsed, compat, since))
}

impl crate::kinds::RuleKind for Signature {
    fn name(&self) -> &'static str {
        "callback-signature"
    }
    fn migrate(
        &self,
        rule: &Rule,
        cx: &crate::kinds::FileCtx,
        src: &[u8],
    ) -> Result<FileResult, ParseFailure> {
        run_with(self, src, cx.timeout, cx.macros, cx.compat, rule.since)
    }
    fn writes_compat(&self) -> bool {
        true
    }
    fn callers_change(&self, _: &Rule) -> String {
        let added: Vec<&str> = self
            .new
            .iter()
            .filter_map(|p| match p {
                NewParam::Added { decl, .. } => decl.split_whitespace().last(),
                NewParam::Old(_) => None,
            })
            .collect();
        format!(".{} callbacks take {}", self.member, added.join(", "))
    }
    fn mechanics(&self, _: &Rule) -> String {
        format!(
            "each function stored as .{} in a struct {} takes the new parameters, and so do its prototypes and direct calls.",
            self.member, self.strukt
        )
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// The functions stored in the member (with where), in file order.
fn stored(sig: &Signature, src: &[u8], root: Node) -> Vec<(String, usize)> {
    let mut names: Vec<(String, usize)> = Vec::new();
    tree::visit(root, &mut |n| {
        if let Some(v) = member_value(sig, src, n)
            && v.kind() == "identifier"
            && !names.iter().any(|x| x.0.as_bytes() == text(src, v))
        {
            names.push((
                String::from_utf8_lossy(text(src, v)).into_owned(),
                v.start_byte(),
            ));
        }
    });
    names
}

pub fn migrate(sig: &Signature, src: &[u8], parsed: &Parsed) -> FileResult {
    migrate_with(sig, src, parsed, None, None)
}

/// [`migrate`], writing both forms under a check for `compat`'s version when given.
pub fn migrate_with(
    sig: &Signature,
    src: &[u8],
    parsed: &Parsed,
    compat: Option<Since>,
    since: Option<Since>,
) -> FileResult {
    let root = parsed.tree.root_node();
    let mut out = FileResult::default();
    let names = stored(sig, src, root);
    let mut edits = Vec::new();
    let cx = Compat {
        groups: version_groups(src, parsed),
        write: compat,
        since,
    };
    for (name, at) in &names {
        match callback(sig, src, parsed, name, &cx) {
            Ok(None) => {}
            Ok(Some((lines, e))) => {
                edits.extend(e);
                for line in lines {
                    let outcome = match line {
                        Line::Converted(_) => Outcome::Converted,
                        Line::Compat(_) => Outcome::Compat,
                    };
                    out.sites.push(Site::caller(line.at(), name, outcome));
                }
            }
            Err((line, f)) => {
                let line = line.unwrap_or_else(|| line_of(src, *at));
                out.sites
                    .push(Site::caller(line, name, Outcome::Flagged(f)));
            }
        }
    }
    tree::commit(src, parsed, edits, &mut out);
    out
}

/// `n` is the value of `.MEMBER = value` in an initializer of `struct STRUCT`?
fn member_value<'t>(sig: &Signature, src: &[u8], n: Node<'t>) -> Option<Node<'t>> {
    if n.kind() != "initializer_pair" {
        return None;
    }
    let d = n.child_by_field_name("designator")?;
    let f = d.named_child(0)?;
    if d.kind() != "field_designator" || text(src, f) != sig.member.as_bytes() {
        return None;
    }
    let list = n.parent()?;
    let decl = list.parent()?.parent()?;
    (list.kind() == "initializer_list"
        && decl.kind() == "declaration"
        && tree::is_struct(src, decl.child_by_field_name("type"), &sig.strukt))
    .then(|| n.child_by_field_name("value"))?
}

/// A site's line, converted or already on both APIs.
#[derive(Clone, Copy)]
enum Line {
    Converted(usize),
    Compat(usize),
}

impl Line {
    fn at(self) -> usize {
        match self {
            Line::Converted(l) | Line::Compat(l) => l,
        }
    }
}

type Planned = Result<Option<(Vec<Line>, Vec<Edit>)>, (Option<usize>, Flag)>;

/// The arms (bodies) of each kernel version check of the file.
fn version_groups(src: &[u8], parsed: &Parsed) -> Vec<Vec<std::ops::Range<usize>>> {
    let arms = crate::compat::version_arms(src, parsed);
    parsed
        .directives
        .groups
        .iter()
        .map(|g| g.arms.iter().map(|a| a.body.clone()).collect::<Vec<_>>())
        .filter(|g: &Vec<std::ops::Range<usize>>| g.iter().any(|a| arms.contains(a)))
        .collect()
}

/// What `--compat` reads and writes in one file.
struct Compat {
    /// The arms of each kernel version check.
    groups: Vec<Vec<std::ops::Range<usize>>>,
    /// `--compat`: write both forms under a check for this version.
    write: Option<Since>,
    /// The version the rule's new signature arrived in: old-form code only older kernels
    /// compile is right as it is.
    since: Option<Since>,
}

impl Compat {
    /// Is the old-form use at `at` the old side of code on both APIs?
    fn old_side(&self, src: &[u8], parsed: &Parsed, at: usize, new_at: &[usize]) -> bool {
        beside_new(&self.groups, at, new_at)
            || self
                .since
                .is_some_and(|s| crate::compat::old_kernels_only(src, parsed, at, s))
    }
}

/// Is an old-form use at `at` in an arm of a version check whose other arm holds a new-form
/// use at one of `new_at`? Then it is the old side of code written for both kernels.
fn beside_new(groups: &[Vec<std::ops::Range<usize>>], at: usize, new_at: &[usize]) -> bool {
    groups.iter().any(|arms| {
        arms.iter().position(|a| a.contains(&at)).is_some_and(|i| {
            arms.iter()
                .enumerate()
                .any(|(j, a)| j != i && new_at.iter().any(|n| a.contains(n)))
        })
    })
}

/// Prove and plan one callback: `None` when it already has the new signature. The lines are
/// its sites: the definition, then each prototype and direct call that changes.
fn callback(sig: &Signature, src: &[u8], parsed: &Parsed, name: &str, cx: &Compat) -> Planned {
    let mut uses = Vec::new();
    tree::visit(parsed.tree.root_node(), &mut |n| {
        if n.kind() == "identifier"
            && text(src, n) == name.as_bytes()
            && !parsed.in_a_directive(n.start_byte())
        {
            uses.push((n, classify(sig, src, n)));
        }
    });
    if let Some(f) = parsed.unseen_use(src, name.as_bytes(), uses.len(), Code::OldSignatureUse) {
        return Err((None, f));
    }
    // Where the name is used in the new form already (a definition, a prototype, a call).
    let new_at: Vec<usize> = uses
        .iter()
        .filter(|(_, u)| match u {
            Use::Params(l) => matches!(params(sig, src, *l), Form::New),
            Use::Call(a) => call(sig, src, *a).is_ok_and(|e| e.is_empty()),
            _ => false,
        })
        .map(|(n, _)| n.start_byte())
        .collect();
    let mut def_line = None;
    let mut edits = Vec::new();
    let mut lines = Vec::new();
    for (n, u) in &uses {
        let line = line_of(src, n.start_byte());
        // Code the parser could not read is never rewritten: what it really says is unknown.
        // That includes a list the edit goes into (a missing comma makes two arguments one).
        let list_unread = matches!(u, Use::Params(l) | Use::Call(l) if l.has_error());
        if list_unread || std::iter::successors(Some(*n), |x| x.parent()).any(|x| x.is_error()) {
            return Err((
                Some(line),
                Flag::new(
                    Code::ParseError,
                    format!("the parser could not read the code around a use of `{name}`"),
                )
                .at(line),
            ));
        }
        match u {
            Use::Member => {}
            Use::Other if cx.old_side(src, parsed, n.start_byte(), &new_at) => {
                lines.push(Line::Compat(line));
            }
            Use::Other => {
                return Err((
                    Some(line),
                    Flag::new(
                        Code::OldSignatureUse,
                        format!("`{name}` is also used where the old signature is required"),
                    )
                    .at(line),
                ));
            }
            Use::Params(list) => {
                let defines = list
                    .parent()
                    .and_then(|d| d.parent())
                    .is_some_and(|d| d.kind() == "function_definition");
                if defines {
                    def_line = Some(line);
                    if !is_static(src, *list) {
                        return Err((
                            Some(line),
                            Flag::new(
                                Code::OldSignatureUse,
                                format!(
                                    "`{name}` is not static: other files may declare or call it with the old signature"
                                ),
                            ),
                        ));
                    }
                }
                match params(sig, src, *list) {
                    Form::New => {}
                    Form::Old(_) if cx.old_side(src, parsed, n.start_byte(), &new_at) => {
                        lines.push(Line::Compat(line));
                    }
                    Form::Old(e) => {
                        if !defines {
                            lines.push(Line::Converted(line));
                        }
                        match cx.write {
                            Some(since) => edits.push(
                                frame_declaration(src, *list, e, since)
                                    .map_err(|f| (Some(line), f.at(line)))?,
                            ),
                            None => edits.extend(e),
                        }
                    }
                    Form::Other => {
                        return Err((
                            Some(line),
                            Flag::new(
                                Code::UnexpectedSignature,
                                format!("`{name}` has neither the old nor the new parameters"),
                            ),
                        ));
                    }
                }
            }
            Use::Call(args) => {
                let e = call(sig, src, *args).map_err(|f| (Some(line), f))?;
                if e.is_empty() {
                    continue;
                }
                if cx.old_side(src, parsed, n.start_byte(), &new_at) {
                    lines.push(Line::Compat(line));
                    continue;
                }
                lines.push(Line::Converted(line));
                match cx.write {
                    Some(since) => edits.push(
                        frame_statement(src, *args, e, since)
                            .map_err(|f| (Some(line), f.at(line)))?,
                    ),
                    None => edits.extend(e),
                }
            }
        }
    }
    let Some(line) = def_line else {
        return Err((
            None,
            Flag::new(
                Code::NoDefinition,
                format!("`{name}` is not defined in this file"),
            ),
        ));
    };
    let converts = !edits.is_empty();
    lines.insert(
        0,
        match converts {
            true => Line::Converted(line),
            false => Line::Compat(line),
        },
    );
    let compat_seen = lines.iter().any(|l| matches!(l, Line::Compat(_)));
    Ok((converts || compat_seen).then_some((lines, edits)))
}

/// `--compat`: the lines of `range` written twice, with `edits` (inside it) under the version
/// check and as they were under `#else`.
fn frame_range(
    src: &[u8],
    range: std::ops::Range<usize>,
    edits: Vec<Edit>,
    since: Since,
) -> Result<Edit, Flag> {
    if !crate::compat::alone_on_its_lines(src, range.clone()) {
        return Err(Flag::new(
            Code::Unsupported,
            "the code to write in both forms shares a line with other code: --compat cannot put it under a version check",
        ));
    }
    // From the line's start: the indentation goes with each copy, the directives at column 0.
    let range = crate::parse::line_start(src, range.start)..range.end;
    let shifted: Vec<Edit> = edits
        .into_iter()
        .map(|e| {
            Edit::replace(
                e.range.start - range.start..e.range.end - range.start,
                e.text,
            )
        })
        .collect();
    let old = &src[range.clone()];
    let new = crate::edit::EditSet::new(shifted)
        .map_err(|o| Flag::new(Code::Unsupported, o.to_string()))?
        .apply(old);
    Ok(Edit::replace(range, crate::compat::frame(since, &new, old)))
}

/// A definition or a prototype, whole, in both forms (a definition's head alone under a
/// check would leave a plain reading of the file two heads for one body).
fn frame_declaration(src: &[u8], list: Node, edits: Vec<Edit>, since: Since) -> Result<Edit, Flag> {
    let mut d = list;
    while !matches!(d.kind(), "function_definition" | "declaration") {
        d = d.parent().expect("a parameter list is in a declaration");
    }
    frame_range(src, d.byte_range(), edits, since)
}

/// The statement holding a direct call, in both forms.
fn frame_statement(src: &[u8], args: Node, edits: Vec<Edit>, since: Since) -> Result<Edit, Flag> {
    let mut s = args;
    while !matches!(
        s.kind(),
        "expression_statement" | "return_statement" | "declaration"
    ) {
        s = s.parent().ok_or_else(|| {
            Flag::new(
                Code::Unsupported,
                "a direct call outside a statement: --compat cannot write it in both forms",
            )
        })?;
    }
    frame_range(src, s.byte_range(), edits, since)
}

fn classify<'t>(sig: &Signature, src: &[u8], id: Node<'t>) -> Use<'t> {
    let Some(p) = id.parent() else {
        return Use::Other;
    };
    if member_value(sig, src, p).is_some_and(|v| v.id() == id.id()) {
        return Use::Member;
    }
    if p.kind() == "function_declarator" {
        // A definition's or a file-scope prototype's declarator (not a local's).
        let top = p
            .parent()
            .filter(|d| matches!(d.kind(), "function_definition" | "declaration"));
        let file_scope = top.is_some_and(|d| tree::at_file_scope(src, d));
        if let (true, Some(list)) = (file_scope, p.child_by_field_name("parameters"))
            && function_declarator(top.unwrap().child_by_field_name("declarator").unwrap())
                .is_some_and(|f| f.id() == p.id())
        {
            return Use::Params(list);
        }
    }
    if let Some((_, args)) = tree::calls::call_of(id) {
        return Use::Call(args);
    }
    Use::Other
}

enum Form {
    Old(Vec<Edit>),
    New,
    Other,
}

/// Which form a parameter list has, and the edits from the old form to the new.
fn params(sig: &Signature, src: &[u8], list: Node) -> Form {
    let mut c = list.walk();
    let ps: Vec<Node> = list
        .named_children(&mut c)
        .filter(|n| n.kind() == "parameter_declaration")
        .collect();
    let types: Vec<String> = ps.iter().map(|p| param_type(src, *p)).collect();
    let want_new: Vec<&str> = sig
        .new
        .iter()
        .map(|p| match p {
            NewParam::Old(i) => sig.old[*i].as_str(),
            NewParam::Added { ty, .. } => ty.as_str(),
        })
        .collect();
    if types
        .iter()
        .map(String::as_str)
        .eq(want_new.iter().copied())
    {
        return Form::New;
    }
    if !types.iter().eq(sig.old.iter()) {
        return Form::Other;
    }
    let align = tree::column(src, list.start_byte()) + 1;
    let texts: Vec<String> = ps
        .iter()
        .map(|p| String::from_utf8_lossy(text(src, *p)).into_owned())
        .collect();
    let items: Vec<String> = sig
        .new
        .iter()
        .map(|p| match p {
            NewParam::Old(i) => texts[*i].clone(),
            NewParam::Added { decl, .. } => decl.clone(),
        })
        .collect();
    Form::Old(relist(sig, src, &ps, &items, align))
}

/// The edits that turn the old elements `old` into the new list `items`: insertions where the
/// new list keeps the old order, else the list rewritten.
fn relist(sig: &Signature, src: &[u8], old: &[Node], items: &[String], align: usize) -> Vec<Edit> {
    let kept: Vec<usize> = sig
        .new
        .iter()
        .filter_map(|p| match p {
            NewParam::Old(i) => Some(*i),
            _ => None,
        })
        .collect();
    let insert_only = kept.len() == old.len() && kept.windows(2).all(|w| w[0] < w[1]);
    if !insert_only || old.is_empty() {
        let r = old.first().map_or(0, |n| n.start_byte())..old.last().map_or(0, |n| n.end_byte());
        return vec![Edit::replace(r, items.join(", "))];
    }
    let mut edits = Vec::new();
    let mut next_old = 0;
    for (k, p) in sig.new.iter().enumerate() {
        match p {
            NewParam::Old(_) => next_old += 1,
            NewParam::Added { .. } if next_old < old.len() => {
                edits.push(insert_before(
                    src,
                    old[next_old].start_byte(),
                    &items[k],
                    align,
                ));
            }
            NewParam::Added { .. } => {
                edits.push(insert_after(
                    src,
                    old[old.len() - 1].end_byte(),
                    &items[k],
                    align,
                ));
            }
        }
    }
    edits
}

/// A direct call: old arity gets the new arguments, new arity is left alone.
fn call(sig: &Signature, src: &[u8], args: Node) -> Result<Vec<Edit>, Flag> {
    let a = tree::calls::named_children(args);
    if a.len() == sig.new.len() && a.len() != sig.old.len() {
        return Ok(Vec::new());
    }
    if a.len() != sig.old.len() {
        return Err(Flag::new(
            Code::UnexpectedSignature,
            format!("a direct call passes {} arguments", a.len()),
        ));
    }
    let items: Vec<String> = sig
        .new
        .iter()
        .map(|p| match p {
            NewParam::Old(i) => String::from_utf8_lossy(text(src, a[*i])).into_owned(),
            NewParam::Added { value, .. } => value.clone(),
        })
        .collect();
    let align = tree::column(src, args.start_byte()) + 1;
    Ok(relist(sig, src, &a, &items, align))
}

/// A parameter's type, normalized: its text without the declared name.
fn param_type(src: &[u8], p: Node) -> String {
    let t = text(src, p);
    let s = p.start_byte();
    let ty = match p.child_by_field_name("declarator").and_then(declared_name) {
        Some(id) => [&t[..id.start_byte() - s], &t[id.end_byte() - s..]].concat(),
        None => t.to_vec(),
    };
    normalize_type(&String::from_utf8_lossy(&ty))
}

/// Is the function whose parameter list is `list` declared `static`?
fn is_static(src: &[u8], list: Node) -> bool {
    let mut d = list.parent();
    while let Some(n) = d
        && !matches!(n.kind(), "function_definition" | "declaration")
    {
        d = n.parent();
    }
    d.is_some_and(|d| crate::tree::is_static(src, d))
}
