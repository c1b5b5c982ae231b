//! Validation suite `fire`: spread speed against the Hamada formula, gap crossing and
//! firebreaks, and engine travel times against an independent shortest-path reference.

use rand::RngExt;

use super::roads::RoadNet;
use super::spread::{self, DOWN, Spread, UP, Wind};
use super::{FirePlugin, FireSpec, GeometrySpec, IgnitionSpec, spread_setup};
use crate::city::assets::spawn_assets;
use crate::city::{
    AssetKind, AssetSpec, Building, BuildingUse, City, Construction, LandUse, RoadClass,
};
use crate::coupling::{Closures, blocked};
use crate::events::EventLog;
use crate::grid::GridSpec;
use crate::rng::RngStreams;
use crate::sim::Simulation;
use crate::validation::{Case, CaseResult, Check, Figure, Series, Suite};

pub fn suite() -> Suite {
    Suite {
        name: "fire",
        title: "Urban fire spread (Hamada) and fire service routing",
        cases: vec![
            Case {
                name: "hamada-spread-speed",
                run: hamada_spread_speed,
            },
            Case {
                name: "gap-crossing-and-firebreak",
                run: gap_crossing,
            },
            Case {
                name: "road-travel-times",
                run: road_travel_times,
            },
        ],
    }
}

/// A spec for spread-only cases: wind from the west (blowing east) at `v`.
fn spec(v: f64, cv: f64, geometry: Option<GeometrySpec>) -> FireSpec {
    let mut s: FireSpec = toml::from_str("").expect("all defaults");
    s.wind_speed_m_s = v;
    s.wind_from_deg = 270.0;
    s.spread_cv = cv;
    s.geometry = geometry;
    s
}

fn building(storeys: u16, construction: Construction, footprint: f32, anchor: usize) -> Building {
    Building {
        storeys,
        height_m: f32::from(storeys) * 3.0,
        use_: BuildingUse::Residential,
        construction,
        occupants_day: 0.0,
        occupants_night: 0.0,
        value_yuan: 0.0,
        footprint_m2: footprint,
        anchor: anchor as u32,
    }
}

/// A regular array of `a` × `a` buildings with gaps `d` (cells of 1 m), each
/// fire-resistive with probability `f` (stream `fire.validation.construction`).
pub(crate) fn block_city(nx: usize, ny: usize, a: usize, d: usize, f: f64, seed: u64) -> City {
    let mut city = City::flat(GridSpec::new(nx, ny, 1.0));
    let rng = RngStreams::new(seed);
    let p = a + d;
    let mut ids = std::collections::BTreeMap::new();
    for j in 0..ny {
        for i in 0..nx {
            if i % p >= a || j % p >= a {
                continue;
            }
            let key = (i / p, j / p);
            let k = j * nx + i;
            let next = city.buildings.len() as u32;
            let id = *ids.entry(key).or_insert(next);
            if id == next {
                let fr = rng
                    .indexed("fire.validation.construction", u64::from(id))
                    .random::<f64>()
                    < f;
                let c = if fr {
                    Construction::FireResistive
                } else {
                    Construction::Wooden
                };
                city.buildings.push(building(2, c, 0.0, k));
            }
            city.buildings[id as usize].footprint_m2 += 1.0;
            city.landuse[k] = LandUse::Building;
            city.building[k] = id;
        }
    }
    city
}

/// First arrival at each building, s.
fn building_arrivals(city: &City, sp: &Spread) -> Vec<f64> {
    let mut t = vec![f64::INFINITY; city.buildings.len()];
    for (c, &b) in city.building.iter().enumerate() {
        if b != crate::city::NO_BUILDING {
            t[b as usize] = t[b as usize].min(sp.arrival[c]);
        }
    }
    t
}

/// Least-squares slope of y on x.
fn slope(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let sxy: f64 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
    let sxx: f64 = x.iter().map(|a| (a - mx) * (a - mx)).sum();
    sxy / sxx
}

/// The uniform block of buildings of `hamada_spread_speed`, on a 1-m grid.
struct Block {
    /// Building side, m.
    a: usize,
    /// Gap, m.
    d: usize,
    nx: usize,
    ny: usize,
    /// Pitch indices of the ignited building.
    origin: (usize, usize),
}

