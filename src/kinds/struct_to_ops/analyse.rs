//! Per-function analysis: parse-trust and guard checks, walk discovery and the calls each walk
//! owns; `walk_verdict` then judges each walk: a [`WalkPlan`] that says what to delete,
//! replace and generate, or a flag with the reason. The plan's types live here.

use std::collections::HashMap;
use std::ops::Range;

use tree_sitter::Node;

use super::compat;
use super::find::{self, Call, Walk, unparen, visit};
use super::model::{Code, Flag, Outcome, Site, Verdict};
use super::values::*;
use super::walk_verdict::{WalkCtx, walk_verdict};
use crate::kinds::struct_to_ops::rule::StructToOps;
use crate::parse::{Parsed, line_of, line_start, text};

pub struct FileCtx<'a> {
    pub rule: &'a StructToOps,
    pub src: &'a [u8],
    pub parsed: &'a Parsed,
    /// File-scope functions and the offset of their first declaration.
    pub functions: HashMap<Vec<u8>, usize>,
    /// Functions declared by the headers the file includes.
    pub included: super::headers::Included<'a>,
    /// Arms of version checks in a file that writes both APIs.
    pub compat: super::compat::VersionArms,
    /// Per conditional that splits a statement: does every configuration keep the nesting
    /// of the code around it? (A re-parse per arm: asked once per file, not per walk.)
    pub nesting_kept: std::cell::RefCell<HashMap<usize, bool>>,
}

pub struct FnResult<'t> {
    pub sites: Vec<Site>,
    pub plans: Vec<WalkPlan<'t>>,
    pub unexplained_parse_error: bool,
}

/// One field member of a generated ops struct, maybe under a conditional.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Member {
    Plain(Init),
    /// Members that depend on one conditional group: per arm (directive line, members).
    Guarded {
        arms: Vec<(String, Vec<Init>)>,
        end: String,
    },
}

/// `.field = value,` and the comments that came with the value from the removed code.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Init {
    pub field: String,
    pub value: String,
    pub notes: Vec<Note>,
}

impl Init {
    pub fn new(field: String, value: String) -> Init {
        Init {
            field,
            value,
            notes: Vec::new(),
        }
    }
}

/// A comment moved with a value, byte for byte: on the member's line (`trailing`) or on its
/// own line above it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Note {
    pub text: Vec<u8>,
    pub trailing: bool,
    /// A comment of several lines on its own lines keeps the indentation it had, so that its
    /// inner lines (bytes of the comment) still line up with its first.
    pub indent: Option<Vec<u8>>,
}

impl Member {
    /// Every `.field = value` of the member, in all arms.
    pub fn inits(&self) -> Vec<&Init> {
        match self {
            Member::Plain(i) => vec![i],
            Member::Guarded { arms, .. } => arms.iter().flat_map(|a| a.1.iter()).collect(),
        }
    }

    /// [`Member::inits`], to add to.
    pub fn inits_mut(&mut self) -> Vec<&mut Init> {
        match self {
            Member::Plain(i) => vec![i],
            Member::Guarded { arms, .. } => arms.iter_mut().flat_map(|a| a.1.iter_mut()).collect(),
        }
    }
}

/// A conditional the whole ops struct sits in: the group's opening line, the arm's own line
/// when it is not the first arm, and the `#endif` line.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Wrap {
    pub open: String,
    pub arm: Option<String>,
    pub end: String,
    /// The lines of the arms between the first and this one (for this arm's own condition).
    pub between: Vec<String>,
    /// The conditional (index into the file's directives) and the arm's index in it.
    pub group: usize,
    pub index: usize,
    /// Set when one struct serves several arms of the conditional (none covering every
    /// configuration): their indices, and the one line that opens them all.
    pub serves: Option<(Vec<usize>, String)>,
}

