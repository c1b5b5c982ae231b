//! Pedestrians (issue #4): crowds that leave a venue through its gates, and a district
//! that walks to its shelters after a warning, with the density and crush risk the
//! city's safety plan asks to control. Models and sources: `docs/models/crowd.md`.
//!
//! People are ECS entities ([`Pedestrian`], [`Position`], [`Velocity`], [`DesiredSpeed`],
//! [`Radius`], [`Goal`], [`PedState`]); the hot step runs over the dense arrays of
//! [`model::Crowd`], the source of truth during a tick, and the components are written
//! back once per tick.

pub mod cells;
pub mod demographics;
pub mod density;
pub mod geometry;
pub mod lanes;
pub mod layout;
pub mod model;
pub mod navigation;
mod runtime;
pub mod validation;

use bevy_ecs::prelude::*;
use rand::RngExt;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::city::{AssetKind, City, LandUse};
use crate::events::{EventLog, Place, Severity};
use crate::metrics::Metrics;
use crate::rng::RngStreams;
use crate::sim::{BuildContext, BuildError, Phase, Plugin, Simulation};
use crate::spec::{KeyPath, Problem, in_range, positive};

use demographics::{PremovementSpec, SpeedSpec};
use geometry::{Segment, Walls};
use layout::{Layout, scatter};
use model::{Agents, Crowd, CsmParams, ModelKind, NO_GOAL};
use runtime::{CrowdSim, GoalInfo, Mode};

/// Weidmann's (1993) jam density, P/m²: no area can hold more people.
pub const MAX_DENSITY: f64 = 5.4;

/// `kind = "crowd"`: a venue egress or a district evacuation.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CrowdSpec {
    /// Operational model: `csm` (collision-free speed model, default) or `sfm`.
    #[serde(default)]
    pub model: ModelKind,
    /// CSM parameter set: `egress` (default; door flows as measured) or `corridor`
    /// (Weidmann's fundamental diagram). See docs/models/crowd.md §2.3.
    #[serde(default)]
    pub parameters: ParamSet,
    /// Model time step, s (default 0.05 for the CSM, 0.01 for the SFM).
    #[serde(default)]
    pub dt_s: Option<f64>,
    /// Desired speeds.
    #[serde(default)]
    pub speeds: SpeedSpec,
    /// Size of the places density and crush risk are reported for, m.
    #[serde(default = "default_place")]
    pub place_m: f64,
    /// How often routes are re-chosen on density-slowed travel-time fields, s.
    #[serde(default = "default_reroute")]
    pub reroute_interval_s: f64,
    /// A venue with gates (scenario a).
    #[serde(default)]
    pub venue: Option<VenueSpec>,
    /// The city's population walking to shelters (scenario b).
    #[serde(default)]
    pub district: Option<DistrictSpec>,
}

fn default_place() -> f64 {
    10.0
}
fn default_reroute() -> f64 {
    10.0
}

/// Named CSM parameter sets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ParamSet {
    #[default]
    Egress,
    Corridor,
}

impl ParamSet {
    pub fn params(self) -> CsmParams {
        match self {
            Self::Egress => CsmParams::egress(),
            Self::Corridor => CsmParams::corridor(),
        }
    }
}

/// Outline of a venue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Shape {
    Rectangle,
    Ellipse,
}

/// A stadium or plaza: an outline with gates, inner walls and groups of people.
/// Coordinates inside the venue are metres from its centre (x east, y north).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VenueSpec {
    pub shape: Shape,
    pub width_m: f64,
    pub height_m: f64,
    /// Map position of the centre, m (default: the centre of the city grid).
    #[serde(default)]
    pub center_x_m: Option<f64>,
    #[serde(default)]
    pub center_y_m: Option<f64>,
    /// Walking-grid cell, m (navigation and walls; gate widths are resolved to it).
    #[serde(default = "default_venue_cell")]
    pub cell_m: f64,
    pub gates: Vec<GateSpec>,
    /// Inner walls, each `[x1, y1, x2, y2]` in venue coordinates.
    #[serde(default)]
    pub walls: Vec<[f64; 4]>,
    pub groups: Vec<GroupSpec>,
}

fn default_venue_cell() -> f64 {
    0.5
}

