//! The API definition side: where the old struct is defined, split its moved members into the
//! new ops struct (kernel-doc moves with them) and change the entry-point prototypes; where the
//! entry points are implemented, give them the new signature, rebuild the walk as a local, and
//! send every callback call through `->ops`.

use std::collections::HashMap;
use std::ops::Range;

use tree_sitter::Node;

use super::find::{self, named_children, visit};
use super::members;
use super::model::{Code, Flag, Outcome, Site};
use super::plan;
use crate::edit::Edit;
use crate::kinds::struct_to_ops::rule::{NewArg, StructToOps};
use crate::parse::{Parsed, line_end, line_of, line_start, text};

/// What the definition side of a file turned into.
#[derive(Default)]
pub struct Provided {
    pub sites: Vec<Site>,
    pub edits: Vec<Edit>,
    /// The struct definition in this file could not be converted: nothing of the migration
    /// may change in the file (its prototypes, implementation and callers stay as they are).
    pub blocked: Option<Flag>,
    /// The struct's definition converted here: the members that moved to the ops struct.
    pub moved: Option<Vec<String>>,
}

/// The old struct's members: name → declaration text without the `;` (`void *private`).
type Members = HashMap<String, String>;

pub fn migrate(rule: &StructToOps, src: &[u8], parsed: &Parsed) -> Provided {
    let root = parsed.tree.root_node();
    let mut out = Provided::default();
    let mut members: Members = HashMap::new();
    if let Some(def) = members::definition(rule, src, root) {
        let line = line_of(src, def.start_byte());
        let function = format!("struct {}", rule.old_struct);
        match split_struct(rule, src, parsed, def, &mut members) {
            Ok(edits) if edits.is_empty() => {}
            Ok(edits) => {
                out.edits.extend(edits);
                out.moved = members::classify(rule, src, def).ok().map(|ms| {
                    ms.into_iter()
                        .filter(|m| m.kind == members::Kind::Callback)
                        .map(|m| m.name)
                        .collect()
                });
                out.sites.push(Site {
                    line,
                    function,
                    outcome: Outcome::Converted,
                    definition: true,
                });
            }
            Err(flag) => {
                out.blocked = Some(Flag::new(
                    Code::Blocked,
                    format!(
                        "blocked: the API definition at line {line} could not be converted: {}",
                        flag.why
                    ),
                ));
                out.sites.push(Site {
                    line,
                    function,
                    outcome: Outcome::Flagged(flag),
                    definition: true,
                });
            }
        }
    }
    // Without the struct in this file, parameter types come from the rule's field names.
    for p in prototypes(rule, src, root) {
        let (node, entry, list) = p;
        let line = line_of(src, node.start_byte());
        let readable = if let Some(b) = &out.blocked {
            Err(b.clone())
        } else if node.has_error() {
            Err(Flag::new(
                Code::ParseError,
                "the parser could not read this prototype",
            ))
        } else {
            Ok(())
        };
        match readable.and_then(|()| params(rule, src, entry, list, &members)) {
            Ok(text) => {
                out.edits.push(Edit::replace(list.byte_range(), text));
                out.sites.push(Site {
                    line,
                    function: rule.entries[entry].name.clone(),
                    outcome: Outcome::Converted,
                    definition: true,
                });
            }
            Err(f) => out.sites.push(Site {
                line,
                function: rule.entries[entry].name.clone(),
                outcome: Outcome::Flagged(f),
                definition: true,
            }),
        }
    }
    let impls = implementations(rule, src, root);
    let own: Vec<Node> = impls.iter().map(|f| f.0).collect();
    for f in impls {
        let line = line_of(src, f.0.start_byte());
        let name = rule.entries[f.1].name.clone();
        let converted = match &out.blocked {
            Some(b) => Err(b.clone()),
            None => implementation(rule, src, f, &members),
        };
        match converted {
            Ok(edits) => {
                out.edits.extend(edits);
                out.sites.push(Site {
                    line,
                    function: name,
                    outcome: Outcome::Converted,
                    definition: true,
                });
            }
            Err(flag) => out.sites.push(Site {
                line,
                function: name,
                outcome: Outcome::Flagged(flag),
                definition: true,
            }),
        }
    }
    if !out.edits.is_empty() {
        let calls = callback_calls(rule, src, root, &own, &mut out.sites);
        out.edits.extend(calls);
    }
    out
}

