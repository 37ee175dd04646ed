//! The tree's own word on the old struct's members, read before analysis: which members are
//! callbacks (they move to the ops struct) and which are data (they stay). The rule's list of
//! moved fields names the known callbacks; a generation or a vendor may have more (3.x has
//! `pgd_entry`), so the list is extended per file from what the file itself shows, and handed on
//! as an effective rule to the caller analysis and the definition side alike.

use std::collections::{BTreeSet, HashMap};

use tree_sitter::Node;

use super::find::{self, named_children, visit};
use super::model::{Code, Flag};
use crate::kinds::struct_to_ops::rule::{Role, StructToOps};
use crate::parse::{line_of, text};
use crate::tree::declarators;

/// What one member declaration of the old struct is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// A pointer to a function taking `struct OLD *`: moves to the ops struct.
    Callback,
    /// Anything else that is plainly a value: stays in the old struct.
    Data,
}

/// One member declaration: its name (the first one it declares) and what it is.
#[derive(Debug, Clone)]
pub struct Member<'t> {
    pub name: String,
    pub kind: Kind,
    pub node: Node<'t>,
}

/// Classify every member of a `struct OLD { ... }` definition, or say which one cannot be.
pub fn classify<'t>(
    rule: &StructToOps,
    src: &[u8],
    def: Node<'t>,
) -> Result<Vec<Member<'t>>, Flag> {
    let body = def
        .child_by_field_name("body")
        .ok_or_else(|| Flag::new(Code::Unsupported, "struct without a body"))?;
    if is_new(rule, src, def) {
        return Ok(Vec::new());
    }
    let mut root = def;
    while let Some(p) = root.parent() {
        root = p;
    }
    let typedefs = function_typedefs(rule, src, root);
    let mut out = Vec::new();
    for m in named_children(body) {
        let at = line_of(src, m.start_byte());
        if m.kind() != "field_declaration" {
            return Err(Flag::new(
                Code::Unsupported,
                format!(
                    "struct {} holds a {}",
                    rule.old_struct,
                    m.kind().replace('_', " ")
                ),
            )
            .at(at));
        }
        out.push(member(rule, src, m, &typedefs).map_err(|f| f.at(at))?);
    }
    agree_with_rule(rule, &out)?;
    Ok(out)
}

/// A typedef of this file that names a function type: is it a pointer to the function
/// (`typedef int (*cb_t)(...)`), and does the function take a `struct OLD *`?
#[derive(Debug, Clone, Copy)]
struct FnTypedef {
    pointer: bool,
    takes_walk: bool,
}

/// File-scope typedefs of function types and of pointers to them, by name.
fn function_typedefs(rule: &StructToOps, src: &[u8], root: Node) -> HashMap<Vec<u8>, FnTypedef> {
    let mut out = HashMap::new();
    for t in named_children(root) {
        if t.kind() != "type_definition" {
            continue;
        }
        let mut c = t.walk();
        for d in t.children_by_field_name("declarator", &mut c) {
            let Some(d) = declarators::past_pointers(d) else {
                continue; // a returned pointer that declares nothing
            };
            let (Some(inner), Some(params)) = (
                d.child_by_field_name("declarator"),
                d.child_by_field_name("parameters"),
            ) else {
                continue;
            };
            let pointer_name = declarators::pointer_in_parens(inner);
            let (name, pointer) = match pointer_name {
                Some(n) => (n, true),
                None => (inner, false),
            };
            if d.kind() == "function_declarator" && name.kind() == "type_identifier" {
                let takes_walk = takes_old_pointer(rule, src, params);
                out.insert(
                    text(src, name).to_vec(),
                    FnTypedef {
                        pointer,
                        takes_walk,
                    },
                );
            }
        }
    }
    out
}

/// What a member that holds a function is.
enum Shape {
    Callback,
    NotTakingWalk,
    /// Not one pointer to the function (an array of them, a pointer to a pointer).
    NotPlain,
}

