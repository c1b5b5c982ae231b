//! Navigation: travel-time fields to each goal from the fast marching method (Sethian
//! 1996, PNAS 93:1591), first-order upwind on a walking grid. The desired direction of a
//! pedestrian is minus the gradient of the field of its goal; the field value at its
//! position is its estimated remaining walking time, used to choose among goals.
//!
//! Grid convention here: row 0 at the **south**, cell (i, j) covers
//! [x0 + i h, x0 + (i+1) h) × [y0 + j h, y0 + (j+1) h).

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// The walking grid: which cells can be walked and how fast (relative to free walking).
#[derive(Debug, Clone)]
pub struct NavGrid {
    pub nx: usize,
    pub ny: usize,
    pub h: f32,
    pub x0: f32,
    pub y0: f32,
    /// Relative walking speed per cell, 0 = impassable, 1 = free walking.
    pub speed: Vec<f32>,
}

impl NavGrid {
    pub fn len(&self) -> usize {
        self.nx * self.ny
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The cell containing (x, y), if on the grid.
    #[inline]
    pub fn locate(&self, x: f32, y: f32) -> Option<usize> {
        let i = ((x - self.x0) / self.h).floor();
        let j = ((y - self.y0) / self.h).floor();
        (i >= 0.0 && j >= 0.0 && i < self.nx as f32 && j < self.ny as f32)
            .then(|| j as usize * self.nx + i as usize)
    }
    pub fn center(&self, k: usize) -> (f32, f32) {
        let (i, j) = (k % self.nx, k / self.nx);
        (
            self.x0 + (i as f32 + 0.5) * self.h,
            self.y0 + (j as f32 + 0.5) * self.h,
        )
    }
    pub fn walkable(&self, k: usize) -> bool {
        self.speed[k] > 0.0
    }
}

/// Travel time (s at 1 m/s free speed, i.e. effective metres) to a goal, and the unit
/// direction of steepest descent, per cell.
#[derive(Debug, Clone)]
pub struct Field {
    pub time: Vec<f32>,
    pub dir: Vec<[f32; 2]>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum St {
    Far,
    Trial,
    Known,
}

/// Fast marching from `sources` (time 0) over `grid` with local speed `grid.speed`.
/// Unreached and impassable cells get +∞. Deterministic: ties in the heap are broken by
/// cell index.
pub fn fast_march(grid: &NavGrid, sources: &[usize]) -> Vec<f32> {
    let n = grid.len();
    let (nx, ny) = (grid.nx, grid.ny);
    let h = f64::from(grid.h);
    let mut t = vec![f64::INFINITY; n];
    let mut st = vec![St::Far; n];
    let mut heap: BinaryHeap<Reverse<(u64, u32)>> = BinaryHeap::new();
    // Non-negative f64 bit patterns order like the numbers.
    let key = |v: f64| v.to_bits();
    for &s in sources {
        if grid.walkable(s) && st[s] != St::Trial {
            t[s] = 0.0;
            st[s] = St::Trial;
            heap.push(Reverse((key(0.0), s as u32)));
        }
    }
    while let Some(Reverse((_, k))) = heap.pop() {
        let k = k as usize;
        if st[k] == St::Known {
            continue;
        }
        st[k] = St::Known;
        let (i, j) = (k % nx, k / nx);
        let mut visit = |m: usize, t: &mut Vec<f64>, st: &mut Vec<St>| {
            if st[m] == St::Known || !grid.walkable(m) {
                return;
            }
            let (mi, mj) = (m % nx, m / nx);
            let known = |q: usize| {
                if st[q] == St::Known {
                    t[q]
                } else {
                    f64::INFINITY
                }
            };
            let a = f64::min(
                if mi > 0 { known(m - 1) } else { f64::INFINITY },
                if mi + 1 < nx {
                    known(m + 1)
                } else {
                    f64::INFINITY
                },
            );
            let b = f64::min(
                if mj > 0 { known(m - nx) } else { f64::INFINITY },
                if mj + 1 < ny {
                    known(m + nx)
                } else {
                    f64::INFINITY
                },
            );
            let f = h / f64::from(grid.speed[m]);
            let (lo, hi) = if a < b { (a, b) } else { (b, a) };
            let new = if hi.is_infinite() || hi - lo >= f {
                lo + f
            } else {
                // (T − a)² + (T − b)² = f²
                0.5 * (a + b + (2.0 * f * f - (a - b) * (a - b)).sqrt())
            };
            if new < t[m] {
                t[m] = new;
                st[m] = St::Trial;
                heap.push(Reverse((key(new), m as u32)));
            }
        };
        if i > 0 {
            visit(k - 1, &mut t, &mut st);
        }
        if i + 1 < nx {
            visit(k + 1, &mut t, &mut st);
        }
        if j > 0 {
            visit(k - nx, &mut t, &mut st);
        }
        if j + 1 < ny {
            visit(k + nx, &mut t, &mut st);
        }
    }
    t.into_iter().map(|v| v as f32).collect()
}

impl Field {
    /// The field of a goal made of `sources` cells.
    pub fn compute(grid: &NavGrid, sources: &[usize]) -> Self {
        let time = fast_march(grid, sources);
        let (nx, ny) = (grid.nx, grid.ny);
        let h = grid.h;
        let dir = (0..grid.len())
            .map(|k| {
                if !time[k].is_finite() {
                    return [0.0, 0.0];
                }
                let (i, j) = (k % nx, k / nx);
                let tk = time[k];
                let get = |ok: bool, q: usize| {
                    if ok && time[q].is_finite() {
                        Some(time[q])
                    } else {
                        None
                    }
                };
                let d = |lo: Option<f32>, hi: Option<f32>| match (lo, hi) {
                    (Some(l), Some(r)) => (r - l) / (2.0 * h),
                    // One-sided differences, but only towards lower times, so the
                    // direction never points into a wall.
                    (Some(l), None) => ((tk - l) / h).max(0.0),
                    (None, Some(r)) => ((r - tk) / h).min(0.0),
                    (None, None) => 0.0,
                };
                let gx = d(get(i > 0, k.wrapping_sub(1)), get(i + 1 < nx, k + 1));
                let gy = d(get(j > 0, k.wrapping_sub(nx)), get(j + 1 < ny, k + nx));
                let norm = (gx * gx + gy * gy).sqrt();
                if norm > 0.0 {
                    [-gx / norm, -gy / norm]
                } else {
                    [0.0, 0.0]
                }
            })
            .collect();
        Self { time, dir }
    }

