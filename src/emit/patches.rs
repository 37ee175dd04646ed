//! The patches of a series as mail: which files each patch holds (one bisectable patch, one
//! per arch group, or one per migration), subjects in kernel habit, bodies, `git format-patch`
//! headers, the diffstat and the cover letter.

use std::fmt::Write as _;

use anyhow::{Context, Result};

use super::mail;
use super::maintainers::Recipients;
use super::series::*;
use crate::pipeline::{FileResult, RunResult};
use crate::report;
use crate::rule::Rule;
use crate::struct_to_ops::Outcome;

/// One patch of the series before numbering.
pub(super) struct Patch {
    pub(super) subject: String,
    pub(super) body: String,
    pub(super) files: Vec<usize>,
    /// A patch given by the user, written as it came (only the subject is renumbered).
    pub(super) verbatim: Option<Vec<u8>>,
    /// One migration's stage of its files (a series of several migrations), instead of their
    /// whole change.
    pub(super) diff: Option<Vec<u8>>,
}

/// Files whose changes are the API definition (they hold the old struct or an entry point's
/// definition): every site in them is a definition site.
pub(super) fn is_api_file(rules: &[Rule], f: &FileResult) -> bool {
    !f.sites.is_empty()
        && f.sites
            .iter()
            .all(|s| rules[s.rule].kind.is_api_site(&s.site.function))
}

pub(super) fn plan_patches(
    rules: &[Rule],
    rule: &Rule,
    changed: &[&FileResult],
    groups: &[(String, Vec<usize>)],
    opts: &Options,
) -> Result<Vec<Patch>> {
    let mut patches = Vec::new();
    if let Some(base) = &opts.base_patch {
        let text = std::fs::read(base)
            .with_context(|| format!("{}: cannot read the base patch", base.display()))?;
        let subject = String::from_utf8_lossy(&text)
            .lines()
            .find_map(|l| l.strip_prefix("Subject: ").map(strip_patch_tag))
            .unwrap_or_else(|| "API change".into());
        patches.push(Patch {
            subject,
            body: String::new(),
            files: Vec::new(),
            verbatim: Some(text),
            diff: None,
        });
    }
    let api: Vec<usize> = (0..changed.len())
        .filter(|&i| is_api_file(rules, changed[i]))
        .collect();
    let callers = |files: &[usize]| {
        files
            .iter()
            .copied()
            .filter(|i| !api.contains(i))
            .collect::<Vec<_>>()
    };
    match opts.split {
        Split::None => {
            let files: Vec<usize> = (0..changed.len()).collect();
            let subject = if opts.callers_only {
                format!(
                    "{}: {}",
                    prefix(&paths(changed, &files), opts, "generic", rule),
                    rule.callers_change()
                )
            } else {
                rule.subject.clone()
            };
            patches.push(Patch {
                subject,
                body: body(rule, changed, &files, false, None),
                files,
                verbatim: None,
                diff: None,
            });
        }
        Split::Arch => {
            if !api.is_empty() {
                patches.push(Patch {
                    subject: rule.subject.clone(),
                    body: body(rule, changed, &api, true, None),
                    files: api.clone(),
                    verbatim: None,
                    diff: None,
                });
            }
            for (g, files) in groups {
                let files = callers(files);
                if files.is_empty() {
                    continue;
                }
                let p = prefix(&paths(changed, &files), opts, g, rule);
                let subject = format!("{p}: {}", rule.arch_change());
                patches.push(Patch {
                    subject,
                    body: body(rule, changed, &files, true, None),
                    files,
                    verbatim: None,
                    diff: None,
                });
            }
        }
    }
    Ok(patches)
}

/// One patch per migration, in run order: each holds its files' change from the text the
/// previous migrations left to the text it left (the last patch's tip is the whole change).
pub(super) fn stage_patches(
    rules: &[Rule],
    fired: &[usize],
    changed: &[&FileResult],
    opts: &Options,
) -> Vec<Patch> {
    let mut patches = Vec::new();
    for &r in fired {
        let (mut files, mut diff) = (Vec::new(), Vec::new());
        for (i, f) in changed.iter().enumerate() {
            let Some((before, after)) = f.stage(r) else {
                continue;
            };
            diff.extend(report::path_diff(&report::raw_rel(f), before, after));
            files.push(i);
        }
        if files.is_empty() {
            continue;
        }
        let rule = &rules[r];
        let pre = prefix(&paths(changed, &files), opts, "generic", rule);
        patches.push(Patch {
            subject: format!("{pre}: {}", rule.callers_change()),
            body: body(rule, changed, &files, true, Some(r)),
            files,
            verbatim: None,
            diff: Some(diff),
        });
    }
    patches
}

