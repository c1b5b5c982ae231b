//! Urban fire: ignitions, building-to-building spread (Hamada), the fire service
//! (stations, engines, dispatch over the road graph, suppression), occupant egress and
//! station coverage. The model and its sources are in `docs/models/fire.md`.
//!
//! Couplings: reads `SurfaceWind` (typhoon or `wind` hazard) when present and the
//! `wind_fire` switch is on, `Closures` (flooded roads re-route engines when
//! `flood_roads` is on; see `Couplings::vehicle_mask`) and substation `Operational` flags
//! (optional secondary ignitions); writes `FireState` and the `FIRE` closure flag of
//! burning cells.

pub mod coverage;
pub mod egress;
pub mod roads;
pub mod service;
pub mod spread;
pub mod validation;

use bevy_ecs::prelude::*;
use rand::RngExt;
use rand_distr::{Distribution, LogNormal};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::city::{Asset, AssetKind, BuildingUse, City, Construction, LandUse, NO_BUILDING};
use crate::coupling::{Closures, Couplings, FireState, SurfaceWind, blocked};
use crate::events::{EventLog, Place, Severity};
use crate::grid::{GridSpec, Palette, Raster, RasterKind};
use crate::metrics::{MetricId, Metrics};
use crate::rng::RngStreams;
use crate::sim::{
    BuildContext, BuildError, MapOutputs, Phase, Plugin, RunHealth, SimClock, Simulation,
};
use crate::spec::{KeyPath, Problem, in_range, positive};

use roads::RoadNet;
use service::{Crew, Engine, Station, Task};
use spread::{Geometry, Spread, SpreadSetup};

/// Spread state (arrival f64, status, slow, incident, via), its building layers, the road
/// graph (speed, access, access distance), suppression scratch and coupling fields.
pub const BYTES_PER_CELL: usize = 8 + 1 + 4 + 4 + 4 + 1 + 4 + 4 + 4 + 4 + 4 + 1;

/// Most engines one station may have: each is an entity with a crew, so a misplaced
/// number (a capacity in people, say) must be refused rather than fill the memory. The
/// largest stations house a few dozen appliances.
pub const MAX_ENGINES_PER_STATION: u32 = 1000;

/// `kind = "fire"`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct FireSpec {
    /// 10-m mean wind speed, m/s, used when no wind field (typhoon or `wind` hazard) is
    /// present.
    pub wind_speed_m_s: f64,
    /// Direction the wind blows from, degrees clockwise from north. It also orients the
    /// "downwind" of Hamada's formula in calm air.
    pub wind_from_deg: f64,
    /// A gap (road, open space, water) wider than this stops the spread, m. Default 14 m:
    /// the separation that stopped the 1995 Kobe fires where the exposed wall was wood
    /// or float glass (post-fire survey of Nagata and Suma, Shimizu Corporation Techno
    /// News vol. 62).
    pub firebreak_m: f64,
    /// Coefficient of variation of the per-building random factor on spread delays
    /// (lognormal, mean 1). A model choice, not a measured value: see the docs.
    pub spread_cv: f64,
    /// Hamada's building side, separation and fire-resistive share for every building;
    /// default: measured per building from the city.
    pub geometry: Option<GeometrySpec>,
    /// Fires started at a place and time.
    pub ignitions: Vec<IgnitionSpec>,
    /// Random ignitions (Poisson in time, by floor area and building use).
    pub random: Option<RandomSpec>,
    /// Fires caused by other hazards' impacts.
    pub secondary: SecondarySpec,
    pub service: ServiceSpec,
    pub egress: EgressSpec,
    pub coverage: CoverageSpec,
}

impl Default for FireSpec {
    fn default() -> Self {
        Self {
            wind_speed_m_s: 0.0,
            wind_from_deg: 0.0,
            firebreak_m: 14.0,
            spread_cv: 0.1,
            geometry: None,
            ignitions: Vec::new(),
            random: None,
            secondary: SecondarySpec::default(),
            service: ServiceSpec::default(),
            egress: EgressSpec::default(),
            coverage: CoverageSpec::default(),
        }
    }
}

/// Hamada's geometry inputs.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GeometrySpec {
    /// Mean building side, m.
    pub a_m: f64,
    /// Mean separation between buildings, m.
    pub d_m: f64,
    /// Share of fire-resistive buildings, 0–1.
    pub f: f64,
}

/// A fire started at map point (x, y) at time `t_s`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IgnitionSpec {
    pub x: f64,
    pub y: f64,
    #[serde(default)]
    pub t_s: f64,
}

/// Random ignitions: a Poisson process whose rate is the sum over buildings of floor
/// area × rate of their use × `multiplier`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct RandomSpec {
    pub rates_per_m2_year: UseRates,
    /// Scales every rate (e.g. for a post-earthquake or typhoon day).
    pub multiplier: f64,
}

impl Default for RandomSpec {
    fn default() -> Self {
        Self {
            rates_per_m2_year: UseRates::default(),
            multiplier: 1.0,
        }
    }
}

/// Ignitions per m² of floor area per year, by building use. Default: 9.6 × 10⁻⁶, the
/// apartment figure of Tan, Moinuddin & Joseph (2023), Fire 6(1):35 (Australia
/// 2012–2019), for every use: set per-use values for a study (see the docs).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct UseRates {
    pub residential: f64,
    pub commercial: f64,
    pub industrial: f64,
    pub public: f64,
}

impl Default for UseRates {
    fn default() -> Self {
        const APARTMENT: f64 = 9.6e-6;
        Self {
            residential: APARTMENT,
            commercial: APARTMENT,
            industrial: APARTMENT,
            public: APARTMENT,
        }
    }
}

impl UseRates {
    fn of(&self, u: BuildingUse) -> f64 {
        match u {
            BuildingUse::Residential => self.residential,
            BuildingUse::Commercial => self.commercial,
            BuildingUse::Industrial => self.industrial,
            BuildingUse::Public => self.public,
        }
    }
}

/// Secondary ignitions.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SecondarySpec {
    /// Probability that a substation failure (its `Operational` flag going false) starts
    /// an electrical fire in the nearest building. 0 (default) switches the hook off.
    #[serde(default)]
    pub substation_failure_probability: f64,
}

