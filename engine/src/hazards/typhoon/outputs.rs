//! Everything the typhoon reports, in one table: its gauges (in declaration order, the
//! columns of `timeseries.csv`), KPIs, event kinds and maps; and the functions that
//! declare the gauges and write the KPIs and maps at the end of a run.

use rayon::prelude::*;

use super::state::TyphoonState;
use crate::grid::{GridSpec, Palette, Raster, RasterKind};
use crate::metrics::{MetricId, Metrics, OutputDef, OutputKind};

/// `source` of the typhoon's events.
pub const SOURCE: &str = "typhoon";

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

const fn map(name: &'static str, unit: &'static str, description: &'static str) -> OutputDef {
    OutputDef {
        kind: OutputKind::Map,
        name,
        unit,
        description,
    }
}

// Gauges.
pub const WIND_CENTER: OutputDef = gauge(
    "typhoon.wind_center_m_s",
    "m/s",
    "10-min mean wind at the city centre",
);
pub const GUST_CENTER: OutputDef = gauge(
    "typhoon.gust_center_m_s",
    "m/s",
    "3-s gust at the city centre",
);
pub const WIND_MAX: OutputDef = gauge(
    "typhoon.wind_max_m_s",
    "m/s",
    "highest 10-min mean wind over the grid",
);
pub const GUST_MAX: OutputDef = gauge(
    "typhoon.gust_max_m_s",
    "m/s",
    "highest 3-s gust over the grid",
);
pub const RAIN_CENTER: OutputDef = gauge(
    "typhoon.rain_center_mm_h",
    "mm/h",
    "rain rate at the city centre",
);
pub const RAIN_MAX: OutputDef = gauge(
    "typhoon.rain_max_mm_h",
    "mm/h",
    "highest rain rate over the grid",
);
pub const SEA_LEVEL: OutputDef = gauge(
    "typhoon.sea_level_m",
    "m",
    "still-water level at the coast (tide + surge) above datum",
);
pub const SURGE: OutputDef = gauge(
    "typhoon.surge_m",
    "m",
    "storm surge at the coast (inverse barometer + wind set-up)",
);
pub const STORM_DISTANCE: OutputDef = gauge(
    "typhoon.storm_distance_km",
    "km",
    "distance from the storm centre to the city centre (outside the track: its nearest end)",
);
pub const CENTRAL_PRESSURE: OutputDef = gauge(
    "typhoon.central_pressure_hpa",
    "hPa",
    "central pressure of the storm",
);
pub const PRESSURE_CENTER: OutputDef = gauge(
    "typhoon.pressure_center_hpa",
    "hPa",
    "surface pressure at the city centre (Holland profile)",
);
pub const UNSAFE_OPEN_AREA: OutputDef = gauge(
    "typhoon.unsafe_open_area_m2",
    "m²",
    "open ground, roads and parks where gusts exceed the limit for everyone",
);
pub const PEOPLE_EXPOSED: OutputDef = gauge(
    "typhoon.people_exposed_unsafe_gust",
    "people",
    "people in buildings whose cell has gusts above the limit for everyone \
     (must stay indoors)",
);
pub const ASSETS_FAILED: OutputDef = gauge(
    "typhoon.assets_failed",
    "assets",
    "assets failed by wind (fragility)",
);

// KPIs.
pub const PEAK_GUST: OutputDef = kpi(
    "typhoon.peak_gust_m_s",
    "m/s",
    "highest 3-s gust over the grid during the run",
);
pub const PEAK_WIND: OutputDef = kpi(
    "typhoon.peak_wind_m_s",
    "m/s",
    "highest 10-min mean wind over the grid during the run",
);
pub const RAIN_TOTAL_CENTER: OutputDef = kpi(
    "typhoon.rain_total_center_mm",
    "mm",
    "storm rainfall at the city centre",
);
pub const RAIN_TOTAL_MAX: OutputDef = kpi(
    "typhoon.rain_total_max_mm",
    "mm",
    "highest storm rainfall over the grid",
);
pub const MIN_DISTANCE: OutputDef = kpi(
    "typhoon.min_distance_km",
    "km",
    "closest approach of the storm centre to the city centre",
);
pub const PEAK_SEA_LEVEL: OutputDef = kpi(
    "typhoon.peak_sea_level_m",
    "m",
    "highest still-water level at the coast",
);
pub const ASSETS_FAILED_TOTAL: OutputDef =
    kpi("typhoon.assets_failed", "assets", "assets failed by wind");

// Event kinds.
pub const INPUT_WARNING: OutputDef = event(
    "input.warning",
    "an input problem that does not stop the run (t = 0): a gap filled by a cited \
     relation, a track outside the run, a storm that never comes near",
);
pub const SIGNAL_ISSUED: OutputDef = event(
    "signal.issued",
    "a CMA typhoon signal (blue to red) reached by the wind over land",
);
pub const PEDESTRIAN_UNSAFE: OutputDef = event(
    "wind.pedestrian_unsafe",
    "gusts over open ground first reach the limit for frail people and cyclists, or for \
     everyone",
);
pub const RAIN_WARNING: OutputDef = event(
    "rain.warning",
    "a CMA rainstorm level (blue to red) reached by the rain at the city centre",
);
pub const WITHIN_200KM: OutputDef = event(
    "storm.within_200km",
    "the storm centre first comes within 200 km of the city centre",
);
pub const WITHIN_100KM: OutputDef = event(
    "storm.within_100km",
    "the storm centre first comes within 100 km of the city centre",
);
pub const LANDFALL: OutputDef = event(
    "storm.landfall",
    "landfall: the known landfall time, or the centre moving from sea to land on the grid",
);
pub const SEA_LEVEL_WARNING: OutputDef = event(
    "sea_level.warning",
    "the sea level at the coast reaches a warning level of the scenario",
);
pub const ASSET_FAILED: OutputDef = event(
    "asset.failed",
    "an asset's peak gust exceeds its drawn capacity (wind fragility)",
);
pub const PEAK_GUST_EVENT: OutputDef = event(
    "wind.peak_gust",
    "the highest gust of the run, at its time and cell (at the end)",
);
pub const NEAREST_APPROACH: OutputDef = event(
    "storm.nearest_approach",
    "the storm's closest approach to the city centre, at its time (at the end)",
);

