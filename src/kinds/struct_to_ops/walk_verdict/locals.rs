//! Argument fields with several values at a call (`.private` set to `vma` on one path and to
//! `other` on another): a local of the field's type takes the walk's place, assigned where
//! the walk's field was stored, and the call passes it. The stores run where they ran, so the
//! local holds at each call exactly what the field held; calls with one value keep it as text.

use std::collections::BTreeSet;

use super::Proof;
use crate::struct_to_ops::analyse::{ArgLocal, WalkPlan};
use crate::struct_to_ops::flow::DEFAULT;
use crate::struct_to_ops::model::{Code, Flag, Verdict};

/// The local's name for field `fi`: the field's own name, or the walk's name joined to it,
/// whichever the function does not use yet; `None` when the rule gives the field no type.
pub(super) fn local_name(p: &Proof, fi: usize) -> Option<String> {
    let (src, body) = (p.w.ctx.src, p.w.body);
    let field = &p.w.ctx.rule.fields[fi];
    field.decl.as_ref()?;
    // A member name (`walk.private`) is no variable: it does not take the name.
    let member = |at: usize| {
        let before = src[..at].trim_ascii_end();
        before.ends_with(b".") || before.ends_with(b"->")
    };
    let used: BTreeSet<&[u8]> = crate::parse::lex::words(src, body.byte_range())
        .filter(|w| !member(w.start))
        .map(|w| &src[w])
        .collect();
    [
        field.name.clone(),
        format!("{}_{}", p.w.walk.name, field.name),
    ]
    .into_iter()
    .find(|c| !used.contains(c.as_bytes()))
}

/// The locals of the fields some call passes as a local: every definition reaching such a
/// call is the initializer's (the local's initial value) or a store (kept, now assigning the
/// local).
pub(super) fn argument_locals(p: &Proof, plan: &mut WalkPlan) -> Verdict<()> {
    let fields: BTreeSet<usize> = plan
        .calls
        .iter()
        .flat_map(|c| c.local_fields.iter().copied())
        .collect();
    for fi in fields {
        let local = argument_local(p, plan, fi)?;
        plan.arg_locals.push(local);
    }
    if !plan.arg_locals.is_empty() {
        // The declaration is replaced by the locals' (and the ops pointer's) declarations.
        plan.deletes.retain(|d| *d != plan.decl);
    }
    Ok(())
}

fn argument_local(p: &Proof, plan: &mut WalkPlan, fi: usize) -> Verdict<ArgLocal> {
    let name = plan
        .calls
        .iter()
        .find(|c| c.local_fields.contains(&fi))
        .map(|c| c.fields[&fi].clone())
        .unwrap_or_default();
    let field = &p.w.ctx.rule.fields[fi];
    let mut init = None;
    let mut stores = Vec::new();
    for d in reaching(p, plan, fi) {
        let member = p.facts.members.iter().find(|m| m.0 == fi && m.1 == d);
        let store = p.facts.stores.iter().find(|s| s.0 == fi && s.1 == d);
        match (d, member, store) {
            (DEFAULT, ..) if p.facts.zeros.is_empty() => init = field.default.clone(),
            (_, Some(_), _) => init = Some(p.resolver.text(d)?),
            (_, _, Some((_, _, stmt))) => {
                plan.deletes.retain(|x| x != stmt);
                stores.push(lhs(p, stmt)?);
            }
            _ => {
                return Err(Flag::new(
                    Code::AmbiguousValue,
                    format!(
                        "`.{}` has several values at a call, and one is not a store a local can take",
                        field.name
                    ),
                ));
            }
        }
    }
    let decl = field.decl.as_deref().unwrap_or_default();
    let ty = decl.trim_end_matches(|c: char| c.is_ascii_alphanumeric() || c == '_');
    let decl = match init {
        Some(v) => format!("{ty}{name} = {v};"),
        None => format!("{ty}{name};"),
    };
    Ok(ArgLocal { decl, stores, name })
}

/// The definitions of field `fi` reaching the calls that pass it as a local, in every
/// configuration (an undefined or clobbered value among them stops the local).
fn reaching(p: &Proof, plan: &WalkPlan, fi: usize) -> BTreeSet<u32> {
    let calls: Vec<usize> = plan
        .calls
        .iter()
        .filter(|c| c.local_fields.contains(&fi))
        .filter_map(|c| p.w.calls.iter().position(|x| x.node == c.node))
        .collect();
    p.observed
        .iter()
        .flat_map(|o| calls.iter().filter_map(|c| o.calls.get(c)))
        .flatten()
        .map(|t| t[fi].0)
        .collect()
}

/// The `walk.field` being assigned by a store statement.
fn lhs(p: &Proof, stmt: &std::ops::Range<usize>) -> Verdict<std::ops::Range<usize>> {
    let n =
        p.w.body
            .descendant_for_byte_range(stmt.start, stmt.end)
            .filter(|n| n.byte_range() == *stmt);
    n.and_then(|n| n.named_child(0))
        .filter(|a| a.kind() == "assignment_expression")
        .and_then(|a| a.child_by_field_name("left"))
        .map(|l| l.byte_range())
        .ok_or_else(|| Flag::new(Code::Unsupported, "a store that is not an assignment"))
}
