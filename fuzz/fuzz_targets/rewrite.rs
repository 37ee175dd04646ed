//! Any bytes as a kernel C file through the mm_walk_ops rule:
//! (a) a second run over the output changes nothing, (b) no panic (libFuzzer reports it),
//! (c) the output has no more tree-sitter ERROR/MISSING nodes than the input, (d) every comment
//! of the input is still in the output.

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
    let (before, after) = (
        kcodemod::fixture::parse_errors(data),
        kcodemod::fixture::parse_errors(&out),
    );
    assert!(
        after <= before,
        "the rewrite adds parse errors ({before} -> {after}):\n{}",
        String::from_utf8_lossy(&out)
    );
    let lost = kcodemod::fixture::lost_comments(rule, data, &out);
    assert!(
        lost.is_empty(),
        "the rewrite loses comments {:?}:\n{}",
        lost.iter()
            .map(|c| String::from_utf8_lossy(c))
            .collect::<Vec<_>>(),
        String::from_utf8_lossy(&out)
    );
});
