//! The fire hazard's pure setup: spec + city → the spread grid's inputs, the road graph,
//! the ignition schedule, the stations and their coverage, with every check against the
//! city (an ignition off the grid or outside a building, a station off the road
//! network). `crucible check` runs it without building a simulation; `FirePlugin::build`
//! runs it and only spawns and inserts what it returns.

use rand::RngExt;
use rand_distr::{Distribution, LogNormal};

use super::buildings::{building_geometry, building_kind, stage_durations};
use super::coverage::{self, Coverage};
use super::roads::{self, RoadNet};
use super::spec::{FireSpec, MAX_ENGINES_PER_STATION, RandomSpec};
use super::spread::{self, SpreadSetup};
use crate::city::{AssetKind, City, LandUse, NO_BUILDING};
use crate::rng::RngStreams;
use crate::sim::{BuildContext, BuildError, SimClock};
use crate::spec::KeyPath;

/// A scheduled ignition: (time s, building cell, cause).
pub type Ignition = (f64, u32, String);

/// Everything the fire plugin is built from.
pub struct FireSetup {
    pub spread: SpreadSetup,
    pub net: RoadNet,
    /// Grid cells of each building.
    pub building_cells: Vec<u32>,
    /// Pending ignitions, latest first.
    pub schedule: Vec<Ignition>,
    /// Fire stations by id.
    pub stations: Vec<StationPlan>,
    pub coverage: Coverage,
    /// Road pieces no station can reach, if any (and there are stations).
    pub cut_off: Option<CutOffRoads>,
}

/// A fire station of the city, checked: where its engines leave from and how many.
#[derive(Debug, Clone)]
pub struct StationPlan {
    pub id: String,
    /// Road cell the engines leave from.
    pub road_cell: u32,
    pub engines: u32,
}

/// Parts of the road network cut off from every fire station.
#[derive(Debug, Clone, Copy)]
pub struct CutOffRoads {
    pub pieces: usize,
    pub road_cells: u64,
    /// First cell of the largest piece.
    pub first_cell: u32,
}

/// The fire plugin's setup from its spec and the build context; errors name the key of
/// the offending value.
pub fn setup(spec: &FireSpec, ctx: &BuildContext) -> Result<FireSetup, BuildError> {
    let city = ctx.city;
    // The clock's own length (whole ticks): ignitions must fall inside the run.
    let duration = SimClock::new(ctx.tick_s, ctx.duration_s).duration();
    let spread = spread_setup(city, spec, &ctx.streams)
        .map_err(|e| BuildError::new(ctx.key("spread_cv"), e))?;
    let net = RoadNet::from_city(city, spec.service.speed_factor, spec.service.hose_reach_m);
    let mut schedule = given_ignitions(spec, city, ctx.at, duration)?;
    if let Some(r) = &spec.random {
        schedule.extend(random_ignitions(city, r, duration, &ctx.streams));
    }
    schedule.sort_by(|a, b| b.0.total_cmp(&a.0).then(b.1.cmp(&a.1)));
    let stations = plan_stations(spec, city, &net)?;
    let station_cells: Vec<u32> = stations.iter().map(|s| s.road_cell).collect();
    let coverage = coverage::coverage(
        &net,
        &station_cells,
        &land_cells(city),
        &expected_calls(spec, city),
        coverage::Limits {
            cn_travel_s: spec.coverage.cn_limit_s - spec.coverage.cn_turnout_s,
            nfpa_travel_s: spec.coverage.nfpa_travel_s,
        },
    );
    let cut_off = cut_off_roads(&net, &station_cells);
    Ok(FireSetup {
        spread,
        net,
        building_cells: building_cells(city),
        schedule,
        stations,
        coverage,
        cut_off,
    })
}

