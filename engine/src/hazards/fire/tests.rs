//! The fire hazard's tests: bundled scenario runs, errors named by key, ignitions and
//! coverage warnings on a small city.

use std::path::Path;
use std::sync::Arc;

use bevy_ecs::prelude::*;

use super::FirePlugin;
use super::setup::random_ignitions;
use super::spec::{FireSpec, RandomSpec, UseRates};
use crate::city::assets::{Operational, spawn_assets};
use crate::city::{
    Asset, AssetKind, AssetSpec, Building, BuildingUse, City, Construction, LandUse, NO_BUILDING,
    RoadClass,
};
use crate::events::EventLog;
use crate::grid::GridSpec;
use crate::metrics::Metrics;
use crate::rng::RngStreams;
use crate::run::{check, prepare_city, run};
use crate::scenario::{load, parse};
use crate::sim::Simulation;

fn example_text() -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/fire-example.toml");
    std::fs::read_to_string(p).expect("example scenario")
}

#[test]
fn example_runs_deterministically_with_a_response() {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/fire-example.toml");
    let loaded = load(&p).expect("loads");
    let city = Arc::new(prepare_city(&loaded).expect("city"));
    let a = run(&loaded, &city, 7, |_| {}).expect("runs");
    let b = run(&loaded, &city, 7, |_| {}).expect("runs");
    assert_eq!(a.timeseries_csv, b.timeseries_csv);
    assert_eq!(a.events, b.events);
    assert!(
        a.events.windows(2).all(|w| w[0].t <= w[1].t),
        "events in time order"
    );
    let kinds = |k: &str| a.events.iter().filter(|e| e.kind == k).count();
    assert_eq!(kinds("fire.ignited"), 2);
    assert_eq!(kinds("fire.reported"), 2);
    assert!(kinds("engine.dispatched") >= 2);
    assert!(kinds("engine.arrived") >= 2);
    assert!(kinds("fire.out") >= 1, "a fire is put out within two hours");
    for k in [
        "fire.coverage_5min_share",
        "fire.nfpa1710_travel_240s_share",
        "fire.deaths",
        "fire.deaths_per_100k",
        "fire.response_time_mean_s",
    ] {
        assert!(a.summary.kpis.contains_key(k), "KPI {k}");
    }
    let share = a.summary.kpis["fire.coverage_5min_share"].value;
    assert!((0.0..=1.0).contains(&share));
    // Response: alarm handling + turnout + travel, so at least 79 + 80 s.
    for e in a.events.iter().filter(|e| e.kind == "engine.arrived") {
        let r = e.data["response_time_s"].as_f64().unwrap();
        assert!((80.0..3600.0).contains(&r), "response {r}");
    }
    assert!(a.maps.iter().any(|m| m.name == "fire_travel_time"));
    assert_eq!(a.summary.standards.len(), 3);
}

#[test]
fn spread_across_narrow_gaps_is_fought_and_ends() {
    // Allow crossing the generated city's 20-m gaps: fires spread between buildings
    // until engines hold them.
    let text = example_text().replace(
        "wind_from_deg = 45.0\n\n#",
        "wind_from_deg = 45.0\nfirebreak_m = 25.0\n\n#",
    );
    assert!(text.contains("firebreak_m = 25.0"));
    let loaded = parse(&text, "fire-wide.toml", Path::new(".")).expect("parses");
    let city = Arc::new(prepare_city(&loaded).expect("city"));
    let out = run(&loaded, &city, 3, |_| {}).expect("runs");
    let s = &out.summary;
    let burning = &s.metrics["fire.burning_area_m2"];
    assert!(burning.max > 0.0 && burning.min >= 0.0);
    assert!(s.metrics["fire.deaths"].min >= 0.0);
    let affected = s.kpis["fire.affected_area_m2"].value;
    assert!(affected >= burning.max, "affected area only grows");
    assert!(
        out.events
            .iter()
            .any(|e| e.kind == "fire.contained" || e.kind == "fire.out"),
        "the service holds a fire"
    );
}