fn whole_lines(src: &[u8], r: Range<usize>) -> Range<usize> {
    line_start(src, r.start)..(line_end(src, r.end) + 1).min(src.len())
}

fn split_struct(
    rule: &StructToOps,
    src: &[u8],
    parsed: &Parsed,
    def: Node,
    members: &mut Members,
) -> Result<Vec<Edit>, Flag> {
    let root = parsed.tree.root_node();
    if def.has_error() || toplevel(root, def).has_error() {
        return Err(Flag::new(
            Code::ParseError,
            format!(
                "the parser could not read all of struct {}",
                rule.old_struct
            ),
        ));
    }
    if members::is_new(rule, src, def) {
        return Ok(Vec::new());
    }
    let body = def.child_by_field_name("body").unwrap();
    // A member moved out of its `#ifdef` would change what the struct holds per configuration.
    if let Some(l) = parsed
        .directives
        .lines()
        .find(|l| body.byte_range().contains(&l.start))
    {
        return Err(Flag::new(
            Code::Guard,
            format!(
                "a conditional inside struct {}: its members cannot be moved out of it",
                rule.old_struct
            ),
        )
        .at(line_of(src, l.start)));
    }
    let mut moved_lines = Vec::new();
    let mut first_moved: Option<Range<usize>> = None;
    let mut edits = Vec::new();
    for member in members::classify(rule, src, def)? {
        let (name, m) = (member.name, member.node);
        let non_utf8 = || Flag::new(Code::Unsupported, "non-UTF-8 bytes in a member declaration");
        let decl = std::str::from_utf8(text(src, m))
            .map_err(|_| non_utf8())?
            .trim_end_matches(';')
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        members.insert(name.clone(), decl);
        if member.kind == members::Kind::Callback {
            let lines = whole_lines(src, m.byte_range());
            // Members are moved as whole lines: one sharing its line with other code (the
            // struct's braces, another member) cannot be.
            let alone = src[lines.start..m.start_byte()]
                .iter()
                .all(u8::is_ascii_whitespace)
                && src[m.end_byte()..lines.end]
                    .iter()
                    .all(u8::is_ascii_whitespace);
            if !alone {
                return Err(Flag::new(
                    Code::Unsupported,
                    format!("member `{name}` shares its line with other code"),
                )
                .at(line_of(src, m.start_byte())));
            }
            moved_lines.push(src[lines.clone()].to_vec());
            if first_moved.is_none() {
                first_moved = Some(lines.clone());
            }
            edits.push(Edit::delete(lines));
        }
    }
    let first = first_moved
        .ok_or_else(|| Flag::new(Code::Unsupported, "no member of the old struct moves"))?;
    let indent: Vec<u8> = src[first.clone()]
        .iter()
        .take_while(|b| **b == b' ' || **b == b'\t')
        .copied()
        .collect();
    let ops = &rule.ops_struct;
    let mut member = indent;
    member.extend_from_slice(format!("const struct {ops} *{};\n", rule.ops_param).as_bytes());
    edits.push(Edit::insert(first.start, member));
    // The new struct goes right above the old one (and above its kernel-doc).
    let top = toplevel(root, def);
    let doc = top.prev_sibling().filter(|p| {
        p.kind() == "comment" && text(src, *p).starts_with(b"/**") && adjacent(src, *p, top)
    });
    let at = whole_lines(src, doc.unwrap_or(top).byte_range()).start;
    let mut new = Vec::new();
    // The ops struct's callbacks take a `struct OLD *`: declare the tag before them.
    let forward = format!("struct {};", rule.old_struct);
    if memchr::memmem::find(&src[..at], forward.as_bytes()).is_none() {
        new.extend_from_slice(format!("{forward}\n\n").as_bytes());
    }
    if let Some(doc) = doc {
        if std::str::from_utf8(text(src, doc)).is_err() {
            return Err(Flag::new(
                Code::Unsupported,
                "non-UTF-8 bytes in the kernel-doc that would move",
            ));
        }
        let (ops_doc, walk_doc) = split_doc(rule, text(src, doc));
        new.extend_from_slice(&ops_doc);
        edits.push(Edit::replace(doc.byte_range(), walk_doc));
    }
    new.extend_from_slice(format!("struct {ops} {{\n").as_bytes());
    for l in moved_lines {
        new.extend_from_slice(&l);
    }
    new.extend_from_slice(b"};\n\n");
    edits.push(Edit::insert(at, new));
    Ok(edits)
}