/// The spread grid's inputs from the city and the spec: cell kinds by construction,
/// per-building random factors (stream `fire.spread`, one per building) and stages.
pub fn spread_setup(city: &City, spec: &FireSpec, rng: &RngStreams) -> Result<SpreadSetup, String> {
    let g = city.grid;
    let n = g.len();
    let kind: Vec<u8> = (0..n)
        .map(|c| match city.building[c] {
            NO_BUILDING => spread::GAP,
            b => building_kind(city.buildings[b as usize].construction),
        })
        .collect();
    let building: Vec<u32> = city
        .building
        .iter()
        .map(|&b| if b == NO_BUILDING { spread::NONE } else { b })
        .collect();
    let sigma2 = (1.0 + spec.spread_cv * spec.spread_cv).ln();
    let ln = LogNormal::new(-sigma2 / 2.0, sigma2.sqrt()).map_err(|e| e.to_string())?;
    let factor: Vec<f32> = (0..city.buildings.len())
        .map(|b| {
            if spec.spread_cv == 0.0 {
                1.0
            } else {
                ln.sample(&mut rng.indexed("fire.spread", b as u64)) as f32
            }
        })
        .collect();
    let stages = city
        .buildings
        .iter()
        .map(|b| stage_durations(b.use_))
        .collect();
    let geometry = match spec.geometry {
        Some(gs) => vec![[gs.a_m as f32, gs.d_m as f32, gs.f as f32]; city.buildings.len()],
        None => building_geometry(city, spec.firebreak_m),
    };
    let to = (spec.wind_from_deg + 180.0).to_radians();
    Ok(SpreadSetup {
        nx: g.nx,
        ny: g.ny,
        cell: g.cell,
        kind,
        building,
        factor,
        stages,
        geometry,
        limit_m: spec.firebreak_m,
        calm_dir: (to.sin(), to.cos()),
    })
}

/// Grid cells of each building.
fn building_cells(city: &City) -> Vec<u32> {
    let mut cells = vec![0u32; city.buildings.len()];
    for &b in &city.building {
        if b != NO_BUILDING {
            cells[b as usize] += 1;
        }
    }
    cells
}

/// The spec's ignitions, checked against the city: on the grid, in a building, before
/// the end of the run.
fn given_ignitions(
    spec: &FireSpec,
    city: &City,
    at: &KeyPath,
    duration: f64,
) -> Result<Vec<Ignition>, BuildError> {
    let g = city.grid;
    let mut schedule = Vec::new();
    for (k, ig) in spec.ignitions.iter().enumerate() {
        let key = at.key("ignitions").index(k);
        let Some((i, j)) = g.locate(ig.x, ig.y) else {
            return Err(BuildError::new(
                key,
                format!(
                    "ignition at ({}, {}) is off the grid (x {}–{}, y {}–{})",
                    ig.x,
                    ig.y,
                    g.x0,
                    g.x0 + g.width_m(),
                    g.y0,
                    g.y0 + g.height_m()
                ),
            ));
        };
        let c = g.index(i, j);
        if city.building[c] == NO_BUILDING {
            let lu = city.landuse[c];
            let what = if matches!(lu, LandUse::Water | LandUse::Sea) {
                format!("is in the {}: fires start in buildings", lu.label())
            } else {
                format!(
                    "is on {} (cell {i}, {j}), not in a building: fires start in buildings",
                    lu.label()
                )
            };
            return Err(BuildError::new(
                key,
                format!("ignition at ({}, {}) {what}", ig.x, ig.y),
            ));
        }
        if ig.t_s >= duration {
            return Err(BuildError::new(
                key.key("t_s"),
                format!(
                    "ignition at t = {} s is after the end of the run ({duration} s)",
                    ig.t_s
                ),
            ));
        }
        schedule.push((ig.t_s, c as u32, "given".into()));
    }
    Ok(schedule)
}

/// Random ignition times and cells: a Poisson process of total rate Σ floor area × rate,
/// each fire placed in a building drawn in proportion to its rate.
pub fn random_ignitions(
    city: &City,
    r: &RandomSpec,
    duration: f64,
    rng: &RngStreams,
) -> Vec<Ignition> {
    const YEAR_S: f64 = 365.25 * 86_400.0;
    let mut cum = Vec::with_capacity(city.buildings.len());
    let mut total = 0.0;
    for b in &city.buildings {
        total += r.rates_per_m2_year.of(b.use_)
            * f64::from(b.footprint_m2)
            * f64::from(b.storeys)
            * r.multiplier
            / YEAR_S;
        cum.push(total);
    }
    let mut out = Vec::new();
    if total <= 0.0 {
        return out;
    }
    let mut s = rng.stream("fire.ignitions");
    let mut t = 0.0;
    loop {
        let u: f64 = s.random();
        t += -(1.0 - u).ln() / total;
        if t >= duration {
            break;
        }
        let pick: f64 = s.random::<f64>() * total;
        let b = cum.partition_point(|&c| c <= pick).min(cum.len() - 1);
        out.push((t, city.buildings[b].anchor, "random".into()));
    }
    out
}

