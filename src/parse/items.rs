//! Top-level items, and parsing only some of them.
//!
//! A kind whose proof is about a few file-scope items (a struct's definition, the functions
//! that name it) need not parse the whole file. A brace-depth scan of the code (comments,
//! literals and directive lines skipped, as the lexer finds them) splits the file where an
//! item may end: after a `;` at depth 0, and after a `}` that closes depth 0 and ends its line
//! (a function body; `} name;` and `};` go on to their `;`). tree-sitter then parses the
//! chosen items as one text (its included ranges), every node at its offset in the file.
//!
//! A wrong split costs precision, never correctness: every occurrence a kind reasons about is
//! counted lexically as well, and a name the partial tree does not show as the kind expects is
//! flagged, as in a whole parse. A file whose braces do not balance (a conditional that opens
//! a block in each arm) is not split: it is parsed whole.

use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;

use super::lex::{self, Lexed};
use super::{Macros, ParseFailure, Parsed, Points, Prepared};
use crate::model::{Code, Flag};

/// Where items may end: sorted offsets, the first 0 and the last the file's length.
#[derive(Debug)]
pub struct Items {
    ends: Vec<usize>,
}

impl Items {
    /// Split `src`; `None` when its braces do not balance.
    pub fn split(src: &[u8], lexed: &Lexed) -> Option<Items> {
        let mut ends = vec![0];
        let mut depth = 0usize;
        for gap in lexed.code(src.len()) {
            let at = gap.start;
            for i in memchr::memchr3_iter(b'{', b'}', b';', &src[gap]).map(|k| at + k) {
                match src[i] {
                    b'{' => depth += 1,
                    b'}' => {
                        depth = depth.checked_sub(1)?;
                        if depth == 0 && ends_line(src, i + 1) {
                            ends.push(i + 1);
                        }
                    }
                    b';' if depth == 0 => ends.push(i + 1),
                    _ => {}
                }
            }
        }
        if depth != 0 {
            return None;
        }
        if ends.last() != Some(&src.len()) {
            ends.push(src.len());
        }
        Some(Items { ends })
    }

    /// The item holding offset `at`.
    pub fn around(&self, at: usize) -> Range<usize> {
        let k = self.ends.partition_point(|&e| e <= at);
        let start = self.ends[k.saturating_sub(1)];
        let end = self.ends.get(k).copied().unwrap_or(start);
        start..end
    }

    /// The items holding the offsets, sorted, touching ones joined.
    pub fn cover(&self, offsets: impl IntoIterator<Item = usize>) -> Vec<Range<usize>> {
        join(offsets.into_iter().map(|o| self.around(o)).collect())
    }

    /// [`Items::cover`], but a function item whose body's statements can be told apart is
    /// taken as its pieces ([`super::pieces`]): its head, the statements holding an offset,
    /// its closing brace.
    pub fn cover_pieces(
        &self,
        src: &[u8],
        lexed: &Lexed,
        mut offsets: Vec<usize>,
    ) -> Vec<Range<usize>> {
        offsets.sort_unstable();
        let code = lexed.code(src.len());
        let mut out = Vec::new();
        let mut k = 0;
        while k < offsets.len() {
            let item = self.around(offsets[k]);
            let n = offsets[k..]
                .iter()
                .take_while(|o| item.contains(o))
                .count()
                .max(1);
            match super::pieces::body_pieces(src, &code, item.clone(), &offsets[k..k + n]) {
                Some(pieces) => out.extend(pieces),
                None => out.push(item),
            }
            k += n;
        }
        join(out)
    }
}

