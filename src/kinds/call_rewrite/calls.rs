//! The matching calls: found in one walk of the tree (outermost first, the first rewrite that
//! matches wins), then each one judged (context, comments, dropped or repeated arguments,
//! recursion, parse errors) and converted or flagged.

use tree_sitter::Node;

use super::pattern::Bound;
use super::{CallRewrite, When, holder, in_error, shadowed};
use crate::edit::Edit;
use crate::model::{Code, FileResult, Flag, Outcome, Site};
use crate::parse::{Parsed, line_of, text};
use crate::tree::{column, indent_to};

/// One match of a rewrite's pattern.
pub struct Match<'t> {
    pub rewrite: usize,
    pub node: Node<'t>,
    pub binds: Vec<Bound<'t>>,
    /// Offsets of the watched words inside it.
    pub watched: Vec<usize>,
    /// Already in the new form: nothing to do, not a site.
    pub done: bool,
}

/// Every match in `root`, outermost first; nothing inside a match is matched again. Code
/// already in a rewrite's new form (its `to` read as a pattern) is a match that converts to
/// nothing (`done`), so that a second run leaves it alone.
pub fn find<'t>(k: &CallRewrite, src: &[u8], root: Node<'t>) -> Vec<Match<'t>> {
    let mut out: Vec<Match<'t>> = Vec::new();
    crate::tree::visit(root, &mut |n| {
        // A new-form match only accounts for its own words: its arguments are searched on.
        let inside = |m: &Match| !m.done && m.node.byte_range().contains(&n.start_byte());
        if !n.is_named() || out.iter().any(inside) {
            return;
        }
        if let Some(m) = first_match(k, src, n) {
            out.push(m);
        }
    });
    out
}

/// The first rewrite whose new form (then whose old form) `n` has.
fn first_match<'t>(k: &CallRewrite, src: &[u8], n: Node<'t>) -> Option<Match<'t>> {
    // Asked once: tree-sitter's binding checks the kind's name as UTF-8 on every call.
    let kind = n.kind();
    for (i, r) in k.rewrites.iter().enumerate() {
        let done = r
            .done
            .as_ref()
            .filter(|d| d.root_kind() == kind)
            .and_then(|d| d.matches(n, src));
        if let Some(b) = done {
            // Only the new form's own words count as converted: a watched word inside one of
            // its arguments is a site of its own.
            let mut watched = watched_in(k, src, n);
            watched.retain(|w| !b.iter().any(|b| b.range.contains(w)));
            if !watched.is_empty() {
                let (binds, done) = (Vec::new(), true);
                return Some(Match {
                    rewrite: i,
                    node: n,
                    binds,
                    watched,
                    done,
                });
            }
        }
        if r.from.root_kind() != kind {
            continue;
        }
        if let Some(binds) = r.from.matches(n, src) {
            let watched = watched_in(k, src, n);
            return Some(Match {
                rewrite: i,
                node: n,
                binds,
                watched,
                done: false,
            });
        }
    }
    None
}

/// The text matches are judged in: the file, or a macro body parsed on its own, with its
/// comments.
pub struct Text<'a> {
    pub src: &'a [u8],
    pub comments: Vec<std::ops::Range<usize>>,
}

