//! The rule language on small rules written here: what each construct converts and flags,
//! and that a second run over the output changes nothing and flags nothing.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use super::CallRewrite;
use crate::model::Outcome;
use crate::rule::Rule;

fn rule(body: &str) -> Rule {
    let text =
        format!("id = \"t\"\nkind = \"call-rewrite\"\nsummary = \"s\"\nsubject = \"s\"\n{body}");
    Rule::parse(Path::new("t.toml"), &text).unwrap()
}

/// The output and the sites as `line: function: outcome-or-code`.
fn run(r: &Rule, src: &str) -> (String, Vec<String>) {
    let k: &CallRewrite = r.kind.as_any().downcast_ref().unwrap();
    let macros = Arc::new(crate::parse::Macros::builtin());
    let parsed = crate::parse::parse_with(src.as_bytes(), Duration::from_secs(5), &macros).unwrap();
    let res = k.migrate_parsed(src.as_bytes(), &parsed, true);
    let out = String::from_utf8(res.edits.apply(src.as_bytes())).unwrap();
    let sites = res
        .sites
        .iter()
        .map(|s| {
            let what = match &s.outcome {
                Outcome::Converted => "converted".to_string(),
                Outcome::Flagged(f) => f.code.to_string(),
                Outcome::Compat => "compat".to_string(),
            };
            format!("{}: {}: {what}", s.line, s.function)
        })
        .collect();
    (out, sites)
}

/// `src` becomes `want`, and a second run changes nothing and reports nothing.
fn converts(r: &Rule, src: &str, want: &str) {
    let (out, _) = run(r, src);
    assert_eq!(out, want);
    let (again, sites) = run(r, &out);
    assert_eq!(again, out, "a second run changed the output");
    assert!(sites.is_empty(), "a second run reports {sites:?}");
}

#[test]
fn a_dropped_argument_of_a_function_that_keeps_its_name() {
    let r = rule(
        "[[rewrite]]\nfrom = \"access_ok($type, $addr, $size)\"\nto = \"access_ok($addr, $size)\"\n",
    );
    converts(
        &r,
        "int f(void *p)\n{\n\treturn access_ok(VERIFY_WRITE, p, 4);\n}\n",
        "int f(void *p)\n{\n\treturn access_ok(p, 4);\n}\n",
    );
    // A call of the new form with an old one inside its arguments: the inner one converts.
    converts(
        &r,
        "int g(void *p)\n{\n\treturn access_ok(p, access_ok(VERIFY_READ, p, 1));\n}\n",
        "int g(void *p)\n{\n\treturn access_ok(p, access_ok(p, 1));\n}\n",
    );
    // Side effects in the dropped argument: flagged.
    let (_, sites) = run(
        &r,
        "int h(void *p)\n{\n\treturn access_ok(next(), p, 4);\n}\n",
    );
    assert_eq!(sites, ["3: h: unsupported"]);
}

#[test]
fn a_member_renamed_where_it_is_read_and_written() {
    let r = rule(
        "[[rewrite]]\nfrom = \"$b->bi_error\"\nto = \"$b->bi_status\"\n[watch]\nmembers = [\"bi_error\"]\n",
    );
    converts(
        &r,
        "void end(struct bio *bio, int err)\n{\n\tbio->bi_error = err;\n\tif (bio->bi_error)\n\t\tdone(bio);\n}\n",
        "void end(struct bio *bio, int err)\n{\n\tbio->bi_status = err;\n\tif (bio->bi_status)\n\t\tdone(bio);\n}\n",
    );
    // `.bi_error` through a struct, not a pointer: a shape the rule does not name.
    let (_, sites) = run(&r, "void s(struct bio b)\n{\n\tb.bi_error = 0;\n}\n");
    assert_eq!(sites, ["3: s: escape"]);
}

