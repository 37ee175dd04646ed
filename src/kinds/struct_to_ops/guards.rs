//! Which preprocessor conditionals of a function matter to one walk. A conditional whose arms
//! hold none of the walk's uses or its declaration, no entry-point call and no control
//! transfer (`goto`, `return`, `break`, `continue` not under an `if` the arm opens itself;
//! `case`, `default`, a label) cannot change
//! which store reaches which call: it needs no configuration of its own, and may split a
//! statement (an `else if` arm, a string or an argument list, a condition) freely, as long as
//! the rewrite does not edit bytes around it. Only the others are enumerated and counted.

use std::ops::Range;

use tree_sitter::Node;

use super::analyse::FileCtx;
use super::find::visit;
use super::model::{Code, Flag, Verdict};
use crate::parse::line_of;
use crate::tree::calls::is_call_of;

/// The most relevant conditionals one walk's analysis enumerates (every configuration is a
/// dataflow run over the function: at most 3^6 when each has two arms and an implicit third).
pub const MAX_GROUPS: usize = 6;

/// Words that mark a place control is transferred to (jumps and labels are read from the tree).
const TARGETS: &[&[u8]] = &[b"case", b"default"];

/// Jump statements, for code the tree does not hold.
const JUMPS: &[&[u8]] = &[b"goto", b"return", b"break", b"continue"];

/// A jump statement, with the start of every `if` around it (inside the body).
struct Jump {
    at: usize,
    ifs: Vec<usize>,
}

/// What one walk's conditionals are: the relevant ones (enumerated), the rest (free).
pub struct Relevance {
    pub relevant: Vec<usize>,
    pub free: Vec<usize>,
    /// Conditionals that split a statement such that, in some configuration, code outside
    /// them would nest differently: flagged.
    pub reshaping: Vec<usize>,
    /// Conditionals that split a statement and keep the nesting (free or relevant): their
    /// directive lines must stay out of the bytes the rewrite changes.
    pub splitting: Vec<usize>,
    /// Relevant conditionals whose arms each open (or close) a block, which the tree holds
    /// for the first arm only: the dataflow of another arm's configuration cannot be read
    /// from it, flagged.
    pub one_arm: Vec<usize>,
}

