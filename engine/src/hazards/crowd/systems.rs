//! The crowd systems: one tick in `Phase::Movement` (gates, the evacuation order,
//! closures from other hazards, metro entrances, the model's sub-steps with arrivals,
//! routes, injuries, density and crush-risk events, gauges, and the write-back of the
//! dense state to the ECS components), and the KPIs and map at the finish.

use bevy_ecs::prelude::*;

use super::density::Change;
use super::model::{NO_GOAL, state};
use super::outputs as out;
use super::state::{CrowdSim, Goal, Mode, PedState, Position, Velocity, centre_of};
use crate::city::assets::{Asset, Operational};
use crate::coupling::{Closures, Couplings, Warnings, WaterDepth};
use crate::events::{Event, EventLog, Place, Severity};
use crate::metrics::{Metrics, OutputDef};
use crate::sim::{MapOutputs, RunHealth, SimClock};

/// What other hazards impose on walkers this tick, as far as the scenario's couplings
/// let them count: `flood_walk` (FLOOD_WALK and the depth limit) and `fire_routes`
/// (FIRE); see `Couplings::walk_mask`.
struct Imposed {
    walk_mask: u8,
    /// The closures' version and flags.
    closures: Option<(u64, Vec<u8>)>,
    /// Water depth, m (city cells).
    depth: Option<Vec<f32>>,
}

impl Imposed {
    fn read(world: &World) -> Self {
        let couplings = Couplings::of(world.get_resource::<Couplings>());
        Self {
            walk_mask: couplings.walk_mask(),
            closures: world
                .get_resource::<Closures>()
                .map(|c| (c.version, c.flags.clone())),
            depth: world
                .get_resource::<WaterDepth>()
                .filter(|_| couplings.flood_walk)
                .map(|d| d.0.clone()),
        }
    }
}

/// Emit an event of a kind from the outputs table.
fn emit<'l>(log: &'l mut EventLog, t: f64, kind: &OutputDef, severity: Severity) -> &'l mut Event {
    log.emit(t, "crowd", kind.name, severity)
}

/// One tick: sub-steps, arrivals, routes, density, events, metrics, ECS write-back.
pub(super) fn crowd_tick(world: &mut World) {
    let clock = world.resource::<SimClock>().clone();
    let (t0, tick) = (clock.t(), clock.dt);
    let imposed = Imposed::read(world);
    world.resource_scope(|world, mut cs: Mut<CrowdSim>| {
        let cs = &mut *cs;
        let mut nav_dirty = t0 == 0.0;
        if update_gates(cs, world, t0) {
            nav_dirty = true;
            cs.rebuild_walls();
        }
        if let Mode::District {
            walk_depth_limit,
            warning_s,
        } = cs.mode
        {
            order_evacuation(cs, world, t0, tick, warning_s);
            nav_dirty |= apply_closures(cs, &imposed, walk_depth_limit);
        }
        if !cs.metro_groups.is_empty() {
            // Flags set in this tick's Impacts phase hold from its end.
            metro_closures(cs, world, t0 + tick);
        }
        sub_steps(cs, world, t0, tick);
        let t1 = t0 + tick;
        if nav_dirty || t1 >= cs.next_reroute {
            cs.recompute_fields();
            cs.reroute();
            cs.next_reroute = t1 + cs.reroute_interval;
        }
        if let Some(failure) = non_finite_state(cs, t1) {
            world.resource_mut::<RunHealth>().fail(failure);
            return;
        }
        report_injuries(cs, world, t1);
        density_and_places(cs, world, t0, tick);
        write_metrics(cs, world, tick);
        sync_entities(cs, world);
    });
}

/// KPIs and the peak-density map.
pub(super) fn crowd_finish(
    cs: Option<Res<CrowdSim>>,
    mut metrics: ResMut<Metrics>,
    maps: Option<ResMut<MapOutputs>>,
) {
    let Some(cs) = cs else {
        return;
    };
    out::write_kpis(&cs, &mut metrics);
    if let Some(mut maps) = maps {
        maps.0.push(out::peak_density_map(&cs));
    }
}

