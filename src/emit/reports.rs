//! `report.txt` and `report.json`: every site, the Kconfig symbols of each compile check, what
//! checkpatch said, and the commands that reproduce each build by hand.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Result;
use serde::Serialize;

use super::check;
use super::checkpatch;
use super::kbuild::{self, ObjectNeeds};
use super::plan;
use super::series::*;
use crate::pipeline::RunResult;
use crate::report;
use crate::rule::Rule;

#[derive(Serialize)]
pub(super) struct CheckRow<'a> {
    pub(super) group: &'a str,
    pub(super) object: &'a str,
    pub(super) symbols: Vec<(&'a str, &'a str)>,
    pub(super) unreachable: &'a [String],
    /// Sites of the object still on the old API after the series.
    pub(super) old_api: &'a [String],
    /// Guards of its edited lines the check also builds it with switched off.
    pub(super) guards_off: &'a [String],
}

/// What the report needs to say how to reproduce each build by hand.
pub(super) struct Reproduce<'a> {
    pub(super) builds: &'a [plan::Build],
    /// The commit the series applies to, when the tree is a git repository.
    pub(super) base: Option<&'a str>,
    pub(super) patches: PathBuf,
    /// `--quick`: no guard builds were planned.
    pub(super) quick: bool,
}

impl Reproduce<'_> {
    /// How to get the tree the builds run in: the base with the series applied. Every path is
    /// absolute (the commands run in the tree, not where `series` ran), and `checkout -B`
    /// can be run again (a second paste resets the branch instead of failing).
    fn checkout(&self, tree: &Path) -> Vec<String> {
        let patches = std::path::absolute(&self.patches).unwrap_or_else(|_| self.patches.clone());
        let am = format!(
            "git am --empty=drop {}/*.patch",
            check::sh_quote(&patches.to_string_lossy())
        );
        let cd = format!("cd {}", check::sh_quote(&tree.to_string_lossy()));
        match self.base {
            Some(sha) => vec![cd, format!("git checkout -B kcodemod-check {sha}"), am],
            None => vec![cd, format!("# with the series applied ({am})")],
        }
    }

    fn write(&self, tree: &Path, txt: &mut String, json: &mut String) -> Result<()> {
        let _ = writeln!(
            txt,
            "\nBuilds and how to reproduce each by hand (check/tuxmake.sh and \
             check/tuxsuite-plan.yaml hold the same builds; a guard build is skipped by the \
             script when Kconfig keeps the guard on):"
        );
        if self.quick {
            let _ = writeln!(txt, "  (--quick: no builds with guards switched off)");
        }
        if !self.builds.is_empty() {
            // Once for every build below: they run in the same checkout.
            let _ = writeln!(txt, "  first, the tree with the series applied:");
            for c in self.checkout(tree) {
                let _ = writeln!(txt, "      {c}");
            }
        }
        for b in self.builds {
            let _ = writeln!(
                txt,
                "  [{}] {}{}: {}",
                b.group,
                b.defconfig,
                b.label(),
                b.objects.join(" ")
            );
            let fragment = b.fragment();
            let fragment = if fragment.is_empty() {
                "none (the defconfig as it is)".to_string()
            } else {
                fragment.join(" | ")
            };
            let _ = writeln!(txt, "      # config fragment: {fragment}");
            for (i, o) in b.objects.iter().enumerate() {
                let cmds = b.commands(o);
                // The configuration steps are shared: only the object's line differs.
                let from = if i == 0 { 0 } else { cmds.len() - 1 };
                for c in &cmds[from..] {
                    let _ = writeln!(txt, "      {c}");
                }
                let mut commands = self.checkout(tree);
                commands.extend(cmds);
                let rec = serde_json::json!({ "type": "build", "build": {
                    "group": b.group, "arch": b.arch, "object": o,
                    "off": b.off.as_ref().map(|x| format!("CONFIG_{x}")),
                    "defconfig": b.defconfig, "fragment": b.fragment(),
                    "reproduce": commands, "tuxmake": b.tuxmake(),
                }});
                json.push_str(&serde_json::to_string(&rec)?);
                json.push('\n');
            }
        }
        Ok(())
    }
}

pub(super) fn write_reports(
    rules: &[Rule],
    run: &RunResult,
    checks: &[(String, Vec<ObjectNeeds>)],
    reproduce: &Reproduce,
    out: &Path,
    heads: &[String],
    style: &checkpatch::Checked,
) -> Result<()> {
    let mut r = Report::default();
    r.heads(heads)?;
    let _ = writeln!(r.txt, "{}\n", report::summary(run));
    r.sites(rules, run)?;
    r.checks(checks)?;
    r.expected(&expected_builds(checks));
    reproduce.write(&run.tree, &mut r.txt, &mut r.json)?;
    r.checkpatch(style)?;
    write_file(&out.join("report.txt"), r.txt.as_bytes())?;
    write_file(&out.join("report.json"), r.json.as_bytes())
}

