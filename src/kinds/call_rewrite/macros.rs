//! Watched words in preprocessor directives. A `#define` of a watched name is the API side.
//! A macro whose body is just an old name that a rename replaces (`#define ioremap_wc
//! ioremap_nocache`) takes the new name. Any other body is parsed on its own and converted when
//! every watched word in it is inside a match that converts (flagged otherwise); a macro
//! parameter of a watched name is not a use. `#undef` and a conditional that tests a watched
//! name follow the API side: removed with what they guard when nothing else is left there.

use std::ops::Range;

use super::calls::{self, Text};
use super::uses::with_blank_line;
use super::{Api, CallRewrite, definition, whole_lines};
use crate::edit::Edit;
use crate::model::{Code, FileResult, Flag, Outcome, Site};
use crate::parse::lex::{self, words};
use crate::parse::{Parsed, line_of};
use crate::tree::squeeze;

/// One directive holding a watched word: its range and its words (comments left out).
struct Directive {
    range: Range<usize>,
    words: Vec<Range<usize>>,
}

impl Directive {
    fn keyword<'a>(&self, src: &'a [u8]) -> &'a [u8] {
        self.words.first().map_or(&[][..], |w| &src[w.clone()])
    }
}

pub fn judge(
    k: &CallRewrite,
    src: &[u8],
    parsed: &Parsed,
    api: bool,
    out: &mut FileResult,
    edits: &mut Vec<Edit>,
) {
    let comments = parsed.lexed.all_comments(src);
    let watched = |w: &Range<usize>| k.words().iter().any(|x| x.as_bytes() == &src[w.clone()]);
    let mut conditions = Vec::new();
    for range in parsed.lexed.directives() {
        let words: Vec<Range<usize>> = words(src, range.clone())
            .filter(|w| !comments.iter().any(|c| c.contains(&w.start)))
            .collect();
        if !words.iter().any(watched) {
            continue;
        }
        let d = Directive { range, words };
        match d.keyword(src) {
            b"define" => define(k, src, parsed, &d, api, out, edits),
            b"undef" | b"ifdef" | b"ifndef" | b"if" | b"elif" => conditions.push(d),
            _ => {} // #include, #error, #pragma: text, not code
        }
    }
    // After the definitions: a conditional goes when what it guards is gone.
    for d in conditions {
        condition(k, src, parsed, &d, api, out, edits);
    }
}

/// The API side's verdict for a directive that defines or tests a watched name.
fn api_site(
    k: &CallRewrite,
    src: &[u8],
    d: &Directive,
    name: &str,
    remove: Option<Range<usize>>,
    out: &mut FileResult,
    edits: &mut Vec<Edit>,
) {
    let line = line_of(src, d.range.start);
    let flag =
        |why: String| definition(line, name, Outcome::Flagged(Flag::new(Code::Blocked, why)));
    match (k.api, remove) {
        (Api::Keep, _) => {}
        (Api::Remove, Some(r)) => {
            edits.push(Edit::delete(r));
            out.sites.push(definition(line, name, Outcome::Converted));
        }
        (Api::Remove, None) => out.sites.push(flag(format!(
            "`{}` uses {name} in a way the rule cannot remove",
            squeeze(&src[d.range.clone()])
        ))),
        (Api::Flag, _) => out.sites.push(flag(format!(
            "`{}`: the rule leaves the API side to a person",
            squeeze(&src[d.range.clone()])
        ))),
    }
}

fn define(
    k: &CallRewrite,
    src: &[u8],
    parsed: &Parsed,
    d: &Directive,
    api: bool,
    out: &mut FileResult,
    edits: &mut Vec<Edit>,
) {
    let Some(name) = d.words.get(1).cloned() else {
        return;
    };
    let shown = String::from_utf8_lossy(&src[name.clone()]).into_owned();
    let params_end = match src.get(name.end) {
        Some(b'(') => src[name.end..d.range.end]
            .iter()
            .position(|b| *b == b')')
            .map(|i| name.end + i + 1),
        _ => Some(name.end),
    };
    let Some(body_start) = params_end else {
        return;
    };
    if k.names.contains(&shown) {
        if !api {
            return;
        }
        if k.api == Api::Remove && undone_before(src, parsed, d.range.start, &shown) {
            return redirect(src, d, &shown, out);
        }
        let remove = whole_lines(src, d.range.clone())
            .filter(|_| plain_define(src, d, &name))
            .map(|r| with_blank_line(src, r));
        api_site(k, src, d, &shown, remove, out, edits);
        return;
    }
    let params: Vec<&[u8]> = d
        .words
        .iter()
        .filter(|w| w.start > name.end && w.end <= body_start)
        .map(|w| &src[w.clone()])
        .collect();
    let body = body_start..d.range.end;
    let body_words: Vec<&Range<usize>> = d.words.iter().filter(|w| w.start >= body.start).collect();
    let used: Vec<&Range<usize>> = d
        .words
        .iter()
        .filter(|w| {
            w.start >= body.start && k.words().iter().any(|x| x.as_bytes() == &src[(*w).clone()])
        })
        .filter(|w| !params.contains(&&src[(*w).clone()]))
        .collect();
    if used.is_empty() {
        return; // a macro parameter of that name
    }
    let line = line_of(src, d.range.start);
    let outcome = match alias(k, src, &body, &body_words, &shown).unwrap_or_else(|| {
        let what = format!("the body of macro {shown}");
        in_body(k, src, &body, &used, &shown, &what)
    }) {
        Ok(e) if e.is_empty() => return, // already in the new form
        Ok(e) => {
            edits.extend(e);
            Outcome::Converted
        }
        Err(f) => Outcome::Flagged(f),
    };
    out.sites.push(Site::caller(line, &shown, outcome));
}

