//! Building-to-building urban fire spread after Hamada (1951), realised on the grid as a
//! minimum-travel-time cellular model.
//!
//! Hamada's time for the front to advance one building pitch (a + d), in minutes, with
//! `W_x`, `D_x` the wind factors of direction x (downwind, crosswind, upwind):
//!
//! ```text
//! t_x = [(1−f)(3 + 0.375a + 8d/D_x) + f(5 + 0.625a + 16d/D_x)] / W_x
//! ```
//!
//! Each burning building spreads at Hamada's rate for its own geometry: `a` its side
//! (√footprint), `d` its mean separation from its neighbours and `f` the fire-resistive
//! share of its neighbourhood (see `mod.rs`). A step of length ℓ between cell centres
//! costs half ℓ at the rate of each end's building (gap cells take the rate of the
//! building whose fire crosses them), the rate in direction k (cosine to the wind) being
//! `1/R(k)`, `R` the double semi-ellipse through the three axis rates (firebench
//! `Hamada_1`). Over a pitch of a uniform block this is exactly Hamada's `t_x`; across a
//! single gap of width d between buildings of side a, the time from one building's far
//! side to the other's near side is `t_x(a, d)`. The medium is homogeneous within a
//! building's pitch, so the shortest path is the straight one (a gap charged at its own,
//! higher rate would let the path cross it obliquely and zig-zag faster than the
//! formula). Arrival times are found with Dijkstra's algorithm on the 8-neighbour grid,
//! processed tick by tick from a priority queue: only the active front is touched. A
//! per-building random factor (mean 1) gives the spread its scatter.
//!
//! A gap (road, open space, water) wider than `limit_m` stops the spread.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// Cell kinds for the spread: non-fuel (a gap the fire may cross) or a building.
pub const GAP: u8 = 0;
/// A wooden or mortar-clad wooden building cell (Hamada's (1 − f) class).
pub const WOOD: u8 = 1;
/// A fire-resistive building cell (Hamada's f class).
pub const RESISTIVE: u8 = 2;

/// Cell status of building cells.
pub const UNBURNT: u8 = 0;
pub const BURNING: u8 = 1;
pub const BURNT: u8 = 2;
pub const EXTINGUISHED: u8 = 3;

/// No cell / no incident.
pub const NONE: u32 = u32::MAX;

/// Directions of the Hamada formula.
pub const DOWN: usize = 0;
pub const CROSS: usize = 1;
pub const UP: usize = 2;

/// Hamada's wind factors `W_x` (downwind, crosswind, upwind); `v` in m/s.
pub fn wind_factor(v: f64) -> [f64; 3] {
    [
        1.5 * (1.0 + 0.1 * v + 0.007 * v * v),
        1.0 + 0.005 * v * v,
        1.0 + 0.002 * v * v,
    ]
}

/// Hamada's gap denominators `D_x` (downwind, crosswind, upwind); `v` in m/s.
pub fn gap_denominator(v: f64) -> [f64; 3] {
    [25.0 + 2.5 * v, 5.0 + 0.25 * v, 5.0 + 0.2 * v]
}

/// The three parts of Hamada's pitch time for one construction class, minutes and
/// minutes per metre.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Parts {
    /// Fixed delay when the fire enters a building, min.
    pub entry: f64,
    /// Time per metre of building, min/m.
    pub building: f64,
    /// Time per metre of gap, min/m.
    pub gap: f64,
}

impl Parts {
    /// The parts in direction `dir` for class `resistive` at wind speed `v`.
    pub fn hamada(v: f64, dir: usize, resistive: bool) -> Self {
        let w = wind_factor(v)[dir];
        let dn = gap_denominator(v)[dir];
        let (c0, c1, c2) = if resistive {
            (5.0, 0.625, 16.0)
        } else {
            (3.0, 0.375, 8.0)
        };
        Self {
            entry: c0 / w,
            building: c1 / w,
            gap: c2 / (dn * w),
        }
    }
    fn pitch(&self, a: f64, d: f64) -> f64 {
        self.entry + self.building * a + self.gap * d
    }
}

