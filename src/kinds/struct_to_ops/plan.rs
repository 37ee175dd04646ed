//! From proofs to bytes: name and render the ops structs (shared when identical), lay out the
//! rewritten calls in kernel style, delete the walk's declaration and stores as whole lines
//! without leaving stray blank lines or empty conditionals, and merge it all into one edit set.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::ops::Range;

use super::analyse::{Init, Member, OpsRef, WalkPlan, Wrap, insertion_point};
use super::wraps;
use crate::edit::Edit;
use crate::kinds::struct_to_ops::rule::{NewArg, StructToOps};
use crate::parse::{Parsed, line_end, line_start};

/// Kernel style's line limit, in display columns (tabs to multiples of 8).
pub(super) const WIDTH: usize = 80;

/// What makes two ops structs of a file one: their text (wrap and members) and the
/// conditionals around the functions using them.
type OpsKey = (Vec<u8>, Vec<(usize, usize)>);

/// The members' text and the conditionals around the function: the ops structs of a file that
/// may share a struct whatever conditionals around the calls they sit in.
type Family = (Vec<u8>, Vec<(usize, usize)>);

pub fn edits(
    rule: &StructToOps,
    src: &[u8],
    parsed: &Parsed,
    plans: &[WalkPlan],
) -> Result<Vec<Edit>, String> {
    let mut namer = Namer::new(rule, src, parsed, plans);
    let mut edits = Vec::new();
    let mut deletes: Vec<Range<usize>> = Vec::new();
    for plan in plans {
        let spec_names = namer.name(plan, &mut edits);
        call_edits(rule, src, plan, &spec_names, &mut edits)?;
        read_edits(src, parsed, plan, &mut edits);
        local_edits(rule, src, plan, &spec_names, &mut edits);
        deletes.extend(plan.deletes.iter().cloned());
        edits.extend(
            plan.above
                .iter()
                .map(|(at, t)| Edit::insert(*at, t.clone())),
        );
    }
    // A directive line's comment survives the deletion of its empty pair only when the
    // generated code repeats the line (a guarded member, a wrapped ops struct).
    let generated: Vec<u8> = edits
        .iter()
        .filter(|e| e.range.is_empty())
        .flat_map(|e| e.text.iter().copied())
        .collect();
    edits.extend(delete_lines(src, parsed, &deletes, &generated));
    Ok(edits)
}

/// Names and writes the ops structs of a file: one per distinct text, in the conditionals
/// its users share ([`wraps::shared`]).
struct Namer<'a> {
    rule: &'a StructToOps,
    src: &'a [u8],
    parsed: &'a Parsed,
    taken: HashSet<&'a [u8]>,
    names: HashMap<OpsKey, String>,
    used: HashSet<String>,
    /// Per family, the wrap each wrap list used is written in.
    shared: HashMap<Family, HashMap<Vec<Wrap>, Vec<Wrap>>>,
}

impl<'a> Namer<'a> {
    fn new(rule: &'a StructToOps, src: &'a [u8], parsed: &'a Parsed, plans: &[WalkPlan]) -> Self {
        let mut used: HashMap<Family, BTreeSet<Vec<Wrap>>> = HashMap::new();
        for plan in plans {
            let guards = parsed.directives.guards_at(plan.function.start_byte());
            for spec in &plan.specs {
                let family = (render_members(&spec.members), guards.clone());
                used.entry(family).or_default().insert(spec.wrap.clone());
            }
        }
        let shared = used
            .into_iter()
            .map(|(f, ws)| (f, wraps::shared(src, &parsed.directives, &ws)))
            .collect();
        Namer {
            rule,
            src,
            parsed,
            taken: parsed.lexed.code_words(src).collect(),
            names: HashMap::new(),
            used: HashSet::new(),
            shared,
        }
    }

