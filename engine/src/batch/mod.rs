//! Scenario batches: many seeded variations of one scenario (Monte Carlo over sampled
//! parameters, sweeps over listed values, plans compared on common random numbers).
//!
//! Run k of a batch is a pure function of (batch file, base scenario, k): its seed and its
//! sampled parameters derive from (batch seed, replicate), so any run can be reproduced
//! alone and shards of a batch can run anywhere.

pub mod stats;

use std::path::{Path, PathBuf};

use rand::RngExt;
use rand_distr::{Distribution, LogNormal, Normal, Triangular, Uniform};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::rng::{RngStreams, child_seed};
use crate::scenario::{self, LoadedScenario, PlanSpec, ScenarioError, error_in, parse_document};
use crate::spec::KeyPath;

/// Most runs a batch may have (each writes a folder of its own).
pub const MAX_RUNS: u64 = 1_000_000;

/// A batch file.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchFile {
    /// Format version; this build reads 1.
    pub format: u32,
    pub batch: BatchSpec,
}

/// What to run.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchSpec {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// The base scenario file, relative to the batch file.
    pub scenario: PathBuf,
    /// Replicates: seeded runs per combination of sweep values and plan.
    pub runs: u64,
    /// Seed from which every run's seed and samples derive.
    pub seed: u64,
    /// When the runs are an event set: the annual rate of events of this kind, so each
    /// run stands for `events_per_year / runs` events a year (CLIMADA's frequency).
    #[serde(default)]
    pub events_per_year: Option<f64>,
    /// The KPI used for exceedance-frequency curves and average annual loss.
    #[serde(default)]
    pub loss_kpi: Option<String>,
    /// Parameters drawn at random for each replicate.
    #[serde(default)]
    pub vary: Vec<Vary>,
    /// Parameters swept over listed values (every combination is run).
    #[serde(default)]
    pub sweep: Vec<Sweep>,
    /// Plans compared on the same seeds (common random numbers); each replaces `[plan]`.
    #[serde(default)]
    pub plans: Vec<PlanSpec>,
}

/// A sampled parameter: a key path into the scenario and its distribution. (Unknown
/// keys are refused by `Dist`, which receives every key but `path`.)
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Vary {
    /// Key path into the scenario, e.g. `hazards[0].speed_m_s`.
    pub path: String,
    #[serde(flatten)]
    pub dist: Dist,
}

/// Distributions of sampled parameters.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "dist", rename_all = "snake_case", deny_unknown_fields)]
pub enum Dist {
    Uniform {
        min: f64,
        max: f64,
    },
    Normal {
        mean: f64,
        sd: f64,
    },
    /// ln X ~ Normal(ln median, sigma).
    Lognormal {
        median: f64,
        sigma: f64,
    },
    Triangular {
        min: f64,
        mode: f64,
        max: f64,
    },
    /// One of the values, with optional weights.
    Choice {
        #[schemars(with = "Vec<serde_json::Value>")]
        values: Vec<toml::Value>,
        #[serde(default)]
        weights: Vec<f64>,
    },
    /// Replicate r takes `values[r % len]`.
    List {
        #[schemars(with = "Vec<serde_json::Value>")]
        values: Vec<toml::Value>,
    },
}

/// A swept parameter.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Sweep {
    pub path: String,
    #[schemars(with = "Vec<serde_json::Value>")]
    pub values: Vec<toml::Value>,
}

/// A batch file, checked, with its base scenario.
#[derive(Debug, Clone)]
pub struct LoadedBatch {
    pub spec: BatchSpec,
    pub file: String,
    pub base: LoadedScenario,
    base_table: toml::Table,
    text: String,
}

/// One planned run.
#[derive(Debug, Clone, PartialEq)]
pub struct RunPlan {
    /// Position in the batch: `combo × runs + replicate`.
    pub index: u64,
    pub replicate: u64,
    /// Index of the sweep/plan combination.
    pub combo: u64,
    pub seed: u64,
    /// Plan name (the base scenario's when the batch has no plans).
    pub plan: String,
    /// (path, value) of every swept and sampled parameter, in file order.
    pub params: Vec<(String, toml::Value)>,
    /// Events per year this run stands for (event sets only).
    pub frequency: Option<f64>,
}

impl LoadedBatch {
    fn err(&self, path: &KeyPath, msg: impl Into<String>) -> ScenarioError {
        error_in(&self.file, &self.text, path, msg)
    }

