//! Setting up a district evacuation: the city grid as the walking grid (open ground,
//! roads and green), the shelters as goals, every building's occupants as people who
//! leave from its door after the order and their pre-movement time, and the metro
//! passengers behind each entrance.

use rand::RngExt;

use super::{Kernel, ModelParams, Scene, Warning};
use crate::city::{AssetKind, City, LandUse};
use crate::events::Place;
use crate::hazards::crowd::layout::Layout;
use crate::hazards::crowd::model::{self, Agents, NO_GOAL};
use crate::hazards::crowd::navigation::NavGrid;
use crate::hazards::crowd::outputs as out;
use crate::hazards::crowd::spec::{CrowdSpec, DistrictSpec};
use crate::hazards::crowd::state::{GoalInfo, MetroGroup, Mode, centre_of};
use crate::rng::StreamRng;
use crate::sim::{BuildContext, BuildError};
use crate::spec::KeyPath;

pub(super) fn setup(
    d: &DistrictSpec,
    spec: &CrowdSpec,
    ctx: &BuildContext,
    params: ModelParams,
    at: &KeyPath,
) -> Result<(Kernel, Scene), BuildError> {
    let city = ctx.city;
    let g = city.grid;
    let mut l = walking_layout(city);
    let mut warnings = Vec::new();
    let goals = shelters(&mut l, city, &mut warnings);
    if goals.is_empty() {
        return Err(BuildError::new(
            at.clone(),
            "the city has no reachable shelter (assets of kind `shelter` on walkable ground): \
             add some under [[assets]] or [plan] add_assets",
        ));
    }
    // People: each building's occupants, sampled at one agent per `people_per_agent`,
    // starting from the nearest walkable cell to the building (its door).
    let mut people = People {
        rng: ctx.streams.stream("crowd.population"),
        door: nearest_walkable(&l.grid),
        radius: params.csm.radius,
        next_id: 0,
    };
    let (mut pending, residents) = people.residents(&l, d, spec, ctx, &mut warnings);
    let (metro, metro_groups) = people.metro(&l, d, spec, city);
    // Sort the street arrivals by start time (stable by id) so they can be released in order.
    let mut order: Vec<u32> = (0..pending.len() as u32).collect();
    order.sort_by(|&a, &b| pending.start[a as usize].total_cmp(&pending.start[b as usize]));
    pending.permute(&order);
    let base_walls = l.walls();
    let csm = params.csm;
    let bounds = [
        l.grid.x0,
        l.grid.y0,
        l.grid.x0 + l.grid.nx as f32 * l.grid.h,
        l.grid.y0 + l.grid.ny as f32 * l.grid.h,
    ];
    let kernel = Kernel {
        layout: l,
        agents: Agents::default(),
        params,
        start_walls: base_walls.clone(),
        bounds,
        // The range must hold for the people who join later.
        joiner_range: Some(model::interaction_range(1.61, &csm, csm.radius)),
    };
    let scene = Scene {
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
        people: residents,
    };
    Ok((kernel, scene))
}

/// Land uses people can walk on.
fn walkable(l: LandUse) -> bool {
    matches!(l, LandUse::Open | LandUse::Road | LandUse::Green)
}

/// The walking grid: the city grid, flipped so row 0 is south.
fn walking_layout(city: &City) -> Layout {
    let g = city.grid;
    let (nx, ny) = (g.nx, g.ny);
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
    l
}

/// The shelters as goals: the walkable cells at each one's entrance (its own cell if
/// walkable, else its walkable neighbours). Shelters with none are left out, with a
/// warning.
fn shelters(l: &mut Layout, city: &City, warnings: &mut Vec<Warning>) -> Vec<GoalInfo> {
    let g = city.grid;
    let (nx, ny) = (g.nx, g.ny);
    let mut goals = Vec::new();
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
                kind: out::SHELTER_UNREACHABLE.name,
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
    goals
}

/// Draws the people of the district, in order (residents, then metro passengers), from
/// one random stream.
struct People {
    rng: StreamRng,
    /// The door of each walking cell: the nearest walkable cell.
    door: Vec<Option<u32>>,
    radius: f32,
    next_id: u32,
}

