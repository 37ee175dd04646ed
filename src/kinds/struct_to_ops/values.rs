//! The values fields hold where a walk reaches its call: a store's definition resolved to a
//! constant callback (a function designator or NULL) or to one side-effect-free argument
//! expression, with the names in scope at each point.

use std::collections::BTreeSet;
use std::ops::Range;

use tree_sitter::Node;

use super::analyse::*;
use super::find::{unparen, visit};
use super::flow::{CLOBBER, DEFAULT, FIRST_DEF, State, UNDEF};
use super::model::{Code, Flag, Verdict};
use crate::kinds::struct_to_ops::rule::Role;
use crate::parse::text;

/// One value a field may hold at an event, resolved from its definition.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Value {
    Null,
    Text(String),
}

pub(super) struct Def<'t> {
    pub(super) node: Node<'t>,
    /// No calls, assignments or statement expressions: safe to evaluate at the call instead.
    pub(super) pure: bool,
}

pub(super) fn def(node: Node) -> Def {
    let mut pure = true;
    visit(node, &mut |n| {
        if matches!(
            n.kind(),
            "call_expression"
                | "assignment_expression"
                | "update_expression"
                | "compound_statement"
        ) {
            pure = false;
        }
    });
    Def { node, pure }
}

/// Identifiers a value reads (an identifier whose address is taken is not read).
pub(super) fn reads_of(src: &[u8], node: Node) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    visit(node, &mut |n| {
        if n.kind() != "identifier" {
            return;
        }
        let addr = n.parent().is_some_and(|p| {
            p.kind() == "pointer_expression"
                && p.child_by_field_name("operator").map(|o| text(src, o)) == Some(b"&")
        });
        if !addr {
            out.push(text(src, n).to_vec());
        }
    });
    out
}

/// The function a callback value designates: `fn`, `&fn` or `(fn)`. A cast, a call or any other
/// expression designates none (a cast of a function is rare enough to be left to a human).
pub(super) fn designated_function(value: Node) -> Option<Node> {
    let mut n = unparen(value);
    if n.kind() == "pointer_expression" && n.child(0).is_some_and(|o| o.kind() == "&") {
        n = unparen(n.child_by_field_name("argument")?);
    }
    (n.kind() == "identifier").then_some(n)
}

pub(super) fn is_primary(v: &str) -> bool {
    v.bytes()
        .all(|b| b == b'_' || b.is_ascii_alphanumeric() || b == b'>' || b == b'-' || b == b'.')
}

pub(super) struct Resolver<'a, 't> {
    pub(super) ctx: &'a FileCtx<'t>,
    pub(super) defs: &'a [Def<'t>],
    pub(super) insert_at: usize,
    pub(super) scopes: Scopes,
}

/// Where each local name of a function is visible: (name, declaration offset, scope).
pub(super) struct Scopes {
    pub(super) decls: Vec<(Vec<u8>, usize, Range<usize>)>,
}

impl Scopes {
    pub(super) fn of(src: &[u8], f: Node) -> Scopes {
        let mut decls = Vec::new();
        let whole = f.byte_range();
        visit(f, &mut |n| {
            let scope = match n.kind() {
                "parameter_declaration" => whole.clone(),
                "declaration" => match n.parent() {
                    Some(p) if p.kind() == "for_statement" => p.byte_range(),
                    Some(p) => n.start_byte()..p.end_byte(),
                    None => return,
                },
                _ => return,
            };
            let mut c = n.walk();
            for d in n.children_by_field_name("declarator", &mut c) {
                let mut id = None;
                visit(d, &mut |x| {
                    if id.is_none() && x.kind() == "identifier" {
                        id = Some(x);
                    }
                });
                if let Some(id) = id {
                    decls.push((text(src, id).to_vec(), id.start_byte(), scope.clone()));
                }
            }
        });
        Scopes { decls }
    }

    /// The declaration of `name` that `offset` sees (None: not a local, file scope).
    pub(super) fn visible(&self, name: &[u8], offset: usize) -> Option<usize> {
        self.decls
            .iter()
            .filter(|(n, at, scope)| n == name && scope.contains(&offset) && *at <= offset)
            .min_by_key(|(_, _, scope)| scope.len())
            .map(|(_, at, _)| *at)
    }

    /// Does every name `value` mentions mean the same thing at `at` as where it was written?
    pub(super) fn same_meaning(&self, src: &[u8], value: Node, at: usize) -> Option<String> {
        let mut bad = None;
        visit(value, &mut |n| {
            if bad.is_none() && n.kind() == "identifier" {
                let name = text(src, n);
                if self.visible(name, n.start_byte()) != self.visible(name, at) {
                    bad = Some(String::from_utf8_lossy(name).into_owned());
                }
            }
        });
        bad
    }
}

impl Resolver<'_, '_> {
    pub(super) fn text(&self, d: u32) -> Verdict<String> {
        let n = self.defs[(d - FIRST_DEF) as usize].node;
        Ok(normalise(utf8(text(self.ctx.src, n))?))
    }

