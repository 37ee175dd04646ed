//! The conditionals a generated ops struct sits in, as a reviewer would write them: calls in
//! every arm of one conditional that take the same callbacks share one struct outside it, and
//! a struct needed only in a later arm opens with that arm's own condition (`#ifndef X` for
//! the `#else` of `#ifdef X`) instead of an empty first arm.

use std::collections::{BTreeSet, HashMap};

use super::analyse::Wrap;
use crate::parse::Directives;
use crate::parse::directives::directive_word;

/// For each wrap list of `used` (the conditionals around calls that take one set of
/// callbacks), the list its ops struct is written in: arms that together cover every
/// configuration of their conditional (an `#else` among them) fold into what is around it,
/// and a list inside another one used is served by that one's struct.
pub fn shared(
    src: &[u8],
    dirs: &Directives,
    used: &BTreeSet<Vec<Wrap>>,
) -> HashMap<Vec<Wrap>, Vec<Wrap>> {
    let mut kept: BTreeSet<Vec<Wrap>> = used.clone();
    while let Some((folded, outer)) = foldable(src, dirs, &kept) {
        kept.retain(|w| !folded.contains(w));
        kept.insert(outer);
    }
    while let Some((joined, one)) = joinable(&kept) {
        kept.retain(|w| !joined.contains(w));
        kept.insert(one);
    }
    used.iter()
        .map(|w| {
            let to = kept
                .iter()
                .filter(|k| is_prefix(k, w))
                .min_by_key(|k| k.len())
                .cloned()
                .unwrap_or_else(|| w.clone());
            (w.clone(), to)
        })
        .collect()
}

/// Arms of one conditional that do not cover every configuration, with what is around them
/// alike: one struct under the disjunction of their conditions serves them all.
fn joinable(kept: &BTreeSet<Vec<Wrap>>) -> Option<(Vec<Vec<Wrap>>, Vec<Wrap>)> {
    for w in kept {
        let Some((last, outer)) = w.split_last() else {
            continue;
        };
        if last.serves.is_some() {
            continue;
        }
        let siblings: Vec<Vec<Wrap>> = kept
            .iter()
            .filter(|x| x.len() == w.len() && is_prefix(outer, x))
            .filter(|x| {
                x.last()
                    .is_some_and(|l| l.group == last.group && l.serves.is_none())
            })
            .cloned()
            .collect();
        if siblings.len() < 2 {
            continue;
        }
        // The last arm's wrap holds the lines of every arm before it.
        let top = siblings
            .iter()
            .map(|x| &x[x.len() - 1])
            .max_by_key(|l| l.index)?;
        let arms: Vec<usize> = siblings.iter().map(|x| x[x.len() - 1].index).collect();
        let Some(line) = any_of(top, &arms) else {
            continue;
        };
        let mut one = outer.to_vec();
        one.push(Wrap {
            serves: Some((arms, line)),
            ..top.clone()
        });
        return Some((siblings, one));
    }
    None
}

/// Wrap lists that differ only in their innermost conditional's arm and cover all its arms,
/// with the list around them: the first such set.
fn foldable(
    src: &[u8],
    dirs: &Directives,
    kept: &BTreeSet<Vec<Wrap>>,
) -> Option<(Vec<Vec<Wrap>>, Vec<Wrap>)> {
    for w in kept {
        let Some((last, outer)) = w.split_last() else {
            continue;
        };
        let grp = &dirs.groups[last.group];
        let siblings: Vec<Vec<Wrap>> = kept
            .iter()
            .filter(|x| x.len() == w.len() && is_prefix(outer, x))
            .filter(|x| x.last().is_some_and(|l| l.group == last.group))
            .cloned()
            .collect();
        let arms: BTreeSet<usize> = siblings.iter().map(|x| x[x.len() - 1].index).collect();
        if has_else(src, dirs, last.group) && arms.len() == grp.arms.len() {
            return Some((siblings, outer.to_vec()));
        }
    }
    None
}

/// Does the conditional end in an `#else` (so that some arm is taken in every configuration)?
fn has_else(src: &[u8], dirs: &Directives, g: usize) -> bool {
    let grp = &dirs.groups[g];
    grp.arms.len() > 1
        && grp
            .arms
            .last()
            .is_some_and(|a| directive_word(&src[a.line.clone()]).0 == b"else")
}

