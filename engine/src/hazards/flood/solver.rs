//! The overland-flow kernel: the local-inertial ("ACC") scheme of Bates, Horritt &
//! Fewtrell (2010) in the q-centred form of de Almeida et al. (2012), on a staggered grid.
//!
//! Depths `h`, bed `z` and Manning's `n` sit at cell centres; unit-width discharges sit on
//! faces: `qx` on the (nx+1) × ny west/east faces, `qy` on the nx × (ny+1) north/south
//! faces, both positive towards increasing index (east, south). State is f32; the volume
//! balance is kept in f64 and is a pure function of the inputs whatever the thread count:
//! every row is computed independently and row sums are combined in row order.
//!
//! One step is two parallel passes over row bands:
//! 1. momentum: new face fluxes, then each cell's outflow limiter `w` (the "DryCheck" of
//!    LISFLOOD-FP: a cell's outgoing fluxes are scaled so it cannot give more water than
//!    it holds, which keeps depths non-negative without clamping);
//! 2. continuity: fluxes scaled by their donor cell's `w`, depth update with rain and
//!    losses (drainage, infiltration, pumps), each limited to the water present.
//!
//! Level (Dirichlet) cells and inflow cells are then applied serially (they are few).

// Loops index several parallel per-cell arrays at once: an index reads clearer there
// than a zip of many iterators.
#![allow(clippy::needless_range_loop)]

use rayon::prelude::*;

/// Standard gravity, m/s² (CGPM 1901).
pub const G: f32 = 9.80665;

/// A bed level no water reaches: building cells modelled as solid blocks get it, so every
/// face touching them has no flow depth and carries nothing, without a branch.
pub const SOLID_Z: f32 = 1.0e5;

/// Numerical parameters of the scheme.
#[derive(Debug, Clone, Copy)]
pub struct Params {
    /// q-centring weight θ (1 = Bates et al. 2010; de Almeida et al. 2012 use 0.7).
    pub theta: f32,
    /// Courant number α in Δt = α Δx / √(g h_max).
    pub cfl: f32,
    /// Faces with a flow depth at or below this carry no flow, m.
    pub h_min: f32,
    /// Upper bound of the step, s (LISFLOOD-FP's `initial_tstep` plays this role).
    pub max_dt: f64,
}

impl Default for Params {
    /// LISFLOOD-FP 8.1 defaults: θ = 1, α = 0.7, DepthThresh = 1 mm, step cap 10 s.
    fn default() -> Self {
        Self {
            theta: 1.0,
            cfl: 0.7,
            h_min: 1.0e-3,
            max_dt: 10.0,
        }
    }
}

/// A value that may vary in time: constant, or piecewise linear through (t, v) points
/// (held constant before the first and after the last point).
#[derive(Debug, Clone, PartialEq)]
pub enum Signal {
    Const(f64),
    Series(Vec<(f64, f64)>),
}

impl Signal {
    pub fn at(&self, t: f64) -> f64 {
        match self {
            Self::Const(v) => *v,
            Self::Series(p) => {
                if p.is_empty() {
                    return 0.0;
                }
                if t <= p[0].0 {
                    return p[0].1;
                }
                for w in p.windows(2) {
                    let ((t0, v0), (t1, v1)) = (w[0], w[1]);
                    if t <= t1 {
                        return if t1 > t0 {
                            v0 + (v1 - v0) * (t - t0) / (t1 - t0)
                        } else {
                            v1
                        };
                    }
                }
                p[p.len() - 1].1
            }
        }
    }
}

/// Cells held at a water level (sea, a fixed-level boundary). Water they gain or lose is
/// booked as boundary exchange.
#[derive(Debug, Clone)]
pub struct LevelCells {
    pub cells: Vec<u32>,
    /// Water level, m above datum.
    pub level: Signal,
}

/// Cells receiving a discharge (a point or a line inflow), shared equally.
#[derive(Debug, Clone)]
pub struct Inflow {
    pub cells: Vec<u32>,
    /// Discharge, m³/s (≥ 0).
    pub q: Signal,
}

/// Free-outflow slopes of the domain edges: one per edge face, 0 = closed (wall).
/// A free face passes the normal-depth discharge q = h^(5/3) √S / n of its edge cell
/// (LISFLOOD-FP `FREE` boundary).
#[derive(Debug, Clone)]
pub struct Edges {
    /// Per row.
    pub west: Vec<f32>,
    pub east: Vec<f32>,
    /// Per column.
    pub north: Vec<f32>,
    pub south: Vec<f32>,
}

impl Edges {
    pub fn closed(nx: usize, ny: usize) -> Self {
        Self {
            west: vec![0.0; ny],
            east: vec![0.0; ny],
            north: vec![0.0; nx],
            south: vec![0.0; nx],
        }
    }
}

