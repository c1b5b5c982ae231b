//! The road graph of the city grid, for engines: road cells are nodes, the 8 neighbours
//! of a road cell that are roads are its edges, and an edge takes half its length at
//! each end's speed. Off-road cells reach the network through their nearest road cell
//! (the engine parks there; the rest is hose lay).

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use crate::city::{City, RoadClass};

/// No cell.
pub const NONE: u32 = u32::MAX;

/// The road network on the grid.
#[derive(Debug, Clone)]
pub struct RoadNet {
    pub nx: usize,
    pub ny: usize,
    pub cell: f64,
    /// Emergency driving speed per cell, m/s (0 off the road network).
    pub speed: Vec<f32>,
    /// Nearest road cell of each cell (itself on roads), `NONE` beyond the access limit.
    pub access: Vec<u32>,
    /// Distance to that road cell, m.
    pub access_dist: Vec<f32>,
}

/// A settled label of the priority queue: earliest first, cell index as tie-break.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Label {
    t: f64,
    cell: u32,
}
impl Eq for Label {}
impl PartialOrd for Label {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Label {
    fn cmp(&self, o: &Self) -> Ordering {
        o.t.total_cmp(&self.t).then(o.cell.cmp(&self.cell))
    }
}

const NEIGHBOURS: [(i32, i32, f64); 8] = [
    (1, 0, 1.0),
    (-1, 0, 1.0),
    (0, 1, 1.0),
    (0, -1, 1.0),
    (1, 1, std::f64::consts::SQRT_2),
    (1, -1, std::f64::consts::SQRT_2),
    (-1, 1, std::f64::consts::SQRT_2),
    (-1, -1, std::f64::consts::SQRT_2),
];

/// Result of a shortest-path search: travel time to each cell (s, infinite if not
/// reached), the predecessor on the fastest path and the source each cell was reached
/// from (index into the sources given).
#[derive(Debug, Clone)]
pub struct Tree {
    pub time: Vec<f64>,
    pub pred: Vec<u32>,
    pub origin: Vec<u32>,
}

impl Tree {
    /// Cells from the source to `target` (inclusive), or `None` if not reached.
    pub fn path_to(&self, target: u32) -> Option<Vec<u32>> {
        if target == NONE || !self.time[target as usize].is_finite() {
            return None;
        }
        let mut out = vec![target];
        let mut c = target;
        while self.pred[c as usize] != NONE {
            c = self.pred[c as usize];
            out.push(c);
        }
        out.reverse();
        Some(out)
    }
}

impl RoadNet {
    /// Speeds from the road classes' design speeds (CJJ 37-2012, via
    /// [`RoadClass::design_speed_kmh`]) times `speed_factor`; access within
    /// `max_access_m` of a road.
    pub fn from_city(city: &City, speed_factor: f64, max_access_m: f64) -> Self {
        let g = city.grid;
        let speed = city
            .road
            .iter()
            .map(|r| match r {
                RoadClass::None => 0.0,
                r => (r.design_speed_kmh() / 3.6 * speed_factor) as f32,
            })
            .collect();
        Self::from_speeds(g.nx, g.ny, g.cell, speed, max_access_m)
    }

    /// A network from per-cell speeds (m/s, 0 = no road).
    pub fn from_speeds(
        nx: usize,
        ny: usize,
        cell: f64,
        speed: Vec<f32>,
        max_access_m: f64,
    ) -> Self {
        let mut net = Self {
            nx,
            ny,
            cell,
            speed,
            access: Vec::new(),
            access_dist: Vec::new(),
        };
        net.compute_access(max_access_m);
        net
    }

    pub fn is_road(&self, c: usize) -> bool {
        self.speed[c] > 0.0
    }

