//! Watched words in the code that no pattern matched: a local of that name (not a site), a
//! definition of a watched name (the API side: removed, kept or flagged as the rule says), or
//! a use the rule cannot rewrite (flagged, with what the use is).

use std::ops::Range;

use tree_sitter::Node;

use super::{Api, CallRewrite, definition, holder, in_error, shadowed, whole_lines};
use crate::edit::Edit;
use crate::model::{Code, FileResult, Flag, Outcome, Site};
use crate::parse::{Parsed, line_of, text};
use crate::tree::squeeze;

pub fn judge(
    k: &CallRewrite,
    src: &[u8],
    parsed: &Parsed,
    n: Node,
    api: bool,
    out: &mut FileResult,
    edits: &mut Vec<Edit>,
) {
    let word = String::from_utf8_lossy(text(src, n)).into_owned();
    let line = line_of(src, n.start_byte());
    if n.kind() == "identifier" && shadowed(src, n, word.as_bytes()) {
        return;
    }
    if let Some(def) = exported(src, n).or_else(|| defined_here(src, n)) {
        return api_side(k, src, parsed, def, &word, api, out, edits);
    }
    let function = holder(src, n);
    let call_unread = n
        .parent()
        .is_some_and(|p| p.kind() == "call_expression" && p.has_error());
    // A macro invocation the parser read as a type or as a declarator (no definition, see
    // `defined_here`): read again on its own, as a call.
    let as_type = n
        .parent()
        .is_some_and(|p| matches!(p.kind(), "macro_type_specifier" | "function_declarator"));
    if as_type && let Some(read) = invocation(k, src, n, &function) {
        let outcome = match read {
            Ok(e) if e.is_empty() => return, // already in the new form
            Ok(e) => {
                edits.extend(e);
                Outcome::Converted
            }
            Err(f) => Outcome::Flagged(f),
        };
        out.sites.push(Site::caller(line, &function, outcome));
        return;
    }
    let flag = if as_type {
        Flag::new(Code::ParseError, what(src, n, &word))
    } else if in_error(n) || call_unread || n.kind() == "type_identifier" {
        Flag::new(
            Code::ParseError,
            format!("the parser could not read the code around `{word}`"),
        )
    } else {
        Flag::new(Code::Escape, what(src, n, &word))
    };
    out.sites
        .push(Site::caller(line, &function, Outcome::Flagged(flag)));
}

/// `static DEFINE_X(name, fn, 0);` at file scope, which the parser reads as a type: the
/// invocation `NAME(...)`, read on its own as a call, converts when a pattern matches it
/// whole. `None` when its parentheses do not close on its line range.
fn invocation(
    k: &CallRewrite,
    src: &[u8],
    n: Node,
    holder: &str,
) -> Option<Result<Vec<Edit>, Flag>> {
    let open = n.end_byte()
        + src[n.end_byte()..]
            .iter()
            .position(|b| !b.is_ascii_whitespace())?;
    if src[open] != b'(' {
        return None;
    }
    let mut depth = 0usize;
    let close = src[open..].iter().position(|b| {
        match b {
            b'(' => depth += 1,
            b')' => depth -= 1,
            b';' | b'{' | b'}' => return true,
            _ => {}
        }
        depth == 0
    })? + open;
    if src[close] != b')' {
        return None;
    }
    let range = n.start_byte()..close + 1;
    let used = [&(n.start_byte()..n.end_byte())];
    let what = format!(
        "`{}`, a call the parser reads as a declaration,",
        squeeze(&src[range.clone()])
    );
    Some(super::macros::in_body(k, src, &range, &used, holder, &what))
}

