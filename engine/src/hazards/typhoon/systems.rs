//! The typhoon's systems: the forcing of every tick (wind and rain fields at forcing
//! steps, rain totals, the storm's position, the sea level, warnings), wind damage to
//! assets, and the finish.

use bevy_ecs::prelude::*;
use rayon::prelude::*;

use super::outputs::{self, SOURCE};
use super::state::TyphoonState;
use super::track::{self, StormState};
use super::wind::{self, Profile};
use super::{rain, surge};
use crate::city::AssetKind;
use crate::city::assets::{Asset, Operational};
use crate::coupling::{AssetFailureOwner, RainRate, SeaLevel, SurfaceWind, Warnings};
use crate::events::{EventLog, Place, Severity};
use crate::grid::GridSpec;
use crate::metrics::{Metrics, OutputDef};
use crate::sim::{MapOutputs, RunHealth, SimClock};
use crate::weather::{CMA_RAINSTORM, CMA_TYPHOON, LEVEL_SEVERITY};

/// Distances of the storm centre from the city centre that are announced once, km.
const APPROACHES: [(f64, OutputDef, Severity); 2] = [
    (200.0, outputs::WITHIN_200KM, Severity::Moderate),
    (100.0, outputs::WITHIN_100KM, Severity::Major),
];

/// A place on the map with its cell (any point, not only a cell centre).
fn place(grid: &GridSpec, x: f64, y: f64, name: Option<String>) -> Place {
    Place {
        x,
        y,
        cell: grid.locate(x, y).map(|(i, j)| [i as u32, j as u32]),
        name,
    }
}

/// Phase::Forcing: the storm now; fields at forcing steps; rain totals, sea level,
/// gauges and warnings every tick.
#[allow(clippy::too_many_arguments)]
pub fn forcing(
    mut st: ResMut<TyphoonState>,
    clock: Res<SimClock>,
    mut wind: ResMut<SurfaceWind>,
    mut rain: ResMut<RainRate>,
    mut sea: ResMut<SeaLevel>,
    mut metrics: ResMut<Metrics>,
    mut log: ResMut<EventLog>,
    mut health: ResMut<RunHealth>,
    mut warnings: ResMut<Warnings>,
) {
    let st = &mut *st;
    let t = clock.t();
    let storm = st.inputs.track.state(t, &st.inputs.proj);
    if st.forcing_due(t) {
        if let Err(msg) = evaluate_fields(st, &storm, &mut wind, &mut rain, t) {
            health.fail(msg);
            return;
        }
        field_gauges(st, &wind, &rain, t, &mut metrics);
        typhoon_signals(st, &wind, t, &mut warnings, &mut log);
        pedestrian_exposure(st, &wind, t, &mut metrics, &mut log);
    }
    rain_totals(st, &rain, t, clock.dt, &mut warnings, &mut log);
    let prof = storm_position(st, &storm, t, &mut metrics, &mut log);
    let (level, surge_m) = coast_level(st, &storm, prof, t);
    if !level.is_finite() {
        health.fail(format!("typhoon: sea level is {level} at t={t} s"));
        return;
    }
    sea.0 = level;
    sea_level(st, level, surge_m, t, &mut metrics, &mut warnings, &mut log);
    metrics.set(st.gauges.assets_failed, st.peaks.failed as f64);
}

/// The wind and rain fields of the storm over the grid; a failure message if either is
/// not finite.
fn evaluate_fields(
    st: &TyphoonState,
    storm: &StormState,
    w: &mut SurfaceWind,
    rain: &mut RainRate,
    t: f64,
) -> Result<(), String> {
    let inp = &st.inputs;
    wind::evaluate_grid(
        storm,
        &inp.params,
        &inp.xs,
        &inp.ys,
        &inp.water,
        &mut w.u,
        &mut w.v,
        &mut w.gust,
    );
    rain::evaluate_grid(
        inp.rain_model,
        storm,
        inp.params.penv,
        inp.rain_scale,
        &inp.xs,
        &inp.ys,
        &mut rain.0,
    );
    for (name, field) in [("gust", &w.gust), ("rain rate", &rain.0)] {
        if let Some(msg) = non_finite(name, field, &inp.grid, t) {
            return Err(msg);
        }
    }
    Ok(())
}

