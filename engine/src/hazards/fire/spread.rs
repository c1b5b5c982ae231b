//! Building-to-building urban fire spread after Hamada (1951), realised on the grid as a
//! minimum-travel-time cellular model.
//!
//! Hamada's time for the front to advance one building pitch (a + d) is a sum of three
//! parts, each divided by a wind factor `W_x` (x = downwind, crosswind, upwind):
//! a fixed delay per building (3 min wooden, 5 min fire-resistive), a time per metre of
//! building (0.375 / 0.625 min/m) and a time per metre of gap (8 / 16 min over `D_x`):
//!
//! ```text
//! t_x = [(1−f)(3 + 0.375a + 8d/D_x) + f(5 + 0.625a + 16d/D_x)] / W_x
//! ```
//!
//! The grid model charges exactly these parts: a step between cell centres costs half
//! its length in each cell's medium (building or gap), plus the fixed delay when it enters
//! a new building. On a regular block of buildings the time per pitch is therefore
//! Hamada's `t_x` along the wind axes. For steps at other angles the parts are
//! interpolated between the axes and rescaled so that a pitch of the reference geometry
//! takes `(a + d)/R(k)`, `R(k)` being the double semi-ellipse of the firebench
//! implementation (`Hamada_1`). Arrival times are found with Dijkstra's algorithm on the
//! 8-neighbour grid, processed tick by tick from a priority queue: only the active front
//! is touched. A per-building random factor (mean 1) gives the spread its scatter.
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
    fn lerp(&self, o: &Self, w: f64) -> Self {
        Self {
            entry: self.entry + w * (o.entry - self.entry),
            building: self.building + w * (o.building - self.building),
            gap: self.gap + w * (o.gap - self.gap),
        }
    }
    fn scale(&self, s: f64) -> Self {
        Self {
            entry: self.entry * s,
            building: self.building * s,
            gap: self.gap * s,
        }
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

/// The geometry the off-axis interpolation is exact for: mean building side `a`, mean
/// separation `d` (m) and share `f` of fire-resistive buildings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reference {
    pub a: f64,
    pub d: f64,
    pub f: f64,
}

/// Step costs in one grid direction, seconds and seconds per metre, for [wooden,
/// fire-resistive] cells.
#[derive(Debug, Clone, Copy, Default)]
pub struct StepCosts {
    pub entry: [f32; 2],
    pub building: [f32; 2],
    pub gap: [f32; 2],
}

/// Costs for spread at cosine `k` to the wind of speed `v`.
pub fn step_costs(v: f64, k: f64, r: &Reference) -> StepCosts {
    let k = k.clamp(-1.0, 1.0);
    let (other, w) = if k >= 0.0 { (DOWN, k) } else { (UP, -k) };
    let interp = |res: bool| Parts::hamada(v, CROSS, res).lerp(&Parts::hamada(v, other, res), w);
    let (pw, pr) = (interp(false), interp(true));
    let t_lin = (1.0 - r.f) * pw.pitch(r.a, r.d) + r.f * pr.pitch(r.a, r.d);
    let t_true = (r.a + r.d) / ros_in_direction(hamada_ros(r.a, r.d, r.f, v), k);
    let s = 60.0 * t_true / t_lin;
    let (pw, pr) = (pw.scale(s), pr.scale(s));
    StepCosts {
        entry: [pw.entry as f32, pr.entry as f32],
        building: [pw.building as f32, pr.building as f32],
        gap: [pw.gap as f32, pr.gap as f32],
    }
}

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
    /// Reversed (earliest first) with the cell index as tie-break, so the order of
    /// processing — and every result — is fully determined.
    fn cmp(&self, o: &Self) -> Ordering {
        o.t.total_cmp(&self.t)
            .then(o.cell.cmp(&self.cell))
            .then(o.src.cmp(&self.src))
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

/// Durations of a building's fire stages, s: growth (to flashover), fully developed,
/// decay.
pub type Stages = [f32; 3];

/// Inputs of the spread grid.
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
    /// Widest gap the fire crosses, m.
    pub limit_m: f64,
    pub reference: Reference,
    /// Unit vector (east, north) the calm-air formula's "downwind" points to.
    pub calm_dir: (f64, f64),
}

