//! Everything the lifelines plugin reports, in one table: its gauges (in declaration
//! order, which is the column order of `timeseries.csv`), KPIs, event kinds; and the
//! functions that declare the gauges and write the KPIs.

use super::state::{Ids, Lifelines};
use crate::metrics::OutputKind::{Event, Gauge, Kpi};
use crate::metrics::{Metrics, OutputDef, OutputKind};

const fn def(
    kind: OutputKind,
    name: &'static str,
    unit: &'static str,
    description: &'static str,
) -> OutputDef {
    OutputDef {
        kind,
        name,
        unit,
        description,
    }
}

// ---- gauges --------------------------------------------------------------------------

pub const CUSTOMERS_OUT: OutputDef = def(
    Gauge,
    "lifelines.customers_without_power",
    "customers",
    "customers of failed substations",
);
pub const ASSETS_OUT: OutputDef = def(
    Gauge,
    "lifelines.assets_out",
    "assets",
    "assets out of service (damaged or without supply)",
);
pub const CUSTOMER_HOURS: OutputDef = def(
    Gauge,
    "lifelines.customer_hours_lost",
    "customer·h",
    "customers without power × hours, so far",
);

// ---- KPIs ----------------------------------------------------------------------------

pub const KPI_CUSTOMER_HOURS: OutputDef = def(
    Kpi,
    "lifelines.customer_hours_lost",
    "customer·h",
    "customers without power × hours over the run",
);
pub const KPI_MAX_CUSTOMERS_OUT: OutputDef = def(
    Kpi,
    "lifelines.max_customers_without_power",
    "customers",
    "most customers without power at once",
);
pub const KPI_CUSTOMERS_SERVED: OutputDef = def(
    Kpi,
    "lifelines.customers_served",
    "customers",
    "customers of all substations",
);
pub const KPI_FAILURES: OutputDef = def(
    Kpi,
    "lifelines.asset_failures",
    "failures",
    "times an asset went out of service (damage or dependency)",
);
pub const KPI_RESTORATIONS: OutputDef = def(
    Kpi,
    "lifelines.asset_restorations",
    "restorations",
    "times an asset came back into service",
);
pub const KPI_BACKUP_EXHAUSTED: OutputDef = def(
    Kpi,
    "lifelines.hospital_backup_exhausted",
    "hospitals",
    "hospitals whose generators ran out during the run",
);

// ---- events (source `lifelines`; the place names the asset) ----------------------------
// The unit of an event is that of its main data value, if any.

pub const ASSET_DAMAGED: OutputDef = def(
    Event,
    "asset.damaged",
    "",
    "an asset damaged by flood, wind or fire; data: cause, intensity (m or m/s; 1 for \
     fire), capacity (the drawn capacity it exceeded)",
);
pub const REPAIR_COMPLETED: OutputDef = def(
    Event,
    "repair.completed",
    "",
    "a crew finished repairing an asset",
);
pub const CREW_DISPATCHED: OutputDef = def(
    Event,
    "crew.dispatched",
    "",
    "a crew sent to a damaged asset whose hazard has receded; data: travel_s, repair_h",
);
pub const HOSPITAL_ON_BACKUP: OutputDef = def(
    Event,
    "hospital.on_backup",
    "",
    "a hospital lost grid power and runs on its generators; data: cause, backup_h",
);
pub const HOSPITAL_BACKUP_EXHAUSTED: OutputDef = def(
    Event,
    "hospital.backup_exhausted",
    "",
    "a hospital's generators ran out of fuel",
);
pub const ASSET_RESTORED: OutputDef = def(Event, "asset.restored", "", "an asset back in service");
pub const POWER_RESTORED: OutputDef = def(
    Event,
    "power.restored",
    "customers",
    "a substation back in service; data: customers",
);
pub const ASSET_FAILED: OutputDef = def(
    Event,
    "asset.failed",
    "",
    "an asset out of service (damage or lost supply); data: cause, kind",
);
pub const POWER_LOST: OutputDef = def(
    Event,
    "power.lost",
    "customers",
    "a substation out of service; data: customers, cause",
);

/// Every output of the plugin; gauges in declaration order.
pub const OUTPUTS: &[OutputDef] = &[
    CUSTOMERS_OUT,
    ASSETS_OUT,
    CUSTOMER_HOURS,
    KPI_CUSTOMER_HOURS,
    KPI_MAX_CUSTOMERS_OUT,
    KPI_CUSTOMERS_SERVED,
    KPI_FAILURES,
    KPI_RESTORATIONS,
    KPI_BACKUP_EXHAUSTED,
    ASSET_DAMAGED,
    REPAIR_COMPLETED,
    CREW_DISPATCHED,
    HOSPITAL_ON_BACKUP,
    HOSPITAL_BACKUP_EXHAUSTED,
    ASSET_RESTORED,
    POWER_RESTORED,
    ASSET_FAILED,
    POWER_LOST,
];

/// Declare the gauges (their order is the column order of the time series).
pub(super) fn declare_gauges(m: &mut Metrics) -> Ids {
    Ids {
        customers_out: m.declare_output(&CUSTOMERS_OUT),
        assets_out: m.declare_output(&ASSETS_OUT),
        customer_hours: m.declare_output(&CUSTOMER_HOURS),
    }
}

/// The KPIs of the network at the end of the run.
pub(super) fn write_kpis(st: &Lifelines, m: &mut Metrics) {
    m.set_kpi_output(&KPI_CUSTOMER_HOURS, st.customer_hours);
    m.set_kpi_output(&KPI_MAX_CUSTOMERS_OUT, st.max_customers_out);
    m.set_kpi_output(&KPI_CUSTOMERS_SERVED, st.customers_total);
    m.set_kpi_output(&KPI_FAILURES, st.failures as f64);
    m.set_kpi_output(&KPI_RESTORATIONS, st.restorations as f64);
    m.set_kpi_output(&KPI_BACKUP_EXHAUSTED, st.backup_exhausted as f64);
}
