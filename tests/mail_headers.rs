//! Mail headers (issue 21): a value that would break a header of the series' messages is
//! refused before any work (exit 2, a clear message, nothing written): a newline or another
//! control character in `--signoff`, `--to`, `--cc`, `--subject-prefix` or `--prefix` (a
//! `Bcc:` injection), a `--signoff` that is not `Name <address>`, a date outside the years
//! 1970–9999. A quoted non-ASCII name becomes an encoded-word without quote marks in it.

mod common;

use std::path::Path;
use std::process::Output;

fn series(out: &Path, extra: &[&str]) -> Output {
    let mut c = common::bin();
    c.arg("series")
        .arg(common::demo_path())
        .arg("-o")
        .arg(out)
        .arg("--no-checkpatch")
        .args(extra);
    if !extra.contains(&"--date") {
        c.args(["--date", "2024-01-01T00:00:00Z"]);
    }
    c.output().unwrap()
}

const OK: &str = "A U Thor <author@example.org>";

#[test]
fn header_values_that_would_break_a_header_are_refused() {
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("s");
    let cases: [(&[&str], &str); 9] = [
        (
            &["--signoff", "A <a@example.org>\nBcc: victim@example.net"],
            "control character '\\n'",
        ),
        (&["--signoff", "not an address"], "not `Name <address>`"),
        (
            &["--signoff", OK, "--to", "a@example.org\nBcc: v@example.net"],
            "control character '\\n'",
        ),
        (
            &["--signoff", OK, "--cc", "a@example.org\rBcc: v@example.net"],
            "control character '\\r'",
        ),
        (&["--signoff", OK, "--to", "nobody"], "not an address"),
        (
            &[
                "--signoff",
                OK,
                "--subject-prefix",
                "RFC\nBcc: v@example.net",
            ],
            "control character '\\n'",
        ),
        (
            &[
                "--signoff",
                OK,
                "--prefix",
                "generic=mm\nBcc: v@example.net",
            ],
            "control character '\\n'",
        ),
        (
            &["--signoff", OK, "--date", "@99999999999999"],
            "years 1970 to 9999",
        ),
        (
            &["--signoff", OK, "--date", "1969-12-31T00:00:00Z"],
            "years 1970 to 9999",
        ),
    ];
    for (args, why) in cases {
        let o = series(&out, args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(why), "{args:?}: {err}");
        assert!(!out.exists(), "{args:?}: a series was written");
    }
}

#[test]
fn a_quoted_non_ascii_name_is_encoded_without_quote_marks() {
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("s");
    let o = series(
        &out,
        &[
            "--signoff",
            "\"Jérôme Glisse\" <jglisse@example.com>",
            "--cc",
            "\"Jérôme Glisse\" <jglisse@example.com>",
        ],
    );
    assert!(
        o.status.code().is_some_and(|c| c < 2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let cover = std::fs::read_to_string(out.join("patches/0000-cover-letter.patch")).unwrap();
    let word = "=?UTF-8?q?J=C3=A9r=C3=B4me_Glisse?= <jglisse@example.com>";
    assert!(cover.contains(&format!("From: {word}\n")), "{cover}");
    assert!(cover.contains(&format!("Cc: {word}")), "{cover}");
    assert!(
        !cover.contains("=22"),
        "a quote mark inside an encoded-word: {cover}"
    );
}
