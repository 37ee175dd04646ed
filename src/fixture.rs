//! Rule fixtures as data: `fixtures/<rule>/<case>.c`, `<case>.expected.c` (absent: must not
//! change), `<case>.diag` (absent: no diagnostics); or a small tree of files that name each
//! other, `<case>/`, `<case>.expected/` and `<case>.diag`, run as a tree is. One checker serves
//! `kcodemod test` and the cargo test harness. Verdicts follow ast-grep: Pass, Missing, Noisy,
//! Wrong.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::pipeline::{self, Config};
use crate::rule::Rule;
use crate::struct_to_ops::Outcome;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    /// Expected a change, got none.
    Missing,
    /// Expected no change, got one.
    Noisy(String),
    /// Output or diagnostics differ from the expectation.
    Wrong(String),
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Pass => write!(f, "Pass"),
            Verdict::Missing => write!(f, "Missing"),
            Verdict::Noisy(d) => write!(f, "Noisy\n{d}"),
            Verdict::Wrong(d) => write!(f, "Wrong\n{d}"),
        }
    }
}

pub struct Case {
    pub name: String,
    /// The input file, or the input tree's directory.
    pub input: PathBuf,
    /// A directory of files that name each other (see [`run_tree`]), not one file.
    pub tree: bool,
}

/// The cases of one rule, sorted by name.
pub fn cases(dir: &Path) -> std::io::Result<Vec<Case>> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir)? {
        let p = e?.path();
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if p.is_dir() {
            if !name.ends_with(".expected") {
                out.push(Case {
                    name: name.to_string(),
                    input: p.clone(),
                    tree: true,
                });
            }
        } else if let Some(stem) = name.strip_suffix(".c")
            && !stem.ends_with(".expected")
        {
            out.push(Case {
                name: stem.to_string(),
                input: p.clone(),
                tree: false,
            });
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// How a fixture case runs: one rule, one job, the API side converted, no target.
fn case_config(tree: std::path::PathBuf, rule: &Rule, compat: bool) -> Config {
    Config {
        tree,
        paths: Vec::new(),
        rules: vec![rule.clone()],
        jobs: 1,
        max_size: u64::MAX,
        parse_timeout: Duration::from_secs(10),
        api: true,
        target: None,
        macros: std::sync::Arc::new(crate::parse::Macros::builtin()),
        tree_has_new: vec![false],
        compat,
        settled: Vec::new(),
    }
}

/// What one run over a buffer produced: the output and the `LINE: FUNCTION: CODE` lines.
pub fn run_one(rule: &Rule, path: &Path, src: &[u8]) -> (Vec<u8>, Vec<String>) {
    // A `<case>.compat.c` runs with `--compat` (and so does the second run, over its
    // `<case>.compat.expected.c`).
    let compat = path
        .file_name()
        .is_some_and(|s| is_compat(&s.to_string_lossy()));
    let tree = path.parent().unwrap_or(Path::new(".")).to_path_buf();
    let cfg = case_config(tree, rule, compat);
    let r = pipeline::migrate_file(&cfg, path, src.to_vec(), &[0]);
    let diags = r
        .sites
        .iter()
        .filter_map(|s| match &s.site.outcome {
            Outcome::Flagged(f) => {
                Some(format!("{}: {}: {}", s.site.line, s.site.function, f.code))
            }
            Outcome::Converted | Outcome::Compat => None,
        })
        .collect();
    (r.new.unwrap_or_else(|| src.to_vec()), diags)
}

/// A tree case's files, by path relative to its directory.
pub type Files = BTreeMap<String, Vec<u8>>;

/// Is a case (file or tree) run with `--compat`? Its name says so: `<case>.compat`.
fn is_compat(name: &str) -> bool {
    name.ends_with(".compat") || name.contains(".compat.")
}

/// Every file under `dir`, by `/`-separated path relative to it.
pub fn read_tree(dir: &Path) -> std::io::Result<Files> {
    let mut out = Files::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d)? {
            let p = e?.path();
            if p.is_dir() {
                dirs.push(p);
            } else {
                out.insert(pipeline::rel_path(dir, &p), std::fs::read(&p)?);
            }
        }
    }
    Ok(out)
}

