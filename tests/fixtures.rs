//! Every rule's fixtures, in-process and through the binary. `KCODEMOD_BLESS=1` rewrites the
//! expected outputs and diagnostics from what the tool does now (review the diff before committing).

mod common;

use std::path::Path;

use kcodemod::fixture::{self, Verdict};
use kcodemod::rule;

fn fixtures_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures"))
}

#[test]
fn every_fixture_passes_in_process() {
    let bless = std::env::var_os("KCODEMOD_BLESS").is_some();
    let mut failures = Vec::new();
    let mut count = 0;
    // The fixture-only rules too: irq_walker_ops proves the engine is driven by rule data.
    let rules = common::rules_with_fixtures();
    assert!(rules.iter().any(|r| r.id == "irq_walker_ops"));
    for r in rules {
        let cases = fixture::cases(&fixtures_dir().join(&r.id)).unwrap();
        assert!(
            cases.len() >= 8,
            "{}: only {} fixture cases",
            r.id,
            cases.len()
        );
        for case in cases {
            count += 1;
            if bless {
                bless_case(&r, &case);
            }
            match fixture::check(&r, &case).unwrap() {
                Verdict::Pass => {}
                v => failures.push(format!("{}/{}: {v}", r.id, case.name)),
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {count} cases fail:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn bless_case(r: &rule::Rule, case: &fixture::Case) {
    if case.tree {
        return bless_tree(r, case);
    }
    let input = std::fs::read(&case.input).unwrap();
    let (out, diags) = fixture::run_one(r, &case.input, &input);
    let exp = case
        .input
        .with_file_name(format!("{}.expected.c", case.name));
    let diag = case.input.with_file_name(format!("{}.diag", case.name));
    if out != input {
        std::fs::write(&exp, out).unwrap();
    } else if exp.exists() {
        std::fs::remove_file(&exp).unwrap();
    }
    if diags.is_empty() {
        let _ = std::fs::remove_file(&diag);
    } else {
        std::fs::write(&diag, diags.join("\n") + "\n").unwrap();
    }
}

/// A tree case: `<case>.expected/` holds every file of the output when any changed.
fn bless_tree(r: &rule::Rule, case: &fixture::Case) {
    let input = fixture::read_tree(&case.input).unwrap();
    let compat = case.name.ends_with(".compat");
    let (out, diags) = fixture::run_tree(r, &input, compat).unwrap();
    let exp = case.input.with_file_name(format!("{}.expected", case.name));
    let diag = case.input.with_file_name(format!("{}.diag", case.name));
    let _ = std::fs::remove_dir_all(&exp);
    if out != input {
        for (rel, bytes) in &out {
            let p = exp.join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, bytes).unwrap();
        }
    }
    if diags.is_empty() {
        let _ = std::fs::remove_file(&diag);
    } else {
        std::fs::write(&diag, diags.join("\n") + "\n").unwrap();
    }
}

#[test]
fn the_binary_runs_the_same_fixtures() {
    let out = common::bin()
        .args(["test", "--fixtures"])
        .arg(fixtures_dir())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = stdout.lines().filter(|l| l.contains(": ")).collect();
    assert!(lines.len() >= 30, "{stdout}");
    assert!(lines.iter().all(|l| l.ends_with(": Pass")), "{stdout}");
}

/// A broken expectation must be reported as Wrong: the harness itself can fail.
#[test]
fn a_wrong_expectation_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let src = fixtures_dir().join("mm_walk_ops");
    for f in [
        "a_initializer.c",
        "a_initializer.expected.c",
        "x16_ambiguous_read.c",
        "x16_ambiguous_read.diag",
        "n2_similar_struct.c",
    ] {
        std::fs::copy(src.join(f), dir.path().join(f)).unwrap();
    }
    let exp = dir.path().join("a_initializer.expected.c");
    let text = std::fs::read_to_string(&exp)
        .unwrap()
        .replace("= {\n", "= { /* changed */\n");
    std::fs::write(&exp, text).unwrap();
    std::fs::write(
        dir.path().join("x16_ambiguous_read.diag"),
        "1: nowhere: escape\n",
    )
    .unwrap();
    let r = rule::select(&["mm_walk_ops".into()]).unwrap().remove(0);
    let verdicts: Vec<(String, Verdict)> = fixture::cases(dir.path())
        .unwrap()
        .into_iter()
        .map(|c| (c.name.clone(), fixture::check(&r, &c).unwrap()))
        .collect();
    assert!(
        matches!(verdicts[0].1, Verdict::Wrong(_)),
        "{:?}",
        verdicts[0]
    );
    assert_eq!(verdicts[1].1, Verdict::Pass);
    assert!(
        matches!(verdicts[2].1, Verdict::Wrong(ref d) if d.contains("diagnostics differ")),
        "{:?}",
        verdicts[2]
    );
}

/// A tree case is checked file by file: a wrong expected header, or a second run that flags
/// what the first did not, is Wrong; a must-not-fire tree that changes is Noisy.
#[test]
fn a_wrong_tree_expectation_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let src = fixtures_dir().join("proc_ops");
    for c in ["r_across", "r_across.expected", "s_across_passed"] {
        common::copy_tree(&src.join(c), &dir.path().join(c));
    }
    std::fs::copy(
        src.join("s_across_passed.diag"),
        dir.path().join("s_across_passed.diag"),
    )
    .unwrap();
    let r = rule::select(&["proc_ops".into()]).unwrap().remove(0);
    let verdicts = |d: &Path| -> Vec<(String, Verdict)> {
        fixture::cases(d)
            .unwrap()
            .into_iter()
            .map(|c| (c.name.clone(), fixture::check(&r, &c).unwrap()))
            .collect()
    };
    let v = verdicts(dir.path());
    assert_eq!(v.len(), 2, "{v:?}");
    assert!(v.iter().all(|(_, v)| *v == Verdict::Pass), "{v:?}");
    let h = dir.path().join("r_across.expected/cache.h");
    let text = std::fs::read_to_string(&h)
        .unwrap()
        .replace("proc_ops", "file_operations");
    std::fs::write(&h, text).unwrap();
    // The twin's peek.c no longer passes the table on: it converts, where nothing should.
    let peek = dir.path().join("s_across_passed/peek.c");
    std::fs::remove_file(&peek).unwrap();
    let v = verdicts(dir.path());
    assert!(
        matches!(&v[0].1, Verdict::Wrong(d) if d.contains("cache.h")),
        "{v:?}"
    );
    assert!(
        matches!(&v[1].1, Verdict::Noisy(d) if d.contains("debug.c")),
        "{v:?}"
    );
}

/// Issue 21: `kcodemod test` over a rule with no case tested nothing: exit 2 with a message,
/// not a pass. With one case it runs (must not fire).
#[test]
fn a_rule_without_cases_is_not_a_pass() {
    let dir = tempfile::tempdir().unwrap();
    let cases = dir.path().join("mm_walk_ops");
    std::fs::create_dir(&cases).unwrap();
    std::fs::write(cases.join("README"), "not a case\n").unwrap();
    let test = || {
        common::bin()
            .args(["test", "mm_walk_ops", "--fixtures"])
            .arg(dir.path())
            .output()
            .unwrap()
    };
    let o = test();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("mm_walk_ops: no fixture case (NAME.c) in")
            && err.contains("nothing was tested"),
        "{err}"
    );
    let src = fixtures_dir().join("mm_walk_ops");
    for f in ["a_initializer.c", "a_initializer.expected.c"] {
        std::fs::copy(src.join(f), cases.join(f)).unwrap();
    }
    let o = test();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "mm_walk_ops/a_initializer: Pass\n"
    );
}

