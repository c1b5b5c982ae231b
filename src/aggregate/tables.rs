//! The batch's tables, each a pure function of the runs: the CSV file and the rows the
//! report shows.

use anyhow::Result;
use crucible_engine::batch::stats::{
    average_annual, frequency_curve, paired_difference, percentile, sorted_finite, wilson,
};
use crucible_engine::standards::Comparison;
use crucible_viz::{Bar, LineSeries, SeriesStyle};
use serde_json::Value;

use super::Batch;

/// A table: the CSV file, and the rows the report shows (header first).
pub struct Table {
    pub csv: Vec<u8>,
    pub rows: Vec<Vec<String>>,
}

/// A number in a CSV cell: empty when not finite.
fn num(v: f64) -> String {
    if v.is_finite() {
        format!("{v}")
    } else {
        String::new()
    }
}

/// A number in the report: four significant decimals, scientific when tiny or huge.
pub fn fmt(v: f64) -> String {
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

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn header(cells: &[&str]) -> Vec<String> {
    cells.iter().map(|c| c.to_string()).collect()
}

/// `runs.csv`: one row per run with its parameters, KPIs and verdicts.
pub fn runs_csv(batch: &Batch) -> Result<Vec<u8>> {
    let standards = &batch.spec.base.scenario.standards;
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut head = header(&["index", "replicate", "plan", "seed", "status"]);
    head.extend(batch.params.iter().cloned());
    head.push("frequency_per_year".into());
    head.extend(batch.kpis.iter().cloned());
    head.extend(standards.iter().map(|s| format!("pass:{}", s.id)));
    head.push("error".into());
    w.write_record(&head)?;
    for r in batch.runs {
        let mut row = vec![
            r.index.to_string(),
            r.planned.replicate.to_string(),
            r.plan().to_owned(),
            r.planned.seed.to_string(),
            if r.summary().is_some() {
                "ok"
            } else {
                "failed"
            }
            .into(),
        ];
        row.extend(
            batch
                .params
                .iter()
                .map(|p| r.param(p).map(value_text).unwrap_or_default()),
        );
        row.push(r.planned.frequency.map(num).unwrap_or_default());
        row.extend(batch.kpis.iter().map(|k| num(r.kpi(k))));
        row.extend(standards.iter().map(|s| match r.verdict(&s.id) {
            Some((pass, _)) => (pass as u8).to_string(),
            None => String::new(),
        }));
        row.push(r.outcome.as_ref().err().cloned().unwrap_or_default());
        w.write_record(&row)?;
    }
    Ok(w.into_inner()?)
}

/// `standards.csv`: pass probability per plan with a Wilson interval, and the worst
/// runs; also one terminal line per plan and standard.
pub fn standards(batch: &Batch) -> Result<(Table, Vec<String>)> {
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
    let mut rows = vec![header(&[
        "plan",
        "standard",
        "P(pass)",
        "95 % interval",
        "runs",
        "worst runs",
        "source",
    ])];
    let mut lines = Vec::new();
    for plan in &batch.plans {
        for s in &batch.spec.base.scenario.standards {
            let mut vals: Vec<(u64, bool, f64)> = batch
                .finished_of_plan(plan)
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
            rows.push(vec![
                plan.clone(),
                format!("{} ({} {} {})", s.id, s.metric, op, s.threshold),
                format!("{p:.3}"),
                format!("{lo:.3}–{hi:.3}"),
                n.to_string(),
                worst.join(", "),
                s.source.clone(),
            ]);
            lines.push(format!(
                "  [{plan}] {:<30} P(pass) = {p:.3} (95 % {lo:.3}–{hi:.3}, {n} runs)",
                s.id
            ));
        }
    }
    let csv = w.into_inner()?;
    Ok((Table { csv, rows }, lines))
}

/// The finite values of a KPI over a plan's runs, sorted.
pub fn kpi_values(batch: &Batch, plan: &str, kpi: &str) -> Vec<f64> {
    sorted_finite(batch.of_plan(plan).map(|r| r.kpi(kpi)))
}

/// `stats.csv`: distribution of each KPI per plan.
pub fn kpi_stats(batch: &Batch) -> Result<Table> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "plan", "kpi", "n", "mean", "sd", "min", "p5", "p25", "p50", "p75", "p95", "max",
    ])?;
    let mut rows = vec![header(&["plan", "KPI", "mean", "p5", "p50", "p95", "max"])];
    for k in &batch.kpis {
        for plan in &batch.plans {
            let v = kpi_values(batch, plan, k);
            let (Some(&min), Some(&max)) = (v.first(), v.last()) else {
                continue;
            };
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
                num(min),
                num(q(5.0)),
                num(q(25.0)),
                num(q(50.0)),
                num(q(75.0)),
                num(q(95.0)),
                num(max),
            ])?;
            rows.push(vec![
                plan.clone(),
                k.clone(),
                fmt(mean),
                fmt(q(5.0)),
                fmt(q(50.0)),
                fmt(q(95.0)),
                fmt(max),
            ]);
        }
    }
    Ok(Table {
        csv: w.into_inner()?,
        rows,
    })
}

