//! Urban fire: ignitions, building-to-building spread (Hamada), the fire service
//! (stations, engines, dispatch over the road graph, suppression), occupant egress and
//! station coverage. The model and its sources are in `docs/models/fire.md`.
//!
//! Couplings: reads `SurfaceWind` (typhoon or `wind` hazard) when present and the
//! `wind_fire` switch is on, `Closures` (flooded roads re-route engines when
//! `flood_roads` is on; see `Couplings::vehicle_mask`) and substation `Operational` flags
//! (optional secondary ignitions); writes `FireState` and the `FIRE` closure flag of
//! burning cells.
//!
//! Files: `spec` (the scenario entry), `setup` (spec + city → model inputs, every check
//! against the city), the model (`buildings`, `spread`, `roads`, `coverage`, `egress`,
//! `service`), `state`, `systems`, `outputs` (the table of what it reports), `tests`.

pub mod buildings;
pub mod coverage;
pub mod egress;
pub mod outputs;
pub mod roads;
pub mod service;
pub mod setup;
pub mod spec;
pub mod spread;
pub mod state;
pub mod systems;
#[cfg(test)]
mod tests;
pub mod validation;

pub use buildings::{FR_TILE_M, GROWTH_S, building_geometry, fire_load, stage_durations};
pub use setup::{random_ignitions, spread_setup};
pub use spec::{
    CoverageSpec, EgressSpec, FireSpec, GeometrySpec, IgnitionSpec, MAX_ENGINES_PER_STATION,
    RandomSpec, SecondarySpec, ServiceSpec, UseRates,
};
pub use state::{BuildingFire, FireSim, Incident};

use bevy_ecs::prelude::*;

use crate::events::EventLog;
use crate::metrics::Metrics;
use crate::sim::{BuildContext, BuildError, MapOutputs, Phase, Plugin, Simulation};

/// Spread state (arrival f64, status, slow, incident, via), its building layers, the road
/// graph (speed, access, access distance), suppression scratch and coupling fields.
pub const BYTES_PER_CELL: usize = 8 + 1 + 4 + 4 + 4 + 1 + 4 + 4 + 4 + 4 + 4 + 1;

/// The fire plugin.
pub struct FirePlugin<'a>(pub &'a FireSpec);

impl Plugin for FirePlugin<'_> {
    fn name(&self) -> &'static str {
        "fire"
    }

    fn check(&self, ctx: &BuildContext) -> Result<(), BuildError> {
        setup::setup(self.0, ctx).map(|_| ())
    }

    fn build(&self, sim: &mut Simulation, ctx: &BuildContext) -> Result<(), BuildError> {
        let spec = self.0;
        let grid = ctx.city.grid;
        let setup = setup::setup(spec, ctx)?;
        service::spawn_stations(&mut sim.world, &spec.service, &setup.stations)?;
        if let Some(cut) = &setup.cut_off {
            let mut log = sim.world.resource_mut::<EventLog>();
            outputs::report_cut_off_roads(&mut log, &grid, cut);
        }
        state::insert_shared_fields(&mut sim.world, &grid);
        let travel_time = outputs::travel_time_map(&setup.coverage, grid);
        sim.world.resource_mut::<MapOutputs>().0.push(travel_time);
        let substations = state::substations(&mut sim.world);
        let gauges = {
            let mut m = sim.world.resource_mut::<Metrics>();
            let gauges = outputs::Gauges::declare(&mut m);
            outputs::set_coverage_kpis(&setup.coverage, &mut m);
            gauges
        };
        let fire = FireSim::new(spec, grid, setup, ctx.population, substations, gauges);
        sim.world.insert_resource(fire);
        sim.add_systems(Phase::Forcing, systems::ignition_system);
        sim.add_systems(Phase::Hazards, systems::spread_system);
        sim.add_systems(Phase::Impacts, systems::occupants_system);
        sim.add_systems(
            Phase::Response,
            (service::dispatch_system, service::suppression_system).chain(),
        );
        sim.add_systems(
            Phase::Movement,
            (service::movement_system, systems::metrics_system).chain(),
        );
        sim.add_finish_systems(systems::finish_system);
        Ok(())
    }
}
