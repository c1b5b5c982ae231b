//! Parametric tropical-cyclone wind field: Holland (1980), Holland (2008) and Holland,
//! Belanger & Fritz (2010) radial profiles as implemented in CLIMADA, translation
//! asymmetry, inflow angle, reduction to the 10-m, 10-min wind over sea and land, and
//! the 3-s gust. Equations and sources: `docs/models/typhoon.md`.

use rayon::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::spec::{DEF_ENV_PRESSURE_HPA, WindOptions};
use super::track::{KNOT_M_S, StormState};

/// Earth's angular velocity, s⁻¹.
pub const OMEGA: f64 = 7.292e-5;

/// Which radial profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, Default)]
pub enum WindModel {
    /// Holland (1980), gradient level, B from v_max and Δp, reduced by 0.9 to the surface.
    #[serde(rename = "H80")]
    H80,
    /// Holland (2008): surface b_s from Δp, pressure tendency, latitude and v_t.
    #[serde(rename = "H08")]
    #[default]
    H08,
    /// Holland, Belanger & Fritz (2010): surface profile with an outer-wind constraint.
    #[serde(rename = "H10")]
    H10,
}

/// Parameters of the wind field (all defaults cited in `docs/models/typhoon.md`).
#[derive(Debug, Clone, Copy)]
pub struct WindParams {
    pub model: WindModel,
    /// Air density, kg/m³ (CLIMADA `DEF_RHO_AIR`).
    pub rho_air: f64,
    /// Environmental pressure, Pa.
    pub penv: f64,
    /// Gradient to 10-m wind (Franklin et al. 2003; CLIMADA), H80 only.
    pub gradient_to_surface: f64,
    /// Translation speed cap, m/s (CLIMADA: 30 kn).
    pub vt_cap: f64,
    /// Model inflow angle (Sobey et al. 1977 scheme).
    pub inflow: bool,
    /// 1-min sustained to 10-min mean at sea (Harper, Kepert & Ginger 2010).
    pub one_to_ten_min: f64,
    /// Roughness lengths, m: open sea and the land of the city.
    pub z0_sea: f64,
    pub z0_land: f64,
    /// Blending height of the roughness change, m (Wieringa 1986).
    pub blend_height: f64,
    /// 3-s gust / 10-min mean over sea and over land.
    pub gust_sea: f64,
    pub gust_land: f64,
    /// H10 outer constraint: wind v_n (m/s) at radius r_n (m).
    pub h10_vn: f64,
    pub h10_rn: f64,
}

impl WindParams {
    /// The wind field of the scenario options `o` under environmental pressure
    /// `penv_hpa`; the constants that are not options are CLIMADA's values and the
    /// sources given on each field.
    pub fn from_options(o: &WindOptions, penv_hpa: f64) -> Self {
        Self {
            model: o.model,
            rho_air: 1.15,
            penv: penv_hpa * 100.0,
            gradient_to_surface: 0.9,
            vt_cap: 30.0 * KNOT_M_S,
            inflow: o.inflow,
            one_to_ten_min: o.one_to_ten_min,
            z0_sea: o.sea_roughness_m,
            z0_land: o.land_roughness_m,
            blend_height: 60.0,
            gust_sea: o.gust_factor_sea,
            gust_land: o.gust_factor_land,
            h10_vn: o.h10_outer_wind_m_s,
            h10_rn: o.h10_outer_radius_km * 1000.0,
        }
    }

    /// The defaults a scenario without `[hazards.wind]` options gets.
    pub fn defaults(model: WindModel) -> Self {
        let o = WindOptions {
            model,
            ..WindOptions::default()
        };
        Self::from_options(&o, DEF_ENV_PRESSURE_HPA)
    }

    /// Ratio of the 10-m mean over land to the 10-m mean over sea for the same gradient
    /// flow: log profiles below a blending height where both agree (Wieringa 1986).
    pub fn land_ratio(&self) -> f64 {
        let h = self.blend_height;
        ((h / self.z0_sea).ln() / (h / self.z0_land).ln())
            * ((10.0 / self.z0_land).ln() / (10.0 / self.z0_sea).ln())
    }
}

