//! Batch aggregation: from the run folders to runs.csv, standards.csv, stats.csv, risk
//! and comparison tables, plots, maps and report.html. A pure function of the run
//! folders and the batch file, so shards merged equal the unsharded batch.
//!
//! Tables (`tables`) are pure functions of the runs; plots (`plots`) and maps (`maps`)
//! draw from the same runs; this module reads the runs, puts the sections of the report
//! together and writes everything at once (atomically, through the output folder).

mod maps;
mod plots;
mod tables;

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::{Result, bail};
use crucible_engine::batch::LoadedBatch;
use serde::Serialize;

use crate::commands::batch::{recorded, run_dir};
use crate::output::Staged;
use crate::report::Section;
use crate::run_folder::{RunRecord, pretty};

/// A complete batch as aggregation sees it: the batch file and every run read back.
pub struct Batch<'a> {
    pub spec: &'a LoadedBatch,
    pub runs: &'a [RunRecord],
    /// Plan names in batch order (the base scenario's plan if the batch has none).
    pub plans: Vec<String>,
    /// Swept, then sampled, parameter paths.
    pub params: Vec<String>,
    /// Every KPI any run reported, sorted.
    pub kpis: BTreeSet<String>,
}

impl<'a> Batch<'a> {
    pub fn new(spec: &'a LoadedBatch, runs: &'a [RunRecord]) -> Self {
        let plans = if spec.spec.plans.is_empty() {
            vec![spec.base.scenario.plan.name.clone()]
        } else {
            spec.spec.plans.iter().map(|p| p.name.clone()).collect()
        };
        let params = spec
            .spec
            .sweep
            .iter()
            .map(|s| s.path.clone())
            .chain(spec.spec.vary.iter().map(|v| v.path.clone()))
            .collect();
        let kpis = runs
            .iter()
            .filter_map(RunRecord::summary)
            .flat_map(|s| s.kpis.keys().cloned())
            .collect();
        Self {
            spec,
            runs,
            plans,
            params,
            kpis,
        }
    }

    /// The runs of a plan, failed ones included.
    pub fn of_plan<'b>(&'b self, plan: &'b str) -> impl Iterator<Item = &'a RunRecord> + 'b {
        self.runs.iter().filter(move |r| r.plan() == plan)
    }

    /// The finished runs of a plan.
    pub fn finished_of_plan<'b>(
        &'b self,
        plan: &'b str,
    ) -> impl Iterator<Item = &'a RunRecord> + 'b {
        self.of_plan(plan).filter(|r| r.summary().is_some())
    }

    pub fn failed_runs(&self) -> usize {
        self.runs.iter().filter(|r| r.summary().is_none()).count()
    }
}

/// Read every run of the batch; all must be recorded.
pub fn read_runs(b: &LoadedBatch, out: &Path) -> Result<Vec<RunRecord>> {
    let missing: Vec<u64> = (0..b.total_runs()).filter(|k| !recorded(out, *k)).collect();
    if let Some(first) = missing.first() {
        bail!(
            "{} of {} runs are missing (first: {first}); finish them with --resume",
            missing.len(),
            b.total_runs(),
        );
    }
    (0..b.total_runs())
        .map(|k| RunRecord::read(&run_dir(out, k), k))
        .collect()
}

/// `batch-summary.json`.
#[derive(Serialize)]
struct BatchSummary<'a> {
    batch: &'a str,
    failed: usize,
    kpis: &'a BTreeSet<String>,
    parameters: &'a [String],
    plans: &'a [String],
    runs: usize,
    scenario: &'a str,
}

