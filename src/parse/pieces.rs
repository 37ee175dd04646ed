//! Pieces of function bodies: the statements of a body that a proof needs, read without the
//! rest of the function.
//!
//! A call-rewrite rule judges a call from the statement around it (its arguments, whether its
//! value is used, what the function declares under the same name, which the word itself marks).
//! Reading a whole 300-line probe function to rewrite one call costs most of a whole-tree run,
//! so a function item is read as its head (everything up to the body's `{`), the body's
//! top-level statements that hold a wanted word, and its closing `}`: tree-sitter reads
//! that as a function with fewer statements, every node at its file offset.
//!
//! tree-sitter's C grammar reads a statement alone as it reads it among others (it keeps no
//! table of names), so a statement reads the same in either text. What must be right is where
//! statements end, found by a brace/parenthesis scan of the code (comments, literals and
//! directive lines skipped, as the lexer finds them):
//! - after a `;` outside parentheses at the body's own depth, unless `else` or `while`
//!   follows (`if (a) f(); else g();`, `do f(); while (a);`);
//! - after the `}` of a block opened where a statement starts (after `)`, `;`, `{`, `}`, `:`,
//!   `else`, `do`), unless `else`, `while` or something other than a word or a brace follows.
//!   A brace after anything else (an initializer's `= {`, `struct {`) holds no statement
//!   ends.
//!
//! Anything this scan cannot follow (a word in the head, parentheses or braces that do not
//! balance inside the body, no `)` before the body) keeps the whole item. Joining too much
//! costs only time: the scan never splits inside a statement of a body it accepts.

use std::ops::Range;

use super::lex::is_ident_byte;

/// The parts of `item` (a top-level item of `src`) to read for the word occurrences
/// `offsets` (all inside `item`): its head, the body statements holding one, its closing
/// brace. `None`: read the whole item. `code` are the lexer's code ranges of the file.
pub fn body_pieces(
    src: &[u8],
    code: &[Range<usize>],
    item: Range<usize>,
    offsets: &[usize],
) -> Option<Vec<Range<usize>>> {
    let sig = significant(src, code, &item);
    let open = body_open(src, &sig)?;
    let close = *sig.last()?;
    if src[close] != b'}' || offsets.iter().any(|o| *o <= sig[open] || *o >= close) {
        return None;
    }
    let ends = statement_ends(src, &sig[open..])?;
    let head = item.start..sig[open] + 1;
    let mut out = Vec::with_capacity(4);
    out.push(head);
    let mut start = sig[open] + 1;
    for end in ends.into_iter().chain([close]) {
        if offsets.iter().any(|o| (start..end).contains(o)) {
            out.push(start..end);
        }
        start = end;
    }
    out.push(close..item.end);
    Some(out)
}

/// The offsets of the item's code bytes other than white space, in order.
fn significant(src: &[u8], code: &[Range<usize>], item: &Range<usize>) -> Vec<usize> {
    let first = code.partition_point(|g| g.end <= item.start);
    code[first..]
        .iter()
        .take_while(|g| g.start < item.end)
        .flat_map(|g| g.start.max(item.start)..g.end.min(item.end))
        .filter(|&i| !src[i].is_ascii_whitespace())
        .collect()
}

/// The index (in `sig`) of the body's `{`: the first brace outside parentheses, right after a
/// `)` (a function's parameter list, or the last annotation after it).
fn body_open(src: &[u8], sig: &[usize]) -> Option<usize> {
    let mut parens = 0usize;
    for (k, &i) in sig.iter().enumerate() {
        match src[i] {
            b'(' => parens += 1,
            b')' => parens = parens.checked_sub(1)?,
            b'{' if parens == 0 => return (k > 0 && src[sig[k - 1]] == b')').then_some(k),
            b';' | b'=' if parens == 0 => return None,
            _ => {}
        }
    }
    None
}

/// The offsets just after each statement of the body that ends before the closing brace.
/// `sig` starts at the body's `{` and ends at its `}`. `None` when the body's parentheses or
/// braces do not balance.
fn statement_ends(src: &[u8], sig: &[usize]) -> Option<Vec<usize>> {
    let mut ends = Vec::new();
    let mut parens = 0usize;
    // One entry per open brace: whether it opened a block of statements.
    let mut blocks: Vec<bool> = Vec::new();
    let last = sig.len() - 1;
    for k in 1..last {
        let i = sig[k];
        match src[i] {
            b'(' | b'[' => parens += 1,
            b')' | b']' => parens = parens.checked_sub(1)?,
            b'{' => blocks.push(parens == 0 && starts_block(src, sig, k)),
            b'}' => {
                let block = blocks.pop()?;
                if blocks.is_empty() && parens == 0 && block && ends_after_block(src, sig, k) {
                    ends.push(i + 1);
                }
            }
            b';' if blocks.is_empty() && parens == 0 && !continues(src, sig, k) => ends.push(i + 1),
            _ => {}
        }
    }
    (parens == 0 && blocks.is_empty()).then_some(ends)
}

