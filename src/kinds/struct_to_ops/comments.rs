//! Comments travel with their code: once a walk's plan is proven, a comment on an initializer
//! member or a removed store goes where its value goes (the ops struct member, or its own line
//! above the call whose argument the value became), and a comment block right above removed
//! statements goes with them. Any other comment in code the plan deletes or replaces flags the
//! walk. Hands the plan its member notes, extra deletions and insertions; bytes are kept exactly.

use std::collections::HashSet;
use std::ops::Range;

use tree_sitter::Node;

use super::analyse::{FileCtx, Note, WalkPlan, normalise};
use super::find::{Walk, named_children};
use super::model::{Code, Flag, Verdict};
use crate::kinds::struct_to_ops::rule::{NewArg, Role};
use crate::parse::lex::Span;
use crate::parse::{line_end, line_of, line_start, text};

/// Where a comment goes.
#[derive(Debug, Clone)]
enum Dest {
    /// With the ops struct member `.field = value`.
    Member {
        field: usize,
        value: String,
        trailing: bool,
    },
    /// On its own line above the walk's one rewritten call.
    Call,
    /// Where it is: it ends up right above the call anyway.
    Stays,
    /// Nowhere: the walk is flagged for this reason.
    Nowhere(String),
}

/// What a removed statement set: one field (with its value), or the walk as a whole
/// (declaration, zeroing).
#[derive(Clone, Copy)]
enum Sets<'t> {
    Field(usize, Node<'t>),
    Walk,
}

/// A store of the walk: (field, value, statement).
pub(super) type Store<'t> = (usize, Node<'t>, Range<usize>);

/// Move the comments of the code `plan` removes, or say why one cannot move.
pub(super) fn place<'t>(
    ctx: &FileCtx<'t>,
    walk: &Walk<'t>,
    stores: &[Store<'t>],
    zeros: &[Range<usize>],
    plan: &mut WalkPlan<'t>,
) -> Verdict<()> {
    let src = ctx.src;
    let f = plan.function.byte_range();
    let comments: Vec<Range<usize>> = ctx
        .parsed
        .lexed
        .spans
        .iter()
        .filter(|(k, r)| *k == Span::Comment && f.start <= r.start && r.end <= f.end)
        .map(|(_, r)| r.clone())
        .collect();
    if let Some(c) = lost_directive_comment(ctx, walk, plan) {
        return Err(flag(
            src,
            &c,
            "it is on a conditional's line the rewrite removes and the ops struct does not repeat",
        ));
    }
    if comments.is_empty() {
        return Ok(());
    }
    let mut moves: Vec<(Range<usize>, Dest)> = Vec::new();
    if let Some(init) = walk.init {
        moves.extend(initializer(ctx, init, &comments));
    }
    let items = trailing_moves(ctx, walk, stores, zeros, plan, &comments, &mut moves);
    let call = call_line(src, plan);
    block_moves(ctx, plan, &items, &comments, &call, &mut moves);
    moves.sort_by_key(|m| m.0.start);
    moves.dedup_by_key(|m| m.0.start);
    resolve(ctx, plan, &moves, &call)?;
    let moved: HashSet<usize> = moves.iter().map(|m| m.0.start).collect();
    if let Some(c) = at_risk(ctx, walk, plan, &comments).find(|c| !moved.contains(&c.start)) {
        return Err(flag(
            src,
            &c,
            "it is inside code the rewrite replaces, with no place to go",
        ));
    }
    Ok(())
}

/// A comment on a directive line inside code the plan removes (a conditional in the walk's
/// initializer) survives only when the generated ops struct repeats that line.
fn lost_directive_comment(ctx: &FileCtx, walk: &Walk, plan: &WalkPlan) -> Option<Range<usize>> {
    let src = ctx.src;
    let lexed = &ctx.parsed.lexed;
    let mut repeated: Vec<&str> = Vec::new();
    for spec in &plan.specs {
        for w in &spec.wrap {
            repeated.extend(
                [Some(&w.open), w.arm.as_ref(), Some(&w.end)]
                    .into_iter()
                    .flatten()
                    .map(String::as_str),
            );
        }
        for m in &spec.members {
            if let super::analyse::Member::Guarded { arms, end } = m {
                repeated.extend(arms.iter().map(|a| a.0.as_str()));
                repeated.push(end);
            }
        }
    }
    let removed = removed_ranges(walk, plan);
    let comments = lexed.all_comments(src);
    lexed
        .directives()
        .filter(|d| removed.iter().any(|r| r.start <= d.start && d.end <= r.end))
        .filter(|d| !repeated.iter().any(|t| t.as_bytes() == &src[d.clone()]))
        .find_map(|d| {
            comments
                .iter()
                .find(|c| d.start <= c.start && c.end <= d.end)
                .cloned()
        })
}