fn toplevel<'t>(root: Node<'t>, mut n: Node<'t>) -> Node<'t> {
    while let Some(p) = n.parent() {
        if p == root {
            break;
        }
        n = p;
    }
    n
}

fn adjacent(src: &[u8], a: Node, b: Node) -> bool {
    src[a.end_byte()..b.start_byte()]
        .iter()
        .filter(|&&c| c == b'\n')
        .count()
        <= 1
}

/// Split the old struct's kernel-doc: the moved members' paragraphs go to a new comment for
/// the ops struct; the old one keeps the rest, with `@ops` where the first moved one was.
fn split_doc(rule: &StructToOps, doc: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let text = String::from_utf8_lossy(doc);
    let lines: Vec<&str> = text.lines().collect();
    // Paragraphs: a line ` * @name:` starts one; continuation lines (not `@`, not blank) follow.
    let mut ops_doc = String::from("/**\n");
    let mut walk_doc = String::new();
    let mut owner: Option<bool> = None; // Some(true): inside a moved member's paragraph
    let mut ops_line_done = false;
    for (i, l) in lines.iter().enumerate() {
        let body = l.trim_start().trim_start_matches('*').trim_start();
        if i == 1 && !body.starts_with('@') {
            // The title line: `name - description`.
            let desc = body.split_once(" - ").map_or(body, |x| x.1);
            ops_doc.push_str(&format!(" * {} - {desc}\n", rule.ops_struct));
            let title = rule.walk_doc.clone().unwrap_or_else(|| desc.to_string());
            walk_doc.push_str(&format!(" * {} - {title}\n", rule.old_struct));
            continue;
        }
        if let Some(rest) = body.strip_prefix('@') {
            let name = rest.split(':').next().unwrap_or("").trim();
            owner = Some(rule.is_moved(name));
        } else if body.is_empty() || body == "/" || l.trim_start().starts_with("*/") {
            owner = None;
        }
        if owner == Some(true) {
            if !ops_line_done {
                walk_doc.push_str(&format!(" * @{}: {}\n", rule.ops_param, rule.ops_doc));
                ops_line_done = true;
            }
            ops_doc.push_str(l);
            ops_doc.push('\n');
        } else {
            walk_doc.push_str(l);
            walk_doc.push('\n');
        }
    }
    ops_doc.push_str(" */\n");
    let walk_doc = walk_doc.strip_suffix('\n').unwrap_or(&walk_doc).to_string();
    (ops_doc.into_bytes(), walk_doc.into_bytes())
}

/// File-scope prototypes of the entry points with the old arity: (declaration, entry, params).
fn prototypes<'t>(
    rule: &StructToOps,
    src: &[u8],
    root: Node<'t>,
) -> Vec<(Node<'t>, usize, Node<'t>)> {
    let mut out = Vec::new();
    let mut c = root.walk();
    for top in root.children(&mut c) {
        if top.kind() != "declaration" {
            continue;
        }
        let mut c2 = top.walk();
        for d in top.children_by_field_name("declarator", &mut c2) {
            if let Some((entry, list)) = entry_declarator(rule, src, d) {
                out.push((top, entry, list));
            }
        }
    }
    out
}

