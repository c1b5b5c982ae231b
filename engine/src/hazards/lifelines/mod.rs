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

#[cfg(test)]
mod coupling_tests;
#[cfg(test)]
mod tests;

use bevy_ecs::prelude::*;
use rand_distr::{Distribution, StandardNormal};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::city::City;
use crate::city::assets::{Asset, AssetKind, Operational};
use crate::coupling::{AssetFailureOwner, Couplings, FireState, SurfaceWind, WaterDepth};
use crate::events::{EventLog, Place, Severity};
use crate::metrics::{MetricId, Metrics};
use crate::rng::RngStreams;
use crate::sim::{BuildContext, BuildError, Phase, Plugin, RunHealth, SimClock, Simulation};
use crate::spec::{KeyPath, Problem, in_range, positive};

/// Which hazard intensity a fragility curve takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Intensity {
    /// Water depth at the asset's door (deepest of its 3 × 3 cells), m.
    Flood,
    /// 3-s gust at the asset's cell, m/s.
    Wind,
}

/// A lognormal fragility curve: P(fail | x) = Φ(ln(x / median) / β) (Hazus form).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FragilityCurve {
    pub kind: AssetKind,
    pub hazard: Intensity,
    /// Median capacity (m for flood, m/s for wind).
    pub median: f64,
    /// Lognormal dispersion β.
    pub beta: f64,
    /// Where the numbers come from.
    #[serde(default)]
    pub source: String,
}

/// Repair time after a failure, hours: normal, truncated at a tenth of the mean
/// (Hazus restoration functions are normal distributions of days to restore).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Restoration {
    pub kind: AssetKind,
    pub mean_h: f64,
    pub sd_h: f64,
    #[serde(default)]
    pub source: String,
}

/// A failure imposed by the scenario (equipment fault, sabotage, a what-if).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ForcedFailure {
    /// Asset id, e.g. `SUB-03`.
    pub asset: String,
    /// Time of the failure, s from the start.
    pub t_s: f64,
    /// Cause written in the events.
    #[serde(default = "default_cause")]
    pub cause: String,
}

fn default_cause() -> String {
    "equipment fault".into()
}

/// `kind = "lifelines"`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LifelinesSpec {
    /// Fragility curves; kinds without a curve for a hazard do not fail from it.
    #[serde(default = "default_curves")]
    pub fragility: Vec<FragilityCurve>,
    /// Repair times by asset kind; kinds without one are never repaired in the run.
    #[serde(default = "default_restoration")]
    pub restoration: Vec<Restoration>,
    /// Failures imposed at given times.
    #[serde(default)]
    pub failures: Vec<ForcedFailure>,
    /// Time from the loss of a supplier to the loss of its dependants (switching,
    /// batteries of control systems), s. Default 0 (immediate); an assumption to vary.
    #[serde(default)]
    pub propagation_delay_s: f64,
    /// Hours a hospital runs on its generators after losing grid power. Default 24 h:
    /// NFPA 110 Class 24 fuel (an assumption; set the hospital's actual autonomy).
    #[serde(default = "default_backup")]
    pub hospital_backup_h: f64,
    /// Repair crews, stationed at `depot` (default: the grid's centre).
    #[serde(default = "default_crews")]
    pub crews: u32,
    #[serde(default)]
    pub depot: Option<[f64; 2]>,
    /// Crew travel speed along a Manhattan path, m/s (default 8.33 = 30 km/h urban
    /// driving in a storm; an assumption, no road routing).
    #[serde(default = "default_speed")]
    pub crew_speed_m_s: f64,
    /// Fire within this distance of an asset destroys its function (deterministic
    /// exposure; m). Default 10 m: the adjacent cell at the default resolution.
    #[serde(default = "default_fire_m")]
    pub fire_exposure_m: f64,
}

fn default_backup() -> f64 {
    24.0
}
fn default_crews() -> u32 {
    2
}
fn default_speed() -> f64 {
    8.33
}
fn default_fire_m() -> f64 {
    10.0
}

const HAZUS_EQ: &str = "Hazus-MH Earthquake Technical Manual, restoration functions (moderate damage), days converted to hours; verify against the current manual";
const SILL: &str = "median = flood plugin's sill limit (GB 50352-2019 0.15 m ground floor / GB 50157-2013 0.30 m metro sill); β 0.3 assumed (unverified)";
const WIND: &str = "illustrative, as in scenarios/typhoon-example.toml (unverified; replace with Nirandjan et al. 2024 compiled curves)";

