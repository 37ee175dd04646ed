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
