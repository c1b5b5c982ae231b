//! The flood's systems: the overland flow each tick (Phase::Hazards), its consequences
//! (Phase::Impacts: closures, damage, asset failures, exposure, gauges) and the outputs
//! at the end. Each system is a list of named steps below it.

use bevy_ecs::prelude::*;

use super::impacts::{hazard_class, hazard_rating};
use super::outputs::{self, FloodGauges};
use super::solver::Signal;
use super::state::FloodState;
use crate::city::assets::Operational;
use crate::city::{Asset, AssetKind, City};
use crate::coupling::{AssetFailureOwner, Closures, RainRate, SeaLevel, WaterDepth, blocked};
use crate::events::{EventLog, Place, Severity};
use crate::metrics::Metrics;
use crate::sim::{MapOutputs, RunHealth, SimClock};

/// Depth classes of the flooded-area gauges, m (lower bounds; the first is GB 51222's
/// 0.15 m).
pub const CLASS_EDGES: [f32; 5] = [0.15, 0.3, 0.5, 1.0, f32::INFINITY];

/// The source of the flood's events.
const SOURCE: &str = "flood";

/// Phase::Hazards: rain and losses for this tick, then overland flow to the tick's end.
#[allow(clippy::too_many_arguments)]
pub fn flood_step(
    mut st: ResMut<FloodState>,
    clock: Res<SimClock>,
    rain: Option<Res<RainRate>>,
    sea: Option<Res<SeaLevel>>,
    pumps: Query<(&Asset, &Operational)>,
    mut depth: ResMut<WaterDepth>,
    mut health: ResMut<RunHealth>,
    mut metrics: ResMut<Metrics>,
    gauges: Res<FloodGauges>,
) {
    let st = &mut *st;
    let (t0, t1) = (clock.t(), clock.t_end());
    let dt = t1 - t0;
    let stepped = apply_sea_level(st, sea.map(|s| s.0), t0)
        .and_then(|()| take_rain(st, rain.as_deref(), t0, dt))
        .and_then(|()| {
            set_losses(st, dt);
            add_pump_losses(st, &pumps);
            advance(st, t1)
        });
    match stepped {
        Ok(substeps) => metrics.set(gauges.substeps, substeps as f64),
        Err(msg) => {
            health.fail(msg);
            return;
        }
    }
    depth.0.copy_from_slice(&st.solver.h);
    record_maxima(st);
}

/// Hold the sea cells at the sea level of a forcing plugin (or mean sea level); at the
/// first tick, decide the sea's handling.
fn apply_sea_level(st: &mut FloodState, sea_now: Option<f64>, t0: f64) -> Result<(), String> {
    if let Some(l) = sea_now
        && !l.is_finite()
    {
        return Err(format!("flood: sea level is not a number at t={t0} s"));
    }
    if !st.initialised {
        st.initialise(sea_now);
    }
    if let Some(idx) = st.sea_level_index {
        st.solver.levels[idx].level = Signal::Const(sea_now.unwrap_or(st.spec.mean_sea_level_m));
    }
    Ok(())
}

/// Rain on the surface from the shared forcing field (a design storm or a typhoon), if
/// any; rain on solid roofs goes to the downpipes (`roof_rain`).
fn take_rain(st: &mut FloodState, rain: Option<&RainRate>, t0: f64, dt: f64) -> Result<(), String> {
    let area = st.grid.cell_area();
    let mut roof = 0.0f64;
    match rain {
        Some(r) => {
            if r.0.len() != st.rain.len() {
                return Err("flood: RainRate does not match the grid".into());
            }
            for (k, &v) in r.0.iter().enumerate() {
                if !v.is_finite() || v < 0.0 {
                    let (i, j) = st.grid.cell_of(k);
                    return Err(format!(
                        "flood: rain rate {v} at cell ({i},{j}), t={t0} s is not a finite non-negative number"
                    ));
                }
                if st.solid[k] {
                    roof += f64::from(v);
                    st.rain[k] = 0.0;
                } else {
                    st.rain[k] = v;
                }
            }
        }
        None => st.rain.fill(0.0),
    }
    st.roof_rain += roof * dt * area;
    Ok(())
}

/// Loss capacity of each cell for the tick: drains plus Horton infiltration (whose rate
/// falls with the time the cell has been wet).
fn set_losses(st: &mut FloodState, dt: f64) {
    let FloodState {
        solver,
        rain,
        drain,
        pervious,
        wet_time,
        spec,
        ..
    } = st;
    solver.set_rain(rain);
    let h_min = spec.wet_threshold_m as f32;
    for k in 0..solver.loss.len() {
        let mut c = drain[k];
        if pervious[k] > 0.0 {
            c += pervious[k] * spec.infiltration.rate_m_s(f64::from(wet_time[k])) as f32;
            if rain[k] > 0.0 || solver.h[k] > h_min {
                wet_time[k] += dt as f32;
            }
        }
        solver.loss[k] = c;
    }
}

