use std::path::Path;
use std::sync::Arc;

use super::network::depth_at;
use super::setup::fragility_capacity;
use super::*;
use crate::city::{AssetKind, City, LandUse};
use crate::events::Event;
use crate::rng::RngStreams;
use crate::run::{RunOutput, prepare_city, run};
use crate::scenario::parse;

fn run_text(text: &str) -> RunOutput {
    crate::testing::run_text(text).expect("run finishes")
}

fn find<'a>(events: &'a [Event], kind: &str, name: &str) -> Option<&'a Event> {
    events.iter().find(|e| {
        e.source == "lifelines"
            && e.kind == kind
            && e.place.as_ref().and_then(|p| p.name.as_deref()) == Some(name)
    })
}

const SMALL: &str = r#"
format = 1
name = "cascade"
seed = 3
[time]
duration_s = 14400
tick_s = 60
[city]
source = "generate"
width_m = 1000
height_m = 1000
cell_m = 20
[[assets]]
id = "S1"
kind = "substation"
x = 500
y = 700
capacity = 20000
[[assets]]
id = "P1"
kind = "pump_station"
x = 300
y = 700
capacity = 5
depends_on = ["S1"]
[[assets]]
id = "H1"
kind = "hospital"
x = 700
y = 700
depends_on = ["S1"]
[[hazards]]
kind = "lifelines"
fragility = []
crews = 1
hospital_backup_h = 1.0
propagation_delay_s = 120
restoration = [{ kind = "substation", mean_h = 2.0, sd_h = 0.0, source = "test" }]
failures = [{ asset = "S1", t_s = 600, cause = "equipment fault" }]
"#;

/// A substation fault cascades to its pump (after the propagation delay) and its
/// hospital (generators, then exhaustion), a crew repairs it and everything comes back.
#[test]
fn substation_fault_cascades_and_is_repaired() {
    let out = run_text(SMALL);
    let ev = &out.events;
    let s_fail = find(ev, "asset.failed", "S1").expect("substation fails");
    assert_eq!(
        s_fail.t, 660.0,
        "failure at the end of the tick containing 600 s"
    );
    assert!(find(ev, "power.lost", "S1").is_some());
    let p_fail = find(ev, "asset.failed", "P1").expect("pump loses power");
    assert!(p_fail.t - s_fail.t >= 120.0, "propagation delay respected");
    assert!(
        p_fail.message.contains("dependency: S1"),
        "{:?}",
        p_fail.message
    );
    let backup = find(ev, "hospital.on_backup", "H1").expect("hospital on generators");
    assert_eq!(backup.t, s_fail.t);
    let exhausted = find(ev, "hospital.backup_exhausted", "H1").expect("fuel runs out");
    assert!((exhausted.t - backup.t - 3600.0).abs() <= 60.0);
    let restored = find(ev, "asset.restored", "S1").expect("substation repaired");
    // 2 h of repairs plus the drive from the centre (≤ 1 km at 8.33 m/s).
    let dt = restored.t - s_fail.t;
    assert!((7200.0..7200.0 + 300.0).contains(&dt), "{dt}");
    assert!(find(ev, "asset.restored", "P1").is_some_and(|e| e.t >= restored.t));
    assert!(find(ev, "asset.restored", "H1").is_some());
    let k = &out.summary.kpis;
    // 20 000 customers for ~2 h.
    let ch = k["lifelines.customer_hours_lost"].value;
    assert!((38_000.0..44_000.0).contains(&ch), "{ch}");
    assert!(k["indicator.customer_hours_without_power"].value == ch);
    // Events in time order.
    assert!(ev.windows(2).all(|w| w[0].t <= w[1].t));
}

/// Switching the power → pumps coupling off keeps the pump running.
#[test]
fn power_pump_coupling_switch() {
    let text = format!("{SMALL}\n[couplings]\npower_pumps = false\n");
    let out = run_text(&text);
    assert!(find(&out.events, "asset.failed", "S1").is_some());
    assert!(find(&out.events, "asset.failed", "P1").is_none());
    assert!(find(&out.events, "hospital.on_backup", "H1").is_some());
}

