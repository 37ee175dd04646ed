//! The binary: parse the command line, run, exit with the documented code.

use clap::Parser;
use std::io::Write;

fn main() {
    let cli = match kcodemod::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // Bad arguments under --json are a fatal error like any other: a record on stdout
            // too (help and --version are not errors).
            if e.use_stderr() && std::env::args_os().any(|a| a == "--json") {
                let text = e.to_string();
                let first = text.lines().next().unwrap_or_default();
                json_error(&mut std::io::stdout(), first.trim_start_matches("error: "));
            }
            e.exit()
        }
    };
    let json = cli.command.json();
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
            if json {
                json_error(&mut out, &format!("{e:#}"));
            }
            say(&format!("kcodemod: {e:#}"));
            kcodemod::EXIT_ERROR
        }
    };
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
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// Under `--json`, a fatal error is also one record on stdout, so that a consumer reading only
/// stdout learns the run failed and why: `{"type":"error","fatal":true,"reason":...}`.
fn json_error(out: &mut dyn Write, reason: &str) {
    let rec = serde_json::json!({ "type": "error", "fatal": true, "reason": reason });
    let _ = writeln!(out, "{rec}");
    let _ = out.flush();
}
