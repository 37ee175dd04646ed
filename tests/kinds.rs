//! The rule kinds through the binary: several `--rule`s run in command-line order, each on the
//! previous one's output; `kcodemod rules` names each rule's kind; a rule of an unknown kind is
//! refused with its line.

mod common;

use std::path::Path;
use std::process::Output;

fn kcodemod(args: &[&str]) -> Output {
    common::bin()
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

/// The new kinds parse only the items their proof needs (`parse::items`). On every fixture of
/// theirs, and on a file whose braces do not balance (read whole), that must give exactly what
/// a parse of the whole file gives: the same sites and the same output bytes.
#[test]
fn reading_some_items_gives_what_reading_the_whole_file_gives() {
    use kcodemod::rule::{Retype, Rule, Signature};
    use std::time::Duration;
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let macros = std::sync::Arc::new(kcodemod::parse::Macros::builtin());
    let t = Duration::from_secs(10);
    let mut compared = 0;
    for id in ["proc_ops", "pte_hole_depth"] {
        let rule = Rule::load(&root.join(format!("rules/{id}.toml"))).unwrap();
        let mut inputs: Vec<_> = std::fs::read_dir(root.join("fixtures").join(id))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                let n = p.to_string_lossy();
                n.ends_with(".c") && !n.ends_with(".expected.c")
            })
            .collect();
        inputs.sort();
        for path in inputs {
            let src = std::fs::read(&path).unwrap();
            let whole = kcodemod::parse::parse_with(&src, t, &macros).unwrap();
            let any = rule.kind.as_any();
            let (part, all) = match (
                any.downcast_ref::<Retype>(),
                any.downcast_ref::<Signature>(),
            ) {
                (Some(k), _) => (
                    kcodemod::struct_retype::run(k, &src, t, &macros, false).unwrap(),
                    kcodemod::struct_retype::migrate(k, &src, &whole, false),
                ),
                (_, Some(s)) => (
                    kcodemod::callback_signature::run(s, &src, t, &macros).unwrap(),
                    kcodemod::callback_signature::migrate(s, &src, &whole),
                ),
                _ => unreachable!("{id} reads some items"),
            };
            let shown = path.display();
            assert_eq!(part.sites, all.sites, "{shown}");
            assert_eq!(part.edits.apply(&src), all.edits.apply(&src), "{shown}");
            compared += 1;
        }
    }
    assert!(compared >= 18, "only {compared} fixtures found");
}

/// The call-rewrite kind reads only the statements of a body that hold a watched word
/// (`parse::pieces`). On every fixture of its rules that must give exactly what reading the
/// whole file gives: the same sites and the same output bytes.
#[test]
fn reading_pieces_of_bodies_gives_what_reading_the_whole_file_gives() {
    use kcodemod::kinds::call_rewrite::{CallRewrite, Reading};
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let macros = std::sync::Arc::new(kcodemod::parse::Macros::builtin());
    let cx = kcodemod::kinds::FileCtx {
        tree: root,
        path: Path::new("x.c"),
        macros: &macros,
        timeout: std::time::Duration::from_secs(10),
        api: true,
        tree_has_new: false,
        compat: None,
        settled: None,
    };
    let mut compared = 0;
    for id in ["ioremap_nocache", "mmap_lock"] {
        let rule = kcodemod::rule::Rule::load(&root.join(format!("rules/{id}.toml"))).unwrap();
        let k = rule.kind.as_any().downcast_ref::<CallRewrite>().unwrap();
        for e in std::fs::read_dir(root.join("fixtures").join(id)).unwrap() {
            let path = e.unwrap().path();
            let n = path.to_string_lossy();
            if !n.ends_with(".c") || n.ends_with(".expected.c") {
                continue;
            }
            let src = std::fs::read(&path).unwrap();
            let part = k.run(&rule, &src, &cx, Reading::Pieces).unwrap();
            let all = k.run(&rule, &src, &cx, Reading::Whole).unwrap();
            assert_eq!(part.sites, all.sites, "{n}");
            assert_eq!(part.edits.apply(&src), all.edits.apply(&src), "{n}");
            compared += 1;
        }
    }
    assert!(compared >= 24, "only {compared} fixtures found");
}

