//! The crowd plugin at run time: sub-stepping the model inside a tick, gates that open
//! and shut, shelters that fill, routes re-chosen on density-slowed fields, closures
//! from other hazards, density and crush-risk events, metrics, KPIs, and the write-back
//! of the dense state to the ECS components.

use bevy_ecs::prelude::*;
use rayon::prelude::*;

use super::density::{Change, Density, Places};
use super::geometry::{Segment, Walls};
use super::model::{Agents, Crowd, NO_GOAL, state};
use super::navigation::Field;
use super::validation::weidmann;
use super::{
    Built, CrowdSpec, DesiredSpeed, Goal, PedState, Pedestrian, Position, Radius, Velocity, Warning,
};
use crate::city::assets::{Asset, Operational};
use crate::coupling::{Closures, Couplings, Warnings, WaterDepth};
use crate::events::{EventLog, Place, Severity};
use crate::grid::{GridSpec, Palette, Raster, RasterKind};
use crate::metrics::{MetricId, Metrics};
use crate::sim::{MapOutputs, RunHealth, SimClock};

/// Which scenario the crowd runs.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Mode {
    Venue,
    District {
        walk_depth_limit: Option<f64>,
        warning_s: f64,
    },
}

/// The passengers behind one metro entrance (district).
#[derive(Debug, Clone)]
pub(crate) struct MetroGroup {
    /// The entrance's asset id.
    pub asset: String,
    pub x: f64,
    pub y: f64,
    /// Their slots in `CrowdSim::metro`.
    pub agents: std::ops::Range<usize>,
    /// Already on the street.
    pub released: bool,
}

/// A gate or a shelter.
#[derive(Debug, Clone)]
pub(crate) struct GoalInfo {
    pub name: String,
    /// Map position, m.
    pub x: f64,
    pub y: f64,
    /// People it takes (∞ for gates and shelters of unknown capacity).
    pub capacity: f64,
    pub open_at: f64,
    pub close_at: f64,
    pub is_gate: bool,
    /// The wall across a shut gate.
    pub bar: Option<Segment>,
}

struct Ids {
    share: MetricId,
    safe: MetricId,
    moving: MetricId,
    waiting: MetricId,
    stranded: MetricId,
    peak: MetricId,
    per_goal: Vec<MetricId>,
}

/// The plugin's state.
#[derive(Resource)]
pub struct CrowdSim {
    crowd: Crowd,
    mode: Mode,
    goals: Vec<GoalInfo>,
    open: Vec<bool>,
    full: Vec<bool>,
    occupancy: Vec<f64>,
    through: Vec<f64>,
    offset: (f64, f64),
    ppa: f64,
    pending: Agents,
    next_pending: usize,
    base_walls: Vec<Segment>,
    map_grid: GridSpec,
    dt: f32,
    reroute_interval: f64,
    next_reroute: f64,
    /// Walkable speed of each navigation cell before closures and density.
    terrain: Vec<f32>,
    /// Cells closed to walkers by other hazards.
    closed: Vec<bool>,
    closures_version: u64,
    density: Density,
    /// Highest density seen in the run, P/m².
    peak_density: f64,
    places: Places,
    peak_map: Vec<f32>,
    entities: Vec<Entity>,
    removed: Vec<u32>,
    people_total: f64,
    safe_people: f64,
    t95: Option<f64>,
    complete: bool,
    ordered: bool,
    /// The hazard warning that orders the evacuation, if not a fixed time.
    order_on: Option<String>,
    /// Time of the evacuation order, once given.
    t_order: Option<f64>,
    /// Σ people × (arrival − order time), s, and those people (residents only), for the
    /// mean evacuation time.
    evac_time_sum: f64,
    evac_people: f64,
    /// Metro passengers, waiting for their entrance to close.
    metro: Agents,
    metro_groups: Vec<MetroGroup>,
    /// People put on the street by closed metro entrances.
    metro_people: f64,
    injured_reported: usize,
    stranded: usize,
    ids: Ids,
    pub(crate) warnings: Vec<Warning>,
}

