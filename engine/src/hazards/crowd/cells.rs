//! The neighbour cell list: a uniform grid of buckets of half the interaction range,
//! rebuilt every step by a stable counting sort (O(N), no allocation after the first
//! step). Agents in the 5 × 5 block of buckets around one are all its candidates: 6.25
//! range² of area scanned instead of 9 range² with range-sized buckets.

/// Buckets over a rectangle, optionally periodic in x.
#[derive(Debug, Clone, Default)]
pub struct CellList {
    pub x0: f32,
    pub y0: f32,
    pub size: f32,
    inv: f32,
    pub nx: usize,
    pub ny: usize,
    pub periodic_x: bool,
    /// Buckets searched on each side (2 with half-range buckets).
    reach: usize,
    /// `start[c]..start[c + 1]` indexes `order` for bucket c.
    pub start: Vec<u32>,
    /// Agent indices, grouped by bucket, in increasing index within a bucket.
    pub order: Vec<u32>,
    /// Bucket of each agent.
    pub cell: Vec<u32>,
    /// Sparse mode (far more buckets than agents, e.g. a few thousand walkers over a
    /// whole district): `order` is sorted by (bucket, index) and `sorted` holds each
    /// entry's bucket, so a run of buckets is found by binary search instead of a
    /// counting sort that would clear millions of buckets every step.
    sparse: bool,
    sorted: Vec<u32>,
}

impl CellList {
    /// Buckets of at least `range` m over (x0, y0)–(x1, y1). With `periodic_x`, the width
    /// is split into a whole number of buckets so the wrap is exact.
    pub fn new(bounds: [f32; 4], range: f32, periodic_x: bool) -> Self {
        let [x0, y0, x1, y1] = bounds;
        let w = x1 - x0;
        let reach = 2usize;
        let range = range / reach as f32;
        let nx = ((w / range).floor() as usize).max(1);
        let size = if periodic_x { w / nx as f32 } else { range };
        let nx = if periodic_x {
            nx
        } else {
            ((w / size).ceil() as usize).max(1)
        };
        let ny = (((y1 - y0) / size).ceil() as usize).max(1);
        Self {
            x0,
            y0,
            size,
            inv: 1.0 / size,
            nx,
            ny,
            periodic_x,
            reach,
            start: Vec::new(),
            order: Vec::new(),
            cell: Vec::new(),
            sparse: true,
            sorted: Vec::new(),
        }
    }

    /// Bucket coordinates of a point, clamped to the grid.
    #[inline]
    pub fn coords(&self, x: f32, y: f32) -> (usize, usize) {
        let i = ((x - self.x0) * self.inv).floor().max(0.0) as usize;
        let j = ((y - self.y0) * self.inv).floor().max(0.0) as usize;
        (i.min(self.nx - 1), j.min(self.ny - 1))
    }

    /// Re-bucket all agents (stable: ties keep index order, so the result is a pure
    /// function of the positions).
    pub fn rebuild(&mut self, xs: &[f32], ys: &[f32]) {
        let n = xs.len();
        self.cell.resize(n, 0);
        self.order.resize(n, 0);
        for k in 0..n {
            let (i, j) = self.coords(xs[k], ys[k]);
            self.cell[k] = (j * self.nx + i) as u32;
        }
        let buckets = self.nx * self.ny;
        self.sparse = buckets > 8 * n + 4096;
        if self.sparse {
            // (bucket, index) order: a pure function of the positions.
            for (k, o) in self.order.iter_mut().enumerate() {
                *o = k as u32;
            }
            let cell = &self.cell;
            self.order.sort_unstable_by_key(|&k| (cell[k as usize], k));
            self.sorted.clear();
            self.sorted
                .extend(self.order.iter().map(|&k| cell[k as usize]));
            return;
        }
        self.start.resize(buckets + 1, 0);
        self.start.iter_mut().for_each(|s| *s = 0);
        for k in 0..n {
            self.start[self.cell[k] as usize + 1] += 1;
        }
        for c in 0..buckets {
            self.start[c + 1] += self.start[c];
        }
        // Scatter with a running cursor per bucket, reusing `start` shifted by one.
        let mut cursor: Vec<u32> = self.start[..buckets].to_vec();
        for k in 0..n {
            let c = self.cell[k] as usize;
            self.order[cursor[c] as usize] = k as u32;
            cursor[c] += 1;
        }
    }

    /// The agents of buckets `b0..=b1` (one row) as a slice of `order`.
    #[inline]
    fn run(&self, b0: usize, b1: usize) -> &[u32] {
        let (lo, hi) = if self.sparse {
            (
                self.sorted.partition_point(|&c| (c as usize) < b0),
                self.sorted.partition_point(|&c| (c as usize) <= b1),
            )
        } else {
            (self.start[b0] as usize, self.start[b1 + 1] as usize)
        };
        &self.order[lo..hi]
    }

    /// Calls `f(j)` for every agent in the (2 reach + 1)² buckets around bucket `c`
    /// (with the periodic wrap in x when set).
    #[inline]
    pub fn for_near(&self, c: u32, mut f: impl FnMut(usize)) {
        let r = self.reach;
        let (ci, cj) = ((c as usize) % self.nx, (c as usize) / self.nx);
        let j0 = cj.saturating_sub(r);
        let j1 = (cj + r).min(self.ny - 1);
        for j in j0..=j1 {
            let row = j * self.nx;
            if self.periodic_x && self.nx > 2 * r {
                for d in 0..=2 * r {
                    let b = row + (ci + self.nx - r + d) % self.nx;
                    for &k in self.run(b, b) {
                        f(k as usize);
                    }
                }
            } else {
                let i0 = ci.saturating_sub(r);
                let i1 = (ci + r).min(self.nx - 1);
                let (b0, b1) = (row + i0, row + i1);
                for &k in self.run(b0, b1) {
                    f(k as usize);
                }
            }
        }
    }

    pub fn bytes(&self) -> usize {
        (self.start.len() + self.order.len() + self.cell.len() + self.sorted.len()) * 4
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neighbours_within_range_are_found() {
        let xs = [0.5, 1.4, 5.0, 9.9];
        let ys = [0.5, 0.6, 5.0, 0.5];
        // Buckets of 0.5 m, two on each side.
        let mut cl = CellList::new([0.0, 0.0, 10.0, 10.0], 1.0, true);
        cl.rebuild(&xs, &ys);
        let mut seen = Vec::new();
        cl.for_near(cl.cell[0], |k| seen.push(k));
        seen.sort();
        // 1 is within range, 3 is across the periodic edge, 2 is far.
        assert_eq!(seen, vec![0, 1, 3]);
    }
}