/// An opening in the venue outline.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GateSpec {
    pub name: String,
    /// Direction of the gate from the venue centre, degrees clockwise from north.
    pub bearing_deg: f64,
    pub width_m: f64,
    /// The gate shuts at this time, s (a surge towards the others follows).
    #[serde(default)]
    pub closes_at_s: Option<f64>,
    /// The gate is shut until this time, s.
    #[serde(default)]
    pub opens_at_s: Option<f64>,
}

/// People who start in an area of the venue and leave together.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupSpec {
    pub name: String,
    pub people: u32,
    /// `[x0, y0, x1, y1]` in venue coordinates (default: the whole venue).
    #[serde(default)]
    pub area: Option<[f64; 4]>,
    /// When the group starts to leave (the end of the event, an alarm), s.
    #[serde(default)]
    pub start_s: f64,
    /// Delay of each person after `start_s`.
    #[serde(default)]
    pub premovement: Option<PremovementSpec>,
}

/// A district evacuation to the city's shelters.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DistrictSpec {
    /// People each simulated pedestrian stands for (1 = everyone). Densities and shelter
    /// occupancy count people, not agents.
    #[serde(default = "default_ppa")]
    pub people_per_agent: f64,
    /// Time of the evacuation order, s; with `warning`, the delay from that warning to
    /// the order.
    #[serde(default)]
    pub warning_s: f64,
    /// Start the evacuation when a hazard issues this warning (the shared `Warnings`:
    /// `typhoon_blue` … `typhoon_red`, `rainstorm_blue` … `rainstorm_red`,
    /// `sea_level_<name>`), `warning_s` later. Nobody leaves if it is never issued.
    #[serde(default)]
    pub warning: Option<String>,
    /// Delay between the order and leaving home.
    pub premovement: PremovementSpec,
    /// Water deeper than this stops walkers, m (read from the flood's depth field when a
    /// flood runs). Without it only the shared FLOOD_WALK closures count.
    #[serde(default)]
    pub walk_depth_limit_m: Option<f64>,
    /// People in the station behind each metro entrance who are put on the street when
    /// the entrance goes out of service (power lost under `power_metro`, or flooded) and
    /// walk to the shelters from there. Set it from the operator's station counts;
    /// 0 (default) leaves the metro out of the evacuation.
    #[serde(default)]
    pub metro_people_per_entrance: f64,
}

fn default_ppa() -> f64 {
    10.0
}

impl CrowdSpec {
    pub fn check(&self, at: &KeyPath) -> Result<(), Problem> {
        if let Some(dt) = self.dt_s {
            in_range(at.key("dt_s"), dt, 1e-4, 0.5, "the model time step")?;
        }
        positive(at.key("place_m"), self.place_m, "the place size")?;
        positive(
            at.key("reroute_interval_s"),
            self.reroute_interval_s,
            "the reroute interval",
        )?;
        match &self.speeds {
            SpeedSpec::AgeGroups { shares } => {
                for (k, s) in shares.iter().enumerate() {
                    in_range(
                        at.key("speeds").key("shares").index(k),
                        *s,
                        0.0,
                        1.0,
                        "an age-group share",
                    )?;
                }
                if shares.iter().sum::<f64>() <= 0.0 {
                    return Err((
                        at.key("speeds").key("shares"),
                        "the age-group shares add up to zero".into(),
                    ));
                }
            }
            SpeedSpec::Fixed { speed_m_s } => in_range(
                at.key("speeds").key("speed_m_s"),
                *speed_m_s,
                0.1,
                3.0,
                "the walking speed",
            )?,
            SpeedSpec::Weidmann => {}
        }
        match (&self.venue, &self.district) {
            (Some(v), None) => v.check(&at.key("venue"), self.parameters.params().radius),
            (None, Some(d)) => d.check(&at.key("district")),
            _ => Err((
                at.clone(),
                "give exactly one of `venue` (egress from a venue) or `district` \
                 (evacuation to shelters)"
                    .into(),
            )),
        }
    }
}

fn check_premovement(at: &KeyPath, p: &PremovementSpec) -> Result<(), Problem> {
    positive(
        at.key("median_s"),
        p.median_s,
        "the median pre-movement time",
    )?;
    in_range(
        at.key("log_sd"),
        p.log_sd,
        0.0,
        3.0,
        "the log standard deviation",
    )
}

