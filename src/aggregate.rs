//! Batch aggregation: from the run folders to runs.csv, standards.csv, stats.csv,
//! risk and comparison tables, plots and report.html. A pure function of the run
//! folders and the batch file, so shards merged equal the unsharded batch.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;

use crate::report::Section;
use anyhow::{Context, Result, bail};
use crucible_engine::batch::LoadedBatch;
use crucible_engine::batch::stats::{
    average_annual, exceedance, frequency_curve, paired_difference, percentile, sorted_finite,
    spearman, wilson,
};
use crucible_engine::grid::{GridSpec, Raster, RasterKind};
use crucible_engine::standards::Comparison;
use crucible_viz::{Band, Bar, Chart, LineSeries, SeriesStyle, bar_chart, histogram, line_chart};
use serde_json::Value;

/// One run as read back from its folder.
pub struct RunRecord {
    pub index: u64,
    pub replicate: u64,
    pub seed: u64,
    pub plan: String,
    pub params: Vec<(String, Value)>,
    pub frequency: Option<f64>,
    /// `summary.json`, or None if the run failed.
    pub summary: Option<Value>,
    pub error: Option<String>,
}

impl RunRecord {
    fn kpi(&self, name: &str) -> f64 {
        self.summary
            .as_ref()
            .and_then(|s| s["kpis"][name]["value"].as_f64())
            .unwrap_or(f64::NAN)
    }
    fn verdict(&self, id: &str) -> Option<(bool, f64)> {
        let s = self.summary.as_ref()?;
        let v = s["standards"].as_array()?.iter().find(|v| v["id"] == id)?;
        Some((
            v["pass"].as_bool()?,
            v["value"].as_f64().unwrap_or(f64::NAN),
        ))
    }
}

fn read_json(p: &Path) -> Result<Value> {
    serde_json::from_str(
        &std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?,
    )
    .with_context(|| format!("{} is not valid JSON", p.display()))
}

/// Check that a recorded run folder can be aggregated: its JSON files parse and every
/// map file has the size its index gives. Lets `merge` refuse a corrupt shard before it
/// writes anything.
pub fn check_run_dir(d: &Path) -> Result<()> {
    read_json(&d.join("run.json"))?;
    if !d.join("summary.json").exists() {
        read_json(&d.join("failed.json"))?;
        return Ok(());
    }
    read_json(&d.join("summary.json"))?;
    let index_path = d.join("maps/index.json");
    if !index_path.exists() {
        return Ok(());
    }
    for m in read_json(&index_path)?.as_array().into_iter().flatten() {
        let name = m["name"].as_str().unwrap_or_default();
        let (nx, ny) = (m["nx"].as_u64(), m["ny"].as_u64());
        let f32_path = d.join(format!("maps/{name}.f32"));
        let len = std::fs::metadata(&f32_path).map(|m| m.len()).ok();
        let want = nx
            .zip(ny)
            .and_then(|(x, y)| x.checked_mul(y))
            .and_then(|c| c.checked_mul(4));
        if name.is_empty() || name.contains(['/', '\\']) || want.is_none() || want != len {
            bail!(
                "{}: map `{name}` ({:?} × {:?} cells) does not match {}",
                index_path.display(),
                nx,
                ny,
                f32_path.display()
            );
        }
    }
    Ok(())
}