pub(super) fn paths<'a>(changed: &[&'a FileResult], files: &[usize]) -> Vec<&'a str> {
    files.iter().map(|&i| changed[i].rel.as_str()).collect()
}

/// A kernel-style subject prefix for a set of paths: `s390/mm`, `powerpc/mm`, `openrisc`,
/// `mm`, `fs/proc`; several subsystems are joined (`mm, fs/proc`). Headers under
/// `include/linux/` take the subsystem of the rule's own subject (`mm: pagewalk: …` → `mm`).
pub(super) fn prefix(paths: &[&str], opts: &Options, group: &str, rule: &Rule) -> String {
    if let Some(p) = opts.prefixes.get(group) {
        return p.clone();
    }
    let mut out: Vec<String> = Vec::new();
    for p in paths {
        let parts: Vec<&str> = p.split('/').collect();
        let pre = match parts.as_slice() {
            ["arch", a, "mm", ..] => format!("{a}/mm"),
            ["arch", a, ..] => a.to_string(),
            ["fs", sub, _, ..] => format!("fs/{sub}"),
            ["include", "linux", ..] => rule
                .subject
                .split_once(':')
                .map_or("treewide", |s| s.0.trim())
                .to_string(),
            [top, _, ..] => top.to_string(),
            [_] => opts.top.clone(),
            _ => "treewide".to_string(),
        };
        if !out.contains(&pre) {
            out.push(pre);
        }
    }
    out.join(", ")
}

pub(super) fn strip_patch_tag(s: &str) -> String {
    match s.strip_prefix('[') {
        Some(rest) => rest.split_once("] ").map_or(s, |x| x.1).to_string(),
        None => s.to_string(),
    }
}

/// `[PATCH]`/`[PATCH a/b]` in a user's patch becomes the series' tag (`[PATCH num/n]`).
pub(super) fn renumber(text: &[u8], tag: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() + 16);
    let mut done = false;
    for l in text.split_inclusive(|&b| b == b'\n') {
        if !done && let Some(s) = l.strip_prefix(b"Subject: ") {
            let subject = String::from_utf8_lossy(s);
            out.extend_from_slice(
                format!("Subject: {tag} {}\n", strip_patch_tag(subject.trim_end())).as_bytes(),
            );
            done = true;
            continue;
        }
        out.extend_from_slice(l);
    }
    out
}

pub(super) fn slug(subject: &str) -> String {
    let mut s = String::new();
    for c in subject.chars() {
        if c.is_ascii_alphanumeric() {
            s.push(c);
        } else if !s.ends_with('-') {
            s.push('-');
        }
    }
    s.trim_matches('-')
        .chars()
        .take(52)
        .collect::<String>()
        .trim_end_matches('-')
        .to_string()
}

/// A patch's message: what the rule does, then its sites in `files` (only those of rule
/// `only`, in a series of several migrations).
pub(super) fn body(
    rule: &Rule,
    changed: &[&FileResult],
    files: &[usize],
    split: bool,
    only: Option<usize>,
) -> String {
    let mut b = String::new();
    let _ = writeln!(b, "{}.", rule.summary);
    b.push('\n');
    if let Some(why) = &rule.body {
        let _ = writeln!(b, "{why}\n");
    }
    b.push_str(&wrap(&format!(
        "The conversion is mechanical (kcodemod, rule {}): {}",
        rule.id,
        rule.mechanics()
    )));
    if split {
        b.push('\n');
        let _ = writeln!(
            b,
            "This patch is part of a series that only builds as a whole."
        );
    }
    let (mut conv, mut flag) = (String::new(), String::new());
    for &i in files {
        let f = changed[i];
        for s in f.sites.iter().filter(|s| only.is_none_or(|r| r == s.rule)) {
            match &s.site.outcome {
                Outcome::Converted => {
                    let _ = writeln!(conv, "  {}:{} {}", f.rel, s.site.line, s.site.function);
                }
                Outcome::Compat => {}
                Outcome::Flagged(fl) => {
                    let _ = writeln!(flag, "  {}:{} {}:", f.rel, s.site.line, s.site.function);
                    for l in wrap(&format!("{} [{}]", fl.why, fl.code)).lines() {
                        let _ = writeln!(flag, "    {l}");
                    }
                }
            }
        }
    }
    if !conv.is_empty() {
        let _ = write!(b, "\nConverted:\n{conv}");
    }
    if !flag.is_empty() {
        let _ = write!(
            b,
            "\nLeft unchanged (flagged for manual conversion):\n{flag}"
        );
    }
    b
}

