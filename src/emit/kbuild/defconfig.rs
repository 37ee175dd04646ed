//! The arch's defconfig as the resolver's starting point: the symbols the configuration the
//! check scripts start from already sets, so that `||` alternatives it satisfies win and
//! alternatives it rules out (`depends on !PPC64` on `ppc64_defconfig`) are never enabled.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::cache::OnceMap;
use super::toolchain::srcarch;

/// The `CONFIG_X=y`/`=m` lines of one defconfig file (empty when the tree has none).
#[derive(Debug, Default)]
pub struct Defconfig {
    /// `arch/<a>/configs/<name>`, when found.
    pub file: Option<String>,
    set: HashSet<String>,
}

impl Defconfig {
    pub fn parse(text: &str, file: &str) -> Defconfig {
        let set = text
            .lines()
            .filter_map(|l| l.strip_prefix("CONFIG_"))
            .filter_map(|l| l.split_once('='))
            .filter(|(_, v)| matches!(*v, "y" | "m"))
            .map(|(k, _)| k.to_string())
            .collect();
        Defconfig {
            file: Some(file.to_string()),
            set,
        }
    }

    /// The defconfig the check script of `arch` (an `ARCH` value) starts from, read once per
    /// process and (tree, arch).
    pub fn load(tree: &Path, arch: &str, target: &str) -> Arc<Defconfig> {
        static VIEWS: OnceMap<(PathBuf, String, String), Arc<Defconfig>> = OnceMap::new();
        let key = (tree.to_path_buf(), arch.to_string(), target.to_string());
        VIEWS.get(key, |(tree, arch, target)| {
            Arc::new(read(tree, arch, target).unwrap_or_default())
        })
    }

    pub fn is_set(&self, sym: &str) -> bool {
        self.set.contains(sym)
    }
}

fn read(tree: &Path, arch: &str, target: &str) -> Option<Defconfig> {
    let sa = srcarch(arch);
    let target = target.to_string();
    let dir = format!("arch/{sa}/configs");
    let mut names = vec![target.clone()];
    if target == "defconfig" {
        // `make defconfig` reads KBUILD_DEFCONFIG (x86: `$(ARCH)_defconfig`).
        names = vec![format!("{arch}_defconfig")];
        let mk =
            std::fs::read_to_string(tree.join(format!("arch/{sa}/Makefile"))).unwrap_or_default();
        for l in mk.lines() {
            let l = l.trim();
            if let Some(v) = l.strip_prefix("KBUILD_DEFCONFIG").and_then(|r| {
                r.trim_start()
                    .strip_prefix(":=")
                    .or(r.trim_start().strip_prefix('='))
            }) {
                let v = v.trim().replace("$(ARCH)", arch);
                if !v.contains("$(") {
                    names.push(v);
                }
            }
        }
        names.push("defconfig".to_string());
    }
    names.iter().find_map(|n| {
        let rel = format!("{dir}/{n}");
        let text = std::fs::read(tree.join(&rel)).ok()?;
        Some(Defconfig::parse(&String::from_utf8_lossy(&text), &rel))
    })
}
