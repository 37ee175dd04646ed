//! The verdict for one walk of a function, phase by phase: which of its uses and definitions
//! there are (here), what reaches each call in every preprocessor configuration (`reaching`),
//! the call arguments and read replacements that follow (`arguments`), and the ops structs of
//! the [`WalkPlan`] (`specs`); or the flag that stops the walk.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use tree_sitter::Node;

use super::analyse::{
    FileCtx, WalkPlan, edited_ranges, insertion_point, own_idents, walk_touches_old_api,
};
use super::find::{self, Call, Walk, named_children};
use super::flow::{FIRST_DEF, Observed};
use super::guards;
use super::model::{Code, Flag, Use, Verdict};
use super::values::{Def, Resolver, Scopes, Value, def};
use crate::kinds::struct_to_ops::rule::StructToOps;
use crate::parse::{line_of, text};

mod arguments;
mod locals;
mod reaching;
mod specs;

use arguments::{call_plans, read_plans};
use reaching::{configurations, observe};
use specs::{build_plan, field_order};

/// What every phase of one walk's verdict reads: the function, the walk, and its calls.
#[derive(Clone, Copy)]
pub(super) struct WalkCtx<'a, 't> {
    pub ctx: &'a FileCtx<'t>,
    pub f: Node<'t>,
    /// The function's name.
    pub fname: &'a str,
    pub body: Node<'t>,
    /// Every conditional group inside the function.
    pub groups: &'a [usize],
    pub walk: &'a Walk<'t>,
    /// All walks of the function.
    pub walks: &'a [Walk<'t>],
    /// All entry-point calls of the function.
    pub calls: &'a [Call<'t>],
    /// The calls (indices into `calls`) this walk is passed to.
    pub mine: &'a [usize],
}

/// The verdict for one walk: a plan that says what to delete, replace and generate, `None` for
/// a walk that is not old-API code, or the flag that stops it.
pub(super) fn walk_verdict<'t>(w: &WalkCtx<'_, 't>) -> Verdict<Option<WalkPlan<'t>>> {
    let (ctx, src) = (w.ctx, w.ctx.src);
    one_walk_per_name(w)?;
    let scopes = Scopes::of(src, w.f);
    let idents = own_idents(src, w.body, w.walk, &scopes);
    let relevance = relevance(w, &idents)?;
    if sets_new_field(w, &idents) {
        return Ok(None);
    }
    let uses = classify_uses(w, &idents)?;
    let Some(facts) = definitions(w, &uses)? else {
        return Ok(None);
    };
    if w.mine.is_empty() {
        return uncalled(w, &facts);
    }
    let groups = &relevance.relevant[..];
    let configs = configurations(ctx, groups);
    let observed = observe(w, groups, &configs, &facts)?;
    let moved: Vec<usize> = ctx.rule.moved().collect();
    let p = Proof {
        w: *w,
        groups,
        configs,
        facts: &facts,
        observed,
        resolver: Resolver {
            ctx,
            defs: &facts.defs,
            insert_at: insertion_point(src, w.f),
            scopes,
        },
        order: field_order(&facts.members, &facts.stores, &moved),
        moved,
    };
    let (call_plans, combos) = call_plans(&p)?;
    let read_plans = read_plans(&p)?;
    let plan = build_plan(&p, call_plans, &combos, read_plans)?;
    finish(w, &relevance, &facts, plan).map(Some)
}

/// Two walks of one name in one block (under #if/#else arms) cannot be told apart by scope;
/// a walk in an inner block that declares the name again can.
fn one_walk_per_name(w: &WalkCtx) -> Verdict<()> {
    let walk = w.walk;
    if w.walks
        .iter()
        .any(|o| !std::ptr::eq(o, walk) && o.name == walk.name && o.scope.end == walk.scope.end)
    {
        return Err(Flag::new(
            Code::Unsupported,
            format!("two walks named `{}` declared in one block", walk.name),
        ));
    }
    Ok(())
}

/// Only the conditionals that can change this walk's verdict are enumerated as
/// configurations; one that would reshape the code around the walk stops it.
fn relevance(w: &WalkCtx, idents: &[Node]) -> Verdict<guards::Relevance> {
    let own: Vec<usize> = idents.iter().map(|n| n.start_byte()).collect();
    let relevance = guards::relevance(
        w.ctx,
        w.body,
        w.groups,
        &w.walk.decl.byte_range(),
        &own,
        &w.walk.name,
    );
    guards::check(w.ctx, &relevance)?;
    Ok(relevance)
}