/// The contents of one ops struct to generate (before naming). The struct is wrapped in the
/// conditionals around its use, so that it exists exactly where its callbacks do.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Spec {
    pub wrap: Vec<Wrap>,
    pub members: Vec<Member>,
}

#[derive(Debug, Clone)]
pub enum OpsRef {
    /// `&NAME` of spec `i` of the plan.
    Spec(usize),
    /// The ops pointer local (switching mode).
    Local,
}

#[derive(Debug)]
pub struct CallPlan<'t> {
    pub node: Node<'t>,
    pub entry: usize,
    pub ops: OpsRef,
    /// Argument texts for `NewArg::Field` positions, by field index.
    pub fields: HashMap<usize, String>,
    /// Argument fields with several values at this call: it passes their local
    /// ([`ArgLocal`]).
    pub local_fields: Vec<usize>,
}

/// An argument field that reaches some call with several values: a local of the field's
/// type takes its place, declared where the walk was and assigned where it was stored.
#[derive(Debug)]
pub struct ArgLocal {
    /// `void *private = vma;` or `void *private;`.
    pub decl: String,
    /// The `walk.field` of the stores that reach such a call: each becomes the local's name.
    pub stores: Vec<Range<usize>>,
    pub name: String,
}

#[derive(Debug)]
pub struct WalkPlan<'t> {
    pub function: Node<'t>,
    /// `{base}` of the rule's ops name template.
    pub base: String,
    pub specs: Vec<Spec>,
    /// Statements to delete.
    pub deletes: Vec<Range<usize>>,
    /// Statements replaced by `LOCAL = &NAME;` (switching mode).
    pub assigns: Vec<(Range<usize>, usize)>,
    /// Switching mode: the local's name and the spec its declaration starts with.
    pub local: Option<(String, Option<usize>)>,
    pub decl: Range<usize>,
    pub calls: Vec<CallPlan<'t>>,
    pub reads: Vec<(Range<usize>, String)>,
    /// Comments that go on their own lines above a rewritten call: (line start, text).
    pub above: Vec<(usize, Vec<u8>)>,
    /// Locals for argument fields with several values at a call.
    pub arg_locals: Vec<ArgLocal>,
}

/// One function's sites and plans: each entry-point call whose walk is not a local of the
/// function is flagged (or a compat site), and each local walk is judged with its calls.
pub fn function<'t>(ctx: &FileCtx<'t>, f: Node<'t>, calls: Vec<Call<'t>>) -> FnResult<'t> {
    let src = ctx.src;
    let name = f
        .child_by_field_name("declarator")
        .and_then(|d| find::function_name(src, d))
        .map(|n| String::from_utf8_lossy(n).into_owned())
        .unwrap_or_default();
    let mut res = FnResult {
        sites: Vec::new(),
        plans: Vec::new(),
        unexplained_parse_error: false,
    };
    let Some(body) = f.child_by_field_name("body") else {
        return res;
    };
    let sites = Sites { src, name: &name };
    let (walks, decl_flags) = find::walks(ctx.rule, src, body);
    for (at, flag) in decl_flags {
        res.sites.push(sites.at(at, Outcome::Flagged(flag)));
    }
    if calls.is_empty() && walks.is_empty() {
        return res;
    }
    let groups = ctx.parsed.directives.groups_within(&body.byte_range());
    let whole = whole_function_flag(ctx, f, body, &walks, &groups, &mut res);
    let scopes = Scopes::of(src, f);
    let owner = call_owners(ctx, &calls, &walks, &scopes);
    foreign_calls(ctx, &calls, &owner, &whole, &sites, &mut res);
    for (wi, walk) in walks.iter().enumerate() {
        let mine: Vec<usize> = (0..calls.len()).filter(|&i| owner[i] == Some(wi)).collect();
        if compat::is_compat(ctx, walk, &own_idents(src, body, walk, &scopes)) {
            let at: Vec<usize> = match mine.is_empty() {
                true => vec![walk.decl.start_byte()],
                false => mine.iter().map(|&i| calls[i].node.start_byte()).collect(),
            };
            res.sites
                .extend(at.into_iter().map(|a| sites.at(a, Outcome::Compat)));
            continue;
        }
        let verdict = match &whole {
            Some(flag) => Err(flag.clone()),
            None => walk_verdict(&WalkCtx {
                ctx,
                f,
                fname: &name,
                body,
                groups: &groups,
                walk,
                walks: &walks,
                calls: &calls,
                mine: &mine,
            })
            .and_then(|plan| match plan {
                Some(p) => touches_unreadable(src, f, &p).map(|()| Some(p)),
                None => Ok(None),
            }),
        };
        let judged = Judged {
            walk,
            calls: &calls,
            mine: &mine,
            whole: whole.is_some(),
        };
        judged.record(ctx, verdict, &sites, &mut res);
    }
    res
}

