//! Progress of long commands. On a terminal, a bar that lines printed meanwhile do not
//! tear; in a log file or CI (stderr not a terminal), a plain line every
//! `CRUCIBLE_PROGRESS_S` seconds (10 by default), so that a long batch does not look
//! hung; with `-q`, nothing.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use crate::console::{Verbosity, stderr_is_terminal, verbosity};

/// The bar on screen, if any: lines printed meanwhile go above it.
static DRAWN: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// Seconds between plain progress lines when stderr is not a terminal.
const DEFAULT_INTERVAL_S: f64 = 10.0;

/// Run `print` with the progress bar (if one is drawn) lifted out of the way.
pub fn above_bar(print: impl FnOnce()) {
    let bar = DRAWN.lock().ok().and_then(|b| b.clone());
    match bar {
        Some(bar) => bar.suspend(print),
        None => print(),
    }
}

/// What the plain lines report.
struct Counter {
    what: String,
    /// Unit of the count (`runs`), or None to show only the percentage.
    unit: Option<&'static str>,
    len: u64,
    done: AtomicU64,
    start: Instant,
}

impl Counter {
    fn line(&self) -> String {
        let done = self.done.load(Ordering::Relaxed).min(self.len);
        let elapsed = self.start.elapsed().as_secs_f64();
        let fraction = done as f64 / self.len.max(1) as f64;
        let count = match self.unit {
            Some(unit) => format!("{done}/{} {unit}, ", self.len),
            None => String::new(),
        };
        let eta = if done > 0 {
            format!(", about {} left", clock(elapsed / fraction - elapsed))
        } else {
            String::new()
        };
        format!(
            "{}: {count}{:.0} % after {}{eta}",
            self.what,
            100.0 * fraction,
            clock(elapsed)
        )
    }
}

fn clock(s: f64) -> String {
    let s = s.max(0.0).round() as u64;
    format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

/// How often to print plain lines (`CRUCIBLE_PROGRESS_S`, seconds).
fn interval() -> Duration {
    let s = std::env::var("CRUCIBLE_PROGRESS_S")
        .ok()
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s > 0.0)
        .unwrap_or(DEFAULT_INTERVAL_S);
    Duration::from_secs_f64(s.min(86_400.0))
}

/// A progress report for one long task; finished when dropped.
pub struct Progress {
    counter: Arc<Counter>,
    bar: Option<ProgressBar>,
    ticker: Option<(Sender<()>, JoinHandle<()>)>,
}

impl Progress {
    /// Progress over `len` steps counted in `unit` (None: show only the percentage).
    pub fn new(len: u64, what: &str, unit: Option<&'static str>) -> Self {
        let counter = Arc::new(Counter {
            what: what.to_owned(),
            unit,
            len,
            done: AtomicU64::new(0),
            start: Instant::now(),
        });
        let mut p = Self {
            counter,
            bar: None,
            ticker: None,
        };
        if verbosity() == Verbosity::Quiet {
            return p;
        }
        if stderr_is_terminal() {
            let bar = ProgressBar::new(len);
            bar.set_style(
                ProgressStyle::with_template(
                    "{msg} [{bar:40}] {percent:>3}% {elapsed_precise} ETA {eta}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            bar.set_message(what.to_owned());
            if let Ok(mut drawn) = DRAWN.lock() {
                *drawn = Some(bar.clone());
            }
            p.bar = Some(bar);
        } else {
            let (stop, stopped) = mpsc::channel::<()>();
            let counter = p.counter.clone();
            let every = interval();
            let handle = std::thread::spawn(move || {
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(every) {
                    crate::console::tell(format_args!("{}", counter.line()));
                }
            });
            p.ticker = Some((stop, handle));
        }
        p
    }

    /// Steps done so far.
    pub fn set(&self, done: u64) {
        self.counter.done.store(done, Ordering::Relaxed);
        if let Some(bar) = &self.bar {
            bar.set_position(done);
        }
    }

    /// One more step done.
    pub fn inc(&self) {
        self.counter.done.fetch_add(1, Ordering::Relaxed);
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
    }

    /// Clear the bar, stop the plain lines.
    pub fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            if let Ok(mut drawn) = DRAWN.lock() {
                *drawn = None;
            }
            bar.finish_and_clear();
        }
        if let Some((stop, handle)) = self.ticker.take() {
            drop(stop);
            let _ = handle.join();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_lines_count_and_estimate() {
        let c = Counter {
            what: "batch".into(),
            unit: Some("runs"),
            len: 8,
            done: AtomicU64::new(0),
            start: Instant::now(),
        };
        assert!(c.line().starts_with("batch: 0/8 runs, 0 % after 0:00:0"));
        assert!(!c.line().contains("left"));
        c.done.store(2, Ordering::Relaxed);
        assert!(c.line().contains("2/8 runs, 25 % after") && c.line().contains("left"));
        assert_eq!(clock(3725.0), "1:02:05");
    }
}
