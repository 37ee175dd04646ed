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

/// The most relevant conditionals one walk's analysis enumerates (every configuration is a
/// dataflow run over the function: at most 3^6 when each has two arms and an implicit third).
pub const MAX_GROUPS: usize = 6;

/// Words that mark a place control is transferred to (jumps and labels are read from the tree).
const TARGETS: &[&[u8]] = &[b"case", b"default"];

/// A jump statement, with the start of every `if` around it (inside the body).
struct Jump {
    at: usize,
    ifs: Vec<usize>,
}

/// What one walk's conditionals are: the relevant ones (enumerated), the rest (free).
pub struct Relevance {
    pub relevant: Vec<usize>,
    pub free: Vec<usize>,
}

/// Split `groups` (inside `body`) into those that may change `walk`'s verdict and the rest.
/// `uses` are the offsets of the walk's own uses, `decl` its declaration.
pub fn relevance(
    ctx: &FileCtx,
    body: Node,
    groups: &[usize],
    decl: &Range<usize>,
    uses: &[usize],
) -> Relevance {
    let (src, dirs) = (ctx.src, &ctx.parsed.directives);
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
    let matters = |arm: &Range<usize>| {
        let overlaps = decl.start < arm.end && arm.start < decl.end;
        overlaps
            || uses.iter().chain(&labels).any(|u| arm.contains(u))
            || jumps.iter().any(|j| loose(arm, j))
            || crate::parse::lex::words(src, arm.clone()).any(|w| {
                let word = &src[w.clone()];
                !ctx.parsed.lexed.inside_text(&w)
                    && (TARGETS.contains(&word)
                        || ctx.rule.entries.iter().any(|e| e.name.as_bytes() == word))
            })
    };
    let (relevant, free) = groups
        .iter()
        .partition(|&&g| dirs.groups[g].arms.iter().any(|a| matters(&a.body)));
    Relevance { relevant, free }
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
pub fn check(ctx: &FileCtx, body: Node, r: &Relevance) -> Verdict<()> {
    if let Some(flag) = split(ctx, body, &r.relevant) {
        return Err(flag);
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

/// A conditional whose directive lines do not sit between whole statements or initializer
/// members splits a construct: with something the walk depends on in an arm, no single tree
/// gives the control flow of every configuration.
fn split(ctx: &FileCtx, body: Node, groups: &[usize]) -> Option<Flag> {
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
                let open = &src_line(ctx.src, group.arms[0].line.clone());
                return Some(
                    Flag::new(
                        Code::Guard,
                        format!(
                            "`{open}` splits a statement or expression and an arm holds a use of the walk, an entry-point call or a jump"
                        ),
                    )
                    .at(line_of(ctx.src, group.arms[0].line.start)),
                );
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