/// A walk that sets a field only the new struct has is new-API code: not ours.
fn sets_new_field(w: &WalkCtx, idents: &[Node]) -> bool {
    let (rule, src) = (w.ctx.rule, w.ctx.src);
    w.walk.init.is_some_and(|init| {
        named_children(init).iter().any(|m| {
            m.kind() == "initializer_pair"
                && m.child_by_field_name("designator")
                    .and_then(|d| d.named_child(0))
                    .is_some_and(|f| rule.is_new_only(&String::from_utf8_lossy(text(src, f))))
        })
    }) || idents.iter().any(|id| {
        id.parent()
            .filter(|p| p.kind() == "field_expression")
            .and_then(|p| p.child_by_field_name("field"))
            .is_some_and(|f| rule.is_new_only(&String::from_utf8_lossy(text(src, f))))
    })
}

/// Classify every use of the walk, or the first that stops it.
fn classify_uses<'t>(w: &WalkCtx<'_, 't>, idents: &[Node<'t>]) -> Verdict<Vec<(Node<'t>, Use)>> {
    let (ctx, walk, calls, mine) = (w.ctx, w.walk, w.calls, w.mine);
    let (rule, src) = (ctx.rule, ctx.src);
    let mut uses = Vec::new();
    for &id in idents {
        let u = find::classify(rule, src, id, calls).map_err(|fl| {
            guards::split_entry_call(ctx, id)
                .unwrap_or_else(|| fl.at(line_of(src, id.start_byte())))
        })?;
        if matches!(u, Use::Decl) {
            return Err(Flag::new(
                Code::Unsupported,
                format!(
                    "the name `{}` is declared again inside its scope",
                    walk.name
                ),
            )
            .at(line_of(src, id.start_byte())));
        }
        if let Use::Call { call } = u
            && !mine.contains(&call)
        {
            return Err(Flag::new(
                Code::Unsupported,
                "walk passed to a call owned by another walk".to_string(),
            ));
        }
        uses.push((id, u));
    }
    Ok(uses)
}

/// An initializer member as a definition: (field, definition, offset).
type MemberDef = (usize, u32, usize);

/// A store as a definition: (field, definition, statement).
type StoreDef = (usize, u32, Range<usize>);

/// A walk's definitions and accesses: what the dataflow follows and the plan rewrites.
struct WalkFacts<'t> {
    /// Every definition, numbered from `FIRST_DEF`: initializer members first, then stores.
    defs: Vec<Def<'t>>,
    members: Vec<MemberDef>,
    stores: Vec<StoreDef>,
    /// Reads of a field elsewhere in the function: (field, expression).
    reads: Vec<(usize, Range<usize>)>,
    /// Zeroing statements.
    zeros: Vec<Range<usize>>,
}

/// Definitions: initializer members, then stores; `None` for new-API code.
fn definitions<'t>(
    w: &WalkCtx<'_, 't>,
    uses: &[(Node<'t>, Use)],
) -> Verdict<Option<WalkFacts<'t>>> {
    let mut defs = Vec::new();
    let Some(members) = initializer_members(w, &mut defs)? else {
        return Ok(None);
    };
    let Some(stores) = stores(w, uses, &mut defs)? else {
        return Ok(None);
    };
    let rule = w.ctx.rule;
    // Every field read was checked with the stores: it is one the rule lists.
    let reads = uses
        .iter()
        .filter_map(|(_, u)| match u {
            Use::Read { field, expr } => Some((rule.field(field).unwrap(), expr.clone())),
            _ => None,
        })
        .collect();
    let zeros = uses
        .iter()
        .filter_map(|(_, u)| match u {
            Use::Zero { stmt } => Some(stmt.clone()),
            _ => None,
        })
        .collect();
    Ok(Some(WalkFacts {
        defs,
        members,
        stores,
        reads,
        zeros,
    }))
}

/// The initializer's members as definitions; a positional or nested member is beyond the
/// rewrite, and a field only the new struct has makes the walk new-API code (`None`).
fn initializer_members<'t>(
    w: &WalkCtx<'_, 't>,
    defs: &mut Vec<Def<'t>>,
) -> Verdict<Option<Vec<MemberDef>>> {
    let (rule, src) = (w.ctx.rule, w.ctx.src);
    let mut members = Vec::new();
    let Some(init) = w.walk.init else {
        return Ok(Some(members));
    };
    for m in named_children(init) {
        match m.kind() {
            "initializer_pair" => {
                let designators: Vec<Node> = {
                    let mut c = m.walk();
                    m.children_by_field_name("designator", &mut c).collect()
                };
                let value = m.child_by_field_name("value");
                let (Some(value), [d]) = (value, designators.as_slice()) else {
                    return Err(Flag::new(
                        Code::Unsupported,
                        "nested designator in the walk's initializer",
                    ));
                };
                let fname_b = d.named_child(0).map(|x| text(src, x)).unwrap_or(b"");
                let field_name = String::from_utf8_lossy(fname_b).into_owned();
                if rule.is_new_only(&field_name) {
                    return Ok(None);
                }
                let field = rule.field(&field_name).ok_or_else(|| {
                    Flag::new(Code::UnknownField, unknown_field(rule, &field_name))
                        .at(line_of(src, d.start_byte()))
                })?;
                members.push((field, defs.len() as u32 + FIRST_DEF, m.start_byte()));
                defs.push(def(value));
            }
            "number_literal" if text(src, m) == b"0" && named_children(init).len() == 1 => {}
            _ => {
                return Err(Flag::new(
                    Code::Unsupported,
                    "positional member in the walk's initializer",
                ));
            }
        }
    }
    Ok(Some(members))
}