/// Operating pumps remove their rated flow, spread over their catchment.
fn add_pump_losses(st: &mut FloodState, pumps: &Query<(&Asset, &Operational)>) {
    let area = st.grid.cell_area();
    for (id, cells) in &st.pumps {
        if cells.is_empty() {
            continue;
        }
        let running = pumps
            .iter()
            .find(|(a, _)| &a.id == id)
            .filter(|(_, op)| op.0)
            .map(|(a, _)| a.capacity);
        if let Some(q) = running {
            let per = (q / (cells.len() as f64 * area)) as f32;
            for &c in cells {
                st.solver.loss[c as usize] += per;
            }
        }
    }
}

/// Overland flow to `t1`; the number of solver sub-steps taken.
fn advance(st: &mut FloodState, t1: f64) -> Result<u64, String> {
    let steps0 = st.solver.steps;
    st.solver.advance_to(t1)?;
    if !st.solver.volume().is_finite() {
        return Err(st.solver.non_finite_report());
    }
    Ok(st.solver.steps - steps0)
}

/// Flow speeds of the tick and the deepest and fastest water seen on land.
fn record_maxima(st: &mut FloodState) {
    let speed = st.solver.speed(0.01);
    let FloodState {
        solver,
        max_depth,
        max_speed,
        land,
        ..
    } = st;
    for k in 0..speed.len() {
        if land[k] {
            max_depth[k] = max_depth[k].max(solver.h[k]);
            max_speed[k] = max_speed[k].max(speed[k]);
        }
    }
    st.speed = speed;
}

/// Phase::Impacts: closures, damage, asset failures, exposure, gauges.
#[allow(clippy::too_many_arguments)]
pub fn flood_impacts(
    mut st: ResMut<FloodState>,
    clock: Res<SimClock>,
    mut closures: ResMut<Closures>,
    mut log: ResMut<EventLog>,
    mut metrics: ResMut<Metrics>,
    gauges: Res<FloodGauges>,
    assets: Query<(&Asset, &mut Operational)>,
    city: Res<City>,
    owner: Option<Res<AssetFailureOwner>>,
) {
    let st = &mut *st;
    let t = clock.t_end();
    let ground = assess_ground(st, &mut closures);
    st.max_road_depth = st.max_road_depth.max(ground.max_road);
    let (no_lane, _) = st
        .sections
        .failing(&st.solver.h, st.spec.limits.waterlogging_road_m as f32);
    st.max_sections_failing = st.max_sections_failing.max(no_lane);
    let closed_now = report_segments(st, &ground, t, &mut log);
    st.max_segments_closed = st.max_segments_closed.max(closed_now);
    let buildings = assess_buildings(st, &city, t, &mut log);
    // Assets fail on the water at their door, unless another plugin (lifelines) owns
    // asset failure.
    if owner.is_none() {
        fail_flooded_assets(st, assets, t, &mut log);
    }
    let now = ImpactsNow {
        ground,
        no_lane,
        closed_now,
        buildings,
    };
    set_impact_gauges(st, &now, &gauges, &mut metrics);
}

/// This tick's state of the ground (land cells): depth classes and closures.
struct GroundNow {
    max_depth: f32,
    class_area: [f64; 4],
    flooded: f64,
    road_cells: usize,
    road_wet: usize,
    road_closed: usize,
    walk_closed: usize,
    max_road: f32,
    /// Impassable cells of each road segment, and the deepest water among them.
    seg_blocked: Vec<u32>,
    seg_depth: Vec<f32>,
}

/// This tick's exposure of buildings and people.
struct BuildingsNow {
    people: [f64; 4],
    loss: f64,
}

/// What the impact gauges show this tick.
struct ImpactsNow {
    ground: GroundNow,
    no_lane: usize,
    closed_now: usize,
    buildings: BuildingsNow,
}

