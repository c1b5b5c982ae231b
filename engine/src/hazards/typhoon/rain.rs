//! Parametric tropical-cyclone rain: R-CLIPER (Tuleya et al. 2007) or IPET (2006)
//! axisymmetric rain-rate profiles moving with the storm. The China Meteorological
//! Administration's rainstorm warning levels applied to trailing accumulations are
//! shared with the design storm: [`crate::weather::RainWarnings`].

use rayon::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::track::StormState;
use super::wind::to_knots;

/// mm/h per inch/day.
const IN_DAY_TO_MM_H: f64 = 25.4 / 24.0;

/// Which rain-rate profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, Default)]
#[serde(rename_all = "snake_case")]
pub enum RainModel {
    /// R-CLIPER (Marks & DeMaria 2003; Tuleya et al. 2007, Wea. Forecasting 22:56).
    #[default]
    Rcliper,
    /// IPET (2006) pressure-deficit profile.
    Ipet,
}

/// Rain rate (mm/h) at distance r (m) from the centre of a storm with 1-min maximum
/// wind `vmax` (m/s) and pressure deficit `dp_hpa`.
pub fn rain_rate_mm_h(model: RainModel, r: f64, vmax: f64, dp_hpa: f64, rmw: f64) -> f64 {
    match model {
        RainModel::Rcliper => {
            let u = 1.0 + (to_knots(vmax) - 35.0) / 33.0;
            let t0 = -1.10 + 3.96 * u;
            let tm = -1.60 + 4.80 * u;
            let rm = (64.5 - 13.0 * u) * 1000.0;
            let re = (150.0 - 16.0 * u) * 1000.0;
            let in_day = if r < rm {
                t0 + (tm - t0) * r / rm
            } else {
                tm * (-(r - rm) / re).exp()
            };
            (in_day * IN_DAY_TO_MM_H).max(0.0)
        }
        RainModel::Ipet => {
            let r0 = (1.14 + 0.12 * dp_hpa).max(0.0);
            if r <= rmw {
                r0
            } else {
                r0 * (-0.3 * (r - rmw) / rmw).exp()
            }
        }
    }
}

/// Fill `rate` (m/s) over the grid for a storm state, scaled by `scale`.
#[allow(clippy::too_many_arguments)]
pub fn evaluate_grid(
    model: RainModel,
    state: &StormState,
    penv: f64,
    scale: f64,
    xs: &[f64],
    ys: &[f64],
    rate: &mut [f32],
) {
    let nx = xs.len();
    if !state.active {
        rate.fill(0.0);
        return;
    }
    let dp = ((penv - state.pc) / 100.0).max(0.0);
    rate.par_chunks_mut(nx).enumerate().for_each(|(j, row)| {
        let dy = ys[j] - state.y;
        for (i, out) in row.iter_mut().enumerate() {
            let r = (xs[i] - state.x).hypot(dy);
            let mm_h = scale * rain_rate_mm_h(model, r, state.vmax, dp, state.rmw);
            *out = (mm_h / 3.6e6) as f32;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hazards::typhoon::track::KNOT_M_S;

    #[test]
    fn rcliper_profile_shape() {
        let v = 65.0 * KNOT_M_S;
        // U = 1.909: T0 = 6.46, Tm = 7.56 in/day, rm = 39.7 km.
        let centre = rain_rate_mm_h(RainModel::Rcliper, 0.0, v, 50.0, 30_000.0);
        assert!((centre - 6.46 * IN_DAY_TO_MM_H).abs() < 0.01, "{centre}");
        let peak = rain_rate_mm_h(RainModel::Rcliper, 39_680.0, v, 50.0, 30_000.0);
        assert!((peak - 7.563 * IN_DAY_TO_MM_H).abs() < 0.02, "{peak}");
        let far = rain_rate_mm_h(RainModel::Rcliper, 500_000.0, v, 50.0, 30_000.0);
        assert!(far < 0.1 * peak && far >= 0.0);
    }

    #[test]
    fn ipet_profile_shape() {
        let r0 = rain_rate_mm_h(RainModel::Ipet, 10_000.0, 40.0, 50.0, 30_000.0);
        assert!((r0 - 7.14).abs() < 1e-9);
        let r = rain_rate_mm_h(RainModel::Ipet, 60_000.0, 40.0, 50.0, 30_000.0);
        assert!((r - 7.14 * (-0.3f64).exp()).abs() < 1e-9);
    }
}