impl People {
    /// `n` agents at random in the door cell `dk`, each with a speed and a start time,
    /// heading nowhere yet.
    fn at_door(
        &mut self,
        l: &Layout,
        dk: u32,
        n: usize,
        spec: &CrowdSpec,
        agents: &mut Agents,
        mut start: impl FnMut(&mut StreamRng) -> f32,
    ) {
        let (dx, dy) = l.grid.center(dk as usize);
        let hc = l.grid.h * 0.5 - self.radius;
        for _ in 0..n {
            let x = dx + self.rng.random_range(-hc..=hc);
            let y = dy + self.rng.random_range(-hc..=hc);
            let (v0, _) = spec.speeds.draw(&mut self.rng);
            let t = start(&mut self.rng);
            agents.push(self.next_id, x, y, v0, self.radius, NO_GOAL, t);
            self.next_id += 1;
        }
    }

    /// Each building's occupants (day or night), one agent per `people_per_agent` with
    /// the fraction drawn, at the building's door. Returns the agents and the people
    /// they stand for; people of buildings with no walkable ground near are counted in
    /// a warning.
    fn residents(
        &mut self,
        l: &Layout,
        d: &DistrictSpec,
        spec: &CrowdSpec,
        ctx: &BuildContext,
        warnings: &mut Vec<Warning>,
    ) -> (Agents, f64) {
        let g = ctx.city.grid;
        let (nx, ny) = (g.nx, g.ny);
        let mut pending = Agents::default();
        let mut people = 0.0;
        let mut unplaced = 0.0;
        // On a hazard's warning the order time is known only at run time: starts are
        // kept relative to it and shifted when it comes.
        let order = if d.warning.is_some() {
            0.0
        } else {
            d.warning_s
        };
        for bld in &ctx.city.buildings {
            let occ = f64::from(ctx.population.occupants(bld));
            if occ <= 0.0 {
                continue;
            }
            let want = occ / d.people_per_agent;
            let n = want.floor() as usize + usize::from(self.rng.random::<f64>() < want.fract());
            let (ai, aj) = g.cell_of(bld.anchor as usize);
            let k = (ny - 1 - aj) * nx + ai;
            let Some(dk) = self.door[k] else {
                unplaced += n as f64 * d.people_per_agent;
                continue;
            };
            let start = |rng: &mut StreamRng| (order + d.premovement.draw(rng)) as f32;
            self.at_door(l, dk, n, spec, &mut pending, start);
            people += n as f64 * d.people_per_agent;
        }
        if unplaced > 0.0 {
            warnings.push(Warning {
                kind: out::POPULATION_UNPLACED.name,
                place: centre_of(&g),
                message: format!(
                    "{unplaced:.0} people live in buildings with no walkable ground around them"
                ),
                people: unplaced as u64,
            });
        }
        (pending, people)
    }

    /// Metro passengers: a group at the door of each entrance, waiting for it to close.
    fn metro(
        &mut self,
        l: &Layout,
        d: &DistrictSpec,
        spec: &CrowdSpec,
        city: &City,
    ) -> (Agents, Vec<MetroGroup>) {
        let mut metro = Agents::default();
        let mut groups = Vec::new();
        if d.metro_people_per_entrance <= 0.0 {
            return (metro, groups);
        }
        let n = (d.metro_people_per_entrance / d.people_per_agent).round() as usize;
        for a in city
            .assets
            .iter()
            .filter(|a| a.kind == AssetKind::MetroEntrance)
        {
            let Some(dk) = l
                .grid
                .locate(a.x as f32, a.y as f32)
                .and_then(|k| self.door[k])
            else {
                continue;
            };
            let first = metro.len();
            self.at_door(l, dk, n, spec, &mut metro, |_| f32::INFINITY);
            groups.push(MetroGroup {
                asset: a.id.clone(),
                x: a.x,
                y: a.y,
                agents: first..metro.len(),
                released: false,
            });
        }
        (metro, groups)
    }
}

/// For every cell, the nearest walkable cell by breadth-first search (4-neighbour).
fn nearest_walkable(grid: &NavGrid) -> Vec<Option<u32>> {
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
