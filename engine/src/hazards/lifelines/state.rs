//! What the lifelines systems share: the network of assets with their drawn capacities
//! and damage, the repair crews, and the run's counters.

use bevy_ecs::prelude::*;

use super::spec::{Intensity, LifelinesSpec};
use crate::city::assets::AssetKind;
use crate::metrics::MetricId;

/// Why an asset is damaged.
#[derive(Debug, Clone)]
pub(super) struct Damage {
    pub cause: String,
    pub hazard: Option<Intensity>,
    pub t: f64,
    /// A crew has been sent.
    pub crew: bool,
}

/// One asset of the network.
#[derive(Debug, Clone)]
pub(super) struct Node {
    pub id: String,
    pub kind: AssetKind,
    /// The asset's entity, whose `Operational` flag this plugin owns.
    pub entity: Entity,
    pub cell: usize,
    /// Land cells whose water reaches the asset's door (see [`crate::city::City::door_cells`]).
    pub door: Vec<usize>,
    pub x: f64,
    pub y: f64,
    pub capacity: f64,
    /// Indices of the nodes it depends on.
    pub deps: Vec<usize>,
    /// Capacities drawn from the fragility curves (∞ without a curve).
    pub cap_flood: f64,
    pub cap_wind: f64,
    pub damage: Option<Damage>,
    /// Since when and from which supplier the asset has been without supply.
    pub unsupplied: Option<(f64, usize)>,
    pub on_backup: bool,
    pub backup_exhausted: bool,
    pub operational: bool,
}

/// A repair crew.
#[derive(Component, Debug, Clone)]
pub struct Crew {
    pub id: u32,
    pub x: f64,
    pub y: f64,
    /// (node, time of arrival, time repairs end) while assigned.
    pub(super) job: Option<(usize, f64, f64)>,
}

/// The plugin's state.
#[derive(Resource)]
pub(super) struct Lifelines {
    pub nodes: Vec<Node>,
    /// Imposed failures (time, node, cause), latest first: popped from the back.
    pub forced: Vec<(f64, usize, String)>,
    pub spec: LifelinesSpec,
    /// Repair times drawn so far (the index of the next draw).
    pub repairs: u64,
    pub customers_total: f64,
    pub customer_hours: f64,
    pub max_customers_out: f64,
    pub failures: u64,
    pub restorations: u64,
    pub backup_exhausted: u64,
    pub ids: Ids,
}

/// The plugin's gauges.
pub(super) struct Ids {
    pub customers_out: MetricId,
    pub assets_out: MetricId,
    pub customer_hours: MetricId,
}
