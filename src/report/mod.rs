//! Reporting: diagnostics on stderr (`path:line: function: why [code]`), unified diffs, JSON
//! Lines records and the summary line.

pub mod progress;

use std::io::{self, Write};

use serde::Serialize;

use crate::pipeline::{FileResult, RunResult};
use crate::struct_to_ops::Outcome;

/// The unified diff of one file, `a/` and `b/` prefixed, as `git apply` takes it.
pub fn file_diff(f: &FileResult) -> Vec<u8> {
    match &f.new {
        Some(new) => path_diff(&raw_rel(f), &f.original, new),
        None => Vec::new(),
    }
}

/// The file's path relative to the tree as bytes, as the file system has it (`rel` is for
/// reading: a name that is not UTF-8 shows U+FFFD there).
pub fn raw_rel(f: &FileResult) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    let n = f.rel.split('/').count();
    let parts: Vec<&[u8]> = f.path.iter().map(|c| c.as_bytes()).collect();
    parts[parts.len().saturating_sub(n)..].join(&b'/')
}

/// A name that is not UTF-8, for JSON records: their `file` (a string) shows such a name with
/// U+FFFD, readable but lossy; `file_bytes` beside it gives the bytes back. None for a UTF-8
/// name, which `file` holds exactly.
pub fn non_utf8(raw: Vec<u8>) -> Option<Vec<u8>> {
    std::str::from_utf8(&raw).is_err().then_some(raw)
}

/// `prefix` and `path` as git writes them in a diff header: as they are, or, when the path
/// holds a `"`, a `\\`, a control or a non-ASCII byte, quoted as one C-style string with
/// `\t`-style and octal escapes (`"a/foo\tbar.c"`), as git does with core.quotePath on (its
/// default); `git apply` reads it back.
pub fn git_quoted(prefix: &str, path: &[u8]) -> Vec<u8> {
    let needs = |b: u8| b < 0x20 || b == b'"' || b == b'\\' || b >= 0x7f;
    let mut out = Vec::with_capacity(prefix.len() + path.len() + 2);
    if !path.iter().any(|&b| needs(b)) {
        out.extend_from_slice(prefix.as_bytes());
        out.extend_from_slice(path);
        return out;
    }
    out.push(b'"');
    for &b in prefix.as_bytes().iter().chain(path) {
        let named = match b {
            0x07 => Some(b'a'),
            0x08 => Some(b'b'),
            b'\t' => Some(b't'),
            b'\n' => Some(b'n'),
            0x0b => Some(b'v'),
            0x0c => Some(b'f'),
            b'\r' => Some(b'r'),
            b'"' | b'\\' => Some(b),
            _ => None,
        };
        match named {
            Some(c) => out.extend_from_slice(&[b'\\', c]),
            None if needs(b) => out.extend_from_slice(format!("\\{b:03o}").as_bytes()),
            None => out.push(b),
        }
    }
    out.push(b'"');
    out
}

/// The unified diff of `rel` from `old` to `new` (a stage of a series of migrations).
pub fn bytes_diff(rel: &str, old: &[u8], new: &[u8]) -> Vec<u8> {
    path_diff(rel.as_bytes(), old, new)
}

/// The unified diff of the file at `rel` (bytes, as the file system has the name).
pub fn path_diff(rel: &[u8], old: &[u8], new: &[u8]) -> Vec<u8> {
    let diff = similar::TextDiff::configure()
        .algorithm(similar::Algorithm::Patience)
        .diff_lines(old, new);
    let (a, b) = (git_quoted("a/", rel), git_quoted("b/", rel));
    // git ends a ---/+++ name holding a space with a tab, so that it reads where it ends.
    let tab: &[u8] = if a.contains(&b' ') { b"\t" } else { b"" };
    let mut out = Vec::new();
    for part in [
        &b"diff --git "[..],
        &a,
        b" ",
        &b,
        b"\n--- ",
        &a,
        tab,
        b"\n+++ ",
        &b,
        tab,
        b"\n",
    ] {
        out.extend_from_slice(part);
    }
    // similar's own writer re-encodes lines as UTF-8 text; kernel files are bytes, so the
    // hunks are written here from the diff's operations, line bytes as they are.
    for group in diff.grouped_ops(3) {
        let (first, last) = (&group[0], &group[group.len() - 1]);
        let old = first.old_range().start..last.old_range().end;
        let newr = first.new_range().start..last.new_range().end;
        let range = |r: &std::ops::Range<usize>| match r.len() {
            0 => format!("{},0", r.start),
            1 => format!("{}", r.start + 1),
            n => format!("{},{}", r.start + 1, n),
        };
        out.extend_from_slice(format!("@@ -{} +{} @@\n", range(&old), range(&newr)).as_bytes());
        for op in &group {
            for change in diff.iter_changes(op) {
                let sign = match change.tag() {
                    similar::ChangeTag::Equal => b' ',
                    similar::ChangeTag::Delete => b'-',
                    similar::ChangeTag::Insert => b'+',
                };
                let line: &[u8] = change.value();
                out.push(sign);
                out.extend_from_slice(line);
                if !line.ends_with(b"\n") {
                    out.extend_from_slice(b"\n\\ No newline at end of file\n");
                }
            }
        }
    }
    out
}