/// Why a use is left: what the code does with the name or member.
fn what(src: &[u8], n: Node, word: &str) -> String {
    if n.kind() == "field_identifier" {
        let expr = n.parent().filter(|p| p.kind() == "field_expression");
        let Some(e) = expr else {
            return format!("`.{word}` is set in an initializer, which the rule does not rewrite");
        };
        let shown = squeeze(text(src, e));
        let up = e
            .parent()
            .filter(|p| p.kind() == "pointer_expression")
            .unwrap_or(e);
        return match up.parent().map(|p| (p.kind(), p)) {
            Some(("argument_list", list)) => {
                let callee = list
                    .parent()
                    .and_then(|c| c.child_by_field_name("function"))
                    .map(|f| squeeze(text(src, f)))
                    .unwrap_or_default();
                format!("`{shown}` is passed to {callee}(), which no pattern of the rule rewrites")
            }
            Some(("assignment_expression" | "init_declarator", _)) => {
                format!("`{shown}` is stored, so it is used where the rule cannot follow")
            }
            Some(("initializer_list" | "initializer_pair", _)) => {
                format!("`{shown}` is in an initializer, which the rule does not rewrite")
            }
            _ => format!("`{shown}` is used other than by a call the rule rewrites"),
        };
    }
    let parent = n.parent();
    match parent.map(|p| p.kind()) {
        Some("call_expression") => {
            let call = squeeze(text(src, parent.unwrap()));
            format!("`{call}` matches none of the rule's patterns")
        }
        Some("pointer_expression") => format!("the address of {word}() is taken"),
        Some("function_declarator" | "macro_type_specifier") => format!(
            "`{}` reads as a declaration, not a call (a macro invocation the parser cannot tell from one)",
            squeeze(text(src, parent.unwrap()))
        ),
        _ => format!("{word}() is used as a value (passed, stored or compared), not called"),
    }
}

/// What a definition of a watched word is.
pub enum Def<'t> {
    /// A function's definition or prototype, or a member's declaration: the item to remove.
    Item(Node<'t>),
    /// A declaration that declares more than the watched name: it cannot go whole.
    Shared(Node<'t>),
}

/// `EXPORT_SYMBOL(name);` (or `_GPL`, ...) at file scope: the item to remove with the
/// definition.
fn exported<'t>(src: &[u8], n: Node<'t>) -> Option<Def<'t>> {
    // The file-scope item: a child of the translation unit, or of a file-scope ERROR when
    // the parser's recovery wrapped a stretch of the file in one (net/core/dev.c's
    // `N(UP) N(DOWN)` case macros, thousands of lines above its `EXPORT_SYMBOL(netif_rx_ni);`).
    let top = std::iter::successors(Some(n), |x| x.parent())
        .take_while(|x| {
            x.kind() != "translation_unit"
                && !(x.is_error() && x.parent().is_some_and(|p| p.kind() == "translation_unit"))
        })
        .last()?;
    let t = text(src, top);
    let name = text(src, n);
    let inner = t.strip_prefix(b"EXPORT_SYMBOL")?;
    let open = inner.iter().position(|b| *b == b'(')?;
    let close = inner.iter().rposition(|b| *b == b')')?;
    let word = inner.get(open + 1..close)?.trim_ascii();
    let suffix = &inner[..open];
    let ok = word == name
        && suffix.iter().all(|b| b.is_ascii_uppercase() || *b == b'_')
        && inner[close + 1..].trim_ascii() == b";";
    ok.then_some(Def::Item(top))
}

/// Is `n` the name a file-scope definition or prototype declares, or a member a struct
/// declares?
fn defined_here<'t>(src: &[u8], n: Node<'t>) -> Option<Def<'t>> {
    if n.kind() == "field_identifier" {
        let d = std::iter::successors(n.parent(), |x| x.parent())
            .take_while(|x| x.kind().ends_with("declarator") || x.kind() == "field_declaration")
            .find(|x| x.kind() == "field_declaration")?;
        return Some(Def::Item(d));
    }
    let mut d = n.parent()?;
    while d.kind().ends_with("declarator") {
        d = d.parent()?;
    }
    if !matches!(d.kind(), "function_definition" | "declaration") {
        return None;
    }
    let decl = d.child_by_field_name("declarator")?;
    if crate::tree::declared_name(decl).is_none_or(|id| id.id() != n.id()) {
        return None;
    }
    // A declaration the parser had to repair, or whose "parameters" are bare names (a macro
    // invocation read as a prototype, `DEFINE_X(name, fn);`), is no definition to remove.
    if d.has_error() || (d.kind() == "declaration" && bare_parameters(decl)) {
        return None;
    }
    let _ = src;
    let mut c = d.walk();
    if d.children_by_field_name("declarator", &mut c).count() > 1 {
        return Some(Def::Shared(d));
    }
    Some(Def::Item(d))
}

