//! `--compat`: which rules can write the new form beside the old (under a kernel version
//! check) instead of replacing it, and the pieces every kind writes and recognises that code
//! with: the `#if LINUX_VERSION_CODE >= KERNEL_VERSION(…)` / `#else` / `#endif` frame,
//! `#include <linux/version.h>`, and the arms of the version checks a file already has.

use std::io::Write;
use std::ops::Range;

use crate::edit::{Edit, EditSet};
use crate::parse::lex::words;
use crate::parse::{Parsed, line_end, line_start};
use crate::rule::{Rule, Since};

/// Words of a conditional that make it a kernel version check.
const VERSION_WORDS: &[&[u8]] = &[b"LINUX_VERSION_CODE", b"KERNEL_VERSION"];

/// How `--compat` runs one rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The new form under a check for this version, the old one under `#else`.
    Check(Since),
    /// The new form builds on every kernel the rule knows: written alone, as without
    /// `--compat`.
    Plain,
}

/// The mode `--compat` runs `rule` in, or why it cannot.
pub fn mode(rule: &Rule) -> Result<Mode, String> {
    if rule.everywhere {
        return Ok(Mode::Plain);
    }
    let Some(since) = rule.since else {
        return Err("the rule file does not say the kernel version its new API arrived in (`since = \"x.y.z\"`)".into());
    };
    if !rule.kind.writes_compat() && !rule.kind.compat_by_frames() {
        return Err(format!(
            "the {} kind cannot write both forms yet",
            rule.kind.name()
        ));
    }
    Ok(Mode::Check(since))
}

/// The rules `--compat` can run, each skipped one told on `err` with why; an error when none
/// is left.
pub fn choose(rules: Vec<Rule>, err: &mut dyn Write) -> anyhow::Result<Vec<Rule>> {
    let mut kept = Vec::new();
    for r in rules {
        match mode(&r) {
            Ok(_) => kept.push(r),
            Err(why) => writeln!(err, "kcodemod: rule {}: skipped for --compat: {why}", r.id)?,
        }
    }
    if kept.is_empty() {
        anyhow::bail!("--compat: no rule can write both forms (see above)");
    }
    Ok(kept)
}

/// Under `--target`: make `bytes` include the header the rule's new API lives in there, under
/// the version check (the header may not exist before), after the file's last include (and so
/// after `<linux/version.h>`).
pub fn add_framed_include(
    rule: &Rule,
    target: &crate::includes::Target,
    since: Since,
    bytes: &mut Vec<u8>,
) {
    let Some(header) = rule.target.as_ref().and_then(|t| t.include.as_deref()) else {
        return;
    };
    if crate::includes::include_edit(bytes, header, Some(target)).is_none() {
        return;
    }
    let Some(at) = crate::includes::after_last_include(bytes) else {
        return;
    };
    let text = format!("{}\n#include <{header}>\n#endif\n", since.check());
    *bytes = EditSet::new(vec![Edit::insert(at, text)])
        .expect("one edit")
        .apply(bytes);
}

/// Is `at` in code only kernels before `since` compile: the arm of `#if LINUX_VERSION_CODE <
/// KERNEL_VERSION(x)`, or the `#else` of `#if LINUX_VERSION_CODE >= KERNEL_VERSION(x)`, for an
/// `x` no later than `since`? Old-API code there is right as it is.
pub fn old_kernels_only(src: &[u8], parsed: &Parsed, at: usize, since: Since) -> bool {
    parsed.directives.groups.iter().any(|g| {
        let Some(i) = g.arms.iter().position(|a| a.body.contains(&at)) else {
            return false;
        };
        let check = |k: usize| version_test(&src[g.arms[k].line.clone()]);
        match (i, check(0)) {
            (0, Some((false, x))) => x <= since,
            (1, Some((true, x))) if g.arms.len() == 2 => x <= since,
            _ => false,
        }
    })
}

/// `#if LINUX_VERSION_CODE >= KERNEL_VERSION(a, b, c)` → `(true, a.b.c)`; `<` → false.
fn version_test(line: &[u8]) -> Option<(bool, Since)> {
    let text = String::from_utf8_lossy(line);
    let t: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let rest = t
        .strip_prefix("#if")
        .or_else(|| t.strip_prefix("#elif"))?
        .strip_prefix("LINUX_VERSION_CODE")?;
    let (newer, rest) = match rest.strip_prefix(">=") {
        Some(r) => (true, r),
        None => (false, rest.strip_prefix('<')?),
    };
    let args = rest.strip_prefix("KERNEL_VERSION(")?.strip_suffix(')')?;
    let n: Vec<u32> = args.split(',').filter_map(|x| x.parse().ok()).collect();
    match n[..] {
        [a, b, c] => Some((newer, Since(a, b, c))),
        _ => None,
    }
}

