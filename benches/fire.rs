//! Fire benches: the spread step on a 2,000 × 2,000 grid (active front) and the station
//! coverage map of a 2,000 × 2,000 generated district with its road graph.

use std::hint::black_box;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use crucible_engine::city::generate::{GenerateSpec, generate};
use crucible_engine::city::{
    AssetKind, Building, BuildingUse, City, Construction, LandUse, NO_BUILDING,
};
use crucible_engine::grid::GridSpec;
use crucible_engine::hazards::fire::coverage::{Limits, coverage};
use crucible_engine::hazards::fire::roads::RoadNet;
use crucible_engine::hazards::fire::spread::{Spread, Wind};
use crucible_engine::hazards::fire::{FireSpec, spread_setup};
use crucible_engine::rng::RngStreams;

/// 2,000 × 2,000 cells of 2 m: 10 × 10 m wooden buildings with 4-m gaps (7-cell pitch).
fn block_city() -> City {
    let n = 2000;
    let mut city = City::flat(GridSpec::new(n, n, 2.0));
    let (a, p) = (5, 7);
    let per_row = n.div_ceil(p);
    for j in 0..n {
        for i in 0..n {
            if i % p >= a || j % p >= a {
                continue;
            }
            let id = ((j / p) * per_row + i / p) as u32;
            let k = j * n + i;
            city.landuse[k] = LandUse::Building;
            city.building[k] = id;
        }
    }
    let count = per_row * per_row;
    city.buildings = (0..count)
        .map(|_| Building {
            storeys: 2,
            height_m: 6.0,
            use_: BuildingUse::Residential,
            construction: Construction::Wooden,
            occupants_day: 0.0,
            occupants_night: 0.0,
            value_yuan: 0.0,
            footprint_m2: 100.0,
            anchor: 0,
        })
        .collect();
    for (k, &b) in city.building.iter().enumerate() {
        if b != NO_BUILDING && city.buildings[b as usize].anchor == 0 {
            city.buildings[b as usize].anchor = k as u32;
        }
    }
    city
}

fn spread_step(c: &mut Criterion) {
    let city = block_city();
    let mut spec: FireSpec = serde_json::from_str("{}").expect("defaults");
    spec.wind_speed_m_s = 5.0;
    spec.wind_from_deg = 270.0;
    let setup = spread_setup(&city, &spec, &RngStreams::new(1)).expect("setup");
    let mut sp = Spread::new(setup);
    let (nx, ny) = (city.grid.nx, city.grid.ny);
    // A building cell (pitch 7, buildings in the first 5 cells of each pitch).
    let _ = ny;
    sp.ignite(1003 * nx + 499, 0.0, 0);
    let wind = Wind::Uniform(5.0, 0.0);
    let mut out = Vec::new();
    // Four hours of spread: a front of several thousand cells.
    let t0 = 4.0 * 3600.0;
    sp.advance(t0, wind, &mut out);
    let step = 600.0;
    let mut probe = sp.clone();
    let before = probe.updates;
    let clock = std::time::Instant::now();
    probe.advance(t0 + step, wind, &mut out);
    let once = clock.elapsed();
    let updates = probe.updates - before;
    eprintln!("spread: one step timed alone: {once:?}");
    eprintln!(
        "spread: {} cells reached by t0, {} front updates in one {step}-s step, front {} events",
        sp.updates,
        updates,
        probe.front_len()
    );
    let mut g = c.benchmark_group("fire");
    g.sample_size(10);
    // The same step reported per front update and per grid cell.
    for (name, elements) in [
        ("spread_step_600s_2000x2000_front_updates", updates),
        ("spread_step_600s_2000x2000_grid_cells", (nx * ny) as u64),
    ] {
        g.throughput(Throughput::Elements(elements));
        g.bench_function(name, |b| {
            b.iter_batched(
                || sp.clone(),
                |mut s| {
                    let mut out = Vec::new();
                    s.advance(t0 + step, wind, &mut out);
                    // Returned, so the 100-MB state is dropped outside the timing.
                    black_box(s)
                },
                BatchSize::LargeInput,
            )
        });
    }
    g.finish();
}

fn coverage_map(c: &mut Criterion) {
    let city = generate(&GenerateSpec::new(20_000.0, 20_000.0, 10.0));
    let g = city.grid;
    let land: Vec<bool> = city
        .landuse
        .iter()
        .map(|l| !matches!(l, LandUse::Water | LandUse::Sea))
        .collect();
    let calls: Vec<f32> = city
        .building
        .iter()
        .map(|&b| if b == NO_BUILDING { 0.0 } else { 1.0 })
        .collect();
    let limits = Limits {
        cn_travel_s: 240.0,
        nfpa_travel_s: 240.0,
    };
    let mut grp = c.benchmark_group("fire");
    grp.sample_size(10);
    grp.throughput(Throughput::Elements(g.len() as u64));
    grp.bench_function("road_graph_2000x2000", |b| {
        b.iter(|| black_box(RoadNet::from_city(&city, 1.0, 150.0)))
    });
    let net = RoadNet::from_city(&city, 1.0, 150.0);
    let stations: Vec<u32> = city
        .assets
        .iter()
        .filter(|a| a.kind == AssetKind::FireStation)
        .filter_map(|a| g.locate(a.x, a.y))
        .map(|(i, j)| net.access[g.index(i, j)])
        .collect();
    eprintln!("coverage: {} stations", stations.len());
    grp.bench_function("coverage_map_2000x2000", |b| {
        b.iter(|| black_box(coverage(&net, &stations, &land, &calls, limits)))
    });
    grp.finish();
}

criterion_group!(benches, spread_step, coverage_map);
criterion_main!(benches);
