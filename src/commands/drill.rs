//! `crucible drill`: turn a scenario run into an exercise package (MSEL, situation,
//! objectives and evaluation sheet, situation maps). See docs/drills.md.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Result, anyhow};
use crucible_engine::city::City;
use crucible_engine::drill::rules::Field;
use crucible_engine::drill::{
    self, Candidate, ClockOptions, DIFFICULTIES, Exercise, Selection, Templates,
};
use crucible_engine::grid::Raster;
use crucible_engine::rng::child_seed;
use crucible_engine::run::{
    RunError, RunOutput, SnapshotField, SnapshotRequest, run as run_scenario, run_with,
};
use crucible_engine::scenario::LoadedScenario;
use rayon::prelude::*;

use super::{failed, load_with_city};
use crate::maps::{Backdrop, render_raster};
use crate::output::{self, Staged};
use crate::progress::Progress;
use crate::{Outcome, say};

#[derive(clap::Args)]
pub struct Args {
    /// Scenario file (TOML).
    pub scenario: PathBuf,
    /// Output folder: created if missing; an existing one must be empty or a crucible
    /// output folder (it has .crucible-output.json). Only files crucible wrote are
    /// replaced.
    #[arg(long)]
    pub out: PathBuf,
    /// Seed: of the run itself, or with --difficulty of the internal batch
    /// (default: the scenario's `seed`).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Choose a seed whose outcome falls in this severity band: easy, standard or severe
    /// (terciles of an internal batch).
    #[arg(long)]
    pub difficulty: Option<String>,
    /// Language of the text: en or zh.
    #[arg(long, default_value = "en")]
    pub lang: String,
    /// Write this many exercises of similar severity (DIR/variant-1, …); implies
    /// --difficulty standard unless another is given.
    #[arg(long, default_value_t = 1)]
    pub variants: u32,
    /// Folder with <lang>.toml text templates replacing the built-in ones.
    #[arg(long)]
    pub templates: Option<PathBuf>,
    /// Exercise clock at scenario start (HH:MM).
    #[arg(long, default_value = "09:00")]
    pub start: String,
    /// Exercise length the scenario is compressed into, hours (never faster than
    /// real time).
    #[arg(long, default_value_t = 4.0)]
    pub drill_hours: f64,
    /// Runs in the internal batch for --difficulty (at least 3 per variant).
    #[arg(long, default_value_t = 12)]
    pub batch: u32,
}

/// Most packages one call writes.
const MAX_VARIANTS: u32 = 100;
/// Most runs of the internal batch of --difficulty.
const MAX_BATCH: u32 = 1000;

/// The checked options.
struct Opts {
    difficulty: Option<String>,
    variants: usize,
    tpl: Templates,
    start_min: u32,
}

fn check(a: &Args) -> Result<Opts, String> {
    // Every run of the internal batch is kept in memory until the picks are made, so
    // both counts are bounded.
    if a.variants == 0 {
        return Err("--variants must be at least 1".into());
    }
    if a.variants > MAX_VARIANTS {
        return Err(format!("--variants must be at most {MAX_VARIANTS}"));
    }
    if let Some(d) = &a.difficulty
        && !DIFFICULTIES.contains(&d.as_str())
    {
        return Err(format!(
            "--difficulty: unknown difficulty `{d}`; expected one of: {}",
            DIFFICULTIES.join(", ")
        ));
    }
    if !drill::templates::LANGS.contains(&a.lang.as_str()) && a.templates.is_none() {
        return Err(format!(
            "--lang: no built-in templates for `{}`; expected one of: {} (or give --templates DIR)",
            a.lang,
            drill::templates::LANGS.join(", ")
        ));
    }
    if !(a.drill_hours.is_finite() && a.drill_hours > 0.0) {
        return Err("--drill-hours must be a positive number".into());
    }
    if a.batch < 3 {
        return Err("--batch must be at least 3 (one run per tercile)".into());
    }
    if a.batch > MAX_BATCH {
        return Err(format!("--batch must be at most {MAX_BATCH}"));
    }
    let tpl = match &a.templates {
        Some(dir) => Templates::from_dir(dir, &a.lang)?,
        None => Templates::builtin(&a.lang)?,
    };
    let start_min = drill::parse_clock(&a.start).map_err(|e| format!("--start: {e}"))?;
    let difficulty = a
        .difficulty
        .clone()
        .or_else(|| (a.variants > 1).then(|| "standard".to_owned()));
    Ok(Opts {
        difficulty,
        variants: a.variants as usize,
        tpl,
        start_min,
    })
}

