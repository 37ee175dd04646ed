//! An interrupted `series` writes nothing: its walk saw only part of the tree. This runs the
//! tool in-process with SIGINT already raised (the flag is process-wide, hence a test binary of
//! its own), so the walk stops at once, deterministically.

use std::path::Path;

use clap::Parser;

#[test]
fn interrupted_series_writes_nothing() {
    let tree = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo");
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("series");
    kcodemod::catch_signals();
    signal_hook::low_level::raise(signal_hook::consts::SIGINT).unwrap();
    assert!(kcodemod::interrupted());
    let cli = kcodemod::cli::Cli::parse_from([
        "kcodemod",
        "series",
        tree.to_str().unwrap(),
        "-o",
        dir.to_str().unwrap(),
        "--signoff",
        "A U Thor <author@example.org>",
    ]);
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let code = kcodemod::run(cli, &mut stdout, &mut stderr).unwrap();
    let stderr = String::from_utf8_lossy(&stderr);
    assert_eq!(code, kcodemod::EXIT_INTERRUPTED, "{stderr}");
    assert!(
        stderr.contains("interrupted before anything was written"),
        "{stderr}"
    );
    assert!(
        !dir.exists(),
        "an interrupted series created {}",
        dir.display()
    );
}

/// Issue 10: Ctrl-C during one large parse took 17 s to act. The parser now polls the
/// interrupt flag (raised for this whole test binary) and abandons the parse; without that, a
/// parse with an hour's time limit would run to the end and succeed.
#[test]
fn a_parse_in_progress_is_abandoned_on_interrupt() {
    kcodemod::catch_signals();
    signal_hook::low_level::raise(signal_hook::consts::SIGINT).unwrap();
    let f = "static int f(int a)\n{\n\tif (a > 1)\n\t\treturn a * f(a - 1);\n\treturn 1;\n}\n";
    let src = f.repeat(20_000);
    let r = kcodemod::parse::parse_bytes(src.as_bytes(), std::time::Duration::from_secs(3600));
    assert!(
        matches!(r, Err(kcodemod::parse::ParseFailure::Interrupted)),
        "the parse ran to its end"
    );
}

/// Interrupted during the walk: `--json` says so in one record and claims nothing about the
/// part of the tree it saw (no site, no summary).
#[test]
fn interrupted_walk_json_is_one_interrupted_record() {
    let tree = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo");
    kcodemod::catch_signals();
    signal_hook::low_level::raise(signal_hook::consts::SIGINT).unwrap();
    let cli =
        kcodemod::cli::Cli::parse_from(["kcodemod", "check", tree.to_str().unwrap(), "--json"]);
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let code = kcodemod::run(cli, &mut stdout, &mut stderr).unwrap();
    assert_eq!(code, kcodemod::EXIT_INTERRUPTED);
    let out = String::from_utf8(stdout).unwrap();
    assert_eq!(
        out,
        "{\"type\":\"interrupted\",\"written\":[],\"not_written\":[]}\n"
    );
}
