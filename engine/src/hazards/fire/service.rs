//! The fire service: stations, engines and crews as entities; dispatch of the nearest
//! available engine by road travel time, turnout, driving (with re-routing when roads
//! close), set-up, suppression, and return.
//!
//! Suppression is a flow balance. The needed fire flow of a burning cell is the National
//! Fire Academy's quick formula, 1 US gpm per 3 ft² of involved floor area
//! (≈ 13.6 L/min per m²), times the share involved (t² growth, steady, decay). An engine
//! delivers two attack lines (NFPA 1710) to burning cells within hose reach, newest
//! first (the spreading edge). A cell receiving its needed flow is held — it spreads no
//! more — and is knocked down after the Iowa formula's 30-s application; a cell receiving
//! a share r < 1 spreads with its delays stretched by 1/(1 − r).

use std::collections::BTreeMap;

use bevy_ecs::prelude::*;

use super::outputs;
use super::roads::{NONE, RoadNet, Tree};
use super::setup::StationPlan;
use super::spec::ServiceSpec;
use super::spread::BURNING;
use super::state::{FireSim, Incident};
use crate::city::{Asset, AssetKind};
use crate::coupling::{Closures, Couplings, FireState};
use crate::events::{EventLog, Severity};
use crate::sim::{BuildError, SimClock};
use crate::spec::KeyPath;

/// A fire station (added to its `Asset` entity).
#[derive(Component, Debug, Clone)]
pub struct Station {
    pub id: String,
    /// Road cell the engines leave from.
    pub road_cell: u32,
    pub engines: u32,
}

/// A fire engine.
#[derive(Component, Debug, Clone)]
pub struct Engine {
    pub id: String,
    pub station: Entity,
    /// Road cell of its station.
    pub home: u32,
    /// Where it is now.
    pub cell: u32,
    /// Flow it delivers on scene, L/min.
    pub flow_l_min: f64,
    pub task: Task,
    /// Spawn order: ties in dispatch and processing are broken by it.
    pub order: u32,
}

/// The crew of an engine.
#[derive(Component, Debug, Clone)]
pub struct Crew {
    pub engine: Entity,
    pub members: u8,
}

/// What an engine is doing.
#[derive(Debug, Clone)]
pub enum Task {
    /// At its station, available.
    Idle,
    Driving {
        purpose: Purpose,
        route: Route,
    },
    /// On scene; water flows from `from` on (after set-up).
    Working {
        incident: u32,
        from: f64,
    },
}

/// Why an engine drives.
#[derive(Debug, Clone, Copy)]
pub enum Purpose {
    /// To an incident, ordered at `t_order`.
    Respond {
        incident: u32,
        t_order: f64,
    },
    /// To a better position at its incident.
    Reposition {
        incident: u32,
    },
    Return,
}

/// A planned drive: road cells and the time the engine reaches each.
#[derive(Debug, Clone)]
pub struct Route {
    pub cells: Vec<u32>,
    pub times: Vec<f64>,
    /// `Closures::version` the route was checked against.
    pub version: u64,
    /// No route exists now; retried when the closures change.
    pub stuck: bool,
}

impl Route {
    fn target(&self) -> u32 {
        *self.cells.last().expect("routes are never empty")
    }
    /// Index of the last cell reached by time t.
    fn index_at(&self, t: f64) -> usize {
        self.times.partition_point(|&x| x <= t).saturating_sub(1)
    }
}

/// Put each planned station on its asset entity and spawn its engines and crews, in
/// station id order (the engines' `order`).
pub fn spawn_stations(
    world: &mut World,
    service: &ServiceSpec,
    plans: &[StationPlan],
) -> Result<(), BuildError> {
    let entities: BTreeMap<String, Entity> = {
        let mut q = world.query::<(Entity, &Asset)>();
        q.iter(world)
            .filter(|(_, a)| a.kind == AssetKind::FireStation)
            .map(|(e, a)| (a.id.clone(), e))
            .collect()
    };
    let mut order = 0u32;
    for plan in plans {
        let Some(&station) = entities.get(&plan.id) else {
            return Err(BuildError::new(
                KeyPath::root().key("assets"),
                format!("fire station `{}` has no asset entity", plan.id),
            ));
        };
        world.entity_mut(station).insert(Station {
            id: plan.id.clone(),
            road_cell: plan.road_cell,
            engines: plan.engines,
        });
        for k in 0..plan.engines {
            let e = world
                .spawn(Engine {
                    id: format!("{}/E{}", plan.id, k + 1),
                    station,
                    home: plan.road_cell,
                    cell: plan.road_cell,
                    flow_l_min: service.engine_flow_l_min,
                    task: Task::Idle,
                    order,
                })
                .id();
            order += 1;
            world.spawn(Crew {
                engine: e,
                members: service.crew_size,
            });
        }
    }
    Ok(())
}

