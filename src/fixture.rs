//! Rule fixtures as data: `fixtures/<rule>/<case>.c`, `<case>.expected.c` (absent: must not
//! change), `<case>.diag` (absent: no diagnostics). One checker serves `kcodemod test` and the
//! cargo test harness. Verdicts follow ast-grep: Pass, Missing, Noisy, Wrong.

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
    pub input: PathBuf,
}

/// The cases of one rule, sorted by name.
pub fn cases(dir: &Path) -> std::io::Result<Vec<Case>> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir)? {
        let p = e?.path();
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if let Some(stem) = name.strip_suffix(".c")
            && !stem.ends_with(".expected")
        {
            out.push(Case {
                name: stem.to_string(),
                input: p.clone(),
            });
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// What one run over a buffer produced: the output and the `LINE: FUNCTION: CODE` lines.
pub fn run_one(rule: &Rule, path: &Path, src: &[u8]) -> (Vec<u8>, Vec<String>) {
    let cfg = Config {
        tree: path.parent().unwrap_or(Path::new(".")).to_path_buf(),
        paths: Vec::new(),
        rules: vec![rule.clone()],
        jobs: 1,
        max_size: u64::MAX,
        parse_timeout: Duration::from_secs(10),
        api: true,
        target: None,
        macros: std::sync::Arc::new(crate::parse::Macros::builtin()),
        tree_has_new: vec![false],
        // A `<case>.compat.c` runs with `--compat` (and so does the second run, over its
        // `<case>.compat.expected.c`).
        compat: path
            .file_name()
            .is_some_and(|s| s.to_string_lossy().contains(".compat.")),
        settled: Vec::new(),
    };
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

pub fn check(rule: &Rule, case: &Case) -> std::io::Result<Verdict> {
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
            // A second run over the expected output must change nothing and flag nothing new.
            let (again, again_diags) = run_one(rule, &exp_path, &expected);
            if again != expected {
                Verdict::Wrong(format!(
                    "a second run changes the output:\n{}",
                    text_diff(&expected, &again)
                ))
            } else if exp_path.exists() && !again_diags.is_empty() {
                Verdict::Wrong(format!("a second run flags: {}", again_diags.join("; ")))
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

/// Does `src` define the old struct (with a body) or an entry point (with a body)? Then the
/// definition side of the rule rewrites it as a whole, kernel-doc included.
pub fn defines_api(rule: &Rule, src: &[u8]) -> bool {
    use crate::kinds::call_rewrite::{Api, CallRewrite};
    if let Some(k) = rule.kind.as_any().downcast_ref::<CallRewrite>() {
        // Removing an old function removes its kernel-doc, and its `#ifndef` with its comment.
        return k.api == Api::Remove && k.defines_api(src);
    }
    let mut p = tree_sitter::Parser::new();
    p.set_language(&tree_sitter_c::LANGUAGE.into())
        .expect("tree-sitter-c matches tree-sitter");
    let Some(tree) = p.parse(src, None) else {
        return false;
    };
    let mut found = false;
    let mut c = tree.walk();
    loop {
        let n = c.node();
        let name = |f: &str| n.child_by_field_name(f).map(|c| &src[c.byte_range()]);
        match n.kind() {
            "struct_specifier" if n.child_by_field_name("body").is_some() => {
                found |= name("name") == Some(rule.old_struct.as_bytes());
            }
            "function_definition" => {
                let d = name("declarator").unwrap_or_default();
                found |= rule.entries.iter().any(|e| {
                    let pat = format!("{}(", e.name);
                    memchr::memmem::find(d, pat.as_bytes()).is_some()
                });
            }
            _ => {}
        }
        if c.goto_first_child() {
            continue;
        }
        while !c.goto_next_sibling() {
            if !c.goto_parent() {
                return found;
            }
        }
    }
}
