//! Compile-check scripts: the text of `check/<group>.sh` and `check/all.sh` from the objects
//! and Kconfig symbols the Kbuild resolution found. The bash lives in `check.sh.in` and
//! `check-all.sh.in`; only the data (arrays, toolchain) is written here.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use sha2::{Digest, Sha256};

use super::kbuild::{ObjectNeeds, Toolchain, is_symbol, push_new_key};
use crate::model::Outcome;
use crate::pipeline::FileResult;

/// A file the series changes, as the check scripts verify it in TREE before building: the
/// tree must carry the series, or its verdict would be about some other code.
pub struct Touched {
    pub path: String,
    /// SHA-256 of the file before the series (empty: the series creates it).
    pub before: String,
    /// SHA-256 of the file after the series.
    pub after: String,
    /// The series leaves sites in it for conversion by hand: edits after the series are
    /// expected there (any content but the one before the series).
    pub by_hand: bool,
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The files the series changes, with the hashes the scripts compare TREE against.
pub fn touched_files(changed: &[&FileResult]) -> Vec<Touched> {
    changed
        .iter()
        .filter_map(|f| {
            let new = f.new.as_ref()?;
            Some(Touched {
                path: f.rel.clone(),
                before: sha256_hex(&f.original),
                after: sha256_hex(new),
                by_hand: f
                    .sites
                    .iter()
                    .any(|s| matches!(s.site.outcome, Outcome::Flagged(_))),
            })
        })
        .collect()
}

/// The commit `tree` is at when it is the top of a git work tree: the base the series applies
/// to (what `git format-patch --base` writes as `base-commit:`), built beside it by the checks.
pub fn base_commit(tree: &Path) -> Option<String> {
    let git = |args: &[&str]| -> Option<String> {
        let o = Command::new("git")
            .arg("-C")
            .arg(tree)
            .args(args)
            .output()
            .ok()?;
        let out = String::from_utf8_lossy(&o.stdout).trim().to_string();
        o.status.success().then_some(out)
    };
    let top = git(&["rev-parse", "--show-toplevel"])?;
    if Path::new(&top).canonicalize().ok()? != tree.canonicalize().ok()? {
        return None;
    }
    git(&["rev-parse", "-q", "--verify", "HEAD^{commit}"])
}

pub fn sh_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=+,:@%".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The configuration a group's objects are built in: the union of their needs.
pub struct GroupConfig {
    /// Symbols to enable (with why), dependencies first.
    pub symbols: Vec<(String, String)>,
    /// Choice members switched off first.
    pub disable: Vec<(String, String)>,
    /// Symbols no way to enable was found for (with the object that wanted each).
    pub unreachable: Vec<(String, String)>,
}

/// What the scripts, the report and the TuxMake/TuxSuite plans configure for a group.
pub fn group_config(objects: &[ObjectNeeds]) -> GroupConfig {
    let mut syms: Vec<(String, String)> = Vec::new();
    let mut disable: Vec<(String, String)> = Vec::new();
    let mut unreachable: Vec<(String, String)> = Vec::new();
    for o in objects.iter().filter(|o| !o.object.is_empty()) {
        for (s, why) in &o.symbols {
            push_new_key(&mut syms, s, || format!("{}: {}", o.object, one_line(why)));
        }
        for (s, why) in &o.disable {
            push_new_key(&mut disable, s, || one_line(why));
        }
        for s in &o.unreachable {
            push_new_key(&mut unreachable, s, || o.object.clone());
        }
    }
    disable.retain(|(d, _)| !syms.iter().any(|(s, _)| s == d));
    // Only plain symbol names reach the shell.
    syms.retain(|(s, _)| is_symbol(s));
    disable.retain(|(s, _)| is_symbol(s));
    unreachable.retain(|(s, _)| is_symbol(s));
    GroupConfig {
        symbols: syms,
        disable,
        unreachable,
    }
}

/// The text of `check/<group>.sh`: configure an `O=` build directory for the group and build
/// exactly `objects` with warnings as errors, and the same at `base` (the commit the series
/// applies to, when the tree is a git repository) to tell new diagnostics from old ones.
/// Usage `check/<group>.sh [--base REV] TREE [BUILD_DIR]`.
pub fn group_script(
    group: &str,
    tc: &Toolchain,
    objects: &[ObjectNeeds],
    base: Option<&str>,
    touched: &[Touched],
) -> String {
    let objs: Vec<&ObjectNeeds> = objects.iter().filter(|o| !o.object.is_empty()).collect();
    let mut s = String::new();
    script_head(&mut s, group, tc, base);
    script_files(&mut s, objects, &objs, touched);
    script_config(&mut s, objects, &objs);
    script_guards(&mut s, &objs);
    s.push_str(DIAGNOSTICS);
    s.push_str(GROUP_BODY);
    s
}

/// What the script is, and the toolchain and base it builds with.
fn script_head(w: &mut String, group: &str, tc: &Toolchain, base: Option<&str>) {
    let _ = writeln!(w, "#!/usr/bin/env bash");
    let _ = writeln!(
        w,
        "# check/{group}.sh: generated by kcodemod. Compile-checks the objects of arch group"
    );
    let _ = writeln!(
        w,
        "# `{group}` (ARCH={}) with warnings as errors, in an O= build directory.",
        tc.arch
    );
    let _ = writeln!(w, "# Run `check/{group}.sh --help` for usage.");
    let _ = writeln!(w, "set -euo pipefail\n");
    let _ = writeln!(w, "GROUP={}", sh_quote(group));
    let _ = writeln!(w, "ARCH={}", sh_quote(&tc.arch));
    let _ = writeln!(w, "DEFCONFIG={}", sh_quote(&tc.defconfig));
    let _ = writeln!(w, "PACKAGE={}", sh_quote(&tc.package));
    let _ = writeln!(
        w,
        "CROSS_DEFAULTS=({})",
        tc.cross
            .iter()
            .map(|c| format!("'{}'", c.replace('\'', "")))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let _ = writeln!(w, "EXTRA_KCFLAGS={}", sh_quote(tc.extra_kcflags));
    let _ = writeln!(w, "X86_OBJTOOL_WORKAROUND={}", u8::from(tc.objtool));
    let _ = writeln!(
        w,
        "# The commit the series applies to (series found TREE at it), for the baseline build."
    );
    let _ = writeln!(w, "RECORDED_BASE={}", sh_quote(base.unwrap_or("")));
}

/// The files the series changes, the objects built, their old-API sites and functions.
fn script_files(
    w: &mut String,
    objects: &[ObjectNeeds],
    objs: &[&ObjectNeeds],
    touched: &[Touched],
) {
    let _ = writeln!(
        w,
        "\n# The files the series changes (`SHA256-AFTER SHA256-BEFORE BY-HAND PATH`): TREE must\n# carry the series. BY-HAND 1: sites are left in it for conversion by hand."
    );
    bash_array(
        w,
        "TOUCHED",
        touched.iter().map(|t| {
            sh_quote(&format!(
                "{} {} {} {}",
                t.after,
                if t.before.is_empty() { "-" } else { &t.before },
                u8::from(t.by_hand),
                t.path
            ))
        }),
    );
    let _ = writeln!(w, "\n# Objects to build (one make invocation each).");
    bash_array(w, "OBJECTS", objs.iter().map(|o| sh_quote(&o.object)));
    let _ = writeln!(
        w,
        "# Objects with sites the series leaves on the old API: they fail until converted by hand."
    );
    let _ = writeln!(w, "declare -A OLD_API=(");
    for o in objs.iter().filter(|o| !o.old_api.is_empty()) {
        let _ = writeln!(
            w,
            "\t[{}]={}",
            sh_quote(&o.object),
            sh_quote(&o.old_api.join(", "))
        );
    }
    let _ = writeln!(w, ")");
    let _ = writeln!(
        w,
        "# Converted and flagged functions (`OBJECT<TAB>FILE:LINE FUNCTION<TAB>CONDITION`): the C\n# condition on CONFIG_ symbols their code is compiled under (empty: always)."
    );
    // A header's functions go with the header's path: they reach the compiler in any object
    // whose dependency list (Kbuild's .cmd file) names it.
    bash_array(
        w,
        "FUNCTIONS",
        objects
            .iter()
            .filter(|o| !o.object.is_empty() || super::reports::is_header(&o.source))
            .flat_map(|o| {
                let unit = if o.object.is_empty() {
                    &o.source
                } else {
                    &o.object
                };
                o.functions
                    .iter()
                    .map(move |(f, c)| sh_quote(&format!("{unit}\t{f}\t{c}")))
            }),
    );
}

/// The Kconfig symbols to enable and disable, and those no way was found to enable.
fn script_config(w: &mut String, objects: &[ObjectNeeds], objs: &[&ObjectNeeds]) {
    let GroupConfig {
        symbols: syms,
        disable,
        unreachable,
    } = group_config(objects);
    let _ = writeln!(
        w,
        "# Kconfig symbols to enable with scripts/config -e, dependencies first; all are\n# verified to be =y or =m after olddefconfig."
    );
    bash_array(
        w,
        "SYMBOLS",
        syms.iter().map(|(s, why)| format!("{s}\t# {why}")),
    );
    let _ = writeln!(
        w,
        "# Choice members switched off (scripts/config -d) first."
    );
    bash_array(
        w,
        "DISABLE",
        disable.iter().map(|(s, why)| format!("{s}\t# {why}")),
    );
    let _ = writeln!(
        w,
        "# Symbols kcodemod found no way to enable for this arch: code under them is not compiled."
    );
    let notes: Vec<String> = objs
        .iter()
        .flat_map(|o| {
            o.notes
                .iter()
                .map(move |n| format!("{}: {}", o.object, one_line(n)))
        })
        .collect();
    if !notes.is_empty() {
        let _ = writeln!(
            w,
            "# Notes from the Kbuild/Kconfig analysis (skipped or not understood conditions):"
        );
        for n in &notes {
            let _ = writeln!(w, "#   {n}");
        }
    }
    bash_array(
        w,
        "UNREACHABLE",
        unreachable.iter().map(|(s, obj)| format!("{s}\t# {obj}")),
    );
}

/// The guards of edited lines, each built switched off, and how to switch each off.
fn script_guards(w: &mut String, objs: &[&ObjectNeeds]) {
    let _ = writeln!(
        w,
        "# Guards of edited lines, each also built switched off (`SYMBOL object`; --quick skips)."
    );
    bash_array(
        w,
        "FLIP",
        objs.iter().flat_map(|o| {
            o.flip
                .iter()
                .filter(|x| is_symbol(x))
                .map(|x| sh_quote(&format!("{x} {}", o.object)))
        }),
    );
    let _ = writeln!(
        w,
        "# `GUARD SYMBOL`: switched off with a hidden guard (its def_bool, or it selects it)."
    );
    bash_array(
        w,
        "FLIP_WITH",
        symbol_pairs(objs, |o| &o.flip_with).into_iter(),
    );
    let _ = writeln!(
        w,
        "# `GUARD SYMBOL`: enabled to switch the guard off (its prompt shows only under it)."
    );
    bash_array(
        w,
        "FLIP_ENABLE",
        symbol_pairs(objs, |o| &o.flip_enable).into_iter(),
    );
    let _ = writeln!(
        w,
        "# Each object's own Kbuild symbols: a guard build that turns one off cannot build it."
    );
    let _ = writeln!(w, "declare -A KBUILD=(");
    for o in objs.iter().filter(|o| !o.flip.is_empty()) {
        let k: Vec<&str> = o
            .kbuild
            .iter()
            .filter(|k| is_symbol(k))
            .map(String::as_str)
            .collect();
        let _ = writeln!(w, "\t[{}]={}", sh_quote(&o.object), sh_quote(&k.join(" ")));
    }
    let _ = writeln!(w, ")");
}

/// The `X Y` pairs of symbols the objects list in one field, quoted, each once, in order.
fn symbol_pairs(
    objs: &[&ObjectNeeds],
    field: impl Fn(&ObjectNeeds) -> &Vec<(String, String)>,
) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for o in objs {
        for (x, y) in field(o)
            .iter()
            .filter(|(x, y)| is_symbol(x) && is_symbol(y))
        {
            let e = sh_quote(&format!("{x} {y}"));
            if !out.contains(&e) {
                out.push(e);
            }
        }
    }
    out
}

/// A bash array, one element (with its comment) per line.
fn bash_array(w: &mut String, name: &str, rows: impl Iterator<Item = String>) {
    let _ = writeln!(w, "{name}=(");
    for r in rows {
        let _ = writeln!(w, "\t{r}");
    }
    let _ = writeln!(w, ")");
}

const GROUP_BODY: &str = include_str!("check.sh.in");

/// The bash that reads a build log's diagnostics, shared by the tree and module checks.
pub(super) const DIAGNOSTICS: &str = include_str!("diagnostics.sh.in");

pub fn all_script(groups: &[String]) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "#!/usr/bin/env bash");
    let _ = writeln!(
        s,
        "# check/all.sh: generated by kcodemod. Runs every group's compile check in turn."
    );
    let _ = writeln!(s, "set -euo pipefail\n");
    let _ = writeln!(
        s,
        "CHECK_GROUPS=({})",
        groups
            .iter()
            .map(|g| sh_quote(g))
            .collect::<Vec<_>>()
            .join(" ")
    );
    s.push_str(ALL_BODY);
    s
}