    /// The callback sets (one value per moved field) the tuples of a state hold.
    pub(super) fn combos(&self, st: &State, moved: &[usize]) -> Verdict<BTreeSet<Vec<Value>>> {
        st.iter()
            .map(|t| moved.iter().map(|&m| self.callback(m, t[m].0)).collect())
            .collect()
    }

    /// A callback's value: NULL, or a function of this file declared before the ops struct.
    pub(super) fn callback(&self, field: usize, d: u32) -> Verdict<Value> {
        let name = &self.ctx.rule.fields[field].name;
        match d {
            UNDEF => Err(Flag::new(
                Code::UndefinedField,
                format!("`.{name}` may reach a call uninitialised"),
            )),
            DEFAULT => Ok(Value::Null),
            CLOBBER => Err(Flag::new(
                Code::Unsupported,
                format!("`.{name}` is set by the callee"),
            )),
            _ => {
                let t = self.text(d)?;
                if t == "NULL" || t == "0" {
                    return Ok(Value::Null);
                }
                let node = self.defs[(d - FIRST_DEF) as usize].node;
                let Some(f) = designated_function(node) else {
                    return Err(Flag::new(
                        Code::NonConstantCallback,
                        format!("`.{name}` = `{t}` is not a function designator"),
                    ));
                };
                let f = String::from_utf8_lossy(text(self.ctx.src, f)).into_owned();
                if self
                    .scopes
                    .visible(f.as_bytes(), node.start_byte())
                    .is_some()
                {
                    return Err(Flag::new(
                        Code::NonConstantCallback,
                        format!("`.{name}` = `{t}` is a local variable"),
                    ));
                }
                let declared = self
                    .ctx
                    .functions
                    .get(f.as_bytes())
                    .copied()
                    .or_else(|| self.ctx.included.function(f.as_bytes()));
                match declared {
                    // `&fn` is the same constant as `fn`: one spelling, so equal sets share.
                    Some(at) if at < self.insert_at => Ok(Value::Text(f)),
                    Some(_) => Err(Flag::new(
                        Code::NonConstantCallback,
                        format!("`.{name}` = `{t}`: the function is declared after the caller"),
                    )),
                    None => Err(Flag::new(
                        Code::NonConstantCallback,
                        format!(
                            "`.{name}` = `{t}` is not a function declared in this file or a header it includes"
                        ),
                    )),
                }
            }
        }
    }

    /// An argument field's single value over a set of reaching definitions.
    pub(super) fn argument(
        &self,
        field: usize,
        vals: &BTreeSet<(u32, bool)>,
        at: &str,
        offset: usize,
    ) -> Verdict<String> {
        let f = &self.ctx.rule.fields[field];
        let mut texts = BTreeSet::new();
        for &(d, tainted) in vals {
            let t = match d {
                UNDEF => {
                    return Err(Flag::new(
                        Code::UndefinedField,
                        format!("`.{}` may be uninitialised {at}", f.name),
                    ));
                }
                CLOBBER => {
                    return Err(Flag::new(
                        Code::ReadAfterCall,
                        format!("`.{}` {at} is whatever the walker left there", f.name),
                    ));
                }
                DEFAULT => match &f.default {
                    Some(v) => v.clone(),
                    None if f.role == Role::Argument => {
                        return Err(Flag::new(
                            Code::MissingField,
                            format!("`.{}` is never set {at}", f.name),
                        ));
                    }
                    None => "NULL".to_string(),
                },
                _ => {
                    let def = &self.defs[(d - FIRST_DEF) as usize];
                    if !def.pure {
                        return Err(Flag::new(
                            Code::ChangedValue,
                            format!(
                                "`.{}` {at} has side effects; moving it would change when they happen",
                                f.name
                            ),
                        ));
                    }
                    if let Some(name) = self.scopes.same_meaning(self.ctx.src, def.node, offset) {
                        return Err(Flag::new(
                            Code::ChangedValue,
                            format!(
                                "`.{}` = `{}`: `{name}` means something else (or nothing) {at}",
                                f.name,
                                self.text(d)?
                            ),
                        ));
                    }
                    if tainted {
                        return Err(Flag::new(
                            Code::ChangedValue,
                            format!(
                                "what `.{}` = `{}` reads is reassigned before the {}",
                                f.name,
                                self.text(d)?,
                                at.trim_start_matches("at the ")
                            ),
                        ));
                    }
                    self.text(d)?
                }
            };
            texts.insert(t);
        }
        let mut it = texts.into_iter();
        match (it.next(), it.next()) {
            (Some(t), None) => Ok(t),
            (Some(a), Some(b)) => Err(Flag::new(
                Code::AmbiguousValue,
                format!("`.{}` is `{a}` or `{b}` {at}", f.name),
            )),
            (None, _) => Err(Flag::new(
                Code::Unsupported,
                format!("`.{}` has no value {at}", f.name),
            )),
        }
    }
}

/// Text the rewrite moves or copies into new code must be UTF-8 to be handled as text; other
/// bytes are never re-encoded, the site is left alone instead.
pub(super) fn utf8(b: &[u8]) -> Verdict<&str> {
    std::str::from_utf8(b).map_err(|_| {
        Flag::new(
            Code::Unsupported,
            "non-UTF-8 bytes in code the rewrite would move",
        )
    })
}
