//! The memory a scenario needs, estimated before any grid is allocated, so an absurd
//! scenario is refused with the figure instead of crashing the machine.

use crate::city::City;
use crate::grid::read_asc_header;
use crate::scenario::{CitySource, LoadedScenario, ScenarioError};
use crate::spec::KeyPath;

/// Estimated need of one run.
#[derive(Debug, Clone)]
pub struct Estimate {
    pub cells: f64,
    pub bytes: f64,
    /// (what, bytes)
    pub parts: Vec<(String, f64)>,
}

/// Estimate a run's memory from the scenario alone (reading only the header of a grid).
pub fn estimate(loaded: &LoadedScenario) -> Result<Estimate, ScenarioError> {
    let s = &loaded.scenario;
    let cells = match &s.city {
        CitySource::Generate(g) => {
            (g.width_m / g.cell_m).round().max(1.0) * (g.height_m / g.cell_m).round().max(1.0)
        }
        CitySource::Raster(r) => {
            let path = loaded.resolve(&r.elevation);
            asc_header_cells(&path, &loaded.inputs)
                .map_err(|m| loaded.error_at(&KeyPath::root().key("city").key("elevation"), m))?
        }
    };
    // The city layers, the shared coupling fields (closures 1, wind 12, depth 4) and a
    // building table of at most one building per 4 cells (≈ 40 bytes each).
    let mut parts = vec![(
        "city layers".to_string(),
        cells * (City::BYTES_PER_CELL as f64 + 17.0 + 10.0),
    )];
    for h in &s.hazards {
        let name = serde_json::to_value(h)
            .ok()
            .and_then(|v| v.get("kind").and_then(|k| k.as_str()).map(str::to_owned))
            .unwrap_or_default();
        parts.push((format!("hazard {name}"), cells * h.bytes_per_cell() as f64));
    }
    let bytes = parts.iter().map(|p| p.1).sum();
    Ok(Estimate {
        cells,
        bytes,
        parts,
    })
}

/// Cell count from an .asc header, without reading the values.
fn asc_header_cells(
    path: &std::path::Path,
    inputs: &crate::files::InputPolicy,
) -> Result<f64, String> {
    let h = read_asc_header(path, inputs).map_err(|e| e.to_string())?;
    Ok(h.grid.nx as f64 * h.grid.ny as f64)
}

/// Physical memory of this machine, bytes (from /proc/meminfo; None where unknown).
pub fn machine_memory() -> Option<f64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024.0)
}

/// Refuse a scenario whose estimate exceeds the machine's memory.
pub fn ensure_fits(loaded: &LoadedScenario) -> Result<Estimate, ScenarioError> {
    let est = estimate(loaded)?;
    if let Some(have) = machine_memory()
        && est.bytes > have
    {
        return Err(loaded.error_at(
            &KeyPath::root().key("city"),
            format!(
                "this scenario needs about {} ({:.3e} cells) but the machine has {}; use a coarser cell or a smaller area",
                human_bytes(est.bytes),
                est.cells,
                human_bytes(have)
            ),
        ));
    }
    Ok(est)
}

/// 1.5 GiB, 300 MiB, …
pub fn human_bytes(b: f64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut v = b;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < units.len() {
        v /= 1024.0;
        u += 1;
    }
    format!("{v:.1} {}", units[u])
}
