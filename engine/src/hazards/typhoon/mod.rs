//! Typhoon forcing: a storm track (best-track CSV or synthetic), its parametric wind and
//! rain fields over the city grid, the sea level at the coast (tide + surge), warnings,
//! and wind impacts on people outdoors and on assets. Writes the shared `SurfaceWind`,
//! `RainRate` and `SeaLevel` fields that the flood and fire plugins read.
//!
//! Models, parameters and sources: `docs/models/typhoon.md`.

pub mod rain;
pub mod surge;
pub mod track;
pub mod validation;
pub mod wind;

use std::path::{Path, PathBuf};

use bevy_ecs::prelude::*;
use rand_distr::{Distribution, StandardNormal};
use rayon::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::city::assets::{Asset, Operational};
use crate::city::{AssetKind, City, LandUse, NO_BUILDING};
use crate::coupling::{RainRate, SeaLevel, SurfaceWind, Warnings};
use crate::events::{EventLog, Place, Severity};
use crate::grid::{Palette, Raster, RasterKind};
use crate::metrics::{MetricId, Metrics};
use crate::rng::RngStreams;
use crate::sim::{
    BuildContext, BuildError, MapOutputs, Phase, Plugin, RunHealth, SimClock, Simulation,
};
use crate::spec::{KeyPath, Problem, in_range, positive};

use rain::{CMA_RAINSTORM, RainModel, RainWarnings};
use surge::{Tide, TideTerm};
use track::{KNOT_M_S, LocalProjection, Synthetic, Track};
use wind::{Profile, WindModel, WindParams};

/// Severity of a CMA warning level, blue to red (typhoon signals and rainstorm warnings).
const LEVEL_SEVERITY: [Severity; 4] = [
    Severity::Minor,
    Severity::Moderate,
    Severity::Major,
    Severity::Critical,
];

/// Futian district, Shenzhen: the default south-west corner of the grid (degrees).
pub const FUTIAN_LAT: f64 = 22.52;
pub const FUTIAN_LON: f64 = 114.03;

/// `kind = "typhoon"`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TyphoonSpec {
    /// Latitude of the grid's south-west corner, degrees north (default Futian).
    #[serde(default = "default_lat")]
    pub origin_lat: f64,
    /// Longitude of the grid's south-west corner, degrees east.
    #[serde(default = "default_lon")]
    pub origin_lon: f64,
    pub track: TrackSpec,
    /// Interval between wind and rain field evaluations, s (rounded to whole ticks).
    #[serde(default = "default_step")]
    pub forcing_step_s: f64,
    /// Environmental (outer) pressure, hPa.
    #[serde(default = "default_penv")]
    pub env_pressure_hpa: f64,
    /// Warn when the storm never comes closer than this to the city, km.
    #[serde(default = "default_far")]
    pub far_warning_km: f64,
    #[serde(default)]
    pub wind: WindOptions,
    #[serde(default)]
    pub rain: RainOptions,
    #[serde(default)]
    pub surge: SurgeOptions,
    #[serde(default)]
    pub pedestrians: PedestrianOptions,
    #[serde(default)]
    pub fragility: FragilityOptions,
}

fn default_lat() -> f64 {
    FUTIAN_LAT
}
fn default_lon() -> f64 {
    FUTIAN_LON
}
fn default_step() -> f64 {
    600.0
}
/// CLIMADA's `DEF_ENV_PRESSURE`, hPa.
pub const DEF_ENV_PRESSURE_HPA: f64 = 1010.0;

fn default_penv() -> f64 {
    DEF_ENV_PRESSURE_HPA
}
fn default_far() -> f64 {
    500.0
}

/// Where the storm comes from.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "source", rename_all = "snake_case", deny_unknown_fields)]
pub enum TrackSpec {
    /// A best-track CSV file (see `track::read_best_track` for the columns). Times are
    /// UTC; the scenario's `time.start` is t = 0 (else the track's first point).
    Csv {
        file: PathBuf,
        /// Averaging period of the file's wind column.
        #[serde(default)]
        wind_averaging: Averaging,
        /// Longest accepted gap between points, h.
        #[serde(default = "default_gap")]
        max_gap_h: f64,
        /// Official landfall time (UTC), for the `storm.landfall` event when the landfall
        /// is off the grid; without it, landfall is detected on the grid only.
        #[serde(default)]
        landfall_utc: Option<String>,
    },
    /// A straight track at constant speed and heading.
    Synthetic {
        /// Landfall (or reference) point, degrees; default: the grid's centre.
        #[serde(default)]
        landfall_lat: Option<f64>,
        #[serde(default)]
        landfall_lon: Option<f64>,
        /// When the centre is at that point, s since the scenario start.
        landfall_time_s: f64,
        /// Direction of motion, degrees clockwise from north.
        heading_deg: f64,
        forward_speed_m_s: f64,
        /// 1-min maximum sustained surface wind, m/s.
        vmax_m_s: f64,
        /// Central pressure, hPa (default: Atkinson & Holliday 1977 from the wind).
        #[serde(default)]
        central_pressure_hpa: Option<f64>,
        /// Radius of maximum wind, km (default: Willoughby et al. 2006).
        #[serde(default)]
        rmw_km: Option<f64>,
        /// Kaplan & DeMaria (1995) decay after landfall.
        #[serde(default = "yes")]
        inland_decay: bool,
    },
}

fn default_gap() -> f64 {
    12.0
}
fn yes() -> bool {
    true
}

/// Averaging period of a track's winds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub enum Averaging {
    /// 1-min sustained (JTWC, IBTrACS `usa_wind`).
    #[default]
    #[serde(rename = "1min")]
    OneMinute,
    /// 10-min mean (HKO, JMA, WMO).
    #[serde(rename = "10min")]
    TenMinute,
}

/// Wind field options.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct WindOptions {
    pub model: WindModel,
    /// Turn the wind inward by the Sobey et al. (1977) inflow angle.
    pub inflow: bool,
    /// Roughness length of the sea, m (Davenport–Wieringa class 1).
    pub sea_roughness_m: f64,
    /// Roughness length of the land, m (class 4 "roughly open", matching the in-land
    /// exposure of the gust factor).
    pub land_roughness_m: f64,
    /// 3-s gust over 10-min mean at sea (Harper, Kepert & Ginger 2010, "at-sea").
    pub gust_factor_sea: f64,
    /// 3-s gust over 10-min mean over land (Harper et al. 2010, "in-land").
    pub gust_factor_land: f64,
    /// 1-min sustained to 10-min mean at sea (Harper et al. 2010, "at-sea").
    pub one_to_ten_min: f64,
    /// H10 outer wind speed, m/s, and its radius, km (CLIMADA defaults).
    pub h10_outer_wind_m_s: f64,
    pub h10_outer_radius_km: f64,
}

impl Default for WindOptions {
    fn default() -> Self {
        Self {
            model: WindModel::default(),
            inflow: true,
            sea_roughness_m: 0.0002,
            land_roughness_m: 0.1,
            gust_factor_sea: 1.23,
            gust_factor_land: 1.66,
            one_to_ten_min: 0.93,
            h10_outer_wind_m_s: 17.0,
            h10_outer_radius_km: 300.0,
        }
    }
}

/// Rain options.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct RainOptions {
    pub model: RainModel,
    /// Multiplier on the rain rate (1 = the published profile).
    pub scale: f64,
}

impl Default for RainOptions {
    fn default() -> Self {
        Self {
            model: RainModel::default(),
            scale: 1.0,
        }
    }
}