impl<'a> Text<'a> {
    pub fn of(src: &'a [u8], parsed: &Parsed) -> Text<'a> {
        Text {
            src,
            comments: parsed.lexed.all_comments(src),
        }
    }
    fn comment_in(&self, r: &std::ops::Range<usize>) -> Option<&std::ops::Range<usize>> {
        self.comments.iter().find(|c| r.contains(&c.start))
    }
}

/// The offsets of the watched words under `n`.
fn watched_in(k: &CallRewrite, src: &[u8], n: Node) -> Vec<usize> {
    let mut out = Vec::new();
    crate::tree::visit(n, &mut |x| {
        if k.watched(src, x) {
            out.push(x.start_byte());
        }
    });
    out
}

/// Convert one match, or flag it with why. Under `--compat` (`compat`) only a call that is a
/// statement of its own converts: its lines are written twice under a version check. A call
/// inside an expression (a condition, an assignment) would take its whole statement twice, or
/// a version check inside the expression: flagged, for a hand to write.
pub fn judge(
    k: &CallRewrite,
    t: &Text,
    m: &Match,
    compat: bool,
    out: &mut FileResult,
    edits: &mut Vec<Edit>,
) {
    if m.done {
        return;
    }
    let src = t.src;
    let r = &k.rewrites[m.rewrite];
    let line = line_of(src, m.node.start_byte());
    let function = holder(src, m.node);
    if let Some(callee) = r.from.callee()
        && k.names.iter().any(|n| n == callee)
        && shadowed(src, m.node, callee.as_bytes())
    {
        return; // a local of that name: not the watched function
    }
    let outcome = match verdict(k, t, m, &function).and_then(|e| statement(m, compat).map(|_| e)) {
        Ok(e) => {
            edits.extend(e);
            Outcome::Converted
        }
        Err(f) => Outcome::Flagged(f),
    };
    out.sites.push(Site::caller(line, &function, outcome));
}

/// Under `--compat`: is the match a statement of its own (`down_read(&mm->mmap_sem);`)?
fn statement(m: &Match, compat: bool) -> Result<(), Flag> {
    let alone = m.node.kind() == "expression_statement"
        || m.node
            .parent()
            .is_some_and(|p| p.kind() == "expression_statement");
    if !compat || alone {
        return Ok(());
    }
    Err(Flag::new(
        Code::Unsupported,
        "--compat writes a rewritten call twice only where it is a statement of its own; this one is inside an expression",
    ))
}

/// The edit that converts `m`, inside `function` (a function's or a macro's name).
pub fn verdict(k: &CallRewrite, t: &Text, m: &Match, function: &str) -> Result<Vec<Edit>, Flag> {
    if m.done {
        return Ok(Vec::new());
    }
    let src = t.src;
    let r = &k.rewrites[m.rewrite];
    let shown = crate::tree::squeeze(text(src, m.node));
    // Inside the parser's error recovery, the holding function must still be known (the
    // recursion check below needs its name) and the statement must read on its own.
    let recovered = in_error(m.node) && (function == "(file scope)" || !readable_alone(k, src, m));
    if m.node.has_error() || recovered {
        return Err(Flag::new(
            Code::ParseError,
            format!("the parser could not read the code around `{shown}`"),
        ));
    }
    if let Some(why) = &r.flag {
        return Err(Flag::new(Code::Unsupported, format!("`{shown}`: {why}")));
    }
    if let Some(g) = &r.calls
        && g == function
    {
        return Err(Flag::new(
            Code::Unsupported,
            format!("`{shown}` is inside {g}() itself: rewritten, {g}() would call itself"),
        ));
    }
    context(r.when, m.node, &shown)?;
    let bound: Vec<std::ops::Range<usize>> = m.binds.iter().map(|b| b.range.clone()).collect();
    // A watched word inside an argument is a second site the rewrite would carry along.
    if m.watched
        .iter()
        .any(|w| bound.iter().any(|b| b.contains(w)))
    {
        return Err(Flag::new(
            Code::Unsupported,
            format!(
                "`{shown}` holds another use of {} in its arguments",
                k.words().join(", ")
            ),
        ));
    }
    let comment = t.comments.iter().find(|c| {
        m.node.byte_range().contains(&c.start) && !bound.iter().any(|b| b.contains(&c.start))
    });
    if comment.is_some() {
        return Err(Flag::new(
            Code::Comment,
            format!("`{shown}` holds a comment the rewrite has no place for"),
        ));
    }
    for (i, v) in r.from.vars().iter().enumerate() {
        let b = &m.binds[i];
        let uses = r.to.uses(v);
        if uses == 0 && (effects(b.node) || t.comment_in(&b.range).is_some()) {
            return Err(Flag::new(
                Code::Unsupported,
                format!(
                    "`{shown}`: the rewrite drops `{}`, which has side effects or a comment",
                    String::from_utf8_lossy(&src[b.range.clone()])
                ),
            ));
        }
        if uses > 1 && effects(b.node) {
            return Err(Flag::new(
                Code::Unsupported,
                format!(
                    "`{shown}`: the rewrite would evaluate `{}` twice",
                    String::from_utf8_lossy(&src[b.range.clone()])
                ),
            ));
        }
    }
    if r.rename.is_some() && m.node.kind() == "call_expression" {
        return Ok(renamed(
            src,
            m.node,
            r.to.callee().expect("a rename calls a name"),
        ));
    }
    let new = r.to.render(&r.from, &m.binds, src, m.node);
    let new = outer_parens(src, m.node, new);
    Ok(vec![Edit::replace(
        m.node.byte_range(),
        realign(src, m.node, new),
    )])
}

/// A match that is itself parenthesized (`from = "(rnd() & 1)"`) may hold parentheses that
/// belong to what is around it: an `if`/`while`/`do`/`switch` condition's or `sizeof`'s. They
/// stay around the new text (`if (rnd_below(2))`, not `if rnd_below(2)`), and new text that
/// would run into a word before it (`return(x)`) gets a space.
fn outer_parens(src: &[u8], node: Node, new: Vec<u8>) -> Vec<u8> {
    if node.kind() != "parenthesized_expression" || new.starts_with(b"(") {
        return new;
    }
    let around = node.parent().map(|p| p.kind()).unwrap_or("");
    if matches!(
        around,
        "if_statement"
            | "while_statement"
            | "do_statement"
            | "switch_statement"
            | "sizeof_expression"
    ) {
        return [&b"("[..], &new, b")"].concat();
    }
    let word = |b: Option<&u8>| b.is_some_and(|&b| crate::parse::lex::is_ident_byte(b));
    let before = node.start_byte().checked_sub(1).map(|i| &src[i]);
    match word(before) && word(new.first()) {
        true => [&b" "[..], &new].concat(),
        false => new,
    }
}

/// A plain rename: the call keeps its arguments and line breaks as written; only the name
/// changes, and continuation lines aligned after the parenthesis move with it.
fn renamed(src: &[u8], call: Node, new_name: &str) -> Vec<Edit> {
    let f = call.child_by_field_name("function").expect("a call");
    let mut edits = vec![Edit::replace(f.byte_range(), new_name)];
    let Some(list) = call.child_by_field_name("arguments") else {
        return edits;
    };
    let old_col = column(src, list.start_byte()) + 1;
    let new_col = old_col + new_name.len() - f.byte_range().len();
    if old_col == new_col {
        return edits;
    }
    for nl in memchr::memchr_iter(b'\n', &src[list.byte_range()]) {
        let start = list.start_byte() + nl + 1;
        let ws = src[start..]
            .iter()
            .take_while(|b| matches!(b, b' ' | b'\t'))
            .count();
        if width(&src[start..start + ws]) == old_col {
            edits.push(Edit::replace(start..start + ws, indent_to(new_col)));
        }
    }
    edits
}

/// A match the parser's error recovery holds (an unreadable line elsewhere in the function):
/// its own statement, parsed on its own, must read cleanly and match the same rewrite at the
/// same place. Then what the rewrite touches is proven by itself.
fn readable_alone(k: &CallRewrite, src: &[u8], m: &Match) -> bool {
    let stmt = std::iter::successors(Some(m.node), |x| x.parent()).find(|x| {
        matches!(
            x.kind(),
            "expression_statement" | "return_statement" | "declaration"
        )
    });
    let Some(stmt) = stmt.filter(|s| !s.has_error() && !s.is_error()) else {
        return false;
    };
    let Ok(alone) = crate::parse::parse_alone(text(src, stmt), b"") else {
        return false;
    };
    if alone.tree.root_node().has_error() {
        return false;
    }
    let at = m.node.start_byte() - stmt.start_byte() + alone.offset;
    find(k, &alone.bytes, alone.tree.root_node())
        .iter()
        .any(|x| x.rewrite == m.rewrite && x.node.start_byte() == at)
}

/// The rule's `when`: is the call's value used where it stands?
fn context(when: When, n: Node, shown: &str) -> Result<(), Flag> {
    let unused = n
        .parent()
        .is_some_and(|p| p.kind() == "expression_statement")
        || n.kind() == "expression_statement";
    let why = match (when, unused) {
        (When::Unused, false) => "its value is used, and the rule rewrites it only where it is not",
        (When::Used, true) => "its value is not used, and the rule rewrites it only where it is",
        _ => return Ok(()),
    };
    Err(Flag::new(Code::Unsupported, format!("`{shown}`: {why}")))
}

/// Could evaluating `n` change anything (a call, an assignment, `++`/`--`)?
fn effects(n: Node) -> bool {
    let mut found = false;
    crate::tree::visit(n, &mut |x| {
        found |= matches!(
            x.kind(),
            "call_expression" | "assignment_expression" | "update_expression" | "comma_expression"
        );
    });
    found
}

/// Continuation lines aligned after the old call's parenthesis move with it.
fn realign(src: &[u8], node: Node, new: Vec<u8>) -> Vec<u8> {
    if !new.contains(&b'\n') {
        return new;
    }
    let call = if node.kind() == "expression_statement" {
        node.named_child(0).unwrap_or(node)
    } else {
        node
    };
    let Some(args) = call.child_by_field_name("arguments") else {
        return new;
    };
    let Some(paren) = new.iter().position(|b| *b == b'(') else {
        return new;
    };
    let old_col = column(src, args.start_byte()) + 1;
    let new_col = column(src, node.start_byte()) + paren + 1;
    realign_lines(new, old_col, new_col)
}

/// Lines after the first whose indentation is `old_col` get `new_col`.
fn realign_lines(new: Vec<u8>, old_col: usize, new_col: usize) -> Vec<u8> {
    if old_col == new_col || !new.contains(&b'\n') {
        return new;
    }
    let mut out = Vec::with_capacity(new.len());
    for (i, line) in new.split(|b| *b == b'\n').enumerate() {
        if i > 0 {
            out.push(b'\n');
            let ws = line
                .iter()
                .take_while(|b| matches!(b, b' ' | b'\t'))
                .count();
            if width(&line[..ws]) == old_col {
                out.extend_from_slice(indent_to(new_col).as_bytes());
                out.extend_from_slice(&line[ws..]);
                continue;
            }
        }
        out.extend_from_slice(line);
    }
    out
}

/// Display width of leading white space.
fn width(ws: &[u8]) -> usize {
    ws.iter()
        .fold(0, |c, &b| if b == b'\t' { (c / 8 + 1) * 8 } else { c + 1 })
}