#[test]
fn arguments_reshaped_into_a_new_call() {
    let r = rule(
        "[[rewrite]]\nfrom = \"pci_alloc_consistent($pdev, $size, $handle)\"\nto = \"dma_alloc_coherent(&$pdev->dev, $size, $handle, GFP_ATOMIC)\"\n",
    );
    converts(
        &r,
        "void *a(struct pci_dev *pdev, dma_addr_t *h)\n{\n\treturn pci_alloc_consistent(pdev, 64, h);\n}\n",
        "void *a(struct pci_dev *pdev, dma_addr_t *h)\n{\n\treturn dma_alloc_coherent(&pdev->dev, 64, h, GFP_ATOMIC);\n}\n",
    );
    // A conditional expression as the object: parenthesized where it becomes an operand.
    converts(
        &r,
        "void *b(struct pci_dev *x, struct pci_dev *y, int c, dma_addr_t *h)\n{\n\treturn pci_alloc_consistent(c ? x : y, 64, h);\n}\n",
        "void *b(struct pci_dev *x, struct pci_dev *y, int c, dma_addr_t *h)\n{\n\treturn dma_alloc_coherent(&(c ? x : y)->dev, 64, h, GFP_ATOMIC);\n}\n",
    );
}

#[test]
fn a_flag_rewrite_names_a_shape_a_person_must_convert() {
    let r = rule(concat!(
        "[[rewrite]]\nfrom = \"pci_alloc_consistent(NULL, $size, $handle)\"\n",
        "flag = \"no PCI device: dma_alloc_coherent() needs the real one\"\n",
        "[[rewrite]]\nfrom = \"pci_alloc_consistent($pdev, $size, $handle)\"\n",
        "to = \"dma_alloc_coherent(&$pdev->dev, $size, $handle, GFP_ATOMIC)\"\n",
    ));
    let src = "void *a(struct pci_dev *pdev, dma_addr_t *h)\n{\n\tvoid *p = pci_alloc_consistent(NULL, 64, h);\n\n\treturn p ? p : pci_alloc_consistent(pdev, 64, h);\n}\n";
    let (out, sites) = run(&r, src);
    assert_eq!(
        out,
        "void *a(struct pci_dev *pdev, dma_addr_t *h)\n{\n\tvoid *p = pci_alloc_consistent(NULL, 64, h);\n\n\treturn p ? p : dma_alloc_coherent(&pdev->dev, 64, h, GFP_ATOMIC);\n}\n"
    );
    assert_eq!(sites, ["3: a: unsupported", "5: a: converted"]);
    // Flagged again on the second run, and left as it was.
    let (again, sites) = run(&r, &out);
    assert_eq!(again, out);
    assert_eq!(sites, ["3: a: unsupported"]);
    // In a macro body the flagged shape flags the whole macro.
    let (out, sites) = run(
        &r,
        "#define ALLOC_NODEV(s, h) pci_alloc_consistent(NULL, s, h)\n",
    );
    assert_eq!(
        out,
        "#define ALLOC_NODEV(s, h) pci_alloc_consistent(NULL, s, h)\n"
    );
    assert_eq!(sites, ["1: ALLOC_NODEV: unsupported"]);
    // The report line says the rule's why.
    let k: &CallRewrite = r.kind.as_any().downcast_ref().unwrap();
    assert_eq!(
        k.rewrites[0].flag.as_deref(),
        Some("no PCI device: dma_alloc_coherent() needs the real one")
    );
}

#[test]
fn when_unused_converts_statements_and_flags_used_values() {
    let r =
        rule("[[rewrite]]\nfrom = \"old_flush($q)\"\nto = \"new_flush($q)\"\nwhen = \"unused\"\n");
    converts(
        &r,
        "void f(struct q *q)\n{\n\told_flush(q);\n}\n",
        "void f(struct q *q)\n{\n\tnew_flush(q);\n}\n",
    );
    let (out, sites) = run(&r, "int g(struct q *q)\n{\n\treturn old_flush(q);\n}\n");
    assert!(out.contains("old_flush"));
    assert_eq!(sites, ["3: g: unsupported"]);
}

