//! The Kconfig symbols the conditionals around a file's changed or flagged lines need: what
//! the compile checks enable and switch off, and what an INCOMPLETE line names.

use super::kbuild::{self, ObjectNeeds};
use crate::parse::{directives, lex};
use crate::pipeline::{FileResult, RunResult};
use crate::struct_to_ops::Outcome;

/// CONFIG_ symbols of the `#if`/`#ifdef` conditions (first arms) around the given 1-based
/// lines of a file.
pub(super) fn site_guards(f: &FileResult, lines: impl Iterator<Item = usize>) -> Vec<String> {
    let src = &f.original;
    let lexed = lex::lex(src);
    let dirs = directives::read(src, &lexed);
    let line_starts = line_starts(src);
    let mut out = Vec::new();
    for line in lines {
        let at = line_starts
            .get(line.saturating_sub(1))
            .copied()
            .unwrap_or(src.len());
        guard_symbols(src, &dirs, at, &mut out);
    }
    out
}

/// The `CONFIG_` symbols of the conditionals around offset `at` whose first arm holds it.
pub(super) fn guard_symbols(
    src: &[u8],
    dirs: &directives::Directives,
    at: usize,
    out: &mut Vec<String>,
) {
    for (g, arm) in dirs.guards_at(at) {
        if arm == 0 {
            enabling_symbols(&src[dirs.groups[g].arms[0].line.clone()], out);
        }
    }
}

/// The Kconfig symbols under which the objects of files with sites left on the old API are
/// built (`CONFIG_HMM`), as far as the compile checks resolved them: those their Kbuild lines
/// and `#if` guards name, not the dependencies enabled to reach them.
pub(super) fn left_symbols(
    run: &RunResult,
    resolved: &[Option<(String, kbuild::Toolchain, Vec<ObjectNeeds>)>],
) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let left: Vec<String> = run
        .sites()
        .filter(|(_, s)| s.site.outcome != Outcome::Converted)
        .filter_map(|(f, _)| f.rel.strip_suffix(".c").map(|stem| format!("{stem}.o")))
        .collect();
    for (_, _, objects) in resolved.iter().flatten() {
        for o in objects.iter().filter(|o| left.contains(&o.object)) {
            let direct = o.symbols.iter().filter(|(_, why)| {
                !["dependency of ", "selects ", "condition of select "]
                    .iter()
                    .any(|p| why.starts_with(p))
            });
            for (sym, _) in direct {
                let sym = format!("CONFIG_{sym}");
                if !out.contains(&sym) {
                    out.push(sym);
                }
            }
        }
    }
    out
}

/// CONFIG_ symbols of the `#if`/`#ifdef` conditions around the changed lines of a file
/// (first arms only: an `#else` or `#ifndef` arm wants its symbol off).
pub fn edit_guards(f: &FileResult) -> Vec<String> {
    let Some(new) = &f.new else { return Vec::new() };
    let src = &f.original;
    let lexed = lex::lex(src);
    let dirs = directives::read(src, &lexed);
    let line_starts = line_starts(src);
    let diff = similar::TextDiff::from_lines(&src[..], &new[..]);
    let mut out: Vec<String> = Vec::new();
    let new_lines: Vec<&[u8]> = new.split(|&b| b == b'\n').collect();
    for op in diff.ops() {
        if matches!(op.tag(), similar::DiffTag::Equal) {
            continue;
        }
        // Conditionals the change itself writes (a guarded ops member) must be on too.
        for l in new_lines.get(op.new_range()).unwrap_or(&[]) {
            enabling_symbols(l, &mut out);
        }
        let at = line_starts
            .get(op.old_range().start)
            .copied()
            .unwrap_or(src.len());
        guard_symbols(src, &dirs, at, &mut out);
    }
    out
}

/// The `CONFIG_` words of an `#if`/`#ifdef`/`#elif` line (code under it needs them on; an
/// `#ifndef` needs them off and adds nothing), each once.
pub(super) fn enabling_symbols(line: &[u8], out: &mut Vec<String>) {
    if !matches!(
        directives::directive_word(line).0,
        b"if" | b"ifdef" | b"elif"
    ) {
        return;
    }
    for w in lex::words(line, 0..line.len()) {
        let word = String::from_utf8_lossy(&line[w]).into_owned();
        if word.starts_with("CONFIG_") && !out.contains(&word) {
            out.push(word);
        }
    }
}

/// The offset each line of `src` starts at.
fn line_starts(src: &[u8]) -> Vec<usize> {
    std::iter::once(0)
        .chain(memchr::memchr_iter(b'\n', src).map(|i| i + 1))
        .collect()
}