/// Gates open and shut on their times. Returns whether any did.
fn update_gates(cs: &mut CrowdSim, world: &mut World, t0: f64) -> bool {
    let mut changed = false;
    for g in 0..cs.goals.len() {
        let info = &cs.goals[g];
        let should = t0 >= info.open_at && t0 < info.close_at;
        if should == cs.open[g] {
            continue;
        }
        cs.open[g] = should;
        changed = true;
        let (kind, severity, what) = if should {
            (&out::GATE_OPENED, Severity::Info, "opens")
        } else {
            (
                &out::GATE_CLOSED,
                Severity::Major,
                "shuts: the crowd turns to the other gates",
            )
        };
        emit(&mut world.resource_mut::<EventLog>(), t0, kind, severity)
            .at(Place {
                x: info.x,
                y: info.y,
                cell: None,
                name: Some(format!("gate {}", info.name)),
            })
            .message(format!("gate {} {what}", info.name));
    }
    changed
}

/// The district's order: at `warning_s`, or `warning_s` after the named hazard warning.
fn order_evacuation(cs: &mut CrowdSim, world: &mut World, t0: f64, tick: f64, warning_s: f64) {
    let t_order = match &cs.order_on {
        None => Some(warning_s),
        Some(name) => world
            .get_resource::<Warnings>()
            .and_then(|w| w.time_of(name))
            .map(|t| t + warning_s),
    };
    let Some(t_order) = t_order else {
        return;
    };
    let due = !cs.ordered && t0 + tick > t_order;
    if !due {
        return;
    }
    cs.ordered = true;
    cs.t_order = Some(t_order);
    if cs.order_on.is_some() {
        // Start times were drawn relative to the order.
        for s in &mut cs.pending.start {
            *s += t_order as f32;
        }
    }
    let by = cs
        .order_on
        .as_ref()
        .map_or_else(String::new, |w| format!(" (on the {w} warning)"));
    emit(
        &mut world.resource_mut::<EventLog>(),
        t_order.max(t0),
        &out::EVACUATION_ORDERED,
        Severity::Major,
    )
    .at(centre_of(&cs.map_grid))
    .message(format!(
        "evacuation order{by}: residents leave for the shelters"
    ))
    .with("people", cs.people_total.round());
}

/// Cells closed to walkers by other hazards (flags, and water above the depth limit).
/// Returns whether any changed.
fn apply_closures(cs: &mut CrowdSim, imposed: &Imposed, walk_depth_limit: Option<f64>) -> bool {
    let version = imposed.closures.as_ref().map_or(0, |c| c.0);
    if version == cs.closures_version && walk_depth_limit.is_none() {
        return false;
    }
    let (nx, ny) = (cs.crowd.grid.nx, cs.crowd.grid.ny);
    let mut changed = false;
    for k in 0..cs.closed.len() {
        // The walking grid's row 0 is the city's last.
        let ck = (ny - 1 - k / nx) * nx + k % nx;
        let by_flag = imposed
            .closures
            .as_ref()
            .is_some_and(|c| c.1[ck] & imposed.walk_mask != 0);
        let by_depth = match (&imposed.depth, walk_depth_limit) {
            (Some(d), Some(lim)) => f64::from(d[ck]) > lim,
            _ => false,
        };
        let c = by_flag || by_depth;
        if c != cs.closed[k] {
            cs.closed[k] = c;
            changed = true;
        }
    }
    cs.closures_version = version;
    changed
}

/// The model's sub-steps through the tick, with people leaving home before each and
/// arrivals after it.
fn sub_steps(cs: &mut CrowdSim, world: &mut World, t0: f64, tick: f64) {
    let n_sub = (tick / f64::from(cs.dt)).ceil().max(1.0) as usize;
    let h = (tick / n_sub as f64) as f32;
    for s in 0..n_sub {
        let t = t0 + s as f64 * f64::from(h);
        release_pending(cs, t + f64::from(h));
        cs.crowd.t = t;
        cs.crowd.step(h);
        handle_arrivals(cs, world, t + f64::from(h));
    }
}

