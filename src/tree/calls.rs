//! Finding calls of named functions, for every kind: the identifiers are found by their text
//! and then checked against the tree, and a call is one whose callee is that identifier.

use std::ops::Range;

use tree_sitter::Node;

use crate::parse::text;

/// Every identifier with this name in `range`, in order: the text is searched, then each hit
/// is checked against the tree (so comments, strings and longer names never count).
pub fn idents_named<'t>(
    src: &[u8],
    root: Node<'t>,
    name: &str,
    range: &Range<usize>,
) -> Vec<Node<'t>> {
    let hay = &src[range.start..range.end.min(src.len())];
    let mut out = Vec::new();
    for k in memchr::memmem::find_iter(hay, name.as_bytes()) {
        let (s, e) = (range.start + k, range.start + k + name.len());
        let word = |i: usize| {
            src.get(i)
                .is_some_and(|&b| crate::parse::lex::is_ident_byte(b))
        };
        if (s > 0 && word(s - 1)) || word(e) {
            continue;
        }
        if let Some(n) = root.descendant_for_byte_range(s, e)
            && n.kind() == "identifier"
            && n.byte_range() == (s..e)
        {
            out.push(n);
        }
    }
    out
}

/// The call `id` is the callee of (`id(...)`), with its argument list.
pub fn call_of<'t>(id: Node<'t>) -> Option<(Node<'t>, Node<'t>)> {
    let call = id.parent().filter(|p| p.kind() == "call_expression")?;
    if call.child_by_field_name("function") != Some(id) {
        return None;
    }
    Some((call, call.child_by_field_name("arguments")?))
}

/// Every call of the function `name` under `root`, in source order: the call and its argument
/// list.
pub fn calls_of<'t>(src: &[u8], root: Node<'t>, name: &str) -> Vec<(Node<'t>, Node<'t>)> {
    idents_named(src, root, name, &root.byte_range())
        .into_iter()
        .filter_map(call_of)
        .collect()
}

/// Is `n` a call whose callee is the plain name `name`?
pub fn is_call_of(src: &[u8], n: Node, name: &str) -> bool {
    n.kind() == "call_expression"
        && n.child_by_field_name("function")
            .is_some_and(|f| f.kind() == "identifier" && text(src, f) == name.as_bytes())
}

/// The named children of `n` but comments: a call's arguments, a list's items.
pub fn named_children<'t>(n: Node<'t>) -> Vec<Node<'t>> {
    let mut c = n.walk();
    n.named_children(&mut c)
        .filter(|c| c.kind() != "comment")
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const SRC: &str = "int f(void)\n{\n\t/* walk(a) */\n\twalk(a, /* b */ b);\n\
        \tx = walker(a);\n\ts.walk(a);\n\tg(walk);\n\tp = \"walk(c)\";\n\treturn walk(c);\n}\n";

    fn parsed() -> crate::parse::Parsed {
        crate::parse::parse(SRC.as_bytes(), Duration::from_secs(5)).unwrap()
    }

    #[test]
    fn calls_of_a_name_leave_out_comments_strings_longer_names_members_and_values() {
        let p = parsed();
        let src = SRC.as_bytes();
        let calls = calls_of(src, p.tree.root_node(), "walk");
        let lines: Vec<usize> = calls
            .iter()
            .map(|(c, _)| crate::parse::line_of(src, c.start_byte()))
            .collect();
        assert_eq!(lines, vec![4, 9]);
        let args: Vec<&[u8]> = named_children(calls[0].1)
            .into_iter()
            .map(|a| text(src, a))
            .collect();
        assert_eq!(args, vec![&b"a"[..], b"b"]);
        assert!(calls.iter().all(|(c, _)| is_call_of(src, *c, "walk")));
        assert!(!is_call_of(src, calls[0].0, "walker"));
    }

    #[test]
    fn a_name_used_as_a_value_is_no_call() {
        let p = parsed();
        let src = SRC.as_bytes();
        let root = p.tree.root_node();
        let ids = idents_named(src, root, "walk", &root.byte_range());
        // walk(a, b), g(walk), return walk(c): the comment, the string and `.walk` are not
        // identifiers named `walk`.
        assert_eq!(ids.len(), 3);
        assert!(call_of(ids[1]).is_none());
        assert!(call_of(ids[0]).is_some() && call_of(ids[2]).is_some());
    }
}
