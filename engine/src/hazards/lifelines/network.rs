//! The network's rules, free of the ECS: the hazard intensity at an asset, the repair
//! priority, and supply along dependencies to a fixed point.

use super::state::Node;
use crate::city::assets::AssetKind;
use crate::coupling::Couplings;
use crate::grid::GridSpec;

/// The hazard fields an asset is exposed to this tick (absent when no hazard writes them).
pub(super) struct Exposure<'a> {
    pub depth: Option<&'a [f32]>,
    pub gust: Option<&'a [f32]>,
    pub fire: Option<&'a [u8]>,
}

impl Exposure<'_> {
    /// Deepest water at the asset's door, m.
    pub fn depth(&self, n: &Node) -> f64 {
        self.depth.map_or(0.0, |d| depth_at(d, &n.door))
    }
    /// 3-s gust at the asset's cell, m/s.
    pub fn gust(&self, n: &Node) -> f64 {
        self.gust.map_or(0.0, |g| f64::from(g[n.cell]))
    }
    /// Fire within `r_m` of the asset's cell.
    pub fn fire_near(&self, grid: &GridSpec, n: &Node, r_m: f64) -> bool {
        self.fire.is_some_and(|f| fire_near(grid, f, n.cell, r_m))
    }
}

/// Deepest water at the asset's door, m.
pub(super) fn depth_at(depth: &[f32], door: &[usize]) -> f64 {
    f64::from(door.iter().map(|&k| depth[k]).fold(0.0f32, f32::max))
}

fn fire_near(g: &GridSpec, fire: &[u8], cell: usize, r_m: f64) -> bool {
    let (i, j) = g.cell_of(cell);
    let r = (r_m / g.cell).round() as usize;
    for b in j.saturating_sub(r)..=(j + r).min(g.ny - 1) {
        for a in i.saturating_sub(r)..=(i + r).min(g.nx - 1) {
            if fire[g.index(a, b)] == 1 {
                return true;
            }
        }
    }
    false
}

/// When the asset was damaged (∞ if it is not).
pub(super) fn damage_t(n: &Node) -> f64 {
    n.damage.as_ref().map_or(f64::INFINITY, |d| d.t)
}

/// Repair priority: power first, then what keeps people alive, then drainage.
pub(super) fn priority(kind: AssetKind) -> u8 {
    match kind {
        AssetKind::Substation => 0,
        AssetKind::Hospital => 1,
        AssetKind::PumpStation => 2,
        AssetKind::WaterPlant => 3,
        AssetKind::Telecom => 4,
        _ => 5,
    }
}

/// Whether a supplier's loss reaches this kind, under the scenario's couplings.
fn coupled(c: &Couplings, kind: AssetKind) -> bool {
    match kind {
        AssetKind::PumpStation => c.power_pumps,
        AssetKind::MetroEntrance => c.power_metro,
        AssetKind::Hospital => c.power_hospitals,
        _ => true,
    }
}

/// Supply along dependencies, to a fixed point (acyclic networks settle in depth
/// passes; a cycle stops after as many passes as there are nodes). A node without
/// supply keeps working for `delay_s` (a hospital for `backup_s`, on its generators).
pub(super) fn propagate_supply(
    nodes: &mut [Node],
    couplings: &Couplings,
    t: f64,
    delay_s: f64,
    backup_s: f64,
) {
    for _ in 0..nodes.len().max(1) {
        let mut changed = false;
        for k in 0..nodes.len() {
            let lost = if coupled(couplings, nodes[k].kind) {
                nodes[k]
                    .deps
                    .iter()
                    .copied()
                    .find(|&d| !nodes[d].operational)
            } else {
                None
            };
            let n = &mut nodes[k];
            match (lost, n.unsupplied) {
                (Some(d), None) => n.unsupplied = Some((t, d)),
                (None, Some(_)) => n.unsupplied = None,
                _ => {}
            }
            let supplied = match n.unsupplied {
                None => true,
                Some((since, _)) => {
                    if n.kind == AssetKind::Hospital {
                        t - since < backup_s
                    } else {
                        t - since < delay_s
                    }
                }
            };
            let op = n.damage.is_none() && supplied;
            if op != n.operational {
                n.operational = op;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
}
