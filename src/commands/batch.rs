//! `crucible batch`: run many seeded variations of a scenario, then aggregate them.
//!
//! Each run writes its own folder `runs/NNNNNN/` atomically (`run.json` and
//! `summary.json`, or `failed.json`), so a crash loses at most the runs in flight and
//! `--resume` finishes the rest. Aggregates are a pure function of the run folders, which
//! is what makes merged shards equal the unsharded batch.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use crucible_engine::batch::{self, LoadedBatch, RunPlan};
use crucible_engine::city::City;
use crucible_engine::run::{RunError, prepare_city, run as run_scenario};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::failed;
use crate::output::{self, Staged};
use crate::progress::Progress;
use crate::run_folder::{self, FailedRun, PlannedRun, pretty, read_json};
use crate::{Outcome, say};

#[derive(clap::Args)]
pub struct Args {
    /// Batch file (TOML with a `[batch]` table).
    pub batch: PathBuf,
    /// Output folder: created if missing; an existing one must be empty or a crucible
    /// output folder (it has .crucible-output.json). Only files crucible wrote are
    /// replaced.
    #[arg(long)]
    pub out: PathBuf,
    /// Run only the first N replicates (same seeds as the full batch).
    #[arg(long)]
    pub runs: Option<u64>,
    /// Runs in parallel, 1 to 4096 (default: one per core).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Run only shard K of N (`K/N`, K from 0): runs whose index ≡ K mod N. Combine the
    /// shard folders with `crucible merge`.
    #[arg(long, value_parser = parse_shard)]
    pub shard: Option<(u64, u64)>,
    /// Continue a batch in an existing folder: runs already recorded are kept.
    #[arg(long)]
    pub resume: bool,
}

fn parse_shard(s: &str) -> Result<(u64, u64), String> {
    let (k, n) = s.split_once('/').ok_or("expected K/N, e.g. 0/4")?;
    let (k, n): (u64, u64) = (
        k.parse().map_err(|_| "K is not a number")?,
        n.parse().map_err(|_| "N is not a number")?,
    );
    if n == 0 || k >= n {
        return Err(format!("need 0 ≤ K < N, got {k}/{n}"));
    }
    Ok((k, n))
}

/// `batch.json`: everything that identifies a batch's runs; a resumed or merged folder
/// must match it. Fields in alphabetical order, the order the file has always had.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchManifest {
    pub batch: String,
    pub combinations: u64,
    pub crucible_version: String,
    pub fingerprint: String,
    pub replicates: u64,
    pub scenario: String,
    pub seed: u64,
}

pub fn manifest(b: &LoadedBatch, replicates: u64) -> BatchManifest {
    BatchManifest {
        batch: b.spec.name.clone(),
        combinations: b.combos(),
        crucible_version: crucible_engine::VERSION.to_owned(),
        fingerprint: b.fingerprint(),
        replicates,
        scenario: b.base.scenario.name.clone(),
        seed: b.spec.seed,
    }
}

pub fn run(args: Args) -> Outcome {
    let started = Instant::now();
    let mut b = match batch::load(&args.batch) {
        Ok(b) => b,
        Err(e) => return Outcome::BadInput(e.to_string()),
    };
    if args.jobs == Some(0) {
        return Outcome::BadInput(
            "--jobs must be at least 1 (leave it out for one run per core)".into(),
        );
    }
    if args.jobs.is_some_and(|j| j > crate::MAX_THREADS) {
        return Outcome::BadInput(format!("--jobs must be at most {}", crate::MAX_THREADS));
    }
    if let Err(e) = output::check(&args.out) {
        return failed(e);
    }
    if let Some(n) = args.runs {
        if n == 0 {
            return Outcome::BadInput("--runs must be at least 1".into());
        }
        b.spec.runs = n.min(b.spec.runs);
    }
    match execute(&b, &args, started) {
        Ok(Some(summary)) => {
            say!("{summary}");
            Outcome::Ok
        }
        Ok(None) => Outcome::Ok,
        Err(e) => failed(e),
    }
}

/// The folder of run `index` of the batch in `out`.
pub fn run_dir(out: &Path, index: u64) -> PathBuf {
    out.join("runs").join(format!("{index:06}"))
}

/// Whether run `index` is recorded (finished or failed).
pub fn recorded(out: &Path, index: u64) -> bool {
    let d = run_dir(out, index);
    d.join(run_folder::SUMMARY).exists() || d.join(run_folder::FAILED).exists()
}

