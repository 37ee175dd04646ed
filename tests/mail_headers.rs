//! Mail headers (issue 21): a value that would break a header of the series' messages is
//! refused before any work (exit 2, a clear message, nothing written): a newline or another
//! control character in `--signoff`, `--to`, `--cc`, `--subject-prefix` or `--prefix` (a
//! `Bcc:` injection), a `--signoff` that is not `Name <address>`, a date outside the years
//! 1970–9999. A quoted non-ASCII name becomes an encoded-word without quote marks in it, and
//! git reads the non-ASCII names and subjects back as they were given.

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
    let word = "=?UTF-8?Q?J=C3=A9r=C3=B4me_Glisse?= <jglisse@example.com>";
    assert!(cover.contains(&format!("From: {word}\n")), "{cover}");
    assert!(cover.contains(&format!("Cc: {word}")), "{cover}");
    assert!(
        !cover.contains("=22"),
        "a quote mark inside an encoded-word: {cover}"
    );
}

/// What `git mailinfo -k` (the reader `git am` uses) makes of a message's headers.
fn mailinfo(patch: &Path) -> String {
    let dir = tempfile::tempdir().unwrap();
    let o = std::process::Command::new("git")
        .current_dir(dir.path())
        .args(["mailinfo", "-k", "msg", "patch"])
        .stdin(std::fs::File::open(patch).unwrap())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap()
}

#[test]
fn git_reads_non_ascii_names_and_subjects_back() {
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("s");
    // A name long enough to take two encoded-words, and a subject with non-ASCII text.
    let long = "Ærøskøbing-Ålborg Jérôme Müller-Lüdenscheidt Çağlayan Þórðarson";
    let o = series(
        &out,
        &[
            "--signoff",
            "\"Jérôme Glisse\" <jglisse@example.com>",
            "--cc",
            &format!("{long} <long@example.com>"),
            "--subject-prefix",
            "PATCH Größe",
        ],
    );
    assert!(
        o.status.code().is_some_and(|c| c < 2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let mut patches: Vec<_> = std::fs::read_dir(out.join("patches"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    patches.sort();
    for p in &patches {
        let text = std::fs::read_to_string(p).unwrap();
        let headers = text.split("\n\n").next().unwrap();
        assert!(headers.is_ascii(), "raw non-ASCII in a header: {headers}");
        for line in headers.lines().filter(|l| l.contains("=?")) {
            assert!(line.len() <= 76, "{line}");
        }
        let info = mailinfo(p);
        assert!(
            info.contains("Author: Jérôme Glisse\nEmail: jglisse@example.com\n"),
            "{info}"
        );
        assert!(info.contains("Subject: [PATCH Größe "), "{info}");
    }
    let cover = std::fs::read_to_string(&patches[0]).unwrap();
    let cc: String = cover
        .split("\nCc: ")
        .nth(1)
        .unwrap()
        .split("\n\n")
        .next()
        .unwrap()
        .into();
    assert!(cc.contains("=?UTF-8?Q?"), "{cc}");
    // git am takes the patch and records the author as given.
    let repo = common::demo_copy();
    common::commit_all(repo.path(), "base");
    common::git(repo.path(), &["am", "-q", patches[1].to_str().unwrap()]);
    let log = common::git(repo.path(), &["log", "-1", "--format=%an <%ae>%n%s"]);
    assert!(
        log.starts_with("Jérôme Glisse <jglisse@example.com>\n"),
        "{log}"
    );
}