/// Parse the items a proof needs: those holding one of the code words `first`, then, with
/// them, those holding a word that `more` finds in that parse (the names the first items
/// register or store). A file whose braces do not balance is parsed whole.
pub fn parse_for(
    src: &[u8],
    timeout: Duration,
    macros: &Arc<Macros>,
    first: &[&[u8]],
    more: impl FnOnce(&Parsed) -> Vec<Vec<u8>>,
) -> Result<Parsed, ParseFailure> {
    let prep = Prepared::new(src, macros);
    let Some(all) = Items::split(src, &prep.lexed) else {
        return prep.parse(None, timeout);
    };
    let ranges = all.cover(word_offsets(src, &prep.lexed, first));
    let mut parsed = prep.parse(Some(ranges.clone()), timeout)?;
    let names = more(&parsed);
    let names: Vec<&[u8]> = names.iter().map(Vec::as_slice).collect();
    let mut wanted = ranges.clone();
    wanted.extend(all.cover(word_offsets(src, &parsed.lexed, &names)));
    let wanted = join(wanted);
    if wanted != ranges {
        parsed.tree = parse_ranges(&parsed.view, Some(&wanted), timeout)?;
        parsed.ranges = Some(wanted);
    }
    Ok(parsed)
}

/// Ranges sorted, touching or overlapping ones joined.
pub fn join(mut ranges: Vec<Range<usize>>) -> Vec<Range<usize>> {
    ranges.sort_by_key(|r| r.start);
    let mut out: Vec<Range<usize>> = Vec::with_capacity(ranges.len());
    for r in ranges {
        match out.last_mut() {
            Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
            _ => out.push(r),
        }
    }
    out
}

/// The body of a `#define` directive (after its name and parameter list); `None` for other
/// directives.
fn macro_body(src: &[u8], r: Range<usize>) -> Option<Range<usize>> {
    let mut w = lex::words(src, r.clone());
    let keyword = w.next()?;
    if &src[keyword] != b"define" {
        return None;
    }
    let name = w.next()?;
    let mut at = name.end;
    if src.get(at) == Some(&b'(') {
        at += src[at..r.end].iter().position(|b| *b == b')')? + 1;
    }
    Some(at..r.end)
}

/// Is the rest of the line after `at` blank (a comment may follow)?
fn ends_line(src: &[u8], at: usize) -> bool {
    let rest = &src[at..];
    match rest.iter().position(|b| *b != b' ' && *b != b'\t') {
        None => true,
        Some(k) => matches!(rest[k], b'\n' | b'\r') || rest[k..].starts_with(b"/"),
    }
}

/// Offsets of the code words (outside comments, literals and directives) equal to one of
/// `words`.
pub fn word_offsets(src: &[u8], lexed: &Lexed, words: &[&[u8]]) -> Vec<usize> {
    lexed
        .code_word_ranges(src)
        .iter()
        .filter(|w| words.contains(&&src[(*w).clone()]))
        .map(|w| w.start)
        .collect()
}

/// Parse only `ranges` (sorted, disjoint) of `text`; `None` parses it whole. No range parses
/// nothing: an empty tree.
pub fn parse_ranges(
    text: &[u8],
    ranges: Option<&[Range<usize>]>,
    timeout: Duration,
) -> Result<tree_sitter::Tree, ParseFailure> {
    parse_ranges_from(text, ranges, None, timeout)
}

/// [`parse_ranges`], reusing `old` (already edited to match `text`) where it can.
pub fn parse_ranges_from(
    text: &[u8],
    ranges: Option<&[Range<usize>]>,
    old: Option<&tree_sitter::Tree>,
    timeout: Duration,
) -> Result<tree_sitter::Tree, ParseFailure> {
    let Some(ranges) = ranges else {
        return super::parse_bytes_from(text, old, timeout);
    };
    if ranges.is_empty() {
        // tree-sitter reads no included range as "all of it".
        return super::parse_bytes(b"", timeout);
    }
    let mut points = Points::new(text);
    let ts: Vec<tree_sitter::Range> = ranges
        .iter()
        .map(|r| tree_sitter::Range {
            start_byte: r.start,
            start_point: points.at(r.start),
            end_byte: r.end,
            end_point: points.at(r.end),
        })
        .collect();
    super::parse_bytes_in(text, &ts, old, timeout)
}

