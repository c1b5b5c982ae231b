//! The typhoon's tests: runs of the example and of synthetic storms, inputs that are
//! refused with the key at fault, and the helpers.

use std::sync::Arc;

use super::outputs::{OUTPUTS, SOURCE};
use super::systems::non_finite;
use super::track;
use super::validation::{self, repo_root};
use crate::metrics::OutputKind;
use crate::run::{RunOutput, prepare_city, run};
use crate::scenario::{load, parse};
fn run_text(text: &str) -> Result<RunOutput, String> {
    let loaded =
        parse(text, "test.toml", &repo_root().join("scenarios")).map_err(|e| e.to_string())?;
    let city = Arc::new(prepare_city(&loaded).map_err(|e| e.to_string())?);
    run(&loaded, &city, 3, |_| {}).map_err(|e| e.to_string())
}

fn synthetic(extra: &str) -> String {
    format!(
        r#"
format = 1
name = "synthetic"
[time]
duration_s = 43200
tick_s = 600
[city]
source = "generate"
width_m = 3000
height_m = 2000
cell_m = 100
[[hazards]]
kind = "typhoon"
track = {{ source = "synthetic", landfall_time_s = 21600, heading_deg = 330, forward_speed_m_s = 6, vmax_m_s = 50 }}
{extra}
"#
    )
}

#[test]
fn example_scenario_runs_deterministically() {
    let path = repo_root().join("scenarios/typhoon-example.toml");
    let loaded = load(&path).expect("the example loads");
    let city = Arc::new(prepare_city(&loaded).expect("the city"));
    let a = run(&loaded, &city, 7, |_| {}).expect("the run");
    // The same run on one thread: identical results.
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("a pool");
    let b = pool.install(|| run(&loaded, &city, 7, |_| {}).expect("the run"));
    assert_eq!(a.timeseries_csv, b.timeseries_csv);
    assert_eq!(a.events, b.events);
    assert!(a.events.windows(2).all(|w| w[0].t <= w[1].t));
    for k in [
        "typhoon.peak_gust_m_s",
        "typhoon.min_distance_km",
        "typhoon.rain_total_center_mm",
        "typhoon.peak_sea_level_m",
    ] {
        assert!(a.summary.kpis[k].value.is_finite(), "{k}");
    }
    let kinds: Vec<&str> = a.events.iter().map(|e| e.kind.as_str()).collect();
    for k in [
        "storm.within_200km",
        "storm.nearest_approach",
        "wind.peak_gust",
    ] {
        assert!(kinds.contains(&k), "no {k} event in {kinds:?}");
    }
    assert!(a.maps.iter().any(|m| m.name == "typhoon_max_gust"));
    // Gust is at least the mean everywhere, and never negative.
    let g = a
        .maps
        .iter()
        .find(|m| m.name == "typhoon_max_gust")
        .unwrap();
    assert!(g.data.iter().all(|&v| v.is_finite() && v > 0.0));
}

#[test]
fn synthetic_landfall_raises_winds_and_sea_level() {
    let out = run_text(&synthetic(
        "[hazards.surge]\nshelf_length_km = 30\nshelf_depth_m = 10\n\
         warning_levels = [{ name = \"blue\", level_m = 0.3 }]",
    ))
    .expect("runs");
    let k = |n: &str| out.summary.kpis[n].value;
    assert!(k("typhoon.min_distance_km") < 2.0, "landfall on the city");
    assert!(k("typhoon.peak_gust_m_s") > 40.0);
    assert!(k("typhoon.peak_sea_level_m") > 0.3);
    let kinds: Vec<&str> = out.events.iter().map(|e| e.kind.as_str()).collect();
    for k in [
        "storm.landfall",
        "storm.within_100km",
        "sea_level.warning",
        "wind.pedestrian_unsafe",
    ] {
        assert!(kinds.contains(&k), "no {k} in {kinds:?}");
    }
    // Missing pressure and RMW were filled with warnings.
    assert!(
        out.events
            .iter()
            .any(|e| e.kind == "input.warning" && e.message.contains("Willoughby"))
    );
}

#[test]
fn fragility_is_switchable_and_seeded() {
    let curves = "[hazards.fragility]\nenabled = ENABLED\ncurves = [\
        { kind = \"substation\", median_gust_m_s = 30.0, beta = 0.3, source = \"test\" },\
        { kind = \"shelter\", median_gust_m_s = 30.0, beta = 0.3, source = \"test\" }]";
    let on = run_text(&synthetic(&curves.replace("ENABLED", "true"))).expect("runs");
    let off = run_text(&synthetic(&curves.replace("ENABLED", "false"))).expect("runs");
    let failed = |o: &RunOutput| o.events.iter().filter(|e| e.kind == "asset.failed").count();
    assert!(failed(&on) > 0, "a 50 m/s landfall fails 30 m/s assets");
    assert_eq!(failed(&off), 0);
    assert_eq!(
        on.summary.kpis["typhoon.assets_failed"].value,
        failed(&on) as f64
    );
}