impl VenueSpec {
    fn check(&self, at: &KeyPath, radius: f32) -> Result<(), Problem> {
        positive(at.key("width_m"), self.width_m, "the venue width")?;
        positive(at.key("height_m"), self.height_m, "the venue height")?;
        in_range(at.key("cell_m"), self.cell_m, 0.05, 2.0, "the walking cell")?;
        if self.width_m * self.height_m / (self.cell_m * self.cell_m) > 2e7 {
            return Err((
                at.key("cell_m"),
                "more than 2·10⁷ walking cells: use a coarser cell".into(),
            ));
        }
        if self.gates.is_empty() {
            return Err((at.key("gates"), "a venue needs at least one gate".into()));
        }
        let person = 2.0 * f64::from(radius);
        for (k, g) in self.gates.iter().enumerate() {
            let a = at.key("gates").index(k);
            in_range(
                a.key("bearing_deg"),
                g.bearing_deg,
                -360.0,
                360.0,
                "the bearing",
            )?;
            if !(g.width_m.is_finite() && g.width_m > person.max(self.cell_m)) {
                return Err((
                    a.key("width_m"),
                    format!(
                        "gate `{}`: a width of {} m is narrower than one person ({person:.2} m) \
                         or one walking cell ({} m)",
                        g.name, g.width_m, self.cell_m
                    ),
                ));
            }
        }
        // Venue coordinates are centred on the venue.
        let (hw, hh) = (
            0.5 * self.width_m + self.cell_m,
            0.5 * self.height_m + self.cell_m,
        );
        let inside =
            |x: f64, y: f64| x.is_finite() && y.is_finite() && x.abs() <= hw && y.abs() <= hh;
        for (k, &[x0, y0, x1, y1]) in self.walls.iter().enumerate() {
            if !(inside(x0, y0) && inside(x1, y1)) {
                return Err((
                    at.key("walls").index(k),
                    format!(
                        "the wall [{x0}, {y0}, {x1}, {y1}] leaves the venue (±{} m × ±{} m \
                         around its centre)",
                        0.5 * self.width_m,
                        0.5 * self.height_m
                    ),
                ));
            }
        }
        if self.groups.is_empty() {
            return Err((at.key("groups"), "a venue needs at least one group".into()));
        }
        for (k, g) in self.groups.iter().enumerate() {
            let a = at.key("groups").index(k);
            in_range(a.key("start_s"), g.start_s, 0.0, 1e7, "the start time")?;
            if let Some(p) = &g.premovement {
                check_premovement(&a.key("premovement"), p)?;
            }
            if let Some([x0, y0, x1, y1]) = g.area
                && !(x1 > x0 && y1 > y0 && inside(x0, y0) && inside(x1, y1))
            {
                return Err((
                    a.key("area"),
                    format!(
                        "group `{}`: the area must be [x0, y0, x1, y1] inside the venue with \
                         x1 > x0 and y1 > y0",
                        g.name
                    ),
                ));
            }
        }
        Ok(())
    }
}

impl DistrictSpec {
    fn check(&self, at: &KeyPath) -> Result<(), Problem> {
        in_range(
            at.key("people_per_agent"),
            self.people_per_agent,
            1.0,
            1e4,
            "people per agent",
        )?;
        in_range(
            at.key("warning_s"),
            self.warning_s,
            0.0,
            1e7,
            "the warning time",
        )?;
        check_premovement(&at.key("premovement"), &self.premovement)?;
        in_range(
            at.key("metro_people_per_entrance"),
            self.metro_people_per_entrance,
            0.0,
            1e6,
            "the people per metro entrance",
        )?;
        if let Some(d) = self.walk_depth_limit_m {
            in_range(
                at.key("walk_depth_limit_m"),
                d,
                0.01,
                5.0,
                "the walking depth limit",
            )?;
        }
        Ok(())
    }
}

/// Bytes per city cell (district: the navigation fields are kept per shelter; this is
/// the per-cell base: speed, region and one field).
pub const BYTES_PER_CELL: usize = 4 + 2 + 12;

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

// ---- plugin -------------------------------------------------------------------------

pub struct CrowdPlugin<'a>(pub &'a CrowdSpec);

