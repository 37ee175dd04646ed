//! Patterns and templates of the call-rewrite kind. A pattern is C text with `$name`
//! metavariables, parsed once by tree-sitter into a small tree; it matches a source node of
//! the same shape (comments skipped), each metavariable binding one expression. A template is
//! the `to` text: its holes take the bound expressions' bytes as written.

use std::ops::Range;

use tree_sitter::Node;

use crate::parse::text;

const PREFIX: &str = "__kcm_mv_";

/// One node of a compiled pattern.
#[derive(Debug, Clone)]
enum PNode {
    /// Metavariable number `n` (index into [`Pattern::vars`]).
    Var(usize),
    /// A token: its kind and text.
    Leaf {
        kind: String,
        text: Vec<u8>,
    },
    Node {
        kind: String,
        children: Vec<PNode>,
    },
}

/// A compiled `from` pattern.
#[derive(Debug, Clone)]
pub struct Pattern {
    /// It ends in `;`: it matches an expression statement, not an expression.
    pub statement: bool,
    root: PNode,
    vars: Vec<String>,
    /// The identifiers and members it names (not its metavariables).
    words: Vec<String>,
    callee: Option<String>,
    plain: bool,
    /// Per argument of the outermost call: it holds no metavariable (`PCI_DMA_TODEVICE`).
    fixed: Vec<bool>,
}

/// A compiled `to` template.
#[derive(Debug, Clone)]
pub struct Template {
    text: String,
    holes: Vec<Hole>,
    vars: Vec<String>,
    callee: Option<String>,
    plain: bool,
    /// The outermost call's arguments: where each is in `text`, and whether it holds no hole.
    args: Vec<(Range<usize>, bool)>,
}

#[derive(Debug, Clone)]
struct Hole {
    at: Range<usize>,
    var: String,
    /// The hole is a whole argument or the whole template: any expression fits unparenthesized.
    whole: bool,
}

/// What a metavariable bound: the node, and the bytes it stands for (a whole argument's
/// slot, with the comments beside it).
#[derive(Debug, Clone)]
pub struct Bound<'t> {
    pub node: Node<'t>,
    pub range: Range<usize>,
}

/// `$name` → a placeholder identifier, and the names in order of first use.
fn substitute(src: &str) -> Result<(String, Vec<String>), String> {
    let mut out = String::new();
    let mut vars: Vec<String> = Vec::new();
    let mut rest = src;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let n = after
            .find(|c: char| !(c == '_' || c.is_ascii_alphanumeric()))
            .unwrap_or(after.len());
        let name = &after[..n];
        if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
            return Err("`$` must be followed by a metavariable name".into());
        }
        if !vars.iter().any(|v| v == name) {
            vars.push(name.to_string());
        }
        out.push_str(PREFIX);
        out.push_str(name);
        rest = &after[n..];
    }
    out.push_str(rest);
    Ok((out, vars))
}

/// `text` (placeholders substituted) read as the body of a function, without parse errors.
fn parse_one(text: &str, statement: bool) -> Result<crate::parse::Alone, String> {
    let semi: &[u8] = if statement { b"" } else { b";" };
    let parsed = crate::parse::parse_alone(text.as_bytes(), semi).map_err(|e| e.to_string())?;
    if parsed.tree.root_node().has_error() {
        return Err("not a C expression the parser can read".into());
    }
    Ok(parsed)
}

/// The expression (or statement) node parsed from the wrapper.
fn the_node(tree: &tree_sitter::Tree, statement: bool) -> Result<Node<'_>, String> {
    let f = tree.root_node().named_child(0).ok_or("empty pattern")?;
    let body = f.child_by_field_name("body").ok_or("not an expression")?;
    let mut c = body.walk();
    let stmts: Vec<Node> = body.named_children(&mut c).collect();
    let [stmt] = stmts.as_slice() else {
        return Err("must be one expression (or one statement ending in `;`)".into());
    };
    if stmt.kind() != "expression_statement" {
        return Err("must be an expression".into());
    }
    if statement {
        return Ok(*stmt);
    }
    stmt.named_child(0).ok_or_else(|| "empty expression".into())
}

