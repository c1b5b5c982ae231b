//! Plugin tests: the example scenario end to end, determinism, bad input, walls.

use std::path::Path;
use std::sync::Arc;

use super::*;
use crate::run::{prepare_city, run};
use crate::scenario::{load, parse};
use crate::testing::{evacuate_around_closure, run_text, scenario_dir};

fn err_of(text: &str) -> String {
    match run_text(text) {
        Ok(_) => panic!("expected an error"),
        Err(e) => e,
    }
}

#[test]
fn example_runs_deterministically_with_kpis_and_ordered_events() {
    let loaded = load(&scenario_dir().join("crowd-example.toml")).expect("example loads");
    let city = Arc::new(prepare_city(&loaded).expect("city"));
    let a = run(&loaded, &city, 7, |_| {}).expect("first run");
    let b = run(&loaded, &city, 7, |_| {}).expect("second run");
    assert_eq!(a.timeseries_csv, b.timeseries_csv);
    assert_eq!(a.events, b.events);
    assert!(a.events.windows(2).all(|w| w[0].t <= w[1].t));
    let k = &a.summary.kpis;
    for name in [
        "crowd.people",
        "crowd.not_safe_people",
        "crowd.peak_density_p_m2",
        "crowd.max_time_above_4_s",
    ] {
        assert!(k.contains_key(name), "KPI {name} missing");
    }
    assert_eq!(k["crowd.people"].value, 1000.0);
    // Everyone leaves a plaza with two open gates within five minutes.
    assert_eq!(k["crowd.not_safe_people"].value, 0.0);
    assert!(a.events.iter().any(|e| e.kind == "gate.closed"));
    assert!(a.events.iter().any(|e| e.kind == "evacuation.complete"));
    // Nobody used the east gate after it shut (20 s): its flow is zero from t = 21 s.
    let header: Vec<&str> = a
        .timeseries_csv
        .lines()
        .next()
        .unwrap()
        .split(',')
        .collect();
    let col = header
        .iter()
        .position(|h| *h == "crowd.gate.east.flow_p_s")
        .expect("east gate flow column");
    for line in a.timeseries_csv.lines().skip(1) {
        let v: Vec<f64> = line.split(',').map(|x| x.parse().unwrap()).collect();
        if v[0] > 21.0 {
            assert_eq!(
                v[col], 0.0,
                "people left through the shut gate at t = {}",
                v[0]
            );
        }
    }
    // A different seed gives a different run.
    let c = run(&loaded, &city, 8, |_| {}).expect("third run");
    assert_ne!(a.timeseries_csv, c.timeseries_csv);
}

#[test]
fn same_result_on_one_and_two_threads() {
    let loaded = load(&scenario_dir().join("crowd-example.toml")).expect("example loads");
    let city = Arc::new(prepare_city(&loaded).expect("city"));
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let two = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    let a = one.install(|| run(&loaded, &city, 7, |_| {}).expect("run"));
    let b = two.install(|| run(&loaded, &city, 7, |_| {}).expect("run"));
    assert_eq!(a.timeseries_csv, b.timeseries_csv);
    assert_eq!(a.events, b.events);
}

const PLAZA: &str = r#"
format = 1
name = "t"
seed = 1
[time]
duration_s = 60
tick_s = 1
[city]
source = "generate"
width_m = 100
height_m = 100
cell_m = 10
[[hazards]]
kind = "crowd"
[hazards.venue]
shape = "rectangle"
width_m = 20
height_m = 10
gates = [{ name = "w", bearing_deg = 270, width_m = GATE }]
[[hazards.venue.groups]]
name = "g"
people = PEOPLE
area = AREA
"#;

fn plaza(gate: &str, people: &str, area: &str) -> String {
    PLAZA
        .replace("GATE", gate)
        .replace("PEOPLE", people)
        .replace("AREA", area)
}

