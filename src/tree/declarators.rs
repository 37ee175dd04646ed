//! Walking C declarators, for every kind: from a declaration's declarator down through the
//! pointers, arrays, parentheses and initializers around it to the name it declares, or to
//! the function declarator it holds.

use tree_sitter::Node;

use crate::parse::text;

/// The declarator inside a wrapping one (`*d`, `d = v`, `(d)`, `d[n]`, `d(params)`).
fn inner(d: Node) -> Option<Node> {
    d.child_by_field_name("declarator")
        .or_else(|| d.named_child(0))
}

/// Down from `d` through the declarator kinds in `through` to the first node that is not one
/// of them.
fn down<'t>(mut d: Node<'t>, through: &[&str]) -> Option<Node<'t>> {
    while through.contains(&d.kind()) {
        d = inner(d)?;
    }
    Some(d)
}

/// The identifier a declarator declares (through pointers, arrays, functions, initializers).
pub fn declared_name(d: Node) -> Option<Node> {
    const THROUGH: &[&str] = &[
        "function_declarator",
        "pointer_declarator",
        "init_declarator",
        "array_declarator",
        "parenthesized_declarator",
        "attributed_declarator",
    ];
    down(d, THROUGH).filter(|n| n.kind() == "identifier")
}

/// The `function_declarator` inside a declarator, if it declares a function (the declarator
/// of a function definition, or of a prototype, maybe returning a pointer).
pub fn function_declarator(d: Node) -> Option<Node> {
    const THROUGH: &[&str] = &[
        "pointer_declarator",
        "attributed_declarator",
        "init_declarator",
    ];
    down(d, THROUGH).filter(|n| n.kind() == "function_declarator")
}

/// The name a (possibly pointer-returning) function declarator declares: a plain name, not
/// `(*fp)(...)`.
pub fn function_name<'a>(src: &'a [u8], d: Node) -> Option<&'a [u8]> {
    const THROUGH: &[&str] = &[
        "pointer_declarator",
        "init_declarator",
        "parenthesized_declarator",
        "attributed_declarator",
    ];
    let f = down(d, THROUGH).filter(|n| n.kind() == "function_declarator")?;
    let name = f.child_by_field_name("declarator")?;
    (name.kind() == "identifier").then(|| text(src, name))
}

/// `d` without the pointers a function returns (`*f(...)`, `**f(...)`).
pub fn past_pointers(mut d: Node) -> Option<Node> {
    while d.kind() == "pointer_declarator" {
        d = d.child_by_field_name("declarator")?;
    }
    Some(d)
}

/// `name` in `(*name)`: the declarator of a function pointer's pointer, given the declarator
/// of its function declarator.
pub fn pointer_in_parens(inner: Node) -> Option<Node> {
    (inner.kind() == "parenthesized_declarator")
        .then(|| inner.named_child(0))
        .flatten()
        .filter(|p| p.kind() == "pointer_declarator")
        .and_then(|p| p.child_by_field_name("declarator"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// The declarator of each top-level declaration or definition of `src`.
    fn declarators(src: &str, f: impl Fn(&[u8], Node) -> Option<String>) -> Vec<Option<String>> {
        let p = crate::parse::parse(src.as_bytes(), Duration::from_secs(5)).unwrap();
        let root = p.tree.root_node();
        let mut c = root.walk();
        root.named_children(&mut c)
            .map(|n| f(src.as_bytes(), n.child_by_field_name("declarator").unwrap()))
            .collect()
    }

    fn shown(src: &[u8], n: Option<Node>) -> Option<String> {
        n.map(|n| String::from_utf8_lossy(text(src, n)).into_owned())
    }

    const SRC: &str = "int a;\nint *b[4] = { 0 };\nchar **c(void);\nint (*d)(int);\n\
        static int e(int x)\n{\n\treturn x;\n}\nint (f)(void);\n";

    #[test]
    fn declared_names_through_every_wrapper() {
        let got = declarators(SRC, |s, d| shown(s, declared_name(d)));
        let want = ["a", "b", "c", "d", "e", "f"].map(|x| Some(x.to_string()));
        assert_eq!(got, want);
    }

    #[test]
    fn function_declarators_and_names_of_functions_only() {
        let got = declarators(SRC, |s, d| shown(s, function_declarator(d)));
        let want = [
            None,
            None,
            Some("c(void)"),
            Some("(*d)(int)"),
            Some("e(int x)"),
            Some("(f)(void)"),
        ];
        assert_eq!(got, want.map(|w| w.map(String::from)));
        // A function pointer declares no function; `(f)` is a name in parentheses.
        let names = declarators(SRC, |s, d| {
            function_name(s, d).map(|n| String::from_utf8_lossy(n).into_owned())
        });
        let want = [None, None, Some("c"), None, Some("e"), None];
        assert_eq!(names, want.map(|w| w.map(String::from)));
    }

    #[test]
    fn pointers_returned_and_the_pointer_of_a_function_pointer() {
        let got = declarators(SRC, |s, d| {
            let f = past_pointers(d)?;
            let name = f.child_by_field_name("declarator")?;
            Some(format!(
                "{} {:?}",
                f.kind(),
                shown(s, pointer_in_parens(name))
            ))
        });
        assert_eq!(got[2].as_deref(), Some("function_declarator None"));
        assert_eq!(got[3].as_deref(), Some("function_declarator Some(\"d\")"));
    }
}
