//! Any bytes as a kernel C file through the mm_walk_ops rule:
//! (a) a second run over the output changes nothing, (b) no panic (libFuzzer reports it),
//! (c) the output has no more tree-sitter ERROR/MISSING nodes than the input.

#![no_main]

use std::path::Path;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

fn rule() -> &'static kcodemod::rule::Rule {
    static RULE: OnceLock<kcodemod::rule::Rule> = OnceLock::new();
    RULE.get_or_init(|| {
        kcodemod::rule::bundled()
            .expect("bundled rules")
            .into_iter()
            .find(|r| r.id == "mm_walk_ops")
            .expect("mm_walk_ops is bundled")
    })
}

/// Conditional directive lines (`#if`, `#ifdef`, `#ifndef`, `#elif`, `#else`, `#endif`, with
/// their continuations) blanked, offsets kept: tree-sitter-c reads a conditional inside an
/// initializer list or an expression as an ERROR, and the tool's parse view blanks them too.
fn blank_conditionals(src: &[u8]) -> Vec<u8> {
    let mut out = src.to_vec();
    let mut at = 0;
    let mut continued = false;
    while at < src.len() {
        let end = src[at..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(src.len(), |i| at + i);
        let line = &src[at..end];
        let t: Vec<u8> = line
            .iter()
            .copied()
            .skip_while(|b| *b == b' ' || *b == b'\t')
            .collect();
        let directive = t.strip_prefix(b"#").map(|r| {
            let r: Vec<u8> = r
                .iter()
                .copied()
                .skip_while(|b| *b == b' ' || *b == b'\t')
                .collect();
            ["if", "ifdef", "ifndef", "elif", "else", "endif"]
                .iter()
                .any(|d| {
                    r.starts_with(d.as_bytes())
                        && r.get(d.len())
                            .is_none_or(|c| !(c.is_ascii_alphanumeric() || *c == b'_'))
                })
        }) == Some(true);
        if directive || continued {
            for b in &mut out[at..end] {
                if *b != b'\r' {
                    *b = b' ';
                }
            }
            continued = line.strip_suffix(b"\r").unwrap_or(line).ends_with(b"\\");
        }
        at = end + 1;
    }
    out
}

/// ERROR and MISSING nodes of a plain tree-sitter-c parse of the conditional-blanked text.
fn parse_errors(src: &[u8]) -> usize {
    let src = &blank_conditionals(src);
    let mut p = tree_sitter::Parser::new();
    p.set_language(&tree_sitter_c::LANGUAGE.into()).unwrap();
    let Some(tree) = p.parse(src, None) else {
        return 0;
    };
    let mut n = 0;
    let mut c = tree.walk();
    'outer: loop {
        let node = c.node();
        if node.is_error() || node.is_missing() {
            n += 1;
        }
        if c.goto_first_child() {
            continue;
        }
        while !c.goto_next_sibling() {
            if !c.goto_parent() {
                break 'outer;
            }
        }
    }
    n
}

fuzz_target!(|data: &[u8]| {
    // Kernel files are far smaller than what libFuzzer may grow; keep each run quick.
    if data.len() > 64 * 1024 {
        return;
    }
    let rule = rule();
    let path = Path::new("mm/fuzz.c");
    let (out, _) = kcodemod::fixture::run_one(rule, path, data);
    if out == data {
        return;
    }
    let (again, _) = kcodemod::fixture::run_one(rule, path, &out);
    assert!(
        again == out,
        "a second run changes the output:\n--- first output ---\n{}\n--- second ---\n{}",
        String::from_utf8_lossy(&out),
        String::from_utf8_lossy(&again)
    );
    let (before, after) = (parse_errors(data), parse_errors(&out));
    assert!(
        after <= before,
        "the rewrite adds parse errors ({before} -> {after}):\n{}",
        String::from_utf8_lossy(&out)
    );
});
