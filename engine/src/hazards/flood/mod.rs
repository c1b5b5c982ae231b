//! Pluvial, fluvial and coastal flooding over the city grid: local-inertial overland flow
//! ([`solver`]), boundaries ([`boundary`]), drainage, infiltration and pumps
//! ([`drainage`]), and consequences for roads, buildings, assets and people ([`impacts`]).
//! See `docs/models/flood.md` for the equations, parameters and references.
//!
//! Couplings: reads `RainRate` and `SeaLevel` when a forcing plugin provides them; writes
//! `WaterDepth` after every tick and the `FLOOD_VEHICLE` / `FLOOD_WALK` bits of `Closures`;
//! sets `Operational(false)` on assets it floods.

// Loops index several parallel per-cell arrays at once: an index reads clearer there
// than a zip of many iterators.
#![allow(clippy::needless_range_loop)]

pub mod boundary;
pub mod drainage;
pub mod impacts;
pub mod solver;
pub mod validation;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use bevy_ecs::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::city::assets::Operational;
use crate::city::{Asset, AssetKind, City, LandUse, NO_BUILDING};
use crate::coupling::{Closures, RainRate, SeaLevel, WaterDepth, blocked};
use crate::events::{EventLog, Place, Severity};
use crate::grid::{Palette, Raster, RasterKind};
use crate::metrics::{MetricId, Metrics};
use crate::sim::{
    BuildContext, BuildError, MapOutputs, Phase, Plugin, RunHealth, SimClock, Simulation,
};
use crate::spec::{KeyPath, Problem, in_range, positive};

use boundary::BoundarySpec;
use drainage::{DrainageSpec, HortonSpec};
use impacts::{
    RoadSections, Segments, building_perimeters, damage_fraction, hazard_class, hazard_rating,
};
use solver::{LevelCells, Params, SOLID_Z, Signal, Solver};

/// How buildings enter the flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum BuildingMode {
    /// Footprints are walls: no water enters; roof rain goes to the downpipes.
    #[default]
    Solid,
    /// Footprints are raised by the building height; roof rain runs off the edges.
    Raised,
}

/// The sea when no forcing plugin provides `SeaLevel`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SeaMode {
    /// Sea cells held at `mean_sea_level_m`.
    #[default]
    MeanSeaLevel,
    /// Sea cells are walls.
    Closed,
}

/// Passability and failure limits.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Vehicles: ARR 2019 Book 6 Ch. 7 hazard class H1 limit (Smith, Davey & Cox 2014):
    /// safe for vehicles up to d = 0.3 m and d·v = 0.3 m²/s.
    #[serde(default = "d_vd")]
    pub vehicle_depth_m: f64,
    #[serde(default = "d_vdv")]
    pub vehicle_dv_m2_s: f64,
    /// Walking: H2 limit (d ≤ 0.5 m, d·v ≤ 0.6 m²/s); beyond it H3, unsafe for children
    /// and the elderly.
    #[serde(default = "d_wd")]
    pub walk_depth_m: f64,
    #[serde(default = "d_wdv")]
    pub walk_dv_m2_s: f64,
    /// Ground floors sit at least 0.15 m above the ground around them (GB 50352-2019
    /// 民用建筑设计统一标准): deeper water enters them.
    #[serde(default = "d_gf")]
    pub ground_floor_m: f64,
    /// Metro entrances: sill 0.30–0.45 m above grade (GB 50157-2013 地铁设计规范); the
    /// lower bound is used.
    #[serde(default = "d_metro")]
    pub metro_entrance_m: f64,
    /// Other assets (substations, pump stations, hospitals, …) fail when water enters
    /// their ground floor (the ground-floor rule above).
    #[serde(default = "d_gf")]
    pub asset_m: f64,
    /// GB 51222-2017 waterlogging criterion: at least one traffic lane ≤ 0.15 m deep.
    #[serde(default = "d_gf")]
    pub waterlogging_road_m: f64,
    /// Width of a traffic lane, m: 3.5 m, CJJ 37-2012 城市道路工程设计规范 Table 5.3.2
    /// (mixed traffic, design speed ≤ 60 km/h), the usual urban lane of GB 50220-95.
    #[serde(default = "d_lane")]
    pub lane_width_m: f64,
    /// Cross-sections wider than this are not one road (junctions, road areas): their
    /// cells are judged one by one, m. Default 60 m, wider than the red line of any
    /// urban road class in GB 50220-95 (main trunk roads 40–55 m).
    #[serde(default = "d_road_max")]
    pub road_max_width_m: f64,
}

fn d_lane() -> f64 {
    3.5
}
fn d_road_max() -> f64 {
    60.0
}

fn d_vd() -> f64 {
    0.3
}
fn d_vdv() -> f64 {
    0.3
}
fn d_wd() -> f64 {
    0.5
}
fn d_wdv() -> f64 {
    0.6
}
fn d_gf() -> f64 {
    0.15
}
fn d_metro() -> f64 {
    0.3
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            vehicle_depth_m: d_vd(),
            vehicle_dv_m2_s: d_vdv(),
            walk_depth_m: d_wd(),
            walk_dv_m2_s: d_wdv(),
            ground_floor_m: d_gf(),
            metro_entrance_m: d_metro(),
            asset_m: d_gf(),
            waterlogging_road_m: d_gf(),
            lane_width_m: d_lane(),
            road_max_width_m: d_road_max(),
        }
    }
}

/// `kind = "flood"`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FloodSpec {
    /// q-centring weight θ (1 = Bates et al. 2010, LISFLOOD-FP default; 0.7 recommended
    /// by de Almeida et al. 2012 for low friction).
    #[serde(default = "d_theta")]
    pub theta: f64,
    /// Courant number α (LISFLOOD-FP default 0.7).
    #[serde(default = "d_cfl")]
    pub cfl: f64,
    /// Faces shallower than this carry no flow, m (LISFLOOD-FP DepthThresh 0.001).
    #[serde(default = "d_hmin")]
    pub wet_threshold_m: f64,
    /// Largest sub-step, s.
    #[serde(default = "d_maxdt")]
    pub max_step_s: f64,
    #[serde(default)]
    pub buildings: BuildingMode,
    #[serde(default)]
    pub sea: SeaMode,
    /// Mean sea level above the elevation datum, m.
    #[serde(default)]
    pub mean_sea_level_m: f64,
    #[serde(default)]
    pub boundaries: Vec<BoundarySpec>,
    /// Initial depth grid (.asc, m) on the city grid.
    #[serde(default)]
    pub initial_depth: Option<PathBuf>,
    #[serde(default)]
    pub drainage: DrainageSpec,
    #[serde(default)]
    pub infiltration: HortonSpec,
    /// Radius of a pump station's catchment, m (cells go to their nearest pump).
    #[serde(default = "d_pump")]
    pub pump_catchment_m: f64,
    /// Tile size that cuts the road network into reported segments, m.
    #[serde(default = "d_seg")]
    pub road_segment_m: f64,
    #[serde(default)]
    pub limits: Limits,
}

