//! Crowd benches: agent-steps per second of the collision-free speed model on an open
//! plaza and a bottleneck at 10,000 and 100,000 people on 1 and 2 threads; the ECS
//! write-back per tick; and the fast-marching navigation field at two grid sizes.
//!
//! `cargo bench --bench crowd -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;
use std::time::{Duration, Instant};

use bevy_ecs::prelude::*;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use crucible_engine::hazards::crowd::layout::Layout;
use crucible_engine::hazards::crowd::model::{Agents, Crowd, CsmParams, ModelKind};
use crucible_engine::hazards::crowd::navigation::{Field, NavGrid};
use crucible_engine::hazards::crowd::{Position, Velocity};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// People on a lattice with jitter at `rho` P/m² in the rectangle, speeds U(1.0, 1.5).
fn fill(rect: [f32; 4], n: usize, r: f32, seed: u64) -> Agents {
    let [x0, y0, x1, y1] = rect;
    let area = (x1 - x0) * (y1 - y0);
    let s = (area / n as f32).sqrt();
    let per_row = ((x1 - x0) / s).floor() as usize;
    let sy = (y1 - y0) / n.div_ceil(per_row) as f32;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut a = Agents::default();
    for k in 0..n {
        let (i, j) = (k % per_row, k / per_row);
        let jit = (s.min(sy) - 2.0 * r).max(0.0) * 0.4;
        let x = x0 + (i as f32 + 0.5) * s + rng.random_range(-jit..=jit);
        let y = y0 + (j as f32 + 0.5) * sy + rng.random_range(-jit..=jit);
        a.push(k as u32, x, y, rng.random_range(1.0..1.5), r, 0, 0.0);
    }
    a
}

/// Open plaza at 1 P/m² (2:1 rectangle), walking to the east edge.
fn plaza(n: usize) -> Crowd {
    let h = ((n as f32) / 2.0).sqrt().ceil();
    let w = 2.0 * h;
    let mut l = Layout::new(w + 4.0, h, 0.5);
    l.open(0.0, 0.0, w + 4.0, h);
    l.goal(w + 2.0, 0.0, w + 4.0, h);
    let p = CsmParams::egress();
    let a = fill([0.3, 0.3, w - 0.3, h - 0.3], n, p.radius, 1);
    l.build(a, ModelKind::Csm, p, None, 1)
}

/// A square room at 2 P/m² with one 1 m door in the east wall.
fn bottleneck(n: usize) -> Crowd {
    let s = ((n as f32) / 2.0).sqrt().ceil();
    let mut l = Layout::new(s + 4.0, s, 0.5);
    l.open(0.0, 0.0, s, s);
    l.open(s - 0.1, s / 2.0 - 0.5, s + 0.6, s / 2.0 + 0.5);
    l.open(s + 0.5, 0.0, s + 4.0, s);
    l.goal(s + 3.0, 0.0, s + 4.0, s);
    let p = CsmParams::egress();
    let a = fill([0.3, 0.3, s - 0.3, s - 0.3], n, p.radius, 2);
    l.build(a, ModelKind::Csm, p, None, 2)
}

/// CPU time of this process (all threads), s, from /proc/self/stat (Linux); 0 elsewhere.
/// The machine is shared: agent-steps per CPU-second are what the code does with the
/// cores it actually got.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the parenthesised command name; utime and stime are 14 and 15.
    let rest = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |k: usize| f.get(k).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // Clock ticks per second: 100 on every Linux configuration in practice.
    (ticks(11) + ticks(12)) / 100.0
}

/// Steps timed from one initial state: 3 s of simulated time at dt = 0.05 s, the span
/// `benches/jupedsim_compare.py` times JuPedSim over (300 steps of 0.01 s).
const WINDOW: u64 = 60;

