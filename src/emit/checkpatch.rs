//! The tree's own `scripts/checkpatch.pl` on every generated patch: style nits cost a review
//! round, so the series reports them (per patch, in the report) before anyone mails it.

use std::path::{Path, PathBuf};

use serde::Serialize;

/// What checkpatch said of one patch.
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    /// The patch's file name.
    pub patch: String,
    pub errors: usize,
    pub warnings: usize,
    /// checkpatch's `ERROR:`/`WARNING:`/`CHECK:` lines, or why it could not run.
    pub messages: Vec<String>,
    /// checkpatch ran and printed its totals.
    pub ran: bool,
}

#[derive(Debug, Clone)]
pub enum Checked {
    /// Not run, and why (no checkpatch.pl in the tree, no perl).
    Skipped(String),
    Ran(Vec<Verdict>),
}

impl Checked {
    /// One line for the summary: `checkpatch: 0 errors, 0 warnings in 3 patches`.
    pub fn summary(&self) -> String {
        match self {
            Checked::Skipped(why) => format!("checkpatch: skipped: {why}"),
            Checked::Ran(v) => {
                let failed = v.iter().filter(|x| !x.ran).count();
                let (e, w) = v
                    .iter()
                    .fold((0, 0), |(e, w), x| (e + x.errors, w + x.warnings));
                let mut s = format!(
                    "checkpatch: {e} errors, {w} warnings in {} patches",
                    v.len()
                );
                if failed > 0 {
                    s.push_str(&format!("; it could not check {failed}"));
                }
                s
            }
        }
    }
}

fn perl() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("perl"))
        .find(|p| p.is_file())
}

/// Run checkpatch on each patch, side by side, from the tree's top (where it finds its
/// spelling list and MAINTAINERS).
pub fn run(tree: &Path, patches: &[PathBuf]) -> Checked {
    let script = tree.join("scripts/checkpatch.pl");
    if !script.is_file() {
        return Checked::Skipped(format!("{} has no scripts/checkpatch.pl", tree.display()));
    }
    let Some(perl) = perl() else {
        return Checked::Skipped("no perl on PATH".into());
    };
    use rayon::prelude::*;
    Checked::Ran(
        patches
            .par_iter()
            .map(|p| check_one(tree, &perl, &script, p))
            .collect(),
    )
}

fn check_one(tree: &Path, perl: &Path, script: &Path, patch: &Path) -> Verdict {
    let name = patch
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let out = std::process::Command::new(perl)
        .arg(script)
        .arg(patch)
        .current_dir(tree)
        .output();
    let mut v = Verdict {
        patch: name,
        errors: 0,
        warnings: 0,
        messages: Vec::new(),
        ran: false,
    };
    let out = match out {
        Ok(o) => o,
        Err(e) => {
            v.messages.push(format!("could not run checkpatch.pl: {e}"));
            return v;
        }
    };
    let text = String::from_utf8_lossy(&out.stdout);
    for l in text.lines() {
        if l.starts_with("ERROR:") || l.starts_with("WARNING:") || l.starts_with("CHECK:") {
            v.messages.push(l.to_string());
        }
        if let Some((e, w)) = totals(l) {
            (v.errors, v.warnings, v.ran) = (e, w, true);
        }
    }
    if !v.ran {
        let err = String::from_utf8_lossy(&out.stderr);
        v.messages.push(format!(
            "checkpatch.pl printed no totals: {}",
            err.lines().next().unwrap_or("(no message)")
        ));
    }
    v
}

/// `total: 1 errors, 2 warnings, 3 checks, 884 lines checked` (older: no checks).
fn totals(line: &str) -> Option<(usize, usize)> {
    let rest = line.strip_prefix("total: ")?;
    let mut nums = rest
        .split(", ")
        .map(|p| p.split(' ').next()?.parse::<usize>().ok());
    Some((nums.next()??, nums.next()??))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_of_old_and_new_checkpatch() {
        assert_eq!(
            totals("total: 0 errors, 0 warnings, 884 lines checked"),
            Some((0, 0))
        );
        assert_eq!(
            totals("total: 1 errors, 2 warnings, 3 checks, 40 lines checked"),
            Some((1, 2))
        );
        assert_eq!(totals("NOTE: x"), None);
    }
}