/// `#undef NAME` then `#define NAME …` in one file: not the API's definition but the file's
/// own redirect of its calls (drivers/net/wan/wanxl.c sends `pci_map_single` to a checking
/// wrapper under `#ifdef DEBUG_PCI`). Removing it would drop the redirect silently, and the
/// converted calls bypass it: both lines are left to a person.
fn redirect(src: &[u8], d: &Directive, name: &str, out: &mut FileResult) {
    let line = line_of(src, d.range.start);
    let why = format!(
        "`{}` redirects this file's calls of {name} (an `#undef {name}` comes first): the converted calls no longer go through it",
        squeeze(&src[d.range.clone()])
    );
    out.sites.push(definition(
        line,
        name,
        Outcome::Flagged(Flag::new(Code::Blocked, why)),
    ));
}

/// Is there an `#undef NAME` among the file's directives that start before `at`?
fn undone_before(src: &[u8], parsed: &Parsed, at: usize, name: &str) -> bool {
    parsed
        .lexed
        .directives()
        .take_while(|r| r.start < at)
        .any(|r| directive_is(src, r, b"undef", name))
}

/// Is there a `#define NAME` among the file's directives that start after `at`?
fn redefined_after(src: &[u8], parsed: &Parsed, at: usize, name: &str) -> bool {
    parsed
        .lexed
        .directives()
        .filter(|r| r.start > at)
        .any(|r| directive_is(src, r, b"define", name))
}

/// The directive at `r` is `#KEYWORD NAME…`.
fn directive_is(src: &[u8], r: Range<usize>, keyword: &[u8], name: &str) -> bool {
    let mut w = words(src, r);
    w.next().is_some_and(|k| &src[k] == keyword)
        && w.next().is_some_and(|n| &src[n] == name.as_bytes())
}

/// Is the directive `#define NAME…` as C reads it: only blanks around `define`, and the name
/// followed by its parameter list, a blank, a comment or the end of the line? Anything else
/// (a stray control byte) is text the parser cannot read, never removed.
fn plain_define(src: &[u8], d: &Directive, name: &Range<usize>) -> bool {
    let blank = |r: Range<usize>| src[r].iter().all(|b| matches!(b, b' ' | b'\t' | b'#'));
    let after = src.get(name.end).copied();
    blank(d.range.start..d.words[0].start)
        && blank(d.words[0].end..name.start)
        && (name.end >= d.range.end
            || matches!(
                after,
                Some(b'(' | b' ' | b'\t' | b'\r' | b'\n' | b'/' | b'\\')
            ))
}

/// `#define X f` where a rename replaces `f` by `g`: `X` now names `g` (unless `X` is `g`).
/// `words` are the body's words (comments left out); nothing but white space and comments may
/// stand beside `f`.
fn alias(
    k: &CallRewrite,
    src: &[u8],
    body: &Range<usize>,
    words: &[&Range<usize>],
    name: &str,
) -> Option<Result<Vec<Edit>, Flag>> {
    let [w] = words else {
        return None;
    };
    // Nothing but the name, white space, line continuations and comments in the body.
    let text = &src[body.clone()];
    let comments = lex::lex(text).all_comments(text);
    let code = (0..text.len())
        .filter(|&i| !comments.iter().any(|c| c.contains(&i)))
        .filter(|&i| !text[i].is_ascii_whitespace() && text[i] != b'\\')
        .count();
    if code != w.len() {
        return None;
    }
    let word = &src[(*w).clone()];
    let (_, g) = k
        .rewrites
        .iter()
        .filter_map(|r| r.rename.as_ref())
        .find(|(f, _)| f.as_bytes() == word)?;
    if g == name {
        return Some(Err(Flag::new(
            Code::Unsupported,
            format!(
                "`#define {name} {}`: renamed, {name} would name itself",
                squeeze(word)
            ),
        )));
    }
    Some(Ok(vec![Edit::replace((*w).clone(), g.clone())]))
}