/// Whether a cell stops engines: the closure reasons that count under the scenario's
/// couplings (`Couplings::vehicle_mask`; all of them when no switches were inserted).
fn blocked_fn<'a>(
    closures: Option<&'a Closures>,
    couplings: Option<&Couplings>,
) -> impl Fn(usize) -> bool + 'a {
    let mask = Couplings::of(couplings).vehicle_mask();
    move |c| closures.is_some_and(|cl| cl.blocked_by(c, mask))
}

/// A route from `from` to `to` leaving at `t0`, or `None` if none exists.
pub fn plan(
    net: &RoadNet,
    from: u32,
    to: u32,
    t0: f64,
    closures: Option<&Closures>,
    couplings: Option<&Couplings>,
) -> Option<Route> {
    let blocked = blocked_fn(closures, couplings);
    let tree = net.search(&[(from, t0)], &blocked, &[to]);
    let cells = tree.path_to(to)?;
    let times = net.path_times(&cells, t0);
    Some(Route {
        cells,
        times,
        version: closures.map_or(0, |c| c.version),
        stuck: false,
    })
}

fn sorted_engines(engines: &Query<(Entity, &mut Engine)>) -> Vec<(u32, Entity)> {
    let mut v: Vec<(u32, Entity)> = engines.iter().map(|(e, en)| (en.order, e)).collect();
    v.sort_unstable_by_key(|x| x.0);
    v
}

/// The road state engines drive on this tick: closures and the couplings that say which
/// closure reasons stop engines.
#[derive(Clone, Copy)]
struct Roads<'a> {
    closures: Option<&'a Closures>,
    couplings: Option<&'a Couplings>,
}

impl Roads<'_> {
    /// `Closures::version` (0 without closures): routes are checked again when it moves.
    fn version(&self) -> u64 {
        self.closures.map_or(0, |c| c.version)
    }
}

/// Phase::Response: report incidents, send the first alarm, escalate.
pub fn dispatch_system(
    clock: Res<SimClock>,
    mut fire: ResMut<FireSim>,
    mut engines: Query<(Entity, &mut Engine)>,
    closures: Option<Res<Closures>>,
    couplings: Option<Res<Couplings>>,
    mut log: ResMut<EventLog>,
) {
    let (t, t_end) = (clock.t(), clock.t_end());
    let fire = &mut *fire;
    let p = fire.service;
    let roads = Roads {
        closures: closures.as_deref(),
        couplings: couplings.as_deref(),
    };
    report_incidents(fire, t_end, &mut log);
    if !p.enabled {
        return;
    }
    let idle: Vec<(u32, Entity, u32)> = {
        let mut v: Vec<(u32, Entity, u32)> = engines
            .iter()
            .filter(|(_, e)| matches!(e.task, Task::Idle))
            .map(|(ent, e)| (e.order, ent, e.home))
            .collect();
        v.sort_unstable_by_key(|x| x.0);
        v
    };
    let mut taken: Vec<Entity> = Vec::new();
    for k in 0..fire.incidents.len() {
        let Some((want, t_order)) = engines_wanted(&fire.incidents[k], &p, t, t_end) else {
            continue;
        };
        let free: Vec<&(u32, Entity, u32)> =
            idle.iter().filter(|x| !taken.contains(&x.1)).collect();
        // Search again only when the idle engines or the closures have changed since
        // the last attempt for this incident (a fire no engine can reach would
        // otherwise cost a full search every tick).
        let key = (free.len() as u64, roads.version());
        if fire.incidents[k].last_try == Some(key) {
            continue;
        }
        fire.incidents[k].last_try = Some(key);
        if free.is_empty() {
            continue;
        }
        let access = fire.incidents[k].access;
        let homes: Vec<u32> = free.iter().map(|x| x.2).collect();
        let blocked = blocked_fn(roads.closures, roads.couplings);
        let tree = fire.net.search(&[(access, 0.0)], &blocked, &homes);
        let mut cands: Vec<(f64, u32, Entity, u32)> = free
            .iter()
            .filter(|x| tree.time[x.2 as usize].is_finite())
            .map(|x| (tree.time[x.2 as usize], x.0, x.1, x.2))
            .collect();
        cands.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        if cands.is_empty() {
            report_no_route(fire, k, t_order, &mut log);
            continue;
        }
        fire.incidents[k].first_alarm = true;
        let order = Order {
            incident: k,
            t_order,
            version: roads.version(),
        };
        let picks: Vec<(Entity, u32)> = cands
            .iter()
            .take(want as usize)
            .map(|&(_, _, ent, home)| (ent, home))
            .collect();
        send_engines(
            fire,
            order,
            &picks,
            &tree,
            &mut engines,
            &mut taken,
            &mut log,
        );
    }
}

