//! The flood's pure setup: its spec and the run's context (city, paths) in, the kernel's
//! inputs out — the solver with its bed, initial water and boundaries, and the per-cell
//! masks and catchments the systems use. Every check against the city is here, so
//! `crucible check` reports them (with the key at fault) without building a simulation.

use std::collections::BTreeMap;
use std::path::Path;

use super::impacts::{RoadSections, Segments, building_perimeters};
use super::solver::{Params, SOLID_Z, Solver};
use super::spec::{BuildingMode, FloodSpec};
use crate::city::{AssetKind, City, LandUse, NO_BUILDING};
use crate::grid::GridSpec;
use crate::sim::{BuildContext, BuildError};
use crate::spec::KeyPath;

/// What the flood is built from: the solver ready for its first tick (but for the sea,
/// applied then) and the per-cell data of the city the systems need.
pub struct FloodSetup {
    pub solver: Solver,
    pub grid: GridSpec,
    /// Sea cells, held at the sea level or closed at the first tick.
    pub sea_cells: Vec<u32>,
    /// Cells that are walls (solid buildings).
    pub solid: Vec<bool>,
    /// Land cells counted in flood metrics (not sea, river, bridge deck or solid).
    pub land: Vec<bool>,
    /// Door cells of each asset, by the asset's cell ([`City::door_cells`]).
    pub doors: BTreeMap<usize, Vec<usize>>,
    /// Road cells under the sky (not bridge decks).
    pub road: Vec<bool>,
    /// Pipe drainage capacity per cell, m/s.
    pub drain: Vec<f32>,
    /// Pervious share of each land cell (where Horton infiltration acts).
    pub pervious: Vec<f32>,
    /// Each pump station's id and the cells it drains.
    pub pumps: Vec<(String, Vec<u32>)>,
    pub segments: Segments,
    pub sections: RoadSections,
    /// Ground cells around each building.
    pub perimeters: Vec<Vec<u32>>,
    /// Water on the grid at the start, m³.
    pub volume0: f64,
}

/// The flood's kernel inputs from its spec and the run's context.
pub fn setup(spec: &FloodSpec, ctx: &BuildContext) -> Result<FloodSetup, BuildError> {
    let city = ctx.city;
    let g = city.grid;
    let len = g.len();
    let (z, solid) = bed(spec, city)?;
    let mut solver = Solver::new(
        g.nx,
        g.ny,
        g.cell,
        z,
        city.manning.clone(),
        solver_params(spec),
    );
    if let Some(p) = &spec.initial_depth {
        let path = ctx.resolve(p);
        solver.h = read_initial_depth(&path, &g, &ctx.key("initial_depth"))?;
        for k in 0..len {
            if solid[k] {
                solver.h[k] = 0.0;
            }
        }
    }
    for (k, b) in spec.boundaries.iter().enumerate() {
        b.apply(&ctx.key("boundaries").index(k), city, &mut solver)?;
    }
    let sea_cells: Vec<u32> = (0..len)
        .filter(|&k| city.landuse[k] == LandUse::Sea)
        .map(|k| k as u32)
        .collect();
    let bridge = city.bridge_decks();
    let land: Vec<bool> = (0..len)
        .map(|k| {
            !solid[k] && !bridge[k] && !matches!(city.landuse[k], LandUse::Sea | LandUse::Water)
        })
        .collect();
    let road: Vec<bool> = (0..len)
        .map(|k| city.landuse[k] == LandUse::Road && !bridge[k])
        .collect();
    let sections = RoadSections::build(
        g.nx,
        g.ny,
        g.cell,
        &road,
        spec.limits.lane_width_m,
        spec.limits.road_max_width_m,
    );
    let volume0 = solver.volume();
    Ok(FloodSetup {
        grid: g,
        sea_cells,
        doors: asset_doors(city, &bridge),
        drain: drain_capacity(spec, city, &land, &solid),
        pervious: pervious_share(city, &land),
        pumps: pump_catchments(city, &land, spec.pump_catchment_m),
        segments: Segments::build(city, spec.road_segment_m),
        sections,
        perimeters: building_perimeters(city),
        volume0,
        solver,
        solid,
        land,
        road,
    })
}

/// The solver's numerical parameters from the spec.
fn solver_params(spec: &FloodSpec) -> Params {
    Params {
        theta: spec.theta as f32,
        cfl: spec.cfl as f32,
        h_min: spec.wet_threshold_m as f32,
        max_dt: spec.max_step_s,
    }
}

/// The bed the water sees, and which cells are walls: building footprints are walls
/// (solid) or raised by the building's height.
fn bed(spec: &FloodSpec, city: &City) -> Result<(Vec<f32>, Vec<bool>), BuildError> {
    let g = city.grid;
    let mut z = city.elevation.clone();
    let mut solid = vec![false; g.len()];
    for k in 0..g.len() {
        if !z[k].is_finite() {
            let (i, j) = g.cell_of(k);
            return Err(BuildError::new(
                KeyPath::root().key("city"),
                format!("the elevation at cell ({i},{j}) is not a number"),
            ));
        }
        let b = city.building[k];
        if city.landuse[k] == LandUse::Building || b != NO_BUILDING {
            match spec.buildings {
                BuildingMode::Solid => {
                    z[k] = SOLID_Z;
                    solid[k] = true;
                }
                BuildingMode::Raised => {
                    if b != NO_BUILDING {
                        z[k] += city.buildings[b as usize].height_m;
                    }
                }
            }
        }
    }
    Ok((z, solid))
}

