//! The typhoon's pure setup: spec and build context (city, paths, clock, population,
//! random streams) → the kernel inputs, with every check that needs the city or the
//! input files. `Plugin::check` runs it without a simulation (`crucible check`);
//! `Plugin::build` runs it, then only inserts resources and adds systems.

use std::path::Path;

use rand_distr::{Distribution, StandardNormal};

use super::spec::{Averaging, PedestrianOptions, SeaWarning, TrackSpec, TyphoonSpec};
use super::surge::{self, Tide};
use super::track::{self, KNOT_M_S, LocalProjection, Synthetic, Track};
use super::wind::WindParams;
use crate::city::{LandUse, NO_BUILDING};
use crate::grid::GridSpec;
use crate::sim::{BuildContext, BuildError};

/// What the forcing needs for the whole run, fixed at build time.
#[derive(Debug)]
pub struct TyphoonInputs {
    pub grid: GridSpec,
    pub track: Track,
    pub proj: LocalProjection,
    pub params: WindParams,
    pub rain_model: super::rain::RainModel,
    pub rain_scale: f64,
    /// Interval between field evaluations, s: the spec's, rounded to whole ticks.
    pub forcing_step: f64,
    /// Map coordinates of column centres and row centres.
    pub xs: Vec<f64>,
    pub ys: Vec<f64>,
    pub water: Vec<bool>,
    /// Open ground where people may be outdoors (open, road, green).
    pub open: Vec<bool>,
    /// People per cell (day or night occupancy).
    pub people: Vec<f32>,
    /// The grid cell holding the city centre.
    pub center: usize,
    /// The grid's midpoint, map m and degrees.
    pub center_xy: (f64, f64),
    pub center_geo: (f64, f64),
    pub coast_xy: (f64, f64),
    /// Unit vector from sea to land at the coast (east, north).
    pub onshore: (f64, f64),
    /// Shelf length (m) and depth (m) for the wind set-up.
    pub shelf: Option<(f64, f64)>,
    pub tide: Tide,
    pub sea_warnings: Vec<SeaWarning>,
    pub ped: PedestrianOptions,
    /// Per asset id: drawn gust capacity, m/s.
    pub capacities: Vec<(String, f64)>,
    /// Known landfall time, s (synthetic track or `landfall_utc`).
    pub synthetic_landfall: Option<f64>,
}

/// The setup's result: the kernel inputs and the warnings about the inputs (filled
/// gaps, a storm that never comes near), which the build turns into events.
pub struct Setup {
    pub inputs: TyphoonInputs,
    pub warnings: Vec<String>,
}

/// The kernel inputs of one typhoon entry, or the located error of its first bad input.
pub fn setup(spec: &TyphoonSpec, ctx: &BuildContext) -> Result<Setup, BuildError> {
    let grid = ctx.city.grid;
    let proj = LocalProjection::new(spec.origin_lat, spec.origin_lon, grid.x0, grid.y0);
    let mut warnings: Vec<String> = Vec::new();
    let center_xy = (
        grid.x0 + grid.width_m() / 2.0,
        grid.y0 + grid.height_m() / 2.0,
    );
    let center_geo = proj.to_geo(center_xy.0, center_xy.1);
    let (track, synthetic_landfall) = track(spec, ctx, center_geo, &mut warnings)?;
    if let Some(w) = far_storm_warning(spec, ctx, &track, &proj, center_geo) {
        warnings.push(w);
    }
    let tide = tide(spec, ctx)?;
    let coast_xy = (
        spec.surge.coast_x_m.unwrap_or(center_xy.0),
        spec.surge.coast_y_m.unwrap_or(grid.y0),
    );
    let on = spec.surge.onshore_to_deg.to_radians();
    let shelf = spec
        .surge
        .shelf_length_km
        .zip(spec.surge.shelf_depth_m)
        .map(|(l, d)| (l * 1000.0, d));
    let cells = Cells::of(ctx);
    let center = {
        let (i, j) = grid
            .locate(center_xy.0, center_xy.1)
            .unwrap_or((grid.nx / 2, grid.ny / 2));
        grid.index(i, j)
    };
    let inputs = TyphoonInputs {
        grid,
        track,
        proj,
        params: wind_params(spec),
        rain_model: spec.rain.model,
        rain_scale: spec.rain.scale,
        forcing_step: (spec.forcing_step_s / ctx.tick_s).round().max(1.0) * ctx.tick_s,
        xs: cells.xs,
        ys: cells.ys,
        water: cells.water,
        open: cells.open,
        people: cells.people,
        center,
        center_xy,
        center_geo,
        coast_xy,
        onshore: (on.sin(), on.cos()),
        shelf,
        tide,
        sea_warnings: spec.surge.warning_levels.clone(),
        ped: spec.pedestrians.clone(),
        capacities: draw_capacities(spec, ctx),
        synthetic_landfall,
    };
    Ok(Setup { inputs, warnings })
}