fn steps(c: &mut Criterion) {
    let mut g = c.benchmark_group("crowd_step");
    g.sample_size(10);
    for (name, make) in [
        ("plaza", plaza as fn(usize) -> Crowd),
        ("bottleneck", bottleneck),
    ] {
        for n in [10_000usize, 100_000] {
            let base = make(n);
            let bytes = base.agents.len() * Crowd::bytes_per_agent() + base.cells.bytes();
            eprintln!(
                "{name} n={n}: {} bytes/agent (arrays + cell list), walls {} B, fields {} B",
                bytes / n,
                base.walls.bytes(),
                base.fields.iter().map(Field::bytes).sum::<usize>()
            );
            g.throughput(Throughput::Elements(n as u64));
            for threads in [1usize, 2] {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .expect("pool");
                let (mut total_steps, mut total_cpu, mut total_wall) = (0u64, 0.0f64, 0.0f64);
                g.bench_with_input(
                    BenchmarkId::new(format!("{name}/{threads}t"), n),
                    &n,
                    |b, _| {
                        b.iter_custom(|iters| {
                            // Every sample times steps from the same window of the
                            // scenario: restart from the initial state every WINDOW
                            // steps (outside the timing). Otherwise the more
                            // iterations a sample runs, the further the crowd has
                            // walked and piled up in the goal strip (nobody is removed
                            // here), and faster configurations would be timed on a
                            // denser, slower crowd.
                            let mut el = Duration::ZERO;
                            let mut done = 0;
                            while done < iters {
                                let k = (iters - done).min(WINDOW);
                                let mut c = base.clone();
                                // Settle the first step's allocations out of the timing.
                                pool.install(|| c.step(0.05));
                                let cpu0 = cpu_seconds();
                                let t = Instant::now();
                                pool.install(|| {
                                    for _ in 0..k {
                                        c.step(0.05);
                                    }
                                });
                                black_box(&c.agents.x);
                                el += t.elapsed();
                                total_cpu += cpu_seconds() - cpu0;
                                done += k;
                            }
                            total_steps += iters * n as u64;
                            total_wall += el.as_secs_f64();
                            el
                        })
                    },
                );
                if total_cpu > 0.0 {
                    eprintln!(
                        "{name}/{threads}t n={n}: {:.3e} agent-steps per CPU-second, \
                         {:.3e} per wall-second (all samples, warm-up included; the CPU \
                         figure counts the timed steps only)",
                        total_steps as f64 / total_cpu,
                        total_steps as f64 / total_wall
                    );
                }
            }
        }
    }
    g.finish();
}

/// Writing the dense state back to 100,000 ECS entities, as the plugin does per tick.
fn ecs_writeback(c: &mut Criterion) {
    let n = 100_000;
    let mut world = World::new();
    let ents: Vec<Entity> = (0..n)
        .map(|_| {
            world
                .spawn((Position { x: 0.0, y: 0.0 }, Velocity { vx: 0.0, vy: 0.0 }))
                .id()
        })
        .collect();
    let xs: Vec<f32> = (0..n).map(|k| k as f32).collect();
    let mut g = c.benchmark_group("crowd_ecs");
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function("writeback_100k", |b| {
        b.iter(|| {
            let mut q = world.query::<(&mut Position, &mut Velocity)>();
            for (k, &e) in ents.iter().enumerate() {
                if let Ok((mut p, mut v)) = q.get_mut(&mut world, e) {
                    p.x = f64::from(xs[k]);
                    p.y = f64::from(xs[k]);
                    v.vx = xs[k];
                    v.vy = xs[k];
                }
            }
        })
    });
    g.finish();
}

fn fast_marching(c: &mut Criterion) {
    let mut g = c.benchmark_group("crowd_navigation");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(3));
    for side in [400usize, 1000] {
        let grid = NavGrid {
            nx: side,
            ny: side,
            h: 0.5,
            x0: 0.0,
            y0: 0.0,
            speed: (0..side * side)
                .map(|k| {
                    if (k / side) % 40 == 20 && k % side > 10 {
                        0.0
                    } else {
                        1.0
                    }
                })
                .collect(),
        };
        g.throughput(Throughput::Elements((side * side) as u64));
        g.bench_with_input(BenchmarkId::new("fmm", side * side), &grid, |b, grid| {
            b.iter(|| black_box(Field::compute(grid, &[0])))
        });
    }
    g.finish();
}

criterion_group!(benches, steps, ecs_writeback, fast_marching);
criterion_main!(benches);