/// Per-storm-state constants of the radial profile.
#[derive(Debug, Clone, Copy)]
pub struct Profile {
    pub model: WindModel,
    /// Pressure deficit, Pa.
    pub dp: f64,
    pub rmw: f64,
    /// Holland B (or b_s).
    pub b: f64,
    /// Half the Coriolis parameter, s⁻¹.
    pub half_f: f64,
    /// Maximum of the stationary surface profile, m/s (H10).
    pub vms: f64,
    /// H10 outer exponent x_n and its radius.
    pub xn: f64,
    pub rn: f64,
    /// Whether the profile is gradient level (H80) and needs the surface factor.
    pub surface_factor: f64,
    pub rho: f64,
}

impl Profile {
    /// The profile for a storm state; `None` if the storm has no pressure deficit.
    pub fn new(s: &StormState, p: &WindParams) -> Option<Self> {
        let dp = p.penv - s.pc;
        if dp.is_nan()
            || dp <= 0.0
            || s.rmw.is_nan()
            || s.rmw <= 0.0
            || s.vmax.is_nan()
            || s.vmax <= 0.0
        {
            return None;
        }
        let vt = (s.vt.0.hypot(s.vt.1)).min(p.vt_cap);
        let half_f = OMEGA * s.lat.to_radians().sin().abs();
        // Observed maxima include the translation: remove it (CLIMADA, after Mouton &
        // Nordbeck 2005) so adding the translation back restores v_max.
        let v_stat = (s.vmax - vt).max(0.0);
        let e = std::f64::consts::E;
        let (b, vms, surface_factor) = match p.model {
            WindModel::H80 => {
                let vg = v_stat / p.gradient_to_surface;
                let b = (p.rho_air * e * vg * vg / dp).clamp(1.0, 2.5);
                (b, vg, p.gradient_to_surface)
            }
            WindModel::H08 => {
                let dp_h = dp / 100.0;
                let x = 0.6 * (1.0 - dp_h / 215.0);
                let bs = -4.4e-5 * dp_h * dp_h + 0.01 * dp_h + 0.03 * s.dpdt_hpa_h
                    - 0.014 * s.lat.abs()
                    + 0.15 * vt.powf(x)
                    + 1.0;
                (bs.clamp(1.0, 2.5), v_stat, 1.0)
            }
            WindModel::H10 => {
                let bs = (p.rho_air * e * v_stat * v_stat / dp).clamp(1.0, 2.5);
                (bs, v_stat, 1.0)
            }
        };
        let mut xn = 0.5;
        if p.model == WindModel::H10 && p.h10_rn > s.rmw && vms > p.h10_vn {
            let q = (s.rmw / p.h10_rn).powf(b);
            let base = q * (1.0 - q).exp();
            xn = ((p.h10_vn / vms).ln() / base.ln()).max(0.4);
        }
        Some(Self {
            model: p.model,
            dp,
            rmw: s.rmw,
            b,
            half_f,
            vms,
            xn,
            rn: p.h10_rn,
            surface_factor,
            rho: p.rho_air,
        })
    }

    /// Pressure at radius r (Holland 1980 profile), Pa above the central pressure.
    pub fn pressure_rise(&self, r: f64) -> f64 {
        if r <= 0.0 {
            return 0.0;
        }
        self.dp * (-(self.rmw / r).powf(self.b)).exp()
    }

