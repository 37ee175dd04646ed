//! Any bytes as a kernel C file through the mm_walk_ops rule:
//! (a) a second run over the output changes nothing, (b) no panic (libFuzzer reports it),
//! (c) the output has no more tree-sitter ERROR/MISSING nodes than the input, (d) every comment
//! of the input is still in the output.

#![no_main]

use std::path::Path;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

#[path = "checks.rs"]
mod checks;

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
    checks::rewrite(rule(), Path::new("mm/fuzz.c"), data, |before, after| {
        after <= before
    });
});