/// Non-ASCII names or text need the MIME headers `git format-patch` adds for them (the
/// author's name is in the body too, in Signed-off-by:).
pub(super) fn mime(m: &mut String, opts: &Options, r: &Recipients, body: &str) {
    let names = r.to.iter().chain(&r.cc).chain(&opts.to).chain(&opts.cc);
    if !(names.chain([&opts.author]).all(|x| x.is_ascii()) && body.is_ascii()) {
        m.push_str("MIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: 8bit\n");
    }
}

/// Fill prose to 72 columns, as commit messages are.
pub(super) fn wrap(text: &str) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for w in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + w.len() > 72 {
            out.push_str(&line);
            out.push('\n');
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(w);
    }
    if !line.is_empty() {
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// One mbox message in `git format-patch` form.
/// The mail headers (mbox `From ` line, author, date, subject, MIME, recipients), a blank
/// line and the body: what a patch and the cover letter share.
pub(super) fn message(opts: &Options, subject: &str, r: &Recipients, body: &str) -> String {
    let mut m = String::new();
    m.push_str("From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001\n");
    let _ = writeln!(
        m,
        "From: {}",
        mail::encode_address(&opts.author, "From: ".len())
    );
    let _ = writeln!(m, "Date: {}", opts.date);
    let _ = writeln!(
        m,
        "Subject: {}",
        mail::encode_words(subject, "Subject: ".len())
    );
    mime(&mut m, opts, r, body);
    // The user's --to/--cc come first, then MAINTAINERS', each address once.
    let list = |extra: &[String], found: &[String]| -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for a in extra.iter().chain(found) {
            if !out.contains(a) {
                out.push(a.clone());
            }
        }
        // Each address starts a line after "To: " or after the 4 spaces that continue it.
        out.iter().map(|a| mail::encode_address(a, 4)).collect()
    };
    let (to, cc) = (list(&opts.to, &r.to), list(&opts.cc, &r.cc));
    if !to.is_empty() {
        let _ = writeln!(m, "To: {}", to.join(",\n    "));
    }
    if !cc.is_empty() {
        let _ = writeln!(m, "Cc: {}", cc.join(",\n    "));
    }
    m.push('\n');
    m.push_str(body);
    m
}

/// The signature that ends every message.
pub(super) fn signature() -> String {
    format!("-- \nkcodemod {}\n\n", env!("CARGO_PKG_VERSION"))
}

pub(super) fn mbox(
    opts: &Options,
    subject: &str,
    r: &Recipients,
    body: &str,
    diff: &[u8],
) -> Vec<u8> {
    let mut m = message(opts, subject, r, body);
    let _ = writeln!(m, "\nSigned-off-by: {}", opts.author);
    m.push_str("---\n");
    m.push_str(&diffstat(diff));
    m.push('\n');
    // The diff is the files' bytes, whatever their encoding.
    let mut bytes = m.into_bytes();
    bytes.extend_from_slice(diff);
    bytes.extend_from_slice(signature().as_bytes());
    bytes
}

