//! Conditionals whose arms leave the braces unbalanced (`#ifdef X` / `if (a || b) {` /
//! `#else` / `if (a) {` / `#endif`). With every arm in the view, tree-sitter sees two `{` and
//! invents a `}` far below: every later function is misread. When each arm opens (or closes)
//! as many braces as every other, each configuration has the same block structure, so a view
//! that keeps only the first arm reads the file as one configuration does. This module finds
//! those groups; the view blanks their other arms, offsets kept.

use std::ops::Range;

use super::directives::Directives;
use super::lex::Lexed;

/// Groups whose arms each change the brace depth by the same non-zero amount, every
/// configuration taking one of them (an `#else` is present), outermost last. Dead code (the
/// first arm of `#if 0`) and the later arms of inner groups found so are not counted.
pub fn one_arm_groups(src: &[u8], lexed: &Lexed, dirs: &Directives) -> Vec<usize> {
    let code = lexed.code(src.len());
    let mut blanked: Vec<Range<usize>> = dirs
        .groups
        .iter()
        .filter(|g| g.if_zero)
        .map(|g| g.arms[0].body.clone())
        .collect();
    let mut out = Vec::new();
    // Inner groups are pushed after the groups around them: judge them first.
    for (gi, g) in dirs.groups.iter().enumerate().rev() {
        if g.if_zero || !g.has_else() {
            continue;
        }
        let deltas: Vec<isize> = g
            .arms
            .iter()
            .map(|a| depth_change(src, &code, &a.body, &blanked))
            .collect();
        if deltas[0] != 0 && deltas.iter().all(|d| *d == deltas[0]) {
            out.push(gi);
            blanked.extend(g.arms[1..].iter().map(|a| a.body.clone()));
        }
    }
    out
}

/// The bytes the view blanks for `groups`: every arm but the first.
pub fn later_arms(dirs: &Directives, groups: &[usize]) -> Vec<Range<usize>> {
    groups
        .iter()
        .flat_map(|&g| dirs.groups[g].arms[1..].iter().map(|a| a.body.clone()))
        .collect()
}

/// `{` minus `}` in the code bytes of `arm`, leaving out the `blanked` ranges.
fn depth_change(
    src: &[u8],
    code: &[Range<usize>],
    arm: &Range<usize>,
    blanked: &[Range<usize>],
) -> isize {
    let mut d = 0isize;
    let first = code.partition_point(|g| g.end <= arm.start);
    for gap in code[first..].iter().take_while(|g| g.start < arm.end) {
        let (s, e) = (gap.start.max(arm.start), gap.end.min(arm.end));
        for (i, b) in src[s..e.max(s)].iter().enumerate() {
            let delta = match b {
                b'{' => 1,
                b'}' => -1,
                _ => continue,
            };
            if !blanked.iter().any(|r| r.contains(&(s + i))) {
                d += delta;
            }
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use super::super::{directives, lex::lex};
    use super::*;

    fn groups(src: &str) -> Vec<usize> {
        let l = lex(src.as_bytes());
        let d = directives::read(src.as_bytes(), &l);
        one_arm_groups(src.as_bytes(), &l, &d)
    }

    #[test]
    fn arms_that_each_open_a_block_are_read_one_at_a_time() {
        let src = "void f(void)\n{\n#ifdef A\n\tif (a || b) {\n#else\n\tif (a) {\n#endif\n\t\tg();\n\t}\n}\n";
        assert_eq!(groups(src), [0]);
        // The same, closing: `}` in each arm.
        let src = "void f(void)\n{\n\tif (a) {\n#ifdef A\n\t}\n#else\n\t}\n#endif\n}\n";
        assert_eq!(groups(src), [0]);
    }

    #[test]
    fn balanced_or_uneven_arms_are_left_alone() {
        // Balanced arms: nothing to do.
        assert!(groups("#ifdef A\nint a;\n#else\nint b;\n#endif\n").is_empty());
        // No #else: without A the brace is not opened at all.
        assert!(groups("#ifdef A\nif (a) {\n#endif\n}\n").is_empty());
        // Arms that disagree: no configuration-free structure to read.
        assert!(groups("#ifdef A\nif (a) {\n#else\nif (b) {{\n#endif\n").is_empty());
        // Braces in comments and strings do not count; #if 0 is dead.
        assert!(groups("#ifdef A\n/* { */\n#else\nchar *s = \"{\";\n#endif\n").is_empty());
        assert!(groups("#if 0\nif (a) {\n#else\nif (b) {\n#endif\n").is_empty());
    }

    #[test]
    fn inner_groups_are_judged_first() {
        let src =
            "#ifdef A\n#ifdef B\nif (a) {\n#else\nif (b) {\n#endif\n#else\nif (c) {\n#endif\n";
        assert_eq!(groups(src), [1, 0]);
    }
}