#[test]
fn bad_ignitions_and_stations_are_named() {
    let water = example_text().replace("x = 1215.0\ny = 1385.0", "x = 10.0\ny = 10.0");
    let loaded = parse(&water, "bad.toml", Path::new(".")).expect("parses");
    let city = Arc::new(prepare_city(&loaded).expect("city"));
    let err = match run(&loaded, &city, 1, |_| {}) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("an ignition in the sea must be refused"),
    };
    assert!(
        err.contains("hazards[1].ignitions[0]") && err.contains("sea"),
        "{err}"
    );
    let road = example_text().replace("x = 1215.0\ny = 1385.0", "x = 1565.0\ny = 995.0");
    let loaded = parse(&road, "bad.toml", Path::new(".")).expect("parses");
    let err = match run(&loaded, &city, 1, |_| {}) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("an ignition on a road must be refused"),
    };
    assert!(err.contains("not in a building"), "{err}");
    // A station 10 m from the nearest road with a 5-m access limit.
    let off = example_text()
        .replace(
            "[[hazards]]\nkind = \"wind\"",
            "[[assets]]\nid = \"FS-X\"\nkind = \"fire_station\"\nx = 1215.0\ny = 1385.0\ncapacity = 2\n\n[[hazards]]\nkind = \"wind\"",
        )
        .replace(
            "[[standards]]\nid = \"station-5min\"",
            "[hazards.service]\nhose_reach_m = 5.0\n\n[[standards]]\nid = \"station-5min\"",
        );
    let loaded = parse(&off, "bad.toml", Path::new(".")).expect("parses");
    let city2 = Arc::new(prepare_city(&loaded).expect("city"));
    let err = match run(&loaded, &city2, 1, |_| {}) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("a station off the road network must be refused"),
    };
    assert!(
        err.contains("FS-X") && err.contains("off the road network"),
        "{err}"
    );
}

#[test]
fn check_names_bad_ignitions_and_stations_without_a_simulation() {
    // `crucible check` runs the plugin's pure setup: the same errors, nothing built.
    let example = parse(&example_text(), "fire.toml", Path::new(".")).expect("parses");
    let city = prepare_city(&example).expect("city");
    check(&example, &city, 1).expect("the example is fine");
    let late = example_text().replace("t_s = 60.0", "t_s = 1e9");
    assert!(late.contains("t_s = 1e9"));
    let loaded = parse(&late, "bad.toml", Path::new(".")).expect("parses");
    let err = check(&loaded, &city, 1).expect_err("an ignition after the end");
    assert!(
        err.to_string().contains("hazards[1].ignitions[0].t_s"),
        "{err}"
    );
    let road = example_text().replace("x = 1215.0\ny = 1385.0", "x = 1565.0\ny = 995.0");
    let loaded = parse(&road, "bad.toml", Path::new(".")).expect("parses");
    let err = check(&loaded, &city, 1).expect_err("an ignition on a road");
    assert!(err.to_string().contains("not in a building"), "{err}");
    let off = example_text()
        .replace(
            "[[hazards]]\nkind = \"wind\"",
            "[[assets]]\nid = \"FS-X\"\nkind = \"fire_station\"\nx = 1215.0\ny = 1385.0\ncapacity = 2\n\n[[hazards]]\nkind = \"wind\"",
        )
        .replace(
            "[[standards]]\nid = \"station-5min\"",
            "[hazards.service]\nhose_reach_m = 5.0\n\n[[standards]]\nid = \"station-5min\"",
        );
    let loaded = parse(&off, "bad.toml", Path::new(".")).expect("parses");
    let city2 = prepare_city(&loaded).expect("city");
    let err = check(&loaded, &city2, 1).expect_err("a station off the road network");
    assert!(
        err.to_string().contains("FS-X") && err.to_string().contains("off the road network"),
        "{err}"
    );
}

/// A 40 × 40 flat city of 10-m cells: a road along row 20, 3 × 3-cell buildings on
/// both sides, one fire station and one substation.
fn small_city() -> City {
    let mut city = City::flat(GridSpec::new(40, 40, 10.0));
    for i in 0..40 {
        city.road[20 * 40 + i] = RoadClass::Collector;
        city.landuse[20 * 40 + i] = LandUse::Road;
    }
    for (bx, by) in [(5usize, 16usize), (15, 16), (25, 22), (32, 22)] {
        let id = city.buildings.len() as u32;
        city.buildings.push(Building {
            storeys: 4,
            height_m: 12.0,
            use_: BuildingUse::Residential,
            construction: Construction::FireResistive,
            occupants_day: 10.0,
            occupants_night: 40.0,
            value_yuan: 1e6,
            footprint_m2: 900.0,
            anchor: (by * 40 + bx) as u32,
        });
        for j in by..by + 3 {
            for i in bx..bx + 3 {
                city.landuse[j * 40 + i] = LandUse::Building;
                city.building[j * 40 + i] = id;
            }
        }
    }
    city
}