/// Hamada's time per pitch, min, in direction `dir` (a, d in m; f share of
/// fire-resistive buildings; v wind speed m/s).
pub fn pitch_time(a: f64, d: f64, f: f64, v: f64, dir: usize) -> f64 {
    (1.0 - f) * Parts::hamada(v, dir, false).pitch(a, d)
        + f * Parts::hamada(v, dir, true).pitch(a, d)
}

/// Hamada's rates of spread [downwind, crosswind, upwind], m/min.
pub fn hamada_ros(a: f64, d: f64, f: f64, v: f64) -> [f64; 3] {
    [DOWN, CROSS, UP].map(|x| (a + d) / pitch_time(a, d, f, v, x))
}

/// Rate of spread at cosine `k` between the spread direction and the wind, from the
/// three axis rates: the double semi-ellipse of firebench's `Hamada_1`.
pub fn ros_in_direction(r: [f64; 3], k: f64) -> f64 {
    let (rd, ro, ru) = (r[DOWN], r[CROSS], r[UP]);
    let k = k.clamp(-1.0, 1.0);
    if k >= 0.0 {
        let e = (rd - ro) / rd;
        let a = rd * rd / (2.0 * rd - ro);
        a * (1.0 - e * e) / (1.0 - e * k)
    } else {
        ro * ru / (ru * ru * (1.0 - k * k) + ro * ro * k * k).sqrt()
    }
}

/// Hamada's geometry of one building: side `a` and separation `d` (m), fire-resistive
/// share `f` of its neighbourhood.
pub type Geometry = [f32; 3];

/// Wind over the grid for the spread: uniform, or per cell (u east, v north, m/s).
#[derive(Debug, Clone, Copy)]
pub enum Wind<'a> {
    Uniform(f32, f32),
    Field(&'a [f32], &'a [f32]),
}

impl Wind<'_> {
    fn at(&self, c: usize) -> (f32, f32) {
        match self {
            Self::Uniform(u, v) => (*u, *v),
            Self::Field(u, v) => (u[c], v[c]),
        }
    }
}

/// A tentative arrival of the front at a cell.
#[derive(Debug, Clone, Copy)]
struct Ev {
    t: f64,
    cell: u32,
    /// The burning cell the front comes from (`NONE` for an ignition).
    src: u32,
    /// Gap length crossed since `src`, m.
    gap: f32,
    /// Suppression factor of `src` when the delay was computed.
    slow: f32,
    incident: u32,
}