fn var_of<'a>(n: Node, src: &'a [u8]) -> Option<&'a str> {
    let t = std::str::from_utf8(text(src, n)).ok()?;
    (n.kind() == "identifier").then(|| t.strip_prefix(PREFIX))?
}

/// The function a call node calls, when it is a plain name, and whether every argument is a
/// metavariable.
fn call_shape(n: Node, src: &[u8]) -> (Option<String>, bool) {
    let n = if n.kind() == "expression_statement" {
        match n.named_child(0) {
            Some(x) => x,
            None => return (None, false),
        }
    } else {
        n
    };
    if n.kind() != "call_expression" {
        return (None, false);
    }
    let f = n.child_by_field_name("function");
    let callee = f
        .filter(|f| f.kind() == "identifier" && var_of(*f, src).is_none())
        .map(|f| String::from_utf8_lossy(text(src, f)).into_owned());
    let plain = n.child_by_field_name("arguments").is_some_and(|a| {
        let mut c = a.walk();
        a.named_children(&mut c).all(|x| var_of(x, src).is_some())
    });
    (callee, plain)
}

/// The arguments of `n` when it is a call (or a call statement), comments left out.
fn call_arguments(n: Node) -> Vec<Node> {
    let n = match n.kind() {
        "expression_statement" => match n.named_child(0) {
            Some(x) => x,
            None => return Vec::new(),
        },
        _ => n,
    };
    if n.kind() != "call_expression" {
        return Vec::new();
    }
    let Some(list) = n.child_by_field_name("arguments") else {
        return Vec::new();
    };
    let mut c = list.walk();
    list.named_children(&mut c)
        .filter(|x| x.kind() != "comment")
        .collect()
}

/// Does `n` hold a metavariable?
fn has_var(n: Node, src: &[u8]) -> bool {
    let mut found = false;
    crate::tree::visit(n, &mut |x| found |= var_of(x, src).is_some());
    found
}

impl Pattern {
    pub fn parse(src: &str) -> Result<Pattern, String> {
        let trimmed = src.trim();
        let statement = trimmed.ends_with(';');
        let (text, vars) = substitute(trimmed)?;
        let parsed = parse_one(&text, statement)?;
        let node = the_node(&parsed.tree, statement)?;
        if var_of(node, &parsed.bytes).is_some() {
            return Err("a lone metavariable matches everything: name a shape".into());
        }
        let src_b = parsed.bytes.as_slice();
        let mut words = Vec::new();
        let root = compile_node(node, src_b, &vars, &mut words);
        let (callee, plain) = call_shape(node, src_b);
        let fixed = call_arguments(node)
            .into_iter()
            .map(|a| !has_var(a, src_b))
            .collect();
        Ok(Pattern {
            statement,
            root,
            vars,
            words,
            callee,
            plain,
            fixed,
        })
    }

    pub fn vars(&self) -> &[String] {
        &self.vars
    }
    /// The kind of node the pattern matches (`call_expression`, `field_expression`, ...).
    pub fn root_kind(&self) -> &str {
        match &self.root {
            PNode::Node { kind, .. } | PNode::Leaf { kind, .. } => kind,
            PNode::Var(_) => "",
        }
    }
    pub fn words(&self) -> &[String] {
        &self.words
    }
    /// The function the pattern calls, when a plain name.
    pub fn callee(&self) -> Option<&str> {
        self.callee.as_deref()
    }
    /// `f($a, $b, ...)`: a call whose every argument is a metavariable.
    pub fn is_plain_call(&self) -> bool {
        self.plain && !self.statement
    }

