//! Whole runs and compound ticks: the end-to-end cost a batch pays per run.

use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use crucible_engine::run::{build, prepare_city, run};
use crucible_engine::scenario::load;

fn scenario(rel: &str) -> crucible_engine::scenario::LoadedScenario {
    load(&Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)).expect("bundled scenario loads")
}

fn whole_runs(c: &mut Criterion) {
    let mut g = c.benchmark_group("run");
    g.sample_size(10);
    for (name, rel) in [
        ("small_test_district", "tests/data/small.toml"),
        ("flood_gate_case", "benches/gate/flood.toml"),
    ] {
        let loaded = scenario(rel);
        let city = Arc::new(prepare_city(&loaded).expect("city"));
        g.throughput(Throughput::Elements(1));
        g.bench_function(name, |b| {
            b.iter(|| black_box(run(&loaded, &city, 7, |_| {}).expect("run")))
        });
    }
    g.finish();
}

/// One tick of the compound scenario (typhoon, flood, fire, crowd, lifelines together),
/// measured after an hour of simulated storm so every plugin is active.
fn compound_tick(c: &mut Criterion) {
    let rel = "scenarios/typhoon-compound.toml";
    if !Path::new(env!("CARGO_MANIFEST_DIR")).join(rel).exists() {
        return;
    }
    let loaded = scenario(rel);
    let city = prepare_city(&loaded).expect("city");
    let mut sim = build(&loaded, &city, 7).expect("build");
    let warm = (3600.0 / loaded.scenario.time.tick_s).ceil() as u64;
    for _ in 0..warm {
        if sim.clock().finished() || sim.step().is_err() {
            return;
        }
    }
    let mut g = c.benchmark_group("compound");
    g.sample_size(10);
    g.throughput(Throughput::Elements(city.grid.len() as u64));
    g.bench_function("tick", |b| {
        b.iter(|| {
            if !sim.clock().finished() {
                sim.step().expect("tick");
                black_box(sim.clock().tick);
            }
        })
    });
    g.finish();
}

criterion_group!(benches, whole_runs, compound_tick);
criterion_main!(benches);
