//! Build plans: every configuration the check scripts build (per arch group, and per guard of
//! an edited line switched off) as the commands that reproduce it by hand (report), TuxMake
//! command lines (`check/tuxmake.sh`) and a TuxSuite plan (`check/tuxsuite-plan.yaml`), so
//! the same builds can fan out past one machine.

use std::fmt::Write as _;

use super::check::{group_config, sh_quote};
use super::kbuild::{ObjectNeeds, Toolchain, is_symbol};

/// One configuration of one arch group and the objects built in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Build {
    pub group: String,
    /// `ARCH=`, also TuxMake's `--target-arch` name (x86_64, arm64, powerpc, s390, openrisc).
    pub arch: String,
    /// The first default `CROSS_COMPILE` prefix (`""`: the host compiler).
    pub cross: String,
    pub defconfig: String,
    /// `KCFLAGS`: warnings as errors, as the scripts build.
    pub kcflags: String,
    /// Choice members switched off, then symbols enabled (`scripts/config -d` / `-e`).
    pub disable: Vec<String>,
    pub enable: Vec<String>,
    /// The guard switched off in this configuration (`None`: the main one), after what turns
    /// it on when it is hidden.
    pub off: Option<String>,
    pub off_with: Vec<String>,
    /// Enabled so that the guard can be switched off (its prompt shows only under them).
    pub on_with: Vec<String>,
    pub objects: Vec<String>,
}

/// The builds of one group: the main configuration, then one per guard symbol of an edited
/// line (in the order the script builds them), with the objects that symbol guards.
pub fn builds(group: &str, tc: &Toolchain, objects: &[ObjectNeeds]) -> Vec<Build> {
    let cfg = group_config(objects);
    let objs: Vec<&ObjectNeeds> = objects.iter().filter(|o| !o.object.is_empty()).collect();
    let main = Build {
        group: group.to_string(),
        arch: tc.arch.clone(),
        cross: tc.cross.first().cloned().unwrap_or_default(),
        defconfig: tc.defconfig.clone(),
        kcflags: format!(
            "-Werror{}",
            if tc.extra_kcflags.is_empty() {
                String::new()
            } else {
                format!(" {}", tc.extra_kcflags)
            }
        ),
        disable: cfg.disable.iter().map(|(s, _)| s.clone()).collect(),
        enable: cfg.symbols.iter().map(|(s, _)| s.clone()).collect(),
        off: None,
        off_with: Vec::new(),
        on_with: Vec::new(),
        objects: objs.iter().map(|o| o.object.clone()).collect(),
    };
    let mut offs: Vec<&str> = Vec::new();
    for o in &objs {
        for x in o.flip.iter().filter(|x| is_symbol(x)) {
            if !offs.contains(&x.as_str()) {
                offs.push(x);
            }
        }
    }
    let mut out = vec![main.clone()];
    for x in offs {
        let pairs = |f: fn(&ObjectNeeds) -> &Vec<(String, String)>| -> Vec<String> {
            let mut v: Vec<String> = Vec::new();
            for o in &objs {
                for (g, y) in f(o) {
                    if g == x && is_symbol(y) && !v.contains(y) {
                        v.push(y.clone());
                    }
                }
            }
            v
        };
        let with = pairs(|o| &o.flip_with);
        let on_with: Vec<String> = pairs(|o| &o.flip_enable)
            .into_iter()
            .filter(|s| !main.enable.contains(s))
            .collect();
        out.push(Build {
            enable: main
                .enable
                .iter()
                .filter(|s| *s != x && !with.contains(s))
                .cloned()
                .collect(),
            off: Some(x.to_string()),
            off_with: with,
            on_with,
            objects: objs
                .iter()
                .filter(|o| o.flip.iter().any(|f| f == x))
                .map(|o| o.object.clone())
                .collect(),
            ..main.clone()
        });
    }
    out
}

impl Build {
    /// `generic`, `generic-no-HUGETLB_PAGE`: the build's name and its `O=` directory's.
    pub fn name(&self) -> String {
        match &self.off {
            Some(x) => format!("{}-no-{x}", self.group),
            None => self.group.clone(),
        }
    }

    /// ` [CONFIG_X=n]` for a guard build, as the scripts print it after the object.
    pub fn label(&self) -> String {
        self.off
            .as_ref()
            .map(|x| format!(" [CONFIG_{x}=n]"))
            .unwrap_or_default()
    }

