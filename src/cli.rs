//! Command-line definitions (clap derive) and nothing else.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Mechanical API migrations on Linux kernel C trees, right or flagged.
///
/// Exit codes:
///   0    done; for `check`: no old-API site left.
///   1    `check`: old-API sites remain (convertible or flagged); `diff`/`apply`/`series` left
///        sites for manual conversion (INCOMPLETE: the tree does not build until they are
///        converted, or only the old API's own definitions are left, which the converted code
///        does not use); `test`: a fixture case failed.
///   2    the tree could not be (fully) processed, for every command: a path could not be read
///        or written; a file holding a rule's literal was left unchecked (over --max-size,
///        parse timeout, NUL bytes, generated file); no C file was read at all; a path
///        argument leads outside TREE or does not exist; a bad rule file or bad arguments;
///        `apply` found a file it cannot write (then nothing is written, unless --keep-going).
///        2 wins over 1.
///   130  interrupted by SIGINT or SIGTERM: `apply` renames nothing unless every new text was
///        written (a rerun finishes an apply killed outright); the files are listed.
/// Per-file problems are reported as `path: why` on stderr (paths relative to TREE) and the
/// run goes on; the exit code says they happened.
#[derive(Parser, Debug)]
#[command(name = "kcodemod", version, about, long_about, verbatim_doc_comment)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Dry run: print a unified diff of every change (applies with `git apply`).
    ///
    /// Exit codes: 0 done; 2 a path could not be read, a file holding a rule's literal was left
    /// unchecked, no C file was read, or a bad argument; 130 interrupted.
    Diff(RunArgs),
    /// Rewrite files in place, all or nothing.
    ///
    /// Every file to write is checked for writability first, and every new text is written to
    /// a temporary file beside its file before the first is renamed over it: if one cannot be
    /// written (a full disk), nothing is (unless --keep-going). Owner, group and mode are kept. Exit codes: 0 done; 2 a path could not be read or written, a
    /// file holding a rule's literal was left unchecked, no C file was read, or a bad argument;
    /// 130 interrupted (the files written and not written are listed).
    Apply(ApplyArgs),
    /// Change nothing; exit 1 when any old-API site remains (a CI gate).
    ///
    /// Exit codes: 0 no old-API site left; 1 old-API sites remain (convertible or flagged);
    /// 2 the tree could not be checked: a path could not be read, a file holding a rule's
    /// literal was left unchecked (size, parse timeout, NUL bytes, generated), no C file was
    /// read, or a bad argument (2 wins over 1); 130 interrupted.
    Check(RunArgs),
    /// Write a reviewable, build-checked series to OUTDIR: diffs/<arch>.diff, patches/ (a cover
    /// letter and `git am`-able patches), check/<arch>.sh and check/all.sh, report.txt/.json.
    ///
    /// Exit codes: 0 the series is complete; 1 INCOMPLETE: sites are left for manual
    /// conversion (the series does not build until they are converted); 2 a path could not be
    /// read or written, a file holding a rule's literal was left unchecked, no C file was
    /// read, OUTDIR is not one kcodemod may replace, or a bad argument; 130 interrupted
    /// (nothing was written).
    Series(Box<SeriesArgs>),
    /// List the rules (bundled, or those given with --rule): id, kind, file, summary.
    ///
    /// Exit codes: 0 listed; 2 a rule file could not be read or is not a valid rule, an
    /// unknown rule id, or a bad argument.
    Rules(RulesArgs),
    /// Run rules' fixtures: Pass / Missing / Noisy / Wrong per case.
    ///
    /// Exit codes: 0 every case passes; 1 a case fails; 2 a rule has no case at all (nothing
    /// was tested), its fixtures were not found, a bad rule, or a bad argument.
    Test(TestArgs),
    /// Print a shell completion script for SHELL on stdout.
    #[command(hide = true)]
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) on stdout.
    #[command(hide = true)]
    Man,
}

#[derive(Args, Debug, Clone)]
pub struct RulesArgs {
    /// A bundled rule id or a rule file path; repeatable. Default: every bundled rule.
    #[arg(long = "rule", value_name = "RULE")]
    pub rules: Vec<String>,
    /// JSON Lines on stdout: one `rule` record per rule.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug, Clone)]
pub struct TestArgs {
    /// Rule ids or rule file paths (default: every bundled rule).
    pub rules: Vec<String>,
    /// Directory holding `<rule-id>/` fixture directories. Default: `fixtures/` beside a
    /// rule file's `rules/` directory (`fixtures/<id>/` for a fixture-only rule in
    /// `fixtures/rules/`); for bundled rules, the kcodemod source tree the binary was built
    /// from.
    #[arg(long)]
    pub fixtures: Option<PathBuf>,
    /// JSON Lines on stdout: one `case` record per fixture case, then a summary record.
    #[arg(long)]
    pub json: bool,
}

impl Command {
    /// Does the command walk a tree (and so poll for SIGINT/SIGTERM)?
    pub fn walks_tree(&self) -> bool {
        matches!(
            self,
            Command::Diff(_) | Command::Apply(_) | Command::Check(_) | Command::Series(_)
        )
    }