/// The first non-finite value of a field (lowest index, whatever the thread count), as a
/// failure message naming the cell and time.
pub fn non_finite(name: &str, field: &[f32], grid: &GridSpec, t: f64) -> Option<String> {
    let k = field.par_iter().position_first(|v| !v.is_finite())?;
    let (i, j) = grid.cell_of(k);
    Some(format!(
        "typhoon: {name} is {} at cell ({i},{j}), t={t} s",
        field[k]
    ))
}

/// The running per-cell maxima, the field gauges and the peak gust.
fn field_gauges(
    st: &mut TyphoonState,
    w: &SurfaceWind,
    rain: &RainRate,
    t: f64,
    metrics: &mut Metrics,
) {
    let peaks = &mut st.peaks;
    peaks
        .max_gust
        .par_iter_mut()
        .zip(peaks.max_wind.par_iter_mut())
        .zip(w.gust.par_iter())
        .zip(w.u.par_iter().zip(w.v.par_iter()))
        .for_each(|(((mg, mw), g), (u, v))| {
            *mg = mg.max(*g);
            *mw = mw.max(u.hypot(*v));
        });
    let gmax = w.gust.par_iter().copied().reduce(|| 0.0, f32::max);
    let wmax = (0..w.u.len())
        .into_par_iter()
        .map(|k| w.u[k].hypot(w.v[k]))
        .reduce(|| 0.0, f32::max);
    let (ids, center) = (&st.gauges, st.inputs.center);
    metrics.set(ids.gust_max, f64::from(gmax));
    metrics.set(ids.wind_max, f64::from(wmax));
    metrics.set(ids.wind_center, f64::from(w.speed(center)));
    metrics.set(ids.gust_center, f64::from(w.gust[center]));
    let rmax = rain.0.par_iter().copied().reduce(|| 0.0, f32::max);
    metrics.set(ids.rain_max, f64::from(rmax) * 3.6e6);
    metrics.set(ids.rain_center, f64::from(rain.0[center]) * 3.6e6);
    if gmax > peaks.peak_gust.0 {
        let k = w
            .gust
            .par_iter()
            .position_first(|&g| g == gmax)
            .unwrap_or(center);
        peaks.peak_gust = (gmax, t, k);
    }
}

/// Typhoon warning signals from the wind over land (CMA_TYPHOON).
fn typhoon_signals(
    st: &TyphoonState,
    w: &SurfaceWind,
    t: f64,
    warnings: &mut Warnings,
    log: &mut EventLog,
) {
    let inp = &st.inputs;
    let (land_wind, land_gust) = (0..w.u.len())
        .into_par_iter()
        .filter(|&k| !inp.water[k])
        .map(|k| (w.u[k].hypot(w.v[k]), w.gust[k]))
        .reduce(|| (0.0, 0.0), |a, b| (a.0.max(b.0), a.1.max(b.1)));
    for (k, &(name, mean, gust)) in CMA_TYPHOON.iter().enumerate() {
        if (f64::from(land_wind) >= mean || f64::from(land_gust) >= gust)
            && warnings.issue(&format!("typhoon_{name}"), t)
        {
            let (cx, cy) = inp.center_xy;
            log.emit(t, SOURCE, outputs::SIGNAL_ISSUED.name, LEVEL_SEVERITY[k])
                .at(place(&inp.grid, cx, cy, None))
                .message(format!(
                    "typhoon {name} signal: wind over land {land_wind:.1} m/s (10-min mean), \
                     gusts {land_gust:.1} m/s (CMA: mean ≥ {mean} or gust ≥ {gust} m/s)"
                ))
                .with("level", name)
                .with("warning", format!("typhoon_{name}"))
                .with("wind_m_s", f64::from(land_wind))
                .with("gust_m_s", f64::from(land_gust));
        }
    }
}

