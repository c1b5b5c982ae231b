//! The hazard registry: each `[[hazards]]` entry of a scenario names its plugin by
//! `kind`. A hazard issue adds its variant here and its plugin in its own module.

pub mod fire;
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
    /// Urban fire spread (Hamada) and the fire service.
    Fire(Box<fire::FireSpec>),
}

impl HazardSpec {
    /// Checks beyond types; `at` is this entry's key path.
    pub fn check(&self, at: &KeyPath) -> Result<(), Problem> {
        match self {
            Self::Wind(s) => s.check(at),
            Self::Fire(s) => s.check(at),
        }
    }

    /// Bytes per grid cell the hazard's state needs (for the memory estimate).
    pub fn bytes_per_cell(&self) -> usize {
        match self {
            Self::Wind(_) => wind::BYTES_PER_CELL,
            Self::Fire(_) => fire::BYTES_PER_CELL,
        }
    }

    /// The plugin that simulates this hazard; `loaded` is the scenario it comes from
    /// (for key paths in errors and files named in the spec).
    pub fn plugin(&self, loaded: &LoadedScenario) -> Box<dyn Plugin + '_> {
        let at = loaded
            .scenario
            .hazards
            .iter()
            .position(|h| std::ptr::eq(h, self))
            .map_or_else(
                || KeyPath::root().key("hazards"),
                |k| KeyPath::root().key("hazards").index(k),
            );
        match self {
            Self::Wind(s) => Box::new(wind::WindPlugin(s)),
            Self::Fire(s) => Box::new(fire::FirePlugin { spec: s, at }),
        }
    }
}
