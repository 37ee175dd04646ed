//! The struct-to-ops kind's side of the [`RuleKind`] contract: its engine, and what the
//! reports, the series and the whole-run verdicts ask of it, answered from its own rule.

use super::{FileResult, StructToOps, headers, migrate};
use crate::kinds::{FileCtx, RuleKind};
use crate::parse;
use crate::rule::Rule;

impl StructToOps {
    /// The struct-to-ops data of `rule`, if it is of this kind.
    pub fn of(rule: &Rule) -> Option<&StructToOps> {
        rule.kind.as_any().downcast_ref()
    }
}

impl RuleKind for StructToOps {
    fn name(&self) -> &'static str {
        "struct-to-ops"
    }
    fn migrate(
        &self,
        _: &Rule,
        cx: &FileCtx,
        src: &[u8],
    ) -> Result<FileResult, parse::ParseFailure> {
        let origin = headers::Origin {
            tree: cx.tree,
            file: cx.path,
            macros: cx.macros,
        };
        let parsed = parse::parse_with(src, cx.timeout, cx.macros)?;
        Ok(migrate(self, src, &parsed, cx.api, Some(origin)))
    }
    fn callers_only(&self) -> bool {
        false
    }
    fn all_or_nothing(&self) -> bool {
        true
    }
    fn compat_by_frames(&self) -> bool {
        true // compat.rs reads the framed walks as compat
    }
    fn callers_change(&self, _: &Rule) -> String {
        format!("convert callers to struct {}", self.ops_struct)
    }
    fn arch_change(&self, _: &Rule) -> String {
        format!("convert to struct {}", self.ops_struct)
    }
    fn mechanics(&self, _: &Rule) -> String {
        format!(
            "each walk's callbacks become a static const struct {} next to the function that uses them, and the values its data fields held at each call become arguments.",
            self.ops_struct
        )
    }
    fn is_api_site(&self, function: &str) -> bool {
        function == format!("struct {}", self.old_struct)
            || self.entries.iter().any(|e| e.name == function)
    }
    fn converted_struct(&self) -> Option<&str> {
        Some(&self.old_struct)
    }
    fn rewrites_definition_comments(&self, src: &[u8]) -> bool {
        super::verdict::defines_api(self, src)
    }
    fn broken_api(
        &self,
        r: usize,
        files: &[crate::pipeline::FileResult],
    ) -> Option<(String, String)> {
        super::verdict::broken_api(self, r, files)
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}