/// An entry point's function declarator with the old arity: (entry, parameter list).
fn entry_declarator<'t>(rule: &StructToOps, src: &[u8], d: Node<'t>) -> Option<(usize, Node<'t>)> {
    let d = crate::tree::declarators::past_pointers(d)?;
    if d.kind() != "function_declarator" {
        return None;
    }
    let name = d.child_by_field_name("declarator")?;
    let entry = rule
        .entries
        .iter()
        .position(|e| e.name.as_bytes() == text(src, name))?;
    let list = d.child_by_field_name("parameters")?;
    let params = parameters(list);
    let e = &rule.entries[entry];
    let walk = params.get(e.walk_index)?;
    let ty = walk.child_by_field_name("type")?;
    let pointer = walk.child_by_field_name("declarator").is_some_and(|d| {
        matches!(
            d.kind(),
            "pointer_declarator" | "abstract_pointer_declarator"
        )
    });
    let is_old = params.len() == e.old_arity
        && pointer
        && ty.kind() == "struct_specifier"
        && ty
            .child_by_field_name("name")
            .is_some_and(|t| text(src, t) == rule.old_struct.as_bytes());
    is_old.then_some((entry, list))
}

/// The parameter declarations of a parameter list, in order: what a rule's parameter indices
/// count (a `...` or anything unreadable is not one).
fn parameters(list: Node) -> Vec<Node> {
    named_children(list)
        .into_iter()
        .filter(|p| p.kind() == "parameter_declaration")
        .collect()
}

/// The new parameter list for an entry point.
fn params(
    rule: &StructToOps,
    src: &[u8],
    entry: usize,
    list: Node,
    members: &Members,
) -> Result<Vec<u8>, Flag> {
    let e = &rule.entries[entry];
    let old = parameters(list);
    for a in &e.new_args {
        if let NewArg::Field(f) = a {
            let name = &rule.fields[*f].name;
            if !members.contains_key(name) && rule_decl(rule, name).is_none() {
                return Err(Flag::new(
                    Code::Unsupported,
                    format!(
                        "the type of `{name}` is unknown here: give the field a `decl` in the rule"
                    ),
                ));
            }
        }
    }
    let args: Vec<Vec<u8>> = e
        .new_args
        .iter()
        .map(|a| match a {
            NewArg::Old(i) => text(src, old[*i]).to_vec(),
            NewArg::Ops => {
                format!("const struct {} *{}", rule.ops_struct, rule.ops_param).into_bytes()
            }
            NewArg::Field(f) => {
                let name = &rule.fields[*f].name;
                members
                    .get(name)
                    .cloned()
                    .or_else(|| rule_decl(rule, name))
                    .unwrap_or_default()
                    .into_bytes()
            }
        })
        .collect();
    Ok(plan::layout(src, list.start_byte(), list.end_byte(), &args))
}

/// Without the struct's definition at hand (the implementation file), an argument field's
/// declaration comes from the rule (`decl = "struct mm_struct *mm"`).
fn rule_decl(rule: &StructToOps, name: &str) -> Option<String> {
    rule.field(name).and_then(|f| rule.fields[f].decl.clone())
}

/// Entry point definitions with the old signature: (function, entry, parameter list, walk name).
fn implementations<'t>(
    rule: &StructToOps,
    src: &[u8],
    root: Node<'t>,
) -> Vec<(Node<'t>, usize, Node<'t>, String)> {
    let mut out = Vec::new();
    let mut c = root.walk();
    for top in root.children(&mut c) {
        if top.kind() != "function_definition" {
            continue;
        }
        let Some(d) = top.child_by_field_name("declarator") else {
            continue;
        };
        if let Some((entry, list)) = entry_declarator(rule, src, d) {
            let walk = parameters(list)[rule.entries[entry].walk_index];
            let mut name = None;
            visit(walk, &mut |n| {
                if n.kind() == "identifier" {
                    name = Some(String::from_utf8_lossy(text(src, n)).into_owned());
                }
            });
            if let Some(name) = name {
                out.push((top, entry, list, name));
            }
        }
    }
    out
}

