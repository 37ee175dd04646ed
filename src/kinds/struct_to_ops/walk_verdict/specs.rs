//! The ops structs of one walk's plan: one per distinct callback set at the calls, or a switched
//! ops pointer local when the set depends on the path taken; with the deletions they imply.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Range;

use tree_sitter::Node;

use super::{Combos, Proof, WalkCtx};
use crate::kinds::struct_to_ops::rule::StructToOps;
use crate::parse::line_of;
use crate::struct_to_ops::analyse::{
    CallPlan, FileCtx, Init, Member, OpsRef, Spec, WalkPlan, Wrap,
};
use crate::struct_to_ops::model::{Code, Flag, Verdict};
use crate::struct_to_ops::values::{Value, utf8};

/// Ops structs: one per distinct callback set, or a switched local when the set a call sees
/// depends on the path taken to it.
pub(super) fn build_plan<'t>(
    p: &Proof<'_, 't>,
    mut calls: Vec<CallPlan<'t>>,
    combos: &[Combos],
    reads: Vec<(Range<usize>, String)>,
) -> Verdict<WalkPlan<'t>> {
    let w = &p.w;
    let mut plan = WalkPlan {
        function: w.f,
        base: base_name(w.ctx.rule, &w.walk.name, w.fname),
        specs: Vec::new(),
        deletes: Vec::new(),
        assigns: Vec::new(),
        local: None,
        decl: w.walk.decl.byte_range(),
        calls: Vec::new(),
        reads,
        above: Vec::new(),
        arg_locals: Vec::new(),
    };
    let switching = combos.iter().any(|per| per.values().any(|s| s.len() > 1));
    if switching {
        switched_specs(p, combos, &mut plan)?;
    } else {
        fixed_specs(p, &mut calls, combos, &mut plan)?;
    }
    plan.calls = calls;
    super::locals::argument_locals(p, &mut plan)?;
    lone_body_deleted(w, &plan)?;
    Ok(plan)
}

/// The index of `s` among the plan's specs, added if new: calls that see the same callbacks
/// share one ops struct.
fn spec_index(plan: &mut WalkPlan, s: Spec) -> usize {
    match plan.specs.iter().position(|x| *x == s) {
        Some(i) => i,
        None => {
            plan.specs.push(s);
            plan.specs.len() - 1
        }
    }
}

/// Callbacks fixed per call: each call takes the ops struct of the one set that reaches it,
/// and the walk's declaration, zeroings and stores go.
fn fixed_specs(
    p: &Proof,
    calls: &mut [CallPlan],
    combos: &[Combos],
    plan: &mut WalkPlan,
) -> Verdict<()> {
    let ctx = p.w.ctx;
    for (cp, per) in calls.iter_mut().zip(combos) {
        let one: BTreeMap<usize, &Vec<Value>> = per
            .iter()
            .map(|(&k, s)| (k, s.iter().next().unwrap()))
            .collect();
        let members = guarded_members(ctx, p.groups, &p.configs, &one, &p.moved, &p.order)?;
        let spec = Spec {
            wrap: wraps(ctx, p.groups, cp.node.start_byte())?,
            members,
        };
        cp.ops = OpsRef::Spec(spec_index(plan, spec));
    }
    plan.deletes.push(p.w.walk.decl.byte_range());
    plan.deletes.extend(p.facts.zeros.iter().cloned());
    plan.deletes
        .extend(p.facts.stores.iter().map(|s| s.2.clone()));
    Ok(())
}

/// Callbacks chosen at run time: a `const struct OPS *` local replaces the walk, and each
/// point where the callback set changes assigns the matching ops struct. A point whose set
/// never reaches a call is dropped; one that leads to several sets (the set depends on the
/// path taken to it) cannot be expressed.
fn switched_specs(p: &Proof, combos: &[Combos], plan: &mut WalkPlan) -> Verdict<()> {
    let w = &p.w;
    // Per configuration: every callback set that reaches some call.
    let reaching: Vec<BTreeSet<Vec<Value>>> = (0..p.configs.len())
        .map(|k| {
            combos
                .iter()
                .filter_map(|per| per.get(&k))
                .flatten()
                .cloned()
                .collect()
        })
        .collect();
    let local = local_name(w.ctx.src, w.body, &w.walk.name)
        .ok_or_else(|| Flag::new(Code::Unsupported, "no free name for the ops pointer local"))?;
    let mut decl_spec = None;
    for (point, stmt) in store_points(p) {
        let at = stmt.as_ref().map_or(w.walk.decl.start_byte(), |s| s.start);
        let assigned = point_spec(p, &reaching, point, at, plan)?;
        match (stmt, assigned) {
            (None, a) => decl_spec = a,
            (Some(s), Some(i)) => plan.assigns.push((s, i)),
            (Some(s), None) => plan.deletes.push(s),
        }
    }
    for (_, _, stmt) in p.facts.stores.iter().filter(|s| !p.moved.contains(&s.0)) {
        plan.deletes.push(stmt.clone());
    }
    plan.local = Some((local, decl_spec));
    Ok(())
}

