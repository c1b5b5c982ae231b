//! The plan's indicators (Shenzhen 2020–2025 safety plan, national 14th Five-Year Plan
//! targets, Sendai targets A and C), computed from the KPIs every plugin wrote, after all
//! of their finish systems (called from `run::finish`, so plugin order does not matter).
//!
//! Per run the indicators describe one event. For an event set with annual frequencies,
//! each run's indicator is an event value; the expected annual value is
//! Σ frequency × value over the set, which the batch aggregation computes from the
//! `indicator.*_per_year` KPIs (each already multiplied by `annual_frequency`): sum them
//! over the event set. See docs/models/infrastructure.md.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::city::City;
use crate::city::assets::AssetKind;
use crate::metrics::Metrics;

/// `[indicators]` in a scenario.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct IndicatorSpec {
    /// Gross domestic product of the area, yuan per year. Default: Futian's 2020 GDP,
    /// 470.4 × 10⁹ yuan (福田区 2020 统计公报 as reported by the Shenzhen Statistics
    /// Bureau; unverified — check the primary source before reporting against it).
    pub gdp_yuan: f64,
    /// Population the rates are per; default the city's residents (`population.residents`).
    pub population: Option<f64>,
    /// Annual frequency of the event this run stands for (1/return period), per year.
    /// Default 1: the per-year KPIs equal the event values.
    pub annual_frequency: f64,
}

impl Default for IndicatorSpec {
    fn default() -> Self {
        Self {
            gdp_yuan: FUTIAN_GDP_2020_YUAN,
            population: None,
            annual_frequency: 1.0,
        }
    }
}

/// See [`IndicatorSpec::gdp_yuan`].
pub const FUTIAN_GDP_2020_YUAN: f64 = 470.4e9;

/// Sum of the KPIs whose name ends with `suffix` (one per hazard), excluding indicators.
fn sum_kpis(m: &Metrics, suffix: &str) -> f64 {
    m.kpis()
        .iter()
        .filter(|(k, _)| k.ends_with(suffix) && !k.starts_with("indicator."))
        .map(|(_, v)| v.value)
        .filter(|v| v.is_finite())
        .sum()
}

/// Write the `indicator.*` KPIs.
pub fn compute(spec: &IndicatorSpec, city: &City, m: &mut Metrics) {
    let pop = spec
        .population
        .or_else(|| m.kpis().get("population.residents").map(|k| k.value))
        .unwrap_or(0.0)
        .max(1.0);
    let deaths = sum_kpis(m, ".deaths");
    let fire_deaths = m.kpis().get("fire.deaths").map_or(0.0, |k| k.value);
    let loss = sum_kpis(m, ".direct_loss_yuan");
    let customer_hours = m
        .kpis()
        .get("lifelines.customer_hours_lost")
        .map_or(0.0, |k| k.value);
    let shelter_capacity: f64 = city
        .assets
        .iter()
        .filter(|a| a.kind == AssetKind::Shelter)
        .map(|a| a.capacity)
        .sum();
    let shelter_demand = m.kpis().get("crowd.people").map_or(0.0, |k| k.value);
    let f = spec.annual_frequency;
    let rows: [(&str, f64, &str, &str); 6] = [
        (
            "indicator.disaster_deaths_per_million",
            deaths / pop * 1e6,
            "per million",
            "deaths of all hazards (sum of *.deaths KPIs) per million residents; national target < 1 per year",
        ),
        (
            "indicator.fire_deaths_per_100k",
            fire_deaths / pop * 1e5,
            "per 100 000",
            "fire deaths per 100 000 residents",
        ),
        (
            "indicator.direct_loss_share_gdp_pct",
            loss / spec.gdp_yuan * 100.0,
            "% of GDP",
            "direct economic loss (sum of *.direct_loss_yuan KPIs) / GDP × 100; national target < 1 % per year",
        ),
        (
            "indicator.customer_hours_without_power",
            customer_hours,
            "customer·h",
            "customers without power × hours",
        ),
        (
            "indicator.shelter_demand_people",
            shelter_demand,
            "people",
            "people told to go to shelters",
        ),
        (
            "indicator.shelter_demand_to_capacity",
            if shelter_capacity > 0.0 {
                shelter_demand / shelter_capacity
            } else {
                0.0
            },
            "1",
            "shelter demand / total shelter capacity (> 1: not enough places)",
        ),
    ];
    for (name, v, unit, desc) in rows {
        m.set_kpi(name, v, unit, desc);
    }
    for (name, v, unit) in [
        (
            "indicator.disaster_deaths_per_million_per_year",
            deaths / pop * 1e6 * f,
            "per million per year",
        ),
        (
            "indicator.direct_loss_share_gdp_pct_per_year",
            loss / spec.gdp_yuan * 100.0 * f,
            "% of GDP per year",
        ),
        (
            "indicator.customer_hours_without_power_per_year",
            customer_hours * f,
            "customer·h per year",
        ),
    ] {
        m.set_kpi(
            name,
            v,
            unit,
            "event value × the scenario's annual frequency: sum over an event set for the expected annual value",
        );
    }
    m.set_kpi(
        "indicator.shelter_capacity_people",
        shelter_capacity,
        "people",
        "total capacity of the district's shelters",
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grid::GridSpec;

    #[test]
    fn rates_scale_with_population_and_frequency() {
        let city = City::flat(GridSpec::new(10, 10, 10.0));
        let mut m = Metrics::new(60.0);
        m.set_kpi("population.residents", 2_000_000.0, "people", "");
        m.set_kpi("fire.deaths", 4.0, "people", "");
        m.set_kpi("flood.deaths", 2.0, "people", "");
        m.set_kpi("flood.direct_loss_yuan", 4.704e9, "yuan", "");
        let spec = IndicatorSpec {
            annual_frequency: 0.1,
            ..IndicatorSpec::default()
        };
        compute(&spec, &city, &mut m);
        let k = |n: &str| m.kpis()[n].value;
        assert!((k("indicator.disaster_deaths_per_million") - 3.0).abs() < 1e-9);
        assert!((k("indicator.fire_deaths_per_100k") - 0.2).abs() < 1e-9);
        assert!((k("indicator.direct_loss_share_gdp_pct") - 1.0).abs() < 1e-9);
        assert!((k("indicator.disaster_deaths_per_million_per_year") - 0.3).abs() < 1e-9);
        assert_eq!(k("indicator.shelter_demand_to_capacity"), 0.0);
    }
}