/// The ranges the plan deletes or replaces (argument lists aside).
fn removed_ranges(walk: &Walk, plan: &WalkPlan) -> Vec<Range<usize>> {
    let mut ranges: Vec<Range<usize>> = plan.deletes.clone();
    ranges.push(walk.decl.byte_range());
    ranges.extend(plan.assigns.iter().map(|a| a.0.clone()));
    ranges.extend(plan.reads.iter().map(|r| r.0.clone()));
    ranges
}

/// The comments trailing each removed statement on its line go where the statement's value
/// goes; the statement's deletion widens over them. Returns the removed statements (widened),
/// in file order.
fn trailing_moves<'t>(
    ctx: &FileCtx<'t>,
    walk: &Walk<'t>,
    stores: &[Store<'t>],
    zeros: &[Range<usize>],
    plan: &mut WalkPlan<'t>,
    comments: &[Range<usize>],
    moves: &mut Vec<(Range<usize>, Dest)>,
) -> Vec<(Range<usize>, Sets<'t>)> {
    let mut removed: Vec<(Range<usize>, Sets)> = stores
        .iter()
        .map(|(fi, v, s)| (s.clone(), Sets::Field(*fi, *v)))
        .chain(zeros.iter().map(|z| (z.clone(), Sets::Walk)))
        .chain(std::iter::once((walk.decl.byte_range(), Sets::Walk)))
        .filter(|(r, _)| plan.deletes.contains(r))
        .collect();
    removed.sort_by_key(|(r, _)| r.start);
    let mut items = Vec::new();
    for (stmt, sets) in removed {
        let (trail, end) = trailing(ctx.src, comments, stmt.end);
        let dest = match sets {
            Sets::Field(fi, v) => value_dest(ctx, fi, v, true),
            Sets::Walk if stmt == walk.decl.byte_range() => Dest::Call,
            Sets::Walk => Dest::Nowhere("the zeroing of the walk it describes is removed".into()),
        };
        moves.extend(trail.into_iter().map(|c| (c, dest.clone())));
        if end > stmt.end {
            let k = plan.deletes.iter().position(|d| *d == stmt).unwrap();
            plan.deletes[k] = stmt.start..end;
        }
        items.push((stmt.start..end, sets));
    }
    items
}

/// A comment block right above a removed statement goes with the run of removed statements
/// it heads (and is deleted where it is, unless it stays right above the call anyway).
fn block_moves(
    ctx: &FileCtx,
    plan: &mut WalkPlan,
    items: &[(Range<usize>, Sets)],
    comments: &[Range<usize>],
    call: &Result<(usize, Vec<u8>), String>,
    moves: &mut Vec<(Range<usize>, Dest)>,
) {
    let src = ctx.src;
    let taken: HashSet<usize> = moves.iter().map(|m| m.0.start).collect();
    for (k, (item, _)) in items.iter().enumerate() {
        let block = block_above(src, comments, item.start, &taken);
        let (Some(first), Some(last)) = (block.first(), block.last()) else {
            continue;
        };
        let run = run_from(src, &items[k..]);
        let dest = block_dest(ctx, src, plan, &items[k..k + run], call);
        if !matches!(dest, Dest::Stays) {
            plan.deletes.push(first.start..last.end);
        }
        moves.extend(block.into_iter().map(|c| (c, dest.clone())));
    }
}