#[test]
fn a_statement_pattern_matches_only_a_statement() {
    let r = rule("[[rewrite]]\nfrom = \"lock_it($l);\"\nto = \"lock_it_irq($l);\"\n");
    converts(
        &r,
        "void f(struct l *l)\n{\n\tlock_it(l);\n}\n",
        "void f(struct l *l)\n{\n\tlock_it_irq(l);\n}\n",
    );
    let (_, sites) = run(&r, "int g(struct l *l)\n{\n\treturn lock_it(l);\n}\n");
    assert_eq!(sites, ["3: g: escape"]);
}

#[test]
fn rule_files_that_cannot_work_are_refused_with_why() {
    let err = |body: &str| {
        let text = format!(
            "id = \"t\"\nkind = \"call-rewrite\"\nsummary = \"s\"\nsubject = \"s\"\n{body}"
        );
        Rule::parse(Path::new("t.toml"), &text)
            .unwrap_err()
            .to_string()
    };
    assert!(err("").contains("needs at least one [[rewrite]]"));
    assert!(err("[[rewrite]]\nfrom = \"f($a\"\nto = \"g($a)\"\n").contains("from `f($a`"));
    assert!(err("[[rewrite]]\nfrom = \"f($a)\"\nto = \"g($b)\"\n").contains("`$b`"));
    assert!(err("[[rewrite]]\nfrom = \"$a\"\nto = \"g($a)\"\n").contains("lone metavariable"));
    assert!(
        err("[[rewrite]]\nfrom = \"f($a)\"\nto = \"g($a)\"\n[watch]\nnames = [\"h\"]\n")
            .contains("names none of the watched")
    );
    assert!(
        err("[[rewrite]]\nfrom = \"f($a)\"\nto = \"g($a)\"\nwhen = \"sometimes\"\n")
            .contains("t.toml:")
    );
    assert!(
        err("[[rewrite]]\nfrom = \"f($a)\"\n").contains("needs `to` (the replacement) or `flag`")
    );
    assert!(
        err("[[rewrite]]\nfrom = \"f($a)\"\nto = \"g($a)\"\nflag = \"why\"\n").contains("not both")
    );
    assert!(err("[[rewrite]]\nfrom = \"f($a)\"\nflag = \" \"\n").contains("must say why"));
}

#[test]
fn a_macro_invocation_that_reads_as_a_prototype_is_never_removed_as_one() {
    let r = rule(
        "[[rewrite]]\nfrom = \"DEFINE_TIMER($n, $f, $e, $d)\"\nto = \"DEFINE_TIMER($n, $f)\"\n[api]\nold = \"remove\"\n",
    );
    // tree-sitter reads the two lines as one declaration of a function DEFINE_TIMER.
    let src = "static void fn(struct timer_list *t);\nstatic DEFINE_TIMER(my_timer, fn, 0, 0);\nDEFINE_TIMER(other_timer, fn, 0, 0);\n";
    converts(
        &r,
        src,
        "static void fn(struct timer_list *t);\nstatic DEFINE_TIMER(my_timer, fn);\nDEFINE_TIMER(other_timer, fn);\n",
    );
    // A real prototype of the watched name is still the API side.
    let (out, sites) = run(
        &r,
        "void DEFINE_TIMER(struct timer_list *t, void (*fn)(void), int e, int d);\n",
    );
    assert_eq!(out, "");
    assert_eq!(sites, ["1: DEFINE_TIMER: converted"]);
}

#[test]
fn a_line_break_kept_in_a_macro_body_keeps_its_backslash() {
    // Between two whole arguments, and before a fixed argument replaced in its place.
    let r = rule(concat!(
        "[[rewrite]]\nfrom = \"pci_free_consistent($p, $s, $v, $h)\"\n",
        "to = \"dma_free_coherent(&$p->dev, $s, $v, $h)\"\n",
        "[[rewrite]]\nfrom = \"pci_unmap_single($p, $h, $s, PCI_DMA_TODEVICE)\"\n",
        "to = \"dma_unmap_single(&$p->dev, $h, $s, DMA_TO_DEVICE)\"\n",
    ));
    converts(
        &r,
        concat!(
            "#define FREE(p, l, v, d)\t\t\\\n",
            "\tpci_free_consistent((p), (l),\t\\\n",
            "\t\t\t    (v), (d))\n",
            "#define UNMAP(p, d, l)\t\t\\\n",
            "\tpci_unmap_single((p), (d), (l),\t\\\r\n",
            "\t\t\t PCI_DMA_TODEVICE)\n",
        ),
        concat!(
            "#define FREE(p, l, v, d)\t\t\\\n",
            "\tdma_free_coherent(&(p)->dev, (l),\t\\\n",
            "\t\t\t  (v), (d))\n",
            "#define UNMAP(p, d, l)\t\t\\\n",
            "\tdma_unmap_single(&(p)->dev, (d), (l),\t\\\r\n",
            "\t\t\t DMA_TO_DEVICE)\n",
        ),
    );
}