/// Depth classes, road state and the walking and vehicle closures of every land cell.
fn assess_ground(st: &FloodState, closures: &mut Closures) -> GroundNow {
    let lim = st.spec.limits;
    let h = &st.solver.h;
    let area = st.grid.cell_area();
    let nseg = st.segments.cells.len();
    let mut g = GroundNow {
        max_depth: 0.0,
        class_area: [0.0; 4],
        flooded: 0.0,
        road_cells: 0,
        road_wet: 0,
        road_closed: 0,
        walk_closed: 0,
        max_road: 0.0,
        seg_blocked: vec![0; nseg],
        seg_depth: vec![0.0; nseg],
    };
    for k in 0..h.len() {
        if !st.land[k] {
            continue;
        }
        let d = h[k];
        let dv = f64::from(d) * f64::from(st.speed[k]);
        g.max_depth = g.max_depth.max(d);
        if d > CLASS_EDGES[0] {
            g.flooded += area;
            for c in 0..4 {
                if d > CLASS_EDGES[c] && d <= CLASS_EDGES[c + 1] {
                    g.class_area[c] += area;
                }
            }
        }
        let walk = f64::from(d) > lim.walk_depth_m || dv > lim.walk_dv_m2_s;
        if walk {
            g.walk_closed += 1;
        }
        closures.set(k, blocked::FLOOD_WALK, walk);
        if st.road[k] {
            g.road_cells += 1;
            g.max_road = g.max_road.max(d);
            if f64::from(d) > lim.waterlogging_road_m {
                g.road_wet += 1;
            }
            let vehicle = f64::from(d) > lim.vehicle_depth_m || dv > lim.vehicle_dv_m2_s;
            closures.set(k, blocked::FLOOD_VEHICLE, vehicle);
            if vehicle {
                g.road_closed += 1;
                let s = st.segments.of_cell[k] as usize;
                g.seg_blocked[s] += 1;
                g.seg_depth[s] = g.seg_depth[s].max(d);
            }
        }
    }
    g
}

/// Road segment events, one per change of state; the number of segments closed now.
fn report_segments(st: &mut FloodState, ground: &GroundNow, t: f64, log: &mut EventLog) -> usize {
    let lim = st.spec.limits;
    let mut closed_now = 0;
    for s in 0..ground.seg_blocked.len() {
        let blocked = ground.seg_blocked[s];
        let closed = blocked > 0;
        if closed {
            closed_now += 1;
        }
        if closed == st.segment_closed[s] {
            continue;
        }
        st.segment_closed[s] = closed;
        let (i, j) = st.grid.cell_of(st.segments.anchor[s] as usize);
        let place = Place::of_cell(&st.grid, i, j);
        let n = st.segments.cells[s].len();
        if closed {
            let deepest = ground.seg_depth[s];
            log.emit(t, SOURCE, outputs::ROAD_CLOSED.name, Severity::Moderate)
                .at(place)
                .message(format!(
                    "road segment {s} closed to vehicles: {blocked} of {n} cells above {} m or {} m²/s (deepest {deepest:.2} m)",
                    lim.vehicle_depth_m, lim.vehicle_dv_m2_s
                ))
                .with("segment", s as u64)
                .with("cells_blocked", u64::from(blocked))
                .with("max_depth_m", f64::from(deepest));
        } else {
            log.emit(t, SOURCE, outputs::ROAD_REOPENED.name, Severity::Info)
                .at(place)
                .message(format!("road segment {s} passable to vehicles again"))
                .with("segment", s as u64);
        }
    }
    closed_now
}

/// Water at the walls of each building: ground floors taking water, damage, and people
/// by hazard class; one event for the ground floors newly wet and one for the people
/// newly in danger.
fn assess_buildings(st: &mut FloodState, city: &City, t: f64, log: &mut EventLog) -> BuildingsNow {
    let floor_m = st.spec.limits.ground_floor_m;
    let mut now = BuildingsNow {
        people: [0.0; 4],
        loss: 0.0,
    };
    let mut new_wet = 0usize;
    let mut new_wet_people = 0.0f64;
    let mut worst_new: Option<(usize, f32)> = None;
    let mut danger_new = 0.0f64;
    let mut danger_at: Option<(usize, f64)> = None;
    for (b, bld) in city.buildings.iter().enumerate() {
        let (d, hr) = water_at_walls(st, b);
        st.building_max[b] = st.building_max[b].max(d);
        now.loss += st.building_loss(bld, st.building_max[b]);
        let people = f64::from(st.population.occupants(bld));
        if f64::from(d) > floor_m && !st.floor_wet[b] {
            st.floor_wet[b] = true;
            new_wet += 1;
            new_wet_people += people;
            if worst_new.is_none_or(|(_, w)| d > w) {
                worst_new = Some((b, d));
            }
        }
        // Exposure counts from the GB 51222 ponding depth (0.15 m), not a rain film.
        let class = if d > CLASS_EDGES[0] {
            hazard_class(f64::from(d), hr)
        } else {
            0
        };
        if class > 0 {
            now.people[class - 1] += people;
        }
        if class >= 3 && (st.building_worst[b] as usize) < 3 {
            danger_new += people;
            if danger_at.is_none_or(|(_, p)| people > p) {
                danger_at = Some((b, hr));
            }
        }
        st.building_worst[b] = st.building_worst[b].max(class as u8);
    }
    let at_building = |b: usize| {
        let (i, j) = st.grid.cell_of(city.buildings[b].anchor as usize);
        Place::of_cell(&st.grid, i, j)
    };
    if let Some((b, d)) = worst_new {
        log.emit(t, SOURCE, outputs::GROUND_FLOORS_FLOODED.name, Severity::Moderate)
            .at(at_building(b))
            .message(format!(
                "water entered the ground floor of {new_wet} more building(s) ({new_wet_people:.0} occupants); deepest {d:.2} m here"
            ))
            .with("buildings", new_wet as u64)
            .with("occupants", new_wet_people.round())
            .with("depth_m", f64::from(d));
    }
    if let Some((b, hr)) = danger_at {
        log.emit(t, SOURCE, outputs::PEOPLE_DANGER.name, Severity::Major)
            .at(at_building(b))
            .message(format!(
                "{danger_new:.0} more people in buildings where the flood hazard rating is significant or worse (HR ≥ 1.25, danger for most); HR {hr:.2} here"
            ))
            .with("people", danger_new.round())
            .with("hazard_rating", hr);
    }
    now
}

