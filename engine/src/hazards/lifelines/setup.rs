//! Pure setup: the scenario's assets become the network's nodes (sorted by id, with
//! their dependencies, door cells and capacities drawn from the fragility curves), the
//! imposed failures are matched to assets, and the crews' depot is placed. Used by both
//! `check` and `build`; nothing here touches a simulation.

use bevy_ecs::entity::Entity;
use rand_distr::{Distribution, StandardNormal};

use super::spec::{Intensity, LifelinesSpec};
use super::state::Node;
use crate::city::assets::{AssetKind, AssetSpec};
use crate::rng::RngStreams;
use crate::sim::{BuildContext, BuildError};
use crate::spec::KeyPath;

/// The network ready to run.
pub(super) struct Network {
    /// Nodes in order of asset id; their entities are set when the plugin is built.
    pub nodes: Vec<Node>,
    /// Imposed failures (time, node, cause), latest first.
    pub forced: Vec<(f64, usize, String)>,
    /// Where the crews start, m.
    pub depot: [f64; 2],
    /// Customers of all substations.
    pub customers_total: f64,
}

pub(super) fn setup(spec: &LifelinesSpec, ctx: &BuildContext) -> Result<Network, BuildError> {
    let city = ctx.city;
    let grid = city.grid;
    // In order of id, as the entities' order is not part of the scenario.
    let mut list: Vec<&AssetSpec> = city.assets.iter().collect();
    list.sort_by(|a, b| a.id.cmp(&b.id));
    let index_of = |id: &str| list.iter().position(|a| a.id == id);
    let bridges = city.bridge_decks();
    let mut nodes = Vec::with_capacity(list.len());
    for a in &list {
        let Some((i, j)) = grid.locate(a.x, a.y) else {
            return Err(BuildError::new(
                KeyPath::root().key("city"),
                format!("asset `{}` at ({}, {}) is off the grid", a.id, a.x, a.y),
            ));
        };
        let cell = grid.index(i, j);
        nodes.push(Node {
            id: a.id.clone(),
            kind: a.kind,
            entity: Entity::PLACEHOLDER,
            cell,
            door: city.door_cells(&bridges, cell),
            x: a.x,
            y: a.y,
            capacity: a.capacity,
            deps: a.depends_on.iter().filter_map(|d| index_of(d)).collect(),
            cap_flood: fragility_capacity(spec, &ctx.streams, a.kind, Intensity::Flood, &a.id),
            cap_wind: fragility_capacity(spec, &ctx.streams, a.kind, Intensity::Wind, &a.id),
            damage: None,
            unsupplied: None,
            on_backup: false,
            backup_exhausted: false,
            operational: true,
        });
    }
    let mut forced = Vec::new();
    for (k, f) in spec.failures.iter().enumerate() {
        let Some(n) = index_of(&f.asset) else {
            return Err(BuildError::new(
                ctx.key("failures").index(k).key("asset"),
                format!(
                    "no asset `{}` in the city (known: {})",
                    f.asset,
                    list.iter()
                        .map(|a| a.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        };
        forced.push((f.t_s, n, f.cause.clone()));
    }
    // Popped from the back: latest first in the vector.
    forced.sort_by(|a, b| b.0.total_cmp(&a.0).then(b.1.cmp(&a.1)));
    let depot = spec.depot.unwrap_or([
        grid.x0 + grid.width_m() / 2.0,
        grid.y0 + grid.height_m() / 2.0,
    ]);
    let customers_total = nodes
        .iter()
        .filter(|n| n.kind == AssetKind::Substation)
        .map(|n| n.capacity)
        .sum();
    Ok(Network {
        nodes,
        forced,
        depot,
        customers_total,
    })
}

/// The asset's capacity against a hazard: one lognormal draw from its kind's fragility
/// curve, keyed by the asset's id (common random numbers across plans); ∞ without one.
pub(super) fn fragility_capacity(
    spec: &LifelinesSpec,
    rng: &RngStreams,
    kind: AssetKind,
    hazard: Intensity,
    id: &str,
) -> f64 {
    let Some(c) = spec
        .fragility
        .iter()
        .find(|c| c.kind == kind && c.hazard == hazard)
    else {
        return f64::INFINITY;
    };
    let name = match hazard {
        Intensity::Flood => "lifelines.fragility.flood",
        Intensity::Wind => "lifelines.fragility.wind",
    };
    let z: f64 = StandardNormal.sample(&mut rng.keyed(name, id));
    c.median * (c.beta * z).exp()
}