/// Name the rule in diagnostics only when sites of more than one rule were found.
fn several_rules_fired(run: &RunResult) -> bool {
    let mut it = run.sites().map(|(_, s)| s.rule);
    it.next().is_some_and(|first| it.any(|r| r != first))
}

/// Human diagnostics: one line per flagged site, per unreadable path, per skipped file.
pub fn diagnostics(
    run: &RunResult,
    rules: &[crate::rule::Rule],
    w: &mut dyn Write,
    color: bool,
) -> io::Result<()> {
    site_lines(run, rules, w, color, false)
}

/// `check`'s diagnostics: as [`diagnostics`], and every other site too (`would convert`,
/// `compat`), so the list says where each old-API site is, not only a count.
pub fn check_diagnostics(
    run: &RunResult,
    rules: &[crate::rule::Rule],
    w: &mut dyn Write,
    color: bool,
) -> io::Result<()> {
    site_lines(run, rules, w, color, true)
}

fn site_lines(
    run: &RunResult,
    rules: &[crate::rule::Rule],
    w: &mut dyn Write,
    color: bool,
    every_site: bool,
) -> io::Result<()> {
    let paint = |c: anstyle::AnsiColor| match color {
        true => anstyle::Style::new().fg_color(Some(c.into())),
        false => anstyle::Style::new(),
    };
    let (red, yellow) = (
        paint(anstyle::AnsiColor::Red),
        paint(anstyle::AnsiColor::Yellow),
    );
    // `{red}` starts the style and `{red:#}` ends it (nothing at all when plain).
    let name_rules = several_rules_fired(run);
    for p in &run.problems {
        writeln!(w, "{red}{}: {}{red:#}", run.rel(&p.path), p.why)?;
    }
    for p in &run.skipped {
        writeln!(w, "{}: skipped: {}", run.rel(&p.path), p.why)?;
    }
    for p in &run.unchecked {
        writeln!(w, "{red}{}: unchecked: {}{red:#}", run.rel(&p.path), p.why)?;
    }
    for f in &run.files {
        if let Some(why) = &f.skipped {
            writeln!(w, "{red}{}: unchecked: {why}{red:#}", f.rel)?;
        }
        // A file that could not be written is reported once, as a problem, above.
        if run.problems.iter().any(|p| p.path == f.path) {
            continue;
        }
        for s in &f.sites {
            let (why, code) = match &s.site.outcome {
                Outcome::Flagged(flag) => (flag.why.as_str(), flag.code.as_str()),
                _ if !every_site => continue,
                Outcome::Converted => ("old API, would convert", "convertible"),
                Outcome::Compat => (
                    "old API beside the new one under a version check, left alone",
                    "compat",
                ),
            };
            let func = if s.site.function.is_empty() {
                String::new()
            } else {
                format!(" {}:", s.site.function)
            };
            let rule = if name_rules {
                format!(" ({})", rules[s.rule].id)
            } else {
                String::new()
            };
            writeln!(
                w,
                "{}:{}:{func} {why} {yellow}[{code}]{yellow:#}{rule}",
                f.rel, s.site.line
            )?;
        }
    }
    Ok(())
}

