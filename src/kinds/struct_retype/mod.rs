//! The struct-retype kind: a file-scope struct of one type whose address goes only to the
//! listed entry points becomes the new type: the type renamed, the variable renamed (rule's
//! template), designated members mapped (dropped ones removed) and the initializer re-aligned
//! in kernel style. Anything else that touches the variable flags it. Hands sites and one edit
//! set to the pipeline.

mod across;
mod members;
pub mod rule;

use std::sync::Arc;
use std::time::Duration;

use tree_sitter::Node;

use crate::across::Settled;
use crate::edit::Edit;
use crate::model::FileResult;
use crate::model::{Code, Flag, Outcome, Site};
use crate::parse::items;
use crate::parse::{Macros, ParseFailure, Parsed, line_of, text};
use crate::rule::{Retype, Rule, Since};
use crate::tree::calls::{is_call_of, named_children};
use crate::tree::{self, declared_name};

/// One occurrence of a registered struct's name, as the proof sees it.
struct Occurrence<'t> {
    id: Node<'t>,
    /// A declaration of it (the definition or a forward declaration), with its type node.
    decl: Option<Node<'t>>,
    /// `&name` as the struct argument of an entry point.
    entry: bool,
}

/// Parse what the proof needs, then migrate: the items (see [`items`]) that call an entry
/// point or name the old struct type, and the items that name a registered struct. `check` on
/// a tree thus reads, of each file that registers a /proc entry, its registrations and
/// definitions, not the whole file.
///
/// `new_tree`: the tree's own headers hold the new API, so an entry call whose argument is not
/// the address of a struct of the old type defined here is taken to be of the new type.
pub fn run(
    k: &Retype,
    src: &[u8],
    timeout: Duration,
    macros: &Arc<Macros>,
    new_tree: bool,
) -> Result<FileResult, ParseFailure> {
    run_with(k, src, timeout, macros, new_tree, None, None)
}

/// [`run`], and with `compat`, each definition is written twice: the new type under a check
/// for that version, the old one under `#else` (one name, so registrations stay as they are).
pub fn run_with(
    k: &Retype,
    src: &[u8],
    timeout: Duration,
    macros: &Arc<Macros>,
    new_tree: bool,
    compat: Option<Since>,
    files: Option<Files>,
) -> Result<FileResult, ParseFailure> {
    let mut words: Vec<&[u8]> = k.entries.iter().map(|(e, _)| e.as_bytes()).collect();
    words.push(k.old.as_bytes());
    // A name settled across files: its items here (a definition, a declaration) too.
    if let Some(settled) = files.and_then(|f| f.settled) {
        words.extend(settled.keys().map(Vec::as_slice));
    }
    let parsed = items::parse_for(src, timeout, macros, &words, |p| {
        let names = registered(k, src, p.tree.root_node());
        names.into_iter().map(|(n, _)| n).collect()
    })?;
    Ok(migrate_with(k, src, &parsed, new_tree, compat, files))
}