/// Cumulative volumes since the start, m³ (f64).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Balance {
    pub rain_in: f64,
    pub inflow_in: f64,
    /// Net water given by level cells (negative when they absorb).
    pub level_net: f64,
    /// Out through free edges.
    pub edge_out: f64,
    /// Drainage, infiltration and pumping.
    pub losses: f64,
    /// Water created by rounding a depth back to zero (should stay at round-off level).
    pub clamp: f64,
}

impl Balance {
    /// Net volume that entered the domain.
    pub fn net_in(&self) -> f64 {
        self.rain_in + self.inflow_in + self.level_net - self.edge_out - self.losses
    }
}

/// Per-row results of the continuity pass.
#[derive(Debug, Clone, Copy, Default)]
struct RowSums {
    losses: f64,
    clamp: f64,
    edge_out: f64,
    h_max: f32,
    /// Sum of the row's new depths: not finite when a depth is not.
    check: f32,
}

/// The overland-flow state and its forcing.
#[derive(Debug, Clone)]
pub struct Solver {
    pub nx: usize,
    pub ny: usize,
    /// Cell size, m.
    pub dx: f64,
    pub params: Params,
    /// Bed level, m.
    pub z: Vec<f32>,
    /// Manning's n, s/m^(1/3).
    pub n: Vec<f32>,
    /// Depth, m.
    pub h: Vec<f32>,
    /// Face discharges per unit width, m²/s (after the limiter).
    pub qx: Vec<f32>,
    pub qy: Vec<f32>,
    /// The next step's depths and fluxes: a step reads the current arrays and writes
    /// these, then swaps, so row bands can run in one fused pass without a race on the
    /// rows they share.
    h_next: Vec<f32>,
    qx_next: Vec<f32>,
    qy_next: Vec<f32>,
    /// Rain reaching the surface, m/s.
    rain: Vec<f32>,
    rain_total: f64,
    /// Loss capacity (drainage + infiltration + pumps), m/s.
    pub loss: Vec<f32>,
    /// 1 for cells whose depth limits the time step (not level cells).
    active: Vec<u8>,
    pub edges: Edges,
    pub levels: Vec<LevelCells>,
    pub inflows: Vec<Inflow>,
    pub balance: Balance,
    /// Simulated time, s.
    pub t: f64,
    /// Steps taken.
    pub steps: u64,
    h_max: f32,
    /// Use the widest vector instructions the CPU has (AVX2 on x86-64, detected at run
    /// time); false keeps the build's baseline. Results are identical either way.
    pub simd: bool,
}

impl Solver {
    /// A dry, closed domain over bed `z` with roughness `n`.
    pub fn new(nx: usize, ny: usize, dx: f64, z: Vec<f32>, n: Vec<f32>, params: Params) -> Self {
        let len = nx * ny;
        assert_eq!(z.len(), len, "bed size");
        assert_eq!(n.len(), len, "roughness size");
        Self {
            nx,
            ny,
            dx,
            params,
            z,
            n,
            h: vec![0.0; len],
            qx: vec![0.0; (nx + 1) * ny],
            qy: vec![0.0; nx * (ny + 1)],
            h_next: vec![0.0; len],
            qx_next: vec![0.0; (nx + 1) * ny],
            qy_next: vec![0.0; nx * (ny + 1)],
            rain: vec![0.0; len],
            rain_total: 0.0,
            loss: vec![0.0; len],
            active: vec![1; len],
            edges: Edges::closed(nx, ny),
            levels: Vec::new(),
            inflows: Vec::new(),
            balance: Balance::default(),
            t: 0.0,
            steps: 0,
            h_max: 0.0,
            simd: true,
        }
    }

    /// Bytes of state per cell: z, n, two buffers of h, rain, loss (4 each), active (1),
    /// and two buffers of the two face fluxes (≈ 16). Per-band scratch is O(nx).
    pub const BYTES_PER_CELL: usize = 6 * 4 + 1 + 16;

    /// Set the rain field, m/s (one value per cell).
    pub fn set_rain(&mut self, rain: &[f32]) {
        self.rain.copy_from_slice(rain);
        self.rain_total = rain.iter().map(|&r| f64::from(r)).sum();
    }

    /// Set a uniform rain rate, m/s.
    pub fn set_uniform_rain(&mut self, r: f32) {
        self.rain.fill(r);
        self.rain_total = self.rain.iter().map(|&r| f64::from(r)).sum();
    }

    /// Mark level cells so they do not limit the step (their water is imposed, not
    /// simulated), and impose their level at time `t`.
    pub fn finish_setup(&mut self) {
        self.active.fill(1);
        for l in &self.levels {
            for &c in &l.cells {
                self.active[c as usize] = 0;
            }
        }
        self.apply_levels(self.t);
        self.h_max = self.active_h_max();
    }

    fn active_h_max(&self) -> f32 {
        self.h
            .par_chunks(self.nx)
            .zip(self.active.par_chunks(self.nx))
            .map(|(h, a)| {
                h.iter()
                    .zip(a)
                    .fold(0.0f32, |m, (&h, &a)| if a != 0 { m.max(h) } else { m })
            })
            .reduce(|| 0.0, f32::max)
    }