/// A named sea-level warning threshold (site-specific: 警戒潮位, GB/T 17839-2011).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SeaWarning {
    pub name: String,
    /// Still-water level, m above the city's datum.
    pub level_m: f64,
}

/// Tide and surge options.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct SurgeOptions {
    /// Coastal reference point (map m); default: the middle of the grid's south edge.
    pub coast_x_m: Option<f64>,
    pub coast_y_m: Option<f64>,
    /// Direction from sea to land at the coast, degrees clockwise from north (0: the
    /// sea is to the south).
    pub onshore_to_deg: f64,
    /// Shelf length, km, and mean depth, m, for the wind set-up; without both, only the
    /// inverse barometer is modelled.
    pub shelf_length_km: Option<f64>,
    pub shelf_depth_m: Option<f64>,
    /// Mean sea level above the city's datum, m.
    pub mean_level_m: f64,
    /// Harmonic constituents (amplitude m, phase ° relative to t = 0).
    pub tide: Vec<TideTerm>,
    /// A tide series instead (`t_s,level_m`, levels above datum).
    pub tide_csv: Option<PathBuf>,
    pub warning_levels: Vec<SeaWarning>,
}

/// Gust limits for people outdoors (City of London Wind Microclimate Guidelines 2019,
/// after Lawson: 15 m/s unsafe for frail people and cyclists, 20 m/s for everyone).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct PedestrianOptions {
    pub vulnerable_gust_m_s: f64,
    pub all_gust_m_s: f64,
}

impl Default for PedestrianOptions {
    fn default() -> Self {
        Self {
            vulnerable_gust_m_s: 15.0,
            all_gust_m_s: 20.0,
        }
    }
}

/// Lognormal wind fragility of assets: P(fail | g) = Φ(ln(g / median) / β), g the
/// peak 3-s gust at the asset. Each curve must name its source.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct FragilityOptions {
    pub enabled: bool,
    pub curves: Vec<FragilityCurve>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FragilityCurve {
    pub kind: AssetKind,
    /// Median capacity, 3-s gust m/s.
    pub median_gust_m_s: f64,
    /// Lognormal dispersion.
    pub beta: f64,
    /// The document the curve comes from.
    pub source: String,
}

/// Wind, rain-rate, gust max, rain total per cell and the per-cell population.
pub const BYTES_PER_CELL: usize = 12 + 4 + 4 + 8 + 4 + 8 + 1;

impl TyphoonSpec {
    pub fn check(&self, at: &KeyPath) -> Result<(), Problem> {
        in_range(
            at.key("origin_lat"),
            self.origin_lat,
            -80.0,
            80.0,
            "the grid's latitude",
        )?;
        in_range(
            at.key("origin_lon"),
            self.origin_lon,
            -180.0,
            360.0,
            "the grid's longitude",
        )?;
        positive(
            at.key("forcing_step_s"),
            self.forcing_step_s,
            "the forcing step",
        )?;
        in_range(
            at.key("env_pressure_hpa"),
            self.env_pressure_hpa,
            980.0,
            1030.0,
            "the environmental pressure",
        )?;
        positive(
            at.key("far_warning_km"),
            self.far_warning_km,
            "the far-storm warning distance",
        )?;
        let t = at.key("track");
        match &self.track {
            TrackSpec::Csv {
                max_gap_h,
                landfall_utc,
                ..
            } => {
                positive(t.key("max_gap_h"), *max_gap_h, "the longest gap")?;
                if let Some(txt) = landfall_utc {
                    crate::time::parse_utc(txt).map_err(|m| (t.key("landfall_utc"), m))?;
                }
            }
            TrackSpec::Synthetic {
                landfall_lat,
                landfall_lon,
                landfall_time_s,
                heading_deg,
                forward_speed_m_s,
                vmax_m_s,
                central_pressure_hpa,
                rmw_km,
                ..
            } => {
                if let Some(l) = landfall_lat {
                    in_range(t.key("landfall_lat"), *l, -80.0, 80.0, "the latitude")?;
                }
                if let Some(l) = landfall_lon {
                    in_range(t.key("landfall_lon"), *l, -180.0, 360.0, "the longitude")?;
                }
                in_range(
                    t.key("landfall_time_s"),
                    *landfall_time_s,
                    -1e9,
                    1e9,
                    "the landfall time",
                )?;
                in_range(
                    t.key("heading_deg"),
                    *heading_deg,
                    -360.0,
                    360.0,
                    "the heading",
                )?;
                in_range(
                    t.key("forward_speed_m_s"),
                    *forward_speed_m_s,
                    0.0,
                    40.0,
                    "the forward speed",
                )?;
                in_range(t.key("vmax_m_s"), *vmax_m_s, 5.0, 100.0, "the maximum wind")?;
                if let Some(p) = central_pressure_hpa {
                    in_range(
                        t.key("central_pressure_hpa"),
                        *p,
                        850.0,
                        self.env_pressure_hpa - 1.0,
                        "the central pressure (below the environmental pressure)",
                    )?;
                }
                if let Some(r) = rmw_km {
                    in_range(
                        t.key("rmw_km"),
                        *r,
                        2.0,
                        300.0,
                        "the radius of maximum wind",
                    )?;
                }
            }
        }
        let w = at.key("wind");
        let o = &self.wind;
        in_range(
            w.key("sea_roughness_m"),
            o.sea_roughness_m,
            1e-6,
            0.01,
            "the sea roughness",
        )?;
        in_range(
            w.key("land_roughness_m"),
            o.land_roughness_m,
            o.sea_roughness_m,
            3.0,
            "the land roughness",
        )?;
        in_range(
            w.key("gust_factor_sea"),
            o.gust_factor_sea,
            1.0,
            3.0,
            "the gust factor",
        )?;
        in_range(
            w.key("gust_factor_land"),
            o.gust_factor_land,
            1.0,
            3.0,
            "the gust factor",
        )?;
        in_range(
            w.key("one_to_ten_min"),
            o.one_to_ten_min,
            0.7,
            1.0,
            "the 1-min to 10-min factor",
        )?;
        positive(
            w.key("h10_outer_wind_m_s"),
            o.h10_outer_wind_m_s,
            "the outer wind",
        )?;
        positive(
            w.key("h10_outer_radius_km"),
            o.h10_outer_radius_km,
            "the outer radius",
        )?;
        in_range(
            at.key("rain").key("scale"),
            self.rain.scale,
            0.0,
            10.0,
            "the rain scale",
        )?;
        let s = at.key("surge");
        if let Some(l) = self.surge.shelf_length_km {
            in_range(s.key("shelf_length_km"), l, 0.1, 1000.0, "the shelf length")?;
        }
        if let Some(d) = self.surge.shelf_depth_m {
            in_range(s.key("shelf_depth_m"), d, 0.5, 500.0, "the shelf depth")?;
        }
        if self.surge.shelf_length_km.is_some() != self.surge.shelf_depth_m.is_some() {
            return Err((
                s.key("shelf_depth_m"),
                "give both shelf_length_km and shelf_depth_m for the wind set-up, or neither"
                    .into(),
            ));
        }
        for (name, v) in [
            ("coast_x_m", self.surge.coast_x_m),
            ("coast_y_m", self.surge.coast_y_m),
        ] {
            if let Some(v) = v {
                in_range(
                    s.key(name),
                    v,
                    f64::NEG_INFINITY,
                    f64::INFINITY,
                    "the coast point",
                )?;
            }
        }
        in_range(
            s.key("onshore_to_deg"),
            self.surge.onshore_to_deg,
            -360.0,
            360.0,
            "the onshore direction",
        )?;
        in_range(
            s.key("mean_level_m"),
            self.surge.mean_level_m,
            -10.0,
            10.0,
            "the mean sea level",
        )?;
        if !self.surge.tide.is_empty() && self.surge.tide_csv.is_some() {
            return Err((
                s.key("tide_csv"),
                "give harmonic constituents or a tide series, not both".into(),
            ));
        }
        for (k, c) in self.surge.tide.iter().enumerate() {
            in_range(
                s.key("tide").index(k).key("amplitude_m"),
                c.amplitude_m,
                0.0,
                10.0,
                "the amplitude",
            )?;
            in_range(
                s.key("tide").index(k).key("phase_deg"),
                c.phase_deg,
                -360.0,
                720.0,
                "the phase",
            )?;
        }
        for (k, wl) in self.surge.warning_levels.iter().enumerate() {
            in_range(
                s.key("warning_levels").index(k).key("level_m"),
                wl.level_m,
                -10.0,
                20.0,
                "the warning level",
            )?;
        }
        let p = at.key("pedestrians");
        positive(
            p.key("vulnerable_gust_m_s"),
            self.pedestrians.vulnerable_gust_m_s,
            "the gust limit",
        )?;
        in_range(
            p.key("all_gust_m_s"),
            self.pedestrians.all_gust_m_s,
            self.pedestrians.vulnerable_gust_m_s,
            100.0,
            "the gust limit for everyone (at least the vulnerable limit)",
        )?;
        let f = at.key("fragility");
        if self.fragility.enabled && self.fragility.curves.is_empty() {
            return Err((
                f.key("curves"),
                "fragility is enabled but no curve is given".into(),
            ));
        }
        for (k, c) in self.fragility.curves.iter().enumerate() {
            let ck = f.key("curves").index(k);
            positive(ck.key("median_gust_m_s"), c.median_gust_m_s, "the median")?;
            in_range(ck.key("beta"), c.beta, 0.01, 2.0, "the dispersion β")?;
            if c.source.trim().is_empty() {
                return Err((ck.key("source"), "name the source of the curve".into()));
            }
            if self.fragility.curves[..k].iter().any(|d| d.kind == c.kind) {
                return Err((ck.key("kind"), "a second curve for the same kind".into()));
            }
        }
        Ok(())
    }