/// The shape of a member declared with a function typedef of this file (`cb_t pmd_entry;`,
/// `fn_t *pte_hole;`); `None` when its type is no such typedef.
fn typedef_member(
    m: Node,
    decl: Node,
    typedefs: &HashMap<Vec<u8>, FnTypedef>,
    src: &[u8],
) -> Option<Shape> {
    let ty = m.child_by_field_name("type")?;
    let td = typedefs
        .get(text(src, ty))
        .filter(|_| ty.kind() == "type_identifier")?;
    let plain = |d: Node| d.kind() == "field_identifier";
    let through_one_pointer = if td.pointer {
        plain(decl)
    } else {
        decl.kind() == "pointer_declarator"
            && decl.child_by_field_name("declarator").is_some_and(plain)
    };
    Some(match (through_one_pointer, td.takes_walk) {
        (true, true) => Shape::Callback,
        (true, false) => Shape::NotTakingWalk,
        (false, _) => Shape::NotPlain,
    })
}

fn member<'t>(
    rule: &StructToOps,
    src: &[u8],
    m: Node<'t>,
    typedefs: &HashMap<Vec<u8>, FnTypedef>,
) -> Result<Member<'t>, Flag> {
    let old = &rule.old_struct;
    let mut c = m.walk();
    let decls: Vec<Node> = m.children_by_field_name("declarator", &mut c).collect();
    let Some(first) = decls.first() else {
        return Err(Flag::new(
            Code::UnknownField,
            format!(
                "struct {old} has an anonymous {}: its members cannot be classified",
                m.child_by_field_name("type")
                    .map_or("member", |t| t.kind().trim_end_matches("_specifier"))
            ),
        ));
    };
    let name = field_name(src, *first).unwrap_or_default();
    let holds_function = decls.iter().any(|d| {
        let mut f = false;
        visit(*d, &mut |n| f |= n.kind() == "function_declarator");
        f
    });
    let by_typedef = typedef_member(m, *first, typedefs, src);
    if !holds_function && by_typedef.is_none() {
        return Ok(Member {
            name,
            kind: Kind::Data,
            node: m,
        });
    }
    if decls.len() > 1 {
        return Err(Flag::new(
            Code::UnknownField,
            format!(
                "struct {old} declares function pointers together with `{name}`: one line cannot be split between two structs"
            ),
        ));
    }
    let shape = by_typedef.unwrap_or_else(|| match function_pointer(*first) {
        None => Shape::NotPlain,
        Some(params) if takes_old_pointer(rule, src, params) => Shape::Callback,
        Some(_) => Shape::NotTakingWalk,
    });
    let why = match shape {
        Shape::Callback => {
            return Ok(Member {
                name,
                kind: Kind::Callback,
                node: m,
            });
        }
        Shape::NotTakingWalk => format!(
            "is a function pointer that does not take a `struct {old} *`: neither a callback nor data"
        ),
        Shape::NotPlain => "is not a plain function pointer: it cannot be classified".to_string(),
    };
    Err(Flag::new(
        Code::UnknownField,
        format!("member `{name}` of struct {old} {why}"),
    ))
}

/// The rule's roles must not contradict the tree: a known callback that is data here, or a
/// field the new entry points pass that is a callback here (or missing), cannot be converted.
fn agree_with_rule(rule: &StructToOps, members: &[Member]) -> Result<(), Flag> {
    let old = &rule.old_struct;
    for m in members {
        let role = rule.field(&m.name).map(|f| rule.fields[f].role);
        let clash = match (role, &m.kind) {
            (Some(Role::Moved), Kind::Data) => {
                Some("a data member, where the rule expects a callback")
            }
            (Some(Role::Argument | Role::Dropped), Kind::Callback) => {
                Some("a callback, where the rule expects data")
            }
            _ => None,
        };
        if let Some(what) = clash {
            return Err(Flag::new(
                Code::UnknownField,
                format!("member `{}` of struct {old} is {what}", m.name),
            ));
        }
    }
    let passed = rule
        .entries
        .iter()
        .flat_map(|e| &e.new_args)
        .filter_map(|a| match a {
            crate::kinds::struct_to_ops::rule::NewArg::Field(f) => Some(&rule.fields[*f].name),
            _ => None,
        });
    for name in passed {
        if !members.iter().any(|m| &m.name == name) {
            return Err(Flag::new(
                Code::MissingField,
                format!("struct {old} has no member `{name}`, which the new entry points pass"),
            ));
        }
    }
    Ok(())
}