/// A tree case run as `kcodemod diff` runs a tree (its files migrated, names settled across
/// them, the verdicts): every file's output, and the `FILE:LINE: FUNCTION: CODE` lines.
pub fn run_tree(rule: &Rule, files: &Files, compat: bool) -> std::io::Result<(Files, Vec<String>)> {
    let dir = tempfile::tempdir()?;
    for (rel, bytes) in files {
        let p = dir.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap_or(dir.path()))?;
        std::fs::write(p, bytes)?;
    }
    let tree = std::fs::canonicalize(dir.path())?;
    let cfg = case_config(tree.clone(), rule, compat);
    let res = pipeline::run(&cfg, &pipeline::Counters::default());
    let mut out = files.clone();
    for f in &res.files {
        if let Some(new) = &f.new {
            out.insert(f.rel.clone(), new.clone());
        }
    }
    let mut diags: Vec<(String, usize, String)> = res
        .sites()
        .filter_map(|(f, s)| match &s.site.outcome {
            Outcome::Flagged(fl) => Some((
                f.rel.clone(),
                s.site.line,
                format!("{}: {}", s.site.function, fl.code),
            )),
            Outcome::Converted | Outcome::Compat => None,
        })
        .collect();
    diags.sort();
    let diags = diags
        .into_iter()
        .map(|(rel, line, rest)| format!("{rel}:{line}: {rest}"))
        .collect();
    Ok((out, diags))
}

/// The expected diagnostics of a case, one per line.
fn want_diags(path: &Path) -> std::io::Result<Vec<String>> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    Ok(std::fs::read_to_string(path)?
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect())
}

/// A tree case: `<case>/` run as a tree must give `<case>.expected/` (absent: no file
/// changes) and `<case>.diag`; a second run over the expected tree changes and flags nothing.
fn check_tree(rule: &Rule, case: &Case) -> std::io::Result<Verdict> {
    let input = read_tree(&case.input)?;
    let exp_dir = case.input.with_file_name(format!("{}.expected", case.name));
    let expected = if exp_dir.exists() {
        read_tree(&exp_dir)?
    } else {
        input.clone()
    };
    let want = want_diags(&case.input.with_file_name(format!("{}.diag", case.name)))?;
    let compat = is_compat(&case.name);
    let (out, diags) = run_tree(rule, &input, compat)?;
    let v = if out == expected {
        if diags != want {
            Verdict::Wrong(format!(
                "diagnostics differ\nexpected:\n  {}\ngot:\n  {}",
                want.join("\n  "),
                diags.join("\n  ")
            ))
        } else {
            let (again, again_diags) = run_tree(rule, &expected, compat)?;
            if again != expected {
                Verdict::Wrong(format!(
                    "a second run changes the output:\n{}",
                    tree_diff(&expected, &again)
                ))
            } else if let Some(d) = again_diags.iter().find(|d| !flagged_before(d, &diags)) {
                // A tree may hold a converted struct beside a flagged one: the second run
                // flags what the first did (lines may move), nothing new.
                Verdict::Wrong(format!("a second run flags what the first did not: {d}"))
            } else {
                Verdict::Pass
            }
        }
    } else if out == input && diags.is_empty() {
        Verdict::Missing
    } else if out == input {
        Verdict::Wrong(format!("no change; flagged: {}", diags.join("; ")))
    } else if expected == input {
        Verdict::Noisy(tree_diff(&input, &out))
    } else {
        Verdict::Wrong(format!(
            "{}\ndiagnostics: {}",
            tree_diff(&expected, &out),
            diags.join("; ")
        ))
    };
    Ok(v)
}

/// Does `d` name a site `before` flags too, at any line? A tree case's diagnostics read
/// `FILE:LINE: FUNCTION: CODE`, a one-file case's `LINE: FUNCTION: CODE`.
fn flagged_before(d: &str, before: &[String]) -> bool {
    let key = |l: &str| {
        let (at, rest) = l.split_once(": ").unwrap_or((l, ""));
        match at.rsplit_once(':') {
            Some((file, _line)) => format!("{file}: {rest}"),
            None => rest.to_string(),
        }
    };
    before.iter().any(|b| key(b) == key(d))
}

/// The files that differ between two trees, each as a diff.
fn tree_diff(a: &Files, b: &Files) -> String {
    let names: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    let mut out = String::new();
    for n in names {
        let (x, y) = (a.get(n), b.get(n));
        if x != y {
            out.push_str(&format!("{n}:\n"));
            out.push_str(&text_diff(
                x.map_or(&[][..], Vec::as_slice),
                y.map_or(&[][..], Vec::as_slice),
            ));
        }
    }
    out
}