impl Plugin for CrowdPlugin<'_> {
    fn name(&self) -> &'static str {
        "crowd"
    }
    fn check(&self, _ctx: &BuildContext) -> Result<(), BuildError> {
        // TODO(#15): the plugin's pure setup, once split out of `build`.
        Ok(())
    }

    fn build(&self, sim: &mut Simulation, ctx: &BuildContext) -> Result<(), BuildError> {
        let at = ctx.at.clone();
        let spec = self.0;
        let mut csm = spec.parameters.params();
        let dt = spec.dt_s.unwrap_or(match spec.model {
            ModelKind::Csm => 0.05,
            ModelKind::Sfm => 0.01,
        }) as f32;
        let streams = *sim.world.resource::<RngStreams>();
        let seed = streams.stream("crowd.noise").random::<u64>();
        if spec.model == ModelKind::Sfm {
            // Helbing et al. (2000) draw radii from U[0.25, 0.35] m; here one radius.
            csm.radius = 0.3;
        }
        let city = sim.world.resource::<City>().clone();
        let built = match (&spec.venue, &spec.district) {
            (Some(v), _) => build_venue(v, spec, &city, csm, dt, seed, &streams, &at.key("venue"))?,
            (_, Some(d)) => build_district(
                d,
                spec,
                &city,
                csm,
                seed,
                &streams,
                ctx.population.daytime,
                &at.key("district"),
            )?,
            _ => return Err(BuildError::new(at, "give a venue or a district")),
        };
        let mut crowd_sim =
            CrowdSim::new(built, spec, dt, &mut sim.world.resource_mut::<Metrics>());
        crowd_sim.spawn_entities(&mut sim.world);
        // KPIs exist from the start, so standards can name them; the finish overwrites.
        {
            let mut m = sim.world.resource_mut::<Metrics>();
            for (name, v, unit, desc) in runtime::kpis(&crowd_sim) {
                m.set_kpi(name, v, unit, desc);
            }
        }
        {
            let mut log = sim.world.resource_mut::<EventLog>();
            for w in std::mem::take(&mut crowd_sim.warnings) {
                log.emit(0.0, "crowd", w.kind, Severity::Major)
                    .at(w.place)
                    .message(w.message)
                    .with("people", w.people);
            }
        }
        sim.world.insert_resource(crowd_sim);
        sim.add_systems(Phase::Movement, runtime::crowd_tick);
        sim.add_finish_systems(runtime::crowd_finish);
        Ok(())
    }
}

/// A warning found at build time (emitted as an event at t = 0).
pub(crate) struct Warning {
    kind: &'static str,
    place: Place,
    message: String,
    people: u64,
}

/// What a scenario builds into before the runtime takes over.
pub(crate) struct Built {
    crowd: Crowd,
    mode: Mode,
    goals: Vec<GoalInfo>,
    /// Map offset of the crowd's coordinates.
    offset: (f64, f64),
    /// People each agent stands for.
    ppa: f64,
    /// People not yet on the street (district): agents with their start times.
    pending: Agents,
    /// Base walls (without closed-gate bars).
    base_walls: Vec<Segment>,
    /// Map grid for the peak density raster.
    map_grid: crate::grid::GridSpec,
    warnings: Vec<Warning>,
    /// The hazard warning that orders the evacuation (district), if any.
    order_on: Option<String>,
    /// Metro passengers (district): put on the street when their entrance closes.
    metro: Agents,
    metro_groups: Vec<runtime::MetroGroup>,
    /// Total people.
    people: f64,
}

fn venue_frame(v: &VenueSpec, city: &City) -> (f64, f64) {
    let g = &city.grid;
    (
        v.center_x_m.unwrap_or(g.x0 + g.width_m() / 2.0),
        v.center_y_m.unwrap_or(g.y0 + g.height_m() / 2.0),
    )
}

/// Point on the outline at a bearing, with the outward normal.
fn outline_point(v: &VenueSpec, bearing_deg: f64) -> ((f64, f64), (f64, f64)) {
    let th = bearing_deg.to_radians();
    let (dx, dy) = (th.sin(), th.cos());
    let (a, b) = (v.width_m / 2.0, v.height_m / 2.0);
    match v.shape {
        Shape::Rectangle => {
            let tx = if dx.abs() > 1e-12 {
                a / dx.abs()
            } else {
                f64::INFINITY
            };
            let ty = if dy.abs() > 1e-12 {
                b / dy.abs()
            } else {
                f64::INFINITY
            };
            if tx < ty {
                ((tx * dx, tx * dy), (dx.signum(), 0.0))
            } else {
                ((ty * dx, ty * dy), (0.0, dy.signum()))
            }
        }
        Shape::Ellipse => {
            let t = 1.0 / ((dx / a).powi(2) + (dy / b).powi(2)).sqrt();
            let (px, py) = (t * dx, t * dy);
            let (nx, ny) = (px / (a * a), py / (b * b));
            let n = (nx * nx + ny * ny).sqrt();
            ((px, py), (nx / n, ny / n))
        }
    }
}

