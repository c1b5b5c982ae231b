//! The lifelines systems: one step per tick in `Phase::Impacts` (imposed failures,
//! hazard damage, crews, supply, then the `Operational` flags and their events), and
//! the KPIs at the finish.

use bevy_ecs::prelude::*;
use rand_distr::{Distribution, StandardNormal};

use super::network::{Exposure, damage_t, priority, propagate_supply};
use super::outputs as out;
use super::spec::Intensity;
use super::state::{Crew, Damage, Lifelines, Node};
use crate::city::City;
use crate::city::assets::{AssetKind, Operational};
use crate::coupling::{Couplings, FireState, SurfaceWind, WaterDepth};
use crate::events::{Event, EventLog, Place, Severity};
use crate::metrics::{Metrics, OutputDef};
use crate::rng::RngStreams;
use crate::sim::{RunHealth, SimClock};

/// Phase::Impacts: damage from hazards and imposed failures, crews, supply along
/// dependencies, then the `Operational` flags.
#[allow(clippy::too_many_arguments)]
pub(super) fn lifelines_step(
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
    let exposure = Exposure {
        depth: depth.as_deref().map(|w| &w.0[..]),
        gust: wind.as_deref().map(|w| &w.gust[..]),
        fire: fire.as_deref().map(|f| &f.0[..]),
    };
    apply_forced_failures(st, t);
    if let Err(message) = hazard_damage(st, &exposure, &city, t, &mut log) {
        health.fail(message);
        return;
    }
    let mut all: Vec<Mut<Crew>> = crews.iter_mut().collect();
    all.sort_by_key(|c| c.id);
    complete_repairs(st, &mut all, &city, t, &mut log);
    if all.iter().any(|c| c.job.is_none()) {
        dispatch_crews(st, &exposure, &mut all, &rng, &city, t, &mut log);
    }
    let backup_s = st.spec.hospital_backup_h * 3600.0;
    propagate_supply(
        &mut st.nodes,
        &couplings,
        t,
        st.spec.propagation_delay_s,
        backup_s,
    );
    let (customers_out, assets_out) = report_changes(st, &mut assets, &city, t, &mut log);
    st.customer_hours += customers_out * clock.dt / 3600.0;
    st.max_customers_out = st.max_customers_out.max(customers_out);
    metrics.set(st.ids.customers_out, customers_out);
    metrics.set(st.ids.assets_out, assets_out);
    metrics.set(st.ids.customer_hours, st.customer_hours);
}

/// Finish: KPIs of the network.
pub(super) fn lifelines_finish(st: Res<Lifelines>, mut m: ResMut<Metrics>) {
    out::write_kpis(&st, &mut m);
}

/// Where an asset's events happen: the asset itself, with its cell.
fn place(city: &City, n: &Node) -> Place {
    let (i, j) = city.grid.cell_of(n.cell);
    Place {
        x: n.x,
        y: n.y,
        cell: Some([i as u32, j as u32]),
        name: Some(n.id.clone()),
    }
}

/// Emit an event of a kind from the outputs table.
fn emit<'l>(log: &'l mut EventLog, t: f64, kind: &OutputDef, severity: Severity) -> &'l mut Event {
    log.emit(t, "lifelines", kind.name, severity)
}

/// Step 1: imposed failures due by the end of the tick.
fn apply_forced_failures(st: &mut Lifelines, t: f64) {
    while let Some((tf, n, cause)) = st.forced.pop_if(|f| f.0 < t) {
        let node = &mut st.nodes[n];
        if node.damage.is_none() {
            node.damage = Some(Damage {
                cause,
                hazard: None,
                t: tf,
                crew: false,
            });
        }
    }
}

