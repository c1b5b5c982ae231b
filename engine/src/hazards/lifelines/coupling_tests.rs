//! One test per coupling between hazards: each runs the same scenario and seed twice,
//! with the coupling (or its cause) and without, and checks the direction of the change.

use crate::city::{Building, BuildingUse, City, Construction, LandUse};
use crate::coupling::{Closures, Couplings, FireState, blocked};
use crate::events::Event;
use crate::hazards::fire::{FirePlugin, FireSpec, IgnitionSpec};
use crate::hazards::wind::{WindPlugin, WindSpec};
use crate::metrics::Metrics;
use crate::run::RunOutput;
use crate::sim::Simulation;

fn run_text(text: &str) -> RunOutput {
    crate::testing::run_text(text).expect("run finishes")
}

fn kpi(o: &RunOutput, k: &str) -> f64 {
    o.summary.kpis[k].value
}

fn first<'a>(events: &'a [Event], kind: &str) -> Option<&'a Event> {
    events.iter().find(|e| e.kind == kind)
}

// ---- typhoon wind → fire spread ------------------------------------------------------

/// A block of 10 × 10 m wooden buildings 3 m apart on 1 m cells (Hamada's geometry).
fn wooden_blocks(nx: usize, ny: usize) -> City {
    crate::hazards::fire::validation::block_city(nx, ny, 10, 3, 0.0, 1)
}

/// Burnt or burning cells after 40 min of a fire in the middle of the blocks, with a
/// 10 m/s westerly from a `wind` hazard; the fire's own spec has calm air.
fn fire_under_wind(couplings: Couplings) -> (usize, i64, i64) {
    let city = wooden_blocks(13 * 21, 13 * 11);
    let g = city.grid;
    let mut sim = Simulation::new(1, 10.0, 2400.0, 600.0);
    sim.world.insert_resource(Closures::new(&g));
    sim.world.insert_resource(couplings);
    sim.world.insert_resource(city);
    let wind = WindSpec {
        speed_m_s: 10.0,
        from_deg: 270.0,
        gust_factor: 1.49,
    };
    sim.add_plugin_standalone(&WindPlugin(&wind), 0)
        .expect("wind builds");
    let mut spec: FireSpec = toml::from_str("").expect("defaults");
    spec.service.enabled = false;
    spec.spread_cv = 0.0;
    // Centre of the building at block (10, 5).
    let (ci, cj) = (10 * 13 + 5, 5 * 13 + 5);
    let (x, y) = g.center(ci, cj);
    spec.ignitions = vec![IgnitionSpec { x, y, t_s: 0.0 }];
    sim.add_plugin_standalone(&FirePlugin(&spec), 1)
        .expect("fire builds");
    sim.run_to_end(|_| {}).expect("runs");
    let st = sim.world.resource::<FireState>();
    let (mut n, mut east, mut west) = (0usize, 0i64, 0i64);
    for (k, &s) in st.0.iter().enumerate() {
        if s != 0 {
            n += 1;
            let (i, _) = g.cell_of(k);
            east = east.max(i as i64 - ci as i64);
            west = west.max(ci as i64 - i as i64);
        }
    }
    (n, east, west)
}

/// Typhoon (here: steady) wind drives fire spread: with `wind_fire` on the fire reads
/// the shared wind field, burns more and runs downwind (east); off, it sees calm air.
#[test]
fn wind_drives_fire_spread() {
    let on = fire_under_wind(Couplings::default());
    let off = fire_under_wind(Couplings {
        wind_fire: false,
        ..Couplings::default()
    });
    eprintln!("burnt cells, east reach, west reach: wind on {on:?}, off {off:?}");
    assert!(on.0 > off.0, "more burns with wind: {on:?} vs {off:?}");
    // Elongated downwind: it reaches further east than west, and further east than calm.
    assert!(on.1 > on.2 && on.1 > off.1, "{on:?} vs {off:?}");
    // Calm air spreads about evenly.
    assert!((off.1 - off.2).abs() <= 13, "{off:?}");
}

// ---- flood / fire closures → evacuees ------------------------------------------------

