//! Everything the flood reports, in one table: gauges (columns of `timeseries.csv`, in
//! declaration order), KPIs, event kinds and maps, with their units and descriptions;
//! then the gauge ids of a run and what is written at its end (KPIs and maps).

use bevy_ecs::prelude::*;

use super::state::FloodState;
use crate::city::City;
use crate::grid::{Palette, Raster, RasterKind};
use crate::metrics::{MetricId, Metrics, OutputDef, OutputKind};
use crate::sim::MapOutputs;

const fn gauge(name: &'static str, unit: &'static str, description: &'static str) -> OutputDef {
    OutputDef {
        kind: OutputKind::Gauge,
        name,
        unit,
        description,
    }
}

const fn kpi(name: &'static str, unit: &'static str, description: &'static str) -> OutputDef {
    OutputDef {
        kind: OutputKind::Kpi,
        name,
        unit,
        description,
    }
}

const fn event(name: &'static str, description: &'static str) -> OutputDef {
    OutputDef {
        kind: OutputKind::Event,
        name,
        unit: "",
        description,
    }
}

/// A map's description is its title.
const fn map(name: &'static str, unit: &'static str, title: &'static str) -> OutputDef {
    OutputDef {
        kind: OutputKind::Map,
        name,
        unit,
        description: title,
    }
}

// ---- gauges, in declaration order -----------------------------------------------------

pub const MAX_DEPTH: OutputDef = gauge(
    "flood.max_depth_m",
    "m",
    "deepest water on land (not sea or river)",
);
pub const FLOODED_AREA: OutputDef = gauge(
    "flood.flooded_area_m2",
    "m²",
    "land under more than 0.15 m of water (GB 51222-2017 threshold)",
);
/// Area in each depth class of [`super::systems::CLASS_EDGES`].
pub const CLASS_AREAS: [OutputDef; 4] = [
    gauge(
        "flood.area_15_30cm_m2",
        "m²",
        "area where the water is 0.15–0.3 m deep",
    ),
    gauge(
        "flood.area_30_50cm_m2",
        "m²",
        "area where the water is 0.3–0.5 m deep",
    ),
    gauge(
        "flood.area_50_100cm_m2",
        "m²",
        "area where the water is 0.5–1 m deep",
    ),
    gauge(
        "flood.area_over_100cm_m2",
        "m²",
        "area where the water is over 1 m deep",
    ),
];
pub const MAX_ROAD_DEPTH: OutputDef = gauge(
    "flood.max_road_depth_m",
    "m",
    "deepest water on a road cell (GB 51222-2017: at least one lane ≤ 0.15 m)",
);
pub const SECTIONS_NO_LANE: OutputDef = gauge(
    "flood.road_sections_no_lane",
    "sections",
    "road cross-sections without one lane ≤ 0.15 m deep (GB 51222-2017 criterion; 0 = met)",
);
pub const ROAD_SHARE: OutputDef = gauge(
    "flood.road_share_over_15cm",
    "1",
    "share of road cells with more than 0.15 m of water",
);
pub const ROAD_CELLS_CLOSED: OutputDef = gauge(
    "flood.road_cells_closed",
    "cells",
    "road cells impassable to vehicles",
);
pub const SEGMENTS_CLOSED: OutputDef = gauge(
    "flood.road_segments_closed",
    "segments",
    "road segments with an impassable cell",
);
pub const WALK_CELLS_CLOSED: OutputDef = gauge(
    "flood.walk_cells_closed",
    "cells",
    "ground cells unsafe to walk (ARR H2 limit exceeded)",
);
pub const VOLUME: OutputDef = gauge(
    "flood.volume_m3",
    "m³",
    "water on the grid (including sea cells)",
);
pub const VOLUME_ERROR: OutputDef = gauge(
    "flood.volume_error_rel",
    "1",
    "volume balance error relative to the water handled",
);
pub const RAIN_IN: OutputDef = gauge(
    "flood.rain_in_m3",
    "m³",
    "rain that reached the ground surface so far",
);
pub const DRAINED: OutputDef = gauge(
    "flood.drained_m3",
    "m³",
    "water removed by drains, infiltration and pumps so far",
);
pub const LOSS_YUAN: OutputDef = gauge(
    "flood.direct_loss_yuan",
    "yuan",
    "building damage so far (JRC Asia depth-damage × replacement value)",
);
pub const FLOORS_WET: OutputDef = gauge(
    "flood.buildings_ground_floor_wet",
    "buildings",
    "buildings whose ground floor has taken water so far",
);
/// Occupants by FD2321 hazard class now (low, moderate, significant, extreme).
pub const PEOPLE_BY_CLASS: [OutputDef; 4] = [
    gauge(
        "flood.people_hr_low",
        "people",
        "occupants of buildings in FD2321 hazard class low (now)",
    ),
    gauge(
        "flood.people_hr_moderate",
        "people",
        "occupants in hazard class moderate, danger for some (now)",
    ),
    gauge(
        "flood.people_hr_significant",
        "people",
        "occupants in hazard class significant, danger for most (now)",
    ),
    gauge(
        "flood.people_hr_extreme",
        "people",
        "occupants in hazard class extreme, danger for all (now)",
    ),
];
pub const ASSETS_FAILED: OutputDef = gauge(
    "flood.assets_failed",
    "assets",
    "assets put out of service by flooding so far",
);
pub const SUBSTEPS: OutputDef = gauge("flood.substeps", "steps", "solver sub-steps in the tick");

