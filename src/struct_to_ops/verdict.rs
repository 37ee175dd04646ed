//! The verdict for one walk of a function, phase by phase: which of its uses and definitions
//! there are, what reaches each call in every preprocessor configuration, and the [`WalkPlan`]
//! built from that (or the flag that stops it).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Range;

use tree_sitter::Node;

use super::analyse::{
    CallPlan, FileCtx, Init, Member, OpsRef, Spec, WalkPlan, Wrap, edited_ranges, insertion_point,
    own_idents, walk_touches_old_api,
};
use super::find::{self, Call, Walk, named_children, unparen, visit};
use super::flow::{self, At, Ev, FIRST_DEF, Facts, Observed, State};
use super::guards;
use super::model::{Code, Flag, Use, Verdict};
use super::values::*;
use crate::parse::{line_of, text};
use crate::rule::{NewArg, Role, Rule};

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
    let relevance = guards::relevance(w.ctx, w.body, w.groups, &w.walk.decl.byte_range(), &own);
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
fn unknown_field(rule: &Rule, field: &str) -> String {
    format!(
        "`.{field}` of struct {} is neither a callback (no function the file sees is stored in it) nor a field the new entry points take",
        rule.old_struct
    )
}

/// Configurations: one arm choice per conditional group that matters to the walk. A group
/// without `#else` has one more choice: none of its arms.
fn configurations(ctx: &FileCtx, groups: &[usize]) -> Vec<Vec<usize>> {
    let (src, dirs) = (ctx.src, &ctx.parsed.directives);
    let choices: Vec<usize> = groups
        .iter()
        .map(|&g| {
            let grp = &dirs.groups[g];
            let has_else = grp.arms.len() > 1
                && text_starts(src, grp.arms.last().unwrap().line.clone(), b"else");
            grp.arms.len() + usize::from(!has_else)
        })
        .collect();
    let mut configs: Vec<Vec<usize>> = vec![Vec::new()];
    for &c in &choices {
        configs = configs
            .into_iter()
            .flat_map(|cfg| {
                (0..c).map(move |a| {
                    let mut x = cfg.clone();
                    x.push(a);
                    x
                })
            })
            .collect();
    }
    configs
}

/// Is the code at `offset` compiled in configuration `cfg`? Code in an `#if 0` arm never is.
fn compiled_in(ctx: &FileCtx, groups: &[usize], cfg: &[usize], offset: usize) -> bool {
    let dirs = &ctx.parsed.directives;
    groups.iter().zip(cfg).all(|(&g, &arm)| {
        match dirs.groups[g]
            .arms
            .iter()
            .position(|a| a.body.contains(&offset))
        {
            Some(a) => a == arm && !(dirs.groups[g].if_zero && a == 0),
            None => true,
        }
    })
}

/// What reaches each call, read and store point, per configuration: values reaching a call
/// are what its ops struct and arguments are built from.
fn observe(
    w: &WalkCtx,
    groups: &[usize],
    configs: &[Vec<usize>],
    facts: &WalkFacts,
) -> Verdict<Vec<Observed>> {
    let (rule, src) = (w.ctx.rule, w.ctx.src);
    let (def_reads, assigns) = symbols(w, &facts.defs);
    let dropped: Vec<usize> = rule
        .fields
        .iter()
        .enumerate()
        .filter(|(_, f)| f.role == Role::Dropped)
        .map(|(i, _)| i)
        .collect();
    let mut observed: Vec<Observed> = Vec::new();
    for cfg in configs {
        let present = |offset: usize| compiled_in(w.ctx, groups, cfg, offset);
        let events = events(w, facts, &assigns, &present);
        let facts = Facts {
            nfields: rule.fields.len(),
            dropped: dropped.clone(),
            def_reads: &def_reads,
            events: &events,
        };
        let obs = flow::run(&facts, src, w.body, &present)
            .map_err(|why| Flag::new(Code::Unsupported, why))?;
        observed.push(obs);
    }
    Ok(observed)
}

/// The walk's events in one configuration, in source order: its declaration (with the
/// initializer members compiled in), zeroings, stores, calls, reads and assignments.
fn events(
    w: &WalkCtx,
    facts: &WalkFacts,
    assigns: &[(usize, u32)],
    present: &dyn Fn(usize) -> bool,
) -> Vec<At> {
    let (walk, zeros) = (w.walk, &facts.zeros);
    let mut events: Vec<At> = Vec::new();
    let decl_members: Vec<(usize, u32)> = facts
        .members
        .iter()
        .filter(|m| present(m.2))
        .map(|m| (m.0, m.1))
        .collect();
    events.push(At {
        offset: walk.decl.end_byte() - 1,
        ev: Ev::Decl {
            members: decl_members,
            initialised: walk.init.is_some(),
            point: 0,
        },
    });
    for (k, z) in zeros.iter().enumerate() {
        events.push(At {
            offset: z.end - 1,
            ev: Ev::Zero { point: 1 + k },
        });
    }
    for (k, (field, def, stmt)) in facts.stores.iter().enumerate() {
        events.push(At {
            offset: stmt.end - 1,
            ev: Ev::Store {
                field: *field,
                def: *def,
                point: 1 + zeros.len() + k,
            },
        });
    }
    for &c in w.mine {
        events.push(At {
            offset: w.calls[c].node.end_byte() - 1,
            ev: Ev::Call { call: c },
        });
    }
    for (k, (_, expr)) in facts.reads.iter().enumerate() {
        events.push(At {
            offset: expr.start,
            ev: Ev::Read { read: k },
        });
    }
    for &(at, s) in assigns {
        events.push(At {
            offset: at,
            ev: Ev::Assign { sym: s },
        });
    }
    events.sort_by_key(|e| e.offset);
    events
}