    /// The names of a plan's specs, by index; the structs not written yet are inserted above
    /// the plan's function.
    fn name(&mut self, plan: &WalkPlan, edits: &mut Vec<Edit>) -> Vec<String> {
        let at = insertion_point(self.src, plan.function);
        let guards = self.parsed.directives.guards_at(plan.function.start_byte());
        let mut out = Vec::new();
        for spec in &plan.specs {
            let body = render_members(&spec.members);
            let wrap = self.shared[&(body.clone(), guards.clone())][&spec.wrap].clone();
            let (open, close) = wrap_lines(&wrap);
            let key = (
                [open.as_bytes(), &body, close.as_bytes()].concat(),
                guards.clone(),
            );
            if let Some(n) = self.names.get(&key) {
                out.push(n.clone());
                continue;
            }
            let name = self.fresh(&plan.base);
            self.names.insert(key, name.clone());
            let ops = &self.rule.ops_struct;
            let mut text = format!("{open}static const struct {ops} {name} = {{\n").into_bytes();
            text.extend_from_slice(&body);
            text.extend_from_slice(format!("}};\n{close}\n").as_bytes());
            edits.push(Edit::insert(at, text));
            out.push(name);
        }
        out
    }

    /// The rule's name for `base`, with `_2`, `_3`, … when the file already has it.
    fn fresh(&mut self, base: &str) -> String {
        let stem = self.rule.ops_name.replace("{base}", base);
        let name = (1..)
            .map(|i| match i {
                1 => stem.clone(),
                _ => format!("{stem}_{i}"),
            })
            .find(|c| !self.taken.contains(c.as_bytes()) && !self.used.contains(c))
            .unwrap();
        self.used.insert(name.clone());
        name
    }
}

/// The lines that open and close a struct's conditionals, outermost first.
fn wrap_lines(wrap: &[Wrap]) -> (String, String) {
    let open: String = wrap.iter().map(wraps::opening).collect();
    let close: String = wrap.iter().rev().map(|w| format!("{}\n", w.end)).collect();
    (open, close)
}

/// Each converted call's argument list, in the new order.
fn call_edits(
    rule: &StructToOps,
    src: &[u8],
    plan: &WalkPlan,
    spec_names: &[String],
    edits: &mut Vec<Edit>,
) -> Result<(), String> {
    let ops_text = |r: &OpsRef| match r {
        OpsRef::Spec(i) => format!("&{}", spec_names[*i]),
        OpsRef::Local => plan.local.as_ref().map(|l| l.0.clone()).unwrap_or_default(),
    };
    for call in &plan.calls {
        let entry = &rule.entries[call.entry];
        let list = call
            .node
            .child_by_field_name("arguments")
            .ok_or("call without arguments")?;
        let old = super::find::named_children(list);
        let args: Vec<Vec<u8>> = entry
            .new_args
            .iter()
            .map(|a| match a {
                NewArg::Old(i) => substitute(src, old[*i].byte_range(), &plan.reads),
                NewArg::Ops => ops_text(&call.ops).into_bytes(),
                NewArg::Field(f) => call.fields[f].clone().into_bytes(),
            })
            .collect();
        edits.push(Edit::replace(
            list.byte_range(),
            layout(src, list.start_byte(), list.end_byte(), &args),
        ));
    }
    Ok(())
}

/// Reads of a field outside the rewritten calls. Those inside a rewritten call's arguments
/// were substituted there; a read that makes its line longer than 80 columns re-lays out the
/// argument list it sits in.
fn read_edits(src: &[u8], parsed: &Parsed, plan: &WalkPlan, edits: &mut Vec<Edit>) {
    let lists: Vec<Range<usize>> = plan
        .calls
        .iter()
        .filter_map(|c| c.node.child_by_field_name("arguments"))
        .map(|l| l.byte_range())
        .collect();
    let mut reflowed: Vec<Range<usize>> = Vec::new();
    for (range, value) in &plan.reads {
        let inside = |ls: &[Range<usize>]| {
            ls.iter()
                .any(|l| l.start <= range.start && range.end <= l.end)
        };
        if inside(&lists) || inside(&reflowed) {
            continue;
        }
        let root = parsed.tree.root_node();
        let list = root
            .descendant_for_byte_range(range.start, range.end)
            .and_then(|n| n.parent())
            .filter(|p| p.kind() == "argument_list");
        match list {
            // A comment between the arguments would be lost by a re-layout: then the line
            // stays long.
            Some(list) if too_wide(src, range, value) && !loose_comment(parsed, list) => {
                let args: Vec<Vec<u8>> = super::find::named_children(list)
                    .iter()
                    .map(|a| substitute(src, a.byte_range(), &plan.reads))
                    .collect();
                edits.push(Edit::replace(
                    list.byte_range(),
                    layout(src, list.start_byte(), list.end_byte(), &args),
                ));
                reflowed.push(list.byte_range());
            }
            _ => edits.push(Edit::replace(range.clone(), value.clone())),
        }
    }
}

