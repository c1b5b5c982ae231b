//! Fields that hazards share. Plugins write and read these rather than each other's
//! internals, so a coupling works whichever plugins are present and any plugin can be
//! left out of a scenario. Each is inserted by the first plugin that needs it.

use bevy_ecs::prelude::Resource;

use crate::grid::GridSpec;

/// Why a cell is impassable; several reasons may hold at once (bit flags).
pub mod blocked {
    /// Water deeper than the plugin's limit for vehicles.
    pub const FLOOD_VEHICLE: u8 = 1;
    /// Water deeper than the walking limit.
    pub const FLOOD_WALK: u8 = 2;
    /// Fire or its radiant heat.
    pub const FIRE: u8 = 4;
    /// Debris, fallen trees, police cordon.
    pub const DEBRIS: u8 = 8;
    /// Anything that stops vehicles.
    pub const VEHICLE: u8 = FLOOD_VEHICLE | FIRE | DEBRIS;
    /// Anything that stops pedestrians.
    pub const WALK: u8 = FLOOD_WALK | FIRE | DEBRIS;
}

/// Per-cell passability flags (see [`blocked`]), plus a counter bumped at every change so
/// routers know when to recompute.
#[derive(Resource, Debug, Clone)]
pub struct Closures {
    pub flags: Vec<u8>,
    pub version: u64,
}

impl Closures {
    pub fn new(grid: &GridSpec) -> Self {
        Self {
            flags: vec![0; grid.len()],
            version: 0,
        }
    }
    /// Set or clear `flag` at a cell; returns whether anything changed.
    pub fn set(&mut self, index: usize, flag: u8, on: bool) -> bool {
        let old = self.flags[index];
        let new = if on { old | flag } else { old & !flag };
        if new != old {
            self.flags[index] = new;
            self.version += 1;
        }
        new != old
    }
    /// Blocked for vehicles by any reason (all couplings on).
    pub fn vehicle_blocked(&self, index: usize) -> bool {
        self.flags[index] & blocked::VEHICLE != 0
    }
    /// Blocked for walkers by any reason (all couplings on).
    pub fn walk_blocked(&self, index: usize) -> bool {
        self.flags[index] & blocked::WALK != 0
    }
    /// Blocked by one of the reasons in `mask` (e.g. [`Couplings::vehicle_mask`]).
    pub fn blocked_by(&self, index: usize, mask: u8) -> bool {
        self.flags[index] & mask != 0
    }
}

/// 10-m wind over the grid, m/s (u east, v north), written each forcing step by the
/// typhoon plugin; a scenario without one may set a uniform wind.
#[derive(Resource, Debug, Clone)]
pub struct SurfaceWind {
    pub u: Vec<f32>,
    pub v: Vec<f32>,
    /// 3-s gust speed, m/s.
    pub gust: Vec<f32>,
}

impl SurfaceWind {
    pub fn uniform(grid: &GridSpec, u: f32, v: f32, gust_factor: f32) -> Self {
        let n = grid.len();
        Self {
            u: vec![u; n],
            v: vec![v; n],
            gust: vec![(u * u + v * v).sqrt() * gust_factor; n],
        }
    }
    pub fn speed(&self, index: usize) -> f32 {
        (self.u[index].powi(2) + self.v[index].powi(2)).sqrt()
    }
}

/// Water depth on the ground, m, written by the flood plugin after each tick.
#[derive(Resource, Debug, Clone)]
pub struct WaterDepth(pub Vec<f32>);

/// Rain rate at the ground, m/s, written by forcing plugins (typhoon rain, design storm).
#[derive(Resource, Debug, Clone)]
pub struct RainRate(pub Vec<f32>);

/// Cells on fire (1) or burnt out (2), written by the fire plugin.
#[derive(Resource, Debug, Clone)]
pub struct FireState(pub Vec<u8>);

/// Still-water sea level at the coast, m above datum (tide + surge), written by forcing
/// plugins and applied by the flood plugin as a level boundary on sea cells.
#[derive(Resource, Debug, Clone, Copy)]
pub struct SeaLevel(pub f64);

/// Names the plugin that owns asset `Operational` flags when several could set them.
/// The lifelines plugin inserts it; the flood and typhoon plugins then leave asset
/// failure to it (they still compute depth and gusts, which it reads).
#[derive(Resource, Debug, Clone, Copy)]
pub struct AssetFailureOwner(pub &'static str);

/// Switches for the couplings between hazards (`[couplings]` in a scenario; all on by
/// default). Each plugin that implements a coupling reads its switch.
#[derive(
    Resource,
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(deny_unknown_fields, default)]
pub struct Couplings {
    /// Fire spread reads the typhoon's `SurfaceWind`.
    pub wind_fire: bool,
    /// Flooded roads (`FLOOD_VEHICLE`) close routes for fire engines.
    pub flood_roads: bool,
    /// Flood depth slows and stops walkers (`FLOOD_WALK`, `WaterDepth`).
    pub flood_walk: bool,
    /// A pump station without power stops pumping.
    pub power_pumps: bool,
    /// A metro entrance without power closes.
    pub power_metro: bool,
    /// A hospital without grid power runs on generators, then fails.
    pub power_hospitals: bool,
    /// Burning cells (`FIRE`) block pedestrian routes.
    pub fire_routes: bool,
}

impl Couplings {
    /// The closure reasons that stop fire engines under these switches: the fire's own
    /// cells and debris always, flooded roads only with `flood_roads`.
    pub fn vehicle_mask(&self) -> u8 {
        let mut m = blocked::FIRE | blocked::DEBRIS;
        if self.flood_roads {
            m |= blocked::FLOOD_VEHICLE;
        }
        m
    }
    /// The closure reasons that stop walkers under these switches: debris always,
    /// flooded streets with `flood_walk`, burning cells with `fire_routes`.
    pub fn walk_mask(&self) -> u8 {
        let mut m = blocked::DEBRIS;
        if self.flood_walk {
            m |= blocked::FLOOD_WALK;
        }
        if self.fire_routes {
            m |= blocked::FIRE;
        }
        m
    }
    /// The scenario's switches, or all on when none were inserted (a plugin run alone).
    pub fn of(c: Option<&Couplings>) -> Couplings {
        c.copied().unwrap_or_default()
    }
}

impl Default for Couplings {
    fn default() -> Self {
        Self {
            wind_fire: true,
            flood_roads: true,
            flood_walk: true,
            power_pumps: true,
            power_metro: true,
            power_hospitals: true,
            fire_routes: true,
        }
    }
}

/// Warnings issued so far: the time each named warning was first issued, s. Forcing
/// plugins issue them (the typhoon plugin: `typhoon_blue` … `typhoon_red` from the CMA
/// typhoon signal criteria, `rainstorm_blue` … `rainstorm_red`, `sea_level_<name>`);
/// the crowd's district evacuation may start on one (`warning = "typhoon_orange"`).
#[derive(Resource, Debug, Clone, Default)]
pub struct Warnings {
    issued: Vec<(String, f64)>,
}

impl Warnings {
    /// Record `name` at time `t` unless it was issued before; returns whether it is new.
    pub fn issue(&mut self, name: &str, t: f64) -> bool {
        if self.time_of(name).is_some() {
            return false;
        }
        self.issued.push((name.to_string(), t));
        true
    }
    /// When `name` was first issued.
    pub fn time_of(&self, name: &str) -> Option<f64> {
        self.issued.iter().find(|w| w.0 == name).map(|w| w.1)
    }
    /// All warnings in the order issued.
    pub fn issued(&self) -> &[(String, f64)] {
        &self.issued
    }
}
