//! Which store reaches which call: a control-flow graph of one function body built from the
//! tree for one preprocessor configuration, and reaching definitions over it, per field, as
//! sets of whole-walk tuples (so that combinations of callbacks stay correlated).

use std::collections::{BTreeSet, HashMap};

use tree_sitter::Node;

use super::find::named_children;

/// Definition ids with a fixed meaning; real definitions start at [`FIRST_DEF`].
pub const UNDEF: u32 = 0;
pub const DEFAULT: u32 = 1;
pub const CLOBBER: u32 = 2;
pub const FIRST_DEF: u32 = 3;

/// The value of one field: which definition reaches, and whether something it reads was
/// reassigned since.
pub type Val = (u32, bool);
pub type Tuple = Vec<Val>;
pub type State = BTreeSet<Tuple>;

/// The most tuples a state may hold before the analysis gives up on a walk.
pub const MAX_TUPLES: usize = 256;

#[derive(Debug, Clone)]
pub enum Ev {
    /// The walk's declaration: listed members get their definitions, the rest `DEFAULT`
    /// (initializer present) or `UNDEF`; `point` indexes the store points.
    Decl {
        members: Vec<(usize, u32)>,
        initialised: bool,
        point: usize,
    },
    Zero {
        point: usize,
    },
    Store {
        field: usize,
        def: u32,
        point: usize,
    },
    Call {
        call: usize,
    },
    Read {
        read: usize,
    },
    /// An identifier is (or may be) written.
    Assign {
        sym: u32,
    },
}

/// An event at a byte offset of the original file.
#[derive(Debug, Clone)]
pub struct At {
    pub offset: usize,
    pub ev: Ev,
}

/// What the dataflow saw at each call, read and store point, for one configuration.
#[derive(Debug, Default, Clone)]
pub struct Observed {
    pub calls: HashMap<usize, State>,
    pub reads: HashMap<usize, State>,
    pub points: HashMap<usize, State>,
}

pub struct Facts<'a> {
    pub nfields: usize,
    /// Fields the callee sets (clobbered at each call).
    pub dropped: Vec<usize>,
    /// For each definition id, the symbols it reads.
    pub def_reads: &'a [Vec<u32>],
    /// Events sorted by offset.
    pub events: &'a [At],
}

#[derive(Default)]
struct Block {
    events: Vec<usize>,
    succ: Vec<usize>,
}

struct Builder<'a, 'f> {
    facts: &'a Facts<'f>,
    present: &'a dyn Fn(usize) -> bool,
    blocks: Vec<Block>,
    /// (continue target, break target); continue is None for a switch.
    jumps: Vec<(Option<usize>, usize)>,
    labels: HashMap<Vec<u8>, usize>,
    src: &'a [u8],
    exit: usize,
    unsupported: Option<String>,
}

impl Builder<'_, '_> {
    fn block(&mut self) -> usize {
        self.blocks.push(Block::default());
        self.blocks.len() - 1
    }
    fn edge(&mut self, a: usize, b: usize) {
        self.blocks[a].succ.push(b);
    }
    fn label(&mut self, name: &[u8]) -> usize {
        if let Some(&b) = self.labels.get(name) {
            return b;
        }
        let b = self.block();
        self.labels.insert(name.to_vec(), b);
        b
    }
    /// Append the events inside `range` (in order) to block `b`.
    fn events(&mut self, n: Option<Node>, b: usize) {
        let Some(n) = n else { return };
        let (s, e) = (n.start_byte(), n.end_byte());
        let ev = self.facts.events;
        let first = ev.partition_point(|a| a.offset < s);
        for (i, at) in ev.iter().enumerate().skip(first) {
            if at.offset >= e {
                break;
            }
            if (self.present)(at.offset) {
                self.blocks[b].events.push(i);
            }
        }
    }