impl Block {
    fn pitch(&self) -> usize {
        self.a + self.d
    }

    /// The centre cell of the ignited building.
    fn start_cell(&self) -> usize {
        let (bi, bj) = self.origin;
        let (ci, cj) = (
            bi * self.pitch() + self.a / 2,
            bj * self.pitch() + self.a / 2,
        );
        cj * self.nx + ci
    }

    /// The building at pitch indices (i, j).
    fn building(&self, city: &City, i: usize, j: usize) -> usize {
        city.building[(j * self.pitch()) * self.nx + i * self.pitch()] as usize
    }
}

/// Burn `city` from `start` until `t_end` in steps of 5 min under the spec's uniform
/// wind: the spread, the cells reached in order, and their count after each step.
fn burn(
    city: &City,
    s: &FireSpec,
    start: usize,
    t_end: f64,
    label: String,
) -> (Spread, Vec<u32>, Series) {
    let setup = spread_setup(city, s, &RngStreams::new(1)).expect("valid");
    let mut sp = Spread::new(setup);
    sp.ignite(start, 0.0, 0);
    let (u, w) = s.wind();
    let mut ign = Vec::new();
    let mut area = Series {
        label,
        x: vec![],
        y: vec![],
    };
    let mut t = 0.0;
    while t < t_end {
        t += 300.0;
        sp.advance(t, Wind::Uniform(u as f32, w as f32), &mut ign);
        area.x.push(t / 60.0);
        area.y.push(ign.len() as f64);
    }
    (sp, ign, area)
}

/// Spread speed along each axis from the ignited building (least-squares slope of first
/// arrival against distance, from the second pitch on) over Hamada's `want`, pushed to
/// `checks`; returns how far the fire got along each axis, m.
fn axis_speed_checks(
    case: &str,
    block: &Block,
    city: &City,
    sp: &Spread,
    want: [f64; 3],
    (f, v): (f64, f64),
    checks: &mut Vec<Check>,
) -> [f64; 4] {
    let p = block.pitch() as f64;
    let (bi, bj) = block.origin;
    let tb = building_arrivals(city, sp);
    let nbx = block.nx / block.pitch();
    let nby = block.ny / block.pitch();
    let dirs: [(&str, i64, i64, usize); 4] = [
        ("downwind", 1, 0, DOWN),
        ("upwind", -1, 0, UP),
        ("crosswind north", 0, -1, spread::CROSS),
        ("crosswind south", 0, 1, spread::CROSS),
    ];
    let mut reach = [0.0f64; 4];
    for (k, (name, di, dj, x)) in dirs.iter().enumerate() {
        let (mut xs, mut ys) = (vec![], vec![]);
        for step in 2.. {
            let (i, j) = (bi as i64 + di * step, bj as i64 + dj * step);
            if i < 0 || j < 0 || i >= nbx as i64 || j >= nby as i64 {
                break;
            }
            let t = tb[block.building(city, i as usize, j as usize)];
            if !t.is_finite() {
                break;
            }
            xs.push(step as f64 * p);
            ys.push(t);
            reach[k] = step as f64 * p;
        }
        let ros = if xs.len() >= 3 {
            60.0 / slope(&xs, &ys)
        } else {
            f64::NAN
        };
        checks.push(Check::new(
            case,
            &format!("{name} speed / Hamada, V = {v} m/s, f = {f}"),
            ros / want[*x],
            0.85,
            1.15,
            "ratio",
        ));
    }
    reach
}

/// Burnt length along the wind over width across it after 1 h, and the same ratio of
/// Hamada's double semi-ellipse with speeds `want`.
fn elongation(sp: &Spread, ign: &[u32], nx: usize, want: [f64; 3]) -> (f64, f64) {
    let (mut x0, mut x1, mut y0, mut y1) = (usize::MAX, 0, usize::MAX, 0);
    for &c in ign {
        let (i, j) = (c as usize % nx, c as usize / nx);
        if sp.arrival[c as usize] <= 3600.0 {
            x0 = x0.min(i);
            x1 = x1.max(i);
            y0 = y0.min(j);
            y1 = y1.max(j);
        }
    }
    let ratio = (x1 - x0) as f64 / (y1 - y0) as f64;
    // The double semi-ellipse's length over its greatest width.
    let half_width = (0..=1800)
        .map(|n| {
            let th = n as f64 / 1800.0 * std::f64::consts::PI;
            spread::ros_in_direction(want, th.cos()) * th.sin()
        })
        .fold(0.0, f64::max);
    (ratio, (want[DOWN] + want[UP]) / (2.0 * half_width))
}