/// Does the struct already have a member only the new struct has (`ops`)? Then it is the new
/// API's struct, whatever else it holds.
pub fn is_new(rule: &StructToOps, src: &[u8], def: Node) -> bool {
    let Some(body) = def.child_by_field_name("body") else {
        return false;
    };
    named_children(body).iter().any(|m| {
        let mut c = m.walk();
        let mut decls = m.children_by_field_name("declarator", &mut c);
        decls.any(|d| field_name(src, d).is_some_and(|n| rule.is_new_only(&n)))
    })
}

/// The field name a member declarator declares.
fn field_name(src: &[u8], d: Node) -> Option<String> {
    let mut name = None;
    visit(d, &mut |n| {
        if name.is_none() && n.kind() == "field_identifier" {
            name = Some(String::from_utf8_lossy(text(src, n)).into_owned());
        }
    });
    name
}

/// `(*name)(params)`, maybe returning a pointer: the parameter list. Arrays of function
/// pointers, pointers to them and the like are not plain function pointers.
fn function_pointer<'t>(d: Node<'t>) -> Option<Node<'t>> {
    let d = declarators::past_pointers(d)?; // a returned pointer
    if d.kind() != "function_declarator" {
        return None;
    }
    let id = declarators::pointer_in_parens(d.child_by_field_name("declarator")?)?;
    (id.kind() == "field_identifier").then(|| d.child_by_field_name("parameters"))?
}

/// Does a parameter list take a `struct OLD *`?
fn takes_old_pointer(rule: &StructToOps, src: &[u8], params: Node) -> bool {
    named_children(params).iter().any(|p| {
        p.kind() == "parameter_declaration"
            && p.child_by_field_name("type").is_some_and(|t| {
                t.kind() == "struct_specifier"
                    && t.child_by_field_name("name")
                        .is_some_and(|n| text(src, n) == rule.old_struct.as_bytes())
            })
            && p.child_by_field_name("declarator").is_some_and(|d| {
                matches!(
                    d.kind(),
                    "pointer_declarator" | "abstract_pointer_declarator"
                )
            })
    })
}

/// `struct OLD { ... }` at file scope (outside functions), the last one if several.
pub fn definition<'t>(rule: &StructToOps, src: &[u8], root: Node<'t>) -> Option<Node<'t>> {
    let mut found = None;
    let mut c = root.walk();
    for top in root.children(&mut c) {
        let mut stack = vec![top];
        while let Some(n) = stack.pop() {
            if n.kind() == "function_definition" {
                continue;
            }
            if n.kind() == "struct_specifier"
                && n.child_by_field_name("body").is_some()
                && n.child_by_field_name("name")
                    .is_some_and(|t| text(src, t) == rule.old_struct.as_bytes())
            {
                found = Some(n);
            }
            let mut c2 = n.walk();
            stack.extend(n.children(&mut c2));
        }
    }
    found
}

/// Callbacks this file shows beyond the rule's list. Where the file defines the struct, its
/// definition decides. Elsewhere a member is a callback when the file calls it through a walk
/// pointer with the walk as an argument (`walk->pgd_entry(pgd, addr, next, walk)`, the
/// implementation side), or when a walk stores in it a function the file sees, its own or one
/// its headers declare (`.pgd_entry = my_pgd`, the caller side). The definition side blocks on
/// any function pointer member that is not such a callback, so a function stored in a member
/// means a callback; where the definition disagrees all the same (a `void *` member, or one
/// typed with another header's function-pointer typedef), the run sees it, since each file
/// reports the callbacks it assumed. A member stored anything else (a vendor's data member) is
/// not a callback here, and the caller analysis flags the store.
pub fn extra_callbacks(
    rule: &StructToOps,
    src: &[u8],
    root: Node,
    is_function: &dyn Fn(&[u8]) -> bool,
) -> BTreeSet<String> {
    let unknown = |n: &str| rule.field(n).is_none() && !rule.is_new_only(n);
    if let Some(def) = definition(rule, src, root) {
        return classify(rule, src, def)
            .map(|ms| {
                ms.into_iter()
                    .filter(|m| m.kind == Kind::Callback && unknown(&m.name))
                    .map(|m| m.name)
                    .collect()
            })
            .unwrap_or_default();
    }
    let mut out = BTreeSet::new();
    // Whether a value is a function may mean reading the file's headers: asked last, only
    // for a store of a member the rule does not know into an old-struct walk.
    let is_function = |f: &str, value: &[u8]| unknown(f) && is_function(value);
    visit(root, &mut |n| {
        let found = match n.kind() {
            "initializer_pair" => stored_function(rule, src, n, &is_function),
            "assignment_expression" => assigned_function(rule, src, n, &is_function),
            "call_expression" => called_with_walk(rule, src, n).filter(|f| unknown(f)),
            _ => None,
        };
        if let Some(f) = found {
            out.insert(f);
        }
    });
    out
}

