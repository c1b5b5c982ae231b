//! What the crowd systems share: the people as ECS components, and the plugin's
//! resource: the kernel (the source of truth during a tick), the goals, the people not
//! yet on the street, densities and the run's counters.

use bevy_ecs::prelude::*;

use super::density::{Density, Places};
use super::geometry::{Segment, Walls};
use super::model::{Agents, Crowd};
use super::setup::{Scene, Warning};
use super::spec::CrowdSpec;
use crate::events::Place;
use crate::grid::GridSpec;
use crate::metrics::{MetricId, Metrics};

// ---- ECS components -----------------------------------------------------------------

/// A person; `id` indexes the plugin's tables.
#[derive(Component, Debug, Clone, Copy)]
pub struct Pedestrian {
    pub id: u32,
}

/// Map position, m.
#[derive(Component, Debug, Clone, Copy, PartialEq)]
pub struct Position {
    pub x: f64,
    pub y: f64,
}

/// Velocity, m/s.
#[derive(Component, Debug, Clone, Copy, PartialEq)]
pub struct Velocity {
    pub vx: f32,
    pub vy: f32,
}

/// Free walking speed, m/s.
#[derive(Component, Debug, Clone, Copy)]
pub struct DesiredSpeed(pub f32);

/// Body radius, m.
#[derive(Component, Debug, Clone, Copy)]
pub struct Radius(pub f32);

/// Index of the goal (gate or shelter) the person is heading for, if any.
#[derive(Component, Debug, Clone, Copy, PartialEq, Eq)]
pub struct Goal(pub Option<u16>);

/// Where a person is in the evacuation.
#[derive(Component, Debug, Clone, Copy, PartialEq, Eq)]
pub enum PedState {
    Waiting,
    Moving,
    /// Reached safety: out of the venue, or inside a shelter.
    Sheltered,
    Injured,
}

// ---- the plugin's resource ----------------------------------------------------------

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

/// The plugin's gauges.
pub(super) struct Ids {
    pub share: MetricId,
    pub safe: MetricId,
    pub moving: MetricId,
    pub waiting: MetricId,
    pub stranded: MetricId,
    pub peak: MetricId,
    /// Each goal's flow (gate) or occupancy (shelter).
    pub per_goal: Vec<MetricId>,
}

/// The plugin's state.
#[derive(Resource)]
pub struct CrowdSim {
    pub(super) crowd: Crowd,
    pub(super) mode: Mode,
    pub(super) goals: Vec<GoalInfo>,
    pub(super) open: Vec<bool>,
    pub(super) full: Vec<bool>,
    pub(super) occupancy: Vec<f64>,
    pub(super) through: Vec<f64>,
    pub(super) offset: (f64, f64),
    pub(super) ppa: f64,
    pub(super) pending: Agents,
    pub(super) next_pending: usize,
    pub(super) base_walls: Vec<Segment>,
    pub(super) map_grid: GridSpec,
    pub(super) dt: f32,
    pub(super) reroute_interval: f64,
    pub(super) next_reroute: f64,
    /// Walkable speed of each navigation cell before closures and density.
    pub(super) terrain: Vec<f32>,
    /// Cells closed to walkers by other hazards.
    pub(super) closed: Vec<bool>,
    pub(super) closures_version: u64,
    pub(super) density: Density,
    /// Highest density seen in the run, P/m².
    pub(super) peak_density: f64,
    pub(super) places: Places,
    pub(super) peak_map: Vec<f32>,
    pub(super) entities: Vec<Entity>,
    pub(super) removed: Vec<u32>,
    pub(super) people_total: f64,
    pub(super) safe_people: f64,
    pub(super) t95: Option<f64>,
    pub(super) complete: bool,
    pub(super) ordered: bool,
    /// The hazard warning that orders the evacuation, if not a fixed time.
    pub(super) order_on: Option<String>,
    /// Time of the evacuation order, once given.
    pub(super) t_order: Option<f64>,
    /// Σ people × (arrival − order time), s, and those people (residents only), for the
    /// mean evacuation time.
    pub(super) evac_time_sum: f64,
    pub(super) evac_people: f64,
    /// Metro passengers, waiting for their entrance to close.
    pub(super) metro: Agents,
    pub(super) metro_groups: Vec<MetroGroup>,
    /// People put on the street by closed metro entrances.
    pub(super) metro_people: f64,
    pub(super) injured_reported: usize,
    pub(super) stranded: usize,
    pub(super) ids: Ids,
    pub(super) warnings: Vec<Warning>,
}

impl CrowdSim {
    /// The state at the start, with its gauges declared.
    pub(super) fn new(crowd: Crowd, b: Scene, spec: &CrowdSpec, dt: f32, m: &mut Metrics) -> Self {
        let ids = super::outputs::declare_gauges(&b.goals, m);
        let n_goals = b.goals.len();
        let terrain = crowd.grid.speed.clone();
        let n_cells = terrain.len();
        let n_ids = crowd.agents.len() + b.pending.len();
        let open = b.goals.iter().map(|g| g.open_at <= 0.0).collect();
        Self {
            crowd,
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
    pub(super) fn spawn_entities(&mut self, world: &mut World) {
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
    pub(super) fn rebuild_walls(&mut self) {
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

    /// Where a density place's events happen: its centre, named after a gate within one
    /// place of it, else by its coordinates.
    pub(super) fn place_of(&self, tile: (i32, i32)) -> Place {
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

/// The centre of a grid, unnamed and with no cell (it may be a cell corner): where
/// events about the whole venue or district happen.
pub(super) fn centre_of(g: &GridSpec) -> Place {
    Place {
        x: g.x0 + g.width_m() / 2.0,
        y: g.y0 + g.height_m() / 2.0,
        cell: None,
        name: None,
    }
}