/// The C condition under which the code at 1-based `line` is compiled, as far as `CONFIG_`
/// symbols decide it: the conjunction of the conditionals around it whose arms name only
/// `CONFIG_` symbols, with `IS_ENABLED(CONFIG_X)` and its kin spelled with `defined`, so that
/// the check scripts evaluate it against a build's `.config` with the preprocessor alone.
/// A conditional on anything else (`__x86_64__`, `MODULE`) is left out: the check cannot
/// tell, and does not guess. Empty: compiled whenever its object is.
pub(super) fn site_condition(f: &FileResult, line: usize) -> String {
    let src = &f.original;
    let lexed = lex::lex(src);
    let dirs = directives::read(src, &lexed);
    let at = line_starts(src)
        .get(line.saturating_sub(1))
        .copied()
        .unwrap_or(src.len());
    let mut conj: Vec<String> = Vec::new();
    for (g, arm) in dirs.guards_at(at) {
        let arms = &dirs.groups[g].arms;
        let mut parts: Vec<String> = Vec::new();
        let mut known = true;
        for (i, a) in arms.iter().enumerate().take(arm + 1) {
            match arm_condition(&src[a.line.clone()]) {
                Some(c) if i < arm => parts.push(format!("!({c})")),
                Some(c) => parts.push(format!("({c})")),
                None if i == arm
                    && directives::directive_word(&src[a.line.clone()]).0 == b"else" => {}
                None => known = false,
            }
        }
        if known && !parts.is_empty() {
            conj.push(parts.join(" && "));
        }
    }
    conj.join(" && ")
}

/// An `#if`/`#ifdef`/`#ifndef`/`#elif` line's condition on `CONFIG_` symbols alone, spelled
/// with `defined`; `None` for `#else` and for a condition on anything else.
fn arm_condition(line: &[u8]) -> Option<String> {
    let (word, rest) = directives::directive_word(line);
    let rest = String::from_utf8_lossy(rest).replace("\\\n", " ");
    let rest = strip_comments(&rest);
    let rest = rest.trim();
    let cond = match word {
        b"ifdef" | b"elifdef" => format!("defined({rest})"),
        b"ifndef" | b"elifndef" => format!("!defined({rest})"),
        b"if" | b"elif" => kconfig_macros(rest),
        _ => return None,
    };
    let only_config = cond
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| w.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_'))
        .all(|w| w == "defined" || w.starts_with("CONFIG_"));
    (only_config && cond.contains("CONFIG_")).then_some(cond)
}

/// `IS_ENABLED(CONFIG_X)`, `IS_BUILTIN`, `IS_MODULE`, `IS_REACHABLE` as `defined` tests of
/// what the kernel's autoconf.h defines (`CONFIG_X` for =y, `CONFIG_X_MODULE` for =m).
fn kconfig_macros(cond: &str) -> String {
    static RE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(
            r"\b(IS_ENABLED|IS_REACHABLE|IS_BUILTIN|IS_MODULE)\s*\(\s*(CONFIG_\w+)\s*\)",
        )
        .expect("valid regex")
    });
    RE.replace_all(cond, |c: &regex::Captures| {
        let s = &c[2];
        match &c[1] {
            "IS_BUILTIN" => format!("defined({s})"),
            "IS_MODULE" => format!("defined({s}_MODULE)"),
            _ => format!("(defined({s}) || defined({s}_MODULE))"),
        }
    })
    .into_owned()
}

/// A directive's text without its `/* */` and `//` comments.
fn strip_comments(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("/*").into_iter().chain(rest.find("//")).min() {
        out.push_str(&rest[..i]);
        if rest[i..].starts_with("//") {
            return out;
        }
        rest = rest[i + 2..].split_once("*/").map_or("", |(_, r)| r);
        out.push(' ');
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_of_config_symbols_only() {
        assert_eq!(
            arm_condition(b"#ifdef CONFIG_HMM /* why */").as_deref(),
            Some("defined(CONFIG_HMM)")
        );
        assert_eq!(
            arm_condition(b"#if IS_ENABLED(CONFIG_A) && !defined(CONFIG_B)").as_deref(),
            Some("(defined(CONFIG_A) || defined(CONFIG_A_MODULE)) && !defined(CONFIG_B)")
        );
        assert_eq!(
            arm_condition(b"#ifndef CONFIG_X").as_deref(),
            Some("!defined(CONFIG_X)")
        );
        // Not only Kconfig decides: no guess.
        assert_eq!(
            arm_condition(b"#if defined(CONFIG_A) && defined(__x86_64__)"),
            None
        );
        assert_eq!(arm_condition(b"#ifdef MODULE"), None);
        assert_eq!(arm_condition(b"#else"), None);
    }
}