/// Aggregate a complete batch folder. Returns a short text summary for the terminal.
pub fn aggregate(b: &LoadedBatch, out: &Path) -> Result<String> {
    let runs = read_runs(b, out)?;
    let batch = Batch::new(b, &runs);
    let staged = Staged::new(out)?;
    let mut sections = Vec::new();

    staged.write("runs.csv", tables::runs_csv(&batch)?)?;
    let (standards, lines) = tables::standards(&batch)?;
    staged.write("standards.csv", &standards.csv)?;
    sections.push(Section::table("Standards", standards.rows));

    let stats = tables::kpi_stats(&batch)?;
    staged.write("stats.csv", &stats.csv)?;
    let mut kpis = Section::table("KPIs across runs", stats.rows);
    kpis.plots = plots::kpi_distributions(&batch, &staged)?;
    sections.push(kpis);

    if let (Some(_), Some(loss)) = (b.spec.events_per_year, &b.spec.loss_kpi) {
        let (risk, curves) = tables::risk(&batch, loss)?;
        staged.write("risk.csv", &risk.csv)?;
        let mut section = Section::table("Risk (event set)", risk.rows);
        section.plots = vec![plots::return_periods(loss, curves, &staged)?];
        sections.push(section);
    }

    if batch.plans.len() >= 2 {
        let (comparison, bars) = tables::comparison(&batch)?;
        staged.write("comparison.csv", &comparison.csv)?;
        let mut section =
            Section::table("Plan comparison (common random numbers)", comparison.rows);
        section.plots = plots::comparisons(&batch.plans[0], bars, &staged)?;
        sections.push(section);
    }

    sections.extend(plots::tornado(&batch, &staged)?);
    sections.push(Section::plots(
        "Time series",
        plots::time_series(&batch, out, &staged)?,
    ));
    sections.push(Section::plots(
        "Maps (mean and maximum across runs)",
        maps::mean_and_max(&batch, out, &staged)?,
    ));

    let summary = BatchSummary {
        batch: &b.spec.name,
        failed: batch.failed_runs(),
        kpis: &batch.kpis,
        parameters: &batch.params,
        plans: &batch.plans,
        runs: runs.len(),
        scenario: &b.base.scenario.name,
    };
    staged.write("batch-summary.json", pretty(&summary)?)?;
    crate::report::write_html(&staged, b, runs.len(), batch.failed_runs(), &sections)?;
    staged.commit()?;
    Ok(terminal_summary(&batch, out, &lines))
}

/// What the terminal shows: the batch, then one line per plan and standard.
fn terminal_summary(batch: &Batch, out: &Path, lines: &[String]) -> String {
    let mut text = format!(
        "{}: {} runs ({} failed) in {}\n",
        batch.spec.spec.name,
        batch.runs.len(),
        batch.failed_runs(),
        out.display()
    );
    for l in lines {
        text.push_str(l);
        text.push('\n');
    }
    text.push_str(&format!("report: {}\n", out.join("report.html").display()));
    text
}

/// Lower-case ASCII letters and digits, everything else `_` (file names of plots).
pub fn slug(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod test_batch {
    //! Batches made in code for the tests of the aggregation functions.

    use crucible_engine::batch::LoadedBatch;
    use crucible_engine::run::Summary;

    use crate::run_folder::{Param, PlannedRun, RunRecord};

    pub fn small() -> LoadedBatch {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        crucible_engine::batch::load(&root.join("tests/data/small-batch.toml")).unwrap()
    }

    /// A finished run of `plan` with one KPI `loss` and a verdict on `wind-under-gale`.
    pub fn run(index: u64, plan: &str, loss: f64, speed: f64) -> RunRecord {
        let summary: Summary = serde_json::from_value(serde_json::json!({
            "scenario": "s", "plan": plan, "seed": index, "crucible_version": "0",
            "simulated_duration_s": 60.0, "ticks": 1, "plugins": ["wind"],
            "kpis": {"loss": {"value": loss, "unit": "yuan", "description": ""}},
            "standards": [{"id": "wind-under-gale", "metric": "wind.speed_m_s", "value": speed,
                           "op": "<", "threshold": 17.2, "pass": speed < 17.2, "source": "WMO"}],
            "metrics": {}, "metric_definitions": [], "events_by_kind": {}
        }))
        .unwrap();
        RunRecord {
            index,
            planned: PlannedRun {
                combo: 0,
                frequency: Some(0.5),
                index,
                params: vec![Param {
                    path: "hazards[0].speed_m_s".into(),
                    value: serde_json::json!(speed),
                }],
                plan: plan.into(),
                replicate: index,
                seed: 100 + index,
            },
            outcome: Ok(summary),
        }
    }

    pub fn failed(index: u64, plan: &str) -> RunRecord {
        let mut r = run(index, plan, 0.0, 0.0);
        r.outcome = Err("NaN in the flood".into());
        r
    }
}
