use super::*;
use crate::kinds::struct_to_ops::StructToOps;
use crate::kinds::struct_to_ops::rule::NewArg;

/// The struct-to-ops data of a rule of that kind.
fn ops(r: &Rule) -> &StructToOps {
    StructToOps::of(r).expect("a struct-to-ops rule")
}

fn err(text: &str) -> String {
    Rule::parse(Path::new("rules/x.toml"), text)
        .unwrap_err()
        .to_string()
}

const GOOD: &str = include_str!("../../rules/mm_walk_ops.toml");

#[test]
fn bundled_rules_compile() {
    let rules = bundled().unwrap();
    // irq_walker_ops is a fixture-only rule (fixtures/rules/), not bundled.
    assert_eq!(rules.len(), 5);
    assert!(rules.iter().all(|r| r.id != "irq_walker_ops"));
    assert_eq!(rules[0].id, "mm_walk_ops");
    let mm = ops(&rules[0]);
    let e = mm.entry("walk_page_range").unwrap();
    assert_eq!(e.walk_index, 2);
    assert_eq!(e.new_args[0], NewArg::Field(mm.field("mm").unwrap()));
    assert_eq!(
        mm.entry("walk_page_vma").unwrap().implied,
        vec![(mm.field("mm").unwrap(), "vma->vm_mm".to_string())]
    );
}

#[test]
fn malformed_toml_names_the_line() {
    let text = GOOD.replace("id = \"mm_walk_ops\"", "id = \"mm_walk_ops");
    let line = GOOD.lines().position(|l| l.starts_with("id = ")).unwrap() + 1;
    assert!(
        err(&text).starts_with(&format!("rules/x.toml:{line}:")),
        "{}",
        err(&text)
    );
}

#[test]
fn unknown_field_is_rejected() {
    let text = GOOD.replace("summary =", "colour = \"red\"\nsummary =");
    let line = GOOD
        .lines()
        .position(|l| l.starts_with("summary ="))
        .unwrap()
        + 1;
    let e = err(&text);
    assert!(
        e.starts_with(&format!("rules/x.toml:{line}:")) && e.contains("colour"),
        "{e}"
    );
}

#[test]
fn misfit_argument_lists_are_rejected() {
    let text = GOOD.replace(
        "new = [\".mm\", \"start\", \"end\"",
        "new = [\".mm\", \"begin\", \"end\"",
    );
    let e = err(&text);
    assert!(
        e.contains("entry `walk_page_range`: new argument `begin` is not an old argument"),
        "{e}"
    );
    let line = GOOD
        .lines()
        .position(|l| l == "name = \"walk_page_range\"")
        .unwrap();
    assert!(e.starts_with(&format!("rules/x.toml:{line}:")), "{e}");
    let text = GOOD.replace("implied = { mm = \"vma->vm_mm\" }\n", "");
    assert!(err(&text).contains("argument field `mm` is neither passed nor implied"));
    let text = GOOD.replace("old = [\"vma\", \"$walk\"]", "old = [\"vma\", \"walk\"]");
    assert!(err(&text).contains("`$walk` exactly once"));
}

#[test]
fn duplicate_ids_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("dup.toml");
    std::fs::write(&p, GOOD).unwrap();
    let e = select(&["mm_walk_ops".into(), p.display().to_string()])
        .unwrap_err()
        .to_string();
    assert!(e.contains("duplicate rule id `mm_walk_ops`"), "{e}");
}

#[test]
fn with_callbacks_adds_moved_fields_after_the_listed_ones() {
    let rules = bundled().unwrap();
    let mm = ops(&rules[0]);
    let extra = ["pgd_entry".to_string(), "pmd_entry".to_string()];
    let r = mm.with_callbacks(&extra);
    assert_eq!(r.fields.len(), mm.fields.len() + 1);
    assert!(r.is_moved("pgd_entry") && !mm.is_moved("pgd_entry"));
    assert_eq!(r.field("pgd_entry"), Some(mm.fields.len()));
    // Entry points index fields: the listed ones keep their places.
    assert_eq!(r.field("mm"), mm.field("mm"));
}

const PROC_OPS: &str = include_str!("../../rules/proc_ops.toml");
const PTE_HOLE: &str = include_str!("../../rules/pte_hole_depth.toml");

#[test]
fn new_kinds_compile_into_their_configs() {
    let r = Rule::parse(Path::new("rules/proc_ops.toml"), PROC_OPS).unwrap();
    let k: &Retype = r
        .kind
        .as_any()
        .downcast_ref()
        .expect("a struct-retype rule");
    assert!(!r.default);
    assert_eq!(k.rename("proc_cpuinfo_operations"), "cpuinfo_proc_ops");
    assert_eq!(k.rename("rt_cache_seq_fops"), "rt_cache_proc_ops");
    assert!(k.entries.contains(&("svc_proc_register".to_string(), 2)));
    let r = Rule::parse(Path::new("rules/pte_hole_depth.toml"), PTE_HOLE).unwrap();
    let k: &Signature = r
        .kind
        .as_any()
        .downcast_ref()
        .expect("a callback-signature rule");
    assert_eq!(k.old[2], "struct mm_walk*");
    assert_eq!(
        k.new[2],
        NewParam::Added {
            decl: "__always_unused int depth".into(),
            ty: "int".into(),
            value: "-1".into(),
        }
    );
}

#[test]
fn a_bad_new_kind_names_its_table() {
    let text = PTE_HOLE.replace("\"$3\"]", "\"$4\"]");
    let line = PTE_HOLE.lines().position(|l| l == "[callback]").unwrap() + 1;
    let e = err(&text);
    assert!(e.starts_with(&format!("rules/x.toml:{line}:")), "{e}");
    assert!(e.contains("`$4`: no such old parameter"), "{e}");
    let text = PROC_OPS.replace(
        "[[retype.entry]]\nname = \"proc_create\"",
        "[[retype.entry]]\nname = \"proc create\"",
    );
    assert!(
        err(&text).contains("entry `proc create` is not a C identifier"),
        "{}",
        err(&text)
    );
    let text = PTE_HOLE.replace("depth = \"-1\"", "level = \"-1\"");
    assert!(
        err(&text).contains("needs a callback.value"),
        "{}",
        err(&text)
    );
}

#[test]
fn every_bundled_rule_but_the_made_up_one_says_since_when() {
    for r in bundled().unwrap() {
        assert_eq!(r.since.is_some(), r.id != "irq_walker_ops", "{}", r.id);
    }
    let proc_ops = bundled().unwrap().into_iter().find(|r| r.id == "proc_ops");
    assert_eq!(proc_ops.unwrap().since, Some(Since(5, 6, 0)));
}

#[test]
fn a_since_that_is_no_kernel_version_is_refused_at_its_line() {
    for bad in ["5.6", "5.6.0.1", "five", "5.256.0"] {
        let text = GOOD.replace("since = \"5.4.0\"", &format!("since = \"{bad}\""));
        let line = GOOD.lines().position(|l| l.starts_with("since =")).unwrap() + 1;
        let e = err(&text);
        assert!(
            e.starts_with(&format!("rules/x.toml:{line}:")) && e.contains("not a kernel version"),
            "{bad}: {e}"
        );
    }
}
