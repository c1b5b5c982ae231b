//! The uniform wind's part of a scenario (`kind = "wind"`): its serde type and range
//! checks.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::spec::{KeyPath, Problem, in_range};

/// `kind = "wind"`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WindSpec {
    /// 10-m mean wind speed (10-min average), m/s.
    pub speed_m_s: f64,
    /// Direction the wind blows **from**, degrees clockwise from north (meteorological).
    pub from_deg: f64,
    /// 3-s gust over 10-min mean. Default 1.49: WMO guidelines for converting between
    /// wind averaging periods (Harper, Kepert & Ginger 2010), "roughly open" exposure,
    /// off-sea/over-land conditions at 10 m.
    #[serde(default = "default_gust")]
    pub gust_factor: f64,
}

fn default_gust() -> f64 {
    1.49
}

impl WindSpec {
    pub fn check(&self, at: &KeyPath) -> Result<(), Problem> {
        in_range(
            at.key("speed_m_s"),
            self.speed_m_s,
            0.0,
            120.0,
            "the wind speed",
        )?;
        in_range(
            at.key("from_deg"),
            self.from_deg,
            -360.0,
            360.0,
            "the wind direction",
        )?;
        in_range(
            at.key("gust_factor"),
            self.gust_factor,
            1.0,
            3.0,
            "the gust factor",
        )
    }
}
