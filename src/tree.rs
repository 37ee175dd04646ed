//! Tree and layout helpers shared by the rule kinds' engines: walking nodes, naming
//! declarators, kernel-style columns, the insert-or-wrap of a list item, and the one self-check
//! that a rewrite adds no parse errors. Calls of named functions are found in [`calls`],
//! declarators walked in [`declarators`].

pub mod calls;
pub mod declarators;

pub use declarators::{declared_name, function_declarator, function_name};

use std::time::Duration;

use tree_sitter::Node;

use crate::edit::{Edit, EditSet};
use crate::parse::{self, Parsed, line_start, text};

/// Every node under `n` (`n` included), in source order: one cursor walks the subtree depth
/// first (it cannot leave `n`), with no list of children made per node.
pub fn visit<'t>(n: Node<'t>, f: &mut impl FnMut(Node<'t>)) {
    let mut c = n.walk();
    loop {
        f(c.node());
        if c.goto_first_child() {
            continue;
        }
        while !c.goto_next_sibling() {
            if !c.goto_parent() {
                return;
            }
        }
    }
}

/// Is the declaration or definition `decl` declared `static`?
pub fn is_static(src: &[u8], decl: Node) -> bool {
    let mut c = decl.walk();
    decl.children(&mut c)
        .any(|x| x.kind() == "storage_class_specifier" && text(src, x) == b"static")
}