/// Does the `{` at `sig[k]` open a block of statements (not an initializer or a type)?
fn starts_block(src: &[u8], sig: &[usize], k: usize) -> bool {
    let prev = sig[k - 1];
    matches!(src[prev], b')' | b';' | b'{' | b'}' | b':')
        || matches!(word_before(src, prev), Some(b"else" | b"do"))
}

/// After a block's `}` at `sig[k]`, does a new statement start (a word other than `else` or
/// `while`, or a brace)?
fn ends_after_block(src: &[u8], sig: &[usize], k: usize) -> bool {
    let next = sig[k + 1];
    match src[next] {
        b'{' | b'}' => true,
        c if c.is_ascii_alphabetic() || c == b'_' => !continues(src, sig, k),
        _ => false,
    }
}

/// Is the code after `sig[k]` the rest of the same statement (`else`, or a do-loop's `while`)?
fn continues(src: &[u8], sig: &[usize], k: usize) -> bool {
    matches!(word_at(src, sig[k + 1]), b"else" | b"while")
}

/// The word starting at `at` (empty when none does).
fn word_at(src: &[u8], at: usize) -> &[u8] {
    let len = src[at..].iter().take_while(|c| is_ident_byte(**c)).count();
    &src[at..at + len]
}

/// The word ending at `at` (inclusive), if `src[at]` ends one.
fn word_before(src: &[u8], at: usize) -> Option<&[u8]> {
    if !is_ident_byte(src[at]) {
        return None;
    }
    let len = src[..=at]
        .iter()
        .rev()
        .take_while(|c| is_ident_byte(**c))
        .count();
    Some(&src[at + 1 - len..=at])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::lex;

    /// The pieces read for the occurrences of `word`, as text.
    fn pieces(src: &str, word: &str) -> Option<Vec<String>> {
        let b = src.as_bytes();
        let lexed = lex::lex(b);
        let offsets: Vec<usize> = src.match_indices(word).map(|(i, _)| i).collect();
        let code = lexed.code(b.len());
        body_pieces(b, &code, 0..b.len(), &offsets)
            .map(|v| v.into_iter().map(|r| src[r].trim().to_string()).collect())
    }

    #[test]
    fn only_the_statements_holding_the_word_are_read() {
        let src = "static int f(struct mm_struct *mm)\n{\n\tint a = 0;\n\n\tif (a) {\n\t\tg();\n\t} else {\n\t\tWORD(a);\n\t}\n\th();\n\tdo\n\t\tWORD(a);\n\twhile (a);\n\treturn a;\n}\n";
        assert_eq!(
            pieces(src, "WORD").unwrap(),
            [
                "static int f(struct mm_struct *mm)\n{",
                "if (a) {\n\t\tg();\n\t} else {\n\t\tWORD(a);\n\t}",
                "do\n\t\tWORD(a);\n\twhile (a);",
                "}",
            ]
        );
    }

    #[test]
    fn initializers_and_types_inside_a_body_are_not_split() {
        let src = "int f(void)\n{\n\tstruct { int a; int b; } x = { .a = 1, };\n\tWORD(x);\n\tstruct s y = {\n\t\t.f = WORD,\n\t};\n\tif (x.a) g(); else WORD(y);\n}\n";
        assert_eq!(
            pieces(src, "WORD").unwrap(),
            [
                "int f(void)\n{",
                "WORD(x);",
                "struct s y = {\n\t\t.f = WORD,\n\t};",
                "if (x.a) g(); else WORD(y);",
                "}",
            ]
        );
    }

    #[test]
    fn what_the_scan_cannot_follow_keeps_the_whole_item() {
        // A word in the head, a body that is not after `)`, parentheses that do not balance
        // in the body (a conditional in an argument list), an initializer.
        for src in [
            "void WORD(void)\n{\n\tf();\n}\n",
            "int f(a) int a; {\n\tWORD(a);\n}\n",
            "void f(void)\n{\n\tg(a,\n#ifdef X\n\t  b);\n#else\n\t  c);\n#endif\n\tWORD();\n}\n",
            "static struct s v = {\n\t.f = WORD,\n};\n",
        ] {
            assert_eq!(pieces(src, "WORD"), None, "{src}");
        }
    }
}
