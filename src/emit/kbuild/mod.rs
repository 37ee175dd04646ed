//! Kbuild and Kconfig analysis: which objects a touched file builds into and which Kconfig
//! symbols (with why) building them needs per arch; `emit::check` turns that into scripts.
//! Stages: `toolchain` (arch groups), `makefile` (Kbuild chains), `kconfig` (the symbol
//! tree), `defconfig` (what the start configuration sets), `resolve` (symbols per object),
//! `cache` (files read once per process).
//!
//! * [`arch_group`] / [`toolchain`]: touched paths are grouped by `arch/<a>/` (everything
//!   else is `generic`, built for x86_64 with the host gcc); each group has a known
//!   `ARCH`, `CROSS_COMPILE` prefix(es), Debian package and defconfig target.
//! * [`object_needs`]: walks the Kbuild chain of a source file upwards (the `obj-$(CONFIG_X)
//!   += name.o` line in its directory, composite objects and list variables such as
//!   `mmu-$(CONFIG_MMU) := … mincore.o` / `obj-y += $(mmu-y)`, `ifdef CONFIG_X` blocks, then
//!   each `obj-$(CONFIG_Y) += dir/` in the parents up to `core-y`/`drivers-y` in the top or
//!   arch Makefile), adds the `#if` guards of the edited sites, and resolves every symbol
//!   against Kconfig: visible symbols get their `depends on` enabled first, hidden ones are
//!   reached through their `default` or a visible symbol that `select`s them.  The Kconfig
//!   tree is read by following `source` lines from the top-level `Kconfig` with
//!   `$(SRCARCH)` substituted, so each arch sees its own definitions and the enclosing
//!   `if`/`menu`/`choice` dependencies; it is cached per (tree, arch), and each Kconfig file
//!   (like each Makefile) is read and split once per process for all arches.  When a tree has no
//!   top-level `Kconfig`, every file named `Kconfig*` outside other arches is scanned.
//!
//! Resolution is deliberately simple and bounded: `depends on` expressions are split into
//! `&&` conjuncts, `||` alternatives are tried in order (one that is free, such as `!X` or
//! `X=n`, or that the arch's defconfig sets, wins without enabling anything; one the defconfig
//! rules out is never tried; `COMPILE_TEST` is tried last), `!X` and
//! non-symbol comparisons are skipped and recorded as notes, and recursion stops at
//! [`MAX_DEPTH`]: deeper symbols are still listed (and so verified by the script) but not
//! resolved further.  The scripts check every listed symbol in the final `.config` and name
//! those Kconfig did not keep, which shows whatever this static view gets wrong.

mod cache;
mod defconfig;
mod kconfig;
mod makefile;
mod resolve;
mod toolchain;

pub use kconfig::{Expr, KSym, KText, Kconfig};
pub use makefile::{MakeLine, parse_makefile};
pub use resolve::{ObjectNeeds, Touched, is_symbol, object_needs};
pub use toolchain::{Toolchain, arch_group, srcarch, toolchain};

/// Recursion bound of the Kconfig resolution (dependency and `select` hops).
pub const MAX_DEPTH: usize = 4;

/// A requirement found on the way: a symbol and why it is needed.
type Req = (String, String);

/// Push `x` unless an equal element is there (short lists, kept in first-seen order).
pub(crate) fn push_unique<T: PartialEq>(v: &mut Vec<T>, x: T) {
    if !v.contains(&x) {
        v.push(x);
    }
}

/// Push `(key, value)` unless `key` is there; `value` is built only then.
pub(crate) fn push_new_key(
    v: &mut Vec<(String, String)>,
    key: &str,
    value: impl FnOnce() -> String,
) {
    if !v.iter().any(|(k, _)| k == key) {
        v.push((key.to_string(), value()));
    }
}
