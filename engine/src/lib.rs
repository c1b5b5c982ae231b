//! crucible's simulation engine.
//!
//! A run is a [`sim::Simulation`]: a bevy_ecs `World` holding the city, the shared
//! coupling fields and each hazard plugin's state, advanced tick by tick through an
//! ordered set of phases ([`sim::Phase`]). A run is a pure function of its scenario and
//! seed: see `docs/architecture.md`.

pub mod batch;
pub mod city;
pub mod coupling;
pub mod drill;
pub mod events;
pub mod files;
pub mod grid;
pub mod hazards;
pub mod indicators;
pub mod memory;
pub mod metrics;
pub mod profile;
pub mod rng;
pub mod run;
pub mod scenario;
pub mod sim;
pub mod spec;
pub mod standards;
pub mod suites;
#[cfg(test)]
pub(crate) mod testing;
pub mod time;
pub mod validation;
pub mod weather;

/// The engine's version, written into every run summary.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