/// `risk.csv`: the exceedance frequency curve of the loss KPI per plan (event sets),
/// with the curves for the plot.
pub fn risk(batch: &Batch, loss: &str) -> Result<(Table, Vec<LineSeries>)> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["plan", "return_period_years", loss])?;
    let mut rows = vec![vec![
        "plan".to_string(),
        format!("average annual {loss}"),
        "10-yr".into(),
        "100-yr".into(),
    ]];
    let mut series = Vec::new();
    for plan in &batch.plans {
        let impacts: Vec<f64> = batch.of_plan(plan).map(|r| r.kpi(loss)).collect();
        let freq: Vec<f64> = batch
            .of_plan(plan)
            .map(|r| r.planned.frequency.unwrap_or(0.0))
            .collect();
        let curve = frequency_curve(&impacts, &freq);
        for (rp, i) in &curve {
            w.write_record([plan.clone(), num(*rp), num(*i)])?;
        }
        let at = |t: f64| curve.iter().find(|c| c.0 >= t).map_or(f64::NAN, |c| c.1);
        rows.push(vec![
            plan.clone(),
            fmt(average_annual(&impacts, &freq)),
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
    let csv = w.into_inner()?;
    Ok((Table { csv, rows }, series))
}

/// The bars of each compared plan's plot, by plan.
pub type ComparisonBars = Vec<(String, Vec<Bar>)>;

/// `comparison.csv`: each plan against the first on common random numbers (run `i` of
/// plan A and the same sweep point and replicate of plan B share their seeds), with
/// the bars of each plan's plot (difference in % of the first plan's mean).
pub fn comparison(batch: &Batch) -> Result<(Table, ComparisonBars)> {
    let plans = &batch.plans;
    let n_sweep = batch.spec.combos() / plans.len() as u64;
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
    let mut rows = vec![header(&[
        "comparison",
        "KPI",
        "mean difference (B − A)",
        "95 % interval",
        "pairs",
    ])];
    let mut plots = Vec::new();
    for (pb, plan_b) in plans.iter().enumerate().skip(1) {
        let mut bars = Vec::new();
        for k in &batch.kpis {
            let (mut a, mut b) = (Vec::new(), Vec::new());
            for r in batch.of_plan(&plans[0]) {
                let partner = r.index + pb as u64 * n_sweep * batch.spec.spec.runs;
                if let Some(rb) = batch.runs.get(partner as usize) {
                    a.push(r.kpi(k));
                    b.push(rb.kpi(k));
                }
            }
            let (m, lo, hi, n) = paired_difference(&a, &b);
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
        plots.push((plan_b.clone(), bars));
    }
    let csv = w.into_inner()?;
    Ok((Table { csv, rows }, plots))
}

#[cfg(test)]
mod tests {
    use super::super::Batch;
    use super::super::test_batch::{failed, run, small};
    use super::*;

    fn text(csv: &[u8]) -> String {
        String::from_utf8(csv.to_vec()).unwrap()
    }

    #[test]
    fn runs_csv_has_a_row_per_run_with_failures_explained() {
        let b = small();
        let runs = vec![run(0, "A", 10.0, 5.0), failed(1, "A")];
        let csv = text(&runs_csv(&Batch::new(&b, &runs)).unwrap());
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(
            lines[0],
            "index,replicate,plan,seed,status,hazards[0].speed_m_s,hazards[0].from_deg,frequency_per_year,loss,pass:wind-under-gale,error"
        );
        assert_eq!(lines[1], "0,0,A,100,ok,5.0,,0.5,10,1,");
        assert_eq!(lines[2], "1,1,A,101,failed,0.0,,0.5,,,NaN in the flood");
    }

    #[test]
    fn standards_count_passes_and_name_the_worst_runs() {
        let b = small();
        let runs = vec![
            run(0, "A", 1.0, 5.0),
            run(1, "A", 1.0, 30.0),
            run(2, "A", 1.0, 20.0),
            failed(3, "A"),
        ];
        let (t, lines) = standards(&Batch::new(&b, &runs)).unwrap();
        let csv = text(&t.csv);
        let a = csv.lines().find(|l| l.starts_with("A,")).unwrap();
        assert!(a.contains(",3,1,0.333") && a.ends_with(",1;2"), "{a}");
        assert_eq!(t.rows.len(), 3, "header and one row per plan");
        assert!(lines[0].contains("[A] wind-under-gale") && lines[0].contains("3 runs"));
    }

    #[test]
    fn stats_skip_plans_without_values() {
        let b = small();
        let runs = vec![run(0, "A", 1.0, 5.0), run(1, "A", 3.0, 5.0), failed(2, "B")];
        let t = kpi_stats(&Batch::new(&b, &runs)).unwrap();
        assert_eq!(
            text(&t.csv),
            "plan,kpi,n,mean,sd,min,p5,p25,p50,p75,p95,max\nA,loss,2,2,1.4142135623730951,1,1.1,1.5,2,2.5,2.9,3\n"
        );
        assert_eq!(t.rows[1], ["A", "loss", "2", "1.1", "2", "2.9", "3"]);
    }

    #[test]
    fn plans_are_compared_on_the_same_seeds() {
        let b = small();
        let mut runs: Vec<_> = (0..6).map(|k| run(k, "A", 10.0, 5.0)).collect();
        runs.extend((6..12).map(|k| run(k, "B", 8.0, 5.0)));
        let (t, bars) = comparison(&Batch::new(&b, &runs)).unwrap();
        assert!(
            text(&t.csv).contains("A,B,loss,6,-2,-2,-2"),
            "{}",
            text(&t.csv)
        );
        assert_eq!(bars[0].0, "B");
        assert_eq!(bars[0].1[0].value, -20.0);
        let (risk, curves) = risk(&Batch::new(&b, &runs), "loss").unwrap();
        assert!(text(&risk.csv).starts_with("plan,return_period_years,loss\n"));
        assert_eq!(curves.len(), 2);
    }
}
