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
    let mut txt = String::new();
    let mut json = String::new();
    // The lines a reader must see first: INCOMPLETE, NOT BUILT.
    for line in heads {
        let _ = writeln!(txt, "{line}\n");
        let kind = match line.starts_with("NOT BUILT") {
            true => "not-built",
            false => "incomplete",
        };
        json.push_str(&serde_json::to_string(
            &serde_json::json!({ "type": kind, "message": line }),
        )?);
        json.push('\n');
    }
    let _ = writeln!(txt, "{}\n", report::summary(run));
    for (f, s) in run.sites() {
        let mut row = report::SiteRecord::new(rules, f, s);
        let arch = kbuild::arch_group(&f.rel);
        let why = row
            .reason
            .map(|r| format!(": {r} [{}]", row.code.unwrap_or("")))
            .unwrap_or_default();
        let _ = writeln!(
            txt,
            "{}:{}: {}: [{arch}] {}{why}",
            f.rel, s.site.line, s.site.function, row.status
        );
        row.arch = Some(arch);
        json.push_str(&serde_json::to_string(&row)?);
        json.push('\n');
    }
    txt.push_str("\nCompile checks (Kconfig symbols each object needs, and why):\n");
    for (g, objects) in checks {
        for o in objects {
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
            json.push_str(&serde_json::to_string(
                &serde_json::json!({ "type": "check", "check": row }),
            )?);
            json.push('\n');
        }
    }
    reproduce.write(&run.tree, &mut txt, &mut json)?;
    let _ = writeln!(txt, "\n{}", style.summary());
    match style {
        checkpatch::Checked::Skipped(_) => {}
        checkpatch::Checked::Ran(list) => {
            for v in list {
                let _ = writeln!(
                    txt,
                    "  {}: {} errors, {} warnings",
                    v.patch, v.errors, v.warnings
                );
                for m in &v.messages {
                    let _ = writeln!(txt, "      {m}");
                }
                json.push_str(&serde_json::to_string(
                    &serde_json::json!({ "type": "checkpatch", "checkpatch": v }),
                )?);
                json.push('\n');
            }
        }
    }
    write_file(&out.join("report.txt"), txt.as_bytes())?;
    write_file(&out.join("report.json"), json.as_bytes())
}