    /// Water stored on the grid, m³ (rows summed in order).
    pub fn volume(&self) -> f64 {
        let rows: Vec<f64> = self
            .h
            .par_chunks(self.nx)
            .map(|r| r.iter().map(|&h| f64::from(h)).sum())
            .collect();
        rows.iter().sum::<f64>() * self.dx * self.dx
    }

    /// The next stable step, s.
    pub fn stable_dt(&self) -> f64 {
        let h = f64::from(self.h_max);
        if h > f64::from(self.params.h_min) {
            (f64::from(self.params.cfl) * self.dx / (f64::from(G) * h).sqrt())
                .min(self.params.max_dt)
        } else {
            self.params.max_dt
        }
    }

    /// Advance to time `t_end` in stable sub-steps. Fails with the cell and time if a
    /// depth stops being finite.
    pub fn advance_to(&mut self, t_end: f64) -> Result<(), String> {
        while self.t < t_end - 1e-9 {
            let dt = self.stable_dt().min(t_end - self.t);
            self.step(dt)?;
        }
        Ok(())
    }

    /// One step of length `dt`, s.
    pub fn step(&mut self, dt: f64) -> Result<(), String> {
        let (nx, ny) = (self.nx, self.ny);
        let dtf = dt as f32;
        let k = Consts {
            theta: self.params.theta,
            h_min: self.params.h_min,
            gdt: G * dtf,
            gdt_dx: G * dtf / self.dx as f32,
            dt_dx: dtf / self.dx as f32,
            dt: dtf,
        };
        let band = band_rows(ny);
        let simd = self.simd;
        // One fused pass over bands of rows: each band computes the fluxes and limiters of
        // its rows plus one halo row on each side (from the old state, so identically to
        // the neighbouring band), then updates its rows' depths into the next buffers.
        let bands: Vec<BandOut> = {
            let ctx = Ctx {
                nx,
                ny,
                h: &self.h,
                z: &self.z,
                n: &self.n,
                qx: &self.qx,
                qy: &self.qy,
                edges: &self.edges,
                k,
            };
            let forcing = Forcing {
                rain: &self.rain,
                loss: &self.loss,
                active: &self.active,
            };
            let (qy_rows, _) = self.qy_next.split_at_mut(nx * ny);
            self.h_next
                .par_chunks_mut(nx * band)
                .zip(self.qx_next.par_chunks_mut((nx + 1) * band))
                .zip(qy_rows.par_chunks_mut(nx * band))
                .enumerate()
                .map(|(b, ((h, qx), qy))| {
                    let j0 = b * band;
                    ctx.band_best(simd, j0, (j0 + band).min(ny), &forcing, h, qx, qy)
                })
                .collect()
        };
        std::mem::swap(&mut self.h, &mut self.h_next);
        std::mem::swap(&mut self.qx, &mut self.qx_next);
        std::mem::swap(&mut self.qy, &mut self.qy_next);
        let sums: Vec<RowSums> = bands
            .into_iter()
            .flat_map(|b| {
                if let Some(south) = b.south_edge {
                    self.qy[nx * ny..].copy_from_slice(&south);
                }
                b.rows
            })
            .collect();
        let area = self.dx * self.dx;
        let mut h_max = 0.0f32;
        let mut finite = true;
        for r in &sums {
            finite &= r.check.is_finite();
            self.balance.losses += r.losses * area;
            self.balance.clamp += r.clamp * area;
            self.balance.edge_out += r.edge_out * dt * self.dx;
            h_max = h_max.max(r.h_max);
        }
        self.balance.rain_in += self.rain_total * f64::from(dtf) * area;
        // Inflows at mid-step, then level cells at the end of the step.
        for f in &self.inflows {
            let q = f.q.at(self.t + 0.5 * dt).max(0.0);
            let dh = (q * dt / (area * f.cells.len() as f64)) as f32;
            for &c in &f.cells {
                self.h[c as usize] += dh;
                h_max = h_max.max(self.h[c as usize]);
            }
            self.balance.inflow_in += f64::from(dh) * area * f.cells.len() as f64;
        }
        self.t += dt;
        self.steps += 1;
        self.apply_levels(self.t);
        if !finite || !h_max.is_finite() {
            return Err(self.non_finite_report());
        }
        self.h_max = h_max;
        Ok(())
    }

    fn apply_levels(&mut self, t: f64) {
        let area = self.dx * self.dx;
        for l in &self.levels {
            let level = l.level.at(t) as f32;
            let mut net = 0.0f64;
            for &c in &l.cells {
                let c = c as usize;
                let target = (level - self.z[c]).max(0.0);
                net += f64::from(target) - f64::from(self.h[c]);
                self.h[c] = target;
            }
            self.balance.level_net += net * area;
        }
    }

