//! Losses from the surface: pipe drainage sized by the design standard, Horton
//! infiltration on pervious ground, and pump stations.
//!
//! The pipe capacity comes from the Chinese storm-intensity (IDF) form used by
//! GB 50014-2021, q = A (1 + C lg P) / (t + b)^n, through the one IDF implementation of
//! the engine ([`crate::weather::Idf`]). Rain itself comes only from the
//! shared `RainRate` field (a `kind = "design_storm"` or `kind = "typhoon"` hazard).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::spec::{KeyPath, Problem, in_range};
use crate::weather::Idf;

/// Pipe drainage: each cell drains up to the design intensity times its impervious
/// share (rational method, GB 50014-2021: Q = ψ q F with ψ taken as the impervious
/// fraction).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DrainageSpec {
    /// Pipe design return period, years. Default 3: the lower end of the 3–5 a that
    /// GB 50014-2021 sets for central districts of super-large cities.
    #[serde(default = "d_p")]
    pub return_period_years: f64,
    /// Design rainfall duration (ground collection plus pipe flow time), min. Default 10:
    /// inside the 5–15 min ground-collection time of GB 50014-2021.
    #[serde(default = "d_t")]
    pub duration_min: f64,
    /// Storm-intensity formula (default: Shenzhen's, as for the design storm).
    #[serde(default)]
    pub idf: Idf,
    /// Set false to model blocked or absent pipes.
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn d_p() -> f64 {
    3.0
}
fn d_t() -> f64 {
    10.0
}
fn yes() -> bool {
    true
}

impl Default for DrainageSpec {
    fn default() -> Self {
        Self {
            return_period_years: d_p(),
            duration_min: d_t(),
            idf: Idf::default(),
            enabled: true,
        }
    }
}

impl DrainageSpec {
    pub fn check(&self, at: &KeyPath) -> Result<(), Problem> {
        in_range(
            at.key("return_period_years"),
            self.return_period_years,
            1.0,
            1000.0,
            "the pipe design return period",
        )?;
        in_range(
            at.key("duration_min"),
            self.duration_min,
            1.0,
            1440.0,
            "the design duration",
        )?;
        self.idf.check(&at.key("idf"))
    }
    /// Drainage capacity per unit of impervious area, m/s.
    pub fn capacity_m_s(&self) -> f64 {
        if self.enabled {
            self.idf
                .intensity_m_s(self.return_period_years, self.duration_min)
        } else {
            0.0
        }
    }
}

/// Horton infiltration on the pervious part of a cell: f(t) = fc + (f0 − fc) e^(−k t),
/// t the time the cell has been wet (Horton 1940). Defaults are the SWMM 5 User's Manual
/// (Rossman 2015, EPA/600/R-14/413b, Appendix A) values for dry loam with little
/// vegetation: f0 = 3 in/h (76.2 mm/h), fc = the loam saturated conductivity 0.13 in/h
/// (3.3 mm/h), k = 4 h⁻¹ (typical range 2–7 h⁻¹).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HortonSpec {
    #[serde(default = "d_f0")]
    pub f0_mm_h: f64,
    #[serde(default = "d_fc")]
    pub fc_mm_h: f64,
    #[serde(default = "d_k")]
    pub decay_per_h: f64,
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn d_f0() -> f64 {
    76.2
}
fn d_fc() -> f64 {
    3.3
}
fn d_k() -> f64 {
    4.0
}

impl Default for HortonSpec {
    fn default() -> Self {
        Self {
            f0_mm_h: d_f0(),
            fc_mm_h: d_fc(),
            decay_per_h: d_k(),
            enabled: true,
        }
    }
}

impl HortonSpec {
    pub fn check(&self, at: &KeyPath) -> Result<(), Problem> {
        in_range(at.key("f0_mm_h"), self.f0_mm_h, 0.0, 1000.0, "f0")?;
        in_range(at.key("fc_mm_h"), self.fc_mm_h, 0.0, self.f0_mm_h, "fc")?;
        in_range(
            at.key("decay_per_h"),
            self.decay_per_h,
            0.0,
            100.0,
            "the decay rate",
        )
    }
    /// Infiltration capacity after `wet_s` seconds of wetting, m/s.
    pub fn rate_m_s(&self, wet_s: f64) -> f64 {
        if !self.enabled {
            return 0.0;
        }
        let f = self.fc_mm_h
            + (self.f0_mm_h - self.fc_mm_h) * (-self.decay_per_h * wet_s / 3600.0).exp();
        f / 1000.0 / 3600.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pipe_capacity_from_the_shared_idf() {
        let d = DrainageSpec::default();
        // P = 3 a, t = 10 min: 1450.239 × 1.2834 / 21.13^0.555 ≈ 342 L/(s·ha).
        let q = d.capacity_m_s() * 1000.0 * 60.0 * crate::weather::LSHA_PER_MM_MIN;
        assert!((q - 342.3).abs() < 1.0, "{q}");
        // Longer return period, larger pipes; longer duration, lower mean intensity.
        let five = DrainageSpec {
            return_period_years: 5.0,
            ..d
        };
        assert!(five.capacity_m_s() > d.capacity_m_s());
        let long = DrainageSpec {
            duration_min: 60.0,
            ..d
        };
        assert!(long.capacity_m_s() < d.capacity_m_s());
        let off = DrainageSpec {
            enabled: false,
            ..d
        };
        assert_eq!(off.capacity_m_s(), 0.0);
    }

    #[test]
    fn horton_decays_to_fc() {
        let h = HortonSpec::default();
        assert!((h.rate_m_s(0.0) * 3.6e6 - 76.2).abs() < 1e-9);
        assert!((h.rate_m_s(1e6) * 3.6e6 - 3.3).abs() < 1e-9);
    }
}