/// The initializer's comments that belong to one member: on its line after it (trailing), or
/// on their own lines right above it, no blank line between (leading). Others stay unplaced.
fn initializer(ctx: &FileCtx, init: Node, comments: &[Range<usize>]) -> Vec<(Range<usize>, Dest)> {
    let src = ctx.src;
    let pairs: Vec<Node> = named_children(init)
        .into_iter()
        .filter(|m| m.kind() == "initializer_pair")
        .collect();
    let inside = |c: &Range<usize>| init.start_byte() < c.start && c.end < init.end_byte();
    let skippable: Vec<Range<usize>> = ctx
        .parsed
        .lexed
        .directives()
        .chain(comments.iter().cloned())
        .collect();
    let mut out = Vec::new();
    for c in comments.iter().filter(|c| inside(c)) {
        if pairs
            .iter()
            .any(|p| p.start_byte() < c.start && c.end <= p.end_byte())
        {
            continue;
        }
        let prev = pairs.iter().rev().find(|p| p.end_byte() <= c.start);
        let next = pairs.iter().find(|p| p.start_byte() >= c.end);
        let trails = prev.filter(|p| {
            let gap = uncommented(src, comments, p.end_byte()..c.start);
            gap.iter().all(|&b| matches!(b, b' ' | b'\t' | b',' | 0))
        });
        // A conditional's line may sit between a comment and its member: the member carries
        // the conditional into the ops struct, the comment goes right above the member.
        let leads = next.filter(|n| {
            starts_line(src, c.start) && {
                let gap = uncommented(src, &skippable, c.end..n.start_byte());
                gap.iter().all(|b| b.is_ascii_whitespace() || *b == 0) && !has_blank_line(&gap)
            }
        });
        let (pair, trailing) = match (trails, leads) {
            (Some(p), _) => (p, true),
            (None, Some(n)) => (n, false),
            (None, None) => continue,
        };
        let field = pair
            .child_by_field_name("designator")
            .and_then(|d| d.named_child(0))
            .and_then(|x| ctx.rule.field(&String::from_utf8_lossy(text(src, x))));
        if let (Some(fi), Some(v)) = (field, pair.child_by_field_name("value")) {
            out.push((c.clone(), value_dest(ctx, fi, v, trailing)));
        }
    }
    out
}

/// Where a comment on `.field = value` goes: with the member, above the call, or nowhere.
fn value_dest(ctx: &FileCtx, field: usize, value: Node, trailing: bool) -> Dest {
    let f = &ctx.rule.fields[field];
    match f.role {
        Role::Moved => Dest::Member {
            field,
            value: normalise(&String::from_utf8_lossy(text(ctx.src, value))),
            trailing,
        },
        Role::Argument => Dest::Call,
        Role::Dropped => Dest::Nowhere(format!(
            "`.{}` is set by the callee now, its store goes",
            f.name
        )),
    }
}

/// A comment block over a run of removed statements: with the first callback member when they
/// only set callbacks, else above the call.
fn block_dest(
    ctx: &FileCtx,
    src: &[u8],
    plan: &WalkPlan,
    run: &[(Range<usize>, Sets)],
    call: &Result<(usize, Vec<u8>), String>,
) -> Dest {
    let moved =
        |s: &Sets| matches!(s, Sets::Field(fi, _) if ctx.rule.fields[*fi].role == Role::Moved);
    if run.iter().all(|(_, s)| moved(s)) {
        return run
            .iter()
            .filter_map(|(_, s)| match *s {
                Sets::Field(fi, v) => Some(value_dest(ctx, fi, v, false)),
                Sets::Walk => None,
            })
            .find(|d| has_member(ctx, plan, d))
            .unwrap_or_else(|| {
                Dest::Nowhere("the callbacks it describes leave no member in the ops struct".into())
            });
    }
    let end = run.last().map_or(0, |(r, _)| r.end);
    match call {
        Ok((at, _)) if line_end(src, end) + 1 == *at => Dest::Stays,
        _ => Dest::Call,
    }
}

fn has_member(ctx: &FileCtx, plan: &WalkPlan, d: &Dest) -> bool {
    let Dest::Member { field, value, .. } = d else {
        return false;
    };
    let name = &ctx.rule.fields[*field].name;
    plan.specs
        .iter()
        .flat_map(|s| &s.members)
        .flat_map(|m| m.inits())
        .any(|i| i.field == *name && i.value == *value)
}

