//! Chicago design storm (Keifer & Chu 1957): a synthetic hyetograph whose every
//! duration around the peak holds the intensity of the IDF curve
//! i = A (1 + C lg P) / (t + b)^n, uniform over the grid, written to `RainRate`.
//! Default IDF: Shenzhen's (older) storm-intensity formula; see `docs/models/typhoon.md`.
//! The IDF curve and the CMA rainstorm levels are shared: `crate::weather`.

mod hyetograph;
pub mod outputs;
mod setup;
pub mod spec;
mod state;
mod systems;

#[cfg(test)]
mod tests;

pub use spec::DesignStormSpec;
pub use state::BYTES_PER_CELL;

use crate::coupling::RainRate;
use crate::metrics::Metrics;
use crate::sim::{BuildContext, BuildError, Phase, Plugin, Simulation};

pub struct DesignStormPlugin<'a>(pub &'a DesignStormSpec);

impl Plugin for DesignStormPlugin<'_> {
    fn name(&self) -> &'static str {
        "design_storm"
    }

    fn check(&self, ctx: &BuildContext) -> Result<(), BuildError> {
        setup::setup(self.0, ctx).map(|_| ())
    }

    fn build(&self, sim: &mut Simulation, ctx: &BuildContext) -> Result<(), BuildError> {
        if sim.world.contains_resource::<RainRate>() {
            return Err(BuildError::new(
                ctx.at.clone(),
                "another hazard already sets the rain: a scenario has one rain forcing",
            ));
        }
        let inputs = setup::setup(self.0, ctx)?;
        sim.world.insert_resource(RainRate(vec![0.0; inputs.cells]));
        let gauges = {
            let mut m = sim.world.resource_mut::<Metrics>();
            let gauges = outputs::Gauges::declare(&mut m);
            outputs::set_kpis(&inputs.spec, &mut m);
            gauges
        };
        sim.world
            .insert_resource(state::DesignStormState::new(inputs, gauges));
        sim.add_systems(Phase::Forcing, systems::design_storm_forcing);
        Ok(())
    }
}