/// People and open ground under gusts above the pedestrian limits.
fn pedestrian_exposure(
    st: &mut TyphoonState,
    w: &SurfaceWind,
    t: f64,
    metrics: &mut Metrics,
    log: &mut EventLog,
) {
    let inp = &st.inputs;
    let grid = inp.grid;
    let all = inp.ped.all_gust_m_s as f32;
    let nx = grid.nx;
    let (cells, people): (Vec<u64>, Vec<f64>) = w
        .gust
        .par_chunks(nx)
        .zip(inp.open.par_chunks(nx))
        .zip(inp.people.par_chunks(nx))
        .map(|((g, o), p)| {
            let mut c = 0u64;
            let mut s = 0.0f64;
            for i in 0..g.len() {
                if g[i] >= all {
                    c += u64::from(o[i]);
                    s += f64::from(p[i]);
                }
            }
            (c, s)
        })
        .unzip();
    let unsafe_cells: u64 = cells.iter().sum();
    let exposed: f64 = people.iter().sum();
    metrics.set(
        st.gauges.unsafe_area,
        unsafe_cells as f64 * grid.cell_area(),
    );
    metrics.set(st.gauges.people_exposed, exposed.round());
    let limits = [
        (
            inp.ped.vulnerable_gust_m_s,
            "vulnerable",
            Severity::Moderate,
        ),
        (inp.ped.all_gust_m_s, "all", Severity::Major),
    ];
    let gmax_open = w
        .gust
        .par_iter()
        .zip(inp.open.par_iter())
        .map(|(g, &o)| if o { *g } else { 0.0 })
        .reduce(|| 0.0, f32::max);
    for (k, (lim, who, sev)) in limits.into_iter().enumerate() {
        if !st.alerts.ped_reached[k] && f64::from(gmax_open) >= lim {
            st.alerts.ped_reached[k] = true;
            let (cx, cy) = inp.center_xy;
            log.emit(t, SOURCE, outputs::PEDESTRIAN_UNSAFE.name, sev)
                .at(place(&grid, cx, cy, None))
                .message(format!(
                    "gusts over open ground reach {gmax_open:.1} m/s: unsafe outdoors for \
                     {} (limit {lim} m/s)",
                    if who == "all" {
                        "everyone"
                    } else {
                        "frail people and cyclists"
                    }
                ))
                .with("gust_m_s", f64::from(gmax_open))
                .with("limit_m_s", lim)
                .with("who", who)
                .with("people_exposed", exposed.round());
        }
    }
}

/// Rain totals every tick (per cell, independent of threads) and the CMA rainstorm
/// levels reached at the city centre.
fn rain_totals(
    st: &mut TyphoonState,
    rain: &RainRate,
    t: f64,
    dt: f64,
    warnings: &mut Warnings,
    log: &mut EventLog,
) {
    let inp = &st.inputs;
    let depth_center = f64::from(rain.0[inp.center]) * dt * 1000.0;
    st.peaks
        .total_rain_mm
        .par_iter_mut()
        .zip(rain.0.par_iter())
        .for_each(|(tot, r)| *tot += f64::from(*r) * dt * 1000.0);
    for (k, acc) in st.alerts.rain_warn.update(t + dt, depth_center) {
        let (name, hours, mm) = CMA_RAINSTORM[k];
        warnings.issue(&format!("rainstorm_{name}"), t + dt);
        let (cx, cy) = inp.center_xy;
        log.emit(
            t + dt,
            SOURCE,
            outputs::RAIN_WARNING.name,
            LEVEL_SEVERITY[k],
        )
        .at(place(&inp.grid, cx, cy, None))
        .message(format!(
            "rainstorm {name} level at the city centre: {acc:.0} mm in {hours} h \
                 (CMA threshold {mm} mm)"
        ))
        .with("level", name)
        .with("accumulation_mm", acc)
        .with("window_h", hours);
    }
}

/// Storm position, distance, approach and landfall: gauges and events. Returns the
/// storm's radial profile when the storm is present (outside the track's span the state
/// holds the first or last point).
fn storm_position(
    st: &mut TyphoonState,
    storm: &StormState,
    t: f64,
    metrics: &mut Metrics,
    log: &mut EventLog,
) -> Option<Profile> {
    let inp = &st.inputs;
    let ids = &st.gauges;
    let dist_km =
        track::haversine_m(storm.lat, storm.lon, inp.center_geo.0, inp.center_geo.1) / 1000.0;
    let (cx, cy) = inp.center_xy;
    if !storm.active {
        metrics.set(ids.distance, dist_km);
        metrics.set(ids.pc, inp.params.penv / 100.0);
        metrics.set(ids.p_center, inp.params.penv / 100.0);
        return None;
    }
    let prof = Profile::new(storm, &inp.params);
    metrics.set(ids.distance, dist_km);
    metrics.set(ids.pc, storm.pc / 100.0);
    let r_c = (cx - storm.x).hypot(cy - storm.y);
    let p_c = prof.map_or(inp.params.penv, |p| storm.pc + p.pressure_rise(r_c));
    metrics.set(ids.p_center, p_c / 100.0);
    if dist_km < st.peaks.min_distance.0 {
        st.peaks.min_distance = (dist_km, t);
    }
    approach(st, storm, dist_km, t, log);
    landfall(st, storm, dist_km, t, log);
    prof
}