/// The walk's declaration becomes the ops pointer local (switching mode) and the locals of
/// argument fields with several values; each store point assigns its local.
fn local_edits(
    rule: &StructToOps,
    src: &[u8],
    plan: &WalkPlan,
    spec_names: &[String],
    edits: &mut Vec<Edit>,
) {
    let mut decls: Vec<String> = Vec::new();
    if let Some((local, init)) = &plan.local {
        let init = init
            .map(|i| format!(" = &{}", spec_names[i]))
            .unwrap_or_default();
        decls.push(format!("const struct {} *{local}{init};", rule.ops_struct));
        for (stmt, i) in &plan.assigns {
            edits.push(Edit::replace(
                stmt.clone(),
                format!("{local} = &{};", spec_names[*i]),
            ));
        }
    }
    for l in &plan.arg_locals {
        decls.push(l.decl.clone());
        edits.extend(
            l.stores
                .iter()
                .map(|r| Edit::replace(r.clone(), l.name.clone())),
        );
    }
    if decls.is_empty() {
        return;
    }
    let indent = &src[line_start(src, plan.decl.start)..plan.decl.start];
    let sep = format!("\n{}", String::from_utf8_lossy(indent));
    edits.push(Edit::replace(plan.decl.clone(), decls.join(&sep)));
}

/// Is there a comment in `list` outside its arguments (which a re-layout copies)?
fn loose_comment(parsed: &Parsed, list: tree_sitter::Node) -> bool {
    let args: Vec<Range<usize>> = super::find::named_children(list)
        .iter()
        .map(|a| a.byte_range())
        .collect();
    parsed.lexed.spans.iter().any(|(k, c)| {
        *k == crate::parse::lex::Span::Comment
            && list.start_byte() < c.start
            && c.end < list.end_byte()
            && !args.iter().any(|a| a.start <= c.start && c.end <= a.end)
    })
}

/// The text of `range` with the planned read replacements inside it applied.
fn substitute(src: &[u8], range: Range<usize>, reads: &[(Range<usize>, String)]) -> Vec<u8> {
    let mut inner: Vec<&(Range<usize>, String)> = reads
        .iter()
        .filter(|(r, _)| range.start <= r.start && r.end <= range.end)
        .collect();
    inner.sort_by_key(|(r, _)| r.start);
    let mut out = Vec::new();
    let mut at = range.start;
    for (r, v) in inner {
        out.extend_from_slice(&src[at..r.start]);
        out.extend_from_slice(v.as_bytes());
        at = r.end;
    }
    out.extend_from_slice(&src[at..range.end]);
    out
}

/// The column of `=` for designated initializers indented `tabs` tabs whose longest field name
/// is `widest` bytes: the tab stop after `.name` plus one.
pub(super) fn eq_column(tabs: usize, widest: usize) -> usize {
    (8 * tabs + 1 + widest) / 8 * 8 + 8
}

/// One designated-initializer line, `\t.f<tabs>= v,`, with `=` at `eq_col`.
pub(super) fn member_line(tabs: usize, f: &str, v: &str, eq_col: usize) -> String {
    let mut col = 8 * tabs + 1 + f.len();
    let mut s = format!("{}.{f}", "\t".repeat(tabs));
    while col < eq_col {
        s.push('\t');
        col = col / 8 * 8 + 8;
    }
    format!("{s}= {v},\n")
}