    /// Does `n` match? The bindings, one per metavariable, in [`Pattern::vars`] order.
    pub fn matches<'t>(&self, n: Node<'t>, src: &[u8]) -> Option<Vec<Bound<'t>>> {
        let mut binds: Vec<Option<Node<'t>>> = vec![None; self.vars.len()];
        if !match_node(&self.root, n, src, &mut binds) {
            return None;
        }
        Some(
            binds
                .into_iter()
                .map(|b| {
                    let node = b.expect("every metavariable is bound by a match");
                    Bound {
                        node,
                        range: slot(node, src),
                    }
                })
                .collect(),
        )
    }
}

fn compile_node(n: Node, src: &[u8], vars: &[String], words: &mut Vec<String>) -> PNode {
    if let Some(v) = var_of(n, src) {
        let i = vars.iter().position(|x| x == v).expect("substituted");
        return PNode::Var(i);
    }
    if n.child_count() == 0 {
        if matches!(n.kind(), "identifier" | "field_identifier") {
            let w = String::from_utf8_lossy(text(src, n)).into_owned();
            if !words.contains(&w) {
                words.push(w);
            }
        }
        return PNode::Leaf {
            kind: n.kind().to_string(),
            text: text(src, n).to_vec(),
        };
    }
    let mut c = n.walk();
    let children = n
        .children(&mut c)
        .map(|x| compile_node(x, src, vars, words))
        .collect();
    PNode::Node {
        kind: n.kind().to_string(),
        children,
    }
}

/// Text with whitespace and comments removed, for comparing two bindings of one name.
fn squeezed(n: Node, src: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    crate::tree::visit(n, &mut |x| {
        if x.child_count() == 0 && x.kind() != "comment" {
            out.extend_from_slice(text(src, x));
            out.push(b' ');
        }
    });
    out
}

fn match_node<'t>(p: &PNode, n: Node<'t>, src: &[u8], binds: &mut [Option<Node<'t>>]) -> bool {
    match p {
        PNode::Var(i) => {
            if !n.is_named() || n.kind() == "comment" || n.is_error() || n.is_missing() {
                return false;
            }
            match binds[*i] {
                Some(prev) => squeezed(prev, src) == squeezed(n, src),
                None => {
                    binds[*i] = Some(n);
                    true
                }
            }
        }
        PNode::Leaf { kind, text: t } => {
            n.kind() == kind && n.child_count() == 0 && text(src, n) == t.as_slice()
        }
        PNode::Node { kind, children } => {
            if n.kind() != kind || n.is_missing() {
                return false;
            }
            let mut c = n.walk();
            let kids: Vec<Node<'t>> = n
                .children(&mut c)
                .filter(|x| x.kind() != "comment")
                .collect();
            kids.len() == children.len()
                && children
                    .iter()
                    .zip(kids)
                    .all(|(p, k)| match_node(p, k, src, binds))
        }
    }
}

/// The bytes a bound node stands for: a whole argument's slot between its separators (the
/// comments beside it kept), trimmed of white space; otherwise the node itself.
fn slot(n: Node, src: &[u8]) -> Range<usize> {
    let _ = src;
    if n.parent().is_none_or(|p| p.kind() != "argument_list") {
        return n.byte_range();
    }
    let mut start = n.start_byte();
    let mut end = n.end_byte();
    let mut prev = n.prev_sibling();
    while let Some(p) = prev.filter(|p| p.kind() == "comment") {
        start = p.start_byte();
        prev = p.prev_sibling();
    }
    let mut next = n.next_sibling();
    while let Some(x) = next.filter(|x| x.kind() == "comment") {
        end = x.end_byte();
        next = x.next_sibling();
    }
    start..end
}