/// The two-shelter district evacuation with the streets round NEAR closed by `flag`;
/// `couplings` as given. Returns (people in NEAR, people in FAR, mean evacuation time s).
fn evacuate_around_closure(flag: u8, couplings: &str) -> (f64, f64, f64) {
    let sim = crate::testing::evacuate_around_closure(flag, couplings);
    let m = sim.world.resource::<Metrics>();
    let near = m.stats("crowd.shelter.NEAR.occupancy_people").unwrap().last;
    let far = m.stats("crowd.shelter.FAR.occupancy_people").unwrap().last;
    let mean = m.kpis()["crowd.mean_evacuation_time_s"].value;
    (near, far, mean)
}

/// A route blocked by the flood (FLOOD_WALK) or by fire (FIRE) changes where evacuees
/// go and how long they take; with the coupling off the same closures are ignored.
#[test]
fn blocked_routes_change_shelters_and_evacuation_time() {
    for (flag, switch) in [
        (blocked::FLOOD_WALK, "flood_walk"),
        (blocked::FIRE, "fire_routes"),
    ] {
        let on = evacuate_around_closure(flag, "");
        let off = evacuate_around_closure(flag, &format!("{switch} = false"));
        eprintln!("{switch}: (NEAR, FAR, mean s) on {on:?}, off {off:?}");
        assert_eq!(on.0, 0.0, "{switch}: nobody crosses the closed streets");
        assert!(off.0 > 0.0, "{switch}: with the coupling off NEAR is used");
        assert!(on.1 > off.1, "{switch}: more people go to FAR");
        assert!(on.2 > off.2, "{switch}: the evacuation takes longer");
    }
}

// ---- typhoon warnings → evacuation order ---------------------------------------------

fn typhoon_evacuation(track: &str, warning: &str) -> RunOutput {
    run_text(&format!(
        r#"
format = 1
name = "warned"
seed = 4
[time]
duration_s = 43200
tick_s = 300
[city]
source = "generate"
width_m = 1000
height_m = 800
cell_m = 20
[[hazards]]
kind = "typhoon"
track = {{ source = "synthetic", {track} landfall_time_s = 43200, heading_deg = 330, forward_speed_m_s = 4, vmax_m_s = 50 }}
[[hazards]]
kind = "crowd"
dt_s = 0.25
reroute_interval_s = 600
[hazards.district]
people_per_agent = 200
warning = "{warning}"
warning_s = 600
premovement = {{ median_s = 600, log_sd = 0.5 }}
"#
    ))
}

/// The district evacuation starts on the typhoon's warning signal (plus the delay to the
/// order): a higher signal comes later and so does the order; a storm that never brings
/// the signal orders nobody out.
#[test]
fn typhoon_warning_orders_the_evacuation() {
    let blue = typhoon_evacuation("", "typhoon_blue");
    let orange = typhoon_evacuation("", "typhoon_orange");
    let far = typhoon_evacuation(
        "landfall_lat = 10.0, landfall_lon = 140.0,",
        "typhoon_orange",
    );
    let signal = |o: &RunOutput, level: &str| {
        o.events
            .iter()
            .find(|e| e.kind == "signal.issued" && e.message.contains(level))
            .map(|e| e.t)
    };
    let ordered = |o: &RunOutput| first(&o.events, "evacuation.ordered").map(|e| e.t);
    let (sb, so) = (
        signal(&blue, "blue").expect("blue signal"),
        signal(&orange, "orange").expect("orange signal"),
    );
    let (ob, oo) = (
        ordered(&blue).expect("ordered"),
        ordered(&orange).expect("ordered"),
    );
    eprintln!("blue signal {sb} s, order {ob} s; orange signal {so} s, order {oo} s");
    assert_eq!(ob, sb + 600.0);
    assert_eq!(oo, so + 600.0);
    assert!(so > sb && oo > ob, "orange comes after blue");
    // People do leave (the shelters of the generated city hold 10 % of the residents).
    for o in [&blue, &orange] {
        assert!(kpi(o, "crowd.evacuated_share_final") > 0.05);
        assert!(kpi(o, "crowd.mean_evacuation_time_s") > 0.0);
    }
    // No signal, no order: nobody moves.
    assert!(signal(&far, "orange").is_none());
    assert!(ordered(&far).is_none());
    assert_eq!(kpi(&far, "crowd.evacuated_share_final"), 0.0);
    assert!(far.summary.metrics["crowd.moving_people"].max == 0.0);
}

