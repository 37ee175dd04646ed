//! Bounded work (issue 21): no input crashes the process. A file nested deeper than the
//! analysis can walk (4,000 `{` or chained `if` in a few KB) is left *unchecked* with a reason
//! and exit code 2, instead of overflowing the stack (exit 134) and killing the whole run; a
//! full stderr or stdout is an exit code, not a panic (exit 101).

mod common;

use std::path::Path;
use std::process::{Output, Stdio};

const CALLBACK: &str = "#include <linux/mm.h>\n\
static int cb(pte_t *pte, unsigned long a, unsigned long e, struct mm_walk *w)\n\
{\n\treturn 0;\n}\n\n";

/// A convertible walk with `body` between the walk and its call.
fn walker(name: &str, body: &str) -> String {
    format!(
        "{CALLBACK}static int {name}(struct mm_struct *mm, int x)\n{{\n\
         \tstruct mm_walk w = {{ .pte_entry = cb, .mm = mm }};\n\n{body}\
         \n\treturn walk_page_range(0, 1, &w);\n}}\n"
    )
}

fn braces(n: usize) -> String {
    format!("{}{}", "{".repeat(n), "}".repeat(n))
}

fn chained_ifs(n: usize) -> String {
    "\tif (x) x++; else\n".repeat(n) + "\tx--;\n"
}

fn tree(files: &[(&str, String)]) -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    for (name, text) in files {
        let p = t.path().join("mm").join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    t
}

fn run(args: &[&str], tree: &Path) -> Output {
    common::bin()
        .arg(args[0])
        .arg(tree)
        .args(&args[1..])
        .output()
        .unwrap()
}

#[test]
fn deep_nesting_makes_the_file_unchecked_not_a_crash() {
    let deep_braces = walker("f", &braces(4000));
    let deep_ifs = walker("g", &chained_ifs(4000));
    assert!(deep_braces.len() < 9 * 1024, "{}", deep_braces.len());
    let t = tree(&[
        ("a.c", deep_braces),
        ("b.c", deep_ifs),
        ("c.c", walker("h", "")),
    ]);
    for cmd in ["check", "diff", "apply"] {
        let o = run(&[cmd], t.path());
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{cmd}: {err}");
        for f in ["mm/a.c", "mm/b.c"] {
            assert!(
                err.contains(&format!(
                    "{f}: unchecked: nested more than 1000 levels deep: not analysed"
                )),
                "{cmd}: {f}: {err}"
            );
        }
    }
    // The rest of the tree was converted all the same.
    let c = std::fs::read_to_string(t.path().join("mm/c.c")).unwrap();
    assert!(
        c.contains("walk_page_range(mm, 0, 1, &h_walk_ops, NULL)"),
        "{c}"
    );
}

/// Must not fire: nesting close to the bound is analysed and converted like any other.
#[test]
fn nesting_below_the_bound_is_converted() {
    let t = tree(&[
        ("a.c", walker("f", &braces(950))),
        ("b.c", walker("g", &chained_ifs(450))),
    ]);
    let o = run(&["apply"], t.path());
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    for (f, name) in [("a.c", "f"), ("b.c", "g")] {
        let c = std::fs::read_to_string(t.path().join("mm").join(f)).unwrap();
        assert!(
            c.contains(&format!(
                "walk_page_range(mm, 0, 1, &{name}_walk_ops, NULL)"
            )),
            "{f}: {err}"
        );
    }
}

fn full() -> Stdio {
    Stdio::from(std::fs::File::create("/dev/full").unwrap())
}

/// A full stderr (or stdout) makes the run end with exit code 2 and no panic.
#[test]
fn a_full_stderr_or_stdout_is_an_error_not_a_panic() {
    let demo = common::demo_path();
    for (what, args) in [
        ("check, stderr full", vec!["check"]),
        ("diff, stderr full", vec!["diff"]),
    ] {
        let o = common::bin()
            .arg(args[0])
            .arg(&demo)
            .args(&args[1..])
            .stdout(Stdio::null())
            .stderr(full())
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{what}");
    }
    for (what, args) in [
        ("diff, stdout full", vec!["diff"]),
        ("check --json, stdout full", vec!["check", "--json"]),
    ] {
        let o = common::bin()
            .arg(args[0])
            .arg(&demo)
            .args(&args[1..])
            .stdout(full())
            .stderr(full())
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{what}");
    }
}

/// `n` nested `#ifdef` groups around one statement each.
fn nested_ifdefs(n: usize) -> String {
    let open: String = (0..n)
        .map(|i| format!("#ifdef CONFIG_A{i}\n\tx++;\n"))
        .collect();
    open + &"#endif\n".repeat(n)
}

/// `n` conditionals that each hold the end of a call, splitting a statement: without the
/// arm the call runs on into the code after it, which no local reading settles, so each one's
/// configuration is read in the whole file again (what stays quadratic: bench/nested-ifdef.sh
/// has the shapes that no longer are).
fn split_calls(n: usize) -> String {
    (0..n)
        .map(|i| format!("\tfoo(a,\n#ifdef CONFIG_A{i}\n\t\tb);\n#endif\n"))
        .collect()
}

/// Deep `#ifdef` nesting costs in proportion to its size, not its cube (4,000 levels took
/// 55 s, far past the per-file limit that now bounds the analysis): the walk is converted
/// within the default limit like any other.
#[test]
fn deep_ifdef_nesting_is_analysed_within_the_limit() {
    let t = tree(&[("a.c", walker("f", &nested_ifdefs(4000)))]);
    let o = run(&["apply"], t.path());
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    let c = std::fs::read_to_string(t.path().join("mm/a.c")).unwrap();
    assert!(
        c.contains("walk_page_range(mm, 0, 1, &f_walk_ops, NULL)"),
        "{err}"
    );
}

/// `--parse-timeout-ms` bounds the whole analysis of a file, not only tree-sitter's parse: a
/// file that parses in milliseconds but whose proof would take many seconds (1,000
/// statement-splitting conditionals, a whole-file parse each) is left unchecked with the
/// reason, exit 2, and the rest of the tree is converted. Before, the limit did not apply and
/// the verdict came after a minute.
#[test]
fn the_parse_timeout_bounds_the_whole_analysis() {
    let t = tree(&[
        ("a.c", walker("f", &split_calls(1000))),
        ("c.c", walker("h", "")),
    ]);
    let o = run(&["apply", "--parse-timeout-ms", "1000"], t.path());
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains(
            "mm/a.c: unchecked: analysis took longer than the per-file limit \
             (1s, --parse-timeout-ms): not analysed"
        ),
        "{err}"
    );
    let c = std::fs::read_to_string(t.path().join("mm/c.c")).unwrap();
    assert!(
        c.contains("walk_page_range(mm, 0, 1, &h_walk_ops, NULL)"),
        "{c}"
    );
}