    fn stmt(&mut self, n: Node, cur: usize) -> usize {
        if !(self.present)(n.start_byte()) {
            return self.absent(n, cur);
        }
        let f = |k: &str| n.child_by_field_name(k);
        match n.kind() {
            "compound_statement" => {
                let mut cur = cur;
                for c in named_children(n) {
                    cur = self.stmt(c, cur);
                }
                cur
            }
            "if_statement" => {
                self.events(f("condition"), cur);
                let then_b = self.block();
                self.edge(cur, then_b);
                let join = self.block();
                let t = match f("consequence") {
                    Some(c) => self.stmt(c, then_b),
                    None => then_b,
                };
                self.edge(t, join);
                match f("alternative") {
                    Some(alt) => {
                        let else_b = self.block();
                        self.edge(cur, else_b);
                        let body = named_children(alt).into_iter().next();
                        let e = match body {
                            Some(b) => self.stmt(b, else_b),
                            None => else_b,
                        };
                        self.edge(e, join);
                    }
                    None => self.edge(cur, join),
                }
                join
            }
            "while_statement" => {
                let head = self.block();
                self.edge(cur, head);
                self.events(f("condition"), head);
                self.looped(n, head, head)
            }
            "for_statement" => {
                self.events(f("initializer"), cur);
                let head = self.block();
                self.edge(cur, head);
                self.events(f("condition"), head);
                let update = self.block();
                self.events(f("update"), update);
                self.edge(update, head);
                self.looped(n, head, update)
            }
            "do_statement" => {
                let body_b = self.block();
                self.edge(cur, body_b);
                let cond = self.block();
                let after = self.block();
                self.jumps.push((Some(cond), after));
                let e = match f("body") {
                    Some(b) => self.stmt(b, body_b),
                    None => body_b,
                };
                self.jumps.pop();
                self.edge(e, cond);
                self.events(f("condition"), cond);
                self.edge(cond, body_b);
                self.edge(cond, after);
                after
            }
            "switch_statement" => {
                self.events(f("condition"), cur);
                let after = self.block();
                self.jumps.push((None, after));
                let mut fall: Option<usize> = None;
                let mut has_default = false;
                let body = f("body").map(named_children).unwrap_or_default();
                for c in body {
                    if c.kind() == "case_statement" {
                        if !(self.present)(c.start_byte()) {
                            continue;
                        }
                        let case_b = self.block();
                        self.edge(cur, case_b);
                        if let Some(p) = fall {
                            self.edge(p, case_b);
                        }
                        has_default |= c.child_by_field_name("value").is_none();
                        let mut b = case_b;
                        let value = c.child_by_field_name("value");
                        for s in named_children(c) {
                            if Some(s) == value {
                                continue;
                            }
                            b = self.stmt(s, b);
                        }
                        fall = Some(b);
                    } else {
                        let start = fall.unwrap_or_else(|| self.block());
                        fall = Some(self.stmt(c, start));
                    }
                }
                self.jumps.pop();
                if let Some(p) = fall {
                    self.edge(p, after);
                }
                if !has_default {
                    self.edge(cur, after);
                }
                after
            }
            "break_statement" => {
                match self.jumps.last() {
                    Some(&(_, brk)) => self.edge(cur, brk),
                    None => self.unsupported = Some("`break` outside a loop or switch".into()),
                }
                self.block()
            }
            "continue_statement" => {
                match self.jumps.iter().rev().find_map(|j| j.0) {
                    Some(c) => self.edge(cur, c),
                    None => self.unsupported = Some("`continue` outside a loop".into()),
                }
                self.block()
            }
            "return_statement" => {
                self.events(Some(n), cur);
                let exit = self.exit;
                self.edge(cur, exit);
                self.block()
            }
            "goto_statement" => {
                let name = f("label")
                    .map(|l| self.src[l.byte_range()].to_vec())
                    .unwrap_or_default();
                let target = self.label(&name);
                self.edge(cur, target);
                self.block()
            }
            "labeled_statement" => {
                let name = f("label")
                    .map(|l| self.src[l.byte_range()].to_vec())
                    .unwrap_or_default();
                let target = self.label(&name);
                self.edge(cur, target);
                let label = f("label");
                let mut b = target;
                for s in named_children(n) {
                    if Some(s) != label {
                        b = self.stmt(s, b);
                    }
                }
                b
            }
            _ => {
                self.events(Some(n), cur);
                cur
            }
        }
    }

    /// A statement that starts in an arm this configuration leaves out. What it holds beyond
    /// the arm (the `else` of an `else if` the arm adds, the body of an `if` header it adds)
    /// runs as plain code in its place: the guards only let through conditionals that keep
    /// the nesting of code outside them, so that is this configuration's reading.
    fn absent(&mut self, n: Node, cur: usize) -> usize {
        let mut cur = cur;
        for c in named_children(n) {
            if !(self.present)(c.start_byte()) {
                cur = self.absent(c, cur);
            } else if c.kind() == "else_clause" {
                for b in named_children(c) {
                    cur = self.stmt(b, cur);
                }
            } else {
                cur = self.stmt(c, cur);
            }
        }
        cur
    }

    /// A loop whose condition sits in `head`; `cont` is where `continue` goes.
    fn looped(&mut self, n: Node, head: usize, cont: usize) -> usize {
        let body_b = self.block();
        let after = self.block();
        self.edge(head, body_b);
        self.edge(head, after);
        self.jumps.push((Some(cont), after));
        let e = match n.child_by_field_name("body") {
            Some(b) => self.stmt(b, body_b),
            None => body_b,
        };
        self.jumps.pop();
        self.edge(e, cont);
        after
    }
}

