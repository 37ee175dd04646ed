//! Any bytes as the demo tree's `include/linux/mm.h` (the API definition), the whole demo run
//! as one tree: all or nothing per migration. Every new-API name the output uses (`struct
//! mm_walk_ops`, the new prototypes) must be defined in the output; no panic.

#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

struct Demo {
    cfg: kcodemod::pipeline::Config,
    files: Vec<(PathBuf, Vec<u8>)>,
    header: PathBuf,
}

fn demo() -> &'static Demo {
    static DEMO: OnceLock<Demo> = OnceLock::new();
    DEMO.get_or_init(|| {
        let tree = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/demo"));
        let mut files = Vec::new();
        let mut dirs = vec![tree.clone()];
        while let Some(d) = dirs.pop() {
            for e in std::fs::read_dir(d).expect("the demo tree") {
                let p = e.unwrap().path();
                if p.is_dir() {
                    dirs.push(p);
                } else if p.extension().is_some_and(|e| e == "c" || e == "h") {
                    let b = std::fs::read(&p).unwrap();
                    files.push((p, b));
                }
            }
        }
        let rules: Vec<_> = kcodemod::rule::bundled()
            .expect("bundled rules")
            .into_iter()
            .filter(|r| r.id == "mm_walk_ops")
            .collect();
        let cfg = kcodemod::pipeline::Config {
            macros: std::sync::Arc::new(kcodemod::parse::Macros::learn(&tree)),
            tree: tree.clone(),
            paths: Vec::new(),
            rules,
            jobs: 1,
            max_size: u64::MAX,
            parse_timeout: std::time::Duration::from_secs(10),
            api: true,
            target: None,
            tree_has_new: vec![false],
            compat: false,
            settled: Vec::new(),
        };
        Demo {
            header: tree.join("include/linux/mm.h"),
            cfg,
            files,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    if data.len() > 64 * 1024 {
        return;
    }
    let d = demo();
    let files = d
        .files
        .iter()
        .map(|(p, b)| {
            let b = if *p == d.header {
                data.to_vec()
            } else {
                b.clone()
            };
            (p.clone(), b)
        })
        .collect();
    let results = kcodemod::verdict::run_in_memory(&d.cfg, files);
    let ops =
        kcodemod::struct_to_ops::StructToOps::of(&d.cfg.rules[0]).expect("a struct-to-ops rule");
    if let Some(why) = kcodemod::struct_to_ops::verdict::unresolved_new_api(ops, &results) {
        panic!(
            "half-converted API: {why}\n--- header ---\n{}",
            String::from_utf8_lossy(data)
        );
    }
});
