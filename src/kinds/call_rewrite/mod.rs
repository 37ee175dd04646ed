//! The call-rewrite kind: calls (or statements) matching a rule's `from` patterns become its
//! `to` templates, metavariables keeping their bytes as written. Every other use of a watched
//! name or member in the code is a flagged site, and the tree's own definitions of the watched
//! names (the API side) are removed, kept or flagged as the rule says. Parses only the items
//! that name a watched word; hands sites and one edit set to the pipeline.

mod calls;
mod macros;
pub mod pattern;
pub mod rule;
mod uses;

#[cfg(test)]
mod tests;

use std::ops::Range;

use tree_sitter::Node;

use crate::edit::Edit;
use crate::kinds::{FileCtx, RuleKind};
use crate::model::{Code, FileResult, Flag, Outcome, Site};
use crate::parse::{ParseFailure, Parsed, Prepared, items, lex, line_of, text};
use crate::rule::Rule;
pub use rule::{Api, Rewrite, When};

/// A compiled call-rewrite rule.
#[derive(Debug, Clone)]
pub struct CallRewrite {
    pub rewrites: Vec<Rewrite>,
    /// Function names whose every other use is a site.
    pub names: Vec<String>,
    /// Struct members whose every other use is a site.
    pub members: Vec<String>,
    /// What becomes of the tree's own definitions of `names`.
    pub api: Api,
}

impl RuleKind for CallRewrite {
    fn name(&self) -> &'static str {
        "call-rewrite"
    }
    fn migrate(&self, rule: &Rule, cx: &FileCtx, src: &[u8]) -> Result<FileResult, ParseFailure> {
        self.run(rule, src, cx, Reading::Pieces)
    }
    /// Under `--compat` the pipeline writes each rewritten statement's lines twice, the new
    /// call under the version check and the old one under `#else`; a call inside an
    /// expression is flagged instead (see [`calls::judge`]).
    fn compat_by_frames(&self) -> bool {
        true
    }
    fn callers_only(&self) -> bool {
        self.api != Api::Remove
    }
    /// No `to` names a watched name (`netif_rx_ni()` → `netif_rx()`; not `access_ok()`, whose
    /// new form keeps the name and needs the new definition).
    fn converted_code_needs_no_old_api(&self) -> bool {
        self.rewrites
            .iter()
            .filter(|r| r.flag.is_none())
            .all(|r| !self.names.iter().any(|n| r.to.names(n)))
    }
    fn callers_change(&self, _: &Rule) -> String {
        let mut pairs: Vec<String> = Vec::new();
        for r in self.rewrites.iter().filter(|r| r.flag.is_none()) {
            let (Some(f), Some(g)) = (r.from.callee(), r.to.callee()) else {
                continue;
            };
            let p = format!("{f}() with {g}()");
            if !pairs.contains(&p) {
                pairs.push(p);
            }
        }
        match pairs.len() {
            0 => "rewrite calls".into(),
            1 | 2 => format!("replace {}", pairs.join(" and ")),
            n => format!("replace {} and {} more", pairs[0], n - 1),
        }
    }
    fn mechanics(&self, _: &Rule) -> String {
        let api = match self.api {
            Api::Remove => {
                " The old functions' own definitions, prototypes and exports are removed."
            }
            Api::Keep | Api::Flag => "",
        };
        format!(
            "each call that matches one of the rule's patterns is rewritten to its new form, its arguments kept as written; every other use of {} is left for review.{api}",
            self.words().join(", ")
        )
    }
    fn rewrites_definition_comments(&self, src: &[u8]) -> bool {
        // Removing an old function removes its kernel-doc, and its `#ifndef` with its comment.
        self.api == Api::Remove && self.defines_api(src)
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// How much of a file a pass reads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Reading {
    /// The pieces the proof needs ([`crate::parse::pieces`]): what a run reads.
    #[default]
    Pieces,
    /// The whole file: what the pieces must agree with (the property tests compare them).
    Whole,
}