    /// Number of sweep/plan combinations.
    pub fn combos(&self) -> u64 {
        self.spec
            .sweep
            .iter()
            .map(|s| s.values.len() as u64)
            .product::<u64>()
            * (self.spec.plans.len().max(1) as u64)
    }

    /// Total runs in the batch.
    pub fn total_runs(&self) -> u64 {
        self.combos() * self.spec.runs
    }

    /// The plan of run `index` (without building its scenario).
    pub fn plan(&self, index: u64) -> RunPlan {
        let runs = self.spec.runs;
        let (combo, replicate) = (index / runs, index % runs);
        let seed = child_seed(self.spec.seed, replicate);
        let mut params = Vec::new();
        // Sweeps vary fastest in the last entry; plans vary slowest.
        let mut rest = combo;
        let mut sweep_vals = Vec::new();
        for s in self.spec.sweep.iter().rev() {
            let n = s.values.len() as u64;
            sweep_vals.push((s.path.clone(), s.values[(rest % n) as usize].clone()));
            rest /= n;
        }
        sweep_vals.reverse();
        params.extend(sweep_vals);
        let plan = match self.spec.plans.get(rest as usize) {
            Some(p) => p.name.clone(),
            None => self.base.scenario.plan.name.clone(),
        };
        // Samples depend on the replicate only: every combination sees the same draws.
        let mut rng = RngStreams::new(self.spec.seed).indexed("batch.vary", replicate);
        for v in &self.spec.vary {
            params.push((
                v.path.clone(),
                sample(&v.dist, replicate, &mut rng, self.kind_at(&v.path)),
            ));
        }
        let frequency = self.spec.events_per_year.map(|f| f / runs as f64);
        RunPlan {
            index,
            replicate,
            combo,
            seed,
            plan,
            params,
            frequency,
        }
    }

    /// Whether the base value at `path` is an integer (samples are then rounded).
    fn kind_at(&self, path: &str) -> bool {
        KeyPath::parse(path)
            .and_then(|p| p.get_in(&self.base_table).cloned())
            .is_some_and(|v| v.is_integer())
    }

    /// The scenario of a planned run.
    pub fn scenario_for(&self, plan: &RunPlan) -> Result<LoadedScenario, ScenarioError> {
        let mut table = self.base_table.clone();
        let root = KeyPath::root().key("batch");
        if let Some(p) = self.spec.plans.iter().find(|p| p.name == plan.plan) {
            let value = toml::Value::try_from(p)
                .map_err(|e| self.err(&root.key("plans"), e.to_string()))?;
            table.insert("plan".into(), value);
        }
        for (path, value) in &plan.params {
            let kp = KeyPath::parse(path)
                .ok_or_else(|| self.err(&root, format!("bad path `{path}`")))?;
            kp.set_in(&mut table, value.clone())
                .map_err(|m| self.err(&self.param_key(path), m))?;
        }
        let text = toml::to_string(&table).map_err(|e| self.err(&root, e.to_string()))?;
        let name = format!("{} (batch run {})", self.base.file, plan.index);
        scenario::parse(&text, &name, &self.base.base_dir)
    }

    /// The batch-file key of the entry that sets `path` (for error messages).
    fn param_key(&self, path: &str) -> KeyPath {
        let root = KeyPath::root().key("batch");
        if let Some(i) = self.spec.vary.iter().position(|v| v.path == path) {
            return root.key("vary").index(i).key("path");
        }
        if let Some(i) = self.spec.sweep.iter().position(|v| v.path == path) {
            return root.key("sweep").index(i).key("path");
        }
        root
    }
}

fn to_value(x: f64, integer: bool) -> toml::Value {
    if integer {
        toml::Value::Integer(x.round() as i64)
    } else {
        toml::Value::Float(x)
    }
}

/// Draw one value. `integer` rounds continuous draws (the base value is an integer).
fn sample(
    dist: &Dist,
    replicate: u64,
    rng: &mut crate::rng::StreamRng,
    integer: bool,
) -> toml::Value {
    match dist {
        Dist::Uniform { min, max } => to_value(
            Uniform::new_inclusive(*min, *max).map_or(*min, |u| u.sample(rng)),
            integer,
        ),
        Dist::Normal { mean, sd } => to_value(
            Normal::new(*mean, *sd).map_or(*mean, |n| n.sample(rng)),
            integer,
        ),
        Dist::Lognormal { median, sigma } => to_value(
            LogNormal::new(median.ln(), *sigma).map_or(*median, |n| n.sample(rng)),
            integer,
        ),
        Dist::Triangular { min, mode, max } => to_value(
            Triangular::new(*min, *max, *mode).map_or(*mode, |t| t.sample(rng)),
            integer,
        ),
        Dist::Choice { values, weights } => {
            let k = if weights.is_empty() {
                rng.random_range(0..values.len())
            } else {
                let total: f64 = weights.iter().sum();
                let mut u = rng.random::<f64>() * total;
                weights
                    .iter()
                    .position(|w| {
                        u -= w;
                        u < 0.0
                    })
                    .unwrap_or(values.len() - 1)
            };
            values[k].clone()
        }
        Dist::List { values } => values[(replicate % values.len() as u64) as usize].clone(),
    }
}