impl Template {
    pub fn parse(src: &str, statement: bool) -> Result<Template, String> {
        let trimmed = src.trim();
        if trimmed.ends_with(';') != statement {
            return Err(if statement {
                "the pattern is a statement (ends in `;`): so must its replacement be".into()
            } else {
                "the pattern is an expression: its replacement must not end in `;`".into()
            });
        }
        let (text, vars) = substitute(trimmed)?;
        let parsed = parse_one(&text, statement)?;
        let node = the_node(&parsed.tree, statement)?;
        let (bytes, offset) = (parsed.bytes.as_slice(), parsed.offset);
        let mut holes = Vec::new();
        crate::tree::visit(node, &mut |x| {
            if let Some(v) = var_of(x, bytes) {
                let whole = x.id() == node.id()
                    || x.parent().is_some_and(|p| {
                        matches!(p.kind(), "argument_list" | "expression_statement")
                    });
                holes.push(Hole {
                    at: x.start_byte() - offset..x.end_byte() - offset,
                    var: v.to_string(),
                    whole,
                });
            }
        });
        let (callee, plain) = call_shape(node, bytes);
        let args = call_arguments(node)
            .into_iter()
            .map(|a| {
                (
                    a.start_byte() - offset..a.end_byte() - offset,
                    !has_var(a, bytes),
                )
            })
            .collect();
        Ok(Template {
            text,
            holes,
            vars,
            callee,
            plain,
            args,
        })
    }

    pub fn vars(&self) -> &[String] {
        &self.vars
    }
    pub fn callee(&self) -> Option<&str> {
        self.callee.as_deref()
    }
    pub fn is_plain_call(&self) -> bool {
        self.plain
    }
    /// Does the template's text name `word` (a metavariable's name counts too)?
    pub fn names(&self, word: &str) -> bool {
        let t = self.text.as_bytes();
        crate::parse::lex::words(t, 0..t.len()).any(|w| &t[w] == word.as_bytes())
    }

    /// How often the template uses metavariable `v`.
    pub fn uses(&self, v: &str) -> usize {
        self.holes.iter().filter(|h| h.var == v).count()
    }

    /// The replacement text: each hole takes its binding's bytes, parenthesized where the hole
    /// is an operand and the binding is not a primary expression, unparenthesized where an
    /// operand that is a parenthesized name (`&(mm)->mmap_sem`, a macro body's) becomes a
    /// whole argument. A whole argument that stays one is copied as written (`(size)`).
    /// Two whole arguments that follow each other in the code and in `to` keep the separator
    /// written between them, line break and all (`size,\n\t\t  &handle`); so do two
    /// arguments that stand in their own places (see `placed_separators`). `node` is the
    /// matched code.
    pub fn render(&self, pattern: &Pattern, binds: &[Bound], src: &[u8], node: Node) -> Vec<u8> {
        let kept = self.placed_separators(pattern, binds, src, node);
        // The code the template's holes take (a dropped argument is none of it).
        let taken: Vec<Range<usize>> = self
            .holes
            .iter()
            .filter_map(|h| pattern.vars.iter().position(|v| *v == h.var))
            .map(|i| binds[i].node.byte_range())
            .collect();
        let copy = |out: &mut Vec<u8>, r: Range<usize>| {
            let mut at = r.start;
            for (t, sep) in kept
                .iter()
                .filter(|(t, _)| r.start <= t.start && t.end <= r.end)
            {
                out.extend_from_slice(&self.text.as_bytes()[at..t.start]);
                out.extend_from_slice(sep);
                at = t.end;
            }
            out.extend_from_slice(&self.text.as_bytes()[at..r.end]);
        };
        let mut out = Vec::new();
        let mut at = 0;
        let mut prev: Option<(&Hole, &Bound)> = None;
        for h in &self.holes {
            let i = pattern
                .vars
                .iter()
                .position(|v| *v == h.var)
                .expect("checked");
            let b = &binds[i];
            let between = &self.text.as_bytes()[at..h.at.start];
            let sep = prev.and_then(|(ph, pb)| kept_separator(ph, pb, h, b, between, src, &taken));
            match sep {
                Some(sep) => out.extend_from_slice(sep),
                None => copy(&mut out, at..h.at.start),
            }
            prev = Some((h, b));
            let mut bytes = &src[b.range.clone()];
            if h.whole {
                if let Some(inner) = parenthesized_name(b.node).filter(|_| !argument(b.node)) {
                    bytes = text(src, inner);
                }
                out.extend_from_slice(bytes);
            } else if primary(b.node) {
                out.extend_from_slice(bytes);
            } else {
                out.push(b'(');
                out.extend_from_slice(bytes);
                out.push(b')');
            }
            at = h.at.end;
        }
        copy(&mut out, at..self.text.len());
        out
    }

