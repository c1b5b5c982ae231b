//! Standards: rules a run is checked against at its end (metric, aggregate, comparison,
//! threshold, and the document the rule comes from).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::metrics::Metrics;

/// Which value of a gauge's history a rule compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Aggregate {
    #[default]
    Max,
    Min,
    Mean,
    Final,
}

/// How the value must compare with the threshold for the rule to hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum Comparison {
    #[serde(rename = "<=")]
    AtMost,
    #[serde(rename = "<")]
    Below,
    #[serde(rename = ">=")]
    AtLeast,
    #[serde(rename = ">")]
    Above,
}

impl Comparison {
    pub fn holds(self, value: f64, threshold: f64) -> bool {
        match self {
            Self::AtMost => value <= threshold,
            Self::Below => value < threshold,
            Self::AtLeast => value >= threshold,
            Self::Above => value > threshold,
        }
    }
}

/// A rule from a standard or plan, as written in the scenario file.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Standard {
    /// Short identifier, e.g. `waterlogging-100yr`.
    pub id: String,
    /// A gauge or KPI name, e.g. `flood.max_road_depth_m`.
    pub metric: String,
    /// For gauges: which value of the history to compare (KPIs are single values).
    #[serde(default)]
    pub aggregate: Aggregate,
    /// One of `<=`, `<`, `>=`, `>`.
    pub op: Comparison,
    pub threshold: f64,
    /// The document the rule comes from, e.g. `GB 51222-2017 §3.1.3`.
    pub source: String,
    #[serde(default)]
    pub description: String,
}

/// The outcome of one rule in one run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Verdict {
    pub id: String,
    pub metric: String,
    #[serde(deserialize_with = "crate::metrics::f64_or_nan")]
    pub value: f64,
    pub op: Comparison,
    #[serde(deserialize_with = "crate::metrics::f64_or_nan")]
    pub threshold: f64,
    pub pass: bool,
    pub source: String,
}

/// Evaluate every rule against a finished run's metrics. A rule whose metric was never
/// recorded fails (an unknown name is caught earlier, when the scenario is built).
pub fn evaluate(standards: &[Standard], metrics: &Metrics) -> Vec<Verdict> {
    standards
        .iter()
        .map(|s| {
            let value = metrics
                .kpis()
                .get(&s.metric)
                .map(|k| k.value)
                .or_else(|| {
                    metrics.stats(&s.metric).map(|st| match s.aggregate {
                        Aggregate::Max => st.max,
                        Aggregate::Min => st.min,
                        Aggregate::Mean => st.mean,
                        Aggregate::Final => st.last,
                    })
                })
                .unwrap_or(f64::NAN);
            Verdict {
                id: s.id.clone(),
                metric: s.metric.clone(),
                value,
                op: s.op,
                threshold: s.threshold,
                pass: value.is_finite() && s.op.holds(value, s.threshold),
                source: s.source.clone(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(metric: &str, aggregate: Aggregate, op: Comparison, threshold: f64) -> Standard {
        Standard {
            id: "r".into(),
            metric: metric.into(),
            aggregate,
            op,
            threshold,
            source: "test".into(),
            description: String::new(),
        }
    }

    #[test]
    fn rules_use_the_chosen_aggregate() {
        let mut m = Metrics::new(60.0);
        let d = m.declare("flood.depth_m", "m", "");
        for (i, v) in [0.05, 0.2, 0.1].into_iter().enumerate() {
            m.set(d, v);
            m.record(i as f64);
        }
        m.set_kpi("loss_yuan", 5.0, "yuan", "");
        let v = evaluate(
            &[
                rule("flood.depth_m", Aggregate::Max, Comparison::AtMost, 0.15),
                rule("flood.depth_m", Aggregate::Final, Comparison::AtMost, 0.15),
                rule("loss_yuan", Aggregate::Max, Comparison::Below, 5.0),
                rule("missing", Aggregate::Max, Comparison::AtMost, 1.0),
            ],
            &m,
        );
        let pass: Vec<bool> = v.iter().map(|v| v.pass).collect();
        assert_eq!(pass, vec![false, true, false, false]);
        assert_eq!(v[0].value, 0.2);
    }
}