    fn wind_params(&self) -> WindParams {
        WindParams::from_options(&self.wind, self.env_pressure_hpa)
    }
}

/// Builds the typhoon plugin for one `[[hazards]]` entry.
pub struct TyphoonPlugin<'a>(pub &'a TyphoonSpec);

/// Gauges of the plugin.
#[derive(Debug, Clone, Copy)]
struct Ids {
    wind_center: MetricId,
    gust_center: MetricId,
    wind_max: MetricId,
    gust_max: MetricId,
    rain_center: MetricId,
    rain_max: MetricId,
    sea_level: MetricId,
    surge: MetricId,
    distance: MetricId,
    pc: MetricId,
    p_center: MetricId,
    unsafe_area: MetricId,
    people_exposed: MetricId,
    assets_failed: MetricId,
}

/// Everything the plugin keeps between ticks.
#[derive(Resource)]
pub struct TyphoonState {
    track: Track,
    proj: LocalProjection,
    params: WindParams,
    rain_model: RainModel,
    rain_scale: f64,
    forcing_step: f64,
    next_forcing: f64,
    /// Map coordinates of column centres and row centres.
    xs: Vec<f64>,
    ys: Vec<f64>,
    water: Vec<bool>,
    /// Open ground where people may be outdoors (open, road, green).
    open: Vec<bool>,
    /// People per cell (day or night occupancy).
    people: Vec<f32>,
    center: usize,
    center_xy: (f64, f64),
    center_geo: (f64, f64),
    coast_xy: (f64, f64),
    onshore: (f64, f64),
    shelf: Option<(f64, f64)>,
    tide: Tide,
    sea_warnings: Vec<SeaWarning>,
    sea_level_reached: Vec<bool>,
    ped: PedestrianOptions,
    ped_reached: [bool; 2],
    /// Per asset id: drawn gust capacity, m/s.
    capacities: Vec<(String, f64)>,
    failed: usize,
    ids: Ids,
    // Accumulators.
    max_gust: Vec<f32>,
    max_wind: Vec<f32>,
    total_rain_mm: Vec<f64>,
    rain_warn: RainWarnings,
    within: [bool; 2],
    min_distance: (f64, f64),
    peak_gust: (f32, f64, usize),
    peak_sea: (f64, f64),
    landfall_emitted: bool,
    prev_storm_cell_sea: Option<bool>,
    /// Known landfall time, s (synthetic track or `landfall_utc`).
    synthetic_landfall: Option<f64>,
}