fn d_theta() -> f64 {
    1.0
}
fn d_cfl() -> f64 {
    0.7
}
fn d_hmin() -> f64 {
    0.001
}
fn d_maxdt() -> f64 {
    10.0
}
fn d_pump() -> f64 {
    500.0
}
fn d_seg() -> f64 {
    100.0
}

/// Solver state (≈ 41 B), forcing and bookkeeping per cell (≈ 40 B).
pub const BYTES_PER_CELL: usize = Solver::BYTES_PER_CELL + 40;

impl FloodSpec {
    pub fn check(&self, at: &KeyPath) -> Result<(), Problem> {
        in_range(at.key("theta"), self.theta, 0.0, 1.0, "θ")?;
        in_range(at.key("cfl"), self.cfl, 0.01, 1.0, "the Courant number")?;
        in_range(
            at.key("wet_threshold_m"),
            self.wet_threshold_m,
            1e-6,
            0.1,
            "the wet/dry threshold",
        )?;
        positive(at.key("max_step_s"), self.max_step_s, "the largest step")?;
        in_range(
            at.key("mean_sea_level_m"),
            self.mean_sea_level_m,
            -100.0,
            100.0,
            "mean sea level",
        )?;
        positive(
            at.key("pump_catchment_m"),
            self.pump_catchment_m,
            "the pump catchment radius",
        )?;
        positive(
            at.key("road_segment_m"),
            self.road_segment_m,
            "the road segment length",
        )?;
        for (k, b) in self.boundaries.iter().enumerate() {
            b.check(&at.key("boundaries").index(k))?;
        }
        self.drainage.check(&at.key("drainage"))?;
        self.infiltration.check(&at.key("infiltration"))?;
        let l = at.key("limits");
        let lim = &self.limits;
        for (key, v) in [
            ("vehicle_depth_m", lim.vehicle_depth_m),
            ("vehicle_dv_m2_s", lim.vehicle_dv_m2_s),
            ("walk_depth_m", lim.walk_depth_m),
            ("walk_dv_m2_s", lim.walk_dv_m2_s),
            ("ground_floor_m", lim.ground_floor_m),
            ("metro_entrance_m", lim.metro_entrance_m),
            ("asset_m", lim.asset_m),
            ("waterlogging_road_m", lim.waterlogging_road_m),
            ("lane_width_m", lim.lane_width_m),
            ("road_max_width_m", lim.road_max_width_m),
        ] {
            positive(l.key(key), v, key)?;
        }
        Ok(())
    }

    pub fn params(&self) -> Params {
        Params {
            theta: self.theta as f32,
            cfl: self.cfl as f32,
            h_min: self.wet_threshold_m as f32,
            max_dt: self.max_step_s,
        }
    }
}

pub struct FloodPlugin<'a>(pub &'a FloodSpec);

/// Gauges declared at build.
struct Gauges {
    max_depth: MetricId,
    flooded_area: MetricId,
    classes: [MetricId; 4],
    max_road_depth: MetricId,
    road_share: MetricId,
    sections_no_lane: MetricId,
    road_cells_closed: MetricId,
    segments_closed: MetricId,
    walk_cells_closed: MetricId,
    volume: MetricId,
    volume_error: MetricId,
    rain_in: MetricId,
    losses: MetricId,
    loss_yuan: MetricId,
    floors_wet: MetricId,
    people: [MetricId; 4],
    assets_failed: MetricId,
    steps: MetricId,
}

/// Depth classes of the flooded-area gauges, m (lower bounds; the first is GB 51222's
/// 0.15 m).
const CLASS_EDGES: [f32; 5] = [0.15, 0.3, 0.5, 1.0, f32::INFINITY];

/// The flood plugin's state.
#[derive(Resource)]
pub struct FloodState {
    pub solver: Solver,
    spec: FloodSpec,
    grid: crate::grid::GridSpec,
    initialised: bool,
    /// Sea cells (applied at the first tick, once forcing plugins have spoken).
    sea_cells: Vec<u32>,
    sea_level_index: Option<usize>,
    /// Cells that are walls (solid buildings, closed sea).
    solid: Vec<bool>,
    /// Land cells counted in flood metrics (not sea, river or solid).
    land: Vec<bool>,
    /// Door cells of each asset, by the asset's cell ([`City::door_cells`]).
    doors: BTreeMap<usize, Vec<usize>>,
    road: Vec<bool>,
    drain: Vec<f32>,
    pervious: Vec<f32>,
    wet_time: Vec<f32>,
    rain: Vec<f32>,
    pumps: Vec<(String, Vec<u32>)>,
    pub speed: Vec<f32>,
    pub max_depth: Vec<f32>,
    pub max_speed: Vec<f32>,
    volume0: f64,
    pub roof_rain: f64,
    segments: Segments,
    segment_closed: Vec<bool>,
    perimeters: Vec<Vec<u32>>,
    building_max: Vec<f32>,
    building_worst: Vec<u8>,
    floor_wet: Vec<bool>,
    failed: Vec<String>,
    max_segments_closed: usize,
    max_road_depth: f32,
    /// Road cross-sections for the lane criterion, and the most that lacked a passable
    /// lane at once.
    sections: RoadSections,
    max_sections_failing: usize,
    daytime: bool,
    gauges: Gauges,
}

