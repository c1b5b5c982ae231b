//! The flood plugin end to end: the example scenario, input errors with their keys,
//! sea, pumps, asset failures and blow-up reports.

use std::path::Path;
use std::sync::Arc;

use super::solver::{Params, Solver};
use super::state::FloodState;
use super::{FloodPlugin, FloodSpec};
use crate::city::assets::Operational;
use crate::city::{AssetKind, City, LandUse};
use crate::coupling::{Closures, RainRate, SeaLevel, WaterDepth};
use crate::events::EventLog;
use crate::run::{RunError, prepare_city, run};
use crate::scenario::{LoadedScenario, load, parse};
use crate::sim::Simulation;

fn example() -> LoadedScenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/flood-example.toml");
    load(&path).expect("the example loads")
}

#[test]
fn example_runs_deterministically_with_consistent_outputs() {
    let loaded = example();
    let city = Arc::new(prepare_city(&loaded).unwrap());
    let a = run(&loaded, &city, 7, |_| {}).unwrap();
    let b = run(&loaded, &city, 7, |_| {}).unwrap();
    assert_eq!(a.timeseries_csv, b.timeseries_csv);
    assert_eq!(a.events, b.events);
    // Events in time order (flood and design-storm warnings), all with a place.
    assert!(a.events.windows(2).all(|w| w[0].t <= w[1].t));
    assert!(a.events.iter().any(|e| e.kind == "road.closed"));
    assert!(a.events.iter().all(|e| e.place.is_some()));
    let k = &a.summary.kpis;
    for name in [
        "flood.direct_loss_yuan",
        "flood.people_exposed_extreme",
        "flood.waterlogging_compliant",
        "flood.volume_error_final",
    ] {
        assert!(k.contains_key(name), "KPI {name} missing");
    }
    assert!(
        k["flood.volume_error_final"].value < 1e-5,
        "{:?}",
        k["flood.volume_error_final"]
    );
    assert!(k["flood.direct_loss_yuan"].value > 0.0);
    // A 100-year storm on 3-year pipes floods roads: the standard fails here.
    assert_eq!(k["flood.waterlogging_compliant"].value, 0.0);
    assert!(a.summary.standards.iter().any(|v| !v.pass));
    assert_eq!(
        a.maps
            .iter()
            .filter(|m| m.name.starts_with("flood_"))
            .count(),
        3
    );
    let depth = a.maps.iter().find(|m| m.name == "flood_max_depth").unwrap();
    assert!(depth.data.iter().all(|d| d.is_nan() || *d >= 0.0));
}

fn with_flood(extra: &str) -> Result<LoadedScenario, crate::scenario::ScenarioError> {
    let text = format!(
        "format = 1\nname = \"t\"\n[time]\nduration_s = 600\ntick_s = 60\n[city]\nsource = \"generate\"\nwidth_m = 500\nheight_m = 400\ncell_m = 10\n[[hazards]]\nkind = \"flood\"\n{extra}"
    );
    parse(&text, "t.toml", Path::new("."))
}

fn build_error(loaded: &LoadedScenario) -> String {
    let city = Arc::new(prepare_city(loaded).unwrap());
    match run(loaded, &city, 1, |_| {}) {
        Err(RunError::Input(e)) => e.to_string(),
        Err(e) => panic!("expected an input error, got {e}"),
        Ok(_) => panic!("expected an input error"),
    }
}

