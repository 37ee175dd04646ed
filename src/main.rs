//! The binary: parse the command line, run, exit with the documented code.

use clap::Parser;

fn main() {
    let cli = kcodemod::cli::Cli::parse();
    // Commands that walk a tree stop cleanly on SIGINT/SIGTERM (they poll the flag); the
    // others keep the default action, so Ctrl-C ends them at once.
    if cli.command.walks_tree() {
        kcodemod::catch_signals();
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut err = std::io::stderr();
    let code = match kcodemod::run(cli, &mut out, &mut err) {
        Ok(code) => code,
        Err(e) if kcodemod::is_broken_pipe(&e) => 0,
        Err(e) => {
            say(&format!("kcodemod: {e:#}"));
            kcodemod::EXIT_ERROR
        }
    };
    use std::io::Write;
    if let Err(e) = out.flush()
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        say(&format!("kcodemod: {e}"));
        std::process::exit(kcodemod::EXIT_ERROR);
    }
    std::process::exit(code);
}

/// A last line on stderr, if stderr takes it: a full or closed stderr must not turn an error
/// into a panic (`eprintln!` panics when the write fails); the exit code still tells.
fn say(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{line}");
}
