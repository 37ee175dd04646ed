//! What the rewrite targets check of one rule's run over any bytes: the output, and then
//! (when it changed anything) that a second run changes nothing, that the parse errors of a
//! whole-file reading are within `errors_ok(before, after)`, and that every comment is kept.

use std::path::Path;

/// Run `rule` over `data` as `path` and check the properties above; panics (a libFuzzer
/// finding) when one does not hold.
pub fn rewrite(
    rule: &kcodemod::rule::Rule,
    path: &Path,
    data: &[u8],
    errors_ok: impl Fn(usize, usize) -> bool,
) {
    let (out, _) = kcodemod::fixture::run_one(rule, path, data);
    if out == data {
        return;
    }
    let shown = String::from_utf8_lossy(&out);
    let (again, _) = kcodemod::fixture::run_one(rule, path, &out);
    assert!(
        again == out,
        "{}: a second run changes the output:\n--- first output ---\n{shown}\n--- second ---\n{}",
        rule.id,
        String::from_utf8_lossy(&again)
    );
    let (before, after) = (
        kcodemod::fixture::parse_errors(data),
        kcodemod::fixture::parse_errors(&out),
    );
    assert!(
        errors_ok(before, after),
        "{}: the rewrite adds parse errors ({before} -> {after}):\n{shown}",
        rule.id
    );
    let lost = kcodemod::fixture::lost_comments(rule, data, &out);
    assert!(
        lost.is_empty(),
        "{}: the rewrite loses comments {:?}:\n{shown}",
        rule.id,
        lost.iter()
            .map(|c| String::from_utf8_lossy(c))
            .collect::<Vec<_>>()
    );
}