    /// Nearest road cell of every cell by 8-neighbour distance (steps of one cell and
    /// √2 cells): a two-pass chamfer transform carrying the nearest road cell's index,
    /// exact for this metric on an obstacle-free grid and linear in the grid size.
    fn compute_access(&mut self, max_m: f64) {
        let (nx, ny) = (self.nx, self.ny);
        let n = nx * ny;
        let mut dist = vec![f64::INFINITY; n];
        let mut access = vec![NONE; n];
        for c in 0..n {
            if self.is_road(c) {
                dist[c] = 0.0;
                access[c] = c as u32;
            }
        }
        let (h, dg) = (self.cell, self.cell * std::f64::consts::SQRT_2);
        let relax = |c: usize, q: usize, w: f64, dist: &mut [f64], access: &mut [u32]| {
            let t = dist[q] + w;
            if t < dist[c] {
                dist[c] = t;
                access[c] = access[q];
            }
        };
        for j in 0..ny {
            for i in 0..nx {
                let c = j * nx + i;
                if i > 0 {
                    relax(c, c - 1, h, &mut dist, &mut access);
                }
                if j > 0 {
                    relax(c, c - nx, h, &mut dist, &mut access);
                    if i > 0 {
                        relax(c, c - nx - 1, dg, &mut dist, &mut access);
                    }
                    if i + 1 < nx {
                        relax(c, c - nx + 1, dg, &mut dist, &mut access);
                    }
                }
            }
        }
        for j in (0..ny).rev() {
            for i in (0..nx).rev() {
                let c = j * nx + i;
                if i + 1 < nx {
                    relax(c, c + 1, h, &mut dist, &mut access);
                }
                if j + 1 < ny {
                    relax(c, c + nx, h, &mut dist, &mut access);
                    if i + 1 < nx {
                        relax(c, c + nx + 1, dg, &mut dist, &mut access);
                    }
                    if i > 0 {
                        relax(c, c + nx - 1, dg, &mut dist, &mut access);
                    }
                }
            }
        }
        for c in 0..n {
            if dist[c] > max_m + 1e-9 {
                dist[c] = f64::INFINITY;
                access[c] = NONE;
            }
        }
        self.access_dist = dist.iter().map(|&d| d as f32).collect();
        self.access = access;
    }

    fn neighbours(&self, c: usize) -> impl Iterator<Item = (usize, f64)> + '_ {
        let (i, j) = ((c % self.nx) as i64, (c / self.nx) as i64);
        let (nx, ny) = (self.nx as i64, self.ny as i64);
        NEIGHBOURS.iter().filter_map(move |&(di, dj, len)| {
            let (a, b) = (i + i64::from(di), j + i64::from(dj));
            (a >= 0 && b >= 0 && a < nx && b < ny).then(|| ((b * nx + a) as usize, len * self.cell))
        })
    }

    /// Travel time of the edge between neighbouring road cells p and q of length `len`.
    pub fn edge_time(&self, p: usize, q: usize, len: f64) -> f64 {
        0.5 * len / f64::from(self.speed[p]) + 0.5 * len / f64::from(self.speed[q])
    }

    /// Dijkstra over the road cells from `sources` (cell, start time). Cells with
    /// `blocked(c)` true are impassable. The search stops early once every cell in
    /// `targets` is settled (pass an empty slice to settle everything).
    pub fn search(
        &self,
        sources: &[(u32, f64)],
        blocked: &dyn Fn(usize) -> bool,
        targets: &[u32],
    ) -> Tree {
        let n = self.nx * self.ny;
        let mut time = vec![f64::INFINITY; n];
        let mut pred = vec![NONE; n];
        let mut origin = vec![NONE; n];
        let mut heap = BinaryHeap::new();
        for (k, &(c, t0)) in sources.iter().enumerate() {
            let cu = c as usize;
            if c == NONE || !self.is_road(cu) || blocked(cu) {
                continue;
            }
            if t0 < time[cu] {
                time[cu] = t0;
                origin[cu] = k as u32;
                heap.push(Label { t: t0, cell: c });
            }
        }
        let mut remaining: Vec<u32> = targets.to_vec();
        remaining.sort_unstable();
        remaining.dedup();
        let mut left = remaining.len();
        let mut done = vec![false; if targets.is_empty() { 0 } else { n }];
        while let Some(Label { t, cell }) = heap.pop() {
            let c = cell as usize;
            if t > time[c] {
                continue;
            }
            if !targets.is_empty() && !done[c] {
                done[c] = true;
                if remaining.binary_search(&cell).is_ok() {
                    left -= 1;
                    if left == 0 {
                        break;
                    }
                }
            }
            for (q, len) in self.neighbours(c) {
                if !self.is_road(q) || blocked(q) {
                    continue;
                }
                let nt = t + self.edge_time(c, q, len);
                if nt < time[q] {
                    time[q] = nt;
                    pred[q] = cell;
                    origin[q] = origin[c];
                    heap.push(Label {
                        t: nt,
                        cell: q as u32,
                    });
                }
            }
        }
        Tree { time, pred, origin }
    }

    /// Cumulative travel times along a path of neighbouring road cells, starting at `t0`.
    pub fn path_times(&self, path: &[u32], t0: f64) -> Vec<f64> {
        let mut out = Vec::with_capacity(path.len());
        let mut t = t0;
        for (k, &c) in path.iter().enumerate() {
            if k > 0 {
                let p = path[k - 1] as usize;
                let (pi, pj) = (p % self.nx, p / self.nx);
                let (ci, cj) = (c as usize % self.nx, c as usize / self.nx);
                let len = if pi != ci && pj != cj {
                    self.cell * std::f64::consts::SQRT_2
                } else {
                    self.cell
                };
                t += self.edge_time(p, c as usize, len);
            }
            out.push(t);
        }
        out
    }

