//! A steady uniform surface wind: the simplest forcing, for fire spread studies without
//! a typhoon. It fills the shared [`SurfaceWind`] field the typhoon plugin would write.

pub mod outputs;
mod setup;
pub mod spec;
mod state;
mod systems;

#[cfg(test)]
mod tests;

pub use spec::WindSpec;
pub use state::BYTES_PER_CELL;

use crate::coupling::SurfaceWind;
use crate::metrics::Metrics;
use crate::sim::{BuildContext, BuildError, Phase, Plugin, Simulation};

pub struct WindPlugin<'a>(pub &'a WindSpec);

impl Plugin for WindPlugin<'_> {
    fn name(&self) -> &'static str {
        "wind"
    }

    fn check(&self, ctx: &BuildContext) -> Result<(), BuildError> {
        setup::setup(self.0, ctx).map(|_| ())
    }

    fn build(&self, sim: &mut Simulation, ctx: &BuildContext) -> Result<(), BuildError> {
        let field: SurfaceWind = setup::setup(self.0, ctx)?;
        sim.world.insert_resource(field);
        let gauge = sim
            .world
            .resource_mut::<Metrics>()
            .declare_output(&outputs::SPEED);
        sim.world.insert_resource(state::WindState {
            speed_m_s: self.0.speed_m_s,
            gauge,
        });
        sim.add_systems(Phase::Forcing, systems::wind_gauge);
        Ok(())
    }
}
