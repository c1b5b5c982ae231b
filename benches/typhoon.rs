//! Wind-field evaluation throughput (cell evaluations per second) of the typhoon
//! forcing on 1000 × 1000 and 2000 × 2000 grids, storm centre ≈ 60 km from the grid.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use crucible_engine::hazards::typhoon::track::StormState;
use crucible_engine::hazards::typhoon::wind::{WindModel, WindParams, evaluate_grid};

fn bench_wind(c: &mut Criterion) {
    let mut group = c.benchmark_group("typhoon_wind_field");
    for n in [1000usize, 2000] {
        let cell = 10.0;
        let xs: Vec<f64> = (0..n).map(|i| (i as f64 + 0.5) * cell).collect();
        let ys: Vec<f64> = (0..n).map(|j| (n as f64 - j as f64 - 0.5) * cell).collect();
        // A sea strip on the south tenth of the grid.
        let water: Vec<bool> = (0..n * n).map(|k| k / n >= n * 9 / 10).collect();
        let storm = StormState {
            lat: 22.3,
            lon: 113.8,
            x: -40_000.0,
            y: -45_000.0,
            vmax: 45.0,
            pc: 95_500.0,
            rmw: 30_000.0,
            vt: (-5.0, 3.0),
            dpdt_hpa_h: 0.5,
            active: true,
        };
        for model in [WindModel::H08, WindModel::H10] {
            let params = WindParams::defaults(model);
            let (mut u, mut v, mut g) = (vec![0f32; n * n], vec![0f32; n * n], vec![0f32; n * n]);
            group.throughput(Throughput::Elements((n * n) as u64));
            group.bench_function(format!("{model:?}/{n}x{n}"), |b| {
                b.iter(|| {
                    evaluate_grid(
                        black_box(&storm),
                        &params,
                        &xs,
                        &ys,
                        &water,
                        &mut u,
                        &mut v,
                        &mut g,
                    );
                    black_box(g[n * n / 2])
                })
            });
        }
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = bench_wind
}
criterion_main!(benches);