/// Hand each comment to its place in the plan, or flag the first that has none.
fn resolve(
    ctx: &FileCtx,
    plan: &mut WalkPlan,
    moves: &[(Range<usize>, Dest)],
    call: &Result<(usize, Vec<u8>), String>,
) -> Verdict<()> {
    let src = ctx.src;
    let crlf = crate::tree::crlf(src);
    let mut above: Vec<u8> = Vec::new();
    for (c, dest) in moves {
        let bytes = &src[c.clone()];
        if crlf
            && !matches!(dest, Dest::Stays)
            && bytes
                .iter()
                .enumerate()
                .any(|(i, &b)| b == b'\n' && (i == 0 || bytes[i - 1] != b'\r'))
        {
            return Err(flag(src, c, "its line endings differ from the file's"));
        }
        let own_indent = (bytes.contains(&b'\n') && starts_line(src, c.start))
            .then(|| src[line_start(src, c.start)..c.start].to_vec());
        match dest {
            Dest::Stays => {}
            Dest::Nowhere(why) => return Err(flag(src, c, why)),
            Dest::Call => match call {
                Ok((_, indent)) => {
                    above.extend_from_slice(own_indent.as_ref().unwrap_or(indent));
                    above.extend_from_slice(bytes);
                    above.push(b'\n');
                }
                Err(why) => return Err(flag(src, c, why)),
            },
            Dest::Member {
                field,
                value,
                trailing,
            } => {
                let name = &ctx.rule.fields[*field].name;
                let mut found = false;
                for spec in &mut plan.specs {
                    for m in &mut spec.members {
                        for i in m.inits_mut() {
                            if i.field == *name && i.value == *value {
                                i.notes.push(Note {
                                    text: bytes.to_vec(),
                                    trailing: *trailing,
                                    indent: own_indent.clone(),
                                });
                                found = true;
                            }
                        }
                    }
                }
                if !found {
                    let why = format!(
                        "`.{name} = {value}` leaves no member in the ops struct (NULL, or overwritten before the call)"
                    );
                    return Err(flag(src, c, &why));
                }
            }
        }
    }
    if let (false, Ok((at, _))) = (above.is_empty(), call) {
        plan.above.push((*at, above));
    }
    Ok(())
}

/// The line above which comments for the call go: the start of the line of the statement
/// holding the walk's only rewritten call, and that line's indentation.
fn call_line(src: &[u8], plan: &WalkPlan) -> Result<(usize, Vec<u8>), String> {
    let [call] = plan.calls.as_slice() else {
        return Err(format!(
            "the walk has {} calls; which one it belongs to is not known",
            plan.calls.len()
        ));
    };
    let mut n = call.node;
    while let Some(p) = n.parent() {
        if matches!(
            p.kind(),
            "compound_statement" | "case_statement" | "translation_unit"
        ) {
            break;
        }
        n = p;
    }
    let at = line_start(src, n.start_byte());
    let indent = &src[at..n.start_byte()];
    if indent.iter().all(|&b| b == b' ' || b == b'\t') {
        Ok((at, indent.to_vec()))
    } else {
        Err("the statement of the call does not begin its line".into())
    }
}

/// Comments right after `end` on its line, with nothing but blanks after them: (their
/// ranges, the end of the last one). None when code follows on the line.
fn trailing(src: &[u8], comments: &[Range<usize>], end: usize) -> (Vec<Range<usize>>, usize) {
    let mut at = end;
    let mut out = Vec::new();
    loop {
        let mut k = at;
        while k < src.len() && (src[k] == b' ' || src[k] == b'\t') {
            k += 1;
        }
        match comments.iter().find(|c| c.start == k) {
            Some(c) => {
                out.push(c.clone());
                at = c.end;
            }
            None => break,
        }
    }
    if out.is_empty()
        || !src[at..line_end(src, at)]
            .iter()
            .all(u8::is_ascii_whitespace)
    {
        return (Vec::new(), end);
    }
    (out, at)
}

