//! The metrics recorder: named gauges set by plugins every tick, sampled into a time
//! series at a fixed interval, with exact per-tick statistics for standards and KPIs.

use std::collections::BTreeMap;

use bevy_ecs::prelude::*;
use serde::{Deserialize, Deserializer, Serialize};

/// Handle to a declared gauge, cheap to copy into a plugin's resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MetricId(usize);

/// What a gauge measures.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MetricDef {
    pub name: String,
    pub unit: String,
    pub description: String,
}

/// Exact statistics of a gauge over every tick (not only the sampled ones).
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct MetricStats {
    #[serde(deserialize_with = "f64_or_nan")]
    pub min: f64,
    #[serde(deserialize_with = "f64_or_nan")]
    pub max: f64,
    #[serde(deserialize_with = "f64_or_nan")]
    pub mean: f64,
    #[serde(rename = "final", deserialize_with = "f64_or_nan")]
    pub last: f64,
    /// Time of the maximum, s.
    #[serde(deserialize_with = "f64_or_nan")]
    pub t_max: f64,
}

/// A scalar result of a run, e.g. direct loss or deaths.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Kpi {
    #[serde(deserialize_with = "f64_or_nan")]
    pub value: f64,
    pub unit: String,
    pub description: String,
}

/// JSON has no NaN: serde_json writes a NaN as `null`, so reading a summary back turns
/// `null` into NaN again (a KPI nobody could compute stays "no value").
pub fn f64_or_nan<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

/// What kind of output a hazard reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OutputKind {
    /// A gauge set every tick (a column of `timeseries.csv`).
    Gauge,
    /// A scalar result of the run (`summary.json` `kpis`).
    Kpi,
    /// An event kind (`events.jsonl`, `source.kind`).
    Event,
    /// A raster written to `maps/`.
    Map,
}

/// One row of a hazard's outputs table (its `outputs.rs`): the single place a gauge,
/// KPI, event kind or map is named and described, so declarations, docs and drill rules
/// read the same text. A name with a per-entity part (a shelter, a gate) writes it as
/// `{id}` and says so in the description.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct OutputDef {
    pub kind: OutputKind,
    pub name: &'static str,
    pub unit: &'static str,
    pub description: &'static str,
}

#[derive(Resource, Debug)]
pub struct Metrics {
    interval: f64,
    next_sample: f64,
    defs: Vec<MetricDef>,
    current: Vec<f64>,
    sum: Vec<f64>,
    min: Vec<f64>,
    max: Vec<f64>,
    t_max: Vec<f64>,
    ticks: u64,
    times: Vec<f64>,
    rows: Vec<Vec<f64>>,
    kpis: BTreeMap<String, Kpi>,
}

impl Metrics {
    /// A recorder sampling every `interval` seconds of simulated time (and at t = 0).
    pub fn new(interval: f64) -> Self {
        Self {
            interval,
            next_sample: 0.0,
            defs: Vec::new(),
            current: Vec::new(),
            sum: Vec::new(),
            min: Vec::new(),
            max: Vec::new(),
            t_max: Vec::new(),
            ticks: 0,
            times: Vec::new(),
            rows: Vec::new(),
            kpis: BTreeMap::new(),
        }
    }

    /// Declare a gauge (at build time). Names are dotted, with the unit as suffix:
    /// `flood.flooded_area_m2`. Declaring a name twice returns the first handle.
    pub fn declare(&mut self, name: &str, unit: &str, description: &str) -> MetricId {
        if let Some(i) = self.defs.iter().position(|d| d.name == name) {
            return MetricId(i);
        }
        self.defs.push(MetricDef {
            name: name.to_owned(),
            unit: unit.to_owned(),
            description: description.to_owned(),
        });
        self.current.push(0.0);
        self.sum.push(0.0);
        self.min.push(f64::INFINITY);
        self.max.push(f64::NEG_INFINITY);
        self.t_max.push(0.0);
        MetricId(self.defs.len() - 1)
    }

    /// Declare a gauge from a hazard's outputs table.
    pub fn declare_output(&mut self, def: &OutputDef) -> MetricId {
        debug_assert_eq!(def.kind, OutputKind::Gauge, "{} is not a gauge", def.name);
        self.declare(def.name, def.unit, def.description)
    }

    /// Record a KPI from a hazard's outputs table.
    pub fn set_kpi_output(&mut self, def: &OutputDef, value: f64) {
        debug_assert_eq!(def.kind, OutputKind::Kpi, "{} is not a KPI", def.name);
        self.set_kpi(def.name, value, def.unit, def.description);
    }