/// report.txt and report.json, written side by side.
#[derive(Default)]
struct Report {
    txt: String,
    /// JSON Lines: one record per line.
    json: String,
}

impl Report {
    fn record(&mut self, value: &impl Serialize) -> Result<()> {
        self.json.push_str(&serde_json::to_string(value)?);
        self.json.push('\n');
        Ok(())
    }

    /// The lines a reader must see first, the gravest first (`heads`' order).
    fn heads(&mut self, heads: &[String]) -> Result<()> {
        for line in heads {
            let _ = writeln!(self.txt, "{line}\n");
            let kind = if line.starts_with("NOT BUILT") {
                "not-built"
            } else if line.starts_with("NOT COMPILED") {
                "not-compiled"
            } else {
                "incomplete"
            };
            self.record(&serde_json::json!({ "type": kind, "message": line }))?;
        }
        Ok(())
    }

    /// Every site, with its arch group.
    fn sites(&mut self, rules: &[Rule], run: &RunResult) -> Result<()> {
        for (f, s) in run.sites() {
            let mut row = report::SiteRecord::new(rules, f, s);
            let arch = kbuild::arch_group(&f.rel);
            let why = row
                .reason
                .map(|r| format!(": {r} [{}]", row.code.unwrap_or("")))
                .unwrap_or_default();
            let _ = writeln!(
                self.txt,
                "{}:{}: {}: [{arch}] {}{why}",
                f.rel, s.site.line, s.site.function, row.status
            );
            row.arch = Some(arch);
            self.record(&row)?;
        }
        Ok(())
    }

    /// The Kconfig symbols each object needs, and why.
    fn checks(&mut self, checks: &[(String, Vec<ObjectNeeds>)]) -> Result<()> {
        self.txt
            .push_str("\nCompile checks (Kconfig symbols each object needs, and why):\n");
        for (g, objects) in checks {
            // (A header has no object of its own: its functions are listed below.)
            for o in objects.iter().filter(|o| !o.object.is_empty()) {
                self.object(g, o);
                let row = CheckRow {
                    group: g,
                    object: &o.object,
                    symbols: o
                        .symbols
                        .iter()
                        .map(|(a, b)| (a.as_str(), b.as_str()))
                        .collect(),
                    unreachable: &o.unreachable,
                    old_api: &o.old_api,
                    guards_off: &o.flip,
                };
                self.record(&serde_json::json!({ "type": "check", "check": row }))?;
            }
        }
        Ok(())
    }

    /// One object's lines under "Compile checks".
    fn object(&mut self, g: &str, o: &ObjectNeeds) {
        let txt = &mut self.txt;
        let _ = writeln!(txt, "  [{g}] {}", o.object);
        if !o.old_api.is_empty() {
            let _ = writeln!(
                txt,
                "      still on the old API (the check fails until converted by hand): {}",
                o.old_api.join(", ")
            );
        }
        for (sym, why) in &o.symbols {
            let _ = writeln!(txt, "      {sym}: {why}");
        }
        for u in &o.unreachable {
            let _ = writeln!(txt, "      {u}: NOT REACHABLE (the check will say so)");
        }
        for x in &o.flip {
            let _ = writeln!(
                txt,
                "      {x}: also built with CONFIG_{x}=n (guards an edited line)"
            );
        }
    }

    /// Where each converted or flagged function is expected to reach the compiler.
    fn expected(&mut self, expected: &[(String, Vec<String>, Vec<String>)]) {
        if expected.is_empty() {
            return;
        }
        self.txt.push_str(
            "\nWhere each converted or flagged function is expected to reach the compiler (the \
             check scripts measure it: all.sh's summary, BUILD_DIR/<group>.reached):\n",
        );
        for (f, groups, why) in expected {
            let _ = writeln!(
                self.txt,
                "  {f}: {}{}",
                if groups.is_empty() {
                    "nowhere".to_string()
                } else {
                    groups.join(", ")
                },
                if why.is_empty() {
                    String::new()
                } else {
                    format!(" (not {})", why.join("; "))
                }
            );
        }
    }

    /// What checkpatch said of each patch.
    fn checkpatch(&mut self, style: &checkpatch::Checked) -> Result<()> {
        let _ = writeln!(self.txt, "\n{}", style.summary());
        let checkpatch::Checked::Ran(list) = style else {
            return Ok(());
        };
        for v in list {
            let _ = writeln!(
                self.txt,
                "  {}: {} errors, {} warnings",
                v.patch, v.errors, v.warnings
            );
            for m in &v.messages {
                let _ = writeln!(self.txt, "      {m}");
            }
            self.record(&serde_json::json!({ "type": "checkpatch", "checkpatch": v }))?;
        }
        Ok(())
    }
}

/// The NOT COMPILED lines: a converted or flagged function no check can compile is verified
/// by none.
pub(super) fn not_compiled_lines(checks: &[(String, Vec<ObjectNeeds>)]) -> Vec<String> {
    expected_builds(checks)
        .into_iter()
        .filter(|(_, groups, _)| groups.is_empty())
        .map(|(f, _, why)| {
            format!(
                "NOT COMPILED: {f} reaches no compiler in any check (the checks will say NOT \
                 VERIFIED): {}",
                why.join("; ")
            )
        })
        .collect()
}