/// Does the function declarator in `decl` have a parameter that is only a typedef-like name,
/// with no declarator (`f(my_timer, fn)`)?
fn bare_parameters(decl: Node) -> bool {
    let Some(f) = crate::tree::function_declarator(decl) else {
        return false;
    };
    let Some(params) = f.child_by_field_name("parameters") else {
        return false;
    };
    let mut c = params.walk();
    params.named_children(&mut c).any(|p| {
        p.kind() == "parameter_declaration"
            && p.child_by_field_name("declarator").is_none()
            && p.child_by_field_name("type")
                .is_some_and(|t| t.kind() == "type_identifier")
    })
}

#[allow(clippy::too_many_arguments)]
fn api_side(
    k: &CallRewrite,
    src: &[u8],
    parsed: &Parsed,
    def: Def,
    word: &str,
    api: bool,
    out: &mut FileResult,
    edits: &mut Vec<Edit>,
) {
    if !api || k.api == Api::Keep {
        return;
    }
    let (Def::Item(d) | Def::Shared(d)) = def;
    let line = line_of(src, d.start_byte());
    let flag =
        |why: String| definition(line, word, Outcome::Flagged(Flag::new(Code::Blocked, why)));
    if k.api == Api::Flag {
        out.sites.push(flag(format!(
            "a definition of {word}: the rule leaves the API side to a person"
        )));
        return;
    }
    let removal = match def {
        Def::Item(d) => removal(src, parsed, d),
        Def::Shared(_) => None,
    };
    match removal {
        Some(r) => {
            edits.push(Edit::delete(r));
            out.sites.push(definition(line, word, Outcome::Converted));
        }
        None => out.sites.push(flag(format!(
            "this definition of {word} shares its lines with other code: it cannot be removed whole"
        ))),
    }
}

/// The bytes that removing the item `d` deletes: its whole lines, a kernel-doc comment right
/// above it, and one blank line so that no two are left together. `None` when it shares a
/// line with other code.
pub fn removal(src: &[u8], parsed: &Parsed, d: Node) -> Option<Range<usize>> {
    let mut start = d.start_byte();
    // A function's `EXPORT_SYMBOL` follows it; the kernel-doc comment that describes it is
    // directly above it.
    if let Some(doc) = doc_comment(src, parsed, start) {
        start = doc;
    }
    let lines = whole_lines(src, start..d.end_byte())?;
    Some(with_blank_line(src, lines))
}

/// The start of a `/** ... */` comment that ends on the line just above `at`.
fn doc_comment(src: &[u8], parsed: &Parsed, at: usize) -> Option<usize> {
    let line = crate::parse::line_start(src, at);
    let c = parsed
        .lexed
        .all_comments(src)
        .into_iter()
        .rfind(|c| c.end <= line)?;
    let between = &src[c.end..line];
    let one_break = between.iter().filter(|b| **b == b'\n').count() == 1
        && between.iter().all(|b| b.is_ascii_whitespace());
    (one_break && src[c.clone()].starts_with(b"/**")).then_some(c.start)
}

/// `lines` plus the blank line after it (or before it, at the end of a block), when it has
/// blank lines on both sides.
pub fn with_blank_line(src: &[u8], lines: Range<usize>) -> Range<usize> {
    let blank_at = |at: usize| -> Option<usize> {
        let end = crate::parse::line_end(src, at);
        src[at..end]
            .iter()
            .all(|b| matches!(b, b' ' | b'\t' | b'\r'))
            .then_some((end + 1).min(src.len()))
    };
    let before_blank = lines.start >= 1 && {
        let prev = crate::parse::line_start(src, lines.start - 1);
        blank_at(prev).is_some() || lines.start == 0
    };
    match blank_at(lines.end) {
        Some(end) if lines.end < src.len() && before_blank => lines.start..end,
        _ => lines,
    }
}

/// Removals that touch (a definition and its `EXPORT_SYMBOL`) become one, which then takes one
/// of the blank lines around it, so that two are never left together.
pub fn merge_removals(src: &[u8], mut edits: Vec<Edit>) -> Vec<Edit> {
    edits.sort_by_key(|e| e.range.start);
    let mut out: Vec<Edit> = Vec::with_capacity(edits.len());
    for e in edits {
        match out.last_mut() {
            Some(last)
                if last.text.is_empty() && e.text.is_empty() && e.range.start <= last.range.end =>
            {
                let merged = last.range.start..last.range.end.max(e.range.end);
                last.range = with_blank_line(src, merged);
            }
            _ => out.push(e),
        }
    }
    out
}