fn execute(b: &LoadedBatch, args: &Args, started: Instant) -> Result<Option<String>> {
    let out = &args.out;
    output::claim(out)?;
    let manifest = manifest(b, b.spec.runs);
    let manifest_path = out.join("batch.json");
    if manifest_path.exists() {
        let old: serde_json::Value = read_json(&manifest_path)?;
        if serde_json::from_value::<BatchManifest>(old).ok().as_ref() != Some(&manifest) {
            bail!(
                "{} holds another batch (or this batch changed since): use a new folder, or the same batch file and --runs",
                out.display()
            );
        }
        if !args.resume {
            bail!(
                "{} already holds this batch: add --resume to finish it, or use a new folder",
                out.display()
            );
        }
    }
    std::fs::create_dir_all(out.join("runs"))
        .with_context(|| format!("cannot create {}", out.display()))?;
    output::write_file(out, "batch.json", pretty(&manifest)?)?;
    let total = b.total_runs();
    let todo: Vec<u64> = (0..total)
        .filter(|k| args.shard.is_none_or(|(s, n)| k % n == s))
        .filter(|k| !recorded(out, *k))
        .collect();
    // Leftovers of runs killed mid-write.
    for k in &todo {
        let d = run_dir(out, *k);
        if d.exists() {
            std::fs::remove_dir_all(&d)?;
        }
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.jobs.unwrap_or(0))
        .build()?;
    let mut progress = Progress::new(todo.len() as u64, &b.spec.name, Some("runs"));
    let cities: Mutex<HashMap<String, Arc<City>>> = Mutex::new(HashMap::new());
    let failures = std::sync::atomic::AtomicU64::new(0);
    let timings: Mutex<Vec<(u64, f64)>> = Mutex::new(Vec::new());
    pool.install(|| {
        todo.par_iter().try_for_each(|&k| -> Result<()> {
            let t = Instant::now();
            let plan = b.plan(k);
            let ok = run_one(b, &plan, out, &cities)?;
            if !ok {
                failures.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            timings
                .lock()
                .map_err(|_| anyhow::anyhow!("lock"))?
                .push((k, t.elapsed().as_secs_f64()));
            progress.inc();
            Ok(())
        })
    })?;
    progress.finish();
    let mut timings = timings.into_inner().map_err(|_| anyhow::anyhow!("lock"))?;
    timings.sort_by_key(|t| t.0);
    let timing = json!({
        "wall_s": started.elapsed().as_secs_f64(),
        "jobs": pool.current_num_threads(),
        "runs_this_invocation": timings.len(),
        "run_seconds": timings.iter().map(|t| json!([t.0, t.1])).collect::<Vec<_>>(),
    });
    let timing_name = match args.shard {
        Some((k, n)) => format!("timing-shard-{k}-of-{n}.json"),
        None => "timing.json".into(),
    };
    output::write_file(out, &timing_name, pretty(&timing)?)?;
    let failed_now = failures.into_inner();
    if let Some((k, n)) = args.shard {
        say!(
            "shard {k}/{n}: {} runs done ({} failed) in {:.1} s",
            timings.len(),
            failed_now,
            started.elapsed().as_secs_f64()
        );
        say!("{}", merge_hint(&args.batch, out, k, n));
        return Ok(None);
    }
    crate::aggregate::aggregate(b, out).map(Some)
}

/// How to combine the shards, as a command that works once `SHARD_k` are replaced by the
/// shard folders (this one is named).
fn merge_hint(batch: &Path, out: &Path, k: u64, n: u64) -> String {
    let shards: Vec<String> = (0..n.min(4))
        .map(|s| {
            if s == k {
                shell_word(&out.display().to_string())
            } else {
                format!("SHARD_{s}")
            }
        })
        .collect();
    let more = if n > 4 { " …" } else { "" };
    format!(
        "when all {n} shards are done, combine them with\n  crucible merge {}{more} --batch {} --out MERGED\nwhere SHARD_i is the folder of shard i/{n} and MERGED a new folder",
        shards.join(" "),
        shell_word(&batch.display().to_string())
    )
}

/// `s` quoted for a POSIX shell if it needs it.
fn shell_word(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+:,=@".contains(c));
    if plain {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// Run one planned run into its folder. Returns false if the run failed (recorded).
fn run_one(
    b: &LoadedBatch,
    plan: &RunPlan,
    out: &Path,
    cities: &Mutex<HashMap<String, Arc<City>>>,
) -> Result<bool> {
    let dir = run_dir(out, plan.index);
    let staged = Staged::new(&dir)?;
    staged.write(run_folder::PLANNED, pretty(&PlannedRun::of(plan)?)?)?;
    let result = std::panic::catch_unwind(AssertUnwindSafe(|| -> Result<_, String> {
        let loaded = b.scenario_for(plan).map_err(|e| e.to_string())?;
        let key = serde_json::to_string(&(
            &loaded.scenario.city,
            &loaded.scenario.assets_csv,
            &loaded.scenario.assets,
            &loaded.scenario.plan.add_assets,
            &loaded.scenario.plan.remove_assets,
        ))
        .map_err(|e| e.to_string())?;
        let cached = cities
            .lock()
            .map_err(|_| "lock".to_string())?
            .get(&key)
            .cloned();
        let city = match cached {
            Some(c) => c,
            None => {
                let c = Arc::new(prepare_city(&loaded).map_err(|e| e.to_string())?);
                cities
                    .lock()
                    .map_err(|_| "lock".to_string())?
                    .insert(key, c.clone());
                c
            }
        };
        run_scenario(&loaded, &city, plan.seed, |_| {}).map_err(|e| match e {
            RunError::Input(e) => e.to_string(),
            e @ RunError::Failed { .. } => e.to_string(),
        })
    }));
    let outcome = match result {
        Ok(r) => r,
        Err(panic) => Err(format!(
            "panicked: {}",
            panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default()
        )),
    };
    let ok = match outcome {
        Ok(output) => {
            run_folder::write_run(&staged, &output, None)?;
            true
        }
        Err(error) => {
            let f = FailedRun {
                error,
                index: plan.index,
                seed: plan.seed,
            };
            staged.write(run_folder::FAILED, pretty(&f)?)?;
            false
        }
    };
    staged.commit()?;
    Ok(ok)
}

#[derive(clap::Args)]
pub struct MergeArgs {
    /// Shard output folders of the same batch.
    #[arg(required = true)]
    pub shards: Vec<PathBuf>,
    /// Folder for the merged batch (new, empty, a crucible output folder or one of the
    /// shards).
    #[arg(long)]
    pub out: PathBuf,
    /// The batch file (to aggregate with its plans and standards).
    #[arg(long)]
    pub batch: PathBuf,
}

/// `crucible merge`: combine shard folders into what the unsharded batch writes.
pub fn merge(args: MergeArgs) -> Outcome {
    let b = match batch::load(&args.batch) {
        Ok(b) => b,
        Err(e) => return Outcome::BadInput(e.to_string()),
    };
    match merge_into(&b, &args) {
        Ok(summary) => {
            say!("{summary}");
            Outcome::Ok
        }
        Err(e) => failed(e),
    }
}

fn merge_into(b: &LoadedBatch, args: &MergeArgs) -> Result<String> {
    let mut manifest: Option<BatchManifest> = None;
    for s in &args.shards {
        let path = s.join("batch.json");
        if !path.exists() {
            bail!("{} is not a batch folder (no batch.json)", s.display());
        }
        let m: BatchManifest = read_json(&path)?;
        if manifest.as_ref().is_some_and(|x| *x != m) {
            bail!(
                "{} belongs to another batch than {}",
                s.display(),
                args.shards[0].display()
            );
        }
        manifest = Some(m);
    }
    let manifest = manifest.context("no shard folders")?;
    let mut b = b.clone();
    let replicates = manifest.replicates;
    // A shard holds at most the batch file's replicates (fewer with --runs).
    if !(1..=b.spec.runs).contains(&replicates) {
        bail!(
            "{}/batch.json: replicates = {replicates}, but {} has {} per combination",
            args.shards[0].display(),
            args.batch.display(),
            b.spec.runs
        );
    }
    b.spec.runs = replicates;
    if manifest != self::manifest(&b, b.spec.runs) {
        bail!(
            "the shards were made from another version of {}",
            args.batch.display()
        );
    }
    // Every run must be in a shard and readable before anything is written: a missing
    // or corrupt run leaves the output folder as it was.
    let mut sources = Vec::new();
    for k in 0..b.total_runs() {
        let Some(holder) = args.shards.iter().find(|s| recorded(s, k)) else {
            bail!(
                "run {k} is in none of the shards: finish it with `crucible batch … --shard … --resume`"
            );
        };
        run_folder::check_run_dir(&run_dir(holder, k))?;
        sources.push(holder);
    }
    output::claim(&args.out)?;
    std::fs::create_dir_all(args.out.join("runs"))?;
    output::write_file(&args.out, "batch.json", pretty(&manifest)?)?;
    for (k, holder) in sources.into_iter().enumerate() {
        // The same run in two shards is identical by construction: the first is kept.
        let k = k as u64;
        if **holder != args.out || !recorded(&args.out, k) {
            copy_dir(&run_dir(holder, k), &run_dir(&args.out, k))?;
        }
    }
    crate::aggregate::aggregate(&b, &args.out)
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    if from == to {
        return Ok(());
    }
    std::fs::create_dir_all(to)?;
    for e in std::fs::read_dir(from)? {
        let e = e?;
        let target = to.join(e.file_name());
        if e.file_type()?.is_dir() {
            copy_dir(&e.path(), &target)?;
        } else {
            std::fs::copy(e.path(), &target)?;
        }
    }
    Ok(())
}
