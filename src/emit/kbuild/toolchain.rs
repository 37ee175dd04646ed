//! Arch groups and toolchains: which `ARCH`, compiler prefix, Debian package and defconfig
//! build the objects of each arch group.

/// Arch group of a repo-relative path: `arch/<a>/...` → `<a>`, everything else → `generic`.
pub fn arch_group(path: &str) -> String {
    let p = path.trim_start_matches("./");
    let mut it = p.split('/');
    match (it.next(), it.next(), it.next()) {
        (Some("arch"), Some(a), Some(_)) if !a.is_empty() => a.to_string(),
        _ => "generic".to_string(),
    }
}

/// How a group is built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toolchain {
    /// The `ARCH=` value.
    pub arch: String,
    /// Default `CROSS_COMPILE` prefixes, tried in order (`""` = host compiler).
    pub cross: Vec<String>,
    /// Debian package providing the first prefix's gcc.
    pub package: String,
    /// The make target that creates the base `.config`.
    pub defconfig: String,
    /// Added to `KCFLAGS` after `-Werror` (a warning the arch's own headers raise).
    pub extra_kcflags: &'static str,
    /// objtool is built (x86): older trees' libsubcmd fails with newer host gcc.
    pub objtool: bool,
}

/// The toolchain for an arch group.  `None` for arches we have no compiler for.
pub fn toolchain(group: &str) -> Option<Toolchain> {
    let tc = |arch: &str, cross: &[&str], package: &str, defconfig: &str| Toolchain {
        arch: arch.to_string(),
        cross: cross.iter().map(|s| s.to_string()).collect(),
        package: package.to_string(),
        defconfig: defconfig.to_string(),
        extra_kcflags: "",
        objtool: false,
    };
    // `generic-<ARCH>`: the code outside arch/ built for another ARCH (--generic-arch).
    if let Some(arch) = group.strip_prefix("generic-") {
        return toolchain(arch);
    }
    match group {
        "generic" | "x86" | "x86_64" => Some(Toolchain {
            objtool: true,
            ..tc("x86_64", &[""], "gcc", "defconfig")
        }),
        "s390" => Some(tc(
            "s390",
            &["s390x-linux-gnu-"],
            "gcc-s390x-linux-gnu",
            "defconfig",
        )),
        // Book3S-64 code (`arch/powerpc/**/book3s64/`: hash/radix MMU, subpage protection,
        // …) needs a 64-bit server config, and ppc64_defconfig is also the best-covering
        // default for everything else. A group needing another (32-bit, Book3E) would pick
        // it here from its touched paths; none does yet.
        "powerpc" => Some(tc(
            "powerpc",
            &["powerpc64-linux-gnu-"],
            "gcc-powerpc64-linux-gnu",
            "ppc64_defconfig",
        )),
        // The tree's own `#warning syscall clone3 not implemented` (checksyscalls) would stop
        // a -Werror build: it stays a warning.
        "openrisc" => Some(Toolchain {
            extra_kcflags: "-Wno-error=cpp",
            ..tc(
                "openrisc",
                &["or1k-elf-", "or1k-linux-"],
                "gcc-or1k-elf",
                "defconfig",
            )
        }),
        // Most vendor trees are arm64; `make defconfig` reads arch/arm64/configs/defconfig.
        "arm64" => Some(tc(
            "arm64",
            &["aarch64-linux-gnu-"],
            "gcc-aarch64-linux-gnu",
            "defconfig",
        )),
        _ => None,
    }
}

/// The kernel's `SRCARCH` for an `ARCH` value (or a group name).
pub fn srcarch(arch: &str) -> &str {
    match arch {
        "x86_64" | "i386" | "x86" | "generic" => "x86",
        "sparc32" | "sparc64" => "sparc",
        "sh64" => "sh",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups() {
        assert_eq!(arch_group("arch/s390/mm/gmap.c"), "s390");
        assert_eq!(
            arch_group("./arch/powerpc/mm/book3s64/subpage_prot.c"),
            "powerpc"
        );
        assert_eq!(arch_group("mm/madvise.c"), "generic");
        assert_eq!(arch_group("arch/Kconfig"), "generic");
        assert_eq!(arch_group("fs/proc/task_mmu.c"), "generic");
    }

    #[test]
    fn toolchains() {
        let g = toolchain("generic").unwrap();
        assert_eq!(
            (g.arch.as_str(), g.cross.as_slice()),
            ("x86_64", &["".to_string()][..])
        );
        let p = toolchain("powerpc").unwrap();
        assert_eq!(p.cross, ["powerpc64-linux-gnu-"]);
        assert_eq!(p.defconfig, "ppc64_defconfig");
        let o = toolchain("openrisc").unwrap();
        assert_eq!(o.cross, ["or1k-elf-", "or1k-linux-"]);
        assert_eq!(toolchain("s390").unwrap().package, "gcc-s390x-linux-gnu");
        assert_eq!(toolchain("arm64").unwrap().cross, ["aarch64-linux-gnu-"]);
        assert_eq!(toolchain("generic-arm64"), toolchain("arm64"));
        assert!(toolchain("sparc").is_none());
        assert_eq!(srcarch("x86_64"), "x86");
    }
}