/// Split `groups` (inside `body`) into those that may change `walk`'s verdict and the rest.
/// `uses` are the offsets of the walk's own uses, `decl` its declaration, `walk` its name.
pub fn relevance(
    ctx: &FileCtx,
    body: Node,
    groups: &[usize],
    decl: &Range<usize>,
    uses: &[usize],
    walk: &str,
) -> Relevance {
    let dirs = &ctx.parsed.directives;
    let mut labels = Vec::new();
    let mut jumps = Vec::new();
    visit(body, &mut |n| match n.kind() {
        "labeled_statement" => {
            labels.extend(n.child_by_field_name("label").map(|l| l.start_byte()))
        }
        "return_statement" | "goto_statement" | "break_statement" | "continue_statement" => jumps
            .push(Jump {
                at: n.start_byte(),
                ifs: enclosing_ifs(n, body),
            }),
        _ => {}
    });
    // A jump under an `if` that the same arm opens is taken only when that condition holds:
    // without the arm, the paths are those where it does not, which the view has too.
    let loose = |arm: &Range<usize>, j: &Jump| {
        arm.contains(&j.at) && !j.ifs.iter().any(|i| arm.contains(i))
    };
    // Where the words that matter are, found once over all the arms: nested conditionals
    // share their bytes, and reading each arm's words again made deep nesting cost a cube.
    let marks = marks(ctx, groups, uses, &labels);
    let matters = |arm: &Range<usize>| {
        let overlaps = decl.start < arm.end && arm.start < decl.end;
        let first = marks.partition_point(|&m| m < arm.start);
        overlaps
            || marks.get(first).is_some_and(|&m| m < arm.end)
            || jumps.iter().any(|j| loose(arm, j))
    };
    let mut relevant = Vec::new();
    let mut free = Vec::new();
    for &g in groups {
        // The file is left unchecked when the budget is spent: what is returned is moot.
        if crate::budget::spent() {
            break;
        }
        match dirs.groups[g].arms.iter().any(|a| matters(&a.body)) {
            true => relevant.push(g),
            false => free.push(g),
        }
    }
    // A conditional between whole statements removes whole statements; one that splits a
    // statement must leave everything outside its arms nested as it was, in every
    // configuration (`if (a)` / `#ifdef X` / `foo();` / `#endif` / `store;` would make the
    // store conditional without X). Then the dataflow reads each configuration from the
    // one tree (flow.rs looks through what an absent arm opens).
    let mut r = Relevance {
        relevant: Vec::new(),
        free: Vec::new(),
        reshaping: Vec::new(),
        splitting: Vec::new(),
        one_arm: Vec::new(),
    };
    for (g, is_relevant) in relevant
        .into_iter()
        .map(|g| (g, true))
        .chain(free.into_iter().map(|g| (g, false)))
    {
        if crate::budget::spent() {
            break;
        }
        // The view reads such a conditional with its first arm: every arm's tree is checked
        // to nest the code around it alike, and one that matters to the walk is flagged.
        let one_arm = ctx.parsed.one_arm.contains(&g);
        if one_arm && (is_relevant || hidden_matters(ctx, g, walk)) {
            r.one_arm.push(g);
            continue;
        }
        if one_arm || split(ctx, body, &[g]).is_some() {
            let keeps = *ctx
                .nesting_kept
                .borrow_mut()
                .entry(g)
                .or_insert_with(|| keeps_structure(ctx, body, g));
            if !keeps {
                r.reshaping.push(g);
                continue;
            }
            r.splitting.push(g);
        }
        if is_relevant {
            r.relevant.push(g);
        } else {
            r.free.push(g);
        }
    }
    r.relevant.sort();
    r
}

/// Sorted offsets that make an arm holding them matter: the walk's uses, labels, and the
/// words `case`, `default` or an entry point's name in code, within the span of `groups`.
fn marks(ctx: &FileCtx, groups: &[usize], uses: &[usize], labels: &[usize]) -> Vec<usize> {
    let (src, dirs) = (ctx.src, &ctx.parsed.directives);
    let mut out: Vec<usize> = uses.iter().chain(labels).copied().collect();
    let spans = groups
        .iter()
        .flat_map(|&g| &dirs.groups[g].arms)
        .map(|a| &a.body);
    let lo = spans.clone().map(|b| b.start).min().unwrap_or(0);
    let hi = spans.map(|b| b.end).max().unwrap_or(0);
    // Arms start and end at line starts, so no word is cut at an arm's edge.
    out.extend(
        crate::parse::lex::words(src, lo..hi)
            .filter(|w| {
                let word = &src[w.clone()];
                !ctx.parsed.lexed.inside_text(w)
                    && (TARGETS.contains(&word)
                        || ctx.rule.entries.iter().any(|e| e.name.as_bytes() == word))
            })
            .map(|w| w.start),
    );
    out.sort_unstable();
    out
}

/// Could the arms the view leaves out of conditional `g` (it reads only the first: see
/// `parse::arms`) matter to the walk? The tree does not hold them, so they are read as words:
/// the walk's name, an entry point, a jump or a place jumped to (`case`, `default`, any `:`).
fn hidden_matters(ctx: &FileCtx, g: usize, walk: &str) -> bool {
    let src = ctx.src;
    let arms = &ctx.parsed.directives.groups[g].arms[1..];
    let code = ctx.parsed.lexed.code(src.len());
    arms.iter().any(|arm| {
        let inside = |r: &Range<usize>| arm.body.start <= r.start && r.end <= arm.body.end;
        let words = ctx
            .parsed
            .lexed
            .code_word_ranges(src)
            .iter()
            .filter(|w| inside(w));
        let colon = code.iter().any(|gap| {
            let (s, e) = (gap.start.max(arm.body.start), gap.end.min(arm.body.end));
            s < e && src[s..e].contains(&b':')
        });
        colon
            || words.map(|w| &src[w.clone()]).any(|w| {
                w == walk.as_bytes()
                    || TARGETS.contains(&w)
                    || JUMPS.contains(&w)
                    || ctx.rule.entries.iter().any(|e| e.name.as_bytes() == w)
            })
    })
}

