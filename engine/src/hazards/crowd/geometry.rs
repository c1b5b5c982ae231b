//! Walls as line segments, bucketed on a uniform grid so an agent only looks at the few
//! walls near it. Venue outlines, gate jambs and the edges of blocked grid cells all end
//! up here.

/// A wall segment from `a` to `b`, m.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Segment {
    pub ax: f32,
    pub ay: f32,
    pub bx: f32,
    pub by: f32,
}

impl Segment {
    pub fn new(ax: f32, ay: f32, bx: f32, by: f32) -> Self {
        Self { ax, ay, bx, by }
    }
    /// Closest point of the segment to (x, y) and the distance to it.
    #[inline]
    pub fn closest(&self, x: f32, y: f32) -> (f32, f32, f32) {
        let (ex, ey) = (self.bx - self.ax, self.by - self.ay);
        let len2 = ex * ex + ey * ey;
        let t = if len2 > 0.0 {
            (((x - self.ax) * ex + (y - self.ay) * ey) / len2).clamp(0.0, 1.0)
        } else {
            0.0
        };
        let (px, py) = (self.ax + t * ex, self.ay + t * ey);
        let d = ((x - px) * (x - px) + (y - py) * (y - py)).sqrt();
        (px, py, d)
    }
    /// Whether the open segment p→q properly crosses or touches this wall.
    #[inline]
    pub fn crosses(&self, px: f32, py: f32, qx: f32, qy: f32) -> bool {
        let o = |ax: f32, ay: f32, bx: f32, by: f32, cx: f32, cy: f32| {
            (bx - ax) * (cy - ay) - (by - ay) * (cx - ax)
        };
        let d1 = o(self.ax, self.ay, self.bx, self.by, px, py);
        let d2 = o(self.ax, self.ay, self.bx, self.by, qx, qy);
        let d3 = o(px, py, qx, qy, self.ax, self.ay);
        let d4 = o(px, py, qx, qy, self.bx, self.by);
        (d1 * d2 <= 0.0) && (d3 * d4 <= 0.0) && !(d1 == 0.0 && d2 == 0.0)
    }
}

/// Walls with a bucket grid for proximity queries.
#[derive(Debug, Clone)]
pub struct Walls {
    pub segs: Vec<Segment>,
    x0: f32,
    y0: f32,
    inv: f32,
    nx: usize,
    ny: usize,
    start: Vec<u32>,
    items: Vec<u32>,
}

impl Walls {
    /// Bucket `segs` over the box (x0, y0)–(x1, y1) with buckets of `bucket` m; each
    /// segment is listed in every bucket within `range` of it, so a query at a point sees
    /// every wall within `range`.
    pub fn new(segs: Vec<Segment>, bounds: [f32; 4], bucket: f32, range: f32) -> Self {
        let [x0, y0, x1, y1] = bounds;
        let nx = (((x1 - x0) / bucket).ceil() as usize).max(1);
        let ny = (((y1 - y0) / bucket).ceil() as usize).max(1);
        let inv = 1.0 / bucket;
        let mut lists: Vec<Vec<u32>> = vec![Vec::new(); nx * ny];
        for (k, s) in segs.iter().enumerate() {
            let lo_x = s.ax.min(s.bx) - range;
            let hi_x = s.ax.max(s.bx) + range;
            let lo_y = s.ay.min(s.by) - range;
            let hi_y = s.ay.max(s.by) + range;
            let ci =
                |v: f32, o: f32, n: usize| (((v - o) * inv).floor().max(0.0) as usize).min(n - 1);
            let (i0, i1) = (ci(lo_x, x0, nx), ci(hi_x, x0, nx));
            let (j0, j1) = (ci(lo_y, y0, ny), ci(hi_y, y0, ny));
            for j in j0..=j1 {
                for i in i0..=i1 {
                    // Only buckets the segment really comes within `range` of.
                    let cx = x0 + (i as f32 + 0.5) * bucket;
                    let cy = y0 + (j as f32 + 0.5) * bucket;
                    let (_, _, d) = s.closest(cx, cy);
                    if d <= range + bucket * std::f32::consts::FRAC_1_SQRT_2 + 1e-3 {
                        lists[j * nx + i].push(k as u32);
                    }
                }
            }
        }
        let mut start = Vec::with_capacity(nx * ny + 1);
        let mut items = Vec::new();
        start.push(0);
        for l in &lists {
            items.extend_from_slice(l);
            start.push(items.len() as u32);
        }
        Self {
            segs,
            x0,
            y0,
            inv,
            nx,
            ny,
            start,
            items,
        }
    }