/// How one text is migrated.
#[derive(Debug, Clone, Copy, Default)]
pub struct Mode {
    /// Convert the API side too.
    pub api: bool,
    /// The version the rule's new API arrived in: a match only kernels before it compile
    /// (the `#else` of a version check for it) is compat, left alone.
    pub since: Option<crate::rule::Since>,
    /// `--compat`: only a call that is a statement of its own converts (its lines are written
    /// twice by the pipeline).
    pub compat: bool,
    /// How much of the file is read.
    pub reading: Reading,
}

impl CallRewrite {
    /// Migrate one file, reading it as `reading` says.
    pub fn run(
        &self,
        rule: &Rule,
        src: &[u8],
        cx: &FileCtx,
        reading: Reading,
    ) -> Result<FileResult, ParseFailure> {
        let mode = Mode {
            api: cx.api,
            since: rule.since,
            compat: cx.compat.is_some(),
            reading,
        };
        let (out, errors) = self.pass(src, cx, mode)?;
        if out.edits.is_empty() || !errors {
            return Ok(out);
        }
        self.settled(src, cx, mode, out)
    }

    /// Read what the proof needs and migrate once; also whether the reading had parse errors.
    fn pass(
        &self,
        src: &[u8],
        cx: &FileCtx,
        mode: Mode,
    ) -> Result<(FileResult, bool), ParseFailure> {
        let words = self.words();
        let words: Vec<&[u8]> = words.iter().map(|w| w.as_bytes()).collect();
        // The items that name a watched word in code; a file whose directives name one (a
        // `#define` the rule rewrites or removes, an `#ifndef` around it) is read whole, so
        // that the self-check reads every line an edit touches.
        let prep = Prepared::new(src, cx.macros);
        let in_directive = prep
            .lexed
            .directives()
            .any(|r| lex::words(src, r).any(|w| words.contains(&&src[w])));
        let ranges = match items::Items::split(src, &prep.lexed) {
            Some(all) if !in_directive && mode.reading == Reading::Pieces => {
                let at = items::word_offsets(src, &prep.lexed, &words);
                Some(all.cover_pieces(src, &prep.lexed, at))
            }
            _ => None,
        };
        let partial = ranges.is_some();
        let parsed = match ranges {
            Some(r) => prep.parse_pieces(r, cx.timeout)?,
            None => prep.parse(None, cx.timeout)?,
        };
        let out = self.migrate_in(src, &parsed, mode);
        // Removing a definition takes the lines around it (its kernel-doc, a blank line),
        // which may lie outside the items read: such a file is read again, whole.
        if partial && out.sites.iter().any(|s| s.definition) {
            let whole = crate::parse::parse_with(src, cx.timeout, cx.macros)?;
            let errors = whole.tree.root_node().has_error();
            return Ok((self.migrate_in(src, &whole, mode), errors));
        }
        let errors = parsed.tree.root_node().has_error();
        Ok((out, errors))
    }

    /// In a text the parser cannot read cleanly, a rewrite can change how its error recovery
    /// reads the rest, so that a second run would convert more. The output is read once more:
    /// when that finds anything to convert, the readings do not settle, and nothing in the
    /// file is rewritten (every site says why). Only readings with errors pay for this.
    fn settled(
        &self,
        src: &[u8],
        cx: &FileCtx,
        mode: Mode,
        mut out: FileResult,
    ) -> Result<FileResult, ParseFailure> {
        let (again, _) = self.pass(&out.edits.apply(src), cx, mode)?;
        if again.edits.is_empty() {
            return Ok(out);
        }
        out.edits = crate::edit::EditSet::default();
        for s in &mut out.sites {
            s.unconvert(|| {
                "left alone: code the parser cannot read here reads differently once rewritten"
                    .into()
            });
        }
        Ok(out)
    }
}

/// One watched occurrence the engine has accounted for (matched, judged or defined).
type Seen = Vec<usize>;

impl CallRewrite {
    /// The watched names and members.
    pub fn words(&self) -> Vec<&str> {
        self.names
            .iter()
            .chain(&self.members)
            .map(String::as_str)
            .collect()
    }