    /// The first cell whose depth or fluxes are not finite, as a message.
    pub fn non_finite_report(&self) -> String {
        let nx = self.nx;
        for (k, &h) in self.h.iter().enumerate() {
            let (i, j) = (k % nx, k / nx);
            let q = [
                self.qx[j * (nx + 1) + i],
                self.qx[j * (nx + 1) + i + 1],
                self.qy[k],
                self.qy[k + nx],
            ];
            if !h.is_finite() || q.iter().any(|q| !q.is_finite()) {
                return format!(
                    "flood: non-finite water depth or discharge at cell ({i},{j}), t={:.3} s",
                    self.t
                );
            }
        }
        format!(
            "flood: non-finite maximum depth at t={:.3} s (no single cell found)",
            self.t
        )
    }

    /// Cell-centred speed, m/s, for depths above `h_show` (0 elsewhere).
    pub fn speed(&self, h_show: f32) -> Vec<f32> {
        let nx = self.nx;
        let mut out = vec![0.0f32; self.h.len()];
        out.par_chunks_mut(nx).enumerate().for_each(|(j, row)| {
            for (i, v) in row.iter_mut().enumerate() {
                let k = j * nx + i;
                let h = self.h[k];
                if h > h_show {
                    let ux = 0.5 * (self.qx[j * (nx + 1) + i] + self.qx[j * (nx + 1) + i + 1]);
                    let uy = 0.5 * (self.qy[k] + self.qy[k + nx]);
                    *v = (ux * ux + uy * uy).sqrt() / h;
                }
            }
        });
        out
    }
}

/// Rows per band of the flux pass. Any value gives the same result (band edges are
/// computed redundantly and identically); this only balances work and cache use: eight
/// bands per thread, rounded up so that the band count divides evenly among threads.
fn band_rows(ny: usize) -> usize {
    let threads = rayon::current_num_threads().max(1);
    ny.div_ceil(threads * 8).clamp(4, 64).min(ny).max(1)
}

#[derive(Debug, Clone, Copy)]
struct Consts {
    theta: f32,
    h_min: f32,
    gdt: f32,
    gdt_dx: f32,
    dt_dx: f32,
    dt: f32,
}

/// Read-only view of the old state for the flux pass.
struct Ctx<'a> {
    nx: usize,
    ny: usize,
    h: &'a [f32],
    z: &'a [f32],
    n: &'a [f32],
    qx: &'a [f32],
    qy: &'a [f32],
    edges: &'a Edges,
    k: Consts,
}

/// x^(-1/3) for x > 0 without a division: a bit-level first guess refined by three
/// Newton steps y ← y (4 − x y³)/3 (relative error < 1e-6 over the depths used).
#[inline(always)]
pub fn inv_cbrt(x: f32) -> f32 {
    let mut y = f32::from_bits(0x54a2_fa8c - x.to_bits() / 3);
    for _ in 0..3 {
        y = y * (4.0 - x * y * y * y) * (1.0 / 3.0);
    }
    y
}

/// The momentum update of one face between cells a (upstream index) and b.
/// `q0` old flux, `qc` its q-centred average, `qp` the mean perpendicular flux.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn face(
    k: &Consts,
    q0: f32,
    qc: f32,
    qp: f32,
    ha: f32,
    hb: f32,
    za: f32,
    zb: f32,
    na: f32,
    nb: f32,
) -> f32 {
    let ea = za + ha;
    let eb = zb + hb;
    let hf = ea.max(eb) - za.max(zb);
    let hc = hf.max(k.h_min);
    let y = inv_cbrt(hc);
    let y2 = y * y;
    let y7 = y2 * y2 * y2 * y; // hc^(-7/3)
    let nf = 0.5 * (na + nb);
    let qmag = (q0 * q0 + qp * qp).sqrt();
    let inv_den = 1.0 / (1.0 + k.gdt * nf * nf * qmag * y7);
    let grav = k.gdt_dx * hf * (eb - ea);
    let q_theta = (qc - grav) * inv_den;
    let q_one = (q0 - grav) * inv_den;
    // de Almeida et al. (2012): if the centred flux runs against the surface slope,
    // fall back to θ = 1 on that face.
    let q = if q_theta * (ea - eb) < 0.0 {
        q_one
    } else {
        q_theta
    };
    if hf > k.h_min { q } else { 0.0 }
}

/// Normal-depth discharge magnitude at a free edge, m²/s.
#[inline(always)]
fn free_flux(h: f32, n: f32, slope: f32, h_min: f32) -> f32 {
    if slope > 0.0 && h > h_min && n > 0.0 {
        h * h.cbrt().powi(2) * slope.sqrt() / n
    } else {
        0.0
    }
}

