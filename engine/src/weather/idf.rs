//! The storm-intensity formula (intensity–duration–frequency curve) of Chinese
//! drainage practice, i = A1 (1 + C lg P) / (t + b)^n.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::spec::{KeyPath, Problem, in_range, positive};

/// L/(s·ha) per mm/min: 1 mm/min over a hectare = 10 m³ per 60 s.
pub const LSHA_PER_MM_MIN: f64 = 10_000.0 / 60.0;

/// IDF parameters: i (mm/min) = a1 (1 + c lg P) / (t + b)^n, t in minutes. The one
/// storm-intensity formula of the engine: the design storm's hyetograph and the flood
/// plugin's pipe capacity (design return period → intensity) both use it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Idf {
    /// A1, mm/min.
    pub a1_mm_min: f64,
    pub c: f64,
    /// b, min.
    pub b_min: f64,
    pub n: f64,
}

impl Idf {
    /// Shenzhen storm-intensity formula q = 1450.239 (1 + 0.594 lg P) / (t + 11.13)^0.555
    /// L/(s·ha) (as quoted in the project brief; older Shenzhen formula, to be checked
    /// against the current local standard), converted to mm/min.
    pub fn shenzhen() -> Self {
        Self {
            a1_mm_min: 1450.239 / LSHA_PER_MM_MIN,
            c: 0.594,
            b_min: 11.13,
            n: 0.555,
        }
    }
    /// a = A1 (1 + C lg P), mm/min·min^n.
    pub fn a(&self, p_years: f64) -> f64 {
        self.a1_mm_min * (1.0 + self.c * p_years.log10())
    }
    /// Mean intensity over a duration t (min), mm/min.
    pub fn intensity(&self, p_years: f64, t_min: f64) -> f64 {
        self.a(p_years) / (t_min + self.b_min).powf(self.n)
    }
    /// Mean intensity over a duration t (min), m/s.
    pub fn intensity_m_s(&self, p_years: f64, t_min: f64) -> f64 {
        self.intensity(p_years, t_min) / 1000.0 / 60.0
    }
    /// Ranges of the parameters, errors naming the key under `at`.
    pub fn check(&self, at: &KeyPath) -> Result<(), Problem> {
        positive(at.key("a1_mm_min"), self.a1_mm_min, "A1")?;
        in_range(at.key("c"), self.c, 0.0, 5.0, "C")?;
        in_range(at.key("b_min"), self.b_min, 0.0, 100.0, "b")?;
        in_range(at.key("n"), self.n, 0.0, 0.99, "n (below 1)")
    }
}

impl Default for Idf {
    fn default() -> Self {
        Self::shenzhen()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shenzhen_idf_magnitude() {
        // q(P=1, t=60 min) = 1450.239 / 71.13^0.555 ≈ 134 L/(s·ha) ≈ 48 mm/h.
        let i = Idf::shenzhen().intensity(1.0, 60.0) * 60.0;
        assert!((45.0..52.0).contains(&i), "{i}");
    }
}