/// The member lines of an ops struct, `=` aligned with tabs. Comments that came with a value
/// go above its member, or after it (a trailing comment stays trailing), the trailing ones
/// aligned on one tab stop past the longest line that carries one.
pub fn render_members(spec: &[Member]) -> Vec<u8> {
    let inits: Vec<&Init> = spec.iter().flat_map(Member::inits).collect();
    let eq_col = eq_column(1, inits.iter().map(|i| i.field.len()).max().unwrap_or(0));
    let line = |i: &Init| {
        let mut l = member_line(1, &i.field, &i.value, eq_col);
        l.pop(); // the newline
        l
    };
    let note_col = inits
        .iter()
        .filter(|i| i.notes.iter().any(|n| n.trailing))
        .map(|i| display_col(line(i).as_bytes()))
        .max()
        .map_or(0, |w| w / 8 * 8 + 8);
    let render = |out: &mut Vec<u8>, i: &Init| {
        let trailing = i.notes.iter().position(|n| n.trailing);
        for (k, n) in i.notes.iter().enumerate() {
            if Some(k) != trailing {
                out.extend_from_slice(n.indent.as_deref().unwrap_or(b"\t"));
                out.extend_from_slice(&n.text);
                out.push(b'\n');
            }
        }
        let l = line(i);
        out.extend_from_slice(l.as_bytes());
        if let Some(k) = trailing {
            let mut col = display_col(l.as_bytes());
            while col < note_col {
                out.push(b'\t');
                col = col / 8 * 8 + 8;
            }
            out.extend_from_slice(&i.notes[k].text);
        }
        out.push(b'\n');
    };
    let mut out = Vec::new();
    for m in spec {
        match m {
            Member::Plain(i) => render(&mut out, i),
            Member::Guarded { arms, end } => match own_blocks(arms) {
                // An arm without members is not written: each other arm gets a block of
                // its own, opened by its own condition.
                Some(blocks) => {
                    for (open, members) in blocks {
                        out.extend_from_slice(format!("{open}\n").as_bytes());
                        for i in members {
                            render(&mut out, i);
                        }
                        out.extend_from_slice(format!("{end}\n").as_bytes());
                    }
                }
                None => {
                    for (directive, members) in arms {
                        out.extend_from_slice(format!("{directive}\n").as_bytes());
                        for i in members {
                            render(&mut out, i);
                        }
                    }
                    out.extend_from_slice(format!("{end}\n").as_bytes());
                }
            },
        }
    }
    out
}

/// The arms of a guarded member that has an empty arm, each as a block with its own opening
/// line ([`wraps::alone`]); `None` when every arm has members, or when a line cannot be
/// rewritten (a comment on it): then the arms are written as they are.
fn own_blocks(arms: &[(String, Vec<Init>)]) -> Option<Vec<(String, &[Init])>> {
    if arms.iter().all(|a| !a.1.is_empty()) {
        return None;
    }
    let lines: Vec<&str> = arms.iter().map(|a| a.0.as_str()).collect();
    arms.iter()
        .enumerate()
        .filter(|(_, a)| !a.1.is_empty())
        .map(|(k, a)| wraps::alone(&lines[..=k]).map(|open| (open, a.1.as_slice())))
        .collect()
}

/// Would replacing `range` with `value` push its line past 80 columns?
fn too_wide(src: &[u8], range: &Range<usize>, value: &str) -> bool {
    let (start, end) = (line_start(src, range.start), line_end(src, range.end));
    let line = [
        &src[start..range.start],
        value.as_bytes(),
        &src[range.end..end],
    ]
    .concat();
    display_col(line.trim_ascii_end()) > WIDTH
}

pub(super) fn display_col(line: &[u8]) -> usize {
    line.iter()
        .fold(0, |c, &b| if b == b'\t' { c / 8 * 8 + 8 } else { c + 1 })
}

/// `(a, b, c)` on one line when it fits in 80 columns with what follows it on the line;
/// otherwise filled greedily with continuation lines aligned after the parenthesis.
pub(super) fn layout(src: &[u8], open: usize, close: usize, args: &[Vec<u8>]) -> Vec<u8> {
    layout_shifted(src, open, close, args, 0)
}

