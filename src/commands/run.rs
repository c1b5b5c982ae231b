//! `crucible run`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::Result;
use crucible_engine::city::City;
use crucible_engine::run::{RunError, RunOutput, run as run_scenario};
use serde_json::json;

use super::{failed, load_with_city, progress_bar};
use crate::Outcome;
use crate::output::Staged;

#[derive(clap::Args)]
pub struct Args {
    /// Scenario file (TOML).
    pub scenario: PathBuf,
    /// Output folder (created; files in it are replaced).
    #[arg(long)]
    pub out: PathBuf,
    /// Seed of the run's random streams (default: the scenario's `seed`).
    #[arg(long)]
    pub seed: Option<u64>,
}

pub fn run(args: Args) -> Outcome {
    let started = Instant::now();
    let (loaded, city) = match load_with_city(&args.scenario) {
        Ok(x) => x,
        Err(o) => return o,
    };
    let prepared = started.elapsed().as_secs_f64();
    let seed = args.seed.unwrap_or(loaded.scenario.seed);
    let city = Arc::new(city);
    let bar = progress_bar(1000, &loaded.scenario.name);
    let sim_start = Instant::now();
    let result = run_scenario(&loaded, &city, seed, |f| {
        bar.set_position((f * 1000.0) as u64)
    });
    bar.finish_and_clear();
    let simulated = sim_start.elapsed().as_secs_f64();
    let out = match result {
        Ok(out) => out,
        Err(RunError::Input(e)) => return Outcome::BadInput(e.to_string()),
        Err(e @ RunError::Failed { .. }) => {
            return Outcome::Failed(format!("{}: {e}", loaded.file));
        }
    };
    let write_start = Instant::now();
    if let Err(e) = write_outputs(&args.out, &city, &out, |staged| {
        let timing = json!({
            "prepare_city_s": prepared,
            "simulate_s": simulated,
            "write_outputs_s": write_start.elapsed().as_secs_f64(),
            "rayon_threads": rayon::current_num_threads(),
            "grid_cells": city.grid.len(),
            "ticks": out.summary.ticks,
        });
        staged.write("timing.json", serde_json::to_string_pretty(&timing)? + "\n")
    }) {
        return failed(e);
    }
    print_summary(&out, &args.out);
    Outcome::Ok
}

/// Write a run's outputs atomically into `dir`.
pub fn write_outputs(
    dir: &Path,
    city: &City,
    out: &RunOutput,
    extra: impl FnOnce(&Staged) -> Result<()>,
) -> Result<()> {
    let staged = Staged::new(dir)?;
    staged.write(
        "summary.json",
        serde_json::to_string_pretty(&out.summary)? + "\n",
    )?;
    staged.write("timeseries.csv", &out.timeseries_csv)?;
    let mut events = String::new();
    for e in &out.events {
        events.push_str(&serde_json::to_string(e)?);
        events.push('\n');
    }
    staged.write("events.jsonl", events)?;
    for r in &out.maps {
        staged.write(&format!("maps/{}.asc", r.name), r.to_asc())?;
        crate::maps::render_raster(r, city, &staged.path(&format!("maps/{}.png", r.name))?)?;
    }
    extra(&staged)?;
    staged.commit()
}

fn print_summary(out: &RunOutput, dir: &std::path::Path) {
    let s = &out.summary;
    println!(
        "{} (plan {}, seed {}): {} s simulated, {} events, plugins: {}",
        s.scenario,
        s.plan,
        s.seed,
        s.simulated_duration_s,
        out.events.len(),
        s.plugins.join(", ")
    );
    for (name, k) in &s.kpis {
        println!("  {name:<40} {:>14.6} {}", k.value, k.unit);
    }
    for v in &s.standards {
        let mark = if v.pass { "PASS" } else { "FAIL" };
        println!(
            "  [{mark}] {:<28} {} = {:.4} (must be {} {}; {})",
            v.id,
            v.metric,
            v.value,
            serde_json::to_value(v.op)
                .ok()
                .and_then(|o| o.as_str().map(str::to_owned))
                .unwrap_or_default(),
            v.threshold,
            v.source
        );
    }
    println!("outputs in {}", dir.display());
}
