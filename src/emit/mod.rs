//! Emitting a reviewable, build-checked series: per-arch diffs, `git am`-able patches,
//! compile-check scripts and the report.

pub mod check;
pub mod checkpatch;
mod draft;
mod guards;
pub mod kbuild;
pub mod mail;
pub mod maintainers;
pub mod module_check;
mod patches;
pub mod plan;
mod reports;
pub mod series;