fn run_one(loaded: &LoadedScenario, city: &Arc<City>, seed: u64) -> Result<RunOutput, Outcome> {
    run_scenario(loaded, city, seed, |_| {}).map_err(|e| match e {
        RunError::Input(e) => Outcome::BadInput(e.to_string()),
        e @ RunError::Failed { .. } => {
            Outcome::Failed(format!("{} (seed {seed}): {e}", loaded.file))
        }
    })
}

pub fn run(args: Args) -> Outcome {
    let opts = match check(&args) {
        Ok(o) => o,
        Err(m) => return Outcome::BadInput(m),
    };
    if let Err(e) = output::check(&args.out) {
        return failed(e);
    }
    let (loaded, city) = match load_with_city(&args.scenario) {
        Ok(x) => x,
        Err(o) => return o,
    };
    let city = Arc::new(city);
    let seed = args.seed.unwrap_or(loaded.scenario.seed);
    let clock = ClockOptions::fit(
        loaded.scenario.time.duration_s,
        opts.start_min,
        args.drill_hours,
    );
    // (seed, run, selection) per package.
    let mut packages: Vec<Package> = Vec::new();
    match &opts.difficulty {
        None => match run_one(&loaded, &city, seed) {
            Ok(out) => packages.push((seed, out, None, None)),
            Err(o) => return o,
        },
        Some(d) => match pick_variants(&loaded, &city, seed, d, &opts, &args) {
            Ok(picked) => packages = picked,
            Err(o) => return o,
        },
    }
    let multi = packages.len() > 1;
    if multi && let Err(e) = output::claim(&args.out) {
        return failed(e);
    }
    let backdrop = Backdrop::of(&city);
    for (k, (s, out, sel, score)) in packages.into_iter().enumerate() {
        let dir = if multi {
            args.out.join(format!("variant-{}", k + 1))
        } else {
            args.out.clone()
        };
        let mut ex = drill::build_exercise(
            &out.events,
            &out.summary,
            &loaded.scenario,
            &opts.tpl,
            &clock,
        );
        ex.selection = sel;
        ex.severity_score = score;
        let written = situation_maps(&loaded, &city, s, &ex)
            .and_then(|maps| write_package(&dir, &loaded, &backdrop, &out, &ex, &opts.tpl, &maps));
        if let Err(e) = written {
            return failed(e);
        }
        say!(
            "{}: seed {s}, {} injects, {} objectives → {}",
            ex.scenario,
            ex.injects.len(),
            ex.objectives.len(),
            dir.display()
        );
    }
    Outcome::Ok
}

/// A package per variant: `n` seeded runs, scored, and the runs closest to the median
/// of the difficulty's severity band (seed, run, selection, score for each).
type Package = (u64, RunOutput, Option<Selection>, Option<f64>);

