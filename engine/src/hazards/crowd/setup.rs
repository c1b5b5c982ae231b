//! Pure setup: the spec and the city become the walking layout, the people with their
//! speeds and start times, the goals (gates or shelters) and the warnings found on the
//! way, with every check against the city (gates with no ground, groups that do not fit,
//! no reachable shelter) as a located [`BuildError`]. `check` runs it to report those
//! errors; `build` runs it and then assembles the kernel ([`Kernel::assemble`], which
//! computes the navigation fields) and the runtime state.

mod district;
mod venue;

use rand::RngExt;

use super::cells::CellList;
use super::geometry::{Segment, Walls};
use super::layout::Layout;
use super::model::{Agents, Crowd, CsmParams, ModelKind};
use super::spec::CrowdSpec;
use super::state::{GoalInfo, MetroGroup, Mode};
use crate::events::Place;
use crate::grid::GridSpec;
use crate::sim::{BuildContext, BuildError};

/// Weidmann's (1993) jam density, P/m²: no area can hold more people.
pub const MAX_DENSITY: f64 = 5.4;

/// A warning found at setup (emitted as an event at t = 0).
pub(crate) struct Warning {
    pub kind: &'static str,
    pub place: Place,
    pub message: String,
    pub people: u64,
}

/// The operational model, its parameters and the seed of its own noise.
#[derive(Clone, Copy)]
struct ModelParams {
    model: ModelKind,
    csm: CsmParams,
    seed: u64,
}

/// What the kernel is assembled from.
pub(super) struct Kernel {
    layout: Layout,
    /// People on the ground at the start (venue; the district's join later).
    agents: Agents,
    params: ModelParams,
    /// Walls at the start: the layout's, and the bars of gates shut at the start.
    start_walls: Vec<Segment>,
    /// The walking domain, m (crowd frame).
    bounds: [f32; 4],
    /// Interaction range that holds for people who join later (district), m.
    joiner_range: Option<f32>,
}

impl Kernel {
    /// The crowd simulation: the layout's navigation fields, the cell list and walls for
    /// the interaction range.
    pub fn assemble(self) -> Crowd {
        let ModelParams { model, csm, seed } = self.params;
        let mut crowd = self.layout.build(self.agents, model, csm, None, seed);
        if let Some(range) = self.joiner_range {
            crowd.range = range;
            crowd.cells = CellList::new(self.bounds, range, false);
        }
        crowd.walls = Walls::new(self.start_walls, self.bounds, crowd.range, crowd.range);
        crowd
    }
}

/// What the runtime starts from besides the kernel.
pub(crate) struct Scene {
    pub mode: Mode,
    pub goals: Vec<GoalInfo>,
    /// Map offset of the crowd's coordinates.
    pub offset: (f64, f64),
    /// People each agent stands for.
    pub ppa: f64,
    /// People not yet on the street (district): agents with their start times.
    pub pending: Agents,
    /// Base walls (without closed-gate bars).
    pub base_walls: Vec<Segment>,
    /// Map grid for the peak density raster.
    pub map_grid: GridSpec,
    pub warnings: Vec<Warning>,
    /// The hazard warning that orders the evacuation (district), if any.
    pub order_on: Option<String>,
    /// Metro passengers (district): put on the street when their entrance closes.
    pub metro: Agents,
    pub metro_groups: Vec<MetroGroup>,
    /// Total people.
    pub people: f64,
}

/// The crowd scenario set up.
pub(super) struct Setup {
    pub kernel: Kernel,
    pub scene: Scene,
    /// Model time step, s.
    pub dt: f32,
}

/// Set the scenario up against the city, without building anything.
pub(super) fn setup(spec: &CrowdSpec, ctx: &BuildContext) -> Result<Setup, BuildError> {
    let mut csm = spec.parameters.params();
    let dt = spec.dt_s.unwrap_or(match spec.model {
        ModelKind::Csm => 0.05,
        ModelKind::Sfm => 0.01,
    }) as f32;
    let seed = ctx.streams.stream("crowd.noise").random::<u64>();
    if spec.model == ModelKind::Sfm {
        // Helbing et al. (2000) draw radii from U[0.25, 0.35] m; here one radius.
        csm.radius = 0.3;
    }
    let params = ModelParams {
        model: spec.model,
        csm,
        seed,
    };
    let (kernel, scene) = match (&spec.venue, &spec.district) {
        (Some(v), _) => venue::setup(v, spec, ctx, params, &ctx.key("venue"))?,
        (_, Some(d)) => district::setup(d, spec, ctx, params, &ctx.key("district"))?,
        _ => {
            return Err(BuildError::new(
                ctx.at.clone(),
                "give a venue or a district",
            ));
        }
    };
    Ok(Setup { kernel, scene, dt })
}