/// Text with runs of white space made one space, for messages.
pub fn squeeze(b: &[u8]) -> String {
    String::from_utf8_lossy(b)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Is the declaration or definition `d` at file scope? A parent that is the translation unit,
/// or, where an unbalanced macro made the parser nest it in a body, a start at column 0 (kernel
/// style indents every local).
pub fn at_file_scope(src: &[u8], d: Node) -> bool {
    d.parent().is_some_and(|p| p.kind() == "translation_unit")
        || line_start(src, d.start_byte()) == d.start_byte()
}

/// `struct NAME` as the type of a declaration?
pub fn is_struct(src: &[u8], ty: Option<Node>, name: &str) -> bool {
    ty.filter(|t| t.kind() == "struct_specifier")
        .and_then(|t| t.child_by_field_name("name"))
        .is_some_and(|n| text(src, n) == name.as_bytes())
}

/// Display column of `at` (tabs to the next multiple of 8).
pub fn column(src: &[u8], at: usize) -> usize {
    src[line_start(src, at)..at].iter().fold(
        0,
        |c, &b| {
            if b == b'\t' { (c / 8 + 1) * 8 } else { c + 1 }
        },
    )
}

/// Kernel-style indentation up to `col`: tabs, then spaces.
pub fn indent_to(col: usize) -> String {
    "\t".repeat(col / 8) + &" ".repeat(col % 8)
}

/// Display width of the line holding `at`.
fn line_width(src: &[u8], at: usize) -> usize {
    column(src, parse::line_end(src, at))
}

/// Insert `item` as a list element before the element starting at `at`, in a list whose
/// elements align at `align` (the column after the opening parenthesis). Wraps the line when
/// it would pass 80 columns.
pub fn insert_before(src: &[u8], at: usize, item: &str, align: usize) -> Edit {
    let first_on_line = src[line_start(src, at)..at]
        .iter()
        .all(|b| *b == b' ' || *b == b'\t');
    if line_width(src, at) + item.len() + 2 <= 80 {
        return Edit::insert(at, format!("{item}, "));
    }
    let indent = if first_on_line {
        String::from_utf8_lossy(&src[line_start(src, at)..at]).into_owned()
    } else {
        indent_to(align)
    };
    Edit::insert(at, format!("{item},\n{indent}"))
}

/// Insert `item` as a list element after the element ending at `at`.
pub fn insert_after(src: &[u8], at: usize, item: &str, align: usize) -> Edit {
    if line_width(src, at) + item.len() + 2 <= 80 {
        return Edit::insert(at, format!(", {item}"));
    }
    Edit::insert(at, format!(",\n{}{item}", indent_to(align)))
}

/// ERROR and MISSING nodes under `n`.
pub fn errors(n: Node) -> usize {
    if !n.has_error() {
        return 0;
    }
    let mut c = n.walk();
    usize::from(n.is_error() || n.is_missing()) + n.children(&mut c).map(errors).sum::<usize>()
}

/// The rewrite must parse with no more errors than the original, in two readings: the parse
/// view (the new code may carry annotation macros such as `__always_unused`, which only the
/// view reads), and a plain reading with only conditional lines blanked, so that the view's
/// macro knowledge never hides damage. A partial parse is re-read on the same items.
pub fn self_check(src: &[u8], parsed: &Parsed, edits: &EditSet) -> Result<(), String> {
    delimited(parsed)?;
    code_only(parsed, edits.edits())?;
    reread(src, parsed, edits).map(|_| ())
}

/// A file the lexer cannot delimit (a comment running off its end, `#if` without `#endif`)
/// could hide anything from the parser's reading of it: report, change nothing.
pub fn delimited(parsed: &Parsed) -> Result<(), String> {
    if parsed.lexed.unterminated_comment || !parsed.directives.unbalanced.is_empty() {
        return Err("the file's comments or conditionals do not close".into());
    }
    Ok(())
}

/// Code edits: none may land inside a comment or a string.
pub fn code_only(parsed: &Parsed, edits: &[Edit]) -> Result<(), String> {
    match edits.iter().find(|e| parsed.lexed.inside_text(&e.range)) {
        Some(e) => Err(format!(
            "an edit at bytes {}..{} would land inside a comment or string",
            e.range.start, e.range.end
        )),
        None => Ok(()),
    }
}

/// The re-reading half of the self-check: the rewritten text, and its reading, which has no
/// more parse errors than the original's in the parse view and in a plain reading. A kind
/// that checks more of the result (struct-to-ops counts the calls left) reads that reading.
pub fn reread(src: &[u8], parsed: &Parsed, edits: &EditSet) -> Result<(Vec<u8>, Parsed), String> {
    let new = edits.apply(src);
    let changes = edits.changes();
    let timeout = Duration::from_secs(10);
    let fail = |e: parse::ParseFailure| e.to_string();
    // A partial parse is re-read on the items that hold an edit only.
    let edited: Vec<usize> = changes.iter().map(|c| c.old.start).collect();
    let narrowed = match parsed.partial() {
        true => Some(parsed.narrowed(&edited, timeout).map_err(fail)?),
        false => None,
    };
    let parsed = narrowed.as_ref().unwrap_or(parsed);
    let before = errors(parsed.tree.root_node());
    // Edited items the parser cannot read cleanly: tree-sitter's error recovery may reach
    // past them, so the whole file is re-read, as for a kind that parses it whole.
    if parsed.partial() && before > 0 {
        let whole = parse::parse_with(src, timeout, &parsed.macros).map_err(fail)?;
        return reread(src, &whole, edits);
    }
    let Some(after) = parse::parse_changed(&new, parsed, &changes, timeout).map_err(fail)? else {
        return Err("the rewrite changed text outside the items it read".into());
    };
    // The re-read is incremental (only the edited regions are parsed again): a worse result
    // is confirmed by a fresh parse (of the same items) before the file is refused.
    if errors(after.tree.root_node()) > before {
        let fresh = parse::items::parse_ranges(&after.view, after.ranges.as_deref(), timeout)
            .map_err(fail)?;
        if errors(fresh.root_node()) > before {
            return Err("the rewritten file has new parse errors".into());
        }
    }
    plain_reading(src, &new, parsed, &after, &changes)?;
    Ok((new, after))
}

/// The plain reading of a rewrite (only conditional lines blanked) has no more parse errors
/// than the original's. It is re-read incrementally from the view's tree (around the lines
/// where the plain text differs from the view; a partial tree on its items), and a worse
/// result is confirmed by fresh parses.
fn plain_reading(
    src: &[u8],
    new: &[u8],
    before: &Parsed,
    after: &Parsed,
    changes: &[parse::Change],
) -> Result<(), String> {
    let timeout = Duration::from_secs(10);
    let fail = |e: parse::ParseFailure| e.to_string();
    let plain_src = parse::blank_conditional_lines(src);
    let mut plain_new = parse::blank_conditional_lines(new);
    // An annotation the rewrite itself writes (`__always_unused int depth`) is the rule's
    // text, compiled in the fixtures: the plain reading reads it as the compiler does, as
    // nothing.
    for c in changes {
        for w in parse::lex::words(new, c.new.clone()) {
            if before.macros.annotations.contains(&new[w.clone()]) {
                plain_new[w].fill(b' ');
            }
        }
    }
    let fresh = |t: &[u8], ranges: Option<&[std::ops::Range<usize>]>| {
        parse::items::parse_ranges(t, ranges, timeout)
            .map(|t| errors(t.root_node()))
            .map_err(fail)
    };
    // Incremental: the plain text re-read from the view's tree around the lines where they
    // differ, then the rewrite from that; a worse result is confirmed by fresh parses.
    let runs = parse::differing_runs(&before.view, &plain_src, 64);
    let (old_ranges, new_ranges) = (before.ranges.as_deref(), after.ranges.as_deref());
    let plain_before = parse::reparse(
        &before.tree,
        &before.view,
        &plain_src,
        &runs,
        old_ranges,
        timeout,
    )
    .map_err(fail)?;
    let plain_after = parse::reparse(
        &plain_before,
        &plain_src,
        &plain_new,
        changes,
        new_ranges,
        timeout,
    )
    .map_err(fail)?;
    let worse = errors(plain_after.root_node()) > errors(plain_before.root_node())
        && fresh(&plain_new, new_ranges)? > fresh(&plain_src, old_ranges)?;
    if worse {
        return Err("the rewritten file has new parse errors in a plain reading".into());
    }
    Ok(())
}

/// Does the file end its lines with CRLF (most of them)? Then generated lines do too.
pub fn crlf(src: &[u8]) -> bool {
    let lf = memchr::memchr_iter(b'\n', src).count();
    let crlf = memchr::memmem::find_iter(src, b"\r\n").count();
    lf > 0 && crlf * 2 > lf
}

/// Lines end in CRLF in this file: generated line breaks must too.
pub fn crlf_edits(src: &[u8], edits: Vec<Edit>) -> Vec<Edit> {
    if !crlf(src) {
        return edits;
    }
    edits
        .into_iter()
        .map(|mut e| {
            let mut out = Vec::with_capacity(e.text.len());
            for (i, &b) in e.text.iter().enumerate() {
                if b == b'\n' && (i == 0 || e.text[i - 1] != b'\r') {
                    out.push(b'\r');
                }
                out.push(b);
            }
            e.text = out;
            e
        })
        .collect()
}

/// Words tree-sitter-c reads as something other than a plain name: keywords, primitive types
/// (every `*_t` among them), and its literals.
fn reserved(word: &[u8]) -> bool {
    const WORDS: &[&str] = &[
        "auto",
        "break",
        "case",
        "char",
        "const",
        "continue",
        "default",
        "do",
        "double",
        "else",
        "enum",
        "extern",
        "float",
        "for",
        "goto",
        "if",
        "inline",
        "int",
        "long",
        "register",
        "restrict",
        "return",
        "short",
        "signed",
        "sizeof",
        "static",
        "struct",
        "switch",
        "typedef",
        "union",
        "unsigned",
        "void",
        "volatile",
        "while",
        "bool",
        "true",
        "false",
        "NULL",
        "nullptr",
        "asm",
        "offsetof",
        "alignof",
        "thread_local",
        "constexpr",
        "noreturn",
        "defined",
    ];
    word.starts_with(b"_") || word.ends_with(b"_t") || WORDS.iter().any(|w| w.as_bytes() == word)
}

/// Does the edit set only replace plain names in the code by plain names, and indentation by
/// indentation, in a reading without parse errors? tree-sitter-c reads every plain name alike
/// and white space not at all, so such a rewrite parses exactly as the original did: the
/// self-check has nothing to find. (Where the parser recovers from errors, the cost it weighs
/// counts bytes, so a longer name can change what it makes of the rest: re-read.)
/// Does the edit set leave the reading of the file as it was, but for what it replaces? In a
/// reading without errors: renames and re-indentation (above), and calls replaced by calls —
/// text that, read on its own, is one call expression without errors, in place of a call
/// expression node with no directive line inside. A call is a postfix expression: it fits
/// wherever the old one stood, and nothing around it reads differently.
fn parses_as_before(src: &[u8], parsed: &Parsed, edits: &EditSet) -> bool {
    clean(parsed)
        && edits
            .edits()
            .iter()
            .all(|e| renamed_or_indented(src, parsed, e) || call_for_call(parsed, e))
}

fn clean(parsed: &Parsed) -> bool {
    !parsed.tree.root_node().has_error() && !parsed.lexed.unterminated_comment
}

fn call_for_call(parsed: &Parsed, e: &Edit) -> bool {
    let root = parsed.tree.root_node();
    let replaced = root
        .descendant_for_byte_range(e.range.start, e.range.end)
        .is_some_and(|n| n.kind() == "call_expression" && n.byte_range() == e.range);
    let directive = parsed
        .lexed
        .directives()
        .any(|d| d.start < e.range.end && e.range.start < d.end);
    if !replaced || directive || parsed.lexed.inside_text(&e.range) {
        return false;
    }
    let Ok(alone) = parse::parse_alone(&e.text, b";") else {
        return false;
    };
    let whole = alone.offset..alone.offset + e.text.len();
    !alone.tree.root_node().has_error()
        && alone
            .tree
            .root_node()
            .descendant_for_byte_range(whole.start, whole.end)
            .is_some_and(|n| n.kind() == "call_expression" && n.byte_range() == whole)
}

/// Is `e` a plain name replaced by a plain name, or indentation by indentation?
fn renamed_or_indented(src: &[u8], parsed: &Parsed, e: &Edit) -> bool {
    let name = |b: &[u8]| {
        matches!(b.first(), Some(c) if c.is_ascii_alphabetic())
            && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
            && !reserved(b)
    };
    let blank = |b: &[u8]| b.iter().all(|c| matches!(c, b' ' | b'\t'));
    let words = parsed.lexed.code_word_ranges(src);
    let old = &src[e.range.clone()];
    let word = words
        .binary_search_by_key(&e.range.start, |w| w.start)
        .is_ok_and(|i| words[i] == e.range);
    let indent = blank(old)
        && blank(&e.text)
        && e.range.start > 0
        && src[e.range.start - 1] == b'\n'
        && !parsed.lexed.inside_text(&e.range);
    (word && name(old) && name(&e.text)) || indent
}

/// The last step of a kind's file: the edits (CRLF kept) are re-read by the self-check and
/// kept, or, when it fails, every converted site is reported as left alone with why.
pub fn commit(src: &[u8], parsed: &Parsed, edits: Vec<Edit>, out: &mut crate::model::FileResult) {
    if edits.is_empty() {
        return;
    }
    let checked = EditSet::new(crlf_edits(src, edits))
        .map_err(|o| o.to_string())
        .and_then(|e| match parses_as_before(src, parsed, &e) {
            true => Ok(e),
            false => self_check(src, parsed, &e).map(|()| e),
        });
    match checked {
        Ok(e) => out.edits = e,
        Err(why) => {
            for s in &mut out.sites {
                s.unconvert(|| format!("self-check failed, file left alone: {why}"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edit::Edit;

    fn only_renames(src: &str, edits: Vec<Edit>) -> bool {
        let parsed = crate::parse::parse(src.as_bytes(), Duration::from_secs(5)).unwrap();
        parses_as_before(src.as_bytes(), &parsed, &EditSet::new(edits).unwrap())
    }

    #[test]
    fn a_plain_rename_and_its_indentation_need_no_re_read() {
        let src = "void f(void)\n{\n\told_name(a,\n\t\t b);\n}\n";
        let at = src.find("old_name").unwrap();
        let indent = src.find("\t\t b").unwrap();
        let rename = || Edit::replace(at..at + 8, "new");
        assert!(only_renames(src, vec![rename()]));
        assert!(only_renames(
            src,
            vec![rename(), Edit::replace(indent..indent + 3, "\t")]
        ));
    }

    #[test]
    fn a_call_replaced_by_a_call_needs_no_re_read_and_nothing_else_does() {
        let src = "void f(void)\n{\n\tdown_read(&mm->sem);\n\tx = down_read(&mm->sem) + 1;\n}\n";
        let at = src.find("down_read").unwrap();
        let call = at..at + "down_read(&mm->sem)".len();
        assert!(only_renames(
            src,
            vec![Edit::replace(call.clone(), "lock(mm)")]
        ));
        let second = src.rfind("down_read").unwrap();
        let inner = second..second + "down_read(&mm->sem)".len();
        assert!(only_renames(
            src,
            vec![Edit::replace(inner, "lock(/* c */ mm, 1)")]
        ));
        // Not a call, not one call, not read cleanly, or more than the call node replaced.
        for new in ["lock", "a + b", "lock(mm", "f(a), g(b)"] {
            assert!(
                !only_renames(src, vec![Edit::replace(call.clone(), new)]),
                "{new}"
            );
        }
        let stmt = at..call.end + 1;
        assert!(!only_renames(src, vec![Edit::replace(stmt, "lock(mm);")]));
    }

    #[test]
    fn a_rename_in_a_text_the_parser_cannot_read_is_re_read() {
        let src = "r*u, \n{\n[0;\n}\nstatic struct file_operations ring = { .x = 1 };\n";
        let at = src.find("ring").unwrap();
        assert!(!only_renames(
            src,
            vec![Edit::replace(at..at + 4, "ring_proc_ops")]
        ));
    }

    #[test]
    fn anything_else_is_re_read() {
        let src = "void f(void)\n{\n\told_name(a, b); /* x\n  y */\n}\n";
        let at = src.find("old_name").unwrap();
        // A keyword, a primitive type, a reserved name, more than a name: they parse otherwise.
        for new in ["int", "size_t", "__attribute__", "sizeof", "g(x", "a b"] {
            assert!(
                !only_renames(src, vec![Edit::replace(at..at + 8, new)]),
                "{new}"
            );
        }
        // Part of a name, and white space inside a comment, are not what they seem either.
        assert!(!only_renames(src, vec![Edit::replace(at..at + 3, "new")]));
        let inside = src.find("  y").unwrap();
        assert!(!only_renames(
            src,
            vec![Edit::replace(inside..inside + 2, "\t")]
        ));
    }
}
