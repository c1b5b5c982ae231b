//! Everything the design storm reports: its gauges (in declaration order), its KPI and
//! its event kind.

use super::spec::DesignStormSpec;
use crate::metrics::{MetricId, Metrics, OutputDef, OutputKind};

/// `source` of the design storm's events.
pub const SOURCE: &str = "design_storm";

pub const RAIN_RATE: OutputDef = OutputDef {
    kind: OutputKind::Gauge,
    name: "design_storm.rain_mm_h",
    unit: "mm/h",
    description: "rain rate of the design storm (tick mean)",
};
pub const DEPTH: OutputDef = OutputDef {
    kind: OutputKind::Gauge,
    name: "design_storm.depth_mm",
    unit: "mm",
    description: "rain fallen since the storm began",
};
pub const TOTAL: OutputDef = OutputDef {
    kind: OutputKind::Kpi,
    name: "design_storm.total_mm",
    unit: "mm",
    description: "depth of the design storm (IDF intensity × duration)",
};
pub const RAIN_WARNING: OutputDef = OutputDef {
    kind: OutputKind::Event,
    name: "rain.warning",
    unit: "",
    description: "a CMA rainstorm level (blue to red) reached by the storm's trailing \
                  accumulation",
};

/// The design storm's outputs; gauges in declaration order.
pub const OUTPUTS: &[OutputDef] = &[RAIN_RATE, DEPTH, TOTAL, RAIN_WARNING];

/// Handles of the design storm's gauges.
#[derive(Debug, Clone, Copy)]
pub struct Gauges {
    pub rate: MetricId,
    pub depth: MetricId,
}

impl Gauges {
    /// Declare the gauges in the table's order.
    pub fn declare(m: &mut Metrics) -> Self {
        Self {
            rate: m.declare_output(&RAIN_RATE),
            depth: m.declare_output(&DEPTH),
        }
    }
}

/// The storm's KPI, known before the run: its IDF depth.
pub fn set_kpis(spec: &DesignStormSpec, metrics: &mut Metrics) {
    metrics.set_kpi_output(&TOTAL, spec.total_mm());
}