impl Plugin for TyphoonPlugin<'_> {
    fn name(&self) -> &'static str {
        "typhoon"
    }

    fn check(&self, _ctx: &BuildContext) -> Result<(), BuildError> {
        // TODO(#15): the plugin's pure setup, once split out of `build`.
        Ok(())
    }

    fn build(&self, sim: &mut Simulation, ctx: &BuildContext) -> Result<(), BuildError> {
        let spec = self.0;
        let at = ctx.at;
        if sim.world.contains_resource::<SurfaceWind>() {
            return Err(BuildError::new(
                at.clone(),
                "another hazard already sets the surface wind: a scenario has one wind forcing",
            ));
        }
        if sim.world.contains_resource::<RainRate>() {
            return Err(BuildError::new(
                at.clone(),
                "another hazard already sets the rain: a scenario has one rain forcing",
            ));
        }
        let city = sim.world.resource::<City>().clone();
        let grid = city.grid;
        let proj = LocalProjection::new(spec.origin_lat, spec.origin_lon, grid.x0, grid.y0);
        let params = spec.wind_params();
        let duration = ctx.duration_s;
        let daytime = ctx.population.daytime;

        let mut warnings: Vec<String> = Vec::new();
        let center_xy = (
            grid.x0 + grid.width_m() / 2.0,
            grid.y0 + grid.height_m() / 2.0,
        );
        let center_geo = proj.to_geo(center_xy.0, center_xy.1);
        let start = ctx.start_utc;
        let mut synthetic_landfall = None;
        let track = match &spec.track {
            TrackSpec::Csv {
                file,
                wind_averaging,
                max_gap_h,
                landfall_utc,
            } => {
                let path = ctx.resolve(file);
                let scale = match wind_averaging {
                    Averaging::OneMinute => 1.0,
                    Averaging::TenMinute => 1.0 / spec.wind.one_to_ten_min,
                };
                let bt = track::read_best_track(&path, scale, *max_gap_h).map_err(|e| {
                    BuildError::new(
                        at.key("track").key("file"),
                        if e.line > 0 {
                            format!("{}:{}: {}", path.display(), e.line, e.message)
                        } else {
                            e.message
                        },
                    )
                })?;
                for w in &bt.warnings {
                    warnings.push(format!("{}: {w}", path.display()));
                }
                let t0 = start.unwrap_or(bt.points[0].time);
                if let Some(txt) = landfall_utc {
                    let tl = crate::time::parse_utc(txt)
                        .map_err(|m| BuildError::new(at.key("track").key("landfall_utc"), m))?;
                    synthetic_landfall = Some(tl - t0);
                }
                let pts = bt.relative_to(t0);
                if pts[pts.len() - 1].time < 0.0 || pts[0].time > duration {
                    warnings.push(format!(
                        "{}: the track does not overlap the run ({} s from the scenario start): \
                         no storm will be present",
                        path.display(),
                        duration
                    ));
                }
                Track::Points(pts)
            }
            TrackSpec::Synthetic {
                landfall_lat,
                landfall_lon,
                landfall_time_s,
                heading_deg,
                forward_speed_m_s,
                vmax_m_s,
                central_pressure_hpa,
                rmw_km,
                inland_decay,
            } => {
                let lat = landfall_lat.unwrap_or(center_geo.0);
                let lon = landfall_lon.unwrap_or(center_geo.1);
                let pc = match central_pressure_hpa {
                    Some(p) => *p,
                    None => {
                        let p = track::pressure_from_wind_ah77(vmax_m_s / KNOT_M_S);
                        warnings.push(format!(
                            "synthetic track: central pressure {p:.1} hPa from the wind by \
                             Atkinson & Holliday (1977)"
                        ));
                        p
                    }
                };
                if pc >= spec.env_pressure_hpa {
                    return Err(BuildError::new(
                        at.key("track").key("vmax_m_s"),
                        format!(
                            "the central pressure ({pc:.1} hPa) is not below the environmental \
                             pressure ({} hPa)",
                            spec.env_pressure_hpa
                        ),
                    ));
                }
                let rmw = match rmw_km {
                    Some(r) => r * 1000.0,
                    None => {
                        let r = track::rmw_willoughby_2006(*vmax_m_s, lat);
                        warnings.push(format!(
                            "synthetic track: radius of maximum wind {:.1} km by Willoughby, \
                             Darling & Rahn (2006)",
                            r / 1000.0
                        ));
                        r
                    }
                };
                synthetic_landfall = Some(*landfall_time_s);
                Track::Synthetic(Synthetic {
                    lat,
                    lon,
                    t_landfall: *landfall_time_s,
                    heading_deg: *heading_deg,
                    speed_m_s: *forward_speed_m_s,
                    vmax: *vmax_m_s,
                    pc: pc * 100.0,
                    rmw,
                    inland_decay: *inland_decay,
                    penv: spec.env_pressure_hpa * 100.0,
                })
            }
        };

        // Does the storm ever come near? (At most 10^5 samples: a tiny forcing step, which
        // the run rounds up to a tick, must not make this scan endless.)
        let scan_step = spec.forcing_step_s.max(duration / 1e5);
        let steps = (duration / scan_step).ceil().max(1.0) as usize;
        let closest = (0..=steps)
            .map(|k| {
                let st = track.state((k as f64 * scan_step).min(duration), &proj);
                if st.active {
                    track::haversine_m(st.lat, st.lon, center_geo.0, center_geo.1)
                } else {
                    f64::INFINITY
                }
            })
            .fold(f64::INFINITY, f64::min);
        if closest > spec.far_warning_km * 1000.0 {
            warnings.push(format!(
                "the storm never comes within {} km of the city during the run (closest {}): \
                 expect little wind or rain",
                spec.far_warning_km,
                if closest.is_finite() {
                    format!("{:.0} km", closest / 1000.0)
                } else {
                    "never present".to_string()
                }
            ));
        }

        let tide = match &spec.surge.tide_csv {
            Some(p) => {
                let path = ctx.resolve(p);
                let text = std::fs::read_to_string(&path).map_err(|e| {
                    BuildError::new(
                        at.key("surge").key("tide_csv"),
                        format!("cannot read {}: {e}", path.display()),
                    )
                })?;
                Tide::Series(surge::parse_tide_series(&text).map_err(|(line, m)| {
                    BuildError::new(
                        at.key("surge").key("tide_csv"),
                        format!("{}:{line}: {m}", path.display()),
                    )
                })?)
            }
            None => Tide::Harmonic {
                mean_m: spec.surge.mean_level_m,
                terms: spec.surge.tide.clone(),
            },
        };

        let coast_xy = (
            spec.surge.coast_x_m.unwrap_or(center_xy.0),
            spec.surge.coast_y_m.unwrap_or(grid.y0),
        );
        let on = spec.surge.onshore_to_deg.to_radians();
        let shelf = spec
            .surge
            .shelf_length_km
            .zip(spec.surge.shelf_depth_m)
            .map(|(l, d)| (l * 1000.0, d));

        let xs: Vec<f64> = (0..grid.nx).map(|i| grid.center(i, 0).0).collect();
        let ys: Vec<f64> = (0..grid.ny).map(|j| grid.center(0, j).1).collect();
        let water: Vec<bool> = city
            .landuse
            .iter()
            .map(|l| matches!(l, LandUse::Water | LandUse::Sea))
            .collect();
        let open: Vec<bool> = city
            .landuse
            .iter()
            .map(|l| matches!(l, LandUse::Open | LandUse::Road | LandUse::Green))
            .collect();
        let area = grid.cell_area() as f32;
        let people: Vec<f32> = city
            .building
            .iter()
            .map(|&b| {
                if b == NO_BUILDING {
                    0.0
                } else {
                    let b = &city.buildings[b as usize];
                    let occ = if daytime {
                        b.occupants_day
                    } else {
                        b.occupants_night
                    };
                    occ * area / b.footprint_m2
                }
            })
            .collect();
        let center = {
            let (i, j) = grid
                .locate(center_xy.0, center_xy.1)
                .unwrap_or((grid.nx / 2, grid.ny / 2));
            grid.index(i, j)
        };

        // Fragility: one lognormal capacity per asset, drawn from the run's streams
        // (keyed by the asset's id, so other assets added or removed change nothing).
        let mut capacities = Vec::new();
        if spec.fragility.enabled {
            let rng = *sim.world.resource::<RngStreams>();
            for a in &city.assets {
                if let Some(c) = spec.fragility.curves.iter().find(|c| c.kind == a.kind) {
                    let mut r = rng.keyed("typhoon.fragility", &a.id);
                    let z: f64 = StandardNormal.sample(&mut r);
                    capacities.push((a.id.clone(), c.median_gust_m_s * (c.beta * z).exp()));
                }
            }
        }

        let ids = {
            let mut m = sim.world.resource_mut::<Metrics>();
            Ids {
                wind_center: m.declare(
                    "typhoon.wind_center_m_s",
                    "m/s",
                    "10-min mean wind at the city centre",
                ),
                gust_center: m.declare(
                    "typhoon.gust_center_m_s",
                    "m/s",
                    "3-s gust at the city centre",
                ),
                wind_max: m.declare(
                    "typhoon.wind_max_m_s",
                    "m/s",
                    "highest 10-min mean wind over the grid",
                ),
                gust_max: m.declare(
                    "typhoon.gust_max_m_s",
                    "m/s",
                    "highest 3-s gust over the grid",
                ),
                rain_center: m.declare(
                    "typhoon.rain_center_mm_h",
                    "mm/h",
                    "rain rate at the city centre",
                ),
                rain_max: m.declare(
                    "typhoon.rain_max_mm_h",
                    "mm/h",
                    "highest rain rate over the grid",
                ),
                sea_level: m.declare(
                    "typhoon.sea_level_m",
                    "m",
                    "still-water level at the coast (tide + surge) above datum",
                ),
                surge: m.declare(
                    "typhoon.surge_m",
                    "m",
                    "storm surge at the coast (inverse barometer + wind set-up)",
                ),
                distance: m.declare(
                    "typhoon.storm_distance_km",
                    "km",
                    "distance from the storm centre to the city centre (outside the track: its nearest end)",
                ),
                pc: m.declare(
                    "typhoon.central_pressure_hpa",
                    "hPa",
                    "central pressure of the storm",
                ),
                p_center: m.declare(
                    "typhoon.pressure_center_hpa",
                    "hPa",
                    "surface pressure at the city centre (Holland profile)",
                ),
                unsafe_area: m.declare(
                    "typhoon.unsafe_open_area_m2",
                    "m²",
                    "open ground, roads and parks where gusts exceed the limit for everyone",
                ),
                people_exposed: m.declare(
                    "typhoon.people_exposed_unsafe_gust",
                    "people",
                    "people in buildings whose cell has gusts above the limit for everyone \
                     (must stay indoors)",
                ),
                assets_failed: m.declare(
                    "typhoon.assets_failed",
                    "assets",
                    "assets failed by wind (fragility)",
                ),
            }
        };

        {
            let mut log = sim.world.resource_mut::<EventLog>();
            for w in &warnings {
                tracing::warn!("typhoon: {w}");
                log.emit(0.0, "typhoon", "input.warning", Severity::Info)
                    .message(w.clone());
            }
        }

        let n = grid.len();
        let step = (spec.forcing_step_s / ctx.tick_s).round().max(1.0) * ctx.tick_s;
        let nwarn = spec.surge.warning_levels.len();
        sim.world.insert_resource(SurfaceWind {
            u: vec![0.0; n],
            v: vec![0.0; n],
            gust: vec![0.0; n],
        });
        sim.world.insert_resource(RainRate(vec![0.0; n]));
        if !sim.world.contains_resource::<Warnings>() {
            sim.world.insert_resource(Warnings::default());
        }
        let level0 = tide.level(0.0);
        sim.world.insert_resource(SeaLevel(level0));
        sim.world.insert_resource(TyphoonState {
            track,
            proj,
            params,
            rain_model: spec.rain.model,
            rain_scale: spec.rain.scale,
            forcing_step: step,
            next_forcing: 0.0,
            xs,
            ys,
            water,
            open,
            people,
            center,
            center_xy,
            center_geo,
            coast_xy,
            onshore: (on.sin(), on.cos()),
            shelf,
            tide,
            sea_warnings: spec.surge.warning_levels.clone(),
            sea_level_reached: vec![false; nwarn],
            ped: spec.pedestrians.clone(),
            ped_reached: [false; 2],
            capacities,
            failed: 0,
            ids,
            max_gust: vec![0.0; n],
            max_wind: vec![0.0; n],
            total_rain_mm: vec![0.0; n],
            rain_warn: RainWarnings::default(),
            within: [false; 2],
            min_distance: (f64::INFINITY, 0.0),
            peak_gust: (0.0, 0.0, center),
            peak_sea: (f64::NEG_INFINITY, 0.0),
            landfall_emitted: false,
            prev_storm_cell_sea: None,
            synthetic_landfall,
        });
        sim.add_systems(Phase::Forcing, forcing);
        if spec.fragility.enabled {
            sim.add_systems(Phase::Impacts, wind_damage);
        }
        sim.add_finish_systems(finish);
        Ok(())
    }
}