fn implementation(
    rule: &StructToOps,
    src: &[u8],
    f: (Node, usize, Node, String),
    members: &Members,
) -> Result<Vec<Edit>, Flag> {
    let (func, entry, list, walk) = f;
    let e = &rule.entries[entry];
    if func.has_error() {
        return Err(Flag::new(
            Code::ParseError,
            "the parser could not read part of this function",
        ));
    }
    let body = func
        .child_by_field_name("body")
        .ok_or_else(|| Flag::new(Code::Unsupported, "no body"))?;
    if let Some(name) = clashing_parameter(rule, src, entry, list, body) {
        return Err(Flag::new(
            Code::Unsupported,
            format!(
                "`{name}` is already a name in {}: the new parameter would clash with it",
                e.name
            ),
        ));
    }
    let mut edits = Vec::new();
    edits.push(Edit::replace(
        list.byte_range(),
        params(rule, src, entry, list, members)?,
    ));
    // The walk becomes a local filled from the new parameters.
    let mut inits: Vec<(String, String)> = vec![(rule.ops_param.clone(), rule.ops_param.clone())];
    for a in &e.new_args {
        if let NewArg::Field(fi) = a {
            let n = rule.fields[*fi].name.clone();
            inits.push((n.clone(), n));
        }
    }
    for (fi, expr) in &e.implied {
        inits.push((rule.fields[*fi].name.clone(), expr.clone()));
    }
    inits.sort_by_key(|(n, _)| {
        if *n == rule.ops_param {
            0
        } else {
            1 + rule.field(n).unwrap_or(0)
        }
    });
    let eq_col = plan::eq_column(2, inits.iter().map(|(n, _)| n.len()).max().unwrap_or(0));
    let mut local = format!("\tstruct {} {walk} = {{\n", rule.old_struct);
    for (n, v) in &inits {
        local.push_str(&plan::member_line(2, n, v, eq_col));
    }
    local.push_str("\t};\n");
    // Kernel style: a blank line between declarations and code.
    let first = named_children(body).into_iter().next();
    if first.is_some_and(|n| n.kind() != "declaration") {
        local.push('\n');
    }
    let open = body.start_byte() + 1;
    let after_brace = src[open..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(open, |i| open + i + 1);
    edits.push(Edit::insert(after_brace, local));
    // Inside: `walk->f` → `walk.f` (callbacks: `walk.ops->f`), `walk` passed on → `&walk`.
    // Argument lists already re-laid out as a whole (their `walk` arguments included).
    let mut relaid: Vec<Range<usize>> = Vec::new();
    for id in find::idents_named(src, body, &walk, &body.byte_range()) {
        if relaid.iter().any(|r| r.contains(&id.start_byte())) {
            continue;
        }
        let parent = id
            .parent()
            .ok_or_else(|| Flag::new(Code::Unsupported, "walk used oddly"))?;
        match parent.kind() {
            "field_expression" if parent.child_by_field_name("argument") == Some(id) => {
                let op = parent
                    .child_by_field_name("operator")
                    .ok_or_else(|| Flag::new(Code::Unsupported, "field without operator"))?;
                let field = parent
                    .child_by_field_name("field")
                    .map(|x| String::from_utf8_lossy(text(src, x)).into_owned())
                    .unwrap_or_default();
                let with = if rule.is_moved(&field) {
                    format!(".{}->", rule.ops_param)
                } else {
                    ".".to_string()
                };
                let shift = with.len().saturating_sub(op.byte_range().len());
                edits.push(Edit::replace(op.byte_range(), with));
                let call = parent.parent().filter(|c| {
                    c.kind() == "call_expression"
                        && c.child_by_field_name("function") == Some(parent)
                });
                if let Some(e) = call.and_then(|c| relaid_call(src, c, &walk, shift)) {
                    relaid.push(e.range.clone());
                    edits.push(e);
                }
            }
            "argument_list" => {
                let call = parent.parent().filter(|c| c.kind() == "call_expression");
                match call.and_then(|c| relaid_call(src, c, &walk, 0)) {
                    Some(e) => {
                        relaid.push(e.range.clone());
                        edits.push(e);
                    }
                    None => edits.push(Edit::insert(id.start_byte(), "&")),
                }
            }
            _ => {
                return Err(Flag::new(
                    Code::Unsupported,
                    format!("`{walk}` used as {}", parent.kind().replace('_', " ")),
                )
                .at(line_of(src, id.start_byte())));
            }
        }
    }
    // Kernel-doc of the function: `@walk:` becomes the new parameters.
    if let Some(doc) = func.prev_sibling().filter(|p| {
        p.kind() == "comment" && text(src, *p).starts_with(b"/**") && adjacent(src, *p, func)
    }) && let Some(edit) = param_doc(rule, src, doc, entry, &walk)
    {
        edits.push(edit);
    }
    Ok(edits)
}

/// A new parameter (`ops`, `mm`, `private`) whose name the old function already uses, in its
/// other parameters or its body (a vendor's `struct mm_struct *mm = walk->mm;`).
fn clashing_parameter(
    rule: &StructToOps,
    src: &[u8],
    entry: usize,
    list: Node,
    body: Node,
) -> Option<String> {
    let e = &rule.entries[entry];
    let mut new = vec![rule.ops_param.clone()];
    new.extend(e.new_args.iter().filter_map(|a| match a {
        NewArg::Field(f) => Some(rule.fields[*f].name.clone()),
        _ => None,
    }));
    let old: Vec<Node> = parameters(list)
        .into_iter()
        .enumerate()
        .filter(|(i, _)| *i != e.walk_index)
        .map(|(_, p)| p)
        .chain(std::iter::once(body))
        .collect();
    new.into_iter().find(|name| {
        old.iter()
            .any(|n| !find::idents_named(src, *n, name, &n.byte_range()).is_empty())
    })
}

/// A call in an entry point that passes the walk local on (`walk.ops->f(a, walk)`,
/// `walk_range(a, walk)`), pushed past the line limit by `&walk` and a callee made `shift`
/// columns longer: its argument list, re-laid out with `&walk`.
fn relaid_call(src: &[u8], call: Node, walk: &str, shift: usize) -> Option<Edit> {
    let list = call.child_by_field_name("arguments")?;
    let mut c = list.walk();
    let comment = list.named_children(&mut c).any(|a| a.kind() == "comment");
    if comment || src[list.byte_range()].contains(&b'\n') {
        return None; // a comment would be lost, several lines are laid out already
    }
    let args: Vec<Vec<u8>> = named_children(list)
        .iter()
        .map(|a| {
            let t = text(src, *a);
            if *t == *walk.as_bytes() {
                [b"&", t].concat()
            } else {
                t.to_vec()
            }
        })
        .collect();
    let passed = named_children(list)
        .iter()
        .filter(|a| text(src, **a) == walk.as_bytes())
        .count();
    // The walk used inside an argument (`walk->mm`, `(walk)`) gets its own edit: not re-laid.
    if find::idents_named(src, list, walk, &list.byte_range()).len() != passed {
        return None;
    }
    let grown = shift + passed;
    let line = &src[line_start(src, list.start_byte())..line_end(src, list.end_byte())];
    (plan::display_col(line.trim_ascii_end()) + grown > plan::WIDTH).then(|| {
        let laid = plan::layout_shifted(src, list.start_byte(), list.end_byte(), &args, shift);
        Edit::replace(list.byte_range(), laid)
    })
}

/// Replace the `@walk:` paragraph of an entry point's kernel-doc with the new parameters.
fn param_doc(rule: &StructToOps, src: &[u8], doc: Node, entry: usize, walk: &str) -> Option<Edit> {
    let t = text(src, doc);
    let key = format!(" * @{walk}:");
    let start = memchr::memmem::find(t, key.as_bytes())?;
    let mut end = start + t[start..].iter().position(|&b| b == b'\n')? + 1;
    // Continuation lines: ` *` followed by more text that does not start a new `@` item.
    while let Some(k) = t[end..].iter().position(|&b| b == b'\n') {
        let line = &t[end..end + k];
        let body = line
            .trim_ascii_start()
            .strip_prefix(b"*")
            .unwrap_or(line)
            .trim_ascii_start();
        if body.is_empty() || body.starts_with(b"@") || body.starts_with(b"/") {
            break;
        }
        end += k + 1;
    }
    let mut new = String::new();
    for a in &rule.entries[entry].new_args {
        match a {
            NewArg::Ops => new.push_str(&format!(" * @{}: {}\n", rule.ops_param, rule.ops_doc)),
            NewArg::Field(f) => {
                let fld = &rule.fields[*f];
                let d = fld
                    .doc
                    .clone()
                    .unwrap_or_else(|| format!("see struct {}", rule.old_struct));
                new.push_str(&format!(" * @{}: {d}\n", fld.name));
            }
            NewArg::Old(_) => {}
        }
    }
    let base = doc.start_byte();
    Some(Edit::replace(base + start..base + end, new))
}

/// Callback calls through a walk pointer anywhere in the file: `E->f` with `E` a parameter or
/// local of type `struct OLD *` and `f` a moved member becomes `E->ops->f`.
fn callback_calls(
    rule: &StructToOps,
    src: &[u8],
    root: Node,
    skip: &[Node],
    flags: &mut Vec<Site>,
) -> Vec<Edit> {
    let mut out = Vec::new();
    let mut c = root.walk();
    for top in root.children(&mut c) {
        if top.kind() != "function_definition" || skip.contains(&top) {
            continue;
        }
        let pointers = walk_pointers(rule, src, top);
        if pointers.is_empty() {
            continue;
        }
        if top.has_error() {
            let name = top
                .child_by_field_name("declarator")
                .and_then(|d| find::function_name(src, d));
            flags.push(Site {
                line: line_of(src, top.start_byte()),
                function: String::from_utf8_lossy(name.unwrap_or(b"")).into_owned(),
                outcome: Outcome::Flagged(Flag::new(
                    Code::ParseError,
                    "callbacks may be called here through code the parser could not read",
                )),
                definition: true,
            });
            continue;
        }
        visit(top, &mut |n| {
            if n.kind() != "field_expression" {
                return;
            }
            let (Some(arg), Some(op), Some(field)) = (
                n.child_by_field_name("argument"),
                n.child_by_field_name("operator"),
                n.child_by_field_name("field"),
            ) else {
                return;
            };
            if rule.is_moved(&String::from_utf8_lossy(text(src, field)))
                && text(src, op) == b"->"
                && arg.kind() == "identifier"
                && pointers.iter().any(|p| p.as_bytes() == text(src, arg))
            {
                let ins = format!("{}->", rule.ops_param);
                out.push(Edit::insert(field.start_byte(), ins.clone()));
                // A call through the callback that now passes the line limit wraps its arguments.
                let list = n
                    .parent()
                    .filter(|c| {
                        c.kind() == "call_expression"
                            && c.child_by_field_name("function") == Some(n)
                    })
                    .and_then(|c| c.child_by_field_name("arguments"));
                if let Some(list) = list {
                    let ls = line_start(src, list.start_byte());
                    let le = line_end(src, list.end_byte());
                    let same_line = !src[list.byte_range()].contains(&b'\n');
                    if same_line
                        && plan::display_col(src[ls..le].trim_ascii_end()) + ins.len() > plan::WIDTH
                    {
                        let args: Vec<Vec<u8>> = named_children(list)
                            .iter()
                            .map(|a| text(src, *a).to_vec())
                            .collect();
                        out.push(Edit::replace(
                            list.byte_range(),
                            plan::layout_shifted(
                                src,
                                list.start_byte(),
                                list.end_byte(),
                                &args,
                                ins.len(),
                            ),
                        ));
                    }
                }
            }
        });
    }
    out
}

/// Names of parameters and locals declared `struct OLD *name` in a function.
pub(super) fn walk_pointers(rule: &StructToOps, src: &[u8], func: Node) -> Vec<String> {
    let mut out = Vec::new();
    visit(func, &mut |n| {
        if !matches!(n.kind(), "parameter_declaration" | "declaration") {
            return;
        }
        let Some(ty) = n.child_by_field_name("type") else {
            return;
        };
        if ty.kind() != "struct_specifier"
            || ty
                .child_by_field_name("name")
                .is_none_or(|t| text(src, t) != rule.old_struct.as_bytes())
        {
            return;
        }
        let mut c = n.walk();
        for d in n.children_by_field_name("declarator", &mut c) {
            let d = if d.kind() == "init_declarator" {
                d.child_by_field_name("declarator").unwrap_or(d)
            } else {
                d
            };
            if d.kind() == "pointer_declarator"
                && let Some(id) = d
                    .child_by_field_name("declarator")
                    .filter(|x| x.kind() == "identifier")
            {
                out.push(String::from_utf8_lossy(text(src, id)).into_owned());
            }
        }
    });
    out
}