/// Sites of one function: its name on each.
struct Sites<'a> {
    src: &'a [u8],
    name: &'a str,
}

impl Sites<'_> {
    fn at(&self, offset: usize, outcome: Outcome) -> Site {
        Site {
            line: line_of(self.src, offset),
            function: self.name.to_string(),
            outcome,
            definition: false,
        }
    }
}

/// A reason to touch nothing in the function: code the parser could not read where it could
/// hide something the analysis needs, or a conditional crossing the function's boundary.
/// (Other conditionals are judged per walk, in guards.rs: most cannot change what reaches a
/// call.)
fn whole_function_flag(
    ctx: &FileCtx,
    f: Node,
    body: Node,
    walks: &[Walk],
    groups: &[usize],
    res: &mut FnResult,
) -> Option<Flag> {
    let walk_names: Vec<&str> = walks.iter().map(|w| w.name.as_str()).collect();
    let whole = parse_trouble(ctx, f, &walk_names).map(|(at, why)| {
        res.unexplained_parse_error = true;
        Flag::new(Code::ParseError, why).at(line_of(ctx.src, at))
    });
    whole.or_else(|| crossing_guard(ctx, body, groups))
}

/// For each call, the walk (index into `walks`) it is given as `&walk`: a local of this
/// function, the innermost declaration of the name where the call is (as in C); `None` for
/// anything else.
fn call_owners(
    ctx: &FileCtx,
    calls: &[Call],
    walks: &[Walk],
    scopes: &Scopes,
) -> Vec<Option<usize>> {
    let src = ctx.src;
    calls
        .iter()
        .map(|c| {
            let arg = unparen(c.args[ctx.rule.entries[c.entry].walk_index]);
            (arg.kind() == "pointer_expression"
                && arg.child_by_field_name("operator").map(|o| text(src, o)) == Some(b"&"))
            .then(|| arg.child_by_field_name("argument").map(unparen))
            .flatten()
            .filter(|a| a.kind() == "identifier")
            .and_then(|a| {
                let seen = scopes.visible(text(src, a), a.start_byte());
                walks
                    .iter()
                    .position(|w| w.name.as_bytes() == text(src, a) && Some(w.ident) == seen)
            })
        })
        .collect()
}

/// Calls whose walk is no local struct of the function: a compat site in a version check's
/// arm, else flagged (with the function-wide reason, if there is one).
fn foreign_calls(
    ctx: &FileCtx,
    calls: &[Call],
    owner: &[Option<usize>],
    whole: &Option<Flag>,
    sites: &Sites,
    res: &mut FnResult,
) {
    let (rule, src) = (ctx.rule, ctx.src);
    for (c, _) in calls.iter().zip(owner).filter(|(_, o)| o.is_none()) {
        let at = c.node.start_byte();
        if ctx.compat.contains(at) {
            res.sites.push(sites.at(at, Outcome::Compat));
            continue;
        }
        let arg = unparen(c.args[rule.entries[c.entry].walk_index]);
        let why = whole.clone().unwrap_or_else(|| {
            Flag::new(
                Code::NotLocal,
                format!(
                    "walk argument `{}` is not a local struct {}",
                    String::from_utf8_lossy(text(src, arg)),
                    rule.old_struct
                ),
            )
        });
        res.sites.push(sites.at(at, Outcome::Flagged(why)));
    }
}

