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
use crate::parse::{Parsed, line_of};
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
                .or_insert_with(|| keeps_structure(ctx.parsed, ctx.src, body, g));
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
///
/// Only the items of the innermost block around the conditional that it overlaps, and the
/// one before them (an `else` an arm holds could join it), are read again, on their own.
/// Before them every configuration's text is the view's; after them it is too, and the parse
/// goes on alike when the items end where the view's do (one left open is an error here, and
/// would nest the next statement under it in the file: not kept either way). So a conditional
/// costs its own size, not the file's: a whole-file parse per conditional made a file of many
/// of them quadratic (1,000 nested levels: a minute).
fn keeps_structure(parsed: &Parsed, src: &[u8], body: Node, g: usize) -> bool {
    let grp = &parsed.directives.groups[g];
    let arms: Vec<Range<usize>> = grp.arms.iter().map(|a| a.body.clone()).collect();
    let span = grp.arms[0].line.start..grp.end.end;
    // A body is found again by its function (tree-sitter may not give the function of a
    // body inside an error at the top level).
    if body.parent().is_none() {
        return false;
    }
    // Arms that only hold parts of expressions (a string, an operand, arguments) start and
    // end no statement: removing them moves no statement boundary.
    if !touches_statement(body, &arms, &span) {
        return true;
    }
    let kept: Vec<Option<usize>> = (0..arms.len())
        .map(Some)
        .chain((!grp.has_else()).then_some(None))
        .collect();
    let whole = Whole {
        parsed,
        src,
        body,
        g,
        arms: &arms,
        want: Default::default(),
    };
    // A body the view cannot read whole, or that ends inside the conditional (an arm closes
    // it), is not one whose blocks stay put: the whole file is read again for those.
    if body.has_error() || span.start < body.start_byte() || body.end_byte() < span.end {
        return kept.into_iter().all(|keep| whole.keeps(keep));
    }
    let block = block_around(body, &span);
    let Some((region, items)) = region(block, &span, &parsed.view) else {
        return true;
    };
    kept.into_iter().all(|keep| {
        let (mut region, mut items) = (region.clone(), items.clone());
        // A configuration that leaves its last item open (an `if` whose body an arm held)
        // takes the next item in: read it with that one, a few times, then in the file.
        for more in 0..=MAX_MORE_ITEMS {
            if let Some(kept) = reads_alike(parsed, src, g, keep, &region, &items, &arms) {
                return kept;
            }
            let Some(next) = next_item(block, &items).filter(|_| more < MAX_MORE_ITEMS) else {
                break;
            };
            region.end = region.end.max(next.end_byte());
            items.push(next);
        }
        whole.keeps(keep)
    })
}

/// How many items after the conditional's own a configuration may take in before the whole
/// file is read again for it.
const MAX_MORE_ITEMS: usize = 4;

/// Do `items` (covering `region`) nest in configuration `keep` of `g`, read on their own, as
/// in the view? None when they do not read on their own (an error: an item left open).
fn reads_alike(
    parsed: &Parsed,
    src: &[u8],
    g: usize,
    keep: Option<usize>,
    region: &Range<usize>,
    items: &[Node],
    arms: &[Range<usize>],
) -> Option<bool> {
    let text = parsed.view_keeping_in(src, g, keep, region.clone());
    let alone = crate::parse::parse_alone(&text, b"").ok()?;
    let root = alone.tree.root_node();
    let wrapper = root
        .named_child(0)
        .and_then(|f| f.child_by_field_name("body"))
        .filter(|_| !root.has_error())?;
    let back = |o: usize| o + region.start - alone.offset;
    Some(nesting(&named_children(wrapper), &back, arms) == nesting(items, &|o| o, arms))
}

