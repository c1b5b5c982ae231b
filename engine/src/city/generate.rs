//! A seeded procedural coastal city district, calibrated by default to Futian, Shenzhen.
//!
//! The generator is a city *planner's sketch*, not a model of a real place: a coastline
//! on the south edge with a sea-front expressway, hills to the north, a river running to
//! the sea, a hierarchy of arterials, collectors and local roads, blocks of mixed-use
//! buildings on lots, parks, and assets placed by the rules of the planning standards
//! they come from. Every choice and its source is listed in `docs/city.md`.
//!
//! Every value is a pure function of (spec, seed): noise is hashed from the lattice,
//! never drawn from a shared stream, so the rayon row passes are deterministic.

use rayon::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{AssetKind, AssetSpec, Building, BuildingUse, City, Construction, LandUse, RoadClass};
use crate::grid::GridSpec;

/// Futian district, 7th national census (2020): 1,553,225 residents.
pub const FUTIAN_RESIDENTS: f64 = 1_553_225.0;
/// Futian district land area, km² (Shenzhen Statistical Yearbook; "about 79 km²").
pub const FUTIAN_AREA_KM2: f64 = 78.66;
/// Futian residential floor area per person, m² (census 2020, 人均住房建筑面积, Futian).
pub const FLOOR_AREA_PER_RESIDENT_M2: f64 = 26.35;
/// A standard fire station's district, km² (建标152-2017: at most 7 km²).
pub const FIRE_STATION_DISTRICT_KM2: f64 = 7.0;
/// Residents per emergency shelter in Shenzhen (17.49 M residents / 462–514 shelters).
pub const RESIDENTS_PER_SHELTER: f64 = 36_000.0;

/// Parameters of a generated district. Defaults make a Futian-like district.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GenerateSpec {
    /// East-west extent, m.
    pub width_m: f64,
    /// North-south extent, m.
    pub height_m: f64,
    /// Cell size, m.
    #[serde(default = "default_cell")]
    pub cell_m: f64,
    /// Seed of the city's layout (separate from the run seed, so Monte Carlo runs over
    /// storms keep the same city).
    #[serde(default = "default_city_seed")]
    pub seed: u64,
    /// Resident density, people per km² of land. Default: Futian 2020.
    #[serde(default = "default_density")]
    pub residents_per_km2: f64,
    /// Share of the south edge's depth given to sea, 0–0.5.
    #[serde(default = "default_sea")]
    pub sea_fraction: f64,
    /// Highest hilltop above the plain, m (Futian's Lianhua and Bijia hills: ≈ 100–150 m).
    #[serde(default = "default_hills")]
    pub hill_height_m: f64,
    /// Whether a river crosses the district to the sea.
    #[serde(default = "yes")]
    pub river: bool,
}

fn default_cell() -> f64 {
    10.0
}
fn default_city_seed() -> u64 {
    1
}
fn default_density() -> f64 {
    FUTIAN_RESIDENTS / FUTIAN_AREA_KM2
}
fn default_sea() -> f64 {
    0.12
}
fn default_hills() -> f64 {
    120.0
}
fn yes() -> bool {
    true
}

impl GenerateSpec {
    pub fn new(width_m: f64, height_m: f64, cell_m: f64) -> Self {
        Self {
            width_m,
            height_m,
            cell_m,
            seed: default_city_seed(),
            residents_per_km2: default_density(),
            sea_fraction: default_sea(),
            hill_height_m: default_hills(),
            river: true,
        }
    }
    pub fn grid(&self) -> GridSpec {
        GridSpec::new(
            (self.width_m / self.cell_m).round().max(1.0) as usize,
            (self.height_m / self.cell_m).round().max(1.0) as usize,
            self.cell_m,
        )
    }
}

