//! A light C lexer over bytes: where comments, string/char literals and directive lines are,
//! so that later text scans (directives, macro names) never look inside them.

use std::ops::Range;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Span {
    Comment,
    Literal,
    /// A preprocessor directive line, continuation lines included (without the final newline).
    Directive,
}

/// Comment, literal and directive ranges in file order, plus a per-byte "is code" query.
#[derive(Debug, Default, Clone)]
pub struct Lexed {
    pub spans: Vec<(Span, Range<usize>)>,
    /// A block comment runs off the end of the file: the file is not well-formed C.
    pub unterminated_comment: bool,
    /// The code words, found once when first asked for (a proof asks about several names).
    words: std::cell::OnceCell<Vec<Range<usize>>>,
}

impl Lexed {
    /// Code ranges: the gaps between comments, literals and directives.
    pub fn code(&self, len: usize) -> Vec<Range<usize>> {
        let mut at = 0;
        let mut gaps = Vec::new();
        for (_, r) in &self.spans {
            if r.start > at {
                gaps.push(at..r.start);
            }
            at = at.max(r.end);
        }
        gaps.push(at..len);
        gaps
    }

    /// Is `r` inside a comment or literal (touching neither its start nor its end)? An edit
    /// there would change text the compiler never reads as code.
    pub fn inside_text(&self, r: &Range<usize>) -> bool {
        self.strictly_in_text(r.start) || self.strictly_in_text(r.end)
    }

    /// Is `at` strictly inside a comment or literal? The spans are disjoint and in file order,
    /// so only the last one starting before `at` can hold it (a binary search: callers ask
    /// this for every word of a file).
    fn strictly_in_text(&self, at: usize) -> bool {
        let i = self.spans.partition_point(|(_, s)| s.start < at);
        i > 0 && {
            let (k, s) = &self.spans[i - 1];
            *k != Span::Directive && at < s.end
        }
    }

    /// Identifier-like words of the code (outside comments, literals and directives).
    pub fn code_words<'a>(&'a self, src: &'a [u8]) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.code_word_ranges(src)
            .iter()
            .map(move |w| &src[w.clone()])
    }

    /// Where the code words are, in file order (`src` must be the text this was lexed from).
    pub fn code_word_ranges(&self, src: &[u8]) -> &[Range<usize>] {
        self.words.get_or_init(|| {
            self.code(src.len())
                .into_iter()
                .flat_map(|g| words(src, g))
                .collect()
        })
    }

    /// Every comment in file order: the comment spans, and the comments inside directive
    /// lines (`#endif /* CONFIG_X */`), which the directive spans hold.
    pub fn all_comments(&self, src: &[u8]) -> Vec<Range<usize>> {
        let mut out = Vec::new();
        for (k, r) in &self.spans {
            match k {
                Span::Comment => out.push(r.clone()),
                Span::Directive => out.extend(directive_comments(src, r.clone())),
                Span::Literal => {}
            }
        }
        out
    }

    pub fn directives(&self) -> impl Iterator<Item = Range<usize>> + '_ {
        self.spans
            .iter()
            .filter(|(k, _)| *k == Span::Directive)
            .map(|(_, r)| r.clone())
    }
}

pub fn lex(src: &[u8]) -> Lexed {
    let mut out = Lexed::default();
    let n = src.len();
    let mut i = 0;
    let mut line_start = true; // only whitespace seen since the last newline
    while i < n {
        let c = src[i];
        match c {
            b'\n' => {
                line_start = true;
                i += 1;
            }
            b' ' | b'\t' | b'\r' | b'\x0c' | b'\x0b' => i += 1,
            b'#' if line_start => {
                let start = i;
                let include = is_include(src, start);
                // A directive runs to the first newline not escaped by a backslash; comments
                // inside it may span lines too.
                while i < n && src[i] != b'\n' {
                    if src[i] == b'\\' && i + 1 < n && src[i + 1] == b'\n' {
                        i += 2;
                    } else if src[i] == b'\\'
                        && i + 2 < n
                        && src[i + 1] == b'\r'
                        && src[i + 2] == b'\n'
                    {
                        i += 3;
                    } else if src[i] == b'/' && i + 1 < n && src[i + 1] == b'*' {
                        i = block_comment_end(src, i, &mut out.unterminated_comment);
                    } else if src[i] == b'"' || src[i] == b'\'' {
                        i = literal_end(src, i, n, src[i]);
                    } else if include && src[i] == b'<' {
                        i = literal_end(src, i, n, b'>');
                    } else {
                        i += 1;
                    }
                }
                let mut end = i;
                if end > start && src[end - 1] == b'\r' {
                    end -= 1;
                }
                out.spans.push((Span::Directive, start..end));
            }
            b'/' if i + 1 < n && src[i + 1] == b'*' => {
                let end = block_comment_end(src, i, &mut out.unterminated_comment);
                out.spans.push((Span::Comment, i..end));
                i = end;
            }
            b'/' if i + 1 < n && src[i + 1] == b'/' => {
                let start = i;
                while i < n && src[i] != b'\n' {
                    if src[i] == b'\\' && i + 1 < n && src[i + 1] == b'\n' {
                        i += 1;
                    }
                    i += 1;
                }
                out.spans.push((Span::Comment, start..i));
            }
            b'"' | b'\'' => {
                let start = i;
                i += 1;
                while i < n && src[i] != c && src[i] != b'\n' {
                    if src[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                i = (i + 1).min(n);
                out.spans.push((Span::Literal, start..i));
                line_start = false;
            }
            _ => {
                line_start = false;
                i += 1;
                // Code: nothing matters until a line break, a comment or a literal (a `#` is
                // a directive only first on its line).
                while i < n && !STARTS_SPAN[src[i] as usize] {
                    i += 1;
                }
            }
        }
    }
    out
}

/// The bytes that can end a run of code: a line break, `/` (a comment), a quote.
const STARTS_SPAN: [bool; 256] = {
    let mut t = [false; 256];
    t[b'\n' as usize] = true;
    t[b'/' as usize] = true;
    t[b'"' as usize] = true;
    t[b'\'' as usize] = true;
    t
};

/// [`is_ident_byte`]'s table.
const IDENT: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = c == b'_' || c.is_ascii_alphanumeric();
        b += 1;
    }
    t
};

