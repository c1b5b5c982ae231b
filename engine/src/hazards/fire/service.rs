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

use bevy_ecs::prelude::*;

use super::roads::{NONE, RoadNet};
use super::spread::BURNING;
use super::{FireSim, Incident};
use crate::coupling::{Closures, Couplings, FireState};
use crate::events::{EventLog, Place, Severity};
use crate::sim::SimClock;

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

fn place(fire: &FireSim, cell: u32, name: Option<String>) -> Place {
    let g = fire.grid;
    let (i, j) = g.cell_of(cell as usize);
    let (x, y) = g.center(i, j);
    Place {
        x,
        y,
        cell: Some([i as u32, j as u32]),
        name,
    }
}

fn sorted_engines(engines: &Query<(Entity, &mut Engine)>) -> Vec<(u32, Entity)> {
    let mut v: Vec<(u32, Entity)> = engines.iter().map(|(e, en)| (en.order, e)).collect();
    v.sort_unstable_by_key(|x| x.0);
    v
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
    let version = closures.as_ref().map_or(0, |c| c.version);
    for k in 0..fire.incidents.len() {
        let inc = &mut fire.incidents[k];
        if !inc.reported && t_end >= inc.t_ignition + p.detection_s {
            inc.reported = true;
            inc.t_report = inc.t_ignition + p.detection_s;
            let (cell, t_report, id) = (inc.cell, inc.t_report, inc.id);
            let access = inc.access;
            let pl = place(fire, cell, None);
            log.emit(t_report, "fire", "fire.reported", Severity::Major)
                .at(pl.clone())
                .message(format!("fire {id} reported"))
                .with("incident", id);
            if access == NONE && p.enabled {
                log.emit(t_report, "fire", "fire.unreachable", Severity::Major)
                    .at(pl)
                    .message(format!(
                        "fire {id}: no road within {} m, engines cannot reach it",
                        p.hose_reach_m
                    ))
                    .with("incident", id);
            }
        }
    }
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
        let inc = &fire.incidents[k];
        if !inc.reported || inc.out.is_some() || inc.access == NONE {
            continue;
        }
        let t_first = inc.t_report + p.alarm_handling_s;
        let (want, t_order) = if !inc.first_alarm {
            if t_end < t_first {
                continue;
            }
            (p.first_alarm_engines, t_first)
        } else if inc.working && inc.contained.is_none() {
            let committed = inc.engines.len() as f64 * p.engine_flow_l_min;
            let short = inc.needed_l_min - committed;
            if short <= 0.0 {
                continue;
            }
            let n = (short / p.engine_flow_l_min).ceil() as u32;
            let cap = p
                .max_engines_per_incident
                .map_or(u32::MAX, |m| m.saturating_sub(inc.engines.len() as u32));
            (n.min(cap), t)
        } else {
            continue;
        };
        if want == 0 {
            continue;
        }
        let free: Vec<&(u32, Entity, u32)> =
            idle.iter().filter(|x| !taken.contains(&x.1)).collect();
        // Search again only when the idle engines or the closures have changed since
        // the last attempt for this incident (a fire no engine can reach would
        // otherwise cost a full search every tick).
        let key = (free.len() as u64, version);
        if fire.incidents[k].last_try == Some(key) {
            continue;
        }
        fire.incidents[k].last_try = Some(key);
        if free.is_empty() {
            continue;
        }
        let access = fire.incidents[k].access;
        let homes: Vec<u32> = free.iter().map(|x| x.2).collect();
        let blocked = blocked_fn(closures.as_deref(), couplings.as_deref());
        let tree = fire.net.search(&[(access, 0.0)], &blocked, &homes);
        let mut cands: Vec<(f64, u32, Entity, u32)> = free
            .iter()
            .filter(|x| tree.time[x.2 as usize].is_finite())
            .map(|x| (tree.time[x.2 as usize], x.0, x.1, x.2))
            .collect();
        cands.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        if cands.is_empty() {
            if !fire.incidents[k].no_route_reported {
                fire.incidents[k].no_route_reported = true;
                let (cell, id) = (fire.incidents[k].cell, fire.incidents[k].id);
                log.emit(t_order, "fire", "fire.no_route", Severity::Major)
                    .at(place(fire, cell, None))
                    .message(format!(
                        "fire {id}: no available engine has a road route to it"
                    ))
                    .with("incident", id);
            }
            continue;
        }
        fire.incidents[k].first_alarm = true;
        for &(_, _, ent, home) in cands.iter().take(want as usize) {
            let Some(mut path) = tree.path_to(home) else {
                continue;
            };
            path.reverse();
            let depart = t_order + p.turnout_s;
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
            log.emit(t_order, "fire", "engine.dispatched", Severity::Moderate)
                .at(place(fire, cell, None))
                .message(format!(
                    "engine {} dispatched to fire {id}, expected in {:.0} s",
                    en.id, eta
                ))
                .with("incident", id)
                .with("engine", en.id.clone())
                .with("eta_s", eta);
        }
    }
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
    let couplings = couplings.as_deref();
    let fire = &mut *fire;
    let p = fire.service;
    let cell_area = fire.grid.cell_area();
    let n_inc = fire.incidents.len();
    let mut needed_inc = vec![0.0f64; n_inc];
    let mut burning_inc = vec![0u32; n_inc];
    let mut held_inc = vec![0u32; n_inc];
    let burning: Vec<u32> = fire
        .spread
        .burning
        .iter()
        .copied()
        .filter(|&c| fire.spread.status[c as usize] == BURNING)
        .collect();
    let need = |fire: &FireSim, c: u32| {
        p.needed_flow_l_min_m2 * cell_area * fire.spread.involvement(c as usize, t_end)
    };
    for &c in &burning {
        let i = fire.spread.incident[c as usize] as usize;
        if i < n_inc {
            needed_inc[i] += need(fire, c);
            burning_inc[i] += 1;
        }
    }
    // Allocate the flow of working engines, in engine order.
    let order = sorted_engines(&engines);
    let reach2 = p.hose_reach_m * p.hose_reach_m;
    let g = fire.grid;
    let mut touched: Vec<u32> = Vec::new();
    let mut relocate: Vec<(Entity, u32)> = Vec::new();
    for &(_, ent) in &order {
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
            if burning_inc.get(incident as usize).copied().unwrap_or(0) > 0 {
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
            let want = need(fire, c) - f64::from(fire.given[c as usize]);
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
    // Apply: hold, slow or leave each burning cell.
    for &c in &burning {
        let cu = c as usize;
        let needed = need(fire, c);
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
            if i < n_inc {
                held_inc[i] += 1;
            }
            if f64::from(fire.knockdown[cu]) >= p.knockdown_s {
                fire.spread.extinguish(cu);
                fire.on_cell_out(cu, &mut state, closures.as_deref_mut(), false);
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
    for c in touched {
        fire.given[c as usize] = 0.0;
    }
    // Incidents: contained, out.
    for k in 0..n_inc {
        fire.incidents[k].needed_l_min = needed_inc[k];
        let inc = &fire.incidents[k];
        if inc.out.is_some() || !inc.started {
            continue;
        }
        if burning_inc[k] == 0 {
            let id = inc.id;
            fire.incidents[k].out = Some(t_end);
            let Incident {
                cell,
                cells_reached,
                t_ignition,
                ..
            } = fire.incidents[k].clone();
            let buildings = fire.incidents[k].buildings;
            let pl = place(fire, cell, None);
            log.emit(t_end, "fire", "fire.out", Severity::Moderate)
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
                send_home(
                    fire,
                    &mut engines,
                    ent,
                    t_end,
                    closures.as_deref(),
                    couplings,
                );
            }
        } else if held_inc[k] == burning_inc[k] && inc.contained.is_none() && inc.working {
            let id = inc.id;
            let cell = inc.cell;
            fire.incidents[k].contained = Some(t_end);
            let since = t_end - fire.incidents[k].t_ignition;
            log.emit(t_end, "fire", "fire.contained", Severity::Moderate)
                .at(place(fire, cell, None))
                .message(format!(
                    "fire {id} contained {:.0} min after ignition",
                    since / 60.0
                ))
                .with("incident", id)
                .with("since_ignition_s", since)
                .with("engines", fire.incidents[k].engines.len());
        }
    }
    // Engines with nothing in reach move to the road nearest their incident's fire.
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
            closures.as_deref(),
            couplings,
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
    let setup = fire.service.setup_s;
    let couplings = couplings.as_deref();
    let mask = Couplings::of(couplings).vehicle_mask();
    let version = closures.as_ref().map_or(0, |c| c.version);
    for (_, ent) in sorted_engines(&engines) {
        let (_, mut en) = engines
            .get_mut(ent)
            .expect("sorted_engines lists entities of this query");
        let en = &mut *en;
        let Task::Driving { purpose, route } = &mut en.task else {
            continue;
        };
        let purpose = *purpose;
        if route.version != version {
            route.version = version;
            let k = route.index_at(t).min(route.cells.len() - 1);
            let blocked = closures.as_deref().is_some_and(|cl| {
                route.cells[k..]
                    .iter()
                    .any(|&c| cl.blocked_by(c as usize, mask))
            });
            if blocked || route.stuck {
                let here = route.cells[k];
                let start = route.times[k].max(t);
                let old_eta = *route.times.last().expect("non-empty");
                match plan(
                    &fire.net,
                    here,
                    route.target(),
                    start,
                    closures.as_deref(),
                    couplings,
                ) {
                    Some(new) => {
                        let delay = new.times.last().copied().unwrap_or(start) - old_eta;
                        *route = new;
                        log.emit(t, "fire", "engine.rerouted", Severity::Minor)
                            .at(place(fire, here, None))
                            .message(format!(
                                "engine {} re-routed around a closed road ({:+.0} s)",
                                en.id, delay
                            ))
                            .with("engine", en.id.clone())
                            .with("delay_s", delay);
                    }
                    None => {
                        if !route.stuck {
                            log.emit(t, "fire", "engine.stranded", Severity::Major)
                                .at(place(fire, here, None))
                                .message(format!(
                                    "engine {} has no open route; waiting for roads to reopen",
                                    en.id
                                ))
                                .with("engine", en.id.clone());
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
        }
        let k = route.index_at(t_end);
        en.cell = route.cells[k.min(route.cells.len() - 1)];
        let arrive = *route.times.last().expect("non-empty");
        if route.stuck || t_end < arrive {
            continue;
        }
        en.cell = route.target();
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
                            closures.as_deref(),
                            couplings,
                        )
                    {
                        en.task = Task::Driving {
                            purpose: Purpose::Return,
                            route: r,
                        };
                    }
                    continue;
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
                log.emit(arrive, "fire", "engine.arrived", Severity::Moderate)
                    .at(place(fire, cell, None))
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
}