impl PartialEq for Ev {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for Ev {}
impl PartialOrd for Ev {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Ev {
    /// Reversed (earliest first), every field a tie-break (smaller gap first), so the
    /// order of processing — and every result — is fully determined by the events alone.
    fn cmp(&self, o: &Self) -> Ordering {
        o.t.total_cmp(&self.t)
            .then(o.cell.cmp(&self.cell))
            .then(o.src.cmp(&self.src))
            .then(o.gap.total_cmp(&self.gap))
            .then(o.incident.cmp(&self.incident))
            .then(o.slow.total_cmp(&self.slow))
    }
}

/// The 8 neighbour offsets (di, dj) with their length factor.
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

/// Wind speed and the cosine between each neighbour direction and the wind.
type Directions = (f64, [f64; 8]);

/// Durations of a building's fire stages, s: growth (to flashover), fully developed,
/// decay.
pub type Stages = [f32; 3];

/// Inputs of the spread grid.
#[derive(Debug, Clone)]
pub struct SpreadSetup {
    pub nx: usize,
    pub ny: usize,
    pub cell: f64,
    /// Per cell: `GAP`, `WOOD` or `RESISTIVE`.
    pub kind: Vec<u8>,
    /// Per cell: building index or `NONE`.
    pub building: Vec<u32>,
    /// Per building: random factor on its delays (mean 1).
    pub factor: Vec<f32>,
    /// Per building: stage durations.
    pub stages: Vec<Stages>,
    /// Per building: Hamada geometry.
    pub geometry: Vec<Geometry>,
    /// Widest gap the fire crosses, m.
    pub limit_m: f64,
    /// Unit vector (east, north) the calm-air formula's "downwind" points to.
    pub calm_dir: (f64, f64),
}

/// The spread state: arrival times, cell status and the active front.
#[derive(Debug, Clone)]
pub struct Spread {
    s: SpreadSetup,
    /// Time the front reached each cell, s (infinite if not reached).
    pub arrival: Vec<f64>,
    /// `UNBURNT`, `BURNING`, `BURNT` or `EXTINGUISHED` (building cells).
    pub status: Vec<u8>,
    /// Suppression factor on delays from each burning cell (1 none, ∞ held).
    pub slow: Vec<f32>,
    /// Incident of each reached building cell.
    pub incident: Vec<u32>,
    /// For gap cells: the burning cell whose front crossed them.
    via: Vec<u32>,
    heap: BinaryHeap<Ev>,
    /// Cells burning now.
    pub burning: Vec<u32>,
    /// Wind (bits) → (speed, cosine of each neighbour direction to the wind).
    cache: Option<((u32, u32), Directions)>,
    /// Seconds per metre of each building in the 8 directions, valid while
    /// `rate_epoch[b]` equals `epoch` (bumped whenever the wind in use changes).
    rate_cache: Vec<[f32; 8]>,
    rate_epoch: Vec<u32>,
    epoch: u32,
    /// Cells finalised so far (front updates), for throughput figures.
    pub updates: u64,
}

impl Spread {
    pub fn new(s: SpreadSetup) -> Self {
        let n = s.nx * s.ny;
        Self {
            arrival: vec![f64::INFINITY; n],
            status: vec![UNBURNT; n],
            slow: vec![1.0; n],
            incident: vec![NONE; n],
            via: vec![NONE; n],
            heap: BinaryHeap::new(),
            burning: Vec::new(),
            cache: None,
            rate_cache: vec![[0.0; 8]; s.factor.len()],
            rate_epoch: vec![0; s.factor.len()],
            epoch: 1,
            updates: 0,
            s,
        }
    }

    pub fn setup(&self) -> &SpreadSetup {
        &self.s
    }

    /// Whether the cell holds a building (fuel).
    pub fn is_fuel(&self, c: usize) -> bool {
        self.s.kind[c] != GAP
    }

    /// Stage durations of the cell's building (zeros for gaps).
    pub fn stages(&self, c: usize) -> Stages {
        match self.s.building[c] {
            NONE => [0.0; 3],
            b => self.s.stages[b as usize],
        }
    }

    /// When a burning cell burns out, s.
    pub fn burnout_time(&self, c: usize) -> f64 {
        let st = self.stages(c);
        self.arrival[c] + f64::from(st[0] + st[1] + st[2])
    }

    /// Share of the cell's floor area involved at time t (t² growth to 1, steady, linear
    /// decay), as used to scale the needed fire flow.
    pub fn involvement(&self, c: usize, t: f64) -> f64 {
        let st = self.stages(c);
        let tau = t - self.arrival[c];
        let (g, f, d) = (f64::from(st[0]), f64::from(st[1]), f64::from(st[2]));
        if tau <= 0.0 {
            0.0
        } else if tau < g {
            (tau / g).powi(2)
        } else if tau < g + f {
            1.0
        } else {
            (1.0 - (tau - g - f) / d.max(1e-9)).clamp(0.0, 1.0)
        }
    }