/// [`layout`] for a parenthesis that other edits on its line move `shift` columns right.
pub(super) fn layout_shifted(
    src: &[u8],
    open: usize,
    close: usize,
    args: &[Vec<u8>],
    shift: usize,
) -> Vec<u8> {
    let col = display_col(&src[line_start(src, open)..open]) + 1 + shift;
    let line_end = src[close..]
        .iter()
        .position(|&b| b == b'\n' || b == b'\r')
        .map_or(src.len(), |i| close + i);
    let rest = display_col(&src[close..line_end]);
    let one = args.join(&b", "[..]);
    // `col` counts the `(`; the `)` is one more column.
    if col + one.len() + 1 + rest <= WIDTH && !one.contains(&b'\n') {
        return [&b"("[..], &one, b")"].concat();
    }
    let indent = format!("{}{}", "\t".repeat(col / 8), " ".repeat(col % 8));
    let eol = if src[line_end..].starts_with(b"\r\n") {
        "\r\n"
    } else {
        "\n"
    };
    let mut out = b"(".to_vec();
    let mut cur = col;
    for (i, a) in args.iter().enumerate() {
        let last = i + 1 == args.len();
        let tail = if last { 1 + rest } else { 1 }; // `)` and the rest, or `,`
        if i > 0 {
            if cur + 2 + a.len() + tail > WIDTH {
                out.push(b',');
                out.extend_from_slice(eol.as_bytes());
                out.extend_from_slice(indent.as_bytes());
                cur = col;
            } else {
                out.extend_from_slice(b", ");
                cur += 2;
            }
        }
        out.extend_from_slice(a);
        cur += a.len();
    }
    out.push(b')');
    out
}

