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

#[cfg(test)]
mod tests {
    use crate::rule::bundled;

    #[test]
    fn the_api_side_is_the_old_struct_and_the_entry_points_of_this_kind_only() {
        let rules = bundled().unwrap();
        let mm = &rules[0].kind;
        assert_eq!(mm.name(), "struct-to-ops");
        for api in ["struct mm_walk", "walk_page_range", "walk_page_vma"] {
            assert!(mm.is_api_site(api), "{api}");
        }
        for not in ["mm_walk", "struct mm_walk_ops", "walk_page_rangex", ""] {
            assert!(!mm.is_api_site(not), "{not}");
        }
        assert_eq!(mm.converted_struct(), Some("mm_walk"));
        let header = b"struct mm_walk {\n\tint (*pmd_entry)(struct mm_walk *walk);\n};\n";
        assert!(mm.rewrites_definition_comments(header));
        assert!(!mm.rewrites_definition_comments(b"struct mm_walk *w;\n"));
        // The other bundled kinds have no struct converted with its callers.
        for r in &rules[1..] {
            assert!(!r.kind.is_api_site("struct mm_walk"), "{}", r.id);
            assert_eq!(r.kind.converted_struct(), None, "{}", r.id);
            assert!(!r.kind.rewrites_definition_comments(header), "{}", r.id);
        }
    }
}