/// The wind field of the spec's options.
pub fn wind_params(spec: &TyphoonSpec) -> WindParams {
    WindParams::from_options(&spec.wind, spec.env_pressure_hpa)
}

/// The storm track and its known landfall time, s from the scenario start (synthetic
/// track or `landfall_utc`).
fn track(
    spec: &TyphoonSpec,
    ctx: &BuildContext,
    center_geo: (f64, f64),
    warnings: &mut Vec<String>,
) -> Result<(Track, Option<f64>), BuildError> {
    match &spec.track {
        TrackSpec::Csv {
            file,
            wind_averaging,
            max_gap_h,
            landfall_utc,
        } => {
            let scale = match wind_averaging {
                Averaging::OneMinute => 1.0,
                Averaging::TenMinute => 1.0 / spec.wind.one_to_ten_min,
            };
            let path = ctx.resolve(file);
            csv_track(
                ctx,
                &path,
                scale,
                *max_gap_h,
                landfall_utc.as_deref(),
                warnings,
            )
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
            inland_decay,
        } => {
            // A straight track through the landfall point (default: the grid's centre).
            let lat = landfall_lat.unwrap_or(center_geo.0);
            let lon = landfall_lon.unwrap_or(center_geo.1);
            let pc = central_pressure(spec, ctx, *central_pressure_hpa, *vmax_m_s, warnings)?;
            let rmw = rmw_m(*rmw_km, *vmax_m_s, lat, warnings);
            let track = Track::Synthetic(Synthetic {
                lat,
                lon,
                t_landfall: *landfall_time_s,
                heading_deg: *heading_deg,
                speed_m_s: *forward_speed_m_s,
                vmax: *vmax_m_s,
                pc: pc * 100.0,
                rmw,
                inland_decay: *inland_decay,
                penv: spec.env_pressure_hpa * 100.0,
            });
            Ok((track, Some(*landfall_time_s)))
        }
    }
}

/// A best track read from its file with its winds scaled to 1-min, times from the
/// scenario start (else the track's first point), and the official landfall time when
/// given.
fn csv_track(
    ctx: &BuildContext,
    path: &Path,
    wind_scale: f64,
    max_gap_h: f64,
    landfall_utc: Option<&str>,
    warnings: &mut Vec<String>,
) -> Result<(Track, Option<f64>), BuildError> {
    let at = ctx.at.key("track");
    let bt = track::read_best_track(path, wind_scale, max_gap_h).map_err(|e| {
        BuildError::new(
            at.key("file"),
            if e.line > 0 {
                format!("{}:{}: {}", path.display(), e.line, e.message)
            } else {
                e.message
            },
        )
    })?;
    for w in &bt.warnings {
        warnings.push(format!("{}: {w}", path.display()));
    }
    let t0 = ctx.start_utc.unwrap_or(bt.points[0].time);
    let mut landfall = None;
    if let Some(txt) = landfall_utc {
        let tl =
            crate::time::parse_utc(txt).map_err(|m| BuildError::new(at.key("landfall_utc"), m))?;
        landfall = Some(tl - t0);
    }
    let pts = bt.relative_to(t0);
    let duration = ctx.duration_s;
    if pts[pts.len() - 1].time < 0.0 || pts[0].time > duration {
        warnings.push(format!(
            "{}: the track does not overlap the run ({} s from the scenario start): \
             no storm will be present",
            path.display(),
            duration
        ));
    }
    Ok((Track::Points(pts), landfall))
}

/// The synthetic storm's central pressure, hPa: given, or from its wind by Atkinson &
/// Holliday (1977); it must be below the environmental pressure.
fn central_pressure(
    spec: &TyphoonSpec,
    ctx: &BuildContext,
    given: Option<f64>,
    vmax_m_s: f64,
    warnings: &mut Vec<String>,
) -> Result<f64, BuildError> {
    let pc = match given {
        Some(p) => p,
        None => {
            let p = track::pressure_from_wind_ah77(vmax_m_s / KNOT_M_S);
            warnings.push(format!(
                "synthetic track: central pressure {p:.1} hPa from the wind by \
                 Atkinson & Holliday (1977)"
            ));
            p
        }
    };
    if pc >= spec.env_pressure_hpa {
        return Err(BuildError::new(
            ctx.at.key("track").key("vmax_m_s"),
            format!(
                "the central pressure ({pc:.1} hPa) is not below the environmental \
                 pressure ({} hPa)",
                spec.env_pressure_hpa
            ),
        ));
    }
    Ok(pc)
}