/// The run's failure message if a person's state is not a number.
fn non_finite_state(cs: &CrowdSim, t1: f64) -> Option<String> {
    let k = cs.crowd.first_nan()?;
    let a = &cs.crowd.agents;
    let cell = cs
        .crowd
        .grid
        .locate(a.x[k], a.y[k])
        .map(|c| (c % cs.crowd.grid.nx, c / cs.crowd.grid.nx));
    Some(format!(
        "crowd: non-finite state of person {} at cell {:?}, t={t1}",
        a.id[k], cell
    ))
}

/// Injuries (social force model): one event when more people are crushed.
fn report_injuries(cs: &mut CrowdSim, world: &mut World, t1: f64) {
    let injured = cs
        .crowd
        .agents
        .state
        .iter()
        .filter(|&&s| s == state::INJURED)
        .count();
    if injured <= cs.injured_reported {
        return;
    }
    let k = cs
        .crowd
        .agents
        .state
        .iter()
        .position(|&s| s == state::INJURED)
        .unwrap_or(0);
    let (x, y) = (
        f64::from(cs.crowd.agents.x[k]) + cs.offset.0,
        f64::from(cs.crowd.agents.y[k]) + cs.offset.1,
    );
    emit(
        &mut world.resource_mut::<EventLog>(),
        t1,
        &out::INJURED,
        Severity::Critical,
    )
    .at(Place {
        x,
        y,
        cell: None,
        name: None,
    })
    .message(format!(
        "{} people crushed (compression above 1600 N/m)",
        injured - cs.injured_reported
    ))
    .with(
        "people",
        ((injured - cs.injured_reported) as f64 * cs.ppa).round(),
    );
    cs.injured_reported = injured;
}

/// Metro entrances out of service (no power under `power_metro`, or flooded: their
/// asset's `Operational` flag) put their passengers on the street, walking to the
/// shelters from the entrance.
fn metro_closures(cs: &mut CrowdSim, world: &mut World, t: f64) {
    let mut q = world.query::<(&Asset, &Operational)>();
    let down: Vec<String> = q
        .iter(world)
        .filter(|(_, o)| !o.0)
        .map(|(a, _)| a.id.clone())
        .collect();
    for k in 0..cs.metro_groups.len() {
        let grp = &cs.metro_groups[k];
        if grp.released || !down.contains(&grp.asset) {
            continue;
        }
        let range = grp.agents.clone();
        let people = range.len() as f64 * cs.ppa;
        for s in range {
            let m = &cs.metro;
            let goal = cs.best_goal(m.x[s], m.y[s]).unwrap_or(NO_GOAL);
            cs.crowd
                .agents
                .push(m.id[s], m.x[s], m.y[s], m.v0[s], m.r[s], goal, t as f32);
        }
        cs.metro_people += people;
        cs.people_total += people;
        let grp = &mut cs.metro_groups[k];
        grp.released = true;
        let message = format!(
            "metro entrance {} out of service: {people:.0} passengers put on the street walk to the shelters",
            grp.asset
        );
        emit(
            &mut world.resource_mut::<EventLog>(),
            t,
            &out::METRO_CLOSED,
            Severity::Major,
        )
        .at(Place {
            x: grp.x,
            y: grp.y,
            cell: None,
            name: Some(grp.asset.clone()),
        })
        .message(message)
        .with("people", people);
    }
}

/// Move people whose pre-movement time has passed from their homes onto the street.
fn release_pending(cs: &mut CrowdSim, t: f64) {
    // Nobody leaves before the order (with a hazard warning it may never come).
    if !cs.ordered && matches!(cs.mode, Mode::District { .. }) {
        return;
    }
    let start = cs.next_pending;
    while cs.next_pending < cs.pending.len() && f64::from(cs.pending.start[cs.next_pending]) <= t {
        cs.next_pending += 1;
    }
    for k in start..cs.next_pending {
        let p = &cs.pending;
        let goal = cs.best_goal(p.x[k], p.y[k]).unwrap_or(NO_GOAL);
        cs.crowd
            .agents
            .push(p.id[k], p.x[k], p.y[k], p.v0[k], p.r[k], goal, p.start[k]);
    }
}