    /// Set a gauge's value for this tick. It keeps the value until set again.
    pub fn set(&mut self, id: MetricId, value: f64) {
        self.current[id.0] = value;
    }

    pub fn get(&self, id: MetricId) -> f64 {
        self.current[id.0]
    }

    /// Record a final scalar result.
    pub fn set_kpi(&mut self, name: &str, value: f64, unit: &str, description: &str) {
        self.kpis.insert(
            name.to_owned(),
            Kpi {
                value,
                unit: unit.to_owned(),
                description: description.to_owned(),
            },
        );
    }

    pub fn kpis(&self) -> &BTreeMap<String, Kpi> {
        &self.kpis
    }

    pub fn defs(&self) -> &[MetricDef] {
        &self.defs
    }

    /// Whether `name` is a declared gauge or a KPI.
    pub fn knows(&self, name: &str) -> bool {
        self.kpis.contains_key(name) || self.defs.iter().any(|d| d.name == name)
    }

    /// Statistics of a gauge, if declared and updated at least once.
    pub fn stats(&self, name: &str) -> Option<MetricStats> {
        let i = self.defs.iter().position(|d| d.name == name)?;
        (self.ticks > 0).then(|| MetricStats {
            min: self.min[i],
            max: self.max[i],
            mean: self.sum[i] / self.ticks as f64,
            last: self.current[i],
            t_max: self.t_max[i],
        })
    }

    /// Statistics of every gauge, by name.
    pub fn all_stats(&self) -> BTreeMap<String, MetricStats> {
        self.defs
            .iter()
            .filter_map(|d| Some((d.name.clone(), self.stats(&d.name)?)))
            .collect()
    }

    /// The sampled series: sample times (s) and one row of gauge values per time.
    pub fn series(&self) -> (&[f64], &[Vec<f64>]) {
        (&self.times, &self.rows)
    }

    /// Record the end of a tick at time `t`: update statistics, sample when due.
    pub fn record(&mut self, t: f64) {
        self.ticks += 1;
        for i in 0..self.current.len() {
            let v = self.current[i];
            self.sum[i] += v;
            self.min[i] = self.min[i].min(v);
            if v > self.max[i] {
                self.max[i] = v;
                self.t_max[i] = t;
            }
        }
        if t + 1e-9 >= self.next_sample {
            self.times.push(t);
            self.rows.push(self.current.clone());
            // Next sample on the interval grid, even if the tick overshot it.
            self.next_sample = ((t / self.interval).floor() + 1.0) * self.interval;
        }
    }

    /// The time series as CSV: `t_s` then one column per gauge, in declaration order.
    pub fn to_csv(&self) -> String {
        let mut out = String::from("t_s");
        for d in &self.defs {
            out.push(',');
            out.push_str(&d.name);
        }
        out.push('\n');
        for (t, row) in self.times.iter().zip(&self.rows) {
            out.push_str(&format!("{t}"));
            for v in row {
                out.push_str(&format!(",{v}"));
            }
            out.push('\n');
        }
        out
    }
}

/// Reads a time series written by [`Metrics::to_csv`] back: the header's column names and
/// one row of values per line (a cell that is not a number as NaN).
pub fn parse_csv(text: &str) -> (Vec<String>, Vec<Vec<f64>>) {
    let mut lines = text.lines();
    let header = lines
        .next()
        .unwrap_or_default()
        .split(',')
        .map(str::to_owned)
        .collect();
    let rows = lines
        .map(|l| {
            l.split(',')
                .map(|v| v.parse().unwrap_or(f64::NAN))
                .collect()
        })
        .collect();
    (header, rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_on_interval_and_keeps_exact_stats() {
        let mut m = Metrics::new(10.0);
        let a = m.declare("a.x_m", "m", "test");
        for tick in 1..=25 {
            m.set(a, if tick == 7 { 100.0 } else { tick as f64 });
            m.record(tick as f64 * 2.0);
        }
        let (times, rows) = m.series();
        assert_eq!(times, &[2.0, 10.0, 20.0, 30.0, 40.0, 50.0]);
        assert_eq!(rows[1][0], 5.0);
        let s = m.stats("a.x_m").unwrap();
        assert_eq!(s.max, 100.0, "the peak between samples is kept");
        assert_eq!(s.t_max, 14.0);
        assert_eq!(s.last, 25.0);
        assert!(m.to_csv().starts_with("t_s,a.x_m\n2,1\n"));
    }
}