/// Is `p` the same conditionals, arm for arm, as the start of `w` (an arm of `w` among
/// those `p` serves)?
fn is_prefix(p: &[Wrap], w: &[Wrap]) -> bool {
    p.len() <= w.len()
        && p.iter().zip(w).all(|(a, b)| {
            a.group == b.group
                && match &a.serves {
                    Some((arms, _)) => arms.contains(&b.index),
                    None => a.index == b.index,
                }
        })
}

/// All arm lines of a wrap up to its own.
fn arm_lines(w: &Wrap) -> Vec<&str> {
    let mut lines: Vec<&str> = vec![&w.open];
    lines.extend(w.between.iter().map(String::as_str));
    lines.extend(w.arm.as_deref());
    lines
}

/// `#if A || B`: one line for the given arms of `top`'s conditional (the arms up to `top`).
fn any_of(top: &Wrap, arms: &[usize]) -> Option<String> {
    let lines = arm_lines(top);
    let mut arms = arms.to_vec();
    arms.sort();
    // The first arms, in order: one of their own conditions holds (`A || B` for `#if A` /
    // `#elif B`); otherwise each arm's whole condition.
    let leading = arms.iter().enumerate().all(|(i, k)| i == *k);
    let terms: Vec<String> = arms
        .iter()
        .map(|&k| match leading {
            true => expression(&lines[k..=k]),
            false => expression(&lines[..=k]).map(|e| match e.contains("&&") {
                true => format!("({e})"),
                false => e,
            }),
        })
        .collect::<Option<_>>()?;
    Some(format!("#if {}", terms.join(" || ")))
}

/// The lines that open a wrap: the arm's own condition when it is not the first arm and its
/// lines can be rewritten, else the conditional's lines as they are (an empty first arm).
pub fn opening(w: &Wrap) -> String {
    if let Some((_, line)) = &w.serves {
        return format!("{line}\n");
    }
    let Some(arm) = &w.arm else {
        return format!("{}\n", w.open);
    };
    match alone(&arm_lines(w)) {
        Some(l) => format!("{l}\n"),
        None => format!("{}\n{arm}\n", w.open),
    }
}

/// One directive line for the last of `lines` (the arm lines of a conditional up to it) alone:
/// `#ifndef X` for the `#else` of `#ifdef X`, `#if !(A) && (B)` for `#if A` / `#elif B`.
/// `None` when a line holds a comment or runs on, which a rewrite would lose.
pub fn alone(lines: &[&str]) -> Option<String> {
    let (last, earlier) = lines.split_last()?;
    if earlier.is_empty() {
        return Some(last.to_string());
    }
    let parts: Vec<(&[u8], &str)> = lines
        .iter()
        .map(|l| condition(l))
        .collect::<Option<Vec<_>>>()?;
    let lw = parts[parts.len() - 1].0;
    if let ([(w, name)], b"else") = (&parts[..parts.len() - 1], lw) {
        match *w {
            b"ifdef" => return Some(format!("#ifndef {name}")),
            b"ifndef" => return Some(format!("#ifdef {name}")),
            _ => {}
        }
    }
    Some(format!("#if {}", expression(lines)?))
}

/// The condition under which the last of `lines` (arm lines up to it) is the arm taken, as
/// a preprocessor expression.
fn expression(lines: &[&str]) -> Option<String> {
    let parts: Vec<(&[u8], &str)> = lines
        .iter()
        .map(|l| condition(l))
        .collect::<Option<Vec<_>>>()?;
    let (last, earlier) = parts.split_last()?;
    let mut terms: Vec<String> = earlier
        .iter()
        .map(|(w, c)| negated(w, c))
        .collect::<Option<Vec<_>>>()?;
    if last.0 != b"else" {
        terms.push(positive(last.0, last.1)?);
    }
    Some(terms.join(" && "))
}

/// A directive line's word and its condition text; `None` when a comment or a continuation
/// is on the line.
fn condition(line: &str) -> Option<(&[u8], &str)> {
    let (w, rest) = directive_word(line.as_bytes());
    let rest = std::str::from_utf8(rest).ok()?.trim();
    if rest.contains("/*") || rest.contains("//") || rest.ends_with('\\') {
        return None;
    }
    Some((w, rest))
}

fn positive(word: &[u8], cond: &str) -> Option<String> {
    match word {
        b"ifdef" => Some(format!("defined({cond})")),
        b"ifndef" => Some(format!("!defined({cond})")),
        b"if" | b"elif" => Some(parenthesised(cond)),
        _ => None,
    }
}

