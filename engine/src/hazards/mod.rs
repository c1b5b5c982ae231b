//! The hazard registry: each `[[hazards]]` entry of a scenario names its plugin by
//! `kind`. A hazard issue adds its variant here and its plugin in its own module.

pub mod crowd;
pub mod design_storm;
pub mod fire;
pub mod flood;
pub mod lifelines;
pub mod typhoon;
pub mod wind;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::sim::Plugin;
use crate::spec::{KeyPath, Problem};

/// The order plugins run in inside each phase of a tick (and are built in): forcing
/// first, then the hazards that read it, then the services and networks that react.
/// The scenario's hazard order does not matter.
pub const PLUGIN_ORDER: [&str; 7] = [
    "wind",
    "typhoon",
    "design_storm",
    "flood",
    "fire",
    "crowd",
    "lifelines",
];

/// One hazard of a scenario.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum HazardSpec {
    /// A steady, uniform surface wind (for fire spread without a typhoon).
    Wind(wind::WindSpec),
    /// A tropical cyclone: track, wind, rain, tide and surge.
    Typhoon(Box<typhoon::TyphoonSpec>),
    /// A Chicago design storm from an IDF curve, uniform over the grid.
    DesignStorm(design_storm::DesignStormSpec),
    /// Pedestrians: venue egress or district evacuation to shelters.
    Crowd(Box<crowd::CrowdSpec>),
    /// Urban fire spread (Hamada) and the fire service.
    Fire(Box<fire::FireSpec>),
    /// Overland flow with drainage, boundaries and flood impacts.
    Flood(Box<flood::FloodSpec>),
    /// Lifeline network: fragility, dependencies, cascades and repair crews.
    Lifelines(Box<lifelines::LifelinesSpec>),
}

impl HazardSpec {
    /// Checks beyond types; `at` is this entry's key path.
    pub fn check(&self, at: &KeyPath) -> Result<(), Problem> {
        match self {
            Self::Wind(s) => s.check(at),
            Self::Typhoon(s) => s.check(at),
            Self::DesignStorm(s) => s.check(at),
            Self::Crowd(s) => s.check(at),
            Self::Fire(s) => s.check(at),
            Self::Flood(s) => s.check(at),
            Self::Lifelines(s) => s.check(at),
        }
    }

    /// Bytes per grid cell the hazard's state needs (for the memory estimate).
    pub fn bytes_per_cell(&self) -> usize {
        match self {
            Self::Wind(_) => wind::BYTES_PER_CELL,
            Self::Typhoon(_) => typhoon::BYTES_PER_CELL,
            Self::DesignStorm(_) => design_storm::BYTES_PER_CELL,
            Self::Crowd(_) => crowd::BYTES_PER_CELL,
            Self::Fire(_) => fire::BYTES_PER_CELL,
            Self::Flood(_) => flood::BYTES_PER_CELL,
            Self::Lifelines(_) => lifelines::BYTES_PER_CELL,
        }
    }

    /// This hazard's place in [`PLUGIN_ORDER`].
    pub fn rank(&self) -> usize {
        let name = match self {
            Self::Wind(_) => "wind",
            Self::Typhoon(_) => "typhoon",
            Self::DesignStorm(_) => "design_storm",
            Self::Crowd(_) => "crowd",
            Self::Fire(_) => "fire",
            Self::Flood(_) => "flood",
            Self::Lifelines(_) => "lifelines",
        };
        PLUGIN_ORDER
            .iter()
            .position(|&n| n == name)
            .expect("every hazard kind is in PLUGIN_ORDER")
    }

    /// The plugin that simulates this hazard.
    pub fn plugin(&self) -> Box<dyn Plugin + '_> {
        match self {
            Self::Wind(s) => Box::new(wind::WindPlugin(s)),
            Self::Typhoon(s) => Box::new(typhoon::TyphoonPlugin(s)),
            Self::DesignStorm(s) => Box::new(design_storm::DesignStormPlugin(s)),
            Self::Crowd(s) => Box::new(crowd::CrowdPlugin(s)),
            Self::Fire(s) => Box::new(fire::FirePlugin(s)),
            Self::Flood(s) => Box::new(flood::FloodPlugin(s)),
            Self::Lifelines(s) => Box::new(lifelines::LifelinesPlugin(s)),
        }
    }
}
