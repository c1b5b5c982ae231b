//! The fire hazard's scenario entry (`kind = "fire"`): serde types and their range
//! checks. Checks against the city are in `setup.rs`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::city::BuildingUse;
use crate::spec::{KeyPath, Problem, in_range, positive};

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
    /// The rate of a building use.
    pub fn of(&self, u: BuildingUse) -> f64 {
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
    /// Ranges of every value, in the order of the entry's keys (the first problem is
    /// reported).
    pub fn check(&self, at: &KeyPath) -> Result<(), Problem> {
        self.check_spread(at)?;
        if let Some(g) = &self.geometry {
            g.check(&at.key("geometry"))?;
        }
        for (n, ig) in self.ignitions.iter().enumerate() {
            ig.check(&at.key("ignitions").index(n))?;
        }
        if let Some(r) = &self.random {
            r.check(&at.key("random"))?;
        }
        in_range(
            at.key("secondary").key("substation_failure_probability"),
            self.secondary.substation_failure_probability,
            0.0,
            1.0,
            "the probability",
        )?;
        self.service.check(&at.key("service"))?;
        self.egress.check(&at.key("egress"))?;
        self.coverage.check(&at.key("coverage"))
    }

    /// Wind and spread limits.
    fn check_spread(&self, at: &KeyPath) -> Result<(), Problem> {
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

impl GeometrySpec {
    fn check(&self, k: &KeyPath) -> Result<(), Problem> {
        positive(k.key("a_m"), self.a_m, "the mean building side")?;
        in_range(k.key("d_m"), self.d_m, 0.0, 1e4, "the mean separation")?;
        in_range(k.key("f"), self.f, 0.0, 1.0, "the fire-resistive share")
    }
}

impl IgnitionSpec {
    fn check(&self, k: &KeyPath) -> Result<(), Problem> {
        in_range(k.key("x"), self.x, f64::NEG_INFINITY, f64::INFINITY, "x")?;
        in_range(k.key("y"), self.y, f64::NEG_INFINITY, f64::INFINITY, "y")?;
        in_range(
            k.key("t_s"),
            self.t_s,
            0.0,
            f64::INFINITY,
            "the ignition time",
        )
    }
}

impl RandomSpec {
    fn check(&self, k: &KeyPath) -> Result<(), Problem> {
        let rr = k.key("rates_per_m2_year");
        let r2 = &self.rates_per_m2_year;
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
            self.multiplier,
            0.0,
            1e6,
            "the multiplier",
        )
    }
}

impl ServiceSpec {
    fn check(&self, s: &KeyPath) -> Result<(), Problem> {
        for (name, v) in [
            ("detection_s", self.detection_s),
            ("alarm_handling_s", self.alarm_handling_s),
            ("turnout_s", self.turnout_s),
            ("setup_s", self.setup_s),
        ] {
            in_range(s.key(name), v, 0.0, 86_400.0, "the time")?;
        }
        positive(
            s.key("engine_flow_l_min"),
            self.engine_flow_l_min,
            "the engine flow",
        )?;
        positive(
            s.key("needed_flow_l_min_m2"),
            self.needed_flow_l_min_m2,
            "the needed flow",
        )?;
        in_range(
            s.key("knockdown_s"),
            self.knockdown_s,
            0.0,
            86_400.0,
            "the knock-down time",
        )?;
        positive(s.key("hose_reach_m"), self.hose_reach_m, "the hose reach")?;
        if let Some(n) = self.engines_per_station {
            in_range(
                s.key("engines_per_station"),
                f64::from(n),
                0.0,
                f64::from(MAX_ENGINES_PER_STATION),
                "the engines per station",
            )?;
        }
        positive(s.key("speed_factor"), self.speed_factor, "the speed factor")
    }
}

impl EgressSpec {
    fn check(&self, e: &KeyPath) -> Result<(), Problem> {
        in_range(
            e.key("premovement_s"),
            self.premovement_s,
            0.0,
            86_400.0,
            "the pre-movement time",
        )?;
        positive(
            e.key("stair_width_m"),
            self.stair_width_m,
            "the stair width",
        )?;
        in_range(
            e.key("floor_resistance_s"),
            self.floor_resistance_s,
            0.0,
            1e6,
            "the floor fire resistance",
        )?;
        in_range(
            e.key("household_size"),
            self.household_size,
            1.0,
            20.0,
            "the household size",
        )
    }
}

impl CoverageSpec {
    fn check(&self, c: &KeyPath) -> Result<(), Problem> {
        positive(c.key("cn_limit_s"), self.cn_limit_s, "the time limit")?;
        in_range(
            c.key("cn_turnout_s"),
            self.cn_turnout_s,
            0.0,
            self.cn_limit_s,
            "the turnout",
        )?;
        positive(
            c.key("nfpa_travel_s"),
            self.nfpa_travel_s,
            "the travel limit",
        )
    }
}
