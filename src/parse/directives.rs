//! Preprocessor conditionals read from the text: groups (`#if` … `#endif`) and their arms, so
//! that every byte knows which conditions enclose it. tree-sitter cannot place a directive
//! inside an initializer, so guards are data kept beside the tree, not read from it.

use std::ops::Range;

use super::lex::Lexed;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arm {
    /// The directive line that opens the arm (`#ifdef X`, `#elif Y`, `#else`), as written.
    pub line: Range<usize>,
    /// The bytes the arm governs: after its directive line up to the next directive of the group.
    pub body: Range<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub arms: Vec<Arm>,
    /// The `#endif` line.
    pub end: Range<usize>,
    /// `#if 0`: arm 0 is dead in every configuration.
    pub if_zero: bool,
    /// Index of the enclosing group and arm, if any.
    pub parent: Option<(usize, usize)>,
}

impl Group {
    pub fn span(&self) -> Range<usize> {
        self.arms[0].line.start..self.end.end
    }
    pub fn has_else(&self) -> bool {
        self.arms.len() > 1
    }
}

#[derive(Debug, Default, Clone)]
pub struct Directives {
    pub groups: Vec<Group>,
    /// Directive lines that are not conditionals (`#define`, `#include`, …) are not kept here.
    pub unbalanced: Vec<Range<usize>>,
}

#[derive(PartialEq)]
enum Kw {
    If,
    Elif,
    Else,
    Endif,
    Other,
}

/// The directive's word (`ifdef`, `define`, …) and what follows it, of a line starting at its
/// `#` (after optional indentation); empty when the line is not a directive.
pub fn directive_word(line: &[u8]) -> (&[u8], &[u8]) {
    let t = line.trim_ascii_start();
    let Some(t) = t.strip_prefix(b"#") else {
        return (b"", line);
    };
    let t = t.trim_ascii_start();
    let n = t
        .iter()
        .position(|b| !b.is_ascii_alphanumeric() && *b != b'_')
        .unwrap_or(t.len());
    t.split_at(n)
}

fn keyword(text: &[u8]) -> (Kw, bool) {
    let (w, rest) = directive_word(text);
    let kw = match w {
        b"if" | b"ifdef" | b"ifndef" => Kw::If,
        b"elif" | b"elifdef" | b"elifndef" => Kw::Elif,
        b"else" => Kw::Else,
        b"endif" => Kw::Endif,
        _ => Kw::Other,
    };
    let zero = w == b"if" && {
        let r = rest.trim_ascii();
        r == b"0" || r.starts_with(b"0 ") || r.starts_with(b"0\t") || r.starts_with(b"0/")
    };
    (kw, zero)
}

pub fn read(src: &[u8], lexed: &Lexed) -> Directives {
    let mut out = Directives::default();
    let mut stack: Vec<usize> = Vec::new();
    for line in lexed.directives() {
        let (kw, zero) = keyword(&src[line.clone()]);
        let next_line = line.end + usize::from(line.end < src.len());
        match kw {
            Kw::If => {
                let parent = stack.last().map(|&g| (g, out.groups[g].arms.len() - 1));
                out.groups.push(Group {
                    arms: vec![Arm {
                        line: line.clone(),
                        body: next_line..next_line,
                    }],
                    end: 0..0,
                    if_zero: zero,
                    parent,
                });
                stack.push(out.groups.len() - 1);
            }
            Kw::Elif | Kw::Else => match stack.last() {
                Some(&g) => {
                    let arms = &mut out.groups[g].arms;
                    arms.last_mut().unwrap().body.end = line.start;
                    arms.push(Arm {
                        line: line.clone(),
                        body: next_line..next_line,
                    });
                }
                None => out.unbalanced.push(line.clone()),
            },
            Kw::Endif => match stack.pop() {
                Some(g) => {
                    out.groups[g].arms.last_mut().unwrap().body.end = line.start;
                    out.groups[g].end = line.clone();
                }
                None => out.unbalanced.push(line.clone()),
            },
            Kw::Other => {}
        }
    }
    for g in stack {
        out.unbalanced.push(out.groups[g].arms[0].line.clone());
        let end = src.len();
        out.groups[g].arms.last_mut().unwrap().body.end = end;
        out.groups[g].end = end..end;
    }
    out
}

impl Directives {
    /// The (group, arm) pairs enclosing `offset`, outermost first.
    pub fn guards_at(&self, offset: usize) -> Vec<(usize, usize)> {
        let mut out: Vec<(usize, usize)> = Vec::new();
        for (g, group) in self.groups.iter().enumerate() {
            if let Some(a) = group
                .arms
                .iter()
                .position(|a| a.body.start <= offset && offset < a.body.end)
            {
                out.push((g, a));
            }
        }
        out
    }

    /// Groups lying wholly inside `range`.
    pub fn groups_within(&self, range: &Range<usize>) -> Vec<usize> {
        (0..self.groups.len())
            .filter(|&g| {
                let s = self.groups[g].span();
                range.start <= s.start && s.end <= range.end
            })
            .collect()
    }

    /// Every conditional directive line (opener, arms, endif).
    pub fn lines(&self) -> impl Iterator<Item = Range<usize>> + '_ {
        self.groups
            .iter()
            .flat_map(|g| {
                g.arms
                    .iter()
                    .map(|a| a.line.clone())
                    .chain(std::iter::once(g.end.clone()))
            })
            .chain(self.unbalanced.iter().cloned())
    }
}

#[cfg(test)]
mod tests {
    use super::super::lex::lex;
    use super::*;

    #[test]
    fn nested_groups_and_arms() {
        let src = b"a\n#ifdef X\nb\n#if 0\nc\n#endif\n#else\nd\n#endif\ne\n";
        let d = read(src, &lex(src));
        assert_eq!(d.groups.len(), 2);
        let x = &d.groups[0];
        assert_eq!(x.arms.len(), 2);
        assert_eq!(&src[x.arms[0].body.clone()], b"b\n#if 0\nc\n#endif\n");
        assert_eq!(&src[x.arms[1].body.clone()], b"d\n");
        assert!(d.groups[1].if_zero);
        assert_eq!(d.groups[1].parent, Some((0, 0)));
        let c = src.iter().position(|&b| b == b'c').unwrap();
        assert_eq!(d.guards_at(c), vec![(0, 0), (1, 0)]);
        assert_eq!(d.guards_at(0), vec![]);
    }
}