// ---- KPIs -----------------------------------------------------------------------------

pub const KPI_DIRECT_LOSS: OutputDef = kpi(
    "flood.direct_loss_yuan",
    "yuan",
    "direct building loss: JRC Asia depth-damage at the deepest water reached × replacement value",
);
/// People by the worst FD2321 hazard class their building reached.
pub const KPI_PEOPLE_EXPOSED: [OutputDef; 4] = [
    kpi(
        "flood.people_exposed_low",
        "people",
        "occupants of buildings whose worst FD2321 hazard class was low",
    ),
    kpi(
        "flood.people_exposed_moderate",
        "people",
        "… worst class moderate (danger for some)",
    ),
    kpi(
        "flood.people_exposed_significant",
        "people",
        "… worst class significant (danger for most)",
    ),
    kpi(
        "flood.people_exposed_extreme",
        "people",
        "… worst class extreme (danger for all)",
    ),
];
pub const KPI_PEAK_DEPTH: OutputDef = kpi(
    "flood.peak_depth_m",
    "m",
    "deepest water reached on land during the run",
);
pub const KPI_PEAK_ROAD_DEPTH: OutputDef = kpi(
    "flood.peak_road_depth_m",
    "m",
    "deepest water reached on a road during the run",
);
pub const KPI_FLOORS_WET: OutputDef = kpi(
    "flood.buildings_ground_floor_wet_total",
    "buildings",
    "buildings whose ground floor took water",
);
pub const KPI_ASSETS_FAILED: OutputDef = kpi(
    "flood.assets_failed_total",
    "assets",
    "assets put out of service by flooding",
);
pub const KPI_SEGMENTS_CLOSED_PEAK: OutputDef = kpi(
    "flood.road_segments_closed_peak",
    "segments",
    "most road segments closed at once",
);
pub const KPI_WATERLOGGING_COMPLIANT: OutputDef = kpi(
    "flood.waterlogging_compliant",
    "1",
    "GB 51222-2017 criterion met: every road cross-section kept one lane ≤ 0.15 m deep and no ground floor got wet",
);
pub const KPI_SECTIONS_NO_LANE_PEAK: OutputDef = kpi(
    "flood.road_sections_no_lane_peak",
    "sections",
    "most road cross-sections without a lane ≤ 0.15 m deep at once",
);
pub const KPI_VOLUME_ERROR: OutputDef = kpi(
    "flood.volume_error_final",
    "1",
    "relative volume balance error at the end",
);
pub const KPI_ROOF_RAIN: OutputDef = kpi(
    "flood.roof_rain_m3",
    "m³",
    "rain on solid buildings, sent to the drains by downpipes",
);
pub const KPI_BOUNDARY_NET_IN: OutputDef = kpi(
    "flood.boundary_net_in_m3",
    "m³",
    "net water through boundaries (inflows, level cells, free edges)",
);
pub const KPI_RAIN_TOTAL: OutputDef = kpi(
    "flood.rain_total_m3",
    "m³",
    "rain over the district, roofs included",
);
pub const KPI_DRAINED_TOTAL: OutputDef = kpi(
    "flood.drained_total_m3",
    "m³",
    "water removed by drains, infiltration and pumps",
);

// ---- event kinds (source `flood`) -----------------------------------------------------