    /// Remaining walking time from (x, y) at unit free speed (effective distance, m).
    #[inline]
    pub fn time_at(&self, grid: &NavGrid, x: f32, y: f32) -> f32 {
        grid.locate(x, y).map_or(f32::INFINITY, |k| self.time[k])
    }

    /// Desired direction at (x, y): bilinear blend of the four nearest cell directions
    /// (impassable cells left out), normalised.
    #[inline(always)]
    pub fn direction(&self, grid: &NavGrid, x: f32, y: f32) -> [f32; 2] {
        let fx = (x - grid.x0) / grid.h - 0.5;
        let fy = (y - grid.y0) / grid.h - 0.5;
        let (i0, j0) = (fx.floor(), fy.floor());
        let (tx, ty) = (fx - i0, fy - j0);
        let (mut sx, mut sy) = (0.0f32, 0.0f32);
        // Through i32: a shorter conversion than to usize (saturating, so a huge value
        // fails the bounds test).
        let (i, j) = (i0 as i32 as usize, j0 as i32 as usize);
        if i0 >= 0.0 && j0 >= 0.0 && i + 1 < grid.nx && j + 1 < grid.ny {
            // All four cells inside the grid (nearly everyone): the same sum without the
            // per-cell bounds tests.
            let k = j * grid.nx + i;
            let d = [
                self.dir[k],
                self.dir[k + 1],
                self.dir[k + grid.nx],
                self.dir[k + grid.nx + 1],
            ];
            let w = [
                (1.0 - tx) * (1.0 - ty),
                tx * (1.0 - ty),
                (1.0 - tx) * ty,
                tx * ty,
            ];
            for (d, w) in d.iter().zip(w) {
                sx += w * d[0];
                sy += w * d[1];
            }
        } else {
            self.blend_at_edge(grid, i0, j0, tx, ty, &mut sx, &mut sy);
        }
        let n = (sx * sx + sy * sy).sqrt();
        if n > 1e-6 {
            [sx / n, sy / n]
        } else {
            grid.locate(x, y).map_or([0.0, 0.0], |k| self.dir[k])
        }
    }