    /// Stationary tangential wind at radius r: gradient level for H80, surface for
    /// H08/H10 (before the surface factor), m/s.
    pub fn raw_speed(&self, r: f64) -> f64 {
        if r < 1.0 {
            return 0.0;
        }
        let q = (self.rmw / r).powf(self.b);
        match self.model {
            WindModel::H80 | WindModel::H08 => {
                let rf = r * self.half_f;
                ((self.b * self.dp / self.rho) * q * (-q).exp() + rf * rf).sqrt() - rf
            }
            WindModel::H10 => {
                let x = if r <= self.rmw {
                    0.5
                } else if r >= self.rn {
                    self.xn
                } else {
                    0.5 + (r - self.rmw) * (self.xn - 0.5) / (self.rn - self.rmw)
                };
                self.vms * (q * (1.0 - q).exp()).powf(x)
            }
        }
    }

    /// Stationary 1-min surface wind over sea at radius r, m/s.
    pub fn surface_speed(&self, r: f64) -> f64 {
        self.surface_factor * self.raw_speed(r)
    }
}

/// Inflow angle at radius r (Sobey, Harper & Stark 1977 scheme): 10° inside R_max,
/// rising linearly to 25° at 1.2 R_max, 25° beyond.
pub fn inflow_angle_deg(r: f64, rmw: f64) -> f64 {
    let q = r / rmw;
    if q < 1.0 {
        10.0
    } else if q < 1.2 {
        10.0 + 75.0 * (q - 1.0)
    } else {
        25.0
    }
}

/// The 1-min marine surface wind vector (u east, v north) at offset (dx, dy) m from the
/// storm centre: tangential (counter-clockwise in the northern hemisphere), turned
/// inward by the inflow angle, plus the translation weighted by min(1, R_max/r).
#[inline]
pub fn wind_vector(
    prof: &Profile,
    dx: f64,
    dy: f64,
    vt: (f64, f64),
    inflow: bool,
    north: bool,
) -> (f64, f64) {
    let r = (dx * dx + dy * dy).sqrt();
    if r < 1.0 {
        return (vt.0, vt.1);
    }
    let vs = prof.surface_speed(r);
    let (rx, ry) = (dx / r, dy / r);
    // Counter-clockwise tangent in the NH, clockwise in the SH.
    let (tx, ty) = if north { (-ry, rx) } else { (ry, -rx) };
    // Sines and cosines of the constant parts of the inflow angle (10° and 25°).
    const IN: (f64, f64) = (0.173_648_177_666_930_3, 0.984_807_753_012_208);
    const OUT: (f64, f64) = (0.422_618_261_740_699_4, 0.906_307_787_036_649_9);
    let (sa, ca) = if !inflow {
        (0.0, 1.0)
    } else if r < prof.rmw {
        IN
    } else if r >= 1.2 * prof.rmw {
        OUT
    } else {
        inflow_angle_deg(r, prof.rmw).to_radians().sin_cos()
    };
    let w = (prof.rmw / r).min(1.0);
    (
        vs * (ca * tx - sa * rx) + w * vt.0,
        vs * (ca * ty - sa * ry) + w * vt.1,
    )
}

/// Evaluate the 10-m, 10-min wind and the 3-s gust over a grid. `xs[i]` and `ys[j]` are
/// the map coordinates of column i and row j; `water[k]` marks open-water cells. Rows
/// are processed in parallel; every cell is independent, so the result does not depend
/// on the thread count.
#[allow(clippy::too_many_arguments)]
pub fn evaluate_grid(
    state: &StormState,
    params: &WindParams,
    xs: &[f64],
    ys: &[f64],
    water: &[bool],
    u: &mut [f32],
    v: &mut [f32],
    gust: &mut [f32],
) {
    let nx = xs.len();
    let Some(prof) = (state.active)
        .then(|| Profile::new(state, params))
        .flatten()
    else {
        u.fill(0.0);
        v.fill(0.0);
        gust.fill(0.0);
        return;
    };
    let vt_mag = state.vt.0.hypot(state.vt.1);
    let scale = if vt_mag > params.vt_cap {
        params.vt_cap / vt_mag
    } else {
        1.0
    };
    let vt = (state.vt.0 * scale, state.vt.1 * scale);
    let north = state.lat >= 0.0;
    let sea_f = params.one_to_ten_min;
    let land_f = params.one_to_ten_min * params.land_ratio();
    let (gs, gl) = (params.gust_sea, params.gust_land);
    u.par_chunks_mut(nx)
        .zip(v.par_chunks_mut(nx))
        .zip(gust.par_chunks_mut(nx))
        .zip(water.par_chunks(nx))
        .enumerate()
        .for_each(|(j, (((ur, vr), gr), wr))| {
            let dy = ys[j] - state.y;
            for i in 0..nx {
                let (wu, wv) = wind_vector(&prof, xs[i] - state.x, dy, vt, params.inflow, north);
                let (f, g) = if wr[i] { (sea_f, gs) } else { (land_f, gl) };
                let (mu, mv) = (wu * f, wv * f);
                ur[i] = mu as f32;
                vr[i] = mv as f32;
                gr[i] = ((mu * mu + mv * mv).sqrt() * g) as f32;
            }
        });
}

