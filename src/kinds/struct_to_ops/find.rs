//! Finding: the functions of a file that hold old-API sites, the local walks in them, and
//! the classification of every use of each walk's name (or the escape that stops it).

use std::collections::HashMap;
use std::ops::Range;

use tree_sitter::Node;

use super::model::{Code, Flag, Use, Verdict};
use crate::kinds::struct_to_ops::rule::StructToOps;
use crate::parse::text;

/// An entry-point call with the old arity.
#[derive(Debug, Clone)]
pub struct Call<'t> {
    pub node: Node<'t>,
    pub entry: usize,
    pub args: Vec<Node<'t>>,
}

/// A local variable of the old struct type.
#[derive(Debug, Clone)]
pub struct Walk<'t> {
    pub name: String,
    /// The whole declaration statement.
    pub decl: Node<'t>,
    /// The initializer list, if any (`= { ... }`, `= {}`, `= { 0 }`).
    pub init: Option<Node<'t>>,
    /// Where the name is visible: the rest of the enclosing block (less inner blocks that
    /// declare the name again: see `analyse::Scopes`).
    pub scope: Range<usize>,
    /// Offset of the declared name.
    pub ident: usize,
}

/// Strip parentheses around an expression.
pub fn unparen(mut n: Node) -> Node {
    while n.kind() == "parenthesized_expression" && n.named_child_count() == 1 {
        n = n.named_child(0).unwrap();
    }
    n
}

/// Calls of the rule's entry points with their old arity, in `root`.
pub fn entry_calls<'t>(
    rule: &StructToOps,
    src: &[u8],
    root: Node<'t>,
    skip: &[usize],
) -> Vec<Call<'t>> {
    let mut out = Vec::new();
    for (entry, e) in rule.entries.iter().enumerate() {
        if skip.contains(&entry) {
            continue;
        }
        for (call, list) in calls_of(src, root, &e.name) {
            let args = named_children(list);
            if args.len() == e.old_arity {
                out.push(Call {
                    node: call,
                    entry,
                    args,
                });
            }
        }
    }
    out.sort_by_key(|c| c.node.start_byte());
    out
}

use crate::tree::calls::calls_of;
pub use crate::tree::calls::{idents_named, named_children};
pub use crate::tree::{function_name, visit};

/// Declarations of local walks (`struct OLD name [= init];`) in `body`. A declaration of the old
/// struct that is not a plain local (array, several declarators) is returned as a flag with its
/// line offset.
pub fn walks<'t>(
    rule: &StructToOps,
    src: &[u8],
    body: Node<'t>,
) -> (Vec<Walk<'t>>, Vec<(usize, Flag)>) {
    let mut walks = Vec::new();
    let mut flags = Vec::new();
    visit(body, &mut |n| {
        if n.kind() != "declaration" {
            return;
        }
        let Some(ty) = n.child_by_field_name("type") else {
            return;
        };
        if ty.kind() != "struct_specifier" {
            return;
        }
        let Some(tag) = ty.child_by_field_name("name") else {
            return;
        };
        if text(src, tag) != rule.old_struct.as_bytes() || ty.child_by_field_name("body").is_some()
        {
            return;
        }
        let mut c = n.walk();
        let decls: Vec<Node> = n.children_by_field_name("declarator", &mut c).collect();
        let locals: Vec<(Node, Option<Node>)> = decls
            .iter()
            .filter_map(|d| match d.kind() {
                "identifier" => Some((*d, None)),
                "init_declarator" => {
                    let id = d.child_by_field_name("declarator")?;
                    (id.kind() == "identifier").then(|| (id, d.child_by_field_name("value")))
                }
                _ => None,
            })
            .collect();
        let plain_pointers = decls.iter().all(|d| {
            let d = if d.kind() == "init_declarator" {
                d.child_by_field_name("declarator").unwrap_or(*d)
            } else {
                *d
            };
            d.kind() == "pointer_declarator"
        });
        if plain_pointers {
            return; // pointers to walks are not walks
        }
        if locals.len() != 1 || decls.len() != 1 {
            flags.push((
                n.start_byte(),
                Flag::new(
                    Code::Unsupported,
                    format!(
                        "declaration of `struct {}` that is not one plain local",
                        rule.old_struct
                    ),
                ),
            ));
            return;
        }
        let (ident, init) = locals[0];
        if let Some(v) = init
            && v.kind() != "initializer_list"
        {
            flags.push((
                n.start_byte(),
                Flag::new(Code::Escape, "walk initialised by copying another struct"),
            ));
            return;
        }
        let block = n.parent().filter(|p| p.kind() == "compound_statement");
        let Some(block) = block else {
            flags.push((
                n.start_byte(),
                Flag::new(Code::Unsupported, "walk declared outside a block"),
            ));
            return;
        };
        walks.push(Walk {
            name: String::from_utf8_lossy(text(src, ident)).into_owned(),
            decl: n,
            init,
            scope: n.end_byte()..block.end_byte(),
            ident: ident.start_byte(),
        });
    });
    (walks, flags)
}

