//! Lifeline network: substations, pump stations, water plants, hospitals, metro
//! entrances, telecom sites and shelters with their dependencies (`depends_on`).
//!
//! When present this plugin owns asset failure (it inserts [`AssetFailureOwner`]; the
//! flood and typhoon plugins then leave `Operational` alone): every asset draws one
//! capacity per hazard from a lognormal fragility curve (one draw per asset per hazard,
//! so failure is monotone in intensity and reproducible), fails when the flood depth at
//! its door, the gust at its cell or fire next to it exceeds that capacity, and its
//! dependants lose supply after a propagation delay (hospitals switch to backup
//! generators for a set number of hours). Repair crews (entities) drive to failed assets
//! once the hazard there has receded and restore them after a repair time drawn from
//! Hazus restoration functions. Model and sources: docs/models/infrastructure.md.
//!
//! Files: `spec` (the scenario entry), `setup` (assets to nodes, pure), `network` (the
//! rules), `state`, `systems`, `outputs` (every gauge, KPI and event kind).

mod network;
pub mod outputs;
mod setup;
mod spec;
mod state;
mod systems;

#[cfg(test)]
mod coupling_tests;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use bevy_ecs::prelude::*;

pub use spec::{ForcedFailure, FragilityCurve, Intensity, LifelinesSpec, Restoration};
pub use state::Crew;

use crate::city::assets::Asset;
use crate::coupling::AssetFailureOwner;
use crate::metrics::Metrics;
use crate::sim::{BuildContext, BuildError, Phase, Plugin, Simulation};
use state::Lifelines;

/// Per cell: nothing grid-sized is kept.
pub const BYTES_PER_CELL: usize = 0;

/// The plugin.
pub struct LifelinesPlugin<'a>(pub &'a LifelinesSpec);

impl Plugin for LifelinesPlugin<'_> {
    fn name(&self) -> &'static str {
        "lifelines"
    }

    fn check(&self, ctx: &BuildContext) -> Result<(), BuildError> {
        setup::setup(self.0, ctx).map(|_| ())
    }

    fn build(&self, sim: &mut Simulation, ctx: &BuildContext) -> Result<(), BuildError> {
        let spec = self.0;
        let mut net = setup::setup(spec, ctx)?;
        // Each node's entity, whose `Operational` flag this plugin sets (a run spawns one
        // per city asset; a node without one, in a simulation assembled in code, has no
        // flag to set and is skipped like an entity without the component).
        let mut q = sim.world.query::<(Entity, &Asset)>();
        let entities: BTreeMap<&str, Entity> = q
            .iter(&sim.world)
            .map(|(e, a)| (a.id.as_str(), e))
            .collect();
        for n in &mut net.nodes {
            n.entity = entities
                .get(n.id.as_str())
                .copied()
                .unwrap_or(Entity::PLACEHOLDER);
        }
        let ids = outputs::declare_gauges(&mut sim.world.resource_mut::<Metrics>());
        for c in 0..spec.crews {
            sim.world.spawn(Crew {
                id: c,
                x: net.depot[0],
                y: net.depot[1],
                job: None,
            });
        }
        sim.world.insert_resource(Lifelines {
            nodes: net.nodes,
            forced: net.forced,
            spec: spec.clone(),
            repairs: 0,
            customers_total: net.customers_total,
            customer_hours: 0.0,
            max_customers_out: 0.0,
            failures: 0,
            restorations: 0,
            backup_exhausted: 0,
            ids,
        });
        sim.world.insert_resource(AssetFailureOwner("lifelines"));
        sim.add_systems(Phase::Impacts, systems::lifelines_step);
        sim.add_finish_systems(systems::lifelines_finish);
        Ok(())
    }
}