/// Check a distribution's parameters; returns the offending key and why.
fn check_dist(d: &Dist) -> Result<(), (&'static str, String)> {
    let finite = |k: &'static str, v: f64| {
        if v.is_finite() {
            Ok(())
        } else {
            Err((k, format!("must be a finite number, got {v}")))
        }
    };
    match d {
        Dist::Uniform { min, max } => {
            finite("min", *min)?;
            finite("max", *max)?;
            if min > max {
                return Err(("max", format!("max ({max}) is below min ({min})")));
            }
        }
        Dist::Normal { mean, sd } => {
            finite("mean", *mean)?;
            if !(sd.is_finite() && *sd >= 0.0) {
                return Err((
                    "sd",
                    format!("the standard deviation must be ≥ 0, got {sd}"),
                ));
            }
        }
        Dist::Lognormal { median, sigma } => {
            if !(median.is_finite() && *median > 0.0) {
                return Err((
                    "median",
                    format!("a lognormal median must be > 0, got {median}"),
                ));
            }
            if !(sigma.is_finite() && *sigma >= 0.0) {
                return Err(("sigma", format!("sigma must be ≥ 0, got {sigma}")));
            }
        }
        Dist::Triangular { min, mode, max } => {
            finite("min", *min)?;
            finite("mode", *mode)?;
            finite("max", *max)?;
            if !(min <= mode && mode <= max) {
                return Err((
                    "mode",
                    format!("need min ≤ mode ≤ max, got {min}, {mode}, {max}"),
                ));
            }
        }
        Dist::Choice { values, weights } => {
            if values.is_empty() {
                return Err(("values", "give at least one value".into()));
            }
            if !weights.is_empty() {
                if weights.len() != values.len() {
                    return Err((
                        "weights",
                        format!("{} weights for {} values", weights.len(), values.len()),
                    ));
                }
                if weights.iter().any(|w| !(w.is_finite() && *w >= 0.0))
                    || weights.iter().sum::<f64>() <= 0.0
                {
                    return Err(("weights", "weights must be ≥ 0 with a positive sum".into()));
                }
            }
        }
        Dist::List { values } => {
            if values.is_empty() {
                return Err(("values", "give at least one value".into()));
            }
        }
    }
    Ok(())
}

/// Read and check a batch file and its base scenario. Every path is checked by building
/// the first run's scenario, so a misspelt path is reported against the batch file.
pub fn load(path: &Path) -> Result<LoadedBatch, ScenarioError> {
    let (file, text) = read_batch_text(path)?;
    let bf: BatchFile = parse_document(&text, &file)?;
    let at = |p: &KeyPath, m: String| error_in(&file, &text, p, m);
    check_batch(&bf, &at)?;
    let base_path = base_scenario_path(path, &bf, &at)?;
    let base = scenario::load(&base_path)?;
    let b = KeyPath::root().key("batch");
    let base_table: toml::Table =
        toml::from_str(base.text()).map_err(|e| at(&b.key("scenario"), e.to_string()))?;
    let loaded = LoadedBatch {
        spec: bf.batch,
        file,
        base,
        base_table,
        text,
    };
    if let Some(k) = &loaded.spec.loss_kpi
        && k.trim().is_empty()
    {
        return Err(loaded.err(&b.key("loss_kpi"), "name a KPI"));
    }
    check_every_combination(&loaded)?;
    if let Some(k) = &loaded.spec.loss_kpi {
        loaded.check_loss_kpi(k)?;
    }
    Ok(loaded)
}