/// A simulation of `city` with one fire station (west end of the road) and one
/// substation (mid-road), as the core spawns them from the city's assets; returns the
/// substation's entity.
fn sim_with(city: City, spec: &FireSpec, duration: f64) -> (Simulation, Entity) {
    let mut sim = Simulation::new(5, 10.0, duration, 60.0);
    let mut city = city;
    let g = city.grid;
    for (id, kind, i, j, capacity) in [
        ("FS-1", AssetKind::FireStation, 2usize, 20usize, 2.0),
        ("SUB-1", AssetKind::Substation, 20, 20, 100.0),
    ] {
        let (x, y) = g.center(i, j);
        city.assets.push(AssetSpec {
            id: id.into(),
            kind,
            x,
            y,
            capacity,
            depends_on: vec![],
        });
    }
    spawn_assets(&mut sim.world, &city.assets, &g);
    let sub = sim
        .world
        .query::<(Entity, &Asset)>()
        .iter(&sim.world)
        .find(|(_, a)| a.kind == AssetKind::Substation)
        .map(|(e, _)| e)
        .expect("substation");
    sim.world.insert_resource(city);
    sim.add_plugin_standalone(&FirePlugin(spec), 0)
        .expect("builds");
    (sim, sub)
}

#[test]
fn a_failed_substation_starts_a_fire_when_switched_on() {
    for p in [0.0, 1.0] {
        let mut spec: FireSpec = toml::from_str("").expect("defaults");
        spec.secondary.substation_failure_probability = p;
        let (mut sim, sub) = sim_with(small_city(), &spec, 600.0);
        sim.step().expect("tick");
        sim.world.entity_mut(sub).insert(Operational(false));
        while !sim.clock().finished() {
            sim.step().expect("tick");
        }
        let log = sim.world.resource::<EventLog>();
        let fires: Vec<_> = log
            .events()
            .iter()
            .filter(|e| e.kind == "fire.ignited")
            .collect();
        if p == 0.0 {
            assert!(fires.is_empty(), "the hook is off by default");
        } else {
            assert_eq!(fires.len(), 1);
            assert!(fires[0].message.contains("substation SUB-1"));
            assert_eq!(fires[0].t, 10.0, "in the tick the failure is seen");
        }
    }
}

#[test]
fn random_ignitions_follow_the_floor_area_rate() {
    let city = small_city();
    let r = RandomSpec {
        rates_per_m2_year: UseRates::default(),
        multiplier: 1e4,
    };
    // 4 buildings × 900 m² × 4 storeys × 9.6e-6 × 1e4 per year, over 30 days.
    let duration = 30.0 * 86_400.0;
    let lambda = 4.0 * 3600.0 * 9.6e-6 * 1e4 * duration / (365.25 * 86_400.0);
    let rng = RngStreams::new(11);
    let a = random_ignitions(&city, &r, duration, &rng);
    let b = random_ignitions(&city, &r, duration, &rng);
    assert_eq!(a, b, "same seed, same fires");
    let n = a.len() as f64;
    assert!(
        (n - lambda).abs() < 5.0 * lambda.sqrt(),
        "{n} fires, expected {lambda:.1}"
    );
    assert!(a.windows(2).all(|w| w[0].0 <= w[1].0));
    assert!(a.iter().all(|f| city.building[f.1 as usize] != NO_BUILDING));
    let other = random_ignitions(&city, &r, duration, &RngStreams::new(12));
    assert_ne!(a, other);
}

#[test]
fn a_road_piece_without_a_station_is_reported() {
    let mut city = small_city();
    for i in 30..36 {
        city.road[35 * 40 + i] = RoadClass::Local;
        city.landuse[35 * 40 + i] = LandUse::Road;
    }
    let spec: FireSpec = toml::from_str("").expect("defaults");
    let (sim, _) = sim_with(city, &spec, 60.0);
    let log = sim.world.resource::<EventLog>();
    let e = log
        .events()
        .iter()
        .find(|e| e.kind == "coverage.disconnected")
        .expect("warned");
    let p = e.place.as_ref().expect("a place");
    assert_eq!(p.cell, Some([30, 35]), "where the cut-off piece begins");
    let m = sim.world.resource::<Metrics>();
    assert!(m.kpis()["fire.coverage_unreachable_share"].value > 0.0);
}