/// The item of `block` after the last of `items`, if any.
fn next_item<'t>(block: Node<'t>, items: &[Node<'t>]) -> Option<Node<'t>> {
    let last = items.last()?;
    let mut c = block.walk();
    c.goto_first_child_for_byte(last.end_byte())?;
    loop {
        let n = c.node();
        if n.start_byte() >= last.end_byte() && n.is_named() {
            return Some(n);
        }
        if !c.goto_next_sibling() {
            return None;
        }
    }
}

/// One conditional's configurations read in the whole file again, the function's body found
/// there by its start and compared with the view's.
struct Whole<'a, 't> {
    parsed: &'a Parsed,
    src: &'a [u8],
    body: Node<'t>,
    g: usize,
    arms: &'a [Range<usize>],
    want: std::cell::OnceCell<Vec<(Key, Option<Key>)>>,
}

impl Whole<'_, '_> {
    fn keeps(&self, keep: Option<usize>) -> bool {
        let Some(f) = self.body.parent() else {
            return false;
        };
        let want = self
            .want
            .get_or_init(|| nesting(&[self.body], &|o| o, self.arms));
        let view = self.parsed.view_keeping(self.src, self.g, keep);
        let Ok(tree) = crate::parse::parse_bytes(&view, std::time::Duration::from_secs(2)) else {
            return false;
        };
        // The body itself counts as a statement whose chain runs up to the file's root: a
        // configuration that mends or breaks the file around the function changes it.
        body_at(&tree, f.start_byte()).is_some_and(|b| {
            !b.has_error()
                && above(b) == above(self.body)
                && nesting(&[b], &|o| o, self.arms) == *want
        })
    }
}

/// The start and kind of each node above `n`, up to the root.
fn above(n: Node) -> Vec<Key> {
    std::iter::successors(n.parent(), |p| p.parent())
        .map(|p| (p.start_byte(), p.kind_id()))
        .collect()
}

/// Does a statement of `body` start or end inside an arm? Only nodes that overlap the
/// conditional's `span` are visited.
fn touches_statement(body: Node, arms: &[Range<usize>], span: &Range<usize>) -> bool {
    let mut stack = vec![body];
    while let Some(n) = stack.pop() {
        let k = n.kind();
        if (k.ends_with("_statement") || k == "declaration" || k == "else_clause")
            && arms.iter().any(|a| {
                a.contains(&n.start_byte()) || a.contains(&(n.end_byte().saturating_sub(1)))
            })
        {
            return true;
        }
        stack.extend(children_over(n, span));
    }
    false
}

/// The children of `n` that overlap `span`. Tree-sitter finds the first of them without a
/// scan of those before (a long list of statements is a balanced tree inside): a block of
/// many statements costs no more per conditional than a short one.
fn children_over<'t>(n: Node<'t>, span: &Range<usize>) -> Vec<Node<'t>> {
    let mut out = Vec::new();
    let mut c = n.walk();
    if c.goto_first_child_for_byte(span.start).is_none() {
        return out;
    }
    loop {
        let k = c.node();
        if k.start_byte() >= span.end.max(span.start + 1) {
            break;
        }
        out.push(k);
        if !c.goto_next_sibling() {
            break;
        }
    }
    out
}

/// The innermost block of `body` (a compound statement) that holds all of `span`.
fn block_around<'t>(body: Node<'t>, span: &Range<usize>) -> Node<'t> {
    let (mut best, mut n) = (body, body);
    loop {
        let mut c = n.walk();
        if c.goto_first_child_for_byte(span.start).is_none() {
            return best;
        }
        let k = c.node();
        if !(k.start_byte() <= span.start && span.end <= k.end_byte()) {
            return best;
        }
        if k.kind() == "compound_statement" {
            best = k;
        }
        n = k;
    }
}

/// The items of `block` that `span` overlaps, with the one before them, and the bytes they
/// and `span` cover; None when `span` overlaps none. `view` finds the one before: it holds
/// the last byte before them that is not blank (the view blanks directive lines).
fn region<'t>(
    block: Node<'t>,
    span: &Range<usize>,
    view: &[u8],
) -> Option<(Range<usize>, Vec<Node<'t>>)> {
    let mut items: Vec<Node<'t>> = children_over(block, span)
        .into_iter()
        .filter(|k| k.is_named())
        .collect();
    let first = *items.first()?;
    let inner = block.start_byte() + 1;
    let before = view
        .get(inner..first.start_byte())
        .and_then(|gap| gap.iter().rposition(|b| !b.is_ascii_whitespace()))
        .map(|i| inner + i);
    if let Some(p) = before {
        let mut c = block.walk();
        if c.goto_first_child_for_byte(p).is_some() && c.node().is_named() {
            items.insert(0, c.node());
        }
    }
    let last = items[items.len() - 1];
    let range = items[0].start_byte().min(span.start)..last.end_byte().max(span.end);
    Some((range, items))
}