impl Ctx<'_> {
    /// New x-face fluxes of row j (nx + 1 faces, west edge first).
    #[inline(always)]
    fn x_faces(&self, j: usize, out: &mut [f32]) {
        let nx = self.nx;
        let k = &self.k;
        let s = j * nx;
        let h = &self.h[s..s + nx];
        let z = &self.z[s..s + nx];
        let n = &self.n[s..s + nx];
        let q = &self.qx[j * (nx + 1)..(j + 1) * (nx + 1)];
        let yn = &self.qy[s..s + nx];
        let ys = &self.qy[s + nx..s + 2 * nx];
        let th = k.theta;
        let half = 0.5 * (1.0 - th);
        // Face i lies between cells i-1 and i. Neighbour faces beyond the interior
        // (the domain edges) are replaced by the face's own flux.
        let one = |i: usize| {
            let q0 = q[i];
            let ql = if i >= 2 { q[i - 1] } else { q0 };
            let qr = if i + 2 <= nx { q[i + 1] } else { q0 };
            let qp = 0.25 * (yn[i - 1] + yn[i] + ys[i - 1] + ys[i]);
            face(
                k,
                q0,
                th * q0 + half * (ql + qr),
                qp,
                h[i - 1],
                h[i],
                z[i - 1],
                z[i],
                n[i - 1],
                n[i],
            )
        };
        if nx >= 2 {
            out[1] = one(1);
        }
        if nx >= 4 {
            // Interior faces 2..nx-2 with both neighbours interior: the vectorised loop.
            let m = nx - 3;
            let (q_l, q_c, q_r) = (&q[1..1 + m], &q[2..2 + m], &q[3..3 + m]);
            let (ha, hb) = (&h[1..1 + m], &h[2..2 + m]);
            let (za, zb) = (&z[1..1 + m], &z[2..2 + m]);
            let (na, nb) = (&n[1..1 + m], &n[2..2 + m]);
            let (yna, ynb) = (&yn[1..1 + m], &yn[2..2 + m]);
            let (ysa, ysb) = (&ys[1..1 + m], &ys[2..2 + m]);
            let o = &mut out[2..2 + m];
            for i in 0..m {
                let q0 = q_c[i];
                o[i] = face(
                    k,
                    q0,
                    th * q0 + half * (q_l[i] + q_r[i]),
                    0.25 * (yna[i] + ynb[i] + ysa[i] + ysb[i]),
                    ha[i],
                    hb[i],
                    za[i],
                    zb[i],
                    na[i],
                    nb[i],
                );
            }
        }
        if nx >= 3 {
            out[nx - 1] = one(nx - 1);
        }
        out[0] = -free_flux(h[0], n[0], self.edges.west[j], k.h_min);
        out[nx] = free_flux(h[nx - 1], n[nx - 1], self.edges.east[j], k.h_min);
    }

    /// New y-face fluxes of face row jf (between rows jf-1 and jf; 0 and ny are edges).
    #[inline(always)]
    fn y_faces(&self, jf: usize, out: &mut [f32]) {
        let (nx, ny) = (self.nx, self.ny);
        let k = &self.k;
        if jf == 0 {
            for (i, o) in out.iter_mut().enumerate() {
                *o = -free_flux(self.h[i], self.n[i], self.edges.north[i], k.h_min);
            }
            return;
        }
        if jf == ny {
            let s = (ny - 1) * nx;
            for (i, o) in out.iter_mut().enumerate() {
                *o = free_flux(self.h[s + i], self.n[s + i], self.edges.south[i], k.h_min);
            }
            return;
        }
        let (sa, sb) = ((jf - 1) * nx, jf * nx);
        let (ha, hb) = (&self.h[sa..sa + nx], &self.h[sb..sb + nx]);
        let (za, zb) = (&self.z[sa..sa + nx], &self.z[sb..sb + nx]);
        let (na, nb) = (&self.n[sa..sa + nx], &self.n[sb..sb + nx]);
        let q = &self.qy[jf * nx..(jf + 1) * nx];
        let qn = if jf >= 2 {
            &self.qy[(jf - 1) * nx..jf * nx]
        } else {
            q
        };
        let qs = if jf + 2 <= ny {
            &self.qy[(jf + 1) * nx..(jf + 2) * nx]
        } else {
            q
        };
        let xa = &self.qx[(jf - 1) * (nx + 1)..jf * (nx + 1)];
        let xb = &self.qx[jf * (nx + 1)..(jf + 1) * (nx + 1)];
        let (xaw, xae) = (&xa[..nx], &xa[1..nx + 1]);
        let (xbw, xbe) = (&xb[..nx], &xb[1..nx + 1]);
        let th = k.theta;
        let half = 0.5 * (1.0 - th);
        let out = &mut out[..nx];
        for i in 0..nx {
            let q0 = q[i];
            out[i] = face(
                k,
                q0,
                th * q0 + half * (qn[i] + qs[i]),
                0.25 * (xaw[i] + xae[i] + xbw[i] + xbe[i]),
                ha[i],
                hb[i],
                za[i],
                zb[i],
                na[i],
                nb[i],
            );
        }
    }
}

/// Per-cell forcing read by the continuity update.
struct Forcing<'a> {
    rain: &'a [f32],
    loss: &'a [f32],
    active: &'a [u8],
}

/// What a band of rows returns: its rows' sums in row order, and the limited south-edge
/// fluxes when it holds the last row.
struct BandOut {
    rows: Vec<RowSums>,
    south_edge: Option<Vec<f32>>,
}