/// The fire service's timings and capacities.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ServiceSpec {
    /// Simulate the fire service (dispatch and suppression).
    pub enabled: bool,
    /// Ignition to the call, s (0: response measured from the call).
    pub detection_s: f64,
    /// Call to dispatch order, s. Default 79 s: NFPA 1710 alarm answering (15 s) plus
    /// alarm processing (64 s).
    pub alarm_handling_s: f64,
    /// Dispatch order to wheels rolling, s. Default 80 s: NFPA 1710 turnout for fires.
    pub turnout_s: f64,
    /// Arrival to water flowing, s (see the docs: an assumption to vary).
    pub setup_s: f64,
    /// Flow per engine, L/min. Default 720: two attack lines of 360 L/min (95 gpm),
    /// NFPA 1710's initial attack and backup lines.
    pub engine_flow_l_min: f64,
    /// Needed fire flow per m² of involved floor area, L/min. Default 13.6: the National
    /// Fire Academy formula, 1 gpm per 3 ft².
    pub needed_flow_l_min_m2: f64,
    /// Time at the needed flow to knock a cell's fire down, s. Default 30 s: the
    /// application period of the Iowa rate-of-flow formula (Royer & Nelson).
    pub knockdown_s: f64,
    /// Hose reach from the engine's road cell, m; also the farthest a cell may be from a
    /// road to be reached. Default 150 m: the protection radius of a municipal hydrant
    /// (GB 50974-2014 §7.2.5).
    pub hose_reach_m: f64,
    /// Crew per engine. Default 4: NFPA 1710 engine company staffing.
    pub crew_size: u8,
    /// Engines sent at the dispatch order; more are called while the needed flow exceeds
    /// the flow on the way or on scene.
    pub first_alarm_engines: u32,
    /// Cap on engines per incident (none by default).
    pub max_engines_per_incident: Option<u32>,
    /// Engines per station; default: each station asset's `capacity`.
    pub engines_per_station: Option<u32>,
    /// Factor on road design speeds (CJJ 37-2012) for emergency driving.
    pub speed_factor: f64,
}

impl Default for ServiceSpec {
    fn default() -> Self {
        Self {
            enabled: true,
            detection_s: 0.0,
            alarm_handling_s: 79.0,
            turnout_s: 80.0,
            setup_s: 120.0,
            engine_flow_l_min: 720.0,
            // 1 US gal/min per 3 ft², in L/min per m².
            needed_flow_l_min_m2: 3.785_411_784 / (3.0 * 0.092_903_04),
            knockdown_s: 30.0,
            hose_reach_m: 150.0,
            crew_size: 4,
            first_alarm_engines: 1,
            max_engines_per_incident: None,
            engines_per_station: None,
            speed_factor: 1.0,
        }
    }
}

/// Egress parameters.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct EgressSpec {
    /// Warning to start of movement, s (see the docs: an assumption to vary).
    pub premovement_s: f64,
    /// Effective stair width per building, m. Default 1.6: two stairs of 1.1 m clear
    /// width (GB 50016-2014 minimum for residential stairs) less 0.15 m boundary layers
    /// on each side (Pauls).
    pub stair_width_m: f64,
    /// Fire resistance of floor slabs in fire-resistive buildings, s. Default 1.5 h
    /// (GB 50016-2014 Table 5.1.2, fire-resistance class 1).
    pub floor_resistance_s: f64,
    /// Persons per household, for the dwelling as a residential fire compartment.
    /// Default 2.54: Futian district, 2020 census (household persons / households).
    pub household_size: f64,
}

impl Default for EgressSpec {
    fn default() -> Self {
        Self {
            premovement_s: 180.0,
            stair_width_m: 1.6,
            floor_resistance_s: 5400.0,
            household_size: 2.54,
        }
    }
}

/// Coverage standards.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct CoverageSpec {
    /// 建标152-2017: reach the district's edge within this time of the dispatch order, s.
    pub cn_limit_s: f64,
    /// Turnout included in that limit, s (≈ 1 min in the standard's derivation).
    pub cn_turnout_s: f64,
    /// NFPA 1710 first-engine travel time, s.
    pub nfpa_travel_s: f64,
}

impl Default for CoverageSpec {
    fn default() -> Self {
        Self {
            cn_limit_s: 300.0,
            cn_turnout_s: 60.0,
            nfpa_travel_s: 240.0,
        }
    }
}

impl FireSpec {
    pub fn check(&self, at: &KeyPath) -> Result<(), Problem> {
        in_range(
            at.key("wind_speed_m_s"),
            self.wind_speed_m_s,
            0.0,
            120.0,
            "the wind speed",
        )?;
        in_range(
            at.key("wind_from_deg"),
            self.wind_from_deg,
            -360.0,
            360.0,
            "the wind direction",
        )?;
        positive(
            at.key("firebreak_m"),
            self.firebreak_m,
            "the firebreak width",
        )?;
        in_range(
            at.key("spread_cv"),
            self.spread_cv,
            0.0,
            2.0,
            "the spread variation",
        )?;
        if let Some(g) = &self.geometry {
            let k = at.key("geometry");
            positive(k.key("a_m"), g.a_m, "the mean building side")?;
            in_range(k.key("d_m"), g.d_m, 0.0, 1e4, "the mean separation")?;
            in_range(k.key("f"), g.f, 0.0, 1.0, "the fire-resistive share")?;
        }
        for (n, ig) in self.ignitions.iter().enumerate() {
            let k = at.key("ignitions").index(n);
            in_range(k.key("x"), ig.x, f64::NEG_INFINITY, f64::INFINITY, "x")?;
            in_range(k.key("y"), ig.y, f64::NEG_INFINITY, f64::INFINITY, "y")?;
            in_range(
                k.key("t_s"),
                ig.t_s,
                0.0,
                f64::INFINITY,
                "the ignition time",
            )?;
        }
        if let Some(r) = &self.random {
            let k = at.key("random");
            let rr = k.key("rates_per_m2_year");
            let r2 = &r.rates_per_m2_year;
            for (name, v) in [
                ("residential", r2.residential),
                ("commercial", r2.commercial),
                ("industrial", r2.industrial),
                ("public", r2.public),
            ] {
                in_range(rr.key(name), v, 0.0, 1.0, "the ignition rate")?;
            }
            in_range(
                k.key("multiplier"),
                r.multiplier,
                0.0,
                1e6,
                "the multiplier",
            )?;
        }
        in_range(
            at.key("secondary").key("substation_failure_probability"),
            self.secondary.substation_failure_probability,
            0.0,
            1.0,
            "the probability",
        )?;
        let s = at.key("service");
        let sv = &self.service;
        for (name, v) in [
            ("detection_s", sv.detection_s),
            ("alarm_handling_s", sv.alarm_handling_s),
            ("turnout_s", sv.turnout_s),
            ("setup_s", sv.setup_s),
        ] {
            in_range(s.key(name), v, 0.0, 86_400.0, "the time")?;
        }
        positive(
            s.key("engine_flow_l_min"),
            sv.engine_flow_l_min,
            "the engine flow",
        )?;
        positive(
            s.key("needed_flow_l_min_m2"),
            sv.needed_flow_l_min_m2,
            "the needed flow",
        )?;
        in_range(
            s.key("knockdown_s"),
            sv.knockdown_s,
            0.0,
            86_400.0,
            "the knock-down time",
        )?;
        positive(s.key("hose_reach_m"), sv.hose_reach_m, "the hose reach")?;
        if let Some(n) = sv.engines_per_station {
            in_range(
                s.key("engines_per_station"),
                f64::from(n),
                0.0,
                f64::from(MAX_ENGINES_PER_STATION),
                "the engines per station",
            )?;
        }
        positive(s.key("speed_factor"), sv.speed_factor, "the speed factor")?;
        let e = at.key("egress");
        in_range(
            e.key("premovement_s"),
            self.egress.premovement_s,
            0.0,
            86_400.0,
            "the pre-movement time",
        )?;
        positive(
            e.key("stair_width_m"),
            self.egress.stair_width_m,
            "the stair width",
        )?;
        in_range(
            e.key("floor_resistance_s"),
            self.egress.floor_resistance_s,
            0.0,
            1e6,
            "the floor fire resistance",
        )?;
        in_range(
            e.key("household_size"),
            self.egress.household_size,
            1.0,
            20.0,
            "the household size",
        )?;
        let c = at.key("coverage");
        positive(
            c.key("cn_limit_s"),
            self.coverage.cn_limit_s,
            "the time limit",
        )?;
        in_range(
            c.key("cn_turnout_s"),
            self.coverage.cn_turnout_s,
            0.0,
            self.coverage.cn_limit_s,
            "the turnout",
        )?;
        positive(
            c.key("nfpa_travel_s"),
            self.coverage.nfpa_travel_s,
            "the travel limit",
        )
    }