impl crate::kinds::RuleKind for Retype {
    fn name(&self) -> &'static str {
        "struct-retype"
    }
    fn migrate(
        &self,
        _: &Rule,
        cx: &crate::kinds::FileCtx,
        src: &[u8],
    ) -> Result<FileResult, ParseFailure> {
        let files = Some(Files {
            tree: cx.tree,
            path: cx.path,
            settled: cx.settled,
        });
        run_with(
            self,
            src,
            cx.timeout,
            cx.macros,
            cx.tree_has_new,
            cx.compat,
            files,
        )
    }
    fn writes_compat(&self) -> bool {
        true
    }
    fn callers_change(&self, _: &Rule) -> String {
        format!("convert to struct {}", self.new)
    }
    fn mechanics(&self, _: &Rule) -> String {
        let entries: Vec<String> = self.entries.iter().map(|(e, _)| format!("{e}()")).collect();
        format!(
            "each struct {} whose address goes only to {} becomes a struct {}, its members renamed as the new type names them.",
            self.old,
            entries.join(", "),
            self.new
        )
    }
    fn reads_tree_api(&self) -> bool {
        true
    }
    fn across_words(&self, _: &Rule, name: &[u8]) -> Vec<Vec<u8>> {
        let new = self.rename(&String::from_utf8_lossy(name));
        vec![name.to_vec(), new.into_bytes()]
    }
    fn settle(
        &self,
        _: &Rule,
        cx: &crate::across::SettleCtx,
        name: &[u8],
        files: &[crate::across::Named],
    ) -> Result<crate::across::Settled, Option<String>> {
        across::settle(self, cx, name, files)
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// The names whose address goes to an entry point (with where), in file order.
fn registered(k: &Retype, src: &[u8], root: Node) -> Vec<(Vec<u8>, usize)> {
    let mut names: Vec<(Vec<u8>, usize)> = Vec::new();
    tree::visit(root, &mut |n| {
        if let Some(Ok(name)) = entry_arg(k, src, n)
            && !names.iter().any(|x| x.0 == text(src, name))
        {
            names.push((text(src, name).to_vec(), name.start_byte()));
        }
    });
    names
}

pub fn migrate(k: &Retype, src: &[u8], parsed: &Parsed, new_tree: bool) -> FileResult {
    migrate_with(k, src, parsed, new_tree, None, None)
}

/// The tree and the file's path in it: a non-static definition no other file names is
/// converted like a static one, and one settled across files ([`crate::across`]) as it says.
#[derive(Clone, Copy)]
pub struct Files<'a> {
    pub tree: &'a std::path::Path,
    pub path: &'a std::path::Path,
    pub settled: Option<&'a std::collections::HashMap<Vec<u8>, Settled>>,
}

/// [`migrate`], writing both forms under a check for `compat`'s version when given.
pub fn migrate_with(
    k: &Retype,
    src: &[u8],
    parsed: &Parsed,
    new_tree: bool,
    compat: Option<Since>,
    files: Option<Files>,
) -> FileResult {
    let root = parsed.tree.root_node();
    let cx = Cx {
        k,
        src,
        parsed,
        new_tree,
        compat,
        arms: crate::compat::version_arms(src, parsed),
        files,
    };
    let mut out = FileResult::default();
    let mut names = registered(k, src, root);
    names.extend(settled_here(&cx, &names));
    tree::visit(root, &mut |n| {
        let Some(Err(arg)) = entry_arg(k, src, n) else {
            return;
        };
        let line = line_of(src, arg.start_byte());
        let (shown, flag) = if arg.kind() == "argument_list" {
            let f = n.child_by_field_name("function").unwrap_or(n);
            let why = "the parser could not read this registration's arguments";
            (text(src, f), Flag::new(Code::ParseError, why.to_string()))
        } else if new_tree {
            return;
        } else {
            let why = format!(
                "the struct {} argument is not the address of a struct this file defines",
                k.old
            );
            (text(src, arg), Flag::new(Code::NoDefinition, why))
        };
        let shown = String::from_utf8_lossy(shown);
        out.sites
            .push(Site::caller(line, &shown, Outcome::Flagged(flag)));
    });
    let mut edits = Vec::new();
    // Two structs of one file that the template names alike keep their names.
    let renames: Vec<String> = names
        .iter()
        .map(|(n, _)| k.rename(&String::from_utf8_lossy(n)))
        .collect();
    for (i, (name, at)) in names.iter().enumerate() {
        let shown = String::from_utf8_lossy(name).into_owned();
        let unique = renames.iter().filter(|r| **r == renames[i]).count() == 1;
        // Under --compat the name stays: both definitions answer to it. A name settled
        // across files carries the name every file agreed on.
        let new = match cx.settled(name) {
            Some(Settled::Carry(n)) => n.clone(),
            _ if unique && compat.is_none() => renames[i].clone(),
            _ => shown.clone(),
        };
        match retype(&cx, root, name, &new) {
            Ok(None) => {}
            Ok(Some(Plan::Convert(lines, e))) => {
                edits.extend(e);
                for line in lines {
                    out.sites
                        .push(Site::caller(line, &shown, Outcome::Converted));
                }
            }
            Ok(Some(Plan::Compat(lines))) => {
                for line in lines {
                    out.sites.push(Site::caller(line, &shown, Outcome::Compat));
                }
            }
            Ok(Some(Plan::Elsewhere(line, f))) => {
                out.sites
                    .push(Site::caller(line, &shown, Outcome::Flagged(f)));
                out.across.push(name.clone());
            }
            Err((line, f)) => {
                let line = line.unwrap_or_else(|| line_of(src, *at));
                out.sites
                    .push(Site::caller(line, &shown, Outcome::Flagged(f)));
            }
        }
    }
    out.sites
        .sort_by(|a, b| (a.line, &a.function).cmp(&(b.line, &b.function)));
    tree::commit(src, parsed, edits, &mut out);
    out
}