/// The points where the callback set may change, numbered as the dataflow numbers them: 0 is
/// the declaration, then zeroings, then stores (of callbacks only), with their statements.
fn store_points(p: &Proof) -> Vec<(usize, Option<Range<usize>>)> {
    let (zeros, stores) = (&p.facts.zeros, &p.facts.stores);
    std::iter::once((0, None))
        .chain(
            zeros
                .iter()
                .enumerate()
                .map(|(k, z)| (1 + k, Some(z.clone()))),
        )
        .chain(
            stores
                .iter()
                .enumerate()
                .filter(|(_, s)| p.moved.contains(&s.0))
                .map(|(k, s)| (1 + zeros.len() + k, Some(s.2.clone()))),
        )
        .collect()
}

/// The spec a point assigns, or `None` when its callback set reaches no call.
fn point_spec(
    p: &Proof,
    reaching: &[BTreeSet<Vec<Value>>],
    point: usize,
    at: usize,
    plan: &mut WalkPlan,
) -> Verdict<Option<usize>> {
    let mut one: BTreeMap<usize, Vec<Value>> = BTreeMap::new();
    let mut live = false;
    for (k, obs) in p.observed.iter().enumerate() {
        let Some(st) = obs.points.get(&point) else {
            continue;
        };
        let out = p.resolver.combos(st, &p.moved)?;
        let live_here = out.iter().any(|c| reaching[k].contains(c));
        live |= live_here;
        match out.len() {
            1 => {
                one.insert(k, out.into_iter().next().unwrap());
            }
            _ if live_here => {
                return Err(Flag::new(
                    Code::Unsupported,
                    "callbacks differ here depending on the path taken",
                )
                .at(line_of(p.w.ctx.src, at)));
            }
            _ => {}
        }
    }
    if !live {
        return Ok(None);
    }
    let view: BTreeMap<usize, &Vec<Value>> = one.iter().map(|(k, v)| (*k, v)).collect();
    let members = guarded_members(p.w.ctx, p.groups, &p.configs, &view, &p.moved, &p.order)?;
    let spec = Spec {
        wrap: wraps(p.w.ctx, p.groups, at)?,
        members,
    };
    Ok(Some(spec_index(plan, spec)))
}

/// Deleting the only statement of an if/else/loop would change what follows it.
fn lone_body_deleted(w: &WalkCtx, plan: &WalkPlan) -> Verdict<()> {
    for d in &plan.deletes {
        if let Some(n) = w.body.descendant_for_byte_range(d.start, d.end)
            && matches!(
                n.parent().map(|p| p.kind()),
                Some(
                    "if_statement"
                        | "else_clause"
                        | "while_statement"
                        | "for_statement"
                        | "do_statement"
                        | "labeled_statement"
                )
            )
        {
            return Err(Flag::new(
                Code::Unsupported,
                "the store is the whole body of a control statement",
            )
            .at(line_of(w.ctx.src, d.start)));
        }
    }
    Ok(())
}

/// Member order: first appearance in the initializer, then in later stores.
pub(super) fn field_order(
    members: &[(usize, u32, usize)],
    stores: &[(usize, u32, Range<usize>)],
    moved: &[usize],
) -> Vec<usize> {
    let mut seen: Vec<(usize, usize)> = members
        .iter()
        .map(|m| (m.2, m.0))
        .chain(stores.iter().map(|s| (s.2.start, s.0)))
        .collect();
    seen.sort();
    let mut out = Vec::new();
    for (_, f) in seen {
        if moved.contains(&f) && !out.contains(&f) {
            out.push(f);
        }
    }
    out
}

/// `{base}` of the ops struct's name: the walk's own name, or for a generic walk name the
/// function's, so that the generic walks of two functions get structs of different names.
fn base_name(rule: &StructToOps, walk: &str, function: &str) -> String {
    if rule.generic_walk_names.iter().any(|g| g == walk) {
        let suffix = &rule.generic_walk_names[0];
        if function.ends_with(&format!("_{suffix}")) || function == suffix {
            function.to_string()
        } else {
            format!("{function}_{suffix}")
        }
    } else {
        walk.to_string()
    }
}

