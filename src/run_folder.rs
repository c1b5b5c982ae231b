//! The run folder: what one run writes, for `crucible run` and for each run of a batch
//! (`runs/NNNNNN/`), and the typed readers of it (batch aggregation, merge).
//!
//! One writer, one map format: each map is `maps/NAME.asc` (an ESRI ASCII grid, which
//! any GIS opens; f32 values are written in their shortest exact form, so reading one
//! back gives the same number) described by `maps/index.json`. A run on its own also
//! draws each map as `maps/NAME.png`; a batch draws only its aggregated maps.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use crucible_engine::batch::RunPlan;
use crucible_engine::files::InputPolicy;
use crucible_engine::grid::{GridSpec, Raster, RasterKind, read_asc, read_asc_header};
use crucible_engine::run::{RunOutput, Summary};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::maps::Backdrop;
use crate::output::Staged;

pub const SUMMARY: &str = "summary.json";
pub const TIMESERIES: &str = "timeseries.csv";
pub const EVENTS: &str = "events.jsonl";
pub const MAP_INDEX: &str = "maps/index.json";
/// A batch run's plan (`run.json`) and, if the run failed, why (`failed.json`).
pub const PLANNED: &str = "run.json";
pub const FAILED: &str = "failed.json";

/// One entry of `maps/index.json`: what `maps/NAME.asc` holds and how to draw it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MapEntry {
    pub name: String,
    pub title: String,
    pub unit: String,
    pub grid: GridSpec,
    pub kind: RasterKind,
}

/// `run.json`: which run of a batch a folder holds. Fields in alphabetical order, the
/// order the file has always had.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PlannedRun {
    pub combo: u64,
    pub frequency: Option<f64>,
    pub index: u64,
    pub params: Vec<Param>,
    pub plan: String,
    pub replicate: u64,
    pub seed: u64,
}

/// A swept or sampled parameter of a batch run and its value.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Param {
    pub path: String,
    pub value: serde_json::Value,
}

impl PlannedRun {
    pub fn of(plan: &RunPlan) -> Result<Self> {
        Ok(Self {
            combo: plan.combo,
            frequency: plan.frequency,
            index: plan.index,
            params: plan
                .params
                .iter()
                .map(|(path, v)| {
                    Ok(Param {
                        path: path.clone(),
                        value: serde_json::to_value(v)?,
                    })
                })
                .collect::<Result<_>>()?,
            plan: plan.plan.clone(),
            replicate: plan.replicate,
            seed: plan.seed,
        })
    }
}

/// `failed.json`: a batch run that did not finish.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FailedRun {
    pub error: String,
    pub index: u64,
    pub seed: u64,
}

/// Pretty JSON with a final newline, as every JSON file of an output folder.
pub fn pretty(value: &impl Serialize) -> Result<String> {
    Ok(serde_json::to_string_pretty(value)? + "\n")
}

/// Write a run's outputs: `summary.json`, `timeseries.csv`, `events.jsonl`, and each
/// map as `maps/NAME.asc` listed in `maps/index.json`, drawn as `maps/NAME.png` over
/// `pictures` when given.
pub fn write_run(staged: &Staged, out: &RunOutput, pictures: Option<&Backdrop>) -> Result<()> {
    staged.write(SUMMARY, pretty(&out.summary)?)?;
    staged.write(TIMESERIES, &out.timeseries_csv)?;
    let mut events = String::new();
    for e in &out.events {
        events.push_str(&serde_json::to_string(e)?);
        events.push('\n');
    }
    staged.write(EVENTS, events)?;
    if out.maps.is_empty() {
        return Ok(());
    }
    let mut index = Vec::new();
    for r in &out.maps {
        staged.write(&format!("maps/{}.asc", r.name), r.to_asc())?;
        if let Some(backdrop) = pictures {
            crate::maps::render_raster(
                r,
                backdrop,
                &staged.path(&format!("maps/{}.png", r.name))?,
            )?;
        }
        index.push(MapEntry {
            name: r.name.clone(),
            title: r.title.clone(),
            unit: r.unit.clone(),
            grid: r.grid,
            kind: r.kind.clone(),
        });
    }
    staged.write(MAP_INDEX, pretty(&index)?)
}

/// Read a JSON file of an output folder as `T`; errors name the file.
pub fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => {
            anyhow::anyhow!("{}: unexpected content: {e}", path.display())
        }
        _ => anyhow::anyhow!("{} is not valid JSON: {e}", path.display()),
    })
}

pub fn read_summary(dir: &Path) -> Result<Summary> {
    read_json(&dir.join(SUMMARY))
}

/// The maps a run folder lists (none if it wrote no maps).
pub fn read_map_index(dir: &Path) -> Result<Vec<MapEntry>> {
    let path = dir.join(MAP_INDEX);
    if !path.exists() {
        return Ok(Vec::new());
    }
    let index: Vec<MapEntry> = read_json(&path)?;
    for m in &index {
        if m.name.is_empty() || m.name.contains(['/', '\\']) || m.name.starts_with('.') {
            bail!("{}: `{}` is not a map name", path.display(), m.name);
        }
    }
    Ok(index)
}

fn map_path(dir: &Path, m: &MapEntry) -> PathBuf {
    dir.join(format!("maps/{}.asc", m.name))
}

/// Whether an .asc file's grid is the one the index gives.
fn same_grid(index: &GridSpec, file: &GridSpec) -> bool {
    (index.nx, index.ny) == (file.nx, file.ny)
        && index.cell == file.cell
        && index.x0 == file.x0
        && index.y0 == file.y0
}

fn mismatch(dir: &Path, m: &MapEntry) -> anyhow::Error {
    anyhow::anyhow!(
        "{}: map `{}` ({} × {} cells of {} m) does not match {}",
        dir.join(MAP_INDEX).display(),
        m.name,
        m.grid.nx,
        m.grid.ny,
        m.grid.cell,
        map_path(dir, m).display()
    )
}