/// The synthetic storm's radius of maximum wind, m: given, or by Willoughby, Darling &
/// Rahn (2006).
fn rmw_m(given_km: Option<f64>, vmax_m_s: f64, lat: f64, warnings: &mut Vec<String>) -> f64 {
    match given_km {
        Some(r) => r * 1000.0,
        None => {
            let r = track::rmw_willoughby_2006(vmax_m_s, lat);
            warnings.push(format!(
                "synthetic track: radius of maximum wind {:.1} km by Willoughby, \
                 Darling & Rahn (2006)",
                r / 1000.0
            ));
            r
        }
    }
}

/// A warning when the storm never comes within `far_warning_km` of the city during the
/// run. (At most 10^5 samples: a tiny forcing step, which the run rounds up to a tick,
/// must not make this scan endless.)
fn far_storm_warning(
    spec: &TyphoonSpec,
    ctx: &BuildContext,
    track: &Track,
    proj: &LocalProjection,
    center_geo: (f64, f64),
) -> Option<String> {
    let duration = ctx.duration_s;
    let scan_step = spec.forcing_step_s.max(duration / 1e5);
    let steps = (duration / scan_step).ceil().max(1.0) as usize;
    let closest = (0..=steps)
        .map(|k| {
            let st = track.state((k as f64 * scan_step).min(duration), proj);
            if st.active {
                track::haversine_m(st.lat, st.lon, center_geo.0, center_geo.1)
            } else {
                f64::INFINITY
            }
        })
        .fold(f64::INFINITY, f64::min);
    (closest > spec.far_warning_km * 1000.0).then(|| {
        format!(
            "the storm never comes within {} km of the city during the run (closest {}): \
             expect little wind or rain",
            spec.far_warning_km,
            if closest.is_finite() {
                format!("{:.0} km", closest / 1000.0)
            } else {
                "never present".to_string()
            }
        )
    })
}

/// The astronomical tide: a series read from its file, or the harmonic constituents.
fn tide(spec: &TyphoonSpec, ctx: &BuildContext) -> Result<Tide, BuildError> {
    let Some(p) = &spec.surge.tide_csv else {
        return Ok(Tide::Harmonic {
            mean_m: spec.surge.mean_level_m,
            terms: spec.surge.tide.clone(),
        });
    };
    let at = ctx.at.key("surge").key("tide_csv");
    let path = ctx.resolve(p);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| BuildError::new(at.clone(), format!("cannot read {}: {e}", path.display())))?;
    let series = surge::parse_tide_series(&text)
        .map_err(|(line, m)| BuildError::new(at, format!("{}:{line}: {m}", path.display())))?;
    Ok(Tide::Series(series))
}

/// Per-cell inputs from the city: cell centres, water, open ground, people.
struct Cells {
    xs: Vec<f64>,
    ys: Vec<f64>,
    water: Vec<bool>,
    open: Vec<bool>,
    people: Vec<f32>,
}

impl Cells {
    fn of(ctx: &BuildContext) -> Self {
        let city = ctx.city;
        let grid = city.grid;
        let area = grid.cell_area() as f32;
        Self {
            xs: (0..grid.nx).map(|i| grid.center(i, 0).0).collect(),
            ys: (0..grid.ny).map(|j| grid.center(0, j).1).collect(),
            water: city
                .landuse
                .iter()
                .map(|l| matches!(l, LandUse::Water | LandUse::Sea))
                .collect(),
            open: city
                .landuse
                .iter()
                .map(|l| matches!(l, LandUse::Open | LandUse::Road | LandUse::Green))
                .collect(),
            people: city
                .building
                .iter()
                .map(|&b| {
                    if b == NO_BUILDING {
                        0.0
                    } else {
                        let b = &city.buildings[b as usize];
                        ctx.population.occupants(b) * area / b.footprint_m2
                    }
                })
                .collect(),
        }
    }
}

/// Fragility: one lognormal capacity per asset, drawn from the run's streams (keyed by
/// the asset's id, so other assets added or removed change nothing).
fn draw_capacities(spec: &TyphoonSpec, ctx: &BuildContext) -> Vec<(String, f64)> {
    let mut capacities = Vec::new();
    if spec.fragility.enabled {
        for a in &ctx.city.assets {
            if let Some(c) = spec.fragility.curves.iter().find(|c| c.kind == a.kind) {
                let mut r = ctx.streams.keyed("typhoon.fragility", &a.id);
                let z: f64 = StandardNormal.sample(&mut r);
                capacities.push((a.id.clone(), c.median_gust_m_s * (c.beta * z).exp()));
            }
        }
    }
    capacities
}