    /// Wind (u east, v north), m/s, from speed and meteorological direction.
    pub fn wind(&self) -> (f64, f64) {
        let to = (self.wind_from_deg + 180.0).to_radians();
        (
            self.wind_speed_m_s * to.sin(),
            self.wind_speed_m_s * to.cos(),
        )
    }
}

// ---- fire stages -------------------------------------------------------------------------

/// Tile size for the local fire-resistive share, m: about a city block (a modelling
/// choice; the share is taken over 3 × 3 tiles).
pub const FR_TILE_M: f64 = 100.0;

/// Growth to flashover, s: modern furnished rooms reached flashover in under 5 min
/// (3 min 40 s in the side-by-side living-room test of Kerber 2012, Fire Technology
/// 48:865–891).
pub const GROWTH_S: f64 = 220.0;

/// (fire load density MJ/m², heat release rate per m² MW/m²) by use, from EN 1991-1-2
/// Annex E (Tables E.4, E.5; mean fire loads): dwelling 780 / 0.25; office 420 / 0.25;
/// industrial has no row: shopping centre 600 / 0.25 as the nearest high-load row;
/// public: school classroom 285 / 0.25.
pub fn fire_load(u: BuildingUse) -> (f64, f64) {
    match u {
        BuildingUse::Residential => (780.0, 0.25),
        BuildingUse::Commercial => (420.0, 0.25),
        BuildingUse::Industrial => (600.0, 0.25),
        BuildingUse::Public => (285.0, 0.25),
    }
}

/// Stage durations [growth, fully developed, decay], s. In EN 1991-1-2 Annex E the
/// steady phase lasts until 70 % of the fire load is burnt; the rest burns in a linear
/// decay (twice the time the same energy takes at the steady rate).
pub fn stage_durations(u: BuildingUse) -> spread::Stages {
    let (q, rhr) = fire_load(u);
    [
        GROWTH_S as f32,
        (0.7 * q / rhr) as f32,
        (2.0 * 0.3 * q / rhr) as f32,
    ]
}

// ---- run-time state ------------------------------------------------------------------------

/// One fire incident: an ignition and everything that spread from it.
#[derive(Debug, Clone)]
pub struct Incident {
    pub id: u32,
    pub cell: u32,
    pub cause: String,
    pub t_ignition: f64,
    /// Road cell the engines drive to.
    pub access: u32,
    pub started: bool,
    pub reported: bool,
    pub t_report: f64,
    pub first_alarm: bool,
    /// An engine is (or was) on scene.
    pub working: bool,
    pub first_arrival: Option<f64>,
    pub contained: Option<f64>,
    pub out: Option<f64>,
    pub engines: Vec<Entity>,
    pub needed_l_min: f64,
    pub cells_reached: u32,
    pub buildings: u32,
    /// (idle engines, closures version) of the last dispatch attempt.
    pub last_try: Option<(u64, u64)>,
    pub no_route_reported: bool,
}

/// Fire bookkeeping of one building.
#[derive(Debug, Clone, Default)]
pub struct BuildingFire {
    pub t_ignition: Option<f64>,
    pub incident: u32,
    pub cells: u32,
    pub burning: u32,
    pub burnt: u32,
    pub extinguished: u32,
    pub casualties_done: bool,
    pub burnt_reported: bool,
}

#[derive(Debug, Clone, Copy)]
struct Ids {
    burning_m2: MetricId,
    burnt_m2: MetricId,
    buildings_burning: MetricId,
    buildings_burnt: MetricId,
    engines_busy: MetricId,
    deaths: MetricId,
    incidents: MetricId,
}

/// The fire plugin's state.
#[derive(Resource)]
pub struct FireSim {
    pub grid: GridSpec,
    pub spread: Spread,
    pub net: RoadNet,
    pub service: ServiceSpec,
    pub egress: EgressSpec,
    pub incidents: Vec<Incident>,
    pub buildings: Vec<BuildingFire>,
    /// Pending (time, cell, cause) ignitions, latest first.
    schedule: Vec<(f64, u32, String)>,
    /// Substations (asset id, entity, last operational state), by id.
    substations: Vec<(String, Entity, bool)>,
    secondary_p: f64,
    wind: (f32, f32),
    ids: Ids,
    /// Flow given to each cell this tick, L/min (scratch).
    pub given: Vec<f32>,
    /// Time each cell has been held at the needed flow, s.
    pub knockdown: Vec<f32>,
    /// First-engine response times (dispatch order to arrival), s.
    pub response_times: Vec<f64>,
    pub deaths: f64,
    pub loss_yuan: f64,
    burning_cells: u64,
    affected_cells: u64,
    buildings_burning: u64,
    buildings_burnt: u64,
    touched: Vec<u32>,
    aset_queue: Vec<u32>,
    ignited: Vec<u32>,
    burnt: Vec<u32>,
}