/// Incidents whose detection time has come are reported (and flagged when no road is
/// within hose reach).
fn report_incidents(fire: &mut FireSim, t_end: f64, log: &mut EventLog) {
    let p = fire.service;
    for k in 0..fire.incidents.len() {
        let inc = &mut fire.incidents[k];
        if !inc.reported && t_end >= inc.t_ignition + p.detection_s {
            inc.reported = true;
            inc.t_report = inc.t_ignition + p.detection_s;
            let (cell, t_report, id) = (inc.cell, inc.t_report, inc.id);
            let access = inc.access;
            let pl = fire.place(cell);
            log.emit(
                t_report,
                "fire",
                outputs::FIRE_REPORTED.name,
                Severity::Major,
            )
            .at(pl.clone())
            .message(format!("fire {id} reported"))
            .with("incident", id);
            if access == NONE && p.enabled {
                log.emit(
                    t_report,
                    "fire",
                    outputs::FIRE_UNREACHABLE.name,
                    Severity::Major,
                )
                .at(pl)
                .message(format!(
                    "fire {id}: no road within {} m, engines cannot reach it",
                    p.hose_reach_m
                ))
                .with("incident", id);
            }
        }
    }
}

/// Engines an incident asks for now and the time of the order: the first alarm once
/// alarm handling is over, then one engine per missing engine flow while it is fought
/// and not contained (up to the cap); `None` if none.
fn engines_wanted(inc: &Incident, p: &ServiceSpec, t: f64, t_end: f64) -> Option<(u32, f64)> {
    if !inc.reported || inc.out.is_some() || inc.access == NONE {
        return None;
    }
    let t_first = inc.t_report + p.alarm_handling_s;
    let (want, t_order) = if !inc.first_alarm {
        if t_end < t_first {
            return None;
        }
        (p.first_alarm_engines, t_first)
    } else if inc.working && inc.contained.is_none() {
        let committed = inc.engines.len() as f64 * p.engine_flow_l_min;
        let short = inc.needed_l_min - committed;
        if short <= 0.0 {
            return None;
        }
        let n = (short / p.engine_flow_l_min).ceil() as u32;
        let cap = p
            .max_engines_per_incident
            .map_or(u32::MAX, |m| m.saturating_sub(inc.engines.len() as u32));
        (n.min(cap), t)
    } else {
        return None;
    };
    (want > 0).then_some((want, t_order))
}

/// No available engine can reach incident `k` (reported once).
fn report_no_route(fire: &mut FireSim, k: usize, t_order: f64, log: &mut EventLog) {
    if fire.incidents[k].no_route_reported {
        return;
    }
    fire.incidents[k].no_route_reported = true;
    let (cell, id) = (fire.incidents[k].cell, fire.incidents[k].id);
    log.emit(
        t_order,
        "fire",
        outputs::FIRE_NO_ROUTE.name,
        Severity::Major,
    )
    .at(fire.place(cell))
    .message(format!(
        "fire {id}: no available engine has a road route to it"
    ))
    .with("incident", id);
}

/// A dispatch order: incident index, time of the order, closures version of the routes.
#[derive(Clone, Copy)]
struct Order {
    incident: usize,
    t_order: f64,
    version: u64,
}