/// `.X = fn` in the initializer of a `struct OLD` local; `is_function(X, fn)` is asked last.
fn stored_function(
    rule: &StructToOps,
    src: &[u8],
    pair: Node,
    is_function: &dyn Fn(&str, &[u8]) -> bool,
) -> Option<String> {
    let value = find::unparen(pair.child_by_field_name("value")?);
    if value.kind() != "identifier" {
        return None;
    }
    let decl = pair.parent()?.parent()?.parent()?; // initializer_list, init_declarator
    let ty = decl.child_by_field_name("type")?;
    let of_old = decl.kind() == "declaration"
        && ty.kind() == "struct_specifier"
        && ty
            .child_by_field_name("name")
            .is_some_and(|t| text(src, t) == rule.old_struct.as_bytes());
    let field = pair.child_by_field_name("designator")?.named_child(0)?;
    let field = String::from_utf8_lossy(text(src, field)).into_owned();
    (of_old && is_function(&field, text(src, value))).then_some(field)
}

/// `w.X = fn;` with `w` a local `struct OLD` of the enclosing function; `is_function(X, fn)`
/// is asked last.
fn assigned_function(
    rule: &StructToOps,
    src: &[u8],
    a: Node,
    is_function: &dyn Fn(&str, &[u8]) -> bool,
) -> Option<String> {
    let value = find::unparen(a.child_by_field_name("right")?);
    if value.kind() != "identifier" {
        return None;
    }
    let left = find::unparen(a.child_by_field_name("left")?);
    let walk = left.child_by_field_name("argument")?;
    let dot = left.child_by_field_name("operator").map(|o| text(src, o)) == Some(b".");
    if left.kind() != "field_expression" || !dot || walk.kind() != "identifier" {
        return None;
    }
    let field = String::from_utf8_lossy(text(src, left.child_by_field_name("field")?));
    let mut f = a.parent()?;
    while f.kind() != "function_definition" {
        f = f.parent()?;
    }
    let body = f.child_by_field_name("body")?;
    let (walks, _) = find::walks(rule, src, body);
    let of_old = walks
        .iter()
        .any(|w| w.name.as_bytes() == text(src, walk) && w.scope.contains(&a.start_byte()));
    (of_old && is_function(&field, text(src, value))).then(|| field.into_owned())
}

