//! Everything the crowd plugin reports, in one table: its gauges (in declaration order,
//! which is the column order of `timeseries.csv`), KPIs, event kinds and map; and the
//! functions that declare the gauges, write the KPIs and make the map.

use super::model::state;
use super::state::{CrowdSim, GoalInfo, Ids};
use crate::grid::{Palette, Raster, RasterKind};
use crate::metrics::OutputKind::{Event, Gauge, Kpi, Map};
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

// ---- gauges, in declaration order: one per goal, then the crowd's ---------------------

pub const GATE_FLOW: OutputDef = def(
    Gauge,
    "crowd.gate.{id}.flow_p_s",
    "P/s",
    "people leaving through gate {id} per second",
);
pub const SHELTER_OCCUPANCY: OutputDef = def(
    Gauge,
    "crowd.shelter.{id}.occupancy_people",
    "people",
    "people inside shelter {id}",
);
pub const EVACUATED_SHARE: OutputDef = def(
    Gauge,
    "crowd.evacuated_share",
    "1",
    "share of the people who have reached safety (out of the venue or in a shelter)",
);
pub const SAFE: OutputDef = def(
    Gauge,
    "crowd.safe_people",
    "people",
    "people who have reached safety",
);
pub const MOVING: OutputDef = def(Gauge, "crowd.moving_people", "people", "people walking");
pub const WAITING: OutputDef = def(
    Gauge,
    "crowd.waiting_people",
    "people",
    "people who have not started to leave",
);
pub const STRANDED: OutputDef = def(
    Gauge,
    "crowd.stranded_people",
    "people",
    "people with no open route to any goal (cut off by water, fire or full shelters)",
);
pub const PEAK_DENSITY: OutputDef = def(
    Gauge,
    "crowd.peak_density_p_m2",
    "P/m²",
    "highest crowd density (1 m cells, 3 × 3 m window)",
);

// ---- KPIs ----------------------------------------------------------------------------

pub const KPI_PEOPLE: OutputDef = def(
    Kpi,
    "crowd.people",
    "people",
    "people in the crowd scenario",
);
pub const KPI_NOT_SAFE: OutputDef = def(
    Kpi,
    "crowd.not_safe_people",
    "people",
    "people who never reached safety by the end of the run",
);
pub const KPI_EVACUATED_SHARE: OutputDef = def(
    Kpi,
    "crowd.evacuated_share_final",
    "1",
    "share of the people safe at the end of the run",
);
pub const KPI_TIME_95: OutputDef = def(
    Kpi,
    "crowd.evacuation_time_95_s",
    "s",
    "time until 95 % of the people were safe (infinite if never)",
);
pub const KPI_METRO_PASSENGERS: OutputDef = def(
    Kpi,
    "crowd.metro_passengers_people",
    "people",
    "passengers put on the street by metro entrances out of service (no power or flooded)",
);
pub const KPI_MEAN_TIME: OutputDef = def(
    Kpi,
    "crowd.mean_evacuation_time_s",
    "s",
    "mean time from the evacuation order to reaching a shelter, over the residents who did (district)",
);
pub const KPI_PEAK_DENSITY: OutputDef = def(
    Kpi,
    "crowd.peak_density_p_m2",
    "P/m²",
    "highest density anywhere (1 m cells, 3 × 3 m window)",
);
pub const KPI_TIME_ABOVE_4: OutputDef = def(
    Kpi,
    "crowd.max_time_above_4_s",
    "s",
    "longest time any place spent at 4 P/m² or more (high risk, Still)",
);
pub const KPI_TIME_ABOVE_5_5: OutputDef = def(
    Kpi,
    "crowd.max_time_above_5_5_s",
    "s",
    "longest time any place spent at 5.5 P/m² or more (dangerous forces, Fruin)",
);
pub const KPI_PLACES_ABOVE_4: OutputDef = def(
    Kpi,
    "crowd.places_above_4",
    "places",
    "places that reached 4 P/m²",
);
pub const KPI_INJURED: OutputDef = def(
    Kpi,
    "crowd.injured_people",
    "people",
    "people crushed (social force model)",
);

// ---- events (source `crowd`) -----------------------------------------------------------
// The unit of an event is that of its main data value, if any.

pub const SHELTER_UNREACHABLE: OutputDef = def(
    Event,
    "shelter.unreachable",
    "people",
    "at t = 0: a shelter with no walkable ground at its entrance; data: people (0)",
);
pub const POPULATION_UNPLACED: OutputDef = def(
    Event,
    "population.unplaced",
    "people",
    "at t = 0: people of buildings with no walkable ground around them, left out; data: people",
);
pub const GATE_OPENED: OutputDef = def(Event, "gate.opened", "", "a gate opens");
pub const GATE_CLOSED: OutputDef = def(
    Event,
    "gate.closed",
    "",
    "a gate shuts; the crowd turns to the other gates",
);
pub const EVACUATION_ORDERED: OutputDef = def(
    Event,
    "evacuation.ordered",
    "people",
    "the district's evacuation order (at a set time or after a hazard warning); data: people",
);
pub const METRO_CLOSED: OutputDef = def(
    Event,
    "metro.closed",
    "people",
    "a metro entrance out of service puts its passengers on the street; data: people",
);
pub const INJURED: OutputDef = def(
    Event,
    "injured",
    "people",
    "people crushed (compression above 1600 N/m, social force model); data: people",
);
pub const SHELTER_FULL: OutputDef = def(
    Event,
    "shelter.full",
    "people",
    "a shelter is full; later arrivals go on to the next; data: occupancy_people, \
     capacity_people",
);
pub const EVACUATION_COMPLETE: OutputDef = def(
    Event,
    "evacuation.complete",
    "people",
    "everyone has reached safety; data: people",
);
pub const DENSITY_HIGH: OutputDef = def(
    Event,
    "density.high",
    "P/m²",
    "a place above 4 P/m² (high risk for a moving crowd, Still); data: density_p_m2",
);
pub const DENSITY_CRITICAL: OutputDef = def(
    Event,
    "density.critical",
    "P/m²",
    "a place above 5.5 P/m² (dangerous crowd forces, Fruin); data: density_p_m2",
);
pub const DENSITY_CLEARED: OutputDef = def(
    Event,
    "density.cleared",
    "s",
    "a place back below 3.6 P/m² for 10 s; data: duration_s, peak_density_p_m2, \
     time_above_4_s, time_above_5_5_s",
);