/// `cond` as an operand: parenthesised unless it is one name or one `defined(NAME)`.
fn parenthesised(cond: &str) -> String {
    let name = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    let simple = name(cond)
        || cond
            .strip_prefix("defined(")
            .and_then(|r| r.strip_suffix(')'))
            .is_some_and(|n| name(n.trim()));
    match simple {
        true => cond.to_string(),
        false => format!("({cond})"),
    }
}

fn negated(word: &[u8], cond: &str) -> Option<String> {
    match word {
        b"ifdef" => Some(format!("!defined({cond})")),
        b"ifndef" => Some(format!("defined({cond})")),
        b"if" | b"elif" => Some(format!("!{}", parenthesised(cond))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::{directives, lex};

    fn wrap(src: &[u8], dirs: &Directives, g: usize, index: usize) -> Wrap {
        let line = |r: std::ops::Range<usize>| String::from_utf8(src[r].to_vec()).unwrap();
        let grp = &dirs.groups[g];
        Wrap {
            open: line(grp.arms[0].line.clone()),
            arm: (index > 0).then(|| line(grp.arms[index].line.clone())),
            end: line(grp.end.clone()),
            between: grp.arms[1..index.max(1)]
                .iter()
                .map(|a| line(a.line.clone()))
                .collect(),
            group: g,
            index,
            serves: None,
        }
    }

    #[test]
    fn arms_covering_every_configuration_share_one_struct_outside_them() {
        let src = b"#ifdef A\nx\n#else\ny\n#endif\n#if B\nz\n#elif C\nw\n#endif\n";
        let dirs = directives::read(src, &lex::lex(src));
        let (a0, a1) = (vec![wrap(src, &dirs, 0, 0)], vec![wrap(src, &dirs, 0, 1)]);
        let (b0, b1) = (vec![wrap(src, &dirs, 1, 0)], vec![wrap(src, &dirs, 1, 1)]);
        // #ifdef A and its #else: every configuration, no conditional.
        let used: BTreeSet<Vec<Wrap>> = [a0.clone(), a1.clone()].into();
        let to = shared(src, &dirs, &used);
        assert!(to[&a0].is_empty() && to[&a1].is_empty());
        // One arm alone keeps its conditional.
        let used: BTreeSet<Vec<Wrap>> = [a1.clone()].into();
        assert_eq!(opening(&shared(src, &dirs, &used)[&a1][0]), "#ifndef A\n");
        // #if B / #elif C without #else: one struct under either condition.
        let used: BTreeSet<Vec<Wrap>> = [b0.clone(), b1.clone()].into();
        let to = shared(src, &dirs, &used);
        assert_eq!(to[&b0], to[&b1]);
        assert_eq!(opening(&to[&b0][0]), "#if B || C\n");
    }

    #[test]
    fn a_later_arm_opens_with_its_own_condition() {
        assert_eq!(
            alone(&["#ifdef CONFIG_A", "#else"]).as_deref(),
            Some("#ifndef CONFIG_A")
        );
        assert_eq!(
            alone(&["#ifndef CONFIG_A", "#else"]).as_deref(),
            Some("#ifdef CONFIG_A")
        );
        assert_eq!(
            alone(&["#if A > 1", "#else"]).as_deref(),
            Some("#if !(A > 1)")
        );
        assert_eq!(
            alone(&["#ifdef A", "#elif B", "#else"]).as_deref(),
            Some("#if !defined(A) && !B")
        );
        assert_eq!(
            alone(&["#if A", "#elif defined(B)"]).as_deref(),
            Some("#if !A && defined(B)")
        );
        assert_eq!(alone(&["#ifdef A"]).as_deref(), Some("#ifdef A"));
        let top = Wrap {
            open: "#if defined(A)".into(),
            arm: Some("#elif B > 2".into()),
            end: "#endif".into(),
            between: vec!["#elif defined(C)".into()],
            group: 0,
            index: 2,
            serves: None,
        };
        assert_eq!(
            any_of(&top, &[1, 0]).as_deref(),
            Some("#if defined(A) || defined(C)")
        );
        assert_eq!(
            any_of(&top, &[0, 2]).as_deref(),
            Some("#if defined(A) || (!defined(A) && !defined(C) && (B > 2))")
        );
        // A comment on a line would be lost: the lines stay as written.
        assert_eq!(alone(&["#ifdef A /* why */", "#else"]), None);
        assert_eq!(alone(&["#if A && \\", "#else"]), None);
    }
}
