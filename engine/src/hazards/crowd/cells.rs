//! The neighbour cell list: a uniform grid of buckets of half the interaction range,
//! rebuilt every step by a stable counting sort into a flat CSR layout (counts, prefix
//! sums, a permutation). The caller reorders the people by that permutation
//! ([`CellList::apply_order`]), so the people of one bucket — and of a whole row of
//! buckets — are a contiguous slot range: a neighbour scan reads a few contiguous runs
//! of the position arrays instead of chasing indices. People in the 5 × 5 block of
//! buckets around one are all its candidates: 6.25 range² of area scanned instead of
//! 9 range² with range-sized buckets.

use rayon::prelude::*;

/// `v` cut at the nondecreasing offsets `at` (from 0 to `v.len()`): the pieces with the
/// offset each starts at.
fn split_by<'a, T>(mut v: &'a mut [T], at: &[usize]) -> Vec<(usize, &'a mut [T])> {
    let mut pieces = Vec::with_capacity(at.len());
    for w in at.windows(2) {
        let (piece, rest) = v.split_at_mut(w[1] - w[0]);
        pieces.push((w[0], piece));
        v = rest;
    }
    pieces
}

/// The slot runs of the people around one bucket: at most two per row of the 5 × 5
/// buckets (two where a periodic row wraps).
#[derive(Debug, Default)]
pub struct Runs {
    r: [(u32, u32); 10],
    n: usize,
}