#[test]
fn bad_input_is_a_clear_error() {
    // Zero-width gate: named, with its line.
    let e = err_of(&plaza("0.0", "10", "[-5, -3, 5, 3]"));
    assert!(e.contains("gate `w`") && e.contains("narrower"), "{e}");
    assert!(e.contains("test.toml:19:"), "names the file and line: {e}");
    // People placed outside the venue.
    let e = err_of(&plaza("2.0", "10", "[30, 30, 40, 40]"));
    assert!(
        e.contains("group `g`") && e.contains("inside the venue"),
        "{e}"
    );
    // People placed inside the venue's box but not on its ground (the corner of an
    // ellipse).
    let e = err_of(
        &plaza("2.0", "10", "[-10, -5, -9.5, -4.5]").replace("\"rectangle\"", "\"ellipse\""),
    );
    assert!(
        e.contains("group `g`") && e.contains("no walkable ground"),
        "{e}"
    );
    // More people than the area can hold.
    let e = err_of(&plaza("2.0", "1000", "[-5, -3, 5, 3]"));
    assert!(e.contains("more than a crowd can physically hold"), "{e}");
    // A district with no shelter.
    let text = r#"
format = 1
name = "t"
[time]
duration_s = 60
tick_s = 1
[city]
source = "generate"
width_m = 300
height_m = 300
cell_m = 10
[plan]
remove_assets = ["SH-01"]
[[hazards]]
kind = "crowd"
[hazards.district]
premovement = { median_s = 60, log_sd = 0.5 }
"#;
    let e = err_of(text);
    assert!(e.contains("no reachable shelter"), "{e}");
    // Venue and district together.
    let both = plaza("2.0", "10", "[-5, -3, 5, 3]")
        + "[hazards.district]\npremovement = { median_s = 60, log_sd = 0.5 }\n";
    let e = err_of(&both);
    assert!(e.contains("exactly one"), "{e}");
}

/// `crucible check` reports the errors found against the city (gate, group and shelter
/// problems) without building a simulation, at the offending key.
#[test]
fn check_finds_city_errors_without_building() {
    let check = |text: &str| {
        let loaded = parse(text, "test.toml", Path::new(".")).unwrap();
        let city = prepare_city(&loaded).unwrap();
        crate::run::check(&loaded, &city, 1).map_err(|e| e.to_string())
    };
    assert!(check(&plaza("2.0", "10", "[-5, -3, 5, 3]")).is_ok());
    let e = check(&plaza("2.0", "1000", "[-5, -3, 5, 3]")).unwrap_err();
    assert!(e.contains("more than a crowd can physically hold"), "{e}");
    assert!(e.contains("venue.groups[0].people"), "names the key: {e}");
    let e =
        check(&plaza("2.0", "10", "[-10, -5, -9.5, -4.5]").replace("\"rectangle\"", "\"ellipse\""))
            .unwrap_err();
    assert!(e.contains("no walkable ground"), "{e}");
}

/// Output names are unique within a kind, so the outputs table can be a key; per-goal
/// gauges carry the `{id}` placeholder.
#[test]
fn outputs_table_is_consistent() {
    let all = outputs::OUTPUTS;
    for (k, a) in all.iter().enumerate() {
        for b in &all[k + 1..] {
            assert!(!(a.kind == b.kind && a.name == b.name), "{} twice", a.name);
        }
    }
    for d in [outputs::GATE_FLOW, outputs::SHELTER_OCCUPANCY] {
        assert!(d.name.contains("{id}") && d.description.contains("{id}"));
    }
}

#[test]
fn people_with_no_way_out_are_counted_not_lost() {
    // An inner wall boxes in the east end: those people can never leave.
    let text = plaza("2.0", "40", "[-9, -4, 9, 4]")
        .replace("gates =", "walls = [[4, -5.5, 4, 5.5]]\ngates =");
    let out = run_text(&text).expect("runs");
    let k = &out.summary.kpis;
    assert!(k["crowd.not_safe_people"].value > 0.0);
    assert!(out.summary.metrics["crowd.stranded_people"].max > 0.0);
    assert!(
        k["crowd.not_safe_people"].value < 40.0,
        "the west side gets out"
    );
}

#[test]
fn nobody_walks_through_a_wall() {
    // A wall splits the plaza; each half has its own gate. Track every person's side.
    let text = r#"
format = 1
name = "t"
seed = 4
[time]
duration_s = 40
tick_s = 1
[city]
source = "generate"
width_m = 100
height_m = 100
cell_m = 10
[[hazards]]
kind = "crowd"
[hazards.venue]
shape = "rectangle"
width_m = 20
height_m = 10
walls = [[0, -5.5, 0, 5.5]]
gates = [{ name = "w", bearing_deg = 270, width_m = 1.0 }, { name = "e", bearing_deg = 90, width_m = 1.0 }]
[[hazards.venue.groups]]
name = "g"
people = 150
"#;
    let loaded = parse(text, "t.toml", Path::new(".")).unwrap();
    let city = prepare_city(&loaded).unwrap();
    let mut sim = crate::run::build(&loaded, &city, 4).unwrap();
    let (cx, _) = (city.grid.x0 + city.grid.width_m() / 2.0, 0.0);
    let side = |sim: &mut Simulation| {
        let mut q = sim.world.query::<(&Pedestrian, &Position, &PedState)>();
        let mut v: Vec<(u32, bool, PedState)> = q
            .iter(&sim.world)
            .map(|(p, pos, s)| (p.id, pos.x > cx, *s))
            .collect();
        v.sort_by_key(|x| x.0);
        v
    };
    let start = side(&mut sim);
    assert_eq!(start.len(), 150);
    let mut moved = false;
    while !sim.clock().finished() {
        sim.step().unwrap();
        for (a, b) in start.iter().zip(side(&mut sim)) {
            assert_eq!(a.1, b.1, "person {} crossed the wall", a.0);
            moved |= b.2 == PedState::Sheltered;
        }
    }
    assert!(moved, "people did leave");
}