impl FireSim {
    /// Start an incident at a building cell.
    pub fn ignite(&mut self, t: f64, cell: u32, cause: &str, log: &mut EventLog) {
        if self.spread.status[cell as usize] != spread::UNBURNT {
            return;
        }
        let id = self.incidents.len() as u32;
        if !self.spread.ignite(cell as usize, t, id) {
            return;
        }
        self.incidents.push(Incident {
            id,
            cell,
            cause: cause.to_owned(),
            t_ignition: t,
            access: self.net.access[cell as usize],
            started: false,
            reported: false,
            t_report: f64::INFINITY,
            first_alarm: false,
            working: false,
            first_arrival: None,
            contained: None,
            out: None,
            engines: Vec::new(),
            needed_l_min: 0.0,
            cells_reached: 0,
            buildings: 0,
            last_try: None,
            no_route_reported: false,
        });
        let (i, j) = self.grid.cell_of(cell as usize);
        let (x, y) = self.grid.center(i, j);
        log.emit(t, "fire", "fire.ignited", Severity::Major)
            .at(Place {
                x,
                y,
                cell: Some([i as u32, j as u32]),
                name: None,
            })
            .message(format!("fire {id} starts ({cause})"))
            .with("incident", id)
            .with("cause", cause);
    }

    /// A burning cell stops burning (burnt out or put out): update the shared fields and
    /// the building's counts.
    fn on_cell_out(
        &mut self,
        c: usize,
        state: &mut FireState,
        closures: Option<&mut Closures>,
        burnt_out: bool,
    ) {
        state.0[c] = 2;
        if let Some(cl) = closures {
            cl.set(c, blocked::FIRE, false);
        }
        self.burning_cells = self.burning_cells.saturating_sub(1);
        let b = self.spread.setup().building[c];
        if b != spread::NONE {
            let bf = &mut self.buildings[b as usize];
            bf.burning = bf.burning.saturating_sub(1);
            if burnt_out {
                bf.burnt += 1;
            } else {
                bf.extinguished += 1;
            }
            if bf.burning == 0 {
                self.buildings_burning = self.buildings_burning.saturating_sub(1);
            }
            self.touched.push(b);
        }
    }
}

// ---- plugin ----------------------------------------------------------------------------------

/// The fire plugin.
pub struct FirePlugin<'a>(pub &'a FireSpec);

fn building_kind(c: Construction) -> u8 {
    match c {
        Construction::FireResistive => spread::RESISTIVE,
        Construction::Wooden | Construction::ProtectedWooden => spread::WOOD,
    }
}

/// Hamada's geometry of each building, measured from the grid: side `a` = √footprint;
/// separation `d` = edge-to-edge distance to the nearest other building (labels of a
/// multi-source 8-neighbour distance transform from all building cells meet half-way
/// across each gap); `f` = fire-resistive share of the buildings whose anchor lies in
/// the 3 × 3 tiles of `FR_TILE_M` around the building's own (Hamada's f is a district
/// share: a per-building 0/1 would make the medium patchy and the shortest path faster
/// than the formula).
pub fn building_geometry(city: &City, limit_m: f64) -> Vec<Geometry> {
    use std::collections::{BTreeMap, BinaryHeap};
    #[derive(PartialEq)]
    struct L(f64, u32);
    impl Eq for L {}
    impl PartialOrd for L {
        fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
            Some(self.cmp(o))
        }
    }
    impl Ord for L {
        fn cmp(&self, o: &Self) -> std::cmp::Ordering {
            o.0.total_cmp(&self.0).then(o.1.cmp(&self.1))
        }
    }
    let g = city.grid;
    let (nx, ny) = (g.nx as i64, g.ny as i64);
    let n = g.len();
    let mut dist = vec![f64::INFINITY; n];
    let mut label = vec![spread::NONE; n];
    let mut heap = BinaryHeap::new();
    for c in 0..n {
        if city.building[c] != NO_BUILDING {
            dist[c] = 0.0;
            label[c] = city.building[c];
            heap.push(L(0.0, c as u32));
        }
    }
    let reach = limit_m / 2.0 + g.cell;
    let steps = [
        (1i64, 0i64, 1.0f64),
        (-1, 0, 1.0),
        (0, 1, 1.0),
        (0, -1, 1.0),
        (1, 1, std::f64::consts::SQRT_2),
        (1, -1, std::f64::consts::SQRT_2),
        (-1, 1, std::f64::consts::SQRT_2),
        (-1, -1, std::f64::consts::SQRT_2),
    ];
    while let Some(L(t, c)) = heap.pop() {
        let c = c as usize;
        if t > dist[c] {
            continue;
        }
        let (i, j) = ((c % g.nx) as i64, (c / g.nx) as i64);
        for &(di, dj, len) in &steps {
            let (a, b) = (i + di, j + dj);
            if a < 0 || b < 0 || a >= nx || b >= ny {
                continue;
            }
            let q = (b * nx + a) as usize;
            let nt = t + len * g.cell;
            if nt <= reach && nt < dist[q] {
                dist[q] = nt;
                label[q] = label[c];
                heap.push(L(nt, q as u32));
            }
        }
    }
    // Where labels meet: gap = centre-to-centre path − one cell.
    let mut pairs: BTreeMap<(u32, u32), f64> = BTreeMap::new();
    for c in 0..n {
        let lp = label[c];
        if lp == spread::NONE {
            continue;
        }
        let (i, j) = ((c % g.nx) as i64, (c / g.nx) as i64);
        for &(di, dj, len) in &steps {
            let (a, b) = (i + di, j + dj);
            if a < 0 || b < 0 || a >= nx || b >= ny {
                continue;
            }
            let q = (b * nx + a) as usize;
            let lq = label[q];
            if lq == spread::NONE || lq == lp {
                continue;
            }
            let gap = (dist[c] + dist[q] + len * g.cell - g.cell).max(0.0);
            let e = pairs
                .entry((lp.min(lq), lp.max(lq)))
                .or_insert(f64::INFINITY);
            *e = e.min(gap);
        }
    }
    let nb = city.buildings.len();
    let mut nearest = vec![f64::INFINITY; nb];
    for (&(p, q), &gap) in &pairs {
        nearest[p as usize] = nearest[p as usize].min(gap);
        nearest[q as usize] = nearest[q as usize].min(gap);
    }
    let tile = |b: &crate::city::Building| {
        let (i, j) = g.cell_of(b.anchor as usize);
        (
            (i as f64 * g.cell / FR_TILE_M) as i64,
            (j as f64 * g.cell / FR_TILE_M) as i64,
        )
    };
    let mut tiles: BTreeMap<(i64, i64), (u32, u32)> = BTreeMap::new();
    for b in &city.buildings {
        let e = tiles.entry(tile(b)).or_insert((0, 0));
        e.0 += u32::from(b.construction == Construction::FireResistive);
        e.1 += 1;
    }
    (0..nb)
        .map(|b| {
            let bd = &city.buildings[b];
            let (ti, tj) = tile(bd);
            let (mut fr, mut all) = (0u32, 0u32);
            for dj in -1..=1 {
                for di in -1..=1 {
                    if let Some(&(f, n)) = tiles.get(&(ti + di, tj + dj)) {
                        fr += f;
                        all += n;
                    }
                }
            }
            [
                f64::from(bd.footprint_m2).sqrt().max(g.cell) as f32,
                nearest[b].min(limit_m) as f32,
                (f64::from(fr) / f64::from(all.max(1))) as f32,
            ]
        })
        .collect()
}

