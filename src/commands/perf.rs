//! `crucible perf-report`: the figures of the last criterion run as a table and as JSON
//! (name, size, throughput, unit, commit), for pipelines to archive and compare.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde_json::{Value, json};

use super::failed;
use crate::Outcome;

#[derive(clap::Args)]
pub struct Args {
    /// Criterion's output folder.
    #[arg(long, default_value = "target/criterion")]
    pub criterion: PathBuf,
    /// Write the figures as JSON here.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

/// What a bench group's elements are.
fn unit(group: &str) -> &'static str {
    if group == "run" {
        "runs/s"
    } else if group.starts_with("crowd_step") {
        "agent-steps/s"
    } else if group.starts_with("crowd") {
        "elements/s"
    } else if group.starts_with("flood") || group.starts_with("fire") {
        "cell-updates/s"
    } else if group.starts_with("typhoon") {
        "cell-evaluations/s"
    } else if group.starts_with("city") || group.starts_with("compound") {
        "cells/s"
    } else {
        "elements/s"
    }
}

fn collect(dir: &Path, out: &mut Vec<Value>) -> Result<()> {
    for e in std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let p = e?.path();
        if p.is_dir() {
            if p.file_name().is_some_and(|n| n == "new") {
                let read = |name: &str| -> Result<Value> {
                    let f = p.join(name);
                    let text = std::fs::read_to_string(&f)
                        .with_context(|| format!("cannot read {}", f.display()))?;
                    serde_json::from_str(&text)
                        .with_context(|| format!("{} is not valid JSON", f.display()))
                };
                let bench = read("benchmark.json")?;
                let est = read("estimates.json")?;
                let ns = est["mean"]["point_estimate"].as_f64().unwrap_or(f64::NAN);
                let elements = bench["throughput"]["Elements"].as_f64();
                let group = bench["group_id"].as_str().unwrap_or_default();
                out.push(json!({
                    "name": bench["full_id"],
                    "group": group,
                    "size": bench["function_id"].as_str().map(str::to_owned).or_else(|| bench["value_str"].as_str().map(str::to_owned)),
                    "mean_s": ns / 1e9,
                    "throughput": elements.map(|n| n / (ns / 1e9)),
                    "unit": if elements.is_some() { unit(group) } else { "" },
                }));
            } else if p
                .file_name()
                .is_some_and(|n| n != "base" && n != "change" && n != "report")
            {
                collect(&p, out)?;
            }
        }
    }
    Ok(())
}

fn commit() -> String {
    std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|| "unknown".into())
}

pub fn run(args: Args) -> Outcome {
    let mut rows = Vec::new();
    if let Err(e) = collect(&args.criterion, &mut rows) {
        return Outcome::BadInput(format!("{e:#} (run `cargo bench` first)"));
    }
    rows.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    let commit = commit();
    crate::say!(
        "{:<58} {:>12} {:>14}  unit",
        "benchmark",
        "mean",
        "throughput"
    );
    for r in &rows {
        let t = r["throughput"]
            .as_f64()
            .map_or("–".into(), |t| format!("{t:.3e}"));
        crate::say!(
            "{:<58} {:>10.4} s {:>14}  {}",
            r["name"].as_str().unwrap_or_default(),
            r["mean_s"].as_f64().unwrap_or(f64::NAN),
            t,
            r["unit"].as_str().unwrap_or_default()
        );
    }
    crate::say!("commit {commit}, {} benchmarks", rows.len());
    if let Some(path) = &args.json {
        let doc = json!({ "commit": commit, "crucible_version": crucible_engine::VERSION, "benchmarks": rows });
        let write = || -> Result<()> {
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(path, serde_json::to_string_pretty(&doc)? + "\n")?;
            Ok(())
        };
        if let Err(e) = write() {
            return failed(e);
        }
    }
    Outcome::Ok
}