/// CMA typhoon warning signals (中国气象局令第16号, 2007, 《气象灾害预警信号发布与传播办法》)
/// by the wind they announce: blue — mean wind Beaufort 6 or gusts 8; yellow — mean 8 or
/// gusts 10; orange — mean 10 or gusts 12; red — mean 12 or gusts 14. Lower bounds of the
/// Beaufort classes in m/s (GB/T 28591-2012 风力等级). Names, mean wind, gust; lowest
/// first. The signals are forecasts (issued 24, 24, 12, 6 h ahead); here they are issued
/// when the simulated wind over land reaches them, i.e. late by the lead time.
pub const CMA_TYPHOON: [(&str, f64, f64); 4] = [
    ("blue", 10.8, 17.2),
    ("yellow", 17.2, 24.5),
    ("orange", 24.5, 32.7),
    ("red", 32.7, 41.5),
];

/// A place on the map with its cell.
fn place(city: &City, x: f64, y: f64, name: Option<String>) -> Place {
    Place {
        x,
        y,
        cell: city.grid.locate(x, y).map(|(i, j)| [i as u32, j as u32]),
        name,
    }
}

/// Phase::Forcing: the storm now; fields at forcing steps; rain totals, sea level,
/// gauges and warnings every tick.
#[allow(clippy::too_many_arguments)]
fn forcing(
    mut st: ResMut<TyphoonState>,
    clock: Res<SimClock>,
    city: Res<City>,
    mut wind: ResMut<SurfaceWind>,
    mut rain: ResMut<RainRate>,
    mut sea: ResMut<SeaLevel>,
    mut metrics: ResMut<Metrics>,
    mut log: ResMut<EventLog>,
    mut health: ResMut<RunHealth>,
    mut warnings: ResMut<Warnings>,
) {
    let st = &mut *st;
    let t = clock.t();
    let dt = clock.dt;
    let storm = st.track.state(t, &st.proj);
    let grid = city.grid;

    if t + 1e-9 >= st.next_forcing {
        while st.next_forcing <= t + 1e-9 {
            st.next_forcing += st.forcing_step;
        }
        let w = &mut *wind;
        wind::evaluate_grid(
            &storm,
            &st.params,
            &st.xs,
            &st.ys,
            &st.water,
            &mut w.u,
            &mut w.v,
            &mut w.gust,
        );
        rain::evaluate_grid(
            st.rain_model,
            &storm,
            st.params.penv,
            st.rain_scale,
            &st.xs,
            &st.ys,
            &mut rain.0,
        );
        for (name, field) in [("gust", &w.gust), ("rain rate", &rain.0)] {
            if let Some(msg) = non_finite(name, field, &grid, t) {
                health.fail(msg);
                return;
            }
        }
        st.max_gust
            .par_iter_mut()
            .zip(st.max_wind.par_iter_mut())
            .zip(w.gust.par_iter())
            .zip(w.u.par_iter().zip(w.v.par_iter()))
            .for_each(|(((mg, mw), g), (u, v))| {
                *mg = mg.max(*g);
                *mw = mw.max(u.hypot(*v));
            });
        let gmax = w.gust.par_iter().copied().reduce(|| 0.0, f32::max);
        let wmax = (0..w.u.len())
            .into_par_iter()
            .map(|k| w.u[k].hypot(w.v[k]))
            .reduce(|| 0.0, f32::max);
        metrics.set(st.ids.gust_max, f64::from(gmax));
        metrics.set(st.ids.wind_max, f64::from(wmax));
        metrics.set(st.ids.wind_center, f64::from(w.speed(st.center)));
        metrics.set(st.ids.gust_center, f64::from(w.gust[st.center]));
        let rmax = rain.0.par_iter().copied().reduce(|| 0.0, f32::max);
        metrics.set(st.ids.rain_max, f64::from(rmax) * 3.6e6);
        metrics.set(st.ids.rain_center, f64::from(rain.0[st.center]) * 3.6e6);
        // Typhoon warning signals from the wind over land (CMA_TYPHOON).
        let (land_wind, land_gust) = (0..w.u.len())
            .into_par_iter()
            .filter(|&k| !st.water[k])
            .map(|k| (w.u[k].hypot(w.v[k]), w.gust[k]))
            .reduce(|| (0.0, 0.0), |a, b| (a.0.max(b.0), a.1.max(b.1)));
        for (k, &(name, mean, gust)) in CMA_TYPHOON.iter().enumerate() {
            if (f64::from(land_wind) >= mean || f64::from(land_gust) >= gust)
                && warnings.issue(&format!("typhoon_{name}"), t)
            {
                let (cx, cy) = st.center_xy;
                log.emit(t, "typhoon", "signal.issued", LEVEL_SEVERITY[k])
                    .at(place(&city, cx, cy, None))
                    .message(format!(
                        "typhoon {name} signal: wind over land {land_wind:.1} m/s (10-min mean), \
                     gusts {land_gust:.1} m/s (CMA: mean ≥ {mean} or gust ≥ {gust} m/s)"
                    ))
                    .with("level", name)
                    .with("warning", format!("typhoon_{name}"))
                    .with("wind_m_s", f64::from(land_wind))
                    .with("gust_m_s", f64::from(land_gust));
            }
        }
        if gmax > st.peak_gust.0 {
            let k = w
                .gust
                .par_iter()
                .position_first(|&g| g == gmax)
                .unwrap_or(st.center);
            st.peak_gust = (gmax, t, k);
        }
        // People and open ground under gusts above the pedestrian limits.
        let all = st.ped.all_gust_m_s as f32;
        let nx = grid.nx;
        let (cells, people): (Vec<u64>, Vec<f64>) = w
            .gust
            .par_chunks(nx)
            .zip(st.open.par_chunks(nx))
            .zip(st.people.par_chunks(nx))
            .map(|((g, o), p)| {
                let mut c = 0u64;
                let mut s = 0.0f64;
                for i in 0..g.len() {
                    if g[i] >= all {
                        c += u64::from(o[i]);
                        s += f64::from(p[i]);
                    }
                }
                (c, s)
            })
            .unzip();
        let unsafe_cells: u64 = cells.iter().sum();
        let exposed: f64 = people.iter().sum();
        metrics.set(st.ids.unsafe_area, unsafe_cells as f64 * grid.cell_area());
        metrics.set(st.ids.people_exposed, exposed.round());
        let limits = [
            (st.ped.vulnerable_gust_m_s, "vulnerable", Severity::Moderate),
            (st.ped.all_gust_m_s, "all", Severity::Major),
        ];
        let gmax_open = w
            .gust
            .par_iter()
            .zip(st.open.par_iter())
            .map(|(g, &o)| if o { *g } else { 0.0 })
            .reduce(|| 0.0, f32::max);
        for (k, (lim, who, sev)) in limits.into_iter().enumerate() {
            if !st.ped_reached[k] && f64::from(gmax_open) >= lim {
                st.ped_reached[k] = true;
                let (cx, cy) = st.center_xy;
                log.emit(t, "typhoon", "wind.pedestrian_unsafe", sev)
                    .at(place(&city, cx, cy, None))
                    .message(format!(
                        "gusts over open ground reach {gmax_open:.1} m/s: unsafe outdoors for \
                         {} (limit {lim} m/s)",
                        if who == "all" {
                            "everyone"
                        } else {
                            "frail people and cyclists"
                        }
                    ))
                    .with("gust_m_s", f64::from(gmax_open))
                    .with("limit_m_s", lim)
                    .with("who", who)
                    .with("people_exposed", exposed.round());
            }
        }
    }

    // Rain totals every tick (per cell, independent of threads).
    let depth_center = f64::from(rain.0[st.center]) * dt * 1000.0;
    st.total_rain_mm
        .par_iter_mut()
        .zip(rain.0.par_iter())
        .for_each(|(tot, r)| *tot += f64::from(*r) * dt * 1000.0);
    for (k, acc) in st.rain_warn.update(t + dt, depth_center) {
        let (name, hours, mm) = CMA_RAINSTORM[k];
        warnings.issue(&format!("rainstorm_{name}"), t + dt);
        let (cx, cy) = st.center_xy;
        log.emit(t + dt, "typhoon", "rain.warning", LEVEL_SEVERITY[k])
            .at(place(&city, cx, cy, None))
            .message(format!(
                "rainstorm {name} level at the city centre: {acc:.0} mm in {hours} h \
             (CMA threshold {mm} mm)"
            ))
            .with("level", name)
            .with("accumulation_mm", acc)
            .with("window_h", hours);
    }

    // Storm position, distance, approach and landfall.
    // Outside the track's span the state holds the first or last point.
    let dist_km =
        track::haversine_m(storm.lat, storm.lon, st.center_geo.0, st.center_geo.1) / 1000.0;
    let (cx, cy) = st.center_xy;
    let prof = if storm.active {
        Profile::new(&storm, &st.params)
    } else {
        None
    };
    if storm.active {
        metrics.set(st.ids.distance, dist_km);
        metrics.set(st.ids.pc, storm.pc / 100.0);
        let r_c = (cx - storm.x).hypot(cy - storm.y);
        let p_c = prof.map_or(st.params.penv, |p| storm.pc + p.pressure_rise(r_c));
        metrics.set(st.ids.p_center, p_c / 100.0);
        if dist_km < st.min_distance.0 {
            st.min_distance = (dist_km, t);
        }
        for (k, lim) in [200.0, 100.0].into_iter().enumerate() {
            if !st.within[k] && dist_km <= lim {
                st.within[k] = true;
                log.emit(
                    t,
                    "typhoon",
                    &format!("storm.within_{lim:.0}km"),
                    if k == 0 {
                        Severity::Moderate
                    } else {
                        Severity::Major
                    },
                )
                .at(place(&city, storm.x, storm.y, Some("storm centre".into())))
                .message(format!(
                    "the storm centre is {dist_km:.0} km from the city (max wind {:.0} m/s, \
                     {:.0} hPa)",
                    storm.vmax,
                    storm.pc / 100.0
                ))
                .with("distance_km", dist_km)
                .with("vmax_1min_m_s", storm.vmax)
                .with("central_pressure_hpa", storm.pc / 100.0);
            }
        }
        // Landfall: a known landfall time, or the centre moving from a sea cell to a
        // land cell of the grid.
        let on_grid = grid.locate(storm.x, storm.y);
        let cell_sea = on_grid.map(|(i, j)| st.water[grid.index(i, j)]);
        let landfall_now = match st.synthetic_landfall {
            Some(tl) => t + 1e-9 >= tl,
            None => st.prev_storm_cell_sea == Some(true) && cell_sea == Some(false),
        };
        if landfall_now && !st.landfall_emitted {
            st.landfall_emitted = true;
            log.emit(t, "typhoon", "storm.landfall", Severity::Critical)
                .at(place(&city, storm.x, storm.y, Some("storm centre".into())))
                .message(format!(
                    "landfall at {:.2}°N {:.2}°E, {dist_km:.0} km from the city centre",
                    storm.lat, storm.lon
                ))
                .with("lat", storm.lat)
                .with("lon", storm.lon)
                .with("vmax_1min_m_s", storm.vmax)
                .with("central_pressure_hpa", storm.pc / 100.0);
        }
        st.prev_storm_cell_sea = cell_sea.or(st.prev_storm_cell_sea);
    } else {
        metrics.set(st.ids.distance, dist_km);
        metrics.set(st.ids.pc, st.params.penv / 100.0);
        metrics.set(st.ids.p_center, st.params.penv / 100.0);
    }

    // Sea level: tide + inverse barometer + wind set-up at the coast point.
    let mut surge_m = 0.0;
    if let Some(p) = prof {
        let (dx, dy) = (st.coast_xy.0 - storm.x, st.coast_xy.1 - storm.y);
        let r = dx.hypot(dy);
        surge_m += surge::inverse_barometer_m(p.dp - p.pressure_rise(r));
        if let Some((len, depth)) = st.shelf {
            let (wu, wv) =
                wind::wind_vector(&p, dx, dy, storm.vt, st.params.inflow, storm.lat >= 0.0);
            let k = st.params.one_to_ten_min;
            let (u10, v10) = (wu * k, wv * k);
            let u_on = u10 * st.onshore.0 + v10 * st.onshore.1;
            surge_m += surge::wind_setup_m(u10.hypot(v10), u_on, st.params.rho_air, len, depth);
        }
    }
    let level = st.tide.level(t) + surge_m;
    if !level.is_finite() {
        health.fail(format!("typhoon: sea level is {level} at t={t} s"));
        return;
    }
    sea.0 = level;
    metrics.set(st.ids.sea_level, level);
    metrics.set(st.ids.surge, surge_m);
    if level > st.peak_sea.0 {
        st.peak_sea = (level, t);
    }
    for k in 0..st.sea_warnings.len() {
        let wl = &st.sea_warnings[k];
        if !st.sea_level_reached[k] && level >= wl.level_m {
            st.sea_level_reached[k] = true;
            warnings.issue(&format!("sea_level_{}", wl.name), t);
            let (x, y) = st.coast_xy;
            log.emit(t, "typhoon", "sea_level.warning", Severity::Major)
                .at(place(&city, x, y, Some("coast".into())))
                .message(format!(
                    "sea level {level:.2} m reaches the {} warning level ({:.2} m)",
                    wl.name, wl.level_m
                ))
                .with("level", wl.name.clone())
                .with("sea_level_m", level)
                .with("surge_m", surge_m)
                .with("threshold_m", wl.level_m);
        }
    }
    metrics.set(st.ids.assets_failed, st.failed as f64);
}

