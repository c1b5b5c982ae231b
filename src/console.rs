//! What the program prints. Results go to stdout, everything else (progress, warnings,
//! errors) to stderr. Printing never panics: `crucible schema | head` closes the pipe
//! early, and a closed stdout must not turn a finished command into a crash, so write
//! errors are ignored (the outputs on disk are what matter).

use std::fmt;
use std::io::{IsTerminal, Write};
use std::sync::OnceLock;

/// How much the program says on stderr (`-q`, `-v`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    /// Errors only: no progress, no warnings.
    Quiet,
    /// Progress and warnings.
    Normal,
    /// Also what the engine reports as information (`-v`) or for debugging (`-vv`).
    Verbose,
    Debug,
}

static VERBOSITY: OnceLock<Verbosity> = OnceLock::new();
static STDERR_TERMINAL: OnceLock<bool> = OnceLock::new();

/// Set once at start-up from the command line.
pub fn set_verbosity(v: Verbosity) {
    let _ = VERBOSITY.set(v);
}

pub fn verbosity() -> Verbosity {
    VERBOSITY.get().copied().unwrap_or(Verbosity::Normal)
}

/// Whether stderr is a terminal (a person watching) rather than a log file or CI.
pub fn stderr_is_terminal() -> bool {
    *STDERR_TERMINAL.get_or_init(|| std::io::stderr().is_terminal())
}

/// Colour escapes only on a terminal, and never with `NO_COLOR` set (https://no-color.org).
pub fn colour() -> bool {
    stderr_is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Print a result line on stdout.
pub fn say(args: fmt::Arguments) {
    let _ = writeln!(std::io::stdout().lock(), "{args}");
}

/// Print a line on stderr, above the progress bar if one is drawn.
pub fn tell(args: fmt::Arguments) {
    crate::progress::above_bar(|| {
        let _ = writeln!(std::io::stderr().lock(), "{args}");
    });
}

/// A progress note on stderr (what is being done now), silenced by `-q`.
pub fn note(args: fmt::Arguments) {
    if verbosity() > Verbosity::Quiet {
        tell(args);
    }
}

/// `println!` that cannot panic.
#[macro_export]
macro_rules! say {
    ($($t:tt)*) => { $crate::console::say(format_args!($($t)*)) };
}

/// `eprintln!` that cannot panic and does not tear the progress bar.
#[macro_export]
macro_rules! tell {
    ($($t:tt)*) => { $crate::console::tell(format_args!($($t)*)) };
}

/// A progress note on stderr, silenced by `-q`.
#[macro_export]
macro_rules! note {
    ($($t:tt)*) => { $crate::console::note(format_args!($($t)*)) };
}
