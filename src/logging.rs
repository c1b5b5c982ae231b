//! Warnings and other messages from the engine (`tracing`), printed on stderr above the
//! progress bar. A batch builds the same scenario once per run, so the same warning
//! would be printed once per run (32 times for the bundled track): each distinct
//! message is printed the first time only, and [`finish`] says how often it came.
//!
//! The level is `warn`, `error` with `-q`, `info` with `-v`, `debug` with `-vv`;
//! `CRUCIBLE_LOG` (an `EnvFilter` directive such as `debug` or `crucible_engine=info`)
//! replaces it.

use std::fmt::Write as _;
use std::sync::Mutex;

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;

use crate::console::{Verbosity, colour};

/// How often each message was seen, in the order first seen.
static SEEN: Mutex<Vec<(String, u64)>> = Mutex::new(Vec::new());

/// Install the logger for this verbosity.
pub fn init(v: Verbosity) {
    let default = match v {
        Verbosity::Quiet => "error",
        Verbosity::Normal => "warn",
        Verbosity::Verbose => "info",
        Verbosity::Debug => "debug",
    };
    let filter = EnvFilter::try_from_env("CRUCIBLE_LOG").unwrap_or_else(|_| default.into());
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(OnceEach)
        .try_init();
}

/// Say how often each repeated message came (call once, at the end).
pub fn finish() {
    let Ok(seen) = SEEN.lock() else { return };
    for (line, n) in seen.iter().filter(|(_, n)| *n > 1) {
        crate::tell!("{line} (the same message {n} times in all)");
    }
}

/// The layer: formats an event, prints it if it is new, counts it otherwise.
struct OnceEach;

impl<S: Subscriber> Layer<S> for OnceEach {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let line = format_event(event);
        let Ok(mut seen) = SEEN.lock() else { return };
        if let Some(entry) = seen.iter_mut().find(|(l, _)| *l == line) {
            entry.1 += 1;
            return;
        }
        seen.push((line.clone(), 1));
        drop(seen);
        crate::tell!("{line}");
    }
}

fn format_event(event: &Event<'_>) -> String {
    let level = *event.metadata().level();
    let (name, code) = match level {
        Level::ERROR => ("error", "31"),
        Level::WARN => ("warning", "33"),
        Level::INFO => ("info", "32"),
        Level::DEBUG => ("debug", "34"),
        Level::TRACE => ("trace", "35"),
    };
    let mut text = Fields::default();
    event.record(&mut text);
    let label = if colour() {
        format!("\x1b[{code}m{name}\x1b[0m")
    } else {
        name.to_owned()
    };
    format!("{label}: {}{}", text.message, text.rest)
}

/// The message and any other fields (` key=value`).
#[derive(Default)]
struct Fields {
    message: String,
    rest: String,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = value.to_owned();
        } else {
            let _ = write!(self.rest, " {}={value}", field.name());
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.message = format!("{value:?}");
        } else {
            let _ = write!(self.rest, " {}={value:?}", field.name());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_warning_is_printed_once_and_counted() {
        init(Verbosity::Normal);
        for _ in 0..3 {
            tracing::warn!("track points dropped");
            tracing::warn!(file = "a.csv", "another");
        }
        let seen = SEEN.lock().unwrap().clone();
        let count = |m: &str| seen.iter().find(|(l, _)| l.contains(m)).map(|(_, n)| *n);
        assert_eq!(count("track points dropped"), Some(3));
        assert_eq!(count("another file=a.csv"), Some(3));
    }
}