    /// Ignite a building cell at time t for an incident. Returns false if the cell is not
    /// a building or has already burnt.
    pub fn ignite(&mut self, c: usize, t: f64, incident: u32) -> bool {
        if !self.is_fuel(c) || self.status[c] != UNBURNT {
            return false;
        }
        self.heap.push(Ev {
            t,
            cell: c as u32,
            src: NONE,
            gap: 0.0,
            slow: 1.0,
            incident,
        });
        true
    }

    /// Number of tentative arrivals waiting.
    pub fn front_len(&self) -> usize {
        self.heap.len()
    }

    /// Advance the front to `t_end`; building cells that catch fire are appended to
    /// `ignited`.
    pub fn advance(&mut self, t_end: f64, wind: Wind<'_>, ignited: &mut Vec<u32>) {
        while let Some(top) = self.heap.peek() {
            if top.t > t_end {
                break;
            }
            let ev = self.heap.pop().expect("peeked");
            let c = ev.cell as usize;
            let fuel = self.is_fuel(c);
            if fuel {
                if self.status[c] != UNBURNT {
                    continue;
                }
            } else if self.arrival[c].is_finite() {
                let v = self.via[c];
                if v == ev.src || (v != NONE && self.status[v as usize] == BURNING) {
                    continue;
                }
            }
            if ev.src != NONE {
                let s = ev.src as usize;
                if self.status[s] != BURNING {
                    continue;
                }
                let sl = self.slow[s];
                if sl != ev.slow {
                    if sl.is_finite() {
                        let t0 = self.arrival[s];
                        let t = (t0 + (ev.t - t0) * f64::from(sl / ev.slow)).max(ev.t);
                        self.heap.push(Ev { t, slow: sl, ..ev });
                    }
                    continue;
                }
                if ev.t > self.burnout_time(s) {
                    continue;
                }
            }
            self.arrival[c] = ev.t;
            self.updates += 1;
            if fuel {
                self.status[c] = BURNING;
                self.incident[c] = ev.incident;
                self.burning.push(ev.cell);
                ignited.push(ev.cell);
            } else {
                self.via[c] = ev.src;
            }
            self.push_neighbours(c, &ev, wind);
        }
    }

    /// Wind speed and the cosine between each neighbour direction and the wind.
    fn directions(&mut self, c: usize, wind: Wind<'_>) -> Directions {
        let (u, v) = wind.at(c);
        let key = (u.to_bits(), v.to_bits());
        if let Some((k, d)) = &self.cache
            && *k == key
        {
            return *d;
        }
        let speed = f64::from(u).hypot(f64::from(v));
        let (wx, wy) = if speed > 1e-6 {
            (f64::from(u) / speed, f64::from(v) / speed)
        } else {
            self.s.calm_dir
        };
        let mut ks = [0.0; 8];
        for (k, &(di, dj, len)) in ks.iter_mut().zip(&NEIGHBOURS) {
            // Grid rows run north to south: a step of +dj goes south.
            *k = (f64::from(di) * wx - f64::from(dj) * wy) / len;
        }
        let d = (speed, ks);
        self.cache = Some((key, d));
        self.epoch = self.epoch.wrapping_add(1).max(1);
        d
    }

    /// Seconds per metre in each neighbour direction for building `b` (cached per
    /// building for the wind in use).
    fn rates(&mut self, b: u32, speed: f64, ks: &[f64; 8]) -> [f64; 8] {
        let bu = b as usize;
        if self.rate_epoch[bu] != self.epoch {
            let [a, d, f] = self.s.geometry[bu].map(f64::from);
            let r = hamada_ros(a, d, f, speed);
            let x = 60.0 * f64::from(self.s.factor[bu]);
            self.rate_cache[bu] = ks.map(|k| (x / ros_in_direction(r, k)) as f32);
            self.rate_epoch[bu] = self.epoch;
        }
        self.rate_cache[bu].map(f64::from)
    }