// ---- map -------------------------------------------------------------------------------

/// Its description is the map's title.
pub const PEAK_DENSITY_MAP: OutputDef =
    def(Map, "crowd_peak_density", "P/m²", "Peak crowd density");

/// Every output of the plugin; gauges in declaration order.
pub const OUTPUTS: &[OutputDef] = &[
    GATE_FLOW,
    SHELTER_OCCUPANCY,
    EVACUATED_SHARE,
    SAFE,
    MOVING,
    WAITING,
    STRANDED,
    PEAK_DENSITY,
    KPI_PEOPLE,
    KPI_NOT_SAFE,
    KPI_EVACUATED_SHARE,
    KPI_TIME_95,
    KPI_METRO_PASSENGERS,
    KPI_MEAN_TIME,
    KPI_PEAK_DENSITY,
    KPI_TIME_ABOVE_4,
    KPI_TIME_ABOVE_5_5,
    KPI_PLACES_ABOVE_4,
    KPI_INJURED,
    SHELTER_UNREACHABLE,
    POPULATION_UNPLACED,
    GATE_OPENED,
    GATE_CLOSED,
    EVACUATION_ORDERED,
    METRO_CLOSED,
    INJURED,
    SHELTER_FULL,
    EVACUATION_COMPLETE,
    DENSITY_HIGH,
    DENSITY_CRITICAL,
    DENSITY_CLEARED,
    PEAK_DENSITY_MAP,
];

/// Declare a per-entity gauge: `{id}` in its name and description becomes the entity's.
fn declare_for(m: &mut Metrics, def: &OutputDef, id: &str) -> crate::metrics::MetricId {
    m.declare(
        &def.name.replace("{id}", id),
        def.unit,
        &def.description.replace("{id}", id),
    )
}

/// Declare the gauges: each goal's first (a gate's flow or a shelter's occupancy), then
/// the crowd's. Their order is the column order of the time series.
pub(super) fn declare_gauges(goals: &[GoalInfo], m: &mut Metrics) -> Ids {
    let per_goal = goals
        .iter()
        .map(|g| {
            let def = if g.is_gate {
                &GATE_FLOW
            } else {
                &SHELTER_OCCUPANCY
            };
            declare_for(m, def, &g.name)
        })
        .collect();
    Ids {
        share: m.declare_output(&EVACUATED_SHARE),
        safe: m.declare_output(&SAFE),
        moving: m.declare_output(&MOVING),
        waiting: m.declare_output(&WAITING),
        stranded: m.declare_output(&STRANDED),
        peak: m.declare_output(&PEAK_DENSITY),
        per_goal,
    }
}

/// The crowd's KPIs (set at the start, so standards can name them, and at the finish);
/// the 95 % time is infinite until reached.
pub(super) fn write_kpis(cs: &CrowdSim, m: &mut Metrics) {
    let risk = || cs.places.risk.values();
    let not_safe = (cs.people_total - cs.safe_people).max(0.0);
    let people = cs.people_total;
    let injured = cs
        .crowd
        .agents
        .state
        .iter()
        .filter(|&&s| s == state::INJURED)
        .count() as f64
        * cs.ppa;
    let mean_time = if cs.evac_people > 0.0 {
        cs.evac_time_sum / cs.evac_people
    } else {
        0.0
    };
    let values = [
        (&KPI_PEOPLE, people),
        (&KPI_NOT_SAFE, not_safe),
        (&KPI_EVACUATED_SHARE, 1.0 - not_safe / people.max(1.0)),
        (&KPI_TIME_95, cs.t95.unwrap_or(f64::INFINITY)),
        (&KPI_METRO_PASSENGERS, cs.metro_people),
        (&KPI_MEAN_TIME, mean_time),
        (&KPI_PEAK_DENSITY, cs.peak_density),
        (
            &KPI_TIME_ABOVE_4,
            risk().map(|p| p.above_high_s).fold(0.0, f64::max),
        ),
        (
            &KPI_TIME_ABOVE_5_5,
            risk().map(|p| p.above_critical_s).fold(0.0, f64::max),
        ),
        (
            &KPI_PLACES_ABOVE_4,
            risk().filter(|p| p.above_high_s > 0.0).count() as f64,
        ),
        (&KPI_INJURED, injured),
    ];
    for (def, v) in values {
        m.set_kpi_output(def, v);
    }
}

/// The highest density each 1 m cell saw.
pub(super) fn peak_density_map(cs: &CrowdSim) -> Raster {
    Raster {
        name: PEAK_DENSITY_MAP.name.into(),
        title: PEAK_DENSITY_MAP.description.into(),
        unit: PEAK_DENSITY_MAP.unit.into(),
        grid: cs.map_grid,
        data: cs.peak_map.clone(),
        kind: RasterKind::Continuous {
            palette: Palette::Density,
        },
    }
}
