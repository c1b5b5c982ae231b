//! The typhoon's part of a scenario (`kind = "typhoon"`): its serde types and the range
//! checks that need nothing but the spec.

use std::path::PathBuf;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::rain::RainModel;
use super::surge::TideTerm;
use super::wind::WindModel;
use crate::city::AssetKind;
use crate::spec::{KeyPath, Problem, in_range, positive};

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
        self.track.check(&at.key("track"), self.env_pressure_hpa)?;
        self.wind.check(&at.key("wind"))?;
        in_range(
            at.key("rain").key("scale"),
            self.rain.scale,
            0.0,
            10.0,
            "the rain scale",
        )?;
        self.surge.check(&at.key("surge"))?;
        self.pedestrians.check(&at.key("pedestrians"))?;
        self.fragility.check(&at.key("fragility"))
    }
}

impl TrackSpec {
    /// `env_pressure_hpa`: the central pressure must be below it.
    fn check(&self, t: &KeyPath, env_pressure_hpa: f64) -> Result<(), Problem> {
        match self {
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
                        env_pressure_hpa - 1.0,
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
        Ok(())
    }
}

impl WindOptions {
    fn check(&self, w: &KeyPath) -> Result<(), Problem> {
        let o = self;
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
        )
    }
}

impl SurgeOptions {
    fn check(&self, s: &KeyPath) -> Result<(), Problem> {
        if let Some(l) = self.shelf_length_km {
            in_range(s.key("shelf_length_km"), l, 0.1, 1000.0, "the shelf length")?;
        }
        if let Some(d) = self.shelf_depth_m {
            in_range(s.key("shelf_depth_m"), d, 0.5, 500.0, "the shelf depth")?;
        }
        if self.shelf_length_km.is_some() != self.shelf_depth_m.is_some() {
            return Err((
                s.key("shelf_depth_m"),
                "give both shelf_length_km and shelf_depth_m for the wind set-up, or neither"
                    .into(),
            ));
        }
        for (name, v) in [("coast_x_m", self.coast_x_m), ("coast_y_m", self.coast_y_m)] {
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
            self.onshore_to_deg,
            -360.0,
            360.0,
            "the onshore direction",
        )?;
        in_range(
            s.key("mean_level_m"),
            self.mean_level_m,
            -10.0,
            10.0,
            "the mean sea level",
        )?;
        if !self.tide.is_empty() && self.tide_csv.is_some() {
            return Err((
                s.key("tide_csv"),
                "give harmonic constituents or a tide series, not both".into(),
            ));
        }
        for (k, c) in self.tide.iter().enumerate() {
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
        for (k, wl) in self.warning_levels.iter().enumerate() {
            in_range(
                s.key("warning_levels").index(k).key("level_m"),
                wl.level_m,
                -10.0,
                20.0,
                "the warning level",
            )?;
        }
        Ok(())
    }
}

impl PedestrianOptions {
    fn check(&self, p: &KeyPath) -> Result<(), Problem> {
        positive(
            p.key("vulnerable_gust_m_s"),
            self.vulnerable_gust_m_s,
            "the gust limit",
        )?;
        in_range(
            p.key("all_gust_m_s"),
            self.all_gust_m_s,
            self.vulnerable_gust_m_s,
            100.0,
            "the gust limit for everyone (at least the vulnerable limit)",
        )
    }
}

impl FragilityOptions {
    fn check(&self, f: &KeyPath) -> Result<(), Problem> {
        if self.enabled && self.curves.is_empty() {
            return Err((
                f.key("curves"),
                "fragility is enabled but no curve is given".into(),
            ));
        }
        for (k, c) in self.curves.iter().enumerate() {
            let ck = f.key("curves").index(k);
            positive(ck.key("median_gust_m_s"), c.median_gust_m_s, "the median")?;
            in_range(ck.key("beta"), c.beta, 0.01, 2.0, "the dispersion β")?;
            if c.source.trim().is_empty() {
                return Err((ck.key("source"), "name the source of the curve".into()));
            }
            if self.curves[..k].iter().any(|d| d.kind == c.kind) {
                return Err((ck.key("kind"), "a second curve for the same kind".into()));
            }
        }
        Ok(())
    }
}
