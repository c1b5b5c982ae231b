//! The fire's systems (the fire service's are in `service.rs`): ignitions, spread,
//! occupants against flashover, gauges and the finish.

use bevy_ecs::prelude::*;
use rand::RngExt;

use super::buildings::nearest_building;
use super::egress;
use super::outputs;
use super::service::{Engine, Task};
use super::spread;
use super::state::FireSim;
use crate::city::assets::Operational;
use crate::city::{BuildingUse, City, Construction};
use crate::coupling::{Closures, Couplings, FireState, SurfaceWind, blocked};
use crate::events::{EventLog, Severity};
use crate::metrics::Metrics;
use crate::rng::RngStreams;
use crate::sim::{MapOutputs, RunHealth, SimClock};

/// Phase::Forcing: scheduled and secondary ignitions due this tick.
pub fn ignition_system(
    clock: Res<SimClock>,
    mut fire: ResMut<FireSim>,
    mut log: ResMut<EventLog>,
    rng: Res<RngStreams>,
    assets: Query<&Operational>,
    city: Res<City>,
) {
    let t_end = clock.t_end();
    let fire = &mut *fire;
    while fire.schedule.last().is_some_and(|s| s.0 < t_end) {
        let (t, c, cause) = fire
            .schedule
            .pop()
            .expect("the loop condition saw a last entry");
        fire.ignite(t, c, &cause, &mut log);
    }
    if fire.secondary_p > 0.0 {
        secondary_ignitions(&clock, fire, &mut log, &rng, &assets, &city);
    }
}

/// Substations that failed since the last tick start an electrical fire in the nearest
/// building with the spec's probability (stream `fire.secondary`, per substation and
/// tick).
fn secondary_ignitions(
    clock: &SimClock,
    fire: &mut FireSim,
    log: &mut EventLog,
    rng: &RngStreams,
    assets: &Query<&Operational>,
    city: &City,
) {
    for k in 0..fire.substations.len() {
        let (ref id, ent, was) = fire.substations[k];
        let now = assets.get(ent).map(|o| o.0).unwrap_or(true);
        if was && !now {
            let mut s = rng.indexed("fire.secondary", (k as u64) << 32 | clock.tick);
            if s.random::<f64>() < fire.secondary_p {
                let site = city.assets.iter().find(|a| &a.id == id);
                if let Some(cell) = site.and_then(|a| nearest_building(city, a.x, a.y)) {
                    let cause = format!("electrical fault after substation {id} failed");
                    fire.ignite(clock.t(), cell, &cause, log);
                }
            }
        }
        fire.substations[k].2 = now;
    }
}

/// Phase::Hazards: advance the front, burn out cells, update the shared fields.
#[allow(clippy::too_many_arguments)]
pub fn spread_system(
    clock: Res<SimClock>,
    mut fire: ResMut<FireSim>,
    wind: Option<Res<SurfaceWind>>,
    couplings: Option<Res<Couplings>>,
    mut state: ResMut<FireState>,
    mut closures: Option<ResMut<Closures>>,
    mut log: ResMut<EventLog>,
    mut health: ResMut<RunHealth>,
    city: Res<City>,
) {
    let t_end = clock.t_end();
    let fire = &mut *fire;
    // The typhoon's (or `wind` hazard's) field drives spread unless `wind_fire` is off;
    // then the spec's own uniform wind does.
    let w = match &wind {
        Some(w) if Couplings::of(couplings.as_deref()).wind_fire => spread::Wind::Field(&w.u, &w.v),
        _ => spread::Wind::Uniform(fire.wind.0, fire.wind.1),
    };
    let mut ignited = std::mem::take(&mut fire.ignited);
    let mut burnt = std::mem::take(&mut fire.burnt);
    ignited.clear();
    burnt.clear();
    fire.spread.advance(t_end, w, &mut ignited);
    fire.spread.retire(t_end, &mut burnt);
    for &c in &ignited {
        let cu = c as usize;
        let t = fire.spread.arrival[cu];
        if !t.is_finite() {
            let (i, j) = fire.grid.cell_of(cu);
            health.fail(format!(
                "fire: arrival time {t} at cell ({i},{j}), t={t_end}"
            ));
            return;
        }
        state.0[cu] = 1;
        if let Some(cl) = closures.as_deref_mut() {
            cl.set(cu, blocked::FIRE, true);
        }
        on_cell_ignited(fire, cu, t);
    }
    for &c in &burnt {
        fire.on_cell_out(c as usize, &mut state, closures.as_deref_mut(), true);
    }
    report_burnt_buildings(fire, t_end, &city, &mut log);
    fire.ignited = ignited;
    fire.burnt = burnt;
}

/// Count a cell the front reached at `t`: its incident and its building (the building's
/// first cell queues its occupants for the flashover check).
fn on_cell_ignited(fire: &mut FireSim, cu: usize, t: f64) {
    fire.burning_cells += 1;
    fire.affected_cells += 1;
    let inc = fire.spread.incident[cu] as usize;
    if let Some(i) = fire.incidents.get_mut(inc) {
        i.started = true;
        i.cells_reached += 1;
    }
    let b = fire.spread.setup().building[cu];
    if b != spread::NONE {
        let bf = &mut fire.buildings[b as usize];
        if bf.burning == 0 {
            fire.buildings_burning += 1;
        }
        bf.burning += 1;
        if bf.t_ignition.is_none() {
            bf.t_ignition = Some(t);
            bf.incident = inc as u32;
            fire.aset_queue.push(b);
            if let Some(i) = fire.incidents.get_mut(inc) {
                i.buildings += 1;
            }
        }
    }
}