/// Read an initial depth grid: same shape as the city grid, finite, non-negative.
fn read_initial_depth(path: &Path, g: &GridSpec, at: &KeyPath) -> Result<Vec<f32>, BuildError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| BuildError::new(at.clone(), format!("{name}: cannot read: {e}")))?;
    let asc = crate::grid::parse_asc(&text, &name)
        .map_err(|e| BuildError::new(at.clone(), e.to_string()))?;
    if asc.grid.nx != g.nx || asc.grid.ny != g.ny {
        return Err(BuildError::new(
            at.clone(),
            format!(
                "{name}: {} × {} cells, the city grid is {} × {}",
                asc.grid.nx, asc.grid.ny, g.nx, g.ny
            ),
        ));
    }
    for (k, &v) in asc.data.iter().enumerate() {
        if !v.is_finite() || v < 0.0 {
            let (i, j) = (k % g.nx, k / g.nx);
            let what = if v.is_finite() {
                format!("a negative depth ({v} m)")
            } else {
                "no value (NaN or NODATA)".to_string()
            };
            return Err(BuildError::new(
                at.clone(),
                format!(
                    "{name}, line {} (row {j}, column {i}): {what}; depths must be finite and ≥ 0",
                    asc.line_of(k)
                ),
            ));
        }
    }
    Ok(asc.data)
}

/// Door cells of each asset on the grid, by the asset's cell (the cell its entity gets).
fn asset_doors(city: &City, bridge: &[bool]) -> BTreeMap<usize, Vec<usize>> {
    let g = city.grid;
    city.assets
        .iter()
        .filter_map(|a| g.locate(a.x, a.y).map(|(i, j)| g.index(i, j)))
        .map(|cell| (cell, city.door_cells(bridge, cell)))
        .collect()
}

/// Pipe capacity of each cell: the design intensity times its impervious share, on land
/// and on the roofs of raised buildings (whose rain runs off their edges).
fn drain_capacity(spec: &FloodSpec, city: &City, land: &[bool], solid: &[bool]) -> Vec<f32> {
    let cap = spec.drainage.capacity_m_s() as f32;
    (0..land.len())
        .map(|k| {
            if land[k]
                || (spec.buildings == BuildingMode::Raised
                    && !solid[k]
                    && city.landuse[k] == LandUse::Building)
            {
                cap * city.imperviousness[k].clamp(0.0, 1.0)
            } else {
                0.0
            }
        })
        .collect()
}

/// Pervious share of each land cell outside buildings (0 elsewhere).
fn pervious_share(city: &City, land: &[bool]) -> Vec<f32> {
    (0..land.len())
        .map(|k| {
            if land[k] && city.landuse[k] != LandUse::Building {
                1.0 - city.imperviousness[k].clamp(0.0, 1.0)
            } else {
                0.0
            }
        })
        .collect()
}

/// Each pump station drains the land cells within `radius` that are nearer to it than to
/// any other pump.
fn pump_catchments(city: &City, land: &[bool], radius: f64) -> Vec<(String, Vec<u32>)> {
    let g = &city.grid;
    let pumps: Vec<_> = city
        .assets
        .iter()
        .filter(|a| a.kind == AssetKind::PumpStation)
        .collect();
    let mut out: Vec<(String, Vec<u32>)> =
        pumps.iter().map(|a| (a.id.clone(), Vec::new())).collect();
    if pumps.is_empty() {
        return out;
    }
    // No cell lies farther than the grid's extent: a larger radius searches no further.
    let r = (radius / g.cell).ceil().min(g.nx.max(g.ny) as f64) as i64 + 1;
    for (p, a) in pumps.iter().enumerate() {
        let Some((pi, pj)) = g.locate(a.x, a.y) else {
            continue;
        };
        for dj in -r..=r {
            for di in -r..=r {
                let (i, j) = (pi as i64 + di, pj as i64 + dj);
                if i < 0 || j < 0 || i >= g.nx as i64 || j >= g.ny as i64 {
                    continue;
                }
                let k = g.index(i as usize, j as usize);
                if !land[k] {
                    continue;
                }
                let (x, y) = g.center(i as usize, j as usize);
                let d = (x - a.x).hypot(y - a.y);
                if d > radius {
                    continue;
                }
                let nearest = pumps
                    .iter()
                    .enumerate()
                    .min_by(|(m, b), (n, c)| {
                        (x - b.x)
                            .hypot(y - b.y)
                            .total_cmp(&(x - c.x).hypot(y - c.y))
                            .then(m.cmp(n))
                    })
                    .map(|(m, _)| m);
                if nearest == Some(p) {
                    out[p].1.push(k as u32);
                }
            }
        }
    }
    out
}
