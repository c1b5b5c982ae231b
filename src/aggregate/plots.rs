//! The batch's plots, drawn into `plots/` of the staged output folder. Each function
//! returns the plot files it drew (relative to the batch folder), in report order.

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::{Context, Result};
use crucible_engine::batch::stats::{exceedance, percentile, sorted_finite, spearman};
use crucible_viz::{Band, Bar, Chart, LineSeries, SeriesStyle, bar_chart, histogram, line_chart};

use super::tables::kpi_values;
use super::{Batch, slug};
use crate::commands::batch::run_dir;
use crate::output::Staged;
use crate::report::Section;
use crate::run_folder::TIMESERIES;

/// Most time-series plots in a report.
const MAX_TIME_SERIES: usize = 8;

/// Where to draw plot `stem` (`plots/STEM.png` and `.svg`), and its report path.
fn plot_path(staged: &Staged, stem: &str) -> Result<(std::path::PathBuf, String)> {
    let rel = format!("plots/{stem}");
    Ok((staged.path(&rel)?, format!("{rel}.png")))
}

/// Per KPI that varies: its exceedance curve per plan, and its histogram in the first
/// plan.
pub fn kpi_distributions(batch: &Batch, staged: &Staged) -> Result<Vec<String>> {
    let mut plots = Vec::new();
    for k in &batch.kpis {
        let curves: Vec<LineSeries> = batch
            .plans
            .iter()
            .filter_map(|plan| {
                let v = kpi_values(batch, plan, k);
                let varies = v.first().zip(v.last()).is_some_and(|(lo, hi)| hi > lo);
                varies.then(|| {
                    let e = exceedance(&v);
                    LineSeries {
                        label: plan.clone(),
                        x: e.iter().map(|p| p.0).collect(),
                        y: e.iter().map(|p| p.1).collect(),
                        style: SeriesStyle::Line,
                    }
                })
            })
            .collect();
        if curves.is_empty() {
            continue; // constant across runs: nothing to plot
        }
        let (path, rel) = plot_path(staged, &format!("exceedance_{}", slug(k)))?;
        let chart = Chart {
            title: format!("Exceedance probability of {k}"),
            x_label: k.clone(),
            y_label: "P(X ≥ x) across runs".into(),
            series: curves,
            ..Default::default()
        };
        line_chart(&chart, &path)?;
        plots.push(rel);
        let first = &batch.plans[0];
        let values: Vec<f64> = batch.of_plan(first).map(|r| r.kpi(k)).collect();
        let (path, rel) = plot_path(staged, &format!("histogram_{}", slug(k)))?;
        histogram(&format!("{k} ({first})"), k, &values, 20, &path)?;
        plots.push(rel);
    }
    Ok(plots)
}

/// The exceedance frequency curves of the loss KPI (`plots/return_period.png`).
pub fn return_periods(loss: &str, curves: Vec<LineSeries>, staged: &Staged) -> Result<String> {
    let (path, rel) = plot_path(staged, "return_period")?;
    let chart = Chart {
        title: format!("Exceedance frequency of {loss}"),
        x_label: "return period (years)".into(),
        y_label: loss.to_owned(),
        series: curves,
        ..Default::default()
    };
    line_chart(&chart, &path)?;
    Ok(rel)
}

/// One bar chart per plan compared with the first (plans without a difference have none).
pub fn comparisons(
    first: &str,
    bars: super::tables::ComparisonBars,
    staged: &Staged,
) -> Result<Vec<String>> {
    let mut plots = Vec::new();
    for (plan, bars) in bars.into_iter().filter(|(_, b)| !b.is_empty()) {
        let (path, rel) = plot_path(
            staged,
            &format!("comparison_{}_vs_{}", slug(&plan), slug(first)),
        )?;
        bar_chart(
            &format!("{plan} against {first} on the same seeds"),
            &format!("mean paired difference, % of {first}'s mean (95 % interval)"),
            &bars,
            &path,
        )?;
        plots.push(rel);
    }
    Ok(plots)
}

/// The KPI the sensitivity plot ranks parameters against: the batch's loss KPI, or the
/// first KPI that varies across runs.
fn sensitivity_target(batch: &Batch) -> Option<String> {
    batch.spec.spec.loss_kpi.clone().or_else(|| {
        batch
            .kpis
            .iter()
            .find(|k| {
                let v = sorted_finite(batch.runs.iter().map(|r| r.kpi(k)));
                v.len() > 2 && v[v.len() - 1] > v[0]
            })
            .cloned()
    })
}

