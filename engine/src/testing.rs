//! Test support shared by the hazards' test modules: running a scenario text, and the
//! two-shelter district evacuation that the crowd tests and the coupling tests both
//! close streets in.

use std::path::PathBuf;
use std::sync::Arc;

use crate::coupling::Closures;
use crate::run::{RunOutput, prepare_city, run};
use crate::scenario::parse;
use crate::sim::Simulation;

/// The bundled scenarios' folder: scenario texts resolve their files against it.
pub(crate) fn scenario_dir() -> PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios")
}

/// Parses `text` (as `test.toml` in the scenarios folder) and runs it with its own seed;
/// any error as its message.
pub(crate) fn run_text(text: &str) -> Result<RunOutput, String> {
    let loaded = parse(text, "test.toml", &scenario_dir()).map_err(|e| e.to_string())?;
    let city = Arc::new(prepare_city(&loaded).map_err(|e| e.to_string())?);
    run(&loaded, &city, loaded.scenario.seed, |_| {}).map_err(|e| e.to_string())
}

/// A district evacuation towards two shelters: NEAR in the middle of the map, FAR in
/// its north-west corner (the generated shelter removed).
pub(crate) const TWO_SHELTERS: &str = r#"
format = 1
name = "t"
seed = 5
[time]
duration_s = 900
tick_s = 2
[city]
source = "generate"
width_m = 500
height_m = 400
cell_m = 10
[plan]
remove_assets = ["SH-01"]
add_assets = [
  { id = "NEAR", kind = "shelter", x = 250, y = 200, capacity = 100000 },
  { id = "FAR", kind = "shelter", x = 20, y = 380, capacity = 100000 },
]
[[hazards]]
kind = "crowd"
reroute_interval_s = 30
[hazards.district]
people_per_agent = 50
warning_s = 0
premovement = { median_s = 30, log_sd = 0.3 }
"#;

/// Runs [`TWO_SHELTERS`] with the `[couplings]` lines `couplings` and the 7 × 7 cells
/// round NEAR closed by `flag` (as the flood or the fire would write them) before the
/// order; returns the finished simulation for its metrics.
pub(crate) fn evacuate_around_closure(flag: u8, couplings: &str) -> Simulation {
    let text = format!("{TWO_SHELTERS}\n[couplings]\n{couplings}\n");
    let loaded = parse(&text, "t.toml", &scenario_dir()).unwrap();
    let city = prepare_city(&loaded).unwrap();
    let mut sim = crate::run::build(&loaded, &city, 5).unwrap();
    let (i, j) = city.grid.locate(250.0, 200.0).unwrap();
    {
        let mut c = sim.world.resource_mut::<Closures>();
        for dj in -3i64..=3 {
            for di in -3i64..=3 {
                let k = city
                    .grid
                    .index((i as i64 + di) as usize, (j as i64 + dj) as usize);
                c.set(k, flag, true);
            }
        }
    }
    sim.run_to_end(|_| {}).unwrap();
    sim
}