/// Send the picked (engine, home) pairs over the search tree from the incident: turnout,
/// then the route.
fn send_engines(
    fire: &mut FireSim,
    order: Order,
    picks: &[(Entity, u32)],
    tree: &Tree,
    engines: &mut Query<(Entity, &mut Engine)>,
    taken: &mut Vec<Entity>,
    log: &mut EventLog,
) {
    let Order {
        incident: k,
        t_order,
        version,
    } = order;
    for &(ent, home) in picks {
        let Some(mut path) = tree.path_to(home) else {
            continue;
        };
        path.reverse();
        let depart = t_order + fire.service.turnout_s;
        let times = fire.net.path_times(&path, depart);
        let eta = times.last().copied().unwrap_or(depart) - t_order;
        let (_, mut en) = engines.get_mut(ent).expect("idle engine exists");
        en.task = Task::Driving {
            purpose: Purpose::Respond {
                incident: fire.incidents[k].id,
                t_order,
            },
            route: Route {
                cells: path,
                times,
                version,
                stuck: false,
            },
        };
        taken.push(ent);
        fire.incidents[k].engines.push(ent);
        let (cell, id) = (fire.incidents[k].cell, fire.incidents[k].id);
        log.emit(
            t_order,
            "fire",
            outputs::ENGINE_DISPATCHED.name,
            Severity::Moderate,
        )
        .at(fire.place(cell))
        .message(format!(
            "engine {} dispatched to fire {id}, expected in {:.0} s",
            en.id, eta
        ))
        .with("incident", id)
        .with("engine", en.id.clone())
        .with("eta_s", eta);
    }
}

/// Per-incident sums of one suppression tick.
struct Tally {
    /// Needed flow of its burning cells, L/min.
    needed: Vec<f64>,
    /// Its burning cells.
    burning: Vec<u32>,
    /// Its burning cells held at their needed flow.
    held: Vec<u32>,
}

/// Needed fire flow of a burning cell at `t`, L/min.
fn needed_flow(fire: &FireSim, c: u32, t: f64) -> f64 {
    fire.service.needed_flow_l_min_m2
        * fire.grid.cell_area()
        * fire.spread.involvement(c as usize, t)
}

/// Phase::Response, after dispatch: apply water, hold and knock down cells, close
/// incidents and send engines home.
#[allow(clippy::too_many_arguments)]
pub fn suppression_system(
    clock: Res<SimClock>,
    mut fire: ResMut<FireSim>,
    mut engines: Query<(Entity, &mut Engine)>,
    mut state: ResMut<FireState>,
    mut closures: Option<ResMut<Closures>>,
    couplings: Option<Res<Couplings>>,
    mut log: ResMut<EventLog>,
) {
    let (t, t_end, dt) = (clock.t(), clock.t_end(), clock.dt);
    let fire = &mut *fire;
    let burning: Vec<u32> = fire
        .spread
        .burning
        .iter()
        .copied()
        .filter(|&c| fire.spread.status[c as usize] == BURNING)
        .collect();
    let mut tally = tally_incidents(fire, &burning, t_end);
    let (touched, relocate) = allocate_flow(fire, &engines, &burning, &tally, (t, t_end, dt));
    for &c in &burning {
        apply_water(fire, c, t_end, dt, &mut tally, &mut state, &mut closures);
    }
    for c in touched {
        fire.given[c as usize] = 0.0;
    }
    let roads = Roads {
        closures: closures.as_deref(),
        couplings: couplings.as_deref(),
    };
    close_incidents(fire, &tally, t_end, &mut engines, roads, &mut log);
    relocate_engines(fire, &mut engines, relocate, &burning, t_end, roads);
}

/// Needed flow and burning cells of each incident.
fn tally_incidents(fire: &FireSim, burning: &[u32], t_end: f64) -> Tally {
    let n_inc = fire.incidents.len();
    let mut tally = Tally {
        needed: vec![0.0f64; n_inc],
        burning: vec![0u32; n_inc],
        held: vec![0u32; n_inc],
    };
    for &c in burning {
        let i = fire.spread.incident[c as usize] as usize;
        if i < n_inc {
            tally.needed[i] += needed_flow(fire, c, t_end);
            tally.burning[i] += 1;
        }
    }
    tally
}

