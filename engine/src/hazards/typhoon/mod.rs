//! Typhoon forcing: a storm track (best-track CSV or synthetic), its parametric wind and
//! rain fields over the city grid, the sea level at the coast (tide + surge), warnings,
//! and wind impacts on people outdoors and on assets. Writes the shared `SurfaceWind`,
//! `RainRate` and `SeaLevel` fields that the flood and fire plugins read.
//!
//! Models, parameters and sources: `docs/models/typhoon.md`. Rooms: `spec` (the
//! scenario's types and range checks), `setup` (spec and city → kernel inputs), the
//! kernels `track`, `wind`, `rain` and `surge`, `state`, `systems`, `outputs` (every
//! gauge, KPI, event kind and map) and `validation` (suite `typhoon`).

pub mod outputs;
pub mod rain;
mod setup;
pub mod spec;
mod state;
pub mod surge;
mod systems;
pub mod track;
pub mod validation;
pub mod wind;

#[cfg(test)]
mod tests;

pub use spec::{
    Averaging, DEF_ENV_PRESSURE_HPA, FUTIAN_LAT, FUTIAN_LON, FragilityCurve, FragilityOptions,
    PedestrianOptions, RainOptions, SeaWarning, SurgeOptions, TrackSpec, TyphoonSpec, WindOptions,
};
pub use state::{BYTES_PER_CELL, TyphoonState};
pub use systems::non_finite;

use crate::coupling::{RainRate, SeaLevel, SurfaceWind, Warnings};
use crate::events::{EventLog, Severity};
use crate::metrics::Metrics;
use crate::sim::{BuildContext, BuildError, Phase, Plugin, Simulation};

/// Builds the typhoon plugin for one `[[hazards]]` entry.
pub struct TyphoonPlugin<'a>(pub &'a TyphoonSpec);

impl Plugin for TyphoonPlugin<'_> {
    fn name(&self) -> &'static str {
        "typhoon"
    }

    fn check(&self, ctx: &BuildContext) -> Result<(), BuildError> {
        setup::setup(self.0, ctx).map(|_| ())
    }

    fn build(&self, sim: &mut Simulation, ctx: &BuildContext) -> Result<(), BuildError> {
        refuse_a_second_forcing(sim, ctx)?;
        let setup::Setup { inputs, warnings } = setup::setup(self.0, ctx)?;
        let gauges = outputs::Gauges::declare(&mut sim.world.resource_mut::<Metrics>());
        {
            let mut log = sim.world.resource_mut::<EventLog>();
            for w in &warnings {
                tracing::warn!("typhoon: {w}");
                log.emit(
                    0.0,
                    outputs::SOURCE,
                    outputs::INPUT_WARNING.name,
                    Severity::Info,
                )
                .message(w.clone());
            }
        }
        let n = inputs.grid.len();
        sim.world.insert_resource(SurfaceWind {
            u: vec![0.0; n],
            v: vec![0.0; n],
            gust: vec![0.0; n],
        });
        sim.world.insert_resource(RainRate(vec![0.0; n]));
        if !sim.world.contains_resource::<Warnings>() {
            sim.world.insert_resource(Warnings::default());
        }
        sim.world.insert_resource(SeaLevel(inputs.tide.level(0.0)));
        sim.world
            .insert_resource(state::TyphoonState::new(inputs, gauges));
        sim.add_systems(Phase::Forcing, systems::forcing);
        if self.0.fragility.enabled {
            sim.add_systems(Phase::Impacts, systems::wind_damage);
        }
        sim.add_finish_systems(systems::finish);
        Ok(())
    }
}

/// A scenario has one wind forcing and one rain forcing.
fn refuse_a_second_forcing(sim: &Simulation, ctx: &BuildContext) -> Result<(), BuildError> {
    if sim.world.contains_resource::<SurfaceWind>() {
        return Err(BuildError::new(
            ctx.at.clone(),
            "another hazard already sets the surface wind: a scenario has one wind forcing",
        ));
    }
    if sim.world.contains_resource::<RainRate>() {
        return Err(BuildError::new(
            ctx.at.clone(),
            "another hazard already sets the rain: a scenario has one rain forcing",
        ));
    }
    Ok(())
}