/// Step 2: hazard damage, intensity against the asset's drawn capacity. Fails on a
/// field that is not a number.
fn hazard_damage(
    st: &mut Lifelines,
    exposure: &Exposure,
    city: &City,
    t: f64,
    log: &mut EventLog,
) -> Result<(), String> {
    for k in 0..st.nodes.len() {
        let n = &st.nodes[k];
        let d = exposure.depth(n);
        let g = exposure.gust(n);
        if !(d.is_finite() && g.is_finite()) {
            let (i, j) = city.grid.cell_of(n.cell);
            return Err(format!(
                "lifelines: depth or gust is not a number at cell ({i},{j}), t={t} s"
            ));
        }
        if n.damage.is_some() {
            continue;
        }
        let (cause, hazard, value, cap) = if d >= n.cap_flood {
            ("flood", Some(Intensity::Flood), d, n.cap_flood)
        } else if g >= n.cap_wind {
            ("wind", Some(Intensity::Wind), g, n.cap_wind)
        } else if exposure.fire_near(&city.grid, n, st.spec.fire_exposure_m) {
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
        emit(log, t, &out::ASSET_DAMAGED, Severity::Major)
            .at(place(city, n))
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
    Ok(())
}

/// Step 3a: crews whose repairs are done by the end of the tick free their asset.
fn complete_repairs(
    st: &mut Lifelines,
    crews: &mut [Mut<Crew>],
    city: &City,
    t: f64,
    log: &mut EventLog,
) {
    for c in crews.iter_mut() {
        if let Some((n, arrive, done)) = c.job
            && done <= t
        {
            let node = &mut st.nodes[n];
            node.damage = None;
            c.job = None;
            emit(log, done, &out::REPAIR_COMPLETED, Severity::Info)
                .at(place(city, node))
                .message(format!(
                    "crew {} repaired {} {} ({:.1} h on site)",
                    c.id,
                    node.kind.label(),
                    node.id,
                    (done - arrive) / 3600.0
                ));
        }
    }
}

/// Damaged assets waiting for a crew whose hazard has receded, most urgent first.
fn repair_queue(st: &Lifelines, exposure: &Exposure) -> Vec<usize> {
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
                Some(Intensity::Flood) => exposure.depth(n) < n.cap_flood,
                Some(Intensity::Wind) => exposure.gust(n) < n.cap_wind,
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
    todo
}

/// Step 3b: idle crews go to the most urgent assets, with a repair time drawn from the
/// kind's restoration function.
fn dispatch_crews(
    st: &mut Lifelines,
    exposure: &Exposure,
    crews: &mut [Mut<Crew>],
    rng: &RngStreams,
    city: &City,
    t: f64,
    log: &mut EventLog,
) {
    let mut next = repair_queue(st, exposure).into_iter();
    for c in crews.iter_mut().filter(|c| c.job.is_none()) {
        let Some(k) = next.next() else { break };
        let n = &mut st.nodes[k];
        let travel = ((c.x - n.x).abs() + (c.y - n.y).abs()) / st.spec.crew_speed_m_s;
        let Some(r) = st.spec.restoration.iter().find(|r| r.kind == n.kind) else {
            // Only kinds with a restoration entry are queued.
            continue;
        };
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
        emit(log, t, &out::CREW_DISPATCHED, Severity::Minor)
            .at(place(city, n))
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

/// Step 5: events for state changes, and the `Operational` flags. Returns the
/// customers without power and the assets out of service.
fn report_changes(
    st: &mut Lifelines,
    assets: &mut Query<&mut Operational>,
    city: &City,
    t: f64,
    log: &mut EventLog,
) -> (f64, f64) {
    let mut customers_out = 0.0;
    let mut assets_out = 0.0;
    let backup_h = st.spec.hospital_backup_h;
    for k in 0..st.nodes.len() {
        let supplier = st.nodes[k].unsupplied.map(|(_, d)| st.nodes[d].id.clone());
        let n = &mut st.nodes[k];
        let Ok(mut flag) = assets.get_mut(n.entity) else {
            continue;
        };
        if n.kind == AssetKind::Hospital
            && hospital_backup(n, supplier.as_deref(), backup_h, city, t, log)
        {
            st.backup_exhausted += 1;
        }
        if flag.0 != n.operational {
            flag.0 = n.operational;
            if n.operational {
                st.restorations += 1;
            } else {
                st.failures += 1;
            }
            report_flag_change(n, supplier.as_deref(), city, t, log);
        }
        if !n.operational {
            assets_out += 1.0;
            if n.kind == AssetKind::Substation {
                customers_out += n.capacity;
            }
        }
    }
    (customers_out, assets_out)
}

/// A hospital switching to its generators, back to the grid, or out of fuel. Returns
/// whether its generators ran out now.
fn hospital_backup(
    n: &mut Node,
    supplier: Option<&str>,
    backup_h: f64,
    city: &City,
    t: f64,
    log: &mut EventLog,
) -> bool {
    match (supplier, n.on_backup) {
        (Some(s), false) if n.damage.is_none() => {
            n.on_backup = true;
            emit(log, t, &out::HOSPITAL_ON_BACKUP, Severity::Major)
                .at(place(city, n))
                .message(format!(
                    "hospital {} lost grid power (dependency: {s}); on generators for up to {backup_h:.0} h",
                    n.id
                ))
                .with("cause", format!("dependency: {s}"))
                .with("backup_h", backup_h);
        }
        (None, true) => {
            n.on_backup = false;
            n.backup_exhausted = false;
        }
        _ => {}
    }
    if n.on_backup && !n.backup_exhausted && !n.operational && n.damage.is_none() {
        n.backup_exhausted = true;
        emit(log, t, &out::HOSPITAL_BACKUP_EXHAUSTED, Severity::Critical)
            .at(place(city, n))
            .message(format!("hospital {} has run out of generator fuel", n.id));
        return true;
    }
    false
}

/// The events of an asset going out of or back into service.
fn report_flag_change(n: &Node, supplier: Option<&str>, city: &City, t: f64, log: &mut EventLog) {
    let cause = match (&n.damage, supplier) {
        (Some(d), _) => d.cause.clone(),
        (None, Some(s)) => format!("dependency: {s}"),
        (None, None) => String::new(),
    };
    if n.operational {
        emit(log, t, &out::ASSET_RESTORED, Severity::Info)
            .at(place(city, n))
            .message(format!("{} {} back in service", n.kind.label(), n.id));
        if n.kind == AssetKind::Substation {
            emit(log, t, &out::POWER_RESTORED, Severity::Moderate)
                .at(place(city, n))
                .message(format!("power back for {:.0} customers", n.capacity))
                .with("customers", n.capacity);
        }
    } else {
        let sev = if matches!(n.kind, AssetKind::Hospital | AssetKind::Substation) {
            Severity::Critical
        } else {
            Severity::Major
        };
        emit(log, t, &out::ASSET_FAILED, sev)
            .at(place(city, n))
            .message(format!(
                "{} {} out of service ({cause})",
                n.kind.label(),
                n.id
            ))
            .with("cause", cause.clone())
            .with("kind", n.kind.label());
        if n.kind == AssetKind::Substation {
            emit(log, t, &out::POWER_LOST, Severity::Critical)
                .at(place(city, n))
                .message(format!(
                    "substation {} down ({cause}): {:.0} customers without power",
                    n.id, n.capacity
                ))
                .with("customers", n.capacity)
                .with("cause", cause);
        }
    }
}