/// The batch file's text; a scenario given where a batch is expected is named as such.
fn read_batch_text(path: &Path) -> Result<(String, String), ScenarioError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| ScenarioError {
        file: file.clone(),
        key: String::new(),
        line: None,
        col: None,
        message: format!("cannot read the file: {e}"),
    })?;
    // A scenario given where a batch is expected: say so, rather than that `batch` is
    // missing from what would then look like a malformed batch.
    if let Ok(doc) = toml::de::DeTable::parse(&text)
        && !doc.get_ref().contains_key("batch")
    {
        return Err(ScenarioError {
            file: file.clone(),
            key: String::new(),
            line: None,
            col: None,
            message: if doc.get_ref().contains_key("time") {
                "not a batch file: it has no `[batch]` table (it looks like a scenario: \
                 run it with `crucible run`, or name it in a batch file's `batch.scenario`)"
                    .into()
            } else {
                "not a batch file: it has no `[batch]` table".into()
            },
        });
    }
    Ok((file, text))
}

/// Checks of the batch table that need no scenario: format, counts, key paths,
/// distributions, sweeps, the total number of runs and plan names.
fn check_batch(
    bf: &BatchFile,
    at: &dyn Fn(&KeyPath, String) -> ScenarioError,
) -> Result<(), ScenarioError> {
    let root = KeyPath::root();
    let b = root.key("batch");
    if bf.format != 1 {
        return Err(at(
            &root.key("format"),
            format!("this crucible reads format 1, the file says {}", bf.format),
        ));
    }
    if bf.batch.runs == 0 {
        return Err(at(&b.key("runs"), "a batch needs at least one run".into()));
    }
    if let Some(f) = bf.batch.events_per_year
        && !(f.is_finite() && f > 0.0)
    {
        return Err(at(
            &b.key("events_per_year"),
            format!("must be a positive number, got {f}"),
        ));
    }
    for (i, v) in bf.batch.vary.iter().enumerate() {
        if KeyPath::parse(&v.path).is_none() {
            return Err(at(
                &b.key("vary").index(i).key("path"),
                format!("`{}` is not a key path like `hazards[0].speed_m_s`", v.path),
            ));
        }
        if let Err((k, m)) = check_dist(&v.dist) {
            return Err(at(&b.key("vary").index(i).key(k), m));
        }
    }
    for (i, s) in bf.batch.sweep.iter().enumerate() {
        if KeyPath::parse(&s.path).is_none() {
            return Err(at(
                &b.key("sweep").index(i).key("path"),
                format!("`{}` is not a key path", s.path),
            ));
        }
        if s.values.is_empty() {
            return Err(at(
                &b.key("sweep").index(i).key("values"),
                "give at least one value".into(),
            ));
        }
    }
    // Counted with checks here, so that `combos()` and `total_runs()` never overflow.
    let total = bf
        .batch
        .sweep
        .iter()
        .try_fold(bf.batch.plans.len().max(1) as u64, |n, s| {
            n.checked_mul(s.values.len() as u64)
        })
        .and_then(|combos| combos.checked_mul(bf.batch.runs));
    if total.is_none_or(|n| n > MAX_RUNS) {
        return Err(at(
            &b.key("runs"),
            format!(
                "{} runs × the sweep and plan combinations is more than {MAX_RUNS} runs",
                bf.batch.runs
            ),
        ));
    }
    let mut names = std::collections::BTreeSet::new();
    for (i, p) in bf.batch.plans.iter().enumerate() {
        if !names.insert(p.name.as_str()) {
            return Err(at(
                &b.key("plans").index(i).key("name"),
                format!("plan `{}` is named twice", p.name),
            ));
        }
    }
    Ok(())
}

/// The base scenario's path (relative to the batch file), which must be a file.
fn base_scenario_path(
    path: &Path,
    bf: &BatchFile,
    at: &dyn Fn(&KeyPath, String) -> ScenarioError,
) -> Result<std::path::PathBuf, ScenarioError> {
    let b = KeyPath::root().key("batch");
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let base_path = if bf.batch.scenario.is_absolute() {
        bf.batch.scenario.clone()
    } else {
        dir.join(&bf.batch.scenario)
    };
    // The base scenario must be a file; anything else is a fault of `batch.scenario`.
    match std::fs::metadata(&base_path) {
        Ok(m) if m.is_file() => {}
        Ok(_) => {
            return Err(at(
                &b.key("scenario"),
                format!(
                    "{} is not a file: name the scenario file (relative to the batch file)",
                    base_path.display()
                ),
            ));
        }
        Err(e) => {
            return Err(at(
                &b.key("scenario"),
                format!(
                    "cannot read {} ({e}): name the scenario file (relative to the batch file)",
                    base_path.display()
                ),
            ));
        }
    }
    Ok(base_path)
}

