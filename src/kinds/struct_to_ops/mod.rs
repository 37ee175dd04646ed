//! The struct-to-ops transformation: a struct of callbacks and data filled by the caller becomes
//! a static const ops struct plus call arguments. `analyse` finds each function's walks and
//! `walk_verdict` proves each walk's rewrite from the statements of its function (use
//! classification, reaching definitions per preprocessor configuration); `plan` turns proofs
//! into byte edits; `check` re-reads the result.

mod analyse;
mod comments;
mod compat;
mod find;
mod flow;
mod guards;
pub mod headers;
mod kind;
mod members;
pub mod model;
mod plan;
mod provider;
pub mod rule;
mod values;
pub mod verdict;
mod walk_verdict;
mod wraps;

use tree_sitter::Node;

use crate::edit::EditSet;
pub use crate::model::{Callbacks, FileResult};
use crate::parse::{self, Parsed, line_of};
use crate::tree;
pub use model::{Code, Flag, Outcome, Site};
pub use rule::StructToOps;

/// Run the transformation over one parsed file. `origin` (the tree and the file's path) lets
/// callbacks declared in the headers the file includes count as constants.
pub fn migrate(
    rule: &StructToOps,
    src: &[u8],
    parsed: &Parsed,
    api: bool,
    origin: Option<headers::Origin>,
) -> FileResult {
    let balanced = read_balanced(src, parsed);
    let parsed = balanced.as_ref().unwrap_or(parsed);
    let root = parsed.tree.root_node();
    let file_functions = find::file_functions(src, root);
    let included = headers::Included::new(origin, src);
    // The callbacks this file shows beyond the rule's list move like the listed ones.
    let is_function =
        |name: &[u8]| file_functions.contains_key(name) || included.function(name).is_some();
    let extra = members::extra_callbacks(rule, src, root, &is_function);
    let extended;
    let rule = if extra.is_empty() {
        rule
    } else {
        extended = rule.with_callbacks(&extra);
        &extended
    };
    let mut out = FileResult::default();
    if members::definition(rule, src, root).is_none() {
        out.callbacks.assumed = extra.into_iter().collect();
    }
    let functions = function_nodes(root);
    let skip = own_entries(rule, src, &functions);
    let calls = find::entry_calls(rule, src, root, &skip);
    out.sites
        .extend(unreadable_sites(rule, src, root, &functions, &calls, &skip));
    out.sites
        .extend(hidden_sites(rule, src, parsed, &functions, &skip));
    let ctx = analyse::FileCtx {
        rule,
        src,
        parsed,
        functions: file_functions,
        included,
        compat: compat::VersionArms::of(rule, src, parsed),
        nesting_kept: Default::default(),
    };
    let mut plans = Vec::new();
    for f in &functions {
        let fcalls: Vec<find::Call> = calls
            .iter()
            .filter(|c| f.byte_range().contains(&c.node.start_byte()))
            .cloned()
            .collect();
        let r = analyse::function(&ctx, *f, fcalls);
        out.parse_error_functions += usize::from(r.unexplained_parse_error);
        out.sites.extend(r.sites);
        plans.extend(r.plans);
    }
    let converted = out
        .sites
        .iter()
        .filter(|s| s.outcome == Outcome::Converted)
        .count();
    let provided = if api {
        provider::migrate(rule, src, parsed)
    } else {
        provider::Provided::default()
    };
    if let Some(why) = &provided.blocked {
        // The definition here could not be converted: neither may its users in this file.
        for s in &mut out.sites {
            if s.outcome == Outcome::Converted {
                s.outcome = Outcome::Flagged(why.clone());
            }
        }
        plans.clear();
    }
    out.callbacks.defined = provided.moved;
    out.sites.extend(provided.sites);
    out.sites
        .sort_by(|a, b| (a.line, &a.function).cmp(&(b.line, &b.function)));
    if plans.is_empty() && provided.edits.is_empty() {
        return out;
    }
    match checked_edits(rule, src, parsed, &plans, provided.edits, converted) {
        Ok(edits) => out.edits = edits,
        Err(why) => {
            for s in &mut out.sites {
                s.unconvert(|| format!("self-check failed, file left alone: {why}"));
            }
        }
    }
    out
}

/// The rule's entry points this file defines itself (its own static helper, or the API's
/// implementation): calls of them are calls of its own function, not sites.
fn own_entries(rule: &StructToOps, src: &[u8], functions: &[Node]) -> Vec<usize> {
    let defined = defined_functions(src, functions);
    rule.entries
        .iter()
        .enumerate()
        .filter(|(_, e)| defined.iter().any(|d| d == e.name.as_bytes()))
        .map(|(i, _)| i)
        .collect()
}

/// Entry-point calls the parser could not place in a function, flagged.
fn unreadable_sites(
    rule: &StructToOps,
    src: &[u8],
    root: Node,
    functions: &[Node],
    calls: &[find::Call],
    skip: &[usize],
) -> Vec<Site> {
    let flagged = |at: usize, why: &str| Site {
        line: line_of(src, at),
        function: String::new(),
        outcome: Outcome::Flagged(Flag::new(Code::ParseError, why)),
        definition: false,
    };
    let outside = calls
        .iter()
        .map(|c| c.node.start_byte())
        .filter(|at| !functions.iter().any(|f| f.byte_range().contains(at)))
        .map(|at| flagged(at, "call outside any function the parser could read"));
    let stray = stray_errors(rule, src, root, functions, skip)
        .into_iter()
        .map(|at| flagged(at, "entry point inside code the parser could not read"));
    outside.chain(stray).collect()
}