/// The comments inside one directive span (string literals skipped; a `//` comment runs to
/// the end of the directive).
fn directive_comments(src: &[u8], r: Range<usize>) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut i = r.start;
    let mut unterminated = false;
    let include = is_include(src, r.start);
    while i < r.end {
        match src[i] {
            b'"' | b'\'' => i = literal_end(src, i, r.end, src[i]),
            b'<' if include => i = literal_end(src, i, r.end, b'>'),
            b'/' if src.get(i + 1) == Some(&b'*') => {
                let end = block_comment_end(src, i, &mut unterminated).min(r.end);
                out.push(i..end);
                i = end;
            }
            b'/' if src.get(i + 1) == Some(&b'/') => {
                out.push(i..r.end);
                i = r.end;
            }
            _ => i += 1,
        }
    }
    out
}

/// The end of the string or character literal (or `<header>` name) opening at `start` in a
/// directive: its closing `q`, else the end of its line, as the preprocessor reads an
/// unterminated one (`#error don't`).
fn literal_end(src: &[u8], start: usize, limit: usize, q: u8) -> usize {
    let mut i = start + 1;
    while i < limit && src[i] != q && src[i] != b'\n' {
        i += 1 + usize::from(src[i] == b'\\');
    }
    if i < limit && src[i] == q {
        i + 1
    } else {
        i.min(limit)
    }
}

/// Does the directive at `hash` name a header (`#include`, `#include_next`, `#import`)? Then
/// `/*` inside its `<...>` opens no comment.
fn is_include(src: &[u8], hash: usize) -> bool {
    let rest = &src[hash + 1..];
    let k = rest
        .iter()
        .take_while(|&&b| b == b' ' || b == b'\t')
        .count();
    rest[k..].starts_with(b"include") || rest[k..].starts_with(b"import")
}

/// The end of the block comment opening at `start`; the end of the file, with `unterminated`
/// set, when it never closes (in code and inside a directive alike).
fn block_comment_end(src: &[u8], start: usize, unterminated: &mut bool) -> usize {
    match memchr::memmem::find(&src[start + 2..], b"*/") {
        Some(k) => start + 2 + k + 2,
        None => {
            *unterminated = true;
            src.len()
        }
    }
}

/// A byte of a C identifier (or of a number): read from a table, since the word scan asks
/// it of every byte of a file.
#[inline]
pub fn is_ident_byte(b: u8) -> bool {
    IDENT[b as usize]
}

/// Byte ranges of identifier-like words in `src[range]`.
pub fn words(src: &[u8], range: Range<usize>) -> impl Iterator<Item = Range<usize>> + '_ {
    let mut i = range.start;
    let end = range.end.min(src.len());
    std::iter::from_fn(move || {
        while i < end {
            while i < end && !is_ident_byte(src[i]) {
                i += 1;
            }
            let s = i;
            while i < end && is_ident_byte(src[i]) {
                i += 1;
            }
            // A run that starts before the range continues a word; one starting with a digit
            // is a number.
            let continues = s > 0 && is_ident_byte(src[s - 1]);
            if s < i && !continues && !src[s].is_ascii_digit() {
                return Some(s..i);
            }
        }
        None
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_directives_comments_and_literals() {
        let src = b"#ifdef X\nint a; /* #if */ char *s = \"#x\";\n  #define Y \\\n 1\n// c\n";
        let l = lex(src);
        let kinds: Vec<_> = l.spans.iter().map(|(k, r)| (*k, &src[r.clone()])).collect();
        assert_eq!(
            kinds,
            vec![
                (Span::Directive, &b"#ifdef X"[..]),
                (Span::Comment, &b"/* #if */"[..]),
                (Span::Literal, &b"\"#x\""[..]),
                (Span::Directive, &b"#define Y \\\n 1"[..]),
                (Span::Comment, &b"// c"[..]),
            ]
        );
        assert!(!l.unterminated_comment);
    }

    #[test]
    fn comments_inside_directives_are_found_too() {
        let src = b"#endif /* CONFIG_X */\n#include \"a/*b\" // two\n#include <a/*b>\nint a; // c\n#define Y 1 /* l\n m */\n";
        let l = lex(src);
        let got: Vec<&[u8]> = l.all_comments(src).into_iter().map(|r| &src[r]).collect();
        assert_eq!(
            got,
            vec![
                &b"/* CONFIG_X */"[..],
                &b"// two"[..],
                &b"// c"[..],
                &b"/* l\n m */"[..]
            ]
        );
    }

    #[test]
    fn a_comment_that_never_closes_is_noticed_in_code_and_in_directives() {
        assert!(lex(b"int a; /* open\nint b;\n").unterminated_comment);
        assert!(lex(b"#define X 1 /* open\nint b;\n").unterminated_comment);
        assert!(lex(b"int a; /*/\n").unterminated_comment);
        assert!(!lex(b"#define X 1 /* two\n lines */\nint a; /**/\n").unterminated_comment);
    }
}