/// Margin of walkable space outside the outline for the gates' exit lanes, m.
const VENUE_MARGIN: f64 = 3.0;

#[allow(clippy::too_many_arguments)]
fn build_venue(
    v: &VenueSpec,
    spec: &CrowdSpec,
    city: &City,
    csm: CsmParams,
    _dt: f32,
    seed: u64,
    streams: &RngStreams,
    at: &KeyPath,
) -> Result<Built, BuildError> {
    let (cx, cy) = venue_frame(v, city);
    let m = VENUE_MARGIN;
    let (w, h) = (v.width_m + 2.0 * m, v.height_m + 2.0 * m);
    let mut l = Layout::new(w as f32, h as f32, v.cell_m as f32);
    l.grid.x0 = (-v.width_m / 2.0 - m) as f32;
    l.grid.y0 = (-v.height_m / 2.0 - m) as f32;
    let (a, b) = (v.width_m / 2.0, v.height_m / 2.0);
    let inside = |x: f64, y: f64| match v.shape {
        Shape::Rectangle => x.abs() < a && y.abs() < b,
        Shape::Ellipse => (x / a).powi(2) + (y / b).powi(2) < 1.0,
    };
    for k in 0..l.grid.len() {
        let (x, y) = l.grid.center(k);
        if inside(f64::from(x), f64::from(y)) {
            l.grid.speed[k] = 1.0;
        }
    }
    // Gates: a straight lane through the outline, the last metre of which is the goal.
    let mut goals = Vec::new();
    let mut bars = Vec::new();
    for g in &v.gates {
        let ((px, py), (nx, ny)) = outline_point(v, g.bearing_deg);
        let (tx, ty) = (-ny, nx);
        let half = g.width_m / 2.0;
        let lane = |x: f64, y: f64| {
            let (qx, qy) = (x - px, y - py);
            let across = (qx * tx + qy * ty).abs();
            let out = qx * nx + qy * ny;
            (across <= half, out)
        };
        let mut goal_cells = Vec::new();
        for k in 0..l.grid.len() {
            let (x, y) = l.grid.center(k);
            let (ok, out) = lane(f64::from(x), f64::from(y));
            if ok && (-1.0..=m).contains(&out) {
                l.grid.speed[k] = 1.0;
                if out >= m - 1.0 {
                    goal_cells.push(k);
                }
            }
        }
        if goal_cells.is_empty() {
            return Err(BuildError::new(
                at.key("gates"),
                format!(
                    "gate `{}` has no walkable cells: widen it or refine cell_m",
                    g.name
                ),
            ));
        }
        l.goals.push(goal_cells);
        // The bar that shuts the gate, 0.5 m outside the outline.
        let e = half + v.cell_m;
        let (bx, by) = (px + 0.5 * nx, py + 0.5 * ny);
        bars.push(Segment::new(
            (bx - e * tx) as f32,
            (by - e * ty) as f32,
            (bx + e * tx) as f32,
            (by + e * ty) as f32,
        ));
        goals.push(GoalInfo {
            name: g.name.clone(),
            x: cx + px,
            y: cy + py,
            capacity: f64::INFINITY,
            open_at: g.opens_at_s.unwrap_or(0.0),
            close_at: g.closes_at_s.unwrap_or(f64::INFINITY),
            is_gate: true,
            bar: Some(bars.last().copied().expect("pushed")),
        });
    }
    // Inner walls: physical segments, and the cells they cross blocked for navigation.
    for s in &v.walls {
        let seg = Segment::new(s[0] as f32, s[1] as f32, s[2] as f32, s[3] as f32);
        let len = ((s[2] - s[0]).powi(2) + (s[3] - s[1]).powi(2)).sqrt();
        let steps = (len / (v.cell_m * 0.25)).ceil().max(1.0) as usize;
        for q in 0..=steps {
            let f = q as f64 / steps as f64;
            let (x, y) = (s[0] + f * (s[2] - s[0]), s[1] + f * (s[3] - s[1]));
            if let Some(k) = l.grid.locate(x as f32, y as f32) {
                l.grid.speed[k] = 0.0;
            }
        }
        l.extra_walls.push(seg);
    }
    let base_walls = l.walls();
    let probe_range = model::interaction_range(1.61, &csm, csm.radius);
    let bounds = [
        l.grid.x0,
        l.grid.y0,
        l.grid.x0 + w as f32,
        l.grid.y0 + h as f32,
    ];
    let walls = Walls::new(base_walls.clone(), bounds, probe_range, probe_range);
    let mut rng = streams.stream("crowd.population");
    let mut agents = Agents::default();
    let mut placed: Vec<(f32, f32)> = Vec::new();
    let mut id = 0u32;
    let cell_area = v.cell_m * v.cell_m;
    for (gi, g) in v.groups.iter().enumerate() {
        let ga = at.key("groups").index(gi);
        let [x0, y0, x1, y1] = g.area.unwrap_or([-a, -b, a, b]);
        // Walkable area inside the rectangle and inside the outline (not in gate lanes).
        let cells: Vec<usize> = (0..l.grid.len())
            .filter(|&k| {
                let (x, y) = l.grid.center(k);
                let (x, y) = (f64::from(x), f64::from(y));
                l.grid.walkable(k) && inside(x, y) && x > x0 && x < x1 && y > y0 && y < y1
            })
            .collect();
        if cells.is_empty() {
            return Err(BuildError::new(
                ga.key("area"),
                format!(
                    "group `{}`: the area [{x0}, {y0}, {x1}, {y1}] has no walkable ground \
                     (it lies in walls or outside the venue)",
                    g.name
                ),
            ));
        }
        let area = cells.len() as f64 * cell_area;
        let rho = f64::from(g.people) / area;
        if rho > MAX_DENSITY {
            return Err(BuildError::new(
                ga.key("people"),
                format!(
                    "group `{}`: {} people on {area:.0} m² of walkable ground is {rho:.1} P/m², \
                     more than a crowd can physically hold ({MAX_DENSITY} P/m², Weidmann 1993)",
                    g.name, g.people
                ),
            ));
        }
        let pos = scatter(
            &l,
            &walls,
            [
                x0.max(-a) as f32,
                y0.max(-b) as f32,
                x1.min(a) as f32,
                y1.min(b) as f32,
            ],
            g.people as usize,
            csm.radius,
            &placed,
            &|x, y| inside(f64::from(x), f64::from(y)),
            &mut rng,
        )
        .map_err(|fit| {
            BuildError::new(
                ga.key("people"),
                format!(
                    "group `{}`: only {fit} of {} people fit in the area without overlapping \
                     (random packing of {} m bodies); enlarge the area or lower the number",
                    g.name,
                    g.people,
                    2.0 * csm.radius
                ),
            )
        })?;
        for (x, y) in pos {
            let (v0, _) = spec.speeds.draw(&mut rng);
            let delay = g.premovement.as_ref().map_or(0.0, |p| p.draw(&mut rng));
            agents.push(id, x, y, v0, csm.radius, 0, (g.start_s + delay) as f32);
            placed.push((x, y));
            id += 1;
        }
    }
    let people = agents.len() as f64;
    let mut crowd = l.build(agents, spec.model, csm, None, seed);
    // Closed gates get their bars now.
    let mut segs = base_walls.clone();
    for gi in &goals {
        if gi.open_at > 0.0 {
            segs.extend(gi.bar);
        }
    }
    crowd.walls = Walls::new(segs, bounds, crowd.range, crowd.range);
    let map_grid = crate::grid::GridSpec {
        nx: (w.ceil()) as usize,
        ny: (h.ceil()) as usize,
        cell: 1.0,
        x0: cx + f64::from(l.grid.x0),
        y0: cy + f64::from(l.grid.y0),
        epsg: city.grid.epsg,
    };
    Ok(Built {
        crowd,
        mode: Mode::Venue,
        goals,
        offset: (cx, cy),
        ppa: 1.0,
        pending: Agents::default(),
        base_walls,
        map_grid,
        warnings: Vec::new(),
        order_on: None,
        metro: Agents::default(),
        metro_groups: Vec::new(),
        people,
    })
}