// ---- flood depth → fire engines' routes ----------------------------------------------

/// Two east–west roads 1.9 km apart joined at both ends; the fire station at the west end of the
/// north road, a block of wooden buildings at its east end, and a 1 m dip in the north
/// road half-way (where the flood collects).
fn ladder_with_dip() -> City {
    use crate::city::{AssetKind, AssetSpec};
    let (nx, ny) = (120, 200);
    let mut city = crate::hazards::fire::validation::ladder(nx, ny, 5, ny - 5);
    for i in 50..=60 {
        city.elevation[5 * nx + i] = -1.0;
    }
    // 2 × 2-cell buildings with 10 m gaps, rows 0–1 and 3–4, columns 100–117.
    for bj in [0usize, 3] {
        for bi in (100..=115).step_by(3) {
            let id = city.buildings.len() as u32;
            city.buildings.push(Building {
                storeys: 2,
                height_m: 6.0,
                use_: BuildingUse::Residential,
                construction: Construction::Wooden,
                occupants_day: 0.0,
                occupants_night: 0.0,
                value_yuan: 1.0e6,
                footprint_m2: 400.0,
                anchor: (bj * nx + bi) as u32,
            });
            for (di, dj) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                let k = (bj + dj) * nx + bi + di;
                city.landuse[k] = LandUse::Building;
                city.building[k] = id;
            }
        }
    }
    city.derive_surface();
    let (x, y) = city.grid.center(2, 5);
    city.assets.push(AssetSpec {
        id: "FS-1".into(),
        kind: AssetKind::FireStation,
        x,
        y,
        capacity: 2.0,
        depends_on: vec![],
    });
    city
}

/// A flood filling the dip from t = 0 and a building fire at 10 min on the east block.
/// Returns (first engine's expected drive time s, footprint affected m², events).
fn fire_during_flood(couplings: Couplings) -> (f64, f64, Vec<Event>) {
    use crate::city::assets::spawn_assets;
    use crate::hazards::flood::{FloodPlugin, FloodSpec};
    let city = ladder_with_dip();
    let g = city.grid;
    let mut sim = Simulation::new(1, 10.0, 3600.0, 60.0);
    spawn_assets(&mut sim.world, &city.assets, &g);
    sim.world.insert_resource(Closures::new(&g));
    sim.world.insert_resource(couplings);
    let (dx, dy) = g.center(55, 5);
    sim.world.insert_resource(city);
    let flood: FloodSpec = toml::from_str(&format!(
        "boundaries = [{{ type = \"inflow\", at = [{dx}, {dy}], q_m3_s = 2.0 }}]"
    ))
    .expect("flood spec");
    sim.add_plugin_standalone(&FloodPlugin(&flood), 0)
        .expect("flood builds");
    let mut fire: FireSpec = toml::from_str("").expect("defaults");
    fire.spread_cv = 0.0;
    // A westerly gale (storm conditions) spreads the fire east along the block.
    fire.wind_speed_m_s = 10.0;
    fire.wind_from_deg = 270.0;
    let (x, y) = g.center(100, 3);
    fire.ignitions = vec![IgnitionSpec { x, y, t_s: 600.0 }];
    sim.add_plugin_standalone(&FirePlugin(&fire), 1)
        .expect("fire builds");
    sim.run_to_end(|_| {}).expect("runs");
    let events = sim
        .world
        .resource::<crate::events::EventLog>()
        .events()
        .to_vec();
    let eta = first(&events, "engine.dispatched")
        .and_then(|e| e.data.get("eta_s"))
        .and_then(|v| v.as_f64())
        .unwrap_or(f64::INFINITY);
    let burnt = sim
        .world
        .resource::<Metrics>()
        .stats("fire.affected_area_m2")
        .map_or(0.0, |s| s.max);
    (eta, burnt, events)
}