    /// The template's separators between two arguments of the outermost call that both stand
    /// in their own place, each with the code's separator there, when both separators are
    /// only `,` and blanks. An argument of `to` stands in its place when it is fixed and
    /// `from` had a fixed one there (`PCI_DMA_TODEVICE` → `DMA_TO_DEVICE`), or when its holes
    /// are all bound inside the code's argument there (`$pdev` → `&$pdev->dev`). Two whole
    /// holes bound to their arguments are left to `kept_separator`.
    fn placed_separators<'s>(
        &self,
        pattern: &Pattern,
        binds: &[Bound],
        src: &'s [u8],
        node: Node,
    ) -> Vec<(Range<usize>, &'s [u8])> {
        let code = call_arguments(node);
        if code.len() != pattern.fixed.len() {
            return Vec::new();
        }
        // Where each argument of `to` stands in the code, if it stands in its own place, and
        // whether it is more than a whole hole bound to that argument (those two are
        // `kept_separator`'s).
        let bound = |h: &Hole| {
            let i = pattern.vars.iter().position(|v| *v == h.var)?;
            Some(&binds[i])
        };
        let placed: Vec<Option<(Range<usize>, bool)>> = self
            .args
            .iter()
            .enumerate()
            .map(|(k, (at, fixed))| {
                let c = code.get(k)?;
                if *fixed {
                    return pattern.fixed[k].then(|| (c.byte_range(), true));
                }
                let holes: Vec<&Hole> = self
                    .holes
                    .iter()
                    .filter(|h| at.start <= h.at.start && h.at.end <= at.end)
                    .collect();
                if let [h] = holes.as_slice() {
                    let b = bound(h)?;
                    if h.whole && b.node.id() == c.id() {
                        return Some((b.range.clone(), false));
                    }
                }
                let r = c.byte_range();
                let inside = |h: &&Hole| {
                    bound(h).is_some_and(|b| {
                        r.start <= b.node.start_byte() && b.node.end_byte() <= r.end
                    })
                };
                (!holes.is_empty() && holes.iter().all(inside)).then_some((r, true))
            })
            .collect();
        let mut out = Vec::new();
        for k in 1..self.args.len() {
            let (Some((a, af)), Some((b, bf))) = (&placed[k - 1], &placed[k]) else {
                continue;
            };
            let t = self.args[k - 1].0.end..self.args[k].0.start;
            if !(af | bf) || a.end > b.start || !comma_only(&self.text.as_bytes()[t.clone()]) {
                continue;
            }
            let sep = &src[a.end..b.start];
            if comma_only(sep) {
                out.push((t, sep));
            }
        }
        out
    }
}

/// Only a `,` between blanks (line breaks and continuations included).
fn comma_only(t: &[u8]) -> bool {
    let t: Vec<u8> = t
        .iter()
        .copied()
        .filter(|c| !matches!(c, b' ' | b'\t' | b'\r' | b'\n' | b'\\'))
        .collect();
    t == b","
}