impl CrowdSim {
    pub(crate) fn new(b: Built, spec: &CrowdSpec, dt: f32, m: &mut Metrics) -> Self {
        let per_goal = b
            .goals
            .iter()
            .map(|g| {
                if g.is_gate {
                    m.declare(
                        &format!("crowd.gate.{}.flow_p_s", g.name),
                        "P/s",
                        &format!("people leaving through gate {} per second", g.name),
                    )
                } else {
                    m.declare(
                        &format!("crowd.shelter.{}.occupancy_people", g.name),
                        "people",
                        &format!("people inside shelter {}", g.name),
                    )
                }
            })
            .collect();
        let ids = Ids {
            share: m.declare(
                "crowd.evacuated_share",
                "1",
                "share of the people who have reached safety (out of the venue or in a shelter)",
            ),
            safe: m.declare(
                "crowd.safe_people",
                "people",
                "people who have reached safety",
            ),
            moving: m.declare("crowd.moving_people", "people", "people walking"),
            waiting: m.declare(
                "crowd.waiting_people",
                "people",
                "people who have not started to leave",
            ),
            stranded: m.declare(
                "crowd.stranded_people",
                "people",
                "people with no open route to any goal (cut off by water, fire or full shelters)",
            ),
            peak: m.declare(
                "crowd.peak_density_p_m2",
                "P/m²",
                "highest crowd density (1 m cells, 3 × 3 m window)",
            ),
            per_goal,
        };
        let n_goals = b.goals.len();
        let terrain = b.crowd.grid.speed.clone();
        let n_cells = terrain.len();
        let n_ids = b.crowd.agents.len() + b.pending.len();
        let open = b.goals.iter().map(|g| g.open_at <= 0.0).collect();
        Self {
            crowd: b.crowd,
            mode: b.mode,
            open,
            full: vec![false; n_goals],
            occupancy: vec![0.0; n_goals],
            through: vec![0.0; n_goals],
            goals: b.goals,
            offset: b.offset,
            ppa: b.ppa,
            pending: b.pending,
            next_pending: 0,
            base_walls: b.base_walls,
            map_grid: b.map_grid,
            dt,
            reroute_interval: spec.reroute_interval_s,
            next_reroute: 0.0,
            terrain,
            closed: vec![false; n_cells],
            closures_version: 0,
            density: Density::default(),
            peak_density: 0.0,
            places: Places::new(spec.place_m),
            peak_map: vec![0.0; b.map_grid.len()],
            entities: Vec::with_capacity(n_ids),
            removed: Vec::new(),
            people_total: b.people,
            safe_people: 0.0,
            t95: None,
            complete: false,
            ordered: false,
            order_on: b.order_on,
            t_order: None,
            evac_time_sum: 0.0,
            evac_people: 0.0,
            metro: b.metro,
            metro_groups: b.metro_groups,
            metro_people: 0.0,
            injured_reported: 0,
            stranded: 0,
            ids,
            warnings: b.warnings,
        }
    }

    /// One entity per person; `entities[id]` is person `id`'s.
    pub(crate) fn spawn_entities(&mut self, world: &mut World) {
        let (ox, oy) = self.offset;
        let n = self.crowd.agents.len() + self.pending.len() + self.metro.len();
        self.entities = vec![Entity::PLACEHOLDER; n];
        for a in [&self.crowd.agents, &self.pending, &self.metro] {
            for k in 0..a.len() {
                let e = world
                    .spawn((
                        Pedestrian { id: a.id[k] },
                        Position {
                            x: f64::from(a.x[k]) + ox,
                            y: f64::from(a.y[k]) + oy,
                        },
                        Velocity { vx: 0.0, vy: 0.0 },
                        DesiredSpeed(a.v0[k]),
                        Radius(a.r[k]),
                        Goal(None),
                        PedState::Waiting,
                    ))
                    .id();
                self.entities[a.id[k] as usize] = e;
            }
        }
    }

