//! Command-line definitions (clap derive) and nothing else.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Mechanical API migrations on Linux kernel C trees, right or flagged.
///
/// Exit codes: 0 = done (for `check`: no old-API site left); 1 = `check` found old-API sites
/// (convertible or flagged), `diff`/`apply`/`series` left sites for manual conversion
/// (INCOMPLETE: the tree does not build until they are converted), or `test` found failing
/// cases; 2 = errors (a file could not be
/// read, parsed or written, a bad rule file, bad arguments); 130 = interrupted by SIGINT or
/// SIGTERM (files already written are complete, the rest untouched). Per-file problems are
/// reported as `path: why` on stderr and the run goes on; the exit code says they happened.
#[derive(Parser, Debug)]
#[command(name = "kcodemod", version, about, long_about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Dry run: print a unified diff of every change (applies with `git apply`).
    Diff(RunArgs),
    /// Rewrite files in place (atomically, one file at a time).
    Apply(RunArgs),
    /// Change nothing; exit 1 when any old-API site remains (a CI gate).
    Check(RunArgs),
    /// Write a reviewable, build-checked series to OUTDIR: diffs/<arch>.diff, patches/ (a cover
    /// letter and `git am`-able patches), check/<arch>.sh and check/all.sh, report.txt/.json.
    Series(Box<SeriesArgs>),
    /// List the rules (bundled, or those given with --rule).
    Rules {
        #[arg(long = "rule", value_name = "RULE")]
        rules: Vec<String>,
    },
    /// Run rules' fixtures: Pass / Missing / Noisy / Wrong per case.
    Test {
        /// Rule ids (default: every bundled rule).
        rules: Vec<String>,
        /// Directory holding `<rule-id>/` fixture directories.
        #[arg(long, default_value = "fixtures")]
        fixtures: PathBuf,
    },
}

impl Command {
    /// Does the command walk a tree (and so poll for SIGINT/SIGTERM)?
    pub fn walks_tree(&self) -> bool {
        matches!(
            self,
            Command::Diff(_) | Command::Apply(_) | Command::Check(_) | Command::Series(_)
        )
    }
}

#[derive(Args, Debug, Clone)]
pub struct RunArgs {
    /// The kernel tree (diff paths are relative to it).
    pub tree: PathBuf,
    /// Restrict the run to these files or directories (relative to TREE or absolute).
    pub paths: Vec<PathBuf>,
    /// A bundled rule id or a rule file path; repeatable. Default: every bundled rule.
    #[arg(long = "rule", value_name = "RULE")]
    pub rules: Vec<String>,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Args, Debug, Clone)]
pub struct SeriesArgs {
    #[command(flatten)]
    pub run: RunArgs,
    /// Output directory: new, empty, or an earlier series' output (replaced whole). A
    /// non-empty directory kcodemod did not write is refused.
    #[arg(short = 'o', long = "out", value_name = "OUTDIR")]
    pub out: PathBuf,
    /// `none`: one bisectable patch; `arch`: the API patch plus one patch per arch group.
    #[arg(long, value_enum, default_value_t = crate::emit::series::Split::None)]
    pub split: crate::emit::series::Split,
    /// `Name <mail>` for From: and Signed-off-by: (default: git config in TREE).
    #[arg(long, value_name = "IDENT")]
    pub signoff: Option<String>,
    /// A patch that already makes the API change: it becomes patch 1, and only callers are
    /// converted.
    #[arg(long, value_name = "FILE")]
    pub base_patch: Option<PathBuf>,
    /// Subject prefix for an arch group, e.g. `--prefix generic=mm` (repeatable).
    #[arg(long = "prefix", value_name = "GROUP=PREFIX")]
    pub prefixes: Vec<String>,
    /// Also compile-check the code outside `arch/` for this ARCH (repeatable; the host's
    /// x86_64 is always checked), e.g. `--generic-arch arm64`: `check/generic-arm64.sh`.
    #[arg(long = "generic-arch", value_name = "ARCH")]
    pub generic_arches: Vec<String>,
    /// The tree's own defconfig for an ARCH's checks, e.g. `--defconfig arm64=vendor_defconfig`
    /// (repeatable; default: the arch's usual one, `ppc64_defconfig` for powerpc).
    #[arg(long = "defconfig", value_name = "ARCH=NAME")]
    pub defconfigs: Vec<String>,
    /// Date: header of every patch: RFC 2822, ISO 8601 or @SECONDS (default:
    /// SOURCE_DATE_EPOCH, else now). Written as RFC 2822.
    #[arg(long)]
    pub date: Option<String>,
    /// Mark the series as version N: `[PATCH vN 1/3]`, files `vN-0001-….patch`.
    #[arg(short = 'v', long = "reroll-count", value_name = "N")]
    pub reroll: Option<u32>,
    /// The subject tag instead of `PATCH`, e.g. `RFC PATCH`.
    #[arg(long, value_name = "PREFIX", default_value = "PATCH")]
    pub subject_prefix: String,
    /// Add a To: recipient to every message (repeatable), before those MAINTAINERS names.
    #[arg(long, value_name = "ADDRESS")]
    pub to: Vec<String>,
    /// Add a Cc: recipient to every message (repeatable).
    #[arg(long, value_name = "ADDRESS")]
    pub cc: Vec<String>,
}

#[derive(Args, Debug, Clone)]
pub struct Common {
    /// JSON Lines on stdout: one record per site and per problem, then a summary record.
    #[arg(long)]
    pub json: bool,
    /// Worker threads (default: the number of CPUs).
    #[arg(short = 'j', long = "jobs")]
    pub jobs: Option<usize>,
    /// Colour in diagnostics.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
    /// No summary line and no progress.
    #[arg(short, long)]
    pub quiet: bool,
    /// Files larger than this many bytes are skipped with a stated reason.
    #[arg(long, default_value_t = 8 << 20)]
    pub max_size: u64,
    /// Per-file parse time limit in milliseconds.
    #[arg(long, default_value_t = 10_000)]
    pub parse_timeout_ms: u64,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Color {
    Auto,
    Always,
    Never,
}