pub fn check(rule: &Rule, case: &Case) -> std::io::Result<Verdict> {
    if case.tree {
        return check_tree(rule, case);
    }
    let input = std::fs::read(&case.input)?;
    let exp_path = case
        .input
        .with_file_name(format!("{}.expected.c", case.name));
    let diag_path = case.input.with_file_name(format!("{}.diag", case.name));
    let expected = if exp_path.exists() {
        std::fs::read(&exp_path)?
    } else {
        input.clone()
    };
    let want_diags: Vec<String> = if diag_path.exists() {
        std::fs::read_to_string(&diag_path)?
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect()
    } else {
        Vec::new()
    };
    let (out, diags) = run_one(rule, &case.input, &input);
    let v = if out == expected {
        if diags != want_diags {
            Verdict::Wrong(format!(
                "diagnostics differ\nexpected:\n  {}\ngot:\n  {}",
                want_diags.join("\n  "),
                diags.join("\n  ")
            ))
        } else {
            // A second run over the expected output must change nothing and flag nothing new
            // (what the first run flagged and left, a definition `old = "flag"` keeps, it
            // flags again; lines may move).
            let (again, again_diags) = run_one(rule, &exp_path, &expected);
            if again != expected {
                Verdict::Wrong(format!(
                    "a second run changes the output:\n{}",
                    text_diff(&expected, &again)
                ))
            } else if let Some(d) = again_diags
                .iter()
                .find(|d| exp_path.exists() && !flagged_before(d, &diags))
            {
                Verdict::Wrong(format!("a second run flags what the first did not: {d}"))
            } else {
                Verdict::Pass
            }
        }
    } else if out == input {
        Verdict::Missing
    } else if expected == input {
        Verdict::Noisy(text_diff(&input, &out))
    } else {
        Verdict::Wrong(format!(
            "{}\ndiagnostics: {}",
            text_diff(&expected, &out),
            diags.join("; ")
        ))
    };
    Ok(match v {
        Verdict::Missing if !diags.is_empty() => {
            Verdict::Wrong(format!("no change; flagged: {}", diags.join("; ")))
        }
        v => v,
    })
}

fn text_diff(a: &[u8], b: &[u8]) -> String {
    let d = similar::TextDiff::from_lines(a, b);
    let mut out = Vec::new();
    d.unified_diff()
        .header("expected", "actual")
        .to_writer(&mut out)
        .ok();
    String::from_utf8_lossy(&out).into_owned()
}

pub use crate::parse::blank_conditional_lines;

/// The test oracle for "a rewrite adds no parse errors" (property tests, fuzz target): the
/// ERROR and MISSING nodes of a plain tree-sitter-c parse of `src` with its conditional
/// directive lines blanked (tree-sitter-c reads a conditional inside an initializer as an
/// ERROR) and the unused-parameter attributes `__always_unused` / `__maybe_unused` blanked
/// (tree-sitter-c cannot read a parameter they annotate, and new parameters carry them as
/// upstream wrote them). Deliberately none of the tool's own parse view or error counting: it
/// checks them.
pub fn parse_errors(src: &[u8]) -> usize {
    let src = blank_unused_attributes(&blank_conditional_lines(src));
    let mut p = tree_sitter::Parser::new();
    p.set_language(&tree_sitter_c::LANGUAGE.into())
        .expect("tree-sitter-c matches tree-sitter");
    let Some(tree) = p.parse(&src, None) else {
        return 0;
    };
    let mut n = 0;
    let mut c = tree.walk();
    loop {
        let node = c.node();
        n += usize::from(node.is_error() || node.is_missing());
        if c.goto_first_child() {
            continue;
        }
        while !c.goto_next_sibling() {
            if !c.goto_parent() {
                return n;
            }
        }
    }
}

/// `src` with the words `__always_unused` and `__maybe_unused` turned into spaces.
fn blank_unused_attributes(src: &[u8]) -> Vec<u8> {
    let mut out = src.to_vec();
    for word in [&b"__always_unused"[..], b"__maybe_unused"] {
        for at in memchr::memmem::find_iter(src, word) {
            let end = at + word.len();
            let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
            if (at == 0 || !ident(src[at - 1])) && (end == src.len() || !ident(src[end])) {
                out[at..end].fill(b' ');
            }
        }
    }
    out
}

/// The test oracle for "no comment is lost" (property tests, fuzz target): the comments of
/// `src`, as the project's lexer delimits them (those on directive lines included), whose exact bytes are nowhere among the
/// comments of `out`, in input order. Identical ops structs of a file are shared, so two equal
/// comments on them become one: a text is kept when one copy is. A file that defines the API
/// itself is exempt: the definition side rewrites the old struct's kernel-doc on purpose.
pub fn lost_comments(rule: &Rule, src: &[u8], out: &[u8]) -> Vec<Vec<u8>> {
    if src == out || defines_api(rule, src) {
        return Vec::new();
    }
    let comments = |b: &[u8]| -> Vec<Vec<u8>> {
        crate::parse::lex::lex(b)
            .all_comments(b)
            .into_iter()
            .map(|r| b[r].to_vec())
            .collect()
    };
    let have: std::collections::HashSet<Vec<u8>> = comments(out).into_iter().collect();
    comments(src)
        .into_iter()
        .filter(|c| !have.contains(c))
        .collect()
}

/// Does `src` hold an API definition the rule rewrites as a whole, comments included (see
/// [`crate::kinds::RuleKind::rewrites_definition_comments`])?
pub fn defines_api(rule: &Rule, src: &[u8]) -> bool {
    rule.kind.rewrites_definition_comments(src)
}
