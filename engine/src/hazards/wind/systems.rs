//! The uniform wind's one system: its gauge (the field itself never changes).

use bevy_ecs::prelude::*;

use super::state::WindState;
use crate::metrics::Metrics;

/// Phase::Forcing: the wind speed gauge.
pub fn wind_gauge(st: Res<WindState>, mut metrics: ResMut<Metrics>) {
    metrics.set(st.gauge, st.speed_m_s);
}
