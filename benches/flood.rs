//! Overland-flow throughput (cell-updates per second) of the full flood solver step
//! (fluxes, limiter, rain, losses, mass accounting) on the dam-break problem:
//! 10 m cells, n = 0.03, bed z = 0.5 sin(x/300) cos(y/300), water surface at 3 m over
//! the western 30 %, closed edges, 1 and 2 threads, with and without the run-time-detected
//! vector kernel.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use crucible_engine::hazards::flood::solver::{Params, Solver};

fn dam_break(n: usize) -> Solver {
    let dx = 10.0;
    let z: Vec<f32> = (0..n * n)
        .map(|k| {
            let (x, y) = (((k % n) as f64 + 0.5) * dx, ((k / n) as f64 + 0.5) * dx);
            (0.5 * (x / 300.0).sin() * (y / 300.0).cos()) as f32
        })
        .collect();
    let mut s = Solver::new(n, n, dx, z, vec![0.03; n * n], Params::default());
    for k in 0..n * n {
        if (k % n) < n * 3 / 10 {
            s.h[k] = (3.0 - s.z[k]).max(0.0);
        }
    }
    // Rain and drainage on, so their cost is in the figure.
    s.set_uniform_rain(2.0e-5);
    s.loss.fill(1.0e-5);
    s.finish_setup();
    // Let the wave start so fronts and wet/dry faces are present.
    s.advance_to(60.0).unwrap();
    s
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("flood_step");
    g.sample_size(10);
    for n in [1000usize, 2000] {
        let base = dam_break(n);
        g.throughput(Throughput::Elements((n * n) as u64));
        for threads in [1usize, 2] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            // `simd`: the kernel built for the widest vector set the CPU has (AVX-512 or
            // AVX2, detected at run time, bit-identical results); `base`: the build's
            // baseline instruction set only (SSE2 for the portable x86-64 build).
            let variants: &[(bool, &str)] = if n == 1000 {
                &[(true, "simd"), (false, "base")]
            } else {
                &[(true, "simd")]
            };
            for &(simd, label) in variants {
                let mut s = base.clone();
                s.simd = simd;
                let dt = s.stable_dt();
                g.bench_with_input(
                    BenchmarkId::new(format!("{n}x{n}"), format!("{threads}t-{label}")),
                    &threads,
                    |b, _| {
                        b.iter(|| pool.install(|| black_box(&mut s).step(dt).unwrap()));
                    },
                );
            }
        }
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
