//! `crucible validate`: run validation suites, print the table, write the report.

use std::fmt::Write as _;
use std::path::PathBuf;

use crucible_engine::suites::suites;
use crucible_engine::validation::{CaseResult, Check, Suite};
use crucible_viz::{Chart, LineSeries, SeriesStyle, line_chart};

use super::failed;
use crate::Outcome;
use crate::output::Staged;

#[derive(clap::Args)]
pub struct Args {
    /// Suite to run: a suite name or `all`.
    pub suite: String,
    /// Output folder: validation.md, results.csv and one plot per figure (new, empty or
    /// a crucible output folder; only files crucible wrote are replaced).
    #[arg(long)]
    pub out: PathBuf,
    /// Also write the report here, with image links pointing into the output folder
    /// (how docs/validation.md is made: `--out docs/validation --doc docs/validation.md`).
    #[arg(long)]
    pub doc: Option<PathBuf>,
}

pub fn run(args: Args) -> Outcome {
    let all = suites();
    let names: Vec<&str> = all.iter().map(|s| s.name).collect();
    let chosen: Vec<&Suite> = all
        .iter()
        .filter(|s| args.suite == "all" || s.name == args.suite)
        .collect();
    if chosen.is_empty() {
        return Outcome::BadInput(format!(
            "no suite `{}`; suites: {}, all",
            args.suite,
            names.join(", ")
        ));
    }
    let staged = match Staged::new(&args.out) {
        Ok(s) => s,
        Err(e) => return failed(e),
    };
    let mut results: Vec<(&Suite, &str, CaseResult, f64)> = Vec::new();
    for suite in &chosen {
        for case in &suite.cases {
            crate::note!("validate {} / {} …", suite.name, case.name);
            let t = std::time::Instant::now();
            let r = (case.run)();
            results.push((suite, case.name, r, t.elapsed().as_secs_f64()));
        }
    }
    let checks: Vec<&Check> = results.iter().flat_map(|r| &r.2.checks).collect();
    let table = table(&checks);
    crate::say!("{table}");
    let failed_n = checks.iter().filter(|c| !c.pass()).count();
    let report = report(&args.suite, &results, &table, failed_n, checks.len());
    let write = || -> anyhow::Result<()> {
        staged.write("validation.md", &report)?;
        let mut csv = csv_writer();
        for c in &checks {
            csv.serialize((&c.case, &c.metric, c.value, c.lo, c.hi, &c.unit, c.pass()))?;
        }
        staged.write("results.csv", csv.into_inner()?)?;
        for (suite, _, r, _) in &results {
            for f in &r.figures {
                let chart = Chart {
                    title: f.title.clone(),
                    x_label: f.x_label.clone(),
                    y_label: f.y_label.clone(),
                    series: f
                        .series
                        .iter()
                        .map(|s| LineSeries {
                            label: s.label.clone(),
                            x: s.x.clone(),
                            y: s.y.clone(),
                            style: style_for(&s.label),
                        })
                        .collect(),
                    ..Default::default()
                };
                line_chart(&chart, &staged.path(&format!("{}-{}", suite.name, f.name))?)?;
            }
        }
        Ok(())
    };
    if let Err(e) = write() {
        return failed(e);
    }
    if let Err(e) = staged.commit() {
        return failed(e);
    }
    if let Some(doc) = &args.doc {
        let base = doc.parent().unwrap_or(std::path::Path::new(""));
        let prefix = args
            .out
            .strip_prefix(base)
            .unwrap_or(&args.out)
            .display()
            .to_string();
        let text = report.replace("](", &format!("]({prefix}/"));
        if let Err(e) = std::fs::write(doc, text) {
            return failed(e.into());
        }
    }
    crate::say!("report: {}", args.out.join("validation.md").display());
    if failed_n == 0 {
        Outcome::Ok
    } else {
        Outcome::Failed(format!(
            "{failed_n} of {} checks out of their band",
            checks.len()
        ))
    }
}

/// Reference and analytical series are drawn dashed; measured ones as points.
fn style_for(label: &str) -> SeriesStyle {
    let l = label.to_ascii_lowercase();
    if [
        "reference",
        "analytic",
        "weidmann",
        "formula",
        "published",
        "observed",
    ]
    .iter()
    .any(|k| l.contains(k))
    {
        SeriesStyle::Reference
    } else if l.contains("points") || l.contains("measured") {
        SeriesStyle::Points
    } else {
        SeriesStyle::Line
    }
}

fn csv_writer() -> csv::Writer<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record(["case", "metric", "value", "lo", "hi", "unit", "pass"]);
    w
}

fn num(v: f64) -> String {
    if v.is_infinite() {
        if v > 0.0 {
            "∞".into()
        } else {
            "−∞".into()
        }
    } else if v != 0.0 && (v.abs() < 1e-3 || v.abs() >= 1e6) {
        format!("{v:.3e}")
    } else {
        format!("{:.4}", v)
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_owned()
    }
}

/// The results as a Markdown table (also printed on the terminal).
fn table(checks: &[&Check]) -> String {
    let mut t = String::from(
        "| case | metric | value | band | unit | result |\n|---|---|---|---|---|---|\n",
    );
    for c in checks {
        let _ = writeln!(
            t,
            "| {} | {} | {} | [{}, {}] | {} | {} |",
            c.case,
            c.metric,
            num(c.value),
            num(c.lo),
            num(c.hi),
            c.unit,
            if c.pass() { "pass" } else { "**FAIL**" }
        );
    }
    t
}

fn report(
    suite: &str,
    results: &[(&Suite, &str, CaseResult, f64)],
    table: &str,
    failed: usize,
    total: usize,
) -> String {
    let mut r = String::new();
    let _ = writeln!(r, "# Validation report\n");
    let _ = writeln!(
        r,
        "Written by `crucible validate {suite}` (crucible {}). {} of {} checks pass.\n",
        crucible_engine::VERSION,
        total - failed,
        total
    );
    r.push_str(table);
    let _ = writeln!(r, "\n## Cases\n");
    for (s, name, res, _) in results {
        let _ = writeln!(r, "### {} / {}\n\n{}\n", s.name, name, res.notes.trim());
        for f in &res.figures {
            let _ = writeln!(r, "![{}]({}-{}.png)\n", f.title, s.name, f.name);
        }
    }
    r
}
