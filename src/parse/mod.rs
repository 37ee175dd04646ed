//! The parse view: the file's bytes with kernel annotation macros and conditional directive
//! lines blanked and iterator macros read as loops, same length and same offsets as the
//! original, parsed once with tree-sitter-c. Every node offset is therefore an original offset.

pub mod arms;
pub mod directives;
pub mod items;
pub mod lex;
pub mod macros;
pub mod pieces;

use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use tree_sitter::{InputEdit, Node, ParseOptions, Parser, Point, Tree};

pub use crate::edit::Change;

pub use directives::Directives;
pub use macros::Macros;

/// Annotation macros that expand to nothing or to an attribute; blanked in the view.
const ANNOTATIONS: &[&str] = &[
    "__user",
    "__kernel",
    "__iomem",
    "__percpu",
    "__rcu",
    "__force",
    "__nocast",
    "__safe",
    "__bitwise",
    "__private",
    "__init",
    "__exit",
    "__initdata",
    "__initconst",
    "__exitdata",
    "__ref",
    "__refdata",
    "__meminit",
    "__meminitdata",
    "__read_mostly",
    "__ro_after_init",
    "__always_inline",
    "noinline",
    "notrace",
    "__weak",
    "__sched",
    "__cold",
    "__hot",
    "__pure",
    "__noreturn",
    "__maybe_unused",
    "__always_unused",
    "__used",
    "__must_check",
    "__visible",
    "__latent_entropy",
    "__randomize_layout",
    "__packed",
    "__naked",
    "__noclone",
    "__deprecated",
    "asmlinkage",
    "__kprobes",
    "__flatten",
    "__init_or_module",
    "__cacheline_aligned",
    "__cacheline_aligned_in_smp",
    "____cacheline_aligned",
    "____cacheline_aligned_in_smp",
    "__page_aligned_data",
    "__page_aligned_bss",
    "__attribute_const__",
    "__nocfi",
    "__malloc",
    "__cpuidle",
    "noinstr",
    "__fastcall",
    "__head",
    "__initdata_or_module",
    "__lockfunc",
];
/// Annotation macros with an argument list, blanked with their arguments.
const ANNOTATIONS_WITH_ARGS: &[&str] = &[
    "__acquires",
    "__releases",
    "__must_hold",
    "__printf",
    "__scanf",
    "__aligned",
    "__section",
    "__alloc_size",
    "__cond_acquires",
];

/// What the parser made of one file.
#[derive(Clone)]
pub struct Parsed {
    /// The kernel macros the view was built with (a re-parse uses the same).
    pub macros: std::sync::Arc<Macros>,
    pub lexed: lex::Lexed,
    pub view: Vec<u8>,
    pub tree: Tree,
    pub directives: Directives,
    /// The items the tree holds, when only some were parsed ([`items`]); `None`: all of it.
    pub ranges: Option<Vec<std::ops::Range<usize>>>,
    /// The ranges are pieces of items ([`pieces`]: a function's head, some statements, its
    /// closing brace), read only together: a re-read takes them all.
    pub pieces: bool,
    /// Conditionals the view reads with their first arm only ([`arms`]; empty unless built
    /// with [`Prepared::balanced`]).
    pub one_arm: Vec<usize>,
    /// Built with [`Prepared::balanced`]: a re-read of an edited text is built so too.
    pub balanced: bool,
}

/// A file lexed and viewed, not parsed yet: a kind that needs only some items chooses them
/// from the lexer's words before anything is parsed.
pub struct Prepared {
    pub macros: std::sync::Arc<Macros>,
    pub lexed: lex::Lexed,
    pub view: Vec<u8>,
    pub directives: Directives,
    pub one_arm: Vec<usize>,
    pub balanced: bool,
}

impl Prepared {
    pub fn new(src: &[u8], macros: &std::sync::Arc<Macros>) -> Prepared {
        Prepared::build(src, macros, false)
    }

    /// [`Prepared::new`], but a conditional whose arms each leave the braces unbalanced by
    /// the same amount is read with its first arm only ([`arms`]): the block structure every
    /// configuration has, instead of a tree broken from there on. The analysis that reads
    /// such a view must judge those conditionals' other arms itself.
    pub fn balanced(src: &[u8], macros: &std::sync::Arc<Macros>) -> Prepared {
        Prepared::build(src, macros, true)
    }

    fn build(src: &[u8], macros: &std::sync::Arc<Macros>, balanced: bool) -> Prepared {
        let lexed = lex::lex(src);
        let directives = directives::read(src, &lexed);
        let mut view = view(src, &lexed, &directives, macros);
        let one_arm = match balanced {
            true => arms::one_arm_groups(src, &lexed, &directives),
            false => Vec::new(),
        };
        for arm in arms::later_arms(&directives, &one_arm) {
            blank(&mut view, arm);
        }
        Prepared {
            macros: macros.clone(),
            lexed,
            view,
            directives,
            one_arm,
            balanced,
        }
    }