// Maps (the description is the map's title).
pub const MAX_GUST_MAP: OutputDef = map("typhoon_max_gust", "m/s", "Maximum 3-s gust");
pub const TOTAL_RAIN_MAP: OutputDef = map("typhoon_total_rain", "mm", "Storm rainfall");

/// The typhoon's outputs; gauges in declaration order.
pub const OUTPUTS: &[OutputDef] = &[
    WIND_CENTER,
    GUST_CENTER,
    WIND_MAX,
    GUST_MAX,
    RAIN_CENTER,
    RAIN_MAX,
    SEA_LEVEL,
    SURGE,
    STORM_DISTANCE,
    CENTRAL_PRESSURE,
    PRESSURE_CENTER,
    UNSAFE_OPEN_AREA,
    PEOPLE_EXPOSED,
    ASSETS_FAILED,
    PEAK_GUST,
    PEAK_WIND,
    RAIN_TOTAL_CENTER,
    RAIN_TOTAL_MAX,
    MIN_DISTANCE,
    PEAK_SEA_LEVEL,
    ASSETS_FAILED_TOTAL,
    INPUT_WARNING,
    SIGNAL_ISSUED,
    PEDESTRIAN_UNSAFE,
    RAIN_WARNING,
    WITHIN_200KM,
    WITHIN_100KM,
    LANDFALL,
    SEA_LEVEL_WARNING,
    ASSET_FAILED,
    PEAK_GUST_EVENT,
    NEAREST_APPROACH,
    MAX_GUST_MAP,
    TOTAL_RAIN_MAP,
];

/// Handles of the typhoon's gauges.
#[derive(Debug, Clone, Copy)]
pub struct Gauges {
    pub wind_center: MetricId,
    pub gust_center: MetricId,
    pub wind_max: MetricId,
    pub gust_max: MetricId,
    pub rain_center: MetricId,
    pub rain_max: MetricId,
    pub sea_level: MetricId,
    pub surge: MetricId,
    pub distance: MetricId,
    pub pc: MetricId,
    pub p_center: MetricId,
    pub unsafe_area: MetricId,
    pub people_exposed: MetricId,
    pub assets_failed: MetricId,
}

impl Gauges {
    /// Declare the gauges in the table's order.
    pub fn declare(m: &mut Metrics) -> Self {
        Self {
            wind_center: m.declare_output(&WIND_CENTER),
            gust_center: m.declare_output(&GUST_CENTER),
            wind_max: m.declare_output(&WIND_MAX),
            gust_max: m.declare_output(&GUST_MAX),
            rain_center: m.declare_output(&RAIN_CENTER),
            rain_max: m.declare_output(&RAIN_MAX),
            sea_level: m.declare_output(&SEA_LEVEL),
            surge: m.declare_output(&SURGE),
            distance: m.declare_output(&STORM_DISTANCE),
            pc: m.declare_output(&CENTRAL_PRESSURE),
            p_center: m.declare_output(&PRESSURE_CENTER),
            unsafe_area: m.declare_output(&UNSAFE_OPEN_AREA),
            people_exposed: m.declare_output(&PEOPLE_EXPOSED),
            assets_failed: m.declare_output(&ASSETS_FAILED),
        }
    }
}

/// The run's KPIs from its peaks and totals.
pub fn set_kpis(st: &TyphoonState, metrics: &mut Metrics) {
    let peaks = &st.peaks;
    let wmax = peaks.max_wind.par_iter().copied().reduce(|| 0.0, f32::max);
    let rain_center = peaks.total_rain_mm[st.inputs.center];
    let rain_max = peaks
        .total_rain_mm
        .par_iter()
        .copied()
        .reduce(|| 0.0, f64::max);
    metrics.set_kpi_output(&PEAK_GUST, f64::from(peaks.peak_gust.0));
    metrics.set_kpi_output(&PEAK_WIND, f64::from(wmax));
    metrics.set_kpi_output(&RAIN_TOTAL_CENTER, rain_center);
    metrics.set_kpi_output(&RAIN_TOTAL_MAX, rain_max);
    metrics.set_kpi_output(&MIN_DISTANCE, peaks.min_distance.0);
    metrics.set_kpi_output(&PEAK_SEA_LEVEL, peaks.peak_sea.0);
    metrics.set_kpi_output(&ASSETS_FAILED_TOTAL, peaks.failed as f64);
}

/// The maps of the run's peak gust and storm rainfall.
pub fn maps(st: &TyphoonState, grid: GridSpec) -> [Raster; 2] {
    [
        Raster {
            name: MAX_GUST_MAP.name.into(),
            title: MAX_GUST_MAP.description.into(),
            unit: MAX_GUST_MAP.unit.into(),
            grid,
            data: st.peaks.max_gust.clone(),
            kind: RasterKind::Continuous {
                palette: Palette::Heat,
            },
        },
        Raster {
            name: TOTAL_RAIN_MAP.name.into(),
            title: TOTAL_RAIN_MAP.description.into(),
            unit: TOTAL_RAIN_MAP.unit.into(),
            grid,
            data: st.peaks.total_rain_mm.iter().map(|&v| v as f32).collect(),
            kind: RasterKind::Continuous {
                palette: Palette::Water,
            },
        },
    ]
}
