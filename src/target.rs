//! Forward-porting: the kernel the code must build against (`--target TREE`) decides which
//! rules apply. A rule applies when the target's header for it holds the new API (its `has`
//! texts) and not the old one (its `lacks` texts); the run then converts callers only (the
//! target's API is the target's) and adds the header the new API lives in.

use std::path::Path;

use crate::rule::{Rule, TargetSpec};

/// One rule's verdict for a target: chosen or not, and why, for the user to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub rule: usize,
    pub chosen: bool,
    pub why: String,
}

/// Runs of whitespace made one space: headers wrap prototypes wherever they like.
fn squeeze(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn judge(target: &Path, spec: &TargetSpec) -> (bool, String) {
    let path = target.join(&spec.header);
    let Ok(bytes) = std::fs::read(&path) else {
        return (false, format!("the target has no {}", spec.header));
    };
    let text = squeeze(&String::from_utf8_lossy(&bytes));
    if let Some(missing) = spec.has.iter().find(|h| !text.contains(&squeeze(h))) {
        return (
            false,
            format!("{} lacks `{}`: not the new API", spec.header, missing),
        );
    }
    if let Some(old) = spec.lacks.iter().find(|l| text.contains(&squeeze(l))) {
        return (
            false,
            format!("{} still has `{}`: the old API", spec.header, old),
        );
    }
    (
        true,
        format!("{} has `{}`", spec.header, spec.has.join("`, `")),
    )
}

/// Does `tree`'s own header already hold `rule`'s new API (the rule's target test, run on the
/// tree being converted)? Then the tree builds only where a call's argument is of the new
/// type, and an argument whose type a file does not show is taken to be so.
pub fn tree_has_new_api(tree: &Path, rule: &Rule) -> Option<String> {
    let spec = rule.target.as_ref()?;
    let (new, why) = judge(tree, spec);
    new.then_some(why)
}

/// Callers converted to `rule`'s new API, in `tree`: what they use when the tree's own header
/// lacks it (the tree then builds only once that API change is in), as
/// "`struct proc_ops {` (include/linux/proc_fs.h)". `None` when the rule names no header to
/// test, or the tree has the API.
pub fn api_lacking(tree: &Path, rule: &Rule) -> Option<String> {
    let spec = rule.target.as_ref()?;
    (tree_has_new_api(tree, rule).is_none())
        .then(|| format!("`{}` ({})", spec.has.join("`, `"), spec.header))
}

/// The same for a series applied after `base_patch` (when given): the INCOMPLETE sentence
/// when nothing brings the API, so that the series cannot build. The base patch must change
/// the API's header (whether it adds exactly the API is left to the check scripts, which
/// build it).
pub fn missing_api(tree: &Path, rule: &Rule, base_patch: Option<&[u8]>) -> Option<String> {
    let what = api_lacking(tree, rule)?;
    let header = &rule.target.as_ref()?.header;
    match base_patch {
        None => Some(format!(
            "the callers now use {what}, which this tree does not have: the series builds only on top of that API change (give it with --base-patch FILE)"
        )),
        Some(p) if !patch_changes(p, header) => Some(format!(
            "the callers now use {what}, which this tree does not have, and the base patch does not change {header}"
        )),
        Some(_) => None,
    }
}

/// Does the unified diff `patch` change the file `path`?
fn patch_changes(patch: &[u8], path: &str) -> bool {
    String::from_utf8_lossy(patch).lines().any(|l| {
        l.strip_prefix("+++ ")
            .map(|p| p.trim_end())
            .is_some_and(|p| p == format!("b/{path}") || p == path)
    })
}

/// Every rule's verdict, in rule order (the order they then run in).
pub fn choose(target: &Path, rules: &[Rule]) -> Vec<Choice> {
    rules
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let (chosen, why) = match &r.target {
                Some(spec) => judge(target, spec),
                None => (false, "the rule names no target test".into()),
            };
            Choice {
                rule: i,
                chosen,
                why,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> TargetSpec {
        TargetSpec {
            header: "include/linux/pagewalk.h".into(),
            has: vec!["int (*pte_hole)(unsigned long addr, unsigned long next, int depth,".into()],
            lacks: vec!["struct mm_walk *walk); /* old */".into()],
            include: Some("linux/pagewalk.h".into()),
        }
    }

    #[test]
    fn the_header_decides_and_whitespace_does_not_matter() {
        let t = tempfile::tempdir().unwrap();
        let (ok, why) = judge(t.path(), &spec());
        assert!(
            !ok && why == "the target has no include/linux/pagewalk.h",
            "{why}"
        );
        let h = t.path().join("include/linux");
        std::fs::create_dir_all(&h).unwrap();
        std::fs::write(
            h.join("pagewalk.h"),
            "\tint (*pte_hole)(unsigned long addr,\n\t\t\tunsigned long next, int depth,\n",
        )
        .unwrap();
        assert!(judge(t.path(), &spec()).0);
        std::fs::write(
            h.join("pagewalk.h"),
            "int (*pte_hole)(unsigned long addr, unsigned long next, struct mm_walk *walk);",
        )
        .unwrap();
        let (ok, why) = judge(t.path(), &spec());
        assert!(!ok && why.contains("not the new API"), "{why}");
    }
}