/// 1-min sustained wind in knots (for R-CLIPER's intensity term).
pub fn to_knots(v_m_s: f64) -> f64 {
    v_m_s / KNOT_M_S
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn params(model: WindModel) -> WindParams {
        WindParams::defaults(model)
    }

    fn storm() -> StormState {
        StormState {
            lat: 22.0,
            lon: 114.0,
            x: 0.0,
            y: 0.0,
            vmax: 50.0,
            pc: 95_000.0,
            rmw: 30_000.0,
            vt: (0.0, 5.0),
            dpdt_hpa_h: 0.0,
            active: true,
        }
    }

    #[test]
    fn inflow_constants_match_the_angles() {
        let p = Profile::new(&storm(), &params(WindModel::H80)).unwrap();
        for r in [10_000.0, 33_000.0, 80_000.0] {
            let a = inflow_angle_deg(r, p.rmw).to_radians();
            let (u, v) = wind_vector(&p, r, 0.0, (0.0, 0.0), true, true);
            // East of the centre: tangential is north, inflow points west.
            assert!((u.atan2(v) + a).abs() < 1e-12, "r={r}");
        }
    }

    #[test]
    fn land_reduction_is_plausible() {
        let r = params(WindModel::H80).land_ratio();
        assert!((0.8..0.9).contains(&r), "{r}");
    }

    #[test]
    fn no_nan_at_the_centre_and_far_away() {
        for m in [WindModel::H80, WindModel::H08, WindModel::H10] {
            let p = Profile::new(&storm(), &params(m)).unwrap();
            for r in [0.0, 0.5, 1.0, 10.0, 1e7] {
                let v = p.surface_speed(r);
                assert!(v.is_finite() && v >= 0.0, "{m:?} r={r}: {v}");
            }
            let (u, v) = wind_vector(&p, 0.0, 0.0, (0.0, 5.0), true, true);
            assert!(u.is_finite() && v.is_finite());
        }
    }

    #[test]
    fn grid_is_independent_of_threads() {
        let (nx, ny) = (37, 23);
        let xs: Vec<f64> = (0..nx).map(|i| i as f64 * 1000.0 - 10_000.0).collect();
        let ys: Vec<f64> = (0..ny).map(|j| 20_000.0 - j as f64 * 1000.0).collect();
        let water: Vec<bool> = (0..nx * ny).map(|k| k % 3 == 0).collect();
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let (mut u, mut v, mut g) = (
                vec![0f32; nx * ny],
                vec![0f32; nx * ny],
                vec![0f32; nx * ny],
            );
            pool.install(|| {
                evaluate_grid(
                    &storm(),
                    &params(WindModel::H08),
                    &xs,
                    &ys,
                    &water,
                    &mut u,
                    &mut v,
                    &mut g,
                )
            });
            (u, v, g)
        };
        assert_eq!(run(1), run(2));
        let (u, _, g) = run(2);
        assert!(u.iter().any(|&x| x != 0.0) && g.iter().all(|x| x.is_finite()));
    }
}