/// The spread state: arrival times, cell status and the active front.
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
    cache: Option<((u32, u32), [StepCosts; 8])>,
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

    fn costs(&mut self, c: usize, wind: Wind<'_>) -> [StepCosts; 8] {
        let (u, v) = wind.at(c);
        let key = (u.to_bits(), v.to_bits());
        if let Some((k, costs)) = &self.cache
            && *k == key
        {
            return *costs;
        }
        let speed = f64::from(u).hypot(f64::from(v));
        let (wx, wy) = if speed > 1e-6 {
            (f64::from(u) / speed, f64::from(v) / speed)
        } else {
            self.s.calm_dir
        };
        let mut out = [StepCosts::default(); 8];
        for (o, &(di, dj, len)) in out.iter_mut().zip(&NEIGHBOURS) {
            // Grid rows run north to south: a step of +dj goes south.
            let k = (f64::from(di) * wx - f64::from(dj) * wy) / len;
            *o = step_costs(speed, k, &self.s.reference);
        }
        self.cache = Some((key, out));
        out
    }

    fn push_neighbours(&mut self, c: usize, ev: &Ev, wind: Wind<'_>) {
        let fuel_c = self.is_fuel(c);
        let src = if fuel_c { c } else { ev.src as usize };
        let costs = self.costs(src, wind);
        let (nx, ny) = (self.s.nx as i64, self.s.ny as i64);
        let (i, j) = ((c % self.s.nx) as i64, (c / self.s.nx) as i64);
        let cls = |k: u8| usize::from(k == RESISTIVE);
        let factor = |b: u32| {
            if b == NONE {
                1.0
            } else {
                self.s.factor[b as usize]
            }
        };
        let src_cls = cls(self.s.kind[src]);
        let src_factor = factor(self.s.building[src]);
        let slow = self.slow[src];
        if !slow.is_finite() {
            return;
        }
        let gap_c = if fuel_c { 0.0 } else { f64::from(ev.gap) };
        let limit = self.s.limit_m + 1e-6;
        let half_cell = self.s.cell / 2.0;
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
            let sc = &costs[d];
            let half = self.s.cell * len / 2.0;
            let mut cost = if fuel_c {
                f64::from(sc.building[cls(self.s.kind[c])] * factor(self.s.building[c])) * half
            } else {
                f64::from(sc.gap[src_cls] * src_factor) * half
            };
            let mut gap = gap_c + if fuel_c { 0.0 } else { half };
            if nk == GAP {
                gap += half;
                if gap + half_cell > limit {
                    continue;
                }
                cost += f64::from(sc.gap[src_cls] * src_factor) * half;
            } else {
                if gap > limit {
                    continue;
                }
                let bn = self.s.building[n];
                let fnb = factor(bn);
                cost += f64::from(sc.building[cls(nk)] * fnb) * half;
                if bn != self.s.building[c] {
                    cost += f64::from(sc.entry[cls(nk)] * fnb);
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

    #[test]
    fn step_costs_reproduce_the_pitch_time_off_axis() {
        let r = Reference {
            a: 10.0,
            d: 3.0,
            f: 0.4,
        };
        for v in [0.0, 5.0, 10.0] {
            for k in [-1.0, -0.7, -0.2, 0.0, 0.3, 0.7, 1.0] {
                let c = step_costs(v, k, &r);
                let t = (1.0 - r.f) * f64::from(c.entry[0] + c.building[0] * 10.0 + c.gap[0] * 3.0)
                    + r.f * f64::from(c.entry[1] + c.building[1] * 10.0 + c.gap[1] * 3.0);
                let want = 60.0 * 13.0 / ros_in_direction(hamada_ros(10.0, 3.0, 0.4, v), k);
                assert!((t - want).abs() / want < 1e-5, "v {v} k {k}: {t} vs {want}");
            }
        }
    }
}
