//! Compile test for the fixtures: every input and every expected output must be
//! C that real compilers accept, against the rule's old-API or new-API headers.
//!
//! For each rule directory `fixtures/<rule>/` (one with a `rules/<rule>.toml`, or a fixture-only
//! `fixtures/rules/<rule>.toml`):
//! - `<case>.c` is compiled against `fixtures/include/<rule>/old` (or `new` when
//!   its first line is `/* compile: new */`; skipped for `/* compile: none */`);
//! - `<case>.expected.c` is compiled against `fixtures/include/<rule>/new`;
//! - a tree case's files likewise: each `.c` of `<case>/` as an input, each of
//!   `<case>.expected/` as an expected output (its `"..."` includes are its own headers).
//!
//! Each file is compiled once per `-D` combination of the `CONFIG_` symbols it mentions,
//! so every arm of its preprocessor guards is checked: every combination up to three
//! symbols, else at most [`MAX_COMBINATIONS`] (none, all, each alone, all but one).
//! There is one test per compiler. A missing compiler fails the test when the
//! environment variable `CI` is `true` (naming the Debian package to install) and
//! is reported and skipped otherwise. All failures are collected and reported
//! together.

use std::collections::BTreeSet;
use std::fs;
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread;

/// The most `-D` combinations one file is compiled with.
const MAX_COMBINATIONS: usize = 8;

const FLAGS: &[&str] = &["-fsyntax-only", "-Wall", "-Werror", "-nostdinc"];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Api {
    Old,
    New,
}

impl Api {
    fn dir_name(self) -> &'static str {
        match self {
            Api::Old => "old",
            Api::New => "new",
        }
    }
}

/// One file to compile, with the header tree it is written against.
struct Job {
    file: PathBuf,
    include: PathBuf,
    /// The `-D` sets to compile it with.
    configs: Vec<Vec<String>>,
}

/// The `-D` sets for a file mentioning `symbols`: every subset when there are few, else none,
/// all, each alone and all but one, up to [`MAX_COMBINATIONS`].
fn combinations(symbols: &BTreeSet<String>) -> Vec<Vec<String>> {
    let all: Vec<String> = symbols.iter().cloned().collect();
    let n = all.len();
    if 1 << n <= MAX_COMBINATIONS {
        return (0..1usize << n)
            .map(|mask| {
                (0..n)
                    .filter(|i| mask & (1 << i) != 0)
                    .map(|i| all[i].clone())
                    .collect()
            })
            .collect();
    }
    let mut out = vec![Vec::new(), all.clone()];
    out.extend(all.iter().map(|s| vec![s.clone()]));
    out.extend((0..n).map(|skip| {
        let mut v = all.clone();
        v.remove(skip);
        v
    }));
    out.truncate(MAX_COMBINATIONS);
    out
}

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// The APIs an input is written against, from its first line; none to skip it.
fn input_api(text: &str) -> Result<Vec<Api>, String> {
    let first = text.lines().next().unwrap_or("").trim();
    let Some(rest) = first.strip_prefix("/* compile:") else {
        return Ok(vec![Api::Old]);
    };
    let Some(word) = rest.strip_suffix("*/") else {
        return Err(format!("malformed compile directive {first:?}"));
    };
    match word.trim() {
        "old" => Ok(vec![Api::Old]),
        "new" => Ok(vec![Api::New]),
        // Code on both APIs under a kernel version check: each side of it.
        "both" => Ok(vec![Api::Old, Api::New]),
        "none" => Ok(Vec::new()),
        other => Err(format!("unknown compile directive {other:?}")),
    }
}

/// Every `CONFIG_*` identifier in `text`.
fn config_symbols(text: &str, out: &mut BTreeSet<String>) {
    let bytes = text.as_bytes();
    let is_ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut from = 0;
    while let Some(pos) = text[from..].find("CONFIG_") {
        let start = from + pos;
        let mut end = start + "CONFIG_".len();
        while end < bytes.len() && is_ident(bytes[end]) {
            end += 1;
        }
        let preceded = start > 0 && is_ident(bytes[start - 1]);
        if !preceded && end > start + "CONFIG_".len() {
            out.insert(text[start..end].to_string());
        }
        from = end;
    }
}

fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let rd = fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut paths = Vec::new();
    for entry in rd {
        let entry = entry.map_err(|e| format!("{}: {e}", dir.display()))?;
        paths.push(entry.path());
    }
    paths.sort();
    Ok(paths)
}

