//! `rules`: list the bundled rules, or those given with --rule.

use std::io::Write;

use anyhow::Result;

use crate::cli::RulesArgs;
use crate::{EXIT_OK, rule};

pub fn run(a: &RulesArgs, out: &mut dyn Write) -> Result<i32> {
    let all = if a.rules.is_empty() {
        rule::bundled()?
    } else {
        rule::select(&a.rules)?
    };
    for r in all {
        if a.json {
            let rec = serde_json::json!({
                "type": "rule",
                "id": r.id,
                "kind": r.kind.name(),
                "source": r.source,
                "summary": r.summary,
                // Runs without --rule (and without --target) only when on by default.
                "default": r.default,
            });
            writeln!(out, "{rec}")?;
        } else {
            writeln!(
                out,
                "{}\t{}\t{}\t{}",
                r.id,
                r.kind.name(),
                r.source.display(),
                r.summary
            )?;
        }
    }
    Ok(EXIT_OK)
}
