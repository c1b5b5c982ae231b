//! The design storm's forcing.

use bevy_ecs::prelude::*;

use super::outputs::{self, SOURCE};
use super::state::DesignStormState;
use crate::coupling::RainRate;
use crate::events::EventLog;
use crate::metrics::Metrics;
use crate::sim::SimClock;
use crate::weather::{CMA_RAINSTORM, LEVEL_SEVERITY};

/// Phase::Forcing: the tick's mean rate is the exact cumulative-depth difference, so the
/// run's total equals the IDF depth whatever the tick.
pub fn design_storm_forcing(
    mut st: ResMut<DesignStormState>,
    clock: Res<SimClock>,
    mut rain: ResMut<RainRate>,
    mut metrics: ResMut<Metrics>,
    mut log: ResMut<EventLog>,
) {
    let st = &mut *st;
    let spec = &st.inputs.spec;
    let (t0, t1) = (clock.t(), clock.t_end());
    let m0 = (t0 - spec.start_s) / 60.0;
    let m1 = (t1 - spec.start_s) / 60.0;
    let depth = spec.cumulative_mm(m1) - spec.cumulative_mm(m0);
    let rate = depth / 1000.0 / clock.dt;
    rain.0.fill(rate as f32);
    st.total_mm += depth;
    metrics.set(st.gauges.rate, depth / clock.dt * 3600.0);
    metrics.set(st.gauges.depth, st.total_mm);
    for (k, acc) in st.warn.update(t1, depth) {
        let (name, hours, mm) = CMA_RAINSTORM[k];
        log.emit(t1, SOURCE, outputs::RAIN_WARNING.name, LEVEL_SEVERITY[k])
            .at(st.inputs.warning_place.clone())
            .message(format!(
                "rainstorm {name} level: {acc:.0} mm in {hours} h (CMA threshold {mm} mm)"
            ))
            .with("level", name)
            .with("accumulation_mm", acc);
    }
}
