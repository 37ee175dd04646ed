//! `completions SHELL` and `man` (hidden): shell completions and the man page, generated from
//! the clap definitions so they never disagree with `--help`.

use std::io::Write;

use anyhow::Result;
use clap::CommandFactory;

use crate::EXIT_OK;
use crate::cli::Cli;

pub fn completions(shell: clap_complete::Shell, out: &mut dyn Write) -> Result<i32> {
    let mut cmd = Cli::command();
    // clap_complete panics when its writer fails (a closed pipe): it writes to memory, and the
    // write that may fail is ours.
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cmd, "kcodemod", &mut script);
    out.write_all(&script)?;
    Ok(EXIT_OK)
}

/// One roff page: the top-level page, then a section per visible subcommand with its own
/// options and exit codes.
pub fn man(out: &mut dyn Write) -> Result<i32> {
    let cmd = Cli::command();
    clap_mangen::Man::new(cmd.clone()).render(out)?;
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let title = format!("KCODEMOD {}", sub.get_name().to_uppercase());
        writeln!(out, ".SH \"{title}\"")?;
        let man = clap_mangen::Man::new(sub.clone());
        man.render_description_section(out)?;
        man.render_options_section(out)?;
    }
    Ok(EXIT_OK)
}