/// A macro body (or a macro invocation the parser misread) parsed as code on its own: every
/// watched word in it must be inside a match that converts. `what` names the text in a flag.
pub(super) fn in_body(
    k: &CallRewrite,
    src: &[u8],
    body: &Range<usize>,
    used: &[&Range<usize>],
    name: &str,
    what: &str,
) -> Result<Vec<Edit>, Flag> {
    let mut text = src[body.clone()].to_vec();
    // Line continuations read as white space, so offsets stay the same.
    for i in 0..text.len() {
        if text[i] == b'\\' && matches!(text.get(i + 1), Some(b'\n' | b'\r')) {
            text[i] = b' ';
        }
    }
    let flag = |why: &str| {
        Err(Flag::new(
            Code::Unsupported,
            format!("{what} {why}, which the rule does not rewrite"),
        ))
    };
    let Ok(alone) = crate::parse::parse_alone(&text, b"\n;") else {
        return flag("cannot be read as code");
    };
    let (buf, root) = (&alone.bytes, alone.tree.root_node());
    let shift = |at: usize| at - alone.offset + body.start;
    let matches = calls::find(k, buf, root);
    let covered = |w: &&&Range<usize>| {
        matches
            .iter()
            .any(|m| m.watched.iter().any(|x| shift(*x) == w.start))
    };
    if !used.iter().all(|w| covered(&w)) {
        return flag("uses a watched name or member other than in a call the rule rewrites");
    }
    let t = Text {
        comments: lex::lex(buf).all_comments(buf),
        src: buf,
    };
    let mut edits = Vec::new();
    for m in &matches {
        if root.has_error() && crate::tree::errors(m.node) > 0 {
            return flag("cannot be read as code");
        }
        for e in calls::verdict(k, &t, m, name)? {
            edits.push(Edit::replace(
                shift(e.range.start)..shift(e.range.end),
                continued(e.text),
            ));
        }
    }
    Ok(edits)
}

/// A replacement made from the body as `in_body` reads it (each line continuation a blank):
/// a line break the rewrite kept between two arguments takes its backslash back. Every line
/// of a macro body but the last ends in one, so the blank before a line break was it.
fn continued(mut text: Vec<u8>) -> Vec<u8> {
    for i in 1..text.len() {
        if text[i] != b'\n' {
            continue;
        }
        let end = if text[i - 1] == b'\r' { i - 1 } else { i };
        if end >= 1 && text[end - 1] == b' ' {
            text[end - 1] = b'\\';
        }
    }
    text
}

/// `#undef NAME`, `#ifdef NAME`, `#ifndef NAME`, `#if defined(NAME)` for a watched name.
fn condition(
    k: &CallRewrite,
    src: &[u8],
    parsed: &Parsed,
    d: &Directive,
    api: bool,
    out: &mut FileResult,
    edits: &mut Vec<Edit>,
) {
    let names: Vec<String> = d.words[1..]
        .iter()
        .map(|w| String::from_utf8_lossy(&src[w.clone()]).into_owned())
        .filter(|w| w != "defined")
        .collect();
    let Some(name) = names.iter().find(|n| k.names.contains(n)).cloned() else {
        return; // a member named in a condition: not code
    };
    if !api {
        return;
    }
    // Only a directive about the name alone goes with it: `#undef NAME`, `#ifdef NAME` (and
    // no comment on its line, which would go too).
    let alone = names.len() == 1
        && !parsed
            .lexed
            .all_comments(src)
            .iter()
            .any(|c| d.range.start <= c.start && c.start < d.range.end);
    if d.keyword(src) == b"undef"
        && k.api == Api::Remove
        && redefined_after(src, parsed, d.range.start, &name)
    {
        let line = line_of(src, d.range.start);
        let why = format!(
            "`#undef {name}` goes with the `#define {name}` after it, this file's own redirect of its calls"
        );
        let f = Flag::new(Code::Blocked, why);
        out.sites.push(definition(line, &name, Outcome::Flagged(f)));
        return;
    }
    let remove = match d.keyword(src) {
        b"undef" if alone => whole_lines(src, d.range.clone()),
        b"ifdef" | b"ifndef" | b"if" if alone => emptied_group(src, parsed, d, edits),
        _ => None,
    };
    api_site(k, src, d, &name, remove, out, edits);
}

/// A conditional group opened by `d`, of one arm, whose body the edits so far delete
/// entirely: the `#endif` goes too (pushed here; the caller deletes the opening line).
fn emptied_group(
    src: &[u8],
    parsed: &Parsed,
    d: &Directive,
    edits: &mut Vec<Edit>,
) -> Option<Range<usize>> {
    let g = parsed.directives.groups.iter().find(|g| {
        g.arms
            .first()
            .is_some_and(|a| a.line.start <= d.range.start && d.range.start < a.line.end)
    })?;
    if g.arms.len() != 1 {
        return None;
    }
    let body = g.arms[0].body.clone();
    let mut left = src[body.clone()].to_vec();
    for e in edits.iter().filter(|e| e.text.is_empty()) {
        for at in e.range.clone() {
            if body.contains(&at) {
                left[at - body.start] = b' ';
            }
        }
    }
    if !left.iter().all(|b| b.is_ascii_whitespace()) {
        return None;
    }
    let open = whole_lines(src, d.range.clone())?;
    let end = whole_lines(src, g.end.clone())?;
    // Whatever the deletions inside left over (blank lines) goes with the group.
    edits.retain(|e| !(e.text.is_empty() && open.start <= e.range.start && e.range.end <= end.end));
    Some(with_blank_line(src, open.start..end.end))
}