/// A conditional that opens a block in each arm leaves the braces unbalanced: such a file is
/// read whole, and still converted.
#[test]
fn a_file_whose_braces_do_not_balance_is_read_whole() {
    let dir = tempfile::tempdir().unwrap();
    let src = "#include <linux/proc_fs.h>\n\nstatic const struct file_operations x_fops = {\n\t.open\t\t= x_open,\n\t.read\t\t= seq_read,\n};\n\nint x_init(int a)\n{\n#ifdef CONFIG_X\n\tif (a) {\n#else\n\tif (!a) {\n#endif\n\t\tproc_create(\"x\", 0, NULL, &x_fops);\n\t}\n\treturn 0;\n}\n";
    let lexed = kcodemod::parse::lex::lex(src.as_bytes());
    assert!(kcodemod::parse::items::Items::split(src.as_bytes(), &lexed).is_none());
    std::fs::write(dir.path().join("x.c"), src).unwrap();
    let out = diff(dir.path(), &["proc_ops"]);
    assert!(
        out.contains("+static const struct proc_ops x_proc_ops = {"),
        "{out}"
    );
    assert!(out.contains("+\t.proc_open\t= x_open,"), "{out}");
    assert!(
        out.contains("+\t\tproc_create(\"x\", 0, NULL, &x_proc_ops);"),
        "{out}"
    );
}

/// A tree whose own include/linux/proc_fs.h already defines struct proc_ops builds only where
/// every registration passes a proc_ops: there a registration of a struct the file does not
/// define (a member, one defined in another file) is the new API, and `check` passes. In a tree
/// of the old API the same file is flagged; and a struct of the old type the file defines is
/// converted in either tree.
#[test]
fn a_tree_already_on_the_new_api_passes_check() {
    let caller = "#include <linux/proc_fs.h>\n\nstruct dev {\n\tconst struct proc_ops *ops;\n};\n\nint dev_proc_init(struct dev *d)\n{\n\tproc_create(\"dev\", 0, NULL, d->ops);\n\tproc_create(\"shared\", 0, NULL, &shared_proc_ops);\n\treturn 0;\n}\n";
    let leftover = LEFTOVER;
    let check = |api: &str, files: &[(&str, &str)]| {
        let dir = proc_tree(api, files);
        let out = kcodemod(&["check", "--rule", "proc_ops", dir.path().to_str().unwrap()]);
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        (out.status.code(), text)
    };
    let (code, text) = check("new", &[("dev.c", caller)]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("taken to be of the new type"), "{text}");
    assert!(text.contains("0 sites would convert, 0 flagged"), "{text}");
    let (code, text) = check("old", &[("dev.c", caller)]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("dev.c:9: d->ops:"), "{text}");
    assert!(text.contains("dev.c:10: shared_proc_ops:"), "{text}");
    let (code, text) = check("new", &[("dev.c", caller), ("late.c", leftover)]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("2 sites would convert, 0 flagged"), "{text}");
}

/// A file that registers a /proc entry the v5.4 way.
const LEFTOVER: &str = "#include <linux/proc_fs.h>\n\nstatic const struct file_operations late_fops = {\n\t.open\t\t= late_open,\n};\n\nint late_init(void)\n{\n\tproc_create(\"late\", 0, NULL, &late_fops);\n\treturn 0;\n}\n";