/// Read one listed map; its file must have the grid the index gives.
pub fn read_map(dir: &Path, m: &MapEntry) -> Result<Raster> {
    let asc = read_asc(&map_path(dir, m), &InputPolicy::for_scenario(dir))
        .map_err(|e| mismatch(dir, m).context(e.to_string()))?;
    if !same_grid(&m.grid, &asc.grid) {
        return Err(mismatch(dir, m));
    }
    Ok(Raster {
        name: m.name.clone(),
        title: m.title.clone(),
        unit: m.unit.clone(),
        grid: m.grid,
        data: asc.data,
        kind: m.kind.clone(),
    })
}

/// Check that a recorded batch run folder can be aggregated: its JSON files read as
/// what they are and every listed map file has the grid its index gives (headers
/// only). Lets `merge` refuse a corrupt shard before it writes anything.
pub fn check_run_dir(dir: &Path) -> Result<()> {
    read_json::<PlannedRun>(&dir.join(PLANNED))?;
    if !dir.join(SUMMARY).exists() {
        read_json::<FailedRun>(&dir.join(FAILED))?;
        return Ok(());
    }
    read_summary(dir)?;
    for m in read_map_index(dir)? {
        let header = read_asc_header(&map_path(dir, &m), &InputPolicy::for_scenario(dir))
            .map_err(|e| mismatch(dir, &m).context(e.to_string()))?;
        if !same_grid(&m.grid, &header.grid) {
            return Err(mismatch(dir, &m));
        }
    }
    Ok(())
}

/// One run of a batch as read back from its folder.
pub struct RunRecord {
    /// Position in the batch (the folder's number).
    pub index: u64,
    pub planned: PlannedRun,
    /// The run's summary, or why it failed.
    pub outcome: Result<Summary, String>,
}

impl RunRecord {
    /// Read a recorded run folder.
    pub fn read(dir: &Path, index: u64) -> Result<Self> {
        let planned = read_json(&dir.join(PLANNED))?;
        let outcome = if dir.join(SUMMARY).exists() {
            Ok(read_summary(dir)?)
        } else {
            Err(read_json::<FailedRun>(&dir.join(FAILED))?.error)
        };
        Ok(Self {
            index,
            planned,
            outcome,
        })
    }

    pub fn summary(&self) -> Option<&Summary> {
        self.outcome.as_ref().ok()
    }

    pub fn plan(&self) -> &str {
        &self.planned.plan
    }

    /// A KPI's value, NaN if the run failed or lacks it.
    pub fn kpi(&self, name: &str) -> f64 {
        self.summary()
            .and_then(|s| s.kpis.get(name))
            .map_or(f64::NAN, |k| k.value)
    }

    /// (pass, value) of a standard, if the run was judged on it.
    pub fn verdict(&self, id: &str) -> Option<(bool, f64)> {
        let v = self.summary()?.standards.iter().find(|v| v.id == id)?;
        Some((v.pass, v.value))
    }

    /// A parameter's value, if the run has it.
    pub fn param(&self, path: &str) -> Option<&serde_json::Value> {
        self.planned
            .params
            .iter()
            .find(|p| p.path == path)
            .map(|p| &p.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crucible_engine::grid::Palette;

    fn raster(data: Vec<f32>) -> Raster {
        let mut grid = GridSpec::new(3, 2, 12.5);
        grid.x0 = 1000.25;
        grid.y0 = -3.0;
        Raster {
            name: "depth".into(),
            title: "Depth".into(),
            unit: "m".into(),
            grid,
            data,
            kind: RasterKind::Continuous {
                palette: Palette::Water,
            },
        }
    }

    #[test]
    fn maps_read_back_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let values = vec![0.1, 1.0 / 3.0, f32::NAN, 7.0e-12, 16_777_215.0, -0.0];
        let out = RunOutput {
            summary: serde_json::from_str(
                r#"{"scenario":"s","plan":"p","seed":1,"crucible_version":"0","simulated_duration_s":1.0,
                    "ticks":1,"plugins":[],"kpis":{"k":{"value":null,"unit":"","description":""}},
                    "standards":[],"metrics":{},"metric_definitions":[],"events_by_kind":{}}"#,
            )
            .unwrap(),
            timeseries_csv: String::new(),
            events: Vec::new(),
            maps: vec![raster(values.clone())],
            snapshots: Vec::new(),
            profile: Default::default(),
        };
        let staged = Staged::new(dir.path()).unwrap();
        write_run(&staged, &out, None).unwrap();
        staged.commit().unwrap();
        check_run_dir(dir.path()).unwrap_err(); // no run.json: not a batch run
        let index = read_map_index(dir.path()).unwrap();
        let back = read_map(dir.path(), &index[0]).unwrap();
        assert_eq!(back.grid, out.maps[0].grid);
        for (a, b) in values.iter().zip(&back.data) {
            assert!(
                a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()),
                "{a} {b}"
            );
        }
        assert!(read_summary(dir.path()).unwrap().kpis["k"].value.is_nan());
        assert!(!dir.path().join("maps/depth.png").exists());
        // A map whose file does not have the listed grid is refused, naming both.
        std::fs::write(
            dir.path().join("maps/depth.asc"),
            raster(vec![0.0; 6])
                .to_asc()
                .replace("ncols 3", "ncols 2")
                .replace("0 0 0\n0 0 0", "0 0\n0 0"),
        )
        .unwrap();
        let e = read_map(dir.path(), &index[0]).unwrap_err().to_string();
        assert!(
            e.contains("index.json") && e.contains("does not match"),
            "{e}"
        );
    }
}
