//! The struct-to-ops kind's whole-run verdicts, after every file is migrated: its API
//! definition converts with its callers or not at all (see [`crate::verdict`]), so the run
//! checks that the old struct converted somewhere, and that the callbacks the files assumed
//! are the ones the definition moved.

use super::StructToOps;
use crate::pipeline::FileResult;

/// Why rule `r`'s API definition cannot convert in this run, judged over every file (a part of
/// it that was flagged is reported before this is asked): `("file:line", why)`.
pub fn broken_api(rule: &StructToOps, r: usize, files: &[FileResult]) -> Option<(String, String)> {
    unconverted_struct(rule, r, files).or_else(|| disagreeing_callbacks(rule, r, files))
}

/// Parts of the definition would change (a prototype, the implementation) while the old
/// struct itself was found nowhere in a form the run could read and convert.
fn unconverted_struct(
    rule: &StructToOps,
    r: usize,
    files: &[FileResult],
) -> Option<(String, String)> {
    let parts = || {
        files
            .iter()
            .flat_map(|f| f.sites.iter().map(move |s| (f, s)))
            .filter(|(_, s)| s.site.definition && s.rule == r)
    };
    let (f, s) = parts().next()?;
    let the_struct = format!("struct {}", rule.old_struct);
    let struct_converted =
        parts().any(|(_, t)| t.site.function == the_struct) || defined_ops(rule, files).is_some();
    (!struct_converted).then(|| {
        (
            format!("{}:{}", f.rel, s.site.line),
            format!(
                "{} would change, but no readable definition of {the_struct} was found to convert with it",
                s.site.function
            ),
        )
    })
}

/// A file that took a member the rule does not list to be a callback (a function of its own
/// stored in it) while no definition of the struct converted in this run moved such a member:
/// the file's ops struct would name a member `struct NEW` does not have. (Without a definition
/// in the run there is nothing to check against.)
fn disagreeing_callbacks(
    rule: &StructToOps,
    r: usize,
    files: &[FileResult],
) -> Option<(String, String)> {
    let said = || {
        files
            .iter()
            .flat_map(|f| f.callbacks.iter().map(move |(r, c)| (f, *r, c)))
            .filter(move |(_, r2, _)| *r2 == r)
    };
    let the_struct = format!("struct {}", rule.old_struct);
    let defs: Vec<(&FileResult, &Vec<String>)> = said()
        .filter_map(|(f, _, c)| c.defined.as_ref().map(|d| (f, d)))
        .collect();
    let already;
    let (at, defs, holder): (String, Vec<&Vec<String>>, String) = match defs.first() {
        Some((def, _)) => {
            let line = def
                .sites
                .iter()
                .find(|s| s.rule == r && s.site.function == the_struct)
                .map_or(0, |s| s.site.line);
            (
                format!("{}:{line}", def.rel),
                defs.iter().map(|(_, d)| *d).collect(),
                the_struct.clone(),
            )
        }
        // The tree's header is converted already: its ops struct holds the callbacks.
        None => {
            already = defined_ops(rule, files)?;
            (
                already.0.clone(),
                vec![&already.1],
                format!("struct {} (already in the tree)", rule.ops_struct),
            )
        }
    };
    let (f, m) = said().find_map(|(f, _, c)| {
        c.assumed
            .iter()
            .find(|m| !defs.iter().any(|d| d.contains(m)))
            .map(|m| (f, m))
    })?;
    Some((
        at,
        format!(
            "{} treats `.{m}` as a callback, but {holder} has no such callback",
            f.rel
        ),
    ))
}

/// The new ops struct as the run's files already define it (`struct OPS {` in a file as it was
/// read), with the callbacks it holds: `("file:line", members)`. A tree whose API header is
/// already converted (an `apply` interrupted after writing it, or a tree that has the new API
/// and old callers) has its definition: the implementation and the callers convert against
/// it, and what they take to be callbacks is checked against its members.
fn defined_ops(rule: &StructToOps, files: &[FileResult]) -> Option<(String, Vec<String>)> {
    let ops = format!("struct {}", rule.ops_struct);
    files.iter().find_map(|f| {
        let o = &f.original;
        let end =
            words(o, ops.as_bytes()).find(|&end| o[end..].trim_ascii_start().starts_with(b"{"))?;
        let open = end + o[end..].iter().position(|&b| b == b'{')?;
        let body = &o[open..open + balanced(&o[open..])?];
        let line = 1 + memchr::memchr_iter(b'\n', &o[..end]).count();
        Some((format!("{}:{line}", f.rel), function_pointers(body)))
    })
}