/// People who reached a gate or a shelter: out of the crowd and counted; full shelters
/// turn people away.
fn handle_arrivals(cs: &mut CrowdSim, world: &mut World, t: f64) {
    let arrivals = cs.crowd.arrivals();
    if arrivals.is_empty() {
        return;
    }
    let mut keep = vec![true; cs.crowd.agents.len()];
    let mut became_full = Vec::new();
    for (k, g) in arrivals {
        let g = g as usize;
        let info = &cs.goals[g];
        if info.is_gate {
            keep[k] = false;
        } else if cs.full[g] {
            // Turned away: on to the next shelter.
            let (x, y) = (cs.crowd.agents.x[k], cs.crowd.agents.y[k]);
            cs.crowd.agents.goal[k] = cs.best_goal(x, y).unwrap_or(NO_GOAL);
            continue;
        } else {
            keep[k] = false;
            cs.occupancy[g] += cs.ppa;
            let id = cs.crowd.agents.id[k] as usize;
            if let Some(t_order) = cs.t_order
                && id < cs.entities.len() - cs.metro.len()
            {
                cs.evac_time_sum += cs.ppa * (t - t_order);
                cs.evac_people += cs.ppa;
            }
            if cs.occupancy[g] >= info.capacity {
                cs.full[g] = true;
                became_full.push(g);
            }
        }
        cs.through[g] += cs.ppa;
        cs.safe_people += cs.ppa;
        cs.removed.push(cs.crowd.agents.id[k]);
    }
    for g in became_full {
        let info = &cs.goals[g];
        emit(
            &mut world.resource_mut::<EventLog>(),
            t,
            &out::SHELTER_FULL,
            Severity::Major,
        )
        .at(Place {
            x: info.x,
            y: info.y,
            cell: None,
            name: Some(info.name.clone()),
        })
        .message(format!(
            "shelter {} is full ({:.0} people); later arrivals are sent to the next shelter",
            info.name, cs.occupancy[g]
        ))
        .with("occupancy_people", cs.occupancy[g].round())
        .with("capacity_people", info.capacity);
        // Everyone heading there turns to another shelter now.
        for (k, &kept) in keep.iter().enumerate() {
            if cs.crowd.agents.goal[k] == g as u16 && kept {
                let (x, y) = (cs.crowd.agents.x[k], cs.crowd.agents.y[k]);
                cs.crowd.agents.goal[k] = cs.best_goal(x, y).unwrap_or(NO_GOAL);
            }
        }
    }
    cs.crowd.agents.retain(&keep);
    let share = cs.safe_people / cs.people_total.max(1.0);
    if cs.t95.is_none() && share >= 0.95 {
        cs.t95 = Some(t);
    }
    if !cs.complete && cs.safe_people >= cs.people_total - 1e-9 {
        cs.complete = true;
        emit(
            &mut world.resource_mut::<EventLog>(),
            t,
            &out::EVACUATION_COMPLETE,
            Severity::Info,
        )
        .at(centre_of(&cs.map_grid))
        .message(format!("everyone has reached safety after {t:.0} s"))
        .with("people", cs.people_total.round());
    }
}

