//! Who walks how fast, and when they start.
//!
//! Desired speeds: RiMEA 4.1.1 (Guideline for Microscopic Evacuation Analysis, Annex
//! "Test 7") age groups, from Weidmann's (1993) age table: under 30 years 0.58–1.61 m/s,
//! 30–50 years 1.41–1.54 m/s, over 50 years 0.68–1.41 m/s, limited mobility 0.46–0.76 m/s,
//! drawn uniformly within each band (as RiMEA Test 7 does). Alternatively Weidmann's
//! overall distribution, normal with mean 1.34 m/s and σ = 0.26 m/s, truncated to the
//! RiMEA overall range [0.46, 1.61] m/s.
//!
//! Group shares default to Futian district's 2020 census age structure
//! (`data/shenzhen_districts_census2020.csv`): 0–29 y 41.69 %, 30–49 y 37.91 %,
//! 50–64 y 14.93 %, 65+ y 5.47 %; the 65+ share is used as the share of people with
//! limited mobility (a proxy: the census has no mobility question).
//!
//! Pre-movement delays: lognormal (Lovreglio, Ronchi & Nilsson 2015, Fire Safety Journal
//! 78:33, and ISO/TR 16738:2009 use lognormal fits), parameterised by median and log-sd.

use rand::RngExt;
use rand_distr::{Distribution, LogNormal, Normal};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// RiMEA / Weidmann speed bands, m/s: (label, lo, hi).
pub const AGE_BANDS: [(&str, f64, f64); 4] = [
    ("under 30", 0.58, 1.61),
    ("30 to 50", 1.41, 1.54),
    ("over 50", 0.68, 1.41),
    ("limited mobility", 0.46, 0.76),
];

/// Futian 2020 census shares of the four bands (see module doc).
pub const FUTIAN_SHARES: [f64; 4] = [0.4169, 0.3791, 0.1493, 0.0547];

/// Weidmann (1993) free walking speed: mean and standard deviation, m/s.
pub const WEIDMANN_MEAN: f64 = 1.34;
pub const WEIDMANN_SD: f64 = 0.26;

/// How desired speeds are drawn.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "dist", rename_all = "snake_case", deny_unknown_fields)]
pub enum SpeedSpec {
    /// RiMEA age groups with these shares (under 30, 30–50, over 50, limited mobility).
    AgeGroups {
        #[serde(default = "futian")]
        shares: [f64; 4],
    },
    /// Weidmann's normal distribution N(1.34, 0.26) m/s, truncated to [0.46, 1.61].
    Weidmann,
    /// Everyone at the same speed (tests).
    Fixed { speed_m_s: f64 },
}

fn futian() -> [f64; 4] {
    FUTIAN_SHARES
}

impl Default for SpeedSpec {
    fn default() -> Self {
        Self::AgeGroups {
            shares: FUTIAN_SHARES,
        }
    }
}

impl SpeedSpec {
    /// Draw one desired speed and its band (0–3, or 4 for non-band draws).
    pub fn draw(&self, rng: &mut impl rand::Rng) -> (f32, u8) {
        match self {
            Self::AgeGroups { shares } => {
                let total: f64 = shares.iter().sum();
                let u = rng.random::<f64>() * total;
                let mut acc = 0.0;
                let mut band = 3;
                for (k, s) in shares.iter().enumerate() {
                    acc += s;
                    if u < acc {
                        band = k;
                        break;
                    }
                }
                let (_, lo, hi) = AGE_BANDS[band];
                (rng.random_range(lo..=hi) as f32, band as u8)
            }
            Self::Weidmann => {
                let n = Normal::new(WEIDMANN_MEAN, WEIDMANN_SD).expect("valid normal");
                loop {
                    let v = n.sample(rng);
                    if (0.46..=1.61).contains(&v) {
                        return (v as f32, 4);
                    }
                }
            }
            Self::Fixed { speed_m_s } => (*speed_m_s as f32, 4),
        }
    }
}

/// A lognormal pre-movement delay, s.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PremovementSpec {
    /// Median delay, s.
    pub median_s: f64,
    /// Standard deviation of ln(delay).
    pub log_sd: f64,
}

impl PremovementSpec {
    pub fn draw(&self, rng: &mut impl rand::Rng) -> f64 {
        if self.log_sd <= 0.0 {
            return self.median_s;
        }
        LogNormal::new(self.median_s.ln(), self.log_sd)
            .expect("checked parameters")
            .sample(rng)
    }
}
