//! Progress on stderr for long runs: a spinner with files scanned, candidates parsed and sites
//! converted/flagged. Only when stderr is a terminal and neither --json nor --quiet is given.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

/// Counters the pipeline bumps; cheap enough to update per file.
#[derive(Default)]
pub struct Counters {
    pub scanned: AtomicUsize,
    pub parsed: AtomicUsize,
    pub converted: AtomicUsize,
    pub flagged: AtomicUsize,
}

pub static COUNTERS: Counters = Counters {
    scanned: AtomicUsize::new(0),
    parsed: AtomicUsize::new(0),
    converted: AtomicUsize::new(0),
    flagged: AtomicUsize::new(0),
};

/// A running display; dropping it clears the line.
pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    pub fn start(enabled: bool) -> Progress {
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
                let c = &COUNTERS;
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