const ALL_BODY: &str = include_str!("check-all.sh.in");

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emit::kbuild::toolchain;

    #[test]
    fn scripts_text() {
        let tc = toolchain("openrisc").unwrap();
        let o = ObjectNeeds {
            object: "arch/openrisc/kernel/dma.o".into(),
            symbols: vec![("MMU".into(), "why\nnot".into())],
            unreachable: vec!["FOO".into()],
            ..ObjectNeeds::default()
        };
        let s = group_script("openrisc", &tc, &[o], None, &[]);
        assert!(s.starts_with("#!/usr/bin/env bash\n"));
        assert!(s.contains("set -euo pipefail"));
        assert!(s.contains("CROSS_DEFAULTS=('or1k-elf-' 'or1k-linux-')"));
        assert!(s.contains("EXTRA_KCFLAGS=-Wno-error=cpp"));
        assert!(s.contains("\tMMU\t# arch/openrisc/kernel/dma.o: why not\n"));
        assert!(s.contains("\tarch/openrisc/kernel/dma.o\n"));
        let x = group_script(
            "generic",
            &toolchain("generic").unwrap(),
            &[],
            Some("abc"),
            &[],
        );
        assert!(x.contains("X86_OBJTOOL_WORKAROUND=1") && x.contains("EXTRA_KCFLAGS=''"));
        let a = all_script(&["generic".into(), "s390".into()]);
        assert!(a.contains("CHECK_GROUPS=(generic s390)"));
    }

    /// bash -n on the generated scripts (bash runs them; it is not optional).
    #[test]
    fn scripts_parse_with_bash() {
        let tc = toolchain("s390").unwrap();
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in [
            ("s390.sh", group_script("s390", &tc, &[], None, &[])),
            ("all.sh", all_script(&["s390".into()])),
        ] {
            let p = dir.path().join(name);
            std::fs::write(&p, text).unwrap();
            let st = std::process::Command::new("bash")
                .arg("-n")
                .arg(&p)
                .status()
                .expect("bash runs");
            assert!(st.success(), "{name}");
        }
        let out = std::process::Command::new("bash")
            .arg(dir.path().join("s390.sh"))
            .arg("--help")
            .output()
            .expect("bash runs");
        assert!(out.status.success());
        assert!(String::from_utf8_lossy(&out.stdout).contains(
            "usage: s390.sh [--base REV | --no-baseline] [--quick] [--allow-edits] TREE [BUILD_DIR]"
        ));
    }
}