    /// The bilinear blend of [`Field::direction`] where some of the four cells lie
    /// outside the grid (left out).
    #[allow(clippy::too_many_arguments)]
    fn blend_at_edge(
        &self,
        grid: &NavGrid,
        i0: f32,
        j0: f32,
        tx: f32,
        ty: f32,
        sx: &mut f32,
        sy: &mut f32,
    ) {
        for (di, dj, w) in [
            (0, 0, (1.0 - tx) * (1.0 - ty)),
            (1, 0, tx * (1.0 - ty)),
            (0, 1, (1.0 - tx) * ty),
            (1, 1, tx * ty),
        ] {
            let (i, j) = (i0 as isize + di, j0 as isize + dj);
            if i < 0 || j < 0 || i >= grid.nx as isize || j >= grid.ny as isize {
                continue;
            }
            let d = self.dir[j as usize * grid.nx + i as usize];
            *sx += w * d[0];
            *sy += w * d[1];
        }
    }

    pub fn bytes(&self) -> usize {
        self.time.len() * 12
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(nx: usize, ny: usize, h: f32) -> NavGrid {
        NavGrid {
            nx,
            ny,
            h,
            x0: 0.0,
            y0: 0.0,
            speed: vec![1.0; nx * ny],
        }
    }

    #[test]
    fn distance_from_a_point_is_close_to_euclidean() {
        // First-order FMM overestimates diagonal distance by at most a few per cent.
        let g = open(101, 101, 0.5);
        let f = Field::compute(&g, &[50 * 101 + 50]);
        for &(i, j) in &[(100usize, 50usize), (100, 100), (70, 90), (0, 0)] {
            let exact = 0.5 * (((i as f32 - 50.0).powi(2) + (j as f32 - 50.0).powi(2)).sqrt());
            let got = f.time[j * 101 + i];
            assert!(
                got >= exact * 0.999 && got <= exact * 1.08,
                "cell ({i},{j}): {got} vs {exact}"
            );
        }
        // The direction points at the source.
        let d = f.direction(&g, 40.0, 25.25);
        assert!(d[0] < -0.99, "{d:?}");
    }

    #[test]
    fn walls_are_walked_round_and_closed_goals_unreached() {
        // A wall across the grid with one gap: time behind it is the detour.
        let mut g = open(20, 20, 1.0);
        for i in 0..20 {
            if i != 18 {
                g.speed[10 * 20 + i] = 0.0;
            }
        }
        let f = Field::compute(&g, &[0]);
        assert!(f.time[19 * 20].is_finite());
        assert!(f.time[19 * 20] > 30.0, "{}", f.time[19 * 20]);
        assert!(f.time[10 * 20 + 5].is_infinite());
        // Seal the gap: the far side is unreachable.
        g.speed[10 * 20 + 18] = 0.0;
        let f = Field::compute(&g, &[0]);
        assert!(f.time[19 * 20].is_infinite());
        // Slower ground doubles the time.
        let mut g = open(10, 1, 1.0);
        let fast = Field::compute(&g, &[0]).time[9];
        g.speed.iter_mut().for_each(|s| *s = 0.5);
        let slow = Field::compute(&g, &[0]).time[9];
        assert!((slow - 2.0 * fast).abs() < 1e-4);
    }
}