/// Share the flow of each working engine (in engine order) among the burning cells
/// within hose reach, newest first, for the part of the tick after set-up. Returns the
/// cells given water and the engines with nothing in reach of a fire still burning.
fn allocate_flow(
    fire: &mut FireSim,
    engines: &Query<(Entity, &mut Engine)>,
    burning: &[u32],
    tally: &Tally,
    (t, t_end, dt): (f64, f64, f64),
) -> (Vec<u32>, Vec<(Entity, u32)>) {
    let reach2 = fire.service.hose_reach_m * fire.service.hose_reach_m;
    let g = fire.grid;
    let mut touched: Vec<u32> = Vec::new();
    let mut relocate: Vec<(Entity, u32)> = Vec::new();
    for (_, ent) in sorted_engines(engines) {
        let (_, en) = engines
            .get(ent)
            .expect("sorted_engines lists entities of this query");
        let Task::Working { incident, from } = en.task else {
            continue;
        };
        let (ei, ej) = g.cell_of(en.cell as usize);
        let mut inreach: Vec<u32> = burning
            .iter()
            .copied()
            .filter(|&c| {
                let (ci, cj) = g.cell_of(c as usize);
                let (dx, dy) = (
                    (ci as f64 - ei as f64) * g.cell,
                    (cj as f64 - ej as f64) * g.cell,
                );
                dx * dx + dy * dy <= reach2
            })
            .collect();
        if inreach.is_empty() {
            if tally.burning.get(incident as usize).copied().unwrap_or(0) > 0 {
                relocate.push((ent, incident));
            }
            continue;
        }
        if t_end < from {
            continue;
        }
        inreach.sort_by(|&a, &b| {
            fire.spread.arrival[b as usize]
                .total_cmp(&fire.spread.arrival[a as usize])
                .then(a.cmp(&b))
        });
        // Water flows for the part of the tick after set-up.
        let share = ((t_end - from.max(t)) / dt).clamp(0.0, 1.0);
        let mut left = en.flow_l_min * share;
        for c in inreach {
            if left <= 0.0 {
                break;
            }
            let want = needed_flow(fire, c, t_end) - f64::from(fire.given[c as usize]);
            if want <= 0.0 {
                continue;
            }
            let give = want.min(left);
            if fire.given[c as usize] == 0.0 {
                touched.push(c);
            }
            fire.given[c as usize] += give as f32;
            left -= give;
        }
    }
    (touched, relocate)
}

/// Hold, slow or leave a burning cell by the share of its needed flow it was given; a
/// cell held for the knock-down time goes out.
fn apply_water(
    fire: &mut FireSim,
    c: u32,
    t_end: f64,
    dt: f64,
    tally: &mut Tally,
    state: &mut FireState,
    closures: &mut Option<ResMut<Closures>>,
) {
    let cu = c as usize;
    let needed = needed_flow(fire, c, t_end);
    let given = f64::from(fire.given[cu]);
    let r = if needed <= 0.0 {
        if given > 0.0 { 1.0 } else { 0.0 }
    } else {
        given / needed
    };
    if r >= 1.0 - 1e-9 {
        fire.spread.slow[cu] = f32::INFINITY;
        fire.knockdown[cu] += dt as f32;
        let i = fire.spread.incident[cu] as usize;
        if i < tally.held.len() {
            tally.held[i] += 1;
        }
        if f64::from(fire.knockdown[cu]) >= fire.service.knockdown_s {
            fire.spread.extinguish(cu);
            fire.on_cell_out(cu, state, closures.as_deref_mut(), false);
        }
    } else {
        fire.spread.slow[cu] = if r > 0.0 {
            (1.0 / (1.0 - r)) as f32
        } else {
            1.0
        };
        fire.knockdown[cu] = 0.0;
    }
}