    /// Parse the view, whole (`None`) or only the given items (sorted, disjoint ranges).
    pub fn parse(
        self,
        ranges: Option<Vec<std::ops::Range<usize>>>,
        timeout: Duration,
    ) -> Result<Parsed, ParseFailure> {
        let tree = items::parse_ranges(&self.view, ranges.as_deref(), timeout)?;
        Ok(self.with_tree(tree, ranges, false))
    }

    /// Parse only the given pieces of items (sorted, disjoint ranges; see [`pieces`]).
    pub fn parse_pieces(
        self,
        ranges: Vec<std::ops::Range<usize>>,
        timeout: Duration,
    ) -> Result<Parsed, ParseFailure> {
        let tree = items::parse_ranges(&self.view, Some(&ranges), timeout)?;
        Ok(self.with_tree(tree, Some(ranges), true))
    }

    fn with_tree(
        self,
        tree: Tree,
        ranges: Option<Vec<std::ops::Range<usize>>>,
        pieces: bool,
    ) -> Parsed {
        Parsed {
            macros: self.macros,
            lexed: self.lexed,
            view: self.view,
            tree,
            directives: self.directives,
            ranges,
            pieces,
            one_arm: self.one_arm,
            balanced: self.balanced,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ParseFailure {
    #[error("parse timed out after {0:?}")]
    Timeout(Duration),
    #[error("tree-sitter could not parse the file")]
    Failed,
    /// The syntax tree nests deeper than [`MAX_DEPTH`]: the analysis walks trees recursively,
    /// and a file nested so deep (no kernel source is) is left unchecked rather than crash.
    #[error("nested more than {MAX_DEPTH} levels deep: not analysed")]
    TooDeep,
    /// The whole analysis of the file (parses and proofs) took longer than the per-file limit.
    #[error(
        "analysis took longer than the per-file limit ({0:?}, --parse-timeout-ms): not analysed"
    )]
    AnalysisTimeout(Duration),
    /// SIGINT/SIGTERM arrived: the parse was abandoned, the run is ending.
    #[error("parse abandoned: interrupted")]
    Interrupted,
}

/// Build the view of `src` and parse it.
pub fn parse(src: &[u8], timeout: Duration) -> Result<Parsed, ParseFailure> {
    parse_with(src, timeout, &std::sync::Arc::new(Macros::builtin()))
}

/// Build the view of `src` with the given kernel macros and parse it.
pub fn parse_with(
    src: &[u8],
    timeout: Duration,
    macros: &std::sync::Arc<Macros>,
) -> Result<Parsed, ParseFailure> {
    Prepared::new(src, macros).parse(None, timeout)
}

/// A fresh whole parse of `src` built as `like` was (its macros, balanced or not).
pub fn parse_like(src: &[u8], timeout: Duration, like: &Parsed) -> Result<Parsed, ParseFailure> {
    Prepared::build(src, &like.macros, like.balanced).parse(None, timeout)
}

/// Parse `src`, an edited version of the text `before` was parsed from (`changes` say where,
/// as [`crate::edit::EditSet::changes`] gives them), reusing `before`'s tree: see [`reparse`].
/// The view keeps offsets, so the changes of the text are the changes of the view. A partial
/// `before` is re-read on the same items, moved by the changes (`None` when a change lies
/// outside them).
pub fn parse_changed(
    src: &[u8],
    before: &Parsed,
    changes: &[Change],
    timeout: Duration,
) -> Result<Option<Parsed>, ParseFailure> {
    let moved = match &before.ranges {
        Some(r) => match items::shifted(r, changes) {
            Some(m) => Some(m),
            None => return Ok(None),
        },
        None => None,
    };
    let p = Prepared::build(src, &before.macros, before.balanced);
    let tree = reparse(
        &before.tree,
        &before.view,
        &p.view,
        changes,
        moved.as_deref(),
        timeout,
    )?;
    Ok(Some(p.with_tree(tree, moved, before.pieces)))
}

thread_local! {
    static PARSER: std::cell::RefCell<Parser> = std::cell::RefCell::new({
        let mut p = Parser::new();
        p.set_language(&tree_sitter_c::LANGUAGE.into()).expect("tree-sitter-c matches tree-sitter");
        p
    });
}

/// Parse bytes with a wall-clock bound (tree-sitter's progress callback).
/// Code read on its own, as the body of a function (a pattern, a macro body, one statement):
/// the tree indexes `bytes`, in which the code starts at `offset`.
pub struct Alone {
    pub tree: Tree,
    pub bytes: Vec<u8>,
    pub offset: usize,
}

/// Read `code` then `tail` (`;`, or nothing) as the body of a function of its own.
pub fn parse_alone(code: &[u8], tail: &[u8]) -> Result<Alone, ParseFailure> {
    const HEAD: &[u8] = b"void __kcm_alone(void)\n{\n";
    let mut bytes = HEAD.to_vec();
    bytes.extend_from_slice(code);
    bytes.extend_from_slice(tail);
    bytes.extend_from_slice(b"\n}\n");
    let tree = parse_bytes(&bytes, Duration::from_secs(5))?;
    Ok(Alone {
        tree,
        bytes,
        offset: HEAD.len(),
    })
}

pub fn parse_bytes(text: &[u8], timeout: Duration) -> Result<Tree, ParseFailure> {
    parse_bytes_from(text, None, timeout)
}

/// Parse only `ranges` of `text`, as one text (tree-sitter's included ranges), reusing `old`
/// (edited to match) where it can; nodes keep their offsets in `text`.
fn parse_bytes_in(
    text: &[u8],
    ranges: &[tree_sitter::Range],
    old: Option<&Tree>,
    timeout: Duration,
) -> Result<Tree, ParseFailure> {
    PARSER
        .with(|p| p.borrow_mut().set_included_ranges(ranges))
        .map_err(|_| ParseFailure::Failed)?;
    let tree = parse_bytes_from(text, old, timeout);
    PARSER
        .with(|p| p.borrow_mut().set_included_ranges(&[]))
        .expect("the whole text is a valid range");
    tree
}

fn parse_bytes_from(
    text: &[u8],
    old: Option<&Tree>,
    timeout: Duration,
) -> Result<Tree, ParseFailure> {
    let start = Instant::now();
    // Also polled for an interrupt, so that Ctrl-C does not wait for a long parse to end.
    let mut cb = |_: &tree_sitter::ParseState| {
        if start.elapsed() > timeout || crate::budget::spent() {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    };
    let tree = PARSER.with(|p| {
        let mut p = p.borrow_mut();
        let len = text.len();
        let r = p.parse_with_options(
            &mut |i, _| if i < len { &text[i..] } else { &[] as &[u8] },
            old,
            Some(ParseOptions::new().progress_callback(&mut cb)),
        );
        p.reset();
        r
    });
    match tree {
        Some(t) if deeper_than(&t, MAX_DEPTH) => Err(ParseFailure::TooDeep),
        Some(t) => Ok(t),
        None if crate::interrupted() => Err(ParseFailure::Interrupted),
        None if start.elapsed() > timeout => Err(ParseFailure::Timeout(timeout)),
        None => Err(ParseFailure::Failed),
    }
}

/// How deep a syntax tree may nest. Kernel code stays far below (a long `else if` chain takes
/// two levels per arm); the analysis's recursive walks over a tree this deep stay well within
/// a worker's stack.
pub const MAX_DEPTH: usize = 1000;

/// Does the tree nest deeper than `max`? Walked without recursion, stopping there. Below a
/// node lie at most as many levels as it has descendants (a count tree-sitter keeps), so a
/// subtree that cannot reach `max` is not entered: most of a kernel file's statements.
fn deeper_than(tree: &Tree, max: usize) -> bool {
    let mut c = tree.walk();
    let mut depth = 0usize;
    loop {
        let fits = depth + c.node().descendant_count() - 1 <= max;
        if !fits && c.goto_first_child() {
            depth += 1;
            if depth > max {
                return true;
            }
            continue;
        }
        while !c.goto_next_sibling() {
            if !c.goto_parent() {
                return false;
            }
            depth -= 1;
        }
    }
}

/// Parse `new`, reusing `old_tree` (the tree of `old`) where the texts agree: tree-sitter's
/// incremental parse, which gives the tree a fresh parse of `new` would give while
/// re-reading only around the changes. `changes` (sorted, disjoint) say where the texts
/// differ; the bytes between them are compared here, and a gap that differs after all joins
/// the changes around it, so a wrong list costs time, never correctness. Lists whose gaps do
/// not even line up fall back to a fresh parse.
///
/// A partial tree is re-read on `ranges`, the items of `new` (see [`items`]).
pub fn reparse(
    old_tree: &Tree,
    old: &[u8],
    new: &[u8],
    changes: &[Change],
    ranges: Option<&[std::ops::Range<usize>]>,
    timeout: Duration,
) -> Result<Tree, ParseFailure> {
    let Some(changes) = verified_changes(old, new, changes) else {
        return items::parse_ranges(new, ranges, timeout);
    };
    let mut tree = old_tree.clone();
    let mut points = Points::new(old);
    let edits: Vec<InputEdit> = changes
        .iter()
        .map(|c| {
            let start_position = points.at(c.old.start);
            let old_end_position = points.at(c.old.end);
            let added = &new[c.new.clone()];
            let new_end_position = match memchr::memrchr(b'\n', added) {
                Some(nl) => Point::new(
                    start_position.row + memchr::memchr_iter(b'\n', added).count(),
                    added.len() - nl - 1,
                ),
                None => Point::new(start_position.row, start_position.column + added.len()),
            };
            InputEdit {
                start_byte: c.old.start,
                old_end_byte: c.old.end,
                new_end_byte: c.old.start + added.len(),
                start_position,
                old_end_position,
                new_end_position,
            }
        })
        .collect();
    // Last first: each edit's offsets are then still those of the old text.
    for e in edits.iter().rev() {
        tree.edit(e);
    }
    items::parse_ranges_from(new, ranges, Some(&tree), timeout)
}

/// Where two texts of one length differ: runs of differing bytes, runs closer than `gap`
/// bytes joined (a change list for [`reparse`] between two readings of one file).
pub fn differing_runs(a: &[u8], b: &[u8], gap: usize) -> Vec<Change> {
    debug_assert_eq!(a.len(), b.len());
    let mut out: Vec<Change> = Vec::new();
    let mut i = 0;
    let n = a.len().min(b.len());
    while i < n {
        if a[i] == b[i] {
            i += 1;
            continue;
        }
        let start = i;
        while i < n && a[i] != b[i] {
            i += 1;
        }
        match out.last_mut() {
            Some(last) if start - last.old.end < gap => {
                last.old.end = i;
                last.new.end = i;
            }
            _ => out.push(Change {
                old: start..i,
                new: start..i,
            }),
        }
    }
    out
}

/// `changes` with every differing gap folded in; `None` when the gaps do not line up.
fn verified_changes(old: &[u8], new: &[u8], changes: &[Change]) -> Option<Vec<Change>> {
    let mut out: Vec<Change> = Vec::with_capacity(changes.len());
    let (mut at_old, mut at_new) = (0, 0);
    let end = Change {
        old: old.len()..old.len(),
        new: new.len()..new.len(),
    };
    for c in changes.iter().chain(std::iter::once(&end)) {
        let (gap_old, gap_new) = (at_old..c.old.start, at_new..c.new.start);
        if c.old.start < at_old || c.new.start < at_new || gap_old.len() != gap_new.len() {
            return None;
        }
        let gap_same = old[gap_old.clone()] == new[gap_new.clone()];
        match out.last_mut() {
            Some(last) if !gap_same => {
                last.old.end = c.old.end;
                last.new.end = c.new.end;
            }
            _ if !gap_same => out.push(Change {
                old: gap_old.start..c.old.end,
                new: gap_new.start..c.new.end,
            }),
            _ => out.push(c.clone()),
        }
        (at_old, at_new) = (c.old.end, c.new.end);
    }
    // The end marker: drop it when empty.
    if out
        .last()
        .is_some_and(|c| c.old.is_empty() && c.new.is_empty())
    {
        out.pop();
    }
    Some(out)
}

/// Row/column of ascending byte offsets in one pass.
pub(crate) struct Points<'a> {
    text: &'a [u8],
    at: usize,
    row: usize,
    line_start: usize,
}

impl<'a> Points<'a> {
    pub(crate) fn new(text: &'a [u8]) -> Self {
        Points {
            text,
            at: 0,
            row: 0,
            line_start: 0,
        }
    }
    /// The point of `offset` (offsets must not decrease between calls).
    pub(crate) fn at(&mut self, offset: usize) -> Point {
        for nl in memchr::memchr_iter(b'\n', &self.text[self.at..offset]) {
            self.row += 1;
            self.line_start = self.at + nl + 1;
        }
        self.at = offset;
        Point::new(self.row, offset - self.line_start)
    }
}

impl Parsed {
    /// The view with conditional `g` read in one configuration: arm `keep` kept (`None`: no
    /// arm at all), its other arms blanked, every other conditional as this view reads it. A
    /// conditional this view reads with its first arm only gets its arms back from `src`.
    pub fn view_keeping(&self, src: &[u8], g: usize, keep: Option<usize>) -> Vec<u8> {
        let mut v = match self.one_arm.contains(&g) {
            false => self.view.clone(),
            true => {
                let others: Vec<usize> = self.one_arm.iter().copied().filter(|o| *o != g).collect();
                let mut v = view(src, &self.lexed, &self.directives, &self.macros);
                for arm in arms::later_arms(&self.directives, &others) {
                    blank(&mut v, arm);
                }
                v
            }
        };
        for (i, a) in self.directives.groups[g].arms.iter().enumerate() {
            if Some(i) != keep {
                blank(&mut v, a.body.clone());
            }
        }
        v
    }
}

impl Parsed {
    /// [`Parsed::view_keeping`]'s bytes in `range` only: what a configuration of `g` reads
    /// there, at the cost of the range (a conditional the view reads with one arm aside).
    pub fn view_keeping_in(
        &self,
        src: &[u8],
        g: usize,
        keep: Option<usize>,
        range: std::ops::Range<usize>,
    ) -> Vec<u8> {
        if self.one_arm.contains(&g) {
            return self.view_keeping(src, g, keep)[range].to_vec();
        }
        let mut v = self.view[range.clone()].to_vec();
        for (i, a) in self.directives.groups[g].arms.iter().enumerate() {
            let (s, e) = (a.body.start.max(range.start), a.body.end.min(range.end));
            if Some(i) != keep && s < e {
                blank(&mut v, s - range.start..e - range.start);
            }
        }
        v
    }
}

fn blank(view: &mut [u8], range: std::ops::Range<usize>) {
    for b in &mut view[range] {
        if *b != b'\n' && *b != b'\r' {
            *b = b' ';
        }
    }
}

fn view(src: &[u8], lexed: &lex::Lexed, dirs: &Directives, macros: &Macros) -> Vec<u8> {
    let mut v = src.to_vec();
    // A UTF-8 byte order mark is not C.
    if v.starts_with(b"\xEF\xBB\xBF") {
        v[..3].copy_from_slice(b"   ");
    }
    // Directives are data (see directives.rs): tree-sitter sees every arm as plain code, and
    // the analysis decides per configuration which arms are present.
    for line in dirs.lines() {
        blank(&mut v, line);
    }
    for g in dirs.groups.iter().filter(|g| g.if_zero) {
        blank(&mut v, g.arms[0].body.clone());
    }
    // The lexer's word list (kept: the kinds read it too); the end of the code gap holding a
    // word is looked up only for the few words that take an argument list.
    let gaps = lexed.code(src.len());
    let gap_end = |at: usize| gaps[gaps.partition_point(|g| g.end <= at)].end;
    let quick = macros.quick();
    for w in lexed.code_word_ranges(src).iter().cloned() {
        let word = &src[w.clone()];
        if v[w.start] == b' ' {
            continue; // already blanked (inside #if 0 or an annotation's arguments)
        }
        let maybe = quick.may_hold(word)
            || is_iterator_name(word)
            || word.starts_with(b"SYSCALL_DEFINE")
            || word.starts_with(b"COMPAT_SYSCALL_DEFINE")
            || word.starts_with(b"BPF_CALL_");
        if !maybe {
            continue; // none of the words below: most words of a file
        }
        if macros.annotations.contains(word) {
            blank(&mut v, w);
        } else if let Some(commas) = syscall_definition(src, w.clone(), gap_end(w.start)) {
            read_as_function(&mut v, w, &commas);
        } else if macros.with_args.contains(word) {
            let end = balanced_parens(src, w.end, gap_end(w.start)).unwrap_or(w.end);
            blank(&mut v, w.start..end);
        } else if (is_iterator_name(word) || macros.iterators.contains(word))
            && let Some(end) = balanced_parens(src, w.end, gap_end(w.start))
            && starts_statement(src, end)
            && word.len() >= 5
        {
            v[w.start..w.start + 5].copy_from_slice(b"while");
            blank(&mut v, w.start + 5..w.end);
        }
    }
    v
}

/// Kernel iterator macros (`for_each_node_state(nid, N_MEMORY) stmt`, `list_for_each_entry`):
/// a call followed by a statement, read as a `while` loop with a comma condition.
/// `SYSCALL_DEFINEn(name, type, arg, ...)` (or `COMPAT_SYSCALL_DEFINEn`, or a BPF helper's
/// `BPF_CALL_n`, the same shape) opening a line and followed by a body: the offsets of the
/// commas of its list, `2n` of them and no nested parentheses. Read as written it is a call,
/// and the body a stray block: every such body then holds parse errors and its code no
/// function.
fn syscall_definition(src: &[u8], w: std::ops::Range<usize>, limit: usize) -> Option<Vec<usize>> {
    let word = &src[w.clone()];
    // The argument count after the name, and the most the macro takes.
    let (count, most) = match word.strip_prefix(b"BPF_CALL_") {
        Some(d) => (d, b'5'),
        None => {
            let syscall = word.strip_prefix(b"COMPAT_").unwrap_or(word);
            (syscall.strip_prefix(b"SYSCALL_DEFINE")?, b'6')
        }
    };
    let n = match count {
        [d] if (b'1'..=most).contains(d) => d - b'0',
        _ => return None,
    };
    if w.start > 0 && src[w.start - 1] != b'\n' || src.get(w.end) != Some(&b'(') {
        return None;
    }
    let end = balanced_parens(src, w.end, limit)?;
    let list = &src[w.end + 1..end - 1];
    if list.iter().any(|b| matches!(b, b'(' | b')' | b'#')) || !starts_body(src, end) {
        return None;
    }
    let commas: Vec<usize> = (w.end + 1..end - 1).filter(|&i| src[i] == b',').collect();
    (commas.len() == 2 * n as usize).then_some(commas)
}

/// Is the next code after `at` a `{` (white space between)?
fn starts_body(src: &[u8], at: usize) -> bool {
    src[at..]
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b == b'{')
}