#[test]
fn district_fills_shelters_and_turns_people_away() {
    let text = r#"
format = 1
name = "t"
seed = 2
[time]
duration_s = 1800
tick_s = 2
[city]
source = "generate"
width_m = 600
height_m = 500
cell_m = 10
[outputs]
metrics_interval_s = 60
[plan]
add_assets = [
  { id = "SMALL", kind = "shelter", x = 300, y = 300, capacity = 200 },
  { id = "BIG", kind = "shelter", x = 100, y = 450, capacity = 1000000 },
]
[[hazards]]
kind = "crowd"
reroute_interval_s = 30
[hazards.district]
people_per_agent = 20
warning_s = 10
premovement = { median_s = 60, log_sd = 0.3 }
"#;
    let out = run_text(text).expect("runs");
    let full: Vec<_> = out
        .events
        .iter()
        .filter(|e| e.kind == "shelter.full")
        .collect();
    assert!(
        full.iter()
            .any(|e| e.place.as_ref().unwrap().name.as_deref() == Some("SMALL")),
        "the small shelter fills"
    );
    let small = &out.summary.metrics["crowd.shelter.SMALL.occupancy_people"];
    // Filled to capacity, overshooting by less than one agent (20 people).
    assert!(small.max >= 200.0 && small.max < 220.0, "{}", small.max);
    assert!(out.summary.kpis["crowd.people"].value > 1000.0);
    assert!(out.events.iter().any(|e| e.kind == "evacuation.ordered"));
}

/// Runs the venue and district scenarios and prints their KPIs and wall time (for the
/// docs): `cargo test -p crucible-engine --lib scenario_report -- --ignored --nocapture`.
#[test]
#[ignore = "minutes-long report run for the docs (CROWD_SCENARIO=...); every example scenario is checked in tests/cli.rs, crowd-example runs in this module and the district mechanics in district_fills_shelters_and_turns_people_away"]
fn scenario_report() {
    let only = std::env::var("CROWD_SCENARIO").ok();
    let secs: Option<f64> = std::env::var("CROWD_DURATION")
        .ok()
        .and_then(|v| v.parse().ok());
    for name in ["crowd-stadium.toml", "crowd-district.toml"] {
        if only.as_deref().is_some_and(|o| o != name) {
            continue;
        }
        let mut loaded = load(&scenario_dir().join(name)).expect("loads");
        if let Some(d) = secs {
            loaded.scenario.time.duration_s = d;
        }
        let city = Arc::new(prepare_city(&loaded).expect("city"));
        let t = std::time::Instant::now();
        let out = run(&loaded, &city, loaded.scenario.seed, |_| {}).expect("runs");
        println!("== {name}: {:.1} s wall", t.elapsed().as_secs_f64());
        for line in out.timeseries_csv.lines().step_by(2) {
            println!("{line}");
        }
        for (k, v) in &out.summary.kpis {
            if k.starts_with("crowd.") {
                println!("{k} = {}", v.value);
            }
        }
        for v in &out.summary.standards {
            println!("standard {v:?}");
        }
        for (k, n) in &out.summary.events_by_kind {
            println!("events {k}: {n}");
        }
    }
}

#[test]
fn flooded_streets_send_people_to_another_shelter() {
    // Two shelters; the streets round NEAR are closed to walkers (FLOOD_WALK) before
    // the order: nobody may reach it, everyone goes to FAR.
    let sim = evacuate_around_closure(crate::coupling::blocked::FLOOD_WALK, "");
    let m = sim.world.resource::<Metrics>();
    let near = m.stats("crowd.shelter.NEAR.occupancy_people").unwrap();
    let far = m.stats("crowd.shelter.FAR.occupancy_people").unwrap();
    assert_eq!(near.max, 0.0, "nobody crosses the flooded streets");
    assert!(far.last > 0.0, "people go to the other shelter");
}
