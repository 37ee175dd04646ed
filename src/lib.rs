//! kcodemod: rule-driven API migrations on Linux kernel C trees.
//!
//! Data flow: `rule` (compiled rule files) → `walk` (candidate files, literal prefilter) →
//! `parse` (the parse view and tree-sitter) → `struct_to_ops` (proofs and edit plans) →
//! `edit` (one sorted, disjoint edit set per file) → `pipeline` (rayon over files, results in
//! path order) → `report` (diagnostics, diffs, JSON Lines) and `write` (atomic rewrites).
//! The command bodies live in `commands`; here: the module list, exit codes, dispatch and
//! signal handling.

pub mod across;
pub mod budget;
pub mod cli;
pub mod commands;
pub mod compat;
pub mod edit;
pub mod elsewhere;
pub mod emit;
pub mod fixture;
pub mod includes;
pub mod kinds;
pub mod model;
pub mod parse;
pub mod pipeline;
pub mod report;
pub mod rule;
pub mod target;
pub mod tree;
pub mod verdict;
pub mod walk;
pub mod write;

// The kinds' old paths, kept for the code and tests that name them.
pub use kinds::{callback_signature, struct_retype, struct_to_ops};

use anyhow::Result;
use std::io::{self, Write};

use cli::{Cli, Command};

/// Exit codes, as documented in `--help` and the README.
pub const EXIT_OK: i32 = 0;
pub const EXIT_FINDINGS: i32 = 1;
pub const EXIT_ERROR: i32 = 2;
/// SIGINT/SIGTERM: `apply` renamed nothing (its new texts are written all before any rename).
pub const EXIT_INTERRUPTED: i32 = 130;

/// Raised by SIGINT or SIGTERM once [`catch_signals`] ran.
static INTERRUPTED: std::sync::LazyLock<std::sync::Arc<std::sync::atomic::AtomicBool>> =
    std::sync::LazyLock::new(Default::default);

/// Has SIGINT or SIGTERM arrived since [`catch_signals`]?
pub fn interrupted() -> bool {
    INTERRUPTED.load(std::sync::atomic::Ordering::Relaxed)
}

/// From now on SIGINT and SIGTERM only raise a flag: the run stops taking new files, finishes
/// (or discards) the one being written, reports, and exits 130.
pub fn catch_signals() {
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        let _ = signal_hook::flag::register(sig, std::sync::Arc::clone(&INTERRUPTED));
    }
}

/// Run a parsed command line; returns the exit code. Output goes to the given writers so
/// tests can drive the tool in-process.
pub fn run(cli: Cli, out: &mut dyn Write, err: &mut dyn Write) -> Result<i32> {
    use commands::tree::Mode;
    match cli.command {
        Command::Diff(a) => commands::tree::run(a, Mode::Diff, out, err),
        Command::Apply(a) => {
            let mode = Mode::Apply {
                keep_going: a.keep_going,
            };
            commands::tree::run(a.run, mode, out, err)
        }
        Command::Check(a) => commands::tree::run(a, Mode::Check, out, err),
        Command::Series(a) => commands::series::run(*a, out, err),
        Command::Rules(a) => commands::rules::run(&a, out),
        Command::Test(a) => commands::test::run(&a, out, err),
        Command::Completions { shell } => commands::docs::completions(shell, out),
        Command::Man => commands::docs::man(out),
    }
}

/// Broken pipes end the program quietly, as for any Unix filter.
pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}