/// Incidents with no burning cell left are out (their engines go home); those with
/// every burning cell held are contained.
fn close_incidents(
    fire: &mut FireSim,
    tally: &Tally,
    t_end: f64,
    engines: &mut Query<(Entity, &mut Engine)>,
    roads: Roads,
    log: &mut EventLog,
) {
    let cell_area = fire.grid.cell_area();
    for k in 0..fire.incidents.len() {
        fire.incidents[k].needed_l_min = tally.needed[k];
        let inc = &fire.incidents[k];
        if inc.out.is_some() || !inc.started {
            continue;
        }
        if tally.burning[k] == 0 {
            let id = inc.id;
            fire.incidents[k].out = Some(t_end);
            let Incident {
                cell,
                cells_reached,
                t_ignition,
                ..
            } = fire.incidents[k].clone();
            let buildings = fire.incidents[k].buildings;
            let pl = fire.place(cell);
            log.emit(t_end, "fire", outputs::FIRE_OUT.name, Severity::Moderate)
                .at(pl)
                .message(format!(
                    "fire {id} out after {:.0} min: {} buildings, {:.0} m² of footprint affected",
                    (t_end - t_ignition) / 60.0,
                    buildings,
                    f64::from(cells_reached) * cell_area
                ))
                .with("incident", id)
                .with("duration_s", t_end - t_ignition)
                .with("affected_m2", f64::from(cells_reached) * cell_area)
                .with("buildings", buildings);
            for ent in fire.incidents[k].engines.clone() {
                send_home(fire, engines, ent, t_end, roads.closures, roads.couplings);
            }
        } else if tally.held[k] == tally.burning[k] && inc.contained.is_none() && inc.working {
            let id = inc.id;
            let cell = inc.cell;
            fire.incidents[k].contained = Some(t_end);
            let since = t_end - fire.incidents[k].t_ignition;
            log.emit(
                t_end,
                "fire",
                outputs::FIRE_CONTAINED.name,
                Severity::Moderate,
            )
            .at(fire.place(cell))
            .message(format!(
                "fire {id} contained {:.0} min after ignition",
                since / 60.0
            ))
            .with("incident", id)
            .with("since_ignition_s", since)
            .with("engines", fire.incidents[k].engines.len());
        }
    }
}

/// Engines with nothing in reach move to the road nearest their incident's fire.
fn relocate_engines(
    fire: &FireSim,
    engines: &mut Query<(Entity, &mut Engine)>,
    relocate: Vec<(Entity, u32)>,
    burning: &[u32],
    t_end: f64,
    roads: Roads,
) {
    let g = fire.grid;
    for (ent, incident) in relocate {
        let (ei, ej) = {
            let (_, en) = engines
                .get(ent)
                .expect("sorted_engines lists entities of this query");
            g.cell_of(en.cell as usize)
        };
        let best = burning
            .iter()
            .copied()
            .filter(|&c| fire.spread.incident[c as usize] == incident)
            .filter(|&c| fire.net.access[c as usize] != NONE)
            .min_by_key(|&c| {
                let (ci, cj) = g.cell_of(c as usize);
                let d = (ci as i64 - ei as i64).pow(2) + (cj as i64 - ej as i64).pow(2);
                (d, c)
            });
        let Some(target) = best.map(|c| fire.net.access[c as usize]) else {
            continue;
        };
        let (_, mut en) = engines
            .get_mut(ent)
            .expect("sorted_engines lists entities of this query");
        if target == en.cell {
            continue;
        }
        if let Some(route) = plan(
            &fire.net,
            en.cell,
            target,
            t_end,
            roads.closures,
            roads.couplings,
        ) {
            en.task = Task::Driving {
                purpose: Purpose::Reposition { incident },
                route,
            };
        }
    }
}

fn send_home(
    fire: &FireSim,
    engines: &mut Query<(Entity, &mut Engine)>,
    ent: Entity,
    t: f64,
    closures: Option<&Closures>,
    couplings: Option<&Couplings>,
) {
    let Ok((_, mut en)) = engines.get_mut(ent) else {
        return;
    };
    if matches!(en.task, Task::Idle) {
        return;
    }
    if en.cell == en.home {
        en.task = Task::Idle;
        return;
    }
    let route = plan(&fire.net, en.cell, en.home, t, closures, couplings).unwrap_or(Route {
        cells: vec![en.cell],
        times: vec![t],
        version: closures.map_or(0, |c| c.version),
        stuck: true,
    });
    en.task = Task::Driving {
        purpose: Purpose::Return,
        route,
    };
}

/// Phase::Movement: engines drive their routes, re-routing around closed roads; arrivals
/// start set-up, returns free the engine.
pub fn movement_system(
    clock: Res<SimClock>,
    mut fire: ResMut<FireSim>,
    mut engines: Query<(Entity, &mut Engine)>,
    closures: Option<Res<Closures>>,
    couplings: Option<Res<Couplings>>,
    mut log: ResMut<EventLog>,
) {
    let (t, t_end) = (clock.t(), clock.t_end());
    let fire = &mut *fire;
    let roads = Roads {
        closures: closures.as_deref(),
        couplings: couplings.as_deref(),
    };
    for (_, ent) in sorted_engines(&engines) {
        let (_, mut en) = engines
            .get_mut(ent)
            .expect("sorted_engines lists entities of this query");
        let en = &mut *en;
        let Task::Driving { purpose, route } = &mut en.task else {
            continue;
        };
        let purpose = *purpose;
        if route.version != roads.version() {
            reroute_if_closed(fire, &en.id, route, t, roads, &mut log);
        }
        let k = route.index_at(t_end);
        en.cell = route.cells[k.min(route.cells.len() - 1)];
        let arrive = *route.times.last().expect("non-empty");
        if route.stuck || t_end < arrive {
            continue;
        }
        en.cell = route.target();
        on_arrival(fire, en, purpose, arrive, roads, &mut log);
    }
}

