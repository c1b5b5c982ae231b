//! Building a walled walking domain from rectangles and shapes: the walkable mask becomes
//! both the navigation grid and (through its cell edges) the walls, so what people
//! navigate and what stops them always agree. Used by the venue and district scenarios,
//! the validation cases and the benches.

use rand::RngExt;

use super::geometry::{Segment, Walls, walls_from_mask};
use super::model::{Agents, Crowd, CsmParams, ModelKind, NO_GOAL, interaction_range};
use super::navigation::{Field, NavGrid};

/// A walkable mask on a grid (row 0 at the south) and the goals on it.
#[derive(Debug, Clone)]
pub struct Layout {
    pub grid: NavGrid,
    /// Source cells of each goal; they also form the goal's arrival region.
    pub goals: Vec<Vec<usize>>,
    /// Extra wall segments (e.g. thin inner barriers).
    pub extra_walls: Vec<Segment>,
}

impl Layout {
    /// A `w` × `h` m domain of `cell` m cells, all blocked, south-west corner at the origin.
    pub fn new(w: f32, h: f32, cell: f32) -> Self {
        let nx = (w / cell).round().max(1.0) as usize;
        let ny = (h / cell).round().max(1.0) as usize;
        Self {
            grid: NavGrid {
                nx,
                ny,
                h: cell,
                x0: 0.0,
                y0: 0.0,
                speed: vec![0.0; nx * ny],
            },
            goals: Vec::new(),
            extra_walls: Vec::new(),
        }
    }

    fn cells_in(&self, x0: f32, y0: f32, x1: f32, y1: f32) -> Vec<usize> {
        (0..self.grid.len())
            .filter(|&k| {
                let (cx, cy) = self.grid.center(k);
                cx > x0 && cx < x1 && cy > y0 && cy < y1
            })
            .collect()
    }

    /// Make the cells whose centres lie in the rectangle walkable.
    pub fn open(&mut self, x0: f32, y0: f32, x1: f32, y1: f32) {
        for k in self.cells_in(x0, y0, x1, y1) {
            self.grid.speed[k] = 1.0;
        }
    }

    /// Make the cells whose centres lie in the rectangle impassable.
    pub fn block(&mut self, x0: f32, y0: f32, x1: f32, y1: f32) {
        for k in self.cells_in(x0, y0, x1, y1) {
            self.grid.speed[k] = 0.0;
        }
    }

    /// A goal made of the walkable cells in the rectangle; returns its index.
    pub fn goal(&mut self, x0: f32, y0: f32, x1: f32, y1: f32) -> u16 {
        let cells: Vec<usize> = self
            .cells_in(x0, y0, x1, y1)
            .into_iter()
            .filter(|&k| self.grid.walkable(k))
            .collect();
        self.goals.push(cells);
        (self.goals.len() - 1) as u16
    }

    /// Whether (x, y) is in a walkable cell.
    pub fn walkable_at(&self, x: f32, y: f32) -> bool {
        self.grid
            .locate(x, y)
            .is_some_and(|k| self.grid.walkable(k))
    }

    /// All walls: cell edges between walkable and blocked cells, plus the extra walls.
    pub fn walls(&self) -> Vec<Segment> {
        let blocked: Vec<bool> = self.grid.speed.iter().map(|&s| s <= 0.0).collect();
        let mut segs = walls_from_mask(
            &blocked,
            self.grid.nx,
            self.grid.ny,
            self.grid.h,
            self.grid.x0,
            self.grid.y0,
        );
        segs.extend_from_slice(&self.extra_walls);
        segs
    }

    /// Goal region of each cell.
    pub fn regions(&self) -> Vec<u16> {
        let mut r = vec![NO_GOAL; self.grid.len()];
        for (g, cells) in self.goals.iter().enumerate() {
            for &k in cells {
                r[k] = g as u16;
            }
        }
        r
    }