    /// The config fragment, as `.config` lines: `# CONFIG_D is not set`, `CONFIG_E=y`.
    pub fn fragment(&self) -> Vec<String> {
        let off = |s: &String| format!("# CONFIG_{s} is not set");
        let mut f: Vec<String> = self.disable.iter().map(off).collect();
        f.extend(
            self.enable
                .iter()
                .chain(&self.on_with)
                .map(|s| format!("CONFIG_{s}=y")),
        );
        f.extend(self.off_with.iter().chain(self.off.iter()).map(off));
        f
    }

    fn make(&self, target: &str) -> String {
        self.make_with(&self.kcflags, target)
    }

    /// `KCFLAGS` without `-Werror`, as the scripts prepare: a warning the base has too in a
    /// shared header must not stop `make prepare`; the objects meet it again with -Werror.
    pub fn prepare_kcflags(&self) -> String {
        self.kcflags
            .split_whitespace()
            .filter(|f| *f != "-Werror")
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn make_with(&self, kcflags: &str, target: &str) -> String {
        format!(
            "make ARCH={} CROSS_COMPILE={} KCFLAGS={} O=build/{} {target}",
            sh_quote(&self.arch),
            sh_quote(&self.cross),
            sh_quote(kcflags),
            self.name()
        )
    }

    /// The commands that reproduce this build of `obj` by hand, in the tree with the series
    /// applied, in the style of the kernel test robot's reports.
    pub fn commands(&self, obj: &str) -> Vec<String> {
        let mut c = vec![self.make(&self.defconfig)];
        let mut sc: Vec<String> = self.disable.iter().map(|s| format!("-d {s}")).collect();
        sc.extend(
            self.enable
                .iter()
                .chain(&self.on_with)
                .map(|s| format!("-e {s}")),
        );
        sc.extend(
            self.off_with
                .iter()
                .chain(self.off.iter())
                .map(|s| format!("-d {s}")),
        );
        if !sc.is_empty() {
            c.push(format!(
                "scripts/config --file build/{}/.config {}",
                self.name(),
                sc.join(" ")
            ));
        }
        c.push(self.make("olddefconfig"));
        c.push(self.make_with(&self.prepare_kcflags(), "prepare"));
        c.push(self.make(obj));
        c
    }

    /// The same build as one `tuxmake` command line (TREE and OUT are shell variables).
    pub fn tuxmake(&self) -> String {
        let mut l = format!(
            "tuxmake -C \"$TREE\" -o \"$OUT/{}\" --target-arch {} --toolchain gcc --kconfig {}",
            self.name(),
            sh_quote(&self.arch),
            sh_quote(&self.defconfig)
        );
        for f in self.fragment() {
            let _ = write!(l, " --kconfig-add {}", sh_quote(&f));
        }
        let _ = write!(l, " {}", sh_quote(&format!("KCFLAGS={}", self.kcflags)));
        for o in &self.objects {
            let _ = write!(l, " {}", sh_quote(o));
        }
        l
    }

    /// The same build as an item of a TuxSuite plan's `builds:` list.
    pub fn tuxsuite(&self) -> serde_json::Value {
        let mut kconfig = vec![self.defconfig.clone()];
        kconfig.extend(self.fragment());
        serde_json::json!({
            "target_arch": self.arch,
            "toolchain": "gcc",
            "kconfig": kconfig,
            "targets": self.objects,
            "make_variables": { "KCFLAGS": self.kcflags },
        })
    }
}

/// `check/tuxmake.sh`: one `tuxmake` line per arch × configuration.
pub fn tuxmake_script(builds: &[Build]) -> String {
    let mut s = String::new();
    s.push_str(
        "#!/usr/bin/env bash\n\
         # check/tuxmake.sh: generated by kcodemod. The compile checks' builds (one per arch and\n\
         # configuration, guards of edited lines switched off included) as TuxMake runs, for\n\
         # machines or containers other than this one. Unlike check/<group>.sh it does not compare\n\
         # with the base: a failing object is to be checked there.\n\
         # usage: tuxmake.sh [TREE [OUTPUT_DIR]]   (TREE with the series applied; default .)\n\
         set -uo pipefail\n\n\
         TREE=${1:-.}\n\
         OUT=${2:-tuxmake-out}\n\
         failed=()\n",
    );
    for b in builds {
        let _ = writeln!(s, "{} || failed+=({})", b.tuxmake(), sh_quote(&b.name()));
    }
    s.push_str(
        "if [ ${#failed[@]} -gt 0 ]; then\n\
         \techo \"tuxmake: failed: ${failed[*]}\"\n\
         \texit 1\n\
         fi\n",
    );
    s
}

/// `check/tuxsuite-plan.yaml`: the same builds as a TuxSuite plan (`tuxsuite plan`), one job
/// per arch group. Written as JSON, which is YAML too.
pub fn tuxsuite_plan(rule: &str, builds: &[Build]) -> String {
    let mut jobs: Vec<(String, Vec<serde_json::Value>)> = Vec::new();
    for b in builds {
        match jobs.iter_mut().find(|(g, _)| *g == b.group) {
            Some((_, v)) => v.push(b.tuxsuite()),
            None => jobs.push((b.group.clone(), vec![b.tuxsuite()])),
        }
    }
    let plan = serde_json::json!({
        "version": 1,
        "name": format!("kcodemod {rule}"),
        "description": "the compile checks of a kcodemod series: each arch group's objects, \
                        and each guard of an edited line switched off",
        "jobs": jobs
            .into_iter()
            .map(|(g, b)| serde_json::json!({ "name": g, "builds": b }))
            .collect::<Vec<_>>(),
    });
    format!(
        "# check/tuxsuite-plan.yaml: generated by kcodemod (JSON, which YAML reads as it is).\n\
         # tuxsuite plan --git-repo URL --git-ref BRANCH check/tuxsuite-plan.yaml\n{}\n",
        serde_json::to_string_pretty(&plan).unwrap_or_default()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emit::kbuild::toolchain;

    fn objects() -> Vec<ObjectNeeds> {
        vec![
            ObjectNeeds {
                object: "fs/proc/task_mmu.o".into(),
                symbols: vec![
                    ("MMU".into(), "k".into()),
                    ("HUGETLB_PAGE".into(), "g".into()),
                ],
                kbuild: vec!["MMU".into()],
                flip: vec!["HUGETLB_PAGE".into()],
                flip_with: vec![("HUGETLB_PAGE".into(), "HUGETLBFS".into())],
                ..ObjectNeeds::default()
            },
            ObjectNeeds {
                object: "mm/mincore.o".into(),
                symbols: vec![("MMU".into(), "k".into())],
                disable: vec![("SLOB".into(), "c".into())],
                ..ObjectNeeds::default()
            },
        ]
    }

    #[test]
    fn a_build_per_guard_switched_off() {
        let b = builds("openrisc", &toolchain("openrisc").unwrap(), &objects());
        assert_eq!(b.len(), 2);
        assert_eq!(b[0].objects, ["fs/proc/task_mmu.o", "mm/mincore.o"]);
        assert_eq!(b[1].objects, ["fs/proc/task_mmu.o"]);
        assert_eq!(
            b[1].fragment(),
            [
                "# CONFIG_SLOB is not set",
                "CONFIG_MMU=y",
                "# CONFIG_HUGETLBFS is not set",
                "# CONFIG_HUGETLB_PAGE is not set"
            ]
        );
        assert_eq!(b[1].label(), " [CONFIG_HUGETLB_PAGE=n]");
        let c = b[1].commands("fs/proc/task_mmu.o");
        assert_eq!(
            c[0],
            "make ARCH=openrisc CROSS_COMPILE=or1k-elf- KCFLAGS='-Werror -Wno-error=cpp' \
             O=build/openrisc-no-HUGETLB_PAGE defconfig"
        );
        assert_eq!(
            c[1],
            "scripts/config --file build/openrisc-no-HUGETLB_PAGE/.config -d SLOB -e MMU -d HUGETLBFS -d HUGETLB_PAGE"
        );
        // Prepared without -Werror, as the scripts do; the object is built with it.
        assert_eq!(
            c[3],
            "make ARCH=openrisc CROSS_COMPILE=or1k-elf- KCFLAGS=-Wno-error=cpp \
             O=build/openrisc-no-HUGETLB_PAGE prepare"
        );
        assert!(c[4].ends_with(" fs/proc/task_mmu.o"));
        assert!(c[4].contains("KCFLAGS='-Werror -Wno-error=cpp'"));
        assert!(b[1].tuxmake().contains(
            "--kconfig-add '# CONFIG_HUGETLBFS is not set' --kconfig-add '# CONFIG_HUGETLB_PAGE is not set' \
             'KCFLAGS=-Werror -Wno-error=cpp' fs/proc/task_mmu.o"
        ));
        let plan = tuxsuite_plan("mm_walk_ops", &b);
        let body: String = plan.lines().filter(|l| !l.starts_with('#')).collect();
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            v["jobs"][0]["builds"][1]["kconfig"][4],
            "# CONFIG_HUGETLB_PAGE is not set"
        );
    }
}
