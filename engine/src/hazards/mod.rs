//! The hazard registry: each `[[hazards]]` entry of a scenario names its plugin by
//! `kind`. A hazard issue adds its variant here and its plugin in its own module.

pub mod flood;
pub mod wind;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::scenario::{KeyPath, LoadedScenario, Problem};
use crate::sim::Plugin;

/// One hazard of a scenario.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum HazardSpec {
    /// A steady, uniform surface wind (for fire spread without a typhoon).
    Wind(wind::WindSpec),
    /// Overland flow with drainage, boundaries and flood impacts.
    Flood(Box<flood::FloodSpec>),
}

impl HazardSpec {
    /// Checks beyond types; `at` is this entry's key path.
    pub fn check(&self, at: &KeyPath) -> Result<(), Problem> {
        match self {
            Self::Wind(s) => s.check(at),
            Self::Flood(s) => s.check(at),
        }
    }

    /// Bytes per grid cell the hazard's state needs (for the memory estimate).
    pub fn bytes_per_cell(&self) -> usize {
        match self {
            Self::Wind(_) => wind::BYTES_PER_CELL,
            Self::Flood(_) => flood::BYTES_PER_CELL,
        }
    }

    /// The plugin that simulates this hazard; `at` is this entry's key path and `loaded`
    /// the scenario (for its folder and population settings).
    pub fn plugin<'a>(&'a self, at: KeyPath, loaded: &LoadedScenario) -> Box<dyn Plugin + 'a> {
        match self {
            Self::Wind(s) => Box::new(wind::WindPlugin(s)),
            Self::Flood(s) => Box::new(flood::FloodPlugin::new(s, at, loaded)),
        }
    }
}