impl Plugin for FloodPlugin<'_> {
    fn name(&self) -> &'static str {
        "flood"
    }

    fn check(&self, _ctx: &BuildContext) -> Result<(), BuildError> {
        // TODO(#15): the plugin's pure setup, once split out of `build`.
        Ok(())
    }

    fn build(&self, sim: &mut Simulation, ctx: &BuildContext) -> Result<(), BuildError> {
        let spec = self.0;
        let city = sim.world.resource::<City>().clone();
        let g = city.grid;
        let len = g.len();
        let mut z = city.elevation.clone();
        let mut solid = vec![false; len];
        for k in 0..len {
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
        let mut s = Solver::new(g.nx, g.ny, g.cell, z, city.manning.clone(), spec.params());
        if let Some(p) = &spec.initial_depth {
            let path = ctx.resolve(p);
            s.h = read_initial_depth(&path, &g, &ctx.key("initial_depth"))?;
            for k in 0..len {
                if solid[k] {
                    s.h[k] = 0.0;
                }
            }
        }
        for (k, b) in spec.boundaries.iter().enumerate() {
            b.apply(&ctx.key("boundaries").index(k), &city, &mut s)?;
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
        let doors: BTreeMap<usize, Vec<usize>> = sim
            .world
            .query::<&Asset>()
            .iter(&sim.world)
            .map(|a| (a.cell, city.door_cells(&bridge, a.cell)))
            .collect();
        let cap = spec.drainage.capacity_m_s() as f32;
        let drain: Vec<f32> = (0..len)
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
            .collect();
        let pervious: Vec<f32> = (0..len)
            .map(|k| {
                if land[k] && city.landuse[k] != LandUse::Building {
                    1.0 - city.imperviousness[k].clamp(0.0, 1.0)
                } else {
                    0.0
                }
            })
            .collect();
        let pumps = pump_catchments(&city, &land, spec.pump_catchment_m);
        let road: Vec<bool> = (0..len)
            .map(|k| city.landuse[k] == LandUse::Road && !bridge[k])
            .collect();
        let segments = Segments::build(&city, spec.road_segment_m);
        let sections = RoadSections::build(
            city.grid.nx,
            city.grid.ny,
            city.grid.cell,
            &road,
            spec.limits.lane_width_m,
            spec.limits.road_max_width_m,
        );
        let perimeters = building_perimeters(&city);
        let volume0 = s.volume();
        let gauges = {
            let mut m = sim.world.resource_mut::<Metrics>();
            let area = |lo: &str, hi: &str| format!("area where the water is {lo}–{hi} deep");
            Gauges {
                max_depth: m.declare(
                    "flood.max_depth_m",
                    "m",
                    "deepest water on land (not sea or river)",
                ),
                flooded_area: m.declare(
                    "flood.flooded_area_m2",
                    "m²",
                    "land under more than 0.15 m of water (GB 51222-2017 threshold)",
                ),
                classes: [
                    m.declare("flood.area_15_30cm_m2", "m²", &area("0.15", "0.3 m")),
                    m.declare("flood.area_30_50cm_m2", "m²", &area("0.3", "0.5 m")),
                    m.declare("flood.area_50_100cm_m2", "m²", &area("0.5", "1 m")),
                    m.declare(
                        "flood.area_over_100cm_m2",
                        "m²",
                        "area where the water is over 1 m deep",
                    ),
                ],
                max_road_depth: m.declare(
                    "flood.max_road_depth_m",
                    "m",
                    "deepest water on a road cell (GB 51222-2017: at least one lane ≤ 0.15 m)",
                ),
                sections_no_lane: m.declare(
                    "flood.road_sections_no_lane",
                    "sections",
                    "road cross-sections without one lane ≤ 0.15 m deep (GB 51222-2017 criterion; 0 = met)",
                ),
                road_share: m.declare(
                    "flood.road_share_over_15cm",
                    "1",
                    "share of road cells with more than 0.15 m of water",
                ),
                road_cells_closed: m.declare(
                    "flood.road_cells_closed",
                    "cells",
                    "road cells impassable to vehicles",
                ),
                segments_closed: m.declare(
                    "flood.road_segments_closed",
                    "segments",
                    "road segments with an impassable cell",
                ),
                walk_cells_closed: m.declare(
                    "flood.walk_cells_closed",
                    "cells",
                    "ground cells unsafe to walk (ARR H2 limit exceeded)",
                ),
                volume: m.declare(
                    "flood.volume_m3",
                    "m³",
                    "water on the grid (including sea cells)",
                ),
                volume_error: m.declare(
                    "flood.volume_error_rel",
                    "1",
                    "volume balance error relative to the water handled",
                ),
                rain_in: m.declare(
                    "flood.rain_in_m3",
                    "m³",
                    "rain that reached the ground surface so far",
                ),
                losses: m.declare(
                    "flood.drained_m3",
                    "m³",
                    "water removed by drains, infiltration and pumps so far",
                ),
                loss_yuan: m.declare(
                    "flood.direct_loss_yuan",
                    "yuan",
                    "building damage so far (JRC Asia depth-damage × replacement value)",
                ),
                floors_wet: m.declare(
                    "flood.buildings_ground_floor_wet",
                    "buildings",
                    "buildings whose ground floor has taken water so far",
                ),
                people: [
                    m.declare(
                        "flood.people_hr_low",
                        "people",
                        "occupants of buildings in FD2321 hazard class low (now)",
                    ),
                    m.declare(
                        "flood.people_hr_moderate",
                        "people",
                        "occupants in hazard class moderate, danger for some (now)",
                    ),
                    m.declare(
                        "flood.people_hr_significant",
                        "people",
                        "occupants in hazard class significant, danger for most (now)",
                    ),
                    m.declare(
                        "flood.people_hr_extreme",
                        "people",
                        "occupants in hazard class extreme, danger for all (now)",
                    ),
                ],
                assets_failed: m.declare(
                    "flood.assets_failed",
                    "assets",
                    "assets put out of service by flooding so far",
                ),
                steps: m.declare("flood.substeps", "steps", "solver sub-steps in the tick"),
            }
        };
        if !sim.world.contains_resource::<WaterDepth>() {
            sim.world.insert_resource(WaterDepth(vec![0.0; len]));
        }
        let nb = city.buildings.len();
        let nseg = segments.cells.len();
        sim.world.insert_resource(FloodState {
            solver: s,
            spec: spec.clone(),
            grid: g,
            initialised: false,
            sea_cells,
            sea_level_index: None,
            solid,
            land,
            doors,
            road,
            drain,
            pervious,
            wet_time: vec![0.0; len],
            rain: vec![0.0; len],
            pumps,
            speed: vec![0.0; len],
            max_depth: vec![0.0; len],
            max_speed: vec![0.0; len],
            volume0,
            roof_rain: 0.0,
            segments,
            segment_closed: vec![false; nseg],
            perimeters,
            building_max: vec![0.0; nb],
            building_worst: vec![0; nb],
            floor_wet: vec![false; nb],
            failed: Vec::new(),
            max_segments_closed: 0,
            max_road_depth: 0.0,
            sections,
            max_sections_failing: 0,
            daytime: ctx.population.daytime,
            gauges,
        });
        sim.add_systems(Phase::Hazards, flood_step);
        sim.add_systems(Phase::Impacts, flood_impacts);
        sim.add_finish_systems(flood_finish);
        Ok(())
    }
}

/// Read an initial depth grid: same shape as the city grid, finite, non-negative.
fn read_initial_depth(
    path: &Path,
    g: &crate::grid::GridSpec,
    at: &KeyPath,
) -> Result<Vec<f32>, BuildError> {
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

/// Damage to a building from the deepest water at its walls: the JRC curve applied to
/// the depth above its ground floor (water below the floor does not enter).
fn building_loss(b: &crate::city::Building, depth: f32, floor_m: f64) -> f64 {
    damage_fraction(b.use_, f64::from(depth) - floor_m) * b.value_yuan
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

impl FloodState {
    /// Sea handling, decided at the first tick when forcing plugins have had their say.
    fn initialise(&mut self, sea: Option<f64>) {
        self.initialised = true;
        if !self.sea_cells.is_empty() {
            match (sea, self.spec.sea) {
                (None, SeaMode::Closed) => {
                    for &c in &self.sea_cells {
                        self.solver.z[c as usize] = SOLID_Z;
                        self.solver.h[c as usize] = 0.0;
                        self.solid[c as usize] = true;
                    }
                }
                (level, _) => {
                    let level = level.unwrap_or(self.spec.mean_sea_level_m);
                    self.sea_level_index = Some(self.solver.levels.len());
                    self.solver.levels.push(LevelCells {
                        cells: self.sea_cells.clone(),
                        level: Signal::Const(level),
                    });
                }
            }
        }
        self.solver.finish_setup();
    }

    /// Relative volume balance error: |V − V0 − net inflow| over the water handled.
    pub fn volume_error(&self, volume: f64) -> f64 {
        let b = &self.solver.balance;
        let err = volume - self.volume0 - b.net_in();
        let scale = volume
            .max(self.volume0 + b.rain_in + b.inflow_in + b.level_net.abs())
            .max(1.0);
        err.abs() / scale
    }

    /// Deepest water at the door of the asset at `cell` (see [`City::door_cells`]), m.
    fn depth_at_door(&self, cell: usize) -> f32 {
        self.doors.get(&cell).map_or(0.0, |door| {
            door.iter()
                .map(|&k| self.solver.h[k])
                .fold(0.0f32, f32::max)
        })
    }

    fn place(&self, cell: usize, name: Option<String>) -> Place {
        let (i, j) = self.grid.cell_of(cell);
        let (x, y) = self.grid.center(i, j);
        Place {
            x,
            y,
            cell: Some([i as u32, j as u32]),
            name,
        }
    }
}

/// Phase::Hazards: rain and losses for this tick, then overland flow to the tick's end.
#[allow(clippy::too_many_arguments)]
fn flood_step(
    mut st: ResMut<FloodState>,
    clock: Res<SimClock>,
    rain: Option<Res<RainRate>>,
    sea: Option<Res<SeaLevel>>,
    pumps: Query<(&Asset, &Operational)>,
    mut depth: ResMut<WaterDepth>,
    mut health: ResMut<RunHealth>,
    mut metrics: ResMut<Metrics>,
) {
    let st = &mut *st;
    let (t0, t1) = (clock.t(), clock.t_end());
    let dt = t1 - t0;
    let sea_now = sea.map(|s| s.0);
    if let Some(l) = sea_now
        && !l.is_finite()
    {
        health.fail(format!("flood: sea level is not a number at t={t0} s"));
        return;
    }
    if !st.initialised {
        st.initialise(sea_now);
    }
    if let Some(idx) = st.sea_level_index {
        st.solver.levels[idx].level = Signal::Const(sea_now.unwrap_or(st.spec.mean_sea_level_m));
    }
    // Rain on the surface: the shared forcing field (a design storm or a typhoon), if any.
    let area = st.grid.cell_area();
    let mut roof = 0.0f64;
    match &rain {
        Some(r) => {
            if r.0.len() != st.rain.len() {
                health.fail("flood: RainRate does not match the grid");
                return;
            }
            for (k, &v) in r.0.iter().enumerate() {
                if !v.is_finite() || v < 0.0 {
                    let (i, j) = st.grid.cell_of(k);
                    health.fail(format!(
                        "flood: rain rate {v} at cell ({i},{j}), t={t0} s is not a finite non-negative number"
                    ));
                    return;
                }
                if st.solid[k] {
                    roof += f64::from(v);
                    st.rain[k] = 0.0;
                } else {
                    st.rain[k] = v;
                }
            }
        }
        None => st.rain.fill(0.0),
    }
    st.roof_rain += roof * dt * area;
    let FloodState {
        solver,
        rain: rain_buf,
        drain,
        pervious,
        wet_time,
        spec,
        ..
    } = st;
    solver.set_rain(rain_buf);
    // Loss capacity: drains + Horton infiltration + operating pumps.
    let h_min = spec.wet_threshold_m as f32;
    for k in 0..solver.loss.len() {
        let mut c = drain[k];
        if pervious[k] > 0.0 {
            c += pervious[k] * spec.infiltration.rate_m_s(f64::from(wet_time[k])) as f32;
            if rain_buf[k] > 0.0 || solver.h[k] > h_min {
                wet_time[k] += dt as f32;
            }
        }
        solver.loss[k] = c;
    }
    for (id, cells) in &st.pumps {
        if cells.is_empty() {
            continue;
        }
        let running = pumps
            .iter()
            .find(|(a, _)| &a.id == id)
            .filter(|(_, op)| op.0)
            .map(|(a, _)| a.capacity);
        if let Some(q) = running {
            let per = (q / (cells.len() as f64 * area)) as f32;
            for &c in cells {
                st.solver.loss[c as usize] += per;
            }
        }
    }
    let steps0 = st.solver.steps;
    if let Err(msg) = st.solver.advance_to(t1) {
        health.fail(msg);
        return;
    }
    let volume = st.solver.volume();
    if !volume.is_finite() {
        health.fail(st.solver.non_finite_report());
        return;
    }
    metrics.set(st.gauges.steps, (st.solver.steps - steps0) as f64);
    depth.0.copy_from_slice(&st.solver.h);
    let speed = st.solver.speed(0.01);
    let FloodState {
        solver,
        max_depth,
        max_speed,
        land,
        ..
    } = st;
    for k in 0..speed.len() {
        if land[k] {
            max_depth[k] = max_depth[k].max(solver.h[k]);
            max_speed[k] = max_speed[k].max(speed[k]);
        }
    }
    st.speed = speed;
}

/// Phase::Impacts: closures, damage, asset failures, exposure, gauges.
#[allow(clippy::too_many_arguments)]
fn flood_impacts(
    mut st: ResMut<FloodState>,
    clock: Res<SimClock>,
    mut closures: ResMut<Closures>,
    mut log: ResMut<EventLog>,
    mut metrics: ResMut<Metrics>,
    mut assets: Query<(&Asset, &mut Operational)>,
    city: Res<City>,
    owner: Option<Res<crate::coupling::AssetFailureOwner>>,
) {
    let st = &mut *st;
    let t = clock.t_end();
    let lim = st.spec.limits;
    let h = &st.solver.h;
    let area = st.grid.cell_area();
    // Depth classes, road state and closures.
    let mut max_depth = 0.0f32;
    let mut class_area = [0.0f64; 4];
    let mut flooded = 0.0f64;
    let (mut road_cells, mut road_wet, mut road_closed, mut walk_closed) =
        (0usize, 0usize, 0usize, 0usize);
    let mut max_road = 0.0f32;
    let mut seg_blocked = vec![0u32; st.segments.cells.len()];
    let mut seg_depth = vec![0.0f32; st.segments.cells.len()];
    for k in 0..h.len() {
        if !st.land[k] {
            continue;
        }
        let d = h[k];
        let dv = f64::from(d) * f64::from(st.speed[k]);
        max_depth = max_depth.max(d);
        if d > CLASS_EDGES[0] {
            flooded += area;
            for c in 0..4 {
                if d > CLASS_EDGES[c] && d <= CLASS_EDGES[c + 1] {
                    class_area[c] += area;
                }
            }
        }
        let walk = f64::from(d) > lim.walk_depth_m || dv > lim.walk_dv_m2_s;
        if walk {
            walk_closed += 1;
        }
        closures.set(k, blocked::FLOOD_WALK, walk);
        if st.road[k] {
            road_cells += 1;
            max_road = max_road.max(d);
            if f64::from(d) > lim.waterlogging_road_m {
                road_wet += 1;
            }
            let vehicle = f64::from(d) > lim.vehicle_depth_m || dv > lim.vehicle_dv_m2_s;
            closures.set(k, blocked::FLOOD_VEHICLE, vehicle);
            if vehicle {
                road_closed += 1;
                let s = st.segments.of_cell[k] as usize;
                seg_blocked[s] += 1;
                seg_depth[s] = seg_depth[s].max(d);
            }
        }
    }
    st.max_road_depth = st.max_road_depth.max(max_road);
    let (no_lane, _) = st.sections.failing(h, lim.waterlogging_road_m as f32);
    st.max_sections_failing = st.max_sections_failing.max(no_lane);
    // Segment events: one per change of state.
    let mut closed_now = 0;
    for s in 0..seg_blocked.len() {
        let closed = seg_blocked[s] > 0;
        if closed {
            closed_now += 1;
        }
        if closed != st.segment_closed[s] {
            st.segment_closed[s] = closed;
            let anchor = st.segments.anchor[s] as usize;
            let place = st.place(anchor, None);
            let n = st.segments.cells[s].len();
            if closed {
                log.emit(t, "flood", "road.closed", Severity::Moderate)
                    .at(place)
                    .message(format!(
                        "road segment {s} closed to vehicles: {} of {n} cells above {} m or {} m²/s (deepest {:.2} m)",
                        seg_blocked[s], lim.vehicle_depth_m, lim.vehicle_dv_m2_s, seg_depth[s]
                    ))
                    .with("segment", s as u64)
                    .with("cells_blocked", u64::from(seg_blocked[s]))
                    .with("max_depth_m", f64::from(seg_depth[s]));
            } else {
                log.emit(t, "flood", "road.reopened", Severity::Info)
                    .at(place)
                    .message(format!("road segment {s} passable to vehicles again"))
                    .with("segment", s as u64);
            }
        }
    }
    st.max_segments_closed = st.max_segments_closed.max(closed_now);
    // Buildings: water at the walls, ground floors, damage, people by hazard class.
    let mut people_now = [0.0f64; 4];
    let mut new_wet = 0usize;
    let mut new_wet_people = 0.0f64;
    let mut worst_new: Option<(usize, f32)> = None;
    let mut danger_new = 0.0f64;
    let mut danger_at: Option<(usize, f64)> = None;
    let mut loss = 0.0f64;
    for (b, bld) in city.buildings.iter().enumerate() {
        let mut d = 0.0f32;
        let mut hr = 0.0f64;
        for &c in &st.perimeters[b] {
            let c = c as usize;
            let dc = st.solver.h[c];
            d = d.max(dc);
            hr = hr.max(hazard_rating(f64::from(dc), f64::from(st.speed[c])));
        }
        st.building_max[b] = st.building_max[b].max(d);
        loss += building_loss(bld, st.building_max[b], lim.ground_floor_m);
        let people = f64::from(if st.daytime {
            bld.occupants_day
        } else {
            bld.occupants_night
        });
        if f64::from(d) > lim.ground_floor_m && !st.floor_wet[b] {
            st.floor_wet[b] = true;
            new_wet += 1;
            new_wet_people += people;
            if worst_new.is_none_or(|(_, w)| d > w) {
                worst_new = Some((b, d));
            }
        }
        // Exposure counts from the GB 51222 ponding depth (0.15 m), not a rain film.
        let class = if d > CLASS_EDGES[0] {
            hazard_class(f64::from(d), hr)
        } else {
            0
        };
        if class > 0 {
            people_now[class - 1] += people;
        }
        if class >= 3 && (st.building_worst[b] as usize) < 3 {
            danger_new += people;
            if danger_at.is_none_or(|(_, p)| people > p) {
                danger_at = Some((b, hr));
            }
        }
        st.building_worst[b] = st.building_worst[b].max(class as u8);
    }
    if let Some((b, d)) = worst_new {
        let anchor = city.buildings[b].anchor as usize;
        log.emit(t, "flood", "buildings.ground_floor_flooded", Severity::Moderate)
            .at(st.place(anchor, None))
            .message(format!(
                "water entered the ground floor of {new_wet} more building(s) ({new_wet_people:.0} occupants); deepest {d:.2} m here"
            ))
            .with("buildings", new_wet as u64)
            .with("occupants", new_wet_people.round())
            .with("depth_m", f64::from(d));
    }
    if let Some((b, hr)) = danger_at {
        let anchor = city.buildings[b].anchor as usize;
        log.emit(t, "flood", "people.danger", Severity::Major)
            .at(st.place(anchor, None))
            .message(format!(
                "{danger_new:.0} more people in buildings where the flood hazard rating is significant or worse (HR ≥ 1.25, danger for most); HR {hr:.2} here"
            ))
            .with("people", danger_new.round())
            .with("hazard_rating", hr);
    }
    // Assets: fail when the water at their door is over their limit — unless another
    // plugin (lifelines) owns asset failure.
    for (a, mut op) in assets.iter_mut().filter(|_| owner.is_none()) {
        if st.failed.contains(&a.id) {
            continue;
        }
        let limit = match a.kind {
            AssetKind::MetroEntrance => lim.metro_entrance_m,
            _ => lim.asset_m,
        };
        let d = st.depth_at_door(a.cell);
        if f64::from(d) > limit {
            st.failed.push(a.id.clone());
            let was = op.0;
            op.0 = false;
            let severity = if matches!(a.kind, AssetKind::Hospital | AssetKind::Substation) {
                Severity::Critical
            } else {
                Severity::Major
            };
            log.emit(t, "flood", "asset.failed", severity)
                .at(Place {
                    x: a.x,
                    y: a.y,
                    cell: {
                        let (i, j) = st.grid.cell_of(a.cell);
                        Some([i as u32, j as u32])
                    },
                    name: Some(a.id.clone()),
                })
                .message(format!(
                    "{} {} flooded: {d:.2} m of water at its entrance (limit {limit} m){}",
                    a.kind.label(),
                    a.id,
                    if was { "" } else { " (already out of service)" }
                ))
                .with("depth_m", f64::from(d))
                .with("limit_m", limit)
                .with("kind", a.kind.label());
        }
    }
    let volume = st.solver.volume();
    let g = &st.gauges;
    let b = st.solver.balance;
    metrics.set(g.max_depth, f64::from(max_depth));
    metrics.set(g.flooded_area, flooded);
    for c in 0..4 {
        metrics.set(g.classes[c], class_area[c]);
        metrics.set(g.people[c], people_now[c].round());
    }
    metrics.set(g.max_road_depth, f64::from(max_road));
    metrics.set(g.sections_no_lane, no_lane as f64);
    metrics.set(
        g.road_share,
        if road_cells > 0 {
            road_wet as f64 / road_cells as f64
        } else {
            0.0
        },
    );
    metrics.set(g.road_cells_closed, road_closed as f64);
    metrics.set(g.segments_closed, closed_now as f64);
    metrics.set(g.walk_cells_closed, walk_closed as f64);
    metrics.set(g.volume, volume);
    metrics.set(g.volume_error, st.volume_error(volume));
    metrics.set(g.rain_in, b.rain_in);
    metrics.set(g.losses, b.losses);
    metrics.set(g.loss_yuan, loss.round());
    metrics.set(
        g.floors_wet,
        st.floor_wet.iter().filter(|&&w| w).count() as f64,
    );
    metrics.set(g.assets_failed, st.failed.len() as f64);
}

/// Finish: KPIs and maps.
fn flood_finish(
    st: Res<FloodState>,
    city: Res<City>,
    mut metrics: ResMut<Metrics>,
    mut maps: ResMut<MapOutputs>,
) {
    let b = st.solver.balance;
    let volume = st.solver.volume();
    let loss: f64 = city
        .buildings
        .iter()
        .zip(&st.building_max)
        .map(|(bld, &d)| building_loss(bld, d, st.spec.limits.ground_floor_m))
        .sum();
    let mut exposed = [0.0f64; 4];
    for (bld, &c) in city.buildings.iter().zip(&st.building_worst) {
        if c > 0 {
            exposed[c as usize - 1] += f64::from(if st.daytime {
                bld.occupants_day
            } else {
                bld.occupants_night
            });
        }
    }
    let floors = st.floor_wet.iter().filter(|&&w| w).count();
    let max_depth = st.max_depth.iter().fold(0.0f32, |m, &d| m.max(d));
    let compliant = st.max_sections_failing == 0 && floors == 0;
    let kpis: [(&str, f64, &str, &str); 15] = [
        (
            "flood.direct_loss_yuan",
            loss.round(),
            "yuan",
            "direct building loss: JRC Asia depth-damage at the deepest water reached × replacement value",
        ),
        (
            "flood.people_exposed_low",
            exposed[0].round(),
            "people",
            "occupants of buildings whose worst FD2321 hazard class was low",
        ),
        (
            "flood.people_exposed_moderate",
            exposed[1].round(),
            "people",
            "… worst class moderate (danger for some)",
        ),
        (
            "flood.people_exposed_significant",
            exposed[2].round(),
            "people",
            "… worst class significant (danger for most)",
        ),
        (
            "flood.people_exposed_extreme",
            exposed[3].round(),
            "people",
            "… worst class extreme (danger for all)",
        ),
        (
            "flood.peak_depth_m",
            f64::from(max_depth),
            "m",
            "deepest water reached on land during the run",
        ),
        (
            "flood.peak_road_depth_m",
            f64::from(st.max_road_depth),
            "m",
            "deepest water reached on a road during the run",
        ),
        (
            "flood.buildings_ground_floor_wet_total",
            floors as f64,
            "buildings",
            "buildings whose ground floor took water",
        ),
        (
            "flood.assets_failed_total",
            st.failed.len() as f64,
            "assets",
            "assets put out of service by flooding",
        ),
        (
            "flood.road_segments_closed_peak",
            st.max_segments_closed as f64,
            "segments",
            "most road segments closed at once",
        ),
        (
            "flood.waterlogging_compliant",
            if compliant { 1.0 } else { 0.0 },
            "1",
            "GB 51222-2017 criterion met: every road cross-section kept one lane ≤ 0.15 m deep and no ground floor got wet",
        ),
        (
            "flood.road_sections_no_lane_peak",
            st.max_sections_failing as f64,
            "sections",
            "most road cross-sections without a lane ≤ 0.15 m deep at once",
        ),
        (
            "flood.volume_error_final",
            st.volume_error(volume),
            "1",
            "relative volume balance error at the end",
        ),
        (
            "flood.roof_rain_m3",
            st.roof_rain,
            "m³",
            "rain on solid buildings, sent to the drains by downpipes",
        ),
        (
            "flood.boundary_net_in_m3",
            b.inflow_in + b.level_net - b.edge_out,
            "m³",
            "net water through boundaries (inflows, level cells, free edges)",
        ),
    ];
    for (name, v, unit, desc) in kpis {
        metrics.set_kpi(name, v, unit, desc);
    }
    metrics.set_kpi(
        "flood.rain_total_m3",
        b.rain_in + st.roof_rain,
        "m³",
        "rain over the district, roofs included",
    );
    metrics.set_kpi(
        "flood.drained_total_m3",
        b.losses,
        "m³",
        "water removed by drains, infiltration and pumps",
    );
    let mask = |v: &[f32]| -> Vec<f32> {
        v.iter()
            .zip(&st.land)
            .map(|(&x, &l)| if l { x } else { f32::NAN })
            .collect()
    };
    let water = RasterKind::Continuous {
        palette: Palette::Water,
    };
    for (name, title, unit, data) in [
        (
            "flood_max_depth",
            "Maximum flood depth",
            "m",
            mask(&st.max_depth),
        ),
        (
            "flood_max_speed",
            "Maximum flow speed",
            "m/s",
            mask(&st.max_speed),
        ),
        (
            "flood_final_depth",
            "Flood depth at the end",
            "m",
            mask(&st.solver.h),
        ),
    ] {
        maps.0.push(Raster {
            name: name.into(),
            title: title.into(),
            unit: unit.into(),
            grid: st.grid,
            data,
            kind: water.clone(),
        });
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;

    use super::*;
    use crate::run::{RunError, prepare_city, run};
    use crate::scenario::{LoadedScenario, load, parse};

    fn example() -> LoadedScenario {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/flood-example.toml");
        load(&path).expect("the example loads")
    }

    #[test]
    fn example_runs_deterministically_with_consistent_outputs() {
        let loaded = example();
        let city = Arc::new(prepare_city(&loaded).unwrap());
        let a = run(&loaded, &city, 7, |_| {}).unwrap();
        let b = run(&loaded, &city, 7, |_| {}).unwrap();
        assert_eq!(a.timeseries_csv, b.timeseries_csv);
        assert_eq!(a.events, b.events);
        // Events in time order (flood and design-storm warnings), all with a place.
        assert!(a.events.windows(2).all(|w| w[0].t <= w[1].t));
        assert!(a.events.iter().any(|e| e.kind == "road.closed"));
        assert!(a.events.iter().all(|e| e.place.is_some()));
        let k = &a.summary.kpis;
        for name in [
            "flood.direct_loss_yuan",
            "flood.people_exposed_extreme",
            "flood.waterlogging_compliant",
            "flood.volume_error_final",
        ] {
            assert!(k.contains_key(name), "KPI {name} missing");
        }
        assert!(
            k["flood.volume_error_final"].value < 1e-5,
            "{:?}",
            k["flood.volume_error_final"]
        );
        assert!(k["flood.direct_loss_yuan"].value > 0.0);
        // A 100-year storm on 3-year pipes floods roads: the standard fails here.
        assert_eq!(k["flood.waterlogging_compliant"].value, 0.0);
        assert!(a.summary.standards.iter().any(|v| !v.pass));
        assert_eq!(
            a.maps
                .iter()
                .filter(|m| m.name.starts_with("flood_"))
                .count(),
            3
        );
        let depth = a.maps.iter().find(|m| m.name == "flood_max_depth").unwrap();
        assert!(depth.data.iter().all(|d| d.is_nan() || *d >= 0.0));
    }

    fn with_flood(extra: &str) -> Result<LoadedScenario, crate::scenario::ScenarioError> {
        let text = format!(
            "format = 1\nname = \"t\"\n[time]\nduration_s = 600\ntick_s = 60\n[city]\nsource = \"generate\"\nwidth_m = 500\nheight_m = 400\ncell_m = 10\n[[hazards]]\nkind = \"flood\"\n{extra}"
        );
        parse(&text, "t.toml", Path::new("."))
    }

    fn build_error(loaded: &LoadedScenario) -> String {
        let city = Arc::new(prepare_city(loaded).unwrap());
        match run(loaded, &city, 1, |_| {}) {
            Err(RunError::Input(e)) => e.to_string(),
            Err(e) => panic!("expected an input error, got {e}"),
            Ok(_) => panic!("expected an input error"),
        }
    }

    #[test]
    fn bad_inputs_name_their_key() {
        let e = with_flood("theta = 1.5\n").unwrap_err().to_string();
        assert!(e.contains("hazards[0].theta"), "{e}");
        let e = with_flood("[[hazards.boundaries]]\ntype = \"inflow\"\nat = [100.0, 100.0]\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("q_m3_s"), "{e}");
        let l = with_flood(
            "[[hazards.boundaries]]\ntype = \"inflow\"\nat = [9000.0, 100.0]\nq_m3_s = 1.0\n",
        )
        .unwrap();
        let e = build_error(&l);
        assert!(
            e.contains("hazards[0].boundaries[0].at") && e.contains("off the grid"),
            "{e}"
        );
        let l = with_flood(
            "[[hazards.boundaries]]\ntype = \"level\"\nedge = \"west\"\nfrom_m = 100.0\nto_m = 5000.0\nlevel_m = 1.0\n",
        )
        .unwrap();
        let e = build_error(&l);
        assert!(e.contains("hazards[0].boundaries[0].to_m"), "{e}");
    }

    #[test]
    fn inflow_in_a_building_is_an_error() {
        let l = with_flood("").unwrap();
        let city = prepare_city(&l).unwrap();
        let k = city
            .landuse
            .iter()
            .position(|&l| l == LandUse::Building)
            .unwrap();
        let (i, j) = city.grid.cell_of(k);
        let (x, y) = city.grid.center(i, j);
        let l = with_flood(&format!(
            "[[hazards.boundaries]]\ntype = \"inflow\"\nat = [{x}, {y}]\nq_m3_s = 1.0\n"
        ))
        .unwrap();
        let e = build_error(&l);
        assert!(
            e.contains("building") && e.contains("boundaries[0].at"),
            "{e}"
        );
    }

    #[test]
    fn bad_initial_depth_files_are_errors_with_line() {
        let dir = tempfile::tempdir().unwrap();
        let header =
            "ncols 50\nnrows 40\nxllcorner 0\nyllcorner 0\ncellsize 10\nNODATA_value -9999\n";
        let mut rows: Vec<String> = (0..40).map(|_| vec!["0.0"; 50].join(" ")).collect();
        rows[3] = {
            let mut r = vec!["0.0"; 50];
            r[7] = "-0.5";
            r.join(" ")
        };
        std::fs::write(
            dir.path().join("h.asc"),
            format!("{header}{}\n", rows.join("\n")),
        )
        .unwrap();
        rows[3] = {
            let mut r = vec!["0.0"; 50];
            r[2] = "NaN";
            r.join(" ")
        };
        std::fs::write(
            dir.path().join("n.asc"),
            format!("{header}{}\n", rows.join("\n")),
        )
        .unwrap();
        for (file, what) in [("h.asc", "negative"), ("n.asc", "NaN")] {
            let text = format!(
                "format = 1\nname = \"t\"\n[time]\nduration_s = 600\ntick_s = 60\n[city]\nsource = \"generate\"\nwidth_m = 500\nheight_m = 400\ncell_m = 10\n[[hazards]]\nkind = \"flood\"\ninitial_depth = \"{file}\"\n"
            );
            let l = parse(&text, "t.toml", dir.path()).unwrap();
            let e = build_error(&l);
            assert!(
                e.contains("initial_depth") && e.contains("line 10") && e.contains(what),
                "{e}"
            );
        }
    }

    #[test]
    fn non_finite_rain_fails_the_run_with_cell_and_time() {
        let l = with_flood("").unwrap();
        let city = prepare_city(&l).unwrap();
        let mut sim = crate::run::build(&l, &city, 1).unwrap();
        let mut rain = vec![0.0f32; city.grid.len()];
        rain[city.grid.index(4, 3)] = f32::NAN;
        sim.world.insert_resource(RainRate(rain));
        let e = sim.step().unwrap_err();
        assert!(e.contains("(4,3)") && e.contains("t=0"), "{e}");
    }

    #[test]
    fn sea_follows_sea_level_or_stays_closed() {
        let l = with_flood("").unwrap();
        let city = prepare_city(&l).unwrap();
        let sea: Vec<usize> = (0..city.grid.len())
            .filter(|&k| city.landuse[k] == LandUse::Sea)
            .collect();
        assert!(!sea.is_empty());
        // A 3 m surge: sea cells stand at 3 m and low land behind them takes water.
        let mut sim = crate::run::build(&l, &city, 1).unwrap();
        sim.world.insert_resource(SeaLevel(3.0));
        for _ in 0..5 {
            sim.step().unwrap();
        }
        let st = sim.world.resource::<FloodState>();
        for &k in &sea {
            let eta = st.solver.z[k] + st.solver.h[k];
            assert!(
                (eta - 3.0).abs() < 1e-5 || st.solver.z[k] > 3.0,
                "sea cell {k}: {eta}"
            );
        }
        assert!(st.solver.balance.level_net > 0.0);
        let wet_land = (0..city.grid.len())
            .filter(|&k| st.land[k] && st.solver.h[k] > 0.05)
            .count();
        assert!(wet_land > 0, "the surge floods low land");
        let depth = sim.world.resource::<WaterDepth>();
        assert_eq!(depth.0, sim.world.resource::<FloodState>().solver.h);
        // Closed sea: no exchange, sea cells dry.
        let l = with_flood("sea = \"closed\"\n").unwrap();
        let mut sim = crate::run::build(&l, &city, 1).unwrap();
        for _ in 0..5 {
            sim.step().unwrap();
        }
        let st = sim.world.resource::<FloodState>();
        assert_eq!(st.solver.balance.level_net, 0.0);
        assert!(sea.iter().all(|&k| st.solver.h[k] == 0.0));
    }

    #[test]
    fn pumps_remove_their_rated_flow_only_while_operational() {
        let l = with_flood(
            "sea = \"closed\"\n[hazards.drainage]\nenabled = false\n[hazards.infiltration]\nenabled = false\n",
        )
        .unwrap();
        let city = prepare_city(&l).unwrap();
        let mut sim = crate::run::build(&l, &city, 1).unwrap();
        let rated: f64 = {
            // A still lake 0.5 m over the highest ground (closed sea, solid buildings).
            let mut st = sim.world.resource_mut::<FloodState>();
            let top = (0..st.solver.h.len())
                .filter(|&k| !st.solid[k] && city.landuse[k] != LandUse::Sea)
                .map(|k| st.solver.z[k])
                .fold(f32::MIN, f32::max);
            for k in 0..st.solver.h.len() {
                if !st.solid[k] && city.landuse[k] != LandUse::Sea {
                    st.solver.h[k] = top + 0.5 - st.solver.z[k];
                }
            }
            st.volume0 = st.solver.volume();
            let pumps: Vec<String> = st
                .pumps
                .iter()
                .filter(|(_, c)| !c.is_empty())
                .map(|(id, _)| id.clone())
                .collect();
            assert!(!pumps.is_empty(), "the generated district has a pump");
            city.assets
                .iter()
                .filter(|a| pumps.contains(&a.id))
                .map(|a| a.capacity)
                .sum()
        };
        sim.step().unwrap();
        let removed = sim.world.resource::<FloodState>().solver.balance.losses;
        assert!(
            (removed - rated * 60.0).abs() < 1e-3 * rated * 60.0,
            "{removed} m³ removed, rated {rated} m³/s × 60 s"
        );
        let mut q = sim.world.query::<&mut Operational>();
        for mut op in q.iter_mut(&mut sim.world) {
            op.0 = false;
        }
        sim.step().unwrap();
        let after = sim.world.resource::<FloodState>().solver.balance.losses;
        assert_eq!(after, removed, "stopped pumps remove nothing");
    }

    /// A substation beside a river stays in service with the river full (the river is not
    /// water at its door, `City::door_cells`, as for lifelines) and fails once land water
    /// over the 0.15 m limit stands round it.
    #[test]
    fn assets_fail_on_water_at_their_door_not_on_the_river_beside_them() {
        use crate::city::AssetSpec;
        use crate::city::assets::spawn_assets;
        use crate::grid::GridSpec;
        let mut city = City::flat(GridSpec::new(9, 9, 10.0));
        let g = city.grid;
        // A river 2 m deep along column 3; the substation on the bank at (4, 4).
        let river: Vec<usize> = (0..9).map(|j| g.index(3, j)).collect();
        for &k in &river {
            city.landuse[k] = LandUse::Water;
            city.elevation[k] = -2.0;
        }
        let (x, y) = g.center(4, 4);
        city.assets.push(AssetSpec {
            id: "S".into(),
            kind: AssetKind::Substation,
            x,
            y,
            capacity: 1.0,
            depends_on: vec![],
        });
        let mut sim = Simulation::new(1, 1.0, 60.0, 60.0);
        spawn_assets(&mut sim.world, &city.assets, &g);
        sim.world.insert_resource(Closures::new(&g));
        sim.world.insert_resource(city);
        let spec: FloodSpec =
            toml::from_str("[drainage]\nenabled = false\n[infiltration]\nenabled = false\n")
                .expect("flood spec");
        sim.add_plugin_standalone(&FloodPlugin(&spec), 0)
            .expect("flood builds");
        let operational = |sim: &mut Simulation| {
            let mut q = sim.world.query::<&Operational>();
            q.single(&sim.world).expect("one asset").0
        };
        // The river bank-full to 0.5 m below the land: 1.5 m of water beside the asset.
        {
            let mut st = sim.world.resource_mut::<FloodState>();
            for &k in &river {
                st.solver.h[k] = 1.5;
            }
        }
        sim.step().unwrap();
        assert!(operational(&mut sim), "the river beside it is not a flood");
        // 0.3 m over all the land.
        {
            let mut st = sim.world.resource_mut::<FloodState>();
            for k in 0..g.len() {
                if !river.contains(&k) {
                    st.solver.h[k] = 0.3;
                }
            }
        }
        sim.step().unwrap();
        assert!(!operational(&mut sim), "water at its door fails it");
        let log = sim.world.resource::<EventLog>();
        let failed: Vec<_> = log
            .events()
            .iter()
            .filter(|e| e.source == "flood" && e.kind == "asset.failed")
            .collect();
        assert_eq!(failed.len(), 1, "{failed:?}");
    }

    #[test]
    fn blow_up_is_reported_with_cell_and_time() {
        let mut s = Solver::new(4, 3, 10.0, vec![0.0; 12], vec![0.03; 12], Params::default());
        s.h[5] = f32::INFINITY;
        s.finish_setup();
        let e = s.step(1.0).unwrap_err();
        assert!(e.contains("cell (") && e.contains("t="), "{e}");
    }
}
