//! The command line as a user runs it: outputs, determinism, exit codes.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn crucible() -> Command {
    let mut c = Command::cargo_bin("crucible").unwrap();
    c.current_dir(root());
    c
}

fn run_into(scenario: &Path, out: &Path, threads: &str) {
    let o = crucible()
        .env("RAYON_NUM_THREADS", threads)
        .arg("run")
        .arg(scenario)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "run failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

const PURE_OUTPUTS: [&str; 3] = ["summary.json", "timeseries.csv", "events.jsonl"];

#[test]
fn run_writes_outputs_identical_for_any_thread_count_and_rerun() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = root().join("tests/data/small.toml");
    let (a, b, c) = (
        dir.path().join("a"),
        dir.path().join("b"),
        dir.path().join("c"),
    );
    run_into(&scenario, &a, "1");
    run_into(&scenario, &b, "2");
    run_into(&scenario, &c, "2");
    for f in PURE_OUTPUTS {
        let x = std::fs::read(a.join(f)).unwrap();
        assert_eq!(
            x,
            std::fs::read(b.join(f)).unwrap(),
            "{f} differs between 1 and 2 threads"
        );
        assert_eq!(
            x,
            std::fs::read(c.join(f)).unwrap(),
            "{f} differs on a rerun"
        );
    }
    assert!(a.join("timing.json").exists());
    let maps: Vec<_> = std::fs::read_dir(a.join("maps"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert!(
        maps.iter()
            .any(|p| p.extension().is_some_and(|e| e == "png"))
    );
    assert!(
        maps.iter()
            .any(|p| p.extension().is_some_and(|e| e == "asc"))
    );
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(a.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["seed"], 7);
    assert!(
        summary["standards"]
            .as_array()
            .is_some_and(|s| !s.is_empty())
    );
    // Events are one JSON object per line, in time order.
    let events = std::fs::read_to_string(a.join("events.jsonl")).unwrap();
    let times: Vec<f64> = events
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["t"]
                .as_f64()
                .unwrap()
        })
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]));
}

#[test]
fn a_different_seed_changes_the_seed_in_the_summary() {
    let dir = tempfile::tempdir().unwrap();
    let o = crucible()
        .args(["run", "tests/data/small.toml", "--seed", "99", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(o.status.success());
    let s: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("summary.json")).unwrap()).unwrap();
    assert_eq!(s["seed"], 99);
}

#[test]
fn every_bundled_scenario_checks() {
    let mut n = 0;
    let dirs = ["scenarios", "benches/gate", "tests/data"];
    for e in dirs
        .iter()
        .flat_map(|d| std::fs::read_dir(root().join(d)).unwrap())
    {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|e| e == "toml") {
            let o = crucible().arg("check").arg(&p).output().unwrap();
            assert!(
                o.status.success(),
                "{}: {}",
                p.display(),
                String::from_utf8_lossy(&o.stderr)
            );
            n += 1;
        }
    }
    assert!(n > 0);
}

#[test]
fn city_writes_every_layer() {
    let dir = tempfile::tempdir().unwrap();
    let o = crucible()
        .args(["city", "tests/data/small.toml", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for layer in [
        "elevation",
        "landuse",
        "roads",
        "building_use",
        "population_night",
        "manning",
    ] {
        assert!(
            dir.path().join(format!("{layer}.asc")).exists(),
            "{layer}.asc"
        );
        assert!(
            dir.path().join(format!("{layer}.png")).exists(),
            "{layer}.png"
        );
    }
    let assets = std::fs::read_to_string(dir.path().join("assets.csv")).unwrap();
    assert!(assets.starts_with("id,kind,x,y,capacity,depends_on\n") && assets.lines().count() > 3);
}

#[test]
fn published_schema_is_current() {
    let o = crucible().arg("schema").output().unwrap();
    let published = std::fs::read_to_string(root().join("docs/scenario.schema.json")).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        published.trim(),
        "docs/scenario.schema.json is stale: run `crucible schema > docs/scenario.schema.json`"
    );
}

#[test]
fn validate_city_passes_and_unknown_suite_is_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let o = crucible()
        .args(["validate", "city", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
    let report = std::fs::read_to_string(dir.path().join("validation.md")).unwrap();
    assert!(
        report.contains("| city / futian-calibration") || report.contains("futian-calibration")
    );
    let o = crucible()
        .args(["validate", "nosuch", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn missing_scenario_file_is_bad_input() {
    let o = crucible()
        .args(["check", "no/such/file.toml"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no/such/file.toml"));
}

/// The compound scenario: identical outputs for 1 and 2 threads, events from every hazard
/// and from the lifeline cascade in time order, and the plan's indicators in the summary.
#[test]
fn compound_scenario_is_deterministic_and_shows_every_hazard() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = root().join("scenarios/typhoon-compound.toml");
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    run_into(&scenario, &a, "1");
    run_into(&scenario, &b, "2");
    for f in PURE_OUTPUTS {
        assert!(
            std::fs::read(a.join(f)).unwrap() == std::fs::read(b.join(f)).unwrap(),
            "{f} differs between 1 and 2 threads"
        );
    }
    let events = std::fs::read_to_string(a.join("events.jsonl")).unwrap();
    let parsed: Vec<serde_json::Value> = events
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for source in ["typhoon", "flood", "fire", "crowd", "lifelines"] {
        assert!(
            parsed.iter().any(|e| e["source"] == source),
            "no {source} event"
        );
    }
    assert!(
        parsed.iter().any(|e| e["kind"] == "asset.failed"),
        "no asset failure in the cascade"
    );
    assert!(
        parsed
            .windows(2)
            .all(|w| w[0]["t"].as_f64() <= w[1]["t"].as_f64()),
        "events out of time order"
    );
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(a.join("summary.json")).unwrap()).unwrap();
    for k in [
        "indicator.disaster_deaths_per_million",
        "indicator.fire_deaths_per_100k",
        "indicator.direct_loss_share_gdp_pct",
        "indicator.customer_hours_without_power",
        "indicator.shelter_demand_to_capacity",
    ] {
        assert!(summary["kpis"][k]["value"].is_number(), "{k} missing");
    }
}