impl Plugin for FirePlugin<'_> {
    fn name(&self) -> &'static str {
        "fire"
    }

    fn check(&self, _ctx: &BuildContext) -> Result<(), BuildError> {
        // TODO(#15): the plugin's pure setup, once split out of `build`.
        Ok(())
    }

    fn build(&self, sim: &mut Simulation, ctx: &BuildContext) -> Result<(), BuildError> {
        let spec = self.0;
        let at = ctx.at;
        let rng = *sim.world.resource::<RngStreams>();
        let duration = sim.clock().duration();
        let (spread, net, buildings, calls, land, schedule) = {
            let city = sim.world.resource::<City>();
            let g = city.grid;
            let n = g.len();
            let spread = Spread::new(
                spread_setup(city, spec, &rng)
                    .map_err(|e| BuildError::new(at.key("spread_cv"), e))?,
            );
            let net =
                RoadNet::from_city(city, spec.service.speed_factor, spec.service.hose_reach_m);
            let mut bf = vec![BuildingFire::default(); city.buildings.len()];
            for &b in &city.building {
                if b != NO_BUILDING {
                    bf[b as usize].cells += 1;
                }
            }
            // Expected calls per cell: floor area of the cell × rate of its building's use.
            let rates = spec
                .random
                .as_ref()
                .map(|r| r.rates_per_m2_year)
                .unwrap_or_default();
            let cell_area = g.cell_area();
            let calls: Vec<f32> = (0..n)
                .map(|c| match city.building[c] {
                    NO_BUILDING => 0.0,
                    b => {
                        let bd = &city.buildings[b as usize];
                        (rates.of(bd.use_) * cell_area * f64::from(bd.storeys)) as f32
                    }
                })
                .collect();
            let land: Vec<bool> = city
                .landuse
                .iter()
                .map(|l| !matches!(l, LandUse::Water | LandUse::Sea))
                .collect();
            // Given ignitions, checked against the city.
            let mut schedule: Vec<(f64, u32, String)> = Vec::new();
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
            if let Some(r) = &spec.random {
                schedule.extend(random_ignitions(city, r, duration, &rng));
            }
            schedule.sort_by(|a, b| b.0.total_cmp(&a.0).then(b.1.cmp(&a.1)));
            (spread, net, bf, calls, land, schedule)
        };
        let grid = sim.world.resource::<City>().grid;

        // Stations, engines and crews.
        let mut stations: Vec<(String, Entity, usize, f64, f64, f64)> = {
            let mut q = sim.world.query::<(Entity, &Asset)>();
            q.iter(&sim.world)
                .filter(|(_, a)| a.kind == AssetKind::FireStation)
                .map(|(e, a)| (a.id.clone(), e, a.cell, a.x, a.y, a.capacity))
                .collect()
        };
        stations.sort_by(|a, b| a.0.cmp(&b.0));
        let mut station_cells = Vec::new();
        let mut order = 0u32;
        for (id, ent, cell, x, y, capacity) in &stations {
            let road = net.access[*cell];
            if road == roads::NONE {
                return Err(BuildError::new(
                    KeyPath::root().key("assets"),
                    format!(
                        "fire station `{id}` at ({x}, {y}) is off the road network: no road within {} m",
                        spec.service.hose_reach_m
                    ),
                ));
            }
            let engines = spec
                .service
                .engines_per_station
                .map_or(capacity.round().max(0.0), f64::from);
            if engines > f64::from(MAX_ENGINES_PER_STATION) {
                return Err(BuildError::new(
                    KeyPath::root().key("assets"),
                    format!(
                        "fire station `{id}` would have {engines} engines (its `capacity`): at most {MAX_ENGINES_PER_STATION}"
                    ),
                ));
            }
            let engines = engines as u32;
            if spec.service.enabled && engines == 0 {
                return Err(BuildError::new(
                    KeyPath::root().key("assets"),
                    format!(
                        "fire station `{id}` has no engines: set its `capacity` (engines) or `service.engines_per_station`"
                    ),
                ));
            }
            station_cells.push(road);
            sim.world.entity_mut(*ent).insert(Station {
                id: id.clone(),
                road_cell: road,
                engines,
            });
            for k in 0..engines {
                let e = sim
                    .world
                    .spawn(Engine {
                        id: format!("{id}/E{}", k + 1),
                        station: *ent,
                        home: road,
                        cell: road,
                        flow_l_min: spec.service.engine_flow_l_min,
                        task: Task::Idle,
                        order,
                    })
                    .id();
                order += 1;
                sim.world.spawn(Crew {
                    engine: e,
                    members: spec.service.crew_size,
                });
            }
        }

        // Coverage, and warnings for parts of the road network no station reaches.
        let cov = coverage::coverage(
            &net,
            &station_cells,
            &land,
            &calls,
            coverage::Limits {
                cn_travel_s: spec.coverage.cn_limit_s - spec.coverage.cn_turnout_s,
                nfpa_travel_s: spec.coverage.nfpa_travel_s,
            },
        );
        {
            let (label, count) = net.components();
            let mut has_station = vec![false; count as usize];
            for &c in &station_cells {
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
            if !cut.is_empty() && !station_cells.is_empty() {
                let biggest = *cut
                    .iter()
                    .max_by_key(|&&k| (size[k], std::cmp::Reverse(k)))
                    .expect("`cut` was checked to be non-empty");
                let cells: u64 = cut.iter().map(|&k| size[k]).sum();
                let (i, j) = grid.cell_of(first[biggest] as usize);
                let (x, y) = grid.center(i, j);
                tracing::warn!(
                    "fire: {} road pieces ({cells} cells) have no fire station; the largest starts at ({x}, {y})",
                    cut.len()
                );
                sim.world
                    .resource_mut::<EventLog>()
                    .emit(0.0, "fire", "coverage.disconnected", Severity::Moderate)
                    .at(Place {
                        x,
                        y,
                        cell: Some([i as u32, j as u32]),
                        name: None,
                    })
                    .message(format!(
                        "{} parts of the road network ({:.2} km of road cells) are cut off from every fire station",
                        cut.len(),
                        cells as f64 * grid.cell / 1000.0
                    ))
                    .with("pieces", cut.len())
                    .with("road_cells", cells);
            }
        }

        // Shared fields.
        if sim.world.get_resource::<FireState>().is_none() {
            sim.world.insert_resource(FireState(vec![0; grid.len()]));
        }
        if sim.world.get_resource::<Closures>().is_none() {
            sim.world.insert_resource(Closures::new(&grid));
        }
        if sim.world.get_resource::<MapOutputs>().is_none() {
            sim.world.insert_resource(MapOutputs::default());
        }
        sim.world.resource_mut::<MapOutputs>().0.push(Raster {
            name: "fire_travel_time".into(),
            title: "Fire engine travel time from the nearest station".into(),
            unit: "min".into(),
            grid,
            data: cov.time.iter().map(|t| t / 60.0).collect(),
            kind: RasterKind::Continuous {
                palette: Palette::Time,
            },
        });

        let substations = {
            let mut q = sim
                .world
                .query::<(Entity, &Asset, &crate::city::assets::Operational)>();
            let mut v: Vec<(String, Entity, bool)> = q
                .iter(&sim.world)
                .filter(|(_, a, _)| a.kind == AssetKind::Substation)
                .map(|(e, a, o)| (a.id.clone(), e, o.0))
                .collect();
            v.sort_by(|a, b| a.0.cmp(&b.0));
            v
        };

        let mut m = sim.world.resource_mut::<Metrics>();
        let ids = Ids {
            burning_m2: m.declare(
                "fire.burning_area_m2",
                "m²",
                "building footprint burning now",
            ),
            burnt_m2: m.declare(
                "fire.affected_area_m2",
                "m²",
                "building footprint burnt out or burnt and put out so far",
            ),
            buildings_burning: m.declare(
                "fire.buildings_burning",
                "buildings",
                "buildings on fire now",
            ),
            buildings_burnt: m.declare(
                "fire.buildings_burnt",
                "buildings",
                "buildings burnt (fire over, some part burnt out)",
            ),
            engines_busy: m.declare(
                "fire.engines_committed",
                "engines",
                "engines not available at their station",
            ),
            deaths: m.declare(
                "fire.deaths",
                "people",
                "fire deaths so far (occupants outrun by the fire)",
            ),
            incidents: m.declare(
                "fire.active_incidents",
                "incidents",
                "fires started and not out",
            ),
        };
        m.set_kpi(
            "fire.coverage_5min_share",
            cov.share_cn,
            "share",
            "share of the district's land reached within 5 min of the dispatch order (建标152-2017; travel ≤ 5 min − turnout)",
        );
        m.set_kpi(
            "fire.nfpa1710_travel_240s_share",
            cov.share_nfpa,
            "share",
            "share of expected calls with first-engine travel within the NFPA 1710 limit (240 s); the standard asks ≥ 0.9",
        );
        m.set_kpi(
            "fire.travel_time_p90_s",
            cov.p90_s,
            "s",
            "90th percentile of first-engine travel time over expected calls (NFPA 1710: ≤ 240 s)",
        );
        m.set_kpi(
            "fire.max_station_district_km2",
            cov.max_district_km2,
            "km²",
            "land area of the largest station district (cells nearest to one station by travel time); 建标152-2017: ≤ 7 km²",
        );
        m.set_kpi(
            "fire.coverage_unreachable_share",
            cov.unreachable_share,
            "share",
            "share of the district's land no station can reach by road",
        );

        let (wu, wv) = spec.wind();
        sim.world.insert_resource(FireSim {
            grid,
            given: vec![0.0; grid.len()],
            knockdown: vec![0.0; grid.len()],
            spread,
            net,
            service: spec.service,
            egress: spec.egress,
            incidents: Vec::new(),
            buildings,
            schedule,
            substations,
            secondary_p: spec.secondary.substation_failure_probability,
            wind: (wu as f32, wv as f32),
            ids,
            response_times: Vec::new(),
            deaths: 0.0,
            loss_yuan: 0.0,
            burning_cells: 0,
            affected_cells: 0,
            buildings_burning: 0,
            buildings_burnt: 0,
            touched: Vec::new(),
            aset_queue: Vec::new(),
            ignited: Vec::new(),
            burnt: Vec::new(),
        });
        sim.add_systems(Phase::Forcing, ignition_system);
        sim.add_systems(Phase::Hazards, spread_system);
        sim.add_systems(Phase::Impacts, occupants_system);
        sim.add_systems(
            Phase::Response,
            (service::dispatch_system, service::suppression_system).chain(),
        );
        sim.add_systems(
            Phase::Movement,
            (service::movement_system, fire_metrics_system).chain(),
        );
        sim.add_finish_systems(fire_finish_system);
        Ok(())
    }
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

/// Random ignition times and cells: a Poisson process of total rate Σ floor area × rate,
/// each fire placed in a building drawn in proportion to its rate.
pub fn random_ignitions(
    city: &City,
    r: &RandomSpec,
    duration: f64,
    rng: &RngStreams,
) -> Vec<(f64, u32, String)> {
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

/// Phase::Forcing: scheduled and secondary ignitions due this tick.
fn ignition_system(
    clock: Res<SimClock>,
    mut fire: ResMut<FireSim>,
    mut log: ResMut<EventLog>,
    rng: Res<RngStreams>,
    assets: Query<&crate::city::assets::Operational>,
    city: Res<City>,
) {
    let t_end = clock.t_end();
    let fire = &mut *fire;
    while fire.schedule.last().is_some_and(|s| s.0 < t_end) {
        let (t, c, cause) = fire
            .schedule
            .pop()
            .expect("the loop condition saw a last entry");
        fire.ignite(t, c, &cause, &mut log);
    }
    if fire.secondary_p > 0.0 {
        for k in 0..fire.substations.len() {
            let (ref id, ent, was) = fire.substations[k];
            let now = assets.get(ent).map(|o| o.0).unwrap_or(true);
            if was && !now {
                let mut s = rng.indexed("fire.secondary", (k as u64) << 32 | clock.tick);
                if s.random::<f64>() < fire.secondary_p {
                    let site = city.assets.iter().find(|a| &a.id == id);
                    if let Some(cell) = site.and_then(|a| nearest_building(&city, a.x, a.y)) {
                        let cause = format!("electrical fault after substation {id} failed");
                        fire.ignite(clock.t(), cell, &cause, &mut log);
                    }
                }
            }
            fire.substations[k].2 = now;
        }
    }
}

/// The building cell nearest to (x, y), by square rings of cells (up to 500 m).
fn nearest_building(city: &City, x: f64, y: f64) -> Option<u32> {
    let g = city.grid;
    let (ci, cj) = g.locate(x, y)?;
    let max_r = ((500.0 / g.cell).ceil() as usize).max(1);
    for r in 0..=max_r {
        let (i0, i1) = (ci.saturating_sub(r), (ci + r).min(g.nx - 1));
        let (j0, j1) = (cj.saturating_sub(r), (cj + r).min(g.ny - 1));
        for j in j0..=j1 {
            for i in i0..=i1 {
                if (i == i0 || i == i1 || j == j0 || j == j1)
                    && city.building[g.index(i, j)] != NO_BUILDING
                {
                    return Some(g.index(i, j) as u32);
                }
            }
        }
    }
    None
}

/// Phase::Hazards: advance the front, burn out cells, update the shared fields.
#[allow(clippy::too_many_arguments)]
fn spread_system(
    clock: Res<SimClock>,
    mut fire: ResMut<FireSim>,
    wind: Option<Res<SurfaceWind>>,
    couplings: Option<Res<Couplings>>,
    mut state: ResMut<FireState>,
    mut closures: Option<ResMut<Closures>>,
    mut log: ResMut<EventLog>,
    mut health: ResMut<RunHealth>,
    city: Res<City>,
) {
    let t_end = clock.t_end();
    let fire = &mut *fire;
    // The typhoon's (or `wind` hazard's) field drives spread unless `wind_fire` is off;
    // then the spec's own uniform wind does.
    let w = match &wind {
        Some(w) if Couplings::of(couplings.as_deref()).wind_fire => spread::Wind::Field(&w.u, &w.v),
        _ => spread::Wind::Uniform(fire.wind.0, fire.wind.1),
    };
    let mut ignited = std::mem::take(&mut fire.ignited);
    let mut burnt = std::mem::take(&mut fire.burnt);
    ignited.clear();
    burnt.clear();
    fire.spread.advance(t_end, w, &mut ignited);
    fire.spread.retire(t_end, &mut burnt);
    for &c in &ignited {
        let cu = c as usize;
        let t = fire.spread.arrival[cu];
        if !t.is_finite() {
            let (i, j) = fire.grid.cell_of(cu);
            health.fail(format!(
                "fire: arrival time {t} at cell ({i},{j}), t={t_end}"
            ));
            return;
        }
        state.0[cu] = 1;
        if let Some(cl) = closures.as_deref_mut() {
            cl.set(cu, blocked::FIRE, true);
        }
        fire.burning_cells += 1;
        fire.affected_cells += 1;
        let inc = fire.spread.incident[cu] as usize;
        if let Some(i) = fire.incidents.get_mut(inc) {
            i.started = true;
            i.cells_reached += 1;
        }
        let b = fire.spread.setup().building[cu];
        if b != spread::NONE {
            let bf = &mut fire.buildings[b as usize];
            if bf.burning == 0 {
                fire.buildings_burning += 1;
            }
            bf.burning += 1;
            if bf.t_ignition.is_none() {
                bf.t_ignition = Some(t);
                bf.incident = inc as u32;
                fire.aset_queue.push(b);
                if let Some(i) = fire.incidents.get_mut(inc) {
                    i.buildings += 1;
                }
            }
        }
    }
    for &c in &burnt {
        fire.on_cell_out(c as usize, &mut state, closures.as_deref_mut(), true);
    }
    // Buildings whose fire is over.
    let mut touched = std::mem::take(&mut fire.touched);
    touched.sort_unstable();
    touched.dedup();
    for &b in &touched {
        let bf = &fire.buildings[b as usize];
        if bf.burning > 0 || bf.burnt == 0 || bf.burnt_reported {
            continue;
        }
        let share = f64::from(bf.burnt) / f64::from(bf.cells.max(1));
        let bd = &city.buildings[b as usize];
        let loss = bd.value_yuan * share;
        fire.loss_yuan += loss;
        fire.buildings_burnt += 1;
        fire.buildings[b as usize].burnt_reported = true;
        let (i, j) = fire.grid.cell_of(bd.anchor as usize);
        let (x, y) = fire.grid.center(i, j);
        log.emit(t_end, "fire", "building.burnt", Severity::Major)
            .at(Place {
                x,
                y,
                cell: Some([i as u32, j as u32]),
                name: None,
            })
            .message(format!(
                "building {b} ({} storeys) burnt: {:.0} % of its footprint",
                bd.storeys,
                100.0 * share
            ))
            .with("building", b)
            .with("burnt_share", share)
            .with("loss_yuan", loss);
    }
    touched.clear();
    fire.touched = touched;
    fire.ignited = ignited;
    fire.burnt = burnt;
}

/// Phase::Impacts: occupants against flashover on the floor of origin.
fn occupants_system(
    clock: Res<SimClock>,
    mut fire: ResMut<FireSim>,
    city: Res<City>,
    metrics: Res<Metrics>,
    mut log: ResMut<EventLog>,
) {
    let t_end = clock.t_end();
    let fire = &mut *fire;
    if fire.aset_queue.is_empty() {
        return;
    }
    // Day or night occupancy: whichever the core's `population.present` matches.
    let present = metrics
        .kpis()
        .get("population.present")
        .map_or(0.0, |k| k.value);
    let daytime =
        (present - city.population(true)).abs() < (present - city.population(false)).abs();
    let cell_area = fire.grid.cell_area();
    let mut keep = Vec::new();
    for b in std::mem::take(&mut fire.aset_queue) {
        let bf = &fire.buildings[b as usize];
        let t_ign = bf.t_ignition.expect("queued when ignited");
        let st = fire.spread.setup().stages[b as usize];
        let t_untenable = t_ign + f64::from(st[0]);
        if t_end < t_untenable {
            keep.push(b);
            continue;
        }
        fire.buildings[b as usize].casualties_done = true;
        let bf = &fire.buildings[b as usize];
        if bf.burning == 0 {
            continue;
        }
        let warn = fire
            .incidents
            .get(bf.incident as usize)
            .map_or(t_ign, |i| i.t_report.min(t_ign));
        let bd = &city.buildings[b as usize];
        let occupants = f64::from(if daytime {
            bd.occupants_day
        } else {
            bd.occupants_night
        });
        let footprint_m2 = f64::from(bd.footprint_m2);
        let building = egress::Occupancy {
            occupants,
            storeys: bd.storeys,
            footprint_m2,
            resistive: bd.construction == Construction::FireResistive,
            compartment_m2: egress::Occupancy::compartment_for(
                &fire.egress,
                bd.use_ == BuildingUse::Residential,
                f64::from(bd.occupants_night),
                bd.storeys,
                footprint_m2,
                f64::from(bd.height_m),
            ),
        };
        let c = egress::casualties(
            &fire.egress,
            &building,
            f64::from(bf.burning) * cell_area,
            t_untenable - warn,
        );
        if c > 0.0 {
            fire.deaths += c;
            let (i, j) = fire.grid.cell_of(bd.anchor as usize);
            let (x, y) = fire.grid.center(i, j);
            log.emit(t_untenable, "fire", "fire.casualties", Severity::Critical)
                .at(Place {
                    x,
                    y,
                    cell: Some([i as u32, j as u32]),
                    name: None,
                })
                .message(format!(
                    "building {b}: about {c:.1} occupants still inside at flashover"
                ))
                .with("building", b)
                .with("casualties", c)
                .with("occupants", occupants);
        }
    }
    fire.aset_queue = keep;
}

/// End of Phase::Movement: gauges.
fn fire_metrics_system(fire: Res<FireSim>, engines: Query<&Engine>, mut m: ResMut<Metrics>) {
    let a = fire.grid.cell_area();
    let ids = fire.ids;
    m.set(ids.burning_m2, fire.burning_cells as f64 * a);
    m.set(
        ids.burnt_m2,
        (fire.affected_cells - fire.burning_cells) as f64 * a,
    );
    m.set(ids.buildings_burning, fire.buildings_burning as f64);
    m.set(ids.buildings_burnt, fire.buildings_burnt as f64);
    m.set(
        ids.engines_busy,
        engines
            .iter()
            .filter(|e| !matches!(e.task, Task::Idle))
            .count() as f64,
    );
    m.set(ids.deaths, fire.deaths);
    m.set(
        ids.incidents,
        fire.incidents
            .iter()
            .filter(|i| i.started && i.out.is_none())
            .count() as f64,
    );
}

/// Finish: KPIs and the arrival-time map.
fn fire_finish_system(fire: Res<FireSim>, mut m: ResMut<Metrics>, mut maps: ResMut<MapOutputs>) {
    let residents = m
        .kpis()
        .get("population.residents")
        .map_or(0.0, |k| k.value);
    m.set_kpi(
        "fire.ignitions",
        fire.incidents.len() as f64,
        "fires",
        "fires started",
    );
    m.set_kpi(
        "fire.deaths",
        fire.deaths,
        "people",
        "fire deaths: occupants still inside at flashover (an upper bound)",
    );
    if residents > 0.0 {
        m.set_kpi(
            "fire.deaths_per_100k",
            fire.deaths / residents * 1e5,
            "per 100,000 residents",
            "fire deaths per 100,000 residents (十万人口火灾死亡率, for this event)",
        );
    }
    m.set_kpi(
        "fire.affected_area_m2",
        fire.affected_cells as f64 * fire.grid.cell_area(),
        "m²",
        "building footprint reached by fire",
    );
    m.set_kpi(
        "fire.buildings_burnt",
        fire.buildings_burnt as f64,
        "buildings",
        "buildings with burnt-out parts",
    );
    m.set_kpi(
        "fire.direct_loss_yuan",
        fire.loss_yuan,
        "yuan",
        "replacement value of burnt building footprint",
    );
    if !fire.response_times.is_empty() {
        let n = fire.response_times.len() as f64;
        let mean = fire.response_times.iter().sum::<f64>() / n;
        let max = fire.response_times.iter().copied().fold(0.0, f64::max);
        m.set_kpi(
            "fire.response_time_mean_s",
            mean,
            "s",
            "dispatch order to first engine on scene, mean over fires",
        );
        m.set_kpi(
            "fire.response_time_max_s",
            max,
            "s",
            "dispatch order to first engine on scene, worst fire",
        );
    }
    let data: Vec<f32> = fire
        .spread
        .arrival
        .iter()
        .enumerate()
        .map(|(c, &t)| {
            if fire.spread.is_fuel(c) && t.is_finite() {
                (t / 60.0) as f32
            } else {
                f32::NAN
            }
        })
        .collect();
    maps.0.push(Raster {
        name: "fire_arrival".into(),
        title: "Time the fire reached each building cell".into(),
        unit: "min".into(),
        grid: fire.grid,
        data,
        kind: RasterKind::Continuous {
            palette: Palette::Time,
        },
    });
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;

    use crate::run::{prepare_city, run};
    use crate::scenario::{load, parse};

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
}

#[cfg(test)]
mod ignition_tests {
    use super::*;
    use crate::city::assets::Operational;
    use crate::city::{Building, RoadClass};

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

    fn sim_with(city: City, spec: &FireSpec, duration: f64) -> (Simulation, Entity) {
        let mut sim = Simulation::new(5, 10.0, duration, 60.0);
        let g = city.grid;
        let mut sub = None;
        for (id, kind, i, j, cap) in [
            ("FS-1", AssetKind::FireStation, 2usize, 20usize, 2.0),
            ("SUB-1", AssetKind::Substation, 20, 20, 100.0),
        ] {
            let (x, y) = g.center(i, j);
            let e = sim
                .world
                .spawn((
                    Asset {
                        id: id.into(),
                        kind,
                        cell: g.index(i, j),
                        x,
                        y,
                        capacity: cap,
                        depends_on: vec![],
                    },
                    Operational(true),
                ))
                .id();
            if kind == AssetKind::Substation {
                sub = Some(e);
            }
        }
        let mut city = city;
        let (x, y) = g.center(20, 20);
        city.assets.push(crate::city::AssetSpec {
            id: "SUB-1".into(),
            kind: AssetKind::Substation,
            x,
            y,
            capacity: 100.0,
            depends_on: vec![],
        });
        sim.world.insert_resource(city);
        sim.add_plugin_standalone(&FirePlugin(spec), 0)
            .expect("builds");
        (sim, sub.expect("substation"))
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
}
