//! Everything the fire hazard reports, in one table (`OUTPUTS`: gauges in their column
//! order, KPIs, event kinds, maps), and the functions that declare the gauges, set the
//! KPIs and make the maps from it.

use super::coverage::Coverage;
use super::setup::CutOffRoads;
use super::state::FireSim;
use crate::events::{EventLog, Place, Severity};
use crate::grid::{GridSpec, Palette, Raster, RasterKind};
use crate::metrics::OutputKind::{Event, Gauge, Kpi, Map};
use crate::metrics::{MetricId, Metrics, OutputDef, OutputKind};

const fn def(
    kind: OutputKind,
    name: &'static str,
    unit: &'static str,
    description: &'static str,
) -> OutputDef {
    OutputDef {
        kind,
        name,
        unit,
        description,
    }
}

// ---- gauges (timeseries.csv columns, in this order) ----------------------------------

pub const BURNING_AREA: OutputDef = def(
    Gauge,
    "fire.burning_area_m2",
    "m²",
    "building footprint burning now",
);
pub const AFFECTED_AREA: OutputDef = def(
    Gauge,
    "fire.affected_area_m2",
    "m²",
    "building footprint burnt out or burnt and put out so far",
);
pub const BUILDINGS_BURNING: OutputDef = def(
    Gauge,
    "fire.buildings_burning",
    "buildings",
    "buildings on fire now",
);
pub const BUILDINGS_BURNT: OutputDef = def(
    Gauge,
    "fire.buildings_burnt",
    "buildings",
    "buildings burnt (fire over, some part burnt out)",
);
pub const ENGINES_COMMITTED: OutputDef = def(
    Gauge,
    "fire.engines_committed",
    "engines",
    "engines not available at their station",
);
pub const DEATHS: OutputDef = def(
    Gauge,
    "fire.deaths",
    "people",
    "fire deaths so far (occupants outrun by the fire)",
);
pub const ACTIVE_INCIDENTS: OutputDef = def(
    Gauge,
    "fire.active_incidents",
    "incidents",
    "fires started and not out",
);

// ---- KPIs of station coverage (set at build) -------------------------------------------

pub const COVERAGE_5MIN_SHARE: OutputDef = def(
    Kpi,
    "fire.coverage_5min_share",
    "share",
    "share of the district's land reached within 5 min of the dispatch order (建标152-2017; travel ≤ 5 min − turnout)",
);
pub const NFPA1710_TRAVEL_SHARE: OutputDef = def(
    Kpi,
    "fire.nfpa1710_travel_240s_share",
    "share",
    "share of expected calls with first-engine travel within the NFPA 1710 limit (240 s); the standard asks ≥ 0.9",
);
pub const TRAVEL_TIME_P90: OutputDef = def(
    Kpi,
    "fire.travel_time_p90_s",
    "s",
    "90th percentile of first-engine travel time over expected calls (NFPA 1710: ≤ 240 s)",
);
pub const MAX_STATION_DISTRICT: OutputDef = def(
    Kpi,
    "fire.max_station_district_km2",
    "km²",
    "land area of the largest station district (cells nearest to one station by travel time); 建标152-2017: ≤ 7 km²",
);
pub const COVERAGE_UNREACHABLE: OutputDef = def(
    Kpi,
    "fire.coverage_unreachable_share",
    "share",
    "share of the district's land no station can reach by road",
);

// ---- KPIs of the run (set at finish) ---------------------------------------------------

pub const IGNITIONS: OutputDef = def(Kpi, "fire.ignitions", "fires", "fires started");
pub const DEATHS_TOTAL: OutputDef = def(
    Kpi,
    "fire.deaths",
    "people",
    "fire deaths: occupants still inside at flashover (an upper bound)",
);
pub const DEATHS_PER_100K: OutputDef = def(
    Kpi,
    "fire.deaths_per_100k",
    "per 100,000 residents",
    "fire deaths per 100,000 residents (十万人口火灾死亡率, for this event)",
);
pub const AFFECTED_AREA_TOTAL: OutputDef = def(
    Kpi,
    "fire.affected_area_m2",
    "m²",
    "building footprint reached by fire",
);
pub const BUILDINGS_BURNT_TOTAL: OutputDef = def(
    Kpi,
    "fire.buildings_burnt",
    "buildings",
    "buildings with burnt-out parts",
);
pub const DIRECT_LOSS: OutputDef = def(
    Kpi,
    "fire.direct_loss_yuan",
    "yuan",
    "replacement value of burnt building footprint",
);
pub const RESPONSE_TIME_MEAN: OutputDef = def(
    Kpi,
    "fire.response_time_mean_s",
    "s",
    "dispatch order to first engine on scene, mean over fires",
);
pub const RESPONSE_TIME_MAX: OutputDef = def(
    Kpi,
    "fire.response_time_max_s",
    "s",
    "dispatch order to first engine on scene, worst fire",
);