/// A flooded road lengthens the fire engine's route and more burns before it arrives:
/// the same flood and fire with `flood_roads` on (the engine goes round by the south
/// road) and off (it drives through the water).
#[test]
fn flooded_road_lengthens_the_engine_route_and_more_burns() {
    let (eta_on, burnt_on, ev) = fire_during_flood(Couplings::default());
    let (eta_off, burnt_off, _) = fire_during_flood(Couplings {
        flood_roads: false,
        ..Couplings::default()
    });
    eprintln!("engine drive {eta_off:.0} s → {eta_on:.0} s; burnt {burnt_off} → {burnt_on} m²");
    assert!(
        ev.iter()
            .any(|e| e.source == "flood" && e.kind.contains("closed")),
        "the flood closes a road: {:?}",
        ev.iter()
            .map(|e| &e.kind)
            .collect::<std::collections::BTreeSet<_>>()
    );
    assert!(eta_on.is_finite() && eta_on > eta_off + 60.0);
    assert!(burnt_on > burnt_off);
}

// ---- power → metro → people at the stations -------------------------------------------

fn metro_blackout(couplings: &str) -> RunOutput {
    run_text(&format!(
        r#"
format = 1
name = "metro"
seed = 6
[time]
duration_s = 900
tick_s = 2
[city]
source = "generate"
width_m = 600
height_m = 500
cell_m = 10
[plan]
add_assets = [
  {{ id = "S9", kind = "substation", x = 100, y = 100, capacity = 10000 }},
  {{ id = "M9", kind = "metro_entrance", x = 300, y = 250, depends_on = ["S9"] }},
  {{ id = "BIG", kind = "shelter", x = 100, y = 450, capacity = 1000000 }},
]
[[hazards]]
kind = "lifelines"
fragility = []
failures = [{{ asset = "S9", t_s = 120 }}]
[[hazards]]
kind = "crowd"
reroute_interval_s = 30
[hazards.district]
people_per_agent = 20
warning_s = 0
premovement = {{ median_s = 60, log_sd = 0.3 }}
metro_people_per_entrance = 400
[couplings]
{couplings}
"#
    ))
}

/// Power loss stops the metro: the substation feeding entrance M9 fails, the entrance
/// closes and its passengers come up onto the street and walk to the shelters, so more
/// people need shelter than with `power_metro` off (the same run, the metro running on).
#[test]
fn power_loss_closes_the_metro_and_its_passengers_need_shelter() {
    let on = metro_blackout("");
    let off = metro_blackout("power_metro = false");
    let closed = on
        .events
        .iter()
        .find(|e| e.kind == "metro.closed")
        .expect("the metro entrance closes");
    assert_eq!(
        closed.place.as_ref().and_then(|p| p.name.as_deref()),
        Some("M9")
    );
    let failed = on
        .events
        .iter()
        .find(|e| {
            e.kind == "asset.failed"
                && e.place.as_ref().and_then(|p| p.name.as_deref()) == Some("M9")
        })
        .expect("M9 loses power");
    assert!(failed.message.contains("dependency: S9"));
    assert!(closed.t >= failed.t);
    assert!(!off.events.iter().any(|e| e.kind == "metro.closed"));
    let (p_on, p_off) = (kpi(&on, "crowd.people"), kpi(&off, "crowd.people"));
    let (m_on, m_off) = (
        kpi(&on, "crowd.metro_passengers_people"),
        kpi(&off, "crowd.metro_passengers_people"),
    );
    let shelter = |o: &RunOutput| o.summary.metrics["crowd.shelter.BIG.occupancy_people"].last;
    eprintln!(
        "people {p_off} → {p_on}; metro passengers {m_off} → {m_on}; BIG {} → {}",
        shelter(&off),
        shelter(&on)
    );
    assert_eq!(m_off, 0.0);
    assert_eq!(m_on, 400.0);
    assert_eq!(p_on, p_off + 400.0);
    assert!(shelter(&on) > shelter(&off));
}