/// The entry-point argument at `n`, if `n` is an entry call: `Ok(name)` for `&name`,
/// `Err(arg)` for anything else but NULL, and `Err(arguments)` when the parser could not read
/// the argument list.
fn entry_arg<'t>(k: &Retype, src: &[u8], n: Node<'t>) -> Option<Result<Node<'t>, Node<'t>>> {
    let (_, idx) = k.entries.iter().find(|(e, _)| is_call_of(src, n, e))?;
    let args = n.child_by_field_name("arguments")?;
    // Arguments the parser could not read (a missing comma) cannot be counted: not a proof.
    if args.has_error() {
        return Some(Err(args));
    }
    let a = named_children(args);
    let arg = *a.get(*idx)?;
    if text(src, arg) == b"NULL" {
        return None;
    }
    Some(address_of(arg).ok_or(arg))
}

/// `name` in `&name`.
fn address_of(arg: Node) -> Option<Node> {
    let op = arg.child_by_field_name("operator")?;
    let a = arg.child_by_field_name("argument")?;
    (arg.kind() == "pointer_expression" && op.kind() == "&" && a.kind() == "identifier")
        .then_some(a)
}

/// What one file's migration reads, besides the name at hand.
struct Cx<'a> {
    k: &'a Retype,
    src: &'a [u8],
    parsed: &'a Parsed,
    new_tree: bool,
    /// `--compat`: the version the new type arrived in.
    compat: Option<Since>,
    /// The bodies of the arms of the file's kernel version checks.
    arms: Vec<std::ops::Range<usize>>,
    files: Option<Files<'a>>,
}

impl Cx<'_> {
    /// How the run settled `name` across files, if it did.
    fn settled(&self, name: &[u8]) -> Option<&Settled> {
        self.files?.settled?.get(name)
    }
}

/// The names settled across files that this file holds in its code but does not register
/// (a definition, an `extern` declaration), with where each first is.
fn settled_here(cx: &Cx, registered: &[(Vec<u8>, usize)]) -> Vec<(Vec<u8>, usize)> {
    let Some(settled) = cx.files.and_then(|f| f.settled) else {
        return Vec::new();
    };
    let mut out: Vec<(Vec<u8>, usize)> = settled
        .keys()
        .filter(|n| !registered.iter().any(|(r, _)| r == *n))
        .filter_map(|n| {
            let mut at = None;
            tree::visit(cx.parsed.tree.root_node(), &mut |x| {
                if at.is_none() && x.kind() == "identifier" && text(cx.src, x) == n.as_slice() {
                    at = Some(x.start_byte());
                }
            });
            at.map(|a| (n.clone(), a))
        })
        .collect();
    out.sort_by_key(|(_, a)| *a);
    out
}

