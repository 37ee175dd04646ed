//! Whole-migration verdicts, after every file is migrated: a migration whose API definition
//! could not be converted converts nothing (all or nothing), and a migration that leaves sites
//! on the old API is INCOMPLETE.

use crate::model::{Code, Flag, Outcome};
use crate::pipeline::{Config, FileResult, Found, RunResult, migrate_file};
use crate::rule::Rule;

/// Why each rule's API definition cannot be converted in this run: `(rule, "file:line", why)`.
/// A part of it was flagged; or parts were converted (a prototype, the implementation) while
/// the old struct itself was found nowhere in a form the run could read and convert.
fn broken_definitions(rules: &[Rule], files: &[FileResult]) -> Vec<(usize, String, String)> {
    let mut out: Vec<(usize, String, String)> = Vec::new();
    let parts = || {
        files
            .iter()
            .flat_map(|f| f.sites.iter().map(move |s| (f, s)))
            .filter(|(_, s)| s.site.definition && s.rule < rules.len())
            .filter(|(_, s)| rules[s.rule].kind.all_or_nothing())
    };
    for (f, s) in parts() {
        // A part blocked in its own file by the struct beside it is a consequence: the struct's
        // flag is the reason to report.
        if let Outcome::Flagged(fl) = &s.site.outcome
            && fl.code != Code::Blocked
            && !out.iter().any(|b| b.0 == s.rule)
        {
            // The flag names its own line when it is not the site's: say it once.
            let line = fl.line.unwrap_or(s.site.line);
            let why = fl
                .why
                .strip_prefix(&format!("line {line}: "))
                .unwrap_or(&fl.why);
            out.push((s.rule, format!("{}:{line}", f.rel), why.to_string()));
        }
    }
    for (f, s) in parts() {
        let r = s.rule;
        let the_struct = format!("struct {}", rules[r].old_struct);
        let struct_converted = parts().any(|(_, t)| t.rule == r && t.site.function == the_struct)
            || defined_ops(&rules[r], files).is_some();
        if !struct_converted && !out.iter().any(|b| b.0 == r) {
            out.push((
                r,
                format!("{}:{}", f.rel, s.site.line),
                format!(
                    "{} would change, but no readable definition of {the_struct} was found to convert with it",
                    s.site.function
                ),
            ));
        }
    }
    disagreeing_callbacks(rules, files, &mut out);
    out
}

/// A file that took a member the rule does not list to be a callback (a function of its own
/// stored in it) while no definition of the struct converted in this run moved such a member:
/// the file's ops struct would name a member `struct NEW` does not have. (Without a definition
/// in the run there is nothing to check against.)
fn disagreeing_callbacks(
    rules: &[Rule],
    files: &[FileResult],
    out: &mut Vec<(usize, String, String)>,
) {
    let said = || {
        files
            .iter()
            .flat_map(|f| f.callbacks.iter().map(move |(r, c)| (f, *r, c)))
    };
    for (r, rule) in rules.iter().enumerate() {
        let the_struct = format!("struct {}", rule.old_struct);
        let already = defined_ops(rule, files);
        let defs: Vec<(&FileResult, &Vec<String>)> = said()
            .filter(|(_, r2, _)| *r2 == r)
            .filter_map(|(f, _, c)| c.defined.as_ref().map(|d| (f, d)))
            .collect();
        let (at, defs, holder): (String, Vec<&Vec<String>>, String) = match defs.first() {
            Some((def, _)) => {
                let line = def
                    .sites
                    .iter()
                    .find(|s| s.rule == r && s.site.function == the_struct)
                    .map_or(0, |s| s.site.line);
                (
                    format!("{}:{line}", def.rel),
                    defs.iter().map(|(_, d)| *d).collect(),
                    the_struct.clone(),
                )
            }
            // The tree's header is converted already: its ops struct holds the callbacks.
            None => match &already {
                Some((at, members)) => (
                    at.clone(),
                    vec![members],
                    format!("struct {} (already in the tree)", rule.ops_struct),
                ),
                None => continue,
            },
        };
        let odd = said().filter(|(_, r2, _)| *r2 == r).find_map(|(f, _, c)| {
            c.assumed
                .iter()
                .find(|m| !defs.iter().any(|d| d.contains(m)))
                .map(|m| (f, m))
        });
        if let Some((f, m)) = odd.filter(|_| !out.iter().any(|b| b.0 == r)) {
            out.push((
                r,
                at,
                format!(
                    "{} treats `.{m}` as a callback, but {holder} has no such callback",
                    f.rel
                ),
            ));
        }
    }
}