/// An entry point or the old struct named in an arm the reading leaves out (a conditional
/// whose arms each open a block is read with its first arm: see [`parse::arms`]): what the
/// tree does not hold cannot be converted, flagged where it is.
fn hidden_sites(
    rule: &StructToOps,
    src: &[u8],
    parsed: &Parsed,
    functions: &[Node],
    skip: &[usize],
) -> Vec<Site> {
    let dirs = &parsed.directives;
    let hidden = parse::arms::later_arms(dirs, &parsed.one_arm);
    let named = |w: &[u8]| {
        w == rule.old_struct.as_bytes()
            || rule
                .entries
                .iter()
                .enumerate()
                .any(|(i, e)| !skip.contains(&i) && e.name.as_bytes() == w)
    };
    parsed
        .lexed
        .code_word_ranges(src)
        .iter()
        .filter(|w| hidden.iter().any(|a| a.contains(&w.start)) && named(&src[(*w).clone()]))
        .map(|w| {
            let function = functions
                .iter()
                .find(|f| f.byte_range().contains(&w.start))
                .and_then(|f| f.child_by_field_name("declarator"))
                .and_then(|d| find::function_name(src, d))
                .map(|n| String::from_utf8_lossy(n).into_owned())
                .unwrap_or_default();
            Site {
                line: line_of(src, w.start),
                function,
                outcome: Outcome::Flagged(Flag::new(
                    Code::Guard,
                    format!(
                        "`{}` in a later arm of a conditional whose arms each open a block, read with its first arm only",
                        String::from_utf8_lossy(&src[w.clone()])
                    ),
                )),
                definition: false,
            }
        })
        .collect()
}

/// The file's edits (the callers' plans and the definition side's), checked by the shared
/// self-check ([`crate::tree`]): the callers' edits are code edits, none inside a comment or a
/// string (the definition side edits kernel-doc on purpose); the file well delimited; the
/// result re-read ([`check`]).
fn checked_edits(
    rule: &StructToOps,
    src: &[u8],
    parsed: &Parsed,
    plans: &[analyse::WalkPlan],
    provided: Vec<crate::edit::Edit>,
    converted: usize,
) -> Result<EditSet, String> {
    let mut edits = plan::edits(rule, src, parsed, plans)?;
    tree::code_only(parsed, &edits)?;
    edits.extend(provided);
    let edits = EditSet::new(tree::crlf_edits(src, edits)).map_err(|o| o.to_string())?;
    tree::delimited(parsed)?;
    check(rule, src, parsed, &edits, converted)?;
    Ok(edits)
}

/// The file read again with the conditionals whose arms each leave the braces unbalanced
/// kept to their first arm ([`parse::arms`]), when it has any: otherwise tree-sitter invents a
/// brace and misreads every function after them. `None`: the reading given is the one to use.
fn read_balanced(src: &[u8], parsed: &Parsed) -> Option<Parsed> {
    if parsed.balanced
        || parse::arms::one_arm_groups(src, &parsed.lexed, &parsed.directives).is_empty()
    {
        return None;
    }
    let timeout = std::time::Duration::from_secs(10);
    parse::Prepared::balanced(src, &parsed.macros)
        .parse(parsed.ranges.clone(), timeout)
        .ok()
}

/// Names of the functions this file defines.
fn defined_functions(src: &[u8], functions: &[Node]) -> Vec<Vec<u8>> {
    functions
        .iter()
        .filter_map(|f| {
            f.child_by_field_name("declarator")
                .and_then(|d| find::function_name(src, d))
                .map(|n| n.to_vec())
        })
        .collect()
}

/// Function definitions, outermost only (also those inside top-level ERROR nodes).
fn function_nodes(root: Node) -> Vec<Node> {
    let mut out = Vec::new();
    let mut stack = vec![root];
    while let Some(n) = stack.pop() {
        if n.kind() == "function_definition" {
            out.push(n);
            continue;
        }
        let mut c = n.walk();
        stack.extend(n.children(&mut c));
    }
    out.sort_by_key(|n| n.start_byte());
    out
}

/// Offsets of entry-point names inside ERROR nodes outside every function.
fn stray_errors(
    rule: &StructToOps,
    src: &[u8],
    root: Node,
    functions: &[Node],
    skip: &[usize],
) -> Vec<usize> {
    let mut out = Vec::new();
    find::visit(root, &mut |n| {
        if n.kind() != "ERROR"
            || functions
                .iter()
                .any(|f| f.byte_range().contains(&n.start_byte()))
        {
            return;
        }
        if n.parent()
            .is_some_and(|p| p.has_error() && p.kind() == "ERROR")
        {
            return; // the outermost ERROR reports
        }
        for w in parse::lex::words(src, n.byte_range()) {
            let word = &src[w.clone()];
            let entry = rule.entries.iter().position(|e| e.name.as_bytes() == word);
            if entry.is_some_and(|e| !skip.contains(&e))
                && src[w.end..n.end_byte()]
                    .trim_ascii_start()
                    .starts_with(b"(")
            {
                out.push(w.start);
            }
        }
    });
    out
}

/// Re-read the result: no new parse errors ([`tree::reread`]), and exactly the converted
/// calls left the old arity.
fn check(
    rule: &StructToOps,
    src: &[u8],
    before: &Parsed,
    edits: &EditSet,
    converted: usize,
) -> Result<(), String> {
    let (new, after) = tree::reread(src, before, edits)?;
    let old_calls = find::entry_calls(rule, src, before.tree.root_node(), &[]).len();
    let left = find::entry_calls(rule, &new, after.tree.root_node(), &[]).len();
    if left + converted != old_calls {
        return Err(format!(
            "{} old-API calls left where {} were expected",
            left,
            old_calls - converted
        ));
    }
    Ok(())
}
