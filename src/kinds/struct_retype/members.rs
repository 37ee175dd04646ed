//! The initializer of a retyped struct: designated members renamed by the rule's map, dropped
//! members removed with their line, and the `=` signs re-aligned with tabs when the original
//! aligned them with tabs (kernel style), else left as written.

use tree_sitter::Node;

use crate::edit::Edit;
use crate::model::{Code, Flag};
use crate::parse::{line_end, line_start, text};
use crate::rule::Retype;
use crate::tree::column;

struct Pair<'t> {
    node: Node<'t>,
    field: Node<'t>,
    eq: Node<'t>,
    new: Option<String>,
}

/// The edits of one initializer list, or the node and reason to flag it.
pub fn edits<'t>(k: &Retype, src: &[u8], list: Node<'t>) -> Result<Vec<Edit>, (Node<'t>, Flag)> {
    let mut pairs = Vec::new();
    let mut c = list.walk();
    for n in list
        .named_children(&mut c)
        .filter(|n| n.kind() != "comment")
    {
        pairs.push(pair(k, src, n)?);
    }
    let mut edits = Vec::new();
    let tabbed = pairs
        .iter()
        .any(|p| src[p.field.end_byte()..p.eq.start_byte()].contains(&b'\t'));
    let target = pairs
        .iter()
        .filter_map(|p| {
            let n = p.new.as_ref()?;
            Some(column(src, p.field.start_byte()) + n.len())
        })
        .max()
        .map_or(0, |c| (c / 8 + 1) * 8);
    for p in &pairs {
        let Some(new) = &p.new else {
            edits.push(Edit::delete(removal(src, p.node)));
            continue;
        };
        edits.push(Edit::replace(p.field.byte_range(), new.clone()));
        let gap = p.field.end_byte()..p.eq.start_byte();
        if tabbed && src[gap.clone()].iter().all(|b| *b == b' ' || *b == b'\t') {
            let end = column(src, p.field.start_byte()) + new.len();
            let tabs = (target / 8).saturating_sub(end / 8).max(1);
            edits.push(Edit::replace(gap, "\t".repeat(tabs)));
        }
    }
    Ok(edits)
}

fn pair<'t>(k: &Retype, src: &[u8], n: Node<'t>) -> Result<Pair<'t>, (Node<'t>, Flag)> {
    let unsupported = |why: &str| (n, Flag::new(Code::Unsupported, why.to_string()));
    if n.kind() != "initializer_pair" {
        return Err(unsupported("a member initialized without a designator"));
    }
    let d = n
        .child_by_field_name("designator")
        .filter(|d| d.kind() == "field_designator")
        .ok_or_else(|| unsupported("an array designator"))?;
    let field = d
        .named_child(0)
        .ok_or_else(|| unsupported("an empty designator"))?;
    let mut c = n.walk();
    let eq = n
        .children(&mut c)
        .find(|x| x.kind() == "=")
        .ok_or_else(|| unsupported("a designator without `=`"))?;
    let name = text(src, field);
    let Some((_, new)) = k.members.iter().find(|(o, _)| o.as_bytes() == name) else {
        return Err((
            n,
            Flag::new(
                Code::UnmappedMember,
                format!(
                    "`.{}` has no counterpart in struct {}",
                    String::from_utf8_lossy(name),
                    k.new
                ),
            ),
        ));
    };
    if n.has_error() {
        return Err(unsupported("a member the parser could not read"));
    }
    // A dropped member goes with its line: a comment inside it would go too.
    if new.is_none() && has_comment(n) {
        let why = "a comment inside a dropped member has no place to go";
        return Err((n, Flag::new(Code::Comment, why.to_string())));
    }
    Ok(Pair {
        node: n,
        field,
        eq,
        new: new.clone(),
    })
}

fn has_comment(n: Node) -> bool {
    let mut found = false;
    crate::tree::visit(n, &mut |x| found |= x.kind() == "comment");
    found
}

/// What to delete for a dropped member: its whole line when it stands alone on it (with its
/// comma), else the member, its comma and the blanks after it.
fn removal(src: &[u8], n: Node) -> std::ops::Range<usize> {
    let mut end = n.end_byte();
    while end < src.len() && matches!(src[end], b' ' | b'\t') {
        end += 1;
    }
    if src.get(end) == Some(&b',') {
        end += 1;
    }
    let ls = line_start(src, n.start_byte());
    let le = line_end(src, end);
    let blank =
        |r: std::ops::Range<usize>| src[r].iter().all(|b| matches!(b, b' ' | b'\t' | b'\r'));
    if blank(ls..n.start_byte()) && blank(end..le) {
        return ls..(le + 1).min(src.len());
    }
    while end < src.len() && matches!(src[end], b' ' | b'\t') {
        end += 1;
    }
    n.start_byte()..end
}