fn pick_variants(
    loaded: &LoadedScenario,
    city: &Arc<City>,
    seed: u64,
    d: &str,
    opts: &Opts,
    args: &Args,
) -> Result<Vec<Package>, Outcome> {
    let mut packages = Vec::new();
    let n = (args.batch as usize).max(3 * opts.variants);
    let seeds: Vec<u64> = (0..n as u64).map(|i| child_seed(seed, i)).collect();
    let mut progress = Progress::new(n as u64, &loaded.scenario.name, Some("runs"));
    let runs: Vec<Result<RunOutput, Outcome>> = seeds
        .par_iter()
        .map(|&s| {
            let r = run_one(loaded, city, s);
            progress.inc();
            r
        })
        .collect();
    progress.finish();
    let mut outs = Vec::with_capacity(n);
    for r in runs {
        match r {
            Ok(o) => outs.push(Some(o)),
            Err(o) => return Err(o),
        }
    }
    let mut cands: Vec<Candidate> = outs
        .iter()
        .enumerate()
        .map(|(i, o)| {
            let o = o
                .as_ref()
                .expect("every run is kept until the picks are made");
            drill::components(i as u64, seeds[i], &o.summary)
        })
        .collect();
    drill::score(&mut cands);
    let (band, picks) = match drill::choose(&cands, d, opts.variants) {
        Ok(x) => x,
        Err(m) => return Err(Outcome::BadInput(m)),
    };
    for &p in &picks {
        let c = &cands[p];
        let reason = format!(
            "seed {} (batch run {}) has severity score {:.3}, inside the {d} band \
             [{:.3}, {:.3}] of {n} runs (deaths {:.2}, loss {:.0} yuan, people exposed \
             {:.0}, standards failed {}), closest to the band's median",
            c.seed,
            c.index,
            c.score,
            band[0],
            band[1],
            c.deaths,
            c.loss_yuan,
            c.people_exposed,
            c.standards_failed
        );
        say!("{d}: {reason}");
        let sel = Selection {
            difficulty: d.to_owned(),
            batch_seed: seed,
            candidates: cands.clone(),
            band,
            chosen_seed: c.seed,
            reason,
        };
        let out = outs[p]
            .take()
            .expect("choose() returns distinct runs, each picked once");
        packages.push((c.seed, out, Some(sel), Some(c.score)));
    }
    Ok(packages)
}

fn write_package(
    dir: &Path,
    loaded: &LoadedScenario,
    backdrop: &Backdrop,
    out: &RunOutput,
    ex: &Exercise,
    tpl: &Templates,
    maps: &[(String, Raster)],
) -> Result<()> {
    let staged = Staged::new(dir)?;
    staged.write("msel.csv", drill::msel_csv(ex, tpl))?;
    staged.write("msel.md", drill::msel_md(ex, tpl))?;
    staged.write(
        "situation.md",
        drill::situation_md(ex, tpl, &loaded.scenario, &out.summary),
    )?;
    staged.write("evaluation.md", drill::evaluation_md(ex, tpl))?;
    staged.write("exercise.json", serde_json::to_string_pretty(ex)? + "\n")?;
    for (rel, raster) in maps {
        render_raster(raster, backdrop, &staged.path(rel)?)?;
    }
    staged.commit()
}

/// The run's field a situation map shows.
fn snapshot_field(f: Field) -> Option<SnapshotField> {
    match f {
        Field::Water => Some(SnapshotField::WaterDepth),
        Field::Fire => Some(SnapshotField::FireState),
        Field::None => None,
    }
}

/// The situation map of each mapped inject: its field as it was when the inject
/// happened (after the tick of its first event). The run is asked for those states; it
/// is the same run again (same scenario and seed), since the injects, and so the times,
/// are known only once it has finished. Returns (file in the package, map).
fn situation_maps(
    loaded: &LoadedScenario,
    city: &Arc<City>,
    seed: u64,
    ex: &Exercise,
) -> Result<Vec<(String, Raster)>> {
    let mut wanted: Vec<(&drill::Inject, &str, SnapshotField)> = ex
        .injects
        .iter()
        .filter_map(|i| Some((i, i.map.as_deref()?, snapshot_field(i.field)?)))
        .collect();
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    wanted.sort_by(|a, b| {
        a.0.t_s
            .total_cmp(&b.0.t_s)
            .then(a.0.number.cmp(&b.0.number))
    });
    let request = SnapshotRequest {
        at: wanted.iter().map(|(i, _, f)| (i.t_s, *f)).collect(),
    };
    let again = run_with(loaded, city, seed, &request, |_| {}).map_err(|e| {
        anyhow!(
            "re-run of {} for the situation maps failed: {e}",
            loaded.file
        )
    })?;
    Ok(wanted
        .iter()
        .zip(again.snapshots)
        .map(|((i, rel, _), snapshot)| {
            let raster = Raster {
                name: format!("inject-{:02}", i.number),
                // Map fonts cover Latin text only: titles stay language-neutral.
                title: format!(
                    "#{} {} ({}): {}",
                    i.number, i.exercise_time, i.scenario_time, snapshot.raster.title
                ),
                ..snapshot.raster
            };
            ((*rel).to_owned(), raster)
        })
        .collect())
}