/// Buildings whose fire is over with some part burnt out: their loss, once.
fn report_burnt_buildings(fire: &mut FireSim, t_end: f64, city: &City, log: &mut EventLog) {
    let mut touched = std::mem::take(&mut fire.touched);
    touched.sort_unstable();
    touched.dedup();
    for &b in &touched {
        let bf = &fire.buildings[b as usize];
        if bf.burning > 0 || bf.burnt == 0 || bf.burnt_reported {
            continue;
        }
        let share = f64::from(bf.burnt) / f64::from(bf.cells.max(1));
        let bd = &city.buildings[b as usize];
        let loss = bd.value_yuan * share;
        fire.loss_yuan += loss;
        fire.buildings_burnt += 1;
        fire.buildings[b as usize].burnt_reported = true;
        log.emit(t_end, "fire", outputs::BUILDING_BURNT.name, Severity::Major)
            .at(fire.place(bd.anchor))
            .message(format!(
                "building {b} ({} storeys) burnt: {:.0} % of its footprint",
                bd.storeys,
                100.0 * share
            ))
            .with("building", b)
            .with("burnt_share", share)
            .with("loss_yuan", loss);
    }
    touched.clear();
    fire.touched = touched;
}

/// Phase::Impacts: occupants against flashover on the floor of origin.
pub fn occupants_system(
    clock: Res<SimClock>,
    mut fire: ResMut<FireSim>,
    city: Res<City>,
    mut log: ResMut<EventLog>,
) {
    let t_end = clock.t_end();
    let fire = &mut *fire;
    if fire.aset_queue.is_empty() {
        return;
    }
    let mut keep = Vec::new();
    for b in std::mem::take(&mut fire.aset_queue) {
        let bf = &fire.buildings[b as usize];
        let t_ign = bf.t_ignition.expect("queued when ignited");
        let st = fire.spread.setup().stages[b as usize];
        let t_untenable = t_ign + f64::from(st[0]);
        if t_end < t_untenable {
            keep.push(b);
            continue;
        }
        fire.buildings[b as usize].casualties_done = true;
        if fire.buildings[b as usize].burning == 0 {
            continue;
        }
        casualties_at_flashover(fire, b, t_ign, t_untenable, &city, &mut log);
    }
    fire.aset_queue = keep;
}

/// Occupants of burning building `b` still inside at flashover (`t_untenable`), warned
/// at the report (or the ignition, if earlier).
fn casualties_at_flashover(
    fire: &mut FireSim,
    b: u32,
    t_ign: f64,
    t_untenable: f64,
    city: &City,
    log: &mut EventLog,
) {
    let bf = &fire.buildings[b as usize];
    let warn = fire
        .incidents
        .get(bf.incident as usize)
        .map_or(t_ign, |i| i.t_report.min(t_ign));
    let bd = &city.buildings[b as usize];
    let occupants = f64::from(fire.population.occupants(bd));
    let footprint_m2 = f64::from(bd.footprint_m2);
    let building = egress::Occupancy {
        occupants,
        storeys: bd.storeys,
        footprint_m2,
        resistive: bd.construction == Construction::FireResistive,
        compartment_m2: egress::Occupancy::compartment_for(
            &fire.egress,
            bd.use_ == BuildingUse::Residential,
            f64::from(bd.occupants_night),
            bd.storeys,
            footprint_m2,
            f64::from(bd.height_m),
        ),
    };
    let c = egress::casualties(
        &fire.egress,
        &building,
        f64::from(bf.burning) * fire.grid.cell_area(),
        t_untenable - warn,
    );
    if c > 0.0 {
        fire.deaths += c;
        log.emit(
            t_untenable,
            "fire",
            outputs::FIRE_CASUALTIES.name,
            Severity::Critical,
        )
        .at(fire.place(bd.anchor))
        .message(format!(
            "building {b}: about {c:.1} occupants still inside at flashover"
        ))
        .with("building", b)
        .with("casualties", c)
        .with("occupants", occupants);
    }
}

/// End of Phase::Movement: gauges.
pub fn metrics_system(fire: Res<FireSim>, engines: Query<&Engine>, mut m: ResMut<Metrics>) {
    let committed = engines
        .iter()
        .filter(|e| !matches!(e.task, Task::Idle))
        .count();
    fire.gauges.set(&fire, committed, &mut m);
}

/// Finish: KPIs and the arrival-time map.
pub fn finish_system(fire: Res<FireSim>, mut m: ResMut<Metrics>, mut maps: ResMut<MapOutputs>) {
    // The core's count of residents (absent in simulations assembled in code).
    let residents = m
        .kpis()
        .get("population.residents")
        .map_or(0.0, |k| k.value);
    outputs::set_finish_kpis(&fire, residents, &mut m);
    maps.0.push(outputs::arrival_map(&fire));
}