/// The view of a syscall definition is the function it defines, offsets kept:
/// `SYSCALL_DEFINE2(dup2, unsigned int, oldfd, unsigned int, newfd)` reads as
/// `long           dup2( unsigned int  oldfd, unsigned int  newfd)`.
fn read_as_function(v: &mut [u8], w: std::ops::Range<usize>, commas: &[usize]) {
    v[w.start..w.start + 4].copy_from_slice(b"long");
    blank(v, w.start + 4..w.end + 1);
    v[commas[0]] = b'(';
    for c in commas.iter().skip(1).step_by(2) {
        v[*c] = b' ';
    }
}

fn is_iterator_name(word: &[u8]) -> bool {
    word.windows(8).any(|w| w == b"for_each")
}

/// After optional whitespace at `from`, a `(` group closing before `limit`: its end offset.
fn balanced_parens(src: &[u8], from: usize, limit: usize) -> Option<usize> {
    let mut i = from;
    while i < limit && src[i].is_ascii_whitespace() {
        i += 1;
    }
    if i >= limit || src[i] != b'(' {
        return None;
    }
    let mut depth = 0usize;
    while i < limit {
        match src[i] {
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            b'"' | b'\'' | b'/' => return None, // literals and comments: not ours to judge
            _ => {}
        }
        i += 1;
    }
    None
}