// ---- deterministic lattice noise -------------------------------------------------------

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Uniform [0, 1) from a seed and two integers.
fn hash01(seed: u64, a: i64, b: i64) -> f64 {
    let h = mix(
        seed ^ mix((a as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ (b as u64).rotate_left(29))
    );
    (h >> 11) as f64 / (1u64 << 53) as f64
}

fn smooth(t: f64) -> f64 {
    t * t * (3.0 - 2.0 * t)
}

/// Value noise in [0, 1) with unit lattice spacing.
fn value_noise(seed: u64, x: f64, y: f64) -> f64 {
    let (xf, yf) = (x.floor(), y.floor());
    let (xi, yi) = (xf as i64, yf as i64);
    let (tx, ty) = (smooth(x - xf), smooth(y - yf));
    let v00 = hash01(seed, xi, yi);
    let v10 = hash01(seed, xi + 1, yi);
    let v01 = hash01(seed, xi, yi + 1);
    let v11 = hash01(seed, xi + 1, yi + 1);
    let a = v00 + (v10 - v00) * tx;
    let b = v01 + (v11 - v01) * tx;
    a + (b - a) * ty
}

/// Fractal value noise in [0, 1): four octaves, the first with wavelength `scale` m.
fn fbm(seed: u64, x: f64, y: f64, scale: f64) -> f64 {
    let (mut sum, mut amp, mut norm, mut f) = (0.0, 1.0, 0.0, 1.0 / scale);
    for o in 0..4 {
        sum += amp * value_noise(seed.wrapping_add(o), x * f, y * f);
        norm += amp;
        amp *= 0.5;
        f *= 2.0;
    }
    sum / norm
}

// ---- layout ----------------------------------------------------------------------------

/// A straight road: centre line position (m from the west or south edge) and width.
struct Road {
    vertical: bool,
    at: f64,
    width: f64,
    class: RoadClass,
}

/// Road spacing and widths by class: main trunk roads every ≈ 800 m with 40-m red lines,
/// secondary every ≈ 400 m (25 m), branch roads every ≈ 150 m (12 m). Spacings follow the
/// road-network densities of GB 50220-95 / GB/T 51328-2018 for large cities (arterials
/// 0.8–1.2 km/km², collectors 1.2–1.4, branches 3–4), widths the usual red-line widths.
const ROAD_CLASSES: [(RoadClass, f64, f64); 3] = [
    (RoadClass::Arterial, 800.0, 40.0),
    (RoadClass::Collector, 400.0, 25.0),
    (RoadClass::Local, 150.0, 12.0),
];

fn layout_roads(spec: &GenerateSpec) -> Vec<Road> {
    let mut roads = Vec::new();
    for (vertical, extent) in [(true, spec.width_m), (false, spec.height_m)] {
        for (class, spacing, width) in ROAD_CLASSES {
            let n = (extent / spacing).floor() as i64;
            for k in 1..=n.max(if class == RoadClass::Local { 1 } else { 0 }) {
                let jitter = (hash01(spec.seed ^ 0x51, k, vertical as i64 * 7 + class as i64)
                    - 0.5)
                    * 0.2
                    * spacing;
                let at = if n == 0 {
                    extent / 2.0
                } else {
                    k as f64 * extent / (n as f64 + 1.0) + jitter
                };
                roads.push(Road {
                    vertical,
                    at,
                    width: width.max(spec.cell_m),
                    class,
                });
            }
        }
    }
    roads
}

/// Generate the district. Fast enough for 2,000 × 2,000 cells in well under a second
/// per pass on two cores (see `benches/city.rs`).
pub fn generate(spec: &GenerateSpec) -> City {
    let grid = spec.grid();
    let (nx, ny, cell) = (grid.nx, grid.ny, spec.cell_m);
    let seed = spec.seed;
    let (w, h) = (nx as f64 * cell, ny as f64 * cell);
    let mut city = City::flat(grid);

    // Coastline height above the south edge, and the river's centre line, as functions.
    let coast = |x: f64| h * spec.sea_fraction * (0.75 + 0.5 * fbm(seed ^ 0xc0a5, x, 0.0, 2000.0));
    let river_w = (w * 0.006).clamp(20.0, 60.0).max(2.0 * cell);
    let river_x = |y: f64| w * 0.58 + w * 0.12 * (fbm(seed ^ 0x51de, 0.0, y, 3000.0) - 0.5);
    let roads = layout_roads(spec);
    // Sea-front expressway 250 m inland of the mean coastline (Binhai Avenue in Futian).
    let expressway_y = h * spec.sea_fraction + 250.0_f64.min(h * 0.1);

    // Road class per column and per row: (any class, arterial or collector only).
    let classes_at = |vertical: bool, pos: f64| -> (RoadClass, RoadClass) {
        let mut best = (RoadClass::None, RoadClass::None);
        for r in roads
            .iter()
            .filter(|r| r.vertical == vertical && (pos - r.at).abs() <= r.width / 2.0)
        {
            best.0 = best.0.max(r.class);
            if r.class != RoadClass::Local {
                best.1 = best.1.max(r.class);
            }
        }
        best
    };
    let col_roads: Vec<_> = (0..nx)
        .map(|i| classes_at(true, (i as f64 + 0.5) * cell))
        .collect();
    let row_roads: Vec<_> = (0..ny)
        .map(|j| classes_at(false, h - (j as f64 + 0.5) * cell))
        .collect();

    // The coastline depends on x only, the river on y only: evaluate them once.
    let coast_at: Vec<f64> = (0..nx).map(|i| coast((i as f64 + 0.5) * cell)).collect();

    // Pass 1 (rows in parallel): elevation, land use and road class.
    let rows: Vec<(Vec<f32>, Vec<LandUse>, Vec<RoadClass>)> = (0..ny)
        .into_par_iter()
        .map(|j| {
            let y = h - (j as f64 + 0.5) * cell; // metres north of the south edge
            let river_here = river_x(y);
            let mut z = Vec::with_capacity(nx);
            let mut lu = Vec::with_capacity(nx);
            let mut rc = Vec::with_capacity(nx);
            for (i, col_road) in col_roads.iter().enumerate() {
                let x = (i as f64 + 0.5) * cell;
                let c = coast_at[i];
                let inland = y - c;
                // Hills rise towards the north third.
                let north = ((y / h - 0.55) / 0.45).clamp(0.0, 1.0);
                // The river runs down a valley: hills fade out within ≈ 600 m of it.
                let valley = if spec.river {
                    smooth(((x - river_here).abs() / 600.0).min(1.0))
                } else {
                    1.0
                };
                let hill = valley * (fbm(seed ^ 0x4111, x, y, 1500.0) - 0.35).max(0.0) / 0.65;
                let ground = 2.0
                    + 0.002 * inland
                    + spec.hill_height_m * hill * smooth(north)
                    + 1.5 * (fbm(seed ^ 0x7e11, x, y, 400.0) - 0.5);
                let (mut elev, mut land) = if inland < 0.0 {
                    ((-1.0 + 0.01 * inland).max(-8.0), LandUse::Sea)
                } else {
                    (ground, LandUse::Open)
                };
                let mut road = RoadClass::None;
                if land != LandUse::Sea {
                    if spec.river && (x - river_here).abs() <= river_w / 2.0 {
                        elev = (ground - 4.0).min(-1.0 + 0.0005 * inland);
                        land = LandUse::Water;
                    }
                    let steep = spec.hill_height_m * hill * smooth(north) > 25.0;
                    // Highest class crossing this cell; local roads stop at steep hills.
                    let (all, major) = (
                        col_road.0.max(row_roads[j].0),
                        col_road.1.max(row_roads[j].1),
                    );
                    road = if steep { major } else { all };
                    if (y - expressway_y).abs() <= 30.0_f64.max(cell / 2.0) && inland > 0.0 {
                        road = RoadClass::Expressway;
                    }
                    if road != RoadClass::None {
                        land = LandUse::Road; // bridges cross the river
                    } else if land == LandUse::Open && steep {
                        land = LandUse::Green;
                    }
                }
                z.push(elev as f32);
                lu.push(land);
                rc.push(road);
            }
            (z, lu, rc)
        })
        .collect();
    for (j, (z, lu, rc)) in rows.into_iter().enumerate() {
        let s = j * nx..(j + 1) * nx;
        city.elevation[s.clone()].copy_from_slice(&z);
        city.landuse[s.clone()].copy_from_slice(&lu);
        city.road[s].copy_from_slice(&rc);
    }

    // Pass 2: parks, plazas and building lots by block. Blocks are the 150-m local-road
    // cells; one in nine is a park, one in twenty a plaza (Shenzhen's park-city target of
    // ≥ 15 m² of park per resident; plazas for venues and assembly points).
    let lot = if cell <= 12.5 { 50.0 } else { 3.0 * cell };
    let setback = if cell <= 12.5 { 10.0 } else { cell };
    let block = 150.0_f64.max(lot);
    let mut lot_building: std::collections::HashMap<(i64, i64, bool), u32> = Default::default();
    let mut buildings: Vec<Building> = Vec::new();
    let rng_lot = |a: i64, b: i64, salt: u64| hash01(seed ^ salt, a, b);
    for j in 0..ny {
        let y = h - (j as f64 + 0.5) * cell;
        for i in 0..nx {
            let k = j * nx + i;
            if city.landuse[k] != LandUse::Open {
                continue;
            }
            let x = (i as f64 + 0.5) * cell;
            let (bx, by) = ((x / block).floor() as i64, (y / block).floor() as i64);
            let u = rng_lot(bx, by, 0xb10c);
            if u < 0.11 {
                city.landuse[k] = LandUse::Green;
                continue;
            }
            if u < 0.16 {
                continue; // plaza: stays open
            }
            // One block in twelve is an urban village (城中村): low-rise buildings on 30-m
            // lots with 10-m gaps, the close-packed fabric where fire spreads.
            let village = u < 0.24 && cell <= 12.5;
            let (lot, setback) = if village { (30.0, 5.0) } else { (lot, setback) };
            let (lx, ly) = ((x / lot).floor() as i64, (y / lot).floor() as i64);
            let (ox, oy) = (x - lx as f64 * lot, y - ly as f64 * lot);
            let inside = |o: f64| o >= setback && o < lot - setback || lot - 2.0 * setback < cell;
            if !(inside(ox) && inside(oy)) {
                continue;
            }
            let id = *lot_building.entry((lx, ly, village)).or_insert_with(|| {
                buildings.push(new_building(spec, bx, by, lx, ly, k, village, h, y));
                (buildings.len() - 1) as u32
            });
            city.landuse[k] = LandUse::Building;
            city.building[k] = id;
            buildings[id as usize].footprint_m2 += (cell * cell) as f32;
        }
    }
    finish_buildings(spec, &mut buildings, city.land_area_m2());
    city.buildings = buildings;
    city.derive_surface();
    city.assets = place_assets(&city, seed);
    city
}

/// A building's use, height and construction from its block and lot.
#[allow(clippy::too_many_arguments)]
fn new_building(
    spec: &GenerateSpec,
    bx: i64,
    by: i64,
    lx: i64,
    ly: i64,
    cell: usize,
    village: bool,
    h: f64,
    y: f64,
) -> Building {
    let s = spec.seed;
    let zone = hash01(s ^ 0x20e, bx, by);
    // Commercial core nearer the sea front (Futian CBD), industry in the far north.
    let north = y / h;
    let use_ = if village {
        BuildingUse::Residential
    } else if zone < 0.08 {
        BuildingUse::Public
    } else if north > 0.8 && zone < 0.25 {
        BuildingUse::Industrial
    } else if zone < 0.25 + 0.2 * (1.0 - north) {
        BuildingUse::Commercial
    } else {
        BuildingUse::Residential
    };
    let u = hash01(s ^ 0x5707, lx, ly);
    // Storeys: log-uniform within ranges typical of Shenzhen's built stock
    // (residential towers 8–40, offices 10–60, industrial 2–6, public 3–10).
    let (lo, hi): (f64, f64) = match use_ {
        BuildingUse::Residential => (8.0, 40.0),
        BuildingUse::Commercial => (10.0, 60.0),
        BuildingUse::Industrial => (2.0, 6.0),
        BuildingUse::Public => (3.0, 10.0),
    };
    // Urban-village "handshake buildings" are 4–8 storeys.
    let (lo, hi) = if village { (4.0, 8.0) } else { (lo, hi) };
    let storeys = (lo * (hi / lo).powf(u)).round() as u16;
    // Older low-rise stock (urban villages, sheds) is partly not fire-resistive.
    let c = hash01(s ^ 0xc0c0, lx, ly);
    // Urban villages: half brick-timber or mortar-clad, a tenth older timber.
    let construction = if village && c < 0.5 {
        Construction::ProtectedWooden
    } else if village && c < 0.6 {
        Construction::Wooden
    } else if storeys <= 8 && c < 0.35 {
        Construction::ProtectedWooden
    } else if storeys <= 4 && c < 0.45 {
        Construction::Wooden
    } else {
        Construction::FireResistive
    };
    Building {
        storeys,
        height_m: f32::from(storeys) * 3.0,
        use_,
        construction,
        occupants_day: 0.0,
        occupants_night: 0.0,
        value_yuan: 0.0,
        footprint_m2: 0.0,
        anchor: cell as u32,
    }
}

/// Replacement cost of floor area, yuan/m², by use: Shenzhen construction-cost reference
/// prices for 2020 (深圳市建设工程造价指标: high-rise residential ≈ 3,500, offices
/// ≈ 4,500, industrial ≈ 2,500, public ≈ 4,000). Unverified: check before using loss
/// figures in a report.
fn cost_per_m2(use_: BuildingUse) -> f64 {
    match use_ {
        BuildingUse::Residential => 3500.0,
        BuildingUse::Commercial => 4500.0,
        BuildingUse::Industrial => 2500.0,
        BuildingUse::Public => 4000.0,
    }
}

/// Occupants and values. Residents fill residential floor area at the census floor area
/// per person, then are scaled to the target density; by day 60 % of residents leave for
/// work and the same number arrive in commercial, industrial and public floor area.
fn finish_buildings(spec: &GenerateSpec, buildings: &mut [Building], land_m2: f64) {
    let floor = |b: &Building| f64::from(b.footprint_m2) * f64::from(b.storeys);
    let raw: f64 = buildings
        .iter()
        .filter(|b| b.use_ == BuildingUse::Residential)
        .map(|b| floor(b) / FLOOR_AREA_PER_RESIDENT_M2)
        .sum();
    let target = spec.residents_per_km2 * land_m2 / 1e6;
    let scale = if raw > 0.0 { target / raw } else { 0.0 };
    let work_floor: f64 = buildings
        .iter()
        .filter(|b| b.use_ != BuildingUse::Residential)
        .map(floor)
        .sum();
    let commuters = 0.6 * target;
    for b in buildings.iter_mut() {
        let f = floor(b);
        b.value_yuan = f * cost_per_m2(b.use_);
        if b.use_ == BuildingUse::Residential {
            b.occupants_night = (f / FLOOR_AREA_PER_RESIDENT_M2 * scale) as f32;
            b.occupants_day = 0.4 * b.occupants_night;
        } else if work_floor > 0.0 {
            b.occupants_day = (commuters * f / work_floor) as f32;
            // Night staff in non-residential buildings: 5 % of the day population.
            b.occupants_night = 0.05 * b.occupants_day;
        }
    }
}

/// Place assets by planning rules, each on or beside a road.
fn place_assets(city: &City, seed: u64) -> Vec<AssetSpec> {
    let g = city.grid;
    let land_km2 = city.land_area_m2() / 1e6;
    let residents = city.population(false);
    let mut assets = Vec::new();
    // Evenly spread sites: centres of a k × m partition of the grid, nudged by hash.
    let sites = |n: usize, salt: u64| -> Vec<(f64, f64)> {
        let n = n.max(1);
        let aspect = g.width_m() / g.height_m();
        let cols = ((n as f64 * aspect).sqrt().round() as usize).clamp(1, n);
        let rows = n.div_ceil(cols);
        let mut out = Vec::new();
        for r in 0..rows {
            for c in 0..cols {
                if out.len() == n {
                    break;
                }
                let jx = hash01(seed ^ salt, r as i64, c as i64) - 0.5;
                let jy = hash01(seed ^ salt ^ 1, r as i64, c as i64) - 0.5;
                out.push((
                    g.x0 + (c as f64 + 0.5 + 0.3 * jx) / cols as f64 * g.width_m(),
                    g.y0 + (r as f64 + 0.5 + 0.3 * jy) / rows as f64 * g.height_m(),
                ));
            }
        }
        out
    };
    // Snap a site to the nearest cell satisfying `want` (ring search).
    let snap = |x: f64, y: f64, want: &dyn Fn(usize) -> bool| -> Option<(f64, f64)> {
        let (ci, cj) = g.locate(x, y)?;
        let max_r = g.nx.max(g.ny);
        for r in 0..max_r {
            let (i0, i1) = (ci.saturating_sub(r), (ci + r).min(g.nx - 1));
            let (j0, j1) = (cj.saturating_sub(r), (cj + r).min(g.ny - 1));
            for j in j0..=j1 {
                for i in i0..=i1 {
                    if (i == i0 || i == i1 || j == j0 || j == j1) && want(g.index(i, j)) {
                        let (x, y) = g.center(i, j);
                        return Some((x, y));
                    }
                }
            }
        }
        None
    };
    // Never on a bridge deck: the generated grid keeps the river bed under bridges, so a
    // site there would stand in the river.
    let bridges = city.bridge_decks();
    let on_road = |k: usize| city.road[k] as u8 >= RoadClass::Collector as u8 && !bridges[k];
    let any_road = |k: usize| city.road[k] != RoadClass::None && !bridges[k];
    let green = |k: usize| matches!(city.landuse[k], LandUse::Green | LandUse::Open);
    let mut add = |prefix: &str,
                   kind: AssetKind,
                   n: usize,
                   salt: u64,
                   want: &dyn Fn(usize) -> bool,
                   capacity: f64| {
        for (k, (x, y)) in sites(n, salt).into_iter().enumerate() {
            if let Some((x, y)) = snap(x, y, want).or_else(|| snap(x, y, &any_road)) {
                assets.push(AssetSpec {
                    id: format!("{prefix}-{:02}", k + 1),
                    kind,
                    x,
                    y,
                    capacity,
                    depends_on: Vec::new(),
                });
            }
        }
    };
    // Substations: one 110-kV substation per ≈ 3 km² in dense districts (GB/T 50293-2014
    // load densities); customers = households (Futian: 2.54 persons per household).
    let n_sub = (land_km2 / 3.0).ceil() as usize;
    add(
        "SUB",
        AssetKind::Substation,
        n_sub,
        0x5b,
        &any_road,
        (residents / 2.54 / n_sub.max(1) as f64).round(),
    );
    add(
        "FS",
        AssetKind::FireStation,
        (land_km2 / FIRE_STATION_DISTRICT_KM2).ceil() as usize,
        0xf5,
        &on_road,
        5.0,
    );
    // Hospitals: one general hospital per ≈ 250,000 residents, 1,000 beds.
    add(
        "HOS",
        AssetKind::Hospital,
        (residents / 250_000.0).ceil() as usize,
        0x405,
        &on_road,
        1000.0,
    );
    let n_sh = (residents / RESIDENTS_PER_SHELTER).ceil() as usize;
    add(
        "SH",
        AssetKind::Shelter,
        n_sh,
        0x54e1,
        &green,
        (residents * 0.1 / n_sh.max(1) as f64).round(),
    );
    // Metro entrances at ≈ 1 per km² along main roads (Futian has ≈ 60 stations).
    add(
        "MET",
        AssetKind::MetroEntrance,
        land_km2.ceil() as usize,
        0x3e7,
        &on_road,
        0.0,
    );
    // Pump stations on the lowest land near the coast, 10 m³/s each.
    let mut low: Vec<usize> = (0..g.len())
        .filter(|&k| {
            // Low road land in the southern 40 % (the coastal plain), not bridge decks.
            city.landuse[k] == LandUse::Road
                && !bridges[k]
                && (0.5..4.0).contains(&city.elevation[k])
                && k / g.nx > g.ny * 3 / 5
        })
        .collect();
    low.sort_by(|&a, &b| {
        city.elevation[a]
            .total_cmp(&city.elevation[b])
            .then(a.cmp(&b))
    });
    let n_pump = (g.width_m() / 1500.0).ceil() as usize;
    let mut placed: Vec<(f64, f64)> = Vec::new();
    for k in low {
        if placed.len() >= n_pump {
            break;
        }
        let (i, j) = g.cell_of(k);
        let (x, y) = g.center(i, j);
        if placed
            .iter()
            .all(|&(px, py)| (px - x).hypot(py - y) > 1000.0_f64.min(g.width_m() / 2.0))
        {
            placed.push((x, y));
            assets.push(AssetSpec {
                id: format!("PUMP-{:02}", placed.len()),
                kind: AssetKind::PumpStation,
                x,
                y,
                capacity: 10.0,
                depends_on: Vec::new(),
            });
        }
    }
    // Every powered asset depends on its nearest substation.
    let subs: Vec<(String, f64, f64)> = assets
        .iter()
        .filter(|a| a.kind == AssetKind::Substation)
        .map(|a| (a.id.clone(), a.x, a.y))
        .collect();
    for a in assets.iter_mut() {
        if matches!(
            a.kind,
            AssetKind::PumpStation
                | AssetKind::Hospital
                | AssetKind::MetroEntrance
                | AssetKind::Shelter
        ) && let Some((id, _, _)) = subs.iter().min_by(|p, q| {
            (p.1 - a.x)
                .hypot(p.2 - a.y)
                .total_cmp(&(q.1 - a.x).hypot(q.2 - a.y))
        }) {
            a.depends_on.push(id.clone());
        }
    }
    assets
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_city_is_deterministic_and_plausible() {
        let spec = GenerateSpec::new(3000.0, 2000.0, 10.0);
        let a = generate(&spec);
        let b = generate(&spec);
        assert_eq!(a.elevation, b.elevation);
        assert_eq!(a.building, b.building);
        assert_eq!(a.assets, b.assets);
        let share =
            |l: LandUse| a.landuse.iter().filter(|&&x| x == l).count() as f64 / a.grid.len() as f64;
        assert!(
            share(LandUse::Sea) > 0.05 && share(LandUse::Sea) < 0.25,
            "sea {}",
            share(LandUse::Sea)
        );
        assert!(
            share(LandUse::Road) > 0.1 && share(LandUse::Road) < 0.4,
            "road {}",
            share(LandUse::Road)
        );
        for l in LandUse::ALL {
            eprintln!("{l:?} {:.3}", share(l));
        }
        assert!(
            share(LandUse::Building) > 0.1,
            "building {}",
            share(LandUse::Building)
        );
        assert!(share(LandUse::Water) > 0.0, "river");
        // Residents match the requested density within 1 %.
        let want = spec.residents_per_km2 * a.land_area_m2() / 1e6;
        let residents: f64 = a
            .buildings
            .iter()
            .filter(|b| b.use_ == BuildingUse::Residential)
            .map(|b| f64::from(b.occupants_night))
            .sum();
        assert!(
            (residents - want).abs() / want < 0.01,
            "{residents} vs {want}"
        );
        for kind in [
            AssetKind::FireStation,
            AssetKind::Shelter,
            AssetKind::Substation,
            AssetKind::PumpStation,
        ] {
            assert!(a.assets.iter().any(|x| x.kind == kind), "{kind:?}");
        }
        assert!(crate::city::assets::check_assets(&a.assets, &a.grid).is_ok());
        // No site stands in the river or the sea, nor on a bridge deck over the river bed.
        let bridges = a.bridge_decks();
        for x in &a.assets {
            let (i, j) = a.grid.locate(x.x, x.y).expect("on the grid");
            let k = a.grid.index(i, j);
            assert!(
                !bridges[k] && !matches!(a.landuse[k], LandUse::Water | LandUse::Sea),
                "{} stands in water",
                x.id
            );
        }
        let other = generate(&GenerateSpec { seed: 2, ..spec });
        assert_ne!(other.building, a.building);
    }

    #[test]
    fn tiny_and_coarse_cities_still_work() {
        for (w, c) in [(100.0, 2.0), (100.0, 10.0), (20_000.0, 100.0)] {
            let city = generate(&GenerateSpec::new(w, w, c));
            assert_eq!(city.elevation.len(), city.grid.len());
            assert!(city.elevation.iter().all(|z| z.is_finite()));
        }
    }
}