    fn push_neighbours(&mut self, c: usize, ev: &Ev, wind: Wind<'_>) {
        let fuel_c = self.is_fuel(c);
        let src = if fuel_c { c } else { ev.src as usize };
        let slow = self.slow[src];
        if !slow.is_finite() {
            return;
        }
        let (speed, ks) = self.directions(src, wind);
        let bsrc = self.s.building[src];
        let here = self.rates(bsrc, speed, &ks);
        let (nx, ny) = (self.s.nx as i64, self.s.ny as i64);
        let (i, j) = ((c % self.s.nx) as i64, (c / self.s.nx) as i64);
        let gap_c = if fuel_c { 0.0 } else { f64::from(ev.gap) };
        let limit = self.s.limit_m + 1e-6;
        let half_cell = self.s.cell / 2.0;
        let mut other: Option<(u32, [f64; 8])> = None;
        for (d, &(di, dj, len)) in NEIGHBOURS.iter().enumerate() {
            let (ni, nj) = (i + i64::from(di), j + i64::from(dj));
            if ni < 0 || nj < 0 || ni >= nx || nj >= ny {
                continue;
            }
            let n = (nj * nx + ni) as usize;
            let nk = self.s.kind[n];
            if nk != GAP && self.status[n] != UNBURNT {
                continue;
            }
            // A gap already crossed by a front from a still-burning building: the event
            // would be dropped when popped (saves heap work on the front).
            if nk == GAP && self.arrival[n].is_finite() {
                let v = self.via[n];
                if v == src as u32 || (v != NONE && self.status[v as usize] == BURNING) {
                    continue;
                }
            }
            let half = self.s.cell * len / 2.0;
            let mut cost = here[d] * half;
            let mut gap = gap_c + if fuel_c { 0.0 } else { half };
            if nk == GAP {
                gap += half;
                if gap + half_cell > limit {
                    continue;
                }
                cost += here[d] * half;
            } else {
                if gap > limit {
                    continue;
                }
                let bn = self.s.building[n];
                if bn == bsrc {
                    cost += here[d] * half;
                } else {
                    let r = match other {
                        Some((b, r)) if b == bn => r,
                        _ => {
                            let r = self.rates(bn, speed, &ks);
                            other = Some((bn, r));
                            r
                        }
                    };
                    cost += r[d] * half;
                }
            }
            self.heap.push(Ev {
                t: self.arrival[c] + cost * f64::from(slow),
                cell: n as u32,
                src: src as u32,
                gap: if nk == GAP { gap as f32 } else { 0.0 },
                slow,
                incident: ev.incident,
            });
        }
    }

    /// Close the tick at `t`: burning cells past their burn-out time become `BURNT`
    /// (appended to `burnt`); extinguished cells leave the burning list.
    pub fn retire(&mut self, t: f64, burnt: &mut Vec<u32>) {
        let mut keep = Vec::with_capacity(self.burning.len());
        for &c in &self.burning {
            let cu = c as usize;
            if self.status[cu] != BURNING {
                continue;
            }
            if t >= self.burnout_time(cu) {
                self.status[cu] = BURNT;
                burnt.push(c);
            } else {
                keep.push(c);
            }
        }
        self.burning = keep;
    }