/// Run reaching definitions over `body` for one configuration (`present` says which offsets
/// exist in it). `Err` carries a reason the function cannot be analysed.
pub fn run(
    facts: &Facts,
    src: &[u8],
    body: Node,
    present: &dyn Fn(usize) -> bool,
) -> Result<Observed, String> {
    let mut b = Builder {
        facts,
        present,
        blocks: Vec::new(),
        jumps: Vec::new(),
        labels: HashMap::new(),
        src,
        exit: 0,
        unsupported: None,
    };
    let entry = b.block();
    b.exit = b.block();
    let last = b.stmt(body, entry);
    let exit = b.exit;
    b.edge(last, exit);
    if let Some(why) = b.unsupported {
        return Err(why);
    }
    let blocks = b.blocks;
    let mut preds = vec![Vec::new(); blocks.len()];
    for (i, bl) in blocks.iter().enumerate() {
        for &s in &bl.succ {
            preds[s].push(i);
        }
    }
    let start: Tuple = vec![(UNDEF, false); facts.nfields];
    let mut input: Vec<State> = vec![State::new(); blocks.len()];
    input[entry].insert(start);
    let mut output: Vec<Option<State>> = vec![None; blocks.len()];
    let mut work: Vec<usize> = vec![entry];
    let mut queued = vec![false; blocks.len()];
    queued[entry] = true;
    let mut scratch = Observed::default();
    while let Some(i) = work.pop() {
        queued[i] = false;
        let out = transfer(facts, &blocks[i].events, &input[i], &mut scratch)?;
        if output[i].as_ref() == Some(&out) {
            continue;
        }
        for &s in &blocks[i].succ {
            let before = input[s].len();
            input[s].extend(out.iter().cloned());
            if input[s].len() > MAX_TUPLES {
                return Err("too many paths through the function".into());
            }
            if (input[s].len() != before || output[s].is_none()) && !queued[s] {
                queued[s] = true;
                work.push(s);
            }
        }
        output[i] = Some(out);
    }
    // One last pass from the fixed point records what each event sees.
    let mut seen = Observed::default();
    for (i, bl) in blocks.iter().enumerate() {
        if output[i].is_some() {
            transfer(facts, &bl.events, &input[i], &mut seen)?;
        }
    }
    Ok(seen)
}

fn transfer(
    facts: &Facts,
    events: &[usize],
    input: &State,
    seen: &mut Observed,
) -> Result<State, String> {
    let mut state = input.clone();
    for &e in events {
        let at = &facts.events[e];
        match &at.ev {
            Ev::Decl {
                members,
                initialised,
                point,
            } => {
                let fill = if *initialised { DEFAULT } else { UNDEF };
                let mut t: Tuple = vec![(fill, false); facts.nfields];
                for &(f, d) in members {
                    t[f] = (d, false);
                }
                state = State::from([t]);
                seen.points
                    .entry(*point)
                    .or_default()
                    .extend(state.iter().cloned());
            }
            Ev::Zero { point } => {
                state = State::from([vec![(DEFAULT, false); facts.nfields]]);
                seen.points
                    .entry(*point)
                    .or_default()
                    .extend(state.iter().cloned());
            }
            Ev::Store { field, def, point } => {
                state = state
                    .into_iter()
                    .map(|mut t| {
                        t[*field] = (*def, false);
                        t
                    })
                    .collect();
                seen.points
                    .entry(*point)
                    .or_default()
                    .extend(state.iter().cloned());
            }
            Ev::Call { call } => {
                seen.calls
                    .entry(*call)
                    .or_default()
                    .extend(state.iter().cloned());
                // The callee sets its own fields; a later read cannot know their value.
                let mut next = state.clone();
                for t in &state {
                    let mut t = t.clone();
                    for &f in &facts.dropped {
                        t[f] = (CLOBBER, false);
                    }
                    next.insert(t);
                }
                state = next;
            }
            Ev::Read { read } => {
                seen.reads
                    .entry(*read)
                    .or_default()
                    .extend(state.iter().cloned());
            }
            Ev::Assign { sym } => {
                state = state
                    .into_iter()
                    .map(|mut t| {
                        for v in t.iter_mut() {
                            if facts
                                .def_reads
                                .get(v.0 as usize)
                                .is_some_and(|r| r.contains(sym))
                            {
                                v.1 = true;
                            }
                        }
                        t
                    })
                    .collect();
            }
        }
        if state.len() > MAX_TUPLES {
            return Err("too many paths through the function".into());
        }
    }
    Ok(state)
}