/// The closures changed since the route was planned: if a closed cell lies ahead (or the
/// engine was stuck), plan again from the last cell reached, or wait there.
fn reroute_if_closed(
    fire: &FireSim,
    engine: &str,
    route: &mut Route,
    t: f64,
    roads: Roads,
    log: &mut EventLog,
) {
    let version = roads.version();
    let mask = Couplings::of(roads.couplings).vehicle_mask();
    route.version = version;
    let k = route.index_at(t).min(route.cells.len() - 1);
    let blocked = roads.closures.is_some_and(|cl| {
        route.cells[k..]
            .iter()
            .any(|&c| cl.blocked_by(c as usize, mask))
    });
    if !(blocked || route.stuck) {
        return;
    }
    let here = route.cells[k];
    let start = route.times[k].max(t);
    let old_eta = *route.times.last().expect("non-empty");
    match plan(
        &fire.net,
        here,
        route.target(),
        start,
        roads.closures,
        roads.couplings,
    ) {
        Some(new) => {
            let delay = new.times.last().copied().unwrap_or(start) - old_eta;
            *route = new;
            log.emit(t, "fire", outputs::ENGINE_REROUTED.name, Severity::Minor)
                .at(fire.place(here))
                .message(format!(
                    "engine {engine} re-routed around a closed road ({delay:+.0} s)"
                ))
                .with("engine", engine.to_owned())
                .with("delay_s", delay);
        }
        None => {
            if !route.stuck {
                log.emit(t, "fire", outputs::ENGINE_STRANDED.name, Severity::Major)
                    .at(fire.place(here))
                    .message(format!(
                        "engine {engine} has no open route; waiting for roads to reopen"
                    ))
                    .with("engine", engine.to_owned());
            }
            *route = Route {
                cells: vec![here, route.target()],
                times: vec![start, f64::INFINITY],
                version,
                stuck: true,
            };
        }
    }
}

/// An engine reached the end of its route at `arrive`: home (idle), in position (set-up
/// starts), or on scene (its response time is recorded) unless the fire is already out
/// (it drives home).
fn on_arrival(
    fire: &mut FireSim,
    en: &mut Engine,
    purpose: Purpose,
    arrive: f64,
    roads: Roads,
    log: &mut EventLog,
) {
    let setup = fire.service.setup_s;
    match purpose {
        Purpose::Return => en.task = Task::Idle,
        Purpose::Reposition { incident } => {
            en.task = Task::Working {
                incident,
                from: arrive + setup,
            }
        }
        Purpose::Respond { incident, t_order } => {
            let i = incident as usize;
            if fire.incidents[i].out.is_some() {
                en.task = Task::Idle;
                let home = en.home;
                if en.cell != home
                    && let Some(r) = plan(
                        &fire.net,
                        en.cell,
                        home,
                        arrive,
                        roads.closures,
                        roads.couplings,
                    )
                {
                    en.task = Task::Driving {
                        purpose: Purpose::Return,
                        route: r,
                    };
                }
                return;
            }
            en.task = Task::Working {
                incident,
                from: arrive + setup,
            };
            let response = arrive - t_order;
            fire.incidents[i].working = true;
            if fire.incidents[i].first_arrival.is_none() {
                fire.incidents[i].first_arrival = Some(arrive);
                fire.response_times.push(response);
            }
            let id = en.id.clone();
            let cell = en.cell;
            log.emit(
                arrive,
                "fire",
                outputs::ENGINE_ARRIVED.name,
                Severity::Moderate,
            )
            .at(fire.place(cell))
            .message(format!(
                "engine {id} on scene at fire {incident}, {:.0} s after the dispatch order",
                response
            ))
            .with("incident", incident)
            .with("engine", id)
            .with("response_time_s", response)
            .with("travel_time_s", arrive - t_order - fire.service.turnout_s);
        }
    }
}
