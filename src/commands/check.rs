//! `crucible check`.

use std::path::PathBuf;

use crucible_engine::memory::{ensure_fits, human_bytes};
use crucible_engine::scenario;

use super::load_with_city;
use crate::Outcome;

#[derive(clap::Args)]
pub struct Args {
    /// Scenario file (TOML).
    pub scenario: PathBuf,
}

pub fn run(args: Args) -> Outcome {
    // Parse and estimate first: a scenario too large for the machine is refused before
    // any grid is built.
    let loaded = match scenario::load(&args.scenario) {
        Ok(l) => l,
        Err(e) => return Outcome::BadInput(e.to_string()),
    };
    let estimate = match ensure_fits(&loaded) {
        Ok(e) => e,
        Err(e) => return Outcome::BadInput(e.to_string()),
    };
    let (loaded, city) = match load_with_city(&args.scenario) {
        Ok(x) => x,
        Err(o) => return o,
    };
    // Building the simulation checks what only the plugins know (metric names, files).
    if let Err(e) = crucible_engine::run::build(&loaded, &city, loaded.scenario.seed) {
        return Outcome::BadInput(e.to_string());
    }
    println!(
        "{}: ok — \"{}\", {} × {} cells of {} m, {} assets, {} hazards, {} standards, about {} of memory",
        loaded.file,
        loaded.scenario.name,
        city.grid.nx,
        city.grid.ny,
        city.grid.cell,
        city.assets.len(),
        loaded.scenario.hazards.len(),
        loaded.scenario.standards.len(),
        human_bytes(estimate.bytes)
    );
    Outcome::Ok
}
