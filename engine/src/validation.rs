//! Shared shape of validation suites (`crucible validate <suite>`): each case yields
//! metrics with acceptance bands; the CLI prints the table, writes the report and plots.

use serde::Serialize;

/// One checked number of a validation case.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub case: String,
    pub metric: String,
    pub value: f64,
    /// Inclusive acceptance band.
    pub lo: f64,
    pub hi: f64,
    pub unit: String,
}

impl Check {
    pub fn new(case: &str, metric: &str, value: f64, lo: f64, hi: f64, unit: &str) -> Self {
        Self {
            case: case.into(),
            metric: metric.into(),
            value,
            lo,
            hi,
            unit: unit.into(),
        }
    }
    pub fn pass(&self) -> bool {
        self.value.is_finite() && self.value >= self.lo && self.value <= self.hi
    }
}

/// A series to plot with a case (e.g. simulated against reference depth).
#[derive(Debug, Clone, Serialize)]
pub struct Series {
    pub label: String,
    pub x: Vec<f64>,
    pub y: Vec<f64>,
}

/// A chart for a case: title, axis labels and series.
#[derive(Debug, Clone, Serialize)]
pub struct Figure {
    pub name: String,
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub series: Vec<Series>,
}

/// What one validation case produced.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CaseResult {
    pub checks: Vec<Check>,
    pub figures: Vec<Figure>,
    /// A paragraph for the report: what the case is and where its reference comes from.
    pub notes: String,
}

/// One validation case: a name and the function that runs it.
pub struct Case {
    pub name: &'static str,
    pub run: fn() -> CaseResult,
}

/// A named set of cases, run by `crucible validate <name>`.
pub struct Suite {
    pub name: &'static str,
    pub title: &'static str,
    pub cases: Vec<Case>,
}

/// For tests: run a case and fail with its table when a check is out of its band.
pub fn assert_case_passes(result: &CaseResult) {
    let failed: Vec<String> = result
        .checks
        .iter()
        .filter(|c| !c.pass())
        .map(|c| {
            format!(
                "{} / {}: {} not in [{}, {}] {}",
                c.case, c.metric, c.value, c.lo, c.hi, c.unit
            )
        })
        .collect();
    assert!(!result.checks.is_empty(), "the case checked nothing");
    assert!(failed.is_empty(), "out of band:\n{}", failed.join("\n"));
}
