//! What the uniform wind's gauge system reads.

use bevy_ecs::prelude::*;

use crate::metrics::MetricId;

/// Two f32 components and a gust per cell.
pub const BYTES_PER_CELL: usize = 12;

/// The wind's speed and the handle of its gauge.
#[derive(Resource, Debug, Clone, Copy)]
pub struct WindState {
    pub speed_m_s: f64,
    pub gauge: MetricId,
}
