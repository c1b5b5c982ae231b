//! Still-water level at the coast: astronomical tide (harmonic constituents or a given
//! series) plus a parametric storm surge, the inverse barometer effect and a steady
//! one-dimensional wind set-up over a shelf of constant depth.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Sea-water density, kg/m³, and gravity, m/s².
pub const RHO_WATER: f64 = 1025.0;
pub const G: f64 = 9.81;

/// A tidal constituent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum Constituent {
    M2,
    S2,
    K1,
    O1,
}

impl Constituent {
    /// Angular speed, degrees per mean solar hour (Schureman 1958, Table 2; the
    /// standard Doodson speeds).
    pub fn speed_deg_h(self) -> f64 {
        match self {
            Self::M2 => 28.984_104_2,
            Self::S2 => 30.0,
            Self::K1 => 15.041_068_6,
            Self::O1 => 13.943_035_6,
        }
    }
}

/// One harmonic term: amplitude (m) and phase lag (degrees) relative to the scenario's
/// t = 0 (not Greenwich epoch; no nodal corrections).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TideTerm {
    pub constituent: Constituent,
    pub amplitude_m: f64,
    #[serde(default)]
    pub phase_deg: f64,
}

/// The tide at the coast.
#[derive(Debug, Clone)]
pub enum Tide {
    Harmonic {
        mean_m: f64,
        terms: Vec<TideTerm>,
    },
    /// (t s since start, level m), strictly increasing in t; linear in between, held at
    /// the ends.
    Series(Vec<(f64, f64)>),
}

impl Tide {
    pub fn level(&self, t: f64) -> f64 {
        match self {
            Tide::Harmonic { mean_m, terms } => {
                let h = t / 3600.0;
                mean_m
                    + terms
                        .iter()
                        .map(|c| {
                            c.amplitude_m
                                * (c.constituent.speed_deg_h() * h - c.phase_deg)
                                    .to_radians()
                                    .cos()
                        })
                        .sum::<f64>()
            }
            Tide::Series(s) => {
                if t <= s[0].0 {
                    return s[0].1;
                }
                if t >= s[s.len() - 1].0 {
                    return s[s.len() - 1].1;
                }
                let k = s.partition_point(|p| p.0 <= t) - 1;
                let (a, b) = (s[k], s[k + 1]);
                a.1 + (t - a.0) / (b.0 - a.0) * (b.1 - a.1)
            }
        }
    }
}

/// Read a tide series CSV with header `t_s,level_m`; errors name the line.
pub fn parse_tide_series(text: &str) -> Result<Vec<(f64, f64)>, (u64, String)> {
    let mut rd = csv::ReaderBuilder::new()
        .comment(Some(b'#'))
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let h = rd
        .headers()
        .map_err(|e| (1, format!("cannot read the header: {e}")))?
        .clone();
    if h.len() < 2 || &h[0] != "t_s" || &h[1] != "level_m" {
        return Err((1, "the header must be `t_s,level_m`".into()));
    }
    let mut out: Vec<(f64, f64)> = Vec::new();
    for rec in rd.records() {
        let rec = rec.map_err(|e| (e.position().map_or(0, |p| p.line()), e.to_string()))?;
        let line = rec.position().map_or(0, |p| p.line());
        let num = |k: usize| -> Result<f64, (u64, String)> {
            let s = rec.get(k).unwrap_or("");
            match s.parse::<f64>() {
                Ok(v) if v.is_finite() => Ok(v),
                _ => Err((line, format!("`{s}` is not a finite number"))),
            }
        };
        let (t, l) = (num(0)?, num(1)?);
        // The same bound as harmonic tides (mean ± 10 m, amplitudes ≤ 10 m).
        if !(-20.0..=20.0).contains(&l) {
            return Err((line, format!("level {l} m is outside −20 to 20 m")));
        }
        if let Some(p) = out.last()
            && t <= p.0
        {
            return Err((line, format!("time {t} s is not after the previous row's")));
        }
        out.push((t, l));
    }
    if out.is_empty() {
        return Err((1, "the tide series has no rows".into()));
    }
    Ok(out)
}

/// Inverse barometer rise for a local pressure deficit (Pa): Δp / (ρ_w g), m.
pub fn inverse_barometer_m(dp_pa: f64) -> f64 {
    dp_pa / (RHO_WATER * G)
}

/// 10-m neutral drag coefficient: Garratt (1977) C_d = (0.75 + 0.067 U) × 10⁻³, capped
/// at 2.5 × 10⁻³ for hurricane winds (Powell, Vickery & Reinhold 2003).
pub fn drag_coefficient(u10: f64) -> f64 {
    ((0.75 + 0.067 * u10) * 1e-3).min(2.5e-3)
}

/// Steady wind set-up at the head of a shelf of length L (m) and depth h (m) under an
/// onshore 10-m wind component `u_on` (m/s) of total speed `u10`: η = τ L / (ρ_w g h),
/// τ = ρ_a C_d |U| U_on. Negative for offshore wind (set-down).
pub fn wind_setup_m(u10: f64, u_on: f64, rho_air: f64, length: f64, depth: f64) -> f64 {
    let tau = rho_air * drag_coefficient(u10) * u10 * u_on;
    tau * length / (RHO_WATER * G * depth)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inverse_barometer_is_about_one_cm_per_hpa() {
        let per_hpa = inverse_barometer_m(100.0);
        assert!((per_hpa - 0.00994).abs() < 1e-4, "{per_hpa}");
    }

    #[test]
    fn setup_grows_with_wind_and_reverses_offshore() {
        let a = wind_setup_m(20.0, 20.0, 1.15, 50_000.0, 10.0);
        let b = wind_setup_m(40.0, 40.0, 1.15, 50_000.0, 10.0);
        assert!(a > 0.0 && b > 3.0 * a);
        assert!(wind_setup_m(20.0, -20.0, 1.15, 50_000.0, 10.0) < 0.0);
    }

    #[test]
    fn tide_harmonic_and_series() {
        let t = Tide::Harmonic {
            mean_m: 0.1,
            terms: vec![TideTerm {
                constituent: Constituent::S2,
                amplitude_m: 1.0,
                phase_deg: 0.0,
            }],
        };
        assert!((t.level(0.0) - 1.1).abs() < 1e-12);
        assert!(
            (t.level(6.0 * 3600.0) + 0.9).abs() < 1e-9,
            "S2 half period 6 h"
        );
        let s = Tide::Series(parse_tide_series("t_s,level_m\n0,0\n100,1\n").unwrap());
        assert!((s.level(25.0) - 0.25).abs() < 1e-12 && s.level(1e9) == 1.0);
        let e = parse_tide_series("t_s,level_m\n0,0\n0,1\n").unwrap_err();
        assert_eq!(e.0, 3);
        let e = parse_tide_series("t_s,level_m\n0,0\n5,nan\n").unwrap_err();
        assert_eq!(e.0, 3);
    }
}