/// The comments on the lines right above the line of `start` (no blank line, no code between),
/// not already `taken`.
fn block_above(
    src: &[u8],
    comments: &[Range<usize>],
    start: usize,
    taken: &HashSet<usize>,
) -> Vec<Range<usize>> {
    if !starts_line(src, start) {
        return Vec::new();
    }
    let mut block: Vec<Range<usize>> = Vec::new();
    let mut at = line_start(src, start);
    loop {
        let prev = comments.iter().rev().find(|c| c.end <= at);
        let Some(c) = prev else { break };
        let gap = &src[c.end..at];
        let nl = gap.iter().filter(|&&b| b == b'\n').count();
        if !gap.iter().all(u8::is_ascii_whitespace) || nl > 1 || taken.contains(&c.start) {
            break;
        }
        if block.is_empty() && nl == 0 {
            break; // on the statement's own line: not above it
        }
        block.insert(0, c.clone());
        at = c.start;
    }
    while block.first().is_some_and(|c| !starts_line(src, c.start)) {
        block.remove(0);
    }
    block
}

/// How many items from the first form one run: each starts on the line after the previous
/// one ends.
fn run_from(src: &[u8], items: &[(Range<usize>, Sets)]) -> usize {
    let mut n = 1;
    while n < items.len() {
        let gap = &src[items[n - 1].0.end..items[n].0.start];
        let nl = gap.iter().filter(|&&b| b == b'\n').count();
        if !gap.iter().all(u8::is_ascii_whitespace) || nl != 1 {
            break;
        }
        n += 1;
    }
    n
}

/// Comments the plan's edits would delete or overwrite: inside a deleted or replaced range, or
/// in a rewritten argument list outside the old arguments the new call keeps.
fn at_risk<'a>(
    ctx: &'a FileCtx,
    walk: &Walk,
    plan: &'a WalkPlan,
    comments: &'a [Range<usize>],
) -> impl Iterator<Item = Range<usize>> + 'a {
    let ranges = removed_ranges(walk, plan);
    let mut lists: Vec<(Range<usize>, Vec<Range<usize>>)> = Vec::new();
    for c in &plan.calls {
        let Some(list) = c.node.child_by_field_name("arguments") else {
            continue;
        };
        let old = named_children(list);
        let kept = ctx.rule.entries[c.entry]
            .new_args
            .iter()
            .filter_map(|a| match a {
                NewArg::Old(i) => old.get(*i).map(|n| n.byte_range()),
                _ => None,
            })
            .collect();
        lists.push((list.byte_range(), kept));
    }
    let overlaps = |c: &Range<usize>, r: &Range<usize>| c.start < r.end && r.start < c.end;
    comments
        .iter()
        .filter(move |c| {
            ranges.iter().any(|r| overlaps(c, r))
                || lists.iter().any(|(l, kept)| {
                    overlaps(c, l) && !kept.iter().any(|k| k.start <= c.start && c.end <= k.end)
                })
        })
        .cloned()
}

/// `src[r]` with the `spans` (comments, directive lines) in it blanked to NUL bytes, so that
/// they count as neither code nor blank space.
fn uncommented(src: &[u8], spans: &[Range<usize>], r: Range<usize>) -> Vec<u8> {
    let mut out = src[r.clone()].to_vec();
    for c in spans {
        let (s, e) = (c.start.max(r.start), c.end.min(r.end));
        if s < e {
            out[s - r.start..e - r.start].fill(0);
        }
    }
    out
}

/// A line with nothing but blanks strictly inside `gap` (its first and last pieces are the
/// ends of lines holding something else).
fn has_blank_line(gap: &[u8]) -> bool {
    let pieces: Vec<&[u8]> = gap.split(|&b| b == b'\n').collect();
    pieces.len() > 2
        && pieces[1..pieces.len() - 1]
            .iter()
            .any(|p| p.iter().all(u8::is_ascii_whitespace))
}

fn starts_line(src: &[u8], at: usize) -> bool {
    src[line_start(src, at)..at]
        .iter()
        .all(|&b| b == b' ' || b == b'\t')
}