/// Per converted or flagged function (`file:line function`), the groups whose main build is
/// expected to compile it, and why not in the others: its object is not built there, or its
/// code is under a symbol no way to enable was found for. A prediction from the Kbuild and
/// Kconfig analysis; the check scripts measure it with the preprocessor.
fn expected_builds(
    checks: &[(String, Vec<ObjectNeeds>)],
) -> Vec<(String, Vec<String>, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>, Vec<String>)> = Vec::new();
    for (g, objects) in checks {
        for o in objects {
            for (f, cond) in &o.functions {
                let i = match out.iter().position(|(x, _, _)| x == f) {
                    Some(i) => i,
                    None => {
                        out.push((f.clone(), Vec::new(), Vec::new()));
                        out.len() - 1
                    }
                };
                // A header reaches the compiler through the objects that include it: the
                // check looks for it in each built object's dependency list.
                let includers = objects.iter().any(|x| !x.object.is_empty());
                match left_out_by(cond, &o.unreachable) {
                    _ if o.object.is_empty() && !is_header(&o.source) => {
                        out[i].2.push(format!("{g}: no object"))
                    }
                    _ if o.object.is_empty() && !includers => out[i].2.push(format!(
                        "{g}: a header, and no object the check builds could include it"
                    )),
                    Some(u) => out[i].2.push(format!(
                        "{g}: under CONFIG_{u}, which no way to enable was found for"
                    )),
                    None if o.object.is_empty() => out[i].1.push(format!(
                        "{g} (if an object it builds includes {})",
                        o.source
                    )),
                    None => out[i].1.push(g.clone()),
                }
            }
        }
    }
    out
}

/// A C header: its functions reach the compiler in the objects that include it.
pub(super) fn is_header(path: &str) -> bool {
    path.ends_with(".h")
}

/// The unreachable symbol a condition (as `guards::site_condition` spells it) needs on, when
/// one of its conjuncts is a plain test of it.
fn left_out_by<'u>(cond: &str, unreachable: &'u [String]) -> Option<&'u str> {
    let parts: Vec<&str> = cond.split(" && ").collect();
    unreachable
        .iter()
        .find(|u| {
            let plain = format!("(defined(CONFIG_{u}))");
            let enabled = format!("((defined(CONFIG_{u}) || defined(CONFIG_{u}_MODULE)))");
            parts.iter().any(|p| *p == plain || *p == enabled)
        })
        .map(String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_function_under_an_unreachable_symbol_is_expected_nowhere() {
        let o = |group: &str, unreachable: &[&str]| {
            (
                group.to_string(),
                vec![ObjectNeeds {
                    object: "mm/hmm.o".into(),
                    unreachable: unreachable.iter().map(|s| s.to_string()).collect(),
                    functions: vec![
                        (
                            "mm/hmm.c:25 hmm_mirror".into(),
                            "(defined(CONFIG_HMM))".into(),
                        ),
                        (
                            "mm/hmm.c:40 hmm_other".into(),
                            "!(defined(CONFIG_HMM))".into(),
                        ),
                    ],
                    ..ObjectNeeds::default()
                }],
            )
        };
        let e = expected_builds(&[o("generic", &[]), o("generic-arm64", &["HMM"])]);
        assert_eq!(e[0].0, "mm/hmm.c:25 hmm_mirror");
        assert_eq!(e[0].1, ["generic"]);
        assert_eq!(
            e[0].2,
            ["generic-arm64: under CONFIG_HMM, which no way to enable was found for"]
        );
        // Under `#ifndef CONFIG_HMM` (an #else arm): compiled where HMM cannot be on.
        assert_eq!(e[1].1, ["generic", "generic-arm64"]);
        let none = expected_builds(&[o("generic-arm64", &["HMM"])]);
        assert!(none[0].1.is_empty());
    }

    #[test]
    fn a_header_function_is_expected_where_an_object_is_built_and_nowhere_else() {
        let header = ObjectNeeds {
            source: "include/linux/walk.h".into(),
            functions: vec![("include/linux/walk.h:9 walk_all".into(), String::new())],
            ..ObjectNeeds::default()
        };
        let object = ObjectNeeds {
            object: "mm/madvise.o".into(),
            source: "mm/madvise.c".into(),
            ..ObjectNeeds::default()
        };
        let with = expected_builds(&[("generic".into(), vec![header.clone(), object])]);
        assert_eq!(
            with[0].1,
            ["generic (if an object it builds includes include/linux/walk.h)"]
        );
        assert_eq!(
            not_compiled_lines(&[("generic".into(), vec![header.clone()])]).len(),
            1
        );
        let alone = expected_builds(&[("generic".into(), vec![header])]);
        assert!(alone[0].1.is_empty());
        assert_eq!(
            alone[0].2,
            ["generic: a header, and no object the check builds could include it"]
        );
    }
}