/// The bodies of every arm of the file's kernel version checks.
pub fn version_arms(src: &[u8], parsed: &Parsed) -> Vec<Range<usize>> {
    parsed
        .directives
        .groups
        .iter()
        .filter(|g| {
            g.arms
                .iter()
                .any(|a| words(src, a.line.clone()).any(|w| VERSION_WORDS.contains(&&src[w])))
        })
        .flat_map(|g| g.arms.iter().map(|a| a.body.clone()))
        .collect()
}

/// Does `range` stand alone on its lines (nothing else but blanks shares them)? A frame
/// around it would otherwise cut other code.
pub fn alone_on_its_lines(src: &[u8], range: Range<usize>) -> bool {
    let start = line_start(src, range.start);
    let end = line_end(src, range.end);
    let blank = |r: Range<usize>| src[r].iter().all(|b| matches!(b, b' ' | b'\t' | b'\r'));
    blank(start..range.start) && blank(range.end..end)
}

/// `new` under the version check, `old` under `#else`: the text that replaces a construct
/// standing alone on its lines (it starts and ends where the construct does).
pub fn frame(since: Since, new: &[u8], old: &[u8]) -> Vec<u8> {
    let mut out = since.check().into_bytes();
    out.push(b'\n');
    out.extend_from_slice(new);
    out.extend_from_slice(b"\n#else\n");
    out.extend_from_slice(old);
    out.extend_from_slice(b"\n#endif");
    out
}

/// Make `bytes` (a whole new text) include `<linux/version.h>`, unless it does.
pub fn add_include(bytes: &mut Vec<u8>) {
    if let Some(e) = crate::includes::include_edit(bytes, "linux/version.h", None) {
        *bytes = crate::edit::EditSet::new(vec![e])
            .expect("one edit")
            .apply(bytes);
    }
}

/// A rewrite's edits made frames (for a kind whose edits are not frames of their own): each
/// run of whole lines they touch is written twice, the rewritten lines under the version check
/// and the lines as they were under `#else` (a pure insertion under the check alone, a pure
/// deletion under `#if LINUX_VERSION_CODE < …`). Either side of the check is then exactly the
/// file converted or as it was. Err: a run of lines a directive cannot frame (it starts or
/// ends inside a comment, a literal or a macro definition, or holds half a conditional).
pub fn frame_edits(src: &[u8], edits: &EditSet, since: Since) -> Result<Vec<Edit>, String> {
    let lexed = crate::parse::lex::lex(src);
    let mut groups: Vec<(Range<usize>, Vec<Edit>)> = Vec::new();
    for e in edits.edits() {
        let lines = whole_lines(src, e.range.clone());
        match groups.last_mut() {
            Some((r, es)) if lines.start <= r.end => {
                r.end = r.end.max(lines.end);
                es.push(e.clone());
            }
            _ => groups.push((lines, vec![e.clone()])),
        }
    }
    let mut out = Vec::new();
    for (r, es) in groups {
        check_frame(src, &lexed, r.clone())?;
        let old = &src[r.clone()];
        let shifted: Vec<Edit> = es
            .into_iter()
            .map(|e| Edit::replace(e.range.start - r.start..e.range.end - r.start, e.text))
            .collect();
        let new = EditSet::new(shifted).map_err(|o| o.to_string())?.apply(old);
        if new != old {
            out.push(Edit::replace(r, framed_lines(since, &new, old)));
        }
    }
    Ok(out)
}

/// The whole lines an edit touches: an edit that starts at a line start and ends at one (an
/// insertion of whole lines) stays as it is.
fn whole_lines(src: &[u8], r: Range<usize>) -> Range<usize> {
    let start = line_start(src, r.start);
    let at_line_start = |x: usize| x == line_start(src, x);
    let end = if at_line_start(r.end) && (r.end > r.start || r.start == start) {
        r.end
    } else {
        (line_end(src, r.end) + 1).min(src.len())
    };
    start..end
}

/// Can `r` (whole lines) be put under a directive?
fn check_frame(
    src: &[u8],
    lexed: &crate::parse::lex::Lexed,
    r: Range<usize>,
) -> Result<(), String> {
    let line = crate::parse::line_of(src, r.start);
    let inside = |b: usize| {
        lexed.inside_text(&(b..b)) || lexed.directives().any(|d| d.start < b && b <= d.end)
    };
    if inside(r.start) || (r.end > r.start && inside(r.end - 1)) {
        return Err(format!(
            "the lines from {line} start or end inside a comment, a literal or a directive: --compat cannot put them under a version check"
        ));
    }
    let mut depth = 0i32;
    for d in lexed.directives().filter(|d| r.contains(&d.start)) {
        let (word, _) = crate::parse::directives::directive_word(&src[d]);
        match word {
            b"if" | b"ifdef" | b"ifndef" => depth += 1,
            b"endif" => depth -= 1,
            b"else" | b"elif" | b"elifdef" | b"elifndef" if depth == 0 => depth = -1,
            _ => {}
        }
        if depth < 0 {
            break;
        }
    }
    if depth != 0 {
        return Err(format!(
            "the lines from {line} hold part of a conditional: --compat cannot put them under a version check"
        ));
    }
    Ok(())
}