    /// Put out a burning cell (suppression).
    pub fn extinguish(&mut self, c: usize) {
        if self.status[c] == BURNING {
            self.status[c] = EXTINGUISHED;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// firebench `Hamada_1` unit-test fixtures, a = 10 m, d = 3 m, m/h.
    #[test]
    fn hamada_matches_the_firebench_fixtures() {
        let cases = [
            (0.0, 0.0, [152.0, 68.0, 68.0]),
            (0.0, 5.0, [265.0, 83.0, 76.0]),
            (0.0, 10.0, [437.0, 118.0, 92.0]),
            (0.0, 15.0, [668.0, 175.0, 116.0]),
            (0.4, 5.0, [207.0, 63.0, 58.0]),
            (0.4, 10.0, [343.0, 90.0, 70.0]),
        ];
        for (f, v, want) in cases {
            let r = hamada_ros(10.0, 3.0, f, v).map(|x| x * 60.0);
            for k in 0..3 {
                assert!(
                    (r[k] - want[k]).abs() <= 1.0,
                    "f {f} V {v} dir {k}: {} vs {}",
                    r[k],
                    want[k]
                );
            }
        }
        assert!((pitch_time(10.0, 3.0, 0.0, 0.0, DOWN) - 5.14).abs() < 0.01);
        assert!((pitch_time(10.0, 3.0, 0.0, 0.0, CROSS) - 11.55).abs() < 0.01);
    }

    #[test]
    fn ellipse_meets_the_axis_rates_and_is_monotone() {
        let r = hamada_ros(10.0, 3.0, 0.0, 10.0);
        assert!((ros_in_direction(r, 1.0) - r[DOWN]).abs() < 1e-9);
        assert!((ros_in_direction(r, 0.0) - r[CROSS]).abs() < 1e-9);
        assert!((ros_in_direction(r, -1.0) - r[UP]).abs() < 1e-9);
        let mut last = f64::INFINITY;
        for n in 0..=20 {
            let k = 1.0 - n as f64 / 10.0;
            let x = ros_in_direction(r, k);
            assert!(x <= last + 1e-9, "k {k}");
            last = x;
        }
    }

    /// A uniform row of buildings: the time per pitch is Hamada's along each axis.
    #[test]
    fn a_row_of_buildings_burns_at_the_hamada_rate() {
        // 1-m cells, 10-m buildings, 3-m gaps, along x; wind along +x, −x or +y.
        let (a, d, n) = (10usize, 3usize, 8usize);
        let nx = n * (a + d);
        let ny = 3;
        let mut kind = vec![GAP; nx * ny];
        let mut building = vec![NONE; nx * ny];
        for j in 0..ny {
            for i in 0..nx {
                if i % (a + d) < a {
                    kind[j * nx + i] = WOOD;
                    building[j * nx + i] = (i / (a + d)) as u32;
                }
            }
        }
        for (v, (u, w), dir) in [
            (0.0, (0.0, 0.0), DOWN),
            (5.0, (5.0, 0.0), DOWN),
            (5.0, (5.0, 0.0), UP),
            (10.0, (0.0, 10.0), CROSS),
        ] {
            let mut sp = Spread::new(SpreadSetup {
                nx,
                ny,
                cell: 1.0,
                kind: kind.clone(),
                building: building.clone(),
                factor: vec![1.0; n],
                stages: vec![[1e9, 0.0, 0.0]; n],
                geometry: vec![[a as f32, d as f32, 0.0]; n],
                limit_m: 14.0,
                calm_dir: (1.0, 0.0),
            });
            let start = if dir == UP {
                (n - 1) * (a + d) + a - 1
            } else {
                0
            };
            sp.ignite(nx + start, 0.0, 0);
            let mut out = Vec::new();
            sp.advance(1e9, Wind::Uniform(u, w), &mut out);
            // From building 1's first cell to building 6's first cell: 5 pitches.
            let first = |b: usize| {
                if dir == UP {
                    (n - 1 - b) * (a + d) + a - 1
                } else {
                    b * (a + d)
                }
            };
            let dt = (sp.arrival[nx + first(6)] - sp.arrival[nx + first(1)]).abs() / 60.0;
            let want = 5.0
                * pitch_time(
                    a as f64,
                    d as f64,
                    0.0,
                    v,
                    if dir == CROSS { DOWN } else { dir },
                );
            if dir != CROSS {
                assert!(
                    (dt - want).abs() / want < 1e-6,
                    "V {v} dir {dir}: {dt} vs {want}"
                );
            } else {
                // The wind blows across the row: crosswind rate.
                let want = 5.0 * pitch_time(a as f64, d as f64, 0.0, v, CROSS);
                assert!((dt - want).abs() / want < 1e-6, "crosswind: {dt} vs {want}");
            }
        }
    }
}