/// Spread speed on a uniform block of 10 × 10 m buildings 3 m apart (the firebench
/// fixture geometry), wind 0, 5 and 10 m/s, all wooden and 40 % fire-resistive.
pub fn hamada_spread_speed() -> CaseResult {
    let case = "hamada-spread-speed";
    // Ignite the centre of a building 15 pitches from the west edge, mid-height.
    let block = Block {
        a: 10,
        d: 3,
        nx: 91 * 13,
        ny: 39 * 13,
        origin: (15, 19),
    };
    let p = block.pitch() as f64;
    let t_end = 6000.0;
    let mut checks = Vec::new();
    let mut area_series = Vec::new();
    let mut elong = Series {
        label: "simulated".into(),
        x: vec![],
        y: vec![],
    };
    let mut elong_ref = Series {
        label: "Hamada double semi-ellipse".into(),
        x: vec![],
        y: vec![],
    };
    for (f, winds) in [(0.0, vec![0.0, 5.0, 10.0]), (0.4, vec![5.0, 10.0])] {
        let city = block_city(block.nx, block.ny, block.a, block.d, f, 7);
        for v in winds {
            let s = spec(v, FireSpec::default().spread_cv, None);
            let label = format!("V = {v} m/s, f = {f}");
            let (sp, ign, area) = burn(&city, &s, block.start_cell(), t_end, label);
            let want = spread::hamada_ros(block.a as f64, block.d as f64, f, v);
            let reach = axis_speed_checks(case, &block, &city, &sp, want, (f, v), &mut checks);
            if f != 0.0 {
                continue;
            }
            area_series.push(area);
            let (ratio, want_ratio) = elongation(&sp, &ign, block.nx, want);
            elong.x.push(v);
            elong.y.push(ratio);
            elong_ref.x.push(v);
            elong_ref.y.push(want_ratio);
            checks.push(Check::new(
                case,
                &format!("burnt length / width after 1 h / Hamada, V = {v} m/s"),
                ratio / want_ratio,
                0.75,
                1.25,
                "ratio",
            ));
            if v > 0.0 {
                checks.push(Check::new(
                    case,
                    &format!("downwind / upwind reach, V = {v} m/s"),
                    reach[0] / reach[1].max(p),
                    1.2,
                    f64::INFINITY,
                    "ratio",
                ));
            }
        }
    }
    let figures = vec![
        Figure {
            name: "fire-burnt-area".into(),
            title: "Burning or burnt building area on a uniform block (a = 10 m, d = 3 m)".into(),
            x_label: "time (min)".into(),
            y_label: "building area reached (m²)".into(),
            series: area_series,
        },
        Figure {
            name: "fire-elongation".into(),
            title: "Elongation of the burnt area after 1 h".into(),
            x_label: "wind speed (m/s)".into(),
            y_label: "length / width".into(),
            series: vec![elong, elong_ref],
        },
    ];
    CaseResult {
        checks,
        figures,
        notes: "Regular array of 10 × 10 m buildings with 3-m gaps on a 1-m grid; one building \
                ignited; per-building random delay factor with the default CV (0.1); the speed along each axis is the least-squares slope of first arrival \
                against distance over the buildings reached in 100 min, compared with Hamada's \
                formula (firebench Hamada_1: 152/68/68, 265/83/76, 437/118/92 m/h at f = 0; \
                207/63/58, 343/90/70 at f = 0.4)."
            .into(),
    }
}

