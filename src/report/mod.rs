//! Reporting: diagnostics on stderr (`path:line: function: why [code]`), unified diffs, JSON
//! Lines records and the summary line.

pub mod progress;

use std::io::{self, Write};

use serde::Serialize;

use crate::pipeline::{FileResult, RunResult};
use crate::struct_to_ops::Outcome;

/// The unified diff of one file, `a/` and `b/` prefixed, as `git apply` takes it.
pub fn file_diff(f: &FileResult) -> Vec<u8> {
    let Some(new) = &f.new else { return Vec::new() };
    let diff = similar::TextDiff::configure()
        .algorithm(similar::Algorithm::Patience)
        .diff_lines(&f.original[..], &new[..]);
    let mut out = Vec::new();
    out.extend_from_slice(
        format!("diff --git a/{0} b/{0}\n--- a/{0}\n+++ b/{0}\n", f.rel).as_bytes(),
    );
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

/// Colour for `--color auto|always|never`: auto means stderr is a terminal and NO_COLOR unset.
pub fn use_color(choice: crate::cli::Color) -> bool {
    use std::io::IsTerminal;
    match choice {
        crate::cli::Color::Always => true,
        crate::cli::Color::Never => false,
        crate::cli::Color::Auto => {
            std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal()
        }
    }
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
    let (red, yellow, reset) = if color {
        ("\x1b[31m", "\x1b[33m", "\x1b[0m")
    } else {
        ("", "", "")
    };
    let name_rules = several_rules_fired(run);
    for p in &run.problems {
        writeln!(w, "{red}{}: {}{reset}", p.path.display(), p.why)?;
    }
    for p in &run.skipped {
        writeln!(w, "{}: skipped: {}", p.path.display(), p.why)?;
    }
    for f in &run.files {
        if let Some(why) = &f.skipped {
            writeln!(w, "{}: skipped: {why}", f.path.display())?;
        }
        // A file that could not be written is reported once, as a problem, above.
        if run.problems.iter().any(|p| p.path == f.path) {
            continue;
        }
        for s in &f.sites {
            if let Outcome::Flagged(flag) = &s.site.outcome {
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
                    "{}:{}:{func} {} {yellow}[{}]{reset}{rule}",
                    f.rel, s.site.line, flag.why, flag.code
                )?;
            }
        }
    }
    Ok(())
}

pub fn summary(run: &RunResult) -> String {
    let changed = run.files.iter().filter(|f| f.new.is_some()).count();
    format!(
        "kcodemod: {} files read, {} parsed, {} changed; {} sites converted, {} flagged{}; {} functions with unexplained parse errors; {} errors",
        run.files_read,
        run.candidates,
        changed,
        run.converted(),
        run.flagged(),
        match run.compat() {
            0 => String::new(),
            n => format!(", {n} already on both APIs (compat)"),
        },
        run.parse_error_functions(),
        run.errors()
    )
}

#[derive(Serialize)]
pub struct SiteRecord<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub rule: &'a str,
    pub file: &'a str,
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
        let (status, code, reason) = match &s.site.outcome {
            Outcome::Converted => ("converted", None, None),
            Outcome::Flagged(fl) => ("flagged", Some(fl.code.as_str()), Some(fl.why.as_str())),
            Outcome::Compat => ("compat", None, None),
        };
        SiteRecord {
            kind: "site",
            rule: &rules[s.rule].id,
            file: &f.rel,
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
    kind: &'static str,
    file: String,
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
    parse_error_functions: usize,
    errors: usize,
}

/// JSON Lines: one record per site, per problem, then a summary record.
pub fn json(run: &RunResult, rules: &[crate::rule::Rule], w: &mut dyn Write) -> io::Result<()> {
    for p in &run.problems {
        serde_json::to_writer(
            &mut *w,
            &ProblemRecord {
                kind: "error",
                file: p.path.display().to_string(),
                reason: &p.why,
            },
        )?;
        writeln!(w)?;
    }
    for f in &run.files {
        if let Some(why) = &f.skipped {
            serde_json::to_writer(
                &mut *w,
                &ProblemRecord {
                    kind: if f.failed { "error" } else { "skipped" },
                    file: f.rel.clone(),
                    reason: why,
                },
            )?;
            writeln!(w)?;
        }
        for s in &f.sites {
            let rec = SiteRecord::new(rules, f, s);
            serde_json::to_writer(&mut *w, &rec)?;
            writeln!(w)?;
        }
    }
    let rec = SummaryRecord {
        kind: "summary",
        files_read: run.files_read,
        files_parsed: run.candidates,
        files_changed: run.files.iter().filter(|f| f.new.is_some()).count(),
        converted: run.converted(),
        flagged: run.flagged(),
        compat: run.compat(),
        parse_error_functions: run.parse_error_functions(),
        errors: run.errors(),
    };
    serde_json::to_writer(&mut *w, &rec)?;
    writeln!(w)
}