/// The stores as definitions (after the initializer's); every field stored or read must be
/// one the rule lists, and one only the new struct has makes the walk new-API code (`None`).
fn stores<'t>(
    w: &WalkCtx<'_, 't>,
    uses: &[(Node<'t>, Use)],
    defs: &mut Vec<Def<'t>>,
) -> Verdict<Option<Vec<StoreDef>>> {
    let (rule, src) = (w.ctx.rule, w.ctx.src);
    let mut stores = Vec::new();
    for (_, u) in uses {
        if let Use::Store { field, stmt, .. } | Use::Read { field, expr: stmt } = u {
            if rule.is_new_only(field) {
                return Ok(None);
            }
            let fi = rule.field(field).ok_or_else(|| {
                Flag::new(Code::UnknownField, unknown_field(rule, field))
                    .at(line_of(src, stmt.start))
            })?;
            if let Use::Store { value, .. } = u {
                let v = w
                    .body
                    .descendant_for_byte_range(value.start, value.end)
                    .filter(|n| n.byte_range() == *value)
                    .ok_or_else(|| Flag::new(Code::Unsupported, "store value not found"))?;
                stores.push((fi, defs.len() as u32 + FIRST_DEF, stmt.clone()));
                defs.push(def(v));
            }
        }
    }
    Ok(Some(stores))
}

/// A walk no call takes is no site, unless it sets what only the old struct has: that code
/// would break when the struct changes, and nothing here can move it.
fn uncalled<'t>(w: &WalkCtx, facts: &WalkFacts) -> Verdict<Option<WalkPlan<'t>>> {
    let touches = !facts.members.is_empty() || !facts.stores.is_empty();
    if touches && walk_touches_old_api(w.ctx.rule, w.ctx.src, w.walk) {
        Err(Flag::new(
            Code::Unsupported,
            format!("walk `{}` is never passed to an entry point", w.walk.name),
        ))
    } else {
        Ok(None)
    }
}

/// Why a field the rule does not list stops a walk: it may be a vendor's data member, which the
/// new entry points have no argument for (a callback would have a function the file sees stored
/// in it somewhere, and would move).
fn unknown_field(rule: &StructToOps, field: &str) -> String {
    format!(
        "`.{field}` of struct {} is neither a callback (no function the file sees is stored in it) nor a field the new entry points take",
        rule.old_struct
    )
}

/// What the dataflow proved for one walk: the plan's ops structs, call arguments and read
/// replacements are built from it alone.
struct Proof<'a, 't> {
    w: WalkCtx<'a, 't>,
    /// The conditionals that matter to the walk.
    groups: &'a [usize],
    /// One arm choice per group in `groups`, for every configuration.
    configs: Vec<Vec<usize>>,
    facts: &'a WalkFacts<'t>,
    /// Per configuration: what reaches each call, read and store point.
    observed: Vec<Observed>,
    resolver: Resolver<'a, 't>,
    /// The fields that move into the ops struct, in the rule's order.
    moved: Vec<usize>,
    /// Member order of the generated structs.
    order: Vec<usize>,
}

/// Per configuration (by index), the callback sets that reach one call.
type Combos = BTreeMap<usize, BTreeSet<Vec<Value>>>;

/// Last checks on the finished plan: it may not touch the directive lines of conditionals the
/// analysis did not enumerate, and the comments of the code it removes must find a place.
fn finish<'t>(
    w: &WalkCtx<'_, 't>,
    relevance: &guards::Relevance,
    facts: &WalkFacts<'t>,
    mut plan: WalkPlan<'t>,
) -> Verdict<WalkPlan<'t>> {
    let loose: Vec<usize> = relevance
        .free
        .iter()
        .chain(&relevance.splitting)
        .copied()
        .collect();
    guards::untouched(w.ctx, &loose, &edited_ranges(&plan))?;
    let store_values: Vec<super::comments::Store> = facts
        .stores
        .iter()
        .map(|(fi, d, stmt)| (*fi, facts.defs[(d - FIRST_DEF) as usize].node, stmt.clone()))
        .collect();
    super::comments::place(w.ctx, w.walk, &store_values, &facts.zeros, &mut plan)?;
    Ok(plan)
}