#[test]
fn bad_inputs_are_clear_errors() {
    let e = run_text(&synthetic("").replace(
        "track = { source = \"synthetic\"",
        "track = { source = \"csv\", file = \"nowhere.csv\" }\n#",
    ))
    .err()
    .expect("an error");
    assert!(
        e.contains("nowhere.csv") && e.contains("hazards[0].track.file"),
        "{e}"
    );
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        "iso_time_utc,lat,lon,vmax_kt_1min\n2018-09-16 06:00,21,114,80\n2018-09-16 03:00,21,114,80\n",
    )
    .unwrap();
    let e = run_text(&synthetic("").replace(
        "track = { source = \"synthetic\"",
        &format!(
            "track = {{ source = \"csv\", file = \"{}\" }}\n#",
            bad.display()
        ),
    ))
    .err()
    .expect("an error");
    assert!(e.contains("bad.csv:3") && e.contains("not after"), "{e}");
    let e = run_text(&synthetic("[hazards.wind]\ngust_factor_land = 0.5"))
        .err()
        .expect("an error");
    assert!(e.contains("gust_factor_land"), "{e}");
    let e = run_text(&synthetic("[hazards.fragility]\nenabled = true"))
        .err()
        .expect("an error");
    assert!(e.contains("curves"), "{e}");
    // Two rain forcings are refused.
    let e = run_text(
        &(synthetic("")
            + "[[hazards]]\nkind = \"design_storm\"\nreturn_period_years = 5\nduration_min = 60\n"),
    )
    .err()
    .expect("an error");
    assert!(e.contains("one rain forcing"), "{e}");
}

#[test]
fn a_distant_storm_warns() {
    let out = run_text(&synthetic("").replace(
        "landfall_time_s = 21600",
        "landfall_lat = 10.0, landfall_lon = 140.0, landfall_time_s = 21600",
    ))
    .expect("runs");
    assert!(
        out.events
            .iter()
            .any(|e| e.kind == "input.warning" && e.message.contains("never comes within")),
    );
    assert!(out.summary.kpis["typhoon.peak_gust_m_s"].value < 1.0);
}

#[test]
fn non_finite_fields_name_the_cell() {
    let grid = crate::grid::GridSpec::new(4, 3, 10.0);
    let mut f = vec![1.0f32; 12];
    assert!(non_finite("gust", &f, &grid, 5.0).is_none());
    f[6] = f32::NAN;
    f[9] = f32::INFINITY;
    let m = non_finite("gust", &f, &grid, 5.0).expect("found");
    assert_eq!(m, "typhoon: gust is NaN at cell (2,1), t=5 s");
}

#[test]
fn hato_track_reads_with_rmw_warning() {
    let t = track::read_best_track(&validation::tracks_dir().join("hato_2017.csv"), 1.0, 12.0)
        .expect("Hato reads");
    assert_eq!(t.points.len(), 19);
    assert!(t.warnings.iter().any(|w| w.contains("Willoughby")));
    assert!(
        t.points
            .iter()
            .all(|p| p.rmw > 5_000.0 && p.rmw < 100_000.0)
    );
}

#[test]
fn check_finds_bad_files_without_a_simulation() {
    let text = synthetic("").replace(
        "track = { source = \"synthetic\"",
        "track = { source = \"csv\", file = \"nowhere.csv\" }\n#",
    );
    let loaded = parse(&text, "test.toml", &repo_root().join("scenarios")).expect("parses");
    let city = prepare_city(&loaded).expect("the city");
    let e = crate::run::check(&loaded, &city, 1)
        .expect_err("an error")
        .to_string();
    assert!(
        e.contains("nowhere.csv") && e.contains("hazards[0].track.file"),
        "{e}"
    );
    let good = parse(&synthetic(""), "test.toml", &repo_root().join("scenarios")).expect("parses");
    let city = prepare_city(&good).expect("the city");
    assert!(crate::run::check(&good, &city, 1).is_ok());
}

#[test]
fn the_outputs_table_names_every_output_of_a_run() {
    let out = run_text(&synthetic(
        "[hazards.surge]\nshelf_length_km = 30\nshelf_depth_m = 10\n\
         warning_levels = [{ name = \"blue\", level_m = 0.3 }]",
    ))
    .expect("runs");
    // Gauges: the table's, in its order.
    let gauges: Vec<(&str, &str, &str)> = OUTPUTS
        .iter()
        .filter(|d| d.kind == OutputKind::Gauge)
        .map(|d| (d.name, d.unit, d.description))
        .collect();
    let declared: Vec<(&str, &str, &str)> = out
        .summary
        .metric_definitions
        .iter()
        .filter(|d| d.name.starts_with("typhoon."))
        .map(|d| (d.name.as_str(), d.unit.as_str(), d.description.as_str()))
        .collect();
    assert_eq!(declared, gauges);
    let known =
        |kind: OutputKind, name: &str| OUTPUTS.iter().any(|d| d.kind == kind && d.name == name);
    for (name, k) in &out.summary.kpis {
        if name.starts_with("typhoon.") {
            assert!(known(OutputKind::Kpi, name), "{name}");
            let def = OUTPUTS
                .iter()
                .find(|d| d.kind == OutputKind::Kpi && d.name == name);
            assert_eq!(def.map(|d| d.unit), Some(k.unit.as_str()));
        }
    }
    for e in out.events.iter().filter(|e| e.source == SOURCE) {
        assert!(known(OutputKind::Event, &e.kind), "{}", e.kind);
    }
    for m in out.maps.iter().filter(|m| m.name.starts_with("typhoon_")) {
        assert!(known(OutputKind::Map, &m.name), "{}", m.name);
    }
}