#[test]
fn bad_inputs_name_their_key() {
    let e = with_flood("theta = 1.5\n").unwrap_err().to_string();
    assert!(e.contains("hazards[0].theta"), "{e}");
    let e = with_flood("[[hazards.boundaries]]\ntype = \"inflow\"\nat = [100.0, 100.0]\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("q_m3_s"), "{e}");
    let l = with_flood(
        "[[hazards.boundaries]]\ntype = \"inflow\"\nat = [9000.0, 100.0]\nq_m3_s = 1.0\n",
    )
    .unwrap();
    let e = build_error(&l);
    assert!(
        e.contains("hazards[0].boundaries[0].at") && e.contains("off the grid"),
        "{e}"
    );
    let l = with_flood(
        "[[hazards.boundaries]]\ntype = \"level\"\nedge = \"west\"\nfrom_m = 100.0\nto_m = 5000.0\nlevel_m = 1.0\n",
    )
    .unwrap();
    let e = build_error(&l);
    assert!(e.contains("hazards[0].boundaries[0].to_m"), "{e}");
}

/// `crucible check` runs the pure setup: the errors a build would give against the city
/// (a boundary off the grid, a bad initial depth file) come without a simulation.
#[test]
fn check_finds_city_errors_without_building() {
    let ok = with_flood("").unwrap();
    let city = prepare_city(&ok).unwrap();
    crate::run::check(&ok, &city, 1).expect("the plain flood checks");
    let l = with_flood(
        "[[hazards.boundaries]]\ntype = \"inflow\"\nat = [9000.0, 100.0]\nq_m3_s = 1.0\n",
    )
    .unwrap();
    let e = crate::run::check(&l, &city, 1).unwrap_err().to_string();
    assert!(
        e.contains("hazards[0].boundaries[0].at") && e.contains("off the grid"),
        "{e}"
    );
    assert_eq!(e, build_error(&l));
    let l = with_flood("initial_depth = \"no-such-file.asc\"\n").unwrap();
    let e = crate::run::check(&l, &city, 1).unwrap_err().to_string();
    assert!(
        e.contains("initial_depth") && e.contains("cannot read"),
        "{e}"
    );
}

#[test]
fn inflow_in_a_building_is_an_error() {
    let l = with_flood("").unwrap();
    let city = prepare_city(&l).unwrap();
    let k = city
        .landuse
        .iter()
        .position(|&l| l == LandUse::Building)
        .unwrap();
    let (i, j) = city.grid.cell_of(k);
    let (x, y) = city.grid.center(i, j);
    let l = with_flood(&format!(
        "[[hazards.boundaries]]\ntype = \"inflow\"\nat = [{x}, {y}]\nq_m3_s = 1.0\n"
    ))
    .unwrap();
    let e = build_error(&l);
    assert!(
        e.contains("building") && e.contains("boundaries[0].at"),
        "{e}"
    );
}

#[test]
fn bad_initial_depth_files_are_errors_with_line() {
    let dir = tempfile::tempdir().unwrap();
    let header = "ncols 50\nnrows 40\nxllcorner 0\nyllcorner 0\ncellsize 10\nNODATA_value -9999\n";
    let mut rows: Vec<String> = (0..40).map(|_| vec!["0.0"; 50].join(" ")).collect();
    rows[3] = {
        let mut r = vec!["0.0"; 50];
        r[7] = "-0.5";
        r.join(" ")
    };
    std::fs::write(
        dir.path().join("h.asc"),
        format!("{header}{}\n", rows.join("\n")),
    )
    .unwrap();
    rows[3] = {
        let mut r = vec!["0.0"; 50];
        r[2] = "NaN";
        r.join(" ")
    };
    std::fs::write(
        dir.path().join("n.asc"),
        format!("{header}{}\n", rows.join("\n")),
    )
    .unwrap();
    for (file, what) in [("h.asc", "negative"), ("n.asc", "NaN")] {
        let text = format!(
            "format = 1\nname = \"t\"\n[time]\nduration_s = 600\ntick_s = 60\n[city]\nsource = \"generate\"\nwidth_m = 500\nheight_m = 400\ncell_m = 10\n[[hazards]]\nkind = \"flood\"\ninitial_depth = \"{file}\"\n"
        );
        let l = parse(&text, "t.toml", dir.path()).unwrap();
        let e = build_error(&l);
        assert!(
            e.contains("initial_depth") && e.contains("line 10") && e.contains(what),
            "{e}"
        );
    }
}

#[test]
fn non_finite_rain_fails_the_run_with_cell_and_time() {
    let l = with_flood("").unwrap();
    let city = prepare_city(&l).unwrap();
    let mut sim = crate::run::build(&l, &city, 1).unwrap();
    let mut rain = vec![0.0f32; city.grid.len()];
    rain[city.grid.index(4, 3)] = f32::NAN;
    sim.world.insert_resource(RainRate(rain));
    let e = sim.step().unwrap_err();
    assert!(e.contains("(4,3)") && e.contains("t=0"), "{e}");
}

#[test]
fn sea_follows_sea_level_or_stays_closed() {
    let l = with_flood("").unwrap();
    let city = prepare_city(&l).unwrap();
    let sea: Vec<usize> = (0..city.grid.len())
        .filter(|&k| city.landuse[k] == LandUse::Sea)
        .collect();
    assert!(!sea.is_empty());
    // A 3 m surge: sea cells stand at 3 m and low land behind them takes water.
    let mut sim = crate::run::build(&l, &city, 1).unwrap();
    sim.world.insert_resource(SeaLevel(3.0));
    for _ in 0..5 {
        sim.step().unwrap();
    }
    let st = sim.world.resource::<FloodState>();
    for &k in &sea {
        let eta = st.solver.z[k] + st.solver.h[k];
        assert!(
            (eta - 3.0).abs() < 1e-5 || st.solver.z[k] > 3.0,
            "sea cell {k}: {eta}"
        );
    }
    assert!(st.solver.balance.level_net > 0.0);
    let wet_land = (0..city.grid.len())
        .filter(|&k| st.land[k] && st.solver.h[k] > 0.05)
        .count();
    assert!(wet_land > 0, "the surge floods low land");
    let depth = sim.world.resource::<WaterDepth>();
    assert_eq!(depth.0, sim.world.resource::<FloodState>().solver.h);
    // Closed sea: no exchange, sea cells dry.
    let l = with_flood("sea = \"closed\"\n").unwrap();
    let mut sim = crate::run::build(&l, &city, 1).unwrap();
    for _ in 0..5 {
        sim.step().unwrap();
    }
    let st = sim.world.resource::<FloodState>();
    assert_eq!(st.solver.balance.level_net, 0.0);
    assert!(sea.iter().all(|&k| st.solver.h[k] == 0.0));
}

#[test]
fn pumps_remove_their_rated_flow_only_while_operational() {
    let l = with_flood(
        "sea = \"closed\"\n[hazards.drainage]\nenabled = false\n[hazards.infiltration]\nenabled = false\n",
    )
    .unwrap();
    let city = prepare_city(&l).unwrap();
    let mut sim = crate::run::build(&l, &city, 1).unwrap();
    let rated: f64 = {
        // A still lake 0.5 m over the highest ground (closed sea, solid buildings).
        let mut st = sim.world.resource_mut::<FloodState>();
        let top = (0..st.solver.h.len())
            .filter(|&k| !st.solid[k] && city.landuse[k] != LandUse::Sea)
            .map(|k| st.solver.z[k])
            .fold(f32::MIN, f32::max);
        for k in 0..st.solver.h.len() {
            if !st.solid[k] && city.landuse[k] != LandUse::Sea {
                st.solver.h[k] = top + 0.5 - st.solver.z[k];
            }
        }
        st.volume0 = st.solver.volume();
        let pumps: Vec<String> = st
            .pumps
            .iter()
            .filter(|(_, c)| !c.is_empty())
            .map(|(id, _)| id.clone())
            .collect();
        assert!(!pumps.is_empty(), "the generated district has a pump");
        city.assets
            .iter()
            .filter(|a| pumps.contains(&a.id))
            .map(|a| a.capacity)
            .sum()
    };
    sim.step().unwrap();
    let removed = sim.world.resource::<FloodState>().solver.balance.losses;
    assert!(
        (removed - rated * 60.0).abs() < 1e-3 * rated * 60.0,
        "{removed} m³ removed, rated {rated} m³/s × 60 s"
    );
    let mut q = sim.world.query::<&mut Operational>();
    for mut op in q.iter_mut(&mut sim.world) {
        op.0 = false;
    }
    sim.step().unwrap();
    let after = sim.world.resource::<FloodState>().solver.balance.losses;
    assert_eq!(after, removed, "stopped pumps remove nothing");
}

/// A substation beside a river stays in service with the river full (the river is not
/// water at its door, `City::door_cells`, as for lifelines) and fails once land water
/// over the 0.15 m limit stands round it.
#[test]
fn assets_fail_on_water_at_their_door_not_on_the_river_beside_them() {
    use crate::city::AssetSpec;
    use crate::city::assets::spawn_assets;
    use crate::grid::GridSpec;
    let mut city = City::flat(GridSpec::new(9, 9, 10.0));
    let g = city.grid;
    // A river 2 m deep along column 3; the substation on the bank at (4, 4).
    let river: Vec<usize> = (0..9).map(|j| g.index(3, j)).collect();
    for &k in &river {
        city.landuse[k] = LandUse::Water;
        city.elevation[k] = -2.0;
    }
    let (x, y) = g.center(4, 4);
    city.assets.push(AssetSpec {
        id: "S".into(),
        kind: AssetKind::Substation,
        x,
        y,
        capacity: 1.0,
        depends_on: vec![],
    });
    let mut sim = Simulation::new(1, 1.0, 60.0, 60.0);
    spawn_assets(&mut sim.world, &city.assets, &g);
    sim.world.insert_resource(Closures::new(&g));
    sim.world.insert_resource(city);
    let spec: FloodSpec =
        toml::from_str("[drainage]\nenabled = false\n[infiltration]\nenabled = false\n")
            .expect("flood spec");
    sim.add_plugin_standalone(&FloodPlugin(&spec), 0)
        .expect("flood builds");
    let operational = |sim: &mut Simulation| {
        let mut q = sim.world.query::<&Operational>();
        q.single(&sim.world).expect("one asset").0
    };
    // The river bank-full to 0.5 m below the land: 1.5 m of water beside the asset.
    {
        let mut st = sim.world.resource_mut::<FloodState>();
        for &k in &river {
            st.solver.h[k] = 1.5;
        }
    }
    sim.step().unwrap();
    assert!(operational(&mut sim), "the river beside it is not a flood");
    // 0.3 m over all the land.
    {
        let mut st = sim.world.resource_mut::<FloodState>();
        for k in 0..g.len() {
            if !river.contains(&k) {
                st.solver.h[k] = 0.3;
            }
        }
    }
    sim.step().unwrap();
    assert!(!operational(&mut sim), "water at its door fails it");
    let log = sim.world.resource::<EventLog>();
    let failed: Vec<_> = log
        .events()
        .iter()
        .filter(|e| e.source == "flood" && e.kind == "asset.failed")
        .collect();
    assert_eq!(failed.len(), 1, "{failed:?}");
}

#[test]
fn blow_up_is_reported_with_cell_and_time() {
    let mut s = Solver::new(4, 3, 10.0, vec![0.0; 12], vec![0.03; 12], Params::default());
    s.h[5] = f32::INFINITY;
    s.finish_setup();
    let e = s.step(1.0).unwrap_err();
    assert!(e.contains("cell (") && e.contains("t="), "{e}");
}