fn starts_statement(src: &[u8], at: usize) -> bool {
    let rest = &src[at..];
    match rest.iter().position(|b| !b.is_ascii_whitespace()) {
        Some(k) => rest[k] == b'{' || lex::is_ident_byte(rest[k]),
        None => false,
    }
}

/// Conditional directive lines (`#if` … `#endif`, with their continuations) blanked, offsets
/// kept, and nothing else: a deliberately simple second reading of a file, independent of the
/// parse view. The self-check, the property tests and the fuzz target compare parse errors
/// before and after a rewrite under it (tree-sitter-c cannot read a conditional inside an
/// initializer, so counting those would flag correct output).
pub fn blank_conditional_lines(src: &[u8]) -> Vec<u8> {
    let mut out = src.to_vec();
    let mut at = 0;
    let mut continued = false;
    let mut in_comment = false;
    while at < src.len() {
        let end = src[at..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(src.len(), |i| at + i);
        let line = &src[at..end];
        let directive = skip_blanks(line).strip_prefix(b"#").map(|r| {
            let r = skip_blanks(r);
            ["if", "ifdef", "ifndef", "elif", "else", "endif"]
                .iter()
                .any(|d| {
                    r.starts_with(d.as_bytes())
                        && r.get(d.len())
                            .is_none_or(|c| !(c.is_ascii_alphanumeric() || *c == b'_'))
                })
        }) == Some(true);
        if directive || continued {
            for b in &mut out[at..end] {
                if *b != b'\r' {
                    *b = b' ';
                }
            }
            // A directive runs on past a backslash-newline, and through a block comment that
            // it opens and a later line closes (the C preprocessor reads it so).
            let mut open = in_comment;
            let mut i = 0;
            while i + 1 < line.len() {
                match (open, &line[i..i + 2]) {
                    (false, b"/*") | (true, b"*/") => {
                        open = !open;
                        i += 2;
                    }
                    _ => i += 1,
                }
            }
            in_comment = open;
            continued = open || line.strip_suffix(b"\r").unwrap_or(line).ends_with(b"\\");
        }
        at = end + 1;
    }
    out
}

/// `l` without its leading spaces and tabs.
fn skip_blanks(l: &[u8]) -> &[u8] {
    let k = l.iter().position(|b| *b != b' ' && *b != b'\t');
    &l[k.unwrap_or(l.len())..]
}

/// The text of a node in the original buffer.
pub fn text<'a>(src: &'a [u8], node: Node) -> &'a [u8] {
    &src[node.byte_range()]
}

