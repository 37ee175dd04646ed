//! The call and read plans of one walk: each new call's field arguments, and the value a read
//! of the walk elsewhere in the function becomes.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Range;

use super::{Combos, Proof};
use crate::kinds::struct_to_ops::rule::{NewArg, Role};
use crate::parse::line_of;
use crate::struct_to_ops::analyse::{CallPlan, OpsRef};
use crate::struct_to_ops::flow::State;
use crate::struct_to_ops::model::{Code, Flag, Verdict};
use crate::struct_to_ops::values::{Resolver, Value, is_primary};

/// Per call: argument field values (one text over every configuration) and callback sets.
pub(super) fn call_plans<'t>(p: &Proof<'_, 't>) -> Verdict<(Vec<CallPlan<'t>>, Vec<Combos>)> {
    let mut call_plans = Vec::new();
    let mut combos = Vec::new();
    for &c in p.w.mine {
        let (plan, per_cfg) = call_plan(p, c)?;
        call_plans.push(plan);
        combos.push(per_cfg);
    }
    Ok((call_plans, combos))
}

/// One call's plan before its ops struct is chosen; a call no configuration reaches has no
/// callbacks to give it.
fn call_plan<'t>(p: &Proof<'_, 't>, c: usize) -> Verdict<(CallPlan<'t>, Combos)> {
    let call = &p.w.calls[c];
    let line = line_of(p.w.ctx.src, call.node.start_byte());
    let mut per_cfg = BTreeMap::new();
    let mut all: State = State::new();
    for (k, obs) in p.observed.iter().enumerate() {
        if let Some(st) = obs.calls.get(&c) {
            let set = p.resolver.combos(st, &p.moved)?;
            per_cfg.insert(k, set);
            all.extend(st.iter().cloned());
        }
    }
    if per_cfg.is_empty() {
        return Err(Flag::new(Code::Unsupported, "the call is unreachable").at(line));
    }
    let plan = CallPlan {
        node: call.node,
        entry: call.entry,
        ops: OpsRef::Local,
        fields: HashMap::new(),
        local_fields: Vec::new(),
    };
    let mut plan = plan;
    (plan.fields, plan.local_fields) = call_fields(p, c, &all)?;
    Ok((plan, per_cfg))
}

/// The new entry point's field arguments: one text that holds on every path in every
/// configuration, or a flag that names the conditional the value depends on. A field with
/// several values on different paths goes through a local ([`locals::local_name`]): the
/// fields listed second.
fn call_fields(p: &Proof, c: usize, all: &State) -> Verdict<(HashMap<usize, String>, Vec<usize>)> {
    let call = &p.w.calls[c];
    let entry = &p.w.ctx.rule.entries[call.entry];
    let mut fields = HashMap::new();
    let mut local = Vec::new();
    for a in &entry.new_args {
        if let NewArg::Field(fi) = *a {
            let vals: BTreeSet<(u32, bool)> = all.iter().map(|t| t[fi]).collect();
            let at = call.node.start_byte();
            let v = p.resolver.argument(fi, &vals, "at the call", at);
            let v = match v {
                Err(flag) if flag.code == Code::AmbiguousValue => {
                    let per: Vec<Option<&State>> =
                        p.observed.iter().map(|o| o.calls.get(&c)).collect();
                    match by_config(&p.resolver, p.groups, &p.configs, &per, fi, at) {
                        Some(guard) => Err(guard),
                        None => match super::locals::local_name(p, fi) {
                            Some(name) => {
                                local.push(fi);
                                Ok(name)
                            }
                            None => Err(flag),
                        },
                    }
                }
                v => v,
            }?;
            fields.insert(fi, v);
        }
    }
    Ok((fields, local))
}

