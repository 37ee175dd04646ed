//! The call-rewrite kind through the binary, on a small tree across arch groups: the series
//! applies with `git am`, its check scripts cover the arches kcodemod can build and the rest is
//! named as not built, a second run finds nothing, and a callers-only rule whose new API the
//! tree lacks says INCOMPLETE.

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

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

/// `kcodemod series --rule RULE TREE -o OUT` without checkpatch, signed off by a fixed author.
fn series(tree: &Path, rule: &str, out: &Path) -> Output {
    kcodemod(&[
        "series",
        "--rule",
        rule,
        "--no-checkpatch",
        tree.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--signoff",
        "A U Thor <author@example.org>",
    ])
}

const DRIVER: &str = "#include <linux/io.h>\n\nvoid __iomem *map_regs(resource_size_t phys)\n{\n\treturn ioremap_nocache(phys, 0x100);\n}\n";

/// A tree with callers in the generic code, in s390 (built by kcodemod's check scripts) and in
/// alpha (no cross compiler kcodemod knows), and the API's own definitions in linux/io.h.
fn tree() -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    let root = t.path();
    write(
        root,
        "include/linux/io.h",
        "#ifndef _LINUX_IO_H\n#define _LINUX_IO_H\n\nvoid __iomem *ioremap(resource_size_t offset, unsigned long size);\nvoid __iomem *ioremap_nocache(resource_size_t offset, unsigned long size);\n\n#endif\n",
    );
    write(root, "drivers/misc/regs.c", DRIVER);
    write(root, "arch/s390/kernel/regs.c", DRIVER);
    write(root, "arch/alpha/kernel/regs.c", DRIVER);
    common::commit_all(root, "base");
    t
}