/// Does every configuration of conditional `g` nest the statements outside its arms as the
/// parse view (all arms present) does? Ancestors that start inside an arm are left out: an
/// `if` header or `else if` branch the arm removes takes nothing else with it.
fn keeps_structure(ctx: &FileCtx, body: Node, g: usize) -> bool {
    let grp = &ctx.parsed.directives.groups[g];
    let arms: Vec<Range<usize>> = grp.arms.iter().map(|a| a.body.clone()).collect();
    let Some(f) = body.parent() else {
        return false;
    };
    // Arms that only hold parts of expressions (a string, an operand, arguments) start and
    // end no statement: removing them moves no statement boundary.
    let mut touches_statement = false;
    visit(body, &mut |n| {
        let k = n.kind();
        if (k.ends_with("_statement") || k == "declaration" || k == "else_clause")
            && arms.iter().any(|a| {
                a.contains(&n.start_byte()) || a.contains(&(n.end_byte().saturating_sub(1)))
            })
        {
            touches_statement = true;
        }
    });
    if !touches_statement {
        return true;
    }
    let want = nesting(body, &arms);
    let kept: Vec<Option<usize>> = (0..arms.len())
        .map(Some)
        .chain((!grp.has_else()).then_some(None))
        .collect();
    kept.into_iter().all(|keep| {
        let view = ctx.parsed.view_keeping(ctx.src, g, keep);
        let Ok(tree) = crate::parse::parse_bytes(&view, std::time::Duration::from_secs(2)) else {
            return false;
        };
        let mut n = tree
            .root_node()
            .descendant_for_byte_range(f.start_byte(), f.start_byte());
        while let Some(x) = n {
            if x.kind() == "function_definition" && x.start_byte() == f.start_byte() {
                break;
            }
            n = x.parent();
        }
        n.and_then(|x| x.child_by_field_name("body"))
            .is_some_and(|b| !b.has_error() && nesting(b, &arms) == want)
    })
}

/// A statement (start, kind id) and the (start, kind id) of its ancestors.
type Nested = (usize, u16, Vec<(usize, u16)>);

/// For each statement starting outside `arms`: its kind and its ancestors (start, kind) up to
/// the body, leaving out those that start inside an arm, and labels.
fn nesting(body: Node, arms: &[Range<usize>]) -> Vec<Nested> {
    let inside = |o: usize| arms.iter().any(|a| a.contains(&o));
    let mut out = Vec::new();
    visit(body, &mut |n| {
        let k = n.kind();
        if !(k.ends_with("_statement") || k == "declaration" || k == "else_clause")
            || k == "labeled_statement"
            || inside(n.start_byte())
        {
            return;
        }
        let mut chain = Vec::new();
        let mut p = n.parent();
        while let Some(x) = p {
            // A label marks a place, not a nesting: `out:` labels the next statement
            // whichever it is, at the same place.
            if !inside(x.start_byte()) && x.kind() != "labeled_statement" {
                chain.push((x.start_byte(), x.kind_id()));
            }
            if x == body {
                break;
            }
            p = x.parent();
        }
        out.push((n.start_byte(), n.kind_id(), chain));
    });
    out.sort();
    out
}

/// Starts of the `if` statements around `n`, up to `body`.
fn enclosing_ifs(n: Node, body: Node) -> Vec<usize> {
    let mut out = Vec::new();
    let mut p = n.parent();
    while let Some(x) = p {
        if x == body {
            break;
        }
        if x.kind() == "if_statement" {
            out.push(x.start_byte());
        }
        p = x.parent();
    }
    out
}

