//! One module per subcommand.

pub mod batch;
pub mod check;
pub mod city;
pub mod drill;
pub mod perf;
pub mod run;
pub mod validate;

use std::io::IsTerminal;
use std::path::Path;

use crucible_engine::city::City;
use crucible_engine::scenario::{self, LoadedScenario};
use indicatif::{ProgressBar, ProgressStyle};

use crate::Outcome;

/// Load a scenario and build its city; any problem is bad input (exit 2).
pub fn load_with_city(path: &Path) -> Result<(LoadedScenario, City), Outcome> {
    let loaded = scenario::load(path).map_err(|e| Outcome::BadInput(e.to_string()))?;
    let city = crucible_engine::run::prepare_city(&loaded)
        .map_err(|e| Outcome::BadInput(e.to_string()))?;
    Ok((loaded, city))
}

/// A progress bar on a terminal; nothing when output is piped or in CI.
pub fn progress_bar(len: u64, what: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {percent:>3}% {elapsed_precise} ETA {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message(what.to_owned());
    bar
}

/// Anything unexpected while writing outputs is a failure (exit 1).
pub fn failed(e: anyhow::Error) -> Outcome {
    Outcome::Failed(format!("{e:#}"))
}