    /// Connected components of the road network (8-neighbour), as a label per cell
    /// (`NONE` off the network), and the number of components.
    pub fn components(&self) -> (Vec<u32>, u32) {
        let n = self.nx * self.ny;
        let mut label = vec![NONE; n];
        let mut next = 0u32;
        let mut stack = Vec::new();
        for s in 0..n {
            if !self.is_road(s) || label[s] != NONE {
                continue;
            }
            label[s] = next;
            stack.push(s);
            while let Some(c) = stack.pop() {
                for (q, _) in self.neighbours(c) {
                    if self.is_road(q) && label[q] == NONE {
                        label[q] = next;
                        stack.push(q);
                    }
                }
            }
            next += 1;
        }
        (label, next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An independent reference: Floyd–Warshall over an explicit edge list built from
    /// the grid by hand.
    fn floyd(nx: usize, ny: usize, cell: f64, speed: &[f32], blocked: &[bool]) -> Vec<Vec<f64>> {
        let n = nx * ny;
        let mut d = vec![vec![f64::INFINITY; n]; n];
        for a in 0..n {
            if speed[a] > 0.0 && !blocked[a] {
                d[a][a] = 0.0;
            }
        }
        for a in 0..n {
            for b in 0..n {
                let (ai, aj) = ((a % nx) as i64, (a / nx) as i64);
                let (bi, bj) = ((b % nx) as i64, (b / nx) as i64);
                let (di, dj) = ((ai - bi).abs(), (aj - bj).abs());
                if a == b || di > 1 || dj > 1 {
                    continue;
                }
                if speed[a] <= 0.0 || speed[b] <= 0.0 || blocked[a] || blocked[b] {
                    continue;
                }
                let len = if di + dj == 2 {
                    cell * 2f64.sqrt()
                } else {
                    cell
                };
                d[a][b] = len / 2.0 / f64::from(speed[a]) + len / 2.0 / f64::from(speed[b]);
            }
        }
        for k in 0..n {
            for a in 0..n {
                for b in 0..n {
                    if d[a][k] + d[k][b] < d[a][b] {
                        d[a][b] = d[a][k] + d[k][b];
                    }
                }
            }
        }
        d
    }

    fn lcg(state: &mut u64) -> f64 {
        *state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (*state >> 11) as f64 / (1u64 << 53) as f64
    }

    #[test]
    #[allow(clippy::needless_range_loop)]
    fn dijkstra_equals_floyd_warshall_on_random_grids() {
        let mut s = 12345u64;
        for _ in 0..20 {
            let (nx, ny) = (7, 6);
            let speed: Vec<f32> = (0..nx * ny)
                .map(|_| {
                    if lcg(&mut s) < 0.7 {
                        (5.0 + 20.0 * lcg(&mut s)) as f32
                    } else {
                        0.0
                    }
                })
                .collect();
            let blocked: Vec<bool> = (0..nx * ny).map(|_| lcg(&mut s) < 0.1).collect();
            let net = RoadNet::from_speeds(nx, ny, 10.0, speed.clone(), 100.0);
            let want = floyd(nx, ny, 10.0, &speed, &blocked);
            for src in 0..nx * ny {
                let tree = net.search(&[(src as u32, 0.0)], &|c| blocked[c], &[]);
                for dst in 0..nx * ny {
                    let (a, b) = (tree.time[dst], want[src][dst]);
                    assert!(
                        (a.is_infinite() && b.is_infinite()) || (a - b).abs() < 1e-9,
                        "{src}->{dst}: {a} vs {b}"
                    );
                    if let Some(p) = tree.path_to(dst as u32) {
                        let t = net.path_times(&p, 0.0);
                        assert!((t.last().unwrap() - a).abs() < 1e-9);
                    }
                }
            }
        }
    }

    #[test]
    fn access_finds_the_nearest_road() {
        let (nx, ny) = (5, 5);
        let mut speed = vec![0.0; nx * ny];
        speed[2] = 10.0; // (2, 0)
        let net = RoadNet::from_speeds(nx, ny, 10.0, speed, 25.0);
        assert_eq!(net.access[2 + nx], 2);
        assert!((net.access_dist[2 + 2 * nx] - 20.0).abs() < 1e-6);
        assert_eq!(net.access[2 + 4 * nx], NONE, "beyond the access limit");
    }
}