/// The new ops struct as the run's files already define it (`struct OPS {` in a file as it was
/// read), with the callbacks it holds: `("file:line", members)`. A tree whose API header is
/// already converted (an `apply` interrupted after writing it, or a tree that has the new API
/// and old callers) has its definition: the implementation and the callers convert against
/// it, and what they take to be callbacks is checked against its members.
fn defined_ops(rule: &Rule, files: &[FileResult]) -> Option<(String, Vec<String>)> {
    let ops = format!("struct {}", rule.ops_struct);
    files.iter().find_map(|f| {
        let o = &f.original;
        let end =
            words(o, ops.as_bytes()).find(|&end| o[end..].trim_ascii_start().starts_with(b"{"))?;
        let open = end + o[end..].iter().position(|&b| b == b'{')?;
        let body = &o[open..open + balanced(&o[open..])?];
        let line = 1 + memchr::memchr_iter(b'\n', &o[..end]).count();
        Some((format!("{}:{line}", f.rel), function_pointers(body)))
    })
}

/// Length of the `{ ... }` block `text` opens with, braces counted.
fn balanced(text: &[u8]) -> Option<usize> {
    let mut depth = 0usize;
    for (i, &b) in text.iter().enumerate() {
        match b {
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
    }
    None
}

/// The names of the function-pointer members of a struct body: `(*name)`.
fn function_pointers(body: &[u8]) -> Vec<String> {
    let ident = |b: &u8| b.is_ascii_alphanumeric() || *b == b'_';
    memchr::memmem::find_iter(body, b"(*")
        .filter_map(|at| {
            let rest = body[at + 2..].trim_ascii_start();
            let n = rest.iter().take_while(|b| ident(b)).count();
            (n > 0 && rest[n..].trim_ascii_start().starts_with(b")"))
                .then(|| String::from_utf8_lossy(&rest[..n]).into_owned())
        })
        .collect()
}

/// All or nothing per migration. The API definition (struct, prototypes, implementation) and its
/// users are one change: when a part of the definition could not be converted, a converted
/// prototype or caller would name an ops struct nobody declares. So every file that a blocked
/// rule changed is migrated again without that rule, and the rule's converted sites are reported
/// as blocked. (Without the definition in the run, as with `--base-patch`, nothing blocks.)
pub fn block_broken_definitions(cfg: &Config, files: &mut [FileResult]) {
    let broken = broken_definitions(&cfg.rules, files);
    if broken.is_empty() {
        return;
    }
    let blocked = |r: usize| broken.iter().find(|b| b.0 == r);
    for f in files.iter_mut() {
        let touched = f
            .sites
            .iter()
            .any(|s| s.site.outcome == Outcome::Converted && blocked(s.rule).is_some());
        if !touched {
            continue;
        }
        let keep: Vec<usize> = f
            .rules
            .iter()
            .copied()
            .filter(|&r| blocked(r).is_none())
            .collect();
        let again = migrate_file(cfg, &f.path, std::mem::take(&mut f.original), &keep);
        let mut sites: Vec<Found> = f
            .sites
            .drain(..)
            .filter(|s| blocked(s.rule).is_some())
            .map(|mut s| {
                if s.site.outcome == Outcome::Converted {
                    let (_, at, why) = blocked(s.rule).unwrap();
                    s.site.outcome = Outcome::Flagged(Flag::new(
                        Code::Blocked,
                        format!(
                            "blocked: the API definition in {at} could not be converted: {why}"
                        ),
                    ));
                }
                s
            })
            .collect();
        sites.extend(again.sites);
        sites.sort_by(|a, b| (a.site.line, &a.site.function).cmp(&(b.site.line, &b.site.function)));
        let rules = std::mem::take(&mut f.rules);
        *f = FileResult {
            sites,
            rules,
            ..again
        };
    }
}

/// A migration that a human must finish: its sites left on the old API, and whether the run
/// changed anything of it (then the tree does not build until they are converted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incomplete {
    pub rule: usize,
    pub left: usize,
    pub changed: bool,
}