/// The summary line: what was (for `apply`) or would be changed, and what could not be vouched
/// for.
pub fn summary(run: &RunResult) -> String {
    let (verb, converted) = if run.applied {
        ("changed", "converted")
    } else {
        ("would change", "would convert")
    };
    let not_written = match run.not_written() {
        0 => String::new(),
        n => format!(", {n} not written"),
    };
    format!(
        "kcodemod: {} files read, {} parsed, {} {verb}; {} sites {converted}, {} flagged{}{not_written}; {} functions with unexplained parse errors; {} unchecked; {} errors",
        run.files_read,
        run.candidates,
        run.files_changed(),
        run.converted(),
        run.flagged(),
        match run.compat() {
            0 => String::new(),
            n => format!(", {n} already on both APIs (compat)"),
        },
        run.parse_error_functions(),
        run.unchecked(),
        run.errors()
    )
}

#[derive(Serialize)]
pub struct SiteRecord<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub rule: &'a str,
    pub file: &'a str,
    /// The name's bytes when it is not UTF-8 (see [`non_utf8`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_bytes: Option<Vec<u8>>,
    pub line: usize,
    pub function: &'a str,
    /// The arch group (series reports only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arch: Option<String>,
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'a str>,
}

impl<'a> SiteRecord<'a> {
    pub fn new(
        rules: &'a [crate::rule::Rule],
        f: &'a FileResult,
        s: &'a crate::pipeline::Found,
    ) -> SiteRecord<'a> {
        let (status, code, reason) = match (&s.site.outcome, &f.unwritten) {
            (Outcome::Converted, None) => ("converted", None, None),
            (Outcome::Converted, Some(why)) => ("not-written", None, Some(why.as_str())),
            (Outcome::Flagged(fl), _) => ("flagged", Some(fl.code.as_str()), Some(fl.why.as_str())),
            (Outcome::Compat, _) => ("compat", None, None),
        };
        SiteRecord {
            kind: "site",
            rule: &rules[s.rule].id,
            file: &f.rel,
            file_bytes: non_utf8(raw_rel(f)),
            line: s.site.line,
            function: &s.site.function,
            arch: None,
            status,
            code,
            reason,
        }
    }
}

#[derive(Serialize)]
struct ProblemRecord<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    file_bytes: Option<Vec<u8>>,
    reason: &'a str,
}

#[derive(Serialize)]
struct SummaryRecord {
    #[serde(rename = "type")]
    kind: &'static str,
    files_read: usize,
    files_parsed: usize,
    files_changed: usize,
    converted: usize,
    flagged: usize,
    /// Old-API sites beside the new API under a version check (not findings).
    compat: usize,
    not_written: usize,
    parse_error_functions: usize,
    unchecked: usize,
    errors: usize,
}

/// What an interrupted `apply` wrote and left (paths relative to the tree). When a name in a
/// list is not UTF-8, `written_bytes`/`not_written_bytes` go beside it: as long as the list,
/// each entry null or that name's bytes.
#[derive(Serialize, Default)]
pub struct Interrupted {
    pub written: Vec<String>,
    pub not_written: Vec<String>,
    #[serde(skip_serializing_if = "all_utf8")]
    pub written_bytes: Vec<Option<Vec<u8>>>,
    #[serde(skip_serializing_if = "all_utf8")]
    pub not_written_bytes: Vec<Option<Vec<u8>>>,
}

fn all_utf8(list: &[Option<Vec<u8>>]) -> bool {
    list.iter().all(Option::is_none)
}

impl Interrupted {
    /// `f` is on disk in its new form.
    pub fn written(&mut self, f: &FileResult) {
        self.written.push(f.rel.clone());
        self.written_bytes.push(non_utf8(raw_rel(f)));
    }
    /// `f` was left as it was.
    pub fn not_written(&mut self, f: &FileResult) {
        self.not_written.push(f.rel.clone());
        self.not_written_bytes.push(non_utf8(raw_rel(f)));
    }
}

#[derive(Serialize)]
struct InterruptedRecord<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(flatten)]
    lists: &'a Interrupted,
}

fn record(w: &mut dyn Write, rec: &impl Serialize) -> io::Result<()> {
    serde_json::to_writer(&mut *w, rec)?;
    writeln!(w)
}

/// The one record of a run interrupted before `apply` wrote anything: what the walk saw of the
/// tree is partial, so no site or summary record claims anything about it.
pub fn json_interrupted(w: &mut dyn Write) -> io::Result<()> {
    let lists = &Interrupted::default();
    record(
        w,
        &InterruptedRecord {
            kind: "interrupted",
            lists,
        },
    )
}