fn curve(kind: AssetKind, hazard: Intensity, median: f64, beta: f64, src: &str) -> FragilityCurve {
    FragilityCurve {
        kind,
        hazard,
        median,
        beta,
        source: src.into(),
    }
}

fn default_curves() -> Vec<FragilityCurve> {
    use AssetKind::*;
    use Intensity::*;
    let mut v: Vec<FragilityCurve> = [
        Substation,
        PumpStation,
        WaterPlant,
        Hospital,
        Telecom,
        Shelter,
        FireStation,
    ]
    .into_iter()
    .map(|k| curve(k, Flood, 0.15, 0.3, SILL))
    .collect();
    v.push(curve(MetroEntrance, Flood, 0.30, 0.3, SILL));
    v.push(curve(Substation, Wind, 45.0, 0.3, WIND));
    v.push(curve(Telecom, Wind, 40.0, 0.35, WIND));
    v
}

fn default_restoration() -> Vec<Restoration> {
    use AssetKind::*;
    let r = |kind, mean_d: f64, sd_d: f64| Restoration {
        kind,
        mean_h: mean_d * 24.0,
        sd_h: sd_d * 24.0,
        source: HAZUS_EQ.into(),
    };
    vec![
        r(Substation, 3.0, 1.5),
        r(PumpStation, 3.1, 2.7),
        r(WaterPlant, 1.9, 1.2),
        r(Telecom, 3.0, 1.5),
    ]
}

impl LifelinesSpec {
    pub fn check(&self, at: &KeyPath) -> Result<(), Problem> {
        for (k, c) in self.fragility.iter().enumerate() {
            let p = at.key("fragility").index(k);
            positive(p.key("median"), c.median, "the median capacity")?;
            in_range(p.key("beta"), c.beta, 0.01, 3.0, "the dispersion β")?;
        }
        for (k, r) in self.restoration.iter().enumerate() {
            let p = at.key("restoration").index(k);
            positive(p.key("mean_h"), r.mean_h, "the mean repair time")?;
            in_range(
                p.key("sd_h"),
                r.sd_h,
                0.0,
                f64::INFINITY,
                "the repair time sd",
            )?;
        }
        for (k, f) in self.failures.iter().enumerate() {
            let p = at.key("failures").index(k);
            in_range(p.key("t_s"), f.t_s, 0.0, f64::INFINITY, "the failure time")?;
        }
        in_range(
            at.key("propagation_delay_s"),
            self.propagation_delay_s,
            0.0,
            f64::INFINITY,
            "the propagation delay",
        )?;
        in_range(
            at.key("hospital_backup_h"),
            self.hospital_backup_h,
            0.0,
            f64::INFINITY,
            "the hospital backup autonomy",
        )?;
        in_range(at.key("crews"), f64::from(self.crews), 0.0, 1000.0, "crews")?;
        positive(
            at.key("crew_speed_m_s"),
            self.crew_speed_m_s,
            "the crew speed",
        )?;
        in_range(
            at.key("fire_exposure_m"),
            self.fire_exposure_m,
            0.0,
            1000.0,
            "the fire exposure distance",
        )
    }
}

/// Per cell: nothing grid-sized is kept.
pub const BYTES_PER_CELL: usize = 0;

/// Why an asset is damaged.
#[derive(Debug, Clone)]
struct Damage {
    cause: String,
    hazard: Option<Intensity>,
    t: f64,
    crew: bool,
}

/// One asset of the network.
#[derive(Debug, Clone)]
struct Node {
    id: String,
    kind: AssetKind,
    entity: Entity,
    cell: usize,
    /// Land cells whose water reaches the asset's door (see [`City::door_cells`]).
    door: Vec<usize>,
    x: f64,
    y: f64,
    capacity: f64,
    deps: Vec<usize>,
    cap_flood: f64,
    cap_wind: f64,
    damage: Option<Damage>,
    /// Since when and from which supplier the asset has been without supply.
    unsupplied: Option<(f64, usize)>,
    on_backup: bool,
    backup_exhausted: bool,
    operational: bool,
}

