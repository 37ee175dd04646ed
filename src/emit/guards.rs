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