#[test]
fn a_files_own_redirect_of_an_old_name_is_flagged_not_removed() {
    let r = rule(concat!(
        "[[rewrite]]\nfrom = \"pci_map_single($p, $a, $s, $d)\"\n",
        "to = \"dma_map_single(&$p->dev, $a, $s, $d)\"\n",
        "[api]\nold = \"remove\"\n",
    ));
    // A driver sends its calls to a checking wrapper: both lines stay, flagged, and the
    // call still converts.
    let src = concat!(
        "#ifdef DEBUG_PCI\n#undef pci_map_single\n",
        "#define pci_map_single pci_map_single_debug\n#endif\n\n",
        "dma_addr_t map(struct pci_dev *p, void *a)\n{\n",
        "\treturn pci_map_single(p, a, 64, DMA_TO_DEVICE);\n}\n",
    );
    let (out, sites) = run(&r, src);
    assert_eq!(
        out,
        src.replace("pci_map_single(p, a, 64", "dma_map_single(&p->dev, a, 64")
    );
    assert_eq!(
        sites,
        [
            "2: pci_map_single: blocked",
            "3: pci_map_single: blocked",
            "8: map: converted"
        ]
    );
    // The API's own definition, with no `#undef` before it, still goes; so does an `#undef`
    // with no `#define` after it.
    let api = "#define pci_map_single(p, a, s, d) dma_map_single(&(p)->dev, a, s, d)\n";
    let (out, _) = run(&r, api);
    assert_eq!(out, "");
    let (out, sites) = run(&r, "int x;\n#undef pci_map_single\n");
    assert_eq!(
        (out.as_str(), sites),
        ("int x;\n", vec!["2: pci_map_single: converted".to_string()])
    );
}

/// A call with a type among its arguments (`container_of(p, struct s, m)`) is no expression
/// to the parser: it reads the statement as a declaration. Either reading is flagged, and
/// says what was read: a watched name the parser took for a type is a site too, never
/// dropped as "a word of another sort".
#[test]
fn a_call_the_parser_reads_as_a_declaration_is_flagged_for_what_it_is() {
    let r = rule("[[rewrite]]\nfrom = \"kzfree($p)\"\nto = \"kfree_sensitive($p)\"\n");
    let src = "static void f(struct rcu_head *rcu)\n{\n\tkzfree(container_of(rcu, struct k, rcu));\n}\n\nstatic void g(struct rcu_head *rcu)\n{\n\tkzfree(container_of(rcu, struct k, rcu)->key);\n}\n";
    let (out, sites) = run(&r, src);
    assert_eq!(out, src);
    assert_eq!(sites, ["3: f: unsupported", "8: g: parse-error"]);
    let k: &CallRewrite = r.kind.as_any().downcast_ref().unwrap();
    let macros = Arc::new(crate::parse::Macros::builtin());
    let parsed = crate::parse::parse_with(src.as_bytes(), Duration::from_secs(5), &macros).unwrap();
    let res = k.migrate_parsed(src.as_bytes(), &parsed, true);
    let why: Vec<String> = res
        .sites
        .iter()
        .filter_map(|s| match &s.outcome {
            Outcome::Flagged(f) => Some(f.why.clone()),
            _ => None,
        })
        .collect();
    assert!(!why[0].contains("macro"), "{why:?}");
    assert!(
        why[0].contains("`kzfree(container_of(rcu, struct k, rcu))`"),
        "{why:?}"
    );
}