/// `Ctx::band` compiled with a target feature enabled: a thin wrapper (the body is
/// `band`, inlined), one per instruction set [`Ctx::band_best`] picks at run time.
macro_rules! band_for_feature {
    ($name:ident, $feature:literal) => {
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = $feature)]
        fn $name(
            &self,
            j0: usize,
            j1: usize,
            f: &Forcing,
            h_out: &mut [f32],
            qx_out: &mut [f32],
            qy_out: &mut [f32],
        ) -> BandOut {
            self.band(j0, j1, f, h_out, qx_out, qy_out)
        }
    };
}

/// Slots of the rolling row buffers: a row's fluxes and limiter are needed by the rows
/// next to it only, so four rows (r - 2 ..= r + 1) are enough.
const RING: usize = 4;

impl Ctx<'_> {
    /// Fluxes, limiters and depth update of rows j0..j1 into `h_out`, `qx_out` (their
    /// x faces) and `qy_out` (their north faces). Rows are processed in order with a lag
    /// of one: the unlimited fluxes and limiters live in small rolling buffers that stay
    /// in cache, and the old state is streamed once.
    #[inline(always)]
    fn band(
        &self,
        j0: usize,
        j1: usize,
        f: &Forcing,
        h_out: &mut [f32],
        qx_out: &mut [f32],
        qy_out: &mut [f32],
    ) -> BandOut {
        let (nx, ny) = (self.nx, self.ny);
        let mut xs: [Vec<f32>; RING] = std::array::from_fn(|_| vec![0.0; nx + 1]);
        let mut ys: [Vec<f32>; RING] = std::array::from_fn(|_| vec![0.0; nx]);
        let mut ws: [Vec<f32>; RING] = std::array::from_fn(|_| vec![1.0; nx]);
        let mut south = vec![0.0f32; nx];
        let mut rows = Vec::with_capacity(j1 - j0);
        let mut south_edge = None;
        let lo = j0.saturating_sub(1);
        let hi = (j1 + 1).min(ny);
        self.y_faces(lo, &mut ys[lo % RING]);
        for r in lo..hi {
            self.y_faces(r + 1, &mut ys[(r + 1) % RING]);
            self.x_faces(r, &mut xs[r % RING]);
            limiter(
                self,
                r,
                &xs[r % RING],
                &ys[r % RING],
                &ys[(r + 1) % RING],
                &mut ws[r % RING],
            );
            if r > j0 {
                rows.push(self.update(
                    r - 1,
                    j0,
                    &xs,
                    &ys,
                    &ws,
                    f,
                    h_out,
                    qx_out,
                    qy_out,
                    &mut south,
                ));
            }
        }
        if j1 == ny {
            rows.push(self.update(
                ny - 1,
                j0,
                &xs,
                &ys,
                &ws,
                f,
                h_out,
                qx_out,
                qy_out,
                &mut south,
            ));
            south_edge = Some(south);
        }
        BandOut { rows, south_edge }
    }

    /// The continuity update of row c of the band starting at row j0, from the rolling
    /// buffers of unlimited fluxes and limiters.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn update(
        &self,
        c: usize,
        j0: usize,
        xs: &[Vec<f32>; RING],
        ys: &[Vec<f32>; RING],
        ws: &[Vec<f32>; RING],
        f: &Forcing,
        h_out: &mut [f32],
        qx_out: &mut [f32],
        qy_out: &mut [f32],
        south: &mut [f32],
    ) -> RowSums {
        let (nx, ny) = (self.nx, self.ny);
        let r = c - j0;
        let s = c * nx;
        let wc = &ws[c % RING];
        // At the domain edges the donor is always the edge cell.
        let wn = if c > 0 { &ws[(c - 1) % RING] } else { wc };
        let wsouth = if c + 1 < ny { &ws[(c + 1) % RING] } else { wc };
        continuity_row(
            &self.k,
            c == 0,
            c + 1 == ny,
            &self.h[s..s + nx],
            &mut h_out[r * nx..(r + 1) * nx],
            &xs[c % RING],
            &ys[c % RING],
            &ys[(c + 1) % RING],
            wn,
            wc,
            wsouth,
            &f.rain[s..s + nx],
            &f.loss[s..s + nx],
            &f.active[s..s + nx],
            &mut qx_out[r * (nx + 1)..(r + 1) * (nx + 1)],
            &mut qy_out[r * nx..(r + 1) * nx],
            south,
        )
    }

    /// `band` compiled for the best instruction set of the CPU it runs on: AVX2 where
    /// the CPU has it (checked at run time, so the portable build uses it too), else the
    /// build's baseline. Both give bit-identical results: Rust never fuses or reorders
    /// floating-point operations, so only the vector width differs.
    #[allow(clippy::too_many_arguments)]
    fn band_best(
        &self,
        simd: bool,
        j0: usize,
        j1: usize,
        f: &Forcing,
        h_out: &mut [f32],
        qx_out: &mut [f32],
        qy_out: &mut [f32],
    ) -> BandOut {
        #[cfg(target_arch = "x86_64")]
        if simd && std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU supports AVX-512F, checked just above.
            return unsafe { self.band_avx512(j0, j1, f, h_out, qx_out, qy_out) };
        }
        #[cfg(target_arch = "x86_64")]
        if simd && std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, checked just above.
            return unsafe { self.band_avx2(j0, j1, f, h_out, qx_out, qy_out) };
        }
        let _ = simd;
        self.band(j0, j1, f, h_out, qx_out, qy_out)
    }

    band_for_feature!(band_avx512, "avx512f");
    band_for_feature!(band_avx2, "avx2");
}

