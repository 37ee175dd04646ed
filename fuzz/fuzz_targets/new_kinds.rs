//! Any bytes as a kernel C file through the rules that read only some items (proc_ops,
//! pte_hole_depth, and the call-rewrite rules ioremap_nocache and mmap_lock), which read
//! only the items their proof needs: (a) no panic (libFuzzer reports it), (b) a second run over
//! the output changes nothing, (c) an input without tree-sitter ERROR/MISSING nodes gives an
//! output without them, (d) every comment of the input is still in the output.

#![no_main]

use std::path::Path;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

#[path = "checks.rs"]
mod checks;

fn rules() -> &'static [kcodemod::rule::Rule] {
    static RULES: OnceLock<Vec<kcodemod::rule::Rule>> = OnceLock::new();
    RULES.get_or_init(|| {
        kcodemod::rule::bundled()
            .expect("bundled rules")
            .into_iter()
            .filter(|r| r.kind.name() != "struct-to-ops")
            .collect()
    })
}

fuzz_target!(|data: &[u8]| {
    // Kernel files are far smaller than what libFuzzer may grow; keep each run quick.
    if data.len() > 64 * 1024 {
        return;
    }
    // These kinds check the items they edit (the whole file when those have errors): in a
    // whole reading, tree-sitter's recovery over other broken code may count differently, so
    // the whole-file property is that a clean file stays clean.
    for rule in rules() {
        checks::rewrite(rule, Path::new("fs/fuzz.c"), data, |before, after| {
            before > 0 || after == 0
        });
    }
});