#[test]
fn a_parenthesized_pattern_keeps_the_parentheses_a_statement_or_sizeof_needs() {
    let r = rule(
        "[[rewrite]]\nfrom = \"(rnd() & 1)\"\nto = \"rnd_below(2)\"\n[watch]\nnames = [\"rnd\"]\n",
    );
    // Around an operand the parentheses go: the new text is a call.
    converts(
        &r,
        "int f(void)\n{\n\treturn 1 + (rnd() & 1);\n}\n",
        "int f(void)\n{\n\treturn 1 + rnd_below(2);\n}\n",
    );
    // The condition's parentheses are the statement's: `if rnd_below(2)` would not parse.
    converts(
        &r,
        "int f(int x)\n{\n\tif (rnd() & 1)\n\t\tx++;\n\twhile (rnd() & 1)\n\t\tx--;\n\tswitch (rnd() & 1) {\n\t}\n\treturn x;\n}\n",
        "int f(int x)\n{\n\tif (rnd_below(2))\n\t\tx++;\n\twhile (rnd_below(2))\n\t\tx--;\n\tswitch (rnd_below(2)) {\n\t}\n\treturn x;\n}\n",
    );
    // `sizeof(...)`'s and a keyword's: `sizeofrnd_below(2)` would name another function.
    converts(
        &r,
        "int f(void)\n{\n\tint n = sizeof(rnd() & 1);\n\treturn(rnd() & 1);\n}\n",
        "int f(void)\n{\n\tint n = sizeof(rnd_below(2));\n\treturn rnd_below(2);\n}\n",
    );
}

/// An `EXPORT_SYMBOL(name);` the parser's recovery put inside a file-scope ERROR (code it
/// could not read further up, as net/core/dev.c's `N(UP) N(DOWN) ...` case macros of
/// netdev_cmd_to_name()) is still the API side: removed with the definition above it, not
/// left behind flagged as a parse error.
#[test]
fn an_export_after_unreadable_code_is_still_the_api_side() {
    let r = rule(
        "[[rewrite]]\nfrom = \"netif_rx_ni($s)\"\nto = \"netif_rx($s)\"\n[api]\nold = \"remove\"\n",
    );
    let head = "const char *demo_event_name(enum demo_event ev)\n{\n#define N(val)\t\t\t\t\t\t\\\n\tcase DEMO_EV_##val:\t\t\t\t\\\n\t\treturn \"DEMO_EV_\" __stringify(val);\n\tswitch (ev) {\n\tN(START) N(STOP) N(RESET) N(LINK_UP) N(LINK_DOWN) N(LINK_CHANGE)\n\tN(RX_FULL) N(TX_FULL) N(RX_EMPTY) N(TX_EMPTY) N(RX_ERROR) N(TX_ERROR)\n\tN(PAUSE) N(RESUME) N(SUSPEND) N(WAKE) N(POWER_UP) N(POWER_DOWN)\n\tN(FW_LOAD) N(FW_READY) N(FW_CRASH) N(FW_RESET) N(FW_UPDATE)\n\tN(TEMP_HIGH) N(TEMP_LOW) N(FAN_FAIL) N(DEBUG)\n\t}\n#undef N\n\treturn \"DEMO_EV_UNKNOWN\";\n}\n\nstatic int demo_rx_internal(struct sk_buff *skb)\n{\n\treturn skb_queue_len(&demo_queue) > DEMO_MAX_BACKLOG ? NET_RX_DROP : NET_RX_SUCCESS;\n}\n\n";
    let tail = "static void demo_tail(void)\n{\n}\n";
    let src = format!(
        "{head}int netif_rx_ni(struct sk_buff *skb)\n{{\n\treturn demo_rx_internal(skb);\n}}\nEXPORT_SYMBOL(netif_rx_ni);\n\n{tail}"
    );
    let (out, sites) = run(&r, &src);
    assert_eq!(
        sites,
        ["22: netif_rx_ni: converted", "26: netif_rx_ni: converted"]
    );
    assert_eq!(out, format!("{head}{tail}"));
}