fn named_children<'t>(n: Node<'t>) -> Vec<Node<'t>> {
    let mut c = n.walk();
    n.named_children(&mut c).collect()
}

/// Visit `root` and its descendants in document order, each node once on the way down
/// (`true`) and once on the way up (`false`). A cursor, not `Node::parent`: tree-sitter finds a
/// parent by walking down from the root, which made each statement's ancestor chain cost its
/// depth squared.
fn depth_first<'t>(root: Node<'t>, mut visit: impl FnMut(Node<'t>, bool)) {
    let mut c = root.walk();
    let mut depth = 0usize;
    visit(root, true);
    loop {
        if c.goto_first_child() {
            depth += 1;
            visit(c.node(), true);
            continue;
        }
        loop {
            visit(c.node(), false);
            if depth == 0 {
                return;
            }
            if c.goto_next_sibling() {
                visit(c.node(), true);
                break;
            }
            c.goto_parent();
            depth -= 1;
        }
    }
}

/// A node as the nesting compares it: its start in the file and its kind.
type Key = (usize, u16);

/// The body of the function definition that starts at `start` in `tree` (a re-reading of
/// the file in which that function begins at the same byte).
fn body_at(tree: &tree_sitter::Tree, start: usize) -> Option<Node<'_>> {
    let mut n = tree.root_node().descendant_for_byte_range(start, start);
    while let Some(x) = n {
        if x.kind() == "function_definition" && x.start_byte() == start {
            return x.child_by_field_name("body");
        }
        n = x.parent();
    }
    None
}