fn flag(src: &[u8], c: &Range<usize>, why: &str) -> Flag {
    let t = String::from_utf8_lossy(&src[c.clone()]);
    let first = t.lines().next().unwrap_or("");
    let shown: String = first.chars().take(40).collect();
    let more = if shown.len() < t.len() { " ..." } else { "" };
    Flag::new(
        Code::Comment,
        format!("the comment `{shown}{more}` cannot move with its code: {why}"),
    )
    .at(line_of(src, c.start))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn comments_of(src: &[u8]) -> Vec<Range<usize>> {
        crate::parse::lex::lex(src)
            .spans
            .into_iter()
            .filter(|(k, _)| *k == Span::Comment)
            .map(|(_, r)| r)
            .collect()
    }

    #[test]
    fn trailing_comments_end_their_line() {
        let src = b"\tw.mm = mm; /* a */ // b\n\tw.x = 1; /* c */ f();\n";
        let cs = comments_of(src);
        let end = src.iter().position(|&b| b == b';').unwrap() + 1;
        let (got, to) = trailing(src, &cs, end);
        assert_eq!(got, cs[..2].to_vec());
        assert_eq!(to, cs[1].end);
        // Code after the comment: it shares its line with that code and stays.
        let end2 = end + src[end..].iter().position(|&b| b == b'1').unwrap() + 2;
        assert_eq!(trailing(src, &cs, end2), (Vec::new(), end2));
    }

    #[test]
    fn a_block_is_right_above_with_no_blank_line_and_starts_its_lines() {
        let src =
            b"\tf(); /* f's */\n\t/* one */ /* two */\n\t/*\n\t * three\n\t */\n\tw.mm = mm;\n";
        let cs = comments_of(src);
        let at = src.windows(4).position(|w| w == b"w.mm").unwrap();
        let none = HashSet::new();
        assert_eq!(block_above(src, &cs, at, &none), cs[1..].to_vec());
        let gap = b"\t/* one */\n\n\tw.mm = mm;\n";
        let at = gap.windows(4).position(|w| w == b"w.mm").unwrap();
        assert!(block_above(gap, &comments_of(gap), at, &none).is_empty());
    }

    #[test]
    fn blank_lines_inside_a_gap() {
        assert!(!has_blank_line(b" \n\t\t"));
        assert!(has_blank_line(b" \n\t\n\t\t"));
        assert!(!has_blank_line(b"\n\0\0\n\t"));
    }

    fn run(src: &[u8]) -> (Vec<u8>, Vec<String>) {
        let rule = crate::rule::bundled()
            .unwrap()
            .into_iter()
            .find(|r| r.id == "mm_walk_ops")
            .unwrap();
        crate::fixture::run_one(&rule, std::path::Path::new("mm/c.c"), src)
    }

    const CRLF_CASE: &str = "static int cb(pmd_t *p, unsigned long a, unsigned long n,\n\
        \t      struct mm_walk *w)\n{\n\treturn 0;\n}\n\n\
        int f(struct mm_struct *mm)\n{\n\tstruct mm_walk walk = {\n\
        \t\t/*\n\t\t * two\n\t\t */\n\t\t.pmd_entry = cb,\n\t\t.mm = mm,\n\t};\n\n\
        \treturn walk_page_range(0, 1, &walk);\n}\n";

    #[test]
    fn a_moved_comment_keeps_crlf_and_one_with_other_line_endings_flags() {
        let crlf = CRLF_CASE.replace('\n', "\r\n");
        let (out, diags) = run(crlf.as_bytes());
        assert!(diags.is_empty(), "{diags:?}");
        let moved = b"\t\t/*\r\n\t\t * two\r\n\t\t */\r\n\t.pmd_entry\t= cb,\r\n";
        assert!(out.windows(moved.len()).any(|w| w == moved));
        // The same file with the comment's inner lines ending in LF: moving it would turn
        // them into CRLF.
        let mixed = crlf.replace("/*\r\n\t\t * two\r\n", "/*\n\t\t * two\n");
        let (out, diags) = run(mixed.as_bytes());
        assert_eq!(out, mixed.as_bytes());
        assert_eq!(diags, vec!["17: f: comment".to_string()]);
    }
}