    /// The crowd simulation on this layout. A periodic domain has no walls at its west
    /// and east edges.
    pub fn build(
        &self,
        agents: Agents,
        model: ModelKind,
        csm: CsmParams,
        period: Option<f32>,
        seed: u64,
    ) -> Crowd {
        let v0_max = agents.v0.iter().copied().fold(1.34f32, f32::max);
        let r_max = agents.r.iter().copied().fold(0.2f32, f32::max);
        let range = interaction_range(v0_max, &csm, r_max);
        let g = &self.grid;
        let (x1, y1) = (g.x0 + g.nx as f32 * g.h, g.y0 + g.ny as f32 * g.h);
        let mut segs = self.walls();
        if period.is_some() {
            // Drop the edges at the periodic ends.
            segs.retain(|s| !(s.ax == s.bx && (s.ax <= g.x0 + 1e-4 || s.ax >= x1 - 1e-4)));
        }
        let walls = Walls::new(segs, [g.x0, g.y0, x1, y1], range, range);
        let fields = self.goals.iter().map(|c| Field::compute(g, c)).collect();
        Crowd::new(
            agents,
            walls,
            self.grid.clone(),
            fields,
            self.regions(),
            model,
            csm,
            period,
            seed,
        )
    }
}

/// Place `n` people of radius `r` at random in a rectangle, not overlapping each other,
/// the people in `existing`, or walls (walkable cells only, at least `r` from every
/// wall), where `accept` holds. Returns the positions, or how many fitted when the area
/// is too full.
#[allow(clippy::too_many_arguments)]
pub fn scatter(
    layout: &Layout,
    walls: &Walls,
    rect: [f32; 4],
    n: usize,
    r: f32,
    existing: &[(f32, f32)],
    accept: &dyn Fn(f32, f32) -> bool,
    rng: &mut impl rand::Rng,
) -> Result<Vec<(f32, f32)>, usize> {
    let [x0, y0, x1, y1] = rect;
    let mut out: Vec<(f32, f32)> = Vec::with_capacity(n);
    // A hash grid of placed people for the overlap test.
    let cell = 2.0 * r;
    let nx = (((x1 - x0) / cell).ceil() as usize).max(1);
    let ny = (((y1 - y0) / cell).ceil() as usize).max(1);
    let mut grid: Vec<Vec<(f32, f32)>> = vec![Vec::new(); nx * ny];
    let idx = |x: f32, y: f32| {
        let i = (((x - x0) / cell).floor().max(0.0) as usize).min(nx - 1);
        let j = (((y - y0) / cell).floor().max(0.0) as usize).min(ny - 1);
        (i, j)
    };
    for &(x, y) in existing {
        if x >= x0 - cell && x <= x1 + cell && y >= y0 - cell && y <= y1 + cell {
            let (i, j) = idx(x, y);
            grid[j * nx + i].push((x, y));
        }
    }
    let tries = 200 * n.max(1);
    let mut t = 0;
    while out.len() < n && t < tries {
        t += 1;
        let x = rng.random_range(x0 + r..x1 - r);
        let y = rng.random_range(y0 + r..y1 - r);
        if !layout.walkable_at(x, y) || !accept(x, y) || walls.distance(x, y) < r {
            continue;
        }
        let (i, j) = idx(x, y);
        let mut ok = true;
        'n: for jj in j.saturating_sub(1)..=(j + 1).min(ny - 1) {
            for ii in i.saturating_sub(1)..=(i + 1).min(nx - 1) {
                for &(px, py) in &grid[jj * nx + ii] {
                    if (px - x).powi(2) + (py - y).powi(2) < (2.0 * r) * (2.0 * r) {
                        ok = false;
                        break 'n;
                    }
                }
            }
        }
        if ok {
            grid[j * nx + i].push((x, y));
            out.push((x, y));
        }
    }
    if out.len() < n {
        Err(out.len())
    } else {
        Ok(out)
    }
}