/// One walk's verdict, to be recorded as sites (and its plan).
struct Judged<'a, 't> {
    walk: &'a Walk<'t>,
    calls: &'a [Call<'t>],
    mine: &'a [usize],
    /// The function as a whole was flagged.
    whole: bool,
}

impl<'t> Judged<'_, 't> {
    fn record(
        &self,
        ctx: &FileCtx,
        verdict: Verdict<Option<WalkPlan<'t>>>,
        sites: &Sites,
        res: &mut FnResult<'t>,
    ) {
        let call_sites = |outcome: &Outcome| -> Vec<Site> {
            self.mine
                .iter()
                .map(|&i| sites.at(self.calls[i].node.start_byte(), outcome.clone()))
                .collect()
        };
        match verdict {
            Ok(Some(plan)) => {
                res.sites.extend(call_sites(&Outcome::Converted));
                res.plans.push(plan);
            }
            Ok(None) => {} // new-API code, or a walk with nothing of the old API: not a site
            Err(flag) if self.mine.is_empty() => {
                if !self.whole || walk_touches_old_api(ctx.rule, ctx.src, self.walk) {
                    // Without a call, the site is where the walk goes wrong.
                    let mut s =
                        sites.at(self.walk.decl.start_byte(), Outcome::Flagged(flag.clone()));
                    s.line = flag.line.unwrap_or(s.line);
                    res.sites.push(s);
                }
            }
            Err(flag) => res.sites.extend(call_sites(&Outcome::Flagged(flag))),
        }
    }
}

/// A plan may not rewrite code the parser could not read: those bytes would be lost or
/// re-laid out blind.
fn touches_unreadable(src: &[u8], f: Node, plan: &WalkPlan) -> Verdict<()> {
    let mut bad: Vec<Range<usize>> = Vec::new();
    fn collect(n: Node, out: &mut Vec<Range<usize>>) {
        if !n.has_error() {
            return;
        }
        if n.is_error() || n.is_missing() {
            out.push(n.byte_range());
            return;
        }
        let mut c = n.walk();
        for ch in n.children(&mut c) {
            collect(ch, out);
        }
    }
    collect(f, &mut bad);
    if bad.is_empty() {
        return Ok(());
    }
    for r in edited_ranges(plan) {
        if let Some(e) = bad.iter().find(|e| {
            if e.is_empty() {
                r.start <= e.start && e.start <= r.end
            } else {
                e.start < r.end && r.start < e.end
            }
        }) {
            return Err(Flag::new(
                Code::ParseError,
                "the parser could not read code this rewrite would change",
            )
            .at(line_of(src, e.start)));
        }
    }
    Ok(())
}

/// Does a walk without calls set anything only the old struct has?
pub(super) fn walk_touches_old_api(rule: &StructToOps, src: &[u8], walk: &Walk) -> bool {
    let t = &src[walk.decl.start_byte()..walk.scope.end];
    rule.moved()
        .any(|f| memchr::memmem::find(t, format!(".{}", rule.fields[f].name).as_bytes()).is_some())
}