/// One capacity draw per asset and hazard: reproducible, lognormal around the median.
#[test]
fn fragility_draws_are_reproducible_and_lognormal() {
    let spec: LifelinesSpec = toml::from_str("").unwrap();
    let rng = RngStreams::new(11);
    let n = 4000;
    let cap =
        |id: &str| fragility_capacity(&spec, &rng, AssetKind::Substation, Intensity::Wind, id);
    let caps: Vec<f64> = (0..n).map(|k| cap(&format!("SUB-{k}"))).collect();
    let again = cap("SUB-17");
    assert_eq!(caps[17], again);
    // P(capacity ≤ median) = 0.5 and P(capacity ≤ median·e^β) = Φ(1) = 0.841.
    let below = |x: f64| caps.iter().filter(|&&c| c <= x).count() as f64 / n as f64;
    assert!((below(45.0) - 0.5).abs() < 0.03, "{}", below(45.0));
    assert!((below(45.0 * 0.3f64.exp()) - 0.841).abs() < 0.03);
    // Kinds without a curve never fail from that hazard.
    let c = fragility_capacity(&spec, &rng, AssetKind::Hospital, Intensity::Wind, "H-0");
    assert!(c.is_infinite());
}

/// A bad asset id in `failures` is an error naming the key.
#[test]
fn unknown_failure_asset_is_an_error() {
    let text = SMALL.replace("asset = \"S1\", t_s", "asset = \"NOPE\", t_s");
    let loaded = parse(&text, "test.toml", Path::new(".")).unwrap();
    let city = Arc::new(prepare_city(&loaded).unwrap());
    let Err(e) = run(&loaded, &city, 1, |_| {}) else {
        panic!("should fail")
    };
    let msg = e.to_string();
    assert!(msg.contains("NOPE") && msg.contains("failures"), "{msg}");
}

/// `crucible check` finds the same bad asset id without building a simulation.
#[test]
fn unknown_failure_asset_is_found_by_check() {
    let text = SMALL.replace("asset = \"S1\", t_s", "asset = \"NOPE\", t_s");
    let loaded = parse(&text, "test.toml", Path::new(".")).unwrap();
    let city = prepare_city(&loaded).unwrap();
    let Err(e) = crate::run::check(&loaded, &city, 1) else {
        panic!("should fail")
    };
    let msg = e.to_string();
    assert!(msg.contains("NOPE") && msg.contains("failures"), "{msg}");
    let good = parse(SMALL, "test.toml", Path::new(".")).unwrap();
    assert!(crate::run::check(&good, &city, 1).is_ok());
}

/// Failing the substation that feeds the pump stations stops them, and more ground
/// floods than with the same storm and seed without the failure.
#[test]
fn substation_failure_stops_pumps_and_flooding_grows() {
    let base = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/flood-example.toml"),
    )
    .unwrap();
    // The pumps' substation in the generated city.
    let loaded = parse(&base, "flood-example.toml", Path::new(".")).unwrap();
    let city = prepare_city(&loaded).unwrap();
    let pump = city
        .assets
        .iter()
        .find(|a| a.kind == AssetKind::PumpStation)
        .expect("a pump station");
    let sub = pump.depends_on[0].clone();
    let with = |failures: &str| {
        let text = format!(
            "{base}\n[[hazards]]\nkind = \"lifelines\"\nfragility = []\nfailures = [{failures}]\n"
        );
        run_text(&text)
    };
    let normal = with("");
    let failed = with(&format!("{{ asset = \"{sub}\", t_s = 0 }}"));
    let stopped = find(&failed.events, "asset.failed", &pump.id).expect("pump stops");
    assert!(stopped.message.contains(&sub));
    let area = |o: &RunOutput| o.summary.metrics["flood.flooded_area_m2"].max;
    let vol = |o: &RunOutput| o.summary.kpis["flood.drained_total_m3"].value;
    eprintln!(
        "flooded area {} → {} m²; drained {} → {} m³",
        area(&normal),
        area(&failed),
        vol(&normal),
        vol(&failed)
    );
    assert!(vol(&failed) < vol(&normal));
    assert!(area(&failed) > area(&normal));
}

/// The compound scenario: events of every hazard and of the cascade, in time order, the
/// indicators present, and the same run twice is identical.
#[test]
fn compound_scenario_shows_every_hazard_and_the_cascade() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/typhoon-compound.toml");
    let loaded = crate::scenario::load(&path).expect("loads");
    let city = Arc::new(prepare_city(&loaded).unwrap());
    let t0 = std::time::Instant::now();
    let out = run(&loaded, &city, loaded.scenario.seed, |_| {}).expect("runs");
    eprintln!("compound run: {:.1} s", t0.elapsed().as_secs_f64());
    let kinds: std::collections::BTreeSet<String> = out
        .events
        .iter()
        .map(|e| format!("{}.{}", e.source, e.kind))
        .collect();
    eprintln!("{kinds:#?}");
    for source in ["typhoon", "flood", "fire", "crowd", "lifelines"] {
        assert!(
            out.events.iter().any(|e| e.source == source),
            "no {source} events"
        );
    }
    for k in [
        "lifelines.power.lost",
        "lifelines.asset.failed",
        "fire.fire.ignited",
    ] {
        assert!(kinds.contains(k), "no {k}");
    }
    assert!(
        out.events
            .iter()
            .any(|e| e.kind == "asset.failed" && e.message.contains("dependency: SUB-01"))
    );
    assert!(out.events.windows(2).all(|w| w[0].t <= w[1].t));
    for k in [
        "indicator.disaster_deaths_per_million",
        "indicator.fire_deaths_per_100k",
        "indicator.direct_loss_share_gdp_pct",
        "indicator.customer_hours_without_power",
        "indicator.shelter_demand_to_capacity",
    ] {
        let v = out.summary.kpis[k].value;
        eprintln!("{k} = {v}");
        assert!(v.is_finite() && v >= 0.0, "{k} = {v}");
    }
    assert!(out.summary.kpis["indicator.customer_hours_without_power"].value > 0.0);
}