/// `p->X(..., p, ...)` with `p` declared `struct OLD *` in the enclosing function.
fn called_with_walk(rule: &StructToOps, src: &[u8], call: Node) -> Option<String> {
    let callee = call.child_by_field_name("function")?;
    let p = callee.child_by_field_name("argument")?;
    let arrow = callee.child_by_field_name("operator").map(|o| text(src, o)) == Some(b"->");
    if callee.kind() != "field_expression" || !arrow || p.kind() != "identifier" {
        return None;
    }
    let passes = named_children(call.child_by_field_name("arguments")?)
        .iter()
        .map(|a| find::unparen(*a))
        .any(|a| a.kind() == "identifier" && text(src, a) == text(src, p));
    if !passes {
        return None;
    }
    let mut f = call.parent()?;
    while f.kind() != "function_definition" {
        f = f.parent()?;
    }
    let pointer = super::provider::walk_pointers(rule, src, f)
        .iter()
        .any(|w| w.as_bytes() == text(src, p));
    pointer.then(|| {
        callee
            .child_by_field_name("field")
            .map(|x| String::from_utf8_lossy(text(src, x)).into_owned())
    })?
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn rule() -> StructToOps {
        let bundled = crate::rule::bundled().unwrap();
        StructToOps::of(&bundled[0]).unwrap().clone()
    }

    fn parsed(src: &str) -> crate::parse::Parsed {
        crate::parse::parse(src.as_bytes(), Duration::from_secs(5)).unwrap()
    }

    /// The classification of `struct mm_walk { MEMBERS struct mm_struct *mm; void *private; }`.
    fn kinds(members: &str) -> Result<Vec<(String, Kind)>, String> {
        let src = format!(
            "struct mm_walk {{\n{members}\n\tstruct mm_struct *mm;\n\tvoid *private;\n}};\n"
        );
        let p = parsed(&src);
        let (r, s) = (rule(), src.as_bytes());
        let def = definition(&r, s, p.tree.root_node()).expect("definition");
        classify(&r, s, def)
            .map(|ms| ms.into_iter().map(|m| (m.name, m.kind)).collect())
            .map_err(|f| format!("{}: {}", f.code, f.why))
    }

    #[test]
    fn callbacks_are_the_function_pointers_taking_the_walk() {
        let got = kinds(
            "\tint (*pgd_entry)(pgd_t *pgd, unsigned long a, unsigned long n, struct mm_walk *walk);\n\
             \tvoid *(*lookup)(unsigned long, struct mm_walk *);\n\
             \tunsigned int huge_only : 1;\n\
             \tstruct { int depth; } state;\n\
             \tunsigned long a, b;",
        )
        .unwrap();
        let want = [
            ("pgd_entry", Kind::Callback),
            ("lookup", Kind::Callback),
            ("huge_only", Kind::Data),
            ("state", Kind::Data),
            ("a", Kind::Data),
            ("mm", Kind::Data),
            ("private", Kind::Data),
        ];
        let want: Vec<(String, Kind)> = want
            .iter()
            .map(|(n, k)| (n.to_string(), k.clone()))
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn members_that_are_neither_block_with_their_name() {
        for (members, name) in [
            ("\tvoid (*release)(void *private);", "`release`"),
            ("\tint (*hooks[2])(struct mm_walk *walk);", "`hooks`"),
            (
                "\tint (*a)(struct mm_walk *), (*b)(struct mm_walk *);",
                "`a`",
            ),
            ("\tunion { void *p; long l; };", "anonymous union"),
            (
                "\tint (*mm_cb)(struct mm_walk *walk);\n\tint (*private_cb)(struct mm_walk *w);",
                "",
            ),
        ] {
            let got = kinds(members);
            if name.is_empty() {
                assert!(got.is_ok(), "{members}: {got:?}");
            } else {
                let why = got.expect_err(members);
                assert!(
                    why.starts_with("unknown-field") && why.contains(name),
                    "{why}"
                );
            }
        }
    }

    #[test]
    fn callbacks_declared_with_a_typedef_of_the_file() {
        let src = "typedef int (*walk_cb)(pmd_t *pmd, struct mm_walk *walk);\n\
                   typedef int walk_fn(unsigned long a, struct mm_walk *walk);\n\
                   typedef void (*release_cb)(void *p);\n\
                   typedef unsigned long cookie_t;\n\
                   struct mm_walk {\n\tMEMBER\n\tstruct mm_struct *mm;\n\tvoid *private;\n};\n";
        let kind = |member: &str| {
            let src = src.replace("MEMBER", member);
            let p = parsed(&src);
            let r = rule();
            let def = definition(&r, src.as_bytes(), p.tree.root_node()).unwrap();
            classify(&r, src.as_bytes(), def)
                .map(|ms| ms[0].kind.clone())
                .map_err(|f| f.why)
        };
        assert_eq!(kind("walk_cb pmd_split;"), Ok(Kind::Callback));
        assert_eq!(kind("walk_fn *pte_check;"), Ok(Kind::Callback));
        assert_eq!(kind("cookie_t cookie;"), Ok(Kind::Data));
        assert!(
            kind("release_cb release;")
                .unwrap_err()
                .contains("does not take")
        );
        assert!(
            kind("walk_cb hooks[2];")
                .unwrap_err()
                .contains("not a plain")
        );
        assert!(kind("walk_fn **pp;").unwrap_err().contains("not a plain"));
    }

    #[test]
    fn the_rule_and_the_tree_must_agree() {
        let src = "struct mm_walk {\n\tint (*mm)(struct mm_walk *walk);\n\tvoid *private;\n};\n";
        let p = parsed(src);
        let r = rule();
        let def = definition(&r, src.as_bytes(), p.tree.root_node()).unwrap();
        let f = classify(&r, src.as_bytes(), def).unwrap_err();
        assert!(
            f.why.contains("member `mm`") && f.why.contains("a callback"),
            "{}",
            f.why
        );
        let src = "struct mm_walk {\n\tint (*pte_entry)(struct mm_walk *walk);\n\tstruct mm_struct *mm;\n};\n";
        let p = parsed(src);
        let def = definition(&r, src.as_bytes(), p.tree.root_node()).unwrap();
        let f = classify(&r, src.as_bytes(), def).unwrap_err();
        assert_eq!(f.code, Code::MissingField);
        assert!(f.why.contains("`private`"), "{}", f.why);
    }

    fn extra(src: &str) -> Vec<String> {
        let p = parsed(src);
        let functions = find::file_functions(src.as_bytes(), p.tree.root_node());
        let is_function = |n: &[u8]| functions.contains_key(n);
        extra_callbacks(&rule(), src.as_bytes(), p.tree.root_node(), &is_function)
            .into_iter()
            .collect()
    }

    #[test]
    fn a_caller_shows_a_callback_by_storing_a_function_of_its_own() {
        let head = "static int f(pgd_t *p, unsigned long a, unsigned long n, struct mm_walk *w) { return 0; }\n";
        let init = "void g(void)\n{\n\tstruct mm_walk w = { .pgd_entry = f, .vendor = 1, .cookie = NULL };\n}\n";
        assert_eq!(extra(&format!("{head}{init}")), ["pgd_entry"]);
        let store = "void g(void)\n{\n\tstruct mm_walk w = {};\n\tstruct other o;\n\n\tw.p4d_entry = f;\n\to.q = f;\n\tw.flags = 2;\n}\n";
        assert_eq!(extra(&format!("{head}{store}")), ["p4d_entry"]);
        // Not a walk, or not a function of this file: nothing.
        let other = "void g(void)\n{\n\tstruct other o = { .pgd_entry = f };\n\tstruct mm_walk w = { .x = h };\n}\n";
        assert!(extra(&format!("{head}{other}")).is_empty());
    }

    #[test]
    fn only_a_store_of_an_unknown_member_into_a_walk_asks_whether_a_value_is_a_function() {
        // Asking may read and parse every header the file includes: a listed member, a store
        // into another struct, or a value that is not a name must not ask.
        let src = "void g(void)\n{\n\tstruct mm_walk w = { .pmd_entry = f, .mm = mm };\n\tstruct other o = { .count = N };\n\n\to.count = m;\n\tw.private = p;\n\tw.vendor = 3;\n\tw.pgd_entry = h;\n}\n";
        let p = parsed(src);
        let asked = std::cell::RefCell::new(Vec::new());
        let is_function = |n: &[u8]| {
            asked
                .borrow_mut()
                .push(String::from_utf8_lossy(n).into_owned());
            false
        };
        extra_callbacks(&rule(), src.as_bytes(), p.tree.root_node(), &is_function);
        assert_eq!(asked.into_inner(), ["h"]);
    }

    #[test]
    fn an_implementation_shows_a_callback_by_calling_it_with_the_walk() {
        let src = "static int r(unsigned long a, struct mm_walk *walk)\n{\n\tif (walk->pgd_entry)\n\t\treturn walk->pgd_entry(NULL, a, a, walk);\n\treturn walk->cleanup(walk->private);\n}\n";
        assert_eq!(extra(src), ["pgd_entry"]);
    }

    #[test]
    fn where_the_struct_is_defined_it_alone_decides() {
        let src = "struct mm_walk {\n\tint (*pgd_entry)(struct mm_walk *walk);\n\tvoid *cookie;\n\tstruct mm_struct *mm;\n\tvoid *private;\n};\n\
                   static int f(struct mm_walk *w) { return 0; }\n\
                   void g(void)\n{\n\tstruct mm_walk w = { .cookie = f };\n}\n";
        assert_eq!(extra(src), ["pgd_entry"]);
    }
}
