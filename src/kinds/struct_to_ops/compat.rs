//! Code that already handles both APIs: old-API code inside an arm of a kernel version check
//! (`#if LINUX_VERSION_CODE >= KERNEL_VERSION(5, 4, 0)` … `#else` … `#endif`), in a file that
//! writes the new API under such a check too. It is migrated already: the analysis leaves it
//! byte-identical and reports it as compat, never as a site to convert or flag.

use std::ops::Range;

use tree_sitter::Node;

use super::analyse::FileCtx;
use super::find::{Walk, named_children};
use crate::kinds::struct_to_ops::rule::StructToOps;
use crate::parse::lex::{is_ident_byte, words};
use crate::parse::{Parsed, text};

/// The bodies of every arm of the file's version checks, when the file handles both APIs
/// (else none).
pub struct VersionArms {
    arms: Vec<Range<usize>>,
    /// Function-like macros defined inside those arms (they pick the call form).
    macros: Vec<Vec<u8>>,
}

/// Words of a conditional that make it a kernel version check.
const VERSION_WORDS: &[&[u8]] = &[b"LINUX_VERSION_CODE", b"KERNEL_VERSION"];

impl VersionArms {
    pub fn of(rule: &StructToOps, src: &[u8], parsed: &Parsed) -> VersionArms {
        let dirs = &parsed.directives;
        let arms: Vec<Range<usize>> = dirs
            .groups
            .iter()
            .filter(|g| {
                g.arms
                    .iter()
                    .any(|a| words(src, a.line.clone()).any(|w| VERSION_WORDS.contains(&&src[w])))
            })
            .flat_map(|g| g.arms.iter().map(|a| a.body.clone()))
            .collect();
        // The new API written under a check: its ops struct named in code (a #define's body
        // counts: a macro that picks the call form is code too).
        let new_api = arms.iter().any(|body| {
            words(src, body.clone()).any(|w| {
                &src[w.clone()] == rule.ops_struct.as_bytes() && !parsed.lexed.inside_text(&w)
            })
        });
        if !new_api {
            return VersionArms {
                arms: Vec::new(),
                macros: Vec::new(),
            };
        }
        let macros = parsed
            .lexed
            .directives()
            .filter(|d| arms.iter().any(|a| a.contains(&d.start)))
            .filter_map(|d| {
                let (word, rest) = crate::parse::directives::directive_word(&src[d]);
                let rest = rest.trim_ascii_start();
                let n = rest.iter().position(|&b| !is_ident_byte(b))?;
                (word == b"define" && n > 0 && rest[n] == b'(').then(|| rest[..n].to_vec())
            })
            .collect();
        VersionArms { arms, macros }
    }

    /// Is `name` a function-like macro defined under a version check of such a file?
    pub fn picks_call_form(&self, name: &[u8]) -> bool {
        self.macros.iter().any(|m| m == name)
    }

    /// Is `offset` inside an arm of a version check of a file that handles both APIs?
    pub fn contains(&self, offset: usize) -> bool {
        self.arms.iter().any(|a| a.contains(&offset))
    }
}

/// Is the walk (its declaration, an initializer member or one of its `idents`) in an arm of a
/// version check of a file that writes both APIs, or given to a macro such a check defines
/// once per API? Then it is the old side of code migrated already.
pub fn is_compat(ctx: &FileCtx, walk: &Walk, idents: &[Node]) -> bool {
    let inside = |n: &Node| ctx.compat.contains(n.start_byte());
    inside(&walk.decl)
        || walk
            .init
            .is_some_and(|i| named_children(i).iter().any(inside))
        || idents.iter().any(inside)
        || idents.iter().any(|id| {
            let call = id
                .parent()
                .filter(|p| p.kind() == "pointer_expression")
                .and_then(|p| p.parent())
                .filter(|l| l.kind() == "argument_list")
                .and_then(|l| l.parent())
                .and_then(|c| c.child_by_field_name("function"));
            call.is_some_and(|f| ctx.compat.picks_call_form(text(ctx.src, f)))
        })
}