    /// Indices of the walls that may lie within the build range of (x, y).
    #[inline(always)]
    pub fn near(&self, x: f32, y: f32) -> &[u32] {
        let fi = (x - self.x0) * self.inv;
        let fj = (y - self.y0) * self.inv;
        // Negative, NaN or past the far edge: outside. Truncation of a non-negative value
        // is its floor (through i32, a shorter conversion than to usize).
        if !(fi >= 0.0 && fj >= 0.0 && fi < self.nx as f32 && fj < self.ny as f32) {
            return &[];
        }
        let (i, j) = (fi as i32 as usize, fj as i32 as usize);
        if i >= self.nx || j >= self.ny {
            return &[];
        }
        let b = j * self.nx + i;
        &self.items[self.start[b] as usize..self.start[b + 1] as usize]
    }

    /// Whether moving from p to q crosses a wall (q must be within range of p).
    #[inline]
    pub fn blocks(&self, px: f32, py: f32, qx: f32, qy: f32) -> bool {
        self.near(px, py)
            .iter()
            .any(|&k| self.segs[k as usize].crosses(px, py, qx, qy))
    }

    /// Distance from (x, y) to the nearest wall within range (∞ when none).
    pub fn distance(&self, x: f32, y: f32) -> f32 {
        self.near(x, y)
            .iter()
            .map(|&k| self.segs[k as usize].closest(x, y).2)
            .fold(f32::INFINITY, f32::min)
    }

    pub fn bytes(&self) -> usize {
        self.segs.len() * 16 + self.start.len() * 4 + self.items.len() * 4
    }
}

/// Wall segments along the boundaries between blocked and free cells of a grid (cell
/// size `h`, origin (x0, y0) at the south-west corner, row 0 at the **south**), merged into
/// maximal straight runs. The grid's outer edge counts as blocked.
pub fn walls_from_mask(
    blocked: &[bool],
    nx: usize,
    ny: usize,
    h: f32,
    x0: f32,
    y0: f32,
) -> Vec<Segment> {
    let b = |i: isize, j: isize| {
        i < 0
            || j < 0
            || i >= nx as isize
            || j >= ny as isize
            || blocked[j as usize * nx + i as usize]
    };
    let mut out = Vec::new();
    // Horizontal edges: between row j-1 and row j, for j in 0..=ny.
    for j in 0..=ny as isize {
        let mut run: Option<usize> = None;
        for i in 0..=nx as isize {
            let edge = i < nx as isize && (b(i, j - 1) != b(i, j));
            match (edge, run) {
                (true, None) => run = Some(i as usize),
                (false, Some(s)) => {
                    let y = y0 + j as f32 * h;
                    out.push(Segment::new(x0 + s as f32 * h, y, x0 + i as f32 * h, y));
                    run = None;
                }
                _ => {}
            }
        }
    }
    for i in 0..=nx as isize {
        let mut run: Option<usize> = None;
        for j in 0..=ny as isize {
            let edge = j < ny as isize && (b(i - 1, j) != b(i, j));
            match (edge, run) {
                (true, None) => run = Some(j as usize),
                (false, Some(s)) => {
                    let x = x0 + i as f32 * h;
                    out.push(Segment::new(x, y0 + s as f32 * h, x, y0 + j as f32 * h));
                    run = None;
                }
                _ => {}
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crossing_and_distance() {
        let s = Segment::new(0.0, 0.0, 10.0, 0.0);
        assert!(s.crosses(5.0, -1.0, 5.0, 1.0));
        assert!(!s.crosses(5.0, 0.5, 5.0, 1.0));
        assert!(!s.crosses(11.0, -1.0, 11.0, 1.0));
        assert!((s.closest(5.0, 2.0).2 - 2.0).abs() < 1e-6);
        let w = Walls::new(vec![s], [-1.0, -5.0, 11.0, 5.0], 1.0, 1.0);
        assert!(w.blocks(5.0, -0.1, 5.0, 0.1));
        assert!((w.distance(3.0, 0.5) - 0.5).abs() < 1e-6);
        assert!(w.distance(3.0, 4.0).is_infinite());
    }

    #[test]
    fn mask_walls_surround_a_free_cell() {
        // One free cell in a 3 × 3 blocked grid: four unit walls around it.
        let mut m = vec![true; 9];
        m[4] = false;
        let segs = walls_from_mask(&m, 3, 3, 1.0, 0.0, 0.0);
        let len: f32 = segs
            .iter()
            .map(|s| ((s.bx - s.ax).powi(2) + (s.by - s.ay).powi(2)).sqrt())
            .sum();
        assert_eq!(segs.len(), 4);
        assert!((len - 4.0).abs() < 1e-6);
    }
}