/// Time to cross a gap in calm air, against Hamada's gap term, and a firebreak wider
/// than the limit.
pub fn gap_crossing() -> CaseResult {
    let case = "gap-crossing-and-firebreak";
    let mut checks = Vec::new();
    let (mut sim_s, mut ref_s) = (
        Series {
            label: "simulated".into(),
            x: vec![],
            y: vec![],
        },
        Series {
            label: "Hamada t_o = 3 + 0.375a + 8d/5 (calm air)".into(),
            x: vec![],
            y: vec![],
        },
    );
    let limit = 14.0;
    let cross = |gap: usize| -> f64 {
        // Two 10 × 10 m wooden buildings in a row, `gap` m apart, 1-m cells.
        let (nx, ny) = (20 + gap + 10, 30);
        let mut city = City::flat(GridSpec::new(nx, ny, 1.0));
        for (id, x0) in [(0u32, 10usize), (1, 20 + gap)] {
            city.buildings
                .push(building(2, Construction::Wooden, 100.0, 10 * nx + x0));
            for j in 10..20 {
                for i in x0..x0 + 10 {
                    city.landuse[j * nx + i] = LandUse::Building;
                    city.building[j * nx + i] = id;
                }
            }
        }
        // Calm air; the formula's "downwind" points south, so the row runs crosswind.
        let mut s = spec(0.0, 0.0, None);
        s.wind_from_deg = 0.0;
        s.firebreak_m = limit;
        let setup = spread_setup(&city, &s, &RngStreams::new(1)).expect("valid");
        let mut sp = Spread::new(setup);
        sp.ignite(15 * nx + 10, 0.0, 0);
        let mut ign = Vec::new();
        sp.advance(1e6, Wind::Uniform(0.0, 0.0), &mut ign);
        sp.arrival[15 * nx + 20 + gap]
    };
    for gap in [0usize, 2, 4, 6, 8, 10, 12, 14] {
        let t = cross(gap);
        let want = 60.0 * spread::pitch_time(10.0, gap as f64, 0.0, 0.0, spread::CROSS);
        sim_s.x.push(gap as f64);
        sim_s.y.push(t / 60.0);
        ref_s.x.push(gap as f64);
        ref_s.y.push(want / 60.0);
        checks.push(Check::new(
            case,
            &format!("pitch crossing time / Hamada, gap {gap} m"),
            t / want,
            0.99,
            1.01,
            "ratio",
        ));
    }
    let beyond = cross(16);
    checks.push(Check::new(
        case,
        "buildings ignited across a 16-m gap (limit 14 m)",
        if beyond.is_finite() { 1.0 } else { 0.0 },
        0.0,
        0.0,
        "buildings",
    ));
    CaseResult {
        checks,
        figures: vec![Figure {
            name: "fire-gap-crossing".into(),
            title: "Time from one wooden building's far side to the next one, calm air".into(),
            x_label: "gap (m)".into(),
            y_label: "time (min)".into(),
            series: vec![sim_s, ref_s],
        }],
        notes: "Two 10 × 10 m wooden buildings in a row on a 1-m grid, calm air, the row across \
                the formula's nominal wind; the time from the first building's far side to the \
                second's near side is Hamada's pitch time t_o(a = 10, d) = 3 + 0.375a + 8d/5 min \
                (the crosswind and upwind forms agree in calm air), growing by 1.6 min per metre \
                of gap. A gap wider than the limit (14 m, Kobe 1995 survey) stops \
                the spread."
            .into(),
    }
}