/// ` path | 12 ++++----` lines and the totals line, as git prints them.
pub fn diffstat(diff: &[u8]) -> String {
    let mut files: Vec<(String, usize, usize)> = Vec::new();
    for line in diff.split(|&b| b == b'\n') {
        if let Some(p) = line.strip_prefix(b"+++ b/") {
            files.push((String::from_utf8_lossy(p).into_owned(), 0, 0));
        } else if let Some(f) = files.last_mut() {
            if line.starts_with(b"+") && !line.starts_with(b"+++") {
                f.1 += 1;
            } else if line.starts_with(b"-") && !line.starts_with(b"---") {
                f.2 += 1;
            }
        }
    }
    let width = files.iter().map(|f| f.0.len()).max().unwrap_or(0);
    let cw = files
        .iter()
        .map(|f| (f.1 + f.2).to_string().len())
        .max()
        .unwrap_or(1);
    let most = files.iter().map(|f| f.1 + f.2).max().unwrap_or(0).max(1);
    let bar = 72usize.saturating_sub(width + 8).max(10);
    let mut s = String::new();
    let (mut ins, mut del) = (0, 0);
    for (p, a, d) in &files {
        let scale = |x: usize| {
            if most > bar {
                (x * bar).div_ceil(most)
            } else {
                x
            }
        };
        let _ = writeln!(
            s,
            " {p:<width$} | {:>cw$} {}{}",
            a + d,
            "+".repeat(scale(*a)),
            "-".repeat(scale(*d))
        );
        ins += a;
        del += d;
    }
    let plural = |n: usize, w: &str| {
        if n == 1 {
            format!("{n} {w}")
        } else {
            format!("{n} {w}s")
        }
    };
    let _ = writeln!(
        s,
        " {} changed, {}(+), {}(-)",
        plural(files.len(), "file"),
        plural(ins, "insertion"),
        plural(del, "deletion")
    );
    s
}

/// What the cover letter says beyond the run: the patches, the recipients, the verdict.
pub(super) struct Cover<'a> {
    /// `(file name, subject)` of each patch.
    pub(super) patches: &'a [(String, String)],
    pub(super) to: &'a Recipients,
    /// The INCOMPLETE line, when sites are left on the old API.
    pub(super) incomplete: Option<&'a str>,
}

pub(super) fn cover_letter(
    fired: &[&Rule],
    run: &RunResult,
    changed: &[&FileResult],
    diffs: &[Vec<u8>],
    opts: &Options,
    c: &Cover,
) -> String {
    let (patches, r) = (c.patches, c.to);
    let n = patches.len();
    let mut body = String::new();
    if let Some(line) = c.incomplete {
        let _ = writeln!(body, "{line}.\n");
    }
    let rule = fired[0];
    for r in fired {
        let _ = writeln!(body, "{}.\n", r.summary);
        if let Some(why) = &r.body {
            let _ = writeln!(body, "{why}\n");
        }
    }
    let ids: Vec<&str> = fired.iter().map(|r| r.id.as_str()).collect();
    let _ = writeln!(
        body,
        "kcodemod ({} {}) converted {} sites in {} files and flagged {}.",
        if fired.len() > 1 { "rules" } else { "rule" },
        ids.join(", "),
        run.converted(),
        changed.len(),
        run.flagged()
    );
    if fired.len() > 1 {
        let _ = writeln!(
            body,
            "\nOne patch per migration, in the order they ran on each file. Only the whole\nseries builds on the target kernel."
        );
    }
    if opts.split == Split::Arch {
        let _ = writeln!(
            body,
            "\nThe series is split per architecture for review. Only the whole series\nbuilds: the API change and its callers cannot be separated without breaking\nbisection, so apply all of it (or squash it) before building."
        );
    }
    let mut flagged = String::new();
    for (f, s) in run.sites() {
        if let Outcome::Flagged(fl) = &s.site.outcome {
            let _ = writeln!(
                flagged,
                "  {}:{} {}: {} [{}]",
                f.rel, s.site.line, s.site.function, fl.why, fl.code
            );
        }
    }
    if !flagged.is_empty() {
        let _ = write!(body, "\nLeft unchanged, for manual conversion:\n{flagged}");
    }
    body.push_str("\nPatches:\n");
    for (name, subject) in patches {
        let _ = writeln!(body, "  {name}: {subject}");
    }
    body.push('\n');
    let all: Vec<u8> = diffs.concat();
    body.push_str(&diffstat(&all));
    // Without the API change in the series (a --target run), the rule's subject (the API
    // change's) would promise what the patches do not hold: the cover takes theirs.
    let title = match patches.last() {
        Some((_, s)) if fired.len() > 1 => {
            let pre = s.split_once(": ").map_or(s.as_str(), |p| p.0);
            format!("{pre}: convert to the target kernel's APIs")
        }
        Some((_, s)) if opts.callers_only && opts.base_patch.is_none() => s.clone(),
        _ => rule.subject.clone(),
    };
    let subject = format!("{} {title}", opts.tag(0, n));
    let mut m = message(opts, &subject, r, &body);
    m.push('\n');
    m.push_str(&signature());
    m
}