/// The first non-finite value of a field (lowest index, whatever the thread count), as a
/// failure message naming the cell and time.
pub fn non_finite(
    name: &str,
    field: &[f32],
    grid: &crate::grid::GridSpec,
    t: f64,
) -> Option<String> {
    let k = field.par_iter().position_first(|v| !v.is_finite())?;
    let (i, j) = grid.cell_of(k);
    Some(format!(
        "typhoon: {name} is {} at cell ({i},{j}), t={t} s",
        field[k]
    ))
}

/// Phase::Impacts: assets whose peak gust so far exceeds their drawn capacity fail.
fn wind_damage(
    mut st: ResMut<TyphoonState>,
    clock: Res<SimClock>,
    city: Res<City>,
    mut assets: Query<(&Asset, &mut Operational)>,
    mut log: ResMut<EventLog>,
    owner: Option<Res<crate::coupling::AssetFailureOwner>>,
) {
    // The lifelines plugin, when present, owns asset failure (its own wind fragility).
    if owner.is_some() {
        return;
    }
    let st = &mut *st;
    let mut failed: Vec<(String, f64, f64, f64, f64, AssetKind)> = Vec::new();
    for (a, mut op) in &mut assets {
        if !op.0 {
            continue;
        }
        let Some((_, cap)) = st.capacities.iter().find(|(id, _)| *id == a.id) else {
            continue;
        };
        let g = f64::from(st.max_gust[a.cell]);
        if g >= *cap {
            op.0 = false;
            failed.push((a.id.clone(), g, *cap, a.x, a.y, a.kind));
        }
    }
    failed.sort_by(|a, b| a.0.cmp(&b.0));
    for (id, g, cap, x, y, kind) in failed {
        st.failed += 1;
        log.emit(clock.t(), "typhoon", "asset.failed", Severity::Major)
            .at(place(&city, x, y, Some(id.clone())))
            .message(format!(
                "{} {id} failed in gusts of {g:.1} m/s (wind fragility)",
                kind.label()
            ))
            .with("gust_m_s", g)
            .with("capacity_m_s", cap)
            .with("cause", "wind");
    }
}