pub const ROAD_CLOSED: OutputDef = event(
    "road.closed",
    "a road segment became impassable to vehicles (ARR H1 depth or d·v limit)",
);
pub const ROAD_REOPENED: OutputDef = event(
    "road.reopened",
    "a closed road segment is passable to vehicles again",
);
pub const GROUND_FLOORS_FLOODED: OutputDef = event(
    "buildings.ground_floor_flooded",
    "water entered more ground floors this tick (placed at the deepest)",
);
pub const PEOPLE_DANGER: OutputDef = event(
    "people.danger",
    "more people in buildings of FD2321 hazard class significant or worse (placed at the most occupied)",
);
pub const ASSET_FAILED: OutputDef = event(
    "asset.failed",
    "an asset put out of service by water at its door over its limit",
);

// ---- maps -----------------------------------------------------------------------------

pub const MAP_MAX_DEPTH: OutputDef = map("flood_max_depth", "m", "Maximum flood depth");
pub const MAP_MAX_SPEED: OutputDef = map("flood_max_speed", "m/s", "Maximum flow speed");
pub const MAP_FINAL_DEPTH: OutputDef = map("flood_final_depth", "m", "Flood depth at the end");

/// Every output of the flood, gauges in declaration order.
pub const OUTPUTS: &[OutputDef] = &[
    MAX_DEPTH,
    FLOODED_AREA,
    CLASS_AREAS[0],
    CLASS_AREAS[1],
    CLASS_AREAS[2],
    CLASS_AREAS[3],
    MAX_ROAD_DEPTH,
    SECTIONS_NO_LANE,
    ROAD_SHARE,
    ROAD_CELLS_CLOSED,
    SEGMENTS_CLOSED,
    WALK_CELLS_CLOSED,
    VOLUME,
    VOLUME_ERROR,
    RAIN_IN,
    DRAINED,
    LOSS_YUAN,
    FLOORS_WET,
    PEOPLE_BY_CLASS[0],
    PEOPLE_BY_CLASS[1],
    PEOPLE_BY_CLASS[2],
    PEOPLE_BY_CLASS[3],
    ASSETS_FAILED,
    SUBSTEPS,
    KPI_DIRECT_LOSS,
    KPI_PEOPLE_EXPOSED[0],
    KPI_PEOPLE_EXPOSED[1],
    KPI_PEOPLE_EXPOSED[2],
    KPI_PEOPLE_EXPOSED[3],
    KPI_PEAK_DEPTH,
    KPI_PEAK_ROAD_DEPTH,
    KPI_FLOORS_WET,
    KPI_ASSETS_FAILED,
    KPI_SEGMENTS_CLOSED_PEAK,
    KPI_WATERLOGGING_COMPLIANT,
    KPI_SECTIONS_NO_LANE_PEAK,
    KPI_VOLUME_ERROR,
    KPI_ROOF_RAIN,
    KPI_BOUNDARY_NET_IN,
    KPI_RAIN_TOTAL,
    KPI_DRAINED_TOTAL,
    ROAD_CLOSED,
    ROAD_REOPENED,
    GROUND_FLOORS_FLOODED,
    PEOPLE_DANGER,
    ASSET_FAILED,
    MAP_MAX_DEPTH,
    MAP_MAX_SPEED,
    MAP_FINAL_DEPTH,
];

/// The gauges of a run, declared at build in the order of [`OUTPUTS`].
#[derive(Resource)]
pub struct FloodGauges {
    pub max_depth: MetricId,
    pub flooded_area: MetricId,
    pub classes: [MetricId; 4],
    pub max_road_depth: MetricId,
    pub sections_no_lane: MetricId,
    pub road_share: MetricId,
    pub road_cells_closed: MetricId,
    pub segments_closed: MetricId,
    pub walk_cells_closed: MetricId,
    pub volume: MetricId,
    pub volume_error: MetricId,
    pub rain_in: MetricId,
    pub drained: MetricId,
    pub loss_yuan: MetricId,
    pub floors_wet: MetricId,
    pub people: [MetricId; 4],
    pub assets_failed: MetricId,
    pub substeps: MetricId,
}