/// An argument field with one value per configuration, decided by one conditional: the call
/// cannot carry a guard in its argument list, so say which conditional it depends on.
fn by_config(
    resolver: &Resolver,
    groups: &[usize],
    configs: &[Vec<usize>],
    per: &[Option<&State>],
    field: usize,
    at: usize,
) -> Option<Flag> {
    let one: Vec<Option<String>> = per
        .iter()
        .map(|st| {
            let vals: BTreeSet<(u32, bool)> = (*st)?.iter().map(|t| t[field]).collect();
            resolver.argument(field, &vals, "at the call", at).ok()
        })
        .collect();
    if per
        .iter()
        .zip(&one)
        .any(|(st, v)| st.is_some() && v.is_none())
    {
        return None; // ambiguous within a configuration: the plain flag says it
    }
    let gi = (0..groups.len()).find(|&gi| {
        let mut by_arm: HashMap<usize, &Option<String>> = HashMap::new();
        one.iter()
            .enumerate()
            .filter(|(_, v)| v.is_some())
            .all(|(k, v)| *by_arm.entry(configs[k][gi]).or_insert(v) == v)
    })?;
    let ctx = resolver.ctx;
    let grp = &ctx.parsed.directives.groups[groups[gi]];
    let open = String::from_utf8_lossy(ctx.src[grp.arms[0].line.clone()].trim_ascii());
    let vals: BTreeSet<&String> = one.iter().flatten().collect();
    let vals: Vec<String> = vals.iter().map(|v| format!("`{v}`")).collect();
    Some(
        Flag::new(
            Code::Guard,
            format!(
                "`.{}` is {} depending on `{open}`, and a call argument cannot carry a guard",
                ctx.rule.fields[field].name,
                vals.join(" or ")
            ),
        )
        .at(line_of(ctx.src, grp.arms[0].line.start)),
    )
}

/// Reads elsewhere in the function become the value they would have read.
pub(super) fn read_plans(p: &Proof) -> Verdict<Vec<(Range<usize>, String)>> {
    p.facts
        .reads
        .iter()
        .enumerate()
        .map(|(k, (field, expr))| read_plan(p, k, *field, expr))
        .collect()
}

/// One read's replacement, in parentheses unless it stands alone where it goes.
fn read_plan(
    p: &Proof,
    k: usize,
    field: usize,
    expr: &Range<usize>,
) -> Verdict<(Range<usize>, String)> {
    let (rule, src) = (p.w.ctx.rule, p.w.ctx.src);
    let mut vals: BTreeSet<(u32, bool)> = BTreeSet::new();
    for obs in &p.observed {
        if let Some(st) = obs.reads.get(&k) {
            vals.extend(st.iter().map(|t| t[field]));
        }
    }
    let what = format!("read at line {}", line_of(src, expr.start));
    let v = if rule.fields[field].role == Role::Moved {
        read_callback(p, field, &vals, &what)?
    } else {
        p.resolver.argument(field, &vals, &what, expr.start)?
    };
    let node =
        p.w.body
            .descendant_for_byte_range(expr.start, expr.end)
            .unwrap();
    let needs_parens = !matches!(
        node.parent().map(|p| p.kind()),
        Some("argument_list" | "init_declarator" | "initializer_list" | "return_statement")
    ) && !is_primary(&v);
    Ok((
        expr.clone(),
        if needs_parens { format!("({v})") } else { v },
    ))
}

/// A read callback becomes its one value (NULL or a function) if every path agrees on it.
fn read_callback(
    p: &Proof,
    field: usize,
    vals: &BTreeSet<(u32, bool)>,
    what: &str,
) -> Verdict<String> {
    let rule = p.w.ctx.rule;
    let set: BTreeSet<Value> = vals
        .iter()
        .map(|v| {
            if v.1 {
                Err(Flag::new(Code::ChangedValue, "callback changed"))
            } else {
                p.resolver.callback(field, v.0)
            }
        })
        .collect::<Verdict<_>>()?;
    match set.into_iter().collect::<Vec<_>>().as_slice() {
        [Value::Null] => Ok("NULL".to_string()),
        [Value::Text(t)] => Ok(t.clone()),
        _ => Err(Flag::new(
            Code::AmbiguousValue,
            format!(
                "`.{}` has several values at the {what}",
                rule.fields[field].name
            ),
        )),
    }
}
