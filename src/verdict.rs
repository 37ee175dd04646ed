//! Whole-migration verdicts, after every file is migrated: a migration whose API definition
//! could not be converted converts nothing (all or nothing), and a migration that leaves sites
//! on the old API is INCOMPLETE.

use crate::model::{Code, Flag, Outcome};
use crate::pipeline::{Config, FileResult, Found, RunResult, migrate_file};
use crate::rule::Rule;

/// Why each rule's API definition cannot be converted in this run: `(rule, "file:line", why)`.
/// A part of it was flagged; or its kind finds a reason over the whole run
/// ([`crate::kinds::RuleKind::broken_api`]).
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
    // Then what the kind finds over the whole run, for a rule no part of which was flagged.
    for (r, rule) in rules.iter().enumerate() {
        if !rule.kind.all_or_nothing() || out.iter().any(|b| b.0 == r) {
            continue;
        }
        if let Some((at, why)) = rule.kind.broken_api(r, files) {
            out.push((r, at, why));
        }
    }
    out
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
    /// Every site left is one of the old API's own definitions, and the converted code never
    /// names the old API (see [`crate::kinds::RuleKind::converted_code_needs_no_old_api`]):
    /// what is left is no reason for the tree not to build.
    pub only_old_api: bool,
}

/// Per rule with sites left on the old API (flagged, blocked, or converted but not written).
pub fn incomplete(run: &RunResult, rules: &[crate::rule::Rule]) -> Vec<Incomplete> {
    let mut out: Vec<Incomplete> = Vec::new();
    for (f, s) in run.sites() {
        let i = match out.iter().position(|i| i.rule == s.rule) {
            Some(i) => i,
            None => {
                out.push(Incomplete {
                    rule: s.rule,
                    left: 0,
                    changed: false,
                    only_old_api: rules[s.rule].kind.converted_code_needs_no_old_api(),
                });
                out.len() - 1
            }
        };
        // A site `apply` converted but did not write (refused, failed, interrupted) is left.
        match (&s.site.outcome, &f.unwritten) {
            (Outcome::Converted, None) => out[i].changed = true,
            // Already on both APIs: nothing left to convert.
            (Outcome::Compat, _) => {}
            _ => {
                out[i].left += 1;
                out[i].only_old_api &= s.site.definition && f.unwritten.is_none();
            }
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
    if i.only_old_api {
        return format!(
            "INCOMPLETE: {} {sites} manual conversion: the old API's own definitions, left as the rule says; the converted code does not use them",
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