/// Line boundaries: (start, end excluding the newline, next line start).
fn lines(src: &[u8]) -> Vec<(usize, usize, usize)> {
    let mut out = Vec::new();
    let mut s = 0;
    while s < src.len() {
        let e = src[s..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(src.len(), |i| s + i);
        let next = (e + 1).min(src.len());
        out.push((s, e, next));
        s = next;
    }
    out
}

/// Delete statements: a statement alone on its lines goes with its lines; otherwise only its
/// bytes (and the blanks after it). Then tidy the neighbourhood of each run of deleted lines:
/// no blank line opening a block or closing one, no two blank lines in a row, no empty
/// `#if`/`#endif` pair.
fn delete_lines(
    src: &[u8],
    parsed: &Parsed,
    stmts: &[Range<usize>],
    generated: &[u8],
) -> Vec<Edit> {
    let ls = lines(src);
    let line_at = |off: usize| ls.partition_point(|l| l.2 <= off);
    let blankish = |i: usize| {
        src[ls[i].0..ls[i].1]
            .iter()
            .all(|b| b.is_ascii_whitespace())
    };
    let mut dead: BTreeSet<usize> = BTreeSet::new();
    let mut partial = Vec::new();
    for s in stmts {
        let (a, b) = (line_at(s.start), line_at(s.end.saturating_sub(1)));
        let before = &src[ls[a].0..s.start];
        let after = &src[s.end..ls[b].1];
        if before.iter().all(|c| c.is_ascii_whitespace())
            && after.iter().all(|c| c.is_ascii_whitespace())
        {
            dead.extend(a..=b);
        } else {
            let mut end = s.end;
            while end < ls[b].1 && (src[end] == b' ' || src[end] == b'\t') {
                end += 1;
            }
            partial.push(Edit::delete(s.start..end));
        }
    }
    let trimmed = |i: usize| src[ls[i].0..ls[i].1].trim_ascii();
    let comments = parsed.lexed.all_comments(src);
    let comment_lost = |i: usize| {
        let (s, e) = (ls[i].0, ls[i].1);
        comments.iter().any(|c| c.start < e && s < c.end)
            && memchr::memmem::find(generated, src[s..e].trim_ascii_end()).is_none()
    };
    let directive_pair =
        |p: usize, n: usize| {
            parsed.directives.groups.iter().any(|g| {
                g.arms.len() == 1 && ls[p].0 == g.arms[0].line.start && ls[n].0 == g.end.start
            }) && !comment_lost(p)
                && !comment_lost(n)
        };
    loop {
        let mut more = Vec::new();
        let runs = runs(&dead);
        for (first, last) in runs {
            let prev = (0..first).rev().find(|i| !dead.contains(i));
            let next = (last + 1..ls.len()).find(|i| !dead.contains(i));
            let (Some(p), Some(n)) = (prev, next) else {
                continue;
            };
            if directive_pair(p, n) {
                more.extend([p, n]);
            } else if blankish(n) && (blankish(p) || trimmed(p).ends_with(b"{")) {
                more.push(n);
            } else if blankish(p) && trimmed(n).starts_with(b"}") {
                more.push(p);
            }
        }
        let before = dead.len();
        dead.extend(more);
        if dead.len() == before {
            break;
        }
    }
    let mut out = partial;
    for (first, last) in runs(&dead) {
        out.push(Edit::delete(ls[first].0..ls[last].2));
    }
    out
}

fn runs(set: &BTreeSet<usize>) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    for &i in set {
        match out.last_mut() {
            Some(r) if r.1 + 1 == i => r.1 = i,
            _ => out.push((i, i)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_align_on_a_tab_stop() {
        let spec = vec![
            Member::Plain(Init::new("pmd_entry".into(), "a".into())),
            Member::Plain(Init::new("hugetlb_entry".into(), "b".into())),
        ];
        assert_eq!(
            render_members(&spec),
            b"\t.pmd_entry\t= a,\n\t.hugetlb_entry\t= b,\n"
        );
        let spec = vec![Member::Plain(Init::new("pte_hole".into(), "a".into()))];
        assert_eq!(render_members(&spec), b"\t.pte_hole\t= a,\n");
        let spec = vec![
            Member::Plain(Init::new("test_walk".into(), "a".into())),
            Member::Plain(Init::new("enter".into(), "b".into())),
        ];
        assert_eq!(
            render_members(&spec),
            b"\t.test_walk\t= a,\n\t.enter\t\t= b,\n"
        );
    }

    #[test]
    fn calls_wrap_under_the_parenthesis() {
        let src = b"\terr = walk_page_range(start, end, &w);\n";
        let open = 22;
        let close = src.iter().position(|&b| b == b')').unwrap() + 1;
        let v = |a: &[&str]| a.iter().map(|s| s.as_bytes().to_vec()).collect::<Vec<_>>();
        let short = v(&["mm", "start", "end", "&x_ops", "NULL"]);
        assert_eq!(
            layout(src, open, close, &short),
            b"(mm, start, end, &x_ops, NULL)"
        );
        let long = v(&[
            "vma->vm_mm",
            "vma->vm_start",
            "vma->vm_end",
            "&clear_refs_walk_ops",
            "&cp",
        ]);
        assert_eq!(
            String::from_utf8(layout(src, open, close, &long)).unwrap(),
            "(vma->vm_mm, vma->vm_start, vma->vm_end,\n\t\t\t      &clear_refs_walk_ops, &cp)"
        );
    }

    #[test]
    fn a_call_of_81_columns_wraps_and_one_of_80_does_not() {
        // 4 tabs, then `err = walk_range(` (17 columns): the parenthesis is column 49.
        let src = b"\t\t\t\terr = walk_range(a);\n";
        let open = 4 + 16;
        let close = open + 3;
        let arg = |n: usize| vec![b'x'; n];
        // 49 + 29 + `)` + `;` = 80 columns: one line.
        assert_eq!(
            layout(src, open, close, &[arg(29)]),
            [b"(", &arg(29)[..], b")"].concat()
        );
        let two = layout(src, open, close, &[arg(13), arg(14)]);
        assert!(!two.contains(&b'\n'), "{}", String::from_utf8_lossy(&two));
        // One column more: the second argument goes to its own line.
        let wrapped = layout(src, open, close, &[arg(14), arg(14)]);
        assert!(
            wrapped.contains(&b'\n'),
            "{}",
            String::from_utf8_lossy(&wrapped)
        );
    }
}