/// Densities of this tick: the peak map, and the crush-risk events of places.
fn density_and_places(cs: &mut CrowdSim, world: &mut World, t0: f64, tick: f64) {
    let a = &cs.crowd.agents;
    // Positions relative to the map grid's south-west corner.
    let (ox, oy) = (cs.offset.0 - cs.map_grid.x0, cs.offset.1 - cs.map_grid.y0);
    let xs: Vec<f32> = a.x.iter().map(|&x| (f64::from(x) + ox) as f32).collect();
    let ys: Vec<f32> = a.y.iter().map(|&y| (f64::from(y) + oy) as f32).collect();
    // Cells of √(people per agent) m: one sampled agent in a 3 × 3-cell window never
    // weighs more than one person in a 3 × 3 m window (1 m cells when unsampled).
    let dcell = cs.ppa.sqrt();
    cs.density.compute(&xs, &ys, dcell, cs.ppa);
    let g = cs.map_grid;
    let ratio = g.cell / dcell;
    for &((r, c), rho) in &cs.density.cells {
        let i = (f64::from(c) / ratio).floor();
        let j = (f64::from(r) / ratio).floor();
        if i >= 0.0 && j >= 0.0 && (i as usize) < g.nx && (j as usize) < g.ny {
            let k = (g.ny - 1 - j as usize) * g.nx + i as usize;
            cs.peak_map[k] = cs.peak_map[k].max(rho as f32);
        }
    }
    cs.peak_density = cs.peak_density.max(cs.density.max());
    let changes = cs.places.update(&cs.density, dcell, t0, tick);
    for (tile, change, rho) in changes {
        let place = cs.place_of(tile);
        let name = place.name.clone().unwrap_or_default();
        let mut log = world.resource_mut::<EventLog>();
        match change {
            Change::High => {
                emit(&mut log, t0, &out::DENSITY_HIGH, Severity::Major)
                    .at(place)
                    .message(format!(
                        "{name}: {rho:.1} P/m², above 4 P/m² (high risk for a moving crowd, Still)"
                    ))
                    .with("density_p_m2", rho);
            }
            Change::Critical => {
                emit(&mut log, t0, &out::DENSITY_CRITICAL, Severity::Critical)
                    .at(place)
                    .message(format!(
                        "{name}: {rho:.1} P/m², above 5.5 P/m² (dangerous crowd forces, Fruin): crush risk"
                    ))
                    .with("density_p_m2", rho);
            }
            Change::Cleared { duration } => {
                let p = &cs.places.risk[&tile];
                emit(&mut log, t0, &out::DENSITY_CLEARED, Severity::Minor)
                    .at(place)
                    .message(format!(
                        "{name}: density back below 3.6 P/m² for 10 s; it was high for {duration:.0} s"
                    ))
                    .with("duration_s", duration)
                    .with("peak_density_p_m2", p.peak)
                    .with("time_above_4_s", p.above_high_s)
                    .with("time_above_5_5_s", p.above_critical_s);
            }
        }
    }
}

/// The gauges of this tick.
fn write_metrics(cs: &mut CrowdSim, world: &mut World, tick: f64) {
    let a = &cs.crowd.agents;
    let moving = a.state.iter().filter(|&&s| s == state::MOVING).count() as f64;
    let waiting = a.state.iter().filter(|&&s| s == state::WAITING).count() as f64
        + (cs.pending.len() - cs.next_pending) as f64;
    let mut m = world.resource_mut::<Metrics>();
    m.set(cs.ids.share, cs.safe_people / cs.people_total.max(1.0));
    m.set(cs.ids.safe, cs.safe_people);
    m.set(cs.ids.moving, moving * cs.ppa);
    m.set(cs.ids.waiting, waiting * cs.ppa);
    m.set(cs.ids.stranded, cs.stranded as f64 * cs.ppa);
    m.set(cs.ids.peak, cs.density.max());
    for (g, info) in cs.goals.iter().enumerate() {
        let v = if info.is_gate {
            cs.through[g] / tick
        } else {
            cs.occupancy[g]
        };
        m.set(cs.ids.per_goal[g], v);
        cs.through[g] = 0.0;
    }
}

/// Write the dense state back to the components (once per tick).
fn sync_entities(cs: &mut CrowdSim, world: &mut World) {
    let (ox, oy) = cs.offset;
    let mut q = world.query::<(&mut Position, &mut Velocity, &mut Goal, &mut PedState)>();
    let a = &cs.crowd.agents;
    for k in 0..a.len() {
        let e = cs.entities[a.id[k] as usize];
        if let Ok((mut p, mut v, mut g, mut s)) = q.get_mut(world, e) {
            p.x = f64::from(a.x[k]) + ox;
            p.y = f64::from(a.y[k]) + oy;
            v.vx = a.vx[k];
            v.vy = a.vy[k];
            g.0 = (a.goal[k] != NO_GOAL).then_some(a.goal[k]);
            *s = match a.state[k] {
                state::WAITING => PedState::Waiting,
                state::INJURED => PedState::Injured,
                _ => PedState::Moving,
            };
        }
    }
    for id in cs.removed.drain(..) {
        if let Ok((_, mut v, _, mut s)) = q.get_mut(world, cs.entities[id as usize]) {
            v.vx = 0.0;
            v.vy = 0.0;
            *s = PedState::Sheltered;
        }
    }
}