/// Offset of the start of the line holding `at`.
pub fn line_start(src: &[u8], at: usize) -> usize {
    memchr::memrchr(b'\n', &src[..at]).map_or(0, |i| i + 1)
}

/// Offset of the newline ending the line holding `at` (or the end of the file).
pub fn line_end(src: &[u8], at: usize) -> usize {
    memchr::memchr(b'\n', &src[at..]).map_or(src.len(), |i| at + i)
}

/// 1-based line of a byte offset.
pub fn line_of(src: &[u8], offset: usize) -> usize {
    memchr::memchr_iter(b'\n', &src[..offset.min(src.len())]).count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view_of(src: &str) -> String {
        let l = lex::lex(src.as_bytes());
        let d = directives::read(src.as_bytes(), &l);
        String::from_utf8(view(src.as_bytes(), &l, &d, &Macros::builtin())).unwrap()
    }

    /// The depth as a walk of every node finds it.
    fn depth_of(tree: &Tree) -> usize {
        fn down(n: tree_sitter::Node) -> usize {
            let mut c = n.walk();
            n.children(&mut c).map(|k| 1 + down(k)).max().unwrap_or(0)
        }
        down(tree.root_node())
    }

    #[test]
    fn depth_is_answered_as_a_walk_of_every_node_answers_it() {
        let nested = |n: usize| format!("int x = {}1{};\n", "(".repeat(n), ")".repeat(n));
        let chain = |n: usize| format!("int f(void)\n{{\n\treturn 1{};\n}}\n", " + 1".repeat(n));
        for src in [nested(3), nested(120), nested(400), chain(50), chain(700)] {
            let tree = parse_bytes_from(src.as_bytes(), None, Duration::from_secs(20)).unwrap();
            let depth = depth_of(&tree);
            for max in [depth.saturating_sub(1), depth, depth + 1, 5, 100, 1000] {
                assert_eq!(
                    deeper_than(&tree, max),
                    depth > max,
                    "max {max}, depth {depth}"
                );
            }
        }
    }

    #[test]
    fn a_syscall_definition_reads_as_the_function_it_defines() {
        let src = "SYSCALL_DEFINE3(mprotect, unsigned long, start, size_t, len,\n\t\tunsigned long, prot)\n{\n\treturn do_mprotect(start, len, prot);\n}\n";
        let view = view_of(src);
        assert_eq!(view.len(), src.len());
        let head = format!(
            "long{}mprotect( unsigned long  start, size_t  len,\n\t\tunsigned long  prot)\n{{",
            " ".repeat(12)
        );
        assert!(view.starts_with(&head), "{view}");
        let parsed = parse(src.as_bytes(), Duration::from_secs(5)).unwrap();
        let root = parsed.tree.root_node();
        assert!(!root.has_error(), "{}", root.to_sexp());
        assert_eq!(root.named_child(0).unwrap().kind(), "function_definition");
        // Not a definition (a call, a declaration, a list it cannot map): read as written.
        for other in [
            "\tSYSCALL_DEFINE1(brk, unsigned long, brk)\n{\n}\n",
            "SYSCALL_DEFINE1(brk, unsigned long, brk);\n",
            "SYSCALL_DEFINE2(brk, unsigned long, brk)\n{\n}\n",
            "SYSCALL_DEFINE1(brk, f(x), brk)\n{\n}\n",
            "SYSCALL_DEFINE0(getpid)\n{\n}\n",
            "BPF_CALL_0(bpf_get_smp_processor_id)\n{\n}\n",
            "BPF_CALL_6(bpf_x, u64, a, u64, b, u64, c, u64, d, u64, e, u64, f)\n{\n}\n",
        ] {
            assert_eq!(view_of(other), other, "{other}");
        }
    }

    /// A BPF helper (`BPF_CALL_n(name, type, arg, ...)`, kernel/trace/bpf_trace.c) has the
    /// syscall's shape and is read the same way: its sites name the helper.
    #[test]
    fn a_bpf_helper_reads_as_the_function_it_defines() {
        let src = "BPF_CALL_3(bpf_probe_read, void *, dst, u32, size, const void *, unsafe_ptr)\n{\n\treturn probe_kernel_read(dst, unsafe_ptr, size);\n}\n";
        let view = view_of(src);
        assert_eq!(view.len(), src.len());
        assert!(view.starts_with("long"), "{view}");
        assert!(
            view.contains("bpf_probe_read( void *  dst, u32  size, const void *  unsafe_ptr)"),
            "{view}"
        );
        let parsed = parse(src.as_bytes(), Duration::from_secs(5)).unwrap();
        let root = parsed.tree.root_node();
        assert!(!root.has_error(), "{}", root.to_sexp());
        assert_eq!(root.named_child(0).unwrap().kind(), "function_definition");
    }

    #[test]
    fn view_keeps_offsets_and_blanks_what_breaks_the_parse() {
        let src = "static int f(const char __user *buf)\n{\n\tint nid;\n\n\tfor_each_node_state(nid, N_MEMORY)\n\t\tg(nid);\n#ifdef X\n\th();\n#endif\n\treturn 0; /* __user */\n}\n";
        let v = view_of(src);
        assert_eq!(v.len(), src.len());
        assert!(v.contains("const char        *buf"));
        assert!(v.contains("\twhile              (nid, N_MEMORY)\n"));
        assert!(v.contains("\n        \n\th();\n      \n"));
        assert!(v.contains("/* __user */"));
        let t = parse_bytes(v.as_bytes(), Duration::from_secs(5)).unwrap();
        assert!(!t.root_node().has_error(), "{}", t.root_node().to_sexp());
    }

    fn ch(old: std::ops::Range<usize>, new: std::ops::Range<usize>) -> Change {
        Change { old, new }
    }

    #[test]
    fn change_lists_are_checked_against_the_bytes() {
        let (old, new) = (b"int a; int b; int c;", b"int a; long bb; int c;");
        // Exact: kept as given.
        assert_eq!(
            verified_changes(old, new, &[ch(7..10, 7..11), ch(11..12, 12..14)]),
            Some(vec![ch(7..10, 7..11), ch(11..12, 12..14)])
        );
        // Incomplete: a gap that differs joins the change before it; one whose length
        // differs cannot be repaired.
        assert_eq!(
            verified_changes(old, b"int a; long b; int d;", &[ch(7..10, 7..11)]),
            Some(vec![ch(7..20, 7..21)])
        );
        assert_eq!(verified_changes(old, new, &[ch(7..10, 7..11)]), None);
        assert_eq!(verified_changes(old, new, &[]), None);
        assert_eq!(
            verified_changes(b"abc", b"abd", &[]),
            Some(vec![ch(0..3, 0..3)])
        );
        assert_eq!(verified_changes(b"abc", b"abc", &[]), Some(vec![]));
        // Out of order or out of line: a fresh parse instead.
        assert_eq!(
            verified_changes(old, new, &[ch(11..12, 12..14), ch(7..10, 7..11)]),
            None
        );
    }

    #[test]
    fn differing_runs_join_near_runs() {
        assert_eq!(
            differing_runs(b"aXbXcccccccYd", b"a-b-cccccccZd", 3),
            [ch(1..4, 1..4), ch(11..12, 11..12)]
        );
        assert!(differing_runs(b"same", b"same", 8).is_empty());
    }

    #[test]
    fn reparse_gives_the_fresh_tree() {
        let t = Duration::from_secs(5);
        let old = b"static int f(void)\n{\n\treturn g(1, 2);\n}\n\nint x;\n";
        let new = b"static int f(void)\n{\n\treturn g(&ops, 1,\n\t\t 2);\n}\n\nint x;\n";
        let old_tree = parse_bytes(old, t).unwrap();
        let fresh = parse_bytes(new, t).unwrap().root_node().to_sexp();
        for changes in [vec![ch(32..32, 32..38), ch(35..36, 41..45)], vec![]] {
            let inc = reparse(&old_tree, old, new, &changes, None, t).unwrap();
            assert_eq!(inc.root_node().to_sexp(), fresh);
            assert_eq!(inc.root_node().end_byte(), new.len());
        }
    }

    #[test]
    fn a_balanced_view_reads_one_arm_of_a_conditional_that_opens_a_block() {
        let src = b"void f(void)\n{\n#ifdef A\n\tif (a || b) {\n#else\n\tif (a) {\n#endif\n\t\tg();\n\t}\n}\n\nvoid h(void)\n{\n}\n";
        let m = std::sync::Arc::new(Macros::builtin());
        let t = Duration::from_secs(5);
        // The plain view (every other kind's) is unchanged, and broken from there on.
        let plain = Prepared::new(src, &m).parse(None, t).unwrap();
        assert!(plain.one_arm.is_empty() && !plain.balanced);
        assert!(plain.tree.root_node().has_error());
        let p = Prepared::balanced(src, &m).parse(None, t).unwrap();
        assert_eq!((p.one_arm.as_slice(), p.view.len()), (&[0][..], src.len()));
        assert!(
            !p.tree.root_node().has_error(),
            "{}",
            p.tree.root_node().to_sexp()
        );
        let text = |v: &[u8]| String::from_utf8(v.to_vec()).unwrap();
        assert!(text(&p.view).contains("if (a || b) {") && !text(&p.view).contains("if (a) {"));
        // The other arm, for the analysis to check.
        let other = text(&p.view_keeping(src, 0, Some(1)));
        assert!(other.contains("if (a) {") && !other.contains("a || b"));
        // An edited text is read the same way.
        let again = parse_like(src, t, &p).unwrap();
        assert_eq!(again.view, p.view);
    }

    #[test]
    fn if_zero_arms_are_dead() {
        let v = view_of("#if 0\nthis is not C\n#else\nint x;\n#endif\n");
        assert_eq!(v.trim(), "int x;");
    }

    #[test]
    fn for_each_followed_by_semicolon_is_not_a_loop() {
        let v = view_of("void f(void)\n{\n\tfor_each_cpu_do(x);\n}\n");
        assert!(v.contains("for_each_cpu_do(x);"));
    }
}