    /// Was `--json` asked for (then a fatal error is also a JSON record on stdout)?
    pub fn json(&self) -> bool {
        match self {
            Command::Diff(a) | Command::Check(a) => a.common.json,
            Command::Apply(a) => a.run.common.json,
            Command::Series(a) => a.run.common.json,
            Command::Rules(a) => a.json,
            Command::Test(a) => a.json,
            Command::Completions { .. } | Command::Man => false,
        }
    }
}

#[derive(Args, Debug, Clone)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub run: RunArgs,
    /// When some files cannot be written, write the others anyway (the failures are reported
    /// and the exit code is 2). Without it, a file that cannot be written stops every write.
    #[arg(long)]
    pub keep_going: bool,
}

#[derive(Args, Debug, Clone)]
pub struct RunArgs {
    /// The kernel tree (every path in the output is relative to it).
    pub tree: PathBuf,
    /// Restrict the run to these files or directories: relative to TREE (or to the current
    /// directory when TREE has no such path) or absolute. A path leading outside TREE (by `..`
    /// or a symlink) is an error.
    pub paths: Vec<PathBuf>,
    /// A bundled rule id or a rule file path; repeatable, run in the order given. Default: the
    /// bundled rules that are on by default, the v5.4 migration (`kcodemod rules --json` says
    /// which); with --target, every bundled rule the target's headers call for.
    #[arg(long = "rule", value_name = "RULE")]
    pub rules: Vec<String>,
    /// The kernel source tree the code must build against: its headers decide which rules
    /// apply (printed with why), only callers are converted, and converted files get the
    /// headers the new API lives in there.
    #[arg(long, value_name = "TARGET_TREE")]
    pub target: Option<PathBuf>,
    /// Write the new form beside the old under `#if LINUX_VERSION_CODE >= KERNEL_VERSION(…)`
    /// (the version the rule file names) instead of replacing it, so the code builds on
    /// kernels before and after the change. Rules whose kind cannot are skipped, with why.
    #[arg(long)]
    pub compat: bool,
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
    /// `Name <mail>` for From: and Signed-off-by: (default: git config in TREE). Control
    /// characters, or a value without `<address>`, are refused.
    #[arg(long, value_name = "IDENT", value_parser = crate::emit::mail::ident)]
    pub signoff: Option<String>,
    /// A patch that already makes the API change: it becomes patch 1, and only callers are
    /// converted. It must apply to TREE (`git apply --check`) and change the API's header,
    /// else it is refused.
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
    #[arg(long, value_name = "PREFIX", default_value = "PATCH",
          value_parser = crate::emit::mail::header_text)]
    pub subject_prefix: String,
    /// Add a To: recipient to every message (repeatable), before those MAINTAINERS names: an
    /// address or `Name <address>`.
    #[arg(long, value_name = "ADDRESS", value_parser = crate::emit::mail::recipient)]
    pub to: Vec<String>,
    /// Add a Cc: recipient to every message (repeatable).
    #[arg(long, value_name = "ADDRESS", value_parser = crate::emit::mail::recipient)]
    pub cc: Vec<String>,
    /// A build of the --target kernel already prepared (`make O=DIR modules_prepare`): a
    /// module's check/module.sh builds against it for x86_64 instead of preparing its own
    /// (`module.sh --arch A --target-build DIR` for another arch).
    #[arg(long, value_name = "DIR", requires = "target")]
    pub target_build: Option<PathBuf>,
    /// Do not run the tree's scripts/checkpatch.pl on the patches (it takes about two
    /// seconds of CPU per patch).
    #[arg(long)]
    pub no_checkpatch: bool,
    /// Go on in a git work tree with local edits (tracked changes, untracked C files): they
    /// go into the patches, which then apply to the working tree, not to HEAD (so no
    /// `base-commit:` is written and the check scripts build no base). Without it such a tree
    /// is refused.
    #[arg(long)]
    pub allow_dirty: bool,
    /// Check scripts without the builds that switch each guard of an edited line off
    /// (one more configuration per guard symbol and arch).
    #[arg(long)]
    pub quick: bool,
}

#[derive(Args, Debug, Clone)]
pub struct Common {
    /// JSON Lines on stdout: one record per site and per problem, then a summary record.
    #[arg(long)]
    pub json: bool,
    /// Worker threads. Default and 0: the number of CPUs. At most 4 per CPU (more only adds
    /// threads and memory: the work is parsing, bound by the CPUs); a larger N is capped, with
    /// a message on stderr.
    #[arg(short = 'j', long = "jobs")]
    pub jobs: Option<usize>,
    /// Colour in diagnostics.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
    /// No summary line and no progress.
    #[arg(short, long)]
    pub quiet: bool,
    /// Files larger than this many bytes are skipped with a stated reason (one that holds a
    /// rule's literal is unchecked: exit code 2).
    #[arg(long, default_value_t = 8 << 20)]
    pub max_size: u64,
    /// Per-file time limit in milliseconds, for the whole analysis of a file (its parses and
    /// proofs): a file that takes longer is left unchecked with the reason (exit code 2).
    #[arg(long, default_value_t = 10_000)]
    pub parse_timeout_ms: u64,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Color {
    Auto,
    Always,
    Never,
}

impl Color {
    /// Colour for `--color auto|always|never`, decided here once: what lies below the CLI
    /// gets a bool. Auto is anstream's choice for stderr: a terminal that can show it (TERM
    /// set and not `dumb`), NO_COLOR unset (and CLICOLOR/CLICOLOR_FORCE as they say).
    pub fn enabled(self) -> bool {
        match self {
            Color::Always => true,
            Color::Never => false,
            Color::Auto => {
                anstream::AutoStream::choice(&std::io::stderr()) != anstream::ColorChoice::Never
            }
        }
    }
}