/// Independent reference: Bellman–Ford over an explicit edge list of road cells.
fn bellman_ford(net: &RoadNet, src: usize, blocked: &dyn Fn(usize) -> bool) -> Vec<f64> {
    let n = net.nx * net.ny;
    let mut edges = Vec::new();
    for a in 0..n {
        if !net.is_road(a) || blocked(a) {
            continue;
        }
        let (ai, aj) = ((a % net.nx) as i64, (a / net.nx) as i64);
        for dj in -1..=1i64 {
            for di in -1..=1i64 {
                let (bi, bj) = (ai + di, aj + dj);
                if (di == 0 && dj == 0)
                    || bi < 0
                    || bj < 0
                    || bi >= net.nx as i64
                    || bj >= net.ny as i64
                {
                    continue;
                }
                let b = (bj * net.nx as i64 + bi) as usize;
                if !net.is_road(b) || blocked(b) {
                    continue;
                }
                let len = net.cell * if di != 0 && dj != 0 { 2f64.sqrt() } else { 1.0 };
                let w = len / 2.0 / f64::from(net.speed[a]) + len / 2.0 / f64::from(net.speed[b]);
                edges.push((a, b, w));
            }
        }
    }
    let mut d = vec![f64::INFINITY; n];
    d[src] = 0.0;
    loop {
        let mut changed = false;
        for &(a, b, w) in &edges {
            if d[a] + w < d[b] {
                d[b] = d[a] + w;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    d
}

/// A flat `nx` × `ny` city of 10 m cells with a ladder of arterial roads: east–west
/// along rows `north` and `south`, joined by north–south ones along the edge columns.
pub(crate) fn ladder(nx: usize, ny: usize, north: usize, south: usize) -> City {
    let mut city = City::flat(GridSpec::new(nx, ny, 10.0));
    let mut road = |i: usize, j: usize| {
        city.road[j * nx + i] = RoadClass::Arterial;
        city.landuse[j * nx + i] = LandUse::Road;
    };
    for i in 0..nx {
        road(i, north);
        road(i, south);
    }
    for j in north..=south {
        road(0, j);
        road(nx - 1, j);
    }
    city
}

/// A ladder of two east–west roads joined at both ends, a station at the west end of
/// the north road and a building at its east end.
fn ladder_city() -> City {
    let nx = 60;
    let mut city = ladder(nx, 20, 5, 15);
    let b = 4 * nx + 57;
    city.landuse[b] = LandUse::Building;
    city.building[b] = 0;
    city.buildings
        .push(building(6, Construction::FireResistive, 100.0, b));
    let (x, y) = city.grid.center(2, 5);
    city.assets.push(AssetSpec {
        id: "FS-1".into(),
        kind: AssetKind::FireStation,
        x,
        y,
        capacity: 1.0,
        depends_on: vec![],
    });
    city
}

/// Run the ladder city with one fire; close `close` (cell) at time `t_close`. Returns
/// the engine's response time (dispatch order to arrival), s.
fn ladder_response(close: Option<(usize, f64)>) -> f64 {
    let city = ladder_city();
    let mut sim = Simulation::new(1, 1.0, 900.0, 60.0);
    spawn_assets(&mut sim.world, &city.assets, &city.grid);
    sim.world.insert_resource(Closures::new(&city.grid));
    let (x, y) = city.grid.center(57, 4);
    let mut s = spec(0.0, 0.0, None);
    s.ignitions = vec![IgnitionSpec { x, y, t_s: 0.0 }];
    s.service.alarm_handling_s = 0.0;
    s.service.turnout_s = 60.0;
    sim.world.insert_resource(city);
    sim.add_plugin_standalone(&FirePlugin(&s), 0)
        .expect("builds");
    while !sim.clock().finished() {
        if let Some((c, t)) = close
            && (sim.clock().t() - t).abs() < 1e-9
        {
            sim.world
                .resource_mut::<Closures>()
                .set(c, blocked::FLOOD_VEHICLE, true);
        }
        sim.step().expect("runs");
    }
    let log = sim.world.resource::<EventLog>();
    log.events()
        .iter()
        .find(|e| e.kind == "engine.arrived")
        .and_then(|e| e.data.get("response_time_s"))
        .and_then(|v| v.as_f64())
        .unwrap_or(f64::NAN)
}

/// Road travel times against Bellman–Ford on random grids; a closed road re-routes the
/// engine and its response time grows by the detour.
pub fn road_travel_times() -> CaseResult {
    let case = "road-travel-times";
    let mut checks = Vec::new();
    // Random small grids, random speeds and closures.
    let rng = RngStreams::new(3);
    let mut worst: f64 = 0.0;
    for g in 0..10u64 {
        let mut r = rng.indexed("fire.validation.grid", g);
        let (nx, ny) = (9, 7);
        let speed: Vec<f32> = (0..nx * ny)
            .map(|_| {
                if r.random::<f64>() < 0.7 {
                    r.random_range(3.0f32..25.0)
                } else {
                    0.0
                }
            })
            .collect();
        let closed: Vec<bool> = (0..nx * ny).map(|_| r.random::<f64>() < 0.1).collect();
        let net = RoadNet::from_speeds(nx, ny, 10.0, speed, 50.0);
        for src in 0..nx * ny {
            if !net.is_road(src) || closed[src] {
                continue;
            }
            let tree = net.search(&[(src as u32, 0.0)], &|c| closed[c], &[]);
            let want = bellman_ford(&net, src, &|c| closed[c]);
            for (a, b) in tree.time.iter().zip(&want) {
                let e = if a.is_infinite() && b.is_infinite() {
                    0.0
                } else {
                    (a - b).abs()
                };
                worst = worst.max(e);
            }
        }
    }
    checks.push(Check::new(
        case,
        "max |Dijkstra − Bellman–Ford| over 10 random 9 × 7 grids",
        worst,
        0.0,
        1e-9,
        "s",
    ));
    // Engine response on the ladder: open, closed before dispatch, closed mid-drive.
    let city = ladder_city();
    let net = RoadNet::from_city(&city, 1.0, 150.0);
    let (station, target) = (5 * 60 + 2, 5 * 60 + 57);
    let closed_cell = 5 * 60 + 30;
    let turnout = 60.0;
    let open = bellman_ford(&net, station, &|_| false)[target];
    let detour = bellman_ford(&net, station, &|c| c == closed_cell)[target];
    let r_open = ladder_response(None);
    let r_closed = ladder_response(Some((closed_cell, 0.0)));
    checks.push(Check::new(
        case,
        "response time, open road − (turnout + reference travel)",
        r_open - (turnout + open),
        -1e-6,
        1e-6,
        "s",
    ));
    checks.push(Check::new(
        case,
        "response time, road closed before dispatch − (turnout + reference detour)",
        r_closed - (turnout + detour),
        -1e-6,
        1e-6,
        "s",
    ));
    // Closed while driving: at t_c the engine is at the last cell it reached; from there
    // it drives the reference detour.
    let t_c = 80.0;
    let per_cell = 10.0 / (RoadClass::Arterial.design_speed_kmh() / 3.6);
    let k = ((t_c - turnout) / per_cell).floor() as usize;
    let here = station + k;
    let from_here = bellman_ford(&net, here, &|c| c == closed_cell)[target];
    let r_mid = ladder_response(Some((closed_cell, t_c)));
    checks.push(Check::new(
        case,
        "response time, road closed mid-drive − (t_close + reference detour from there)",
        r_mid - (t_c + from_here),
        -1e-6,
        1e-6,
        "s",
    ));
    checks.push(Check::new(
        case,
        "extra time from the closure before dispatch",
        r_closed - r_open,
        detour - open - 1e-6,
        detour - open + 1e-6,
        "s",
    ));
    CaseResult {
        checks,
        figures: vec![Figure {
            name: "fire-ladder-response".into(),
            title: "Engine response time on the ladder network".into(),
            x_label: "case (0 open, 1 closed before dispatch, 2 closed mid-drive)".into(),
            y_label: "response time (s)".into(),
            series: vec![
                Series {
                    label: "simulated".into(),
                    x: vec![0.0, 1.0, 2.0],
                    y: vec![r_open, r_closed, r_mid],
                },
                Series {
                    label: "reference (Bellman–Ford)".into(),
                    x: vec![0.0, 1.0, 2.0],
                    y: vec![turnout + open, turnout + detour, t_c + from_here],
                },
            ],
        }],
        notes: "Travel times of the grid Dijkstra equal an independent Bellman–Ford over an \
                explicit edge list (edge time: half the length at each end's speed). On a \
                ladder of two arterial roads, an engine's response time equals turnout plus \
                the reference travel time; closing a road cell (flood flag) before dispatch or \
                while driving re-routes the engine over the detour."
            .into(),
    }
}

#[cfg(test)]
mod tests {
    use crate::validation::assert_case_passes;

    use crate::validation::CaseResult;

    fn show(r: CaseResult) -> CaseResult {
        for c in &r.checks {
            eprintln!(
                "{} | {} | {:.4} [{}, {}] {}",
                c.case, c.metric, c.value, c.lo, c.hi, c.unit
            );
        }
        r
    }

    #[test]
    fn hamada_spread_speed() {
        assert_case_passes(&show(super::hamada_spread_speed()));
    }

    #[test]
    fn gap_crossing_and_firebreak() {
        assert_case_passes(&show(super::gap_crossing()));
    }

    #[test]
    fn road_travel_times() {
        assert_case_passes(&show(super::road_travel_times()));
    }
}