/// Common random numbers across plans: a plan that adds an asset (whose id sorts before
/// the others) leaves every other asset's fragility draw, hence its failure, unchanged.
#[test]
fn added_assets_leave_other_fragility_draws_unchanged() {
    let mut base = String::from(
        r#"
format = 1
name = "crn"
seed = 5
[time]
duration_s = 1800
tick_s = 300
[city]
source = "generate"
width_m = 1000
height_m = 1000
cell_m = 20
[[hazards]]
kind = "wind"
speed_m_s = 30
from_deg = 90
[[hazards]]
kind = "lifelines"
"#,
    );
    for k in 0..12 {
        let (x, y) = (100 + 70 * k, 300 + 40 * (k % 5));
        base.push_str(&format!(
            "[[assets]]\nid = \"T-SUB-{k:02}\"\nkind = \"substation\"\nx = {x}\ny = {y}\n"
        ));
    }
    let plan_b = format!(
        "{base}[plan]\nadd_assets = [{{ id = \"AAA-NEW\", kind = \"shelter\", x = 500, y = 850, capacity = 100 }}]\n"
    );
    let failed = |text: &str| -> Vec<String> {
        let out = run_text(text);
        let mut ids: Vec<String> = out
            .events
            .iter()
            .filter(|e| e.kind == "asset.failed")
            .filter_map(|e| e.place.as_ref().and_then(|p| p.name.clone()))
            .filter(|n| n.starts_with("T-SUB-"))
            .collect();
        ids.sort();
        ids
    };
    let a = failed(&base);
    let b = failed(&plan_b);
    assert!(
        !a.is_empty() && a.len() < 12,
        "the gusts fail some substations, not all: {a:?}"
    );
    assert_eq!(a, b, "the same substations fail in both plans");
}

/// The sea and rivers beside an asset are not a flood at its door; water on the land is.
#[test]
fn flood_intensity_ignores_the_sea_and_rivers_next_to_an_asset() {
    let mut city = City::flat(crate::grid::GridSpec::new(5, 5, 10.0));
    let g = city.grid;
    let asset = g.index(2, 2);
    let mut depth = vec![0.0f32; g.len()];
    city.landuse[g.index(1, 2)] = LandUse::Sea;
    depth[g.index(1, 2)] = 3.0;
    city.landuse[g.index(3, 3)] = LandUse::Water;
    depth[g.index(3, 3)] = 2.0;
    let bridges = city.bridge_decks();
    let door = city.door_cells(&bridges, asset);
    assert_eq!(depth_at(&depth, &door), 0.0);
    depth[g.index(2, 3)] = 0.4;
    assert!((depth_at(&depth, &door) - 0.4).abs() < 1e-6);
}

/// Power → hospitals: with the coupling the hospital goes to generators and, once they
/// run dry, out of service; with `power_hospitals` off it keeps working on the same run.
#[test]
fn power_hospital_coupling_switch() {
    let on = run_text(SMALL);
    let off = run_text(&format!("{SMALL}\n[couplings]\npower_hospitals = false\n"));
    assert!(find(&on.events, "hospital.on_backup", "H1").is_some());
    assert!(find(&on.events, "asset.failed", "H1").is_some());
    assert!(find(&off.events, "hospital.on_backup", "H1").is_none());
    assert!(find(&off.events, "asset.failed", "H1").is_none());
    assert!(find(&off.events, "asset.failed", "P1").is_some());
}

/// Output names are unique within a kind, so the outputs table can be a key.
#[test]
fn output_names_are_unique_per_kind() {
    let all = outputs::OUTPUTS;
    for (k, a) in all.iter().enumerate() {
        for b in &all[k + 1..] {
            assert!(!(a.kind == b.kind && a.name == b.name), "{} twice", a.name);
        }
    }
}