/// Land uses people can walk on.
fn walkable(l: LandUse) -> bool {
    matches!(l, LandUse::Open | LandUse::Road | LandUse::Green)
}

#[allow(clippy::too_many_arguments)]
fn build_district(
    d: &DistrictSpec,
    spec: &CrowdSpec,
    city: &City,
    csm: CsmParams,
    seed: u64,
    streams: &RngStreams,
    daytime: bool,
    at: &KeyPath,
) -> Result<Built, BuildError> {
    let g = city.grid;
    let (nx, ny) = (g.nx, g.ny);
    // Walking grid = city grid, flipped so row 0 is south.
    let to_city = |k: usize| {
        let (i, jl) = (k % nx, k / nx);
        (ny - 1 - jl) * nx + i
    };
    let mut l = Layout::new(
        (nx as f64 * g.cell) as f32,
        (ny as f64 * g.cell) as f32,
        g.cell as f32,
    );
    l.grid.x0 = g.x0 as f32;
    l.grid.y0 = g.y0 as f32;
    for k in 0..l.grid.len() {
        if walkable(city.landuse[to_city(k)]) {
            l.grid.speed[k] = 1.0;
        }
    }
    let mut goals = Vec::new();
    let mut warnings = Vec::new();
    for a in city.assets.iter().filter(|a| a.kind == AssetKind::Shelter) {
        let Some(k) = l.grid.locate(a.x as f32, a.y as f32) else {
            continue;
        };
        let (i, j) = ((k % nx) as isize, (k / nx) as isize);
        let mut cells = Vec::new();
        for dj in -1..=1isize {
            for di in -1..=1isize {
                let (ii, jj) = (i + di, j + dj);
                if ii >= 0 && jj >= 0 && (ii as usize) < nx && (jj as usize) < ny {
                    let q = jj as usize * nx + ii as usize;
                    if l.grid.walkable(q) && (q == k || !l.grid.walkable(k)) {
                        cells.push(q);
                    }
                }
            }
        }
        if cells.is_empty() {
            warnings.push(Warning {
                kind: "shelter.unreachable",
                place: Place {
                    x: a.x,
                    y: a.y,
                    cell: g.locate(a.x, a.y).map(|(i, j)| [i as u32, j as u32]),
                    name: Some(a.id.clone()),
                },
                message: format!(
                    "shelter {} has no walkable ground at its entrance: nobody can reach it",
                    a.id
                ),
                people: 0,
            });
            continue;
        }
        l.goals.push(cells);
        goals.push(GoalInfo {
            name: a.id.clone(),
            x: a.x,
            y: a.y,
            capacity: if a.capacity > 0.0 {
                a.capacity
            } else {
                f64::INFINITY
            },
            open_at: 0.0,
            close_at: f64::INFINITY,
            is_gate: false,
            bar: None,
        });
    }
    if goals.is_empty() {
        return Err(BuildError::new(
            at.clone(),
            "the city has no reachable shelter (assets of kind `shelter` on walkable ground): \
             add some under [[assets]] or [plan] add_assets",
        ));
    }
    // People: each building's occupants, sampled at one agent per `people_per_agent`,
    // starting from the nearest walkable cell to the building (its door).
    let mut rng = streams.stream("crowd.population");
    let mut pending = Agents::default();
    let mut id = 0u32;
    let mut people = 0.0;
    let door = nearest_walkable(&l.grid);
    let mut unplaced = 0.0;
    for bld in &city.buildings {
        let occ = f64::from(if daytime {
            bld.occupants_day
        } else {
            bld.occupants_night
        });
        if occ <= 0.0 {
            continue;
        }
        let want = occ / d.people_per_agent;
        let n = want.floor() as usize + usize::from(rng.random::<f64>() < want.fract());
        let (ai, aj) = g.cell_of(bld.anchor as usize);
        let k = (ny - 1 - aj) * nx + ai;
        let Some(dk) = door[k] else {
            unplaced += n as f64 * d.people_per_agent;
            continue;
        };
        let (dx, dy) = l.grid.center(dk as usize);
        let hc = l.grid.h * 0.5 - csm.radius;
        for _ in 0..n {
            let x = dx + rng.random_range(-hc..=hc);
            let y = dy + rng.random_range(-hc..=hc);
            let (v0, _) = spec.speeds.draw(&mut rng);
            // On a hazard's warning the order time is known only at run time: starts are
            // kept relative to it and shifted when it comes.
            let order = if d.warning.is_some() {
                0.0
            } else {
                d.warning_s
            };
            let start = order + d.premovement.draw(&mut rng);
            pending.push(id, x, y, v0, csm.radius, NO_GOAL, start as f32);
            id += 1;
        }
        people += n as f64 * d.people_per_agent;
    }
    if unplaced > 0.0 {
        warnings.push(Warning {
            kind: "population.unplaced",
            place: Place {
                x: g.x0 + g.width_m() / 2.0,
                y: g.y0 + g.height_m() / 2.0,
                cell: None,
                name: None,
            },
            message: format!(
                "{unplaced:.0} people live in buildings with no walkable ground around them"
            ),
            people: unplaced as u64,
        });
    }
    // Metro passengers: a group at the door of each entrance, waiting for it to close.
    let mut metro = Agents::default();
    let mut metro_groups = Vec::new();
    if d.metro_people_per_entrance > 0.0 {
        let n = (d.metro_people_per_entrance / d.people_per_agent).round() as usize;
        for a in city
            .assets
            .iter()
            .filter(|a| a.kind == AssetKind::MetroEntrance)
        {
            let Some(dk) = l.grid.locate(a.x as f32, a.y as f32).and_then(|k| door[k]) else {
                continue;
            };
            let (dx, dy) = l.grid.center(dk as usize);
            let hc = l.grid.h * 0.5 - csm.radius;
            let first = metro.len();
            for _ in 0..n {
                let x = dx + rng.random_range(-hc..=hc);
                let y = dy + rng.random_range(-hc..=hc);
                let (v0, _) = spec.speeds.draw(&mut rng);
                metro.push(id, x, y, v0, csm.radius, NO_GOAL, f32::INFINITY);
                id += 1;
            }
            metro_groups.push(runtime::MetroGroup {
                asset: a.id.clone(),
                x: a.x,
                y: a.y,
                agents: first..metro.len(),
                released: false,
            });
        }
    }
    // Sort the street arrivals by start time (stable by id) so they can be released in order.
    let mut order: Vec<u32> = (0..pending.len() as u32).collect();
    order.sort_by(|&a, &b| pending.start[a as usize].total_cmp(&pending.start[b as usize]));
    pending.permute(&order);
    let base_walls = l.walls();
    let mut crowd = l.build(Agents::default(), spec.model, csm, None, seed);
    // The range must hold for the people who join later.
    crowd.range = model::interaction_range(1.61, &csm, csm.radius);
    let bounds = [
        l.grid.x0,
        l.grid.y0,
        l.grid.x0 + l.grid.nx as f32 * l.grid.h,
        l.grid.y0 + l.grid.ny as f32 * l.grid.h,
    ];
    crowd.cells = cells::CellList::new(bounds, crowd.range, false);
    crowd.walls = Walls::new(base_walls.clone(), bounds, crowd.range, crowd.range);
    Ok(Built {
        crowd,
        mode: Mode::District {
            walk_depth_limit: d.walk_depth_limit_m,
            warning_s: d.warning_s,
        },
        order_on: d.warning.clone(),
        metro,
        metro_groups,
        goals,
        offset: (0.0, 0.0),
        ppa: d.people_per_agent,
        pending,
        base_walls,
        map_grid: g,
        warnings,
        people,
    })
}

/// For every cell, the nearest walkable cell by breadth-first search (4-neighbour).
fn nearest_walkable(grid: &navigation::NavGrid) -> Vec<Option<u32>> {
    let n = grid.len();
    let mut out: Vec<Option<u32>> = vec![None; n];
    let mut queue = std::collections::VecDeque::new();
    for (k, o) in out.iter_mut().enumerate() {
        if grid.walkable(k) {
            *o = Some(k as u32);
            queue.push_back(k);
        }
    }
    while let Some(k) = queue.pop_front() {
        let (i, j) = (k % grid.nx, k / grid.nx);
        let mut nb = [usize::MAX; 4];
        if i > 0 {
            nb[0] = k - 1;
        }
        if i + 1 < grid.nx {
            nb[1] = k + 1;
        }
        if j > 0 {
            nb[2] = k - grid.nx;
        }
        if j + 1 < grid.ny {
            nb[3] = k + grid.nx;
        }
        for q in nb {
            if q != usize::MAX && out[q].is_none() {
                out[q] = out[k];
                queue.push_back(q);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests;