/// One registered struct's plan; the lines are its sites: the definition, then each forward
/// declaration and registration.
enum Plan {
    Convert(Vec<usize>, Vec<Edit>),
    /// Defined with both types under a version check already: migrated, left alone.
    Compat(Vec<usize>),
    /// Flagged only because other files hold the rest of it (its definition, or a use of a
    /// non-static definition): the run may settle it across files.
    Elsewhere(usize, Flag),
}

type Planned = Result<Option<Plan>, (Option<usize>, Flag)>;

/// Prove and plan one registered struct: `None` when it is not of the old type here.
fn retype(cx: &Cx, root: Node, name: &[u8], new: &str) -> Planned {
    let (k, src, parsed, new_tree) = (cx.k, cx.src, cx.parsed, cx.new_tree);
    let shown = String::from_utf8_lossy(name).into_owned();
    let occ = occurrences(k, src, parsed, name);
    if occ.iter().all(|o| o.decl.is_none()) && declared_otherwise(src, root, name) {
        return Ok(None);
    }
    if cx.settled(name) == Some(&Settled::Done) {
        return Ok(None); // of the new type in every file that declares it
    }
    if is_compat(cx.src, &cx.arms, cx.k, &occ) || cx.settled(name) == Some(&Settled::Compat) {
        let mut lines: Vec<usize> = occ
            .iter()
            .filter(|o| o.decl.is_some() || o.entry)
            .map(|o| line_of(src, o.id.start_byte()))
            .collect();
        lines.dedup();
        return Ok(Some(Plan::Compat(lines)));
    }
    let flag = |n: Node, code, why: String| {
        let line = line_of(src, n.start_byte());
        Err((Some(line), Flag::new(code, why).at(line)))
    };
    if let Some(o) = occ.iter().find(|o| o.decl.is_none() && !o.entry) {
        return flag(
            o.id,
            Code::OtherUse,
            format!("`{shown}` is also used other than by a /proc registration"),
        );
    }
    if let Some(f) = parsed.unseen_use(src, name, occ.len(), Code::OtherUse) {
        return Err((None, f));
    }
    let decls: Vec<Node> = occ.iter().filter_map(|o| o.decl).collect();
    // Settled across files: every other file's use is one this migration converts.
    let settled = cx.settled(name).is_some();
    let def = decls.iter().copied().find(|d| initializer(*d).is_some());
    let first = def
        .or(decls.first().copied())
        .or(occ.iter().find(|o| o.entry).map(|o| o.id));
    let line = first.map_or(0, |n| line_of(src, n.start_byte()));
    if def.is_none() && !settled {
        if new_tree && decls.is_empty() {
            return Ok(None); // defined elsewhere: of the new type, as the tree builds
        }
        let why = format!(
            "`{shown}` is not defined in this file (another file, or a macro such as DEFINE_SHOW_ATTRIBUTE)"
        );
        let flag = Flag::new(Code::NoDefinition, why);
        // Declared here or in a header it includes: another file may define it, and the run
        // may settle it across files. Else a macro made the name: no file holds it.
        let near = |f: Files| crate::elsewhere::declared_near(f.tree, f.path, src, name);
        if !decls.is_empty() || cx.files.is_some_and(near) {
            return Ok(Some(Plan::Elsewhere(line, flag)));
        }
        return Err((Some(line), flag));
    }
    if let Some(d) = decls
        .iter()
        .find(|d| !settled && !crate::tree::is_static(src, **d))
    {
        // Only a name that needs it is looked up across the tree.
        let elsewhere = cx
            .files
            .map(|f| crate::elsewhere::named_in(f.tree, f.path, name));
        match elsewhere {
            Some(None) => {} // no other file names it: as good as static
            Some(Some(other)) => {
                let why = format!(
                    "`{shown}` is not static and {} names it: other files may use it",
                    other.display()
                );
                let l = line_of(src, d.start_byte());
                let f = Flag::new(Code::OtherUse, why).at(l);
                return Ok(Some(Plan::Elsewhere(l, f)));
            }
            None => {
                let why = format!("`{shown}` is not static: other files may use it");
                return flag(*d, Code::OtherUse, why);
            }
        }
    }
    // Every definition gets the member map: `#ifdef`/`#else` may hold one per configuration.
    let mut edits = Vec::new();
    for list in decls.iter().filter_map(|d| initializer(*d)) {
        edits.extend(members::edits(k, src, list).map_err(|(n, f)| {
            let l = line_of(src, n.start_byte());
            (Some(l), f.at(l))
        })?);
    }
    for d in &decls {
        let ty = d
            .child_by_field_name("type")
            .and_then(|t| t.child_by_field_name("name"));
        edits.push(Edit::replace(ty.unwrap().byte_range(), k.new.clone()));
    }
    if let Some(since) = cx.compat {
        if decls.is_empty() {
            // Registrations only: the name stays, and so do they.
            return Ok(None);
        }
        let framed = frame_each(src, &decls, edits, since).map_err(|d| {
            let l = line_of(src, d.start_byte());
            let why = format!(
                "`{shown}`'s declaration shares a line with other code: --compat cannot put it under a version check"
            );
            (Some(l), Flag::new(Code::Unsupported, why).at(l))
        })?;
        let mut lines = vec![line];
        lines.extend(
            decls
                .iter()
                .map(|d| line_of(src, d.start_byte()))
                .filter(|l| *l != line),
        );
        return Ok(Some(Plan::Convert(lines, framed)));
    }
    // A settled name's new name is free in the whole tree (every file agreed on it).
    let taken = !settled
        && (parsed.lexed.code_words(src).any(|w| w == new.as_bytes())
            || parsed.in_directive(src, new.as_bytes()));
    if new != shown && !taken {
        edits.extend(occ.iter().map(|o| Edit::replace(o.id.byte_range(), new)));
        let longer = new.len().saturating_sub(shown.len());
        edits.extend(
            occ.iter()
                .filter(|o| o.entry)
                .filter_map(|o| rewrap(src, o.id, longer)),
        );
    }
    let mut lines = vec![line];
    lines.extend(
        occ.iter()
            .map(|o| line_of(src, o.id.start_byte()))
            .filter(|l| *l != line),
    );
    Ok(Some(Plan::Convert(lines, edits)))
}

