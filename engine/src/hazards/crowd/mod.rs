//! Pedestrians (issue #4): crowds that leave a venue through its gates, and a district
//! that walks to its shelters after a warning, with the density and crush risk the
//! city's safety plan asks to control. Models and sources: `docs/models/crowd.md`.
//!
//! People are ECS entities ([`Pedestrian`], [`Position`], [`Velocity`], [`DesiredSpeed`],
//! [`Radius`], [`Goal`], [`PedState`]); the hot step runs over the dense arrays of
//! [`model::Crowd`], the source of truth during a tick, and the components are written
//! back once per tick.
//!
//! Files: `spec` (the scenario entry), `setup` (venue or district against the city,
//! pure), the kernel (`model`, `lanes`, `cells`, `geometry`, `navigation`, `layout`,
//! `density`, `demographics`), `routes` (route choice), `state`, `systems`, `outputs`
//! (every gauge, KPI, event kind and map), `validation` (the `crowd` suite).

pub mod cells;
pub mod demographics;
pub mod density;
pub mod geometry;
pub mod lanes;
pub mod layout;
pub mod model;
pub mod navigation;
pub mod outputs;
mod routes;
mod setup;
mod spec;
mod state;
mod systems;
pub mod validation;

#[cfg(test)]
mod tests;

pub use setup::MAX_DENSITY;
pub use spec::{CrowdSpec, DistrictSpec, GateSpec, GroupSpec, ParamSet, Shape, VenueSpec};
pub use state::{DesiredSpeed, Goal, PedState, Pedestrian, Position, Radius, Velocity};

use crate::events::{EventLog, Severity};
use crate::metrics::Metrics;
use crate::sim::{BuildContext, BuildError, Phase, Plugin, Simulation};
use state::CrowdSim;

/// Bytes per city cell (district: the navigation fields are kept per shelter; this is
/// the per-cell base: speed, region and one field).
pub const BYTES_PER_CELL: usize = 4 + 2 + 12;

pub struct CrowdPlugin<'a>(pub &'a CrowdSpec);

impl Plugin for CrowdPlugin<'_> {
    fn name(&self) -> &'static str {
        "crowd"
    }

    fn check(&self, ctx: &BuildContext) -> Result<(), BuildError> {
        setup::setup(self.0, ctx).map(|_| ())
    }

    fn build(&self, sim: &mut Simulation, ctx: &BuildContext) -> Result<(), BuildError> {
        let spec = self.0;
        let setup = setup::setup(spec, ctx)?;
        let crowd = setup.kernel.assemble();
        let mut crowd_sim = CrowdSim::new(
            crowd,
            setup.scene,
            spec,
            setup.dt,
            &mut sim.world.resource_mut::<Metrics>(),
        );
        crowd_sim.spawn_entities(&mut sim.world);
        // KPIs exist from the start, so standards can name them; the finish overwrites.
        outputs::write_kpis(&crowd_sim, &mut sim.world.resource_mut::<Metrics>());
        let mut log = sim.world.resource_mut::<EventLog>();
        for w in std::mem::take(&mut crowd_sim.warnings) {
            log.emit(0.0, "crowd", w.kind, Severity::Major)
                .at(w.place)
                .message(w.message)
                .with("people", w.people);
        }
        sim.world.insert_resource(crowd_sim);
        sim.add_systems(Phase::Movement, systems::crowd_tick);
        sim.add_finish_systems(systems::crowd_finish);
        Ok(())
    }
}
