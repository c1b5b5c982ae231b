//! `crucible check`.

use std::path::PathBuf;

use crucible_engine::memory::{ensure_fits, human_bytes};
use crucible_engine::scenario;

use super::load_with_city;
use crate::Outcome;

#[derive(clap::Args)]
pub struct Args {
    /// Scenario or batch file (TOML).
    pub scenario: PathBuf,
}

/// A batch file has a top-level `[batch]` table.
fn is_batch(path: &std::path::Path) -> bool {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|t| t.parse::<toml::Table>().ok())
        .is_some_and(|t| t.contains_key("batch"))
}

pub fn run(args: Args) -> Outcome {
    if is_batch(&args.scenario) {
        return match crucible_engine::batch::load(&args.scenario) {
            Ok(b) => {
                crate::say!(
                    "{}: ok — batch \"{}\" of {} runs ({} combinations × {} replicates) of {}",
                    b.file,
                    b.spec.name,
                    b.total_runs(),
                    b.combos(),
                    b.spec.runs,
                    b.base.file
                );
                Outcome::Ok
            }
            Err(e) => Outcome::BadInput(e.to_string()),
        };
    }
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
    // Each plugin's pure setup checks its spec against the city (ignitions on the grid,
    // stations on the road network, the storm's track, files) without a simulation.
    if let Err(e) = crucible_engine::run::check(&loaded, &city, loaded.scenario.seed) {
        return Outcome::BadInput(e.to_string());
    }
    // Standards name metrics that the plugins declare when they are built.
    if let Err(e) = crucible_engine::run::build(&loaded, &city, loaded.scenario.seed) {
        return Outcome::BadInput(e.to_string());
    }
    crate::say!(
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