/// Finish: KPIs, the peak-gust and nearest-approach events, and the maps.
fn finish(
    st: Res<TyphoonState>,
    city: Res<City>,
    mut metrics: ResMut<Metrics>,
    mut log: ResMut<EventLog>,
    mut maps: ResMut<MapOutputs>,
) {
    let grid = city.grid;
    let (g, tg, k) = st.peak_gust;
    let wmax = st.max_wind.par_iter().copied().reduce(|| 0.0, f32::max);
    let rain_center = st.total_rain_mm[st.center];
    let rain_max = st
        .total_rain_mm
        .par_iter()
        .copied()
        .reduce(|| 0.0, f64::max);
    metrics.set_kpi(
        "typhoon.peak_gust_m_s",
        f64::from(g),
        "m/s",
        "highest 3-s gust over the grid during the run",
    );
    metrics.set_kpi(
        "typhoon.peak_wind_m_s",
        f64::from(wmax),
        "m/s",
        "highest 10-min mean wind over the grid during the run",
    );
    metrics.set_kpi(
        "typhoon.rain_total_center_mm",
        rain_center,
        "mm",
        "storm rainfall at the city centre",
    );
    metrics.set_kpi(
        "typhoon.rain_total_max_mm",
        rain_max,
        "mm",
        "highest storm rainfall over the grid",
    );
    metrics.set_kpi(
        "typhoon.min_distance_km",
        st.min_distance.0,
        "km",
        "closest approach of the storm centre to the city centre",
    );
    metrics.set_kpi(
        "typhoon.peak_sea_level_m",
        st.peak_sea.0,
        "m",
        "highest still-water level at the coast",
    );
    metrics.set_kpi(
        "typhoon.assets_failed",
        st.failed as f64,
        "assets",
        "assets failed by wind",
    );
    if g > 0.0 {
        let (i, j) = grid.cell_of(k);
        let (x, y) = grid.center(i, j);
        log.emit(tg, "typhoon", "wind.peak_gust", Severity::Major)
            .at(place(&city, x, y, None))
            .message(format!("peak gust over the city: {g:.1} m/s"))
            .with("gust_m_s", f64::from(g));
    }
    if st.min_distance.0.is_finite() {
        let (cx, cy) = st.center_xy;
        log.emit(
            st.min_distance.1,
            "typhoon",
            "storm.nearest_approach",
            Severity::Major,
        )
        .at(place(&city, cx, cy, None))
        .message(format!(
            "closest approach of the storm centre: {:.0} km",
            st.min_distance.0
        ))
        .with("distance_km", st.min_distance.0);
    }
    maps.0.push(Raster {
        name: "typhoon_max_gust".into(),
        title: "Maximum 3-s gust".into(),
        unit: "m/s".into(),
        grid,
        data: st.max_gust.clone(),
        kind: RasterKind::Continuous {
            palette: Palette::Heat,
        },
    });
    maps.0.push(Raster {
        name: "typhoon_total_rain".into(),
        title: "Storm rainfall".into(),
        unit: "mm".into(),
        grid,
        data: st.total_rain_mm.iter().map(|&v| v as f32).collect(),
        kind: RasterKind::Continuous {
            palette: Palette::Water,
        },
    });
}

