//! City generation throughput (cells per second) at two sizes.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use crucible_engine::city::generate::{GenerateSpec, generate};

fn city_generation(c: &mut Criterion) {
    let mut g = c.benchmark_group("city_generate");
    g.sample_size(10);
    for (name, side_m) in [("500x500", 5_000.0), ("2000x2000", 20_000.0)] {
        let spec = GenerateSpec::new(side_m, side_m, 10.0);
        g.throughput(Throughput::Elements(spec.grid().len() as u64));
        g.bench_function(name, |b| b.iter(|| black_box(generate(black_box(&spec)))));
    }
    g.finish();
}

criterion_group!(benches, city_generation);
criterion_main!(benches);