/// Deepest water round building `b`, m, and the highest FD2321 hazard rating there.
fn water_at_walls(st: &FloodState, b: usize) -> (f32, f64) {
    let mut d = 0.0f32;
    let mut hr = 0.0f64;
    for &c in &st.perimeters[b] {
        let c = c as usize;
        let dc = st.solver.h[c];
        d = d.max(dc);
        hr = hr.max(hazard_rating(f64::from(dc), f64::from(st.speed[c])));
    }
    (d, hr)
}

/// Assets fail when the water at their door is over their limit (metro entrances have
/// their sill; the rest their ground floor).
fn fail_flooded_assets(
    st: &mut FloodState,
    mut assets: Query<(&Asset, &mut Operational)>,
    t: f64,
    log: &mut EventLog,
) {
    let lim = st.spec.limits;
    for (a, mut op) in assets.iter_mut() {
        if st.failed.contains(&a.id) {
            continue;
        }
        let limit = match a.kind {
            AssetKind::MetroEntrance => lim.metro_entrance_m,
            _ => lim.asset_m,
        };
        let d = st.depth_at_door(a.cell);
        if f64::from(d) <= limit {
            continue;
        }
        st.failed.push(a.id.clone());
        let was = op.0;
        op.0 = false;
        let severity = if matches!(a.kind, AssetKind::Hospital | AssetKind::Substation) {
            Severity::Critical
        } else {
            Severity::Major
        };
        // At the asset itself (not its cell's centre), named.
        let (i, j) = st.grid.cell_of(a.cell);
        let place = Place {
            x: a.x,
            y: a.y,
            cell: Some([i as u32, j as u32]),
            name: Some(a.id.clone()),
        };
        log.emit(t, SOURCE, outputs::ASSET_FAILED.name, severity)
            .at(place)
            .message(format!(
                "{} {} flooded: {d:.2} m of water at its entrance (limit {limit} m){}",
                a.kind.label(),
                a.id,
                if was { "" } else { " (already out of service)" }
            ))
            .with("depth_m", f64::from(d))
            .with("limit_m", limit)
            .with("kind", a.kind.label());
    }
}

/// The impact gauges of the tick.
fn set_impact_gauges(st: &FloodState, now: &ImpactsNow, g: &FloodGauges, metrics: &mut Metrics) {
    let ground = &now.ground;
    let volume = st.solver.volume();
    let b = st.solver.balance;
    metrics.set(g.max_depth, f64::from(ground.max_depth));
    metrics.set(g.flooded_area, ground.flooded);
    for c in 0..4 {
        metrics.set(g.classes[c], ground.class_area[c]);
        metrics.set(g.people[c], now.buildings.people[c].round());
    }
    metrics.set(g.max_road_depth, f64::from(ground.max_road));
    metrics.set(g.sections_no_lane, now.no_lane as f64);
    metrics.set(
        g.road_share,
        if ground.road_cells > 0 {
            ground.road_wet as f64 / ground.road_cells as f64
        } else {
            0.0
        },
    );
    metrics.set(g.road_cells_closed, ground.road_closed as f64);
    metrics.set(g.segments_closed, now.closed_now as f64);
    metrics.set(g.walk_cells_closed, ground.walk_closed as f64);
    metrics.set(g.volume, volume);
    metrics.set(g.volume_error, st.volume_error(volume));
    metrics.set(g.rain_in, b.rain_in);
    metrics.set(g.drained, b.losses);
    metrics.set(g.loss_yuan, now.buildings.loss.round());
    metrics.set(
        g.floors_wet,
        st.floor_wet.iter().filter(|&&w| w).count() as f64,
    );
    metrics.set(g.assets_failed, st.failed.len() as f64);
}

/// Finish: KPIs and maps.
pub fn flood_finish(
    st: Res<FloodState>,
    city: Res<City>,
    mut metrics: ResMut<Metrics>,
    mut maps: ResMut<MapOutputs>,
) {
    outputs::set_kpis(&st, &city, &mut metrics);
    outputs::write_maps(&st, &mut maps);
}
