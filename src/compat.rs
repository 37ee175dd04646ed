//! `--compat`: which rules can write the new form beside the old (under a kernel version
//! check) instead of replacing it, and the pieces every kind writes and recognises that code
//! with: the `#if LINUX_VERSION_CODE >= KERNEL_VERSION(…)` / `#else` / `#endif` frame,
//! `#include <linux/version.h>`, and the arms of the version checks a file already has.

use std::io::Write;
use std::ops::Range;

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
    if !rule.kind.writes_compat() {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