/// `--compat`: each declaration's lines written twice, the new type (its share of `edits`
/// applied) under the version check and the old one, as it was, under `#else`. Err: a
/// declaration that shares a line with other code.
fn frame_each<'t>(
    src: &[u8],
    decls: &[Node<'t>],
    edits: Vec<Edit>,
    since: Since,
) -> Result<Vec<Edit>, Node<'t>> {
    let mut out = Vec::new();
    for d in decls {
        if !crate::compat::alone_on_its_lines(src, d.byte_range()) {
            return Err(*d);
        }
        // From the line's start: the indentation goes with each copy.
        let at = crate::parse::line_start(src, d.start_byte())..d.end_byte();
        let mine: Vec<Edit> = edits
            .iter()
            .filter(|e| at.start <= e.range.start && e.range.end <= at.end)
            .map(|e| {
                Edit::replace(
                    e.range.start - at.start..e.range.end - at.start,
                    e.text.clone(),
                )
            })
            .collect();
        let old = &src[at.clone()];
        let new = crate::edit::EditSet::new(mine)
            .expect("a plan's edits are disjoint")
            .apply(old);
        out.push(Edit::replace(at, crate::compat::frame(since, &new, old)));
    }
    Ok(out)
}

/// Is the struct defined with the old type and the new one, each in an arm of a kernel
/// version check (as `acpi_call` has it)? Then it is migrated already.
fn is_compat(src: &[u8], arms: &[std::ops::Range<usize>], k: &Retype, occ: &[Occurrence]) -> bool {
    let inside = |n: Node| arms.iter().any(|a| a.contains(&n.start_byte()));
    let old = occ.iter().any(|o| o.decl.is_some_and(inside));
    let new = occ
        .iter()
        .any(|o| o.decl.is_none() && declaration_as(src, o.id, &k.new).is_some_and(inside));
    old && new
}