/// The code's separator between two bound arguments, when the template puts them next to
/// each other as well (only `,` and blanks between the holes) and in the code they are
/// neighbours in one argument list (only `,` and white space, line continuations included,
/// between their slots). When the code has arguments between them that `to` drops (none of
/// `taken` lies in one), a line break there is kept: the last of their separators that holds
/// one (`flags, PAGE_KERNEL,\n\t node` → `flags,\n\t node`).
fn kept_separator<'s>(
    ph: &Hole,
    pb: &Bound,
    h: &Hole,
    b: &Bound,
    between: &[u8],
    src: &'s [u8],
    taken: &[Range<usize>],
) -> Option<&'s [u8]> {
    let (list, _) = pb
        .node
        .parent()
        .zip(b.node.parent())
        .filter(|(x, y)| x.id() == y.id() && x.kind() == "argument_list")?;
    if !(ph.whole && h.whole && comma_only(between)) || pb.range.end > b.range.start {
        return None;
    }
    let sep = &src[pb.range.end..b.range.start];
    if comma_only(sep) {
        return Some(sep);
    }
    // The arguments between the two, each dropped; their slots' separators.
    let mut c = list.walk();
    let dropped: Vec<Node> = list
        .named_children(&mut c)
        .filter(|a| a.start_byte() >= pb.range.end && a.end_byte() <= b.range.start)
        .collect();
    let taken_in = |a: &Node| {
        taken
            .iter()
            .any(|t| a.start_byte() <= t.start && t.end <= a.end_byte())
    };
    if dropped.is_empty() || dropped.iter().any(taken_in) {
        return None;
    }
    let mut ends = vec![pb.range.end];
    let mut starts = Vec::new();
    for a in &dropped {
        starts.push(a.start_byte());
        ends.push(a.end_byte());
    }
    starts.push(b.range.start);
    let gaps: Vec<&[u8]> = ends
        .iter()
        .zip(&starts)
        .map(|(e, s)| &src[*e..*s])
        .collect();
    if !gaps.iter().all(|g| comma_only(g)) {
        return None; // a comment beside a dropped argument: the template's
    }
    gaps.into_iter().rev().find(|g| g.contains(&b'\n'))
}

/// `(name)` with nothing else inside: the name.
fn parenthesized_name(n: Node) -> Option<Node> {
    if n.kind() != "parenthesized_expression" || n.named_child_count() != 1 {
        return None;
    }
    n.named_child(0).filter(|x| x.kind() == "identifier")
}

/// A whole argument of a call: its parentheses, if any, are the author's, not an operator's.
fn argument(n: Node) -> bool {
    n.parent().is_some_and(|p| p.kind() == "argument_list")
}

