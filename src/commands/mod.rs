//! One module per subcommand.

pub mod batch;
pub mod check;
pub mod city;
pub mod drill;
pub mod perf;
pub mod run;
pub mod validate;

use std::path::Path;

use crucible_engine::city::City;
use crucible_engine::scenario::{self, LoadedScenario};

use crate::Outcome;
use crate::output::ForeignFolder;

/// Load a scenario and build its city; any problem is bad input (exit 2).
pub fn load_with_city(path: &Path) -> Result<(LoadedScenario, City), Outcome> {
    let loaded = scenario::load(path).map_err(|e| Outcome::BadInput(e.to_string()))?;
    let city = crucible_engine::run::prepare_city(&loaded)
        .map_err(|e| Outcome::BadInput(e.to_string()))?;
    Ok((loaded, city))
}

/// Anything unexpected while writing outputs is a failure (exit 1); an output folder
/// that is not crucible's is bad input (exit 2).
pub fn failed(e: anyhow::Error) -> Outcome {
    if e.downcast_ref::<ForeignFolder>().is_some() {
        return Outcome::BadInput(format!("{e:#}"));
    }
    Outcome::Failed(format!("{e:#}"))
}
