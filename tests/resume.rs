//! Resume (issue 21): an `apply` stopped after any of its writes (SIGINT, `kill -9`, a crash)
//! is finished by running `apply` again, and the tree is then byte for byte what one
//! uninterrupted run makes of it. The property is checked on the demo tree and on a tree built
//! from the walker fixtures (API header, implementation and callers), for every prefix of
//! `apply`'s write order and for every single written file.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::{bin, copy_tree, demo_path};

/// Every file under `root`, relative path → bytes. (A `BTreeMap` of paths sorts them the way
/// `apply` writes them: by path, component by component.)
fn read_tree(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else {
                let rel = p.strip_prefix(root).unwrap().to_path_buf();
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

/// `kcodemod apply -q TREE`: its exit code.
fn apply(tree: &Path) -> i32 {
    let o = bin().arg("apply").arg("-q").arg(tree).output().unwrap();
    o.status.code().expect("apply was killed by a signal")
}

/// The state an `apply` leaves when stopped after writing `written` (and nothing else): the
/// original tree with those files as the clean run wrote them.
fn stopped_after(
    orig: &Path,
    clean: &BTreeMap<PathBuf, Vec<u8>>,
    written: &[&PathBuf],
) -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    copy_tree(orig, t.path());
    for rel in written {
        std::fs::write(t.path().join(rel), &clean[*rel]).unwrap();
    }
    t
}

/// Every prefix of the write order and every single file, rerun: the clean result, with the
/// clean run's exit code. Returns what went wrong, one line per stopped state.
fn resume_failures(orig: &Path, must_write: &[&str]) -> Vec<String> {
    let clean_dir = tempfile::tempdir().unwrap();
    copy_tree(orig, clean_dir.path());
    let code = apply(clean_dir.path());
    let before = read_tree(orig);
    let clean = read_tree(clean_dir.path());
    let order: Vec<&PathBuf> = clean.keys().filter(|p| before[*p] != clean[*p]).collect();
    for m in must_write {
        assert!(
            order.iter().any(|p| p == &Path::new(m)),
            "the clean run did not convert {m}: the tree does not test what it should"
        );
    }
    let prefixes = (1..=order.len()).map(|n| order[..n].to_vec());
    let singles = order.iter().map(|p| vec![*p]);
    let mut failures = Vec::new();
    for written in prefixes.chain(singles) {
        let t = stopped_after(orig, &clean, &written);
        let again = apply(t.path());
        let after = read_tree(t.path());
        let wrong: Vec<String> = clean
            .keys()
            .filter(|p| after.get(*p) != clean.get(*p))
            .map(|p| p.display().to_string())
            .collect();
        if !wrong.is_empty() || again != code {
            let stop = written.last().unwrap().display();
            failures.push(format!(
                "stopped after {} file(s) ending with {stop}: rerun exit {again} (clean {code}), differs in {wrong:?}",
                written.len()
            ));
        }
    }
    failures
}

#[test]
fn an_interrupted_apply_of_the_demo_tree_is_finished_by_a_rerun() {
    let failures = resume_failures(&demo_path(), &["include/linux/mm.h", "mm/pagewalk.c"]);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A tree made of the walker fixtures: the old API header, the API implementation (case p2) as
/// mm/pagewalk.c, and callers, converted and flagged ones (case x1).
fn fixture_tree() -> tempfile::TempDir {
    let fx = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let t = tempfile::tempdir().unwrap();
    let include = t.path().join("include");
    copy_tree(&fx.join("include/mm_walk_ops/common"), &include);
    for h in ["pagewalk.h", "version.h"] {
        let from = fx.join("include/mm_walk_ops/old/linux").join(h);
        std::fs::copy(from, include.join("linux").join(h)).unwrap();
    }
    std::fs::create_dir_all(t.path().join("mm")).unwrap();
    let cases = fx.join("mm_walk_ops");
    std::fs::copy(cases.join("p2_api_impl.c"), t.path().join("mm/pagewalk.c")).unwrap();
    let drivers = t.path().join("drivers");
    std::fs::create_dir_all(&drivers).unwrap();
    for c in [
        "a_initializer.c",
        "b2_memset_stores.c",
        "e1_callback_if_else.c",
        "g2_two_walks.c",
        "h_walk_page_vma.c",
        "m3_callback_in_header.c",
        "m3_callback_in_header.h",
        "x1_escape.c",
    ] {
        std::fs::copy(cases.join(c), drivers.join(c)).unwrap();
    }
    t
}

#[test]
fn an_interrupted_apply_of_a_fixture_tree_is_finished_by_a_rerun() {
    let tree = fixture_tree();
    let failures = resume_failures(
        tree.path(),
        &[
            "include/linux/pagewalk.h",
            "mm/pagewalk.c",
            "drivers/a_initializer.c",
        ],
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// mm/mincore.c of the demo with a `.pgd_entry` callback that no struct mm_walk has.
fn with_unknown_callback(tree: &Path) {
    let p = tree.join("mm/mincore.c");
    let s = std::fs::read_to_string(&p).unwrap();
    let s = s
        .replacen(
            "static int mincore_pte_hole(",
            "static int mincore_pgd_entry(pgd_t *pgd, unsigned long addr,\n\
             \t\t\t     unsigned long next, struct mm_walk *walk)\n{\n\treturn 0;\n}\n\n\
             static int mincore_pte_hole(",
            1,
        )
        .replacen(
            "\t\t.pte_hole = mincore_pte_hole,\n\t\t.mm = mm,\n",
            "\t\t.pte_hole = mincore_pte_hole,\n\t\t.pgd_entry = mincore_pgd_entry,\n\t\t.mm = mm,\n",
            1,
        );
    assert!(
        s.contains(".pgd_entry = mincore_pgd_entry"),
        "the demo changed"
    );
    std::fs::write(p, s).unwrap();
}

/// A run over a tree whose API header is converted already checks the callbacks files take
/// to be members against the ops struct there, as it checks them against a definition it
/// converts itself: a member neither has blocks the migration, in both cases.
#[test]
fn a_resumed_run_checks_callbacks_against_the_ops_struct_in_the_tree() {
    let clean = tempfile::tempdir().unwrap();
    copy_tree(&demo_path(), clean.path());
    apply(clean.path());
    for resumed in [false, true] {
        let t = tempfile::tempdir().unwrap();
        copy_tree(&demo_path(), t.path());
        if resumed {
            let h = "include/linux/mm.h";
            std::fs::copy(clean.path().join(h), t.path().join(h)).unwrap();
        }
        with_unknown_callback(t.path());
        let before = read_tree(t.path());
        let o = bin().arg("apply").arg(t.path()).output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        let holder = if resumed {
            "struct mm_walk_ops (already in the tree)"
        } else {
            "struct mm_walk"
        };
        let why = format!(
            "mm/mincore.c treats `.pgd_entry` as a callback, but {holder} has no such callback"
        );
        assert!(
            err.lines()
                .any(|l| l.starts_with("mm/pagewalk.c:") && l.contains(&why)),
            "resumed {resumed}: {err}"
        );
        assert_eq!(read_tree(t.path()), before, "resumed {resumed}: {err}");
    }
}