/// The tree a partial `Parsed` would have for `text` (the same items, shifted by `changes`,
/// which must lie inside them): for re-reading an edited file the way it was first read.
pub fn shifted(ranges: &[Range<usize>], changes: &[super::Change]) -> Option<Vec<Range<usize>>> {
    let mut out = Vec::with_capacity(ranges.len());
    let mut delta: isize = 0;
    let mut ch = changes.iter().peekable();
    for r in ranges {
        let start = r.start.checked_add_signed(delta)?;
        while let Some(c) = ch.peek() {
            if c.old.start >= r.end && !(c.old.start == r.end && c.old.is_empty()) {
                break;
            }
            if c.old.start < r.start || c.old.end > r.end {
                return None; // a change outside the items: read the file whole
            }
            delta += c.new.len() as isize - c.old.len() as isize;
            ch.next();
        }
        out.push(start..r.end.checked_add_signed(delta)?);
    }
    ch.next().is_none().then_some(out)
}

impl Parsed {
    /// Is this a parse of some items only?
    pub fn partial(&self) -> bool {
        self.ranges.is_some()
    }

    /// The same reading of only those of its items that hold one of `offsets` (a partial
    /// parse; a whole one is kept whole): what a self-check re-reads around its edits.
    pub fn narrowed(&self, offsets: &[usize], timeout: Duration) -> Result<Parsed, ParseFailure> {
        // A whole reading is kept whole, and pieces are re-read only together.
        let Some(rs) = self.ranges.as_ref().filter(|_| !self.pieces) else {
            return Ok(self.clone());
        };
        let ranges: Vec<Range<usize>> = rs
            .iter()
            .filter(|r| offsets.iter().any(|o| r.start <= *o && *o <= r.end))
            .cloned()
            .collect();
        let tree = parse_ranges(&self.view, Some(&ranges), timeout)?;
        Ok(Parsed {
            tree,
            ranges: Some(ranges),
            ..self.clone()
        })
    }

    /// A flag for `word` when the tree does not show every use of it: the code has more of it
    /// than the `seen` occurrences the proof found, or a macro's body names it. What the parser
    /// cannot see would keep the old API.
    pub fn unseen_use(&self, src: &[u8], word: &[u8], seen: usize, code: Code) -> Option<Flag> {
        (self.code_word_count(src, word) != seen || self.in_macro_body(src, word)).then(|| {
            Flag::new(
                code,
                format!(
                    "`{}` is also named where the parser cannot see (a macro)",
                    String::from_utf8_lossy(word)
                ),
            )
        })
    }

    /// How often `word` is a word of the code (outside comments, literals and directives):
    /// what a proof's occurrences in the tree must add up to.
    pub fn code_word_count(&self, src: &[u8], word: &[u8]) -> usize {
        self.lexed.code_words(src).filter(|w| *w == word).count()
    }

    /// Is `at` inside a preprocessor directive (where the tree shows a macro's name, which
    /// the lexical counts leave to [`Parsed::in_macro_body`])?
    pub fn in_a_directive(&self, at: usize) -> bool {
        self.lexed.directives().any(|r| r.contains(&at))
    }

    /// Does a preprocessor directive name `word` (a macro's name or body, a condition)?
    pub fn in_directive(&self, src: &[u8], word: &[u8]) -> bool {
        self.lexed
            .directives()
            .any(|r| lex::words(src, r).any(|w| &src[w] == word))
    }