impl Runs {
    #[inline(always)]
    pub fn get(&self) -> &[(u32, u32)] {
        &self.r[..self.n]
    }
    #[inline(always)]
    fn push(&mut self, lo: u32, hi: u32) {
        if hi > lo {
            self.r[self.n] = (lo, hi);
            self.n += 1;
        }
    }
    #[inline(always)]
    fn push_run(&mut self, (lo, hi): (usize, usize)) {
        self.push(lo as u32, hi as u32);
    }
}

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
    /// Dense mode: `start[c]..start[c + 1]` is the slot range of bucket c once the
    /// people are in bucket order.
    pub start: Vec<u32>,
    /// The stable sorting permutation of the last rebuild: new slot k = old slot
    /// `order[k]` (the identity after [`CellList::apply_order`]).
    pub order: Vec<u32>,
    /// Bucket of each person (in the sorted order after [`CellList::apply_order`]).
    pub cell: Vec<u32>,
    /// Sparse mode (far more buckets than people, e.g. a few thousand walkers over a
    /// whole district): the bucket of each sorted slot is `cell`, nondecreasing, and a
    /// run of buckets is found by binary search instead of a counting sort that would
    /// clear millions of buckets every step.
    sparse: bool,
    cursor: Vec<u32>,
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
            cursor: Vec::new(),
        }
    }

    /// Bucket coordinates of a point, clamped to the grid.
    #[inline]
    pub fn coords(&self, x: f32, y: f32) -> (usize, usize) {
        // Truncation of a non-negative value is its floor (no libm `floorf` call); through
        // i32, a shorter conversion than to usize (saturating, then clamped below).
        let i = ((x - self.x0) * self.inv).max(0.0) as i32 as usize;
        let j = ((y - self.y0) * self.inv).max(0.0) as i32 as usize;
        (i.min(self.nx - 1), j.min(self.ny - 1))
    }

    /// Re-bucket all people and compute the stable sorting permutation `order` (ties keep
    /// slot order, so the result is a pure function of the positions). In dense mode
    /// `start` then holds the slot ranges of the buckets *after* the reorder.
    pub fn rebuild(&mut self, xs: &[f32], ys: &[f32]) {
        let n = xs.len();
        self.cell.resize(n, 0);
        self.order.resize(n, 0);
        {
            let mut cell = std::mem::take(&mut self.cell);
            let this = &*self;
            cell.par_iter_mut()
                .zip(xs.par_iter().zip(ys.par_iter()))
                .with_min_len(4096)
                .for_each(|(c, (&x, &y))| {
                    let (i, j) = this.coords(x, y);
                    *c = (j * this.nx + i) as u32;
                });
            self.cell = cell;
        }
        let buckets = self.nx * self.ny;
        self.sparse = buckets > 8 * n + 4096;
        if self.sparse {
            for (k, o) in self.order.iter_mut().enumerate() {
                *o = k as u32;
            }
            let cell = &self.cell;
            self.order.sort_unstable_by_key(|&k| (cell[k as usize], k));
            return;
        }
        // Counting sort: counts, exclusive prefix sums, stable scatter. The counting and
        // the scatter run in parallel over ranges of buckets: each range scans every
        // person but counts and places only its own, so each writes its own piece of
        // `start` and of `order` (the result is the same whatever the split).
        self.start.clear();
        self.start.resize(buckets + 1, 0);
        let parts = if n < 8192 {
            1
        } else {
            rayon::current_num_threads().clamp(1, 4)
        };
        let cell = &self.cell;
        let even: Vec<usize> = (0..=parts).map(|p| p * buckets / parts).collect();
        split_by(&mut self.start[1..], &even)
            .into_par_iter()
            .for_each(|(b0, count)| {
                let b1 = b0 + count.len();
                for &c in cell {
                    let c = c as usize;
                    if (b0..b1).contains(&c) {
                        count[c - b0] += 1;
                    }
                }
            });
        for c in 0..buckets {
            self.start[c + 1] += self.start[c];
        }
        // Ranges of about n / parts people each for the scatter.
        let start = &self.start;
        let mut cuts: Vec<usize> = (0..parts)
            .map(|p| start.partition_point(|&s| (s as usize) < p * n / parts))
            .collect();
        cuts.push(buckets);
        self.cursor.clear();
        self.cursor.extend_from_slice(&start[..buckets]);
        let slots: Vec<usize> = cuts.iter().map(|&b| start[b] as usize).collect();
        split_by(&mut self.cursor, &cuts)
            .into_par_iter()
            .zip(split_by(&mut self.order, &slots))
            .for_each(|((b0, cursor), (first, order))| {
                let b1 = b0 + cursor.len();
                for (k, &c) in cell.iter().enumerate() {
                    let c = c as usize;
                    if (b0..b1).contains(&c) {
                        order[cursor[c - b0] as usize - first] = k as u32;
                        cursor[c - b0] += 1;
                    }
                }
            });
    }

    /// Whether the last rebuild's permutation leaves every person in place.
    pub fn is_identity(&self) -> bool {
        self.order.iter().enumerate().all(|(k, &o)| o as usize == k)
    }

    /// Record that the caller has reordered the people by `order`: buckets follow.
    pub fn apply_order(&mut self) {
        if self.is_identity() {
            return;
        }
        let mut sorted = std::mem::take(&mut self.cursor);
        sorted.clear();
        sorted.par_extend(self.order.par_iter().map(|&k| self.cell[k as usize]));
        self.cursor = std::mem::replace(&mut self.cell, sorted);
        for (k, o) in self.order.iter_mut().enumerate() {
            *o = k as u32;
        }
    }

    /// The slot range of buckets `b0..=b1` (one row), people in bucket order.
    #[inline]
    fn run(&self, b0: usize, b1: usize) -> (usize, usize) {
        if self.sparse {
            (
                self.cell.partition_point(|&c| (c as usize) < b0),
                self.cell.partition_point(|&c| (c as usize) <= b1),
            )
        } else {
            (self.start[b0] as usize, self.start[b1 + 1] as usize)
        }
    }

    /// The contiguous slot ranges of the people in the (2 reach + 1)² buckets around the
    /// bucket at column `ci`, row `cj` (with the periodic wrap in x when set), rows south
    /// to north, west to east, empty ranges left out: a fixed order, so sums over
    /// neighbours do not depend on anything but the positions. Requires the people in
    /// bucket order.
    #[inline(always)]
    pub fn runs_at(&self, ci: usize, cj: usize, runs: &mut Runs) {
        runs.n = 0;
        let r = self.reach;
        let j0 = cj.saturating_sub(r);
        let j1 = (cj + r).min(self.ny - 1);
        let wraps = self.periodic_x && self.nx > 2 * r;
        if !(self.sparse || wraps) {
            // The common case, without the per-row branches below.
            let i0 = ci.saturating_sub(r);
            let i1 = (ci + r).min(self.nx - 1);
            for j in j0..=j1 {
                let row = j * self.nx;
                runs.push(self.start[row + i0], self.start[row + i1 + 1]);
            }
            return;
        }
        for j in j0..=j1 {
            let row = j * self.nx;
            if wraps {
                // Buckets ci−r..=ci+r modulo nx: one run, or two across the seam.
                let lo = (ci + self.nx - r) % self.nx;
                let hi = (ci + r) % self.nx;
                if lo <= hi {
                    runs.push_run(self.run(row + lo, row + hi));
                } else {
                    runs.push_run(self.run(row + lo, row + self.nx - 1));
                    runs.push_run(self.run(row, row + hi));
                }
            } else {
                let i0 = ci.saturating_sub(r);
                let i1 = (ci + r).min(self.nx - 1);
                runs.push_run(self.run(row + i0, row + i1));
            }
        }
    }

    /// Column and row of bucket `c`.
    #[inline]
    pub fn column_row(&self, c: u32) -> (usize, usize) {
        ((c as usize) % self.nx, (c as usize) / self.nx)
    }

    /// Calls `f(j)` for every person in the buckets around bucket `c`.
    #[inline]
    pub fn for_near(&self, c: u32, mut f: impl FnMut(usize)) {
        let (ci, cj) = self.column_row(c);
        let mut runs = Runs::default();
        self.runs_at(ci, cj, &mut runs);
        for &(lo, hi) in runs.get() {
            (lo as usize..hi as usize).for_each(&mut f);
        }
    }

    pub fn bytes(&self) -> usize {
        (self.start.len() + self.order.len() + self.cell.len() + self.cursor.len()) * 4
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The parallel counting sort gives the stable sort by bucket on any number of
    /// threads, with the people crowded into one corner (unbalanced bucket ranges).
    #[test]
    fn parallel_counting_sort_is_the_stable_sort() {
        let n = 30_000;
        let mut seed = 7u32;
        let mut u = || {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (seed >> 8) as f32 / (1u32 << 24) as f32
        };
        let (mut xs, mut ys) = (Vec::new(), Vec::new());
        for k in 0..n {
            let s = if k % 10 < 7 { 10.0 } else { 50.0 };
            xs.push(u() * s);
            ys.push(u() * s * 0.8);
        }
        for threads in [1, 2, 3] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let mut cl = CellList::new([0.0, 0.0, 50.0, 40.0], 1.0, false);
            pool.install(|| cl.rebuild(&xs, &ys));
            assert!(!cl.sparse);
            let mut want: Vec<u32> = (0..n as u32).collect();
            want.sort_by_key(|&k| cl.cell[k as usize]);
            assert_eq!(cl.order, want, "{threads} threads");
            let mut count = vec![0u32; cl.nx * cl.ny];
            for &c in &cl.cell {
                count[c as usize] += 1;
            }
            for (b, &m) in count.iter().enumerate() {
                assert_eq!(cl.start[b + 1] - cl.start[b], m, "bucket {b}");
            }
        }
    }

    #[test]
    fn neighbours_within_range_are_found() {
        let xs = [0.5, 1.4, 5.0, 9.9];
        let ys = [0.5, 0.6, 5.0, 0.5];
        // Buckets of 0.5 m, two on each side.
        let mut cl = CellList::new([0.0, 0.0, 10.0, 10.0], 1.0, true);
        cl.rebuild(&xs, &ys);
        // Already in bucket order except 3 (bucket 39) before 2 (bucket 210).
        assert_eq!(cl.order, vec![0, 1, 3, 2]);
        cl.apply_order();
        let mut seen = Vec::new();
        cl.for_near(cl.cell[0], |k| seen.push(k));
        seen.sort();
        // 1 is within range, 3 is across the periodic edge, 2 is far.
        assert_eq!(seen, vec![0, 1, 2]);
    }
}
