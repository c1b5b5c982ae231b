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
    pub fn vehicle_blocked(&self, index: usize) -> bool {
        self.flags[index] & blocked::VEHICLE != 0
    }
    pub fn walk_blocked(&self, index: usize) -> bool {
        self.flags[index] & blocked::WALK != 0
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