/// Tornado: rank correlation of the target KPI with each sampled parameter, in the
/// first plan.
pub fn tornado(batch: &Batch, staged: &Staged) -> Result<Option<Section>> {
    let vary = &batch.spec.spec.vary;
    let Some(target) = sensitivity_target(batch) else {
        return Ok(None);
    };
    if vary.is_empty() {
        return Ok(None);
    }
    let runs: Vec<_> = batch.of_plan(&batch.plans[0]).collect();
    let y: Vec<f64> = runs.iter().map(|r| r.kpi(&target)).collect();
    let mut bars: Vec<Bar> = vary
        .iter()
        .map(|v| {
            let x: Vec<f64> = runs
                .iter()
                .map(|r| {
                    r.param(&v.path)
                        .and_then(serde_json::Value::as_f64)
                        .unwrap_or(f64::NAN)
                })
                .collect();
            Bar {
                label: v.path.clone(),
                value: spearman(&x, &y),
                interval: None,
            }
        })
        .filter(|b| b.value.is_finite())
        .collect();
    bars.sort_by(|a, b| b.value.abs().total_cmp(&a.value.abs()));
    if bars.is_empty() {
        return Ok(None);
    }
    let (path, rel) = plot_path(staged, "tornado")?;
    bar_chart(
        &format!("Sensitivity of {target}"),
        "Spearman rank correlation with the KPI",
        &bars,
        &path,
    )?;
    Ok(Some(Section::plots(
        &format!("Sensitivity of {target}"),
        vec![rel],
    )))
}

/// The metrics worth a time-series plot: those the standards judge, then every gauge
/// of the first finished run, each once.
fn plotted_metrics(batch: &Batch) -> Vec<String> {
    let mut names: Vec<String> = batch
        .spec
        .base
        .scenario
        .standards
        .iter()
        .map(|s| s.metric.clone())
        .collect();
    if let Some(s) = batch.runs.iter().find_map(|r| r.summary()) {
        names.extend(s.metric_definitions.iter().map(|d| d.name.clone()));
    }
    let mut seen = BTreeSet::new();
    names.retain(|m| seen.insert(m.clone()));
    names
}

/// A run's time series: header and rows.
type Sampled = (Vec<String>, Vec<Vec<f64>>);

/// The time series of every finished run of a plan.
fn series_of_plan(batch: &Batch, out: &Path, plan: &str) -> Result<Vec<Sampled>> {
    batch
        .finished_of_plan(plan)
        .map(|r| {
            let path = run_dir(out, r.index).join(TIMESERIES);
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            Ok(crucible_engine::metrics::parse_csv(&text))
        })
        .collect()
}

/// Median and 5–95 % band of metric `column` over `runs`, on the first run's times
/// (hours); None if no run has the metric.
fn band(runs: &[Sampled], metric: &str) -> Option<(Vec<f64>, [Vec<f64>; 3])> {
    let (head, first) = runs.first()?;
    let col = head.iter().position(|h| h == metric)?;
    let times: Vec<f64> = first
        .iter()
        .map(|row| row.first().map_or(f64::NAN, |t| t / 3600.0))
        .collect();
    let (mut lo, mut mid, mut hi) = (Vec::new(), Vec::new(), Vec::new());
    for t in 0..times.len() {
        let v = sorted_finite(
            runs.iter()
                .filter_map(|(_, rows)| rows.get(t).and_then(|row| row.get(col).copied())),
        );
        lo.push(percentile(&v, 5.0));
        mid.push(percentile(&v, 50.0));
        hi.push(percentile(&v, 95.0));
    }
    Some((times, [lo, mid, hi]))
}

/// Time series with percentile bands across runs, per plan: the first few metrics that
/// change over time or across runs.
pub fn time_series(batch: &Batch, out: &Path, staged: &Staged) -> Result<Vec<String>> {
    let per_plan: Vec<Vec<Sampled>> = batch
        .plans
        .iter()
        .map(|p| series_of_plan(batch, out, p))
        .collect::<Result<_>>()?;
    let mut plots = Vec::new();
    for m in plotted_metrics(batch) {
        if plots.len() >= MAX_TIME_SERIES {
            break;
        }
        let mut chart = Chart {
            title: format!("{m} across runs (median, 5–95 %)"),
            x_label: "time (h)".into(),
            y_label: m.clone(),
            ..Default::default()
        };
        let mut varies = false;
        for (plan, runs) in batch.plans.iter().zip(&per_plan) {
            let Some((times, [lo, mid, hi])) = band(runs, &m) else {
                continue;
            };
            varies |= mid.iter().any(|v| v.is_finite() && *v != mid[0]) || lo != hi;
            chart.bands.push(Band {
                label: format!("{plan} 5–95 %"),
                x: times.clone(),
                lo,
                hi,
            });
            chart.series.push(LineSeries {
                label: format!("{plan} median"),
                x: times,
                y: mid,
                style: SeriesStyle::Line,
            });
        }
        if chart.series.is_empty() || !varies {
            continue;
        }
        let (path, rel) = plot_path(staged, &format!("timeseries_{}", slug(&m)))?;
        line_chart(&chart, &path)?;
        plots.push(rel);
    }
    Ok(plots)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_follow_the_runs_and_skip_missing_metrics() {
        let run = |v: f64| -> Sampled {
            (
                vec!["t_s".into(), "depth".into()],
                vec![vec![0.0, 0.0], vec![3600.0, v]],
            )
        };
        let runs: Vec<Sampled> = (0..=20).map(|k| run(f64::from(k))).collect();
        let (times, [lo, mid, hi]) = band(&runs, "depth").unwrap();
        assert_eq!(times, [0.0, 1.0]);
        assert_eq!((lo[1], mid[1], hi[1]), (1.0, 10.0, 19.0));
        assert_eq!(mid[0], 0.0);
        assert!(band(&runs, "speed").is_none());
        assert!(band(&[], "depth").is_none());
    }
}
