//! Pluvial, fluvial and coastal flooding over the city grid: local-inertial overland flow
//! ([`solver`]), boundaries ([`boundary`]), drainage, infiltration and pumps
//! ([`drainage`]), and consequences for roads, buildings, assets and people ([`impacts`]).
//! See `docs/models/flood.md` for the equations, parameters and references.
//!
//! Couplings: reads `RainRate` and `SeaLevel` when a forcing plugin provides them; writes
//! `WaterDepth` after every tick and the `FLOOD_VEHICLE` / `FLOOD_WALK` bits of `Closures`;
//! sets `Operational(false)` on assets it floods.
//!
//! Rooms: [`spec`] (the scenario's keys), [`setup`] (pure: spec and city to kernel
//! inputs, every check against the city), [`state`], [`systems`], [`outputs`] (the one
//! table of gauges, KPIs, events and maps).

// Loops index several parallel per-cell arrays at once: an index reads clearer there
// than a zip of many iterators.
#![allow(clippy::needless_range_loop)]

pub mod boundary;
pub mod drainage;
pub mod impacts;
pub mod outputs;
pub mod setup;
pub mod solver;
pub mod spec;
pub mod state;
pub mod systems;
pub mod validation;

#[cfg(test)]
mod tests;

use crate::coupling::WaterDepth;
use crate::metrics::Metrics;
use crate::sim::{BuildContext, BuildError, Phase, Plugin, Simulation};

pub use outputs::OUTPUTS;
pub use spec::{BuildingMode, FloodSpec, Limits, SeaMode};
pub use state::{BYTES_PER_CELL, FloodState};

pub struct FloodPlugin<'a>(pub &'a FloodSpec);

impl Plugin for FloodPlugin<'_> {
    fn name(&self) -> &'static str {
        "flood"
    }

    fn check(&self, ctx: &BuildContext) -> Result<(), BuildError> {
        setup::setup(self.0, ctx).map(|_| ())
    }

    fn build(&self, sim: &mut Simulation, ctx: &BuildContext) -> Result<(), BuildError> {
        let inputs = setup::setup(self.0, ctx)?;
        let gauges = outputs::FloodGauges::declare(&mut sim.world.resource_mut::<Metrics>());
        if !sim.world.contains_resource::<WaterDepth>() {
            sim.world
                .insert_resource(WaterDepth(vec![0.0; inputs.grid.len()]));
        }
        sim.world.insert_resource(gauges);
        sim.world
            .insert_resource(FloodState::new(self.0, ctx.population, inputs));
        sim.add_systems(Phase::Hazards, systems::flood_step);
        sim.add_systems(Phase::Impacts, systems::flood_impacts);
        sim.add_finish_systems(systems::flood_finish);
        Ok(())
    }
}
