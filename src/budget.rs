//! The per-file work budget: `--parse-timeout-ms` bounds the whole analysis of one file (every
//! parse and every proof), not just tree-sitter's parse, and SIGINT/SIGTERM end it at once.
//! Long loops ask [`spent`] and stop early; the pipeline then discards what they produced and
//! leaves the file unchecked, so stopping early can never yield a verdict.

use std::cell::Cell;
use std::time::{Duration, Instant};

thread_local! {
    /// When the current file's analysis must end (`None`: no file under way on this thread).
    static DEADLINE: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// One file's analysis under way on this thread; dropping it ends the budget, so a later
/// parse on the same worker is not cut short by a stale deadline.
pub struct Budget(());

impl Budget {
    /// Start one file's analysis on this thread, with `limit` to spend.
    pub fn start(limit: Duration) -> Budget {
        let end = Instant::now().checked_add(limit);
        DEADLINE.with(|d| d.set(end));
        Budget(())
    }
}

impl Drop for Budget {
    fn drop(&mut self) {
        DEADLINE.with(|d| d.set(None));
    }
}

/// Has the run been interrupted, or the current file's time run out? Cheap enough to ask once
/// per loop iteration.
pub fn spent() -> bool {
    crate::interrupted() || out_of_time()
}

/// Has the current file's time run out (always false outside a file's analysis)?
pub fn out_of_time() -> bool {
    DEADLINE.with(|d| d.get().is_some_and(|end| Instant::now() >= end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_zero_budget_is_spent_and_dropping_it_clears_it() {
        let b = Budget::start(Duration::ZERO);
        assert!(out_of_time());
        drop(b);
        assert!(!out_of_time());
        let _b = Budget::start(Duration::from_secs(3600));
        assert!(!out_of_time());
    }
}
