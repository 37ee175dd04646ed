//! Progress on stderr for long runs: a spinner with files scanned, candidates parsed and sites
//! converted/flagged. Only when stderr is a terminal and neither --json nor --quiet is given.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use crate::pipeline::Counters;

/// A running display; dropping it clears the line.
pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    /// Show `counters` (which the run given them bumps) while it runs.
    pub fn start(enabled: bool, counters: Arc<Counters>) -> Progress {
        use std::io::IsTerminal;
        // A dumb terminal cannot redraw a line in place.
        let dumb = std::env::var_os("TERM").is_none_or(|t| t.is_empty() || t == "dumb");
        if !enabled || dumb || !std::io::stderr().is_terminal() {
            return Progress { bar: None };
        }
        let bar = ProgressBar::new_spinner();
        bar.set_style(ProgressStyle::with_template("{spinner} {msg}").expect("static template"));
        bar.enable_steady_tick(Duration::from_millis(100));
        let b = bar.clone();
        std::thread::spawn(move || {
            while !b.is_finished() {
                let c = &counters;
                b.set_message(format!(
                    "{} files scanned, {} parsed, {} sites converted, {} flagged",
                    c.scanned.load(Ordering::Relaxed),
                    c.parsed.load(Ordering::Relaxed),
                    c.converted.load(Ordering::Relaxed),
                    c.flagged.load(Ordering::Relaxed)
                ));
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        Progress { bar: Some(bar) }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}
