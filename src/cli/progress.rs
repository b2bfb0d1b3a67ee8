//! Progress of long batch work on stderr: records done, rate, and time left (from the bytes of
//! the file read so far). Shown only when stderr is a terminal and `--quiet` was not given, at
//! most four times a second, on one line that is cleared when the input ends; nothing is ever
//! written to stdout, and nothing at all when stderr is a file or a pipe (logs stay clean).

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// `--quiet` was given.
static QUIET: AtomicBool = AtomicBool::new(false);

/// Set by `--quiet` (once, before a command runs).
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// The progress of reading one input file.
pub struct Progress {
    label: String,
    /// The file's size in bytes (0: unknown, no time left is shown).
    total: u64,
    start: Instant,
    last: Instant,
    shown: bool,
}

/// How often the line is redrawn at most.
const EVERY: Duration = Duration::from_millis(250);

impl Progress {
    /// A progress line for reading `label`, `total` bytes long; `None` when nothing is to be
    /// shown (stderr is not a terminal, or `--quiet`).
    pub fn new(label: &str, total: u64) -> Option<Progress> {
        if QUIET.load(Ordering::Relaxed) || !std::io::stderr().is_terminal() {
            return None;
        }
        let now = Instant::now();
        Some(Progress { label: label.to_string(), total, start: now, last: now, shown: false })
    }

    /// `records` read so far, `bytes` of the file.
    pub fn tick(&mut self, records: u64, bytes: u64) {
        let now = Instant::now();
        if now.duration_since(self.last) < EVERY {
            return;
        }
        self.last = now;
        self.shown = true;
        let line = line(&self.label, records, bytes, self.total, now.duration_since(self.start));
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r\x1b[2K{line}");
        let _ = err.flush();
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if self.shown {
            let _ = write!(std::io::stderr().lock(), "\r\x1b[2K");
        }
    }
}

/// The text of a progress line.
fn line(label: &str, records: u64, bytes: u64, total: u64, elapsed: Duration) -> String {
    let secs = elapsed.as_secs_f64().max(1e-3);
    let rate = records as f64 / secs;
    let mut s = format!("{label}: {records} records, {rate:.0}/s");
    if total > 0 && bytes > 0 && bytes <= total {
        let percent = 100.0 * bytes as f64 / total as f64;
        let left = secs * (total - bytes) as f64 / bytes as f64;
        s.push_str(&format!(", {percent:.0}%, about {} left", clock(left)));
    }
    s
}

/// Seconds as `1h02m`, `3m05s` or `42s`.
fn clock(secs: f64) -> String {
    let s = secs.round() as u64;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_says_records_rate_and_time_left() {
        let l = line("in.jsonl", 50_000, 25_000_000, 100_000_000, Duration::from_secs(10));
        assert_eq!(l, "in.jsonl: 50000 records, 5000/s, 25%, about 30s left");
        // Unknown size (standard input): no share, no time left.
        assert_eq!(line("-", 10, 0, 0, Duration::from_secs(2)), "-: 10 records, 5/s");
        assert_eq!(clock(3725.0), "1h02m");
        assert_eq!(clock(185.0), "3m05s");
    }

    #[test]
    fn nothing_is_shown_when_quiet() {
        set_quiet(true);
        assert!(Progress::new("x", 10).is_none());
        set_quiet(false);
    }
}
