//! Rule kinds as plug-ins. A kind is one directory below this one and one line in [`KINDS`]:
//! the tag rule files name it by, and the function that compiles such a file into a
//! [`Rule`]: the head every rule shares, and the kind's engine (a [`RuleKind`]) holding the
//! kind's own compiled rule. Nothing outside this directory knows a kind by name or reads its
//! data: the pipeline, the verdicts, the reports and the series ask the trait.
//!
//! How to add a kind: `docs/kinds.md`.

pub mod call_rewrite;
pub mod callback_signature;
pub mod struct_retype;
pub mod struct_to_ops;

use std::any::Any;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::model::FileResult;
use crate::parse::{Macros, ParseFailure};
use crate::rule::Rule;
use crate::rule::raw::Loader;

/// One registered kind: its `kind = "..."` tag and its rule-file compiler.
pub struct Registered {
    pub tag: &'static str,
    pub compile: fn(&Loader) -> anyhow::Result<Rule>,
}

/// The registry: one line per kind.
pub const KINDS: &[Registered] = &[
    Registered {
        tag: "struct-to-ops",
        compile: struct_to_ops::rule::compile,
    },
    Registered {
        tag: "struct-retype",
        compile: struct_retype::rule::compile,
    },
    Registered {
        tag: "callback-signature",
        compile: callback_signature::rule::compile,
    },
    Registered {
        tag: "call-rewrite",
        compile: call_rewrite::rule::compile,
    },
];

/// What a kind's engine is given for one file, besides its text.
pub struct FileCtx<'a> {
    /// The canonical tree, and the file's path in it.
    pub tree: &'a Path,
    pub path: &'a Path,
    /// Kernel macros for the parse view.
    pub macros: &'a Arc<Macros>,
    pub timeout: Duration,
    /// Convert the API definitions too (false: callers only, for `--target` and
    /// `--base-patch`).
    pub api: bool,
    /// The tree's own headers already hold this rule's new API (see
    /// [`RuleKind::reads_tree_api`]).
    pub tree_has_new: bool,
    /// `--compat`: write the new form beside the old under a check for this version (a kind
    /// that [`RuleKind::writes_compat`]), or have the pipeline frame the edits (one that
    /// [`RuleKind::compat_by_frames`]: it may refuse what a frame would not read well).
    pub compat: Option<crate::rule::Since>,
    /// Names of this rule settled across files ([`crate::across`]), if any.
    pub settled: Option<&'a std::collections::HashMap<Vec<u8>, crate::across::Settled>>,
}

/// The contract every kind implements: migrate one file (sites and one edit set, re-read by
/// [`crate::tree::commit`] before they are kept), and say in words what it does for reports
/// and patch subjects.
pub trait RuleKind: std::fmt::Debug + Send + Sync {
    /// The tag rule files name the kind by.
    fn name(&self) -> &'static str;
    /// Migrate one text (each kind parses what its proof needs).
    fn migrate(&self, rule: &Rule, cx: &FileCtx, src: &[u8]) -> Result<FileResult, ParseFailure>;
    /// Does this kind convert callers only (its API side is never written by it)?
    fn callers_only(&self) -> bool {
        true
    }
    /// What a callers-only patch does, for its subject after the prefix.
    fn callers_change(&self, rule: &Rule) -> String;
    /// The subject of an arch group's patch after its prefix.
    fn arch_change(&self, rule: &Rule) -> String {
        self.callers_change(rule)
    }
    /// What the conversion does, in one sentence for a patch body.
    fn mechanics(&self, rule: &Rule) -> String;
    /// Do its callers convert only together with its API definition (a flagged or missing
    /// definition blocks every caller in the run)?
    fn all_or_nothing(&self) -> bool {
        false
    }
    /// Does the code this kind converts never name the old API (a call-rewrite whose new forms
    /// name no watched name), so that the old API's own definitions, when they are all a run
    /// leaves, are not what the converted code needs to build?
    fn converted_code_needs_no_old_api(&self) -> bool {
        false
    }
    /// Should the run test the tree's own headers for the new API before it starts (see
    /// [`crate::target::tree_has_new_api`])?
    fn reads_tree_api(&self) -> bool {
        false
    }
    /// Can it write the new form beside the old under a version check (`--compat`)?
    fn writes_compat(&self) -> bool {
        false
    }
    /// Under `--compat`, does the pipeline frame its edits (each run of whole lines they touch
    /// written twice, see [`crate::compat::frame_edits`]), because its own analysis reads such
    /// code as compat already?
    fn compat_by_frames(&self) -> bool {
        false
    }
    /// Is a site reported in `function` (as sites name it) a part of the API definition (the
    /// old struct, an entry point)? A file whose every site is one is the API's patch.
    fn is_api_site(&self, _function: &str) -> bool {
        false
    }
    /// The struct whose definition converts together with its callers, if the kind has one:
    /// a run on some paths that meets its callers but not it says where it is.
    fn converted_struct(&self) -> Option<&str> {
        None
    }
    /// Does `src` hold an API definition this kind rewrites with its comments (kernel-doc, a
    /// removed old function with its comment)? The "no comment is lost" oracle exempts it.
    fn rewrites_definition_comments(&self, _src: &[u8]) -> bool {
        false
    }
    /// After every file of a run: why rule `r` (this kind's) cannot convert its API definition
    /// in this run, judged over all the files, as `("file:line", why)`; asked only of an
    /// [`Self::all_or_nothing`] kind none of whose definition's parts was flagged.
    fn broken_api(
        &self,
        _r: usize,
        _files: &[crate::pipeline::FileResult],
    ) -> Option<(String, String)> {
        None
    }
    /// The words [`crate::across`] looks up in the tree to settle `name`, a name this kind
    /// left in [`FileResult::across`] (the name, and what it would be renamed to).
    fn across_words(&self, _rule: &Rule, name: &[u8]) -> Vec<Vec<u8>> {
        vec![name.to_vec()]
    }
    /// Settle `name` given every file of the tree naming it: prove each use is one the
    /// migration converts, and say what the name becomes. Err(Some(why)): another file's use
    /// keeps it flagged; Err(None): nothing to add to the file's own flag.
    fn settle(
        &self,
        _rule: &Rule,
        _cx: &crate::across::SettleCtx,
        _name: &[u8],
        _files: &[crate::across::Named],
    ) -> Result<crate::across::Settled, Option<String>> {
        Err(None)
    }
    /// The concrete kind, for tests and kind-specific tools.
    fn as_any(&self) -> &dyn Any;
}