/// Length of the `{ ... }` block `text` opens with, braces counted.
fn balanced(text: &[u8]) -> Option<usize> {
    let mut depth = 0usize;
    for (i, &b) in text.iter().enumerate() {
        match b {
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
    }
    None
}

/// The names of the function-pointer members of a struct body: `(*name)`.
fn function_pointers(body: &[u8]) -> Vec<String> {
    let ident = |b: &u8| b.is_ascii_alphanumeric() || *b == b'_';
    memchr::memmem::find_iter(body, b"(*")
        .filter_map(|at| {
            let rest = body[at + 2..].trim_ascii_start();
            let n = rest.iter().take_while(|b| ident(b)).count();
            (n > 0 && rest[n..].trim_ascii_start().starts_with(b")"))
                .then(|| String::from_utf8_lossy(&rest[..n]).into_owned())
        })
        .collect()
}

/// Does `src` define the old struct (with a body) or an entry point (with a body)? Then the
/// definition side of the rule rewrites it as a whole, kernel-doc included.
pub fn defines_api(rule: &StructToOps, src: &[u8]) -> bool {
    let mut p = tree_sitter::Parser::new();
    p.set_language(&tree_sitter_c::LANGUAGE.into())
        .expect("tree-sitter-c matches tree-sitter");
    let Some(tree) = p.parse(src, None) else {
        return false;
    };
    let mut found = false;
    let mut c = tree.walk();
    loop {
        let n = c.node();
        let name = |f: &str| n.child_by_field_name(f).map(|c| &src[c.byte_range()]);
        match n.kind() {
            "struct_specifier" if n.child_by_field_name("body").is_some() => {
                found |= name("name") == Some(rule.old_struct.as_bytes());
            }
            "function_definition" => {
                let d = name("declarator").unwrap_or_default();
                found |= rule.entries.iter().any(|e| {
                    let pat = format!("{}(", e.name);
                    memchr::memmem::find(d, pat.as_bytes()).is_some()
                });
            }
            _ => {}
        }
        if c.goto_first_child() {
            continue;
        }
        while !c.goto_next_sibling() {
            if !c.goto_parent() {
                return found;
            }
        }
    }
}

/// The oracle of all-or-nothing: when the run's output uses `struct OPS` where its input did
/// not, the output must define `struct OPS` and declare every entry point with an OPS pointer
/// parameter. Returns what is missing. (Runs given the definition from outside, such as
/// `--base-patch`, are not checked by it.)
pub fn unresolved_new_api(rule: &StructToOps, files: &[FileResult]) -> Option<String> {
    let ops = format!("struct {}", rule.ops_struct);
    let count = |b: &[u8]| words(b, ops.as_bytes()).count();
    let after = |f: &FileResult| f.new.clone().unwrap_or_else(|| f.original.clone());
    let used = files.iter().find(|f| {
        f.new
            .as_deref()
            .is_some_and(|n| count(n) > count(&f.original))
    })?;
    let outputs: Vec<Vec<u8>> = files.iter().map(after).collect();
    let defined = outputs
        .iter()
        .any(|o| words(o, ops.as_bytes()).any(|end| o[end..].trim_ascii_start().starts_with(b"{")));
    if !defined {
        return Some(format!(
            "{} uses `{ops}`, which no output defines",
            used.rel
        ));
    }
    for e in &rule.entries {
        let declared = outputs.iter().any(|o| {
            words(o, e.name.as_bytes()).any(|end| {
                let rest = o[end..].trim_ascii_start();
                rest.starts_with(b"(")
                    && rest
                        .iter()
                        .position(|&b| b == b')')
                        .is_some_and(|close| words(&rest[..close], ops.as_bytes()).next().is_some())
            })
        });
        if !declared {
            return Some(format!(
                "{} uses `{ops}`, but no output declares {}() with it",
                used.rel, e.name
            ));
        }
    }
    None
}

/// End offsets of `word` in `text` where it stands as whole words (not inside an identifier).
fn words<'a>(text: &'a [u8], word: &'a [u8]) -> impl Iterator<Item = usize> + 'a {
    let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    memchr::memmem::find_iter(text, word).filter_map(move |at| {
        let end = at + word.len();
        let before = at == 0 || !ident(text[at - 1]);
        let after = end == text.len() || !ident(text[end]);
        (before && after).then_some(end)
    })
}