/// Does the file declare `name` at file scope with another type (already converted code)?
fn declared_otherwise(src: &[u8], root: Node, name: &[u8]) -> bool {
    let mut c = root.walk();
    root.named_children(&mut c)
        .filter(|d| d.kind() == "declaration")
        .any(|d| {
            let mut c = d.walk();
            d.children_by_field_name("declarator", &mut c)
                .filter_map(declared_name)
                .any(|id| text(src, id) == name)
        })
}

/// Every identifier `name` in the file, with what it is.
fn occurrences<'t>(k: &Retype, src: &[u8], parsed: &'t Parsed, name: &[u8]) -> Vec<Occurrence<'t>> {
    let mut out = Vec::new();
    tree::visit(parsed.tree.root_node(), &mut |n| {
        if n.kind() != "identifier" || text(src, n) != name || parsed.in_a_directive(n.start_byte())
        {
            return;
        }
        let entry = n
            .parent()
            .and_then(|p| p.parent())
            .and_then(|a| a.parent())
            .and_then(|call| entry_arg(k, src, call))
            .is_some_and(|r| r.is_ok_and(|x| x.id() == n.id()));
        out.push(Occurrence {
            id: n,
            decl: declaration_of(k, src, n),
            entry,
        });
    });
    out
}

/// The file-scope declaration `n` is the declared name of, if its type is the old struct and
/// it declares only this one name.
fn declaration_of<'t>(k: &Retype, src: &[u8], n: Node<'t>) -> Option<Node<'t>> {
    declaration_as(src, n, &k.old)
}

/// The file-scope declaration `n` is the one declared name of, if its type is `struct ty`.
fn declaration_as<'t>(src: &[u8], n: Node<'t>, ty: &str) -> Option<Node<'t>> {
    let mut d = n.parent()?;
    while d.kind() != "declaration" {
        if !matches!(d.kind(), "init_declarator" | "attributed_declarator") {
            return None;
        }
        d = d.parent()?;
    }
    let file_scope = tree::at_file_scope(src, d);
    let mut c = d.walk();
    let one = d.children_by_field_name("declarator", &mut c).count() == 1;
    let named = d
        .child_by_field_name("declarator")
        .and_then(declared_name)
        .is_some_and(|x| x.id() == n.id());
    (file_scope && one && named && tree::is_struct(src, d.child_by_field_name("type"), ty))
        .then_some(d)
}

fn initializer(decl: Node) -> Option<Node> {
    let d = decl.child_by_field_name("declarator")?;
    let v = d.child_by_field_name("value")?;
    (d.kind() == "init_declarator" && v.kind() == "initializer_list").then_some(v)
}

/// A registration line the longer name pushes past 80 columns: the struct argument moves to
/// a line of its own, aligned after the call's parenthesis (when it follows a comma on the
/// same line).
fn rewrap(src: &[u8], id: Node, longer: usize) -> Option<Edit> {
    let end = crate::parse::line_end(src, id.start_byte());
    let width = tree::column(src, end);
    if width > 80 || width + longer <= 80 {
        return None;
    }
    let arg = id.parent()?;
    let args = arg.parent()?;
    let mut at = arg.start_byte();
    while at > 0 && matches!(src[at - 1], b' ' | b'\t') {
        at -= 1;
    }
    if at == 0 || src[at - 1] != b',' {
        return None;
    }
    let indent = tree::indent_to(tree::column(src, args.start_byte()) + 1);
    Some(Edit::replace(at..arg.start_byte(), format!("\n{indent}")))
}