/// Symbols and the events that may change them: the names each definition reads, and every
/// assignment in the body, so that no value moves past a change of what it reads.
fn symbols(w: &WalkCtx, defs: &[Def]) -> (Vec<Vec<u32>>, Vec<(usize, u32)>) {
    let src = w.ctx.src;
    let mut syms: HashMap<Vec<u8>, u32> = HashMap::new();
    let mut sym = |name: &[u8]| {
        let n = syms.len() as u32;
        *syms.entry(name.to_vec()).or_insert(n)
    };
    // What each definition reads, as symbols (the fixed ids read nothing).
    let def_reads: Vec<Vec<u32>> = (0..FIRST_DEF as usize)
        .map(|_| Vec::new())
        .chain(
            defs.iter()
                .map(|d| reads_of(src, d.node).iter().map(|n| sym(n)).collect()),
        )
        .collect();
    let mut assigns: Vec<(usize, u32)> = Vec::new();
    visit(w.body, &mut |n| {
        if let Some((t, at)) = assigned(src, n)
            && t.kind() == "identifier"
        {
            assigns.push((at, sym(text(src, t))));
        }
    });
    (def_reads, assigns)
}

/// What a node may change, and the offset where the change counts: a name whose address is
/// taken may change through the pointer from that point on.
fn assigned<'t>(src: &[u8], n: Node<'t>) -> Option<(Node<'t>, usize)> {
    match n.kind() {
        "assignment_expression" => n
            .child_by_field_name("left")
            .map(unparen)
            .map(|l| (l, n.end_byte() - 1)),
        "update_expression" => n
            .child_by_field_name("argument")
            .map(unparen)
            .map(|l| (l, n.end_byte() - 1)),
        "pointer_expression"
            if n.child_by_field_name("operator").map(|o| text(src, o)) == Some(b"&") =>
        {
            n.child_by_field_name("argument")
                .map(unparen)
                .map(|l| (l, n.start_byte()))
        }
        "init_declarator" => n
            .child_by_field_name("declarator")
            .map(|l| (l, n.end_byte() - 1)),
        _ => None,
    }
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

/// Per call: argument field values (one text over every configuration) and callback sets.
fn call_plans<'t>(p: &Proof<'_, 't>) -> Verdict<(Vec<CallPlan<'t>>, Vec<Combos>)> {
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
        fields: call_fields(p, c, &all)?,
    };
    Ok((plan, per_cfg))
}

/// The new entry point's field arguments: one text that holds on every path in every
/// configuration, or a flag that names the conditional the value depends on.
fn call_fields(p: &Proof, c: usize, all: &State) -> Verdict<HashMap<usize, String>> {
    let call = &p.w.calls[c];
    let entry = &p.w.ctx.rule.entries[call.entry];
    let mut fields = HashMap::new();
    for a in &entry.new_args {
        if let NewArg::Field(fi) = *a {
            let vals: BTreeSet<(u32, bool)> = all.iter().map(|t| t[fi]).collect();
            let at = call.node.start_byte();
            let v = p
                .resolver
                .argument(fi, &vals, "at the call", at)
                .map_err(|flag| match flag.code {
                    Code::AmbiguousValue => {
                        let per: Vec<Option<&State>> =
                            p.observed.iter().map(|o| o.calls.get(&c)).collect();
                        by_config(&p.resolver, p.groups, &p.configs, &per, fi, at).unwrap_or(flag)
                    }
                    _ => flag,
                })?;
            fields.insert(fi, v);
        }
    }
    Ok(fields)
}

/// Reads elsewhere in the function become the value they would have read.
fn read_plans(p: &Proof) -> Verdict<Vec<(Range<usize>, String)>> {
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

/// Ops structs: one per distinct callback set, or a switched local when the set a call sees
/// depends on the path taken to it.
fn build_plan<'t>(
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
    };
    let switching = combos.iter().any(|per| per.values().any(|s| s.len() > 1));
    if switching {
        switched_specs(p, combos, &mut plan)?;
    } else {
        fixed_specs(p, &mut calls, combos, &mut plan)?;
    }
    lone_body_deleted(w, &plan)?;
    plan.calls = calls;
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

fn text_starts(src: &[u8], r: Range<usize>, kw: &[u8]) -> bool {
    let t = &src[r];
    let t = t[1..].trim_ascii_start();
    t.starts_with(kw)
}

/// Member order: first appearance in the initializer, then in later stores.
fn field_order(
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

fn base_name(rule: &Rule, walk: &str, function: &str) -> String {
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
