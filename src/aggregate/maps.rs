//! The batch's maps: mean and maximum of each continuous map across the runs of each
//! plan, as `maps/PLAN_NAME_{mean,max}.asc` and `.png`.

use std::path::Path;

use anyhow::{Result, bail};
use crucible_engine::grid::{Raster, RasterKind};

use super::{Batch, slug};
use crate::commands::batch::run_dir;
use crate::maps::Backdrop;
use crate::output::Staged;
use crate::run_folder::{MapEntry, read_map, read_map_index};

/// Cell-wise mean (over the runs used) and maximum of some runs' values of a map;
/// cells with no finite value in any run are NaN.
#[derive(Debug)]
pub struct Accumulated {
    pub mean: Vec<f32>,
    pub max: Vec<f32>,
    /// Runs whose map had the expected size.
    pub used: u32,
}

/// Accumulate `maps` (each `cells` long; others are skipped). None if none fits.
pub fn accumulate(cells: usize, maps: impl IntoIterator<Item = Vec<f32>>) -> Option<Accumulated> {
    let (mut sum, mut max, mut count) =
        (vec![0f64; cells], vec![f32::NAN; cells], vec![0u32; cells]);
    let mut used = 0;
    for data in maps.into_iter().filter(|d| d.len() == cells) {
        used += 1;
        for (k, &v) in data.iter().enumerate() {
            if v.is_finite() {
                sum[k] += f64::from(v);
                count[k] += 1;
                max[k] = if max[k].is_nan() { v } else { max[k].max(v) };
            }
        }
    }
    if used == 0 {
        return None;
    }
    // The mean over every run used (a run without a value in a cell counts as 0 there).
    let mean = sum
        .iter()
        .zip(&count)
        .map(|(s, c)| {
            if *c > 0 {
                (*s / f64::from(used)) as f32
            } else {
                f32::NAN
            }
        })
        .collect();
    Some(Accumulated { mean, max, used })
}

/// Mean and maximum maps of every continuous map of the first finished run, per plan.
/// The backdrop (the batch's base city) is made once, when the first map is drawn.
pub fn mean_and_max(batch: &Batch, out: &Path, staged: &Staged) -> Result<Vec<String>> {
    let mut plots = Vec::new();
    let Some(first) = batch.runs.iter().find(|r| r.summary().is_some()) else {
        return Ok(plots);
    };
    let first_dir = run_dir(out, first.index);
    let mut backdrop: Option<Backdrop> = None;
    for m in read_map_index(&first_dir)? {
        if matches!(m.kind, RasterKind::Categorical { .. }) {
            continue;
        }
        // The first run's own file must match the index before anything is sized from
        // it (a corrupt index must not exhaust the memory).
        read_map(&first_dir, &m)?;
        for plan in &batch.plans {
            let maps = batch
                .finished_of_plan(plan)
                .filter_map(|r| read_map(&run_dir(out, r.index), &m).ok())
                .map(|r| r.data);
            let Some(acc) = accumulate(m.grid.len(), maps) else {
                continue;
            };
            if backdrop.is_none() {
                backdrop = Some(base_backdrop(batch)?);
            }
            if let Some(backdrop) = &backdrop {
                plots.extend(write_pair(&m, plan, acc, backdrop, staged)?);
            }
        }
    }
    Ok(plots)
}

/// The backdrop of the batch's base city.
fn base_backdrop(batch: &Batch) -> Result<Backdrop> {
    match crucible_engine::run::prepare_city(&batch.spec.base) {
        Ok(city) => Ok(Backdrop::of(&city)),
        Err(e) => bail!("{e}"),
    }
}

/// Write the mean and maximum maps of `m` for `plan` (.asc and .png); returns the PNGs.
fn write_pair(
    m: &MapEntry,
    plan: &str,
    acc: Accumulated,
    backdrop: &Backdrop,
    staged: &Staged,
) -> Result<Vec<String>> {
    let mut plots = Vec::new();
    for (what, data) in [("mean", acc.mean), ("max", acc.max)] {
        let r = Raster {
            name: format!("{}_{}_{what}", slug(plan), m.name),
            title: format!("{} — {what} over {} runs ({plan})", m.title, acc.used),
            unit: m.unit.clone(),
            grid: m.grid,
            data,
            kind: m.kind.clone(),
        };
        staged.write(&format!("maps/{}.asc", r.name), r.to_asc())?;
        let png = format!("maps/{}.png", r.name);
        crate::maps::render_raster(&r, backdrop, &staged.path(&png)?)?;
        plots.push(png);
    }
    Ok(plots)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_counts_every_run_used_and_max_ignores_gaps() {
        let nan = f32::NAN;
        let acc = accumulate(
            3,
            [
                vec![1.0, nan, nan],
                vec![3.0, 2.0, nan],
                vec![1.0, 2.0], // wrong size: skipped
            ],
        )
        .unwrap();
        assert_eq!(acc.used, 2);
        assert_eq!(acc.mean[..2], [2.0, 1.0]);
        assert_eq!(acc.max[..2], [3.0, 2.0]);
        assert!(acc.mean[2].is_nan() && acc.max[2].is_nan());
        assert!(accumulate(3, [vec![1.0]]).is_none());
    }
}