/// Read every run of the batch; all must be recorded.
pub fn read_runs(b: &LoadedBatch, out: &Path) -> Result<Vec<RunRecord>> {
    let mut runs = Vec::new();
    let mut missing = Vec::new();
    for k in 0..b.total_runs() {
        let d = out.join("runs").join(format!("{k:06}"));
        if !(d.join("summary.json").exists() || d.join("failed.json").exists()) {
            missing.push(k);
            continue;
        }
        let r = read_json(&d.join("run.json"))?;
        let summary = if d.join("summary.json").exists() {
            Some(read_json(&d.join("summary.json"))?)
        } else {
            None
        };
        let error = if summary.is_none() {
            read_json(&d.join("failed.json"))?["error"]
                .as_str()
                .map(str::to_owned)
        } else {
            None
        };
        runs.push(RunRecord {
            index: k,
            replicate: r["replicate"].as_u64().unwrap_or(0),
            seed: r["seed"].as_u64().unwrap_or(0),
            plan: r["plan"].as_str().unwrap_or_default().to_owned(),
            params: r["params"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|p| {
                            (
                                p["path"].as_str().unwrap_or_default().to_owned(),
                                p["value"].clone(),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default(),
            frequency: r["frequency"].as_f64(),
            summary,
            error,
        });
    }
    if !missing.is_empty() {
        bail!(
            "{} of {} runs are missing (first: {}); finish them with --resume",
            missing.len(),
            b.total_runs(),
            missing[0]
        );
    }
    Ok(runs)
}

/// A run's time series: header and rows.
type Sampled = (Vec<String>, Vec<Vec<f64>>);

fn num(v: f64) -> String {
    if v.is_finite() {
        format!("{v}")
    } else {
        String::new()
    }
}

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn numeric(v: &Value) -> f64 {
    v.as_f64().unwrap_or(f64::NAN)
}

fn slug(s: &str) -> String {
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

/// Aggregate a complete batch folder. Returns a short text summary for the terminal.
pub fn aggregate(b: &LoadedBatch, out: &Path) -> Result<String> {
    let runs = read_runs(b, out)?;
    let plans: Vec<String> = if b.spec.plans.is_empty() {
        vec![b.base.scenario.plan.name.clone()]
    } else {
        b.spec.plans.iter().map(|p| p.name.clone()).collect()
    };
    let param_paths: Vec<String> = b
        .spec
        .sweep
        .iter()
        .map(|s| s.path.clone())
        .chain(b.spec.vary.iter().map(|v| v.path.clone()))
        .collect();
    let kpis: BTreeSet<String> = runs
        .iter()
        .filter_map(|r| {
            r.summary.as_ref()?["kpis"]
                .as_object()
                .map(|o| o.keys().cloned().collect::<Vec<_>>())
        })
        .flatten()
        .collect();
    let standards = &b.base.scenario.standards;
    let plots_dir = out.join("plots");
    std::fs::create_dir_all(&plots_dir)?;
    let mut sections: Vec<Section> = Vec::new();

    // runs.csv
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> = ["index", "replicate", "plan", "seed", "status"]
        .map(String::from)
        .to_vec();
    header.extend(param_paths.iter().cloned());
    header.push("frequency_per_year".into());
    header.extend(kpis.iter().cloned());
    header.extend(standards.iter().map(|s| format!("pass:{}", s.id)));
    header.push("error".into());
    w.write_record(&header)?;
    for r in &runs {
        let mut row = vec![
            r.index.to_string(),
            r.replicate.to_string(),
            r.plan.clone(),
            r.seed.to_string(),
        ];
        row.push(if r.summary.is_some() {
            "ok".into()
        } else {
            "failed".into()
        });
        for p in &param_paths {
            row.push(
                r.params
                    .iter()
                    .find(|(q, _)| q == p)
                    .map(|(_, v)| value_text(v))
                    .unwrap_or_default(),
            );
        }
        row.push(r.frequency.map(num).unwrap_or_default());
        row.extend(kpis.iter().map(|k| num(r.kpi(k))));
        row.extend(standards.iter().map(|s| match r.verdict(&s.id) {
            Some((p, _)) => (p as u8).to_string(),
            None => String::new(),
        }));
        row.push(r.error.clone().unwrap_or_default());
        w.write_record(&row)?;
    }
    std::fs::write(out.join("runs.csv"), w.into_inner()?)?;

    // standards.csv: pass probability per plan with a Wilson interval, and the worst runs.
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "plan",
        "standard",
        "metric",
        "op",
        "threshold",
        "source",
        "runs",
        "passed",
        "p_pass",
        "lo95",
        "hi95",
        "worst_runs",
    ])?;
    let mut std_table = vec![
        [
            "plan",
            "standard",
            "P(pass)",
            "95 % interval",
            "runs",
            "worst runs",
            "source",
        ]
        .map(String::from)
        .to_vec(),
    ];
    let mut terminal = String::new();
    let failed_runs = runs.iter().filter(|r| r.summary.is_none()).count();
    let _ = writeln!(
        terminal,
        "{}: {} runs ({} failed) in {}",
        b.spec.name,
        runs.len(),
        failed_runs,
        out.display()
    );
    for plan in &plans {
        let of_plan: Vec<&RunRecord> = runs
            .iter()
            .filter(|r| &r.plan == plan && r.summary.is_some())
            .collect();
        for s in standards {
            let mut vals: Vec<(u64, bool, f64)> = of_plan
                .iter()
                .filter_map(|r| r.verdict(&s.id).map(|(p, v)| (r.index, p, v)))
                .collect();
            let n = vals.len() as u64;
            let passed = vals.iter().filter(|v| v.1).count() as u64;
            let (p, lo, hi) = wilson(passed, n);
            // Worst: furthest on the failing side of the threshold.
            let sign = match s.op {
                Comparison::AtMost | Comparison::Below => -1.0,
                Comparison::AtLeast | Comparison::Above => 1.0,
            };
            vals.sort_by(|a, b| (sign * a.2).total_cmp(&(sign * b.2)).then(a.0.cmp(&b.0)));
            let worst: Vec<String> = vals
                .iter()
                .filter(|v| !v.1)
                .take(3)
                .map(|v| v.0.to_string())
                .collect();
            let op = serde_json::to_value(s.op)?
                .as_str()
                .unwrap_or_default()
                .to_owned();
            w.write_record([
                plan.clone(),
                s.id.clone(),
                s.metric.clone(),
                op.clone(),
                num(s.threshold),
                s.source.clone(),
                n.to_string(),
                passed.to_string(),
                num(p),
                num(lo),
                num(hi),
                worst.join(";"),
            ])?;
            std_table.push(vec![
                plan.clone(),
                format!("{} ({} {} {})", s.id, s.metric, op, s.threshold),
                format!("{:.3}", p),
                format!("{lo:.3}–{hi:.3}"),
                n.to_string(),
                worst.join(", "),
                s.source.clone(),
            ]);
            let _ = writeln!(
                terminal,
                "  [{plan}] {:<30} P(pass) = {p:.3} (95 % {lo:.3}–{hi:.3}, {n} runs)",
                s.id
            );
        }
    }
    std::fs::write(out.join("standards.csv"), w.into_inner()?)?;
    sections.push(Section {
        title: "Standards".into(),
        table: std_table,
        plots: Vec::new(),
    });

    // stats.csv and per-KPI plots.
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "plan", "kpi", "n", "mean", "sd", "min", "p5", "p25", "p50", "p75", "p95", "max",
    ])?;
    let mut stats_table = vec![
        ["plan", "KPI", "mean", "p5", "p50", "p95", "max"]
            .map(String::from)
            .to_vec(),
    ];
    let mut kpi_plots = Vec::new();
    for k in &kpis {
        let mut curves = Vec::new();
        for plan in &plans {
            let v = sorted_finite(runs.iter().filter(|r| &r.plan == plan).map(|r| r.kpi(k)));
            if v.is_empty() {
                continue;
            }
            let n = v.len() as f64;
            let mean = v.iter().sum::<f64>() / n;
            let sd = if n > 1.0 {
                (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
            } else {
                0.0
            };
            let q = |p| percentile(&v, p);
            w.write_record([
                plan.clone(),
                k.clone(),
                v.len().to_string(),
                num(mean),
                num(sd),
                num(v[0]),
                num(q(5.0)),
                num(q(25.0)),
                num(q(50.0)),
                num(q(75.0)),
                num(q(95.0)),
                num(v[v.len() - 1]),
            ])?;
            stats_table.push(vec![
                plan.clone(),
                k.clone(),
                fmt(mean),
                fmt(q(5.0)),
                fmt(q(50.0)),
                fmt(q(95.0)),
                fmt(v[v.len() - 1]),
            ]);
            if v[v.len() - 1] > v[0] {
                let e = exceedance(&v);
                curves.push(LineSeries {
                    label: plan.clone(),
                    x: e.iter().map(|p| p.0).collect(),
                    y: e.iter().map(|p| p.1).collect(),
                    style: SeriesStyle::Line,
                });
            }
        }
        if curves.is_empty() {
            continue; // constant across runs: nothing to plot
        }
        let stem = plots_dir.join(format!("exceedance_{}", slug(k)));
        line_chart(
            &Chart {
                title: format!("Exceedance probability of {k}"),
                x_label: k.clone(),
                y_label: "P(X ≥ x) across runs".into(),
                series: curves,
                ..Default::default()
            },
            &stem,
        )?;
        kpi_plots.push(format!("plots/exceedance_{}.png", slug(k)));
        let values: Vec<f64> = runs
            .iter()
            .filter(|r| r.plan == plans[0])
            .map(|r| r.kpi(k))
            .collect();
        histogram(
            &format!("{k} ({})", plans[0]),
            k,
            &values,
            20,
            &plots_dir.join(format!("histogram_{}", slug(k))),
        )?;
        kpi_plots.push(format!("plots/histogram_{}.png", slug(k)));
    }
    std::fs::write(out.join("stats.csv"), w.into_inner()?)?;
    sections.push(Section {
        title: "KPIs across runs".into(),
        table: stats_table,
        plots: kpi_plots,
    });

    // Risk: exceedance frequency curve and average annual loss for event sets.
    if let (Some(_), Some(loss)) = (b.spec.events_per_year, &b.spec.loss_kpi) {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(["plan", "return_period_years", loss.as_str()])?;
        let mut table = vec![vec![
            "plan".to_string(),
            format!("average annual {loss}"),
            "10-yr".into(),
            "100-yr".into(),
        ]];
        let mut series = Vec::new();
        for plan in &plans {
            let of: Vec<&RunRecord> = runs.iter().filter(|r| &r.plan == plan).collect();
            let imp: Vec<f64> = of.iter().map(|r| r.kpi(loss)).collect();
            let freq: Vec<f64> = of.iter().map(|r| r.frequency.unwrap_or(0.0)).collect();
            let curve = frequency_curve(&imp, &freq);
            for (rp, i) in &curve {
                w.write_record([plan.clone(), num(*rp), num(*i)])?;
            }
            let at = |t: f64| curve.iter().find(|c| c.0 >= t).map_or(f64::NAN, |c| c.1);
            table.push(vec![
                plan.clone(),
                fmt(average_annual(&imp, &freq)),
                fmt(at(10.0)),
                fmt(at(100.0)),
            ]);
            series.push(LineSeries {
                label: plan.clone(),
                x: curve.iter().map(|c| c.0).collect(),
                y: curve.iter().map(|c| c.1).collect(),
                style: SeriesStyle::Line,
            });
        }
        std::fs::write(out.join("risk.csv"), w.into_inner()?)?;
        line_chart(
            &Chart {
                title: format!("Exceedance frequency of {loss}"),
                x_label: "return period (years)".into(),
                y_label: loss.clone(),
                series,
                ..Default::default()
            },
            &plots_dir.join("return_period"),
        )?;
        sections.push(Section {
            title: "Risk (event set)".into(),
            table,
            plots: vec!["plots/return_period.png".into()],
        });
    }

    // Plan comparison on common random numbers.
    if plans.len() >= 2 {
        let n_sweep = b.combos() / plans.len() as u64;
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record([
            "plan_a",
            "plan_b",
            "kpi",
            "pairs",
            "mean_difference",
            "lo95",
            "hi95",
        ])?;
        let mut rows = vec![
            [
                "comparison",
                "KPI",
                "mean difference (B − A)",
                "95 % interval",
                "pairs",
            ]
            .map(String::from)
            .to_vec(),
        ];
        let mut plots = Vec::new();
        for (pb, plan_b) in plans.iter().enumerate().skip(1) {
            let mut bars = Vec::new();
            for k in &kpis {
                let (mut a, mut bv) = (Vec::new(), Vec::new());
                for r in runs.iter().filter(|r| r.plan == plans[0]) {
                    let partner = r.index + pb as u64 * n_sweep * b.spec.runs;
                    if let Some(rb) = runs.get(partner as usize) {
                        a.push(r.kpi(k));
                        bv.push(rb.kpi(k));
                    }
                }
                let (m, lo, hi, n) = paired_difference(&a, &bv);
                w.write_record([
                    plans[0].clone(),
                    plan_b.clone(),
                    k.clone(),
                    n.to_string(),
                    num(m),
                    num(lo),
                    num(hi),
                ])?;
                rows.push(vec![
                    format!("{plan_b} − {}", plans[0]),
                    k.clone(),
                    fmt(m),
                    format!("{}–{}", fmt(lo), fmt(hi)),
                    n.to_string(),
                ]);
                let base = a.iter().filter(|x| x.is_finite()).sum::<f64>() / a.len().max(1) as f64;
                if m.is_finite() && m != 0.0 && base.abs() > 0.0 {
                    bars.push(Bar {
                        label: k.clone(),
                        value: 100.0 * m / base.abs(),
                        interval: Some((100.0 * lo / base.abs(), 100.0 * hi / base.abs())),
                    });
                }
            }
            if !bars.is_empty() {
                let stem = format!("comparison_{}_vs_{}", slug(plan_b), slug(&plans[0]));
                bar_chart(
                    &format!("{plan_b} against {} on the same seeds", plans[0]),
                    &format!(
                        "mean paired difference, % of {}'s mean (95 % interval)",
                        plans[0]
                    ),
                    &bars,
                    &plots_dir.join(&stem),
                )?;
                plots.push(format!("plots/{stem}.png"));
            }
        }
        std::fs::write(out.join("comparison.csv"), w.into_inner()?)?;
        sections.push(Section {
            title: "Plan comparison (common random numbers)".into(),
            table: rows,
            plots,
        });
    }

    // Tornado: rank correlation of the key KPI with each sampled parameter.
    let target = b.spec.loss_kpi.clone().or_else(|| {
        kpis.iter()
            .find(|k| {
                let v = sorted_finite(runs.iter().map(|r| r.kpi(k)));
                v.len() > 2 && v[v.len() - 1] > v[0]
            })
            .cloned()
    });
    if let Some(target) = target
        && !b.spec.vary.is_empty()
    {
        let of: Vec<&RunRecord> = runs.iter().filter(|r| r.plan == plans[0]).collect();
        let y: Vec<f64> = of.iter().map(|r| r.kpi(&target)).collect();
        let mut bars: Vec<Bar> = b
            .spec
            .vary
            .iter()
            .map(|v| {
                let x: Vec<f64> = of
                    .iter()
                    .map(|r| {
                        r.params
                            .iter()
                            .find(|(p, _)| *p == v.path)
                            .map_or(f64::NAN, |(_, val)| numeric(val))
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
        if !bars.is_empty() {
            bar_chart(
                &format!("Sensitivity of {target}"),
                "Spearman rank correlation with the KPI",
                &bars,
                &plots_dir.join("tornado"),
            )?;
            sections.push(Section {
                title: format!("Sensitivity of {target}"),
                table: Vec::new(),
                plots: vec!["plots/tornado.png".into()],
            });
        }
    }

    // Time series with percentile bands across runs.
    let mut ts_plots = Vec::new();
    let mut metric_names: Vec<String> = standards.iter().map(|s| s.metric.clone()).collect();
    for r in runs.iter().filter_map(|r| r.summary.as_ref()).take(1) {
        if let Some(defs) = r["metric_definitions"].as_array() {
            metric_names.extend(
                defs.iter()
                    .filter_map(|d| d["name"].as_str().map(str::to_owned)),
            );
        }
    }
    let mut seen = BTreeSet::new();
    metric_names.retain(|m| seen.insert(m.clone()));
    let series_of = |plan: &str| -> Result<Vec<Sampled>> {
        let mut all = Vec::new();
        for r in runs
            .iter()
            .filter(|r| r.plan == plan && r.summary.is_some())
        {
            let path = out
                .join("runs")
                .join(format!("{:06}", r.index))
                .join("timeseries.csv");
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            all.push(crucible_engine::metrics::parse_csv(&text));
        }
        Ok(all)
    };
    let per_plan: Vec<_> = plans.iter().map(|p| series_of(p)).collect::<Result<_>>()?;
    let mut plotted = 0;
    for m in &metric_names {
        if plotted >= 8 {
            break;
        }
        let mut chart = Chart {
            title: format!("{m} across runs (median, 5–95 %)"),
            x_label: "time (h)".into(),
            y_label: m.clone(),
            ..Default::default()
        };
        let mut varies = false;
        for (plan, all) in plans.iter().zip(&per_plan) {
            let Some((head, first)) = all.first() else {
                continue;
            };
            let Some(col) = head.iter().position(|h| h == m) else {
                continue;
            };
            let times: Vec<f64> = first.iter().map(|row| row[0] / 3600.0).collect();
            let (mut lo, mut mid, mut hi) = (Vec::new(), Vec::new(), Vec::new());
            for t in 0..times.len() {
                let v = sorted_finite(
                    all.iter()
                        .filter_map(|(_, rows)| rows.get(t).and_then(|row| row.get(col).copied())),
                );
                lo.push(percentile(&v, 5.0));
                mid.push(percentile(&v, 50.0));
                hi.push(percentile(&v, 95.0));
            }
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
        let stem = format!("timeseries_{}", slug(m));
        line_chart(&chart, &plots_dir.join(&stem))?;
        ts_plots.push(format!("plots/{stem}.png"));
        plotted += 1;
    }
    sections.push(Section {
        title: "Time series".into(),
        table: Vec::new(),
        plots: ts_plots,
    });

    // Maps: mean and maximum of each raster across the runs of each plan.
    let map_plots = aggregate_maps(b, out, &runs, &plans)?;
    sections.push(Section {
        title: "Maps (mean and maximum across runs)".into(),
        table: Vec::new(),
        plots: map_plots,
    });

    let summary_json = serde_json::json!({
        "batch": b.spec.name,
        "scenario": b.base.scenario.name,
        "runs": runs.len(),
        "failed": failed_runs,
        "plans": plans,
        "parameters": param_paths,
        "kpis": kpis,
    });
    std::fs::write(
        out.join("batch-summary.json"),
        serde_json::to_string_pretty(&summary_json)? + "\n",
    )?;
    crate::report::write_html(out, b, runs.len(), failed_runs, &sections)?;
    let _ = writeln!(terminal, "report: {}", out.join("report.html").display());
    Ok(terminal)
}

fn fmt(v: f64) -> String {
    if !v.is_finite() {
        "–".into()
    } else if v != 0.0 && (v.abs() < 1e-3 || v.abs() >= 1e6) {
        format!("{v:.3e}")
    } else {
        format!("{v:.4}")
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_owned()
    }
}

fn aggregate_maps(
    b: &LoadedBatch,
    out: &Path,
    runs: &[RunRecord],
    plans: &[String],
) -> Result<Vec<String>> {
    let mut plots = Vec::new();
    let Some(first) = runs.iter().find(|r| r.summary.is_some()) else {
        return Ok(plots);
    };
    let first_dir = out.join("runs").join(format!("{:06}", first.index));
    let index_path = first_dir.join("maps/index.json");
    let index = read_json(&index_path)?;
    let city = match crucible_engine::run::prepare_city(&b.base) {
        Ok(c) => c,
        Err(e) => bail!("{e}"),
    };
    let maps_dir = out.join("maps");
    std::fs::create_dir_all(&maps_dir)?;
    for m in index.as_array().into_iter().flatten() {
        let name = m["name"].as_str().unwrap_or_default();
        let (nx, ny) = (
            m["nx"].as_u64().unwrap_or(0) as usize,
            m["ny"].as_u64().unwrap_or(0) as usize,
        );
        let kind: RasterKind = serde_json::from_value(m["kind"].clone())
            .with_context(|| format!("{}: map `{name}` has a bad kind", index_path.display()))?;
        if matches!(kind, RasterKind::Categorical { .. }) {
            continue;
        }
        // The index must describe the first run's own map file before anything is
        // allocated from its numbers (a corrupt index must not exhaust the memory).
        let f32_path = first_dir.join(format!("maps/{name}.f32"));
        let file_len = std::fs::metadata(&f32_path).map(|m| m.len()).ok();
        let cell = m["cell"].as_f64().unwrap_or(1.0);
        if name.is_empty()
            || name.contains(['/', '\\'])
            || nx
                .checked_mul(ny)
                .and_then(|c| c.checked_mul(4))
                .map(|b| b as u64)
                != file_len
            || nx == 0
            || !(cell.is_finite() && cell > 0.0)
        {
            bail!(
                "{}: map `{name}` ({nx} × {ny} cells of {cell} m) does not match {}",
                index_path.display(),
                f32_path.display()
            );
        }
        let mut grid = GridSpec::new(nx, ny, cell);
        grid.x0 = m["x0"].as_f64().unwrap_or(0.0);
        grid.y0 = m["y0"].as_f64().unwrap_or(0.0);
        for plan in plans {
            let (mut sum, mut max, mut count) = (
                vec![0f64; nx * ny],
                vec![f32::NAN; nx * ny],
                vec![0u32; nx * ny],
            );
            let mut used = 0;
            for r in runs
                .iter()
                .filter(|r| &r.plan == plan && r.summary.is_some())
            {
                let p = out
                    .join("runs")
                    .join(format!("{:06}", r.index))
                    .join(format!("maps/{name}.f32"));
                let Ok(bytes) = std::fs::read(&p) else {
                    continue;
                };
                if bytes.len() != nx * ny * 4 {
                    continue;
                }
                used += 1;
                for (k, c) in bytes.chunks_exact(4).enumerate() {
                    let v = f32::from_le_bytes([c[0], c[1], c[2], c[3]]);
                    if v.is_finite() {
                        sum[k] += f64::from(v);
                        count[k] += 1;
                        max[k] = if max[k].is_nan() { v } else { max[k].max(v) };
                    }
                }
            }
            if used == 0 {
                continue;
            }
            let mean: Vec<f32> = sum
                .iter()
                .zip(&count)
                .map(|(s, c)| {
                    if *c > 0 {
                        (*s / f64::from(used)) as f32
                    } else {
                        f32::NAN
                    }
                })
                .collect();
            for (what, data) in [("mean", mean), ("max", max)] {
                let r = Raster {
                    name: format!("{}_{name}_{what}", slug(plan)),
                    title: format!(
                        "{} — {what} over {used} runs ({plan})",
                        m["title"].as_str().unwrap_or(name)
                    ),
                    unit: m["unit"].as_str().unwrap_or_default().to_owned(),
                    grid,
                    data,
                    kind: kind.clone(),
                };
                std::fs::write(maps_dir.join(format!("{}.asc", r.name)), r.to_asc())?;
                crate::maps::render_raster(&r, &city, &maps_dir.join(format!("{}.png", r.name)))?;
                plots.push(format!("maps/{}.png", r.name));
            }
        }
    }
    Ok(plots)
}