/// Classify one occurrence of a walk's name. `calls` are the function's entry-point calls.
pub fn classify<'t>(
    rule: &StructToOps,
    src: &[u8],
    id: Node<'t>,
    calls: &[Call<'t>],
) -> Verdict<Use> {
    let up = |n: Node<'t>| {
        let mut p = n.parent();
        while let Some(x) = p {
            if x.kind() != "parenthesized_expression" {
                break;
            }
            p = x.parent();
        }
        p
    };
    let escape = |what: &str| {
        Flag::new(
            Code::Escape,
            format!("walk `{}` {what}", String::from_utf8_lossy(text(src, id))),
        )
    };
    let parent = up(id).ok_or_else(|| escape("used outside any expression"))?;
    match parent.kind() {
        "field_expression" => {
            let op = parent
                .child_by_field_name("operator")
                .map(|o| text(src, o))
                .unwrap_or(b"");
            if op != b"." {
                return Err(escape("used as a pointer"));
            }
            let field = parent
                .child_by_field_name("field")
                .map(|f| String::from_utf8_lossy(text(src, f)).into_owned())
                .unwrap_or_default();
            let outer = up(parent);
            if let Some(a) = outer.filter(|a| a.kind() == "assignment_expression")
                && a.child_by_field_name("left").map(unparen) == Some(parent)
            {
                let op = a
                    .child_by_field_name("operator")
                    .map(|o| text(src, o))
                    .unwrap_or(b"");
                let stmt = a.parent().filter(|s| s.kind() == "expression_statement");
                return match (op, stmt) {
                    (b"=", Some(stmt)) => {
                        let value = a
                            .child_by_field_name("right")
                            .ok_or_else(|| escape("stored from nothing"))?;
                        Ok(Use::Store {
                            field,
                            value: value.byte_range(),
                            stmt: stmt.byte_range(),
                        })
                    }
                    (b"=", None) => Err(Flag::new(
                        Code::Unsupported,
                        format!("store to `.{field}` inside an expression"),
                    )),
                    _ => Err(Flag::new(
                        Code::Unsupported,
                        format!("compound assignment to `.{field}`"),
                    )),
                };
            }
            if let Some(o) = outer {
                let writes = match o.kind() {
                    "update_expression" => true,
                    "pointer_expression" => {
                        o.child_by_field_name("operator").map(|x| text(src, x)) == Some(b"&")
                    }
                    _ => false,
                };
                if writes {
                    return Err(escape(&format!(
                        "has the address of `.{field}` taken or updated"
                    )));
                }
            }
            Ok(Use::Read {
                field,
                expr: parent.byte_range(),
            })
        }
        "pointer_expression"
            if parent.child_by_field_name("operator").map(|o| text(src, o)) == Some(b"&") =>
        {
            let arg = parent;
            let list = up(arg).filter(|l| l.kind() == "argument_list");
            let call = list
                .and_then(|l| l.parent())
                .filter(|c| c.kind() == "call_expression");
            if let Some(call) = call {
                if let Some(i) = calls.iter().position(|c| c.node == call) {
                    let c = &calls[i];
                    if unparen(c.args[rule.entries[c.entry].walk_index]) == arg {
                        return Ok(Use::Call { call: i });
                    }
                    return Err(escape("is passed in the wrong argument position"));
                }
                let f = call
                    .child_by_field_name("function")
                    .map(|f| text(src, f))
                    .unwrap_or(b"");
                if f == b"memset"
                    && is_zeroing(src, call)
                    && let Some(stmt) = call.parent().filter(|s| s.kind() == "expression_statement")
                {
                    return Ok(Use::Zero {
                        stmt: stmt.byte_range(),
                    });
                }
                return Err(escape(&format!(
                    "is passed to {}()",
                    String::from_utf8_lossy(f)
                )));
            }
            Err(escape("has its address taken"))
        }
        "sizeof_expression" => Ok(Use::Sizeof),
        "init_declarator" | "declaration" => Ok(Use::Decl),
        "assignment_expression" => Err(escape("is assigned or copied as a whole")),
        "return_statement" => Err(escape("is returned")),
        _ => Err(escape(&format!(
            "is used as a whole ({})",
            parent.kind().replace('_', " ")
        ))),
    }
}

fn is_zeroing(src: &[u8], call: Node) -> bool {
    let Some(list) = call.child_by_field_name("arguments") else {
        return false;
    };
    let args = named_children(list);
    args.len() == 3
        && text(src, unparen(args[1])) == b"0"
        && unparen(args[2]).kind() == "sizeof_expression"
}

/// Names declared as functions at file scope, with the offset of their first declaration.
pub fn file_functions(src: &[u8], root: Node) -> HashMap<Vec<u8>, usize> {
    let mut out: HashMap<Vec<u8>, usize> = HashMap::new();
    let mut c = root.walk();
    for top in root.children(&mut c) {
        let decls: Vec<Node> = match top.kind() {
            "function_definition" => top.child_by_field_name("declarator").into_iter().collect(),
            "declaration" => {
                let mut c2 = top.walk();
                top.children_by_field_name("declarator", &mut c2).collect()
            }
            _ => continue,
        };
        for d in decls {
            if let Some(name) = function_name(src, d) {
                out.entry(name.to_vec()).or_insert(top.start_byte());
            }
        }
    }
    out
}