    /// Does `src` define a watched name at file scope (a line at column 0 that names it as a
    /// function, a `#define` of it, an export)? Such a file is the API side.
    pub fn defines_api(&self, src: &[u8]) -> bool {
        src.split(|b| *b == b'\n').any(|line| {
            let code = !line.first().is_some_and(|b| b.is_ascii_whitespace());
            // A `#define` read as the lexer reads it: its first two words, whatever stands
            // between them (`# define`, a tab, a stray control byte).
            let directive = line.trim_ascii_start().starts_with(b"#");
            let mut words = crate::parse::lex::words(line, 0..line.len()).map(|w| &line[w]);
            let defined = match (directive, words.next(), words.next()) {
                (true, Some(b"define"), Some(name)) => Some(name),
                _ => None,
            };
            self.names.iter().any(|n| {
                let call = format!("{n}(");
                let l = String::from_utf8_lossy(line);
                (code && l.contains(&call)) || defined == Some(n.as_bytes())
            })
        })
    }

    fn watched(&self, src: &[u8], n: Node) -> bool {
        match n.kind() {
            // A function's name read as a type is a call the parser misread: still a site.
            "identifier" | "type_identifier" => {
                self.names.iter().any(|w| w.as_bytes() == text(src, n))
            }
            "field_identifier" => self.members.iter().any(|w| w.as_bytes() == text(src, n)),
            _ => false,
        }
    }

    /// Migrate one parsed text: rewrite the matching calls, judge every other watched use,
    /// handle the API side, then let the self-check keep or refuse the edits.
    pub fn migrate_parsed(&self, src: &[u8], parsed: &Parsed, api: bool) -> FileResult {
        let mode = Mode {
            api,
            ..Mode::default()
        };
        self.migrate_in(src, parsed, mode)
    }

    /// [`Self::migrate_parsed`] in a [`Mode`].
    pub fn migrate_in(&self, src: &[u8], parsed: &Parsed, mode: Mode) -> FileResult {
        let api = mode.api;
        let mut out = FileResult::default();
        let mut edits: Vec<Edit> = Vec::new();
        let mut seen: Seen = Vec::new();
        let root = parsed.tree.root_node();
        let matches = calls::find(self, src, root);
        let t = calls::Text::of(src, parsed);
        let old_only = |at: usize| {
            mode.since
                .is_some_and(|s| crate::compat::old_kernels_only(src, parsed, at, s))
        };
        for m in &matches {
            seen.extend(m.watched.iter().copied());
            if !m.done && old_only(m.node.start_byte()) {
                // Beside the new call under a version check: right as it is.
                let line = line_of(src, m.node.start_byte());
                out.sites
                    .push(Site::caller(line, &holder(src, m.node), Outcome::Compat));
                continue;
            }
            calls::judge(self, &t, m, mode.compat, &mut out, &mut edits);
        }
        let inside = |at: usize| {
            matches.iter().any(|m| match m.done {
                true => m.watched.contains(&at),
                false => m.node.byte_range().contains(&at),
            })
        };
        let mut others = Vec::new();
        let words = self.words();
        crate::tree::visit(root, &mut |n| {
            let named = n.child_count() == 0 && words.iter().any(|w| w.as_bytes() == text(src, n));
            if !named || inside(n.start_byte()) || parsed.in_a_directive(n.start_byte()) {
                return;
            }
            // A watched word of another sort (a member of the name, a variable of the
            // member's name, a label) is accounted for, not a site.
            match self.watched(src, n) {
                true => others.push(n),
                false => seen.push(n.start_byte()),
            }
        });
        for n in others {
            seen.push(n.start_byte());
            uses::judge(self, src, parsed, n, api, &mut out, &mut edits);
        }
        let (sites_before, edits_before) = (out.sites.len(), edits.len());
        macros::judge(self, src, parsed, api, &mut out, &mut edits);
        if mode.compat && edits.len() > edits_before {
            // A frame cannot stand inside a `#define`: its calls are left for a hand.
            for s in &mut out.sites[sites_before..] {
                s.unconvert(|| {
                    "--compat does not write a macro's body twice under a version check".into()
                });
            }
            edits.truncate(edits_before);
        }
        self.unseen(src, parsed, &seen, &mut out);
        let edits = uses::merge_removals(src, edits);
        out.sites
            .sort_by(|a, b| (a.line, &a.function).cmp(&(b.line, &b.function)));
        crate::tree::commit(src, parsed, edits, &mut out);
        out
    }

