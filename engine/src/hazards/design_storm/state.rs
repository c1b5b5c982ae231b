//! What the design storm's forcing keeps between ticks.

use bevy_ecs::prelude::*;

use super::outputs::Gauges;
use super::setup::DesignStormInputs;
use crate::weather::RainWarnings;

/// One f32 rain rate per cell.
pub const BYTES_PER_CELL: usize = 4;

#[derive(Resource)]
pub struct DesignStormState {
    pub inputs: DesignStormInputs,
    pub gauges: Gauges,
    pub warn: RainWarnings,
    /// Rain fallen since the storm began, mm.
    pub total_mm: f64,
}

impl DesignStormState {
    /// The state before the first tick.
    pub fn new(inputs: DesignStormInputs, gauges: Gauges) -> Self {
        Self {
            inputs,
            gauges,
            warn: RainWarnings::default(),
            total_mm: 0.0,
        }
    }
}
