//! The `kind = "lifelines"` entry of a scenario: fragility curves, restoration times,
//! imposed failures, dependency timing and repair crews, with their range checks.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::city::assets::AssetKind;
use crate::spec::{KeyPath, Problem, in_range, positive};

/// Which hazard intensity a fragility curve takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Intensity {
    /// Water depth at the asset's door (deepest of its 3 × 3 cells), m.
    Flood,
    /// 3-s gust at the asset's cell, m/s.
    Wind,
}

/// A lognormal fragility curve: P(fail | x) = Φ(ln(x / median) / β) (Hazus form).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FragilityCurve {
    pub kind: AssetKind,
    pub hazard: Intensity,
    /// Median capacity (m for flood, m/s for wind).
    pub median: f64,
    /// Lognormal dispersion β.
    pub beta: f64,
    /// Where the numbers come from.
    #[serde(default)]
    pub source: String,
}

/// Repair time after a failure, hours: normal, truncated at a tenth of the mean
/// (Hazus restoration functions are normal distributions of days to restore).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Restoration {
    pub kind: AssetKind,
    pub mean_h: f64,
    pub sd_h: f64,
    #[serde(default)]
    pub source: String,
}

/// A failure imposed by the scenario (equipment fault, sabotage, a what-if).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ForcedFailure {
    /// Asset id, e.g. `SUB-03`.
    pub asset: String,
    /// Time of the failure, s from the start.
    pub t_s: f64,
    /// Cause written in the events.
    #[serde(default = "default_cause")]
    pub cause: String,
}

fn default_cause() -> String {
    "equipment fault".into()
}

/// `kind = "lifelines"`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LifelinesSpec {
    /// Fragility curves; kinds without a curve for a hazard do not fail from it.
    #[serde(default = "default_curves")]
    pub fragility: Vec<FragilityCurve>,
    /// Repair times by asset kind; kinds without one are never repaired in the run.
    #[serde(default = "default_restoration")]
    pub restoration: Vec<Restoration>,
    /// Failures imposed at given times.
    #[serde(default)]
    pub failures: Vec<ForcedFailure>,
    /// Time from the loss of a supplier to the loss of its dependants (switching,
    /// batteries of control systems), s. Default 0 (immediate); an assumption to vary.
    #[serde(default)]
    pub propagation_delay_s: f64,
    /// Hours a hospital runs on its generators after losing grid power. Default 24 h:
    /// NFPA 110 Class 24 fuel (an assumption; set the hospital's actual autonomy).
    #[serde(default = "default_backup")]
    pub hospital_backup_h: f64,
    /// Repair crews, stationed at `depot` (default: the grid's centre).
    #[serde(default = "default_crews")]
    pub crews: u32,
    #[serde(default)]
    pub depot: Option<[f64; 2]>,
    /// Crew travel speed along a Manhattan path, m/s (default 8.33 = 30 km/h urban
    /// driving in a storm; an assumption, no road routing).
    #[serde(default = "default_speed")]
    pub crew_speed_m_s: f64,
    /// Fire within this distance of an asset destroys its function (deterministic
    /// exposure; m). Default 10 m: the adjacent cell at the default resolution.
    #[serde(default = "default_fire_m")]
    pub fire_exposure_m: f64,
}

fn default_backup() -> f64 {
    24.0
}
fn default_crews() -> u32 {
    2
}
fn default_speed() -> f64 {
    8.33
}
fn default_fire_m() -> f64 {
    10.0
}

const HAZUS_EQ: &str = "Hazus-MH Earthquake Technical Manual, restoration functions (moderate damage), days converted to hours; verify against the current manual";
const SILL: &str = "median = flood plugin's sill limit (GB 50352-2019 0.15 m ground floor / GB 50157-2013 0.30 m metro sill); β 0.3 assumed (unverified)";
const WIND: &str = "illustrative, as in scenarios/typhoon-example.toml (unverified; replace with Nirandjan et al. 2024 compiled curves)";

fn curve(kind: AssetKind, hazard: Intensity, median: f64, beta: f64, src: &str) -> FragilityCurve {
    FragilityCurve {
        kind,
        hazard,
        median,
        beta,
        source: src.into(),
    }
}

fn default_curves() -> Vec<FragilityCurve> {
    use AssetKind::*;
    use Intensity::*;
    let mut v: Vec<FragilityCurve> = [
        Substation,
        PumpStation,
        WaterPlant,
        Hospital,
        Telecom,
        Shelter,
        FireStation,
    ]
    .into_iter()
    .map(|k| curve(k, Flood, 0.15, 0.3, SILL))
    .collect();
    v.push(curve(MetroEntrance, Flood, 0.30, 0.3, SILL));
    v.push(curve(Substation, Wind, 45.0, 0.3, WIND));
    v.push(curve(Telecom, Wind, 40.0, 0.35, WIND));
    v
}

fn default_restoration() -> Vec<Restoration> {
    use AssetKind::*;
    let r = |kind, mean_d: f64, sd_d: f64| Restoration {
        kind,
        mean_h: mean_d * 24.0,
        sd_h: sd_d * 24.0,
        source: HAZUS_EQ.into(),
    };
    vec![
        r(Substation, 3.0, 1.5),
        r(PumpStation, 3.1, 2.7),
        r(WaterPlant, 1.9, 1.2),
        r(Telecom, 3.0, 1.5),
    ]
}

impl LifelinesSpec {
    pub fn check(&self, at: &KeyPath) -> Result<(), Problem> {
        for (k, c) in self.fragility.iter().enumerate() {
            let p = at.key("fragility").index(k);
            positive(p.key("median"), c.median, "the median capacity")?;
            in_range(p.key("beta"), c.beta, 0.01, 3.0, "the dispersion β")?;
        }
        for (k, r) in self.restoration.iter().enumerate() {
            let p = at.key("restoration").index(k);
            positive(p.key("mean_h"), r.mean_h, "the mean repair time")?;
            in_range(
                p.key("sd_h"),
                r.sd_h,
                0.0,
                f64::INFINITY,
                "the repair time sd",
            )?;
        }
        for (k, f) in self.failures.iter().enumerate() {
            let p = at.key("failures").index(k);
            in_range(p.key("t_s"), f.t_s, 0.0, f64::INFINITY, "the failure time")?;
        }
        in_range(
            at.key("propagation_delay_s"),
            self.propagation_delay_s,
            0.0,
            f64::INFINITY,
            "the propagation delay",
        )?;
        in_range(
            at.key("hospital_backup_h"),
            self.hospital_backup_h,
            0.0,
            f64::INFINITY,
            "the hospital backup autonomy",
        )?;
        in_range(at.key("crews"), f64::from(self.crews), 0.0, 1000.0, "crews")?;
        positive(
            at.key("crew_speed_m_s"),
            self.crew_speed_m_s,
            "the crew speed",
        )?;
        in_range(
            at.key("fire_exposure_m"),
            self.fire_exposure_m,
            0.0,
            1000.0,
            "the fire exposure distance",
        )
    }
}