    /// Watched words in the code that the tree did not show as an identifier or member (the
    /// parser misread the text around them): each is a site nobody could judge.
    fn unseen(&self, src: &[u8], parsed: &Parsed, seen: &Seen, out: &mut FileResult) {
        let words = self.words();
        for w in parsed.lexed.code_word_ranges(src) {
            let word = &src[w.clone()];
            if !words.iter().any(|x| x.as_bytes() == word) || seen.contains(&w.start) {
                continue;
            }
            let why = format!(
                "`{}` stands where the parser could not read the code",
                String::from_utf8_lossy(word)
            );
            out.sites.push(Site::caller(
                line_of(src, w.start),
                "(unknown)",
                Outcome::Flagged(Flag::new(Code::ParseError, why)),
            ));
        }
    }
}

/// The name of the function (or file-scope declaration) holding `n`, as reports name sites.
fn holder(src: &[u8], n: Node) -> String {
    let mut cur = Some(n);
    let mut top = n;
    while let Some(x) = cur {
        if x.kind() == "function_definition"
            && let Some(id) = x
                .child_by_field_name("declarator")
                .and_then(crate::tree::declared_name)
        {
            return String::from_utf8_lossy(text(src, id)).into_owned();
        }
        if x.kind() != "translation_unit" {
            top = x;
        }
        cur = x.parent();
    }
    if top.kind() == "declaration"
        && let Some(id) = top
            .child_by_field_name("declarator")
            .and_then(crate::tree::declared_name)
    {
        return String::from_utf8_lossy(text(src, id)).into_owned();
    }
    "(file scope)".into()
}

/// The `function_definition` holding `n`, if any.
fn enclosing_function(n: Node) -> Option<Node> {
    std::iter::successors(n.parent(), |x| x.parent()).find(|x| x.kind() == "function_definition")
}

/// Does the function holding `n` declare `name` itself (a parameter or a local), so that the
/// name there is not the watched function?
fn shadowed(src: &[u8], n: Node, name: &[u8]) -> bool {
    let Some(f) = enclosing_function(n) else {
        return false;
    };
    let mut found = false;
    crate::tree::visit(f, &mut |x| {
        if found || !matches!(x.kind(), "parameter_declaration" | "declaration") {
            return;
        }
        if x.kind() == "declaration" && x.parent().is_some_and(|p| p.id() == f.id()) {
            return;
        }
        let mut c = x.walk();
        found = x
            .children_by_field_name("declarator", &mut c)
            .filter_map(crate::tree::declared_name)
            .any(|id| text(src, id) == name);
    });
    found
}

/// Is any node from `n` up to the root an ERROR node?
fn in_error(n: Node) -> bool {
    std::iter::successors(Some(n), |x| x.parent()).any(|x| x.is_error() || x.is_missing())
}

/// The whole lines `r` stands on (with their line break), when nothing else shares them.
fn whole_lines(src: &[u8], r: Range<usize>) -> Option<Range<usize>> {
    let start = crate::parse::line_start(src, r.start);
    let end = crate::parse::line_end(src, r.end.saturating_sub(1).max(r.start));
    let blank = |b: &[u8]| b.iter().all(|c| matches!(c, b' ' | b'\t' | b'\r'));
    if !blank(&src[start..r.start]) || !blank(&src[r.end.min(end)..end]) {
        return None;
    }
    Some(start..(end + 1).min(src.len()))
}

/// A site of the API side (a definition of a watched name).
fn definition(line: usize, name: &str, outcome: Outcome) -> Site {
    Site {
        line,
        function: name.to_string(),
        outcome,
        definition: true,
    }
}