/// The frame of `new` and `old` (whole lines each, or empty); blank lines that end both stay
/// after the frame.
fn framed_lines(since: Since, new: &[u8], old: &[u8]) -> Vec<u8> {
    let nl = |t: &[u8]| {
        let mut t = t.to_vec();
        if !t.is_empty() && !t.ends_with(b"\n") {
            t.push(b'\n');
        }
        t
    };
    let (mut new, mut old) = (nl(new), nl(old));
    let mut tail = Vec::new();
    let blank_end = |t: &[u8]| t.ends_with(b"\n\n") || t == b"\n";
    while (new.is_empty() || blank_end(&new))
        && (old.is_empty() || blank_end(&old))
        && !(new.is_empty() && old.is_empty())
    {
        if !new.is_empty() {
            new.pop();
        }
        if !old.is_empty() {
            old.pop();
        }
        tail.push(b'\n');
    }
    let mut out = Vec::new();
    if new.is_empty() {
        out.extend_from_slice(
            format!(
                "#if LINUX_VERSION_CODE < KERNEL_VERSION({}, {}, {})\n",
                since.0, since.1, since.2
            )
            .as_bytes(),
        );
        out.extend_from_slice(&old);
    } else {
        out.extend_from_slice(since.check().as_bytes());
        out.push(b'\n');
        out.extend_from_slice(&new);
        if !old.is_empty() {
            out.extend_from_slice(b"#else\n");
            out.extend_from_slice(&old);
        }
    }
    out.extend_from_slice(b"#endif\n");
    out.extend_from_slice(&tail);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_tests_are_read() {
        assert_eq!(
            version_test(b"#if LINUX_VERSION_CODE >= KERNEL_VERSION(5, 6, 0)"),
            Some((true, Since(5, 6, 0)))
        );
        assert_eq!(
            version_test(b"#if LINUX_VERSION_CODE < KERNEL_VERSION(5,4,0)"),
            Some((false, Since(5, 4, 0)))
        );
        assert_eq!(version_test(b"#ifdef CONFIG_X"), None);
    }

    #[test]
    fn a_frame_holds_both_forms_in_order() {
        let f = frame(Since(5, 6, 0), b"new;", b"old;");
        assert_eq!(
            String::from_utf8(f).unwrap(),
            "#if LINUX_VERSION_CODE >= KERNEL_VERSION(5, 6, 0)\nnew;\n#else\nold;\n#endif"
        );
    }

    #[test]
    fn code_that_shares_a_line_is_not_alone() {
        let src = b"int a; int b;\n\tint c;\n";
        assert!(!alone_on_its_lines(src, 7..13));
        assert!(alone_on_its_lines(src, 15..21));
    }

    fn framed(src: &str, edits: Vec<Edit>) -> Result<String, String> {
        let set = EditSet::new(edits).unwrap();
        let out = frame_edits(src.as_bytes(), &set, Since(5, 4, 0))?;
        Ok(String::from_utf8(EditSet::new(out).unwrap().apply(src.as_bytes())).unwrap())
    }

    #[test]
    fn edits_become_frames_of_whole_lines() {
        let src = "int a;\nint f(void)\n{\n\tstruct w w = { 1 };\n\n\tcall(&w);\n}\n";
        let del = src.find("\tstruct").unwrap()..src.find("\n\tcall").unwrap();
        let call = src.find("&w").unwrap()..src.find("&w").unwrap() + 2;
        let ins = src.find("int f").unwrap();
        let got = framed(
            src,
            vec![
                Edit::insert(ins, "static int ops;\n\n"),
                Edit::delete(del),
                Edit::replace(call, "&ops"),
            ],
        )
        .unwrap();
        assert_eq!(
            got,
            "int a;\n#if LINUX_VERSION_CODE >= KERNEL_VERSION(5, 4, 0)\nstatic int ops;\n#endif\n\n\
             int f(void)\n{\n#if LINUX_VERSION_CODE < KERNEL_VERSION(5, 4, 0)\n\tstruct w w = { 1 };\n#endif\n\n\
             #if LINUX_VERSION_CODE >= KERNEL_VERSION(5, 4, 0)\n\tcall(&ops);\n#else\n\tcall(&w);\n#endif\n}\n"
        );
    }

    #[test]
    fn lines_that_open_a_comment_or_half_a_conditional_are_refused() {
        let src = "int x; /* a\n b */\n";
        assert!(framed(src, vec![Edit::replace(0..5, "long x")]).is_err());
        let src = "#ifdef A\nint x;\n#else\nint y;\n#endif\n";
        let at = src.find("int x").unwrap();
        let e = Edit::replace(at..src.find("int y").unwrap() + 5, "int z;\n#else\nint w");
        assert!(framed(src, vec![e]).is_err());
    }
}