    /// Does a macro's body name `word`, where it may be used as code the parser cannot see?
    /// (`#define NAME NULL` for another configuration, `#undef NAME` and `#ifdef NAME` do not
    /// use it.)
    pub fn in_macro_body(&self, src: &[u8], word: &[u8]) -> bool {
        self.lexed
            .directives()
            .filter_map(|r| macro_body(src, r))
            .any(|r| lex::words(src, r).any(|w| &src[w] == word))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(src: &str) -> Vec<String> {
        let items = Items::split(src.as_bytes(), &lex::lex(src.as_bytes())).unwrap();
        items
            .ends
            .windows(2)
            .map(|w| src[w[0]..w[1]].trim().to_string())
            .collect()
    }

    #[test]
    fn items_end_after_semicolons_and_bodies_at_depth_0() {
        let src = "#include <x.h>\nstatic int a;\n\nstatic int f(void)\n{\n\tif (a) {\n\t\ta = 1;\n\t}\n\treturn 0;\n}\n\nstatic const struct s v = {\n\t.x = 1, /* } ; */\n};\nstruct t {\n\tint y;\n} w;\n#define M { ;\nint z; /* } */\n";
        assert_eq!(
            split(src),
            [
                "#include <x.h>\nstatic int a;",
                "static int f(void)\n{\n\tif (a) {\n\t\ta = 1;\n\t}\n\treturn 0;\n}",
                "static const struct s v = {\n\t.x = 1, /* } ; */\n};",
                "struct t {\n\tint y;\n} w;",
                "#define M { ;\nint z;",
                "/* } */",
            ]
        );
    }

    #[test]
    fn unbalanced_braces_are_not_split() {
        let src =
            "void f(void)\n{\n#ifdef A\n\tif (a) {\n#else\n\tif (b) {\n#endif\n\t\tg();\n\t}\n}\n";
        assert!(Items::split(src.as_bytes(), &lex::lex(src.as_bytes())).is_none());
        assert!(Items::split(b"}\n", &lex::lex(b"}\n")).is_none());
    }

    #[test]
    fn cover_joins_touching_items() {
        let src = b"int a;\nint b;\nint c;\nint d;\n";
        let items = Items::split(src, &lex::lex(src)).unwrap();
        assert_eq!(items.cover([4, 11, 25]), [0..13, 20..27]);
        assert_eq!(items.around(27), 27..28);
    }

    #[test]
    fn shifted_ranges_follow_changes_inside_them() {
        let c = |o: Range<usize>, n: Range<usize>| super::super::Change { old: o, new: n };
        let rs = [0..10, 20..30];
        assert_eq!(
            shifted(&rs, &[c(2..4, 2..7), c(25..25, 28..30)]),
            Some(vec![0..13, 23..35])
        );
        assert_eq!(shifted(&rs, &[c(12..14, 12..13)]), None);
    }

    #[test]
    fn only_a_macro_body_uses_a_name() {
        let src =
            b"#define f NULL\n#undef f\n#ifdef f\n#endif\n#define g(a) f(a, 1)\n#define h(f) (f)\n";
        let lexed = lex::lex(src);
        let body = |r| macro_body(src, r).map(|b: Range<usize>| &src[b]);
        let dirs: Vec<_> = lexed.directives().collect();
        assert_eq!(body(dirs[0].clone()), Some(&b" NULL"[..]));
        assert_eq!(body(dirs[1].clone()), None);
        assert_eq!(body(dirs[4].clone()), Some(&b" f(a, 1)"[..]));
        assert_eq!(body(dirs[5].clone()), Some(&b" (f)"[..]));
    }

    #[test]
    fn a_partial_parse_keeps_file_offsets() {
        let src = b"int a;\nstatic int f(void)\n{\n\treturn a;\n}\nint b;\n";
        let items = Items::split(src, &lex::lex(src)).unwrap();
        let rs = items.cover([src.len() - 3]);
        let t = parse_ranges(src, Some(&rs), Duration::from_secs(5)).unwrap();
        let root = t.root_node();
        assert!(!root.has_error(), "{}", root.to_sexp());
        let decl = root.named_child(0).unwrap();
        assert_eq!(&src[decl.byte_range()], b"int b;");
        assert_eq!(root.named_child_count(), 1);
    }
}