/// An ERROR or MISSING node in the function that could hide something the analysis needs.
fn parse_trouble(ctx: &FileCtx, f: Node, walks: &[&str]) -> Option<(usize, String)> {
    let src = ctx.src;
    let mut found = None;
    visit(f, &mut |n| {
        if found.is_some() || !(n.is_error() || n.is_missing()) {
            return;
        }
        let scope = if n.is_missing() {
            n.parent().unwrap_or(n)
        } else {
            n
        };
        let t = &src[scope.byte_range()];
        let words: Vec<&[u8]> = crate::parse::lex::words(src, scope.byte_range())
            .map(|w| &src[w])
            .collect();
        let hides = |w: &[u8]| {
            walks.iter().any(|x| x.as_bytes() == w)
                || ctx.rule.entries.iter().any(|e| e.name.as_bytes() == w)
                || matches!(
                    w,
                    b"goto" | b"return" | b"break" | b"continue" | b"else" | b"case" | b"default"
                )
        };
        if words.iter().any(|w| hides(w)) || t.contains(&b'{') || t.contains(&b'}') {
            let what = if n.is_missing() {
                format!("the parser had to invent a missing `{}`", n.kind())
            } else {
                "the parser could not read this code".to_string()
            };
            found = Some((n.start_byte(), what));
        }
    });
    found
}

/// A conditional opened outside the body with an `#else` or `#endif` inside it (or the
/// reverse) straddles the function: deleting that line with the code around it would leave
/// the file's conditionals unbalanced.
fn crossing_guard(ctx: &FileCtx, body: Node, groups: &[usize]) -> Option<Flag> {
    let b = body.byte_range();
    let dirs = &ctx.parsed.directives;
    (0..dirs.groups.len())
        .filter(|g| !groups.contains(g))
        .flat_map(|g| {
            let grp = &dirs.groups[g];
            grp.arms
                .iter()
                .map(|a| a.line.start)
                .chain(std::iter::once(grp.end.start))
        })
        .find(|at| b.contains(at))
        .map(|at| {
            Flag::new(Code::Guard, "a conditional crosses the function's boundary")
                .at(line_of(ctx.src, at))
        })
}

/// The bytes a plan replaces or deletes.
pub(super) fn edited_ranges(plan: &WalkPlan) -> Vec<Range<usize>> {
    let lists = plan
        .calls
        .iter()
        .filter_map(|c| c.node.child_by_field_name("arguments"))
        .map(|l| l.byte_range());
    plan.deletes
        .iter()
        .cloned()
        .chain(plan.assigns.iter().map(|a| a.0.clone()))
        .chain(plan.reads.iter().map(|r| r.0.clone()))
        .chain(
            plan.arg_locals
                .iter()
                .flat_map(|l| l.stores.iter().cloned()),
        )
        .chain(lists)
        .chain(std::iter::once(plan.decl.clone()))
        .collect()
}

/// The occurrences of a walk's name that refer to it: inner blocks that declare the name again
/// (a walk of their own, or any other variable) keep theirs.
pub(super) fn own_idents<'t>(
    src: &[u8],
    body: Node<'t>,
    walk: &Walk,
    scopes: &Scopes,
) -> Vec<Node<'t>> {
    find::idents_named(src, body, &walk.name, &walk.scope)
        .into_iter()
        .filter(|id| scopes.visible(walk.name.as_bytes(), id.start_byte()) == Some(walk.ident))
        .collect()
}

/// Collapse whitespace runs (a value split over lines reads as one line).
pub(super) fn normalise(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Where the ops struct goes: above the function's leading comment.
pub fn insertion_point(src: &[u8], f: Node) -> usize {
    let mut at = f.start_byte();
    let mut n = f;
    while let Some(p) = n.prev_sibling() {
        if p.kind() != "comment" {
            break;
        }
        let gap = &src[p.end_byte()..at];
        if gap.iter().filter(|&&b| b == b'\n').count() > 1
            || gap.iter().any(|b| !b.is_ascii_whitespace())
        {
            break;
        }
        // A comment that shares its line with code is that code's comment.
        if src[line_start(src, p.start_byte())..p.start_byte()]
            .iter()
            .any(|b| !b.is_ascii_whitespace())
        {
            break;
        }
        at = p.start_byte();
        n = p;
    }
    line_start(src, at)
}