/// Per rule with sites left on the old API (flagged, blocked, or converted but not written).
pub fn incomplete(run: &RunResult) -> Vec<Incomplete> {
    let mut out: Vec<Incomplete> = Vec::new();
    for (f, s) in run.sites() {
        let i = match out.iter().position(|i| i.rule == s.rule) {
            Some(i) => i,
            None => {
                out.push(Incomplete {
                    rule: s.rule,
                    left: 0,
                    changed: false,
                });
                out.len() - 1
            }
        };
        // A site `apply` converted but did not write (refused, failed, interrupted) is left.
        match (&s.site.outcome, &f.unwritten) {
            (Outcome::Converted, None) => out[i].changed = true,
            // Already on both APIs: nothing left to convert.
            (Outcome::Compat, _) => {}
            _ => out[i].left += 1,
        }
    }
    out.retain(|i| i.left > 0);
    out.sort_by_key(|i| i.rule);
    out
}

/// The INCOMPLETE line: `symbols` are the Kconfig symbols under which the left sites are built,
/// when known.
pub fn incomplete_line(i: &Incomplete, symbols: &[String]) -> String {
    let (sites, they) = if i.left == 1 {
        ("site needs", "it is")
    } else {
        ("sites need", "they are")
    };
    if !i.changed {
        return format!(
            "INCOMPLETE: {} {sites} manual conversion; nothing was changed",
            i.left
        );
    }
    let with = if symbols.is_empty() {
        String::new()
    } else {
        format!(" with {}", symbols.join(", "))
    };
    format!(
        "INCOMPLETE: {} {sites} manual conversion; the tree does not build{with} until {they} converted",
        i.left
    )
}

/// Migrate files held in memory as one run (`(path inside cfg.tree, bytes)`): the prefilter,
/// every file, then the whole-migration verdicts, as a tree run does. For the property tests
/// and the fuzz target.
pub fn run_in_memory(cfg: &Config, files: Vec<(std::path::PathBuf, Vec<u8>)>) -> Vec<FileResult> {
    let literals: Vec<Vec<String>> = cfg.rules.iter().map(|r| r.prefilter.clone()).collect();
    let prefilter = crate::walk::Prefilter::new(&literals);
    let mut out: Vec<FileResult> = files
        .into_iter()
        .filter_map(|(path, bytes)| {
            let rules = prefilter.rules_in(&bytes);
            (!rules.is_empty()).then(|| migrate_file(cfg, &path, bytes, &rules))
        })
        .collect();
    out.sort_by(|a, b| a.path.cmp(&b.path));
    block_broken_definitions(cfg, &mut out);
    out
}

/// The oracle of all-or-nothing: when the run's output uses `struct OPS` where its input did
/// not, the output must define `struct OPS` and declare every entry point with an OPS pointer
/// parameter. Returns what is missing. (Runs given the definition from outside, such as
/// `--base-patch`, are not checked by it.)
pub fn unresolved_new_api(rule: &crate::rule::Rule, files: &[FileResult]) -> Option<String> {
    let ops = format!("struct {}", rule.ops_struct);
    let count = |b: &[u8]| words(b, ops.as_bytes()).count();
    let after = |f: &FileResult| f.new.clone().unwrap_or_else(|| f.original.clone());
    let used = files.iter().find(|f| {
        f.new
            .as_deref()
            .is_some_and(|n| count(n) > count(&f.original))
    })?;
    let outputs: Vec<Vec<u8>> = files.iter().map(after).collect();
    let defined = outputs
        .iter()
        .any(|o| words(o, ops.as_bytes()).any(|end| o[end..].trim_ascii_start().starts_with(b"{")));
    if !defined {
        return Some(format!(
            "{} uses `{ops}`, which no output defines",
            used.rel
        ));
    }
    for e in &rule.entries {
        let declared = outputs.iter().any(|o| {
            words(o, e.name.as_bytes()).any(|end| {
                let rest = o[end..].trim_ascii_start();
                rest.starts_with(b"(")
                    && rest
                        .iter()
                        .position(|&b| b == b')')
                        .is_some_and(|close| words(&rest[..close], ops.as_bytes()).next().is_some())
            })
        });
        if !declared {
            return Some(format!(
                "{} uses `{ops}`, but no output declares {}() with it",
                used.rel, e.name
            ));
        }
    }
    None
}

/// End offsets of `word` in `text` where it stands as whole words (not inside an identifier).
fn words<'a>(text: &'a [u8], word: &'a [u8]) -> impl Iterator<Item = usize> + 'a {
    let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    memchr::memmem::find_iter(text, word).filter_map(move |at| {
        let end = at + word.len();
        let before = at == 0 || !ident(text[at - 1]);
        let after = end == text.len() || !ident(text[end]);
        (before && after).then_some(end)
    })
}