/// The storm centre's first arrival within each of the `APPROACHES` distances.
fn approach(st: &mut TyphoonState, storm: &StormState, dist_km: f64, t: f64, log: &mut EventLog) {
    for (k, (lim, def, severity)) in APPROACHES.into_iter().enumerate() {
        if !st.alerts.within[k] && dist_km <= lim {
            st.alerts.within[k] = true;
            log.emit(t, SOURCE, def.name, severity)
                .at(place(
                    &st.inputs.grid,
                    storm.x,
                    storm.y,
                    Some("storm centre".into()),
                ))
                .message(format!(
                    "the storm centre is {dist_km:.0} km from the city (max wind {:.0} m/s, \
                     {:.0} hPa)",
                    storm.vmax,
                    storm.pc / 100.0
                ))
                .with("distance_km", dist_km)
                .with("vmax_1min_m_s", storm.vmax)
                .with("central_pressure_hpa", storm.pc / 100.0);
        }
    }
}

/// Landfall: a known landfall time, or the centre moving from a sea cell to a land cell
/// of the grid.
fn landfall(st: &mut TyphoonState, storm: &StormState, dist_km: f64, t: f64, log: &mut EventLog) {
    let grid = st.inputs.grid;
    let on_grid = grid.locate(storm.x, storm.y);
    let cell_sea = on_grid.map(|(i, j)| st.inputs.water[grid.index(i, j)]);
    let alerts = &mut st.alerts;
    let landfall_now = match st.inputs.synthetic_landfall {
        Some(tl) => t + 1e-9 >= tl,
        None => alerts.prev_storm_cell_sea == Some(true) && cell_sea == Some(false),
    };
    if landfall_now && !alerts.landfall_emitted {
        alerts.landfall_emitted = true;
        log.emit(t, SOURCE, outputs::LANDFALL.name, Severity::Critical)
            .at(place(&grid, storm.x, storm.y, Some("storm centre".into())))
            .message(format!(
                "landfall at {:.2}°N {:.2}°E, {dist_km:.0} km from the city centre",
                storm.lat, storm.lon
            ))
            .with("lat", storm.lat)
            .with("lon", storm.lon)
            .with("vmax_1min_m_s", storm.vmax)
            .with("central_pressure_hpa", storm.pc / 100.0);
    }
    alerts.prev_storm_cell_sea = cell_sea.or(alerts.prev_storm_cell_sea);
}

/// Sea level at the coast point, m above datum, and its surge: tide + inverse barometer
/// + wind set-up.
fn coast_level(st: &TyphoonState, storm: &StormState, prof: Option<Profile>, t: f64) -> (f64, f64) {
    let inp = &st.inputs;
    let mut surge_m = 0.0;
    if let Some(p) = prof {
        let (dx, dy) = (inp.coast_xy.0 - storm.x, inp.coast_xy.1 - storm.y);
        let r = dx.hypot(dy);
        surge_m += surge::inverse_barometer_m(p.dp - p.pressure_rise(r));
        if let Some((len, depth)) = inp.shelf {
            let params = &inp.params;
            let (wu, wv) = wind::wind_vector(&p, dx, dy, storm.vt, params.inflow, storm.lat >= 0.0);
            let k = params.one_to_ten_min;
            let (u10, v10) = (wu * k, wv * k);
            let u_on = u10 * inp.onshore.0 + v10 * inp.onshore.1;
            surge_m += surge::wind_setup_m(u10.hypot(v10), u_on, params.rho_air, len, depth);
        }
    }
    (inp.tide.level(t) + surge_m, surge_m)
}