// ---- event kinds (source `fire`) -------------------------------------------------------

pub const COVERAGE_DISCONNECTED: OutputDef = def(
    Event,
    "coverage.disconnected",
    "",
    "at t = 0: parts of the road network no fire station can reach (placed where the largest begins)",
);
pub const FIRE_IGNITED: OutputDef = def(
    Event,
    "fire.ignited",
    "",
    "a fire starts in a building (cause: given, random or a failed substation)",
);
pub const FIRE_REPORTED: OutputDef = def(
    Event,
    "fire.reported",
    "",
    "a fire is reported (`service.detection_s` after ignition)",
);
pub const FIRE_UNREACHABLE: OutputDef = def(
    Event,
    "fire.unreachable",
    "",
    "a reported fire has no road within hose reach: no engine can fight it",
);
pub const FIRE_NO_ROUTE: OutputDef = def(
    Event,
    "fire.no_route",
    "",
    "no available engine has a road route to a fire",
);
pub const ENGINE_DISPATCHED: OutputDef = def(
    Event,
    "engine.dispatched",
    "",
    "an engine is ordered to a fire (with its expected travel)",
);
pub const ENGINE_REROUTED: OutputDef = def(
    Event,
    "engine.rerouted",
    "",
    "an engine drives around a road closed on its route (with the delay)",
);
pub const ENGINE_STRANDED: OutputDef = def(
    Event,
    "engine.stranded",
    "",
    "an engine has no open route and waits for roads to reopen",
);
pub const ENGINE_ARRIVED: OutputDef = def(
    Event,
    "engine.arrived",
    "",
    "an engine is on scene (response time from the dispatch order)",
);
pub const FIRE_CONTAINED: OutputDef = def(
    Event,
    "fire.contained",
    "",
    "every burning cell of a fire is held at its needed flow",
);
pub const FIRE_OUT: OutputDef = def(
    Event,
    "fire.out",
    "",
    "the last cell of a fire stops burning",
);
pub const BUILDING_BURNT: OutputDef = def(
    Event,
    "building.burnt",
    "",
    "a building's fire is over and some of it burnt out (share and loss)",
);
pub const FIRE_CASUALTIES: OutputDef = def(
    Event,
    "fire.casualties",
    "",
    "occupants still inside a burning building at flashover",
);

// ---- maps -----------------------------------------------------------------------------

pub const TRAVEL_TIME_MAP: OutputDef = def(
    Map,
    "fire_travel_time",
    "min",
    "Fire engine travel time from the nearest station",
);
pub const ARRIVAL_MAP: OutputDef = def(
    Map,
    "fire_arrival",
    "min",
    "Time the fire reached each building cell",
);

/// Every output of the fire hazard.
pub const OUTPUTS: &[OutputDef] = &[
    BURNING_AREA,
    AFFECTED_AREA,
    BUILDINGS_BURNING,
    BUILDINGS_BURNT,
    ENGINES_COMMITTED,
    DEATHS,
    ACTIVE_INCIDENTS,
    COVERAGE_5MIN_SHARE,
    NFPA1710_TRAVEL_SHARE,
    TRAVEL_TIME_P90,
    MAX_STATION_DISTRICT,
    COVERAGE_UNREACHABLE,
    IGNITIONS,
    DEATHS_TOTAL,
    DEATHS_PER_100K,
    AFFECTED_AREA_TOTAL,
    BUILDINGS_BURNT_TOTAL,
    DIRECT_LOSS,
    RESPONSE_TIME_MEAN,
    RESPONSE_TIME_MAX,
    COVERAGE_DISCONNECTED,
    FIRE_IGNITED,
    FIRE_REPORTED,
    FIRE_UNREACHABLE,
    FIRE_NO_ROUTE,
    ENGINE_DISPATCHED,
    ENGINE_REROUTED,
    ENGINE_STRANDED,
    ENGINE_ARRIVED,
    FIRE_CONTAINED,
    FIRE_OUT,
    BUILDING_BURNT,
    FIRE_CASUALTIES,
    TRAVEL_TIME_MAP,
    ARRIVAL_MAP,
];

/// The gauges' ids, declared in the table's order.
#[derive(Debug, Clone, Copy)]
pub struct Gauges {
    burning_m2: MetricId,
    burnt_m2: MetricId,
    buildings_burning: MetricId,
    buildings_burnt: MetricId,
    engines_busy: MetricId,
    deaths: MetricId,
    incidents: MetricId,
}

impl Gauges {
    pub fn declare(m: &mut Metrics) -> Self {
        Self {
            burning_m2: m.declare_output(&BURNING_AREA),
            burnt_m2: m.declare_output(&AFFECTED_AREA),
            buildings_burning: m.declare_output(&BUILDINGS_BURNING),
            buildings_burnt: m.declare_output(&BUILDINGS_BURNT),
            engines_busy: m.declare_output(&ENGINES_COMMITTED),
            deaths: m.declare_output(&DEATHS),
            incidents: m.declare_output(&ACTIVE_INCIDENTS),
        }
    }