/// Resolve helper for tests and validation: the repository's root.
pub fn repo_root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::run::{RunOutput, prepare_city, run};
    use crate::scenario::{load, parse};

    fn run_text(text: &str) -> Result<RunOutput, String> {
        let loaded =
            parse(text, "test.toml", &repo_root().join("scenarios")).map_err(|e| e.to_string())?;
        let city = Arc::new(prepare_city(&loaded).map_err(|e| e.to_string())?);
        run(&loaded, &city, 3, |_| {}).map_err(|e| e.to_string())
    }

    fn synthetic(extra: &str) -> String {
        format!(
            r#"
format = 1
name = "synthetic"
[time]
duration_s = 43200
tick_s = 600
[city]
source = "generate"
width_m = 3000
height_m = 2000
cell_m = 100
[[hazards]]
kind = "typhoon"
track = {{ source = "synthetic", landfall_time_s = 21600, heading_deg = 330, forward_speed_m_s = 6, vmax_m_s = 50 }}
{extra}
"#
        )
    }

    #[test]
    fn example_scenario_runs_deterministically() {
        let path = repo_root().join("scenarios/typhoon-example.toml");
        let loaded = load(&path).expect("the example loads");
        let city = Arc::new(prepare_city(&loaded).expect("the city"));
        let a = run(&loaded, &city, 7, |_| {}).expect("the run");
        // The same run on one thread: identical results.
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .expect("a pool");
        let b = pool.install(|| run(&loaded, &city, 7, |_| {}).expect("the run"));
        assert_eq!(a.timeseries_csv, b.timeseries_csv);
        assert_eq!(a.events, b.events);
        assert!(a.events.windows(2).all(|w| w[0].t <= w[1].t));
        for k in [
            "typhoon.peak_gust_m_s",
            "typhoon.min_distance_km",
            "typhoon.rain_total_center_mm",
            "typhoon.peak_sea_level_m",
        ] {
            assert!(a.summary.kpis[k].value.is_finite(), "{k}");
        }
        let kinds: Vec<&str> = a.events.iter().map(|e| e.kind.as_str()).collect();
        for k in [
            "storm.within_200km",
            "storm.nearest_approach",
            "wind.peak_gust",
        ] {
            assert!(kinds.contains(&k), "no {k} event in {kinds:?}");
        }
        assert!(a.maps.iter().any(|m| m.name == "typhoon_max_gust"));
        // Gust is at least the mean everywhere, and never negative.
        let g = a
            .maps
            .iter()
            .find(|m| m.name == "typhoon_max_gust")
            .unwrap();
        assert!(g.data.iter().all(|&v| v.is_finite() && v > 0.0));
    }

    #[test]
    fn synthetic_landfall_raises_winds_and_sea_level() {
        let out = run_text(&synthetic(
            "[hazards.surge]\nshelf_length_km = 30\nshelf_depth_m = 10\n\
             warning_levels = [{ name = \"blue\", level_m = 0.3 }]",
        ))
        .expect("runs");
        let k = |n: &str| out.summary.kpis[n].value;
        assert!(k("typhoon.min_distance_km") < 2.0, "landfall on the city");
        assert!(k("typhoon.peak_gust_m_s") > 40.0);
        assert!(k("typhoon.peak_sea_level_m") > 0.3);
        let kinds: Vec<&str> = out.events.iter().map(|e| e.kind.as_str()).collect();
        for k in [
            "storm.landfall",
            "storm.within_100km",
            "sea_level.warning",
            "wind.pedestrian_unsafe",
        ] {
            assert!(kinds.contains(&k), "no {k} in {kinds:?}");
        }
        // Missing pressure and RMW were filled with warnings.
        assert!(
            out.events
                .iter()
                .any(|e| e.kind == "input.warning" && e.message.contains("Willoughby"))
        );
    }

    #[test]
    fn fragility_is_switchable_and_seeded() {
        let curves = "[hazards.fragility]\nenabled = ENABLED\ncurves = [\
            { kind = \"substation\", median_gust_m_s = 30.0, beta = 0.3, source = \"test\" },\
            { kind = \"shelter\", median_gust_m_s = 30.0, beta = 0.3, source = \"test\" }]";
        let on = run_text(&synthetic(&curves.replace("ENABLED", "true"))).expect("runs");
        let off = run_text(&synthetic(&curves.replace("ENABLED", "false"))).expect("runs");
        let failed = |o: &RunOutput| o.events.iter().filter(|e| e.kind == "asset.failed").count();
        assert!(failed(&on) > 0, "a 50 m/s landfall fails 30 m/s assets");
        assert_eq!(failed(&off), 0);
        assert_eq!(
            on.summary.kpis["typhoon.assets_failed"].value,
            failed(&on) as f64
        );
    }

    #[test]
    fn bad_inputs_are_clear_errors() {
        let e = run_text(&synthetic("").replace(
            "track = { source = \"synthetic\"",
            "track = { source = \"csv\", file = \"nowhere.csv\" }\n#",
        ))
        .err()
        .expect("an error");
        assert!(
            e.contains("nowhere.csv") && e.contains("hazards[0].track.file"),
            "{e}"
        );
        let dir = tempfile::tempdir().unwrap();
        let bad = dir.path().join("bad.csv");
        std::fs::write(
            &bad,
            "iso_time_utc,lat,lon,vmax_kt_1min\n2018-09-16 06:00,21,114,80\n2018-09-16 03:00,21,114,80\n",
        )
        .unwrap();
        let e = run_text(&synthetic("").replace(
            "track = { source = \"synthetic\"",
            &format!(
                "track = {{ source = \"csv\", file = \"{}\" }}\n#",
                bad.display()
            ),
        ))
        .err()
        .expect("an error");
        assert!(e.contains("bad.csv:3") && e.contains("not after"), "{e}");
        let e = run_text(&synthetic("[hazards.wind]\ngust_factor_land = 0.5"))
            .err()
            .expect("an error");
        assert!(e.contains("gust_factor_land"), "{e}");
        let e = run_text(&synthetic("[hazards.fragility]\nenabled = true"))
            .err()
            .expect("an error");
        assert!(e.contains("curves"), "{e}");
        // Two rain forcings are refused.
        let e = run_text(&(synthetic("")
            + "[[hazards]]\nkind = \"design_storm\"\nreturn_period_years = 5\nduration_min = 60\n"))
        .err().expect("an error");
        assert!(e.contains("one rain forcing"), "{e}");
    }

    #[test]
    fn a_distant_storm_warns() {
        let out = run_text(&synthetic("").replace(
            "landfall_time_s = 21600",
            "landfall_lat = 10.0, landfall_lon = 140.0, landfall_time_s = 21600",
        ))
        .expect("runs");
        assert!(
            out.events
                .iter()
                .any(|e| e.kind == "input.warning" && e.message.contains("never comes within")),
        );
        assert!(out.summary.kpis["typhoon.peak_gust_m_s"].value < 1.0);
    }

    #[test]
    fn non_finite_fields_name_the_cell() {
        let grid = crate::grid::GridSpec::new(4, 3, 10.0);
        let mut f = vec![1.0f32; 12];
        assert!(non_finite("gust", &f, &grid, 5.0).is_none());
        f[6] = f32::NAN;
        f[9] = f32::INFINITY;
        let m = non_finite("gust", &f, &grid, 5.0).expect("found");
        assert_eq!(m, "typhoon: gust is NaN at cell (2,1), t=5 s");
    }

    #[test]
    fn hato_track_reads_with_rmw_warning() {
        let t = track::read_best_track(&validation::tracks_dir().join("hato_2017.csv"), 1.0, 12.0)
            .expect("Hato reads");
        assert_eq!(t.points.len(), 19);
        assert!(t.warnings.iter().any(|w| w.contains("Willoughby")));
        assert!(
            t.points
                .iter()
                .all(|p| p.rmw > 5_000.0 && p.rmw < 100_000.0)
        );
    }
}
