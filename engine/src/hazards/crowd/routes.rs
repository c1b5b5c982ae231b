//! Route choice: every goal's travel-time field on the walkable ground as slowed by the
//! crowd (Weidmann's speed-density relation) and by closures from other hazards, and
//! each person's choice of the usable goal with the least estimated walking time.

use rayon::prelude::*;

use super::model::NO_GOAL;
use super::navigation::Field;
use super::state::CrowdSim;
use super::validation::weidmann;

impl CrowdSim {
    /// Recompute every goal's field on the current terrain, closures and densities.
    pub(super) fn recompute_fields(&mut self) {
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
    pub(super) fn reroute(&mut self) {
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

    pub(super) fn best_goal(&self, x: f32, y: f32) -> Option<u16> {
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
    pub(super) fn beyond_bar(&self, g: usize, x: f32, y: f32) -> bool {
        let Some(b) = self.goals[g].bar else {
            return false;
        };
        let side = |px: f32, py: f32| (b.bx - b.ax) * (py - b.ay) - (b.by - b.ay) * (px - b.ax);
        // The venue centre is the origin of the crowd's frame.
        side(x, y) * side(0.0, 0.0) < 0.0
    }
}