/// A name for the ops pointer local that the function does not use yet: the new local may
/// shadow nothing and be shadowed by nothing.
fn local_name(src: &[u8], body: Node, walk: &str) -> Option<String> {
    let used: BTreeSet<&[u8]> = crate::parse::lex::words(src, body.byte_range())
        .map(|w| &src[w])
        .collect();
    ["ops".to_string(), format!("{walk}_ops")]
        .into_iter()
        .find(|c| !used.contains(c.as_bytes()))
}

/// The conditionals (inside the function) around `offset`, outermost first.
fn wraps(ctx: &FileCtx, groups: &[usize], offset: usize) -> Verdict<Vec<Wrap>> {
    let dirs = &ctx.parsed.directives;
    let line = |r: Range<usize>| utf8(&ctx.src[r]).map(str::to_string);
    let mut out = Vec::new();
    for &g in groups {
        let grp = &dirs.groups[g];
        let Some(a) = grp.arms.iter().position(|a| a.body.contains(&offset)) else {
            continue;
        };
        out.push(Wrap {
            open: line(grp.arms[0].line.clone())?,
            arm: if a > 0 {
                Some(line(grp.arms[a].line.clone())?)
            } else {
                None
            },
            end: line(grp.end.clone())?,
            between: grp.arms[1..a.max(1)]
                .iter()
                .map(|x| line(x.line.clone()))
                .collect::<Verdict<_>>()?,
            group: g,
            index: a,
            serves: None,
        });
    }
    Ok(out)
}

/// The ops struct for a call seen with one callback set per configuration: members whose value
/// is the same everywhere are plain; one that depends on a single conditional group carries
/// that group's arms.
fn guarded_members(
    ctx: &FileCtx,
    groups: &[usize],
    configs: &[Vec<usize>],
    one: &BTreeMap<usize, &Vec<Value>>,
    moved: &[usize],
    order: &[usize],
) -> Verdict<Vec<Member>> {
    let rule = ctx.rule;
    let src = ctx.src;
    let dirs = &ctx.parsed.directives;
    let mut items: Vec<(Option<usize>, Member)> = Vec::new();
    for &f in order {
        let k = moved.iter().position(|m| *m == f).unwrap();
        let vals: BTreeSet<&Value> = one.values().map(|v| &v[k]).collect();
        let name = rule.fields[f].name.clone();
        if vals.len() == 1 {
            if let Value::Text(t) = vals.into_iter().next().unwrap() {
                items.push((None, Member::Plain(Init::new(name, t.clone()))));
            }
            continue;
        }
        // Find one group whose arm decides the value.
        let decider = (0..groups.len()).find(|&gi| {
            let mut by_arm: HashMap<usize, &Value> = HashMap::new();
            one.iter()
                .all(|(&cfg, v)| *by_arm.entry(configs[cfg][gi]).or_insert(&v[k]) == &v[k])
        });
        let Some(gi) = decider else {
            return Err(Flag::new(
                Code::Guard,
                format!("`.{name}` depends on several preprocessor conditionals"),
            ));
        };
        let grp = &dirs.groups[groups[gi]];
        let value_in = |arm: usize| {
            one.iter()
                .find(|(cfg, _)| configs[**cfg][gi] == arm)
                .map(|(_, v)| v[k].clone())
        };
        let mut arms = Vec::new();
        let n_explicit = grp.arms.len();
        for a in 0..n_explicit {
            let line = utf8(&src[grp.arms[a].line.clone()])?.to_string();
            let members = match value_in(a) {
                Some(Value::Text(t)) => vec![Init::new(name.clone(), t)],
                _ => Vec::new(),
            };
            arms.push((line, members));
        }
        if let Some(Value::Text(t)) = value_in(n_explicit) {
            arms.push(("#else".to_string(), vec![Init::new(name.clone(), t)]));
        }
        let end = utf8(&src[grp.end.clone()])?.to_string();
        // Consecutive members under the same group share one block.
        if let Some((Some(prev), Member::Guarded { arms: parms, .. })) = items.last_mut()
            && *prev == groups[gi]
            && parms.len() == arms.len()
        {
            for (p, (_, m)) in parms.iter_mut().zip(arms) {
                p.1.extend(m);
            }
            continue;
        }
        items.push((Some(groups[gi]), Member::Guarded { arms, end }));
    }
    Ok(items.into_iter().map(|(_, m)| m).collect())
}