    /// Walls with the bars of shut gates.
    fn rebuild_walls(&mut self) {
        let mut segs = self.base_walls.clone();
        for (g, info) in self.goals.iter().enumerate() {
            if !self.open[g] {
                segs.extend(info.bar);
            }
        }
        let c = &self.crowd;
        let bounds = [
            c.grid.x0,
            c.grid.y0,
            c.grid.x0 + c.grid.nx as f32 * c.grid.h,
            c.grid.y0 + c.grid.ny as f32 * c.grid.h,
        ];
        self.crowd.walls = Walls::new(segs, bounds, c.range, c.range);
    }

    /// Recompute every goal's field on the current terrain, closures and densities.
    fn recompute_fields(&mut self) {
        let g = &self.crowd.grid;
        let (nx, ny, h) = (g.nx, g.ny, f64::from(g.h));
        let mut count = vec![0u32; g.len()];
        let a = &self.crowd.agents;
        for k in 0..a.len() {
            if let Some(c) = g.locate(a.x[k], a.y[k]) {
                count[c] += 1;
            }
        }
        let ppa = self.ppa;
        let speed: Vec<f32> = (0..g.len())
            .map(|k| {
                if self.closed[k] || self.terrain[k] <= 0.0 {
                    return 0.0;
                }
                let (i, j) = (k % nx, k / nx);
                let mut n = 0u32;
                let mut cells = 0u32;
                for jj in j.saturating_sub(1)..=(j + 1).min(ny - 1) {
                    for ii in i.saturating_sub(1)..=(i + 1).min(nx - 1) {
                        n += count[jj * nx + ii];
                        cells += 1;
                    }
                }
                let rho = f64::from(n) * ppa / (f64::from(cells) * h * h);
                // Weidmann's speed ratio, with the density held below jam density so a
                // crowded cell is slow rather than a wall.
                let f = weidmann(rho.min(5.0)) / 1.34;
                self.terrain[k] * f as f32
            })
            .collect();
        self.crowd.grid.speed = speed;
        let grid = &self.crowd.grid;
        let goals: Vec<Vec<usize>> = (0..self.goals.len())
            .map(|gi| {
                (0..grid.len())
                    .filter(|&k| self.crowd.region[k] == gi as u16)
                    .collect()
            })
            .collect();
        self.crowd.fields = goals.par_iter().map(|c| Field::compute(grid, c)).collect();
    }

    /// Whether goal g can be chosen now.
    fn usable(&self, g: usize) -> bool {
        self.open[g] && !self.full[g]
    }

    /// Give each person the usable goal with the least estimated walking time; count
    /// those with none.
    fn reroute(&mut self) {
        let mut stranded = 0;
        let n = self.crowd.agents.len();
        for k in 0..n {
            let (x, y) = (self.crowd.agents.x[k], self.crowd.agents.y[k]);
            let cur = self.crowd.agents.goal[k];
            // Already past a shut gate's bar: keep walking out.
            if cur != NO_GOAL && !self.open[cur as usize] && self.beyond_bar(cur as usize, x, y) {
                continue;
            }
            let best = self.best_goal(x, y);
            match best {
                Some(g) => self.crowd.agents.goal[k] = g,
                None => stranded += 1,
            }
        }
        self.stranded = stranded;
    }

    fn best_goal(&self, x: f32, y: f32) -> Option<u16> {
        let mut best: Option<(f32, u16)> = None;
        for g in 0..self.goals.len() {
            if !self.usable(g) {
                continue;
            }
            let t = self.crowd.fields[g].time_at(&self.crowd.grid, x, y);
            if t.is_finite() && best.is_none_or(|(bt, _)| t < bt) {
                best = Some((t, g as u16));
            }
        }
        best.map(|b| b.1)
    }

    /// Whether (x, y) is on the outer side of gate g's bar.
    fn beyond_bar(&self, g: usize, x: f32, y: f32) -> bool {
        let Some(b) = self.goals[g].bar else {
            return false;
        };
        let side = |px: f32, py: f32| (b.bx - b.ax) * (py - b.ay) - (b.by - b.ay) * (px - b.ax);
        // The venue centre is the origin of the crowd's frame.
        side(x, y) * side(0.0, 0.0) < 0.0
    }