/// A repair crew.
#[derive(Component, Debug, Clone)]
pub struct Crew {
    pub id: u32,
    pub x: f64,
    pub y: f64,
    /// (node, time of arrival, time repairs end) while assigned.
    job: Option<(usize, f64, f64)>,
}

#[derive(Resource)]
struct Lifelines {
    nodes: Vec<Node>,
    forced: Vec<(f64, usize, String)>,
    spec: LifelinesSpec,
    repairs: u64,
    customers_total: f64,
    customer_hours: f64,
    max_customers_out: f64,
    failures: u64,
    restorations: u64,
    backup_exhausted: u64,
    ids: Ids,
}

struct Ids {
    customers_out: MetricId,
    assets_out: MetricId,
    customer_hours: MetricId,
}

/// The plugin.
pub struct LifelinesPlugin<'a>(pub &'a LifelinesSpec);

fn fragility_capacity(
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

impl Plugin for LifelinesPlugin<'_> {
    fn name(&self) -> &'static str {
        "lifelines"
    }

    fn check(&self, _ctx: &BuildContext) -> Result<(), BuildError> {
        // TODO(#15): the plugin's pure setup, once split out of `build`.
        Ok(())
    }

    fn build(&self, sim: &mut Simulation, ctx: &BuildContext) -> Result<(), BuildError> {
        let spec = self.0;
        let mut q = sim.world.query::<(Entity, &Asset)>();
        let mut list: Vec<(Entity, Asset)> =
            q.iter(&sim.world).map(|(e, a)| (e, a.clone())).collect();
        list.sort_by(|a, b| a.1.id.cmp(&b.1.id));
        let index_of = |id: &str| list.iter().position(|(_, a)| a.id == id);
        let rng = sim.world.resource::<RngStreams>();
        let city = sim.world.resource::<City>();
        let bridges = city.bridge_decks();
        let mut nodes = Vec::with_capacity(list.len());
        for (e, a) in &list {
            let deps = a
                .depends_on
                .iter()
                .filter_map(|d| index_of(d))
                .collect::<Vec<_>>();
            nodes.push(Node {
                id: a.id.clone(),
                kind: a.kind,
                entity: *e,
                cell: a.cell,
                door: city.door_cells(&bridges, a.cell),
                x: a.x,
                y: a.y,
                capacity: a.capacity,
                deps,
                cap_flood: fragility_capacity(spec, rng, a.kind, Intensity::Flood, &a.id),
                cap_wind: fragility_capacity(spec, rng, a.kind, Intensity::Wind, &a.id),
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
                            .map(|(_, a)| a.id.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            };
            forced.push((f.t_s, n, f.cause.clone()));
        }
        // Popped from the back: latest first in the vector.
        forced.sort_by(|a, b| b.0.total_cmp(&a.0).then(b.1.cmp(&a.1)));
        let city = sim.world.resource::<City>();
        let grid = city.grid;
        let depot = spec.depot.unwrap_or([
            grid.x0 + grid.width_m() / 2.0,
            grid.y0 + grid.height_m() / 2.0,
        ]);
        let customers_total = nodes
            .iter()
            .filter(|n| n.kind == AssetKind::Substation)
            .map(|n| n.capacity)
            .sum();
        let mut m = sim.world.resource_mut::<Metrics>();
        let ids = Ids {
            customers_out: m.declare(
                "lifelines.customers_without_power",
                "customers",
                "customers of failed substations",
            ),
            assets_out: m.declare(
                "lifelines.assets_out",
                "assets",
                "assets out of service (damaged or without supply)",
            ),
            customer_hours: m.declare(
                "lifelines.customer_hours_lost",
                "customer·h",
                "customers without power × hours, so far",
            ),
        };
        for c in 0..spec.crews {
            sim.world.spawn(Crew {
                id: c,
                x: depot[0],
                y: depot[1],
                job: None,
            });
        }
        sim.world.insert_resource(Lifelines {
            nodes,
            forced,
            spec: spec.clone(),
            repairs: 0,
            customers_total,
            customer_hours: 0.0,
            max_customers_out: 0.0,
            failures: 0,
            restorations: 0,
            backup_exhausted: 0,
            ids,
        });
        sim.world.insert_resource(AssetFailureOwner("lifelines"));
        sim.add_systems(Phase::Impacts, lifelines_step);
        sim.add_finish_systems(lifelines_finish);
        Ok(())
    }
}

fn place(city: &City, n: &Node) -> Place {
    let (i, j) = city.grid.cell_of(n.cell);
    Place {
        x: n.x,
        y: n.y,
        cell: Some([i as u32, j as u32]),
        name: Some(n.id.clone()),
    }
}

/// Deepest water at the asset's door, m.
fn depth_at(depth: &[f32], door: &[usize]) -> f64 {
    f64::from(door.iter().map(|&k| depth[k]).fold(0.0f32, f32::max))
}

fn fire_near(city: &City, fire: &[u8], cell: usize, r_m: f64) -> bool {
    let g = city.grid;
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

fn damage_t(n: &Node) -> f64 {
    n.damage.as_ref().map_or(f64::INFINITY, |d| d.t)
}

/// Repair priority: power first, then what keeps people alive, then drainage.
fn priority(kind: AssetKind) -> u8 {
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

/// Phase::Impacts: damage from hazards and imposed failures, crews, supply along
/// dependencies, then the `Operational` flags.
#[allow(clippy::too_many_arguments)]
fn lifelines_step(
    mut st: ResMut<Lifelines>,
    clock: Res<SimClock>,
    city: Res<City>,
    rng: Res<RngStreams>,
    couplings: Option<Res<Couplings>>,
    depth: Option<Res<WaterDepth>>,
    wind: Option<Res<SurfaceWind>>,
    fire: Option<Res<FireState>>,
    mut crews: Query<&mut Crew>,
    mut assets: Query<&mut Operational>,
    mut log: ResMut<EventLog>,
    mut metrics: ResMut<Metrics>,
    mut health: ResMut<RunHealth>,
) {
    let st = &mut *st;
    let t = clock.t_end();
    let couplings = Couplings::of(couplings.as_deref());
    // 1. Imposed failures.
    while st.forced.last().is_some_and(|f| f.0 < t) {
        let (tf, n, cause) = st
            .forced
            .pop()
            .expect("the loop condition saw a last entry");
        let node = &mut st.nodes[n];
        if node.damage.is_none() {
            node.damage = Some(Damage {
                cause: cause.clone(),
                hazard: None,
                t: tf,
                crew: false,
            });
        }
    }
    // 2. Hazard damage: intensity against the asset's drawn capacity.
    for k in 0..st.nodes.len() {
        let n = &st.nodes[k];
        let d = depth.as_ref().map_or(0.0, |w| depth_at(&w.0, &n.door));
        let g = wind.as_ref().map_or(0.0, |w| f64::from(w.gust[n.cell]));
        if !(d.is_finite() && g.is_finite()) {
            let (i, j) = city.grid.cell_of(n.cell);
            health.fail(format!(
                "lifelines: depth or gust is not a number at cell ({i},{j}), t={t} s"
            ));
            return;
        }
        if n.damage.is_some() {
            continue;
        }
        let (cause, hazard, value, cap) = if d >= n.cap_flood {
            ("flood", Some(Intensity::Flood), d, n.cap_flood)
        } else if g >= n.cap_wind {
            ("wind", Some(Intensity::Wind), g, n.cap_wind)
        } else if fire
            .as_ref()
            .is_some_and(|f| fire_near(&city, &f.0, n.cell, st.spec.fire_exposure_m))
        {
            ("fire", None, 1.0, 1.0)
        } else {
            continue;
        };
        let n = &mut st.nodes[k];
        n.damage = Some(Damage {
            cause: cause.into(),
            hazard,
            t,
            crew: false,
        });
        let unit = if hazard == Some(Intensity::Wind) {
            "m/s"
        } else {
            "m"
        };
        log.emit(t, "lifelines", "asset.damaged", Severity::Major)
            .at(place(&city, n))
            .message(format!(
                "{} {} damaged by {cause}{}",
                n.kind.label(),
                n.id,
                if hazard.is_some() {
                    format!(": {value:.2} {unit} against a capacity of {cap:.2} {unit}")
                } else {
                    String::new()
                }
            ))
            .with("cause", cause)
            .with("intensity", value)
            .with("capacity", cap);
    }
    // 3. Crews: assign idle crews to damaged assets whose hazard has receded.
    let mut all: Vec<Mut<Crew>> = crews.iter_mut().collect();
    all.sort_by_key(|c| c.id);
    for c in all.iter_mut() {
        if let Some((n, arrive, done)) = c.job
            && done <= t
        {
            let node = &mut st.nodes[n];
            node.damage = None;
            c.job = None;
            log.emit(done, "lifelines", "repair.completed", Severity::Info)
                .at(place(&city, node))
                .message(format!(
                    "crew {} repaired {} {} ({:.1} h on site)",
                    c.id,
                    node.kind.label(),
                    node.id,
                    (done - arrive) / 3600.0
                ));
        }
    }
    if all.iter().any(|c| c.job.is_none()) {
        let mut todo: Vec<usize> = (0..st.nodes.len())
            .filter(|&k| {
                let n = &st.nodes[k];
                let Some(dmg) = &n.damage else { return false };
                if dmg.crew {
                    return false;
                }
                if !st.spec.restoration.iter().any(|r| r.kind == n.kind) {
                    return false;
                }
                match dmg.hazard {
                    Some(Intensity::Flood) => {
                        depth.as_ref().map_or(0.0, |w| depth_at(&w.0, &n.door)) < n.cap_flood
                    }
                    Some(Intensity::Wind) => {
                        wind.as_ref().map_or(0.0, |w| f64::from(w.gust[n.cell])) < n.cap_wind
                    }
                    None => true,
                }
            })
            .collect();
        todo.sort_by(|&a, &b| {
            let (na, nb) = (&st.nodes[a], &st.nodes[b]);
            priority(na.kind)
                .cmp(&priority(nb.kind))
                .then(damage_t(na).total_cmp(&damage_t(nb)))
                .then(a.cmp(&b))
        });
        let mut next = todo.into_iter();
        for c in all.iter_mut().filter(|c| c.job.is_none()) {
            let Some(k) = next.next() else { break };
            let n = &mut st.nodes[k];
            let travel = ((c.x - n.x).abs() + (c.y - n.y).abs()) / st.spec.crew_speed_m_s;
            let r = st
                .spec
                .restoration
                .iter()
                .find(|r| r.kind == n.kind)
                .expect("only kinds with a restoration entry are in `todo`");
            let z: f64 = StandardNormal.sample(&mut rng.indexed("lifelines.repair", st.repairs));
            st.repairs += 1;
            let hours = (r.mean_h + r.sd_h * z).max(0.1 * r.mean_h);
            let arrive = t + travel;
            let done = arrive + hours * 3600.0;
            c.job = Some((k, arrive, done));
            c.x = n.x;
            c.y = n.y;
            if let Some(d) = n.damage.as_mut() {
                d.crew = true;
            }
            log.emit(t, "lifelines", "crew.dispatched", Severity::Minor)
                .at(place(&city, n))
                .message(format!(
                    "crew {} sent to {} {}: {:.0} min travel, about {hours:.1} h of repairs",
                    c.id,
                    n.kind.label(),
                    n.id,
                    travel / 60.0
                ))
                .with("travel_s", travel)
                .with("repair_h", hours);
        }
    }
    // 4. Supply along dependencies, to a fixed point (acyclic networks settle in depth
    // passes; a cycle stops after as many passes as there are nodes).
    let delay = st.spec.propagation_delay_s;
    let backup_s = st.spec.hospital_backup_h * 3600.0;
    for _ in 0..st.nodes.len().max(1) {
        let mut changed = false;
        for k in 0..st.nodes.len() {
            let lost = if coupled(&couplings, st.nodes[k].kind) {
                st.nodes[k]
                    .deps
                    .iter()
                    .copied()
                    .find(|&d| !st.nodes[d].operational)
            } else {
                None
            };
            let n = &mut st.nodes[k];
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
                        t - since < delay
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
    // 5. Events for state changes, and the flags.
    let mut customers_out = 0.0;
    let mut assets_out = 0.0;
    for k in 0..st.nodes.len() {
        let supplier = st.nodes[k].unsupplied.map(|(_, d)| st.nodes[d].id.clone());
        let n = &mut st.nodes[k];
        let Ok(mut flag) = assets.get_mut(n.entity) else {
            continue;
        };
        if n.kind == AssetKind::Hospital {
            match (&supplier, n.on_backup) {
                (Some(s), false) if n.damage.is_none() => {
                    n.on_backup = true;
                    log.emit(t, "lifelines", "hospital.on_backup", Severity::Major)
                        .at(place(&city, n))
                        .message(format!(
                            "hospital {} lost grid power (dependency: {s}); on generators for up to {:.0} h",
                            n.id, st.spec.hospital_backup_h
                        ))
                        .with("cause", format!("dependency: {s}"))
                        .with("backup_h", st.spec.hospital_backup_h);
                }
                (None, true) => {
                    n.on_backup = false;
                    n.backup_exhausted = false;
                }
                _ => {}
            }
            if n.on_backup && !n.backup_exhausted && !n.operational && n.damage.is_none() {
                n.backup_exhausted = true;
                st.backup_exhausted += 1;
                log.emit(
                    t,
                    "lifelines",
                    "hospital.backup_exhausted",
                    Severity::Critical,
                )
                .at(place(&city, n))
                .message(format!("hospital {} has run out of generator fuel", n.id));
            }
        }
        if flag.0 != n.operational {
            flag.0 = n.operational;
            let cause = match (&n.damage, &supplier) {
                (Some(d), _) => d.cause.clone(),
                (None, Some(s)) => format!("dependency: {s}"),
                (None, None) => String::new(),
            };
            if n.operational {
                st.restorations += 1;
                log.emit(t, "lifelines", "asset.restored", Severity::Info)
                    .at(place(&city, n))
                    .message(format!("{} {} back in service", n.kind.label(), n.id));
                if n.kind == AssetKind::Substation {
                    log.emit(t, "lifelines", "power.restored", Severity::Moderate)
                        .at(place(&city, n))
                        .message(format!("power back for {:.0} customers", n.capacity))
                        .with("customers", n.capacity);
                }
            } else {
                st.failures += 1;
                let sev = if matches!(n.kind, AssetKind::Hospital | AssetKind::Substation) {
                    Severity::Critical
                } else {
                    Severity::Major
                };
                log.emit(t, "lifelines", "asset.failed", sev)
                    .at(place(&city, n))
                    .message(format!(
                        "{} {} out of service ({cause})",
                        n.kind.label(),
                        n.id
                    ))
                    .with("cause", cause.clone())
                    .with("kind", n.kind.label());
                if n.kind == AssetKind::Substation {
                    log.emit(t, "lifelines", "power.lost", Severity::Critical)
                        .at(place(&city, n))
                        .message(format!(
                            "substation {} down ({cause}): {:.0} customers without power",
                            n.id, n.capacity
                        ))
                        .with("customers", n.capacity)
                        .with("cause", cause);
                }
            }
        }
        if !n.operational {
            assets_out += 1.0;
            if n.kind == AssetKind::Substation {
                customers_out += n.capacity;
            }
        }
    }
    st.customer_hours += customers_out * clock.dt / 3600.0;
    st.max_customers_out = st.max_customers_out.max(customers_out);
    metrics.set(st.ids.customers_out, customers_out);
    metrics.set(st.ids.assets_out, assets_out);
    metrics.set(st.ids.customer_hours, st.customer_hours);
}

/// Finish: KPIs of the network.
fn lifelines_finish(st: Res<Lifelines>, mut m: ResMut<Metrics>) {
    m.set_kpi(
        "lifelines.customer_hours_lost",
        st.customer_hours,
        "customer·h",
        "customers without power × hours over the run",
    );
    m.set_kpi(
        "lifelines.max_customers_without_power",
        st.max_customers_out,
        "customers",
        "most customers without power at once",
    );
    m.set_kpi(
        "lifelines.customers_served",
        st.customers_total,
        "customers",
        "customers of all substations",
    );
    m.set_kpi(
        "lifelines.asset_failures",
        st.failures as f64,
        "failures",
        "times an asset went out of service (damage or dependency)",
    );
    m.set_kpi(
        "lifelines.asset_restorations",
        st.restorations as f64,
        "restorations",
        "times an asset came back into service",
    );
    m.set_kpi(
        "lifelines.hospital_backup_exhausted",
        st.backup_exhausted as f64,
        "hospitals",
        "hospitals whose generators ran out during the run",
    );
}
