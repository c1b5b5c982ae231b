//! `crucible run`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::Result;
use crucible_engine::run::{RunError, RunOutput, run as run_scenario};
use serde_json::json;

use super::{failed, load_with_city};
use crate::maps::Backdrop;
use crate::output::Staged;
use crate::progress::Progress;
use crate::run_folder::{pretty, write_run};
use crate::{Outcome, say};

#[derive(clap::Args)]
pub struct Args {
    /// Scenario file (TOML).
    pub scenario: PathBuf,
    /// Output folder: created if missing; an existing one must be empty or a crucible
    /// output folder (it has .crucible-output.json). Only files crucible wrote are
    /// replaced; other files (notes in maps/, say) are left alone.
    #[arg(long)]
    pub out: PathBuf,
    /// Seed of the run's random streams (default: the scenario's `seed`).
    #[arg(long)]
    pub seed: Option<u64>,
}

/// Steps of the progress report of one run.
const PROGRESS_STEPS: u64 = 1000;

pub fn run(args: Args) -> Outcome {
    let started = Instant::now();
    if let Err(e) = crate::output::check(&args.out) {
        return failed(e);
    }
    let (loaded, city) = match load_with_city(&args.scenario) {
        Ok(x) => x,
        Err(o) => return o,
    };
    let prepared = started.elapsed().as_secs_f64();
    let seed = args.seed.unwrap_or(loaded.scenario.seed);
    let city = Arc::new(city);
    let mut progress = Progress::new(PROGRESS_STEPS, &loaded.scenario.name, None);
    let sim_start = Instant::now();
    let result = run_scenario(&loaded, &city, seed, |f| {
        progress.set((f * PROGRESS_STEPS as f64) as u64)
    });
    progress.finish();
    let simulated = sim_start.elapsed().as_secs_f64();
    let out = match result {
        Ok(out) => out,
        Err(RunError::Input(e)) => return Outcome::BadInput(e.to_string()),
        Err(e @ RunError::Failed { .. }) => {
            return Outcome::Failed(format!("{}: {e}", loaded.file));
        }
    };
    let write_start = Instant::now();
    let backdrop = Backdrop::of(&city);
    let written = write(&args.out, &out, &backdrop, |staged| {
        let timing = json!({
            "prepare_city_s": prepared,
            "simulate_s": simulated,
            "write_outputs_s": write_start.elapsed().as_secs_f64(),
            "rayon_threads": rayon::current_num_threads(),
            "grid_cells": city.grid.len(),
            "ticks": out.summary.ticks,
        });
        staged.write("timing.json", pretty(&timing)?)
    });
    if let Err(e) = written {
        return failed(e);
    }
    print_summary(&out, &args.out);
    Outcome::Ok
}

/// Write the run folder atomically into `dir`, maps drawn over `backdrop`.
fn write(
    dir: &Path,
    out: &RunOutput,
    backdrop: &Backdrop,
    extra: impl FnOnce(&Staged) -> Result<()>,
) -> Result<()> {
    let staged = Staged::new(dir)?;
    write_run(&staged, out, Some(backdrop))?;
    extra(&staged)?;
    staged.commit()
}

fn print_summary(out: &RunOutput, dir: &Path) {
    let s = &out.summary;
    say!(
        "{} (plan {}, seed {}): {} s simulated, {} events, plugins: {}",
        s.scenario,
        s.plan,
        s.seed,
        s.simulated_duration_s,
        out.events.len(),
        s.plugins.join(", ")
    );
    for (name, k) in &s.kpis {
        say!("  {name:<40} {:>14.6} {}", k.value, k.unit);
    }
    for v in &s.standards {
        let mark = if v.pass { "PASS" } else { "FAIL" };
        say!(
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
    say!("outputs in {}", dir.display());
}