/// JSON Lines: one record per problem (`error`), per path passed over (`skipped`), per file
/// holding a rule's literal that was not analysed (`unchecked`), per site, an `interrupted`
/// record when SIGINT/SIGTERM stopped `apply`, then a summary record.
pub fn json(
    run: &RunResult,
    rules: &[crate::rule::Rule],
    interrupted: Option<&Interrupted>,
    w: &mut dyn Write,
) -> io::Result<()> {
    let lists = [
        ("error", &run.problems),
        ("skipped", &run.skipped),
        ("unchecked", &run.unchecked),
    ];
    for (kind, list) in lists {
        for p in list {
            let file = run.rel(&p.path);
            record(
                w,
                &ProblemRecord {
                    kind,
                    file,
                    file_bytes: non_utf8(run.rel_bytes(&p.path)),
                    reason: &p.why,
                },
            )?;
        }
    }
    for f in &run.files {
        if let Some(why) = &f.skipped {
            let file = f.rel.clone();
            record(
                w,
                &ProblemRecord {
                    kind: "unchecked",
                    file,
                    file_bytes: non_utf8(raw_rel(f)),
                    reason: why,
                },
            )?;
        }
        for s in &f.sites {
            let rec = SiteRecord::new(rules, f, s);
            serde_json::to_writer(&mut *w, &rec)?;
            writeln!(w)?;
        }
    }
    if let Some(lists) = interrupted {
        record(
            w,
            &InterruptedRecord {
                kind: "interrupted",
                lists,
            },
        )?;
    }
    let rec = SummaryRecord {
        kind: "summary",
        files_read: run.files_read,
        files_parsed: run.candidates,
        files_changed: run.files_changed(),
        converted: run.converted(),
        flagged: run.flagged(),
        compat: run.compat(),
        not_written: run.not_written(),
        parse_error_functions: run.parse_error_functions(),
        unchecked: run.unchecked(),
        errors: run.errors(),
    };
    record(w, &rec)
}

/// The INCOMPLETE lines of a diff or apply run, one per migration left half done (the rule is
/// named when several rules are loaded).
pub fn incomplete(
    list: &[crate::verdict::Incomplete],
    rules: &[crate::rule::Rule],
    w: &mut dyn Write,
) -> io::Result<()> {
    for i in list {
        let line = crate::verdict::incomplete_line(i, &[]);
        if list.len() > 1 {
            writeln!(w, "kcodemod: {line} (rule {})", rules[i.rule].id)?;
        } else {
            writeln!(w, "kcodemod: {line}")?;
        }
    }
    Ok(())
}

#[derive(Serialize)]
struct IncompleteRecord<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    rule: &'a str,
    sites: usize,
    /// Did the run convert anything of the migration (then the tree does not build)?
    changed: bool,
    message: String,
}

/// `--json`: one `incomplete` record per migration left half done, after the summary.
pub fn json_incomplete(
    list: &[crate::verdict::Incomplete],
    rules: &[crate::rule::Rule],
    w: &mut dyn Write,
) -> io::Result<()> {
    for i in list {
        let rec = IncompleteRecord {
            kind: "incomplete",
            rule: &rules[i.rule].id,
            sites: i.left,
            changed: i.changed,
            message: crate::verdict::incomplete_line(i, &[]),
        };
        serde_json::to_writer(&mut *w, &rec)?;
        writeln!(w)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interrupted_lists_give_the_bytes_of_names_that_are_not_utf8() {
        let mut lists = Interrupted::default();
        lists
            .written
            .extend(["a.c".to_string(), "caf\u{fffd}.c".to_string()]);
        lists
            .written_bytes
            .extend([None, non_utf8(b"caf\xe9.c".to_vec())]);
        lists.not_written.push("b.c".into());
        lists.not_written_bytes.push(non_utf8(b"b.c".to_vec()));
        assert_eq!(
            serde_json::to_value(&lists).unwrap(),
            serde_json::json!({
                "written": ["a.c", "caf\u{fffd}.c"],
                "not_written": ["b.c"],
                "written_bytes": [null, [99, 97, 102, 233, 46, 99]],
            })
        );
        assert_eq!(non_utf8("café.c".as_bytes().to_vec()), None);
    }
}