impl FloodGauges {
    /// Declare every gauge; the order of the statements is the column order.
    pub fn declare(m: &mut Metrics) -> Self {
        let max_depth = m.declare_output(&MAX_DEPTH);
        let flooded_area = m.declare_output(&FLOODED_AREA);
        let classes = CLASS_AREAS.map(|d| m.declare_output(&d));
        let max_road_depth = m.declare_output(&MAX_ROAD_DEPTH);
        let sections_no_lane = m.declare_output(&SECTIONS_NO_LANE);
        let road_share = m.declare_output(&ROAD_SHARE);
        let road_cells_closed = m.declare_output(&ROAD_CELLS_CLOSED);
        let segments_closed = m.declare_output(&SEGMENTS_CLOSED);
        let walk_cells_closed = m.declare_output(&WALK_CELLS_CLOSED);
        let volume = m.declare_output(&VOLUME);
        let volume_error = m.declare_output(&VOLUME_ERROR);
        let rain_in = m.declare_output(&RAIN_IN);
        let drained = m.declare_output(&DRAINED);
        let loss_yuan = m.declare_output(&LOSS_YUAN);
        let floors_wet = m.declare_output(&FLOORS_WET);
        let people = PEOPLE_BY_CLASS.map(|d| m.declare_output(&d));
        let assets_failed = m.declare_output(&ASSETS_FAILED);
        let substeps = m.declare_output(&SUBSTEPS);
        Self {
            max_depth,
            flooded_area,
            classes,
            max_road_depth,
            sections_no_lane,
            road_share,
            road_cells_closed,
            segments_closed,
            walk_cells_closed,
            volume,
            volume_error,
            rain_in,
            drained,
            loss_yuan,
            floors_wet,
            people,
            assets_failed,
            substeps,
        }
    }
}

/// The run's KPIs, from the state at its end.
pub fn set_kpis(st: &FloodState, city: &City, metrics: &mut Metrics) {
    let b = st.solver.balance;
    let volume = st.solver.volume();
    let loss: f64 = city
        .buildings
        .iter()
        .zip(&st.building_max)
        .map(|(bld, &d)| st.building_loss(bld, d))
        .sum();
    let mut exposed = [0.0f64; 4];
    for (bld, &c) in city.buildings.iter().zip(&st.building_worst) {
        if c > 0 {
            exposed[c as usize - 1] += f64::from(st.population.occupants(bld));
        }
    }
    let floors = st.floor_wet.iter().filter(|&&w| w).count();
    let max_depth = st.max_depth.iter().fold(0.0f32, |m, &d| m.max(d));
    let compliant = st.max_sections_failing == 0 && floors == 0;
    let kpis: [(&OutputDef, f64); 15] = [
        (&KPI_DIRECT_LOSS, loss.round()),
        (&KPI_PEOPLE_EXPOSED[0], exposed[0].round()),
        (&KPI_PEOPLE_EXPOSED[1], exposed[1].round()),
        (&KPI_PEOPLE_EXPOSED[2], exposed[2].round()),
        (&KPI_PEOPLE_EXPOSED[3], exposed[3].round()),
        (&KPI_PEAK_DEPTH, f64::from(max_depth)),
        (&KPI_PEAK_ROAD_DEPTH, f64::from(st.max_road_depth)),
        (&KPI_FLOORS_WET, floors as f64),
        (&KPI_ASSETS_FAILED, st.failed.len() as f64),
        (&KPI_SEGMENTS_CLOSED_PEAK, st.max_segments_closed as f64),
        (
            &KPI_WATERLOGGING_COMPLIANT,
            if compliant { 1.0 } else { 0.0 },
        ),
        (&KPI_SECTIONS_NO_LANE_PEAK, st.max_sections_failing as f64),
        (&KPI_VOLUME_ERROR, st.volume_error(volume)),
        (&KPI_ROOF_RAIN, st.roof_rain),
        (&KPI_BOUNDARY_NET_IN, b.inflow_in + b.level_net - b.edge_out),
    ];
    for (def, v) in kpis {
        metrics.set_kpi_output(def, v);
    }
    metrics.set_kpi_output(&KPI_RAIN_TOTAL, b.rain_in + st.roof_rain);
    metrics.set_kpi_output(&KPI_DRAINED_TOTAL, b.losses);
}

/// The maps of the run (land cells only; sea, rivers and walls are NaN).
pub fn write_maps(st: &FloodState, maps: &mut MapOutputs) {
    let mask = |v: &[f32]| -> Vec<f32> {
        v.iter()
            .zip(&st.land)
            .map(|(&x, &l)| if l { x } else { f32::NAN })
            .collect()
    };
    let water = RasterKind::Continuous {
        palette: Palette::Water,
    };
    for (def, data) in [
        (MAP_MAX_DEPTH, mask(&st.max_depth)),
        (MAP_MAX_SPEED, mask(&st.max_speed)),
        (MAP_FINAL_DEPTH, mask(&st.solver.h)),
    ] {
        maps.0.push(Raster {
            name: def.name.into(),
            title: def.description.into(),
            unit: def.unit.into(),
            grid: st.grid,
            data,
            kind: water.clone(),
        });
    }
}
