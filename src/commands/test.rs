//! `test`: run rules' fixture cases and tell Pass / Missing / Noisy / Wrong per case.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::{EXIT_ERROR, EXIT_FINDINGS, EXIT_OK, fixture, rule};

pub fn run(
    rules: &[String],
    fixtures: Option<&Path>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<i32> {
    let mut failed = 0;
    // Every bundled rule's fixtures, also those of rules that run only when named.
    let all = if rules.is_empty() {
        rule::bundled()?
    } else {
        rule::select(rules)?
    };
    let mut untested = 0;
    for r in all {
        let dir = fixtures_dir(&r, fixtures)?;
        let cases = fixture::cases(&dir).map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?;
        // A rule without a case tested nothing: that is not a pass.
        if cases.is_empty() {
            untested += 1;
            writeln!(
                err,
                "kcodemod: {}: no fixture case (NAME.c) in {}: nothing was tested",
                r.id,
                dir.display()
            )?;
        }
        for case in cases {
            let v = fixture::check(&r, &case)?;
            if v != fixture::Verdict::Pass {
                failed += 1;
            }
            writeln!(out, "{}/{}: {v}", r.id, case.name)?;
        }
    }
    Ok(if untested > 0 {
        EXIT_ERROR
    } else if failed > 0 {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    })
}

/// Where a rule's fixture cases live: `--fixtures DIR/<id>`, else the source tree the binary
/// was built from (bundled rules), else `fixtures/<id>` beside the rule file's directory.
fn fixtures_dir(r: &rule::Rule, given: Option<&Path>) -> Result<PathBuf> {
    if let Some(d) = given {
        return Ok(d.join(&r.id));
    }
    let mut tried = Vec::new();
    if rule::BUNDLED.iter().any(|(p, _)| Path::new(p) == r.source) {
        tried.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures"));
    }
    if let Some(rules_dir) = r.source.parent() {
        tried.push(rules_dir.join("..").join("fixtures"));
    }
    let found = tried.iter().map(|d| d.join(&r.id)).find(|d| d.is_dir());
    found.ok_or_else(|| {
        let tried: Vec<_> = tried
            .iter()
            .map(|d| d.join(&r.id).display().to_string())
            .collect();
        anyhow::anyhow!(
            "{}: no fixtures found (looked in {}); pass --fixtures DIR, DIR holding {}/",
            r.id,
            tried.join(", "),
            r.id
        )
    })
}
