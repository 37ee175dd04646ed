//! What reaches each call of one walk: its preprocessor configurations, the events of its
//! function in source order, and one dataflow run per configuration.

use std::collections::HashMap;
use std::ops::Range;

use tree_sitter::Node;

use super::{WalkCtx, WalkFacts};
use crate::kinds::struct_to_ops::rule::Role;
use crate::parse::text;
use crate::struct_to_ops::analyse::FileCtx;
use crate::struct_to_ops::find::{unparen, visit};
use crate::struct_to_ops::flow::{self, At, Ev, FIRST_DEF, Facts, Observed};
use crate::struct_to_ops::model::{Code, Flag, Verdict};
use crate::struct_to_ops::values::{Def, reads_of};

/// Configurations: one arm choice per conditional group that matters to the walk. A group
/// without `#else` has one more choice: none of its arms.
pub(super) fn configurations(ctx: &FileCtx, groups: &[usize]) -> Vec<Vec<usize>> {
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
pub(super) fn observe(
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

/// Does the directive line `r` start with `kw` after its `#`? C allows spaces between them.
fn text_starts(src: &[u8], r: Range<usize>, kw: &[u8]) -> bool {
    let t = &src[r];
    let t = t[1..].trim_ascii_start();
    t.starts_with(kw)
}