    /// This tick's values; `engines_committed`: engines away from their station.
    pub fn set(&self, fire: &FireSim, engines_committed: usize, m: &mut Metrics) {
        let a = fire.grid.cell_area();
        m.set(self.burning_m2, fire.burning_cells as f64 * a);
        m.set(
            self.burnt_m2,
            (fire.affected_cells - fire.burning_cells) as f64 * a,
        );
        m.set(self.buildings_burning, fire.buildings_burning as f64);
        m.set(self.buildings_burnt, fire.buildings_burnt as f64);
        m.set(self.engines_busy, engines_committed as f64);
        m.set(self.deaths, fire.deaths);
        m.set(
            self.incidents,
            fire.incidents
                .iter()
                .filter(|i| i.started && i.out.is_none())
                .count() as f64,
        );
    }
}

/// The station coverage KPIs.
pub fn set_coverage_kpis(cov: &Coverage, m: &mut Metrics) {
    m.set_kpi_output(&COVERAGE_5MIN_SHARE, cov.share_cn);
    m.set_kpi_output(&NFPA1710_TRAVEL_SHARE, cov.share_nfpa);
    m.set_kpi_output(&TRAVEL_TIME_P90, cov.p90_s);
    m.set_kpi_output(&MAX_STATION_DISTRICT, cov.max_district_km2);
    m.set_kpi_output(&COVERAGE_UNREACHABLE, cov.unreachable_share);
}

/// Travel time from the nearest station, min.
pub fn travel_time_map(cov: &Coverage, grid: GridSpec) -> Raster {
    map(
        &TRAVEL_TIME_MAP,
        grid,
        cov.time.iter().map(|t| t / 60.0).collect(),
    )
}

/// Warn of road pieces no station reaches (log and event at t = 0).
pub fn report_cut_off_roads(log: &mut EventLog, grid: &GridSpec, cut: &CutOffRoads) {
    let (i, j) = grid.cell_of(cut.first_cell as usize);
    let place = Place::of_cell(grid, i, j);
    tracing::warn!(
        "fire: {} road pieces ({} cells) have no fire station; the largest starts at ({}, {})",
        cut.pieces,
        cut.road_cells,
        place.x,
        place.y
    );
    log.emit(0.0, "fire", COVERAGE_DISCONNECTED.name, Severity::Moderate)
        .at(place)
        .message(format!(
            "{} parts of the road network ({:.2} km of road cells) are cut off from every fire station",
            cut.pieces,
            cut.road_cells as f64 * grid.cell / 1000.0
        ))
        .with("pieces", cut.pieces)
        .with("road_cells", cut.road_cells);
}

/// The KPIs of the run; `residents`: the district's (0 if unknown: no rate per 100,000).
pub fn set_finish_kpis(fire: &FireSim, residents: f64, m: &mut Metrics) {
    m.set_kpi_output(&IGNITIONS, fire.incidents.len() as f64);
    m.set_kpi_output(&DEATHS_TOTAL, fire.deaths);
    if residents > 0.0 {
        m.set_kpi_output(&DEATHS_PER_100K, fire.deaths / residents * 1e5);
    }
    m.set_kpi_output(
        &AFFECTED_AREA_TOTAL,
        fire.affected_cells as f64 * fire.grid.cell_area(),
    );
    m.set_kpi_output(&BUILDINGS_BURNT_TOTAL, fire.buildings_burnt as f64);
    m.set_kpi_output(&DIRECT_LOSS, fire.loss_yuan);
    if !fire.response_times.is_empty() {
        let n = fire.response_times.len() as f64;
        let mean = fire.response_times.iter().sum::<f64>() / n;
        let max = fire.response_times.iter().copied().fold(0.0, f64::max);
        m.set_kpi_output(&RESPONSE_TIME_MEAN, mean);
        m.set_kpi_output(&RESPONSE_TIME_MAX, max);
    }
}

/// Time the fire reached each building cell, min (NaN where it did not).
pub fn arrival_map(fire: &FireSim) -> Raster {
    let data: Vec<f32> = fire
        .spread
        .arrival
        .iter()
        .enumerate()
        .map(|(c, &t)| {
            if fire.spread.is_fuel(c) && t.is_finite() {
                (t / 60.0) as f32
            } else {
                f32::NAN
            }
        })
        .collect();
    map(&ARRIVAL_MAP, fire.grid, data)
}

/// A time map of the table.
fn map(def: &OutputDef, grid: GridSpec, data: Vec<f32>) -> Raster {
    Raster {
        name: def.name.into(),
        title: def.description.into(),
        unit: def.unit.into(),
        grid,
        data,
        kind: RasterKind::Continuous {
            palette: Palette::Time,
        },
    }
}