/// The sea-level gauges, its peak, and the scenario's sea-level warnings.
fn sea_level(
    st: &mut TyphoonState,
    level: f64,
    surge_m: f64,
    t: f64,
    metrics: &mut Metrics,
    warnings: &mut Warnings,
    log: &mut EventLog,
) {
    metrics.set(st.gauges.sea_level, level);
    metrics.set(st.gauges.surge, surge_m);
    if level > st.peaks.peak_sea.0 {
        st.peaks.peak_sea = (level, t);
    }
    let inp = &st.inputs;
    for (k, wl) in inp.sea_warnings.iter().enumerate() {
        if !st.alerts.sea_level_reached[k] && level >= wl.level_m {
            st.alerts.sea_level_reached[k] = true;
            warnings.issue(&format!("sea_level_{}", wl.name), t);
            let (x, y) = inp.coast_xy;
            log.emit(t, SOURCE, outputs::SEA_LEVEL_WARNING.name, Severity::Major)
                .at(place(&inp.grid, x, y, Some("coast".into())))
                .message(format!(
                    "sea level {level:.2} m reaches the {} warning level ({:.2} m)",
                    wl.name, wl.level_m
                ))
                .with("level", wl.name.clone())
                .with("sea_level_m", level)
                .with("surge_m", surge_m)
                .with("threshold_m", wl.level_m);
        }
    }
}

/// Phase::Impacts: assets whose peak gust so far exceeds their drawn capacity fail.
pub fn wind_damage(
    mut st: ResMut<TyphoonState>,
    clock: Res<SimClock>,
    mut assets: Query<(&Asset, &mut Operational)>,
    mut log: ResMut<EventLog>,
    owner: Option<Res<AssetFailureOwner>>,
) {
    // The lifelines plugin, when present, owns asset failure (its own wind fragility).
    if owner.is_some() {
        return;
    }
    let st = &mut *st;
    let mut failed: Vec<(String, f64, f64, f64, f64, AssetKind)> = Vec::new();
    for (a, mut op) in &mut assets {
        if !op.0 {
            continue;
        }
        let Some((_, cap)) = st.inputs.capacities.iter().find(|(id, _)| *id == a.id) else {
            continue;
        };
        let g = f64::from(st.peaks.max_gust[a.cell]);
        if g >= *cap {
            op.0 = false;
            failed.push((a.id.clone(), g, *cap, a.x, a.y, a.kind));
        }
    }
    failed.sort_by(|a, b| a.0.cmp(&b.0));
    for (id, g, cap, x, y, kind) in failed {
        st.peaks.failed += 1;
        log.emit(
            clock.t(),
            SOURCE,
            outputs::ASSET_FAILED.name,
            Severity::Major,
        )
        .at(place(&st.inputs.grid, x, y, Some(id.clone())))
        .message(format!(
            "{} {id} failed in gusts of {g:.1} m/s (wind fragility)",
            kind.label()
        ))
        .with("gust_m_s", g)
        .with("capacity_m_s", cap)
        .with("cause", "wind");
    }
}

/// Finish: KPIs, the peak-gust and nearest-approach events, and the maps.
pub fn finish(
    st: Res<TyphoonState>,
    mut metrics: ResMut<Metrics>,
    mut log: ResMut<EventLog>,
    mut maps: ResMut<MapOutputs>,
) {
    let grid = st.inputs.grid;
    outputs::set_kpis(&st, &mut metrics);
    let (g, tg, k) = st.peaks.peak_gust;
    if g > 0.0 {
        let (i, j) = grid.cell_of(k);
        log.emit(tg, SOURCE, outputs::PEAK_GUST_EVENT.name, Severity::Major)
            .at(Place::of_cell(&grid, i, j))
            .message(format!("peak gust over the city: {g:.1} m/s"))
            .with("gust_m_s", f64::from(g));
    }
    let (distance, t_nearest) = st.peaks.min_distance;
    if distance.is_finite() {
        let (cx, cy) = st.inputs.center_xy;
        log.emit(
            t_nearest,
            SOURCE,
            outputs::NEAREST_APPROACH.name,
            Severity::Major,
        )
        .at(place(&grid, cx, cy, None))
        .message(format!(
            "closest approach of the storm centre: {distance:.0} km"
        ))
        .with("distance_km", distance);
    }
    maps.0.extend(outputs::maps(&st, grid));
}