/// The outflow limiter of row j: w = min(1, h / outflow) so a cell never gives more
/// water than it holds in this step.
#[inline(always)]
fn limiter(ctx: &Ctx, j: usize, qx: &[f32], qn: &[f32], qs: &[f32], w: &mut [f32]) {
    let nx = ctx.nx;
    let h = &ctx.h[j * nx..(j + 1) * nx];
    let (qw, qe) = (&qx[..nx], &qx[1..nx + 1]);
    let (qn, qs) = (&qn[..nx], &qs[..nx]);
    let w = &mut w[..nx];
    let dt_dx = ctx.k.dt_dx;
    for i in 0..nx {
        let out = ((-qw[i]).max(0.0) + qe[i].max(0.0) + (-qn[i]).max(0.0) + qs[i].max(0.0)) * dt_dx;
        w[i] = (h[i] / out.max(1.0e-30)).min(1.0);
    }
}

/// `if c { a } else { b }` through bit masks, so loops using it vectorise (a plain `if`
/// between two loads was compiled to scalar conditional moves).
#[inline(always)]
fn select(c: bool, a: f32, b: f32) -> f32 {
    let m = (c as u32).wrapping_neg();
    f32::from_bits((a.to_bits() & m) | (b.to_bits() & !m))
}

/// Accumulator lanes of the continuity loop.
const LANES: usize = 8;

