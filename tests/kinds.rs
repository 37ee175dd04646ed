//! The rule kinds through the binary: several `--rule`s run in command-line order, each on the
//! previous one's output; `kcodemod rules` names each rule's kind; a rule of an unknown kind is
//! refused with its line.

use std::path::Path;
use std::process::{Command, Output};

fn kcodemod(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kcodemod"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

/// A tree holding one pre-5.4 page-walker user whose walk has a `.pte_hole` callback.
fn old_walker_tree() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/mm_walk_ops/a_initializer.c");
    std::fs::create_dir(dir.path().join("mm")).unwrap();
    std::fs::copy(src, dir.path().join("mm/resident.c")).unwrap();
    dir
}

fn diff(tree: &Path, rules: &[&str]) -> String {
    let mut args = vec!["diff", "-q"];
    for r in rules {
        args.extend(["--rule", r]);
    }
    args.push(tree.to_str().unwrap());
    let out = kcodemod(&args);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn rules_run_in_command_line_order_on_each_others_output() {
    let tree = old_walker_tree();
    // mm_walk_ops first makes the ops struct pte_hole_depth then finds: the 5.6 form at once.
    let both = diff(tree.path(), &["mm_walk_ops", "pte_hole_depth"]);
    assert!(both.contains("+static const struct mm_walk_ops"), "{both}");
    assert!(both.contains("__always_unused int depth"), "{both}");
    // The other order: pte_hole_depth sees only the old struct mm_walk and does nothing.
    let reversed = diff(tree.path(), &["pte_hole_depth", "mm_walk_ops"]);
    assert!(
        reversed.contains("+static const struct mm_walk_ops"),
        "{reversed}"
    );
    assert!(!reversed.contains("depth"), "{reversed}");
    // Alone, on code of the old form, it has nothing to do.
    assert_eq!(diff(tree.path(), &["pte_hole_depth"]), "");
}

#[test]
fn rules_lists_each_rules_kind() {
    let out = kcodemod(&["rules"]);
    let text = String::from_utf8(out.stdout).unwrap();
    for (id, kind) in [
        ("mm_walk_ops", "struct-to-ops"),
        ("proc_ops", "struct-retype"),
        ("pte_hole_depth", "callback-signature"),
    ] {
        assert!(
            text.lines()
                .any(|l| l.starts_with(&format!("{id}\t{kind}\t"))),
            "{text}"
        );
    }
}

#[test]
fn a_rule_of_an_unknown_kind_is_refused_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let rule = dir.path().join("x.toml");
    std::fs::write(
        &rule,
        "id = \"x\"\nsummary = \"s\"\nkind = \"struct-rename\"\nprefilter = [\"x\"]\n",
    )
    .unwrap();
    let out = kcodemod(&[
        "check",
        "--rule",
        rule.to_str().unwrap(),
        dir.path().to_str().unwrap(),
    ]);
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("x.toml:3:"), "{err}");
    assert!(err.contains("struct-rename"), "{err}");
}