/// A one-file case's second run, over its expected output, may flag again what the first
/// run flagged and left (a definition `old = "flag"` keeps), as a tree case's may; a flag the
/// first run did not give is Wrong.
#[test]
fn a_second_run_may_flag_again_only_what_the_first_did() {
    let dir = tempfile::tempdir().unwrap();
    let (rules, cases) = (dir.path().join("rules"), dir.path().join("fixtures/demo"));
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::create_dir_all(&cases).unwrap();
    // `old_b()` is flagged, and `old_a()` becomes `old_b()`: a rule whose output its second
    // run flags (its own fault, which the case must show).
    let rule = "id = \"demo\"\nkind = \"call-rewrite\"\nsummary = \"s\"\nsubject = \"s\"\n\n\
        [[rewrite]]\nfrom = \"old_b($x)\"\nflag = \"not mechanical\"\n\n\
        [[rewrite]]\nfrom = \"old_a($x)\"\nto = \"old_b($x)\"\n\n\
        [[rewrite]]\nfrom = \"old_c($x)\"\nto = \"new_c($x)\"\n\n\
        [watch]\nnames = [\"old_a\", \"old_b\", \"old_c\"]\n\n[api]\nold = \"flag\"\n";
    std::fs::write(rules.join("demo.toml"), rule).unwrap();
    let write = |name: &str, text: &str| std::fs::write(cases.join(name), text).unwrap();
    write("a_again.c", "void f(void)\n{\n\told_a(1);\n}\n");
    write("a_again.expected.c", "void f(void)\n{\n\told_b(1);\n}\n");
    let def = "int old_c(int x)\n{\n\treturn x;\n}\n\nvoid g(void)\n{\n\told_c(2);\n}\n";
    write("b_definition.c", def);
    write(
        "b_definition.expected.c",
        &def.replace("\told_c(2)", "\tnew_c(2)"),
    );
    write("b_definition.diag", "1: old_c: blocked\n");
    let o = common::bin()
        .args(["test"])
        .arg(rules.join("demo.toml"))
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("demo/b_definition: Pass"), "{out}");
    assert!(out.contains("demo/a_again: Wrong"), "{out}");
    assert!(
        out.contains("a second run flags what the first did not: 3: f: unsupported"),
        "{out}"
    );
    assert_eq!(o.status.code(), Some(1), "{out}");
}
