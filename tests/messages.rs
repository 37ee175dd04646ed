//! What the tool says (issue 21, item 7): `check` lists each site, help and README agree on the
//! default rules, every subcommand's help states its exit codes, `--json` for `rules` and
//! `test` and for fatal errors, completions and a man page from the clap definitions, and
//! reproduce steps in report.txt that work pasted as printed.

use std::path::Path;
use std::process::Output;

mod common;

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn run_in(cwd: &Path, args: &[&str]) -> Output {
    common::bin().current_dir(cwd).args(args).output().unwrap()
}

fn run(args: &[&str]) -> Output {
    run_in(Path::new(env!("CARGO_MANIFEST_DIR")), args)
}

fn json_lines(o: &Output) -> Vec<serde_json::Value> {
    text(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

/// `check` used to print no list, only "N sites converted" (for a run that converts nothing).
#[test]
fn check_lists_every_site_and_says_would_convert() {
    let demo = common::demo_path();
    let demo = demo.to_str().unwrap();
    let o = run(&["check", demo]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    let records = json_lines(&run(&["check", "--json", demo]));
    let sites: Vec<_> = records.iter().filter(|r| r["type"] == "site").collect();
    assert!(sites.len() > 5, "{records:?}");
    for s in &sites {
        let (code, what) = match s["status"].as_str().unwrap() {
            "converted" => (
                "convertible".to_string(),
                "old API, would convert".to_string(),
            ),
            "flagged" => (
                s["code"].as_str().unwrap().to_string(),
                s["reason"].as_str().unwrap().to_string(),
            ),
            other => panic!("{other}"),
        };
        let line = format!(
            "{}:{}: {}: {what} [{code}]",
            s["file"].as_str().unwrap(),
            s["line"],
            s["function"].as_str().unwrap()
        );
        assert!(err.lines().any(|l| l == line), "{line}\n{err}");
    }
    let summary = err.lines().last().unwrap();
    let converted = sites.iter().filter(|s| s["status"] == "converted").count();
    assert!(
        summary.contains(&format!("; {converted} sites would convert, ")),
        "{summary}"
    );
    // Only apply converts; diff says what it would do, and lists no convertible sites (its
    // diff shows them).
    let o = run(&["diff", demo]);
    let err = text(&o.stderr);
    assert!(err.contains(" sites would convert, "), "{err}");
    assert!(!err.contains("[convertible]"), "{err}");
    let copy = common::demo_copy();
    let o = run(&["apply", copy.path().to_str().unwrap()]);
    let err = text(&o.stderr);
    assert!(
        err.contains(&format!("; {converted} sites converted, ")),
        "{err}"
    );
}

fn squeeze(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `--rule` help said "every bundled rule" while the README says the v5.4 migration.
#[test]
fn help_and_readme_agree_on_the_default_rules() {
    let readme = squeeze(
        &std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap(),
    );
    let said = "the bundled rules that are on by default, the v5.4 migration";
    assert!(readme.contains(said), "README");
    for cmd in ["diff", "apply", "check", "series"] {
        let help = squeeze(&text(&run(&[cmd, "--help"]).stdout));
        assert!(help.contains(said), "{cmd}: {help}");
        assert!(!help.contains("Default: every bundled rule."), "{cmd}");
    }
}

/// The README's "Writing a rule" example is a whole rule file as printed: it loads, and
/// `diff --rule` with it rewrites the call it shows (issue 20, item 8: every command the
/// documentation shows is tested).
#[test]
fn the_readme_rule_example_loads_and_rewrites() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let start = readme
        .find("```toml\n")
        .expect("a ```toml block in the README")
        + 8;
    let len = readme[start..].find("```").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let rule = dir.path().join("rule.toml");
    std::fs::write(&rule, &readme[start..start + len]).unwrap();
    let tree = dir.path().join("tree");
    std::fs::create_dir_all(tree.join("drivers")).unwrap();
    std::fs::write(
        tree.join("drivers/a.c"),
        "void f(void)\n{\n\tvoid *p = ioremap_nocache(0x1000, 4096);\n}\n",
    )
    .unwrap();
    let o = run(&[
        "diff",
        "--rule",
        rule.to_str().unwrap(),
        tree.to_str().unwrap(),
    ]);
    let out = text(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(
        out.contains("\n+\tvoid *p = ioremap(0x1000, 4096);\n"),
        "{out}"
    );
}

#[test]
fn every_subcommand_help_states_its_exit_codes() {
    for cmd in ["diff", "apply", "check", "series", "rules", "test"] {
        let o = run(&[cmd, "--help"]);
        assert_eq!(o.status.code(), Some(0));
        let help = text(&o.stdout);
        let codes = help
            .split_once("Exit codes: ")
            .unwrap_or_else(|| panic!("{cmd}: no exit codes: {help}"))
            .1;
        assert!(codes.starts_with("0 "), "{cmd}: {codes}");
        assert!(codes.contains("; 2 "), "{cmd}: {codes}");
    }
}

#[test]
fn rules_and_test_speak_json_lines() {
    let rules = json_lines(&run(&["rules", "--json"]));
    let mm = rules.iter().find(|r| r["id"] == "mm_walk_ops").unwrap();
    assert_eq!(mm["type"], "rule");
    assert_eq!(mm["kind"], "struct-to-ops");
    assert_eq!(mm["source"], "rules/mm_walk_ops.toml");
    let o = run(&["test", "--json", "mm_walk_ops"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let recs = json_lines(&o);
    let cases = recs.iter().filter(|r| r["type"] == "case").count();
    assert!(cases > 20);
    assert!(
        recs.iter()
            .filter(|r| r["type"] == "case")
            .all(|r| r["rule"] == "mm_walk_ops" && r["verdict"] == "Pass")
    );
    let summary = recs.last().unwrap();
    assert_eq!(summary["type"], "summary");
    assert_eq!(summary["passed"], cases);
    assert_eq!(summary["failed"], 0);

    // A planted break: one case whose expected output is wrong is `Wrong`, exit 1.
    let dir = tempfile::tempdir().unwrap();
    let cases = dir.path().join("mm_walk_ops");
    std::fs::create_dir(&cases).unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/mm_walk_ops");
    std::fs::copy(src.join("a_initializer.c"), cases.join("a_initializer.c")).unwrap();
    let expected = std::fs::read_to_string(src.join("a_initializer.expected.c")).unwrap();
    std::fs::write(
        cases.join("a_initializer.expected.c"),
        expected.replace("mm_walk_ops", "mm_walk_opz"),
    )
    .unwrap();
    let fixtures = dir.path().to_str().unwrap();
    let o = run(&["test", "--json", "--fixtures", fixtures, "mm_walk_ops"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    let recs = json_lines(&o);
    assert_eq!(recs[0]["verdict"], "Wrong", "{recs:?}");
    assert!(
        recs[0]["detail"].as_str().unwrap().contains("mm_walk_opz"),
        "{recs:?}"
    );
    assert_eq!(recs[1]["failed"], 1);
}

/// A fatal error under --json printed nothing on stdout: a consumer reading stdout saw an
/// empty, successful-looking run.
#[test]
fn a_fatal_error_under_json_is_a_record_on_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "id = \"x\"\nkind = \"no-such-kind\"\n").unwrap();
    let missing = dir.path().join("missing");
    let cases: [&[&str]; 4] = [
        &["check", "--json", missing.to_str().unwrap()],
        &["diff", "--json", "--rule", bad.to_str().unwrap(), "."],
        &["check", "--json", "--no-such-flag", "."],
        &["rules", "--json", "--rule", "no_such_rule"],
    ];
    for args in cases {
        let o = run(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let recs = json_lines(&o);
        let last = recs.last().unwrap_or_else(|| panic!("{args:?}: no record"));
        assert_eq!(last["type"], "error", "{args:?}");
        assert_eq!(last["fatal"], true, "{args:?}");
        let reason = last["reason"].as_str().unwrap();
        assert!(!reason.is_empty());
        // The message on stderr stays.
        assert!(text(&o.stderr).contains(reason), "{args:?}: {reason}");
    }
    // Without --json, stdout stays empty.
    let o = run(&["check", missing.to_str().unwrap()]);
    assert!(o.stdout.is_empty());
}

#[test]
fn completions_and_man_page_come_from_the_clap_definitions() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let o = run(&["completions", shell]);
        assert_eq!(o.status.code(), Some(0), "{shell}");
        let s = text(&o.stdout);
        for needle in ["series", "parse-timeout-ms", "base-patch"] {
            assert!(s.contains(needle), "{shell}: {needle}");
        }
    }
    // bash loads it and registers the completion.
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("kcodemod.bash");
    std::fs::write(&script, run(&["completions", "bash"]).stdout).unwrap();
    let o = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!(". {} && complete -p kcodemod", script.display()))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("kcodemod"));
    // The man page: roff, with the exit codes and every subcommand's options.
    let o = run(&["man"]);
    assert_eq!(o.status.code(), Some(0));
    let man = text(&o.stdout);
    assert!(
        man.starts_with(".ie ") || man.contains(".TH kcodemod 1"),
        "{man}"
    );
    assert!(man.contains(".TH kcodemod 1"));
    assert!(man.contains("Exit codes:"));
    for sub in ["DIFF", "APPLY", "CHECK", "SERIES", "RULES", "TEST"] {
        assert!(man.contains(&format!(".SH \"KCODEMOD {sub}\"")), "{sub}");
    }
    assert!(man.contains("\\-\\-base\\-patch"));
    // The hidden commands stay out of --help.
    let help = text(&run(&["--help"]).stdout);
    assert!(!help.contains("completions"), "{help}");
}

/// The lines after "first, the tree with the series applied:" in report.txt.
fn first_steps(report: &str) -> Vec<String> {
    report
        .lines()
        .skip_while(|l| l.trim() != "first, the tree with the series applied:")
        .skip(1)
        .take_while(|l| l.starts_with("      "))
        .map(|l| l.trim().to_string())
        .collect()
}

/// report.txt's reproduce steps used a path relative to where `series` ran (the commands run in
/// the tree) and repeated `git checkout -b` for every build (the second fails).
#[test]
fn report_reproduce_steps_work_pasted_as_printed() {
    let tree = common::demo_copy();
    common::commit_all(tree.path(), "base");
    let base = common::git(tree.path(), &["rev-parse", "HEAD"]);
    let cwd = tempfile::tempdir().unwrap();
    let o = run_in(
        cwd.path(),
        &[
            "series",
            tree.path().to_str().unwrap(),
            "-o",
            "out",
            "--signoff",
            "A U Thor <author@example.org>",
            "--no-checkpatch",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "INCOMPLETE: {}", text(&o.stderr));
    let report = std::fs::read_to_string(cwd.path().join("out/report.txt")).unwrap();
    let steps = first_steps(&report);
    assert_eq!(steps.len(), 3, "{report}");
    assert_eq!(
        report.matches("git checkout").count(),
        1,
        "once for every build: {report}"
    );
    // Pasted as printed, from anywhere else, twice: the second paste works too.
    let elsewhere = tempfile::tempdir().unwrap();
    for _ in 0..2 {
        let o = std::process::Command::new("sh")
            .current_dir(elsewhere.path())
            .arg("-ec")
            .arg(steps.join("\n"))
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@t")
            .output()
            .unwrap();
        assert!(o.status.success(), "{steps:?}: {}", text(&o.stderr));
    }
    let log = common::git(
        tree.path(),
        &["log", "--format=%s", &format!("{}..", base.trim())],
    );
    let patches = std::fs::read_dir(cwd.path().join("out/patches"))
        .unwrap()
        .filter(|e| {
            let n = e.as_ref().unwrap().file_name();
            !n.to_string_lossy().starts_with("0000-")
        })
        .count();
    assert_eq!(log.lines().count(), patches, "{log}");
    // The checked-out tree is the series applied: a check finds only the flagged site left.
    let json = report.contains("flagged");
    assert!(json);
    let branch = common::git(tree.path(), &["rev-parse", "--abbrev-ref", "HEAD"]);
    assert_eq!(branch.trim(), "kcodemod-check");
    // report.json's per-build commands start the same way.
    let rj = std::fs::read_to_string(cwd.path().join("out/report.json")).unwrap();
    let build = rj
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|r| r["type"] == "build")
        .unwrap();
    let cmds: Vec<&str> = build["build"]["reproduce"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert_eq!(
        cmds[..3],
        steps.iter().map(|s| s.as_str()).collect::<Vec<_>>()[..]
    );
}

/// `kcodemod rules` listed the made-up `irq_walker_ops` as a bundled rule, and it ran by
/// default. It is a fixture-only rule now: run only when its file is named.
#[test]
fn irq_walker_ops_is_fixture_only_and_runs_only_when_named() {
    let listed = text(&run(&["rules"]).stdout);
    assert!(!listed.contains("irq_walker_ops"), "{listed}");
    let defaults: Vec<String> = json_lines(&run(&["rules", "--json"]))
        .iter()
        .filter(|r| r["default"] == true)
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(defaults, ["mm_walk_ops"]);
    assert_eq!(
        run(&["rules", "--rule", "irq_walker_ops"]).status.code(),
        Some(2),
        "not a bundled id"
    );
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tree = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(tree.path().join("kernel/irq")).unwrap();
    std::fs::copy(
        root.join("fixtures/irq_walker_ops/a_initializer.c"),
        tree.path().join("kernel/irq/a.c"),
    )
    .unwrap();
    let t = tree.path().to_str().unwrap();
    let o = run(&["check", t]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let o = run(&["check", "--rule", "fixtures/rules/irq_walker_ops.toml", t]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("kernel/irq/a.c:"));
    // Its fixtures run when its file is named: beside it, in fixtures/irq_walker_ops/.
    let o = run(&["test", "fixtures/rules/irq_walker_ops.toml"]);
    let out = text(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}{}", text(&o.stderr));
    assert!(out.lines().count() >= 8, "{out}");
    assert!(
        out.lines()
            .all(|l| l.starts_with("irq_walker_ops/") && l.ends_with(": Pass")),
        "{out}"
    );
}