    fn place_of(&self, tile: (i32, i32)) -> Place {
        let t = self.places.tile_m;
        let (ox, oy) = self.density_origin();
        let x = ox + (f64::from(tile.1) + 0.5) * t;
        let y = oy + (f64::from(tile.0) + 0.5) * t;
        let name = self
            .goals
            .iter()
            .filter(|g| g.is_gate && (g.x - x).abs() <= t && (g.y - y).abs() <= t)
            .map(|g| format!("gate {}", g.name))
            .next()
            .unwrap_or_else(|| format!("zone at ({x:.0}, {y:.0})"));
        Place {
            x,
            y,
            cell: None,
            name: Some(name),
        }
    }

    /// Map coordinates of the density grid's origin.
    fn density_origin(&self) -> (f64, f64) {
        (self.map_grid.x0, self.map_grid.y0)
    }
}

/// One tick: sub-steps, arrivals, routes, density, events, metrics, ECS write-back.
pub(crate) fn crowd_tick(world: &mut World) {
    let clock = world.resource::<SimClock>().clone();
    let (t0, tick) = (clock.t(), clock.dt);
    // Closures and water from other hazards (district only), as far as the scenario's
    // couplings let them count: `flood_walk` (FLOOD_WALK and the depth limit) and
    // `fire_routes` (FIRE); see `Couplings::walk_mask`.
    let couplings = Couplings::of(world.get_resource::<Couplings>());
    let walk_mask = couplings.walk_mask();
    let closure_state = world
        .get_resource::<Closures>()
        .map(|c| (c.version, c.flags.clone()));
    let depth = world
        .get_resource::<WaterDepth>()
        .filter(|_| couplings.flood_walk)
        .map(|d| d.0.clone());
    world.resource_scope(|world, mut cs: Mut<CrowdSim>| {
        let cs = &mut *cs;
        let mut nav_dirty = t0 == 0.0;
        let mut walls_dirty = false;
        // Gates.
        for g in 0..cs.goals.len() {
            let info = &cs.goals[g];
            let should = t0 >= info.open_at && t0 < info.close_at;
            if should != cs.open[g] {
                cs.open[g] = should;
                walls_dirty = true;
                nav_dirty = true;
                let kind = if should { "gate.opened" } else { "gate.closed" };
                let mut log = world.resource_mut::<EventLog>();
                log.emit(
                    t0,
                    "crowd",
                    kind,
                    if should {
                        Severity::Info
                    } else {
                        Severity::Major
                    },
                )
                .at(Place {
                    x: info.x,
                    y: info.y,
                    cell: None,
                    name: Some(format!("gate {}", info.name)),
                })
                .message(format!(
                    "gate {} {}",
                    info.name,
                    if should {
                        "opens"
                    } else {
                        "shuts: the crowd turns to the other gates"
                    }
                ));
            }
        }
        if walls_dirty {
            cs.rebuild_walls();
        }
        if let Mode::District {
            walk_depth_limit,
            warning_s,
        } = cs.mode
        {
            // The order: at `warning_s`, or `warning_s` after the named hazard warning.
            let t_order = match &cs.order_on {
                None => Some(warning_s),
                Some(name) => world
                    .get_resource::<Warnings>()
                    .and_then(|w| w.time_of(name))
                    .map(|t| t + warning_s),
            };
            if let Some(t_order) = t_order
                && !cs.ordered
                && t0 + tick > t_order
            {
                cs.ordered = true;
                cs.t_order = Some(t_order);
                if cs.order_on.is_some() {
                    // Start times were drawn relative to the order.
                    for s in &mut cs.pending.start {
                        *s += t_order as f32;
                    }
                }
                let g = cs.map_grid;
                let by = cs
                    .order_on
                    .as_ref()
                    .map_or_else(String::new, |w| format!(" (on the {w} warning)"));
                world
                    .resource_mut::<EventLog>()
                    .emit(
                        t_order.max(t0),
                        "crowd",
                        "evacuation.ordered",
                        Severity::Major,
                    )
                    .at(Place {
                        x: g.x0 + g.width_m() / 2.0,
                        y: g.y0 + g.height_m() / 2.0,
                        cell: None,
                        name: None,
                    })
                    .message(format!(
                        "evacuation order{by}: residents leave for the shelters"
                    ))
                    .with("people", cs.people_total.round());
            }
            let version = closure_state.as_ref().map_or(0, |c| c.0);
            if version != cs.closures_version || walk_depth_limit.is_some() {
                let (nx, ny) = (cs.crowd.grid.nx, cs.crowd.grid.ny);
                let mut changed = false;
                for k in 0..cs.closed.len() {
                    let ck = (ny - 1 - k / nx) * nx + k % nx;
                    let by_flag = closure_state
                        .as_ref()
                        .is_some_and(|c| c.1[ck] & walk_mask != 0);
                    let by_depth = match (&depth, walk_depth_limit) {
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
                nav_dirty |= changed;
            }
        }
        if !cs.metro_groups.is_empty() {
            // Flags set in this tick's Impacts phase hold from its end.
            metro_closures(cs, world, t0 + tick);
        }
        // Sub-steps.
        let n_sub = (tick / f64::from(cs.dt)).ceil().max(1.0) as usize;
        let h = (tick / n_sub as f64) as f32;
        for s in 0..n_sub {
            let t = t0 + s as f64 * f64::from(h);
            release_pending(cs, t + f64::from(h));
            cs.crowd.t = t;
            cs.crowd.step(h);
            handle_arrivals(cs, world, t + f64::from(h));
        }
        let t1 = t0 + tick;
        if nav_dirty || t1 >= cs.next_reroute {
            cs.recompute_fields();
            cs.reroute();
            cs.next_reroute = t1 + cs.reroute_interval;
        }
        if let Some(k) = cs.crowd.first_nan() {
            let a = &cs.crowd.agents;
            let cell = cs
                .crowd
                .grid
                .locate(a.x[k], a.y[k])
                .map(|c| (c % cs.crowd.grid.nx, c / cs.crowd.grid.nx));
            world.resource_mut::<RunHealth>().fail(format!(
                "crowd: non-finite state of person {} at cell {:?}, t={t1}",
                a.id[k], cell
            ));
            return;
        }
        // Injuries (social force model).
        let injured = cs
            .crowd
            .agents
            .state
            .iter()
            .filter(|&&s| s == state::INJURED)
            .count();
        if injured > cs.injured_reported {
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
            world
                .resource_mut::<EventLog>()
                .emit(t1, "crowd", "injured", Severity::Critical)
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
        density_and_places(cs, world, t0, tick);
        write_metrics(cs, world, t1, tick);
        sync_entities(cs, world);
    });
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
        world
            .resource_mut::<EventLog>()
            .emit(t, "crowd", "metro.closed", Severity::Major)
            .at(Place {
                x: grp.x,
                y: grp.y,
                cell: None,
                name: Some(grp.asset.clone()),
            })
            .message(format!(
                "metro entrance {} out of service: {people:.0} passengers put on the street walk to the shelters",
                grp.asset
            ))
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
        world
            .resource_mut::<EventLog>()
            .emit(t, "crowd", "shelter.full", Severity::Major)
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
        let g = cs.map_grid;
        world
            .resource_mut::<EventLog>()
            .emit(t, "crowd", "evacuation.complete", Severity::Info)
            .at(Place {
                x: g.x0 + g.width_m() / 2.0,
                y: g.y0 + g.height_m() / 2.0,
                cell: None,
                name: None,
            })
            .message(format!("everyone has reached safety after {t:.0} s"))
            .with("people", cs.people_total.round());
    }
}

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
                log.emit(t0, "crowd", "density.high", Severity::Major)
                    .at(place)
                    .message(format!(
                        "{name}: {rho:.1} P/m², above 4 P/m² (high risk for a moving crowd, Still)"
                    ))
                    .with("density_p_m2", rho);
            }
            Change::Critical => {
                log.emit(t0, "crowd", "density.critical", Severity::Critical)
                    .at(place)
                    .message(format!(
                        "{name}: {rho:.1} P/m², above 5.5 P/m² (dangerous crowd forces, Fruin): crush risk"
                    ))
                    .with("density_p_m2", rho);
            }
            Change::Cleared { duration } => {
                let p = &cs.places.risk[&tile];
                log.emit(t0, "crowd", "density.cleared", Severity::Minor)
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

fn write_metrics(cs: &mut CrowdSim, world: &mut World, _t1: f64, tick: f64) {
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

/// KPIs and the peak-density map.
pub(crate) fn crowd_finish(world: &mut World) {
    let Some(cs) = world.get_resource::<CrowdSim>() else {
        return;
    };
    let kpis = kpis(cs);
    let raster = Raster {
        name: "crowd_peak_density".into(),
        title: "Peak crowd density".into(),
        unit: "P/m²".into(),
        grid: cs.map_grid,
        data: cs.peak_map.clone(),
        kind: RasterKind::Continuous {
            palette: Palette::Density,
        },
    };
    let mut m = world.resource_mut::<Metrics>();
    for (name, v, unit, desc) in kpis {
        m.set_kpi(name, v, unit, desc);
    }
    if let Some(mut maps) = world.get_resource_mut::<MapOutputs>() {
        maps.0.push(raster);
    }
}

/// The crowd's KPIs as (name, value, unit, description); the 95 % time only once reached.
pub(crate) fn kpis(cs: &CrowdSim) -> Vec<(&'static str, f64, &'static str, &'static str)> {
    let risk = || cs.places.risk.values();
    let not_safe = (cs.people_total - cs.safe_people).max(0.0);
    let people = cs.people_total;
    let injured = cs
        .crowd
        .agents
        .state
        .iter()
        .filter(|&&s| s == state::INJURED)
        .count() as f64
        * cs.ppa;
    vec![
        (
            "crowd.people",
            people,
            "people",
            "people in the crowd scenario",
        ),
        (
            "crowd.not_safe_people",
            not_safe,
            "people",
            "people who never reached safety by the end of the run",
        ),
        (
            "crowd.evacuated_share_final",
            1.0 - not_safe / people.max(1.0),
            "1",
            "share of the people safe at the end of the run",
        ),
        (
            "crowd.evacuation_time_95_s",
            cs.t95.unwrap_or(f64::INFINITY),
            "s",
            "time until 95 % of the people were safe (infinite if never)",
        ),
        (
            "crowd.metro_passengers_people",
            cs.metro_people,
            "people",
            "passengers put on the street by metro entrances out of service (no power or flooded)",
        ),
        (
            "crowd.mean_evacuation_time_s",
            if cs.evac_people > 0.0 {
                cs.evac_time_sum / cs.evac_people
            } else {
                0.0
            },
            "s",
            "mean time from the evacuation order to reaching a shelter, over the residents who did (district)",
        ),
        (
            "crowd.peak_density_p_m2",
            cs.peak_density,
            "P/m²",
            "highest density anywhere (1 m cells, 3 × 3 m window)",
        ),
        (
            "crowd.max_time_above_4_s",
            risk().map(|p| p.above_high_s).fold(0.0, f64::max),
            "s",
            "longest time any place spent at 4 P/m² or more (high risk, Still)",
        ),
        (
            "crowd.max_time_above_5_5_s",
            risk().map(|p| p.above_critical_s).fold(0.0, f64::max),
            "s",
            "longest time any place spent at 5.5 P/m² or more (dangerous forces, Fruin)",
        ),
        (
            "crowd.places_above_4",
            risk().filter(|p| p.above_high_s > 0.0).count() as f64,
            "places",
            "places that reached 4 P/m²",
        ),
        (
            "crowd.injured_people",
            injured,
            "people",
            "people crushed (social force model)",
        ),
    ]
}
