//! `rules`: list the bundled rules, or those given with --rule.

use std::io::Write;

use anyhow::Result;

use crate::{EXIT_OK, rule};

pub fn run(rules: &[String], out: &mut dyn Write) -> Result<i32> {
    let all = if rules.is_empty() {
        rule::bundled()?
    } else {
        rule::select(rules)?
    };
    for r in all {
        writeln!(
            out,
            "{}\t{}\t{}\t{}",
            r.id,
            r.kind.name(),
            r.source.display(),
            r.summary
        )?;
    }
    Ok(EXIT_OK)
}
