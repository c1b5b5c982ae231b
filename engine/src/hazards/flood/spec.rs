//! The flood hazard as written in a scenario (`kind = "flood"`): its serde types and the
//! checks of their ranges. Checks against the city are in [`super::setup`].

use std::path::PathBuf;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::boundary::BoundarySpec;
use super::drainage::{DrainageSpec, HortonSpec};
use crate::spec::{KeyPath, Problem, in_range, positive};

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
}