/// Continuity for row j: scale fluxes by their donors' limiters, store them, update
/// depths with rain and losses.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn continuity_row(
    k: &Consts,
    north_edge: bool,
    south_edge: bool,
    h_in: &[f32],
    h: &mut [f32],
    qx: &[f32],
    qn: &[f32],
    qs: &[f32],
    wn: &[f32],
    wc: &[f32],
    ws: &[f32],
    rain: &[f32],
    loss: &[f32],
    active: &[u8],
    qx_out: &mut [f32],
    qn_out: &mut [f32],
    south: &mut [f32],
) -> RowSums {
    let nx = h.len();
    // x faces: face i between cells i-1 and i; edge faces' donor is the edge cell.
    qx_out[0] = qx[0] * wc[0];
    qx_out[nx] = qx[nx] * wc[nx - 1];
    {
        let (qi, wl, wr) = (&qx[1..nx], &wc[..nx - 1], &wc[1..nx]);
        let o = &mut qx_out[1..nx];
        for i in 0..nx - 1 {
            let q = qi[i];
            o[i] = q * select(q > 0.0, wl[i], wr[i]);
        }
    }
    // North faces of this row (owned) and south faces (owned by the next row, scaled
    // here identically for the depth update).
    {
        let south = &mut south[..nx];
        let qn_out = &mut qn_out[..nx];
        let (qn, qs, wn, wc, ws) = (&qn[..nx], &qs[..nx], &wn[..nx], &wc[..nx], &ws[..nx]);
        // At the domain edges the donor is always the edge cell (only outflow is possible).
        let (wn, ws) = (
            if north_edge { wc } else { wn },
            if south_edge { wc } else { ws },
        );
        for i in 0..nx {
            let q = qn[i];
            qn_out[i] = q * select(q > 0.0, wn[i], wc[i]);
            let q = qs[i];
            south[i] = q * select(q > 0.0, wc[i], ws[i]);
        }
    }
    let mut sums = RowSums {
        edge_out: f64::from(qx_out[nx] - qx_out[0]),
        ..RowSums::default()
    };
    if north_edge {
        sums.edge_out -= qn_out.iter().map(|&q| f64::from(q)).sum::<f64>();
    }
    if south_edge {
        sums.edge_out += south.iter().map(|&q| f64::from(q)).sum::<f64>();
    }
    let (xw, xe) = (&qx_out[..nx], &qx_out[1..nx + 1]);
    let qn_s = &qn_out[..nx];
    let (rain, loss, active, south) = (&rain[..nx], &loss[..nx], &active[..nx], &south[..nx]);
    let h_in = &h_in[..nx];
    // Sums and maxima are kept in LANES fixed lanes (cell i goes to lane i % LANES) so the
    // loop vectorises; lanes are combined in order, so the result depends only on the
    // row, never on the thread count.
    let mut lost = [0.0f64; LANES];
    let mut clamp = [0.0f32; LANES];
    let mut check = [0.0f32; LANES];
    let mut h_max = [0.0f32; LANES];
    // The body is a macro so it is inlined in both loops; the main loop works on
    // fixed-size chunks so its indexing needs no bounds checks and vectorises.
    macro_rules! cell {
        ($h:expr, $xw:expr, $xe:expr, $qn:expr, $qs:expr, $rain:expr, $loss:expr, $active:expr, $l:expr) => {{
            let l = $l;
            let wet = $h + k.dt_dx * ($xw - $xe + $qn - $qs) + $rain * k.dt;
            let gone = wet.max(0.0).min($loss * k.dt);
            let after = wet - gone;
            clamp[l] += (-after).max(0.0);
            // Written so a NaN stays a NaN (f32::max would turn it into 0 and hide it).
            let v = if after < 0.0 { 0.0 } else { after };
            check[l] += v;
            lost[l] += f64::from(gone);
            h_max[l] = h_max[l].max(if $active != 0 { v } else { 0.0 });
            v
        }};
    }
    let full = nx / LANES * LANES;
    for c in (0..full).step_by(LANES) {
        let r = c..c + LANES;
        let hi: &[f32; LANES] = h_in[r.clone()].try_into().expect("lane chunk");
        let hh: &mut [f32; LANES] = (&mut h[r.clone()]).try_into().expect("lane chunk");
        let xw: &[f32; LANES] = xw[r.clone()].try_into().expect("lane chunk");
        let xe: &[f32; LANES] = xe[r.clone()].try_into().expect("lane chunk");
        let qn: &[f32; LANES] = qn_s[r.clone()].try_into().expect("lane chunk");
        let qs: &[f32; LANES] = south[r.clone()].try_into().expect("lane chunk");
        let rn: &[f32; LANES] = rain[r.clone()].try_into().expect("lane chunk");
        let ls: &[f32; LANES] = loss[r.clone()].try_into().expect("lane chunk");
        let ac: &[u8; LANES] = active[r].try_into().expect("lane chunk");
        for l in 0..LANES {
            hh[l] = cell!(hi[l], xw[l], xe[l], qn[l], qs[l], rn[l], ls[l], ac[l], l);
        }
    }
    for i in full..nx {
        h[i] = cell!(
            h_in[i],
            xw[i],
            xe[i],
            qn_s[i],
            south[i],
            rain[i],
            loss[i],
            active[i],
            i - full
        );
    }
    let lost = lost.iter().sum::<f64>();
    let clamp = clamp.iter().sum::<f32>();
    let check = check.iter().sum::<f32>();
    let h_max = h_max.iter().copied().fold(0.0f32, f32::max);
    sums.losses = lost;
    sums.clamp = f64::from(clamp);
    sums.h_max = h_max;
    sums.check = check;
    sums
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inverse_cube_root_is_accurate() {
        let mut x = 1.0e-3f32;
        let mut worst = 0.0f64;
        while x < 1.0e3 {
            let exact = f64::from(x).powf(-1.0 / 3.0);
            let rel = (f64::from(inv_cbrt(x)) - exact).abs() / exact;
            worst = worst.max(rel);
            x *= 1.0007;
        }
        println!("inv_cbrt worst relative error {worst:e}");
        assert!(worst < 1e-6, "worst relative error {worst}");
    }

    #[test]
    fn signal_interpolates_and_holds() {
        let s = Signal::Series(vec![(0.0, 0.0), (300.0, 0.0), (3600.0, 1.0)]);
        assert_eq!(s.at(-5.0), 0.0);
        assert!((s.at(1950.0) - 0.5).abs() < 1e-12);
        assert_eq!(s.at(1e6), 1.0);
    }

    #[test]
    fn same_result_whatever_the_thread_count() {
        let (nx, ny) = (37, 29);
        let z: Vec<f32> = (0..nx * ny)
            .map(|k| 0.3 * ((k % nx) as f32 * 0.3).sin() * ((k / nx) as f32 * 0.2).cos())
            .collect();
        let mut s = Solver::new(nx, ny, 10.0, z, vec![0.03; nx * ny], Params::default());
        for k in 0..nx * ny {
            if k % nx < 10 {
                s.h[k] = (1.0 - s.z[k]).max(0.0);
            }
        }
        s.set_uniform_rain(1e-5);
        s.loss.fill(2e-6);
        s.finish_setup();
        let run = |threads, simd| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let mut s = s.clone();
            s.simd = simd;
            pool.install(|| s.advance_to(300.0)).unwrap();
            s
        };
        let (a, b) = (run(1, true), run(3, true));
        assert_eq!(a.h, b.h);
        assert_eq!(a.qx, b.qx);
        assert_eq!(a.balance, b.balance);
        assert!(a.steps > 10);
        // The baseline instruction set gives the same bits as the run-time-detected one.
        let c = run(2, false);
        assert_eq!(a.h, c.h);
        assert_eq!(a.qx, c.qx);
        assert_eq!(a.qy, c.qy);
        assert_eq!(a.balance, c.balance);
    }
}
