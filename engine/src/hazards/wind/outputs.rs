//! Everything the uniform wind reports: one gauge.

use crate::metrics::{OutputDef, OutputKind};

pub const SPEED: OutputDef = OutputDef {
    kind: OutputKind::Gauge,
    name: "wind.speed_m_s",
    unit: "m/s",
    description: "10-m mean wind speed",
};

/// The uniform wind's outputs.
pub const OUTPUTS: &[OutputDef] = &[SPEED];