/// An expression that needs no parentheses as an operand of a unary or postfix operator.
fn primary(n: Node) -> bool {
    matches!(
        n.kind(),
        "identifier"
            | "field_expression"
            | "call_expression"
            | "subscript_expression"
            | "parenthesized_expression"
            | "number_literal"
            | "string_literal"
            | "char_literal"
            | "concatenated_string"
            | "true"
            | "false"
            | "null"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn first_call<'t>(tree: &'t tree_sitter::Tree) -> Node<'t> {
        let mut found = None;
        crate::tree::visit(tree.root_node(), &mut |n| {
            if found.is_none() && n.kind() == "call_expression" {
                found = Some(n);
            }
        });
        found.unwrap()
    }

    fn rewrite(from: &str, to: &str, code: &str) -> Option<String> {
        let p = Pattern::parse(from).unwrap();
        let t = Template::parse(to, p.statement).unwrap();
        let src = format!("void f(void)\n{{\n\t{code};\n}}\n");
        let tree = crate::parse::parse_bytes(src.as_bytes(), Duration::from_secs(5)).unwrap();
        let call = first_call(&tree);
        let b = p.matches(call, src.as_bytes())?;
        Some(String::from_utf8(t.render(&p, &b, src.as_bytes(), call)).unwrap())
    }

    #[test]
    fn a_member_shape_binds_the_object_and_keeps_its_bytes() {
        let (f, t) = ("down_read(&$mm->mmap_sem)", "mmap_read_lock($mm)");
        assert_eq!(
            rewrite(f, t, "down_read(&mm->mmap_sem)").unwrap(),
            "mmap_read_lock(mm)"
        );
        assert_eq!(
            rewrite(f, t, "down_read(&current->mm->mmap_sem)").unwrap(),
            "mmap_read_lock(current->mm)"
        );
        assert_eq!(
            rewrite(f, t, "down_read(&(mm)->mmap_sem)").unwrap(),
            "mmap_read_lock(mm)"
        );
        assert_eq!(rewrite(f, t, "down_read(&sem)"), None);
        assert_eq!(rewrite(f, t, "down_read(&mm->other)"), None);
        assert_eq!(rewrite(f, t, "up_read(&mm->mmap_sem)"), None);
    }

    #[test]
    fn arguments_reorder_drop_and_insert_with_their_comments() {
        assert_eq!(
            rewrite("f($a, $b)", "g($b, 0, $a)", "f(x /* base */, y + 1)").unwrap(),
            "g(y + 1, 0, x /* base */)"
        );
        assert_eq!(
            rewrite("f($a, $b)", "g($a)", "f(p->q, 2)").unwrap(),
            "g(p->q)"
        );
    }

    #[test]
    fn an_operand_hole_parenthesizes_what_is_not_primary() {
        let (f, t) = ("lock($m)", "lock2(&$m)");
        assert_eq!(
            rewrite(f, t, "lock(a ? b : c)").unwrap(),
            "lock2(&(a ? b : c))"
        );
        assert_eq!(rewrite(f, t, "lock(x.y)").unwrap(), "lock2(&x.y)");
    }

    /// Each `(from, to, code, rewritten)` rewrites as given.
    fn rewrites_as(cases: &[(&str, &str, &str, &str)]) {
        for (f, t, code, want) in cases {
            assert_eq!(
                rewrite(f, t, code).as_deref(),
                Some(*want),
                "{f} -> {t} on {code:?}"
            );
        }
    }

    #[test]
    fn neighbouring_arguments_keep_the_line_break_between_them() {
        let (f, t) = (
            "pci_alloc_consistent($pdev, $size, $handle)",
            "dma_alloc_coherent(&$pdev->dev, $size, $handle, GFP_ATOMIC)",
        );
        rewrites_as(&[
            (
                f,
                t,
                "pci_alloc_consistent(pdev, RING,\n\t\t\t&dma)",
                "dma_alloc_coherent(&pdev->dev, RING,\n\t\t\t&dma, GFP_ATOMIC)",
            ),
            // Reordered, they are not neighbours any more: the template's separator.
            ("f($a, $b, $c)", "g($c, $b)", "f(x,\n  y,\n  z)", "g(z, y)"),
            // A break before a dropped argument goes with it.
            ("f($a, $b, $c)", "g($b, $c)", "f(x,\n  y, z)", "g(y, z)"),
            // Between two kept ones, a dropped argument's break stays: the last one there.
            ("f($a, $b, $c)", "g($a, $c)", "f(x, y,\n  z)", "g(x,\n  z)"),
            ("f($a, $b, $c)", "g($a, $c)", "f(x,\n  y, z)", "g(x,\n  z)"),
            (
                "f($a, $b, $c, $d)",
                "g($a, $d)",
                "f(x,\n  y,\n  z, w)",
                "g(x,\n  w)",
            ),
            ("f($a, $b, $c)", "g($a, $c)", "f(x, y, z)", "g(x, z)"),
            // Moved rather than dropped, or a comment beside it: the template's.
            (
                "f($a, $b, $c)",
                "g($a, $c, $b)",
                "f(x, y,\n  z)",
                "g(x, z, y)",
            ),
            (
                "f($a, $b, $c)",
                "g($a, $c)",
                "f(x, y /* c */,\n  z)",
                "g(x, z)",
            ),
        ]);
    }

    #[test]
    fn arguments_in_their_own_places_keep_the_line_break_between_them() {
        rewrites_as(&[
            (
                "pci_unmap_single($pdev, $handle, $size, PCI_DMA_FROMDEVICE)",
                "dma_unmap_single(&$pdev->dev, $handle, $size, DMA_FROM_DEVICE)",
                "pci_unmap_single(pdev, d,\n\t\tLEN,\n\t\tPCI_DMA_FROMDEVICE)",
                "dma_unmap_single(&pdev->dev, d,\n\t\tLEN,\n\t\tDMA_FROM_DEVICE)",
            ),
            // Between two fixed arguments, and from a fixed one to a hole.
            (
                "f($a, X, Y, $b)",
                "g($a, U, V, $b)",
                "f(p,\n  X,\n  Y,\n  q)",
                "g(p,\n  U,\n  V,\n  q)",
            ),
            // Not in its place (an argument dropped before it, the arguments reordered): the
            // template's.
            ("f($a, $b, X)", "g($b, Y)", "f(p, q,\n  X)", "g(q, Y)"),
            ("f($a, X)", "g(Y, $a)", "f(p,\n  X)", "g(Y, p)"),
            // The place is the position: what `to` writes at X's position takes its break.
            ("f($a, X)", "g($a, 0, Y)", "f(p,\n  X)", "g(p,\n  0, Y)"),
            // An argument built from the code's argument in the same place (`&$pdev->dev`).
            (
                "pci_unmap_single($pdev, $handle, $size, $dir)",
                "dma_unmap_single(&$pdev->dev, $handle, $size, $dir)",
                "pci_unmap_single(priv->pdev,\n\t\td, LEN, dir)",
                "dma_unmap_single(&priv->pdev->dev,\n\t\td, LEN, dir)",
            ),
            (
                "f(&$m->sem, $c)",
                "g($m, $c)",
                "f(&mm->sem,\n  C)",
                "g(mm,\n  C)",
            ),
            // A fixed argument where `from` had a metavariable is not in a place of its own.
            ("f($a, $b)", "g($a, Y)", "f(p,\n  q)", "g(p, Y)"),
        ]);
    }

    #[test]
    fn a_whole_argument_keeps_the_parentheses_it_was_written_with() {
        // A macro body's `(size)` stays as written: only an operand's parentheses, which the
        // operator needed, go where the name becomes a whole argument.
        let (f, t) = ("access_ok($type, $addr, $size)", "access_ok($addr, $size)");
        assert_eq!(
            rewrite(f, t, "access_ok(VERIFY_READ, (ptr), (size))").unwrap(),
            "access_ok((ptr), (size))"
        );
        let (f, t) = ("down_read(&$mm->mmap_sem)", "mmap_read_lock($mm)");
        assert_eq!(
            rewrite(f, t, "down_read(&(mm)->mmap_sem)").unwrap(),
            "mmap_read_lock(mm)"
        );
    }

    #[test]
    fn one_name_bound_twice_must_bind_the_same_expression() {
        assert!(rewrite("f($a, $a)", "g($a)", "f(x, x)").is_some());
        assert!(rewrite("f($a, $a)", "g($a)", "f(x, y)").is_none());
    }

    #[test]
    fn bad_patterns_say_why() {
        assert!(Pattern::parse("f($a").is_err());
        assert!(Pattern::parse("f($)").is_err());
        assert!(Template::parse("g($a);", false).is_err());
    }

    #[test]
    fn a_plain_call_is_told_from_a_reshaped_one() {
        let p = Pattern::parse("ioremap_nocache($a, $b)").unwrap();
        assert!(p.is_plain_call());
        assert_eq!(p.callee(), Some("ioremap_nocache"));
        assert!(
            !Pattern::parse("down_read(&$mm->mmap_sem)")
                .unwrap()
                .is_plain_call()
        );
        assert_eq!(
            Pattern::parse("down_read(&$mm->mmap_sem)").unwrap().words(),
            ["down_read", "mmap_sem"]
        );
    }
}
