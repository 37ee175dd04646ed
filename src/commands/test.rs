//! `test`: run rules' fixture cases and tell Pass / Missing / Noisy / Wrong per case.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::cli::TestArgs;
use crate::{EXIT_ERROR, EXIT_FINDINGS, EXIT_OK, fixture, rule};

pub fn run(a: &TestArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<i32> {
    let (mut passed, mut failed) = (0, 0);
    // Every bundled rule's fixtures, also those of rules that run only when named.
    let all = if a.rules.is_empty() {
        rule::bundled()?
    } else {
        rule::select(&a.rules)?
    };
    let mut untested = Vec::new();
    for r in all {
        let dir = fixtures_dir(&r, a.fixtures.as_deref())?;
        let cases = fixture::cases(&dir).map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?;
        // A rule without a case tested nothing: that is not a pass.
        if cases.is_empty() {
            writeln!(
                err,
                "kcodemod: {}: no fixture case (NAME.c) in {}: nothing was tested",
                r.id,
                dir.display()
            )?;
            untested.push(r.id.clone());
        }
        for case in cases {
            let v = fixture::check(&r, &case)?;
            if v == fixture::Verdict::Pass {
                passed += 1;
            } else {
                failed += 1;
            }
            if a.json {
                let (verdict, detail) = match &v {
                    fixture::Verdict::Pass => ("Pass", None),
                    fixture::Verdict::Missing => ("Missing", None),
                    fixture::Verdict::Noisy(d) => ("Noisy", Some(d)),
                    fixture::Verdict::Wrong(d) => ("Wrong", Some(d)),
                };
                let rec = serde_json::json!({
                    "type": "case", "rule": r.id, "case": case.name, "verdict": verdict,
                    "detail": detail,
                });
                writeln!(out, "{rec}")?;
            } else {
                writeln!(out, "{}/{}: {v}", r.id, case.name)?;
            }
        }
    }
    if a.json {
        let rec = serde_json::json!({
            "type": "summary", "passed": passed, "failed": failed, "untested": untested,
        });
        writeln!(out, "{rec}")?;
    }
    Ok(if !untested.is_empty() {
        EXIT_ERROR
    } else if failed > 0 {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    })
}

/// Where a rule's fixture cases live: `--fixtures DIR/<id>`, else the source tree the binary
/// was built from (bundled rules), else `fixtures/<id>` beside the rule file's directory (for a
/// rule in `fixtures/rules/`, `fixtures/<id>`).
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
        // A fixture-only rule in `fixtures/rules/`: its cases are its siblings' `<id>/`.
        if rules_dir.file_name().is_some_and(|n| n == "rules")
            && rules_dir
                .parent()
                .and_then(|p| p.file_name())
                .is_some_and(|n| n == "fixtures")
        {
            tried.push(rules_dir.join(".."));
        }
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