/// A rule directory's entry as files to compile: a file itself, or the `.c` files of a tree
/// case's directory (`<case>/`, `<case>.expected/`), sorted.
fn tree_case(entry: PathBuf) -> Vec<PathBuf> {
    if !entry.is_dir() {
        return vec![entry];
    }
    let mut out = Vec::new();
    let mut dirs = vec![entry];
    while let Some(d) = dirs.pop() {
        for p in sorted_entries(&d).unwrap_or_default() {
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|e| e == "c") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The compile jobs of every rule, and the problems found while collecting them.
fn collect_jobs() -> (Vec<Job>, Vec<String>) {
    let root = fixtures_dir();
    let rules_dirs = [
        Path::new(env!("CARGO_MANIFEST_DIR")).join("rules"),
        // Fixture-only rules (not bundled), compiled all the same.
        root.join("rules"),
    ];
    let mut jobs = Vec::new();
    let mut problems = Vec::new();

    let rules = match sorted_entries(&root) {
        Ok(entries) => entries,
        Err(e) => return (jobs, vec![e]),
    };
    for rule_dir in rules.iter().filter(|p| p.is_dir()) {
        let rule = rule_dir.file_name().unwrap().to_string_lossy().into_owned();
        // A rule directory is named after a rule file; anything else under
        // fixtures/ (include/, a demo tree) is not a set of cases.
        if !rules_dirs
            .iter()
            .any(|d| d.join(format!("{rule}.toml")).is_file())
        {
            continue;
        }
        let include = root.join("include").join(&rule);
        for api in [Api::Old, Api::New] {
            let dir = include.join(api.dir_name());
            if !dir.is_dir() {
                problems.push(format!(
                    "rule {rule}: header tree {} is missing",
                    dir.display()
                ));
            }
        }
        let files = match sorted_entries(rule_dir) {
            Ok(files) => files,
            Err(e) => {
                problems.push(e);
                continue;
            }
        };
        for file in files.into_iter().flat_map(tree_case) {
            let name = file.file_name().unwrap().to_string_lossy().into_owned();
            if !name.ends_with(".c") {
                continue;
            }
            // A tree case's file is an input or an expected output as its directory is.
            let name = match file.parent().and_then(|d| d.file_name()) {
                Some(d) if file.parent() != Some(rule_dir.as_path()) => {
                    let d = d.to_string_lossy();
                    match d.strip_suffix(".expected") {
                        Some(case) => format!("{case}.expected.c"),
                        None => format!("{d}.c"),
                    }
                }
                _ => name,
            };
            // Sources are bytes (a fixture may hold a Latin-1 comment): only the first line
            // and the CONFIG_ names are read from the text.
            let text = match fs::read(&file) {
                Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
                Err(e) => {
                    problems.push(format!("{}: {e}", file.display()));
                    continue;
                }
            };
            // A `--compat` output builds on both sides of its version check.
            let apis = if name.ends_with(".compat.expected.c") {
                vec![Api::Old, Api::New]
            } else if name.ends_with(".expected.c") {
                vec![Api::New]
            } else {
                match input_api(&text) {
                    Ok(apis) => apis,
                    Err(e) => {
                        problems.push(format!("{}: {e}", file.display()));
                        continue;
                    }
                }
            };
            let mut symbols = BTreeSet::new();
            config_symbols(&text, &mut symbols);
            for api in apis {
                jobs.push(Job {
                    file: file.clone(),
                    include: include.join(api.dir_name()),
                    configs: combinations(&symbols),
                });
            }
        }
    }
    if jobs.is_empty() {
        problems.push(format!("no fixture files found under {}", root.display()));
    }
    (jobs, problems)
}

/// Whether `compiler` can be run; `Err` for an unexpected failure.
fn compiler_present(compiler: &str) -> Result<bool, String> {
    match Command::new(compiler).arg("--version").output() {
        Ok(out) if out.status.success() => Ok(true),
        Ok(out) => Err(format!(
            "{compiler} --version failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        )),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(false),
        Err(e) => Err(format!("cannot run {compiler}: {e}")),
    }
}

/// Compile one job with the given `-D` symbols; `Some(report)` on failure.
fn compile(compiler: &str, job: &Job, defines: &[String]) -> Option<String> {
    let mut cmd = Command::new(compiler);
    cmd.args(FLAGS)
        .args(defines.iter().map(|d| format!("-D{d}")))
        .arg("-I")
        .arg(&job.include)
        // Headers that do not differ between the two APIs live once, in common/.
        .arg("-I")
        .arg(job.include.with_file_name("common"))
        .arg(&job.file)
        .env("LC_ALL", "C");
    let config = if defines.is_empty() {
        "no CONFIG_ symbols".to_string()
    } else {
        defines.join(" ")
    };
    match cmd.output() {
        Ok(out) if out.status.success() => None,
        Ok(out) => Some(format!(
            "{} [{compiler}, {config}, -I {}]: {}\n{}",
            job.file.display(),
            job.include.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim_end()
        )),
        Err(e) => Some(format!(
            "{} [{compiler}, {config}]: cannot run: {e}",
            job.file.display()
        )),
    }
}

fn compile_all(compiler: &str, package: &str) {
    match compiler_present(compiler) {
        Ok(true) => {}
        Ok(false) => {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!(
                    "{compiler} not found; install the Debian package {package} \
                     (apt-get install {package})"
                );
            }
            // Straight to the stderr handle: libtest captures eprintln!() of a
            // passing test, and this notice must be seen.
            let _ = writeln!(
                std::io::stderr(),
                "compile test: {compiler} not found (Debian package {package}); skipped"
            );
            return;
        }
        Err(e) => panic!("{e}"),
    }

    let (jobs, mut failures) = collect_jobs();
    let work: Vec<(&Job, &[String])> = jobs
        .iter()
        .flat_map(|job| job.configs.iter().map(move |d| (job, d.as_slice())))
        .collect();

    let threads = thread::available_parallelism()
        .map_or(4, |n| n.get())
        .min(16);
    let chunk = work.len().div_ceil(threads).max(1);
    let mut results: Vec<String> = thread::scope(|s| {
        let handles: Vec<_> = work
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || {
                    part.iter()
                        .filter_map(|(job, defines)| compile(compiler, job, defines))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("compile thread panicked"))
            .collect()
    });
    failures.append(&mut results);

    if !failures.is_empty() {
        panic!(
            "{} of {} compilations with {compiler} failed (or fixtures are malformed):\n\n{}",
            failures.len(),
            work.len(),
            failures.join("\n\n")
        );
    }
    eprintln!(
        "compile test: {compiler}: {} files, {} compilations (one per CONFIG_ combination) OK",
        jobs.len(),
        work.len()
    );
}

#[test]
fn fixtures_compile_with_host_gcc() {
    compile_all("gcc", "gcc");
}

#[test]
fn fixtures_compile_with_s390x_gcc() {
    compile_all("s390x-linux-gnu-gcc", "gcc-s390x-linux-gnu");
}

#[test]
fn fixtures_compile_with_powerpc64_gcc() {
    compile_all("powerpc64-linux-gnu-gcc", "gcc-powerpc64-linux-gnu");
}

#[test]
fn fixtures_compile_with_or1k_gcc() {
    compile_all("or1k-elf-gcc", "gcc-or1k-elf");
}

#[test]
fn compile_directive_parsing() {
    assert_eq!(input_api("/* compile: new */\nint x;"), Ok(vec![Api::New]));
    assert_eq!(input_api("/* compile: old */\n"), Ok(vec![Api::Old]));
    assert_eq!(
        input_api("/* compile: both */\n"),
        Ok(vec![Api::Old, Api::New])
    );
    assert_eq!(input_api("/* compile: none */\n"), Ok(Vec::new()));
    assert_eq!(input_api("/*\n * Case a\n */\n"), Ok(vec![Api::Old]));
    assert!(input_api("/* compile: newer */\n").is_err());

    let mut set = BTreeSet::new();
    config_symbols(
        "#ifdef CONFIG_A_B\n#if defined(CONFIG_C) && XCONFIG_D\nCONFIG_",
        &mut set,
    );
    assert_eq!(
        set.iter().cloned().collect::<Vec<_>>(),
        ["CONFIG_A_B", "CONFIG_C"]
    );

    // Two symbols: all four combinations.
    let c = combinations(&set);
    assert_eq!(c.len(), 4);
    assert!(c.contains(&vec![]) && c.contains(&vec!["CONFIG_C".to_string()]));
    assert!(combinations(&BTreeSet::new()) == vec![Vec::<String>::new()]);
    // Five symbols: at most eight, with none, all and each alone.
    let five: BTreeSet<String> = (0..5).map(|i| format!("CONFIG_S{i}")).collect();
    let c = combinations(&five);
    assert_eq!(c.len(), MAX_COMBINATIONS);
    assert!(c.contains(&vec![]) && c.contains(&five.iter().cloned().collect()));
    assert!(five.iter().all(|s| c.contains(&vec![s.clone()])));
}