/// The relevant conditionals must sit between whole statements or initializer members (each
/// configuration's control flow is read from one tree), and be few enough to enumerate.
pub fn check(ctx: &FileCtx, r: &Relevance) -> Verdict<()> {
    if let Some(&g) = r.one_arm.first() {
        let line = ctx.parsed.directives.groups[g].arms[0].line.clone();
        return Err(Flag::new(
            Code::Guard,
            format!(
                "the arms of `{}` each open or close a block, and one holds what reaches the call",
                src_line(ctx.src, line.clone())
            ),
        )
        .at(line_of(ctx.src, line.start)));
    }
    if let Some(&g) = r.reshaping.first() {
        let line = ctx.parsed.directives.groups[g].arms[0].line.clone();
        return Err(Flag::new(
            Code::Guard,
            format!(
                "`{}` splits a statement so that, in some configuration, code outside it nests differently",
                src_line(ctx.src, line.clone())
            ),
        )
        .at(line_of(ctx.src, line.start)));
    }
    if r.relevant.len() > MAX_GROUPS {
        return Err(Flag::new(
            Code::Guard,
            format!(
                "{} preprocessor conditionals in the function can change what reaches the call (at most {MAX_GROUPS} are analysed)",
                r.relevant.len()
            ),
        ));
    }
    Ok(())
}

/// Does a conditional's directive lines not sit between whole statements or initializer
/// members (it splits a construct)?
fn split(ctx: &FileCtx, body: Node, groups: &[usize]) -> Option<()> {
    let dirs = &ctx.parsed.directives;
    for &g in groups {
        let group = &dirs.groups[g];
        let mut container: Option<Node> = None;
        for line in group
            .arms
            .iter()
            .map(|a| a.line.clone())
            .chain(std::iter::once(group.end.clone()))
        {
            let n = body
                .named_descendant_for_byte_range(line.start, line.end.max(line.start + 1) - 1)
                .unwrap_or(body);
            let ok = matches!(
                n.kind(),
                "compound_statement" | "initializer_list" | "case_statement"
            );
            if !ok || container.is_some_and(|c| c != n) {
                return Some(());
            }
            container = Some(n);
        }
    }
    None
}

/// A free conditional's directive lines inside bytes the rewrite replaces (a call's argument
/// list, a deleted statement) would be lost or moved: flag instead.
pub fn untouched(ctx: &FileCtx, free: &[usize], edited: &[Range<usize>]) -> Verdict<()> {
    let dirs = &ctx.parsed.directives;
    for &g in free {
        let group = &dirs.groups[g];
        let lines = group
            .arms
            .iter()
            .map(|a| a.line.clone())
            .chain(std::iter::once(group.end.clone()));
        for line in lines {
            if edited
                .iter()
                .any(|e| e.start < line.end && line.start < e.end)
            {
                return Err(Flag::new(
                    Code::Guard,
                    "a conditional inside code this rewrite changes",
                )
                .at(line_of(ctx.src, line.start)));
            }
        }
    }
    Ok(())
}

/// A directive line as text, for a message.
fn src_line(src: &[u8], r: Range<usize>) -> String {
    String::from_utf8_lossy(src[r].trim_ascii()).into_owned()
}

/// `&w` given to an entry point whose argument list a conditional splits: the arity the parse
/// view sees is no configuration's, so the call was not recognised. Say so, at the conditional.
pub fn split_entry_call(ctx: &FileCtx, id: Node) -> Option<Flag> {
    let mut n = id.parent()?;
    while n.kind() != "argument_list" {
        n = n.parent().filter(|p| p.kind() != "compound_statement")?;
    }
    let call = n.parent()?;
    if !ctx
        .rule
        .entries
        .iter()
        .any(|e| is_call_of(ctx.src, call, &e.name))
    {
        return None;
    }
    let line = ctx
        .parsed
        .directives
        .lines()
        .find(|l| n.byte_range().contains(&l.start))?;
    Some(
        Flag::new(
            Code::Guard,
            "a conditional inside the entry point's argument list",
        )
        .at(line_of(ctx.src, line.start)),
    )
}