/// A tree whose include/linux/proc_fs.h is the fixtures' `api` one (`old` or `new`), holding
/// `files`.
fn proc_tree(api: &str, files: &[(&str, &str)]) -> tempfile::TempDir {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let inc = dir.path().join("include/linux");
    std::fs::create_dir_all(&inc).unwrap();
    let header = root.join(format!("fixtures/include/proc_ops/{api}/linux/proc_fs.h"));
    std::fs::copy(header, inc.join("proc_fs.h")).unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

/// A series converting callers to an API the tree does not have cannot build: it says so
/// (INCOMPLETE, first in the report, exit 1) unless a base patch changing the API's header
/// comes first, or the tree has the API already.
#[test]
fn a_callers_only_series_without_its_api_is_incomplete() {
    let series = |tree: &Path, extra: &[&str]| {
        let out = tempfile::tempdir().unwrap();
        let mut args = vec![
            "series",
            "--rule",
            "proc_ops",
            "--no-checkpatch",
            "--signoff",
            "A U Thor <author@example.org>",
            "--date",
            "@0",
            "-o",
            out.path().to_str().unwrap(),
            tree.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let o = kcodemod(&args);
        let report = std::fs::read_to_string(out.path().join("report.txt")).unwrap_or_default();
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        (o.status.code(), report, err)
    };
    let old = proc_tree("old", &[("late.c", LEFTOVER)]);
    let (code, report, err) = series(old.path(), &[]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        report.starts_with("INCOMPLETE: the callers now use `struct proc_ops {` (include/linux/proc_fs.h), which this tree does not have"),
        "{report}"
    );
    assert!(err.contains("--base-patch FILE"), "{err}");
    // A base patch that changes the header brings the API (it must apply: its context is the
    // header's first line).
    let first = |f: &str| {
        let t = std::fs::read_to_string(old.path().join(f)).unwrap();
        t.lines().next().unwrap().to_string()
    };
    let api = old.path().join("api.patch");
    std::fs::write(
        &api,
        format!("Subject: [PATCH] proc: decouple proc from VFS with struct proc_ops\n\n---\n--- a/include/linux/proc_fs.h\n+++ b/include/linux/proc_fs.h\n@@ -1 +1,2 @@\n+struct proc_ops;\n {}\n", first("include/linux/proc_fs.h")),
    )
    .unwrap();
    let (code, report, err) = series(old.path(), &["--base-patch", api.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{err}");
    assert!(!report.contains("INCOMPLETE"), "{report}");
    // One that does not change it does not.
    let other = old.path().join("other.patch");
    std::fs::write(
        &other,
        format!(
            "Subject: [PATCH] unrelated\n\n---\n--- a/late.c\n+++ b/late.c\n@@ -1 +1,2 @@\n+\n {}\n",
            first("late.c")
        ),
    )
    .unwrap();
    // It is refused before anything is written (it applies, but brings no API).
    let (code, _, err) = series(old.path(), &["--base-patch", other.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("changes no header of the API (proc_ops)"),
        "{err}"
    );
    // A tree with the API already: the leftover converts, nothing is missing.
    let new = proc_tree("new", &[("late.c", LEFTOVER)]);
    let (code, report, err) = series(new.path(), &[]);
    assert_eq!(code, Some(0), "{err}");
    assert!(!report.contains("INCOMPLETE"), "{report}");
    // diff converts callers only, as asked (exit 0), and notes what the tree still needs.
    let note = "kcodemod: note: proc_ops: the callers now use `struct proc_ops {` (include/linux/proc_fs.h), which this tree does not have: it builds once that API change is in";
    for (tree, noted) in [(&old, true), (&new, false)] {
        let o = kcodemod(&["diff", "--rule", "proc_ops", tree.path().to_str().unwrap()]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(0), "{err}");
        assert_eq!(err.contains(note), noted, "{err}");
    }
}

/// Items read alone are checked alone, unless the parser cannot read them cleanly: then its
/// error recovery may reach past them, and the whole file is re-read before and after the
/// rewrite (found by the fuzz target new_kinds: this rename made a whole reading worse; read
/// as items alone it converted).
#[test]
fn a_rewrite_of_items_the_parser_cannot_read_is_checked_on_the_whole_file() {
    let dir = tempfile::tempdir().unwrap();
    let src = "r*u, \n{\n[0;\n}\n\nstatic struct file_operations ring\n= {.read =proc_create(\"\", 0, L, &ring)}";
    std::fs::write(dir.path().join("x.c"), src).unwrap();
    let o = kcodemod(&["diff", "--rule", "proc_ops", dir.path().to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        o.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert!(
        err.contains("x.c:7: ring: self-check failed, file left alone: the rewritten file has new parse errors"),
        "{err}"
    );
}