/// Build one scenario per combination (replicate 0) to check every path and value.
fn check_every_combination(loaded: &LoadedBatch) -> Result<(), ScenarioError> {
    let b = KeyPath::root().key("batch");
    for combo in 0..loaded.combos() {
        let plan = loaded.plan(combo * loaded.spec.runs);
        loaded.scenario_for(&plan).map_err(|e| {
            if e.file == loaded.file {
                e
            } else {
                let key = plan
                    .params
                    .iter()
                    .map(|(p, _)| p.as_str())
                    .find(|p| {
                        !e.key.is_empty()
                            && (e.key.starts_with(*p) || p.starts_with(e.key.as_str()))
                    })
                    .map_or_else(|| b.clone(), |p| loaded.param_key(p));
                loaded.err(
                    &key,
                    format!("this parameter makes an invalid scenario: {}", e.message),
                )
            }
        })?;
    }
    Ok(())
}

impl LoadedBatch {
    /// What identifies the batch's runs, whatever path it was given by: FNV-1a (64-bit)
    /// of the batch file's bytes, the base scenario's bytes, and the bytes of every file
    /// they name (any string of the scenario or of a sweep or sample that resolves to a
    /// regular file the scenario may read). A resumed or merged batch folder must have
    /// been made from the same fingerprint.
    pub fn fingerprint(&self) -> String {
        let mut h = Fnv1a::default();
        h.write(self.text.as_bytes());
        h.write(&[0]);
        h.write(self.base.text().as_bytes());
        let base = toml::Value::Table(self.base_table.clone());
        let mut named: Vec<&str> = Vec::new();
        collect_strings(&base, &mut named);
        let in_batch: Vec<toml::Value> = self
            .spec
            .sweep
            .iter()
            .flat_map(|s| s.values.iter().cloned())
            .chain(self.spec.vary.iter().flat_map(|v| match &v.dist {
                Dist::Choice { values, .. } | Dist::List { values } => values.clone(),
                _ => Vec::new(),
            }))
            .collect();
        let in_batch = toml::Value::Array(in_batch);
        collect_strings(&in_batch, &mut named);
        named.sort_unstable();
        named.dedup();
        for name in named {
            let path = self.base.resolve(Path::new(name));
            if let Ok(canon) = self.base.inputs.check(&path) {
                h.write(&[0]);
                h.write(name.as_bytes());
                h.write(&[0]);
                h.write_file(&canon);
            }
        }
        format!("{:016x}", h.0)
    }

    /// `loss_kpi` must name a KPI or gauge of the batch's scenario, as a standard's
    /// `metric` must (checked the same way: the first run's simulation is built, not run).
    /// Otherwise `risk.csv` would be written empty.
    fn check_loss_kpi(&self, name: &str) -> Result<(), ScenarioError> {
        let plan = self.plan(0);
        let scenario = self.scenario_for(&plan)?;
        let city = crate::run::prepare_city(&scenario)?;
        let sim = crate::run::build(&scenario, &city, plan.seed)?;
        let metrics = sim.world.resource::<crate::metrics::Metrics>();
        if metrics.knows(name) || name.starts_with("indicator.") {
            return Ok(());
        }
        let mut known: Vec<&str> = metrics.kpis().keys().map(String::as_str).collect();
        known.extend(metrics.defs().iter().map(|d| d.name.as_str()));
        known.sort_unstable();
        known.dedup();
        Err(self.err(
            &KeyPath::root().key("batch").key("loss_kpi"),
            crate::spec::unknown_name("KPI", name, &known),
        ))
    }
}

/// Every string in a TOML value (candidate file names).
fn collect_strings<'a>(v: &'a toml::Value, out: &mut Vec<&'a str>) {
    match v {
        toml::Value::String(s) => out.push(s),
        toml::Value::Array(a) => a.iter().for_each(|x| collect_strings(x, out)),
        toml::Value::Table(t) => t.values().for_each(|x| collect_strings(x, out)),
        _ => {}
    }
}

/// FNV-1a, 64-bit (Fowler, Noll & Vo): a stable content hash for identity, not security.
struct Fnv1a(u64);

impl Default for Fnv1a {
    fn default() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv1a {
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    /// Hash a file's bytes as they stream by (a raster may be large); an unreadable file
    /// hashes as a marker, so that it still changes the fingerprint when it appears.
    fn write_file(&mut self, path: &Path) {
        use std::io::Read;
        let Ok(mut f) = std::fs::File::open(path) else {
            self.write(b"\xffunreadable");
            return;
        };
        let mut buf = vec![0u8; 1 << 16];
        loop {
            match f.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => self.write(&buf[..n]),
                Err(_) => {
                    self.write(b"\xffunreadable");
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