/// How the statements of `items` (and their descendants) that start outside `arms` nest: each
/// statement and each ancestor of one, paired with its nearest ancestor that starts outside
/// the arms and is no label (None: the block the items are in). Equal pairs mean equal
/// ancestor chains for every statement. `at` maps a node's offset to the file's.
fn nesting(
    items: &[Node],
    at: &dyn Fn(usize) -> usize,
    arms: &[Range<usize>],
) -> Vec<(Key, Option<Key>)> {
    let inside = |o: usize| arms.iter().any(|a| a.contains(&o));
    // Per node on the path: its key, whether it counts as an ancestor, the nearest counting
    // node at or above it, and whether a statement outside the arms is at or below it.
    struct Frame {
        key: Key,
        counts: bool,
        nearest: Option<Key>,
        statement_below: bool,
    }
    let mut out = Vec::new();
    for &item in items {
        let mut path: Vec<Frame> = Vec::new();
        depth_first(item, |n, down| {
            if down {
                let k = n.kind();
                let key = (at(n.start_byte()), n.kind_id());
                // A label marks a place, not a nesting: `out:` labels the next statement
                // whichever it is, at the same place.
                let counts = !inside(key.0) && k != "labeled_statement";
                let statement = counts
                    && (k.ends_with("_statement") || k == "declaration" || k == "else_clause");
                let above = path.last().and_then(|f| f.nearest);
                path.push(Frame {
                    key,
                    counts,
                    nearest: if counts { Some(key) } else { above },
                    statement_below: statement,
                });
                return;
            }
            let f = path.pop().expect("left as entered");
            if f.statement_below {
                let parent = path.last_mut();
                if f.counts {
                    out.push((f.key, parent.as_ref().and_then(|p| p.nearest)));
                }
                if let Some(p) = parent {
                    p.statement_below = true;
                }
            }
        });
    }
    out.sort_unstable();
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // The check as it was: a whole-file parse per configuration, each statement's chain of
    // ancestors up to the body compared. The oracle the local reading must agree with.
    fn keeps_structure_chains(parsed: &Parsed, src: &[u8], body: Node, g: usize) -> bool {
        let grp = &parsed.directives.groups[g];
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
        let want = nesting_whole(body, &arms);
        let kept: Vec<Option<usize>> = (0..arms.len())
            .map(Some)
            .chain((!grp.has_else()).then_some(None))
            .collect();
        kept.into_iter().all(|keep| {
            let view = parsed.view_keeping(src, g, keep);
            let Ok(tree) = crate::parse::parse_bytes(&view, std::time::Duration::from_secs(2))
            else {
                return false;
            };
            super::body_at(&tree, f.start_byte())
                .is_some_and(|b| !b.has_error() && nesting_whole(b, &arms) == want)
        })
    }

    /// A statement (start, kind id) and the (start, kind id) of its ancestors.
    type Nested = (usize, u16, Vec<(usize, u16)>);

    /// For each statement starting outside `arms`: its kind and its ancestors (start, kind) up to
    /// the body, leaving out those that start inside an arm, and labels.
    fn nesting_whole(body: Node, arms: &[Range<usize>]) -> Vec<Nested> {
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

    /// Lines a function body is made of: statements, headers that take the next line as
    /// their body, braces, labels, split expressions.
    const LINES: &[&str] = &[
        "\tx++;",
        "\tif (x)",
        "\telse",
        "\telse if (y)",
        "\t{",
        "\t}",
        "\tif (y) {",
        "\t} else {",
        "\twhile (x)",
        "\tfor (;;)",
        "\tdo",
        "\twhile (0);",
        "\tfoo(a,",
        "\t\tb);",
        "\tx = x +",
        "\t\t1;",
        "\tswitch (x) {",
        "\tcase 1:",
        "\tbreak;",
        "out:",
        "\tint a = 1;",
        "\treturn;",
        "\t/* note */",
    ];

    #[derive(Debug, Clone)]
    enum Piece {
        Line(usize),
        Code(String),
        Open,
        Else,
        End,
    }

    /// A C file of one function from `pieces`, its conditionals well nested (a stray `#else`
    /// or `#endif` is dropped, the open ones closed at the end).
    fn file(pieces: &[Piece]) -> String {
        let mut out = String::from("void f(int x, int y)\n{\n");
        let mut open: Vec<bool> = Vec::new();
        for (i, p) in pieces.iter().enumerate() {
            match p {
                Piece::Line(l) => out += LINES[*l % LINES.len()],
                Piece::Code(c) => out += c,
                Piece::Open => {
                    out += &format!("#ifdef CONFIG_{i}");
                    open.push(false);
                }
                Piece::Else if open.last() == Some(&false) => {
                    out += "#else";
                    *open.last_mut().unwrap() = true;
                }
                Piece::End if open.pop().is_some() => out += "#endif",
                Piece::Else | Piece::End => continue,
            }
            out.push('\n');
        }
        out += &"#endif\n".repeat(open.len());
        out + "}\n"
    }

    fn piece() -> impl Strategy<Value = Piece> {
        prop_oneof![
            6 => (0..LINES.len()).prop_map(Piece::Line),
            2 => Just(Piece::Open),
            1 => Just(Piece::Else),
            2 => Just(Piece::End),
        ]
    }

    /// A statement that reads, as lines: what a conditional then splits.
    fn statement() -> impl Strategy<Value = Vec<String>> {
        let lines = |v: &[&str]| v.iter().map(|l| format!("\t{l}")).collect::<Vec<_>>();
        let leaf = prop_oneof![
            Just(lines(&["x++;"])),
            Just(lines(&["foo(a,", "\tb);"])),
            Just(lines(&["x = x +", "\t1;"])),
            Just(lines(&["int a = 1;"])),
            Just(lines(&["return;"])),
            Just(lines(&["/* note */", "x--;"])),
        ];
        leaf.prop_recursive(4, 40, 4, move |inner| {
            let wrap = move |head: &[&str], body: Vec<String>, tail: &[&str]| {
                [lines(head), body, lines(tail)].concat()
            };
            prop_oneof![
                inner.clone().prop_map(move |b| wrap(&["if (x)"], b, &[])),
                (inner.clone(), inner.clone())
                    .prop_map(move |(a, b)| { [wrap(&["if (y)"], a, &["else"]), b].concat() }),
                prop::collection::vec(inner.clone(), 0..4).prop_map(move |v| wrap(
                    &["{"],
                    v.concat(),
                    &["}"]
                )),
                inner
                    .clone()
                    .prop_map(move |b| wrap(&["while (x)"], b, &[])),
                inner
                    .clone()
                    .prop_map(move |b| wrap(&["do"], b, &["while (0);"])),
                inner.clone().prop_map(move |b| wrap(&["out:"], b, &[])),
                inner.clone().prop_map(move |b| wrap(
                    &["switch (x) {", "case 1:"],
                    b,
                    &["break;", "}"]
                )),
            ]
        })
    }

    /// Statements that read, with conditionals put between any two of their lines.
    fn valid_pieces() -> impl Strategy<Value = Vec<Piece>> {
        let ops = prop_oneof![
            2 => Just(Piece::Open),
            1 => Just(Piece::Else),
            2 => Just(Piece::End),
        ];
        (
            prop::collection::vec(statement(), 1..6),
            prop::collection::vec((any::<prop::sample::Index>(), ops), 0..10),
        )
            .prop_map(|(stmts, mut ops)| {
                let code: Vec<String> = stmts.concat();
                ops.sort_by_key(|(i, _)| i.index(code.len() + 1));
                let mut out = Vec::new();
                let mut ops = ops.into_iter().peekable();
                for (at, line) in code.into_iter().enumerate() {
                    while let Some((_, op)) =
                        ops.next_if(|(i, _)| i.index(at + 1 + 1).min(at + 1) <= at)
                    {
                        out.push(op);
                    }
                    out.push(Piece::Code(line));
                }
                out.extend(ops.map(|(_, op)| op));
                out
            })
    }

    /// For every conditional of the function, the local check says what the whole-file
    /// check says.
    fn agree(src: &str) {
        let macros = std::sync::Arc::new(crate::parse::Macros::builtin());
        let t = std::time::Duration::from_secs(5);
        let parsed = crate::parse::Prepared::balanced(src.as_bytes(), &macros)
            .parse(None, t)
            .unwrap();
        let root = parsed.tree.root_node();
        let Some(body) = root
            .named_child(0)
            .filter(|f| f.kind() == "function_definition")
            .and_then(|f| f.child_by_field_name("body"))
        else {
            return;
        };
        for g in 0..parsed.directives.groups.len() {
            let local = keeps_structure(&parsed, src.as_bytes(), body, g);
            let whole = keeps_structure_chains(&parsed, src.as_bytes(), body, g);
            assert_eq!(local, whole, "conditional {g} of\n{src}");
        }
    }

    #[test]
    fn local_nesting_check_agrees_with_the_whole_file_one_on_known_shapes() {
        for src in [
            "void f(int x)\n{\n#ifdef A\n\tif (x > 0)\n#endif\n\t\tx++;\n\tx--;\n}\n",
            "void f(int x)\n{\n\tif (x)\n\t\tx++;\n#ifdef A\n\telse\n#endif\n\tx--;\n}\n",
            "void f(int x)\n{\n#ifdef A\n\tif (x)\n#else\n\tif (!x)\n#endif\n\t\tx++;\n}\n",
            "void f(int x)\n{\n\tx = x +\n#ifdef A\n\t\t1\n#else\n\t\t2\n#endif\n\t;\n}\n",
            "void f(int x)\n{\n\tif (x) {\n#ifdef A\n\t\tif (x > 1)\n#endif\n\t\tx++;\n\t}\n\tx--;\n}\n",
        ] {
            agree(src);
        }
        // Both ways come out: kept (an operand) and not kept (a header that takes the next
        // statement).
        let macros = std::sync::Arc::new(crate::parse::Macros::builtin());
        let t = std::time::Duration::from_secs(5);
        for (src, kept) in [
            (
                "void f(int x)\n{\n\tx = x +\n#ifdef A\n\t\t1\n#else\n\t\t2\n#endif\n\t;\n}\n",
                true,
            ),
            (
                "void f(int x)\n{\n#ifdef A\n\tif (x > 0)\n#endif\n\t\tx++;\n\tx--;\n}\n",
                true,
            ),
            (
                "void f(int x)\n{\n\tif (x)\n#ifdef A\n\t\tx++;\n#endif\n\tx--;\n}\n",
                false,
            ),
        ] {
            let parsed = crate::parse::Prepared::balanced(src.as_bytes(), &macros)
                .parse(None, t)
                .unwrap();
            let f = parsed.tree.root_node().named_child(0).unwrap();
            let body = f.child_by_field_name("body").unwrap();
            assert_eq!(
                keeps_structure(&parsed, src.as_bytes(), body, 0),
                kept,
                "{src}"
            );
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 400, failure_persistence: None, ..ProptestConfig::default() })]
        #[test]
        fn local_nesting_check_agrees_with_the_whole_file_one(
            pieces in prop::collection::vec(piece(), 1..24)
        ) {
            agree(&file(&pieces));
        }

        #[test]
        fn local_nesting_check_agrees_on_code_that_reads(pieces in valid_pieces()) {
            agree(&file(&pieces));
        }
    }
}