#[test]
fn a_series_across_arches_applies_and_names_what_it_does_not_build() {
    let t = tree();
    let out = tempfile::tempdir().unwrap();
    let o = series(t.path(), "ioremap_nocache", out.path());
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(err.contains("kcodemod: NOT BUILT: alpha: "), "{err}");
    let report = std::fs::read_to_string(out.path().join("report.txt")).unwrap();
    assert!(report.starts_with("NOT BUILT: alpha: "), "{report}");
    let json = std::fs::read_to_string(out.path().join("report.json")).unwrap();
    assert!(json.contains("\"type\":\"not-built\""), "{json}");
    for g in ["generic", "s390", "alpha"] {
        assert!(out.path().join(format!("diffs/{g}.diff")).is_file(), "{g}");
    }
    assert!(out.path().join("check/s390.sh").is_file());
    assert!(out.path().join("check/generic.sh").is_file());
    assert!(!out.path().join("check/alpha.sh").exists());
    // The series applies to its base and converts every caller and the API's definition.
    let patches: Vec<String> = std::fs::read_dir(out.path().join("patches"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| !p.to_string_lossy().contains("cover-letter"))
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let mut am = vec!["am"];
    am.extend(patches.iter().map(String::as_str));
    common::git(t.path(), &am);
    let header = std::fs::read_to_string(t.path().join("include/linux/io.h")).unwrap();
    assert!(!header.contains("ioremap_nocache"), "{header}");
    for f in ["drivers/misc/regs.c", "arch/alpha/kernel/regs.c"] {
        let text = std::fs::read_to_string(t.path().join(f)).unwrap();
        assert!(
            text.contains("\treturn ioremap(phys, 0x100);\n"),
            "{f}: {text}"
        );
    }
    // A second run finds nothing left.
    let again = kcodemod(&[
        "check",
        "--rule",
        "ioremap_nocache",
        t.path().to_str().unwrap(),
    ]);
    assert_eq!(
        again.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
}

#[test]
fn a_series_that_builds_everywhere_names_nothing_as_not_built() {
    let t = tree();
    std::fs::remove_dir_all(t.path().join("arch/alpha")).unwrap();
    common::commit_all(t.path(), "no alpha");
    let out = tempfile::tempdir().unwrap();
    let o = series(t.path(), "ioremap_nocache", out.path());
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(!err.contains("NOT BUILT"), "{err}");
    let report = std::fs::read_to_string(out.path().join("report.txt")).unwrap();
    assert!(!report.contains("NOT BUILT"), "{report}");
}

#[test]
fn a_callers_only_rule_whose_api_the_tree_lacks_is_incomplete() {
    let t = tempfile::tempdir().unwrap();
    write(
        t.path(),
        "mm/count.c",
        "int count(struct mm_struct *mm)\n{\n\tdown_read(&mm->mmap_sem);\n\tup_read(&mm->mmap_sem);\n\treturn 0;\n}\n",
    );
    let o = kcodemod(&["diff", "--rule", "mmap_lock", t.path().to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    let diff = String::from_utf8_lossy(&o.stdout);
    assert!(diff.contains("+\tmmap_read_lock(mm);"), "{diff}");
    assert!(
        err.contains("mmap_lock: the callers now use `static inline void mmap_read_lock(struct mm_struct *mm)` (include/linux/mmap_lock.h), which this tree does not have"),
        "{err}"
    );
}

/// The practice rules, written from docs/rules.md alone, still do what their cases say, run as
/// that page shows: every case of each passes (a rule or engine change that breaks one fails
/// here, not only in a bench script).
#[test]
fn the_practice_rules_pass_their_cases_as_the_rule_reference_runs_them() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(root.join("docs/rules.md")).unwrap();
    assert!(doc.contains(
        "kcodemod test --fixtures bench/practice/fixtures bench/practice/access_ok.toml"
    ));
    for id in [
        "access_ok",
        "pci_consistent",
        "netif_napi_add",
        "pci_map",
        "nofault",
        "kzfree",
        "vmalloc_prot",
        "gup_remote",
        "random_u32",
        "i2c_client_device",
        "dma_zalloc",
        "netif_rx_ni",
    ] {
        let cases = std::fs::read_dir(root.join("bench/practice/fixtures").join(id))
            .unwrap()
            .map(|e| e.unwrap())
            .filter(|e| {
                let n = e.file_name().to_string_lossy().into_owned();
                // a `<case>.c`, or a `<case>/` tree beside its `<case>.expected/`
                (n.ends_with(".c") && !n.ends_with(".expected.c"))
                    || (e.path().is_dir() && !n.ends_with(".expected"))
            })
            .count();
        let rule = format!("bench/practice/{id}.toml");
        let o = common::bin()
            .current_dir(root)
            .args(["test", "--fixtures", "bench/practice/fixtures", &rule])
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(
            o.status.success(),
            "{out}{}",
            String::from_utf8_lossy(&o.stderr)
        );
        let passed = out
            .lines()
            .filter(|l| l.starts_with(&format!("{id}/")) && l.ends_with(": Pass"))
            .count();
        assert!(cases >= 2, "{id}: {cases} cases");
        assert_eq!(passed, cases, "{out}");
    }
}

/// A diff that leaves only the old API's own definitions (`old = "flag"`) says so, and makes
/// no claim that the tree does not build when the converted calls name no old function; a
/// rule whose new form keeps the old name (access_ok's shape) still needs its definitions
/// changed, and says the tree does not build.
#[test]
fn incomplete_says_when_only_the_old_definitions_are_left() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path();
    write(
        root,
        "net/core/rx.c",
        "int demo_rx_ni(int skb)\n{\n\treturn skb;\n}\n\nint demo_rx(int skb)\n{\n\treturn skb;\n}\n\nint demo_poll(int skb)\n{\n\treturn demo_rx_ni(skb);\n}\n",
    );
    let rule = |name: &str, to: &str| {
        let p = root.join(format!("{name}.toml"));
        std::fs::write(
            &p,
            format!("id = \"demo\"\nkind = \"call-rewrite\"\nsummary = \"s\"\nsubject = \"s\"\n\n[[rewrite]]\nfrom = \"demo_rx_ni($s)\"\nto = \"{to}\"\n\n[watch]\nnames = [\"demo_rx_ni\"]\n\n[api]\nold = \"flag\"\n"),
        )
        .unwrap();
        p
    };
    let tree = root.join("net");
    let last_line = |rule: &Path| {
        let o = kcodemod(&[
            "diff",
            "--rule",
            rule.to_str().unwrap(),
            tree.to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(1));
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        err.lines()
            .rfind(|l| l.contains("INCOMPLETE"))
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(
        last_line(&rule("renamed", "demo_rx($s)")),
        "kcodemod: INCOMPLETE: 1 site needs manual conversion: the old API's own definitions, left as the rule says; the converted code does not use them"
    );
    assert_eq!(
        last_line(&rule("same_name", "demo_rx_ni($s, 0)")),
        "kcodemod: INCOMPLETE: 1 site needs manual conversion; the tree does not build until it is converted"
    );
    // A caller left beside the definitions (the old function passed as a value) is no
    // definition: the line makes no claim that the converted code is done with them.
    write(
        root,
        "net/core/hook.c",
        "extern int demo_rx_ni(int skb);\n\nint (*demo_hook)(int) = demo_rx_ni;\n",
    );
    assert_eq!(
        last_line(&rule("renamed", "demo_rx($s)")),
        "kcodemod: INCOMPLETE: 3 sites need manual conversion; the tree does not build until they are converted"
    );
}

/// A rule's `body` (why the change is right) is each patch's message after the summary line,
/// and the cover letter's; the series still applies with `git am`. A body line that `git am`
/// would read as the start of the diff is refused when the rule loads, with its line.
#[test]
fn a_rules_body_is_the_patch_message_and_git_am_keeps_it() {
    let t = tree();
    std::fs::remove_dir_all(t.path().join("arch/alpha")).unwrap();
    common::commit_all(t.path(), "no alpha");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let bundled = std::fs::read_to_string(root.join("rules/ioremap_nocache.toml")).unwrap();
    let why = "ioremap() has mapped uncached on every architecture since v5.6: the\n_nocache variant is the same function under another name.";
    let dir = tempfile::tempdir().unwrap();
    let rule = dir.path().join("ioremap_nocache.toml");
    let with_body = bundled.replacen(
        "\n[[rewrite]]",
        &format!("body = \"\"\"\n{why}\n\"\"\"\n\n[[rewrite]]"),
        1,
    );
    std::fs::write(&rule, &with_body).unwrap();
    let out = tempfile::tempdir().unwrap();
    let o = series(t.path(), rule.to_str().unwrap(), out.path());
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let mut patches: Vec<std::path::PathBuf> = std::fs::read_dir(out.path().join("patches"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    patches.sort();
    let cover = std::fs::read_to_string(&patches[0]).unwrap();
    assert!(cover.contains(&format!(".\n\n{why}\n\n")), "{cover}");
    let patch = std::fs::read_to_string(&patches[1]).unwrap();
    assert!(
        patch.contains(&format!(
            "ioremap().\n\n{why}\n\nThe conversion is mechanical"
        )),
        "{patch}"
    );
    common::git(t.path(), &["am", patches[1].to_str().unwrap()]);
    let log = common::git(t.path(), &["log", "-1", "--format=%B"]);
    assert!(log.contains(why), "{log}");
    // `---` on a line of its own would end the message there.
    std::fs::write(
        &rule,
        with_body.replace("same function", "same\n---\nfunction"),
    )
    .unwrap();
    let o = kcodemod(&[
        "check",
        "--rule",
        rule.to_str().unwrap(),
        t.path().to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("ioremap_nocache.toml:") && err.contains("body: the line `---`"),
        "{err}"
    );
}

/// docs/rules.md opens with "A complete rule file": every key it shows loads as written.
#[test]
fn the_rule_references_complete_rule_file_loads() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(root.join("docs/rules.md")).unwrap();
    let at = doc.find("## A complete rule file").unwrap();
    let block = doc[at..].split("```toml\n").nth(1).unwrap();
    let text = &block[..block.find("```").unwrap()];
    assert!(
        text.contains("body = \"\"\"") && text.contains("[target]"),
        "{text}"
    );
    let dir = tempfile::tempdir().unwrap();
    let rule = dir.path().join("complete.toml");
    std::fs::write(&rule, text).unwrap();
    let o = kcodemod(&["rules", "--rule", rule.to_str().unwrap()]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(out.starts_with("ioremap_nocache\tcall-rewrite\t"), "{out}");
}