/// Expected calls per cell (the coverage's weights): floor area of the cell × rate of
/// its building's use.
fn expected_calls(spec: &FireSpec, city: &City) -> Vec<f32> {
    let rates = spec
        .random
        .as_ref()
        .map(|r| r.rates_per_m2_year)
        .unwrap_or_default();
    let cell_area = city.grid.cell_area();
    city.building
        .iter()
        .map(|&b| match b {
            NO_BUILDING => 0.0,
            b => {
                let bd = &city.buildings[b as usize];
                (rates.of(bd.use_) * cell_area * f64::from(bd.storeys)) as f32
            }
        })
        .collect()
}

/// Cells of the district's land (not water or sea).
fn land_cells(city: &City) -> Vec<bool> {
    city.landuse
        .iter()
        .map(|l| !matches!(l, LandUse::Water | LandUse::Sea))
        .collect()
}

/// The city's fire stations by id, each checked: on the road network, with engines, not
/// too many.
fn plan_stations(
    spec: &FireSpec,
    city: &City,
    net: &RoadNet,
) -> Result<Vec<StationPlan>, BuildError> {
    let g = city.grid;
    let assets = || KeyPath::root().key("assets");
    let mut sites: Vec<_> = city
        .assets
        .iter()
        .filter(|a| a.kind == AssetKind::FireStation)
        .collect();
    sites.sort_by(|a, b| a.id.cmp(&b.id));
    let mut plans = Vec::with_capacity(sites.len());
    for a in sites {
        let (id, x, y) = (&a.id, a.x, a.y);
        let Some((i, j)) = g.locate(x, y) else {
            return Err(BuildError::new(
                assets(),
                format!("fire station `{id}` at ({x}, {y}) is off the grid"),
            ));
        };
        let road = net.access[g.index(i, j)];
        if road == roads::NONE {
            return Err(BuildError::new(
                assets(),
                format!(
                    "fire station `{id}` at ({x}, {y}) is off the road network: no road within {} m",
                    spec.service.hose_reach_m
                ),
            ));
        }
        let engines = spec
            .service
            .engines_per_station
            .map_or(a.capacity.round().max(0.0), f64::from);
        if engines > f64::from(MAX_ENGINES_PER_STATION) {
            return Err(BuildError::new(
                assets(),
                format!(
                    "fire station `{id}` would have {engines} engines (its `capacity`): at most {MAX_ENGINES_PER_STATION}"
                ),
            ));
        }
        let engines = engines as u32;
        if spec.service.enabled && engines == 0 {
            return Err(BuildError::new(
                assets(),
                format!(
                    "fire station `{id}` has no engines: set its `capacity` (engines) or `service.engines_per_station`"
                ),
            ));
        }
        plans.push(StationPlan {
            id: id.clone(),
            road_cell: road,
            engines,
        });
    }
    Ok(plans)
}

/// Road pieces without a station (connected components of the road graph), when there
/// are stations at all.
fn cut_off_roads(net: &RoadNet, station_cells: &[u32]) -> Option<CutOffRoads> {
    let (label, count) = net.components();
    let mut has_station = vec![false; count as usize];
    for &c in station_cells {
        has_station[label[c as usize] as usize] = true;
    }
    let mut size = vec![0u64; count as usize];
    let mut first = vec![roads::NONE; count as usize];
    for (c, &l) in label.iter().enumerate() {
        if l != roads::NONE {
            size[l as usize] += 1;
            if first[l as usize] == roads::NONE {
                first[l as usize] = c as u32;
            }
        }
    }
    let cut: Vec<usize> = (0..count as usize).filter(|&k| !has_station[k]).collect();
    if station_cells.is_empty() {
        return None;
    }
    let biggest = *cut
        .iter()
        .max_by_key(|&&k| (size[k], std::cmp::Reverse(k)))?;
    Some(CutOffRoads {
        pieces: cut.len(),
        road_cells: cut.iter().map(|&k| size[k]).sum(),
        first_cell: first[biggest],
    })
}
