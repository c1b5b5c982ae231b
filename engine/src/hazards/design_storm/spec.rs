//! The design storm's part of a scenario (`kind = "design_storm"`): its serde type and
//! range checks.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::spec::{KeyPath, Problem, in_range};
use crate::weather::Idf;

/// `kind = "design_storm"`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DesignStormSpec {
    /// Return period P, years.
    pub return_period_years: f64,
    /// Storm duration D, min.
    pub duration_min: f64,
    /// Peak position r (peak at r·D); 0.4 is the usual choice in Chinese practice.
    #[serde(default = "default_r")]
    pub peak_position: f64,
    /// Start of the storm, s since the scenario start.
    #[serde(default)]
    pub start_s: f64,
    /// IDF parameters (default: Shenzhen).
    #[serde(default = "Idf::shenzhen")]
    pub idf: Idf,
}

fn default_r() -> f64 {
    0.4
}

impl DesignStormSpec {
    pub fn check(&self, at: &KeyPath) -> Result<(), Problem> {
        in_range(
            at.key("return_period_years"),
            self.return_period_years,
            1.0,
            10_000.0,
            "the return period",
        )?;
        in_range(
            at.key("duration_min"),
            self.duration_min,
            5.0,
            7.0 * 1440.0,
            "the duration",
        )?;
        in_range(
            at.key("peak_position"),
            self.peak_position,
            0.01,
            0.99,
            "the peak position r",
        )?;
        in_range(at.key("start_s"), self.start_s, 0.0, 1e9, "the start time")?;
        self.idf.check(&at.key("idf"))
    }
}
